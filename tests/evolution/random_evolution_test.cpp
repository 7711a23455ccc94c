// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// random_evolution_test.cpp: schema evolution fuzzed, in the spirit of Cap'n Proto's
// evolution-test.c++. Each seed draws a history of class changes (add, remove, rename, retype
// and nest fields, rename the type, move fields into a base class), each with its migration,
// written in C++ or as a migration file. Archives of every generation, binary, stable and
// JSON, must load into the last generation's C++ class with exactly the values the changes
// imply, computed here by a model of the changes that shares no code with brine's
// migrations. A history with one migration missing must refuse the generations before the
// gap with a typed error and still load those after it.
//
// Set BRINE_EVOLUTION_SEED=N to replay one seed; failures print theirs.

#include <brine/brine.hpp>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "test_util.hpp"

namespace {

// The last generation's version; generation g (0-based) is version g + 1.
constexpr std::uint32_t kGenerations = 10;
constexpr const char* kRecordName = "evo.Record";
constexpr const char* kInnerName = "evo.Inner";

enum class Kind { integer, real, text, int_list };

using Cell = std::variant<std::int64_t, double, std::string, std::vector<std::int64_t>>;

struct FieldSpec {
  std::string name;
  Kind kind;
};

/// One generation of the record's class.
struct Schema {
  std::string record_name;
  std::uint32_t version = 0;
  std::vector<FieldSpec> fields;  // the record's own fields, in getstate order
  // Names of fields that live in the C++ base class: they are flattened into the record's
  // state, so moving fields into a base changes the class and not its archives.
  std::vector<std::string> base_fields;
  // The nested object (type evo.Inner, version 1) created by a nest change, if any.
  std::optional<std::string> inner_field;
  std::vector<FieldSpec> inner_fields;

  const FieldSpec* find(const std::string& name) const {
    for (const FieldSpec& f : fields)
      if (f.name == name) return &f;
    return nullptr;
  }
  bool in_base(const std::string& name) const {
    for (const std::string& b : base_fields)
      if (b == name) return true;
    return false;
  }
};

/// An instance in the model: cells by field name.
struct Instance {
  std::map<std::string, Cell> cells;
  std::map<std::string, Cell> inner;  // meaningful when the schema has an inner field
};

// ---- the last generation's C++ classes, whose fields follow a schema chosen at run time ----

const Schema* g_final = nullptr;  // the last generation of the history being tested

// getstate and setstate of a cell: one function for both, as the hooks are symmetric.
template <class Archive, class Cells>
void visit_cell(Archive& ar, Cells& cells, const FieldSpec& f) {
  constexpr bool loading = Archive::is_loading;
  auto with = [&](auto typed) {
    using T = decltype(typed);
    if constexpr (loading) {
      T value{};
      ar(f.name.c_str(), value);
      cells[f.name] = std::move(value);
    } else {
      auto it = cells.find(f.name);
      const T& value = it == cells.end() ? typed : std::get<T>(it->second);
      ar(f.name.c_str(), value);
    }
  };
  switch (f.kind) {
    case Kind::integer:
      with(std::int64_t{0});
      break;
    case Kind::real:
      with(0.0);
      break;
    case Kind::text:
      with(std::string());
      break;
    case Kind::int_list:
      with(std::vector<std::int64_t>());
      break;
  }
}

class EvoInner {
 public:
  BRINE_TYPE("evo.Inner", 1);
  std::map<std::string, Cell> cells;

  template <class Archive>
  void getstate(Archive& ar) const {
    for (const FieldSpec& f : g_final->inner_fields) visit_cell(ar, cells, f);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    for (const FieldSpec& f : g_final->inner_fields) visit_cell(ar, cells, f);
  }
};

class EvoBase {
 public:
  std::map<std::string, Cell> base_cells;

