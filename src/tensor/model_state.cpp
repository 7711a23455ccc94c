// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// tensor/model_state.cpp: flattening an object's tensors into dotted names, and back.

#include "brine/model_state.hpp"

#include <set>
#include <string>
#include <utility>

#include "brine/error.hpp"
#include "tensor/tensor_refs.hpp"

namespace brine {
namespace {

using tensor_refs::join;
using tensor_refs::shape_text;

// Visits every tensor of a tree with its dotted name. Objects that a shared pointer holds
// are visited once: later References are not followed, as the dict must name each tensor once.
template <class Tree, class Visit>
void each_tensor(Tree& value, const std::string& path, Visit& visit) {
  switch (value.kind()) {
    case ValueKind::tensor:
      visit(path, value);
      return;
    case ValueKind::object:
      for (auto& field : value.as_object().fields)
        each_tensor(field.value, join(path, field.name), visit);
      return;
    case ValueKind::list: {
      auto& list = value.as_list();
      for (std::size_t i = 0; i < list.size(); ++i)
        each_tensor(list[i], join(path, std::to_string(i)), visit);
      return;
    }
    case ValueKind::map:
      for (auto& entry : value.as_map()) each_tensor(entry.second, join(path, entry.first), visit);
      return;
    default:
      return;
  }
}

}  // namespace

std::string StateDictReport::describe() const {
  std::string out;
  for (const std::string& name : missing_keys) out += "missing key '" + name + "'\n";
  for (const std::string& name : unexpected_keys) out += "unexpected key '" + name + "'\n";
  for (const TensorMismatch& m : mismatched)
    out += "'" + m.name + "': the object has " + dtype_name(m.expected_dtype) +
           shape_text(m.expected_shape) + ", the state dict " + dtype_name(m.found_dtype) +
           shape_text(m.found_shape) + "\n";
  return out;
}

StateDict state_dict_of(const Value& state) {
  StateDict dict;
  auto visit = [&dict](const std::string& name, const Value& tensor) {
    // A tree can name one path twice only through a map key holding a '.', which would
    // collide with a nested field: refuse rather than drop a tensor.
    if (dict.contains(name))
      detail::throw_error(errc::type_mismatch,
                          "two tensors of the object flatten to the same name '" + name + "'");
    dict.insert(name, tensor.as_tensor());
  };
  each_tensor(state, std::string(), visit);
  return dict;
}

StateDictReport apply_state_dict(Value& state, const StateDict& dict, bool strict) {
  StateDictReport report;
  std::set<std::string, std::less<>> seen;
  std::vector<std::pair<Value*, const Tensor*>> replacements;
  auto visit = [&](const std::string& name, Value& slot) {
    seen.insert(name);
    const Tensor* found = dict.find(name);
    if (found == nullptr) {
      report.missing_keys.push_back(name);
      return;
    }
    const Tensor& own = slot.as_tensor();
    if (own.dtype() != found->dtype() || own.shape() != found->shape()) {
      report.mismatched.push_back({name, own.dtype(), own.shape(), found->dtype(), found->shape()});
      return;
    }
    replacements.emplace_back(&slot, found);
  };
  each_tensor(state, std::string(), visit);
  for (const auto& [name, tensor] : dict)
    if (seen.count(name) == 0) report.unexpected_keys.push_back(name);
  if (strict && !report.ok())
    detail::throw_error(errc::type_mismatch,
                        "the state dict does not match the object:\n" + report.describe());
  for (auto& [slot, tensor] : replacements) *slot = Value(*tensor);
  return report;
}

}  // namespace brine
