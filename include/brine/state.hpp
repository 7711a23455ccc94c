// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// state.hpp: to_state / from_state between objects and the state model (value.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "brine/codec.hpp"
#include "brine/detail/export.hpp"
#include "brine/detail/registry_core.hpp"
#include "brine/detail/shared_table.hpp"
#include "brine/error.hpp"
#include "brine/limits.hpp"
#include "brine/value.hpp"

namespace brine {

/// Builds the state-model tree of objects by running their getstate hooks. Shared objects
/// get a shared_id on first occurrence and are References after.
class BRINE_API StateWriter {
 public:
  static constexpr bool is_loading = false;

  explicit StateWriter(const Registry& registry = default_registry());

  /// The state of `value`. Each call starts a fresh identity table.
  template <class T>
  Value write(const T& value);

  // Hook interface.
  template <class T>
  StateWriter& operator()(const char* name, const T& value) {
    frames_.back().field = name;
    Codec<T>::save(*this, value);
    return *this;
  }
  /// The version being written: always the current version of the object's type.
  std::uint32_t version() const noexcept { return frames_.back().version; }
  const Registry& registry() const noexcept { return registry_; }

  // Codec interface.
  template <class T>
  void save(const T& value) {
    Codec<T>::save(*this, value);
  }
  void write_bool(bool b) { emit(Value(b)); }
  template <class T>
  void write_number(T x) {
    if constexpr (std::is_floating_point_v<T>)
      emit(Value(static_cast<double>(x)));
    else if constexpr (std::is_signed_v<T>)
      emit(Value(static_cast<std::int64_t>(x)));
    else
      emit(Value(static_cast<std::uint64_t>(x)));
  }
  template <class T>
  void write_numbers(const T* values, std::size_t n);
  template <class T>
  void write_number_list(const T* values, std::size_t n) {
    write_numbers(values, n);
  }
  void write_text(std::string_view text) { emit(Value(std::string(text))); }
  void write_bytes(const void* bytes, std::size_t n);
  void begin_list(std::size_t n);
  void end_list() { pop(); }
  template <class K>
  void begin_map(std::size_t n) {
    if constexpr (std::is_same_v<K, std::string>)
      begin_text_map();
    else
      begin_list(n);
  }
  template <class K, class V>
  void save_entry(const K& key, const V& value);
  void end_map() { pop(); }
  void begin_tuple(std::size_t n) { begin_list(n); }
  void end_tuple() { pop(); }
  void write_optional(bool present) {
    if (!present) emit(Value());
  }
  void begin_variant(std::size_t index) {
    begin_list(2);
    emit(Value(static_cast<std::uint64_t>(index)));
  }
  void end_variant() { pop(); }
  template <class Rep>
  void write_duration(Rep count, std::intmax_t num, std::intmax_t den) {
    write_duration_value(Value(count), num, den);
  }
  void write_path(std::string generic) { emit(Value(PathValue{std::move(generic)})); }
  /// Another view of the tensor's storage: to_state copies no tensor byte.
  void write_tensor(const Tensor& tensor) { emit(Value(tensor)); }
  void write_function(void (*pointer)(), const std::type_info& signature);
  void write_function_name(const std::string& name) { emit(Value(FunctionRef{name})); }
  template <class T>
  void write_object(const T& value);
  template <class T>
  void write_shared(const T* object, bool weak = false);
  template <class T>
  void write_unique(const T* object);

  // Used by type_ops<T>() for polymorphic saves: the fields of the object just begun.
  template <class T>
  void write_fields(const T& value) {
    detail::call_getstate(*this, value);
  }

 private:
  struct Frame {
    Value* container;
    const char* field = nullptr;
    std::string key;
    std::uint32_t version = 0;
  };
  Value& emit(Value v);
  void begin_text_map();
  void push(Value& container, std::uint32_t version) {
    frames_.push_back({&container, nullptr, {}, version});
  }
  void pop() { frames_.pop_back(); }
  void write_duration_value(Value count, std::intmax_t num, std::intmax_t den);
  Object& begin_object(std::string_view type_name, std::uint32_t version);
  /// Writes back fields kept from a newer version (and that version) after getstate's.
  static void append_unknown(Object& object, const UnknownFields& unknown);
  void write_pointer(const void* most_derived, const std::type_info& dynamic_type,
                     const detail::TypeOps& static_ops, bool shared, bool weak);
  void set_pending_key(std::string key) { frames_.back().key = std::move(key); }

  const Registry& registry_;
  Value root_;
  std::vector<Frame> frames_;
  detail::PointerIdMap ids_;
};

/// Reads objects back from a state-model tree through their setstate hooks. The tree must
/// already be upgraded (Registry::upgrade), as from_state() does.
class BRINE_API StateReader {
 public:
  static constexpr bool is_loading = true;

