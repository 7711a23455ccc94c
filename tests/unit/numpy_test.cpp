// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// numpy_test.cpp: .npy and .npz against numpy itself, both ways: what numpy writes (now, and
// the golden files of tests/data/numpy/golden/) loads in brine with the same bytes, and what
// brine writes loads in numpy with the same dtype, shape and values.

#include <algorithm>
#include <brine/numpy.hpp>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "peak_memory.hpp"
#include "test_util.hpp"

#ifndef BRINE_PYTHON_WITH_NUMPY
#define BRINE_PYTHON_WITH_NUMPY ""
#endif
#ifndef BRINE_NUMPY_DATA_DIR
#define BRINE_NUMPY_DATA_DIR ""
#endif
#ifndef BRINE_NUMPY_CHECK_SCRIPT
#define BRINE_NUMPY_CHECK_SCRIPT ""
#endif

namespace {

namespace fs = std::filesystem;
using brine::DType;
using brine::Tensor;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string out;
  for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? "," : "") + std::to_string(shape[i]);
  return out;
}

void require_numpy() {
  ASSERT_STRNE(BRINE_PYTHON_WITH_NUMPY, "")
      << "no Python interpreter with numpy was found at configure time: install python3-numpy";
}

int run_python(const std::string& script, const fs::path& dir) {
  std::string command =
      std::string(BRINE_PYTHON_WITH_NUMPY) + " " + script + " '" + dir.string() + "'";
  return std::system(command.c_str());
}

// Loads every array the manifest of `dir` lists (make_files.py's format) and compares its
// dtype, shape and bytes with what numpy recorded. Returns the number of arrays checked.
std::size_t expect_manifest_loads(const fs::path& dir) {
  std::ifstream manifest(dir / "manifest.tsv");
  EXPECT_TRUE(manifest) << "no manifest in " << dir;
  std::map<std::string, brine::StateDict> archives;
  std::size_t checked = 0;
  std::string line;
  while (std::getline(manifest, line)) {
    if (line.empty()) continue;
    std::vector<std::string> field;
    std::istringstream columns(line);
    for (std::string f; std::getline(columns, f, '\t');) field.push_back(f);
    if (field.size() == 4) field.emplace_back();  // a 0-d array's empty shape
    EXPECT_EQ(field.size(), 5u) << line;
    if (field.size() != 5) continue;
    const std::string& file = field[0];
    const std::string& entry = field[1];
    SCOPED_TRACE(file + (entry == "-" ? "" : ":" + entry));
    Tensor t;
    if (entry == "-") {
      t = brine::load_npy(dir / file);
    } else {
      auto found = archives.find(file);
      if (found == archives.end())
        found = archives.emplace(file, brine::load_npz(dir / file)).first;
      const Tensor* in_archive = found->second.find(entry);
      EXPECT_NE(in_archive, nullptr) << "no entry '" << entry << "'";
      if (in_archive == nullptr) continue;
      t = *in_archive;
    }
    EXPECT_STREQ(brine::dtype_name(t.dtype()), field[3].c_str());
    EXPECT_EQ(shape_text(t.shape()), field[4]);
    std::string raw = read_file(dir / field[2]);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(t.bytes()), t.nbytes()), raw)
        << "bytes differ from " << field[2];
    ++checked;
  }
  return checked;
}

TEST(Numpy, NumpyWrittenFilesLoadWithTheSameBytes) {
  require_numpy();
  brine_test::TempDir dir;
  ASSERT_EQ(run_python(std::string(BRINE_NUMPY_DATA_DIR) + "/make_files.py", dir.path()), 0);
  EXPECT_GE(expect_manifest_loads(dir.path()), 47u);
}

// The golden files were written once by make_files.py (tests/data/numpy/README.md): the
// format keeps loading whatever numpy the machine has, or none.
TEST(Numpy, GoldenFilesLoadWithTheSameBytes) {
  EXPECT_GE(expect_manifest_loads(fs::path(BRINE_NUMPY_DATA_DIR) / "golden"), 47u);
}

