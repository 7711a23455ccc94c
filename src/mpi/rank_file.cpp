// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// mpi/rank_file.cpp: writing a rank's file with its checksum computed on the way.

#include "mpi/rank_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <thread>

// Inlined rather than linked, as in manifest.cpp.
#define XXH_INLINE_ALL
#include <xxhash.h>

namespace brine::mpi {

namespace {
[[noreturn]] void io_fail(const std::string& what, const std::filesystem::path& path, int err) {
  ErrorContext where;
  where.source = path.string();
  detail::throw_io_error(what, std::error_code(err, std::generic_category()), where);
}
}  // namespace

RankFileWriter::RankFileWriter(std::filesystem::path path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) io_fail("cannot create the rank file", path_, errno);
}

RankFileWriter::~RankFileWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void RankFileWriter::write(const void* bytes, std::size_t n) {
  BRINE_ASSERT(fd_ >= 0, "write after finish");
  if (n == 0) return;
  if (n >= kKeepReference) {
    pieces_.push_back({bytes, 0, n});
  } else {
    pieces_.push_back({nullptr, copies_.size(), n});
    copies_.append(bytes, n);
  }
  const char* p = static_cast<const char*>(bytes);
  while (n > 0) {
    ssize_t w = ::write(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      io_fail("cannot write the rank file", path_, errno);
    }
    p += w;
    n -= static_cast<std::size_t>(w);
    size_ += static_cast<std::uint64_t>(w);
  }
}

manifest::FileEntry RankFileWriter::finish() {
  BRINE_ASSERT(fd_ >= 0, "finish twice");
  int fd = fd_;
  int sync_error = 0;
  std::thread syncer([fd, &sync_error] {
    if (::fsync(fd) != 0) sync_error = errno;
  });
  fd_ = -1;  // only now: had the thread not started, the destructor would close the file
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  for (const Piece& piece : pieces_)
    XXH3_64bits_update(&state, piece.external ? piece.external : copies_.data() + piece.offset,
                       piece.size);
  std::uint64_t digest = XXH3_64bits_digest(&state);
  syncer.join();
  int close_rc = ::close(fd);
  int close_error = errno;
  if (sync_error != 0) io_fail("cannot fsync the rank file", path_, sync_error);
  if (close_rc != 0) io_fail("cannot close the rank file", path_, close_error);
  return {path_.filename().string(), size_, digest};
}

}  // namespace brine::mpi
