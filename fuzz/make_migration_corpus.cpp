// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// make_migration_corpus.cpp: writes the migration file fuzzer's seed corpus into the
// directory named on the command line: the migration files of the source tree
// (migrations/), the files of tests/evolution/declarative_migration_test.cpp, and files for
// the fuzz types followed (after a NUL byte) by a state tree in JSON for them.
//   fuzz_migration_file_corpus DIRECTORY

#include <brine/brine.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "fuzz_types.hpp"

namespace {

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// As in tests/evolution/declarative_migration_test.cpp.
const char* const kTestFiles[] = {
    R"({
  "brine_migrations": 1,
  "type": "nn.Linear",
  "version": 3,
  "renamed_from": ["nn.Dense"],
  "steps": [
    {"from": 1, "ops": [{"op": "rename_field", "from": "W", "to": "weights"},
                        {"op": "rename_field", "from": "b", "to": "bias"}]},
    {"from": 2, "ops": [{"op": "add_field", "name": "activation", "default": "relu"},
                        {"op": "convert", "field": "units", "to": "int"},
                        {"op": "remove_field", "name": "legacy"}]}
  ]
})",
    R"({"brine_migrations": 1, "type": "ui.Pen", "version": 2,
    "steps": [{"from": 1, "ops": [{"op": "convert", "field": "color", "to": "enum", "table": {"red": 1, "green": 2}},
                                  {"op": "convert", "field": "width", "to": "string"},
                                  {"op": "convert", "field": "alpha", "to": "float"}]}]})",
    R"({"brine_migrations": 1, "type": "geo.Shape", "version": 3,
    "steps": [{"from": 1, "ops": [{"op": "move_into", "fields": ["x", "y"], "into": "origin", "type": "geo.Point", "version": 1}]},
              {"from": 2, "ops": [{"op": "move_out_of", "from": "style", "fields": ["color"]}]}]})",
    R"({"brine_migrations": 1, "type": "ui.Pen", "version": 1})",
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIRECTORY\n", argv[0]);
    return 2;
  }
  std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);

  int n = 0;
  for (const char* text : kTestFiles)
    write_file(dir / ("test-" + std::to_string(n++) + ".json"), text);

  // A file for the fuzz types, with the tree of an old inventory after it: the tail path
  // (MigrationSet::upgrade, then Registry::add_migrations and a typed load).
  brine::Registry old_registry;  // fuzz.Item version 1
  std::string old_inventory =
      brine::to_json(brine::to_state(fuzz::sample_old_inventory(), old_registry));
  std::string point_file =
      R"({"brine_migrations": 1, "type": "fuzz.Point", "version": 1, "renamed_from": ["fuzz.Pt"],
    "steps": [{"from": 0, "ops": [{"op": "rename_field", "from": "X", "to": "x"},
                                  {"op": "convert", "field": "x", "to": "int"},
                                  {"op": "add_field", "name": "y", "default": 0.5}]}]})";
  write_file(dir / "point-with-tree.json", point_file + std::string(1, '\0') + old_inventory);
  write_file(
      dir / "point-with-old-point.json",
      point_file + std::string(1, '\0') + R"({"$type": "fuzz.Pt", "$version": 0, "X": 2.0})");
  std::string inventory_file = R"({"brine_migrations": 1, "type": "fuzz.Inventory", "version": 1,
    "steps": []})";
  write_file(dir / "inventory-with-tree.json",
             inventory_file + std::string(1, '\0') + old_inventory);
  // Defaults of every tagged kind, and a nested object with an older version.
  write_file(dir / "defaults.json", R"({"brine_migrations": 1, "type": "a.B", "version": 3,
    "steps": [{"from": 0, "ops": [{"op": "add_field", "name": "o", "default": {"$type": "a.C", "$version": 1, "k": {"$bytes": "AAE="}}}]},
              {"from": 1, "ops": [{"op": "add_field", "name": "p", "default": {"$path": "a/b"}},
                                  {"op": "add_field", "name": "f", "default": {"$float": "nan"}},
                                  {"op": "move_out_of", "from": "o"}]},
              {"from": 2, "ops": [{"op": "move_into", "fields": ["k", "p"], "into": "q", "type": "a.B", "version": 3}]}]})");

  // The migration files of the source tree.
  std::error_code ec;
  const std::filesystem::path migrations = std::filesystem::path(BRINE_SOURCE_DIR) / "migrations";
  for (auto it = std::filesystem::directory_iterator(migrations, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (it->path().extension() != ".json") continue;
    std::filesystem::copy_file(it->path(), dir / ("source-" + it->path().filename().string()),
                               std::filesystem::copy_options::overwrite_existing);
  }
  return 0;
}