TEST(Numpy, AlignedLittleEndianDataIsAViewOfTheMappedFile) {
  fs::path golden = fs::path(BRINE_NUMPY_DATA_DIR) / "golden";
  Tensor t = brine::load_npy(golden / "c_f8.npy");
  EXPECT_TRUE(t.is_mapped());
  EXPECT_EQ(t.storage_offset() % 64, 0u);
  EXPECT_EQ(t.values<double>()[1], -2.25);
  // An older writer's 16-byte alignment is enough for every dtype.
  Tensor old = brine::load_npy(golden / "aligned16_f8.npy");
  EXPECT_TRUE(old.is_mapped());
  EXPECT_EQ(old.storage_offset() % 16, 0u);
}

TEST(Numpy, MisalignedBigEndianAndFortranDataAreConvertedIntoOwnedMemory) {
  fs::path golden = fs::path(BRINE_NUMPY_DATA_DIR) / "golden";
  for (const char* name : {"misaligned_f8.npy", "misaligned_c16.npy", "be_f8.npy", "fortran_f4.npy",
                           "fortran_be_i8.npy"}) {
    SCOPED_TRACE(name);
    Tensor t = brine::load_npy(golden / name);
    EXPECT_FALSE(t.is_mapped());
    EXPECT_TRUE(t.is_writable());
  }
  Tensor misaligned = brine::load_npy(golden / "misaligned_f8.npy");
  EXPECT_EQ(misaligned.values<double>()[4], 1.5);  // typed access works on the aligned copy
  Tensor fortran = brine::load_npy(golden / "fortran_f4.npy");
  ASSERT_EQ(fortran.shape(), (std::vector<std::int64_t>{2, 3, 4}));
  // make_files.py: element [i][j][k] of arange*1.25-3.5 in C order.
  EXPECT_EQ(fortran.values<float>()[1 * 12 + 2 * 4 + 3], (1 * 12 + 2 * 4 + 3) * 1.25f - 3.5f);
}

TEST(Numpy, HeaderIsReadWithoutTheData) {
  fs::path golden = fs::path(BRINE_NUMPY_DATA_DIR) / "golden";
  brine::NpyHeader h = brine::inspect_npy(golden / "fortran_be_i8.npy");
  EXPECT_EQ(h.dtype, DType::int64);
  EXPECT_TRUE(h.big_endian);
  EXPECT_TRUE(h.fortran_order);
  EXPECT_EQ(h.descr, ">i8");
  EXPECT_EQ(h.shape, (std::vector<std::int64_t>{3, 5}));
  EXPECT_EQ(h.data_nbytes, 120u);
  EXPECT_EQ(brine::inspect_npy(golden / "version_3_0.npy").major_version, 3);

  brine::NpzContents z = brine::inspect_npz(golden / "deflate.npz");
  ASSERT_EQ(z.arrays.size(), 5u);
  EXPECT_EQ(z.arrays[2].name, "dir/c");
  EXPECT_EQ(z.arrays[2].header.dtype, DType::complex64);
  EXPECT_TRUE(z.arrays[2].compressed);
  EXPECT_EQ(z.arrays[2].header.shape, (std::vector<std::int64_t>{2, 2}));
  EXPECT_TRUE(z.skipped.empty());
  EXPECT_FALSE(brine::inspect_npz(golden / "stored.npz").arrays[0].compressed);
}

