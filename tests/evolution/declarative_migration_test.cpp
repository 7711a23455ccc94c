// Declarative migrations: migration files drive upgrades with and without the C++ types.

#include <brine/brine.hpp>
#include <regex>
#include <string>

#include "test_util.hpp"

namespace {

const char* kLinearFile = R"({
  "brine_migrations": 1,
  "type": "nn.Linear",
  "version": 3,
  "renamed_from": ["nn.Dense"],
  "steps": [
    {"from": 1, "ops": [{"op": "rename_field", "from": "W", "to": "weights"},
                        {"op": "rename_field", "from": "b", "to": "bias"}]},
    {"from": 2, "ops": [{"op": "add_field", "name": "activation", "default": "relu"},
                        {"op": "convert", "field": "units", "to": "int"},
                        {"op": "remove_field", "name": "legacy"}]}
  ]
})";

brine::Value old_dense() {
  brine::Object o;
  o.type = "nn.Dense";
  o.version = 1;
  o.fields = {{"W", brine::Value(brine::Value::List{brine::Value(1.5)})},
              {"b", brine::Value(brine::Value::List{})},
              {"units", brine::Value(4.0)},
              {"legacy", brine::Value(true)}};
  return brine::Value(std::move(o));
}

TEST(DeclarativeMigration, UpgradesStateWithoutCppTypes) {
  brine::MigrationSet set = brine::parse_migrations(kLinearFile, "nn.Linear.json");
  // Objects anywhere: in a list, in a map, in a field of another object.
  brine::Value::Map map;
  map["layer"] = old_dense();
  brine::Value tree(brine::Value::List{old_dense(), brine::Value(map)});
  set.upgrade(tree);
  for (const brine::Object* o :
       {&tree.as_list()[0].as_object(), &tree.as_list()[1].as_map().at("layer").as_object()}) {
    EXPECT_EQ(o->type, "nn.Linear");
    EXPECT_EQ(o->version, 3u);
    ASSERT_NE(o->find("weights"), nullptr);
    EXPECT_EQ(o->find("weights")->as_list()[0].as_double(), 1.5);
    EXPECT_EQ(o->find("activation")->as_text(), "relu");
    EXPECT_EQ(o->find("units")->kind(), brine::ValueKind::signed_integer);
    EXPECT_EQ(o->find("legacy"), nullptr);
    EXPECT_EQ(o->find("W"), nullptr);
  }
}

TEST(DeclarativeMigration, ConvertFailureNamesField) {
  brine::MigrationSet set = brine::parse_migrations(kLinearFile, "nn.Linear.json");
  brine::Value v = old_dense();
  *v.as_object().find("units") = brine::Value(2.5);
  try {
    set.upgrade(v);
    FAIL() << "converted 2.5 to int";
  } catch (const brine::MigrationError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("'nn.Linear' v2 -> v3"), std::string::npos) << what;
    EXPECT_NE(what.find("'units'"), std::string::npos) << what;
  }
}

TEST(DeclarativeMigration, ConvertsStringToEnumByTable) {
  brine::MigrationSet set =
      brine::parse_migrations(R"({"brine_migrations": 1, "type": "ui.Pen", "version": 2,
    "steps": [{"from": 1, "ops": [{"op": "convert", "field": "color", "to": "enum", "table": {"red": 1, "green": 2}},
                                  {"op": "convert", "field": "width", "to": "string"},
                                  {"op": "convert", "field": "alpha", "to": "float"}]}]})");
  brine::Object o{"ui.Pen",
                  1,
                  {{"color", brine::Value("green")},
                   {"width", brine::Value(std::int64_t{3})},
                   {"alpha", brine::Value(std::int64_t{1})}},
                  std::nullopt};
  brine::Value v(o);
  set.upgrade(v);
  EXPECT_EQ(v.as_object().find("color")->as_int64(), 2);
  EXPECT_EQ(v.as_object().find("width")->as_text(), "3");
  EXPECT_EQ(v.as_object().find("alpha")->kind(), brine::ValueKind::floating);
}

