// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// detail/registry_core.hpp: the type registry: names, versions, factories, bases, aliases,
// migrations and registered functions. Loading never creates a type or calls a function that
// is not registered here. The archive headers include this; programs include
// brine/registry.hpp, which adds the registration macros and every archive's per-type code.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <typeindex>
#include <typeinfo>
#include <vector>

#include "brine/detail/export.hpp"
#include "brine/error.hpp"
#include "brine/hooks.hpp"
#include "brine/layout.hpp"
#include "brine/migration.hpp"
#include "brine/value.hpp"

namespace brine {

/// A registered base class of a type: loading a pointer to the base may yield the type.
struct BaseClass {
  const std::type_info* type;
  void* (*upcast)(void*);  ///< derived address -> base address
};

/// One step of a migration chain: edits an object of version `from_version` so that it is a
/// valid object of version `from_version + 1`. The runner sets the version afterwards.
struct Migration {
  std::uint32_t from_version = 0;
  std::string description;  ///< e.g. "rename field 'W' to 'weights'", for error messages
  std::function<void(Object&)> apply;
};

namespace detail {

/// A list that registration extends while other threads load: readers see a complete
/// snapshot without taking a lock. A change publishes a new snapshot and keeps the old ones
/// until the registry is destroyed, because a reader may still hold a reference or pointer
/// into them. Changes come from the registry under its lock and are rare (start-up, migration
/// files), so the copies cost little.
template <class T>
class SnapshotList {
 public:
  SnapshotList() {
    snapshots_.push_back(std::make_unique<const std::vector<T>>());
    current_.store(snapshots_.back().get(), std::memory_order_release);
  }
  SnapshotList(const SnapshotList&) = delete;
  SnapshotList& operator=(const SnapshotList&) = delete;

  const std::vector<T>& get() const noexcept { return *current_.load(std::memory_order_acquire); }
  /// Makes `next` what readers see; unchanged if it throws.
  void publish(std::vector<T> next) {
    auto snapshot = std::make_unique<const std::vector<T>>(std::move(next));
    snapshots_.reserve(snapshots_.size() + 1);
    snapshots_.push_back(std::move(snapshot));
    current_.store(snapshots_.back().get(), std::memory_order_release);
  }
  /// Returns to a snapshot get() returned earlier (a registration that failed half-way).
  void restore(const std::vector<T>& earlier) noexcept {
    current_.store(&earlier, std::memory_order_release);
  }

 private:
  std::vector<std::unique_ptr<const std::vector<T>>> snapshots_;
  std::atomic<const std::vector<T>*> current_{nullptr};
};

}  // namespace detail

/// A registered type. Entries live as long as their registry and never move. Its lists
/// (aliases, bases, migrations) may grow while other threads load: what a reader gets is a
/// consistent snapshot that stays valid as long as the registry.
class BRINE_API TypeInfo {
 public:
  const std::string& name() const noexcept { return name_; }
  std::uint32_t version() const noexcept { return version_; }
  const std::vector<std::string>& aliases() const noexcept { return aliases_.get(); }
  const detail::TypeOps& ops() const noexcept { return *ops_; }
  const std::type_info& cpp_type() const noexcept { return *ops_->cpp_type; }
  const std::vector<BaseClass>& bases() const noexcept { return bases_.get(); }
  /// The step from `from_version`, or nullptr.
  const Migration* migration_from(std::uint32_t from_version) const noexcept;
  /// The field layout of the current version, computed once.
  const Layout& layout() const;
  /// Fields left out of identifier() (caches, data paths: not the object's identity).
  const std::vector<std::string>& identifier_excludes() const noexcept {
    return identifier_excludes_.get();
  }

