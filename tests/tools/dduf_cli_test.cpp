// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// dduf_cli_test.cpp: the `brine` tool on DDUF files: verify (0 valid, 1 with one line naming
// the rule and the entry, never a signal), inspect --json, dump, and convert packing a folder
// and unpacking a file, checked against Python's zipfile.

#include <gtest/gtest.h>

#include <brine/dduf.hpp>
#include <brine/io.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli_run.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;

const fs::path kData = BRINE_DDUF_DATA_DIR;

using brine_test::CliRun;

CliRun brine_cli(const brine_test::TempDir& dir, const std::string& args) {
  return brine_test::run_captured(BRINE_CLI_PATH, dir.path(), args);
}

std::string python() {
  std::string p = BRINE_DDUF_PYTHON;
  return p.empty() ? "/usr/bin/python3" : p;
}

void spit(const fs::path& p, std::string_view bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::map<std::string, std::string> entries_of(const fs::path& file) {
  std::map<std::string, std::string> out;
  brine::DdufFile dduf = brine::open_dduf(file);
  for (const brine::DdufEntry& e : dduf.entries()) out[e.name()] = e.text();
  return out;
}

void write_pipeline(const fs::path& folder) {
  spit(folder / "model_index.json", R"({"unet": ["diffusers", "U"], "tokenizer": ["t", "T"]})");
  spit(folder / "unet" / "config.json", R"({"channels": 4})");
  spit(folder / "unet" / "diffusion_pytorch_model.safetensors",
       std::string("\x38\0\0\0\0\0\0\0", 8) +
           R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}  )" +
           std::string("\0\0\x80\x3f\0\0\0\x40", 8));
  spit(folder / "tokenizer" / "tokenizer_config.json", "{}");
  spit(folder / "tokenizer" / "vocab.txt", "a\nb\n");
  spit(folder / "tokenizer" / "spiece.model", std::string("\0\xff\x01spm", 6));
}

TEST(DdufCli, VerifyAcceptsValidFilesAndNamesTheRuleAndEntryOfEachBadOne) {
  brine_test::TempDir dir;
  CliRun ok = brine_cli(dir, "verify " + (kData / "valid.dduf").string() + " " +
                                 (kData / "valid_zip64.dduf").string());
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("ok (dduf, 3 entries, 1 tensor"), std::string::npos) << ok.out;

  const std::pair<const char*, const char*> bad[] = {
      {"compressed_entry.dduf", "'vae/config.json'"},
      {"bad_extension.dduf", "'vae/weights.bin'"},
      {"too_deep.dduf", "'vae/sub/config.json'"},
      {"parent_reference.dduf", "'../evil.json'"},
      {"bad_crc.dduf", "'vae/diffusion_pytorch_model.safetensors'"},
      {"folder_without_config.dduf", "'vae'"},
      {"overlapping_entries.dduf", "'vae/config.json'"},
      {"truncated.dduf", "not_a_zip"},
      {"not_a_zip.dduf", "not_a_zip"},
      {"zip64_bad_locator.dduf", "invalid_zip64"},
  };
  for (const auto& [file, named] : bad) {
    SCOPED_TRACE(file);
    CliRun r = brine_cli(dir, "verify " + (kData / file).string());
    EXPECT_EQ(r.signal, 0);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.err.find("DDUF rule '"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(named), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

TEST(DdufCli, InspectJsonHasTheCommonKeysAndTheEntries) {
  brine_test::TempDir dir;
  CliRun r = brine_cli(dir, "inspect --json " + (kData / "valid.dduf").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  for (const char* key :
       {"file", "format", "format_version", "bytes", "objects", "types", "tensors"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j.at("format"), "dduf");
  EXPECT_EQ(j.at("bytes"), fs::file_size(kData / "valid.dduf"));
  ASSERT_EQ(j.at("entries").size(), 3u);
  brine::DdufFile dduf = brine::open_dduf(kData / "valid.dduf");
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(j["entries"][i]["name"], dduf.entries()[i].name());
    EXPECT_EQ(j["entries"][i]["offset"], dduf.entries()[i].offset());
    EXPECT_EQ(j["entries"][i]["size"], dduf.entries()[i].size());
  }
  ASSERT_EQ(j.at("tensors").size(), 1u);
  EXPECT_EQ(j["tensors"][0]["name"], "vae/diffusion_pytorch_model.safetensors:w");
  EXPECT_EQ(j["tensors"][0]["dtype"], "F32");

  CliRun text = brine_cli(dir, "inspect " + (kData / "valid.dduf").string());
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("entries:         3"), std::string::npos) << text.out;

  CliRun bad = brine_cli(dir, "inspect --json " + (kData / "too_deep.dduf").string());
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("too_deep"), std::string::npos) << bad.err;
}

TEST(DdufCli, DumpShowsEveryEntry) {
  brine_test::TempDir dir;
  CliRun r = brine_cli(dir, "dump " + (kData / "valid.dduf").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"vae/config.json\": \"{\\\"latent_channels\\\": 4}\""), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\"$tensor\""), std::string::npos) << r.out;
}