  template <class Archive>
  void getstate(Archive& ar) const {
    for (const FieldSpec& f : g_final->fields)
      if (g_final->in_base(f.name)) visit_cell(ar, base_cells, f);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    for (const FieldSpec& f : g_final->fields)
      if (g_final->in_base(f.name)) visit_cell(ar, base_cells, f);
  }
};

class EvoRecord : public EvoBase {
 public:
  BRINE_TYPE("evo.Record", kGenerations);
  std::map<std::string, Cell> cells;
  EvoInner inner;

  template <class Archive>
  void getstate(Archive& ar) const {
    brine::base<EvoBase>(ar, *this);
    for (const FieldSpec& f : g_final->fields)
      if (!g_final->in_base(f.name)) visit_cell(ar, cells, f);
    if (g_final->inner_field) ar(g_final->inner_field->c_str(), inner);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    brine::base<EvoBase>(ar, *this);
    for (const FieldSpec& f : g_final->fields)
      if (!g_final->in_base(f.name)) visit_cell(ar, cells, f);
    if (g_final->inner_field) ar(g_final->inner_field->c_str(), inner);
  }

  /// The loaded values in the model's form.
  Instance instance() const {
    Instance out;
    out.cells = cells;
    for (const auto& [name, cell] : base_cells) out.cells[name] = cell;
    if (g_final->inner_field) out.inner = inner.cells;
    return out;
  }
};

// ---- the model: changes, their effect on schemas and instances, and their migrations ----

enum class ChangeKind { add, remove, rename, retype, nest, rename_type, add_base };

struct Change {
  ChangeKind kind;
  std::string field;                // add, remove, rename (from), retype, add_base (unused)
  std::string new_name;             // rename (to), nest (the inner field)
  Kind from_kind = Kind::integer;   // retype
  Kind to_kind = Kind::integer;     // add, retype
  Cell default_value;               // add
  std::vector<std::string> nested;  // nest: the fields moved in
};

// A float as text, as the migration files' "string" conversion writes it
// (docs/migrations.md): the shortest round-trip form, with ".0" on whole numbers, as JSON
// numbers are written.
std::string float_text(double x) {
  char buf[64];
  auto result = std::to_chars(buf, buf + sizeof buf, x);
  std::string s(buf, result.ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

Cell convert_cell(const Cell& c, Kind to) {
  if (to == Kind::real) return static_cast<double>(std::get<std::int64_t>(c));
  // to text, from an integer or a real
  if (auto i = std::get_if<std::int64_t>(&c)) return std::to_string(*i);
  return float_text(std::get<double>(c));
}

brine::Value to_value(const Cell& c) {
  return std::visit(
      [](const auto& x) -> brine::Value {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::vector<std::int64_t>>) {
          brine::Value::List list;
          for (std::int64_t i : x) list.emplace_back(i);
          return brine::Value(std::move(list));
        } else {
          return brine::Value(x);
        }
      },
      c);
}

const char* kind_word(Kind k) {
  switch (k) {
    case Kind::integer:
      return "int";
    case Kind::real:
      return "float";
    case Kind::text:
      return "string";
    case Kind::int_list:
      return "list";
  }
  return "?";
}

std::string describe(const Change& c) {
  switch (c.kind) {
    case ChangeKind::add:
      return "add " + std::string(kind_word(c.to_kind)) + " '" + c.field + "'";
    case ChangeKind::remove:
      return "remove '" + c.field + "'";
    case ChangeKind::rename:
      return "rename '" + c.field + "' to '" + c.new_name + "'";
    case ChangeKind::retype:
      return "retype '" + c.field + "' to " + kind_word(c.to_kind);
    case ChangeKind::nest: {
      std::string s = "nest";
      for (const std::string& n : c.nested) s += " '" + n + "'";
      return s + " into '" + c.new_name + "'";
    }
    case ChangeKind::rename_type:
      return "rename the type";
    case ChangeKind::add_base:
      return "move the fields into a base class";
  }
  return "?";
}

/// Applies a change to a schema (the next generation's class).
void apply(Schema& s, const Change& c) {
  switch (c.kind) {
    case ChangeKind::add:
      s.fields.push_back({c.field, c.to_kind});
      break;
    case ChangeKind::remove:
      if (s.inner_field && *s.inner_field == c.field) {
        s.inner_field.reset();
        s.inner_fields.clear();
        break;
      }
      for (std::size_t i = 0; i < s.fields.size(); ++i)
        if (s.fields[i].name == c.field) s.fields.erase(s.fields.begin() + static_cast<long>(i));
      break;
    case ChangeKind::rename:
      if (s.inner_field && *s.inner_field == c.field) {
        s.inner_field = c.new_name;
        break;
      }
      for (FieldSpec& f : s.fields)
        if (f.name == c.field) f.name = c.new_name;
      for (std::string& b : s.base_fields)
        if (b == c.field) b = c.new_name;
      break;
    case ChangeKind::retype:
      for (FieldSpec& f : s.fields)
        if (f.name == c.field) f.kind = c.to_kind;
      break;
    case ChangeKind::nest:
      s.inner_field = c.new_name;
      s.inner_fields.clear();
      for (const std::string& n : c.nested) {
        s.inner_fields.push_back(*s.find(n));
        for (std::size_t i = 0; i < s.fields.size(); ++i)
          if (s.fields[i].name == n) s.fields.erase(s.fields.begin() + static_cast<long>(i));
      }
      break;
    case ChangeKind::rename_type:
      break;  // names are given once the history is drawn (see draw_history)
    case ChangeKind::add_base:
      for (const FieldSpec& f : s.fields)
        if (!s.in_base(f.name)) s.base_fields.push_back(f.name);
      break;
  }
  // A field that left the record leaves the base with it.
  std::vector<std::string> kept;
  for (const std::string& b : s.base_fields)
    if (s.find(b)) kept.push_back(b);
  s.base_fields = kept;
}

/// Applies a change to an instance: what the migration must produce.
void apply(Instance& v, const Schema& before, const Change& c) {
  switch (c.kind) {
    case ChangeKind::add:
      v.cells[c.field] = c.default_value;
      break;
    case ChangeKind::remove:
      if (before.inner_field && *before.inner_field == c.field)
        v.inner.clear();
      else
        v.cells.erase(c.field);
      break;
    case ChangeKind::rename:
      if (before.inner_field && *before.inner_field == c.field) break;
      v.cells[c.new_name] = v.cells.at(c.field);
      v.cells.erase(c.field);
      break;
    case ChangeKind::retype:
      v.cells[c.field] = convert_cell(v.cells.at(c.field), c.to_kind);
      break;
    case ChangeKind::nest:
      v.inner.clear();
      for (const std::string& n : c.nested) {
        v.inner[n] = v.cells.at(n);
        v.cells.erase(n);
      }
      break;
    case ChangeKind::rename_type:
    case ChangeKind::add_base:
      break;
  }
}

/// The C++ migration step of a change.
brine::migrate::Step cpp_step(const Change& c) {
  namespace m = brine::migrate;
  switch (c.kind) {
    case ChangeKind::add:
      return m::add_field(c.field, to_value(c.default_value));
    case ChangeKind::remove:
      return m::remove_field(c.field);
    case ChangeKind::rename:
      return m::rename_field(c.field, c.new_name);
    case ChangeKind::retype: {
      Kind to = c.to_kind;
      return m::convert_field(c.field, [to](const brine::Value& v) -> brine::Value {
        if (to == Kind::real) return brine::Value(static_cast<double>(v.as_int64()));
        if (v.kind() == brine::ValueKind::floating) return brine::Value(float_text(v.as_double()));
        return brine::Value(std::to_string(v.as_int64()));
      });
    }
    case ChangeKind::nest:
      return m::move_into(c.nested, c.new_name, kInnerName, 1);
    case ChangeKind::rename_type:
    case ChangeKind::add_base:
      return m::sequence({});
  }
  return m::sequence({});
}

std::string json_quote(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

std::string json_of(const Cell& c) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::int64_t>) {
          return std::to_string(x);
        } else if constexpr (std::is_same_v<T, double>) {
          return float_text(x);  // with '.' or an exponent: an integer would read back as one
        } else if constexpr (std::is_same_v<T, std::string>) {
          return json_quote(x);
        } else {
          std::string s = "[";
          for (std::size_t i = 0; i < x.size(); ++i) s += (i ? "," : "") + std::to_string(x[i]);
          return s + "]";
        }
      },
      c);
}

