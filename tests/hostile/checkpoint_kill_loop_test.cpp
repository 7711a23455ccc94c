// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// checkpoint_kill_loop_test.cpp: a job saving checkpoints of several MB through
// CheckpointManager, synchronously and in the background in turn, is killed with SIGKILL at
// a random system call, over and over (at least 100 kills). After each kill, restore_latest()
// must return a whole checkpoint no older than the last one the job was told is durable (a
// save() that returned, or a wait() that returned after it), with the content of its step,
// and no acknowledged checkpoint that retention keeps may be missing. Prints one line:
//   kills=N lost=M restore_ms=T      (T: the slowest restore_latest() after a kill, in ms)
// BRINE_KILL_LOOP_KILLS=N asks for a longer run.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <brine/checkpoint.hpp>
#include <brine/types/sequence.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "traced_child.hpp"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Payload {
  BRINE_TYPE("kill_loop.Payload", 1);
  std::uint64_t step = 0;
  std::vector<std::uint64_t> words;
  template <class A>
  void getstate(A& ar) const {
    ar("step", step)("words", words);
  }
  template <class A>
  void setstate(A& ar) {
    ar("step", step)("words", words);
  }
};
BRINE_REGISTER(Payload);

constexpr std::size_t kWords = std::size_t{512} << 10;  // 4 MiB a checkpoint
constexpr std::size_t kKeepLast = 3;
constexpr std::uint64_t kKeepEvery = 25;
constexpr int kSavesPerRun = 5;

std::uint64_t word(std::uint64_t step, std::size_t i) {
  std::uint64_t x = step * 0x9E3779B97F4A7C15ull + i;
  x ^= x >> 31;
  return x * 0xBF58476D1CE4E5B9ull;
}

Payload payload_of(std::uint64_t step) {
  Payload p;
  p.step = step;
  p.words.resize(kWords);
  for (std::size_t i = 0; i < kWords; ++i) p.words[i] = word(step, i);
  return p;
}

bool holds_step(const Payload& p, std::uint64_t step) {
  if (p.step != step || p.words.size() != kWords) return false;
  for (std::size_t i = 0; i < kWords; ++i)
    if (p.words[i] != word(step, i)) return false;
  return true;
}

brine::CheckpointOptions options_for(bool async) {
  brine::CheckpointOptions options;
  options.keep_last = kKeepLast;
  options.keep_every = kKeepEvery;
  options.async = async;
  options.max_pending_saves = 2;
  return options;
}

/// The job: resumes from the newest checkpoint and saves kSavesPerRun more, writing each step
/// to `ack_fd` once it is durable (after save() when synchronous, after wait() when not).
void run_job(const fs::path& dir, bool async, int ack_fd) {
  brine::CheckpointManager manager(dir, options_for(async));
  Payload p;
  std::uint64_t step = manager.restore_latest(p).value_or(0);
  auto ack = [&](std::uint64_t s) {
    if (::write(ack_fd, &s, sizeof s) != static_cast<ssize_t>(sizeof s)) std::abort();
  };
  std::vector<std::uint64_t> unacknowledged;
  for (int i = 0; i < kSavesPerRun; ++i) {
    ++step;
    manager.save(step, payload_of(step));
    if (!async) {
      ack(step);
      continue;
    }
    unacknowledged.push_back(step);
    if (i % 2 == 1) {
      manager.wait();
      for (std::uint64_t s : unacknowledged) ack(s);
      unacknowledged.clear();
    }
  }
  manager.wait();
  for (std::uint64_t s : unacknowledged) ack(s);
}

std::vector<std::uint64_t> drain(int fd) {
  std::vector<std::uint64_t> steps;
  std::uint64_t s = 0;
  while (::read(fd, &s, sizeof s) == static_cast<ssize_t>(sizeof s)) steps.push_back(s);
  return steps;
}

