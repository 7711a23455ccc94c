// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// npz_object_hostile_test.cpp: object .npz files that break a rule of docs/format/numpy.md §4,
// each refused with a typed error naming the rule; and truncations and bit flips of a valid
// one, each a typed error or a whole object.

#include <brine/npz_object.hpp>
#include <brine/types/tensor.hpp>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "test_util.hpp"

namespace {

using Entries = std::vector<std::pair<std::string, std::string>>;

std::uint32_t crc32(const std::string& bytes) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char c : bytes) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

void put16(std::string& out, std::uint32_t v) {
  out += static_cast<char>(v & 0xFF);
  out += static_cast<char>((v >> 8) & 0xFF);
}
void put32(std::string& out, std::uint32_t v) {
  put16(out, v & 0xFFFF);
  put16(out, v >> 16);
}

// A ZIP of stored entries, as numpy.savez writes them, with any names and contents: the
// files these tests need cannot come from brine's own writer.
std::string zip_of(const Entries& entries) {
  std::string out, directory;
  for (const auto& [name, data] : entries) {
    const std::uint32_t offset = static_cast<std::uint32_t>(out.size());
    const std::uint32_t crc = crc32(data);
    const auto size = static_cast<std::uint32_t>(data.size());
    auto common = [&](std::string& s) {
      put16(s, 20);     // version needed
      put16(s, 0x800);  // flags: UTF-8 names
      put16(s, 0);      // stored
      put16(s, 0);      // time
      put16(s, 0x21);   // date: 1980-01-01
      put32(s, crc);
      put32(s, size);
      put32(s, size);
      put16(s, static_cast<std::uint32_t>(name.size()));
      put16(s, 0);  // extra
    };
    put32(out, 0x04034b50);
    common(out);
    out += name;
    out += data;
    put32(directory, 0x02014b50);
    put16(directory, 20);  // version made by
    common(directory);
    put16(directory, 0);  // comment
    put16(directory, 0);  // disk
    put16(directory, 0);  // internal attributes
    put32(directory, 0);  // external attributes
    put32(directory, offset);
    directory += name;
  }
  const auto directory_offset = static_cast<std::uint32_t>(out.size());
  out += directory;
  put32(out, 0x06054b50);
  put16(out, 0);
  put16(out, 0);
  put16(out, static_cast<std::uint32_t>(entries.size()));
  put16(out, static_cast<std::uint32_t>(entries.size()));
  put32(out, static_cast<std::uint32_t>(directory.size()));
  put32(out, directory_offset);
  put16(out, 0);
  return out;
}

std::string npy_of(std::vector<float> values) {
  return brine::npy_bytes(brine::Tensor::from_vector(std::move(values)));
}

std::string tensor_ref_json(const std::string& name, const std::string& shape = "[2]",
                            const std::string& dtype = "float32") {
  return R"({"$tensor_ref": ")" + name + R"(", "dtype": ")" + dtype + R"(", "shape": )" + shape +
         "}";
}

// __brine__.json around `value` (a map, so no type or version is needed).
std::string description(const std::string& value, const std::string& format_version = "1") {
  return R"({"format": "brine-npz", "format_version": )" + format_version + R"(, "value": )" +
         value + "}";
}

brine::Value load(const std::string& bytes) {
  return brine::load_npz_state_from_memory(bytes, {}, {}, "hostile.npz");
}

template <class E>
void expect_refused(const std::string& bytes, brine::errc code, const std::string& text) {
  bool caught = false;
  try {
    load(bytes);
  } catch (const E& e) {
    caught = true;
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("hostile.npz"), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
    caught = true;
  }
  EXPECT_TRUE(caught) << "not refused: expected '" << text << "'";
}

TEST(NpzObjectHostile, HandWrittenValidFileLoads) {
  // The round-trip sibling of every refusal below: the same writer, the rules kept.
  std::string bytes =
      zip_of({{"w.npy", npy_of({1, 2})},
              {"__brine__.json", description(R"({"a": )" + tensor_ref_json("w") + R"(, "b": )" +
                                             tensor_ref_json("w") + "}")}});
  brine::Value v = load(bytes);
  const brine::Tensor& a = v.as_map().at("a").as_tensor();
  const brine::Tensor& b = v.as_map().at("b").as_tensor();
  EXPECT_EQ(a.values<float>()[1], 2.0f);
  EXPECT_EQ(a.storage_id(), b.storage_id()) << "two references to one entry share it";
}

TEST(NpzObjectHostile, RefusesFileWithoutDescription) {
  expect_refused<brine::FormatError>(zip_of({{"w.npy", npy_of({1, 2})}}), brine::errc::corrupt_data,
                                     "no '__brine__.json' entry");
}

TEST(NpzObjectHostile, RefusesMissingReferencedEntry) {
  expect_refused<brine::FormatError>(
      zip_of({{"w.npy", npy_of({1, 2})},
              {"__brine__.json", description(R"({"a": )" + tensor_ref_json("w") + R"(, "b": )" +
                                             tensor_ref_json("v") + "}")}}),
      brine::errc::corrupt_data, "the archive has no entry 'v.npy'");
}

TEST(NpzObjectHostile, RefusesReferenceOutsideTheArchive) {
  for (std::string name : {"../w", "/w", "a/../../w", "./w", "a\\\\w", "a//w", ""}) {
    SCOPED_TRACE(name);
    expect_refused<brine::FormatError>(
        zip_of({{"w.npy", npy_of({1, 2})},
                {"__brine__.json", description(R"({"a": )" + tensor_ref_json(name) + "}")}}),
        brine::errc::corrupt_data, "a path outside the archive");
  }
}

