// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// stable/cursor.hpp: the one CBOR cursor of the stable read path (private). It decodes heads,
// keeps the stringref table (docs/format/stable-v1.md §3), counts the string bytes decoding
// produces (LoadOptions::max_string_expansion) and bounds nesting; the validating scan and
// the state-model decode (reader.cpp) and StableDecoder (decoder.cpp) all drive it, so that
// the three walks agree on what a document holds and what it may cost.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "brine/error.hpp"
#include "brine/limits.hpp"
#include "stable/cbor.hpp"

// The walks recurse once per level of the document, up to LoadOptions::max_nesting() levels,
// so each level must cost a small stack frame, in sanitizer builds too. Error messages are
// therefore built in functions kept out of line (the std::string temporaries of a message
// would otherwise take room in every recursive frame, used or not).
#if defined(__GNUC__)
#define BRINE_STABLE_OUT_OF_LINE __attribute__((noinline))
#define BRINE_STABLE_INLINE inline __attribute__((always_inline))
#else
#define BRINE_STABLE_OUT_OF_LINE
#define BRINE_STABLE_INLINE inline
#endif

namespace brine::cbor {

struct Head {
  unsigned major;
  std::uint8_t info;  // the low 5 bits
  std::uint64_t argument;
  bool indefinite;
};

/// What decoding a document accumulates across its values: the stringref table, which grows
/// in document order, and the bytes of strings produced so far (all values, both paths).
struct Strings {
  std::vector<std::string_view> table;
  std::uint64_t produced = 0;
  // Set once the validating scan has noted every string of the document: each reference was
  // checked then against the strings before it, so the walks after it resolve references in
  // the whole table and note nothing again (a second table, built string by string while
  // decoding, was a tenth of a records load).
  bool complete = false;
};

/// A cursor over a CBOR document in memory. Every read checks the bounds and throws a typed
/// error naming the byte offset: the scan validates the whole document with it, so that the
/// two decoding walks after it never meet a surprise, and when they do, the verdict is the
/// same error the scan would have given.
class Cursor {
 public:
  Cursor(std::string_view bytes, const LoadOptions& options, const std::string& source,
         Strings& strings)
      : data_(reinterpret_cast<const std::uint8_t*>(bytes.data())),
        size_(bytes.size()),
        options_(options),
        source_(source),
        strings_(strings),
        string_bytes_limit_(options.max_string_bytes(bytes.size())),
        max_nesting_(options.max_nesting()) {}

  std::size_t pos = 0;

  // ------------------------------------------------------------------ heads and items

  std::uint8_t peek() const {
    if (pos >= size_) fail_end();
    return data_[pos];
  }
  /// Whether the next two bytes are `b0 b1` (a one-byte tag head such as D8 1C).
  bool next_is(std::uint8_t b0, std::uint8_t b1) const {
    return size_ - pos >= 2 && data_[pos] == b0 && data_[pos + 1] == b1;
  }

  BRINE_STABLE_INLINE Head head() {
    std::size_t at = pos;
    std::uint8_t b = peek();
    ++pos;
    Head h{static_cast<unsigned>(b >> 5), static_cast<std::uint8_t>(b & 31), 0, false};
    if (h.info < 24) {
      h.argument = h.info;
    } else if (h.info <= 27) {
      std::size_t n = std::size_t{1} << (h.info - 24);
      if (size_ - pos < n) fail(errc::truncated_input, "document ends inside a CBOR head", at);
      h.argument = long_argument(h.info, data_ + pos);
      pos += n;
    } else if (h.info == 31 && (h.major == 4 || h.major == 5 || h.major == 7)) {
      h.indefinite = true;
    } else {
      fail_additional_information(h.info, at);
    }
    return h;
  }

