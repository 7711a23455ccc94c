// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// binary/reader.cpp: BinaryReader's blocks, checks, type table and pointers.
// See docs/format/binary-v1.md.

#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "binary/format.hpp"
#include "binary/reader_impl.hpp"
#include "registry/functions.hpp"
#include "state/pointers.hpp"
#include "util/varint.hpp"

namespace brine {

namespace bf = binary_format;

// Streams read a block's payload in pieces of this size (see load_block).
constexpr std::size_t kBlockReadChunk = 64 * 1024;

BinaryReader::BinaryReader(ByteSource& source, const Registry& registry, const LoadOptions& options)
    : source_(source), registry_(registry), options_(options), impl_(std::make_unique<Impl>()) {
  table_ = &impl_->table;
  impl_->state = detail::StateBudget(options_);
  impl_->input_size = source_.remaining();
  remaining_known_ = impl_->input_size.has_value();
  impl_->archive_start = source_.position();
  if (source_.has_direct_view()) impl_->file = source_.mapped_file();
  read_header();
}

void BinaryReader::charge_state(std::uint64_t values, std::uint64_t bytes) {
  // Counted against the input's size when the source knows it (memory, files), else against
  // what a stream has given so far: a tree can only have grown from the bytes before it.
  const std::uint64_t input = impl_->input_size.value_or(position());
  if (!impl_->state.take(values, bytes, input))
    fail(errc::limit_exceeded, impl_->state.message(input));
}

BinaryReader::~BinaryReader() = default;

std::uint64_t BinaryReader::position() const noexcept {
  return block_offset_ + static_cast<std::uint64_t>(cur_ - block_begin_);
}

ErrorContext BinaryReader::context() const {
  ErrorContext c;
  c.source = source_.description();
  c.byte_offset = cur_ != nullptr ? position() : source_.position();
  // No type and no field path: read_fast_object, operator() and the containers' codecs add
  // them while the failure unwinds.
  return c;
}

void BinaryReader::note_object(Error& e, const detail::StreamType& type) {
  detail::note_error_type(e, type.name, type.version);
}

void BinaryReader::fail(errc code, const std::string& message) const {
  detail::throw_error(code, message, context());
}

void BinaryReader::fail_in_table_text(errc code, const std::string& message, std::size_t size,
                                      const ErrorContext& inner) const {
  ErrorContext c = context();
  // `inner` is an offset in the type-table string just read, which ends at the cursor. When
  // the string lies in the current block, the archive offset of that byte follows.
  if (inner.byte_offset && *inner.byte_offset <= size &&
      static_cast<std::size_t>(cur_ - block_begin_) >= size)
    c.byte_offset = position() - size + *inner.byte_offset;
  detail::throw_error(code, message, std::move(c));
}

void BinaryReader::read_header() {
  unsigned char header[bf::kHeaderSize];
  std::size_t got = source_.read(header, sizeof header);
  if (got < sizeof header) {
    if (got >= 1 && header[0] != bf::kMagic[0])
      fail(errc::corrupt_data, "not a brine binary archive (bad magic bytes)");
    fail(errc::truncated_input, "input of " + std::to_string(got) +
                                    " bytes is too short for a brine archive header (12 bytes)");
  }
  if (std::memcmp(header, bf::kMagic, sizeof bf::kMagic) != 0)
    fail(errc::corrupt_data, "not a brine binary archive (bad magic bytes)");
  std::uint16_t kind = bf::load_u16(header + 8);
  if (kind != bf::kKindBinary)
    fail(errc::corrupt_data,
         "brine archive of kind " + std::to_string(kind) + " is not a binary archive (kind 1)");
  format_version_ = bf::load_u16(header + 10);
  if (format_version_ == 0) fail(errc::corrupt_data, "binary format version 0 does not exist");
  if (format_version_ > binary_format_version)
    fail(errc::newer_format_version, "archive written in binary format version " +
                                         std::to_string(format_version_) +
                                         ", this build of brine reads up to version " +
                                         std::to_string(binary_format_version) + ": upgrade brine");
}

bool BinaryReader::load_block() {
  if (end_reached_) return false;
  std::uint64_t header_offset;
  unsigned char header[bf::kBlockHeaderSize];
  // Payload blocks (§13) lie between data blocks: each is registered and passed over.
  for (;;) {
    header_offset = source_.position();
    std::size_t got = source_.read(header, sizeof header);
    cur_ = end_ = block_begin_ = nullptr;
    block_offset_ = header_offset;
    if (got < sizeof header) {
      ErrorContext c = context();
      c.byte_offset = header_offset;
      detail::throw_error(
          errc::truncated_input,
          got == 0 ? "archive ends without its end marker (truncated or still being written)"
                   : "archive ends inside a block header",
          c);
    }
    std::uint32_t word = bf::load_u32(header);
    if (static_cast<std::uint8_t>(word >> 24) != bf::kBlockPayload ||
        format_version_ < bf::kFirstPayloadVersion)
      break;
    read_payload_block(header_offset, word & 0xFFFFFF, bf::load_u64(header + 4));
  }
  std::uint32_t word = bf::load_u32(header);
  std::uint8_t kind = static_cast<std::uint8_t>(word >> 24);
  std::size_t length = word & 0xFFFFFF;
  std::uint64_t checksum = bf::load_u64(header + 4);
  auto block_fail = [&](errc code, const std::string& message) {
    ErrorContext c = context();
    c.byte_offset = header_offset;
    detail::throw_error(code, message, c);
  };
  if (kind != bf::kBlockData && kind != bf::kBlockEnd)
    block_fail(errc::corrupt_data, "unknown block kind " + std::to_string(kind));
  if (kind == bf::kBlockData && length == 0) block_fail(errc::corrupt_data, "empty data block");
  if (kind == bf::kBlockEnd && length != bf::kEndPayloadSize)
    block_fail(errc::corrupt_data,
               "end block of " + std::to_string(length) + " bytes (expected 16)");
  const std::uint8_t* payload;
  if (source_.has_direct_view()) {
    std::string_view view = source_.direct_view();
    if (view.size() < length)
      block_fail(errc::truncated_input, "block of " + std::to_string(length) + " bytes, only " +
                                            std::to_string(view.size()) + " remain");
    payload = reinterpret_cast<const std::uint8_t*>(view.data());
    source_.skip(length);
  } else {
    // The buffer grows as the payload arrives: the length is a claim, and allocating it
    // first would let a 24-byte stream make every reader allocate 16 MiB.
    std::size_t n = 0;
    while (n < length) {
      std::size_t want = length - n < kBlockReadChunk ? length - n : kBlockReadChunk;
      if (block_buffer_.size() < n + want) block_buffer_.resize(n + want);
      std::size_t got_now = source_.read(block_buffer_.data() + n, want);
      n += got_now;
      if (got_now < want) break;
    }
    if (n < length)
      block_fail(errc::truncated_input, "block of " + std::to_string(length) + " bytes, only " +
                                            std::to_string(n) + " arrived");
    payload = block_buffer_.data();
  }
  if (options_.verify_checksums && bf::block_checksum(payload, length, block_index_) != checksum)
    block_fail(
        errc::checksum_mismatch,
        "checksum mismatch in block " + std::to_string(block_index_) + ": the archive is corrupt");
  ++block_index_;
  block_offset_ = header_offset + bf::kBlockHeaderSize;
  if (remaining_known_) remaining_after_block_ = *source_.remaining();
  if (kind == bf::kBlockEnd) {
    end_reached_ = true;
    return false;
  }
  cur_ = block_begin_ = payload;
  end_ = payload + length;
  return true;
}

void BinaryReader::get_raw_slow(void* bytes, std::size_t n) {
  auto* out = static_cast<std::uint8_t*>(bytes);
  while (n > 0) {
    if (cur_ == end_) {
      if (!in_record_ || !load_block())
        fail(errc::truncated_input,
             "archive data ends inside a value (" + std::to_string(n) + " more bytes needed)");
    }
    std::size_t chunk = static_cast<std::size_t>(end_ - cur_);
    if (chunk > n) chunk = n;
    std::memcpy(out, cur_, chunk);
    cur_ += chunk;
    out += chunk;
    n -= chunk;
  }
}

std::uint64_t BinaryReader::get_varint_slow() {
  // Gathers the varint's bytes across blocks (get_byte loads the next one, or fails at the
  // input's end), then decodes them like any other.
  std::uint8_t bytes[detail::kMaxVarintBytes];
  std::size_t n = 0;
  do bytes[n] = get_byte();
  while (bytes[n++] >= 0x80 && n < detail::kMaxVarintBytes);
  const std::uint8_t* p = bytes;
  std::uint64_t x = 0;
  // Ten bytes without an end are overlong, not truncated: the decoder stops after ten.
  if (detail::decode_varint(p, bytes + n, x) != detail::VarintStatus::ok) fail_varint();
  return x;
}

std::size_t BinaryReader::check_count(std::uint64_t n, std::uint64_t each) {
  if (n > options_.max_elements)
    fail(errc::limit_exceeded, "count of " + std::to_string(n) +
                                   " elements exceeds LoadOptions::max_elements (" +
                                   std::to_string(options_.max_elements) + ")");
  if (remaining_known_) {
    // Checked before the caller allocates: without it a 10-byte archive claiming 2^32
    // elements would allocate gigabytes. Block headers make `remaining` an overestimate,
    // which only loosens the bound by 12 bytes per MiB.
    std::uint64_t remaining = static_cast<std::uint64_t>(end_ - cur_) + remaining_after_block_;
    if (n > remaining / each)
      fail(errc::truncated_input, "count of " + std::to_string(n) + " elements of at least " +
                                      std::to_string(each) + " bytes, but only " +
                                      std::to_string(remaining) + " bytes remain");
  }
  return static_cast<std::size_t>(n);
}

std::size_t BinaryReader::charge_free_elements(std::uint64_t n, const char* what) {
  if (n > options_.max_elements)
    fail(errc::limit_exceeded, std::string(what) + " of " + std::to_string(n) +
                                   " elements exceeds LoadOptions::max_elements (" +
                                   std::to_string(options_.max_elements) + ")");
  std::uint64_t block_end = block_offset_ + static_cast<std::uint64_t>(end_ - block_begin_);
  std::uint64_t input_end = remaining_known_ ? block_end + remaining_after_block_ : block_end;
  std::uint64_t available = input_end > record_start_ ? input_end - record_start_ : 0;
  std::uint64_t allowance = available + kFreeElementSlack;
  if (free_elements_charged_ > allowance || n > allowance - free_elements_charged_)
    fail(errc::truncated_input,
         std::string(what) + " of " + std::to_string(n) + " elements, but only " +
             std::to_string(available) + " bytes remain from the start of this value (elements " +
             "that may take no bytes count one byte each, " +
             std::to_string(free_elements_charged_) + " counted already, plus " +
             std::to_string(kFreeElementSlack) + ")");
  free_elements_charged_ += n;
  return static_cast<std::size_t>(n);
}

void BinaryReader::read_table_text(std::string& out) {
  std::uint64_t n = get_varint();
  // Bounded by the input like any count (one byte per character), but not by
  // max_elements: a limit of 13 elements must not refuse a 122-byte layout of the
  // program's own type.
  if (remaining_known_) {
    std::uint64_t remaining = static_cast<std::uint64_t>(end_ - cur_) + remaining_after_block_;
    if (n > remaining)
      fail(errc::truncated_input, "type table string of " + std::to_string(n) +
                                      " bytes, but only " + std::to_string(remaining) +
                                      " bytes remain");
  } else if (n > bf::kMaxBlockPayload) {
    // A type definition lies within one block, so no longer string is valid.
    fail(errc::corrupt_data,
         "type table string of " + std::to_string(n) + " bytes is longer than a block");
  }
  if (static_cast<std::uint64_t>(end_ - cur_) >= n) {
    out.assign(reinterpret_cast<const char*>(cur_), static_cast<std::size_t>(n));
    cur_ += n;
  } else {
    read_text_slow(out, static_cast<std::size_t>(n));
  }
}

void BinaryReader::read_text_slow(std::string& out, std::size_t n) {
  if (remaining_known_) {
    out.resize(n);
    get_raw_slow(out.data(), n);
    return;
  }
  out.clear();
  while (out.size() < n) {
    std::size_t chunk = n - out.size() < 65536 ? n - out.size() : 65536;
    std::size_t done = out.size();
    out.resize(done + chunk);
    get_raw(out.data() + done, chunk);
  }
}

std::string_view BinaryReader::read_text_view_slow(std::size_t n) {
  read_text_slow(impl_->text_scratch, n);
  return impl_->text_scratch;
}

void BinaryReader::read_bytes(std::vector<std::uint8_t>& out) { read_number_list(out); }

bool BinaryReader::next_object_record() {
  if (poisoned_)
    fail(errc::corrupt_data,
         "an earlier value of this archive failed to load, and the next one cannot be found "
         "from the middle of it");
  if (in_record_) fail(errc::internal_error, "next value requested inside a value");
  for (;;) {
    if (cur_ == end_) {
      in_record_ = true;  // let load_block run; a record never spans the end marker
      bool more = load_block();
      in_record_ = false;
      if (!more) return false;
    }
    std::uint8_t tag = *cur_++;
    if (tag == bf::kRecordTypes) {
      in_record_ = true;
      parse_type_definitions();
      in_record_ = false;
      continue;
    }
    if (tag != bf::kRecordValue)
      fail(errc::corrupt_data, "unknown record tag " + std::to_string(tag));
    in_record_ = true;
    record_start_ = position() - 1;
    free_elements_charged_ = 0;
    read_table_text(impl_->record_descriptor);
    std::size_t pos = 0;
    try {
      detail::descriptor_min_size(impl_->record_descriptor, pos);
    } catch (const FormatError& e) {
      // The descriptor's own checks know nothing of where it sits in the archive.
      fail_in_table_text(e.code(), "invalid value descriptor: " + e.message(),
                         impl_->record_descriptor.size(), e.context());
    }
    if (pos != impl_->record_descriptor.size())
      fail(errc::corrupt_data, "value descriptor has trailing bytes");
    table_->clear();
    // Payloads belong to the value whose data blocks surround them (§13): those met before
    // its value record (none, from brine's writer) are dropped with the previous value's.
    impl_->payloads.clear();
    next_id_ = 0;
    depth_ = 0;  // a failed value may have left them counted up
    nesting_ = 0;
    version_ = 0;
    return true;
  }
}

bool BinaryReader::at_end() {
  if (in_record_ || poisoned_) return false;  // a poisoned reader's next read explains why
  while (cur_ == end_) {
    if (end_reached_) return true;
    in_record_ = true;
    bool more = load_block();
    in_record_ = false;
    if (!more) return true;
  }
  return false;
}

bool BinaryReader::record_matches(const std::type_info& type, void (*describe)(LayoutBuilder&)) {
  auto it = impl_->local_descriptors.find(std::type_index(type));
  if (it == impl_->local_descriptors.end()) {
    LayoutBuilder builder(0);
    describe(builder);
    it = impl_->local_descriptors.emplace(std::type_index(type), builder.finish_descriptor().bytes)
             .first;
  }
  return it->second == impl_->record_descriptor;
}

void BinaryReader::end_record() {
  // Trailing bytes in the record's block would be silently skipped data: refuse them. Before
  // the table lets go of the objects, so that the failure path can still free their cycles.
  if (cur_ != end_) fail(errc::corrupt_data, "unexpected bytes after the value");
  in_record_ = false;
  table_->clear();
  impl_->payloads.clear();
}

void BinaryReader::abandon_record() noexcept {
  poisoned_ = true;
  in_record_ = false;
  depth_ = 0;
  table_->abandon();
}

Value BinaryReader::decode_record_value() {
  detail::ValueDecoder decoder(*this);
  std::size_t pos = 0;
  return decoder.decode(impl_->record_descriptor, pos);
}

void BinaryReader::read_record_through_state(void (*load)(StateReader&, void*), void* out) {
  Value value = decode_record_value();
  registry_.upgrade(value, options_);
  StateReader state(value, registry_, options_, table_, source_.description());
  load(state, out);
}

Value BinaryReader::read_value() {
  bool more = false;
  Value v;
  try {
    more = next_object_record();
    if (more) {
      v = decode_record_value();
      end_record();
    }
  } catch (...) {
    abandon_record();
    throw;
  }
  if (!more) fail(errc::truncated_input, "no more values: the archive's end marker was reached");
  return v;
}

std::vector<BinaryReader::TypeEntry> BinaryReader::types() const {
  std::vector<TypeEntry> out;
  for (const detail::StreamType& t : impl_->types)
    out.push_back({t.name, t.version, t.fingerprint});
  return out;
}

void BinaryReader::parse_type_definitions() {
  std::size_t count = read_count(3);
  for (std::size_t i = 0; i < count; ++i) {
    detail::StreamType& t = impl_->types.emplace_back();
    read_table_text(t.name);
    if (t.name.empty()) fail(errc::corrupt_data, "type definition with an empty name");
    std::uint64_t version = get_varint();
    if (version > 0xFFFFFFFFu) fail(errc::corrupt_data, "type version out of range");
    t.version = static_cast<std::uint32_t>(version);
    read_table_text(t.layout);
    t.fingerprint = XXH3_64bits(t.layout.data(), t.layout.size());
    try {
      std::string_view v(t.layout);
      std::size_t pos = 0;
      std::uint64_t fields = util::read_varint(v, pos);
      if (fields > v.size())
        detail::throw_error(errc::corrupt_data, "field count exceeds the layout's size");
      for (std::uint64_t f = 0; f < fields; ++f) {
        std::uint64_t len = util::read_varint(v, pos);
        if (len > v.size() - pos)
          detail::throw_error(errc::corrupt_data, "field name runs past the layout");
        std::string_view name = v.substr(pos, len);
        pos += len;
        std::size_t start = pos;
        detail::descriptor_min_size(v, pos);
        t.fields.emplace_back(name, v.substr(start, pos - start));
      }
      if (pos != v.size()) detail::throw_error(errc::corrupt_data, "layout has trailing bytes");
    } catch (const FormatError& e) {
      fail_in_table_text(errc::corrupt_data,
                         "invalid layout of type '" + t.name + "': " + e.message(), t.layout.size(),
                         e.context());
    }
    if (impl_->by_name.count(t.name))
      fail(errc::corrupt_data, "type '" + t.name + "' defined twice");
    impl_->by_name[t.name] = impl_->types.size() - 1;
    t.local = registry_.find(t.name);
  }
}

namespace {
const Layout& local_layout(const Registry& registry, BinaryReader::Impl& impl,
                           const detail::TypeOps& ops) {
  if (const TypeInfo* info = registry.find(*ops.cpp_type)) return info->layout();
  auto it = impl.unregistered_layouts.find(std::type_index(*ops.cpp_type));
  if (it == impl.unregistered_layouts.end()) {
    LayoutBuilder builder(ops.version);
    if (ops.describe) ops.describe(builder);
    it = impl.unregistered_layouts.emplace(std::type_index(*ops.cpp_type), builder.finish()).first;
  }
  return it->second;
}
}  // namespace

detail::StreamType& BinaryReader::resolve(const detail::TypeOps& ops) {
  auto cached = impl_->resolved.find(&ops);
  if (cached != impl_->resolved.end()) {
    last_ops_ = &ops;
    last_type_ = cached->second;
    return *cached->second;
  }
  auto it = impl_->by_name.find(std::string(ops.name));
  if (it == impl_->by_name.end()) {
    if (const TypeInfo* info = registry_.find(*ops.cpp_type)) {
      for (const std::string& alias : info->aliases()) {
        it = impl_->by_name.find(alias);
        if (it != impl_->by_name.end()) break;
      }
    }
  }
  if (it == impl_->by_name.end())
    fail(errc::corrupt_data,
         "value of type '" + std::string(ops.name) + "' but the archive defines no such type");
  detail::StreamType& type = impl_->types[it->second];
  type.fast =
      type.version == ops.version && type.layout == local_layout(registry_, *impl_, ops).bytes;
  impl_->resolved.emplace(&ops, &type);
  last_ops_ = &ops;
  last_type_ = &type;
  return type;
}

detail::StreamType& BinaryReader::read_type_ref() {
  std::uint64_t index = get_varint();
  if (index == 0) {
    parse_type_definitions();
    index = get_varint();
  }
  if (index == 0 || index > impl_->types.size())
    fail(errc::corrupt_data, "type index " + std::to_string(index) + " is not defined (" +
                                 std::to_string(impl_->types.size()) + " types so far)");
  return impl_->types[index - 1];
}

void BinaryReader::fail_depth() const {
  fail(errc::limit_exceeded, detail::depth_message(options_));
}

void BinaryReader::fail_bool(std::uint8_t b) const {
  fail(errc::corrupt_data, "boolean byte " + std::to_string(b) + " is neither 0 nor 1");
}

void BinaryReader::fail_varint() const { fail(errc::corrupt_data, "varint longer than 64 bits"); }

void BinaryReader::fail_variant_index(std::uint64_t index, std::size_t alternatives) const {
  fail(errc::corrupt_data, "variant index " + std::to_string(index) + " out of range (" +
                               std::to_string(alternatives) + " alternatives)");
}

void BinaryReader::fail_nesting() const {
  fail(errc::limit_exceeded, detail::nesting_message(options_));
}

void BinaryReader::fail_undefined_reference(std::uint64_t id) const {
  fail(errc::corrupt_data,
       "reference to shared object " + std::to_string(id) + ", which was not defined before");
}

void BinaryReader::fail_shared_objects() const {
  fail(errc::limit_exceeded, "more shared objects than LoadOptions::max_shared_objects (" +
                                 std::to_string(options_.max_shared_objects) + ")");
}

void BinaryReader::read_object_slow(detail::StreamType& type, const detail::TypeOps& ops,
                                    void* out) {
  detail::ValueDecoder decoder(*this);
  Value value = decoder.decode_object(type);
  registry_.upgrade(value, options_);
  StateReader state(value, registry_, options_, table_, source_.description());
  state.read_root_object(ops, out);
}

detail::PointerTarget BinaryReader::read_pointer(const detail::TypeOps& static_ops, bool shared) {
  std::uint64_t tag = get_varint();
  if (tag == bf::kPointerNull) return {};
  auto fail_here = [this](errc c, const std::string& m) { fail(c, m); };
  if (tag >= bf::kPointerFirstReference) {
    if (!shared) fail(errc::corrupt_data, "back reference in an owning (unique) pointer");
    std::uint64_t id = tag - bf::kPointerFirstReference;
    const detail::SharedObject* found = table_->find(id);
    if (found == nullptr) fail_undefined_reference(id);
    return detail::target_of(registry_, *found, static_ops, fail_here);
  }
  detail::StreamType& type = read_type_ref();
  detail::Created created =
      detail::create_object(registry_, type.name, type.version, static_ops, shared,
                            options_.accept_newer_class_versions, fail_here);
  if (shared) {
    if (next_id_ >= options_.max_shared_objects) fail_shared_objects();
    table_->put(next_id_++, detail::SharedObject{created.owner, created.ops, created.info});
  }
  detail::StreamType& local =
      &type == last_type_ && last_ops_ == created.ops ? type : resolve(*created.ops);
  if (&local == &type && type.fast) {
    read_fast_object(type, [&] { created.ops->read_binary(*this, created.raw); });
  } else {
    read_object_slow(type, *created.ops, created.raw);
  }
  return created.release();
}

const FunctionInfo& BinaryReader::read_function_info(const std::type_info& signature) {
  std::string name;
  read_text(name);
  detail::FunctionLookup found = detail::lookup_function(registry_, name, signature);
  if (found.info == nullptr) fail(found.code, found.message);
  return *found.info;
}

void (*BinaryReader::read_function(const std::type_info& signature))() {
  const FunctionInfo& info = read_function_info(signature);
  if (info.pointer == nullptr) fail(errc::type_mismatch, detail::not_a_plain_function(info));
  return info.pointer;
}

}  // namespace brine

