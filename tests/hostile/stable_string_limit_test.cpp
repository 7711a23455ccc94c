// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// stable_string_limit_test.cpp: string references (docs/format/stable-v1.md §3) cost a few
// bytes each but stand for a whole earlier string; LoadOptions::max_string_expansion bounds
// the text a small archive can make the reader produce.

#include <string>
#include <vector>

#include "hostile_support.hpp"
#include "test_util.hpp"

namespace stable_strings {

// A type whose field names are long, as brine's writer refers to every name after its first
// use: the most a legitimate archive expands through references.
struct Reading {
  BRINE_TYPE("hostile.strings.SensorReadingWithADescriptiveName", 1);
  int temperature = 0;
  int humidity = 0;
  template <class A>
  void getstate(A& ar) const {
    ar("temperature_in_hundredths_of_a_degree_celsius_at_the_sensor", temperature)(
        "relative_humidity_in_tenths_of_a_percent_at_the_sensor", humidity);
  }
  template <class A>
  void setstate(A& ar) {
    ar("temperature_in_hundredths_of_a_degree_celsius_at_the_sensor", temperature)(
        "relative_humidity_in_tenths_of_a_percent_at_the_sensor", humidity);
  }
};

}  // namespace stable_strings

namespace {

std::string text_head(std::size_t n) {
  if (n < 24) return std::string(1, static_cast<char>(0x60 + n));
  std::string head = "\x7a";
  for (int shift = 24; shift >= 0; shift -= 8) head += static_cast<char>(n >> shift);
  return head;
}

// A stable document whose values array holds `value` (CBOR bytes), with a valid checksum.
// The header's four strings are entries 0 to 3 of the stringref table, so the first string
// of `value` long enough to enter it is entry 4.
std::string stable_document_of(const std::string& value) {
  auto text = [](const std::string& s) { return text_head(s.size()) + s; };
  std::string values = "\x9f" + value + "\xff";
  std::uint64_t sum = XXH3_64bits(values.data(), values.size());
  std::string checksum = "\x1b";
  for (int shift = 56; shift >= 0; shift -= 8) checksum += static_cast<char>(sum >> shift);
  return std::string("\xd9\xd9\xf7\xd9\x01\x00\xa4", 7) + text("format") + text("brine-stable") +
         text("format_version") + "\x01" + text("values") + values + text("checksum") + checksum;
}

const std::string kRefToEntry4 = "\xd8\x19\x04";
constexpr std::size_t kLongString = 16 * 1024;
constexpr std::size_t kReferences = 4000;

// A list: one 16 KiB text, then 4000 references to it. About 28 KB of input that would
// decode to 64 MiB of text.
std::string reference_bomb() {
  std::string list = "\x9f" + text_head(kLongString) + std::string(kLongString, 'x');
  for (std::size_t i = 0; i < kReferences; ++i) list += kRefToEntry4;
  return stable_document_of(list + "\xff");
}

// The same through map keys, which the reader resolves to text too: 4000 one-entry maps
// whose key is the long string.
std::string key_reference_bomb() {
  std::string list = "\x9f\xa1" + text_head(kLongString) + std::string(kLongString, 'k') + "\xf6";
  for (std::size_t i = 0; i < kReferences; ++i) list += "\xa1" + kRefToEntry4 + "\xf6";
  return stable_document_of(list + "\xff");
}

// Whether a reference to entry 4 starts at `offset` of `document`.
bool at_reference(const std::string& document, std::uint64_t offset) {
  return offset + kRefToEntry4.size() <= document.size() &&
         document.compare(offset, kRefToEntry4.size(), kRefToEntry4) == 0;
}

// Regression: stringref expansion had no bound; a 28 KB archive decoded to 64 MiB of text,
// and a 1 MB one to about 100 GB.
TEST(StableReader, RefusesStringReferenceBomb) {
  const std::string document = reference_bomb();
  ASSERT_LT(document.size(), 32u * 1024);
  brine::LimitError e = hostile::expect_error<brine::LimitError>(
      [&] { brine::read_stable_values(document); }, "LoadOptions::max_string_expansion (64)");
  EXPECT_EQ(e.code(), brine::errc::limit_exceeded);
  ASSERT_TRUE(e.context().byte_offset.has_value()) << e.what();
  EXPECT_TRUE(at_reference(document, *e.context().byte_offset)) << e.what();
  // The message gives the archive's size, which the limit is a multiple of.
  EXPECT_NE(std::string(e.what()).find(std::to_string(document.size()) + " bytes"),
            std::string::npos)
      << e.what();

  // A typed load stops at the same place.
  brine::Registry registry;
  hostile::expect_error<brine::LimitError>(
      [&] { brine::from_stable<std::vector<std::string>>(document, registry); },
      "max_string_expansion");
}

TEST(StableReader, RefusesStringReferenceBombThroughMapKeys) {
  const std::string document = key_reference_bomb();
  brine::LimitError e = hostile::expect_error<brine::LimitError>(
      [&] { brine::read_stable_values(document); }, "max_string_expansion");
  ASSERT_TRUE(e.context().byte_offset.has_value()) << e.what();
  EXPECT_TRUE(at_reference(document, *e.context().byte_offset)) << e.what();
}

TEST(StableReader, StringReferencesWithinTheLimitLoad) {
  // A few references to the long string are fine, and the limit can be raised for more.
  std::string list = "\x9f" + text_head(kLongString) + std::string(kLongString, 'x');
  for (int i = 0; i < 10; ++i) list += kRefToEntry4;
  std::vector<brine::Value> values = brine::read_stable_values(stable_document_of(list + "\xff"));
  ASSERT_EQ(values.size(), 1u);
  ASSERT_EQ(values[0].as_list().size(), 11u);
  EXPECT_EQ(values[0].as_list()[10].as_text(), std::string(kLongString, 'x'));

  brine::LoadOptions generous;
  generous.max_string_expansion = 4096;
  values = brine::read_stable_values(reference_bomb(), generous);
  ASSERT_EQ(values[0].as_list().size(), kReferences + 1);
  EXPECT_EQ(values[0].as_list()[kReferences].as_text().size(), kLongString);
}

// The rejection's sibling: brine's own writer refers to every type and field name after
// its first use; an archive of many small objects with long names still loads by default.
// A limit tighter than their expansion is refused, naming the option: the factor applies.
TEST(StableReader, LoadsManyObjectsWithLongRepeatedNames) {
  using stable_strings::Reading;
  brine::Registry registry;
  registry.add<Reading>();
  std::vector<Reading> readings(20000);
  for (std::size_t i = 0; i < readings.size(); ++i) {
    readings[i].temperature = static_cast<int>(i);
    readings[i].humidity = static_cast<int>(i % 1000);
  }
  brine::Buffer archive = brine::to_stable(readings, registry);
  std::vector<Reading> back = brine::from_stable<std::vector<Reading>>(archive.view(), registry);
  ASSERT_EQ(back.size(), readings.size());
  EXPECT_EQ(back[19999].temperature, 19999);
  EXPECT_EQ(back[19999].humidity, 999);

  brine::LoadOptions tight;
  tight.max_string_expansion = 2;
  hostile::expect_error<brine::LimitError>(
      [&] { brine::from_stable<std::vector<Reading>>(archive.view(), registry, tight); },
      "LoadOptions::max_string_expansion (2)");
}

}  // namespace
