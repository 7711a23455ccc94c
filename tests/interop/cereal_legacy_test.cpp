// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// cereal_legacy_test.cpp: every legacy archive cereal wrote (tests/golden/legacy/cereal, never
// regenerated) imports with today's classes, holds the values it was written with, and
// re-saves as a stable brine archive that loads back the same.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "cereal_legacy_types.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using brine::interop::CerealFormat;

const fs::path kLegacyDir = BRINE_CEREAL_LEGACY_DIR;

CerealFormat format_of(const fs::path& file) {
  const std::string ext = file.extension().string();
  if (ext == ".bin") return CerealFormat::binary;
  if (ext == ".pbin") return CerealFormat::portable_binary;
  if (ext == ".json") return CerealFormat::json;
  return CerealFormat::xml;
}

std::vector<fs::path> archives(const std::string& prefix) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(kLegacyDir)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) == 0 && entry.path().extension() != ".md")
      files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The class version an archive was written at: the digit after "_v" in its name.
int version_of(const fs::path& file) {
  const std::string name = file.filename().string();
  return name[name.find("_v") + 2] - '0';
}

std::vector<double> readings_from(double first, int version) {
  if (version < 2) return {first};
  return {first, first + 0.5, first + 1};
}

void expect_sensor(const legacy_app::Sensor& s, const std::string& name, std::int32_t id,
                   double first, int version) {
  EXPECT_EQ(s.name, name);
  EXPECT_EQ(s.id, id);
  EXPECT_EQ(s.readings, readings_from(first, version));
  EXPECT_EQ(s.unit, version >= 1 ? "C" : "");
}

void expect_station(const legacy_app::Station& st, int version) {
  EXPECT_EQ(st.name, "pier-" + std::to_string(version));
  ASSERT_EQ(st.sensors.size(), 3u);
  EXPECT_EQ(st.sensors[0], st.sensors[2]);  // shared in the archive, shared again
  expect_sensor(*st.sensors[0], "air", 1, 21.5, version);
  expect_sensor(*st.sensors[1], "water", 2, 14.25, version);
  ASSERT_NE(st.spare, nullptr);
  expect_sensor(*st.spare, "spare", 3, -1, version);
  ASSERT_EQ(st.shapes.size(), 3u);
  EXPECT_EQ(st.shapes[0], st.shapes[2]);
  const auto* circle = dynamic_cast<const legacy_app::Circle*>(st.shapes[0].get());
  ASSERT_NE(circle, nullptr);
  EXPECT_EQ(circle->label, "buoy");
  EXPECT_EQ(circle->radius, 0.75);
  const auto* rect = dynamic_cast<const legacy_app::Rect*>(st.shapes[1].get());
  ASSERT_NE(rect, nullptr);
  EXPECT_EQ(rect->label, "deck");
  EXPECT_EQ(rect->width, 4);
  EXPECT_EQ(rect->height, 2.5);
  EXPECT_EQ(st.tags, (std::map<std::string, std::int32_t>{{"depth", 12}, {"zone", 3}}));
}

TEST(CerealLegacy, EveryCommittedArchiveIsCovered) {
  // Three versions x four formats of each class, and the big-endian station.
  EXPECT_EQ(archives("sensor_").size(), 12u);
  EXPECT_EQ(archives("station_").size(), 13u);
}

TEST(CerealLegacy, SensorsImportAtEveryVersionAndResaveStable) {
  brine_test::TempDir dir;
  for (const fs::path& file : archives("sensor_")) {
    SCOPED_TRACE(file.filename().string());
    const int version = version_of(file);
    const auto sensor =
        brine::interop::import_cereal_file<legacy_app::Sensor>(file, format_of(file));
    expect_sensor(sensor, "thermo", 7, 21.5, version);

    const fs::path resaved = dir.path() / (file.filename().string() + ".cbor");
    brine::save_stable(resaved, sensor);
    expect_sensor(brine::load_stable<legacy_app::Sensor>(resaved), "thermo", 7, 21.5, version);
  }
}

TEST(CerealLegacy, StationGraphsImportAtEveryVersionAndResaveStable) {
  brine_test::TempDir dir;
  for (const fs::path& file : archives("station_")) {
    SCOPED_TRACE(file.filename().string());
    const int version = version_of(file);
    const auto station =
        brine::interop::import_cereal_file<legacy_app::Station>(file, format_of(file));
    expect_station(station, version);

    const fs::path resaved = dir.path() / (file.filename().string() + ".cbor");
    brine::save_stable(resaved, station);
    expect_station(brine::load_stable<legacy_app::Station>(resaved), version);
    // The binary path too: the imported graph is an ordinary brine object.
    expect_station(brine::from_binary<legacy_app::Station>(brine::to_binary(station).view()),
                   version);
  }
}

TEST(CerealLegacy, ResavedArchiveIsAtTodaysClassVersion) {
  const auto sensor = brine::interop::import_cereal_file<legacy_app::Sensor>(
      kLegacyDir / "sensor_v0.json", CerealFormat::json);
  const brine::Value state = brine::to_state(sensor);
  EXPECT_EQ(state.as_object().version, 2u);
  EXPECT_NE(state.as_object().find("readings"), nullptr);
  EXPECT_EQ(state.as_object().find("reading"), nullptr);
}

TEST(CerealLegacy, ImportFromMemoryNamesNoFile) {
  const std::string bytes = brine::read_file(kLegacyDir / "sensor_v2.bin");
  const auto sensor =
      brine::interop::import_cereal<legacy_app::Sensor>(bytes, CerealFormat::binary);
  expect_sensor(sensor, "thermo", 7, 21.5, 2);
}

TEST(CerealLegacy, WrongFormatIsAFormatErrorNamingTheFile) {
  const fs::path file = kLegacyDir / "sensor_v2.json";
  EXPECT_THROW_WITH(
      brine::interop::import_cereal_file<legacy_app::Sensor>(file, CerealFormat::binary),
      brine::FormatError, "sensor_v2.json");
  EXPECT_THROW_WITH(brine::interop::import_cereal_file<legacy_app::Sensor>(
                        kLegacyDir / "sensor_v2.bin", CerealFormat::xml),
                    brine::FormatError, "cereal xml archive");
}

}  // namespace
