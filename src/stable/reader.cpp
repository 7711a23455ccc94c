// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// stable/reader.cpp: validating the whole CBOR document, then decoding values into the
// state model. See docs/format/stable-v1.md.

#include <cmath>
#include <cstring>
#include <string>

#include "brine/stable.hpp"
#include "stable/cbor.hpp"
#include "stable/reader_impl.hpp"
#include "util/xxhash.hpp"

// The walks below recurse once per level of the document, up to LoadOptions::max_nesting()
// levels, so each level must cost a small stack frame, in sanitizer builds too. Error
// messages are therefore built in functions kept out of line (the std::string temporaries
// of a message would otherwise take room in every recursive frame, used or not), and each
// kind of container is decoded by a function of its own, not inlined into the dispatcher.
#if defined(__GNUC__)
#define BRINE_STABLE_OUT_OF_LINE __attribute__((noinline))
#else
#define BRINE_STABLE_OUT_OF_LINE
#endif

namespace brine {
namespace {

struct Head {
  unsigned major;
  std::uint8_t info;  // the low 5 bits
  std::uint64_t argument;
  bool indefinite;
};

/// A cursor over a CBOR document in memory. Every read checks the bounds; the first pass
/// (scan) validates the whole document so that decoding never meets a surprise.
class Cursor {
 public:
  Cursor(std::string_view bytes, const LoadOptions& options, std::string source)
      : data_(reinterpret_cast<const std::uint8_t*>(bytes.data())),
        size_(bytes.size()),
        options_(options),
        source_(std::move(source)) {}

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

  std::uint8_t peek() const {
    if (pos >= size_) fail(errc::truncated_input, "document ends early");
    return data_[pos];
  }

  Head head() {
    std::size_t at = pos;
    std::uint8_t b = peek();
    ++pos;
    Head h{static_cast<unsigned>(b >> 5), static_cast<std::uint8_t>(b & 31), 0, false};
    if (h.info < 24) {
      h.argument = h.info;
    } else if (h.info <= 27) {
      std::size_t n = std::size_t{1} << (h.info - 24);
      if (size_ - pos < n) fail(errc::truncated_input, "document ends inside a CBOR head", at);
      for (std::size_t i = 0; i < n; ++i) h.argument = (h.argument << 8) | data_[pos + i];
      pos += n;
    } else if (h.info == 31 && (h.major == 4 || h.major == 5 || h.major == 7)) {
      h.indefinite = true;
    } else {
      fail_additional_information(h.info, at);
    }
    return h;
  }

  /// The bytes of a definite string whose head was just read.
  std::string_view take(std::uint64_t n) {
    if (n > size_ - pos) fail_take(n);
    std::string_view v(reinterpret_cast<const char*>(data_ + pos), static_cast<std::size_t>(n));
    pos += static_cast<std::size_t>(n);
    return v;
  }

  /// Checks a container count against the bytes left (each item takes at least one byte)
  /// and the element limit, before anything is reserved for it.
  std::size_t count(std::uint64_t n, std::uint64_t min_bytes_each) {
    if (n > options_.max_elements || n > (size_ - pos) / min_bytes_each) fail_count(n);
    return static_cast<std::size_t>(n);
  }

  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  const LoadOptions& options() const { return options_; }

  std::size_t pos = 0;

 private:
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

  const std::uint8_t* data_;
  std::size_t size_;
  const LoadOptions& options_;
  std::string source_;
};

}  // namespace

namespace {

/// Validates (scan) and decodes (decode) CBOR items. Both passes walk the document in
/// order, so the stringref table the scan builds matches what decode sees.
class Walker {
 public:
  Walker(Cursor& cursor, StableReader::Impl& impl)
      : c_(cursor),
        impl_(impl),
        string_bytes_limit_(cursor.options().max_string_bytes(cursor.size())) {}

