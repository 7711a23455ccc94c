// brine — versioned object persistence for C++17.
// bench/workloads/canonical.hpp: the little-endian writer behind every canonical encoding,
// and the CRC-32 (zlib) fingerprint that proves a generator or a loaded object correct.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

namespace brine_bench {

/// Builds a canonical encoding (WORKLOADS.md "Payload bytes"): fixed-width little-endian
/// scalars, u32 length prefixes. Bytes are assembled by shifts rather than copied from
/// memory so the encoding is the same on a big-endian host.
class LittleEndianWriter {
 public:
  void u32(std::uint32_t v) { put(v, 4); }
  void i32(std::int32_t v) { put(static_cast<std::uint32_t>(v), 4); }
  void i64(std::int64_t v) { put(static_cast<std::uint64_t>(v), 8); }
  void f32(float v) {
    std::uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    put(bits, 4);
  }
  void f64(double v) {
    std::uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    put(bits, 8);
  }
  /// u32 length, then the bytes.
  void str(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    out_.append(s.data(), s.size());
  }

  /// Bytes as they are (a tensor's float32 data, already little-endian).
  void raw(const void* bytes, std::size_t n) { out_.append(static_cast<const char*>(bytes), n); }

  std::string take() { return std::move(out_); }

 private:
  void put(std::uint64_t v, int width) {
    char b[8];
    for (int i = 0; i < width; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
    out_.append(b, static_cast<std::size_t>(width));
  }

  std::string out_;
};

/// What verification compares: the length and CRC-32 of a canonical encoding.
struct Fingerprint {
  std::uint64_t bytes = 0;
  std::uint32_t crc = 0;

  friend bool operator==(const Fingerprint& a, const Fingerprint& b) {
    return a.bytes == b.bytes && a.crc == b.crc;
  }
  friend bool operator!=(const Fingerprint& a, const Fingerprint& b) { return !(a == b); }
};

/// zlib's crc32, fed in pieces because its length parameter is a 32-bit uInt.
inline std::uint32_t crc32_of(std::string_view bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  const auto* p = reinterpret_cast<const Bytef*>(bytes.data());
  std::size_t left = bytes.size();
  while (left > 0) {
    const std::size_t n = std::min<std::size_t>(left, 1u << 30);
    crc = crc32(crc, p, static_cast<uInt>(n));
    p += n;
    left -= n;
  }
  return static_cast<std::uint32_t>(crc);
}

inline Fingerprint fingerprint_of(std::string_view bytes) {
  return Fingerprint{bytes.size(), crc32_of(bytes)};
}

/// The same interface as LittleEndianWriter, but it keeps only the length and the CRC-32 of
/// what would be written: workload C's 256 MiB encoding is verified after every load without
/// building a second copy of it.
class CrcWriter {
 public:
  void u32(std::uint32_t v) { put(v, 4); }
  void i32(std::int32_t v) { put(static_cast<std::uint32_t>(v), 4); }
  void i64(std::int64_t v) { put(static_cast<std::uint64_t>(v), 8); }
  void f32(float v) {
    std::uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    put(bits, 4);
  }
  void f64(double v) {
    std::uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    put(bits, 8);
  }
  void str(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    raw(s.data(), s.size());
  }
  void raw(const void* bytes, std::size_t n) {
    const auto* p = static_cast<const Bytef*>(bytes);
    fingerprint_.bytes += n;
    while (n > 0) {
      const std::size_t step = std::min<std::size_t>(n, 1u << 30);
      crc_ = crc32(crc_, p, static_cast<uInt>(step));
      p += step;
      n -= step;
    }
  }

  Fingerprint fingerprint() const {
    Fingerprint f = fingerprint_;
    f.crc = static_cast<std::uint32_t>(crc_);
    return f;
  }

 private:
  void put(std::uint64_t v, int width) {
    unsigned char b[8];
    for (int i = 0; i < width; ++i) b[i] = static_cast<unsigned char>((v >> (8 * i)) & 0xFF);
    raw(b, static_cast<std::size_t>(width));
  }

  uLong crc_ = crc32(0L, Z_NULL, 0);
  Fingerprint fingerprint_;
};

/// "28149501 bytes, crc 6db4fadd": the form WORKLOADS.md tabulates.
inline std::string describe(const Fingerprint& f) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%llu bytes, crc %08x", static_cast<unsigned long long>(f.bytes),
                static_cast<unsigned>(f.crc));
  return buf;
}

}  // namespace brine_bench
