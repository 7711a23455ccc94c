// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// state/json_source.hpp: JSON text parsed from a ByteSource a chunk at a time (private).
#pragma once

#include <cstddef>

#include "brine/io.hpp"
#include "brine/limits.hpp"
#include "brine/value.hpp"

namespace brine::detail {

/// value_from_json() on the bytes of `source`, which must have a direct view. The parser
/// takes the view a chunk at a time and the source is advanced past each chunk as the parse
/// moves on, so that the source's position follows the parser (a counting source reports
/// progress through a single large document). Offsets in errors count from the source's
/// position at the call. With `options`, what it builds is counted against
/// LoadOptions::max_state_expansion for the view's size, as value_from_json_counted() does.
Value value_from_json(ByteSource& source, std::size_t max_depth,
                      const LoadOptions* options = nullptr);

}  // namespace brine::detail