  void note_string(std::string_view s) {
    if (s.size() >= cbor::stringref_min_length(impl_.strings.size())) impl_.strings.push_back(s);
  }

  std::string_view string_ref(std::uint64_t index) {
    if (index >= impl_.strings.size()) fail_string_ref(index);
    return impl_.strings[static_cast<std::size_t>(index)];
  }

  /// Counts `n` bytes of string about to be built for the item at `at`. Literal strings are
  /// bounded by the input, but a reference of 3 bytes can repeat a string of any length:
  /// without a total, a 1 MB archive would decode to about 100 GB of text. See
  /// LoadOptions::max_string_expansion.
  void produce_string(std::size_t n, std::size_t at) {
    impl_.string_bytes += n;
    if (impl_.string_bytes > string_bytes_limit_) fail_string_bytes(at);
  }

  /// Validates one item and everything inside it.
  void scan(std::size_t depth) {
    if (depth > c_.options().max_nesting()) c_.fail_nesting();
    std::size_t at = c_.pos;
    Head h = c_.head();
    switch (h.major) {
      case 0:
      case 1:
        return;
      case 2:
      case 3:
        note_string(c_.take(h.argument));
        return;
      case 4:
      case 5:
        scan_container(h, depth);
        return;
      case 6:
        scan_tag(h.argument, depth, at);
        return;
      case 7:
        if (h.indefinite) c_.fail(errc::corrupt_data, "unexpected CBOR break", at);
        if (h.info == 20 || h.info == 21 || h.info == 22 || h.info >= 25) return;
        fail_simple_value(h.info, at);
    }
  }

  BRINE_STABLE_OUT_OF_LINE void scan_container(const Head& h, std::size_t depth) {
    std::uint64_t per = h.major == 5 ? 2 : 1;
    if (h.indefinite) {
      while (c_.peek() != 0xFF) scan(depth + 1);
      ++c_.pos;
      return;
    }
    std::size_t n = c_.count(h.argument, per);
    for (std::size_t i = 0; i < n * per; ++i) scan(depth + 1);
  }

  BRINE_STABLE_OUT_OF_LINE void scan_tag(std::uint64_t tag, std::size_t depth, std::size_t at) {
    if (tag == cbor::kTagStringRef) {
      Head h = c_.head();
      if (h.major != 0) c_.fail(errc::corrupt_data, "string reference without an index", at);
      string_ref(h.argument);
      return;
    }
    if (tag == cbor::kTagSharedRef) {
      Head h = c_.head();
      if (h.major != 0 || h.argument >= shared_scanned_)
        c_.fail(errc::corrupt_data, "shared reference to an object not defined before", at);
      return;
    }
    // A tag wraps exactly one item: the item counts the level (as in decode), so that an
    // object costs the same levels in every encoding (LoadOptions::max_nesting()).
    if (tag == cbor::kTagShareable) {
      ++shared_scanned_;
      scan(depth);
      return;
    }
    if (tag == cbor::kTagObject) {
      scan(depth);
      return;
    }
    scan_typed_array(tag, at);
  }

  BRINE_STABLE_OUT_OF_LINE void scan_typed_array(std::uint64_t tag, std::size_t at) {
    if (std::size_t each = cbor::typed_array_element_size(tag)) {
      std::size_t inner = c_.pos;
      Head h = c_.head();
      if (h.major != 2)
        c_.fail(errc::corrupt_data,
                "typed array tag " + std::to_string(tag) + " without a byte string", inner);
      std::string_view body = c_.take(h.argument);
      if (body.size() % each != 0)
        c_.fail(errc::corrupt_data,
                "typed array of " + std::to_string(body.size()) +
                    " bytes is not a whole number of " + std::to_string(each) + "-byte elements",
                inner);
      note_string(body);
      return;
    }
    fail_tag(tag, at);
  }

