// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// bundle/bundle_dduf.cpp: the DDUF form of a bundle (docs/format/bundle.md §10): export from a
// bundle folder, load with tensors mapped from the file, import back into a folder.

#include "brine/bundle_dduf.hpp"

#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <system_error>

#include "brine/io.hpp"
#include "brine/safetensors.hpp"
#include "brine/stable.hpp"
#include "brine/version.hpp"
#include "bundle/bundle_internal.hpp"
#include "bundle/paths.hpp"
#include "state/json_document.hpp"
#include "state/nesting.hpp"
#include "tensor/tensor_refs.hpp"

namespace brine {

namespace fs = std::filesystem;

namespace {

constexpr const char* kIndex = "model_index.json";
constexpr const char* kConfig = "config.json";
constexpr const char* kWeights = "model.safetensors";
constexpr const char* kValueFormat = "brine-bundle-value";
constexpr const char* kDataPathType = "brine.DataPath";
constexpr std::uint64_t kValueFormatVersion = 1;

std::string component_name(std::size_t index) { return "value" + std::to_string(index); }

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

bool allowed_extension(std::string_view name) {
  return ends_with(name, ".json") || ends_with(name, ".safetensors") || ends_with(name, ".model") ||
         ends_with(name, ".txt");
}

[[noreturn]] void refuse(DdufRule rule, const std::string& message, const std::string& file,
                         const fs::path& bundle) {
  ErrorContext context;
  context.source = bundle.string();
  throw DdufExportError(rule, errc::unsupported_content,
                        std::string("bundle cannot be exported to DDUF, rule '") +
                            dduf_rule_name(rule) + "' broken: " + message,
                        file, std::move(context));
}

[[noreturn]] void fail(errc code, const std::string& message, const fs::path& where) {
  ErrorContext context;
  context.source = where.string();
  detail::throw_error(code, message, std::move(context));
}

std::string random_hex() {
  std::random_device device;
  std::uint64_t v = (static_cast<std::uint64_t>(device()) << 32) ^ device();
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(v));
  return text;
}

/// A folder removed when the last holder lets go of it (why: a DDUF load's extracted data
/// files must outlive the load call as long as a value names them, and no longer).
std::shared_ptr<const fs::path> owned_folder(fs::path path) {
  return std::shared_ptr<const fs::path>(new fs::path(std::move(path)), [](const fs::path* p) {
    std::error_code ec;
    fs::remove_all(*p, ec);
    delete p;
  });
}

fs::path absolute_folder(const fs::path& in) {
  fs::path p = fs::absolute(in).lexically_normal();
  if (!p.has_filename()) p = p.parent_path();
  return p;
}

// ---- export ------------------------------------------------------------------------------

/// A file of the bundle that goes into the DDUF file.
struct Placed {
  std::string entry;  // name in the DDUF file
  BundleFileInfo info;
};

/// Rewrites the DataPaths of one value to name their files inside its component folder, and
/// collects those files, refusing what DDUF cannot hold.
class ExportWalker {
 public:
  ExportWalker(const fs::path& bundle, const BundleManifest& manifest, std::size_t index)
      : bundle_(bundle), manifest_(manifest), index_(index), component_(component_name(index)) {
    taken_.insert(kConfig);
    taken_.insert(kWeights);
  }

  void walk(Value& v) {
    switch (v.kind()) {
      case ValueKind::list:
        for (Value& child : v.as_list()) walk(child);
        return;
      case ValueKind::map:
        for (auto& [key, child] : v.as_map()) walk(child);
        return;
      case ValueKind::object: {
        Object& o = v.as_object();
        if (o.type == kDataPathType) return data_path(o);
        for (Field& f : o.fields) walk(f.value);
        return;
      }
      default:
        return;
    }
  }

  /// The hook files ("extra") of the value, placed beside its data files.
  void extras() {
    for (const BundleFileInfo& f : manifest_.files)
      if (f.role == "extra" && f.value == index_) place(f, fs::path(f.path).filename().string());
  }

  std::vector<Placed>& placed() { return placed_; }

