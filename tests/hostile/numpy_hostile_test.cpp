// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// numpy_hostile_test.cpp: .npy and .npz files built to break the readers: object arrays,
// structured dtypes, truncation, headers that lie, absurd shapes, bad dict syntax, zip bombs,
// duplicate entries, corrupted ZIPs. Each is a typed error; none crashes or over-allocates.

#include <brine/numpy.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using brine::DType;
using brine::Tensor;

// A .npy of format 1.0 with `dict` as its header text (padded to 64 as numpy pads) and
// `data` after it.
std::string npy(const std::string& dict, const std::string& data = {}, int major = 1) {
  std::size_t length_bytes = major == 1 ? 2 : 4;
  std::string text = dict;
  while ((8 + length_bytes + text.size() + 1) % 64 != 0) text.push_back(' ');
  text.push_back('\n');
  std::string out("\x93NUMPY", 6);
  out.push_back(static_cast<char>(major));
  out.push_back('\0');
  for (std::size_t i = 0; i < length_bytes; ++i)
    out.push_back(static_cast<char>((text.size() >> (8 * i)) & 0xff));
  return out + text + data;
}

std::string header_for(const std::string& descr, const std::string& shape) {
  return "{'descr': " + descr + ", 'fortran_order': False, 'shape': " + shape + ", }";
}