  /// `root`, `registry` and `table` must outlive the reader. `table` is shared with a binary
  /// reader when a binary archive falls back to the state model for an older class version.
  StateReader(const Value& root, const Registry& registry, const LoadOptions& options,
              detail::SharedObjectTable* table = nullptr, std::string source = {});

  /// Reads the root value into `out`. On failure, the shared objects this reader created
  /// (when it owns its table) are released, cycles among them included.
  template <class T>
  void read(T& out) {
    try {
      Codec<T>::load(*this, out);
    } catch (...) {
      rethrow_after_failure(std::current_exception());
    }
  }

  // Hook interface.
  /// Reads field `name` into `value`; throws SchemaError (errc::missing_field) naming the
  /// type, its versions and the field when the archived state lacks it.
  template <class T>
  StateReader& operator()(const char* name, T& value) {
    try {
      enter_field(name);
      Codec<T>::load(*this, value);
    } catch (Error& e) {
      // The path is built as a failure unwinds, as BinaryReader does.
      detail::prepend_error_field(e, name);
      throw;
    }
    leave();
    return *this;
  }
  /// Reads field `name` when present; leaves `value` untouched and returns false otherwise.
  template <class T>
  bool optional_field(const char* name, T& value) {
    if (!has(name)) return false;
    (*this)(name, value);
    return true;
  }
  /// The version of the object being read, after migrations.
  std::uint32_t version() const noexcept;
  /// Whether the object being read has field `name`.
  bool has(const char* name) const;
  const Registry& registry() const noexcept { return registry_; }

  // Codec interface.
  template <class T>
  void load(T& value) {
    Codec<T>::load(*this, value);
  }
  bool read_bool();
  template <class T>
  T read_number();
  template <class T>
  void read_numbers(T* values, std::size_t n);
  template <class T, class Alloc>
  void read_number_list(std::vector<T, Alloc>& out);
  void read_text(std::string& out);
  void read_bytes(std::vector<std::uint8_t>& out);
  std::size_t begin_list(std::size_t min_element_size = 0);
  void end_list() { leave(); }
  std::size_t reserve_limit(std::size_t n, std::size_t = 1) const noexcept { return n; }
  template <class K>
  std::size_t begin_map(std::size_t min_entry_size = 0) {
    if constexpr (std::is_same_v<K, std::string>)
      return begin_text_map();
    else
      return begin_list(min_entry_size);
  }
  template <class K, class V>
  void load_entry(K& key, V& value);
  void end_map() { leave(); }
  void begin_tuple(std::size_t n);
  void end_tuple() { leave(); }
  bool read_optional();
  std::size_t begin_variant(std::size_t alternatives);
  void end_variant() { leave(); }
  template <class Rep>
  Rep read_duration(std::intmax_t num, std::intmax_t den);
  std::string read_path();
  void read_tensor(Tensor& out);
  void (*read_function(const std::type_info& signature))();
  const FunctionInfo& read_function_info(const std::type_info& signature);
  template <class T>
  void read_object(T& value);
  /// Reads a pointer: fills `out` with the object (as the address of a T) and its owner.
  template <class T>
  void read_shared(std::shared_ptr<T>& out);
  template <class T>
  void read_unique(std::unique_ptr<T>& out);

  /// Reads the root value, an object of the type of `ops`, into `out` (the binary reader's
  /// path for older class versions).
  void read_root_object(const detail::TypeOps& ops, void* out);

  // Used by type_ops<T>(): the fields of the object taken last.
  template <class T>
  void read_fields(T& value) {
    detail::call_setstate(*this, value);
  }

  /// Throws SchemaError (type mismatch) naming what was expected and what was found.
  [[noreturn]] void fail_kind(const char* expected, const Value& found) const;
  [[noreturn]] void fail(errc code, const std::string& message) const;

