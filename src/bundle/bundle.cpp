// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// bundle/bundle.cpp: saving and loading bundles (docs/format/bundle.md): the data files of
// DataPath fields, the manifest, the atomic folder swap, path bases, init functions.

#include "brine/bundle.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>  // renameat2 (glibc 2.28)
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <system_error>

#include "brine/bundle_dduf.hpp"
#include "brine/io.hpp"
#include "brine/stable.hpp"
#include "brine/version.hpp"
#include "bundle/bundle_internal.hpp"
#include "bundle/paths.hpp"

namespace brine {

namespace fs = std::filesystem;

/// What the loader sets on a LoadedValue that its constructor does not.
struct BundleLoader {
  static void add_extra(LoadedValue& value, std::string name, fs::path path) {
    value.extra_files_.emplace_back(std::move(name), std::move(path));
  }
  static void keep_alive(LoadedValue& value, std::shared_ptr<const void> keep) {
    value.keep_alive_ = std::move(keep);
  }
};

namespace {

constexpr const char* kManifestName = "brine-bundle.json";
constexpr const char* kValuesName = "values.brine";
constexpr const char* kDataPathType = "brine.DataPath";
constexpr const char* kInitCallsType = "brine.InitCalls";
constexpr const char* kInitPrefix = "brine.init:";
constexpr const char* kHookPrefix = "brine.bundle_files:";

using InitSignature = void(LoadedValue&, const Value&);
using HookSignature = void(const Object&, BundleFiles&);

[[noreturn]] void fail(errc code, const std::string& message, const fs::path& where) {
  ErrorContext context;
  context.source = where.string();
  detail::throw_error(code, message, context);
}

[[noreturn]] void io_fail(const std::string& what, const fs::path& path, int err = errno) {
  ErrorContext where;
  where.source = path.string();
  detail::throw_io_error(what, std::error_code(err, std::generic_category()), where);
}

[[noreturn]] void io_fail(const std::string& what, const fs::path& path, std::error_code ec) {
  ErrorContext where;
  where.source = path.string();
  detail::throw_io_error(what, ec, where);
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

void fsync_path(const fs::path& path, bool directory) {
  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0));
  if (f.fd < 0) io_fail("cannot open to make the bundle durable", path);
  if (::fsync(f.fd) != 0 && errno != EINVAL) io_fail("cannot fsync", path);
}

/// Every file and folder under `dir`, then `dir`: a rename of the folder publishes only what
/// reached the disk.
void fsync_tree(const fs::path& dir) {
  std::vector<fs::path> dirs;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
       ++it) {
    if (it->is_symlink()) continue;
    if (it->is_directory())
      dirs.push_back(it->path());
    else if (it->is_regular_file())
      fsync_path(it->path(), false);
  }
  for (auto d = dirs.rbegin(); d != dirs.rend(); ++d) fsync_path(*d, true);
  fsync_path(dir, true);
}

std::string random_hex() {
  std::random_device rd;
  std::uint64_t r = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(r));
  return buf;
}

std::string sanitize_component(const std::string& name) {
  std::string out;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    out += ok ? c : '_';
  }
  if (out.empty() || out == "." || out == "..") out = "_";
  // A leading dot would hide the file and could look like a temporary folder.
  if (out[0] == '.') out[0] = '_';
  return out;
}

const Value* field_of(const Object& o, std::string_view name) { return o.find(name); }

std::string text_field(const Object& o, std::string_view name, const fs::path& where) {
  const Value* v = field_of(o, name);
  if (v == nullptr || v->kind() != ValueKind::text)
    fail(errc::corrupt_data, "a 'brine.DataPath' without a text field '" + std::string(name) + "'",
         where);
  return v->as_text();
}

std::string path_field(const Object& o, const fs::path& where) {
  const Value* v = field_of(o, "path");
  if (v != nullptr && v->kind() == ValueKind::path) return v->as_path().generic;
  if (v != nullptr && v->kind() == ValueKind::text) return v->as_text();
  fail(errc::corrupt_data, "a 'brine.DataPath' without a field 'path'", where);
}

void set_data_path(Object& o, PathBase base, const std::string& path) {
  o.set("base", Value(std::string(to_string(base))));
  o.set("path", Value(PathValue{path}));
}

