// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// dduf.hpp: DDUF files (Hugging Face's single-file diffusers layout): a validating reader that
// maps the file and hands out each entry in place, and a writer that aligns every entry's data
// to 64 bytes. docs/format/dduf.md lists the rules as brine applies them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "brine/detail/export.hpp"
#include "brine/error.hpp"
#include "brine/safetensors.hpp"
#include "brine/tensor.hpp"

namespace brine {

/// The rules a DDUF file (or an export) must follow. Each broken rule is its own error, which
/// DdufError::rule() carries. The numbers are stable.
enum class DdufRule : std::uint8_t {
  not_a_zip = 1,              ///< no end of central directory record
  truncated,                  ///< a record reaches past the end of the file
  multi_disk,                 ///< a ZIP split over several disks
  invalid_zip64,              ///< a ZIP64 locator, record or extra field that does not hold
  invalid_central_directory,  ///< a central directory record is malformed or misplaced
  local_header_mismatch,      ///< a local header disagrees with its central directory record
  compressed_entry,           ///< an entry that is not stored (method 0)
  encrypted_entry,            ///< an entry with the encryption flag
  size_mismatch,              ///< compressed size differs from uncompressed size
  entry_out_of_bounds,        ///< an entry's data reaches into the central directory or past it
  overlapping_entries,        ///< two entries share bytes
  crc_mismatch,               ///< an entry's CRC-32 differs from its bytes (verify_crc)
  invalid_name,               ///< an empty name, an empty, `.` or NUL-holding component
  backslash_in_name,          ///< a name with `\`: DDUF names use `/`
  absolute_name,              ///< a name starting with `/`
  parent_reference,           ///< a name with a `..` component
  too_deep,                   ///< more than one directory level
  extension_not_allowed,      ///< not `.json`, `.safetensors`, `.model` or `.txt`
  duplicate_name,             ///< two entries of one name
  missing_model_index,        ///< no `model_index.json` at the root
  model_index_not_json,       ///< `model_index.json` is not valid JSON (or nests too deep)
  model_index_not_object,     ///< `model_index.json` does not hold a JSON object
  folder_not_in_index,        ///< a folder that `model_index.json` does not name
  folder_without_config,      ///< a folder without a config file (docs/format/dduf.md §4)
  unreadable_source,          ///< an export's input cannot be read as one regular file
};

/// A short stable name of a rule, as messages and the CLI print it: "compressed_entry".
BRINE_API const char* dduf_rule_name(DdufRule rule) noexcept;

/// A DDUF file breaks `rule()` (a FormatError: the bytes are bad). `entry()` names the entry
/// concerned, when there is one; the message names it too.
class BRINE_API DdufError : public FormatError {
 public:
  DdufError(DdufRule rule, errc code, const std::string& message, std::string entry = {},
            ErrorContext context = {})
      : FormatError(code, message, std::move(context)), rule_(rule), entry_(std::move(entry)) {}
  DdufRule rule() const noexcept { return rule_; }
  const std::string& entry() const noexcept { return entry_; }