 private:
  void data_path(Object& o) {
    const Value* base = o.find("base");
    const Value* path = o.find("path");
    if (base == nullptr || base->kind() != ValueKind::text || path == nullptr ||
        (path->kind() != ValueKind::path && path->kind() != ValueKind::text))
      fail(errc::corrupt_data, "a malformed 'brine.DataPath' in value " + std::to_string(index_),
           bundle_);
    const std::string recorded =
        path->kind() == ValueKind::path ? path->as_path().generic : path->as_text();
    if (base->as_text() == "absolute" || recorded.empty()) return;
    if (base->as_text() != "bundle")
      refuse(DdufRule::unreadable_source,
             "data path '" + recorded + "' of value " + std::to_string(index_) +
                 " lies in another bundle of its store (base '" + base->as_text() +
                 "'): export a bundle whose data it holds",
             recorded, bundle_);

    std::vector<const BundleFileInfo*> files;
    const BundleFileInfo* exact = nullptr;
    for (const BundleFileInfo& f : manifest_.files) {
      if (f.role != "data" || f.value != index_) continue;
      if (f.path == recorded)
        exact = &f;
      else if (f.path.compare(0, recorded.size() + 1, recorded + "/") == 0)
        files.push_back(&f);
    }
    std::string new_path;
    if (exact != nullptr) {
      new_path = component_ + "/" + place(*exact, fs::path(recorded).filename().string());
    } else {
      // A folder: its files go flat into the component folder, which then stands for it, so
      // it cannot share the component with any other file.
      for (const BundleFileInfo* f : files) {
        std::string rest = f->path.substr(recorded.size() + 1);
        if (rest.find('/') != std::string::npos)
          refuse(DdufRule::too_deep,
                 "data folder '" + recorded + "' of value " + std::to_string(index_) +
                     " holds a folder ('" + f->path + "'): DDUF has one directory level",
                 f->path, bundle_);
      }
      if (folder_ || placed_count_ != 0)
        refuse(DdufRule::duplicate_name,
               "data folder '" + recorded + "' of value " + std::to_string(index_) +
                   " would share its component folder '" + component_ +
                   "' with another data file or folder",
               recorded, bundle_);
      folder_ = true;
      in_folder_ = true;
      for (const BundleFileInfo* f : files) place(*f, f->path.substr(recorded.size() + 1));
      in_folder_ = false;
      new_path = component_;
    }
    o.set("base", Value(std::string("bundle")));
    o.set("path", Value(PathValue{new_path}));
  }

  /// Places `f` as `<component>/<name>`; returns the name.
  std::string place(const BundleFileInfo& f, const std::string& name) {
    if (!allowed_extension(name))
      refuse(DdufRule::extension_not_allowed,
             "data file '" + f.path +
                 "' does not end in .json, .safetensors, .model or .txt, the kinds DDUF holds",
             f.path, bundle_);
    if (folder_ && !in_folder_)
      refuse(DdufRule::duplicate_name,
             "data file '" + f.path + "' would share component folder '" + component_ +
                 "' with a data folder",
             f.path, bundle_);
    if (!taken_.insert(name).second)
      refuse(DdufRule::duplicate_name,
             "data file '" + f.path + "' would be '" + component_ + "/" + name +
                 "', a name another file of value " + std::to_string(index_) + " takes",
             f.path, bundle_);
    placed_.push_back({component_ + "/" + name, f});
    ++placed_count_;
    return name;
  }

  const fs::path& bundle_;
  const BundleManifest& manifest_;
  std::size_t index_;
  std::string component_;
  std::set<std::string> taken_;
  std::vector<Placed> placed_;
  std::size_t placed_count_ = 0;
  bool folder_ = false;
  bool in_folder_ = false;
};

/// A temporary folder next to the output, removed on every exit.
struct TempFolder {
  fs::path path;
  ~TempFolder() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
};

// ---- load --------------------------------------------------------------------------------

struct ParsedFile {
  std::string path;
  std::uint64_t size = 0;
  std::string sha256;
  std::string role;
  std::size_t value = 0;
};

struct Parsed {
  std::vector<Value> states;
  std::vector<ParsedFile> files;
};

template <class T>
T index_get(const nlohmann::json& j, const char* key, const fs::path& where) {
  auto it = j.find(key);
  if (it == j.end())
    fail(errc::corrupt_data, std::string("model_index.json lacks '") + key + "'", where);
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    fail(errc::corrupt_data, std::string("model_index.json's '") + key + "' has the wrong type",
         where);
  }
}

