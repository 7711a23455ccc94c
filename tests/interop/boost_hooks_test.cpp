// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// boost_hooks_test.cpp: classes annotated only for Boost.Serialization (boost_test_types.hpp,
// never edited) saved and loaded through brine's binary and stable archives, their versions,
// migrations across them, and brine types inside Boost's own archives.

#include <gtest/gtest.h>

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/archive/text_iarchive.hpp>
#include <boost/archive/text_oarchive.hpp>
#include <boost/archive/xml_iarchive.hpp>
#include <boost/archive/xml_oarchive.hpp>
#include <brine/brine.hpp>
#include <brine/interop/boost.hpp>
#include <sstream>
#include <string>

#include "boost_test_types.hpp"
#include "test_util.hpp"

BOOST_CLASS_EXPORT_IMPLEMENT(shop::Circle)
BOOST_CLASS_EXPORT_IMPLEMENT(shop::Rect)

BRINE_BOOST_TYPE(shop::Point, "shop.Point");
BRINE_BOOST_TYPE(shop::Item, "shop.Item");
BRINE_BOOST_TYPE(shop::Stamp, "shop.Stamp");
BRINE_BOOST_TYPE(shop::Money, "shop.Money");
BRINE_BOOST_TYPE(shop::Color, "shop.Color");
BRINE_BOOST_TYPE(shop::Samples, "shop.Samples");
BRINE_BOOST_TYPE(shop::Order, "shop.Order");
BRINE_BOOST_TYPE(shop::Shape, "shop.Shape");
BRINE_BOOST_TYPE(shop::Circle, "shop.Circle");
BRINE_BOOST_TYPE(shop::Rect, "shop.Rect");
BRINE_BOOST_TYPE(shop::Drawing, "shop.Drawing");
BRINE_BOOST_TYPE(shop::StockedItem, "shop.StockedItem");
BRINE_REGISTER(shop::Point);
BRINE_REGISTER(shop::Item);
BRINE_REGISTER(shop::StockedItem);
BRINE_REGISTER(shop::Stamp);
BRINE_REGISTER(shop::Money);
BRINE_REGISTER(shop::Color);
BRINE_REGISTER(shop::Samples);
BRINE_REGISTER(shop::Order);
BRINE_REGISTER(shop::Shape);
BRINE_REGISTER(shop::Drawing);
BRINE_REGISTER_POLYMORPHIC(shop::Circle, shop::Shape);
BRINE_REGISTER_POLYMORPHIC(shop::Rect, shop::Shape);

// An older release of shop::Order: the same Boost class at version 1, as the program that
// wrote last year's brine archives compiled it.
namespace shop_v1 {
struct Order : shop::Order {};
}  // namespace shop_v1
BOOST_CLASS_VERSION(shop_v1::Order, 1)
namespace boost {
namespace serialization {
template <class Archive>
void serialize(Archive& ar, shop_v1::Order& order, const unsigned int version) {
  static_cast<shop::Order&>(order).serialize(ar, version);
}
}  // namespace serialization
}  // namespace boost
BRINE_BOOST_TYPE(shop_v1::Order, "shop.Order");

// A brine type, member of a class saved with Boost's archives.
struct Tag {
  BRINE_TYPE("test.Tag", 1);
  std::string label;
  std::vector<int> weights;
  template <class Archive>
  void getstate(Archive& ar) const {
    ar("label", label)("weights", weights);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    ar("label", label)("weights", weights);
  }
};
BRINE_REGISTER(Tag);
BRINE_IN_BOOST_ARCHIVES(Tag);

namespace shop {
struct Parcel {  // a Boost class holding a brine type
  Tag tag;
  std::int32_t weight = 0;
  template <class Archive>
  void serialize(Archive& ar, const unsigned int) {
    ar& BOOST_SERIALIZATION_NVP(tag) & BOOST_SERIALIZATION_NVP(weight);
  }
};
}  // namespace shop