  std::string text_or_ref() {
    std::size_t at = c_.pos;
    Head h = c_.head();
    if (h.major == 3) {
      std::string_view s = c_.take(h.argument);
      note_string(s);
      produce_string(s.size(), at);
      return std::string(s);
    }
    if (h.major == 6 && h.argument == cbor::kTagStringRef) {
      Head i = c_.head();
      std::string_view s = string_ref(i.argument);
      produce_string(s.size(), at);
      return std::string(s);
    }
    c_.fail(errc::corrupt_data, "expected a text string", at);
  }

  Value decode(std::size_t depth) {
    if (depth > c_.options().max_nesting()) c_.fail_nesting();
    std::size_t at = c_.pos;
    Head h = c_.head();
    switch (h.major) {
      case 0:
        return Value(h.argument);
      case 1:
        if (h.argument > static_cast<std::uint64_t>(INT64_MAX))
          c_.fail(errc::corrupt_data, "negative integer below -2^63", at);
        return Value(-1 - static_cast<std::int64_t>(h.argument));
      case 2:
      case 3:
        return decode_string(h, at);
      case 4:
        return decode_list(h, depth);
      case 5:
        return decode_map(h, depth);
      case 6:
        return decode_tag(h.argument, depth, at);
      default:
        return decode_simple(h, at);
    }
  }

  BRINE_STABLE_OUT_OF_LINE Value decode_string(const Head& h, std::size_t at) {
    std::string_view s = c_.take(h.argument);
    note_string(s);
    produce_string(s.size(), at);
    if (h.major == 2) return Value(Bytes{std::vector<std::uint8_t>(s.begin(), s.end())});
    return Value(std::string(s));
  }

  BRINE_STABLE_OUT_OF_LINE Value decode_list(const Head& h, std::size_t depth) {
    Value::List list;
    if (h.indefinite) {
      while (c_.peek() != 0xFF) list.push_back(decode(depth + 1));
      ++c_.pos;
    } else {
      std::size_t n = c_.count(h.argument, 1);
      list.reserve(n);
      for (std::size_t i = 0; i < n; ++i) list.push_back(decode(depth + 1));
    }
    return Value(std::move(list));
  }

  BRINE_STABLE_OUT_OF_LINE Value decode_map(const Head& h, std::size_t depth) {
    Value::Map map;
    auto entry = [&] {
      std::size_t key_at = c_.pos;
      std::string key = text_or_ref();
      Value v = decode(depth + 1);
      if (!map.emplace(std::move(key), std::move(v)).second)
        c_.fail(errc::corrupt_data, "duplicate map key", key_at);
    };
    if (h.indefinite) {
      while (c_.peek() != 0xFF) entry();
      ++c_.pos;
    } else {
      std::size_t n = c_.count(h.argument, 2);
      for (std::size_t i = 0; i < n; ++i) entry();
    }
    return Value(std::move(map));
  }

  BRINE_STABLE_OUT_OF_LINE Value decode_simple(const Head& h, std::size_t at) {
    switch (h.info) {
      case 20:
        return Value(false);
      case 21:
        return Value(true);
      case 22:
        return Value();
      case 25:
        return Value(half_to_double(static_cast<std::uint16_t>(h.argument)));
      case 26: {
        std::uint32_t bits = static_cast<std::uint32_t>(h.argument);
        float f;
        std::memcpy(&f, &bits, 4);
        return Value(static_cast<double>(f));
      }
      case 27: {
        double d;
        std::memcpy(&d, &h.argument, 8);
        return Value(d);
      }
      default:
        c_.fail(errc::corrupt_data, "unsupported CBOR simple value", at);
    }
  }