std::string hex_of(const unsigned char* digest, unsigned length) {
  static const char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

/// SHA-256 and size of a file, read in 1 MiB pieces.
std::pair<std::string, std::uint64_t> sha256_file(const fs::path& path) {
  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd < 0) io_fail("cannot open the data file", path);
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    detail::throw_error(errc::internal_error, "SHA-256 is not available");
  std::vector<char> buf(1 << 20);
  std::uint64_t size = 0;
  for (;;) {
    ssize_t n = ::read(f.fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      io_fail("cannot read the data file", path);
    }
    if (n == 0) break;
    size += static_cast<std::uint64_t>(n);
    EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(n));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &length);
  return {hex_of(digest, length), size};
}

const Registry& registry_of(const BundleSaveOptions& o) {
  return o.registry ? *o.registry : default_registry();
}

// ----------------------------------------------------------------------------------------
// Saving.

class SaveWalker {
 public:
  SaveWalker(const Registry& registry, SerializationContext& context, fs::path temp_dir,
             fs::path store_root, std::string bundle_name)
      : registry_(registry),
        context_(context),
        temp_dir_(std::move(temp_dir)),
        store_root_(std::move(store_root)),
        bundle_name_(std::move(bundle_name)) {}

  void value(Value& state, std::size_t index) {
    index_ = index;
    walk(state, "", nullptr);
  }
  std::vector<BundleFileInfo>& files() { return files_; }

 private:
  struct Choice {
    std::string name;
    bool excluded = false;
  };

  void walk(Value& v, const std::string& where, const Choice* choice) {
    switch (v.kind()) {
      case ValueKind::list: {
        auto& list = v.as_list();
        for (std::size_t i = 0; i < list.size(); ++i)
          walk(list[i], join(where, std::to_string(i)), nullptr);
        return;
      }
      case ValueKind::map:
        for (auto& [key, child] : v.as_map())
          walk(child, join(where, sanitize_component(key)), nullptr);
        return;
      case ValueKind::object:
        return object(v.as_object(), where, choice);
      default:
        return;
    }
  }

  static std::string join(const std::string& a, const std::string& b) {
    return a.empty() ? b : a + "/" + b;
  }

  void object(Object& o, const std::string& where, const Choice* choice) {
    if (o.type == kDataPathType) return data_path(o, where, choice);
    std::vector<std::pair<std::string, Choice>> choices;
    if (const FunctionInfo* hook = registry_.find_function(kHookPrefix + o.type);
        hook != nullptr && *hook->signature == typeid(HookSignature)) {
      BundleFiles files(o);
      (*static_cast<const std::function<HookSignature>*>(hook->callable.get()))(o, files);
      for (const auto& [field, name] : files.renamed()) choices.push_back({field, {name, false}});
      for (const auto& field : files.excluded()) choices.push_back({field, {"", true}});
      for (const auto& extra : files.extras())
        place(extra.source, join(where, sanitize_component(extra.name)), "extra", where);
    }
    for (Field& f : o.fields) {
      const Choice* c = nullptr;
      for (const auto& [field, ch] : choices)
        if (field == f.name) c = &ch;
      walk(f.value, join(where, sanitize_component(f.name)), c);
    }
  }

  void data_path(Object& o, const std::string& where, const Choice* choice) {
    fs::path bundle_where = temp_dir_;
    std::string base = text_field(o, "base", bundle_where);
    std::string recorded = path_field(o, bundle_where);
    if (recorded.empty() || (choice && choice->excluded)) return;
    fs::path source;
    if (base == "absolute") {
      source = fs::path(recorded);
    } else if (base == "store" && !store_root_.empty()) {
      source = store_root_ / fs::path(recorded);
    } else {
      fail(errc::unsupported_content,
           "data path '" + recorded + "' at '" + where + "' of value " + std::to_string(index_) +
               " is relative to a " + base + " this save does not know: load it from its " + base +
               " first",
           temp_dir_);
    }
    std::error_code ec;
    fs::path canonical = fs::canonical(source, ec);
    if (ec)
      io_fail(
          "data file of field '" + where + "' of value " + std::to_string(index_) + " is missing",
          source, ec);
    // Copying a folder that holds the bundle being written would copy the copy, forever.
    if (bundle_paths::is_within(fs::weakly_canonical(temp_dir_), canonical))
      fail(errc::unsupported_content,
           "data folder '" + canonical.string() + "' of field '" + where + "' of value " +
               std::to_string(index_) + " holds the bundle being saved",
           canonical);
    if (!store_root_.empty()) {
      // A path into another bundle of the same store stays where it is, store-relative; one
      // into the bundle being replaced is copied, since that bundle goes away.
      fs::path rel = canonical.lexically_relative(store_root_);
      if (!rel.empty() && *rel.begin() != ".." && *rel.begin() != "." &&
          rel.begin()->string() != bundle_name_ && rel.begin()->string()[0] != '.' &&
          std::distance(rel.begin(), rel.end()) > 1) {
        set_data_path(o, PathBase::store, rel.generic_string());
        return;
      }
    }
    std::string name = choice && !choice->name.empty()
                           ? sanitize_component(choice->name)
                           : sanitize_component(canonical.filename().string());
    std::string target = where.empty() ? name : join(where, name);
    std::string used = place(canonical, target, "data", where);
    set_data_path(o, PathBase::bundle, used);
  }

