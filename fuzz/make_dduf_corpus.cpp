// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// make_dduf_corpus.cpp: writes the DDUF fuzzer's seed corpus into the directory named on the
// command line: files brine writes (aligned, ZIP64, a safetensors entry, a directory-less
// one-entry file) and the files of tests/data/dduf, each breaking one rule.
//   fuzz_dduf_corpus DIRECTORY

#include <brine/dduf.hpp>
#include <brine/safetensors.hpp>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;

void export_entries(const fs::path& out, std::vector<brine::DdufBytesEntry> entries,
                    const brine::DdufWriteOptions& options) {
  std::size_t i = 0;
  brine::export_dduf(
      out,
      [&]() -> std::optional<brine::DdufBytesEntry> {
        if (i == entries.size()) return std::nullopt;
        return entries[i++];
      },
      options);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIRECTORY\n", argv[0]);
    return 2;
  }
  const fs::path dir = argv[1];
  fs::create_directories(dir);

  brine::StateDict dict;
  const float values[] = {1.0f, 2.0f, 3.0f};
  dict.insert("w", brine::Tensor::from_values(values, 3));
  brine::Buffer weights;
  brine::BufferSink sink(weights);
  brine::write_safetensors(sink, dict);

  std::vector<brine::DdufBytesEntry> pipeline = {
      {"model_index.json", R"({"vae": ["diffusers", "AutoencoderKL"], "tok": ["t", "T"]})"},
      {"vae/config.json", R"({"c": 4})"},
      {"vae/model.safetensors", std::string(weights.view())},
      {"tok/tokenizer_config.json", "{}"},
      {"tok/vocab.txt", "a\nb\n"},
      {"tok/spm.model", std::string("\0\1\2", 3)},
  };
  // Small alignments keep the seeds short (the fuzzer's inputs are at most 8 KiB).
  brine::DdufWriteOptions options;
  options.alignment = 8;
  export_entries(dir / "pipeline.dduf", pipeline, options);
  options.force_zip64 = true;
  export_entries(dir / "pipeline_zip64.dduf", pipeline, options);
  options = {};
  export_entries(dir / "index_only.dduf", {{"model_index.json", "{}"}}, options);

  const fs::path data = fs::path(BRINE_SOURCE_DIR) / "tests" / "data" / "dduf";
  for (const auto& entry : fs::directory_iterator(data))
    if (entry.path().extension() == ".dduf" && fs::file_size(entry.path()) <= 8192)
      fs::copy_file(entry.path(), dir / entry.path().filename(),
                    fs::copy_options::overwrite_existing);
  return 0;
}
