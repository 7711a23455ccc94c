// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// boost_legacy_test.cpp: every committed legacy Boost archive (tests/golden/legacy/boost,
// written once by Boost 1.74 at class versions 0, 1 and 2) imports with today's classes, holds
// the values the writer put in, and re-saves as a stable brine archive that loads back equal.

#include <gtest/gtest.h>

#include <sstream>

#include "boost_legacy_support.hpp"

namespace {

using brine::interop::BoostFormat;
using brine_test::LegacyArchive;

void expect_sensor(const legacy::Sensor& got, unsigned version) {
  const legacy::Sensor want = legacy::sample_sensor(version);
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.readings, want.readings);
  EXPECT_EQ(got.unit, want.unit);  // "none", the default, for version 0
  EXPECT_EQ(got.calibration, want.calibration);
}

void expect_network(const legacy::Network& got, unsigned version) {
  ASSERT_EQ(got.devices.size(), 3u);
  EXPECT_EQ(got.devices[0], got.devices[2]);  // one sensor behind three pointers
  EXPECT_EQ(got.primary, got.devices[0]);
  const auto* sensor = dynamic_cast<const legacy::Sensor*>(got.devices[0].get());
  const auto* relay = dynamic_cast<const legacy::Relay*>(got.devices[1].get());
  ASSERT_NE(sensor, nullptr);
  ASSERT_NE(relay, nullptr);
  expect_sensor(*sensor, version);
  EXPECT_EQ(relay->id, 9);
  EXPECT_TRUE(relay->closed);
  EXPECT_EQ(got.site, version >= 1 ? "plant-3" : "unnamed");
}

class BoostLegacy : public ::testing::TestWithParam<LegacyArchive> {};

TEST_P(BoostLegacy, ImportsAndResavesAsStableArchive) {
  const LegacyArchive& archive = GetParam();
  const std::string bytes = brine_test::legacy_boost_bytes(archive.file);
  brine_test::TempDir dir;
  if (archive.object == "sensor") {
    const auto sensor = brine::interop::import_boost<legacy::Sensor>(bytes, archive.format);
    expect_sensor(sensor, archive.version);
    brine::save_stable(dir / "sensor.brine", sensor);
    expect_sensor(brine::load_stable<legacy::Sensor>(dir / "sensor.brine"), archive.version);
    expect_sensor(brine::from_binary<legacy::Sensor>(brine::to_binary(sensor).view()),
                  archive.version);
  } else {
    const auto network = brine::interop::import_boost<legacy::Network>(bytes, archive.format);
    expect_network(network, archive.version);
    brine::save_stable(dir / "network.brine", network);
    expect_network(brine::load_stable<legacy::Network>(dir / "network.brine"), archive.version);
  }
}

TEST_P(BoostLegacy, ImportsFromAFile) {
  const LegacyArchive& archive = GetParam();
  const std::string path = std::string(BRINE_LEGACY_BOOST_DIR) + "/" + archive.file;
  if (archive.object == "sensor") {
    expect_sensor(brine::interop::import_boost_file<legacy::Sensor>(path, archive.format),
                  archive.version);
  } else {
    expect_network(brine::interop::import_boost_file<legacy::Network>(path, archive.format),
                   archive.version);
  }
}

INSTANTIATE_TEST_SUITE_P(Golden, BoostLegacy,
                         ::testing::ValuesIn(brine_test::legacy_boost_archives()),
                         [](const ::testing::TestParamInfo<LegacyArchive>& info) {
                           std::string name = info.param.file;
                           for (char& c : name)
                             if (c == '.' || c == '_') c = 'X';
                           return name;
                         });

// Archives the project never committed: whatever this Boost writes today for the classes.
TEST(BoostImport, ReadsWhatBoostWritesNow) {
  const legacy::Network network = legacy::sample_network(2);
  std::stringstream text, xml, binary;
  {
    boost::archive::text_oarchive ar(text);
    ar << boost::serialization::make_nvp("data", network);
  }
  {
    boost::archive::xml_oarchive ar(xml);
    ar << boost::serialization::make_nvp("data", network);
  }
  {
    boost::archive::binary_oarchive ar(binary);
    ar << boost::serialization::make_nvp("data", network);
  }
  expect_network(brine::interop::import_boost<legacy::Network>(text.str(), BoostFormat::text), 2);
  expect_network(brine::interop::import_boost<legacy::Network>(xml.str(), BoostFormat::xml), 2);
  expect_network(brine::interop::import_boost<legacy::Network>(binary.str(), BoostFormat::binary),
                 2);
}

TEST(BoostImport, MissingFileIsAnIoError) {
  EXPECT_THROW_WITH(
      brine::interop::import_boost_file<legacy::Sensor>("/nonexistent/a.bin", BoostFormat::binary),
      brine::IoError, "a.bin");
}

}  // namespace
