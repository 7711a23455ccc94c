// The state model: to_state/from_state, JSON rendering, and values in standard structures.

#include <brine/brine.hpp>

#include "test_util.hpp"

namespace {

struct Item {
  BRINE_TYPE("test.Item", 2);
  std::string name;
  double price = 0;
  template <class A>
  void getstate(A& ar) const {
    ar("name", name)("price", price);
  }
  template <class A>
  void setstate(A& ar) {
    ar("name", name)("price", price);
  }
  bool operator==(const Item& o) const { return name == o.name && price == o.price; }
};

TEST(StateModel, ObjectStateHasTypeVersionAndNamedFields) {
  brine::Value v = brine::to_state(Item{"pen", 1.5});
  const brine::Object& o = v.as_object();
  EXPECT_EQ(o.type, "test.Item");
  EXPECT_EQ(o.version, 2u);
  ASSERT_EQ(o.fields.size(), 2u);
  EXPECT_EQ(o.fields[0].name, "name");
  EXPECT_EQ(o.fields[0].value.as_text(), "pen");
  EXPECT_EQ(o.find("price")->as_double(), 1.5);
}

TEST(StateModel, JsonRenderingIsCanonicalAndLossless) {
  brine::Value::Map map;
  map["zeta"] = brine::Value(std::int64_t{-3});
  map["$dollar"] = brine::Value("escaped");
  map["alpha"] = brine::Value(brine::Bytes{{0, 1, 2, 255}});
  brine::Value::List list{brine::Value(std::nan("")),
                          brine::Value(HUGE_VAL),
                          brine::Value(0.1),
                          brine::Value(brine::PathValue{"a/b"}),
                          brine::Value(brine::FunctionRef{"f"}),
                          brine::Value(brine::Reference{4}),
                          brine::Value(),
                          brine::Value(true)};
  map["list"] = brine::Value(list);
  brine::Value v(map);
  std::string json = brine::to_json(v, {-1});
  EXPECT_EQ(
      json,
      R"({"$$dollar":"escaped","alpha":{"$bytes":"AAEC/w=="},"list":[{"$float":"nan"},)"
      R"({"$float":"inf"},0.1,{"$path":"a/b"},{"$function":"f"},{"$ref":4},null,true],"zeta":-3})");
  brine::Value back = brine::value_from_json(json);
  // NaN != NaN, so compare the rendering of the round trip instead of the values.
  EXPECT_EQ(brine::to_json(back, {-1}), json);
}

TEST(StateModel, FromJsonLoadsHandWrittenConfig) {
  std::string json = R"({"$type": "test.Item", "$version": 2, "name": "cup", "price": 3})";
  Item item = brine::from_state<Item>(brine::value_from_json(json));
  EXPECT_EQ(item, (Item{"cup", 3.0}));  // an integer loads into a double field
}

TEST(StateModel, RejectsWrongKindNamingField) {
  std::string json = R"({"$type": "test.Item", "$version": 2, "name": 5, "price": 3})";
  try {
    brine::from_state<Item>(brine::value_from_json(json));
    FAIL();
  } catch (const brine::SchemaError& e) {
    EXPECT_EQ(e.code(), brine::errc::type_mismatch);
    EXPECT_EQ(e.context().field_path, "name");
    EXPECT_EQ(e.context().type_name, "test.Item");
  }
}

TEST(StateModel, RejectsIntegerOutOfRange) {
  brine::Value v(std::int64_t{300});
  EXPECT_THROW_WITH(brine::from_state<std::uint8_t>(v), brine::SchemaError, "does not fit");
  EXPECT_THROW_WITH(brine::from_state<std::uint32_t>(brine::Value(std::int64_t{-1})),
                    brine::SchemaError, "");
}

TEST(StateModel, ConvertsDurationPeriodsExactly) {
  brine::Value ms = brine::to_state(std::chrono::milliseconds(1500));
  EXPECT_EQ(brine::from_state<std::chrono::microseconds>(ms), std::chrono::microseconds(1500000));
  EXPECT_EQ(
      brine::from_state<std::chrono::seconds>(brine::to_state(std::chrono::milliseconds(3000))),
      std::chrono::seconds(3));
  EXPECT_THROW_WITH(brine::from_state<std::chrono::seconds>(ms), brine::SchemaError,
                    "whole number");
}

TEST(StateModel, MalformedJsonIsFormatErrorWithOffset) {
  try {
    brine::value_from_json("{\"a\": [1, 2,, 3]}");
    FAIL();
  } catch (const brine::FormatError& e) {
    ASSERT_TRUE(e.context().byte_offset.has_value());
    EXPECT_EQ(*e.context().byte_offset, 12u);  // the second ','
    EXPECT_NE(std::string(e.what()).find("line 1, column 13"), std::string::npos) << e.what();
  }
  EXPECT_THROW_WITH(brine::value_from_json(std::string(5000, '[') + std::string(5000, ']'), 100),
                    brine::LimitError, "max_depth");
}

// A std::string may hold any bytes; JSON text is UTF-8. The rendering used to let
// nlohmann::json's type_error 316 escape, outside brine's exception hierarchy.
brine::Value doc_with_text(std::string bad_text) {
  brine::Object inner{"test.Item",
                      2,
                      {{"name", brine::Value("ok")}, {"tags", brine::Value(brine::Value::List{})}},
                      std::nullopt};
  inner.find("tags")->as_list() = {brine::Value("caf\xc3\xa9"), brine::Value(std::move(bad_text))};
  brine::Value::Map map;
  map["first"] = brine::Value(std::move(inner));
  return brine::Value(brine::Object{"test.Doc", 1, {{"items", brine::Value(map)}}, std::nullopt});
}

TEST(StateModel, JsonRefusesTextThatIsNotUtf8NamingWhere) {
  // A lone continuation byte, a truncated sequence, an overlong encoding, a surrogate.
  for (std::string bad : {"a\x80", "caf\xc3", "\xc0\xaf", "\xed\xa0\x80"}) {
    SCOPED_TRACE(bad);
    try {
      brine::to_json(doc_with_text(bad));
      ADD_FAILURE() << "rendered invalid UTF-8";
    } catch (const brine::FormatError& e) {
      EXPECT_EQ(e.code(), brine::errc::corrupt_data);
      EXPECT_EQ(e.context().field_path, "items.first.tags[1]") << e.what();
      EXPECT_EQ(e.context().type_name, "test.Item") << e.what();
      EXPECT_NE(std::string(e.what()).find("not valid UTF-8"), std::string::npos) << e.what();
    }
  }
  // Names are text too: a map key, a field name, a type name.
  brine::Value::Map map;
  map["fine"] = brine::Value(1);
  map["bad\xff"] = brine::Value(2);
  EXPECT_THROW_WITH(brine::to_json(brine::Value(brine::Value::List{brine::Value(map)})),
                    brine::FormatError, "map key");
  brine::Value field(brine::Object{"test.Item", 2, {{"n\xe9", brine::Value(1)}}, std::nullopt});
  EXPECT_THROW_WITH(brine::to_json(field), brine::FormatError, "field name");
  brine::Value type(brine::Object{"test.\xff", 2, {}, std::nullopt});
  EXPECT_THROW_WITH(brine::to_json(type), brine::FormatError, "type name");
  // Valid UTF-8 of every length renders unchanged.
  std::string ok = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
  EXPECT_EQ(brine::value_from_json(brine::to_json(doc_with_text(ok))), doc_with_text(ok));
}

TEST(StateModel, JsonReplacesInvalidUtf8OnlyWhenAsked) {
  brine::JsonOptions lossy;
  lossy.indent = -1;
  lossy.replace_invalid_utf8 = true;
  std::string json = brine::to_json(doc_with_text("x\xffy"), lossy);
  brine::Value back = brine::value_from_json(json);
  const brine::Object& item = back.as_object().find("items")->as_map().at("first").as_object();
  EXPECT_EQ(item.find("tags")->as_list()[1].as_text(), "x\xef\xbf\xbdy");
}

TEST(StateModel, JsonArchiveRefusesNonUtf8TextAndWritesNothing) {
  brine_test::TempDir dir;
  brine::Registry registry;
  registry.add<Item>();
  Item binary_name{std::string("\x89PNG\r\n\x1a\n", 8), 1};
  EXPECT_THROW_WITH(brine::to_json_archive(binary_name, registry), brine::FormatError,
                    "field 'values[0].name'");
  EXPECT_THROW_WITH(brine::save_json(dir / "item.json", binary_name, registry), brine::FormatError,
                    "not valid UTF-8");
  EXPECT_FALSE(std::filesystem::exists(dir / "item.json"));
  // The other archives keep the bytes as they are.
  brine::Buffer stable = brine::to_stable(binary_name, registry);
  EXPECT_EQ(brine::from_stable<Item>(stable.view(), registry), binary_name);
}

TEST(BinaryArchive, SavesValuesEmbeddedInStandardStructures) {
  brine_test::TempDir dir;
  brine::save_binary(dir / "v.brine", std::vector<Item>{{"a", 1}, {"b", 2}});
  EXPECT_EQ(brine::load_binary<std::vector<Item>>(dir / "v.brine"),
            (std::vector<Item>{{"a", 1}, {"b", 2}}));
  std::map<std::string, Item> by_name{{"x", {"x", 9}}};
  brine::save_binary(dir / "m.brine", by_name);
  EXPECT_EQ((brine::load_binary<std::map<std::string, Item>>(dir / "m.brine")), by_name);
  auto tuple = std::make_tuple(Item{"t", 1}, 42, std::string("s"));
  brine::save_binary(dir / "t.brine", tuple);
  EXPECT_EQ((brine::load_binary<std::tuple<Item, int, std::string>>(dir / "t.brine")), tuple);
}

}  // namespace