/// The declarative form of a change's step, as docs/migrations.md specifies it.
std::string file_ops(const Change& c) {
  switch (c.kind) {
    case ChangeKind::add:
      return R"({"op": "add_field", "name": )" + json_quote(c.field) + R"(, "default": )" +
             json_of(c.default_value) + "}";
    case ChangeKind::remove:
      return R"({"op": "remove_field", "name": )" + json_quote(c.field) + "}";
    case ChangeKind::rename:
      return R"({"op": "rename_field", "from": )" + json_quote(c.field) + R"(, "to": )" +
             json_quote(c.new_name) + "}";
    case ChangeKind::retype:
      return R"({"op": "convert", "field": )" + json_quote(c.field) + R"(, "to": )" +
             json_quote(c.to_kind == Kind::real ? "float" : "string") + "}";
    case ChangeKind::nest: {
      std::string fields;
      for (const std::string& n : c.nested) fields += (fields.empty() ? "" : ", ") + json_quote(n);
      return R"({"op": "move_into", "fields": [)" + fields + R"(], "into": )" +
             json_quote(c.new_name) + R"(, "type": ")" + kInnerName + R"(", "version": 1})";
    }
    case ChangeKind::rename_type:
    case ChangeKind::add_base:
      return "";
  }
  return "";
}

