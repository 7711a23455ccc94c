// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// archive_file_skip_test.cpp: ArchiveFileReader::skip() on binary and stable files builds no
// value tree: its allocations do not grow with the size of the value it passes over, while a
// read of the same value makes one or more per element. And skip() stays bounded on hostile
// nesting.

#include <brine/brine.hpp>
#include <string>
#include <vector>

#include "counting_allocator.hpp"
#include "test_util.hpp"

namespace {

struct Row {
  BRINE_TYPE("test.Row", 1);
  std::string name;
  std::vector<std::string> tags;
  std::shared_ptr<Row> next;
  template <class A>
  void getstate(A& ar) const {
    ar("name", name)("tags", tags)("next", next);
  }
  template <class A>
  void setstate(A& ar) {
    ar("name", name)("tags", tags)("next", next);
  }
};

std::vector<Row> rows(std::size_t n) {
  std::vector<Row> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    out[i].name = "row number " + std::to_string(i);
    out[i].tags = {"a tag", "tag " + std::to_string(i % 7)};
    out[i].next = std::make_shared<Row>();
    out[i].next->name = "child";
  }
  return out;
}

class SkipAllocations : public ::testing::TestWithParam<brine::Encoding> {};

TEST_P(SkipAllocations, DoNotGrowWithTheValue) {
  brine::Registry registry;
  registry.add<Row>();
  brine_test::TempDir dir;
  {
    brine::ArchiveFileWriter out(dir / "rows", GetParam(), registry);
    out.write(rows(10));
    out.write(rows(20000));
    out.write(std::string("last"));
    out.commit();
  }
  brine::ArchiveFileReader in(dir / "rows", registry);
  std::size_t small_skip, large_skip, large_read;
  {
    counting::Recording r;
    in.skip();
    small_skip = r.allocations();
  }
  {
    counting::Recording r;
    in.skip();
    large_skip = r.allocations();
  }
  EXPECT_EQ(in.next<std::string>(), "last");
  brine::ArchiveFileReader again(dir / "rows", registry);
  again.skip();
  {
    counting::Recording r;
    again.next<std::vector<Row>>();
    large_read = r.allocations();
  }
  // A handful for the walk's own stack and the type table, whatever the size; a read makes
  // at least one per row.
  EXPECT_LE(large_skip, small_skip + 16) << "small " << small_skip << ", large " << large_skip;
  EXPECT_GE(large_read, 20000u);
}

INSTANTIATE_TEST_SUITE_P(Encodings, SkipAllocations,
                         ::testing::Values(brine::Encoding::binary, brine::Encoding::stable),
                         [](const auto& info) {
                           return std::string(brine::to_string(info.param));
                         });

TEST(SkipNesting, DeepDynamicListsAreRefusedByTheLimitNotTheStack) {
  // A binary value of nested lists written through the state model (dynamic values, §7.3):
  // deeper than max_nesting(), the walk refuses it with a LimitError, like a read.
  brine::Value v;
  for (int i = 0; i < 600; ++i) {
    brine::Value::List list;
    list.push_back(std::move(v));
    v = brine::Value(std::move(list));
  }
  brine::Value::Map map;
  map.emplace("a", brine::Value(std::int64_t{1}));
  map.emplace("b", std::move(v));
  brine::Value mixed(brine::Value::List{brine::Value(std::move(map)), brine::Value("text")});
  brine_test::TempDir dir;
  brine::Registry registry;
  {
    brine::ArchiveFileWriter out(dir / "deep", brine::Encoding::binary, registry);
    out.write_value(mixed);
    out.commit();
  }
  brine::LoadOptions tight;
  tight.max_depth = 100;  // max_nesting() = 400 levels
  brine::ArchiveFileReader in(dir / "deep", registry, tight);
  EXPECT_THROW_WITH(in.skip(), brine::LimitError, "LoadOptions::max_depth (100)");

  brine::ArchiveFileReader deep(dir / "deep", registry);
  deep.skip();
  EXPECT_TRUE(deep.at_end());
}

}  // namespace
