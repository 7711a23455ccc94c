// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// io/zip_writer.cpp: the aligned ZIP writer (io/zip_writer.hpp).

#include "io/zip_writer.hpp"

#include <algorithm>
#include <string_view>
#include <utility>

#include "brine/error.hpp"
#include "io/zip_directory.hpp"

namespace brine::detail::zip {
namespace {

void put16(std::string& out, std::uint64_t v) {
  out.push_back(static_cast<char>(v & 0xFF));
  out.push_back(static_cast<char>((v >> 8) & 0xFF));
}
void put32(std::string& out, std::uint64_t v) {
  put16(out, v & 0xFFFF);
  put16(out, (v >> 16) & 0xFFFF);
}
void put64(std::string& out, std::uint64_t v) {
  put32(out, v & k32);
  put32(out, v >> 32);
}

// DOS date 1980-01-01, time 00:00: fixed, so that one content gives one file.
constexpr std::uint16_t kDosDate = 0x0021;
constexpr std::uint16_t kDosTime = 0;
constexpr std::uint16_t kMadeBy = (3 << 8) | 45;           // Unix, ZIP 4.5
constexpr std::uint32_t kFileAttributes = 0100644u << 16;  // -rw-r--r--

bool needs_utf8_flag(std::string_view name) {
  return std::any_of(name.begin(), name.end(),
                     [](char c) { return (static_cast<unsigned char>(c) & 0x80) != 0; });
}

}  // namespace

Writer::Writer(Sink sink, const WriterOptions& options, std::string destination)
    : sink_(std::move(sink)), options_(options), destination_(std::move(destination)) {
  const std::size_t a = options.alignment;
  if (a == 0 || a > 32768 || (a & (a - 1)) != 0)
    throw_error(errc::internal_error,
                "ZIP alignment must be a power of two from 1 to 32768, not " + std::to_string(a),
                ErrorContext{destination_, {}, {}, {}, {}});
}

void Writer::emit(const std::string& bytes) {
  sink_(bytes.data(), bytes.size());
  position_ += bytes.size();
}

void Writer::write(const void* bytes, std::size_t n) {
  sink_(bytes, n);
  position_ += n;
}

void Writer::check_previous_complete() const {
  if (!records_.empty() && position_ != entry_end_)
    throw_error(errc::internal_error,
                "entry '" + records_.back().name + "' got " +
                    std::to_string(position_ - (entry_end_ - records_.back().size)) +
                    " bytes, not the " + std::to_string(records_.back().size) + " it declared",
                ErrorContext{destination_, {}, records_.back().name, {}, {}});
}

void Writer::begin_entry(const std::string& name, std::uint64_t size, std::uint32_t crc) {
  check_previous_complete();
  if (!names_.insert(name).second)
    throw_error(errc::internal_error, "entry '" + name + "' added twice to the ZIP archive",
                ErrorContext{destination_, {}, name, {}, {}});
  const std::uint64_t offset = position_;
  const bool zip64 = options_.force_zip64 || size >= k32 || offset >= k32;
  const bool sizes64 = options_.force_zip64 || size >= k32;
  std::string header;
  put32(header, kLocalSig);
  put16(header, zip64 ? 45 : 20);
  put16(header, needs_utf8_flag(name) ? 0x0800 : 0);
  put16(header, 0);  // stored
  put16(header, kDosTime);
  put16(header, kDosDate);
  put32(header, crc);
  put32(header, sizes64 ? k32 : size);
  put32(header, sizes64 ? k32 : size);
  std::string extra;
  if (sizes64) {
    put16(extra, kZip64ExtraId);
    put16(extra, 16);
    put64(extra, size);
    put64(extra, size);
  }
  const std::uint64_t align = options_.alignment;
  const std::uint64_t data_at = offset + kLocalFixed + name.size() + extra.size();
  std::uint64_t pad = (align - data_at % align) % align;
  // The padding field needs 4 bytes for its id and length.
  while (pad != 0 && pad < 4) pad += align;
  if (pad != 0) {
    put16(extra, kPaddingExtraId);
    put16(extra, pad - 4);
    extra.append(static_cast<std::size_t>(pad - 4), '\0');
  }
  put16(header, name.size());
  put16(header, extra.size());
  header += name;
  header += extra;
  emit(header);
  records_.push_back(Record{name, offset, size, crc});
  entry_end_ = position_ + size;
}

void Writer::finish() {
  check_previous_complete();
  const std::uint64_t cd_offset = position_;
  for (const Record& r : records_) {
    const bool sizes64 = options_.force_zip64 || r.size >= k32;
    const bool offset64 = options_.force_zip64 || r.header_offset >= k32;
    std::string extra;
    if (sizes64 || offset64) {
      put16(extra, kZip64ExtraId);
      put16(extra, (sizes64 ? 16 : 0) + (offset64 ? 8 : 0));
      if (sizes64) {
        put64(extra, r.size);
        put64(extra, r.size);
      }
      if (offset64) put64(extra, r.header_offset);
    }
    std::string rec;
    put32(rec, kCentralSig);
    put16(rec, kMadeBy);
    put16(rec, (sizes64 || offset64) ? 45 : 20);
    put16(rec, needs_utf8_flag(r.name) ? 0x0800 : 0);
    put16(rec, 0);
    put16(rec, kDosTime);
    put16(rec, kDosDate);
    put32(rec, r.crc);
    put32(rec, sizes64 ? k32 : r.size);
    put32(rec, sizes64 ? k32 : r.size);
    put16(rec, r.name.size());
    put16(rec, extra.size());
    put16(rec, 0);  // comment
    put16(rec, 0);  // disk
    put16(rec, 0);  // internal attributes
    put32(rec, kFileAttributes);
    put32(rec, offset64 ? k32 : r.header_offset);
    rec += r.name;
    rec += extra;
    emit(rec);
  }
  const std::uint64_t cd_size = position_ - cd_offset;
  const std::uint64_t count = records_.size();
  const bool zip64_end = options_.force_zip64 || count >= k16 || cd_offset >= k32 || cd_size >= k32;
  std::string tail;
  if (zip64_end) {
    const std::uint64_t record_at = position_;
    put32(tail, kZip64EndSig);
    put64(tail, kZip64EndFixed - 12);
    put16(tail, kMadeBy);
    put16(tail, 45);
    put32(tail, 0);
    put32(tail, 0);
    put64(tail, count);
    put64(tail, count);
    put64(tail, cd_size);
    put64(tail, cd_offset);
    put32(tail, kZip64LocatorSig);
    put32(tail, 0);
    put64(tail, record_at);
    put32(tail, 1);
  }
  put32(tail, kEndSig);
  put16(tail, 0);
  put16(tail, 0);
  put16(tail, zip64_end ? k16 : count);
  put16(tail, zip64_end ? k16 : count);
  put32(tail, zip64_end ? k32 : cd_size);
  put32(tail, zip64_end ? k32 : cd_offset);
  put16(tail, 0);
  emit(tail);
}

}  // namespace brine::detail::zip
