// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// binary/value_decoder.cpp: binary values -> state model, driven by recorded
// descriptors. See docs/format/binary-v1.md §4 and §6.

#include <string>

#include "binary/format.hpp"
#include "binary/reader_impl.hpp"
#include "util/varint.hpp"

namespace brine::detail {

namespace bf = binary_format;

void ValueDecoder::enter_object() {
  if (++objects_ + r_.frames_.size() > r_.options_.max_depth)
    r_.fail(errc::limit_exceeded, depth_message(r_.options_));
  enter();
}

void ValueDecoder::enter() {
  if (++levels_ + r_.frames_.size() > r_.options_.max_nesting())
    r_.fail(errc::limit_exceeded, nesting_message(r_.options_));
}

Object ValueDecoder::decode_fields(const StreamType& type) {
  Object o;
  o.type = type.name;
  o.version = type.version;
  o.fields.reserve(type.fields.size());
  for (const auto& [name, descriptor] : type.fields) {
    std::size_t pos = 0;
    const char* saved = r_.field_;
    r_.field_ = nullptr;
    o.fields.push_back(Field{std::string(name), decode(descriptor, pos)});
    r_.field_ = saved;
  }
  return o;
}

Value ValueDecoder::decode_object(const StreamType& type) {
  enter_object();
  Value v(decode_fields(type));
  leave_object();
  return v;
}

Value ValueDecoder::decode_pointer(std::string_view, bool shared) {
  std::uint64_t tag = r_.get_varint();
  if (tag == bf::kPointerNull) return Value();
  if (tag >= bf::kPointerFirstReference) {
    if (!shared) r_.fail(errc::corrupt_data, "back reference in an owning (unique) pointer");
    std::uint64_t id = tag - bf::kPointerFirstReference;
    if (id >= r_.next_id_)
      r_.fail(errc::corrupt_data, "reference to shared object " + std::to_string(id) +
                                      ", which was not defined before");
    return Value(Reference{id});
  }
  StreamType& type = r_.read_type_ref();
  std::optional<std::uint64_t> id;
  if (shared) {
    if (r_.next_id_ >= r_.options_.max_shared_objects)
      r_.fail(errc::limit_exceeded, "more shared objects than LoadOptions::max_shared_objects (" +
                                        std::to_string(r_.options_.max_shared_objects) + ")");
    id = r_.next_id_++;
  }
  enter_object();
  Object o = decode_fields(type);
  leave_object();
  o.shared_id = id;
  return Value(std::move(o));
}

// Separate functions keep decode's own frame small: it recurses once per level
// of the data, and a switch holding every case's locals made each level cost
// kilobytes of stack in sanitizer builds.
static std::string_view read_layout_name(std::string_view d, std::size_t& pos) {
  std::uint64_t len = util::read_varint(d, pos);
  std::string_view name = d.substr(pos, len);
  pos += len;
  return name;
}

Value ValueDecoder::decode(std::string_view d, std::size_t& pos) {
  auto code = static_cast<LayoutCode>(static_cast<std::uint8_t>(d[pos++]));
  switch (code) {
    case LayoutCode::boolean:
      return Value(r_.read_bool());
    case LayoutCode::i8:
      return Value(r_.read_number<std::int8_t>());
    case LayoutCode::i16:
      return Value(r_.read_number<std::int16_t>());
    case LayoutCode::i32:
      return Value(r_.read_number<std::int32_t>());
    case LayoutCode::i64:
      return Value(r_.read_number<std::int64_t>());
    case LayoutCode::u8:
      return Value(r_.read_number<std::uint8_t>());
    case LayoutCode::u16:
      return Value(r_.read_number<std::uint16_t>());
    case LayoutCode::u32:
      return Value(r_.read_number<std::uint32_t>());
    case LayoutCode::u64:
      return Value(r_.read_number<std::uint64_t>());
    case LayoutCode::f32:
      return Value(r_.read_number<float>());
    case LayoutCode::f64:
      return Value(r_.read_number<double>());
    case LayoutCode::text:
      return decode_text(d, pos, code);
    case LayoutCode::path:
      return Value(PathValue{r_.read_path()});
    case LayoutCode::function:
      return decode_function(d, pos, code);
    case LayoutCode::bytes:
      return decode_bytes(d, pos, code);
    case LayoutCode::dynamic:
      return r_.read_dynamic();
    case LayoutCode::list:
    case LayoutCode::set:
      return decode_list(d, pos, code);
    case LayoutCode::array:
      return decode_array(d, pos, code);
    case LayoutCode::map:
      return decode_map(d, pos, code);
    case LayoutCode::optional: {
      std::size_t element = pos;
      descriptor_min_size(d, pos);
      if (!r_.read_bool()) return Value();
      std::size_t p = element;
      return decode(d, p);
    }
    case LayoutCode::tuple:
      return decode_tuple(d, pos, code);
    case LayoutCode::variant:
      return decode_variant(d, pos, code);
    case LayoutCode::duration:
    case LayoutCode::time_point:
      return decode_duration(d, pos, code);
    case LayoutCode::object:
      return decode_named_object(d, pos, code);
    case LayoutCode::shared:
    case LayoutCode::weak:
      return decode_pointer(read_layout_name(d, pos), true);
    case LayoutCode::unique:
      return decode_pointer(read_layout_name(d, pos), false);
  }
  r_.fail(errc::corrupt_data, "unknown layout code " + std::to_string(static_cast<int>(code)));
}

Value ValueDecoder::decode_text(std::string_view d, std::size_t& pos, LayoutCode code) {
  (void)d;
  (void)pos;
  (void)code;
  std::string s;
  r_.read_text(s);
  return Value(std::move(s));
}

Value ValueDecoder::decode_function(std::string_view d, std::size_t& pos, LayoutCode code) {
  (void)d;
  (void)pos;
  (void)code;
  std::string s;
  r_.read_text(s);
  return Value(FunctionRef{std::move(s)});
}

Value ValueDecoder::decode_bytes(std::string_view d, std::size_t& pos, LayoutCode code) {
  (void)d;
  (void)pos;
  (void)code;
  Bytes b;
  r_.read_bytes(b.data);
  return Value(std::move(b));
}

Value ValueDecoder::decode_list(std::string_view d, std::size_t& pos, LayoutCode code) {
  (void)d;
  (void)pos;
  (void)code;
  std::size_t element = pos;
  std::size_t min = descriptor_min_size(d, pos);
  if (static_cast<LayoutCode>(d[element]) == LayoutCode::u8 && code == LayoutCode::list) {
    Bytes b;
    r_.read_bytes(b.data);
    return Value(std::move(b));
  }
  std::size_t n = r_.read_count(min);
  enter();
  Value::List list;
  list.reserve(r_.reserve_limit(n, sizeof(Value)));
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t p = element;
    list.push_back(decode(d, p));
  }
  leave();
  return Value(std::move(list));
}

