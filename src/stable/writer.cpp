// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// stable/writer.cpp: StableWriter, CBOR out. See docs/format/stable-v1.md.

#include <cstring>
#include <string>
#include <unordered_map>

#include "brine/stable.hpp"
#include "registry/functions.hpp"
#include "stable/cbor.hpp"
#include "state/nesting.hpp"
#include "state/pointers.hpp"
#include "util/xxhash.hpp"

namespace brine {
namespace detail {

/// The encoder's half of the stringref namespace: the index of each name written so far (how
/// many strings the decoder's table will hold is StableWriter::string_count_, which the
/// inline put_string counts).
class StableStrings {
 public:
  std::unordered_map<const char*, std::uint64_t> by_pointer;  // names are string literals
  std::unordered_map<std::string, std::uint64_t> by_content;
  static constexpr std::uint64_t kLiteral = ~std::uint64_t{0};  // too short to reference

  // What the current top-level value added, so that a second walk of it starts from the
  // table the first one found.
  std::uint64_t size_before_value = 0;
  std::vector<const char*> pointers_added;
  std::vector<std::string> contents_added;
  void begin_value(std::uint64_t size) {
    size_before_value = size;
    pointers_added.clear();
    contents_added.clear();
  }
  void add_pointer(const char* name, std::uint64_t index) {
    by_pointer.emplace(name, index);
    pointers_added.push_back(name);
  }
  void add_content(std::string_view name, std::uint64_t index) {
    contents_added.emplace_back(name);
    by_content.emplace(contents_added.back(), index);
  }
  /// Returns the table's size before the value.
  std::uint64_t undo_value() {
    for (const char* p : pointers_added) by_pointer.erase(p);
    for (const std::string& c : contents_added) by_content.erase(c);
    return size_before_value;
  }