 private:
  friend class Registry;
  std::string name_;
  std::uint32_t version_ = 0;
  detail::SnapshotList<std::string> aliases_;
  const detail::TypeOps* ops_ = nullptr;
  detail::SnapshotList<BaseClass> bases_;
  detail::SnapshotList<Migration> migrations_;
  detail::SnapshotList<std::string> identifier_excludes_;
  mutable std::once_flag layout_once_;
  mutable std::unique_ptr<Layout> layout_;
};

/// A registered free function or callable.
struct FunctionInfo {
  std::string name;
  const std::type_info* signature;       ///< typeid of the function type, e.g. float(float)
  void (*pointer)() = nullptr;           ///< the function's address when it is a plain function
  std::shared_ptr<const void> callable;  ///< a std::function<Signature> owned by the registry
};

template <class T>
class TypeRegistration;

/// Maps stable names to types and functions. One process-wide instance lives in the compiled
/// library (default_registry()), so types registered by several shared libraries meet there;
/// tests and sandboxes can create private ones. Registration and lookup are thread-safe, also
/// while other threads load: a load sees each type's aliases, bases and migrations as they
/// were at one moment, so register a type's migrations before loading archives that need them.
class BRINE_API Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  /// Registers T under its declared name and version (idempotent for the same T). Throws
  /// SchemaError (errc::duplicate_registration) when the name, or an alias, already belongs
  /// to a different type.
  template <class T>
  TypeRegistration<T> add();

  /// Registers the type of `ops` unless already registered; returns its entry.
  const TypeInfo& add(const detail::TypeOps& ops);

  /// The type registered under `name` or one of its aliases, or nullptr.
  const TypeInfo* find(std::string_view name) const;
  /// The entry of a C++ type, or nullptr.
  const TypeInfo* find(const std::type_info& type) const;
  /// Like find(name), but throws SchemaError (errc::unknown_type) listing near matches.
  const TypeInfo& at(std::string_view name) const;

  /// Adds `alias` as an old name of the type registered as `type_name`.
  void add_alias(std::string_view type_name, std::string alias);
  /// Declares `base` a base class of `derived` (both get registered if needed). Throws
  /// SchemaError (errc::duplicate_registration) when either's name belongs to another type;
  /// nothing is registered then.
  void add_base(const detail::TypeOps& derived, const detail::TypeOps& base,
                void* (*upcast)(void*));
  /// One base class for add_bases().
  struct BaseDeclaration {
    const detail::TypeOps* base;
    void* (*upcast)(void*);  ///< derived address -> base address
  };
  /// Declares several base classes of `derived` at once, registering the types that are not
  /// registered yet: all of it, or, when any name clashes (SchemaError,
  /// errc::duplicate_registration), none of it. TypeRegistration::bases<...>() calls this.
  void add_bases(const detail::TypeOps& derived, const std::vector<BaseDeclaration>& bases);
  /// Leaves `field` of the type registered as `type_name` out of identifiers.
  void exclude_from_identifier(std::string_view type_name, std::string field);
  /// Adds a migration step to the type registered as `type_name`. Throws SchemaError when a
  /// step from the same version exists or `from_version` is not older than the current one.
  void add_migration(std::string_view type_name, Migration step);

  /// Installs declarative migrations (migration files) into the types registered here:
  /// their aliases and steps. Types the set names that are not registered are skipped. All
  /// or nothing: every file is checked first, and when one is refused (SchemaError naming the
  /// file: errc::migration_failed for a file whose version is not the program's version of
  /// the type, errc::duplicate_registration for a step or alias that is already registered),
  /// none is installed and the registry is exactly as before.
  void add_migrations(const MigrationSet& migrations);

  /// Registers a plain function under `name`; objects holding a pointer to it save the name.
  template <class R, class... Args>
  void add_function(std::string name, R (*function)(Args...));
  /// Registers a callable under `name` for brine::Function<Signature> fields.
  template <class Signature, class F>
  void add_callable(std::string name, F callable);
  /// The function registered as `name`, or nullptr.
  const FunctionInfo* find_function(std::string_view name) const;
  /// The registered name of a plain function, or nullptr.
  const FunctionInfo* find_function(void (*pointer)()) const;
  /// Like find_function(name) but throws SchemaError listing near matches.
  const FunctionInfo& function_at(std::string_view name) const;

