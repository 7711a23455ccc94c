// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// state_json_test.cpp: the JSON rendering's parser (value_from_json) on truncated, flipped,
// malformed and deeply nested text, and from_state<T> on hostile state trees: wrong kinds,
// missing fields, undefined and misplaced references, huge ids, deep nesting.

#include <brine/brine.hpp>
#include <chrono>
#include <string>

#include "counting_allocator.hpp"
#include "hostile_support.hpp"
#include "hostile_types.hpp"
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

struct Timed {
  BRINE_TYPE("hostile.Timed", 1);
  std::chrono::nanoseconds span{0};
  template <class A>
  void getstate(A& ar) const {
    ar("span", span);
  }
  template <class A>
  void setstate(A& ar) {
    ar("span", span);
  }
};

}  // namespace hostile

namespace {

using brine::Value;
using hostile::Doc;

constexpr std::size_t kMiB = std::size_t{1} << 20;

brine::Registry& registry() {
  static brine::Registry r;
  static const bool once = (hostile::register_graph(r), true);
  (void)once;
  return r;
}

Value& field(Value& object, const char* name) {
  Value* v = object.as_object().find(name);
  EXPECT_NE(v, nullptr) << "no field " << name;
  return *v;
}

Value doc_state() { return brine::to_state(hostile::make_doc(), registry()); }

// A document that uses every tagged form of the rendering and numbers at the edges.
const char kEveryForm[] = R"({
  "$type": "hostile.Doc", "$version": 1, "$id": 7,
  "bytes": {"$bytes": "AAEC/w=="}, "ref": {"$ref": 7}, "fn": {"$function": "nn.relu"},
  "path": {"$path": "a/b.txt"}, "nan": {"$float": "nan"}, "inf": {"$float": "-inf"},
  "$$dollar": "escaped key", "list": [1, -2, 3.5, -2.5e300, 18446744073709551615,
  -9223372036854775808, true, false, null, "caf\u00e9 \ud83d\ude00"], "map": {"k": {"n": [[], {}]}}
})";

// How a parse (and, if it parsed, a from_state) of hostile text ended.
struct JsonOutcome {
  bool parsed = false;
  std::string error;  // empty when nothing was thrown
  bool foreign = false;
  bool internal = false;
};

JsonOutcome parse_and_load(const std::string& text) {
  JsonOutcome o;
  try {
    Value v = brine::value_from_json(text);
    o.parsed = true;
    Doc d = brine::from_state<Doc>(v, registry());
    (void)d;
  } catch (const brine::InternalError& e) {
    o.internal = true;
    o.error = e.what();
  } catch (const brine::Error& e) {
    o.error = e.what();
  } catch (const std::exception& e) {
    o.foreign = true;
    o.error = hostile::type_name(typeid(e)) + ": " + e.what();
  }
  return o;
}

// ------------------------------------------------------------------------- JSON text

TEST(JsonParserHostile, RenderingsRoundTrip) {
  Value doc = doc_state();
  for (int indent : {-1, 2}) {
    brine::JsonOptions options;
    options.indent = indent;
    std::string text = brine::to_json(doc, options);
    EXPECT_EQ(brine::value_from_json(text), doc);
    EXPECT_EQ(brine::from_state<Doc>(brine::value_from_json(text), registry()),
              hostile::make_doc());
  }
  // (NaN is not equal to itself: compare renderings.)
  std::string every = brine::to_json(brine::value_from_json(kEveryForm));
  EXPECT_EQ(brine::to_json(brine::value_from_json(every)), every);
}

TEST(JsonParserHostile, TruncationAtEveryOffsetIsFormatError) {
  std::vector<std::string> texts = {brine::to_json(doc_state()), kEveryForm};
  brine::JsonOptions compact;
  compact.indent = -1;
  texts.push_back(brine::to_json(doc_state(), compact));
  for (const std::string& text : texts) {
    for (std::size_t length = 0; length < text.size(); ++length) {
      std::string cut = text.substr(0, length);
      try {
        brine::value_from_json(cut);
        ADD_FAILURE() << "parsed a prefix of " << length << " bytes: " << cut;
      } catch (const brine::LimitError& e) {
        ADD_FAILURE() << "LimitError for a truncation: " << e.what();
      } catch (const brine::FormatError& e) {
        EXPECT_EQ(e.code(), brine::errc::corrupt_data);
        ASSERT_TRUE(e.context().byte_offset.has_value()) << e.what();
        EXPECT_LE(*e.context().byte_offset, length + 1) << e.what();
      } catch (const std::exception& e) {
        ADD_FAILURE() << "cut to " << length << ": " << hostile::type_name(typeid(e)) << ": "
                      << e.what();
      }
    }
  }
}

