// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// fuzz_safetensors.cpp: libFuzzer target for the safetensors reader. Each input is a whole
// safetensors file: parsed and validated (parse_safetensors), loaded as views of the input
// (every tensor byte is read, so a view outside the input is an AddressSanitizer report),
// then, when it loaded, written back and loaded again, which must give the same tensors and
// metadata. brine::Error is the expected verdict on bad input; any other exception, a crash,
// a leak, undefined behaviour or an allocation over -rss_limit_mb is a bug.

#include <brine/safetensors.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

// A named namespace: tests/hostile/fuzz_regression_test.cpp includes every target into one
// program, without their entry points (BRINE_FUZZ_REPLAY).
namespace fuzz::safetensors {

inline void check(bool condition) {
  if (!condition) std::abort();  // libFuzzer reports the abort with the input
}

inline void one_input(std::string_view bytes) {
  brine::StateDict dict;
  try {
    brine::SafetensorsHeader header = brine::parse_safetensors(bytes);
    dict = brine::load_safetensors(nullptr, bytes);
    std::size_t named = header.tensors.size();
    check(dict.size() >= named);  // aliases restored from the metadata come on top
  } catch (const brine::Error&) {
    return;  // the verdict on bad input
  }
  unsigned sum = 0;
  for (const auto& [name, tensor] : dict)
    for (std::size_t i = 0; i < tensor.nbytes(); ++i)
      sum += static_cast<unsigned>(tensor.bytes()[i]);
  (void)sum;

  // What loaded writes back to a file that loads as the same thing.
  brine::Buffer out;
  try {
    brine::BufferSink sink(out);
    brine::write_safetensors(sink, dict);
  } catch (const brine::Error&) {
    return;  // a dict a file cannot record (an alias colliding with a metadata key)
  }
  brine::StateDict again = brine::load_safetensors(nullptr, out.view());
  check(again.size() == dict.size());
  check(again.metadata == dict.metadata);
  for (const auto& [name, tensor] : dict) {
    const brine::Tensor* other = again.find(name);
    check(other != nullptr && *other == tensor);
  }
}

}  // namespace fuzz::safetensors

#ifndef BRINE_FUZZ_REPLAY
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::safetensors::one_input(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
#endif