  std::string place(const fs::path& source, const std::string& under_value, const char* role,
                    const std::string& owner) {
    std::string target = "data/" + std::to_string(index_) + "/" + under_value;
    // Two fields whose names sanitize alike get distinct folders.
    if (!used_.insert(target).second) {
      for (int i = 1;; ++i) {
        std::string t = target + "~" + std::to_string(i);
        if (used_.insert(t).second) {
          target = t;
          break;
        }
      }
    }
    std::string used = context_.place(source, target, temp_dir_);
    fs::path placed = bundle_paths::resolve_inside(temp_dir_, used, "bundle", temp_dir_);
    auto record = [&](const fs::path& file) {
      auto [sha, size] = sha256_file(file);
      BundleFileInfo info;
      info.path = file.lexically_relative(temp_dir_).generic_string();
      info.size = size;
      info.sha256 = sha;
      info.role = role;
      info.value = index_;
      info.owner = owner;
      files_.push_back(std::move(info));
    };
    if (fs::is_directory(placed)) {
      std::vector<fs::path> all;
      for (auto& e : fs::recursive_directory_iterator(placed))
        if (e.is_regular_file()) all.push_back(e.path());
      std::sort(all.begin(), all.end());
      for (auto& f : all) record(f);
    } else {
      record(placed);
    }
    return used;
  }

  const Registry& registry_;
  SerializationContext& context_;
  fs::path temp_dir_;
  fs::path store_root_;
  std::string bundle_name_;
  std::size_t index_ = 0;
  std::set<std::string> used_;
  std::vector<BundleFileInfo> files_;
};

nlohmann::json manifest_json(const std::vector<Value>& states,
                             const std::vector<BundleFileInfo>& files) {
  nlohmann::json m;
  m["format"] = "brine-bundle";
  m["format_version"] = bundle_format_version;
  m["brine_version"] = BRINE_VERSION_STRING;
  m["archive"] = kValuesName;
  nlohmann::json values = nlohmann::json::array();
  for (const Value& s : states) {
    nlohmann::json v;
    v["kind"] = kind_name(s.kind());
    if (s.kind() == ValueKind::object) {
      v["type"] = s.as_object().type;
      v["version"] = s.as_object().version;
    }
    values.push_back(std::move(v));
  }
  m["values"] = std::move(values);
  nlohmann::json list = nlohmann::json::array();
  for (const BundleFileInfo& f : files) {
    list.push_back({{"path", f.path},
                    {"size", f.size},
                    {"sha256", f.sha256},
                    {"role", f.role},
                    {"value", f.value},
                    {"owner", f.owner}});
  }
  m["files"] = std::move(list);
  return m;
}

/// Replaces `dir` by `temp` in one step. The old bundle, if any, ends up under `temp`'s name
/// and is removed after the swap is durable.
void swap_into_place(const fs::path& temp, const fs::path& dir) {
  fs::path parent = dir.parent_path();
  if (fs::exists(fs::symlink_status(dir))) {
    if (::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE) != 0) {
      if (errno != EINVAL && errno != ENOSYS) io_fail("cannot swap the new bundle into place", dir);
      // A file system without RENAME_EXCHANGE: two renames, with a short window in which
      // `dir` is missing (never half-written).
      fs::path old = parent / ("." + dir.filename().string() + ".bundle-old." + random_hex());
      if (::rename(dir.c_str(), old.c_str()) != 0) io_fail("cannot move the old bundle aside", dir);
      if (::rename(temp.c_str(), dir.c_str()) != 0) io_fail("cannot move the new bundle in", dir);
      fsync_path(parent, true);
      std::error_code ec;
      fs::remove_all(old, ec);
      return;
    }
    fsync_path(parent, true);
    std::error_code ec;
    fs::remove_all(temp, ec);  // the old bundle now; a failure leaves a hidden folder only
  } else {
    if (::rename(temp.c_str(), dir.c_str()) != 0) io_fail("cannot move the new bundle in", dir);
    fsync_path(parent, true);
  }
}

