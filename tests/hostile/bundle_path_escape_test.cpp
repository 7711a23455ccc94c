// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// bundle_path_escape_test.cpp: hand-edited bundles whose recorded paths climb out of their
// base ('..', absolute paths, symlinks) are refused with a typed error, and the untouched
// bundle still loads.

#include <brine/bundle.hpp>
#include <brine/store.hpp>
#include <cstdio>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using brine_test::TempDir;

struct Doc {
  BRINE_TYPE("escape_test.Doc", 1);
  brine::DataPath file;
  template <class A>
  void getstate(A& ar) const {
    ar("file", file);
  }
  template <class A>
  void setstate(A& ar) {
    ar("file", file);
  }
};
BRINE_REGISTER(Doc);

void write_text(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}
std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// Rewrites values.brine with `edit` applied to the value trees.
void edit_values(const fs::path& dir, const std::function<void(std::vector<brine::Value>&)>& edit) {
  std::vector<brine::Value> values = brine::read_stable_values(read_text(dir / "values.brine"));
  edit(values);
  brine::Buffer out;
  brine::BufferSink sink(out);
  brine::StableWriter writer(sink);
  for (const auto& v : values) writer.write_value(v);
  writer.finish();
  std::ofstream(dir / "values.brine", std::ios::binary)
      .write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size()));
}

void set_path(const fs::path& dir, const std::string& base, const std::string& path) {
  edit_values(dir, [&](std::vector<brine::Value>& values) {
    brine::Object& file = values[0].as_object().find("file")->as_object();
    file.set("base", brine::Value(base));
    file.set("path", brine::Value(brine::PathValue{path}));
  });
}

class BundleEscape : public ::testing::Test {
 protected:
  void SetUp() override {
    write_text(tmp_ / "src" / "doc.txt", "doc");
    write_text(tmp_ / "secret.txt", "secret");
    Doc d;
    d.file = brine::DataPath(tmp_ / "src" / "doc.txt");
    brine::save_bundle(dir_, d);
  }
  brine::BundleLoadOptions unverified() const {
    brine::BundleLoadOptions o;
    o.verify_data_files = false;
    return o;
  }
  TempDir tmp_;
  fs::path dir_ = tmp_ / "bundle";
};

TEST_F(BundleEscape, StillRoundTripsUntouched) {
  auto values = brine::load_bundle(dir_);
  EXPECT_EQ(read_text(values[0].get<Doc>().file.path()), "doc");
}

TEST_F(BundleEscape, RefusesADotDotPath) {
  set_path(dir_, "bundle", "data/../../secret.txt");
  EXPECT_THROW_WITH(brine::load_bundle(dir_), brine::FormatError,
                    "data path 'data/../../secret.txt' of value 0 at 'file' climbs out of the "
                    "bundle ('..')");
  try {
    brine::load_bundle(dir_);
  } catch (const brine::Error& e) {
    EXPECT_EQ(e.code(), brine::errc::unsupported_content);
    EXPECT_EQ(e.context().source, dir_.string());
  }
}

TEST_F(BundleEscape, RefusesAnAbsolutePathRecordedAsBundleRelative) {
  set_path(dir_, "bundle", (tmp_ / "secret.txt").generic_string());
  EXPECT_THROW_WITH(brine::load_bundle(dir_), brine::FormatError,
                    "is absolute where a path relative to the bundle is expected");
}

TEST_F(BundleEscape, RefusesARelativePathRecordedAsAbsolute) {
  set_path(dir_, "absolute", "data/0/file/doc.txt");
  EXPECT_THROW_WITH(brine::load_bundle(dir_), brine::FormatError,
                    "is recorded as absolute but is relative");
}

TEST_F(BundleEscape, RefusesAnUnknownBase) {
  set_path(dir_, "home", "data/0/file/doc.txt");
  EXPECT_THROW_WITH(brine::load_bundle(dir_), brine::FormatError, "unknown base 'home'");
}

TEST_F(BundleEscape, RefusesAStorePathOutsideAStore) {
  set_path(dir_, "store", "other/data/0/file/doc.txt");
  EXPECT_THROW_WITH(brine::load_bundle(dir_), brine::FormatError,
                    "is relative to a store: load the bundle through brine::Store");
}

TEST_F(BundleEscape, RefusesADotDotStorePath) {
  brine::Store store(tmp_ / "store");
  fs::rename(dir_, store.root() / "doc");
  set_path(store.root() / "doc", "store", "../secret.txt");
  EXPECT_THROW_WITH(store.load("doc"), brine::FormatError, "climbs out of the store");
}

TEST_F(BundleEscape, RefusesASymlinkToAFileOutside) {
  fs::path inside = dir_ / "data/0/file/doc.txt";
  fs::remove(inside);
  fs::create_symlink(tmp_ / "secret.txt", inside);
  // Through the manifest's check of the data files...
  EXPECT_THROW_WITH(brine::load_bundle(dir_), brine::FormatError,
                    "leads outside the bundle through a symlink");
  // ...and through the DataPath's own, when the files are not verified.
  EXPECT_THROW_WITH(
      brine::load_bundle(dir_, unverified()), brine::FormatError,
      "data path 'data/0/file/doc.txt' of value 0 at 'file' leads outside the bundle");
}

