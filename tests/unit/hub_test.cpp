// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// hub_test.cpp: model folders in the Hugging Face layout: push_to_folder / from_pretrained,
// single and sharded weights, variants and their file names, the definition's fallback name,
// a missing variant, the state without an instance, and numpy reading the weights.

#include <algorithm>
#include <brine/data_path.hpp>
#include <brine/hub.hpp>
#include <brine/types/tensor.hpp>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "test_util.hpp"

#ifndef BRINE_PYTHON_WITH_NUMPY
#define BRINE_PYTHON_WITH_NUMPY ""
#endif

namespace {

namespace fs = std::filesystem;

struct Block {
  BRINE_TYPE("hub_test.Block", 1);
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
  BRINE_TYPE("hub_test.Model", 1);
  std::string name;
  int hidden = 0;
  std::vector<Block> blocks;
  brine::Tensor embedding, unembedding;  // tied: one storage
  template <class A>
  void getstate(A& a) const {
    a("name", name)("hidden", hidden)("blocks", blocks)("embedding", embedding);
    a("unembedding", unembedding);
  }
  template <class A>
  void setstate(A& a) {
    a("name", name)("hidden", hidden)("blocks", blocks)("embedding", embedding);
    a("unembedding", unembedding);
  }
};

// A model with a vocabulary file beside its weights.
struct Tokenized {
  BRINE_TYPE("hub_test.Tokenized", 1);
  brine::Tensor embedding;
  brine::DataPath vocab;
  template <class A>
  void getstate(A& a) const {
    a("embedding", embedding)("vocab", vocab);
  }
  template <class A>
  void setstate(A& a) {
    a("embedding", embedding)("vocab", vocab);
  }
};

brine::Registry& registry() {
  static brine::Registry r;
  static const bool registered = [] {
    r.add<Block>();
    r.add<Model>();
    r.add<Tokenized>();
    return true;
  }();
  (void)registered;
  return r;
}

brine::Tensor filled(std::vector<std::int64_t> shape, float start) {
  brine::Tensor t(brine::DType::float32, std::move(shape));
  float x = start;
  for (float& v : t.mutable_values<float>()) v = x++;
  return t;
}

Model make_model(float start) {
  Model m;
  m.name = "tiny";
  m.hidden = 4;
  for (int i = 0; i < 3; ++i)
    m.blocks.push_back({filled({4, 4}, start + 100 * i), filled({4}, start + 100 * i + 50)});
  m.embedding = filled({8, 4}, start + 1000);
  m.unembedding = m.embedding;
  return m;
}

void expect_same(const Model& a, const Model& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.hidden, b.hidden);
  ASSERT_EQ(a.blocks.size(), b.blocks.size());
  for (std::size_t i = 0; i < a.blocks.size(); ++i) {
    EXPECT_EQ(a.blocks[i].weight, b.blocks[i].weight) << i;
    EXPECT_EQ(a.blocks[i].bias, b.blocks[i].bias) << i;
  }
  EXPECT_EQ(a.embedding, b.embedding);
  EXPECT_EQ(a.unembedding, b.unembedding);
}