/// A drawn history: the schema of every generation and the change between each two.
struct History {
  std::vector<Schema> schemas;  // kGenerations of them
  std::vector<Change> changes;  // changes[g] leads from schemas[g] to schemas[g + 1]
};

class Drawer {
 public:
  explicit Drawer(std::uint32_t seed) : rng_(seed) {}

  History draw() {
    History h;
    Schema s;
    s.version = 1;
    int initial = pick(1, 4);
    for (int i = 0; i < initial; ++i) s.fields.push_back({fresh_name(), any_kind()});
    h.schemas.push_back(s);
    while (h.schemas.size() < kGenerations) {
      Change c = draw_change(h.schemas.back());
      Schema next = h.schemas.back();
      apply(next, c);
      next.version = h.schemas.back().version + 1;
      h.changes.push_back(c);
      h.schemas.push_back(next);
    }
    // Type names, from the last generation back: a rename_type change means the generations
    // before it used another name, which becomes an alias.
    std::string name = kRecordName;
    for (std::size_t g = kGenerations; g-- > 0;) {
      h.schemas[g].record_name = name;
      if (g > 0 && h.changes[g - 1].kind == ChangeKind::rename_type)
        name = "evo.Old" + std::to_string(g) + "_" + std::to_string(pick(0, 999));
    }
    return h;
  }

  Instance instance(const Schema& s) {
    Instance v;
    for (const FieldSpec& f : s.fields) v.cells[f.name] = cell(f.kind);
    for (const FieldSpec& f : s.inner_fields) v.inner[f.name] = cell(f.kind);
    return v;
  }

  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