TEST(Checkpoint, kill_loop) {
  std::uint64_t wanted = 100;
  if (const char* env = std::getenv("BRINE_KILL_LOOP_KILLS"))
    wanted = std::strtoull(env, nullptr, 10);
  brine_test::TempDir tmp;
  const fs::path dir = tmp / "job";
  int ack[2];
  ASSERT_EQ(::pipe2(ack, O_NONBLOCK | O_CLOEXEC), 0);

  // A whole run in each mode first: how many system calls there are to kill at.
  std::uint64_t stops[2] = {};
  std::set<std::uint64_t> acknowledged;  // durable, and not yet due for removal
  // The newest step ever acknowledged: retention may legitimately empty the set above (a
  // killed job's unacknowledged saves can be durable and newer), never this.
  std::uint64_t newest = 0;
  for (bool async : {false, true}) {
    stops[async] = brine_test::run_in_traced_child([&] { run_job(dir, async, ack[1]); }, 0);
    for (std::uint64_t s : drain(ack[0])) {
      acknowledged.insert(s);
      newest = std::max(newest, s);
    }
  }
  ASSERT_GT(stops[0], 10u);
  ASSERT_GT(stops[1], 10u);
  ASSERT_EQ(acknowledged.size(), 2u * kSavesPerRun);

  std::mt19937_64 rng(std::random_device{}());
  std::uint64_t kills = 0, lost = 0, runs = 0;
  double slowest_restore_ms = 0;
  while (kills < wanted) {
    bool async = (runs++ % 2) == 1;
    std::uint64_t kill_at = std::uniform_int_distribution<std::uint64_t>(1, stops[async])(rng);
    std::uint64_t made =
        brine_test::run_in_traced_child([&] { run_job(dir, async, ack[1]); }, kill_at);
    if (made == kill_at) ++kills;
    for (std::uint64_t s : drain(ack[0])) {
      acknowledged.insert(s);
      newest = std::max(newest, s);
    }
    if (::testing::Test::HasFailure()) break;

    std::vector<brine::SkippedCheckpoint> skipped;
    brine::CheckpointOptions options = options_for(false);
    options.on_skipped = [&](const brine::SkippedCheckpoint& s) { skipped.push_back(s); };
    brine::CheckpointManager manager(dir, options);
    Payload p;
    Clock::time_point start = Clock::now();
    std::optional<std::uint64_t> restored = manager.restore_latest(p);
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    slowest_restore_ms = std::max(slowest_restore_ms, ms);

    for (const brine::SkippedCheckpoint& s : skipped) {
      ++lost;
      ADD_FAILURE() << "run " << runs << " (kill at " << kill_at << "): checkpoint " << s.step
                    << " did not verify: " << s.reason;
    }
    if (!restored || *restored < newest || !holds_step(p, *restored)) {
      ++lost;
      ADD_FAILURE() << "run " << runs << " (kill at " << kill_at << "): restored "
                    << (restored ? std::to_string(*restored) : "nothing") << ", last acknowledged "
                    << newest;
    }
    // An acknowledged step may be missing only when retention removed it: kKeepLast newer
    // complete checkpoints exist and it is no milestone.
    std::vector<std::uint64_t> on_disk = manager.steps();
    for (auto it = acknowledged.begin(); it != acknowledged.end();) {
      std::uint64_t s = *it;
      if (std::binary_search(on_disk.begin(), on_disk.end(), s)) {
        ++it;
        continue;
      }
      auto newer = static_cast<std::size_t>(on_disk.end() -
                                            std::upper_bound(on_disk.begin(), on_disk.end(), s));
      if (newer < kKeepLast || s % kKeepEvery == 0) {
        ++lost;
        ADD_FAILURE() << "run " << runs << " (kill at " << kill_at << "): acknowledged step " << s
                      << " is gone";
      }
      it = acknowledged.erase(it);
    }
    // Every checkpoint kept must be whole, not only the newest.
    for (std::uint64_t s : on_disk) {
      Payload older;
      bool whole = false;
      try {
        whole = manager.restore(s, older) && holds_step(older, s);
      } catch (const brine::Error& e) {
        ADD_FAILURE() << "checkpoint " << s << ": " << e.what();
      }
      if (!whole) {
        ++lost;
        ADD_FAILURE() << "run " << runs << ": checkpoint " << s << " is listed but not whole";
      }
    }
    if (lost > 10) break;
  }
  ::close(ack[0]);
  ::close(ack[1]);
  std::printf("kills=%llu lost=%llu restore_ms=%.1f\n", static_cast<unsigned long long>(kills),
              static_cast<unsigned long long>(lost), slowest_restore_ms);
  EXPECT_GE(kills, wanted);
  EXPECT_EQ(lost, 0u);
}

}  // namespace
