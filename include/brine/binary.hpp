// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// binary.hpp: the short-term positional archive; older class versions go through migrations.
// See docs/format/binary-v1.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <vector>

#include "brine/codec.hpp"
#include "brine/detail/export.hpp"
#include "brine/detail/registry_core.hpp"
#include "brine/detail/shared_table.hpp"
#include "brine/detail/stream_type.hpp"
#include "brine/detail/varint.hpp"
#include "brine/error.hpp"
#include "brine/io.hpp"
#include "brine/limits.hpp"
#include "brine/state.hpp"
#include "brine/version.hpp"

namespace brine {

/// Options of a BinaryWriter.
struct BinaryWriteOptions {
  /// Flush the sink after every top-level object, so a peer reading a socket or pipe
  /// receives each object as soon as it is written.
  bool flush_each_object = false;
  /// Payload bytes per checksummed block, at most 16 MiB - 1. Smaller blocks let a streaming
  /// reader hold less in memory; larger ones cost fewer headers. The default, 64 KiB, stays
  /// in the processor's cache between being checksummed and being written or decoded, where
  /// a block of 1 MiB is read from memory twice; its 12-byte header costs 0.02%.
  std::size_t block_size = std::size_t{64} << 10;
  /// The LoadOptions::max_depth of the readers the archive is for. write_value and
  /// write_values refuse (LimitError) a state tree nested deeper than such a reader accepts:
  /// objects inside objects beyond max_depth, or levels beyond max_nesting(), counted as the
  /// reader counts them. Raise both together.
  std::size_t max_depth = LoadOptions{}.max_depth;
};

namespace detail {
class ValueDecoder;
class ValueEncoder;
struct StreamType;
struct TensorRef;
struct TopLevelDescriptor;
class WriterTypeTable;
}  // namespace detail

/// Writes objects to a byte sink in the binary archive format: positional values, a type
/// definition (name, version, field layout) before the first use of each type, checksummed
/// blocks, and an end marker written by finish(). Several objects can be written one after
/// another and are read back in order.
///
/// Example:
///   brine::Buffer bytes;
///   brine::BufferSink sink(bytes);
///   brine::BinaryWriter writer(sink);
///   writer.write(model);
///   writer.write(optimizer_state);
///   writer.finish();
class BRINE_API BinaryWriter {
 public:
  static constexpr bool is_loading = false;

  /// `sink` and `registry` must outlive the writer. Types reached while saving that are not
  /// registered yet are registered in `registry` on first use.
  explicit BinaryWriter(ByteSink& sink, Registry& registry = default_registry(),
                        const BinaryWriteOptions& options = {});
  ~BinaryWriter();
  BinaryWriter(const BinaryWriter&) = delete;
  BinaryWriter& operator=(const BinaryWriter&) = delete;

  /// Writes one top-level value (an object, or any supported structure of them). Throws
  /// SchemaError for an unregistered dynamic type or function, IoError when the sink fails.
  template <class T>
  void write(const T& value);
  /// Writes a state-model tree without its C++ types (for tools: convert, migrate). The
  /// layouts are inferred from the values: integers as 64-bit, floats as float64, objects of
  /// one type inline, mixed or shared objects behind shared pointers, absent fields as
  /// optional. A program loading the result reads it through the state-model path. Throws
  /// SchemaError when values at one position cannot share a layout (text here, a list there).
  void write_value(const Value& value);
  /// Writes several state-model trees as consecutive top-level values, with one layout per
  /// type that fits all of them. write_value() fixes a type's layout from the first value
  /// that holds it and refuses a later value that needs another (an optional field empty in
  /// the first value and set in the second); this infers the layouts over every value first.
  void write_values(const std::vector<Value>& values);
  /// Writes the end marker and flushes. Nothing may be written after it.
  void finish();
  std::uint64_t objects_written() const noexcept { return objects_written_; }

  // Hook interface: positional, so names only matter to the layout.
  template <class T>
  BinaryWriter& operator()(const char* /*name*/, const T& value) {
    Codec<T>::save(*this, value);
    return *this;
  }
  /// Always the current version of the type being written.
  std::uint32_t version() const noexcept { return version_; }
  Registry& registry() const noexcept { return registry_; }

