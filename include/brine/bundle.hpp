// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// bundle.hpp: bundles, folders holding values as one stable archive plus the data files their
// DataPath fields name, loadable without naming a type. See docs/format/bundle.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>
#include <vector>

#include "brine/data_path.hpp"
#include "brine/detail/export.hpp"
#include "brine/error.hpp"
#include "brine/limits.hpp"
#include "brine/registry.hpp"
#include "brine/state.hpp"
#include "brine/types/sequence.hpp"
#include "brine/types/string.hpp"
#include "brine/value.hpp"

namespace brine {

/// Version of the bundle layout (docs/format/bundle.md) this build writes and reads up to.
inline constexpr unsigned bundle_format_version = 1;
/// The largest manifest (brine-bundle.json) a load reads: 64 MiB, room for about 200,000 data
/// files. A larger one is refused (LimitError, limit_exceeded) before it is read.
inline constexpr std::uint64_t kMaxBundleManifestBytes = std::uint64_t{64} << 20;

class LoadedValue;

/// An init function: runs after a bundle load on the top-level value whose state recorded a
/// call to it, with the arguments recorded.
using InitFunction = std::function<void(LoadedValue& value, const Value& args)>;

/// Registers init function `name` in `registry` (as a function named "brine.init:" + name).
/// Throws SchemaError (duplicate_registration) when the name is taken.
BRINE_API void add_init_function(const std::string& name, InitFunction function,
                                 Registry& registry = default_registry());

/// Calls of init functions that an object records, in order, to be run after it is loaded from
/// a bundle (experimaestro's init tasks). Hold one as a field and write it in getstate. The
/// state is `brine.InitCalls` v1 {names: [text], args: [text]}, each argument the JSON
/// rendering (to_json) of its state-model tree.
class BRINE_API InitCalls {
 public:
  BRINE_TYPE("brine.InitCalls", 1);

  /// Records a call of init function `name` with `args`; returns *this to chain calls.
  InitCalls& with_init(std::string name, const Value& args = Value());
  std::size_t size() const noexcept { return names_.size(); }
  const std::vector<std::string>& names() const noexcept { return names_; }
  /// The arguments of call `i`, parsed back into a state-model tree.
  Value args(std::size_t i) const;

  template <class Archive>
  void getstate(Archive& ar) const {
    ar("names", names_)("args", args_);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    ar("names", names_)("args", args_);
  }

 private:
  std::vector<std::string> names_;
  std::vector<std::string> args_;
};

/// Decides how the content of a DataPath gets into a bundle, for a whole save. The default
/// hard-links each file (copies it where the file system refuses the link), copies folders
/// recursively, never creates a symlink, and refuses a symlink inside a folder that leads out
/// of it. Override place() to copy always, to compress, or to choose other names.
class BRINE_API SerializationContext {
 public:
  virtual ~SerializationContext();
  /// Puts the content of `source` (a file or a folder) into the bundle being written at
  /// `bundle_dir`, at `relative_target` or elsewhere under `bundle_dir`, and returns the
  /// relative path it used ('/'-separated, no "..", inside the bundle). Throws IoError.
  virtual std::string place(const std::filesystem::path& source, const std::string& relative_target,
                            const std::filesystem::path& bundle_dir);
  /// What the default place() does: link or copy `source` to `destination`.
  static void link_or_copy(const std::filesystem::path& source,
                           const std::filesystem::path& destination);
};

/// What a bundle-files hook sees of one object being saved, and the choices it makes.
class BRINE_API BundleFiles {
 public:
  explicit BundleFiles(const Object& state) : state_(state) {}
  /// The object's state (its DataPath fields still absolute).
  const Object& state() const noexcept { return state_; }
  /// Stores the content of DataPath field `field` (a direct field of the object) under file
  /// name `name` instead of the source's own name.
  void rename(const std::string& field, std::string name);
  /// Leaves DataPath field `field` out of the bundle: it is recorded as an absolute path.
  void exclude(const std::string& field);
  /// Adds `source`, a file or folder no field names, to the bundle as `name` in the object's
  /// data folder (LoadedValue::extra_files lists it after a load).
  void add(const std::filesystem::path& source, std::string name);

  struct Extra {
    std::filesystem::path source;
    std::string name;
  };
  const std::vector<std::pair<std::string, std::string>>& renamed() const noexcept {
    return renamed_;
  }
  const std::vector<std::string>& excluded() const noexcept { return excluded_; }
  const std::vector<Extra>& extras() const noexcept { return extras_; }