Value read_component(const DdufFile& file, const std::string& component, const LoadOptions& options,
                     const fs::path& where) {
  const DdufEntry* config = file.find(component + "/" + kConfig);
  if (config == nullptr)
    fail(errc::corrupt_data, "component '" + component + "' has no " + kConfig, where);
  StateDict weights;
  if (const DdufEntry* w = file.find(component + "/" + kWeights)) weights = load_safetensors(*w);
  std::set<std::string, std::less<>> referenced;
  detail::TensorRefResolver resolve = [&](const std::string& name, std::optional<DType> dtype,
                                          std::optional<std::vector<std::int64_t>> shape) -> Value {
    const Tensor* t = weights.find(name);
    if (t == nullptr)
      detail::throw_error(errc::corrupt_data, "'$tensor_ref' names tensor '" + name + "', which " +
                                                  component + "/" + kWeights + " lacks");
    if ((dtype && *dtype != t->dtype()) || (shape && *shape != t->shape()))
      detail::throw_error(errc::corrupt_data, "'$tensor_ref' to '" + name +
                                                  "' does not match the tensor's dtype or shape");
    referenced.insert(name);
    return Value(*t);
  };
  Value doc;
  try {
    if (config->size() > options.max_input_bytes)
      detail::throw_error(errc::limit_exceeded, component + "/" + kConfig +
                                                    " exceeds LoadOptions::max_input_bytes (" +
                                                    std::to_string(options.max_input_bytes) + ")");
    doc = detail::value_from_json_with_tensor_refs(config->view(), options.max_nesting(), options,
                                                   resolve);
    for (const auto& [name, tensor] : weights)
      if (referenced.count(name) == 0)
        detail::throw_error(errc::corrupt_data, "tensor '" + name + "' of " + component + "/" +
                                                    kWeights + " is not referenced by " + kConfig);
  } catch (Error& e) {
    detail::note_error_source(e, where.string() + ":" + component + "/" + kConfig);
    throw;
  }
  const std::string name = component + "/" + kConfig;
  if (doc.kind() != ValueKind::map) fail(errc::corrupt_data, name + " is not a JSON object", where);
  Value::Map& map = doc.as_map();
  auto format = map.find("format");
  if (format == map.end() || format->second.kind() != ValueKind::text ||
      format->second.as_text() != kValueFormat)
    fail(errc::corrupt_data, name + " does not say \"format\": \"" + kValueFormat + "\"", where);
  auto version = map.find("format_version");
  if (version == map.end() || version->second.kind() != ValueKind::unsigned_integer)
    fail(errc::corrupt_data, name + " has no unsigned \"format_version\"", where);
  if (version->second.as_uint64() > kValueFormatVersion)
    fail(errc::newer_format_version,
         name + " is written in format version " + std::to_string(version->second.as_uint64()) +
             ", this build reads up to " + std::to_string(kValueFormatVersion) + ": upgrade brine",
         where);
  auto value = map.find("value");
  if (value == map.end()) fail(errc::corrupt_data, name + " has no \"value\"", where);
  return std::move(value->second);
}

Parsed parse_bundle(const DdufFile& file, const LoadOptions& options, const fs::path& where) {
  const DdufEntry& index_entry = file.at(kIndex);
  nlohmann::json index = nlohmann::json::parse(index_entry.view(), nullptr, false);
  // The reader checked that model_index.json is a JSON object; a brine bundle says so.
  auto class_name = index.is_object() ? index.find("_class_name") : index.end();
  if (class_name == index.end() || !class_name->is_string() ||
      class_name->get<std::string>() != bundle_dduf_class_name)
    fail(errc::unsupported_content,
         std::string("a DDUF file but not a brine bundle: its model_index.json has ") +
             (class_name == index.end() || !class_name->is_string()
                  ? std::string("no \"_class_name\"")
                  : "\"_class_name\": \"" + class_name->get<std::string>() + "\"") +
             ", a brine bundle has \"" + bundle_dduf_class_name +
             "\" (load a diffusers pipeline with diffusers)",
         where);
  auto format = index_get<std::uint64_t>(index, "_brine_bundle_format", where);
  if (format > bundle_dduf_format_version)
    fail(errc::newer_format_version,
         "bundle DDUF format version " + std::to_string(format) + ", this build reads up to " +
             std::to_string(bundle_dduf_format_version) + ": upgrade brine",
         where);
  std::size_t count = 0;
  for (auto it = index.begin(); it != index.end(); ++it)
    if (it.key().empty() || it.key()[0] != '_') ++count;
  Parsed parsed;
  for (std::size_t i = 0; i < count; ++i) {
    std::string component = component_name(i);
    if (index.find(component) == index.end())
      fail(errc::corrupt_data,
           "model_index.json names " + std::to_string(count) + " components but not '" + component +
               "'",
           where);
    parsed.states.push_back(read_component(file, component, options, where));
    const Value& s = parsed.states.back();
    const std::string listed =
        s.kind() == ValueKind::object ? s.as_object().type : std::string(kind_name(s.kind()));
    const nlohmann::json& entry = index[component];
    // JSON does not tell a non-negative signed integer from an unsigned one.
    auto integer = [](const std::string& k) { return k.size() > 8 && ends_with(k, "_integer"); };
    const bool same =
        entry.is_array() && entry.size() == 2 && entry[0] == "brine" && entry[1].is_string() &&
        (entry[1] == listed || (integer(listed) && integer(entry[1].get<std::string>())));
    if (!same)
      fail(errc::corrupt_data,
           "model_index.json lists component '" + component + "' as " + entry.dump() +
               ", its config holds a " + listed,
           where);
  }
  auto files = index.find("_brine_files");
  if (files == index.end() || !files->is_array())
    fail(errc::corrupt_data, "model_index.json has no \"_brine_files\" list", where);
  for (const nlohmann::json& f : *files) {
    if (!f.is_object()) fail(errc::corrupt_data, "a \"_brine_files\" item is not an object", where);
    ParsedFile p;
    p.path = index_get<std::string>(f, "path", where);
    p.size = index_get<std::uint64_t>(f, "size", where);
    p.sha256 = index_get<std::string>(f, "sha256", where);
    p.role = index_get<std::string>(f, "role", where);
    p.value = index_get<std::size_t>(f, "value", where);
    if (p.value >= count ||
        p.path.compare(0, component_name(p.value).size() + 1, component_name(p.value) + "/") != 0)
      fail(errc::corrupt_data,
           "data file '" + p.path + "' is not in the folder of value " + std::to_string(p.value),
           where);
    parsed.files.push_back(std::move(p));
  }
  return parsed;
}

