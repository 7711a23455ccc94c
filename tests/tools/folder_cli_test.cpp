// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// folder_cli_test.cpp: the `brine` tool on model folders and bundle folders: inspect --json
// (format, types, objects, files / variants), verify (0 valid, 1 with one line naming the
// file that is wrong, never a signal), dump showing the values, a moved bundle.

#include <gtest/gtest.h>

#include <brine/bundle.hpp>
#include <brine/data_path.hpp>
#include <brine/hub.hpp>
#include <brine/io.hpp>
#include <brine/types/tensor.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_run.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;

struct Tokenizer {
  BRINE_TYPE("folder_cli_test.Tokenizer", 1);
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
  BRINE_TYPE("folder_cli_test.Net", 2);
  int hidden = 0;
  brine::Tensor weight;
  template <class A>
  void getstate(A& ar) const {
    ar("hidden", hidden)("weight", weight);
  }
  template <class A>
  void setstate(A& ar) {
    ar("hidden", hidden)("weight", weight);
  }
};

using brine_test::CliRun;

CliRun brine_cli(const brine_test::TempDir& dir, const std::string& args) {
  return brine_test::run_captured(BRINE_CLI_PATH, dir.path(), args);
}

void write_text(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}

// A bundle of a tokenizer with a vocabulary file and a plain number.
void make_bundle(const brine_test::TempDir& dir, const fs::path& bundle) {
  write_text(dir / "src" / "vocab.txt", "hello\nworld\n");
  Tokenizer t;
  t.lang = "en";
  t.vocab = brine::DataPath(dir / "src" / "vocab.txt");
  brine::save_bundle(bundle, t, 42);
}

TEST(FolderCli, InspectVerifyAndDumpABundleWithoutItsTypes) {
  brine_test::TempDir dir;
  make_bundle(dir, dir / "b");
  CliRun inspect = brine_cli(dir, "inspect --json " + (dir / "b").string());
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  nlohmann::json j = nlohmann::json::parse(inspect.out);
  EXPECT_EQ(j["format"], "brine-bundle");
  EXPECT_EQ(j["format_version"], 1);
  EXPECT_EQ(j["objects"], 2);
  ASSERT_EQ(j["types"].size(), 2u) << j.dump();  // the tokenizer and its DataPath
  EXPECT_EQ(j["types"][1]["name"], "folder_cli_test.Tokenizer");
  EXPECT_TRUE(j["tensors"].is_array());
  ASSERT_EQ(j["files"].size(), 1u) << j.dump();
  EXPECT_EQ(j["files"][0]["path"], "data/0/vocab/vocab.txt");
  EXPECT_EQ(j["files"][0]["size"], 12);

  CliRun verify = brine_cli(dir, "verify " + (dir / "b").string());
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_NE(verify.out.find("ok (brine-bundle v1, 2 objects, 1 data file, "), std::string::npos)
      << verify.out;

  CliRun dump = brine_cli(dir, "dump " + (dir / "b").string());
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_NE(dump.out.find("\"en\""), std::string::npos) << dump.out;
  EXPECT_NE(dump.out.find("42"), std::string::npos) << dump.out;
  // The data path shows resolved inside the bundle, where it now lies.
  EXPECT_NE(dump.out.find((dir / "b" / "data/0/vocab/vocab.txt").string()), std::string::npos)
      << dump.out;
}

TEST(FolderCli, VerifyRefusesATamperedDataFileNamingIt) {
  brine_test::TempDir dir;
  make_bundle(dir, dir / "b");
  const fs::path vocab = dir / "b" / "data/0/vocab/vocab.txt";
  fs::remove(vocab);  // a hard link to the source: write a new file
  write_text(vocab, "hello\nWorld\n");
  CliRun verify = brine_cli(dir, "verify " + (dir / "b").string());
  EXPECT_EQ(verify.signal, 0);
  EXPECT_EQ(verify.exit_code, 1);
  EXPECT_NE(verify.err.find("data/0/vocab/vocab.txt"), std::string::npos) << verify.err;
  EXPECT_EQ(std::count(verify.err.begin(), verify.err.end(), '\n'), 1) << verify.err;
  // inspect and dump refuse it too, with the same reason, rather than show a wrong value.
  CliRun inspect = brine_cli(dir, "inspect --json " + (dir / "b").string());
  EXPECT_EQ(inspect.exit_code, 1);
  EXPECT_NE(inspect.err.find("vocab.txt"), std::string::npos) << inspect.err;
}

TEST(FolderCli, AMovedBundleVerifiesAndDumpsItsNewPlace) {
  brine_test::TempDir dir;
  make_bundle(dir, dir / "b");
  fs::remove_all(dir / "src");
  fs::rename(dir / "b", dir / "moved");
  CliRun verify = brine_cli(dir, "verify " + (dir / "moved").string());
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  CliRun dump = brine_cli(dir, "dump " + (dir / "moved").string());
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_NE(dump.out.find((dir / "moved" / "data/0/vocab/vocab.txt").string()), std::string::npos)
      << dump.out;
  EXPECT_EQ(dump.out.find((dir / "b" / "").string()), std::string::npos) << dump.out;
}

TEST(FolderCli, AModelFolderWithAVariant) {
  brine_test::TempDir dir;
  Net n;
  n.hidden = 3;
  n.weight = brine::Tensor(brine::DType::float32, {3});
  brine::push_to_folder(dir / "m", n);
  brine::ModelFolderOptions half;
  half.variant = "fp16";
  brine::push_to_folder(dir / "m", n, half);
  CliRun inspect = brine_cli(dir, "inspect --json " + (dir / "m").string());
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  nlohmann::json j = nlohmann::json::parse(inspect.out);
  EXPECT_EQ(j["format"], "model-folder");
  EXPECT_EQ(j["format_version"], brine::model_folder_format_version);
  EXPECT_EQ(j["objects"], 1);
  ASSERT_EQ(j["types"].size(), 1u) << j.dump();
  EXPECT_EQ(j["types"][0]["name"], "folder_cli_test.Net");
  EXPECT_EQ(j["types"][0]["version"], 2);
  EXPECT_EQ(j["variants"], (std::vector<std::string>{"", "fp16"}));
  ASSERT_EQ(j["tensors"].size(), 1u) << j.dump();
  EXPECT_EQ(j["tensors"][0]["name"], "weight");

  CliRun verify = brine_cli(dir, "verify " + (dir / "m").string());
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_NE(verify.out.find("model-folder v1, 1 object, 2 variants"), std::string::npos)
      << verify.out;
  // A variant whose weights are damaged makes the folder invalid, naming the file.
  write_text(dir / "m" / "model.fp16.safetensors", "garbage");
  verify = brine_cli(dir, "verify " + (dir / "m").string());
  EXPECT_EQ(verify.signal, 0);
  EXPECT_EQ(verify.exit_code, 1);
  EXPECT_NE(verify.err.find("model.fp16.safetensors"), std::string::npos) << verify.err;
}

TEST(FolderCli, AFolderThatIsNeitherIsStillASafetensorsCheckpoint) {
  brine_test::TempDir dir;
  fs::create_directory(dir / "empty");
  CliRun verify = brine_cli(dir, "verify " + (dir / "empty").string());
  EXPECT_EQ(verify.exit_code, 1);
  EXPECT_EQ(verify.err.find("bundle"), std::string::npos) << verify.err;
}

}  // namespace