TEST(JsonParserHostile, EveryBitFlipParsesOrThrowsBrineError) {
  brine::JsonOptions compact;
  compact.indent = -1;
  const std::string texts[] = {brine::to_json(doc_state(), compact), kEveryForm};
  std::size_t failures = 0;
  for (const std::string& text : texts) {
    for (std::size_t offset = 0; offset < text.size(); ++offset) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string flipped = text;
        flipped[offset] = static_cast<char>(flipped[offset] ^ (1 << bit));
        JsonOutcome o = parse_and_load(flipped);
        if ((o.foreign || o.internal) && ++failures <= 10)
          ADD_FAILURE() << "bit " << bit << " of byte " << offset << " ('" << text[offset]
                        << "' -> '" << flipped[offset] << "'): " << o.error
                        << "\n  in: " << flipped;
      }
    }
  }
  EXPECT_EQ(failures, 0u);
}

struct Malformed {
  const char* text;
  const char* valid_sibling;
  const char* message;
};

TEST(JsonParserHostile, MalformedJsonIsFormatErrorWithOffset) {
  const Malformed cases[] = {
      {"", "null", "malformed JSON"},
      {"{\"a\": 1,}", "{\"a\": 1}", "malformed JSON"},
      {"{\"a\" 1}", "{\"a\": 1}", "malformed JSON"},
      {"\"unterminated", "\"terminated\"", "malformed JSON"},
      {"[1, 2", "[1, 2]", "malformed JSON"},
      {"{\"a\": tru}", "{\"a\": true}", "malformed JSON"},
      {"\"\\ud800\"", "\"\\ud83d\\ude00\"", "malformed JSON"},
      {"\"\\x41\"", "\"\\u0041\"", "malformed JSON"},
      {"\"\xff\xfe\"", "\"\xc3\xa9\"", "malformed JSON"},
      {"01", "1", "malformed JSON"},
      {"{\"a\": 1} x", "{\"a\": 1} ", "malformed JSON"},
  };
  for (const Malformed& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_NO_THROW(brine::value_from_json(c.valid_sibling)) << c.valid_sibling;
    auto e = hostile::expect_error<brine::FormatError>([&] { brine::value_from_json(c.text); },
                                                       c.message);
    EXPECT_EQ(e.code(), brine::errc::corrupt_data);
    if (std::string(c.message) == "malformed JSON") {
      EXPECT_TRUE(e.context().byte_offset.has_value()) << e.what();
    }
  }
}

// nlohmann reports a number beyond double's range as out_of_range, not parse_error.
TEST(JsonParserHostile, NumberOverflowIsFormatError) {
  const Malformed cases[] = {
      {"[1e400]", "[1e300]", "1e400"},
      {"-1e400", "-1e300", "1e400"},
      {R"({"$type": "hostile.Doc", "$version": 1, "x": 2.5e999})",
       R"({"$type": "hostile.Doc", "$version": 1, "x": 2.5e99})", "2.5e999"},
  };
  for (const Malformed& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_NO_THROW(brine::value_from_json(c.valid_sibling)) << c.valid_sibling;
    auto e = hostile::expect_error<brine::FormatError>([&] { brine::value_from_json(c.text); },
                                                       c.message);
    EXPECT_EQ(e.code(), brine::errc::corrupt_data);
    EXPECT_TRUE(e.context().byte_offset.has_value()) << e.what();
  }
}

// Duplicate names make a document ambiguous (RFC 8259 §4): refuse them rather than keep
// one of the values silently.
TEST(JsonParserHostile, DuplicateKeysAreFormatError) {
  const Malformed cases[] = {
      {R"({"a": 1, "a": 2})", R"({"a": 1, "b": 2})", "duplicate key 'a'"},
      {R"({"$type": "t", "$version": 1, "x": 1, "x": 2})",
       R"({"$type": "t", "$version": 1, "x": 1, "y": 2})", "duplicate"},
      {R"({"$type": "t", "$version": 1, "$version": 2})", R"({"$type": "t", "$version": 2})",
       "duplicate"},
  };
  for (const Malformed& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_NO_THROW(brine::value_from_json(c.valid_sibling)) << c.valid_sibling;
    auto e = hostile::expect_error<brine::FormatError>([&] { brine::value_from_json(c.text); },
                                                       c.message);
    EXPECT_EQ(e.code(), brine::errc::corrupt_data);
  }
}

