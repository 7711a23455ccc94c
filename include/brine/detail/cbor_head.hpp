// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// detail/cbor_head.hpp: the CBOR head encoding and the stringref rule, inline here because the
// stable writer's hot path (StableWriter in stable.hpp) writes heads in place. No stability
// promise. See docs/format/stable-v1.md.
#pragma once

#include <cstddef>
#include <cstdint>

namespace brine::detail {

/// Writes a CBOR head with the shortest argument (RFC 8949 §4.2.1) at `buf` (9 bytes at
/// most) and returns its size.
inline std::size_t encode_cbor_head(std::uint8_t* buf, unsigned major, std::uint64_t argument) {
  const auto m = static_cast<std::uint8_t>(major << 5);
  if (argument < 24) {
    buf[0] = static_cast<std::uint8_t>(m | argument);
    return 1;
  }
  // One branch per width, each a fixed-size store, rather than a loop over a width computed
  // first: a save writes a head for nearly every value.
  if (argument <= 0xFF) {
    buf[0] = m | 24;
    buf[1] = static_cast<std::uint8_t>(argument);
    return 2;
  }
  if (argument <= 0xFFFF) {
    buf[0] = m | 25;
    buf[1] = static_cast<std::uint8_t>(argument >> 8);
    buf[2] = static_cast<std::uint8_t>(argument);
    return 3;
  }
  if (argument <= 0xFFFFFFFFull) {
    buf[0] = m | 26;
    for (int i = 0; i < 4; ++i) buf[1 + i] = static_cast<std::uint8_t>(argument >> (24 - 8 * i));
    return 5;
  }
  buf[0] = m | 27;
  for (int i = 0; i < 8; ++i) buf[1 + i] = static_cast<std::uint8_t>(argument >> (56 - 8 * i));
  return 9;
}

/// The stringref rule (cbor.schmorp.de/stringref): a literal string enters the namespace's
/// table only when it is at least as long as a reference to the next index would be.
inline std::size_t stringref_min_length(std::uint64_t table_size) {
  if (table_size < 24) return 3;
  if (table_size < 256) return 4;
  if (table_size < 65536) return 5;
  if (table_size < 4294967296ull) return 7;
  return 11;
}

}  // namespace brine::detail
