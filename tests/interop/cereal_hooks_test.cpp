// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// cereal_hooks_test.cpp: classes written for cereal (cereal_test_types.hpp, untouched) saved
// and loaded through both brine archives with their own cereal functions (BRINE_CEREAL_TYPE).

#include <gtest/gtest.h>

#include <brine/interop/cereal.hpp>
#include <memory>
#include <string>

#include "cereal_test_types.hpp"
#include "test_util.hpp"

CEREAL_REGISTER_TYPE(app::Circle)
CEREAL_REGISTER_TYPE(app::Square)

BRINE_CEREAL_TYPE(app::Point, "app.Point");
BRINE_CEREAL_TYPE(app::Account, "app.Account");
BRINE_CEREAL_TYPE(app::Color, "app.Color");
BRINE_CEREAL_TYPE(app::Span, "app.Span");
BRINE_CEREAL_TYPE(app::Scene, "app.Scene");
BRINE_CEREAL_TYPE(app::Shape, "app.Shape");
BRINE_CEREAL_TYPE(app::Circle, "app.Circle");
BRINE_CEREAL_TYPE(app::Square, "app.Square");
BRINE_CEREAL_TYPE(app::Drawing, "app.Drawing");

BRINE_REGISTER(app::Point);
BRINE_REGISTER(app::Account);
BRINE_REGISTER(app::Color);
BRINE_REGISTER(app::Span);
BRINE_REGISTER(app::Scene);
BRINE_REGISTER(app::Shape);
BRINE_REGISTER_POLYMORPHIC(app::Circle, app::Shape);
BRINE_REGISTER_POLYMORPHIC(app::Square, app::Shape);
BRINE_REGISTER(app::Drawing);

