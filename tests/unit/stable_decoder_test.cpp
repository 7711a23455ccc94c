// StableDecoder: a stable archive's values straight into objects when they are what this
// program writes, and through the state model (migrations, reordering, errors) otherwise.

#include <algorithm>
#include <brine/brine.hpp>
#include <exception>
#include <functional>
#include <new>
#include <sstream>
#include <utility>
#include <variant>

#include "sample_types.hpp"
#include "test_util.hpp"

namespace {

using namespace brine_test;

std::vector<std::shared_ptr<GraphNode>> make_cyclic_graph() {
  std::vector<std::shared_ptr<GraphNode>> n;
  for (int i = 0; i < 4; ++i) {
    n.push_back(std::make_shared<GraphNode>());
    n.back()->id = i;
  }
  n[0]->next = {n[1], n[2], n[1]};
  n[2]->next = {n[3], n[0]};  // back to the root: a cycle
  return n;
}

void expect_cyclic_graph(const std::shared_ptr<GraphNode>& root) {
  ASSERT_EQ(root->id, 0);
  ASSERT_EQ(root->next.size(), 3u);
  EXPECT_EQ(root->next[0]->id, 1);
  EXPECT_EQ(root->next[2], root->next[0]);
  const auto& n2 = root->next[1];
  ASSERT_EQ(n2->next.size(), 2u);
  EXPECT_EQ(n2->next[0]->id, 3);
  EXPECT_EQ(n2->next[1], root);
}

void break_cycle(const std::shared_ptr<GraphNode>& root) { root->next.clear(); }

TEST(StableDecoder, ReadsEveryBuiltInFamilyDirectly) {
  brine::Registry registry;
  brine::Buffer bytes = brine::to_stable(make_everything(), registry);
  brine::MemorySource source(bytes);
  brine::StableReader reader(source, registry);
  expect_everything(reader.read<Everything>());
  EXPECT_EQ(reader.values_read_directly(), 1u);
}

TEST(StableDecoder, ReadsPolymorphicSharedWeakAndUniquePointersDirectly) {
  brine::Registry registry;
  register_shapes(registry);
  brine::Buffer bytes = brine::to_stable(make_scene(), registry);
  brine::MemorySource source(bytes);
  brine::StableReader reader(source, registry);
  expect_scene(reader.read<Scene>());
  EXPECT_EQ(reader.values_read_directly(), 1u);
}

TEST(StableDecoder, ReadsCyclesDirectly) {
  brine::Registry registry;
  auto graph = make_cyclic_graph();
  brine::Buffer bytes = brine::to_stable(graph[0], registry);
  break_cycle(graph[0]);
  brine::MemorySource source(bytes);
  brine::StableReader reader(source, registry);
  auto root = reader.read<std::shared_ptr<GraphNode>>();
  EXPECT_EQ(reader.values_read_directly(), 1u);
  expect_cyclic_graph(root);
  break_cycle(root);
}

// Fields in another order than setstate reads them (a hand-edited or foreign archive): the
// state model finds each by name.
brine::Value reordered(const brine::Value& v) {
  brine::Value out = v;
  auto& fields = out.as_object().fields;
  std::reverse(fields.begin(), fields.end());
  return out;
}

TEST(StableDecoder, HandsReorderedFieldsToTheStateModel) {
  brine::Registry registry;
  brine::Buffer bytes = stable_document(registry, [&](brine::StableWriter& writer) {
    writer.write_value(reordered(brine::to_state(Inner{7, "seven"}, registry)));
  });
  brine::MemorySource source(bytes);
  brine::StableReader reader(source, registry);
  EXPECT_EQ(reader.read<Inner>(), (Inner{7, "seven"}));
  EXPECT_EQ(reader.values_read_directly(), 0u);
}

// A value the decoder gives up on part-way has already counted strings into the stringref
// table and shareables into the sharing index; the values after it must see neither twice.
TEST(StableDecoder, ValuesAfterAStateModelReadStayInStep) {
  brine::Registry registry;
  auto graph = make_cyclic_graph();
  brine::Buffer bytes = stable_document(registry, [&](brine::StableWriter& writer) {
    writer.write(graph[0]);
    writer.write_value(
        reordered(brine::to_state(Inner{7, "a text long enough for the table"}, registry)));
    writer.write(graph[0]);
    writer.write(Inner{8, "a text long enough for the table"});
  });
  break_cycle(graph[0]);
  brine::MemorySource source(bytes);
  brine::StableReader reader(source, registry);
  auto first = reader.read<std::shared_ptr<GraphNode>>();
  EXPECT_EQ(reader.read<Inner>(), (Inner{7, "a text long enough for the table"}));
  auto second = reader.read<std::shared_ptr<GraphNode>>();
  EXPECT_EQ(reader.read<Inner>(), (Inner{8, "a text long enough for the table"}));
  EXPECT_EQ(reader.values_read_directly(), 3u);
  expect_cyclic_graph(first);
  expect_cyclic_graph(second);
  EXPECT_NE(first, second);
  break_cycle(first);
  break_cycle(second);
}

struct Probing {
  BRINE_TYPE("test.DecoderProbing", 1);
  int first_field_with_a_long_name = 0;
  std::string second_field_with_a_long_name;
  template <class A>
  void getstate(A& ar) const {
    ar("first_field_with_a_long_name", first_field_with_a_long_name)(
        "second_field_with_a_long_name", second_field_with_a_long_name);
  }
  template <class A>
  void setstate(A& ar) {
    if (ar.has("first_field_with_a_long_name"))
      ar("first_field_with_a_long_name", first_field_with_a_long_name);
    ar.optional_field("second_field_with_a_long_name", second_field_with_a_long_name);
  }
};

// has() looks at a field name that is then read again: it must enter the stringref table
// once, or every later reference to the table would name the wrong string.
TEST(StableDecoder, HasAndOptionalFieldKeepTheStringTableInStep) {
  brine::Registry registry;
  brine::Buffer bytes = stable_document(registry, [&](brine::StableWriter& writer) {
    writer.write(Probing{1, "one, a text long enough for the table"});
    writer.write(Probing{2, "two"});
    writer.write(Inner{3, "one, a text long enough for the table"});
  });
  brine::MemorySource source(bytes);
  brine::StableReader reader(source, registry);
  Probing one = reader.read<Probing>();
  Probing two = reader.read<Probing>();
  Inner three = reader.read<Inner>();
  EXPECT_EQ(reader.values_read_directly(), 3u);
  EXPECT_EQ(one.first_field_with_a_long_name, 1);
  EXPECT_EQ(one.second_field_with_a_long_name, "one, a text long enough for the table");
  EXPECT_EQ(two.first_field_with_a_long_name, 2);
  EXPECT_EQ(two.second_field_with_a_long_name, "two");
  EXPECT_EQ(three, (Inner{3, "one, a text long enough for the table"}));
}

struct Counter {
  BRINE_TYPE("test.DecoderCounter", 2);
  int count = 0;
  std::string label;
  template <class A>
  void getstate(A& ar) const {
    ar("count", count)("label", label);
  }
  template <class A>
  void setstate(A& ar) {
    ar("count", count)("label", label);
  }
};

// Counter{5, "five"} as version 1 of its class wrote it, whose "count" was "n".
brine::Value old_counter_five() {
  brine::Object old_counter;
  old_counter.type = "test.DecoderCounter";
  old_counter.version = 1;
  old_counter.fields = {{"n", brine::Value(std::int64_t{5})},
                        {"label", brine::Value(std::string("five"))}};
  return brine::Value(old_counter);
}

// An archive of an older class version: the decoder sees the version and the migration runs.
TEST(StableDecoder, HandsOlderVersionsToTheMigrations) {
  brine::Registry registry;
  registry.add<Counter>().migration(1, brine::migrate::rename_field("n", "count"));
  brine::Buffer bytes = stable_document(registry, [&](brine::StableWriter& writer) {
    writer.write_value(old_counter_five());
    writer.write(Counter{6, "six"});
  });
  brine::MemorySource source(bytes);
  brine::StableReader reader(source, registry);
  Counter five = reader.read<Counter>();
  Counter six = reader.read<Counter>();
  EXPECT_EQ(five.count, 5);
  EXPECT_EQ(five.label, "five");
  EXPECT_EQ(six.count, 6);
  EXPECT_EQ(six.label, "six");
  EXPECT_EQ(reader.values_read_directly(), 1u);
}

// An error found by the decoder is reported by the state model, with its context, and
// nothing the decoder built survives.
TEST(StableDecoder, ErrorsAreTheStateModelsWithTypeAndField) {
  brine::Registry registry;
  brine::Object bad;
  bad.type = "test.Inner";
  bad.version = 1;
  bad.fields = {{"a", brine::Value(std::string("not a number"))},
                {"s", brine::Value(std::string("x"))}};
  brine::Buffer bytes = stable_document(
      registry, [&](brine::StableWriter& writer) { writer.write_value(brine::Value(bad)); });
  brine::MemorySource source(bytes);
  brine::StableReader reader(source, registry);
  EXPECT_THROW_WITH(reader.read<Inner>(), brine::SchemaError, "test.Inner");
}

// Past the last value the decoder has nothing to read and the state model's error stands.
TEST(StableDecoder, ReadingPastTheLastValueIsAFormatError) {
  brine::Registry registry;
  brine::Buffer bytes = brine::to_stable(Inner{1, "one"}, registry);
  brine::MemorySource source(bytes);
  brine::StableReader reader(source, registry);
  EXPECT_EQ(reader.read<Inner>(), (Inner{1, "one"}));
  EXPECT_THROW_WITH(reader.read<Inner>(), brine::FormatError, "no more values");
  EXPECT_EQ(reader.values_read_directly(), 1u);
}

// ---------------------------------------------------------------------------------------
// The fallback to the state model is taken only for a value that is not in the current
// layout; every other exception ends the load unchanged, and the value is not read again.

struct CustomFailure : std::exception {
  const char* what() const noexcept override { return "custom failure from setstate"; }
};

// A setstate that counts its runs and throws what it is told to.
struct Hooked {
  BRINE_TYPE("test.DecoderHooked", 1);
  static inline int runs = 0;
  static inline std::function<void()> on_setstate;
  int value = 0;
  template <class A>
  void getstate(A& ar) const {
    ar("value", value);
  }
  template <class A>
  void setstate(A& ar) {
    ++runs;
    ar("value", value);
    if (on_setstate) on_setstate();
  }
};

template <class Check>
void expect_thrown_once(const std::function<void()>& thrower, Check&& check) {
  brine::Registry registry;
  brine::Buffer bytes = brine::to_stable(Hooked{5}, registry);
  Hooked::runs = 0;
  Hooked::on_setstate = thrower;
  brine::MemorySource source(bytes);
  brine::StableReader reader(source, registry);
  check(reader);
  Hooked::on_setstate = nullptr;
  EXPECT_EQ(Hooked::runs, 1) << "the value was read again after setstate threw";
  EXPECT_EQ(reader.values_read_directly(), 0u);
}

TEST(StableDecoderFallback, ACustomExceptionFromSetstatePropagatesUnchanged) {
  expect_thrown_once([] { throw CustomFailure(); },
                     [](brine::StableReader& reader) {
                       try {
                         reader.read<Hooked>();
                         ADD_FAILURE() << "nothing thrown";
                       } catch (const CustomFailure& e) {
                         EXPECT_STREQ(e.what(), "custom failure from setstate");
                       }
                     });
}

TEST(StableDecoderFallback, BadAllocPropagates) {
  expect_thrown_once(
      [] { throw std::bad_alloc(); },
      [](brine::StableReader& reader) { EXPECT_THROW(reader.read<Hooked>(), std::bad_alloc); });
}

TEST(StableDecoderFallback, ABrineErrorFromSetstatePropagatesUnchanged) {
  expect_thrown_once(
      [] { throw brine::SchemaError(brine::errc::type_mismatch, "value out of range"); },
      [](brine::StableReader& reader) {
        EXPECT_THROW_WITH(reader.read<Hooked>(), brine::SchemaError, "value out of range");
      });
}

// After a setstate threw, the reader is where it was: the value can be read again (the
// decoder undid what it counted), here successfully.
TEST(StableDecoderFallback, TheValueCanBeReadAgainAfterAnException) {
  brine::Registry registry;
  brine::Buffer bytes = stable_document(registry, [&](brine::StableWriter& writer) {
    writer.write(Hooked{5});
    writer.write(Inner{6, "a text long enough for the table"});
  });
  brine::MemorySource source(bytes);
  brine::StableReader reader(source, registry);
  Hooked::on_setstate = [] { throw CustomFailure(); };
  EXPECT_THROW(reader.read<Hooked>(), CustomFailure);
  Hooked::on_setstate = nullptr;
  EXPECT_EQ(reader.read<Hooked>().value, 5);
  EXPECT_EQ(reader.read<Inner>(), (Inner{6, "a text long enough for the table"}));
  EXPECT_EQ(reader.values_read_directly(), 2u);
}

struct Chain {
  BRINE_TYPE("test.DecoderChain", 1);
  std::vector<Chain> next;
  template <class A>
  void getstate(A& ar) const {
    ar("next", next);
  }
  template <class A>
  void setstate(A& ar) {
    ar("next", next);
  }
};

// A limit met on the direct path is that path's LimitError, at the byte where it was met; it
// is not re-derived by the state model (which would give the same message without an
// offset, after building the whole tree).
TEST(StableDecoderFallback, ALimitMetReadingDirectlyIsALimitErrorWithItsOffset) {
  brine::Registry registry;
  Chain chain;
  chain.next.emplace_back();
  chain.next[0].next.emplace_back();
  chain.next[0].next[0].next.emplace_back();  // four objects deep
  brine::Buffer bytes = brine::to_stable(chain, registry);
  brine::LoadOptions options;
  options.max_depth = 3;
  brine::MemorySource source(bytes);
  brine::StableReader reader(source, registry, options);
  try {
    reader.read<Chain>();
    ADD_FAILURE() << "nothing thrown";
  } catch (const brine::LimitError& e) {
    EXPECT_NE(std::string(e.what()).find("nesting depth exceeds LoadOptions::max_depth (3)"),
              std::string::npos)
        << e.what();
    EXPECT_TRUE(e.context().byte_offset.has_value()) << "re-derived by the state model";
  }
  EXPECT_EQ(reader.values_read_directly(), 0u);
}

// A field name of 200 bytes: the writer writes it once, then as a 2-byte string reference.
const char* long_field_name() {
  static const std::string name(200, 'n');
  return name.c_str();
}

struct LongNamed {
  BRINE_TYPE("test.DecoderLongNamed", 1);
  int x = 0;
  template <class A>
  void getstate(A& ar) const {
    ar(long_field_name(), x);
  }
  template <class A>
  void setstate(A& ar) {
    ar(long_field_name(), x);
  }
};

// The string-expansion bound counts the same on both paths (the cursor counts for both):
// a value that goes over it is the same LimitError whichever path meets it.
TEST(StableDecoderFallback, TheStringBoundIsTheSameLimitErrorOnBothPaths) {
  brine::Registry registry;
  std::vector<LongNamed> many(10000);  // 2 MB of names from an archive of about 60 KB
  brine::Buffer bytes = brine::to_stable(many, registry);
  brine::LoadOptions options;
  options.max_string_expansion = 1;
  std::string via_state_model;
  {
    brine::MemorySource source(bytes);
    brine::StableReader reader(source, registry, options);
    try {
      reader.read_value();
    } catch (const brine::LimitError& e) {
      via_state_model = e.what();
    }
  }
  EXPECT_NE(via_state_model.find("max_string_expansion"), std::string::npos) << via_state_model;
  brine::MemorySource source(bytes);
  brine::StableReader reader(source, registry, options);
  try {
    reader.read<std::vector<LongNamed>>();
    ADD_FAILURE() << "nothing thrown";
  } catch (const brine::LimitError& e) {
    EXPECT_EQ(std::string(e.what()), via_state_model);
  }
}

// The one case in which setstate runs on an object that is then discarded: a value that
// turns out part-way not to be in the current layout is read again through the state model.
TEST(StableDecoderFallback, AValueNotInTheCurrentLayoutRunsSetstateAgainOnNewObjects) {
  brine::Registry registry;
  brine::Object old;
  old.type = "test.DecoderHooked";
  old.version = 1;
  old.fields = {{"value", brine::Value(std::string("7"))}};  // text where an int is read
  brine::Buffer bytes = stable_document(
      registry, [&](brine::StableWriter& writer) { writer.write_value(brine::Value(old)); });
  Hooked::runs = 0;
  brine::MemorySource source(bytes);
  brine::StableReader reader(source, registry);
  EXPECT_THROW_WITH(reader.read<Hooked>(), brine::SchemaError, "test.DecoderHooked");
  EXPECT_EQ(Hooked::runs, 2);  // the direct read's, abandoned, and the state model's
}

// ---------------------------------------------------------------------------------------
// StableReader::read_first (from_stable, load_stable): one pass when it can, and always the
// value or the error that the validating read gives.

/// What a read ended with: "value" or the error's message, so that two reads compare.
template <class T, class Read>
std::string outcome(Read&& read, T* value = nullptr) {
  try {
    T v = read();
    if (value != nullptr) *value = std::move(v);
    return "value";
  } catch (const brine::Error& e) {
    return brine::make_error_code(e.code()).message() + ": " + e.what();
  }
}

/// The two reads of the first value of `bytes`: read_first's, then the validating one's.
template <class T>
std::pair<std::string, std::string> both_reads(std::string_view bytes,
                                               const brine::Registry& registry,
                                               const brine::LoadOptions& options = {}) {
  std::string first = outcome<T>([&] { return brine::from_stable<T>(bytes, registry, options); });
  std::string validating = outcome<T>([&] {
    brine::MemorySource source(bytes);
    brine::StableReader reader(source, registry, options);
    return reader.read<T>();
  });
  return {first, validating};
}

/// The offset of `text` in `bytes` (which must hold it).
std::size_t offset_of(const brine::Buffer& bytes, std::string_view text) {
  std::size_t at = bytes.view().find(text);
  EXPECT_NE(at, std::string_view::npos) << text;
  return at;
}

TEST(StableReadFirst, ReadsWhatTheValidatingReadReads) {
  brine::Registry registry;
  register_shapes(registry);
  expect_everything(brine::from_stable<Everything>(
      brine::to_stable(make_everything(), registry).view(), registry));
  expect_scene(
      brine::from_stable<Scene>(brine::to_stable(make_scene(), registry).view(), registry));
  auto graph = make_cyclic_graph();
  brine::Buffer bytes = brine::to_stable(graph[0], registry);
  break_cycle(graph[0]);
  auto root = brine::from_stable<std::shared_ptr<GraphNode>>(bytes.view(), registry);
  expect_cyclic_graph(root);
  break_cycle(root);
}

// The checksum is compared once the first value is decoded: setstate has run (the one pass
// happened), and the verdict is still the validating read's, with nothing returned.
TEST(StableReadFirst, AChecksumMismatchAfterTheFirstValueIsRefused) {
  brine::Registry registry;
  brine::Buffer bytes = stable_document(registry, [&](brine::StableWriter& writer) {
    writer.write(Hooked{5});
    writer.write(Inner{6, "a text long enough for the table"});
  });
  bytes.data()[offset_of(bytes, "a text long")] ^= 0x20;  // 'a' -> 'A'
  Hooked::runs = 0;
  auto [first, validating] = both_reads<Hooked>(bytes.view(), registry);
  EXPECT_EQ(Hooked::runs, 1) << "the first value was not decoded before the document was validated";
  EXPECT_EQ(first, validating);
  EXPECT_NE(first.find("checksum mismatch"), std::string::npos) << first;
  // Without the comparison the document is well formed, and both read the value.
  brine::LoadOptions trusting;
  trusting.verify_checksums = false;
  EXPECT_EQ(both_reads<Hooked>(bytes.view(), registry, trusting),
            std::make_pair(std::string("value"), std::string("value")));
}

// Damage after the first value, whichever way, is the validating read's error, with its
// offset: the first value is never handed out from a malformed document.
TEST(StableReadFirst, AMalformedDocumentAfterTheFirstValueIsRefused) {
  brine::Registry registry;
  brine::Buffer good = stable_document(registry, [&](brine::StableWriter& writer) {
    writer.write(Inner{5, "five"});
    writer.write(Inner{6, "a text long enough for the table"});
  });
  brine::LoadOptions trusting;  // so that the structure, not the checksum, gives the verdict
  trusting.verify_checksums = false;

  brine::Buffer bad_head = good;  // invalid additional information in the second value
  bad_head.data()[offset_of(bad_head, "a text long") - 2] = 0x7C;
  brine::Buffer trailing = good;  // a byte after the end
  const std::uint8_t extra = 0x00;
  trailing.append(&extra, 1);
  brine::Buffer truncated = good;  // the checksum cut off
  truncated.resize(truncated.size() - 3);
  brine::Buffer bad_reference = good;  // the second value's type name, a stringref, made 23
  std::size_t second = offset_of(bad_reference, "a text long");
  for (std::size_t at = second; at-- > 0;)
    if (bad_reference.data()[at] == 0xD8 && bad_reference.data()[at + 1] == 0x19) {
      bad_reference.data()[at + 2] = 23;
      break;
    }
  for (const brine::Buffer* bytes : {&bad_head, &trailing, &truncated, &bad_reference}) {
    auto [first, validating] = both_reads<Inner>(bytes->view(), registry, trusting);
    EXPECT_EQ(first, validating);
    EXPECT_NE(first, "value");
  }
  EXPECT_EQ(both_reads<Inner>(good.view(), registry, trusting),
            std::make_pair(std::string("value"), std::string("value")));
}

// The scan bounds raw nesting (LoadOptions::max_nesting(), 4 levels per max_depth); the one
// pass counts the same levels, including those of containers that hold no object.
TEST(StableReadFirst, NestingIsBoundedAsTheValidatingReadBoundsIt) {
  brine::Registry registry;
  // A vector<int> is one item, a typed array: here at level 4, then 5.
  using Four = std::vector<std::vector<std::vector<std::vector<int>>>>;
  using Five = std::vector<Four>;
  brine::LoadOptions options;
  options.max_depth = 1;  // 4 levels
  auto four =
      both_reads<Four>(brine::to_stable(Four{{{{1, 2}}}}, registry).view(), registry, options);
  EXPECT_EQ(four, std::make_pair(std::string("value"), std::string("value")));
  auto five =
      both_reads<Five>(brine::to_stable(Five{{{{{1, 2}}}}}, registry).view(), registry, options);
  EXPECT_EQ(five.first, five.second);
  EXPECT_NE(five.first.find("nesting"), std::string::npos) << five.first;
  // Objects take two levels each (their array, then their field map), maps and variants one.
  using Tagged = std::map<std::string, std::variant<int, Inner>>;  // Inner's int at level 5
  Tagged tagged{{"k", Inner{1, "x"}}};
  auto objects = both_reads<Tagged>(brine::to_stable(tagged, registry).view(), registry, options);
  EXPECT_EQ(objects.first, objects.second);
  EXPECT_NE(objects.first.find("nesting"), std::string::npos) << objects.first;
  options.max_depth = 2;
  objects = both_reads<Tagged>(brine::to_stable(tagged, registry).view(), registry, options);
  EXPECT_EQ(objects, std::make_pair(std::string("value"), std::string("value")));
}

// A value to migrate is read again the validating way, and migrated.
TEST(StableReadFirst, AnOlderVersionIsMigrated) {
  brine::Registry registry;
  registry.add<Counter>().migration(1, brine::migrate::rename_field("n", "count"));
  brine::Buffer bytes = stable_document(
      registry, [&](brine::StableWriter& writer) { writer.write_value(old_counter_five()); });
  Counter five = brine::from_stable<Counter>(bytes.view(), registry);
  EXPECT_EQ(five.count, 5);
  EXPECT_EQ(five.label, "five");
}

// An exception from setstate in the one pass sends the read the validating way, which meets
// it again: it propagates unchanged, after a second run.
TEST(StableReadFirst, ACustomExceptionFromSetstatePropagatesUnchanged) {
  brine::Registry registry;
  brine::Buffer bytes = brine::to_stable(Hooked{5}, registry);
  Hooked::runs = 0;
  Hooked::on_setstate = [] { throw CustomFailure(); };
  EXPECT_THROW(brine::from_stable<Hooked>(bytes.view(), registry), CustomFailure);
  Hooked::on_setstate = nullptr;
  EXPECT_EQ(Hooked::runs, 2);
  EXPECT_EQ(brine::from_stable<Hooked>(bytes.view(), registry).value, 5);
}

// A source without a view of its bytes (a stream) is read the validating way.
TEST(StableReadFirst, AStreamIsReadTheValidatingWay) {
  brine::Registry registry;
  brine::Buffer bytes = brine::to_stable(Inner{5, "five"}, registry);
  std::istringstream in{std::string(bytes.view())};
  brine::StreamSource source(in);
  EXPECT_EQ(brine::StableReader::read_first<Inner>(source, registry), (Inner{5, "five"}));
  std::istringstream empty{std::string()};
  brine::StreamSource nothing(empty);
  EXPECT_THROW(brine::StableReader::read_first<Inner>(nothing, registry), brine::FormatError);
}

}  // namespace
