// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// types/map.hpp: std::map, std::unordered_map, std::set, std::unordered_set.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

#include "brine/codec.hpp"

namespace brine {
namespace detail {

/// Maps: a count and (key, value) pairs. In the state model, a map with std::string keys is
/// a map; any other key type makes a list of [key, value] pairs.
template <class M, bool Ordered>
struct MapCodec {
  using Key = typename M::key_type;
  using Mapped = typename M::mapped_type;
  static constexpr std::size_t min_binary_size = 1;
  static void describe(LayoutBuilder& b) {
    b.code(LayoutCode::map);
    b.describe<Key>();
    b.describe<Mapped>();
  }
  template <class W>
  static void save(W& w, const M& m) {
    w.template begin_map<Key>(m.size());
    for (const auto& entry : m) w.save_entry(entry.first, entry.second);
    w.end_map();
  }
  template <class R>
  static void load(R& r, M& m) {
    std::size_t n = r.template begin_map<Key>(Codec<Key>::min_binary_size +
                                              Codec<Mapped>::min_binary_size);
    m.clear();
    if constexpr (!Ordered) m.reserve(r.reserve_limit(n, sizeof(typename M::value_type)));
    for (std::size_t i = 0; i < n; ++i) {
      Key key{};
      Mapped value{};
      r.load_entry(key, value);
      std::size_t before = m.size();
      if constexpr (Ordered) m.emplace_hint(m.end(), std::move(key), std::move(value));
      else m.emplace(std::move(key), std::move(value));
      if (m.size() == before) r.fail(errc::corrupt_data, "duplicate map key");
    }
    r.end_map();
  }
};

template <class S, bool Ordered>
struct SetCodec {
  using Key = typename S::key_type;
  static constexpr std::size_t min_binary_size = 1;
  static void describe(LayoutBuilder& b) {
    b.code(LayoutCode::set);
    b.describe<Key>();
  }
  template <class W>
  static void save(W& w, const S& s) {
    w.begin_list(s.size());
    for (const Key& k : s) Codec<Key>::save(w, k);
    w.end_list();
  }
  template <class R>
  static void load(R& r, S& s) {
    std::size_t n = r.begin_list(Codec<Key>::min_binary_size);
    s.clear();
    if constexpr (!Ordered) s.reserve(r.reserve_limit(n, sizeof(Key)));
    for (std::size_t i = 0; i < n; ++i) {
      Key key{};
      Codec<Key>::load(r, key);
      std::size_t before = s.size();
      if constexpr (Ordered) s.emplace_hint(s.end(), std::move(key));
      else s.emplace(std::move(key));
      if (s.size() == before) r.fail(errc::corrupt_data, "duplicate set element");
    }
    r.end_list();
  }
};

}  // namespace detail

template <class K, class V, class C, class A>
struct Codec<std::map<K, V, C, A>> : detail::MapCodec<std::map<K, V, C, A>, true> {};
template <class K, class V, class H, class E, class A>
struct Codec<std::unordered_map<K, V, H, E, A>>
    : detail::MapCodec<std::unordered_map<K, V, H, E, A>, false> {};
template <class K, class C, class A>
struct Codec<std::set<K, C, A>> : detail::SetCodec<std::set<K, C, A>, true> {};
template <class K, class H, class E, class A>
struct Codec<std::unordered_set<K, H, E, A>>
    : detail::SetCodec<std::unordered_set<K, H, E, A>, false> {};

}  // namespace brine
