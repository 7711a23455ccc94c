// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// stack_depth_test.cpp: every recursive reader loads its deepest accepted input on a thread
// with a 1 MiB stack (8 MiB in Debug and AddressSanitizer builds, whose frames are several
// times larger) and refuses one level more with a LimitError. Each case also prints the stack it
// used per level, measured by painting the thread's stack first: the figures of docs/limits.md.

#include <pthread.h>

#include <brine/brine.hpp>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "hostile_support.hpp"
#include "test_util.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define BRINE_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BRINE_TEST_ASAN 1
#endif
#endif

#if defined(BRINE_TEST_ASAN)
#define BRINE_TEST_NO_ASAN __attribute__((no_sanitize_address))
#else
#define BRINE_TEST_NO_ASAN
#endif

namespace {

// Optimized builds must fit in 1 MiB; unoptimized ones (Debug, and the CI's Debug build
// with AddressSanitizer, whose frames are several times larger) in 8 MiB.
#if defined(BRINE_TEST_ASAN)
constexpr std::size_t kStackSize = std::size_t{8} << 20;
constexpr const char* kBuild = "asan";
#elif defined(NDEBUG)
constexpr std::size_t kStackSize = std::size_t{1} << 20;
constexpr const char* kBuild = "release";
#else
constexpr std::size_t kStackSize = std::size_t{8} << 20;
constexpr const char* kBuild = "debug";
#endif

// The stack of every run: kStackSize, or for measuring a reader that does not fit yet, the
// bytes in BRINE_STACK_DEPTH_TEST_STACK.
std::size_t stack_size() {
  static const std::size_t size = [] {
    const char* env = std::getenv("BRINE_STACK_DEPTH_TEST_STACK");
    return env != nullptr ? static_cast<std::size_t>(std::stoull(env)) : kStackSize;
  }();
  return size;
}

constexpr std::uint64_t kPaint = 0x5AC4D3B1E7F09A61ull;

struct Run {
  std::function<void()> work;
  std::size_t used = 0;  // stack bytes touched, measured from the thread's first frame
  std::exception_ptr error;
};

// Painting and scanning touch stack memory below the live frames, which AddressSanitizer
// would report: they run uninstrumented.
BRINE_TEST_NO_ASAN void paint(volatile std::uint64_t* from, volatile std::uint64_t* to) {
  for (volatile std::uint64_t* p = from; p < to; ++p) *p = kPaint;
}
BRINE_TEST_NO_ASAN std::size_t untouched_words(volatile std::uint64_t* from,
                                               volatile std::uint64_t* to) {
  std::size_t n = 0;
  for (volatile std::uint64_t* p = from; p < to && *p == kPaint; ++p) ++n;
  return n;
}

BRINE_TEST_NO_ASAN void* thread_main(void* arg) {
  Run& run = *static_cast<Run*>(arg);
  pthread_attr_t attr;
  pthread_getattr_np(pthread_self(), &attr);
  void* low = nullptr;
  std::size_t size = 0;
  pthread_attr_getstack(&attr, &low, &size);
  pthread_attr_destroy(&attr);
  char here;
  // Leave the frames above (this one, and what the C library put on top) alone.
  auto* bottom = static_cast<std::uint64_t*>(low);
  auto* top = reinterpret_cast<std::uint64_t*>((reinterpret_cast<std::uintptr_t>(&here) - 4096) &
                                               ~std::uintptr_t{7});
  paint(bottom, top);
  try {
    run.work();
  } catch (...) {
    run.error = std::current_exception();
  }
  run.used = static_cast<std::size_t>(top - bottom - untouched_words(bottom, top)) * 8;
  return nullptr;
}

// Runs `work` on a thread with a stack of `stack_size` bytes; returns the bytes of stack it
// used and rethrows what it threw. Overflowing the stack crashes the test.
std::size_t run_on_stack(std::size_t stack_size, std::function<void()> work) {
  Run run;
  run.work = std::move(work);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, stack_size);
  pthread_t thread;
  int rc = pthread_create(&thread, &attr, &thread_main, &run);
  pthread_attr_destroy(&attr);
  if (rc != 0) throw std::runtime_error("pthread_create failed");
  pthread_join(thread, nullptr);
  if (run.error) std::rethrow_exception(run.error);
  return run.used;
}

