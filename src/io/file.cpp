// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// io/file.cpp: memory-mapped file reading and atomic file replacement (POSIX).

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <string_view>
#include <system_error>

#include "brine/error.hpp"
#include "brine/io.hpp"
#include "brine/tensor.hpp"
#include "io/durable.hpp"

namespace brine {
namespace {

[[noreturn]] void io_fail(const std::string& what, const std::string& path, int err = errno) {
  ErrorContext where;
  where.source = path;
  detail::throw_io_error(what, std::error_code(err, std::generic_category()), where);
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

void write_all(int fd, const void* bytes, std::size_t n, const std::string& path) {
  const char* p = static_cast<const char*>(bytes);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      io_fail("cannot write", path);
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

void fsync_directory(const std::filesystem::path& dir, const std::string& path) {
  Fd d;
  d.fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d.fd < 0) io_fail("cannot open the directory to make the rename durable", path);
  if (::fsync(d.fd) != 0 && errno != EINVAL) io_fail("cannot fsync the directory", path);
}

}  // namespace

void io_internal::fsync_directory(const std::filesystem::path& dir) {
  brine::fsync_directory(dir, dir.string());
}

FileSource::FileSource(const std::filesystem::path& path) : path_(path.string()) {
  {
    // The checks (and their messages) of an archive source; MappedFile opens it again.
    Fd f;
    f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (f.fd < 0) io_fail("cannot open file", path_);
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) io_fail("cannot stat file", path_);
    if (S_ISDIR(st.st_mode)) io_fail("cannot read a directory as an archive", path_, EISDIR);
  }
  // Mapped where it can be (not a pipe, /proc or an empty file: those are read), and shared,
  // so that tensors loaded from the file view the mapping and keep it alive.
  file_ = MappedFile::open(path);
  data_ = reinterpret_cast<const char*>(file_->data());
  size_ = file_->size();
}

FileSource::~FileSource() = default;

std::size_t FileSource::read(void* bytes, std::size_t n) {
  std::size_t available = size_ - pos_;
  if (n > available) n = available;
  if (n != 0) std::memcpy(bytes, data_ + pos_, n);
  pos_ += n;
  if (pos_ - released_ >= kReleaseStep) release_behind();
  return n;
}

void FileSource::release_behind() noexcept {
  if (!file_->is_mapped()) return;
  static const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  // The mapping starts on a page; release whole pages only, and never the page pos_ is in.
  std::size_t begin = (released_ + page - 1) / page * page;
  std::size_t end = pos_ / page * page;
  // MADV_DONTNEED on a private, never-written file mapping drops the pages; their content
  // is the file's, which the next access reads back. A failure only costs memory.
  if (end > begin) ::madvise(const_cast<char*>(data_) + begin, end - begin, MADV_DONTNEED);
  released_ = pos_;
}

namespace {

// See the AtomicFileSink comment in io.hpp for the naming; the two functions below are the
// only places that know it.
constexpr std::string_view kTempMarker = ".brine-tmp.";
constexpr std::size_t kTempNameBytes = 200;  // of the target's name, kept in the temp's name
constexpr std::size_t kTempRandomDigits = 16;

std::string temp_stem(const std::string& target_name) {
  return target_name.substr(0, std::min(target_name.size(), kTempNameBytes));
}

/// The `<name>` part of a temporary file's name, or nothing for any other name. The suffix is
/// parsed from the end, so a target name that itself contains ".brine-tmp." stays unambiguous.
std::optional<std::string_view> temp_target_stem(std::string_view name) {
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  auto is_hex = [&](char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); };
  if (name.size() < 1 + kTempMarker.size() + 2 + kTempRandomDigits + 1 || name[0] != '.')
    return std::nullopt;
  std::size_t random_at = name.size() - kTempRandomDigits;
  for (std::size_t i = random_at; i < name.size(); ++i)
    if (!is_hex(name[i])) return std::nullopt;
  if (name[random_at - 1] != '.') return std::nullopt;
  std::size_t pid_end = random_at - 1, pid_at = pid_end;
  while (pid_at > 0 && is_digit(name[pid_at - 1])) --pid_at;
  if (pid_at == pid_end || pid_at < 1 + kTempMarker.size() + 1) return std::nullopt;
  std::size_t marker_at = pid_at - kTempMarker.size();
  if (name.substr(marker_at, kTempMarker.size()) != kTempMarker) return std::nullopt;
  return name.substr(1, marker_at - 1);
}

/// Tries to lock `fd` without waiting: exclusive for the writer, shared for the cleanup's
/// probe (a shared lock conflicts with the writer's exclusive one, and needs only a read-only
/// descriptor). OFD locks belong to the open file description, not the process, so they also
/// conflict between a writer and a cleanup in one process, which POSIX record locks would
/// not. Returns 0 or the errno.
int try_lock(int fd, bool exclusive) {
#ifdef F_OFD_SETLK
  struct flock lock {};
  lock.l_type = exclusive ? F_WRLCK : F_RDLCK;
  lock.l_whence = SEEK_SET;
  if (::fcntl(fd, F_OFD_SETLK, &lock) == 0) return 0;
  if (errno != EINVAL) return errno;  // EINVAL: a kernel older than OFD locks (Linux 3.15)
#endif
  if (::flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0) return 0;
  return errno;
}

bool held_by_another(int err) { return err == EAGAIN || err == EACCES || err == EWOULDBLOCK; }

}  // namespace

