// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// io/io.cpp: Buffer, memory and iostream adapters, file descriptor adapters.

#include "brine/io.hpp"

#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <istream>
#include <new>
#include <ostream>
#include <streambuf>
#include <system_error>

#include "brine/error.hpp"

namespace brine {

Buffer::Buffer(const Buffer& other) { append(other.data_, other.size_); }

Buffer& Buffer::operator=(const Buffer& other) {
  if (this != &other) {
    clear();
    append(other.data_, other.size_);
  }
  return *this;
}

Buffer::Buffer(Buffer&& other) noexcept
    : data_(other.data_), size_(other.size_), capacity_(other.capacity_) {
  other.data_ = nullptr;
  other.size_ = other.capacity_ = 0;
}

Buffer& Buffer::operator=(Buffer&& other) noexcept {
  if (this != &other) {
    std::free(data_);
    data_ = other.data_;
    size_ = other.size_;
    capacity_ = other.capacity_;
    other.data_ = nullptr;
    other.size_ = other.capacity_ = 0;
  }
  return *this;
}

Buffer::~Buffer() { std::free(data_); }

void Buffer::reserve(std::size_t n) {
  if (n <= capacity_) return;
  std::size_t grown = capacity_ < 4096 ? 4096 : capacity_ + capacity_ / 2;
  if (grown < n) grown = n;
  // realloc keeps the bytes and, for large blocks, lets the allocator remap pages instead
  // of copying them.
  void* p = std::realloc(data_, grown);
  if (p == nullptr) throw std::bad_alloc();
  data_ = static_cast<std::uint8_t*>(p);
  capacity_ = grown;
}

std::size_t MemorySource::read(void* bytes, std::size_t n) {
  std::size_t available = size_ - pos_;
  if (n > available) n = available;
  if (n != 0) std::memcpy(bytes, begin_ + pos_, n);
  pos_ += n;
  return n;
}

void StreamSink::write(const void* bytes, std::size_t n) {
  stream_.write(static_cast<const char*>(bytes), static_cast<std::streamsize>(n));
  if (!stream_) {
    ErrorContext where;
    where.source = description_;
    detail::throw_io_error("cannot write " + std::to_string(n) + " bytes to the stream", {}, where);
  }
}

namespace {
// std::streambuf keeps its put area protected. A class derived from it may name those
// members, and a pointer to them applies to any stream buffer: this reads and advances the
// put area of whichever buffer the stream has, without changing the stream.
struct PutArea : std::streambuf {
  static char* next(std::streambuf& b) { return (b.*&PutArea::pptr)(); }
  static char* end(std::streambuf& b) { return (b.*&PutArea::epptr)(); }
  static void advance(std::streambuf& b, std::size_t n) {
    // pbump takes an int; a put area may be larger.
    while (n > 0) {
      const std::size_t step = n < INT_MAX ? n : INT_MAX;
      (b.*&PutArea::pbump)(static_cast<int>(step));
      n -= step;
    }
  }
};
}  // namespace

std::uint8_t* StreamSink::lend(std::size_t n, std::size_t& available) {
  available = 0;
  std::streambuf* buffer = stream_.rdbuf();
  // A stream in a failed state, or one that must flush after every output (unitbuf), gets
  // its bytes through write(), which reports or does that.
  if (buffer == nullptr || !stream_.good() || (stream_.flags() & std::ios_base::unitbuf))
    return nullptr;
  char* next = PutArea::next(*buffer);
  char* end = PutArea::end(*buffer);
  if (next == nullptr || static_cast<std::size_t>(end - next) < n) return nullptr;
  available = static_cast<std::size_t>(end - next);
  return reinterpret_cast<std::uint8_t*>(next);
}

void StreamSink::commit_loan(std::size_t n) {
  if (n != 0) PutArea::advance(*stream_.rdbuf(), n);
}

void StreamSink::flush() {
  stream_.flush();
  if (!stream_) {
    ErrorContext where;
    where.source = description_;
    detail::throw_io_error("cannot flush the stream", {}, where);
  }
}

std::size_t StreamSource::read(void* bytes, std::size_t n) {
  stream_.read(static_cast<char*>(bytes), static_cast<std::streamsize>(n));
  auto got = static_cast<std::size_t>(stream_.gcount());
  pos_ += got;
  if (got < n && stream_.bad()) {
    ErrorContext where;
    where.source = description_;
    where.byte_offset = pos_;
    detail::throw_io_error("cannot read from the stream", {}, where);
  }
  return got;
}

std::size_t FdSource::read(void* bytes, std::size_t n) {
  std::size_t done = 0;
  while (done < n) {
    ssize_t r = ::read(fd_, static_cast<char*>(bytes) + done, n - done);
    if (r == 0) break;
    if (r < 0) {
      if (errno == EINTR) continue;
      ErrorContext where;
      where.source = description_;
      where.byte_offset = pos_ + done;
      detail::throw_io_error("read failed", std::error_code(errno, std::generic_category()), where);
    }
    done += static_cast<std::size_t>(r);
  }
  pos_ += done;
  return done;
}

void FdSink::write(const void* bytes, std::size_t n) {
  std::size_t done = 0;
  while (done < n) {
    ssize_t r = ::write(fd_, static_cast<const char*>(bytes) + done, n - done);
    if (r < 0) {
      if (errno == EINTR) continue;
      ErrorContext where;
      where.source = description_;
      detail::throw_io_error("write failed", std::error_code(errno, std::generic_category()),
                             where);
    }
    done += static_cast<std::size_t>(r);
  }
}

}  // namespace brine
