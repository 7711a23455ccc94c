// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// stable/reader.cpp: validating the whole CBOR document, then decoding values into the
// state model. See docs/format/stable-v1.md.

#include <array>
#include <cmath>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "brine/stable.hpp"
#include "stable/cbor.hpp"
#include "stable/cursor.hpp"
#include "stable/reader_impl.hpp"
#include "util/in_place.hpp"
#include "util/xxhash.hpp"

namespace brine {
namespace {

using cbor::Head;

// What Walker::scan_elements makes of an item's first byte: kOther (scan_fast's), the size of a
// number, float or simple value, kText (a text string of up to 23 bytes, after its head)
// or kRef (a one-byte tag: a stringref or a shared reference when it is tag 25 or 29, a
// typed array when it is one of theirs).
constexpr std::uint8_t kOther = 0;
constexpr std::uint8_t kText = 16;
constexpr std::uint8_t kRef = 17;
constexpr std::array<std::uint8_t, 256> leaf_kinds() {
  std::array<std::uint8_t, 256> k{};
  for (unsigned major = 0; major < 2; ++major) {  // unsigned and negative integers
    const unsigned m = major << 5;
    for (unsigned info = 0; info < 24; ++info) k[m + info] = 1;
    k[m + 24] = 2;
    k[m + 25] = 3;
    k[m + 26] = 5;
    k[m + 27] = 9;
  }
  for (unsigned info = 0; info < 24; ++info) k[0x60 + info] = kText;
  k[0xD8] = kRef;
  k[0xF4] = k[0xF5] = k[0xF6] = 1;  // false, true, null
  k[0xF9] = 3;                      // half, single and double floats
  k[0xFA] = 5;
  k[0xFB] = 9;
  return k;
}
constexpr std::array<std::uint8_t, 256> kLeaves = leaf_kinds();

/// Validates (scan) and decodes (decode) CBOR items with the document's cursor. Both passes
/// walk the document in order, so the stringref table the scan builds matches what decode
/// sees.
class Walker {
 public:
  Walker(cbor::Cursor& cursor, StableReader::Impl& impl) : c_(cursor), impl_(impl) {}

