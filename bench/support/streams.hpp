// brine — versioned object persistence for C++17.
// bench/support/streams.hpp: the in-memory stream buffers of WORKLOADS.md "What is timed":
// OutBuf (growable, keeps its capacity) under std::ostream, InBuf (read-only view) under
// std::istream.
#pragma once

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstring>
#include <memory>
#include <streambuf>
#include <string_view>

namespace brine_bench {

/// A growable output buffer that keeps its memory from one save to the next.
/// After the first (untimed) save has grown it, later saves write into pages that are
/// already mapped, so a timed save measures serialization, not page faults or realloc copies.
class OutBuf : public std::streambuf {
 public:
  OutBuf() = default;
  OutBuf(const OutBuf&) = delete;
  OutBuf& operator=(const OutBuf&) = delete;

  /// Forgets the contents, keeps the capacity.
  void clear() { set_put_area(0); }

  std::size_t size() const { return static_cast<std::size_t>(pptr() - pbase()); }
  std::size_t capacity() const { return capacity_; }
  /// The bytes written since the last clear(); valid until the next write or clear().
  std::string_view view() const { return {pbase(), size()}; }

  /// Lends the next `n` bytes of the buffer, uninitialized, and counts them as written: the
  /// handwritten row fills a record in place as a hand-tuned encoder would, with one growth
  /// check per record instead of one per field.
  char* extend(std::size_t n) {
    reserve_for(n);
    char* at = pptr();
    advance(n);
    return at;
  }

 protected:
  int_type overflow(int_type ch) override {
    if (traits_type::eq_int_type(ch, traits_type::eof())) return traits_type::not_eof(ch);
    reserve_for(1);
    *pptr() = traits_type::to_char_type(ch);
    advance(1);
    return ch;
  }

  // Overridden so a large write (a memcpy row, a float vector) is one memcpy after at most
  // one growth, instead of the base class's copy-until-full / overflow-one-char loop.
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (n <= 0) return 0;
    const auto count = static_cast<std::size_t>(n);
    reserve_for(count);
    std::memcpy(pptr(), s, count);
    advance(count);
    return n;
  }

 private:
  void reserve_for(std::size_t extra) {
    const std::size_t used = size();
    if (capacity_ - used >= extra) return;
    // Doubling keeps the number of copies logarithmic during the first save.
    const std::size_t new_capacity = std::max({capacity_ * 2, used + extra, std::size_t{4096}});
    // new char[] leaves the bytes uninitialized: zero-filling would fault every page in a
    // second time for nothing.
    std::unique_ptr<char[]> bigger(new char[new_capacity]);
    if (used > 0) std::memcpy(bigger.get(), data_.get(), used);
    data_ = std::move(bigger);
    capacity_ = new_capacity;
    set_put_area(used);
  }

  void set_put_area(std::size_t offset) {
    setp(data_.get(), data_.get() + capacity_);
    advance(offset);
  }

  // pbump takes an int; archives above 2 GiB must still work.
  void advance(std::size_t n) {
    while (n > 0) {
      const std::size_t step = std::min<std::size_t>(n, INT_MAX);
      pbump(static_cast<int>(step));
      n -= step;
    }
  }

  std::unique_ptr<char[]> data_;
  std::size_t capacity_ = 0;
};

/// A read-only view of bytes as a std::streambuf: an input archive reads the buffer a save
/// wrote with no copy. `bytes` must outlive the InBuf.
class InBuf : public std::streambuf {
 public:
  explicit InBuf(std::string_view bytes) {
    // streambuf's get area is non-const char*, but nothing here writes through it: the base
    // class's pbackfail refuses to put back a different character.
    char* begin = const_cast<char*>(bytes.data());
    setg(begin, begin, begin + bytes.size());
  }
  InBuf(const InBuf&) = delete;
  InBuf& operator=(const InBuf&) = delete;

 protected:
  std::streamsize showmanyc() override { return egptr() - gptr(); }
};

}  // namespace brine_bench
