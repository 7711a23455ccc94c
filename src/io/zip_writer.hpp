// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// io/zip_writer.hpp (internal): a ZIP writer of stored entries whose data it aligns, through
// an extra field of zeros in the local header (id 0xD935, docs/format/dduf.md §5), so that a
// mapped reader can view each entry in place. ZIP64 records are written where a size, an
// offset or the entry count needs them, or everywhere when forced. Shared by the DDUF writer
// (src/bundle/dduf.cpp), which adds its naming and structure rules on top, and the stored
// .npz writer (src/tensor/npz.cpp). Nothing here is exported.

#ifndef BRINE_SRC_IO_ZIP_WRITER_HPP
#define BRINE_SRC_IO_ZIP_WRITER_HPP

#include <cstddef>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

namespace brine::detail::zip {

/// brine's alignment padding in a local header's extra field: an id no registered ZIP
/// extension uses, whose data is zeros.
constexpr std::uint16_t kPaddingExtraId = 0xD935;

struct WriterOptions {
  std::size_t alignment = 64;  ///< a power of two from 1 to 32768; each entry's data starts at
                               ///< a multiple of it
  bool force_zip64 = false;    ///< ZIP64 records for every entry and the end, needed or not
};

class Writer {
 public:
  /// Receives the archive's bytes in order.
  using Sink = std::function<void(const void* bytes, std::size_t n)>;

  /// `destination` names the archive in errors.
  Writer(Sink sink, const WriterOptions& options, std::string destination);

  /// Writes the local header of a stored entry of `size` bytes whose CRC-32 is `crc`; its
  /// bytes follow through write(). Throws internal_error for a name added twice or when the
  /// previous entry did not get exactly its size.
  void begin_entry(const std::string& name, std::uint64_t size, std::uint32_t crc);
  /// Writes bytes of the current entry.
  void write(const void* bytes, std::size_t n);
  /// Writes the central directory and the end records.
  void finish();

  bool has(const std::string& name) const { return names_.count(name) != 0; }

 private:
  struct Record {
    std::string name;
    std::uint64_t header_offset;
    std::uint64_t size;
    std::uint32_t crc;
  };
  void emit(const std::string& bytes);
  void check_previous_complete() const;

  Sink sink_;
  WriterOptions options_;
  std::string destination_;
  std::uint64_t position_ = 0;
  std::uint64_t entry_end_ = 0;  // where the current entry's data ends
  std::vector<Record> records_;
  std::set<std::string> names_;
};

}  // namespace brine::detail::zip

#endif  // BRINE_SRC_IO_ZIP_WRITER_HPP
