// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// store_save_kill_test.cpp: a process saving one store bundle over and over is killed with
// SIGKILL at random moments; after each kill the store loads a whole bundle, the previous one
// or a newer one, never a mix (the object, its data file and the manifest always agree).

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <brine/store.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using brine_test::TempDir;

struct Generation {
  BRINE_TYPE("kill_test.Generation", 1);
  std::uint64_t number = 0;
  std::vector<std::uint64_t> payload;
  brine::DataPath file;
  template <class A>
  void getstate(A& ar) const {
    ar("number", number)("payload", payload)("file", file);
  }
  template <class A>
  void setstate(A& ar) {
    ar("number", number)("payload", payload)("file", file);
  }
};
BRINE_REGISTER(Generation);

constexpr std::size_t kPayload = 4000;

std::string file_content(std::uint64_t n) {
  std::string s;
  for (int i = 0; i < 2000; ++i) s += std::to_string(n) + "\n";
  return s;
}

void save_generation(brine::Store& store, const fs::path& sources, std::uint64_t n) {
  fs::path src = sources / (std::to_string(n) + ".txt");
  std::ofstream(src, std::ios::binary) << file_content(n);
  Generation g;
  g.number = n;
  g.payload.assign(kPayload, n);
  g.file = brine::DataPath(src);
  store.save("run", g);
  fs::remove(src);
}

/// Loads "run" and checks that it is whole; returns its generation.
std::uint64_t load_whole(brine::Store& store) {
  auto values = store.load("run");
  EXPECT_EQ(values.size(), 1u);
  Generation& g = values.at(0).get<Generation>();
  EXPECT_EQ(g.payload.size(), kPayload);
  for (std::uint64_t x : g.payload)
    if (x != g.number) {
      ADD_FAILURE() << "payload of generation " << g.number << " holds " << x;
      break;
    }
  std::ifstream in(g.file.path(), std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, file_content(g.number)) << "data file of generation " << g.number;
  return g.number;
}

TEST(StoreSaveKill, EveryKillLeavesAWholeBundle) {
  TempDir tmp;
  brine::Store store(tmp / "store");
  fs::path sources = tmp / "sources";
  fs::create_directories(sources);

  auto start = std::chrono::steady_clock::now();
  save_generation(store, sources, 0);
  auto one_save = std::chrono::steady_clock::now() - start;
  std::uint64_t last = load_whole(store);

  // Kills spread over about three saves' time, so they land at every step of a save
  // (data files, archive, manifest, fsyncs, the swap, the removal of the old folder).
  auto window = std::chrono::duration_cast<std::chrono::microseconds>(one_save * 3).count() + 1000;
  std::mt19937 rng(20261203);
  std::uniform_int_distribution<long> delay(0, window);

  int kills = 0, previous = 0, newer = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(55);
  while (kills < 120 && std::chrono::steady_clock::now() < deadline) {
    std::uint64_t from = last;
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      try {
        brine::Store own(store.root());
        for (std::uint64_t n = from + 1;; ++n) save_generation(own, sources, n);
      } catch (...) {
        ::_exit(3);
      }
    }
    std::this_thread::sleep_for(std::chrono::microseconds(delay(rng)));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the saving child exited by itself: " << status;
    ++kills;
    std::uint64_t now = load_whole(store);
    if (::testing::Test::HasFailure()) {
      std::printf("failed after kill %d (previous generation %llu)\n", kills,
                  static_cast<unsigned long long>(from));
      return;
    }
    ASSERT_GE(now, from);
    if (now == from)
      ++previous;
    else
      ++newer;
    last = now;
  }
  std::size_t stale = store.remove_stale_temp_folders();
  std::printf("kills=%d previous=%d new=%d stale_folders_removed=%zu\n", kills, previous, newer,
              stale);
  for (auto& e : fs::directory_iterator(store.root()))
    EXPECT_EQ(e.path().filename(), "run") << "left behind: " << e.path();
  EXPECT_EQ(load_whole(store), last);
  EXPECT_GE(kills, 100);
  EXPECT_GT(newer, 0);
  EXPECT_EQ(store.list(), std::vector<std::string>{"run"});
}

}  // namespace
