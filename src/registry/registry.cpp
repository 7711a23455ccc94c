// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// registry/registry.cpp: the registry, its lookups, and the migration runner.

#include "brine/registry.hpp"

#include <cxxabi.h>

#include <algorithm>
#include <deque>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <typeindex>
#include <unordered_map>

#include "migration/upgrade.hpp"
#include "registry/functions.hpp"

namespace brine {

namespace detail {
std::string demangle(const std::type_info& type) {
  int status = 0;
  char* name = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  std::string result = status == 0 && name ? name : type.name();
  std::free(name);
  return result;
}
}  // namespace detail

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::vector<std::string> nearest(std::string_view name, const std::vector<std::string>& names) {
  std::vector<std::pair<std::size_t, std::string>> scored;
  std::size_t budget = std::max<std::size_t>(2, name.size() / 3);
  for (const std::string& candidate : names) {
    std::size_t d = edit_distance(name, candidate);
    // A candidate that contains the name (or the reverse) is a likely match too:
    // "Linear" for "nn.Linear".
    bool contains =
        candidate.find(name) != std::string::npos || name.find(candidate) != std::string::npos;
    if (d <= budget || contains) scored.emplace_back(contains ? std::min(d, budget) : d, candidate);
  }
  std::sort(scored.begin(), scored.end());
  std::vector<std::string> out;
  for (std::size_t i = 0; i < scored.size() && i < 5; ++i) out.push_back(scored[i].second);
  return out;
}

std::string suggestion(const std::vector<std::string>& near) {
  if (near.empty()) return "";
  std::string s = "; did you mean ";
  for (std::size_t i = 0; i < near.size(); ++i) {
    if (i) s += i + 1 == near.size() ? " or " : ", ";
    s += "'" + near[i] + "'";
  }
  return s + "?";
}

// Registry::function_at's message, and a reader's for a function name it cannot find.
std::string unknown_function(const Registry& registry, std::string_view name) {
  return "unknown function '" + std::string(name) + "': not registered in this program" +
         suggestion(registry.near_function_names(name));
}

}  // namespace

const Migration* TypeInfo::migration_from(std::uint32_t from_version) const noexcept {
  for (const Migration& m : migrations_.get())
    if (m.from_version == from_version) return &m;
  return nullptr;
}

const Layout& TypeInfo::layout() const {
  std::call_once(layout_once_, [this] {
    LayoutBuilder builder(version_);
    if (ops_->describe != nullptr) ops_->describe(builder);
    layout_ = std::make_unique<Layout>(builder.finish());
  });
  return *layout_;
}

struct Registry::Impl {
  mutable std::shared_mutex mutex;
  std::deque<TypeInfo> types;
  std::unordered_map<std::string, TypeInfo*> by_name;  // names and aliases
  std::unordered_map<std::type_index, TypeInfo*> by_type;
  std::deque<FunctionInfo> functions;
  std::unordered_map<std::string, FunctionInfo*> functions_by_name;
  std::unordered_map<void (*)(), FunctionInfo*> functions_by_pointer;

  TypeInfo* find_locked(std::string_view name) const {
    auto it = by_name.find(std::string(name));
    return it == by_name.end() ? nullptr : it->second;
  }
  /// The entry of `ops`'s C++ type, or nullptr when it may be registered; throws SchemaError
  /// when its name is empty or belongs to another type.
  TypeInfo* registered_or_check(const detail::TypeOps& ops) const;
  /// Registers `ops` once registered_or_check() allowed it; nothing changes if it throws.
  TypeInfo& insert(const detail::TypeOps& ops);
  /// Takes back the last insert(), of `ops`.
  void remove_last(const detail::TypeOps& ops) noexcept;
};

Registry::Registry() : impl_(std::make_unique<Impl>()) {}
Registry::~Registry() = default;

Registry& default_registry() {
  static Registry registry;
  return registry;
}

