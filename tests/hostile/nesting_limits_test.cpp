// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// nesting_limits_test.cpp: input nested right up to LoadOptions::max_nesting() is decoded,
// upgraded and destroyed within the stack of a sanitizer build; one level more is a
// LimitError. Every reader recurses once per level, and so does ~Value: the limit is only
// a defence if everything below it fits.

#include <brine/brine.hpp>
#include <string>

#include "hostile_support.hpp"
#include "test_util.hpp"

namespace {

// A JSON document whose single value is `levels` nested lists around a null: the document
// object and its "values" list are two levels more.
std::string json_document_of_depth(std::size_t levels) {
  std::string inner(levels, '[');
  inner += "null";
  inner.append(levels, ']');
  return R"({"format": "brine-json", "format_version": 1, "values": [)" + inner + "]}";
}

TEST(NestingLimits, JsonDocumentAtTheLimitLoadsAndOneMoreIsRefused) {
  brine::LoadOptions options;
  const std::size_t limit = options.max_nesting();
  std::vector<brine::Value> values =
      brine::json_document_values(json_document_of_depth(limit - 2), options);
  ASSERT_EQ(values.size(), 1u);
  std::size_t depth = 0;
  for (const brine::Value* v = &values[0]; v->kind() == brine::ValueKind::list;
       v = &v->as_list()[0])
    ++depth;
  EXPECT_EQ(depth, limit - 2);
  brine::Registry registry;
  registry.upgrade(values[0], options);  // the migration walk over the same depth
  hostile::expect_error<brine::LimitError>(
      [&] { brine::json_document_values(json_document_of_depth(limit - 1), options); },
      "max_depth (1000)");
}

// The same depth written as a stable (CBOR) archive and read back without types.
TEST(NestingLimits, StableArchiveAtTheLimitLoadsAndOneMoreIsRefused) {
  brine::LoadOptions options;
  const std::size_t limit = options.max_nesting();
  auto archive_of_depth = [](std::size_t levels) {
    brine::Value v;
    for (std::size_t i = 0; i < levels; ++i) {
      brine::Value::List wrap;  // not an initializer list: that would copy the whole tree
      wrap.push_back(std::move(v));
      v = brine::Value(std::move(wrap));
    }
    brine::Buffer out;
    brine::BufferSink sink(out);
    brine::Registry empty;
    brine::StableWriter writer(sink, empty);
    writer.write_value(v);
    writer.finish();
    return std::string(out.view());
  };
  // The document's list of values is one level.
  std::vector<brine::Value> values =
      brine::read_stable_values(archive_of_depth(limit - 1), options);
  ASSERT_EQ(values.size(), 1u);
  hostile::expect_error<brine::LimitError>(
      [&] { brine::read_stable_values(archive_of_depth(limit), options); }, "max_depth (1000)");
}

}  // namespace

namespace nesting {

struct Tree {
  BRINE_TYPE("nesting.Tree", 1);
  std::vector<Tree> kids;
  template <class A>
  void getstate(A& ar) const {
    ar("kids", kids);
  }
  template <class A>
  void setstate(A& ar) {
    ar("kids", kids);
  }
};

Tree chain(std::size_t depth) {
  Tree root;
  Tree* t = &root;
  for (std::size_t i = 1; i < depth; ++i) {
    t->kids.emplace_back();
    t = &t->kids.back();
  }
  return root;
}

std::size_t depth_of(const Tree& t) {
  std::size_t d = 1;
  for (const Tree* p = &t; !p->kids.empty(); p = &p->kids[0]) ++d;
  return d;
}

}  // namespace nesting

namespace {

// max_depth counts objects, and the same tree loads from every encoding: the binary archive
// (typed and through read_value), the stable archive and the JSON document.
TEST(NestingLimits, TreeAtMaxDepthLoadsFromEveryEncoding) {
  brine::Registry registry;
  registry.add<nesting::Tree>();
  const std::size_t depth = brine::LoadOptions{}.max_depth;
  nesting::Tree tree = nesting::chain(depth);
  brine::Buffer binary = brine::to_binary(tree, registry);
  EXPECT_EQ(nesting::depth_of(brine::from_binary<nesting::Tree>(binary.view(), registry)), depth);
  {
    brine::MemorySource source(binary.view());
    brine::BinaryReader reader(source, registry);
    EXPECT_EQ(reader.read_value().kind(), brine::ValueKind::object);
  }
  brine::Buffer stable = brine::to_stable(tree, registry);
  EXPECT_EQ(nesting::depth_of(brine::from_stable<nesting::Tree>(stable.view(), registry)), depth);
  std::string json = brine::to_json_archive(tree, registry);
  EXPECT_EQ(nesting::depth_of(brine::from_json_archive<nesting::Tree>(json, registry)), depth);

  nesting::Tree deeper = nesting::chain(depth + 1);
  EXPECT_THROW(
      brine::from_binary<nesting::Tree>(brine::to_binary(deeper, registry).view(), registry),
      brine::LimitError);
  EXPECT_THROW(
      brine::from_stable<nesting::Tree>(brine::to_stable(deeper, registry).view(), registry),
      brine::LimitError);
  EXPECT_THROW(
      brine::from_json_archive<nesting::Tree>(brine::to_json_archive(deeper, registry), registry),
      brine::LimitError);
}

}  // namespace
