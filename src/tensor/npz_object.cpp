// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// tensor/npz_object.cpp: an object as one .npz, its tensors as .npy entries and the rest as
// `__brine__.json` (docs/format/numpy.md §6).

#include "brine/npz_object.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "brine/error.hpp"
#include "brine/io.hpp"
#include "brine/version.hpp"
#include "state/json_document.hpp"
#include "state/nesting.hpp"
#include "tensor/npy_format.hpp"
#include "tensor/tensor_refs.hpp"

namespace brine {
namespace {

using tensor_refs::inside_archive;
using tensor_refs::Namer;

constexpr std::string_view kFormat = "brine-npz";

[[noreturn]] void fail(errc code, const std::string& message, const std::string& source,
                       const std::string& entry = {}) {
  ErrorContext where;
  where.source = source;
  where.field_path = entry;
  detail::throw_error(code, message, where);
}

std::string describe_shape(const std::vector<std::int64_t>& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

// The envelope of `__brine__.json`, checked. Returns the value; fills `info`.
Value open_envelope(Value doc, NpzObjectInfo& info) {
  auto bad = [](const std::string& m) {
    detail::throw_error(errc::corrupt_data,
                        std::string("'") + std::string(kNpzObjectEntry) + "' " + m);
  };
  if (doc.kind() != ValueKind::map) bad("is not a JSON object");
  Value::Map& map = doc.as_map();
  for (const auto& member : map)
    if (member.first != "format" && member.first != "format_version" &&
        member.first != "brine_version" && member.first != "type" && member.first != "version" &&
        member.first != "value")
      bad("has an unknown member '" + member.first + "'");
  auto format = map.find("format");
  if (format == map.end() || format->second.kind() != ValueKind::text ||
      format->second.as_text() != kFormat)
    bad("does not say \"format\": \"brine-npz\"");
  auto version = map.find("format_version");
  if (version == map.end() || version->second.kind() != ValueKind::unsigned_integer)
    bad("has no unsigned \"format_version\"");
  std::uint64_t v = version->second.as_uint64();
  if (v == 0) bad("has format_version 0");
  if (v > npz_object_format_version)
    detail::throw_error(errc::newer_format_version,
                        std::string("'") + std::string(kNpzObjectEntry) +
                            "' written in format version " + std::to_string(v) +
                            ", this build of brine reads up to version " +
                            std::to_string(npz_object_format_version) + ": upgrade brine");
  info.format_version = static_cast<unsigned>(v);
  auto value = map.find("value");
  if (value == map.end()) bad("has no \"value\"");
  // "type" and "version" repeat the root object's for readers without brine; they must agree.
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
    info.type = root.type;
    info.version = root.version;
  } else if (type != map.end() || class_version != map.end()) {
    bad("has \"type\" or \"version\" but its value is not an object");
  }
  return std::move(value->second);
}

bool is_object_entry(const std::string& name) { return name == kNpzObjectEntry; }

Value load_state(std::string_view bytes, const LoadOptions& options,
                 const NumpyLoadOptions& numpy_options, const std::string& source) {
  npy::NpzArchive archive =
      npy::read_npz_archive(bytes, numpy_options, source, is_object_entry, options.max_input_bytes);
  if (archive.files.empty())
    fail(errc::corrupt_data,
         "not an object .npz: it has no '" + std::string(kNpzObjectEntry) +
             "' entry (load a plain .npz with brine::load_npz(path) as a StateDict)",
         source);
  for (const std::string& name : archive.skipped)
    fail(errc::corrupt_data,
         "entry '" + name + "' is neither an array nor '" + std::string(kNpzObjectEntry) +
             "': an object .npz holds nothing else",
         source, name);

  std::set<std::string, std::less<>> referenced;
  const StateDict& arrays = archive.arrays;
  detail::TensorRefResolver resolve = [&](const std::string& name, std::optional<DType> dtype,
                                          std::optional<std::vector<std::int64_t>> shape) -> Value {
    // The .npz's references describe their tensors, so that the JSON alone tells them.
    if (!dtype || !shape)
      detail::throw_error(errc::corrupt_data,
                          "'$tensor_ref' to '" + name + "' lacks 'dtype' and 'shape'");
    if (!inside_archive(name))
      detail::throw_error(errc::corrupt_data,
                          "'$tensor_ref' names '" + name + "', a path outside the archive");
    const Tensor* t = arrays.find(name);
    if (t == nullptr)
      detail::throw_error(
          errc::corrupt_data,
          "'$tensor_ref' names '" + name + "', but the archive has no entry '" + name + ".npy'");
    if (t->dtype() != *dtype || t->shape() != *shape)
      detail::throw_error(errc::corrupt_data, "'$tensor_ref' to '" + name + "' says " +
                                                  dtype_name(*dtype) + describe_shape(*shape) +
                                                  ", the entry holds " + dtype_name(t->dtype()) +
                                                  describe_shape(t->shape()));
    referenced.insert(name);
    return Value(*t);  // another view of the entry's storage: references to it share it
  };
  Value doc;
  NpzObjectInfo info;
  Value state;
  try {
    doc = detail::value_from_json_with_tensor_refs(archive.files.front().bytes,
                                                   options.max_nesting(), options, resolve);
    state = open_envelope(std::move(doc), info);
  } catch (Error& e) {
    detail::note_error_source(e, source + ":" + std::string(kNpzObjectEntry));
    throw;
  }
  for (const auto& [name, tensor] : arrays)
    if (referenced.count(name) == 0)
      fail(errc::corrupt_data,
           "entry '" + name + ".npy' is not referenced by '" + std::string(kNpzObjectEntry) +
               "': an object .npz holds nothing else",
           source, name);
  return state;
}

}  // namespace

std::string npz_object_bytes(const Value& state, const NpzObjectOptions& options) {
  Namer namer;
  namer.visit(state, std::string());
  detail::check_json_document_nesting(state, JsonOptions{}.max_depth);
  Value::Map envelope;
  envelope.emplace("format", Value(kFormat));
  envelope.emplace("format_version", Value(static_cast<std::uint64_t>(npz_object_format_version)));
  envelope.emplace("brine_version", Value(std::to_string(BRINE_VERSION_MAJOR) + "." +
                                          std::to_string(BRINE_VERSION_MINOR) + "." +
                                          std::to_string(BRINE_VERSION_PATCH)));
  if (state.kind() == ValueKind::object) {
    envelope.emplace("type", Value(state.as_object().type));
    envelope.emplace("version", Value(static_cast<std::uint64_t>(state.as_object().version)));
  }
  envelope.emplace("value", state);
  std::string json =
      detail::to_json_with_tensor_refs(Value(std::move(envelope)), JsonOptions{},
                                       [&namer](const Tensor& t) { return namer.name_of(t); });
  return npy::npz_bytes_with_files(namer.dict(), {{std::string(kNpzObjectEntry), std::move(json)}},
                                   options.compress);
}

void save_npz_state(const std::filesystem::path& path, const Value& state,
                    const NpzObjectOptions& options) {
  std::string bytes = npz_object_bytes(state, options);
  write_file_atomically(path, bytes);
}

Value load_npz_state(const std::filesystem::path& path, const LoadOptions& options,
                     const NumpyLoadOptions& numpy_options) {
  auto file = MappedFile::open(path);
  return load_state(file->view(), options, numpy_options, file->path());
}

Value load_npz_state_from_memory(std::string_view bytes, const LoadOptions& options,
                                 const NumpyLoadOptions& numpy_options, const std::string& source) {
  return load_state(bytes, options, numpy_options, source);
}

bool is_npz_object(std::string_view bytes, const NumpyLoadOptions& options,
                   const std::string& source) {
  NpzContents contents = inspect_npz_from_memory(bytes, options, source);
  for (const std::string& name : contents.skipped)
    if (name == kNpzObjectEntry) return true;
  return false;
}

NpzObjectInfo inspect_npz_object(std::string_view bytes, const NumpyLoadOptions& options,
                                 const std::string& source) {
  const LoadOptions limits;
  npy::NpzArchive archive =
      npy::inspect_npz_archive(bytes, options, source, is_object_entry, limits.max_input_bytes);
  if (archive.files.empty())
    fail(errc::corrupt_data,
         "not an object .npz: it has no '" + std::string(kNpzObjectEntry) + "' entry", source);
  // References resolve to empty placeholders: the arrays' data is not read.
  detail::TensorRefResolver placeholder = [](const std::string&, std::optional<DType> dtype,
                                             std::optional<std::vector<std::int64_t>>) -> Value {
    return Value(Tensor(dtype.value_or(DType::uint8), {0}));
  };
  NpzObjectInfo info;
  try {
    open_envelope(detail::value_from_json_with_tensor_refs(
                      archive.files.front().bytes, limits.max_nesting(), limits, placeholder),
                  info);
  } catch (Error& e) {
    detail::note_error_source(e, source + ":" + std::string(kNpzObjectEntry));
    throw;
  }
  info.tensors = std::move(archive.entries);
  return info;
}

}  // namespace brine
