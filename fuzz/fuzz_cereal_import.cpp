// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// fuzz_cereal_import.cpp: libFuzzer target for brine::interop::import_cereal (issue #12). The
// first byte picks cereal's archive format (binary, portable binary, JSON, XML) and the class
// (the legacy Sensor or the Station graph of tests/interop/cereal_legacy_types.hpp); the rest
// is the archive. brine::Error is the expected verdict on bad input; what imports must
// re-save as a stable brine archive and load back. Any other exception, a crash, a leak,
// undefined behaviour or an allocation over -rss_limit_mb is a bug.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cereal_legacy_types.hpp"

namespace fuzz::cereal_import {

template <class T>
void import_and_resave(std::string_view archive, brine::interop::CerealFormat format) {
  T value;
  try {
    value = brine::interop::import_cereal<T>(archive, format);
  } catch (const brine::Error&) {
    return;
  }
  try {
    const brine::Buffer stable = brine::to_stable(value);
    (void)brine::from_stable<T>(stable.view());
  } catch (const brine::Error& e) {
    std::fprintf(stderr, "an imported object does not round-trip as a stable archive: %s\n",
                 e.what());
    std::abort();
  }
}

inline void one_input(std::string_view bytes) {
  if (bytes.empty()) return;
  const auto selector = static_cast<unsigned char>(bytes[0]);
  const auto format = static_cast<brine::interop::CerealFormat>(selector % 4);
  const std::string_view archive = bytes.substr(1);
  if ((selector / 4) % 2 == 0) {
    import_and_resave<legacy_app::Sensor>(archive, format);
  } else {
    import_and_resave<legacy_app::Station>(archive, format);
  }
}

}  // namespace fuzz::cereal_import

#ifndef BRINE_FUZZ_REPLAY
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::cereal_import::one_input(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
#endif
