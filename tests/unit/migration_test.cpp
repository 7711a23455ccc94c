// Loading objects written by older class versions: migrations on both paths.

#include <brine/brine.hpp>

#include "test_util.hpp"

namespace {

// Theano's classic case: v1 had W and b; v2 renamed them; v3 added an activation name.
namespace v1 {
struct Linear {
  BRINE_TYPE("nn.Linear", 1);
  std::vector<float> W, b;
  template <class A>
  void getstate(A& ar) const {
    ar("W", W)("b", b);
  }
  template <class A>
  void setstate(A& ar) {
    ar("W", W)("b", b);
  }
};
}  // namespace v1

namespace v3 {
struct Linear {
  BRINE_TYPE("nn.Linear", 3);
  std::vector<float> weights, bias;
  std::string activation = "relu";
  const std::vector<float>* training_set = nullptr;  // not state: re-attached after load
  template <class A>
  void getstate(A& ar) const {
    ar("weights", weights)("bias", bias)("activation", activation);
  }
  template <class A>
  void setstate(A& ar) {
    ar("weights", weights)("bias", bias)("activation", activation);
  }
};
struct Model {
  BRINE_TYPE("nn.Model", 1);
  std::vector<Linear> layers;
  std::map<std::string, std::shared_ptr<Linear>> named;
  template <class A>
  void getstate(A& ar) const {
    ar("layers", layers)("named", named);
  }
  template <class A>
  void setstate(A& ar) {
    ar("layers", layers)("named", named);
  }
};
}  // namespace v3

namespace v1m {
struct Model {
  BRINE_TYPE("nn.Model", 1);
  std::vector<v1::Linear> layers;
  std::map<std::string, std::shared_ptr<v1::Linear>> named;
  template <class A>
  void getstate(A& ar) const {
    ar("layers", layers)("named", named);
  }
  template <class A>
  void setstate(A& ar) {
    ar("layers", layers)("named", named);
  }
};
}  // namespace v1m

struct OldName {
  BRINE_TYPE("old.Point", 1);
  int x = 0;
  template <class A>
  void getstate(A& ar) const {
    ar("x", x);
  }
  template <class A>
  void setstate(A& ar) {
    ar("x", x);
  }
};
struct NewName {
  BRINE_TYPE("geo.Point", 1);
  int x = 0;
  template <class A>
  void getstate(A& ar) const {
    ar("x", x);
  }
  template <class A>
  void setstate(A& ar) {
    ar("x", x);
  }
};
struct V1 {
  BRINE_TYPE("test.Versioned", 1);
  int old_value = 0;
  template <class A>
  void getstate(A& ar) const {
    ar("old_value", old_value);
  }
  template <class A>
  void setstate(A& ar) {
    ar("old_value", old_value);
  }
};
struct V2 {
  BRINE_TYPE("test.Versioned", 2);
  int value = 0;
  template <class A>
  void getstate(A& ar) const {
    ar("value", value);
  }
  template <class A>
  void setstate(A& ar) {
    if (ar.version() < 2) {
      int old = 0;
      ar("old_value", old);
      value = old * 10;
    } else {
      ar("value", value);
    }
  }
};
void register_v3(brine::Registry& r) {
  r.add<v3::Linear>()
      .migration(1, brine::migrate::sequence({brine::migrate::rename_field("W", "weights"),
                                              brine::migrate::rename_field("b", "bias")}))
      .migration(2, brine::migrate::add_field("activation", brine::Value("tanh")));
}

TEST(Migration, MigratesV1FieldRenameToV3OnBinaryPath) {
  brine::Registry old_registry;
  old_registry.add<v1::Linear>();
  v1::Linear old{{1, 2}, {3}};
  brine::Buffer bytes = brine::to_binary(old, old_registry);

  brine::Registry registry;
  register_v3(registry);
  v3::Linear now = brine::from_binary<v3::Linear>(bytes.view(), registry);
  EXPECT_EQ(now.weights, (std::vector<float>{1, 2}));
  EXPECT_EQ(now.bias, (std::vector<float>{3}));
  EXPECT_EQ(now.activation, "tanh");
}

TEST(Migration, MigratesNestedObjectsInsideContainersAndPointers) {
  brine::Registry old_registry;
  old_registry.add<v1m::Model>();
  v1m::Model old;
  old.layers = {v1::Linear{{1}, {2}}, v1::Linear{{3}, {4}}};
  auto shared = std::make_shared<v1::Linear>(v1::Linear{{5}, {6}});
  old.named = {{"a", shared}, {"b", shared}};
  brine::Buffer bytes = brine::to_binary(old, old_registry);

  brine::Registry registry;
  register_v3(registry);
  registry.add<v3::Model>();
  v3::Model now = brine::from_binary<v3::Model>(bytes.view(), registry);
  ASSERT_EQ(now.layers.size(), 2u);
  EXPECT_EQ(now.layers[1].weights, (std::vector<float>{3}));
  ASSERT_EQ(now.named.size(), 2u);
  EXPECT_EQ(now.named["a"], now.named["b"]) << "sharing lost through migration";
  EXPECT_EQ(now.named["a"]->bias, (std::vector<float>{6}));
  EXPECT_EQ(now.named["a"]->activation, "tanh");
}

TEST(Migration, ExcludesNonStateFieldAndReattachesAfterLoad) {
  brine::Registry registry;
  register_v3(registry);
  std::vector<float> training_set{1, 2, 3};
  v3::Linear layer;
  layer.weights = {1};
  layer.training_set = &training_set;
  brine::Value state = brine::to_state(layer, registry);
  EXPECT_EQ(state.as_object().find("training_set"), nullptr);
  v3::Linear loaded =
      brine::from_binary<v3::Linear>(brine::to_binary(layer, registry).view(), registry);
  EXPECT_EQ(loaded.training_set, nullptr);
  loaded.training_set = &training_set;  // re-attached by the program
  EXPECT_EQ(loaded.weights, layer.weights);
}

TEST(Migration, RefusesNewerClassVersionNamingTypeAndVersions) {
  brine::Registry new_registry;
  register_v3(new_registry);
  brine::Buffer bytes = brine::to_binary(v3::Linear{}, new_registry);
  brine::Registry old_registry;
  old_registry.add<v1::Linear>();
  try {
    brine::from_binary<v1::Linear>(bytes.view(), old_registry);
    FAIL() << "loaded a newer class version";
  } catch (const brine::VersionError& e) {
    EXPECT_EQ(e.code(), brine::errc::newer_class_version);
    std::string what = e.what();
    EXPECT_NE(what.find("class version 3 of 'nn.Linear'"), std::string::npos) << what;
    EXPECT_NE(what.find("up to 1"), std::string::npos) << what;
  }
}

TEST(Migration, MissingFieldWithoutMigrationIsSchemaErrorNamingField) {
  brine::Registry old_registry;
  old_registry.add<v1::Linear>();
  brine::Buffer bytes = brine::to_binary(v1::Linear{{1}, {2}}, old_registry);
  brine::Registry registry;
  registry.add<v3::Linear>();  // no migrations registered
  try {
    brine::from_binary<v3::Linear>(bytes.view(), registry);
    FAIL() << "loaded without the migration";
  } catch (const brine::SchemaError& e) {
    EXPECT_EQ(e.code(), brine::errc::missing_field);
    EXPECT_EQ(e.context().type_name, "nn.Linear");
    std::string what = e.what();
    EXPECT_NE(what.find("'weights'"), std::string::npos) << what;
    EXPECT_NE(what.find("v1"), std::string::npos) << what;
    EXPECT_NE(what.find("v3"), std::string::npos) << what;
  }
}

TEST(Migration, FailingStepIsMigrationErrorNamingStep) {
  brine::Registry old_registry;
  old_registry.add<v1::Linear>();
  brine::Buffer bytes = brine::to_binary(v1::Linear{}, old_registry);
  brine::Registry registry;
  registry.add<v3::Linear>().migration(1, brine::migrate::rename_field("nope", "weights"));
  EXPECT_THROW_WITH(brine::from_binary<v3::Linear>(bytes.view(), registry), brine::MigrationError,
                    "v1 -> v2");
}

TEST(Migration, RenamedTypeLoadsThroughAlias) {
  brine::Registry old_registry;
  brine::Buffer bytes = brine::to_binary(std::vector<OldName>{{4}, {5}}, old_registry);
  brine::Registry registry;
  registry.add<NewName>().alias("old.Point");
  auto loaded = brine::from_binary<std::vector<NewName>>(bytes.view(), registry);
  ASSERT_EQ(loaded.size(), 2u);
  EXPECT_EQ(loaded[1].x, 5);
}

TEST(Migration, SetstateCanAskWhichVersionWrote) {
  brine::Registry old_registry;
  brine::Buffer bytes = brine::to_binary(V1{7}, old_registry);
  brine::Registry registry;
  EXPECT_EQ(brine::from_binary<V2>(bytes.view(), registry).value, 70);
}

TEST(Registry, RejectsSameNameForDifferentTypes) {
  brine::Registry registry;
  registry.add<v1::Linear>();
  EXPECT_THROW_WITH(registry.add<v3::Linear>(), brine::SchemaError, "already registered");
}

TEST(Registry, UnknownNameListsNearMatches) {
  brine::Registry registry;
  registry.add<v3::Linear>();
  EXPECT_THROW_WITH(registry.at("nn.Lineer"), brine::SchemaError, "did you mean 'nn.Linear'");
}

}  // namespace
