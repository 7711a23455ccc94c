// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// archive_file.hpp: several values in one file, in any of the three encodings: written and
// committed atomically, read back in order, skipped without being decoded.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>

#include "brine/binary.hpp"
#include "brine/detail/export.hpp"
#include "brine/error.hpp"
#include "brine/io.hpp"
#include "brine/limits.hpp"
#include "brine/registry.hpp"
#include "brine/stable.hpp"
#include "brine/state.hpp"
#include "brine/value.hpp"

namespace brine {

/// The encodings of an archive file. A reader tells them apart by the file's first bytes.
enum class Encoding : std::uint8_t {
  binary,  ///< positional and fastest (docs/format/binary-v1.md): checkpoints, transfers
  stable,  ///< CBOR with every name (docs/format/stable-v1.md): archives kept for years
  json,    ///< the stable model as JSON text: small hand-edited files, diffs
};

/// "binary", "stable" or "json".
BRINE_API const char* to_string(Encoding encoding) noexcept;

/// Options of an ArchiveFileWriter.
struct ArchiveWriteOptions {
  BinaryWriteOptions binary;  ///< used by Encoding::binary
  JsonOptions json;           ///< used by Encoding::json (indentation, invalid UTF-8)
};

/// Writes several values to one file, atomically: the values go to a temporary file next to
/// `path` (see AtomicFileSink), and commit() makes them the file `path` in one step. Until
/// then nothing is visible under `path` (an existing file stays as it was), and a writer
/// destroyed without commit(), by an exception or a return, removes its temporary file: no
/// partial file is ever visible under the real name. A process killed mid-write leaves the
/// temporary file, which remove_stale_temp_files() removes.
///
/// One class for the three encodings, chosen at run time, because the reader finds the
/// encoding from the file itself and a program usually picks it from a setting (binary for
/// checkpoints, stable for exports); each write<T>() compiles all three encoders for T.
///
/// Memory: binary streams to the file one block (BinaryWriteOptions::block_size) at a time;
/// JSON renders one value at a time; stable streams too, holding at most
/// StableWriteOptions::max_held_bytes of a value that holds shared objects.
///
/// Example:
///   brine::ArchiveFileWriter out("run/state.brine", brine::Encoding::stable);
///   out.write(model);
///   out.write(optimizer);
///   out.commit();  // without it, run/state.brine is untouched
class BRINE_API ArchiveFileWriter {
 public:
  /// Creates the temporary file. `registry` must outlive the writer. Throws IoError.
  ArchiveFileWriter(const std::filesystem::path& path, Encoding encoding,
                    Registry& registry = default_registry(),
                    const ArchiveWriteOptions& options = {});
  /// Abandons the file unless committed.
  ~ArchiveFileWriter();
  ArchiveFileWriter(ArchiveFileWriter&& other) noexcept;
  /// Abandons this writer's own uncommitted file, then takes over `other`'s.
  ArchiveFileWriter& operator=(ArchiveFileWriter&& other) noexcept;
  ArchiveFileWriter(const ArchiveFileWriter&) = delete;
  ArchiveFileWriter& operator=(const ArchiveFileWriter&) = delete;

  /// Writes one value (an object, or any supported structure of them). Throws SchemaError
  /// for an unregistered dynamic type or function, IoError when the disk fails, and IoError
  /// after commit() or abandon(). A write that throws abandons the whole file: half a value
  /// cannot be taken back out of the stream, so a later commit() throws too.
  template <class T>
  void write(const T& value);
  /// Writes a state-model tree without its C++ types (for tools). Throws like write().
  void write_value(const Value& value);
  /// Ends the archive and puts the file in place: fsync, rename over `path`, fsync of the
  /// directory. Throws IoError (and then abandons); IoError if already committed or abandoned.
  void commit();
  /// Removes the temporary file; `path` is untouched. Later writes and commit() throw.
  void abandon() noexcept;

  Encoding encoding() const noexcept { return encoding_; }
  const std::filesystem::path& path() const noexcept;
  std::uint64_t values_written() const noexcept { return values_written_; }
  /// Neither committed nor abandoned.
  bool is_open() const noexcept;

 private:
  struct Impl;
  void check_open() const;
  void write_json(const Value& state);
  template <class F>
  void guarded(F&& write);

