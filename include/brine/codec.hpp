// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// codec.hpp: codecs of arithmetic types, enums and declared object types.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "brine/hooks.hpp"
#include "brine/layout.hpp"

namespace brine {
namespace detail {

template <class T>
constexpr LayoutCode arithmetic_code() {
  if constexpr (std::is_same_v<T, bool>) {
    return LayoutCode::boolean;
  } else if constexpr (std::is_floating_point_v<T>) {
    static_assert(sizeof(T) == 4 || sizeof(T) == 8, "brine: long double is not portable");
    return sizeof(T) == 4 ? LayoutCode::f32 : LayoutCode::f64;
  } else if constexpr (std::is_signed_v<T>) {
    return sizeof(T) == 1   ? LayoutCode::i8
           : sizeof(T) == 2 ? LayoutCode::i16
           : sizeof(T) == 4 ? LayoutCode::i32
                            : LayoutCode::i64;
  } else {
    return sizeof(T) == 1   ? LayoutCode::u8
           : sizeof(T) == 2 ? LayoutCode::u16
           : sizeof(T) == 4 ? LayoutCode::u32
                            : LayoutCode::u64;
  }
}

}  // namespace detail

/// Arithmetic types: fixed-width little-endian in the binary archive.
template <class T>
struct Codec<T, std::enable_if_t<std::is_arithmetic_v<T>>> {
  static_assert(sizeof(T) <= 8, "brine: arithmetic types wider than 64 bits are not supported");
  static constexpr std::size_t min_binary_size = std::is_same_v<T, bool> ? 1 : sizeof(T);
  static void describe(LayoutBuilder& b) { b.code(detail::arithmetic_code<T>()); }
  template <class W>
  static void save(W& w, const T& v) {
    if constexpr (std::is_same_v<T, bool>)
      w.write_bool(v);
    else
      w.write_number(v);
  }
  template <class R>
  static void load(R& r, T& v) {
    if constexpr (std::is_same_v<T, bool>)
      v = r.read_bool();
    else
      v = r.template read_number<T>();
  }
};

/// Enums: their underlying integer. Renumbering enumerators is a schema change that needs a
/// version bump and a migration.
template <class T>
struct Codec<T, std::enable_if_t<std::is_enum_v<T>>> {
  using Underlying = std::underlying_type_t<T>;
  static constexpr std::size_t min_binary_size = sizeof(Underlying);
  static void describe(LayoutBuilder& b) { b.code(detail::arithmetic_code<Underlying>()); }
  template <class W>
  static void save(W& w, const T& v) {
    w.write_number(static_cast<Underlying>(v));
  }
  template <class R>
  static void load(R& r, T& v) {
    v = static_cast<T>(r.template read_number<Underlying>());
  }
};

/// Declared object types: their fields inline, in the order getstate writes them.
template <class T>
struct Codec<T, std::enable_if_t<is_object_type_v<T> && !std::is_enum_v<T>>> {
  static constexpr std::size_t min_binary_size = 0;
  static void describe(LayoutBuilder& b) { b.object(LayoutCode::object, detail::type_ops<T>()); }
  template <class W>
  static void save(W& w, const T& v) {
    w.write_object(v);
  }
  template <class R>
  static void load(R& r, T& v) {
    r.read_object(v);
  }
};

template <class T>
LayoutBuilder& LayoutBuilder::operator()(const char* name, const T&) {
  begin_field(name);
  Codec<T>::describe(*this);
  return *this;
}

template <class T>
void LayoutBuilder::describe() {
  Codec<T>::describe(*this);
}

}  // namespace brine
