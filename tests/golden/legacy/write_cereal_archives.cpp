// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// write_cereal_archives.cpp: wrote the legacy cereal archives of tests/golden/legacy/cereal
// once, with Debian's cereal 1.3, at class versions 0, 1 and 2 of a Sensor and of a Station
// graph that holds shared, unique and polymorphic pointers. Plain cereal, no brine: these are
// archives as a cereal user has them. Never rerun it over the committed files (README.md).
// The reading side, at version 2 with the version branches, is
// tests/interop/cereal_legacy_types.hpp.

#include <cereal/archives/binary.hpp>
#include <cereal/archives/json.hpp>
#include <cereal/archives/portable_binary.hpp>
#include <cereal/archives/xml.hpp>
#include <cereal/types/base_class.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/memory.hpp>
#include <cereal/types/polymorphic.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace legacy {

// The fields of each version: v0 name, id, reading; v1 adds unit; v2 keeps a list of readings.
template <int V>
struct Sensor {
  std::string name;
  std::int32_t id = 0;
  std::vector<double> readings;
  std::string unit;
  template <class Archive>
  void save(Archive& ar, std::uint32_t const) const {
    ar(CEREAL_NVP(name), CEREAL_NVP(id));
    if (V < 2) {
      ar(cereal::make_nvp("reading", readings.at(0)));
    } else {
      ar(CEREAL_NVP(readings));
    }
    if (V >= 1) ar(CEREAL_NVP(unit));
  }
};

struct Shape {
  virtual ~Shape() = default;
  std::string label;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(label));
  }
};
struct Circle : Shape {
  double radius = 0;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(cereal::base_class<Shape>(this), CEREAL_NVP(radius));
  }
};
struct Rect : Shape {
  double width = 0, height = 0;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(cereal::base_class<Shape>(this), CEREAL_NVP(width), CEREAL_NVP(height));
  }
};

template <int V>
struct Station {
  std::string name;
  std::vector<std::shared_ptr<Sensor<V>>> sensors;
  std::unique_ptr<Sensor<V>> spare;
  std::vector<std::shared_ptr<Shape>> shapes;
  std::map<std::string, std::int32_t> tags;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(name), CEREAL_NVP(sensors), CEREAL_NVP(spare), CEREAL_NVP(shapes),
       CEREAL_NVP(tags));
  }
};

template <int V>
Sensor<V> make_sensor(std::string name, std::int32_t id, double first) {
  Sensor<V> s;
  s.name = std::move(name);
  s.id = id;
  s.readings =
      V < 2 ? std::vector<double>{first} : std::vector<double>{first, first + 0.5, first + 1};
  if (V >= 1) s.unit = "C";
  return s;
}

template <int V>
Station<V> make_station() {
  Station<V> st;
  st.name = "pier-" + std::to_string(V);
  auto a = std::make_shared<Sensor<V>>(make_sensor<V>("air", 1, 21.5));
  auto b = std::make_shared<Sensor<V>>(make_sensor<V>("water", 2, 14.25));
  st.sensors = {a, b, a};  // the air sensor twice: one object
  st.spare = std::make_unique<Sensor<V>>(make_sensor<V>("spare", 3, -1));
  auto circle = std::make_shared<Circle>();
  circle->label = "buoy";
  circle->radius = 0.75;
  auto rect = std::make_shared<Rect>();
  rect->label = "deck";
  rect->width = 4;
  rect->height = 2.5;
  st.shapes = {circle, rect, circle};
  st.tags = {{"depth", 12}, {"zone", 3}};
  return st;
}

}  // namespace legacy

CEREAL_CLASS_VERSION(legacy::Sensor<0>, 0)
CEREAL_CLASS_VERSION(legacy::Sensor<1>, 1)
CEREAL_CLASS_VERSION(legacy::Sensor<2>, 2)
CEREAL_REGISTER_TYPE_WITH_NAME(legacy::Circle, "legacy.Circle")
CEREAL_REGISTER_TYPE_WITH_NAME(legacy::Rect, "legacy.Rect")

namespace {

template <class Archive, class T, class... Options>
void write(const std::string& path, const char* name, const T& value, Options... options) {
  std::ofstream out(path, std::ios::binary);
  {
    Archive ar(out, options...);
    ar(cereal::make_nvp(name, value));
  }
  if (!out) throw std::runtime_error("cannot write " + path);
  std::cout << path << "\n";
}

template <int V>
void write_version(const std::string& dir) {
  const std::string v = "_v" + std::to_string(V);
  const auto sensor = legacy::make_sensor<V>("thermo", 7, 21.5);
  const auto station = legacy::make_station<V>();
  write<cereal::BinaryOutputArchive>(dir + "/sensor" + v + ".bin", "sensor", sensor);
  write<cereal::PortableBinaryOutputArchive>(dir + "/sensor" + v + ".pbin", "sensor", sensor);
  write<cereal::JSONOutputArchive>(dir + "/sensor" + v + ".json", "sensor", sensor);
  write<cereal::XMLOutputArchive>(dir + "/sensor" + v + ".xml", "sensor", sensor);
  write<cereal::BinaryOutputArchive>(dir + "/station" + v + ".bin", "station", station);
  write<cereal::PortableBinaryOutputArchive>(dir + "/station" + v + ".pbin", "station", station);
  write<cereal::JSONOutputArchive>(dir + "/station" + v + ".json", "station", station);
  write<cereal::XMLOutputArchive>(dir + "/station" + v + ".xml", "station", station);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: write_cereal_archives <output folder>\n";
    return 2;
  }
  const std::string dir = argv[1];
  write_version<0>(dir);
  write_version<1>(dir);
  write_version<2>(dir);
  // The other byte order, which the portable archive records and readers swap.
  write<cereal::PortableBinaryOutputArchive>(
      dir + "/station_v2_big_endian.pbin", "station", legacy::make_station<2>(),
      cereal::PortableBinaryOutputArchive::Options::BigEndian());
  return 0;
}
