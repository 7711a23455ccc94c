// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// tensor/npy.cpp: numpy's .npy format, read and written (docs/format/numpy.md).

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "brine/io.hpp"
#include "brine/numpy.hpp"
#include "tensor/npy_format.hpp"

namespace brine {
namespace npy {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicBytes = 6;
// numpy's NPY_MAXDIMS is 32 before numpy 2.0 and 64 since.
constexpr std::size_t kMaxRank = 64;
// Python literals nest only in structured descrs (a list of tuples of lists ...), which brine
// refuses; the bound keeps the recursive parser's stack small whatever the header holds.
constexpr int kMaxLiteralDepth = 16;
// numpy pads the header so that the data starts on a multiple of this (format.py ARRAY_ALIGN).
constexpr std::size_t kArrayAlign = 64;
// numpy leaves room for the growing axis's length to be rewritten in place (format.py
// GROWTH_AXIS_MAX_DIGITS); brine writes the same bytes as numpy.
constexpr std::size_t kGrowthAxisMaxDigits = 21;

[[noreturn]] void fail(errc code, const std::string& message, const std::string& source,
                       std::optional<std::uint64_t> offset = std::nullopt) {
  ErrorContext where;
  where.source = source;
  where.byte_offset = offset;
  detail::throw_error(code, message, where);
}

// ---- the header's Python literal ------------------------------------------------------

// The subset of Python literals a .npy header holds: a dict of strings to strings, booleans,
// tuples of integers, and (in structured descrs, recognised to be refused) lists and tuples.
struct Literal {
  enum class Kind { string, integer, boolean, none, tuple, list, dict };
  Kind kind = Kind::none;
  std::string text;            // string
  std::int64_t integer = 0;    // integer
  bool boolean = false;        // boolean
  std::vector<Literal> items;  // tuple, list; dict: key, value, key, value ...
  std::size_t offset = 0;      // where it starts in the .npy
};

const char* kind_name(Literal::Kind kind) {
  switch (kind) {
    case Literal::Kind::string:
      return "a string";
    case Literal::Kind::integer:
      return "an integer";
    case Literal::Kind::boolean:
      return "a boolean";
    case Literal::Kind::none:
      return "None";
    case Literal::Kind::tuple:
      return "a tuple";
    case Literal::Kind::list:
      return "a list";
    case Literal::Kind::dict:
      return "a dict";
  }
  return "?";
}

// A recursive-descent parser over the header text; `base` is the text's offset in the .npy,
// for the offsets errors report.
class LiteralParser {
 public:
  LiteralParser(std::string_view text, std::size_t base, bool python2_longs,
                const std::string& source)
      : text_(text), base_(base), python2_longs_(python2_longs), source_(source) {}

  Literal parse_header() {
    skip_space();
    if (peek() != '{') syntax("the header does not start with '{'");
    Literal dict = parse_value(0);
    skip_space();
    if (pos_ != text_.size()) syntax("bytes after the header's dict");
    return dict;
  }

 private:
  [[noreturn]] void syntax(const std::string& what) {
    fail(errc::corrupt_data, "malformed .npy header: " + what, source_, base_ + pos_);
  }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool at_end() const { return pos_ >= text_.size(); }
  void skip_space() {
    while (!at_end() && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\t' ||
                         text_[pos_] == '\r'))
      ++pos_;
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) syntax(std::string("expected '") + c + "'");
    ++pos_;
  }

