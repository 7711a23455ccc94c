// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// boost_test_types.hpp: classes written for Boost.Serialization only, the way an existing code
// base has them. The interop tests declare them to brine from outside and never edit them.
#pragma once

#include <boost/serialization/array_wrapper.hpp>
#include <boost/serialization/assume_abstract.hpp>
#include <boost/serialization/base_object.hpp>
#include <boost/serialization/export.hpp>
#include <boost/serialization/map.hpp>
#include <boost/serialization/nvp.hpp>
#include <boost/serialization/shared_ptr.hpp>
#include <boost/serialization/split_free.hpp>
#include <boost/serialization/split_member.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/unique_ptr.hpp>
#include <boost/serialization/vector.hpp>
#include <boost/serialization/version.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

// clang-format would read `ar & x` as a reference declaration.
// clang-format off
namespace shop {

// Member serialize with names.
struct Point {
  double x = 0, y = 0;
  template <class Archive>
  void serialize(Archive& ar, const unsigned int) {
    ar & BOOST_SERIALIZATION_NVP(x) & BOOST_SERIALIZATION_NVP(y);
  }
};

// Member serialize without names: brine numbers the fields.
struct Item {
  std::string name;
  std::int32_t price = 0;
  std::vector<std::string> tags;
  template <class Archive>
  void serialize(Archive& ar, const unsigned int) {
    ar & name & price & tags;
  }
};

// An unnamed base and member (not for the XML archive, which needs names).
struct StockedItem : Item {
  std::int32_t stock = 0;
  template <class Archive>
  void serialize(Archive& ar, const unsigned int) {
    ar & boost::serialization::base_object<Item>(*this) & stock;
  }
};

// Split member: the object keeps seconds, the archive a decimal string.
class Stamp {
 public:
  Stamp() = default;
  explicit Stamp(std::int64_t seconds) : seconds_(seconds) {}
  std::int64_t seconds() const { return seconds_; }

 private:
  friend class boost::serialization::access;
  template <class Archive>
  void save(Archive& ar, const unsigned int) const {
    const std::string text = std::to_string(seconds_);
    ar << boost::serialization::make_nvp("text", text);
  }
  template <class Archive>
  void load(Archive& ar, const unsigned int) {
    std::string text;
    ar >> boost::serialization::make_nvp("text", text);
    seconds_ = std::stoll(text);
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
  std::int64_t seconds_ = 0;
};

// Free serialize, found by argument-dependent lookup.
struct Money {
  std::int64_t cents = 0;
  std::string currency;
};
template <class Archive>
void serialize(Archive& ar, Money& m, const unsigned int) {
  ar & boost::serialization::make_nvp("cents", m.cents) &
      boost::serialization::make_nvp("currency", m.currency);
}

// Split free: saved as one packed integer.
struct Color {
  std::uint8_t r = 0, g = 0, b = 0;
};
template <class Archive>
void save(Archive& ar, const Color& c, const unsigned int) {
  const std::uint32_t rgb = (std::uint32_t{c.r} << 16) | (std::uint32_t{c.g} << 8) | c.b;
  ar << BOOST_SERIALIZATION_NVP(rgb);
}
template <class Archive>
void load(Archive& ar, Color& c, const unsigned int) {
  std::uint32_t rgb = 0;
  ar >> BOOST_SERIALIZATION_NVP(rgb);
  c.r = static_cast<std::uint8_t>(rgb >> 16);
  c.g = static_cast<std::uint8_t>(rgb >> 8);
  c.b = static_cast<std::uint8_t>(rgb);
}

// make_array over a fixed buffer.
struct Samples {
  double values[4] = {0, 0, 0, 0};
  template <class Archive>
  void serialize(Archive& ar, const unsigned int) {
    ar & boost::serialization::make_nvp("values", boost::serialization::make_array(values, 4));
  }
};

// Versioned, nesting the others: version 1 added `note`, version 2 `priority`.
struct Order {
  std::vector<Item> items;
  Point destination;
  std::map<std::string, Point> waypoints;
  std::shared_ptr<Item> featured;
  std::shared_ptr<Item> featured_again;  // the same object as featured, or not
  std::unique_ptr<Money> total;
  Stamp placed;
  Color color;
  Samples samples;
  std::string note;
  std::int32_t priority = 0;
  unsigned int loaded_version = 99;  // what serialize was handed when loading; not state
  template <class Archive>
  void serialize(Archive& ar, const unsigned int version) {
    ar & BOOST_SERIALIZATION_NVP(items) & BOOST_SERIALIZATION_NVP(destination) &
        BOOST_SERIALIZATION_NVP(waypoints) & BOOST_SERIALIZATION_NVP(featured) &
        BOOST_SERIALIZATION_NVP(featured_again) & BOOST_SERIALIZATION_NVP(total) &
        BOOST_SERIALIZATION_NVP(placed) & BOOST_SERIALIZATION_NVP(color) &
        BOOST_SERIALIZATION_NVP(samples);
    if (version >= 1) ar & BOOST_SERIALIZATION_NVP(note);
    if (version >= 2) ar & BOOST_SERIALIZATION_NVP(priority);
    loaded_version = version;
  }
};

// Polymorphic, with base_object.
struct Shape {
  virtual ~Shape() = default;
  virtual double area() const = 0;
  std::string label;
  template <class Archive>
  void serialize(Archive& ar, const unsigned int) {
    ar & BOOST_SERIALIZATION_NVP(label);
  }
};
struct Circle : Shape {
  double radius = 0;
  double area() const override { return 3 * radius * radius; }
  template <class Archive>
  void serialize(Archive& ar, const unsigned int) {
    ar & BOOST_SERIALIZATION_BASE_OBJECT_NVP(Shape) & BOOST_SERIALIZATION_NVP(radius);
  }
};
struct Rect : Shape {
  double w = 0, h = 0;
  double area() const override { return w * h; }
  template <class Archive>
  void serialize(Archive& ar, const unsigned int) {
    ar & BOOST_SERIALIZATION_BASE_OBJECT_NVP(Shape) & BOOST_SERIALIZATION_NVP(w) &
        BOOST_SERIALIZATION_NVP(h);
  }
};
struct Drawing {
  std::vector<std::shared_ptr<Shape>> shapes;
  template <class Archive>
  void serialize(Archive& ar, const unsigned int) {
    ar & BOOST_SERIALIZATION_NVP(shapes);
  }
};

}  // namespace shop
// clang-format on

BOOST_CLASS_VERSION(shop::Order, 2)
BOOST_SERIALIZATION_SPLIT_FREE(shop::Color)
BOOST_SERIALIZATION_ASSUME_ABSTRACT(shop::Shape)
BOOST_CLASS_EXPORT_KEY2(shop::Circle, "shop.Circle")
BOOST_CLASS_EXPORT_KEY2(shop::Rect, "shop.Rect")
