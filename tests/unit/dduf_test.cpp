// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// dduf_test.cpp: DDUF files: what brine writes reads back aligned and with Python's zipfile,
// what Python's zipfile writes reads in brine, safetensors entries load mapped, exports from a
// generator hold one entry in memory, refused exports leave nothing behind.

#include <brine/dduf.hpp>
#include <brine/safetensors.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "peak_memory.hpp"
#include "test_util.hpp"

#if defined(__SANITIZE_ADDRESS__)
// AddressSanitizer keeps freed memory in a quarantine (256 MiB by default) to catch uses
// after free, so the entries a generator export has already written and freed would still
// count in the resident set, and DduffMemory could not tell one entry held from eight. A
// quarantine smaller than one entry lets each freed entry go back as it would without ASan;
// smaller blocks are still quarantined.
extern "C" const char* __asan_default_options() { return "quarantine_size_mb=16"; }
#endif

namespace {

namespace fs = std::filesystem;
using brine::DdufBytesEntry;
using brine::DdufRule;

std::string slurp(const fs::path& p) { return brine::read_file(p); }

void spit(const fs::path& p, std::string_view bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string safetensors_bytes(float first, std::size_t n) {
  brine::StateDict dict;
  std::vector<float> values(n);
  for (std::size_t i = 0; i < n; ++i) values[i] = first + static_cast<float>(i);
  dict.insert("weight", brine::Tensor::from_vector(values));
  dict.insert("bias", brine::Tensor::from_values(values.data(), 3));
  brine::Buffer buffer;
  brine::BufferSink sink(buffer);
  brine::write_safetensors(sink, dict);
  return std::string(reinterpret_cast<const char*>(buffer.data()), buffer.size());
}

/// A small diffusers-like pipeline: (name, bytes), model_index.json first.
std::vector<std::pair<std::string, std::string>> pipeline() {
  return {
      {"model_index.json",
       R"({"_class_name": "TinyPipeline", "vae": ["diffusers", "AutoencoderKL"],)"
       R"( "tokenizer": ["transformers", "CLIPTokenizer"], "scheduler": ["diffusers", "PNDM"]})"},
      {"vae/config.json", R"({"latent_channels": 4})"},
      {"vae/diffusion_pytorch_model.safetensors", safetensors_bytes(1.5f, 1000)},
      {"tokenizer/tokenizer_config.json", R"({"model_max_length": 77})"},
      {"tokenizer/vocab.txt", "a\nb\nc\n"},
      {"tokenizer/spiece.model", std::string("\x00\x01\x02sentencepiece", 16)},
      {"scheduler/scheduler_config.json", R"({"num_train_timesteps": 1000})"},
      {"notes.txt", "odd length"},
  };
}

void write_folder(const fs::path& folder) {
  for (const auto& [name, bytes] : pipeline()) spit(folder / name, bytes);
}

void export_pipeline(const fs::path& out, const brine::DdufWriteOptions& options = {}) {
  auto entries = pipeline();
  std::size_t i = 0;
  brine::export_dduf(
      out,
      [&]() -> std::optional<DdufBytesEntry> {
        if (i == entries.size()) return std::nullopt;
        auto& e = entries[i++];
        return DdufBytesEntry{e.first, e.second};
      },
      options);
}

void expect_pipeline(const brine::DdufFile& dduf) {
  auto expected = pipeline();
  ASSERT_EQ(dduf.entries().size(), expected.size());
  for (const auto& [name, bytes] : expected) {
    const brine::DdufEntry* e = dduf.find(name);
    ASSERT_NE(e, nullptr) << name;
    EXPECT_EQ(e->size(), bytes.size()) << name;
    EXPECT_EQ(e->view(), bytes) << name;
  }
}

std::string python() {
  std::string p = BRINE_DDUF_PYTHON;
  return p.empty() ? "/usr/bin/python3" : p;
}

int run(const std::string& command) { return std::system(command.c_str()); }

TEST(Dduf, WrittenEntriesReadBackAlignedTo64Bytes) {
  brine_test::TempDir dir;
  export_pipeline(dir / "p.dduf");
  brine::DdufReadOptions verify;
  verify.verify_crc = true;
  brine::DdufFile dduf = brine::open_dduf(dir / "p.dduf", verify);
  expect_pipeline(dduf);
  EXPECT_FALSE(dduf.is_zip64());
  EXPECT_EQ(dduf.entries().front().name(), "model_index.json");
  for (const brine::DdufEntry& e : dduf.entries()) {
    EXPECT_EQ(e.offset() % 64, 0u) << e.name();
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(e.bytes().data()) % 64, 0u) << e.name();
    EXPECT_NE(e.file(), nullptr);
  }
  EXPECT_EQ(dduf.at("notes.txt").text(), "odd length");
  EXPECT_THROW_WITH(dduf.at("absent.json"), brine::DdufError, "absent.json");
}

TEST(Dduf, AlignmentIsAnOption) {
  brine_test::TempDir dir;
  brine::DdufWriteOptions options;
  options.alignment = 4096;
  export_pipeline(dir / "p.dduf", options);
  brine::DdufFile dduf = brine::open_dduf(dir / "p.dduf");
  for (const brine::DdufEntry& e : dduf.entries()) EXPECT_EQ(e.offset() % 4096, 0u) << e.name();
  options.alignment = 48;
  EXPECT_THROW(brine::DdufWriter(dir / "q.dduf", options), brine::InternalError);
}

TEST(Dduf, SafetensorsEntryLoadsMappedFromTheDdufFile) {
  brine_test::TempDir dir;
  export_pipeline(dir / "p.dduf");
  brine::StateDict dict;
  std::shared_ptr<const brine::MappedFile> file;
  {
    brine::DdufFile dduf = brine::open_dduf(dir / "p.dduf");
    const brine::DdufEntry& entry = dduf.at("vae/diffusion_pytorch_model.safetensors");
    dict = brine::load_safetensors(entry);
    file = entry.file();
  }  // the DdufFile is gone: the tensors keep the mapping
  const brine::Tensor* w = dict.find("weight");
  ASSERT_NE(w, nullptr);
  EXPECT_TRUE(w->is_mapped());
  EXPECT_EQ(w->owner(), std::static_pointer_cast<const void>(file));
  EXPECT_GE(w->bytes(), file->data());
  EXPECT_LE(w->bytes() + w->nbytes(), file->data() + file->size());
  ASSERT_EQ(w->shape(), std::vector<std::int64_t>{1000});
  EXPECT_EQ(w->values<float>()[0], 1.5f);
  EXPECT_EQ(w->values<float>()[999], 1000.5f);
  EXPECT_EQ(dict.find("bias")->storage_id(), w->storage_id());
}

TEST(Dduf, SafetensorsEntryErrorsNameTheEntry) {
  brine_test::TempDir dir;
  auto entries = pipeline();
  entries[2].second = "not safetensors";
  std::vector<brine::DdufFileEntry> files;
  for (const auto& [name, bytes] : entries) {
    spit(dir / "src" / name, bytes);
    files.push_back({name, dir / "src" / name});
  }
  brine::export_dduf(dir / "p.dduf", files);
  brine::DdufFile dduf = brine::open_dduf(dir / "p.dduf");
  EXPECT_THROW_WITH(brine::load_safetensors(dduf.at("vae/diffusion_pytorch_model.safetensors")),
                    brine::FormatError, "vae/diffusion_pytorch_model.safetensors");
}

TEST(Dduf, ReadDdufFromMemory) {
  brine_test::TempDir dir;
  export_pipeline(dir / "p.dduf");
  auto bytes = std::make_shared<std::string>(slurp(dir / "p.dduf"));
  brine::DdufFile dduf = brine::read_dduf(bytes, *bytes, {}, "memory");
  expect_pipeline(dduf);
  brine::StateDict dict =
      brine::load_safetensors(dduf.at("vae/diffusion_pytorch_model.safetensors"));
  EXPECT_EQ(dict.find("weight")->values<float>()[1], 2.5f);
}

TEST(Dduf, ForcedZip64ReadsBackAndWithPython) {
  brine_test::TempDir dir;
  brine::DdufWriteOptions options;
  options.force_zip64 = true;
  export_pipeline(dir / "p.dduf", options);
  brine::DdufReadOptions verify;
  verify.verify_crc = true;
  brine::DdufFile dduf = brine::open_dduf(dir / "p.dduf", verify);
  EXPECT_TRUE(dduf.is_zip64());
  expect_pipeline(dduf);
  for (const brine::DdufEntry& e : dduf.entries()) EXPECT_EQ(e.offset() % 64, 0u);
  std::string command = python() + " " + BRINE_DDUF_CHECK_SCRIPT + " read " +
                        (dir / "p.dduf").string() + " " + (dir / "out").string() + " > " +
                        (dir / "names.txt").string();
  ASSERT_EQ(run(command), 0) << command;
  for (const auto& [name, bytes] : pipeline()) EXPECT_EQ(slurp(dir / "out" / name), bytes) << name;
}

TEST(Dduf, PythonZipfileReadsWhatBrineWrites) {
  brine_test::TempDir dir;
  export_pipeline(dir / "p.dduf");
  std::string command = python() + " " + BRINE_DDUF_CHECK_SCRIPT + " read " +
                        (dir / "p.dduf").string() + " " + (dir / "out").string() + " > " +
                        (dir / "names.txt").string();
  ASSERT_EQ(run(command), 0) << command;
  std::istringstream names(slurp(dir / "names.txt"));
  std::string line;
  std::vector<std::string> listed;
  while (std::getline(names, line)) listed.push_back(line);
  std::vector<std::string> expected;
  for (const auto& [name, bytes] : pipeline()) {
    expected.push_back(name);
    EXPECT_EQ(slurp(dir / "out" / name), bytes) << name;
  }
  EXPECT_EQ(listed, expected);
}

TEST(Dduf, BrineReadsWhatPythonZipfileWrites) {
  for (const char* mode : {"", "zip64"}) {
    brine_test::TempDir dir;
    write_folder(dir / "src");
    std::string command = python() + " " + BRINE_DDUF_CHECK_SCRIPT + " write " +
                          (dir / "py.dduf").string() + " " + (dir / "src").string() + " " + mode;
    ASSERT_EQ(run(command), 0) << command;
    brine::DdufReadOptions verify;
    verify.verify_crc = true;
    brine::DdufFile dduf = brine::open_dduf(dir / "py.dduf", verify);
    expect_pipeline(dduf);
    // force_zip64 gives each local header a ZIP64 extra field (sizes 0xFFFFFFFF), not the
    // ZIP64 end records: the reader takes the sizes from that field.
    EXPECT_FALSE(dduf.is_zip64());
    // Python does not align: at least one entry starts off a 64-byte boundary, and loads.
    bool unaligned = false;
    for (const brine::DdufEntry& e : dduf.entries()) unaligned = unaligned || e.offset() % 64 != 0;
    EXPECT_TRUE(unaligned);
    brine::StateDict dict =
        brine::load_safetensors(dduf.at("vae/diffusion_pytorch_model.safetensors"));
    EXPECT_TRUE(dict.find("weight")->is_mapped());
    float second;
    std::memcpy(&second, dict.find("weight")->bytes() + 4, 4);
    EXPECT_EQ(second, 2.5f);
  }
}

TEST(Dduf, FolderExportAndExtractRoundTrip) {
  brine_test::TempDir dir;
  write_folder(dir / "src");
  brine::export_dduf_folder(dir / "src", dir / "p.dduf");
  brine::DdufFile dduf = brine::open_dduf(dir / "p.dduf");
  expect_pipeline(dduf);
  EXPECT_EQ(dduf.entries().front().name(), "model_index.json");
  brine::extract_dduf(dir / "p.dduf", dir / "out");
  for (const auto& [name, bytes] : pipeline()) EXPECT_EQ(slurp(dir / "out" / name), bytes) << name;
  // The destination must be new; nothing is left beside it.
  EXPECT_THROW(brine::extract_dduf(dir / "p.dduf", dir / "out"), brine::IoError);
  std::size_t siblings = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    (void)e;
    ++siblings;
  }
  EXPECT_EQ(siblings, 3u);  // src, p.dduf, out
  // Packed again, the same entries hold the same bytes, at the same offsets.
  brine::export_dduf_folder(dir / "out", dir / "q.dduf");
  EXPECT_EQ(slurp(dir / "p.dduf"), slurp(dir / "q.dduf"));
}

