// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// make_corpus.cpp: writes the binary reader fuzzer's seed corpus, small valid archives of
// every shape the fuzzer reads, into the directory named on the command line.
//   fuzz_make_corpus DIRECTORY

#include <brine/brine.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "fuzz_types.hpp"

namespace {

void write_file(const std::filesystem::path& path, const brine::Buffer& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

brine::Buffer archive(brine::Registry& registry,
                      const std::function<void(brine::BinaryWriter&)>& write,
                      std::size_t block_size = std::size_t{1} << 20) {
  brine::Buffer out;
  brine::BufferSink sink(out);
  brine::BinaryWriteOptions options;
  options.block_size = block_size;
  brine::BinaryWriter writer(sink, registry, options);
  write(writer);
  writer.finish();
  return out;
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

  write_file(dir / "doc.brine",
             archive(registry, [](brine::BinaryWriter& w) { w.write(fuzz::sample_doc()); }));
  write_file(dir / "doc-small-blocks.brine",
             archive(
                 registry, [](brine::BinaryWriter& w) { w.write(fuzz::sample_doc()); }, 64));
  write_file(dir / "empty-doc.brine",
             archive(registry, [](brine::BinaryWriter& w) { w.write(fuzz::Doc{}); }));
  fuzz::Graph g = fuzz::sample_graph();
  write_file(dir / "graph.brine", archive(registry, [&](brine::BinaryWriter& w) { w.write(g); }));
  write_file(dir / "node.brine",
             archive(registry, [&](brine::BinaryWriter& w) { w.write(g.roots[0]); }));
  fuzz::dismantle(g);

  brine::Registry old_registry;  // writes fuzz.Item version 1
  fuzz::OldInventory old = fuzz::sample_old_inventory();
  write_file(dir / "inventory-v1.brine",
             archive(old_registry, [&](brine::BinaryWriter& w) { w.write(old); }));
  fuzz::Inventory now = fuzz::sample_inventory();
  write_file(dir / "inventory-v2.brine",
             archive(registry, [&](brine::BinaryWriter& w) { w.write(now); }));

  write_file(dir / "several.brine", archive(registry, [](brine::BinaryWriter& w) {
               w.write(fuzz::sample_doc());
               w.write(std::string("second"));
               w.write(std::vector<std::variant<std::string, std::optional<fuzz::Point>>>{
                   std::string("x"), std::optional<fuzz::Point>(),
                   std::optional<fuzz::Point>(fuzz::Point{1, 1})});
               w.write(std::map<std::int32_t, std::vector<double>>{{1, {0.5}}, {-2, {}}});
             }));
  write_file(dir / "nothing.brine", archive(registry, [](brine::BinaryWriter&) {}));
  write_file(dir / "markers.brine", archive(registry, [](brine::BinaryWriter& w) {
               w.write(std::array<fuzz::Tag, 2>{});
               w.write(std::vector<std::tuple<>>(3));
             }));
  return 0;
}
