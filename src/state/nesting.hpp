// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// state/nesting.hpp: how deep a state tree sits in the stable and JSON encodings, counted
// as their readers count it, so that the writers refuse what their readers would (private).
#pragma once

#include <cmath>
#include <cstddef>
#include <string>

#include "brine/error.hpp"
#include "brine/limits.hpp"
#include "brine/value.hpp"

namespace brine::detail {

/// The levels an encoding adds, as its reader counts them (LoadOptions::max_nesting()): an
/// element of a list or map sits one level below it; an object's own items (type name,
/// version) and its fields sit `object_items` and `object_fields` levels below it; a leaf
/// that the encoding wraps (a path, a function name, a reference...) puts its content
/// `wrapped` levels below itself.
struct NestingCosts {
  std::size_t object_items;
  std::size_t object_fields;
  bool (*wraps)(const Value& leaf);
};

/// The stable encoding (docs/format/stable-v1.md): an object is tag 27 around [name,
/// version, {fields}]; paths and function names are tagged arrays too; references, bytes
/// and floats are plain items.
inline constexpr NestingCosts kStableNesting{
    1, 2,
    [](const Value& v) { return v.kind() == ValueKind::path || v.kind() == ValueKind::function; }};

/// The JSON rendering (to_json): an object is one JSON object; bytes, references, paths,
/// function names and non-finite floats are {"$tag": ...} objects around their content.
inline constexpr NestingCosts kJsonNesting{1, 1, [](const Value& v) {
                                             switch (v.kind()) {
                                               case ValueKind::bytes:
                                               case ValueKind::reference:
                                               case ValueKind::path:
                                               case ValueKind::function:
                                                 return true;
                                               case ValueKind::floating:
                                                 return !std::isfinite(v.as_double());
                                               default:
                                                 return false;
                                             }
                                           }};

/// Throws LimitError (`message`) when some element of `v`, which sits `depth` levels deep,
/// would sit deeper than `max` levels. Recurses at most `max` levels: the check stops
/// where a reader would.
inline void check_nesting(const Value& v, std::size_t depth, std::size_t max,
                          const NestingCosts& costs, const std::string& message) {
  if (depth > max) detail::throw_error(errc::limit_exceeded, message);
  switch (v.kind()) {
    case ValueKind::list:
      for (const Value& e : v.as_list()) check_nesting(e, depth + 1, max, costs, message);
      return;
    case ValueKind::map:
      for (const auto& entry : v.as_map())
        check_nesting(entry.second, depth + 1, max, costs, message);
      return;
    case ValueKind::object:
      if (depth + costs.object_items > max) detail::throw_error(errc::limit_exceeded, message);
      for (const Field& f : v.as_object().fields)
        check_nesting(f.value, depth + costs.object_fields, max, costs, message);
      return;
    default:
      if (costs.wraps(v) && depth + 1 > max) detail::throw_error(errc::limit_exceeded, message);
      return;
  }
}

/// The message of a writer's refusal: what it writes and the option that raises the limit.
inline std::string writer_nesting_message(const char* archive, const char* option,
                                          std::size_t max_depth) {
  LoadOptions reader;
  reader.max_depth = max_depth;
  return std::string("cannot write this state tree as ") + archive +
         ": it nests deeper than its reader accepts, " + nesting_message(reader) + " (raise " +
         option + " with the reader's)";
}

}  // namespace brine::detail