// Asserts that loading `bytes` as a .npy throws exactly `code`, whose message holds `text`.
void expect_npy_error(const std::string& bytes, brine::errc code, const std::string& text) {
  try {
    brine::load_npy_from_memory(bytes);
    ADD_FAILURE() << "loaded; expected " << static_cast<int>(code) << " '" << text << "'";
  } catch (const brine::Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

template <class F>
void expect_error(F&& load, brine::errc code, const std::string& text) {
  try {
    load();
    ADD_FAILURE() << "loaded; expected '" << text << "'";
  } catch (const brine::Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

TEST(NumpyHostile, ValidHandMadeHeaderStillLoads) {
  std::string data(24, '\0');
  Tensor t = brine::load_npy_from_memory(npy(header_for("'<f4'", "(2, 3)"), data));
  EXPECT_EQ(t.shape(), (std::vector<std::int64_t>{2, 3}));
  // Python 2's longs, the other quote, no trailing comma, keys in another order.
  t = brine::load_npy_from_memory(
      npy("{\"shape\": (2L, 3L), 'fortran_order': True, 'descr': \"<f4\"}", data));
  EXPECT_EQ(t.shape(), (std::vector<std::int64_t>{2, 3}));
}

TEST(NumpyHostile, ObjectArraysAreRefusedAsPickles) {
  for (const char* descr : {"'|O'", "'<O8'", "'O'"}) {
    SCOPED_TRACE(descr);
    expect_npy_error(npy(header_for(descr, "(2,)"), "\x80\x03]q\x00."),
                     brine::errc::unsupported_content, "pickle");
  }
  EXPECT_THROW_WITH(brine::load_npy_from_memory(npy(header_for("'|O'", "(1,)"), "x")),
                    brine::FormatError, "object array");
}

TEST(NumpyHostile, StructuredAndUnknownDtypesAreRefusedNotMisread) {
  expect_npy_error(npy(header_for("[('x', '<i4'), ('y', '<f8')]", "(2,)"), std::string(24, 'a')),
                   brine::errc::unsupported_content, "structured");
  expect_npy_error(npy(header_for("[('a', [('b', '<i4', (2,))])]", "(1,)"), std::string(8, 'a')),
                   brine::errc::unsupported_content, "structured");
  for (const char* descr :
       {"'<f16'", "'|V2'", "'<M8[ns]'", "'|S3'", "'<U2'", "'<c32'", "'bogus'"}) {
    SCOPED_TRACE(descr);
    expect_npy_error(npy(header_for(descr, "(1,)"), std::string(16, 'a')),
                     brine::errc::unsupported_content, "no brine dtype");
  }
  expect_npy_error(npy(header_for("'=f4'", "(1,)"), "abcd"), brine::errc::corrupt_data,
                   "byte order");
  expect_npy_error(npy(header_for("'|f4'", "(1,)"), "abcd"), brine::errc::corrupt_data,
                   "byte order");
  expect_npy_error(npy(header_for("'f4'", "(1,)"), "abcd"), brine::errc::corrupt_data,
                   "byte-order");
  expect_npy_error(npy(header_for("3", "(1,)"), "abcd"), brine::errc::corrupt_data,
                   "not a dtype string");
}

TEST(NumpyHostile, EveryTruncationIsTruncatedInput) {
  std::string whole = npy(header_for("'<i8'", "(3,)"), std::string(24, '\x07'));
  ASSERT_NO_THROW(brine::load_npy_from_memory(whole));
  for (std::size_t n = 0; n < whole.size(); ++n) {
    SCOPED_TRACE(n);
    expect_npy_error(whole.substr(0, n), brine::errc::truncated_input, "truncated");
  }
}

TEST(NumpyHostile, TrailingBytesAreRefused) {
  expect_npy_error(npy(header_for("'<i8'", "(3,)"), std::string(25, '\x07')),
                   brine::errc::corrupt_data, "1 bytes after");
}

TEST(NumpyHostile, HeaderLengthLies) {
  std::string good = npy(header_for("'<f4'", "(2,)"), std::string(8, '\0'));
  // Longer than the file.
  std::string longer = good;
  longer[8] = '\xff';
  longer[9] = '\x7f';
  expect_npy_error(longer, brine::errc::truncated_input, "header claims");
  // Shorter than the dict: the header text ends inside it.
  std::string shorter = good;
  shorter[8] = 20;
  shorter[9] = 0;
  try {
    brine::load_npy_from_memory(shorter);
    ADD_FAILURE() << "loaded a header cut short";
  } catch (const brine::FormatError& e) {
    EXPECT_EQ(e.code(), brine::errc::corrupt_data) << e.what();
  }
  // Over max_header_bytes: refused before it is parsed (version 2.0: a 4-byte length).
  std::string huge =
      npy(header_for("'<f4'", "(2,)") + std::string(70000, ' '), std::string(8, '\0'), 2);
  expect_npy_error(huge, brine::errc::limit_exceeded, "max_header_bytes");
  brine::NumpyLoadOptions roomy;
  roomy.max_header_bytes = 1 << 20;
  EXPECT_NO_THROW(brine::load_npy_from_memory(huge, roomy));
}

TEST(NumpyHostile, VersionsOtherThanOneTwoThree) {
  std::string v4 = npy(header_for("'<f4'", "(2,)"), std::string(8, '\0'), 2);
  v4[6] = 4;
  expect_npy_error(v4, brine::errc::newer_format_version, "format version 4.0");
  std::string v11 = npy(header_for("'<f4'", "(2,)"), std::string(8, '\0'));
  v11[7] = 1;
  expect_npy_error(v11, brine::errc::corrupt_data, "format version 1.1");
  expect_npy_error("\x93NUMPZ\x01\x00", brine::errc::corrupt_data, "not a .npy");
  expect_npy_error("PK\x03\x04", brine::errc::corrupt_data, "not a .npy");
}

TEST(NumpyHostile, AbsurdShapes) {
  // The element count overflows 64 bits: refused before anything is allocated.
  expect_npy_error(npy(header_for("'<f4'", "(4611686018427387904, 4611686018427387904)")),
                   brine::errc::limit_exceeded, "overflows");
  // The byte count overflows size_t.
  expect_npy_error(npy(header_for("'<c16'", "(9223372036854775807,)")), brine::errc::limit_exceeded,
                   "larger than the address space");
  expect_npy_error(npy(header_for("'<f4'", "(99999999999999999999999,)")),
                   brine::errc::limit_exceeded, "64 bits");
  expect_npy_error(npy(header_for("'<f4'", "(-1,)")), brine::errc::corrupt_data, "negative");
  // The error points at the offending literal: the header text starts at byte 10.
  std::string negative = npy(header_for("'<f4'", "(-1,)"));
  try {
    brine::load_npy_from_memory(negative);
    ADD_FAILURE() << "loaded a negative dimension";
  } catch (const brine::FormatError& e) {
    EXPECT_EQ(e.context().byte_offset, negative.find("-1"));
    EXPECT_EQ(e.context().source, "memory buffer");
  }
  // A plausible shape the data does not hold.
  expect_npy_error(npy(header_for("'<f4'", "(1000000000, 1000)"), "abcd"),
                   brine::errc::truncated_input, "4000000000000 bytes of data");
  std::string rank65 = "(";
  for (int i = 0; i < 65; ++i) rank65 += "1, ";
  rank65 += ")";
  expect_npy_error(npy(header_for("'<f4'", rank65), "abcd"), brine::errc::corrupt_data,
                   "at most 64");
}

TEST(NumpyHostile, BadDictSyntax) {
  struct Case {
    std::string dict, message;
  };
  std::vector<Case> cases = {
      {"{'descr': '<f4', 'fortran_order': False}", "no 'shape' key"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", "unknown key 'x'"},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", "twice"},
      {"{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}", "expected ',' or '}'"},
      {"{'descr' '<f4', 'fortran_order': False, 'shape': (1,)}", "expected ':'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': [1]}", "not a tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1)}", "not a tuple"},
      {"{'descr': '<f4', 'fortran_order': 1, 'shape': (1,)}", "not True or False"},
      {"{'descr': '<f4', 'fortran_order': false, 'shape': (1,)}", "unexpected character 'f'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': ('1',)}", "not an integer"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x", "bytes after"},
      {"{'descr': '<f4' 'fortran_order': False, 'shape': (1,)}", "expected ',' or '}'"},
      {"['descr', '<f4']", "does not start with '{'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (01,)}", "leading zero"},
      {"{3: '<f4', 'fortran_order': False, 'shape': (1,)}", "not a string"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), \x01}", "\\x01"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': " + std::string(100, '(') + "1,)}",
       "nest deeper"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", "expected ',' or '}'"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.dict);
    expect_npy_error(npy(c.dict, "abcd"), brine::errc::corrupt_data, c.message);
  }
  // Python 2's 3L is numpy's (and brine's) only for versions 1.0 and 2.0.
  expect_npy_error(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1L,)}", "abcd", 3),
                   brine::errc::corrupt_data, "expected ',' or ')'");
}

TEST(NumpyHostile, EveryBitFlipOfASmallNpyIsLoadedOrTyped) {
  std::string whole =
      brine::npy_bytes(Tensor::from_vector(std::vector<std::int16_t>{1, -2, 3, -4, 5, -6}, {2, 3}));
  for (std::size_t i = 0; i < whole.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = whole;
      flipped[i] = static_cast<char>(flipped[i] ^ (1 << bit));
      try {
        brine::load_npy_from_memory(flipped);
      } catch (const brine::Error&) {
      }
    }
  }
}

// ---- .npz -------------------------------------------------------------------------------

brine::StateDict two_arrays() {
  brine::StateDict dict;
  dict.insert("a", Tensor::from_vector(std::vector<float>{1, 2, 3, 4}));
  dict.insert("b", Tensor::from_vector(std::vector<std::int32_t>{5, 6, 7}));
  return dict;
}

std::vector<std::size_t> find_all(const std::string& bytes, const std::string& needle) {
  std::vector<std::size_t> at;
  for (std::size_t p = bytes.find(needle); p != std::string::npos; p = bytes.find(needle, p + 1))
    at.push_back(p);
  return at;
}

TEST(NumpyHostile, ZipBombIsALimitErrorBeforeInflating) {
  // 8 MiB of zeros deflate about a thousand times.
  brine::StateDict dict;
  dict.insert("zeros", Tensor(DType::float32, {2 * 1024 * 1024}));
  std::string bomb = brine::npz_bytes(dict, true);
  ASSERT_LT(bomb.size(), 64u * 1024);
  expect_error([&] { brine::load_npz_from_memory(bomb); }, brine::errc::limit_exceeded,
               "max_compression_ratio");
  expect_error([&] { brine::inspect_npz_from_memory(bomb); }, brine::errc::limit_exceeded,
               "max_compression_ratio");
  brine::NumpyLoadOptions trusting;
  trusting.max_compression_ratio = 2000;
  EXPECT_EQ(brine::load_npz_from_memory(bomb, trusting), dict);
}

TEST(NumpyHostile, DeclaredSizesThatLieAreTyped) {
  brine::StateDict dict = two_arrays();
  for (bool compress : {false, true}) {
    std::string zip = brine::npz_bytes(dict, compress);
    // The uncompressed size of the first entry (central header +24, local header +22): 4 GiB
    // minus one.
    for (std::size_t at : find_all(zip, "PK\x01\x02"))
      std::memcpy(&zip[at + 24], "\xff\xff\xff\x7f", 4);
    for (std::size_t at : find_all(zip, "PK\x03\x04"))
      std::memcpy(&zip[at + 22], "\xff\xff\xff\x7f", 4);
    SCOPED_TRACE(compress);
    EXPECT_THROW(brine::load_npz_from_memory(zip), brine::FormatError);
  }
}

TEST(NumpyHostile, DuplicateEntriesAreRefused) {
  std::string zip = brine::npz_bytes(two_arrays());
  for (std::size_t at : find_all(zip, "b.npy")) zip[at] = 'a';
  ASSERT_EQ(find_all(zip, "a.npy").size(), 4u);  // two local and two central headers
  expect_error([&] { brine::load_npz_from_memory(zip); }, brine::errc::corrupt_data,
               "appears twice");
}

TEST(NumpyHostile, TooManyEntriesIsALimitError) {
  brine::NumpyLoadOptions one;
  one.max_entries = 1;
  expect_error([&] { brine::load_npz_from_memory(brine::npz_bytes(two_arrays()), one); },
               brine::errc::limit_exceeded, "max_entries");
}

TEST(NumpyHostile, CrcMismatchIsAChecksumError) {
  std::string zip = brine::npz_bytes(two_arrays());
  // The last byte of the first entry's data: 4.0f's high byte, just before the next header.
  std::size_t second = find_all(zip, "PK\x03\x04").at(1);
  zip[second - 1] = static_cast<char>(zip[second - 1] ^ 0x01);
  expect_error([&] { brine::load_npz_from_memory(zip); }, brine::errc::checksum_mismatch, "a.npy");
}

TEST(NumpyHostile, OtherCompressionMethodsAreUnsupported) {
  std::string zip = brine::npz_bytes(two_arrays());
  // bzip2 (12) in every local and central header; the data is then not bzip2 at all.
  for (std::size_t at : find_all(zip, "PK\x01\x02")) zip[at + 10] = 12;
  for (std::size_t at : find_all(zip, "PK\x03\x04")) zip[at + 8] = 12;
  expect_error([&] { brine::load_npz_from_memory(zip); }, brine::errc::unsupported_content,
               "compression method 12");
}

TEST(NumpyHostile, NotAZip) {
  expect_error([] { brine::load_npz_from_memory(""); }, brine::errc::truncated_input, "empty");
  expect_error([] { brine::load_npz_from_memory(std::string(100, 'x')); },
               brine::errc::corrupt_data, "not an .npz");
  // A .npy is not an .npz.
  expect_error([] { brine::load_npz_from_memory(brine::npy_bytes(Tensor())); },
               brine::errc::corrupt_data, "not an .npz");
}

TEST(NumpyHostile, AnEntryThatIsNotANpyNamesTheEntry) {
  brine::StateDict dict = two_arrays();
  std::string zip = brine::npz_bytes(dict);
  std::size_t magic = zip.find("\x93NUMPY");
  zip[magic + 1] = 'X';  // stored: the CRC fails too, but the header is read first
  try {
    brine::load_npz_from_memory(zip, {}, "w.npz");
    ADD_FAILURE() << "loaded";
  } catch (const brine::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("w.npz:a.npy"), std::string::npos) << e.what();
  }
}

