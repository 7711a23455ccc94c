// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// fuzz_binary_reader.cpp: libFuzzer target for BinaryReader. Each input is read as every
// registered type below and as type-less values, from a memory source and from a stream of
// unknown length, mostly with block checksums off so that mutations reach the decoders.
// brine::Error is the expected verdict on bad input; any other exception, a crash, a leak,
// undefined behaviour or an allocation over -rss_limit_mb is a bug.

#include <brine/brine.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "fuzz_types.hpp"

namespace {

const brine::Registry& registry() {
  static brine::Registry r;
  static const bool once = (fuzz::register_reader_types(r), true);
  (void)once;
  return r;
}

// At most this many values per input: a stream of thousands of tiny values is no more
// interesting than a few, and would slow the fuzzer down.
constexpr int kMaxValues = 4;

template <class Read>
void with_reader(std::string_view bytes, bool stream, const brine::LoadOptions& options,
                 Read&& read) {
  try {
    if (stream) {
      std::istringstream in{std::string(bytes)};
      brine::StreamSource source(in);
      brine::BinaryReader reader(source, registry(), options);
      for (int i = 0; i < kMaxValues && !reader.at_end(); ++i) read(reader);
    } else {
      brine::MemorySource source(bytes);
      brine::BinaryReader reader(source, registry(), options);
      for (int i = 0; i < kMaxValues && !reader.at_end(); ++i) read(reader);
    }
  } catch (const brine::Error&) {
    // The verdict on bad input. Everything else escapes and is reported.
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  brine::LoadOptions trusting;
  trusting.verify_checksums = false;

  // Type-less decoding (the tools' and the older-version path), both sources.
  with_reader(bytes, false, trusting, [](brine::BinaryReader& r) { r.read_value(); });
  with_reader(bytes, true, trusting, [](brine::BinaryReader& r) { r.read_value(); });
  // Checksums on: the block layer itself.
  with_reader(bytes, false, {}, [](brine::BinaryReader& r) { r.read_value(); });

  // Typed reads into registered types.
  with_reader(bytes, false, trusting, [](brine::BinaryReader& r) { r.read<fuzz::Doc>(); });
  with_reader(bytes, true, trusting, [](brine::BinaryReader& r) { r.read<fuzz::Doc>(); });
  with_reader(bytes, false, trusting, [](brine::BinaryReader& r) {
    fuzz::Graph g = r.read<fuzz::Graph>();
    fuzz::dismantle(g);
  });
  with_reader(bytes, false, trusting, [](brine::BinaryReader& r) {
    std::shared_ptr<fuzz::Node> n = r.read<std::shared_ptr<fuzz::Node>>();
    fuzz::Graph g;
    g.roots.push_back(std::move(n));
    fuzz::dismantle(g);
  });
  with_reader(bytes, false, trusting, [](brine::BinaryReader& r) { r.read<fuzz::Inventory>(); });
  with_reader(bytes, false, trusting, [](brine::BinaryReader& r) {
    r.read<std::vector<std::variant<std::string, std::optional<fuzz::Point>>>>();
  });
  return 0;
}