TypeInfo* Registry::Impl::registered_or_check(const detail::TypeOps& ops) const {
  auto by_type_it = by_type.find(std::type_index(*ops.cpp_type));
  if (by_type_it != by_type.end()) return by_type_it->second;
  if (TypeInfo* existing = find_locked(ops.name)) {
    detail::throw_error(errc::duplicate_registration, "type name '" + std::string(ops.name) +
                                                          "' is already registered for C++ type '" +
                                                          detail::demangle(existing->cpp_type()) +
                                                          "', cannot register it for '" +
                                                          detail::demangle(*ops.cpp_type) + "'");
  }
  if (ops.name.empty())
    detail::throw_error(
        errc::duplicate_registration,
        "cannot register C++ type '" + detail::demangle(*ops.cpp_type) + "' with an empty name");
  return nullptr;
}

TypeInfo& Registry::Impl::insert(const detail::TypeOps& ops) {
  TypeInfo& info = types.emplace_back();
  try {
    info.name_ = std::string(ops.name);
    info.version_ = ops.version;
    info.ops_ = &ops;
    by_name[info.name_] = &info;
    by_type[std::type_index(*ops.cpp_type)] = &info;
  } catch (...) {
    by_name.erase(std::string(ops.name));
    types.pop_back();
    throw;
  }
  return info;
}

void Registry::Impl::remove_last(const detail::TypeOps& ops) noexcept {
  by_type.erase(std::type_index(*ops.cpp_type));
  auto it = by_name.find(types.back().name_);
  if (it != by_name.end() && it->second == &types.back()) by_name.erase(it);
  types.pop_back();
}

const TypeInfo& Registry::add(const detail::TypeOps& ops) {
  std::unique_lock lock(impl_->mutex);
  if (TypeInfo* existing = impl_->registered_or_check(ops)) return *existing;
  return impl_->insert(ops);
}

const TypeInfo* Registry::find(std::string_view name) const {
  std::shared_lock lock(impl_->mutex);
  return impl_->find_locked(name);
}

const TypeInfo* Registry::find(const std::type_info& type) const {
  std::shared_lock lock(impl_->mutex);
  auto it = impl_->by_type.find(std::type_index(type));
  return it == impl_->by_type.end() ? nullptr : it->second;
}

const TypeInfo& Registry::at(std::string_view name) const {
  if (const TypeInfo* info = find(name)) return *info;
  detail::throw_error(errc::unknown_type, "unknown type '" + std::string(name) +
                                              "': not registered in this program" +
                                              suggestion(near_type_names(name)));
}

void Registry::add_alias(std::string_view type_name, std::string alias) {
  std::unique_lock lock(impl_->mutex);
  TypeInfo* info = impl_->find_locked(type_name);
  if (info == nullptr)
    detail::throw_error(
        errc::unknown_type,
        "cannot add alias '" + alias + "' to unregistered type '" + std::string(type_name) + "'");
  if (TypeInfo* existing = impl_->find_locked(alias)) {
    if (existing == info) return;
    detail::throw_error(errc::duplicate_registration, "alias '" + alias + "' of '" + info->name_ +
                                                          "' is already the name of '" +
                                                          existing->name_ + "'");
  }
  std::vector<std::string> aliases = info->aliases_.get();
  aliases.push_back(alias);
  impl_->by_name[alias] = info;
  try {
    info->aliases_.publish(std::move(aliases));
  } catch (...) {
    impl_->by_name.erase(alias);
    throw;
  }
}

void Registry::add_base(const detail::TypeOps& derived, const detail::TypeOps& base,
                        void* (*upcast)(void*)) {
  add_bases(derived, {BaseDeclaration{&base, upcast}});
}