TEST(JsonParserHostile, InvalidTaggedFormsAreFormatError) {
  const Malformed cases[] = {
      {R"({"$bytes": "abc"})", R"({"$bytes": "abc="})",
       "base64 text length 3 is not a multiple of 4"},
      {R"({"$bytes": "ab!="})", R"({"$bytes": "ab+="})", "invalid base64 character at offset 2"},
      {R"({"$bytes": "a=bc"})", R"({"$bytes": "a+bc"})", "invalid base64 character"},
      {R"({"$bytes": 12})", R"({"$bytes": ""})", "'$bytes' has the wrong type"},
      {R"({"$ref": -1})", R"({"$ref": 1})", "'$ref' has the wrong type"},
      {R"({"$ref": "1"})", R"({"$ref": 18446744073709551615})", "'$ref' has the wrong type"},
      {R"({"$type": "t"})", R"({"$type": "t", "$version": 1})", "missing '$version'"},
      {R"({"$type": "t", "$version": 4294967296})", R"({"$type": "t", "$version": 4294967295})",
       "'$version' out of range"},
      {R"({"$type": 5, "$version": 1})", R"({"$type": "5", "$version": 1})",
       "'$type' has the wrong type"},
      {R"({"$type": "t", "$version": 1, "$id": -3})", R"({"$type": "t", "$version": 1, "$id": 3})",
       "'$id' has the wrong type"},
      {R"({"$float": "nah"})", R"({"$float": "nan"})", "'$float' must be"},
      {R"({"$unknown": 1})", R"({"$$unknown": 1})", "unknown key '$unknown'"},
      {R"({"$id": 1})", R"({"$$id": 1})", "unknown key '$id'"},
      {R"({"$type": "t", "$version": 1, "$bad": 1})",
       R"({"$type": "t", "$version": 1, "$$bad": 1})", "unknown key '$bad'"},
  };
  for (const Malformed& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_NO_THROW(brine::value_from_json(c.valid_sibling)) << c.valid_sibling;
    auto e = hostile::expect_error<brine::FormatError>([&] { brine::value_from_json(c.text); },
                                                       c.message);
    EXPECT_EQ(e.code(), brine::errc::corrupt_data);
  }
}

std::string nested_arrays(std::size_t depth, bool closed = true) {
  return std::string(depth, '[') + (closed ? std::string(depth, ']') : std::string());
}

std::string nested_objects(std::size_t depth) {
  std::string s;
  for (std::size_t i = 0; i < depth; ++i) s += "{\"a\":";
  s += "1";
  s += std::string(depth, '}');
  return s;
}

TEST(JsonParserHostile, NestingBombsAreLimitErrorsNamingMaxDepth) {
  EXPECT_NO_THROW(brine::value_from_json(nested_arrays(900)));
  EXPECT_NO_THROW(brine::value_from_json(nested_objects(900)));
  const std::string bombs[] = {nested_arrays(100000), nested_arrays(100000, false),
                               nested_objects(100000), std::string(100000, '[') + "1"};
  for (const std::string& bomb : bombs) {
    auto e = hostile::expect_error<brine::LimitError>(
        [&] { brine::value_from_json(bomb); },
        "JSON nesting depth exceeds LoadOptions::max_depth (1000)");
    EXPECT_EQ(e.code(), brine::errc::limit_exceeded);
  }
  EXPECT_NO_THROW(brine::value_from_json(nested_arrays(5), 10));
  EXPECT_NO_THROW(brine::value_from_json(nested_objects(5), 10));
  hostile::expect_error<brine::LimitError>([&] { brine::value_from_json(nested_arrays(50), 10); },
                                           "max_depth (10)");
  hostile::expect_error<brine::LimitError>([&] { brine::value_from_json(nested_objects(50), 10); },
                                           "max_depth (10)");
}

// ------------------------------------------------------------------------- state trees

