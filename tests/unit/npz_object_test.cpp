// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// npz_object_test.cpp: a whole object as one .npz (its tensors as .npy entries, the rest as
// __brine__.json): round trips, shared tensors, migrations, registered functions, and numpy
// and Python's json reading what brine wrote.

#include <brine/npz_object.hpp>
#include <brine/types/function.hpp>
#include <brine/types/tensor.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.hpp"

#ifndef BRINE_PYTHON_WITH_NUMPY
#define BRINE_PYTHON_WITH_NUMPY ""
#endif
#ifndef BRINE_NUMPY_CHECK_SCRIPT
#define BRINE_NUMPY_CHECK_SCRIPT ""
#endif

namespace {

namespace fs = std::filesystem;

float twice(float x) { return 2 * x; }

struct Layer {
  BRINE_TYPE("npz_object_test.Layer", 1);
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

struct Model {
  BRINE_TYPE("npz_object_test.Model", 1);
  std::string name;
  std::vector<Layer> layers;
  std::map<std::string, brine::Tensor> heads;
  std::shared_ptr<Layer> tied_a, tied_b;  // one object, held twice
  brine::Tensor embedding, unembedding;   // one storage, two fields
  std::vector<float> scales;
  brine::Function<float(float)> activation;
  template <class A>
  void getstate(A& a) const {
    a("name", name)("layers", layers)("heads", heads)("tied_a", tied_a)("tied_b", tied_b);
    a("embedding", embedding)("unembedding", unembedding)("scales", scales);
    a("activation", activation);
  }
  template <class A>
  void setstate(A& a) {
    a("name", name)("layers", layers)("heads", heads)("tied_a", tied_a)("tied_b", tied_b);
    a("embedding", embedding)("unembedding", unembedding)("scales", scales);
    a("activation", activation);
  }
};

brine::Registry& registry() {
  static brine::Registry r;
  static const bool filled = [] {
    r.add<Layer>();
    r.add<Model>();
    r.add_function("npz_object_test.twice", twice);
    return true;
  }();
  (void)filled;
  return r;
}

brine::Tensor filled(std::vector<std::int64_t> shape, float start) {
  brine::Tensor t(brine::DType::float32, std::move(shape));
  float x = start;
  for (float& v : t.mutable_values<float>()) v = x++;
  return t;
}

Model make_model() {
  Model m;
  m.name = "tiny";
  m.layers.push_back({filled({2, 3}, 0), filled({3}, 10)});
  m.layers.push_back({filled({3, 2}, 20), filled({2}, 30)});
  m.heads["cls"] = brine::Tensor::from_vector(std::vector<std::int64_t>{1, -2, 3});
  m.tied_a = std::make_shared<Layer>(Layer{filled({1, 1}, 40), filled({1}, 41)});
  m.tied_b = m.tied_a;
  m.embedding = filled({4, 2}, 50);
  m.unembedding = m.embedding;
  m.scales = {0.5f, 1.5f};
  m.activation = brine::Function<float(float)>("npz_object_test.twice", registry());
  return m;
}

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST(NpzObject, RoundTripsNestedObjectWithTensors) {
  brine_test::TempDir dir;
  Model m = make_model();
  for (bool compress : {false, true}) {
    fs::path path = dir / (compress ? "deflate.npz" : "stored.npz");
    brine::save_npz(path, m, brine::NpzObjectOptions{compress}, registry());
    Model back = brine::load_npz<Model>(path, registry());
    EXPECT_EQ(back.name, "tiny");
    ASSERT_EQ(back.layers.size(), 2u);
    EXPECT_EQ(back.layers[0].weight, m.layers[0].weight);
    EXPECT_EQ(back.layers[1].bias, m.layers[1].bias);
    EXPECT_EQ(back.heads.at("cls"), m.heads.at("cls"));
    EXPECT_EQ(back.heads.at("cls").dtype(), brine::DType::int64);
    ASSERT_TRUE(back.tied_a);
    EXPECT_EQ(back.tied_a, back.tied_b) << "shared object loaded twice";
    EXPECT_EQ(back.tied_a->weight, m.tied_a->weight);
    EXPECT_EQ(back.embedding, m.embedding);
    EXPECT_EQ(back.scales, m.scales);
    ASSERT_TRUE(back.activation);
    EXPECT_EQ(back.activation.name(), "npz_object_test.twice");
    EXPECT_EQ(back.activation(3.0f), 6.0f);
    // The state model sees the same tree after the round trip.
    EXPECT_EQ(brine::to_state(back, registry()), brine::to_state(m, registry()));
  }
}

TEST(NpzObject, NamesEntriesByDottedPathAndPlainLoaderSeesThem) {
  brine_test::TempDir dir;
  brine::save_npz(dir / "m.npz", make_model(), {}, registry());
  brine::NpzContents contents = brine::inspect_npz(dir / "m.npz");
  std::vector<std::string> names;
  for (const brine::NpzEntry& e : contents.arrays) names.push_back(e.name);
  // tied_b and unembedding share their tensors with tied_a and embedding: no entry of theirs.
  EXPECT_EQ(names, (std::vector<std::string>{"layers.0.weight", "layers.0.bias", "layers.1.weight",
                                             "layers.1.bias", "heads.cls", "tied_a.weight",
                                             "tied_a.bias", "embedding"}));
  EXPECT_EQ(contents.skipped, (std::vector<std::string>{"__brine__.json"}));
  brine::StateDict plain = brine::load_npz(dir / "m.npz");
  EXPECT_EQ(plain.at("layers.1.weight"), make_model().layers[1].weight);
  // The object .npz is stored through the aligned writer: the plain loader maps its arrays.
  for (const auto& [name, t] : plain) {
    if (t.nbytes() != 0) {
      EXPECT_TRUE(t.is_mapped()) << name;
    }
  }
}

TEST(NpzObject, TensorsSharingStorageStayShared) {
  brine_test::TempDir dir;
  brine::save_npz(dir / "m.npz", make_model(), {}, registry());
  Model back = brine::load_npz<Model>(dir / "m.npz", registry());
  EXPECT_EQ(back.embedding.storage_id(), back.unembedding.storage_id());
  EXPECT_NE(back.embedding.storage_id(), back.layers[0].weight.storage_id());
  // A write through one is seen through the other: one buffer, not two equal copies.
  ASSERT_TRUE(back.embedding.is_writable());
  back.embedding.mutable_values<float>()[0] = -1;
  EXPECT_EQ(back.unembedding.values<float>()[0], -1);
}

TEST(NpzObject, DifferentViewsOfOneStorageAreSeparateEntries) {
  brine_test::TempDir dir;
  brine::Tensor whole = filled({2, 2}, 0);
  brine::Tensor flat = whole.view_storage(brine::DType::float32, {4}, 0);
  ASSERT_EQ(flat.storage_id(), whole.storage_id());
  brine::Value::List list{brine::Value(whole), brine::Value(flat)};
  brine::save_npz_state(dir / "v.npz", brine::Value(list));
  brine::Value back = brine::load_npz_state(dir / "v.npz");
  ASSERT_EQ(back.as_list().size(), 2u);
  EXPECT_EQ(back.as_list()[0].as_tensor().shape(), (std::vector<std::int64_t>{2, 2}));
  EXPECT_EQ(back.as_list()[1].as_tensor().shape(), (std::vector<std::int64_t>{4}));
  EXPECT_EQ(brine::inspect_npz(dir / "v.npz").arrays.size(), 2u);
}

TEST(NpzObject, StateLevelRoundTripKeepsTypeAndVersion) {
  brine_test::TempDir dir;
  brine::Value state = brine::to_state(make_model(), registry());
  brine::save_npz_state(dir / "s.npz", state);
  brine::Value back = brine::load_npz_state(dir / "s.npz");
  EXPECT_EQ(back, state);
  EXPECT_EQ(back.as_object().type, "npz_object_test.Model");
  std::string bytes = brine::npz_object_bytes(state);
  brine::NpzObjectInfo info = brine::inspect_npz_object(bytes);
  EXPECT_EQ(info.type, "npz_object_test.Model");
  EXPECT_EQ(info.version, 1u);
  EXPECT_EQ(info.format_version, 1u);
  EXPECT_EQ(info.tensors.size(), 8u);
  EXPECT_TRUE(brine::is_npz_object(bytes));
  brine::StateDict dict;
  dict.insert("x", filled({1}, 0));
  EXPECT_FALSE(brine::is_npz_object(brine::npz_bytes(dict)));
}

TEST(NpzObject, RootThatIsNotAnObjectRoundTrips) {
  brine_test::TempDir dir;
  std::vector<brine::Tensor> tensors{filled({2}, 0), filled({3}, 5)};
  brine::save_npz(dir / "list.npz", tensors);
  EXPECT_EQ(brine::load_npz<std::vector<brine::Tensor>>(dir / "list.npz"), tensors);
  // The root tensor has no dotted path: it gets a generated name.
  brine::save_npz(dir / "one.npz", tensors[1]);
  EXPECT_EQ(brine::load_npz<brine::Tensor>(dir / "one.npz"), tensors[1]);
  EXPECT_TRUE(brine::load_npz(dir / "one.npz").contains("tensor_0"));
}

TEST(NpzObject, UnsafeOrCollidingPathsGetGeneratedNames) {
  brine_test::TempDir dir;
  brine::Value::Map map;
  map.emplace("..", brine::Value(filled({1}, 1)));
  map.emplace("a.b", brine::Value(filled({1}, 2)));
  map.emplace("a", brine::Value(brine::Value::Map{{"b", brine::Value(filled({1}, 3))}}));
  map.emplace("/abs", brine::Value(filled({1}, 4)));
  brine::Value state(map);
  brine::save_npz_state(dir / "m.npz", state);
  EXPECT_EQ(brine::load_npz_state(dir / "m.npz"), state);
  for (const brine::NpzEntry& e : brine::inspect_npz(dir / "m.npz").arrays)
    EXPECT_TRUE(e.name.find("..") == std::string::npos && e.name[0] != '/') << e.name;
}

// Version 1 of a type written by an older program, loaded by one whose type is at version 2.
namespace v1 {
struct Linear {
  BRINE_TYPE("npz_object_test.Linear", 1);
  brine::Tensor W;
  int units = 0;
  template <class A>
  void getstate(A& a) const {
    a("W", W)("units", units);
  }
  template <class A>
  void setstate(A& a) {
    a("W", W)("units", units);
  }
};
}  // namespace v1
namespace v2 {
struct Linear {
  BRINE_TYPE("npz_object_test.Linear", 2);
  brine::Tensor weight;
  int units = 0;
  std::string activation;
  template <class A>
  void getstate(A& a) const {
    a("weight", weight)("units", units)("activation", activation);
  }
  template <class A>
  void setstate(A& a) {
    a("weight", weight)("units", units)("activation", activation);
  }
};
}  // namespace v2

TEST(NpzObject, MigratesOlderClassVersionOnLoad) {
  brine_test::TempDir dir;
  brine::Registry old_registry;
  old_registry.add<v1::Linear>();
  v1::Linear old{filled({2, 2}, 7), 4};
  brine::save_npz(dir / "old.npz", old, {}, old_registry);
  EXPECT_EQ(brine::inspect_npz_object(brine::MappedFile::open(dir / "old.npz")->view()).version,
            1u);

  brine::Registry registry;
  registry.add<v2::Linear>().migration(
      1, brine::migrate::sequence({brine::migrate::rename_field("W", "weight"),
                                   brine::migrate::add_field("activation", brine::Value("relu"))}));
  v2::Linear now = brine::load_npz<v2::Linear>(dir / "old.npz", registry);
  EXPECT_EQ(now.weight, old.W);
  EXPECT_EQ(now.units, 4);
  EXPECT_EQ(now.activation, "relu");

  // Without the migration the renamed field is missing, and the error says so and where.
  brine::Registry no_migration;
  no_migration.add<v2::Linear>();
  EXPECT_THROW_WITH(brine::load_npz<v2::Linear>(dir / "old.npz", no_migration), brine::SchemaError,
                    "missing field 'weight' (written as v1");
}

TEST(NpzObject, UnregisteredFunctionIsRefusedOnLoad) {
  brine_test::TempDir dir;
  brine::save_npz(dir / "m.npz", make_model(), {}, registry());
  brine::Registry without;
  without.add<Layer>();
  without.add<Model>();
  EXPECT_THROW_WITH(brine::load_npz<Model>(dir / "m.npz", without), brine::SchemaError,
                    "npz_object_test.twice");
}

TEST(NpzObject, NumpyLoadsTheArraysAndJsonParsesTheDescription) {
  ASSERT_STRNE(BRINE_PYTHON_WITH_NUMPY, "")
      << "no Python interpreter with numpy was found at configure time: install python3-numpy";
  brine_test::TempDir dir;
  Layer layer{filled({2, 3}, 0), brine::Tensor::from_vector(std::vector<std::int32_t>{7, -8})};
  brine::save_npz(dir / "layer.npz", layer, {}, registry());
  std::ostringstream manifest;
  auto raw = [&](const std::string& label, const brine::Tensor& t) {
    write_file(dir / (label + ".raw"),
               std::string(reinterpret_cast<const char*>(t.bytes()), t.nbytes()));
  };
  raw("weight", layer.weight);
  raw("bias", layer.bias);
  manifest << "layer.npz\tweight\tweight.raw\t<f4\t2,3\n";
  manifest << "layer.npz\tbias\tbias.raw\t<i4\t2\n";
  // The description as any JSON parser must see it, written out by hand.
  write_file(dir / "expected.json", R"({
    "format": "brine-npz", "format_version": 1, "brine_version": "0.1.0",
    "type": "npz_object_test.Layer", "version": 1,
    "value": {"$type": "npz_object_test.Layer", "$version": 1,
              "weight": {"$tensor_ref": "weight", "dtype": "float32", "shape": [2, 3]},
              "bias": {"$tensor_ref": "bias", "dtype": "int32", "shape": [2]}}})");
  manifest << "layer.npz\t__brine__.json\texpected.json\tjson\t\n";
  write_file(dir / "manifest.tsv", manifest.str());
  std::string command = std::string(BRINE_PYTHON_WITH_NUMPY) + " " + BRINE_NUMPY_CHECK_SCRIPT +
                        " '" + dir.path().string() + "'";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
}

TEST(NpzObject, DtypeNumpyLacksIsRefusedAndNothingIsWritten) {
  brine_test::TempDir dir;
  Layer layer{brine::Tensor(brine::DType::bfloat16, {2}), filled({1}, 0)};
  EXPECT_THROW_WITH(brine::save_npz(dir / "bf16.npz", layer, {}, registry()), brine::FormatError,
                    "bfloat16");
  EXPECT_FALSE(fs::exists(dir / "bf16.npz"));
}

TEST(NpzObject, SaveReplacesAnExistingFileAtomically) {
  brine_test::TempDir dir;
  brine::save_npz(dir / "m.npz", make_model(), {}, registry());
  Layer layer{filled({1}, 1), filled({1}, 2)};
  brine::save_npz(dir / "m.npz", layer, {}, registry());
  EXPECT_EQ(brine::load_npz<Layer>(dir / "m.npz", registry()).bias, layer.bias);
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 1u) << "a temporary file was left behind";
}

}  // namespace
