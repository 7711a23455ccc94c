// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// tools/brine/convert.cpp: `brine convert IN OUT [--to FORMAT]`: between the binary, stable
// and JSON encodings. The state trees pass through unchanged, so converting A -> B -> A gives
// back equal values.

#include <CLI/CLI.hpp>
#include <brine/error.hpp>
#include <brine/safetensors.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "cli.hpp"

namespace brine_cli {
namespace {

struct ConvertOptions {
  std::string in;
  std::string out;
  std::string to;
  std::string max_shard_size;
};

int convert(const ConvertOptions& options) {
  // Decide the output format before reading: a misnamed output is a usage error, and should
  // not cost a read of a large input first.
  Format format = output_format(options.out, options.to);
  std::uint64_t max_shard_size = 0;
  if (!options.max_shard_size.empty()) {
    if (format != Format::safetensors)
      throw UsageError("--max-shard-size applies to safetensors output only");
    try {
      max_shard_size = brine::parse_shard_size(options.max_shard_size);
    } catch (const brine::Error& e) {
      throw UsageError("--max-shard-size: " + e.message());
    }
  }
  Progress progress;
  Archive archive = read_archive(options.in, progress);
  if (is_tensor_format(format)) {
    // Names, dtypes, shapes and bytes pass through; a brine archive's tensors are named by
    // their dotted paths (brine::state_dict_of). Metadata a tensor file had goes along.
    write_tensor_file(options.out, format, tensors_of(archive), max_shard_size);
  } else {
    write_archive(options.out, format, archive.values, progress);
  }
  progress.finish();
  return exit_ok;
}

}  // namespace

void add_convert_command(CLI::App& app, Runner& run) {
  auto options = std::make_shared<ConvertOptions>();
  CLI::App* cmd =
      app.add_subcommand("convert",
                         "Convert between the binary, stable (CBOR) and JSON encodings and the "
                         "tensor files (safetensors, sharded or not, .npy, .npz); OUT is replaced "
                         "atomically");
  cmd->add_option("IN", options->in,
                  "Archive (binary, stable or JSON) or tensor file (safetensors, a sharded "
                  "folder or index, .npy, .npz) to read")
      ->required();
  cmd->add_option("OUT", options->out,
                  "File to write; its extension picks the format unless --to is given: .brine "
                  "or .bin binary, .brines or .cbor stable, .json JSON, .safetensors, .npy, "
                  ".npz; a folder (existing or ending in '/') a sharded safetensors checkpoint")
      ->required();
  cmd->add_option("--to", options->to, "Output format, whatever OUT is called")
      ->check(CLI::IsMember(kFormatOptions));
  cmd->add_option("--max-shard-size", options->max_shard_size,
                  "Save safetensors as a sharded folder at OUT, at most SIZE bytes of tensors "
                  "per shard: \"5GB\" (powers of 1000), \"500MiB\" (powers of 1024), or bytes");
  cmd->callback([options, &run] { run = [options] { return convert(*options); }; });
}

}  // namespace brine_cli
