// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// bundle/hub.cpp: model folders in the Hugging Face layout (docs/hub.md): a definition file
// and safetensors weights per variant, written by building the new folder beside the old one
// and swapping the two.

#include "brine/hub.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "brine/bundle.hpp"
#include "brine/io.hpp"
#include "brine/registry.hpp"
#include "brine/version.hpp"
#include "bundle/bundle_internal.hpp"
#include "io/durable.hpp"
#include "state/json_document.hpp"
#include "state/nesting.hpp"
#include "tensor/tensor_refs.hpp"

namespace brine {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kFormat = "brine-model";
constexpr std::string_view kFallbackDefinition = "definition.json";
constexpr std::string_view kPrefix = "model";
// Where place_data_files puts the object's data files (`data/0/<field>/<file>`).
constexpr std::string_view kDataFolder = "data";
constexpr std::string_view kPushTag = ".brine-push-";

[[noreturn]] void fail_io(const std::string& what, const fs::path& path, std::error_code ec) {
  ErrorContext where;
  where.source = path.string();
  detail::throw_io_error(what, ec, where);
}

std::string random_token() {
  std::random_device device;
  std::uniform_int_distribution<std::uint64_t> any;
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(any(device)));
  return text;
}

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}
bool starts_with(std::string_view s, std::string_view head) {
  return s.size() >= head.size() && s.substr(0, head.size()) == head;
}

void check_definition_filename(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    detail::throw_error(errc::internal_error, "ModelFolderOptions::definition_filename '" + name +
                                                  "' must be a plain file name");
}

// The folder as a path whose last component names it ("a/b/" is "a/b").
fs::path folder_path(const fs::path& folder) {
  fs::path f = folder.lexically_normal();
  if (f.filename().empty()) f = f.parent_path();
  if (f.empty() || f.filename() == "." || f.filename() == "..")
    f = fs::absolute(folder).lexically_normal();
  if (f.filename().empty()) f = f.parent_path();
  return f;
}

// Puts every entry of `from` except `skip` into `to`: hard links where the filesystem
// allows (the weights of other variants are not copied), copies otherwise, symlinks as
// symlinks (never followed out of the folder).
void carry_over(const fs::path& from, const fs::path& to, const std::string& skip) {
  std::error_code ec;
  for (const auto& item : fs::directory_iterator(from, ec)) {
    const std::string name = item.path().filename().string();
    // The data files are placed again from the object at every push.
    if (name == skip || name == kDataFolder) continue;
    const fs::path target = to / name;
    const fs::file_status status = item.symlink_status(ec);
    if (ec) fail_io("cannot read an entry of the model folder", item.path(), ec);
    if (fs::is_symlink(status)) {
      fs::copy_symlink(item.path(), target, ec);
    } else if (fs::is_directory(status)) {
      fs::copy(item.path(), target,
               fs::copy_options::recursive | fs::copy_options::create_hard_links |
                   fs::copy_options::copy_symlinks,
               ec);
      if (ec) {
        fs::remove_all(target, ec);
        fs::copy(item.path(), target, fs::copy_options::recursive | fs::copy_options::copy_symlinks,
                 ec);
      }
    } else {
      fs::create_hard_link(item.path(), target, ec);
      if (ec) fs::copy_file(item.path(), target, ec);
    }
    if (ec) fail_io("cannot carry a file of the model folder over", item.path(), ec);
  }
  if (ec) fail_io("cannot list the model folder", from, ec);
}

// Swaps the folders `a` and `b` in one step where the filesystem can (Linux renameat2's
// RENAME_EXCHANGE); elsewhere moves `a` aside, `b` into place, and returns where `a` went.
fs::path swap_in(const fs::path& fresh, const fs::path& folder) {
#ifdef RENAME_EXCHANGE
  if (::renameat2(AT_FDCWD, fresh.c_str(), AT_FDCWD, folder.c_str(), RENAME_EXCHANGE) == 0)
    return fresh;
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
    fail_io("cannot swap the new model folder in", folder,
            std::error_code(errno, std::generic_category()));
#endif
  // Not atomic: between the two renames the folder is absent (docs/hub.md, "Atomicity").
  fs::path aside = fresh;
  aside += ".old";
  std::error_code ec;
  fs::rename(folder, aside, ec);
  if (ec) fail_io("cannot move the previous model folder aside", folder, ec);
  fs::rename(fresh, folder, ec);
  if (ec) fail_io("cannot move the new model folder into place", folder, ec);
  return aside;
}