TEST(Dduf, RefusedExportLeavesNothingAndKeepsTheOldFile) {
  brine_test::TempDir dir;
  write_folder(dir / "src");
  spit(dir / "out.dduf", "previous");
  spit(dir / "src" / "vae" / "weights.bin", "x");
  EXPECT_THROW_WITH(brine::export_dduf_folder(dir / "src", dir / "out.dduf"),
                    brine::DdufExportError, "vae/weights.bin");
  fs::remove(dir / "src" / "vae" / "weights.bin");
  spit(dir / "src" / "a" / "b" / "c.json", "{}");
  try {
    brine::export_dduf_folder(dir / "src", dir / "out.dduf");
    ADD_FAILURE() << "did not throw";
  } catch (const brine::DdufExportError& e) {
    EXPECT_EQ(e.rule(), DdufRule::too_deep);
    EXPECT_EQ(e.entry(), "a/b/c.json");
  }
  EXPECT_EQ(slurp(dir / "out.dduf"), "previous");

  // A generator's structure is checked at the end, before the commit.
  std::vector<std::pair<std::string, std::string>> entries = {{"vae/config.json", "{}"}};
  std::size_t i = 0;
  auto next = [&]() -> std::optional<DdufBytesEntry> {
    if (i == entries.size()) return std::nullopt;
    auto& e = entries[i++];
    return DdufBytesEntry{e.first, e.second};
  };
  try {
    brine::export_dduf(dir / "out.dduf", next);
    ADD_FAILURE() << "did not throw";
  } catch (const brine::DdufExportError& e) {
    EXPECT_EQ(e.rule(), DdufRule::missing_model_index);
  }
  entries = {{"model_index.json", "{}"}, {"vae/config.json", "{}"}};
  i = 0;
  try {
    brine::export_dduf(dir / "out.dduf", next);
    ADD_FAILURE() << "did not throw";
  } catch (const brine::DdufExportError& e) {
    EXPECT_EQ(e.rule(), DdufRule::folder_not_in_index);
    EXPECT_NE(std::string(e.what()).find("'vae'"), std::string::npos) << e.what();
  }
  entries = {{"model_index.json", "{}"}, {"model_index.json", "{}"}};
  i = 0;
  EXPECT_THROW_WITH(brine::export_dduf(dir / "out.dduf", next), brine::DdufExportError,
                    "duplicate_name");
  EXPECT_EQ(slurp(dir / "out.dduf"), "previous");
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) files += e.is_regular_file() ? 1 : 0;
  EXPECT_EQ(files, 1u) << "a temporary file was left behind";
}

