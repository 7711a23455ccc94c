// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// boost_legacy_support.hpp: the legacy classes declared to brine and Boost (export), and the
// list of committed archives, for boost_legacy_test and boost_import_hostile_test. One
// translation unit per program includes it (BOOST_CLASS_EXPORT_IMPLEMENT).
#pragma once

#include <boost/archive/binary_oarchive.hpp>
#include <boost/archive/text_oarchive.hpp>
#include <boost/archive/xml_oarchive.hpp>
#include <brine/brine.hpp>
#include <brine/interop/boost.hpp>
#include <string>
#include <vector>

#include "boost_legacy_types.hpp"
#include "test_util.hpp"

BOOST_CLASS_EXPORT_IMPLEMENT(legacy::Sensor)
BOOST_CLASS_EXPORT_IMPLEMENT(legacy::Relay)

BRINE_BOOST_TYPE(legacy::Device, "legacy.Device");
BRINE_BOOST_TYPE(legacy::Sensor, "legacy.Sensor");
BRINE_BOOST_TYPE(legacy::Relay, "legacy.Relay");
BRINE_BOOST_TYPE(legacy::Network, "legacy.Network");
BRINE_REGISTER(legacy::Device);
BRINE_REGISTER(legacy::Network);
BRINE_REGISTER_POLYMORPHIC(legacy::Sensor, legacy::Device);
BRINE_REGISTER_POLYMORPHIC(legacy::Relay, legacy::Device);

namespace brine_test {

struct LegacyArchive {
  std::string file;    // e.g. "sensor_v1.xml"
  std::string object;  // "sensor" or "network"
  unsigned version;
  brine::interop::BoostFormat format;
};

inline std::vector<LegacyArchive> legacy_boost_archives() {
  std::vector<LegacyArchive> all;
  const std::pair<const char*, brine::interop::BoostFormat> formats[] = {
      {"txt", brine::interop::BoostFormat::text},
      {"xml", brine::interop::BoostFormat::xml},
      {"bin", brine::interop::BoostFormat::binary}};
  for (const char* object : {"sensor", "network"}) {
    for (unsigned version = 0; version <= 2; ++version) {
      for (const auto& [extension, format] : formats) {
        all.push_back({std::string(object) + "_v" + std::to_string(version) + "." + extension,
                       object, version, format});
      }
    }
  }
  return all;
}

inline std::string legacy_boost_bytes(const std::string& file) {
  return brine::read_file(std::string(BRINE_LEGACY_BOOST_DIR) + "/" + file);
}

}  // namespace brine_test
