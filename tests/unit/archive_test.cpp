// The same behaviour on every archive: binary, stable (CBOR) and JSON documents.

#include <brine/brine.hpp>

#include "sample_types.hpp"
#include "test_util.hpp"

namespace {

using namespace brine_test;

struct BinaryFormat {
  template <class T>
  static std::string save(const T& v, brine::Registry& r) {
    return std::string(brine::to_binary(v, r).view());
  }
  template <class T>
  static T load(const std::string& bytes, brine::Registry& r) {
    return brine::from_binary<T>(bytes, r);
  }
};
struct StableFormat {
  template <class T>
  static std::string save(const T& v, brine::Registry& r) {
    return std::string(brine::to_stable(v, r).view());
  }
  template <class T>
  static T load(const std::string& bytes, brine::Registry& r) {
    return brine::from_stable<T>(bytes, r);
  }
};
struct JsonFormat {
  template <class T>
  static std::string save(const T& v, brine::Registry& r) {
    return brine::to_json_archive(v, r);
  }
  template <class T>
  static T load(const std::string& bytes, brine::Registry& r) {
    return brine::from_json_archive<T>(bytes, r);
  }
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
  EXPECT_THROW_WITH(brine::from_stable<Everything>(corrupt(bytes, at), registry),
                    brine::FormatError, "checksum mismatch");
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
  EXPECT_THROW_WITH(
      brine::from_stable<Everything>(flipped.substr(0, flipped.size() - 1), registry, trusting),
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

// root -> {n1, n2, n3, n2}; n1 -> {n4}; n3 -> {n4, n5}; n5 -> {n5}. Referred to again: n2, n4,
// n5 (a cycle); met once: root, n1, n3.
std::vector<std::shared_ptr<GraphNode>> make_partly_shared_graph() {
  std::vector<std::shared_ptr<GraphNode>> n;
  for (int i = 0; i < 6; ++i) {
    n.push_back(std::make_shared<GraphNode>());
    n.back()->id = i;
  }
  n[0]->next = {n[1], n[2], n[3], n[2]};
  n[1]->next = {n[4]};
  n[3]->next = {n[4], n[5]};
  n[5]->next = {n[5]};
  return n;
}

void expect_partly_shared_graph(const std::shared_ptr<GraphNode>& root) {
  ASSERT_EQ(root->id, 0);
  ASSERT_EQ(root->next.size(), 4u);
  const auto& n1 = root->next[0];
  const auto& n2 = root->next[1];
  const auto& n3 = root->next[2];
  EXPECT_EQ(n1->id, 1);
  EXPECT_EQ(n2->id, 2);
  EXPECT_EQ(n3->id, 3);
  EXPECT_EQ(root->next[3], n2);
  ASSERT_EQ(n1->next.size(), 1u);
  ASSERT_EQ(n3->next.size(), 2u);
  EXPECT_EQ(n1->next[0]->id, 4);
  EXPECT_EQ(n3->next[0], n1->next[0]);
  const auto& n5 = n3->next[1];
  EXPECT_EQ(n5->id, 5);
  ASSERT_EQ(n5->next.size(), 1u);
  EXPECT_EQ(n5->next[0], n5);
}

// Every object of a value, in document order: (id field, shared_id or -1).
void collect_objects(const brine::Value& v,
                     std::vector<std::pair<std::int64_t, std::int64_t>>& out) {
  if (v.kind() == brine::ValueKind::list) {
    for (const brine::Value& e : v.as_list()) collect_objects(e, out);
  } else if (v.kind() == brine::ValueKind::object) {
    const brine::Object& o = v.as_object();
    const brine::Value* id = o.find("id");
    out.emplace_back(id != nullptr ? id->as_int64() : -2,
                     o.shared_id ? static_cast<std::int64_t>(*o.shared_id) : -1);
    for (const brine::Field& f : o.fields) collect_objects(f.value, out);
  }
}

TEST(StableArchive, TagsOnlyObjectsReferredToAgain) {
  brine::Registry registry;
  auto graph = make_partly_shared_graph();
  brine::Buffer out = stable_document(registry, [&](brine::StableWriter& writer) {
    writer.write(graph[0]);
    writer.write(graph[0]);  // value sharing numbers shareables across the whole document
  });
  for (auto& node : graph) node->next.clear();

  brine::MemorySource source(out);
  brine::StableReader values(source, registry);
  for (std::int64_t first : {0, 3}) {
    std::vector<std::pair<std::int64_t, std::int64_t>> objects;
    collect_objects(values.read_value(), objects);
    // Document order: 0, 1, 4, 2, 3, 5 (each object once; later occurrences are references).
    std::vector<std::pair<std::int64_t, std::int64_t>> expected = {
        {0, -1}, {1, -1}, {4, first}, {2, first + 1}, {3, -1}, {5, first + 2}};
    EXPECT_EQ(objects, expected);
  }

  brine::MemorySource again(out);
  brine::StableReader reader(again, registry);
  for (int i = 0; i < 2; ++i) {
    auto root = reader.read<std::shared_ptr<GraphNode>>();
    expect_partly_shared_graph(root);
    root->next[2]->next[1]->next.clear();  // n5's cycle
  }
}

// What `brine convert` does: a stable value, through the state model, into a binary archive.
brine::Buffer stable_to_binary(const brine::Buffer& stable, brine::Registry& registry) {
  brine::MemorySource source(stable);
  brine::StableReader reader(source, registry);
  brine::Buffer binary;
  brine::BufferSink sink(binary);
  brine::BinaryWriter writer(sink, registry);
  writer.write_value(reader.read_value());
  writer.finish();
  return binary;
}

TEST(StableArchive, PartlySharedGraphConvertsToBinaryAndLoads) {
  brine::Registry registry;
  auto graph = make_partly_shared_graph();
  brine::Buffer stable = brine::to_stable(graph[0], registry);
  graph[5]->next.clear();
  auto root = brine::from_binary<std::shared_ptr<GraphNode>>(
      stable_to_binary(stable, registry).view(), registry);
  expect_partly_shared_graph(root);
  root->next[2]->next[1]->next.clear();
}

struct PointerHolder {
  BRINE_TYPE("test.PointerHolder", 1);
  std::vector<std::shared_ptr<Inner>> items;
  template <class A>
  void getstate(A& ar) const {
    ar("items", items);
  }
  template <class A>
  void setstate(A& ar) {
    ar("items", items);
  }
};

// No object is referred to twice, so the stable archive has no tag 28 at all and the state
// model cannot tell these pointers from objects held by value; the binary archive written
// from it records inline objects, which still load into the shared_ptrs.
TEST(StableArchive, PointersToObjectsMetOnceConvertToBinaryAndLoad) {
  brine::Registry registry;
  PointerHolder holder;
  holder.items = {std::make_shared<Inner>(Inner{1, "one"}),
                  std::make_shared<Inner>(Inner{2, "two"})};
  brine::Buffer stable = brine::to_stable(holder, registry);
  auto loaded =
      brine::from_binary<PointerHolder>(stable_to_binary(stable, registry).view(), registry);
  ASSERT_EQ(loaded.items.size(), 2u);
  EXPECT_EQ(*loaded.items[0], (Inner{1, "one"}));
  EXPECT_EQ(*loaded.items[1], (Inner{2, "two"}));
  EXPECT_NE(loaded.items[0], loaded.items[1]);
}

struct SpecPoint {
  BRINE_TYPE("p.Pt", 2);
  std::string name;
  std::filesystem::path where;
  template <class A>
  void getstate(A& ar) const {
    ar("name", name)("where", where);
  }
  template <class A>
  void setstate(A& ar) {
    ar("name", name)("where", where);
  }
};

std::string hex(const brine::Buffer& bytes) {
  static const char digits[] = "0123456789ABCDEF";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i != 0) out += ' ';
    out += digits[bytes.data()[i] >> 4];
    out += digits[bytes.data()[i] & 15];
  }
  return out;
}

// docs/format/stable-v1.md §12, byte for byte: the specification shows what the writer writes.
TEST(StableArchive, WritesTheSpecificationsSharingExample) {
  brine::Registry registry;
  auto a = std::make_shared<SpecPoint>(SpecPoint{"ab", "x/y"});
  auto b = std::make_shared<SpecPoint>(SpecPoint{"cd", "z"});
  std::vector<std::shared_ptr<SpecPoint>> points{a, a, b};
  const std::string header =
      "D9 D9 F7 D9 01 00 A4 66 66 6F 72 6D 61 74 6C 62 72 69 6E 65 2D 73 74 61 62 6C 65 6E 66 "
      "6F 72 6D 61 74 5F 76 65 72 73 69 6F 6E 01 66 76 61 6C 75 65 73 ";
  const std::string values =
      "9F 83 "
      "D8 1C D8 1B 83 64 70 2E 50 74 02 A2 64 6E 61 6D 65 62 61 62 65 77 68 65 72 65 "
      "D8 1B 82 65 24 70 61 74 68 63 78 2F 79 "
      "D8 1D 00 "
      "D8 1B 83 D8 19 04 02 A2 D8 19 05 62 63 64 D8 19 06 D8 1B 82 D8 19 07 61 7A FF ";
  const std::string checksum = "68 63 68 65 63 6B 73 75 6D 1B BA 0D 6A 34 89 49 F0 69";
  EXPECT_EQ(hex(brine::to_stable(points, registry)), header + values + checksum);
}

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

// The writers' address table numbers addresses in the order they are first inserted, which
// is the id every writer gives a shared object, through every growth of the table.
TEST(PointerIdMap, NumbersAddressesInInsertionOrderThroughGrowth) {
  std::vector<std::uint64_t> objects(100'000);
  brine::detail::PointerIdMap ids;
  for (int round = 0; round < 2; ++round) {  // clear() keeps the memory for the next value
    for (std::size_t i = 0; i < objects.size(); ++i) {
      bool inserted = false;
      ASSERT_EQ(ids.find_or_insert(&objects[i], inserted), i);
      ASSERT_TRUE(inserted);
    }
    for (std::size_t i = objects.size(); i-- > 0;) {
      bool inserted = true;
      ASSERT_EQ(ids.find_or_insert(&objects[i], inserted), i);
      ASSERT_FALSE(inserted);
      ASSERT_EQ(ids.find(&objects[i]), i);
    }
    std::uint64_t elsewhere = 0;
    EXPECT_EQ(ids.find(&elsewhere), brine::detail::PointerIdMap::npos);
    EXPECT_EQ(ids.size(), objects.size());
    ids.clear();
    EXPECT_EQ(ids.size(), 0u);
    EXPECT_EQ(ids.find(&objects[0]), brine::detail::PointerIdMap::npos);
  }
}

}  // namespace
