// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// checkpoint_golden_test.cpp: the checkpoint directories make_golden_checkpoint wrote once in
// layout version 1 (tests/golden/checkpoint/v1) verify and restore with today's code, forever.
// The manager takes a lock and cleans up in its directory, so it works on a copy: the source
// tree is only read.

#include <brine/brine.hpp>
#include <brine/checkpoint.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;

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

const fs::path kGolden = fs::path(BRINE_GOLDEN_DIR) / "checkpoint" / "v1";

void expect_trainer_at(const Trainer& t, std::uint64_t step) {
  EXPECT_EQ(t.step, step);
  ASSERT_EQ(t.weights.size(), 8u);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(t.weights[i], static_cast<float>(step) + 0.25f * i);
  EXPECT_EQ(t.optimizer, "sgd");
}

/// A copy of golden folder `name` that a manager may lock and clean.
fs::path copy_of(const brine_test::TempDir& tmp, const std::string& name) {
  fs::copy(kGolden / name, tmp / name, fs::copy_options::recursive);
  return tmp / name;
}

TEST(CheckpointGolden, EveryCheckpointVerifies) {
  std::size_t checkpoints = 0;
  for (const char* name : {"binary", "stable", "safetensors"}) {
    for (std::uint64_t step : brine::list_complete_checkpoints(kGolden / name)) {
      brine::CheckpointManifest m =
          brine::verify_checkpoint(kGolden / name / brine::checkpoint_directory_name(step));
      EXPECT_EQ(m.format_version, 1u);
      EXPECT_EQ(m.step, step);
      EXPECT_EQ(brine::checkpoint_encoding_name(m.encoding), std::string(name));
      ++checkpoints;
    }
  }
  EXPECT_EQ(checkpoints, 5u);  // a lost checkpoint fails here
}

TEST(CheckpointGolden, BinaryAndStableRestore) {
  brine_test::TempDir tmp;
  for (const char* name : {"binary", "stable"}) {
    SCOPED_TRACE(name);
    brine::CheckpointManager manager(copy_of(tmp, name));
    EXPECT_EQ(manager.steps(), (std::vector<std::uint64_t>{20, 30}));
    Trainer t;
    std::string tag;
    ASSERT_EQ(manager.restore_latest(t, tag), 30u);
    expect_trainer_at(t, 30);
    EXPECT_EQ(tag, "tag 30");
    ASSERT_TRUE(manager.restore(20, t, tag));
    expect_trainer_at(t, 20);
    EXPECT_EQ(tag, "tag 20");
  }
}

TEST(CheckpointGolden, SafetensorsRestores) {
  brine_test::TempDir tmp;
  brine::CheckpointManager manager(copy_of(tmp, "safetensors"));
  brine::StateDict dict;
  ASSERT_EQ(manager.restore_latest(dict), 7u);
  ASSERT_TRUE(dict.contains("w"));
  EXPECT_EQ(dict.at("w").shape(), (std::vector<std::int64_t>{2, 3}));
  const auto* values = reinterpret_cast<const float*>(dict.at("w").bytes());
  for (int i = 0; i < 6; ++i) EXPECT_EQ(values[i], static_cast<float>(i + 1));
  EXPECT_EQ(dict.metadata.at("step"), "7");
}

}  // namespace
