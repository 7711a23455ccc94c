// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// error_test.cpp: every brine::errc arrives as the exception class docs/errors.md lists for
// it, because every site raises errors through detail::throw_error.

#include <gtest/gtest.h>

#include <brine/error.hpp>
#include <string>
#include <system_error>
#include <typeinfo>

namespace {

// docs/errors.md, "The codes": the class each code is thrown as. Check the most derived class
// with typeid, so that a LimitError is not taken for its base FormatError.
struct Row {
  brine::errc code;
  const std::type_info* thrown;
};

const Row kDocumentedClasses[] = {
    {brine::errc::truncated_input, &typeid(brine::FormatError)},
    {brine::errc::corrupt_data, &typeid(brine::FormatError)},
    {brine::errc::checksum_mismatch, &typeid(brine::FormatError)},
    {brine::errc::limit_exceeded, &typeid(brine::LimitError)},
    {brine::errc::unknown_type, &typeid(brine::SchemaError)},
    {brine::errc::type_mismatch, &typeid(brine::SchemaError)},
    {brine::errc::newer_format_version, &typeid(brine::VersionError)},
    {brine::errc::newer_class_version, &typeid(brine::VersionError)},
    {brine::errc::migration_failed, &typeid(brine::MigrationError)},
    {brine::errc::duplicate_registration, &typeid(brine::SchemaError)},
    {brine::errc::io_failure, &typeid(brine::IoError)},
    {brine::errc::internal_error, &typeid(brine::InternalError)},
    {brine::errc::missing_field, &typeid(brine::SchemaError)},
    {brine::errc::unsupported_content, &typeid(brine::FormatError)},
};

TEST(ThrowError, EveryCodeArrivesAsItsDocumentedClass) {
  // The table covers every code: they are numbered 1 to unsupported_content without gaps.
  ASSERT_EQ(std::size(kDocumentedClasses),
            static_cast<std::size_t>(brine::errc::unsupported_content));
  for (const Row& row : kDocumentedClasses) {
    SCOPED_TRACE(brine::make_error_code(row.code).message());
    brine::ErrorContext context;
    context.type_name = "t.T";
    context.byte_offset = 7;
    try {
      brine::detail::throw_error(row.code, "the message", context);
      ADD_FAILURE() << "throw_error returned";
    } catch (const brine::Error& e) {
      EXPECT_EQ(typeid(e), *row.thrown) << e.what();
      EXPECT_EQ(e.code(), row.code);
      EXPECT_EQ(e.message(), "the message");
      EXPECT_EQ(e.context().type_name, "t.T");
      EXPECT_EQ(e.context().byte_offset, 7u);
    }
  }
}

TEST(ThrowError, IoErrorKeepsTheOsError) {
  const std::error_code enoent = std::make_error_code(std::errc::no_such_file_or_directory);
  brine::ErrorContext context;
  context.source = "missing.brine";
  try {
    brine::detail::throw_io_error("cannot open", enoent, context);
    ADD_FAILURE() << "throw_io_error returned";
  } catch (const brine::IoError& e) {
    EXPECT_EQ(e.code(), brine::errc::io_failure);
    EXPECT_EQ(e.os_error(), enoent);
    EXPECT_EQ(e.context().source, "missing.brine");
    EXPECT_NE(std::string(e.what()).find("cannot open: "), std::string::npos) << e.what();
  }
}

}  // namespace
