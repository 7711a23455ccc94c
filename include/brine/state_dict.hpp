// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// state_dict.hpp: StateDict, named tensors in insertion order plus string metadata: what a
// safetensors file, a sharded checkpoint folder or an .npz file holds.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "brine/error.hpp"
#include "brine/tensor.hpp"

namespace brine {

/// Named tensors, kept in the order they were inserted (the order a sharded save fills its
/// shards in, as Hugging Face's saver takes the dict's order), with unique names, plus
/// string-to-string metadata (safetensors' `__metadata__`).
class StateDict {
 public:
  using Entry = std::pair<std::string, Tensor>;
  using const_iterator = std::vector<Entry>::const_iterator;
  using iterator = std::vector<Entry>::iterator;

  /// Appends `tensor` under `name`. Throws FormatError (corrupt_data) when the name is
  /// already present: a state dict never holds two tensors of one name.
  void insert(std::string name, Tensor tensor) {
    if (index_.count(name) != 0)
      detail::throw_error(errc::corrupt_data, "duplicate tensor name '" + name + "'");
    index_.emplace(name, entries_.size());
    entries_.emplace_back(std::move(name), std::move(tensor));
  }
  /// Sets `name` to `tensor`, appending it when absent, replacing it in place otherwise.
  void insert_or_assign(std::string name, Tensor tensor) {
    if (Tensor* t = find(name))
      *t = std::move(tensor);
    else
      insert(std::move(name), std::move(tensor));
  }
  /// The tensor named `name`, or nullptr.
  const Tensor* find(std::string_view name) const noexcept {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : &entries_[it->second].second;
  }
  Tensor* find(std::string_view name) noexcept {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : &entries_[it->second].second;
  }
  /// The tensor named `name`; throws SchemaError (missing_field) naming it when absent.
  const Tensor& at(std::string_view name) const {
    const Tensor* t = find(name);
    if (t == nullptr)
      detail::throw_error(errc::missing_field,
                          "no tensor named '" + std::string(name) + "' in the state dict");
    return *t;
  }
  bool contains(std::string_view name) const noexcept { return find(name) != nullptr; }
  /// Removes `name`; returns whether it was present. Linear in the number of tensors.
  bool erase(std::string_view name) {
    auto it = index_.find(name);
    if (it == index_.end()) return false;
    std::size_t at = it->second;
    entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(at));
    index_.erase(it);
    for (auto& [key, position] : index_)
      if (position > at) --position;
    return true;
  }

  std::size_t size() const noexcept { return entries_.size(); }
  bool empty() const noexcept { return entries_.empty(); }
  const_iterator begin() const noexcept { return entries_.begin(); }
  const_iterator end() const noexcept { return entries_.end(); }
  /// Iterators whose entries' tensors may be changed (not their names).
  iterator begin() noexcept { return entries_.begin(); }
  iterator end() noexcept { return entries_.end(); }

  /// String metadata (safetensors' `__metadata__`), sorted by key.
  std::map<std::string, std::string> metadata;

  /// Same names in the same order, equal tensors (Tensor's operator==), same metadata.
  friend bool operator==(const StateDict& a, const StateDict& b) {
    return a.entries_ == b.entries_ && a.metadata == b.metadata;
  }
  friend bool operator!=(const StateDict& a, const StateDict& b) { return !(a == b); }

 private:
  std::vector<Entry> entries_;
  std::map<std::string, std::size_t, std::less<>> index_;
};

}  // namespace brine