// A stored entry whose data is C order, little-endian and aligned for its dtype views the
// mapped file; others are copies. numpy's savez does not align the data (Python's zipfile
// writes no padding): of zip64_stored.npz, "y" (uint16 at an even offset) is aligned and "x"
// (float64 at offset 183) is not. Deflated entries are always inflated into memory.
TEST(Numpy, StoredAlignedNpzEntriesViewTheMappedFile) {
  fs::path golden = fs::path(BRINE_NUMPY_DATA_DIR) / "golden";
  brine::StateDict numpy = brine::load_npz(golden / "zip64_stored.npz");
  EXPECT_TRUE(numpy.at("y").is_mapped());
  EXPECT_FALSE(numpy.at("y").is_writable());
  EXPECT_FALSE(numpy.at("x").is_mapped()) << "misaligned float64 data is copied";
  EXPECT_EQ(numpy, brine::load_npz_from_memory(brine::npz_bytes(numpy)));
  for (const auto& [name, t] : brine::load_npz(golden / "zip64_deflate.npz"))
    EXPECT_FALSE(t.is_mapped()) << name;
  // Big-endian and Fortran-order entries are converted, so copied.
  brine::StateDict stored = brine::load_npz(golden / "stored.npz");
  EXPECT_FALSE(stored.at("big_endian").is_mapped());
  EXPECT_FALSE(stored.at("fortran").is_mapped());

  // One-byte dtypes are always aligned: brine's own stored .npz of them is mapped.
  brine_test::TempDir dir;
  brine::StateDict bytes;
  bytes.insert("u", Tensor::from_vector(std::vector<std::uint8_t>{1, 2, 3, 4, 5}));
  bytes.insert("flag", Tensor::from_vector(std::vector<std::int8_t>{1, 0}));
  brine::save_npz(dir / "b.npz", bytes, false);
  brine::StateDict back = brine::load_npz(dir / "b.npz");
  EXPECT_EQ(back, bytes);
  EXPECT_TRUE(back.at("u").is_mapped());
  EXPECT_EQ(back.at("u").storage_id(), back.at("flag").storage_id()) << "one mapping";
  brine::save_npz(dir / "d.npz", bytes, true);
  EXPECT_FALSE(brine::load_npz(dir / "d.npz").at("u").is_mapped());
}

// Names of every length from 1 to 70 move the local header's end through every offset
// modulo 64, so the writer pads by every amount, the ones under 4 bytes too.
brine::StateDict names_of_every_length() {
  brine::StateDict dict;
  for (std::size_t n = 1; n <= 70; ++n) {
    std::vector<double> values(n % 5 + 1);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(n) + 0.25 * i;
    dict.insert(std::string(n, static_cast<char>('a' + n % 26)), Tensor::from_vector(values));
  }
  return dict;
}

TEST(Numpy, BrineStoredNpzDataIs64AlignedAndLoadsMapped) {
  brine_test::TempDir dir;
  brine::StateDict dict;
  dict.insert("f32", Tensor::from_vector(std::vector<float>{1.5f, -2, 3, 4, 5, 6}, {2, 3}));
  dict.insert("f64", Tensor::from_vector(std::vector<double>{0.5, -1e300, 7}));
  dict.insert("i64", Tensor::from_vector(std::vector<std::int64_t>{-1, 1LL << 62, 3, 4, 5}));
  dict.insert("odd", Tensor::from_vector(std::vector<std::int16_t>{1, 2, 3}));
  dict.insert("nested/name", Tensor::from_vector(std::vector<float>{9}));
  for (auto& [name, t] : names_of_every_length()) dict.insert(name, t);
  brine::save_npz(dir / "a.npz", dict, false);
  EXPECT_EQ(read_file(dir / "a.npz"), brine::npz_bytes(dict, false)) << "file and memory agree";
  brine::StateDict back = brine::load_npz(dir / "a.npz");
  EXPECT_EQ(back, dict);
  for (const auto& [name, t] : back) {
    EXPECT_TRUE(t.is_mapped()) << name;
    // The mapping starts on a page: an address 64-aligned is a file offset 64-aligned.
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.bytes()) % 64, 0u) << name;
  }
  // Deflated output stays with libzip: read through it, so copied.
  brine::save_npz(dir / "d.npz", dict, true);
  brine::StateDict deflated = brine::load_npz(dir / "d.npz");
  EXPECT_EQ(deflated, dict);
  EXPECT_FALSE(deflated.at("f32").is_mapped());
}

