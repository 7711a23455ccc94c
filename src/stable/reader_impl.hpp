// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// stable/reader_impl.hpp: what StableReader knows of its document, shared by its two ways of
// decoding a value (the state model, reader.cpp; directly into objects, decoder.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "brine/stable.hpp"

namespace brine {

struct StableReader::Impl {
  Buffer owned;  // the input when the source is not in memory
  std::string_view bytes;
  std::uint32_t format_version = 0;
  std::vector<std::size_t> values;        // offset of each value
  std::size_t values_end = 0;             // offset just past the last value
  std::vector<std::string_view> strings;  // the stringref table, in document order
  std::size_t next = 0;
  std::uint64_t shared_seen = 0;   // shareable tags decoded so far
  std::uint64_t string_bytes = 0;  // bytes of strings decoded so far, all values
  std::size_t read_directly = 0;   // values StableDecoder read
};

}  // namespace brine
