// brine — versioned object persistence for C++17.
// bench/adapters/memcpy.hpp: the in-memory limit row (WORKLOADS.md "Limit rows"): the
// workload's canonical bytes copied into a pre-faulted buffer and back into another.
#pragma once

#include <cstring>
#include <string>
#include <string_view>

#include "../support/streams.hpp"

namespace brine_bench {

/// Same shape as the library adapters (adapters/README.md), but its object is the workload's
/// canonical encoding, not the data structure: the harness hands it the payload bytes.
struct MemcpyAdapter {
  static constexpr const char* name = "memcpy";

  /// One memcpy into `out`, whose pages the harness's untimed first save has faulted in.
  static void save(std::string_view payload, OutBuf& out) {
    out.sputn(payload.data(), static_cast<std::streamsize>(payload.size()));
  }

  /// One memcpy into `bytes`. The harness keeps `bytes` from one load to the next, so after
  /// the first (untimed) load the resize is a no-op and the copy lands in faulted-in pages.
  static void load(std::string_view archive, std::string& bytes) {
    bytes.resize(archive.size());
    std::memcpy(bytes.data(), archive.data(), archive.size());
  }
};

}  // namespace brine_bench
