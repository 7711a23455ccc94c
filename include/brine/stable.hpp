// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// stable.hpp: the long-term archive: named fields in standard CBOR (RFC 8949), readable
// without brine by any CBOR decoder. See docs/format/stable-v1.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <vector>

#include "brine/codec.hpp"
#include "brine/detail/cbor_head.hpp"
#include "brine/detail/export.hpp"
#include "brine/detail/registry_core.hpp"
#include "brine/detail/shared_table.hpp"
#include "brine/error.hpp"
#include "brine/io.hpp"
#include "brine/limits.hpp"
#include "brine/state.hpp"
#include "brine/version.hpp"

namespace brine {

/// Version of the stable (long-term) archive format this build writes; readers accept every
/// version up to it and refuse newer ones with a VersionError.
inline constexpr unsigned stable_format_version = 1;

namespace detail {
class StableStrings;
class StableDirect;

/// The RFC 8746 tag of a little-endian typed array of T (64, uint8, is written as a plain
/// byte string).
template <class T>
constexpr std::uint64_t typed_array_tag() {
  static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>);
  if constexpr (std::is_floating_point_v<T>)
    return sizeof(T) == 4 ? 85 : 86;
  else if constexpr (std::is_signed_v<T>)
    return sizeof(T) == 1 ? 72 : sizeof(T) == 2 ? 77 : sizeof(T) == 4 ? 78 : 79;
  else
    return sizeof(T) == 1 ? 64 : sizeof(T) == 2 ? 69 : sizeof(T) == 4 ? 70 : 71;
}
}  // namespace detail

/// Options of a StableWriter.
struct StableWriteOptions {
  /// The most bytes of one top-level value held in memory while the writer cannot yet tell
  /// which shared objects need tag 28: from a value's first object reached through a
  /// shared_ptr to the end of that value. A value that needs more is walked twice, the
  /// first walk only to learn which objects are referred to again (see StableWriter).
  std::size_t max_held_bytes = std::size_t{16} << 20;
  /// The LoadOptions::max_depth of the readers the archive is for. write_value refuses
  /// (LimitError) a state tree nested deeper than such a reader's max_nesting() accepts,
  /// counted as the reader counts levels. Raise both together.
  std::size_t max_depth = LoadOptions{}.max_depth;
};

/// Writes objects as a stable archive: a CBOR document whose values are self-describing
/// (every object is tag 27 [type name, version, {field: value}], shared objects use the
/// value-sharing tags 28/29, numeric vectors the RFC 8746 typed arrays, repeated names the
/// stringref tags 256/25). Several values may be written; finish() closes the document and
/// appends its checksum.
///
/// Memory: the bytes stream into the sink in chunks of about 1 MiB, and strings and numeric
/// vectors of 1 MiB or more are handed to the sink straight from the object, so a save
/// holds about 1 MiB beside the object, whatever its size. The exception is sharing: tag 28
/// goes only on objects referred to again, which is known at the end of the top-level value
/// (references never cross values), so from the value's first object reached through a
/// shared_ptr on, its bytes are held until the value ends, when the tags nobody referred to
/// are cut out. Past StableWriteOptions::max_held_bytes (16 MiB, the offsets kept per tag
/// and reference included) the writer gives up holding: it writes what came before that
/// first object, walks the rest of the value only to learn which objects are referred to
/// again, then walks the value a second time and streams it with the tags decided. Such a
/// value costs about twice the time, and getstate runs twice on each of its objects (it
/// must write the same both times; a difference is an InternalError). Not bounded: what
/// sharing needs in any writer, the table of addresses met through pointers (about 13 bytes
/// each, detail::PointerIdMap) and a bit per shared object. A sink with a direct buffer
/// (BufferSink) holds the whole document anyway, so the writer writes into it in place and never
/// walks twice. docs/format/stable-v1.md §2 (writer notes) has the figures.
class BRINE_API StableWriter {
 public:
  static constexpr bool is_loading = false;

  /// `sink` and `registry` must outlive the writer. Types reached while saving that are not
  /// registered yet are registered in `registry` on first use (their field count lives in
  /// the registry entry): that is why the registry is not const here, while the readers,
  /// to_state and to_json_archive, which only look types up, take a const one.
  explicit StableWriter(ByteSink& sink, Registry& registry = default_registry(),
                        const StableWriteOptions& options = {});
  ~StableWriter();
  StableWriter(const StableWriter&) = delete;
  StableWriter& operator=(const StableWriter&) = delete;