// ---- §13 Payload blocks and tensors ----------------------------------------------------

namespace brine {

namespace bf = binary_format;

void BinaryReader::read_payload_block(std::uint64_t header_offset, std::size_t length,
                                      std::uint64_t checksum) {
  auto payload_fail = [&](errc code, const std::string& message, std::uint64_t at) {
    ErrorContext c = context();
    c.byte_offset = at;
    detail::throw_error(code, message, c);
  };
  if (length != bf::kPayloadDescriptorSize)
    payload_fail(errc::corrupt_data,
                 "payload block descriptor of " + std::to_string(length) + " bytes (expected 16)",
                 header_offset);
  unsigned char descriptor[bf::kPayloadDescriptorSize];
  if (source_.read(descriptor, sizeof descriptor) < sizeof descriptor)
    payload_fail(errc::truncated_input, "archive ends inside a payload block's descriptor",
                 header_offset);
  // The descriptor is checked before its sizes are believed, as a block's payload is.
  if (options_.verify_checksums &&
      bf::block_checksum(descriptor, sizeof descriptor, block_index_) != checksum)
    payload_fail(errc::checksum_mismatch,
                 "checksum mismatch in block " + std::to_string(block_index_) +
                     " (a payload block's descriptor): the archive is corrupt",
                 header_offset);
  const std::uint64_t size = bf::load_u64(descriptor);
  const std::uint64_t pad = bf::load_u64(descriptor + 8);
  const std::uint64_t data_at = source_.position() + pad;
  if (pad >= bf::kPayloadAlignment || (data_at - impl_->archive_start) % bf::kPayloadAlignment != 0)
    payload_fail(errc::corrupt_data,
                 "payload data at byte " + std::to_string(data_at) +
                     " is not 64-byte aligned (padding " + std::to_string(pad) + ")",
                 header_offset);
  if (auto left = source_.remaining()) {
    // pad < 64 and 8 trailer bytes: no overflow below.
    if (size > *left || pad + 8 > *left - size)
      payload_fail(errc::truncated_input,
                   "payload of " + std::to_string(size) + " bytes, only " + std::to_string(*left) +
                       " bytes remain",
                   header_offset);
  }
  const bool verify = options_.verify_checksums && options_.verify_payload_checksums;
  detail::Payload p;
  p.source_offset = data_at;
  p.size = size;
  unsigned char skip_pad[bf::kPayloadAlignment];
  if (source_.read(skip_pad, static_cast<std::size_t>(pad)) < pad)
    payload_fail(errc::truncated_input, "archive ends inside a payload block", header_offset);
  for (std::uint64_t i = 0; i < pad; ++i)
    if (skip_pad[i] != 0)
      payload_fail(errc::corrupt_data, "payload padding is not zero", header_offset);
  std::uint64_t hash = 0;
  if (source_.has_direct_view()) {
    // Memory or a file: the data stays where it is (viewed, or copied once when first used).
    if (source_.direct_view().size() < size)
      payload_fail(errc::truncated_input, "archive ends inside a payload", header_offset);
    p.view = reinterpret_cast<const std::byte*>(source_.direct_view().data());
    if (verify) hash = bf::block_checksum(p.view, static_cast<std::size_t>(size), block_index_);
    source_.skip(static_cast<std::size_t>(size));
  } else {
    // A stream: read into memory that grows as the bytes arrive (the size is a claim).
    std::vector<std::uint8_t> data;
    std::uint64_t n = 0;
    while (n < size) {
      std::uint64_t want = size - n < (std::uint64_t{1} << 20) ? size - n : std::uint64_t{1} << 20;
      if (data.size() < n + want) {
        std::size_t grown =
            data.size() < (std::size_t{1} << 20) ? std::size_t{1} << 20 : data.size() * 2;
        data.resize(static_cast<std::size_t>(grown < size ? grown : size));
      }
      std::size_t got = source_.read(data.data() + n, static_cast<std::size_t>(want));
      n += got;
      if (got < want) break;
    }
    if (n < size)
      payload_fail(
          errc::truncated_input,
          "payload of " + std::to_string(size) + " bytes, only " + std::to_string(n) + " arrived",
          header_offset);
    data.resize(static_cast<std::size_t>(size));
    if (verify) hash = bf::block_checksum(data.data(), data.size(), block_index_);
    charge_state(0, size);
    // Lent to the tensors with the vector as owner: no copy (and no vector-typed storage,
    // whose type tag the library would have to export).
    auto holder = std::make_shared<const std::vector<std::uint8_t>>(std::move(data));
    const auto* first = reinterpret_cast<const std::byte*>(holder->data());
    p.owned =
        Tensor::view(DType::uint8, {static_cast<std::int64_t>(size)},
                     std::shared_ptr<const void>(holder), first, static_cast<std::size_t>(size));
    p.has_owned = true;
  }
  unsigned char trailer[8];
  if (source_.read(trailer, sizeof trailer) < sizeof trailer)
    payload_fail(errc::truncated_input, "archive ends before a payload's checksum", header_offset);
  if (verify && hash != bf::load_u64(trailer))
    payload_fail(errc::checksum_mismatch,
                 "checksum mismatch in the payload of block " + std::to_string(block_index_) +
                     " (" + std::to_string(size) + " bytes at byte " + std::to_string(data_at) +
                     "): the archive is corrupt",
                 header_offset);
  ++block_index_;
  impl_->payloads.push_back(std::move(p));
}

void BinaryReader::read_tensor_ref(detail::TensorRef& ref) {
  if (format_version_ < bf::kFirstPayloadVersion)
    fail(errc::corrupt_data, "tensor in a binary format version " +
                                 std::to_string(format_version_) +
                                 " archive (tensors are version 2)");
  std::uint8_t dtype = get_byte();
  if (!is_valid_dtype(dtype))
    fail(errc::corrupt_data, "unknown dtype byte " + std::to_string(dtype));
  ref.dtype = static_cast<DType>(dtype);
  std::uint64_t rank = get_varint();
  if (rank > bf::kMaxTensorRank)
    fail(errc::corrupt_data, "tensor of rank " + std::to_string(rank) + " (at most 64)");
  ref.shape.resize(static_cast<std::size_t>(rank));
  for (auto& d : ref.shape) {
    std::uint64_t u = get_varint();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      fail(errc::corrupt_data, "tensor dimension " + std::to_string(u) + " out of range");
    d = static_cast<std::int64_t>(u);
  }
  try {
    ref.nbytes = Tensor::checked_size(ref.dtype, ref.shape).second;
  } catch (const Error& e) {
    fail(e.code(), e.message());  // with the reader's position
  }
  ref.payload = get_varint();
  ref.offset = get_varint();
  if (ref.payload >= impl_->payloads.size())
    fail(errc::corrupt_data, "tensor refers to payload " + std::to_string(ref.payload) +
                                 ", but the value has " + std::to_string(impl_->payloads.size()) +
                                 " before it");
  const detail::Payload& p = impl_->payloads[static_cast<std::size_t>(ref.payload)];
  if (ref.offset % dtype_size(ref.dtype) != 0)
    fail(errc::corrupt_data, "tensor of " + std::string(dtype_name(ref.dtype)) + " at offset " +
                                 std::to_string(ref.offset) +
                                 " of its payload is misaligned for its dtype");
  if (ref.offset > p.size || ref.nbytes > p.size - ref.offset)
    fail(errc::corrupt_data, "tensor of " + std::to_string(ref.nbytes) + " bytes at offset " +
                                 std::to_string(ref.offset) + " reaches past the end of payload " +
                                 std::to_string(ref.payload) + " (" + std::to_string(p.size) +
                                 " bytes)");
}

Tensor BinaryReader::make_tensor(detail::TensorRef& ref) {
  detail::Payload& p = impl_->payloads[static_cast<std::size_t>(ref.payload)];
  if (!p.has_owned && impl_->file)
    return Tensor::view(ref.dtype, std::move(ref.shape), impl_->file,
                        static_cast<std::size_t>(p.source_offset + ref.offset));
  if (!p.has_owned) {
    // Memory the reader does not own: copied once, and every tensor on it views the copy.
    charge_state(0, p.size);
    p.owned = Tensor::copy_of(DType::uint8, {static_cast<std::int64_t>(p.size)}, p.view,
                              static_cast<std::size_t>(p.size));
    p.has_owned = true;
  }
  return p.owned.view_storage(ref.dtype, std::move(ref.shape),
                              static_cast<std::size_t>(ref.offset));
}

void BinaryReader::read_tensor(Tensor& out) {
  detail::TensorRef ref;
  read_tensor_ref(ref);
  out = make_tensor(ref);
}

}  // namespace brine