  Literal parse_value(int depth) {
    if (depth >= kMaxLiteralDepth)
      fail(errc::corrupt_data,
           "malformed .npy header: literals nest deeper than " + std::to_string(kMaxLiteralDepth),
           source_, base_ + pos_);
    skip_space();
    Literal value;
    value.offset = base_ + pos_;
    if (at_end()) syntax("the header ends inside its dict");
    char c = peek();
    if (c == '{') {
      value.kind = Literal::Kind::dict;
      ++pos_;
      for (;;) {
        skip_space();
        if (peek() == '}') break;
        Literal key = parse_value(depth + 1);
        if (key.kind != Literal::Kind::string) syntax("a dict key that is not a string");
        expect(':');
        Literal item = parse_value(depth + 1);
        value.items.push_back(std::move(key));
        value.items.push_back(std::move(item));
        skip_space();
        if (peek() == ',') {
          ++pos_;
          continue;
        }
        if (peek() != '}') syntax("expected ',' or '}' in a dict");
      }
      ++pos_;
      return value;
    }
    if (c == '(' || c == '[') {
      char close = c == '(' ? ')' : ']';
      value.kind = c == '(' ? Literal::Kind::tuple : Literal::Kind::list;
      ++pos_;
      bool comma = false;
      for (;;) {
        skip_space();
        if (peek() == close) break;
        value.items.push_back(parse_value(depth + 1));
        skip_space();
        comma = peek() == ',';
        if (comma) {
          ++pos_;
          continue;
        }
        if (peek() != close) syntax(std::string("expected ',' or '") + close + "'");
      }
      ++pos_;
      // Python: (x) is x, a tuple of one needs the comma (x,).
      if (value.kind == Literal::Kind::tuple && value.items.size() == 1 && !comma) {
        Literal inner = std::move(value.items.front());
        return inner;
      }
      return value;
    }
    if (c == '\'' || c == '"') {
      value.kind = Literal::Kind::string;
      ++pos_;
      for (;;) {
        if (at_end()) syntax("a string is not closed");
        char d = text_[pos_++];
        if (d == c) break;
        if (d == '\n') syntax("a line break inside a string");
        // Escapes are kept as written: the strings brine reads (keys, simple descrs) have
        // none, and a descr that has one is refused as unknown.
        if (d == '\\') {
          if (at_end()) syntax("a string is not closed");
          value.text.push_back(d);
          d = text_[pos_++];
        }
        value.text.push_back(d);
      }
      return value;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      value.kind = Literal::Kind::integer;
      bool negative = c == '-';
      if (negative) ++pos_;
      if (!(peek() >= '0' && peek() <= '9')) syntax("'-' without digits");
      std::uint64_t magnitude = 0;
      std::size_t digits = 0;
      while (peek() >= '0' && peek() <= '9') {
        unsigned d = static_cast<unsigned>(peek() - '0');
        // Python's integers have no bound; brine's dimensions are int64.
        if (magnitude > (std::numeric_limits<std::uint64_t>::max() - d) / 10)
          fail(errc::limit_exceeded, "an integer in the .npy header does not fit in 64 bits",
               source_, value.offset);
        magnitude = magnitude * 10 + d;
        ++pos_;
        ++digits;
      }
      if (digits > 1 && text_[pos_ - digits] == '0') syntax("an integer with a leading zero");
      // Python 2 wrote longs as 3L; numpy strips the L from 1.0 and 2.0 headers.
      if (python2_longs_ && (peek() == 'L' || peek() == 'l')) ++pos_;
      std::uint64_t limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
      if (magnitude > limit + (negative ? 1 : 0))
        fail(errc::limit_exceeded, "an integer in the .npy header does not fit in 64 bits", source_,
             value.offset);
      value.integer = negative ? static_cast<std::int64_t>(0 - magnitude)
                               : static_cast<std::int64_t>(magnitude);
      return value;
    }
    auto word = [&](std::string_view w) {
      if (text_.substr(pos_, w.size()) != w) return false;
      std::size_t end = pos_ + w.size();
      if (end < text_.size()) {
        char n = text_[end];
        if ((n >= 'a' && n <= 'z') || (n >= 'A' && n <= 'Z') || (n >= '0' && n <= '9') || n == '_')
          return false;
      }
      pos_ = end;
      return true;
    };
    if (word("True")) {
      value.kind = Literal::Kind::boolean;
      value.boolean = true;
      return value;
    }
    if (word("False")) {
      value.kind = Literal::Kind::boolean;
      return value;
    }
    if (word("None")) return value;
    syntax(std::string("unexpected character '") +
           (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f
                ? std::string("\\x") + "0123456789abcdef"[static_cast<unsigned char>(c) >> 4] +
                      "0123456789abcdef"[static_cast<unsigned char>(c) & 15]
                : std::string(1, c)) +
           "'");
  }

  std::string_view text_;
  std::size_t base_;
  bool python2_longs_;
  const std::string& source_;
  std::size_t pos_ = 0;
};

// ---- descr <-> DType ------------------------------------------------------------------

