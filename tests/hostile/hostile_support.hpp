// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// hostile_support.hpp: taking binary archives apart and putting edited ones back together
// with valid block checksums, and recording how a load of hostile bytes ended.
#pragma once

// Header-only xxHash (the same XXH3 the library links), so the tests need no extra library.
#define XXH_INLINE_ALL
#include <cxxabi.h>
#include <gtest/gtest.h>
#include <xxhash.h>

#include <brine/brine.hpp>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

namespace hostile {

// docs/format/binary-v1.md: a 12-byte header, then blocks of u32 (kind << 24 | length),
// u64 XXH3-64 of the payload seeded with the block's index, and the payload.
inline constexpr std::size_t kHeaderSize = 12;
inline constexpr std::size_t kBlockHeaderSize = 12;
inline constexpr std::uint8_t kDataBlock = 1;
inline constexpr std::uint8_t kEndBlock = 2;

struct Block {
  std::uint8_t kind = kDataBlock;
  std::string payload;
  std::size_t offset = 0;  ///< offset of the block's header in the archive it was parsed from
};

struct Archive {
  std::string header;
  std::vector<Block> blocks;
};

inline std::uint32_t load_u32(const std::string& s, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

inline void append_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

inline void append_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

/// Splits a well-formed archive into its header and blocks (fails the test otherwise).
inline Archive parse_archive(const std::string& bytes) {
  Archive a;
  EXPECT_GE(bytes.size(), kHeaderSize);
  a.header = bytes.substr(0, kHeaderSize);
  std::size_t at = kHeaderSize;
  while (at < bytes.size()) {
    EXPECT_LE(at + kBlockHeaderSize, bytes.size()) << "archive ends inside a block header";
    if (at + kBlockHeaderSize > bytes.size()) break;
    std::uint32_t word = load_u32(bytes, at);
    Block b;
    b.kind = static_cast<std::uint8_t>(word >> 24);
    std::size_t length = word & 0xFFFFFF;
    b.offset = at;
    b.payload = bytes.substr(at + kBlockHeaderSize, length);
    EXPECT_EQ(b.payload.size(), length) << "archive ends inside a block";
    a.blocks.push_back(std::move(b));
    at += kBlockHeaderSize + length;
  }
  return a;
}

inline std::uint64_t block_checksum(const std::string& payload, std::uint64_t index) {
  return XXH3_64bits_withSeed(payload.data(), payload.size(), index);
}

/// The bytes of `a`, every block's length and checksum recomputed.
inline std::string serialize(const Archive& a) {
  std::string out = a.header;
  for (std::size_t i = 0; i < a.blocks.size(); ++i) {
    const Block& b = a.blocks[i];
    append_u32(out, static_cast<std::uint32_t>(b.kind) << 24 |
                        static_cast<std::uint32_t>(b.payload.size()));
    append_u64(out, block_checksum(b.payload, i));
    out += b.payload;
  }
  return out;
}

inline std::string varint(std::uint64_t x) {
  std::string out;
  while (x >= 0x80) {
    out.push_back(static_cast<char>(x | 0x80));
    x >>= 7;
  }
  out.push_back(static_cast<char>(x));
  return out;
}

/// Where `marker` occurs in the data blocks of `a`: (block, offset in its payload). The
/// marker must occur exactly once.
struct Location {
  std::size_t block = 0;
  std::size_t offset = 0;
};
inline Location locate(const Archive& a, std::string_view marker) {
  std::optional<Location> found;
  for (std::size_t b = 0; b < a.blocks.size(); ++b) {
    const std::string& p = a.blocks[b].payload;
    for (std::size_t at = p.find(marker); at != std::string::npos; at = p.find(marker, at + 1)) {
      EXPECT_FALSE(found.has_value()) << "marker '" << marker << "' occurs twice";
      found = Location{b, at};
    }
  }
  EXPECT_TRUE(found.has_value()) << "marker '" << marker << "' not found";
  return found.value_or(Location{});
}

/// `bytes` with `n` payload bytes starting `delta` bytes from the start of `marker`
/// (negative: before it) replaced by `replacement`, lengths and checksums fixed: an archive
/// that is well-formed at the block level and hostile inside.
inline std::string edit_at(const std::string& bytes, std::string_view marker, std::ptrdiff_t delta,
                           std::size_t n, const std::string& replacement) {
  Archive a = parse_archive(bytes);
  Location at = locate(a, marker);
  std::ptrdiff_t start = static_cast<std::ptrdiff_t>(at.offset) + delta;
  EXPECT_GE(start, 0);
  EXPECT_LE(static_cast<std::size_t>(start) + n, a.blocks[at.block].payload.size());
  a.blocks[at.block].payload.replace(static_cast<std::size_t>(start), n, replacement);
  return serialize(a);
}

/// The payload byte `delta` bytes from the start of `marker`.
inline unsigned char byte_at(const std::string& bytes, std::string_view marker,
                             std::ptrdiff_t delta) {
  Archive a = parse_archive(bytes);
  Location at = locate(a, marker);
  return static_cast<unsigned char>(a.blocks[at.block].payload.at(
      static_cast<std::size_t>(static_cast<std::ptrdiff_t>(at.offset) + delta)));
}

/// The offset in the archive of the byte `delta` bytes from the start of `marker` (for
/// archives with one data block before the marker, edits of the same size keep it valid).
inline std::uint64_t offset_at(const std::string& bytes, std::string_view marker,
                               std::ptrdiff_t delta) {
  Archive a = parse_archive(bytes);
  Location at = locate(a, marker);
  return a.blocks[at.block].offset + kBlockHeaderSize +
         static_cast<std::uint64_t>(static_cast<std::ptrdiff_t>(at.offset) + delta);
}

/// The archive of the values `write` writes with a BinaryWriter.
inline std::string archive_of(brine::Registry& registry,
                              const std::function<void(brine::BinaryWriter&)>& write) {
  brine::Buffer out;
  brine::BufferSink sink(out);
  brine::BinaryWriter writer(sink, registry);
  write(writer);
  writer.finish();
  return std::string(out.view());
}

template <class T>
std::string archive_of(const T& value, brine::Registry& registry) {
  return archive_of(registry, [&](brine::BinaryWriter& w) { w.write(value); });
}

/// The readable name of a C++ type.
inline std::string type_name(const std::type_info& type) {
  int status = 0;
  char* name = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  std::string result = status == 0 && name != nullptr ? name : type.name();
  std::free(name);
  return result;
}

enum class Via { memory, stream };
inline const char* via_name(Via v) { return v == Via::memory ? "MemorySource" : "StreamSource"; }

/// How one load of hostile bytes ended.
struct Outcome {
  enum Kind { loaded_same, loaded_different, brine_error, foreign_exception } kind = loaded_same;
  brine::errc code{};
  std::string what;
  std::string type;  ///< dynamic type of the exception
  std::optional<std::uint64_t> byte_offset;
  bool internal = false;  ///< a brine::InternalError: a bug, never the verdict on input
};

inline std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  switch (o.kind) {
    case Outcome::loaded_same:
      return os << "loaded the original value";
    case Outcome::loaded_different:
      return os << "loaded a different value";
    case Outcome::brine_error:
      os << o.type << " (code " << static_cast<int>(o.code) << "): " << o.what;
      if (o.byte_offset) os << " [byte_offset " << *o.byte_offset << "]";
      return os;
    case Outcome::foreign_exception:
      return os << "non-brine exception " << o.type << ": " << o.what;
  }
  return os;
}

/// Reads every value a test archive holds and says whether they equal the originals. It
/// must also leave nothing behind (break cycles) whatever it loaded.
using ReadAll = std::function<bool(brine::BinaryReader&)>;

/// Runs `read_all` on `bytes` through a reader over a memory or stream source, requires the
/// end marker after the values, and reports how it ended. Exceptions that are not brine's
/// are recorded, not rethrown, so the caller can name the offending input.
inline Outcome run_load(const std::string& bytes, Via via, const brine::Registry& registry,
                        const brine::LoadOptions& options, const ReadAll& read_all) {
  Outcome o;
  try {
    bool same;
    if (via == Via::memory) {
      brine::MemorySource source(bytes);
      brine::BinaryReader reader(source, registry, options);
      same = read_all(reader) && reader.at_end();
    } else {
      std::istringstream stream(bytes);
      brine::StreamSource source(stream);
      brine::BinaryReader reader(source, registry, options);
      same = read_all(reader) && reader.at_end();
    }
    o.kind = same ? Outcome::loaded_same : Outcome::loaded_different;
  } catch (const brine::Error& e) {
    o.kind = Outcome::brine_error;
    o.code = e.code();
    o.what = e.what();
    o.type = type_name(typeid(e));
    o.byte_offset = e.context().byte_offset;
    o.internal = dynamic_cast<const brine::InternalError*>(&e) != nullptr;
  } catch (const std::exception& e) {
    o.kind = Outcome::foreign_exception;
    o.what = e.what();
    o.type = type_name(typeid(e));
  }
  return o;
}

/// Runs `load`, which must throw exactly `E` (not a subclass) with `substring` in what();
/// returns the exception for checks of code() and context().
template <class E, class F>
E expect_error(F&& load, const std::string& substring) {
  try {
    load();
  } catch (const E& e) {
    EXPECT_EQ(type_name(typeid(e)), type_name(typeid(E))) << e.what();
    EXPECT_NE(std::string(e.what()).find(substring), std::string::npos) << "message: " << e.what();
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected " << type_name(typeid(E)) << ", got " << type_name(typeid(e)) << ": "
                  << e.what();
    return E(brine::errc::internal_error, "wrong exception");
  }
  ADD_FAILURE() << "expected " << type_name(typeid(E)) << " with '" << substring
                << "', nothing thrown";
  return E(brine::errc::internal_error, "nothing thrown");
}

}  // namespace hostile
