// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// types/path.hpp: std::filesystem::path, in generic form. boost::filesystem::path is in
// types/boost_path.hpp, so that brine's headers never need Boost.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "brine/codec.hpp"

namespace brine {

/// A path in generic form ('/' separators, UTF-8), so an archive written on one system
/// names the same relative path on another.
template <>
struct Codec<std::filesystem::path> {
  static constexpr std::size_t min_binary_size = 1;
  static void describe(LayoutBuilder& b) { b.code(LayoutCode::path); }
  template <class W>
  static void save(W& w, const std::filesystem::path& p) {
    w.write_path(p.generic_string());
  }
  template <class R>
  static void load(R& r, std::filesystem::path& p) {
    p = std::filesystem::path(r.read_path());
  }
};

}  // namespace brine
