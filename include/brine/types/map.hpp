// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// types/map.hpp: std::map, std::unordered_map, std::set, std::unordered_set.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "brine/codec.hpp"
#include "brine/error.hpp"

namespace brine {
namespace detail {

/// Whether reader R hands out text as a view into its input (BinaryReader::read_text_view).
template <class R, class = void>
struct reads_text_views : std::false_type {};
template <class R>
struct reads_text_views<R, std::void_t<decltype(std::declval<R&>().read_text_view())>>
    : std::true_type {};

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
    std::size_t n =
        r.template begin_map<Key>(Codec<Key>::min_binary_size + Codec<Mapped>::min_binary_size);
    m.clear();
    if constexpr (!Ordered) m.reserve(r.reserve_limit(n, sizeof(typename M::value_type)));
    if constexpr (std::is_same_v<Key, std::string> && reads_text_views<R>::value) {
      // A positional reader's entry is its key's bytes, then its value: the key is built in
      // its node straight from the input and the value read into the node, where the loop
      // below builds both in temporaries and moves them in.
      for (std::size_t i = 0; i < n; ++i) {
        std::size_t before = m.size();
        typename M::iterator it = emplace_key(m, r.read_text_view());
        if (m.size() == before) r.fail(errc::corrupt_data, "duplicate map key");
        try {
          Codec<Mapped>::load(r, it->second);
        } catch (Error& e) {
          prepend_error_key(e, it->first);
          throw;
        }
      }
      r.end_map();
      return;
    }
    for (std::size_t i = 0; i < n; ++i) {
      Key key{};
      Mapped value{};
      try {
        r.load_entry(key, value);
      } catch (Error& e) {
        // A text key is the path's name for its entry (to_json's form); an entry of any
        // other map is its index in the list of pairs the state model keeps it as.
        if constexpr (std::is_same_v<Key, std::string>)
          prepend_error_key(e, key);
        else
          prepend_error_index(e, i);
        throw;
      }
      std::size_t before = m.size();
      if constexpr (Ordered)
        m.emplace_hint(m.end(), std::move(key), std::move(value));
      else
        m.emplace(std::move(key), std::move(value));
      if (m.size() == before) r.fail(errc::corrupt_data, "duplicate map key");
    }
    r.end_map();
  }

 private:
  static typename M::iterator emplace_key(M& m, std::string_view key) {
    // Keys arrive in the map's order when its writer was a map of this type, so the end is
    // the right hint; any other order still loads, one search per key.
    if constexpr (Ordered) {
      return m.emplace_hint(m.end(), std::piecewise_construct, std::forward_as_tuple(key),
                            std::forward_as_tuple());
    } else {
      return m
          .emplace(std::piecewise_construct, std::forward_as_tuple(key), std::forward_as_tuple())
          .first;
    }
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
      try {
        Codec<Key>::load(r, key);
      } catch (Error& e) {
        prepend_error_index(e, i);
        throw;
      }
      std::size_t before = s.size();
      if constexpr (Ordered)
        s.emplace_hint(s.end(), std::move(key));
      else
        s.emplace(std::move(key));
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