  /// Validates one item and everything inside it.
  void scan(std::size_t depth) {
    c_.check_nesting(depth);
    std::size_t at = c_.pos;
    Head h = c_.head();
    switch (h.major) {
      case 0:
      case 1:
        return;
      case 2:
      case 3:
        c_.note_string(c_.take(h.argument));
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

  /// scan, for the items brine's writer produces, reading heads in place without building
  /// a Head or calling out per item. An item it does not take whole (another encoding, or
  /// anything wrong) goes to scan from its first byte, before anything of it is counted or
  /// noted, so that the verdict and its message are scan's.
  void scan_fast(std::size_t depth) {
    c_.check_nesting(depth);
    const std::uint8_t* data = c_.data();
    const std::size_t size = c_.size();
    const std::size_t pos = c_.pos;
    if (pos >= size) return scan_slow(depth);
    const std::uint8_t b = data[pos];
    const std::size_t left = size - pos;
    std::uint64_t arg;
    std::size_t n;
    switch (b >> 5) {
      case 0:
      case 1:
        if (!head_at(data + pos, left, arg, n)) break;
        c_.pos = pos + n;
        return;
      case 2:
      case 3:
        if (!head_at(data + pos, left, arg, n) || arg > left - n) break;
        c_.pos = pos + n + static_cast<std::size_t>(arg);
        c_.note_string(std::string_view(reinterpret_cast<const char*>(data + pos + n),
                                        static_cast<std::size_t>(arg)));
        return;
      case 4:
      case 5: {
        const std::uint64_t per = (b >> 5) == 5 ? 2 : 1;
        if ((b & 31) == 31) {
          c_.pos = pos + 1;
          while (c_.peek() != 0xFF) scan_fast(depth + 1);
          ++c_.pos;
          return;
        }
        if (!head_at(data + pos, left, arg, n)) break;
        c_.pos = pos + n;
        const std::size_t count = c_.count(arg, per);
        scan_elements(count * per, depth + 1);
        return;
      }
      case 6:
        if (!head_at(data + pos, left, arg, n) || n == left) break;
        if (scan_tag_fast(arg, pos + n, depth)) return;
        break;
      case 7:
        // false, true, null; half, single and double floats
        if (b >= 0xF4 && b <= 0xF6) {
          c_.pos = pos + 1;
          return;
        }
        if (b >= 0xF9 && b <= 0xFB && head_at(data + pos, left, arg, n)) {
          c_.pos = pos + n;
          return;
        }
        break;
    }
    scan_slow(depth);
  }

  /// `count` items at `depth`, the elements of a container. The leaves brine writes most
  /// (numbers, floats, short text, stringrefs to the first 24 strings, shared references,
  /// typed arrays of up to 255 bytes) are taken here by their first byte (kLeaves) without a
  /// call; the rest goes to scan_fast. The nesting check of an element is the same for all
  /// of them: when it fails, scan_fast reports it at the first.
  void scan_elements(std::size_t count, std::size_t depth) {
    const std::uint8_t* data = c_.data();
    const std::size_t size = c_.size();
    const bool leaves = c_.nesting_allows(depth);
    std::size_t pos = c_.pos;
    for (std::size_t i = 0; i < count; ++i) {
      if (leaves && size - pos >= 9) {  // room for any of the leaves but a string's body
        const std::uint8_t b = data[pos];
        const std::uint8_t kind = kLeaves[b];
        if (kind != kOther && kind < kText) {
          pos += kind;
          continue;
        }
        if (kind == kText && static_cast<std::size_t>(b - 0x60) <= size - pos - 1) {
          const std::size_t n = b - 0x60;
          c_.note_string(std::string_view(reinterpret_cast<const char*>(data + pos + 1), n));
          pos += 1 + n;
          continue;
        }
        if (kind == kRef) {
          const std::uint8_t tag = data[pos + 1];
          const std::uint8_t h = data[pos + 2];
          if (tag == cbor::kTagStringRef) {
            if (h < 0x18 && h < c_.strings().table.size()) {
              pos += 3;
              continue;
            }
          } else if (tag == cbor::kTagSharedRef) {
            if (h < 0x1A) {  // an index of up to 2 bytes
              const std::size_t index = h < 24    ? h
                                        : h == 24 ? data[pos + 3]
                                                  : data[pos + 3] << 8 | data[pos + 4];
              if (index < shared_scanned_) {
                pos += h < 24 ? 3 : h == 24 ? 4 : 5;
                continue;
              }
            }
          } else if (tag >= 64 && tag <= 86 && h >= 0x40 && h <= 0x58) {
            // A typed array (a short numeric vector) whose byte string's head is 1 or 2 bytes.
            const std::size_t each = cbor::typed_array_element_size(tag);
            const std::size_t head = h < 0x58 ? 1 : 2;
            const std::size_t n = head == 1 ? h - 0x40 : data[pos + 3];
            if (each != 0 && n <= size - pos - 2 - head && n % each == 0) {
              c_.note_string(
                  std::string_view(reinterpret_cast<const char*>(data + pos + 2 + head), n));
              pos += 2 + head + n;
              continue;
            }
          }
        }
      }
      c_.pos = pos;
      scan_fast(depth);
      pos = c_.pos;
    }
    c_.pos = pos;
  }

  /// The item of tag `tag`, at `at` (inside the input), when scan_fast takes it whole.
  bool scan_tag_fast(std::uint64_t tag, std::size_t at, std::size_t depth) {
    const std::uint8_t* data = c_.data();
    const std::size_t left = c_.size() - at;
    std::uint64_t arg;
    std::size_t n;
    if (tag == cbor::kTagStringRef) {
      if ((data[at] >> 5) != 0 || !head_at(data + at, left, arg, n) ||
          arg >= c_.strings().table.size())
        return false;
      c_.pos = at + n;
      return true;
    }
    if (tag == cbor::kTagSharedRef) {
      if ((data[at] >> 5) != 0 || !head_at(data + at, left, arg, n) || arg >= shared_scanned_)
        return false;
      c_.pos = at + n;
      return true;
    }
    const bool shareable = tag == cbor::kTagShareable;
    if (shareable) {  // must wrap a tag 27
      if ((data[at] >> 5) != 6 || !head_at(data + at, left, arg, n) || arg != cbor::kTagObject ||
          n == left)
        return false;
      at += n;
      tag = cbor::kTagObject;
    }
    if (tag == cbor::kTagObject) {
      // [type name, version, {fields}] (or a $path, $function, $tensor), at the tag's level
      const std::uint8_t a = data[at];
      if (a < 0x82 || a > 0x84) return false;
      if (shareable) ++shared_scanned_;
      c_.pos = at + 1;
      const std::size_t count = c_.count(a & 31, 1);
      scan_elements(count, depth + 1);
      if (hash_ != nullptr && c_.pos - hashed_ >= kHashStep) hash_to(c_.pos);
      return true;
    }
    if (std::size_t each = cbor::typed_array_element_size(tag)) {
      if ((data[at] >> 5) != 2 || !head_at(data + at, left, arg, n) || arg > left - n ||
          arg % each != 0)
        return false;
      c_.pos = at + n + static_cast<std::size_t>(arg);
      c_.note_string(std::string_view(reinterpret_cast<const char*>(data + at + n),
                                      static_cast<std::size_t>(arg)));
      return true;
    }
    return false;
  }

  /// The definite head at `p`, `left` bytes before the input ends (at least 1): its
  /// argument and size, or false when it is not one the input holds whole.
  static bool head_at(const std::uint8_t* p, std::size_t left, std::uint64_t& arg, std::size_t& n) {
    const unsigned info = p[0] & 31;
    if (info < 24) {
      arg = info;
      n = 1;
      return true;
    }
    if (info > 27) return false;
    n = 1 + (std::size_t{1} << (info - 24));
    if (left < n) return false;
    arg = cbor::Cursor::long_argument(info, p + 1);
    return true;
  }

  BRINE_STABLE_OUT_OF_LINE void scan_slow(std::size_t depth) { scan(depth); }

  /// Makes the scan continue after `n` shareable objects (those a one-pass read decoded).
  void count_shared_from(std::uint64_t n) noexcept { shared_scanned_ = n; }

  /// Makes the scan feed `state` the bytes it has validated, from `from` on, every
  /// kHashStep bytes or so (at the end of an object), while they are still in cache.
  void hash_as_scanned(XXH3_state_t* state, std::size_t from) noexcept {
    hash_ = state;
    hashed_ = from;
  }
  /// Hashes the bytes from where the last call stopped to `to`.
  void hash_to(std::size_t to) {
    XXH3_64bits_update(hash_, c_.data() + hashed_, to - hashed_);
    hashed_ = to;
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
      c_.string_ref(h.argument);
      return;
    }
    if (tag == cbor::kTagSharedRef) {
      Head h = c_.head();
      if (h.major != 0 || h.argument >= shared_scanned_)
        c_.fail(errc::corrupt_data, "shared reference to an object not defined before", at);
      return;
    }
    // A tag wraps exactly one item: the item counts the level (as in decode), so that an
    // object costs the same levels in every encoding (LoadOptions::max_nesting()). Tag 28
    // wraps a tag 27 and tag 27 an array, so a chain of tags is two long at most: a chain of
    // any other shape is refused here, before it could recurse without counting a level.
    if (tag == cbor::kTagShareable) {
      ++shared_scanned_;
      std::size_t inner = c_.pos;
      Head t = c_.head();
      if (t.major != 6 || t.argument != cbor::kTagObject)
        c_.fail(errc::corrupt_data, "shareable tag 28 does not wrap an object (tag 27)", inner);
      scan_object(depth, inner);
      return;
    }
    if (tag == cbor::kTagObject) {
      scan_object(depth, at);
      return;
    }
    if (tag == cbor::kTagMultiDimArray) {
      tensor_parts(depth, at);
      return;
    }
    scan_typed_array(tag, at);
  }

  /// A tensor's shape and bytes, checked (§4.1): both passes read them this way.
  struct TensorParts {
    DType dtype = DType::float32;
    std::vector<std::int64_t> shape;
    std::string_view bytes;
  };

  /// The shape array of a tensor, one level below `depth`: at most 64 unsigned dimensions.
  std::vector<std::int64_t> tensor_shape(std::size_t depth, std::size_t at) {
    c_.check_nesting(depth + 1);
    Head s = c_.head();
    if (s.major != 4 || s.indefinite || s.argument > 64)
      c_.fail(errc::corrupt_data, "tensor shape is not an array of at most 64 dimensions", at);
    std::vector<std::int64_t> shape(static_cast<std::size_t>(s.argument));
    for (auto& d : shape) {
      Head h = c_.head();
      if (h.major != 0 || h.argument > static_cast<std::uint64_t>(INT64_MAX))
        c_.fail(errc::corrupt_data, "tensor dimension is not an unsigned integer below 2^63", at);
      d = static_cast<std::int64_t>(h.argument);
    }
    return shape;
  }

  /// The byte string of a tensor of `dtype` and `shape`, which must be exactly its size.
  std::string_view tensor_bytes(DType dtype, const std::vector<std::int64_t>& shape,
                                std::size_t at) {
    std::size_t nbytes = 0;
    try {
      nbytes = Tensor::checked_size(dtype, shape).second;
    } catch (const Error& e) {
      c_.fail(e.code(), e.message(), at);
    }
    Head b = c_.head();
    if (b.major != 2 || b.indefinite)
      c_.fail(errc::corrupt_data, "tensor bytes are not a byte string", at);
    std::string_view body = c_.take(b.argument);
    c_.note_string(body);
    if (body.size() != nbytes)
      c_.fail(errc::corrupt_data,
              "tensor of " + std::string(dtype_name(dtype)) + " needs " + std::to_string(nbytes) +
                  " bytes, its byte string holds " + std::to_string(body.size()),
              at);
    return body;
  }

  /// tag 40 [shape, typed array] (RFC 8746 §3.1), after the tag.
  TensorParts tensor_parts(std::size_t depth, std::size_t at) {
    c_.check_nesting(depth);
    Head a = c_.head();
    if (a.major != 4 || a.indefinite || a.argument != 2)
      c_.fail(errc::corrupt_data, "multi-dimensional array tag 40 needs [shape, typed array]", at);
    TensorParts t;
    t.shape = tensor_shape(depth, at);
    Head tag = c_.head();
    std::optional<DType> dtype =
        tag.major == 6 ? cbor::tensor_dtype_of_tag(tag.argument) : std::nullopt;
    if (!dtype) c_.fail(errc::corrupt_data, "tag 40 holds no typed array of a tensor dtype", at);
    t.dtype = *dtype;
    t.bytes = tensor_bytes(t.dtype, t.shape, at);
    return t;
  }

  /// ["$tensor", dtype name, shape, bytes] inside tag 27, after the name.
  TensorParts named_tensor_parts(std::size_t depth, std::size_t at) {
    TensorParts t;
    std::string name = text_or_ref();
    std::optional<DType> dtype = dtype_from_name(name);
    if (!dtype) fail_named("tensor of unknown dtype '", name, "'", at);
    t.dtype = *dtype;
    t.shape = tensor_shape(depth, at);
    t.bytes = tensor_bytes(t.dtype, t.shape, at);
    return t;
  }

  Value make_tensor(TensorParts&& t, std::size_t at) {
    charge(1, t.bytes.size(), at);
    return Value(Tensor::copy_of(t.dtype, std::move(t.shape), t.bytes.data(), t.bytes.size()));
  }

  /// The array a tag 27 wraps, at the tag's level.
  BRINE_STABLE_OUT_OF_LINE void scan_object(std::size_t depth, std::size_t at) {
    Head h = c_.head();
    if (h.major != 4 || h.indefinite || h.argument < 2 || h.argument > 4)
      c_.fail(errc::corrupt_data, "object tag 27 needs [type name, version, {fields}]", at);
    scan_container(h, depth);
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
      c_.note_string(body);
      return;
    }
    fail_tag(tag, at);
  }

