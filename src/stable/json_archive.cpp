// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// stable/json_archive.cpp: the JSON document wrapper around state-model values.
// See docs/format/stable-v1.md §8 "JSON encoding".

#include <string>

#include "brine/stable.hpp"
#include "state/json_document.hpp"
#include "state/nesting.hpp"

namespace brine {

std::string json_document(const std::vector<Value>& values, const JsonOptions& options) {
  for (const Value& v : values) detail::check_json_document_nesting(v, options.max_depth);
  Value::Map doc;
  doc.emplace("format", Value("brine-json"));
  doc.emplace("format_version", Value(static_cast<std::uint64_t>(json_format_version)));
  doc.emplace("values", Value(Value::List(values.begin(), values.end())));
  return to_json(Value(std::move(doc)), options);
}

namespace {

// The values of a parsed document, once its wrapper is checked.
std::vector<Value> document_values(Value doc) {
  auto bad = [](const std::string& m) {
    detail::throw_error(errc::corrupt_data, "not a brine JSON document: " + m);
  };
  if (doc.kind() != ValueKind::map) bad("the top level is not an object");
  Value::Map& map = doc.as_map();
  auto format = map.find("format");
  if (format == map.end() || format->second.kind() != ValueKind::text ||
      format->second.as_text() != "brine-json")
    bad("\"format\" is not \"brine-json\"");
  auto version = map.find("format_version");
  if (version == map.end() || !version->second.is_number()) bad("no \"format_version\"");
  std::uint64_t v = version->second.as_uint64();
  if (v == 0) bad("format_version 0");
  if (v > json_format_version)
    detail::throw_error(errc::newer_format_version,
                        "document written in JSON format version " + std::to_string(v) +
                            ", this build of brine reads up to version " +
                            std::to_string(json_format_version) + ": upgrade brine");
  auto values = map.find("values");
  if (values == map.end() || values->second.kind() != ValueKind::list)
    bad("\"values\" is not a list");
  return std::move(values->second.as_list());
}

// The document in `source`, which has a direct view, parsed in place and counted against
// max_state_expansion, as the binary and stable readers count theirs.
Value parse(ByteSource& source, const LoadOptions& options) {
  return detail::value_from_json_document(source, options.max_nesting(), options);
}

}  // namespace

std::vector<Value> json_document_values(std::string_view json, const LoadOptions& options) {
  // The document's raw nesting gets the budget of max_nesting(); object depth proper is
  // checked when the values are loaded, as for the other encodings. The tree it builds is
  // counted against max_state_expansion, as the binary and stable readers count theirs.
  return document_values(detail::value_from_json_document(json, options.max_nesting(), options));
}

std::vector<Value> json_document_values(ByteSource& source, const LoadOptions& options) {
  try {
    if (source.has_direct_view()) return document_values(parse(source, options));
    // The parser needs the text it has read for the line and column of an error: a stream
    // is read whole first, within max_input_bytes, and parsed from memory.
    Buffer text;
    char chunk[65536];
    for (;;) {
      const std::size_t n = source.read(chunk, sizeof chunk);
      if (n > options.max_input_bytes - text.size()) {
        ErrorContext where;
        where.byte_offset = text.size();
        detail::throw_error(errc::limit_exceeded,
                            "input exceeds LoadOptions::max_input_bytes (" +
                                std::to_string(options.max_input_bytes) +
                                "): a JSON document read from a stream is held whole in memory",
                            where);
      }
      text.append(chunk, n);
      if (n < sizeof chunk) break;
    }
    MemorySource memory(text);
    return document_values(parse(memory, options));
  } catch (Error& e) {
    // The parser sees text, not a source: name it, as the binary and stable readers do, on
    // the error in flight so that its class is kept.
    detail::note_error_source(e, source.description());
    throw;
  }
}

}  // namespace brine
