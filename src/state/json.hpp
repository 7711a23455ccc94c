// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// state/json.hpp: the JSON rendering's reader for archives, with the state-model memory
// budget (private).
#pragma once

#include <cstddef>
#include <string_view>

#include "brine/limits.hpp"
#include "brine/value.hpp"

namespace brine::detail {

/// value_from_json, counting what it builds against LoadOptions::max_state_expansion for
/// `json`'s size: the JSON archive reader's, so that it holds no more than the binary and
/// stable readers for the same input. Throws LimitError naming the option, or
/// LoadOptions::max_depth when the text nests deeper than `max_depth`.
Value value_from_json_counted(std::string_view json, std::size_t max_depth,
                              const LoadOptions& options);

}  // namespace brine::detail
