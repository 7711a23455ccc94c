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

// The envelope of `__brine__.json`, checked. Returns the value; fills `info`.
Value open_envelope(Value doc, NpzObjectInfo& info) {
  Value value =
      tensor_refs::open_envelope(std::move(doc), kFormat, npz_object_format_version,
                                 "'" + std::string(kNpzObjectEntry) + "'", info.format_version);
  if (value.kind() == ValueKind::object) {
    info.type = value.as_object().type;
    info.version = value.as_object().version;
  }
  return value;
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
      detail::throw_error(errc::corrupt_data,
                          "'$tensor_ref' to '" + name + "' says " + dtype_name(*dtype) +
                              tensor_refs::shape_text(*shape) + ", the entry holds " +
                              dtype_name(t->dtype()) + tensor_refs::shape_text(t->shape()));
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
  std::string json = detail::to_json_with_tensor_refs(
      tensor_refs::make_envelope(kFormat, npz_object_format_version, state), JsonOptions{},
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