namespace {

shop::Order sample_order() {
  shop::Order order;
  order.items = {{"kettle", 2999, {"kitchen", "sale"}}, {"mug", 450, {}}};
  order.destination = {1.5, -2.25};
  order.waypoints = {{"depot", {10, 20}}, {"hub", {-3, 4.5}}};
  order.featured = std::make_shared<shop::Item>(shop::Item{"lamp", 1200, {"light"}});
  order.featured_again = order.featured;
  order.total = std::make_unique<shop::Money>(shop::Money{4649, "EUR"});
  order.placed = shop::Stamp(1700000000);
  order.color = {12, 34, 56};
  order.samples.values[0] = 0.5;
  order.samples.values[3] = -8;
  order.note = "leave at the door";
  order.priority = 3;
  return order;
}

void expect_same(const shop::Order& a, const shop::Order& b) {
  ASSERT_EQ(a.items.size(), b.items.size());
  for (std::size_t i = 0; i < a.items.size(); ++i) {
    EXPECT_EQ(a.items[i].name, b.items[i].name);
    EXPECT_EQ(a.items[i].price, b.items[i].price);
    EXPECT_EQ(a.items[i].tags, b.items[i].tags);
  }
  EXPECT_EQ(a.destination.x, b.destination.x);
  EXPECT_EQ(a.destination.y, b.destination.y);
  ASSERT_EQ(a.waypoints.size(), b.waypoints.size());
  EXPECT_EQ(a.waypoints.at("hub").y, b.waypoints.at("hub").y);
  ASSERT_TRUE(b.featured);
  EXPECT_EQ(a.featured->name, b.featured->name);
  ASSERT_TRUE(b.total);
  EXPECT_EQ(a.total->cents, b.total->cents);
  EXPECT_EQ(a.total->currency, b.total->currency);
  EXPECT_EQ(a.placed.seconds(), b.placed.seconds());
  EXPECT_EQ(a.color.r, b.color.r);
  EXPECT_EQ(a.color.g, b.color.g);
  EXPECT_EQ(a.color.b, b.color.b);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(a.samples.values[i], b.samples.values[i]);
  EXPECT_EQ(a.note, b.note);
  EXPECT_EQ(a.priority, b.priority);
}

struct BinaryFormat {
  template <class T>
  static brine::Buffer save(const T& value, brine::Registry& registry) {
    return brine::to_binary(value, registry);
  }
  template <class T>
  static T load(const brine::Buffer& bytes, const brine::Registry& registry) {
    return brine::from_binary<T>(bytes.view(), registry);
  }
};
struct StableFormat {
  template <class T>
  static brine::Buffer save(const T& value, brine::Registry& registry) {
    return brine::to_stable(value, registry);
  }
  template <class T>
  static T load(const brine::Buffer& bytes, const brine::Registry& registry) {
    return brine::from_stable<T>(bytes.view(), registry);
  }
};

template <class Format>
class BoostHooks : public ::testing::Test {};
using Formats = ::testing::Types<BinaryFormat, StableFormat>;
TYPED_TEST_SUITE(BoostHooks, Formats);

TYPED_TEST(BoostHooks, RoundTripsNestedContainersAndPointers) {
  const shop::Order order = sample_order();
  brine::Buffer bytes = TypeParam::save(order, brine::default_registry());
  shop::Order loaded = TypeParam::template load<shop::Order>(bytes, brine::default_registry());
  expect_same(order, loaded);
  EXPECT_EQ(loaded.featured, loaded.featured_again);  // one object behind both pointers
  EXPECT_EQ(loaded.loaded_version, 2u);
}

TYPED_TEST(BoostHooks, RoundTripsExportedPolymorphicPointers) {
  shop::Drawing drawing;
  auto circle = std::make_shared<shop::Circle>();
  circle->label = "sun";
  circle->radius = 2;
  auto rect = std::make_shared<shop::Rect>();
  rect->label = "door";
  rect->w = 1;
  rect->h = 2.5;
  drawing.shapes = {circle, rect, circle};
  brine::Buffer bytes = TypeParam::save(drawing, brine::default_registry());
  auto loaded = TypeParam::template load<shop::Drawing>(bytes, brine::default_registry());
  ASSERT_EQ(loaded.shapes.size(), 3u);
  EXPECT_EQ(loaded.shapes[0], loaded.shapes[2]);
  auto* loaded_circle = dynamic_cast<shop::Circle*>(loaded.shapes[0].get());
  auto* loaded_rect = dynamic_cast<shop::Rect*>(loaded.shapes[1].get());
  ASSERT_NE(loaded_circle, nullptr);
  ASSERT_NE(loaded_rect, nullptr);
  EXPECT_EQ(loaded_circle->label, "sun");
  EXPECT_EQ(loaded_circle->radius, 2);
  EXPECT_EQ(loaded_rect->label, "door");
  EXPECT_EQ(loaded_rect->area(), 2.5);
}

TYPED_TEST(BoostHooks, LoadsAnOlderClassVersionWithThatVersion) {
  brine::Registry old_program;
  shop_v1::Order old_order;
  static_cast<shop::Order&>(old_order) = sample_order();
  old_order.priority = 7;  // version 1 does not write it
  brine::Buffer bytes = TypeParam::save(old_order, old_program);

  shop::Order loaded = TypeParam::template load<shop::Order>(bytes, brine::default_registry());
  EXPECT_EQ(loaded.loaded_version, 1u);  // serialize saw the archived version
  EXPECT_EQ(loaded.note, "leave at the door");
  EXPECT_EQ(loaded.priority, 0);
  EXPECT_EQ(loaded.total->cents, 4649);
}

TYPED_TEST(BoostHooks, MigratesAnOlderClassVersionForward) {
  brine::Registry old_program;
  shop_v1::Order old_order;
  static_cast<shop::Order&>(old_order) = sample_order();
  brine::Buffer bytes = TypeParam::save(old_order, old_program);

  brine::Registry today;
  today.add<shop::Order>().migration(1, brine::migrate::add_field("priority", brine::Value(5)),
                                     "orders from version 1 get priority 5");
  shop::Order loaded = TypeParam::template load<shop::Order>(bytes, today);
  EXPECT_EQ(loaded.loaded_version, 2u);
  EXPECT_EQ(loaded.priority, 5);
  EXPECT_EQ(loaded.note, "leave at the door");
}

TEST(BoostHooks, NamesComeFromNvpsAndPositions) {
  const std::string point = brine::to_json_archive(shop::Point{3, 4});
  EXPECT_NE(point.find("\"x\""), std::string::npos) << point;
  EXPECT_NE(point.find("\"y\""), std::string::npos) << point;
  const std::string item = brine::to_json_archive(shop::Item{"cup", 3, {"a"}});
  EXPECT_NE(item.find("\"_0\""), std::string::npos) << item;
  EXPECT_NE(item.find("\"_2\""), std::string::npos) << item;
  // A base's unnamed fields come first, numbered on by the derived class's.
  shop::StockedItem stocked;
  stocked.stock = 9;
  const std::string json = brine::to_json_archive(stocked);
  EXPECT_NE(json.find("\"_2\""), std::string::npos) << json;  // Item's tags
  EXPECT_NE(json.find("\"_3\": 9"), std::string::npos) << json;
  EXPECT_EQ(brine::from_stable<shop::StockedItem>(brine::to_stable(stocked).view()).stock, 9);
}

TEST(BoostHooks, VersionComesFromBoostClassVersion) {
  EXPECT_EQ(brine::TypeDeclaration<shop::Order>::version, 2u);
  EXPECT_EQ(brine::TypeDeclaration<shop::Point>::version, 0u);
  const brine::Value state = brine::to_state(sample_order());
  EXPECT_EQ(state.as_object().version, 2u);
}

TEST(BoostHooks, MakeArrayOfTheWrongLengthIsATypedError) {
  // Samples saved as a list of three values instead of four.
  brine::Value state = brine::to_state(shop::Samples{});
  state.as_object().find("values")->as_list().pop_back();
  EXPECT_THROW_WITH(brine::from_state<shop::Samples>(state), brine::SchemaError, "make_array");
}

template <class OArchive, class IArchive>
shop::Parcel boost_round_trip(const shop::Parcel& parcel) {
  std::stringstream stream;
  {
    OArchive out(stream);
    out << boost::serialization::make_nvp("parcel", parcel);
  }
  shop::Parcel loaded;
  IArchive in(stream);
  in >> boost::serialization::make_nvp("parcel", loaded);
  return loaded;
}

TEST(BrineInBoostArchives, RoundTripsInTextXmlAndBinary) {
  shop::Parcel parcel;
  parcel.tag.label = "fragile <&> \"glass\"";
  parcel.tag.weights = {1, -2, 3};
  parcel.weight = 1200;
  const shop::Parcel from_text =
      boost_round_trip<boost::archive::text_oarchive, boost::archive::text_iarchive>(parcel);
  const shop::Parcel from_xml =
      boost_round_trip<boost::archive::xml_oarchive, boost::archive::xml_iarchive>(parcel);
  const shop::Parcel from_binary =
      boost_round_trip<boost::archive::binary_oarchive, boost::archive::binary_iarchive>(parcel);
  for (const shop::Parcel* loaded : {&from_text, &from_xml, &from_binary}) {
    EXPECT_EQ(loaded->tag.label, parcel.tag.label);
    EXPECT_EQ(loaded->tag.weights, parcel.tag.weights);
    EXPECT_EQ(loaded->weight, 1200);
  }
}

TEST(BrineInBoostArchives, TextArchivesHoldTheJsonRendering) {
  shop::Parcel parcel;
  parcel.tag.label = "visible";
  std::stringstream stream;
  {
    boost::archive::xml_oarchive out(stream);
    out << boost::serialization::make_nvp("parcel", parcel);
  }
  EXPECT_NE(stream.str().find("test.Tag"), std::string::npos) << stream.str();
  EXPECT_NE(stream.str().find("visible"), std::string::npos) << stream.str();
}

TEST(BrineInBoostArchives, ImportReadsThem) {
  shop::Parcel parcel;
  parcel.tag.label = "imported";
  parcel.weight = 7;
  std::stringstream stream;
  {
    boost::archive::binary_oarchive out(stream);
    out << boost::serialization::make_nvp("data", parcel);
  }
  const auto loaded =
      brine::interop::import_boost<shop::Parcel>(stream.str(), brine::interop::BoostFormat::binary);
  EXPECT_EQ(loaded.tag.label, "imported");
  EXPECT_EQ(loaded.weight, 7);
}

}  // namespace