TEST(FromStateHostile, WrongKindsAreSchemaErrorsNamingTheField) {
  EXPECT_EQ(brine::from_state<Doc>(doc_state(), registry()), hostile::make_doc());
  struct Swap {
    const char* field;
    Value replacement;
    const char* message;
  };
  brine::Object label;
  label.type = "hostile.Label";
  label.version = 1;
  label.fields = {{"text", Value("x")}};
  Value::List variant_out_of_range{Value(std::uint64_t{5}), Value("x")};
  Value::List variant_short{Value(std::uint64_t{0})};
  const Swap swaps[] = {
      {"title", Value(std::int64_t{42}), "expected text, found signed_integer"},
      {"flag", Value("yes"), "expected boolean, found text"},
      {"tags", Value(Value::Map{}), "expected list, found map"},
      {"numbers", Value(Value::List{Value(std::uint64_t{1} << 40)}), "does not fit"},
      {"points", Value(Value::List{}), "expected map, found list"},
      {"choice", Value(variant_out_of_range), "variant index 5 out of range (2 alternatives)"},
      {"choice", Value(variant_short), "a variant is a list of [index, value]"},
      {"origin", Value(label), "expected an object of type 'hostile.Point', found 'hostile.Label'"},
      {"origin", Value(std::int64_t{1}), "expected object, found signed_integer"},
  };
  for (const Swap& s : swaps) {
    SCOPED_TRACE(std::string(s.field) + ": " + s.message);
    Value state = doc_state();
    field(state, s.field) = s.replacement;
    auto e = hostile::expect_error<brine::SchemaError>(
        [&] { brine::from_state<Doc>(state, registry()); }, s.message);
    EXPECT_EQ(e.code(), brine::errc::type_mismatch);
    EXPECT_EQ(e.context().field_path.substr(0, std::string(s.field).size()), s.field) << e.what();
  }
  Value not_an_object = Value(Value::List{});
  hostile::expect_error<brine::SchemaError>(
      [&] { brine::from_state<Doc>(not_an_object, registry()); }, "expected object, found list");
}

// Conversions the state model's accessors refuse (a negative number for an unsigned field,
// a fraction for an integer) are type mismatches like the others, and name the field too.
TEST(FromStateHostile, ConversionErrorsNameTheField) {
  Value state = doc_state();
  field(state, "numbers") = Value(Value::List{Value(std::int64_t{-1})});
  auto e = hostile::expect_error<brine::SchemaError>(
      [&] { brine::from_state<Doc>(state, registry()); }, "integer -1 does not fit");
  EXPECT_EQ(e.code(), brine::errc::type_mismatch);
  state = doc_state();
  field(state, "ids") = Value(Value::List{Value(1.5)});
  auto f =
      hostile::expect_error<brine::SchemaError>([&] { brine::from_state<Doc>(state, registry()); },
                                                "number 1.500000 does not fit an integer");
  EXPECT_EQ(f.code(), brine::errc::type_mismatch);
  EXPECT_EQ(e.context().field_path, "numbers") << e.what();
  EXPECT_EQ(e.context().type_name, "hostile.Doc") << e.what();
  EXPECT_EQ(f.context().field_path, "ids[0]") << f.what();  // the element, as to_json names it
}

TEST(FromStateHostile, MissingFieldIsSchemaErrorNamingFieldAndVersions) {
  Value state = doc_state();
  EXPECT_EQ(brine::from_state<Doc>(state, registry()), hostile::make_doc());
  state.as_object().erase("numbers");
  auto e = hostile::expect_error<brine::SchemaError>(
      [&] { brine::from_state<Doc>(state, registry()); }, "missing field 'numbers' (written as v1");
  EXPECT_EQ(e.code(), brine::errc::missing_field);
  EXPECT_EQ(e.context().type_name, "hostile.Doc");
  EXPECT_EQ(e.context().field_path, "numbers");
}

TEST(FromStateHostile, NewerClassVersionIsVersionError) {
  Value state = doc_state();
  registry().add<Doc>();
  EXPECT_EQ(brine::from_state<Doc>(state, registry()), hostile::make_doc());
  state.as_object().version = 2;
  auto e = hostile::expect_error<brine::VersionError>(
      [&] { brine::from_state<Doc>(state, registry()); },
      "archive written by class version 2 of 'hostile.Doc'");
  EXPECT_EQ(e.code(), brine::errc::newer_class_version);
}

