// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// types/memory.hpp: std::shared_ptr (sharing and cycles preserved), std::weak_ptr, std::unique_ptr.
#pragma once

#include <cstddef>
#include <memory>
#include <type_traits>

#include "brine/codec.hpp"

namespace brine {

/// std::shared_ptr<T> of a declared object type: each object is written once and referenced
/// after, so sharing and cycles survive a round trip; a polymorphic T loads as the
/// registered dynamic type.
template <class T>
struct Codec<std::shared_ptr<T>> {
  static_assert(
      is_object_type_v<T>,
      "brine: std::shared_ptr<T> needs T declared with BRINE_TYPE or BRINE_EXTERNAL_TYPE");
  static constexpr std::size_t min_binary_size = 1;
  static void describe(LayoutBuilder& b) {
    b.object(LayoutCode::shared, detail::type_ops<std::remove_const_t<T>>());
  }
  template <class W>
  static void save(W& w, const std::shared_ptr<T>& p) {
    w.write_shared(p.get());
  }
  template <class R>
  static void load(R& r, std::shared_ptr<T>& p) {
    std::shared_ptr<std::remove_const_t<T>> loaded;
    r.read_shared(loaded);
    p = std::move(loaded);
  }
};

/// std::weak_ptr<T>: written like the shared_ptr it locks to. After loading it is expired
/// unless a shared_ptr in the same loaded value owns the object.
template <class T>
struct Codec<std::weak_ptr<T>> {
  static_assert(is_object_type_v<T>,
                "brine: std::weak_ptr<T> needs T declared with BRINE_TYPE or BRINE_EXTERNAL_TYPE");
  static constexpr std::size_t min_binary_size = 1;
  static void describe(LayoutBuilder& b) {
    b.object(LayoutCode::weak, detail::type_ops<std::remove_const_t<T>>());
  }
  template <class W>
  static void save(W& w, const std::weak_ptr<T>& p) {
    w.write_shared(p.lock().get(), true);
  }
  template <class R>
  static void load(R& r, std::weak_ptr<T>& p) {
    std::shared_ptr<std::remove_const_t<T>> loaded;
    r.read_shared(loaded);
    p = loaded;
  }
};

/// std::unique_ptr<T>: for a declared object type, the owned object (polymorphic types load
/// as their registered dynamic type); for any other type, like std::optional<T>.
template <class T, class D>
struct Codec<std::unique_ptr<T, D>> {
  static constexpr std::size_t min_binary_size = 1;
  static void describe(LayoutBuilder& b) {
    if constexpr (is_object_type_v<T>) {
      b.object(LayoutCode::unique, detail::type_ops<T>());
    } else {
      b.code(LayoutCode::optional);
      b.describe<T>();
    }
  }
  template <class W>
  static void save(W& w, const std::unique_ptr<T, D>& p) {
    if constexpr (is_object_type_v<T>) {
      w.write_unique(p.get());
    } else {
      w.write_optional(p != nullptr);
      if (p) Codec<T>::save(w, *p);
    }
  }
  template <class R>
  static void load(R& r, std::unique_ptr<T, D>& p) {
    if constexpr (is_object_type_v<T>) {
      static_assert(std::is_same_v<D, std::default_delete<T>>,
                    "brine: loading std::unique_ptr with a custom deleter is not supported");
      static_assert(
          !std::is_polymorphic_v<T> || std::has_virtual_destructor_v<T>,
          "brine: std::unique_ptr<Base> of a polymorphic Base needs a virtual destructor");
      r.read_unique(p);
    } else {
      if (!r.read_optional()) {
        p.reset();
        return;
      }
      auto value = std::make_unique<T>();
      Codec<T>::load(r, *value);
      p = std::move(value);
    }
  }
};

}  // namespace brine
