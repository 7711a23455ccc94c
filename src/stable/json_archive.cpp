// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// stable/json_archive.cpp: the JSON document wrapper around state-model values.
// See docs/format/stable-v1.md §8 "JSON encoding".

#include <string>

#include "brine/stable.hpp"
#include "state/json_document.hpp"

namespace brine {

std::string json_document(const std::vector<Value>& values, const JsonOptions& options) {
  Value::Map doc;
  doc.emplace("format", Value("brine-json"));
  doc.emplace("format_version", Value(static_cast<std::uint64_t>(json_format_version)));
  doc.emplace("values", Value(Value::List(values.begin(), values.end())));
  return to_json(Value(std::move(doc)), options);
}

std::vector<Value> json_document_values(std::string_view json, const LoadOptions& options) {
  // The document's raw nesting gets the budget of max_nesting(); object depth proper is
  // checked when the values are loaded, as for the other encodings.
  Value doc;
  try {
    doc = detail::value_from_json_document(json, options.max_nesting());
  } catch (const LimitError& e) {
    throw LimitError(errc::limit_exceeded, "JSON " + detail::nesting_message(options), e.context());
  }
  auto bad = [](const std::string& m) {
    throw FormatError(errc::corrupt_data, "not a brine JSON document: " + m);
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
    throw VersionError(errc::newer_format_version,
                       "document written in JSON format version " + std::to_string(v) +
                           ", this build of brine reads up to version " +
                           std::to_string(json_format_version) + ": upgrade brine");
  auto values = map.find("values");
  if (values == map.end() || values->second.kind() != ValueKind::list)
    bad("\"values\" is not a list");
  return std::move(values->second.as_list());
}

}  // namespace brine
