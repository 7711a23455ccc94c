// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// bundle/bundle_internal.hpp: what the DDUF form of a bundle shares with the folder form
// (private).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "brine/bundle.hpp"

namespace brine::bundle_internal {

/// SHA-256 (lowercase hex) and size of a file, read in pieces.
std::pair<std::string, std::uint64_t> file_sha256(const std::filesystem::path& path);
/// SHA-256 (lowercase hex) of bytes.
std::string bytes_sha256(std::string_view bytes);

/// Reads and checks the bundle at the absolute folder `dir`: its manifest, its data files
/// (when options.verify_data_files) and its values archive, unmigrated.
std::pair<BundleManifest, std::vector<Value>> read_checked(const std::filesystem::path& dir,
                                                           const BundleLoadOptions& options);

/// The load after the values are read: migrations, DataPaths resolved against `dir`, init
/// functions looked up, objects built, init functions run. `source` names the archive in
/// errors; `extras` are (value index, path relative to `dir`) of hook files; every value
/// holds `keep_alive`.
std::vector<LoadedValue> finish_load(std::vector<Value> states, const std::filesystem::path& dir,
                                     const std::string& source,
                                     const std::vector<std::pair<std::size_t, std::string>>& extras,
                                     const BundleLoadOptions& options,
                                     std::shared_ptr<const void> keep_alive);

/// Puts the content of every DataPath in `state` into the folder `dir`, as save_bundle does
/// for value `index` (the type's BundleFiles hook, names under `data/<index>/` from the
/// field's path, placed by `context`: hard link or copy), and records each as
/// `{base: "bundle", path}`. Used by model folders, whose folder is the base.
std::vector<BundleFileInfo> place_data_files(Value& state, std::size_t index,
                                             const std::filesystem::path& dir,
                                             const Registry& registry,
                                             SerializationContext& context);

/// Resolves every DataPath of `state` recorded against the bundle to an absolute path inside
/// `dir`, refusing one that escapes it (`..`, absolute, a symlink leading out) as a bundle
/// load does; a store-relative one is refused (no store here).
void resolve_data_paths(Value& state, std::size_t index, const std::filesystem::path& dir);

}  // namespace brine::bundle_internal