TEST(NumpyHostile, EveryTruncationAndBitFlipOfAnNpzIsLoadedOrTyped) {
  for (bool compress : {false, true}) {
    std::string whole = brine::npz_bytes(two_arrays(), compress);
    ASSERT_EQ(brine::load_npz_from_memory(whole), two_arrays());
    for (std::size_t n = 0; n < whole.size(); ++n) {
      try {
        brine::load_npz_from_memory(whole.substr(0, n));
        ADD_FAILURE() << "a truncation to " << n << " bytes loaded";
      } catch (const brine::Error&) {
      }
    }
    for (std::size_t i = 0; i < whole.size(); ++i) {
      for (int bit : {0, 3, 7}) {
        std::string flipped = whole;
        flipped[i] = static_cast<char>(flipped[i] ^ (1 << bit));
        try {
          brine::load_npz_from_memory(flipped);
        } catch (const brine::Error&) {
        }
      }
    }
  }
}

// load_npz of a file maps stored entries; it is as strict as the libzip path of
// load_npz_from_memory: the ZIP structure is validated (local headers against the central
// directory, bounds, overlap) and the CRC of a mapped entry checked unless verify_crc is off.
brine::StateDict mappable() {
  brine::StateDict dict;
  dict.insert("a", Tensor::from_vector(std::vector<std::uint8_t>{1, 2, 3, 4, 5, 6, 7, 8}));
  dict.insert("b", Tensor::from_vector(std::vector<std::int8_t>{-1, -2, -3}));
  return dict;
}

