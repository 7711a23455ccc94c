// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// npz_object.hpp: a whole object as one numpy .npz: each tensor an .npy entry named by its
// dotted path, everything else one JSON entry, `__brine__.json`. docs/format/numpy.md §6.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "brine/detail/export.hpp"
#include "brine/limits.hpp"
#include "brine/numpy.hpp"
#include "brine/state.hpp"
#include "brine/value.hpp"

namespace brine {

/// Name of the .npz entry that holds the object's state as JSON.
inline constexpr std::string_view kNpzObjectEntry = "__brine__.json";
/// Version of the `__brine__.json` layout this build writes and reads up to.
inline constexpr unsigned npz_object_format_version = 1;

/// How save_npz writes an object.
struct NpzObjectOptions {
  /// Deflate every entry (numpy.savez_compressed); stored otherwise (numpy.savez).
  bool compress = false;
};

/// What the JSON entry of an object .npz says, and its arrays' headers (for tools).
struct NpzObjectInfo {
  unsigned format_version = 0;  ///< `format_version` of `__brine__.json`
  std::string type;             ///< the root object's registered type name; empty otherwise
  std::uint32_t version = 0;    ///< the root object's class version
  std::vector<NpzEntry> tensors;
};

/// The bytes of an .npz holding `state`: each distinct tensor as an .npy entry named by the
/// dotted path of its first occurrence (`encoder.layers.0.weight.npy`), and `__brine__.json`,
/// the state in brine's JSON rendering with each tensor replaced by
/// {"$tensor_ref": name, "dtype", "shape"}. Tensors viewing the same bytes (same storage,
/// offset, dtype and shape) are written once and referenced from each place. Throws as
/// npz_bytes (dtypes numpy lacks) and to_json (text that is not UTF-8).
BRINE_API std::string npz_object_bytes(const Value& state, const NpzObjectOptions& options = {});

/// Writes npz_object_bytes(state, options) at `path`, atomically.
BRINE_API void save_npz_state(const std::filesystem::path& path, const Value& state,
                              const NpzObjectOptions& options = {});

/// The state an object .npz holds, its tensor references resolved to the arrays (owned
/// copies; references to one entry share one storage). No migration is run: from_state
/// does that. Refuses (FormatError, corrupt_data) a file without `__brine__.json`, a
/// reference to an entry the file lacks, a reference naming a path outside the archive
/// (absolute, `..`, `\`), a reference whose dtype or shape differs from its entry, and any
/// entry that is neither `__brine__.json` nor a referenced array: nothing in the file is
/// silently dropped. VersionError for a newer `format_version`; LimitError as load_npz and
/// LoadOptions (the JSON entry is bounded by max_input_bytes and max_state_expansion).
BRINE_API Value load_npz_state(const std::filesystem::path& path, const LoadOptions& options = {},
                               const NumpyLoadOptions& numpy_options = {});

/// load_npz_state of an .npz held in memory; `source` names it in errors.
BRINE_API Value load_npz_state_from_memory(std::string_view bytes, const LoadOptions& options = {},
                                           const NumpyLoadOptions& numpy_options = {},
                                           const std::string& source = "memory buffer");

/// Whether the .npz in `bytes` has a `__brine__.json` entry (reads the central directory
/// only). Throws as inspect_npz.
BRINE_API bool is_npz_object(std::string_view bytes, const NumpyLoadOptions& options = {},
                             const std::string& source = "memory buffer");

/// The JSON entry's header fields and the arrays' headers, without reading the arrays.
/// Throws as load_npz_state for a missing or malformed `__brine__.json`.
BRINE_API NpzObjectInfo inspect_npz_object(std::string_view bytes,
                                           const NumpyLoadOptions& options = {},
                                           const std::string& source = "memory buffer");

/// Saves `object` as one .npz (see npz_object_bytes), atomically: numpy.load reads its
/// arrays, any JSON parser its `__brine__.json`, load_npz<T> the whole object back. A
/// StateDict argument picks the plain save_npz(path, dict) of numpy.hpp instead.
///
/// Example:
///   brine::save_npz("model.npz", model);
///   Model back = brine::load_npz<Model>("model.npz");
template <class T>
void save_npz(const std::filesystem::path& path, const T& object,
              const NpzObjectOptions& options = {}, const Registry& registry = default_registry()) {
  save_npz_state(path, to_state(object, registry), options);
}

/// Loads an object saved by save_npz, written by any earlier version of T: the registered
/// migrations run on the state (the JSON entry names each object's type and version), and
/// the registered functions it names are looked up. Throws as load_npz_state and from_state.
template <class T>
T load_npz(const std::filesystem::path& path, const Registry& registry = default_registry(),
           const LoadOptions& options = {}, const NumpyLoadOptions& numpy_options = {}) {
  Value state = load_npz_state(path, options, numpy_options);
  try {
    return from_state<T>(std::move(state), registry, options);
  } catch (Error& e) {
    detail::note_error_source(e, path.string());
    throw;
  }
}

}  // namespace brine
