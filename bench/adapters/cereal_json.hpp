// brine — versioned object persistence for C++17.
// bench/adapters/cereal_json.hpp: cereal's JSONOutputArchive/JSONInputArchive row, default
// options (pretty-printed, 4-space indents), as WORKLOADS.md fixes. A text format: the
// harness does not prime its loads and runs one iteration (see brine_bench.cpp).
// Serialize functions and registration: cereal_serialize.hpp.
#pragma once

#include <cereal/archives/json.hpp>
#include <istream>
#include <ostream>
#include <string_view>

#include "../support/streams.hpp"
#include "cereal_serialize.hpp"

namespace brine_bench {

/// See adapters/README.md for the adapter shape. The output archive closes the JSON document
/// in its destructor, so it is destroyed inside save().
struct CerealJsonAdapter {
  static constexpr const char* name = "cereal_json";
  static constexpr bool is_text = true;

  template <class T>
  static void save(const T& data, OutBuf& out) {
    std::ostream os(&out);
    cereal::JSONOutputArchive ar(os);
    ar(cereal::make_nvp("data", data));
  }

  template <class T>
  static void load(std::string_view archive, T& data) {
    InBuf in(archive);
    std::istream is(&in);
    cereal::JSONInputArchive ar(is);
    ar(cereal::make_nvp("data", data));
  }
};

}  // namespace brine_bench