TEST(Dduf, AWriterGoesOnAfterARefusedEntryAndRefusesUseAfterFinish) {
  brine_test::TempDir dir;
  brine::DdufWriter writer(dir / "w.dduf");
  EXPECT_THROW_WITH(writer.add("weights.bin", "x"), brine::DdufExportError, "'weights.bin'");
  EXPECT_THROW_WITH(writer.add_file("vae/config.json", dir.path()), brine::DdufExportError,
                    "not a regular file");
  writer.add("model_index.json", R"({"vae": []})");
  writer.add("vae/config.json", "{}");
  EXPECT_THROW_WITH(writer.add("vae/config.json", "{}"), brine::DdufExportError, "added twice");
  EXPECT_FALSE(fs::exists(dir / "w.dduf"));
  writer.finish();
  EXPECT_THROW(writer.add("notes.txt", "late"), brine::InternalError);
  brine::DdufFile dduf = brine::open_dduf(dir / "w.dduf");
  ASSERT_EQ(dduf.entries().size(), 2u);
  EXPECT_EQ(dduf.at("vae/config.json").text(), "{}");
}

TEST(Dduf, EntryNamesAreChecked) {
  EXPECT_NO_THROW(brine::validate_dduf_entry_name("model_index.json"));
  EXPECT_NO_THROW(brine::validate_dduf_entry_name("vae/x.safetensors"));
  EXPECT_NO_THROW(brine::validate_dduf_entry_name("vae/"));
  const std::pair<const char*, DdufRule> bad[] = {
      {"", DdufRule::invalid_name},
      {"vae//config.json", DdufRule::invalid_name},
      {"./config.json", DdufRule::invalid_name},
      {"vae\\config.json", DdufRule::backslash_in_name},
      {"/config.json", DdufRule::absolute_name},
      {"../config.json", DdufRule::parent_reference},
      {"a/../config.json", DdufRule::parent_reference},
      {"a/b/config.json", DdufRule::too_deep},
      {"a/b/", DdufRule::too_deep},
      {"weights.bin", DdufRule::extension_not_allowed},
      {"vae/config", DdufRule::extension_not_allowed},
      {"config.JSON", DdufRule::extension_not_allowed},
  };
  for (const auto& [name, rule] : bad) {
    try {
      brine::validate_dduf_entry_name(name);
      ADD_FAILURE() << "accepted '" << name << "'";
    } catch (const brine::DdufEntryNameError& e) {
      EXPECT_EQ(e.rule(), rule) << name << ": " << e.what();
      EXPECT_EQ(e.entry(), name);
      EXPECT_EQ(e.code(), brine::errc::corrupt_data);
    }
  }
}