void Registry::add_bases(const detail::TypeOps& derived,
                         const std::vector<BaseDeclaration>& bases) {
  // All or nothing, like add_migrations: the derived type and every base are checked before
  // any is registered, so a name clash on the third base leaves the first two unregistered.
  std::unique_lock lock(impl_->mutex);
  std::vector<const detail::TypeOps*> to_register;
  std::unordered_map<std::string_view, const detail::TypeOps*> new_names;
  auto check = [&](const detail::TypeOps& ops) {
    if (impl_->registered_or_check(ops) != nullptr) return;
    auto [it, added] = new_names.emplace(ops.name, &ops);
    if (added) {
      to_register.push_back(&ops);
    } else if (*it->second->cpp_type != *ops.cpp_type) {
      detail::throw_error(errc::duplicate_registration,
                          "type name '" + std::string(ops.name) + "' is declared by C++ types '" +
                              detail::demangle(*it->second->cpp_type) + "' and '" +
                              detail::demangle(*ops.cpp_type) + "'");
    }
  };
  check(derived);
  for (const BaseDeclaration& b : bases) {
    if (b.base == nullptr || b.upcast == nullptr)
      detail::throw_error(errc::internal_error, "base class declaration without a type or upcast");
    if (*b.base->cpp_type == *derived.cpp_type)
      detail::throw_error(errc::duplicate_registration,
                          "type '" + std::string(derived.name) + "' cannot be its own base class");
    check(*b.base);
  }

  std::size_t inserted = 0;
  TypeInfo* info = nullptr;
  const std::vector<BaseClass>* bases_before = nullptr;
  try {
    for (const detail::TypeOps* ops : to_register) {
      impl_->insert(*ops);
      ++inserted;
    }
    info = impl_->by_type.at(std::type_index(*derived.cpp_type));
    bases_before = &info->bases_.get();
    std::vector<BaseClass> all = *bases_before;
    for (const BaseDeclaration& b : bases) {
      bool known = false;
      for (const BaseClass& existing : all) known = known || *existing.type == *b.base->cpp_type;
      if (!known) all.push_back(BaseClass{b.base->cpp_type, b.upcast});
    }
    info->bases_.publish(std::move(all));
  } catch (...) {
    if (bases_before != nullptr) info->bases_.restore(*bases_before);
    while (inserted > 0) impl_->remove_last(*to_register[--inserted]);
    throw;
  }
}

void Registry::exclude_from_identifier(std::string_view type_name, std::string field) {
  std::unique_lock lock(impl_->mutex);
  TypeInfo* info = impl_->find_locked(type_name);
  if (info == nullptr)
    detail::throw_error(errc::unknown_type, "cannot exclude a field of unregistered type '" +
                                                std::string(type_name) + "'");
  std::vector<std::string> excludes = info->identifier_excludes_.get();
  for (const std::string& f : excludes)
    if (f == field) return;
  excludes.push_back(std::move(field));
  info->identifier_excludes_.publish(std::move(excludes));
}

void Registry::add_migration(std::string_view type_name, Migration step) {
  std::unique_lock lock(impl_->mutex);
  TypeInfo* info = impl_->find_locked(type_name);
  if (info == nullptr)
    detail::throw_error(errc::unknown_type, "cannot add a migration to unregistered type '" +
                                                std::string(type_name) + "'");
  if (step.from_version >= info->version_)
    detail::throw_error(errc::migration_failed,
                        "migration from v" + std::to_string(step.from_version) + " of '" +
                            info->name_ + "' is not older than its current version v" +
                            std::to_string(info->version_));
  if (info->migration_from(step.from_version) != nullptr)
    detail::throw_error(errc::duplicate_registration,
                        "a migration from v" + std::to_string(step.from_version) + " of '" +
                            info->name_ + "' is already registered");
  if (!step.apply)
    detail::throw_error(errc::migration_failed, "empty migration step for '" + info->name_ + "'");
  std::vector<Migration> steps = info->migrations_.get();
  steps.push_back(std::move(step));
  info->migrations_.publish(std::move(steps));
}

void Registry::add_function_info(FunctionInfo info) {
  std::unique_lock lock(impl_->mutex);
  auto it = impl_->functions_by_name.find(info.name);
  if (it != impl_->functions_by_name.end()) {
    if (info.pointer != nullptr && it->second->pointer == info.pointer &&
        *it->second->signature == *info.signature)
      return;
    detail::throw_error(errc::duplicate_registration,
                        "function name '" + info.name + "' is already registered");
  }
  FunctionInfo& stored = impl_->functions.emplace_back(std::move(info));
  impl_->functions_by_name[stored.name] = &stored;
  if (stored.pointer != nullptr) impl_->functions_by_pointer.emplace(stored.pointer, &stored);
}

const FunctionInfo* Registry::find_function(std::string_view name) const {
  std::shared_lock lock(impl_->mutex);
  auto it = impl_->functions_by_name.find(std::string(name));
  return it == impl_->functions_by_name.end() ? nullptr : it->second;
}

