// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// tensor/tensor_refs.hpp: naming the tensors of a state tree for files that keep them
// apart from its JSON (the object .npz, model folders) (private).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "brine/error.hpp"
#include "brine/state_dict.hpp"
#include "brine/value.hpp"

namespace brine::tensor_refs {

// A name that stays inside the archive wherever the ZIP is extracted: relative, no empty,
// '.' or '..' segment, no backslash (a separator on Windows) and no NUL. docs/format/numpy.md §6.
inline bool inside_archive(const std::string& name) {
  if (name.empty() || name.find('\0') != std::string::npos || name.find('\\') != std::string::npos)
    return false;
  std::size_t start = 0;
  for (;;) {
    std::size_t slash = name.find('/', start);
    std::string_view segment(name.data() + start,
                             (slash == std::string::npos ? name.size() : slash) - start);
    if (segment.empty() || segment == "." || segment == "..") return false;
    if (slash == std::string::npos) return true;
    start = slash + 1;
  }
}

// Tensors are the same entry when they view the same bytes the same way.
using ViewKey = std::tuple<const void*, std::size_t, DType, std::vector<std::int64_t>>;

inline ViewKey key_of(const Tensor& t) {
  return {t.storage_id(), t.storage_offset(), t.dtype(), t.shape()};
}

inline std::string join(const std::string& prefix, const std::string& part) {
  return prefix.empty() ? part : prefix + "." + part;
}

// Gives each distinct tensor view an entry name: the dotted path of its first occurrence,
// in the order to_json renders the tree, or "tensor_<n>" where that path is not a name
// inside the archive (the root itself, map keys holding '/' segments such as "..") or is
// taken already (a map key holding a '.').
class Namer {
 public:
  void visit(const Value& value, const std::string& path) {
    switch (value.kind()) {
      case ValueKind::tensor:
        add(value.as_tensor(), path);
        return;
      case ValueKind::object:
        for (const Field& field : value.as_object().fields)
          visit(field.value, join(path, field.name));
        return;
      case ValueKind::list: {
        const Value::List& list = value.as_list();
        for (std::size_t i = 0; i < list.size(); ++i) visit(list[i], join(path, std::to_string(i)));
        return;
      }
      case ValueKind::map:
        for (const auto& [key, child] : value.as_map()) visit(child, join(path, key));
        return;
      default:
        return;
    }
  }

  const std::string& name_of(const Tensor& t) const {
    auto it = names_.find(key_of(t));
    BRINE_ASSERT(it != names_.end(), "a tensor the namer did not visit");
    return it->second;
  }

  const StateDict& dict() const noexcept { return dict_; }

 private:
  void add(const Tensor& t, const std::string& path) {
    ViewKey key = key_of(t);
    if (names_.count(key) != 0) return;
    std::string name = path;
    if (!inside_archive(name) || dict_.contains(name)) {
      do name = "tensor_" + std::to_string(counter_++);
      while (dict_.contains(name));
    }
    // A later dotted path may equal a fallback name given earlier: it then gets one too.
    names_.emplace(std::move(key), name);
    dict_.insert(name, t);
  }

  std::map<ViewKey, std::string> names_;
  StateDict dict_;
  std::size_t counter_ = 0;
};

}  // namespace brine::tensor_refs