namespace {

struct BinaryFormat {
  template <class T>
  static T round_trip(const T& value) {
    return brine::from_binary<T>(brine::to_binary(value).view());
  }
};
struct StableFormat {
  template <class T>
  static T round_trip(const T& value) {
    return brine::from_stable<T>(brine::to_stable(value).view());
  }
};

template <class Format>
class CerealHooks : public ::testing::Test {};
using Formats = ::testing::Types<BinaryFormat, StableFormat>;
TYPED_TEST_SUITE(CerealHooks, Formats);

app::Scene make_scene() {
  app::Scene scene;
  scene.title = "harbour";
  scene.points = {{1, 2}, {3.5, -4}};
  scene.palette["sea"] = {0, 90, 200};
  scene.palette["sand"] = {230, 210, 160};
  scene.origin = std::make_shared<app::Point>(app::Point{7, 8});
  scene.alias = scene.origin;
  scene.span = std::make_unique<app::Span>(app::Span{-3, 12});
  scene.accounts.emplace_back("ada", 1200);
  scene.accounts.back().history() = {{1, 1}};
  scene.accounts.emplace_back("bob", -5);
  return scene;
}

TYPED_TEST(CerealHooks, RoundTripsMemberSerialize) {
  const app::Point loaded = TypeParam::round_trip(app::Point{1.5, -2.25});
  EXPECT_EQ(loaded, (app::Point{1.5, -2.25}));
}

TYPED_TEST(CerealHooks, RoundTripsPrivateVersionedSaveLoad) {
  app::Account account("ada", 4200);
  account.history() = {{1, 2}, {3, 4}};
  const app::Account loaded = TypeParam::round_trip(account);
  EXPECT_EQ(loaded.owner(), "ada");
  EXPECT_EQ(loaded.cents(), 4200);
  EXPECT_EQ(loaded.history(), account.history());
  EXPECT_EQ(loaded.loaded_version(), 3u);  // CEREAL_CLASS_VERSION reaches the load function
}

TYPED_TEST(CerealHooks, RoundTripsFreeSerializeWithoutNames) {
  const app::Color loaded = TypeParam::round_trip(app::Color{10, 20, 30});
  EXPECT_EQ(loaded.r, 10);
  EXPECT_EQ(loaded.g, 20);
  EXPECT_EQ(loaded.b, 30);
}

TYPED_TEST(CerealHooks, RoundTripsFreeVersionedSaveLoad) {
  const app::Span loaded = TypeParam::round_trip(app::Span{-1, 99});
  EXPECT_EQ(loaded.begin, -1);
  EXPECT_EQ(loaded.end, 99);
}

TYPED_TEST(CerealHooks, RoundTripsNestedContainersAndSmartPointers) {
  const app::Scene scene = make_scene();
  const app::Scene loaded = TypeParam::round_trip(scene);
  EXPECT_EQ(loaded.title, "harbour");
  EXPECT_EQ(loaded.points, scene.points);
  ASSERT_EQ(loaded.palette.size(), 2u);
  EXPECT_EQ(loaded.palette.at("sand").g, 210);
  ASSERT_NE(loaded.origin, nullptr);
  EXPECT_EQ(*loaded.origin, (app::Point{7, 8}));
  EXPECT_EQ(loaded.alias, loaded.origin);  // shared, not copied
  ASSERT_NE(loaded.span, nullptr);
  EXPECT_EQ(loaded.span->end, 12);
  ASSERT_EQ(loaded.accounts.size(), 2u);
  EXPECT_EQ(loaded.accounts[0].history(), scene.accounts[0].history());
  EXPECT_EQ(loaded.accounts[1].cents(), -5);
}

TYPED_TEST(CerealHooks, RoundTripsPolymorphicPointers) {
  app::Drawing drawing;
  auto circle = std::make_shared<app::Circle>();
  circle->label = "c";
  circle->radius = 2;
  auto square = std::make_shared<app::Square>();
  square->label = "s";
  square->side = 3;
  drawing.shapes = {circle, square, circle};
  auto background = std::make_unique<app::Square>();
  background->side = 10;
  drawing.background = std::move(background);

  const app::Drawing loaded = TypeParam::round_trip(drawing);
  ASSERT_EQ(loaded.shapes.size(), 3u);
  EXPECT_EQ(loaded.shapes[0], loaded.shapes[2]);
  ASSERT_NE(dynamic_cast<app::Circle*>(loaded.shapes[0].get()), nullptr);
  ASSERT_NE(dynamic_cast<app::Square*>(loaded.shapes[1].get()), nullptr);
  EXPECT_EQ(loaded.shapes[0]->label, "c");
  EXPECT_EQ(loaded.shapes[0]->area(), 12);
  EXPECT_EQ(loaded.shapes[1]->label, "s");
  EXPECT_EQ(loaded.shapes[1]->area(), 9);
  ASSERT_NE(loaded.background, nullptr);
  EXPECT_EQ(loaded.background->area(), 100);
}

TEST(CerealHooks, FieldsAreNamedByNvpOrPosition) {
  const brine::Value point = brine::to_state(app::Point{1, 2});
  const brine::Object& p = point.as_object();
  EXPECT_EQ(p.type, "app.Point");
  ASSERT_NE(p.find("x"), nullptr);
  ASSERT_NE(p.find("y"), nullptr);

  const brine::Value color_state = brine::to_state(app::Color{1, 2, 3});
  const brine::Object& color = color_state.as_object();
  ASSERT_EQ(color.fields.size(), 3u);
  EXPECT_NE(color.find("_0"), nullptr);
  EXPECT_NE(color.find("_2"), nullptr);

  // A base class's fields are inlined, named or not.
  app::Square square;
  square.label = "q";
  const brine::Value square_state = brine::to_state(square);
  const brine::Object& sq = square_state.as_object();
  EXPECT_NE(sq.find("label"), nullptr);
  EXPECT_NE(sq.find("side"), nullptr);
  EXPECT_EQ(sq.find("base"), nullptr);
}

TEST(CerealHooks, VersionIsCerealClassVersion) {
  EXPECT_EQ(brine::to_state(app::Account("a", 1)).as_object().version, 3u);
  EXPECT_EQ(brine::to_state(app::Point{}).as_object().version, 0u);
}

TEST(CerealHooks, JsonArchiveShowsNamedFields) {
  const std::string json = brine::to_json_archive(app::Point{1, 2});
  EXPECT_NE(json.find("\"x\""), std::string::npos) << json;
  EXPECT_EQ(brine::from_json_archive<app::Point>(json), (app::Point{1, 2}));
}

TEST(CerealHooks, MissingFieldIsASchemaError) {
  // The state of a Color (fields _0.._2) under the name of a Point (fields x, y).
  brine::Value state = brine::to_state(app::Color{1, 2, 3});
  state.as_object().type = "app.Point";
  EXPECT_THROW_WITH(brine::from_state<app::Point>(state), brine::SchemaError, "'x'");
}

}  // namespace