  /// Writes one top-level value. Throws SchemaError for an unregistered dynamic type or
  /// function, IoError when the sink fails.
  template <class T>
  void write(const T& value) {
    // Sharing is per value, but CBOR's shared-reference indices count every shareable in the
    // document, so the numbering continues from one value to the next.
    begin_value();
    Codec<T>::save(*this, value);
    if (end_value()) {  // too large to hold: written again, its tags now decided
      Codec<T>::save(*this, value);
      end_value();
    }
  }
  /// Writes a state-model tree as one top-level value (for tools: convert, migrate).
  /// Throws LimitError, writing nothing, when the tree nests deeper than a reader with
  /// StableWriteOptions::max_depth accepts.
  void write_value(const Value& value) {
    check_nesting(value);
    begin_value();
    write_dynamic(value);
    if (end_value()) {
      write_dynamic(value);
      end_value();
    }
  }
  /// Closes the document (values array, checksum) and flushes. Nothing may follow.
  void finish();

  // Hook interface.
  template <class T>
  StableWriter& operator()(const char* name, const T& value) {
    put_name(name);
    ++fields_written_;
    Codec<T>::save(*this, value);
    return *this;
  }
  std::uint32_t version() const noexcept { return version_; }
  Registry& registry() const noexcept { return registry_; }

  // Codec interface.
  template <class T>
  void save(const T& value) {
    Codec<T>::save(*this, value);
  }
  void write_bool(bool b) { put_byte(b ? 0xF5 : 0xF4); }
  template <class T>
  void write_number(T x) {
    if constexpr (std::is_floating_point_v<T>) {
      put_float(x);
    } else if constexpr (std::is_signed_v<T>) {
      if (x < 0)
        put_head(1, static_cast<std::uint64_t>(-(static_cast<std::int64_t>(x) + 1)));
      else
        put_head(0, static_cast<std::uint64_t>(x));
    } else {
      put_head(0, static_cast<std::uint64_t>(x));
    }
  }
  template <class T>
  void write_numbers(const T* values, std::size_t n) {
    put_typed_array(detail::typed_array_tag<T>(), values, n * sizeof(T));
  }
  template <class T>
  void write_number_list(const T* values, std::size_t n) {
    write_numbers(values, n);
  }
  void write_text(std::string_view text) { put_string(3, text.data(), text.size()); }
  void write_bytes(const void* bytes, std::size_t n) { put_string(2, bytes, n); }
  void begin_list(std::size_t n) { put_head(4, n); }
  void end_list() {}
  template <class K>
  void begin_map(std::size_t n) {
    put_head(std::is_same_v<K, std::string> ? 5 : 4, n);
  }
  template <class K, class V>
  void save_entry(const K& key, const V& value) {
    if constexpr (std::is_same_v<K, std::string>) {
      write_text(key);
    } else {
      put_head(4, 2);
      Codec<K>::save(*this, key);
    }
    Codec<V>::save(*this, value);
  }
  void end_map() {}
  void begin_tuple(std::size_t n) { put_head(4, n); }
  void end_tuple() {}
  void write_optional(bool present) {
    if (!present) put_byte(0xF6);
  }
  void begin_variant(std::size_t index) {
    put_head(4, 2);
    put_head(0, index);
  }
  void end_variant() {}
  template <class Rep>
  void write_duration(Rep count, std::intmax_t num, std::intmax_t den) {
    put_head(5, 2);
    put_name("count");
    write_number(count);
    put_name("period");
    write_text(std::to_string(num) + "/" + std::to_string(den));
  }
  void write_path(const std::string& generic);
  /// A state-model value, encoded as the typed values it stands for.
  void write_dynamic(const Value& value);
  /// A tensor: RFC 8746 tag 40 [shape, typed array] where its dtype has a typed-array tag,
  /// else tag 27 ["$tensor", dtype name, shape, bytes] (docs/format/stable-v1.md §4.1).
  void write_tensor(const Tensor& tensor);
  /// Refuses a value that its reader would refuse as nested too deep.
  void check_nesting(const Value& value) const;
  void write_function(void (*pointer)(), const std::type_info& signature);
  void write_function_name(const std::string& name);
  template <class T>
  void write_object(const T& value) {
    static const std::size_t field_count = detail::field_count_of(detail::type_ops<T>());
    const UnknownFields* unknown = nullptr;
    if constexpr (detail::has_unknown_fields<T>::value) {
      const UnknownFields& kept = Access::unknown_fields(value);
      if (!kept.empty()) unknown = &kept;
    }
    begin_object(detail::type_ops<T>(), field_count, unknown);
    detail::call_getstate(*this, value);
    end_object();
  }
  template <class T>
  void write_shared(const T* object, bool weak = false);
  template <class T>
  void write_unique(const T* object);
  template <class T>
  void write_fields(const T& value) {
    detail::call_getstate(*this, value);
  }