TEST(NpzObjectHostile, RefusesEntryReferencedWithConflictingDtypeOrShape) {
  // Two references to one entry that disagree: one of them disagrees with the entry.
  expect_refused<brine::FormatError>(
      zip_of({{"w.npy", npy_of({1, 2})},
              {"__brine__.json", description(R"({"a": )" + tensor_ref_json("w") + R"(, "b": )" +
                                             tensor_ref_json("w", "[1, 2]") + "}")}}),
      brine::errc::corrupt_data,
      "'$tensor_ref' to 'w' says float32[1, 2], the entry holds float32[2]");
  expect_refused<brine::FormatError>(
      zip_of({{"w.npy", npy_of({1, 2})},
              {"__brine__.json",
               description(R"({"a": )" + tensor_ref_json("w", "[2]", "int32") + "}")}}),
      brine::errc::corrupt_data, "says int32[2], the entry holds float32[2]");
}

TEST(NpzObjectHostile, RefusesUnknownEntries) {
  const std::string json = description(R"({"a": )" + tensor_ref_json("w") + "}");
  expect_refused<brine::FormatError>(
      zip_of({{"w.npy", npy_of({1, 2})}, {"extra.npy", npy_of({3})}, {"__brine__.json", json}}),
      brine::errc::corrupt_data, "entry 'extra.npy' is not referenced");
  expect_refused<brine::FormatError>(
      zip_of({{"w.npy", npy_of({1, 2})}, {"notes.txt", "hello"}, {"__brine__.json", json}}),
      brine::errc::corrupt_data, "entry 'notes.txt' is neither an array nor '__brine__.json'");
}

TEST(NpzObjectHostile, RefusesMalformedDescription) {
  auto with = [](const std::string& json) {
    return zip_of({{"w.npy", npy_of({1, 2})}, {"__brine__.json", json}});
  };
  expect_refused<brine::FormatError>(with("{\"format\": "), brine::errc::corrupt_data,
                                     "__brine__.json");
  expect_refused<brine::FormatError>(
      with(R"({"format": "brine-json", "format_version": 1, "value": )" + tensor_ref_json("w") +
           "}"),
      brine::errc::corrupt_data, R"(does not say "format": "brine-npz")");
  expect_refused<brine::FormatError>(
      with(R"({"format": "brine-npz", "format_version": 1, "value": {}, "x": )" +
           tensor_ref_json("w") + "}"),
      brine::errc::corrupt_data, "has an unknown member 'x'");
  expect_refused<brine::FormatError>(
      with(description(R"({"$tensor_ref": "w", "dtype": "float32", "shape": [2], "x": 1})")),
      brine::errc::corrupt_data, "'$tensor_ref' may only come with 'dtype' and 'shape', both");
  // In an .npz every reference says what it refers to.
  expect_refused<brine::FormatError>(with(description(R"({"$tensor_ref": "w"})")),
                                     brine::errc::corrupt_data,
                                     "'$tensor_ref' to 'w' lacks 'dtype' and 'shape'");
  expect_refused<brine::FormatError>(with(description(tensor_ref_json("w", "[2]", "float99"))),
                                     brine::errc::corrupt_data, "unknown dtype 'float99'");
  // The root's type and version, repeated for readers without brine, must be the root's.
  expect_refused<brine::FormatError>(
      with(R"({"format": "brine-npz", "format_version": 1, "type": "a.B", "version": 2,
               "value": {"$type": "a.B", "$version": 1, "w": )" +
           tensor_ref_json("w") + "}}"),
      brine::errc::corrupt_data, "\"version\" is not the root object's version 1");
}

TEST(NpzObjectHostile, RefusesNewerFormatVersion) {
  expect_refused<brine::VersionError>(
      zip_of({{"w.npy", npy_of({1, 2})},
              {"__brine__.json", description(R"({"a": )" + tensor_ref_json("w") + "}", "2")}}),
      brine::errc::newer_format_version, "format version 2");
}

TEST(NpzObjectHostile, PlainJsonParserRefusesTensorReferences) {
  // Outside an object .npz a reference has nothing to resolve against.
  EXPECT_THROW_WITH(brine::value_from_json(tensor_ref_json("w")), brine::FormatError,
                    "unknown key '$tensor_ref'");
}

TEST(NpzObjectHostile, TruncationsAndBitFlipsAreTypedErrorsOrWholeObjects) {
  brine::Value state(brine::Value::Map{
      {"w", brine::Value(brine::Tensor::from_vector(std::vector<float>{1, 2, 3}))},
      {"n", brine::Value(std::int64_t{7})}});
  const std::string bytes = brine::npz_object_bytes(state);
  ASSERT_EQ(load(bytes), state);
  std::size_t refused = 0;
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    try {
      load(bytes.substr(0, n));
      ADD_FAILURE() << "a truncation to " << n << " bytes loaded";
    } catch (const brine::Error&) {
      ++refused;
    }
  }
  EXPECT_EQ(refused, bytes.size());
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    try {
      brine::Value v = load(brine_test::corrupt(bytes, i));
      // A flip the ZIP does not cover (a date, an attribute) may load: then it is whole.
      EXPECT_EQ(v, state) << "a flip at " << i << " loaded other data";
    } catch (const brine::Error&) {
    }
  }
}

}  // namespace