  std::string text_or_ref() {
    std::size_t at = c_.pos;
    std::string_view s;
    if (!c_.text(s)) c_.fail(errc::corrupt_data, "expected a text string", at);
    return std::string(s);
  }

  Value decode(std::size_t depth) {
    c_.check_nesting(depth);
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

  /// Counts `values` values and `bytes` bytes of text about to be built for the item at `at`
  /// (LoadOptions::max_state_expansion), before anything is allocated for them.
  void charge(std::uint64_t values, std::uint64_t bytes, std::size_t at) {
    if (!impl_.state.take(values, bytes, c_.size())) fail_state(at);
  }

  BRINE_STABLE_OUT_OF_LINE Value decode_string(const Head& h, std::size_t at) {
    std::string_view s = c_.take(h.argument);
    c_.note_string(s);
    c_.produce_string(s.size(), at);
    charge(0, s.size(), at);
    if (h.major == 2) return Value(Bytes{std::vector<std::uint8_t>(s.begin(), s.end())});
    return Value(std::string(s));
  }

  BRINE_STABLE_OUT_OF_LINE Value decode_list(const Head& h, std::size_t depth) {
    // One recursive call site, and the element built in place (util::construct_in): this
    // frame is paid once per level (docs/limits.md).
    const bool indefinite = h.indefinite;
    const std::size_t n = indefinite ? 0 : c_.count(h.argument, 1);
    Value::List list;
    if (!indefinite) charge(n, 0, c_.pos);
    list.reserve(n);
    while (indefinite ? c_.peek() != 0xFF : list.size() < n) {
      if (indefinite) charge(1, 0, c_.pos);
      try {
        util::construct_in(list.emplace_back(), [&] { return decode(depth + 1); });
      } catch (Error& e) {
        // The field path is built as a failure unwinds, as the binary reader builds it.
        detail::prepend_error_index(e, list.size() - 1);
        throw;
      }
    }
    if (indefinite) ++c_.pos;
    return Value(std::move(list));
  }

  BRINE_STABLE_OUT_OF_LINE Value decode_map(const Head& h, std::size_t depth) {
    Value::Map map;
    const bool indefinite = h.indefinite;
    const std::size_t n = indefinite ? 0 : c_.count(h.argument, 2);
    for (std::size_t i = 0; indefinite ? c_.peek() != 0xFF : i < n; ++i) {
      std::size_t key_at = c_.pos;
      charge(1, 0, key_at);
      auto [at, inserted] = map.try_emplace(text_or_ref());
      if (!inserted) c_.fail(errc::corrupt_data, "duplicate map key", key_at);
      try {
        util::construct_in(at->second, [&] { return decode(depth + 1); });
      } catch (Error& e) {
        detail::prepend_error_key(e, at->first);
        throw;
      }
    }
    if (indefinite) ++c_.pos;
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
    if (tag == cbor::kTagMultiDimArray) return make_tensor(tensor_parts(depth, at), at);
    return decode_typed_array(tag, at);
  }

  BRINE_STABLE_OUT_OF_LINE Value decode_string_ref(std::size_t at) {
    Head i = c_.head();
    if (i.major != 0) c_.fail(errc::corrupt_data, "string reference without an index", at);
    std::string_view s = c_.string_ref(i.argument);
    c_.produce_string(s.size(), at);
    charge(0, s.size(), at);
    return Value(std::string(s));
  }

  BRINE_STABLE_OUT_OF_LINE Value decode_typed_array(std::uint64_t tag, std::size_t at) {
    std::size_t each = cbor::typed_array_element_size(tag);
    if (each == 0) fail_tag(tag, at);
    Head h = c_.head();
    if (h.major != 2) c_.fail(errc::corrupt_data, "typed array without a byte string", at);
    std::string_view body = c_.take(h.argument);
    c_.note_string(body);
    if (body.size() % each != 0)
      c_.fail(errc::corrupt_data, "typed array size is not a whole number of elements", at);
    if (tag == 64) {
      c_.produce_string(body.size(), at);
      charge(0, body.size(), at);
      return Value(Bytes{std::vector<std::uint8_t>(body.begin(), body.end())});
    }
    std::size_t n = body.size() / each;
    charge(n, 0, at);
    Value::List list;
    list.reserve(n);
    const char* p = body.data();
    for (std::size_t i = 0; i < n; ++i, p += each) list.push_back(typed_element(tag, p));
    return Value(std::move(list));
  }

  BRINE_STABLE_OUT_OF_LINE Value decode_object(std::size_t depth, std::size_t at) {
    Head h = c_.head();
    if (h.major != 4 || h.indefinite || h.argument < 2 || h.argument > 4)
      c_.fail(errc::corrupt_data, "object tag 27 needs [type name, version, {fields}]", at);
    std::string type = text_or_ref();
    if (type == cbor::kTensorType) {
      if (h.argument != 4) fail_named("'", type, "' needs [dtype, shape, bytes]", at);
      return make_tensor(named_tensor_parts(depth, at), at);
    }
    if (h.argument == 4)
      c_.fail(errc::corrupt_data, "object tag 27 needs [type name, version, {fields}]", at);
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
    charge(n, 0, at);
    o.fields.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      std::size_t key_at = c_.pos;
      std::string name = text_or_ref();
      if (o.find(name) != nullptr) fail_named("duplicate field '", name, "'", key_at);
      Field& f = o.fields.emplace_back();
      f.name = std::move(name);
      try {
        util::construct_in(f.value, [&] { return decode(depth + 1); });
      } catch (Error& e) {
        detail::prepend_error_key(e, f.name);
        throw;
      }
    }
    return Value(std::move(o));
  }

