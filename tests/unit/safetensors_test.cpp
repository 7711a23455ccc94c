// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// safetensors_test.cpp: safetensors files and sharded checkpoint folders written and read
// back (every dtype, metadata, shared tensors, zero-size tensors, mapped loads), the byte
// layout the reference writer produces, a file the reference implementation wrote, and
// numpy reading what brine wrote.

#include <brine/safetensors.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using brine::DType;
using brine::StateDict;
using brine::Tensor;

// A tensor of `dtype` and `shape` whose bytes are a pattern depending on `seed`.
Tensor patterned(DType dtype, std::vector<std::int64_t> shape, unsigned seed) {
  Tensor t(dtype, std::move(shape));
  std::byte* p = t.mutable_bytes();
  for (std::size_t i = 0; i < t.nbytes(); ++i)
    p[i] = static_cast<std::byte>((i * 31 + seed * 7 + 1) & 0xFF);
  if (dtype == DType::boolean)
    for (std::size_t i = 0; i < t.nbytes(); ++i) p[i] = static_cast<std::byte>(i % 2);
  return t;
}

std::string file_bytes(const fs::path& path) { return brine::read_file(path); }

std::uint64_t header_length(const std::string& bytes) {
  std::uint64_t n = 0;
  for (int i = 0; i < 8; ++i)
    n |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  return n;
}

// Same names with equal tensors, whatever the order.
void expect_same_tensors(const StateDict& expected, const StateDict& actual) {
  EXPECT_EQ(expected.size(), actual.size());
  for (const auto& [name, tensor] : expected) {
    const Tensor* got = actual.find(name);
    ASSERT_NE(got, nullptr) << name;
    EXPECT_EQ(*got, tensor) << name;
  }
}

TEST(Safetensors, EveryDTypeRoundTripsMapped) {
  brine_test::TempDir dir;
  StateDict dict;
  for (std::uint8_t i = 0; i < brine::kDTypeCount; ++i) {
    auto d = static_cast<DType>(i);
    dict.insert(std::string("t_") + brine::dtype_name(d), patterned(d, {3, 5}, i));
  }
  dict.insert("scalar", patterned(DType::float64, {}, 99));
  dict.metadata = {{"format", "pt"}, {"note", "é ünïcode \"quoted\""}};
  brine::save_safetensors(dir / "a.safetensors", dict);
  StateDict loaded = brine::load_safetensors(dir / "a.safetensors");
  expect_same_tensors(dict, loaded);
  EXPECT_EQ(loaded.metadata, dict.metadata);
  const void* storage = nullptr;
  for (const auto& [name, t] : loaded) {
    EXPECT_TRUE(t.is_mapped()) << name;
    EXPECT_FALSE(t.is_writable()) << name;
    if (storage == nullptr) storage = t.storage_id();
    EXPECT_EQ(t.storage_id(), storage) << name << ": every tensor views the one mapping";
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.bytes()) % brine::dtype_size(t.dtype()), 0u)
        << name << " is aligned to its element";
  }
  // The tensors keep the mapping alive without the dict.
  Tensor kept = loaded.at("t_float32");
  loaded = StateDict();
  EXPECT_EQ(kept, dict.at("t_float32"));
}

TEST(Safetensors, LayoutIsTheReferenceWritersLayout) {
  StateDict dict;
  dict.insert("b", Tensor::from_vector(std::vector<float>{1, 2}));
  dict.insert("a", Tensor::from_vector(std::vector<float>{3}));
  dict.insert("u", Tensor::from_vector(std::vector<std::uint8_t>{7, 8, 9}));
  dict.insert("w", Tensor::from_vector(std::vector<std::int64_t>{5}));
  dict.metadata = {{"format", "pt"}};
  brine::Buffer out;
  brine::BufferSink sink(out);
  brine::write_safetensors(sink, dict);
  std::string bytes(out.view());
  std::uint64_t n = header_length(bytes);
  EXPECT_EQ((8 + n) % 8, 0u) << "the data region starts 8-aligned";
  std::string header = bytes.substr(8, n);
  // Widest dtype first, then names in byte order; __metadata__ first; spaces pad.
  std::string expected =
      "{\"__metadata__\":{\"format\":\"pt\"},"
      "\"w\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]},"
      "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]},"
      "\"u\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[20,23]}}";
  ASSERT_GE(header.size(), expected.size());
  EXPECT_EQ(header.substr(0, expected.size()), expected);
  EXPECT_EQ(header.find_first_not_of(' ', expected.size()), std::string::npos);
  EXPECT_LT(header.size() - expected.size(), 8u);
  EXPECT_EQ(bytes.size(), 8 + n + 23);
  float three = 3;
  EXPECT_EQ(std::memcmp(bytes.data() + 8 + n + 8, &three, 4), 0);
}

