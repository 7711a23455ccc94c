// Tests of the binary archive: round trips of every supported family, object graphs,
// several values per stream, and the older-version path.

#include <brine/brine.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <sstream>
#include <streambuf>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "sample_types.hpp"
#include "test_util.hpp"

namespace {

using namespace brine_test;

TEST(BinaryArchive, RoundTripsEveryBuiltInFamily) {
  brine::Registry registry;
  brine::Buffer bytes = brine::to_binary(make_everything(), registry);
  expect_everything(brine::from_binary<Everything>(bytes.view(), registry));
}

TEST(StateModel, RoundTripsEveryBuiltInFamily) {
  brine::Registry registry;
  brine::Value state = brine::to_state(make_everything(), registry);
  expect_everything(brine::from_state<Everything>(state, registry));
  brine::Value reparsed = brine::value_from_json(brine::to_json(state));
  EXPECT_EQ(reparsed, state);
  expect_everything(brine::from_state<Everything>(reparsed, registry));
}

TEST(BinaryArchive, RoundTripsPolymorphicSharedGraph) {
  brine::Registry registry;
  register_shapes(registry);
  brine::Buffer bytes = brine::to_binary(make_scene(), registry);
  expect_scene(brine::from_binary<Scene>(bytes.view(), registry));
}

TEST(StateModel, RoundTripsPolymorphicSharedGraph) {
  brine::Registry registry;
  register_shapes(registry);
  expect_scene(brine::from_state<Scene>(brine::to_state(make_scene(), registry), registry));
}

TEST(BinaryArchive, RejectsUnregisteredDynamicTypeOnSave) {
  brine::Registry registry;
  register_shapes(registry);
  Scene s;
  s.shapes.push_back(std::make_shared<Unregistered>());
  EXPECT_THROW_WITH(brine::to_binary(s, registry), brine::SchemaError, "Unregistered");
}

TEST(BinaryArchive, RejectsUnknownDynamicTypeOnLoad) {
  brine::Registry writer_registry;
  register_shapes(writer_registry);
  brine::Buffer bytes = brine::to_binary(make_scene(), writer_registry);
  brine::Registry reader_registry;
  reader_registry.add<Square>().bases<Shape>();
  EXPECT_THROW_WITH(brine::from_binary<Scene>(bytes.view(), reader_registry), brine::SchemaError,
                    "unknown type 'test.Circle'");
}

TEST(BinaryArchive, RoundTripsSharedPointerCycle) {
  brine::Registry registry;
  auto a = std::make_shared<GraphNode>();
  auto b = std::make_shared<GraphNode>();
  a->id = 1;
  b->id = 2;
  a->next = {b};
  b->next = {a, b};
  brine::Buffer bytes = brine::to_binary(a, registry);
  auto loaded = brine::from_binary<std::shared_ptr<GraphNode>>(bytes.view(), registry);
  ASSERT_EQ(loaded->next.size(), 1u);
  auto lb = loaded->next[0];
  EXPECT_EQ(lb->id, 2);
  EXPECT_EQ(lb->next[0], loaded);
  EXPECT_EQ(lb->next[1], lb);
  // Break the cycles so the test does not leak.
  lb->next.clear();
  a->next.clear();
  b->next.clear();
}

TEST(BinaryArchive, ReadsSeveralValuesInOrderFromStreams) {
  brine::Registry registry;
  std::stringstream stream;
  {
    brine::StreamSink sink(stream);
    brine::BinaryWriter writer(sink, registry);
    writer.write(Inner{1, "one"});
    writer.write(std::vector<int>{1, 2, 3});
    writer.write(Inner{2, "two"});
    writer.write(std::string("end"));
    writer.finish();
  }
  brine::StreamSource source(stream);
  brine::BinaryReader reader(source, registry);
  EXPECT_EQ(reader.read<Inner>(), (Inner{1, "one"}));
  EXPECT_EQ(reader.read<std::vector<int>>(), (std::vector<int>{1, 2, 3}));
  EXPECT_FALSE(reader.at_end());
  EXPECT_EQ(reader.read<Inner>(), (Inner{2, "two"}));
  EXPECT_EQ(reader.read<std::string>(), "end");
  EXPECT_TRUE(reader.at_end());
  EXPECT_THROW_WITH(reader.read<Inner>(), brine::FormatError, "end marker");
}

// String keys are read as views into the input and built in their map nodes; with 64-byte
// blocks many keys and values straddle a block boundary, and a stream source reuses one
// buffer for every block.
TEST(BinaryArchive, RoundTripsStringKeyedMapsAcrossBlocks) {
  using Maps =
      std::tuple<std::map<std::string, std::string>, std::map<std::string, std::vector<int>>,
                 std::unordered_map<std::string, std::int32_t>,
                 std::map<std::string, std::int64_t, std::greater<>>>;
  Maps maps;
  for (int i = 0; i < 200; ++i) {
    std::string key =
        "key-" + std::to_string(i) + std::string(static_cast<std::size_t>(i % 90), 'k');
    std::get<0>(maps)[key] = std::string(static_cast<std::size_t>(i % 70), 'v');
    std::get<1>(maps)[key] = std::vector<int>(static_cast<std::size_t>(i % 20), i);
    std::get<2>(maps)[key] = i;
    std::get<3>(maps)[key] = -i;
  }
  brine::Registry registry;
  brine::BinaryWriteOptions options;
  options.block_size = 64;
  brine::Buffer bytes;
  {
    brine::BufferSink sink(bytes);
    brine::BinaryWriter writer(sink, registry, options);
    writer.write(maps);
    writer.finish();
  }
  EXPECT_EQ(brine::from_binary<Maps>(bytes.view(), registry), maps);
  std::stringstream stream(std::string(bytes.view()));
  brine::StreamSource source(stream);
  brine::BinaryReader reader(source, registry);
  EXPECT_EQ(reader.read<Maps>(), maps);
}

// A stream buffer with a fixed put area of `capacity` bytes, as an in-memory buffer that has
// grown is: StreamSink lends its free part to the writer, which builds blocks there.
class FixedPutArea : public std::streambuf {
 public:
  explicit FixedPutArea(std::size_t capacity) : bytes_(capacity) {
    setp(bytes_.data(), bytes_.data() + bytes_.size());
  }
  std::string_view written() const { return {pbase(), static_cast<std::size_t>(pptr() - pbase())}; }