 private:
  DdufRule rule_;
  std::string entry_;
};

/// An entry name breaks one of the name rules (invalid_name ... duplicate_name).
class BRINE_API DdufEntryNameError : public DdufError {
 public:
  using DdufError::DdufError;
};

/// An export refused before its file was committed: what was given breaks `rule()`. No file
/// is left at the destination (a previous file there is untouched).
class BRINE_API DdufExportError : public DdufError {
 public:
  using DdufError::DdufError;
};

/// The rule a brine error reports, when it is a DDUF rule violation.
BRINE_API std::optional<DdufRule> dduf_rule_of(const Error& error) noexcept;

/// Checks one entry name against the name rules; a name ending in `/` is a directory entry
/// (one level, no extension). Throws DdufEntryNameError naming the rule and the name.
BRINE_API void validate_dduf_entry_name(std::string_view name);

/// Reading options.
struct DdufReadOptions {
  /// Recompute every entry's CRC-32 and compare it with the central directory. Reads every
  /// byte of the file; off by default because a load then touches pages it may never use.
  bool verify_crc = false;
};

/// One entry of a DDUF file: a view into the file's bytes, which it keeps alive.
class BRINE_API DdufEntry {
 public:
  DdufEntry() = default;
  /// The name in the archive, `/`-separated: `model_index.json`, `vae/config.json`.
  const std::string& name() const noexcept { return name_; }
  /// Offset of the entry's first data byte in the file.
  std::uint64_t offset() const noexcept { return offset_; }
  /// Length of the data in bytes.
  std::uint64_t size() const noexcept { return size_; }
  /// CRC-32 recorded in the central directory.
  std::uint32_t crc32() const noexcept { return crc32_; }
  /// Offset of the local header (where the entry's record starts).
  std::uint64_t header_offset() const noexcept { return header_offset_; }
  /// Whether this is a directory entry (a name ending in `/`, no data).
  bool is_directory() const noexcept { return !name_.empty() && name_.back() == '/'; }
  /// The data, in place (valid as long as this entry or another view of the file lives).
  Span<const std::byte> bytes() const noexcept { return {base_ + offset_, size_}; }
  std::string_view view() const noexcept {
    return {reinterpret_cast<const char*>(base_ + offset_), static_cast<std::size_t>(size_)};
  }
  /// A copy of the data as text (for `.json`, `.txt`).
  std::string text() const { return std::string(view()); }
  /// The mapped file the entry views, or null when it views bytes lent to read_dduf().
  const std::shared_ptr<const MappedFile>& file() const noexcept { return file_; }
  /// What keeps the bytes alive.
  const std::shared_ptr<const void>& owner() const noexcept { return owner_; }
  /// Names the DDUF file in error messages.
  const std::string& source() const noexcept { return source_; }

 private:
  friend class DdufFile;
  friend struct DdufBuilder;
  std::string name_;
  std::uint64_t offset_ = 0;
  std::uint64_t size_ = 0;
  std::uint64_t header_offset_ = 0;
  std::uint32_t crc32_ = 0;
  const std::byte* base_ = nullptr;
  std::shared_ptr<const void> owner_;
  std::shared_ptr<const MappedFile> file_;
  std::string source_;
};

/// A validated DDUF file: its entries in central directory order.
class BRINE_API DdufFile {
 public:
  const std::vector<DdufEntry>& entries() const noexcept { return entries_; }
  /// The entry of that name, or null.
  const DdufEntry* find(std::string_view name) const noexcept;
  /// The entry of that name; throws DdufError (rule missing_model_index for model_index.json,
  /// invalid_name otherwise) naming it when there is none.
  const DdufEntry& at(std::string_view name) const;
  /// Whether the file uses ZIP64 records.
  bool is_zip64() const noexcept { return zip64_; }
  /// The file's size in bytes.
  std::uint64_t file_size() const noexcept { return file_size_; }
  /// Names the file in error messages.
  const std::string& source() const noexcept { return source_; }

