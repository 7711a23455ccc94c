// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// types/optional.hpp: std::optional and std::variant.
#pragma once

#include <cstddef>
#include <optional>
#include <utility>
#include <variant>

#include "brine/codec.hpp"

namespace brine {

template <class T>
struct Codec<std::optional<T>> {
  static constexpr std::size_t min_binary_size = 1;
  static void describe(LayoutBuilder& b) {
    b.code(LayoutCode::optional);
    b.describe<T>();
  }
  template <class W>
  static void save(W& w, const std::optional<T>& o) {
    w.write_optional(o.has_value());
    if (o) Codec<T>::save(w, *o);
  }
  template <class R>
  static void load(R& r, std::optional<T>& o) {
    if (!r.read_optional()) {
      o.reset();
      return;
    }
    if (!o) o.emplace();
    Codec<T>::load(r, *o);
  }
};

/// std::variant: the alternative's index, then its value. Reordering alternatives is a
/// schema change.
template <class... Ts>
struct Codec<std::variant<Ts...>> {
  using Variant = std::variant<Ts...>;
  static constexpr std::size_t min_binary_size = 1;
  static void describe(LayoutBuilder& b) {
    b.code(LayoutCode::variant);
    b.count(sizeof...(Ts));
    (b.describe<Ts>(), ...);
  }
  template <class W>
  static void save(W& w, const Variant& v) {
    w.begin_variant(v.index());
    std::visit([&w](const auto& x) { Codec<std::decay_t<decltype(x)>>::save(w, x); }, v);
    w.end_variant();
  }
  template <class R>
  static void load(R& r, Variant& v) {
    std::size_t index = r.begin_variant(sizeof...(Ts));
    load_alternative(r, v, index, std::index_sequence_for<Ts...>{});
    r.end_variant();
  }

 private:
  template <class R, std::size_t... I>
  static void load_alternative(R& r, Variant& v, std::size_t index, std::index_sequence<I...>) {
    // The fold stops at the alternative that matches; its value is not needed (and clang's
    // -Wunused-value would flag it without the cast).
    static_cast<void>(((index == I ? (load_one<I>(r, v), true) : false) || ...));
  }
  template <std::size_t I, class R>
  static void load_one(R& r, Variant& v) {
    using Alt = std::variant_alternative_t<I, Variant>;
    Alt value{};
    Codec<Alt>::load(r, value);
    v.template emplace<I>(std::move(value));
  }
};

}  // namespace brine
