// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// data_path.hpp: DataPath, a field naming a file or folder whose content belongs to the object
// (weights, a vocabulary); bundles copy that content in. See docs/format/bundle.md §4.
#pragma once

#include <filesystem>
#include <string>
#include <utility>

#include "brine/detail/export.hpp"
#include "brine/hooks.hpp"
#include "brine/types/path.hpp"
#include "brine/types/string.hpp"

namespace brine {

/// What a recorded DataPath is relative to.
enum class PathBase {
  bundle,    ///< the bundle's folder: the file was copied in
  store,     ///< the root of the Store the bundle belongs to: the file lives in another bundle
  absolute,  ///< nothing: an absolute path outside any bundle or store
};

/// "bundle", "store" or "absolute", as the state records it.
BRINE_API const char* to_string(PathBase base) noexcept;

/// A file or folder whose content is part of the object. In memory it always holds an
/// absolute path; saved outside a bundle it records that path with base `absolute`. A bundle
/// save (save_bundle) copies the content into the bundle and records it relative to the
/// bundle; a bundle load resolves it back to an absolute path inside the bundle's folder,
/// wherever the folder was moved. The state is the object `brine.DataPath` v1
/// `{base: text, path: path}`; brine::identifier leaves it out, so where the data lives never
/// changes an object's identity.
class BRINE_API DataPath {
 public:
  BRINE_TYPE("brine.DataPath", 1);

  DataPath() = default;
  /// Names `path`, made absolute against the current directory.
  DataPath(const std::filesystem::path& path);  // NOLINT: implicit, like a path
  DataPath(const char* path) : DataPath(std::filesystem::path(path)) {}
  DataPath(const std::string& path) : DataPath(std::filesystem::path(path)) {}

  /// The absolute path (or, for a state loaded outside a bundle or store, the path as it was
  /// recorded, relative to base()).
  const std::filesystem::path& path() const noexcept { return path_; }
  /// `absolute`, except for a state recorded against a bundle or a store and loaded without one.
  PathBase base() const noexcept { return base_; }
  bool empty() const noexcept { return path_.empty(); }

  template <class Archive>
  void getstate(Archive& ar) const {
    std::string base = to_string(base_);
    ar("base", base)("path", path_);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    std::string base;
    std::filesystem::path path;
    ar("base", base)("path", path);
    base_ = parse_base(base);
    path_ = std::move(path);
  }

  friend bool operator==(const DataPath& a, const DataPath& b) {
    return a.base_ == b.base_ && a.path_ == b.path_;
  }
  friend bool operator!=(const DataPath& a, const DataPath& b) { return !(a == b); }

 private:
  /// Throws FormatError (corrupt_data) for a base that is none of the three names.
  static PathBase parse_base(const std::string& name);

  PathBase base_ = PathBase::absolute;
  std::filesystem::path path_;
};

}  // namespace brine
