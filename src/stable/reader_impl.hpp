// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// stable/reader_impl.hpp: what StableReader knows of its document, shared by its two ways of
// decoding a value (the state model, reader.cpp; directly into objects, decoder.cpp), and
// the direct decoder's state, kept here so that StableDecoder's public face holds no bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "brine/detail/shared_table.hpp"
#include "brine/stable.hpp"
#include "stable/cursor.hpp"
#include "state/budget.hpp"
#include "util/xxhash.hpp"

namespace brine {

namespace detail {

/// What StableDecoder reads with: the document's cursor and the objects being read. The
/// reader keeps one, so that each value's direct read reuses its buffers.
class StableDirect {
 public:
  StableDirect(StableReader::Impl& document, std::string_view bytes, const Registry& registry,
               const LoadOptions& options, const std::string& source, cbor::Strings& strings)
      : c(bytes, options, source, strings), doc(document), registry(registry), options(options) {}

  cbor::Cursor c;
  StableReader::Impl& doc;
  const Registry& registry;
  const LoadOptions& options;
  std::size_t fields_left = 0;  // of the object being read
  std::uint32_t version = 0;
  std::size_t depth = 0;
  struct Enclosing {
    std::size_t fields_left;
    std::uint32_t version;
  };
  std::vector<Enclosing> saved;  // the objects around the one being read
  SharedObjectTable table;
  // StableDecoder's memory of names: by a field name's pointer (names are string literals),
  // the bytes of the key that last matched it, a stringref or a short literal of 8 bytes at
  // most; by a type's name, likewise the bytes of an object's head up to its fields (tag 27,
  // the array's head, the type name, the version). The same bytes are the same text in a
  // validated document (the stringref table is complete), so a repeated field or type is
  // matched without resolving and comparing its name.
  struct FieldKey {
    const char* name = nullptr;
    std::uint64_t bytes = 0;  // the 8 bytes from the key on, masked to the key's
    std::uint64_t mask = 0;
    std::size_t length = 0;     // of the key's bytes
    std::size_t text_at = 0;    // where the name's text item starts in them
    std::size_t text_size = 0;  // of the name, counted as decoded text
  };
  static constexpr std::size_t kFieldKeys = 64;
  static std::size_t field_key_slot(const char* name) noexcept {
    const auto a = reinterpret_cast<std::uintptr_t>(name);
    return static_cast<std::size_t>(a ^ (a >> 7)) % kFieldKeys;
  }
  FieldKey field_keys[kFieldKeys];
  FieldKey type_keys[kFieldKeys];
  // StableDecoder::find_type's memory: the registry's entry for a type name in the document.
  struct TypeFound {
    std::string_view name;
    const TypeInfo* info = nullptr;
  };
  TypeFound types_found[kFieldKeys];
  // What the value's read counted from, to undo it when the value is read again through
  // the state model.
  std::size_t strings_before = 0;
  std::uint64_t produced_before = 0;
  std::uint64_t shared_before = 0;
  // In a one-pass read (StableReader::read_first), the document's checksum is taken as the
  // decoder goes (doc.hash, null when the document was validated first or checksums are not
  // verified): the bytes up to `hashed` are in it, fed at the end of an object every
  // kHashStep bytes or so, while they are still in cache.
  std::size_t hashed = 0;
  static constexpr std::size_t kHashStep = std::size_t{64} << 10;
  /// Feeds doc.hash the bytes from `hashed` to the cursor.
  void hash_to_cursor() noexcept;
};

}  // namespace detail

struct StableReader::Impl {
  Buffer owned;  // the input when the source is not in memory
  std::string_view bytes;
  std::uint32_t format_version = 0;
  std::vector<std::size_t> values;  // offset of each value
  std::size_t values_end = 0;       // offset just past the last value
  // The values array's head: where it starts (the checksum covers the array) and its count.
  std::size_t values_begin = 0;
  bool values_indefinite = false;
  std::size_t values_declared = 0;
  // False while a one-pass read decodes the first value of a document whose values have not
  // been scanned: `values` then holds the first value's offset only, the stringref table
  // grows as the decoder reads, and validate_after_first_value() completes the rest.
  bool validated = true;
  struct FreeHashState {
    void operator()(XXH3_state_t* s) const noexcept { XXH3_freeState(s); }
  };
  std::unique_ptr<XXH3_state_t, FreeHashState> hash;  // a one-pass read's checksum
  cbor::Strings strings;  // stringref table and string bytes, all values so far
  std::size_t next = 0;
  std::uint64_t shared_seen = 0;  // shareable tags decoded so far
  std::size_t read_directly = 0;  // values StableDecoder read
  detail::StateBudget state;      // what decoding into the state model built, all values
  std::optional<detail::StableDirect> direct;
};

/// The end of a one-pass read: the first value was decoded up to `c.pos`; scans every value
/// after it, checks the document's end and compares its checksum, as StableReader's
/// constructor does. Throws what the constructor would have thrown for what follows.
void validate_after_first_value(StableReader::Impl& impl, cbor::Cursor& c);

}  // namespace brine
