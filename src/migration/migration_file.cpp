// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// migration/migration_file.cpp: declarative migration files (JSON). See docs/migrations.md.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "brine/error.hpp"
#include "brine/io.hpp"
#include "brine/migration.hpp"

namespace brine {
namespace {

using Json = nlohmann::json;

/// An add_field default, kept until every step of the file is known.
struct AddedDefault {
  std::uint32_t from = 0;  // the step's version
  std::string where;       // "steps[1].ops[0]"
  std::string field;
  Value value;
};

/// The objects of `value` (iterative: a default may nest 1000 levels).
std::vector<const Object*> objects_in(const Value& value) {
  std::vector<const Object*> out;
  std::vector<const Value*> pending{&value};
  while (!pending.empty()) {
    const Value& v = *pending.back();
    pending.pop_back();
    if (v.kind() == ValueKind::list) {
      for (const Value& e : v.as_list()) pending.push_back(&e);
    } else if (v.kind() == ValueKind::map) {
      for (const auto& entry : v.as_map()) pending.push_back(&entry.second);
    } else if (v.kind() == ValueKind::object) {
      out.push_back(&v.as_object());
      for (const Field& f : v.as_object().fields) pending.push_back(&f.value);
    }
  }
  return out;
}

class FileParser {
 public:
  explicit FileParser(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void bad(const std::string& where, const std::string& what) const {
    ErrorContext c;
    c.source = source_;
    c.field_path = where;
    detail::throw_error(errc::corrupt_data, "invalid migration file: " + what, c);
  }

  const Json& member(const Json& j, const char* key, const std::string& where) const {
    auto it = j.find(key);
    if (it == j.end()) bad(where, std::string("missing \"") + key + "\"");
    return *it;
  }
  std::string text(const Json& j, const char* key, const std::string& where) const {
    const Json& v = member(j, key, where);
    if (!v.is_string() || v.get_ref<const std::string&>().empty())
      bad(where + "." + key, "must be a non-empty string");
    return v.get<std::string>();
  }
  std::uint32_t version(const Json& j, const char* key, const std::string& where) const {
    const Json& v = member(j, key, where);
    if (!v.is_number_unsigned() || v.get<std::uint64_t>() > 0xFFFFFFFFu)
      bad(where + "." + key, "must be an unsigned 32-bit integer");
    return static_cast<std::uint32_t>(v.get<std::uint64_t>());
  }
  std::vector<std::string> texts(const Json& j, const char* key, const std::string& where,
                                 bool required) const {
    auto it = j.find(key);
    if (it == j.end()) {
      if (required) bad(where, std::string("missing \"") + key + "\"");
      return {};
    }
    if (!it->is_array()) bad(where + "." + key, "must be a list of strings");
    std::vector<std::string> out;
    for (const Json& e : *it) {
      if (!e.is_string()) bad(where + "." + key, "must be a list of strings");
      out.push_back(e.get<std::string>());
    }
    return out;
  }

  std::pair<migrate::Step, std::string> op(const Json& j, const std::string& where,
                                           std::vector<AddedDefault>& defaults) const {
    if (!j.is_object()) bad(where, "an operation must be an object");
    std::string kind = text(j, "op", where);
    if (kind == "rename_field") {
      std::string from = text(j, "from", where), to = text(j, "to", where);
      return {migrate::rename_field(from, to), "rename field '" + from + "' to '" + to + "'"};
    }
    if (kind == "add_field") {
      std::string name = text(j, "name", where);
      Value default_value = value_from_json(member(j, "default", where).dump());
      defaults.push_back(AddedDefault{0, where, name, default_value});
      return {migrate::add_field(name, default_value), "add field '" + name + "'"};
    }
    if (kind == "remove_field") {
      std::string name = text(j, "name", where);
      return {migrate::remove_field(name), "remove field '" + name + "'"};
    }
    if (kind == "convert") {
      std::string field = text(j, "field", where), to = text(j, "to", where);
      return {convert(field, to, j, where), "convert field '" + field + "' to " + to};
    }
    if (kind == "move_into") {
      std::vector<std::string> fields = texts(j, "fields", where, true);
      std::string into = text(j, "into", where), type = text(j, "type", where);
      std::uint32_t v = version(j, "version", where);
      return {migrate::move_into(fields, into, type, v), "move fields into '" + into + "'"};
    }
    if (kind == "move_out_of") {
      std::string from = text(j, "from", where);
      return {migrate::move_out_of(from, texts(j, "fields", where, false)),
              "move fields out of '" + from + "'"};
    }
    bad(where + ".op",
        "unknown operation '" + kind +
            "' (known: rename_field, add_field, remove_field, convert, move_into, move_out_of)");
  }

  migrate::Step convert(const std::string& field, const std::string& to, const Json& j,
                        const std::string& where) const {
    auto fail = [field](const std::string& what) -> Value {
      detail::throw_error(errc::migration_failed, "field '" + field + "': " + what);
    };
    if (to == "float")
      return migrate::convert_field(field, [fail](const Value& v) {
        if (!v.is_number())
          return fail(std::string("cannot convert ") + kind_name(v.kind()) + " to float");
        return Value(v.as_double());
      });
    if (to == "int")
      return migrate::convert_field(field, [fail](const Value& v) {
        if (!v.is_number())
          return fail(std::string("cannot convert ") + kind_name(v.kind()) + " to int");
        double d = v.as_double();
        if (v.kind() == ValueKind::floating && (std::trunc(d) != d || std::fabs(d) > 9.0e15))
          return fail("number " + std::to_string(d) + " is not a whole number");
        return Value(v.kind() == ValueKind::floating ? static_cast<std::int64_t>(d) : v.as_int64());
      });
    if (to == "string")
      return migrate::convert_field(field, [fail](const Value& v) {
        switch (v.kind()) {
          case ValueKind::text:
            return v;
          case ValueKind::signed_integer:
            return Value(std::to_string(v.as_int64()));
          case ValueKind::unsigned_integer:
            return Value(std::to_string(v.as_uint64()));
          case ValueKind::floating: {
            std::string s = Json(v.as_double()).dump();
            return Value(s);
          }
          case ValueKind::boolean:
            return Value(v.as_bool() ? "true" : "false");
          default:
            return fail(std::string("cannot convert ") + kind_name(v.kind()) + " to string");
        }
      });
    if (to == "enum") {
      const Json& table = member(j, "table", where);
      if (!table.is_object() || table.empty())
        bad(where + ".table", "must map strings to integers");
      // An enum's underlying value: signed, or unsigned up to 2^64 - 1 for an enum whose
      // underlying type is std::uint64_t, which the state model stores unsigned. Reading
      // every entry as int64 turned 18446744073709551615 into -1.
      std::vector<std::pair<std::string, Value>> entries;
      for (auto it = table.begin(); it != table.end(); ++it) {
        if (!it->is_number_integer())
          bad(where + ".table." + it.key(), "must be an integer from -2^63 to 2^64 - 1");
        const bool above_int64 = it->is_number_unsigned() &&
                                 it->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX);
        entries.emplace_back(it.key(), above_int64 ? Value(it->get<std::uint64_t>())
                                                   : Value(it->get<std::int64_t>()));
      }
      return migrate::convert_field(field, [entries, fail](const Value& v) {
        if (v.kind() != ValueKind::text)
          return fail(std::string("cannot convert ") + kind_name(v.kind()) + " by table");
        for (const auto& [name, number] : entries)
          if (name == v.as_text()) return number;
        return fail("'" + v.as_text() + "' is not in the conversion table");
      });
    }
    bad(where + ".to", "unknown conversion '" + to + "' (known: float, int, string, enum)");
  }

