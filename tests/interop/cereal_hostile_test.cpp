// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// cereal_hostile_test.cpp: damaged cereal archives given to import_cereal: every legacy
// archive cut at every offset and with each byte flipped gives a typed brine error or an
// object, never a crash (run under AddressSanitizer too); and each case brine's side handles
// before cereal acts (size bombs, nesting bombs, bad byte order, oversized input).

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cereal/types/array.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "cereal_legacy_types.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using brine::interop::CerealFormat;
using brine::interop::import_cereal;

const fs::path kLegacyDir = BRINE_CEREAL_LEGACY_DIR;

struct Archive {
  std::string name;
  std::string bytes;
  CerealFormat format;
  bool station;
};

std::vector<Archive> legacy_archives() {
  std::vector<Archive> result;
  for (const auto& entry : fs::directory_iterator(kLegacyDir)) {
    const std::string ext = entry.path().extension().string();
    CerealFormat format;
    if (ext == ".bin") {
      format = CerealFormat::binary;
    } else if (ext == ".pbin") {
      format = CerealFormat::portable_binary;
    } else if (ext == ".json") {
      format = CerealFormat::json;
    } else if (ext == ".xml") {
      format = CerealFormat::xml;
    } else {
      continue;
    }
    const std::string name = entry.path().filename().string();
    result.push_back({name, brine::read_file(entry.path()), format, name.rfind("station", 0) == 0});
  }
  std::sort(result.begin(), result.end(),
            [](const Archive& a, const Archive& b) { return a.name < b.name; });
  return result;
}

// Imports `bytes` as the archive's class; true when it loaded, false on a brine error. Any
// other exception escapes and fails the test.
bool import_as(const Archive& archive, const std::string& bytes) {
  try {
    if (archive.station) {
      (void)import_cereal<legacy_app::Station>(bytes, archive.format, {}, archive.name);
    } else {
      (void)import_cereal<legacy_app::Sensor>(bytes, archive.format, {}, archive.name);
    }
    return true;
  } catch (const brine::Error& e) {
    // Every message names the format it was reading.
    EXPECT_NE(std::string(e.what()).find("cereal"), std::string::npos) << e.what();
    return false;
  }
}

TEST(CerealImportHostile, EveryTruncationIsATypedErrorOrAnObject) {
  for (const Archive& archive : legacy_archives()) {
    SCOPED_TRACE(archive.name);
    std::size_t refused = 0;
    for (std::size_t n = 0; n < archive.bytes.size(); ++n) {
      if (!import_as(archive, archive.bytes.substr(0, n))) ++refused;
    }
    // Binary archives end with their last value: every cut loses part of it.
    if (archive.format == CerealFormat::binary || archive.format == CerealFormat::portable_binary)
      EXPECT_EQ(refused, archive.bytes.size());
    else
      EXPECT_GT(refused, 0u);
    EXPECT_TRUE(import_as(archive, archive.bytes));  // the still-round-trips sibling
  }
}

TEST(CerealImportHostile, EveryByteFlipIsATypedErrorOrAnObject) {
  for (const Archive& archive : legacy_archives()) {
    SCOPED_TRACE(archive.name);
    for (std::size_t i = 0; i < archive.bytes.size(); ++i) {
      for (unsigned char mask : {0x01, 0xFF}) {
        std::string damaged = archive.bytes;
        damaged[i] = static_cast<char>(static_cast<unsigned char>(damaged[i]) ^ mask);
        (void)import_as(archive, damaged);
      }
    }
  }
}

std::string binary_sensor() { return brine::read_file(kLegacyDir / "sensor_v2.bin"); }