std::vector<std::string> files_of(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& item : fs::directory_iterator(dir)) names.push_back(item.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(ModelFolder, RoundTripsWithOneWeightsFile) {
  brine_test::TempDir dir;
  Model m = make_model(0);
  brine::PushedModelFolder pushed = brine::push_to_folder(dir / "tiny", m, {}, registry());
  EXPECT_EQ(pushed.definition, "brine.json");
  EXPECT_EQ(pushed.weights.shards, std::vector<std::string>{"model.safetensors"});
  EXPECT_EQ(files_of(dir / "tiny"), (std::vector<std::string>{"brine.json", "model.safetensors"}));
  // The folder is all there is: nothing left beside it.
  EXPECT_EQ(files_of(dir.path()), std::vector<std::string>{"tiny"});

  Model back = brine::from_pretrained<Model>(dir / "tiny", {}, registry());
  expect_same(back, m);
  // The weights are views of the mapped file, and tied tensors stay tied.
  EXPECT_FALSE(back.blocks[0].weight.is_writable());
  EXPECT_EQ(back.embedding.storage_id(), back.unembedding.storage_id());
  EXPECT_EQ(back.embedding.storage_offset(), back.unembedding.storage_offset());
  // The weights are named as to_state_dict names them: load_state_dict fills a fresh model.
  brine::StateDict weights = brine::load_state_dict(dir / "tiny");
  EXPECT_TRUE(weights.contains("blocks.2.bias"));
  EXPECT_FALSE(weights.contains("unembedding")) << "a tied tensor is written once";
}

TEST(ModelFolder, RoundTripsShardedWeightsWithAnIndex) {
  brine_test::TempDir dir;
  Model m = make_model(0);
  brine::ModelFolderOptions options;
  options.max_shard_size = 100;  // 64-byte blocks: several shards
  brine::PushedModelFolder pushed = brine::push_to_folder(dir / "tiny", m, options, registry());
  ASSERT_GT(pushed.weights.shards.size(), 1u);
  EXPECT_EQ(pushed.weights.index, "model.safetensors.index.json");
  for (const std::string& shard : pushed.weights.shards)
    EXPECT_TRUE(fs::exists(dir / "tiny" / shard)) << shard;
  EXPECT_EQ(pushed.weights.shards.front(),
            "model-00001-of-0000" + std::to_string(pushed.weights.shards.size()) + ".safetensors");
  expect_same(brine::from_pretrained<Model>(dir / "tiny", options, registry()), m);
  // Pushing again unsharded leaves no shard of the first push behind.
  brine::push_to_folder(dir / "tiny", m, {}, registry());
  EXPECT_EQ(files_of(dir / "tiny"), (std::vector<std::string>{"brine.json", "model.safetensors"}));
  expect_same(brine::from_pretrained<Model>(dir / "tiny", {}, registry()), m);
}

TEST(ModelFolder, VariantsAreNamedAsTransformersNamesThemAndLoadByName) {
  brine_test::TempDir dir;
  Model full = make_model(0), half = make_model(0.5f);
  brine::push_to_folder(dir / "m", full, {}, registry());
  brine::ModelFolderOptions fp16;
  fp16.variant = "fp16";
  brine::push_to_folder(dir / "m", half, fp16, registry());
  brine::ModelFolderOptions ema;
  ema.variant = "ema";
  ema.max_shard_size = 100;
  brine::PushedModelFolder sharded = brine::push_to_folder(dir / "m", half, ema, registry());
  EXPECT_EQ(sharded.weights.index, "model.safetensors.index.ema.json");
  EXPECT_EQ(
      sharded.weights.shards.front(),
      "model.ema-00001-of-0000" + std::to_string(sharded.weights.shards.size()) + ".safetensors");
  std::vector<std::string> files = files_of(dir / "m");
  for (const char* expected : {"brine.json", "model.safetensors", "model.fp16.safetensors",
                               "model.safetensors.index.ema.json"})
    EXPECT_NE(std::find(files.begin(), files.end(), expected), files.end()) << expected;
  EXPECT_EQ(brine::model_folder_variants(dir / "m"), (std::vector<std::string>{"", "ema", "fp16"}));

  // No variant: the default weights; a variant: its own.
  expect_same(brine::from_pretrained<Model>(dir / "m", {}, registry()), full);
  expect_same(brine::from_pretrained<Model>(dir / "m", fp16, registry()), half);
  expect_same(brine::from_pretrained<Model>(dir / "m", ema, registry()), half);
  // The variants are separate checkpoints: the default's file is the one first pushed.
  EXPECT_EQ(brine::load_state_dict(dir / "m").at("blocks.0.weight"), full.blocks[0].weight);
}

TEST(ModelFolder, RefusesAMissingVariantByNameListingThosePresent) {
  brine_test::TempDir dir;
  brine::push_to_folder(dir / "m", make_model(0), {}, registry());
  brine::ModelFolderOptions fp16;
  fp16.variant = "fp16";
  brine::push_to_folder(dir / "m", make_model(1), fp16, registry());
  brine::ModelFolderOptions bf16;
  bf16.variant = "bf16";
  try {
    brine::from_pretrained<Model>(dir / "m", bf16, registry());
    ADD_FAILURE() << "a missing variant loaded";
  } catch (const brine::IoError& e) {
    EXPECT_EQ(e.code(), brine::errc::io_failure);
    EXPECT_EQ(e.os_error(), std::make_error_code(std::errc::no_such_file_or_directory));
    EXPECT_NE(
        std::string(e.what()).find("has no weights of variant 'bf16' (it has: default, 'fp16')"),
        std::string::npos)
        << e.what();
  }
  // A folder with only a variant refuses the default weights, naming the variant it has.
  brine::push_to_folder(dir / "only", make_model(1), fp16, registry());
  EXPECT_THROW_WITH(brine::from_pretrained<Model>(dir / "only", {}, registry()), brine::IoError,
                    "has no default weights (it has: 'fp16')");
}

TEST(ModelFolder, DefinitionFallsBackToDefinitionJson) {
  brine_test::TempDir dir;
  Model m = make_model(0);
  brine::ModelFolderOptions named;
  named.definition_filename = "definition.json";
  brine::push_to_folder(dir / "m", m, named, registry());
  EXPECT_FALSE(fs::exists(dir / "m" / "brine.json"));
  expect_same(brine::from_pretrained<Model>(dir / "m", {}, registry()), m);
  // Neither name: refused, naming both.
  fs::remove(dir / "m" / "definition.json");
  EXPECT_THROW_WITH(brine::from_pretrained<Model>(dir / "m", {}, registry()), brine::IoError,
                    "no definition file 'brine.json' nor 'definition.json'");
}

TEST(ModelFolder, AsInstanceFalseReturnsTheState) {
  brine_test::TempDir dir;
  Model m = make_model(0);
  brine::push_to_folder(dir / "m", m, {}, registry());
  brine::ModelFolderOptions config;
  config.as_instance = false;
  brine::Value state = brine::from_pretrained<brine::Value>(dir / "m", config, registry());
  EXPECT_EQ(state.as_object().type, "hub_test.Model");
  EXPECT_EQ(state.as_object().find("hidden")->as_int64(), 4);
  EXPECT_EQ(state, brine::to_state(m, registry()));
  EXPECT_EQ(brine::load_pretrained_state(dir / "m"), state);
  EXPECT_THROW_WITH(brine::from_pretrained<Model>(dir / "m", config, registry()),
                    brine::SchemaError, "from_pretrained<brine::Value>");
}

TEST(ModelFolder, KeepsOtherFilesOfTheFolder) {
  brine_test::TempDir dir;
  brine::push_to_folder(dir / "m", make_model(0), {}, registry());
  std::ofstream(dir / "m" / "README.md") << "# tiny\n";
  fs::create_directory(dir / "m" / "tokenizer");
  std::ofstream(dir / "m" / "tokenizer" / "vocab.txt") << "a\nb\n";
  brine::push_to_folder(dir / "m", make_model(3), {}, registry());
  EXPECT_EQ(brine::read_file(dir / "m" / "README.md"), "# tiny\n");
  EXPECT_EQ(brine::read_file(dir / "m" / "tokenizer" / "vocab.txt"), "a\nb\n");
  expect_same(brine::from_pretrained<Model>(dir / "m", {}, registry()), make_model(3));
  EXPECT_EQ(files_of(dir.path()), std::vector<std::string>{"m"});
}

TEST(ModelFolder, RefusesWeightsTheDefinitionDoesNotMatch) {
  brine_test::TempDir dir;
  brine::push_to_folder(dir / "m", make_model(0), {}, registry());
  // Weights of another object under the same names, minus one: the reference is refused.
  brine::StateDict weights = brine::load_state_dict(dir / "m");
  brine::StateDict fewer;
  for (const auto& [name, t] : weights)
    if (name != "blocks.1.bias") fewer.insert(name, t.clone());
  brine::save_safetensors(dir / "m" / "model.safetensors", fewer);
  EXPECT_THROW_WITH(brine::load_pretrained_state(dir / "m"), brine::FormatError,
                    "'$tensor_ref' names weight 'blocks.1.bias', which the default weights lack");
  // One more weight than the definition names: refused too, nothing is dropped silently.
  brine::StateDict more;
  for (const auto& [name, t] : weights) more.insert(name, t.clone());
  more.insert("extra", filled({1}, 0));
  weights = brine::StateDict();  // releases the mapping of the file replaced below
  brine::save_safetensors(dir / "m" / "model.safetensors", more);
  EXPECT_THROW_WITH(brine::load_pretrained_state(dir / "m"), brine::FormatError,
                    "weight 'extra' of the default weights is not referenced by the definition");
}

TEST(ModelFolder, RefusesADefinitionItCannotTrust) {
  brine_test::TempDir dir;
  brine::push_to_folder(dir / "m", make_model(0), {}, registry());
  const std::string good = brine::read_file(dir / "m" / "brine.json");
  auto with = [&](const std::string& from, const std::string& to) {
    std::string text = good;
    std::size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    brine::write_file_atomically(dir / "m" / "brine.json", text);
  };
  with("\"format_version\": 1", "\"format_version\": 2");
  EXPECT_THROW_WITH(brine::load_pretrained_state(dir / "m"), brine::VersionError,
                    "format version 2");
  with("\"brine-model\"", "\"brine-npz\"");
  EXPECT_THROW_WITH(brine::load_pretrained_state(dir / "m"), brine::FormatError,
                    "does not say \"format\": \"brine-model\"");
  // A reference may say what it expects; the weight must then be that.
  with("{\n      \"$tensor_ref\": \"embedding\"\n    }",
       R"({"$tensor_ref": "embedding", "dtype": "float16", "shape": [8, 4]})");
  EXPECT_THROW_WITH(brine::load_pretrained_state(dir / "m"), brine::FormatError,
                    "'$tensor_ref' to 'embedding' says float16[8, 4], the weight is float32[8, 4]");
  with("\"type\": \"hub_test.Model\"", "\"type\": \"hub_test.Other\"");
  EXPECT_THROW_WITH(brine::load_pretrained_state(dir / "m"), brine::FormatError,
                    "\"type\" is not the root object's type 'hub_test.Model'");
  // The round-trip sibling: the file as written loads.
  brine::write_file_atomically(dir / "m" / "brine.json", good);
  expect_same(brine::from_pretrained<Model>(dir / "m", {}, registry()), make_model(0));
}

TEST(ModelFolder, NumpyReadsTheWeightsAndJsonTheDefinition) {
  ASSERT_STRNE(BRINE_PYTHON_WITH_NUMPY, "")
      << "no python3 with numpy (apt-get install python3-numpy)";
  brine_test::TempDir dir;
  Model m = make_model(0);
  brine::ModelFolderOptions options;
  options.max_shard_size = 100;
  options.variant = "fp16";
  brine::push_to_folder(dir / "m", m, options, registry());
  // Reads the folder as a Hugging Face tool would: the variant's index, each shard's header,
  // the data with numpy.frombuffer; and the definition with json, whose references must
  // name exactly the weights.
  std::ofstream(dir / "check.py") << R"(import json, os, struct, sys
import numpy as np
folder = sys.argv[1]
index = json.load(open(os.path.join(folder, 'model.safetensors.index.fp16.json')))
weights = {}
for shard in sorted(set(index['weight_map'].values())):
    b = open(os.path.join(folder, shard), 'rb').read()
    n = struct.unpack('<Q', b[:8])[0]
    h = json.loads(b[8:8 + n].decode('utf-8'))
    h.pop('__metadata__', None)
    for name, e in h.items():
        assert index['weight_map'][name] == shard, name
        s, t = e['data_offsets']
        assert e['dtype'] == 'F32'
        weights[name] = np.frombuffer(b[8 + n + s:8 + n + t], dtype='<f4').reshape(e['shape'])
assert set(weights) == set(index['weight_map']), sorted(weights)
assert weights['blocks.1.weight'].shape == (4, 4)
assert weights['blocks.1.weight'][0, 1] == 101.0
assert weights['blocks.2.bias'].tolist() == [250.0, 251.0, 252.0, 253.0]
assert weights['embedding'][7, 3] == 1031.0
d = json.load(open(os.path.join(folder, 'brine.json')))
assert d['format'] == 'brine-model' and d['type'] == 'hub_test.Model' and d['version'] == 1
refs = set()
def walk(v):
    if isinstance(v, dict):
        if '$tensor_ref' in v:
            refs.add(v['$tensor_ref'])
        for x in v.values():
            walk(x)
    elif isinstance(v, list):
        for x in v:
            walk(x)
walk(d['value'])
assert refs == set(weights), (sorted(refs), sorted(weights))
assert d['value']['unembedding'] == {'$tensor_ref': 'embedding'}
print('hub check: %d weights' % len(weights))
)";
  std::string command = std::string(BRINE_PYTHON_WITH_NUMPY) + " " + (dir / "check.py").string() +
                        " " + (dir / "m").string();
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
}

}  // namespace

