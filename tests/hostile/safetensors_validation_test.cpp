// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// safetensors_validation_test.cpp: for every rule of a safetensors file and of a sharded
// checkpoint's index, files that break exactly that rule, refused with that rule, the right
// class, and a message naming the rule, the tensor and the file; and the choices brine makes
// where the spec and the reference implementations disagree.

#include <brine/safetensors.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using brine::SafetensorsRule;
using Rule = SafetensorsRule;

std::string length_prefix(std::uint64_t n) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  return out;
}

// A file of `header` (padded with spaces to 8 bytes, as writers do) and `data`.
std::string file_of(std::string header, const std::string& data) {
  header.append((8 - header.size() % 8) % 8, ' ');
  return length_prefix(header.size()) + header + data;
}

std::string entry(const std::string& name, const std::string& dtype, const std::string& shape,
                  const std::string& offsets) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape +
         ",\"data_offsets\":" + offsets + "}";
}

struct Case {
  const char* what;
  Rule rule;
  std::string bytes;
  const char* names;  // a tensor name the message must contain, or ""
};

std::vector<Case> file_cases() {
  const std::string f32x2 = entry("w", "F32", "[2]", "[0,8]");
  return {
      {"empty file", Rule::file_too_short, "", ""},
      {"7 bytes", Rule::file_too_short, std::string(7, '\0'), ""},
      {"header length past the end", Rule::header_beyond_file, length_prefix(100) + "{\"w\":{}}",
       ""},
      {"header length over the limit", Rule::header_too_large, length_prefix(200'000'000) + "{}",
       ""},
      {"header is an array", Rule::header_not_object, file_of("[1,2]", ""), ""},
      {"header starts with a space", Rule::header_not_object, file_of(" {}", ""), ""},
      {"zero-length header", Rule::header_not_object, length_prefix(0), ""},
      {"header not UTF-8", Rule::header_not_utf8,
       file_of("{\"w\xff\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}", ""), ""},
      {"overlong UTF-8", Rule::header_not_utf8, file_of("{\"\xc0\xaf\":1}", ""), ""},
      {"header not JSON", Rule::header_not_json, file_of("{\"w\":}", ""), ""},
      {"JSON then garbage", Rule::header_not_json, file_of("{} {}", ""), ""},
      {"NUL padding", Rule::header_not_json, length_prefix(8) + std::string("{}\0\0\0\0\0\0", 8),
       ""},
      {"duplicate tensor", Rule::duplicate_name,
       file_of("{" + f32x2 + "," + f32x2 + "}", "12345678"), "w"},
      {"duplicate key in an entry", Rule::duplicate_name,
       file_of(R"({"w":{"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "x"), "w"},
      {"duplicate metadata key", Rule::duplicate_name,
       file_of(R"({"__metadata__":{"a":"1","a":"2"}})", ""), "a"},
      {"entry not an object", Rule::malformed_entry, file_of(R"({"w":[1,2]})", ""), "w"},
      {"entry without data_offsets", Rule::malformed_entry,
       file_of(R"({"w":{"dtype":"U8","shape":[1]}})", "x"), "w"},
      {"entry with an extra key", Rule::malformed_entry,
       file_of(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"stride":[1]}})", "x"), "w"},
      {"dtype not a string", Rule::malformed_entry,
       file_of(R"({"w":{"dtype":4,"shape":[1],"data_offsets":[0,1]}})", "x"), "w"},
      {"unknown dtype", Rule::unknown_dtype,
       file_of("{" + entry("w", "F128", "[1]", "[0,16]") + "}", std::string(16, 'x')), "w"},
      {"lower-case dtype", Rule::unknown_dtype,
       file_of("{" + entry("w", "f32", "[1]", "[0,4]") + "}", "xxxx"), "w"},
      {"negative dimension", Rule::invalid_shape,
       file_of("{" + entry("w", "U8", "[-1]", "[0,0]") + "}", ""), "w"},
      {"fractional dimension", Rule::invalid_shape,
       file_of("{" + entry("w", "U8", "[1.5]", "[0,1]") + "}", "x"), "w"},
      {"shape not an array", Rule::invalid_shape,
       file_of("{" + entry("w", "U8", "\"3\"", "[0,3]") + "}", "xxx"), "w"},
      {"nested shape", Rule::invalid_shape,
       file_of("{" + entry("w", "U8", "[[1]]", "[0,1]") + "}", "x"), "w"},
      {"one offset", Rule::invalid_offsets,
       file_of("{" + entry("w", "U8", "[1]", "[1]") + "}", "x"), "w"},
      {"offset a string", Rule::invalid_offsets,
       file_of("{" + entry("w", "U8", "[1]", "[0,\"1\"]") + "}", "x"), "w"},
      {"negative offset", Rule::invalid_offsets,
       file_of("{" + entry("w", "U8", "[1]", "[-1,0]") + "}", "x"), "w"},
      {"byte size overflows", Rule::size_overflow,
       file_of("{" + entry("w", "F32", "[4294967296,4294967296,16]", "[0,0]") + "}", ""), "w"},
      {"dimension over 63 bits", Rule::size_overflow,
       file_of("{" + entry("w", "U8", "[9223372036854775808]", "[0,0]") + "}", ""), "w"},
      {"size differs from the range", Rule::size_mismatch,
       file_of("{" + entry("w", "F32", "[2]", "[0,4]") + "}", "xxxx"), "w"},
      {"offsets reversed", Rule::offsets_reversed,
       file_of("{" + entry("w", "U8", "[4]", "[8,4]") + "}", "xxxxxxxx"), "w"},
      {"offsets past the end", Rule::offsets_out_of_bounds,
       file_of("{" + entry("w", "F32", "[2]", "[0,8]") + "}", "xxxx"), "w"},
      {"huge offsets", Rule::offsets_out_of_bounds,
       file_of("{" + entry("w", "U8", "[4]", "[18446744073709551610,18446744073709551614]") + "}",
               "xxxx"),
       "w"},
      {"hole before a tensor", Rule::data_hole,
       file_of("{" + entry("w", "F32", "[1]", "[4,8]") + "}", "xxxxxxxx"), "w"},
      {"hole between tensors", Rule::data_hole,
       file_of(
           "{" + entry("a", "U8", "[2]", "[0,2]") + "," + entry("b", "U8", "[2]", "[3,5]") + "}",
           "xxxxx"),
       "b"},
      {"overlapping tensors", Rule::data_overlap,
       file_of(
           "{" + entry("a", "F32", "[2]", "[0,8]") + "," + entry("b", "F32", "[2]", "[4,12]") + "}",
           std::string(12, 'x')),
       "b"},
      {"two names, one range", Rule::data_overlap,
       file_of(
           "{" + entry("a", "F32", "[2]", "[0,8]") + "," + entry("b", "F32", "[2]", "[0,8]") + "}",
           std::string(8, 'x')),
       "a"},
      {"zero-size tensor inside another", Rule::data_overlap,
       file_of(
           "{" + entry("a", "F32", "[2]", "[0,8]") + "," + entry("z", "F32", "[0]", "[4,4]") + "}",
           std::string(8, 'x')),
       "z"},
      {"bytes after the last tensor", Rule::trailing_bytes,
       file_of("{" + entry("w", "F32", "[1]", "[0,4]") + "}", "xxxxxx"), "w"},
      {"data but no tensor", Rule::trailing_bytes, file_of("{}", "x"), ""},
      {"metadata value a number", Rule::invalid_metadata,
       file_of(R"({"__metadata__":{"epoch":3}})", ""), "epoch"},
      {"metadata an array", Rule::invalid_metadata, file_of(R"({"__metadata__":["a"]})", ""), ""},
      {"metadata nested", Rule::invalid_metadata,
       file_of(R"({"__metadata__":{"a":{"b":"c"}}})", ""), ""},
  };
}