  // Codec interface.
  template <class T>
  void save(const T& value) {
    Codec<T>::save(*this, value);
  }
  void write_bool(bool b) { put_byte(b ? 1 : 0); }
  template <class T>
  void write_number(T x) {
    put_fixed(x);
  }
  template <class T>
  void write_numbers(const T* values, std::size_t n) {
    static_assert(std::is_arithmetic_v<T>);
    put_raw(values, n * sizeof(T));
  }
  template <class T>
  void write_number_list(const T* values, std::size_t n) {
    static_assert(std::is_arithmetic_v<T>);
    put_counted(n, values, n * sizeof(T));
  }
  void write_text(std::string_view text) { put_counted(text.size(), text.data(), text.size()); }
  void write_bytes(const void* bytes, std::size_t n) { put_counted(n, bytes, n); }
  void begin_list(std::size_t n) { put_varint(n); }
  void end_list() {}
  template <class K>
  void begin_map(std::size_t n) {
    put_varint(n);
  }
  template <class K, class V>
  void save_entry(const K& key, const V& value) {
    Codec<K>::save(*this, key);
    Codec<V>::save(*this, value);
  }
  void end_map() {}
  void begin_tuple(std::size_t) {}
  void end_tuple() {}
  void write_optional(bool present) { put_byte(present ? 1 : 0); }
  void begin_variant(std::size_t index) { put_varint(index); }
  void end_variant() {}
  template <class Rep>
  void write_duration(Rep count, std::intmax_t, std::intmax_t) {
    put_fixed(count);
  }
  void write_path(const std::string& generic) { write_text(generic); }
  void write_function(void (*pointer)(), const std::type_info& signature);
  void write_function_name(const std::string& name) { write_text(name); }
  /// A self-describing state-model value (LayoutCode::dynamic).
  void write_dynamic(const Value& value);
  /// A tensor (LayoutCode::tensor): its dtype, shape and a reference into an out-of-line
  /// payload, 64-byte aligned in the archive, which holds its storage. A storage that several
  /// tensors of one top-level value view is written once (docs/format/binary-v1.md §13).
  void write_tensor(const Tensor& tensor);
  template <class T>
  void write_object(const T& value) {
    if constexpr (detail::has_unknown_fields<T>::value) {
      if (!Access::unknown_fields(value).empty()) refuse_unknown_fields(TypeDeclaration<T>::name);
    }
    std::uint32_t saved = version_;
    version_ = TypeDeclaration<T>::version;
    detail::call_getstate(*this, value);
    version_ = saved;
  }
  template <class T>
  void write_shared(const T* object, bool weak = false);
  template <class T>
  void write_unique(const T* object);
  template <class T>
  void write_fields(const T& value) {
    write_object(value);
  }

