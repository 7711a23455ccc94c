// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// plugins.hpp: what the test program and the plugin libraries share: the polymorphic base
// class every plugin derives from, and the functions plugin_a and plugin_b export. The
// derived classes themselves stay inside their libraries.
#pragma once

#include <brine/brine.hpp>
#include <memory>
#include <string>
#include <vector>

namespace plugins {

/// Declared here, registered (as a base) by every plugin: all of them must land on one entry.
struct Shape {
  BRINE_TYPE("plugins.Shape", 1);
  virtual ~Shape() = default;
  virtual double area() const = 0;
  /// Which library's class the object is, answered by code inside that library.
  virtual std::string library() const = 0;
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

/// Owned by the test program: shapes from several libraries in one object graph.
struct Drawing {
  BRINE_TYPE("plugins.Drawing", 1);
  std::vector<std::shared_ptr<Shape>> shapes;
  template <class Archive>
  void getstate(Archive& ar) const {
    ar("shapes", shapes);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    ar("shapes", shapes);
  }
};

}  // namespace plugins

// plugin_a: registers plugins.a.Circle (a Shape), plugins.a.Settings and a function.
const brine::Registry* plugin_a_registry();
std::shared_ptr<plugins::Shape> plugin_a_make_circle(const std::string& label, double radius);

// plugin_b: registers plugins.b.Square (a Shape, version 2 with a migration from 1) and
// plugins.b.Palette.
const brine::Registry* plugin_b_registry();
std::shared_ptr<plugins::Shape> plugin_b_make_square(const std::string& label, double side);

// plugin_c is a MODULE loaded with dlopen(); it exports these with C linkage.
extern "C" {
using PluginRegistryFunction = const void* (*)();
using PluginMakeTriangleFunction = plugins::Shape* (*)(double base, double height);
}

// plugin_clash registers a different C++ type under the name "plugins.a.Circle".
const brine::Registry* plugin_clash_registry();
