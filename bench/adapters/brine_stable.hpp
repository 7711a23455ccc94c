// brine — versioned object persistence for C++17.
// bench/adapters/brine_stable.hpp: brine's stable (long-term) archive row: self-describing
// CBOR with named fields (docs/format/stable-v1.md). Hooks and registrations: brine_hooks.hpp.
#pragma once

#include <brine/brine.hpp>
#include <ostream>
#include <string_view>

#include "../support/streams.hpp"
#include "brine_hooks.hpp"

namespace brine_bench {

/// See adapters/README.md for the adapter shape. Same I/O as brine_binary: saves through a
/// std::ostream over the harness's OutBuf, loads from the bytes in place.
struct BrineStableAdapter {
  static constexpr const char* name = "brine_stable";

  template <class T>
  static void save(const T& data, OutBuf& out) {
    std::ostream os(&out);
    brine::StreamSink sink(os);
    brine::StableWriter writer(sink);
    writer.write(data);
    writer.finish();
  }

  // from_stable: the one-shot read, which validates and decodes in one pass
  // (StableReader::read_first).
  template <class T>
  static void load(std::string_view archive, T& data) {
    data = brine::from_stable<T>(archive);
  }
};

}  // namespace brine_bench