// Regression: a size tag is 8 bytes cereal trusts; cereal's vector load resizes to it first.
TEST(CerealImportHostile, SizeLargerThanTheInputIsRefusedBeforeAllocation) {
  // sensor_v2.bin: version (4), name size (8) + "thermo" (6), id (4), readings size (8)...
  std::string bytes = binary_sensor();
  const std::size_t readings_size_at = 4 + 8 + 6 + 4;
  const std::uint64_t huge = std::uint64_t{1} << 40;
  std::memcpy(&bytes[readings_size_at], &huge, sizeof huge);
  try {
    (void)import_cereal<legacy_app::Sensor>(bytes, CerealFormat::binary, {}, "bomb.bin");
    FAIL() << "no error";
  } catch (const brine::FormatError& e) {
    EXPECT_EQ(e.code(), brine::errc::truncated_input);
    EXPECT_EQ(e.context().byte_offset, readings_size_at + 8);
    EXPECT_NE(std::string(e.what()).find("1099511627776"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("bomb.bin"), std::string::npos) << e.what();
  }
}

TEST(CerealImportHostile, StringSizeLargerThanTheInputIsRefused) {
  std::string bytes = binary_sensor();
  const std::uint64_t huge = ~std::uint64_t{0};
  std::memcpy(&bytes[4], &huge, sizeof huge);  // the name's size
  EXPECT_THROW_WITH(import_cereal<legacy_app::Sensor>(bytes, CerealFormat::binary),
                    brine::FormatError, "remain");
}

// A chain of objects one byte per level would recurse in cereal's loader until the stack ends.
struct Chain {
  std::unique_ptr<Chain> next;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(next));
  }
};

std::string chain_archive(std::size_t depth) {
  std::ostringstream out;
  {
    cereal::BinaryOutputArchive ar(out);
    Chain root;
    Chain* last = &root;
    for (std::size_t i = 0; i < depth; ++i) {
      last->next = std::make_unique<Chain>();
      last = last->next.get();
    }
    ar(root);
    // Unlink iteratively: the default destructor would recurse as deep.
    while (root.next) root.next = std::move(root.next->next);
  }
  return out.str();
}

TEST(CerealImportHostile, BinaryNestingBeyondMaxDepthIsALimitError) {
  brine::interop::CerealImportOptions options;
  options.max_depth = 64;
  EXPECT_THROW_WITH(import_cereal<Chain>(chain_archive(100), CerealFormat::binary, options),
                    brine::LimitError, "CerealImportOptions::max_depth (64)");
  Chain shallow = import_cereal<Chain>(chain_archive(10), CerealFormat::binary, options);
  std::size_t depth = 0;
  for (Chain* c = shallow.next.get(); c != nullptr; c = c->next.get()) ++depth;
  EXPECT_EQ(depth, 10u);
}

TEST(CerealImportHostile, JsonNestingBombIsRefusedBeforeParsing) {
  const std::string bomb =
      "{\"value0\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_THROW_WITH(import_cereal<legacy_app::Sensor>(bomb, CerealFormat::json), brine::LimitError,
                    "max_depth (256)");
}

TEST(CerealImportHostile, XmlNestingBombIsRefusedBeforeParsing) {
  std::string bomb = "<?xml version=\"1.0\"?><cereal>";
  for (int i = 0; i < 100000; ++i) bomb += "<a>";
  EXPECT_THROW_WITH(import_cereal<legacy_app::Sensor>(bomb, CerealFormat::xml), brine::LimitError,
                    "max_depth (256)");
}

struct Flag {
  bool on = false;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(on));
  }
};

// cereal copies an archive byte into a bool, undefined behaviour for anything but 0 and 1.
TEST(CerealImportHostile, BoolOtherThanZeroOrOneIsAFormatError) {
  EXPECT_THROW_WITH(import_cereal<Flag>(std::string(1, '\x02'), CerealFormat::binary),
                    brine::FormatError, "a bool holds 2");
  EXPECT_TRUE(import_cereal<Flag>(std::string(1, '\x01'), CerealFormat::binary).on);
  EXPECT_FALSE(import_cereal<Flag>(std::string(2, '\x00'), CerealFormat::portable_binary).on);
}

TEST(CerealImportHostile, BadByteOrderFlagIsAFormatError) {
  std::string bytes = brine::read_file(kLegacyDir / "sensor_v2.pbin");
  bytes[0] = 7;
  EXPECT_THROW_WITH(import_cereal<legacy_app::Sensor>(bytes, CerealFormat::portable_binary),
                    brine::FormatError, "byte order flag 7");
}

TEST(CerealImportHostile, ArchiveOverMaxBytesIsALimitError) {
  brine::interop::CerealImportOptions options;
  options.max_bytes = 16;
  EXPECT_THROW_WITH(
      import_cereal<legacy_app::Sensor>(binary_sensor(), CerealFormat::binary, options),
      brine::LimitError, "CerealImportOptions::max_bytes (16)");
}

