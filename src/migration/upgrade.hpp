// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// migration/upgrade.hpp: the migration runner shared by Registry and MigrationSet (private).
#pragma once

#include <cstdint>
#include <exception>
#include <string>

#include "brine/error.hpp"
#include "brine/limits.hpp"
#include "brine/value.hpp"

namespace brine::detail {

/// The number of values in `value`, itself included (iterative: defaults and archived trees
/// may nest deeper than the stack allows recursion).
std::uint64_t count_values(const Value& value);

/// What migrations add while one value is upgraded, against
/// LoadOptions::max_migration_growth. Objects a step adds are upgraded in turn, so a
/// default holding objects that gain objects again grows without end, or exponentially.
/// The ready-made steps that add values (migrate::add_field, move_into) charge the budget of
/// the upgrade under way on their thread: a step's signature (migrate::Step) is public and
/// takes only the object, so the budget cannot be passed to it.
class MigrationBudget {
 public:
  MigrationBudget(const Value& root, const LoadOptions& options) noexcept;
  ~MigrationBudget();
  MigrationBudget(const MigrationBudget&) = delete;
  MigrationBudget& operator=(const MigrationBudget&) = delete;

  /// Counts `values` added as field `field`; throws LimitError past the limit.
  void charge(std::uint64_t values, const std::string& field);
  /// The budget of the upgrade under way on this thread, or nullptr.
  static MigrationBudget* current() noexcept;

 private:
  const Value& root_;
  const LoadOptions& options_;
  std::uint64_t held_ = 0;  // values of the tree, counted at the first charge
  std::uint64_t added_ = 0;
  bool counted_ = false;
  MigrationBudget* outer_;  // the budget of an enclosing upgrade, which a step may run
};

[[noreturn]] inline void throw_nesting_error(const LoadOptions& options) {
  detail::throw_error(errc::limit_exceeded, nesting_message(options));
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
  detail::throw_error(errc::limit_exceeded, depth_message(options), where);
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
    detail::throw_error(errc::newer_class_version,
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
    auto where = [&object] {
      ErrorContext c;
      c.type_name = object.type;
      c.version = object.version;
      return c;
    };
    auto which = [&object, &description] {
      return "migration of '" + object.type + "' v" + std::to_string(object.version) + " -> v" +
             std::to_string(object.version + 1) +
             (description.empty() ? "" : " (" + description + ")");
    };
    try {
      (*step)(object);
    } catch (const LimitError& e) {
      // A limit stays a LimitError, whose message names the option that raises it.
      detail::throw_error(errc::limit_exceeded, which() + ": " + e.message(), where());
    } catch (const std::exception& e) {
      detail::throw_error(errc::migration_failed, which() + " failed: " + e.what(), where());
    }
    ++object.version;
  }
}

/// The walk of upgrade_tree. It recurses once per level, and trees come from hostile input
/// (or from code that built them): objects are bounded by `options.max_depth` and all
/// levels by `options.max_nesting()`, as the readers bound them.
template <class Lookup, class StepOf>
void upgrade_walk(Value& value, const Lookup& lookup, const StepOf& step_of,
                  const LoadOptions& options, std::size_t objects, std::size_t levels) {
  ValueKind kind = value.kind();
  if (kind != ValueKind::list && kind != ValueKind::map && kind != ValueKind::object) return;
  if (++levels > options.max_nesting()) throw_nesting_error(options);
  // The field path of a failure is built as it unwinds, as the readers build theirs.
  if (kind == ValueKind::list) {
    Value::List& list = value.as_list();
    for (std::size_t i = 0; i < list.size(); ++i) {
      try {
        upgrade_walk(list[i], lookup, step_of, options, objects, levels);
      } catch (Error& e) {
        prepend_error_index(e, i);
        throw;
      }
    }
  } else if (kind == ValueKind::map) {
    for (auto& entry : value.as_map()) {
      try {
        upgrade_walk(entry.second, lookup, step_of, options, objects, levels);
      } catch (Error& e) {
        prepend_error_key(e, entry.first);
        throw;
      }
    }
  } else {
    Object& object = value.as_object();
    if (++objects > options.max_depth) throw_depth_error(object, options);
    upgrade_object(object, lookup, step_of, options);
    for (Field& f : object.fields) {
      try {
        upgrade_walk(f.value, lookup, step_of, options, objects, levels);
      } catch (Error& e) {
        prepend_error_key(e, f.name);
        throw;
      }
    }
  }
}

/// Upgrades every object in `value`, wherever it sits (lists, maps, fields, behind pointers).
/// `lookup(type name)` gives an UpgradeTarget; `step(target, from, description&)` returns the
/// step function or nullptr. Pre-order: an object is upgraded before its fields, so a step
/// sees its children as they were archived, and the objects a step adds are upgraded after
/// it (bounded by LoadOptions::max_migration_growth, see MigrationBudget).
template <class Lookup, class StepOf>
void upgrade_tree(Value& value, const Lookup& lookup, const StepOf& step_of,
                  const LoadOptions& options) {
  MigrationBudget budget(value, options);
  upgrade_walk(value, lookup, step_of, options, 0, 0);
}

}  // namespace brine::detail
