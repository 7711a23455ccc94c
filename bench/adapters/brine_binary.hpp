// brine — versioned object persistence for C++17.
// bench/adapters/brine_binary.hpp: brine's binary (short-term) archive row. The hooks and
// registrations for the workload types are in brine_hooks.hpp, shared with the other brine
// rows.
#pragma once

#include <brine/brine.hpp>
#include <ostream>
#include <string_view>

#include "../support/streams.hpp"
#include "brine_hooks.hpp"

namespace brine_bench {

/// See adapters/README.md for the adapter shape. Saves through a std::ostream over the
/// harness's OutBuf, as the other libraries do; loads from the bytes in place
/// (brine::MemorySource), brine's own way of reading memory.
struct BrineBinaryAdapter {
  static constexpr const char* name = "brine_binary";

  template <class T>
  static void save(const T& data, OutBuf& out) {
    std::ostream os(&out);
    brine::StreamSink sink(os);
    brine::BinaryWriter writer(sink);
    writer.write(data);
    writer.finish();
  }

  template <class T>
  static void load(std::string_view archive, T& data) {
    brine::MemorySource source(archive);
    brine::BinaryReader reader(source);
    reader.read(data);
  }
};

}  // namespace brine_bench
