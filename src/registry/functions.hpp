// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// registry/functions.hpp: the registry side of function fields (private). Every archive saves
// a function pointer or callable as its registered name, each in its own encoding; finding
// the name, checking it on load and the errors are the same for all, and live here.
#pragma once

#include <string>
#include <string_view>
#include <typeinfo>

#include "brine/error.hpp"
#include "brine/registry.hpp"

namespace brine::detail {

/// The registered name of the plain function `pointer` (of type `signature`), to save.
/// Throws SchemaError (unknown_type) when it is not registered.
const std::string& function_name_to_save(const Registry& registry, void (*pointer)(),
                                         const std::type_info& signature);

/// A name read from an archive, looked up: `info` when it names a function registered with
/// `signature`, else the code and message that say why not (the reader adds its context).
struct FunctionLookup {
  const FunctionInfo* info = nullptr;
  errc code = errc::unknown_type;
  std::string message;
};
FunctionLookup lookup_function(const Registry& registry, std::string_view name,
                               const std::type_info& signature);

/// The message for a registered callable read where a plain function pointer is needed
/// (errc::type_mismatch).
std::string not_a_plain_function(const FunctionInfo& info);

}  // namespace brine::detail
