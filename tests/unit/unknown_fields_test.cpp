// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// unknown_fields_test.cpp: tolerant mode: an older program loads an archive of a newer class
// version, keeps the fields it does not know, and writes them back unchanged.

#include <brine/brine.hpp>
#include <memory>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace {

// Version 2 of "tol.Config" as the newer program has it: version 1 plus a field.
namespace v2 {
struct Config {
  BRINE_TYPE("tol.Config", 2);
  std::string name;
  std::int32_t retries = 0;
  std::vector<double> timeouts;  // added in version 2
  template <class A>
  void getstate(A& ar) const {
    ar("name", name)("retries", retries)("timeouts", timeouts);
  }
  template <class A>
  void setstate(A& ar) {
    ar("name", name)("retries", retries)("timeouts", timeouts);
  }
};
struct Holder {
  BRINE_TYPE("tol.Holder", 1);
  std::shared_ptr<Config> first, second;  // the same object twice
  Config inline_config;
  template <class A>
  void getstate(A& ar) const {
    ar("first", first)("second", second)("inline", inline_config);
  }
  template <class A>
  void setstate(A& ar) {
    ar("first", first)("second", second)("inline", inline_config);
  }
};
}  // namespace v2

// Version 1, as the older program has it, keeping what it does not know.
namespace v1 {
class Config {
 public:
  BRINE_TYPE("tol.Config", 1);
  BRINE_UNKNOWN_FIELDS(unknown_);
  std::string name;
  std::int32_t retries = 0;
  const brine::UnknownFields& unknown() const { return unknown_; }
  template <class A>
  void getstate(A& ar) const {
    ar("name", name)("retries", retries);
  }
  template <class A>
  void setstate(A& ar) {
    ar("name", name)("retries", retries);
  }

 private:
  brine::UnknownFields unknown_;
};
struct Holder {
  BRINE_TYPE("tol.Holder", 1);
  std::shared_ptr<Config> first, second;
  Config inline_config;
  template <class A>
  void getstate(A& ar) const {
    ar("first", first)("second", second)("inline", inline_config);
  }
  template <class A>
  void setstate(A& ar) {
    ar("first", first)("second", second)("inline", inline_config);
  }
};
// The same version 1 without UnknownFields: tolerant mode must still refuse it.
struct Strict {
  BRINE_TYPE("tol.Config", 1);
  std::string name;
  std::int32_t retries = 0;
  template <class A>
  void getstate(A& ar) const {
    ar("name", name)("retries", retries);
  }
  template <class A>
  void setstate(A& ar) {
    ar("name", name)("retries", retries);
  }
};
}  // namespace v1

v2::Config newer_config() {
  v2::Config c;
  c.name = "fast";
  c.retries = 3;
  c.timeouts = {0.5, 2.0};
  return c;
}

brine::LoadOptions tolerant() {
  brine::LoadOptions o;
  o.accept_newer_class_versions = true;
  return o;
}

TEST(UnknownFields, StableArchiveOfANewerVersionRoundTripsThroughAnOlderProgram) {
  brine::Registry newer, older;
  newer.add<v2::Config>();
  older.add<v1::Config>();
  brine::Buffer original = brine::to_stable(newer_config(), newer);

  v1::Config loaded = brine::from_stable<v1::Config>(original.view(), older, tolerant());
  EXPECT_EQ(loaded.name, "fast");
  EXPECT_EQ(loaded.retries, 3);
  EXPECT_EQ(loaded.unknown().version, 2u);
  ASSERT_EQ(loaded.unknown().fields.size(), 1u);
  EXPECT_EQ(loaded.unknown().fields[0].name, "timeouts");

  loaded.retries = 4;  // the older program edits what it knows
  brine::Buffer resaved = brine::to_stable(loaded, older);
  v2::Config back = brine::from_stable<v2::Config>(resaved.view(), newer);
  EXPECT_EQ(back.name, "fast");
  EXPECT_EQ(back.retries, 4);
  EXPECT_EQ(back.timeouts, (std::vector<double>{0.5, 2.0}));

  // Unedited, the round trip gives the newer program's document back exactly.
  v1::Config untouched = brine::from_stable<v1::Config>(original.view(), older, tolerant());
  brine::Buffer again = brine::to_stable(untouched, older);
  EXPECT_EQ(brine::read_stable_values(again.view()), brine::read_stable_values(original.view()));
}

TEST(UnknownFields, JsonDocumentRoundTripsThroughAnOlderProgram) {
  brine::Registry newer, older;
  newer.add<v2::Config>();
  older.add<v1::Config>();
  std::string original = brine::to_json_archive(newer_config(), newer);
  v1::Config loaded = brine::from_json_archive<v1::Config>(original, older, tolerant());
  EXPECT_EQ(loaded.unknown().version, 2u);
  std::string resaved = brine::to_json_archive(loaded, older);
  EXPECT_EQ(resaved, original);
  EXPECT_EQ(brine::from_json_archive<v2::Config>(resaved, newer).timeouts, newer_config().timeouts);
}

