// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// dduf_rules_test.cpp: every file of tests/data/dduf (made by make_invalid.py) breaks one rule
// of docs/format/dduf.md; opening it raises that rule, in a message that names the entry.
// Every truncation and every single-byte flip of a valid file is refused cleanly or read.

#include <brine/dduf.hpp>

// The fuzz target without its entry point: every test file goes through it too, so that the
// target builds (with -Werror) in every build, not only in fuzzing builds.
#define BRINE_FUZZ_REPLAY 1
#include "../../fuzz/fuzz_dduf.cpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using brine::DdufRule;

const fs::path kData = BRINE_DDUF_DATA_DIR;

struct Case {
  const char* file;
  DdufRule rule;
  const char* entry;  // the entry the message must name ("" for the archive as a whole)
  brine::errc code = brine::errc::corrupt_data;
};

const Case kCases[] = {
    {"compressed_entry.dduf", DdufRule::compressed_entry, "vae/config.json"},
    {"encrypted_entry.dduf", DdufRule::encrypted_entry, "vae/diffusion_pytorch_model.safetensors"},
    {"size_mismatch.dduf", DdufRule::size_mismatch, "vae/diffusion_pytorch_model.safetensors"},
    {"bad_extension.dduf", DdufRule::extension_not_allowed, "vae/weights.bin"},
    {"too_deep.dduf", DdufRule::too_deep, "vae/sub/config.json"},
    {"parent_reference.dduf", DdufRule::parent_reference, "../evil.json"},
    {"absolute_name.dduf", DdufRule::absolute_name, "/evil.json"},
    {"backslash_in_name.dduf", DdufRule::backslash_in_name, "vae\\evil.json"},
    {"empty_component.dduf", DdufRule::invalid_name, "vae//x.json"},
    {"duplicate_name.dduf", DdufRule::duplicate_name, "vae/config.json"},
    {"directory_with_data.dduf", DdufRule::invalid_name, "vae/"},
    {"missing_model_index.dduf", DdufRule::missing_model_index, "model_index.json"},
    {"model_index_not_object.dduf", DdufRule::model_index_not_object, "model_index.json"},
    {"model_index_not_json.dduf", DdufRule::model_index_not_json, "model_index.json"},
    {"model_index_too_deep.dduf", DdufRule::model_index_not_json, "model_index.json"},
    {"folder_not_in_index.dduf", DdufRule::folder_not_in_index, "text_encoder"},
    {"folder_without_config.dduf", DdufRule::folder_without_config, "vae"},
    {"truncated.dduf", DdufRule::not_a_zip, ""},
    {"not_a_zip.dduf", DdufRule::not_a_zip, ""},
    {"central_directory_past_end.dduf", DdufRule::truncated, "", brine::errc::truncated_input},
    {"multi_disk.dduf", DdufRule::multi_disk, ""},
    {"zip64_bad_locator.dduf", DdufRule::invalid_zip64, ""},
    {"bad_crc.dduf", DdufRule::crc_mismatch, "vae/diffusion_pytorch_model.safetensors",
     brine::errc::checksum_mismatch},
    {"local_name_mismatch.dduf", DdufRule::local_header_mismatch,
     "vae/diffusion_pytorch_model.safetensors"},
    {"local_size_mismatch.dduf", DdufRule::local_header_mismatch,
     "vae/diffusion_pytorch_model.safetensors"},
    {"overlapping_entries.dduf", DdufRule::overlapping_entries, "vae/config.json"},
    {"entry_out_of_bounds.dduf", DdufRule::entry_out_of_bounds,
     "vae/diffusion_pytorch_model.safetensors"},
};

bool is_name_rule(DdufRule rule) {
  return rule >= DdufRule::invalid_name && rule <= DdufRule::duplicate_name;
}