TEST(CerealImportHostile, UnregisteredPolymorphicNameIsASchemaError) {
  std::string bytes = brine::read_file(kLegacyDir / "station_v2.bin");
  const auto at = bytes.find("legacy.Circle");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 7] = 'X';  // "legacy.Xircle": same length, not registered
  try {
    (void)import_cereal<legacy_app::Station>(bytes, CerealFormat::binary);
    FAIL() << "no error";
  } catch (const brine::SchemaError& e) {
    EXPECT_EQ(e.code(), brine::errc::unknown_type);
    EXPECT_NE(std::string(e.what()).find("legacy.Xircle"), std::string::npos) << e.what();
  }
}

// Regression: cereal's XML reader dereferences a null node when an unnamed value is read and
// the root is empty; the import reads the top-level value by its element's name.
TEST(CerealImportHostile, XmlWithoutAValueIsAFormatError) {
  for (const char* text : {"<?xml version=\"1.0\"?><cereal></cereal>", "<cereal/>",
                           "<?xml version=\"1.0\"?><cereal><!-- x --></cereal>"}) {
    SCOPED_TRACE(text);
    EXPECT_THROW_WITH(import_cereal<legacy_app::Sensor>(text, CerealFormat::xml),
                      brine::FormatError, "holds no value");
  }
}

TEST(CerealImportHostile, JsonWithoutAValueIsAFormatError) {
  EXPECT_THROW_WITH(import_cereal<legacy_app::Sensor>("{}", CerealFormat::json), brine::FormatError,
                    "cereal json archive");
}

// Regression: fuzz_cereal_import (an XML station): cereal keeps shared objects untyped by id and
// cast a reference to the air Sensor into a shared_ptr<Shape>; the import checks the type.
TEST(CerealImportHostile, SharedPointerIdOfAnotherTypeIsATypeMismatch) {
  struct Case {
    const char* file;
    const char* reference;  // the third shape: a reference to the circle, id 3
    const char* retarget;   // to the air sensor, id 1
    CerealFormat format;
  };
  for (const Case& c : {Case{"station_v2.json", "\"id\": 3", "\"id\": 1", CerealFormat::json},
                        Case{"station_v2.xml", "<id>3</id>", "<id>1</id>", CerealFormat::xml}}) {
    SCOPED_TRACE(c.file);
    std::string text = brine::read_file(kLegacyDir / c.file);
    const auto at = text.rfind(c.reference);
    ASSERT_NE(at, std::string::npos);
    text.replace(at, std::strlen(c.reference), c.retarget);
    try {
      (void)import_cereal<legacy_app::Station>(text, c.format);
      FAIL() << "no error";
    } catch (const brine::SchemaError& e) {
      EXPECT_EQ(e.code(), brine::errc::type_mismatch);
      EXPECT_NE(std::string(e.what()).find("shared pointer id 1"), std::string::npos) << e.what();
    }
  }
}

TEST(CerealImportHostile, JsonTypeMismatchIsAFormatError) {
  std::string text = brine::read_file(kLegacyDir / "sensor_v2.json");
  const auto at = text.find("\"id\": 7");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 7, "\"id\": \"seven\"");
  EXPECT_THROW_WITH(import_cereal<legacy_app::Sensor>(text, CerealFormat::json), brine::FormatError,
                    "cereal json archive");
}

// A class with fixed-size arrays, which cereal's XML archive writes as unnamed elements.
struct Grid {
  std::array<int, 3> cells{};
  double corners[2] = {};
  template <class Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(cells), CEREAL_NVP(corners));
  }
};

// Regression: fuzz_cereal_import (an XML station whose circle's data element is empty):
// cereal's XML reader builds its node state on a null pointer when a value without a name
// (a base class, an element of a fixed-size array) is read and no element is left. The import
// checks the element is there first.
TEST(CerealImportHostile, XmlMissingBaseClassElementIsAFormatError) {
  const std::string text = brine::read_file(kLegacyDir / "station_v2.xml");
  const std::string circle_data =
      "<data>\n\t\t\t\t\t\t<value0>\n\t\t\t\t\t\t\t<label>buoy</label>\n\t\t\t\t\t\t</value0>\n"
      "\t\t\t\t\t\t<radius>0.75</radius>\n\t\t\t\t\t</data>";
  const std::size_t at = text.find(circle_data);
  ASSERT_NE(at, std::string::npos) << "fixture lost its marker";
  std::string damaged = text;
  damaged.replace(at, circle_data.size(), "<data></data>");
  EXPECT_THROW_WITH(import_cereal<legacy_app::Station>(damaged, CerealFormat::xml),
                    brine::FormatError, "no element left for a base class");
  // The archive as written still loads, base class and all.
  const legacy_app::Station station = import_cereal<legacy_app::Station>(text, CerealFormat::xml);
  ASSERT_FALSE(station.shapes.empty());
  EXPECT_EQ(station.shapes[0]->label, "buoy");
}

