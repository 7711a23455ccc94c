// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// binary/reader_impl.hpp: BinaryReader's private state and the descriptor-driven decoder
// (private).
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <typeindex>
#include <unordered_map>
#include <vector>

#include "brine/binary.hpp"
#include "brine/detail/stream_type.hpp"
#include "state/budget.hpp"

namespace brine {

namespace detail {
/// A tensor's record in the data (docs/format/binary-v1.md §13.2), checked.
struct TensorRef {
  DType dtype = DType::float32;
  std::vector<std::int64_t> shape;
  std::size_t nbytes = 0;
  std::uint64_t payload = 0;
  std::uint64_t offset = 0;
};

/// A payload block of the current value: where its data lies in the source, and, for
/// sources that are neither a file nor memory, the data itself.
struct Payload {
  std::uint64_t source_offset = 0;  // source position of the first data byte
  std::uint64_t size = 0;
  const std::byte* view = nullptr;  // into the source's direct view (memory, file)
  Tensor owned;                     // uint8 storage: read from a stream, or copied from memory
  bool has_owned = false;
};
}  // namespace detail

struct BinaryReader::Impl {
  std::deque<detail::StreamType> types;  // deque: StreamType holds views into itself
  std::unordered_map<std::string, std::size_t> by_name;
  std::unordered_map<std::type_index, std::string> local_descriptors;
  // Layouts of types that are not registered (inline-only types), computed from their ops.
  std::unordered_map<std::type_index, Layout> unregistered_layouts;
  std::unordered_map<const detail::TypeOps*, detail::StreamType*> resolved;
  std::string record_descriptor;
  std::string text_scratch;  // read_text_view's copy of a text that spans blocks
  detail::SharedObjectTable table;
  detail::StateBudget state;                // what decoding into the state model built, all values
  std::optional<std::uint64_t> input_size;  // the source's size, when it knows it
  std::vector<detail::Payload> payloads;    // of the current value (§13)
  std::shared_ptr<const MappedFile> file;   // the source's file, for views without a copy
  std::uint64_t archive_start = 0;          // source position of the archive's first byte
};

namespace detail {

// Functions on the recursive paths of the decoders are kept out of line, each with the
// locals of its own case: inlined into the dispatcher, every level would pay for the
// largest case. See docs/limits.md for the stack each level costs.
#if defined(__GNUC__)
#define BRINE_BINARY_OUT_OF_LINE __attribute__((noinline))
#else
#define BRINE_BINARY_OUT_OF_LINE
#endif

/// Decodes binary values through recorded descriptors into the state model, without any
/// C++ type: the path for older class versions and for tools.
class ValueDecoder {
 public:
  explicit ValueDecoder(BinaryReader& reader) : r_(reader) {}
  Value decode(std::string_view descriptor, std::size_t& pos);
  Value decode_object(const StreamType& type);

 private:
  /// Fills `o`, an empty object, with the fields of `type`.
  void decode_fields(const StreamType& type, Object& o);
  BRINE_BINARY_OUT_OF_LINE Value decode_pointer(std::string_view name, bool shared);
  BRINE_BINARY_OUT_OF_LINE Value decode_text(std::string_view d, std::size_t& pos, LayoutCode code);
  BRINE_BINARY_OUT_OF_LINE Value decode_function(std::string_view d, std::size_t& pos,
                                                 LayoutCode code);
  BRINE_BINARY_OUT_OF_LINE Value decode_bytes(std::string_view d, std::size_t& pos,
                                              LayoutCode code);
  BRINE_BINARY_OUT_OF_LINE Value decode_list(std::string_view d, std::size_t& pos, LayoutCode code);
  BRINE_BINARY_OUT_OF_LINE Value decode_array(std::string_view d, std::size_t& pos,
                                              LayoutCode code);
  BRINE_BINARY_OUT_OF_LINE Value decode_map(std::string_view d, std::size_t& pos, LayoutCode code);
  BRINE_BINARY_OUT_OF_LINE Value decode_tuple(std::string_view d, std::size_t& pos,
                                              LayoutCode code);
  BRINE_BINARY_OUT_OF_LINE Value decode_variant(std::string_view d, std::size_t& pos,
                                                LayoutCode code);
  BRINE_BINARY_OUT_OF_LINE Value decode_duration(std::string_view d, std::size_t& pos,
                                                 LayoutCode code);
  BRINE_BINARY_OUT_OF_LINE Value decode_optional(std::string_view d, std::size_t& pos,
                                                 LayoutCode code);
  BRINE_BINARY_OUT_OF_LINE Value decode_named_object(std::string_view d, std::size_t& pos,
                                                     LayoutCode code);
  BRINE_BINARY_OUT_OF_LINE Value decode_tensor();
  BRINE_BINARY_OUT_OF_LINE Value decode_text_map(std::string_view d, std::size_t value,
                                                 std::size_t n);
  BRINE_BINARY_OUT_OF_LINE Value decode_entry_list(std::string_view d, std::size_t key,
                                                   std::size_t value, std::size_t n);
  /// {count: null, period: "num/den"}.
  BRINE_BINARY_OUT_OF_LINE static Value duration_map(std::uint64_t num, std::uint64_t den);
  BRINE_BINARY_OUT_OF_LINE const StreamType& named_type(std::string_view name);
  [[noreturn]] BRINE_BINARY_OUT_OF_LINE void fail_layout_code(LayoutCode code);
  [[noreturn]] BRINE_BINARY_OUT_OF_LINE void fail_array_elements(std::uint64_t n);
  [[noreturn]] BRINE_BINARY_OUT_OF_LINE void fail_array_bytes(std::uint64_t n,
                                                              std::uint64_t remaining);
  // Objects count against LoadOptions::max_depth like the typed path's objects (so both
  // paths agree on what loads); objects and containers together against max_nesting(),
  // in the reader's count, which read_dynamic shares.
  void enter_object();
  void leave_object() {
    --objects_;
    leave();
  }
  void enter();
  void leave() { --r_.nesting_; }

  BinaryReader& r_;
  std::size_t objects_ = 0;
};

}  // namespace detail
}  // namespace brine