void expect_rule(const Case& c, const brine::Error& e) {
  EXPECT_EQ(brine::safetensors_rule_of(e), c.rule) << c.what << ": " << e.what();
  EXPECT_NE(std::string(e.what()).find(brine::safetensors_rule_name(c.rule)), std::string::npos)
      << c.what << ": " << e.what();
  if (*c.names != '\0') {
    EXPECT_NE(std::string(e.what()).find(std::string("'") + c.names + "'"), std::string::npos)
        << c.what << ": " << e.what();
  }
  if (c.rule == Rule::header_too_large) {
    EXPECT_NE(dynamic_cast<const brine::SafetensorsLimitError*>(&e), nullptr) << c.what;
    EXPECT_NE(dynamic_cast<const brine::LimitError*>(&e), nullptr) << c.what;
    EXPECT_EQ(e.code(), brine::errc::limit_exceeded);
  } else {
    EXPECT_NE(dynamic_cast<const brine::SafetensorsError*>(&e), nullptr) << c.what;
  }
}

TEST(SafetensorsValidation, EveryFileRuleIsRefusedWithItsOwnError) {
  brine_test::TempDir dir;
  for (const Case& c : file_cases()) {
    SCOPED_TRACE(c.what);
    // From memory.
    try {
      brine::parse_safetensors(c.bytes, {}, "memory");
      ADD_FAILURE() << c.what << ": accepted";
    } catch (const brine::FormatError& e) {
      expect_rule(c, e);
    }
    // From a file: the same rule, and the file named.
    fs::path path = dir / "bad.safetensors";
    brine::write_file_atomically(path, c.bytes);
    try {
      brine::load_safetensors(path);
      ADD_FAILURE() << c.what << ": accepted";
    } catch (const brine::FormatError& e) {
      expect_rule(c, e);
      EXPECT_EQ(e.context().source, path.string()) << c.what;
    }
  }
}

