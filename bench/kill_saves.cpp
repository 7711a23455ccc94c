// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// kill_saves.cpp: the crash scenario of issue #9, as a measurement. Saves a large object
// again and again to one path, SIGKILLs each save at a random moment, then counts what the
// kills left next to the target, calls remove_stale_temp_files() on the directory, counts
// again, and loads the target. Prints one line per format:
//   kill_saves DIR [--mb 200] [--kills 30] [--format binary|stable|both] [--seed N]

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <brine/brine.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Weights {
  BRINE_TYPE("bench.Weights", 1);
  std::vector<double> values;
  template <class A>
  void getstate(A& ar) const {
    ar("values", values);
  }
  template <class A>
  void setstate(A& ar) {
    ar("values", values);
  }
};

void save(const std::string& format, const fs::path& path, const Weights& w) {
  if (format == "binary")
    brine::save_binary(path, w);
  else
    brine::save_stable(path, w);
}

struct Census {
  std::size_t files = 0;
  std::uintmax_t bytes = 0;
};

Census census(const fs::path& dir) {
  Census c;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    ++c.files;
    c.bytes += e.file_size();
  }
  return c;
}

int run(const fs::path& dir, const std::string& format, std::size_t mb, int kills,
        std::mt19937_64& rng) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path target = dir / ("weights." + format);
  Weights w;
  w.values.resize(mb * 1024 * 1024 / sizeof(double));
  for (std::size_t i = 0; i < w.values.size(); ++i) w.values[i] = static_cast<double>(i);

  // One uninterrupted save gives the target and the time a save takes.
  auto start = Clock::now();
  save(format, target, w);
  const auto save_time = Clock::now() - start;

  int killed_mid_save = 0;
  std::uniform_real_distribution<double> when(0.0, 1.2);
  for (int k = 0; k < kills; ++k) {
    pid_t pid = ::fork();
    if (pid < 0) {
      std::perror("fork");
      return 1;
    }
    if (pid == 0) {
      save(format, target, w);
      ::_exit(0);
    }
    std::this_thread::sleep_for(std::chrono::duration_cast<Clock::duration>(save_time * when(rng)));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) ++killed_mid_save;
  }
  const Census before = census(dir);
  const brine::RemovedTempFiles removed = brine::remove_stale_temp_files(dir);
  const Census after = census(dir);
  Weights loaded;
  if (format == "binary")
    loaded = brine::load_binary<Weights>(target);
  else
    loaded = brine::load_stable<Weights>(target);
  const bool intact = loaded.values == w.values;
  std::printf(
      "%-6s %zu MB, %d kills (%d mid-save, save %.2f s): before cleanup %zu files %.1f MB; "
      "removed %zu files %.1f MB; after %zu file(s) %.1f MB; target loads %s\n",
      format.c_str(), mb, kills, killed_mid_save, std::chrono::duration<double>(save_time).count(),
      before.files, before.bytes / 1e6, removed.count(), removed.bytes / 1e6, after.files,
      after.bytes / 1e6, intact ? "intact" : "CHANGED");
  return intact && after.files == 1 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: kill_saves DIR [--mb 200] [--kills 30] [--format binary|stable|both] "
                 "[--seed N]\n");
    return 2;
  }
  brine::default_registry().add<Weights>();
  fs::path dir = argv[1];
  std::size_t mb = 200;
  int kills = 30;
  std::string format = "both";
  std::uint64_t seed = std::random_device{}();
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--mb")
      mb = std::strtoull(argv[i + 1], nullptr, 10);
    else if (flag == "--kills")
      kills = std::atoi(argv[i + 1]);
    else if (flag == "--format")
      format = argv[i + 1];
    else if (flag == "--seed")
      seed = std::strtoull(argv[i + 1], nullptr, 10);
    else {
      std::fprintf(stderr, "kill_saves: unknown option '%s'\n", flag.c_str());
      return 2;
    }
  }
  std::mt19937_64 rng(seed);
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  int rc = 0;
  for (const char* f : {"binary", "stable"})
    if (format == "both" || format == f) rc |= run(dir / f, f, mb, kills, rng);
  return rc;
}