 protected:
  // Past the put area: only noted. The archive must fit in what the sink lent.
  int_type overflow(int_type ch) override {
    if (traits_type::eq_int_type(ch, traits_type::eof())) return traits_type::not_eof(ch);
    overflowed_ = true;
    return ch;
  }

 public:
  bool overflowed_ = false;

 private:
  std::vector<char> bytes_;
};

TEST(BinaryArchive, StreamSinkLendsItsPutAreaAndWritesTheSameArchive) {
  brine::Registry registry;
  const Everything value = make_everything();
  brine::BinaryWriteOptions options;
  options.block_size = 64;  // many blocks, each built in lent memory
  brine::Buffer expected;
  {
    brine::BufferSink sink(expected);
    brine::BinaryWriter writer(sink, registry, options);
    writer.write(value);
    writer.write(Inner{7, "second"});
    writer.finish();
  }
  FixedPutArea area(expected.size() + 4096);
  std::ostream os(&area);
  brine::StreamSink sink(os);
  std::size_t available = 0;
  ASSERT_NE(sink.lend(64, available), nullptr);
  EXPECT_EQ(available, expected.size() + 4096);
  EXPECT_EQ(sink.lend(expected.size() + 4097, available), nullptr);
  {
    brine::BinaryWriter writer(sink, registry, options);
    writer.write(value);
    writer.write(Inner{7, "second"});
    writer.finish();
  }
  EXPECT_FALSE(area.overflowed_);
  EXPECT_EQ(area.written(), expected.view());
  brine::MemorySource source(area.written());
  brine::BinaryReader reader(source, registry);
  expect_everything(reader.read<Everything>());
  EXPECT_EQ(reader.read<Inner>(), (Inner{7, "second"}));
}

TEST(BinaryArchive, StreamSinkWithoutRoomToLendWritesThroughTheStream) {
  brine::Registry registry;
  brine::Buffer expected = brine::to_binary(make_everything(), registry);
  // A std::stringbuf's put area is what its string holds so far: a small archive's blocks do
  // not fit in it, and go through ostream::write.
  std::ostringstream os;
  brine::StreamSink sink(os);
  std::size_t available = 0;
  EXPECT_EQ(sink.lend(std::size_t{1} << 30, available), nullptr);
  EXPECT_EQ(available, 0u);
  brine::BinaryWriter writer(sink, registry);
  writer.write(make_everything());
  writer.finish();
  EXPECT_EQ(os.str(), std::string(expected.view()));
}

TEST(BinaryArchive, SavesFilesAtomically) {
  brine_test::TempDir dir;
  brine::Registry registry;
  auto path = dir / "a.brine";
  brine::save_binary(path, Inner{3, "file"}, registry);
  EXPECT_EQ(brine::load_binary<Inner>(path, registry), (Inner{3, "file"}));
  // No temporary files left behind.
  int files = 0;
  for (auto& entry : std::filesystem::directory_iterator(dir.path())) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST(BinaryArchive, RejectsWrongTopLevelTypeWithTypeNames) {
  brine::Registry registry;
  brine::Buffer bytes = brine::to_binary(Inner{1, "x"}, registry);
  EXPECT_THROW_WITH(brine::from_binary<GraphNode>(bytes.view(), registry), brine::SchemaError,
                    "test.GraphNode");
}

}  // namespace
