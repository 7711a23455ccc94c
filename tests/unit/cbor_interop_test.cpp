// Stable archives decode with an independent CBOR decoder (Python's cbor2), value for value
// equal to brine's own reading of them.

#include <brine/brine.hpp>
#include <cstdlib>
#include <fstream>

#include "sample_types.hpp"
#include "test_util.hpp"

#ifndef BRINE_PYTHON_WITH_CBOR2
#define BRINE_PYTHON_WITH_CBOR2 ""
#endif
#ifndef BRINE_CBOR_CHECK_SCRIPT
#define BRINE_CBOR_CHECK_SCRIPT ""
#endif

namespace {

using namespace brine_test;

void expect_cbor2_agrees(const brine::Buffer& archive) {
  ASSERT_STRNE(BRINE_PYTHON_WITH_CBOR2, "")
      << "no Python interpreter with cbor2 was found at configure time: install python3-cbor2";
  brine_test::TempDir dir;
  {
    std::ofstream out(dir / "a.cbor", std::ios::binary);
    out.write(reinterpret_cast<const char*>(archive.data()),
              static_cast<std::streamsize>(archive.size()));
  }
  brine::Value::List values;
  for (brine::Value& v : brine::read_stable_values(archive.view())) values.push_back(std::move(v));
  {
    std::ofstream out(dir / "a.json");
    out << brine::to_json(brine::Value(values));
  }
  std::string command = std::string(BRINE_PYTHON_WITH_CBOR2) + " " + BRINE_CBOR_CHECK_SCRIPT + " " +
                        (dir / "a.cbor").string() + " " + (dir / "a.json").string();
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
}

TEST(StableArchive, DecodesWithCbor2EveryBuiltInFamily) {
  brine::Registry registry;
  expect_cbor2_agrees(brine::to_stable(make_everything(), registry));
}

TEST(StableArchive, DecodesWithCbor2TensorsOfEveryDType) {
  brine::Registry registry;
  brine::Value::List tensors;
  for (std::size_t d = 0; d < brine::kDTypeCount; ++d) {
    brine::Tensor t(static_cast<brine::DType>(d), {2, 3});
    for (std::size_t i = 0; i < t.nbytes(); ++i)
      t.mutable_bytes()[i] = static_cast<std::byte>(d == 0 ? i % 2 : i * 7 + d);
    tensors.emplace_back(std::move(t));
  }
  tensors.emplace_back(brine::Tensor(brine::DType::float32, {}));
  tensors.emplace_back(brine::Tensor(brine::DType::int64, {0, 4}));
  brine::Buffer archive = stable_document(
      registry, [&](brine::StableWriter& w) { w.write_value(brine::Value(tensors)); });
  // brine reads back what it wrote, and cbor2 decodes every tensor to the same bytes.
  EXPECT_EQ(brine::read_stable_values(archive.view()).at(0), brine::Value(tensors));
  expect_cbor2_agrees(archive);
}

TEST(StableArchive, DecodesWithCbor2SharedPolymorphicGraph) {
  brine::Registry registry;
  register_shapes(registry);
  expect_cbor2_agrees(brine::to_stable(make_scene(), registry));
}

TEST(StableArchive, DecodesWithCbor2SeveralValuesWithSharedNames) {
  brine::Registry registry;
  brine::Buffer out;
  brine::BufferSink sink(out);
  brine::StableWriter writer(sink, registry);
  for (int i = 0; i < 40; ++i)
    writer.write(std::vector<Inner>(3, Inner{i, std::string(5 + i % 7, 'x')}));
  auto node = std::make_shared<GraphNode>();
  node->next = {node};
  writer.write(node);
  writer.write(node);  // a new value: the object is written again, not referenced
  node->next.clear();
  writer.finish();
  expect_cbor2_agrees(out);
}

}  // namespace