/// Writes the data files into `folder`, checking each against its size and SHA-256.
void extract_files(const DdufFile& file, const std::vector<ParsedFile>& files,
                   const fs::path& folder, bool verify, const fs::path& where) {
  for (const ParsedFile& f : files) {
    const DdufEntry* entry = file.find(f.path);
    if (entry == nullptr)
      fail(errc::corrupt_data, "data file '" + f.path + "' of model_index.json is missing", where);
    if (entry->size() != f.size)
      fail(errc::checksum_mismatch,
           "data file '" + f.path + "' holds " + std::to_string(entry->size()) +
               " bytes, model_index.json says " + std::to_string(f.size),
           where);
    if (verify && bundle_internal::bytes_sha256(entry->view()) != f.sha256)
      fail(errc::checksum_mismatch,
           "data file '" + f.path + "' does not match its SHA-256 in model_index.json", where);
    const fs::path target =
        bundle_paths::resolve_inside(folder, f.path, "bundle", where, "data file '" + f.path + "'");
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (ec) detail::throw_io_error("cannot create the folder for data file '" + f.path + "'", ec);
    std::ofstream out(target, std::ios::binary | std::ios::trunc);
    out.write(entry->view().data(), static_cast<std::streamsize>(entry->view().size()));
    out.close();
    if (!out)
      detail::throw_io_error("cannot write data file '" + target.string() + "'",
                             std::make_error_code(std::errc::io_error));
  }
}

}  // namespace

void export_bundle_dduf(const fs::path& bundle_dir, const fs::path& out,
                        const BundleDdufExportOptions& options) {
  const fs::path dir = absolute_folder(bundle_dir);
  BundleLoadOptions check;
  check.verify_data_files = true;
  auto [manifest, states] = bundle_internal::read_checked(dir, check);

  // Everything is decided, and every refusal made, before the writer creates a file.
  nlohmann::json index = nlohmann::json::object();
  index["_class_name"] = bundle_dduf_class_name;
  index["_brine_version"] = BRINE_VERSION_STRING;
  index["_brine_bundle_format"] = bundle_dduf_format_version;
  nlohmann::json files = nlohmann::json::array();
  std::vector<std::string> configs;
  std::vector<StateDict> weights;
  std::vector<Placed> placed;
  for (std::size_t i = 0; i < states.size(); ++i) {
    ExportWalker walker(dir, manifest, i);
    walker.walk(states[i]);
    walker.extras();
    for (Placed& p : walker.placed()) {
      files.push_back({{"path", p.entry},
                       {"size", p.info.size},
                       {"sha256", p.info.sha256},
                       {"role", p.info.role},
                       {"value", i}});
      placed.push_back(std::move(p));
    }
    tensor_refs::Namer namer;
    namer.visit(states[i], std::string());
    Value::Map envelope;
    envelope.emplace("format", Value(std::string(kValueFormat)));
    envelope.emplace("format_version", Value(kValueFormatVersion));
    envelope.emplace("value", states[i]);
    detail::check_json_document_nesting(Value(envelope), JsonOptions{}.max_depth);
    configs.push_back(detail::to_json_with_tensor_refs(
        Value(std::move(envelope)), JsonOptions{},
        [&namer](const Tensor& t) { return namer.name_of(t); }, /*describe=*/true));
    weights.push_back(namer.dict());
    const Value& s = states[i];
    index[component_name(i)] = {
        "brine", s.kind() == ValueKind::object ? s.as_object().type : kind_name(s.kind())};
  }
  index["_brine_files"] = std::move(files);

  const fs::path target = fs::absolute(out);
  TempFolder temp;
  temp.path =
      target.parent_path() / ("." + target.filename().string() + ".weights-tmp." + random_hex());
  DdufWriter writer(target, options.write);
  writer.add(kIndex, index.dump(2));
  for (std::size_t i = 0; i < configs.size(); ++i) {
    const std::string component = component_name(i);
    writer.add(component + "/" + kConfig, configs[i]);
    if (!weights[i].empty()) {
      // Through a file, so that only one entry's bytes are ever in memory at once.
      std::error_code ec;
      fs::create_directories(temp.path, ec);
      if (ec) detail::throw_io_error("cannot create a temporary folder beside the output", ec);
      const fs::path file = temp.path / (component + ".safetensors");
      save_safetensors(file, weights[i]);
      writer.add_file(component + "/" + kWeights, file);
      fs::remove(file, ec);
    }
    for (const Placed& p : placed)
      if (p.info.value == i) writer.add_file(p.entry, dir / fs::path(p.info.path));
  }
  writer.finish();
}