Value ValueDecoder::decode_array(std::string_view d, std::size_t& pos, LayoutCode code) {
  (void)d;
  (void)pos;
  (void)code;
  std::uint64_t n = util::read_varint(d, pos);
  std::size_t element = pos;
  std::size_t min = descriptor_min_size(d, pos);
  if (r_.remaining_known_) {
    std::uint64_t remaining =
        static_cast<std::uint64_t>(r_.end_ - r_.cur_) + r_.remaining_after_block_;
    if (min != 0 && n > remaining / min)
      r_.fail(errc::truncated_input, "array of " + std::to_string(n) + " elements, only " +
                                         std::to_string(remaining) + " bytes remain");
  }
  if (n > r_.options_.max_elements)
    r_.fail(errc::limit_exceeded,
            "array of " + std::to_string(n) + " elements exceeds LoadOptions::max_elements");
  // The length is in the layout, not the data: elements that take no bytes are
  // paid for by nothing, like a count of them.
  if (min == 0) r_.charge_free_elements(n, "array");
  enter();
  Value::List list;
  list.reserve(r_.reserve_limit(static_cast<std::size_t>(n), sizeof(Value)));
  for (std::uint64_t i = 0; i < n; ++i) {
    std::size_t p = element;
    list.push_back(decode(d, p));
  }
  leave();
  return Value(std::move(list));
}

Value ValueDecoder::decode_map(std::string_view d, std::size_t& pos, LayoutCode code) {
  (void)d;
  (void)pos;
  (void)code;
  std::size_t key = pos;
  std::size_t min = descriptor_min_size(d, pos);
  std::size_t value = pos;
  min += descriptor_min_size(d, pos);
  bool text_keys = static_cast<LayoutCode>(d[key]) == LayoutCode::text;
  std::size_t n = r_.read_count(min);
  enter();
  Value result;
  if (text_keys) {
    Value::Map map;
    for (std::size_t i = 0; i < n; ++i) {
      std::size_t pk = key, pv = value;
      std::string k = decode(d, pk).as_text();
      Value v = decode(d, pv);
      if (!map.emplace(std::move(k), std::move(v)).second)
        r_.fail(errc::corrupt_data, "duplicate map key");
    }
    result = Value(std::move(map));
  } else {
    Value::List list;
    list.reserve(r_.reserve_limit(n, sizeof(Value)));
    for (std::size_t i = 0; i < n; ++i) {
      std::size_t pk = key, pv = value;
      Value::List entry;
      entry.push_back(decode(d, pk));
      entry.push_back(decode(d, pv));
      list.push_back(Value(std::move(entry)));
    }
    result = Value(std::move(list));
  }
  leave();
  return result;
}