TEST(DdufCli, PythonWrittenFileUnpackedAndPackedAgainKeepsEntriesAndBytes) {
  brine_test::TempDir dir;
  write_pipeline(dir / "src");
  const std::string write = python() + " " + BRINE_DDUF_CHECK_SCRIPT + " write " +
                            (dir / "py.dduf").string() + " " + (dir / "src").string();
  ASSERT_EQ(std::system(write.c_str()), 0) << write;

  CliRun unpack =
      brine_cli(dir, "convert " + (dir / "py.dduf").string() + " " + (dir / "unpacked").string());
  ASSERT_EQ(unpack.exit_code, 0) << unpack.err;
  CliRun pack =
      brine_cli(dir, "convert " + (dir / "unpacked").string() + " " + (dir / "re.dduf").string());
  ASSERT_EQ(pack.exit_code, 0) << pack.err;
  const auto original = entries_of(dir / "py.dduf");
  EXPECT_EQ(entries_of(dir / "re.dduf"), original);
  EXPECT_EQ(original.size(), 6u);
  const brine::DdufFile repacked = brine::open_dduf(dir / "re.dduf");
  for (const brine::DdufEntry& e : repacked.entries()) EXPECT_EQ(e.offset() % 64, 0u) << e.name();

  // Python's zipfile reads brine's file back, byte for byte.
  const std::string read = python() + " " + BRINE_DDUF_CHECK_SCRIPT + " read " +
                           (dir / "re.dduf").string() + " " + (dir / "py_out").string() +
                           " > /dev/null";
  ASSERT_EQ(std::system(read.c_str()), 0) << read;
  for (const auto& [name, bytes] : original)
    EXPECT_EQ(brine::read_file(dir / "py_out" / name), bytes) << name;

  // dump: text entries as text, the binary .model entry as a uint8 tensor of its bytes.
  CliRun dump = brine_cli(dir, "dump " + (dir / "re.dduf").string());
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_NE(dump.out.find("\"tokenizer/vocab.txt\": \"a\\nb\\n\""), std::string::npos) << dump.out;
  const std::size_t model = dump.out.find("\"tokenizer/spiece.model\": {");
  ASSERT_NE(model, std::string::npos) << dump.out;
  EXPECT_NE(dump.out.find("\"dtype\": \"uint8\"", model), std::string::npos) << dump.out;
  EXPECT_NE(dump.out.find("\"nbytes\": 6", model), std::string::npos) << dump.out;

  // A DDUF file repacks into another directly (aligned now).
  CliRun repack = brine_cli(
      dir, "convert " + (dir / "py.dduf").string() + " " + (dir / "aligned.dduf").string());
  ASSERT_EQ(repack.exit_code, 0) << repack.err;
  EXPECT_EQ(entries_of(dir / "aligned.dduf"), original);
}

TEST(DdufCli, ConvertRefusesAFolderThatBreaksARule) {
  brine_test::TempDir dir;
  write_pipeline(dir / "src");
  spit(dir / "src" / "unet" / "weights.bin", "x");
  CliRun r =
      brine_cli(dir, "convert " + (dir / "src").string() + " " + (dir / "out.dduf").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("'unet/weights.bin'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("extension_not_allowed"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "out.dduf"));

  // Unpacking never overwrites: an existing destination is refused.
  fs::remove(dir / "src" / "unet" / "weights.bin");
  ASSERT_EQ(brine_cli(dir, "convert " + (dir / "src").string() + " " + (dir / "out.dduf").string())
                .exit_code,
            0);
  CliRun again =
      brine_cli(dir, "convert " + (dir / "out.dduf").string() + " " + (dir / "src").string());
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("exists"), std::string::npos) << again.err;
}

}  // namespace
