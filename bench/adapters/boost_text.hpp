// brine — versioned object persistence for C++17.
// bench/adapters/boost_text.hpp: Boost.Serialization's text_oarchive/text_iarchive row,
// default flags (archive header included). A text format: the harness does not prime its
// loads and runs one iteration (see brine_bench.cpp).
// Serialize functions and export registration: boost_serialize.hpp.
#pragma once

#include <boost/archive/text_iarchive.hpp>
#include <boost/archive/text_oarchive.hpp>
#include <boost/serialization/nvp.hpp>
#include <istream>
#include <ostream>
#include <string_view>

#include "../support/streams.hpp"
#include "boost_serialize.hpp"

namespace brine_bench {

/// See adapters/README.md for the adapter shape.
struct BoostTextAdapter {
  static constexpr const char* name = "boost_text";
  static constexpr bool is_text = true;

  template <class T>
  static void save(const T& data, OutBuf& out) {
    std::ostream os(&out);
    boost::archive::text_oarchive ar(os);
    ar << boost::serialization::make_nvp("data", data);
  }

  template <class T>
  static void load(std::string_view archive, T& data) {
    InBuf in(archive);
    std::istream is(&in);
    boost::archive::text_iarchive ar(is);
    ar >> boost::serialization::make_nvp("data", data);
  }
};

}  // namespace brine_bench
