// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// io/zip_directory.cpp: the validating ZIP structure reader (zip_directory.hpp).

#include "io/zip_directory.hpp"

#include <algorithm>
#include <exception>
#include <unordered_set>

namespace brine::detail::zip {
namespace {

// Slicing by 8: eight tables, eight bytes a step.
struct CrcTables {
  std::uint32_t t[8][256];
  CrcTables() {
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[0][i] = c;
    }
    for (std::uint32_t i = 0; i < 256; ++i)
      for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
  }
};

std::string in_quotes(std::string_view name) { return "'" + std::string(name) + "'"; }

// The hook throws; were it to return, reading on would go past what was checked.
[[noreturn]] void reject(const Hooks& hooks, Problem problem, const std::string& message,
                         std::optional<std::uint64_t> at, const std::string& entry) {
  hooks.reject(problem, message, at, entry);
  std::terminate();
}

}  // namespace

std::uint32_t crc32_update(std::uint32_t crc, const void* data, std::size_t n) {
  static const CrcTables tables;
  const auto& t = tables.t;
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  while (n >= 8) {
    std::uint32_t one = (std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 |
                         std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24) ^
                        crc;
    std::uint32_t two = std::uint32_t{p[4]} | std::uint32_t{p[5]} << 8 | std::uint32_t{p[6]} << 16 |
                        std::uint32_t{p[7]} << 24;
    crc = t[7][one & 0xFF] ^ t[6][(one >> 8) & 0xFF] ^ t[5][(one >> 16) & 0xFF] ^ t[4][one >> 24] ^
          t[3][two & 0xFF] ^ t[2][(two >> 8) & 0xFF] ^ t[1][(two >> 16) & 0xFF] ^ t[0][two >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- != 0) crc = t[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

Directory read_directory(std::string_view text, const Hooks& hooks) {
  const Bytes b{reinterpret_cast<const unsigned char*>(text.data()), text.size()};
  const std::uint64_t size = b.size;
  auto bad = [&](Problem problem, const std::string& message, std::optional<std::uint64_t> at = {},
                 const std::string& entry = {}) { reject(hooks, problem, message, at, entry); };

  // End of central directory: the last signature whose comment reaches exactly the end.
  std::optional<std::uint64_t> end_at;
  if (size >= kEndFixed) {
    const std::uint64_t lowest = size - kEndFixed > 0xFFFF ? size - kEndFixed - 0xFFFF : 0;
    for (std::uint64_t at = size - kEndFixed + 1; at-- > lowest;) {
      if (b.u32(at) == kEndSig && at + kEndFixed + b.u16(at + 20) == size) {
        end_at = at;
        break;
      }
    }
  }
  if (!end_at)
    bad(Problem::not_a_zip,
        "no ZIP end of central directory record (the file is not a ZIP or is truncated)");
  const std::uint64_t eocd = *end_at;
  std::uint64_t disk = b.u16(eocd + 4), cd_disk = b.u16(eocd + 6);
  std::uint64_t count_here = b.u16(eocd + 8), count = b.u16(eocd + 10);
  std::uint64_t cd_size = b.u32(eocd + 12), cd_offset = b.u32(eocd + 16);
  std::uint64_t records_end = eocd;  // where the central directory must end
  Directory out;
  if (eocd >= kZip64LocatorSize && b.u32(eocd - kZip64LocatorSize) == kZip64LocatorSig) {
    out.zip64 = true;
    const std::uint64_t loc = eocd - kZip64LocatorSize;
    if (b.u32(loc + 4) != 0 || b.u32(loc + 16) != 1)
      bad(Problem::multi_disk, "the ZIP64 locator names several disks", loc);
    const std::uint64_t rec = b.u64(loc + 8);
    if (!Bytes::fits(rec, kZip64EndFixed, loc) || b.u32(rec) != kZip64EndSig)
      bad(Problem::invalid_zip64, "no ZIP64 end of central directory record where its locator says",
          rec);
    if (b.u64(rec + 4) > loc - rec - 12 || rec + 12 + b.u64(rec + 4) != loc)
      bad(Problem::invalid_zip64, "the ZIP64 end record does not end at its locator", rec);
    const std::uint64_t d64 = b.u32(rec + 16), cd_disk64 = b.u32(rec + 20);
    const std::uint64_t here64 = b.u64(rec + 24), count64 = b.u64(rec + 32);
    const std::uint64_t size64 = b.u64(rec + 40), offset64 = b.u64(rec + 48);
    auto agrees = [](std::uint64_t narrow, std::uint64_t wide, std::uint64_t sentinel) {
      return narrow == sentinel || narrow == wide;
    };
    if (!agrees(disk, d64, k16) || !agrees(cd_disk, cd_disk64, k16) ||
        !agrees(count_here, here64, k16) || !agrees(count, count64, k16) ||
        !agrees(cd_size, size64, k32) || !agrees(cd_offset, offset64, k32))
      bad(Problem::invalid_zip64, "the ZIP64 end record disagrees with the end record", rec);
    disk = d64;
    cd_disk = cd_disk64;
    count_here = here64;
    count = count64;
    cd_size = size64;
    cd_offset = offset64;
    records_end = rec;
  } else if (count == k16 || cd_size == k32 || cd_offset == k32) {
    bad(Problem::invalid_zip64, "ZIP64 values in the end record but no ZIP64 locator", eocd);
  }
  if (disk != 0 || cd_disk != 0 || count_here != count)
    bad(Problem::multi_disk, "the archive spans several disks", eocd);
  if (cd_offset > records_end)
    bad(Problem::truncated,
        "the central directory starts at byte " + std::to_string(cd_offset) +
            ", past the end records",
        eocd);
  if (cd_offset + cd_size != records_end)
    bad(Problem::invalid_central_directory,
        "the central directory (" + std::to_string(cd_size) + " bytes at " +
            std::to_string(cd_offset) + ") does not end where the end records start (byte " +
            std::to_string(records_end) + ")",
        cd_offset);
  if (count > cd_size / kCentralFixed)
    bad(Problem::invalid_central_directory,
        std::to_string(count) + " entries cannot fit in a central directory of " +
            std::to_string(cd_size) + " bytes",
        cd_offset);

  out.entries.reserve(static_cast<std::size_t>(count));
  std::unordered_set<std::string> seen;
  const std::uint64_t cd_end = records_end;
  std::uint64_t at = cd_offset;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (!Bytes::fits(at, kCentralFixed, cd_end) || b.u32(at) != kCentralSig)
      bad(Problem::invalid_central_directory,
          "no central directory record " + std::to_string(i) + " at byte " + std::to_string(at),
          at);
    Entry entry;
    entry.flags = b.u16(at + 8);
    entry.method = b.u16(at + 10);
    entry.crc32 = b.u32(at + 16);
    std::uint64_t csize = b.u32(at + 20), usize = b.u32(at + 24);
    const std::uint64_t nlen = b.u16(at + 28), elen = b.u16(at + 30), clen = b.u16(at + 32);
    std::uint64_t entry_disk = b.u16(at + 34), lho = b.u32(at + 42);
    if (!Bytes::fits(at + kCentralFixed, nlen + elen + clen, cd_end))
      bad(Problem::invalid_central_directory,
          "central directory record " + std::to_string(i) + " reaches past the directory", at);
    const std::string name(text.substr(at + kCentralFixed, nlen));
    // The ZIP64 extra field holds, in order, the values whose narrow field is the sentinel.
    const std::uint64_t extra = at + kCentralFixed + nlen;
    bool found_zip64 = false;
    for (std::uint64_t e = extra; e + 4 <= extra + elen;) {
      const std::uint16_t id = b.u16(e), len = b.u16(e + 2);
      if (e + 4 + len > extra + elen)
        bad(Problem::invalid_central_directory,
            "entry " + in_quotes(name) + ": an extra field reaches past its record", e, name);
      if (id == kZip64ExtraId) {
        found_zip64 = true;
        std::uint64_t pos = e + 4;
        const std::uint64_t stop = e + 4 + len;
        auto take = [&](std::uint64_t& value, std::uint64_t width) {
          if (pos + width > stop)
            bad(Problem::invalid_zip64,
                "entry " + in_quotes(name) + ": ZIP64 extra field too short", e, name);
          value = width == 8 ? b.u64(pos) : b.u32(pos);
          pos += width;
        };
        if (usize == k32) take(usize, 8);
        if (csize == k32) take(csize, 8);
        if (lho == k32) take(lho, 8);
        if (entry_disk == k16) take(entry_disk, 4);
      }
      e += 4 + len;
    }
    if (!found_zip64 && (usize == k32 || csize == k32 || lho == k32 || entry_disk == k16))
      bad(Problem::invalid_zip64,
          "entry " + in_quotes(name) + ": ZIP64 values without the extra field", at, name);
    entry.name = name;
    entry.compressed_size = csize;
    entry.size = usize;
    entry.header_offset = lho;
    if (hooks.central) hooks.central(entry, at);
    if (entry_disk != 0)
      bad(Problem::multi_disk, "entry " + in_quotes(name) + " on another disk", at, name);
    if (!seen.insert(name).second)
      bad(Problem::duplicate_name, "entry " + in_quotes(name) + " appears twice", at, name);
    if (!name.empty() && name.back() == '/' && usize != 0)
      bad(Problem::directory_with_data, "directory entry " + in_quotes(name) + " holds data", at,
          name);

    // The local header must agree with the central record.
    if (!Bytes::fits(lho, kLocalFixed, cd_offset))
      bad(Problem::entry_out_of_bounds,
          "entry " + in_quotes(name) + ": local header at byte " + std::to_string(lho) +
              " is not before the central directory",
          lho, name);
    if (b.u32(lho) != kLocalSig)
      bad(Problem::local_header_mismatch,
          "entry " + in_quotes(name) + ": no local header at byte " + std::to_string(lho), lho,
          name);
    const std::uint16_t lflags = b.u16(lho + 6), lmethod = b.u16(lho + 8);
    const std::uint64_t lnlen = b.u16(lho + 26), lelen = b.u16(lho + 28);
    if (!Bytes::fits(lho + kLocalFixed, lnlen + lelen, cd_offset))
      bad(Problem::entry_out_of_bounds,
          "entry " + in_quotes(name) + ": local header reaches into the central directory", lho,
          name);
    if (text.substr(lho + kLocalFixed, lnlen) != name)
      bad(Problem::local_header_mismatch,
          "entry " + in_quotes(name) + ": the local header names " +
              in_quotes(text.substr(lho + kLocalFixed, lnlen)),
          lho, name);
    if (hooks.local) hooks.local(entry, lflags, lmethod, lho);
    if (lmethod != entry.method)
      bad(Problem::local_header_mismatch,
          "entry " + in_quotes(name) +
              ": the local header's method differs from the central record",
          lho, name);
    if ((lflags & 0x0008) != (entry.flags & 0x0008))
      bad(Problem::local_header_mismatch,
          "entry " + in_quotes(name) + ": data descriptor flag differs from the central record",
          lho, name);
    std::uint64_t lcsize = b.u32(lho + 18), lusize = b.u32(lho + 22);
    const std::uint32_t lcrc = b.u32(lho + 14);
    const std::uint64_t lextra = lho + kLocalFixed + lnlen;
    if (lcsize == k32 || lusize == k32) {
      for (std::uint64_t e = lextra; e + 4 <= lextra + lelen;) {
        const std::uint16_t id = b.u16(e), len = b.u16(e + 2);
        if (e + 4 + len > lextra + lelen) break;
        if (id == kZip64ExtraId && len >= 16) {
          lusize = b.u64(e + 4);
          lcsize = b.u64(e + 12);
        }
        e += 4 + len;
      }
    }
    // With a data descriptor (flag 3) the local fields may be zero; the central ones rule.
    const bool descriptor = (entry.flags & 0x0008) != 0;
    auto local_agrees = [&](std::uint64_t local, std::uint64_t central) {
      return local == central || (descriptor && local == 0);
    };
    if (!local_agrees(lcsize, csize) || !local_agrees(lusize, usize) ||
        !local_agrees(lcrc, entry.crc32))
      bad(Problem::local_header_mismatch,
          "entry " + in_quotes(name) +
              ": the local header's sizes or CRC differ from the central directory's",
          lho, name);
    const std::uint64_t data = lho + kLocalFixed + lnlen + lelen;
    if (!Bytes::fits(data, csize, cd_offset))
      bad(Problem::entry_out_of_bounds,
          "entry " + in_quotes(name) + ": " + std::to_string(csize) + " bytes at byte " +
              std::to_string(data) + " reach into the central directory or past the file",
          data, name);
    entry.data_offset = data;
    out.entries.push_back(std::move(entry));
    at += kCentralFixed + nlen + elen + clen;
  }
  if (at != cd_end)
    bad(Problem::invalid_central_directory,
        std::to_string(cd_end - at) + " bytes after the last central directory record", at);

  // Entries (local header to the end of the data) must not share bytes.
  std::vector<const Entry*> by_offset;
  for (const Entry& e : out.entries) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const Entry* x, const Entry* y) { return x->header_offset < y->header_offset; });
  for (std::size_t i = 1; i < by_offset.size(); ++i) {
    const Entry& prev = *by_offset[i - 1];
    const Entry& next = *by_offset[i];
    if (prev.data_offset + prev.compressed_size > next.header_offset)
      bad(Problem::overlapping_entries,
          "entries " + in_quotes(prev.name) + " and " + in_quotes(next.name) + " overlap",
          next.header_offset, next.name);
  }
  return out;
}

}  // namespace brine::detail::zip
