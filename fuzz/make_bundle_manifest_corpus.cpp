// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// make_bundle_manifest_corpus.cpp: writes the seed corpus of fuzz_bundle_manifest into the
// directory named on the command line: the manifest of a bundle brine saves, the definition
// of a model folder brine pushes with the fuzzer's fixed weights ("w" f32 [2, 3], "b" i64
// [3]), and hand-written variants (typed references, nesting, a listed data file).
//   fuzz_bundle_manifest_corpus DIRECTORY

#include <brine/bundle.hpp>
#include <brine/hub.hpp>
#include <brine/tensor.hpp>
#include <brine/value.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIRECTORY\n", argv[0]);
    return 2;
  }
  const fs::path dir = argv[1];
  fs::create_directories(dir);
  const fs::path work = dir / ".work";
  fs::remove_all(work);

  std::vector<brine::Value> values;
  values.emplace_back(brine::Value::Map{{"a", brine::Value(1)}, {"b", brine::Value("x")}});
  values.emplace_back(brine::Value::List{brine::Value(2.5), brine::Value(nullptr)});
  brine::save_bundle_values(work / "bundle", values);
  fs::copy_file(work / "bundle" / "brine-bundle.json", dir / "manifest_saved.json");

  brine::Value::Map state;
  state["w"] = brine::Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
  state["b"] = brine::Tensor::from_vector(std::vector<std::int64_t>{7, 8, 9}, {3});
  brine::push_state_to_folder(work / "model", brine::Value(std::move(state)));
  fs::copy_file(work / "model" / "brine.json", dir / "definition_pushed.json");
  fs::remove_all(work);

  write(dir / "manifest_files.json",
        R"({"format": "brine-bundle", "format_version": 1, "brine_version": "0.1.0",
  "values": [{"kind": "object", "type": "demo.Model", "version": 2}],
  "files": [{"path": "data/0/weights.bin", "size": 12, "role": "data", "value": 0,
  "owner": "weights", "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}]})");
  write(dir / "definition_typed.json",
        R"({"format": "brine-model", "format_version": 1, "brine_version": "0.1.0",
  "value": {"layers": [{"$tensor_ref": "w", "dtype": "float32", "shape": [2, 3]}],
  "bias": {"$tensor_ref": "b"}, "n": 3, "name": "tiny", "nested": [[{"k": [true, null]}]]}})");
  return 0;
}