 private:
  struct Frame {
    const Value* value = nullptr;  // the container or single value of this level
    const Object* object = nullptr;
    std::size_t index = 0;
    bool taken = false;
    const char* field = nullptr;
    Value::Map::const_iterator map_it{};
  };
  const Value& take();
  void enter(const Value& v) { frames_.push_back(Frame{&v}); }
  void enter_field(const char* name);
  void leave() { frames_.pop_back(); }
  std::size_t begin_text_map();
  const Value& enter_map_entry(std::string* key_out);
  std::int64_t take_int64();
  std::uint64_t take_uint64();
  double take_double();
  template <class T>
  T narrow(const Value& v);
  /// The count of a duration value and its period (pnum/pden; 0/0 for a bare count).
  const Value& duration_count(const Value& v, long long& pnum, long long& pden);
  /// Ticks of the field's period num/den, exactly (integer representations).
  std::int64_t duration_ticks(const Value& v, std::intmax_t num, std::intmax_t den);
  /// Ticks of the field's period num/den, fractions kept (floating-point representations).
  double duration_real_ticks(const Value& v, std::intmax_t num, std::intmax_t den);
  /// Keeps the fields of `object` that the layout of `ops` does not name (and its version
  /// when it is newer) in `unknown`.
  void collect_unknown(const Object& object, const detail::TypeOps& ops,
                       UnknownFields& unknown) const;
  /// Throws unless `object` is of type `expected` (by name or alias) and not newer than it
  /// (newer is accepted for types keeping UnknownFields under
  /// LoadOptions::accept_newer_class_versions).
  void check_object_type(const Object& object, const detail::TypeOps& expected) const;
  using PointerTarget = detail::PointerTarget;
  PointerTarget read_pointer(const detail::TypeOps& static_ops, bool shared);
  ErrorContext context() const;
  /// Releases the shared objects of a failed load (when this reader owns the table) and
  /// rethrows; a brine::Error raised without context (by a Value accessor) gets the
  /// reader's type and field, which the frames still describe while unwinding.
  [[noreturn]] void rethrow_after_failure(std::exception_ptr failure);

  const Value& root_;
  const Registry& registry_;
  LoadOptions options_;
  detail::SharedObjectTable own_table_;
  detail::SharedObjectTable* table_;
  std::string source_;
  std::vector<Frame> frames_;
  std::size_t depth_ = 0;
};

/// The state-model tree of `object`. Throws SchemaError for an unregistered dynamic type
/// behind a polymorphic pointer or an unregistered function.
template <class T>
Value to_state(const T& object, const Registry& registry = default_registry()) {
  return StateWriter(registry).write(object);
}

/// Builds a T from a state-model tree written by any earlier version of T: runs the
/// registered migrations, then setstate. Throws SchemaError / MigrationError / VersionError
/// as Registry::upgrade and the hooks report.
template <class T>
T from_state(Value state, const Registry& registry = default_registry(),
             const LoadOptions& options = {}) {
  registry.upgrade(state, options);
  T result{};
  StateReader(state, registry, options).read(result);
  return result;
}

// ---------------------------------------------------------------------------------------
// Implementation.

template <class T>
Value StateWriter::write(const T& value) {
  root_ = Value();
  frames_.clear();
  ids_.clear();
  frames_.push_back({&root_, nullptr, {}, 0});
  Codec<T>::save(*this, value);
  frames_.clear();
  return std::move(root_);
}

template <class T>
void StateWriter::write_numbers(const T* values, std::size_t n) {
  if constexpr (std::is_same_v<T, std::uint8_t>) {
    write_bytes(values, n);
  } else {
    Value::List list;
    list.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      if constexpr (std::is_floating_point_v<T>)
        list.emplace_back(static_cast<double>(values[i]));
      else if constexpr (std::is_signed_v<T>)
        list.emplace_back(static_cast<std::int64_t>(values[i]));
      else
        list.emplace_back(static_cast<std::uint64_t>(values[i]));
    }
    emit(Value(std::move(list)));
  }
}

template <class K, class V>
void StateWriter::save_entry(const K& key, const V& value) {
  if constexpr (std::is_same_v<K, std::string>) {
    set_pending_key(key);
    Codec<V>::save(*this, value);
  } else {
    begin_list(2);
    Codec<K>::save(*this, key);
    Codec<V>::save(*this, value);
    end_list();
  }
}

template <class T>
void StateWriter::write_object(const T& value) {
  const detail::TypeOps& ops = detail::type_ops<T>();
  Object& object = begin_object(ops.name, ops.version);
  detail::call_getstate(*this, value);
  if constexpr (detail::has_unknown_fields<T>::value)
    append_unknown(object, Access::unknown_fields(value));
  pop();
}

template <class T>
void StateWriter::write_shared(const T* object, bool weak) {
  if (object == nullptr) {
    emit(Value());
    return;
  }
  const detail::TypeOps& ops = detail::type_ops<T>();
  write_pointer(detail::most_derived(object), typeid(*object), ops, true, weak);
}

template <class T>
void StateWriter::write_unique(const T* object) {
  if (object == nullptr) {
    emit(Value());
    return;
  }
  const detail::TypeOps& ops = detail::type_ops<T>();
  write_pointer(detail::most_derived(object), typeid(*object), ops, false, false);
}

template <class T>
T StateReader::read_number() {
  const Value& v = take();
  return narrow<T>(v);
}