 private:
  [[noreturn]] BRINE_STABLE_OUT_OF_LINE void fail_state(std::size_t at) const {
    c_.fail(errc::limit_exceeded, impl_.state.message(c_.size()), at);
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

  cbor::Cursor& c_;
  StableReader::Impl& impl_;
  std::uint64_t shared_scanned_ = 0;
  static constexpr std::size_t kHashStep = std::size_t{64} << 10;
  XXH3_state_t* hash_ = nullptr;  // see hash_as_scanned
  std::size_t hashed_ = 0;
};

/// The document's header, up to and including the values array's head, which it records in
/// `impl` (with the array's count checked against the input).
void open_header(StableReader::Impl& impl, cbor::Cursor& c) {
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
  impl.values_begin = c.pos;
  Head values = c.head();
  if (values.major != 4) c.fail(errc::corrupt_data, "'values' is not an array", impl.values_begin);
  impl.values_indefinite = values.indefinite;
  if (!values.indefinite) impl.values_declared = c.count(values.argument, 1);
}

/// A fresh checksum state, or null when checksums are not verified.
std::unique_ptr<XXH3_state_t, StableReader::Impl::FreeHashState> start_hash(
    const LoadOptions& options) {
  std::unique_ptr<XXH3_state_t, StableReader::Impl::FreeHashState> hash;
  if (options.verify_checksums) {
    hash.reset(XXH3_createState());
    if (hash == nullptr) throw std::bad_alloc();
    XXH3_64bits_reset(hash.get());
  }
  return hash;
}

/// Scans the values from the cursor on (those after impl.values, which are already known),
/// then the document's end, and compares the checksum, which `hash` (null when not
/// verified) holds up to the cursor.
void scan_to_end(StableReader::Impl& impl, cbor::Cursor& c, Walker& w, XXH3_state_t* hash,
                 std::size_t hashed_to) {
  if (hash != nullptr) w.hash_as_scanned(hash, hashed_to);
  if (impl.values_indefinite) {
    while (c.peek() != 0xFF) {
      impl.values.push_back(c.pos);
      w.scan_fast(1);
    }
    ++c.pos;
  } else {
    while (impl.values.size() < impl.values_declared) {
      impl.values.push_back(c.pos);
      w.scan_fast(1);
    }
  }
  std::size_t values_end = c.pos;
  impl.values_end = values_end - (impl.values_indefinite ? 1 : 0);
  std::size_t key_at = c.pos;
  if (w.text_or_ref() != "checksum") c.fail(errc::corrupt_data, "expected key 'checksum'", key_at);
  std::size_t checksum_at = c.pos;
  Head checksum = c.head();
  if (checksum.major != 0)
    c.fail(errc::corrupt_data, "checksum is not an unsigned integer", checksum_at);
  if (c.pos != c.size()) c.fail(errc::corrupt_data, "bytes after the end of the archive");
  // LoadOptions::verify_checksums off skips only this comparison (as for binary archives):
  // the structure is still validated in full above.
  if (hash != nullptr) {
    w.hash_to(values_end);
    if (XXH3_64bits_digest(hash) != checksum.argument)
      c.fail(errc::checksum_mismatch, "checksum mismatch: the archive is corrupt", checksum_at);
  }
  // The table now holds every string of the document: decoding and skipping resolve
  // references in it and note nothing again.
  impl.strings.complete = true;
  impl.validated = true;
}

void open_document(StableReader::Impl& impl, cbor::Cursor& c) {
  open_header(impl, c);
  // The checksum is taken as the scan goes (Walker::hash_as_scanned), over bytes it has just
  // read, rather than in a second pass over the whole input.
  auto hash = start_hash(c.options());
  // Validate every value before decoding any: a corrupt tail is found before the head is
  // handed out.
  Walker w(c, impl);
  scan_to_end(impl, c, w, hash.get(), impl.values_begin);
}

/// A one-pass read's start: the header only. The first value (when there is one) is then
/// decoded by StableDecoder, which checks what it reads and takes the checksum as it goes;
/// validate_after_first_value() does the rest.
void open_document_for_one_pass(StableReader::Impl& impl, cbor::Cursor& c) {
  open_header(impl, c);
  impl.validated = false;
  impl.hash = start_hash(c.options());
  if (impl.values_indefinite ? c.peek() != 0xFF : impl.values_declared != 0)
    impl.values.push_back(c.pos);
}

}  // namespace

void validate_after_first_value(StableReader::Impl& impl, cbor::Cursor& c) {
  Walker w(c, impl);
  w.count_shared_from(impl.shared_seen);
  detail::StableDirect& d = *impl.direct;
  scan_to_end(impl, c, w, impl.hash.get(), d.hashed);
  impl.hash.reset();
}

void detail::StableDirect::hash_to_cursor() noexcept {
  XXH3_64bits_update(doc.hash.get(), c.data() + hashed, c.pos - hashed);
  hashed = c.pos;
}

StableReader::StableReader(ByteSource& source, const Registry& registry, const LoadOptions& options)
    : StableReader(source, registry, options, false) {}

StableReader::StableReader(ByteSource& source, const Registry& registry, const LoadOptions& options,
                           bool one_pass)
    : impl_(std::make_unique<Impl>()),
      registry_(registry),
      options_(options),
      description_(source.description()) {
  take_input(source);
  cbor::Cursor c(impl_->bytes, options_, description_, impl_->strings);
  if (one_pass)
    open_document_for_one_pass(*impl_, c);
  else
    open_document(*impl_, c);
  impl_->direct.emplace(*impl_, impl_->bytes, registry_, options_, description_, impl_->strings);
  impl_->direct->hashed = impl_->values_begin;
}

void StableReader::take_input(ByteSource& source) {
  if (source.has_direct_view()) {
    impl_->bytes = source.direct_view();
  } else {
    // The document is validated whole before any value is decoded, so all of it is held
    // in memory: a source that never ends would grow this buffer without a bound.
    char chunk[65536];
    for (;;) {
      std::size_t n = source.read(chunk, sizeof chunk);
      if (n > options_.max_input_bytes - impl_->owned.size()) fail_input_bytes();
      impl_->owned.append(chunk, n);
      if (n < sizeof chunk) break;
    }
    impl_->bytes = impl_->owned.view();
  }
  impl_->state = detail::StateBudget(options_);
}

void StableReader::fail_input_bytes() const {
  ErrorContext where;
  where.source = description_;
  where.byte_offset = impl_->owned.size();
  detail::throw_error(errc::limit_exceeded,
                      "input exceeds LoadOptions::max_input_bytes (" +
                          std::to_string(options_.max_input_bytes) +
                          "): a stable archive read from a stream is held whole in memory",
                      where);
}

StableReader::~StableReader() = default;

Value StableReader::read_value() {
  if (impl_->next >= impl_->values.size()) {
    ErrorContext where;
    where.source = description_;
    detail::throw_error(errc::truncated_input, "no more values in the stable archive", where);
  }
  cbor::Cursor c(impl_->bytes, options_, description_, impl_->strings);
  c.pos = impl_->values[impl_->next++];
  Walker w(c, *impl_);
  w.charge(1, 0, c.pos);
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
