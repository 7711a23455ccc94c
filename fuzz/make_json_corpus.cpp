// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// make_json_corpus.cpp: writes the JSON reader fuzzer's seed corpus, JSON documents and bare
// JSON values of every shape the fuzzer reads, plus the golden JSON archives of the source
// tree (tests/golden/json), into the directory named on the command line.
//   fuzz_json_reader_corpus DIRECTORY

#include <brine/brine.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "fuzz_types.hpp"

namespace {

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIRECTORY\n", argv[0]);
    return 2;
  }
  std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  brine::Registry registry;
  fuzz::register_reader_types(registry);
  brine::JsonOptions one_line;
  one_line.indent = -1;

  write_file(dir / "doc.json", brine::to_json_archive(fuzz::sample_doc(), registry));
  write_file(dir / "empty-doc.json",
             brine::json_document({brine::to_state(fuzz::Doc{}, registry)}, one_line));
  fuzz::Graph g = fuzz::sample_graph();
  write_file(dir / "graph.json", brine::json_document({brine::to_state(g, registry)}, one_line));
  write_file(dir / "node.json", brine::to_json_archive(g.roots[0], registry));
  brine::Value node = brine::to_state(g.roots[0], registry);
  fuzz::dismantle(g);

  brine::Registry old_registry;  // writes fuzz.Item version 1
  write_file(dir / "inventory-v1.json",
             brine::to_json_archive(fuzz::sample_old_inventory(), old_registry));
  write_file(dir / "inventory-v2.json",
             brine::json_document({brine::to_state(fuzz::sample_inventory(), registry)}, one_line));

  write_file(dir / "several.json",
             brine::json_document(
                 {brine::to_state(fuzz::sample_doc(), registry), brine::Value("second"),
                  brine::to_state(
                      std::vector<std::variant<std::string, std::optional<fuzz::Point>>>{
                          std::string("x"), std::optional<fuzz::Point>(),
                          std::optional<fuzz::Point>(fuzz::Point{1, 1})},
                      registry),
                  brine::to_state(std::map<std::int32_t, std::vector<double>>{{1, {0.5}}, {-2, {}}},
                                  registry)},
                 one_line));
  write_file(dir / "nothing.json", brine::json_document({}));
  // Every tagged kind of the JSON rendering, and '$'-escaped keys, as a bare value.
  brine::Value::Map kinds;
  kinds["$dollar"] = brine::Value(std::int64_t{-1});
  kinds["bytes"] = brine::Value(brine::Bytes{{0, 1, 2, 255}});
  kinds["nan"] = brine::Value(std::nan(""));
  kinds["inf"] = brine::Value(-HUGE_VAL);
  kinds["ref"] = brine::Value(brine::Reference{0});
  kinds["function"] = brine::Value(brine::FunctionRef{"fuzz.f"});
  kinds["path"] = brine::Value(brine::PathValue{"a/b"});
  kinds["node"] = node;
  write_file(dir / "kinds.json", brine::to_json(brine::Value(kinds)));
  write_file(dir / "kinds-document.json", brine::json_document({brine::Value(kinds)}, one_line));

  // The golden JSON archives and renderings of every release, from the source tree.
  std::error_code ec;
  const std::filesystem::path golden =
      std::filesystem::path(BRINE_SOURCE_DIR) / "tests/golden/json";
  for (auto it = std::filesystem::recursive_directory_iterator(golden, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().extension() != ".json") continue;
    std::string name = "golden-" + it->path().parent_path().filename().string() + "-" +
                       it->path().filename().string();
    std::filesystem::copy_file(it->path(), dir / name,
                               std::filesystem::copy_options::overwrite_existing);
  }
  return 0;
}
