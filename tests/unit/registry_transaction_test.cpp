// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// registry_transaction_test.cpp: registry calls that take several items (a directory of
// migration files, several base classes) install all of them or, on a refusal, none.

#include <brine/brine.hpp>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace {

template <int N>
struct Versioned {
  static constexpr const char* kNames[] = {"t.A", "t.B", "t.C"};
  BRINE_TYPE(kNames[N], 3);
  int x = 0;
  template <class Ar>
  void getstate(Ar& ar) const {
    ar("x", x);
  }
  template <class Ar>
  void setstate(Ar& ar) {
    ar("x", x);
  }
};
using A = Versioned<0>;
using B = Versioned<1>;
using C = Versioned<2>;

std::string migration_file(const std::string& type, int version, const std::string& alias) {
  return R"({"brine_migrations": 1, "type": ")" + type + R"(", "version": )" +
         std::to_string(version) + R"(, "renamed_from": [")" + alias + R"("],
    "steps": [{"from": 1, "ops": [{"op": "rename_field", "from": "old_x", "to": "x"}]},
              {"from": 2, "ops": [{"op": "remove_field", "name": "junk"}]}]})";
}

/// What a test can observe of a registry's migrations: names and aliases it resolves, and
/// the steps each type has.
std::vector<std::string> snapshot(const brine::Registry& registry) {
  std::vector<std::string> out = registry.type_names();
  for (const char* name : {"t.A", "t.B", "t.C", "t.OldA", "t.OldB", "t.OldC"}) {
    const brine::TypeInfo* info = registry.find(name);
    out.push_back(std::string(name) + " -> " + (info ? info->name() : "(none)"));
    if (info == nullptr) continue;
    for (std::uint32_t v = 0; v < 3; ++v)
      out.push_back(std::string(name) + " step from v" + std::to_string(v) + ": " +
                    (info->migration_from(v) ? info->migration_from(v)->description : "(none)"));
    std::string aliases;
    for (const std::string& a : info->aliases()) aliases += a + ",";
    out.push_back(std::string(name) + " aliases " + aliases);
  }
  return out;
}

brine::Value old_object(const std::string& type) {
  return brine::Value(brine::Object{type, 1, {{"old_x", brine::Value(std::int64_t{7})}}, {}});
}

class RegistryTransaction : public ::testing::Test {
 protected:
  void SetUp() override {
    registry.add<A>();
    registry.add<B>();
    registry.add<C>();
  }
  brine::Registry registry;
  brine_test::TempDir dir;
};

// Regression: issue #9 (add_migrations installed the files it read before the one it
// refused: a.json's steps and alias stayed after b.json's error).
TEST_F(RegistryTransaction, RefusedMigrationFileInstallsNothing) {
  brine::write_file_atomically(dir / "a.json", migration_file("t.A", 3, "t.OldA"));
  brine::write_file_atomically(dir / "b.json", migration_file("t.B", 4, "t.OldB"));  // B is v3
  brine::write_file_atomically(dir / "c.json", migration_file("t.C", 3, "t.OldC"));
  brine::MigrationSet set = brine::load_migrations(dir.path());
  const std::vector<std::string> before = snapshot(registry);

  try {
    registry.add_migrations(set);
    FAIL() << "b.json was accepted";
  } catch (const brine::SchemaError& e) {
    EXPECT_EQ(e.code(), brine::errc::migration_failed);
    EXPECT_EQ(e.context().source, (dir / "b.json").string());
    EXPECT_EQ(e.context().type_name, "t.B");
    std::string what = e.what();
    EXPECT_NE(what.find("leads to v4, but this program's 't.B' is v3"), std::string::npos) << what;
    EXPECT_NE(what.find("no migration file was installed"), std::string::npos) << what;
  }
  EXPECT_EQ(snapshot(registry), before);
  EXPECT_EQ(registry.find("t.OldA"), nullptr);
  EXPECT_EQ(registry.find("t.A")->migration_from(1), nullptr);
  EXPECT_THROW_WITH(brine::from_state<A>(old_object("t.A"), registry), brine::SchemaError, "x");

  // Sibling: the same directory without the bad file installs both the others.
  std::filesystem::remove(dir / "b.json");
  registry.add_migrations(brine::load_migrations(dir.path()));
  EXPECT_EQ(registry.find("t.OldA"), registry.find("t.A"));
  EXPECT_EQ(registry.find("t.OldC"), registry.find("t.C"));
  EXPECT_EQ(brine::from_state<A>(old_object("t.OldA"), registry).x, 7);
  EXPECT_EQ(brine::from_state<C>(old_object("t.C"), registry).x, 7);
}