struct DescrCode {
  const char* code;  // without the byte-order character
  DType dtype;
};
constexpr DescrCode kDescrCodes[] = {
    {"b1", DType::boolean},   {"i1", DType::int8},        {"i2", DType::int16},
    {"i4", DType::int32},     {"i8", DType::int64},       {"u1", DType::uint8},
    {"u2", DType::uint16},    {"u4", DType::uint32},      {"u8", DType::uint64},
    {"f2", DType::float16},   {"f4", DType::float32},     {"f8", DType::float64},
    {"c8", DType::complex64}, {"c16", DType::complex128},
};

// The size of the parts a byte swap reverses: the element, or each half of a complex.
std::size_t swap_unit(DType dtype) {
  if (dtype == DType::complex64) return 4;
  if (dtype == DType::complex128) return 8;
  return dtype_size(dtype);
}

void read_descr(const Literal& descr, NpyHeader& header, const std::string& source) {
  if (descr.kind == Literal::Kind::list)
    fail(errc::unsupported_content,
         "structured numpy dtype (a record of named fields): brine reads arrays of one "
         "element type only",
         source, descr.offset);
  if (descr.kind != Literal::Kind::string)
    fail(errc::corrupt_data,
         std::string("the .npy header's 'descr' is ") + kind_name(descr.kind) +
             ", not a dtype string",
         source, descr.offset);
  const std::string& d = descr.text;
  header.descr = d;
  std::string_view code = d;
  char order = code.empty() ? '\0' : code.front();
  if (order == '<' || order == '>' || order == '|' || order == '=') code.remove_prefix(1);
  if (code == "O" || code == "O8" || code == "O4")
    fail(errc::unsupported_content,
         "numpy object array (descr '" + d +
             "'): its data is a Python pickle, which brine never loads",
         source, descr.offset);
  for (const DescrCode& c : kDescrCodes) {
    if (code != c.code) continue;
    header.dtype = c.dtype;
    bool one_byte = dtype_size(c.dtype) == 1;
    if (order == '>') {
      header.big_endian = !one_byte;
    } else if (order == '<' || (order == '|' && one_byte)) {
      header.big_endian = false;
    } else if (order == '|' || order == '=') {
      // '=' is the writer's native order, which the file does not say; numpy writes '<' or
      // '>' for every multi-byte type.
      fail(errc::corrupt_data,
           "descr '" + d + "' does not say the byte order of a " +
               std::to_string(dtype_size(c.dtype)) + "-byte type",
           source, descr.offset);
    } else {
      fail(errc::corrupt_data, "descr '" + d + "' has no byte-order character", source,
           descr.offset);
    }
    return;
  }
  fail(errc::unsupported_content,
       "numpy dtype '" + d +
           "' has no brine dtype (brine reads bool, int8 to int64, uint8 to uint64, float16, "
           "float32, float64, complex64 and complex128)",
       source, descr.offset);
}

const char* descr_of(DType dtype) {
  switch (dtype) {
    case DType::boolean:
      return "|b1";
    case DType::int8:
      return "|i1";
    case DType::uint8:
      return "|u1";
    case DType::int16:
      return "<i2";
    case DType::int32:
      return "<i4";
    case DType::int64:
      return "<i8";
    case DType::uint16:
      return "<u2";
    case DType::uint32:
      return "<u4";
    case DType::uint64:
      return "<u8";
    case DType::float16:
      return "<f2";
    case DType::float32:
      return "<f4";
    case DType::float64:
      return "<f8";
    case DType::complex64:
      return "<c8";
    case DType::complex128:
      return "<c16";
    case DType::bfloat16:
    case DType::float8_e4m3fn:
    case DType::float8_e5m2:
      break;
  }
  return nullptr;
}

template <std::size_t N>
void swap_units(std::byte* p, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i, p += N) std::reverse(p, p + N);
}

// Copies element `n` bytes at a time; the switch lets the compiler make each size a move.
template <std::size_t N>
void fortran_to_c(const std::vector<std::int64_t>& shape, const std::byte* src, std::byte* dst,
                  std::uint64_t count) {
  std::size_t rank = shape.size();
  // Fortran strides, in elements: the first axis varies fastest.
  std::vector<std::uint64_t> stride(rank), index(rank, 0);
  std::uint64_t s = 1;
  for (std::size_t k = 0; k < rank; ++k) {
    stride[k] = s;
    s *= static_cast<std::uint64_t>(shape[k]);
  }
  std::uint64_t from = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    std::memcpy(dst + i * N, src + from * N, N);
    // The odometer of the C-order index, last axis fastest.
    for (std::size_t k = rank; k-- > 0;) {
      if (++index[k] < static_cast<std::uint64_t>(shape[k])) {
        from += stride[k];
        break;
      }
      from -= (index[k] - 1) * stride[k];
      index[k] = 0;
    }
  }
}

}  // namespace