/// One reader: its input of `levels` levels, how it is loaded, the deepest level count it
/// accepts, and the message of the refusal one level beyond.
struct Case {
  const char* name;
  const char* unit;  // what one level is
  std::function<std::string(std::size_t levels)> make;
  std::function<void(const std::string& input)> load;
  std::size_t deepest;
  const char* refusal;  // substring of the LimitError one level beyond; null: no limit
};

// Loads the deepest accepted input and one level more on the small stack, and prints the
// stack per level: the difference between the deepest input and one of half its depth.
void check(const Case& c) {
  SCOPED_TRACE(c.name);
  const std::string deepest = c.make(c.deepest);
  const std::string half = c.make(c.deepest / 2);
  std::size_t used = 0, used_half = 0;
  try {
    used = run_on_stack(stack_size(), [&] { c.load(deepest); });
    used_half = run_on_stack(stack_size(), [&] { c.load(half); });
  } catch (const std::exception& e) {
    ADD_FAILURE() << c.name << ": the deepest accepted input failed: " << e.what();
    return;
  }
  if (c.refusal != nullptr) {
    const std::string beyond = c.make(c.deepest + 1);
    EXPECT_THROW_WITH(run_on_stack(stack_size(), [&] { c.load(beyond); }), brine::LimitError,
                      c.refusal);
  }
  const double per_level = used > used_half ? static_cast<double>(used - used_half) /
                                                  static_cast<double>(c.deepest - c.deepest / 2)
                                            : 0.0;
  std::printf("[stack] %-7s %-34s %5zu %-7s %9zu bytes  %6.0f bytes/level\n", kBuild, c.name,
              c.deepest, c.unit, used, per_level);
  std::fflush(stdout);
}

const std::size_t kMaxDepth = brine::LoadOptions{}.max_depth;
const std::size_t kMaxNesting = brine::LoadOptions{}.max_nesting();

}  // namespace

