// brine — versioned object persistence for C++17.
// bench/adapters/cereal_binary.hpp: cereal's BinaryOutputArchive/BinaryInputArchive row.
// Serialize functions and registration: cereal_serialize.hpp.
#pragma once

#include <cereal/archives/binary.hpp>
#include <istream>
#include <ostream>
#include <string_view>

#include "../support/streams.hpp"
#include "cereal_serialize.hpp"

namespace brine_bench {

/// See adapters/README.md for the adapter shape.
struct CerealBinaryAdapter {
  static constexpr const char* name = "cereal_binary";

  template <class T>
  static void save(const T& data, OutBuf& out) {
    std::ostream os(&out);
    cereal::BinaryOutputArchive ar(os);
    ar(cereal::make_nvp("data", data));
  }

  template <class T>
  static void load(std::string_view archive, T& data) {
    InBuf in(archive);
    std::istream is(&in);
    cereal::BinaryInputArchive ar(is);
    ar(cereal::make_nvp("data", data));
  }
};

}  // namespace brine_bench