  /// Converts `object`, the address of an object whose dynamic type is `from`, to a pointer to
  /// its base `to` through registered base classes; nullptr when `to` is not a base.
  void* upcast(const TypeInfo& from, const std::type_info& to, void* object) const;

  /// Upgrades every object in `value` (wherever it sits) to its type's current version by
  /// running the registered migration chains; renames types known by an alias. Objects whose
  /// chain has a gap keep the version they reached. Throws VersionError for an object newer
  /// than its registered type, MigrationError when a step throws, LimitError when the tree
  /// nests deeper than `options` allow.
  void upgrade(Value& value, const LoadOptions& options = {}) const;

  /// All registered type names, sorted.
  std::vector<std::string> type_names() const;

  /// Registered names within a small edit distance of `name`, best first.
  std::vector<std::string> near_type_names(std::string_view name) const;
  std::vector<std::string> near_function_names(std::string_view name) const;

 private:
  void add_function_info(FunctionInfo info);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The process-wide registry the BRINE_REGISTER macros fill and archives use by default.
BRINE_API Registry& default_registry();

/// Returned by Registry::add<T>() to declare more about T.
template <class T>
class TypeRegistration {
 public:
  TypeRegistration(Registry& registry, const TypeInfo& info) : registry_(&registry), info_(&info) {}

  /// Declares base classes of T, so that std::shared_ptr<Base> and std::unique_ptr<Base> load
  /// a T. Each Base needs BRINE_TYPE (or BRINE_EXTERNAL_TYPE) too.
  /// All of them or, when a name clashes (SchemaError), none.
  template <class... Bases>
  TypeRegistration& bases() {
    registry_->add_bases(detail::type_ops<T>(), {base_declaration<Bases>()...});
    return *this;
  }
  /// Declares an old name of T, so archives written under it load as T.
  TypeRegistration& alias(std::string old_name) {
    registry_->add_alias(info_->name(), std::move(old_name));
    return *this;
  }
  /// Adds the migration step from version `from_version` to `from_version + 1`.
  TypeRegistration& migration(std::uint32_t from_version, std::function<void(Object&)> step,
                              std::string description = {}) {
    registry_->add_migration(info_->name(),
                             Migration{from_version, std::move(description), std::move(step)});
    return *this;
  }
  /// Leaves these fields out of brine::identifier() (caches, data paths).
  template <class... Names>
  TypeRegistration& exclude_from_identifier(Names... fields) {
    (registry_->exclude_from_identifier(info_->name(), std::string(fields)), ...);
    return *this;
  }
  const TypeInfo& info() const noexcept { return *info_; }

 private:
  template <class Base>
  static Registry::BaseDeclaration base_declaration() {
    static_assert(std::is_base_of_v<Base, T> && !std::is_same_v<Base, T>,
                  "brine: bases<B>() needs B to be a base class of T");
    return {&detail::type_ops<Base>(),
            [](void* p) -> void* { return static_cast<Base*>(static_cast<T*>(p)); }};
  }
  Registry* registry_;
  const TypeInfo* info_;
};

template <class T>
TypeRegistration<T> Registry::add() {
  static_assert(
      is_object_type_v<T>,
      "brine: Registry::add<T>() needs T declared with BRINE_TYPE or BRINE_EXTERNAL_TYPE");
  return TypeRegistration<T>(*this, add(detail::type_ops<T>()));
}

template <class R, class... Args>
void Registry::add_function(std::string name, R (*function)(Args...)) {
  FunctionInfo info;
  info.name = std::move(name);
  info.signature = &typeid(R(Args...));
  info.pointer = reinterpret_cast<void (*)()>(function);
  info.callable = std::make_shared<const std::function<R(Args...)>>(function);
  add_function_info(std::move(info));
}

template <class Signature, class F>
void Registry::add_callable(std::string name, F callable) {
  FunctionInfo info;
  info.name = std::move(name);
  info.signature = &typeid(Signature);
  info.callable = std::make_shared<const std::function<Signature>>(std::move(callable));
  add_function_info(std::move(info));
}

}  // namespace brine