Value ValueDecoder::decode_tuple(std::string_view d, std::size_t& pos, LayoutCode code) {
  (void)d;
  (void)pos;
  (void)code;
  std::uint64_t n = util::read_varint(d, pos);
  enter();
  Value::List list;
  for (std::uint64_t i = 0; i < n; ++i) list.push_back(decode(d, pos));
  leave();
  return Value(std::move(list));
}

Value ValueDecoder::decode_variant(std::string_view d, std::size_t& pos, LayoutCode code) {
  (void)d;
  (void)pos;
  (void)code;
  std::uint64_t n = util::read_varint(d, pos);
  std::size_t index = r_.begin_variant(static_cast<std::size_t>(n));
  Value::List pair;
  pair.push_back(Value(static_cast<std::uint64_t>(index)));
  enter();
  for (std::uint64_t i = 0; i < n; ++i) {
    if (i == index)
      pair.push_back(decode(d, pos));
    else
      descriptor_min_size(d, pos);
  }
  leave();
  return Value(std::move(pair));
}

Value ValueDecoder::decode_duration(std::string_view d, std::size_t& pos, LayoutCode code) {
  (void)d;
  (void)pos;
  (void)code;
  std::uint64_t num = util::read_varint(d, pos);
  std::uint64_t den = util::read_varint(d, pos);
  Value count = decode(d, pos);
  Value::Map m;
  m.emplace("count", std::move(count));
  m.emplace("period", Value(std::to_string(num) + "/" + std::to_string(den)));
  return Value(std::move(m));
}

Value ValueDecoder::decode_named_object(std::string_view d, std::size_t& pos, LayoutCode code) {
  (void)d;
  (void)pos;
  (void)code;
  std::string_view name = read_layout_name(d, pos);
  auto it = r_.impl_->by_name.find(std::string(name));
  if (it == r_.impl_->by_name.end())
    r_.fail(errc::corrupt_data,
            "layout names type '" + std::string(name) + "', which the archive does not define");
  return decode_object(r_.impl_->types[it->second]);
}

}  // namespace brine::detail

namespace brine {

Value BinaryReader::read_dynamic() {
  // Recursion is bounded like the decoder's containers: every level, object or
  // container, counts against max_nesting().
  struct Depth {
    BinaryReader& r;
    explicit Depth(BinaryReader& reader) : r(reader) {
      if (++r.dynamic_depth_ + r.frames_.size() > r.options_.max_nesting())
        r.fail(errc::limit_exceeded, detail::nesting_message(r.options_));
    }
    ~Depth() { --r.dynamic_depth_; }
  } depth(*this);
  std::uint8_t kind = get_byte();
  switch (static_cast<ValueKind>(kind)) {
    case ValueKind::null:
      return Value();
    case ValueKind::boolean:
      return Value(read_bool());
    case ValueKind::signed_integer:
      return Value(read_number<std::int64_t>());
    case ValueKind::unsigned_integer:
      return Value(read_number<std::uint64_t>());
    case ValueKind::floating:
      return Value(read_number<double>());
    case ValueKind::text: {
      std::string s;
      read_text(s);
      return Value(std::move(s));
    }
    case ValueKind::bytes: {
      Bytes b;
      read_bytes(b.data);
      return Value(std::move(b));
    }
    case ValueKind::path:
      return Value(PathValue{read_path()});
    case ValueKind::function: {
      std::string s;
      read_text(s);
      return Value(FunctionRef{std::move(s)});
    }
    case ValueKind::list: {
      std::size_t n = read_count(1);
      Value::List list;
      list.reserve(reserve_limit(n, sizeof(Value)));
      for (std::size_t i = 0; i < n; ++i) list.push_back(read_dynamic());
      return Value(std::move(list));
    }
    case ValueKind::map: {
      std::size_t n = read_count(2);
      Value::Map map;
      for (std::size_t i = 0; i < n; ++i) {
        std::string key;
        read_text(key);
        Value v = read_dynamic();
        if (!map.emplace(std::move(key), std::move(v)).second)
          fail(errc::corrupt_data, "duplicate map key");
      }
      return Value(std::move(map));
    }
    case ValueKind::object: {
      Object o;
      read_text(o.type);
      std::uint64_t version = get_varint();
      if (version > 0xFFFFFFFFu) fail(errc::corrupt_data, "object version out of range");
      o.version = static_cast<std::uint32_t>(version);
      if (read_bool()) o.shared_id = get_varint();
      std::size_t n = read_count(2);
      o.fields.reserve(reserve_limit(n, sizeof(Field)));
      for (std::size_t i = 0; i < n; ++i) {
        std::string name;
        read_text(name);
        o.fields.push_back(Field{std::move(name), read_dynamic()});
      }
      return Value(std::move(o));
    }
    case ValueKind::reference:
      return Value(Reference{get_varint()});
  }
  fail(errc::corrupt_data, "unknown dynamic value kind " + std::to_string(kind));
}

}  // namespace brine
