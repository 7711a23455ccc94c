// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// binary_length_bomb_test.cpp: archives whose counts and lengths claim far more than they
// hold. Each is refused with a typed error before anything is allocated for the claim: a
// counting global allocator records the largest single allocation during the load.

#include <array>
#include <brine/brine.hpp>
#include <limits>
#include <sstream>
#include <string>

#include "counting_allocator.hpp"
#include "hostile_support.hpp"
#include "hostile_types.hpp"
#include "test_util.hpp"

namespace {

using hostile::Doc;

constexpr std::size_t kMiB = std::size_t{1} << 20;

// The counts and lengths of a document, each found through the marker that follows it:
// (field, marker, offset of the count's varint from the marker).
struct Target {
  const char* field;
  std::string marker;
  std::ptrdiff_t delta;
};

const std::string kPathMarker = "\x3A\x3B\x3C\x3D";  // Point{0x3D3C3B3A, ..}
const std::string kIdsMarker = "\x52\x51";           // int16 0x5152, the smallest id

Doc bomb_doc() {
  Doc d = hostile::make_doc();
  d.path = {hostile::Point{0x3D3C3B3A, 1}, hostile::Point{2, 3}};
  d.ids = {0x5152, 0x5153};
  return d;
}

const Target kTargets[] = {
    {"title (string length)", hostile::kTitleMarker, -1},
    {"tags (vector<string> count)", hostile::kTagMarker, -2},
    {"numbers (vector<uint32_t> count)", "\xA1\xA2\xA3\xA4", -1},
    {"points (map count)", hostile::kPointMarker, -2},
    {"points key (string length)", hostile::kPointMarker, -1},
    {"choice (string length in a variant)", hostile::kChoiceMarker, -1},
    {"path (vector<Point> count)", kPathMarker, -1},
    {"ids (set<int16_t> count)", kIdsMarker, -1},
};

std::string bomb_archive() {
  brine::Registry registry;
  return hostile::archive_of(bomb_doc(), registry);
}

struct Measured {
  hostile::Outcome outcome;
  std::size_t largest = 0;
  std::size_t total = 0;
};

// Loads `bytes` as a Doc (or with read_value) while recording allocations.
Measured measure(const std::string& bytes, hostile::Via via, const brine::LoadOptions& options,
                 bool typeless = false) {
  static brine::Registry registry;
  hostile::ReadAll read = [typeless](brine::BinaryReader& r) {
    if (typeless) return r.read_value().kind() == brine::ValueKind::object;
    return r.read<Doc>() == bomb_doc();
  };
  Measured m;
  counting::Recording recording;
  m.outcome = hostile::run_load(bytes, via, registry, options, read);
  recording.stop();
  m.largest = recording.largest_allocation();
  m.total = recording.total_bytes();
  return m;
}

TEST(BinaryLengthBomb, TheUneditedArchiveLoadsWithinTheSameAllocationBound) {
  std::string bytes = bomb_archive();
  for (hostile::Via via : {hostile::Via::memory, hostile::Via::stream}) {
    for (bool typeless : {false, true}) {
      Measured m = measure(bytes, via, {}, typeless);
      EXPECT_EQ(m.outcome.kind, hostile::Outcome::loaded_same) << m.outcome;
      EXPECT_LT(m.largest, kMiB);
      EXPECT_GT(m.total, 0u) << "the counting allocator sees nothing";
    }
  }
  // The allocator does see large allocations, through new and through realloc.
  counting::Recording recording;
  std::string big(2 * kMiB, 'x');
  brine::Buffer buffer;
  buffer.reserve(3 * kMiB);
  recording.stop();
  EXPECT_GE(recording.largest_allocation(), 3 * kMiB);
}

// 2^40 elements is over LoadOptions::max_elements (2^32 - 1): a LimitError naming it.
TEST(BinaryLengthBomb, CountOfTwoToTheFortyIsLimitErrorWithoutAllocating) {
  std::string bytes = bomb_archive();
  for (const Target& t : kTargets) {
    std::string bomb =
        hostile::edit_at(bytes, t.marker, t.delta, 1, hostile::varint(std::uint64_t{1} << 40));
    for (hostile::Via via : {hostile::Via::memory, hostile::Via::stream}) {
      for (bool typeless : {false, true}) {
        SCOPED_TRACE(std::string(t.field) + " via " + hostile::via_name(via) +
                     (typeless ? ", read_value" : ""));
        Measured m = measure(bomb, via, {}, typeless);
        ASSERT_EQ(m.outcome.kind, hostile::Outcome::brine_error) << m.outcome;
        EXPECT_EQ(m.outcome.type, "brine::LimitError") << m.outcome;
        EXPECT_EQ(m.outcome.code, brine::errc::limit_exceeded);
        EXPECT_NE(m.outcome.what.find(
                      "count of 1099511627776 elements exceeds LoadOptions::max_elements"),
                  std::string::npos)
            << m.outcome.what;
        EXPECT_LT(m.largest, kMiB);
      }
    }
  }
}

// Under the limit, but more than the input holds: a memory source knows its length and
// refuses the count at once; a stream does not, and must run out of data before it has
// allocated for more than what arrived.
TEST(BinaryLengthBomb, CountBeyondTheInputIsTruncatedInputWithoutAllocating) {
  std::string bytes = bomb_archive();
  for (std::uint64_t claim :
       {std::uint64_t{1} << 31, std::uint64_t{0xFFFFFFFF}, std::uint64_t{5000}}) {
    for (const Target& t : kTargets) {
      std::string bomb = hostile::edit_at(bytes, t.marker, t.delta, 1, hostile::varint(claim));
      for (hostile::Via via : {hostile::Via::memory, hostile::Via::stream}) {
        for (bool typeless : {false, true}) {
          SCOPED_TRACE(std::string(t.field) + " = " + std::to_string(claim) + " via " +
                       hostile::via_name(via) + (typeless ? ", read_value" : ""));
          Measured m = measure(bomb, via, {}, typeless);
          ASSERT_EQ(m.outcome.kind, hostile::Outcome::brine_error) << m.outcome;
          EXPECT_EQ(m.outcome.type, "brine::FormatError") << m.outcome;
          EXPECT_EQ(m.outcome.code, brine::errc::truncated_input) << m.outcome;
          if (via == hostile::Via::memory && claim > 1000) {
            EXPECT_NE(m.outcome.what.find("count of " + std::to_string(claim) + " elements"),
                      std::string::npos)
                << m.outcome.what;
            EXPECT_NE(m.outcome.what.find("bytes remain"), std::string::npos) << m.outcome.what;
          }
          EXPECT_LT(m.largest, kMiB);
          EXPECT_LT(m.total, 16 * kMiB);
        }
      }
    }
  }
}

TEST(BinaryLengthBomb, RaisedElementLimitStillChecksTheInputLength) {
  std::string bytes = bomb_archive();
  brine::LoadOptions unlimited;
  unlimited.max_elements = std::numeric_limits<std::uint64_t>::max();
  EXPECT_EQ(measure(bytes, hostile::Via::memory, unlimited).outcome.kind,
            hostile::Outcome::loaded_same);
  for (const Target& t : kTargets) {
    SCOPED_TRACE(t.field);
    std::string bomb =
        hostile::edit_at(bytes, t.marker, t.delta, 1, hostile::varint(std::uint64_t{1} << 40));
    Measured m = measure(bomb, hostile::Via::memory, unlimited);
    ASSERT_EQ(m.outcome.kind, hostile::Outcome::brine_error) << m.outcome;
    EXPECT_EQ(m.outcome.code, brine::errc::truncated_input) << m.outcome;
    EXPECT_LT(m.largest, kMiB);
    // The largest count a varint holds: no overflow in count * element size.
    std::string max =
        hostile::edit_at(bytes, t.marker, t.delta, 1, hostile::varint(~std::uint64_t{0}));
    m = measure(max, hostile::Via::memory, unlimited);
    ASSERT_EQ(m.outcome.kind, hostile::Outcome::brine_error) << m.outcome;
    EXPECT_EQ(m.outcome.code, brine::errc::truncated_input) << m.outcome;
    EXPECT_LT(m.largest, kMiB);
  }
}

// max_elements bounds the data's containers; the archive's own type table (a layout of
// this document's type is 122 bytes) is not a container of the program's data, and must
// not make a limit of 13 refuse a document whose longest container has 13 elements.
TEST(BinaryLengthBomb, ElementLimitIsExactAndAppliesToTheData) {
  std::string bytes = bomb_archive();
  brine::LoadOptions tight;
  tight.max_elements = 13;  // the longest string in the document, "CHOICE-MARKER"
  Measured m = measure(bytes, hostile::Via::memory, tight);
  EXPECT_EQ(m.outcome.kind, hostile::Outcome::loaded_same) << m.outcome;
  tight.max_elements = 12;
  m = measure(bytes, hostile::Via::memory, tight);
  ASSERT_EQ(m.outcome.kind, hostile::Outcome::brine_error) << m.outcome;
  EXPECT_EQ(m.outcome.type, "brine::LimitError");
  EXPECT_NE(m.outcome.what.find("count of 13 elements exceeds LoadOptions::max_elements (12)"),
            std::string::npos)
      << m.outcome.what;
  EXPECT_NE(m.outcome.what.find("field 'choice'"), std::string::npos) << m.outcome.what;
}

// A block header is the first length a stream reader meets: 16 MiB - 1 claimed, 20 bytes
// sent. The reader must not allocate the claimed size before the bytes arrive.
TEST(BinaryLengthBomb, StreamBlockClaimingSixteenMiBWithoutAllocatingThem) {
  std::string bytes = bomb_archive();
  EXPECT_EQ(measure(bytes, hostile::Via::stream, {}).outcome.kind, hostile::Outcome::loaded_same);
  std::string claim = bytes.substr(0, hostile::kHeaderSize);
  hostile::append_u32(claim, std::uint32_t{hostile::kDataBlock} << 24 | 0xFFFFFF);
  hostile::append_u64(claim, 0);
  claim += bytes.substr(hostile::kHeaderSize + hostile::kBlockHeaderSize, 20);
  Measured m = measure(claim, hostile::Via::stream, {});
  ASSERT_EQ(m.outcome.kind, hostile::Outcome::brine_error) << m.outcome;
  EXPECT_EQ(m.outcome.code, brine::errc::truncated_input) << m.outcome;
  EXPECT_NE(m.outcome.what.find("block of 16777215 bytes, only 20 arrived"), std::string::npos)
      << m.outcome.what;
  EXPECT_EQ(m.outcome.byte_offset, hostile::kHeaderSize);
  EXPECT_LT(m.largest, kMiB)
      << "a 44-byte stream made the reader allocate the block's claimed size";
}

// Element types of 32 KiB: a stream's count is not checked against its (unknown) length,
// so what the reader reserves up front must be bounded in bytes, not only in elements.
struct Page {
  BRINE_TYPE("hostile.Page", 1);
  std::array<std::uint64_t, 4096> words{};
  template <class A>
  void getstate(A& ar) const {
    ar("words", words);
  }
  template <class A>
  void setstate(A& ar) {
    ar("words", words);
  }
};

TEST(BinaryLengthBomb, StreamCountOfLargeElementsReservesBoundedBytes) {
  brine::Registry registry;
  std::vector<Page> pages(1);
  pages[0].words[0] = 0x7172737475767778;
  std::string bytes = hostile::archive_of(pages, registry);
  std::string marker = "\x78\x77\x76\x75\x74\x73\x72\x71";
  ASSERT_EQ(hostile::byte_at(bytes, marker, -1), 1) << "the count precedes the first word";
  auto load = [&](const std::string& archive) {
    std::istringstream stream(archive);
    brine::StreamSource source(stream);
    brine::BinaryReader reader(source, registry);
    return reader.read<std::vector<Page>>();
  };
  EXPECT_EQ(load(bytes).size(), 1u);
  std::string bomb = hostile::edit_at(bytes, marker, -1, 1, hostile::varint(4000));
  counting::Recording recording;
  auto e = hostile::expect_error<brine::FormatError>([&] { load(bomb); },
                                                     "archive data ends inside a value");
  recording.stop();
  EXPECT_EQ(e.code(), brine::errc::truncated_input);
  EXPECT_LT(recording.largest_allocation(), 4 * kMiB)
      << "a 33 KB stream claiming 4000 pages of 32 KiB made the reader reserve "
      << recording.largest_allocation() << " bytes";
}

// Values of a type without fields take no bytes: a count of them is paid for by nothing.
// A memory source refuses a count beyond its remaining bytes (one byte per element at
// least); a stream, whose length is unknown, must not accept the same bytes and build
// millions of elements (the fuzzer made read_value build 268 million from 617 bytes).
struct Empty {
  BRINE_TYPE("hostile.Empty", 1);
  template <class A>
  void getstate(A&) const {}
  template <class A>
  void setstate(A&) {}
};

TEST(BinaryLengthBomb, StreamCountOfZeroSizeElementsIsRefusedLikeFromMemory) {
  brine::Registry registry;
  std::string bytes = hostile::archive_of(std::vector<Empty>(2), registry);
  hostile::Archive a = hostile::parse_archive(bytes);
  ASSERT_EQ(a.blocks[0].payload.back(), 2) << "the count ends the value";
  auto with_count = [&](std::uint64_t n) {
    hostile::Archive edited = a;
    edited.blocks[0].payload.pop_back();
    edited.blocks[0].payload += hostile::varint(n);
    return hostile::serialize(edited);
  };
  auto load = [&](const std::string& archive, hostile::Via via, bool typeless) {
    hostile::ReadAll read = [typeless](brine::BinaryReader& r) {
      if (typeless) return r.read_value().kind() == brine::ValueKind::list;
      return !r.read<std::vector<Empty>>().empty();
    };
    Measured m;
    counting::Recording recording;
    m.outcome = hostile::run_load(archive, via, registry, {}, read);
    recording.stop();
    m.largest = recording.largest_allocation();
    m.total = recording.total_bytes();
    return m;
  };
  for (bool typeless : {false, true}) {
    SCOPED_TRACE(typeless ? "read_value" : "read<std::vector<Empty>>");
    for (hostile::Via via : {hostile::Via::memory, hostile::Via::stream})
      EXPECT_EQ(load(with_count(2), via, typeless).outcome.kind, hostile::Outcome::loaded_same);
    std::string bomb = with_count(typeless ? std::uint64_t{1} << 20 : std::uint64_t{1} << 24);
    Measured memory = load(bomb, hostile::Via::memory, typeless);
    ASSERT_EQ(memory.outcome.kind, hostile::Outcome::brine_error) << memory.outcome;
    EXPECT_EQ(memory.outcome.code, brine::errc::truncated_input) << memory.outcome;
    Measured stream = load(bomb, hostile::Via::stream, typeless);
    EXPECT_EQ(stream.outcome.kind, hostile::Outcome::brine_error) << stream.outcome;
    EXPECT_LT(stream.total, 16 * kMiB) << "bytes allocated for elements the input never held";
  }
}

// A layout's array length is not in the data: an array of empty tuples (zero bytes each)
// of 2^32 - 1 elements is a 40-byte archive. Decoding it must not reserve or build
// elements for a count the input never paid for.
std::string zero_size_array_archive(std::uint64_t n) {
  std::string descriptor =
      "\x21" + hostile::varint(n) + std::string("\x25\x00", 2);  // array(n, tuple())
  hostile::Archive a;
  a.header = bomb_archive().substr(0, hostile::kHeaderSize);
  a.blocks.push_back(
      {hostile::kDataBlock, "\x02" + hostile::varint(descriptor.size()) + descriptor, 0});
  std::string end;
  hostile::append_u64(end, a.blocks[0].payload.size());
  hostile::append_u64(end, 1);
  a.blocks.push_back({hostile::kEndBlock, end, 0});
  return hostile::serialize(a);
}

TEST(BinaryLengthBomb, LayoutArrayOfZeroSizeElementsIsNotAllocatedUpFront) {
  brine::Registry registry;
  {
    std::string three = zero_size_array_archive(3);
    brine::MemorySource source(three);
    brine::BinaryReader reader(source, registry);
    brine::Value v = reader.read_value();
    ASSERT_EQ(v.kind(), brine::ValueKind::list);
    EXPECT_EQ(v.as_list().size(), 3u);
  }
  std::string bomb = zero_size_array_archive(0xFFFFFFFF);
  counting::Recording recording;
  auto e = hostile::expect_error<brine::FormatError>(
      [&] {
        brine::MemorySource source(bomb);
        brine::BinaryReader reader(source, registry);
        reader.read_value();
      },
      "array of 4294967295 elements");
  recording.stop();
  EXPECT_LT(recording.largest_allocation(), kMiB);
  // A typed read decodes an unexpected descriptor the same way before it reports the type.
  counting::Recording typed;
  try {
    brine::from_binary<std::vector<int>>(bomb, registry);
    ADD_FAILURE() << "loaded";
  } catch (const brine::Error&) {
  }
  typed.stop();
  EXPECT_LT(typed.largest_allocation(), kMiB);
}

}  // namespace