AtomicFileSink::AtomicFileSink(const std::filesystem::path& path) : path_(path) {
  // The temporary lives next to the target: rename(2) is only atomic within one file system.
  // open(O_EXCL, 0666) rather than mkstemp: the file must get the permissions the umask
  // gives a normal new file, not mkstemp's 0600.
  static std::atomic<std::uint64_t> counter{0};
  std::random_device entropy;
  std::string prefix = "." + temp_stem(path.filename().string()) + std::string(kTempMarker) +
                       std::to_string(::getpid()) + ".";
  int err = 0;
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::uint64_t tag = ((static_cast<std::uint64_t>(entropy()) << 32) | entropy()) ^
                        (counter.fetch_add(1) * 0x9E3779B97F4A7C15ull);
    char hex[kTempRandomDigits + 1];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(tag));
    temp_path_ = path.parent_path() / (prefix + hex);
    fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ < 0) {
      err = errno;
      if (err == EEXIST) continue;
      break;
    }
    // Between the open and the lock, a remove_stale_temp_files() may have found the new file
    // unlocked and taken its lock to remove it: then ours fails, and we start again under
    // another name rather than write into a file about to be unlinked. A file system without
    // locks fails every lock: the file is written unlocked, and the cleanup, unable to lock
    // it either, leaves it alone.
    int lock_err = try_lock(fd_, true);
    if (lock_err == 0 || !held_by_another(lock_err)) return;
    ::unlink(temp_path_.c_str());
    ::close(fd_);
    fd_ = -1;
    err = lock_err;
  }
  temp_path_.clear();
  io_fail("cannot create a temporary file next to the target", path.string(), err);
}

AtomicFileSink::~AtomicFileSink() { abandon(); }

void AtomicFileSink::abandon() noexcept {
  if (fd_ < 0) return;
  // Unlink before close: the name never exists unlocked.
  ::unlink(temp_path_.c_str());
  ::close(fd_);
  fd_ = -1;
  temp_path_.clear();
  pending_.clear();
}

void AtomicFileSink::write(const void* bytes, std::size_t n) {
  if (fd_ < 0) io_fail("write after commit or abandon", path_.string(), EBADF);
  if (pending_.size() + n > (std::size_t{1} << 20)) flush();
  if (n >= (std::size_t{1} << 20)) {
    write_all(fd_, bytes, n, path_.string());
  } else {
    pending_.append(bytes, n);
  }
}