 private:
  /// Every byte of the document goes through emit or room: out_ never grows past limit_, and
  /// what happens there (a flush, giving up holding) is emit_slow's.
  void emit(const void* bytes, std::size_t n) {
    if (n > limit_ - out_->size()) return emit_slow(bytes, n);
    out_->append(bytes, n);
  }
  void emit_slow(const void* bytes, std::size_t n);
  /// Where the next `n` bytes go when out_ has them free below limit_, else nullptr (then
  /// emit decides). The hot paths encode in place there and commit, rather than building
  /// each item in a temporary and appending it: a save writes an item for nearly every value.
  std::uint8_t* room(std::size_t n) noexcept {
    const std::size_t size = out_->size();
    if (n > limit_ - size || n > out_->capacity() - size) return nullptr;
    return out_->data() + size;
  }
  void commit(std::size_t n) { out_->resize(out_->size() + n); }
  void put_byte(std::uint8_t b) { emit(&b, 1); }
  void put_head(unsigned major, std::uint64_t argument) {
    if (std::uint8_t* p = room(9)) return commit(detail::encode_cbor_head(p, major, argument));
    put_head_slow(major, argument);
  }
  void put_head_slow(unsigned major, std::uint64_t argument);
  void put_float(float x) {
    std::uint32_t bits;
    std::memcpy(&bits, &x, 4);
    put_float_bits(0xFA, bits, 4);
  }
  void put_float(double x) {
    std::uint64_t bits;
    std::memcpy(&bits, &x, 8);
    put_float_bits(0xFB, bits, 8);
  }
  /// A float head `initial` and the `n` bytes of `bits`, big-endian (RFC 8949 §3.3).
  void put_float_bits(std::uint8_t initial, std::uint64_t bits, int n) {
    std::uint8_t buf[9];
    std::uint8_t* p = room(9);
    std::uint8_t* at = p != nullptr ? p : buf;
    at[0] = initial;
    for (int i = 0; i < n; ++i) at[1 + i] = static_cast<std::uint8_t>(bits >> (8 * (n - 1 - i)));
    if (p != nullptr) return commit(static_cast<std::size_t>(n) + 1);
    emit(buf, static_cast<std::size_t>(n) + 1);
  }
  void put_string(unsigned major, const void* bytes, std::size_t n) {
    if (std::uint8_t* p = room(9 + n)) {
      const std::size_t head = detail::encode_cbor_head(p, major, n);
      copy_bytes(p + head, bytes, n);
      commit(head + n);
    } else {
      put_head(major, n);
      emit(bytes, n);
    }
    // Every literal string long enough enters the decoder's table, whether or not we ever
    // refer to it, so the count must follow each one.
    if (n >= detail::stringref_min_length(string_count_)) ++string_count_;
  }
  /// memcpy, without a call for the short strings that names, keys and small vectors are.
  static void copy_bytes(std::uint8_t* to, const void* bytes, std::size_t n) noexcept {
    const auto* from = static_cast<const std::uint8_t*>(bytes);
    if (n > 16) {
      std::memcpy(to, from, n);
    } else if (n >= 8) {  // two words that overlap in the middle
      std::uint64_t a, b;
      std::memcpy(&a, from, 8);
      std::memcpy(&b, from + n - 8, 8);
      std::memcpy(to, &a, 8);
      std::memcpy(to + n - 8, &b, 8);
    } else if (n >= 4) {
      std::uint32_t a, b;
      std::memcpy(&a, from, 4);
      std::memcpy(&b, from + n - 4, 4);
      std::memcpy(to, &a, 4);
      std::memcpy(to + n - 4, &b, 4);
    } else if (n != 0) {  // 1 to 3 bytes: the first, the middle and the last cover them
      to[0] = from[0];
      to[n / 2] = from[n / 2];
      to[n - 1] = from[n - 1];
    }
  }
  void put_typed_array(std::uint64_t tag, const void* bytes, std::size_t n) {
    if (tag != 64) put_head(6, tag);  // a uint8 array is a plain byte string
    put_string(2, bytes, n);
  }
  /// Field and type names: written once, then as stringref references. Names are string
  /// literals (field names in hooks, declared type names), so the pointer identifies the
  /// content: a small table by pointer answers most names without hashing.
  void put_name(std::string_view name) {
    const NameSlot& slot = names_[name_slot(name.data())];
    if (slot.name == name.data()) {
      if (std::uint8_t* p = room(8)) {
        std::memcpy(p, slot.bytes, 8);
        return commit(slot.size);
      }
    }
    put_name_slow(name);
  }
  void put_name_slow(std::string_view name);
  void put_string_ref(std::uint64_t index) {
    std::uint8_t buf[11];
    std::uint8_t* p = room(11);
    std::uint8_t* at = p != nullptr ? p : buf;
    at[0] = 0xD8;  // tag 25, a stringref (cbor::kTagStringRef)
    at[1] = 25;
    const std::size_t n = 2 + detail::encode_cbor_head(at + 2, 0, index);
    if (p != nullptr) return commit(n);
    emit(buf, n);
  }
  /// Like put_name for names that are not string literals (state-model values).
  void put_name_by_content(std::string_view name);
  /// `unknown`: fields kept from a newer version, written after getstate's (may be null).
  void begin_object(const detail::TypeOps& ops, std::size_t field_count,
                    const UnknownFields* unknown = nullptr);
  void end_object();
  void write_new_object(const void* most_derived, const std::type_info& dynamic_type,
                        const detail::TypeOps& static_ops);
  /// Sharing is per top-level value; begin_value/end_value bracket one. end_value returns
  /// true when the value must be walked again (it outgrew max_held_bytes).
  void begin_value();
  bool end_value();
  /// Tag 28 before the first occurrence of an object reached through a pointer. Whether
  /// anything refers to it is only known at the end of the value, which drops the tags of
  /// objects never referenced (end_value).
  void put_shareable();
  void put_reference(std::uint64_t id);
  void drop_unreferenced_shareables();
  /// Counts the value's shareables referred to before each word of referred_ (kept_before_),
  /// so that final_index answers; returns how many are referred to in all.
  std::uint64_t number_referred_shareables();
  bool referred(std::uint64_t i) const noexcept { return (referred_[i / 64] >> (i % 64)) & 1; }
  /// The index of value sharing of the value's shareable i (referred to): the shareables
  /// before the value, and those of it before i that are referred to.
  std::uint64_t final_index(std::uint64_t i) const noexcept;
  /// Gives up holding the value: writes its bytes before the first shareable, then only
  /// learns which shareables are referred to.
  void start_learning();
  /// Counts `n` bytes kept on the side while holding against max_held_bytes.
  void charge_held(std::size_t n);
  /// Hands out_ to the sink (skipping what a second walk must not write again).
  void flush_buffer();
  /// Hands `n` bytes to the sink, out_ being empty.
  void write_through(const void* bytes, std::size_t n);
  std::uint64_t position() const noexcept { return position_ + out_->size(); }
  void start();

