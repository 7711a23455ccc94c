// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// make_golden_checkpoint.cpp: wrote tests/golden/checkpoint/v1 once (tests/golden/README.md):
// one checkpoint directory per encoding, as CheckpointManager writes them in layout version 1
// (docs/format/checkpoint.md). Never run it again over the committed folder: it is frozen.
//   cmake --build build --target make_golden_checkpoint
//   build/tests/make_golden_checkpoint /tmp/new-golden/checkpoint/v1

#include <brine/brine.hpp>
#include <brine/checkpoint.hpp>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace {

// The type as release 1 of the checkpoint layout knew it.
struct Trainer {
  BRINE_TYPE("golden.Trainer", 1);
  std::uint64_t step = 0;
  std::vector<float> weights;
  std::string optimizer;
  template <class A>
  void getstate(A& ar) const {
    ar("step", step)("weights", weights)("optimizer", optimizer);
  }
  template <class A>
  void setstate(A& ar) {
    ar("step", step)("weights", weights)("optimizer", optimizer);
  }
};
BRINE_REGISTER(Trainer);

Trainer trainer_at(std::uint64_t step) {
  Trainer t;
  t.step = step;
  for (int i = 0; i < 8; ++i) t.weights.push_back(static_cast<float>(step) + 0.25f * i);
  t.optimizer = "sgd";
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_golden_checkpoint <new folder>\n");
    return 2;
  }
  const std::filesystem::path root = argv[1];
  // binary and stable: steps 10, 20, 30 with keep_last 2 (so 20 and 30 stay), two values each.
  for (brine::CheckpointEncoding encoding :
       {brine::CheckpointEncoding::kBinary, brine::CheckpointEncoding::kStable}) {
    brine::CheckpointOptions options;
    options.encoding = encoding;
    options.keep_last = 2;
    brine::CheckpointManager manager(root / brine::checkpoint_encoding_name(encoding), options);
    for (std::uint64_t step : {10, 20, 30})
      manager.save(step, trainer_at(step), std::string("tag ") + std::to_string(step));
  }
  {
    brine::CheckpointOptions options;
    options.encoding = brine::CheckpointEncoding::kSafetensors;
    brine::CheckpointManager manager(root / "safetensors", options);
    brine::StateDict dict;
    dict.insert("w", brine::Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3}));
    dict.metadata["step"] = "7";
    manager.save(7, dict);
  }
  // The lock files name this machine and process: not part of what is frozen.
  for (const char* folder : {"binary", "stable", "safetensors"})
    std::filesystem::remove(root / folder / brine::CheckpointDirectoryLock::kFileName);
  return 0;
}