TEST(SafetensorsValidation, EveryRuleHasAFileThatBreaksIt) {
  std::set<Rule> covered;
  for (const Case& c : file_cases()) covered.insert(c.rule);
  // The index rules have their tests below (they need a folder).
  covered.insert(Rule::invalid_index);
  covered.insert(Rule::invalid_shard_name);
  covered.insert(Rule::index_shard_mismatch);
  for (int r = 1; r <= static_cast<int>(Rule::index_shard_mismatch); ++r)
    EXPECT_EQ(covered.count(static_cast<Rule>(r)), 1u)
        << brine::safetensors_rule_name(static_cast<Rule>(r));
}

TEST(SafetensorsValidation, ErrorsCarryTheByteOffset) {
  try {
    // The hole starts at byte 4 of the data region.
    brine::parse_safetensors(file_of("{" + entry("w", "F32", "[1]", "[4,8]") + "}", "xxxxxxxx"));
    ADD_FAILURE();
  } catch (const brine::SafetensorsError& e) {
    std::string header = "{" + entry("w", "F32", "[1]", "[4,8]") + "}";
    std::size_t padded = (header.size() + 7) / 8 * 8;
    EXPECT_EQ(e.context().byte_offset, 8 + padded);
    EXPECT_EQ(e.code(), brine::errc::corrupt_data);
  }
  try {
    brine::parse_safetensors(file_of("{\"w\":}", ""));
    ADD_FAILURE();
  } catch (const brine::SafetensorsError& e) {
    ASSERT_TRUE(e.context().byte_offset.has_value());
    EXPECT_EQ(*e.context().byte_offset, 8u + 5u) << e.what();
  }
  try {
    brine::parse_safetensors("abc");
    ADD_FAILURE();
  } catch (const brine::SafetensorsError& e) {
    EXPECT_EQ(e.code(), brine::errc::truncated_input);
  }
}

TEST(SafetensorsValidation, HeaderLimitIsAnOption) {
  std::string ok = file_of("{" + entry("w", "U8", "[1]", "[0,1]") + "}", "x");
  EXPECT_NO_THROW(brine::parse_safetensors(ok));
  brine::SafetensorsLoadOptions tight;
  tight.max_header_bytes = 16;
  EXPECT_THROW_WITH(brine::parse_safetensors(ok, tight), brine::SafetensorsLimitError,
                    "max_header_bytes");
}

TEST(SafetensorsValidation, AHeaderOfManyTensorsLoads) {
  // 20,000 entries: the parser is linear in the header (nlohmann's parser callbacks were
  // quadratic in an object's size).
  std::string header = "{";
  for (int i = 0; i < 20000; ++i) {
    if (i != 0) header += ",";
    header += entry("t" + std::to_string(i), "U8", "[1]",
                    "[" + std::to_string(i) + "," + std::to_string(i + 1) + "]");
  }
  header += "}";
  brine::SafetensorsHeader h = brine::parse_safetensors(file_of(header, std::string(20000, 'x')));
  ASSERT_EQ(h.tensors.size(), 20000u);
  EXPECT_EQ(h.tensors[19999].name, "t19999");
  EXPECT_EQ(h.tensors[19999].begin, 19999u);
}

// ---- choices where the spec and the reference implementations disagree --------------------

TEST(SafetensorsChoices, NullMetadataIsNoMetadata) {
  brine::SafetensorsHeader h = brine::parse_safetensors(file_of(R"({"__metadata__":null})", ""));
  EXPECT_FALSE(h.has_metadata);
  EXPECT_TRUE(h.tensors.empty());
}