  ByteSink& sink_;
  Registry& registry_;
  StableWriteOptions options_;
  Buffer own_;
  Buffer* out_;  // the sink's buffer when it has one (direct_), else own_
  bool direct_;
  std::size_t limit_;
  /// streaming: no shareable yet in this value, bytes go out in chunks. holding: a
  /// shareable was met, the value's bytes from it on stay in out_ until the value ends.
  /// learning: the value outgrew max_held_bytes; nothing is written, only which shareables
  /// are referred to is noted. replaying: the value's second walk, tags decided, streaming.
  enum class Mode : std::uint8_t { streaming, holding, learning, replaying };
  Mode mode_ = Mode::streaming;
  std::uint64_t position_ = 0;         // document offset of out_'s first byte (own buffer)
  std::uint64_t value_start_ = 0;      // document offset of the current value
  std::uint64_t first_shareable_ = 0;  // document offset of its first tag 28 (holding)
  std::uint64_t skip_ = 0;             // replaying: bytes already written by the first walk
  std::unique_ptr<detail::StableStrings> strings_;
  std::uint64_t string_count_ = 0;  // strings the decoder's stringref table will hold
  // put_name's table: by a name's pointer, the bytes that write it (its stringref, or the
  // name itself when it is too short to enter the stringref table, which it then never
  // enters), when they are 8 at most. Cleared when a value is walked again (its names are
  // then numbered afresh).
  struct NameSlot {
    const char* name = nullptr;
    std::uint8_t bytes[8] = {};
    std::size_t size = 0;
  };
  static constexpr std::size_t kNameSlots = 64;
  static std::size_t name_slot(const char* name) noexcept {
    const auto a = reinterpret_cast<std::uintptr_t>(name);
    return static_cast<std::size_t>(a ^ (a >> 7)) % kNameSlots;
  }
  NameSlot names_[kNameSlots];
  struct Hash;
  std::unique_ptr<Hash> hash_;
  std::size_t hashed_from_ = 0;  // offset in out_ where hashed bytes start
  std::uint64_t objects_written_ = 0;
  std::uint32_t version_ = 0;
  std::size_t fields_written_ = 0;
  struct Open {
    const detail::TypeOps* ops;
    std::size_t expected_fields;
    std::size_t saved_fields;
    std::uint32_t saved_version;
    const UnknownFields* unknown;
  };
  std::vector<Open> open_;
  detail::PointerIdMap ids_;
  std::uint64_t next_id_ = 0;
  // Within the current value, ids run from value_first_id_: how many shareables the first
  // walk met, whether anything refers to each (bit i of referred_[i / 64]), how many before
  // each word are referred to (when the value ends), and, while holding, each id's tag-28
  // offset in out_ and every reference's offset and id.
  std::uint64_t value_first_id_ = 0;
  std::uint64_t shareables_ = 0;
  std::vector<std::uint64_t> referred_;
  std::vector<std::uint64_t> kept_before_;
  std::vector<std::size_t> shareable_at_;
  struct ReferenceAt {
    std::size_t offset;
    std::uint64_t id;
  };
  std::vector<ReferenceAt> references_;
  bool finished_ = false;
};

