// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// state/json_document.hpp: the JSON parser's entries for whole brine JSON documents
// ({"format", "format_version", "values"}), as the JSON archive reader uses them (private).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "brine/io.hpp"
#include "brine/limits.hpp"
#include "brine/value.hpp"

namespace brine::detail {

/// value_from_json for a whole document. What it builds is counted against
/// LoadOptions::max_state_expansion for `json`'s size, so that the JSON reader holds no more
/// than the binary and stable readers for the same input, and the field paths of its errors
/// start inside the value, as the other encodings' do. Throws LimitError naming the option,
/// or LoadOptions::max_depth when the text nests deeper than `max_depth`.
Value value_from_json_document(std::string_view json, std::size_t max_depth,
                               const LoadOptions& options);

/// The same for the bytes of `source`, which must have a direct view. The parser takes the
/// view a chunk at a time and the source is advanced past each chunk as the parse moves on,
/// so that the source's position follows the parser (a counting source reports progress
/// through a single large document). Offsets in errors count from the source's position at
/// the call.
Value value_from_json_document(ByteSource& source, std::size_t max_depth,
                               const LoadOptions& options);

/// Names the entry that holds a tensor's bytes, for to_json_with_tensor_refs.
using TensorRefNamer = std::function<std::string(const Tensor&)>;

/// The tensor a reference names, checked to have `dtype` and `shape` when the reference
/// gives them (a reference is {"$tensor_ref": name} or {"$tensor_ref", "dtype", "shape"}).
using TensorRefResolver = std::function<Value(const std::string& name, std::optional<DType> dtype,
                                              std::optional<std::vector<std::int64_t>> shape)>;

/// to_json where each tensor is {"$tensor_ref": namer(tensor)}, with "dtype" and "shape"
/// when `describe`, instead of its bytes: the object .npz writes the bytes as .npy entries
/// (docs/format/numpy.md §6), a model folder as safetensors (docs/hub.md).
std::string to_json_with_tensor_refs(const Value& value, const JsonOptions& options,
                                     const TensorRefNamer& namer, bool describe = true);

/// Parses a JSON object whose member holds a value rendered by to_json_with_tensor_refs,
/// each reference replaced by what `resolver` returns (its errors get the field path).
/// Counted against LoadOptions::max_state_expansion, as value_from_json_document; field paths
/// start inside the object's members.
Value value_from_json_with_tensor_refs(std::string_view json, std::size_t max_depth,
                                       const LoadOptions& options,
                                       const TensorRefResolver& resolver);

}  // namespace brine::detail
