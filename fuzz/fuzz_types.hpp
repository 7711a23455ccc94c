// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// fuzz_types.hpp: the registered types the binary reader fuzzer decodes into, shared with
// the seed corpus generator: a document of every container family, a polymorphic
// shared_ptr graph with cycles, and a type whose older version loads through a migration.
#pragma once

#include <array>
#include <brine/brine.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <variant>
#include <vector>

namespace fuzz {

struct Point {
  BRINE_TYPE("fuzz.Point", 1);
  std::int32_t x = 0;
  double y = 0;
  template <class A>
  void getstate(A& ar) const {
    ar("x", x)("y", y);
  }
  template <class A>
  void setstate(A& ar) {
    ar("x", x)("y", y);
  }
};

enum class Mode : std::uint8_t { off = 0, on = 1 };

// A type without fields: its values take no bytes, so counts of them are not paid for by
// the input (a layout array of them is a length the data never checks).
struct Tag {
  BRINE_TYPE("fuzz.Tag", 1);
  template <class A>
  void getstate(A&) const {}
  template <class A>
  void setstate(A&) {}
};

struct Doc {
  BRINE_TYPE("fuzz.Doc", 1);
  std::string title;
  bool flag = false;
  Mode mode = Mode::off;
  std::vector<std::string> tags;
  std::vector<std::uint64_t> numbers;
  std::vector<bool> bits;
  std::map<std::string, Point> points;
  std::unordered_map<std::int32_t, std::string> names;
  std::set<std::int16_t> ids;
  std::optional<std::string> note;
  std::variant<std::int64_t, std::string, Point> choice;
  std::tuple<std::uint8_t, float, std::string> triple;
  std::array<Point, 2> corners;
  std::vector<std::byte> raw;
  std::chrono::milliseconds timeout{0};
  std::unique_ptr<Point> owned;
  Point origin;
  std::array<Tag, 3> markers;
  std::vector<Tag> more_markers;
  template <class A>
  void getstate(A& ar) const {
    ar("title", title)("flag", flag)("mode", mode)("tags", tags)("numbers", numbers)("bits", bits)(
        "points", points)("names", names)("ids", ids)("note", note)("choice", choice)(
        "triple", triple)("corners", corners)("raw", raw)("timeout", timeout)("owned", owned)(
        "origin", origin)("markers", markers)("more_markers", more_markers);
  }
  template <class A>
  void setstate(A& ar) {
    ar("title", title)("flag", flag)("mode", mode)("tags", tags)("numbers", numbers)("bits", bits)(
        "points", points)("names", names)("ids", ids)("note", note)("choice", choice)(
        "triple", triple)("corners", corners)("raw", raw)("timeout", timeout)("owned", owned)(
        "origin", origin)("markers", markers)("more_markers", more_markers);
  }
};

struct Node {
  BRINE_TYPE("fuzz.Node", 1);
  virtual ~Node() = default;
  std::string label;
  std::vector<std::shared_ptr<Node>> edges;
  std::weak_ptr<Node> parent;
  template <class A>
  void getstate(A& ar) const {
    ar("label", label)("edges", edges)("parent", parent);
  }
  template <class A>
  void setstate(A& ar) {
    ar("label", label)("edges", edges)("parent", parent);
  }
};

struct Leaf final : Node {
  BRINE_TYPE("fuzz.Leaf", 1);
  double weight = 0;
  template <class A>
  void getstate(A& ar) const {
    brine::base<Node>(ar, *this);
    ar("weight", weight);
  }
  template <class A>
  void setstate(A& ar) {
    brine::base<Node>(ar, *this);
    ar("weight", weight);
  }
};

struct Branch final : Node {
  BRINE_TYPE("fuzz.Branch", 1);
  std::unique_ptr<Node> owned;
  std::optional<std::shared_ptr<Node>> maybe;
  template <class A>
  void getstate(A& ar) const {
    brine::base<Node>(ar, *this);
    ar("owned", owned)("maybe", maybe);
  }
  template <class A>
  void setstate(A& ar) {
    brine::base<Node>(ar, *this);
    ar("owned", owned)("maybe", maybe);
  }
};

struct Graph {
  BRINE_TYPE("fuzz.Graph", 1);
  std::vector<std::shared_ptr<Node>> roots;
  std::map<std::string, std::shared_ptr<Node>> named;
  template <class A>
  void getstate(A& ar) const {
    ar("roots", roots)("named", named);
  }
  template <class A>
  void setstate(A& ar) {
    ar("roots", roots)("named", named);
  }
};

// "fuzz.Item": version 1 as an older program wrote it, version 2 as the fuzzer reads it.
namespace v1 {
struct Item {
  BRINE_TYPE("fuzz.Item", 1);
  std::string name;
  std::int32_t count = 0;
  std::vector<Point> where;
  template <class A>
  void getstate(A& ar) const {
    ar("name", name)("count", count)("where", where);
  }
  template <class A>
  void setstate(A& ar) {
    ar("name", name)("count", count)("where", where);
  }
};
}  // namespace v1

struct Item {
  BRINE_TYPE("fuzz.Item", 2);
  std::string label;
  std::int64_t count = 0;
  std::vector<Point> where;
  std::string unit;
  template <class A>
  void getstate(A& ar) const {
    ar("label", label)("count", count)("where", where)("unit", unit);
  }
  template <class A>
  void setstate(A& ar) {
    ar("label", label)("count", count)("where", where)("unit", unit);
  }
};

template <class ItemType>
struct InventoryOf {
  BRINE_TYPE("fuzz.Inventory", 1);
  std::vector<ItemType> items;
  std::shared_ptr<ItemType> featured;
  std::shared_ptr<ItemType> again;  // the same object as featured
  template <class A>
  void getstate(A& ar) const {
    ar("items", items)("featured", featured)("again", again);
  }
  template <class A>
  void setstate(A& ar) {
    ar("items", items)("featured", featured)("again", again);
  }
};
using Inventory = InventoryOf<Item>;
using OldInventory = InventoryOf<v1::Item>;

/// The registry the fuzzer reads with: current versions, bases, the v1 -> v2 migration.
inline void register_reader_types(brine::Registry& r) {
  r.add<Doc>();
  r.add<Node>();
  r.add<Leaf>().bases<Node>();
  r.add<Branch>().bases<Node>();
  r.add<Graph>();
  r.add<Item>().migration(
      1, brine::migrate::sequence({brine::migrate::rename_field("name", "label"),
                                   brine::migrate::add_field("unit", brine::Value("pcs"))}));
  r.add<Inventory>();
}

/// Clears every edge of a loaded graph so that its cycles are freed.
inline void dismantle(Graph& g) {
  std::vector<std::shared_ptr<Node>> keep;
  std::vector<Node*> todo;
  std::set<Node*> seen;
  auto push = [&](const std::shared_ptr<Node>& n) {
    if (!n) return;
    keep.push_back(n);
    todo.push_back(n.get());
  };
  for (const auto& r : g.roots) push(r);
  for (const auto& entry : g.named) push(entry.second);
  while (!todo.empty()) {
    Node* n = todo.back();
    todo.pop_back();
    if (!seen.insert(n).second) continue;
    for (const auto& e : n->edges) push(e);
    if (auto* b = dynamic_cast<Branch*>(n)) {
      if (b->owned) todo.push_back(b->owned.get());
      if (b->maybe) push(*b->maybe);
    }
  }
  for (Node* n : seen) {
    n->edges.clear();
    if (auto* b = dynamic_cast<Branch*>(n)) b->maybe.reset();
  }
}

/// Small valid values of the types above, for the seed corpora and the tests.
inline Doc sample_doc() {
  Doc d;
  d.title = "title";
  d.flag = true;
  d.mode = Mode::on;
  d.tags = {"a", "bb"};
  d.numbers = {1, 1ull << 40};
  d.bits = {true, false, true};
  d.points = {{"p", Point{1, 2.5}}};
  d.names = {{7, "seven"}};
  d.ids = {-1, 3};
  d.note = std::string("note");
  d.choice = Point{3, -1};
  d.triple = {9, 1.5f, "t"};
  d.corners = {Point{0, 0}, Point{4, 4}};
  d.raw = {std::byte{0}, std::byte{255}};
  d.timeout = std::chrono::milliseconds(1500);
  d.owned = std::make_unique<Point>(Point{5, 5});
  d.origin = Point{-3, 0.25};
  d.more_markers.resize(2);
  return d;
}

/// A graph with cycles through every pointer kind; dismantle() it when done.
inline Graph sample_graph() {
  auto a = std::make_shared<Branch>();
  auto b = std::make_shared<Leaf>();
  auto c = std::make_shared<Node>();
  a->label = "a";
  b->label = "b";
  c->label = "c";
  b->weight = 2;
  a->edges = {b, c};
  b->edges = {a};
  c->edges = {c};
  c->parent = a;
  a->owned = std::make_unique<Leaf>();
  a->maybe = std::shared_ptr<Node>(b);
  Graph g;
  g.roots = {a, b};
  g.named = {{"c", c}};
  return g;
}

/// An inventory as version 1 of fuzz.Item wrote it (save it with a registry without Item
/// version 2, which then knows fuzz.Item as version 1).
inline OldInventory sample_old_inventory() {
  OldInventory old;
  old.items = {v1::Item{"bolt", 3, {Point{1, 1}}}, v1::Item{"nut", -1, {}}};
  old.featured = std::make_shared<v1::Item>(v1::Item{"gear", 1, {}});
  old.again = old.featured;
  return old;
}

inline Inventory sample_inventory() {
  Inventory now;
  now.items = {Item{"bolt", 3, {}, "pcs"}};
  now.featured = std::make_shared<Item>(Item{"gear", 1, {Point{2, 2}}, "kg"});
  now.again = now.featured;
  return now;
}

}  // namespace fuzz
