// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// binary_nesting_test.cpp: nesting bombs. brine cannot write a 100,000-deep value without
// recursing that deep itself, so the deep archives are made by repeating the bytes one level
// adds; each is refused with a LimitError naming max_depth, never a stack overflow, and the
// legitimate depths next to them load.

#include <brine/brine.hpp>
#include <functional>
#include <sstream>
#include <string>

#include "hostile_support.hpp"
#include "test_util.hpp"

namespace hostile {

struct Tree {
  BRINE_TYPE("hostile.Tree", 1);
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

struct Link {
  BRINE_TYPE("hostile.Link", 1);
  std::shared_ptr<Link> next;
  template <class A>
  void getstate(A& ar) const {
    ar("next", next);
  }
  template <class A>
  void setstate(A& ar) {
    ar("next", next);
  }
};

struct Chain {
  BRINE_TYPE("hostile.Chain", 1);
  std::unique_ptr<Chain> next;
  template <class A>
  void getstate(A& ar) const {
    ar("next", next);
  }
  template <class A>
  void setstate(A& ar) {
    ar("next", next);
  }
};

}  // namespace hostile

namespace {

using hostile::Chain;
using hostile::Link;
using hostile::Tree;

Tree tree_of_depth(std::size_t depth) {
  Tree root;
  Tree* t = &root;
  for (std::size_t i = 1; i < depth; ++i) {
    t->kids.emplace_back();
    t = &t->kids.back();
  }
  return root;
}

std::size_t depth_of(const Tree& root) {
  std::size_t d = 1;
  for (const Tree* t = &root; !t->kids.empty(); t = &t->kids.front()) ++d;
  return d;
}

// Destroys a deep tree level by level: the recursive destructor of a 10,000-deep tree is
// the test's own stack risk, not the library's.
void flatten(Tree& root) {
  std::vector<Tree> pending;
  pending.swap(root.kids);
  while (!pending.empty()) {
    Tree t = std::move(pending.back());
    pending.pop_back();
    for (Tree& k : t.kids) pending.push_back(std::move(k));
  }
}

Link link_chain(std::size_t depth) {
  Link root;
  Link* l = &root;
  for (std::size_t i = 1; i < depth; ++i) {
    l->next = std::make_shared<Link>();
    l = l->next.get();
  }
  return root;
}

void unlink(Link& root) {
  std::shared_ptr<Link> next = std::move(root.next);
  while (next) next = std::move(next->next);
}

Chain owned_chain(std::size_t depth) {
  Chain root;
  Chain* c = &root;
  for (std::size_t i = 1; i < depth; ++i) {
    c->next = std::make_unique<Chain>();
    c = c->next.get();
  }
  return root;
}

void unchain(Chain& root) {
  std::unique_ptr<Chain> next = std::move(root.next);
  while (next) next = std::move(next->next);
}

// An archive of depth `depth`, made from brine's own archives of depth 1, 2 and 3: each
// level adds the same bytes at the same place of the data block, so repeating them gives
// any depth without recursing in the writer.
std::string deep_archive(const std::function<std::string(std::size_t)>& archive_of_depth,
                         std::size_t depth) {
  hostile::Archive a1 = hostile::parse_archive(archive_of_depth(1));
  hostile::Archive a2 = hostile::parse_archive(archive_of_depth(2));
  hostile::Archive a3 = hostile::parse_archive(archive_of_depth(3));
  EXPECT_EQ(a1.blocks.size(), 2u) << "one data block and the end block";
  const std::string& p1 = a1.blocks[0].payload;
  const std::string& p2 = a2.blocks[0].payload;
  std::size_t prefix = 0;
  while (prefix < p1.size() && p1[prefix] == p2[prefix]) ++prefix;
  std::string unit = p2.substr(prefix, p2.size() - p1.size());
  std::string head = p1.substr(0, prefix), tail = p1.substr(prefix);
  EXPECT_EQ(head + unit + tail, p2);
  EXPECT_EQ(head + unit + unit + tail, a3.blocks[0].payload) << "levels do not repeat";
  std::string deep = head;
  deep.reserve(head.size() + unit.size() * depth + tail.size());
  for (std::size_t i = 1; i < depth; ++i) deep += unit;
  deep += tail;
  a1.blocks[0].payload = std::move(deep);
  return hostile::serialize(a1);
}

std::string tree_archive(std::size_t depth) {
  brine::Registry registry;
  Tree t = tree_of_depth(depth);
  std::string bytes = hostile::archive_of(t, registry);
  flatten(t);
  return bytes;
}

std::string link_archive(std::size_t depth) {
  brine::Registry registry;
  Link l = link_chain(depth);
  std::string bytes = hostile::archive_of(l, registry);
  unlink(l);
  return bytes;
}

std::string chain_archive(std::size_t depth) {
  brine::Registry registry;
  Chain c = owned_chain(depth);
  std::string bytes = hostile::archive_of(c, registry);
  unchain(c);
  return bytes;
}

brine::LoadOptions depth_limit(std::size_t max_depth) {
  brine::LoadOptions o;
  o.max_depth = max_depth;
  return o;
}

template <class T>
void load_typed(const std::string& bytes, hostile::Via via, const brine::LoadOptions& options,
                const std::function<void(T&)>& dispose) {
  brine::Registry registry;
  auto read = [&](brine::BinaryReader& reader) {
    T value = reader.read<T>();
    dispose(value);
  };
  if (via == hostile::Via::memory) {
    brine::MemorySource source(bytes);
    brine::BinaryReader reader(source, registry, options);
    read(reader);
  } else {
    std::istringstream stream(bytes);
    brine::StreamSource source(stream);
    brine::BinaryReader reader(source, registry, options);
    read(reader);
  }
}

void load_value(const std::string& bytes, const brine::LoadOptions& options) {
  brine::Registry registry;
  brine::MemorySource source(bytes);
  brine::BinaryReader reader(source, registry, options);
  reader.read_value();
}

TEST(BinaryNesting, ModerateTreeLoadsAtDefaultAndAtExactLimit) {
  for (std::size_t depth : {1u, 2u, 50u, 900u}) {
    SCOPED_TRACE(depth);
    brine::Registry registry;
    std::string bytes = tree_archive(depth);
    Tree t = brine::from_binary<Tree>(bytes, registry);
    EXPECT_EQ(depth_of(t), depth);
    flatten(t);
    // Objects are the levels: a tree of depth d needs max_depth d, and d - 1 refuses it.
    Tree exact = brine::from_binary<Tree>(bytes, registry, depth_limit(depth));
    EXPECT_EQ(depth_of(exact), depth);
    flatten(exact);
    if (depth > 1) {
      auto e = hostile::expect_error<brine::LimitError>(
          [&] { brine::from_binary<Tree>(bytes, registry, depth_limit(depth - 1)); },
          "nesting depth exceeds LoadOptions::max_depth (" + std::to_string(depth - 1) + ")");
      EXPECT_EQ(e.code(), brine::errc::limit_exceeded);
      EXPECT_EQ(e.context().type_name, "hostile.Tree");
      EXPECT_TRUE(e.context().byte_offset.has_value());
    }
    if (depth <= 400) load_value(bytes, {});
  }
}

// read_value() and the older-version path (a class version bump sends a type's values
// through the same decoder) must give the verdict the typed path gives: otherwise an
// archive that loads today stops loading when the class gets a new version.
TEST(BinaryNesting, TypedAndTypelessPathsAgreeOnTheSameDepth) {
  std::string bytes = tree_archive(600);
  brine::Registry registry;
  Tree t = brine::from_binary<Tree>(bytes, registry);
  EXPECT_EQ(depth_of(t), 600u);
  flatten(t);
  try {
    load_value(bytes, {});
  } catch (const brine::LimitError& e) {
    ADD_FAILURE() << "the typed read loads a 600-deep tree with the default max_depth, "
                     "read_value() refuses it: "
                  << e.what();
  }
}

TEST(BinaryNesting, SmallMaxDepthRefusesModerateTreeOnEveryPath) {
  std::string bytes = tree_archive(50);
  for (hostile::Via via : {hostile::Via::memory, hostile::Via::stream}) {
    load_typed<Tree>(bytes, via, {}, flatten);
    auto e = hostile::expect_error<brine::LimitError>(
        [&] { load_typed<Tree>(bytes, via, depth_limit(10), flatten); },
        "nesting depth exceeds LoadOptions::max_depth (10)");
    EXPECT_EQ(e.code(), brine::errc::limit_exceeded);
  }
  load_value(bytes, {});
  hostile::expect_error<brine::LimitError>([&] { load_value(bytes, depth_limit(10)); },
                                           "nesting depth exceeds LoadOptions::max_depth (10)");
}

TEST(BinaryNesting, HundredThousandDeepTreeIsLimitError) {
  std::string bytes = deep_archive(tree_archive, 100000);
  EXPECT_GT(bytes.size(), 100000u);
  for (hostile::Via via : {hostile::Via::memory, hostile::Via::stream}) {
    SCOPED_TRACE(hostile::via_name(via));
    auto e = hostile::expect_error<brine::LimitError>(
        [&] { load_typed<Tree>(bytes, via, {}, flatten); },
        "nesting depth exceeds LoadOptions::max_depth (1000)");
    EXPECT_EQ(e.code(), brine::errc::limit_exceeded);
  }
  hostile::expect_error<brine::LimitError>([&] { load_value(bytes, {}); },
                                           "nesting depth exceeds LoadOptions::max_depth (1000)");
  // The same construction at a legitimate depth loads: the crafted bytes are valid.
  brine::Registry registry;
  Tree t = brine::from_binary<Tree>(deep_archive(tree_archive, 700), registry);
  EXPECT_EQ(depth_of(t), 700u);
  flatten(t);
}

TEST(BinaryNesting, HundredThousandLongSharedPointerChainIsLimitError) {
  std::string bytes = deep_archive(link_archive, 100000);
  for (hostile::Via via : {hostile::Via::memory, hostile::Via::stream}) {
    SCOPED_TRACE(hostile::via_name(via));
    auto e = hostile::expect_error<brine::LimitError>(
        [&] { load_typed<Link>(bytes, via, {}, unlink); },
        "nesting depth exceeds LoadOptions::max_depth (1000)");
    EXPECT_EQ(e.code(), brine::errc::limit_exceeded);
    EXPECT_EQ(e.context().type_name, "hostile.Link");
  }
  hostile::expect_error<brine::LimitError>([&] { load_value(bytes, {}); }, "max_depth (1000)");
  load_typed<Link>(deep_archive(link_archive, 600), hostile::Via::memory, {}, unlink);
  load_value(deep_archive(link_archive, 400), {});
}

TEST(BinaryNesting, HundredThousandLongOwningPointerChainIsLimitError) {
  std::string bytes = deep_archive(chain_archive, 100000);
  for (hostile::Via via : {hostile::Via::memory, hostile::Via::stream}) {
    SCOPED_TRACE(hostile::via_name(via));
    hostile::expect_error<brine::LimitError>([&] { load_typed<Chain>(bytes, via, {}, unchain); },
                                             "nesting depth exceeds LoadOptions::max_depth (1000)");
  }
  hostile::expect_error<brine::LimitError>([&] { load_value(bytes, {}); }, "max_depth (1000)");
  load_typed<Chain>(deep_archive(chain_archive, 600), hostile::Via::memory, {}, unchain);
}

// Layout descriptors come from the archive too; their own nesting has a fixed bound.
TEST(BinaryNesting, DeeplyNestedLayoutDescriptorIsFormatError) {
  auto archive_with_descriptor = [](const std::string& descriptor, const std::string& value) {
    hostile::Archive a;
    a.header = tree_archive(1).substr(0, hostile::kHeaderSize);
    a.blocks.push_back(
        {hostile::kDataBlock, "\x02" + hostile::varint(descriptor.size()) + descriptor + value, 0});
    a.blocks.push_back({hostile::kEndBlock, std::string(16, '\0'), 0});
    return hostile::serialize(a);
  };
  // list<list<...<bool>>> 60 deep holding empty lists: fine.
  std::string ok = archive_with_descriptor(std::string(60, '\x20') + "\x01", std::string(1, '\0'));
  load_value(ok, {});
  std::string deep =
      archive_with_descriptor(std::string(100000, '\x20') + "\x01", std::string(1, '\0'));
  auto e = hostile::expect_error<brine::FormatError>(
      [&] { load_value(deep, {}); }, "layout descriptor nested deeper than 64 levels");
  EXPECT_EQ(e.code(), brine::errc::corrupt_data);
  EXPECT_TRUE(e.context().byte_offset.has_value()) << "where in the archive: " << e.what();
}

}  // namespace