TEST(CerealImportHostile, XmlArrayWithMissingElementsIsAFormatError) {
  Grid grid;
  grid.cells = {1, 2, 3};
  grid.corners[0] = 0.5;
  grid.corners[1] = -4;
  std::ostringstream out;
  {
    cereal::XMLOutputArchive archive(out);
    archive(cereal::make_nvp("grid", grid));
  }
  const std::string text = out.str();
  const Grid back = import_cereal<Grid>(text, CerealFormat::xml);
  EXPECT_EQ(back.cells, grid.cells);
  EXPECT_EQ(back.corners[1], -4);

  std::string short_array = text;
  const std::size_t third = short_array.find("<value2>3</value2>");
  ASSERT_NE(third, std::string::npos) << text;
  short_array.erase(third, std::strlen("<value2>3</value2>"));
  EXPECT_THROW_WITH(import_cereal<Grid>(short_array, CerealFormat::xml), brine::FormatError,
                    "a std::array of 3 elements holds 2");
  std::string empty_corners = text;
  const std::size_t corners = empty_corners.find("<corners");
  ASSERT_NE(corners, std::string::npos);
  const std::size_t end = empty_corners.find("</corners>", corners);
  empty_corners.replace(corners, end + std::strlen("</corners>") - corners, "<corners></corners>");
  EXPECT_THROW_WITH(import_cereal<Grid>(empty_corners, CerealFormat::xml), brine::FormatError,
                    "an array of 2 elements holds 0");
}

// Regression: fuzz_cereal_import (UBSan, rapidjson/internal/diyfp.h: clz of zero): RapidJSON
// 1.1 normalizes a zero significand for a zero with a large exponent or many fraction digits.
// The import rewrites such a zero "0.0", its value either way; strings and other numbers are
// left as they are.
TEST(CerealImportHostile, JsonZeroWithLargeExponentReadsAsZero) {
  const std::string text = brine::read_file(kLegacyDir / "sensor_v2.json");
  std::string zeros = text;
  zeros.replace(zeros.find("21.5"), 4, "0e51");
  zeros.replace(zeros.find("22.0"), 4, "-0.000E+400");
  zeros.replace(zeros.find("\"thermo\""), 8, "\"0e999\"");
  const legacy_app::Sensor sensor = import_cereal<legacy_app::Sensor>(zeros, CerealFormat::json);
  ASSERT_EQ(sensor.readings.size(), 3u);
  EXPECT_EQ(sensor.readings[0], 0.0);
  EXPECT_EQ(sensor.readings[1], 0.0);
  EXPECT_TRUE(std::signbit(sensor.readings[1]));
  EXPECT_EQ(sensor.readings[2], 22.5);
  EXPECT_EQ(sensor.name, "0e999");
  std::string long_fraction = text;
  long_fraction.replace(long_fraction.find("22.5"), 4, "0." + std::string(60, '0'));
  EXPECT_EQ(import_cereal<legacy_app::Sensor>(long_fraction, CerealFormat::json).readings[2], 0.0);
  // A rewrite does not join what follows into a new number: "0e0e50" is not "0.0e50".
  for (const char* junk : {"0e0e50", "0e00e51", "0.00e99e99"}) {
    std::string joined = text;
    joined.replace(joined.find("21.5"), 4, junk);
    EXPECT_THROW(import_cereal<legacy_app::Sensor>(joined, CerealFormat::json), brine::FormatError)
        << junk;
  }
  // A nonzero digit keeps its exponent, and the number its value.
  std::string small = text;
  small.replace(small.find("21.5"), 4, "0.5e-3");
  EXPECT_EQ(import_cereal<legacy_app::Sensor>(small, CerealFormat::json).readings[0], 0.5e-3);
  // An exponent without digits is not blanked: the text stays invalid.
  std::string invalid = text;
  invalid.replace(invalid.find("21.5"), 4, "0e ");
  EXPECT_THROW(import_cereal<legacy_app::Sensor>(invalid, CerealFormat::json), brine::FormatError);
}

}  // namespace
