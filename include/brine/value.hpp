// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// value.hpp: the state model, the value tree both archive paths and migrations speak.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "brine/detail/export.hpp"
#include "brine/limits.hpp"
#include "brine/tensor.hpp"

namespace brine {

class Value;

/// The kinds of value in the state model. The numbers are stable (they appear in docs/ and
/// in error messages).
enum class ValueKind : std::uint8_t {
  null = 0,          ///< absence (an empty optional, a null pointer)
  boolean,           ///< true or false
  signed_integer,    ///< int64
  unsigned_integer,  ///< uint64
  floating,          ///< double (float32 values widen exactly)
  text,              ///< UTF-8 string
  bytes,             ///< opaque byte string
  list,              ///< ordered sequence
  map,               ///< string-keyed map, keys sorted bytewise
  object,            ///< typed object: {type, version, fields}
  reference,         ///< back reference to a shared object written earlier (by id)
  function,          ///< a registered function or callable, by name
  path,              ///< a filesystem path, generic form, '/' separated
  tensor,            ///< a brine::Tensor: dtype, shape, bytes (shared, possibly mapped)
};

/// Name of a kind as written in messages ("text", "unsigned_integer").
BRINE_API const char* kind_name(ValueKind kind) noexcept;

/// Opaque bytes.
struct Bytes {
  std::vector<std::uint8_t> data;
  friend bool operator==(const Bytes& a, const Bytes& b) { return a.data == b.data; }
};

/// A back reference to the shared object whose Object::shared_id is `id`.
struct Reference {
  std::uint64_t id = 0;
  friend bool operator==(const Reference& a, const Reference& b) { return a.id == b.id; }
};

/// A registered function, by its registered name.
struct FunctionRef {
  std::string name;
  friend bool operator==(const FunctionRef& a, const FunctionRef& b) { return a.name == b.name; }
};

/// A filesystem path in generic form.
struct PathValue {
  std::string generic;
  friend bool operator==(const PathValue& a, const PathValue& b) { return a.generic == b.generic; }
};

/// A tensor in the state model. Held through a pointer so that every Value stays as small
/// as before tensors (a Tensor is a hundred bytes; a Value holds one of its kinds inline).
/// The pointee is another view of the tensor's storage, never a copy of its bytes.
struct TensorValue {
  std::shared_ptr<const Tensor> tensor;
  friend bool operator==(const TensorValue& a, const TensorValue& b) {
    return *a.tensor == *b.tensor;
  }
};

/// One named field of an object.
struct Field;

/// A typed object. Fields keep the order getstate wrote them in.
struct BRINE_API Object {
  std::string type;
  std::uint32_t version = 0;
  std::vector<Field> fields;
  /// Set when the object is the target of shared pointers; later occurrences are References.
  std::optional<std::uint64_t> shared_id;

  /// The field named `name`, or nullptr.
  const Value* find(std::string_view name) const noexcept;
  Value* find(std::string_view name) noexcept;
  /// Sets `name` to `value`, appending the field when it is absent.
  void set(std::string name, Value value);
  /// Removes `name`; returns whether it was present.
  bool erase(std::string_view name);

  friend bool operator==(const Object& a, const Object& b);
};

/// A node of the state model. A Value owns its children; copies are deep.
class BRINE_API Value {
 public:
  using List = std::vector<Value>;
  using Map = std::map<std::string, Value, std::less<>>;

  Value() noexcept = default;
  Value(std::nullptr_t) noexcept {}
  Value(bool b) : data_(b) {}
  template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool> &&
                                          !std::is_same_v<T, char>,
                                      int> = 0>
  Value(T x) {
    if constexpr (std::is_signed_v<T>)
      data_ = static_cast<std::int64_t>(x);
    else
      data_ = static_cast<std::uint64_t>(x);
  }
  Value(double x) : data_(x) {}
  Value(float x) : data_(static_cast<double>(x)) {}
  Value(std::string text) : data_(std::move(text)) {}
  Value(std::string_view text) : data_(std::string(text)) {}
  Value(const char* text) : data_(std::string(text)) {}
  Value(Bytes b) : data_(std::move(b)) {}
  Value(List l) : data_(std::move(l)) {}
  Value(Map m) : data_(std::move(m)) {}
  Value(Object o) : data_(std::move(o)) {}
  Value(Reference r) : data_(r) {}
  Value(FunctionRef f) : data_(std::move(f)) {}
  Value(PathValue p) : data_(std::move(p)) {}
  /// Holds another view of the tensor's storage: no byte is copied.
  Value(Tensor t) : data_(TensorValue{std::make_shared<const Tensor>(std::move(t))}) {}

