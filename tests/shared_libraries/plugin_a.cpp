// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// plugin_a.cpp: a shared library that registers its own types and a function in brine's
// process-wide registry at load time.

#include <string>

#include "plugins.hpp"

namespace plugins::a {

class Circle final : public Shape {
 public:
  BRINE_TYPE("plugins.a.Circle", 1);
  Circle() = default;
  Circle(const std::string& name, double radius) : radius_(radius) { label = name; }
  double area() const override { return 3.0 * radius_ * radius_; }
  std::string library() const override { return "plugin_a"; }

 private:
  template <class Archive>
  void getstate(Archive& ar) const {
    brine::base<Shape>(ar, *this);
    ar("radius", radius_);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    brine::base<Shape>(ar, *this);
    ar("radius", radius_);
  }
  double radius_ = 0;
};

/// Not polymorphic and never behind a pointer: registered only so that it can be found.
struct Settings {
  BRINE_TYPE("plugins.a.Settings", 4);
  int threads = 1;
  std::string mode;
  template <class Archive>
  void getstate(Archive& ar) const {
    ar("threads", threads)("mode", mode);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    ar("threads", threads)("mode", mode);
  }
};

double twice(double x) { return 2 * x; }

BRINE_REGISTER_POLYMORPHIC(Circle, Shape);
BRINE_REGISTER(Settings);
BRINE_REGISTER_FUNCTION("plugins.a.twice", twice);

}  // namespace plugins::a

const brine::Registry* plugin_a_registry() { return &brine::default_registry(); }

std::shared_ptr<plugins::Shape> plugin_a_make_circle(const std::string& label, double radius) {
  return std::make_shared<plugins::a::Circle>(label, radius);
}
