// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// util/varint.hpp: LEB128 varints over strings (private): layouts and descriptors. The decoding
// itself is detail::decode_varint, which the binary reader's inline reads use too.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "brine/detail/varint.hpp"
#include "brine/error.hpp"

namespace brine::util {

inline void append_varint(std::string& out, std::uint64_t x) {
  while (x >= 0x80) {
    out.push_back(static_cast<char>(x | 0x80));
    x >>= 7;
  }
  out.push_back(static_cast<char>(x));
}

[[noreturn]] void fail_varint(detail::VarintStatus status, std::size_t offset);

/// Reads a varint at `pos` of `in`; throws FormatError (truncated_input when it runs past the
/// end, corrupt_data over 64 bits) whose byte offset is the varint's `pos` in `in`.
inline std::uint64_t read_varint(std::string_view in, std::size_t& pos) {
  const auto* begin = reinterpret_cast<const std::uint8_t*>(in.data());
  const std::uint8_t* p = begin + pos;
  std::uint64_t x = 0;
  detail::VarintStatus status = detail::decode_varint(p, begin + in.size(), x);
  if (status != detail::VarintStatus::ok) fail_varint(status, pos);
  pos = static_cast<std::size_t>(p - begin);
  return x;
}

}  // namespace brine::util