// The graph of make_graph(), with its cycles or without (b -> a and c -> c removed).
Value graph_state(bool cycles = true) {
  hostile::Graph g = hostile::make_graph();
  if (!cycles) {
    g.roots[1]->edges.clear();
    g.focus->edges.clear();
  }
  Value state = brine::to_state(g, registry());
  hostile::dismantle(g);
  return state;
}

hostile::Graph load_graph(const Value& state, const brine::LoadOptions& options = {}) {
  return brine::from_state<hostile::Graph>(state, registry(), options);
}

TEST(FromStateHostile, ReferenceToAnIdNeverDefinedIsFormatError) {
  Value state = graph_state(false);
  hostile::Graph g = load_graph(state);
  ASSERT_EQ(g.roots.size(), 2u);
  EXPECT_EQ(g.roots[0]->edges[1], g.focus);
  hostile::dismantle(g);
  // focus is a reference to c, defined inside a's edges: point it elsewhere.
  ASSERT_EQ(field(state, "focus").kind(), brine::ValueKind::reference);
  field(state, "focus") = Value(brine::Reference{99});
  auto e = hostile::expect_error<brine::FormatError>(
      [&] { load_graph(state); }, "reference to shared object 99, which was not defined before");
  EXPECT_EQ(e.code(), brine::errc::corrupt_data);
  EXPECT_EQ(e.context().field_path, "focus");
}

// A load that fails after it built a shared_ptr cycle must still free the cycle.
TEST(FromStateHostile, FailedLoadOfCyclicGraphLeaksNothing) {
  Value state = graph_state();
  field(state, "focus") = Value(brine::Reference{99});  // read after the cycles exist
  const int before = hostile::Node::live;
  EXPECT_THROW(load_graph(state), brine::FormatError);
  EXPECT_EQ(hostile::Node::live, before) << "nodes of the cycles leaked";
}

TEST(FromStateHostile, SharedIdDefinedTwiceIsFormatError) {
  Value state = graph_state(false);
  Value& b = field(state, "roots").as_list()[1];
  ASSERT_EQ(b.kind(), brine::ValueKind::reference) << "b was defined inside a's edges";
  // Replace the reference by a second definition of the same id.
  Value& a = field(state, "roots").as_list()[0];
  Value& first_b = field(a, "edges").as_list()[0];
  ASSERT_EQ(first_b.kind(), brine::ValueKind::object);
  b = first_b;
  auto e = hostile::expect_error<brine::FormatError>([&] { load_graph(state); }, "defined twice");
  EXPECT_EQ(e.code(), brine::errc::corrupt_data);
}

// Ids in a state tree can be anything (hand-written JSON): a huge one must not size a
// table by it.
TEST(FromStateHostile, HugeSharedIdsLoadWithoutLargeAllocations) {
  Value state = graph_state();
  // Renumber every id and reference: id -> 2^63 + id * 2^40.
  auto renumber = [](std::uint64_t id) { return (std::uint64_t{1} << 63) + (id << 40); };
  std::vector<Value*> todo{&state};
  while (!todo.empty()) {
    Value* v = todo.back();
    todo.pop_back();
    switch (v->kind()) {
      case brine::ValueKind::reference:
        *v = Value(brine::Reference{renumber(v->as_reference().id)});
        break;
      case brine::ValueKind::list:
        for (Value& e : v->as_list()) todo.push_back(&e);
        break;
      case brine::ValueKind::object: {
        brine::Object& o = v->as_object();
        if (o.shared_id) o.shared_id = renumber(*o.shared_id);
        for (brine::Field& f : o.fields) todo.push_back(&f.value);
        break;
      }
      default:
        break;
    }
  }
  counting::Recording recording;
  hostile::Graph g = load_graph(state);
  recording.stop();
  EXPECT_TRUE(hostile::is_original_graph(g));
  hostile::dismantle(g);
  EXPECT_LT(recording.largest_allocation(), kMiB);
  // And through JSON, where such ids come from.
  hostile::Graph again = load_graph(brine::value_from_json(brine::to_json(state)));
  EXPECT_TRUE(hostile::is_original_graph(again));
  hostile::dismantle(again);
}