std::uint64_t header_size(std::string_view prefix, std::uint64_t total_size,
                          const NumpyLoadOptions& options, const std::string& source) {
  std::size_t compared = std::min(prefix.size(), kMagicBytes);
  if (prefix.substr(0, compared) != std::string_view(kMagic, compared))
    fail(errc::corrupt_data, "not a .npy file: it does not start with \"\\x93NUMPY\"", source, 0);
  if (prefix.size() < kMagicAndVersionBytes)
    fail(errc::truncated_input,
         "truncated .npy: " + std::to_string(prefix.size()) + " bytes, its magic string needs 8",
         source, prefix.size());
  auto major = static_cast<unsigned char>(prefix[6]);
  auto minor = static_cast<unsigned char>(prefix[7]);
  if (major < 1 || major > 3 || minor != 0)
    fail(major > 3 ? errc::newer_format_version : errc::corrupt_data,
         ".npy format version " + std::to_string(major) + "." + std::to_string(minor) +
             ": brine reads 1.0, 2.0 and 3.0",
         source, 6);
  std::size_t length_bytes = major == 1 ? 2 : 4;
  if (prefix.size() < kMagicAndVersionBytes + length_bytes)
    fail(errc::truncated_input, "truncated .npy: it ends inside its header length", source,
         prefix.size());
  std::uint64_t length = 0;
  for (std::size_t i = 0; i < length_bytes; ++i)
    length |= std::uint64_t{static_cast<unsigned char>(prefix[8 + i])} << (8 * i);
  if (length > options.max_header_bytes)
    fail(errc::limit_exceeded,
         ".npy header of " + std::to_string(length) + " bytes exceeds " +
             "NumpyLoadOptions::max_header_bytes (" + std::to_string(options.max_header_bytes) +
             ")",
         source, 8);
  std::uint64_t end = kMagicAndVersionBytes + length_bytes + length;
  if (end > total_size)
    fail(errc::truncated_input,
         "truncated .npy: its header claims " + std::to_string(length) + " bytes, " +
             std::to_string(total_size - std::min<std::uint64_t>(total_size, 8 + length_bytes)) +
             " remain",
         source, 8);
  return end;
}

void to_c_order_little_endian(const NpyHeader& header, const std::byte* src, std::byte* dst) {
  std::size_t size = dtype_size(header.dtype);
  std::uint64_t count = header.data_nbytes / size;
  if (header.fortran_order && header.shape.size() > 1) {
    switch (size) {
      case 1:
        fortran_to_c<1>(header.shape, src, dst, count);
        break;
      case 2:
        fortran_to_c<2>(header.shape, src, dst, count);
        break;
      case 4:
        fortran_to_c<4>(header.shape, src, dst, count);
        break;
      case 8:
        fortran_to_c<8>(header.shape, src, dst, count);
        break;
      default:
        fortran_to_c<16>(header.shape, src, dst, count);
        break;
    }
  } else if (src != dst && header.data_nbytes != 0) {
    std::memcpy(dst, src, header.data_nbytes);
  }
  if (!header.big_endian) return;
  std::size_t unit = swap_unit(header.dtype);
  std::size_t units = header.data_nbytes / unit;
  switch (unit) {
    case 2:
      swap_units<2>(dst, units);
      break;
    case 4:
      swap_units<4>(dst, units);
      break;
    case 8:
      swap_units<8>(dst, units);
      break;
    default:
      break;
  }
}