// Which variant a weights file name belongs to ("" for the default), if any.
std::optional<std::string> variant_of(const std::string& name) {
  const std::string model(kPrefix);
  if (name == model + ".safetensors" || name == model + ".safetensors.index.json") return "";
  const std::string index_head = model + ".safetensors.index.";
  if (starts_with(name, index_head) && ends_with(name, ".json") &&
      name.size() > index_head.size() + 5)
    return name.substr(index_head.size(), name.size() - index_head.size() - 5);
  if (!ends_with(name, ".safetensors")) return std::nullopt;
  std::string stem = name.substr(0, name.size() - std::string(".safetensors").size());
  // A shard, `<stem>-NNNNN-of-MMMMM`: its stem is what precedes the numbering.
  std::size_t of = stem.rfind("-of-");
  if (of != std::string::npos) {
    std::size_t dash = stem.rfind('-', of - 1);
    if (dash != std::string::npos) stem = stem.substr(0, dash);
  }
  if (stem == model) return "";
  if (starts_with(stem, model + ".") && stem.size() > model.size() + 1 &&
      stem.find('.', model.size() + 1) == std::string::npos)
    return stem.substr(model.size() + 1);
  return std::nullopt;
}

bool has_variant(const fs::path& folder, const std::string& variant) {
  const std::string model(kPrefix);
  const std::string stem = variant.empty() ? model : model + "." + variant;
  const std::string index = variant.empty() ? model + ".safetensors.index.json"
                                            : model + ".safetensors.index." + variant + ".json";
  std::error_code ec;
  // A sharded save interrupted after its commit point holds its checkpoint in its record.
  return fs::exists(folder / (stem + ".safetensors"), ec) || fs::exists(folder / index, ec) ||
         fs::exists(folder / ("." + stem + ".safetensors.brine-commit"), ec);
}

// The envelope of the definition file, checked; returns its value.
Value open_definition(Value doc) {
  unsigned format_version = 0;
  return tensor_refs::open_envelope(std::move(doc), kFormat, model_folder_format_version,
                                    "model definition", format_version);
}

std::string variant_label(const std::string& variant) {
  return variant.empty() ? std::string("the default weights")
                         : "the weights of variant '" + variant + "'";
}

}  // namespace

std::vector<std::string> model_folder_variants(const std::filesystem::path& folder) {
  std::set<std::string> found;
  std::error_code ec;
  for (const auto& item : fs::directory_iterator(folder, ec)) {
    std::string name = item.path().filename().string();
    if (std::optional<std::string> v = variant_of(name)) found.insert(*v);
    // A committed but unfinished sharded save: `.model[.variant].safetensors.brine-commit`.
    const std::string head = "." + std::string(kPrefix), tail = ".safetensors.brine-commit";
    if (starts_with(name, head) && ends_with(name, tail)) {
      std::string stem = name.substr(1, name.size() - 1 - tail.size());
      if (std::optional<std::string> v = variant_of(stem + ".safetensors")) found.insert(*v);
    }
  }
  if (ec) fail_io("cannot list the model folder", folder, ec);
  return {found.begin(), found.end()};
}

PushedModelFolder push_state_to_folder(const std::filesystem::path& folder_in, const Value& state,
                                       const ModelFolderOptions& options) {
  check_definition_filename(options.definition_filename);
  const fs::path folder = folder_path(folder_in);
  const fs::path parent = folder.has_parent_path() ? folder.parent_path() : fs::path(".");
  const std::string name = folder.filename().string();
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) fail_io("cannot create the folder that holds the model folder", parent, ec);
  const bool exists = fs::exists(folder, ec);
  if (exists && !fs::is_directory(folder, ec))
    fail_io("the model folder's path names a file", folder,
            std::make_error_code(std::errc::not_a_directory));

  // What crashed pushes left beside the folder is garbage: the folder itself is whole.
  const std::string tag = "." + name + std::string(kPushTag);
  for (const auto& item : fs::directory_iterator(parent, ec))
    if (starts_with(item.path().filename().string(), tag)) fs::remove_all(item.path(), ec);

  // The tensors are named now; the definition is written once the data files are placed,
  // since their recorded paths are part of it.
  Value placed = state;
  tensor_refs::Namer namer;
  namer.visit(placed, std::string());
  detail::check_json_document_nesting(placed, JsonOptions{}.max_depth);

  const fs::path fresh = parent / (tag + random_token());
  fs::create_directory(fresh, ec);
  if (ec) fail_io("cannot create the new model folder", fresh, ec);
  try {
    if (exists) carry_over(folder, fresh, options.definition_filename);
    ShardOptions shards;
    shards.prefix = std::string(kPrefix);
    shards.variant = options.variant;
    shards.max_shard_size = options.max_shard_size;
    PushedModelFolder pushed;
    pushed.weights = save_state_dict(fresh, namer.dict(), shards);
    // Placed as a bundle places them, with the folder as the base, before the definition
    // that names them.
    SerializationContext default_context;
    bundle_internal::place_data_files(placed, 0, fresh, default_registry(), default_context);
    // Names only: the variants of one folder share the definition and differ in dtype.
    const std::string definition = detail::to_json_with_tensor_refs(
        tensor_refs::make_envelope(kFormat, model_folder_format_version, placed), JsonOptions{},
        [&namer](const Tensor& t) { return namer.name_of(t); }, /*describe=*/false);
    write_file_atomically(fresh / options.definition_filename, definition);
    pushed.definition = options.definition_filename;
    io_internal::fsync_directory(fresh);

    if (exists) {
      fs::path old = swap_in(fresh, folder);
      io_internal::fsync_directory(parent);
      fs::remove_all(old, ec);  // the previous content; a leftover is removed by the next push
    } else {
      fs::rename(fresh, folder, ec);
      if (ec) fail_io("cannot move the new model folder into place", folder, ec);
      io_internal::fsync_directory(parent);
    }
    return pushed;
  } catch (...) {
    // Rethrown at once: this only removes the unfinished folder, whatever the failure.
    fs::remove_all(fresh, ec);
    throw;
  }
}

