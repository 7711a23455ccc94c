// brine — versioned object persistence for C++17.
// bench/adapters/cereal_xml.hpp: cereal's XMLOutputArchive/XMLInputArchive row, default options
// (indented, max_digits10 precision, size attributes). A text format: the harness does not
// prime its loads and runs one iteration (see brine_bench.cpp).
// Serialize functions and registration: cereal_serialize.hpp.
#pragma once

#include <cereal/archives/xml.hpp>
#include <istream>
#include <ostream>
#include <string_view>

#include "../support/streams.hpp"
#include "cereal_serialize.hpp"

namespace brine_bench {

/// See adapters/README.md for the adapter shape. The output archive writes the document in
/// its destructor, so it is destroyed inside save().
struct CerealXmlAdapter {
  static constexpr const char* name = "cereal_xml";
  static constexpr bool is_text = true;

  template <class T>
  static void save(const T& data, OutBuf& out) {
    std::ostream os(&out);
    cereal::XMLOutputArchive ar(os);
    ar(cereal::make_nvp("data", data));
  }

  template <class T>
  static void load(std::string_view archive, T& data) {
    InBuf in(archive);
    std::istream is(&in);
    cereal::XMLInputArchive ar(is);
    ar(cereal::make_nvp("data", data));
  }
};

}  // namespace brine_bench