// ----------------------------------------------------------------------------------------
// Loading.

struct InitCall {
  std::string name;
  std::string args;
  const FunctionInfo* function = nullptr;
};

class LoadWalker {
 public:
  LoadWalker(const fs::path& bundle_dir, const fs::path& store_root, std::size_t index)
      : dir_(bundle_dir), store_root_(store_root), index_(index) {}

  void walk(Value& v, const std::string& where) {
    switch (v.kind()) {
      case ValueKind::list: {
        auto& list = v.as_list();
        for (std::size_t i = 0; i < list.size(); ++i)
          walk(list[i], where + "[" + std::to_string(i) + "]");
        return;
      }
      case ValueKind::map:
        for (auto& [key, child] : v.as_map()) walk(child, where.empty() ? key : where + "." + key);
        return;
      case ValueKind::object: {
        Object& o = v.as_object();
        if (o.type == kDataPathType) return data_path(o, where);
        if (o.type == kInitCallsType) init_calls(o, where);
        for (Field& f : o.fields) walk(f.value, where.empty() ? f.name : where + "." + f.name);
        return;
      }
      default:
        return;
    }
  }
  std::vector<InitCall>& calls() { return calls_; }

 private:
  void data_path(Object& o, const std::string& where) {
    std::string base = text_field(o, "base", dir_);
    std::string recorded = path_field(o, dir_);
    std::string what = "data path '" + recorded + "' of value " + std::to_string(index_) +
                       (where.empty() ? "" : " at '" + where + "'");
    if (base == "absolute") {
      if (!recorded.empty() && !fs::path(recorded).is_absolute())
        fail(errc::unsupported_content, what + " is recorded as absolute but is relative", dir_);
      return;
    }
    fs::path resolved;
    if (base == "bundle") {
      resolved = bundle_paths::resolve_inside(dir_, recorded, "bundle", dir_, what);
    } else if (base == "store") {
      if (store_root_.empty())
        fail(errc::unsupported_content,
             what + " is relative to a store: load the bundle through brine::Store", dir_);
      resolved = bundle_paths::resolve_inside(store_root_, recorded, "store", dir_, what);
    } else {
      fail(errc::corrupt_data, what + " has an unknown base '" + base + "'", dir_);
    }
    set_data_path(o, PathBase::absolute, resolved.generic_string());
  }

  void init_calls(const Object& o, const std::string& where) {
    const Value* names = o.find("names");
    const Value* args = o.find("args");
    if (names == nullptr || args == nullptr || names->kind() != ValueKind::list ||
        args->kind() != ValueKind::list || names->as_list().size() != args->as_list().size())
      fail(errc::corrupt_data,
           "malformed 'brine.InitCalls' of value " + std::to_string(index_) + " at '" + where + "'",
           dir_);
    for (std::size_t i = 0; i < names->as_list().size(); ++i)
      calls_.push_back({names->as_list()[i].as_text(), args->as_list()[i].as_text(), nullptr});
  }

  fs::path dir_;
  fs::path store_root_;
  std::size_t index_;
  std::vector<InitCall> calls_;
};

/// CBOR cannot tell a non-negative signed integer from an unsigned one.
bool same_kind(const std::string& listed, const std::string& found) {
  auto integer = [](const std::string& k) {
    return k == "signed_integer" || k == "unsigned_integer";
  };
  return listed == found || (integer(listed) && integer(found));
}

template <class T>
T json_get(const nlohmann::json& j, const char* key, const fs::path& where) {
  auto it = j.find(key);
  if (it == j.end()) fail(errc::corrupt_data, std::string("manifest lacks '") + key + "'", where);
  try {
    return it->get<T>();
  } catch (const nlohmann::json::type_error&) {
    fail(errc::corrupt_data, std::string("manifest field '") + key + "' has the wrong type", where);
  } catch (const nlohmann::json::out_of_range&) {
    fail(errc::corrupt_data, std::string("manifest field '") + key + "' is out of range", where);
  }
}

}  // namespace

