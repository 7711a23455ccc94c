// brine — versioned object persistence for C++17.
// bench/adapters/boost_binary.hpp: Boost.Serialization's binary_oarchive/binary_iarchive row.
// Serialize functions and export registration: boost_serialize.hpp.
#pragma once

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/serialization/nvp.hpp>
#include <istream>
#include <ostream>
#include <string_view>

#include "../support/streams.hpp"
#include "boost_serialize.hpp"

namespace brine_bench {

/// See adapters/README.md for the adapter shape.
struct BoostBinaryAdapter {
  static constexpr const char* name = "boost_binary";

  template <class T>
  static void save(const T& data, OutBuf& out) {
    std::ostream os(&out);
    boost::archive::binary_oarchive ar(os);
    ar << boost::serialization::make_nvp("data", data);
  }

  template <class T>
  static void load(std::string_view archive, T& data) {
    InBuf in(archive);
    std::istream is(&in);
    boost::archive::binary_iarchive ar(is);
    ar >> boost::serialization::make_nvp("data", data);
  }
};

}  // namespace brine_bench
