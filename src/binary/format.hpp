// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// binary/format.hpp: constants and the block checksum of the binary archive format (private).
// See docs/format/binary-v1.md.
#pragma once

#include <cstddef>
#include <cstdint>

#include "brine/layout.hpp"
#include "util/xxhash.hpp"

namespace brine::binary_format {

/// The encoded size of a boolean or a number (§5, fixed little-endian); 0 for any other code.
inline std::size_t number_size(LayoutCode code) noexcept {
  switch (code) {
    case LayoutCode::boolean:
    case LayoutCode::i8:
    case LayoutCode::u8:
      return 1;
    case LayoutCode::i16:
    case LayoutCode::u16:
      return 2;
    case LayoutCode::i32:
    case LayoutCode::u32:
    case LayoutCode::f32:
      return 4;
    case LayoutCode::i64:
    case LayoutCode::u64:
    case LayoutCode::f64:
      return 8;
    default:
      return 0;
  }
}

// §2 File header: magic, archive kind, format version.
inline constexpr unsigned char kMagic[8] = {0x89, 'B', 'R', 'I', 'N', 'E', '\r', '\n'};
inline constexpr std::size_t kHeaderSize = 12;
inline constexpr std::uint16_t kKindBinary = 1;

// §3 Blocks: u32 (kind << 24 | payload length), u64 XXH3-64 of the payload seeded with the
// block's index.
inline constexpr std::size_t kBlockHeaderSize = 12;
inline constexpr std::size_t kMaxBlockPayload = (std::size_t{1} << 24) - 1;
inline constexpr std::uint8_t kBlockData = 1;
inline constexpr std::uint8_t kBlockEnd = 2;
inline constexpr std::size_t kEndPayloadSize = 16;  // u64 data bytes, u64 value count

// §13 Format version 2: payload blocks, out of line between data blocks. The block's length
// is that of its descriptor (u64 data size, u64 padding); the padding, the data and a u64
// XXH3-64 of the data (seeded with the block index) follow, outside the 24-bit length.
inline constexpr std::uint8_t kBlockPayload = 3;
inline constexpr std::size_t kPayloadDescriptorSize = 16;
inline constexpr std::uint64_t kPayloadAlignment = 64;  // data offset from the archive's start
inline constexpr std::uint64_t kMaxTensorRank = 64;
inline constexpr std::uint32_t kFirstPayloadVersion = 2;

/// The checksum of block `index` (§3).
inline std::uint64_t block_checksum(const void* payload, std::size_t length, std::uint64_t index) {
  return XXH3_64bits_withSeed(payload, length, index);
}

// §5 Records.
inline constexpr std::uint8_t kRecordTypes = 0x01;
inline constexpr std::uint8_t kRecordValue = 0x02;

// §6 Pointers.
inline constexpr std::uint64_t kPointerNull = 0;
inline constexpr std::uint64_t kPointerNew = 1;
inline constexpr std::uint64_t kPointerFirstReference = 2;

inline void store_u16(unsigned char* p, std::uint16_t v) {
  p[0] = static_cast<unsigned char>(v);
  p[1] = static_cast<unsigned char>(v >> 8);
}
inline void store_u32(unsigned char* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
inline void store_u64(unsigned char* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
inline std::uint16_t load_u16(const unsigned char* p) {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
inline std::uint32_t load_u32(const unsigned char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline std::uint64_t load_u64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace brine::binary_format
