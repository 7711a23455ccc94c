// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// state/json_document.hpp: the JSON parser's entry for brine JSON documents (private).
#pragma once

#include <cstddef>
#include <string_view>

#include "brine/value.hpp"

namespace brine::detail {

/// value_from_json for a whole brine JSON document ({"format", "format_version", "values"}):
/// the field paths of its errors start inside the value, as the other encodings' do.
Value value_from_json_document(std::string_view json, std::size_t max_depth);

}  // namespace brine::detail
