// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// tools/brine/cli.hpp: what the subcommands of the `brine` tool share (private to the tool).
#pragma once

#include <brine/state_dict.hpp>
#include <brine/value.hpp>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "progress.hpp"

namespace CLI {
class App;
}

namespace brine_cli {

/// Exit codes. Scripts depend on them: docs/cli.md lists them, never renumber.
enum ExitCode : int {
  exit_ok = 0,  ///< success (verify: every file is whole and valid)
  exit_invalid_input =
      1,           ///< an input is missing, unreadable or not a valid archive; or a write failed
  exit_usage = 2,  ///< the command line is wrong
};

/// A usage error found after CLI11 has parsed the line (an output name whose format cannot
/// be told): exit code 2, like CLI11's own parse errors.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// What the tool reads and writes: brine's three encodings, and the tensor files of other
/// tools (safetensors, a single file or a sharded folder; numpy's .npy and .npz; DDUF).
/// A folder is a bundle (brine-bundle.json) or a model folder (brine.json or definition.json)
/// before it is a sharded safetensors checkpoint.
enum class Format { binary, stable, json, safetensors, npy, npz, dduf, bundle, model_folder };

/// Whether `format` is a file of named tensors rather than a brine archive (a DDUF file
/// counts: its safetensors entries' tensors, named `entry:tensor`).
inline bool is_tensor_format(Format format) noexcept {
  return format == Format::safetensors || format == Format::npy || format == Format::npz ||
         format == Format::dduf;
}

/// The name `inspect --json` reports: "brine-binary", "brine-stable", "brine-json",
/// "safetensors", "npy", "npz", "dduf", "brine-bundle", "model-folder".
const char* format_name(Format format) noexcept;

/// The `--to` spellings, in the order --help lists them.
inline const std::vector<std::string> kFormatOptions = {"binary", "stable", "json", "safetensors",
                                                        "npy",    "npz",    "dduf"};

/// The `--to` spellings of the brine encodings alone (migrate writes brine archives only).
inline const std::vector<std::string> kArchiveFormatOptions = {"binary", "stable", "json"};

/// The format a `--to` value names (one of kFormatOptions; CLI11 has checked it).
Format format_from_option(const std::string& option);

/// The format to write `out` in: `to` when given, else by extension (docs/cli.md; a folder,
/// existing or named with a trailing '/', is a sharded safetensors checkpoint).
/// Throws UsageError when neither tells.
Format output_format(const std::filesystem::path& out, const std::string& to);

/// The format of a file from its first bytes. Throws brine::FormatError when the bytes are
/// none of the formats.
Format detect_format(std::string_view bytes, const std::string& source);

/// A type found in an archive.
struct TypeVersion {
  std::string name;
  std::uint32_t version = 0;
};

/// An archive read without any C++ type: every top-level value as a state-model tree.
struct Archive {
  Format format = Format::binary;
  std::uint32_t format_version = 0;
  std::uint64_t bytes = 0;  ///< size of the file
  std::vector<brine::Value> values;
  /// Binary archives only: the type table, which also names base classes and the element
  /// types of empty containers, types no value tree shows.
  std::vector<TypeVersion> type_table;
  /// Tensor files only: the tensors in the file's order, with the file's metadata. `values`
  /// then holds one map from each name to its tensor.
  brine::StateDict tensors;
  /// A safetensors checkpoint sharded over several files (read from a folder or an index).
  bool sharded = false;
  /// DDUF files only: every entry, in the archive's order.
  struct Entry {
    std::string name;
    std::uint64_t offset = 0;
    std::uint64_t size = 0;
  };
  std::vector<Entry> entries;
  /// Bundle folders only: the data files the manifest lists, each checked against its size
  /// and SHA-256.
  struct File {
    std::string path;  ///< relative to the bundle
    std::uint64_t size = 0;
    std::string sha256;
  };
  std::vector<File> files;
  /// Model folders only: the variants whose weights the folder holds ("" for the default).
  std::vector<std::string> variants;
};

/// Whether `path` is a bundle folder (it holds brine-bundle.json, docs/format/bundle.md).
bool is_bundle_folder(const std::filesystem::path& path);
/// Whether `path` is a model folder (holds brine.json or definition.json, docs/hub.md).
bool is_model_folder(const std::filesystem::path& path);

/// Whether `path` is a sharded safetensors checkpoint: a folder, or an index file
/// (`*.safetensors.index.json`).
bool is_sharded_checkpoint(const std::filesystem::path& path);

/// Reads the tensor file `path` (archive.format says which; a sharded checkpoint for a
/// folder or index) into archive.tensors and archive.values, mapped, every rule of the
/// format checked. `bytes` are the file's bytes when the caller has them mapped already
/// (empty for a folder). Throws brine::Error.
void read_tensor_file(const std::string& path, std::string_view bytes, Archive& archive);

/// The named tensors of an archive: a tensor file's own; for a brine archive, the tensors of
/// its values flattened to dotted names (brine::state_dict_of), prefixed by the value's index
/// when there are several values.
brine::StateDict tensors_of(const Archive& archive);

/// Writes `tensors` to `path` as a tensor file (`format` is safetensors, npy or npz),
/// atomically. With `max_shard_size`, safetensors are saved as a sharded folder at `path`.
/// An .npy holds one tensor: a state dict of another size is a brine::SchemaError.
void write_tensor_file(const std::filesystem::path& path, Format format,
                       const brine::StateDict& tensors, std::uint64_t max_shard_size);

/// Reads every value of the archive at `path`, whatever its format, with an empty registry
/// (no migration, no C++ type). A file with bytes after the end of its archive is refused:
/// for a file, those bytes mean it was damaged or two archives were glued together.
/// `progress` counts the bytes the readers consume. Throws brine::Error (IoError, FormatError,
/// LimitError, VersionError).
Archive read_archive(const std::filesystem::path& path, Progress& progress);

/// Replaces `path` atomically with an archive of `values` in `format`; `progress` counts the
/// bytes written. Throws brine::Error (IoError, SchemaError when a tree cannot take a binary
/// layout).
void write_archive(const std::filesystem::path& path, Format format,
                   const std::vector<brine::Value>& values, Progress& progress);

/// Every (type, version) the archive records: its type table, and the objects of its values
/// wherever they sit. Sorted by name, then version; no duplicates.
std::vector<TypeVersion> collect_types(const Archive& archive);

/// `text` with control characters escaped, so that an error message quoting hostile input
/// (a type name with a newline in it) stays on one line.
std::string one_line(std::string_view text);

/// Sets the subcommand's work when the command line selects it.
using Runner = std::function<int()>;

void add_inspect_command(CLI::App& app, Runner& run);
void add_dump_command(CLI::App& app, Runner& run);
void add_verify_command(CLI::App& app, Runner& run);
void add_convert_command(CLI::App& app, Runner& run);
void add_migrate_command(CLI::App& app, Runner& run);

}  // namespace brine_cli
