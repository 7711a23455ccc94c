// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// bundle/paths.hpp: the checks that keep a recorded path inside its base (bundle or store).
// See docs/format/bundle.md §5 "Path bases". Private: never installed.
#pragma once

#include <filesystem>
#include <string>

namespace brine {
namespace bundle_paths {

/// Whether `path` is `base` or lies under it (both canonical or both lexically normal).
bool is_within(const std::filesystem::path& path, const std::filesystem::path& base);

/// Throws FormatError (unsupported_content) naming `what` and `source` unless `recorded` is
/// a non-empty relative path without a root and without a ".." component.
void check_relative(const std::string& recorded, const char* base_name,
                    const std::filesystem::path& source, const std::string& what);

/// `base / recorded`, after check_relative and after checking that, symlinks followed, the
/// path (and, for a folder, every symlink inside it) stays inside `base`.
std::filesystem::path resolve_inside(const std::filesystem::path& base, const std::string& recorded,
                                     const char* base_name, const std::filesystem::path& source,
                                     const std::string& what = {});

}  // namespace bundle_paths
}  // namespace brine
