// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// state/state.cpp: StateWriter and StateReader, between objects and the state model.

#include "brine/state.hpp"

#include <string>

#include "registry/functions.hpp"
#include "state/pointers.hpp"

namespace brine {

namespace {
// Exact duration conversion needs 128-bit intermediates; __extension__ marks the GNU type as
// intended under -Wpedantic.
__extension__ typedef __int128 Int128;
}  // namespace

// ------------------------------------------------------------------------------ StateWriter

StateWriter::StateWriter(const Registry& registry) : registry_(registry) {}

Value& StateWriter::emit(Value v) {
  Frame& top = frames_.back();
  Value& container = *top.container;
  switch (container.kind()) {
    case ValueKind::list: {
      Value::List& list = container.as_list();
      list.push_back(std::move(v));
      return list.back();
    }
    case ValueKind::map: {
      Value& slot = container.as_map()[top.key];
      slot = std::move(v);
      return slot;
    }
    case ValueKind::object: {
      Object& o = container.as_object();
      o.fields.push_back(Field{top.field ? top.field : "", std::move(v)});
      return o.fields.back().value;
    }
    default:
      // The root frame: its container is the (still null) root value itself.
      container = std::move(v);
      return container;
  }
}

void StateWriter::write_bytes(const void* bytes, std::size_t n) {
  const auto* p = static_cast<const std::uint8_t*>(bytes);
  emit(Value(Bytes{std::vector<std::uint8_t>(p, p + n)}));
}

void StateWriter::begin_list(std::size_t n) {
  Value& v = emit(Value(Value::List{}));
  v.as_list().reserve(n);
  push(v, frames_.back().version);
}

void StateWriter::begin_text_map() {
  Value& v = emit(Value(Value::Map{}));
  push(v, frames_.back().version);
}

void StateWriter::write_duration_value(Value count, std::intmax_t num, std::intmax_t den) {
  Value::Map m;
  m.emplace("count", std::move(count));
  m.emplace("period", Value(std::to_string(num) + "/" + std::to_string(den)));
  emit(Value(std::move(m)));
}

void StateWriter::write_function(void (*pointer)(), const std::type_info& signature) {
  emit(Value(FunctionRef{detail::function_name_to_save(registry_, pointer, signature)}));
}

Object& StateWriter::begin_object(std::string_view type_name, std::uint32_t version) {
  Object o;
  o.type = std::string(type_name);
  o.version = version;
  Value& v = emit(Value(std::move(o)));
  push(v, version);
  return v.as_object();
}

void StateWriter::append_unknown(Object& object, const UnknownFields& unknown) {
  if (unknown.version > object.version) object.version = unknown.version;
  for (const Field& f : unknown.fields) object.fields.push_back(f);
}

void StateWriter::write_pointer(const void* most_derived, const std::type_info& dynamic_type,
                                const detail::TypeOps& static_ops, bool shared, bool /*weak*/) {
  std::uint64_t id = 0;
  if (shared) {
    bool inserted;
    // Ids count the shared objects of the value in the order they are met, as the table does.
    id = ids_.find_or_insert(most_derived, inserted);
    if (!inserted) {
      emit(Value(Reference{id}));
      return;
    }
  }
  const detail::TypeOps& ops = detail::dynamic_type_ops(registry_, dynamic_type, static_ops);
  Object& o = begin_object(ops.name, ops.version);
  if (shared) o.shared_id = id;
  ops.write_state(*this, most_derived);
  if (ops.unknown_fields != nullptr)
    append_unknown(o, *ops.unknown_fields(const_cast<void*>(most_derived)));
  pop();
}

// ------------------------------------------------------------------------------ StateReader

StateReader::StateReader(const Value& root, const Registry& registry, const LoadOptions& options,
                         detail::SharedObjectTable* table, std::string source)
    : root_(root),
      registry_(registry),
      options_(options),
      table_(table ? table : &own_table_),
      source_(std::move(source)) {
  frames_.push_back(Frame{&root_});
}

ErrorContext StateReader::context() const {
  ErrorContext c;
  c.source = source_;
  for (auto it = frames_.rbegin(); it != frames_.rend(); ++it) {
    if (it->object) {
      c.type_name = it->object->type;
      c.version = it->object->version;
      break;
    }
  }
  // No field path: operator() and the containers' codecs add it while the failure unwinds.
  return c;
}

void StateReader::rethrow_after_failure(std::exception_ptr failure) {
  if (table_ == &own_table_) own_table_.abandon();
  try {
    std::rethrow_exception(failure);
  } catch (const IoError&) {
    throw;
  } catch (Error& e) {
    // A Value accessor's error names no type: the frames still describe the innermost
    // object while unwinding. The field path was added on the way out.
    ErrorContext c = context();
    detail::note_error_type(e, c.type_name, c.version);
    detail::note_error_source(e, c.source);
    throw;
  }
}

void StateReader::fail(errc code, const std::string& message) const {
  detail::throw_error(code, message, context());
}

void StateReader::fail_kind(const char* expected, const Value& found) const {
  fail(errc::type_mismatch,
       std::string("expected ") + expected + ", found " + kind_name(found.kind()));
}

const Value& StateReader::take() {
  Frame& f = frames_.back();
  if (f.value->kind() == ValueKind::list && f.taken) {
    const Value::List& list = f.value->as_list();
    if (f.index >= list.size())
      fail(errc::type_mismatch,
           "list has " + std::to_string(list.size()) + " elements, more were expected");
    return list[f.index++];
  }
  if (f.object != nullptr)
    fail(errc::internal_error, "value read from an object without a field name");
  if (f.taken) fail(errc::internal_error, "value read twice");
  f.taken = true;
  return *f.value;
}

void StateReader::enter_field(const char* name) {
  const Frame& top = frames_.back();
  const Object* object = top.object;
  if (object == nullptr) fail(errc::internal_error, "field read outside an object");
  const Value* v = object->find(name);
  if (v == nullptr) {
    ErrorContext c = context();  // operator() adds the field's name to the path
    const TypeInfo* info = registry_.find(object->type);
    std::string versions = "written as v" + std::to_string(object->version);
    if (info) versions += ", this build's version is v" + std::to_string(info->version());
    detail::throw_error(errc::missing_field,
                        "missing field '" + std::string(name) + "' (" + versions +
                            "): register a migration that adds it, or read it with optional_field",
                        c);
  }
  frames_.push_back(Frame{v});
  frames_.back().field = name;
}

std::uint32_t StateReader::version() const noexcept {
  for (auto it = frames_.rbegin(); it != frames_.rend(); ++it)
    if (it->object) return it->object->version;
  return 0;
}

bool StateReader::has(const char* name) const {
  for (auto it = frames_.rbegin(); it != frames_.rend(); ++it)
    if (it->object) return it->object->find(name) != nullptr;
  return false;
}

bool StateReader::read_bool() {
  const Value& v = take();
  if (v.kind() != ValueKind::boolean) fail_kind("boolean", v);
  return v.as_bool();
}

void StateReader::read_text(std::string& out) {
  const Value& v = take();
  if (v.kind() != ValueKind::text) fail_kind("text", v);
  out = v.as_text();
}

void StateReader::read_bytes(std::vector<std::uint8_t>& out) {
  const Value& v = take();
  if (v.kind() == ValueKind::bytes) {
    out = v.as_bytes().data;
    return;
  }
  if (v.kind() != ValueKind::list) fail_kind("bytes", v);
  enter(v);
  frames_.back().taken = true;
  out.resize(v.as_list().size());
  for (auto& b : out) b = read_number<std::uint8_t>();
  leave();
}

std::size_t StateReader::begin_list(std::size_t) {
  const Value& v = take();
  if (v.kind() != ValueKind::list) fail_kind("list", v);
  enter(v);
  frames_.back().taken = true;
  return v.as_list().size();
}

std::size_t StateReader::begin_text_map() {
  const Value& v = take();
  if (v.kind() != ValueKind::map) fail_kind("map", v);
  enter(v);
  frames_.back().taken = true;
  frames_.back().map_it = v.as_map().begin();
  return v.as_map().size();
}

const Value& StateReader::enter_map_entry(std::string* key_out) {
  Frame& f = frames_.back();
  if (f.value->kind() != ValueKind::map || f.map_it == f.value->as_map().end())
    fail(errc::internal_error, "map entry read past the end");
  *key_out = f.map_it->first;
  const Value& v = f.map_it->second;
  ++f.map_it;
  enter(v);
  return v;
}

void StateReader::begin_tuple(std::size_t n) {
  std::size_t size = begin_list(0);
  if (size != n)
    fail(errc::type_mismatch,
         "expected a list of " + std::to_string(n) + " elements, found " + std::to_string(size));
}

bool StateReader::read_optional() {
  // Absent is null; present is the value itself, left for the element's codec to take.
  Frame& f = frames_.back();
  const Value* next;
  if (f.value->kind() == ValueKind::list && f.taken) {
    const Value::List& list = f.value->as_list();
    if (f.index >= list.size()) fail(errc::type_mismatch, "list has fewer elements than expected");
    next = &list[f.index];
  } else {
    next = f.value;
  }
  if (next->is_null()) {
    take();
    return false;
  }
  return true;
}

std::size_t StateReader::begin_variant(std::size_t alternatives) {
  std::size_t n = begin_list(0);
  if (n != 2) fail(errc::type_mismatch, "a variant is a list of [index, value]");
  std::uint64_t index = take_uint64();
  if (index >= alternatives)
    fail(errc::type_mismatch, "variant index " + std::to_string(index) + " out of range (" +
                                  std::to_string(alternatives) + " alternatives)");
  return static_cast<std::size_t>(index);
}

std::int64_t StateReader::take_int64() { return narrow<std::int64_t>(take()); }
std::uint64_t StateReader::take_uint64() { return narrow<std::uint64_t>(take()); }
double StateReader::take_double() { return narrow<double>(take()); }

const Value& StateReader::duration_count(const Value& v, long long& pnum, long long& pden) {
  pnum = pden = 0;  // 0: a bare number, which counts ticks of the field's own period
  if (v.kind() != ValueKind::map) {
    if (!v.is_number()) fail_kind("duration", v);
    return v;
  }
  const Value::Map& m = v.as_map();
  auto count_it = m.find("count");
  auto period_it = m.find("period");
  if (count_it == m.end() || period_it == m.end() || period_it->second.kind() != ValueKind::text ||
      !count_it->second.is_number())
    fail(errc::type_mismatch, "a duration is {\"count\": n, \"period\": \"num/den\"}");
  const std::string& period = period_it->second.as_text();
  std::size_t slash = period.find('/');
  try {
    if (slash == std::string::npos) throw std::invalid_argument("no slash");
    pnum = std::stoll(period.substr(0, slash));
    pden = std::stoll(period.substr(slash + 1));
  } catch (const std::exception&) {
    fail(errc::type_mismatch, "invalid duration period '" + period + "'");
  }
  if (pnum <= 0 || pden <= 0) fail(errc::type_mismatch, "invalid duration period '" + period + "'");
  return count_it->second;
}

double StateReader::duration_real_ticks(const Value& v, std::intmax_t num, std::intmax_t den) {
  long long pnum, pden;
  double count = duration_count(v, pnum, pden).as_double();
  if (pnum == 0) return count;
  // A floating-point duration takes fractions as they come: scale in long double, whose
  // 64-bit mantissa keeps the exact ratios of the standard periods exact.
  return static_cast<double>(static_cast<long double>(count) * pnum * den /
                             (static_cast<long double>(pden) * num));
}

std::int64_t StateReader::duration_ticks(const Value& v, std::intmax_t num, std::intmax_t den) {
  long long pnum, pden;
  const Value& count_value = duration_count(v, pnum, pden);
  if (pnum == 0) return count_value.as_int64();
  const std::string period = std::to_string(pnum) + "/" + std::to_string(pden);
  std::int64_t count = count_value.as_int64();
  // ticks in our period = count * (pnum * den) / (pden * num), exactly. Each product of two
  // positive 64-bit numbers fits in 128 bits, but multiplying by count as well could not:
  // reduce the factor first, and then (a / b in lowest terms) b must divide count.
  Int128 a = static_cast<Int128>(pnum) * den;
  Int128 b = static_cast<Int128>(pden) * num;
  Int128 x = a, y = b;
  while (y != 0) {
    Int128 r = x % y;
    x = y;
    y = r;
  }
  a /= x;
  b /= x;
  if (count % b != 0)
    fail(errc::type_mismatch, "duration of " + std::to_string(count) + " x " + period +
                                  " s is not a whole number of the field's ticks");
  Int128 whole = count / b;
  if (whole != 0 && a > std::numeric_limits<std::int64_t>::max())
    fail(errc::type_mismatch, "duration out of range");
  Int128 ticks = whole * a;  // |whole| <= 2^63 and a < 2^63: no overflow
  if (ticks > std::numeric_limits<std::int64_t>::max() ||
      ticks < std::numeric_limits<std::int64_t>::min())
    fail(errc::type_mismatch, "duration out of range");
  return static_cast<std::int64_t>(ticks);
}

std::string StateReader::read_path() {
  const Value& v = take();
  if (v.kind() == ValueKind::path) return v.as_path().generic;
  if (v.kind() == ValueKind::text) return v.as_text();
  fail_kind("path", v);
}

void StateReader::read_tensor(Tensor& out) {
  const Value& v = take();
  if (v.kind() != ValueKind::tensor) fail_kind("tensor", v);
  out = v.as_tensor();
}

const FunctionInfo& StateReader::read_function_info(const std::type_info& signature) {
  const Value& v = take();
  if (v.kind() != ValueKind::function) fail_kind("function", v);
  detail::FunctionLookup found =
      detail::lookup_function(registry_, v.as_function().name, signature);
  if (found.info == nullptr) fail(found.code, found.message);
  return *found.info;
}

void (*StateReader::read_function(const std::type_info& signature))() {
  const FunctionInfo& info = read_function_info(signature);
  if (info.pointer == nullptr) fail(errc::type_mismatch, detail::not_a_plain_function(info));
  return info.pointer;
}

void StateReader::check_object_type(const Object& object, const detail::TypeOps& expected) const {
  if (object.type != expected.name) {
    const TypeInfo* info = registry_.find(object.type);
    if (info == nullptr || info->cpp_type() != *expected.cpp_type)
      fail(errc::type_mismatch, "expected an object of type '" + std::string(expected.name) +
                                    "', found '" + object.type + "'");
  }
  bool tolerated = options_.accept_newer_class_versions && expected.unknown_fields != nullptr;
  if (object.version > expected.version && !tolerated)
    fail(errc::newer_class_version,
         "archive written by class version " + std::to_string(object.version) + " of '" +
             std::string(expected.name) + "', this build knows up to " +
             std::to_string(expected.version) + ": load it with a newer build of the program");
}

void StateReader::read_root_object(const detail::TypeOps& ops, void* out) {
  const Value& v = take();
  if (v.kind() != ValueKind::object) fail_kind("object", v);
  const Object& object = v.as_object();
  check_object_type(object, ops);
  enter(v);
  frames_.back().object = &object;
  frames_.back().taken = true;
  try {
    ops.read_state(*this, out);
    if (ops.unknown_fields != nullptr) collect_unknown(object, ops, *ops.unknown_fields(out));
  } catch (...) {
    rethrow_after_failure(std::current_exception());
  }
  leave();
}

void StateReader::collect_unknown(const Object& object, const detail::TypeOps& ops,
                                  UnknownFields& unknown) const {
  unknown.clear();
  // The fields this build knows are the ones its getstate writes: the layout's names.
  Layout computed;
  const Layout* layout = nullptr;
  if (const TypeInfo* info = registry_.find(*ops.cpp_type)) {
    layout = &info->layout();
  } else if (ops.describe != nullptr) {
    LayoutBuilder builder(ops.version);
    ops.describe(builder);
    computed = builder.finish();
    layout = &computed;
  }
  for (const Field& f : object.fields) {
    bool known = false;
    if (layout != nullptr)
      for (const std::string& name : layout->field_names)
        if (name == f.name) known = true;
    if (!known) unknown.fields.push_back(f);
  }
  if (object.version > ops.version) unknown.version = object.version;
}

detail::PointerTarget StateReader::read_pointer(const detail::TypeOps& static_ops, bool shared) {
  const Value& v = take();
  if (v.is_null()) return {};
  if (v.kind() == ValueKind::reference) {
    // A unique_ptr owns its object alone: handing it a shared object would delete that
    // object twice (once by the unique_ptr, once by the shared owners).
    if (!shared) fail(errc::corrupt_data, "back reference in an owning (unique) pointer");
    std::uint64_t id = v.as_reference().id;
    const detail::SharedObject* found = table_->find(id);
    if (found == nullptr)
      fail(errc::corrupt_data,
           "reference to shared object " + std::to_string(id) + ", which was not defined before");
    return detail::target_of(registry_, *found, static_ops,
                             [this](errc c, const std::string& m) { fail(c, m); });
  }
  if (v.kind() != ValueKind::object) fail_kind("object or null", v);
  const Object& object = v.as_object();
  detail::Created created = detail::create_object(
      registry_, object.type, object.version, static_ops, shared,
      options_.accept_newer_class_versions, [this](errc c, const std::string& m) { fail(c, m); });
  // An object archived as shared that now loads into a unique_ptr (the field changed from
  // shared_ptr to unique_ptr) is not entered in the table: a later reference to it finds
  // nothing and is refused, where entering it would let a shared_ptr own it too.
  if (shared && object.shared_id) {
    if (table_->size() >= options_.max_shared_objects)
      fail(errc::limit_exceeded, "more shared objects than LoadOptions::max_shared_objects (" +
                                     std::to_string(options_.max_shared_objects) + ")");
    if (table_->find(*object.shared_id) != nullptr)
      fail(errc::corrupt_data,
           "shared object id " + std::to_string(*object.shared_id) + " defined twice");
    table_->put(*object.shared_id, detail::SharedObject{created.owner, created.ops, created.info});
  }
  if (++depth_ > options_.max_depth)
    fail(errc::limit_exceeded, "nesting depth exceeds LoadOptions::max_depth (" +
                                   std::to_string(options_.max_depth) + ")");
  enter(v);
  frames_.back().object = &object;
  frames_.back().taken = true;
  created.ops->read_state(*this, created.raw);
  if (created.ops->unknown_fields != nullptr)
    collect_unknown(object, *created.ops, *created.ops->unknown_fields(created.raw));
  leave();
  --depth_;
  return created.release();
}

}  // namespace brine