 private:
  template <class T>
  void put_fixed(T x) {
    static_assert(std::is_arithmetic_v<T>);
    if (static_cast<std::size_t>(limit_ - cur_) < sizeof(T)) next_block();
    std::memcpy(cur_, &x, sizeof(T));  // little-endian hosts only; see write_file header
    cur_ += sizeof(T);
  }
  void put_byte(std::uint8_t b) {
    if (cur_ == limit_) next_block();
    *cur_++ = b;
  }
  void put_varint(std::uint64_t x) {
    if (static_cast<std::size_t>(limit_ - cur_) < 10) next_block();
    while (x >= 0x80) {
      *cur_++ = static_cast<std::uint8_t>(x | 0x80);
      x >>= 7;
    }
    *cur_++ = static_cast<std::uint8_t>(x);
  }
  void put_raw(const void* bytes, std::size_t n) {
    if (static_cast<std::size_t>(limit_ - cur_) >= n) {
      if (n != 0) std::memcpy(cur_, bytes, n);
      cur_ += n;
    } else {
      put_raw_slow(bytes, n);
    }
  }
  /// A count and `size` bytes (a text, a list of numbers): one bounds check for both.
  void put_counted(std::uint64_t count, const void* bytes, std::size_t size) {
    if (static_cast<std::size_t>(limit_ - cur_) >= detail::kMaxVarintBytes &&
        static_cast<std::size_t>(limit_ - cur_) - detail::kMaxVarintBytes >= size) {
      while (count >= 0x80) {
        *cur_++ = static_cast<std::uint8_t>(count | 0x80);
        count >>= 7;
      }
      *cur_++ = static_cast<std::uint8_t>(count);
      copy_short(cur_, static_cast<const std::uint8_t*>(bytes), size);
      cur_ += size;
    } else {
      put_varint(count);
      put_raw(bytes, size);
    }
  }
  /// Copies `n` bytes. The usual text of a record (a name, a map key) and a short list of
  /// numbers are under 64 bytes, where a call to memcpy costs more than the copy: those are
  /// copied here with a few fixed-size moves, overlapping rather than looping byte by byte.
  static void copy_short(std::uint8_t* to, const std::uint8_t* from, std::size_t n) {
    if (n > 64) {
      std::memcpy(to, from, n);
    } else if (n >= 16) {
      for (std::size_t i = 0; i + 16 < n; i += 16) std::memcpy(to + i, from + i, 16);
      std::memcpy(to + n - 16, from + n - 16, 16);
    } else if (n >= 8) {
      std::memcpy(to, from, 8);
      std::memcpy(to + n - 8, from + n - 8, 8);
    } else if (n >= 4) {
      std::memcpy(to, from, 4);
      std::memcpy(to + n - 4, from + n - 4, 4);
    } else if (n != 0) {
      to[0] = from[0];
      to[n / 2] = from[n / 2];
      to[n - 1] = from[n - 1];
    }
  }
  friend class detail::ValueEncoder;
  void put_raw_slow(const void* bytes, std::size_t n);
  /// The payload holding `tensor`'s bytes, written now unless this value wrote it already;
  /// sets `offset` to where the tensor's bytes start in it.
  std::uint64_t payload_for(const Tensor& tensor, std::uint64_t& offset);
  /// Writes a payload block (between data blocks) of `n` bytes; returns its index.
  std::uint64_t write_payload(const std::byte* bytes, std::size_t n);
  /// Hands bytes to the output outside any data block (payload blocks).
  void emit(const void* bytes, std::size_t n);
  /// Bytes of the archive written so far, header included.
  std::uint64_t archive_offset() const noexcept;
  /// The binary layout is positional: fields kept from a newer version have no place in it.
  [[noreturn]] static void refuse_unknown_fields(std::string_view type_name);
  void next_block();
  void begin_block();
  void seal_block(std::uint8_t kind);
  void begin_record(const std::type_info& type, void (*describe)(LayoutBuilder&));
  void end_record();
  /// After a failed read: frees the half-loaded graph (shared_ptr cycles included) and
  /// refuses every later read.
  void abandon_record() noexcept;
  void write_new_object(const void* most_derived, const std::type_info& dynamic_type,
                        const detail::TypeOps& static_ops);
  void check_writable() const;

  ByteSink& sink_;
  Registry& registry_;
  BinaryWriteOptions options_;
  Buffer own_;
  Buffer* out_;  // the sink's buffer when it has one, else own_
  std::uint8_t* cur_ = nullptr;
  std::uint8_t* limit_ = nullptr;  // end of the current block's payload area
  std::size_t block_start_ = 0;    // offset of the current block's header in *out_
  // Memory the sink lent for the current block (ByteSink::lend), which the block is built in
  // instead of *out_, and the block's header in it (after the archive's header, first time).
  std::uint8_t* loan_ = nullptr;
  std::uint8_t* loan_block_ = nullptr;
  std::uint64_t block_index_ = 0;
  std::uint64_t logical_bytes_ = 0;
  std::uint64_t objects_written_ = 0;
  std::size_t archive_start_ = 0;  // size of the sink's buffer before the archive began
  std::uint64_t sent_ = 0;         // bytes handed to the sink (when out_ is own_)
  std::uint32_t version_ = 0;
  bool header_written_ = false;
  bool finished_ = false;
  detail::PointerIdMap ids_;
  std::unique_ptr<detail::WriterTypeTable> types_;
};

/// Reads what a BinaryWriter wrote. Values of types whose version and layout match this
/// build are read straight into objects; older versions are decoded through the layout the
/// archive recorded, migrated, and handed to setstate.
class BRINE_API BinaryReader {
 public:
  static constexpr bool is_loading = true;

  /// `source` and `registry` must outlive the reader. Reads and checks the archive header.
  /// Throws FormatError when the input is not a brine binary archive, VersionError when it
  /// was written by a newer brine.
  explicit BinaryReader(ByteSource& source, const Registry& registry = default_registry(),
                        const LoadOptions& options = {});
  ~BinaryReader();
  struct Impl;
  BinaryReader(const BinaryReader&) = delete;
  BinaryReader& operator=(const BinaryReader&) = delete;