 private:
  friend struct DdufBuilder;
  std::vector<DdufEntry> entries_;
  bool zip64_ = false;
  std::uint64_t file_size_ = 0;
  std::string source_;
};

/// Maps the DDUF file at `path` and validates it (every rule of docs/format/dduf.md) before
/// returning. Throws DdufError / DdufEntryNameError naming the rule and the entry, IoError
/// when the file cannot be read.
BRINE_API DdufFile open_dduf(const std::filesystem::path& path,
                             const DdufReadOptions& options = {});

/// Validates the DDUF file held in `bytes`, which `owner` keeps alive (null: the caller keeps
/// the bytes alive as long as the entries are used). `source` names it in errors.
BRINE_API DdufFile read_dduf(std::shared_ptr<const void> owner, std::string_view bytes,
                             const DdufReadOptions& options = {}, const std::string& source = {});

/// Loads a `.safetensors` entry mapped straight from the DDUF file: the tensors view the
/// file's bytes (no copy) and keep the mapping alive; when the entry comes from open_dduf they
/// are is_mapped() and share the file's storage_id. Throws SafetensorsError as
/// load_safetensors does, naming the DDUF file and the entry.
BRINE_API StateDict load_safetensors(const DdufEntry& entry,
                                     const SafetensorsLoadOptions& options = {});

// ---- writing -----------------------------------------------------------------------------

/// Writing options.
struct DdufWriteOptions {
  /// Every entry's data starts at a multiple of this (a power of two, 1 to 32768), by padding
  /// the local header's extra field (field id 0xD935, docs/format/dduf.md §5), so that entries
  /// map without a copy and tensors in them keep their alignment.
  std::size_t alignment = 64;
  /// Write ZIP64 records for every entry and the end of the archive, even when no size or
  /// offset needs them (for tests and readers that want them).
  bool force_zip64 = false;
};

/// An entry of an export from disk: its name in the archive and the file that holds its data.
struct DdufFileEntry {
  std::string name;
  std::filesystem::path path;
};

/// An entry produced on demand: its name and its bytes.
struct DdufBytesEntry {
  std::string name;
  std::string bytes;
};

/// Writes a DDUF file entry by entry, atomically: nothing appears at `path` until finish()
/// has checked the whole archive against the rules and committed it. Each add() checks the
/// entry's name first (and that no entry of that name was added), then writes the entry, so
/// only the entry being added is held in memory. libzip cannot place entry data at chosen
/// offsets, hence a writer of brine's own.
class BRINE_API DdufWriter {
 public:
  /// Creates the temporary file next to `path`. Throws IoError.
  explicit DdufWriter(const std::filesystem::path& path, const DdufWriteOptions& options = {});
  ~DdufWriter();
  DdufWriter(const DdufWriter&) = delete;
  DdufWriter& operator=(const DdufWriter&) = delete;

  /// Adds an entry holding `bytes`. Throws DdufExportError (a name rule), IoError.
  void add(const std::string& name, std::string_view bytes);
  /// Adds an entry holding the content of the regular file `file`, streamed (read twice: once
  /// for the CRC-32 the local header carries, once to copy). Throws DdufExportError when the
  /// file is not a regular file or changes while it is copied, IoError.
  void add_file(const std::string& name, const std::filesystem::path& file);
  /// Checks the structure rules (model_index.json present, a JSON object, every folder named
  /// in it and holding a config file), writes the central directory and commits the file.
  /// Throws DdufExportError naming the rule; the destination is then left untouched. After an
  /// add() refused by a rule the writer goes on; after one that failed while writing its entry
  /// (an IoError, a file that changed) every call throws InternalError: drop the writer, which
  /// removes its temporary file.
  void finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Exports entries read from disk, in the order given. The names and the structure rules are
/// checked, and model_index.json parsed, before any byte is written.
BRINE_API void export_dduf(const std::filesystem::path& out,
                           const std::vector<DdufFileEntry>& entries,
                           const DdufWriteOptions& options = {});

/// Exports the entries `next` produces, until it returns nullopt: one entry is in memory at a
/// time. Names are checked as they come, the structure when the last has come, before commit.
BRINE_API void export_dduf(const std::filesystem::path& out,
                           const std::function<std::optional<DdufBytesEntry>()>& next,
                           const DdufWriteOptions& options = {});

/// Exports the folder `folder` in the DDUF layout: every regular file under it, named by its
/// path relative to `folder` (sorted, model_index.json first). Unlike huggingface_hub, which
/// skips files it cannot store, a file that breaks a rule (a name, an extension, a depth, a
/// symlink) refuses the export, naming it: a conversion never drops content silently.
BRINE_API void export_dduf_folder(const std::filesystem::path& folder,
                                  const std::filesystem::path& out,
                                  const DdufWriteOptions& options = {});

/// Unpacks a valid DDUF file into `folder`, which must not exist yet: the entries are written
/// to a temporary folder next to it, which is renamed to `folder` once complete.
BRINE_API void extract_dduf(const std::filesystem::path& in, const std::filesystem::path& folder,
                            const DdufReadOptions& options = {});

}  // namespace brine