  /// The argument that follows a head's first byte when its additional information `info` is
  /// 24 to 27 (1, 2, 4 or 8 bytes at `p`, all present). One fixed-size big-endian load per
  /// width rather than a byte loop: every walk reads a head for nearly every item.
  static std::uint64_t long_argument(unsigned info, const std::uint8_t* p) noexcept {
    switch (info) {
      case 24:
        return p[0];
      case 25:
        return static_cast<std::uint64_t>(p[0]) << 8 | p[1];
      case 26:
        return load_big_endian<std::uint32_t>(p);
      default:
        return load_big_endian<std::uint64_t>(p);
    }
  }

  template <class U>
  static U load_big_endian(const std::uint8_t* p) noexcept {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    U v;
    std::memcpy(&v, p, sizeof v);
    if constexpr (sizeof(U) == 4)
      return __builtin_bswap32(v);
    else
      return __builtin_bswap64(v);
#else
    U v = 0;
    for (std::size_t i = 0; i < sizeof(U); ++i) v = static_cast<U>(v << 8) | p[i];
    return v;
#endif
  }

  /// The bytes of a definite string whose head was just read.
  std::string_view take(std::uint64_t n) {
    if (n > size_ - pos) fail_take(n);
    std::string_view v(reinterpret_cast<const char*>(data_ + pos), static_cast<std::size_t>(n));
    pos += static_cast<std::size_t>(n);
    return v;
  }

  /// Checks a container count against the bytes left (each item takes at least
  /// `min_bytes_each` bytes) and the element limit, before anything is reserved for it.
  std::size_t count(std::uint64_t n, std::uint64_t min_bytes_each) {
    if (n > options_.max_elements || n > (size_ - pos) / min_bytes_each) fail_count(n);
    return static_cast<std::size_t>(n);
  }

  // ------------------------------------------------------------------ strings

  /// A literal string (text, bytes, a typed array's body) enters the stringref table when
  /// it is long enough, wherever it is: every walk notes every string it passes, so that
  /// the table a reference indexes is the same in all three.
  void note_string(std::string_view s) {
    if (!strings_.complete && s.size() >= stringref_min_length(strings_.table.size()))
      strings_.table.push_back(s);
  }

  std::string_view string_ref(std::uint64_t index) const {
    if (index >= strings_.table.size()) fail_string_ref(index);
    return strings_.table[static_cast<std::size_t>(index)];
  }

  /// Counts `n` bytes of string about to be built for the item at `at`. Literal strings are
  /// bounded by the input, but a reference of 3 bytes can repeat a string of any length:
  /// without a total, a 1 MB archive would decode to about 100 GB of text. See
  /// LoadOptions::max_string_expansion.
  void produce_string(std::size_t n, std::size_t at) {
    strings_.produced += n;
    if (strings_.produced > string_bytes_limit_) fail_string_bytes(at);
  }

  /// A text string or a reference to one (noted and counted); false, with the head read,
  /// when the next item is neither.
  bool text(std::string_view& out) {
    std::size_t at = pos;
    // Text of up to 23 bytes, whose length is in its first byte (names, keys, short values),
    // without decoding a head.
    if (pos < size_ && data_[pos] >= 0x60 && data_[pos] < 0x78 &&
        static_cast<std::size_t>(data_[pos] - 0x60) < size_ - pos) {
      out = std::string_view(reinterpret_cast<const char*>(data_ + pos + 1), data_[pos] - 0x60);
      pos += 1 + out.size();
      note_string(out);
      produce_string(out.size(), at);
      return true;
    }
    // A reference to one of the first 24 strings (field and type names), likewise.
    if (size_ - pos >= 3 && data_[pos] == 0xD8 && data_[pos + 1] == kTagStringRef &&
        data_[pos + 2] < 24) {
      pos += 3;
      out = string_ref(data_[pos - 1]);
      produce_string(out.size(), at);
      return true;
    }
    Head h = head();
    if (h.major == 3) {
      out = take(h.argument);
      note_string(out);
    } else if (h.major == 6 && h.argument == kTagStringRef) {
      Head i = head();
      if (i.major != 0) fail(errc::corrupt_data, "string reference without an index", at);
      out = string_ref(i.argument);
    } else {
      return false;
    }
    produce_string(out.size(), at);
    return true;
  }