 private:
  const Object& state_;
  std::vector<std::pair<std::string, std::string>> renamed_;
  std::vector<std::string> excluded_;
  std::vector<Extra> extras_;
};

/// A hook choosing the files of objects of one type (experimaestro's __xpm_serialize__).
using BundleFilesHook = std::function<void(const Object& state, BundleFiles& files)>;

/// Registers `hook` for the objects of type `type_name` in `registry` (as a function named
/// "brine.bundle_files:" + type_name). Throws SchemaError when one is already registered.
BRINE_API void add_bundle_files_hook(const std::string& type_name, BundleFilesHook hook,
                                     Registry& registry = default_registry());
/// The same for the registered type T, whose hook sees the object itself (built from the state).
template <class T>
void add_bundle_files_hook(std::function<void(const T&, BundleFiles&)> hook,
                           Registry& registry = default_registry()) {
  const Registry* reg = &registry;
  add_bundle_files_hook(
      std::string(TypeDeclaration<T>::name),
      [hook = std::move(hook), reg](const Object& state, BundleFiles& files) {
        hook(from_state<T>(Value(state), *reg), files);
      },
      registry);
}

/// Options of save_bundle_with.
struct BundleSaveOptions {
  /// Where types and hooks are looked up; default_registry() when null.
  Registry* registry = nullptr;
  /// Places the data files; the default (link or copy) when null. Must outlive the save.
  SerializationContext* context = nullptr;
  /// The root of the Store the bundle belongs to (Store sets it): a DataPath into another
  /// bundle of the store is recorded relative to the root (base `store`), not copied.
  std::filesystem::path store_root;
};

/// Options of load_bundle.
struct BundleLoadOptions {
  /// Build each object value (true, default) or keep only its state tree, a configuration
  /// (experimaestro's as_instance). Init functions run only on instances.
  bool as_instance = true;
  /// Check the size and SHA-256 of every data file against the manifest. Off saves reading
  /// every byte of large weights, at the price of not noticing a changed file.
  bool verify_data_files = true;
  /// Run the recorded init functions after the load (when as_instance).
  bool run_init_functions = true;
  /// Where types and init functions are looked up; default_registry() when null.
  const Registry* registry = nullptr;
  /// The store root that paths with base `store` resolve against (Store sets it).
  std::filesystem::path store_root;
  /// Limits for the values archive.
  LoadOptions load;
  /// For a bundle in a DDUF file (load_bundle_dduf): the folder its data files are extracted
  /// to, created when missing, files of the same names replaced. Empty (default): a private
  /// temporary folder, removed once no LoadedValue of the load holds it any more.
  std::filesystem::path dduf_data_dir;
};

/// One entry of a bundle manifest.
struct BundleValueInfo {
  std::string kind;  ///< kind_name of the value's state ("object", "list", "map"...)
  std::string type;  ///< the type name of an object; empty otherwise
  std::uint32_t version = 0;
};
struct BundleFileInfo {
  std::string path;  ///< relative to the bundle, '/'-separated
  std::uint64_t size = 0;
  std::string sha256;     ///< 64 lowercase hex digits
  std::string role;       ///< "data" (a DataPath's content) or "extra" (a hook's file)
  std::size_t value = 0;  ///< index of the value that owns it
  std::string owner;      ///< field path of the DataPath, or of the object, inside the value
};
/// The manifest, brine-bundle.json.
struct BundleManifest {
  unsigned format_version = 0;
  std::string brine_version;
  std::vector<BundleValueInfo> values;
  std::vector<BundleFileInfo> files;
};

/// One value loaded from a bundle, whose type the caller need not know.
class BRINE_API LoadedValue {
 public:
  LoadedValue(Value state, const Registry& registry, std::filesystem::path bundle_dir,
              LoadOptions options);

  ValueKind kind() const noexcept { return state_.kind(); }
  /// The registered type name of an object value (after aliases and migrations); empty for
  /// other kinds.
  const std::string& type_name() const noexcept { return type_name_; }
  std::uint32_t version() const noexcept { return version_; }
  /// The state tree (a configuration), its DataPaths resolved to absolute paths.
  const Value& state() const noexcept { return state_; }
  /// Whether the object was built (BundleLoadOptions::as_instance, or a get<T>() since).
  bool has_instance() const noexcept { return instance_ != nullptr; }
  /// The folder the value was loaded from; for a DDUF file, the folder its data files were
  /// extracted to (what the value's DataPaths point into).
  const std::filesystem::path& bundle_dir() const noexcept { return bundle_dir_; }
  /// Files a bundle-files hook added for this value: (name, absolute path).
  const std::vector<std::pair<std::string, std::filesystem::path>>& extra_files() const noexcept {
    return extra_files_;
  }