/// Reads a stable archive. The whole document is validated first (structure, limits and
/// checksum), so a truncated or corrupt file is refused before any value is decoded. A
/// value that today's program could have written is then decoded straight into objects
/// (StableDecoder); any other is decoded into the state model, upgraded by the registry's
/// migrations, and handed to setstate.
class BRINE_API StableReader {
 public:
  /// Reads and validates the whole input (kept in memory; files are memory-mapped).
  /// Throws FormatError, LimitError, VersionError (a newer format).
  explicit StableReader(ByteSource& source, const Registry& registry = default_registry(),
                        const LoadOptions& options = {});
  ~StableReader();
  StableReader(const StableReader&) = delete;
  StableReader& operator=(const StableReader&) = delete;

  /// The next value as a T; whole, or throws.
  template <class T>
  T read() {
    T value{};
    read(value);
    return value;
  }
  template <class T>
  void read(T& out);
  /// The next value in the state model, before migrations.
  Value read_value();
  /// Moves past the next value without decoding it: walks its CBOR items (already validated
  /// by the constructor), keeping the stringref table and shared-object count that later
  /// values refer to, and builds nothing. Throws FormatError when every value has been read.
  void skip();
  /// True when every value has been read.
  bool at_end() const noexcept;
  /// Number of values in the archive.
  std::size_t value_count() const noexcept;
  std::uint32_t format_version() const noexcept;
  /// How many values read() decoded straight into objects rather than through the state
  /// model (StableDecoder); a diagnostic for tests and benchmarks.
  std::size_t values_read_directly() const noexcept;

  /// The first value of the archive `source` holds, as a T: what from_stable and load_stable
  /// return, and the same value, or the same error, as StableReader(source).read<T>().
  ///
  /// When the source is in memory or a file and the value is in the current layout (what
  /// this program's own writer wrote), it takes a single pass: StableDecoder checks each
  /// item as it decodes it and takes the checksum as it goes, then the rest of the document
  /// is validated and the checksum compared before the value is returned. Anything else
  /// (a value to migrate, a malformed or corrupt document, any exception on the way) drops
  /// what that pass built and reads the archive again the validating way, whose verdict is
  /// the one returned or thrown. A setstate may therefore run on an object that is then
  /// discarded, as in StableDecoder's fallback; no partial object is ever returned.
  template <class T>
  static T read_first(ByteSource& source, const Registry& registry = default_registry(),
                      const LoadOptions& options = {});

  struct Impl;

 private:
  friend class StableDecoder;
  // `one_pass`: read_first's single pass, which opens the document's header only.
  StableReader(ByteSource& source, const Registry& registry, const LoadOptions& options,
               bool one_pass);
  template <class T>
  static bool read_first_in_one_pass(ByteSource& source, const Registry& registry,
                                     const LoadOptions& options, T& out) noexcept;
  void take_input(ByteSource& source);
  [[noreturn]] void fail_input_bytes() const;
  std::unique_ptr<Impl> impl_;
  const Registry& registry_;
  LoadOptions options_;
  std::string description_;
};

/// The archive that setstate hooks receive when a stable archive is loaded directly: CBOR
/// straight into the objects, without building the state model first. StableReader uses it
/// for a value whose every object is of its type's current version and name, with its
/// fields in the order the hooks read them: what the current program's own writer wrote.
/// The document has been validated (structure, limits, checksum) before it runs.
///
/// A value in any other layout (an older version to migrate, a renamed type, a reordered,
/// renamed, missing or extra field, a value of another type than the field's, which the
/// state model converts or reports with its type and field path) stops it where the
/// difference is met, and the value is read again through the state model. Only that stop
/// is caught: a brine::Error raised while reading directly (a limit such as
/// LoadOptions::max_depth or max_string_expansion), std::bad_alloc and whatever a setstate
/// throws propagate unchanged, and the value is not read again.
///
/// So a setstate may run on an object that is then discarded in exactly one case: the
/// value turns out, part-way, not to be in the current layout. Every object created for it
/// so far (the top-level one and those behind pointers, whose setstate may have run in
/// whole or in part) is then reset and destroyed, and the value is decoded afresh through
/// the state model, which runs setstate again on new objects. A setstate should therefore
/// set its object's state and nothing else. A value that is read directly from start to
/// end runs each setstate once.
class BRINE_API StableDecoder {
 public:
  static constexpr bool is_loading = true;