 private:
  Change draw_change(const Schema& s) {
    for (;;) {
      Change c;
      switch (pick(0, 9)) {
        case 0:
        case 1:
          c.kind = ChangeKind::add;
          c.field = fresh_name();
          c.to_kind = any_kind();
          c.default_value = cell(c.to_kind);
          return c;
        case 2:
          if (s.fields.empty() && !s.inner_field) continue;
          c.kind = ChangeKind::remove;
          c.field = any_field(s, /*with_inner=*/true);
          return c;
        case 3:
        case 4:
          if (s.fields.empty() && !s.inner_field) continue;
          c.kind = ChangeKind::rename;
          c.field = any_field(s, /*with_inner=*/true);
          c.new_name = fresh_name();
          return c;
        case 5: {
          std::vector<const FieldSpec*> convertible;
          for (const FieldSpec& f : s.fields)
            if (f.kind == Kind::integer || f.kind == Kind::real) convertible.push_back(&f);
          if (convertible.empty()) continue;
          const FieldSpec& f = *convertible[static_cast<std::size_t>(
              pick(0, static_cast<int>(convertible.size()) - 1))];
          c.kind = ChangeKind::retype;
          c.field = f.name;
          c.from_kind = f.kind;
          c.to_kind = f.kind == Kind::integer && pick(0, 1) == 0 ? Kind::real : Kind::text;
          return c;
        }
        case 6: {
          if (s.inner_field || s.fields.empty()) continue;
          c.kind = ChangeKind::nest;
          c.new_name = fresh_name();
          int n = pick(1, static_cast<int>(std::min<std::size_t>(s.fields.size(), 3)));
          std::vector<std::string> names;
          for (const FieldSpec& f : s.fields) names.push_back(f.name);
          std::shuffle(names.begin(), names.end(), rng_);
          c.nested.assign(names.begin(), names.begin() + n);
          return c;
        }
        case 7:
          c.kind = ChangeKind::rename_type;
          return c;
        case 8:
          c.kind = ChangeKind::add_base;
          return c;
        default:
          continue;
      }
    }
  }

  std::string fresh_name() { return "f" + std::to_string(next_name_++); }

  Kind any_kind() { return static_cast<Kind>(pick(0, 3)); }

  std::string any_field(const Schema& s, bool with_inner) {
    std::vector<std::string> names;
    for (const FieldSpec& f : s.fields) names.push_back(f.name);
    if (with_inner && s.inner_field) names.push_back(*s.inner_field);
    return names[static_cast<std::size_t>(pick(0, static_cast<int>(names.size()) - 1))];
  }

  Cell cell(Kind kind) {
    switch (kind) {
      case Kind::integer:
        return static_cast<std::int64_t>(std::uniform_int_distribution<std::int64_t>(
            -1'000'000'000'000, 1'000'000'000'000)(rng_));
      case Kind::real:
        // Quarters: exact in binary, so every encoding and every conversion to text agree
        // on one spelling.
        return pick(-4000, 4000) / 4.0;
      case Kind::text: {
        static const char* const words[] = {"", "a", "relu", "naïve", "日本", "x y z", "\"q\""};
        return std::string(words[pick(0, 6)]) + std::to_string(pick(0, 99));
      }
      case Kind::int_list: {
        std::vector<std::int64_t> list(static_cast<std::size_t>(pick(0, 5)));
        for (std::int64_t& x : list) x = pick(-1000, 1000);
        return list;
      }
    }
    return std::int64_t{0};
  }

  std::mt19937 rng_;
  int next_name_ = 0;
};

/// A generation-g instance as the program of that generation would have saved it.
brine::Value state_of(const Schema& s, const Instance& v) {
  brine::Object o;
  o.type = s.record_name;
  o.version = s.version;
  // The base class's fields come first, as brine::base writes them.
  for (const std::string& b : s.base_fields) o.fields.push_back({b, to_value(v.cells.at(b))});
  for (const FieldSpec& f : s.fields)
    if (!s.in_base(f.name)) o.fields.push_back({f.name, to_value(v.cells.at(f.name))});
  if (s.inner_field) {
    brine::Object inner;
    inner.type = kInnerName;
    inner.version = 1;
    for (const FieldSpec& f : s.inner_fields)
      inner.fields.push_back({f.name, to_value(v.inner.at(f.name))});
    o.fields.push_back({*s.inner_field, brine::Value(std::move(inner))});
  }
  return brine::Value(std::move(o));
}

enum class MigrationForm { cpp, file };