  /// The object, built now when it was not, as a T: its registered type or a registered base.
  /// Throws SchemaError (type_mismatch) naming both types when it is neither, or when the
  /// value is not an object.
  template <class T>
  T& get() {
    return *static_cast<T*>(instance_as(typeid(T), TypeDeclaration<T>::name));
  }
  /// get<T>() as a shared pointer that shares ownership with this value.
  template <class T>
  std::shared_ptr<T> shared() {
    T* p = &get<T>();
    return std::shared_ptr<T>(instance_, p);
  }
  /// A new T built from the state: any type whose codec reads it (a container, a plain value,
  /// an object). Throws SchemaError as from_state does.
  template <class T>
  T as() const {
    return from_state<T>(state_, *registry_, options_);
  }
  /// Builds the object now, when it is an object and not built yet. Throws as from_state.
  void instantiate();

 private:
  friend struct BundleLoader;
  void* instance_as(const std::type_info& type, std::string_view declared_name);

  Value state_;
  const Registry* registry_;
  std::filesystem::path bundle_dir_;
  LoadOptions options_;
  std::string type_name_;
  std::uint32_t version_ = 0;
  std::shared_ptr<void> instance_;
  const TypeInfo* info_ = nullptr;
  std::vector<std::pair<std::string, std::filesystem::path>> extra_files_;
  // For a DDUF load: the temporary folder of the extracted data files, removed with the last
  // value that holds it.
  std::shared_ptr<const void> keep_alive_;
};

/// Writes `states` (state trees, as to_state makes them) as a bundle at folder `dir`,
/// atomically: the bundle is built in a temporary folder next to `dir`, made durable, and
/// swapped with `dir` in one step (renameat2 RENAME_EXCHANGE), so a crash leaves the old
/// bundle or the new one, never a mix. An existing `dir` must be a bundle or empty. Throws
/// IoError, SchemaError, FormatError (unsupported_content: a missing data file, a symlink
/// leading out of a data folder).
BRINE_API void save_bundle_values(const std::filesystem::path& dir, std::vector<Value> states,
                                  const BundleSaveOptions& options = {});

/// Saves `values` (registered objects, containers of them, plain values) as a bundle.
/// Example:
///   brine::save_bundle("runs/model", model, std::map<std::string, Tokenizer>{{"en", en}});
///   auto values = brine::load_bundle("runs/model");
///   Model& m = values[0].get<Model>();
template <class... Ts>
void save_bundle_with(const std::filesystem::path& dir, const BundleSaveOptions& options,
                      const Ts&... values) {
  const Registry& registry = options.registry ? *options.registry : default_registry();
  std::vector<Value> states;
  states.reserve(sizeof...(Ts));
  (states.push_back(to_state(values, registry)), ...);
  save_bundle_values(dir, std::move(states), options);
}
template <class... Ts>
void save_bundle(const std::filesystem::path& dir, const Ts&... values) {
  save_bundle_with(dir, BundleSaveOptions{}, values...);
}

/// Loads the values of the bundle at `dir`, in order (a regular file at `dir` is taken for
/// the DDUF form of a bundle and loaded by load_bundle_dduf, bundle_dduf.hpp), without naming their
/// types: checks the manifest, the data files' sizes and SHA-256, resolves every DataPath against
/// its base, builds the objects (options.as_instance) and runs their init functions. Throws
/// FormatError (corrupt_data for a broken manifest or archive, checksum_mismatch for a changed data
/// file, unsupported_content for a path that leaves its base), VersionError for a newer bundle
/// format, SchemaError for an unknown type or an unregistered init function (before any init
/// function runs), IoError.
BRINE_API std::vector<LoadedValue> load_bundle(const std::filesystem::path& dir,
                                               const BundleLoadOptions& options = {});

/// Reads and checks brine-bundle.json. Throws FormatError, VersionError, IoError.
BRINE_API BundleManifest read_bundle_manifest(const std::filesystem::path& dir);
/// Whether `dir` is a folder holding a brine-bundle.json manifest (its content unchecked).
BRINE_API bool is_bundle(const std::filesystem::path& dir) noexcept;
/// Whether `name` (a file name) is one of the hidden folders a bundle save or a
/// Store::remove uses: `.<name>.bundle-tmp.*`, `.<name>.bundle-old.*`, `.<name>.bundle-removed.*`.
BRINE_API bool is_bundle_temp_folder_name(std::string_view name) noexcept;
/// Removes the hidden folders that saves or removals killed part-way left in `parent` (the
/// folder holding the bundles), and only those no running save holds locked. Returns how
/// many it removed. Throws IoError.
BRINE_API std::size_t remove_stale_bundle_folders(const std::filesystem::path& parent);
/// Checks the whole bundle, data files and archive, building nothing (a DDUF file too, as
/// load_bundle takes it). Throws as load_bundle.
BRINE_API void verify_bundle(const std::filesystem::path& dir,
                             const BundleLoadOptions& options = {});

}  // namespace brine
