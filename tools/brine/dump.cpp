// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// tools/brine/dump.cpp: `brine dump FILE [--full]`: the whole content as a brine JSON
// document, which is itself a loadable archive (the same bytes convert --to json writes).

#include <CLI/CLI.hpp>
#include <brine/stable.hpp>
#include <iostream>
#include <memory>
#include <string>

#include "cli.hpp"

namespace brine_cli {
namespace {

struct DumpOptions {
  std::string file;
  bool full = false;
  int indent = 2;
};

int dump(const DumpOptions& options) {
  Archive archive;
  {
    Progress progress;
    archive = read_archive(options.file, progress);
    progress.finish();
  }
  brine::JsonOptions json;
  // A 256 MiB tensor is 350 MB of base64 nobody reads: summarized unless asked for.
  json.summarize_tensors = !options.full;
  json.indent = options.indent;
  // A dump is read by people: text that is not UTF-8 (which binary and stable archives
  // keep as it is) shows as U+FFFD rather than ending the dump. `convert --to json`, which
  // writes an archive, refuses it instead (docs/cli.md).
  json.replace_invalid_utf8 = true;
  std::cout << brine::json_document(archive.values, json) << '\n';
  return exit_ok;
}

}  // namespace

void add_dump_command(CLI::App& app, Runner& run) {
  auto options = std::make_shared<DumpOptions>();
  CLI::App* cmd =
      app.add_subcommand("dump",
                         "Print the whole content as a brine JSON document (every top-level value, "
                         "rendered by brine::to_json)");
  cmd->add_option("FILE", options->file,
                  "Archive (binary, stable or JSON) or tensor file (safetensors, a sharded "
                  "folder or index, .npy, .npz, .dduf), or a bundle folder, to dump")
      ->required();
  cmd->add_flag("--full", options->full,
                "Render tensors in full (base64 data, a loadable document) instead of "
                "summarizing them by dtype, shape, size and XXH3-64 hash");
  cmd->add_option("--indent", options->indent, "Spaces per indentation level; -1 prints one line")
      ->default_val(2)
      ->check(CLI::Range(-1, 16));
  cmd->callback([options, &run] { run = [options] { return dump(*options); }; });
}

}  // namespace brine_cli
