// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// types/utility.hpp: std::pair, std::tuple, std::complex.
#pragma once

#include <complex>
#include <cstddef>
#include <tuple>
#include <utility>

#include "brine/codec.hpp"

namespace brine {

template <class A, class B>
struct Codec<std::pair<A, B>> {
  static constexpr std::size_t min_binary_size =
      Codec<A>::min_binary_size + Codec<B>::min_binary_size;
  static void describe(LayoutBuilder& b) {
    b.code(LayoutCode::tuple);
    b.count(2);
    b.describe<A>();
    b.describe<B>();
  }
  template <class W>
  static void save(W& w, const std::pair<A, B>& p) {
    w.begin_tuple(2);
    Codec<A>::save(w, p.first);
    Codec<B>::save(w, p.second);
    w.end_tuple();
  }
  template <class R>
  static void load(R& r, std::pair<A, B>& p) {
    r.begin_tuple(2);
    Codec<std::remove_const_t<A>>::load(r, const_cast<std::remove_const_t<A>&>(p.first));
    Codec<B>::load(r, p.second);
    r.end_tuple();
  }
};

template <class... Ts>
struct Codec<std::tuple<Ts...>> {
  static constexpr std::size_t min_binary_size =
      (std::size_t{0} + ... + Codec<Ts>::min_binary_size);
  static void describe(LayoutBuilder& b) {
    b.code(LayoutCode::tuple);
    b.count(sizeof...(Ts));
    (b.describe<Ts>(), ...);
  }
  template <class W>
  static void save(W& w, const std::tuple<Ts...>& t) {
    w.begin_tuple(sizeof...(Ts));
    std::apply([&](const Ts&... e) { (Codec<Ts>::save(w, e), ...); }, t);
    w.end_tuple();
  }
  template <class R>
  static void load(R& r, std::tuple<Ts...>& t) {
    r.begin_tuple(sizeof...(Ts));
    std::apply([&](Ts&... e) { (Codec<Ts>::load(r, e), ...); }, t);
    r.end_tuple();
  }
};

/// std::complex: a (real, imaginary) pair.
template <class T>
struct Codec<std::complex<T>> {
  static constexpr std::size_t min_binary_size = 2 * sizeof(T);
  static void describe(LayoutBuilder& b) {
    b.code(LayoutCode::tuple);
    b.count(2);
    b.describe<T>();
    b.describe<T>();
  }
  template <class W>
  static void save(W& w, const std::complex<T>& c) {
    w.begin_tuple(2);
    w.write_number(c.real());
    w.write_number(c.imag());
    w.end_tuple();
  }
  template <class R>
  static void load(R& r, std::complex<T>& c) {
    r.begin_tuple(2);
    T re = r.template read_number<T>();
    T im = r.template read_number<T>();
    r.end_tuple();
    c = std::complex<T>(re, im);
  }
};

}  // namespace brine
