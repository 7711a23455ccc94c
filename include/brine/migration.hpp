// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// migration.hpp: ready-made migration steps that edit an object's state (the C++ half of
// migrations; declarative files in migrations/ build the same steps).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "brine/detail/export.hpp"
#include "brine/limits.hpp"
#include "brine/value.hpp"

namespace brine {
namespace migrate {

/// A migration step: edits an object of one version into the next.
using Step = std::function<void(Object&)>;

/// Renames field `from` to `to`. Throws MigrationError when `from` is absent or `to` exists.
BRINE_API Step rename_field(std::string from, std::string to);
/// Adds field `name` with `default_value`. Throws MigrationError when it already exists.
BRINE_API Step add_field(std::string name, Value default_value);
/// Removes field `name` (absent is fine: the step is idempotent).
BRINE_API Step remove_field(std::string name);
/// Replaces the value of field `name` by `convert(old value)`; absent fields are left alone.
BRINE_API Step convert_field(std::string name, std::function<Value(const Value&)> convert);
/// Runs several steps in order as one.
BRINE_API Step sequence(std::vector<Step> steps);

/// Moves `fields` of the object into its nested object field `into` (created as an object
/// of `type` version `version` when absent).
BRINE_API Step move_into(std::vector<std::string> fields, std::string into, std::string type,
                         std::uint32_t version);
/// Moves `fields` (all when empty) out of the nested object field `from` into the object;
/// removes `from` when it ends up empty.
BRINE_API Step move_out_of(std::string from, std::vector<std::string> fields);

}  // namespace migrate

struct Migration;

/// The migrations of one type as a migration file declares them, without its C++ type.
struct TypeMigrations {
  std::string name;                  ///< the type's current name
  std::string source;                ///< the file it came from, for error messages
  std::uint32_t version = 0;         ///< the version the steps lead to
  std::vector<std::string> aliases;  ///< names the type had before (renamed_from)
  std::vector<std::pair<std::uint32_t, std::string>> step_descriptions;
  std::vector<std::pair<std::uint32_t, migrate::Step>> steps;  ///< from_version -> step
};

/// Migrations loaded from files (migrations/*.json, see docs/migrations.md). They upgrade
/// state trees without any C++ type (the command-line tool does that), and install into a
/// Registry so the program's own loads use the same steps.
class BRINE_API MigrationSet {
 public:
  /// Adds one type's migrations. Throws SchemaError when its name or an alias is taken.
  void add(TypeMigrations type);
  /// The migrations of the type named `name` or aliased so, or nullptr.
  const TypeMigrations* find(std::string_view name) const;
  const std::vector<TypeMigrations>& types() const noexcept { return types_; }
  /// Upgrades every object in `value` whose type this set knows to the newest version the
  /// steps reach; renames aliased types. Throws VersionError for an object newer than the
  /// set knows, MigrationError naming type, step and field when a step fails.
  void upgrade(Value& value, const LoadOptions& options = {}) const;

 private:
  std::vector<TypeMigrations> types_;
};

/// Parses one migration file (JSON). `source` names it in errors. Throws FormatError for
/// malformed files, naming the file and what is wrong.
BRINE_API MigrationSet parse_migrations(std::string_view json,
                                        const std::string& source = "migrations");
/// Loads a migration file, or every *.json file of a directory (sorted by name).
BRINE_API MigrationSet load_migrations(const std::filesystem::path& file_or_directory);

}  // namespace brine
