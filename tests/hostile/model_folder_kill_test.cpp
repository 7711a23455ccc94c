// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// model_folder_kill_test.cpp: push_to_folder killed with SIGKILL at any moment leaves the
// folder's previous content or its new content, loadable. The child is traced (ptrace) and
// killed at its k-th system-call stop, for k spread over a whole push (every write, fsync,
// link, rename and unlink is a stop), as sharded_save_kill_test does for the weights alone.

#include <brine/hub.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "traced_child.hpp"

namespace {

namespace fs = std::filesystem;

// A state whose tensors and fields differ with `seed`, with `blocks` blocks (so that the two
// folders differ in structure and in weights files, sharded or not).
brine::Value model(int seed, int blocks) {
  brine::Object o;
  o.type = "kill.Model";
  o.version = 1;
  o.set("seed", brine::Value(std::int64_t{seed}));
  brine::Value::List list;
  for (int i = 0; i < blocks; ++i) {
    brine::Tensor t(brine::DType::float32, {16});
    for (float& v : t.mutable_values<float>()) v = static_cast<float>(seed * 1000 + i);
    list.emplace_back(t);
  }
  o.set("blocks", brine::Value(std::move(list)));
  return brine::Value(std::move(o));
}

// Pushes `state` into `folder` in a child traced by this process, which kills it at system
// call stop `kill_at` (0: never). Returns the number of stops the child made.
std::uint64_t push_in_traced_child(const fs::path& folder, const brine::Value& state,
                                   const brine::ModelFolderOptions& options,
                                   std::uint64_t kill_at) {
  return brine_test::run_in_traced_child(
      [&] { brine::push_state_to_folder(folder, state, options); }, kill_at);
}

TEST(ModelFolderPush, SigkillAtAnySyscallLeavesThePreviousOrTheNewFolder) {
  brine_test::TempDir dir;
  const fs::path folder = dir / "m";
  const brine::Value before = model(1, 3), after = model(2, 5);
  brine::ModelFolderOptions single, sharded;
  sharded.max_shard_size = 100;  // 64 bytes a block: a shard each, and an index
  brine::push_state_to_folder(folder, before, single);
  const std::uint64_t total = push_in_traced_child(folder, after, sharded, 0);
  ASSERT_GT(total, 20u);
  constexpr std::uint64_t kKills = 40;
  std::size_t saw_before = 0, saw_after = 0;
  for (std::uint64_t i = 1; i <= kKills; ++i) {
    const std::uint64_t kill_at = 1 + (total - 1) * i / (kKills + 1);
    brine::push_state_to_folder(folder, before, single);
    push_in_traced_child(folder, after, sharded, kill_at);
    brine::Value loaded;
    try {
      loaded = brine::load_pretrained_state(folder);
    } catch (const brine::Error& e) {
      ADD_FAILURE() << "after a kill at stop " << kill_at << " of " << total
                    << " the folder does not load: " << e.what();
      continue;
    }
    if (loaded == before)
      ++saw_before;
    else if (loaded == after)
      ++saw_after;
    else
      ADD_FAILURE() << "after a kill at stop " << kill_at << " the folder holds other data";
  }
  // Kills spread over the push meet both sides of its one swap.
  EXPECT_GT(saw_before, 0u);
  EXPECT_GT(saw_after, 0u);
  // A complete push after all that leaves one folder and nothing beside it.
  brine::push_state_to_folder(folder, after, sharded);
  EXPECT_EQ(brine::load_pretrained_state(folder), after);
  std::size_t entries = 0;
  for (const auto& item : fs::directory_iterator(dir.path())) {
    (void)item;
    ++entries;
  }
  EXPECT_EQ(entries, 1u);
}

}  // namespace