template <class T>
T StateReader::narrow(const Value& v) {
  if constexpr (std::is_floating_point_v<T>) {
    if (!v.is_number()) fail_kind("number", v);
    return static_cast<T>(v.as_double());
  } else if constexpr (std::is_signed_v<T>) {
    if (v.kind() != ValueKind::signed_integer && v.kind() != ValueKind::unsigned_integer &&
        v.kind() != ValueKind::floating)
      fail_kind("integer", v);
    std::int64_t x = v.as_int64();
    if (x < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
        x > static_cast<std::int64_t>(std::numeric_limits<T>::max()))
      fail(errc::type_mismatch, "integer " + std::to_string(x) + " does not fit the field's type");
    return static_cast<T>(x);
  } else {
    if (v.kind() != ValueKind::signed_integer && v.kind() != ValueKind::unsigned_integer &&
        v.kind() != ValueKind::floating)
      fail_kind("integer", v);
    std::uint64_t x = v.as_uint64();
    if (x > static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
      fail(errc::type_mismatch, "integer " + std::to_string(x) + " does not fit the field's type");
    return static_cast<T>(x);
  }
}

template <class T>
void StateReader::read_numbers(T* values, std::size_t n) {
  std::size_t count = begin_list(0);
  if (count != n)
    fail(errc::type_mismatch,
         "expected " + std::to_string(n) + " elements, found " + std::to_string(count));
  for (std::size_t i = 0; i < n; ++i) values[i] = read_number<T>();
  end_list();
}

template <class T, class Alloc>
void StateReader::read_number_list(std::vector<T, Alloc>& out) {
  if constexpr (std::is_same_v<T, std::uint8_t>) {
    const Value& v = take();
    if (v.kind() == ValueKind::bytes) {
      out.assign(v.as_bytes().data.begin(), v.as_bytes().data.end());
      return;
    }
    if (v.kind() != ValueKind::list) fail_kind("bytes", v);
    enter(v);
    frames_.back().taken = true;
    std::size_t n = v.as_list().size();
    out.resize(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = read_number<T>();
    leave();
  } else {
    std::size_t n = begin_list(0);
    out.resize(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = read_number<T>();
    end_list();
  }
}

template <class K, class V>
void StateReader::load_entry(K& key, V& value) {
  if constexpr (std::is_same_v<K, std::string>) {
    enter_map_entry(&key);
    Codec<V>::load(*this, value);
    leave();
  } else {
    begin_tuple(2);
    Codec<K>::load(*this, key);
    Codec<V>::load(*this, value);
    end_tuple();
  }
}

template <class Rep>
Rep StateReader::read_duration(std::intmax_t num, std::intmax_t den) {
  const Value& v = take();
  if constexpr (std::is_floating_point_v<Rep>) {
    return static_cast<Rep>(duration_real_ticks(v, num, den));
  } else {
    std::int64_t ticks = duration_ticks(v, num, den);
    // Compared in the signed domain first: a negative count must not pass through uint64.
    bool fits = std::is_signed_v<Rep>
                    ? ticks >= static_cast<std::int64_t>(std::numeric_limits<Rep>::min()) &&
                          ticks <= static_cast<std::int64_t>(std::numeric_limits<Rep>::max())
                    : ticks >= 0 && static_cast<std::uint64_t>(ticks) <=
                                        static_cast<std::uint64_t>(std::numeric_limits<Rep>::max());
    if (!fits) fail(errc::type_mismatch, "duration does not fit the field's type");
    return static_cast<Rep>(ticks);
  }
}

template <class T>
void StateReader::read_object(T& value) {
  const Value& v = take();
  if (v.kind() != ValueKind::object) fail_kind("object", v);
  const Object& object = v.as_object();
  check_object_type(object, detail::type_ops<T>());
  if (++depth_ > options_.max_depth)
    fail(errc::limit_exceeded, "nesting depth exceeds LoadOptions::max_depth (" +
                                   std::to_string(options_.max_depth) + ")");
  enter(v);
  frames_.back().object = &object;
  frames_.back().taken = true;
  detail::call_setstate(*this, value);
  if constexpr (detail::has_unknown_fields<T>::value)
    collect_unknown(object, detail::type_ops<T>(), Access::unknown_fields(value));
  leave();
  --depth_;
}

template <class T>
void StateReader::read_shared(std::shared_ptr<T>& out) {
  PointerTarget target = read_pointer(detail::type_ops<T>(), true);
  if (target.address == nullptr) {
    out.reset();
    return;
  }
  out = std::shared_ptr<T>(std::move(target.owner), static_cast<T*>(target.address));
}

template <class T>
void StateReader::read_unique(std::unique_ptr<T>& out) {
  PointerTarget target = read_pointer(detail::type_ops<T>(), false);
  if (target.address == nullptr) {
    out.reset();
    return;
  }
  // read_pointer hands over ownership of a raw object for unique pointers.
  out.reset(static_cast<T*>(target.address));
}

}  // namespace brine
