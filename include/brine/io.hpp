// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// io.hpp: byte sinks and sources (memory, std::iostream, files, file descriptors) and
// atomic file replacement.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "brine/detail/export.hpp"

namespace brine {

/// A growable byte buffer that keeps its capacity across clear() and never zero-fills, so
/// repeated saves into one Buffer touch already-mapped memory.
class BRINE_API Buffer {
 public:
  Buffer() noexcept = default;
  Buffer(const Buffer& other);
  Buffer& operator=(const Buffer& other);
  Buffer(Buffer&& other) noexcept;
  Buffer& operator=(Buffer&& other) noexcept;
  ~Buffer();

  const std::uint8_t* data() const noexcept { return data_; }
  std::uint8_t* data() noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return capacity_; }
  bool empty() const noexcept { return size_ == 0; }
  std::string_view view() const noexcept { return {reinterpret_cast<const char*>(data_), size_}; }

  void clear() noexcept { size_ = 0; }
  /// Ensures capacity for `n` bytes in total; growth is geometric.
  void reserve(std::size_t n);
  /// Sets the size; new bytes are uninitialized.
  void resize(std::size_t n) {
    if (n > capacity_) reserve(n);
    size_ = n;
  }
  void append(const void* bytes, std::size_t n) {
    if (n == 0) return;
    if (size_ + n > capacity_) reserve(size_ + n);
    std::memcpy(data_ + size_, bytes, n);
    size_ += n;
  }

 private:
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

/// Where a writer's bytes go. Implementations throw IoError on failure.
class BRINE_API ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual void write(const void* bytes, std::size_t n) = 0;
  /// Pushes buffered bytes to the OS or the peer.
  virtual void flush() {}
  /// A sink that is an in-memory Buffer returns it, so writers append to it directly instead
  /// of copying through an intermediate buffer.
  virtual Buffer* direct_buffer() noexcept { return nullptr; }
  /// Lends memory of the sink's own where a writer places its next bytes itself, instead of
  /// building them elsewhere and copying them in with write(): at least `n` bytes, their
  /// number in `available`, or nullptr when the sink cannot lend that much now. The lent
  /// bytes are written when commit_loan(k) says how many of them (k <= available) hold data;
  /// any other call on the sink ends the loan unwritten.
  virtual std::uint8_t* lend(std::size_t /*n*/, std::size_t& available) {
    available = 0;
    return nullptr;
  }
  /// Writes the first `n` bytes of the memory lend() returned.
  virtual void commit_loan(std::size_t /*n*/) {}
  /// Names the destination in error messages.
  virtual std::string description() const { return "output"; }
};

/// Where a reader's bytes come from. Implementations throw IoError on failure.
class MappedFile;

class BRINE_API ByteSource {
 public:
  virtual ~ByteSource() = default;
  /// Reads up to `n` bytes; returns fewer only at the end of the input.
  virtual std::size_t read(void* bytes, std::size_t n) = 0;
  /// A source whose whole content is in memory returns a view of what is left and advances
  /// past it with skip(), so readers decode in place without copying.
  virtual bool has_direct_view() const noexcept { return false; }
  virtual std::string_view direct_view() const noexcept { return {}; }
  virtual void skip(std::size_t /*n*/) {}
  /// Bytes left, when known; readers check claimed lengths against it before allocating.
  virtual std::optional<std::uint64_t> remaining() const { return std::nullopt; }
  /// Bytes consumed so far, for error offsets.
  virtual std::uint64_t position() const noexcept = 0;
  virtual std::string description() const { return "input"; }
  /// The file whose bytes direct_view() shows, when the source is a whole file held by a
  /// MappedFile; position() is then an offset in that file. Readers make tensors that view
  /// the file (and keep it alive) instead of copying their bytes.
  virtual std::shared_ptr<const MappedFile> mapped_file() const { return nullptr; }
};

/// Appends to a Buffer. `buffer` must outlive the sink.
class BRINE_API BufferSink final : public ByteSink {
 public:
  explicit BufferSink(Buffer& buffer) noexcept : buffer_(buffer) {}
  void write(const void* bytes, std::size_t n) override { buffer_.append(bytes, n); }
  Buffer* direct_buffer() noexcept override { return &buffer_; }
  std::string description() const override { return "memory buffer"; }

 private:
  Buffer& buffer_;
};

