// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// sample_types.hpp: types that exercise every built-in family, polymorphism and sharing,
// shared by the tests of every archive.
#pragma once

#include <gtest/gtest.h>

#include <brine/brine.hpp>
#include <brine/types/boost_path.hpp>

namespace brine_test {

enum class Color : std::uint8_t { red = 1, green = 2 };

struct Inner {
  BRINE_TYPE("test.Inner", 1);
  int a = 0;
  std::string s;
  template <class A>
  void getstate(A& ar) const {
    ar("a", a)("s", s);
  }
  template <class A>
  void setstate(A& ar) {
    ar("a", a)("s", s);
  }
  bool operator==(const Inner& o) const { return a == o.a && s == o.s; }
};

struct Everything {
  BRINE_TYPE("test.Everything", 1);
  bool b = false;
  std::int8_t i8 = 0;
  std::uint16_t u16 = 0;
  std::int32_t i32 = 0;
  std::uint64_t u64 = 0;
  float f = 0;
  double d = 0;
  char c = 0;
  Color color = Color::red;
  std::string text;
  std::vector<int> ints;
  std::vector<std::string> strings;
  std::vector<bool> bits;
  std::array<double, 3> arr{};
  std::array<std::string, 2> sarr;
  std::deque<int> dq;
  std::list<std::string> lst;
  std::map<std::string, Inner> by_name;
  std::map<int, std::string> by_int;
  std::unordered_map<std::string, int> umap;
  std::set<int> set;
  std::unordered_set<std::string> uset;
  std::pair<int, std::string> pair;
  std::tuple<int, double, std::string> tuple;
  std::optional<int> opt_set, opt_empty;
  std::variant<int, std::string, Inner> var;
  std::unique_ptr<Inner> up;
  std::unique_ptr<int> up_int;
  std::chrono::milliseconds ms{0};
  std::chrono::system_clock::time_point tp{};
  std::complex<double> cx;
  std::filesystem::path path;
  boost::filesystem::path bpath;
  std::vector<std::byte> raw;
  Inner inner;
  std::vector<Inner> inners;