Value load_pretrained_state(const std::filesystem::path& folder, const ModelFolderOptions& options,
                            const LoadOptions& load_options) {
  check_definition_filename(options.definition_filename);
  std::error_code ec;
  fs::path definition = folder / options.definition_filename;
  if (!fs::exists(definition, ec)) {
    fs::path fallback = folder / std::string(kFallbackDefinition);
    if (!fs::exists(fallback, ec))
      fail_io("the model folder has no definition file '" + options.definition_filename +
                  "' nor '" + std::string(kFallbackDefinition) + "'",
              folder, std::make_error_code(std::errc::no_such_file_or_directory));
    definition = fallback;
  }
  if (!has_variant(folder, options.variant)) {
    std::string present;
    for (const std::string& v : model_folder_variants(folder))
      present +=
          (present.empty() ? "" : ", ") + (v.empty() ? std::string("default") : "'" + v + "'");
    fail_io(std::string("the model folder has no ") +
                (options.variant.empty() ? std::string("default weights")
                                         : "weights of variant '" + options.variant + "'") +
                " (it has: " + (present.empty() ? std::string("none") : present) + ")",
            folder, std::make_error_code(std::errc::no_such_file_or_directory));
  }

  const std::uintmax_t size = fs::file_size(definition, ec);
  if (ec) fail_io("cannot read the model definition", definition, ec);
  if (size > load_options.max_input_bytes) {
    ErrorContext where;
    where.source = definition.string();
    detail::throw_error(errc::limit_exceeded,
                        "model definition of " + std::to_string(size) +
                            " bytes exceeds LoadOptions::max_input_bytes (" +
                            std::to_string(load_options.max_input_bytes) + ")",
                        where);
  }
  const std::string text = read_file(definition);
  const StateDict weights =
      load_state_dict(folder, SafetensorsLoadOptions{}, std::string(kPrefix), options.variant);

  std::set<std::string, std::less<>> referenced;
  detail::TensorRefResolver resolve = [&](const std::string& name, std::optional<DType> dtype,
                                          std::optional<std::vector<std::int64_t>> shape) -> Value {
    const Tensor* t = weights.find(name);
    if (t == nullptr)
      detail::throw_error(errc::corrupt_data, "'$tensor_ref' names weight '" + name + "', which " +
                                                  variant_label(options.variant) + " lack");
    if ((dtype && *dtype != t->dtype()) || (shape && *shape != t->shape()))
      detail::throw_error(errc::corrupt_data, "'$tensor_ref' to '" + name + "' says " +
                                                  (dtype ? dtype_name(*dtype) : "") +
                                                  (shape ? tensor_refs::shape_text(*shape) : "") +
                                                  ", the weight is " + dtype_name(t->dtype()) +
                                                  tensor_refs::shape_text(t->shape()));
    referenced.insert(name);
    return Value(*t);
  };
  Value state;
  try {
    state = open_definition(detail::value_from_json_with_tensor_refs(
        text, load_options.max_nesting(), load_options, resolve));
    for (const auto& [name, tensor] : weights)
      if (referenced.count(name) == 0)
        detail::throw_error(errc::corrupt_data, "weight '" + name + "' of " +
                                                    variant_label(options.variant) +
                                                    " is not referenced by the definition");
  } catch (Error& e) {
    detail::note_error_source(e, definition.string());
    throw;
  }
  // Recorded relative to the folder, wherever it now lies; one that would leave it is refused.
  try {
    bundle_internal::resolve_data_paths(state, 0, fs::absolute(folder));
  } catch (Error& e) {
    detail::note_error_source(e, definition.string());
    throw;
  }
  return state;
}

}  // namespace brine
