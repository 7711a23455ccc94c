// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// state/value.cpp: the state model's accessors and their conversions.

#include "brine/value.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "brine/error.hpp"

namespace brine {

const char* kind_name(ValueKind kind) noexcept {
  switch (kind) {
    case ValueKind::null:
      return "null";
    case ValueKind::boolean:
      return "boolean";
    case ValueKind::signed_integer:
      return "signed_integer";
    case ValueKind::unsigned_integer:
      return "unsigned_integer";
    case ValueKind::floating:
      return "floating";
    case ValueKind::text:
      return "text";
    case ValueKind::bytes:
      return "bytes";
    case ValueKind::list:
      return "list";
    case ValueKind::map:
      return "map";
    case ValueKind::object:
      return "object";
    case ValueKind::reference:
      return "reference";
    case ValueKind::function:
      return "function";
    case ValueKind::path:
      return "path";
    case ValueKind::tensor:
      return "tensor";
  }
  return "unknown";
}

namespace {
[[noreturn]] void mismatch(const char* expected, ValueKind found) {
  detail::throw_error(errc::type_mismatch,
                      std::string("expected ") + expected + ", found " + kind_name(found));
}
[[noreturn]] void out_of_range(const std::string& what, const char* target) {
  detail::throw_error(errc::type_mismatch, what + " does not fit " + target);
}
}  // namespace

const Value* Object::find(std::string_view name) const noexcept {
  for (const Field& f : fields)
    if (f.name == name) return &f.value;
  return nullptr;
}

Value* Object::find(std::string_view name) noexcept {
  for (Field& f : fields)
    if (f.name == name) return &f.value;
  return nullptr;
}

void Object::set(std::string name, Value value) {
  if (Value* v = find(name)) {
    *v = std::move(value);
    return;
  }
  fields.push_back(Field{std::move(name), std::move(value)});
}

bool Object::erase(std::string_view name) {
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    if (it->name == name) {
      fields.erase(it);
      return true;
    }
  }
  return false;
}

bool operator==(const Value& a, const Value& b) {
  ValueKind ka = a.kind(), kb = b.kind();
  bool ia = ka == ValueKind::signed_integer || ka == ValueKind::unsigned_integer;
  bool ib = kb == ValueKind::signed_integer || kb == ValueKind::unsigned_integer;
  if (ia && ib && ka != kb) {
    const Value& s = ka == ValueKind::signed_integer ? a : b;
    const Value& u = ka == ValueKind::signed_integer ? b : a;
    std::int64_t sv = std::get<std::int64_t>(s.data_);
    return sv >= 0 && static_cast<std::uint64_t>(sv) == std::get<std::uint64_t>(u.data_);
  }
  return a.data_ == b.data_;
}

bool Value::as_bool() const {
  if (auto p = std::get_if<bool>(&data_)) return *p;
  mismatch("boolean", kind());
}

std::int64_t Value::as_int64() const {
  switch (kind()) {
    case ValueKind::signed_integer:
      return std::get<std::int64_t>(data_);
    case ValueKind::unsigned_integer: {
      std::uint64_t u = std::get<std::uint64_t>(data_);
      if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        out_of_range("integer " + std::to_string(u), "a signed 64-bit integer");
      return static_cast<std::int64_t>(u);
    }
    case ValueKind::floating: {
      double d = std::get<double>(data_);
      // 2^63 is exactly representable; anything at or above it does not fit.
      if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || std::trunc(d) != d)
        out_of_range("number " + std::to_string(d), "an integer");
      return static_cast<std::int64_t>(d);
    }
    default:
      mismatch("integer", kind());
  }
}

std::uint64_t Value::as_uint64() const {
  switch (kind()) {
    case ValueKind::unsigned_integer:
      return std::get<std::uint64_t>(data_);
    case ValueKind::signed_integer: {
      std::int64_t s = std::get<std::int64_t>(data_);
      if (s < 0) out_of_range("integer " + std::to_string(s), "an unsigned integer");
      return static_cast<std::uint64_t>(s);
    }
    case ValueKind::floating: {
      double d = std::get<double>(data_);
      if (!(d >= 0.0 && d < 18446744073709551616.0) || std::trunc(d) != d)
        out_of_range("number " + std::to_string(d), "an unsigned integer");
      return static_cast<std::uint64_t>(d);
    }
    default:
      mismatch("integer", kind());
  }
}

double Value::as_double() const {
  switch (kind()) {
    case ValueKind::floating:
      return std::get<double>(data_);
    case ValueKind::signed_integer:
      return static_cast<double>(std::get<std::int64_t>(data_));
    case ValueKind::unsigned_integer:
      return static_cast<double>(std::get<std::uint64_t>(data_));
    default:
      mismatch("number", kind());
  }
}

#define BRINE_VALUE_ACCESSOR(ret, fn, alt, expected)  \
  ret Value::fn() const {                             \
    if (auto p = std::get_if<alt>(&data_)) return *p; \
    mismatch(expected, kind());                       \
  }
BRINE_VALUE_ACCESSOR(const std::string&, as_text, std::string, "text")
BRINE_VALUE_ACCESSOR(const Bytes&, as_bytes, Bytes, "bytes")
BRINE_VALUE_ACCESSOR(const Value::List&, as_list, List, "list")
BRINE_VALUE_ACCESSOR(const Value::Map&, as_map, Map, "map")
BRINE_VALUE_ACCESSOR(const Object&, as_object, Object, "object")
BRINE_VALUE_ACCESSOR(const Reference&, as_reference, Reference, "reference")
BRINE_VALUE_ACCESSOR(const FunctionRef&, as_function, FunctionRef, "function")
BRINE_VALUE_ACCESSOR(const PathValue&, as_path, PathValue, "path")
#undef BRINE_VALUE_ACCESSOR

const Tensor& Value::as_tensor() const {
  if (auto p = std::get_if<TensorValue>(&data_)) return *p->tensor;
  mismatch("tensor", kind());
}

Value::List& Value::as_list() {
  if (auto p = std::get_if<List>(&data_)) return *p;
  mismatch("list", kind());
}
Value::Map& Value::as_map() {
  if (auto p = std::get_if<Map>(&data_)) return *p;
  mismatch("map", kind());
}
Object& Value::as_object() {
  if (auto p = std::get_if<Object>(&data_)) return *p;
  mismatch("object", kind());
}

}  // namespace brine
