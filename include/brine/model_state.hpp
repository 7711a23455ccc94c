// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// model_state.hpp: an object's tensors as a flat state dict with dotted names
// (`encoder.layers.0.weight`) and back, so that an object saved by brine can be exchanged as
// safetensors, and a state dict file can fill the tensors of an existing object.
#pragma once

#include <filesystem>
#include <string>
#include <type_traits>
#include <vector>

#include "brine/detail/export.hpp"
#include "brine/limits.hpp"
#include "brine/safetensors.hpp"
#include "brine/state.hpp"
#include "brine/state_dict.hpp"
#include "brine/tensor.hpp"
#include "brine/value.hpp"

namespace brine {

namespace detail {
// Keeps the object overloads of load_state_dict away from the file loader's
// load_state_dict(path, options, prefix), whose arguments they could otherwise take.
template <class T>
using not_a_path_t = std::enable_if_t<!std::is_convertible_v<T&, std::filesystem::path>, int>;
}  // namespace detail

/// A tensor whose dtype or shape differs between an object and a state dict.
struct TensorMismatch {
  std::string name;
  DType expected_dtype = DType::float32;  ///< the object's
  std::vector<std::int64_t> expected_shape;
  DType found_dtype = DType::float32;  ///< the state dict's
  std::vector<std::int64_t> found_shape;
};

/// What load_state_dict found (Hugging Face's `load_torch_model` report): names the object
/// has and the dict lacks, names the dict has and the object lacks, and tensors whose dtype
/// or shape differ. Names in dict order (unexpected) and in the object's order (the others).
struct StateDictReport {
  std::vector<std::string> missing_keys;
  std::vector<std::string> unexpected_keys;
  std::vector<TensorMismatch> mismatched;
  bool ok() const noexcept {
    return missing_keys.empty() && unexpected_keys.empty() && mismatched.empty();
  }
  /// One line per problem, for messages and logs.
  BRINE_API std::string describe() const;
};

/// The tensors of a state-model tree, named by their path: object fields and map keys by
/// name, list elements by index, joined with '.' (`layers.0.attn.q`). A shared object
/// (written once, referenced after) contributes its tensors once, under its first path.
/// Tensors keep their storage: two that shared it still do.
BRINE_API StateDict state_dict_of(const Value& state);

/// Replaces the tensors of `state` by the tensors of `dict` with the same dotted name, where
/// dtype and shape agree, and reports what did not match. With `strict`, any mismatch is a
/// SchemaError (type_mismatch) listing them all, and `state` is left unchanged.
BRINE_API StateDictReport apply_state_dict(Value& state, const StateDict& dict, bool strict);

/// The tensors of `object` as a state dict with dotted names (see state_dict_of).
template <class T>
StateDict to_state_dict(const T& object, const Registry& registry = default_registry()) {
  return state_dict_of(to_state(object, registry));
}

/// Fills the tensors of `object` from `dict` (Hugging Face's `load_state_dict(model, ...)`):
/// each tensor of the object whose dotted name is in `dict` with the same dtype and shape
/// takes the dict's tensor (its storage too: a mapped tensor stays mapped, no copy). With
/// `strict` (the default) a missing key, an unexpected key or a dtype/shape mismatch throws
/// SchemaError (type_mismatch) naming each, and `object` is left unchanged; without it the
/// matching tensors are loaded and the report lists the rest.
template <class T, detail::not_a_path_t<T> = 0>
StateDictReport load_state_dict(T& object, const StateDict& dict, bool strict = true,
                                const Registry& registry = default_registry()) {
  Value state = to_state(object, registry);
  StateDictReport report = apply_state_dict(state, dict, strict);
  StateReader(state, registry, LoadOptions{}).read(object);
  return report;
}

/// load_state_dict from a safetensors file, a sharded folder or its index, mapped (see
/// brine::load_state_dict(path)): the object's tensors end up viewing the mapped files.
template <class T, detail::not_a_path_t<T> = 0>
StateDictReport load_state_dict(T& object, const std::filesystem::path& path, bool strict = true,
                                const Registry& registry = default_registry()) {
  return load_state_dict(object, load_state_dict(path), strict, registry);
}

}  // namespace brine
