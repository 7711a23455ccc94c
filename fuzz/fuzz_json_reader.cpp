// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// fuzz_json_reader.cpp: libFuzzer target for the JSON encoding. Each input is parsed as a
// state-model value (value_from_json, with the default and with a small depth limit), as a
// brine JSON document (json_document_values), and its values are loaded into the
// registered types of fuzz_types.hpp (from_state / from_json_archive: migrations, setstate).
// brine::Error is the expected verdict on bad input; any other exception, a crash, a leak,
// undefined behaviour or an allocation over -rss_limit_mb is a bug.

#include <brine/brine.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "fuzz_types.hpp"

// A named namespace, not an unnamed one: tests/hostile/fuzz_regression_test.cpp includes
// every target into one program, without their entry points (BRINE_FUZZ_REPLAY).
namespace fuzz::json_reader {

inline const brine::Registry& registry() {
  static brine::Registry r;
  static const bool once = (fuzz::register_reader_types(r), true);
  (void)once;
  return r;
}

// At most this many values per document are loaded into each type.
constexpr std::size_t kMaxValues = 4;

template <class F>
void expect_error_or_success(F&& f) {
  try {
    f();
  } catch (const brine::Error&) {
    // The verdict on bad input. Everything else escapes and is reported.
  }
}

/// Loads `value` as every registered shape, each from its own copy.
inline void load_typed(const brine::Value& value, const brine::LoadOptions& options) {
  expect_error_or_success([&] { brine::from_state<fuzz::Doc>(value, registry(), options); });
  expect_error_or_success([&] {
    fuzz::Graph g = brine::from_state<fuzz::Graph>(value, registry(), options);
    fuzz::dismantle(g);
  });
  expect_error_or_success([&] {
    fuzz::Graph g;
    g.roots.push_back(brine::from_state<std::shared_ptr<fuzz::Node>>(value, registry(), options));
    fuzz::dismantle(g);
  });
  expect_error_or_success([&] { brine::from_state<fuzz::Inventory>(value, registry(), options); });
  expect_error_or_success([&] {
    brine::from_state<std::vector<std::variant<std::string, std::optional<fuzz::Point>>>>(
        value, registry(), options);
  });
}

inline void one_input(std::string_view json) {
  // The value parser alone, and with a depth limit small enough for inputs to reach it.
  expect_error_or_success([&] { brine::value_from_json(json); });
  expect_error_or_success([&] { brine::value_from_json(json, 4); });

  brine::LoadOptions options;
  std::vector<brine::Value> values;
  try {
    values = brine::json_document_values(json, options);
  } catch (const brine::Error&) {
    // Not a document: perhaps a bare value (a hand-written config, a JSON rendering).
    try {
      values.push_back(brine::value_from_json(json, options.max_nesting()));
    } catch (const brine::Error&) {
      return;
    }
  }
  for (std::size_t i = 0; i < values.size() && i < kMaxValues; ++i) load_typed(values[i], options);

  // The public one-call load of a document's first value.
  expect_error_or_success([&] { brine::from_json_archive<fuzz::Doc>(json, registry(), options); });
  expect_error_or_success([&] {
    fuzz::Graph g = brine::from_json_archive<fuzz::Graph>(json, registry(), options);
    fuzz::dismantle(g);
  });
}

}  // namespace fuzz::json_reader

#ifndef BRINE_FUZZ_REPLAY
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::json_reader::one_input(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
#endif
