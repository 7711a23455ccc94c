// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// store.hpp: Store, bundles kept by name under one root folder (experimaestro's xp.save /
// xp.load). See docs/bundles.md "A named store".
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "brine/bundle.hpp"
#include "brine/detail/export.hpp"

namespace brine {

/// Bundles by name under one root folder. Each save is atomic (a crash leaves the previous
/// bundle of that name, or the new one); a DataPath into another bundle of the same store is
/// recorded relative to the root, so the whole store can move. Not safe for two processes
/// saving the same name at once (the last swap wins, each bundle stays whole).
class BRINE_API Store {
 public:
  /// Opens the store at `root`, creating the folder when missing. Throws IoError.
  explicit Store(const std::filesystem::path& root);

  const std::filesystem::path& root() const noexcept { return root_; }

  /// Saves `values` as the bundle `name`, replacing the previous one atomically. Throws
  /// FormatError (unsupported_content) for an invalid name, and as save_bundle_values.
  template <class... Ts>
  void save(const std::string& name, const Ts&... values) {
    save_with(name, BundleSaveOptions{}, values...);
  }
  template <class... Ts>
  void save_with(const std::string& name, BundleSaveOptions options, const Ts&... values) {
    check_name(name);
    const Registry& registry = options.registry ? *options.registry : default_registry();
    std::vector<Value> states;
    states.reserve(sizeof...(Ts));
    (states.push_back(to_state(values, registry)), ...);
    options.store_root = root_;
    save_bundle_values(root_ / name, std::move(states), options);
  }

  /// The values of bundle `name`. Throws IoError when there is none, and as load_bundle.
  std::vector<LoadedValue> load(const std::string& name, BundleLoadOptions options = {}) const;
  /// The names of the bundles, sorted.
  std::vector<std::string> list() const;
  /// Whether bundle `name` exists.
  bool contains(const std::string& name) const;
  /// Removes bundle `name`; returns whether it existed. Throws IoError.
  bool remove(const std::string& name);

  /// Removes what saves and removals killed part-way left behind (hidden temporary folders no
  /// running save holds); returns how many. See remove_stale_bundle_folders().
  std::size_t remove_stale_temp_folders() { return remove_stale_bundle_folders(root_); }

  /// Throws FormatError (unsupported_content) unless `name` can name a bundle: not empty, at
  /// most 200 bytes, no '/', '\\' or NUL, not starting with '.', so never "..", never a path.
  static void check_name(const std::string& name);

 private:
  std::filesystem::path root_;
};

}  // namespace brine
