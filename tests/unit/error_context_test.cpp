// The context of load errors (docs/errors.md, "What each load says"): for each error code a
// load can raise, on each encoding, from a file and from memory, and through the `brine`
// tool, the exception's class, code, source, type, field path (with the indices of the
// containers it sits in) and byte offset.

#include <brine/brine.hpp>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <typeinfo>
#include <vector>

#include "../hostile/hostile_support.hpp"
#include "test_util.hpp"

namespace {

struct Shape {
  BRINE_TYPE("ctx.Shape", 1);
  virtual ~Shape() = default;
  std::int32_t id = 0;
  template <class A>
  void getstate(A& ar) const {
    ar("id", id);
  }
  template <class A>
  void setstate(A& ar) {
    ar("id", id);
  }
};

struct Circle final : Shape {
  BRINE_TYPE("ctx.Circle", 1);
  double r = 0;
  template <class A>
  void getstate(A& ar) const {
    brine::base<Shape>(ar, *this);
    ar("r", r);
  }
  template <class A>
  void setstate(A& ar) {
    brine::base<Shape>(ar, *this);
    ar("r", r);
  }
};

struct Order {
  BRINE_TYPE("ctx.Order", 1);
  std::string badge;
  std::int32_t stamp = 0;
  bool flag = false;
  std::shared_ptr<Shape> shape;
  template <class A>
  void getstate(A& ar) const {
    ar("badge", badge)("stamp", stamp)("flag", flag)("shape", shape);
  }
  template <class A>
  void setstate(A& ar) {
    ar("badge", badge)("stamp", stamp)("flag", flag)("shape", shape);
  }
};

struct Book {
  BRINE_TYPE("ctx.Book", 1);
  std::vector<Order> orders;
  template <class A>
  void getstate(A& ar) const {
    ar("orders", orders);
  }
  template <class A>
  void setstate(A& ar) {
    ar("orders", orders);
  }
};

struct Root {
  BRINE_TYPE("ctx.Root", 1);
  std::vector<Book> values;
  template <class A>
  void getstate(A& ar) const {
    ar("values", values);
  }
  template <class A>
  void setstate(A& ar) {
    ar("values", values);
  }
};

enum class Encoding { binary, stable, json };
const char* name_of(Encoding e) {
  return e == Encoding::binary ? "binary" : e == Encoding::stable ? "stable" : "json";
}

void register_all(brine::Registry& r) {
  r.add<Root>();
  r.add<Book>();
  r.add<Order>();
  r.add<Shape>();
  r.add<Circle>().bases<Shape>();
}

// The good value every case starts from: the failure sits at values[0].orders[1].
Root good_root() {
  Order first{"FIRST", 1, false, nullptr};
  auto circle = std::make_shared<Circle>();
  circle->id = 7;
  circle->r = 2.5;
  Order second{"BADGE", 0x5A5A5A5A, true, circle};
  Book book;
  book.orders = {first, second};
  Root root;
  root.values = {book};
  return root;
}

std::string encode_value(Encoding encoding, const brine::Value& v, brine::Registry& registry) {
  brine::Buffer out;
  brine::BufferSink sink(out);
  if (encoding == Encoding::binary) {
    brine::BinaryWriter w(sink, registry);
    w.write_value(v);
    w.finish();
  } else if (encoding == Encoding::stable) {
    brine::StableWriter w(sink, registry);
    w.write_value(v);
    w.finish();
  } else {
    return brine::json_document({v});
  }
  return std::string(out.view());
}

// The good archive in `encoding`, written from the C++ objects.
std::string good_archive(Encoding encoding) {
  brine::Registry registry;
  register_all(registry);
  Root root = good_root();
  if (encoding == Encoding::binary) return std::string(brine::to_binary(root, registry).view());
  if (encoding == Encoding::stable) return std::string(brine::to_stable(root, registry).view());
  return brine::to_json_archive(root, registry);
}

// The good value's state-model tree with `edit` applied to the object of values[0].orders[1],
// in `encoding`: how the cases that the state model reports are built.
// With `both`, the first order is edited too (a binary archive's layout is fixed by the first
// value of a type: a field missing from a later one only would be written as null).
std::string edited_archive(Encoding encoding, const std::function<void(brine::Object&)>& edit,
                           bool both = false) {
  brine::Registry registry;
  register_all(registry);
  brine::Value v = brine::to_state(good_root(), registry);
  brine::Object& root = v.as_object();
  brine::Object& book = root.fields[0].value.as_list()[0].as_object();
  edit(book.fields[0].value.as_list()[1].as_object());
  if (both) edit(book.fields[0].value.as_list()[0].as_object());
  brine::Registry empty;
  return encode_value(encoding, v, empty);
}

brine::Field& field(brine::Object& o, const std::string& name) {
  for (brine::Field& f : o.fields)
    if (f.name == name) return f;
  throw std::runtime_error("no field " + name);
}

std::string replace_once(std::string text, const std::string& from, const std::string& to) {
  std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "'" << from << "' not in the archive";
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

/// What a case expects. An empty type or path expects none.
struct Expect {
  const std::type_info* exception;  // the dynamic class, exactly
  brine::errc code;
  std::string type_name;
  std::string field_path;
  bool byte_offset;  // the format has an offset for this failure
};

/// How the `brine` tool reports the file (it reads without C++ types: the state model only).
enum class Cli {
  reports,         // `brine verify` exits 1 with a line naming the file
  accepts,         // the file is a valid archive for a tool without C++ types
  not_applicable,  // the case cannot be put in a file the tool reads (see the comment)
};

struct Case {
  const char* name;
  Encoding encoding;
  std::function<std::string()> input;  // the file's bytes; empty function: no file at all
  Expect expect;
  Cli cli;
  std::function<void(brine::Registry&)> reader = register_all;
  brine::LoadOptions options = {};
  bool from_memory = true;  // false: only a file can fail this way
};

brine::LoadOptions depth(std::size_t n) {
  brine::LoadOptions o;
  o.max_depth = n;
  return o;
}

const std::type_info& format_error = typeid(brine::FormatError);
const std::type_info& limit_error = typeid(brine::LimitError);
const std::type_info& version_error = typeid(brine::VersionError);
const std::type_info& schema_error = typeid(brine::SchemaError);
const std::type_info& migration_error = typeid(brine::MigrationError);
const std::type_info& io_error = typeid(brine::IoError);

using brine::errc;
constexpr const char* kOrder = "values[0].orders[1]";

std::vector<Case> cases() {
  std::vector<Case> all;
  // truncated_input.
  all.push_back({"binary cut short",
                 Encoding::binary,
                 [] {
                   std::string s = good_archive(Encoding::binary);
                   return s.substr(0, s.size() - 10);
                 },
                 {&format_error, errc::truncated_input, "", "", true},
                 Cli::reports});
  all.push_back({"stable cut short",
                 Encoding::stable,
                 [] {
                   std::string s = good_archive(Encoding::stable);
                   return s.substr(0, s.size() - 3);
                 },
                 {&format_error, errc::truncated_input, "", "", true},
                 Cli::reports});
  // JSON cut short is malformed JSON (corrupt_data, below); its truncated_input is a
  // document without values, which the tool accepts (a file of no objects).
  all.push_back(
      {"json without values",
       Encoding::json,
       [] { return std::string(R"({"format":"brine-json","format_version":1,"values":[]})"); },
       {&format_error, errc::truncated_input, "", "", false},
       Cli::accepts});

  // corrupt_data.
  all.push_back(
      {"binary boolean byte 2",
       Encoding::binary,
       [] {
         // After "BADGE": the stamp's 4 bytes, then the flag.
         return hostile::edit_at(good_archive(Encoding::binary), "BADGE", 9, 1,
                                 std::string(1, '\x02'));
       },
       {&format_error, errc::corrupt_data, "ctx.Order", std::string(kOrder) + ".flag", true},
       Cli::reports});
  all.push_back({"stable break inside a value",
                 Encoding::stable,
                 [] {
                   // "BADGE"'s head (text of 5 bytes) becomes a CBOR break.
                   return replace_once(good_archive(Encoding::stable),
                                       "\x65"
                                       "BADGE",
                                       "\xff"
                                       "BADGE");
                 },
                 {&format_error, errc::corrupt_data, "", "", true},
                 Cli::reports});
  all.push_back({"json object without $version",
                 Encoding::json,
                 [] {
                   std::string s = good_archive(Encoding::json);
                   std::size_t badge = s.find("\"BADGE\"");
                   std::size_t version = s.rfind("\"$version\"", badge);
                   std::size_t next = s.find('"', s.find(',', version));
                   return s.erase(version, next - version);
                 },
                 // The JSON parser's events carry no offset into the text.
                 {&format_error, errc::corrupt_data, "", kOrder, false},
                 Cli::reports});
  all.push_back({"json malformed",
                 Encoding::json,
                 [] {
                   std::string s = good_archive(Encoding::json);
                   return s.substr(0, s.size() / 2);
                 },
                 // Cut inside the first order's shape: the parser's open containers.
                 {&format_error, errc::corrupt_data, "", "values[0].orders[0].shape", true},
                 Cli::reports});

  // checksum_mismatch. JSON has no checksum: it cannot occur there.
  all.push_back({"binary block checksum",
                 Encoding::binary,
                 [] { return replace_once(good_archive(Encoding::binary), "BADGE", "BADGF"); },
                 {&format_error, errc::checksum_mismatch, "", "", true},
                 Cli::reports});
  all.push_back({"stable document checksum",
                 Encoding::stable,
                 [] { return replace_once(good_archive(Encoding::stable), "BADGE", "BADGF"); },
                 {&format_error, errc::checksum_mismatch, "", "", true},
                 Cli::reports});

  // limit_exceeded: Order is the third level of objects. The tool reads with the default
  // limits, which these archives are far inside.
  all.push_back({"binary max_depth",
                 Encoding::binary,
                 [] { return good_archive(Encoding::binary); },
                 {&limit_error, errc::limit_exceeded, "ctx.Book", "values[0].orders[0]", true},
                 Cli::accepts,
                 register_all,
                 depth(2)});
  all.push_back({"stable max_depth",
                 Encoding::stable,
                 [] { return good_archive(Encoding::stable); },
                 // Refused by the validation pass over the whole document, before any value
                 // is decoded: it counts levels, and has no path.
                 {&limit_error, errc::limit_exceeded, "", "", true},
                 Cli::accepts,
                 register_all,
                 depth(2)});
  all.push_back({"json max_depth",
                 Encoding::json,
                 [] { return good_archive(Encoding::json); },
                 // The state model names the object it refuses to enter; the binary reader,
                 // the object whose field holds it.
                 {&limit_error, errc::limit_exceeded, "ctx.Order", "values[0].orders[0]", false},
                 Cli::accepts,
                 register_all,
                 depth(2)});

  // A JSON nesting bomb goes over the default limits, which the tool reads with too: the
  // parser refuses it with the path of the open lists.
  {
    const std::size_t levels = brine::LoadOptions{}.max_nesting() + 10;
    std::string path;
    for (std::size_t i = 0; i + 1 < brine::LoadOptions{}.max_nesting(); ++i) path += "[0]";
    all.push_back({"json nesting bomb",
                   Encoding::json,
                   [levels] {
                     return R"({"format":"brine-json","format_version":1,"values":[)" +
                            std::string(levels, '[') + std::string(levels, ']') + "]}";
                   },
                   {&limit_error, errc::limit_exceeded, "", path, false},
                   Cli::reports});
  }

  for (Encoding e : {Encoding::binary, Encoding::stable, Encoding::json}) {
    const bool binary = e == Encoding::binary;
    std::string n = name_of(e);
    // unknown_type: the reader does not know Circle. The binary reader finds it in the
    // type table, with an offset; the state model has none.
    all.push_back(
        {"unknown type",
         e,
         [e] { return good_archive(e); },
         {&schema_error, errc::unknown_type, "ctx.Order", std::string(kOrder) + ".shape", binary},
         Cli::accepts,
         [](brine::Registry& r) {
           r.add<Root>();
           r.add<Book>();
           r.add<Order>();
         }});
    // type_mismatch: stamp holds text. Reported by the state model, which has no offset.
    all.push_back(
        {"type mismatch",
         e,
         [e] {
           return edited_archive(
               e, [](brine::Object& o) { field(o, "stamp").value = brine::Value("seven"); });
         },
         {&schema_error, errc::type_mismatch, "ctx.Order", std::string(kOrder) + ".stamp", false},
         Cli::accepts});
    // missing_field: flag is absent.
    all.push_back(
        {"missing field",
         e,
         [e] {
           return edited_archive(
               e,
               [](brine::Object& o) {
                 for (std::size_t i = 0; i < o.fields.size(); ++i)
                   if (o.fields[i].name == "flag")
                     o.fields.erase(o.fields.begin() + static_cast<std::ptrdiff_t>(i));
               },
               true);
         },
         {&schema_error, errc::missing_field, "ctx.Order", "values[0].orders[0].flag", false},
         Cli::accepts});
    // newer_class_version: the orders were written by v2 of their class.
    all.push_back(
        {"newer class version",
         e,
         [e] {
           return edited_archive(
               e, [](brine::Object& o) { o.version = 2; }, true);
         },
         {&version_error, errc::newer_class_version, "ctx.Order", "values[0].orders[0]", false},
         Cli::accepts});
    // migration_failed: the orders were written as v0, and the step from v0 renames a field
    // the object does not have.
    all.push_back(
        {"migration failed",
         e,
         [e] {
           return edited_archive(
               e, [](brine::Object& o) { o.version = 0; }, true);
         },
         {&migration_error, errc::migration_failed, "ctx.Order", "values[0].orders[0]", false},
         Cli::accepts,
         [](brine::Registry& r) {
           r.add<Order>().migration(0, brine::migrate::rename_field("nothing", "x"));
           register_all(r);
         }});
    // io_failure: no such file. From memory it cannot occur.
    all.push_back({"no such file",
                   e,
                   nullptr,
                   {&io_error, errc::io_failure, "", "", false},
                   Cli::reports,
                   register_all,
                   {},
                   false});
  }

  // newer_format_version.
  all.push_back({"binary newer format",
                 Encoding::binary,
                 [] {
                   std::string s = good_archive(Encoding::binary);
                   s[10] = 99;  // the header's format version (binary-v1.md §2)
                   return s;
                 },
                 {&version_error, errc::newer_format_version, "", "", true},
                 Cli::reports});
  all.push_back({"stable newer format",
                 Encoding::stable,
                 [] {
                   return replace_once(good_archive(Encoding::stable),
                                       "\x6e"
                                       "format_version\x01",
                                       "\x6e"
                                       "format_version\x09");
                 },
                 {&version_error, errc::newer_format_version, "", "", true},
                 Cli::reports});
  all.push_back({"json newer format",
                 Encoding::json,
                 [] {
                   return replace_once(good_archive(Encoding::json), R"("format_version": 1)",
                                       R"("format_version": 9)");
                 },
                 {&version_error, errc::newer_format_version, "", "", false},
                 Cli::reports});
  return all;
}

// Runs `load`, returning the error it threw (or failing the test when none).
std::optional<brine::Error> error_of(const std::function<void()>& load,
                                     const std::type_info*& cls) {
  try {
    load();
  } catch (const brine::Error& e) {
    cls = &typeid(e);
    return e;
  }
  return std::nullopt;
}

void check(const Case& c, const std::function<void()>& load, const std::string& source,
           const std::string& where) {
  SCOPED_TRACE(std::string(c.name) + " (" + name_of(c.encoding) + ", " + where + ")");
  const std::type_info* cls = nullptr;
  std::optional<brine::Error> e = error_of(load, cls);
  ASSERT_TRUE(e.has_value()) << "no error";
  const brine::ErrorContext& ctx = e->context();
  EXPECT_EQ(*cls, *c.expect.exception) << hostile::type_name(*cls) << ": " << e->what();
  EXPECT_EQ(e->code(), c.expect.code) << e->what();
  EXPECT_EQ(ctx.source, source) << e->what();
  EXPECT_EQ(ctx.type_name, c.expect.type_name) << e->what();
  EXPECT_EQ(ctx.field_path, c.expect.field_path) << e->what();
  EXPECT_EQ(ctx.byte_offset.has_value(), c.expect.byte_offset) << e->what();
  if (!source.empty()) {
    EXPECT_NE(std::string(e->what()).find("in '" + source + "'"), std::string::npos) << e->what();
  }
}

template <class T>
T load_file(Encoding e, const std::string& path, const brine::Registry& r,
            const brine::LoadOptions& o) {
  if (e == Encoding::binary) return brine::load_binary<T>(path, r, o);
  if (e == Encoding::stable) return brine::load_stable<T>(path, r, o);
  return brine::load_json<T>(path, r, o);
}

template <class T>
T load_memory(Encoding e, const std::string& bytes, const brine::Registry& r,
              const brine::LoadOptions& o) {
  if (e == Encoding::binary) return brine::from_binary<T>(bytes, r, o);
  if (e == Encoding::stable) return brine::from_stable<T>(bytes, r, o);
  return brine::from_json_archive<T>(bytes, r, o);
}

TEST(ErrorContext, EveryLoadErrorSaysWhere) {
  brine_test::TempDir dir;
  int n = 0;
  for (const Case& c : cases()) {
    const std::string file =
        (dir / ("case" + std::to_string(n++) + "." + name_of(c.encoding))).string();
    std::string bytes;
    if (c.input) {
      bytes = c.input();
      std::ofstream(file, std::ios::binary) << bytes;
    }
    brine::Registry registry;
    c.reader(registry);
    check(
        c, [&] { load_file<Root>(c.encoding, file, registry, c.options); }, file, "from a file");
    // ArchiveFileReader names the file the same way.
    if (c.input && c.expect.code != errc::truncated_input) {
      check(
          c,
          [&] {
            brine::ArchiveFileReader reader(file, registry, c.options);
            reader.next<Root>();
          },
          file, "ArchiveFileReader");
    }
    if (c.from_memory) {
      // A memory source is described as one; JSON text read from memory has no source.
      const std::string source = c.encoding == Encoding::json ? "" : "memory buffer";
      check(
          c, [&] { load_memory<Root>(c.encoding, bytes, registry, c.options); }, source,
          "from memory");
    }
  }
}

#ifdef BRINE_CLI_PATH
TEST(ErrorContext, TheToolNamesTheFile) {
  brine_test::TempDir dir;
  int n = 0;
  for (const Case& c : cases()) {
    SCOPED_TRACE(std::string(c.name) + " (" + name_of(c.encoding) + ")");
    const std::string file =
        (dir / ("case" + std::to_string(n++) + "." + name_of(c.encoding))).string();
    if (c.input) std::ofstream(file, std::ios::binary) << c.input();
    if (c.cli == Cli::not_applicable) continue;
    const std::string err = (dir / "stderr").string();
    for (const char* command : {"verify", "convert"}) {
      std::string line =
          std::string("'") + BRINE_CLI_PATH + "' " + command + " '" + file + "'" +
          (std::string(command) == "convert" ? " '" + file + ".out' --to stable" : std::string()) +
          " >/dev/null 2>'" + err + "'";
      int status = std::system(line.c_str());
      std::ifstream in(err);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (c.cli == Cli::accepts) {
        EXPECT_EQ(status, 0) << command << ": " << text;
        continue;
      }
      ASSERT_TRUE(WIFEXITED(status)) << command;
      EXPECT_EQ(WEXITSTATUS(status), 1) << command << ": " << text;
      EXPECT_NE(text.find(file), std::string::npos) << command << ": " << text;
      // verify prefixes the file; convert's only mention is the context's.
      EXPECT_NE(text.find("'" + file + "'"), std::string::npos) << command << ": " << text;
    }
  }
}
#endif

}  // namespace
