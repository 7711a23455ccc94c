// The same behaviour on every archive: binary, stable (CBOR) and JSON documents.

#include <brine/brine.hpp>

#include "sample_types.hpp"
#include "test_util.hpp"

namespace {

using namespace brine_test;

struct BinaryFormat {
  template <class T>
  static std::string save(const T& v, brine::Registry& r) { return std::string(brine::to_binary(v, r).view()); }
  template <class T>
  static T load(const std::string& bytes, brine::Registry& r) { return brine::from_binary<T>(bytes, r); }
};
struct StableFormat {
  template <class T>
  static std::string save(const T& v, brine::Registry& r) { return std::string(brine::to_stable(v, r).view()); }
  template <class T>
  static T load(const std::string& bytes, brine::Registry& r) { return brine::from_stable<T>(bytes, r); }
};
struct JsonFormat {
  template <class T>
  static std::string save(const T& v, brine::Registry& r) { return brine::to_json_archive(v, r); }
  template <class T>
  static T load(const std::string& bytes, brine::Registry& r) { return brine::from_json_archive<T>(bytes, r); }
};

template <class Format>
class EveryArchive : public ::testing::Test {};
using Formats = ::testing::Types<BinaryFormat, StableFormat, JsonFormat>;
TYPED_TEST_SUITE(EveryArchive, Formats);

TYPED_TEST(EveryArchive, RoundTripsEveryBuiltInFamily) {
  brine::Registry registry;
  std::string bytes = TypeParam::save(make_everything(), registry);
  expect_everything(TypeParam::template load<Everything>(bytes, registry));
}

TYPED_TEST(EveryArchive, RoundTripsPolymorphicSharedGraph) {
  brine::Registry registry;
  register_shapes(registry);
  std::string bytes = TypeParam::save(make_scene(), registry);
  expect_scene(TypeParam::template load<Scene>(bytes, registry));
}

TYPED_TEST(EveryArchive, RoundTripsSharedPointerCycle) {
  brine::Registry registry;
  auto a = std::make_shared<GraphNode>();
  a->id = 1;
  a->next = {a, a};
  std::string bytes = TypeParam::save(a, registry);
  a->next.clear();
  auto loaded = TypeParam::template load<std::shared_ptr<GraphNode>>(bytes, registry);
  ASSERT_EQ(loaded->next.size(), 2u);
  EXPECT_EQ(loaded->next[0], loaded);
  EXPECT_EQ(loaded->next[1], loaded);
  loaded->next.clear();
}

TYPED_TEST(EveryArchive, RejectsWrongTypeNamingBothTypes) {
  brine::Registry registry;
  std::string bytes = TypeParam::save(Inner{1, "x"}, registry);
  EXPECT_THROW_WITH(TypeParam::template load<GraphNode>(bytes, registry), brine::SchemaError,
                    "test.GraphNode");
}

TEST(StableArchive, SharesNamesThroughStringReferences) {
  brine::Registry registry;
  std::vector<Inner> many(100, Inner{7, "v"});
  brine::Buffer stable = brine::to_stable(many, registry);
  brine::Buffer binary = brine::to_binary(many, registry);
  // The type name appears once, then as references.
  std::string_view view = stable.view();
  std::size_t first = view.find("test.Inner");
  ASSERT_NE(first, std::string_view::npos);
  EXPECT_EQ(view.find("test.Inner", first + 1), std::string_view::npos);
  EXPECT_LT(stable.size(), binary.size() * 5);
}

TEST(StableArchive, RefusesCorruptionByChecksum) {
  brine::Registry registry;
  std::string bytes(brine::to_stable(make_everything(), registry).view());
  // Flip a byte inside a value's text (not its structure): only the checksum can tell.
  std::size_t at = bytes.find("h\xc3\xa9llo");
  ASSERT_NE(at, std::string::npos);
  EXPECT_THROW_WITH(brine::from_stable<Everything>(corrupt(bytes, at), registry), brine::FormatError,
                    "checksum mismatch");
}

// LoadOptions::verify_checksums = false skips the document checksum (as it skips binary
// block checksums), so the flipped byte is decoded; the structure is still validated.
TEST(StableArchive, SkipsChecksumWhenNotVerifying) {
  brine::Registry registry;
  std::string bytes(brine::to_stable(make_everything(), registry).view());
  std::size_t at = bytes.find("h\xc3\xa9llo");
  ASSERT_NE(at, std::string::npos);
  brine::LoadOptions trusting;
  trusting.verify_checksums = false;
  std::string flipped = corrupt(bytes, at);
  Everything e = brine::from_stable<Everything>(flipped, registry, trusting);
  EXPECT_NE(e.text, make_everything().text);
  EXPECT_THROW_WITH(brine::from_stable<Everything>(flipped.substr(0, flipped.size() - 1), registry, trusting),
                    brine::FormatError, "document ends");
}

TEST(StableArchive, RefusesNewerFormatVersion) {
  brine::Registry registry;
  std::string bytes(brine::to_stable(Inner{1, "x"}, registry).view());
  std::size_t at = bytes.find("format_version");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 14] = 0x05;  // the version follows its key
  EXPECT_THROW_WITH(brine::from_stable<Inner>(bytes, registry), brine::VersionError, "version 5");
}

TEST(StableArchive, ReadsSeveralValuesInOrder) {
  brine::Registry registry;
  brine::Buffer out;
  brine::BufferSink sink(out);
  brine::StableWriter writer(sink, registry);
  writer.write(Inner{1, "a"});
  writer.write(std::string("two"));
  writer.write(Inner{3, "c"});
  writer.finish();
  brine::MemorySource source(out);
  brine::StableReader reader(source, registry);
  EXPECT_EQ(reader.value_count(), 3u);
  EXPECT_EQ(reader.read<Inner>(), (Inner{1, "a"}));
  EXPECT_EQ(reader.read<std::string>(), "two");
  EXPECT_EQ(reader.read<Inner>(), (Inner{3, "c"}));
  EXPECT_TRUE(reader.at_end());
}

}  // namespace

namespace {

using namespace brine_test;

TEST(StableArchive, SharedObjectInSeveralValuesLoadsInEach) {
  brine::Registry registry;
  auto node = std::make_shared<GraphNode>();
  node->id = 9;
  node->next = {node};
  brine::Buffer out;
  brine::BufferSink sink(out);
  brine::StableWriter writer(sink, registry);
  writer.write(node);
  writer.write(node);
  writer.finish();
  node->next.clear();
  brine::MemorySource source(out);
  brine::StableReader reader(source, registry);
  for (int i = 0; i < 2; ++i) {
    auto loaded = reader.read<std::shared_ptr<GraphNode>>();
    EXPECT_EQ(loaded->id, 9);
    ASSERT_EQ(loaded->next.size(), 1u);
    EXPECT_EQ(loaded->next[0], loaded);
    loaded->next.clear();
  }
}

}  // namespace
