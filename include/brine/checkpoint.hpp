// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// checkpoint.hpp: CheckpointManager, the checkpoints of a long-running job in one directory
// (save, resume from the newest that verifies, retention, one job per directory, background
// saves), and the pieces it is made of, public so that other savers (the MPI checkpointer)
// share them: the directory lock, the retention policy, the on-disk layout and manifest, and
// verification. See docs/checkpoints.md; the layout is specified in docs/format/checkpoint.md.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "brine/binary.hpp"
#include "brine/detail/export.hpp"
#include "brine/error.hpp"
#include "brine/io.hpp"
#include "brine/limits.hpp"
#include "brine/registry.hpp"
#include "brine/safetensors.hpp"
#include "brine/stable.hpp"
#include "brine/state_dict.hpp"

namespace brine {

/// Version of the checkpoint directory layout (docs/format/checkpoint.md) this build writes
/// and reads up to.
inline constexpr std::uint32_t kCheckpointFormatVersion = 1;

/// How a checkpoint's values are encoded.
enum class CheckpointEncoding {
  kBinary,       ///< a brine binary archive, `values.brine` (fastest; the default)
  kStable,       ///< a brine stable archive (CBOR), `values.cbor`, readable by any later brine
  kSafetensors,  ///< one StateDict as `model.safetensors`, readable by any safetensors reader
};

/// The name of an encoding as the manifest spells it: "binary", "stable", "safetensors".
BRINE_API const char* checkpoint_encoding_name(CheckpointEncoding encoding) noexcept;

// ---- the directory lock ----------------------------------------------------------------

/// Another live process holds the lock of a checkpoint directory. holder_pid() is the
/// process the lock file names (0 when it names none, as while the holder is starting).
class BRINE_API CheckpointLockedError : public IoError {
 public:
  CheckpointLockedError(const std::string& message, std::error_code os_error, pid_t holder_pid,
                        ErrorContext context = {})
      : IoError(message, os_error, std::move(context)), holder_pid_(holder_pid) {}
  pid_t holder_pid() const noexcept { return holder_pid_; }

 private:
  pid_t holder_pid_;
};

/// An exclusive lock on a checkpoint directory, held from construction to destruction: two
/// jobs saving and pruning one directory would delete each other's checkpoints.
///
/// The lock is an flock(2) on `<dir>/brine-checkpoint.lock`, a file that also names the
/// holder's pid and host (for the error message only: the pid is never trusted, ids are
/// reused). The kernel releases the lock when the holder dies, even by SIGKILL, so the lock
/// of a dead process is taken over by the next job without any staleness test. A child made
/// by fork() without exec() shares the lock (and keeps it while it lives); exec() drops it.
/// On a network file system the lock is as good as the file system's flock.
class BRINE_API CheckpointDirectoryLock {
 public:
  /// Creates `dir` when missing and takes its lock. Throws CheckpointLockedError when another
  /// holder (a process, or another lock object in this one) has it, IoError otherwise.
  explicit CheckpointDirectoryLock(const std::filesystem::path& dir);
  ~CheckpointDirectoryLock();
  CheckpointDirectoryLock(CheckpointDirectoryLock&& other) noexcept;
  CheckpointDirectoryLock& operator=(CheckpointDirectoryLock&& other) noexcept;
  CheckpointDirectoryLock(const CheckpointDirectoryLock&) = delete;
  CheckpointDirectoryLock& operator=(const CheckpointDirectoryLock&) = delete;

  const std::filesystem::path& directory() const noexcept { return dir_; }
  /// The lock file's name inside the directory.
  static constexpr const char* kFileName = "brine-checkpoint.lock";

 private:
  std::filesystem::path dir_;
  int fd_ = -1;
};

// ---- retention -------------------------------------------------------------------------

/// Which complete checkpoints to keep: the newest `keep_last`, plus every one whose step is
/// a multiple of `keep_every`. keep_last 0 keeps every checkpoint.
struct RetentionPolicy {
  std::size_t keep_last = 3;
  std::optional<std::uint64_t> keep_every;

