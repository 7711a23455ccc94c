// brine — versioned object persistence for C++17.
// bench/adapters/checkpoint_brine.hpp: brine's binary archive row of workload C
// (checkpoint), through brine's file entry points: save_binary (atomic: temporary file,
// fsync, rename, fsync of the directory) and load_binary (reads the file through a read-only
// map and copies each tensor into its std::vector<float>).
#pragma once

#include <brine/brine.hpp>
#include <string>

#include "../support/files.hpp"
#include "../workloads/checkpoint.hpp"
#include "brine_hooks.hpp"

namespace brine_bench {

/// See adapters/README.md ("Checkpoint adapters") for the shape.
struct CheckpointBrineBinary {
  static constexpr const char* name = "brine_binary";
  static constexpr bool has_save_row = true;
  using Source = Checkpoint;
  using Loaded = Checkpoint;
  static const Source& source(const CheckpointData& d) { return d.data; }

  // save_binary fsyncs the file itself (and its directory, after the rename): no fsync_path.
  static void save(const Checkpoint& c, const std::string& path) { brine::save_binary(path, c); }
  static void load(const std::string& path, Checkpoint& c) {
    c = brine::load_binary<Checkpoint>(path);
  }

  static Fingerprint fingerprint(const Checkpoint& loaded, const CheckpointData&) {
    return canonical_fingerprint(loaded);
  }
  static void reset(Checkpoint& c) { c = Checkpoint{}; }
  static std::size_t archive_bytes(const std::string& path) { return file_size(path); }
};

}  // namespace brine_bench
