// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// tools/brine/inspect.cpp: `brine inspect FILE [--json]`: format, versions, types, counts.
// The --json schema is documented in docs/cli.md; scripts depend on its keys.

#include <CLI/CLI.hpp>
#include <brine/tensor.hpp>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli.hpp"

namespace brine_cli {
namespace {

struct InspectOptions {
  std::string file;
  bool json = false;
};

int inspect(const InspectOptions& options) {
  Archive archive;
  {
    Progress progress;
    archive = read_archive(options.file, progress);
    progress.finish();
  }
  const std::vector<TypeVersion> types = collect_types(archive);
  const brine::StateDict tensors = tensors_of(archive);

  if (options.json) {
    nlohmann::json out = nlohmann::json::object();
    out["file"] = options.file;
    out["format"] = format_name(archive.format);
    out["format_version"] = archive.format_version;
    out["bytes"] = archive.bytes;
    out["objects"] = archive.values.size();
    nlohmann::json list = nlohmann::json::array();
    for (const TypeVersion& t : types) list.push_back({{"name", t.name}, {"version", t.version}});
    out["types"] = std::move(list);
    nlohmann::json tensor_list = nlohmann::json::array();
    for (const auto& [name, tensor] : tensors)
      tensor_list.push_back({{"name", name},
                             {"dtype", brine::safetensors_dtype_name(tensor.dtype())},
                             {"shape", tensor.shape()}});
    out["tensors"] = std::move(tensor_list);
    // DDUF files also list their entries: where each one's data lies in the file.
    if (archive.format == Format::dduf) {
      nlohmann::json entries = nlohmann::json::array();
      for (const Archive::Entry& e : archive.entries)
        entries.push_back({{"name", e.name}, {"offset", e.offset}, {"size", e.size}});
      out["entries"] = std::move(entries);
    }
    // Bundle folders list their data files, checked against the manifest.
    if (archive.format == Format::bundle) {
      nlohmann::json files = nlohmann::json::array();
      for (const Archive::File& f : archive.files)
        files.push_back({{"path", f.path}, {"size", f.size}, {"sha256", f.sha256}});
      out["files"] = std::move(files);
    }
    // Model folders list the variants whose weights they hold ("" is the default weights).
    if (archive.format == Format::model_folder) out["variants"] = archive.variants;
    // Type names come from the input and may hold any bytes; replace rather than throw on
    // invalid UTF-8, so inspect still reports what it found.
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    return exit_ok;
  }

  std::cout << "file:            " << one_line(options.file) << '\n'
            << "format:          " << format_name(archive.format) << ", format version "
            << archive.format_version << '\n'
            << "size:            " << archive.bytes << " bytes\n"
            << "objects:         " << archive.values.size() << '\n'
            << "types:           " << types.size() << '\n';
  for (const TypeVersion& t : types)
    std::cout << "  " << one_line(t.name) << " v" << t.version << '\n';
  if (archive.format == Format::dduf) {
    std::cout << "entries:         " << archive.entries.size() << '\n';
    for (const Archive::Entry& e : archive.entries)
      std::cout << "  " << one_line(e.name) << " (" << e.size << " bytes at " << e.offset << ")\n";
  }
  if (archive.format == Format::bundle) {
    std::cout << "data files:      " << archive.files.size() << '\n';
    for (const Archive::File& f : archive.files)
      std::cout << "  " << one_line(f.path) << " (" << f.size << " bytes, sha256 " << f.sha256
                << ")\n";
  }
  if (archive.format == Format::model_folder) {
    std::cout << "variants:        " << archive.variants.size() << '\n';
    for (const std::string& v : archive.variants)
      std::cout << "  " << (v.empty() ? std::string("(default)") : one_line(v)) << '\n';
  }
  std::cout << "tensors:         " << tensors.size() << '\n';
  for (const auto& [name, tensor] : tensors) {
    std::cout << "  " << one_line(name) << ' ' << brine::safetensors_dtype_name(tensor.dtype())
              << " [";
    for (std::size_t i = 0; i < tensor.shape().size(); ++i)
      std::cout << (i ? ", " : "") << tensor.shape()[i];
    std::cout << "]\n";
  }
  return exit_ok;
}

}  // namespace

void add_inspect_command(CLI::App& app, Runner& run) {
  auto options = std::make_shared<InspectOptions>();
  CLI::App* cmd = app.add_subcommand(
      "inspect",
      "Show an archive's format, format version, types with their versions, object "
      "count, tensors and size");
  cmd->add_option("FILE", options->file,
                  "Archive to inspect (binary, stable or JSON), or a tensor file (safetensors, "
                  "a sharded safetensors folder or index, .npy, .npz, .dduf), a bundle folder or a "
                  "model folder")
      ->required();
  cmd->add_flag("--json", options->json,
                "Print one JSON object (keys: format, format_version, types, objects, tensors, "
                "bytes, file, entries for a DDUF file, files for a bundle, variants for a model "
                "folder; see docs/cli.md)");
  cmd->callback([options, &run] { run = [options] { return inspect(*options); }; });
}

}  // namespace brine_cli
