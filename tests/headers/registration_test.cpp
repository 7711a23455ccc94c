// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// registration_test.cpp: a type registered in a file that includes only brine/registry.hpp
// (registration_shapes.cpp) round-trips through a base pointer on every archive here, where
// only the base is known.

#include <gtest/gtest.h>

#include <brine/brine.hpp>
#include <memory>
#include <string>

#include "registration_shapes.hpp"

namespace {

struct Drawing {
  BRINE_TYPE("test.shapes.Drawing", 1);
  std::shared_ptr<shapes::Shape> first;
  std::shared_ptr<shapes::Shape> again;  // the same object: shared once
  template <class Archive>
  void getstate(Archive& ar) const {
    ar("first", first)("again", again);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    ar("first", first)("again", again);
  }
};

Drawing drawing() {
  Drawing d;
  d.first = shapes::make_polygon("roof", {3.0, 4.0, 5.0});
  d.again = d.first;
  return d;
}

void expect_polygon(const Drawing& loaded) {
  ASSERT_NE(loaded.first, nullptr);
  EXPECT_EQ(loaded.first->describe(), "polygon roof of 3 sides");
  EXPECT_EQ(loaded.first, loaded.again);
}

TEST(Registration, RegistryHeaderAloneRegistersTheType) {
  const brine::TypeInfo* info = brine::default_registry().find("test.shapes.Polygon");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->version(), 2u);
  EXPECT_EQ(info->bases().size(), 1u);
}

TEST(Registration, BinaryArchiveUsesTheRegisteredFieldCode) {
  expect_polygon(brine::from_binary<Drawing>(brine::to_binary(drawing()).view()));
}

TEST(Registration, StableArchiveUsesTheRegisteredFieldCode) {
  expect_polygon(brine::from_stable<Drawing>(brine::to_stable(drawing()).view()));
}

TEST(Registration, StateModelUsesTheRegisteredFieldCode) {
  brine::Value state = brine::to_state(drawing());
  expect_polygon(brine::from_state<Drawing>(state));
}

}  // namespace
