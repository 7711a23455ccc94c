// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// plugin_b.cpp: a second shared library with its own types, one of them at version 2 with a
// migration from version 1, all registered in brine's process-wide registry at load time.

#include <map>
#include <string>

#include "plugins.hpp"

namespace plugins::b {

class Square final : public Shape {
 public:
  // Version 1 called the side "edge".
  BRINE_TYPE("plugins.b.Square", 2);
  Square() = default;
  Square(const std::string& name, double side) : side_(side) { label = name; }
  double area() const override { return side_ * side_; }
  std::string library() const override { return "plugin_b"; }

 private:
  template <class Archive>
  void getstate(Archive& ar) const {
    brine::base<Shape>(ar, *this);
    ar("side", side_);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    brine::base<Shape>(ar, *this);
    ar("side", side_);
  }
  double side_ = 0;
};

struct Palette {
  BRINE_TYPE("plugins.b.Palette", 1);
  std::map<std::string, std::uint32_t> colors;
  template <class Archive>
  void getstate(Archive& ar) const {
    ar("colors", colors);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    ar("colors", colors);
  }
};

static const bool registered = [] {
  brine::default_registry().add<Square>().bases<Shape>().migration(
      1, brine::migrate::rename_field("edge", "side"), "rename 'edge' to 'side'");
  return true;
}();
BRINE_REGISTER(Palette);

}  // namespace plugins::b

const brine::Registry* plugin_b_registry() { return &brine::default_registry(); }

std::shared_ptr<plugins::Shape> plugin_b_make_square(const std::string& label, double side) {
  return std::make_shared<plugins::b::Square>(label, side);
}
