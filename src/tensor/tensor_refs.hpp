// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// tensor/tensor_refs.hpp: naming the tensors of a state tree for files that keep them
// apart from its JSON (the object .npz, model folders) (private).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "brine/error.hpp"
#include "brine/state_dict.hpp"
#include "brine/value.hpp"
#include "brine/version.hpp"

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

// "[2, 3]", as error messages show a shape.
inline std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

// The JSON envelope both the object .npz and the model folder's definition wrap a state in
// (numpy.md §6, hub.md): {format, format_version, brine_version, type, version, value}, where
// type and version repeat the root object's for readers without brine.
inline Value make_envelope(std::string_view format, unsigned format_version, const Value& value) {
  Value::Map envelope;
  envelope.emplace("format", Value(std::string(format)));
  envelope.emplace("format_version", Value(static_cast<std::uint64_t>(format_version)));
  envelope.emplace("brine_version", Value(std::string(BRINE_VERSION_STRING)));
  if (value.kind() == ValueKind::object) {
    envelope.emplace("type", Value(value.as_object().type));
    envelope.emplace("version", Value(static_cast<std::uint64_t>(value.as_object().version)));
  }
  envelope.emplace("value", value);
  return Value(std::move(envelope));
}

// Checks an envelope written by make_envelope and returns its value; `what` names the file
// in messages, `format_version` receives the version found. Throws FormatError corrupt_data,
// VersionError newer_format_version.
inline Value open_envelope(Value doc, std::string_view format, unsigned max_format_version,
                           const std::string& what, unsigned& format_version) {
  auto bad = [&what](const std::string& m) {
    detail::throw_error(errc::corrupt_data, what + " " + m);
  };
  if (doc.kind() != ValueKind::map) bad("is not a JSON object");
  Value::Map& map = doc.as_map();
  for (const auto& member : map)
    if (member.first != "format" && member.first != "format_version" &&
        member.first != "brine_version" && member.first != "type" && member.first != "version" &&
        member.first != "value")
      bad("has an unknown member '" + member.first + "'");
  auto found_format = map.find("format");
  if (found_format == map.end() || found_format->second.kind() != ValueKind::text ||
      found_format->second.as_text() != format)
    bad("does not say \"format\": \"" + std::string(format) + "\"");
  auto version = map.find("format_version");
  if (version == map.end() || version->second.kind() != ValueKind::unsigned_integer)
    bad("has no unsigned \"format_version\"");
  const std::uint64_t v = version->second.as_uint64();
  if (v == 0) bad("has format_version 0");
  if (v > max_format_version)
    detail::throw_error(errc::newer_format_version,
                        what + " written in format version " + std::to_string(v) +
                            ", this build of brine reads up to version " +
                            std::to_string(max_format_version) + ": upgrade brine");
  format_version = static_cast<unsigned>(v);
  auto value = map.find("value");
  if (value == map.end()) bad("has no \"value\"");
  auto type = map.find("type");
  auto class_version = map.find("version");
  if (value->second.kind() == ValueKind::object) {
    const Object& root = value->second.as_object();
    if (type == map.end() || type->second.kind() != ValueKind::text ||
        type->second.as_text() != root.type)
      bad("\"type\" is not the root object's type '" + root.type + "'");
    if (class_version == map.end() || !class_version->second.is_number() ||
        class_version->second.kind() == ValueKind::floating ||
        class_version->second.as_uint64() != root.version)
      bad("\"version\" is not the root object's version " + std::to_string(root.version));
  } else if (type != map.end() || class_version != map.end()) {
    bad("has \"type\" or \"version\" but its value is not an object");
  }
  return std::move(value->second);
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
