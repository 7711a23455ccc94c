// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// stable/decoder.cpp: StableDecoder, a stable archive's values straight into objects. See
// docs/format/stable-v1.md; the document was validated by StableReader's constructor.

#include <string>

#include "brine/stable.hpp"
#include "stable/cbor.hpp"
#include "stable/reader_impl.hpp"
#include "state/pointers.hpp"

namespace brine {

StableDecoder::StableDecoder(StableReader& reader)
    : impl_(*reader.impl_),
      registry_(reader.registry_),
      options_(reader.options_),
      data_(reinterpret_cast<const std::uint8_t*>(impl_.bytes.data())),
      size_(impl_.bytes.size()),
      pos_(impl_.next < impl_.values.size() ? impl_.values[impl_.next] : size_),
      strings_before_(impl_.strings.size()),
      shared_before_(impl_.shared_seen),
      string_bytes_before_(impl_.string_bytes),
      string_bytes_limit_(options_.max_string_bytes(size_)) {}

StableDecoder::~StableDecoder() = default;

void StableDecoder::abandon() noexcept {
  table_.abandon();
  impl_.strings.resize(strings_before_);
  impl_.shared_seen = shared_before_;
  impl_.string_bytes = string_bytes_before_;
}

bool StableDecoder::finish() {
  // The value must end where the validated document says it does; anything else is a
  // misreading, which the state model then gets to report.
  std::size_t end =
      impl_.next + 1 < impl_.values.size() ? impl_.values[impl_.next + 1] : impl_.values_end;
  if (impl_.next >= impl_.values.size() || pos_ != end) {
    abandon();
    return false;
  }
  ++impl_.next;
  ++impl_.read_directly;
  table_.clear();
  return true;
}

void StableDecoder::note_string(std::string_view s) {
  // The stringref table grows as the document is read, exactly as in the state-model walk:
  // every string long enough enters it, wherever it is.
  if (s.size() >= cbor::stringref_min_length(impl_.strings.size())) impl_.strings.push_back(s);
}

void StableDecoder::produce_string(std::size_t n) {
  // Counted as the state-model walk counts (LoadOptions::max_string_expansion), so that the
  // two paths agree on what a document may expand to; past the bound, that walk reports it.
  impl_.string_bytes += n;
  if (impl_.string_bytes > string_bytes_limit_) stop();
}

StableDecoder::Mark StableDecoder::mark() const noexcept {
  return Mark{pos_, impl_.strings.size(), impl_.string_bytes};
}

void StableDecoder::rewind(const Mark& m) noexcept {
  pos_ = m.pos;
  impl_.strings.resize(m.strings);
  impl_.string_bytes = m.string_bytes;
}

std::string_view StableDecoder::text_view() {
  std::uint8_t b = byte();
  if ((b >> 5) == 3) {
    std::uint64_t n = argument(b);
    if (n > size_ - pos_) stop();
    std::string_view s(reinterpret_cast<const char*>(data_ + pos_), static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    note_string(s);
    produce_string(s.size());
    return s;
  }
  if ((b >> 5) != 6 || argument(b) != cbor::kTagStringRef) stop();
  std::uint64_t index = unsigned_head();
  if (index >= impl_.strings.size()) stop();
  std::string_view s = impl_.strings[static_cast<std::size_t>(index)];
  produce_string(s.size());
  return s;
}

std::string_view StableDecoder::typed_array(std::uint64_t tag, std::size_t element_size) {
  if (tag != 64 && head(6) != tag) stop();  // a uint8 array is a plain byte string
  std::uint64_t n = head(2);
  if (n > size_ - pos_ || n % element_size != 0) stop();
  std::string_view body(reinterpret_cast<const char*>(data_ + pos_), static_cast<std::size_t>(n));
  pos_ += static_cast<std::size_t>(n);
  note_string(body);
  if (tag == 64) produce_string(body.size());  // bytes, counted as text is; numbers are not
  return body;
}

bool StableDecoder::next_field_is(const char* name) {
  if (fields_left_ == 0) return false;
  Mark before = mark();
  if (text_view() != name) {
    rewind(before);
    return false;
  }
  --fields_left_;
  return true;
}

bool StableDecoder::has(const char* name) {
  Mark before = mark();
  if (!next_field_is(name)) stop();
  // The field is read again by operator(): its name must enter the table, and count, then,
  // not twice.
  rewind(before);
  ++fields_left_;
  return true;
}

void StableDecoder::begin_object(const detail::TypeOps& ops) {
  if (head(6) != cbor::kTagObject || count(4) != 3 || text_view() != ops.name ||
      unsigned_head() != ops.version)
    stop();
  enter_object(ops.version);
}

void StableDecoder::enter_object(std::uint32_t version) {
  std::size_t fields = count(5);
  if (++depth_ > options_.max_depth) stop();
  saved_.push_back({fields_left_, version_});
  fields_left_ = fields;
  version_ = version;
}

void StableDecoder::end_object() {
  if (fields_left_ != 0) stop();  // fields setstate did not read
  fields_left_ = saved_.back().fields_left;
  version_ = saved_.back().version;
  saved_.pop_back();
  --depth_;
}

detail::PointerTarget StableDecoder::read_pointer(const detail::TypeOps& static_ops, bool shared) {
  std::uint8_t b = peek();
  if (b == 0xF6) {
    ++pos_;
    return {};
  }
  auto fail = [](errc, const std::string&) { stop(); };
  if (b == 0xD8 && pos_ + 1 < size_ && data_[pos_ + 1] == cbor::kTagSharedRef) {
    if (!shared) stop();
    pos_ += 2;
    const detail::SharedObject* found = table_.find(unsigned_head());
    if (found == nullptr) stop();
    return detail::target_of(registry_, *found, static_ops, fail);
  }
  bool shareable = b == 0xD8 && pos_ + 1 < size_ && data_[pos_ + 1] == cbor::kTagShareable;
  if (shareable) {
    if (!shared) stop();
    pos_ += 2;
  }
  if (head(6) != cbor::kTagObject || count(4) != 3) stop();
  std::string_view type = text_view();
  std::uint64_t version = unsigned_head();
  if (version > 0xFFFFFFFFu) stop();
  detail::Created created = detail::create_object(
      registry_, type, static_cast<std::uint32_t>(version), static_ops, shared, false, fail);
  if (created.ops->name != type || created.ops->version != version) stop();
  if (shareable) {
    if (table_.size() >= options_.max_shared_objects) stop();
    table_.put(impl_.shared_seen++, detail::SharedObject{created.owner, created.ops, created.info});
  }
  enter_object(created.ops->version);
  created.ops->read_stable(*this, created.raw);
  end_object();
  return created.release();
}

std::string StableDecoder::read_path() {
  if (head(6) != cbor::kTagObject || count(4) != 2 || text_view() != cbor::kPathType) stop();
  return std::string(text_view());
}

const FunctionInfo& StableDecoder::read_function_info(const std::type_info& signature) {
  if (head(6) != cbor::kTagObject || count(4) != 2 || text_view() != cbor::kFunctionType) stop();
  const FunctionInfo* info = registry_.find_function(text_view());
  if (info == nullptr || *info->signature != signature) stop();
  return *info;
}

void (*StableDecoder::read_function(const std::type_info& signature))() {
  const FunctionInfo& info = read_function_info(signature);
  if (info.pointer == nullptr) stop();
  return info.pointer;
}

std::string StableDecoder::period_text(std::intmax_t num, std::intmax_t den) {
  return std::to_string(num) + "/" + std::to_string(den);
}

}  // namespace brine