/// The registry of the last generation: its classes, the aliases and the migrations of the
/// history, except the step from `skip_version` when given.
void install(brine::Registry& registry, const History& h, MigrationForm form,
             std::optional<std::uint32_t> skip_version) {
  registry.add<EvoInner>();
  auto record = registry.add<EvoRecord>();
  std::vector<std::string> aliases;
  for (std::size_t g = 0; g + 1 < kGenerations; ++g)
    if (h.schemas[g].record_name != kRecordName &&
        (aliases.empty() || aliases.back() != h.schemas[g].record_name))
      aliases.push_back(h.schemas[g].record_name);
  if (form == MigrationForm::cpp) {
    for (const std::string& a : aliases) record.alias(a);
    for (std::size_t g = 0; g + 1 < kGenerations; ++g) {
      std::uint32_t from = h.schemas[g].version;
      if (skip_version && *skip_version == from) continue;
      record.migration(from, cpp_step(h.changes[g]), describe(h.changes[g]));
    }
    return;
  }
  std::string file = R"({"brine_migrations": 1, "type": ")" + std::string(kRecordName) +
                     R"(", "version": )" + std::to_string(kGenerations) + R"(, "renamed_from": [)";
  for (std::size_t i = 0; i < aliases.size(); ++i) file += (i ? ", " : "") + json_quote(aliases[i]);
  file += R"(], "steps": [)";
  bool first = true;
  for (std::size_t g = 0; g + 1 < kGenerations; ++g) {
    std::uint32_t from = h.schemas[g].version;
    if (skip_version && *skip_version == from) continue;
    std::string ops = file_ops(h.changes[g]);
    file += std::string(first ? "" : ", ") + R"({"from": )" + std::to_string(from) +
            R"(, "ops": [)" + ops + "]}";
    first = false;
  }
  file += "]}";
  registry.add_migrations(brine::parse_migrations(file, "evo.Record.json"));
}

std::string show(const Instance& v) {
  std::string s = "{";
  for (const auto& [name, cell] : v.cells) s += " " + name + "=" + json_of(cell);
  if (!v.inner.empty()) {
    s += " inner{";
    for (const auto& [name, cell] : v.inner) s += " " + name + "=" + json_of(cell);
    s += " }";
  }
  return s + " }";
}

std::string show(const History& h) {
  std::string s;
  for (std::size_t g = 0; g < h.changes.size(); ++g)
    s += "\n  v" + std::to_string(g + 1) + " -> v" + std::to_string(g + 2) + ": " +
         describe(h.changes[g]);
  return s;
}

enum class Encoding { binary, stable, json };

const char* encoding_name(Encoding e) {
  return e == Encoding::binary ? "binary" : e == Encoding::stable ? "stable" : "json";
}

/// An archive of `values` (state trees) as a program without the C++ types writes it.
brine::Buffer archive_of(Encoding e, const std::vector<brine::Value>& values) {
  brine::Registry none;
  brine::Buffer out;
  brine::BufferSink sink(out);
  if (e == Encoding::binary) {
    brine::BinaryWriter writer(sink, none);
    for (const brine::Value& v : values) writer.write_value(v);
    writer.finish();
  } else if (e == Encoding::stable) {
    brine::StableWriter writer(sink, none);
    for (const brine::Value& v : values) writer.write_value(v);
    writer.finish();
  } else {
    std::string json = brine::json_document(values);
    out.append(json.data(), json.size());
  }
  return out;
}

/// Loads every value of an archive as the last generation's class.
std::vector<Instance> load_all(Encoding e, const brine::Buffer& bytes,
                               const brine::Registry& registry) {
  std::vector<Instance> out;
  if (e == Encoding::json) {
    // A JSON document's values load through the state model, which upgrades them.
    for (const brine::Value& v : brine::json_document_values(bytes.view())) {
      out.push_back(brine::from_state<EvoRecord>(v, registry).instance());
    }
    return out;
  }
  brine::MemorySource source(bytes.view());
  if (e == Encoding::binary) {
    brine::BinaryReader reader(source, registry);
    while (!reader.at_end()) out.push_back(reader.read<EvoRecord>().instance());
  } else {
    brine::StableReader reader(source, registry);
    while (!reader.at_end()) out.push_back(reader.read<EvoRecord>().instance());
  }
  return out;
}

