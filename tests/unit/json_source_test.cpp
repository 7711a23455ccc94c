// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// unit/json_source_test.cpp: json_document_values from a ByteSource reads what the text
// overload reads, with the same errors, and advances a source with a view as it parses
// (what the brine tool's progress line counts).

#include <gtest/gtest.h>

#include <brine/brine.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace {

// A memory source that records its position after every skip: how far the parser had got.
class RecordingSource final : public brine::ByteSource {
 public:
  explicit RecordingSource(std::string_view bytes) : inner_(bytes) {}
  std::size_t read(void* bytes, std::size_t n) override { return inner_.read(bytes, n); }
  bool has_direct_view() const noexcept override { return true; }
  std::string_view direct_view() const noexcept override { return inner_.direct_view(); }
  void skip(std::size_t n) override {
    inner_.skip(n);
    positions.push_back(inner_.position());
  }
  std::optional<std::uint64_t> remaining() const override { return inner_.remaining(); }
  std::uint64_t position() const noexcept override { return inner_.position(); }
  std::string description() const override { return "recorded.json"; }

  std::vector<std::uint64_t> positions;

 private:
  brine::MemorySource inner_;
};

std::string big_document() {
  brine::Value::List items;
  for (int i = 0; i < 50000; ++i) items.emplace_back("element " + std::to_string(i));
  return brine::json_document(
      {brine::Value(std::move(items)), brine::Value(std::string(200000, 'y'))});
}

TEST(JsonSource, ReadsWhatTheTextOverloadReadsAndAdvancesAsItParses) {
  const std::string text = big_document();
  ASSERT_GT(text.size(), 4u * 65536);
  const std::vector<brine::Value> expected = brine::json_document_values(text);

  RecordingSource source(text);
  EXPECT_EQ(brine::json_document_values(source), expected);
  EXPECT_EQ(source.position(), text.size());
  // Chunk by chunk, not all at once at the end.
  ASSERT_GE(source.positions.size(), 4u);
  for (std::size_t i = 1; i < source.positions.size(); ++i)
    EXPECT_LE(source.positions[i - 1], source.positions[i]);
  EXPECT_GT(source.positions[1], 0u);
  EXPECT_LT(source.positions[1], text.size());

  // A stream (no view) is read whole, then parsed.
  std::istringstream in(text);
  brine::StreamSource stream(in);
  EXPECT_EQ(brine::json_document_values(stream), expected);
}

TEST(JsonSource, AStreamIsHeldWithinMaxInputBytes) {
  const std::string text = big_document();
  std::istringstream in(text);
  brine::StreamSource stream(in, "endless.json");
  brine::LoadOptions options;
  options.max_input_bytes = 100000;
  try {
    brine::json_document_values(stream, options);
    ADD_FAILURE() << "accepted";
  } catch (const brine::LimitError& e) {
    EXPECT_NE(std::string(e.what()).find("input exceeds LoadOptions::max_input_bytes (100000)"),
              std::string::npos)
        << e.what();
    EXPECT_EQ(e.context().source, "endless.json");
  }
}

TEST(JsonSource, ErrorsAreTheTextOverloadsNamingTheSource) {
  std::string big = big_document();
  // Broken past the first chunks, on a later line, and at the very end.
  std::string late = big;
  late.insert(late.size() / 2, "\n tru");
  const std::string cases[] = {
      late,
      big.substr(0, big.size() - 2),
      "{\"format\": \"brine-json\",\n  \"values\": [}",
      "{\"format\": \"brine-json\", \"format_version\": 9, \"values\": []}",
      "{\"format\": \"brine-json\", \"format_version\": 1, \"values\": "
      "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]"
      "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
      "[1, 2]",
  };
  brine::LoadOptions options;
  options.max_depth = 16;
  for (const std::string& text : cases) {
    SCOPED_TRACE(text.substr(0, 80));
    std::string expected_what;
    brine::errc expected_code{};
    std::optional<std::uint64_t> expected_offset;
    try {
      brine::json_document_values(text, options);
      ADD_FAILURE() << "the text overload accepted it";
      continue;
    } catch (const brine::Error& e) {
      expected_what = e.what();
      expected_code = e.code();
      expected_offset = e.context().byte_offset;
    }
    for (int streamed = 0; streamed < 2; ++streamed) {
      std::istringstream in(text);
      brine::StreamSource stream(in, "recorded.json");
      RecordingSource memory(text);
      brine::ByteSource& source = streamed ? static_cast<brine::ByteSource&>(stream) : memory;
      try {
        brine::json_document_values(source, options);
        ADD_FAILURE() << "the source overload accepted it";
      } catch (const brine::Error& e) {
        EXPECT_EQ(e.code(), expected_code);
        EXPECT_EQ(e.context().byte_offset, expected_offset);
        EXPECT_EQ(e.context().source, "recorded.json");
        // The same message, with the source named at its end.
        const std::string what = e.what();
        EXPECT_EQ(what.find(expected_what.substr(0, expected_what.find(" ("))), 0u) << what;
      }
    }
  }
}

}  // namespace
