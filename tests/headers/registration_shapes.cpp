// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// registration_shapes.cpp: registers shapes::Polygon, including only brine/registry.hpp and
// the types/ headers of its fields. registration_test.cpp never names Polygon: its field code
// for every archive must come from this file's registration.

#include "registration_shapes.hpp"

#include <brine/registry.hpp>

namespace shapes {
namespace {

struct Polygon final : Shape {
  BRINE_TYPE("test.shapes.Polygon", 2);
  std::vector<double> sides;
  std::string describe() const override {
    return "polygon " + label + " of " + std::to_string(sides.size()) + " sides";
  }
  template <class Archive>
  void getstate(Archive& ar) const {
    brine::base<Shape>(ar, *this);
    ar("sides", sides);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    brine::base<Shape>(ar, *this);
    ar("sides", sides);
  }
};

BRINE_REGISTER_POLYMORPHIC(Polygon, Shape);

}  // namespace

std::shared_ptr<Shape> make_polygon(std::string label, std::vector<double> sides) {
  auto polygon = std::make_shared<Polygon>();
  polygon->label = std::move(label);
  polygon->sides = std::move(sides);
  return polygon;
}

}  // namespace shapes