TEST(SafetensorsChoices, UnalignedDataRegionIsAccepted) {
  // An 11-byte header: the data starts at byte 19.
  std::string header = "{" + entry("w", "U8", "[1]", "[0,1]") + "}";
  std::string bytes = length_prefix(header.size()) + header + "z";
  brine::StateDict dict = brine::load_safetensors(nullptr, bytes);
  EXPECT_EQ(static_cast<char>(dict.at("w").bytes()[0]), 'z');
}

TEST(SafetensorsChoices, TrailingWhitespaceInTheHeaderIsPadding) {
  std::string header = "{}\n\t  ";
  EXPECT_NO_THROW(brine::parse_safetensors(length_prefix(header.size()) + header));
}

// ---- sharded index rules ------------------------------------------------------------------

brine::StateDict two_tensors() {
  brine::StateDict dict;
  dict.insert("a", brine::Tensor::from_vector(std::vector<float>{1, 2, 3}));
  dict.insert("b", brine::Tensor::from_vector(std::vector<float>{4, 5, 6}));
  return dict;
}

// A folder with a two-shard checkpoint whose index is then replaced by `index`.
void expect_index_rule(const std::string& index, Rule rule, const std::string& mention,
                       bool first_shard_holds_both = false) {
  brine_test::TempDir dir;
  brine::ShardOptions options;
  options.max_shard_size = 12;
  brine::save_state_dict(dir.path(), two_tensors(), options);
  if (first_shard_holds_both)
    brine::save_safetensors(dir / "model-00001-of-00002.safetensors", two_tensors());
  brine::write_file_atomically(dir / "model.safetensors.index.json", index);
  for (const fs::path& p : {dir.path(), dir / "model.safetensors.index.json"}) {
    try {
      brine::load_state_dict(p);
      ADD_FAILURE() << index << ": accepted";
    } catch (const brine::SafetensorsError& e) {
      EXPECT_EQ(e.rule(), rule) << e.what();
      EXPECT_NE(std::string(e.what()).find(mention), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("model.safetensors.index.json"), std::string::npos)
          << e.what();
    }
  }
}

const char* kShard1 = "model-00001-of-00002.safetensors";
const char* kShard2 = "model-00002-of-00002.safetensors";

std::string index_with(const std::string& a_shard, const std::string& b_shard) {
  return R"({"metadata":{"total_size":24},"weight_map":{"a":")" + a_shard + R"(","b":")" + b_shard +
         "\"}}";
}

TEST(ShardedValidation, TheWrittenIndexLoads) {
  brine_test::TempDir dir;
  brine::ShardOptions options;
  options.max_shard_size = 12;
  brine::save_state_dict(dir.path(), two_tensors(), options);
  EXPECT_NE(brine::read_file(dir / "model.safetensors.index.json").find(kShard2),
            std::string::npos);
  brine::write_file_atomically(dir / "model.safetensors.index.json", index_with(kShard1, kShard2));
  EXPECT_EQ(brine::load_state_dict(dir.path()).size(), 2u);
}

TEST(ShardedValidation, InvalidIndexIsRefused) {
  expect_index_rule("{\"weight_map\":", Rule::invalid_index, "not valid JSON");
  expect_index_rule(R"({"metadata":{}})", Rule::invalid_index, "weight_map");
  expect_index_rule(R"({"weight_map":{"a":1}})", Rule::invalid_index, "'a'");
  expect_index_rule(R"({"weight_map":{"a":")" + std::string(kShard1) + R"(","a":"x"}})",
                    Rule::duplicate_name, "'a'");
}

TEST(ShardedValidation, ShardNamesOutsideTheFolderAreRefused) {
  for (std::string bad :
       {"/etc/passwd.safetensors", "../model-00001-of-00002.safetensors",
        "sub/model-00001-of-00002.safetensors", "model-00001-of-00002.bin", "..safetensors", ""})
    expect_index_rule(index_with(bad, kShard2), Rule::invalid_shard_name, "'" + bad + "'");
}

TEST(ShardedValidation, IndexAndShardsMustAgree) {
  // The index puts 'a' in the shard that holds 'b'.
  expect_index_rule(index_with(kShard2, kShard2), Rule::index_shard_mismatch, "'a'");
  // A shard holds a tensor the index does not list.
  expect_index_rule(index_with(kShard1, kShard2), Rule::index_shard_mismatch, "'b'", true);
}

}  // namespace
