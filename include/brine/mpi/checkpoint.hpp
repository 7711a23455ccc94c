// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// mpi/checkpoint.hpp: DistributedCheckpointer, checkpoints of a job of many MPI ranks: one
// file per rank, committed as a whole by a global manifest, restorable on another number of
// ranks. The component brine::mpi (built where MPI is found). See docs/mpi.md; the layout on
// disk is docs/format/mpi-checkpoint.md.
#pragma once

#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "brine/binary.hpp"
#include "brine/error.hpp"
#include "brine/io.hpp"
#include "brine/limits.hpp"
#include "brine/registry.hpp"
#include "brine/tensor.hpp"

namespace brine {
class CheckpointDirectoryLock;
}  // namespace brine

namespace brine::mpi {

/// Rows [begin, end) of a tensor's first dimension.
struct RowRange {
  std::int64_t begin = 0;
  std::int64_t end = 0;
  std::int64_t size() const noexcept { return end - begin; }
  friend bool operator==(const RowRange& a, const RowRange& b) noexcept {
    return a.begin == b.begin && a.end == b.end;
  }
};

/// The rows that rank `rank` of `world_size` owns when `rows` rows are split evenly: blocks
/// in rank order, the first `rows % world_size` ranks holding one row more. This is the
/// partition restore uses unless the caller asks for other rows. Throws InternalError on a
/// rank outside [0, world_size) or a negative row count.
RowRange even_rows(std::int64_t rows, int rank, int world_size);

/// One rank's part of a tensor distributed along its first dimension: the rows
/// [row_offset, row_offset + local.shape()[0]) of a tensor of `global_shape`. `local` has the
/// global shape's other dimensions and the tensor's dtype; it may hold no rows.
struct ShardedTensor {
  std::vector<std::int64_t> global_shape;
  std::int64_t row_offset = 0;
  Tensor local;

  /// The rows `local` holds.
  RowRange rows() const noexcept {
    std::int64_t n = local.shape().empty() ? 0 : local.shape()[0];
    return {row_offset, row_offset + n};
  }
};

/// What one rank contributes to a checkpoint: its slices of the distributed tensors, the
/// replicated values (every rank may add them; only rank 0's are written, once), and its own
/// objects (each rank's written in its own file). Objects are serialized by brine's binary
/// archive when added, so a Shard holds bytes, not references to the caller's objects.
/// Tensors are held as views: the caller must not modify their bytes until save() returns
/// (save_async() copies them).
class Shard {
 public:
  /// Adds this rank's slice of the distributed tensor `name`. Every rank of the job must
  /// add every distributed tensor, with one dtype and global shape, and the ranks' rows
  /// together must cover the first dimension exactly once; save() checks this and aborts the
  /// checkpoint on every rank otherwise.
  void add_tensor(std::string name, ShardedTensor tensor) {
    tensors_.push_back({std::move(name), std::move(tensor)});
  }
  /// Adds a value that every rank holds alike; only rank 0's copy is written.
  template <class T>
  void add_replicated(std::string name, const T& value, Registry& registry = default_registry()) {
    objects_.push_back({std::move(name), true, to_binary(value, registry)});
  }
  /// Adds this rank's own value `name`. Every rank must add the same names.
  template <class T>
  void add_local(std::string name, const T& value, Registry& registry = default_registry()) {
    objects_.push_back({std::move(name), false, to_binary(value, registry)});
  }

  struct NamedTensor {
    std::string name;
    ShardedTensor tensor;
  };
  struct Object {
    std::string name;
    bool replicated = false;
    Buffer bytes;  ///< a brine binary archive
  };
  const std::vector<NamedTensor>& tensors() const noexcept { return tensors_; }
  const std::vector<Object>& objects() const noexcept { return objects_; }

