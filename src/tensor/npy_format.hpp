// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// tensor/npy_format.hpp: what the .npy reader shares with the .npz reader (private).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "brine/numpy.hpp"

namespace brine::npy {

/// Bytes of the magic string and the version (docs/format/numpy.md §1).
inline constexpr std::size_t kMagicAndVersionBytes = 8;
/// Bytes a reader needs to know a header's length: the magic, version and a 4-byte length.
inline constexpr std::size_t kLongestPrefix = 12;

/// The size of the whole header (prefix, dict and padding), which is the data's offset, from
/// the first min(12, total_size) bytes of a .npy of `total_size` bytes. Checks the magic, the
/// version, max_header_bytes, and that the header lies within total_size.
std::uint64_t header_size(std::string_view prefix, std::uint64_t total_size,
                          const NumpyLoadOptions& options, const std::string& source);

/// Writes the elements at `src`, laid out as `header` says (Fortran order, byte order), into
/// `dst` in C order and little-endian. `src` and `dst` hold header.data_nbytes bytes each and
/// may be the same only when the data is not in Fortran order.
void to_c_order_little_endian(const NpyHeader& header, const std::byte* src, std::byte* dst);

/// The header bytes (prefix, dict and padding) of a .npy holding a C-order little-endian
/// array of `dtype` and `shape`.
std::string header_bytes(DType dtype, const std::vector<std::int64_t>& shape, NpyVersion version);

}  // namespace brine::npy
