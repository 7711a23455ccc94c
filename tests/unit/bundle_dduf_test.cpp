// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// bundle_dduf_test.cpp: a bundle exported to a DDUF file and loaded back (tensors mapped,
// data files extracted and checked, init functions run), moved, imported into a folder,
// read by Python's zipfile and json; each refusal of an export names its rule; a diffusers
// DDUF file is not taken for a bundle.

#include <brine/bundle_dduf.hpp>
#include <brine/types/tensor.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test_util.hpp"

#ifndef BRINE_DDUF_PYTHON
#define BRINE_DDUF_PYTHON ""
#endif

namespace {

namespace fs = std::filesystem;
using brine_test::TempDir;

struct Tok {
  BRINE_TYPE("bundle_dduf_test.Tok", 1);
  std::string lang;
  brine::DataPath vocab;
  template <class A>
  void getstate(A& ar) const {
    ar("lang", lang)("vocab", vocab);
  }
  template <class A>
  void setstate(A& ar) {
    ar("lang", lang)("vocab", vocab);
  }
};

struct Net {
  BRINE_TYPE("bundle_dduf_test.Net", 1);
  brine::Tensor weight;
  Tok tok;
  brine::InitCalls init;
  int marked = 0;  // set by the init function only
  template <class A>
  void getstate(A& ar) const {
    ar("weight", weight)("tok", tok)("init", init);
  }
  template <class A>
  void setstate(A& ar) {
    ar("weight", weight)("tok", tok)("init", init);
  }
};

struct Plain {
  BRINE_TYPE("bundle_dduf_test.Plain", 1);
  int a = 0;
  std::string s;
  template <class A>
  void getstate(A& ar) const {
    ar("a", a)("s", s);
  }
  template <class A>
  void setstate(A& ar) {
    ar("a", a)("s", s);
  }
};

struct Toks {
  BRINE_TYPE("bundle_dduf_test.Toks", 1);
  std::vector<Tok> toks;
  template <class A>
  void getstate(A& ar) const {
    ar("toks", toks);
  }
  template <class A>
  void setstate(A& ar) {
    ar("toks", toks);
  }
};

BRINE_REGISTER(Tok);
BRINE_REGISTER(Net);
BRINE_REGISTER(Plain);
BRINE_REGISTER(Toks);

const bool registered = [] {
  brine::add_init_function("bundle_dduf_test.mark",
                           [](brine::LoadedValue& v, const brine::Value& args) {
                             v.get<Net>().marked = static_cast<int>(args.as_int64());
                           });
  return true;
}();

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

brine::Tensor ramp(std::int64_t n) {
  brine::Tensor t(brine::DType::float32, {n, n});
  float x = 0;
  for (float& v : t.mutable_values<float>()) v = x++;
  return t;
}

/// A bundle of four values: an object with a tensor, a data file and an init call; an object
/// with no tensor and no file; a plain map; a text.
fs::path make_bundle(const TempDir& dir) {
  (void)registered;
  write(dir / "src/vocab.txt", "hello\nworld\n");
  Net net;
  net.weight = ramp(32);
  net.tok.lang = "en";
  net.tok.vocab = brine::DataPath(dir / "src/vocab.txt");
  net.init.with_init("bundle_dduf_test.mark", brine::Value(std::int64_t{7}));
  Plain plain{3, "three"};
  std::map<std::string, int> map{{"x", 1}, {"y", 2}};
  fs::path bundle = dir / "bundle";
  brine::save_bundle(bundle, net, plain, map, std::string("text"));
  return bundle;
}

void check_values(std::vector<brine::LoadedValue>& values, bool mapped) {
  ASSERT_EQ(values.size(), 4u);
  Net& net = values[0].get<Net>();
  EXPECT_EQ(net.marked, 7);  // the init function ran
  ASSERT_EQ(net.weight.shape(), (std::vector<std::int64_t>{32, 32}));
  EXPECT_EQ(net.weight.is_mapped(), mapped);  // from a DDUF file: a view of the file
  auto w = net.weight.values<float>();
  for (std::size_t i = 0; i < w.size(); ++i) ASSERT_EQ(w[i], static_cast<float>(i));
  EXPECT_EQ(net.tok.lang, "en");
  ASSERT_TRUE(net.tok.vocab.path().is_absolute());
  EXPECT_EQ(slurp(net.tok.vocab.path()), "hello\nworld\n");
  EXPECT_EQ(values[1].get<Plain>().a, 3);
  EXPECT_EQ(values[1].get<Plain>().s, "three");
  EXPECT_EQ((values[2].as<std::map<std::string, int>>()),
            (std::map<std::string, int>{{"x", 1}, {"y", 2}}));
  EXPECT_EQ(values[3].as<std::string>(), "text");
}

template <class F>
brine::DdufRule refused_rule(F&& f) {
  try {
    f();
  } catch (const brine::DdufExportError& e) {
    return e.rule();
  }
  ADD_FAILURE() << "no DdufExportError";
  return brine::DdufRule::not_a_zip;
}

int run(const std::string& command) { return std::system(command.c_str()); }

std::string python() {
  std::string p = BRINE_DDUF_PYTHON;
  return p.empty() ? "/usr/bin/python3" : p;
}

TEST(BundleDduf, RoundTripMapsTensorsAndExtractsDataFiles) {
  TempDir dir;
  fs::path bundle = make_bundle(dir);
  auto from_folder = brine::load_bundle(bundle);
  check_values(from_folder, false);
  brine::export_bundle_dduf(bundle, dir / "b.dduf");
  fs::path data;
  {
    auto values = brine::load_bundle(dir / "b.dduf");
    check_values(values, true);
    EXPECT_EQ(values[0].state().as_object().type, from_folder[0].state().as_object().type);
    EXPECT_EQ(values[1].state(), from_folder[1].state());
    EXPECT_EQ(values[2].state(), from_folder[2].state());
    data = values[0].bundle_dir();
    EXPECT_TRUE(fs::exists(data / "value0/vocab.txt"));
    EXPECT_FALSE(fs::exists(data / "value0/config.json"));  // only data files are extracted
  }
  // The private temporary folder goes with the last value.
  EXPECT_FALSE(fs::exists(data));
}

TEST(BundleDduf, ConfigurationOnlyAndChosenDataFolder) {
  TempDir dir;
  fs::path bundle = make_bundle(dir);
  brine::export_bundle_dduf(bundle, dir / "b.dduf");
  brine::BundleLoadOptions options;
  options.as_instance = false;
  options.dduf_data_dir = dir / "extracted";
  {
    auto values = brine::load_bundle_dduf(dir / "b.dduf", options);
    EXPECT_FALSE(values[0].has_instance());
    EXPECT_EQ(values[0].bundle_dir(), dir / "extracted");
  }
  // The caller's folder stays.
  EXPECT_EQ(slurp(dir / "extracted/value0/vocab.txt"), "hello\nworld\n");
}

TEST(BundleDduf, VerifyBundleChecksADdufFile) {
  TempDir dir;
  fs::path bundle = make_bundle(dir);
  brine::export_bundle_dduf(bundle, dir / "b.dduf");
  EXPECT_NO_THROW(brine::verify_bundle(dir / "b.dduf"));
  std::string bytes = slurp(dir / "b.dduf");
  std::size_t at = bytes.find("hello\nworld");
  ASSERT_NE(at, std::string::npos);
  bytes[at] = 'j';
  std::ofstream(dir / "b.dduf", std::ios::binary | std::ios::trunc) << bytes;
  EXPECT_THROW(brine::verify_bundle(dir / "b.dduf"), brine::FormatError);
}

TEST(BundleDduf, MovedFileLoads) {
  TempDir dir;
  fs::path bundle = make_bundle(dir);
  brine::export_bundle_dduf(bundle, dir / "b.dduf");
  fs::remove_all(bundle);
  fs::remove_all(dir / "src");
  fs::create_directories(dir / "elsewhere");
  fs::rename(dir / "b.dduf", dir / "elsewhere/moved.dduf");
  auto values = brine::load_bundle(dir / "elsewhere/moved.dduf");
  check_values(values, true);
}

TEST(BundleDduf, LayoutVerifiesAndPythonReadsIt) {
  TempDir dir;
  fs::path bundle = make_bundle(dir);
  brine::export_bundle_dduf(bundle, dir / "b.dduf");
  brine::DdufReadOptions verify;
  verify.verify_crc = true;
  brine::DdufFile file = brine::open_dduf(dir / "b.dduf", verify);
  std::vector<std::string> names;
  for (const brine::DdufEntry& e : file.entries()) names.push_back(e.name());
  EXPECT_EQ(names, (std::vector<std::string>{"model_index.json", "value0/config.json",
                                             "value0/model.safetensors", "value0/vocab.txt",
                                             "value1/config.json", "value2/config.json",
                                             "value3/config.json"}));
  nlohmann::json index = nlohmann::json::parse(file.at("model_index.json").view());
  EXPECT_EQ(index["_class_name"], "brine.Bundle");
  EXPECT_EQ(index["_brine_bundle_format"], 1);
  EXPECT_EQ(index["value0"], (nlohmann::json{"brine", "bundle_dduf_test.Net"}));
  EXPECT_EQ(index["value2"], (nlohmann::json{"brine", "map"}));
  for (const brine::DdufEntry& e : file.entries()) EXPECT_EQ(e.offset() % 64, 0u) << e.name();

  std::string command = python() + " " + BRINE_DDUF_CHECK_SCRIPT + " read " +
                        (dir / "b.dduf").string() + " " + (dir / "py").string() + " > " +
                        (dir / "names.txt").string();
  ASSERT_EQ(run(command), 0) << command;
  std::string configs;
  for (int i = 0; i < 4; ++i)
    configs += " " + (dir / "py" / ("value" + std::to_string(i)) / "config.json").string();
  command = python() + " -c \"import json,sys; [json.load(open(p)) for p in sys.argv[1:]]\"" +
            configs + " " + (dir / "py/model_index.json").string();
  EXPECT_EQ(run(command), 0) << command;
  EXPECT_EQ(slurp(dir / "py/value0/vocab.txt"), "hello\nworld\n");
}

TEST(BundleDduf, ImportMakesAnOrdinaryBundle) {
  TempDir dir;
  fs::path bundle = make_bundle(dir);
  brine::export_bundle_dduf(bundle, dir / "b.dduf");
  brine::import_bundle_dduf(dir / "b.dduf", dir / "again");
  EXPECT_TRUE(brine::is_bundle(dir / "again"));
  auto values = brine::load_bundle(dir / "again");
  check_values(values, false);
  // The imported bundle holds its data file: it survives the DDUF file.
  fs::remove(dir / "b.dduf");
  EXPECT_TRUE(fs::is_regular_file(values[0].get<Net>().tok.vocab.path()));
  const std::string vocab = values[0].get<Net>().tok.vocab.path().string();
  EXPECT_EQ(vocab.rfind((dir / "again").string(), 0), 0u) << vocab;
}

TEST(BundleDduf, RefusesAnExtensionDdufDoesNotHold) {
  TempDir dir;
  write(dir / "src/vocab.bin", "x");
  Tok tok{"en", brine::DataPath(dir / "src/vocab.bin")};
  brine::save_bundle(dir / "bundle", tok);
  try {
    brine::export_bundle_dduf(dir / "bundle", dir / "b.dduf");
    FAIL() << "exported";
  } catch (const brine::DdufExportError& e) {
    EXPECT_EQ(e.rule(), brine::DdufRule::extension_not_allowed);
    EXPECT_NE(e.entry().find("vocab.bin"), std::string::npos) << e.entry();
    EXPECT_NE(std::string(e.what()).find("extension_not_allowed"), std::string::npos);
  }
  EXPECT_FALSE(fs::exists(dir / "b.dduf"));
}

TEST(BundleDduf, RefusesADataFolderWithAFolder) {
  TempDir dir;
  write(dir / "src/assets/a.txt", "a");
  write(dir / "src/assets/sub/b.txt", "b");
  Tok tok{"en", brine::DataPath(dir / "src/assets")};
  brine::save_bundle(dir / "bundle", tok);
  EXPECT_EQ(refused_rule([&] { brine::export_bundle_dduf(dir / "bundle", dir / "b.dduf"); }),
            brine::DdufRule::too_deep);
  EXPECT_FALSE(fs::exists(dir / "b.dduf"));
}

TEST(BundleDduf, AFlatDataFolderRoundTrips) {
  TempDir dir;
  write(dir / "src/assets/a.txt", "a");
  write(dir / "src/assets/b.json", "{}");
  Tok tok{"en", brine::DataPath(dir / "src/assets")};
  brine::save_bundle(dir / "bundle", tok);
  brine::export_bundle_dduf(dir / "bundle", dir / "b.dduf");
  auto values = brine::load_bundle(dir / "b.dduf");
  const fs::path folder = values[0].get<Tok>().vocab.path();
  EXPECT_EQ(slurp(folder / "a.txt"), "a");
  EXPECT_EQ(slurp(folder / "b.json"), "{}");
}

TEST(BundleDduf, RefusesTwoDataFilesOfOneName) {
  TempDir dir;
  write(dir / "src/a/vocab.txt", "a");
  write(dir / "src/b/vocab.txt", "b");
  Toks toks;
  toks.toks.push_back({"a", brine::DataPath(dir / "src/a/vocab.txt")});
  toks.toks.push_back({"b", brine::DataPath(dir / "src/b/vocab.txt")});
  brine::save_bundle(dir / "bundle", toks);
  EXPECT_EQ(refused_rule([&] { brine::export_bundle_dduf(dir / "bundle", dir / "b.dduf"); }),
            brine::DdufRule::duplicate_name);
  EXPECT_FALSE(fs::exists(dir / "b.dduf"));
}

TEST(BundleDduf, RefusesADiffusersFile) {
  TempDir dir;
  write(dir / "pipe/model_index.json",
        R"({"_class_name": "StableDiffusionPipeline", "unet": ["diffusers", "UNet2DModel"]})");
  write(dir / "pipe/unet/config.json", "{}");
  brine::export_dduf_folder(dir / "pipe", dir / "pipe.dduf");
  try {
    brine::load_bundle(dir / "pipe.dduf");
    FAIL() << "loaded";
  } catch (const brine::FormatError& e) {
    EXPECT_EQ(e.code(), brine::errc::unsupported_content);
    EXPECT_NE(std::string(e.what()).find("not a brine bundle"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("StableDiffusionPipeline"), std::string::npos);
  }
  EXPECT_THROW(brine::import_bundle_dduf(dir / "pipe.dduf", dir / "out"), brine::FormatError);
  EXPECT_FALSE(fs::exists(dir / "out"));
}

}  // namespace

namespace {

struct TwoPaths {
  BRINE_TYPE("bundle_dduf_test.TwoPaths", 1);
  brine::DataPath folder;
  brine::DataPath file;
  template <class A>
  void getstate(A& ar) const {
    ar("folder", folder)("file", file);
  }
  template <class A>
  void setstate(A& ar) {
    ar("folder", folder)("file", file);
  }
};
BRINE_REGISTER(TwoPaths);

TEST(BundleDduf, RefusesADataFolderSharingItsValueFolder) {
  TempDir dir;
  write(dir / "src/assets/a.txt", "a");
  write(dir / "src/vocab.txt", "v");
  TwoPaths two{brine::DataPath(dir / "src/assets"), brine::DataPath(dir / "src/vocab.txt")};
  brine::save_bundle(dir / "bundle", two);
  EXPECT_EQ(refused_rule([&] { brine::export_bundle_dduf(dir / "bundle", dir / "b.dduf"); }),
            brine::DdufRule::duplicate_name);
  EXPECT_FALSE(fs::exists(dir / "b.dduf"));
}

TEST(BundleDduf, RefusesADamagedBundle) {
  TempDir dir;
  fs::path bundle = make_bundle(dir);
  // The bundle's copy of the data file changes after the save: its SHA-256 tells.
  for (const auto& item : fs::recursive_directory_iterator(bundle))
    if (item.path().filename() == "vocab.txt") {
      fs::remove(item.path());  // a hard link to the source: replace, not rewrite
      write(item.path(), "HELLO\nworld\n");
    }
  try {
    brine::export_bundle_dduf(bundle, dir / "b.dduf");
    FAIL() << "exported";
  } catch (const brine::FormatError& e) {
    EXPECT_EQ(e.code(), brine::errc::checksum_mismatch) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir / "b.dduf"));
}

}  // namespace

