// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// archive_file_test.cpp: ArchiveFileWriter / ArchiveFileReader, several values in one file, on
// every encoding: round trips, skip, at_end, abandon, and errors that name the file.

#include <brine/brine.hpp>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "sample_types.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using namespace brine_test;

template <brine::Encoding E>
struct Enc {
  static constexpr brine::Encoding value = E;
};
template <class P>
class ArchiveFile : public ::testing::Test {
 protected:
  static constexpr brine::Encoding encoding = P::value;
  void SetUp() override { register_shapes(registry); }
  fs::path file(const std::string& name = "values.archive") const { return dir / name; }
  std::vector<fs::path> names_in_dir() const {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir.path())) out.push_back(e.path().filename());
    return out;
  }
  brine::Registry registry;
  TempDir dir;
};
using Encodings = ::testing::Types<Enc<brine::Encoding::binary>, Enc<brine::Encoding::stable>,
                                   Enc<brine::Encoding::json>>;
TYPED_TEST_SUITE(ArchiveFile, Encodings);

TYPED_TEST(ArchiveFile, RoundTripsMixedTypesInOrder) {
  const std::map<std::string, int> counts{{"a", 1}, {"b", 2}};
  {
    brine::ArchiveFileWriter out(this->file(), this->encoding, this->registry);
    EXPECT_EQ(out.encoding(), this->encoding);
    out.write(make_everything());
    out.write(std::int64_t{-42});
    out.write(std::string("between"));
    out.write(make_scene());
    out.write(counts);
    out.write(std::vector<double>{0.5, 1.5});
    EXPECT_EQ(out.values_written(), 6u);
    EXPECT_FALSE(fs::exists(this->file())) << "visible before commit";
    out.commit();
    EXPECT_FALSE(out.is_open());
  }
  brine::ArchiveFileReader in(this->file(), this->registry);
  EXPECT_EQ(in.encoding(), this->encoding);
  EXPECT_FALSE(in.at_end());
  expect_everything(in.next<Everything>());
  EXPECT_EQ(in.next<std::int64_t>(), -42);
  EXPECT_EQ(in.next<std::string>(), "between");
  expect_scene(in.next<Scene>());
  EXPECT_EQ((in.next<std::map<std::string, int>>()), counts);
  std::vector<double> v;
  in.next(v);
  EXPECT_EQ(v, (std::vector<double>{0.5, 1.5}));
  EXPECT_TRUE(in.at_end());
  EXPECT_EQ(in.values_read(), 6u);
}

TYPED_TEST(ArchiveFile, SkipsValuesAndLaterValuesStillLoad) {
  // The second scene reuses what the first one defined: the binary type table (a subclass is
  // defined inline at its first pointer), the stable stringref table and shareable count.
  Scene second = make_scene();
  second.shapes[1]->name = "second";
  {
    brine::ArchiveFileWriter out(this->file(), this->encoding, this->registry);
    out.write(make_scene());
    out.write(std::vector<std::string>(100, "a repeated string"));
    out.write(second);
    out.write(make_scene());
    out.commit();
  }
  brine::ArchiveFileReader in(this->file(), this->registry);
  in.skip();
  in.skip();
  EXPECT_EQ(in.values_read(), 2u);
  Scene loaded = in.next<Scene>();
  ASSERT_EQ(loaded.shapes.size(), 3u);
  EXPECT_EQ(loaded.shapes[0], loaded.shapes[2]) << "sharing lost";
  EXPECT_EQ(loaded.shapes[1]->name, "second");
  EXPECT_EQ(loaded.focus.lock(), loaded.shapes[1]);
  in.skip();
  EXPECT_TRUE(in.at_end());
  EXPECT_THROW_WITH(in.skip(), brine::FormatError, this->file().string());

  // And the other way round: read, skip the middle, read.
  brine::ArchiveFileReader again(this->file(), this->registry);
  expect_scene(again.next<Scene>());
  again.skip();
  again.skip();
  expect_scene(again.next<Scene>());
  EXPECT_TRUE(again.at_end());
}

TYPED_TEST(ArchiveFile, SkipsAValueOfATypeThisProgramDoesNotKnow) {
  brine::Registry writer_registry;
  register_shapes(writer_registry);
  writer_registry.add<Unregistered>().bases<Shape>();
  Scene odd = make_scene();
  odd.shapes.push_back(std::make_shared<Unregistered>());
  {
    brine::ArchiveFileWriter out(this->file(), this->encoding, writer_registry);
    out.write(odd);
    out.write(std::string("after"));
    out.commit();
  }
  brine::ArchiveFileReader in(this->file(), this->registry);  // knows no test.Unregistered
  in.skip();
  EXPECT_EQ(in.next<std::string>(), "after");
  brine::ArchiveFileReader reading(this->file(), this->registry);
  EXPECT_THROW_WITH(reading.next<Scene>(), brine::SchemaError, "test.Unregistered");
}

