// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// store_test.cpp: Store: bundles by name, checked names, store-relative data paths.

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <brine/store.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using brine_test::TempDir;

struct Vocab {
  BRINE_TYPE("store_test.Vocab", 1);
  std::string name;
  brine::DataPath file;
  template <class A>
  void getstate(A& ar) const {
    ar("name", name)("file", file);
  }
  template <class A>
  void setstate(A& ar) {
    ar("name", name)("file", file);
  }
};
BRINE_REGISTER(Vocab);

void write_text(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}
std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(Store, SavesLoadsListsAndRemovesByName) {
  TempDir tmp;
  brine::Store store(tmp / "store");
  EXPECT_TRUE(store.list().empty());
  store.save("xp1", 1, std::string("one"));
  store.save("xp2", 2);
  EXPECT_EQ(store.list(), (std::vector<std::string>{"xp1", "xp2"}));
  auto xp1 = store.load("xp1");
  ASSERT_EQ(xp1.size(), 2u);
  EXPECT_EQ(xp1[1].as<std::string>(), "one");
  store.save("xp1", 11);
  EXPECT_EQ(store.load("xp1")[0].as<int>(), 11);
  EXPECT_TRUE(store.remove("xp1"));
  EXPECT_FALSE(store.remove("xp1"));
  EXPECT_FALSE(store.contains("xp1"));
  EXPECT_EQ(store.list(), std::vector<std::string>{"xp2"});
  EXPECT_THROW_WITH(store.load("xp1"), brine::IoError, "no bundle named 'xp1'");
  // Nothing hidden is left behind by the saves and the removal.
  std::size_t entries = 0;
  for (auto& e : fs::directory_iterator(store.root())) entries += e.is_directory();
  EXPECT_EQ(entries, 1u);
}

TEST(Store, ChecksNames) {
  TempDir tmp;
  brine::Store store(tmp / "store");
  std::vector<std::string> bad_names{
      "", ".", "..", "../x", "a/b", "a\\b", ".hidden", "a\0b", std::string(201, 'x')};
  bad_names[7] = std::string("a\0b", 3);
  for (const std::string& bad : bad_names) {
    SCOPED_TRACE(bad);
    EXPECT_THROW_WITH(store.save(bad, 1), brine::FormatError, "store name");
    EXPECT_THROW(store.load(bad), brine::FormatError) << bad;
    EXPECT_THROW(store.remove(bad), brine::FormatError) << bad;
  }
  EXPECT_FALSE(fs::exists(tmp / "x"));
  store.save("ok-name_1.v2", 1);
  EXPECT_EQ(store.list(), std::vector<std::string>{"ok-name_1.v2"});
}

TEST(Store, PathsIntoAnotherBundleAreStoreRelative) {
  TempDir tmp;
  write_text(tmp / "words.txt", "a b c");
  brine::Store store(tmp / "store");
  Vocab v;
  v.name = "base";
  v.file = brine::DataPath(tmp / "words.txt");
  store.save("vocab", v);

  // A second bundle pointing at the first one's file records it store-relative, uncopied.
  Vocab shared = store.load("vocab")[0].get<Vocab>();
  shared.name = "derived";
  store.save("model", shared);
  auto manifest = nlohmann::json::parse(read_text(store.root() / "model" / "brine-bundle.json"));
  EXPECT_TRUE(manifest["files"].empty());
  auto values = brine::read_stable_values(read_text(store.root() / "model" / "values.brine"));
  const brine::Object& file = values[0].as_object().find("file")->as_object();
  EXPECT_EQ(file.find("base")->as_text(), "store");
  EXPECT_EQ(file.find("path")->as_path().generic, "vocab/data/0/file/words.txt");

  // The whole store moves; the path follows.
  fs::rename(tmp / "store", tmp / "moved");
  brine::Store moved(tmp / "moved");
  Vocab loaded = moved.load("model")[0].get<Vocab>();
  EXPECT_EQ(loaded.file.path(), moved.root() / "vocab/data/0/file/words.txt");
  EXPECT_EQ(read_text(loaded.file.path()), "a b c");
  // Without its store, the bundle cannot say where the file is.
  EXPECT_THROW_WITH(brine::load_bundle(moved.root() / "model"), brine::FormatError,
                    "relative to a store");
}

TEST(Store, ResavingABundleCopiesItsOwnFiles) {
  TempDir tmp;
  write_text(tmp / "words.txt", "x y");
  brine::Store store(tmp / "store");
  Vocab v;
  v.file = brine::DataPath(tmp / "words.txt");
  store.save("vocab", v);
  fs::remove(tmp / "words.txt");
  Vocab again = store.load("vocab")[0].get<Vocab>();
  again.name = "renamed";
  store.save("vocab", again);  // its file lives in the bundle being replaced
  Vocab loaded = store.load("vocab")[0].get<Vocab>();
  EXPECT_EQ(loaded.name, "renamed");
  EXPECT_EQ(read_text(loaded.file.path()), "x y");
}

TEST(Store, RemovesOnlyStaleTemporaryFolders) {
  TempDir tmp;
  brine::Store store(tmp / "store");
  store.save("a", 1);
  fs::path stale = store.root() / ".a.bundle-tmp.123.0123456789abcdef";
  fs::path busy = store.root() / ".a.bundle-tmp.124.0123456789abcdef";
  fs::path other = store.root() / ".keep";
  write_text(stale / "values.brine", "x");
  write_text(busy / "values.brine", "y");
  fs::create_directories(other);
  // A save in progress holds its folder locked.
  int fd = ::open(busy.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  EXPECT_EQ(store.remove_stale_temp_folders(), 1u);
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(busy));
  EXPECT_TRUE(fs::exists(other));
  ::close(fd);
  EXPECT_EQ(store.remove_stale_temp_folders(), 1u);
  EXPECT_FALSE(fs::exists(busy));
  EXPECT_EQ(store.load("a")[0].as<int>(), 1);
  EXPECT_TRUE(brine::is_bundle_temp_folder_name(".a.bundle-old.1"));
  EXPECT_FALSE(brine::is_bundle_temp_folder_name("a.bundle-tmp.1"));
}

}  // namespace
