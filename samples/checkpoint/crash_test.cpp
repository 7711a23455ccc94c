// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// crash_test.cpp: SIGKILLs checkpoint_train at random moments, corrupts its newest checkpoint
// twice, and checks that the resumed run ends bit-identical to an uninterrupted one.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <brine/checkpoint.hpp>
#include <brine/io.hpp>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string exe;
  fs::path work;
  std::uint64_t steps = 2000;
  std::uint64_t every = 100;
  int rounds = 9;
  std::optional<std::uint64_t> seed;
};

/// Thrown on any mismatch; caught in main so that destructors kill jobs still running.
struct TestFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& why) { throw TestFailure(why); }

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// A checkpoint_train process whose stdout and stderr go to files.
class Job {
 public:
  Job(const Options& options, const fs::path& dir, const fs::path& log_stem,
      const std::optional<fs::path>& result = std::nullopt)
      : out_(log_stem.string() + ".out"), err_(log_stem.string() + ".err") {
    std::vector<std::string> args = {options.exe,
                                     "--dir",
                                     dir.string(),
                                     "--steps",
                                     std::to_string(options.steps),
                                     "--every",
                                     std::to_string(options.every)};
    if (result) args.insert(args.end(), {"--result", result->string()});
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    int out = ::open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int err = ::open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0 || err < 0) fail("cannot create log files next to " + log_stem.string());
    pid_ = ::fork();
    if (pid_ < 0) fail("fork failed");
    if (pid_ == 0) {
      // Only async-signal-safe calls between fork and exec.
      ::dup2(out, 1);
      ::dup2(err, 2);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(out);
    ::close(err);
  }
  ~Job() {
    if (running()) kill();
  }
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;

  bool running() {
    if (status_) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) status_ = status;
    return !status_;
  }
  /// Sleeps up to `d`, returning early if the job exits.
  void sleep_for(Clock::duration d) {
    auto until = Clock::now() + d;
    while (running() && Clock::now() < until)
      std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  void kill() {
    ::kill(pid_, SIGKILL);
    wait();
  }
  int wait() {
    if (!status_) {
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      status_ = status;
    }
    return *status_;
  }
  /// Fails the test unless the job exited by itself with status 0.
  void expect_success(const std::string& what) {
    int status = wait();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      fail(what + " did not exit cleanly (status " + std::to_string(status) + "); stderr:\n" +
           err());
  }
  std::string out() const { return slurp(out_); }
  std::string err() const { return slurp(err_); }

 private:
  fs::path out_, err_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

/// A complete checkpoint directory of brine::CheckpointManager (docs/format/checkpoint.md).
bool is_checkpoint(const fs::path& p) {
  std::error_code ec;
  return brine::parse_checkpoint_directory_name(p.filename().string()).has_value() &&
         fs::is_regular_file(p / brine::CheckpointManifest::kFileName, ec);
}

/// Complete checkpoints in `dir` (their directory names) with their manifests' modification
/// times: a new time is a new checkpoint.
std::map<std::string, fs::file_time_type> snapshot(const fs::path& dir) {
  std::map<std::string, fs::file_time_type> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!is_checkpoint(entry.path())) continue;
    auto time = fs::last_write_time(entry.path() / brine::CheckpointManifest::kFileName, ec);
    if (!ec) files[entry.path().filename().string()] = time;
  }
  return files;
}

/// Whether a save is in progress or was interrupted: a temporary file anywhere under `dir`.
bool has_temp_file(const fs::path& dir, std::string* name = nullptr) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (brine::is_temp_file_name(it->path().filename().string())) {
      if (name) *name = it->path().string();
      return true;
    }
  }
  return false;
}

