// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// stable/decoder.cpp: StableDecoder, a stable archive's values straight into objects, on the
// document's cursor (stable/cursor.hpp). See docs/format/stable-v1.md; the document was
// validated by StableReader's constructor.

#include <cstring>
#include <string>

#include "brine/stable.hpp"
#include "registry/functions.hpp"
#include "stable/cbor.hpp"
#include "stable/cursor.hpp"
#include "stable/reader_impl.hpp"
#include "state/pointers.hpp"

namespace brine {

using cbor::Head;

StableDecoder::StableDecoder(StableReader& reader)
    : d_(*reader.impl_->direct),
      registry_(reader.registry_),
      max_level_(reader.impl_->validated ? static_cast<std::size_t>(-1)
                                         : reader.options_.max_nesting()) {
  StableReader::Impl& doc = d_.doc;
  d_.c.pos = doc.next < doc.values.size() ? doc.values[doc.next] : doc.bytes.size();
  d_.fields_left = 0;
  d_.version = 0;
  d_.depth = 0;
  d_.saved.clear();
  d_.strings_before = doc.strings.table.size();
  d_.produced_before = doc.strings.produced;
  d_.shared_before = doc.shared_seen;
}

StableDecoder::~StableDecoder() {
  // An exception other than our stop left the value half-read: undo what it counted, and
  // break the cycles of the objects it created, as a stop does.
  if (!done_) abandon();
}

void StableDecoder::abandon() noexcept {
  d_.table.abandon();
  if (!d_.doc.strings.complete) d_.doc.strings.table.resize(d_.strings_before);
  d_.doc.strings.produced = d_.produced_before;
  d_.doc.shared_seen = d_.shared_before;
  done_ = true;
}

bool StableDecoder::finish() {
  StableReader::Impl& doc = d_.doc;
  // A one-pass read has read its first value whole: the rest of the document is validated
  // now (throwing what the validating constructor would have thrown).
  const std::size_t value_end = d_.c.pos;
  if (!doc.validated) validate_after_first_value(doc, d_.c);
  // The value must end where the validated document says it does; anything else is a
  // misreading, which the state model then gets to report.
  std::size_t end = doc.next + 1 < doc.values.size() ? doc.values[doc.next + 1] : doc.values_end;
  if (doc.next >= doc.values.size() || value_end != end) {
    abandon();
    return false;
  }
  ++doc.next;
  ++doc.read_directly;
  d_.table.clear();
  done_ = true;
  return true;
}

std::uint32_t StableDecoder::version() const noexcept { return d_.version; }

namespace {

/// Whether field `name` comes next in the object being read; consumes it when it does.
bool next_field_is(detail::StableDirect& d, const char* name) {
  if (d.fields_left == 0) return false;
  cbor::Cursor::Mark before = d.c.mark();
  std::string_view s;
  if (!d.c.text(s) || s != name) {
    d.c.rewind(before);
    return false;
  }
  --d.fields_left;
  return true;
}

}  // namespace

namespace {

/// Takes the bytes `key` remembers for `name` when they come next; false, reading nothing,
/// otherwise.
BRINE_STABLE_INLINE bool take_key(cbor::Cursor& c, const detail::StableDirect::FieldKey& key,
                                  const char* name) {
  const std::size_t at = c.pos;
  if (key.name != name || c.size() - at < 8) return false;
  std::uint64_t word;
  std::memcpy(&word, c.data() + at, 8);
  if ((word & key.mask) != key.bytes) return false;
  c.pos += key.length;
  c.produce_string(key.text_size, at + key.text_at);
  return true;
}

/// Remembers the bytes read from `at` for `name`, when they are 8 at most and reading them
/// noted no string (the stringref table held `strings` entries before): the same bytes then
/// mean the same text wherever they come again. A stringref's entry never changes, and a
/// literal too short to enter the table never enters it, since the length a string needs to
/// enter only grows with the table. A literal that did enter is read again the long way, so
/// that its repetition is noted as well.
void remember_key(cbor::Cursor& c, detail::StableDirect::FieldKey& key, const char* name,
                  std::size_t at, std::size_t text_at, std::size_t text_size, std::size_t strings) {
  const std::size_t length = c.pos - at;
  if (c.strings().table.size() != strings || length > 8 || c.size() - at < 8) return;
  std::uint64_t word;
  std::memcpy(&word, c.data() + at, 8);
  key.name = name;
  std::uint8_t mask[8] = {};  // the key's bytes in the word, whatever the byte order
  std::memset(mask, 0xFF, length);
  std::memcpy(&key.mask, mask, 8);
  key.bytes = word & key.mask;
  key.length = length;
  key.text_at = text_at;
  key.text_size = text_size;
}

}  // namespace

void StableDecoder::expect_field(const char* name) {
  detail::StableDirect& d = d_;
  cbor::Cursor& c = d.c;
  if (d.fields_left == 0) stop();
  detail::StableDirect::FieldKey& key = d.field_keys[detail::StableDirect::field_key_slot(name)];
  if (!take_key(c, key, name)) {
    const std::size_t at = c.pos;
    const std::size_t strings = c.strings().table.size();
    std::string_view s;
    if (!c.text(s) || s != name) stop();
    remember_key(c, key, name, at, 0, s.size(), strings);
  }
  --d.fields_left;
}

bool StableDecoder::has(const char* name) {
  cbor::Cursor::Mark before = d_.c.mark();
  if (!next_field_is(d_, name)) stop();
  // The field is read again by operator(): its name must enter the table, and count, then,
  // not twice.
  d_.c.rewind(before);
  ++d_.fields_left;
  return true;
}

bool StableDecoder::read_bool() {
  std::uint8_t b = d_.c.peek();
  if (b != 0xF4 && b != 0xF5) stop();
  ++d_.c.pos;
  return b == 0xF5;
}

std::uint64_t StableDecoder::read_unsigned(std::uint64_t max) {
  Head h = d_.c.head();
  if (h.major != 0 || h.argument > max) stop();
  return h.argument;
}

std::int64_t StableDecoder::read_signed(std::int64_t min, std::int64_t max) {
  Head h = d_.c.head();
  if (h.major == 0 && h.argument <= static_cast<std::uint64_t>(max))
    return static_cast<std::int64_t>(h.argument);
  if (h.major == 1 && h.argument <= static_cast<std::uint64_t>(-(min + 1)))
    return -1 - static_cast<std::int64_t>(h.argument);
  stop();
}

namespace {

/// A float or an integer, as F (float or double), or false when the item is neither.
template <class F>
bool floating(const Head& h, F& out) {
  if (h.major == 7 && h.info == 26) {
    std::uint32_t bits = static_cast<std::uint32_t>(h.argument);
    float f;
    std::memcpy(&f, &bits, 4);
    out = static_cast<F>(f);
    return true;
  }
  if (h.major == 7 && h.info == 27) {
    double d;
    std::memcpy(&d, &h.argument, 8);
    out = static_cast<F>(d);
    return true;
  }
  if (h.major == 0) {
    out = static_cast<F>(h.argument);
    return true;
  }
  if (h.major == 1 && h.argument <= static_cast<std::uint64_t>(INT64_MAX)) {
    out = static_cast<F>(-1 - static_cast<std::int64_t>(h.argument));
    return true;
  }
  return false;
}

}  // namespace

float StableDecoder::read_float() {
  float f;
  if (!floating(d_.c.head(), f)) stop();
  return f;
}

double StableDecoder::read_double() {
  double d;
  if (!floating(d_.c.head(), d)) stop();
  return d;
}

std::string_view StableDecoder::read_text_view() {
  std::string_view s;
  if (!d_.c.text(s)) stop();
  return s;
}

std::string_view StableDecoder::typed_array(std::uint64_t tag, std::size_t element_size) {
  cbor::Cursor& c = d_.c;
  std::size_t at = c.pos;
  if (tag != 64) {  // a uint8 array is a plain byte string
    Head t = c.head();
    if (t.major != 6 || t.argument != tag) stop();
  }
  Head h = c.head();
  if (h.major != 2 || h.argument % element_size != 0) stop();
  std::string_view body = c.take(h.argument);
  c.note_string(body);
  if (tag == 64) c.produce_string(body.size(), at);  // bytes, counted as text is; numbers not
  return body;
}

void StableDecoder::read_bytes(std::vector<std::uint8_t>& out) {
  std::string_view body = typed_array(64, 1);
  out.assign(body.begin(), body.end());
}

std::size_t StableDecoder::begin_array() {
  Head h = d_.c.head();
  if (h.major != 4 || h.indefinite) stop();
  const std::size_t n = d_.c.count(h.argument, 1);
  enter_level();
  return n;
}

std::size_t StableDecoder::begin_text_map() {
  Head h = d_.c.head();
  if (h.major != 5 || h.indefinite) stop();
  const std::size_t n = d_.c.count(h.argument, 2);
  enter_level();
  return n;
}

void StableDecoder::begin_tuple(std::size_t n) {
  if (begin_array() != n) stop();
}

bool StableDecoder::read_optional() {
  if (d_.c.peek() != 0xF6) return true;
  ++d_.c.pos;
  return false;
}

std::size_t StableDecoder::begin_variant(std::size_t alternatives) {
  begin_tuple(2);
  std::uint64_t index = read_unsigned(~std::uint64_t{0});
  if (index >= alternatives) stop();
  return static_cast<std::size_t>(index);
}

void StableDecoder::begin_duration() {
  if (begin_text_map() != 2 || read_text_view() != "count") stop();
}

void StableDecoder::end_duration(std::intmax_t num, std::intmax_t den) {
  if (read_text_view() != "period" ||
      read_text_view() != std::to_string(num) + "/" + std::to_string(den))
    stop();
  --level_;
}

namespace {

/// Reads the field map's head (false when there is none) and makes the object the one whose fields
/// are read. Objects count against LoadOptions::max_depth as in the state model; past it, the load
/// fails here with the same LimitError rather than being read again.
BRINE_STABLE_INLINE bool enter_object(detail::StableDirect& d, std::uint32_t version) {
  cbor::Cursor& c = d.c;
  std::size_t at = c.pos;
  Head h = c.head();
  if (h.major != 5 || h.indefinite) return false;
  std::size_t fields = c.count(h.argument, 2);
  if (++d.depth > d.options.max_depth)
    c.fail(errc::limit_exceeded, detail::depth_message(d.options), at);
  d.saved.push_back({d.fields_left, d.version});
  d.fields_left = fields;
  d.version = version;
  return true;
}

/// Makes the enclosing object the one whose fields are read again; false when setstate left
/// fields of this one unread. Called here rather than through end_object, an exported
/// member that calls from inside the library cannot inline.
BRINE_STABLE_INLINE bool leave_object(detail::StableDirect& d) {
  if (d.fields_left != 0) return false;
  d.fields_left = d.saved.back().fields_left;
  d.version = d.saved.back().version;
  d.saved.pop_back();
  --d.depth;
  if (d.doc.hash != nullptr && d.c.pos - d.hashed >= detail::StableDirect::kHashStep)
    d.hash_to_cursor();
  return true;
}

/// The head of an object, [type name, version, {fields}] or a $path/$function pair: its
/// element count, or 0 when the item is not an object.
BRINE_STABLE_INLINE std::size_t object_head(cbor::Cursor& c) {
  Head t = c.head();
  if (t.major != 6 || t.argument != cbor::kTagObject) return 0;
  Head a = c.head();
  if (a.major != 4 || a.indefinite) return 0;
  return static_cast<std::size_t>(a.argument);
}

}  // namespace

void StableDecoder::begin_object(const detail::TypeOps& ops) {
  cbor::Cursor& c = d_.c;
  const char* name = ops.name.data();
  detail::StableDirect::FieldKey& key = d_.type_keys[detail::StableDirect::field_key_slot(name)];
  if (!take_key(c, key, name)) {
    const std::size_t at = c.pos;
    const std::size_t strings = c.strings().table.size();
    std::string_view type;
    if (object_head(c) != 3) stop();
    const std::size_t text_at = c.pos - at;
    if (!c.text(type) || type != ops.name) stop();
    Head v = c.head();
    if (v.major != 0 || v.argument != ops.version) stop();
    remember_key(c, key, name, at, text_at, type.size(), strings);
  }
  if (!enter_object(d_, ops.version)) stop();
  level_ += 2;  // the object's array, then its field map
  if (level_ > max_level_) stop();
}

void StableDecoder::end_object() {
  if (!leave_object(d_)) stop();
  level_ -= 2;
}

namespace {

/// registry.find(name), remembered: a type name read as a stringref is the same view of the
/// document every time, so its address and size identify it.
const TypeInfo* find_type(detail::StableDirect& d, const Registry& registry,
                          std::string_view name) {
  detail::StableDirect::TypeFound& found =
      d.types_found[detail::StableDirect::field_key_slot(name.data())];
  if (found.name.data() == name.data() && found.name.size() == name.size()) return found.info;
  const TypeInfo* info = registry.find(name);
  if (info != nullptr) found = {name, info};
  return info;
}

}  // namespace

detail::PointerTarget StableDecoder::read_pointer(const detail::TypeOps& static_ops, bool shared) {
  cbor::Cursor& c = d_.c;
  if (c.peek() == 0xF6) {
    ++c.pos;
    return {};
  }
  // An unknown or renamed type, a newer version, a type that does not fit the pointer: the
  // state model (migrations, tolerant mode) decides.
  auto fail = [](errc, const std::string&) { stop(); };
  if (c.next_is(0xD8, cbor::kTagSharedRef)) {
    if (!shared) stop();
    c.pos += 2;
    Head index = c.head();  // not read_unsigned: see leave_object
    if (index.major != 0) stop();
    const detail::SharedObject* found = d_.table.find(index.argument);
    if (found == nullptr) stop();
    return detail::target_of(registry_, *found, static_ops, fail);
  }
  bool shareable = c.next_is(0xD8, cbor::kTagShareable);
  if (shareable) {
    if (!shared) stop();
    c.pos += 2;
  }
  std::string_view type;
  if (object_head(c) != 3 || !c.text(type)) stop();
  Head version = c.head();
  if (version.major != 0 || version.argument > 0xFFFFFFFFu) stop();
  // create_object's steps, with the registry's answer for the name remembered (the rest of
  // this read is the same for every object of a type) and every refusal a stop.
  detail::Created created;
  created.info = find_type(d_, registry_, type);
  if (created.info != nullptr)
    created.ops = &created.info->ops();
  else if (type == static_ops.name)
    created.ops = &static_ops;  // an unregistered type named exactly as the pointer's own type
  else
    stop();
  if (created.ops->name != type || created.ops->version != version.argument) stop();
  if (shared ? created.ops->make_shared == nullptr : created.ops->make_raw == nullptr) stop();
  if (shared) {
    created.owner = created.ops->make_shared();
    created.raw = created.owner.get();
  } else {
    created.raw = created.ops->make_raw();
  }
  created.as_static =
      detail::upcast_to(registry_, *created.ops, created.info, static_ops, created.raw);
  if (created.as_static == nullptr) stop();
  if (shareable) {
    if (d_.table.size() >= d_.options.max_shared_objects)
      c.fail(errc::limit_exceeded, "more shared objects than LoadOptions::max_shared_objects (" +
                                       std::to_string(d_.options.max_shared_objects) + ")");
    d_.table.put(d_.doc.shared_seen++,
                 detail::SharedObject{created.owner, created.ops, created.info});
  }
  if (!enter_object(d_, created.ops->version)) stop();
  level_ += 2;
  if (level_ > max_level_) stop();
  created.ops->read_stable(*this, created.raw);
  if (!leave_object(d_)) stop();
  level_ -= 2;
  return created.release();
}

std::string StableDecoder::read_path() {
  if (level_ + 1 > max_level_) stop();  // the object's array holds its name and text
  std::string_view type;
  if (object_head(d_.c) != 2 || !d_.c.text(type) || type != cbor::kPathType) stop();
  return std::string(read_text_view());
}

const FunctionInfo& StableDecoder::read_function_info(const std::type_info& signature) {
  if (level_ + 1 > max_level_) stop();
  std::string_view type;
  if (object_head(d_.c) != 2 || !d_.c.text(type) || type != cbor::kFunctionType) stop();
  // Any failure is the state path's to report, with its message and context.
  detail::FunctionLookup found = detail::lookup_function(registry_, read_text_view(), signature);
  if (found.info == nullptr) stop();
  return *found.info;
}

void (*StableDecoder::read_function(const std::type_info& signature))() {
  const FunctionInfo& info = read_function_info(signature);
  if (info.pointer == nullptr) stop();
  return info.pointer;
}

}  // namespace brine