TEST_F(RegistryTransaction, ConflictWithAnInstalledStepInstallsNothing) {
  registry.add_migration("t.C", brine::Migration{2, "C++ step", [](brine::Object&) {}});
  brine::write_file_atomically(dir / "a.json", migration_file("t.A", 3, "t.OldA"));
  brine::write_file_atomically(dir / "b.json", migration_file("t.B", 3, "t.OldB"));
  brine::write_file_atomically(dir / "c.json", migration_file("t.C", 3, "t.OldC"));
  const std::vector<std::string> before = snapshot(registry);
  EXPECT_THROW_WITH(registry.add_migrations(brine::load_migrations(dir.path())), brine::SchemaError,
                    "a migration from v2 of 't.C' is already registered");
  EXPECT_EQ(snapshot(registry), before);
}

TEST_F(RegistryTransaction, AliasTakenByAnotherTypeInstallsNothing) {
  brine::write_file_atomically(dir / "a.json", migration_file("t.A", 3, "t.OldA"));
  brine::write_file_atomically(dir / "b.json", migration_file("t.B", 3, "t.C"));
  const std::vector<std::string> before = snapshot(registry);
  EXPECT_THROW_WITH(registry.add_migrations(brine::load_migrations(dir.path())), brine::SchemaError,
                    "alias 't.C' of 't.B' is already the name of 't.C'");
  EXPECT_EQ(snapshot(registry), before);
}

TEST_F(RegistryTransaction, TwoFilesForOneTypeThroughAnAliasInstallNothing) {
  registry.add_alias("t.A", "t.OldA");
  brine::MigrationSet set;
  set.add(brine::parse_migrations(migration_file("t.A", 3, "t.Older"), "a.json").types()[0]);
  set.add(brine::parse_migrations(R"({"brine_migrations": 1, "type": "t.OldA", "version": 3})",
                                  "old-a.json")
              .types()[0]);
  const std::vector<std::string> before = snapshot(registry);
  EXPECT_THROW_WITH(registry.add_migrations(set), brine::SchemaError,
                    "two migration files for 't.A'");
  EXPECT_EQ(snapshot(registry), before);
  EXPECT_EQ(registry.find("t.Older"), nullptr);
}

struct Root {
  BRINE_TYPE("t.Root", 1);
  virtual ~Root() = default;
  template <class Ar>
  void getstate(Ar&) const {}
  template <class Ar>
  void setstate(Ar&) {}
};
struct Mixin {
  BRINE_TYPE("t.Mixin", 1);
  virtual ~Mixin() = default;
  template <class Ar>
  void getstate(Ar&) const {}
  template <class Ar>
  void setstate(Ar&) {}
};
struct Clash {
  BRINE_TYPE("t.Taken", 1);
  virtual ~Clash() = default;
  template <class Ar>
  void getstate(Ar&) const {}
  template <class Ar>
  void setstate(Ar&) {}
};
struct Leaf final : Root, Mixin, Clash {
  BRINE_TYPE("t.Leaf", 1);
  template <class Ar>
  void getstate(Ar&) const {}
  template <class Ar>
  void setstate(Ar&) {}
};
struct Squatter {
  BRINE_TYPE("t.Taken", 1);
  template <class Ar>
  void getstate(Ar&) const {}
  template <class Ar>
  void setstate(Ar&) {}
};

TEST(RegistryBases, NameClashOnTheLastBaseRegistersNothing) {
  brine::Registry registry;
  registry.add<Squatter>();
  const std::vector<std::string> before = registry.type_names();
  EXPECT_THROW_WITH((registry.add<Leaf>().bases<Root, Mixin, Clash>()), brine::SchemaError,
                    "type name 't.Taken' is already registered");
  // add<Leaf>() itself registered Leaf before bases<>() ran; the bases stay out.
  EXPECT_EQ(registry.find("t.Root"), nullptr);
  EXPECT_EQ(registry.find("t.Mixin"), nullptr);
  EXPECT_TRUE(registry.find("t.Leaf")->bases().empty());

  brine::Registry fresh;
  fresh.add<Squatter>();
  EXPECT_THROW_WITH(
      fresh.add_bases(
          brine::detail::type_ops<Leaf>(),
          {{&brine::detail::type_ops<Root>(),
            [](void* p) -> void* { return static_cast<Root*>(static_cast<Leaf*>(p)); }},
           {&brine::detail::type_ops<Clash>(),
            [](void* p) -> void* { return static_cast<Clash*>(static_cast<Leaf*>(p)); }}}),
      brine::SchemaError, "already registered");
  EXPECT_EQ(fresh.type_names(), before);
}

TEST(RegistryBases, RegistersEveryBaseAtOnce) {
  brine::Registry registry;
  registry.add<Leaf>().bases<Root, Mixin>();
  EXPECT_NE(registry.find("t.Root"), nullptr);
  EXPECT_NE(registry.find("t.Mixin"), nullptr);
  EXPECT_EQ(registry.find("t.Leaf")->bases().size(), 2u);
  // Idempotent.
  registry.add<Leaf>().bases<Root, Mixin>();
  EXPECT_EQ(registry.find("t.Leaf")->bases().size(), 2u);
}

}  // namespace
