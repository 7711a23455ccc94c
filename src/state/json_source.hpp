// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// state/json_source.hpp: JSON text parsed from a ByteSource a chunk at a time (private).
#pragma once

#include <cstddef>

#include "brine/io.hpp"
#include "brine/value.hpp"

namespace brine::detail {

/// value_from_json() on the bytes of `source`, which must have a direct view. The parser
/// takes the view a chunk at a time and the source is advanced past each chunk as the parse
/// moves on, so that the source's position follows the parser (a counting source reports
/// progress through a single large document). Offsets in errors count from the source's
/// position at the call.
Value value_from_json(ByteSource& source, std::size_t max_depth);

}  // namespace brine::detail