/// Damages the newest checkpoint the way a crash or a bad disk might: truncation or one
/// flipped byte of its data file. Returns its directory name. Names sort by step.
std::string corrupt_newest(const fs::path& dir, bool truncate) {
  auto files = snapshot(dir);
  if (files.empty()) fail("no checkpoint to corrupt in " + dir.string());
  fs::path path = dir / files.rbegin()->first / "values.brine";
  auto size = fs::file_size(path);
  if (truncate) {
    fs::resize_file(path, size / 2);
  } else {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(size / 2));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x20);
    f.seekp(static_cast<std::streamoff>(size / 2));
    f.write(&c, 1);
    if (!f) fail("cannot flip a byte of " + path.string());
  }
  return files.rbegin()->first;
}

std::string digest_of(const std::string& out) {
  auto at = out.rfind("digest ");
  if (at == std::string::npos) return {};
  return out.substr(at + 7, out.find('\n', at) - at - 7);
}

std::uint64_t parse_number(const char* flag, const char* text) {
  char* end = nullptr;
  unsigned long long n = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0') {
    std::cerr << "crash_test: bad number for " << flag << ": " << text << '\n';
    std::exit(2);
  }
  return n;
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--exe")
      o.exe = value;
    else if (flag == "--work")
      o.work = value;
    else if (flag == "--steps")
      o.steps = parse_number("--steps", value);
    else if (flag == "--every")
      o.every = parse_number("--every", value);
    else if (flag == "--rounds")
      o.rounds = static_cast<int>(parse_number("--rounds", value));
    else if (flag == "--seed")
      o.seed = parse_number("--seed", value);
    else
      argc = -1;
  }
  if (argc < 0 || argc % 2 == 0 || o.exe.empty() || o.work.empty() || o.every == 0 ||
      o.steps < 4 * o.every) {
    std::cerr << "usage: checkpoint_crash_test --exe CHECKPOINT_TRAIN --work DIR [--steps N]\n"
                 "       [--every K] [--rounds R] [--seed S]   (N >= 4K)\n";
    std::exit(2);
  }
  return o;
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

