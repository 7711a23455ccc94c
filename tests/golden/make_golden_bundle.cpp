// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// make_golden_bundle.cpp: wrote tests/golden/bundle/v1/vocab once (tests/golden/README.md).
// Never run it again over the committed folder: the golden bundle is frozen.
//   cmake --build build --target make_golden_bundle
//   build/tests/make_golden_bundle /tmp/new-golden/vocab

#include <brine/brine.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace {

// The type as release 1 of the bundle format knew it.
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

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_golden_bundle <new bundle folder>\n");
    return 2;
  }
  namespace fs = std::filesystem;
  fs::path out(argv[1]);
  if (fs::exists(out)) {
    std::fprintf(stderr, "make_golden_bundle: %s exists; golden files are never rewritten\n",
                 argv[1]);
    return 1;
  }
  fs::path source = fs::temp_directory_path() / "brine-golden-bundle" / "words.txt";
  fs::create_directories(source.parent_path());
  std::ofstream(source, std::ios::binary) << "the\nquick\nbrown\nfox\n";
  Vocabulary v;
  v.name = "golden-en";
  v.sizes = {3, 5, 5, 3};
  v.words = brine::DataPath(source);
  // A copy, never a link to the temporary source.
  struct Copying : brine::SerializationContext {
    std::string place(const fs::path& from, const std::string& target,
                      const fs::path& dir) override {
      fs::create_directories((dir / target).parent_path());
      fs::copy_file(from, dir / target);
      return target;
    }
  } copying;
  brine::BundleSaveOptions options;
  options.context = &copying;
  brine::save_bundle_with(out, options, v, std::map<std::string, int>{{"epoch", 3}});
  fs::remove_all(source.parent_path());
  std::printf("%s\n", brine::identifier(v).c_str());
  return 0;
}
