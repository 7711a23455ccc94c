// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// binary_rejection_test.cpp: one hand-made hostile archive per rule the binary reader
// enforces (header, blocks, types, pointers, variants, booleans), each checked for exception
// type, code, message and position, next to the valid archive it was made from.

#include <brine/brine.hpp>
#include <sstream>
#include <string>

#include "hostile_support.hpp"
#include "hostile_types.hpp"
#include "test_util.hpp"

namespace hostile {

float twice(float x) { return 2 * x; }
double twice_double(double x) { return 2 * x; }

struct Activation {
  BRINE_TYPE("hostile.Activation", 1);
  float (*fn)(float) = nullptr;
  template <class A>
  void getstate(A& ar) const {
    ar("fn", fn);
  }
  template <class A>
  void setstate(A& ar) {
    ar("fn", fn);
  }
};

}  // namespace hostile

namespace {

using hostile::Doc;

// Little-endian bytes of an int32 that occurs nowhere else in the archives below.
constexpr std::int32_t kOwnedX = 0x5A5B5C5D;
const std::string kOwnedMarker = "\x5D\x5C\x5B\x5A";
constexpr char kLabelMarker[] = "LABEL-MARKER";
// Point's entry in the type table: name length, name, version 1. Layouts that name Point
// follow the name with another field's name or descriptor, never with 0x01.
const std::string kPointDefinition = "\x0Dhostile.Point\x01";

std::string doc_archive() {
  brine::Registry registry;
  return hostile::archive_of(hostile::make_doc(), registry);
}

Doc load_doc(const std::string& bytes, const brine::LoadOptions& options = {}) {
  brine::Registry registry;
  return brine::from_binary<Doc>(bytes, registry, options);
}

brine::Value load_value(const std::string& bytes) {
  brine::Registry registry;
  brine::MemorySource source(bytes);
  brine::BinaryReader reader(source, registry);
  return reader.read_value();
}

// ------------------------------------------------------------------------- header

TEST(BinaryReaderRejects, EmptyInput) {
  EXPECT_EQ(load_doc(doc_archive()), hostile::make_doc());
  auto e = hostile::expect_error<brine::FormatError>([] { load_doc(""); },
                                                     "input of 0 bytes is too short");
  EXPECT_EQ(e.code(), brine::errc::truncated_input);
  EXPECT_EQ(e.context().byte_offset, 0u);
}

TEST(BinaryReaderRejects, BadMagicBytes) {
  std::string bytes = doc_archive();
  EXPECT_EQ(load_doc(bytes), hostile::make_doc());
  bytes[1] = 'X';
  auto e = hostile::expect_error<brine::FormatError>(
      [&] { load_doc(bytes); }, "not a brine binary archive (bad magic bytes)");
  EXPECT_EQ(e.code(), brine::errc::corrupt_data);
  // Offsets are the reader's position after the offending bytes: here, the header.
  EXPECT_EQ(e.context().byte_offset, hostile::kHeaderSize);
}

TEST(BinaryReaderRejects, FilesThatAreNotBrineArchives) {
  EXPECT_EQ(load_doc(doc_archive()), hostile::make_doc());
  const std::string not_archives[] = {
      "hello, this is a text file and not an archive\n",
      "hi",
      std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10", 20),  // same first byte as brine
      std::string("PK\x03\x04\x14\0\0\0\x08\0", 10),               // a zip file
      "{\"format\": \"brine-json\", \"format_version\": 1, \"values\": []}",
  };
  for (const std::string& bytes : not_archives) {
    SCOPED_TRACE(bytes);
    auto e = hostile::expect_error<brine::FormatError>([&] { load_doc(bytes); },
                                                       "not a brine binary archive");
    EXPECT_EQ(e.code(), brine::errc::corrupt_data);
  }
  // A stable (CBOR) archive is a brine archive, but not a binary one.
  brine::Registry registry;
  brine::Buffer stable = brine::to_stable(hostile::make_doc(), registry);
  EXPECT_EQ(brine::from_stable<Doc>(stable.view(), registry), hostile::make_doc());
  auto e = hostile::expect_error<brine::FormatError>([&] { load_doc(std::string(stable.view())); },
                                                     "not a brine binary archive");
  EXPECT_EQ(e.code(), brine::errc::corrupt_data);
}

TEST(BinaryReaderRejects, NewerFormatVersion) {
  std::string bytes = doc_archive();
  ASSERT_EQ(bytes[10], 2);  // version 2 since tensors (binary-v1.md §13)
  EXPECT_EQ(load_doc(bytes), hostile::make_doc());
  bytes[10] = 3;
  auto e = hostile::expect_error<brine::VersionError>([&] { load_doc(bytes); },
                                                      "archive written in binary format version 3");
  EXPECT_EQ(e.code(), brine::errc::newer_format_version);
  EXPECT_NE(std::string(e.what()).find("upgrade brine"), std::string::npos) << e.what();
  bytes[10] = 0;
  bytes[11] = 1;  // 256
  hostile::expect_error<brine::VersionError>([&] { load_doc(bytes); }, "binary format version 256");
}

TEST(BinaryReaderRejects, FormatVersionZeroAndOtherArchiveKinds) {
  std::string bytes = doc_archive();
  EXPECT_EQ(load_doc(bytes), hostile::make_doc());
  std::string v0 = bytes;
  v0[10] = 0;
  auto e = hostile::expect_error<brine::FormatError>([&] { load_doc(v0); },
                                                     "binary format version 0 does not exist");
  EXPECT_EQ(e.code(), brine::errc::corrupt_data);
  std::string kind2 = bytes;
  kind2[8] = 2;
  e = hostile::expect_error<brine::FormatError>([&] { load_doc(kind2); },
                                                "brine archive of kind 2 is not a binary archive");
  EXPECT_EQ(e.code(), brine::errc::corrupt_data);
}

// ------------------------------------------------------------------------- blocks

TEST(BinaryReaderRejects, ChecksumMismatchNamesBlockAndOffset) {
  std::string bytes = doc_archive();
  EXPECT_EQ(load_doc(bytes), hostile::make_doc());
  std::uint64_t title = hostile::offset_at(bytes, hostile::kTitleMarker, 0);
  bytes[title] = 't';
  auto e = hostile::expect_error<brine::FormatError>([&] { load_doc(bytes); },
                                                     "checksum mismatch in block 0");
  EXPECT_EQ(e.code(), brine::errc::checksum_mismatch);
  EXPECT_EQ(e.context().byte_offset, hostile::kHeaderSize) << "the block's header";
  // Without verification the same bytes decode, to a different title.
  brine::LoadOptions trusting;
  trusting.verify_checksums = false;
  EXPECT_EQ(load_doc(bytes, trusting).title, "tITLE-MARKER");
}

TEST(BinaryReaderRejects, UnknownBlockKindAndEmptyDataBlock) {
  std::string bytes = doc_archive();
  EXPECT_EQ(load_doc(bytes), hostile::make_doc());
  std::string kind = bytes;
  kind[hostile::kHeaderSize + 3] = 7;  // the kind is the high byte of the little-endian u32
  auto e =
      hostile::expect_error<brine::FormatError>([&] { load_doc(kind); }, "unknown block kind 7");
  EXPECT_EQ(e.code(), brine::errc::corrupt_data);
  EXPECT_EQ(e.context().byte_offset, hostile::kHeaderSize);

  hostile::Archive a = hostile::parse_archive(bytes);
  a.blocks.insert(a.blocks.begin(), hostile::Block{hostile::kDataBlock, "", 0});
  e = hostile::expect_error<brine::FormatError>([&] { load_doc(hostile::serialize(a)); },
                                                "empty data block");
  EXPECT_EQ(e.code(), brine::errc::corrupt_data);
}

TEST(BinaryReaderRejects, EndBlockOfWrongSize) {
  std::string bytes = doc_archive();
  hostile::Archive a = hostile::parse_archive(bytes);
  ASSERT_EQ(a.blocks.back().kind, hostile::kEndBlock);
  a.blocks.back().payload += "x";
  std::string bad = hostile::serialize(a);
  auto read_to_end = [](const std::string& archive) {
    brine::Registry registry;
    brine::MemorySource source(archive);
    brine::BinaryReader reader(source, registry);
    Doc d = reader.read<Doc>();
    return d == hostile::make_doc() && reader.at_end();
  };
  EXPECT_TRUE(read_to_end(bytes));
  auto e = hostile::expect_error<brine::FormatError>([&] { read_to_end(bad); },
                                                     "end block of 17 bytes (expected 16)");
  EXPECT_EQ(e.code(), brine::errc::corrupt_data);
}

TEST(BinaryReaderRejects, TrailingBytesAfterTheValue) {
  std::string bytes = doc_archive();
  EXPECT_EQ(load_doc(bytes), hostile::make_doc());
  hostile::Archive a = hostile::parse_archive(bytes);
  a.blocks.front().payload += '\0';
  auto e = hostile::expect_error<brine::FormatError>([&] { load_doc(hostile::serialize(a)); },
                                                     "unexpected bytes after the value");
  EXPECT_EQ(e.code(), brine::errc::corrupt_data);
}

TEST(BinaryReaderRejects, UnknownRecordTag) {
  std::string bytes = doc_archive();
  EXPECT_EQ(load_doc(bytes), hostile::make_doc());
  hostile::Archive a = hostile::parse_archive(bytes);
  a.blocks.front().payload[0] = 0x09;
  auto e = hostile::expect_error<brine::FormatError>([&] { load_doc(hostile::serialize(a)); },
                                                     "unknown record tag 9");
  EXPECT_EQ(e.code(), brine::errc::corrupt_data);
  EXPECT_EQ(e.context().byte_offset, hostile::kHeaderSize + hostile::kBlockHeaderSize + 1);
}

// ------------------------------------------------------------------------- types

TEST(BinaryReaderRejects, UnknownDynamicType) {
  brine::Registry writer;
  hostile::register_graph(writer);
  hostile::Graph g = hostile::make_graph();
  std::string bytes = hostile::archive_of(g, writer);
  hostile::dismantle(g);

  brine::Registry full;
  hostile::register_graph(full);
  hostile::Graph loaded = brine::from_binary<hostile::Graph>(bytes, full);
  EXPECT_TRUE(hostile::is_original_graph(loaded));
  hostile::dismantle(loaded);

  brine::Registry partial;  // knows Node and Branch, not Leaf
  partial.add<hostile::Node>();
  partial.add<hostile::Branch>().bases<hostile::Node>();
  auto e = hostile::expect_error<brine::SchemaError>(
      [&] {
        hostile::Graph g2 = brine::from_binary<hostile::Graph>(bytes, partial);
        hostile::dismantle(g2);
      },
      "unknown type 'hostile.Leaf': not registered in this program");
  EXPECT_EQ(e.code(), brine::errc::unknown_type);
  EXPECT_TRUE(e.context().byte_offset.has_value());
}

// A dynamic type that is registered, but not as a subclass of the pointer's type, is not
// loaded into that pointer: the cast would be undefined behaviour.
TEST(BinaryReaderRejects, RegisteredDynamicTypeUnrelatedToThePointer) {
  brine::Registry writer;
  hostile::register_graph(writer);
  hostile::Graph g = hostile::make_graph();
  std::string bytes = hostile::archive_of(g, writer);
  hostile::dismantle(g);

  brine::Registry forgot_bases;  // Leaf registered without .bases<Node>()
  forgot_bases.add<hostile::Node>();
  forgot_bases.add<hostile::Branch>().bases<hostile::Node>();
  forgot_bases.add<hostile::Leaf>();
  auto e = hostile::expect_error<brine::SchemaError>(
      [&] {
        hostile::Graph g2 = brine::from_binary<hostile::Graph>(bytes, forgot_bases);
        hostile::dismantle(g2);
      },
      "archived object of type 'hostile.Leaf' is not a registered subclass of 'hostile.Node'");
  EXPECT_EQ(e.code(), brine::errc::type_mismatch);
}

TEST(BinaryReaderRejects, NewerClassVersionInTheTypeTable) {
  std::string bytes = doc_archive();
  EXPECT_EQ(load_doc(bytes), hostile::make_doc());
  // The definition: name length, name, version (the value's descriptor names the type too,
  // but is followed by the title's length, not by the version 1).
  std::string definition = std::string("\x0Bhostile.Doc\x01");
  ASSERT_EQ(hostile::byte_at(bytes, definition, 12), 1);
  std::string newer = hostile::edit_at(bytes, definition, 12, 1, "\x09");
  auto e = hostile::expect_error<brine::VersionError>(
      [&] { load_doc(newer); },
      "archive written by class version 9 of 'hostile.Doc', this build knows up to 1");
  EXPECT_EQ(e.code(), brine::errc::newer_class_version);
}

TEST(BinaryReaderRejects, ValueOfATypeTheArchiveNeverDefines) {
  std::string bytes = doc_archive();
  EXPECT_EQ(load_doc(bytes), hostile::make_doc());
  // Rename Point in its definition: Doc's layout still names 'hostile.Point'.
  std::string renamed = hostile::edit_at(bytes, kPointDefinition, 1, 13, "hostile.Poin_");
  auto e = hostile::expect_error<brine::FormatError>(
      [&] { load_doc(renamed); }, "'hostile.Point' but the archive defines no such type");
  EXPECT_EQ(e.code(), brine::errc::corrupt_data);
  auto v = hostile::expect_error<brine::FormatError>(
      [&] { load_value(renamed); },
      "layout names type 'hostile.Point', which the archive does not define");
  EXPECT_EQ(v.code(), brine::errc::corrupt_data);
}

TEST(BinaryReaderRejects, TypeDefinedTwice) {
  std::string bytes = doc_archive();
  EXPECT_EQ(load_doc(bytes), hostile::make_doc());
  // Point's definition renamed in place to the name Doc's definition already took.
  std::string same_name = hostile::edit_at(bytes, kPointDefinition, 0, 14, "\x0Bhostile.Doc");
  auto e = hostile::expect_error<brine::FormatError>([&] { load_doc(same_name); },
                                                     "type 'hostile.Doc' defined twice");
  EXPECT_EQ(e.code(), brine::errc::corrupt_data);
}

// Functions are loaded by registered name only, and only into a field of their signature.
TEST(BinaryReaderRejects, UnknownOrMismatchedFunction) {
  brine::Registry writer;
  writer.add_function("hostile.twice", &hostile::twice);
  std::string bytes = hostile::archive_of(hostile::Activation{&hostile::twice}, writer);
  EXPECT_EQ(brine::from_binary<hostile::Activation>(bytes, writer).fn, &hostile::twice);

  brine::Registry missing;
  missing.add_function("hostile.twice_", &hostile::twice);
  auto e = hostile::expect_error<brine::SchemaError>(
      [&] { brine::from_binary<hostile::Activation>(bytes, missing); }, "hostile.twice");
  EXPECT_EQ(e.code(), brine::errc::unknown_type);
  EXPECT_EQ(e.context().field_path, "fn");

  brine::Registry other_signature;
  other_signature.add_function("hostile.twice", &hostile::twice_double);
  e = hostile::expect_error<brine::SchemaError>(
      [&] { brine::from_binary<hostile::Activation>(bytes, other_signature); },
      "function 'hostile.twice' has signature");
  EXPECT_EQ(e.code(), brine::errc::type_mismatch);

  brine::Registry callable;
  callable.add_callable<float(float)>("hostile.twice", [](float x) { return 2 * x; });
  e = hostile::expect_error<brine::SchemaError>(
      [&] { brine::from_binary<hostile::Activation>(bytes, callable); },
      "'hostile.twice' is a registered callable, not a plain function");
  EXPECT_EQ(e.code(), brine::errc::type_mismatch);
}

// ------------------------------------------------------------------------- pointers

std::string pair_archive(brine::Registry& registry) {
  hostile::Pair p;
  p.a = std::make_shared<hostile::Point>(hostile::Point{1, 2});
  p.b = std::make_shared<hostile::Label>(hostile::Label{kLabelMarker});
  return hostile::archive_of(p, registry);
}

TEST(BinaryReaderRejects, BackReferenceToAnIdNeverDefined) {
  brine::Registry registry;
  auto shared = std::make_shared<hostile::Point>(hostile::Point{kOwnedX, 0});
  std::vector<std::shared_ptr<hostile::Point>> twice{shared, shared};
  std::string bytes = hostile::archive_of(twice, registry);
  auto loaded = brine::from_binary<std::vector<std::shared_ptr<hostile::Point>>>(bytes, registry);
  ASSERT_EQ(loaded.size(), 2u);
  EXPECT_EQ(loaded[0], loaded[1]);
  // The second element is the back reference tag 2 + id 0, right after the first Point.
  ASSERT_EQ(hostile::byte_at(bytes, kOwnedMarker, 8), 2);
  std::string undefined = hostile::edit_at(bytes, kOwnedMarker, 8, 1, hostile::varint(2 + 57));
  auto e = hostile::expect_error<brine::FormatError>(
      [&] {
        brine::from_binary<std::vector<std::shared_ptr<hostile::Point>>>(undefined, registry);
      },
      "reference to shared object 57, which was not defined before");
  EXPECT_EQ(e.code(), brine::errc::corrupt_data);
  EXPECT_EQ(e.context().byte_offset, hostile::offset_at(undefined, kOwnedMarker, 9))
      << "just after the tag";
  auto v = hostile::expect_error<brine::FormatError>(
      [&] { load_value(undefined); },
      "reference to shared object 57, which was not defined before");
  EXPECT_EQ(v.code(), brine::errc::corrupt_data);
  // Id 0 is the first Point; id 1 is the first one not defined yet.
  std::string next = hostile::edit_at(bytes, kOwnedMarker, 8, 1, hostile::varint(2 + 1));
  hostile::expect_error<brine::FormatError>(
      [&] { brine::from_binary<std::vector<std::shared_ptr<hostile::Point>>>(next, registry); },
      "reference to shared object 1, which was not defined before");
}

TEST(BinaryReaderRejects, BackReferenceInAnOwningPointer) {
  brine::Registry registry;
  hostile::Owner o;
  o.shared = std::make_shared<hostile::Point>(hostile::Point{1, 2});
  o.owned = std::make_unique<hostile::Point>(hostile::Point{kOwnedX, 3});
  std::string bytes = hostile::archive_of(o, registry);
  hostile::Owner loaded = brine::from_binary<hostile::Owner>(bytes, registry);
  ASSERT_TRUE(loaded.owned);
  EXPECT_EQ(*loaded.owned, (hostile::Point{kOwnedX, 3}));
  // owned = [1 (new)][type index][x][y]: replace it all by a reference to the shared Point.
  ASSERT_EQ(hostile::byte_at(bytes, kOwnedMarker, -2), 1);
  std::string aliased = hostile::edit_at(bytes, kOwnedMarker, -2, 10, "\x02");
  auto e = hostile::expect_error<brine::FormatError>(
      [&] { brine::from_binary<hostile::Owner>(aliased, registry); },
      "back reference in an owning (unique) pointer");
  EXPECT_EQ(e.code(), brine::errc::corrupt_data);
  EXPECT_EQ(e.context().type_name, "hostile.Owner");
  EXPECT_EQ(e.context().field_path, "owned");
  hostile::expect_error<brine::FormatError>([&] { load_value(aliased); },
                                            "back reference in an owning (unique) pointer");
}

// The same reference, where the archive's layout of Owner says 'owned' is a shared pointer:
// the layout differs from this build's, so the value goes through the state model, and
// the reference must still not reach the unique_ptr (found by the fuzzer: a Branch that
// owned itself, destroyed recursively).
TEST(BinaryReaderRejects, BackReferenceInAnOwningPointerThroughTheStatePath) {
  brine::Registry registry;
  hostile::Owner o;
  o.shared = std::make_shared<hostile::Point>(hostile::Point{1, 2});
  o.owned = std::make_unique<hostile::Point>(hostile::Point{kOwnedX, 3});
  std::string bytes = hostile::archive_of(o, registry);
  const std::string owned_field = "\x05owned\x32";  // name, then 'unique' in Owner's layout
  std::string shared_layout = hostile::edit_at(bytes, owned_field, 6, 1, "\x31");
  hostile::Owner via_state = brine::from_binary<hostile::Owner>(shared_layout, registry);
  ASSERT_TRUE(via_state.owned) << "a shared pointer in the archive loads into the unique_ptr";
  EXPECT_EQ(*via_state.owned, (hostile::Point{kOwnedX, 3}));
  std::string aliased = hostile::edit_at(shared_layout, kOwnedMarker, -2, 10, "\x02");
  auto e = hostile::expect_error<brine::FormatError>(
      [&] { brine::from_binary<hostile::Owner>(aliased, registry); },
      "back reference in an owning (unique) pointer");
  EXPECT_EQ(e.code(), brine::errc::corrupt_data);
}

TEST(BinaryReaderRejects, BackReferenceToAnObjectOfAnUnrelatedType) {
  brine::Registry registry;
  std::string bytes = pair_archive(registry);
  hostile::Pair loaded = brine::from_binary<hostile::Pair>(bytes, registry);
  ASSERT_TRUE(loaded.b);
  EXPECT_EQ(loaded.b->text, kLabelMarker);
  // b = [1][type index][text length][text]: make it a reference to a, a Point.
  std::size_t label = sizeof kLabelMarker - 1;
  ASSERT_EQ(hostile::byte_at(bytes, kLabelMarker, -3), 1);
  std::string crossed = hostile::edit_at(bytes, kLabelMarker, -3, 3 + label, "\x02");
  auto e = hostile::expect_error<brine::SchemaError>(
      [&] { brine::from_binary<hostile::Pair>(crossed, registry); },
      "shared object of type 'hostile.Point' is referenced through a pointer to unrelated type "
      "'hostile.Label'");
  EXPECT_EQ(e.code(), brine::errc::type_mismatch);
  EXPECT_EQ(e.context().field_path, "b");
}

TEST(BinaryReaderRejects, PointerTypeIndexNeverDefined) {
  brine::Registry registry;
  std::string bytes = pair_archive(registry);
  EXPECT_EQ(brine::from_binary<hostile::Pair>(bytes, registry).b->text, kLabelMarker);
  std::string index = hostile::edit_at(bytes, kLabelMarker, -2, 1, hostile::varint(40));
  auto e = hostile::expect_error<brine::FormatError>(
      [&] { brine::from_binary<hostile::Pair>(index, registry); }, "type index 40 is not defined");
  EXPECT_EQ(e.code(), brine::errc::corrupt_data);
  hostile::expect_error<brine::FormatError>([&] { load_value(index); },
                                            "type index 40 is not defined");
}

// ------------------------------------------------------------------------- values

TEST(BinaryReaderRejects, VariantIndexOutOfRange) {
  std::string bytes = doc_archive();
  EXPECT_EQ(load_doc(bytes), hostile::make_doc());
  // choice = [index 1][length][text]
  ASSERT_EQ(hostile::byte_at(bytes, hostile::kChoiceMarker, -2), 1);
  std::string bad = hostile::edit_at(bytes, hostile::kChoiceMarker, -2, 1, "\x05");
  auto e = hostile::expect_error<brine::FormatError>(
      [&] { load_doc(bad); }, "variant index 5 out of range (2 alternatives)");
  EXPECT_EQ(e.code(), brine::errc::corrupt_data);
  EXPECT_EQ(e.context().type_name, "hostile.Doc");
  EXPECT_EQ(e.context().field_path, "choice");
  EXPECT_EQ(e.context().byte_offset, hostile::offset_at(bad, hostile::kChoiceMarker, -1));
  hostile::expect_error<brine::FormatError>([&] { load_value(bad); },
                                            "variant index 5 out of range (2 alternatives)");
  // A huge index is no different.
  std::string huge =
      hostile::edit_at(bytes, hostile::kChoiceMarker, -2, 1, hostile::varint(~std::uint64_t{0}));
  hostile::expect_error<brine::FormatError>([&] { load_doc(huge); },
                                            "variant index 18446744073709551615 out of range");
}

TEST(BinaryReaderRejects, BooleanByteOfSeven) {
  std::string bytes = doc_archive();
  EXPECT_EQ(load_doc(bytes), hostile::make_doc());
  std::ptrdiff_t flag = sizeof hostile::kTitleMarker - 1;  // right after the title
  ASSERT_EQ(hostile::byte_at(bytes, hostile::kTitleMarker, flag), 1);
  std::string bad = hostile::edit_at(bytes, hostile::kTitleMarker, flag, 1, "\x07");
  auto e = hostile::expect_error<brine::FormatError>([&] { load_doc(bad); },
                                                     "boolean byte 7 is neither 0 nor 1");
  EXPECT_EQ(e.code(), brine::errc::corrupt_data);
  EXPECT_EQ(e.context().field_path, "flag");
  EXPECT_EQ(e.context().byte_offset, hostile::offset_at(bad, hostile::kTitleMarker, flag + 1));
  hostile::expect_error<brine::FormatError>([&] { load_value(bad); },
                                            "boolean byte 7 is neither 0 nor 1");
}

TEST(BinaryReaderRejects, OptionalPresenceByteOfSeven) {
  std::string bytes = doc_archive();
  EXPECT_EQ(load_doc(bytes), hostile::make_doc());
  // note = [present 1][length][text]
  ASSERT_EQ(hostile::byte_at(bytes, hostile::kNoteMarker, -2), 1);
  std::string bad = hostile::edit_at(bytes, hostile::kNoteMarker, -2, 1, "\x07");
  auto e = hostile::expect_error<brine::FormatError>([&] { load_doc(bad); },
                                                     "boolean byte 7 is neither 0 nor 1");
  EXPECT_EQ(e.context().field_path, "note");
  hostile::expect_error<brine::FormatError>([&] { load_value(bad); },
                                            "boolean byte 7 is neither 0 nor 1");
}

TEST(BinaryReaderRejects, DuplicateMapKeyAndSetElement) {
  std::string bytes = doc_archive();
  EXPECT_EQ(load_doc(bytes), hostile::make_doc());
  // ids = {-3, 0x5151} -> {-3, -3} (int16 little-endian).
  hostile::Doc d = hostile::make_doc();
  d.ids = {-3, 0x5151};
  brine::Registry registry;
  std::string with_ids = hostile::archive_of(d, registry);
  EXPECT_EQ(load_doc(with_ids).ids, d.ids);
  std::string dup = hostile::edit_at(with_ids, "\x51\x51", 0, 2, "\xFD\xFF");
  auto e =
      hostile::expect_error<brine::FormatError>([&] { load_doc(dup); }, "duplicate set element");
  EXPECT_EQ(e.code(), brine::errc::corrupt_data);
  EXPECT_EQ(e.context().field_path, "ids");

  d = hostile::make_doc();
  d.points = {{"AAAA-KEY", hostile::Point{}}, {"BBBB-KEY", hostile::Point{}}};
  with_ids = hostile::archive_of(d, registry);
  EXPECT_EQ(load_doc(with_ids).points, d.points);
  std::string dup_key = hostile::edit_at(with_ids, "BBBB-KEY", 0, 4, "AAAA");
  hostile::expect_error<brine::FormatError>([&] { load_doc(dup_key); }, "duplicate map key");
  hostile::expect_error<brine::FormatError>([&] { load_value(dup_key); }, "duplicate map key");
}

TEST(BinaryReaderRejects, OverlongVarint) {
  std::string bytes = doc_archive();
  EXPECT_EQ(load_doc(bytes), hostile::make_doc());
  // The title's length as eleven continuation bytes: more than 64 bits.
  std::string overlong =
      hostile::edit_at(bytes, hostile::kTitleMarker, -1, 1, std::string(11, '\x80') + "\x01");
  auto e = hostile::expect_error<brine::FormatError>([&] { load_doc(overlong); },
                                                     "varint longer than 64 bits");
  EXPECT_EQ(e.code(), brine::errc::corrupt_data);
  // Ten bytes whose last one carries bits above 2^64.
  std::string wide =
      hostile::edit_at(bytes, hostile::kTitleMarker, -1, 1, std::string(9, '\xFF') + "\x02");
  hostile::expect_error<brine::FormatError>([&] { load_doc(wide); }, "varint longer than 64 bits");
}

// The title's length as eleven continuation bytes, split over two data blocks: the reader
// gathers a varint that runs past its block (the slow path) and refuses it all the same.
TEST(BinaryReaderRejects, OverlongVarintAcrossBlocks) {
  std::string bytes = doc_archive();
  std::string overlong =
      hostile::edit_at(bytes, hostile::kTitleMarker, -1, 1, std::string(11, '\x80') + "\x01");
  hostile::Archive a = hostile::parse_archive(overlong);
  hostile::Location at = hostile::locate(a, hostile::kTitleMarker);
  hostile::Block second;
  second.payload = a.blocks[at.block].payload.substr(at.offset - 6);
  a.blocks[at.block].payload.resize(at.offset - 6);
  a.blocks.insert(a.blocks.begin() + static_cast<std::ptrdiff_t>(at.block) + 1, second);
  std::string split = hostile::serialize(a);
  // The same bytes in one block and in two: the split alone is harmless.
  hostile::Archive whole = hostile::parse_archive(bytes);
  hostile::Location title = hostile::locate(whole, hostile::kTitleMarker);
  hostile::Block rest;
  rest.payload = whole.blocks[title.block].payload.substr(title.offset - 1);
  whole.blocks[title.block].payload.resize(title.offset - 1);
  whole.blocks.insert(whole.blocks.begin() + static_cast<std::ptrdiff_t>(title.block) + 1, rest);
  EXPECT_EQ(load_doc(hostile::serialize(whole)), hostile::make_doc());

  auto e = hostile::expect_error<brine::FormatError>([&] { load_doc(split); },
                                                     "varint longer than 64 bits");
  EXPECT_EQ(e.code(), brine::errc::corrupt_data);
  EXPECT_TRUE(e.context().byte_offset.has_value());
  hostile::expect_error<brine::FormatError>([&] { load_value(split); },
                                            "varint longer than 64 bits");
  std::istringstream in(split);
  brine::StreamSource source(in);
  brine::Registry registry;
  brine::BinaryReader reader(source, registry);
  hostile::expect_error<brine::FormatError>([&] { reader.read<Doc>(); },
                                            "varint longer than 64 bits");
}

// A varint whose bytes stop at the end of the last data block is truncated input.
TEST(BinaryReaderRejects, VarintCutAtTheEndOfTheData) {
  std::string bytes = doc_archive();
  hostile::Archive a = hostile::parse_archive(bytes);
  hostile::Location at = hostile::locate(a, hostile::kTitleMarker);
  a.blocks[at.block].payload.resize(at.offset - 1);
  a.blocks[at.block].payload += "\x80\x80";
  auto e = hostile::expect_error<brine::FormatError>([&] { load_doc(hostile::serialize(a)); },
                                                     "archive data ends inside a value");
  EXPECT_EQ(e.code(), brine::errc::truncated_input);
  EXPECT_TRUE(e.context().byte_offset.has_value());
}

// The layout of a type, read from the type table, counts its fields with a varint: an
// overlong one is refused, at its own offset in the archive (the layout's reader knows its
// offset in the layout only; the binary reader places it).
TEST(BinaryReaderRejects, OverlongVarintInLayout) {
  std::string bytes = doc_archive();
  const std::string definition = std::string("\x0Bhostile.Doc\x01");
  hostile::Archive a = hostile::parse_archive(bytes);
  hostile::Location at = hostile::locate(a, definition);
  std::string& payload = a.blocks[at.block].payload;
  std::size_t length_at = at.offset + definition.size();
  // The layout's length (a varint), then its field count (one byte for Doc).
  std::uint64_t length = 0;
  std::size_t pos = length_at;
  for (int shift = 0;; shift += 7) {
    auto b = static_cast<unsigned char>(payload[pos++]);
    length |= static_cast<std::uint64_t>(b & 0x7F) << shift;
    if (b < 0x80) break;
  }
  ASSERT_LT(static_cast<unsigned char>(payload[pos]), 0x80);
  // Ten bytes whose last carries bits above 2^64, in place of the one-byte count.
  std::string wide = std::string(9, '\xFF') + "\x02";
  std::string new_length = hostile::varint(length + wide.size() - 1);
  payload.replace(pos, 1, wide);
  payload.replace(length_at, pos - length_at, new_length);
  std::string edited = hostile::serialize(a);
  const std::uint64_t count_offset =
      a.blocks[at.block].offset + hostile::kBlockHeaderSize + length_at + new_length.size();

  auto e = hostile::expect_error<brine::FormatError>([&] { load_doc(edited); },
                                                     "varint longer than 64 bits");
  EXPECT_EQ(e.code(), brine::errc::corrupt_data);
  EXPECT_NE(std::string(e.what()).find("invalid layout of type 'hostile.Doc'"), std::string::npos);
  EXPECT_EQ(e.context().byte_offset, count_offset);
  auto v = hostile::expect_error<brine::FormatError>([&] { load_value(edited); },
                                                     "varint longer than 64 bits");
  EXPECT_EQ(v.context().byte_offset, count_offset);
}

TEST(BinaryReaderRejects, WrongTopLevelType) {
  std::string bytes = doc_archive();
  EXPECT_EQ(load_doc(bytes), hostile::make_doc());
  brine::Registry registry;
  auto e = hostile::expect_error<brine::SchemaError>(
      [&] { brine::from_binary<hostile::Point>(bytes, registry); },
      "expected an object of type 'hostile.Point', found 'hostile.Doc'");
  EXPECT_EQ(e.code(), brine::errc::type_mismatch);
}

TEST(BinaryReaderRejects, ReadingPastTheEndMarker) {
  std::string bytes = doc_archive();
  brine::Registry registry;
  brine::MemorySource source(bytes);
  brine::BinaryReader reader(source, registry);
  EXPECT_EQ(reader.read<Doc>(), hostile::make_doc());
  EXPECT_TRUE(reader.at_end());
  auto e = hostile::expect_error<brine::FormatError>([&] { reader.read<Doc>(); },
                                                     "the archive's end marker was reached");
  EXPECT_EQ(e.code(), brine::errc::truncated_input);
}

}  // namespace
