// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// sharded_save_kill_test.cpp: a sharded save killed with SIGKILL at any moment leaves the
// folder holding either the whole previous checkpoint or the whole new one.
//
// The moment is chosen by system call, not by time: the writer runs under ptrace, the test
// counts its system-call stops and kills it at stop k, for k spread over a whole save (every
// write, fsync, rename and unlink is a stop). Nothing depends on timing: the same k kills at
// the same point on every machine, however loaded.

#include <brine/safetensors.hpp>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "traced_child.hpp"

namespace {

namespace fs = std::filesystem;
using brine::DType;
using brine::StateDict;
using brine::Tensor;

struct Checkpoint {
  StateDict dict;
  brine::ShardOptions options;
};

Tensor filled(std::size_t n, unsigned seed) {
  Tensor t(DType::uint8, {static_cast<std::int64_t>(n)});
  for (std::size_t i = 0; i < n; ++i)
    t.mutable_bytes()[i] = static_cast<std::byte>((i * 13 + seed * 101) & 0xFF);
  return t;
}

// Four checkpoints that replace each other: three shards; two shards; one file without
// index; three shards again, under the first one's file names with other bytes (the case
// where a saver that renames shard by shard would leave a mix).
std::vector<Checkpoint> checkpoints() {
  std::vector<Checkpoint> all(4);
  for (int i = 0; i < 6; ++i) all[0].dict.insert("layer." + std::to_string(i), filled(1000, i));
  all[0].options.max_shard_size = 2000;
  for (int i = 0; i < 4; ++i)
    all[1].dict.insert("layer." + std::to_string(i), filled(1000, 50 + i));
  all[1].dict.insert("head", filled(10, 60));
  all[1].options.max_shard_size = 2100;
  for (int i = 0; i < 3; ++i) all[2].dict.insert("w" + std::to_string(i), filled(700, 90 + i));
  for (int i = 0; i < 6; ++i)
    all[3].dict.insert("layer." + std::to_string(i), filled(1000, 20 + i));
  all[3].options.max_shard_size = 2000;
  return all;
}

bool same(const StateDict& a, const StateDict& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [name, t] : a) {
    const Tensor* other = b.find(name);
    if (other == nullptr || !(*other == t)) return false;
  }
  return true;
}

// Saves `c` into `dir` in a child traced by this process, which kills it at system-call stop
// `kill_at` (0: never). Returns the number of stops the child made.
std::uint64_t save_in_traced_child(const fs::path& dir, const Checkpoint& c,
                                   std::uint64_t kill_at) {
  return brine_test::run_in_traced_child([&] { brine::save_state_dict(dir, c.dict, c.options); },
                                         kill_at);
}

TEST(ShardedSave, SigkillAtAnySyscallLeavesThePreviousOrTheNewCheckpoint) {
  brine_test::TempDir dir;
  const std::vector<Checkpoint> all = checkpoints();
  brine::save_state_dict(dir.path(), all[0].dict, all[0].options);
  std::size_t current = 0;
  auto load = [&](std::uint64_t kill_at) {
    try {
      return brine::load_state_dict(dir.path());
    } catch (const brine::Error& e) {
      ADD_FAILURE() << "after a kill at stop " << kill_at
                    << " the folder does not load: " << e.what();
      return StateDict();
    }
  };

  // Every ordered pair of checkpoints, each killed at kKillsPerPair stops spread over the
  // whole save. The folder is not cleaned between kills of one pair: each save also meets
  // what the killed one before it left (staged shards, temporary files, a commit record).
  constexpr int kKillsPerPair = 12;
  int kills = 0, kept_old = 0, got_new = 0;
  for (std::size_t from = 0; from < all.size(); ++from) {
    for (std::size_t to = 0; to < all.size(); ++to) {
      if (to == from) continue;
      if (current != from) brine::save_state_dict(dir.path(), all[from].dict, all[from].options);
      // How many stops a whole save from `from` to `to` makes.
      std::uint64_t total = save_in_traced_child(dir.path(), all[to], 0);
      ASSERT_GT(total, 20u);
      ASSERT_TRUE(same(load(0), all[to].dict));
      current = to;
      for (int k = 0; k < kKillsPerPair; ++k) {
        if (current != from) {
          brine::save_state_dict(dir.path(), all[from].dict, all[from].options);
          current = from;
        }
        std::uint64_t kill_at = 1 + (total + 4) * static_cast<std::uint64_t>(k) / kKillsPerPair;
        save_in_traced_child(dir.path(), all[to], kill_at);
        ++kills;
        StateDict loaded = load(kill_at);
        if (same(loaded, all[from].dict)) {
          ++kept_old;
        } else if (same(loaded, all[to].dict)) {
          ++got_new;
          current = to;
        } else {
          ADD_FAILURE() << "after a kill at stop " << kill_at << " of " << total << " (" << from
                        << " -> " << to << ") the folder holds neither checkpoint";
          brine::save_state_dict(dir.path(), all[from].dict, all[from].options);
          current = from;
        }
      }
    }
  }
  std::printf("%d kills: %d left the previous checkpoint, %d the new one\n", kills, kept_old,
              got_new);
  // Both outcomes happened: the kills hit before and after the commit point.
  EXPECT_GT(kept_old, 0);
  EXPECT_GT(got_new, 0);

  // A save after all those kills finishes or discards what they left: only the
  // checkpoint's files remain.
  brine::save_state_dict(dir.path(), all[0].dict, all[0].options);
  EXPECT_TRUE(same(load(0), all[0].dict));
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir.path())) names.insert(e.path().filename());
  EXPECT_EQ(names, (std::set<std::string>{
                       "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                       "model-00003-of-00003.safetensors", "model.safetensors.index.json"}));
}

}  // namespace