// 65,536 entries need ZIP64's end records (the classic ones count to 65,535): brine writes
// them, brine maps the entries, numpy reads the archive.
TEST(Numpy, BrineStoredNpzWithMoreEntriesThanClassicZipCountsIsZip64) {
  require_numpy();
  brine_test::TempDir dir;
  brine::StateDict dict;
  constexpr std::int64_t kCount = 65536;
  for (std::int64_t k = 0; k < kCount; ++k)
    dict.insert("k" + std::to_string(k), Tensor::from_vector(std::vector<std::int64_t>{k, -k}));
  brine::save_npz(dir / "many.npz", dict, false);
  const std::string bytes = read_file(dir / "many.npz");
  ASSERT_GE(bytes.size(), 22u + 20u + 56u);
  EXPECT_EQ(bytes.substr(bytes.size() - 22 - 20 - 56, 4), std::string("PK\x06\x06", 4))
      << "a ZIP64 end of central directory record";
  brine::StateDict back = brine::load_npz(dir / "many.npz");
  ASSERT_EQ(back.size(), dict.size());
  EXPECT_EQ(back.at("k65535"), dict.at("k65535"));
  EXPECT_TRUE(back.at("k65535").is_mapped());
  EXPECT_EQ(back.at("k0").storage_id(), back.at("k65535").storage_id()) << "one mapping";
  std::string command = std::string(BRINE_PYTHON_WITH_NUMPY) +
                        " -c \"import numpy as np, sys\n"
                        "z = np.load(sys.argv[1] + '/many.npz')\n"
                        "assert len(z.files) == 65536, len(z.files)\n"
                        "for k in (0, 1, 40000, 65535):\n"
                        "  a = z['k%d' % k]\n"
                        "  assert a.dtype == np.int64 and a.tolist() == [k, -k], (k, a)\" '" +
                        dir.path().string() + "'";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
}

// Tensors of every dtype numpy has, values that use every byte.
brine::StateDict sample_tensors() {
  brine::StateDict dict;
  std::vector<std::vector<std::int64_t>> shapes = {{2, 3}, {7}, {}, {0}, {2, 0, 3}, {2, 3, 4}};
  std::size_t s = 0;
  for (std::size_t d = 0; d < brine::kDTypeCount; ++d) {
    auto dtype = static_cast<DType>(d);
    if (dtype == DType::bfloat16 || dtype == DType::float8_e4m3fn || dtype == DType::float8_e5m2)
      continue;
    const auto& shape = shapes[s++ % shapes.size()];
    Tensor t(dtype, shape);
    std::byte* p = t.mutable_bytes();
    for (std::size_t i = 0; i < t.nbytes(); ++i)
      p[i] = static_cast<std::byte>(dtype == DType::boolean ? i % 2 : (i * 37 + d) % 251);
    // float16/32/64 and complex bytes of that pattern are ordinary numbers, never NaN: the
    // bytes are compared, not the values, so NaN would be fine too.
    dict.insert(std::string(brine::dtype_name(dtype)), std::move(t));
  }
  return dict;
}

const char* numpy_dtype(DType dtype) {
  switch (dtype) {
    case DType::boolean:
      return "|b1";
    case DType::int8:
      return "|i1";
    case DType::uint8:
      return "|u1";
    case DType::int16:
      return "<i2";
    case DType::int32:
      return "<i4";
    case DType::int64:
      return "<i8";
    case DType::uint16:
      return "<u2";
    case DType::uint32:
      return "<u4";
    case DType::uint64:
      return "<u8";
    case DType::float16:
      return "<f2";
    case DType::float32:
      return "<f4";
    case DType::float64:
      return "<f8";
    case DType::complex64:
      return "<c8";
    case DType::complex128:
      return "<c16";
    default:
      return "?";
  }
}