  /// The steps of `steps` (any order, no duplicates) that the policy removes, ascending.
  BRINE_API std::vector<std::uint64_t> to_remove(std::vector<std::uint64_t> steps) const;
};

// ---- layout, manifest and verification -------------------------------------------------

/// `step-` and the step in decimal, zero-padded to 10 digits: `step-0000000100`.
BRINE_API std::string checkpoint_directory_name(std::uint64_t step);
/// The step a checkpoint directory name holds, or nothing for any other name (including a
/// non-canonical spelling such as `step-100`, so that one step has one name).
BRINE_API std::optional<std::uint64_t> parse_checkpoint_directory_name(std::string_view name);

/// One file of a checkpoint, as its manifest records it.
struct CheckpointFileInfo {
  std::string name;           ///< a plain file name inside the checkpoint's directory
  std::uint64_t bytes = 0;    ///< its size
  std::uint64_t xxh3_64 = 0;  ///< XXH3-64 (seed 0) of its bytes, when has_xxh3_64
  /// Whether the manifest records xxh3_64. Files whose encoding checksums every byte itself
  /// (brine binary and stable archives) go without: decoding them checks them.
  bool has_xxh3_64 = true;
};

/// The completion manifest, `<checkpoint>/brine-checkpoint.json`: written last, so a
/// checkpoint directory is complete iff it holds one.
struct CheckpointManifest {
  static constexpr const char* kFileName = "brine-checkpoint.json";
  std::uint32_t format_version = kCheckpointFormatVersion;
  std::uint64_t step = 0;
  CheckpointEncoding encoding = CheckpointEncoding::kBinary;
  std::size_t value_count = 0;  ///< values in the data file (1 for safetensors)
  std::vector<CheckpointFileInfo> files;
};

/// Writes `manifest` into `checkpoint_dir` atomically and durably (file fsynced, renamed, the
/// directory fsynced), which completes the checkpoint. Throws IoError.
BRINE_API void write_checkpoint_manifest(const std::filesystem::path& checkpoint_dir,
                                         const CheckpointManifest& manifest);
/// Reads and checks the manifest of `checkpoint_dir` (syntax, format version, file names).
/// Throws IoError when it cannot be read, FormatError when it is not a valid manifest,
/// VersionError when a newer brine wrote it.
BRINE_API CheckpointManifest read_checkpoint_manifest(const std::filesystem::path& checkpoint_dir);
/// read_checkpoint_manifest, then checks every file it lists for its size and, where the
/// manifest records one, its XXH3-64 (and that the manifest's step is the directory's); a
/// binary or stable data file's own checksums are checked when it is decoded. Throws FormatError
/// naming the file and what differs (a missing file is a FormatError too: the checkpoint is
/// damaged), VersionError.
BRINE_API CheckpointManifest verify_checkpoint(const std::filesystem::path& checkpoint_dir);

/// The steps of the complete checkpoints under `dir` (canonical names, manifest present; not
/// verified), ascending.
BRINE_API std::vector<std::uint64_t> list_complete_checkpoints(const std::filesystem::path& dir);

/// Removes checkpoint `step` from `dir`: its manifest first (so a crash part-way leaves an
/// incomplete checkpoint, never one that looks whole), then its directory. Throws IoError.
BRINE_API void remove_checkpoint(const std::filesystem::path& dir, std::uint64_t step);

/// Moves checkpoint directory `step` into `<dir>/quarantine/` (never deleted; a suffix `.N`
/// when the name is taken) and returns its new path. Throws IoError.
BRINE_API std::filesystem::path quarantine_checkpoint(const std::filesystem::path& dir,
                                                      std::uint64_t step);

/// Removes what saves killed part-way left in `dir`: checkpoint directories without a
/// manifest, and AtomicFileSink temporary files no live process holds (in `dir` and in those
/// directories). Call it only while holding the directory's lock: without the lock, another
/// job's save in progress looks incomplete. Returns how many entries it removed.
BRINE_API std::size_t remove_incomplete_checkpoints(const std::filesystem::path& dir);

// ---- the manager -----------------------------------------------------------------------

/// A checkpoint that restore_latest() skipped (or restore() refused) because it did not
/// verify.
struct SkippedCheckpoint {
  std::uint64_t step = 0;
  std::filesystem::path path;         ///< where it was
  std::filesystem::path quarantined;  ///< where it is now (empty if it could not be moved)
  std::string reason;                 ///< the error that disqualified it
};

/// Options of a CheckpointManager.
struct CheckpointOptions {
  /// Retention: the newest `keep_last` complete checkpoints are kept (0: all), plus every
  /// step that is a multiple of `keep_every`.
  std::size_t keep_last = 3;
  std::optional<std::uint64_t> keep_every;
  /// With async, save() returns once the values are serialized into memory; a background
  /// thread writes them. See docs/checkpoints.md "Saving in the background".
  bool async = false;
  CheckpointEncoding encoding = CheckpointEncoding::kBinary;
  /// Async saves captured but not yet durable, at most (at least 1): a later save() waits.
  std::size_t max_pending_saves = 1;
  /// Bytes held by those saves, at most; a save larger than this alone waits until no other
  /// is pending. The save() that is capturing holds its own bytes on top.
  std::size_t max_pending_bytes = std::size_t{4} << 30;
  /// Told about every checkpoint skipped and quarantined. Called on the thread that called
  /// restore_latest() or restore().
  std::function<void(const SkippedCheckpoint&)> on_skipped;
  /// The registry values are saved and restored with (nullptr: default_registry()).
  Registry* registry = nullptr;
  /// Limits for reading checkpoints back.
  LoadOptions load_options;
};

/// The checkpoints of one job in one directory. Holds the directory's lock from construction
/// to destruction. Not safe to call from two threads at once.
class BRINE_API CheckpointManager {
 public:
  /// Opens (creating when missing) `dir`, takes its lock (CheckpointLockedError naming the
  /// holder's pid when another job has it), and removes what interrupted saves left.
  explicit CheckpointManager(const std::filesystem::path& dir, CheckpointOptions options = {});
  /// Waits for pending saves. Their errors are lost: call wait() first to see them.
  ~CheckpointManager();
  CheckpointManager(const CheckpointManager&) = delete;
  CheckpointManager& operator=(const CheckpointManager&) = delete;

