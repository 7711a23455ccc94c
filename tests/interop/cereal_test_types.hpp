// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// cereal_test_types.hpp: classes written for cereal only, as a cereal user has them: every
// hook shape cereal knows (member/free serialize, member/free save+load, versioned, with and
// without NVPs), nested, in containers, behind smart pointers, polymorphic. The brine
// declarations live in the tests, outside these classes.
#pragma once

#include <cereal/cereal.hpp>
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

namespace app {

// Member serialize with NVPs.
struct Point {
  double x = 0;
  double y = 0;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(x), CEREAL_NVP(y));
  }
  friend bool operator==(const Point& a, const Point& b) { return a.x == b.x && a.y == b.y; }
};

// Private member save/load, versioned (CEREAL_CLASS_VERSION below), names by make_nvp.
class Account {
 public:
  Account() = default;
  Account(std::string owner, std::int64_t cents) : owner_(std::move(owner)), cents_(cents) {}
  const std::string& owner() const { return owner_; }
  std::int64_t cents() const { return cents_; }
  std::vector<Point>& history() { return history_; }
  const std::vector<Point>& history() const { return history_; }
  std::uint32_t loaded_version() const { return loaded_version_; }

 private:
  friend class cereal::access;
  template <class Archive>
  void save(Archive& ar, std::uint32_t const) const {
    ar(cereal::make_nvp("owner", owner_), cereal::make_nvp("cents", cents_),
       cereal::make_nvp("history", history_));
  }
  template <class Archive>
  void load(Archive& ar, std::uint32_t const version) {
    loaded_version_ = version;
    ar(cereal::make_nvp("owner", owner_), cereal::make_nvp("cents", cents_),
       cereal::make_nvp("history", history_));
  }
  std::string owner_;
  std::int64_t cents_ = 0;
  std::vector<Point> history_;
  std::uint32_t loaded_version_ = 0;
};

// Free serialize without NVPs: positional fields.
struct Color {
  std::uint8_t r = 0, g = 0, b = 0;
};
template <class Archive>
void serialize(Archive& ar, Color& c) {
  ar(c.r, c.g, c.b);
}

// Free save/load, versioned, mixing a name and operator& / chained calls.
struct Span {
  std::int32_t begin = 0;
  std::int32_t end = 0;
};
template <class Archive>
void save(Archive& ar, const Span& s, std::uint32_t const) {
  ar(cereal::make_nvp("begin", s.begin));
  ar& cereal::make_nvp("end", s.end);
}
template <class Archive>
void load(Archive& ar, Span& s, std::uint32_t const) {
  ar(cereal::make_nvp("begin", s.begin));
  ar& cereal::make_nvp("end", s.end);
}

// Nested cereal classes, containers of them, shared and unique pointers.
struct Scene {
  std::string title;
  std::vector<Point> points;
  std::map<std::string, Color> palette;
  std::shared_ptr<Point> origin;
  std::shared_ptr<Point> alias;  // the same object as origin
  std::unique_ptr<Span> span;
  std::vector<Account> accounts;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(title), CEREAL_NVP(points), CEREAL_NVP(palette), CEREAL_NVP(origin),
       CEREAL_NVP(alias), CEREAL_NVP(span), CEREAL_NVP(accounts));
  }
};

// Polymorphic classes saved through a base pointer.
struct Shape {
  virtual ~Shape() = default;
  virtual double area() const = 0;
  std::string label;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(label));
  }
};

struct Circle : Shape {
  double radius = 0;
  double area() const override { return 3 * radius * radius; }
  template <class Archive>
  void serialize(Archive& ar) {
    ar(cereal::base_class<Shape>(this), CEREAL_NVP(radius));
  }
};

struct Square : Shape {
  double side = 0;
  double area() const override { return side * side; }
  template <class Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("base", cereal::base_class<Shape>(this)), CEREAL_NVP(side));
  }
};

struct Drawing {
  std::vector<std::shared_ptr<Shape>> shapes;
  std::unique_ptr<Shape> background;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(shapes), CEREAL_NVP(background));
  }
};

}  // namespace app

CEREAL_CLASS_VERSION(app::Account, 3)