 private:
  std::vector<NamedTensor> tensors_;
  std::vector<Object> objects_;
};

/// Options of a DistributedCheckpointer.
struct CheckpointerOptions {
  /// How many of the newest complete checkpoints to keep; older ones are removed after each
  /// commit (except those kept by keep_every). 0 keeps every checkpoint. The default of 2
  /// keeps one to fall back on when the newest turns out damaged.
  std::size_t keep_last = 2;
  /// Also keep, forever, every checkpoint whose step is a multiple of keep_every (0: none).
  std::int64_t keep_every = 0;
  /// Verify each rank file's XXH3-64 checksum (recorded in the manifest) when a restore
  /// first reads it. Reading a file whole costs the time of reading it; the size is checked
  /// either way.
  bool verify_checksums = true;
  /// Limits applied to the objects restored (replicated and local values).
  LoadOptions load;
};

class Restored;

/// Saves and restores checkpoints of the ranks of `comm` in one directory on a file system
/// that every rank sees. Each checkpoint is a folder `step-<N>` holding one safetensors file
/// per rank and a manifest that rank 0 writes after every rank's file is durable; a folder
/// without a manifest is never restored.
///
/// Every member function except the accessors is collective: every rank of `comm` must call
/// it, in the same order, with the same step. MPI must be initialized (with at least
/// MPI_THREAD_FUNNELED for save_async, whose writer thread makes no MPI call) and stay so for
/// the checkpointer's lifetime, and the checkpointer must be destroyed before MPI_Finalize.
/// One job per directory: rank 0 holds its CheckpointDirectoryLock (brine/checkpoint.hpp)
/// from construction to destruction.
///
/// Example:
///   brine::mpi::DistributedCheckpointer ckpt(MPI_COMM_WORLD, "ckpt");
///   if (auto restored = ckpt.restore_latest()) {
///     weights = restored->tensor("weights");  // this rank's rows, even split (a ShardedTensor)
///     config = restored->replicated<Config>("config");
///   }
///   brine::mpi::Shard shard;
///   shard.add_tensor("weights", weights);
///   shard.add_replicated("config", config);
///   ckpt.save(step, shard);
class DistributedCheckpointer {
 public:
  /// Opens (creating it when missing) the checkpoint directory. Rank 0 takes the directory's
  /// lock and removes what saves killed before their commit left (step folders without a
  /// manifest). Throws IoError on every rank when rank 0 cannot (rank 0 itself
  /// CheckpointLockedError when another job holds the lock).
  DistributedCheckpointer(MPI_Comm comm, std::filesystem::path directory,
                          CheckpointerOptions options = {});
  /// Waits for a pending asynchronous write but cannot commit it (a commit is collective):
  /// call wait() first. An uncommitted checkpoint is removed by the next checkpointer.
  ~DistributedCheckpointer();
  DistributedCheckpointer(const DistributedCheckpointer&) = delete;
  DistributedCheckpointer& operator=(const DistributedCheckpointer&) = delete;

  /// Saves `shard` as this rank's part of checkpoint `step` (non-negative, after the newest
  /// complete checkpoint's, else FormatError unsupported_content) and commits the checkpoint:
  /// returns once it is durable and restorable, on every rank. If any rank fails (a write error, an
  /// inconsistent Shard), no rank commits: every rank throws (the failing rank its own exception,
  /// the others an Error of the same code naming the failing rank), the partial folder is removed
  /// and the previous checkpoint stays the newest. Commits a pending save_async() first.
  void save(std::int64_t step, const Shard& shard);
  /// Copies `shard` into memory and returns; a background thread writes and fsyncs this
  /// rank's file. The checkpoint is committed by the next wait(), save() or save_async() on
  /// every rank (MPI calls are made only from the calling thread); until then it is not
  /// restorable. At most one save is pending: memory is bounded by one copy of the shard.
  void save_async(std::int64_t step, const Shard& shard);
  /// Commits the pending asynchronous save, if any; throws as save().
  void wait();
  /// Whether a save_async() awaits its commit.
  bool pending() const noexcept { return pending_ != nullptr; }

