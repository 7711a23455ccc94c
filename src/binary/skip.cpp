// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// binary/skip.cpp: BinaryReader::skip, which moves past a top-level value by walking its
// bytes through the recorded descriptors, building nothing. See docs/format/binary-v1.md §5-§7.

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "binary/format.hpp"
#include "binary/reader_impl.hpp"
#include "util/varint.hpp"

namespace brine {

namespace {

namespace bf = binary_format;

/// The encoded size of every value of descriptor `d` when it is fixed (numbers, and arrays,
/// tuples and durations of them); 0 otherwise. Recursion is bounded by the descriptor's
/// nesting limit (§4), checked when the descriptor was read.
std::uint64_t fixed_width(std::string_view d) {
  std::size_t pos = 0;
  const auto code = static_cast<LayoutCode>(static_cast<std::uint8_t>(d[pos++]));
  if (std::size_t n = bf::number_size(code)) return n;
  switch (code) {
    case LayoutCode::array: {
      std::uint64_t n = util::read_varint(d, pos);
      std::uint64_t each = fixed_width(d.substr(pos));
      if (each == 0 || n == 0 || n > (std::uint64_t{1} << 40) / each) return 0;
      return n * each;
    }
    case LayoutCode::tuple: {
      std::uint64_t n = util::read_varint(d, pos), total = 0;
      for (std::uint64_t i = 0; i < n; ++i) {
        std::size_t start = pos;
        detail::descriptor_min_size(d, pos);
        std::uint64_t each = fixed_width(d.substr(start, pos - start));
        if (each == 0) return 0;
        total += each;
      }
      return total;
    }
    case LayoutCode::duration:
    case LayoutCode::time_point:
      util::read_varint(d, pos);
      util::read_varint(d, pos);
      return fixed_width(d.substr(pos));
    default:
      return 0;
  }
}

}  // namespace

void BinaryReader::skip() {
  // What is left to walk, innermost last: an explicit stack rather than recursion, so that a
  // value nested as deep as LoadOptions::max_nesting() allows costs heap, not stack.
  enum class Walk : std::uint8_t {
    descriptors,  // `seq` (one or more descriptors back to back), `reps` times
    fields,       // the fields of `type`, from field `index`
    dynamic,      // `reps` self-describing values (§7.3)
    keyed,        // `reps` (text, self-describing value) pairs: map entries, object fields
  };
  struct Task {
    Walk walk;
    std::string_view seq;
    const detail::StreamType* type;
    std::size_t index;
    std::uint64_t reps;
  };
  struct Skipper {
    BinaryReader& r;
    std::vector<Task> stack;

    void push(Task t) {
      if (t.reps == 0) return;
      if (stack.size() + r.depth_ >= r.options_.max_nesting())
        r.fail(errc::limit_exceeded, detail::nesting_message(r.options_));
      stack.push_back(t);
    }
    void bytes(std::uint64_t n) {
      while (n > 0) {
        if (r.cur_ == r.end_ && !r.load_block())
          r.fail(errc::truncated_input,
                 "archive data ends inside a value (" + std::to_string(n) + " more bytes needed)");
        auto here = static_cast<std::uint64_t>(r.end_ - r.cur_);
        std::uint64_t chunk = n < here ? n : here;
        r.cur_ += chunk;
        n -= chunk;
      }
    }
    void text() { bytes(r.read_count(1)); }
    /// `n` elements of fixed width `each`, their count already checked by read_count.
    void fixed(std::uint64_t n, std::uint64_t each) {
      if (n > std::numeric_limits<std::uint64_t>::max() / each)
        r.fail(errc::corrupt_data, "count of " + std::to_string(n) + " elements overflows");
      bytes(n * each);
    }

    /// One value of descriptor `d` (a whole descriptor): skipped, or pushed for later.
    void value(std::string_view d) {
      std::size_t pos = 1;
      auto code = static_cast<LayoutCode>(static_cast<std::uint8_t>(d[0]));
      switch (code) {
        case LayoutCode::text:
        case LayoutCode::path:
        case LayoutCode::function:
        case LayoutCode::bytes:
          return text();
        case LayoutCode::dynamic:
          return push({Walk::dynamic, {}, nullptr, 0, 1});
        case LayoutCode::tensor: {
          detail::TensorRef ref;  // checked like a read, built into nothing
          return r.read_tensor_ref(ref);
        }
        case LayoutCode::list:
        case LayoutCode::set: {
          std::string_view element = d.substr(1);
          if (std::uint64_t each = fixed_width(element)) return fixed(r.read_count(each), each);
          std::size_t p = 0;
          std::size_t min = detail::descriptor_min_size(element, p);
          return push({Walk::descriptors, element, nullptr, 0, r.read_count(min)});
        }
        case LayoutCode::array: {
          std::uint64_t n = util::read_varint(d, pos);
          std::string_view element = d.substr(pos);
          if (n > r.options_.max_elements)
            r.fail(errc::limit_exceeded,
                   "array of " + std::to_string(n) + " elements exceeds LoadOptions::max_elements");
          std::size_t p = 0;
          // As in the decoder: elements that take no bytes are paid for by nothing else.
          if (detail::descriptor_min_size(element, p) == 0) r.charge_free_elements(n, "array");
          if (std::uint64_t each = fixed_width(element)) return fixed(n, each);
          return push({Walk::descriptors, element, nullptr, 0, n});
        }
        case LayoutCode::map: {
          std::string_view entry = d.substr(1);
          std::size_t p = 0;
          std::size_t min = detail::descriptor_min_size(entry, p);
          min += detail::descriptor_min_size(entry, p);
          return push({Walk::descriptors, entry, nullptr, 0, r.read_count(min)});
        }
        case LayoutCode::optional:
          if (r.read_bool()) push({Walk::descriptors, d.substr(1), nullptr, 0, 1});
          return;
        case LayoutCode::tuple:
          util::read_varint(d, pos);
          return push({Walk::descriptors, d.substr(pos), nullptr, 0, pos < d.size() ? 1u : 0u});
        case LayoutCode::variant: {
          std::uint64_t n = util::read_varint(d, pos);
          std::size_t index = r.begin_variant(static_cast<std::size_t>(n));
          for (std::size_t i = 0; i < index; ++i) detail::descriptor_min_size(d, pos);
          std::size_t start = pos;
          detail::descriptor_min_size(d, pos);
          return push({Walk::descriptors, d.substr(start, pos - start), nullptr, 0, 1});
        }
        case LayoutCode::duration:
        case LayoutCode::time_point:
          util::read_varint(d, pos);
          util::read_varint(d, pos);
          return push({Walk::descriptors, d.substr(pos), nullptr, 0, 1});
        case LayoutCode::object: {
          std::uint64_t len = util::read_varint(d, pos);
          std::string name(d.substr(pos, len));
          auto it = r.impl_->by_name.find(name);
          if (it == r.impl_->by_name.end())
            r.fail(errc::corrupt_data,
                   "layout names type '" + name + "', which the archive does not define");
          const detail::StreamType& type = r.impl_->types[it->second];
          return push({Walk::fields, {}, &type, 0, 1});
        }
        case LayoutCode::shared:
        case LayoutCode::weak:
        case LayoutCode::unique:
          return pointer(code != LayoutCode::unique);
        default: {
          std::uint64_t each = fixed_width(d);
          if (each == 0)
            r.fail(errc::corrupt_data,
                   "unknown layout code " + std::to_string(static_cast<int>(code)));
          return bytes(each);
        }
      }
    }

    // §6: a new object's type reference may define types inline, which later values use:
    // they are read into the type table as by a load.
    void pointer(bool shared) {
      std::uint64_t tag = r.get_varint();
      if (tag == bf::kPointerNull) return;
      if (tag >= bf::kPointerFirstReference) {
        if (!shared) r.fail(errc::corrupt_data, "back reference in an owning (unique) pointer");
        std::uint64_t id = tag - bf::kPointerFirstReference;
        if (id >= r.next_id_)
          r.fail(errc::corrupt_data, "reference to shared object " + std::to_string(id) +
                                         ", which was not defined before");
        return;
      }
      detail::StreamType& type = r.read_type_ref();
      if (shared) {
        if (r.next_id_ >= r.options_.max_shared_objects)
          r.fail(errc::limit_exceeded,
                 "more shared objects than LoadOptions::max_shared_objects (" +
                     std::to_string(r.options_.max_shared_objects) + ")");
        ++r.next_id_;
      }
      push({Walk::fields, {}, &type, 0, 1});
    }

    void dynamic_value() {
      std::uint8_t kind = r.get_byte();
      switch (static_cast<ValueKind>(kind)) {
        case ValueKind::null:
          return;
        case ValueKind::boolean:
          return bytes(1);
        case ValueKind::signed_integer:
        case ValueKind::unsigned_integer:
        case ValueKind::floating:
          return bytes(8);
        case ValueKind::text:
        case ValueKind::bytes:
        case ValueKind::function:
        case ValueKind::path:
          return text();
        case ValueKind::list:
          return push({Walk::dynamic, {}, nullptr, 0, r.read_count(1)});
        case ValueKind::map:
          return push({Walk::keyed, {}, nullptr, 0, r.read_count(2)});
        case ValueKind::object:
          text();
          r.get_varint();
          if (r.read_bool()) r.get_varint();
          return push({Walk::keyed, {}, nullptr, 0, r.read_count(2)});
        case ValueKind::reference:
          r.get_varint();
          return;
        case ValueKind::tensor: {
          if (r.format_version_ < 2) break;
          detail::TensorRef ref;
          return r.read_tensor_ref(ref);
        }
      }
      r.fail(errc::corrupt_data, "unknown dynamic value kind " + std::to_string(kind));
    }

    void run(std::string_view descriptor) {
      push({Walk::descriptors, descriptor, nullptr, 0, 1});
      while (!stack.empty()) {
        Task& t = stack.back();
        if (t.walk == Walk::fields) {
          if (t.index == t.type->fields.size()) {
            stack.pop_back();
            continue;
          }
          value(t.type->fields[t.index++].second);  // may push: `t` is not used after
        } else if (t.walk == Walk::descriptors) {
          if (t.index == t.seq.size()) {
            t.index = 0;
            if (--t.reps == 0) {
              stack.pop_back();
              continue;
            }
          }
          std::size_t start = t.index;
          detail::descriptor_min_size(t.seq, t.index);
          value(t.seq.substr(start, t.index - start));
        } else {
          if (t.reps == 0) {
            stack.pop_back();
            continue;
          }
          --t.reps;
          if (t.walk == Walk::keyed) text();
          dynamic_value();
        }
      }
    }
  };

  bool more = false;
  try {
    more = next_object_record();
    if (more) {
      Skipper{*this, {}}.run(impl_->record_descriptor);
      end_record();
    }
  } catch (...) {
    abandon_record();
    throw;
  }
  if (!more) fail(errc::truncated_input, "no more values: the archive's end marker was reached");
}

}  // namespace brine
