// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// plugin_c.cpp: a module the test loads with dlopen() after start-up, as a program loads
// plugins; its registration runs then and must reach the same registry.

#include <string>

#include "plugins.hpp"

namespace plugins::c {

struct Triangle final : Shape {
  BRINE_TYPE("plugins.c.Triangle", 1);
  double base = 0;
  double height = 0;
  double area() const override { return base * height / 2; }
  std::string library() const override { return "plugin_c"; }
  template <class Archive>
  void getstate(Archive& ar) const {
    brine::base<Shape>(ar, *this);
    ar("base", base)("height", height);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    brine::base<Shape>(ar, *this);
    ar("base", base)("height", height);
  }
};

BRINE_REGISTER_POLYMORPHIC(Triangle, Shape);

}  // namespace plugins::c

extern "C" const void* plugin_c_registry() { return &brine::default_registry(); }

extern "C" plugins::Shape* plugin_c_make_triangle(double base, double height) {
  auto* t = new plugins::c::Triangle;
  t->label = "dlopened";
  t->base = base;
  t->height = height;
  return t;
}
