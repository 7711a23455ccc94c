// brine — versioned object persistence for C++17.
// bench/adapters/boost_xml.hpp: Boost.Serialization's xml_oarchive/xml_iarchive row,
// default flags. Every member is a name-value pair (make_nvp in boost_serialize.hpp), as
// the XML archives require. A text format: the harness does not prime its loads and runs one
// iteration (see brine_bench.cpp).
// Serialize functions and export registration: boost_serialize.hpp.
#pragma once

#include <boost/archive/xml_iarchive.hpp>
#include <boost/archive/xml_oarchive.hpp>
#include <boost/serialization/nvp.hpp>
#include <istream>
#include <ostream>
#include <string_view>

#include "../support/streams.hpp"
#include "boost_serialize.hpp"

namespace brine_bench {

/// See adapters/README.md for the adapter shape. The output archive writes the
/// closing tags in its destructor, so it is destroyed inside save().
struct BoostXmlAdapter {
  static constexpr const char* name = "boost_xml";
  static constexpr bool is_text = true;

  template <class T>
  static void save(const T& data, OutBuf& out) {
    std::ostream os(&out);
    boost::archive::xml_oarchive ar(os);
    ar << boost::serialization::make_nvp("data", data);
  }

  template <class T>
  static void load(std::string_view archive, T& data) {
    InBuf in(archive);
    std::istream is(&in);
    boost::archive::xml_iarchive ar(is);
    ar >> boost::serialization::make_nvp("data", data);
  }
};

}  // namespace brine_bench
