// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// stable/skip.cpp: StableReader::skip, which moves past a value by walking its CBOR items,
// building nothing. See docs/format/stable-v1.md.

#include <cstdint>
#include <string_view>
#include <vector>

#include "brine/stable.hpp"
#include "stable/cbor.hpp"
#include "stable/cursor.hpp"
#include "stable/reader_impl.hpp"

namespace brine {

void StableReader::skip() {
  Impl& impl = *impl_;
  if (impl.next >= impl.values.size()) {
    ErrorContext where;
    where.source = description_;
    detail::throw_error(errc::truncated_input, "no more values in the stable archive", where);
  }
  // The constructor validated the whole document (structure, limits, checksum) and noted
  // every string of its stringref table, so this walk checks nothing. What it must keep up
  // is what later values are decoded against: the count of shareable tags (shared references
  // are indices into them across the document).
  const auto* data = reinterpret_cast<const std::uint8_t*>(impl.bytes.data());
  std::size_t pos = impl.values[impl.next++];
  constexpr std::uint64_t kIndefinite = ~std::uint64_t{0};
  // Items left in each open container, innermost last: a loop, not recursion, so a value
  // nested max_nesting() deep costs heap, not stack.
  std::vector<std::uint64_t> left{1};
  while (!left.empty()) {
    std::uint64_t& n = left.back();
    if (n == kIndefinite) {
      if (data[pos] == 0xFF) {
        ++pos;
        left.pop_back();
        continue;
      }
    } else if (n-- == 0) {
      left.pop_back();
      continue;
    }
    std::uint8_t initial = data[pos++];
    unsigned major = initial >> 5, info = initial & 31;
    std::uint64_t argument = info;
    if (info >= 24 && info <= 27) {
      std::size_t bytes = std::size_t{1} << (info - 24);
      argument = 0;
      for (std::size_t i = 0; i < bytes; ++i) argument = (argument << 8) | data[pos + i];
      pos += bytes;
    }
    switch (major) {
      case 2:
      case 3:
        pos += static_cast<std::size_t>(argument);
        break;
      case 4:
        left.push_back(info == 31 ? kIndefinite : argument);
        break;
      case 5:
        left.push_back(info == 31 ? kIndefinite : 2 * argument);
        break;
      case 6:
        // Every tag brine reads wraps exactly one item (a typed array's byte string is noted
        // like any string, as the decoders do).
        if (argument == cbor::kTagShareable) ++impl.shared_seen;
        left.push_back(1);
        break;
      default:
        break;  // numbers and simple values: the head was all
    }
  }
}

}  // namespace brine
