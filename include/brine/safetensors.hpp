// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// safetensors.hpp: Hugging Face's safetensors format, one file (load_safetensors,
// save_safetensors) and a sharded checkpoint folder (save_state_dict, load_state_dict).
// docs/format/safetensors.md describes the format as brine reads and writes it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "brine/detail/export.hpp"
#include "brine/error.hpp"
#include "brine/io.hpp"
#include "brine/state_dict.hpp"
#include "brine/tensor.hpp"

namespace brine {

/// The rules a safetensors file (or a sharded checkpoint's index) must follow. Each broken
/// rule is its own error: SafetensorsError (or SafetensorsLimitError for header_too_large)
/// carries it. The numbers are stable.
enum class SafetensorsRule : std::uint8_t {
  file_too_short = 1,     ///< fewer than the 8 bytes of the header length
  header_beyond_file,     ///< the header length reaches past the end of the file
  header_too_large,       ///< header length over SafetensorsLoadOptions::max_header_bytes
  header_not_object,      ///< the header does not start with '{'
  header_not_utf8,        ///< the header is not valid UTF-8
  header_not_json,        ///< the header is not valid JSON (or not one JSON object)
  duplicate_name,         ///< two entries of one name (or one key twice in an entry)
  malformed_entry,        ///< an entry is not {dtype, shape, data_offsets}: missing,
                          ///< extra or mistyped keys, too deep nesting
  unknown_dtype,          ///< a dtype string brine has no DType for
  invalid_shape,          ///< shape is not an array of non-negative integers
  invalid_offsets,        ///< data_offsets is not two non-negative integers
  size_overflow,          ///< the shape's byte size overflows 64 bits
  size_mismatch,          ///< shape × dtype size differs from the data_offsets range
  offsets_reversed,       ///< data_offsets end before they begin
  offsets_out_of_bounds,  ///< data_offsets reach past the end of the file
  data_hole,              ///< bytes of the data region that no tensor covers
  data_overlap,           ///< two tensors' byte ranges overlap
  trailing_bytes,         ///< bytes after the last tensor
  invalid_metadata,       ///< __metadata__ is not an object of string values
  invalid_index,          ///< a sharded index is not {metadata?, weight_map of strings}
  invalid_shard_name,     ///< an index names a shard outside its folder or not .safetensors
  index_shard_mismatch,   ///< the index and its shards disagree on which tensors exist
};

/// A short stable name of a rule, as messages and the CLI print it: "data_hole".
BRINE_API const char* safetensors_rule_name(SafetensorsRule rule) noexcept;

/// A safetensors file or index breaks `rule()` (a FormatError: the bytes are bad).
class BRINE_API SafetensorsError : public FormatError {
 public:
  SafetensorsError(SafetensorsRule rule, errc code, const std::string& message,
                   ErrorContext context = {})
      : FormatError(code, message, std::move(context)), rule_(rule) {}
  SafetensorsRule rule() const noexcept { return rule_; }

 private:
  SafetensorsRule rule_;
};

/// The header is larger than SafetensorsLoadOptions::max_header_bytes (a LimitError, as
/// every limit is); rule() is SafetensorsRule::header_too_large.
class BRINE_API SafetensorsLimitError : public LimitError {
 public:
  SafetensorsLimitError(SafetensorsRule rule, const std::string& message, ErrorContext context = {})
      : LimitError(errc::limit_exceeded, message, std::move(context)), rule_(rule) {}
  SafetensorsRule rule() const noexcept { return rule_; }