TEST_F(BundleEscape, RefusesASymlinkedFolderOnTheWay) {
  fs::remove_all(dir_ / "data/0/file");
  fs::create_symlink(tmp_ / "src", dir_ / "data/0/file");
  EXPECT_THROW_WITH(brine::load_bundle(dir_, unverified()), brine::FormatError,
                    "leads outside the bundle");
}

TEST_F(BundleEscape, RefusesASymlinkInsideADataFolder) {
  write_text(tmp_ / "dir" / "a.txt", "a");
  Doc d;
  d.file = brine::DataPath(tmp_ / "dir");
  brine::save_bundle(dir_, d);
  fs::create_symlink(tmp_ / "secret.txt", dir_ / "data/0/file/dir/leak.txt");
  EXPECT_THROW_WITH(brine::load_bundle(dir_), brine::FormatError, "holds symlink");
}

TEST_F(BundleEscape, RefusesAManifestFileOutsideTheBundle) {
  auto m = nlohmann::json::parse(read_text(dir_ / "brine-bundle.json"));
  for (const char* bad : {"../secret.txt", "/etc/passwd", "data/../../x", ""}) {
    m["files"][0]["path"] = bad;
    write_text(dir_ / "brine-bundle.json", m.dump());
    EXPECT_THROW(brine::read_bundle_manifest(dir_), brine::FormatError) << bad;
    EXPECT_THROW(brine::load_bundle(dir_), brine::FormatError) << bad;
  }
  m["files"][0]["path"] = "../secret.txt";
  write_text(dir_ / "brine-bundle.json", m.dump());
  EXPECT_THROW_WITH(brine::verify_bundle(dir_), brine::FormatError,
                    "data file '../secret.txt' climbs out of the bundle");
}

TEST_F(BundleEscape, RefusesAManifestWithWrongTypes) {
  auto m = nlohmann::json::parse(read_text(dir_ / "brine-bundle.json"));
  m["files"][0]["size"] = "12";
  write_text(dir_ / "brine-bundle.json", m.dump());
  EXPECT_THROW_WITH(brine::load_bundle(dir_), brine::FormatError,
                    "manifest field 'size' has the wrong type");
  m.erase("files");
  write_text(dir_ / "brine-bundle.json", m.dump());
  EXPECT_THROW_WITH(brine::load_bundle(dir_), brine::FormatError, "manifest lacks 'files'");
}

TEST_F(BundleEscape, RefusesADeeplyNestedManifest) {
  std::string deep(200000, '[');
  deep += std::string(200000, ']');
  write_text(dir_ / "brine-bundle.json", deep);
  EXPECT_THROW_WITH(brine::load_bundle(dir_), brine::FormatError, "not a JSON object");
  write_text(dir_ / "brine-bundle.json", "{\"format\": \"brine-bundle\", \"x\": " + deep + "}");
  EXPECT_THROW_WITH(brine::load_bundle(dir_), brine::FormatError,
                    "manifest lacks 'format_version'");
}

TEST_F(BundleEscape, RefusesAManifestLargerThanTheLimitBeforeReadingIt) {
  // Sparse: the size is what is checked, and the bytes are never read.
  const fs::path manifest = dir_ / "brine-bundle.json";
  fs::resize_file(manifest, brine::kMaxBundleManifestBytes + 1);
  EXPECT_THROW_WITH(brine::load_bundle(dir_), brine::LimitError,
                    "more than the 67108864 a manifest may hold");
  EXPECT_THROW_WITH(brine::read_bundle_manifest(dir_), brine::LimitError, "bundle manifest");
}

TEST_F(BundleEscape, RefusesACorruptArchive) {
  std::string bytes = read_text(dir_ / "values.brine");
  write_text(dir_ / "values.brine", brine_test::corrupt(bytes, bytes.size() / 2, 4));
  EXPECT_THROW(brine::load_bundle(dir_), brine::FormatError);
  write_text(dir_ / "values.brine", bytes.substr(0, bytes.size() - 3));
  EXPECT_THROW(brine::load_bundle(dir_), brine::FormatError);
}

// Every truncation and every flipped byte of the manifest and of the archive is a typed
// error or, where the change is harmless (JSON whitespace, a key's case in an ignored key),
// a whole load: never a crash, never another exception.
TEST_F(BundleEscape, EveryDamagedManifestOrArchiveIsATypedErrorOrAWholeLoad) {
  for (const char* name : {"brine-bundle.json", "values.brine"}) {
    SCOPED_TRACE(name);
    const std::string original = read_text(dir_ / name);
    std::size_t refused = 0, loaded = 0;
    for (std::size_t i = 0; i <= original.size() * 2; ++i) {
      std::string damaged = i < original.size()
                                ? original.substr(0, i)
                                : brine_test::corrupt(original, i - original.size());
      write_text(dir_ / name, damaged);
      try {
        auto values = brine::load_bundle(dir_);
        ++loaded;
        ASSERT_EQ(values.size(), 1u);
        EXPECT_EQ(read_text(values[0].get<Doc>().file.path()), "doc");
      } catch (const brine::Error&) {
        ++refused;
      }
    }
    write_text(dir_ / name, original);
    EXPECT_GT(refused, original.size());  // every truncation at least
    std::printf("%s: %zu damaged copies refused, %zu loaded whole\n", name, refused, loaded);
  }
  EXPECT_EQ(read_text(brine::load_bundle(dir_)[0].get<Doc>().file.path()), "doc");
}

}  // namespace