  /// Reads the next top-level value as a T; returns it whole or throws. Throws FormatError
  /// (truncated, corrupt, checksum), LimitError, VersionError (newer class version),
  /// SchemaError (wrong or unknown type, missing field), MigrationError.
  template <class T>
  T read() {
    T value{};
    read(value);
    return value;
  }
  /// Reads the next top-level value into `out`; on failure `out` keeps its old value only if
  /// T's move assignment does not throw (the value is built in a temporary first).
  template <class T>
  void read(T& out);
  /// Moves past the next top-level value without decoding it: walks its bytes by the recorded
  /// descriptors (numbers, arrays and tuples of them in one step), checking the block
  /// checksums, counts and pointers as a read does, and reading the type definitions it holds,
  /// which later values use; builds no object and no Value. Costs a pass over the value's
  /// bytes. Throws like read() (FormatError at the end marker, LimitError, corrupt input).
  void skip();
  /// True when the end marker is next: the archive holds no more values.
  bool at_end();
  /// Skips every value left and reads the end marker: what a caller does after the values it
  /// wanted so that an archive cut short (its end marker lost) is an error, not a silent
  /// success. Throws like skip().
  void skip_to_end() {
    while (!at_end()) skip();
  }
  /// Types defined in the archive so far: (name, version, layout fingerprint).
  struct TypeEntry {
    std::string name;
    std::uint32_t version;
    std::uint64_t fingerprint;
  };
  std::vector<TypeEntry> types() const;
  /// Reads the next top-level value into the state model without any C++ type (for tools).
  Value read_value();

  // Hook interface.
  template <class T>
  BinaryReader& operator()(const char* name, T& value) {
    try {
      Codec<T>::load(*this, value);
    } catch (Error& e) {
      // The field path is built as a failure unwinds, field by field and index by index
      // (the containers' codecs add those): reading that succeeds tracks nothing.
      detail::prepend_error_field(e, name);
      throw;
    }
    return *this;
  }
  /// The version of the object being read (on this path always the current version: older
  /// versions are read through the state model, where version() reports them).
  std::uint32_t version() const noexcept { return version_; }
  bool has(const char*) const noexcept { return true; }
  template <class T>
  bool optional_field(const char* name, T& value) {
    (*this)(name, value);
    return true;
  }
  const Registry& registry() const noexcept { return registry_; }

