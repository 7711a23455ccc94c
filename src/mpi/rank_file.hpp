// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// mpi/rank_file.hpp: writing one rank's file of a distributed checkpoint, and opening a
// committed checkpoint for restoring (private).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "brine/io.hpp"
#include "brine/mpi/checkpoint.hpp"
#include "mpi/manifest.hpp"

namespace brine::mpi {

/// Writes a new file (never an existing one: O_EXCL), fsyncs it in finish() and returns its
/// XXH3-64. The checksum is computed in finish() while another thread waits for the fsync, so
/// that hashing, which would otherwise add a tenth to a save, costs nothing: the disk is the
/// bottleneck then, not the processor. For that, the bytes of a write() of kKeepReference bytes
/// or more must stay valid and unchanged until finish() returns (smaller writes are copied).
/// Destroyed unfinished, it closes the file and leaves it to the folder's removal.
class RankFileWriter final : public ByteSink {
 public:
  explicit RankFileWriter(std::filesystem::path path);
  ~RankFileWriter() override;
  RankFileWriter(const RankFileWriter&) = delete;
  RankFileWriter& operator=(const RankFileWriter&) = delete;

  void write(const void* bytes, std::size_t n) override;
  std::string description() const override { return path_.string(); }
  /// Fsyncs and closes the file; returns its name, size and checksum. Throws IoError.
  manifest::FileEntry finish();

 private:
  static constexpr std::size_t kKeepReference = std::size_t{1} << 16;
  /// A run of the file's bytes: `external` (the caller's) or at `offset` in copies_.
  struct Piece {
    const void* external = nullptr;
    std::size_t offset = 0;
    std::size_t size = 0;
  };
  std::filesystem::path path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::vector<Piece> pieces_;
  Buffer copies_;
};

namespace restored_detail {
/// Opens checkpoint `step` of `directory` for `rank` of `world_size`: reads and checks its
/// manifest, and with `check_files` also that every rank file has the size the manifest
/// records. Throws IoError, FormatError, VersionError.
Restored open(const std::filesystem::path& directory, std::int64_t step, int rank, int world_size,
              const CheckpointerOptions& options, bool check_files);
}  // namespace restored_detail

}  // namespace brine::mpi
