// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// limits.hpp: LoadOptions, the limits every loader enforces on hostile input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace brine {

/// Options and limits for every load. The defaults accept any archive brine itself writes
/// for ordinary programs; raise a limit when a legitimate archive trips it (the error
/// message names the option).
struct LoadOptions {
  /// Maximum nesting of objects (a typed object, or an object behind a pointer, inside
  /// another). Loading recurses once per level, so without a bound a few kilobytes of nested
  /// headers would overflow the stack. Every archive counts the same levels, so a tree that
  /// loads from one encoding loads from the others. Containers between objects (the
  /// `std::vector<Node>` of a tree) recurse too; they are bounded together with the objects
  /// at kNestingPerDepth levels per unit of max_depth (see max_nesting()): a tree of
  /// objects holding vectors of objects takes 2 to 3 per object in every encoding.
  ///
  /// The default fits, for every reader, in a 1 MiB stack in optimized builds and an 8 MiB
  /// stack under AddressSanitizer (tests/hostile/stack_depth_test.cpp checks both). A level
  /// costs 64 to 250 bytes of stack per raw level and 150 to 980 per object in Release,
  /// several times more under AddressSanitizer; docs/limits.md has the measured table, per
  /// reader and build. Raise it for deep linked structures (a 10,000-node linked list saved
  /// through shared_ptr needs 10,000) and give the loading thread a stack larger by the same
  /// factor (about 1 MiB per 1000 levels in Release).
  std::size_t max_depth = 1000;

  /// Maximum element count of one container, string or byte string. Counts are also checked
  /// against the bytes that remain in the input before anything is allocated; this limit
  /// additionally bounds streams whose length is unknown (sockets, pipes). 2^32 - 1 elements.
  std::uint64_t max_elements = 0xFFFFFFFFull;

  /// Maximum number of distinct shared objects (shared_ptr targets) in one loaded object.
  /// The reader keeps a table of them for back references; this bounds that table.
  std::uint64_t max_shared_objects = std::uint64_t{1} << 28;

  /// Bytes of text and byte strings that decoding one stable archive may produce, as a
  /// multiple of the archive's size, plus kStringAllowance. A string reference
  /// (docs/format/stable-v1.md §3) takes 3 to 11 bytes but stands for a whole earlier
  /// string, so without a bound a 1 MB archive could refer to a 500 KB string 200,000 times
  /// and make the reader build 100 GB of text. Every decoded string counts, literal or
  /// referenced, summed over all values read from the archive. brine's writer refers only
  /// to type and field names, whose references expand a few times to a few tens of times;
  /// 64 leaves room for long names and for other CBOR writers. Raise it for an archive that
  /// refers to long strings many times; the allowance keeps small archives from being
  /// cramped.
  std::uint64_t max_string_expansion = 64;

  /// Values that migrations may add while one loaded value is upgraded, as a multiple of
  /// the values it held before, plus kMigrationAllowance. An `add_field` default counts
  /// each value it holds each time it is added, a `move_into` one per object it creates
  /// (steps written in C++ as other functions are not counted). Objects a step adds are
  /// upgraded in turn, so a default holding objects that gain more objects again would grow
  /// a small archive exponentially; this bounds it. 16 is far above what ordinary defaults
  /// add per archived value; raise it for migrations that add large defaults to small
  /// objects.
  std::uint64_t max_migration_growth = 16;

  /// Bytes a stable reader takes from a source that is not in memory (a stream, a pipe, a
  /// socket). The stable archive is validated whole before any value is decoded, so the
  /// reader holds the whole input in memory; without a bound, a peer that never stops
  /// sending would grow that buffer until the process runs out of memory. Memory sources
  /// and files (memory-mapped) are bounded by their size and not counted. 4 GiB: a copy of
  /// that size still fits the memory of an ordinary 64-bit host, and a stream longer than
  /// the largest file a 32-bit offset can address is more likely a runaway peer than an
  /// archive. Raise it for larger archives read from pipes, or read them from a file.
  std::uint64_t max_input_bytes = std::uint64_t{1} << 32;

  /// Memory that the state-model trees built from one archive may take, as a multiple of the
  /// archive's size, plus kStateAllowance. Reading without the C++ types (read_value, the
  /// `brine` tool) and loading an older class version build a Value per item, and a Value
  /// costs about a hundred bytes whatever it holds: an archive of one-byte items (nulls, small
  /// integers, booleans) would otherwise take a hundred times its size, 1 GB for a 10 MB file.
  /// Counted, before anything is allocated for them: kStateValueCost bytes per value, and
  /// the length of every string and byte string; summed over all values read from the
  /// archive. brine's own archives of ordinary data take 5 to 30 times their size; one-byte
  /// items (std::vector<bool>, std::vector<std::int8_t>, empty optionals) take up to 120,
  /// which the allowance covers up to about 2 MB of them. Values read straight into objects
  /// (the current class version) build no tree and are not counted. Raise it to read large
  /// archives of one-byte items through the state model.
  std::uint64_t max_state_expansion = 32;

