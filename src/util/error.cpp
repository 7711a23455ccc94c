// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// util/error.cpp: error category and message composition.

#include "brine/error.hpp"

#include <string>

#include "util/varint.hpp"

namespace brine {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "brine"; }
  std::string message(int code) const override {
    switch (static_cast<errc>(code)) {
      case errc::truncated_input:
        return "truncated input";
      case errc::corrupt_data:
        return "corrupt data";
      case errc::checksum_mismatch:
        return "checksum mismatch";
      case errc::limit_exceeded:
        return "limit exceeded";
      case errc::unknown_type:
        return "unknown type";
      case errc::type_mismatch:
        return "type mismatch";
      case errc::newer_format_version:
        return "newer format version";
      case errc::newer_class_version:
        return "newer class version";
      case errc::migration_failed:
        return "migration failed";
      case errc::duplicate_registration:
        return "duplicate registration";
      case errc::io_failure:
        return "i/o failure";
      case errc::internal_error:
        return "internal error";
      case errc::missing_field:
        return "missing field";
      case errc::unsupported_content:
        return "unsupported content";
    }
    return "unknown brine error";
  }
};

std::string compose(const std::string& message, const ErrorContext& c) {
  std::string where;
  auto add = [&where](const std::string& part) {
    if (!where.empty()) where += ", ";
    where += part;
  };
  if (!c.type_name.empty()) {
    std::string t = "type '" + c.type_name + "'";
    if (c.version) t += " v" + std::to_string(*c.version);
    add(t);
  }
  if (!c.field_path.empty()) add("field '" + c.field_path + "'");
  if (c.byte_offset) add("byte " + std::to_string(*c.byte_offset));
  if (!c.source.empty()) {
    if (where.empty())
      where = "in '" + c.source + "'";
    else
      where += " in '" + c.source + "'";
  }
  return where.empty() ? message : message + " (" + where + ")";
}

}  // namespace

const std::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

std::error_code make_error_code(errc code) noexcept {
  return {static_cast<int>(code), error_category()};
}

Error::Error(errc code, const std::string& message, ErrorContext context)
    : std::runtime_error(compose(message, context)),
      code_(code),
      message_(message),
      context_(std::move(context)) {}

void Error::set_context(ErrorContext context) {
  // Only the runtime_error base holds what(): assigning it keeps the dynamic class.
  static_cast<std::runtime_error&>(*this) = std::runtime_error(compose(message_, context));
  context_ = std::move(context);
}

IoError::IoError(const std::string& message, std::error_code os_error, ErrorContext context)
    : Error(errc::io_failure, message + (os_error ? ": " + os_error.message() : std::string()),
            std::move(context)),
      os_error_(os_error) {}

namespace detail {

namespace {
void prepend_path(ErrorContext& c, std::string segment) {
  if (!c.field_path.empty() && c.field_path.front() != '[') segment += '.';
  c.field_path.insert(0, segment);
}
}  // namespace

void note_error_source(Error& error, const std::string& source) {
  if (!error.context_.source.empty() || source.empty()) return;
  ErrorContext c = error.context_;
  c.source = source;
  error.set_context(std::move(c));
}

void prepend_error_field(Error& error, const char* name) {
  ErrorContext c = error.context_;
  prepend_path(c, name);
  error.set_context(std::move(c));
}

void prepend_error_key(Error& error, const std::string& key) {
  ErrorContext c = error.context_;
  prepend_path(c, key);
  error.set_context(std::move(c));
}

void prepend_error_index(Error& error, std::size_t index) {
  ErrorContext c = error.context_;
  prepend_path(c, "[" + std::to_string(index) + "]");
  error.set_context(std::move(c));
}

void note_error_type(Error& error, const std::string& type_name,
                     std::optional<std::uint32_t> version) {
  if (!error.context_.type_name.empty() || type_name.empty()) return;
  ErrorContext c = error.context_;
  c.type_name = type_name;
  c.version = version;
  error.set_context(std::move(c));
}

void throw_error(errc code, const std::string& message, ErrorContext context) {
  switch (code) {
    case errc::truncated_input:
    case errc::corrupt_data:
    case errc::checksum_mismatch:
    case errc::unsupported_content:
      throw FormatError(code, message, std::move(context));
    case errc::limit_exceeded:
      throw LimitError(code, message, std::move(context));
    case errc::newer_format_version:
    case errc::newer_class_version:
      throw VersionError(code, message, std::move(context));
    case errc::unknown_type:
    case errc::type_mismatch:
    case errc::duplicate_registration:
    case errc::missing_field:
      throw SchemaError(code, message, std::move(context));
    case errc::migration_failed:
      throw MigrationError(code, message, std::move(context));
    case errc::io_failure:
      throw_io_error(message, {}, std::move(context));
    case errc::internal_error:
      break;
  }
  throw InternalError(errc::internal_error, message, std::move(context));
}

void throw_io_error(const std::string& message, std::error_code os_error, ErrorContext context) {
  throw IoError(message, os_error, std::move(context));
}

void assertion_failed(const char* condition, const char* message, const char* file, int line) {
  throw_error(errc::internal_error, std::string("internal error: ") + message + " (" + condition +
                                        " failed at " + file + ":" + std::to_string(line) + ")");
}
}  // namespace detail

namespace util {
void fail_varint(detail::VarintStatus status, std::size_t offset) {
  ErrorContext context;
  context.byte_offset = offset;
  if (status == detail::VarintStatus::truncated)
    detail::throw_error(errc::truncated_input, "varint runs past the end of its data",
                        std::move(context));
  detail::throw_error(errc::corrupt_data, "varint longer than 64 bits", std::move(context));
}
}  // namespace util

}  // namespace brine