  TypeMigrations parse(std::string_view text_in) const {
    Json doc;
    try {
      // Nesting is bounded while parsing: nlohmann's parser is iterative, but dump() (of
      // add_field defaults, below) recurses once per level, so a default of a few hundred
      // thousand '[' overflowed the stack. A default may nest as deep as value_from_json
      // accepts (its default max_depth, 1000); the file's own levels come on top.
      constexpr int kMaxDepth = 1000 + 16;
      doc = Json::parse(
          text_in.begin(), text_in.end(),
          [this](int depth, Json::parse_event_t, Json&) {
            if (depth > kMaxDepth)
              bad("", "nesting deeper than " + std::to_string(kMaxDepth) + " levels");
            return true;
          },
          true, false);
    } catch (const Json::parse_error& e) {
      ErrorContext c;
      c.source = source_;
      c.byte_offset = e.byte;
      detail::throw_error(errc::corrupt_data, std::string("malformed migration file: ") + e.what(),
                          c);
    } catch (const Json::out_of_range& e) {
      // nlohmann reports a number beyond double's range (1e400) as out_of_range, not as a
      // parse error, and without a position; its message quotes the number.
      ErrorContext c;
      c.source = source_;
      detail::throw_error(errc::corrupt_data, std::string("malformed migration file: ") + e.what(),
                          c);
    }
    if (!doc.is_object()) bad("", "the top level must be an object");
    const Json& format = member(doc, "brine_migrations", "");
    if (!format.is_number_unsigned() || format.get<std::uint64_t>() != 1)
      bad("brine_migrations", "this build reads migration files of format 1");
    TypeMigrations t;
    t.source = source_;
    t.name = text(doc, "type", "");
    t.version = version(doc, "version", "");
    t.aliases = texts(doc, "renamed_from", "", false);
    std::vector<AddedDefault> defaults;
    auto steps = doc.find("steps");
    if (steps != doc.end()) {
      if (!steps->is_array()) bad("steps", "must be a list");
      for (std::size_t i = 0; i < steps->size(); ++i) {
        const Json& s = (*steps)[i];
        std::string where = "steps[" + std::to_string(i) + "]";
        if (!s.is_object()) bad(where, "a step must be an object");
        std::uint32_t from = version(s, "from", where);
        if (from >= t.version) bad(where + ".from", "a step must start below the type's version");
        for (const auto& existing : t.steps)
          if (existing.first == from)
            bad(where + ".from", "two steps from v" + std::to_string(from));
        const Json& ops = member(s, "ops", where);
        // An empty list is a step that only bumps the version: the class changed without
        // changing its state (fields moved into a base class, a version its own setstate
        // tells apart), and the chain must not have a gap there.
        if (!ops.is_array()) bad(where + ".ops", "must be a list");
        std::vector<migrate::Step> parts;
        std::string description;
        const std::size_t first_default = defaults.size();
        for (std::size_t k = 0; k < ops.size(); ++k) {
          auto [step, what] = op(ops[k], where + ".ops[" + std::to_string(k) + "]", defaults);
          parts.push_back(std::move(step));
          description += (description.empty() ? "" : "; ") + what;
        }
        if (description.empty()) description = "version bump, state unchanged";
        for (std::size_t k = first_default; k < defaults.size(); ++k) defaults[k].from = from;
        t.steps.emplace_back(from, migrate::sequence(std::move(parts)));
        t.step_descriptions.emplace_back(from, description);
      }
    }
    check_not_recursive(t, defaults);
    return t;
  }