TEST(Numpy, BrineWrittenFilesLoadInNumpyWithTheSameValues) {
  require_numpy();
  brine_test::TempDir dir;
  brine::StateDict dict = sample_tensors();
  std::ostringstream manifest;
  auto record = [&](const std::string& file, const std::string& entry, const std::string& label,
                    const Tensor& t) {
    write_file(dir / (label + ".raw"),
               std::string(reinterpret_cast<const char*>(t.bytes()), t.nbytes()));
    manifest << file << '\t' << entry << '\t' << label << ".raw\t" << numpy_dtype(t.dtype()) << '\t'
             << shape_text(t.shape()) << '\n';
  };
  for (const auto& [name, t] : dict) {
    brine::save_npy(dir / (name + ".npy"), t);
    record(name + ".npy", "-", name, t);
  }
  // Names with '/' as numpy allows them; numpy.load's keys are the names.
  brine::StateDict nested;
  nested.insert("layer/0/weight", dict.at("float32"));
  nested.insert("bias", dict.at("int64"));
  nested.insert("flag", dict.at("bool"));
  for (bool compress : {false, true}) {
    std::string file = compress ? "deflate.npz" : "stored.npz";
    brine::save_npz(dir / file, nested, compress);
    for (const auto& [name, t] : nested) {
      std::string label = (compress ? "deflate_" : "stored_") + name;
      std::replace(label.begin(), label.end(), '/', '_');
      record(file, name, label, t);
    }
  }
  // Every dtype in one stored .npz, and names that pad each entry by every amount.
  brine::save_npz(dir / "all.npz", dict, false);
  for (const auto& [name, t] : dict) record("all.npz", name, "all_" + name, t);
  brine::StateDict padded = names_of_every_length();
  brine::save_npz(dir / "padded.npz", padded, false);
  for (const auto& [name, t] : padded) record("padded.npz", name, "padded_" + name, t);
  write_file(dir / "manifest.tsv", manifest.str());
  EXPECT_EQ(run_python(BRINE_NUMPY_CHECK_SCRIPT, dir.path()), 0);
}

TEST(Numpy, VersionsTwoAndThreeLoadInNumpy) {
  require_numpy();
  brine_test::TempDir dir;
  Tensor t = Tensor::from_vector(std::vector<float>{1.5f, -2, 3, 4, 5, 6}, {2, 3});
  brine::save_npy(dir / "v2.npy", t, brine::NpyVersion::v2_0);
  brine::save_npy(dir / "v3.npy", t, brine::NpyVersion::v3_0);
  EXPECT_EQ(brine::inspect_npy(dir / "v2.npy").major_version, 2);
  EXPECT_EQ(brine::inspect_npy(dir / "v3.npy").major_version, 3);
  EXPECT_EQ(brine::inspect_npy(dir / "v3.npy").data_offset % 64, 0u);
  EXPECT_EQ(brine::load_npy(dir / "v3.npy"), t);
  std::string command = std::string(BRINE_PYTHON_WITH_NUMPY) +
                        " -c \"import numpy as np, sys; from numpy.lib import format as f\n"
                        "for v in (2, 3):\n"
                        "  p = sys.argv[1] + '/v%d.npy' % v\n"
                        "  with open(p, 'rb') as h: assert f.read_magic(h) == (v, 0)\n"
                        "  a = np.load(p)\n"
                        "  assert a.dtype == np.float32 and a.shape == (2, 3), a\n"
                        "  assert a.tolist() == [[1.5, -2, 3], [4, 5, 6]], a\" '" +
                        dir.path().string() + "'";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
}

TEST(Numpy, RoundTripsThroughBrineAlone) {
  brine_test::TempDir dir;
  brine::StateDict dict = sample_tensors();
  for (const auto& [name, t] : dict) {
    SCOPED_TRACE(name);
    brine::save_npy(dir / "a.npy", t);
    EXPECT_EQ(brine::load_npy(dir / "a.npy"), t);
    EXPECT_EQ(brine::load_npy_from_memory(brine::npy_bytes(t)), t);
  }
  for (bool compress : {false, true}) {
    brine::save_npz(dir / "a.npz", dict, compress);
    brine::StateDict back = brine::load_npz(dir / "a.npz");
    EXPECT_EQ(back, dict);
    EXPECT_EQ(brine::load_npz_from_memory(brine::npz_bytes(dict, compress)), dict);
  }
  // An empty dict is an empty ZIP, as numpy.savez writes it.
  brine::save_npz(dir / "empty.npz", brine::StateDict());
  EXPECT_TRUE(brine::load_npz(dir / "empty.npz").empty());
  EXPECT_EQ(fs::file_size(dir / "empty.npz"), 22u);
}