namespace bundle_internal {

std::pair<BundleManifest, std::vector<Value>> read_checked(const fs::path& dir,
                                                           const BundleLoadOptions& options) {
  BundleManifest manifest = read_bundle_manifest(dir);

  if (options.verify_data_files) {
    for (const BundleFileInfo& f : manifest.files) {
      std::string what = "data file '" + f.path + "'";
      fs::path p = bundle_paths::resolve_inside(dir, f.path, "bundle", dir, what);
      std::error_code ec;
      if (!fs::is_regular_file(p, ec))
        io_fail(what + " of the manifest is missing", p,
                std::make_error_code(std::errc::no_such_file_or_directory));
      auto [sha, size] = sha256_file(p);
      if (size != f.size)
        fail(errc::checksum_mismatch,
             what + " holds " + std::to_string(size) + " bytes, the manifest says " +
                 std::to_string(f.size),
             dir);
      if (sha != f.sha256)
        fail(errc::checksum_mismatch, what + " does not match its SHA-256 in the manifest", dir);
    }
  }

  fs::path archive = dir / kValuesName;
  std::string bytes = read_file(archive);
  std::vector<Value> states;
  try {
    states = read_stable_values(bytes, options.load);
  } catch (Error& e) {
    detail::note_error_source(e, archive.string());
    throw;
  }
  if (states.size() != manifest.values.size())
    fail(errc::corrupt_data,
         "the archive holds " + std::to_string(states.size()) + " values, the manifest lists " +
             std::to_string(manifest.values.size()),
         archive);
  for (std::size_t i = 0; i < states.size(); ++i) {
    const BundleValueInfo& listed = manifest.values[i];
    bool is_object = states[i].kind() == ValueKind::object;
    if (!same_kind(listed.kind, kind_name(states[i].kind())) ||
        (is_object && listed.type != states[i].as_object().type))
      fail(errc::corrupt_data,
           "value " + std::to_string(i) + " of the archive is not the " + listed.kind + " " +
               listed.type + " the manifest lists",
           archive);
  }
  return {std::move(manifest), std::move(states)};
}

std::pair<std::string, std::uint64_t> file_sha256(const fs::path& path) {
  return sha256_file(path);
}

std::string bytes_sha256(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1)
    detail::throw_error(errc::internal_error, "SHA-256 is not available");
  return hex_of(digest, length);
}

std::vector<BundleFileInfo> place_data_files(Value& state, std::size_t index, const fs::path& dir,
                                             const Registry& registry,
                                             SerializationContext& context) {
  SaveWalker walker(registry, context, dir, fs::path(), std::string());
  walker.value(state, index);
  return std::move(walker.files());
}

void resolve_data_paths(Value& state, std::size_t index, const fs::path& dir) {
  LoadWalker walker(dir, fs::path(), index);
  walker.walk(state, "");
}

std::vector<LoadedValue> finish_load(std::vector<Value> states, const fs::path& dir,
                                     const std::string& source,
                                     const std::vector<std::pair<std::size_t, std::string>>& extras,
                                     const BundleLoadOptions& options,
                                     std::shared_ptr<const void> keep_alive) {
  const Registry& registry = options.registry ? *options.registry : default_registry();
  const fs::path archive = source;
  std::vector<std::vector<InitCall>> calls(states.size());
  for (std::size_t i = 0; i < states.size(); ++i) {
    try {
      registry.upgrade(states[i], options.load);
    } catch (Error& e) {
      detail::note_error_source(e, archive.string());
      throw;
    }
    LoadWalker walker(dir, options.store_root, i);
    walker.walk(states[i], "");
    calls[i] = std::move(walker.calls());
  }

  bool run = options.as_instance && options.run_init_functions;
  if (run) {
    // Every init function is looked up before any object is built or any function runs, so
    // a program missing one changes nothing.
    for (std::size_t i = 0; i < calls.size(); ++i)
      for (InitCall& c : calls[i]) {
        const FunctionInfo* f = registry.find_function(kInitPrefix + c.name);
        if (f == nullptr || *f->signature != typeid(InitSignature))
          fail(errc::unknown_type,
               "init function '" + c.name + "' recorded by value " + std::to_string(i) +
                   " is not registered in this program (brine::add_init_function); no init "
                   "function ran",
               dir);
        c.function = f;
      }
  }

  std::vector<LoadedValue> out;
  out.reserve(states.size());
  for (std::size_t i = 0; i < states.size(); ++i)
    out.emplace_back(std::move(states[i]), registry, dir, options.load);
  for (const auto& [index, path] : extras)
    if (index < out.size()) BundleLoader::add_extra(out[index], path, dir / fs::path(path));
  if (keep_alive)
    for (LoadedValue& v : out) BundleLoader::keep_alive(v, keep_alive);
  if (options.as_instance)
    for (LoadedValue& v : out) v.instantiate();
  if (run)
    for (std::size_t i = 0; i < calls.size(); ++i)
      for (const InitCall& c : calls[i]) {
        Value args = value_from_json(c.args);
        (*static_cast<const std::function<InitSignature>*>(c.function->callable.get()))(out[i],
                                                                                        args);
      }
  return out;
}

}  // namespace bundle_internal

