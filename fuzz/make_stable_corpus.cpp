// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// make_stable_corpus.cpp: writes the stable reader fuzzer's seed corpus, small valid stable
// archives of every shape the fuzzer reads, plus the golden stable archives of the source
// tree (tests/golden/stable), into the directory named on the command line.
//   fuzz_stable_reader_corpus DIRECTORY

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
                      const std::function<void(brine::StableWriter&)>& write) {
  brine::Buffer out;
  brine::BufferSink sink(out);
  brine::StableWriter writer(sink, registry);
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

  write_file(dir / "doc.cbor", brine::to_stable(fuzz::sample_doc(), registry));
  write_file(dir / "empty-doc.cbor", brine::to_stable(fuzz::Doc{}, registry));
  fuzz::Graph g = fuzz::sample_graph();
  write_file(dir / "graph.cbor", brine::to_stable(g, registry));
  write_file(dir / "node.cbor", brine::to_stable(g.roots[0], registry));
  fuzz::dismantle(g);

  brine::Registry old_registry;  // writes fuzz.Item version 1
  write_file(dir / "inventory-v1.cbor",
             brine::to_stable(fuzz::sample_old_inventory(), old_registry));
  write_file(dir / "inventory-v2.cbor", brine::to_stable(fuzz::sample_inventory(), registry));

  write_file(dir / "several.cbor", archive(registry, [](brine::StableWriter& w) {
               w.write(fuzz::sample_doc());
               w.write(std::string("second"));
               w.write(std::vector<std::variant<std::string, std::optional<fuzz::Point>>>{
                   std::string("x"), std::optional<fuzz::Point>(),
                   std::optional<fuzz::Point>(fuzz::Point{1, 1})});
               w.write(std::map<std::int32_t, std::vector<double>>{{1, {0.5}}, {-2, {}}});
             }));
  write_file(dir / "nothing.cbor", archive(registry, [](brine::StableWriter&) {}));
  write_file(dir / "markers.cbor", archive(registry, [](brine::StableWriter& w) {
               w.write(std::array<fuzz::Tag, 2>{});
               w.write(std::vector<std::tuple<>>(3));
             }));
  // Numeric vectors of every width are typed arrays; these are their tags.
  write_file(dir / "typed-arrays.cbor", archive(registry, [](brine::StableWriter& w) {
               w.write(std::vector<std::int8_t>{-1, 2});
               w.write(std::vector<std::uint16_t>{1, 65535});
               w.write(std::vector<std::int32_t>{-7});
               w.write(std::vector<std::uint64_t>{1ull << 63});
               w.write(std::vector<float>{0.5f});
               w.write(std::vector<double>{-0.25, 1e300});
             }));

  // The golden archives of every release: the real thing, from the source tree.
  std::error_code ec;
  const std::filesystem::path golden =
      std::filesystem::path(BRINE_SOURCE_DIR) / "tests/golden/stable";
  for (auto it = std::filesystem::recursive_directory_iterator(golden, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().extension() != ".cbor") continue;
    std::string name = "golden-" + it->path().parent_path().filename().string() + "-" +
                       it->path().filename().string();
    std::filesystem::copy_file(it->path(), dir / name,
                               std::filesystem::copy_options::overwrite_existing);
  }
  return 0;
}