TEST(DeclarativeMigration, MovesFieldsIntoAndOutOfNestedObjects) {
  brine::MigrationSet set =
      brine::parse_migrations(R"({"brine_migrations": 1, "type": "geo.Shape", "version": 3,
    "steps": [{"from": 1, "ops": [{"op": "move_into", "fields": ["x", "y"], "into": "origin", "type": "geo.Point", "version": 1}]},
              {"from": 2, "ops": [{"op": "move_out_of", "from": "style", "fields": ["color"]}]}]})");
  brine::Object style{
      "ui.Style", 1, {{"color", brine::Value("red")}, {"dash", brine::Value(false)}}, std::nullopt};
  brine::Object o{
      "geo.Shape",
      1,
      {{"x", brine::Value(1.0)}, {"y", brine::Value(2.0)}, {"style", brine::Value(style)}},
      std::nullopt};
  brine::Value v(o);
  set.upgrade(v);
  const brine::Object& s = v.as_object();
  ASSERT_NE(s.find("origin"), nullptr);
  EXPECT_EQ(s.find("origin")->as_object().type, "geo.Point");
  EXPECT_EQ(s.find("origin")->as_object().find("y")->as_double(), 2.0);
  EXPECT_EQ(s.find("x"), nullptr);
  EXPECT_EQ(s.find("color")->as_text(), "red");
  EXPECT_EQ(s.find("style")->as_object().find("color"), nullptr);
  EXPECT_NE(s.find("style")->as_object().find("dash"), nullptr);
}

TEST(DeclarativeMigration, RejectsMalformedFileNamingWhere) {
  EXPECT_THROW_WITH(brine::parse_migrations(R"({"brine_migrations": 1, "type": "a.B", "version": 2,
      "steps": [{"from": 1, "ops": [{"op": "rename_feild", "from": "a", "to": "b"}]}]})",
                                            "a.B.json"),
                    brine::FormatError, "unknown operation 'rename_feild'");
  EXPECT_THROW_WITH(brine::parse_migrations("{\"brine_migrations\": 1, \"type\": ", "x.json"),
                    brine::FormatError, "x.json");
  EXPECT_THROW_WITH(brine::parse_migrations(R"({"brine_migrations": 1, "type": "a.B", "version": 2,
      "steps": [{"from": 2, "ops": [{"op": "remove_field", "name": "a"}]}]})"),
                    brine::FormatError, "below the type's version");
}

// The same file drives the program's own loads.
struct Linear {
  BRINE_TYPE("nn.Linear", 3);
  std::vector<double> weights, bias;
  std::string activation;
  std::int64_t units = 0;
  template <class A>
  void getstate(A& ar) const {
    ar("weights", weights)("bias", bias)("activation", activation)("units", units);
  }
  template <class A>
  void setstate(A& ar) {
    ar("weights", weights)("bias", bias)("activation", activation)("units", units);
  }
};

TEST(DeclarativeMigration, InstallsIntoRegistryForProgramLoads) {
  brine::Registry registry;
  registry.add<Linear>();
  registry.add_migrations(brine::parse_migrations(kLinearFile));
  Linear l = brine::from_state<Linear>(old_dense(), registry);
  EXPECT_EQ(l.weights, (std::vector<double>{1.5}));
  EXPECT_EQ(l.activation, "relu");
  EXPECT_EQ(l.units, 4);
}

TEST(DeclarativeMigration, LoadsEveryFileOfADirectory) {
  brine_test::TempDir dir;
  brine::write_file_atomically(dir / "nn.Linear.json", kLinearFile);
  brine::write_file_atomically(dir / "ui.Pen.json",
                               R"({"brine_migrations": 1, "type": "ui.Pen", "version": 1})");
  brine::write_file_atomically(dir / "README.md", "not a migration file");
  brine::MigrationSet set = brine::load_migrations(dir.path());
  EXPECT_EQ(set.types().size(), 2u);
  EXPECT_NE(set.find("nn.Dense"), nullptr);
}

// Enums with a 64-bit unsigned underlying type keep values above 2^63 - 1 (the state model
// stores them unsigned, docs/state-model.md).
enum class Permission : std::uint64_t { none = 0, admin = 0x8000000000000000ull, all = ~0ull };
enum class Level : std::int64_t { low = -1, high = 1 };

struct Account {
  BRINE_TYPE("sec.Account", 2);
  Permission permission = Permission::none;
  template <class A>
  void getstate(A& ar) const {
    ar("permission", permission);
  }
  template <class A>
  void setstate(A& ar) {
    ar("permission", permission);
  }
};

struct Gauge {
  BRINE_TYPE("sec.Gauge", 2);
  Level level = Level::low;
  template <class A>
  void getstate(A& ar) const {
    ar("level", level);
  }
  template <class A>
  void setstate(A& ar) {
    ar("level", level);
  }
};

const char* kPermissionTable =
    R"({"none": 0, "admin": 9223372036854775808, "all": 18446744073709551615, "low": -1})";