  /// Saves `values` as checkpoint `step`, then applies retention. `step` must be after every
  /// step saved or found in the directory (saving an existing or older step throws
  /// FormatError, unsupported_content: retention and restore_latest() order by step).
  /// Synchronous: returns when the checkpoint is durable. Async: returns once the values are
  /// serialized into memory, after waiting while the pending saves are over their bounds; the
  /// error of an earlier async save is thrown here, before this one is made (call again to
  /// make it; the failed one is not retried). With the safetensors encoding, `values` is
  /// exactly one StateDict.
  template <class... Ts>
  void save(std::uint64_t step, const Ts&... values);

  /// Waits until every pending save is durable; throws the first error of those saves.
  void wait();

  /// Restores the newest checkpoint that verifies into `values` and returns its step, or
  /// nothing when there is none. A checkpoint that does not verify (FormatError: damaged
  /// file, bad manifest, undecodable values) is moved to the quarantine folder, reported
  /// through on_skipped, and the next older one is tried. VersionError, SchemaError (a
  /// checkpoint this program cannot read, or holding another number of values than asked
  /// for) and IoError are thrown: resuming from an older checkpoint would silently throw the
  /// newer one's progress away. `values` change only on success. Waits for pending saves.
  template <class... Ts>
  std::optional<std::uint64_t> restore_latest(Ts&... values);

  /// Restores checkpoint `step` into `values`; false when there is no complete checkpoint of
  /// that step. One that does not verify is quarantined, reported, and its FormatError thrown.
  template <class... Ts>
  bool restore(std::uint64_t step, Ts&... values);

  /// The steps of the complete checkpoints, ascending (saves still pending are not listed).
  std::vector<std::uint64_t> steps() const;
  /// The newest step saved or pending, or nothing before the first.
  std::optional<std::uint64_t> latest_step() const;

  const std::filesystem::path& directory() const noexcept;
  const CheckpointOptions& options() const noexcept;