  template <class A>
  void getstate(A& ar) const {
    ar("b", b)("i8", i8)("u16", u16)("i32", i32)("u64", u64)("f", f)("d", d)("c", c)(
        "color", color)("text", text)("ints", ints)("strings", strings)("bits", bits)("arr", arr)(
        "sarr", sarr)("dq", dq)("lst", lst)("by_name", by_name)("by_int", by_int)("umap", umap)(
        "set", set)("uset", uset)("pair", pair)("tuple", tuple)("opt_set", opt_set)(
        "opt_empty", opt_empty)("var", var)("up", up)("up_int", up_int)("ms", ms)("tp", tp)(
        "cx", cx)("path", path)("bpath", bpath)("raw", raw)("inner", inner)("inners", inners);
  }
  template <class A>
  void setstate(A& ar) {
    ar("b", b)("i8", i8)("u16", u16)("i32", i32)("u64", u64)("f", f)("d", d)("c", c)(
        "color", color)("text", text)("ints", ints)("strings", strings)("bits", bits)("arr", arr)(
        "sarr", sarr)("dq", dq)("lst", lst)("by_name", by_name)("by_int", by_int)("umap", umap)(
        "set", set)("uset", uset)("pair", pair)("tuple", tuple)("opt_set", opt_set)(
        "opt_empty", opt_empty)("var", var)("up", up)("up_int", up_int)("ms", ms)("tp", tp)(
        "cx", cx)("path", path)("bpath", bpath)("raw", raw)("inner", inner)("inners", inners);
  }
};

inline Everything make_everything() {
  Everything e;
  e.b = true;
  e.i8 = -5;
  e.u16 = 65000;
  e.i32 = -123456;
  e.u64 = 0xFFFFFFFFFFFFFFFFull;
  e.f = 1.25f;
  e.d = -2.5e300;
  e.c = 'x';
  e.color = Color::green;
  e.text = "héllo";
  e.ints = {1, -2, 3};
  e.strings = {"a", "", "ccc"};
  e.bits = {true, false, true};
  e.arr = {1.0, 2.0, 3.0};
  e.sarr = {"x", "y"};
  e.dq = {4, 5};
  e.lst = {"l1", "l2"};
  e.by_name = {{"one", Inner{1, "i1"}}, {"two", Inner{2, "i2"}}};
  e.by_int = {{3, "three"}, {-1, "minus"}};
  e.umap = {{"k", 7}};
  e.set = {9, 8};
  e.uset = {"u"};
  e.pair = {1, "p"};
  e.tuple = {2, 3.5, "t"};
  e.opt_set = 42;
  e.var = Inner{5, "v"};
  e.up = std::make_unique<Inner>(Inner{6, "up"});
  e.up_int = std::make_unique<int>(77);
  e.ms = std::chrono::milliseconds(1500);
  e.tp = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  e.cx = {1.0, -1.0};
  e.path = "dir/file.txt";
  e.bpath = "b/dir";
  e.raw = {std::byte{1}, std::byte{255}};
  e.inner = Inner{8, "inner"};
  e.inners = {Inner{9, "a"}, Inner{10, "b"}};
  return e;
}

inline void expect_everything(const Everything& e) {
  Everything x = make_everything();
  EXPECT_EQ(e.b, x.b);
  EXPECT_EQ(e.i8, x.i8);
  EXPECT_EQ(e.u16, x.u16);
  EXPECT_EQ(e.i32, x.i32);
  EXPECT_EQ(e.u64, x.u64);
  EXPECT_EQ(e.f, x.f);
  EXPECT_EQ(e.d, x.d);
  EXPECT_EQ(e.c, x.c);
  EXPECT_EQ(e.color, x.color);
  EXPECT_EQ(e.text, x.text);
  EXPECT_EQ(e.ints, x.ints);
  EXPECT_EQ(e.strings, x.strings);
  EXPECT_EQ(e.bits, x.bits);
  EXPECT_EQ(e.arr, x.arr);
  EXPECT_EQ(e.sarr, x.sarr);
  EXPECT_EQ(e.dq, x.dq);
  EXPECT_EQ(e.lst, x.lst);
  EXPECT_EQ(e.by_name, x.by_name);
  EXPECT_EQ(e.by_int, x.by_int);
  EXPECT_EQ(e.umap, x.umap);
  EXPECT_EQ(e.set, x.set);
  EXPECT_EQ(e.uset, x.uset);
  EXPECT_EQ(e.pair, x.pair);
  EXPECT_EQ(e.tuple, x.tuple);
  EXPECT_EQ(e.opt_set, x.opt_set);
  EXPECT_FALSE(e.opt_empty.has_value());
  EXPECT_EQ(e.var, x.var);
  ASSERT_TRUE(e.up);
  EXPECT_EQ(*e.up, *x.up);
  ASSERT_TRUE(e.up_int);
  EXPECT_EQ(*e.up_int, 77);
  EXPECT_EQ(e.ms, x.ms);
  EXPECT_EQ(e.tp, x.tp);
  EXPECT_EQ(e.cx, x.cx);
  EXPECT_EQ(e.path, x.path);
  EXPECT_EQ(e.bpath, x.bpath);
  EXPECT_EQ(e.raw, x.raw);
  EXPECT_EQ(e.inner, x.inner);
  EXPECT_EQ(e.inners, x.inners);
}

struct Shape {
  BRINE_TYPE("test.Shape", 1);
  virtual ~Shape() = default;
  virtual double area() const = 0;
  std::string name;
  template <class A>
  void getstate(A& ar) const {
    ar("name", name);
  }
  template <class A>
  void setstate(A& ar) {
    ar("name", name);
  }
};

struct Square final : Shape {
  BRINE_TYPE("test.Square", 1);
  double side = 0;
  double area() const override { return side * side; }
  template <class A>
  void getstate(A& ar) const {
    brine::base<Shape>(ar, *this);
    ar("side", side);
  }
  template <class A>
  void setstate(A& ar) {
    brine::base<Shape>(ar, *this);
    ar("side", side);
  }
};

struct Circle final : Shape {
  BRINE_TYPE("test.Circle", 1);
  double r = 0;
  double area() const override { return 3 * r * r; }
  template <class A>
  void getstate(A& ar) const {
    brine::base<Shape>(ar, *this);
    ar("r", r);
  }
  template <class A>
  void setstate(A& ar) {
    brine::base<Shape>(ar, *this);
    ar("r", r);
  }
};

struct Unregistered final : Shape {
  BRINE_TYPE("test.Unregistered", 1);
  double area() const override { return 0; }
  template <class A>
  void getstate(A& ar) const {
    brine::base<Shape>(ar, *this);
  }
  template <class A>
  void setstate(A& ar) {
    brine::base<Shape>(ar, *this);
  }
};

struct Scene {
  BRINE_TYPE("test.Scene", 1);
  std::vector<std::shared_ptr<Shape>> shapes;
  std::unique_ptr<Shape> owned;
  std::weak_ptr<Shape> focus;
  template <class A>
  void getstate(A& ar) const {
    ar("shapes", shapes)("owned", owned)("focus", focus);
  }
  template <class A>
  void setstate(A& ar) {
    ar("shapes", shapes)("owned", owned)("focus", focus);
  }
};

inline void register_shapes(brine::Registry& r) {
  r.add<Square>().bases<Shape>();
  r.add<Circle>().bases<Shape>();
}

inline Scene make_scene() {
  Scene s;
  auto sq = std::make_shared<Square>();
  sq->name = "sq";
  sq->side = 2;
  auto ci = std::make_shared<Circle>();
  ci->name = "ci";
  ci->r = 1;
  s.shapes = {sq, ci, sq};
  auto owned = std::make_unique<Circle>();
  owned->r = 5;
  s.owned = std::move(owned);
  s.focus = ci;
  return s;
}

inline void expect_scene(const Scene& s) {
  ASSERT_EQ(s.shapes.size(), 3u);
  EXPECT_EQ(s.shapes[0], s.shapes[2]) << "sharing lost";
  EXPECT_NE(dynamic_cast<Square*>(s.shapes[0].get()), nullptr);
  EXPECT_NE(dynamic_cast<Circle*>(s.shapes[1].get()), nullptr);
  EXPECT_EQ(s.shapes[0]->area(), 4);
  EXPECT_EQ(s.shapes[1]->name, "ci");
  ASSERT_TRUE(s.owned);
  EXPECT_EQ(s.owned->area(), 75);
  EXPECT_EQ(s.focus.lock(), s.shapes[1]);
}

struct GraphNode {
  BRINE_TYPE("test.GraphNode", 1);
  int id = 0;
  std::vector<std::shared_ptr<GraphNode>> next;
  template <class A>
  void getstate(A& ar) const {
    ar("id", id)("next", next);
  }
  template <class A>
  void setstate(A& ar) {
    ar("id", id)("next", next);
  }
};

}  // namespace brine_test
