// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// fuzz_stable_reader.cpp: libFuzzer target for StableReader. Each input is read as a stable
// (CBOR) archive: type-less values with the document checksum verified and not (so that
// mutations reach the decoder, not only the checksum), from memory and from a stream, then
// typed reads into the registered types of fuzz_types.hpp, then read_stable_values.
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

// A named namespace, not an unnamed one: tests/hostile/fuzz_regression_test.cpp includes
// every target into one program, without their entry points (BRINE_FUZZ_REPLAY).
namespace fuzz::stable_reader {

inline const brine::Registry& registry() {
  static brine::Registry r;
  static const bool once = (fuzz::register_reader_types(r), true);
  (void)once;
  return r;
}

// At most this many values per input: a document of thousands of tiny values is no more
// interesting than a few, and would slow the fuzzer down.
constexpr int kMaxValues = 4;

template <class Read>
void with_reader(std::string_view bytes, bool stream, const brine::LoadOptions& options, Read&& read) {
  try {
    if (stream) {
      std::istringstream in{std::string(bytes)};
      brine::StreamSource source(in);
      brine::StableReader reader(source, registry(), options);
      for (int i = 0; i < kMaxValues && !reader.at_end(); ++i) read(reader);
    } else {
      brine::MemorySource source(bytes);
      brine::StableReader reader(source, registry(), options);
      for (int i = 0; i < kMaxValues && !reader.at_end(); ++i) read(reader);
    }
  } catch (const brine::Error&) {
    // The verdict on bad input. Everything else escapes and is reported.
  }
}

inline void one_input(std::string_view bytes) {
  brine::LoadOptions trusting;
  trusting.verify_checksums = false;

  // Checksum on: the document layer and the validating scan.
  with_reader(bytes, false, {}, [](brine::StableReader& r) { r.read_value(); });
  // Checksum off: the decoder, from memory and from a stream of unknown length.
  with_reader(bytes, false, trusting, [](brine::StableReader& r) { r.read_value(); });
  with_reader(bytes, true, trusting, [](brine::StableReader& r) { r.read_value(); });

  // Typed reads into registered types (StableDecoder, and when it gives up the state
  // model, migrations, setstate).
  with_reader(bytes, false, trusting, [](brine::StableReader& r) { r.read<fuzz::Doc>(); });
  with_reader(bytes, false, trusting, [](brine::StableReader& r) {
    fuzz::Graph g = r.read<fuzz::Graph>();
    fuzz::dismantle(g);
  });
  with_reader(bytes, false, trusting, [](brine::StableReader& r) {
    std::shared_ptr<fuzz::Node> n = r.read<std::shared_ptr<fuzz::Node>>();
    fuzz::Graph g;
    g.roots.push_back(std::move(n));
    fuzz::dismantle(g);
  });
  with_reader(bytes, false, trusting, [](brine::StableReader& r) { r.read<fuzz::Inventory>(); });
  with_reader(bytes, false, trusting, [](brine::StableReader& r) {
    r.read<std::vector<std::variant<std::string, std::optional<fuzz::Point>>>>();
  });

  // The tools' entry point: every value of the document, without a registry.
  try {
    brine::read_stable_values(bytes, trusting);
  } catch (const brine::Error&) {
  }
}

}  // namespace fuzz::stable_reader

#ifndef BRINE_FUZZ_REPLAY
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::stable_reader::one_input(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
#endif
