// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// migration/steps.cpp: the ready-made migration steps (rename, add, remove, convert, move)
// that edit the state model. See docs/migrations.md.

#include <vector>

#include "brine/error.hpp"
#include "brine/migration.hpp"
#include "migration/upgrade.hpp"

namespace brine::detail {
namespace {
thread_local MigrationBudget* current_budget = nullptr;
}  // namespace

std::uint64_t count_values(const Value& value) {
  std::uint64_t n = 0;
  std::vector<const Value*> pending{&value};
  auto visit = [&](const Value& v) {
    ++n;
    ValueKind k = v.kind();
    if (k == ValueKind::list || k == ValueKind::map || k == ValueKind::object)
      pending.push_back(&v);
  };
  ++n;
  while (!pending.empty()) {
    const Value& v = *pending.back();
    pending.pop_back();
    switch (v.kind()) {
      case ValueKind::list:
        for (const Value& e : v.as_list()) visit(e);
        break;
      case ValueKind::map:
        for (const auto& entry : v.as_map()) visit(entry.second);
        break;
      case ValueKind::object:
        for (const Field& f : v.as_object().fields) visit(f.value);
        break;
      default:
        break;
    }
  }
  return n;
}

MigrationBudget::MigrationBudget(const Value& root, const LoadOptions& options) noexcept
    : root_(root), options_(options), outer_(current_budget) {
  current_budget = this;
}

MigrationBudget::~MigrationBudget() { current_budget = outer_; }

MigrationBudget* MigrationBudget::current() noexcept { return current_budget; }

void MigrationBudget::charge(std::uint64_t values, const std::string& field) {
  // Counted when first needed, so that upgrades that add nothing (most) pay nothing.
  if (!counted_) {
    held_ = count_values(root_);
    counted_ = true;
  }
  added_ = values > ~std::uint64_t{0} - added_ ? ~std::uint64_t{0} : added_ + values;
  if (added_ <= options_.max_migration_values(held_)) return;
  detail::throw_error(
      errc::limit_exceeded,
      "field '" + field + "' brings the values migrations added to " + std::to_string(added_) +
          ", more than LoadOptions::max_migration_growth (" +
          std::to_string(options_.max_migration_growth) + ") x " + std::to_string(held_) +
          " values before the upgrade + " + std::to_string(LoadOptions::kMigrationAllowance) +
          " (do the objects it adds gain objects in turn?)");
}

}  // namespace brine::detail

namespace brine::migrate {

Step rename_field(std::string from, std::string to) {
  return [from, to](Object& o) {
    Value* v = o.find(from);
    if (v == nullptr)
      detail::throw_error(errc::migration_failed, "field '" + from + "' to rename is missing");
    if (o.find(to) != nullptr)
      detail::throw_error(errc::migration_failed,
                          "cannot rename field '" + from + "' to '" + to + "': it exists");
    for (Field& f : o.fields)
      if (f.name == from) f.name = to;
  };
}

Step add_field(std::string name, Value default_value) {
  const std::uint64_t size = detail::count_values(default_value);
  return [name, default_value, size](Object& o) {
    if (o.find(name) != nullptr)
      detail::throw_error(errc::migration_failed, "field '" + name + "' to add already exists");
    if (auto* budget = detail::MigrationBudget::current()) budget->charge(size, name);
    o.fields.push_back(Field{name, default_value});
  };
}

Step remove_field(std::string name) {
  return [name](Object& o) { o.erase(name); };
}

Step convert_field(std::string name, std::function<Value(const Value&)> convert) {
  return [name, convert](Object& o) {
    if (Value* v = o.find(name)) *v = convert(*v);
  };
}

Step sequence(std::vector<Step> steps) {
  return [steps](Object& o) {
    for (const Step& s : steps) s(o);
  };
}

}  // namespace brine::migrate