TEST(Safetensors, EmptyDictIsAnEightByteHeader) {
  brine::Buffer out;
  brine::BufferSink sink(out);
  brine::write_safetensors(sink, StateDict());
  std::string bytes(out.view());
  EXPECT_EQ(bytes.size(), 16u);
  EXPECT_EQ(header_length(bytes), 8u);
  EXPECT_EQ(bytes.substr(8), "{}      ");
  StateDict loaded = brine::load_safetensors(nullptr, bytes);
  EXPECT_TRUE(loaded.empty());
  EXPECT_TRUE(loaded.metadata.empty());
}

TEST(Safetensors, ZeroSizeTensorsRoundTripAndMayShareAnOffset) {
  brine_test::TempDir dir;
  StateDict dict;
  dict.insert("empty_a", Tensor(DType::float32, {0}));
  dict.insert("empty_b", Tensor(DType::float32, {4, 0, 3}));
  dict.insert("full", patterned(DType::float32, {2}, 1));
  dict.insert("empty_c", Tensor(DType::int8, {0}));
  brine::save_safetensors(dir / "z.safetensors", dict);
  StateDict loaded = brine::load_safetensors(dir / "z.safetensors");
  expect_same_tensors(dict, loaded);
  EXPECT_EQ(loaded.at("empty_b").shape(), (std::vector<std::int64_t>{4, 0, 3}));

  // Written by hand: two zero-size tensors at one offset, one at the very end.
  std::string header = R"({"e1":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},)"
                       R"("e2":{"dtype":"I64","shape":[0,5],"data_offsets":[0,0]},)"
                       R"("x":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                       R"("e3":{"dtype":"U8","shape":[0],"data_offsets":[2,2]}})";
  std::string file(8, '\0');
  file[0] = static_cast<char>(header.size());
  file += header + "ab";
  StateDict hand = brine::load_safetensors(nullptr, file);
  EXPECT_EQ(hand.size(), 4u);
  EXPECT_EQ(hand.at("e2").nbytes(), 0u);
  EXPECT_EQ(hand.at("x").nbytes(), 2u);
}

TEST(Safetensors, SharedTensorsAreSavedOnceAndRestoredShared) {
  brine_test::TempDir dir;
  StateDict dict;
  Tensor weight = patterned(DType::float32, {4, 4}, 3);
  dict.insert("lm_head.weight", weight);
  dict.insert("embed.weight", weight);  // tied: the same view under two names
  dict.insert("bias", patterned(DType::float32, {4}, 4));
  brine::save_safetensors(dir / "tied.safetensors", dict);

  std::string bytes = file_bytes(dir / "tied.safetensors");
  std::uint64_t n = header_length(bytes);
  EXPECT_EQ(bytes.size(), 8 + n + 16 * 4 + 4 * 4) << "the shared bytes are written once";
  // Recorded as Hugging Face's save_model records it: metadata[dropped] = kept, kept being
  // the first name in byte order.
  auto header = nlohmann::json::parse(bytes.substr(8, n));
  EXPECT_EQ(header["__metadata__"]["lm_head.weight"], "embed.weight");
  EXPECT_TRUE(header.contains("embed.weight"));
  EXPECT_FALSE(header.contains("lm_head.weight"));

  StateDict loaded = brine::load_safetensors(dir / "tied.safetensors");
  expect_same_tensors(dict, loaded);
  EXPECT_TRUE(loaded.metadata.empty()) << "the alias record became a tensor again";
  EXPECT_EQ(loaded.at("lm_head.weight").bytes(), loaded.at("embed.weight").bytes());

  brine::SafetensorsLoadOptions raw;
  raw.restore_aliases = false;
  StateDict as_written = brine::load_safetensors(dir / "tied.safetensors", raw);
  EXPECT_EQ(as_written.size(), 2u);
  EXPECT_EQ(as_written.metadata.at("lm_head.weight"), "embed.weight");
}