  /// Positions the decoder at the next value of `reader`.
  explicit StableDecoder(StableReader& reader);
  ~StableDecoder();
  StableDecoder(const StableDecoder&) = delete;
  StableDecoder& operator=(const StableDecoder&) = delete;

  /// Reads the next value into `out` and returns true, or, when the value is not in the
  /// current layout, returns false having undone everything (objects created, strings and
  /// shared objects counted), so that the caller reads it through the state model. `out` is
  /// left partly written on false. Any other exception propagates.
  template <class T>
  bool read(T& out) {
    try {
      if (level_ > max_level_) stop();
      Codec<T>::load(*this, out);
    } catch (const NotCurrentLayout&) {
      abandon();
      return false;
    }
    return finish();
  }

  // Hook interface.
  template <class T>
  StableDecoder& operator()(const char* name, T& value) {
    expect_field(name);
    try {
      Codec<T>::load(*this, value);
    } catch (Error& e) {
      // The path is built as a failure unwinds, as BinaryReader does.
      detail::prepend_error_field(e, name);
      throw;
    }
    return *this;
  }
  template <class T>
  bool optional_field(const char* name, T& value) {
    operator()(name, value);
    return true;
  }
  std::uint32_t version() const noexcept;
  /// Whether field `name` comes next: only "yes" is known without a search, so a field
  /// elsewhere or absent is left to the state model.
  bool has(const char* name);
  const Registry& registry() const noexcept { return registry_; }

  // Codec interface.
  template <class T>
  void load(T& value) {
    Codec<T>::load(*this, value);
  }
  bool read_bool();
  template <class T>
  T read_number() {
    if constexpr (std::is_same_v<T, float>) {
      return read_float();
    } else if constexpr (std::is_floating_point_v<T>) {
      return static_cast<T>(read_double());
    } else if constexpr (std::is_signed_v<T>) {
      return static_cast<T>(
          read_signed(std::numeric_limits<T>::min(), std::numeric_limits<T>::max()));
    } else {
      return static_cast<T>(read_unsigned(std::numeric_limits<T>::max()));
    }
  }
  template <class T>
  void read_numbers(T* values, std::size_t n) {
    std::string_view body = typed_array(detail::typed_array_tag<T>(), sizeof(T));
    if (body.size() != n * sizeof(T)) stop();
    if (n != 0) std::memcpy(values, body.data(), body.size());
  }
  template <class T, class Alloc>
  void read_number_list(std::vector<T, Alloc>& out) {
    std::string_view body = typed_array(detail::typed_array_tag<T>(), sizeof(T));
    out.resize(body.size() / sizeof(T));
    if (!body.empty()) std::memcpy(out.data(), body.data(), body.size());
  }
  void read_text(std::string& out) { out.assign(read_text_view()); }
  std::string_view read_text_view();
  void read_bytes(std::vector<std::uint8_t>& out);
  std::size_t begin_list(std::size_t = 0) { return begin_array(); }
  void end_list() { --level_; }
  std::size_t reserve_limit(std::size_t n, std::size_t element_size = 1) const noexcept {
    // The count is validated against the input, but an element may take one byte there and
    // far more in memory: beyond 64 MiB the container grows with what it actually reads.
    std::size_t cap = (std::size_t{64} << 20) / (element_size == 0 ? 1 : element_size);
    return n < cap ? n : cap;
  }
  template <class K>
  std::size_t begin_map(std::size_t = 0) {
    return std::is_same_v<K, std::string> ? begin_text_map() : begin_array();
  }
  template <class K, class V>
  void load_entry(K& key, V& value) {
    if constexpr (std::is_same_v<K, std::string>) {
      read_text(key);
      Codec<V>::load(*this, value);
    } else {
      begin_tuple(2);
      Codec<K>::load(*this, key);
      Codec<V>::load(*this, value);
      end_tuple();
    }
  }
  void end_map() { --level_; }
  void begin_tuple(std::size_t n);
  void end_tuple() { --level_; }
  bool read_optional();
  std::size_t begin_variant(std::size_t alternatives);
  void end_variant() { --level_; }
  template <class Rep>
  Rep read_duration(std::intmax_t num, std::intmax_t den) {
    begin_duration();
    Rep ticks = read_number<Rep>();
    end_duration(num, den);
    return ticks;
  }
  std::string read_path();
  /// Tensors are read through the state model, which decodes their encodings (§4.1).
  void read_tensor(Tensor&) { stop(); }
  void (*read_function(const std::type_info& signature))();
  const FunctionInfo& read_function_info(const std::type_info& signature);
  template <class T>
  void read_object(T& value) {
    begin_object(detail::type_ops<T>());
    detail::call_setstate(*this, value);
    end_object();
  }
  template <class T>
  void read_shared(std::shared_ptr<T>& out) {
    detail::PointerTarget target = read_pointer(detail::type_ops<T>(), true);
    if (target.address == nullptr)
      out.reset();
    else
      out = std::shared_ptr<T>(std::move(target.owner), static_cast<T*>(target.address));
  }
  template <class T>
  void read_unique(std::unique_ptr<T>& out) {
    detail::PointerTarget target = read_pointer(detail::type_ops<T>(), false);
    out.reset(static_cast<T*>(target.address));  // read_pointer hands over a raw object
  }
  template <class T>
  void read_fields(T& value) {
    detail::call_setstate(*this, value);
  }
  /// A codec's verdict on a value is left to the state model, which reports it with the
  /// type and field path (or converts the value, when it can).
  [[noreturn]] void fail(errc, const std::string&) { stop(); }

