// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// migration.hpp: ready-made migration steps that edit an object's state (the C++ half of
// migrations; declarative files in migrations/ build the same steps).
#pragma once

#include <functional>
#include <string>

#include "brine/value.hpp"

namespace brine {
namespace migrate {

/// A migration step: edits an object of one version into the next.
using Step = std::function<void(Object&)>;

/// Renames field `from` to `to`. Throws MigrationError when `from` is absent or `to` exists.
Step rename_field(std::string from, std::string to);
/// Adds field `name` with `default_value`. Throws MigrationError when it already exists.
Step add_field(std::string name, Value default_value);
/// Removes field `name` (absent is fine: the step is idempotent).
Step remove_field(std::string name);
/// Replaces the value of field `name` by `convert(old value)`; absent fields are left alone.
Step convert_field(std::string name, std::function<Value(const Value&)> convert);
/// Runs several steps in order as one.
Step sequence(std::vector<Step> steps);

}  // namespace migrate
}  // namespace brine
