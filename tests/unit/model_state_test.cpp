// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// model_state_test.cpp: an object's tensors as a state dict with dotted names, and a state
// dict (or a safetensors checkpoint) filling the tensors of an existing object.

#include <gtest/gtest.h>

#include <brine/brine.hpp>
#include <brine/model_state.hpp>
#include <brine/safetensors.hpp>
#include <brine/types/tensor.hpp>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct Layer {
  BRINE_TYPE("model_state_test.Layer", 1);
  brine::Tensor weight;
  brine::Tensor bias;
  template <class A>
  void getstate(A& a) const {
    a("weight", weight)("bias", bias);
  }
  template <class A>
  void setstate(A& a) {
    a("weight", weight)("bias", bias);
  }
};
BRINE_REGISTER(Layer);

struct Model {
  BRINE_TYPE("model_state_test.Model", 1);
  std::string name = "tiny";
  std::vector<Layer> layers;
  std::map<std::string, brine::Tensor> heads;
  template <class A>
  void getstate(A& a) const {
    a("name", name)("layers", layers)("heads", heads);
  }
  template <class A>
  void setstate(A& a) {
    a("name", name)("layers", layers)("heads", heads);
  }
};
BRINE_REGISTER(Model);

brine::Tensor filled(std::vector<std::int64_t> shape, float start) {
  brine::Tensor t(brine::DType::float32, std::move(shape));
  float x = start;
  for (float& v : t.mutable_values<float>()) v = x++;
  return t;
}

Model make_model(float start) {
  Model m;
  for (int i = 0; i < 2; ++i) {
    Layer l;
    l.weight = filled({3, 2}, start + 10.0f * static_cast<float>(i));
    l.bias = filled({3}, start + 100.0f + static_cast<float>(i));
    m.layers.push_back(l);
  }
  m.heads["cls"] = filled({2}, start + 200.0f);
  return m;
}

TEST(ModelState, FlattensTensorsToDottedNames) {
  brine::StateDict dict = brine::to_state_dict(make_model(0));
  std::vector<std::string> names;
  for (const auto& [name, tensor] : dict) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"layers.0.weight", "layers.0.bias", "layers.1.weight",
                                             "layers.1.bias", "heads.cls"}));
  EXPECT_EQ(dict.at("layers.1.weight").values<float>()[0], 10.0f);
}

TEST(ModelState, FillsAnObjectAndReportsNothingWhenAllMatch) {
  Model target = make_model(0);
  Model source = make_model(1000);
  brine::StateDictReport report = brine::load_state_dict(target, brine::to_state_dict(source));
  EXPECT_TRUE(report.ok()) << report.describe();
  EXPECT_EQ(target.layers[1].bias, source.layers[1].bias);
  EXPECT_EQ(target.heads["cls"], source.heads["cls"]);
  EXPECT_EQ(target.name, "tiny");  // what is not a tensor stays the object's own
}

TEST(ModelState, StrictModeRefusesEveryKindOfMismatchAndLeavesTheObjectAlone) {
  Model target = make_model(0);
  brine::StateDict dict = brine::to_state_dict(make_model(1000));
  dict.erase("layers.0.bias");                         // missing
  dict.insert("layers.7.weight", filled({1}, 0));      // unexpected
  dict.insert_or_assign("heads.cls", filled({5}, 0));  // shape mismatch
  dict.insert_or_assign("layers.1.bias", brine::Tensor(brine::DType::float64, {3}));  // dtype
  try {
    brine::load_state_dict(target, dict);
    FAIL() << "strict load_state_dict accepted a mismatching dict";
  } catch (const brine::SchemaError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("missing key 'layers.0.bias'"), std::string::npos) << what;
    EXPECT_NE(what.find("unexpected key 'layers.7.weight'"), std::string::npos) << what;
    EXPECT_NE(what.find("'heads.cls'"), std::string::npos) << what;
    EXPECT_NE(what.find("'layers.1.bias'"), std::string::npos) << what;
  }
  EXPECT_EQ(target.layers[0].weight, make_model(0).layers[0].weight);

  brine::StateDictReport report = brine::load_state_dict(target, dict, /*strict=*/false);
  EXPECT_EQ(report.missing_keys, (std::vector<std::string>{"layers.0.bias"}));
  EXPECT_EQ(report.unexpected_keys, (std::vector<std::string>{"layers.7.weight"}));
  ASSERT_EQ(report.mismatched.size(), 2u);
  EXPECT_EQ(report.mismatched[0].name, "layers.1.bias");
  EXPECT_EQ(report.mismatched[0].found_dtype, brine::DType::float64);
  EXPECT_EQ(report.mismatched[1].name, "heads.cls");
  EXPECT_EQ(report.mismatched[1].found_shape, (std::vector<std::int64_t>{5}));
  // The matching tensors were loaded; the others kept the object's own.
  EXPECT_EQ(target.layers[0].weight, make_model(1000).layers[0].weight);
  EXPECT_EQ(target.layers[1].bias, make_model(0).layers[1].bias);
}

TEST(ModelState, AnObjectSavedAsShardedSafetensorsLoadsBackMapped) {
  fs::path dir = fs::temp_directory_path() / "brine_model_state_test";
  fs::remove_all(dir);
  Model source = make_model(7);
  brine::ShardOptions options;
  options.max_shard_size = 40;  // several shards
  brine::SavedStateDict saved = brine::save_state_dict(dir, brine::to_state_dict(source), options);
  EXPECT_GT(saved.shards.size(), 1u);
  Model target = make_model(0);
  brine::StateDictReport report = brine::load_state_dict(target, dir);
  EXPECT_TRUE(report.ok()) << report.describe();
  EXPECT_TRUE(target.layers[0].weight.is_mapped());
  EXPECT_EQ(target.layers[0].weight, source.layers[0].weight);
  EXPECT_EQ(target.heads["cls"], source.heads["cls"]);
  fs::remove_all(dir);
}

}  // namespace

namespace {

// A map key holding a '.' can flatten onto a nested field's name: refused, not dropped.
TEST(ModelState, TwoTensorsFlatteningToOneNameAreRefused) {
  brine::Value::Map inner;
  inner.emplace("b", brine::Value(brine::Tensor(brine::DType::int8, {1})));
  brine::Value::Map outer;
  outer.emplace("a", brine::Value(std::move(inner)));
  outer.emplace("a.b", brine::Value(brine::Tensor(brine::DType::int8, {2})));
  try {
    brine::state_dict_of(brine::Value(std::move(outer)));
    FAIL() << "two tensors named 'a.b' were flattened";
  } catch (const brine::SchemaError& e) {
    EXPECT_NE(std::string(e.what()).find("'a.b'"), std::string::npos) << e.what();
  }
}

}  // namespace