void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.flush());
}

TEST(NumpyHostile, MappedNpzEntriesAreCheckedAsStrictly) {
  brine_test::TempDir dir;
  const fs::path file = dir / "m.npz";
  const std::string whole = brine::npz_bytes(mappable(), false);
  write_bytes(file, whole);
  brine::StateDict loaded = brine::load_npz(file);
  ASSERT_EQ(loaded, mappable());
  ASSERT_TRUE(loaded.at("a").is_mapped());

  // The last data byte of "a", before the second local header: a CRC mismatch, caught by
  // default; with verify_crc off the view shows the changed byte.
  std::string flipped = whole;
  const std::size_t second = find_all(whole, "PK\x03\x04").at(1);
  flipped[second - 1] = static_cast<char>(flipped[second - 1] ^ 0x01);
  write_bytes(file, flipped);
  expect_error([&] { brine::load_npz(file); }, brine::errc::checksum_mismatch, "a.npy");
  brine::NumpyLoadOptions unchecked;
  unchecked.verify_crc = false;
  brine::StateDict trusted = brine::load_npz(file, unchecked);
  EXPECT_TRUE(trusted.at("a").is_mapped());
  EXPECT_EQ(trusted.at("a").values<std::uint8_t>()[7], 9);

  // The second local header's CRC disagrees with the central directory (libzip's consistency
  // check sees it first, as from memory, without naming the entry).
  std::string local = whole;
  local[second + 14] = static_cast<char>(local[second + 14] ^ 0x10);
  write_bytes(file, local);
  expect_error([&] { brine::load_npz(file); }, brine::errc::corrupt_data, "not a valid .npz");

  // The second central record points at the first local header: overlapping entries, or a
  // header naming another entry, never a load.
  std::string overlap = whole;
  const std::size_t central = find_all(whole, "PK\x01\x02").at(1);
  std::memset(&overlap[central + 42], 0, 4);
  write_bytes(file, overlap);
  expect_error([&] { brine::load_npz(file); }, brine::errc::corrupt_data, "not a valid .npz");

  // Every truncation fails; every bit flip loads or is a brine::Error, and what the libzip
  // path refuses the mapped path refuses too.
  for (std::size_t n = 0; n < whole.size(); ++n) {
    write_bytes(file, whole.substr(0, n));
    try {
      brine::load_npz(file);
      ADD_FAILURE() << "a truncation to " << n << " bytes loaded";
    } catch (const brine::Error&) {
    }
  }
  for (std::size_t i = 0; i < whole.size(); ++i) {
    for (int bit : {0, 7}) {
      std::string bad = whole;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      bool memory_loads = true;
      try {
        brine::load_npz_from_memory(bad);
      } catch (const brine::Error&) {
        memory_loads = false;
      }
      write_bytes(file, bad);
      try {
        brine::load_npz(file);
        EXPECT_TRUE(memory_loads) << "byte " << i << " bit " << bit
                                  << ": the mapped load accepts what libzip refuses";
      } catch (const brine::Error&) {
      }
    }
  }
}

}  // namespace
