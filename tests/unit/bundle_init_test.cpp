// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// bundle_init_test.cpp: init functions recorded with an object run after a bundle load, in
// order, with their arguments; one the program has not registered stops the load before any
// runs.

#include <brine/bundle.hpp>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using brine_test::TempDir;

struct Net {
  BRINE_TYPE("init_test.Net", 1);
  std::vector<double> weights;
  brine::InitCalls init;
  template <class A>
  void getstate(A& ar) const {
    ar("weights", weights)("init", init);
  }
  template <class A>
  void setstate(A& ar) {
    ar("weights", weights)("init", init);
  }
};
BRINE_REGISTER(Net);

std::vector<std::string>& ran() {
  static std::vector<std::string> log;
  return log;
}

const bool registered = [] {
  brine::add_init_function("init_test.scale", [](brine::LoadedValue& v, const brine::Value& args) {
    ran().push_back("scale");
    double factor = args.as_map().at("factor").as_double();
    for (double& w : v.get<Net>().weights) w *= factor;
  });
  brine::add_init_function("init_test.append", [](brine::LoadedValue& v, const brine::Value& args) {
    ran().push_back("append " + args.as_text());
    v.get<Net>().weights.push_back(static_cast<double>(args.as_text().size()));
  });
  return true;
}();

brine::Value factor(double f) {
  brine::Value::Map m;
  m["factor"] = brine::Value(f);
  return brine::Value(std::move(m));
}

TEST(InitFunctions, RunAfterLoadInOrderWithTheirArguments) {
  ASSERT_TRUE(registered);
  TempDir tmp;
  Net n;
  n.weights = {1.0, 2.0};
  n.init.with_init("init_test.scale", factor(10)).with_init("init_test.append", "abc");
  n.init.with_init("init_test.scale", factor(0.5));
  brine::save_bundle(tmp / "b", n);

  ran().clear();
  auto values = brine::load_bundle(tmp / "b");
  EXPECT_EQ(ran(), (std::vector<std::string>{"scale", "append abc", "scale"}));
  // (1, 2) * 10 = (10, 20); append 3; * 0.5 = (5, 10, 1.5): the order matters.
  EXPECT_EQ(values[0].get<Net>().weights, (std::vector<double>{5.0, 10.0, 1.5}));
  ASSERT_EQ(values[0].get<Net>().init.size(), 3u);
  EXPECT_EQ(values[0].get<Net>().init.args(0), factor(10));
}

TEST(InitFunctions, AnUnregisteredOneStopsTheLoadBeforeAnyRuns) {
  TempDir tmp;
  Net n;
  n.weights = {1.0};
  n.init.with_init("init_test.scale", factor(2)).with_init("init_test.missing", brine::Value());
  brine::save_bundle(tmp / "b", n);
  ran().clear();
  EXPECT_THROW_WITH(brine::load_bundle(tmp / "b"), brine::SchemaError,
                    "init function 'init_test.missing' recorded by value 0 is not registered");
  EXPECT_TRUE(ran().empty());
  try {
    brine::load_bundle(tmp / "b");
  } catch (const brine::Error& e) {
    EXPECT_EQ(e.code(), brine::errc::unknown_type);
  }
}

TEST(InitFunctions, DoNotRunOnAConfiguration) {
  TempDir tmp;
  Net n;
  n.init.with_init("init_test.missing");
  brine::save_bundle(tmp / "b", n);
  brine::BundleLoadOptions options;
  options.as_instance = false;
  ran().clear();
  auto values = brine::load_bundle(tmp / "b", options);
  EXPECT_TRUE(ran().empty());
  EXPECT_EQ(values[0].type_name(), "init_test.Net");
  options.as_instance = true;
  options.run_init_functions = false;
  EXPECT_EQ(brine::load_bundle(tmp / "b", options)[0].get<Net>().init.names(),
            std::vector<std::string>{"init_test.missing"});
}

TEST(InitFunctions, ADuplicateNameIsRefused) {
  brine::Registry registry;
  brine::add_init_function(
      "x", [](brine::LoadedValue&, const brine::Value&) {}, registry);
  EXPECT_THROW_WITH(brine::add_init_function(
                        "x", [](brine::LoadedValue&, const brine::Value&) {}, registry),
                    brine::SchemaError, "already registered");
}

}  // namespace
