// Registry: registration rules, thread safety, functions and callables saved by name.

#include <atomic>
#include <brine/brine.hpp>
#include <thread>

#include "test_util.hpp"

namespace {

float relu(float x) { return x > 0 ? x : 0; }
float negate(float x) { return -x; }
int twice(int x) { return 2 * x; }

struct Layer {
  BRINE_TYPE("test.Layer", 1);
  float (*activation)(float) = nullptr;
  brine::Function<float(float)> callback;
  template <class A>
  void getstate(A& ar) const {
    ar("activation", activation)("callback", callback);
  }
  template <class A>
  void setstate(A& ar) {
    ar("activation", activation)("callback", callback);
  }
};

struct Other {
  BRINE_TYPE("test.Other", 1);
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

void register_functions(brine::Registry& r) {
  r.add_function("nn.relu", relu);
  r.add_function("nn.negate", negate);
  r.add_function("math.twice", twice);
  float slope = 0.1f;
  r.add_callable<float(float)>("nn.leaky", [slope](float x) { return x > 0 ? x : slope * x; });
}

TEST(Registry, SavesFunctionsAndCallablesByName) {
  brine::Registry registry;
  register_functions(registry);
  Layer layer;
  layer.activation = relu;
  layer.callback = brine::Function<float(float)>("nn.leaky", registry);
  brine::Buffer bytes = brine::to_binary(layer, registry);
  EXPECT_NE(bytes.view().find("nn.relu"), std::string_view::npos);
  Layer loaded = brine::from_binary<Layer>(bytes.view(), registry);
  EXPECT_EQ(loaded.activation, &relu);
  EXPECT_EQ(loaded.callback.name(), "nn.leaky");
  EXPECT_FLOAT_EQ(loaded.callback(-10.0f), -1.0f);

  Layer via_state = brine::from_state<Layer>(brine::to_state(layer, registry), registry);
  EXPECT_EQ(via_state.activation, &relu);
  EXPECT_FLOAT_EQ(via_state.callback(2.0f), 2.0f);
}

TEST(Registry, RefusesToSaveUnregisteredFunction) {
  brine::Registry registry;
  Layer layer;
  layer.activation = negate;
  EXPECT_THROW_WITH(brine::to_binary(layer, registry), brine::SchemaError, "unregistered function");
}

TEST(Registry, UnknownFunctionOnLoadListsNearMatches) {
  brine::Registry writer;
  writer.add_function("nn.relu6", relu);
  Layer layer;
  layer.activation = relu;
  brine::Buffer bytes = brine::to_binary(layer, writer);
  brine::Registry reader;
  register_functions(reader);
  EXPECT_THROW_WITH(brine::from_binary<Layer>(bytes.view(), reader), brine::SchemaError,
                    "did you mean 'nn.relu'");
}

TEST(Registry, RefusesFunctionWithDifferentSignature) {
  brine::Registry writer;
  writer.add_function("nn.relu", twice);  // same name, int(int)
  brine::Value state(brine::Object{
      "test.Layer",
      1,
      {{"activation", brine::Value(brine::FunctionRef{"nn.relu"})}, {"callback", brine::Value()}},
      std::nullopt});
  EXPECT_THROW_WITH(brine::from_state<Layer>(state, writer), brine::SchemaError, "signature");
}

TEST(Registry, RegistrationIsThreadSafeAndIdempotent) {
  brine::Registry registry;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&registry] {
      for (int i = 0; i < 200; ++i) {
        registry.add<Layer>();
        registry.add<Other>();
        ASSERT_NE(registry.find("test.Layer"), nullptr);
        ASSERT_NE(registry.find(typeid(Other)), nullptr);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(registry.type_names(), (std::vector<std::string>{"test.Layer", "test.Other"}));
}

TEST(Registry, AliasMayNotStealAnotherTypesName) {
  brine::Registry registry;
  registry.add<Layer>();
  registry.add<Other>();
  EXPECT_THROW_WITH(registry.add<Other>().alias("test.Layer"), brine::SchemaError,
                    "already the name");
}

TEST(Registry, RejectsMigrationFromCurrentVersion) {
  brine::Registry registry;
  EXPECT_THROW_WITH(registry.add<Other>().migration(1, brine::migrate::remove_field("x")),
                    brine::SchemaError, "not older");
}

TEST(Registry, DefaultRegistryIsOneObject) {
  EXPECT_EQ(&brine::default_registry(), &brine::default_registry());
}

}  // namespace

namespace {

struct Evolving {
  BRINE_TYPE("test.Evolving", 500);
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

}  // namespace

// Loads read a type's aliases and migrations without the registry's lock. Before they were
// published as snapshots, a registration that grew one of those vectors while another thread
// walked it freed the memory under the reader: AddressSanitizer reports a heap-use-after-free
// here within a few hundred additions, and ThreadSanitizer a data race.
TEST(Registry, AliasesAndMigrationsMayBeAddedWhileOtherThreadsRead) {
  brine::Registry registry;
  const brine::TypeInfo& info = registry.add<Evolving>().info();
  constexpr std::uint32_t kSteps = 400;
  std::atomic<bool> done{false};
  std::atomic<std::size_t> reads{0};
  std::thread reader([&] {
    std::size_t last_aliases = 0;
    while (!done.load()) {
      const std::vector<std::string>& aliases = info.aliases();
      // A snapshot never shrinks and never changes under the reader.
      ASSERT_GE(aliases.size(), last_aliases);
      for (std::size_t i = 0; i < aliases.size(); ++i)
        ASSERT_EQ(aliases[i], "test.Old" + std::to_string(i));
      last_aliases = aliases.size();
      std::uint32_t found = 0;
      for (std::uint32_t v = 0; v < kSteps; ++v) {
        const brine::Migration* m = info.migration_from(v);
        if (m == nullptr) break;
        ASSERT_EQ(m->from_version, v);
        ++found;
      }
      ASSERT_LE(found, kSteps);
      reads.fetch_add(1);
    }
  });
  for (std::uint32_t v = 0; v < kSteps; ++v) {
    registry.add_alias("test.Evolving", "test.Old" + std::to_string(v));
    registry.add_migration("test.Evolving", brine::Migration{v, "step", [](brine::Object&) {}});
  }
  done.store(true);
  reader.join();
  EXPECT_GT(reads.load(), 0u);
  EXPECT_EQ(info.aliases().size(), kSteps);
  EXPECT_NE(info.migration_from(kSteps - 1), nullptr);
}