/// What the last generation's class reads from an object of schema `s` holding `v`: each
/// field by name, an integer converting to a float exactly; nullopt when a field it reads is
/// missing or of a kind that does not convert (brine must refuse the object).
std::optional<Instance> read_as_final(const Schema& s, const Instance& v, const Schema& last) {
  Instance out;
  auto read = [](const std::vector<FieldSpec>& have, const std::map<std::string, Cell>& cells,
                 const FieldSpec& want, std::map<std::string, Cell>& into) {
    for (const FieldSpec& f : have) {
      if (f.name != want.name) continue;
      if (f.kind == want.kind) {
        into[want.name] = cells.at(f.name);
        return true;
      }
      if (f.kind == Kind::integer && want.kind == Kind::real) {
        into[want.name] = static_cast<double>(std::get<std::int64_t>(cells.at(f.name)));
        return true;
      }
      return false;
    }
    return false;
  };
  for (const FieldSpec& f : last.fields)
    if (!read(s.fields, v.cells, f, out.cells)) return std::nullopt;
  if (last.inner_field) {
    if (s.inner_field != last.inner_field) return std::nullopt;
    for (const FieldSpec& f : last.inner_fields)
      if (!read(s.inner_fields, v.inner, f, out.inner)) return std::nullopt;
  }
  return out;
}

/// Saves `v` with the last generation's class and loads it back on both archives; prints
/// what differs. Run in a child process (see the caller).
bool typed_round_trip(const Schema& last, const Instance& v, brine::Registry& registry) {
  EvoRecord record;
  for (const auto& [name, cell] : v.cells) {
    if (last.in_base(name))
      record.base_cells[name] = cell;
    else
      record.cells[name] = cell;
  }
  record.inner.cells = v.inner;
  std::string from_binary =
      show(brine::from_binary<EvoRecord>(brine::to_binary(record, registry).view(), registry)
               .instance());
  std::string from_stable =
      show(brine::from_stable<EvoRecord>(brine::to_stable(record, registry).view(), registry)
               .instance());
  bool ok = from_binary == show(v) && from_stable == show(v);
  if (!ok)
    std::fprintf(stderr, "saved %s\nbinary %s\nstable %s\n", show(v).c_str(), from_binary.c_str(),
                 from_stable.c_str());
  return ok;
}

std::uint32_t first_seed() {
  const char* env = std::getenv("BRINE_EVOLUTION_SEED");
  return env ? static_cast<std::uint32_t>(std::strtoul(env, nullptr, 10)) : 1;
}
std::uint32_t seed_count() { return std::getenv("BRINE_EVOLUTION_SEED") ? 1 : 60; }