int run(const Options& options) {
  const std::uint64_t seed = options.seed ? *options.seed : std::random_device{}();
  std::mt19937_64 random(seed);
  std::cout << "crash test: seed " << seed << " (repeat with --seed " << seed << ")\n";
  const auto test_start = Clock::now();

  std::error_code ec;
  fs::remove_all(options.work, ec);
  fs::create_directories(options.work);
  const fs::path ref_dir = options.work / "reference", crash_dir = options.work / "crashed";
  const fs::path ref_result = options.work / "reference.brine";
  const fs::path crash_result = options.work / "crashed.brine";

  // The reference: one uninterrupted run. Its duration scales the kill delays, so the test
  // adapts to slow builds (sanitizers, loaded machines) instead of assuming a speed.
  auto start = Clock::now();
  Job reference(options, ref_dir, options.work / "reference", ref_result);
  reference.expect_success("the uninterrupted run");
  const auto full_run = Clock::now() - start;
  const auto per_checkpoint = full_run / static_cast<Clock::rep>(options.steps / options.every);
  std::cout << "uninterrupted run: " << seconds(full_run) << " s, " << digest_of(reference.out())
            << '\n';

  // Kill rounds, three kinds in turn. (0) Wait until the job writes a new checkpoint, then kill
  // it before its next one: kills land mid-run with checkpoints on disk, so resuming is
  // exercised. (1) Kill at a random moment, start-up included. (2) Kill the moment a save's
  // temporary file shows up: an interrupted save must neither damage the checkpoints nor
  // leave litter behind. Before rounds 3 and 6 (kind 0, which is sure to get past start-up) the
  // newest checkpoint is damaged, and the job must report it and fall back to the previous one.
  fs::create_directories(crash_dir);
  int kills = 0, kills_after_checkpoint = 0, kills_in_save = 0, corrupt_skipped = 0;
  for (int round = 0; round < options.rounds; ++round) {
    std::string corrupted;
    if (round == 3 || round == 6) corrupted = corrupt_newest(crash_dir, round == 3);
    const auto before = snapshot(crash_dir);
    Job job(options, crash_dir, options.work / ("round-" + std::to_string(round)));
    const auto deadline = Clock::now() + 3 * full_run + std::chrono::seconds(5);
    bool saw_checkpoint = false, saw_save = false;
    switch (round % 3) {
      case 0: {
        while (job.running() && !saw_checkpoint && Clock::now() < deadline) {
          for (const auto& [name, time] : snapshot(crash_dir)) {
            auto it = before.find(name);
            if (it == before.end() || it->second != time) saw_checkpoint = true;
          }
          if (!saw_checkpoint) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        if (!saw_checkpoint && job.running())
          fail("round " + std::to_string(round) + ": no checkpoint written in time");
        std::uniform_int_distribution<Clock::rep> delay(0, per_checkpoint.count());
        job.sleep_for(Clock::duration(delay(random)));
        break;
      }
      case 1: {
        std::uniform_int_distribution<Clock::rep> delay(0, full_run.count() / 2);
        job.sleep_for(Clock::duration(delay(random)));
        break;
      }
      default:
        // Best effort: a save is short, and a poll may miss it; the job is killed either way.
        while (job.running() && !saw_save && Clock::now() < deadline) {
          saw_save = has_temp_file(crash_dir);
          if (!saw_save) std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
        break;
    }
    const bool finished = !job.running();
    if (!finished) {
      job.kill();
      ++kills;
      kills_after_checkpoint += saw_checkpoint;
      kills_in_save += saw_save;
    } else {
      job.expect_success("round " + std::to_string(round));
    }
    if (!corrupted.empty()) {
      std::string err = job.err();
      if (err.find("skipping invalid checkpoint") == std::string::npos ||
          err.find(corrupted) == std::string::npos)
        fail("round " + std::to_string(round) + " did not report the damaged " + corrupted +
             "; stderr:\n" + err);
      ++corrupt_skipped;
    }
    std::cout << "round " << round << ": " << (finished ? "finished before the kill" : "killed")
              << (saw_checkpoint ? " after a new checkpoint" : "")
              << (saw_save ? " during a save" : "")
              << (corrupted.empty() ? "" : ", after damaging " + corrupted) << '\n';
    if (finished) break;
  }

  Job final_run(options, crash_dir, options.work / "final", crash_result);
  final_run.expect_success("the final run");
  const std::string final_out = final_run.out();
  if (final_out.find("resuming from") == std::string::npos)
    fail("the final run did not resume from a checkpoint; stdout:\n" + final_out);

  const std::string a = slurp(ref_result), b = slurp(crash_result);
  if (a.empty() || a != b) {
    auto diff = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
    fail("results differ: " + ref_result.string() + " (" + std::to_string(a.size()) + " bytes, " +
         digest_of(reference.out()) + ") vs " + crash_result.string() + " (" +
         std::to_string(b.size()) + " bytes, " + digest_of(final_out) +
         "), first difference at byte " + std::to_string(diff.first - a.begin()));
  }
  if (digest_of(reference.out()) != digest_of(final_out)) fail("digests differ");

  int checkpoints = 0;
  for (const auto& entry : fs::directory_iterator(crash_dir)) {
    std::string name = entry.path().filename().string();
    if (is_checkpoint(entry.path()))
      ++checkpoints;
    else if (brine::parse_checkpoint_directory_name(name))
      fail("incomplete checkpoint left behind: " + name);
  }
  std::string temp;
  if (has_temp_file(crash_dir, &temp)) fail("temporary file left behind: " + temp);
  if (checkpoints > 3) fail(std::to_string(checkpoints) + " checkpoints kept, expected at most 3");

  std::cout << "crash test passed: " << kills << " kills (" << kills_after_checkpoint
            << " after a new checkpoint, " << kills_in_save << " during a save), "
            << corrupt_skipped << " damaged checkpoints skipped, result bit-identical (digest "
            << digest_of(final_out) << "), " << seconds(Clock::now() - test_start) << " s\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  try {
    return run(options);
  } catch (const std::exception& e) {
    std::cerr << "crash test FAILED: " << e.what() << '\n';
    return 1;
  }
}
