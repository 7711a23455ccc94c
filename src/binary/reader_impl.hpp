// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// binary/reader_impl.hpp: BinaryReader's private state and the descriptor-driven decoder
// (private).
#pragma once

#include <deque>
#include <string>
#include <typeindex>
#include <unordered_map>

#include "brine/binary.hpp"
#include "brine/detail/stream_type.hpp"

namespace brine {

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
};

namespace detail {

/// Decodes binary values through recorded descriptors into the state model, without any
/// C++ type: the path for older class versions and for tools.
class ValueDecoder {
 public:
  explicit ValueDecoder(BinaryReader& reader) : r_(reader) {}
  Value decode(std::string_view descriptor, std::size_t& pos);
  Value decode_object(const StreamType& type);
  Object decode_fields(const StreamType& type);

 private:
  Value decode_pointer(std::string_view name, bool shared);
  Value decode_text(std::string_view d, std::size_t& pos, LayoutCode code);
  Value decode_function(std::string_view d, std::size_t& pos, LayoutCode code);
  Value decode_bytes(std::string_view d, std::size_t& pos, LayoutCode code);
  Value decode_list(std::string_view d, std::size_t& pos, LayoutCode code);
  Value decode_array(std::string_view d, std::size_t& pos, LayoutCode code);
  Value decode_map(std::string_view d, std::size_t& pos, LayoutCode code);
  Value decode_tuple(std::string_view d, std::size_t& pos, LayoutCode code);
  Value decode_variant(std::string_view d, std::size_t& pos, LayoutCode code);
  Value decode_duration(std::string_view d, std::size_t& pos, LayoutCode code);
  Value decode_named_object(std::string_view d, std::size_t& pos, LayoutCode code);
  // Objects count against LoadOptions::max_depth like the typed path's objects (so both
  // paths agree on what loads); objects and containers together against max_nesting().
  void enter_object();
  void leave_object() {
    --objects_;
    --levels_;
  }
  void enter();
  void leave() { --levels_; }

  BinaryReader& r_;
  std::size_t objects_ = 0;
  std::size_t levels_ = 0;
};

}  // namespace detail
}  // namespace brine