  // Codec interface.
  template <class T>
  void load(T& value) {
    Codec<T>::load(*this, value);
  }
  bool read_bool() {
    std::uint8_t b = get_byte();
    if (b > 1) fail_bool(b);
    return b != 0;
  }
  template <class T>
  T read_number() {
    T x;
    get_fixed(x);
    return x;
  }
  template <class T>
  void read_numbers(T* values, std::size_t n) {
    get_raw(values, n * sizeof(T));
  }
  template <class T, class Alloc>
  void read_number_list(std::vector<T, Alloc>& out);
  void read_text(std::string& out) {
    std::size_t n = read_count(1);
    if (static_cast<std::size_t>(end_ - cur_) >= n) {
      out.assign(reinterpret_cast<const char*>(cur_), n);
      cur_ += n;
    } else {
      read_text_slow(out, n);
    }
  }
  /// Reads a text value and returns a view of it: into the input when the text lies within
  /// the current block, else into a buffer of the reader's. Valid until the next read. Lets
  /// a codec construct a string where it finally lives (a map node) instead of moving it
  /// there from a temporary.
  std::string_view read_text_view() {
    std::size_t n = read_count(1);
    if (static_cast<std::size_t>(end_ - cur_) >= n) {
      std::string_view text(reinterpret_cast<const char*>(cur_), n);
      cur_ += n;
      return text;
    }
    return read_text_view_slow(n);
  }
  void read_bytes(std::vector<std::uint8_t>& out);
  /// Reads a container count, checked against LoadOptions::max_elements and against the
  /// bytes left in the input (`min_element_size` each) before the caller allocates.
  std::size_t begin_list(std::size_t min_element_size) { return read_count(min_element_size); }
  void end_list() {}
  /// How many elements of `element_size` bytes may be reserved up front for a count from
  /// begin_list. The count was checked against the input's bytes at the archived element
  /// size, but an element can be much larger in memory than in the archive (an empty
  /// optional of a 1 KiB struct is one byte), and a stream's count was not checked at all:
  /// reserving is bounded in bytes, to 64 KiB or (known length) 16 bytes per input byte;
  /// beyond that the container grows as elements actually arrive.
  std::size_t reserve_limit(std::size_t n, std::size_t element_size = 1) const noexcept {
    std::uint64_t budget = kReserveFloor;
    if (remaining_known_) {
      std::uint64_t input = static_cast<std::uint64_t>(end_ - cur_) + remaining_after_block_;
      if (input < (std::uint64_t{1} << 58)) budget += input * 16;
    }
    std::uint64_t each = element_size == 0 ? 1 : element_size;
    return n <= budget / each ? n : static_cast<std::size_t>(budget / each);
  }
  template <class K>
  std::size_t begin_map(std::size_t min_entry_size) {
    return read_count(min_entry_size);
  }
  template <class K, class V>
  void load_entry(K& key, V& value) {
    Codec<K>::load(*this, key);
    Codec<V>::load(*this, value);
  }
  void end_map() {}
  void begin_tuple(std::size_t) {}
  void end_tuple() {}
  bool read_optional() { return read_bool(); }
  std::size_t begin_variant(std::size_t alternatives) {
    std::uint64_t index = get_varint();
    if (index >= alternatives) fail_variant_index(index, alternatives);
    return static_cast<std::size_t>(index);
  }
  void end_variant() {}
  template <class Rep>
  Rep read_duration(std::intmax_t, std::intmax_t) {
    return read_number<Rep>();
  }
  std::string read_path() {
    std::string s;
    read_text(s);
    return s;
  }
  void (*read_function(const std::type_info& signature))();
  const FunctionInfo& read_function_info(const std::type_info& signature);
  template <class T>
  void read_object(T& value);
  template <class T>
  void read_shared(std::shared_ptr<T>& out);
  template <class T>
  void read_unique(std::unique_ptr<T>& out);
  template <class T>
  void read_fields(T& value) {
    detail::call_setstate(*this, value);
  }
  /// A self-describing state-model value (LayoutCode::dynamic).
  Value read_dynamic();
  /// A tensor (LayoutCode::tensor). From a file (FileSource, load_binary(path)) it views the
  /// file's mapping, which it keeps alive: no byte is copied. From memory or a stream it holds
  /// owned memory; tensors that shared a storage when written share one again.
  void read_tensor(Tensor& out);

  /// Throws the exception class that fits `code`, with the reader's position as context.
  [[noreturn]] void fail(errc code, const std::string& message) const;

