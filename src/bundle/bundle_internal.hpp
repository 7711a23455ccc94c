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

}  // namespace brine::bundle_internal