  /// The steps of the complete checkpoints (folders with a manifest), oldest first, as rank 0
  /// sees them. A manifest is not checked here: restore_latest() passes over a damaged one.
  std::vector<std::int64_t> steps();
  /// The newest complete step, or nothing.
  std::optional<std::int64_t> latest_step();
  /// Opens the newest complete checkpoint (a folder whose manifest is valid and whose files
  /// have the recorded sizes), or nothing when there is none. Every rank opens the same one.
  /// Commits a pending save_async() first.
  std::optional<Restored> restore_latest();
  /// Opens checkpoint `step`. Throws IoError when it is not a complete checkpoint,
  /// FormatError when its manifest is invalid.
  Restored restore(std::int64_t step);

  const std::filesystem::path& directory() const noexcept { return directory_; }
  int rank() const noexcept { return rank_; }
  int world_size() const noexcept { return world_size_; }

 private:
  struct Pending;
  struct LocalResult;
  std::filesystem::path begin_step(std::int64_t step);
  void commit(std::int64_t step, const LocalResult& result);

  MPI_Comm comm_ = MPI_COMM_NULL;
  std::filesystem::path directory_;
  CheckpointerOptions options_;
  int rank_ = 0;
  int world_size_ = 1;
  std::unique_ptr<CheckpointDirectoryLock> lock_;  // rank 0 only
  std::shared_ptr<Pending> pending_;
};

/// A checkpoint opened for restoring on this rank. Reads are local (no MPI call): the rank
/// files are mapped and each tensor read copies only the rows asked for.
class Restored {
 public:
  std::int64_t step() const noexcept;
  /// The number of ranks that saved the checkpoint.
  int saved_world_size() const noexcept;
  /// This rank and the current number of ranks.
  int rank() const noexcept;
  int world_size() const noexcept;
  /// The distributed tensors' names, sorted.
  std::vector<std::string> tensor_names() const;
  bool has_tensor(std::string_view name) const;
  /// The replicated values' and the per-rank values' names, sorted.
  std::vector<std::string> replicated_names() const;
  std::vector<std::string> local_names() const;
  DType dtype(std::string_view name) const;
  std::vector<std::int64_t> global_shape(std::string_view name) const;

  /// This rank's rows of tensor `name` under the current world size (even_rows). Throws
  /// SchemaError (missing_field) when there is no such tensor, FormatError when a rank file
  /// is damaged (size, checksum, or a slice unlike the manifest's).
  ShardedTensor tensor(std::string_view name) const;
  /// Rows `rows` of tensor `name`, for a caller's own partition. The result views the mapped
  /// file (read-only, no copy) when the rows are exactly one saved slice, and is an owned
  /// copy otherwise. Throws as tensor(name), and SchemaError (missing_field) when `rows` is
  /// not within the tensor.
  ShardedTensor tensor(std::string_view name, RowRange rows) const;

  /// The replicated value `name`. Throws SchemaError (missing_field) when absent, and as
  /// from_binary.
  template <class T>
  T replicated(std::string_view name, const Registry& registry = default_registry()) const {
    return from_binary<T>(object_bytes(name, true, 0), registry, load_options());
  }
  /// This rank's own value `name`. Only when the world size is the one that saved (the
  /// objects of 4 ranks do not split into 2): throws SchemaError (type_mismatch) otherwise;
  /// local_of() reads any saved rank's value.
  template <class T>
  T local(std::string_view name, const Registry& registry = default_registry()) const {
    return from_binary<T>(object_bytes(name, false, own_saved_rank(name)), registry,
                          load_options());
  }
  /// The value `name` that rank `saved_rank` saved, whatever the current world size.
  template <class T>
  T local_of(std::string_view name, int saved_rank,
             const Registry& registry = default_registry()) const {
    return from_binary<T>(object_bytes(name, false, saved_rank), registry, load_options());
  }

  /// For DistributedCheckpointer, which opens checkpoints.
  struct Impl;
  explicit Restored(std::shared_ptr<const Impl> impl) noexcept : impl_(std::move(impl)) {}

 private:
  std::string_view object_bytes(std::string_view name, bool replicated, int saved_rank) const;
  int own_saved_rank(std::string_view name) const;
  const LoadOptions& load_options() const noexcept;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace brine::mpi
