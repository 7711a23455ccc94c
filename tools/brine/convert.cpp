// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// tools/brine/convert.cpp: `brine convert IN OUT [--to FORMAT]`: between the binary, stable
// and JSON encodings. The state trees pass through unchanged, so converting A -> B -> A gives
// back equal values.

#include <CLI/CLI.hpp>
#include <brine/bundle_dduf.hpp>
#include <brine/dduf.hpp>
#include <brine/error.hpp>
#include <brine/safetensors.hpp>
#include <cstdint>
#include <fstream>
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

// Whether `path` is a DDUF file: a regular file whose bytes the tool takes for one.
bool is_dduf_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return false;
  std::string head(64, '\0');
  std::ifstream in(path, std::ios::binary);
  in.read(&head[0], static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  try {
    return detect_format(head, path) == Format::dduf;
  } catch (const brine::Error&) {
    return false;
  }
}

// DDUF: a folder in the DDUF layout packs into a file, a DDUF file unpacks into a folder (OUT
// with no extension, or ending in '/'), and a DDUF file repacks into another (aligned by
// brine's writer). Returns false when neither side is DDUF.
bool convert_dduf(const ConvertOptions& options) {
  const bool in_dduf = is_dduf_file(options.in);
  const std::filesystem::path out(options.out);
  const bool out_folder =
      options.to.empty() && (options.out.back() == '/' || (out.extension().empty() && in_dduf));
  if (in_dduf && out_folder) {
    brine::DdufReadOptions read;
    read.verify_crc = true;
    brine::extract_dduf(options.in, out, read);
    return true;
  }
  const bool out_dduf = options.to == "dduf" || (options.to.empty() && out.extension() == ".dduf");
  if (!out_dduf) return false;
  // A bundle gets the DDUF form of a bundle (docs/format/bundle.md §10): its values as JSON,
  // its tensors as safetensors, its data files beside them; any other folder must already be
  // in the DDUF layout.
  if (is_bundle_folder(options.in)) {
    brine::export_bundle_dduf(options.in, out);
    return true;
  }
  if (std::filesystem::is_directory(options.in)) {
    brine::export_dduf_folder(options.in, out);
    return true;
  }
  if (!in_dduf)
    throw UsageError(
        "a DDUF file is packed from a folder in the DDUF layout or from another "
        "DDUF file, and '" +
        options.in + "' is neither");
  brine::DdufReadOptions read;
  read.verify_crc = true;
  brine::DdufFile dduf = brine::open_dduf(options.in, read);
  brine::DdufWriter writer(out);
  for (const brine::DdufEntry& e : dduf.entries())
    if (!e.is_directory()) writer.add(e.name(), e.view());
  writer.finish();
  return true;
}

int convert(const ConvertOptions& options) {
  if (!options.out.empty() && convert_dduf(options)) return exit_ok;
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
                  "folder or index, .npy, .npz, .dduf) to read, a bundle folder, or a folder in "
                  "the DDUF layout to pack into OUT.dduf")
      ->required();
  cmd->add_option(
         "OUT", options->out,
         "File to write; its extension picks the format unless --to is given: .brine "
         "or .bin binary, .brines or .cbor stable, .json JSON, .safetensors, .npy, "
         ".npz, .dduf; a folder (existing or ending in '/') a sharded safetensors checkpoint; "
         "from a .dduf, a new folder (no extension, or ending in '/') to unpack into")
      ->required();
  cmd->add_option("--to", options->to, "Output format, whatever OUT is called")
      ->check(CLI::IsMember(kFormatOptions));
  cmd->add_option("--max-shard-size", options->max_shard_size,
                  "Save safetensors as a sharded folder at OUT, at most SIZE bytes of tensors "
                  "per shard: \"5GB\" (powers of 1000), \"500MiB\" (powers of 1024), or bytes");
  cmd->callback([options, &run] { run = [options] { return convert(*options); }; });
}

}  // namespace brine_cli
