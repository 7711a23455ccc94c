// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// mpi/manifest.hpp: the global manifest of a distributed checkpoint, and the names of the
// folders and files it governs (private). See docs/format/mpi-checkpoint.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "brine/checkpoint.hpp"
#include "brine/mpi/checkpoint.hpp"
#include "brine/tensor.hpp"

namespace brine::mpi::manifest {

inline constexpr const char* kFormatName = "brine-mpi-checkpoint";
inline constexpr std::int64_t kFormatVersion = 1;
/// The manifest's name is the single-process checkpoints' (docs/format/checkpoint.md), so
/// that each kind of directory holds only complete checkpoints in the other's eyes: neither
/// cleans up the other's as incomplete. The `format` key tells them apart.
inline constexpr const char* kManifestName = CheckpointManifest::kFileName;
/// The largest manifest read (§2): it is read whole and parsed into memory, so this bounds
/// what opening a checkpoint allocates. A million ranks' entries take about 100 MiB.
inline constexpr std::uint64_t kMaxManifestBytes = std::uint64_t{256} << 20;
/// The largest world size a manifest may claim: bounds what parsing one allocates.
inline constexpr std::int64_t kMaxWorldSize = std::int64_t{1} << 20;

// Keys inside a rank file (§3): a tensor slice, a replicated value, a per-rank value.
inline std::string tensor_key(std::string_view name) { return "t." + std::string(name); }
inline std::string replicated_key(std::string_view name) { return "r." + std::string(name); }
inline std::string local_key(std::string_view name) { return "l." + std::string(name); }

/// `step-0000000042` (§1), as the single-process checkpoints name theirs.
inline std::string step_folder_name(std::int64_t step) {
  return checkpoint_directory_name(static_cast<std::uint64_t>(step));
}
/// `rank-00003.safetensors`.
std::string rank_file_name(int rank);

struct FileEntry {
  std::string name;
  std::uint64_t size = 0;
  std::uint64_t xxh3 = 0;
};

struct Slice {
  int rank = 0;
  RowRange rows;
};

struct TensorEntry {
  DType dtype = DType::float32;
  std::vector<std::int64_t> shape;
  std::vector<Slice> slices;  ///< ordered by first row, covering the first dimension once
};

struct Manifest {
  std::int64_t step = 0;
  int world_size = 0;
  std::vector<FileEntry> files;  ///< indexed by rank
  std::map<std::string, TensorEntry, std::less<>> tensors;
  std::vector<std::string> replicated;  ///< sorted
  std::vector<std::string> local;       ///< sorted
};

/// The manifest as JSON text.
std::string to_json(const Manifest& manifest);
/// Parses and checks a manifest (every rule of §2). Throws FormatError (corrupt_data) naming
/// the rule broken, VersionError for a newer format version; `source` names the file.
Manifest parse(std::string_view json, const std::string& source);

/// Checks that every slice of `tensor` lies in its shape and that the slices, ordered,
/// cover the first dimension exactly once; returns the problem or an empty string.
std::string coverage_problem(const TensorEntry& tensor);

/// XXH3-64 of `bytes`, and its rendering as 16 lowercase hex digits.
std::uint64_t xxh3(const void* bytes, std::size_t n) noexcept;
std::string hex64(std::uint64_t value);

}  // namespace brine::mpi::manifest