TEST(Numpy, WritesTheBytesNumpyWrites) {
  // numpy 1.24's np.save(np.arange(3, dtype='<i4')): header padded to 64 with room for the
  // growing axis.
  Tensor t = Tensor::from_vector(std::vector<std::int32_t>{0, 1, 2});
  std::string bytes = brine::npy_bytes(t);
  ASSERT_EQ(bytes.size(), 128u + 12u);
  EXPECT_EQ(bytes.substr(0, 10), std::string("\x93NUMPY\x01\x00\x76\x00", 10));
  EXPECT_EQ(bytes.substr(10, 57), "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }");
  EXPECT_EQ(bytes[127], '\n');
}

TEST(Numpy, NoDtypeForBfloat16AndFloat8) {
  brine_test::TempDir dir;
  for (DType dtype : {DType::bfloat16, DType::float8_e4m3fn, DType::float8_e5m2}) {
    Tensor t(dtype, {4});
    EXPECT_THROW_WITH(brine::save_npy(dir / "a.npy", t), brine::FormatError, "numpy has no dtype");
    brine::StateDict dict;
    dict.insert("x", t);
    EXPECT_THROW_WITH(brine::npz_bytes(dict), brine::FormatError, "numpy has no dtype");
  }
  EXPECT_FALSE(fs::exists(dir / "a.npy"));
}

TEST(Numpy, EntriesThatAreNotArraysAreSkipped) {
  require_numpy();
  brine_test::TempDir dir;
  std::string command = std::string(BRINE_PYTHON_WITH_NUMPY) +
                        " -c \"import numpy as np, sys, zipfile\n"
                        "np.savez(sys.argv[1], w=np.arange(4.0))\n"
                        "with zipfile.ZipFile(sys.argv[1], 'a') as z:\n"
                        "  z.writestr('config.json', '{}')\n"
                        "  z.writestr('sub/', '')\" '" +
                        (dir / "mixed.npz").string() + "'";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  brine::StateDict dict = brine::load_npz(dir / "mixed.npz");
  ASSERT_EQ(dict.size(), 1u);
  EXPECT_EQ(dict.at("w").values<double>()[3], 3.0);
  brine::NpzContents contents = brine::inspect_npz(dir / "mixed.npz");
  EXPECT_EQ(contents.skipped, (std::vector<std::string>{"config.json", "sub/"}));
}

// ---- memory -----------------------------------------------------------------------------

// A stored .npz of N bytes loads as the mapping alone: the pages the CRC check and the
// reads touch are the file's, and no copy is made (a copy would add N more).
TEST(NumpyMemory, AStoredNpzLoadHoldsTheMappingNotACopy) {
  brine_test::TempDir dir;
  constexpr std::size_t kBytes = std::size_t{128} << 20;
  {
    std::vector<std::uint8_t> values(kBytes);
    for (std::size_t k = 0; k < kBytes; k += 4096) values[k] = static_cast<std::uint8_t>(k >> 12);
    brine::StateDict dict;
    dict.insert("big", Tensor::from_vector(std::move(values)));
    brine::save_npz(dir / "big.npz", dict, false);
  }
  ASSERT_TRUE(brine_test::reset_peak_rss())
      << "/proc/self/clear_refs is needed to measure the peak";
  const std::uint64_t before = brine_test::status_kib("VmHWM");
  brine::StateDict loaded = brine::load_npz(dir / "big.npz");
  const Tensor& big = loaded.at("big");
  ASSERT_TRUE(big.is_mapped());
  std::uint64_t sum = 0;
  const auto p = big.values<std::uint8_t>();
  for (std::size_t k = 0; k < kBytes; k += 4096) sum += p[k];
  const std::uint64_t peak = brine_test::status_kib("VmHWM");
  const std::uint64_t kib = kBytes >> 10;
  std::cout << "peak RSS growth " << (peak - before) / 1024 << " MiB for a stored .npz of "
            << (kBytes >> 20) << " MiB\n";
  EXPECT_LT(peak - before, kib * 5 / 4) << "peak RSS grew by " << peak - before << " KiB";
  EXPECT_GT(sum, 0u);
}

}  // namespace
