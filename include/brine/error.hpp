// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// error.hpp: the exception hierarchy every brine failure is reported with.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>

#include "brine/detail/export.hpp"

namespace brine {

/// Error codes. The numbers never change: docs/errors.md tabulates them and the CLI prints them.
enum class errc {
  truncated_input = 1,     ///< the input ended before the archive did
  corrupt_data,            ///< the bytes cannot be a valid archive
  checksum_mismatch,       ///< a block's checksum does not match its content
  limit_exceeded,          ///< valid so far, but over a LoadOptions limit
  unknown_type,            ///< a type or function name that is not registered
  type_mismatch,           ///< the archive holds a different type than the one asked for
  newer_format_version,    ///< written by a newer brine than this build
  newer_class_version,     ///< written by a newer version of a class than this build knows
  migration_failed,        ///< no migration path, or a migration step threw
  duplicate_registration,  ///< one name registered for two types (or the reverse)
  io_failure,              ///< the operating system refused a read or write
  internal_error,          ///< a bug in brine
  missing_field,           ///< setstate asked for a field the archived state does not have
  unsupported_content,     ///< valid for its format, but content brine refuses to load
};

/// The std::error_category of brine::errc, so codes interoperate with std::error_code.
BRINE_API const std::error_category& error_category() noexcept;
BRINE_API std::error_code make_error_code(errc code) noexcept;

class Error;

namespace detail {
// Filling in the context of an exception already in flight, so that the layers a failure
// unwinds through (a container, a field, a file-level entry point) add what they know
// without catching and re-throwing a new exception (which would lose its dynamic class).
// Each rebuilds what(). For brine's own code and codecs only; no stability promise.

/// Sets the context's source to `source` when it has none.
BRINE_API void note_error_source(Error& error, const std::string& source);
/// Prepends field `name` to the context's field path: `name.rest`, `name[3].rest`.
BRINE_API void prepend_error_field(Error& error, const char* name);
/// Prepends the key of a text-keyed map entry (written like a field, as to_json does).
BRINE_API void prepend_error_key(Error& error, const std::string& key);
/// Prepends the index of a list, array or set element: `[index]rest`.
BRINE_API void prepend_error_index(Error& error, std::size_t index);
/// Sets the type and version of the context when it names no type.
BRINE_API void note_error_type(Error& error, const std::string& type_name,
                               std::optional<std::uint32_t> version);
}  // namespace detail

/// Where a failure happened; empty members are left out of the message.
struct ErrorContext {
  std::string source;                    ///< file name or stream description, e.g. "ckpt/a.brine"
  std::string type_name;                 ///< registered type name, e.g. "nn.Linear"
  std::string field_path;                ///< field path inside the object, e.g. "layers.weight"
  std::optional<std::uint32_t> version;  ///< class version being read
  std::optional<std::uint64_t> byte_offset;  ///< offset in the input
};

/// Root of all brine exceptions: `catch (const brine::Error&)` catches every brine failure.
/// what() is the message followed by the context, e.g.
/// `truncated input: ... (type 'nn.Linear' v3, field 'weight', byte 88012 in 'a.brine')`.
class BRINE_API Error : public std::runtime_error {
 public:
  Error(errc code, const std::string& message, ErrorContext context = {});
  errc code() const noexcept { return code_; }
  const ErrorContext& context() const noexcept { return context_; }
  /// The message without the context suffix.
  const std::string& message() const noexcept { return message_; }

 private:
  friend void detail::note_error_source(Error&, const std::string&);
  friend void detail::prepend_error_field(Error&, const char*);
  friend void detail::prepend_error_key(Error&, const std::string&);
  friend void detail::prepend_error_index(Error&, std::size_t);
  friend void detail::note_error_type(Error&, const std::string&, std::optional<std::uint32_t>);
  void set_context(ErrorContext context);

  errc code_;
  std::string message_;
  ErrorContext context_;
};

/// The bytes are not a valid archive: truncated, corrupt, or failing their checksum.
class BRINE_API FormatError : public Error {
 public:
  using Error::Error;
};

/// The input is valid so far but exceeds a LoadOptions limit; the message names the option.
class BRINE_API LimitError : public FormatError {
 public:
  using FormatError::FormatError;
};

/// The archive, or a class in it, is newer than this build understands.
class BRINE_API VersionError : public Error {
 public:
  using Error::Error;
};

/// Unknown or duplicate type, type mismatch, unregistered function, missing field.
class BRINE_API SchemaError : public Error {
 public:
  using Error::Error;
};

/// No migration path from the archived version to the current one, or a step threw.
class BRINE_API MigrationError : public SchemaError {
 public:
  using SchemaError::SchemaError;
};

/// The operating system refused an operation; keeps the OS error and names the path.
class BRINE_API IoError : public Error {
 public:
  IoError(const std::string& message, std::error_code os_error, ErrorContext context = {});
  std::error_code os_error() const noexcept { return os_error_; }

 private:
  std::error_code os_error_;
};

/// A broken invariant inside brine (a bug): raised by BRINE_ASSERT instead of aborting.
class BRINE_API InternalError : public Error {
 public:
  using Error::Error;
};

namespace detail {
/// Throws the exception class that `code` belongs to (FormatError for corrupt input,
/// LimitError, VersionError, SchemaError, MigrationError, IoError, InternalError), as
/// docs/errors.md lists them: every brine error is raised through here, so that a code always
/// arrives as the same class.
[[noreturn]] BRINE_API void throw_error(errc code, const std::string& message,
                                        ErrorContext context = {});
/// throw_error for errc::io_failure with the operating system's error, which IoError keeps.
[[noreturn]] BRINE_API void throw_io_error(const std::string& message, std::error_code os_error,
                                           ErrorContext context = {});
[[noreturn]] BRINE_API void assertion_failed(const char* condition, const char* message,
                                             const char* file, int line);
}  // namespace detail

}  // namespace brine

namespace std {
template <>
struct is_error_code_enum<brine::errc> : true_type {};
}  // namespace std

/// Checks an internal invariant; throws brine::InternalError with file:line when it fails.
/// Never used on input: bad input is a FormatError, not an assertion.
#define BRINE_ASSERT(condition, message)                                                          \
  do {                                                                                            \
    if (!(condition)) ::brine::detail::assertion_failed(#condition, message, __FILE__, __LINE__); \
  } while (false)