TEST(UnknownFields, KeptBehindSharedPointersAndInline) {
  brine::Registry newer, older;
  newer.add<v2::Config>();
  newer.add<v2::Holder>();
  older.add<v1::Config>();
  older.add<v1::Holder>();
  v2::Holder h;
  h.first = std::make_shared<v2::Config>(newer_config());
  h.second = h.first;
  h.inline_config = newer_config();
  h.inline_config.timeouts = {9.0};
  brine::Buffer original = brine::to_stable(h, newer);

  v1::Holder loaded = brine::from_stable<v1::Holder>(original.view(), older, tolerant());
  ASSERT_TRUE(loaded.first);
  EXPECT_EQ(loaded.first, loaded.second) << "sharing survives tolerant loading";
  EXPECT_EQ(loaded.first->unknown().fields.size(), 1u);
  EXPECT_EQ(loaded.inline_config.unknown().version, 2u);

  v2::Holder back = brine::from_stable<v2::Holder>(brine::to_stable(loaded, older).view(), newer);
  ASSERT_TRUE(back.first);
  EXPECT_EQ(back.first, back.second);
  EXPECT_EQ(back.first->timeouts, newer_config().timeouts);
  EXPECT_EQ(back.inline_config.timeouts, (std::vector<double>{9.0}));
}

TEST(UnknownFields, BinaryArchiveOfANewerVersionLoadsTolerantly) {
  brine::Registry newer, older;
  newer.add<v2::Config>();
  older.add<v1::Config>();
  brine::Buffer bytes = brine::to_binary(newer_config(), newer);
  v1::Config loaded = brine::from_binary<v1::Config>(bytes.view(), older, tolerant());
  EXPECT_EQ(loaded.retries, 3);
  EXPECT_EQ(loaded.unknown().version, 2u);
  // The positional binary archive has no room for the kept fields: refused, not dropped.
  EXPECT_THROW_WITH(brine::to_binary(loaded, older), brine::SchemaError, "cannot carry them");
  // A stable archive carries them.
  v2::Config back = brine::from_stable<v2::Config>(brine::to_stable(loaded, older).view(), newer);
  EXPECT_EQ(back.timeouts, newer_config().timeouts);
}

TEST(UnknownFields, NewerVersionIsRefusedWithoutTolerantMode) {
  brine::Registry newer, older;
  newer.add<v2::Config>();
  older.add<v1::Config>();
  brine::Buffer stable = brine::to_stable(newer_config(), newer);
  EXPECT_THROW_WITH(brine::from_stable<v1::Config>(stable.view(), older), brine::VersionError,
                    "class version 2 of 'tol.Config', this build knows up to 1");
  brine::Buffer binary = brine::to_binary(newer_config(), newer);
  EXPECT_THROW_WITH(brine::from_binary<v1::Config>(binary.view(), older), brine::VersionError,
                    "class version 2");
}

TEST(UnknownFields, TolerantModeStillRefusesTypesThatWouldLoseFields) {
  brine::Registry newer, strict;
  newer.add<v2::Config>();
  strict.add<v1::Strict>();
  brine::Buffer stable = brine::to_stable(newer_config(), newer);
  EXPECT_THROW_WITH(brine::from_stable<v1::Strict>(stable.view(), strict, tolerant()),
                    brine::VersionError, "class version 2");
  brine::Buffer binary = brine::to_binary(newer_config(), newer);
  EXPECT_THROW_WITH(brine::from_binary<v1::Strict>(binary.view(), strict, tolerant()),
                    brine::VersionError, "class version 2");
}

// A newer version that removed a field the older one reads is not "only additions".
TEST(UnknownFields, NewerVersionWithoutAFieldTheOlderReadsIsMissingField) {
  brine::Registry newer, older;
  newer.add<v2::Config>();
  older.add<v1::Config>();
  brine::Value state = brine::to_state(newer_config(), newer);
  state.as_object().erase("retries");
  brine::Buffer bytes;
  {
    brine::BufferSink sink(bytes);
    brine::StableWriter writer(sink, newer);
    writer.write_value(state);
    writer.finish();
  }
  try {
    brine::from_stable<v1::Config>(bytes.view(), older, tolerant());
    FAIL() << "loaded without 'retries'";
  } catch (const brine::SchemaError& e) {
    EXPECT_EQ(e.code(), brine::errc::missing_field) << e.what();
    EXPECT_EQ(e.context().field_path, "retries");
  }
}

TEST(UnknownFields, SameVersionKeepsFieldsItDoesNotWrite) {
  brine::Registry older;
  older.add<v1::Config>();
  v1::Config c;
  c.name = "n";
  brine::Value state = brine::to_state(c, older);
  state.as_object().set("comment", brine::Value("added by hand"));
  v1::Config loaded = brine::from_state<v1::Config>(state, older);
  EXPECT_EQ(loaded.unknown().version, 0u);
  ASSERT_EQ(loaded.unknown().fields.size(), 1u);
  EXPECT_EQ(brine::to_state(loaded, older), state);
}

}  // namespace
