// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// io/file.cpp: memory-mapped file reading and atomic file replacement (POSIX).

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <random>
#include <system_error>

#include "brine/error.hpp"
#include "brine/io.hpp"

namespace brine {
namespace {

[[noreturn]] void io_fail(const std::string& what, const std::string& path, int err = errno) {
  ErrorContext where;
  where.source = path;
  throw IoError(what, std::error_code(err, std::generic_category()), where);
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

FileSource::FileSource(const std::filesystem::path& path) : path_(path.string()) {
  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd < 0) io_fail("cannot open file", path_);
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) io_fail("cannot stat file", path_);
  if (S_ISDIR(st.st_mode)) io_fail("cannot read a directory as an archive", path_, EISDIR);
  size_ = static_cast<std::size_t>(st.st_size);
  if (S_ISREG(st.st_mode) && size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, f.fd, 0);
    if (p != MAP_FAILED) {
      data_ = static_cast<const char*>(p);
      mapped_ = true;
      return;
    }
  }
  // Not mappable (a pipe, /proc, an empty file): read it.
  fallback_.clear();
  char chunk[65536];
  for (;;) {
    ssize_t r = ::read(f.fd, chunk, sizeof chunk);
    if (r == 0) break;
    if (r < 0) {
      if (errno == EINTR) continue;
      io_fail("cannot read file", path_);
    }
    fallback_.append(chunk, static_cast<std::size_t>(r));
  }
  data_ = reinterpret_cast<const char*>(fallback_.data());
  size_ = fallback_.size();
}

FileSource::~FileSource() {
  if (mapped_) ::munmap(const_cast<char*>(data_), size_);
}

std::size_t FileSource::read(void* bytes, std::size_t n) {
  std::size_t available = size_ - pos_;
  if (n > available) n = available;
  if (n != 0) std::memcpy(bytes, data_ + pos_, n);
  pos_ += n;
  return n;
}

AtomicFileSink::AtomicFileSink(const std::filesystem::path& path) : path_(path) {
  // The temporary lives next to the target: rename(2) is only atomic within one file system.
  // open(O_EXCL, 0666) rather than mkstemp: the file must get the permissions the umask
  // gives a normal new file, not mkstemp's 0600.
  static std::atomic<std::uint64_t> counter{0};
  std::random_device entropy;
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::uint64_t tag = (static_cast<std::uint64_t>(entropy()) << 20) ^ counter.fetch_add(1);
    temp_path_ = path.string() + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(tag);
    fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ >= 0 || errno != EEXIST) break;
  }
  if (fd_ < 0) io_fail("cannot create a temporary file next to the target", path.string());
}

AtomicFileSink::~AtomicFileSink() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(temp_path_.c_str());
  }
}

void AtomicFileSink::write(const void* bytes, std::size_t n) {
  if (fd_ < 0) io_fail("write after commit", path_.string(), EBADF);
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
  flush();
  if (::fsync(fd_) != 0) io_fail("cannot fsync the temporary file", path_.string());
  if (::close(fd_) != 0) {
    fd_ = -1;
    ::unlink(temp_path_.c_str());
    io_fail("cannot close the temporary file", path_.string());
  }
  fd_ = -1;
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    int err = errno;
    ::unlink(temp_path_.c_str());
    io_fail("cannot rename the temporary file over the target", path_.string(), err);
  }
  fsync_directory(path_.parent_path(), path_.string());
}

void write_file_atomically(const std::filesystem::path& path, std::string_view bytes) {
  AtomicFileSink sink(path);
  sink.write(bytes.data(), bytes.size());
  sink.commit();
}

std::string read_file(const std::filesystem::path& path) {
  FileSource source(path);
  return std::string(source.direct_view());
}

}  // namespace brine