  std::unique_ptr<Impl> impl_;
  Encoding encoding_;
  Registry* registry_;
  BinaryWriter* binary_ = nullptr;  // inside impl_, for the templates
  StableWriter* stable_ = nullptr;
  std::uint64_t values_written_ = 0;
};

/// Reads the values of an archive file in order, whatever its encoding (found from the first
/// bytes: the binary magic, the CBOR self-describe tag of a stable archive, or a JSON object).
/// Every error names the file.
///
/// What skip() costs, by encoding:
/// - binary: one pass over the value's bytes, guided by the recorded layouts; numbers and
///   arrays of them are passed over in one step, block checksums are verified, nothing is
///   built. Type definitions inside the value are read, since later values use them.
/// - stable: one pass over the value's CBOR items, nothing built (the whole document was
///   validated, and its checksum checked, when the file was opened).
/// - JSON: nothing more, but nothing saved either: the reader parses the whole document into
///   state-model trees when it opens the file (JSON has no length prefixes to skip by), and
///   skip() only drops the next tree without converting it. Memory: the document's trees.
///
/// After a next() that throws, a binary reader refuses further reads (a failed value leaves no
/// way to find the next one's start); stable and JSON readers go on with the following value.
///
/// Example:
///   brine::ArchiveFileReader in("run/state.brine");
///   Model model = in.next<Model>();
///   in.skip();  // the optimizer, not needed here
///   while (!in.at_end()) history.push_back(in.next<Record>());
class BRINE_API ArchiveFileReader {
 public:
  /// Opens the file (memory-mapped) and reads its header; a stable archive is validated
  /// whole, a JSON document parsed whole. `registry` must outlive the reader. Throws IoError,
  /// FormatError (not an archive, truncated, corrupt), VersionError (a newer format).
  explicit ArchiveFileReader(const std::filesystem::path& path,
                             const Registry& registry = default_registry(),
                             const LoadOptions& options = {});
  ~ArchiveFileReader();
  ArchiveFileReader(ArchiveFileReader&& other) noexcept;
  ArchiveFileReader& operator=(ArchiveFileReader&& other) noexcept;
  ArchiveFileReader(const ArchiveFileReader&) = delete;
  ArchiveFileReader& operator=(const ArchiveFileReader&) = delete;

  /// True when every value has been read or skipped. For a binary file, FormatError when
  /// bytes follow the archive's end marker.
  bool at_end();
  /// The next value as a T, upgraded from an older class version if need be; whole, or
  /// throws: FormatError (truncated_input) past the last value, SchemaError (type_mismatch,
  /// missing_field, ...) when the value is not a T, MigrationError, VersionError, FormatError
  /// for corrupt bytes.
  template <class T>
  T next() {
    T value{};
    next(value);
    return value;
  }
  /// Reads the next value into `out`; `out` is assigned only on success.
  template <class T>
  void next(T& out);
  /// The next value in the state model, before migrations (for tools). Throws like next().
  Value next_value();
  /// Moves past the next value without decoding it (see the class comment for the cost).
  /// Throws FormatError past the last value, and for corrupt bytes.
  void skip();

  Encoding encoding() const noexcept { return encoding_; }
  const std::filesystem::path& path() const noexcept;
  /// Values read or skipped so far: the index of the next one.
  std::uint64_t values_read() const noexcept { return values_read_; }

 private:
  struct Impl;
  /// Throws the past-the-end FormatError unless a value follows.
  void expect_value();
  Value take_json_value();
  /// Rethrows the brine::Error in flight, naming the file when it does not already.
  [[noreturn]] void rethrow_naming_file() const;

  std::unique_ptr<Impl> impl_;
  Encoding encoding_;
  const Registry* registry_;
  const LoadOptions* options_ = nullptr;  // inside impl_
  BinaryReader* binary_ = nullptr;        // inside impl_, for the templates
  StableReader* stable_ = nullptr;
  std::uint64_t values_read_ = 0;
};

// ---------------------------------------------------------------------------------------
// Implementation.

template <class F>
void ArchiveFileWriter::guarded(F&& write) {
  check_open();
  try {
    write();
  } catch (...) {
    abandon();
    throw;
  }
  ++values_written_;
}

template <class T>
void ArchiveFileWriter::write(const T& value) {
  guarded([&] {
    switch (encoding_) {
      case Encoding::binary:
        binary_->write(value);
        break;
      case Encoding::stable:
        stable_->write(value);
        break;
      case Encoding::json:
        write_json(to_state(value, *registry_));
        break;
    }
  });
}

template <class T>
void ArchiveFileReader::next(T& out) {
  expect_value();
  try {
    switch (encoding_) {
      case Encoding::binary:
        binary_->read(out);
        break;
      case Encoding::stable:
        stable_->read(out);
        break;
      case Encoding::json: {
        ++values_read_;  // consumed, loaded or not (as a stable value is)
        Value state = take_json_value();
        registry_->upgrade(state, *options_);
        T value{};
        StateReader(state, *registry_, *options_, nullptr, path().string()).read(value);
        out = std::move(value);
        return;
      }
    }
  } catch (const Error&) {
    if (encoding_ == Encoding::stable) ++values_read_;
    rethrow_naming_file();
  }
  ++values_read_;
}

}  // namespace brine