// ----------------------------------------------------------------------------------------

void add_init_function(const std::string& name, InitFunction function, Registry& registry) {
  registry.add_callable<InitSignature>(kInitPrefix + name, std::move(function));
}

InitCalls& InitCalls::with_init(std::string name, const Value& args) {
  JsonOptions one_line;
  one_line.indent = -1;
  std::string json = to_json(args, one_line);
  names_.push_back(std::move(name));
  args_.push_back(std::move(json));
  return *this;
}

Value InitCalls::args(std::size_t i) const { return value_from_json(args_.at(i)); }

SerializationContext::~SerializationContext() = default;

std::string SerializationContext::place(const fs::path& source, const std::string& relative_target,
                                        const fs::path& bundle_dir) {
  fs::path destination = bundle_dir / fs::path(relative_target);
  std::error_code ec;
  fs::create_directories(destination.parent_path(), ec);
  if (ec) io_fail("cannot create a data folder", destination.parent_path(), ec);
  link_or_copy(source, destination);
  return relative_target;
}

void SerializationContext::link_or_copy(const fs::path& source, const fs::path& destination) {
  std::error_code ec;
  auto link_file = [&](const fs::path& from, const fs::path& to) {
    fs::create_hard_link(from, to, ec);
    if (!ec) return;
    // Another file system, or one without hard links: a copy.
    ec.clear();
    fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
    if (ec) io_fail("cannot copy a data file into the bundle", from, ec);
  };
  fs::path canonical_source = fs::canonical(source, ec);
  if (ec) io_fail("cannot find the data file", source, ec);
  if (!fs::is_directory(canonical_source)) return link_file(canonical_source, destination);

  fs::create_directories(destination, ec);
  if (ec) io_fail("cannot create a data folder", destination, ec);
  for (auto it = fs::recursive_directory_iterator(canonical_source);
       it != fs::recursive_directory_iterator(); ++it) {
    fs::path rel = it->path().lexically_relative(canonical_source);
    fs::path to = destination / rel;
    if (it->is_symlink()) {
      // Followed only when it stays inside the folder: a link out of it would copy files the
      // object does not own (an escape on save, as `..` is on load).
      fs::path target = fs::canonical(it->path(), ec);
      if (ec || !bundle_paths::is_within(target, canonical_source))
        fail(errc::unsupported_content,
             "symlink '" + it->path().string() + "' in data folder '" + canonical_source.string() +
                 "' leads outside it",
             canonical_source);
      if (fs::is_directory(target))
        fail(errc::unsupported_content,
             "symlink '" + it->path().string() + "' to a folder in data folder '" +
                 canonical_source.string() + "': brine copies files, not links to folders",
             canonical_source);
      link_file(target, to);
    } else if (it->is_directory()) {
      fs::create_directories(to, ec);
      if (ec) io_fail("cannot create a data folder", to, ec);
    } else if (it->is_regular_file()) {
      link_file(it->path(), to);
    }
  }
}

void BundleFiles::rename(const std::string& field, std::string name) {
  renamed_.emplace_back(field, std::move(name));
}
void BundleFiles::exclude(const std::string& field) { excluded_.push_back(field); }
void BundleFiles::add(const fs::path& source, std::string name) {
  extras_.push_back({source, std::move(name)});
}

void add_bundle_files_hook(const std::string& type_name, BundleFilesHook hook, Registry& registry) {
  registry.add_callable<HookSignature>(kHookPrefix + type_name, std::move(hook));
}

LoadedValue::LoadedValue(Value state, const Registry& registry, fs::path bundle_dir,
                         LoadOptions options)
    : state_(std::move(state)),
      registry_(&registry),
      bundle_dir_(std::move(bundle_dir)),
      options_(std::move(options)) {
  if (state_.kind() == ValueKind::object) {
    type_name_ = state_.as_object().type;
    version_ = state_.as_object().version;
    info_ = registry.find(type_name_);
  }
}

void LoadedValue::instantiate() {
  if (instance_ || state_.kind() != ValueKind::object) return;
  const TypeInfo& info = registry_->at(type_name_);
  info_ = &info;
  if (info.ops().make_shared == nullptr)
    detail::throw_error(errc::unknown_type,
                        "type '" + type_name_ + "' is abstract: it cannot be built");
  std::shared_ptr<void> object = info.ops().make_shared();
  StateReader reader(state_, *registry_, options_, nullptr, bundle_dir_.string());
  reader.read_root_object(info.ops(), object.get());
  instance_ = std::move(object);
}

