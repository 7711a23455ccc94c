// brine — versioned object persistence for C++17.
// bench/adapters/checkpoint_manager.hpp: rows brine_manager of workload C (checkpoint):
// brine::CheckpointManager::save of the Checkpoint into a checkpoint directory (the lock, a
// step directory, the binary archive written through AtomicFileSink, the completion
// manifest, the fsyncs of both directories), and restore_latest (checks the manifest and
// the file's size, then loads it, block checksums verified). The row's path is the manager's
// directory, which the harness removes before each save. The background row,
// checkpoint/save/brine_manager_async, times only how long save() blocks: see
// bench_checkpoint_manager_async_save in brine_bench.cpp.
#pragma once

#include <brine/brine.hpp>
#include <brine/checkpoint.hpp>
#include <filesystem>
#include <string>

#include "../workloads/checkpoint.hpp"
#include "brine_hooks.hpp"

namespace brine_bench {

/// See adapters/README.md ("Checkpoint adapters") for the shape.
struct CheckpointBrineManager {
  static constexpr const char* name = "brine_manager";
  static constexpr bool has_save_row = true;
  using Source = Checkpoint;
  using Loaded = Checkpoint;
  static const Source& source(const CheckpointData& d) { return d.data; }

  // The step is the workload's; the directory is fresh, so it is always the first.
  static void save(const Checkpoint& c, const std::string& path) {
    brine::CheckpointManager manager(path);
    manager.save(static_cast<std::uint64_t>(c.config.step), c);
  }
  static void load(const std::string& path, Checkpoint& c) {
    brine::CheckpointManager manager(path);
    if (!manager.restore_latest(c)) throw std::runtime_error("no checkpoint in " + path);
  }

  static Fingerprint fingerprint(const Checkpoint& loaded, const CheckpointData&) {
    return canonical_fingerprint(loaded);
  }
  static void reset(Checkpoint& c) { c = Checkpoint{}; }
  static std::size_t archive_bytes(const std::string& path) {
    std::size_t total = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(path))
      if (entry.is_regular_file()) total += static_cast<std::size_t>(entry.file_size());
    return total;
  }
};

}  // namespace brine_bench
