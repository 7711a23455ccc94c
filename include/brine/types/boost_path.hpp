// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// types/boost_path.hpp: boost::filesystem::path, in generic form, stored exactly as
// std::filesystem::path is (an archive does not know which of the two wrote it).
//
// Opt-in: brine/brine.hpp does not include this header, and libbrine does not link Boost. A
// program that includes it links Boost.Filesystem itself, e.g. with CMake:
//   find_package(brine CONFIG REQUIRED COMPONENTS boost_path)
//   target_link_libraries(app PRIVATE brine::boost_path)  # brine::brine + Boost::filesystem
#pragma once

#include <boost/filesystem/path.hpp>
#include <cstddef>
#include <string>

#include "brine/codec.hpp"

namespace brine {

/// Written with the archive's path code, like std::filesystem::path (types/path.hpp).
template <>
struct Codec<boost::filesystem::path> {
  static constexpr std::size_t min_binary_size = 1;
  static void describe(LayoutBuilder& b) { b.code(LayoutCode::path); }
  template <class W>
  static void save(W& w, const boost::filesystem::path& p) {
    w.write_path(p.generic_string());
  }
  template <class R>
  static void load(R& r, boost::filesystem::path& p) {
    p = boost::filesystem::path(r.read_path());
  }
};

}  // namespace brine