 private:
  /// The one signal that sends a value to the state model: "not the current layout".
  struct NotCurrentLayout {};
  [[noreturn]] static void stop() { throw NotCurrentLayout{}; }

  // The byte-level work is in src/stable/decoder.cpp, on the reader's cursor.
  void expect_field(const char* name);
  std::uint64_t read_unsigned(std::uint64_t max);
  std::int64_t read_signed(std::int64_t min, std::int64_t max);
  float read_float();
  double read_double();
  std::string_view typed_array(std::uint64_t tag, std::size_t element_size);
  std::size_t begin_array();
  std::size_t begin_text_map();
  void begin_duration();
  void end_duration(std::intmax_t num, std::intmax_t den);
  /// Checks the head of an inline object of type `ops` and makes it the one whose fields
  /// are read.
  void begin_object(const detail::TypeOps& ops);
  void end_object();
  detail::PointerTarget read_pointer(const detail::TypeOps& static_ops, bool shared);
  void abandon() noexcept;
  bool finish();

  /// One level deeper: the elements of a container, as the validating scan counts them.
  void enter_level() {
    if (++level_ > max_level_) stop();
  }

  detail::StableDirect& d_;  // the reader's cursor and the objects being read
  const Registry& registry_;
  bool done_ = false;  // finished or abandoned: nothing for the destructor to undo
  // The nesting of the item being read, counted as the validating scan counts it (the value
  // is at level 1). Past LoadOptions::max_nesting(), which the scan enforces, a one-pass
  // read stops, and the validating read gives the verdict; a validated document needs no
  // check (max_level_ is then the largest size_t).
  std::size_t level_ = 1;
  std::size_t max_level_;
};

template <class T>
void StableReader::read(T& out) {
  try {
    if (!at_end()) {
      T value{};
      if (StableDecoder(*this).read(value)) {
        out = std::move(value);
        return;
      }
    }
    Value state = read_value();
    registry_.upgrade(state, options_);
    T value{};
    StateReader(state, registry_, options_, nullptr, description_).read(value);
    out = std::move(value);
  } catch (Error& e) {
    // The migrations know no source: name it for them.
    detail::note_error_source(e, description_);
    throw;
  }
}

template <class T>
bool StableReader::read_first_in_one_pass(ByteSource& source, const Registry& registry,
                                          const LoadOptions& options, T& out) noexcept {
  try {
    StableReader reader(source, registry, options, true);
    if (reader.at_end()) return false;
    T value{};
    if (!StableDecoder(reader).read(value)) return false;
    out = std::move(value);
    return true;
  } catch (...) {
    // Whatever went wrong, the validating read decides, and reports it as it always has.
    return false;
  }
}

template <class T>
T StableReader::read_first(ByteSource& source, const Registry& registry,
                           const LoadOptions& options) {
  if (source.has_direct_view()) {
    T value{};
    if (read_first_in_one_pass(source, registry, options, value)) return value;
  }
  StableReader reader(source, registry, options);
  return reader.read<T>();
}

/// Decodes a CBOR document written by any brine version into the state model, without a
/// registry (for tools). Throws like StableReader.
BRINE_API std::vector<Value> read_stable_values(std::string_view bytes,
                                                const LoadOptions& options = {});

/// Saves `value` as a stable archive at `path`, atomically. Registers the types it writes
/// on first use (see StableWriter).
template <class T>
void save_stable(const std::filesystem::path& path, const T& value,
                 Registry& registry = default_registry()) {
  AtomicFileSink sink(path);
  StableWriter writer(sink, registry);
  writer.write(value);
  writer.finish();
  sink.commit();
}

