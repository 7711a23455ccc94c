// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// registry/upgrade.hpp: the migration runner shared by Registry and MigrationSet (private).
#pragma once

#include <exception>
#include <string>

#include "brine/error.hpp"
#include "brine/limits.hpp"
#include "brine/value.hpp"

namespace brine::detail {

[[noreturn]] inline void throw_nesting_error(const LoadOptions& options) {
  throw LimitError(errc::limit_exceeded, nesting_message(options));
}

/// What the runner needs to know of a type: its canonical name, its current version, and
/// its step from a version (with a description for messages).
struct UpgradeTarget {
  const std::string* name = nullptr;  // nullptr: unknown type, left as it is
  std::uint32_t version = 0;
};

[[noreturn]] inline void throw_depth_error(const Object& object, const LoadOptions& options) {
  ErrorContext where;
  where.type_name = object.type;
  where.version = object.version;
  throw LimitError(errc::limit_exceeded, depth_message(options), where);
}

/// Brings one object to its type's current version (the fields are not visited). Kept out
/// of the recursive walk so that each level of the walk costs only a small stack frame.
template <class Lookup, class StepOf>
void upgrade_object(Object& object, const Lookup& lookup, const StepOf& step_of,
                    const LoadOptions& options) {
  UpgradeTarget target = lookup(object.type);
  if (target.name == nullptr) return;
  object.type = *target.name;
  // Tolerant mode leaves a newer object as it is; the reader accepts it only for a type
  // that keeps its unknown fields.
  if (object.version > target.version && !options.accept_newer_class_versions) {
    ErrorContext where;
    where.type_name = object.type;
    where.version = object.version;
    throw VersionError(errc::newer_class_version,
                       "archive written by class version " + std::to_string(object.version) +
                           " of '" + object.type + "', this build knows up to " +
                           std::to_string(target.version) +
                           ": load it with a newer build of the program",
                       where);
  }
  while (object.version < target.version) {
    std::string description;
    const auto* step = step_of(target, object.version, description);
    if (step == nullptr) break;
    try {
      (*step)(object);
    } catch (const std::exception& e) {
      ErrorContext where;
      where.type_name = object.type;
      where.version = object.version;
      std::string what = description.empty() ? "" : " (" + description + ")";
      throw MigrationError(errc::migration_failed,
                           "migration of '" + object.type + "' v" + std::to_string(object.version) +
                               " -> v" + std::to_string(object.version + 1) + what +
                               " failed: " + e.what(),
                           where);
    }
    ++object.version;
  }
}

/// Upgrades every object in `value`, wherever it sits (lists, maps, fields, behind pointers).
/// `lookup(type name)` gives an UpgradeTarget; `step(target, from, description&)` returns the
/// step function or nullptr. Pre-order: an object is upgraded before its fields, so a step
/// sees its children as they were archived.
///
/// The walk recurses once per level, and trees come from hostile input (or from code that
/// built them): objects are bounded by `options.max_depth` and all levels by
/// `options.max_nesting()`, as the readers bound them.
template <class Lookup, class StepOf>
void upgrade_tree(Value& value, const Lookup& lookup, const StepOf& step_of,
                  const LoadOptions& options, std::size_t objects = 0, std::size_t levels = 0) {
  ValueKind kind = value.kind();
  if (kind != ValueKind::list && kind != ValueKind::map && kind != ValueKind::object) return;
  if (++levels > options.max_nesting()) throw_nesting_error(options);
  if (kind == ValueKind::list) {
    for (Value& e : value.as_list()) upgrade_tree(e, lookup, step_of, options, objects, levels);
  } else if (kind == ValueKind::map) {
    for (auto& entry : value.as_map())
      upgrade_tree(entry.second, lookup, step_of, options, objects, levels);
  } else {
    Object& object = value.as_object();
    if (++objects > options.max_depth) throw_depth_error(object, options);
    upgrade_object(object, lookup, step_of, options);
    for (Field& f : object.fields) upgrade_tree(f.value, lookup, step_of, options, objects, levels);
  }
}

}  // namespace brine::detail
