// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// layout.hpp: field layouts, the type descriptors the binary archive records per type.
// See docs/format/binary-v1.md §4 "Layout descriptors".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "brine/detail/core.hpp"
#include "brine/detail/export.hpp"

namespace brine {

/// One byte per descriptor node. The numbers are part of the binary format: never renumber.
enum class LayoutCode : std::uint8_t {
  boolean = 0x01,
  i8 = 0x02,
  i16 = 0x03,
  i32 = 0x04,
  i64 = 0x05,
  u8 = 0x06,
  u16 = 0x07,
  u32 = 0x08,
  u64 = 0x09,
  f32 = 0x0A,
  f64 = 0x0B,
  text = 0x10,        ///< UTF-8 string
  path = 0x11,        ///< filesystem path, generic form
  function = 0x12,    ///< registered function name
  bytes = 0x13,       ///< byte string (std::vector<std::byte>)
  dynamic = 0x14,     ///< a self-describing state-model value (brine::Value fields, tools)
  tensor = 0x15,      ///< brine::Tensor: dtype, shape, out-of-line payload (format version 2)
  list = 0x20,        ///< element descriptor follows
  array = 0x21,       ///< varint length, element descriptor
  map = 0x22,         ///< key descriptor, value descriptor
  set = 0x23,         ///< element descriptor
  optional = 0x24,    ///< element descriptor
  tuple = 0x25,       ///< varint arity, element descriptors
  variant = 0x26,     ///< varint alternatives, alternative descriptors
  duration = 0x27,    ///< varint period numerator, varint period denominator, rep descriptor
  time_point = 0x28,  ///< like duration: the time since the clock's epoch
  object = 0x30,      ///< type name (varint length + bytes): the object's fields inline
  shared = 0x31,      ///< static type name: shared pointer (sharing preserved)
  unique = 0x32,      ///< static type name: owning pointer
  weak = 0x33,        ///< static type name: weak pointer
};

/// The recorded layout of one type: its fields, each a name and a descriptor.
struct Layout {
  std::string bytes;              ///< encoded: varint field count, then (name, descriptor)...
  std::uint64_t fingerprint = 0;  ///< XXH3-64 of `bytes`
  std::size_t field_count = 0;
  std::vector<std::string> field_names;  ///< in getstate's order
  std::size_t min_binary_size = 0;       ///< lower bound of one encoded value, for hostile counts
  /// Object types named by the descriptors (inline or behind pointers), to define them first.
  std::vector<const detail::TypeOps*> dependencies;
};

/// Builds a Layout by running a type's getstate hook on a default-constructed instance: the
/// hook's field calls record names and descriptors; values are never read.
class BRINE_API LayoutBuilder {
 public:
  static constexpr bool is_loading = false;

  explicit LayoutBuilder(std::uint32_t version) : version_(version) {}

  /// Hook interface: records field `name` with the descriptor of T.
  template <class T>
  LayoutBuilder& operator()(const char* name, const T& value);
  std::uint32_t version() const noexcept { return version_; }

  // Codec interface.
  void code(LayoutCode c) { current_.push_back(static_cast<char>(c)); }
  void count(std::uint64_t n);
  void type_name(std::string_view name);
  /// Appends `code` + the name of `ops`, and notes the type as a dependency.
  void object(LayoutCode code, const detail::TypeOps& ops);
  template <class T>
  void describe();

  /// Finishes an object layout: the field list recorded by the hook calls.
  Layout finish();
  /// Finishes a bare descriptor of one value (describe<T>() without fields), as top-level
  /// records use; `bytes` is the descriptor alone.
  Layout finish_descriptor();

 private:
  void begin_field(const char* name);

  std::uint32_t version_;
  std::string fields_;   // encoded (name, descriptor) pairs so far
  std::string current_;  // descriptor of the field being recorded
  std::size_t field_count_ = 0;
  std::vector<const detail::TypeOps*> dependencies_;
};

/// How deep a binary layout descriptor may nest: a code (list, optional, map, tuple element,
/// ...) may sit inside at most this many others, so a list of lists nests 64 deep around its
/// innermost element. Descriptors come from archives, so readers refuse deeper ones before
/// recursing into them; BinaryWriter::write_value refuses to write a state tree whose inferred
/// layout would be deeper (LimitError naming this constant).
inline constexpr int kMaxLayoutDepth = 64;

namespace detail {
/// Number of fields the hooks of `ops`'s type write (0 for abstract types).
BRINE_API std::size_t field_count_of(const TypeOps& ops);
/// Minimum bytes one value of `descriptor` takes in the binary encoding; advances `pos`.
/// Throws FormatError on a malformed descriptor.
std::size_t descriptor_min_size(std::string_view descriptor, std::size_t& pos, int depth = 0);
}  // namespace detail

}  // namespace brine