void* LoadedValue::instance_as(const std::type_info& type, std::string_view declared_name) {
  if (state_.kind() != ValueKind::object)
    detail::throw_error(errc::type_mismatch,
                        "bundle value is a " + std::string(kind_name(state_.kind())) +
                            ", not an object of type '" + std::string(declared_name) + "'");
  instantiate();
  if (info_->cpp_type() == type) return instance_.get();
  if (void* p = registry_->upcast(*info_, type, instance_.get())) return p;
  detail::throw_error(errc::type_mismatch, "bundle value is a '" + type_name_ + "' v" +
                                               std::to_string(version_) + ", not a '" +
                                               std::string(declared_name) + "'");
}

void save_bundle_values(const fs::path& dir_in, std::vector<Value> states,
                        const BundleSaveOptions& options) {
  fs::path dir = fs::absolute(dir_in).lexically_normal();
  if (!dir.has_filename()) dir = dir.parent_path();
  std::error_code ec;
  auto status = fs::symlink_status(dir, ec);
  if (fs::exists(status)) {
    if (!fs::is_directory(status) || (!is_bundle(dir) && !fs::is_empty(dir, ec)))
      io_fail("refusing to replace a folder that is not a bundle", dir,
              std::make_error_code(std::errc::file_exists));
  }
  fs::path parent = dir.parent_path();
  fs::create_directories(parent, ec);
  if (ec) io_fail("cannot create the bundle's parent folder", parent, ec);

  fs::path temp = parent / ("." + dir.filename().string() + ".bundle-tmp." +
                            std::to_string(::getpid()) + "." + random_hex());
  if (!fs::create_directory(temp, ec) || ec)
    io_fail("cannot create the temporary bundle", temp, ec);
  // Held until the save returns: remove_stale_bundle_folders() leaves a locked folder alone,
  // and the kernel releases the lock of a process that dies, even by SIGKILL.
  Fd lock;
  lock.fd = ::open(temp.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (lock.fd < 0 || ::flock(lock.fd, LOCK_EX | LOCK_NB) != 0)
    io_fail("cannot lock the temporary bundle", temp);
  struct Cleanup {
    fs::path path;
    ~Cleanup() {
      std::error_code e;
      if (!path.empty()) fs::remove_all(path, e);
    }
  } cleanup{temp};

  SerializationContext default_context;
  SerializationContext& context = options.context ? *options.context : default_context;
  fs::path store_root;
  if (!options.store_root.empty()) store_root = fs::canonical(options.store_root);
  SaveWalker walker(registry_of(options), context, temp, store_root, dir.filename().string());
  for (std::size_t i = 0; i < states.size(); ++i) walker.value(states[i], i);

  {
    Registry& registry = options.registry ? *options.registry : default_registry();
    AtomicFileSink sink(temp / kValuesName);
    StableWriter writer(sink, registry);
    for (const Value& s : states) writer.write_value(s);
    writer.finish();
    sink.commit();
  }
  write_file_atomically(temp / kManifestName, manifest_json(states, walker.files()).dump(2) + "\n");
  fsync_tree(temp);
  swap_into_place(temp, dir);
  cleanup.path.clear();
}

BundleManifest read_bundle_manifest(const fs::path& dir) {
  fs::path path = dir / kManifestName;
  // The parsed document costs several times its bytes: bound them before reading, so that a
  // hostile manifest cannot make the loader hold more than a known multiple of a known size.
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(path, ec);
  if (!ec && size > kMaxBundleManifestBytes)
    fail(errc::limit_exceeded,
         "the bundle manifest holds " + std::to_string(size) + " bytes, more than the " +
             std::to_string(kMaxBundleManifestBytes) + " a manifest may hold",
         path);
  std::string text = read_file(path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    // Not only parse_error: a number beyond double's range (1e4649) is out_of_range.
    fail(errc::corrupt_data, std::string("the bundle manifest is not valid JSON: ") + e.what(),
         path);
  }
  if (!j.is_object()) fail(errc::corrupt_data, "the bundle manifest is not a JSON object", path);
  if (json_get<std::string>(j, "format", path) != "brine-bundle")
    fail(errc::corrupt_data, "the manifest's format is not 'brine-bundle'", path);
  BundleManifest m;
  m.format_version = json_get<unsigned>(j, "format_version", path);
  if (m.format_version > bundle_format_version)
    fail(errc::newer_format_version,
         "bundle format version " + std::to_string(m.format_version) + ", this build reads up to " +
             std::to_string(bundle_format_version) + ": upgrade the program",
         path);
  m.brine_version = json_get<std::string>(j, "brine_version", path);
  auto values = json_get<std::vector<nlohmann::json>>(j, "values", path);
  for (const auto& v : values) {
    if (!v.is_object()) fail(errc::corrupt_data, "a manifest value is not an object", path);
    BundleValueInfo info;
    info.kind = json_get<std::string>(v, "kind", path);
    if (v.contains("type")) {
      info.type = json_get<std::string>(v, "type", path);
      info.version = json_get<std::uint32_t>(v, "version", path);
    }
    m.values.push_back(std::move(info));
  }
  auto files = json_get<std::vector<nlohmann::json>>(j, "files", path);
  for (const auto& f : files) {
    if (!f.is_object()) fail(errc::corrupt_data, "a manifest file is not an object", path);
    BundleFileInfo info;
    info.path = json_get<std::string>(f, "path", path);
    info.size = json_get<std::uint64_t>(f, "size", path);
    info.sha256 = json_get<std::string>(f, "sha256", path);
    info.role = json_get<std::string>(f, "role", path);
    info.value = json_get<std::size_t>(f, "value", path);
    info.owner = json_get<std::string>(f, "owner", path);
    // Checked here too, so that a tool listing the files never names one outside the bundle.
    bundle_paths::check_relative(info.path, "bundle", path, "data file '" + info.path + "'");
    m.files.push_back(std::move(info));
  }
  return m;
}

bool is_bundle_temp_folder_name(std::string_view name) noexcept {
  if (name.size() < 2 || name[0] != '.') return false;
  for (const char* marker : {".bundle-tmp.", ".bundle-old.", ".bundle-removed."})
    if (name.find(marker) != std::string_view::npos) return true;
  return false;
}

std::size_t remove_stale_bundle_folders(const fs::path& parent) {
  std::size_t removed = 0;
  std::error_code ec;
  std::vector<fs::path> candidates;
  for (auto it = fs::directory_iterator(parent, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::error_code e2;
    if (is_bundle_temp_folder_name(it->path().filename().string()) && !it->is_symlink(e2) &&
        it->is_directory(e2))
      candidates.push_back(it->path());
  }
  if (ec) io_fail("cannot list the folder", parent, ec);
  for (const fs::path& folder : candidates) {
    Fd f;
    f.fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (f.fd < 0) continue;  // gone meanwhile
    // A save in progress holds the lock: its folder is not stale.
    if (::flock(f.fd, LOCK_EX | LOCK_NB) != 0) continue;
    fs::remove_all(folder, ec);
    if (ec) io_fail("cannot remove a stale temporary bundle", folder, ec);
    ++removed;
  }
  return removed;
}

bool is_bundle(const fs::path& dir) noexcept {
  std::error_code ec;
  return fs::is_directory(dir, ec) && fs::is_regular_file(dir / kManifestName, ec);
}

namespace {

std::vector<LoadedValue> load_impl(const fs::path& dir_in, const BundleLoadOptions& options) {
  fs::path dir = fs::absolute(dir_in).lexically_normal();
  if (dir.has_filename() == false) dir = dir.parent_path();
  auto [manifest, states] = bundle_internal::read_checked(dir, options);
  std::vector<std::pair<std::size_t, std::string>> extras;
  for (const BundleFileInfo& f : manifest.files)
    if (f.role == "extra") extras.emplace_back(f.value, f.path);
  return bundle_internal::finish_load(std::move(states), dir, (dir / kValuesName).string(), extras,
                                      options, nullptr);
}

}  // namespace

std::vector<LoadedValue> load_bundle(const fs::path& dir, const BundleLoadOptions& options) {
  // A regular file is the DDUF form (docs/format/bundle.md §10); a folder the ordinary one.
  std::error_code ec;
  if (fs::is_regular_file(dir, ec)) return load_bundle_dduf(dir, options);
  return load_impl(dir, options);
}

void verify_bundle(const fs::path& dir, const BundleLoadOptions& options) {
  BundleLoadOptions o = options;
  o.as_instance = false;
  o.run_init_functions = false;
  o.verify_data_files = true;
  load_bundle(dir, o);  // a DDUF file too: its data files are then extracted and checked
}

}  // namespace brine