  BRINE_STABLE_OUT_OF_LINE Value decode_tag(std::uint64_t tag, std::size_t depth, std::size_t at) {
    if (tag == cbor::kTagStringRef) return decode_string_ref(at);
    if (tag == cbor::kTagSharedRef) {
      Head i = c_.head();
      if (i.major != 0 || i.argument >= impl_.shared_seen)
        c_.fail(errc::corrupt_data, "shared reference to an object not defined before", at);
      return Value(Reference{i.argument});
    }
    if (tag == cbor::kTagShareable) {
      std::uint64_t id = impl_.shared_seen++;
      std::size_t inner = c_.pos;
      Value v = decode(depth + 1);
      if (v.kind() != ValueKind::object)
        c_.fail(errc::corrupt_data, "shareable value is not an object", inner);
      v.as_object().shared_id = id;
      return v;
    }
    if (tag == cbor::kTagObject) return decode_object(depth, at);
    return decode_typed_array(tag, at);
  }

  BRINE_STABLE_OUT_OF_LINE Value decode_string_ref(std::size_t at) {
    Head i = c_.head();
    std::string_view s = string_ref(i.argument);
    produce_string(s.size(), at);
    return Value(std::string(s));
  }

  BRINE_STABLE_OUT_OF_LINE Value decode_typed_array(std::uint64_t tag, std::size_t at) {
    std::size_t each = cbor::typed_array_element_size(tag);
    if (each == 0) fail_tag(tag, at);
    Head h = c_.head();
    if (h.major != 2) c_.fail(errc::corrupt_data, "typed array without a byte string", at);
    std::string_view body = c_.take(h.argument);
    note_string(body);
    if (body.size() % each != 0)
      c_.fail(errc::corrupt_data, "typed array size is not a whole number of elements", at);
    if (tag == 64) {
      produce_string(body.size(), at);
      return Value(Bytes{std::vector<std::uint8_t>(body.begin(), body.end())});
    }
    std::size_t n = body.size() / each;
    Value::List list;
    list.reserve(n);
    const char* p = body.data();
    for (std::size_t i = 0; i < n; ++i, p += each) list.push_back(typed_element(tag, p));
    return Value(std::move(list));
  }

  BRINE_STABLE_OUT_OF_LINE Value decode_object(std::size_t depth, std::size_t at) {
    Head h = c_.head();
    if (h.major != 4 || h.indefinite || h.argument < 2 || h.argument > 3)
      c_.fail(errc::corrupt_data, "object tag 27 needs [type name, version, {fields}]", at);
    std::string type = text_or_ref();
    if (type == cbor::kPathType || type == cbor::kFunctionType) {
      if (h.argument != 2) fail_named("'", type, "' needs one text value", at);
      std::string value = text_or_ref();
      if (type == cbor::kPathType) return Value(PathValue{std::move(value)});
      return Value(FunctionRef{std::move(value)});
    }
    if (h.argument != 3)
      c_.fail(errc::corrupt_data, "object tag 27 needs [type name, version, {fields}]", at);
    Object o;
    o.type = std::move(type);
    Head version = c_.head();
    if (version.major != 0 || version.argument > 0xFFFFFFFFu)
      c_.fail(errc::corrupt_data, "object version is not a 32-bit unsigned integer", at);
    o.version = static_cast<std::uint32_t>(version.argument);
    Head fields = c_.head();
    if (fields.major != 5 || fields.indefinite)
      c_.fail(errc::corrupt_data, "object fields are not a map", at);
    std::size_t n = c_.count(fields.argument, 2);
    o.fields.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      std::size_t key_at = c_.pos;
      std::string name = text_or_ref();
      if (o.find(name) != nullptr) fail_named("duplicate field '", name, "'", key_at);
      o.fields.push_back(Field{std::move(name), decode(depth + 1)});
    }
    return Value(std::move(o));
  }