std::string enum_file(const std::string& type, const std::string& field, const std::string& table) {
  return R"({"brine_migrations": 1, "type": ")" + type + R"(", "version": 2, "steps": [)" +
         R"({"from": 1, "ops": [{"op": "convert", "field": ")" + field +
         R"(", "to": "enum", "table": )" + table + "}]}]}";
}

brine::Value old_object(const std::string& type, const std::string& field,
                        const std::string& text) {
  return brine::Value(brine::Object{type, 1, {{field, brine::Value(text)}}, std::nullopt});
}

// Regression: an enum table entry above INT64_MAX was read as int64 and became negative
// (18446744073709551615 turned into -1).
TEST(DeclarativeMigration, EnumTableKeepsValuesAboveInt64Max) {
  brine::MigrationSet set = brine::parse_migrations(
      enum_file("sec.Account", "permission", kPermissionTable), "sec.Account.json");
  const std::pair<const char*, std::uint64_t> unsigned_cases[] = {
      {"all", ~0ull}, {"admin", 0x8000000000000000ull}, {"none", 0}};
  for (const auto& [name, number] : unsigned_cases) {
    SCOPED_TRACE(name);
    brine::Value v = old_object("sec.Account", "permission", name);
    set.upgrade(v);
    EXPECT_EQ(v.as_object().find("permission")->as_uint64(), number);
  }
  brine::Value low = old_object("sec.Account", "permission", "low");
  set.upgrade(low);
  EXPECT_EQ(low.as_object().find("permission")->kind(), brine::ValueKind::signed_integer);
  EXPECT_EQ(low.as_object().find("permission")->as_int64(), -1);

  // Loaded into the program's type, the unsigned enum gets its value ...
  brine::Registry registry;
  registry.add<Account>();
  registry.add<Gauge>();
  registry.add_migrations(set);
  EXPECT_EQ(brine::from_state<Account>(old_object("sec.Account", "permission", "all"), registry)
                .permission,
            Permission::all);
  // ... and a signed enum refuses a value beyond its range instead of wrapping it.
  registry.add_migrations(
      brine::parse_migrations(enum_file("sec.Gauge", "level", kPermissionTable)));
  EXPECT_THROW_WITH(brine::from_state<Gauge>(old_object("sec.Gauge", "level", "all"), registry),
                    brine::SchemaError, "level");
  EXPECT_EQ(brine::from_state<Gauge>(old_object("sec.Gauge", "level", "low"), registry).level,
            Level::low);
}

TEST(DeclarativeMigration, EnumTableRefusesEntriesBeyondAnyInteger) {
  for (const char* table :
       {R"({"a": 1, "huge": 18446744073709551616})", R"({"a": 1, "huge": -9223372036854775809})",
        R"({"a": 1, "huge": 1.5})"}) {
    SCOPED_TRACE(table);
    EXPECT_THROW_WITH(
        brine::parse_migrations(enum_file("sec.Account", "permission", table), "sec.Account.json"),
        brine::FormatError, "field 'steps[0].ops[0].table.huge' in 'sec.Account.json'");
  }
}

// A migration file whose steps add objects of the same type at later versions: each object
// of version k gains two of version k + 1, which gain two of version k + 2 each, and so on.
// Every step moves the objects it adds forward, so there is no cycle, but an object of
// version 1 would grow into 3^29 objects.
std::string fan_out_file(int version) {
  std::string pad = "[";
  for (int i = 0; i < 40; ++i) pad += i == 0 ? "0" : ", 0";
  pad += "]";
  std::string steps;
  for (int from = 1; from < version; ++from) {
    std::string child = R"({"$type": "t.Fan", "$version": )" + std::to_string(from + 1) +
                        R"(, "pad": )" + pad + "}";
    steps += std::string(from == 1 ? "" : ",\n") + R"({"from": )" + std::to_string(from) +
             R"(, "ops": [{"op": "add_field", "name": "f)" + std::to_string(from) +
             R"(", "default": [)" + child + ", " + child + "]}]}";
  }
  return R"({"brine_migrations": 1, "type": "t.Fan", "version": )" + std::to_string(version) +
         R"(, "steps": [)" + steps + "]}";
}

struct Fan {
  BRINE_TYPE("t.Fan", 30);
  template <class A>
  void getstate(A&) const {}
  template <class A>
  void setstate(A&) {}
};

