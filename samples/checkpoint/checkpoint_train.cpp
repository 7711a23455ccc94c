// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// checkpoint_train.cpp: trains sample::TrainingJob with a checkpoint every K steps, and resumes
// from the newest valid checkpoint after a crash.

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <brine/brine.hpp>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "training.hpp"

BRINE_REGISTER(sample::TrainingJob);
BRINE_REGISTER(sample::Mlp);
BRINE_REGISTER(sample::SgdMomentum);
BRINE_REGISTER(sample::Xoshiro256);

namespace {

namespace fs = std::filesystem;

constexpr std::size_t kKeep = 3;  // checkpoints kept on disk
constexpr char kPrefix[] = "step-";
constexpr char kSuffix[] = ".brine";

struct Options {
  fs::path dir;
  std::uint64_t steps = 2000;
  std::uint64_t every = 100;
  std::optional<fs::path> result;
};

struct Checkpoint {
  std::uint64_t step;
  fs::path path;
};

std::string checkpoint_name(std::uint64_t step) {
  char name[48];
  std::snprintf(name, sizeof name, "%s%06" PRIu64 "%s", kPrefix, step, kSuffix);
  return name;
}

/// The step of a file named like checkpoint_name(), or nothing for any other name.
std::optional<std::uint64_t> parse_checkpoint_name(const std::string& name) {
  const std::size_t prefix = std::strlen(kPrefix), suffix = std::strlen(kSuffix);
  if (name.size() <= prefix + suffix || name.compare(0, prefix, kPrefix) != 0 ||
      name.compare(name.size() - suffix, suffix, kSuffix) != 0)
    return std::nullopt;
  std::string digits = name.substr(prefix, name.size() - prefix - suffix);
  if (digits.size() > 19 || digits.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return std::stoull(digits);
}

/// Checkpoints in `dir`, oldest first.
std::vector<Checkpoint> list_checkpoints(const fs::path& dir) {
  std::vector<Checkpoint> found;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    if (auto step = parse_checkpoint_name(entry.path().filename().string()))
      found.push_back({*step, entry.path()});
  }
  std::sort(found.begin(), found.end(),
            [](const Checkpoint& a, const Checkpoint& b) { return a.step < b.step; });
  return found;
}

/// Holds an exclusive flock on DIR/LOCK for the life of the process. Two jobs writing and
/// pruning one directory would delete each other's checkpoints. The kernel drops the lock
/// when the process dies, even by SIGKILL, so a crash never leaves a stale lock behind.
class DirectoryLock {
 public:
  explicit DirectoryLock(const fs::path& dir) {
    fs::path path = dir / "LOCK";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "open " + path.string());
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      ::close(fd_);
      if (err == EWOULDBLOCK) throw std::runtime_error("another job is running in " + dir.string());
      throw std::system_error(err, std::generic_category(), "flock " + path.string());
    }
  }
  ~DirectoryLock() { ::close(fd_); }
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

 private:
  int fd_ = -1;
};

/// Removes the temporary files of saves that a crash interrupted. save_binary writes to a
/// temporary next to the target and renames it; SIGKILL between the two leaves the temporary
/// behind, since no destructor runs, and a job killed again and again would fill its disk.
/// brine's cleanup removes only temporaries that no live process holds (each save keeps a lock
/// on its own), so it would be safe even without our directory lock.
void remove_interrupted_saves(const fs::path& dir) {
  brine::RemovedTempFiles removed = brine::remove_stale_temp_files(dir);
  for (const fs::path& path : removed.paths)
    std::cerr << "removed interrupted save " << path.string() << '\n';
  if (removed.count() != 0)
    std::cerr << "freed " << removed.bytes << " bytes of interrupted saves\n";
}

/// Loads the newest checkpoint that decodes, or nothing when there is none. A newest file that
/// is truncated or corrupt (a disk that lied about fsync, a copy cut short) is reported, moved
/// aside as *.corrupt so that pruning never prefers it over a good one, and the previous
/// checkpoint is tried. Only FormatError is skipped: a VersionError or SchemaError means the
/// file is fine but this build cannot read it, and quietly resuming from an older checkpoint
/// would throw the newer one's progress away; the caller stops instead.
std::optional<sample::TrainingJob> load_latest(const fs::path& dir, const sample::Dataset& data) {
  auto set_aside = [](const fs::path& path, const std::string& why) {
    fs::path aside = path;
    aside += ".corrupt";
    std::error_code ec;
    fs::rename(path, aside, ec);
    std::cerr << "skipping invalid checkpoint " << path.string() << ": " << why
              << (ec ? "" : " (moved to " + aside.filename().string() + ")") << '\n';
  };
  std::vector<Checkpoint> checkpoints = list_checkpoints(dir);
  for (auto it = checkpoints.rbegin(); it != checkpoints.rend(); ++it) {
    std::optional<sample::TrainingJob> job;
    try {
      job = brine::load_binary<sample::TrainingJob>(it->path);
    } catch (const brine::FormatError& e) {
      set_aside(it->path, e.what());
      continue;
    }
    if (job->step() != it->step) {
      set_aside(it->path, "it holds step " + std::to_string(job->step()));
      continue;
    }
    job->attach(data);
    std::printf("resuming from %s (step %" PRIu64 ")\n", it->path.c_str(), job->step());
    return job;
  }
  return std::nullopt;
}

