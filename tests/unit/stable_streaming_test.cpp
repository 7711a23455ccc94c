// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// stable_streaming_test.cpp: the stable writer streams into its sink. A large string or
// vector is not copied into a document buffer (a counting global allocator records what a
// save allocates), and whichever way a value's shareable tags are placed (held in memory
// and cut, or learned by a first walk and written by a second), the bytes are those of the
// document written into memory at once.

#include <brine/brine.hpp>
#include <memory>
#include <string>
#include <vector>

#include "../hostile/counting_allocator.hpp"
#include "sample_types.hpp"
#include "test_util.hpp"

namespace {

using brine_test::GraphNode;

constexpr std::size_t kPayload = std::size_t{64} << 20;

struct Samples {
  BRINE_TYPE("stream.Samples", 1);
  std::vector<double> values;
  template <class A>
  void getstate(A& ar) const {
    ar("values", values);
  }
  template <class A>
  void setstate(A& ar) {
    ar("values", values);
  }
};

struct Text {
  BRINE_TYPE("stream.Text", 1);
  std::string body;
  template <class A>
  void getstate(A& ar) const {
    ar("body", body);
  }
  template <class A>
  void setstate(A& ar) {
    ar("body", body);
  }
};

// Large bytes before the first shared object, shared objects referred to or not, large
// bytes after: the first walk writes the head and the second must skip exactly it.
struct Mixed {
  BRINE_TYPE("stream.Mixed", 1);
  std::string head;
  std::vector<std::shared_ptr<GraphNode>> nodes;
  std::vector<double> tail;
  std::string label;
  template <class A>
  void getstate(A& ar) const {
    ar("head", head)("nodes", nodes)("tail", tail)("label", label);
  }
  template <class A>
  void setstate(A& ar) {
    ar("head", head)("nodes", nodes)("tail", tail)("label", label);
  }
};

// Writes something else on each call: a value walked twice comes out different.
struct Fickle {
  BRINE_TYPE("stream.Fickle", 1);
  mutable int calls = 0;
  std::shared_ptr<GraphNode> node = std::make_shared<GraphNode>();
  template <class A>
  void getstate(A& ar) const {
    ar("note", std::string(calls++ == 0 ? "first" : "every later call"))("node", node);
  }
  template <class A>
  void setstate(A& ar) {
    std::string note;
    ar("note", note)("node", node);
  }
};

/// Keeps what it is given, without offering its buffer: the writer streams into it.
class CollectingSink final : public brine::ByteSink {
 public:
  void write(const void* bytes, std::size_t n) override {
    collected.append(static_cast<const char*>(bytes), n);
  }
  std::string collected;
};

std::vector<std::shared_ptr<GraphNode>> graph() {
  std::vector<std::shared_ptr<GraphNode>> nodes;
  for (int i = 0; i < 40; ++i) {
    nodes.push_back(std::make_shared<GraphNode>());
    nodes.back()->id = i;
  }
  for (int i = 0; i < 40; ++i) {
    if (i % 3 == 0) nodes[i]->next.push_back(nodes[(i + 7) % 40]);  // some referred to again
    if (i % 5 == 0) nodes[i]->next.push_back(nodes[i]);             // cycles
  }
  return nodes;
}

void break_cycles(const std::vector<std::shared_ptr<GraphNode>>& nodes) {
  for (const auto& n : nodes) n->next.clear();
}

Mixed mixed() {
  Mixed m;
  m.head.assign((std::size_t{3} << 20) + 17, 'h');  // over the 1 MiB chunk: written through
  m.nodes = graph();
  m.nodes.push_back(m.nodes[4]);
  m.tail.assign(300'000, 0.5);
  m.label = "stream.Mixed label, long enough for the string table";
  return m;
}

// The reference: a BufferSink, whose buffer the writer fills in place and never walks twice.
template <class Write>
std::string in_memory(brine::Registry& registry, Write&& write) {
  brine::Buffer out = brine_test::stable_document(registry, write);
  return std::string(out.view());
}

template <class Write>
std::string streamed(brine::Registry& registry, std::size_t max_held_bytes, Write&& write) {
  CollectingSink sink;
  brine::StableWriteOptions options;
  options.max_held_bytes = max_held_bytes;
  brine::StableWriter writer(sink, registry, options);
  write(writer);
  writer.finish();
  return sink.collected;
}

// 0: every value with a shareable is walked twice; 200: some give up holding part-way;
// the default: all are held.
template <class Write>
void expect_same_bytes_every_way(Write&& write) {
  brine::Registry registry;
  const std::string expected = in_memory(registry, write);
  for (std::size_t held :
       {std::size_t{0}, std::size_t{200}, brine::StableWriteOptions{}.max_held_bytes}) {
    SCOPED_TRACE("max_held_bytes " + std::to_string(held));
    brine::Registry fresh;
    std::string got = streamed(fresh, held, write);
    ASSERT_EQ(got.size(), expected.size());
    EXPECT_TRUE(got == expected);
  }
}

TEST(StableStreaming, SpecificationsSharingExampleComesOutTheSameEveryWay) {
  auto a = std::make_shared<brine_test::Inner>(brine_test::Inner{1, "ab"});
  auto b = std::make_shared<brine_test::Inner>(brine_test::Inner{2, "cd"});
  std::vector<std::shared_ptr<brine_test::Inner>> points{a, a, b};
  expect_same_bytes_every_way([&](brine::StableWriter& w) { w.write(points); });
}

TEST(StableStreaming, GraphsOverSeveralValuesComeOutTheSameEveryWay) {
  auto nodes = graph();
  brine_test::Scene scene = brine_test::make_scene();
  expect_same_bytes_every_way([&](brine::StableWriter& w) {
    brine_test::register_shapes(w.registry());
    w.write(nodes);     // indices continue into the next values
    w.write(42);        // no shareable
    w.write(scene);     // weak_ptr, polymorphism
    w.write(nodes[3]);  // names now stringrefs
    w.write(nodes);
  });
  break_cycles(nodes);
}

TEST(StableStreaming, LargeBytesAroundSharedObjectsComeOutTheSameEveryWay) {
  Mixed m = mixed();
  expect_same_bytes_every_way([&](brine::StableWriter& w) {
    w.write(m);
    w.write(m);
  });
  brine::Registry registry;
  std::string bytes = streamed(registry, 0, [&](brine::StableWriter& w) { w.write(m); });
  Mixed back = brine::from_stable<Mixed>(bytes, registry);
  EXPECT_EQ(back.head, m.head);
  EXPECT_EQ(back.tail, m.tail);
  ASSERT_EQ(back.nodes.size(), m.nodes.size());
  EXPECT_EQ(back.nodes[4], back.nodes.back());
  EXPECT_EQ(back.nodes[36]->next[0], back.nodes[3]);  // 36 -> (36 + 7) % 40
  break_cycles(back.nodes);
  break_cycles(m.nodes);
}

TEST(StableStreaming, StateModelValuesComeOutTheSameEveryWay) {
  brine::Registry registry;
  auto nodes = graph();
  brine::Value state = brine::to_state(nodes, registry);
  break_cycles(nodes);
  expect_same_bytes_every_way([&](brine::StableWriter& w) {
    w.write_value(state);
    w.write_value(state);
  });
}

TEST(StableStreaming, ValueThatComesOutDifferentTheSecondTimeIsAnInternalError) {
  brine::Registry registry;
  Fickle fickle;
  EXPECT_THROW_WITH(streamed(registry, 0, [&](brine::StableWriter& w) { w.write(fickle); }),
                    brine::InternalError, "getstate hooks must write the same every time");
}

// What a save allocates beside the object: before streaming, a document buffer as large as
// the document (so a 64 MiB vector cost 128 MiB); now chunks of about 1 MiB.
template <class T>
std::size_t bytes_allocated_saving(const T& value, std::size_t max_held_bytes) {
  brine::Registry registry;
  brine_test::TempDir dir;
  const std::filesystem::path path = dir.path() / "big.stable";
  std::size_t allocated;
  {
    brine::AtomicFileSink sink(path);
    brine::StableWriteOptions options;
    options.max_held_bytes = max_held_bytes;
    counting::Recording recording;
    brine::StableWriter writer(sink, registry, options);
    writer.write(value);
    writer.finish();
    sink.commit();
    recording.stop();
    allocated = recording.total_bytes();
  }
  EXPECT_GT(std::filesystem::file_size(path), kPayload);
  T back = brine::load_stable<T>(path, registry);
  EXPECT_TRUE(back.values == value.values);
  return allocated;
}

TEST(StableStreaming, SavingALargeVectorAllocatesNoSecondCopy) {
  Samples s;
  s.values.assign(kPayload / sizeof(double), 1.5);
  std::size_t allocated = bytes_allocated_saving(s, brine::StableWriteOptions{}.max_held_bytes);
  EXPECT_LT(allocated, kPayload / 5) << allocated << " bytes allocated";
}

TEST(StableStreaming, SavingALargeStringAllocatesNoSecondCopy) {
  Text t;
  t.body.assign(kPayload, 'x');
  brine::Registry registry;
  brine_test::TempDir dir;
  std::size_t allocated;
  {
    counting::Recording recording;
    brine::save_stable(dir.path() / "text.stable", t, registry);
    allocated = recording.total_bytes();
  }
  EXPECT_LT(allocated, kPayload / 5) << allocated << " bytes allocated";
  EXPECT_EQ(brine::load_stable<Text>(dir.path() / "text.stable", registry).body, t.body);
}

// A shared object before the vector: the value is held from there until it outgrows
// max_held_bytes, then walked twice; neither walk copies the vector.
struct SharedThenSamples {
  BRINE_TYPE("stream.SharedThenSamples", 1);
  std::shared_ptr<brine_test::Inner> first = std::make_shared<brine_test::Inner>();
  std::vector<double> values;
  template <class A>
  void getstate(A& ar) const {
    ar("first", first)("values", values);
  }
  template <class A>
  void setstate(A& ar) {
    ar("first", first)("values", values);
  }
};

TEST(StableStreaming, ValueHeldFromASharedObjectOnIsBoundedByMaxHeldBytes) {
  SharedThenSamples s;
  s.values.assign(kPayload / sizeof(double), 2.5);
  std::size_t allocated = bytes_allocated_saving(s, std::size_t{1} << 20);
  EXPECT_LT(allocated, kPayload / 5) << allocated << " bytes allocated";
}

}  // namespace