 private:
  friend class detail::ValueDecoder;
  template <class T>
  void get_fixed(T& x) {
    if (static_cast<std::size_t>(end_ - cur_) >= sizeof(T)) {
      std::memcpy(&x, cur_, sizeof(T));
      cur_ += sizeof(T);
    } else {
      get_raw_slow(&x, sizeof(T));
    }
  }
  std::uint8_t get_byte() {
    if (cur_ == end_) {
      std::uint8_t b;
      get_raw_slow(&b, 1);
      return b;
    }
    return *cur_++;
  }
  std::uint64_t get_varint() {
    // Most varints are counts and lengths below 128: one byte.
    if (cur_ != end_ && *cur_ < 0x80) return *cur_++;
    std::uint64_t x;
    switch (detail::decode_varint_long(cur_, end_, x)) {
      case detail::VarintStatus::ok:
        return x;
      case detail::VarintStatus::overlong:
        fail_varint();
      case detail::VarintStatus::truncated:
        break;
    }
    // It runs past the block (into the next one, or past the input's end).
    return get_varint_slow();
  }
  void get_raw(void* bytes, std::size_t n) {
    if (static_cast<std::size_t>(end_ - cur_) >= n) {
      if (n != 0) std::memcpy(bytes, cur_, n);
      cur_ += n;
    } else {
      get_raw_slow(bytes, n);
    }
  }
  /// A count, checked against LoadOptions::max_elements and (for inputs of known length)
  /// the bytes left, before the caller allocates for it.
  std::size_t read_count(std::size_t min_element_size) {
    std::uint64_t n = get_varint();
    if (min_element_size == 0) return charge_free_elements(n, "count");
    // Fast path: small enough for the current block alone. `n * each` cannot overflow:
    // n is at most a block's size (< 2^24) and element sizes are far below 2^40.
    std::uint64_t each = min_element_size == 0 ? 1 : min_element_size;
    auto in_block = static_cast<std::uint64_t>(end_ - cur_);
    if (n <= in_block && n * each <= in_block && n <= options_.max_elements)
      return static_cast<std::size_t>(n);
    return check_count(n, each);
  }
  std::size_t check_count(std::uint64_t n, std::uint64_t each);
  /// Admits `n` elements that take no bytes in the archive (values of field-less types,
  /// empty tuples). Their count costs the input nothing, so a few bytes could otherwise ask
  /// for billions of them (the fuzzer built 268 million from a 617-byte stream), and nested
  /// counts would multiply. A record may create at most one such element per input byte
  /// from its start (to the input's end, or for a stream to the end of the block loaded
  /// last), plus kFreeElementSlack; all counts of the record draw on that one allowance.
  /// `what` names the count in errors.
  std::size_t charge_free_elements(std::uint64_t n, const char* what);
  /// A type-table string (type name, layout): bounded by the input, not by max_elements,
  /// which is a limit on the program's data.
  void read_table_text(std::string& out);
  static constexpr std::uint64_t kReserveFloor = 64 * 1024;
  static constexpr std::uint64_t kFreeElementSlack = 4096;
  void read_text_slow(std::string& out, std::size_t n);
  std::string_view read_text_view_slow(std::size_t n);
  std::uint64_t get_varint_slow();
  void get_raw_slow(void* bytes, std::size_t n);
  void skip_raw(std::size_t n);
  bool load_block();
  /// Reads the payload block whose header was just read (§13), registering its data.
  void read_payload_block(std::uint64_t header_offset, std::size_t length, std::uint64_t checksum);
  /// Reads and checks a tensor's dtype, shape and payload reference.
  void read_tensor_ref(detail::TensorRef& ref);
  /// The tensor `ref` describes, on its payload's storage.
  Tensor make_tensor(detail::TensorRef& ref);
  void read_header();
  std::uint64_t position() const noexcept;
  ErrorContext context() const;
  /// Counts values and string bytes the state-model decoders are about to build
  /// (LoadOptions::max_state_expansion, against the bytes read so far).
  void charge_state(std::uint64_t values, std::uint64_t bytes = 0);
  /// Counts the `n` elements (of `each` values) of a container about to be decoded and
  /// returns how many to reserve. With the input's size known they are counted at once and
  /// reserved whole (grown by doubling, a list holds three times its elements while it
  /// moves); from a stream each is counted as it comes (charge_element), so that a count
  /// beyond the stream's end is found truncated, and the reservation is reserve_limit's.
  std::size_t charge_elements(std::size_t n, std::size_t element_size, std::uint64_t each = 1) {
    if (!remaining_known_) return reserve_limit(n, element_size);
    charge_state(static_cast<std::uint64_t>(n) * each);
    return n;
  }
  void charge_element(std::uint64_t each = 1) {
    if (!remaining_known_) charge_state(each);
  }

  // Top-level records.
  /// Moves to the next object record (consuming type definitions); false at the end marker.
  bool next_object_record();
  /// Compares the record's recorded descriptor with T's; true when T can be read directly.
  bool record_matches(const std::type_info& type, void (*describe)(LayoutBuilder&));
  void end_record();
  /// After a failed read: frees the half-loaded graph (shared_ptr cycles included) and
  /// refuses every later read.
  void abandon_record() noexcept;
  /// Reads a value of the record into the state model (the descriptor path) and loads it.
  void read_record_through_state(void (*load)(StateReader&, void*), void* out);
  Value decode_record_value();