// Every generation's archives load into the last generation with the values the changes imply.
TEST(RandomEvolution, EveryGenerationLoadsIntoTheLast) {
  for (std::uint32_t seed = first_seed(); seed < first_seed() + seed_count(); ++seed) {
    Drawer drawer(seed);
    History h = drawer.draw();
    g_final = &h.schemas.back();
    MigrationForm form = seed % 2 == 0 ? MigrationForm::cpp : MigrationForm::file;
    SCOPED_TRACE("BRINE_EVOLUTION_SEED=" + std::to_string(seed) + " (migrations in " +
                 (form == MigrationForm::cpp ? "C++" : "a file") + "), history:" + show(h));
    brine::Registry registry;
    install(registry, h, form, std::nullopt);

    for (std::size_t g = 0; g < kGenerations; ++g) {
      // Three instances of generation g, and what each must become.
      std::vector<brine::Value> saved;
      std::vector<Instance> expected;
      for (int i = 0; i < 3; ++i) {
        Instance v = drawer.instance(h.schemas[g]);
        saved.push_back(state_of(h.schemas[g], v));
        for (std::size_t c = g; c + 1 < kGenerations; ++c) apply(v, h.schemas[c], h.changes[c]);
        expected.push_back(v);
      }
      for (Encoding e : {Encoding::binary, Encoding::stable, Encoding::json}) {
        SCOPED_TRACE("generation v" + std::to_string(g + 1) + ", " + encoding_name(e));
        std::vector<Instance> loaded;
        ASSERT_NO_THROW(loaded = load_all(e, archive_of(e, saved), registry));
        ASSERT_EQ(loaded.size(), expected.size());
        for (std::size_t i = 0; i < loaded.size(); ++i)
          EXPECT_EQ(show(loaded[i]), show(expected[i]));
      }
    }

    // The last generation saved by its own C++ class takes the direct paths and round-trips.
    // In a child process: the stable writer keeps each type's field count for the life of
    // the process (a type's getstate writes the same fields every time), and these classes
    // change their fields with every seed.
    Instance v = drawer.instance(h.schemas.back());
    EXPECT_EXIT(std::exit(typed_round_trip(h.schemas.back(), v, registry) ? 0 : 1),
                ::testing::ExitedWithCode(0), "");
    g_final = nullptr;
  }
}

// A gap in the chain is not an error by itself: the object keeps the version it reached and
// setstate reads it by name (docs/migrations.md, "How migrations apply"). The last
// generation's class then loads it when every field it reads is there with a kind that
// converts exactly, and brine refuses it with a SchemaError otherwise; generations after the
// gap load as before.
TEST(RandomEvolution, AMissingStepLoadsOrRefusesAsTheGapImplies) {
  int refused = 0;
  int loaded_across = 0;
  for (std::uint32_t seed = first_seed(); seed < first_seed() + seed_count(); ++seed) {
    Drawer drawer(seed);
    History h = drawer.draw();
    g_final = &h.schemas.back();
    std::uint32_t gap = static_cast<std::uint32_t>(drawer.pick(1, kGenerations - 1));
    MigrationForm form = seed % 2 == 0 ? MigrationForm::file : MigrationForm::cpp;
    SCOPED_TRACE("BRINE_EVOLUTION_SEED=" + std::to_string(seed) + ", no step from v" +
                 std::to_string(gap) + ", history:" + show(h));
    brine::Registry registry;
    install(registry, h, form, gap);
    for (std::size_t g = 0; g < kGenerations; ++g) {
      Instance v = drawer.instance(h.schemas[g]);
      // Upgraded as far as the chain goes: to the gap, or to the last generation.
      Instance reached = v;
      std::size_t c = g;
      for (; c + 1 < kGenerations && !(h.schemas[g].version <= gap && c + 1 == gap); ++c)
        apply(reached, h.schemas[c], h.changes[c]);
      std::optional<Instance> expected = read_as_final(h.schemas[c], reached, h.schemas.back());
      for (Encoding e : {Encoding::binary, Encoding::stable}) {
        SCOPED_TRACE("generation v" + std::to_string(g + 1) + ", " + encoding_name(e));
        brine::Buffer bytes = archive_of(e, {state_of(h.schemas[g], v)});
        if (!expected) {
          ++refused;
          EXPECT_THROW_WITH(load_all(e, bytes, registry), brine::SchemaError, kRecordName);
          continue;
        }
        if (c + 1 < kGenerations) ++loaded_across;
        std::vector<Instance> loaded;
        ASSERT_NO_THROW(loaded = load_all(e, bytes, registry));
        ASSERT_EQ(loaded.size(), 1u);
        EXPECT_EQ(show(loaded[0]), show(*expected));
      }
    }
    g_final = nullptr;
  }
  // The seeds must exercise both outcomes, or this test proves less than it says.
  EXPECT_GT(refused, 0);
  EXPECT_GT(loaded_across, 0);
}

}  // namespace
