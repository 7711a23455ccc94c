// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// state_memory_test.cpp: what a load through the state model holds is bounded by
// LoadOptions::max_state_expansion, whatever the archive says: measured here as the peak of
// live heap bytes with a replaced operator new.

#include <malloc.h>

#include <atomic>
#include <brine/brine.hpp>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <sstream>
#include <string>

#include "test_util.hpp"

namespace live {

std::atomic<bool> recording{false};
std::atomic<std::int64_t> bytes{0};
std::atomic<std::int64_t> peak{0};

void* allocate(std::size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  if (recording.load(std::memory_order_relaxed)) {
    std::int64_t now = bytes.fetch_add(static_cast<std::int64_t>(malloc_usable_size(p))) +
                       static_cast<std::int64_t>(malloc_usable_size(p));
    std::int64_t seen = peak.load();
    while (now > seen && !peak.compare_exchange_weak(seen, now)) {
    }
  }
  return p;
}

void release(void* p) noexcept {
  if (p == nullptr) return;
  if (recording.load(std::memory_order_relaxed))
    bytes.fetch_sub(static_cast<std::int64_t>(malloc_usable_size(p)));
  std::free(p);
}

/// Records the peak of live heap bytes allocated from its construction on.
class Peak {
 public:
  Peak() {
    bytes = 0;
    peak = 0;
    recording = true;
  }
  ~Peak() { recording = false; }
  std::uint64_t bytes_at_peak() const { return static_cast<std::uint64_t>(peak.load()); }
};

}  // namespace live

void* operator new(std::size_t n) { return live::allocate(n); }
void* operator new[](std::size_t n) { return live::allocate(n); }
void operator delete(void* p) noexcept { live::release(p); }
void operator delete[](void* p) noexcept { live::release(p); }
void operator delete(void* p, std::size_t) noexcept { live::release(p); }
void operator delete[](void* p, std::size_t) noexcept { live::release(p); }

