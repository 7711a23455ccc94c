// brine — versioned object persistence for C++17.
// bench/support/files.hpp: the file side of WORKLOADS.md "What is timed" for workload C:
// where the files go, fsync after close, and POSIX reads and writes that report errors as
// exceptions (the harness turns them into failed rows).
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace brine_bench {

[[noreturn]] inline void throw_errno(const std::string& what, const std::string& path) {
  throw std::runtime_error(what + " " + path + ": " + std::strerror(errno));
}

/// WORKLOADS.md puts the files in /tmp/brine-anchors/ (on the machine's disk, not tmpfs);
/// BRINE_BENCH_DIR overrides it. Created on first use.
inline const std::string& checkpoint_dir() {
  static const std::string dir = [] {
    const char* env = std::getenv("BRINE_BENCH_DIR");
    std::string d = env != nullptr && *env != '\0' ? env : "/tmp/brine-anchors";
    if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) throw_errno("cannot create", d);
    return d;
  }();
  return dir;
}

/// One file per row and process (the pid keeps two runs on one machine apart).
inline std::string checkpoint_path(const std::string& library) {
  return checkpoint_dir() + "/brine_bench-checkpoint-" + library + "." +
         std::to_string(::getpid()) + ".bin";
}

/// Removes `path` if it exists (untimed before every save: a save creates its file), and
/// the whole directory when it is one (the rows that save a checkpoint directory).
inline void remove_file(const std::string& path) {
  if (::unlink(path.c_str()) == 0 || errno == ENOENT) return;
  if (errno != EISDIR && errno != EPERM) throw_errno("cannot remove", path);
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) throw_errno("cannot remove", path);
}

/// fsync of a file already written and closed: the step WORKLOADS.md times after close() for
/// libraries that write through a std::ofstream, which does not expose its descriptor.
/// fsync flushes the file's dirty pages whichever descriptor it is called on.
inline void fsync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_errno("cannot open", path);
  const int rc = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  errno = saved;
  if (rc != 0) throw_errno("cannot fsync", path);
}

inline std::size_t file_size(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) throw_errno("cannot stat", path);
  return static_cast<std::size_t>(st.st_size);
}

inline void write_all(int fd, const char* bytes, std::size_t n, const std::string& path) {
  while (n > 0) {
    const ssize_t w = ::write(fd, bytes, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw_errno("cannot write", path);
    }
    bytes += w;
    n -= static_cast<std::size_t>(w);
  }
}

inline void read_all(int fd, char* bytes, std::size_t n, const std::string& path) {
  while (n > 0) {
    const ssize_t r = ::read(fd, bytes, n);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw_errno("cannot read", path);
    }
    if (r == 0) throw std::runtime_error("unexpected end of " + path);
    bytes += r;
    n -= static_cast<std::size_t>(r);
  }
}

}  // namespace brine_bench
