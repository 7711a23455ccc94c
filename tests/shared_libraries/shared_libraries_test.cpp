// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// shared_libraries_test.cpp: DESIGN.md's promise that types registered from several shared
// libraries meet in one registry. plugin_a and plugin_b are linked in; plugin_c is loaded with
// dlopen(). The derived classes are defined only inside their libraries.

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <typeinfo>
#include <vector>

#include "plugins.hpp"

namespace {

using plugins::Drawing;
using plugins::Shape;

TEST(SharedLibraries, ShareOneRegistry) {
  const brine::Registry* here = &brine::default_registry();
  EXPECT_EQ(plugin_a_registry(), here);
  EXPECT_EQ(plugin_b_registry(), here);
}

TEST(SharedLibraries, RegistryFindsTypesOfEveryLibrary) {
  const brine::Registry& registry = brine::default_registry();
  for (const char* name : {"plugins.Shape", "plugins.a.Circle", "plugins.a.Settings",
                           "plugins.b.Square", "plugins.b.Palette"}) {
    EXPECT_NE(registry.find(name), nullptr) << name;
  }
  const brine::TypeInfo* settings = registry.find("plugins.a.Settings");
  ASSERT_NE(settings, nullptr);
  EXPECT_EQ(settings->version(), 4u);
  EXPECT_EQ(settings->layout().field_count, 2u);
  const brine::TypeInfo* square = registry.find("plugins.b.Square");
  ASSERT_NE(square, nullptr);
  EXPECT_EQ(square->version(), 2u);
  EXPECT_NE(square->migration_from(1), nullptr);
}

TEST(SharedLibraries, BaseRegisteredByBothLibrariesIsOneEntry) {
  const brine::Registry& registry = brine::default_registry();
  const brine::TypeInfo* shape = registry.find("plugins.Shape");
  ASSERT_NE(shape, nullptr);
  EXPECT_EQ(shape->cpp_type(), typeid(Shape));
  EXPECT_EQ(registry.find(typeid(Shape)), shape);
  for (const char* name : {"plugins.a.Circle", "plugins.b.Square"}) {
    const brine::TypeInfo* derived = registry.find(name);
    ASSERT_NE(derived, nullptr) << name;
    ASSERT_EQ(derived->bases().size(), 1u) << name;
    EXPECT_EQ(*derived->bases()[0].type, typeid(Shape)) << name;
  }
}

TEST(SharedLibraries, FunctionRegisteredInLibraryIsCallable) {
  brine::Function<double(double)> twice("plugins.a.twice");
  EXPECT_EQ(twice(21.0), 42.0);
}

TEST(SharedLibraries, RoundTripsDynamicTypeOfOtherLibraryThroughBasePointer) {
  std::shared_ptr<Shape> square = plugin_b_make_square("sq", 3.0);
  brine::Buffer bytes = brine::to_binary(square);
  auto loaded = brine::from_binary<std::shared_ptr<Shape>>(bytes.view());
  ASSERT_NE(loaded, nullptr);
  EXPECT_EQ(typeid(*loaded), typeid(*square));
  EXPECT_EQ(loaded->library(), "plugin_b");
  EXPECT_EQ(loaded->label, "sq");
  EXPECT_EQ(loaded->area(), 9.0);
}

TEST(SharedLibraries, RoundTripsGraphMixingLibraries) {
  Drawing drawing;
  drawing.shapes.push_back(plugin_a_make_circle("c", 1.0));
  drawing.shapes.push_back(plugin_b_make_square("s", 2.0));
  drawing.shapes.push_back(drawing.shapes[1]);
  drawing.shapes.push_back(nullptr);

  brine::Buffer bytes = brine::to_binary(drawing);
  Drawing loaded = brine::from_binary<Drawing>(bytes.view());
  ASSERT_EQ(loaded.shapes.size(), 4u);
  ASSERT_NE(loaded.shapes[0], nullptr);
  ASSERT_NE(loaded.shapes[1], nullptr);
  EXPECT_EQ(loaded.shapes[0]->library(), "plugin_a");
  EXPECT_EQ(loaded.shapes[0]->area(), 3.0);
  EXPECT_EQ(loaded.shapes[1]->library(), "plugin_b");
  EXPECT_EQ(loaded.shapes[1]->area(), 4.0);
  EXPECT_EQ(loaded.shapes[2], loaded.shapes[1]) << "sharing across the graph is kept";
  EXPECT_EQ(loaded.shapes[3], nullptr);

  // The archive names the dynamic types; the program never included their definitions.
  std::vector<std::string> names;
  brine::MemorySource source(bytes.view());
  brine::BinaryReader reader(source);
  reader.read<Drawing>();
  for (const auto& t : reader.types()) names.push_back(t.name);
  EXPECT_NE(std::find(names.begin(), names.end(), "plugins.a.Circle"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "plugins.b.Square"), names.end());
}

TEST(SharedLibraries, StateModelRoundTripsGraphMixingLibraries) {
  Drawing drawing;
  drawing.shapes.push_back(plugin_a_make_circle("c", 2.0));
  drawing.shapes.push_back(plugin_b_make_square("s", 5.0));
  brine::Value state = brine::to_state(drawing);
  std::string json = brine::to_json(state);
  EXPECT_NE(json.find("\"plugins.a.Circle\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"plugins.b.Square\""), std::string::npos) << json;

  Drawing loaded = brine::from_state<Drawing>(brine::value_from_json(json));
  ASSERT_EQ(loaded.shapes.size(), 2u);
  EXPECT_EQ(loaded.shapes[0]->library(), "plugin_a");
  EXPECT_EQ(loaded.shapes[0]->area(), 12.0);
  EXPECT_EQ(loaded.shapes[1]->library(), "plugin_b");
  EXPECT_EQ(loaded.shapes[1]->area(), 25.0);
}

TEST(SharedLibraries, MigrationRegisteredInLibraryUpgradesOldState) {
  // A version 1 square, as an older build of plugin_b wrote it: the side was called "edge".
  brine::Object old;
  old.type = "plugins.b.Square";
  old.version = 1;
  old.fields.push_back({"label", brine::Value("old")});
  old.fields.push_back({"edge", brine::Value(6.0)});
  auto loaded = brine::from_state<std::shared_ptr<Shape>>(brine::Value(std::move(old)));
  ASSERT_NE(loaded, nullptr);
  EXPECT_EQ(loaded->library(), "plugin_b");
  EXPECT_EQ(loaded->label, "old");
  EXPECT_EQ(loaded->area(), 36.0);
}

TEST(SharedLibraries, ModuleLoadedWithDlopenRegistersInSameRegistry) {
  EXPECT_EQ(brine::default_registry().find("plugins.c.Triangle"), nullptr)
      << "plugin_c must not be loaded before this test loads it";
  // Never dlclose()d: the registry keeps pointers into the module's code for as long as the
  // process runs (brine has no way to unregister a type).
  void* module = dlopen(BRINE_PLUGIN_C_PATH, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(module, nullptr) << dlerror();
  auto registry_of = reinterpret_cast<PluginRegistryFunction>(dlsym(module, "plugin_c_registry"));
  auto make_triangle =
      reinterpret_cast<PluginMakeTriangleFunction>(dlsym(module, "plugin_c_make_triangle"));
  ASSERT_NE(registry_of, nullptr);
  ASSERT_NE(make_triangle, nullptr);

  EXPECT_EQ(registry_of(), static_cast<const void*>(&brine::default_registry()));
  EXPECT_NE(brine::default_registry().find("plugins.c.Triangle"), nullptr);

  std::shared_ptr<Shape> triangle(make_triangle(4.0, 3.0));
  auto loaded = brine::from_binary<std::shared_ptr<Shape>>(brine::to_binary(triangle).view());
  ASSERT_NE(loaded, nullptr);
  EXPECT_EQ(loaded->library(), "plugin_c");
  EXPECT_EQ(loaded->label, "dlopened");
  EXPECT_EQ(loaded->area(), 6.0);
}

}  // namespace
