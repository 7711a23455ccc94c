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
  /// How far below a tensor its deepest item sits: its dimensions, in a list inside the
  /// tensor's container(s).
  std::size_t tensor_levels;
};

/// The stable encoding (docs/format/stable-v1.md): an object is tag 27 around [name,
/// version, {fields}]; paths and function names are tagged arrays too; references, bytes
/// and floats are plain items.
inline constexpr NestingCosts kStableNesting{
    1, 2,
    [](const Value& v) { return v.kind() == ValueKind::path || v.kind() == ValueKind::function; },
    2};

/// The JSON rendering (to_json): an object is one JSON object; bytes, references, paths,
/// function names and non-finite floats are {"$tag": ...} objects around their content.
inline constexpr NestingCosts kJsonNesting{1, 1,
                                           [](const Value& v) {
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
                                           },
                                           3};

/// Whether every element of `v`, which sits `depth` levels deep, sits within `max` levels.
/// Recurses at most `max` levels: the check stops where a reader would.
inline bool nests_within(const Value& v, std::size_t depth, std::size_t max,
                         const NestingCosts& costs) {
  if (depth > max) return false;
  switch (v.kind()) {
    case ValueKind::list:
      for (const Value& e : v.as_list())
        if (!nests_within(e, depth + 1, max, costs)) return false;
      return true;
    case ValueKind::map:
      for (const auto& entry : v.as_map())
        if (!nests_within(entry.second, depth + 1, max, costs)) return false;
      return true;
    case ValueKind::object:
      if (depth + costs.object_items > max) return false;
      for (const Field& f : v.as_object().fields)
        if (!nests_within(f.value, depth + costs.object_fields, max, costs)) return false;
      return true;
    case ValueKind::tensor:
      return depth + costs.tensor_levels <= max;
    default:
      return !(costs.wraps(v) && depth + 1 > max);
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

/// A writer's check before it writes `v` at level `depth`: throws LimitError, naming
/// `option`, when a reader with LoadOptions::max_depth = `max_depth` would refuse it.
inline void check_writer_nesting(const Value& v, std::size_t depth, const NestingCosts& costs,
                                 const char* archive, const char* option, std::size_t max_depth) {
  LoadOptions reader;
  reader.max_depth = max_depth;
  if (!nests_within(v, depth, reader.max_nesting(), costs))
    detail::throw_error(errc::limit_exceeded, writer_nesting_message(archive, option, max_depth));
}

/// The check of a value of a JSON document, which sits inside the document's object and its
/// "values" array (json_document, and ArchiveFileWriter's JSON documents).
inline void check_json_document_nesting(const Value& v, std::size_t max_depth) {
  check_writer_nesting(v, 2, kJsonNesting, "a JSON document", "JsonOptions::max_depth", max_depth);
}

}  // namespace brine::detail