  // Objects.
  detail::StreamType& resolve(const detail::TypeOps& ops);
  detail::StreamType& read_type_ref();
  void parse_type_definitions();
  /// Reads the fields of an object of `type` (the fast path: this build's version and
  /// layout) with `read`. The objects being read are counted, not recorded: an error's
  /// context gets the innermost object's type and version as it unwinds through here
  /// (note_object), so that reading that succeeds pays a counter, not a frame per object.
  template <class Read>
  void read_fast_object(const detail::StreamType& type, Read&& read) {
    if (depth_ >= options_.max_depth) fail_depth();
    ++depth_;
    const std::uint32_t outer_version = version_;
    version_ = type.version;
    try {
      read();
    } catch (Error& e) {
      note_object(e, type);
      throw;
    }
    version_ = outer_version;
    --depth_;
  }
  static void note_object(Error& e, const detail::StreamType& type);
  // Out of line, so that the inline reads above keep the message's temporaries out of
  // the frames of the recursive decoders that call them.
  [[noreturn]] void fail_bool(std::uint8_t b) const;
  [[noreturn]] void fail_varint() const;
  // fail() for an error `inner` found in the layout or descriptor of `size` bytes just read:
  // at the archive offset of the byte `inner` names.
  [[noreturn]] void fail_in_table_text(errc code, const std::string& message, std::size_t size,
                                       const ErrorContext& inner) const;
  [[noreturn]] void fail_dynamic_kind(std::uint8_t kind) const;
  [[noreturn]] void fail_variant_index(std::uint64_t index, std::size_t alternatives) const;
  [[noreturn]] void fail_depth() const;
  [[noreturn]] void fail_nesting() const;
  [[noreturn]] void fail_undefined_reference(std::uint64_t id) const;
  [[noreturn]] void fail_shared_objects() const;
  // The containers of read_dynamic, each in a frame of its own (see value_decoder.cpp).
  Value read_dynamic_string(ValueKind kind);
  Value read_dynamic_list();
  Value read_dynamic_tensor();
  Value read_dynamic_map();
  Value read_dynamic_object();
  void read_object_slow(detail::StreamType& type, const detail::TypeOps& ops, void* out);
  using PointerTarget = detail::PointerTarget;
  PointerTarget read_pointer(const detail::TypeOps& static_ops, bool shared);