TEST(Safetensors, OverlappingViewsThatAreNotOneTensorAreRefused) {
  Tensor whole = patterned(DType::float32, {8}, 1);
  StateDict dict;
  dict.insert("whole", whole);
  dict.insert("part", whole.view_storage(DType::float32, {2}, 4));
  brine::Buffer out;
  brine::BufferSink sink(out);
  EXPECT_THROW_WITH(brine::write_safetensors(sink, dict), brine::FormatError, "overlap");
  // Disjoint views of one storage are fine: a mapped file is one storage.
  StateDict disjoint;
  disjoint.insert("lo", whole.view_storage(DType::float32, {4}, 0));
  disjoint.insert("hi", whole.view_storage(DType::float32, {4}, 16));
  brine::Buffer out2;
  brine::BufferSink sink2(out2);
  brine::write_safetensors(sink2, disjoint);
  StateDict loaded = brine::load_safetensors(nullptr, out2.view());  // out2 outlives it
  expect_same_tensors(disjoint, loaded);
}

TEST(Safetensors, LoadedFileSavesBackByteForByte) {
  brine_test::TempDir dir;
  StateDict dict;
  dict.insert("x", patterned(DType::bfloat16, {3, 3}, 1));
  dict.insert("y", patterned(DType::int32, {5}, 2));
  brine::save_safetensors(dir / "a.safetensors", dict);
  StateDict loaded = brine::load_safetensors(dir / "a.safetensors");
  brine::save_safetensors(dir / "b.safetensors", loaded);
  EXPECT_EQ(file_bytes(dir / "a.safetensors"), file_bytes(dir / "b.safetensors"));
}