/// Loads the first value of the stable archive at `path`, upgrading older class versions;
/// in one pass when it can (StableReader::read_first).
template <class T>
T load_stable(const std::filesystem::path& path, const Registry& registry = default_registry(),
              const LoadOptions& options = {}) {
  FileSource source(path);
  try {
    return StableReader::read_first<T>(source, registry, options);
  } catch (Error& e) {
    detail::note_error_source(e, source.description());
    throw;
  }
}

/// A stable archive of `value` in memory. Registers the types it writes on first use (see
/// StableWriter), so it takes the registry mutable, unlike to_json_archive.
template <class T>
Buffer to_stable(const T& value, Registry& registry = default_registry()) {
  Buffer out;
  BufferSink sink(out);
  StableWriter writer(sink, registry);
  writer.write(value);
  writer.finish();
  return out;
}

/// Loads the first value of a stable archive held in memory; in one pass when it can
/// (StableReader::read_first).
template <class T>
T from_stable(std::string_view bytes, const Registry& registry = default_registry(),
              const LoadOptions& options = {}) {
  MemorySource source(bytes);
  return StableReader::read_first<T>(source, registry, options);
}

// ---------------------------------------------------------------------------------------
// The JSON encoding: the same state model as canonical JSON, for small hand-edited configs
// and diffs. A document is {"format": "brine-json", "format_version": 1, "values": [...]};
// it loads through the same code as the CBOR encoding (state model, migrations, setstate).

/// Version of the JSON document format this build writes and reads up to.
inline constexpr unsigned json_format_version = 1;

/// A JSON document holding `values` (each a state-model tree).
BRINE_API std::string json_document(const std::vector<Value>& values,
                                    const JsonOptions& options = {});
/// The values of a JSON document. Throws FormatError, LimitError, VersionError.
BRINE_API std::vector<Value> json_document_values(std::string_view json,
                                                  const LoadOptions& options = {});
/// The values of the JSON document that `source` holds, to its end. A source with a direct
/// view (memory, a file) is parsed in place, and advanced as the parser moves through it, so
/// that its position() follows the parse; a stream is read whole first, within
/// LoadOptions::max_input_bytes. Errors name the source. Throws FormatError, LimitError,
/// VersionError, IoError.
BRINE_API std::vector<Value> json_document_values(ByteSource& source,
                                                  const LoadOptions& options = {});

/// `value` as a JSON document. Through to_state, which only looks types up: the registry is
/// const, where to_stable and to_binary register the types they write on first use.
template <class T>
std::string to_json_archive(const T& value, const Registry& registry = default_registry()) {
  return json_document({to_state(value, registry)});
}

/// Loads the first value of a JSON document, upgrading older class versions.
template <class T>
T from_json_archive(std::string_view json, const Registry& registry = default_registry(),
                    const LoadOptions& options = {}) {
  std::vector<Value> values = json_document_values(json, options);
  if (values.empty()) detail::throw_error(errc::truncated_input, "JSON document holds no values");
  return from_state<T>(std::move(values.front()), registry, options);
}

/// Saves `value` as a JSON document at `path`, atomically.
template <class T>
void save_json(const std::filesystem::path& path, const T& value,
               const Registry& registry = default_registry()) {
  write_file_atomically(path, to_json_archive(value, registry));
}

/// Loads the first value of the JSON document at `path`.
template <class T>
T load_json(const std::filesystem::path& path, const Registry& registry = default_registry(),
            const LoadOptions& options = {}) {
  FileSource source(path);
  try {
    return from_json_archive<T>(source.direct_view(), registry, options);
  } catch (Error& e) {
    // The JSON parser sees text, not a file: name the file, as load_binary does.
    detail::note_error_source(e, source.description());
    throw;
  }
}

// ---------------------------------------------------------------------------------------
// Implementation.

template <class T>
void StableWriter::write_shared(const T* object, bool) {
  if (object == nullptr) {
    put_byte(0xF6);
    return;
  }
  const void* most_derived = detail::most_derived(object);
  // The value's shared objects are numbered in the order they are met, from
  // value_first_id_, as the table numbers its entries from 0 (put_shareable counts them).
  bool inserted;
  std::uint64_t index = ids_.find_or_insert(most_derived, inserted);
  if (!inserted) return put_reference(value_first_id_ + index);
  put_shareable();
  write_new_object(most_derived, typeid(*object), detail::type_ops<T>());
}

template <class T>
void StableWriter::write_unique(const T* object) {
  if (object == nullptr) {
    put_byte(0xF6);
    return;
  }
  const void* most_derived = detail::most_derived(object);
  write_new_object(most_derived, typeid(*object), detail::type_ops<T>());
}

}  // namespace brine