const FunctionInfo* Registry::find_function(void (*pointer)()) const {
  std::shared_lock lock(impl_->mutex);
  auto it = impl_->functions_by_pointer.find(pointer);
  return it == impl_->functions_by_pointer.end() ? nullptr : it->second;
}

const FunctionInfo& Registry::function_at(std::string_view name) const {
  if (const FunctionInfo* info = find_function(name)) return *info;
  detail::throw_error(errc::unknown_type, unknown_function(*this, name));
}

namespace detail {

const std::string& function_name_to_save(const Registry& registry, void (*pointer)(),
                                         const std::type_info& signature) {
  const FunctionInfo* info = registry.find_function(pointer);
  if (info == nullptr)
    throw_error(errc::unknown_type,
                "cannot save a pointer to an unregistered function of type '" +
                    demangle(signature) +
                    "': register it with Registry::add_function or BRINE_REGISTER_FUNCTION",
                {});
  return info->name;
}

FunctionLookup lookup_function(const Registry& registry, std::string_view name,
                               const std::type_info& signature) {
  FunctionLookup found;
  const FunctionInfo* info = registry.find_function(name);
  if (info == nullptr) {
    found.code = errc::unknown_type;
    found.message = unknown_function(registry, name);
  } else if (*info->signature != signature) {
    found.code = errc::type_mismatch;
    found.message = "function '" + info->name + "' has signature '" + demangle(*info->signature) +
                    "', the field needs '" + demangle(signature) + "'";
  } else {
    found.info = info;
  }
  return found;
}

std::string not_a_plain_function(const FunctionInfo& info) {
  return "'" + info.name + "' is a registered callable, not a plain function";
}

}  // namespace detail

void* Registry::upcast(const TypeInfo& from, const std::type_info& to, void* object) const {
  if (from.cpp_type() == to) return object;
  for (const BaseClass& base : from.bases()) {
    void* as_base = base.upcast(object);
    if (*base.type == to) return as_base;
    if (const TypeInfo* base_info = find(*base.type)) {
      if (void* p = upcast(*base_info, to, as_base)) return p;
    }
  }
  return nullptr;
}

