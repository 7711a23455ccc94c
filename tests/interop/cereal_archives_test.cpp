// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// cereal_archives_test.cpp: brine types as members of classes saved by cereal's own binary,
// portable binary, JSON and XML archives; and a cereal class carried across class versions
// by a brine migration.

#include <gtest/gtest.h>

#include <brine/interop/cereal.hpp>
#include <cereal/types/vector.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace tally {

// An ordinary brine type with brine hooks.
struct Tally {
  BRINE_TYPE("test.Tally", 1);
  std::string label;
  std::vector<std::int64_t> counts;
  template <class Archive>
  void getstate(Archive& ar) const {
    ar("label", label)("counts", counts);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    ar("label", label)("counts", counts);
  }
};

// A cereal class holding brine types.
struct Ledger {
  std::string owner;
  Tally main;
  std::vector<Tally> history;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(owner), CEREAL_NVP(main), CEREAL_NVP(history));
  }
};

}  // namespace tally

BRINE_REGISTER(tally::Tally);

namespace both {
// A class described for both libraries, as during a move: each library keeps its own.
struct Pair {
  BRINE_TYPE("test.Pair", 1);
  int a = 0;
  int b = 0;
  template <class Archive>
  void getstate(Archive& ar) const {
    ar("first", a)("second", b);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    ar("first", a)("second", b);
  }
  template <class Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(a), CEREAL_NVP(b));
  }
};
}  // namespace both

namespace probe {
namespace v1 {
// Release 1 of a cereal class: Celsius.
struct Probe {
  double celsius = 0;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(celsius));
  }
};
}  // namespace v1
// Release 2: Kelvin, same brine name, class version 2.
struct Probe {
  double kelvin = 0;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(kelvin));
  }
};
}  // namespace probe

CEREAL_CLASS_VERSION(probe::v1::Probe, 1)
CEREAL_CLASS_VERSION(probe::Probe, 2)
BRINE_CEREAL_TYPE(probe::v1::Probe, "test.Probe");
BRINE_CEREAL_TYPE(probe::Probe, "test.Probe");