std::string header_bytes(DType dtype, const std::vector<std::int64_t>& shape, NpyVersion version) {
  const char* descr = descr_of(dtype);
  if (descr == nullptr)
    detail::throw_error(errc::unsupported_content,
                        std::string("numpy has no dtype for ") + dtype_name(dtype) +
                            ": convert the tensor (to float32, say) or save it as safetensors");
  // The dict as numpy's repr writes it, keys sorted, with its trailing ", ".
  std::string dict = "{'descr': '";
  dict += descr;
  dict += "', 'fortran_order': False, 'shape': (";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i != 0) dict += ", ";
    dict += std::to_string(shape[i]);
  }
  if (shape.size() == 1) dict += ",";
  dict += "), }";
  if (!shape.empty())
    dict.append(
        kGrowthAxisMaxDigits - std::min(kGrowthAxisMaxDigits, std::to_string(shape.front()).size()),
        ' ');
  auto wrap = [&](unsigned major, std::size_t length_bytes) {
    std::size_t unpadded = kMagicAndVersionBytes + length_bytes + dict.size() + 1;
    std::size_t pad = kArrayAlign - unpadded % kArrayAlign;
    std::uint64_t length = dict.size() + pad + 1;
    std::string out(kMagic, kMagicBytes);
    out.push_back(static_cast<char>(major));
    out.push_back('\0');
    for (std::size_t i = 0; i < length_bytes; ++i)
      out.push_back(static_cast<char>((length >> (8 * i)) & 0xff));
    out += dict;
    out.append(pad, ' ');
    out.push_back('\n');
    return std::make_pair(out, length);
  };
  switch (version) {
    case NpyVersion::automatic:
    case NpyVersion::v1_0: {
      auto [out, length] = wrap(1, 2);
      if (length <= 0xffff) return out;
      if (version == NpyVersion::v1_0)
        detail::throw_error(errc::limit_exceeded,
                            ".npy header of " + std::to_string(length) +
                                " bytes does not fit format 1.0 (65535 at most): write 2.0");
      return wrap(2, 4).first;
    }
    case NpyVersion::v2_0:
      return wrap(2, 4).first;
    case NpyVersion::v3_0:
      return wrap(3, 4).first;
  }
  return wrap(1, 2).first;
}

}  // namespace npy

NpyHeader parse_npy_header(std::string_view bytes, std::uint64_t total_size,
                           const NumpyLoadOptions& options, const std::string& source) {
  std::uint64_t end =
      npy::header_size(bytes.substr(0, npy::kLongestPrefix), total_size, options, source);
  if (bytes.size() < end)
    npy::fail(errc::truncated_input, "truncated .npy: it ends inside its header", source,
              bytes.size());
  NpyHeader header;
  header.major_version = static_cast<std::uint8_t>(bytes[6]);
  header.minor_version = static_cast<std::uint8_t>(bytes[7]);
  std::size_t text_start = header.major_version == 1 ? 10 : 12;
  std::string_view text = bytes.substr(text_start, static_cast<std::size_t>(end) - text_start);
  npy::Literal dict =
      npy::LiteralParser(text, text_start, header.major_version <= 2, source).parse_header();

  const npy::Literal* found[3] = {nullptr, nullptr, nullptr};
  static constexpr const char* kKeys[3] = {"descr", "fortran_order", "shape"};
  for (std::size_t i = 0; i < dict.items.size(); i += 2) {
    const npy::Literal& key = dict.items[i];
    std::size_t k = 0;
    while (k < 3 && key.text != kKeys[k]) ++k;
    if (k == 3)
      npy::fail(errc::corrupt_data, "the .npy header has an unknown key '" + key.text + "'", source,
                key.offset);
    if (found[k] != nullptr)
      npy::fail(errc::corrupt_data, "the .npy header has key '" + key.text + "' twice", source,
                key.offset);
    found[k] = &dict.items[i + 1];
  }
  for (std::size_t k = 0; k < 3; ++k)
    if (found[k] == nullptr)
      npy::fail(errc::corrupt_data, std::string("the .npy header has no '") + kKeys[k] + "' key",
                source, text_start);

  const npy::Literal& fortran = *found[1];
  if (fortran.kind != npy::Literal::Kind::boolean)
    npy::fail(errc::corrupt_data,
              std::string("the .npy header's 'fortran_order' is ") + npy::kind_name(fortran.kind) +
                  ", not True or False",
              source, fortran.offset);
  header.fortran_order = fortran.boolean;

  const npy::Literal& shape = *found[2];
  if (shape.kind != npy::Literal::Kind::tuple)
    npy::fail(
        errc::corrupt_data,
        std::string("the .npy header's 'shape' is ") + npy::kind_name(shape.kind) + ", not a tuple",
        source, shape.offset);
  if (shape.items.size() > npy::kMaxRank)
    npy::fail(errc::corrupt_data,
              "the .npy shape has " + std::to_string(shape.items.size()) +
                  " dimensions; numpy arrays have at most " + std::to_string(npy::kMaxRank),
              source, shape.offset);
  for (const npy::Literal& d : shape.items) {
    if (d.kind != npy::Literal::Kind::integer)
      npy::fail(errc::corrupt_data,
                std::string("a dimension of the .npy shape is ") + npy::kind_name(d.kind) +
                    ", not an integer",
                source, d.offset);
    if (d.integer < 0)
      npy::fail(errc::corrupt_data,
                "the .npy shape has a negative dimension (" + std::to_string(d.integer) + ")",
                source, d.offset);
    header.shape.push_back(d.integer);
  }
  // After the shape: an object array is refused by its descr whatever its shape says.
  npy::read_descr(*found[0], header, source);

  try {
    header.data_nbytes = Tensor::checked_size(header.dtype, header.shape).second;
  } catch (Error& e) {
    detail::note_error_source(e, source);
    throw;
  }
  header.data_offset = end;
  std::uint64_t available = total_size - end;
  if (available < header.data_nbytes)
    npy::fail(errc::truncated_input,
              "truncated .npy: its shape and dtype need " + std::to_string(header.data_nbytes) +
                  " bytes of data, " + std::to_string(available) + " remain",
              source, end);
  if (available > header.data_nbytes)
    npy::fail(errc::corrupt_data,
              std::to_string(available - header.data_nbytes) + " bytes after the .npy's " +
                  std::to_string(header.data_nbytes) +
                  " bytes of data (brine reads one array per file)",
              source, end + header.data_nbytes);
  return header;
}