TYPED_TEST(ArchiveFile, EmptyArchiveIsAtEndAtOnce) {
  brine::ArchiveFileWriter out(this->file(), this->encoding, this->registry);
  out.commit();
  brine::ArchiveFileReader in(this->file(), this->registry);
  EXPECT_TRUE(in.at_end());
  EXPECT_THROW_WITH(in.next<int>(), brine::FormatError, "no value left to read");
}

TYPED_TEST(ArchiveFile, ReadingPastTheEndIsATypedErrorNamingTheFile) {
  {
    brine::ArchiveFileWriter out(this->file(), this->encoding, this->registry);
    out.write(1);
    out.write(2);
    out.commit();
  }
  brine::ArchiveFileReader in(this->file(), this->registry);
  EXPECT_EQ(in.next<int>(), 1);
  EXPECT_EQ(in.next<int>(), 2);
  try {
    in.next<int>();
    FAIL() << "read past the end";
  } catch (const brine::FormatError& e) {
    EXPECT_EQ(e.code(), brine::errc::truncated_input);
    EXPECT_EQ(e.context().source, this->file().string());
    EXPECT_NE(std::string(e.what()).find("all 2 values of the"), std::string::npos) << e.what();
  }
  EXPECT_THROW_WITH(in.next_value(), brine::FormatError, this->file().string());
}

TYPED_TEST(ArchiveFile, WrongTypeIsASchemaErrorNamingTheFile) {
  {
    brine::ArchiveFileWriter out(this->file(), this->encoding, this->registry);
    out.write(make_scene());
    out.commit();
  }
  brine::ArchiveFileReader in(this->file(), this->registry);
  try {
    in.next<Inner>();
    FAIL() << "a Scene loaded as an Inner";
  } catch (const brine::SchemaError& e) {
    EXPECT_EQ(e.context().source, this->file().string()) << e.what();
    EXPECT_NE(std::string(e.what()).find("test.Scene"), std::string::npos) << e.what();
  }
}

TYPED_TEST(ArchiveFile, DestroyedWithoutCommitLeavesNoFile) {
  {
    brine::ArchiveFileWriter out(this->file(), this->encoding, this->registry);
    out.write(make_everything());
    out.write(make_scene());
  }
  EXPECT_FALSE(fs::exists(this->file()));
  EXPECT_TRUE(this->names_in_dir().empty());

  // Over an existing file: it stays as it was.
  brine::write_file_atomically(this->file(), "previous content");
  {
    brine::ArchiveFileWriter out(this->file(), this->encoding, this->registry);
    out.write(make_scene());
  }
  EXPECT_EQ(brine::read_file(this->file()), "previous content");
  EXPECT_EQ(this->names_in_dir().size(), 1u);
}

TYPED_TEST(ArchiveFile, FailedWriteAbandonsTheFile) {
  brine::Registry bare;  // no subclass registered: the polymorphic pointers cannot be saved
  brine::ArchiveFileWriter out(this->file(), this->encoding, bare);
  out.write(1);
  EXPECT_THROW_WITH(out.write(make_scene()), brine::SchemaError, "unregistered dynamic type");
  EXPECT_FALSE(out.is_open());
  EXPECT_THROW_WITH(out.commit(), brine::IoError, "after commit() or abandon()");
  EXPECT_THROW_WITH(out.write(2), brine::IoError, this->file().string());
  EXPECT_TRUE(this->names_in_dir().empty());
}

TYPED_TEST(ArchiveFile, ExplicitAbandonAndMoves) {
  brine::ArchiveFileWriter first(this->file("a"), this->encoding, this->registry);
  first.write(std::string("kept"));
  brine::ArchiveFileWriter moved(std::move(first));
  EXPECT_THROW_WITH(first.write(1), brine::IoError, "moved from");
  brine::ArchiveFileWriter other(this->file("b"), this->encoding, this->registry);
  other.write(std::string("dropped"));
  other = std::move(moved);  // abandons b's file, takes over a's
  other.commit();
  EXPECT_FALSE(fs::exists(this->file("b")));
  brine::ArchiveFileReader in(this->file("a"), this->registry);
  brine::ArchiveFileReader in2(std::move(in));
  EXPECT_EQ(in2.next<std::string>(), "kept");
  EXPECT_TRUE(in2.at_end());
  EXPECT_EQ(this->names_in_dir().size(), 1u);

  brine::ArchiveFileWriter dropped(this->file("c"), this->encoding, this->registry);
  dropped.write(1);
  dropped.abandon();
  dropped.abandon();  // idempotent
  EXPECT_FALSE(fs::exists(this->file("c")));
  EXPECT_EQ(this->names_in_dir().size(), 1u);
}

TYPED_TEST(ArchiveFile, NextValueReadsTheStateModel) {
  {
    brine::ArchiveFileWriter out(this->file(), this->encoding, this->registry);
    out.write(Inner{3, "x"});
    out.write_value(brine::Value(std::string("raw")));
    out.commit();
  }
  brine::ArchiveFileReader in(this->file(), this->registry);
  brine::Value v = in.next_value();
  ASSERT_EQ(v.kind(), brine::ValueKind::object);
  EXPECT_EQ(v.as_object().type, "test.Inner");
  EXPECT_EQ(in.next<std::string>(), "raw");
}

