// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// io/zip_directory.hpp (internal): a validating reader of a ZIP archive's structure, the end
// records (ZIP64 too), the central directory and each entry's local header, over bytes in
// memory (a mapped file). Shared by the DDUF reader (src/bundle/dduf.cpp), which adds its
// naming and storage rules through the hooks, and the .npz reader (src/tensor/npz.cpp),
// which maps stored entries in place. Nothing here is exported.

#ifndef BRINE_SRC_IO_ZIP_DIRECTORY_HPP
#define BRINE_SRC_IO_ZIP_DIRECTORY_HPP

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace brine::detail::zip {

constexpr std::uint32_t kLocalSig = 0x04034b50;
constexpr std::uint32_t kCentralSig = 0x02014b50;
constexpr std::uint32_t kEndSig = 0x06054b50;
constexpr std::uint32_t kZip64EndSig = 0x06064b50;
constexpr std::uint32_t kZip64LocatorSig = 0x07064b50;
constexpr std::size_t kLocalFixed = 30;
constexpr std::size_t kCentralFixed = 46;
constexpr std::size_t kEndFixed = 22;
constexpr std::size_t kZip64EndFixed = 56;
constexpr std::size_t kZip64LocatorSize = 20;
constexpr std::uint16_t kZip64ExtraId = 0x0001;
constexpr std::uint32_t k32 = 0xFFFFFFFFu;
constexpr std::uint16_t k16 = 0xFFFFu;

/// ZIP's CRC-32 (reflected 0xEDB88320) of `n` bytes, continuing from `crc` (0 to start).
std::uint32_t crc32_update(std::uint32_t crc, const void* data, std::size_t n);

/// What is wrong with an archive's structure; the DDUF reader names each as its rule.
enum class Problem {
  not_a_zip,
  truncated,
  multi_disk,
  invalid_zip64,
  invalid_central_directory,
  entry_out_of_bounds,
  local_header_mismatch,
  duplicate_name,
  directory_with_data,
  overlapping_entries,
};

/// One entry as the central directory describes it, its local header checked against it.
struct Entry {
  std::string name;
  std::uint16_t flags = 0;
  std::uint16_t method = 0;  ///< 0 stored, 8 deflated
  std::uint32_t crc32 = 0;
  std::uint64_t compressed_size = 0;
  std::uint64_t size = 0;
  std::uint64_t header_offset = 0;  ///< of the local header
  std::uint64_t data_offset = 0;    ///< of the first byte of its (compressed) data
};

struct Directory {
  bool zip64 = false;
  std::vector<Entry> entries;  ///< in central directory order
};

struct Hooks {
  /// Throws (never returns): the problem, a message, the byte offset, the entry's name.
  std::function<void(Problem, const std::string&, std::optional<std::uint64_t>, const std::string&)>
      reject;
  /// The central record of `entry` read (sizes and offset, ZIP64 resolved; its local header
  /// not yet): a reader's own rules, which throw. Optional.
  std::function<void(const Entry& entry, std::uint64_t record_at)> central;
  /// The local header at `at` names the entry; its flags and method: the reader's rules.
  std::function<void(const Entry& entry, std::uint16_t flags, std::uint16_t method,
                     std::uint64_t at)>
      local;
};

/// Reads and validates the structure of the ZIP archive `bytes`: one end record whose
/// comment reaches the end, one disk, a ZIP64 locator and record agreeing with it, a central
/// directory that ends where the end records start and holds exactly its records, names
/// unique, each local header naming the entry with the central directory's sizes and CRC
/// (zero allowed with a data descriptor), data inside the file before the central
/// directory, no two entries sharing bytes. CRCs are not checked here.
Directory read_directory(std::string_view bytes, const Hooks& hooks);

/// Little-endian fields of the bytes.
struct Bytes {
  const unsigned char* p;
  std::uint64_t size;
  std::uint16_t u16(std::uint64_t at) const {
    return static_cast<std::uint16_t>(p[at] | p[at + 1] << 8);
  }
  std::uint32_t u32(std::uint64_t at) const {
    return std::uint32_t{p[at]} | std::uint32_t{p[at + 1]} << 8 | std::uint32_t{p[at + 2]} << 16 |
           std::uint32_t{p[at + 3]} << 24;
  }
  std::uint64_t u64(std::uint64_t at) const {
    return std::uint64_t{u32(at)} | std::uint64_t{u32(at + 4)} << 32;
  }
  // Whether [at, at + n) lies inside [0, limit).
  static bool fits(std::uint64_t at, std::uint64_t n, std::uint64_t limit) {
    return at <= limit && n <= limit - at;
  }
};

}  // namespace brine::detail::zip

#endif  // BRINE_SRC_IO_ZIP_DIRECTORY_HPP
