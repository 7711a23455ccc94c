// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// types/sequence.hpp: std::vector, std::deque, std::list, std::array.
#pragma once

#include <array>
#include <cstddef>
#include <deque>
#include <list>
#include <type_traits>
#include <vector>

#include "brine/codec.hpp"
#include "brine/error.hpp"

namespace brine {
namespace detail {

template <class Container>
struct SequenceCodec {
  using Element = typename Container::value_type;
  static constexpr std::size_t min_binary_size = 1;
  static void describe(LayoutBuilder& b) {
    b.code(LayoutCode::list);
    b.describe<Element>();
  }
  template <class W>
  static void save(W& w, const Container& c) {
    w.begin_list(c.size());
    for (const Element& e : c) Codec<Element>::save(w, e);
    w.end_list();
  }
  template <class R>
  static void load(R& r, Container& c) {
    std::size_t n = r.begin_list(Codec<Element>::min_binary_size);
    c.clear();
    if constexpr (std::is_same_v<Container,
                                 std::vector<Element, typename Container::allocator_type>>)
      c.reserve(r.reserve_limit(n, sizeof(Element)));
    for (std::size_t i = 0; i < n; ++i) {
      c.emplace_back();
      try {
        Codec<Element>::load(r, c.back());
      } catch (Error& e) {
        // The element's index joins the field path as the failure unwinds (to_json's form,
        // `orders[3].stamp`): nothing is tracked while reading succeeds.
        prepend_error_index(e, i);
        throw;
      }
    }
    r.end_list();
  }
};

}  // namespace detail

/// std::vector: a count and the elements; arithmetic elements are one contiguous block.
template <class T, class Alloc>
struct Codec<std::vector<T, Alloc>,
             std::enable_if_t<!std::is_same_v<T, bool> && !std::is_same_v<T, std::byte>>>
    : detail::SequenceCodec<std::vector<T, Alloc>> {
  template <class W>
  static void save(W& w, const std::vector<T, Alloc>& v) {
    if constexpr (std::is_arithmetic_v<T>)
      w.write_number_list(v.data(), v.size());
    else
      detail::SequenceCodec<std::vector<T, Alloc>>::save(w, v);
  }
  template <class R>
  static void load(R& r, std::vector<T, Alloc>& v) {
    if constexpr (std::is_arithmetic_v<T>)
      r.read_number_list(v);
    else
      detail::SequenceCodec<std::vector<T, Alloc>>::load(r, v);
  }
};

/// std::vector<bool>: one byte per element (it has no contiguous storage to copy).
template <class Alloc>
struct Codec<std::vector<bool, Alloc>> {
  static constexpr std::size_t min_binary_size = 1;
  static void describe(LayoutBuilder& b) {
    b.code(LayoutCode::list);
    b.code(LayoutCode::boolean);
  }
  template <class W>
  static void save(W& w, const std::vector<bool, Alloc>& v) {
    w.begin_list(v.size());
    for (bool x : v) w.write_bool(x);
    w.end_list();
  }
  template <class R>
  static void load(R& r, std::vector<bool, Alloc>& v) {
    std::size_t n = r.begin_list(1);
    v.clear();
    v.reserve(r.reserve_limit(n, 1));
    for (std::size_t i = 0; i < n; ++i) {
      try {
        v.push_back(r.read_bool());
      } catch (Error& e) {
        detail::prepend_error_index(e, i);
        throw;
      }
    }
    r.end_list();
  }
};

template <class T, class Alloc>
struct Codec<std::deque<T, Alloc>> : detail::SequenceCodec<std::deque<T, Alloc>> {};

template <class T, class Alloc>
struct Codec<std::list<T, Alloc>> : detail::SequenceCodec<std::list<T, Alloc>> {};

/// std::array: exactly N elements, no count.
template <class T, std::size_t N>
struct Codec<std::array<T, N>> {
  static constexpr std::size_t min_binary_size = N * Codec<T>::min_binary_size;
  static void describe(LayoutBuilder& b) {
    b.code(LayoutCode::array);
    b.count(N);
    b.describe<T>();
  }
  template <class W>
  static void save(W& w, const std::array<T, N>& a) {
    if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
      w.write_numbers(a.data(), N);
    } else {
      w.begin_tuple(N);
      for (const T& e : a) Codec<T>::save(w, e);
      w.end_tuple();
    }
  }
  template <class R>
  static void load(R& r, std::array<T, N>& a) {
    if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
      r.read_numbers(a.data(), N);
    } else {
      r.begin_tuple(N);
      for (std::size_t i = 0; i < N; ++i) {
        try {
          Codec<T>::load(r, a[i]);
        } catch (Error& e) {
          detail::prepend_error_index(e, i);
          throw;
        }
      }
      r.end_tuple();
    }
  }
};

}  // namespace brine