TEST(ArchiveFileJson, WritesTheBytesOfJsonDocument) {
  brine::Registry registry;
  TempDir dir;
  for (int indent : {2, 0, -1, 4}) {
    SCOPED_TRACE(indent);
    brine::ArchiveWriteOptions options;
    options.json.indent = indent;
    std::vector<brine::Value> values{brine::to_state(Inner{1, "a\nb"}, registry),
                                     brine::to_state(std::vector<int>{1, 2}, registry),
                                     brine::to_state(std::map<std::string, int>{}, registry)};
    for (std::size_t n = 0; n <= values.size(); ++n) {
      brine::ArchiveFileWriter out(dir / "doc.json", brine::Encoding::json, registry, options);
      for (std::size_t i = 0; i < n; ++i) out.write_value(values[i]);
      out.commit();
      std::vector<brine::Value> expected(values.begin(), values.begin() + n);
      EXPECT_EQ(brine::read_file(dir / "doc.json"), brine::json_document(expected, options.json));
    }
  }
  // One value: what save_json writes.
  brine::ArchiveFileWriter out(dir / "one.json", brine::Encoding::json, registry);
  out.write(Inner{7, "seven"});
  out.commit();
  brine::save_json(dir / "saved.json", Inner{7, "seven"}, registry);
  EXPECT_EQ(brine::read_file(dir / "one.json"), brine::read_file(dir / "saved.json"));
}

TEST(ArchiveFileReader, ReadsFilesOfTheOneCallSaves) {
  brine::Registry registry;
  TempDir dir;
  brine::save_binary(dir / "b", Inner{1, "b"}, registry);
  brine::save_stable(dir / "s", Inner{2, "s"}, registry);
  brine::save_json(dir / "j", Inner{3, "j"}, registry);
  const std::pair<const char*, brine::Encoding> files[] = {
      {"b", brine::Encoding::binary}, {"s", brine::Encoding::stable}, {"j", brine::Encoding::json}};
  for (const auto& [name, encoding] : files) {
    brine::ArchiveFileReader in(dir / name, registry);
    EXPECT_EQ(in.encoding(), encoding);
    EXPECT_EQ(in.next<Inner>().s, name);
    EXPECT_TRUE(in.at_end());
  }
}

TEST(ArchiveFileReader, RefusesWhatIsNotAnArchiveNamingTheFile) {
  TempDir dir;
  brine::write_file_atomically(dir / "text", "hello");
  EXPECT_THROW_WITH(brine::ArchiveFileReader(dir / "text"), brine::FormatError,
                    "not a brine archive");
  EXPECT_THROW_WITH(brine::ArchiveFileReader(dir / "text"), brine::FormatError,
                    (dir / "text").string());
  brine::write_file_atomically(dir / "empty", "");
  EXPECT_THROW_WITH(brine::ArchiveFileReader(dir / "empty"), brine::FormatError, "empty file");
  brine::write_file_atomically(dir / "half",
                               "\x89"
                               "BRI");
  EXPECT_THROW_WITH(brine::ArchiveFileReader(dir / "half"), brine::FormatError,
                    "ends inside an archive header");
  brine::write_file_atomically(dir / "bad.json", R"({"format": "brine-json", "values": 3})");
  EXPECT_THROW_WITH(brine::ArchiveFileReader(dir / "bad.json"), brine::FormatError,
                    (dir / "bad.json").string());
  EXPECT_THROW_WITH(brine::ArchiveFileReader(dir / "missing"), brine::IoError, "missing");
}

TEST(ArchiveFileReader, RefusesBytesAfterABinaryArchive) {
  brine::Registry registry;
  TempDir dir;
  std::string one(brine::to_binary(1, registry).view());
  brine::write_file_atomically(dir / "two", one + one);
  brine::ArchiveFileReader in(dir / "two", registry);
  EXPECT_EQ(in.next<int>(), 1);
  EXPECT_THROW_WITH(in.at_end(), brine::FormatError, "bytes after the archive's end marker");
}

TEST(ArchiveFileReader, CorruptValueIsAFormatErrorNamingTheFileAndSkipToo) {
  brine::Registry registry;
  TempDir dir;
  {
    brine::ArchiveFileWriter out(dir / "c", brine::Encoding::binary, registry);
    out.write(std::string(1000, 'x'));
    out.commit();
  }
  std::string bytes = brine::read_file(dir / "c");
  brine::write_file_atomically(dir / "c", corrupt(bytes, bytes.size() / 2));
  brine::ArchiveFileReader in(dir / "c", registry);
  EXPECT_THROW_WITH(in.skip(), brine::FormatError, "checksum mismatch");
  brine::ArchiveFileReader again(dir / "c", registry);
  EXPECT_THROW_WITH(again.skip(), brine::FormatError, (dir / "c").string());
}

}  // namespace