  ValueKind kind() const noexcept { return static_cast<ValueKind>(data_.index()); }
  bool is_null() const noexcept { return kind() == ValueKind::null; }
  bool is_number() const noexcept {
    auto k = kind();
    return k == ValueKind::signed_integer || k == ValueKind::unsigned_integer ||
           k == ValueKind::floating;
  }

  // Typed accessors. Each throws SchemaError (errc::type_mismatch) when the kind differs;
  // the numeric ones convert between integer kinds and to double when the value is exactly
  // representable, and throw otherwise, so a migrated or hand-written archive that stores
  // 3 for a double field loads, and -1 for an unsigned field does not.
  bool as_bool() const;
  std::int64_t as_int64() const;
  std::uint64_t as_uint64() const;
  double as_double() const;
  const std::string& as_text() const;
  const Bytes& as_bytes() const;
  const List& as_list() const;
  List& as_list();
  const Map& as_map() const;
  Map& as_map();
  const Object& as_object() const;
  Object& as_object();
  const Reference& as_reference() const;
  const FunctionRef& as_function() const;
  const PathValue& as_path() const;
  const Tensor& as_tensor() const;

  /// The underlying variant, in ValueKind order, for std::visit.
  using Variant =
      std::variant<std::monostate, bool, std::int64_t, std::uint64_t, double, std::string, Bytes,
                   List, Map, Object, Reference, FunctionRef, PathValue, TensorValue>;
  const Variant& variant() const noexcept { return data_; }

  /// Deep equality. Integers compare by numeric value whatever their kind (JSON and CBOR
  /// cannot tell a non-negative signed integer from an unsigned one).
  friend bool operator==(const Value& a, const Value& b);
  friend bool operator!=(const Value& a, const Value& b) { return !(a == b); }

 private:
  Variant data_;
};

/// Declared again at namespace scope to export it (a friend declaration cannot).
BRINE_API bool operator==(const Value& a, const Value& b);

struct Field {
  std::string name;
  Value value;
  friend bool operator==(const Field& a, const Field& b) {
    return a.name == b.name && a.value == b.value;
  }
};

inline bool operator==(const Object& a, const Object& b) {
  return a.type == b.type && a.version == b.version && a.fields == b.fields &&
         a.shared_id == b.shared_id;
}

/// Options of the JSON rendering.
struct JsonOptions {
  /// Spaces per indentation level; negative writes one line.
  int indent = 2;
  /// JSON text is UTF-8, while a std::string (text, names, keys) may hold any bytes. By
  /// default such a string is refused (FormatError naming where it is), so that nothing is
  /// written that would load back as other data. On, each invalid byte sequence is written
  /// as U+FFFD instead: lossy, for output meant to be read by people (`brine dump`).
  bool replace_invalid_utf8 = false;
  /// json_document refuses (LimitError) a value nested deeper than json_document_values
  /// accepts with this LoadOptions::max_depth: 4 x max_depth levels of JSON arrays and
  /// objects, the document's own two included. to_json itself renders any depth.
  std::size_t max_depth = LoadOptions{}.max_depth;
  /// Renders each tensor without its bytes, as {"$tensor": {"dtype", "nbytes", "shape",
  /// "xxh3_64"}} (the XXH3-64 of its bytes in 16 hex digits): for output read by people,
  /// such as `brine dump`; value_from_json refuses it.
  bool summarize_tensors = false;
};

/// Renders a value as JSON. The rendering is canonical (maps sorted, numbers shortest
/// round-trip, fixed escapes) and lossless: value_from_json(to_json(v)) == v.
/// Kinds JSON lacks are tagged objects: {"$type": ..., "$version": ..., fields...},
/// {"$bytes": base64}, {"$ref": id}, {"$function": name}, {"$path": generic},
/// {"$float": "nan" | "inf" | "-inf"}; map keys beginning with '$' are written as "$$...".
/// Throws FormatError (corrupt_data) naming the field path when a text, name, key, path or
/// function name is not valid UTF-8, unless options.replace_invalid_utf8 is set.
BRINE_API std::string to_json(const Value& value, const JsonOptions& options = {});

/// Parses the JSON rendering back into a value. Throws FormatError on malformed JSON (with
/// the byte offset) and LimitError when nesting exceeds `max_depth`.
BRINE_API Value value_from_json(std::string_view json, std::size_t max_depth = 1000);

}  // namespace brine