/// Reads a byte range in place. The bytes must outlive the source.
class BRINE_API MemorySource final : public ByteSource {
 public:
  MemorySource(const void* bytes, std::size_t n) noexcept
      : begin_(static_cast<const char*>(bytes)), size_(n) {}
  explicit MemorySource(std::string_view bytes) noexcept
      : MemorySource(bytes.data(), bytes.size()) {}
  explicit MemorySource(const Buffer& buffer) noexcept
      : MemorySource(buffer.data(), buffer.size()) {}

  std::size_t read(void* bytes, std::size_t n) override;
  bool has_direct_view() const noexcept override { return true; }
  std::string_view direct_view() const noexcept override { return {begin_ + pos_, size_ - pos_}; }
  void skip(std::size_t n) override { pos_ += n < size_ - pos_ ? n : size_ - pos_; }
  std::optional<std::uint64_t> remaining() const override { return size_ - pos_; }
  std::uint64_t position() const noexcept override { return pos_; }
  std::string description() const override { return "memory buffer"; }

 private:
  const char* begin_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

/// Writes to a std::ostream. The stream must outlive the sink; failures throw IoError.
class BRINE_API StreamSink final : public ByteSink {
 public:
  explicit StreamSink(std::ostream& stream, std::string description = "output stream")
      : stream_(stream), description_(std::move(description)) {}
  void write(const void* bytes, std::size_t n) override;
  void flush() override;
  /// The free part of the stream buffer's put area, when it holds `n` bytes (an in-memory
  /// stream buffer that has grown, such as a std::stringbuf): a writer's blocks are then
  /// built where the stream keeps them, not copied in.
  std::uint8_t* lend(std::size_t n, std::size_t& available) override;
  void commit_loan(std::size_t n) override;
  std::string description() const override { return description_; }

 private:
  std::ostream& stream_;
  std::string description_;
};

/// Reads from a std::istream. The stream must outlive the source.
class BRINE_API StreamSource final : public ByteSource {
 public:
  explicit StreamSource(std::istream& stream, std::string description = "input stream")
      : stream_(stream), description_(std::move(description)) {}
  std::size_t read(void* bytes, std::size_t n) override;
  std::uint64_t position() const noexcept override { return pos_; }
  std::string description() const override { return description_; }

 private:
  std::istream& stream_;
  std::string description_;
  std::uint64_t pos_ = 0;
};

/// Reads from a file descriptor (a socket, a pipe); does not close it.
class BRINE_API FdSource final : public ByteSource {
 public:
  explicit FdSource(int fd, std::string description = "file descriptor")
      : fd_(fd), description_(std::move(description)) {}
  std::size_t read(void* bytes, std::size_t n) override;
  std::uint64_t position() const noexcept override { return pos_; }
  std::string description() const override { return description_; }

 private:
  int fd_;
  std::string description_;
  std::uint64_t pos_ = 0;
};

/// Writes to a file descriptor (a socket, a pipe); does not close it.
class BRINE_API FdSink final : public ByteSink {
 public:
  explicit FdSink(int fd, std::string description = "file descriptor")
      : fd_(fd), description_(std::move(description)) {}
  void write(const void* bytes, std::size_t n) override;
  std::string description() const override { return description_; }

 private:
  int fd_;
  std::string description_;
};

/// Reads a whole file through a read-only memory map (no copy), falling back to reading it
/// into memory where mapping fails. Throws IoError naming the path.
class BRINE_API FileSource final : public ByteSource {
 public:
  explicit FileSource(const std::filesystem::path& path);
  ~FileSource() override;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  std::size_t read(void* bytes, std::size_t n) override;
  bool has_direct_view() const noexcept override { return true; }
  std::string_view direct_view() const noexcept override { return {data_ + pos_, size_ - pos_}; }
  void skip(std::size_t n) override {
    pos_ += n < size_ - pos_ ? n : size_ - pos_;
    if (pos_ - released_ >= kReleaseStep) release_behind();
  }
  std::optional<std::uint64_t> remaining() const override { return size_ - pos_; }
  std::uint64_t position() const noexcept override { return pos_; }
  std::string description() const override { return path_; }
  std::shared_ptr<const MappedFile> mapped_file() const override { return file_; }

 private:
  // Every kReleaseStep bytes, the mapped pages the reader has passed are dropped from this
  // process's resident set (they stay in the page cache, and a later access, as through a
  // tensor viewing them, maps them again): a load that copies a large file into its objects
  // then holds one copy, not two (the objects and the file's pages).
  static constexpr std::size_t kReleaseStep = std::size_t{8} << 20;
  void release_behind() noexcept;

