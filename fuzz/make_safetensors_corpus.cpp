// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// make_safetensors_corpus.cpp: writes the safetensors fuzzer's seed corpus into the directory
// named on the command line: files brine writes (every dtype, metadata, tied tensors,
// zero-size tensors, an empty dict) and the file the reference implementation wrote
// (tests/data/safetensors/).
//   fuzz_safetensors_corpus DIRECTORY

#include <brine/brine.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace {

void write_file(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

void write_dict(const std::filesystem::path& path, const brine::StateDict& dict) {
  brine::Buffer out;
  brine::BufferSink sink(out);
  brine::write_safetensors(sink, dict);
  write_file(path, out.view());
}

brine::Tensor small(brine::DType dtype, std::vector<std::int64_t> shape) {
  brine::Tensor t(dtype, std::move(shape));
  for (std::size_t i = 0; i < t.nbytes(); ++i)
    t.mutable_bytes()[i] = static_cast<std::byte>(dtype == brine::DType::boolean ? i % 2 : i);
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIRECTORY\n", argv[0]);
    return 2;
  }
  std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);

  brine::StateDict every;
  for (std::uint8_t i = 0; i < brine::kDTypeCount; ++i) {
    auto d = static_cast<brine::DType>(i);
    every.insert(brine::dtype_name(d), small(d, {2}));
  }
  write_dict(dir / "every_dtype.safetensors", every);

  brine::StateDict meta;
  meta.insert("w", small(brine::DType::float32, {2, 3}));
  meta.insert("scalar", small(brine::DType::float64, {}));
  meta.metadata = {{"format", "pt"}, {"epoch", "3"}};
  write_dict(dir / "metadata.safetensors", meta);

  brine::StateDict tied;
  brine::Tensor shared = small(brine::DType::bfloat16, {4});
  tied.insert("embed", shared);
  tied.insert("head", shared);
  tied.insert("empty", small(brine::DType::int8, {0, 3}));
  write_dict(dir / "tied_and_empty.safetensors", tied);

  write_dict(dir / "empty.safetensors", brine::StateDict());

  std::filesystem::path reference =
      std::filesystem::path(BRINE_SOURCE_DIR) / "tests/data/safetensors/overall.safetensors";
  write_file(dir / "reference.safetensors", brine::read_file(reference));
  return 0;
}
