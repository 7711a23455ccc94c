// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// boost_import_hostile_test.cpp: damaged Boost archives given to import_boost. Boost's loaders
// are not hardened; what brine's side handles (counts and lengths checked against the bytes
// left before Boost allocates, Boost's and the standard library's exceptions turned into brine
// errors) each has a test here, and every committed legacy archive truncated at every offset
// and with every byte flipped gives a brine error or a whole object, never a crash.

#include <gtest/gtest.h>

#include <cstring>
#include <exception>

#include "boost_legacy_support.hpp"

namespace {

using brine::interop::BoostFormat;

/// Imports `bytes` as the legacy archive's object; true when it loaded, false on a brine error,
/// and a test failure on any other exception.
bool import_or_brine_error(const brine_test::LegacyArchive& archive, const std::string& bytes) {
  try {
    if (archive.object == "sensor") {
      brine::interop::import_boost<legacy::Sensor>(bytes, archive.format);
    } else {
      brine::interop::import_boost<legacy::Network>(bytes, archive.format);
    }
    return true;
  } catch (const brine::Error&) {
    return false;
  } catch (const std::exception& e) {
    ADD_FAILURE() << archive.file << ": not a brine error: " << e.what();
    return false;
  }
}

TEST(BoostImportHostile, EveryTruncationIsABrineError) {
  for (const auto& archive : brine_test::legacy_boost_archives()) {
    const std::string bytes = brine_test::legacy_boost_bytes(archive.file);
    for (std::size_t size = 0; size < bytes.size(); ++size) {
      // A text archive cut after its last value still holds every value: it may load.
      const bool loaded = import_or_brine_error(archive, bytes.substr(0, size));
      if (loaded && archive.format == BoostFormat::binary)
        ADD_FAILURE() << archive.file << " truncated to " << size << " bytes loaded";
    }
  }
}

TEST(BoostImportHostile, EveryFlippedByteIsABrineErrorOrAnObject) {
  for (const auto& archive : brine_test::legacy_boost_archives()) {
    const std::string bytes = brine_test::legacy_boost_bytes(archive.file);
    for (std::size_t offset = 0; offset < bytes.size(); ++offset) {
      import_or_brine_error(archive, brine_test::corrupt(bytes, offset));
      std::string plus_one = bytes;
      plus_one[offset] = static_cast<char>(plus_one[offset] + 1);
      import_or_brine_error(archive, plus_one);
    }
  }
}

/// The offset of `needle` in `haystack`, failing the test when absent.
std::size_t offset_of(const std::string& haystack, const std::string& needle) {
  const std::size_t at = haystack.find(needle);
  EXPECT_NE(at, std::string::npos) << "fixture lost its marker";
  return at;
}

void put_u64(std::string& bytes, std::size_t offset, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) bytes[offset + i] = static_cast<char>(value >> (8 * i));
}

