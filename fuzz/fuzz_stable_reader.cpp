// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// fuzz_stable_reader.cpp: libFuzzer target for StableReader. Each input is read as a stable
// (CBOR) archive: type-less values with the document checksum verified and not (so that
// mutations reach the decoder, not only the checksum), from memory and from a stream, then
// typed reads into the registered types of fuzz_types.hpp, each checked against the state
// model, the one-pass read (from_stable) checked against the validating one, then
// read_stable_values.
// brine::Error is the expected verdict on bad input; any other exception, a crash, a leak,
// undefined behaviour or an allocation over -rss_limit_mb is a bug.

#include <brine/brine.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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
void with_reader(std::string_view bytes, bool stream, const brine::LoadOptions& options,
                 Read&& read) {
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

// Equal state trees, floating-point values compared by their bits (a NaN read both ways is
// the same NaN, and Value's == would call it different).
inline bool same(const brine::Value& a, const brine::Value& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case brine::ValueKind::floating: {
      double x = a.as_double(), y = b.as_double();
      return std::memcmp(&x, &y, sizeof x) == 0;
    }
    case brine::ValueKind::list: {
      const auto& l = a.as_list();
      const auto& m = b.as_list();
      if (l.size() != m.size()) return false;
      for (std::size_t i = 0; i < l.size(); ++i)
        if (!same(l[i], m[i])) return false;
      return true;
    }
    case brine::ValueKind::map: {
      const auto& l = a.as_map();
      const auto& m = b.as_map();
      if (l.size() != m.size()) return false;
      for (auto i = l.begin(), j = m.begin(); i != l.end(); ++i, ++j)
        if (i->first != j->first || !same(i->second, j->second)) return false;
      return true;
    }
    case brine::ValueKind::object: {
      const brine::Object& o = a.as_object();
      const brine::Object& p = b.as_object();
      if (o.type != p.type || o.version != p.version || o.shared_id != p.shared_id ||
          o.fields.size() != p.fields.size())
        return false;
      for (std::size_t i = 0; i < o.fields.size(); ++i)
        if (o.fields[i].name != p.fields[i].name || !same(o.fields[i].value, p.fields[i].value))
          return false;
      return true;
    }
    default:
      return a == b;
  }
}

// StableDecoder reads a value straight into objects only when the state model would read
// the same: whatever it loads must equal (as a state tree) what from_state loads from the
// value, and the state model must not refuse a value it accepted. A difference is a bug in
// one of them, reported as a crash.
template <class T, class Dismantle>
void read_both_ways(std::string_view bytes, const brine::LoadOptions& options,
                    Dismantle&& dismantle) {
  std::optional<brine::MemorySource> direct_source, state_source;
  std::optional<brine::StableReader> direct_reader, state_reader;
  try {
    direct_source.emplace(bytes);
    state_source.emplace(bytes);
    direct_reader.emplace(*direct_source, registry(), options);
    state_reader.emplace(*state_source, registry(), options);
  } catch (const brine::Error&) {
    return;
  }
  for (int i = 0; i < kMaxValues && !direct_reader->at_end(); ++i) {
    std::size_t before = direct_reader->values_read_directly();
    T direct{};
    try {
      direct = direct_reader->read<T>();
    } catch (const brine::Error&) {
      return;
    }
    bool was_direct = direct_reader->values_read_directly() != before;
    brine::Value state = state_reader->read_value();
    if (was_direct) {
      T through_state{};
      try {
        through_state = brine::from_state<T>(std::move(state), registry(), options);
      } catch (const brine::Error& e) {
        std::fprintf(stderr, "StableDecoder accepted value %d, the state model refuses it: %s\n", i,
                     e.what());
        std::abort();
      }
      if (!same(brine::to_state(direct, registry()), brine::to_state(through_state, registry()))) {
        std::fprintf(stderr, "StableDecoder and the state model read value %d differently\n", i);
        std::abort();
      }
      dismantle(through_state);
    }
    dismantle(direct);
  }
}

// StableReader::read_first (from_stable) decodes the first value in one pass, checking as it
// goes, when it can: whatever it returns or throws must be what the validating read returns
// or throws. A value the one pass accepted from a document the validating read refuses, or
// read differently, is a bug, reported as a crash.
template <class T, class Dismantle>
void read_first_both_ways(std::string_view bytes, const brine::LoadOptions& options,
                          Dismantle&& dismantle) {
  auto error_of = [](const brine::Error& e) {
    return std::to_string(static_cast<int>(e.code())) + " " + e.what();
  };
  std::optional<T> first, validating;
  std::string first_error, validating_error;
  try {
    first = brine::from_stable<T>(bytes, registry(), options);
  } catch (const brine::Error& e) {
    first_error = error_of(e);
  }
  try {
    brine::MemorySource source(bytes);
    brine::StableReader reader(source, registry(), options);
    validating = reader.read<T>();
  } catch (const brine::Error& e) {
    validating_error = error_of(e);
  }
  if (first.has_value() != validating.has_value() || first_error != validating_error) {
    std::fprintf(stderr, "read_first: %s\nthe validating read: %s\n",
                 first ? "a value" : first_error.c_str(),
                 validating ? "a value" : validating_error.c_str());
    std::abort();
  }
  if (first) {
    if (!same(brine::to_state(*first, registry()), brine::to_state(*validating, registry()))) {
      std::fprintf(stderr, "read_first and the validating read read the first value differently\n");
      std::abort();
    }
    dismantle(*first);
    dismantle(*validating);
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
  // model, migrations, setstate), each checked against the state model.
  read_both_ways<fuzz::Doc>(bytes, trusting, [](fuzz::Doc&) {});
  read_both_ways<fuzz::Graph>(bytes, trusting, [](fuzz::Graph& g) { fuzz::dismantle(g); });
  read_both_ways<std::shared_ptr<fuzz::Node>>(bytes, trusting, [](std::shared_ptr<fuzz::Node>& n) {
    fuzz::Graph g;
    g.roots.push_back(std::move(n));
    fuzz::dismantle(g);
  });
  read_both_ways<fuzz::Inventory>(bytes, trusting, [](fuzz::Inventory&) {});
  read_both_ways<std::vector<std::variant<std::string, std::optional<fuzz::Point>>>>(
      bytes, trusting, [](auto&) {});

  // The one-pass read against the validating one, checksum off (so that mutations reach the
  // decoder) and on (so that its comparison after the decode is exercised).
  read_first_both_ways<fuzz::Doc>(bytes, trusting, [](fuzz::Doc&) {});
  read_first_both_ways<fuzz::Doc>(bytes, {}, [](fuzz::Doc&) {});
  read_first_both_ways<fuzz::Graph>(bytes, trusting, [](fuzz::Graph& g) { fuzz::dismantle(g); });
  read_first_both_ways<fuzz::Inventory>(bytes, trusting, [](fuzz::Inventory&) {});
  read_first_both_ways<std::vector<std::variant<std::string, std::optional<fuzz::Point>>>>(
      bytes, trusting, [](auto&) {});

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
