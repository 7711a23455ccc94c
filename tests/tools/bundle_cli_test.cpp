// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// bundle_cli_test.cpp: the `brine` tool on bundle folders, which it reads without any of
// their types: verify (0 valid, 1 with one line naming the file, never a signal), inspect
// --json (the usual keys, plus the data files), dump, a moved bundle, and convert into a DDUF
// file and into a brine archive.

#include <gtest/gtest.h>

#include <algorithm>
#include <brine/brine.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_run.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using brine_test::TempDir;

struct Tokenizer {
  BRINE_TYPE("cli_test.Tokenizer", 3);
  std::string name;
  brine::DataPath vocabulary;
  brine::Tensor embedding;

  template <class Archive>
  void getstate(Archive& ar) const {
    ar("name", name)("vocabulary", vocabulary)("embedding", embedding);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    ar("name", name)("vocabulary", vocabulary)("embedding", embedding);
  }
};

}  // namespace

BRINE_REGISTER(Tokenizer);

namespace {

using brine_test::CliRun;

CliRun brine_cli(const TempDir& dir, const std::string& args) {
  return brine_test::run_captured(BRINE_CLI_PATH, dir.path(), args);
}

void spit(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// A bundle of a Tokenizer (with a vocabulary file and a tensor) and a plain map.
fs::path make_bundle(const TempDir& tmp) {
  spit(tmp.path() / "vocab.txt", "hello\nworld\n");
  Tokenizer tok;
  tok.name = "wordpiece";
  tok.vocabulary = brine::DataPath(tmp.path() / "vocab.txt");
  tok.embedding = brine::Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
  const fs::path dir = tmp.path() / "bundle";
  brine::save_bundle(dir, tok, std::map<std::string, int>{{"epochs", 7}});
  fs::remove(tmp.path() / "vocab.txt");
  return dir;
}

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

TEST(BundleCli, VerifyInspectAndDumpReadABundleWithoutItsTypes) {
  TempDir tmp;
  const fs::path bundle = make_bundle(tmp);

  CliRun verify = brine_cli(tmp, "verify " + quoted(bundle));
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_NE(verify.out.find("ok (brine-bundle v1, 2 objects, 1 data file, "), std::string::npos)
      << verify.out;

  CliRun inspect = brine_cli(tmp, "inspect --json " + quoted(bundle));
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  const nlohmann::json info = nlohmann::json::parse(inspect.out);
  EXPECT_EQ(info["format"], "brine-bundle");
  EXPECT_EQ(info["format_version"], 1);
  EXPECT_EQ(info["objects"], 2);
  ASSERT_EQ(info["files"].size(), 1u);
  EXPECT_EQ(info["files"][0]["path"], "data/0/vocabulary/vocab.txt");
  EXPECT_EQ(info["files"][0]["size"], 12);
  EXPECT_EQ(info["files"][0]["sha256"].get<std::string>().size(), 64u);
  bool has_type = false;
  for (const auto& t : info["types"])
    has_type = has_type || (t["name"] == "cli_test.Tokenizer" && t["version"] == 3);
  EXPECT_TRUE(has_type) << inspect.out;
  ASSERT_EQ(info["tensors"].size(), 1u);
  EXPECT_EQ(info["tensors"][0]["name"], "0.embedding");
  EXPECT_EQ(info["tensors"][0]["dtype"], "F32");
  EXPECT_EQ(info["tensors"][0]["shape"], nlohmann::json::array({2, 3}));

  CliRun dump = brine_cli(tmp, "dump " + quoted(bundle));
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_NE(dump.out.find("\"wordpiece\""), std::string::npos) << dump.out;
  EXPECT_NE(dump.out.find("\"epochs\""), std::string::npos) << dump.out;
  EXPECT_NE(dump.out.find((bundle / "data/0/vocabulary/vocab.txt").string()), std::string::npos)
      << dump.out;
}

TEST(BundleCli, AMovedBundleVerifiesAndDumpsItsPathsInTheNewPlace) {
  TempDir tmp;
  const fs::path moved = tmp.path() / "elsewhere" / "moved";
  fs::create_directories(moved.parent_path());
  fs::rename(make_bundle(tmp), moved);

  CliRun verify = brine_cli(tmp, "verify " + quoted(moved));
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  CliRun dump = brine_cli(tmp, "dump " + quoted(moved));
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_NE(dump.out.find((moved / "data/0/vocabulary/vocab.txt").string()), std::string::npos)
      << dump.out;
}

TEST(BundleCli, VerifyRefusesAChangedDataFileAndABrokenManifestInOneLine) {
  TempDir tmp;
  const fs::path bundle = make_bundle(tmp);
  const fs::path vocab = bundle / "data/0/vocabulary/vocab.txt";
  // Same size, other bytes: only the SHA-256 tells.
  fs::remove(vocab);  // a hard link to nothing else now, but never write through a link
  spit(vocab, "HELLO\nworld\n");
  CliRun changed = brine_cli(tmp, "verify " + quoted(bundle));
  EXPECT_EQ(changed.exit_code, 1);
  EXPECT_EQ(changed.signal, 0);
  EXPECT_NE(changed.err.find("data/0/vocabulary/vocab.txt"), std::string::npos) << changed.err;
  EXPECT_EQ(std::count(changed.err.begin(), changed.err.end(), '\n'), 1) << changed.err;

  TempDir tmp2;
  const fs::path other = make_bundle(tmp2);
  spit(other / "brine-bundle.json", "{\"format\": \"brine-bundle\", \"format_version\": ");
  CliRun broken = brine_cli(tmp2, "verify " + quoted(other));
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_EQ(broken.signal, 0);
  EXPECT_NE(broken.err.find("brine-bundle.json"), std::string::npos) << broken.err;
}

TEST(BundleCli, ConvertPacksABundleIntoItsDdufFormAndWritesItsValuesAsAnArchive) {
  TempDir tmp;
  const fs::path bundle = make_bundle(tmp);
  const fs::path dduf = tmp.path() / "tokenizer.dduf";
  CliRun pack = brine_cli(tmp, "convert " + quoted(bundle) + " " + quoted(dduf));
  ASSERT_EQ(pack.exit_code, 0) << pack.err;
  CliRun verify = brine_cli(tmp, "verify " + quoted(dduf));
  EXPECT_EQ(verify.exit_code, 0) << verify.err;

  std::vector<brine::LoadedValue> values = brine::load_bundle_dduf(dduf);
  ASSERT_EQ(values.size(), 2u);
  const Tokenizer& tok = values[0].get<Tokenizer>();
  EXPECT_EQ(tok.name, "wordpiece");
  EXPECT_EQ(brine::read_file(tok.vocabulary.path()), "hello\nworld\n");
  EXPECT_TRUE(tok.embedding.is_mapped());
  EXPECT_EQ((values[1].as<std::map<std::string, int>>().at("epochs")), 7);

  const fs::path json = tmp.path() / "values.json";
  CliRun to_json = brine_cli(tmp, "convert " + quoted(bundle) + " " + quoted(json));
  ASSERT_EQ(to_json.exit_code, 0) << to_json.err;
  const std::string text = brine::read_file(json);
  EXPECT_NE(text.find("cli_test.Tokenizer"), std::string::npos) << text;
}

}  // namespace
