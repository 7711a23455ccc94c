// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// fuzz_npy.cpp: libFuzzer target for the .npy reader (src/tensor/npy.cpp). Each input is a
// .npy in memory: its header is parsed, then it is loaded; what loads must write back and
// load again as the same tensor. brine::Error is the expected verdict on bad input; any other
// exception, a crash, a leak, undefined behaviour or an allocation over -rss_limit_mb is a
// bug.

#include <brine/numpy.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

// A named namespace: tests/hostile/fuzz_regression_test.cpp includes every target into one
// program, without their entry points (BRINE_FUZZ_REPLAY).
namespace fuzz::npy {

inline void one_input(std::string_view bytes) {
  brine::NpyHeader header;
  try {
    header = brine::parse_npy_header(bytes, bytes.size());
  } catch (const brine::Error&) {
    return;
  }
  brine::Tensor tensor;
  try {
    tensor = brine::load_npy_from_memory(bytes);
  } catch (const brine::Error& e) {
    // The header was valid and the data its size: loading cannot fail after that.
    std::fprintf(stderr, "the header parsed but the load failed: %s\n", e.what());
    std::abort();
  }
  if (tensor.dtype() != header.dtype || tensor.shape() != header.shape ||
      tensor.nbytes() != header.data_nbytes) {
    std::fprintf(stderr, "the tensor loaded is not what the header says\n");
    std::abort();
  }
  // Every dtype a .npy holds can be written; brine's own bytes load back the same.
  brine::Tensor again = brine::load_npy_from_memory(brine::npy_bytes(tensor));
  if (again != tensor) {
    std::fprintf(stderr, "a loaded .npy does not round-trip\n");
    std::abort();
  }
}

}  // namespace fuzz::npy

#ifndef BRINE_FUZZ_REPLAY
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::npy::one_input(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
#endif
