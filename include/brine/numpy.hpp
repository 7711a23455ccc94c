// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// numpy.hpp: numpy's .npy (one array) and .npz (a ZIP of .npy entries) files, read and
// written as Tensors and StateDicts. The formats and brine's choices: docs/format/numpy.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "brine/detail/export.hpp"
#include "brine/state_dict.hpp"
#include "brine/tensor.hpp"

namespace brine {

/// Limits of the numpy readers. The defaults accept every file numpy writes for the dtypes
/// brine has; the error a limit raises (LimitError) names the field to raise.
struct NumpyLoadOptions {
  /// Largest .npy header (the Python dict literal and its padding), in bytes. Headers of
  /// the arrays brine reads (no structured dtypes) are under 1 KiB; numpy itself refuses
  /// more than 10,000 characters unless told to trust the file. This bounds the parse.
  std::uint64_t max_header_bytes = 65536;

  /// Largest number of entries in the central directory of an .npz. Each costs a name and
  /// a Tensor; without a bound a small file of empty entries would make a large StateDict.
  std::uint64_t max_entries = 65536;

  /// Largest ratio of an .npz entry's uncompressed size to its compressed size (plus 64
  /// KiB). The uncompressed size decides the allocation: this keeps a load's memory within a
  /// known multiple of its file (a zip bomb is a LimitError, not an out-of-memory). Deflate
  /// cannot exceed about 1032; arrays of real weights compress to 1 to 3. Raise it for
  /// arrays that are almost all zeros, which deflate compresses several hundred times.
  std::uint64_t max_compression_ratio = 256;