TEST(Safetensors, ParseDescribesTheHeader) {
  StateDict dict;
  dict.insert("w", patterned(DType::float16, {2, 3}, 1));
  dict.metadata = {{"k", "v"}};
  brine::Buffer out;
  brine::BufferSink sink(out);
  brine::write_safetensors(sink, dict);
  brine::SafetensorsHeader h = brine::parse_safetensors(out.view());
  ASSERT_EQ(h.tensors.size(), 1u);
  EXPECT_EQ(h.tensors[0].name, "w");
  EXPECT_EQ(h.tensors[0].dtype, DType::float16);
  EXPECT_EQ(h.tensors[0].shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(h.tensors[0].begin, 0u);
  EXPECT_EQ(h.tensors[0].end, 12u);
  EXPECT_TRUE(h.has_metadata);
  EXPECT_EQ(h.metadata.at("k"), "v");
  EXPECT_EQ(h.data_bytes, 12u);
  EXPECT_EQ(h.data_offset() % 8, 0u);
}

TEST(Safetensors, FileWrittenByTheReferenceImplementationLoads) {
  fs::path path = fs::path(BRINE_SAFETENSORS_DATA_DIR) / "overall.safetensors";
  StateDict loaded = brine::load_safetensors(path);
  EXPECT_EQ(loaded.metadata, (std::map<std::string, std::string>{{"test", "a"}}));
  struct Expected {
    const char* name;
    DType dtype;
  };
  const Expected expected[] = {{"B", DType::uint8},   {"H", DType::uint16},  {"I", DType::uint32},
                               {"b", DType::int8},    {"d", DType::float64}, {"e", DType::float16},
                               {"f", DType::float32}, {"h", DType::int16},   {"i", DType::int32}};
  ASSERT_EQ(loaded.size(), std::size(expected));
  for (const Expected& e : expected) {
    const Tensor& t = loaded.at(e.name);
    EXPECT_EQ(t.dtype(), e.dtype) << e.name;
    EXPECT_EQ(t.shape(), (std::vector<std::int64_t>{6})) << e.name;
    EXPECT_TRUE(t.is_mapped());
    // range(-3, 3) in each dtype, little-endian; the data region is not aligned, so compare
    // through memcpy.
    for (int k = 0; k < 6; ++k) {
      long long value = k - 3;
      const std::byte* p = t.bytes() + k * brine::dtype_size(e.dtype);
      long long got = 0;
      switch (e.dtype) {
        case DType::float64: {
          double v;
          std::memcpy(&v, p, 8);
          got = static_cast<long long>(v);
          break;
        }
        case DType::float32: {
          float v;
          std::memcpy(&v, p, 4);
          got = static_cast<long long>(v);
          break;
        }
        case DType::float16: {
          std::uint16_t v;
          std::memcpy(&v, p, 2);
          const std::uint16_t half[] = {0xC200, 0xC000, 0xBC00, 0x0000, 0x3C00, 0x4000};
          EXPECT_EQ(v, half[k]) << e.name << "[" << k << "]";
          got = value;
          break;
        }
        default: {
          std::size_t size = brine::dtype_size(e.dtype);
          unsigned long long raw = 0;
          std::memcpy(&raw, p, size);
          unsigned long long want = static_cast<unsigned long long>(value);
          if (size < 8) want &= (1ull << (8 * size)) - 1;
          EXPECT_EQ(raw, want) << e.name << "[" << k << "]";
          got = value;
        }
      }
      EXPECT_EQ(got, value) << e.name << "[" << k << "]";
    }
  }
}

// numpy and json alone, reading the file as the spec describes it, find what brine wrote.
TEST(Safetensors, NumpyReadsWhatBrineWrote) {
  // CI installs python3-numpy; without it this test fails rather than passing unchecked.
  ASSERT_STRNE(BRINE_NUMPY_PYTHON, "") << "no python3 with numpy (apt-get install python3-numpy)";
  brine_test::TempDir dir;
  StateDict dict;
  dict.insert("f32", Tensor::from_vector(std::vector<float>{1.5f, -2.0f, 3.25f, 0.0f}, {2, 2}));
  dict.insert("i64", Tensor::from_vector(std::vector<std::int64_t>{-1, 1LL << 40, 7}));
  dict.insert("u16", Tensor::from_vector(std::vector<std::uint16_t>{1, 65535}));
  dict.insert("f64", Tensor::from_vector(std::vector<double>{0.125}, {1, 1, 1}));
  dict.metadata = {{"format", "pt"}};
  brine::save_safetensors(dir / "x.safetensors", dict);
  std::ofstream(dir / "check.py") << R"(import json, struct, sys
import numpy as np
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
assert (8 + n) % 8 == 0
h = json.loads(b[8:8 + n].decode('utf-8'))
assert h.pop('__metadata__') == {'format': 'pt'}
kinds = {'F32': '<f4', 'I64': '<i8', 'U16': '<u2', 'F64': '<f8'}
out = {}
for name, e in h.items():
    s, t = e['data_offsets']
    a = np.frombuffer(b[8 + n + s:8 + n + t], dtype=kinds[e['dtype']]).reshape(e['shape'])
    out[name] = a
assert out['f32'].tolist() == [[1.5, -2.0], [3.25, 0.0]]
assert out['i64'].tolist() == [-1, 1 << 40, 7]
assert out['u16'].tolist() == [1, 65535]
assert out['f64'].shape == (1, 1, 1) and out['f64'][0, 0, 0] == 0.125
print('ok')
)";
  std::string command = std::string(BRINE_NUMPY_PYTHON) + " " + (dir / "check.py").string() + " " +
                        (dir / "x.safetensors").string();
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
}