 private:
  SafetensorsRule rule_;
};

/// The rule a brine error reports, when it is a safetensors rule violation.
BRINE_API std::optional<SafetensorsRule> safetensors_rule_of(const Error& error) noexcept;

/// Reading options.
struct SafetensorsLoadOptions {
  /// The largest header accepted, in bytes. The header is parsed into memory, so this bounds
  /// what a load allocates before any check on the tensors; the reference implementation's
  /// limit is the same 100 MB.
  std::uint64_t max_header_bytes = 100'000'000;
  /// Rebuild the tensors a saver dropped as aliases of another (Hugging Face's save_model
  /// records them as `__metadata__[alias] = kept name`): each metadata entry whose key is
  /// not a tensor of the file and whose value is one becomes a tensor of that name sharing
  /// the kept tensor's bytes, and leaves the metadata. False keeps the metadata as written.
  bool restore_aliases = true;
};

/// One tensor of a safetensors header.
struct SafetensorsTensorInfo {
  std::string name;
  DType dtype = DType::float32;
  std::vector<std::int64_t> shape;
  /// Byte range in the data region (which starts at SafetensorsHeader::data_offset()).
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

/// What a safetensors header says, validated against the file (for inspect-style tools).
struct SafetensorsHeader {
  /// The header's length in bytes (the first 8 bytes of the file).
  std::uint64_t header_bytes = 0;
  /// Tensors in the order of their bytes in the data region.
  std::vector<SafetensorsTensorInfo> tensors;
  /// `__metadata__` as written (aliases included).
  std::map<std::string, std::string> metadata;
  /// Whether the header has a `__metadata__` object.
  bool has_metadata = false;
  /// Byte offset of the data region in the file.
  std::uint64_t data_offset() const noexcept { return 8 + header_bytes; }
  /// Bytes of the data region.
  std::uint64_t data_bytes = 0;
};

/// Parses and validates the safetensors file `bytes` (the whole file: the data region is
/// checked too, not read). Throws SafetensorsError / SafetensorsLimitError naming the rule,
/// the tensor and the byte offset; `source` names the file in the error context.
BRINE_API SafetensorsHeader parse_safetensors(std::string_view bytes,
                                              const SafetensorsLoadOptions& options = {},
                                              const std::string& source = {});

/// Loads a safetensors file. The file is mapped and every tensor views the mapping (no
/// byte is copied; the mapping lives as long as any tensor): the tensors are read-only,
/// is_mapped(), and report one storage_id. Memory beyond the mapping is bounded by the
/// header. Throws as parse_safetensors, IoError when the file cannot be read.
BRINE_API StateDict load_safetensors(const std::filesystem::path& path,
                                     const SafetensorsLoadOptions& options = {});

/// Loads the safetensors file held in `bytes`, which `owner` keeps alive; the tensors view
/// the bytes and hold `owner`. With a null owner the caller keeps the bytes alive.
BRINE_API StateDict load_safetensors(std::shared_ptr<const void> owner, std::string_view bytes,
                                     const SafetensorsLoadOptions& options = {},
                                     const std::string& source = {});

/// Writing options.
struct SafetensorsSaveOptions {
  /// Refuse to write a header longer than this (a file the default reader would refuse).
  std::uint64_t max_header_bytes = 100'000'000;
};

/// Writes `dict` in the safetensors format to `sink`: tensors ordered as the reference
/// writer orders them (by dtype width, widest first, then by name), `dict.metadata` as
/// `__metadata__` (left out when empty), the header padded with spaces to 8 bytes.
/// Tensors that are the same view of one storage (same storage_id, offset, dtype and shape)
/// are written once, under the first of their names in byte order, and each other name is
/// recorded as `__metadata__[alias] = kept name`, as Hugging Face's save_model records
/// them; load_safetensors restores them as shared. Tensors whose bytes overlap otherwise
/// are refused (FormatError, unsupported_content), as Hugging Face's save_file refuses them.
BRINE_API void write_safetensors(ByteSink& sink, const StateDict& dict,
                                 const SafetensorsSaveOptions& options = {});

/// write_safetensors into `path`, atomically (AtomicFileSink): a crash leaves the old file.
BRINE_API void save_safetensors(const std::filesystem::path& path, const StateDict& dict,
                                const SafetensorsSaveOptions& options = {});

// ---- sharded checkpoints ----------------------------------------------------------------

/// Options of save_state_dict.
struct ShardOptions {
  /// The most tensor bytes per shard (a tensor larger than this gets a shard of its own).
  std::uint64_t max_shard_size = 5'000'000'000;
  /// File name prefix: `<prefix>.safetensors` or `<prefix>-00001-of-00003.safetensors` and
  /// `<prefix>.safetensors.index.json`.
  std::string prefix = "model";
  /// A variant of the checkpoint (Hugging Face's `variant`, e.g. "fp16"): empty for the
  /// default weights. Named as transformers' `_add_variant` names them, the variant before
  /// the last extension: `model.fp16.safetensors`, `model.fp16-00001-of-00002.safetensors`,
  /// `model.safetensors.index.fp16.json`. Each variant is its own checkpoint in the folder,
  /// saved atomically without touching the others. No '/' and no '.'.
  std::string variant;
  SafetensorsSaveOptions save;
};

/// Parses a shard size as Hugging Face writes it: "5GB" (decimal: 5·10^9), "500MB",
/// "100KB", "1GiB" / "10MiB" / "4KiB" (binary), or a plain number of bytes. Throws
/// FormatError (corrupt_data) on anything else.
BRINE_API std::uint64_t parse_shard_size(std::string_view text);

/// What save_state_dict wrote.
struct SavedStateDict {
  /// The shard files' names in order (one name when not sharded).
  std::vector<std::string> shards;
  /// The index file's name, empty when there is one shard.
  std::string index;
  /// Bytes of tensor data, aliases counted once (the index's metadata.total_size).
  std::uint64_t total_size = 0;
};

/// Saves `dict` into the folder `directory` (created when missing) as Hugging Face's
/// save_pretrained does: shards filled greedily in the dict's order up to
/// `options.max_shard_size`, `<prefix>-NNNNN-of-MMMMM.safetensors` plus
/// `<prefix>.safetensors.index.json` (metadata.total_size and weight_map), or one
/// `<prefix>.safetensors` without index. Aliases (the same view under two names) go to the
/// shard of their first name and are recorded there as save_safetensors records them.
///
/// Atomic as a whole: until the new checkpoint is complete and durable the folder's previous
/// checkpoint of this prefix stays loadable, after that the new one is; a crash at any
/// moment leaves one of the two (docs/format/safetensors.md, "Atomic commit"). One writer
/// per folder and prefix at a time.
BRINE_API SavedStateDict save_state_dict(const std::filesystem::path& directory,
                                         const StateDict& dict, const ShardOptions& options = {});

/// Loads a state dict saved as safetensors, mapped: `path` is a `.safetensors` file, an
/// index file (`*.safetensors.index.json`) or a folder holding `model.safetensors` or
/// `model.safetensors.index.json` (`prefix` names another). A folder whose last save was
/// interrupted after its commit point loads the committed checkpoint. The index must name
/// plain `.safetensors` files of its own folder, every tensor it lists must be in its shard
/// and every tensor of a shard must be listed (SafetensorsError naming the rule otherwise).
/// For a folder, `variant` picks that variant's files (see ShardOptions::variant).
BRINE_API StateDict load_state_dict(const std::filesystem::path& path,
                                    const SafetensorsLoadOptions& options = {},
                                    const std::string& prefix = "model",
                                    const std::string& variant = {});

}  // namespace brine