  /// Verify checksums before decoding: the block checksums of binary archives, the document
  /// checksum of stable ones (whose structure is validated either way). Turn off only for
  /// data you produced yourself in this process; a flipped bit is then decoded instead of
  /// reported.
  bool verify_checksums = true;

  /// Whether the binary reader also hashes every byte of the out-of-line payloads (tensors,
  /// large numeric vectors; docs/format/binary-v1.md §13) and compares it with the checksum
  /// the writer recorded. On by default, like verify_checksums (and off whenever that is
  /// off). Hashing a payload reads all of it, so a mapped load that must touch no page it
  /// does not use (a 100 GB checkpoint of which one tensor is wanted) turns this off, and
  /// says so in its code: the payloads' structure (sizes, alignment, references) is still
  /// checked, their bytes are not.
  bool verify_payload_checksums = true;

  /// Tolerant mode. An archive written by a newer version of a class is refused by default
  /// (a VersionError): loading it into an older class would drop what the newer version
  /// added. With this on, types that keep their unknown fields (BRINE_UNKNOWN_FIELDS) load
  /// from a newer version when every field their setstate reads is present, keep the rest
  /// aside, and write it back unchanged, with the newer version, in stable archives. Types
  /// without UnknownFields are still refused.
  bool accept_newer_class_versions = false;

  /// The part of the string limit that does not depend on the archive's size: 1 MiB.
  static constexpr std::uint64_t kStringAllowance = std::uint64_t{1} << 20;
  /// The bound on decoded string bytes that follows from max_string_expansion for an
  /// archive of `input_size` bytes (saturating, never wrapping).
  std::uint64_t max_string_bytes(std::uint64_t input_size) const noexcept {
    return saturating_add(saturating_multiply(max_string_expansion, input_size), kStringAllowance);
  }

  /// The part of the state-model limit that does not depend on the archive's size: 256 MiB.
  static constexpr std::uint64_t kStateAllowance = std::uint64_t{1} << 28;
  /// What one Value of a state-model tree is counted as: sizeof(Value) (88 bytes on 64-bit
  /// hosts) and the container slot, map node or field name that holds it.
  static constexpr std::uint64_t kStateValueCost = 128;
  /// The bound on state-model bytes that follows from max_state_expansion for an archive of
  /// `input_size` bytes (saturating).
  std::uint64_t max_state_bytes(std::uint64_t input_size) const noexcept {
    return saturating_add(saturating_multiply(max_state_expansion, input_size), kStateAllowance);
  }

  /// The part of the migration limit that does not depend on the value's size: 2^20 values.
  static constexpr std::uint64_t kMigrationAllowance = std::uint64_t{1} << 20;
  /// The bound on values added by migrations that follows from max_migration_growth for a
  /// value that held `values` values before its upgrade (saturating).
  std::uint64_t max_migration_values(std::uint64_t values) const noexcept {
    return saturating_add(saturating_multiply(max_migration_growth, values), kMigrationAllowance);
  }

  /// Levels of raw nesting (objects plus the containers, optionals, variants and encoding
  /// wrappers around them) allowed per level of max_depth.
  static constexpr std::size_t kNestingPerDepth = 4;
  /// The bound on raw nesting that follows from max_depth.
  std::size_t max_nesting() const noexcept {
    return max_depth > static_cast<std::size_t>(-1) / kNestingPerDepth
               ? static_cast<std::size_t>(-1)
               : max_depth * kNestingPerDepth;
  }

 private:
  static constexpr std::uint64_t saturating_multiply(std::uint64_t a, std::uint64_t b) noexcept {
    return b != 0 && a > ~std::uint64_t{0} / b ? ~std::uint64_t{0} : a * b;
  }
  static constexpr std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) noexcept {
    return a > ~std::uint64_t{0} - b ? ~std::uint64_t{0} : a + b;
  }
};

namespace detail {
/// The message of the raw-nesting limit, naming the option that raises it.
inline std::string nesting_message(const LoadOptions& options) {
  return "nesting of objects and containers exceeds " +
         std::to_string(LoadOptions::kNestingPerDepth) + " x LoadOptions::max_depth (" +
         std::to_string(options.max_depth) + ")";
}
/// The message of the state-model memory limit, naming the option that raises it.
inline std::string state_bytes_message(const LoadOptions& options, std::uint64_t input_size,
                                       std::uint64_t needed) {
  return "state-model values need " + std::to_string(needed) +
         " bytes, more than LoadOptions::max_state_expansion (" +
         std::to_string(options.max_state_expansion) + ") x the " + std::to_string(input_size) +
         " bytes of input + " + std::to_string(LoadOptions::kStateAllowance) +
         " (a value costs about LoadOptions::kStateValueCost bytes)";
}
/// The message of the object-depth limit.
inline std::string depth_message(const LoadOptions& options) {
  return "nesting depth exceeds LoadOptions::max_depth (" + std::to_string(options.max_depth) + ")";
}
}  // namespace detail

}  // namespace brine