namespace {

tally::Ledger make_ledger() {
  tally::Ledger ledger;
  ledger.owner = "ada";
  ledger.main = {"main", {1, -2, 3}};
  ledger.history = {{"jan", {4}}, {"feb", {}}};
  return ledger;
}

void expect_ledger(const tally::Ledger& loaded) {
  EXPECT_EQ(loaded.owner, "ada");
  EXPECT_EQ(loaded.main.label, "main");
  EXPECT_EQ(loaded.main.counts, (std::vector<std::int64_t>{1, -2, 3}));
  ASSERT_EQ(loaded.history.size(), 2u);
  EXPECT_EQ(loaded.history[0].label, "jan");
  EXPECT_EQ(loaded.history[0].counts, std::vector<std::int64_t>{4});
  EXPECT_EQ(loaded.history[1].label, "feb");
}

template <class Out, class In>
std::string round_trip(const tally::Ledger& ledger, tally::Ledger& loaded) {
  std::stringstream stream;
  {
    Out ar(stream);
    ar(cereal::make_nvp("ledger", ledger));
  }
  const std::string bytes = stream.str();
  {
    In ar(stream);
    ar(cereal::make_nvp("ledger", loaded));
  }
  return bytes;
}

TEST(BrineTypesInCereal, RoundTripInBinaryArchive) {
  tally::Ledger loaded;
  round_trip<cereal::BinaryOutputArchive, cereal::BinaryInputArchive>(make_ledger(), loaded);
  expect_ledger(loaded);
}

TEST(BrineTypesInCereal, RoundTripInPortableBinaryArchive) {
  tally::Ledger loaded;
  round_trip<cereal::PortableBinaryOutputArchive, cereal::PortableBinaryInputArchive>(make_ledger(),
                                                                                      loaded);
  expect_ledger(loaded);
}

TEST(BrineTypesInCereal, RoundTripInJsonArchiveAsReadableJson) {
  tally::Ledger loaded;
  const std::string text =
      round_trip<cereal::JSONOutputArchive, cereal::JSONInputArchive>(make_ledger(), loaded);
  expect_ledger(loaded);
  EXPECT_NE(text.find("brine_json"), std::string::npos) << text;
  EXPECT_NE(text.find("test.Tally"), std::string::npos) << text;
}

TEST(BrineTypesInCereal, RoundTripInXmlArchive) {
  tally::Ledger loaded;
  const std::string text =
      round_trip<cereal::XMLOutputArchive, cereal::XMLInputArchive>(make_ledger(), loaded);
  expect_ledger(loaded);
  EXPECT_NE(text.find("test.Tally"), std::string::npos) << text;
}

TEST(BrineTypesInCereal, ImportedThroughBrinesBoundedArchives) {
  std::stringstream stream;
  {
    cereal::BinaryOutputArchive ar(stream);
    ar(make_ledger());
  }
  expect_ledger(brine::interop::import_cereal<tally::Ledger>(stream.str(),
                                                             brine::interop::CerealFormat::binary));
}

TEST(BrineTypesInCereal, DamagedBrineStateIsABrineError) {
  std::stringstream stream;
  {
    cereal::BinaryOutputArchive ar(stream);
    ar(make_ledger());
  }
  std::string bytes = stream.str();
  // The first Tally's CBOR bytes follow the owner ("ada") and the Tally's own size tag.
  const std::size_t tally_start = 8 + 3 + 8;
  bytes[tally_start + 4] = static_cast<char>(bytes[tally_start + 4] ^ 0x55);
  EXPECT_THROW(
      brine::interop::import_cereal<tally::Ledger>(bytes, brine::interop::CerealFormat::binary),
      brine::Error);
}

TEST(BrineTypesInCereal, ClassWithBothKeepsEachLibrarysFunctions) {
  std::stringstream stream;
  {
    cereal::JSONOutputArchive ar(stream);
    ar(cereal::make_nvp("pair", both::Pair{1, 2}));
  }
  const std::string json = stream.str();
  EXPECT_EQ(json.find("brine_json"), std::string::npos) << json;
  EXPECT_NE(json.find("\"a\": 1"), std::string::npos) << json;
  const brine::Value state = brine::to_state(both::Pair{1, 2});
  EXPECT_NE(state.as_object().find("first"), nullptr);
}

template <class Save, class Load>
void migrate_probe(Save save, Load load) {
  brine::Registry release1;
  release1.add<probe::v1::Probe>();
  brine::Registry release2;
  release2.add<probe::Probe>().migration(
      1,
      brine::migrate::sequence({brine::migrate::rename_field("celsius", "kelvin"),
                                brine::migrate::convert_field("kelvin",
                                                              [](const brine::Value& c) {
                                                                return brine::Value(c.as_double() +
                                                                                    273.15);
                                                              })}),
      "celsius to kelvin");
  const std::string bytes = save(probe::v1::Probe{20}, release1);
  const probe::Probe loaded = load(bytes, release2);
  EXPECT_DOUBLE_EQ(loaded.kelvin, 293.15);
}

TEST(CerealHooksMigration, StableArchiveOfOlderClassVersionMigrates) {
  migrate_probe([](const probe::v1::Probe& p,
                   brine::Registry& r) { return std::string(brine::to_stable(p, r).view()); },
                [](const std::string& bytes, const brine::Registry& r) {
                  return brine::from_stable<probe::Probe>(bytes, r);
                });
}

TEST(CerealHooksMigration, BinaryArchiveOfOlderClassVersionMigrates) {
  migrate_probe([](const probe::v1::Probe& p,
                   brine::Registry& r) { return std::string(brine::to_binary(p, r).view()); },
                [](const std::string& bytes, const brine::Registry& r) {
                  return brine::from_binary<probe::Probe>(bytes, r);
                });
}

TEST(CerealHooksMigration, WithoutMigrationTheMissingFieldIsNamed) {
  brine::Registry release1;
  release1.add<probe::v1::Probe>();
  brine::Registry release2;
  release2.add<probe::Probe>();
  const brine::Buffer bytes = brine::to_stable(probe::v1::Probe{20}, release1);
  EXPECT_THROW_WITH(brine::from_stable<probe::Probe>(bytes.view(), release2), brine::Error,
                    "kelvin");
}

}  // namespace