 private:
  [[noreturn]] BRINE_STABLE_OUT_OF_LINE void fail_string_ref(std::uint64_t index) const {
    c_.fail(errc::corrupt_data, "string reference " + std::to_string(index) + " is not defined");
  }
  [[noreturn]] BRINE_STABLE_OUT_OF_LINE void fail_string_bytes(std::size_t at) const {
    const LoadOptions& o = c_.options();
    c_.fail(errc::limit_exceeded,
            "decoded strings reach " + std::to_string(impl_.string_bytes) +
                " bytes, more than LoadOptions::max_string_expansion (" +
                std::to_string(o.max_string_expansion) + ") x the archive's " +
                std::to_string(c_.size()) + " bytes + " +
                std::to_string(LoadOptions::kStringAllowance) +
                " (string references repeat earlier strings)",
            at);
  }
  [[noreturn]] BRINE_STABLE_OUT_OF_LINE void fail_simple_value(unsigned info,
                                                               std::size_t at) const {
    c_.fail(errc::corrupt_data, "unsupported CBOR simple value " + std::to_string(info), at);
  }
  /// The messages that quote a name: `before` name `after`.
  [[noreturn]] BRINE_STABLE_OUT_OF_LINE void fail_named(const char* before, const std::string& name,
                                                        const char* after, std::size_t at) const {
    c_.fail(errc::corrupt_data, before + name + after, at);
  }
  [[noreturn]] BRINE_STABLE_OUT_OF_LINE void fail_tag(std::uint64_t tag, std::size_t at) const {
    c_.fail(errc::corrupt_data, "unsupported CBOR tag " + std::to_string(tag), at);
  }

  static double half_to_double(std::uint16_t h) {
    int exponent = (h >> 10) & 0x1F;
    int mantissa = h & 0x3FF;
    double v = exponent == 0    ? std::ldexp(mantissa, -24)
               : exponent == 31 ? (mantissa == 0 ? HUGE_VAL : std::nan(""))
                                : std::ldexp(mantissa + 1024, exponent - 25);
    return (h & 0x8000) ? -v : v;
  }
  static Value typed_element(std::uint64_t tag, const char* p) {
    auto get = [p](auto x) {
      std::memcpy(&x, p, sizeof x);  // little-endian typed arrays; brine targets LE hosts
      return x;
    };
    switch (tag) {
      case 72:
        return Value(static_cast<std::int64_t>(get(std::int8_t{})));
      case 69:
        return Value(static_cast<std::uint64_t>(get(std::uint16_t{})));
      case 77:
        return Value(static_cast<std::int64_t>(get(std::int16_t{})));
      case 70:
        return Value(static_cast<std::uint64_t>(get(std::uint32_t{})));
      case 78:
        return Value(static_cast<std::int64_t>(get(std::int32_t{})));
      case 71:
        return Value(get(std::uint64_t{}));
      case 79:
        return Value(get(std::int64_t{}));
      case 85:
        return Value(static_cast<double>(get(float{})));
      default:
        return Value(get(double{}));
    }
  }