  /// A place to come back to after looking ahead: the position and what reading counted.
  struct Mark {
    std::size_t pos;
    std::size_t strings;
    std::uint64_t produced;
  };
  Mark mark() const noexcept { return Mark{pos, strings_.table.size(), strings_.produced}; }
  void rewind(const Mark& m) noexcept {
    pos = m.pos;
    if (!strings_.complete) strings_.table.resize(m.strings);
    strings_.produced = m.produced;
  }

  // ------------------------------------------------------------------ nesting

  /// Every walk calls this once per level it enters (LoadOptions::max_nesting()).
  void check_nesting(std::size_t depth) const {
    if (depth > max_nesting_) fail_nesting();
  }
  bool nesting_allows(std::size_t depth) const noexcept { return depth <= max_nesting_; }

  // ------------------------------------------------------------------ errors

  [[noreturn]] BRINE_STABLE_OUT_OF_LINE void fail(errc code, const std::string& message,
                                                  std::size_t at) const {
    ErrorContext c;
    c.source = source_;
    c.byte_offset = at;
    detail::throw_error(code, message, c);
  }
  [[noreturn]] BRINE_STABLE_OUT_OF_LINE void fail(errc code, const char* message,
                                                  std::size_t at) const {
    fail(code, std::string(message), at);
  }
  [[noreturn]] void fail(errc code, const std::string& message) const { fail(code, message, pos); }
  [[noreturn]] void fail(errc code, const char* message) const { fail(code, message, pos); }
  [[noreturn]] BRINE_STABLE_OUT_OF_LINE void fail_nesting() const {
    fail(errc::limit_exceeded, detail::nesting_message(options_));
  }

  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  const LoadOptions& options() const { return options_; }
  Strings& strings() { return strings_; }

 private:
  [[noreturn]] BRINE_STABLE_OUT_OF_LINE void fail_end() const {
    fail(errc::truncated_input, "document ends early");
  }
  [[noreturn]] BRINE_STABLE_OUT_OF_LINE void fail_additional_information(unsigned info,
                                                                         std::size_t at) const {
    fail(errc::corrupt_data, "invalid CBOR additional information " + std::to_string(info), at);
  }
  [[noreturn]] BRINE_STABLE_OUT_OF_LINE void fail_take(std::uint64_t n) const {
    fail(errc::truncated_input, "string of " + std::to_string(n) + " bytes, only " +
                                    std::to_string(size_ - pos) + " remain");
  }
  [[noreturn]] BRINE_STABLE_OUT_OF_LINE void fail_count(std::uint64_t n) const {
    if (n > options_.max_elements)
      fail(errc::limit_exceeded, "count of " + std::to_string(n) +
                                     " elements exceeds LoadOptions::max_elements (" +
                                     std::to_string(options_.max_elements) + ")");
    fail(errc::truncated_input, "count of " + std::to_string(n) + " elements, only " +
                                    std::to_string(size_ - pos) + " bytes remain");
  }
  [[noreturn]] BRINE_STABLE_OUT_OF_LINE void fail_string_ref(std::uint64_t index) const {
    fail(errc::corrupt_data, "string reference " + std::to_string(index) + " is not defined");
  }
  [[noreturn]] BRINE_STABLE_OUT_OF_LINE void fail_string_bytes(std::size_t at) const {
    fail(errc::limit_exceeded,
         "decoded strings reach " + std::to_string(strings_.produced) +
             " bytes, more than LoadOptions::max_string_expansion (" +
             std::to_string(options_.max_string_expansion) + ") x the archive's " +
             std::to_string(size_) + " bytes + " + std::to_string(LoadOptions::kStringAllowance) +
             " (string references repeat earlier strings)",
         at);
  }

  const std::uint8_t* data_;
  std::size_t size_;
  const LoadOptions& options_;
  const std::string& source_;
  Strings& strings_;
  std::uint64_t string_bytes_limit_;  // LoadOptions::max_string_bytes of this document
  std::size_t max_nesting_;
};

}  // namespace brine::cbor
