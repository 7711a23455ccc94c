// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// fuzz_dduf.cpp: libFuzzer target for the DDUF reader. Each input is a whole DDUF file: read
// and validated in place (read_dduf, CRCs checked), every entry's bytes read (a view outside
// the input is an AddressSanitizer report), every safetensors entry loaded; then, when it was
// valid, written again by DdufWriter and read back, which must give the same entries aligned.
// brine::Error is the expected verdict on bad input; anything else is a bug.

#include <unistd.h>

#include <brine/dduf.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

// A named namespace, as the other targets, so that a replay test can include it.
namespace fuzz::dduf {

inline void check(bool condition) {
  if (!condition) std::abort();  // libFuzzer reports the abort with the input
}

inline void one_input(std::string_view bytes) {
  brine::DdufReadOptions options;
  options.verify_crc = true;
  brine::DdufFile dduf;
  try {
    dduf = brine::read_dduf(nullptr, bytes, options, "input");
  } catch (const brine::Error&) {
    return;  // the verdict on bad input
  }
  unsigned sum = 0;
  for (const brine::DdufEntry& e : dduf.entries()) {
    check(e.offset() + e.size() <= bytes.size());
    for (std::byte b : e.bytes()) sum += static_cast<unsigned>(b);
    const std::string& name = e.name();
    if (name.size() > 12 && name.compare(name.size() - 12, 12, ".safetensors") == 0) {
      try {
        (void)brine::load_safetensors(e);
      } catch (const brine::Error&) {
      }
    }
  }
  (void)sum;

  // A valid file writes back to one with the same entries, each aligned.
  static const std::filesystem::path out =
      std::filesystem::temp_directory_path() / ("fuzz_dduf." + std::to_string(::getpid()));
  brine::DdufWriter writer(out);
  for (const brine::DdufEntry& e : dduf.entries())
    if (!e.is_directory()) writer.add(e.name(), e.view());
  writer.finish();
  brine::DdufFile again = brine::open_dduf(out, options);
  std::size_t files = 0;
  for (const brine::DdufEntry& e : dduf.entries()) {
    if (e.is_directory()) continue;
    ++files;
    const brine::DdufEntry* other = again.find(e.name());
    check(other != nullptr && other->view() == e.view() && other->offset() % 64 == 0);
  }
  check(again.entries().size() == files);
}

}  // namespace fuzz::dduf

#ifndef BRINE_FUZZ_REPLAY
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::dduf::one_input(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
#endif
