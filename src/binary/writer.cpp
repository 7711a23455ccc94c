// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// binary/writer.cpp: BinaryWriter's blocks, type table and records. See docs/format/binary-v1.md.

#include <cstring>
#include <string>
#include <typeindex>
#include <unordered_map>
#include <vector>

#include "binary/format.hpp"
#include "binary/writer_types.hpp"
#include "brine/binary.hpp"
#include "registry/functions.hpp"
#include "state/pointers.hpp"

namespace brine {

static_assert(sizeof(void*) == 8 || sizeof(void*) == 4);

namespace bf = binary_format;

void BinaryWriter::refuse_unknown_fields(std::string_view type_name) {
  ErrorContext where;
  where.type_name = std::string(type_name);
  detail::throw_error(errc::type_mismatch,
                      "object of type '" + std::string(type_name) +
                          "' holds fields this build does not know (UnknownFields, kept from a "
                          "newer version): the binary archive cannot carry them; save it as a "
                          "stable archive, or clear them",
                      where);
}

BinaryWriter::BinaryWriter(ByteSink& sink, Registry& registry, const BinaryWriteOptions& options)
    : sink_(sink),
      registry_(registry),
      options_(options),
      out_(sink.direct_buffer() ? sink.direct_buffer() : &own_),
      archive_start_(out_->size()),
      types_(std::make_unique<detail::WriterTypeTable>()) {
  if (options_.block_size < 64 || options_.block_size > bf::kMaxBlockPayload)
    detail::throw_error(errc::internal_error,
                        "BinaryWriteOptions::block_size must be between 64 and 16 MiB - 1");
}

BinaryWriter::~BinaryWriter() = default;

void BinaryWriter::check_writable() const {
  if (finished_) detail::throw_error(errc::internal_error, "BinaryWriter used after finish()");
}

namespace {
void store_archive_header(unsigned char* header) {
  std::memcpy(header, bf::kMagic, sizeof bf::kMagic);
  bf::store_u16(header + 8, bf::kKindBinary);
  bf::store_u16(header + 10, static_cast<std::uint16_t>(binary_format_version));
}
}  // namespace

void BinaryWriter::begin_block() {
  if (out_ == &own_) {
    // A sink that can lend a whole block of its own memory gets the block built there: the
    // copy from own_ into the sink (a sixth of a records save) is not made.
    const std::size_t archive_header = header_written_ ? 0 : bf::kHeaderSize;
    std::size_t available = 0;
    if (std::uint8_t* loan =
            sink_.lend(archive_header + bf::kBlockHeaderSize + options_.block_size, available)) {
      if (archive_header != 0) {
        store_archive_header(loan);
        header_written_ = true;
      }
      loan_ = loan;
      loan_block_ = loan + archive_header;
      cur_ = loan_block_ + bf::kBlockHeaderSize;
      limit_ = cur_ + options_.block_size;
      return;
    }
  }
  if (!header_written_) {
    unsigned char header[bf::kHeaderSize];
    store_archive_header(header);
    out_->append(header, sizeof header);
    header_written_ = true;
  }
  block_start_ = out_->size();
  out_->reserve(block_start_ + bf::kBlockHeaderSize + options_.block_size);
  out_->resize(block_start_ + bf::kBlockHeaderSize);
  cur_ = out_->data() + out_->size();
  limit_ = cur_ + options_.block_size;
}

void BinaryWriter::seal_block(std::uint8_t kind) {
  if (cur_ == nullptr) return;
  if (loan_ != nullptr) {
    std::uint8_t* payload = loan_block_ + bf::kBlockHeaderSize;
    auto length = static_cast<std::size_t>(cur_ - payload);
    // The archive's header, when the loan holds it, is written even without a block.
    std::size_t written = static_cast<std::size_t>(loan_block_ - loan_);
    if (length != 0 || kind != bf::kBlockData) {
      bf::store_u32(loan_block_,
                    static_cast<std::uint32_t>(kind) << 24 | static_cast<std::uint32_t>(length));
      bf::store_u64(loan_block_ + 4, bf::block_checksum(payload, length, block_index_));
      ++block_index_;
      if (kind == bf::kBlockData) logical_bytes_ += length;
      written += bf::kBlockHeaderSize + length;
    }
    cur_ = limit_ = loan_ = loan_block_ = nullptr;
    sink_.commit_loan(written);
    sent_ += written;
    return;
  }
  std::uint8_t* payload = out_->data() + block_start_ + bf::kBlockHeaderSize;
  auto length = static_cast<std::size_t>(cur_ - payload);
  cur_ = limit_ = nullptr;
  if (length == 0 && kind == bf::kBlockData) {
    out_->resize(block_start_);  // never emit empty data blocks
  } else {
    unsigned char* header = out_->data() + block_start_;
    bf::store_u32(header,
                  static_cast<std::uint32_t>(kind) << 24 | static_cast<std::uint32_t>(length));
    bf::store_u64(header + 4, bf::block_checksum(payload, length, block_index_));
    out_->resize(block_start_ + bf::kBlockHeaderSize + length);
    ++block_index_;
    if (kind == bf::kBlockData) logical_bytes_ += length;
  }
  if (out_ == &own_ && !own_.empty()) {
    sink_.write(own_.data(), own_.size());
    sent_ += own_.size();
    own_.clear();
  }
}

std::uint64_t BinaryWriter::archive_offset() const noexcept {
  if (loan_ != nullptr) return sent_ + static_cast<std::uint64_t>(cur_ - loan_);
  return out_ == &own_ ? sent_ + own_.size() : out_->size() - archive_start_;
}

void BinaryWriter::emit(const void* bytes, std::size_t n) {
  if (n == 0) return;
  if (out_ == &own_) {
    // Straight from the object to the sink: a 256 MiB tensor is not copied into a buffer
    // first (seal_block emptied own_).
    sink_.write(bytes, n);
    sent_ += n;
  } else {
    out_->append(bytes, n);
  }
}

// See docs/format/binary-v1.md §13.1 "Payload blocks".
std::uint64_t BinaryWriter::write_payload(const std::byte* bytes, std::size_t n) {
  // The data blocks so far end here: the payload block goes between two of them, and the
  // value's bytes continue in a new data block after it.
  seal_block(bf::kBlockData);
  BRINE_ASSERT(header_written_, "a payload written outside a value");
  const std::uint64_t at = archive_offset();
  const std::uint64_t data_at = at + bf::kBlockHeaderSize + bf::kPayloadDescriptorSize;
  const std::uint64_t pad =
      (bf::kPayloadAlignment - data_at % bf::kPayloadAlignment) % bf::kPayloadAlignment;
  unsigned char head[bf::kBlockHeaderSize + bf::kPayloadDescriptorSize + bf::kPayloadAlignment] =
      {};
  unsigned char* descriptor = head + bf::kBlockHeaderSize;
  bf::store_u64(descriptor, n);
  bf::store_u64(descriptor + 8, pad);
  bf::store_u32(head, static_cast<std::uint32_t>(bf::kBlockPayload) << 24 |
                          static_cast<std::uint32_t>(bf::kPayloadDescriptorSize));
  bf::store_u64(head + 4, bf::block_checksum(descriptor, bf::kPayloadDescriptorSize, block_index_));
  // The padding is zeros, right after the descriptor.
  emit(head, bf::kBlockHeaderSize + bf::kPayloadDescriptorSize + static_cast<std::size_t>(pad));
  emit(bytes, n);
  unsigned char trailer[8];
  bf::store_u64(trailer, bf::block_checksum(bytes, n, block_index_));
  emit(trailer, sizeof trailer);
  ++block_index_;
  return types_->payload_count++;
}

std::uint64_t BinaryWriter::payload_for(const Tensor& tensor, std::uint64_t& offset) {
  const void* storage = tensor.storage_id();
  const std::byte* bytes = tensor.bytes();
  auto range = types_->payloads.equal_range(storage);
  for (auto it = range.first; it != range.second; ++it) {
    const auto& p = it->second;
    if (bytes >= p.begin && static_cast<std::size_t>(bytes - p.begin) <= p.size &&
        tensor.nbytes() <= p.size - static_cast<std::size_t>(bytes - p.begin)) {
      offset = static_cast<std::uint64_t>(bytes - p.begin);
      return p.index;
    }
  }
  // A storage of its own is written whole, so that every tensor viewing it (tied weights,
  // slices) refers to the one payload. A mapped file is a storage too, but a tensor views
  // a small part of it (a checkpoint, a safetensors file): only the bytes viewed are written.
  const std::byte* begin = bytes;
  std::size_t size = tensor.nbytes();
  if (!tensor.is_mapped()) {
    begin = bytes - tensor.storage_offset();
    size = tensor.storage_nbytes();
  }
  std::uint64_t index = write_payload(begin, size);
  types_->payloads.emplace(storage, detail::WriterTypeTable::WrittenPayload{begin, size, index});
  offset = static_cast<std::uint64_t>(bytes - begin);
  return index;
}

void BinaryWriter::write_tensor(const Tensor& tensor) {
  std::uint64_t offset = 0;
  // The payload first: its block must come before the data block holding the reference.
  std::uint64_t payload = payload_for(tensor, offset);
  put_byte(static_cast<std::uint8_t>(tensor.dtype()));
  put_varint(tensor.rank());
  for (std::int64_t d : tensor.shape()) put_varint(static_cast<std::uint64_t>(d));
  put_varint(payload);
  put_varint(offset);
}

void BinaryWriter::next_block() {
  seal_block(bf::kBlockData);
  begin_block();
}

void BinaryWriter::put_raw_slow(const void* bytes, std::size_t n) {
  const auto* p = static_cast<const std::uint8_t*>(bytes);
  while (n > 0) {
    if (cur_ == limit_) next_block();
    std::size_t chunk = static_cast<std::size_t>(limit_ - cur_);
    if (chunk > n) chunk = n;
    std::memcpy(cur_, p, chunk);
    cur_ += chunk;
    p += chunk;
    n -= chunk;
  }
}

void BinaryWriter::begin_record(const std::type_info& type, void (*describe)(LayoutBuilder&)) {
  check_writable();
  auto it = types_->top_level.find(std::type_index(type));
  if (it == types_->top_level.end()) {
    LayoutBuilder builder(0);
    describe(builder);
    Layout layout = builder.finish_descriptor();
    it = types_->top_level
             .emplace(std::type_index(type),
                      detail::WriterTypeTable::TopLevel{std::move(layout.bytes),
                                                        std::move(layout.dependencies)})
             .first;
  }
  if (cur_ == nullptr) begin_block();
  std::vector<const TypeInfo*> batch;
  for (const detail::TypeOps* dep : it->second.dependencies)
    types_->collect_into(registry_, *dep, batch);
  if (!batch.empty()) {
    put_byte(bf::kRecordTypes);
    put_varint(batch.size());
    for (const TypeInfo* info : batch) {
      write_text(info->name());
      put_varint(info->version());
      write_text(info->layout().bytes);
    }
  }
  put_byte(bf::kRecordValue);
  write_text(it->second.descriptor);
  ids_.clear();
  types_->payloads.clear();
  types_->payload_count = 0;
}

void BinaryWriter::end_record() {
  ++objects_written_;
  // Each value ends its block, so a reader of a socket never waits for bytes of the next
  // value to finish this one.
  seal_block(bf::kBlockData);
  if (options_.flush_each_object) sink_.flush();
}

void BinaryWriter::finish() {
  check_writable();
  seal_block(bf::kBlockData);
  begin_block();
  unsigned char end[bf::kEndPayloadSize];
  bf::store_u64(end, logical_bytes_);
  bf::store_u64(end + 8, objects_written_);
  std::memcpy(cur_, end, sizeof end);
  cur_ += sizeof end;
  seal_block(bf::kBlockEnd);
  sink_.flush();
  finished_ = true;
}

void BinaryWriter::write_new_object(const void* most_derived, const std::type_info& dynamic_type,
                                    const detail::TypeOps& static_ops) {
  const detail::TypeOps* ops = types_->find_dynamic(dynamic_type);
  std::uint64_t index;
  if (ops == nullptr || (index = types_->index_of(*ops)) == 0) {
    ops = &detail::dynamic_type_ops(registry_, dynamic_type, static_ops);
    index = types_->index_of(*ops);
    if (index == 0) {
      // First object of this type in the stream: define it (and what it names) inline.
      std::vector<const TypeInfo*> batch = types_->collect(registry_, *ops);
      put_varint(0);
      put_varint(batch.size());
      for (const TypeInfo* info : batch) {
        write_text(info->name());
        put_varint(info->version());
        write_text(info->layout().bytes);
      }
      index = types_->index_of(*ops);
    }
    types_->add_dynamic(dynamic_type, *ops);
  }
  put_varint(index);
  ops->write_binary(*this, most_derived);
}

void BinaryWriter::write_function(void (*pointer)(), const std::type_info& signature) {
  write_text(detail::function_name_to_save(registry_, pointer, signature));
}

}  // namespace brine
