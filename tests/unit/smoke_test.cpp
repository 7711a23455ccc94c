#include <brine/brine.hpp>
#include "test_util.hpp"

struct Point {
  BRINE_TYPE("test.Point", 1);
  double x = 0, y = 0;
  std::string label;
  std::vector<float> data;
  std::map<std::string, int> tags;
  template <class A> void getstate(A& ar) const { ar("x", x)("y", y)("label", label)("data", data)("tags", tags); }
  template <class A> void setstate(A& ar) { ar("x", x)("y", y)("label", label)("data", data)("tags", tags); }
};

TEST(Smoke, RoundTrips) {
  Point p{1.5, 2.5, "hi", {1, 2, 3}, {{"a", 1}}};
  brine::Buffer b = brine::to_binary(p);
  Point q = brine::from_binary<Point>(b.view());
  EXPECT_EQ(q.x, 1.5);
  EXPECT_EQ(q.label, "hi");
  EXPECT_EQ(q.data.size(), 3u);
  EXPECT_EQ(q.tags.at("a"), 1);
}
