// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// cereal_legacy_types.hpp: today's classes of the legacy cereal archives
// (tests/golden/legacy/cereal): Sensor at class version 2, whose serialize still reads
// versions 0 and 1, a Station graph, polymorphic shapes. cereal functions only; the brine
// declarations and registrations follow at the end. Defines static objects (registrations):
// include it in one translation unit per program.
#pragma once

#include <brine/interop/cereal.hpp>
#include <cereal/types/base_class.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/memory.hpp>
#include <cereal/types/polymorphic.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace legacy_app {

struct Sensor {
  std::string name;
  std::int32_t id = 0;
  std::vector<double> readings;
  std::string unit;
  template <class Archive>
  void serialize(Archive& ar, std::uint32_t const version) {
    ar(CEREAL_NVP(name), CEREAL_NVP(id));
    if (version < 2) {
      double reading = readings.empty() ? 0.0 : readings.front();
      ar(CEREAL_NVP(reading));
      readings = {reading};
    } else {
      ar(CEREAL_NVP(readings));
    }
    if (version >= 1) ar(CEREAL_NVP(unit));
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

struct Station {
  std::string name;
  std::vector<std::shared_ptr<Sensor>> sensors;
  std::unique_ptr<Sensor> spare;
  std::vector<std::shared_ptr<Shape>> shapes;
  std::map<std::string, std::int32_t> tags;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(name), CEREAL_NVP(sensors), CEREAL_NVP(spare), CEREAL_NVP(shapes),
       CEREAL_NVP(tags));
  }
};

}  // namespace legacy_app

CEREAL_CLASS_VERSION(legacy_app::Sensor, 2)
CEREAL_REGISTER_TYPE_WITH_NAME(legacy_app::Circle, "legacy.Circle")
CEREAL_REGISTER_TYPE_WITH_NAME(legacy_app::Rect, "legacy.Rect")

BRINE_CEREAL_TYPE(legacy_app::Sensor, "legacy.Sensor");
BRINE_CEREAL_TYPE(legacy_app::Shape, "legacy.Shape");
BRINE_CEREAL_TYPE(legacy_app::Circle, "legacy.Circle");
BRINE_CEREAL_TYPE(legacy_app::Rect, "legacy.Rect");
BRINE_CEREAL_TYPE(legacy_app::Station, "legacy.Station");
BRINE_REGISTER(legacy_app::Sensor);
BRINE_REGISTER(legacy_app::Shape);
BRINE_REGISTER_POLYMORPHIC(legacy_app::Circle, legacy_app::Shape);
BRINE_REGISTER_POLYMORPHIC(legacy_app::Rect, legacy_app::Shape);
BRINE_REGISTER(legacy_app::Station);
