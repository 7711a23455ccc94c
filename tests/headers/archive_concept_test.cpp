// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// archive_concept_test.cpp: the archive concept's traits (brine/archive.hpp) accept the six
// archives and refuse a class that lacks one member, so the conformance checks in
// detail/type_ops_impl.hpp are not vacuous.

#include <gtest/gtest.h>

#include <brine/brine.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>

namespace {

/// Every writer member, write_path only when kWithPath (without it, a codec of
/// std::filesystem::path would not compile).
template <bool kWithPath>
struct StubWriter {
  static constexpr bool is_loading = false;
  template <class T>
  StubWriter& operator()(const char*, const T&) {
    return *this;
  }
  std::uint32_t version() const { return 0; }
  const brine::Registry& registry() const { return brine::default_registry(); }
  void write_bool(bool) {}
  template <class T>
  void write_number(T) {}
  template <class T>
  void write_numbers(const T*, std::size_t) {}
  template <class T>
  void write_number_list(const T*, std::size_t) {}
  void write_text(std::string_view) {}
  void write_bytes(const void*, std::size_t) {}
  void begin_list(std::size_t) {}
  void end_list() {}
  template <class K>
  void begin_map(std::size_t) {}
  template <class K, class V>
  void save_entry(const K&, const V&) {}
  void end_map() {}
  void begin_tuple(std::size_t) {}
  void end_tuple() {}
  void write_optional(bool) {}
  void begin_variant(std::size_t) {}
  void end_variant() {}
  template <class Rep>
  void write_duration(Rep, std::intmax_t, std::intmax_t) {}
  void write_function(void (*)(), const std::type_info&) {}
  void write_function_name(const std::string&) {}
  template <class T>
  void write_object(const T&) {}
  template <class T>
  void write_shared(const T*, bool = false) {}
  template <class T>
  void write_unique(const T*) {}
  template <bool P = kWithPath, std::enable_if_t<P, int> = 0>
  void write_path(const std::string&) {}
};
using WriterWithoutPath = StubWriter<false>;
using WriterWithPath = StubWriter<true>;

static_assert(!brine::is_writer_archive_v<WriterWithoutPath>);
static_assert(brine::is_writer_archive_v<WriterWithPath>);
static_assert(!brine::is_reader_archive_v<WriterWithPath>);
static_assert(!brine::is_writer_archive_v<brine::BinaryReader>);
static_assert(!brine::is_reader_archive_v<brine::BinaryWriter>);
static_assert(!brine::is_writer_archive_v<brine::LayoutBuilder>);

TEST(ArchiveConcept, EveryArchiveImplementsIt) {
  EXPECT_TRUE(brine::is_writer_archive_v<brine::BinaryWriter>);
  EXPECT_TRUE(brine::is_reader_archive_v<brine::BinaryReader>);
  EXPECT_TRUE(brine::is_writer_archive_v<brine::StableWriter>);
  EXPECT_TRUE(brine::is_reader_archive_v<brine::StableDecoder>);
  EXPECT_TRUE(brine::is_writer_archive_v<brine::StateWriter>);
  EXPECT_TRUE(brine::is_reader_archive_v<brine::StateReader>);
}

}  // namespace
