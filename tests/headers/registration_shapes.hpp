// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// registration_shapes.hpp: a base and a derived type for registration_test; includes only
// the hooks and the codecs their fields need.
#pragma once

#include <brine/hooks.hpp>
#include <brine/types/sequence.hpp>
#include <brine/types/string.hpp>
#include <memory>
#include <string>
#include <vector>

namespace shapes {

struct Shape {
  BRINE_TYPE("test.shapes.Shape", 1);
  virtual ~Shape() = default;
  virtual std::string describe() const { return "shape " + label; }
  std::string label;
  template <class Archive>
  void getstate(Archive& ar) const {
    ar("label", label);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    ar("label", label);
  }
};

/// Made, registered and given its field code only in registration_shapes.cpp.
std::shared_ptr<Shape> make_polygon(std::string label, std::vector<double> sides);

}  // namespace shapes