TEST(DdufRules, EachFileRaisesItsRuleNamingTheEntry) {
  brine::DdufReadOptions verify;
  verify.verify_crc = true;
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.file);
    ASSERT_TRUE(fs::exists(kData / c.file)) << "run tests/data/dduf/make_invalid.py";
    try {
      brine::open_dduf(kData / c.file, verify);
      ADD_FAILURE() << "opened";
    } catch (const brine::DdufError& e) {
      EXPECT_EQ(e.rule(), c.rule) << e.what();
      EXPECT_EQ(e.code(), c.code) << e.what();
      EXPECT_EQ(brine::dduf_rule_of(e), c.rule);
      EXPECT_EQ(is_name_rule(c.rule), dynamic_cast<const brine::DdufEntryNameError*>(&e) != nullptr)
          << e.what();
      const std::string what = e.what();
      EXPECT_NE(what.find(brine::dduf_rule_name(c.rule)), std::string::npos) << what;
      EXPECT_NE(what.find(c.file), std::string::npos) << "the file is not named: " << what;
      if (*c.entry != '\0') {
        EXPECT_NE(what.find("'" + std::string(c.entry)), std::string::npos) << what;
        EXPECT_EQ(e.entry().rfind(c.entry, 0), 0u) << e.entry();
      }
    }
  }
}

TEST(DdufRules, ValidFilesOpen) {
  for (const char* file : {"valid.dduf", "valid_zip64.dduf", "valid_directory_entry.dduf"}) {
    SCOPED_TRACE(file);
    brine::DdufReadOptions verify;
    verify.verify_crc = true;
    brine::DdufFile dduf = brine::open_dduf(kData / file, verify);
    EXPECT_EQ(dduf.is_zip64(), std::string(file) == "valid_zip64.dduf");
    const bool with_directory = std::string(file) == "valid_directory_entry.dduf";
    ASSERT_EQ(dduf.entries().size(), with_directory ? 4u : 3u);
    if (with_directory) {
      EXPECT_TRUE(dduf.at("vae/").is_directory());
      EXPECT_EQ(dduf.at("vae/").size(), 0u);
    }
    brine::StateDict dict =
        brine::load_safetensors(dduf.at("vae/diffusion_pytorch_model.safetensors"));
    const brine::Tensor* w = dict.find("w");
    ASSERT_NE(w, nullptr);
    float third;
    std::memcpy(&third, w->bytes() + 8, 4);
    EXPECT_EQ(third, 3.0f);
  }
}

TEST(DdufRules, CrcIsCheckedOnlyWhenAsked) {
  EXPECT_NO_THROW(brine::open_dduf(kData / "bad_crc.dduf"));
}

// Every prefix and every byte flip of a valid file: a DdufError, or a file that reads (a flip
// in a byte no rule covers, such as a timestamp), never a crash or another exception.
TEST(DdufRules, TruncationsAndBitFlipsAreRefusedCleanly) {
  for (const char* file : {"valid.dduf", "valid_zip64.dduf"}) {
    const std::string bytes = brine::read_file(kData / file);
    auto attempt = [&](const std::string& candidate) {
      auto owner = std::make_shared<std::string>(candidate);
      try {
        brine::DdufReadOptions verify;
        verify.verify_crc = true;
        brine::DdufFile dduf = brine::read_dduf(owner, *owner, verify, "candidate");
        for (const brine::DdufEntry& e : dduf.entries())
          if (e.name().size() > 12 && e.name().substr(e.name().size() - 12) == ".safetensors")
            (void)brine::load_safetensors(e);
      } catch (const brine::FormatError&) {
      }
    };
    for (std::size_t n = 0; n < bytes.size(); ++n) attempt(bytes.substr(0, n));
    for (std::size_t i = 0; i < bytes.size(); ++i) attempt(brine_test::corrupt(bytes, i));
  }
}

TEST(DdufRules, EveryTestFileGoesThroughTheFuzzTarget) {
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(kData)) {
    if (entry.path().extension() != ".dduf") continue;
    ++files;
    SCOPED_TRACE(entry.path().filename().string());
    const std::string bytes = brine::read_file(entry.path());
    EXPECT_NO_THROW(fuzz::dduf::one_input(bytes));
    EXPECT_NO_THROW(fuzz::dduf::one_input(bytes.substr(0, bytes.size() - 1)));
  }
  EXPECT_EQ(files, std::size(kCases) + 3);  // every rule file, and the three valid ones
}

}  // namespace
