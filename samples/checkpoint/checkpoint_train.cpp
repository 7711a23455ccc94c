// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// checkpoint_train.cpp: trains sample::TrainingJob with a checkpoint every K steps, and resumes
// from the newest valid checkpoint after a crash.

#include <brine/brine.hpp>
#include <brine/checkpoint.hpp>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

#include "training.hpp"

BRINE_REGISTER(sample::TrainingJob);
BRINE_REGISTER(sample::Mlp);
BRINE_REGISTER(sample::SgdMomentum);
BRINE_REGISTER(sample::Xoshiro256);

namespace {

namespace fs = std::filesystem;

constexpr std::size_t kKeep = 3;  // checkpoints kept on disk

struct Options {
  fs::path dir;
  std::uint64_t steps = 2000;
  std::uint64_t every = 100;
  bool async = false;
  std::optional<fs::path> result;
};

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
  out << "usage: checkpoint_train --dir DIR [--steps N] [--every K] [--async] [--result FILE]\n"
      << "  trains for N steps (default 2000), saving a checkpoint in DIR every K steps\n"
      << "  (default 100; with --async, written in the background) and keeping the last " << kKeep
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
    if (flag == "--async") {
      options.async = true;
      continue;
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
  // The manager takes the directory's lock (a second job is refused), removes what a killed
  // save left, keeps the last kKeep checkpoints, and skips and quarantines a damaged one.
  brine::CheckpointOptions checkpoint_options;
  checkpoint_options.keep_last = kKeep;
  checkpoint_options.async = options.async;
  checkpoint_options.on_skipped = [](const brine::SkippedCheckpoint& skipped) {
    std::cerr << "skipping invalid checkpoint " << skipped.path.string() << ": " << skipped.reason
              << (skipped.quarantined.empty() ? std::string()
                                              : " (moved to " + skipped.quarantined.string() + ")")
              << '\n';
  };
  brine::CheckpointManager checkpoints(options.dir, checkpoint_options);

  const sample::Dataset data(sample::TrainingJob::kDataSeed);
  sample::TrainingJob job(data);
  // A checkpoint that decodes but holds another step than its name is not this job's.
  if (std::optional<std::uint64_t> step = checkpoints.restore_latest(job)) {
    if (job.step() != *step)
      throw std::runtime_error("checkpoint " + std::to_string(*step) + " holds step " +
                               std::to_string(job.step()));
    job.attach(data);
    std::printf("resuming from step %" PRIu64 " in %s\n", job.step(), options.dir.c_str());
  } else {
    std::printf("no valid checkpoint in %s: starting at step 0\n", options.dir.c_str());
  }
  if (job.step() > options.steps)
    std::printf("checkpoint is at step %" PRIu64 ", past --steps %" PRIu64 "\n", job.step(),
                options.steps);
  std::fflush(stdout);

  while (job.step() < options.steps) {
    job.train_step();
    if (job.step() % options.every == 0 || job.step() == options.steps) {
      checkpoints.save(job.step(), job);
      std::printf("step %6" PRIu64 "  mean loss %.4f  saved %s\n", job.step(),
                  job.mean_recent_loss(options.every),
                  brine::checkpoint_directory_name(job.step()).c_str());
      std::fflush(stdout);
    }
  }
  checkpoints.wait();  // with --async: the last save is durable before the result is written

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
