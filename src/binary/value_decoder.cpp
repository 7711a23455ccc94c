// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// binary/value_decoder.cpp: binary values -> state model, driven by recorded
// descriptors. See docs/format/binary-v1.md §4 and §6.

#include <string>

#include "binary/format.hpp"
#include "binary/reader_impl.hpp"
#include "util/in_place.hpp"
#include "util/varint.hpp"

namespace brine::detail {

namespace bf = binary_format;

// The decoder recurses once per level of the data: every level, object or container (and
// the optionals and durations that wrap one value), counts against max_nesting(), objects
// also against max_depth. Cold paths (messages) stay out of line, so that their
// std::string temporaries take no room in the frames paid at every level; values are
// built in place (util::construct_in), not in temporaries. Figures: docs/limits.md.
void ValueDecoder::enter_object() {
  if (++objects_ + r_.depth_ > r_.options_.max_depth) r_.fail_depth();
  enter();
}

void ValueDecoder::enter() {
  if (++r_.nesting_ + r_.depth_ > r_.options_.max_nesting()) r_.fail_nesting();
}

void ValueDecoder::decode_fields(const StreamType& type, Object& o) {
  o.type = type.name;
  o.version = type.version;
  r_.charge_state(type.fields.size());
  o.fields.reserve(type.fields.size());
  for (const auto& field : type.fields) {
    Field& f = o.fields.emplace_back();
    f.name.assign(field.first);
    // Not a structured binding: a lambda may not capture one before C++20 (clang refuses).
    std::string_view descriptor = field.second;
    std::size_t pos = 0;
    try {
      util::construct_in(f.value, [&] { return decode(descriptor, pos); });
    } catch (Error& e) {
      // The field path is built as a failure unwinds (see BinaryReader::operator()).
      prepend_error_key(e, f.name);
      throw;
    }
  }
}

Value ValueDecoder::decode_object(const StreamType& type) {
  enter_object();
  Value v{Object{}};
  decode_fields(type, v.as_object());
  leave_object();
  return v;
}

BRINE_BINARY_OUT_OF_LINE Value ValueDecoder::decode_pointer(std::string_view, bool shared) {
  std::uint64_t tag = r_.get_varint();
  if (tag == bf::kPointerNull) return Value();
  if (tag >= bf::kPointerFirstReference) {
    if (!shared) r_.fail(errc::corrupt_data, "back reference in an owning (unique) pointer");
    std::uint64_t id = tag - bf::kPointerFirstReference;
    if (id >= r_.next_id_) r_.fail_undefined_reference(id);
    return Value(Reference{id});
  }
  StreamType& type = r_.read_type_ref();
  std::optional<std::uint64_t> id;
  if (shared) {
    if (r_.next_id_ >= r_.options_.max_shared_objects) r_.fail_shared_objects();
    id = r_.next_id_++;
  }
  Value v = decode_object(type);
  v.as_object().shared_id = id;
  return v;
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
    case LayoutCode::path:
      return decode_text(d, pos, code);
    case LayoutCode::function:
      return decode_function(d, pos, code);
    case LayoutCode::bytes:
      return decode_bytes(d, pos, code);
    case LayoutCode::dynamic:
      return r_.read_dynamic();
    case LayoutCode::tensor:
      return decode_tensor();
    case LayoutCode::list:
    case LayoutCode::set:
      return decode_list(d, pos, code);
    case LayoutCode::array:
      return decode_array(d, pos, code);
    case LayoutCode::map:
      return decode_map(d, pos, code);
    case LayoutCode::optional:
      return decode_optional(d, pos, code);
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
  fail_layout_code(code);
}

Value ValueDecoder::decode_tensor() {
  TensorRef ref;
  r_.read_tensor_ref(ref);
  r_.charge_state(1);
  return Value(r_.make_tensor(ref));
}

void ValueDecoder::fail_layout_code(LayoutCode code) {
  r_.fail(errc::corrupt_data, "unknown layout code " + std::to_string(static_cast<int>(code)));
}

Value ValueDecoder::decode_optional(std::string_view d, std::size_t& pos, LayoutCode) {
  std::size_t element = pos;
  descriptor_min_size(d, pos);
  if (!r_.read_bool()) return Value();
  // A level like any wrapper: a layout may nest 64 optionals around an object of its own type.
  enter();
  std::size_t p = element;
  Value v = decode(d, p);
  leave();
  return v;
}

Value ValueDecoder::decode_text(std::string_view d, std::size_t& pos, LayoutCode code) {
  (void)d;
  (void)pos;
  std::string s;
  r_.read_text(s);
  r_.charge_state(0, s.size());
  if (code == LayoutCode::path) return Value(PathValue{std::move(s)});
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
  r_.charge_state(0, b.data.size());
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
  // Counted whole before the reservation (LoadOptions::max_state_expansion), so the list is
  // reserved once at its size: grown by doubling, it would hold three times its elements
  // while it moves.
  enter();
  Value::List list;
  list.reserve(r_.charge_elements(n, sizeof(Value)));
  for (std::size_t i = 0; i < n; ++i) {
    r_.charge_element();
    std::size_t p = element;
    try {
      util::construct_in(list.emplace_back(), [&] { return decode(d, p); });
    } catch (Error& e) {
      prepend_error_index(e, static_cast<std::size_t>(i));
      throw;
    }
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
    if (min != 0 && n > remaining / min) fail_array_bytes(n, remaining);
  }
  if (n > r_.options_.max_elements) fail_array_elements(n);
  // The length is in the layout, not the data: elements that take no bytes are
  // paid for by nothing, like a count of them.
  if (min == 0) r_.charge_free_elements(n, "array");
  enter();
  Value::List list;
  list.reserve(r_.charge_elements(static_cast<std::size_t>(n), sizeof(Value)));
  for (std::uint64_t i = 0; i < n; ++i) {
    r_.charge_element();
    std::size_t p = element;
    try {
      util::construct_in(list.emplace_back(), [&] { return decode(d, p); });
    } catch (Error& e) {
      prepend_error_index(e, static_cast<std::size_t>(i));
      throw;
    }
  }
  leave();
  return Value(std::move(list));
}

void ValueDecoder::fail_array_elements(std::uint64_t n) {
  r_.fail(errc::limit_exceeded,
          "array of " + std::to_string(n) + " elements exceeds LoadOptions::max_elements");
}

void ValueDecoder::fail_array_bytes(std::uint64_t n, std::uint64_t remaining) {
  r_.fail(errc::truncated_input, "array of " + std::to_string(n) + " elements, only " +
                                     std::to_string(remaining) + " bytes remain");
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
  Value result = text_keys ? decode_text_map(d, value, n) : decode_entry_list(d, key, value, n);
  leave();
  return result;
}

Value ValueDecoder::decode_text_map(std::string_view d, std::size_t value, std::size_t n) {
  Value result{Value::Map{}};
  Value::Map& map = result.as_map();
  r_.charge_elements(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    r_.charge_element();
    // The key's descriptor is text: read as decode would, without a Value around it.
    auto [at, inserted] = map.try_emplace(std::string(r_.read_text_view()));
    if (!inserted) r_.fail(errc::corrupt_data, "duplicate map key");
    std::size_t pv = value;
    try {
      util::construct_in(at->second, [&] { return decode(d, pv); });
    } catch (Error& e) {
      prepend_error_key(e, at->first);
      throw;
    }
  }
  return result;
}

Value ValueDecoder::decode_entry_list(std::string_view d, std::size_t key, std::size_t value,
                                      std::size_t n) {
  Value result{Value::List{}};
  Value::List& list = result.as_list();
  // Each entry is a list of two values: three values counted per entry.
  list.reserve(r_.charge_elements(n, sizeof(Value), 3));
  for (std::size_t i = 0; i < n; ++i) {
    r_.charge_element(3);
    std::size_t pk = key, pv = value;
    Value::List& entry = list.emplace_back(Value::List(2)).as_list();
    try {
      util::construct_in(entry[0], [&] { return decode(d, pk); });
      util::construct_in(entry[1], [&] { return decode(d, pv); });
    } catch (Error& e) {
      // An entry of a map that is not text-keyed: its index, as MapCodec names it.
      prepend_error_index(e, i);
      throw;
    }
  }
  return result;
}

Value ValueDecoder::decode_tuple(std::string_view d, std::size_t& pos, LayoutCode code) {
  (void)d;
  (void)pos;
  (void)code;
  std::uint64_t n = util::read_varint(d, pos);
  r_.charge_state(n);
  enter();
  Value::List list;
  for (std::uint64_t i = 0; i < n; ++i)
    util::construct_in(list.emplace_back(), [&] { return decode(d, pos); });
  leave();
  return Value(std::move(list));
}

Value ValueDecoder::decode_variant(std::string_view d, std::size_t& pos, LayoutCode code) {
  (void)d;
  (void)pos;
  (void)code;
  std::uint64_t n = util::read_varint(d, pos);
  std::size_t index = r_.begin_variant(static_cast<std::size_t>(n));
  r_.charge_state(2);
  Value::List pair;
  pair.push_back(Value(static_cast<std::uint64_t>(index)));
  enter();
  for (std::uint64_t i = 0; i < n; ++i) {
    if (i == index)
      util::construct_in(pair.emplace_back(), [&] { return decode(d, pos); });
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
  r_.charge_state(2);
  Value result = duration_map(num, den);
  // A level like any wrapper: a layout may nest durations of durations.
  enter();
  util::construct_in(result.as_map().find("count")->second, [&] { return decode(d, pos); });
  leave();
  return result;
}

Value ValueDecoder::duration_map(std::uint64_t num, std::uint64_t den) {
  Value::Map m;
  m.emplace("count", Value());
  m.emplace("period", Value(std::to_string(num) + "/" + std::to_string(den)));
  return Value(std::move(m));
}

Value ValueDecoder::decode_named_object(std::string_view d, std::size_t& pos, LayoutCode code) {
  (void)d;
  (void)pos;
  (void)code;
  return decode_object(named_type(read_layout_name(d, pos)));
}

const StreamType& ValueDecoder::named_type(std::string_view name) {
  auto it = r_.impl_->by_name.find(std::string(name));
  if (it == r_.impl_->by_name.end())
    r_.fail(errc::corrupt_data,
            "layout names type '" + std::string(name) + "', which the archive does not define");
  return r_.impl_->types[it->second];
}

}  // namespace brine::detail

namespace brine {

Value BinaryReader::read_dynamic() {
  // Recursion is bounded like the decoder's containers: every level, object or
  // container, counts against max_nesting(), in the count the decoder shares.
  struct Depth {
    BinaryReader& r;
    explicit Depth(BinaryReader& reader) : r(reader) {
      if (++r.nesting_ + r.depth_ > r.options_.max_nesting()) r.fail_nesting();
    }
    ~Depth() { --r.nesting_; }
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
    case ValueKind::text:
    case ValueKind::bytes:
    case ValueKind::path:
    case ValueKind::function:
      return read_dynamic_string(static_cast<ValueKind>(kind));
    case ValueKind::list:
      return read_dynamic_list();
    case ValueKind::map:
      return read_dynamic_map();
    case ValueKind::object:
      return read_dynamic_object();
    case ValueKind::reference:
      return Value(Reference{get_varint()});
    case ValueKind::tensor:
      if (format_version_ < 2) break;  // kind 13 is version 2's
      return read_dynamic_tensor();
  }
  fail_dynamic_kind(kind);
}

void BinaryReader::fail_dynamic_kind(std::uint8_t kind) const {
  fail(errc::corrupt_data, "unknown dynamic value kind " + std::to_string(kind));
}

BRINE_BINARY_OUT_OF_LINE Value BinaryReader::read_dynamic_string(ValueKind kind) {
  if (kind == ValueKind::bytes) {
    Bytes b;
    read_bytes(b.data);
    return Value(std::move(b));
  }
  std::string s;
  read_text(s);
  if (kind == ValueKind::path) return Value(PathValue{std::move(s)});
  if (kind == ValueKind::function) return Value(FunctionRef{std::move(s)});
  return Value(std::move(s));
}

// Out of line: a Tensor local in read_dynamic's frame would cost every level of recursion.
BRINE_BINARY_OUT_OF_LINE Value BinaryReader::read_dynamic_tensor() {
  Tensor t;
  read_tensor(t);
  return Value(std::move(t));
}

BRINE_BINARY_OUT_OF_LINE Value BinaryReader::read_dynamic_list() {
  std::size_t n = read_count(1);
  Value v{Value::List{}};
  Value::List& list = v.as_list();
  list.reserve(charge_elements(n, sizeof(Value)));
  for (std::size_t i = 0; i < n; ++i) {
    charge_element();
    try {
      util::construct_in(list.emplace_back(), [this] { return read_dynamic(); });
    } catch (Error& e) {
      detail::prepend_error_index(e, i);
      throw;
    }
  }
  return v;
}

BRINE_BINARY_OUT_OF_LINE Value BinaryReader::read_dynamic_map() {
  std::size_t n = read_count(2);
  charge_elements(n, 0);
  Value v{Value::Map{}};
  Value::Map& map = v.as_map();
  for (std::size_t i = 0; i < n; ++i) {
    charge_element();
    auto [at, inserted] = map.try_emplace(std::string(read_text_view()));
    if (!inserted) fail(errc::corrupt_data, "duplicate map key");
    try {
      util::construct_in(at->second, [this] { return read_dynamic(); });
    } catch (Error& e) {
      detail::prepend_error_key(e, at->first);
      throw;
    }
  }
  return v;
}

BRINE_BINARY_OUT_OF_LINE Value BinaryReader::read_dynamic_object() {
  Value v{Object{}};
  Object& o = v.as_object();
  read_text(o.type);
  std::uint64_t version = get_varint();
  if (version > 0xFFFFFFFFu) fail(errc::corrupt_data, "object version out of range");
  o.version = static_cast<std::uint32_t>(version);
  if (read_bool()) o.shared_id = get_varint();
  std::size_t n = read_count(2);
  o.fields.reserve(charge_elements(n, sizeof(Field)));
  for (std::size_t i = 0; i < n; ++i) {
    charge_element();
    Field& f = o.fields.emplace_back();
    read_text(f.name);
    try {
      util::construct_in(f.value, [this] { return read_dynamic(); });
    } catch (Error& e) {
      detail::prepend_error_key(e, f.name);
      throw;
    }
  }
  return v;
}

}  // namespace brine
