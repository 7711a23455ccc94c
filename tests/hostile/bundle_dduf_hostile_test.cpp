// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// bundle_dduf_hostile_test.cpp: a bundle's DDUF file changed after export: a data file's bytes
// (its SHA-256 no longer matches), a config that references a missing tensor, a
// model_index.json of a newer format or naming a data file outside its value's folder. Each is
// a typed error and no value.

#include <brine/bundle_dduf.hpp>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using brine_test::TempDir;

struct Doc {
  BRINE_TYPE("bundle_dduf_hostile.Doc", 1);
  std::string title;
  brine::DataPath text;
  template <class A>
  void getstate(A& ar) const {
    ar("title", title)("text", text);
  }
  template <class A>
  void setstate(A& ar) {
    ar("title", title)("text", text);
  }
};
BRINE_REGISTER(Doc);

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void spit(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
}

/// A DDUF file of one Doc whose data file holds `marker`.
fs::path make_dduf(const TempDir& dir) {
  fs::create_directories(dir / "src");
  spit(dir / "src/text.txt", "MARKER-0123456789");
  brine::save_bundle(dir / "bundle", Doc{"t", brine::DataPath(dir / "src/text.txt")});
  brine::export_bundle_dduf(dir / "bundle", dir / "b.dduf");
  return dir / "b.dduf";
}

/// Replaces the first `from` in the file's bytes by `to`, of the same length.
void patch(const fs::path& file, const std::string& from, const std::string& to) {
  ASSERT_EQ(from.size(), to.size());
  std::string bytes = slurp(file);
  std::size_t at = bytes.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  bytes.replace(at, from.size(), to);
  spit(file, bytes);
}

TEST(BundleDdufHostile, ATamperedDataFileIsRefused) {
  TempDir dir;
  fs::path file = make_dduf(dir);
  patch(file, "MARKER-0123456789", "MARKER-0123456780");
  try {
    brine::load_bundle(file);
    FAIL() << "loaded";
  } catch (const brine::FormatError& e) {
    EXPECT_EQ(e.code(), brine::errc::checksum_mismatch) << e.what();
    EXPECT_NE(std::string(e.what()).find("value0/text.txt"), std::string::npos) << e.what();
  }
  EXPECT_THROW(brine::import_bundle_dduf(file, dir / "out"), brine::FormatError);
  EXPECT_FALSE(fs::exists(dir / "out"));
  // The CRC-32 check of the DDUF reader sees it too.
  brine::DdufReadOptions verify;
  verify.verify_crc = true;
  EXPECT_THROW(brine::open_dduf(file, verify), brine::DdufError);
}

TEST(BundleDdufHostile, ARefusedLoadLeavesNoTemporaryFolder) {
  TempDir dir;
  fs::path file = make_dduf(dir);
  patch(file, "MARKER-0123456789", "MARKER-0123456780");
  TempDir good;  // made before TMPDIR moves
  fs::path whole = make_dduf(good);
  // The private extraction folder is made under TMPDIR: point it at an empty folder.
  fs::create_directories(dir / "tmp");
  const char* old = std::getenv("TMPDIR");
  const std::string saved = old ? old : "";
  ::setenv("TMPDIR", (dir / "tmp").c_str(), 1);
  EXPECT_THROW(brine::load_bundle(file), brine::FormatError);
  const bool empty = fs::is_empty(dir / "tmp");
  bool held = false;
  {
    // A whole load: the folder exists while a value holds it, and goes with the last one.
    auto values = brine::load_bundle(whole);
    std::vector<brine::LoadedValue> moved = std::move(values);
    held = fs::exists(moved[0].bundle_dir()) && moved[0].bundle_dir().parent_path() == dir / "tmp";
  }
  const bool empty_after = fs::is_empty(dir / "tmp");
  if (old)
    ::setenv("TMPDIR", saved.c_str(), 1);
  else
    ::unsetenv("TMPDIR");
  EXPECT_TRUE(empty);
  EXPECT_TRUE(held);
  EXPECT_TRUE(empty_after);
}

TEST(BundleDdufHostile, ANewerFormatIsAVersionError) {
  TempDir dir;
  fs::path file = make_dduf(dir);
  patch(file, "\"_brine_bundle_format\": 1", "\"_brine_bundle_format\": 9");
  EXPECT_THROW(brine::load_bundle(file), brine::VersionError);
}

TEST(BundleDdufHostile, ADataFileOutsideItsValueFolderIsRefused) {
  TempDir dir;
  fs::path file = make_dduf(dir);
  patch(file, "\"value\": 0", "\"value\": 1");
  try {
    brine::load_bundle(file);
    FAIL() << "loaded";
  } catch (const brine::FormatError& e) {
    EXPECT_EQ(e.code(), brine::errc::corrupt_data) << e.what();
  }
}

TEST(BundleDdufHostile, AnIndexThatDisagreesWithTheConfigIsRefused) {
  TempDir dir;
  fs::path file = make_dduf(dir);
  // The first occurrence is model_index.json's component entry.
  patch(file, "\"bundle_dduf_hostile.Doc\"", "\"bundle_dduf_hostile.Dox\"");
  try {
    brine::load_bundle(file);
    FAIL() << "loaded";
  } catch (const brine::FormatError& e) {
    EXPECT_EQ(e.code(), brine::errc::corrupt_data) << e.what();
    EXPECT_NE(std::string(e.what()).find("value0"), std::string::npos) << e.what();
  }
}

}  // namespace