std::vector<LoadedValue> load_bundle_dduf(const fs::path& path, const BundleLoadOptions& options) {
  const fs::path where = fs::absolute(path);
  DdufFile file = open_dduf(where);
  Parsed parsed = parse_bundle(file, options.load, where);

  std::shared_ptr<const fs::path> keep;
  fs::path folder;
  std::error_code ec;
  if (!options.dduf_data_dir.empty()) {
    folder = absolute_folder(options.dduf_data_dir);
    fs::create_directories(folder, ec);
    if (ec) detail::throw_io_error("cannot create the DDUF data folder " + folder.string(), ec);
  } else {
    folder = fs::temp_directory_path(ec) / ("brine-dduf-" + random_hex());
    if (ec || !fs::create_directory(folder, ec))
      detail::throw_io_error("cannot create a temporary folder for the DDUF data files", ec);
    keep = owned_folder(folder);
  }
  extract_files(file, parsed.files, folder, options.verify_data_files, where);
  std::vector<std::pair<std::size_t, std::string>> extras;
  for (const ParsedFile& f : parsed.files)
    if (f.role == "extra") extras.emplace_back(f.value, f.path);
  return bundle_internal::finish_load(std::move(parsed.states), folder, where.string(), extras,
                                      options, keep);
}

void import_bundle_dduf(const fs::path& in, const fs::path& bundle_dir) {
  const fs::path where = fs::absolute(in);
  DdufFile file = open_dduf(where);
  Parsed parsed = parse_bundle(file, LoadOptions{}, where);
  const fs::path target = absolute_folder(bundle_dir);
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  TempFolder temp;
  temp.path =
      target.parent_path() / ("." + target.filename().string() + ".dduf-import." + random_hex());
  fs::create_directory(temp.path, ec);
  if (ec) detail::throw_io_error("cannot create a temporary folder beside the bundle", ec);
  extract_files(file, parsed.files, temp.path, true, where);
  // The save copies (or links) the files from where the DataPaths point: the extracted ones.
  std::function<void(Value&)> rebase = [&](Value& v) {
    switch (v.kind()) {
      case ValueKind::list:
        for (Value& child : v.as_list()) rebase(child);
        return;
      case ValueKind::map:
        for (auto& [key, child] : v.as_map()) rebase(child);
        return;
      case ValueKind::object: {
        Object& o = v.as_object();
        if (o.type == kDataPathType) {
          const Value* base = o.find("base");
          const Value* p = o.find("path");
          if (base != nullptr && base->kind() == ValueKind::text && base->as_text() == "bundle" &&
              p != nullptr && p->kind() == ValueKind::path) {
            const std::string recorded = p->as_path().generic;
            fs::path resolved = bundle_paths::resolve_inside(temp.path, recorded, "bundle", where,
                                                             "data path '" + recorded + "'");
            o.set("base", Value(std::string("absolute")));
            o.set("path", Value(PathValue{resolved.generic_string()}));
          }
          return;
        }
        for (Field& f : o.fields) rebase(f.value);
        return;
      }
      default:
        return;
    }
  };
  for (Value& s : parsed.states) rebase(s);
  save_bundle_values(target, std::move(parsed.states));
}

}  // namespace brine
