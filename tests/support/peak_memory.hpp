// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// peak_memory.hpp: the resident-set figures the memory tests assert on (Linux /proc).
#pragma once

#include <cstdint>
#include <fstream>
#include <string>

namespace brine_test {

/// A field of /proc/self/status, in KiB ("VmHWM", "RssAnon"); 0 when absent.
inline std::uint64_t status_kib(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string prefix = std::string(field) + ":";
  while (std::getline(in, line))
    if (line.compare(0, prefix.size(), prefix) == 0) return std::stoull(line.substr(prefix.size()));
  return 0;
}

/// Resets the peak resident set (VmHWM) to the current one (Linux: clear_refs 5), so that a
/// test measures the peak of what it does next. False where the kernel does not allow it.
inline bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

}  // namespace brine_test
