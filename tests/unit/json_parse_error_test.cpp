// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// unit/json_parse_error_test.cpp: malformed JSON is reported in brine's words (what, line,
// column, byte offset, and the file for load_json), never in the JSON library's.

#include <gtest/gtest.h>

#include <brine/brine.hpp>
#include <string>

#include "sample_types.hpp"
#include "test_util.hpp"

namespace {

using brine_test::TempDir;

// The JSON library's own vocabulary, which must not reach a brine message.
void expect_no_library_wording(const std::string& what) {
  for (const char* word : {"json.exception", "parse_error", "syntax error while parsing",
                           "last read", "literal;", "string literal", "out_of_range"})
    EXPECT_EQ(what.find(word), std::string::npos) << word << " in: " << what;
}

struct Case {
  const char* text;
  const char* message;  // brine's message, line and column included
  std::uint64_t offset;
};

TEST(JsonParseError, SaysWhatAndWhereInItsOwnWords) {
  const Case cases[] = {
      {"", "malformed JSON at line 1, column 1: the text ends early, expected a value", 0},
      {"{\"a\": 1,}",
       "malformed JSON at line 1, column 9: unexpected '}', expected a key in double quotes", 8},
      {"{\"a\" 1}", "malformed JSON at line 1, column 6: unexpected number, expected ':'", 5},
      {"[1,\n 2", "malformed JSON at line 2, column 3: the text ends early, expected ']'", 6},
      {"{\"a\":\n  tru}", "malformed JSON at line 2, column 6: invalid word", 11},
      {"[true \"x\"]", "malformed JSON at line 1, column 7: unexpected string, expected ']'", 6},
      {"[null}", "malformed JSON at line 1, column 6: unexpected '}', expected ']'", 5},
      {"[1, false false]", "column 11: unexpected 'false', expected ']'", 10},
      {"\"unterminated", "line 1, column 1: a string is not closed", 0},
      {"\"\\x41\"", "a backslash in a string starts no valid escape", 2},
      {"\"\xff\"", "a string is not valid UTF-8", 1},
      {"\"a\nb\"", "malformed JSON at line 1, column 3: a control character inside a string", 2},
      {"01", "malformed JSON at line 1, column 2: number after the end of the document", 1},
      {"[-]", "line 1, column 2: invalid number", 1},
      {"[1e400]", "malformed JSON at line 1, column 2: number out of range: 1e400", 1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    try {
      brine::value_from_json(c.text);
      ADD_FAILURE() << "accepted";
    } catch (const brine::FormatError& e) {
      EXPECT_EQ(e.code(), brine::errc::corrupt_data);
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << e.what();
      EXPECT_EQ(e.context().byte_offset, c.offset) << e.what();
      expect_no_library_wording(e.what());
    }
  }
}

TEST(JsonParseError, DocumentErrorsUseTheSameWords) {
  EXPECT_THROW_WITH(brine::json_document_values("{\"format\": \"brine-json\",\n  \"values\": [}"),
                    brine::FormatError, "malformed JSON at line 2, column 14: unexpected '}'");
  try {
    brine::json_document_values("{\"format\": [1 2]}");
    ADD_FAILURE() << "accepted";
  } catch (const brine::FormatError& e) {
    expect_no_library_wording(e.what());
  }
}

TEST(JsonParseError, LoadJsonNamesTheFile) {
  TempDir dir;
  brine::Registry registry;
  brine_test::register_shapes(registry);
  const auto file = dir / "broken.json";
  brine::write_file_atomically(file,
                               "{\"format\": \"brine-json\", \"format_version\": 1,\n"
                               "  \"values\": [{\"$type\": \"test.Scene\" \"x\": 1}]}\n");
  try {
    brine::load_json<brine_test::Scene>(file, registry);
    ADD_FAILURE() << "accepted";
  } catch (const brine::FormatError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("malformed JSON at line 2, column 37: unexpected string, expected '}'"),
              std::string::npos)
        << what;
    EXPECT_EQ(e.context().source, file.string()) << what;
    EXPECT_NE(what.find("broken.json"), std::string::npos) << what;
    expect_no_library_wording(what);
  }
  // A document that parses but is not a brine document names the file too.
  brine::write_file_atomically(file, "[1, 2]");
  EXPECT_THROW_WITH(brine::load_json<brine_test::Scene>(file, registry), brine::FormatError,
                    "broken.json");
}

}  // namespace
