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
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

brine::Buffer archive(brine::Registry& registry, const std::function<void(brine::BinaryWriter&)>& write,
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

fuzz::Doc make_doc() {
  fuzz::Doc d;
  d.title = "title";
  d.flag = true;
  d.mode = fuzz::Mode::on;
  d.tags = {"a", "bb"};
  d.numbers = {1, 1ull << 40};
  d.bits = {true, false, true};
  d.points = {{"p", fuzz::Point{1, 2.5}}};
  d.names = {{7, "seven"}};
  d.ids = {-1, 3};
  d.note = std::string("note");
  d.choice = fuzz::Point{3, -1};
  d.triple = {9, 1.5f, "t"};
  d.corners = {fuzz::Point{0, 0}, fuzz::Point{4, 4}};
  d.raw = {std::byte{0}, std::byte{255}};
  d.timeout = std::chrono::milliseconds(1500);
  d.owned = std::make_unique<fuzz::Point>(fuzz::Point{5, 5});
  d.origin = fuzz::Point{-3, 0.25};
  d.more_markers.resize(2);
  return d;
}

fuzz::Graph make_graph() {
  auto a = std::make_shared<fuzz::Branch>();
  auto b = std::make_shared<fuzz::Leaf>();
  auto c = std::make_shared<fuzz::Node>();
  a->label = "a";
  b->label = "b";
  c->label = "c";
  b->weight = 2;
  a->edges = {b, c};
  b->edges = {a};
  c->edges = {c};
  c->parent = a;
  a->owned = std::make_unique<fuzz::Leaf>();
  a->maybe = std::shared_ptr<fuzz::Node>(b);
  fuzz::Graph g;
  g.roots = {a, b};
  g.named = {{"c", c}};
  return g;
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

  write_file(dir / "doc.brine", archive(registry, [](brine::BinaryWriter& w) { w.write(make_doc()); }));
  write_file(dir / "doc-small-blocks.brine",
             archive(registry, [](brine::BinaryWriter& w) { w.write(make_doc()); }, 64));
  write_file(dir / "empty-doc.brine", archive(registry, [](brine::BinaryWriter& w) { w.write(fuzz::Doc{}); }));
  fuzz::Graph g = make_graph();
  write_file(dir / "graph.brine", archive(registry, [&](brine::BinaryWriter& w) { w.write(g); }));
  write_file(dir / "node.brine", archive(registry, [&](brine::BinaryWriter& w) { w.write(g.roots[0]); }));
  fuzz::dismantle(g);

  brine::Registry old_registry;  // writes fuzz.Item version 1
  fuzz::OldInventory old;
  old.items = {fuzz::v1::Item{"bolt", 3, {fuzz::Point{1, 1}}}, fuzz::v1::Item{"nut", -1, {}}};
  old.featured = std::make_shared<fuzz::v1::Item>(fuzz::v1::Item{"gear", 1, {}});
  old.again = old.featured;
  write_file(dir / "inventory-v1.brine", archive(old_registry, [&](brine::BinaryWriter& w) { w.write(old); }));
  fuzz::Inventory now;
  now.items = {fuzz::Item{"bolt", 3, {}, "pcs"}};
  now.featured = std::make_shared<fuzz::Item>(fuzz::Item{"gear", 1, {fuzz::Point{2, 2}}, "kg"});
  now.again = now.featured;
  write_file(dir / "inventory-v2.brine", archive(registry, [&](brine::BinaryWriter& w) { w.write(now); }));

  write_file(dir / "several.brine", archive(registry, [](brine::BinaryWriter& w) {
               w.write(make_doc());
               w.write(std::string("second"));
               w.write(std::vector<std::variant<std::string, std::optional<fuzz::Point>>>{
                   std::string("x"), std::optional<fuzz::Point>(), std::optional<fuzz::Point>(fuzz::Point{1, 1})});
               w.write(std::map<std::int32_t, std::vector<double>>{{1, {0.5}}, {-2, {}}});
             }));
  write_file(dir / "nothing.brine", archive(registry, [](brine::BinaryWriter&) {}));
  write_file(dir / "markers.brine", archive(registry, [](brine::BinaryWriter& w) {
               w.write(std::array<fuzz::Tag, 2>{});
               w.write(std::vector<std::tuple<>>(3));
             }));
  return 0;
}
