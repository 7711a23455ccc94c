// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// util/varint.hpp: LEB128 varints over strings (private; the hot paths have their own).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "brine/error.hpp"

namespace brine::util {

inline void append_varint(std::string& out, std::uint64_t x) {
  while (x >= 0x80) {
    out.push_back(static_cast<char>(x | 0x80));
    x >>= 7;
  }
  out.push_back(static_cast<char>(x));
}

/// Reads a varint at `pos` of `in`; throws FormatError when it runs past the end or over 64 bits.
inline std::uint64_t read_varint(std::string_view in, std::size_t& pos) {
  std::uint64_t x = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos >= in.size())
      throw FormatError(errc::truncated_input, "varint runs past the end of its data");
    auto b = static_cast<std::uint8_t>(in[pos++]);
    x |= static_cast<std::uint64_t>(b & 0x7F) << shift;
    if (b < 0x80) {
      if (shift == 63 && b > 1) break;
      return x;
    }
  }
  throw FormatError(errc::corrupt_data, "varint longer than 64 bits");
}

}  // namespace brine::util