NpyHeader inspect_npy(const std::filesystem::path& path, const NumpyLoadOptions& options) {
  auto file = MappedFile::open(path);
  return parse_npy_header(file->view(), file->size(), options, file->path());
}

namespace {
// Whether typed access to data at `p` works (Tensor::values checks the alignment of a
// component: a complex128 is two doubles).
bool aligned_for(DType dtype, const std::byte* p) {
  std::size_t unit = npy::swap_unit(dtype);
  return reinterpret_cast<std::uintptr_t>(p) % unit == 0;
}

Tensor owned_copy(const NpyHeader& header, const std::byte* data) {
  Tensor t(header.dtype, header.shape);
  if (header.data_nbytes != 0) npy::to_c_order_little_endian(header, data, t.mutable_bytes());
  return t;
}
}  // namespace

Tensor load_npy(const std::filesystem::path& path, const NumpyLoadOptions& options) {
  auto file = MappedFile::open(path);
  NpyHeader header = parse_npy_header(file->view(), file->size(), options, file->path());
  const std::byte* data = file->data() + header.data_offset;
  bool as_is = !header.big_endian && (!header.fortran_order || header.shape.size() <= 1);
  // Data that numpy (64) or an older writer (16) aligned is viewed in place; a writer that
  // did not align it gets an aligned copy, since typed access to a misaligned view throws.
  if (as_is && aligned_for(header.dtype, data))
    return Tensor::view(header.dtype, header.shape, file,
                        static_cast<std::size_t>(header.data_offset));
  return owned_copy(header, data);
}

Tensor load_npy_from_memory(std::string_view bytes, const NumpyLoadOptions& options,
                            const std::string& source) {
  NpyHeader header = parse_npy_header(bytes, bytes.size(), options, source);
  return owned_copy(header, reinterpret_cast<const std::byte*>(bytes.data()) + header.data_offset);
}

std::string npy_bytes(const Tensor& tensor, NpyVersion version) {
  std::string out = npy::header_bytes(tensor.dtype(), tensor.shape(), version);
  out.append(reinterpret_cast<const char*>(tensor.bytes()), tensor.nbytes());
  return out;
}

void save_npy(const std::filesystem::path& path, const Tensor& tensor, NpyVersion version) {
  std::string header = npy::header_bytes(tensor.dtype(), tensor.shape(), version);
  AtomicFileSink sink(path);
  sink.write(header.data(), header.size());
  if (tensor.nbytes() != 0) sink.write(tensor.bytes(), tensor.nbytes());
  sink.commit();
}

}  // namespace brine