namespace brine::migrate {

Step move_into(std::vector<std::string> fields, std::string into, std::string type,
               std::uint32_t version) {
  return [fields, into, type, version](Object& o) {
    Value* target = o.find(into);
    if (target == nullptr) {
      if (auto* budget = detail::MigrationBudget::current()) budget->charge(1, into);
      Object nested;
      nested.type = type;
      nested.version = version;
      o.fields.push_back(Field{into, Value(std::move(nested))});
      target = &o.fields.back().value;
    } else if (target->kind() != ValueKind::object) {
      detail::throw_error(errc::migration_failed,
                          "field '" + into + "' to move into is not an object");
    }
    for (const std::string& name : fields) {
      Value* v = o.find(name);
      if (v == nullptr)
        detail::throw_error(errc::migration_failed, "field '" + name + "' to move is missing");
      Value moved = std::move(*v);
      o.erase(name);
      // `target` may have moved when fields were erased before it: find it again.
      target = o.find(into);
      if (target->as_object().find(name) != nullptr)
        detail::throw_error(errc::migration_failed,
                            "field '" + name + "' already exists in '" + into + "'");
      target->as_object().fields.push_back(Field{name, std::move(moved)});
    }
  };
}

Step move_out_of(std::string from, std::vector<std::string> fields) {
  return [from, fields](Object& o) {
    Value* source = o.find(from);
    if (source == nullptr)
      detail::throw_error(errc::migration_failed, "field '" + from + "' to move out of is missing");
    if (source->kind() != ValueKind::object)
      detail::throw_error(errc::migration_failed,
                          "field '" + from + "' to move out of is not an object");
    std::vector<std::string> names = fields;
    if (names.empty())
      for (const Field& f : source->as_object().fields) names.push_back(f.name);
    for (const std::string& name : names) {
      Object& nested = o.find(from)->as_object();
      Value* v = nested.find(name);
      if (v == nullptr)
        detail::throw_error(errc::migration_failed,
                            "field '" + from + "." + name + "' to move is missing");
      if (o.find(name) != nullptr)
        detail::throw_error(errc::migration_failed, "field '" + name + "' already exists");
      Value moved = std::move(*v);
      nested.erase(name);
      o.fields.push_back(Field{name, std::move(moved)});
    }
    if (o.find(from)->as_object().fields.empty()) o.erase(from);
  };
}

}  // namespace brine::migrate

namespace brine {

void MigrationSet::add(TypeMigrations type) {
  auto taken = [this](const std::string& name) { return find(name) != nullptr; };
  if (taken(type.name))
    detail::throw_error(errc::duplicate_registration,
                        "migrations for type '" + type.name + "' declared twice");
  for (const std::string& alias : type.aliases)
    if (taken(alias) || alias == type.name)
      detail::throw_error(errc::duplicate_registration,
                          "name '" + alias + "' is declared by two migration files");
  types_.push_back(std::move(type));
}

const TypeMigrations* MigrationSet::find(std::string_view name) const {
  for (const TypeMigrations& t : types_) {
    if (t.name == name) return &t;
    for (const std::string& a : t.aliases)
      if (a == name) return &t;
  }
  return nullptr;
}

void MigrationSet::upgrade(Value& value, const LoadOptions& options) const {
  detail::upgrade_tree(
      value,
      [this](const std::string& name) {
        detail::UpgradeTarget target;
        if (const TypeMigrations* t = find(name)) {
          target.name = &t->name;
          target.version = t->version;
        }
        return target;
      },
      [this](const detail::UpgradeTarget& target, std::uint32_t from,
             std::string& description) -> const migrate::Step* {
        const TypeMigrations* t = find(*target.name);
        for (std::size_t i = 0; i < t->steps.size(); ++i) {
          if (t->steps[i].first != from) continue;
          if (i < t->step_descriptions.size()) description = t->step_descriptions[i].second;
          return &t->steps[i].second;
        }
        return nullptr;
      },
      options);
}

}  // namespace brine
