// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// bundle_golden_test.cpp: the bundle that release 1 of the bundle format wrote
// (tests/golden/bundle/v1/vocab, by make_golden_bundle.cpp) loads with today's code, forever.

#include <brine/bundle.hpp>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using brine_test::TempDir;

const fs::path kBundle = fs::path(BRINE_GOLDEN_DIR) / "bundle" / "v1" / "vocab";

// Today's version of the type the golden bundle holds.
struct Vocabulary {
  BRINE_TYPE("golden.Vocabulary", 1);
  std::string name;
  std::vector<int> sizes;
  brine::DataPath words;
  template <class A>
  void getstate(A& ar) const {
    ar("name", name)("sizes", sizes)("words", words);
  }
  template <class A>
  void setstate(A& ar) {
    ar("name", name)("sizes", sizes)("words", words);
  }
};
BRINE_REGISTER(Vocabulary);

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void expect_golden(std::vector<brine::LoadedValue>& values, const fs::path& dir) {
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(values[0].type_name(), "golden.Vocabulary");
  EXPECT_EQ(values[0].version(), 1u);
  Vocabulary& v = values[0].get<Vocabulary>();
  EXPECT_EQ(v.name, "golden-en");
  EXPECT_EQ(v.sizes, (std::vector<int>{3, 5, 5, 3}));
  EXPECT_EQ(v.words.path(), dir / "data/0/words/words.txt");
  EXPECT_EQ(read_text(v.words.path()), "the\nquick\nbrown\nfox\n");
  // The identifier make_golden_bundle printed: the state's identity is frozen too.
  EXPECT_EQ(brine::identifier(v),
            "68afa244cd24b63c346c6b8a7df2538d49781a3aeac162715b71e179bfade8b2");
  EXPECT_EQ((values[1].as<std::map<std::string, int>>()),
            (std::map<std::string, int>{{"epoch", 3}}));
}

TEST(GoldenBundle, V1LoadsWithTodaysCode) {
  brine::BundleManifest m = brine::read_bundle_manifest(kBundle);
  EXPECT_EQ(m.format_version, 1u);
  ASSERT_EQ(m.files.size(), 1u);
  EXPECT_EQ(m.files[0].sha256, "91c417c94779ebc17187039425632f889bfd04c426edb8cd25cb19642e10b828");
  brine::verify_bundle(kBundle);
  auto values = brine::load_bundle(kBundle);
  expect_golden(values, kBundle);
}

TEST(GoldenBundle, V1LoadsFromACopyElsewhere) {
  TempDir tmp;
  fs::copy(kBundle, tmp / "copy", fs::copy_options::recursive);
  auto values = brine::load_bundle(tmp / "copy");
  expect_golden(values, tmp / "copy");
}

TEST(GoldenBundle, V1LoadsAsAConfiguration) {
  brine::BundleLoadOptions options;
  options.as_instance = false;
  auto values = brine::load_bundle(kBundle, options);
  EXPECT_FALSE(values[0].has_instance());
  EXPECT_EQ(values[0].state().as_object().find("name")->as_text(), "golden-en");
}

}  // namespace