// Regression: MigrationSet::upgrade had no bound on what migrations add; a default holding
// objects of the migrated type at a version that is upgraded again made the walk create
// objects exponentially (this test did not finish).
TEST(DeclarativeMigration, RefusesMigrationsThatKeepAddingObjects) {
  brine::MigrationSet set = brine::parse_migrations(fan_out_file(30), "t.Fan.json");
  brine::Value v(brine::Object{"t.Fan", 1, {}, std::nullopt});
  try {
    set.upgrade(v);
    FAIL() << "the upgrade ended";
  } catch (const brine::LimitError& e) {
    EXPECT_EQ(e.code(), brine::errc::limit_exceeded);
    std::string what = e.what();
    EXPECT_NE(what.find("LoadOptions::max_migration_growth"), std::string::npos) << what;
    EXPECT_EQ(e.context().type_name, "t.Fan") << what;
    // The step and the field that went over: "'t.Fan' vK -> vK+1 (add field 'fK')".
    std::smatch m;
    ASSERT_TRUE(std::regex_search(
        what, m, std::regex(R"('t\.Fan' v(\d+) -> v(\d+) \(add field 'f(\d+)'\))")))
        << what;
    EXPECT_EQ(std::stoi(m[2]), std::stoi(m[1]) + 1) << what;
    EXPECT_EQ(m[3], m[1]) << what;
    EXPECT_NE(what.find("field 'f" + m[1].str() + "'"), std::string::npos) << what;
  }

  // The same through a registry, for the program's own loads.
  brine::Registry registry;
  registry.add<Fan>();
  registry.add_migrations(set);
  EXPECT_THROW_WITH(
      brine::from_state<Fan>(brine::Value(brine::Object{"t.Fan", 1, {}, std::nullopt}), registry),
      brine::LimitError, "max_migration_growth");
}

// The rejection's sibling: what migrations add in proportion to what the archive holds
// is fine, however large the archive: 60,000 points each gain a 21-value default (1.26
// million values, more than the fixed allowance), and a short fan-out adds a bounded number.
TEST(DeclarativeMigration, AddsDefaultsToLargeArchives) {
  brine::MigrationSet set =
      brine::parse_migrations(R"({"brine_migrations": 1, "type": "geo.Point", "version": 2,
      "steps": [{"from": 1, "ops": [{"op": "add_field", "name": "history",
                                     "default": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]}]}]})");
  brine::Value::List points(
      60000, brine::Value(brine::Object{"geo.Point", 1, {{"x", brine::Value(1.0)}}, std::nullopt}));
  brine::Value v(std::move(points));
  set.upgrade(v);
  EXPECT_EQ(v.as_list()[59999].as_object().find("history")->as_list().size(), 20u);

  brine::Value fan(brine::Object{"t.Fan", 1, {}, std::nullopt});
  brine::parse_migrations(fan_out_file(6)).upgrade(fan);
  EXPECT_EQ(fan.as_object().version, 6u);
  EXPECT_EQ(fan.as_object().find("f1")->as_list()[1].as_object().find("f5")->as_list().size(), 2u);
}

// A default holding an object of the migrated type at a version this very step would upgrade
// again can never finish: it is refused when the file is read, naming the step and field.
TEST(DeclarativeMigration, RefusesDefaultThatRepeatsItsOwnStep) {
  const char* loop =
      R"({"brine_migrations": 1, "type": "t.Loop", "version": 3, "renamed_from": ["t.OldLoop"],
      "steps": [{"from": 1, "ops": [{"op": "remove_field", "name": "x"}]},
                {"from": 2, "ops": [{"op": "add_field", "name": "next",
                                     "default": {"inner": [{"$type": "t.OldLoop", "$version": 1}]}}]}]})";
  EXPECT_THROW_WITH(brine::parse_migrations(loop, "t.Loop.json"), brine::FormatError,
                    "field 'steps[1].ops[0].default' in 't.Loop.json'");
  EXPECT_THROW_WITH(brine::parse_migrations(loop, "t.Loop.json"), brine::FormatError,
                    "'t.Loop' v1");
  // A later version, which the step does not see again, is fine; so is a version below a
  // gap, where the added object stops.
  brine::parse_migrations(R"({"brine_migrations": 1, "type": "t.Loop", "version": 3,
      "steps": [{"from": 1, "ops": [{"op": "add_field", "name": "next", "default": {"$type": "t.Loop", "$version": 2}}]},
                {"from": 2, "ops": [{"op": "remove_field", "name": "x"}]}]})");
  brine::parse_migrations(R"({"brine_migrations": 1, "type": "t.Loop", "version": 4,
      "steps": [{"from": 1, "ops": [{"op": "remove_field", "name": "x"}]},
                {"from": 3, "ops": [{"op": "add_field", "name": "next", "default": {"$type": "t.Loop", "$version": 1}}]}]})");
}

}  // namespace
