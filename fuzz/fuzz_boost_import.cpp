// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// fuzz_boost_import.cpp: libFuzzer target for brine::interop::import_boost (brine/interop/
// boost.hpp) on the legacy classes of tests/golden/legacy. The first byte picks the format
// (text, XML, binary) and the object (a single Sensor, or a Network graph of shared and
// polymorphic pointers); the rest is the archive. brine::Error is the expected verdict on bad
// input; any other exception, a crash, undefined behaviour or an allocation over
// -rss_limit_mb is a bug. Boost's compiled library is not instrumented: memory errors inside
// it show only when they crash (docs/from-boost.md, "What remains unsafe").

#include <brine/interop/boost.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>

#include "boost_legacy_types.hpp"

BOOST_CLASS_EXPORT_IMPLEMENT(legacy::Sensor)
BOOST_CLASS_EXPORT_IMPLEMENT(legacy::Relay)

namespace fuzz::boost_import {

inline void one_input(std::string_view input) {
  if (input.empty()) return;
  const auto selector = static_cast<unsigned char>(input[0]);
  const std::string_view archive = input.substr(1);
  const brine::interop::BoostFormat formats[] = {brine::interop::BoostFormat::text,
                                                 brine::interop::BoostFormat::xml,
                                                 brine::interop::BoostFormat::binary};
  const brine::interop::BoostFormat format = formats[selector % 3];
  try {
    if ((selector / 3) % 2 == 0) {
      brine::interop::import_boost<legacy::Sensor>(archive, format);
    } else {
      brine::interop::import_boost<legacy::Network>(archive, format);
    }
  } catch (const brine::Error&) {
    return;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "not a brine error: %s\n", e.what());
    std::abort();
  }
}

}  // namespace fuzz::boost_import

#ifndef BRINE_FUZZ_REPLAY
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::boost_import::one_input(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
#endif