// A reference in an owning pointer would hand one object to a unique_ptr and to the shared
// table: a double delete. The binary reader refuses it; the state reader must too.
TEST(FromStateHostile, ReferenceInAnOwningPointerIsFormatError) {
  brine::Object point;
  point.type = "hostile.Point";
  point.version = 1;
  point.fields = {{"x", Value(std::int64_t{1})}, {"y", Value(std::int64_t{2})}};
  brine::Object shared = point;
  shared.shared_id = 0;
  brine::Object owner;
  owner.type = "hostile.Owner";
  owner.version = 1;
  owner.fields = {{"shared", Value(shared)}, {"owned", Value(point)}};
  hostile::Owner ok = brine::from_state<hostile::Owner>(Value(owner), registry());
  ASSERT_TRUE(ok.owned);
  EXPECT_EQ(*ok.owned, (hostile::Point{1, 2}));
  owner.fields[1].value = Value(brine::Reference{0});
  auto e = hostile::expect_error<brine::FormatError>(
      [&] { brine::from_state<hostile::Owner>(Value(owner), registry()); },
      "back reference in an owning (unique) pointer");
  EXPECT_EQ(e.code(), brine::errc::corrupt_data);
  EXPECT_EQ(e.context().field_path, "owned");
}

TEST(FromStateHostile, UnknownAndUnrelatedPointerTypesAreSchemaErrors) {
  registry().add<hostile::Point>();
  Value state = graph_state();
  Value& a = field(state, "roots").as_list()[0];
  ASSERT_EQ(a.as_object().type, "hostile.Branch");
  Value unknown = state;
  field(unknown, "roots").as_list()[0].as_object().type = "hostile.Brunch";
  auto e = hostile::expect_error<brine::SchemaError>([&] { load_graph(unknown); },
                                                     "unknown type 'hostile.Brunch'");
  EXPECT_EQ(e.code(), brine::errc::unknown_type);
  EXPECT_NE(std::string(e.what()).find("did you mean 'hostile.Branch'"), std::string::npos)
      << e.what();
  Value unrelated = state;
  field(unrelated, "roots").as_list()[0].as_object().type = "hostile.Point";
  e = hostile::expect_error<brine::SchemaError>([&] { load_graph(unrelated); },
                                                "is not a registered subclass of 'hostile.Node'");
  EXPECT_EQ(e.code(), brine::errc::type_mismatch);
  hostile::Graph g = load_graph(state);
  EXPECT_TRUE(hostile::is_original_graph(g));
  hostile::dismantle(g);
}

Value tree_state(std::size_t depth) {
  // Built bottom-up without recursion.
  Value t;
  for (std::size_t i = 0; i < depth; ++i) {
    brine::Object o;
    o.type = "hostile.Tree";
    o.version = 1;
    Value::List kids;
    if (i > 0) kids.push_back(std::move(t));
    o.fields.push_back({"kids", Value(std::move(kids))});
    t = Value(std::move(o));
  }
  return t;
}

TEST(FromStateHostile, DeepStateTreeIsLimitErrorNamingMaxDepth) {
  hostile::Tree ok = brine::from_state<hostile::Tree>(tree_state(900), registry());
  EXPECT_EQ(ok.kids.size(), 1u);
  brine::LoadOptions ten;
  ten.max_depth = 10;
  EXPECT_NO_THROW(brine::from_state<hostile::Tree>(tree_state(10), registry(), ten));
  auto e = hostile::expect_error<brine::LimitError>(
      [&] { brine::from_state<hostile::Tree>(tree_state(11), registry(), ten); },
      "nesting depth exceeds LoadOptions::max_depth (10)");
  EXPECT_EQ(e.code(), brine::errc::limit_exceeded);
}

// from_state runs the migrations (Registry::upgrade) over the whole tree before setstate
// checks the depth: that walk must be bounded too (1500 objects: past the default limit,
// and a tree the test itself can still copy and destroy recursively under AddressSanitizer).
TEST(FromStateHostile, DeepStateTreeIsLimitErrorBeforeMigrationsRecurse) {
  Value deep = tree_state(1500);
  hostile::expect_error<brine::LimitError>([&] { registry().upgrade(deep); },
                                           "nesting depth exceeds LoadOptions::max_depth (1000)");
  hostile::expect_error<brine::LimitError>(
      [&] { brine::from_state<hostile::Tree>(deep, registry()); },
      "nesting depth exceeds LoadOptions::max_depth (1000)");
  brine::LoadOptions deeper;
  deeper.max_depth = 1600;
  Value copy = deep;
  EXPECT_NO_THROW(registry().upgrade(copy, deeper));
}