std::vector<std::string> Registry::type_names() const {
  std::shared_lock lock(impl_->mutex);
  std::vector<std::string> names;
  for (const TypeInfo& t : impl_->types) names.push_back(t.name());
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> Registry::near_type_names(std::string_view name) const {
  std::vector<std::string> names;
  {
    std::shared_lock lock(impl_->mutex);
    for (const auto& entry : impl_->by_name) names.push_back(entry.first);
  }
  std::sort(names.begin(), names.end());
  return nearest(name, names);
}

std::vector<std::string> Registry::near_function_names(std::string_view name) const {
  std::vector<std::string> names;
  {
    std::shared_lock lock(impl_->mutex);
    for (const auto& entry : impl_->functions_by_name) names.push_back(entry.first);
  }
  std::sort(names.begin(), names.end());
  return nearest(name, names);
}

void Registry::upgrade(Value& value, const LoadOptions& options) const {
  detail::upgrade_tree(
      value,
      [this](const std::string& name) {
        detail::UpgradeTarget t;
        if (const TypeInfo* info = find(name)) {
          t.name = &info->name();
          t.version = info->version();
        }
        return t;
      },
      [this](const detail::UpgradeTarget& t, std::uint32_t from,
             std::string& description) -> const std::function<void(Object&)>* {
        const Migration* m = find(*t.name)->migration_from(from);
        if (m == nullptr) return nullptr;
        description = m->description;
        return &m->apply;
      },
      options);
}

void Registry::add_migrations(const MigrationSet& migrations) {
  // All or nothing: every file is checked, against the registry and against the other files,
  // before anything is installed, and under one lock, so that no registration slips in
  // between the check and the install. A refused directory leaves the registry as it was.
  std::unique_lock lock(impl_->mutex);
  auto refuse = [](errc code, const TypeMigrations& file, const std::string& message) {
    ErrorContext where;
    where.source = file.source;
    where.type_name = file.name;
    detail::throw_error(code, message + " (no migration file was installed)", where);
  };
  struct Planned {
    TypeInfo* info;
    const TypeMigrations* file;
    std::vector<std::string> aliases;  // those the type does not have yet
  };
  std::vector<Planned> plan;
  std::unordered_map<std::string, TypeInfo*> new_aliases;
  for (const TypeMigrations& t : migrations.types()) {
    TypeInfo* info = impl_->find_locked(t.name);
    if (info == nullptr) continue;
    if (t.version != info->version_)
      refuse(errc::migration_failed, t,
             "migration file for '" + t.name + "' leads to v" + std::to_string(t.version) +
                 ", but this program's '" + t.name + "' is v" + std::to_string(info->version_));
    Planned p{info, &t, {}};
    for (const std::string& alias : t.aliases) {
      TypeInfo* owner = impl_->find_locked(alias);
      if (owner == nullptr) {
        auto [it, added] = new_aliases.emplace(alias, info);
        owner = added ? nullptr : it->second;
        if (added) p.aliases.push_back(alias);
      }
      if (owner != nullptr && owner != info)
        refuse(errc::duplicate_registration, t,
               "alias '" + alias + "' of '" + info->name_ + "' is already the name of '" +
                   owner->name_ + "'");
    }
    for (const auto& [from, step] : t.steps) {
      if (from >= info->version_)
        refuse(errc::migration_failed, t,
               "migration from v" + std::to_string(from) + " of '" + info->name_ +
                   "' is not older than its current version v" + std::to_string(info->version_));
      if (info->migration_from(from) != nullptr)
        refuse(errc::duplicate_registration, t,
               "a migration from v" + std::to_string(from) + " of '" + info->name_ +
                   "' is already registered");
      if (!step) refuse(errc::migration_failed, t, "empty migration step for '" + t.name + "'");
    }
    // Two steps from one version in one set, which a MigrationSet built by hand may hold.
    for (std::size_t i = 0; i < t.steps.size(); ++i)
      for (std::size_t k = 0; k < i; ++k)
        if (t.steps[i].first == t.steps[k].first)
          refuse(
              errc::duplicate_registration, t,
              "two migrations from v" + std::to_string(t.steps[i].first) + " of '" + t.name + "'");
    for (const Planned& earlier : plan)
      if (earlier.info == info)
        refuse(errc::duplicate_registration, t,
               "two migration files for '" + info->name_ + "' (as '" + earlier.file->name +
                   "' and '" + t.name + "')");
    plan.push_back(std::move(p));
  }

  // Install. Only allocation can fail here; what was added is then taken out again.
  struct Undo {
    Impl& impl;
    std::vector<std::pair<TypeInfo*, const std::vector<std::string>*>> aliases_before;
    std::vector<std::pair<TypeInfo*, const std::vector<Migration>*>> migrations_before;
    std::vector<std::string> names_added;
    bool done = false;
    ~Undo() {
      if (done) return;
      for (const std::string& name : names_added) impl.by_name.erase(name);
      for (auto& [info, before] : aliases_before) info->aliases_.restore(*before);
      for (auto& [info, before] : migrations_before) info->migrations_.restore(*before);
    }
  } undo{*impl_, {}, {}, {}};
  for (Planned& p : plan) {
    undo.aliases_before.emplace_back(p.info, &p.info->aliases_.get());
    undo.migrations_before.emplace_back(p.info, &p.info->migrations_.get());
  }
  for (Planned& p : plan) {
    std::vector<std::string> aliases = p.info->aliases_.get();
    for (std::string& alias : p.aliases) {
      undo.names_added.push_back(alias);
      impl_->by_name.emplace(alias, p.info);
      aliases.push_back(std::move(alias));
    }
    p.info->aliases_.publish(std::move(aliases));
    const TypeMigrations& t = *p.file;
    std::vector<Migration> steps = p.info->migrations_.get();
    for (std::size_t i = 0; i < t.steps.size(); ++i) {
      std::string description = i < t.step_descriptions.size() ? t.step_descriptions[i].second : "";
      steps.push_back(Migration{t.steps[i].first, description, t.steps[i].second});
    }
    p.info->migrations_.publish(std::move(steps));
  }
  undo.done = true;
}

}  // namespace brine
