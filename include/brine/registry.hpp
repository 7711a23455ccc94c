// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// registry.hpp: registering types and functions (BRINE_REGISTER and friends) in the
// Registry of detail/registry_core.hpp. A registration builds the type's operation table,
// which holds the type's field code for every archive (binary, stable, state model): a
// polymorphic load in another translation unit, or another shared library, finds it there.
// So this header brings every archive's definitions (detail/type_ops_impl.hpp), and a file
// that includes only it (and the brine/types/ headers its fields need) can register types.
#pragma once

#include "brine/detail/registry_core.hpp"
#include "brine/detail/type_ops_impl.hpp"

#define BRINE_DETAIL_CONCAT2(a, b) a##b
#define BRINE_DETAIL_CONCAT(a, b) BRINE_DETAIL_CONCAT2(a, b)

/// Registers a type in default_registry() when the program (or shared library) starts. Use at
/// namespace scope in one .cpp file. A name clash stops the program at start-up with the
/// SchemaError's message, never a silent overwrite.
#define BRINE_REGISTER(...)                                               \
  static const bool BRINE_DETAIL_CONCAT(brine_registered_, __COUNTER__) = \
      (::brine::default_registry().add<__VA_ARGS__>(), true)

/// Registers a polymorphic type together with its base classes:
///   BRINE_REGISTER_POLYMORPHIC(NodeA, Node);
#define BRINE_REGISTER_POLYMORPHIC(type, ...)                             \
  static const bool BRINE_DETAIL_CONCAT(brine_registered_, __COUNTER__) = \
      (::brine::default_registry().add<type>().bases<__VA_ARGS__>(), true)

/// Registers a function by name at start-up: BRINE_REGISTER_FUNCTION("nn.relu", relu);
#define BRINE_REGISTER_FUNCTION(name, function)                           \
  static const bool BRINE_DETAIL_CONCAT(brine_registered_, __COUNTER__) = \
      (::brine::default_registry().add_function(name, function), true)
