// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// migration.cpp: ready-made migration steps.

#include "brine/migration.hpp"

#include "brine/error.hpp"

namespace brine::migrate {

Step rename_field(std::string from, std::string to) {
  return [from, to](Object& o) {
    Value* v = o.find(from);
    if (v == nullptr) throw MigrationError(errc::migration_failed, "field '" + from + "' to rename is missing");
    if (o.find(to) != nullptr)
      throw MigrationError(errc::migration_failed, "cannot rename field '" + from + "' to '" + to + "': it exists");
    for (Field& f : o.fields)
      if (f.name == from) f.name = to;
  };
}

Step add_field(std::string name, Value default_value) {
  return [name, default_value](Object& o) {
    if (o.find(name) != nullptr)
      throw MigrationError(errc::migration_failed, "field '" + name + "' to add already exists");
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
