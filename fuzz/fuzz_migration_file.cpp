// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// fuzz_migration_file.cpp: libFuzzer target for declarative migration files. Each input is
// a migration file (JSON, up to the first NUL byte), optionally followed by a state-model
// tree in JSON (after the NUL). A file that parses upgrades state trees built from it --
// objects of its type and aliases at every version from 0 to one past its own, with fields
// named by the file's strings holding values of every kind, alone and nested -- and the
// tree from the input's tail, which is also loaded as the types of fuzz_types.hpp by a
// registry the file's migrations are installed into.
// brine::Error is the expected verdict; any other exception, a crash, a leak, undefined
// behaviour, a timeout or an allocation over -rss_limit_mb is a bug.

#include <algorithm>
#include <brine/brine.hpp>
#include <brine/migration.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz_types.hpp"

// A named namespace, not an unnamed one: tests/hostile/fuzz_regression_test.cpp includes
// every target into one program, without their entry points (BRINE_FUZZ_REPLAY).
namespace fuzz::migration_file {

// Bounds that keep one input fast: field names taken from the file, versions tried.
constexpr std::size_t kMaxNames = 12;
constexpr std::uint32_t kMaxVersions = 6;

/// The string literals of the file (unescaped naively): the names its operations use.
inline std::vector<std::string> literals(std::string_view text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (out.size() < kMaxNames) {
    std::size_t open = text.find('"', i);
    if (open == std::string_view::npos) break;
    std::size_t close = text.find('"', open + 1);
    if (close == std::string_view::npos) break;
    std::string s(text.substr(open + 1, close - open - 1));
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
    i = close + 1;
  }
  return out;
}

/// A value of a kind chosen by `k`, for field values that steps convert, move and keep.
inline brine::Value value_of_kind(std::size_t k, const std::vector<std::string>& names,
                                  const std::string& type, std::uint32_t version) {
  switch (k % 9) {
    case 0:
      return brine::Value(std::int64_t{3});
    case 1:
      return brine::Value(2.5);
    case 2:
      return brine::Value(4.0);
    case 3:
      return brine::Value(names.empty() ? std::string("x") : names[k % names.size()]);
    case 4:
      return brine::Value(true);
    case 5:
      return brine::Value();
    case 6:
      return brine::Value(std::uint64_t{1} << 63);
    case 7:
      return brine::Value(brine::Value::List{brine::Value(1.5), brine::Value("a")});
    default: {
      // A nested object of the same type (one version older), with a field of each name.
      brine::Object o;
      o.type = type;
      o.version = version > 0 ? version - 1 : 0;
      for (std::size_t i = 0; i < names.size(); ++i)
        o.fields.push_back({names[i], brine::Value(std::int64_t(i))});
      return brine::Value(std::move(o));
    }
  }
}

inline brine::Value object_of(const std::string& type, std::uint32_t version,
                              const std::vector<std::string>& names, std::size_t shift) {
  brine::Object o;
  o.type = type;
  o.version = version;
  for (std::size_t i = 0; i < names.size(); ++i)
    o.fields.push_back({names[i], value_of_kind(i + shift, names, type, version)});
  return brine::Value(std::move(o));
}

template <class F>
void expect_error_or_success(F&& f) {
  try {
    f();
  } catch (const brine::Error&) {
    // The verdict on bad input. Everything else escapes and is reported.
  }
}

inline void one_input(std::string_view input) {
  std::size_t nul = input.find('\0');
  std::string_view text = input.substr(0, nul);
  brine::MigrationSet set;
  try {
    set = brine::parse_migrations(text, "fuzz.json");
  } catch (const brine::Error&) {
    return;
  }
  brine::LoadOptions options;
  std::vector<std::string> names = literals(text);

  for (const brine::TypeMigrations& t : set.types()) {
    std::vector<std::string> type_names = t.aliases;
    type_names.insert(type_names.begin(), t.name);
    std::uint32_t last = std::min<std::uint32_t>(t.version, kMaxVersions);
    for (const std::string& type : type_names) {
      // Every version up to the type's own (capped), and one newer than it.
      std::vector<std::uint32_t> versions;
      for (std::uint32_t v = 0; v <= last; ++v) versions.push_back(v);
      if (t.version < 0xFFFFFFFFu) versions.push_back(t.version + 1);
      for (std::uint32_t v : versions) {
        for (std::size_t shift = 0; shift < 3; ++shift) {
          expect_error_or_success([&] {
            brine::Value tree = object_of(type, v, names, shift);
            set.upgrade(tree, options);
          });
        }
        // Inside containers and another object, shared, with a back reference.
        expect_error_or_success([&] {
          brine::Value inner = object_of(type, v, names, 1);
          inner.as_object().shared_id = 0;
          brine::Value::Map map;
          map["a"] = inner;
          brine::Object outer;
          outer.type = "fuzz.Outer";
          outer.version = 1;
          outer.fields.push_back({"m", brine::Value(std::move(map))});
          outer.fields.push_back({"r", brine::Value(brine::Reference{0})});
          brine::Value tree(
              brine::Value::List{brine::Value(std::move(outer)), object_of(type, v, names, 2)});
          set.upgrade(tree, options);
        });
      }
    }
  }

  // The tree of the input's tail, if any: upgraded by the set alone, and loaded as the
  // fuzz types by a registry the file's migrations are installed into.
  if (nul != std::string_view::npos) {
    brine::Value tail;
    try {
      tail = brine::value_from_json(input.substr(nul + 1), options.max_nesting());
    } catch (const brine::Error&) {
      return;
    }
    expect_error_or_success([&] {
      brine::Value tree = tail;
      set.upgrade(tree, options);
    });
    brine::Registry registry;
    fuzz::register_reader_types(registry);
    try {
      registry.add_migrations(set);
    } catch (const brine::Error&) {
      return;
    }
    expect_error_or_success([&] { brine::from_state<fuzz::Doc>(tail, registry, options); });
    expect_error_or_success([&] { brine::from_state<fuzz::Inventory>(tail, registry, options); });
    expect_error_or_success([&] {
      fuzz::Graph g = brine::from_state<fuzz::Graph>(tail, registry, options);
      fuzz::dismantle(g);
    });
  }
}

}  // namespace fuzz::migration_file

#ifndef BRINE_FUZZ_REPLAY
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::migration_file::one_input(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
#endif