namespace stack_depth {

// A tree of objects through a vector: each object is a level of max_depth.
struct Tree {
  BRINE_TYPE("stack.Tree", 1);
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

// The same type one version later, with a field the migration adds: loading a v1 archive
// goes through the state model (decode, upgrade, setstate).
struct TreeV2 {
  BRINE_TYPE("stack.Tree", 2);
  std::vector<TreeV2> kids;
  std::int32_t weight = 0;
  template <class A>
  void getstate(A& ar) const {
    ar("kids", kids);
    ar("weight", weight);
  }
  template <class A>
  void setstate(A& ar) {
    ar("kids", kids);
    ar("weight", weight);
  }
};

// A linked list through owning pointers: each object is a level of max_depth.
struct Link {
  BRINE_TYPE("stack.Link", 1);
  std::unique_ptr<Link> next;
  template <class A>
  void getstate(A& ar) const {
    ar("next", next);
  }
  template <class A>
  void setstate(A& ar) {
    ar("next", next);
  }
};

Tree tree_chain(std::size_t depth) {
  Tree root;
  Tree* t = &root;
  for (std::size_t i = 1; i < depth; ++i) {
    t->kids.emplace_back();
    t = &t->kids.back();
  }
  return root;
}

Link link_chain(std::size_t depth) {
  Link root;
  Link* t = &root;
  for (std::size_t i = 1; i < depth; ++i) {
    t->next = std::make_unique<Link>();
    t = t->next.get();
  }
  return root;
}

// The chains are destroyed iteratively: their own recursive destructors are not brine's to
// bound, and would dominate the figures of a reader.
void dismantle(Tree& t) {
  std::vector<Tree> kids = std::move(t.kids);
  while (!kids.empty()) {
    std::vector<Tree> next = std::move(kids.back().kids);
    kids = std::move(next);
  }
}
void dismantle(Link& l) {
  std::unique_ptr<Link> next = std::move(l.next);
  while (next) next = std::move(next->next);
}

brine::Registry& registry() {
  static brine::Registry* r = [] {
    auto* r = new brine::Registry;
    r->add<Tree>();
    r->add<Link>();
    return r;
  }();
  return *r;
}

brine::Registry& registry_v2() {
  static brine::Registry* r = [] {
    auto* r = new brine::Registry;
    r->add<TreeV2>().migration(1, brine::migrate::add_field("weight", brine::Value(7)));
    return r;
  }();
  return *r;
}

// `levels` lists nested around a null.
brine::Value nested_lists(std::size_t levels) {
  brine::Value v;
  for (std::size_t i = 0; i < levels; ++i) {
    brine::Value::List wrap;  // not an initializer list: that would copy the whole tree
    wrap.push_back(std::move(v));
    v = brine::Value(std::move(wrap));
  }
  return v;
}

// The writers refuse what their readers with the default limits would; these inputs go one
// level beyond, for a reader with the default limits to refuse.
std::string binary_value(const brine::Value& v) {
  brine::Buffer out;
  brine::BufferSink sink(out);
  brine::Registry empty;
  brine::BinaryWriteOptions deeper;
  deeper.max_depth = 2 * brine::LoadOptions{}.max_depth;
  brine::BinaryWriter writer(sink, empty, deeper);
  writer.write_value(v);
  writer.finish();
  return std::string(out.view());
}

std::string stable_value(const brine::Value& v) {
  brine::Buffer out;
  brine::BufferSink sink(out);
  brine::Registry empty;
  brine::StableWriteOptions deeper;
  deeper.max_depth = 2 * brine::LoadOptions{}.max_depth;
  brine::StableWriter writer(sink, empty, deeper);
  writer.write_value(v);
  writer.finish();
  return std::string(out.view());
}

// A binary archive of one object of type 'N' whose only field is `wrappers` optionals
// around an inline 'N' again: a layout that recurses, which no C++ type has, and which only
// the value decoder reads. `objects` objects, each present at every optional, the last one's
// outer optional empty.
std::string recursive_optional_archive(std::size_t objects, std::size_t wrappers) {
  using hostile::varint;
  auto text = [](const std::string& s) { return varint(s.size()) + s; };
  const std::string object_n = std::string(1, '\x30') + text("N");
  const std::string layout = varint(1) + text("next") + std::string(wrappers, '\x24') + object_n;
  std::string payload = "\x01";  // a record of type definitions
  payload += varint(1) + text("N") + varint(1) + text(layout);
  payload += "\x02" + text(object_n);  // a value record: one inline N
  for (std::size_t i = 1; i < objects; ++i) payload += std::string(wrappers, '\x01');
  payload += '\x00';
  hostile::Archive a = hostile::parse_archive(binary_value(brine::Value(std::int64_t{0})));
  a.blocks.front().payload = payload;
  return hostile::serialize(a);
}

// A JSON migration file whose add_field default is `levels` nested lists.
std::string migration_file(std::size_t levels) {
  return R"({"brine_migrations": 1, "type": "stack.M", "version": 2, "steps": [{"from": 1, )"
         R"("ops": [{"op": "add_field", "name": "f", "default": )" +
         std::string(levels, '[') + std::string(levels, ']') + "}]}]}";
}

template <class T>
std::size_t depth_of(const T& t);
template <>
std::size_t depth_of(const Tree& t) {
  std::size_t d = 1;
  for (const Tree* p = &t; !p->kids.empty(); p = &p->kids[0]) ++d;
  return d;
}

}  // namespace stack_depth

namespace {

using namespace stack_depth;
using brine::LoadOptions;

const char* const kDepthRefusal = "LoadOptions::max_depth (1000)";

TEST(StackDepth, BinaryTypedTree) {
  check({"binary typed (vector<Tree>)", "objects",
         [](std::size_t n) {
           return std::string(brine::to_binary(tree_chain(n), registry()).view());
         },
         [](const std::string& in) {
           Tree t = brine::from_binary<Tree>(in, registry());
           EXPECT_GT(depth_of(t), 0u);
           dismantle(t);
         },
         kMaxDepth, kDepthRefusal});
}

TEST(StackDepth, BinaryTypedPointers) {
  check({"binary typed (unique_ptr<Link>)", "objects",
         [](std::size_t n) {
           return std::string(brine::to_binary(link_chain(n), registry()).view());
         },
         [](const std::string& in) {
           Link l = brine::from_binary<Link>(in, registry());
           dismantle(l);
         },
         kMaxDepth, kDepthRefusal});
}

TEST(StackDepth, BinaryOlderVersionThroughStateModel) {
  check({"binary v1 -> v2 (decode, upgrade, setstate)", "objects",
         [](std::size_t n) {
           return std::string(brine::to_binary(tree_chain(n), registry()).view());
         },
         [](const std::string& in) {
           TreeV2 t = brine::from_binary<TreeV2>(in, registry_v2());
           std::vector<TreeV2> kids = std::move(t.kids);
           while (!kids.empty()) {
             std::vector<TreeV2> next = std::move(kids.back().kids);
             kids = std::move(next);
           }
         },
         kMaxDepth, kDepthRefusal});
}

TEST(StackDepth, BinaryValueDecoderTree) {
  check({"binary value decoder (Tree)", "objects",
         [](std::size_t n) {
           return std::string(brine::to_binary(tree_chain(n), registry()).view());
         },
         [](const std::string& in) {
           brine::MemorySource source(in);
           brine::BinaryReader reader(source, registry());
           brine::Value v = reader.read_value();
         },
         kMaxDepth, kDepthRefusal});
}

// Regression: issue #9 (a layout of objects inside optionals inside optionals: the optionals
// counted no level, so 1000 objects recursed 64 frames each and crashed a 1 MiB stack)
TEST(StackDepth, BinaryValueDecoderRecursiveOptionalLayout) {
  // Each object and each optional is a level of max_nesting(): 1000 objects in 3 optionals.
  check({"binary value decoder (optional^3 N)", "objects",
         [](std::size_t n) { return recursive_optional_archive(n, 3); },
         [](const std::string& in) {
           brine::MemorySource source(in);
           brine::BinaryReader reader(source, registry());
           brine::Value v = reader.read_value();
         },
         kMaxNesting / 4, kDepthRefusal});
  // One object inside 63 optionals, then the next: the raw nesting bounds it.
  const std::string deep = recursive_optional_archive(1000, 63);
  hostile::expect_error<brine::LimitError>(
      [&] {
        run_on_stack(stack_size(), [&] {
          brine::MemorySource source(deep);
          brine::BinaryReader reader(source, registry());
          reader.read_value();
        });
      },
      "4 x LoadOptions::max_depth (1000)");
}

// Regression: issue #9 (5,000 nested dynamic lists overflowed an 8 MiB stack under ASan)
TEST(StackDepth, BinaryDynamicValue) {
  check({"binary dynamic (read_dynamic lists)", "levels",
         [](std::size_t n) {
           // [[deep], [1]]: the inner lists' elements differ in kind, so they are written as
           // dynamic values, under a layout of two lists (two levels). A dynamic value is a
           // level for each of its `n - 3` lists and one for the null inside.
           brine::Value::List deep, one, root;
           deep.push_back(nested_lists(n - 3));
           one.push_back(brine::Value(std::int64_t{1}));
           root.push_back(brine::Value(std::move(deep)));
           root.push_back(brine::Value(std::move(one)));
           return binary_value(brine::Value(std::move(root)));
         },
         [](const std::string& in) {
           brine::MemorySource source(in);
           brine::BinaryReader reader(source, registry());
           brine::Value v = reader.read_value();
         },
         kMaxNesting, "4 x LoadOptions::max_depth (1000)"});
}

TEST(StackDepth, StableStateModelLists) {
  // The document's list of values is one level.
  check({"stable scan + decode (lists)", "levels",
         [](std::size_t n) { return stable_value(nested_lists(n)); },
         [](const std::string& in) {
           std::vector<brine::Value> values = brine::read_stable_values(in);
           EXPECT_EQ(values.size(), 1u);
         },
         kMaxNesting - 1, "4 x LoadOptions::max_depth (1000)"});
}

TEST(StackDepth, StableStateModelTree) {
  check({"stable v1 -> v2 (decode, upgrade, setstate)", "objects",
         [](std::size_t n) {
           return std::string(brine::to_stable(tree_chain(n), registry()).view());
         },
         [](const std::string& in) {
           TreeV2 t = brine::from_stable<TreeV2>(in, registry_v2());
           std::vector<TreeV2> kids = std::move(t.kids);
           while (!kids.empty()) {
             std::vector<TreeV2> next = std::move(kids.back().kids);
             kids = std::move(next);
           }
         },
         kMaxDepth, kDepthRefusal});
}

TEST(StackDepth, StableDirectDecoder) {
  check({"stable direct (StableDecoder, Tree)", "objects",
         [](std::size_t n) {
           return std::string(brine::to_stable(tree_chain(n), registry()).view());
         },
         [](const std::string& in) {
           Tree t = brine::from_stable<Tree>(in, registry());
           dismantle(t);
         },
         kMaxDepth, kDepthRefusal});
  check({"stable direct (StableDecoder, Link)", "objects",
         [](std::size_t n) {
           return std::string(brine::to_stable(link_chain(n), registry()).view());
         },
         [](const std::string& in) {
           Link l = brine::from_stable<Link>(in, registry());
           dismantle(l);
         },
         kMaxDepth, kDepthRefusal});
}

// Regression: issue #9 (the validation pass recursed into tags 27 and 28 without counting a
// level: 100,000 nested tags, a 200 KB file, overflowed any stack)
TEST(StackDepth, StableTagChainIsRefused) {
  // The tag, the refusal, and where it points from the first tag: as the decoding pass
  // reports the same item (what the shareable tag wraps, the object tag itself).
  struct Chain {
    const char* tag;
    const char* refusal;
    std::size_t offset;
  };
  for (const Chain& c :
       {Chain{"\xd8\x1c", "shareable tag 28 does not wrap an object (tag 27)", 2},
        Chain{"\xd8\x1b", "object tag 27 needs [type name, version, {fields}]", 0}}) {
    std::string chain;
    for (int i = 0; i < 100000; ++i) chain += c.tag;
    chain += "\xf6";
    std::string document = stable_value(brine::Value());
    // The null value, just before the end of the values (an indefinite array) and the key
    // "checksum" (a text of 8 bytes). The checksum is compared after the validation pass,
    // which must refuse the chain first.
    const std::size_t null_at = document.find(
        "\xf6\xff\x68"
        "checksum");
    ASSERT_NE(null_at, std::string::npos);
    document.replace(null_at, 1, chain);
    // Without the checksum, which would otherwise refuse the edited document first.
    brine::LoadOptions options;
    options.verify_checksums = false;
    brine::FormatError e = hostile::expect_error<brine::FormatError>(
        [&] { run_on_stack(stack_size(), [&] { brine::read_stable_values(document, options); }); },
        c.refusal);
    EXPECT_EQ(e.context().byte_offset, null_at + c.offset);
  }
}

TEST(StackDepth, JsonDocument) {
  // The document object and its "values" list are two levels.
  check({"json (value_from_json lists)", "levels",
         [](std::size_t n) {
           return R"({"format": "brine-json", "format_version": 1, "values": [)" +
                  std::string(n, '[') + "null" + std::string(n, ']') + "]}";
         },
         [](const std::string& in) {
           std::vector<brine::Value> values = brine::json_document_values(in);
           EXPECT_EQ(values.size(), 1u);
         },
         kMaxNesting - 2, "LoadOptions::max_depth (1000)"});
  check({"json archive (Tree)", "objects",
         [](std::size_t n) { return brine::to_json_archive(tree_chain(n), registry()); },
         [](const std::string& in) {
           Tree t = brine::from_json_archive<Tree>(in, registry());
           dismantle(t);
         },
         kMaxDepth, kDepthRefusal});
}

TEST(StackDepth, MigrationFile) {
  // A default nests as deep as value_from_json accepts by default: max_depth lists around
  // the innermost one, which holds nothing.
  check({"migration file (add_field default)", "levels", &migration_file,
         [](const std::string& in) {
           brine::MigrationSet set = brine::parse_migrations(in);
           (void)set;
         },
         kMaxDepth + 1, "LoadOptions::max_depth (1000)"});
}

TEST(StackDepth, StateModel) {
  check({"state model (from_state<Tree>)", "objects",
         [](std::size_t n) { return brine::to_json(brine::to_state(tree_chain(n), registry())); },
         [](const std::string& in) {
           // The JSON text is only the carrier: value_from_json is iterative.
           brine::Value v = brine::value_from_json(in, kMaxNesting);
           Tree t = brine::from_state<Tree>(std::move(v), registry());
           dismantle(t);
         },
         kMaxDepth, kDepthRefusal});
  check({"state model (to_state<Tree>)", "objects", [](std::size_t n) { return std::to_string(n); },
         [](const std::string& in) {
           // Writing has no limit of its own: it recurses as deep as the object is.
           Tree t = tree_chain(std::stoul(in));
           brine::Value v = brine::to_state(t, registry());
           dismantle(t);
         },
         kMaxDepth, nullptr});
}

}  // namespace