namespace {

struct Noted {
  BRINE_TYPE("bundle_dduf_test.Noted", 1);
  brine::DataPath main;
  brine::DataPath outside;  // excluded by the hook: recorded absolute, kept as is
  template <class A>
  void getstate(A& ar) const {
    ar("main", main)("outside", outside);
  }
  template <class A>
  void setstate(A& ar) {
    ar("main", main)("outside", outside);
  }
};
BRINE_REGISTER(Noted);

TEST(BundleDduf, HookFilesAndAbsolutePathsTravel) {
  TempDir dir;
  write(dir / "src/main.json", "{\"a\": 1}");
  write(dir / "src/outside.bin", "kept outside");
  write(dir / "src/notes.txt", "notes");
  const fs::path notes = dir / "src/notes.txt";
  brine::add_bundle_files_hook<Noted>([notes](const Noted&, brine::BundleFiles& files) {
    files.exclude("outside");
    files.add(notes, "notes.txt");
  });
  Noted n{brine::DataPath(dir / "src/main.json"), brine::DataPath(dir / "src/outside.bin")};
  brine::save_bundle(dir / "bundle", n);
  brine::export_bundle_dduf(dir / "bundle", dir / "b.dduf");
  auto values = brine::load_bundle(dir / "b.dduf");
  Noted& loaded = values[0].get<Noted>();
  EXPECT_EQ(slurp(loaded.main.path()), "{\"a\": 1}");
  EXPECT_EQ(loaded.outside.path(), dir / "src/outside.bin");
  ASSERT_EQ(values[0].extra_files().size(), 1u);
  EXPECT_EQ(values[0].extra_files()[0].first, "value0/notes.txt");
  EXPECT_EQ(slurp(values[0].extra_files()[0].second), "notes");
}

}  // namespace