  Cursor& c_;
  StableReader::Impl& impl_;
  std::uint64_t string_bytes_limit_;  // LoadOptions::max_string_bytes of this document
  std::uint64_t shared_scanned_ = 0;
};

void open_document(StableReader::Impl& impl, Cursor& c) {
  Walker w(c, impl);
  Head h = c.head();
  if (h.major != 6 || h.argument != cbor::kTagSelfDescribe)
    c.fail(errc::corrupt_data, "not a brine stable archive (no CBOR self-describe tag)", 0);
  h = c.head();
  if (h.major != 6 || h.argument != cbor::kTagStringRefNamespace)
    c.fail(errc::corrupt_data, "not a brine stable archive (no stringref namespace)");
  h = c.head();
  if (h.major != 5 || h.indefinite || h.argument != 4)
    c.fail(errc::corrupt_data, "not a brine stable archive (header is not a 4-entry map)");
  auto expect_key = [&](const char* key) {
    std::size_t at = c.pos;
    if (w.text_or_ref() != key)
      c.fail(errc::corrupt_data, std::string("expected key '") + key + "'", at);
  };
  expect_key("format");
  if (w.text_or_ref() != cbor::kFormatName)
    c.fail(errc::corrupt_data, "not a brine stable archive");
  expect_key("format_version");
  std::size_t version_at = c.pos;
  Head version = c.head();
  if (version.major != 0 || version.argument == 0)
    c.fail(errc::corrupt_data, "invalid format version", version_at);
  if (version.argument > stable_format_version)
    c.fail(errc::newer_format_version,
           "archive written in stable format version " + std::to_string(version.argument) +
               ", this build of brine reads up to version " +
               std::to_string(stable_format_version) + ": upgrade brine",
           version_at);
  impl.format_version = static_cast<std::uint32_t>(version.argument);
  expect_key("values");
  std::size_t values_begin = c.pos;
  Head values = c.head();
  if (values.major != 4) c.fail(errc::corrupt_data, "'values' is not an array", values_begin);
  // Validate every value before decoding any: a corrupt tail is found before the head is
  // handed out.
  std::size_t table_before = impl.strings.size();
  if (values.indefinite) {
    while (c.peek() != 0xFF) {
      impl.values.push_back(c.pos);
      w.scan(1);
    }
    ++c.pos;
  } else {
    std::size_t n = c.count(values.argument, 1);
    for (std::size_t i = 0; i < n; ++i) {
      impl.values.push_back(c.pos);
      w.scan(1);
    }
  }
  std::size_t values_end = c.pos;
  impl.values_end = values_end - (values.indefinite ? 1 : 0);
  expect_key("checksum");
  std::size_t checksum_at = c.pos;
  Head checksum = c.head();
  if (checksum.major != 0)
    c.fail(errc::corrupt_data, "checksum is not an unsigned integer", checksum_at);
  if (c.pos != c.size()) c.fail(errc::corrupt_data, "bytes after the end of the archive");
  // LoadOptions::verify_checksums off skips only this comparison (as for binary archives):
  // the structure is still validated in full above.
  if (c.options().verify_checksums &&
      XXH3_64bits(c.data() + values_begin, values_end - values_begin) != checksum.argument)
    c.fail(errc::checksum_mismatch, "checksum mismatch: the archive is corrupt", checksum_at);
  // Decoding walks the values again and re-notes their strings; keep only the header's.
  impl.strings.resize(table_before);
}

}  // namespace

StableReader::StableReader(ByteSource& source, const Registry& registry, const LoadOptions& options)
    : impl_(std::make_unique<Impl>()),
      registry_(registry),
      options_(options),
      description_(source.description()) {
  if (source.has_direct_view()) {
    impl_->bytes = source.direct_view();
  } else {
    char chunk[65536];
    for (;;) {
      std::size_t n = source.read(chunk, sizeof chunk);
      impl_->owned.append(chunk, n);
      if (n < sizeof chunk) break;
    }
    impl_->bytes = impl_->owned.view();
  }
  Cursor c(impl_->bytes, options_, description_);
  open_document(*impl_, c);
}

StableReader::~StableReader() = default;

Value StableReader::read_value() {
  if (impl_->next >= impl_->values.size()) {
    ErrorContext where;
    where.source = description_;
    throw FormatError(errc::truncated_input, "no more values in the stable archive", where);
  }
  Cursor c(impl_->bytes, options_, description_);
  c.pos = impl_->values[impl_->next++];
  Walker w(c, *impl_);
  return w.decode(1);
}

bool StableReader::at_end() const noexcept { return impl_->next >= impl_->values.size(); }
std::size_t StableReader::value_count() const noexcept { return impl_->values.size(); }
std::uint32_t StableReader::format_version() const noexcept { return impl_->format_version; }
std::size_t StableReader::values_read_directly() const noexcept { return impl_->read_directly; }

std::vector<Value> read_stable_values(std::string_view bytes, const LoadOptions& options) {
  MemorySource source(bytes);
  Registry registry;
  StableReader reader(source, registry, options);
  std::vector<Value> out;
  while (!reader.at_end()) out.push_back(reader.read_value());
  return out;
}

}  // namespace brine
