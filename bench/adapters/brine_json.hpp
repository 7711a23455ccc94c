// brine — versioned object persistence for C++17.
// bench/adapters/brine_json.hpp: brine's JSON document encoding row (the stable archive's
// state model as JSON). A text format: the harness does not prime its loads and runs one
// iteration (see brine_bench.cpp). Hooks and registrations: brine_hooks.hpp.
#pragma once

#include <brine/brine.hpp>
#include <string>
#include <string_view>

#include "../support/streams.hpp"
#include "brine_hooks.hpp"

namespace brine_bench {

/// See adapters/README.md for the adapter shape. brine's JSON entry points work on whole
/// documents in memory: the save builds the document as a std::string and copies it into the
/// OutBuf (the copy is timed); the load parses the bytes in place.
struct BrineJsonAdapter {
  static constexpr const char* name = "brine_json";
  static constexpr bool is_text = true;

  template <class T>
  static void save(const T& data, OutBuf& out) {
    const std::string document = brine::to_json_archive(data);
    out.sputn(document.data(), static_cast<std::streamsize>(document.size()));
  }

  template <class T>
  static void load(std::string_view archive, T& data) {
    data = brine::from_json_archive<T>(archive);
  }
};

}  // namespace brine_bench