  /// load_npz of a file: check the CRC-32 of each stored entry it maps (a stored entry whose
  /// data is C order, little-endian and aligned is a view of the file, not a copy). On by
  /// default, as strict as an entry read through libzip; off, a mapped entry's pages are
  /// not read until the tensor is. Entries read through libzip are always checked.
  bool verify_crc = true;
};

/// The .npy format version to write. `automatic` is numpy's choice: 1.0, or 2.0 when the
/// header is longer than 65,535 bytes (never for the dtypes brine writes).
enum class NpyVersion { automatic, v1_0, v2_0, v3_0 };

/// What the header of a .npy says, without its data.
struct NpyHeader {
  std::uint8_t major_version = 1;  ///< 1, 2 or 3
  std::uint8_t minor_version = 0;  ///< 0
  DType dtype = DType::float32;
  std::vector<std::int64_t> shape;  ///< {} for a 0-d array (one element)
  bool fortran_order = false;       ///< the data is column-major
  bool big_endian = false;          ///< the data is big-endian ('>' in the descr)
  std::string descr;                ///< numpy's descr as written, e.g. "<f4"
  std::uint64_t data_offset = 0;    ///< bytes from the start of the .npy to the data
  std::uint64_t data_nbytes = 0;    ///< bytes of data: the element count times dtype_size
};

/// Parses the header at the start of `bytes`, a .npy of `total_size` bytes of which `bytes`
/// holds at least the header (all of it, for a file in memory). Checks that the data takes
/// exactly `total_size - data_offset` bytes: a .npy shorter than its shape says is
/// truncated_input, a longer one corrupt_data (brine refuses bytes after the array).
/// `source` names the file or entry in errors. Throws FormatError (truncated_input,
/// corrupt_data), LimitError, FormatError (unsupported_content) for object arrays (pickles),
/// structured dtypes and dtypes brine has no DType for.
BRINE_API NpyHeader parse_npy_header(std::string_view bytes, std::uint64_t total_size,
                                     const NumpyLoadOptions& options = {},
                                     const std::string& source = {});

/// The header of the .npy at `path`, without reading its data (for `brine inspect`).
BRINE_API NpyHeader inspect_npy(const std::filesystem::path& path,
                                const NumpyLoadOptions& options = {});

/// Loads the .npy at `path`. Little-endian C-order data that is aligned for its dtype is a
/// read-only view of the file's memory map (no copy; the tensor keeps the map alive);
/// big-endian, Fortran-order or misaligned data is converted into owned, C-order,
/// little-endian memory. Throws as parse_npy_header, and IoError.
///
/// Example:
///   brine::Tensor t = brine::load_npy("weights.npy");
///   brine::Span<const float> w = t.values<float>();
BRINE_API Tensor load_npy(const std::filesystem::path& path, const NumpyLoadOptions& options = {});

/// Loads a .npy held in memory into an owned tensor (a copy). `source` names it in errors.
BRINE_API Tensor load_npy_from_memory(std::string_view bytes, const NumpyLoadOptions& options = {},
                                      const std::string& source = "memory buffer");

/// The bytes of a .npy holding `tensor`: C order, little-endian, header padded so the data
/// starts 64-byte aligned, as numpy writes it. Throws FormatError (unsupported_content) for
/// bfloat16 and the float8 types, which numpy has no dtype for (convert them, or save as
/// safetensors), and LimitError when `version` is 1.0 and the header needs more than 65,535
/// bytes.
BRINE_API std::string npy_bytes(const Tensor& tensor, NpyVersion version = NpyVersion::automatic);

/// Writes `tensor` as a .npy at `path`, atomically (AtomicFileSink). Throws as npy_bytes,
/// and IoError.
BRINE_API void save_npy(const std::filesystem::path& path, const Tensor& tensor,
                        NpyVersion version = NpyVersion::automatic);

/// One entry of an .npz, as its central directory and its .npy header say.
struct NpzEntry {
  std::string name;                     ///< the entry name without ".npy" (the key numpy.load uses)
  NpyHeader header;                     ///< its .npy header
  bool compressed = false;              ///< deflate (true) or stored (false)
  std::uint64_t compressed_size = 0;    ///< bytes in the ZIP
  std::uint64_t uncompressed_size = 0;  ///< bytes of the .npy
};

/// What an .npz holds: its arrays, and the names of the entries that are not arrays
/// (directories, files not ending in ".npy"), which the loaders skip.
struct NpzContents {
  std::vector<NpzEntry> arrays;
  std::vector<std::string> skipped;
};

/// The entries of the .npz at `path` and their .npy headers, without reading their data
/// (a compressed entry inflates only its header). Throws as load_npz.
BRINE_API NpzContents inspect_npz(const std::filesystem::path& path,
                                  const NumpyLoadOptions& options = {});

/// Loads every array of the .npz at `path`, in the order of its central directory, named
/// as numpy.load names them ("a.npy" is "a", "dir/b.npy" is "dir/b"). A stored entry whose
/// data is C order, little-endian and aligned for its dtype is a read-only view of the
/// mapped file (Tensor::is_mapped; its CRC-32 checked per options.verify_crc); the others
/// are read into owned memory (one copy, inflated when compressed; no intermediate buffer),
/// converted to C order and little-endian. Entries that are not .npy are skipped (see
/// inspect_npz). Throws FormatError (corrupt_data: not a ZIP, a ZIP structure whose local
/// headers, central directory or entry bounds disagree, duplicate names;
/// checksum_mismatch: a CRC mismatch; truncated_input; unsupported_content: encryption, a
/// compression other than stored and deflate, and what parse_npy_header refuses), LimitError,
/// IoError. The error names the file and the entry.
BRINE_API StateDict load_npz(const std::filesystem::path& path,
                             const NumpyLoadOptions& options = {});

/// load_npz of an .npz held in memory. `source` names it in errors.
BRINE_API StateDict load_npz_from_memory(std::string_view bytes,
                                         const NumpyLoadOptions& options = {},
                                         const std::string& source = "memory buffer");

/// inspect_npz of an .npz held in memory.
BRINE_API NpzContents inspect_npz_from_memory(std::string_view bytes,
                                              const NumpyLoadOptions& options = {},
                                              const std::string& source = "memory buffer");

/// The bytes of an .npz holding every tensor of `dict` as "<name>.npy" (names may hold '/',
/// as numpy's allow), stored, or deflate-compressed when `compress` (numpy.savez and
/// savez_compressed). ZIP64 records are written where sizes or offsets need them. The
/// metadata is not written (numpy has no place for it). Throws as npy_bytes, and
/// FormatError (corrupt_data) for an empty name.
BRINE_API std::string npz_bytes(const StateDict& dict, bool compress = false);

/// Writes npz_bytes(dict, compress) at `path`, atomically. The ZIP is built in memory and
/// then written: a save holds the whole file in memory once, besides the tensors.
BRINE_API void save_npz(const std::filesystem::path& path, const StateDict& dict,
                        bool compress = false);

}  // namespace brine