  ByteSource& source_;
  const Registry& registry_;
  LoadOptions options_;
  bool remaining_known_ = false;
  std::uint64_t remaining_after_block_ = 0;  // source bytes after the current block, if known
  const std::uint8_t* cur_ = nullptr;
  const std::uint8_t* end_ = nullptr;
  const std::uint8_t* block_begin_ = nullptr;
  std::uint64_t block_offset_ = 0;  // source offset of the current block's payload
  std::uint64_t block_index_ = 0;
  Buffer block_buffer_;  // payload of the current block for non-direct sources
  bool end_reached_ = false;
  bool in_record_ = false;
  // Set when a read fails half-way: the cursor is somewhere inside a record, and a record
  // has no resynchronization marker, so every later read must refuse rather than decode
  // from the middle of one.
  bool poisoned_ = false;
  std::uint64_t record_start_ = 0;           // byte offset of the current record
  std::uint64_t free_elements_charged_ = 0;  // see charge_free_elements
  std::uint32_t format_version_ = 0;
  std::uint32_t version_ = 0;
  std::size_t depth_ = 0;  // objects being read on the fast path (read_fast_object)
  std::unique_ptr<Impl> impl_;
  detail::SharedObjectTable* table_;
  std::uint64_t next_id_ = 0;
  // Raw nesting of the value being decoded without types (descriptor decoder and dynamic
  // values together), on top of depth_; bounded by LoadOptions::max_nesting().
  std::size_t nesting_ = 0;
  // One-entry cache of resolve(): nested objects of one type usually repeat.
  const detail::TypeOps* last_ops_ = nullptr;
  detail::StreamType* last_type_ = nullptr;
};

// ---------------------------------------------------------------------------------------
// Convenience entry points.

/// Saves `value` as a binary archive to `path`, atomically (temporary file, fsync, rename).
/// Throws IoError, SchemaError.
template <class T>
void save_binary(const std::filesystem::path& path, const T& value,
                 Registry& registry = default_registry()) {
  AtomicFileSink sink(path);
  BinaryWriter writer(sink, registry);
  writer.write(value);
  writer.finish();
  sink.commit();
}

/// Loads the first value of the binary archive at `path` as a T, then checks the rest of the
/// archive through its end marker (later values are validated and skipped), so that a file cut
/// short never loads as if whole. Throws IoError, FormatError (truncated or corrupt anywhere in
/// the archive), VersionError, SchemaError, MigrationError.
template <class T>
T load_binary(const std::filesystem::path& path, const Registry& registry = default_registry(),
              const LoadOptions& options = {}) {
  FileSource source(path);
  try {
    BinaryReader reader(source, registry, options);
    T value = reader.read<T>();
    reader.skip_to_end();
    return value;
  } catch (Error& e) {
    detail::note_error_source(e, source.description());
    throw;
  }
}

/// Appends a binary archive of `value` to `out`. Registers the types it writes on first use
/// (see BinaryWriter).
template <class T>
void to_binary(Buffer& out, const T& value, Registry& registry = default_registry()) {
  BufferSink sink(out);
  BinaryWriter writer(sink, registry);
  writer.write(value);
  writer.finish();
}

/// A binary archive of `value`.
template <class T>
Buffer to_binary(const T& value, Registry& registry = default_registry()) {
  Buffer out;
  to_binary(out, value, registry);
  return out;
}

/// Loads the first value of a binary archive held in memory and checks the rest of it through
/// its end marker, as load_binary does.
template <class T>
T from_binary(std::string_view bytes, const Registry& registry = default_registry(),
              const LoadOptions& options = {}) {
  MemorySource source(bytes);
  BinaryReader reader(source, registry, options);
  T value = reader.read<T>();
  reader.skip_to_end();
  return value;
}

// ---------------------------------------------------------------------------------------
// Implementation.

template <class T>
void BinaryWriter::write(const T& value) {
  begin_record(typeid(T), [](LayoutBuilder& b) { Codec<T>::describe(b); });
  Codec<T>::save(*this, value);
  end_record();
}

template <class T>
void BinaryWriter::write_shared(const T* object, bool /*weak*/) {
  if (object == nullptr) {
    put_byte(0);
    return;
  }
  const void* most_derived = detail::most_derived(object);
  // A value numbers its shared objects from 0 in the order they are met, as the table does.
  bool inserted;
  std::uint64_t id = ids_.find_or_insert(most_derived, inserted);
  if (!inserted) {
    put_varint(id + 2);
    return;
  }
  put_byte(1);
  write_new_object(most_derived, typeid(*object), detail::type_ops<T>());
}

template <class T>
void BinaryWriter::write_unique(const T* object) {
  if (object == nullptr) {
    put_byte(0);
    return;
  }
  const void* most_derived = detail::most_derived(object);
  put_byte(1);
  write_new_object(most_derived, typeid(*object), detail::type_ops<T>());
}

template <class T>
void BinaryReader::read(T& out) {
  T value{};
  bool more = false;
  try {
    more = next_object_record();
    if (more) {
      if (record_matches(typeid(T), [](LayoutBuilder& b) { Codec<T>::describe(b); })) {
        Codec<T>::load(*this, value);
      } else {
        read_record_through_state([](StateReader& r, void* p) { r.read(*static_cast<T*>(p)); },
                                  &value);
      }
      end_record();
    }
  } catch (Error& e) {
    abandon_record();
    // The state model and the migrations know no source: name it for them.
    detail::note_error_source(e, source_.description());
    throw;
  } catch (...) {
    abandon_record();
    throw;
  }
  if (!more) fail(errc::truncated_input, "no more values: the archive's end marker was reached");
  out = std::move(value);
}

template <class T, class Alloc>
void BinaryReader::read_number_list(std::vector<T, Alloc>& out) {
  std::size_t n = read_count(sizeof(T));
  if (remaining_known_) {
    out.resize(n);
    get_raw(out.data(), n * sizeof(T));
    return;
  }
  // Unknown input length: grow as bytes actually arrive, so a claimed count cannot make us
  // allocate more than the input holds.
  out.clear();
  std::size_t done = 0;
  while (done < n) {
    std::size_t chunk = n - done < 65536 ? n - done : 65536;
    out.resize(done + chunk);
    get_raw(out.data() + done, chunk * sizeof(T));
    done += chunk;
  }
}

template <class T>
void BinaryReader::read_object(T& value) {
  const detail::TypeOps& ops = detail::type_ops<T>();
  detail::StreamType* type = last_ops_ == &ops ? last_type_ : &resolve(ops);
  if (type->fast) {
    read_fast_object(*type, [&] { detail::call_setstate(*this, value); });
  } else {
    read_object_slow(*type, ops, &value);
  }
}

template <class T>
void BinaryReader::read_shared(std::shared_ptr<T>& out) {
  PointerTarget target = read_pointer(detail::type_ops<T>(), true);
  if (target.address == nullptr) {
    out.reset();
    return;
  }
  out = std::shared_ptr<T>(std::move(target.owner), static_cast<T*>(target.address));
}

template <class T>
void BinaryReader::read_unique(std::unique_ptr<T>& out) {
  PointerTarget target = read_pointer(detail::type_ops<T>(), false);
  if (target.address == nullptr) {
    out.reset();
    return;
  }
  out.reset(static_cast<T*>(target.address));
}

}  // namespace brine