TEST(BoostImportHostile, StringLengthPastTheEndIsRefusedBeforeAllocating) {
  std::string bytes = brine_test::legacy_boost_bytes("sensor_v2.bin");
  put_u64(bytes, offset_of(bytes, "probe") - 8, 0x7fffffffffffULL);
  try {
    brine::interop::import_boost<legacy::Sensor>(bytes, BoostFormat::binary, {}, "bomb.bin");
    ADD_FAILURE() << "loaded";
  } catch (const brine::FormatError& e) {
    EXPECT_EQ(e.code(), brine::errc::corrupt_data);
    EXPECT_NE(std::string(e.what()).find("a string claims 140737488355327 elements"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("bomb.bin"), std::string::npos) << e.what();
    ASSERT_TRUE(e.context().byte_offset.has_value());
    EXPECT_EQ(*e.context().byte_offset, offset_of(bytes, "probe"));
  }
  // The same in a text archive.
  std::string text = brine_test::legacy_boost_bytes("sensor_v2.txt");
  text.replace(offset_of(text, "17 probe"), 2, "99999999999999");
  EXPECT_THROW_WITH(brine::interop::import_boost<legacy::Sensor>(text, BoostFormat::text),
                    brine::FormatError, "a string claims 99999999999999 elements");
}

TEST(BoostImportHostile, CollectionCountPastTheEndIsRefusedBeforeAllocating) {
  std::string bytes = brine_test::legacy_boost_bytes("sensor_v2.bin");
  put_u64(bytes, offset_of(bytes, "<north>") + 7, 0x10000000000ULL);
  EXPECT_THROW_WITH(brine::interop::import_boost<legacy::Sensor>(bytes, BoostFormat::binary),
                    brine::FormatError, "a collection claims 1099511627776 elements");
  std::string xml = brine_test::legacy_boost_bytes("network_v2.xml");
  xml.replace(offset_of(xml, "<count>3</count>"), 16, "<count>999999999999</count>");
  EXPECT_THROW_WITH(brine::interop::import_boost<legacy::Network>(xml, BoostFormat::xml),
                    brine::FormatError, "a collection claims 999999999999 elements");
}

TEST(BoostImportHostile, CollectionOverMaxElementsIsALimitError) {
  const std::string bytes = brine_test::legacy_boost_bytes("sensor_v2.txt");
  brine::interop::BoostImportOptions options;
  options.max_elements = 3;  // the sample has 4 readings
  EXPECT_THROW_WITH(brine::interop::import_boost<legacy::Sensor>(bytes, BoostFormat::text, options),
                    brine::LimitError, "BoostImportOptions::max_elements (3)");
  options.max_elements = 4;  // its round-trip sibling
  EXPECT_EQ(brine::interop::import_boost<legacy::Sensor>(bytes, BoostFormat::text, options)
                .readings.size(),
            4u);
}

TEST(BoostImportHostile, NotABoostArchiveIsAFormatError) {
  for (BoostFormat format : {BoostFormat::text, BoostFormat::xml, BoostFormat::binary}) {
    EXPECT_THROW_WITH(
        brine::interop::import_boost<legacy::Sensor>(std::string(64, 'x'), format, {}, "junk"),
        brine::FormatError, "junk");
  }
  std::string bytes = brine_test::legacy_boost_bytes("sensor_v2.bin");
  bytes[9] = 'X';  // "serialization::archive" is the signature
  EXPECT_THROW_WITH(brine::interop::import_boost<legacy::Sensor>(bytes, BoostFormat::binary),
                    brine::FormatError, "Boost binary archive: invalid signature");
}

TEST(BoostImportHostile, NewerBoostArchiveIsAVersionError) {
  std::string text = brine_test::legacy_boost_bytes("sensor_v2.txt");
  text.replace(offset_of(text, "archive 18"), 10, "archive 99");
  EXPECT_THROW_WITH(brine::interop::import_boost<legacy::Sensor>(text, BoostFormat::text),
                    brine::VersionError, "Boost text archive");
}

// Regression: a flipped byte turned a pointer's new class id 3 into 4, which Boost (release
// build) registers in the slot past the end of its class table: a double free later.
TEST(BoostImportHostile, ClassIdThatSkipsAheadIsRefused) {
  for (const char* skip : {"1 4 13 legacy.Sensor", "1 9 13 legacy.Sensor"}) {
    std::string text = brine_test::legacy_boost_bytes("network_v0.txt");
    text.replace(offset_of(text, "1 3 13 legacy.Sensor"), 20, skip);
    EXPECT_THROW_WITH(brine::interop::import_boost<legacy::Network>(text, BoostFormat::text),
                      brine::FormatError, "classes are known");
  }
  // The second class a pointer introduces, one past the next id.
  std::string text = brine_test::legacy_boost_bytes("network_v0.txt");
  text.replace(offset_of(text, "6 12 legacy.Relay"), 17, "7 12 legacy.Relay");
  EXPECT_THROW_WITH(brine::interop::import_boost<legacy::Network>(text, BoostFormat::text),
                    brine::FormatError, "class id 7 where 6 classes are known");
  // A negative id other than the null pointer's -1.
  text = brine_test::legacy_boost_bytes("network_v0.txt");
  text.replace(offset_of(text, "6 12 legacy.Relay"), 17, "-3 12 legacy.Relay");
  EXPECT_THROW_WITH(brine::interop::import_boost<legacy::Network>(text, BoostFormat::text),
                    brine::FormatError, "class id -3");
}

// Regression: fuzz_boost_import found Boost's check of an XML closing tag reading past the
// end of the name it expects when the archive's tag is longer. Closing tags are not checked.
TEST(BoostImportHostile, LongMismatchedXmlClosingTagIsReadSafely) {
  std::string xml = brine_test::legacy_boost_bytes("network_v2.xml");
  xml.replace(offset_of(xml, "</item>"), 7, "</item_with_a_much_longer_name>");
  const auto network = brine::interop::import_boost<legacy::Network>(xml, BoostFormat::xml);
  ASSERT_EQ(network.devices.size(), 3u);
  EXPECT_EQ(network.site, "plant-3");
}

TEST(BoostImportHostile, UnexportedClassIsASchemaError) {
  std::string text = brine_test::legacy_boost_bytes("network_v2.txt");
  text.replace(offset_of(text, "12 legacy.Relay"), 15, "12 legacy.Rolay");
  EXPECT_THROW_WITH(brine::interop::import_boost<legacy::Network>(text, BoostFormat::text),
                    brine::SchemaError, "not exported");
}

TEST(BoostImportHostile, TruncatedArchiveIsTruncatedInput) {
  const std::string bytes = brine_test::legacy_boost_bytes("sensor_v2.bin");
  try {
    brine::interop::import_boost<legacy::Sensor>(bytes.substr(0, bytes.size() - 3),
                                                 BoostFormat::binary);
    ADD_FAILURE() << "loaded";
  } catch (const brine::FormatError& e) {
    EXPECT_EQ(e.code(), brine::errc::truncated_input) << e.what();
  }
}

}  // namespace
// Regression: fuzz_boost_import found Boost resolving a pointer's reference to an earlier object
// by its object id alone, whatever that object's class: a pointer of one class received an
// object of another (type confusion, reported by UBSan in extended_type_info_typeid.hpp). The
// import keeps each object id's class and refuses a reference across classes.
TEST(BoostImportHostile, ReferenceToAnObjectOfAnotherClassIsRefused) {
  // network_v0 holds the sensor as object 0 (class id 3) and the relay as object 1 (class id
  // 6); the list's third device and the primary refer back to the sensor ("3 0").
  const std::string text = brine_test::legacy_boost_bytes("network_v0.txt");
  ASSERT_NE(text.rfind("3 0 3 0\n"), std::string::npos);
  std::string relay_as_sensor = text;
  relay_as_sensor.replace(text.rfind("3 0 3 0\n"), 8, "3 1 3 0\n");
  EXPECT_THROW_WITH(
      brine::interop::import_boost<legacy::Network>(relay_as_sensor, BoostFormat::text),
      brine::FormatError,
      "a reference to object 1 of class legacy.Relay where the archive names class "
      "legacy.Sensor");
  std::string sensor_as_relay = text;
  sensor_as_relay.replace(text.rfind("3 0 3 0\n"), 8, "6 0 3 0\n");
  EXPECT_THROW_WITH(
      brine::interop::import_boost<legacy::Network>(sensor_as_relay, BoostFormat::text),
      brine::FormatError,
      "object 0 of class legacy.Sensor where the archive names class legacy.Relay");
  // XML names the ids as attributes; the check is the same.
  std::string xml = brine_test::legacy_boost_bytes("network_v0.xml");
  const std::string primary = R"(<px class_id_reference="3" object_id_reference="_0"></px>)";
  xml.replace(xml.rfind(primary), primary.size(),
              R"(<px class_id_reference="3" object_id_reference="_1"></px>)");
  EXPECT_THROW_WITH(brine::interop::import_boost<legacy::Network>(xml, BoostFormat::xml),
                    brine::FormatError, "a reference to object 1 of class legacy.Relay");
  // The archive as written still loads: the sensor is shared three ways.
  const legacy::Network network =
      brine::interop::import_boost<legacy::Network>(text, BoostFormat::text);
  ASSERT_EQ(network.devices.size(), 3u);
  EXPECT_EQ(network.devices[0], network.devices[2]);
  EXPECT_EQ(network.devices[0], network.primary);
}

// An object id past the next one is refused: Boost gives ids in order, so an archive that
// skips ahead is damaged (Boost itself would take it as a new object under another number).
TEST(BoostImportHostile, ObjectIdThatSkipsAheadIsRefused) {
  std::string text = brine_test::legacy_boost_bytes("network_v0.txt");
  const std::string relay = "6 12 legacy.Relay 1 0\n1 9";  // its object id (1), then its id
  text.replace(offset_of(text, relay), relay.size(), "6 12 legacy.Relay 1 0\n5 9");
  EXPECT_THROW_WITH(brine::interop::import_boost<legacy::Network>(text, BoostFormat::text),
                    brine::FormatError, "object id 5 where 1 objects are known");
}
