// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// limits.hpp: LoadOptions, the limits every loader enforces on hostile input.
#pragma once

#include <cstddef>
#include <cstdint>

namespace brine {

/// Options and limits for every load. The defaults accept any archive brine itself writes
/// for ordinary programs; raise a limit when a legitimate archive trips it (the error
/// message names the option).
struct LoadOptions {
  /// Maximum nesting of objects, containers and pointers. Loading recurses once per level,
  /// so without a bound a few kilobytes of nested list headers would overflow the stack.
  /// 1000 levels keep well inside an 8 MiB stack even under AddressSanitizer; raise it for
  /// deep linked structures (a 10,000-node linked list saved through shared_ptr needs 10,000)
  /// and give the loading thread a larger stack to match.
  std::size_t max_depth = 1000;

  /// Maximum element count of one container, string or byte string. Counts are also checked
  /// against the bytes that remain in the input before anything is allocated; this limit
  /// additionally bounds streams whose length is unknown (sockets, pipes). 2^32 - 1 elements.
  std::uint64_t max_elements = 0xFFFFFFFFull;

  /// Maximum number of distinct shared objects (shared_ptr targets) in one loaded object.
  /// The reader keeps a table of them for back references; this bounds that table.
  std::uint64_t max_shared_objects = std::uint64_t{1} << 28;

  /// Verify block checksums before decoding (binary archives). Turn off only for data you
  /// produced yourself in this process; a flipped bit is then decoded instead of reported.
  bool verify_checksums = true;
};

}  // namespace brine