TEST(ModelFolder, DataFilesGoIntoTheFolderAndResolveWhereverItMoves) {
  brine_test::TempDir dir;
  fs::create_directory(dir / "src");
  std::ofstream(dir / "src" / "vocab.txt") << "the\nof\nand\n";
  Tokenized m;
  m.embedding = filled({3, 2}, 0);
  m.vocab = brine::DataPath(dir / "src" / "vocab.txt");
  brine::push_to_folder(dir / "m", m, {}, registry());
  // A second push (a variant) places the data again rather than carrying a stale copy.
  brine::ModelFolderOptions half;
  half.variant = "fp16";
  brine::push_to_folder(dir / "m", m, half, registry());
  // The source goes away and the folder moves: the copy inside it is what loads.
  fs::remove_all(dir / "src");
  fs::rename(dir / "m", dir / "moved");
  for (const auto& options : {brine::ModelFolderOptions{}, half}) {
    Tokenized back = brine::from_pretrained<Tokenized>(dir / "moved", options, registry());
    EXPECT_EQ(back.embedding, m.embedding);
    EXPECT_EQ(back.vocab.base(), brine::PathBase::absolute);
    const fs::path inside = fs::canonical(back.vocab.path());
    const fs::path folder = fs::canonical(dir / "moved");
    EXPECT_EQ(inside.string().rfind(folder.string() + "/", 0), 0u) << inside;
    EXPECT_EQ(brine::read_file(back.vocab.path()), "the\nof\nand\n");
  }
  // The definition records the path relative to the folder.
  const std::string definition = brine::read_file(dir / "moved" / "brine.json");
  EXPECT_NE(definition.find("\"bundle\""), std::string::npos) << definition;
  EXPECT_EQ(definition.find(dir.path().string()), std::string::npos) << definition;
}

