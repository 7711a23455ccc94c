// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// make_numpy_corpus.cpp: writes the seed corpus of fuzz_npy or fuzz_npz (chosen by
// BRINE_NUMPY_SEEDS, ".npy" or ".npz") into the directory named on the command line: the
// files numpy wrote in tests/data/numpy/golden/ that are small enough for the fuzzer's
// -max_len, and files brine writes (every dtype; stored and deflate .npz).
//   fuzz_npy_corpus DIRECTORY

#include <brine/npz_object.hpp>
#include <brine/numpy.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace {

void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIRECTORY\n", argv[0]);
    return 2;
  }
  namespace fs = std::filesystem;
  fs::path dir = argv[1];
  fs::create_directories(dir);
  const std::string extension = BRINE_NUMPY_SEEDS;
  int written = 0;
  for (const auto& entry :
       fs::directory_iterator(fs::path(BRINE_SOURCE_DIR) / "tests" / "data" / "numpy" / "golden")) {
    if (entry.path().extension() != extension || fs::file_size(entry.path()) > 8192) continue;
    fs::copy_file(entry.path(), dir / ("numpy_" + entry.path().filename().string()),
                  fs::copy_options::overwrite_existing);
    ++written;
  }
  brine::StateDict dict;
  for (std::size_t d = 0; d < brine::kDTypeCount; ++d) {
    auto dtype = static_cast<brine::DType>(d);
    if (dtype == brine::DType::bfloat16 || dtype == brine::DType::float8_e4m3fn ||
        dtype == brine::DType::float8_e5m2)
      continue;
    brine::Tensor t(dtype, d % 3 == 0 ? std::vector<std::int64_t>{2, 3}
                                      : std::vector<std::int64_t>{static_cast<std::int64_t>(d)});
    dict.insert(std::string("t/") + brine::dtype_name(dtype), t);
    if (extension == ".npy") {
      write_file(dir / (std::string("brine_") + brine::dtype_name(dtype) + ".npy"),
                 brine::npy_bytes(t));
      ++written;
    }
  }
  if (extension == ".npz") {
    write_file(dir / "brine_stored.npz", brine::npz_bytes(dict, false));
    write_file(dir / "brine_deflate.npz", brine::npz_bytes(dict, true));
    // An object .npz: nested fields, a tensor referenced twice, a function and a path.
    brine::Object object;
    object.type = "fuzz.Model";
    object.version = 2;
    object.set("a", brine::Value(dict.begin()->second));
    object.set("b", brine::Value(brine::Value::List{brine::Value(dict.begin()->second),
                                                    brine::Value(std::int64_t{-3})}));
    object.set("f", brine::Value(brine::FunctionRef{"fuzz.relu"}));
    object.set("p", brine::Value(brine::PathValue{"data/vocab.txt"}));
    write_file(dir / "brine_object.npz", brine::npz_object_bytes(brine::Value(object)));
    written += 3;
  } else {
    brine::Tensor t(brine::DType::float32, {2});
    write_file(dir / "brine_v2.npy", brine::npy_bytes(t, brine::NpyVersion::v2_0));
    write_file(dir / "brine_v3.npy", brine::npy_bytes(t, brine::NpyVersion::v3_0));
    written += 2;
  }
  std::printf("%d seeds in %s\n", written, dir.string().c_str());
  return 0;
}
