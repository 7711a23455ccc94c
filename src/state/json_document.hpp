// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// state/json_document.hpp: the JSON parser's entries for whole brine JSON documents
// ({"format", "format_version", "values"}), as the JSON archive reader uses them (private).
#pragma once

#include <cstddef>
#include <string_view>

#include "brine/io.hpp"
#include "brine/limits.hpp"
#include "brine/value.hpp"

namespace brine::detail {

/// value_from_json for a whole document. What it builds is counted against
/// LoadOptions::max_state_expansion for `json`'s size, so that the JSON reader holds no more
/// than the binary and stable readers for the same input, and the field paths of its errors
/// start inside the value, as the other encodings' do. Throws LimitError naming the option,
/// or LoadOptions::max_depth when the text nests deeper than `max_depth`.
Value value_from_json_document(std::string_view json, std::size_t max_depth,
                               const LoadOptions& options);

/// The same for the bytes of `source`, which must have a direct view. The parser takes the
/// view a chunk at a time and the source is advanced past each chunk as the parse moves on,
/// so that the source's position follows the parser (a counting source reports progress
/// through a single large document). Offsets in errors count from the source's position at
/// the call.
Value value_from_json_document(ByteSource& source, std::size_t max_depth,
                               const LoadOptions& options);

}  // namespace brine::detail