 private:
  // Writes the values' encoding into the sink it is given.
  using WriteFn = std::function<void(ByteSink&)>;
  // Decodes the data file at the path in the encoding; the values are committed by the
  // caller only when restore_with returns the step.
  using ReadFn = std::function<void(const std::filesystem::path&, CheckpointEncoding)>;

  void save_with(std::uint64_t step, std::size_t value_count, const WriteFn& write);
  std::optional<std::uint64_t> restore_with(std::optional<std::uint64_t> step,
                                            std::size_t value_count, const ReadFn& read);
  Registry& registry() const noexcept;
  // The ReadFn that decodes a checkpoint's values into `restored`.
  template <class... Ts>
  ReadFn decoder(std::optional<std::tuple<Ts...>>& restored);

  struct State;
  std::unique_ptr<State> state_;
};

// ---------------------------------------------------------------------------------------
// Implementation.

namespace detail {
template <class... Ts>
constexpr bool is_one_state_dict() {
  if constexpr (sizeof...(Ts) == 1)
    return (std::is_same_v<std::decay_t<Ts>, StateDict> && ...);
  else
    return false;
}
[[noreturn]] BRINE_API void checkpoint_encoding_mismatch(CheckpointEncoding encoding,
                                                         bool is_state_dict);
}  // namespace detail

template <class... Ts>
void CheckpointManager::save(std::uint64_t step, const Ts&... values) {
  Registry& reg = registry();
  const CheckpointEncoding encoding = options().encoding;
  save_with(step, sizeof...(Ts), [&](ByteSink& sink) {
    if constexpr (detail::is_one_state_dict<Ts...>()) {
      if (encoding != CheckpointEncoding::kSafetensors)
        detail::checkpoint_encoding_mismatch(encoding, true);
      write_safetensors(sink, values...);
    } else {
      if (encoding == CheckpointEncoding::kBinary) {
        BinaryWriter writer(sink, reg);
        (writer.write(values), ...);
        writer.finish();
      } else if (encoding == CheckpointEncoding::kStable) {
        StableWriter writer(sink, reg);
        (writer.write(values), ...);
        writer.finish();
      } else {
        detail::checkpoint_encoding_mismatch(encoding, false);
      }
    }
  });
}

template <class... Ts>
CheckpointManager::ReadFn CheckpointManager::decoder(std::optional<std::tuple<Ts...>>& restored) {
  const Registry& reg = registry();
  const LoadOptions& load_options = options().load_options;
  return [&restored, &reg, &load_options](const std::filesystem::path& file,
                                          CheckpointEncoding encoding) {
    restored.reset();
    if constexpr (detail::is_one_state_dict<Ts...>()) {
      if (encoding != CheckpointEncoding::kSafetensors)
        detail::checkpoint_encoding_mismatch(encoding, true);
      restored.emplace(load_safetensors(file));
    } else {
      if (encoding == CheckpointEncoding::kSafetensors)
        detail::checkpoint_encoding_mismatch(encoding, false);
      FileSource source(file);
      try {
        // Braced initialization reads the values in order.
        if (encoding == CheckpointEncoding::kBinary) {
          BinaryReader reader(source, reg, load_options);
          restored.emplace(std::tuple<Ts...>{reader.template read<Ts>()...});
          reader.skip_to_end();
        } else {
          StableReader reader(source, reg, load_options);
          restored.emplace(std::tuple<Ts...>{reader.template read<Ts>()...});
        }
      } catch (Error& e) {
        detail::note_error_source(e, source.description());
        throw;
      }
    }
  };
}

template <class... Ts>
std::optional<std::uint64_t> CheckpointManager::restore_latest(Ts&... values) {
  std::optional<std::tuple<Ts...>> restored;
  std::optional<std::uint64_t> step = restore_with(std::nullopt, sizeof...(Ts), decoder(restored));
  if (step) std::tie(values...) = std::move(*restored);
  return step;
}

template <class... Ts>
bool CheckpointManager::restore(std::uint64_t step, Ts&... values) {
  std::optional<std::tuple<Ts...>> restored;
  std::optional<std::uint64_t> found = restore_with(step, sizeof...(Ts), decoder(restored));
  if (found) std::tie(values...) = std::move(*restored);
  return found.has_value();
}

}  // namespace brine
