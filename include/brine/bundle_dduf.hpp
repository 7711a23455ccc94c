// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// bundle_dduf.hpp: a bundle as one DDUF file (docs/format/bundle.md §10): exported from a
// bundle folder, loaded back with its tensors mapped from the file, imported into a folder.
#pragma once

#include <filesystem>
#include <vector>

#include "brine/bundle.hpp"
#include "brine/dduf.hpp"

namespace brine {

/// Options of export_bundle_dduf.
struct BundleDdufExportOptions {
  /// How the DDUF file is written (alignment, ZIP64).
  DdufWriteOptions write;
};

/// The `_class_name` of the `model_index.json` of a bundle's DDUF form.
inline constexpr const char* bundle_dduf_class_name = "brine.Bundle";
/// The `_brine_bundle_format` this build writes and the largest it reads.
inline constexpr unsigned bundle_dduf_format_version = 1;

/// Writes the bundle at folder `bundle_dir` as the DDUF file `out`, atomically (nothing
/// appears at `out` unless the whole file is written): model_index.json, and per value a
/// folder `value<i>` holding config.json (the value's state in brine's JSON encoding, each
/// tensor a {"$tensor_ref"} into model.safetensors beside it) and its data files. The bundle
/// is checked first (manifest, data file sizes and SHA-256, archive), and whether it fits
/// DDUF before a byte is written: a data file whose extension DDUF does not allow, a DataPath
/// folder holding a folder (DDUF has one directory level), two data files of one value with
/// the same name, or a DataPath into a store, throw DdufExportError naming the rule
/// (extension_not_allowed, too_deep, duplicate_name, unreadable_source) and the file. The
/// values' types need not be registered. Throws FormatError / VersionError / IoError as
/// load_bundle does for a broken bundle.
BRINE_API void export_bundle_dduf(const std::filesystem::path& bundle_dir,
                                  const std::filesystem::path& out,
                                  const BundleDdufExportOptions& options = {});

/// Loads the values of the bundle in the DDUF file `path`, as load_bundle loads a folder (same
/// options, same LoadedValue): tensors view the mapped DDUF file (Tensor::is_mapped(), no
/// copy), and the data files are extracted, their SHA-256 checked against model_index.json,
/// into options.dduf_data_dir or a private temporary folder the values keep alive (see
/// BundleLoadOptions::dduf_data_dir), so that DataPaths name real files. Throws DdufError for
/// a file that is not valid DDUF, FormatError unsupported_content for a valid DDUF file that
/// is not a brine bundle (a diffusers pipeline), corrupt_data for a broken config,
/// checksum_mismatch for a changed data file, and as load_bundle otherwise.
BRINE_API std::vector<LoadedValue> load_bundle_dduf(const std::filesystem::path& path,
                                                    const BundleLoadOptions& options = {});

/// Turns the DDUF form of a bundle back into a bundle folder at `bundle_dir`, atomically as
/// save_bundle does (an existing `bundle_dir` must be a bundle or empty). The values are
/// copied as they are stored, unmigrated; their types need not be registered. Throws as
/// load_bundle_dduf and save_bundle_values.
BRINE_API void import_bundle_dduf(const std::filesystem::path& in,
                                  const std::filesystem::path& bundle_dir);

}  // namespace brine