Value timed_state(Value count, const std::string& period) {
  brine::Object o;
  o.type = "hostile.Timed";
  o.version = 1;
  Value::Map d;
  d.emplace("count", std::move(count));
  d.emplace("period", Value(period));
  o.fields.push_back({"span", Value(std::move(d))});
  return Value(std::move(o));
}

TEST(FromStateHostile, DurationsThatDoNotFitAreSchemaErrors) {
  EXPECT_EQ(
      brine::from_state<hostile::Timed>(timed_state(Value(std::int64_t{3}), "1/1000"), registry())
          .span,
      std::chrono::milliseconds(3));
  const std::pair<Value, std::string> bad[] = {
      {Value(std::int64_t{1}), "0/1"},
      {Value(std::int64_t{1}), "1/0"},
      {Value(std::int64_t{1}), "-1/1"},
      {Value(std::int64_t{1}), "one/1"},
      {Value(std::int64_t{1}), "99999999999999999999/1"},
      {Value(std::int64_t{1}), "1/3"},  // a third of a second is not a whole number of ns
  };
  for (const auto& [count, period] : bad) {
    SCOPED_TRACE(period);
    auto e = hostile::expect_error<brine::SchemaError>(
        [&, &count = count, &period = period] {
          brine::from_state<hostile::Timed>(timed_state(count, period), registry());
        },
        "");
    EXPECT_EQ(e.code(), brine::errc::type_mismatch);
  }
}

// count * period numerator * field denominator overflows even 128 bits.
TEST(FromStateHostile, DurationProductOverflowingInt128IsSchemaError) {
  const std::pair<std::int64_t, std::string> cases[] = {
      {std::int64_t{1} << 62, "9223372036854775807/1"},
      {std::numeric_limits<std::int64_t>::min(), "9223372036854775807/1"},
      {std::numeric_limits<std::int64_t>::max(), "9223372036854775807/9223372036854775807"},
  };
  for (const auto& [count, period] : cases) {
    SCOPED_TRACE(period);
    auto e = hostile::expect_error<brine::SchemaError>(
        [&, count = count, &period = period] {
          brine::from_state<hostile::Timed>(timed_state(Value(count), period), registry());
        },
        "duration");
    EXPECT_EQ(e.code(), brine::errc::type_mismatch);
  }
}

}  // namespace

// ------------------------------------------------------------------------- long documents

namespace {

// Enough objects that a parse quadratic in their number takes longer than ctest's --timeout
// 600, few enough that the parse peaks near 300 MB (the list, and the builder's stack of
// its elements, at 88 bytes a Value).
constexpr std::size_t kLongListLength = 1500000;

std::string list_of(const std::string& item) {
  std::string text = "[";
  text.reserve(kLongListLength * (item.size() + 1) + 1);
  for (std::size_t i = 0; i < kLongListLength; ++i) {
    if (i > 0) text += ',';
    text += item;
  }
  return text + "]";
}

// Regression: value_from_json took time quadratic in the length of a list of objects, as
// nlohmann's callback parser rescans the parent container at every object close: 200,000
// empty objects took 11 s, 400,000 took 48 s, so these lists would take 11 and 14 minutes.
// The linear parse takes about a second. No timing assert (CI machines are shared):
// ctest's timeout catches a relapse.
TEST(JsonParserHostile, LongListsOfObjectsParseInLinearTime) {
  {
    Value empties = brine::value_from_json(list_of("{}"));
    ASSERT_EQ(empties.kind(), brine::ValueKind::list);
    ASSERT_EQ(empties.as_list().size(), kLongListLength);
    EXPECT_EQ(empties.as_list().front(), Value(Value::Map{}));
    EXPECT_EQ(empties.as_list().back(), Value(Value::Map{}));
  }
  Value objects = brine::value_from_json(list_of(R"({"$type":"t","$version":1})"));
  ASSERT_EQ(objects.kind(), brine::ValueKind::list);
  ASSERT_EQ(objects.as_list().size(), kLongListLength);
  brine::Object t;
  t.type = "t";
  t.version = 1;
  const Value expected(t);
  std::size_t others = 0;
  for (const Value& v : objects.as_list()) others += v == expected ? 0 : 1;
  EXPECT_EQ(others, 0u);
}

}  // namespace
