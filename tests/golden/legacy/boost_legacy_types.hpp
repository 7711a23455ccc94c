// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// boost_legacy_types.hpp: the Boost.Serialization classes of the legacy golden archives
// (tests/golden/legacy/boost). write_boost_archives.cpp compiles them at class version 0, 1 and
// 2 (BRINE_LEGACY_BOOST_VERSION); the tests read with version 2, whose serialize branches on the
// version each archive recorded. Changing what a version writes breaks the committed archives.
#pragma once

#include <boost/serialization/assume_abstract.hpp>
#include <boost/serialization/base_object.hpp>
#include <boost/serialization/export.hpp>
#include <boost/serialization/map.hpp>
#include <boost/serialization/nvp.hpp>
#include <boost/serialization/shared_ptr.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <boost/serialization/version.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#ifndef BRINE_LEGACY_BOOST_VERSION
#define BRINE_LEGACY_BOOST_VERSION 2
#endif

// clang-format off
namespace legacy {

// A device of a monitoring network; abstract, saved through shared_ptr<Device>.
struct Device {
  virtual ~Device() = default;
  virtual const char* kind() const = 0;
  std::int32_t id = 0;
  template <class Archive>
  void serialize(Archive& ar, const unsigned int) {
    ar & BOOST_SERIALIZATION_NVP(id);
  }
};

// Version 0: name and readings. 1 added the unit, 2 the calibration table.
struct Sensor : Device {
  const char* kind() const override { return "sensor"; }
  std::string name;
  std::vector<double> readings;
  std::string unit = "none";
  std::map<std::string, double> calibration;
  template <class Archive>
  void serialize(Archive& ar, const unsigned int version) {
    ar & BOOST_SERIALIZATION_BASE_OBJECT_NVP(Device) & BOOST_SERIALIZATION_NVP(name) &
        BOOST_SERIALIZATION_NVP(readings);
    if (version >= 1) ar & BOOST_SERIALIZATION_NVP(unit);
    if (version >= 2) ar & BOOST_SERIALIZATION_NVP(calibration);
  }
};

struct Relay : Device {
  const char* kind() const override { return "relay"; }
  bool closed = false;
  template <class Archive>
  void serialize(Archive& ar, const unsigned int) {
    ar & BOOST_SERIALIZATION_BASE_OBJECT_NVP(Device) & BOOST_SERIALIZATION_NVP(closed);
  }
};

// Version 0: devices and the primary one (shared with the list). 1 added the site name.
struct Network {
  std::vector<std::shared_ptr<Device>> devices;
  std::shared_ptr<Device> primary;
  std::string site = "unnamed";
  template <class Archive>
  void serialize(Archive& ar, const unsigned int version) {
    ar & BOOST_SERIALIZATION_NVP(devices) & BOOST_SERIALIZATION_NVP(primary);
    if (version >= 1) ar & BOOST_SERIALIZATION_NVP(site);
  }
};

/// The single object of the sensor_v<N> archives, as the writer filled it.
inline Sensor sample_sensor(unsigned version) {
  Sensor s;
  s.id = 7;
  s.name = "probe \"7\" <north>";
  s.readings = {1.5, -2.25, 1e10, 0.1};
  if (version >= 1) s.unit = "kPa";
  if (version >= 2) s.calibration = {{"gain", 1.01}, {"offset", -0.5}};
  return s;
}

/// The graph of the network_v<N> archives: a sensor twice in the list and as primary.
inline Network sample_network(unsigned version) {
  Network n;
  auto sensor = std::make_shared<Sensor>(sample_sensor(version));
  auto relay = std::make_shared<Relay>();
  relay->id = 9;
  relay->closed = true;
  n.devices = {sensor, relay, sensor};
  n.primary = sensor;
  if (version >= 1) n.site = "plant-3";
  return n;
}

}  // namespace legacy
// clang-format on

BOOST_CLASS_VERSION(legacy::Sensor, BRINE_LEGACY_BOOST_VERSION)
BOOST_CLASS_VERSION(legacy::Network, BRINE_LEGACY_BOOST_VERSION)
BOOST_SERIALIZATION_ASSUME_ABSTRACT(legacy::Device)
BOOST_CLASS_EXPORT_KEY2(legacy::Sensor, "legacy.Sensor")
BOOST_CLASS_EXPORT_KEY2(legacy::Relay, "legacy.Relay")
