// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// tools/brine/convert.cpp: `brine convert IN OUT [--to FORMAT]`: between the binary, stable
// and JSON encodings. The state trees pass through unchanged, so converting A -> B -> A gives
// back equal values.

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "cli.hpp"

namespace brine_cli {
namespace {

struct ConvertOptions {
  std::string in;
  std::string out;
  std::string to;
};

int convert(const ConvertOptions& options) {
  // Decide the output format before reading: a misnamed output is a usage error, and should
  // not cost a read of a large input first.
  Format format = output_format(options.out, options.to);
  Progress progress;
  Archive archive = read_archive(options.in, progress);
  write_archive(options.out, format, archive.values, progress);
  progress.finish();
  return exit_ok;
}

}  // namespace

void add_convert_command(CLI::App& app, Runner& run) {
  auto options = std::make_shared<ConvertOptions>();
  CLI::App* cmd =
      app.add_subcommand("convert",
                         "Convert an archive between the binary, stable (CBOR) and JSON encodings; "
                         "OUT is replaced atomically");
  cmd->add_option("IN", options->in, "Archive to read (binary, stable or JSON)")->required();
  cmd->add_option("OUT", options->out,
                  "File to write; its extension picks the format unless --to is given: .brine "
                  "or .bin binary, .brines or .cbor stable, .json JSON")
      ->required();
  cmd->add_option("--to", options->to, "Output format, whatever OUT is called")
      ->check(CLI::IsMember(kFormatOptions));
  cmd->callback([options, &run] { run = [options] { return convert(*options); }; });
}

}  // namespace brine_cli
