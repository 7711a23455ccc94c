// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// tensor/npy_format.hpp: what the .npy reader shares with the .npz reader (private).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

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

/// An entry of an .npz that is not an array: the object .npz's JSON description.
struct NpzFile {
  std::string name;   ///< the ZIP name, in full
  std::string bytes;  ///< its content
};

/// The .npz of `dict`'s arrays followed by `files`, as npz_bytes writes arrays.
std::string npz_bytes_with_files(const StateDict& dict, const std::vector<NpzFile>& files,
                                 bool compress);
/// Writes npz_bytes_with_files at `path`, atomically.
void save_npz_with_files(const std::filesystem::path& path, const StateDict& dict,
                         const std::vector<NpzFile>& files, bool compress);

/// What read_npz_archive found: the arrays (loaded, with their headers), the content of the
/// other entries it was asked for, and the names of the entries it skipped.
struct NpzArchive {
  StateDict arrays;
  std::vector<NpzEntry> entries;
  std::vector<NpzFile> files;
  std::vector<std::string> skipped;
};

/// Loads every array of an .npz, as load_npz, and the content of each entry that is not an
/// array and for which `wanted(name)` holds (an entry larger than `max_file_bytes` is a
/// LimitError naming LoadOptions::max_input_bytes). The same checks as load_npz apply.
NpzArchive read_npz_archive(std::string_view bytes, const NumpyLoadOptions& options,
                            const std::string& source,
                            const std::function<bool(const std::string&)>& wanted,
                            std::uint64_t max_file_bytes);

/// read_npz_archive without the arrays' data (entries only, arrays left empty): for
/// `brine inspect`. A wanted entry over `max_file_bytes` is skipped, not refused.
NpzArchive inspect_npz_archive(std::string_view bytes, const NumpyLoadOptions& options,
                               const std::string& source,
                               const std::function<bool(const std::string&)>& wanted,
                               std::uint64_t max_file_bytes);

}  // namespace brine::npy