  // An object the step from `from` adds is upgraded after it. If it is of this very type,
  // at a version from which the steps lead back to `from`, it gets the same field with the
  // same object, and so on without end (until max_depth, with a message that names neither
  // the step nor the field). Such a file can never work, so it is refused here. Below a gap
  // in the steps the added object stops, which is allowed. Loops through other types'
  // files, and growth without a loop, are bounded when upgrading
  // (LoadOptions::max_migration_growth).
  void check_not_recursive(const TypeMigrations& t,
                           const std::vector<AddedDefault>& defaults) const {
    if (defaults.empty()) return;
    // For each step, the lowest version from which consecutive steps lead to it.
    std::vector<std::uint32_t> versions;
    for (const auto& step : t.steps) versions.push_back(step.first);
    std::sort(versions.begin(), versions.end());
    std::vector<std::uint32_t> run_start(versions.size());
    for (std::size_t i = 0; i < versions.size(); ++i)
      run_start[i] = i > 0 && versions[i - 1] + 1 == versions[i] ? run_start[i - 1] : versions[i];
    auto is_this_type = [&t](const std::string& name) {
      return name == t.name ||
             std::find(t.aliases.begin(), t.aliases.end(), name) != t.aliases.end();
    };
    for (const AddedDefault& d : defaults) {
      auto at = std::lower_bound(versions.begin(), versions.end(), d.from);
      const std::uint32_t lowest = run_start[static_cast<std::size_t>(at - versions.begin())];
      for (const Object* o : objects_in(d.value)) {
        if (!is_this_type(o->type) || o->version < lowest || o->version > d.from) continue;
        bad(d.where + ".default",
            "the default of field '" + d.field + "' holds a '" + t.name + "' v" +
                std::to_string(o->version) + " object: upgrading it runs this step (v" +
                std::to_string(d.from) + " -> v" + std::to_string(d.from + 1) +
                ") again, which adds another, without end");
      }
    }
  }

 private:
  std::string source_;
};

}  // namespace

MigrationSet parse_migrations(std::string_view json, const std::string& source) {
  MigrationSet set;
  try {
    set.add(FileParser(source).parse(json));
  } catch (Error& e) {
    detail::note_error_source(e, source);
    throw;
  }
  return set;
}

MigrationSet load_migrations(const std::filesystem::path& file_or_directory) {
  MigrationSet set;
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  if (std::filesystem::is_directory(file_or_directory, ec)) {
    for (const auto& entry : std::filesystem::directory_iterator(file_or_directory))
      if (entry.path().extension() == ".json") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(file_or_directory);
  }
  for (const auto& f : files) {
    try {
      set.add(FileParser(f.string()).parse(read_file(f)));
    } catch (Error& e) {
      // MigrationSet::add (two files for one type) knows no file: name the second one.
      detail::note_error_source(e, f.string());
      throw;
    }
  }
  return set;
}

}  // namespace brine
