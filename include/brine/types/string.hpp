// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// types/string.hpp: std::string (UTF-8 text) and std::vector<std::byte> (byte strings).
#pragma once

#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "brine/codec.hpp"

namespace brine {

template <class Traits, class Alloc>
struct Codec<std::basic_string<char, Traits, Alloc>> {
  using String = std::basic_string<char, Traits, Alloc>;
  static constexpr std::size_t min_binary_size = 1;
  static void describe(LayoutBuilder& b) { b.code(LayoutCode::text); }
  template <class W>
  static void save(W& w, const String& s) {
    w.write_text(std::string_view(s.data(), s.size()));
  }
  template <class R>
  static void load(R& r, String& s) {
    if constexpr (std::is_same_v<String, std::string>) {
      r.read_text(s);
    } else {
      std::string tmp;
      r.read_text(tmp);
      s.assign(tmp.data(), tmp.size());
    }
  }
};

template <class Alloc>
struct Codec<std::vector<std::byte, Alloc>> {
  static constexpr std::size_t min_binary_size = 1;
  static void describe(LayoutBuilder& b) { b.code(LayoutCode::bytes); }
  template <class W>
  static void save(W& w, const std::vector<std::byte, Alloc>& v) {
    w.write_bytes(v.data(), v.size());
  }
  template <class R>
  static void load(R& r, std::vector<std::byte, Alloc>& v) {
    std::vector<std::uint8_t> tmp;
    r.read_bytes(tmp);
    v.resize(tmp.size());
    if (!tmp.empty()) std::memcpy(v.data(), tmp.data(), tmp.size());
  }
};

}  // namespace brine
