// State trees written without their C++ types (what the command-line tool does) load back
// into the program's types.

#include <brine/brine.hpp>

#include "sample_types.hpp"
#include "test_util.hpp"

namespace {

using namespace brine_test;

template <class T>
brine::Buffer binary_from_state(const T& object, brine::Registry& registry) {
  brine::Value state = brine::to_state(object, registry);
  brine::Buffer out;
  brine::BufferSink sink(out);
  brine::Registry empty;
  brine::BinaryWriter writer(sink, empty);
  writer.write_value(state);
  writer.finish();
  return out;
}

TEST(BinaryWriter, WritesStateTreesThatLoadIntoTypes) {
  brine::Registry registry;
  brine::Buffer bytes = binary_from_state(make_everything(), registry);
  expect_everything(brine::from_binary<Everything>(bytes.view(), registry));
}

TEST(BinaryWriter, WritesSharedPolymorphicStateTrees) {
  brine::Registry registry;
  register_shapes(registry);
  brine::Buffer bytes = binary_from_state(make_scene(), registry);
  expect_scene(brine::from_binary<Scene>(bytes.view(), registry));
}

TEST(BinaryWriter, ReadValueGivesBackTheStateTree) {
  brine::Registry registry;
  register_shapes(registry);
  brine::Value state = brine::to_state(make_scene(), registry);
  brine::Buffer bytes = binary_from_state(make_scene(), registry);
  brine::MemorySource source(bytes);
  brine::Registry empty;
  brine::BinaryReader reader(source, empty);
  EXPECT_EQ(brine::to_json(reader.read_value()), brine::to_json(state));
}

TEST(BinaryWriter, WritesMixedKindsAsSelfDescribingValues) {
  brine::Value::Map map;
  map["a"] = brine::Value("text");
  map["b"] = brine::Value(brine::Value::List{brine::Value(1.5), brine::Value(true)});
  map["c"] = brine::Value(brine::Object{"x.Y", 2, {{"f", brine::Value()}}, std::nullopt});
  brine::Value v(
      brine::Value::List{brine::Value(map), brine::Value("other"), brine::Value(std::int64_t{-4})});
  brine::Buffer out;
  brine::BufferSink sink(out);
  brine::Registry empty;
  brine::BinaryWriter writer(sink, empty);
  writer.write_value(v);
  writer.write_value(v);
  writer.finish();
  brine::MemorySource source(out);
  brine::BinaryReader reader(source, empty);
  EXPECT_EQ(reader.read_value(), v);
  EXPECT_EQ(reader.read_value(), v);
  EXPECT_TRUE(reader.at_end());
}

}  // namespace

namespace {

using namespace brine_test;

TEST(StableWriter, WritesStateTreesThatLoadIntoTypes) {
  brine::Registry registry;
  register_shapes(registry);
  brine::Buffer out;
  brine::BufferSink sink(out);
  brine::StableWriter writer(sink, registry);
  writer.write_value(brine::to_state(make_scene(), registry));
  writer.write_value(brine::to_state(make_everything(), registry));
  writer.finish();
  brine::MemorySource source(out);
  brine::StableReader reader(source, registry);
  expect_scene(reader.read<Scene>());
  expect_everything(reader.read<Everything>());
}

}  // namespace