void AtomicFileSink::flush() {
  if (fd_ < 0 || pending_.empty()) return;
  write_all(fd_, pending_.data(), pending_.size(), path_.string());
  pending_.clear();
}

void AtomicFileSink::commit() {
  if (fd_ < 0) io_fail("commit after commit or abandon", path_.string(), EBADF);
  flush();
  if (::fsync(fd_) != 0) io_fail("cannot fsync the temporary file", path_.string());
  // Renamed while still open, so still locked: a cleanup that opened the temporary name just
  // before cannot lock it until it is the real file, by then no longer under that name.
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    int err = errno;
    abandon();
    io_fail("cannot rename the temporary file over the target", path_.string(), err);
  }
  int fd = fd_;
  fd_ = -1;
  temp_path_.clear();
  if (::close(fd) != 0 && errno != EINTR)
    io_fail("cannot close the file after renaming it", path_.string());
  fsync_directory(path_.parent_path(), path_.string());
}

void write_file_atomically(const std::filesystem::path& path, std::string_view bytes) {
  AtomicFileSink sink(path);
  sink.write(bytes.data(), bytes.size());
  sink.commit();
}

bool is_temp_file_name(std::string_view file_name) noexcept {
  return temp_target_stem(file_name).has_value();
}

RemovedTempFiles remove_stale_temp_files(const std::filesystem::path& path_or_directory) {
  std::filesystem::path dir = path_or_directory;
  std::optional<std::string> only_stem;  // set when cleaning up after one target
  struct stat st {};
  if (::stat(path_or_directory.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    dir = path_or_directory.parent_path();
    only_stem = temp_stem(path_or_directory.filename().string());
  }
  const std::string where = path_or_directory.string();
  Fd d;
  d.fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d.fd < 0) io_fail("cannot open the directory to look for stale temporary files", where);
  DIR* listing = ::fdopendir(::dup(d.fd));
  if (listing == nullptr) io_fail("cannot list the directory", where);
  struct Closer {
    DIR* dir;
    ~Closer() { ::closedir(dir); }
  } closer{listing};

  RemovedTempFiles removed;
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(listing);
    if (entry == nullptr) {
      if (errno != 0) io_fail("cannot list the directory", where);
      break;
    }
    std::string_view name = entry->d_name;
    std::optional<std::string_view> stem = temp_target_stem(name);
    if (!stem || (only_stem && *stem != *only_stem)) continue;
    // O_NOFOLLOW and the regular-file check: a symbolic link named like a temporary file is
    // not ours to follow. O_NONBLOCK: a FIFO named so must not hang the open.
    Fd f;
    f.fd = ::openat(d.fd, entry->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (f.fd < 0) continue;  // gone already, or not ours to read
    struct stat held {};
    if (::fstat(f.fd, &held) != 0 || !S_ISREG(held.st_mode)) continue;
    // A writer holds its lock from creation to rename or unlink: a lock we can take means the
    // writer is dead (or committed, in which case the name is gone by now, checked below).
    if (try_lock(f.fd, false) != 0) continue;
    // The name must still be the file we locked: between readdir and open the writer may
    // have committed, and the file we opened may be the one it renamed.
    struct stat named {};
    if (::fstatat(d.fd, entry->d_name, &named, AT_SYMLINK_NOFOLLOW) != 0 ||
        named.st_dev != held.st_dev || named.st_ino != held.st_ino)
      continue;
    if (::unlinkat(d.fd, entry->d_name, 0) != 0) {
      if (errno == ENOENT) continue;  // another cleanup was faster
      io_fail("cannot remove the stale temporary file '" + std::string(name) + "'", where);
    }
    removed.paths.push_back(dir / std::string(name));
    removed.bytes += static_cast<std::uint64_t>(held.st_size);
  }
  return removed;
}

std::string read_file(const std::filesystem::path& path) {
  FileSource source(path);
  return std::string(source.direct_view());
}

}  // namespace brine