/// Saves atomically, then prunes to the newest kKeep. Pruning comes after the new file is
/// durable, so a crash at any point leaves at least the checkpoints we had before.
void save_checkpoint(const fs::path& dir, const sample::TrainingJob& job) {
  fs::path path = dir / checkpoint_name(job.step());
  brine::save_binary(path, job);
  std::vector<Checkpoint> checkpoints = list_checkpoints(dir);
  for (std::size_t i = 0; i + kKeep < checkpoints.size(); ++i) {
    std::error_code ec;
    fs::remove(checkpoints[i].path, ec);
    if (ec)
      std::cerr << "cannot remove " << checkpoints[i].path.string() << ": " << ec.message() << '\n';
  }
}

/// FNV-1a of the parameters' bytes: equal digests mean bit-identical models.
std::uint64_t digest(const sample::Mlp& model) {
  std::uint64_t h = 0xCBF29CE484222325ull;
  auto mix = [&h](const void* bytes, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(bytes);
    for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001B3ull;
  };
  mix(model.w1.data(), model.w1.size() * sizeof(float));
  mix(model.b1.data(), model.b1.size() * sizeof(float));
  mix(model.w2.data(), model.w2.size() * sizeof(float));
  mix(&model.b2, sizeof model.b2);
  return h;
}

void print_usage(std::ostream& out) {
  out << "usage: checkpoint_train --dir DIR [--steps N] [--every K] [--result FILE]\n"
      << "  trains for N steps (default 2000), saving DIR/step-NNNNNN.brine every K steps\n"
      << "  (default 100) and keeping the last " << kKeep
      << "; resumes from the newest valid one\n";
}

[[noreturn]] void usage(const char* why) {
  std::cerr << "checkpoint_train: " << why << "\n";
  print_usage(std::cerr);
  std::exit(2);
}

std::uint64_t parse_count(const char* flag, const char* text) {
  char* end = nullptr;
  errno = 0;
  unsigned long long n = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || text[0] == '-')
    usage((std::string("bad number for ") + flag + ": '" + text + "'").c_str());
  return n;
}

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      // Asked for, help is the output and no error.
      std::cout << "checkpoint_train: trains a small model with checkpoints\n";
      print_usage(std::cout);
      std::exit(0);
    }
    if (i + 1 == argc) usage(("missing value after " + flag).c_str());
    const char* value = argv[++i];
    if (flag == "--dir")
      options.dir = value;
    else if (flag == "--steps")
      options.steps = parse_count("--steps", value);
    else if (flag == "--every")
      options.every = parse_count("--every", value);
    else if (flag == "--result")
      options.result = value;
    else
      usage(("unknown option " + flag).c_str());
  }
  if (options.dir.empty()) usage("--dir is required");
  if (options.every == 0) usage("--every must be at least 1");
  return options;
}

int run(const Options& options) {
  fs::create_directories(options.dir);
  DirectoryLock lock(options.dir);
  remove_interrupted_saves(options.dir);

  const sample::Dataset data(sample::TrainingJob::kDataSeed);
  std::optional<sample::TrainingJob> loaded = load_latest(options.dir, data);
  if (!loaded) std::printf("no valid checkpoint in %s: starting at step 0\n", options.dir.c_str());
  sample::TrainingJob job = loaded ? std::move(*loaded) : sample::TrainingJob(data);
  if (job.step() > options.steps)
    std::printf("checkpoint is at step %" PRIu64 ", past --steps %" PRIu64 "\n", job.step(),
                options.steps);
  std::fflush(stdout);

  while (job.step() < options.steps) {
    job.train_step();
    if (job.step() % options.every == 0 || job.step() == options.steps) {
      save_checkpoint(options.dir, job);
      std::printf("step %6" PRIu64 "  mean loss %.4f  saved %s\n", job.step(),
                  job.mean_recent_loss(options.every), checkpoint_name(job.step()).c_str());
      std::fflush(stdout);
    }
  }

  auto [loss, accuracy] = job.evaluate();
  if (options.result) brine::save_binary(*options.result, job);
  std::printf("final: step %" PRIu64 "  loss %.6f  accuracy %.4f  digest %016" PRIx64 "\n",
              job.step(), loss, accuracy, digest(job.model()));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse_options(argc, argv);
  try {
    return run(options);
  } catch (const std::exception& e) {
    std::cerr << "checkpoint_train: " << e.what() << '\n';
    return 1;
  }
}
