// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// hub.hpp: model folders in the Hugging Face layout: a definition file (the object's state
// as JSON, tensors as references) and its weights as safetensors, single or sharded, per
// variant. The layout and what Hugging Face tools see: docs/hub.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "brine/detail/export.hpp"
#include "brine/error.hpp"
#include "brine/limits.hpp"
#include "brine/safetensors.hpp"
#include "brine/state.hpp"
#include "brine/value.hpp"

namespace brine {

/// Version of the definition file's layout this build writes and reads up to.
inline constexpr unsigned model_folder_format_version = 1;

/// How push_to_folder writes and from_pretrained reads a model folder.
struct ModelFolderOptions {
  /// The definition file's name (experimaestro's `definition_filename`). Loading falls back
  /// to `definition.json` when this file is absent.
  std::string definition_filename = "brine.json";
  /// The weights' variant (Hugging Face's `variant`, e.g. "fp16"); empty for the default
  /// weights, `model.safetensors`. A variant's files are `model.<variant>.safetensors`, or
  /// `model.<variant>-00001-of-0000N.safetensors` with `model.safetensors.index.<variant>.json`
  /// (transformers' `_add_variant`). No '/' and no '.'.
  std::string variant;
  /// The most tensor bytes per weights file (decimal units as Hugging Face's: 5 GB); above
  /// it the weights are sharded with an index (see ShardOptions).
  std::uint64_t max_shard_size = 5'000'000'000;
  /// from_pretrained<T>: build a T (true), or hand back the state, the configuration with
  /// migrations applied (false; then T must be brine::Value).
  bool as_instance = true;
};

/// What push_to_folder wrote.
struct PushedModelFolder {
  std::string definition;  ///< the definition file's name
  SavedStateDict weights;  ///< the weights' files (shards and index)
};

/// Writes `state` as a model folder at `folder` (created when missing): the definition file,
/// {"format": "brine-model", "format_version", "brine_version", "type", "version", "value"},
/// whose value is the state as brine's JSON with each tensor replaced by
/// {"$tensor_ref": <state-dict name>}, and the weights, the tensors by dotted name
/// (to_state_dict's names), as safetensors of options.variant. Other files of the folder
/// (other variants' weights, a README, config.json) are kept.
///
/// Atomic as a whole: the new folder is built beside the old one (hard links to the files it
/// keeps) and swapped in with one rename (renameat2 RENAME_EXCHANGE), so that a crash at any
/// moment leaves either the previous folder or the new one. One writer per folder at a time.
/// Throws IoError, and as save_safetensors and to_json (text that is not UTF-8).
BRINE_API PushedModelFolder push_state_to_folder(const std::filesystem::path& folder,
                                                 const Value& state,
                                                 const ModelFolderOptions& options = {});

/// The state a model folder holds, its tensor references resolved to the weights of
/// options.variant (mapped, no copy). No migration is run. Throws IoError when there is no
/// definition file (naming both names tried) or, with errc::io_failure and
/// std::errc::no_such_file_or_directory, when the variant's weights are absent: the message
/// names the variant and lists the variants the folder has. FormatError (corrupt_data) for a
/// reference to a weight the files lack, or whose dtype or shape differs from the reference,
/// a weight no reference names, and a malformed definition; VersionError for a newer
/// format_version; SafetensorsError as load_state_dict.
BRINE_API Value load_pretrained_state(const std::filesystem::path& folder,
                                      const ModelFolderOptions& options = {},
                                      const LoadOptions& load_options = {});

/// The variants whose weights the folder holds, sorted, "" for the default weights.
BRINE_API std::vector<std::string> model_folder_variants(const std::filesystem::path& folder);

/// push_state_to_folder(folder, to_state(object), options).
///
/// Example:
///   brine::push_to_folder("tiny-model", model);                   // brine.json, model.safetensors
///   brine::ModelFolderOptions half;
///   half.variant = "fp16";
///   brine::push_to_folder("tiny-model", model_in_fp16, half);     // + model.fp16.safetensors
///   Model back = brine::from_pretrained<Model>("tiny-model");
template <class T>
PushedModelFolder push_to_folder(const std::filesystem::path& folder, const T& object,
                                 const ModelFolderOptions& options = {},
                                 const Registry& registry = default_registry()) {
  return push_state_to_folder(folder, to_state(object, registry), options);
}

/// Loads a model folder written by push_to_folder from any earlier version of T, with the
/// weights of options.variant (the tensors view the mapped files). With T = brine::Value,
/// the state with migrations applied (the configuration; no object is built); otherwise
/// options.as_instance must be true. Throws as load_pretrained_state and from_state.
template <class T>
T from_pretrained(const std::filesystem::path& folder, const ModelFolderOptions& options = {},
                  const Registry& registry = default_registry(),
                  const LoadOptions& load_options = {}) {
  Value state = load_pretrained_state(folder, options, load_options);
  if constexpr (std::is_same_v<T, Value>) {
    registry.upgrade(state, load_options);
    return state;
  } else {
    if (!options.as_instance)
      detail::throw_error(errc::type_mismatch,
                          "ModelFolderOptions::as_instance is false, which loads the state: "
                          "call from_pretrained<brine::Value>");
    try {
      return from_state<T>(std::move(state), registry, load_options);
    } catch (Error& e) {
      detail::note_error_source(e, folder.string());
      throw;
    }
  }
}

}  // namespace brine