TEST(ModelFolder, RefusesADataPathThatEscapesTheFolder) {
  brine_test::TempDir dir;
  std::ofstream(dir / "vocab.txt") << "a\n";
  Tokenized m;
  m.embedding = filled({2}, 0);
  m.vocab = brine::DataPath(dir / "vocab.txt");
  brine::push_to_folder(dir / "m", m, {}, registry());
  const std::string good = brine::read_file(dir / "m" / "brine.json");
  const std::string recorded = "data/0/vocab/vocab.txt";
  ASSERT_NE(good.find(recorded), std::string::npos) << good;
  auto rewrite = [&](const std::string& path) {
    std::string text = good;
    text.replace(text.find(recorded), recorded.size(), path);
    std::ofstream(dir / "m" / "brine.json", std::ios::trunc) << text;
  };
  rewrite("../vocab.txt");
  EXPECT_THROW_WITH(brine::from_pretrained<Tokenized>(dir / "m", {}, registry()),
                    brine::FormatError, "climbs out of the bundle");
  rewrite((dir / "vocab.txt").string());
  EXPECT_THROW_WITH(brine::load_pretrained_state(dir / "m"), brine::FormatError,
                    "is absolute where a path relative");
  fs::create_symlink(dir / "vocab.txt", dir / "m" / "link.txt");
  rewrite("link.txt");
  EXPECT_THROW_WITH(brine::from_pretrained<Tokenized>(dir / "m", {}, registry()),
                    brine::FormatError, "leads outside the bundle through a symlink");
}
