// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// identifier.hpp: a stable content hash of an object's state.
#pragma once

#include <string>

#include "brine/detail/export.hpp"
#include "brine/registry.hpp"
#include "brine/state.hpp"
#include "brine/value.hpp"

namespace brine {

/// The identifier of a state tree: the SHA-256 (hex) of its deterministic CBOR encoding
/// (RFC 8949 §4.2: shortest integer and float forms, definite lengths, map keys sorted), in
/// which every object is [type name, {fields sorted by name}] without its version, and the
/// fields a type excludes (TypeRegistration::exclude_from_identifier) are left out. Equal
/// across runs, machines, and the order fields are written in code.
/// See docs/format/stable-v1.md §9 "Identifiers".
BRINE_API std::string identifier_of(const Value& state,
                                    const Registry& registry = default_registry());

/// The identifier of `object` (identifier_of(to_state(object))).
template <class T>
std::string identifier(const T& object, const Registry& registry = default_registry()) {
  return identifier_of(to_state(object, registry), registry);
}

}  // namespace brine