  struct Dynamic {
    const std::type_info* type;
    const TypeOps* ops;
    std::size_t fields;
  };
  std::vector<Dynamic> dynamic;
};

}  // namespace detail

struct StableWriter::Hash {
  XXH3_state_t* state = XXH3_createState();
  Hash() { XXH3_64bits_reset(state); }
  ~Hash() { XXH3_freeState(state); }
};

namespace {

// Bytes out_ gathers before they go to the sink, and the size from which a string or
// numeric vector goes to the sink straight from the object rather than through out_.
constexpr std::size_t kChunk = std::size_t{1} << 20;
constexpr std::size_t kUnlimited = ~std::size_t{0};

}  // namespace

StableWriter::StableWriter(ByteSink& sink, Registry& registry, const StableWriteOptions& options)
    : sink_(sink),
      registry_(registry),
      options_(options),
      out_(sink.direct_buffer() != nullptr ? sink.direct_buffer() : &own_),
      direct_(sink.direct_buffer() != nullptr),
      limit_(direct_ ? kUnlimited : kChunk),
      strings_(std::make_unique<detail::StableStrings>()),
      hash_(std::make_unique<Hash>()) {
  // The chunk at once, rather than grown to it by doubling, which copies what it holds at
  // every step (2% of a records save).
  if (!direct_) own_.reserve(kChunk);
  start();
}

StableWriter::~StableWriter() = default;

namespace {

/// Tag 29 and its index.
std::size_t encode_reference(std::uint8_t* buf, std::uint64_t id) {
  std::size_t n = cbor::encode_head(buf, 6, cbor::kTagSharedRef);
  return n + cbor::encode_head(buf + n, 0, id);
}

}  // namespace

void StableWriter::put_head_slow(unsigned major, std::uint64_t argument) {
  std::uint8_t buf[9];
  emit(buf, cbor::encode_head(buf, major, argument));
}

void StableWriter::put_name_slow(std::string_view name) {
  // The content map joins equal names from different literals.
  detail::StableStrings& s = *strings_;
  auto by_pointer = s.by_pointer.find(name.data());
  if (by_pointer == s.by_pointer.end()) {
    auto by_content = s.by_content.find(std::string(name));
    std::uint64_t index = detail::StableStrings::kLiteral;
    if (by_content != s.by_content.end()) {
      index = by_content->second;
    } else {
      std::uint64_t before = string_count_;
      put_string(3, name.data(), name.size());
      if (string_count_ != before) s.add_content(name, before);
      // A name too short to enter the table is written literally every time.
      s.add_pointer(name.data(),
                    string_count_ != before ? before : detail::StableStrings::kLiteral);
      return;
    }
    s.add_pointer(name.data(), index);
    by_pointer = s.by_pointer.find(name.data());
  }
  NameSlot slot;
  slot.name = name.data();
  if (by_pointer->second == detail::StableStrings::kLiteral) {
    if (name.size() < 8) {
      slot.size = 1 + name.size();
      slot.bytes[0] = static_cast<std::uint8_t>(0x60 + name.size());  // text of < 24 bytes
      std::memcpy(slot.bytes + 1, name.data(), name.size());
      names_[name_slot(name.data())] = slot;
    }
    put_string(3, name.data(), name.size());
    return;
  }
  if (by_pointer->second <= 0xFFFF) {  // D8 19 and a head of 3 bytes at most
    slot.bytes[0] = 0xD8;
    slot.bytes[1] = cbor::kTagStringRef;
    slot.size = 2 + cbor::encode_head(slot.bytes + 2, 0, by_pointer->second);
    names_[name_slot(name.data())] = slot;
  }
  put_string_ref(by_pointer->second);
}

void StableWriter::put_name_by_content(std::string_view name) {
  detail::StableStrings& s = *strings_;
  auto it = s.by_content.find(std::string(name));
  if (it == s.by_content.end()) {
    std::uint64_t before = string_count_;
    put_string(3, name.data(), name.size());
    if (string_count_ != before) s.add_content(name, before);
    return;
  }
  put_string_ref(it->second);
}

void StableWriter::start() {
  put_head(6, cbor::kTagSelfDescribe);
  put_head(6, cbor::kTagStringRefNamespace);
  put_head(5, 4);
  put_name("format");
  write_text(cbor::kFormatName);
  put_name("format_version");
  put_head(0, stable_format_version);
  put_name("values");
  hashed_from_ = out_->size();
  put_byte(0x9F);  // indefinite array: values are appended as they are written
}

void StableWriter::emit_slow(const void* bytes, std::size_t n) {
  switch (mode_) {
    case Mode::streaming:
    case Mode::replaying:
      flush_buffer();
      // A large string or vector goes to the sink from where it is, not copied into out_:
      // out_ would otherwise grow to its size.
      if (n >= kChunk) return write_through(bytes, n);
      out_->append(bytes, n);
      return;
    case Mode::holding:
      start_learning();
      return;
    case Mode::learning:
      return;
  }
}

void StableWriter::flush_buffer() {
  const std::uint8_t* p = out_->data();
  std::size_t n = out_->size();
  // A second walk rewrites the value from its start; what the first wrote is dropped here.
  std::size_t skipped = skip_ < n ? static_cast<std::size_t>(skip_) : n;
  skip_ -= skipped;
  if (n > hashed_from_ + skipped) {
    std::size_t from = hashed_from_ > skipped ? hashed_from_ : skipped;
    XXH3_64bits_update(hash_->state, p + from, n - from);
  }
  if (n > skipped) sink_.write(p + skipped, n - skipped);
  position_ += n;
  out_->clear();
  hashed_from_ = 0;
}

void StableWriter::write_through(const void* bytes, std::size_t n) {
  const auto* p = static_cast<const std::uint8_t*>(bytes);
  std::size_t skipped = skip_ < n ? static_cast<std::size_t>(skip_) : n;
  skip_ -= skipped;
  if (n > skipped) {
    XXH3_64bits_update(hash_->state, p + skipped, n - skipped);
    sink_.write(p + skipped, n - skipped);
  }
  position_ += n;
}

void StableWriter::finish() {
  if (finished_) detail::throw_error(errc::internal_error, "StableWriter::finish() called twice");
  put_byte(0xFF);
  XXH3_64bits_update(hash_->state, out_->data() + hashed_from_, out_->size() - hashed_from_);
  hashed_from_ = out_->size();
  std::uint64_t checksum = XXH3_64bits_digest(hash_->state);
  put_name("checksum");
  put_head(0, checksum);
  if (!direct_) {
    // Not flush_buffer: the checksum's own bytes are not hashed (they would not change the
    // digest taken above, but the state is left as the document describes it).
    sink_.write(out_->data(), out_->size());
    position_ += out_->size();
    out_->clear();
  }
  sink_.flush();
  finished_ = true;
}

void StableWriter::begin_value() {
  ids_.clear();
  value_first_id_ = next_id_;
  value_start_ = position();
  shareables_ = 0;
  referred_.clear();
  shareable_at_.clear();
  references_.clear();
  strings_->begin_value(string_count_);
}

bool StableWriter::end_value() {
  switch (mode_) {
    case Mode::streaming:
      break;
    case Mode::holding:
      drop_unreferenced_shareables();
      mode_ = Mode::streaming;
      if (!direct_ && out_->size() >= kChunk) flush_buffer();
      limit_ = direct_ ? kUnlimited : kChunk;
      break;
    case Mode::learning:
      // Second walk: from the value's start, with the string table and the ids as they were
      // then; the bytes up to the first shareable, already written, are not written again.
      number_referred_shareables();
      ids_.clear();
      string_count_ = strings_->undo_value();
      for (NameSlot& slot : names_) slot = NameSlot{};
      next_id_ = value_first_id_;
      skip_ = first_shareable_ - value_start_;
      position_ = value_start_;
      mode_ = Mode::replaying;
      limit_ = kChunk;
      return true;
    case Mode::replaying:
      if (next_id_ - value_first_id_ != shareables_)
        detail::throw_error(errc::internal_error,
                            "the stable writer walked a value twice and met " +
                                std::to_string(next_id_ - value_first_id_) +
                                " objects through shared pointers the second time, " +
                                std::to_string(shareables_) +
                                " the first: getstate hooks must write the same every time");
      next_id_ = value_first_id_ + number_referred_shareables();
      if (skip_ > 0) {
        // What the second walk wrote again is still at the front of out_, not yet flushed.
        auto n = static_cast<std::size_t>(skip_);
        std::memmove(out_->data(), out_->data() + n, out_->size() - n);
        out_->resize(out_->size() - n);
        position_ += n;
        skip_ = 0;
      }
      mode_ = Mode::streaming;
      break;
  }
  ++objects_written_;
  return false;
}

void StableWriter::start_learning() {
  // What comes before the value's first tag 28 is final: it is written now, and the second
  // walk skips it. The rest is dropped, and nothing more is kept until the value ends.
  out_->resize(shareable_at_.front());
  flush_buffer();
  // Their memory too: the value is large, and the first walk's table of addresses may
  // still grow.
  own_ = Buffer();
  std::vector<std::size_t>().swap(shareable_at_);
  std::vector<ReferenceAt>().swap(references_);
  mode_ = Mode::learning;
  limit_ = 0;
}

namespace {

int bits_set(std::uint64_t x) noexcept {
  x = x - ((x >> 1) & 0x5555555555555555ull);
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
  return static_cast<int>((x * 0x0101010101010101ull) >> 56);
}

}  // namespace

// A bit and, per 64 shareables, a count, rather than an index per shareable: a value of
// millions of shared objects would otherwise hold 8 bytes more for each.
std::uint64_t StableWriter::number_referred_shareables() {
  kept_before_.resize(referred_.size());
  std::uint64_t kept = 0;
  for (std::size_t w = 0; w < referred_.size(); ++w) {
    kept_before_[w] = kept;
    kept += static_cast<std::uint64_t>(bits_set(referred_[w]));
  }
  return kept;
}

std::uint64_t StableWriter::final_index(std::uint64_t i) const noexcept {
  std::uint64_t below = referred_[i / 64] & ((std::uint64_t{1} << (i % 64)) - 1);
  return value_first_id_ + kept_before_[i / 64] + static_cast<std::uint64_t>(bits_set(below));
}

void StableWriter::put_shareable() {
  if (mode_ == Mode::replaying) {
    std::uint64_t i = next_id_++ - value_first_id_;
    if (i >= shareables_ || (i == 0 && position() != first_shareable_))
      detail::throw_error(errc::internal_error,
                          "the stable writer walked a value twice and it came out different the "
                          "second time: getstate hooks must write the same every time");
    if (referred(i)) put_head(6, cbor::kTagShareable);
    return;
  }
  ++next_id_;
  if (shareables_++ % 64 == 0) referred_.push_back(0);
  if (mode_ == Mode::streaming) {
    mode_ = Mode::holding;
    first_shareable_ = position();
    if (!direct_) {
      std::size_t room = kUnlimited - out_->size();
      limit_ = out_->size() + (options_.max_held_bytes < room ? options_.max_held_bytes : room);
    }
  }
  if (mode_ == Mode::holding) {
    shareable_at_.push_back(out_->size());
    charge_held(sizeof(std::size_t));
  }
  put_head(6, cbor::kTagShareable);
}

void StableWriter::put_reference(std::uint64_t id) {
  std::uint8_t buf[11];
  if (mode_ == Mode::replaying) {
    std::uint64_t i = id - value_first_id_;
    if (i >= shareables_ || !referred(i))
      detail::throw_error(errc::internal_error,
                          "the stable writer walked a value twice and it came out different the "
                          "second time: getstate hooks must write the same every time");
    return emit(buf, encode_reference(buf, final_index(i)));
  }
  std::uint64_t i = id - value_first_id_;
  referred_[i / 64] |= std::uint64_t{1} << (i % 64);
  if (mode_ == Mode::holding) {
    references_.push_back({out_->size(), id});
    charge_held(sizeof(ReferenceAt));
  }
  emit(buf, encode_reference(buf, id));
}

// What holding keeps beside the bytes (an offset per tag and per reference) counts against
// max_held_bytes too: a value of small shared objects holds about as much of it as bytes.
void StableWriter::charge_held(std::size_t n) {
  if (limit_ - out_->size() < n)
    start_learning();
  else
    limit_ -= n;
}

// An object reached through a shared_ptr only once needs no tag 28: the tag costs two bytes
// per object (6% of a pointer-heavy graph) and every reader that meets it must keep the
// object in its table. The tags are written as objects are met, because whether a later
// reference comes is not known then; here, with the value from its first tag on in out_
// (holding), the tags nobody refers to are cut out and the references renumbered, since
// value sharing numbers only the tag-28 items. New indices are never larger than the old
// ones, so each reference's head is no longer than before and the bytes can be moved down
// in one pass.
void StableWriter::drop_unreferenced_shareables() {
  const std::size_t shareables = shareable_at_.size();
  const std::uint64_t kept = number_referred_shareables();
  next_id_ = value_first_id_ + kept;
  if (kept == shareables) return;

  std::uint8_t* bytes = out_->data();
  std::size_t read = shareable_at_[0];  // nothing before the first tag moves
  std::size_t write = read;
  auto move_to = [&](std::size_t offset) {
    std::memmove(bytes + write, bytes + read, offset - read);
    write += offset - read;
    read = offset;
  };
  constexpr std::size_t kShareableTagSize = 2;  // D8 1C
  std::size_t s = 0, r = 0;
  while (s < shareables || r < references_.size()) {
    bool shareable_next =
        r == references_.size() || (s < shareables && shareable_at_[s] < references_[r].offset);
    if (shareable_next) {
      move_to(shareable_at_[s]);
      if (!referred(s)) read += kShareableTagSize;
      ++s;
      continue;
    }
    move_to(references_[r].offset);
    std::uint8_t old_reference[11];
    read += encode_reference(old_reference, references_[r].id);
    // The old reference, [read - old size, read), is already consumed and the new one is no
    // longer, so it fits in the gap without touching unread bytes.
    write += encode_reference(bytes + write, final_index(references_[r].id - value_first_id_));
    ++r;
  }
  move_to(out_->size());
  out_->resize(write);
}

void StableWriter::begin_object(const detail::TypeOps& ops, std::size_t field_count,
                                const UnknownFields* unknown) {
  // An object read from a newer version keeps that version when written back, so the newer
  // program reads its own fields, unknown here, as it wrote them.
  std::uint32_t version = ops.version;
  std::size_t kept = 0;
  if (unknown != nullptr) {
    if (unknown->version > version) version = unknown->version;
    kept = unknown->fields.size();
  }
  put_head(6, cbor::kTagObject);
  put_head(4, 3);
  put_name(ops.name);
  put_head(0, version);
  put_head(5, field_count + kept);
  open_.push_back(Open{&ops, field_count, fields_written_, version_, unknown});
  fields_written_ = 0;
  version_ = ops.version;
}

void StableWriter::end_object() {
  const Open& o = open_.back();
  if (o.unknown != nullptr) {
    std::size_t known = fields_written_;
    for (const Field& f : o.unknown->fields) {
      put_name_by_content(f.name);
      write_dynamic(f.value);
    }
    fields_written_ = known;
  }
  if (fields_written_ != o.expected_fields)
    detail::throw_error(errc::internal_error,
                        "getstate of '" + std::string(o.ops->name) + "' wrote " +
                            std::to_string(fields_written_) + " fields, its layout has " +
                            std::to_string(o.expected_fields) +
                            ": a getstate hook must write the same fields every time");
  fields_written_ = o.saved_fields;
  version_ = o.saved_version;
  open_.pop_back();
}

void StableWriter::write_new_object(const void* most_derived, const std::type_info& dynamic_type,
                                    const detail::TypeOps& static_ops) {
  const detail::StableStrings::Dynamic* cached = nullptr;
  for (const auto& d : strings_->dynamic)
    if (d.type == &dynamic_type) cached = &d;
  const detail::TypeOps* ops;
  std::size_t fields;
  if (cached != nullptr) {
    ops = cached->ops;
    fields = cached->fields;
  } else {
    ops = &detail::dynamic_type_ops(registry_, dynamic_type, static_ops);
    fields = registry_.add(*ops).layout().field_count;
    if (strings_->dynamic.size() < 32) strings_->dynamic.push_back({&dynamic_type, ops, fields});
  }
  const UnknownFields* unknown = ops->unknown_fields != nullptr
                                     ? ops->unknown_fields(const_cast<void*>(most_derived))
                                     : nullptr;
  begin_object(*ops, fields, unknown != nullptr && !unknown->empty() ? unknown : nullptr);
  ops->write_stable(*this, most_derived);
  end_object();
}

void StableWriter::write_path(const std::string& generic) {
  put_head(6, cbor::kTagObject);
  put_head(4, 2);
  put_name(cbor::kPathType);
  write_text(generic);
}

// The document's array of values is the first level.
void StableWriter::check_nesting(const Value& value) const {
  detail::check_writer_nesting(value, 1, detail::kStableNesting, "a stable archive",
                               "StableWriteOptions::max_depth", options_.max_depth);
}

// See docs/format/stable-v1.md §4.1 "Tensors".
void StableWriter::write_tensor(const Tensor& t) {
  std::uint64_t tag = cbor::tensor_typed_array_tag(t.dtype());
  if (tag != 0) {
    // RFC 8746 §3.1: tag 40 around [shape, typed array], row-major.
    put_head(6, cbor::kTagMultiDimArray);
    put_head(4, 2);
    put_head(4, t.rank());
    for (std::int64_t d : t.shape()) put_head(0, static_cast<std::uint64_t>(d));
    put_head(6, tag);  // uint8 too (tag 64): a tensor is never read as plain bytes
    put_string(2, t.bytes(), t.nbytes());
    return;
  }
  // No RFC 8746 tag for the dtype (bool, bfloat16, complex, float8): brine's own form.
  put_head(6, cbor::kTagObject);
  put_head(4, 4);
  put_name(cbor::kTensorType);
  write_text(dtype_name(t.dtype()));
  put_head(4, t.rank());
  for (std::int64_t d : t.shape()) put_head(0, static_cast<std::uint64_t>(d));
  put_string(2, t.bytes(), t.nbytes());
}

void StableWriter::write_dynamic(const Value& v) {
  switch (v.kind()) {
    case ValueKind::tensor:
      return write_tensor(v.as_tensor());
    case ValueKind::null:
      return put_byte(0xF6);
    case ValueKind::boolean:
      return write_bool(v.as_bool());
    case ValueKind::signed_integer:
      return write_number(std::get<std::int64_t>(v.variant()));
    case ValueKind::unsigned_integer:
      return write_number(std::get<std::uint64_t>(v.variant()));
    case ValueKind::floating:
      return put_float(v.as_double());
    case ValueKind::text:
      return write_text(v.as_text());
    case ValueKind::bytes:
      return write_bytes(v.as_bytes().data.data(), v.as_bytes().data.size());
    case ValueKind::path:
      return write_path(v.as_path().generic);
    case ValueKind::function:
      return write_function_name(v.as_function().name);
    case ValueKind::list:
      put_head(4, v.as_list().size());
      for (const Value& e : v.as_list()) write_dynamic(e);
      return;
    case ValueKind::map:
      put_head(5, v.as_map().size());
      for (const auto& [k, e] : v.as_map()) {
        write_text(k);
        write_dynamic(e);
      }
      return;
    case ValueKind::object: {
      const Object& o = v.as_object();
      if (o.shared_id) {
        // State ids are renumbered in document order, as CBOR's shared references count.
        // Numbered in the order met, from value_first_id_, as the table numbers its entries.
        bool inserted;
        ids_.find_or_insert(
            reinterpret_cast<const void*>(static_cast<std::uintptr_t>(*o.shared_id + 1)), inserted);
        if (!inserted)
          detail::throw_error(errc::corrupt_data,
                              "shared object " + std::to_string(*o.shared_id) + " defined twice");
        put_shareable();
      }
      put_head(6, 27);
      put_head(4, 3);
      put_name_by_content(o.type);
      put_head(0, o.version);
      put_head(5, o.fields.size());
      for (const Field& f : o.fields) {
        put_name_by_content(f.name);
        write_dynamic(f.value);
      }
      return;
    }
    case ValueKind::reference: {
      const std::uint64_t index = ids_.find(
          reinterpret_cast<const void*>(static_cast<std::uintptr_t>(v.as_reference().id + 1)));
      if (index == detail::PointerIdMap::npos)
        detail::throw_error(errc::corrupt_data, "reference to shared object " +
                                                    std::to_string(v.as_reference().id) +
                                                    " before its definition");
      return put_reference(value_first_id_ + index);
    }
  }
}

void StableWriter::write_function_name(const std::string& name) {
  put_head(6, cbor::kTagObject);
  put_head(4, 2);
  put_name(cbor::kFunctionType);
  write_text(name);
}

void StableWriter::write_function(void (*pointer)(), const std::type_info& signature) {
  write_function_name(detail::function_name_to_save(registry_, pointer, signature));
}

}  // namespace brine