namespace {

// Three million nulls: a 3 MB archive that a Value per item would turn into 264 MB at once
// (the list reserved from its count), and 384 MB as counted.
constexpr std::size_t kNulls = 3'000'000;

std::string stable_nulls() {
  brine::Registry registry;
  const brine::Value nulls{brine::Value::List(kNulls)};
  return std::string(brine_test::stable_document(registry, [&](brine::StableWriter& w) {
                       w.write_value(nulls);
                     }).view());
}

// Regression: issue #8 (a 10 MB archive of nulls took 875 MB in `brine verify`).
TEST(StateMemory, StableArchiveOfNullsStopsAtTheBound) {
  const std::string bytes = stable_nulls();
  brine::LoadOptions options;
  const std::uint64_t bound = options.max_state_bytes(bytes.size());
  ASSERT_LT(bound, kNulls * brine::LoadOptions::kStateValueCost);
  std::uint64_t peak = 0;
  {
    live::Peak recording;
    EXPECT_THROW_WITH(brine::read_stable_values(bytes, options), brine::LimitError,
                      "LoadOptions::max_state_expansion");
    peak = recording.bytes_at_peak();
  }
  // The stable reader holds a copy of nothing (memory source): only the tree counts.
  EXPECT_LE(peak, bound) << "peak " << peak << " bytes, bound " << bound;
}

// The binary reader counts against the bytes it has read so far (a stream's size is unknown).
TEST(StateMemory, BinaryArchiveOfNullsStopsAtTheBound) {
  brine::Registry registry;
  std::string bytes;
  {
    const brine::Value nulls{brine::Value::List(kNulls)};
    brine::Buffer out;
    brine::BufferSink sink(out);
    brine::BinaryWriter writer(sink, registry);
    writer.write_value(nulls);
    writer.finish();
    bytes.assign(out.view());
  }
  brine::LoadOptions options;
  const std::uint64_t bound = options.max_state_bytes(bytes.size());
  std::uint64_t peak = 0;
  {
    live::Peak recording;
    brine::MemorySource source(bytes);
    brine::BinaryReader reader(source, registry, options);
    EXPECT_THROW_WITH(reader.read_value(), brine::LimitError, "LoadOptions::max_state_expansion");
    peak = recording.bytes_at_peak();
  }
  EXPECT_LE(peak, bound) << "peak " << peak << " bytes, bound " << bound;

  options.max_state_expansion = 200;
  brine::MemorySource source(bytes);
  brine::BinaryReader reader(source, registry, options);
  EXPECT_EQ(reader.read_value().as_list().size(), kNulls);
}

// From a stream, whose size is unknown, each element is counted as it comes, against the
// bytes read so far: the same archive is refused all the same.
TEST(StateMemory, BinaryArchiveOfNullsFromAStreamStopsAtTheBound) {
  brine::Registry registry;
  brine::Buffer out;
  {
    const brine::Value nulls{brine::Value::List(kNulls)};
    brine::BufferSink sink(out);
    brine::BinaryWriter writer(sink, registry);
    writer.write_value(nulls);
    writer.finish();
  }
  std::istringstream stream(std::string(out.view()));
  brine::StreamSource source(stream);
  brine::BinaryReader reader(source, registry);
  EXPECT_THROW_WITH(reader.read_value(), brine::LimitError, "LoadOptions::max_state_expansion");
}

// The rejection's sibling: the same archive loads with the limit raised, and an ordinary
// archive loads with the default.
TEST(StateMemory, StableArchiveOfNullsLoadsWithTheLimitRaised) {
  const std::string bytes = stable_nulls();
  brine::LoadOptions options;
  options.max_state_expansion = 200;
  std::vector<brine::Value> values = brine::read_stable_values(bytes, options);
  ASSERT_EQ(values.size(), 1u);
  EXPECT_EQ(values[0].as_list().size(), kNulls);

  brine::Registry registry;
  brine::Value::List numbers;
  for (int i = 0; i < 100'000; ++i) numbers.emplace_back(std::int64_t{i} * 1'000'003);
  const std::string ordinary(brine_test::stable_document(registry, [&](brine::StableWriter& w) {
                               w.write_value(brine::Value(numbers));
                             }).view());
  EXPECT_EQ(brine::read_stable_values(ordinary).at(0).as_list().size(), numbers.size());
}

// 2.4 million empty lists: a 7 MB JSON document whose tree is counted as 307 MB, and whose
// elements wait on the reader's stack (4.2 million slots once it has doubled past two
// million) before they move into their list.
constexpr std::size_t kEmptyLists = 2'400'000;

std::string json_empty_lists() {
  std::string json = R"({"format":"brine-json","format_version":1,"values":[[)";
  json.reserve(json.size() + 3 * kEmptyLists + 3);
  for (std::size_t i = 0; i < kEmptyLists; ++i) json += i == 0 ? "[]" : ",[]";
  json += "]]}";
  return json;
}

// Regression: the JSON reader counted nothing against max_state_expansion (issue #8): this
// document took 589 MB at its peak, more than its 499 MB bound; now it is refused at 281 MB.
TEST(StateMemory, JsonDocumentOfEmptyListsStopsAtTheBound) {
  const std::string json = json_empty_lists();
  brine::LoadOptions options;
  const std::uint64_t bound = options.max_state_bytes(json.size());
  std::uint64_t peak = 0;
  {
    live::Peak recording;
    EXPECT_THROW_WITH(brine::json_document_values(json, options), brine::LimitError,
                      "LoadOptions::max_state_expansion");
    peak = recording.bytes_at_peak();
  }
  std::printf(
      "[memory] JSON of %zu empty lists (%zu bytes): refused at a peak of %llu bytes, "
      "bound %llu\n",
      kEmptyLists, json.size(), static_cast<unsigned long long>(peak),
      static_cast<unsigned long long>(bound));
  EXPECT_LE(peak, bound) << "peak " << peak << " bytes, bound " << bound;
}

TEST(StateMemory, JsonDocumentOfEmptyListsLoadsWithTheLimitRaised) {
  const std::string json = json_empty_lists();
  brine::LoadOptions options;
  options.max_state_expansion = 200;
  const std::uint64_t bound = options.max_state_bytes(json.size());
  std::uint64_t peak = 0;
  {
    live::Peak recording;
    std::vector<brine::Value> values = brine::json_document_values(json, options);
    peak = recording.bytes_at_peak();
    ASSERT_EQ(values.size(), 1u);
    EXPECT_EQ(values[0].as_list().size(), kEmptyLists);
  }
  std::printf(
      "[memory] JSON of %zu empty lists (%zu bytes), max_state_expansion 200: loaded at "
      "a peak of %llu bytes\n",
      kEmptyLists, json.size(), static_cast<unsigned long long>(peak));
  EXPECT_LE(peak, bound) << "peak " << peak << " bytes, bound " << bound;

  // An ordinary document loads with the default.
  brine::Value::List numbers;
  for (int i = 0; i < 100'000; ++i) numbers.emplace_back(std::int64_t{i} * 1'000'003);
  const std::string ordinary = brine::json_document({brine::Value(numbers)});
  EXPECT_EQ(brine::json_document_values(ordinary).at(0).as_list().size(), numbers.size());
}

}  // namespace