// ---- sharded -------------------------------------------------------------------------------

TEST(ShardSize, ParsesHuggingFaceUnits) {
  EXPECT_EQ(brine::parse_shard_size("5GB"), 5'000'000'000u);
  EXPECT_EQ(brine::parse_shard_size("500MB"), 500'000'000u);
  EXPECT_EQ(brine::parse_shard_size("100kb"), 100'000u);
  EXPECT_EQ(brine::parse_shard_size("1GiB"), 1ull << 30);
  EXPECT_EQ(brine::parse_shard_size("10MiB"), 10ull << 20);
  EXPECT_EQ(brine::parse_shard_size("1.5GB"), 1'500'000'000u);
  EXPECT_EQ(brine::parse_shard_size("123"), 123u);
  EXPECT_EQ(brine::parse_shard_size("64 B"), 64u);
  for (const char* bad : {"", "GB", "5XB", "-1GB", "1.GB", "99999999999999999999", "20000000TB"})
    EXPECT_THROW(brine::parse_shard_size(bad), brine::FormatError) << bad;
}

StateDict sharding_dict() {
  StateDict dict;
  dict.insert("a", patterned(DType::float32, {10}, 1));   // 40 bytes
  dict.insert("b", patterned(DType::float32, {10}, 2));   // 40
  dict.insert("big", patterned(DType::uint8, {150}, 3));  // 150 > limit: own shard
  dict.insert("c", patterned(DType::float32, {5}, 4));    // 20
  dict.insert("d", patterned(DType::int64, {10}, 5));     // 80
  return dict;
}

TEST(Sharded, GreedyInKeyOrderWithHuggingFaceNamesAndIndex) {
  brine_test::TempDir dir;
  StateDict dict = sharding_dict();
  dict.metadata = {{"format", "pt"}};
  brine::ShardOptions options;
  options.max_shard_size = 100;
  brine::SavedStateDict saved = brine::save_state_dict(dir.path(), dict, options);
  // As Hugging Face splits: a + b = 80; big (150) is over the limit and becomes a shard at
  // once, before the open one; c fills the open shard to 100; d does not fit and opens the third.
  ASSERT_EQ(saved.shards.size(), 3u);
  EXPECT_EQ(saved.shards[0], "model-00001-of-00003.safetensors");
  EXPECT_EQ(saved.shards[2], "model-00003-of-00003.safetensors");
  EXPECT_EQ(saved.index, "model.safetensors.index.json");
  EXPECT_EQ(saved.total_size, 330u);
  auto index = nlohmann::json::parse(brine::read_file(dir / saved.index));
  EXPECT_EQ(index["metadata"]["total_size"], 330);
  EXPECT_EQ(index["weight_map"]["big"], "model-00001-of-00003.safetensors");
  EXPECT_EQ(index["weight_map"]["a"], "model-00002-of-00003.safetensors");
  EXPECT_EQ(index["weight_map"]["c"], "model-00002-of-00003.safetensors");
  EXPECT_EQ(index["weight_map"]["d"], "model-00003-of-00003.safetensors");
  StateDict one = brine::load_safetensors(dir / "model-00002-of-00003.safetensors");
  EXPECT_EQ(one.size(), 3u);
  EXPECT_EQ(one.metadata.at("format"), "pt");

  // Only the checkpoint's files are in the folder: no staged files, no commit record.
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir.path())) names.insert(e.path().filename());
  EXPECT_EQ(names, (std::set<std::string>{
                       "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                       "model-00003-of-00003.safetensors", "model.safetensors.index.json"}));

  for (const fs::path& p : {dir.path(), dir / "model.safetensors.index.json"}) {
    StateDict loaded = brine::load_state_dict(p);
    expect_same_tensors(dict, loaded);
    EXPECT_EQ(loaded.metadata.at("format"), "pt");
    for (const auto& [name, t] : loaded) EXPECT_TRUE(t.is_mapped()) << name;
  }
}

TEST(Sharded, OneShardIsOneFileWithoutIndexAndReplacesASharedCheckpoint) {
  brine_test::TempDir dir;
  brine::ShardOptions small;
  small.max_shard_size = 100;
  brine::save_state_dict(dir.path(), sharding_dict(), small);
  StateDict dict;
  dict.insert("only", patterned(DType::float16, {7}, 9));
  brine::SavedStateDict saved = brine::save_state_dict(dir.path(), dict);
  EXPECT_EQ(saved.shards, (std::vector<std::string>{"model.safetensors"}));
  EXPECT_TRUE(saved.index.empty());
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir.path())) names.insert(e.path().filename());
  EXPECT_EQ(names, (std::set<std::string>{"model.safetensors"}))
      << "the previous checkpoint's shards and index were removed";
  expect_same_tensors(dict, brine::load_state_dict(dir.path()));
  expect_same_tensors(dict, brine::load_state_dict(dir / "model.safetensors"));
}

TEST(Sharded, PrefixAndOtherFilesAreKept) {
  brine_test::TempDir dir;
  std::ofstream(dir / "config.json") << "{}";
  brine::ShardOptions options;
  options.prefix = "diffusion_pytorch_model";
  options.max_shard_size = brine::parse_shard_size("100B");
  brine::save_state_dict(dir.path(), sharding_dict(), options);
  EXPECT_TRUE(fs::exists(dir / "config.json"));
  EXPECT_TRUE(fs::exists(dir / "diffusion_pytorch_model.safetensors.index.json"));
  expect_same_tensors(sharding_dict(),
                      brine::load_state_dict(dir.path(), {}, "diffusion_pytorch_model"));
}

TEST(Sharded, TiedTensorsStayInTheShardOfTheirFirstName) {
  brine_test::TempDir dir;
  StateDict dict;
  Tensor shared = patterned(DType::float32, {10}, 1);
  dict.insert("embed", shared);
  dict.insert("x", patterned(DType::float32, {20}, 2));
  dict.insert("y", patterned(DType::float32, {20}, 3));
  dict.insert("head", shared);
  brine::ShardOptions options;
  options.max_shard_size = 100;
  brine::SavedStateDict saved = brine::save_state_dict(dir.path(), dict, options);
  EXPECT_EQ(saved.total_size, 40u + 80 + 80) << "the tied tensor counts once";
  auto index = nlohmann::json::parse(brine::read_file(dir / saved.index));
  EXPECT_EQ(index["weight_map"]["head"], index["weight_map"]["embed"]);
  StateDict loaded = brine::load_state_dict(dir.path());
  expect_same_tensors(dict, loaded);
  EXPECT_EQ(loaded.at("head").bytes(), loaded.at("embed").bytes()) << "restored as shared";
}

TEST(Sharded, SavesOverTheCheckpointItsTensorsAreMappedFrom) {
  brine_test::TempDir dir;
  brine::ShardOptions options;
  options.max_shard_size = 100;
  brine::save_state_dict(dir.path(), sharding_dict(), options);
  StateDict loaded = brine::load_state_dict(dir.path());
  // Same shard names, other bytes in one tensor: the mapped sources are replaced by rename,
  // never rewritten in place, so the mapped tensors stay what they were.
  loaded.insert_or_assign("c", patterned(DType::float32, {5}, 77));
  brine::save_state_dict(dir.path(), loaded, options);
  expect_same_tensors(loaded, brine::load_state_dict(dir.path()));
  EXPECT_EQ(loaded.at("a"), sharding_dict().at("a"));
}

TEST(Sharded, EmptyDictSavesAnEmptyFile) {
  brine_test::TempDir dir;
  brine::save_state_dict(dir.path(), StateDict());
  EXPECT_TRUE(brine::load_state_dict(dir.path()).empty());
}

TEST(Sharded, MissingCheckpointIsAnIoError) {
  brine_test::TempDir dir;
  EXPECT_THROW(brine::load_state_dict(dir.path()), brine::IoError);
}

}  // namespace
