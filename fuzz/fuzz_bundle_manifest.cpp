// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// fuzz_bundle_manifest.cpp: libFuzzer target for the two JSON documents a folder carries: a
// bundle's manifest, brine-bundle.json (read_bundle_manifest, src/bundle/bundle.cpp), and a
// model folder's definition, brine.json (load_pretrained_state, src/bundle/hub.cpp: the
// envelope, the state and its '$tensor_ref's against fixed weights). Both parsers read files,
// so each input is written into a folder of its own and read through the public API: the
// fuzzer and its replay in tests/hostile/fuzz_regression_test.cpp then need no internal
// symbol, in a shared build too. brine::Error is the expected verdict on bad input; any
// other exception, a crash, a leak or undefined behaviour is a bug.

#include <unistd.h>

#include <brine/bundle.hpp>
#include <brine/hub.hpp>
#include <brine/tensor.hpp>
#include <brine/value.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>

namespace fuzz::bundle_manifest {

namespace fs = std::filesystem;

// A folder per process (parallel fuzzing jobs share /tmp), made once, with a bundle folder
// and a model folder whose weights are fixed: "w" (f32 [2, 3]) and "b" (i64 [3]).
struct Folders {
  fs::path root, bundle, model;
  Folders() {
    root = fs::temp_directory_path() / ("brine-fuzz-manifest-" + std::to_string(::getpid()));
    bundle = root / "bundle";
    model = root / "model";
    std::error_code ec;
    fs::remove_all(root, ec);
    fs::create_directories(bundle);
    brine::Value::Map state;
    state["w"] = brine::Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
    state["b"] = brine::Tensor::from_vector(std::vector<std::int64_t>{7, 8, 9}, {3});
    brine::push_state_to_folder(model, brine::Value(std::move(state)));
  }
  ~Folders() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
};

inline const Folders& folders() {
  static const Folders f;
  return f;
}

inline void write(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.flush()) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    std::abort();
  }
}

inline void one_input(std::string_view bytes) {
  const Folders& f = folders();
  write(f.bundle / "brine-bundle.json", bytes);
  try {
    const brine::BundleManifest m = brine::read_bundle_manifest(f.bundle);
    // Every data file a manifest lists stays inside the bundle (checked while reading).
    for (const brine::BundleFileInfo& file : m.files) {
      const fs::path p = fs::path(file.path).lexically_normal();
      if (p.is_absolute() || (!p.empty() && *p.begin() == "..")) {
        std::fprintf(stderr, "the manifest lists '%s', outside the bundle\n", file.path.c_str());
        std::abort();
      }
    }
  } catch (const brine::Error&) {
  }
  write(f.model / "brine.json", bytes);
  try {
    (void)brine::load_pretrained_state(f.model);
  } catch (const brine::Error&) {
  }
}

}  // namespace fuzz::bundle_manifest

#ifndef BRINE_FUZZ_REPLAY
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::bundle_manifest::one_input(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
#endif
