// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// detail/varint.hpp: the one LEB128 varint decoder (docs/format/binary-v1.md §2), shared by the
// binary reader's inline reads and the layout descriptors' readers.
#pragma once

#include <cstddef>
#include <cstdint>

namespace brine::detail {

/// A varint takes at most this many bytes: 64 bits, 7 per byte.
constexpr std::size_t kMaxVarintBytes = 10;

/// How decode_varint ended. The decoder does not throw: each caller raises the error with
/// the context only it knows (where in the archive, which type).
enum class VarintStatus : std::uint8_t {
  ok,         ///< decoded; the cursor is past the varint
  truncated,  ///< the bytes end inside the varint; the cursor is unmoved
  overlong,   ///< more than 64 bits; the cursor is unmoved
};

/// Decodes the varint at `p`, reading no further than `end`. Apart from decode_varint so that
/// callers can inline the one-byte case, most counts and lengths, and call this for the rest.
inline VarintStatus decode_varint_long(const std::uint8_t*& p, const std::uint8_t* end,
                                       std::uint64_t& out) noexcept {
  std::uint64_t x = 0;
  const std::uint8_t* q = p;
  for (int shift = 0; shift < 64; shift += 7) {
    if (q == end) return VarintStatus::truncated;
    const std::uint8_t b = *q++;
    x |= static_cast<std::uint64_t>(b & 0x7F) << shift;
    if (b < 0x80) {
      // The tenth byte holds bit 63 only.
      if (shift == 63 && b > 1) return VarintStatus::overlong;
      out = x;
      p = q;
      return VarintStatus::ok;
    }
  }
  return VarintStatus::overlong;
}

/// Decodes the varint at `p` into `out` and moves `p` past it; on failure `p` stays at the
/// varint's first byte, so that the caller can name its offset.
inline VarintStatus decode_varint(const std::uint8_t*& p, const std::uint8_t* end,
                                  std::uint64_t& out) noexcept {
  if (p != end && *p < 0x80) {
    out = *p++;
    return VarintStatus::ok;
  }
  return decode_varint_long(p, end, out);
}

}  // namespace brine::detail