// ---- memory --------------------------------------------------------------------------------

TEST(DduffMemory, AGeneratorExportHoldsOneEntryAtATime) {
  brine_test::TempDir dir;
  constexpr std::size_t kEntry = std::size_t{32} << 20;
  constexpr int kEntries = 8;
  int produced = 0;
  auto next = [&]() -> std::optional<DdufBytesEntry> {
    if (produced == kEntries + 2) return std::nullopt;
    const int i = produced++;
    if (i == 0) return DdufBytesEntry{"model_index.json", R"({"unet": ["diffusers", "U"]})"};
    if (i == 1) return DdufBytesEntry{"unet/config.json", "{}"};
    DdufBytesEntry e{"unet/part" + std::to_string(i) + ".safetensors", std::string(kEntry, '\0')};
    for (std::size_t k = 0; k < kEntry; k += 4096) e.bytes[k] = static_cast<char>(i + k);
    return e;
  };
  ASSERT_TRUE(brine_test::reset_peak_rss())
      << "/proc/self/clear_refs is needed to measure the peak";
  const std::uint64_t before = brine_test::status_kib("VmHWM");
  brine::export_dduf(dir / "big.dduf", next);
  const std::uint64_t peak = brine_test::status_kib("VmHWM");
  const std::uint64_t entry_kib = kEntry >> 10;
  std::cout << "peak RSS growth " << (peak - before) / 1024 << " MiB for " << kEntries
            << " entries of 32 MiB\n";
  EXPECT_LT(peak - before, entry_kib * 3 / 2)
      << "peak RSS grew by " << peak - before << " KiB: more than one entry was held";
  EXPECT_EQ(fs::file_size(dir / "big.dduf") / kEntry, std::uint64_t{kEntries});
  brine::DdufFile dduf = brine::open_dduf(dir / "big.dduf");
  EXPECT_EQ(dduf.entries().size(), std::size_t{kEntries + 2});
  EXPECT_EQ(dduf.at("unet/part5.safetensors").view()[4096], static_cast<char>(5 + 4096));
}

}  // namespace