  std::string path_;
  const char* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t pos_ = 0;
  std::size_t released_ = 0;  // bytes at the start already released
  // The mapping (or, where the file cannot be mapped, its bytes read into memory), shared
  // with the tensors a reader makes from it: they keep it alive after the source is gone.
  std::shared_ptr<const MappedFile> file_;
};

/// Writes a file atomically: bytes go to a temporary file in the same directory, and
/// commit() fsyncs it, renames it over `path` and fsyncs the directory, so a crash leaves
/// either the old file or the new one, never a mix. Destroying the sink without commit()
/// removes the temporary file and leaves `path` untouched.
///
/// The temporary file is `.<name>.brine-tmp.<pid>.<random>` next to `path`, where `<name>` is
/// the file name of `path` (its first 200 bytes, so that the whole stays under the 255-byte
/// limit of file names), `<pid>` the writing process in decimal and `<random>` 16 lowercase hex
/// digits. The leading dot keeps it out of `ls` and of globs such as `*.brine`; the fixed
/// suffix makes it recognisable (is_temp_file_name()) whatever `<name>` holds. For its whole
/// life the sink holds an exclusive lock on the temporary file (an OFD lock, `fcntl
/// F_OFD_SETLK`; `flock` where OFD locks are missing), released by the kernel when the file is
/// closed or the process dies, even by SIGKILL. A process killed during a save leaves its
/// temporary file behind, no longer locked: remove_stale_temp_files() removes those, and only
/// those.
class BRINE_API AtomicFileSink final : public ByteSink {
 public:
  /// Creates and locks the temporary file. Throws IoError naming `path`.
  explicit AtomicFileSink(const std::filesystem::path& path);
  ~AtomicFileSink() override;
  AtomicFileSink(const AtomicFileSink&) = delete;
  AtomicFileSink& operator=(const AtomicFileSink&) = delete;

  void write(const void* bytes, std::size_t n) override;
  void flush() override;
  /// Makes the file durable under its real name. Throws IoError.
  void commit();
  /// Removes the temporary file now (the destructor does it otherwise); `path` is untouched.
  /// Nothing may be written afterwards.
  void abandon() noexcept;
  std::string description() const override { return path_.string(); }
  /// The temporary file's path (for tests and diagnostics); empty after commit or abandon.
  const std::filesystem::path& temp_path() const noexcept { return temp_path_; }

 private:
  std::filesystem::path path_;
  std::filesystem::path temp_path_;
  int fd_ = -1;
  Buffer pending_;  // batches small writes into large write(2) calls
};

/// Replaces `path` with `bytes` atomically (see AtomicFileSink). Throws IoError.
BRINE_API void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

/// Whether `file_name` (a name, not a path) is the name of an AtomicFileSink temporary file:
/// `.<name>.brine-tmp.<pid>.<16 hex digits>`.
BRINE_API bool is_temp_file_name(std::string_view file_name) noexcept;

/// What remove_stale_temp_files() removed.
struct RemovedTempFiles {
  std::vector<std::filesystem::path> paths;  ///< the files removed, in directory order
  std::uint64_t bytes = 0;                   ///< their total size
  std::size_t count() const noexcept { return paths.size(); }
};

/// Removes the temporary files that saves killed before their commit left behind (see
/// AtomicFileSink), and nothing else: a temporary file is removed only when its lock can be
/// taken, that is when no process holds it open for writing, on this host or, through a file
/// system with working locks such as NFSv4, on another. A save still running (in this process
/// or another) keeps its file. A file whose lock cannot be tried (a file system without
/// locks) is left alone too. The process id in the name is never trusted: ids are reused, and
/// mean nothing on another host.
///
/// `path_or_directory` is either a directory, whose temporary files (not those of its
/// subdirectories) are all candidates, or a file path, existing or not, whose own temporary
/// files are (those a save to exactly that path made). Call it at start-up, before the first
/// save, as a job that may have been killed does. Throws IoError when the directory cannot be
/// read or a stale file cannot be removed; files removed until then stay removed, and calling
/// again is safe.
///
/// Example:
///   brine::RemovedTempFiles removed = brine::remove_stale_temp_files(checkpoint_dir);
///   if (removed.count() != 0)
///     std::cerr << "removed " << removed.count() << " interrupted saves\n";
BRINE_API RemovedTempFiles remove_stale_temp_files(const std::filesystem::path& path_or_directory);

/// Reads a whole file. Throws IoError naming the path.
BRINE_API std::string read_file(const std::filesystem::path& path);

}  // namespace brine
