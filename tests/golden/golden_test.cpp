// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// golden_test.cpp: archives written by releases 1, 2 and 3 load with today's types, value for
// value.
//
// The files in tests/golden/ were written once by make_golden.cpp and are never regenerated
// (tests/golden/README.md). If a test here fails, the change under test broke archives that
// users already have: fix the change, never the file.

#include <brine/brine.hpp>
#include <brine/types/boost_path.hpp>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;

const fs::path kGoldenDir = BRINE_GOLDEN_DIR;
const fs::path kMigrationsDir = BRINE_MIGRATIONS_DIR;

// ---------------------------------------------------------------------------------------
// Today's program: release 3 is the current version of every type.

double identity(double x) { return x; }
double square(double x) { return x * x; }
double hyperbolic_tangent(double x) { return std::tanh(x); }

enum class Color : std::int16_t { red = -1, green = 2, blue = 300 };
enum class Level : std::uint8_t { low = 0, high = 255 };
enum class Mode : std::int32_t { plain = 0, nesterov = 1 };

struct Inner {
  BRINE_TYPE("golden.Inner", 1);
  std::int32_t a = 0;
  std::string s;
  template <class A>
  void getstate(A& ar) const {
    ar("a", a)("s", s);
  }
  template <class A>
  void setstate(A& ar) {
    ar("a", a)("s", s);
  }
};

struct Shape {
  BRINE_TYPE("golden.Shape", 1);
  virtual ~Shape() = default;
  virtual double area() const = 0;
  std::string name;
  template <class A>
  void getstate(A& ar) const {
    ar("name", name);
  }
  template <class A>
  void setstate(A& ar) {
    ar("name", name);
  }
};

struct Square final : Shape {
  BRINE_TYPE("golden.Square", 1);
  double side = 0;
  double area() const override { return side * side; }
  template <class A>
  void getstate(A& ar) const {
    brine::base<Shape>(ar, *this);
    ar("side", side);
  }
  template <class A>
  void setstate(A& ar) {
    brine::base<Shape>(ar, *this);
    ar("side", side);
  }
};

struct Circle final : Shape {
  BRINE_TYPE("golden.Circle", 1);
  double r = 0;
  double area() const override { return 3 * r * r; }
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

struct Node {
  BRINE_TYPE("golden.Node", 1);
  std::int32_t id = 0;
  std::shared_ptr<Node> next;
  template <class A>
  void getstate(A& ar) const {
    ar("id", id)("next", next);
  }
  template <class A>
  void setstate(A& ar) {
    ar("id", id)("next", next);
  }
};

struct Values {
  BRINE_TYPE("golden.Values", 1);
  bool flag = false;
  std::int8_t i8 = 0;
  std::int16_t i16 = 0;
  std::int32_t i32 = 0;
  std::int64_t i64 = 0;
  std::uint8_t u8 = 0;
  std::uint16_t u16 = 0;
  std::uint32_t u32 = 0;
  std::uint64_t u64 = 0;
  float f32 = 0;
  double f64 = 0;
  double negative_zero = 0;
  char ch = 0;
  Color color = Color::red;
  Level level = Level::low;
  std::string text;
  std::string empty_text;
  std::string control_text;
  std::string long_text;
  std::vector<std::int8_t> i8s;
  std::vector<std::int16_t> i16s;
  std::vector<std::int32_t> i32s;
  std::vector<std::int64_t> i64s;
  std::vector<std::uint8_t> u8s;
  std::vector<std::uint16_t> u16s;
  std::vector<std::uint32_t> u32s;
  std::vector<std::uint64_t> u64s;
  std::vector<float> f32s;
  std::vector<double> f64s;
  std::vector<std::int32_t> empty_ints;
  std::vector<bool> bits;
  std::vector<std::byte> raw;
  std::vector<std::string> strings;
  std::array<double, 3> arr{};
  std::array<std::string, 2> sarr;
  std::deque<std::int16_t> dq;
  std::list<std::string> lst;
  std::map<std::string, std::int32_t> by_name;
  std::map<std::int64_t, std::string> by_int;
  std::unordered_map<std::string, std::int32_t> umap;
  std::set<std::int32_t> set;
  std::unordered_set<std::string> uset;
  std::pair<std::int32_t, std::string> pair;
  std::tuple<std::int8_t, double, std::string> tuple;
  std::optional<std::int32_t> opt_set;
  std::optional<std::string> opt_empty;
  std::variant<std::int32_t, std::string, Inner> var_text;
  std::variant<std::int32_t, std::string, Inner> var_object;
  std::unique_ptr<Inner> up;
  std::unique_ptr<Inner> up_null;
  std::unique_ptr<std::int32_t> up_int;
  std::chrono::milliseconds ms{0};
  std::chrono::hours hours{0};
  std::chrono::duration<double> seconds{0};
  std::chrono::system_clock::time_point tp{};
  std::complex<double> cx;
  std::filesystem::path path;
  std::filesystem::path unicode_path;
  std::filesystem::path empty_path;
  boost::filesystem::path bpath;
  double (*fn)(double) = nullptr;
  double (*fn_null)(double) = nullptr;
  brine::Function<double(double)> callable;
  Inner inner;
  std::vector<Inner> inners;

  template <class A>
  void getstate(A& ar) const {
    fields(ar, *this);
  }
  template <class A>
  void setstate(A& ar) {
    fields(ar, *this);
  }

 private:
  template <class A, class Self>
  static void fields(A& ar, Self& v) {
    ar("flag", v.flag)("i8", v.i8)("i16", v.i16)("i32", v.i32)("i64", v.i64)("u8", v.u8)(
        "u16", v.u16)("u32", v.u32)("u64", v.u64)("f32", v.f32)("f64", v.f64)(
        "negative_zero", v.negative_zero)("ch", v.ch)("color", v.color)("level", v.level)(
        "text", v.text)("empty_text", v.empty_text)("control_text", v.control_text)(
        "long_text", v.long_text)("i8s", v.i8s)("i16s", v.i16s)("i32s", v.i32s)("i64s", v.i64s)(
        "u8s", v.u8s)("u16s", v.u16s)("u32s", v.u32s)("u64s", v.u64s)("f32s", v.f32s)(
        "f64s", v.f64s)("empty_ints", v.empty_ints)("bits", v.bits)("raw", v.raw)(
        "strings", v.strings)("arr", v.arr)("sarr", v.sarr)("dq", v.dq)("lst", v.lst)(
        "by_name", v.by_name)("by_int", v.by_int)("umap", v.umap)("set", v.set)("uset", v.uset)(
        "pair", v.pair)("tuple", v.tuple)("opt_set", v.opt_set)("opt_empty", v.opt_empty)(
        "var_text", v.var_text)("var_object", v.var_object)("up", v.up)("up_null", v.up_null)(
        "up_int", v.up_int)("ms", v.ms)("hours", v.hours)("seconds", v.seconds)("tp", v.tp)(
        "cx", v.cx)("path", v.path)("unicode_path", v.unicode_path)("empty_path", v.empty_path)(
        "bpath", v.bpath)("fn", v.fn)("fn_null", v.fn_null)("callable", v.callable)(
        "inner", v.inner)("inners", v.inners);
  }
};

// Release 1 had fields W and b; release 2 renamed them; release 3 added the activation.
struct Linear {
  BRINE_TYPE("golden.Linear", 3);
  std::vector<float> weights;
  std::vector<double> bias;
  brine::Function<double(double)> activation;
  template <class A>
  void getstate(A& ar) const {
    ar("weights", weights)("bias", bias)("activation", activation);
  }
  template <class A>
  void setstate(A& ar) {
    ar("weights", weights)("bias", bias)("activation", activation);
  }
};

struct Schedule {
  BRINE_TYPE("golden.Schedule", 1);
  double learning_rate = 0;
  double momentum = 0;
  template <class A>
  void getstate(A& ar) const {
    ar("learning_rate", learning_rate)("momentum", momentum);
  }
  template <class A>
  void setstate(A& ar) {
    ar("learning_rate", learning_rate)("momentum", momentum);
  }
};

// Release 1 called it golden.SGD, with epochs and mode in a nested golden.SGDConfig, the
// epochs a double, the mode text, the run id an integer, and a debug flag; release 2 renamed
// it and fixed all that; release 3 moved the rate and momentum into a schedule.
struct Optimizer {
  BRINE_TYPE("golden.Optimizer", 3);
  Schedule schedule;
  std::int64_t epochs = 0;
  Mode mode = Mode::plain;
  std::string run_id;
  template <class A>
  void getstate(A& ar) const {
    ar("schedule", schedule)("epochs", epochs)("mode", mode)("run_id", run_id);
  }
  template <class A>
  void setstate(A& ar) {
    ar("schedule", schedule)("epochs", epochs)("mode", mode)("run_id", run_id);
  }
};

struct Model {
  BRINE_TYPE("golden.Model", 1);
  std::string name;
  std::vector<std::shared_ptr<Linear>> layers;
  std::map<std::string, std::shared_ptr<Linear>> by_name;
  std::unique_ptr<Linear> head;
  std::weak_ptr<Linear> best;
  std::vector<std::shared_ptr<Shape>> shapes;
  std::shared_ptr<Node> ring;
  Optimizer optimizer;
  std::uint64_t steps = 0;
  std::optional<std::string> note;
  template <class A>
  void getstate(A& ar) const {
    ar("name", name)("layers", layers)("by_name", by_name)("head", head)("best", best)(
        "shapes", shapes)("ring", ring)("optimizer", optimizer)("steps", steps)("note", note);
  }
  template <class A>
  void setstate(A& ar) {
    ar("name", name)("layers", layers)("by_name", by_name)("head", head)("best", best)(
        "shapes", shapes)("ring", ring)("optimizer", optimizer)("steps", steps)("note", note);
  }
};

// ---------------------------------------------------------------------------------------
// Today's registry, with the migrations written in C++ or read from migrations/.

enum class Migrations { cpp, files, none };

const char* to_string(Migrations m) {
  return m == Migrations::cpp     ? "C++ migrations"
         : m == Migrations::files ? "migration files"
                                  : "no migrations";
}

brine::Value text_to_mode(const brine::Value& v) {
  if (v.as_text() == "plain") return brine::Value(std::int64_t{0});
  if (v.as_text() == "nesterov") return brine::Value(std::int64_t{1});
  throw brine::MigrationError(brine::errc::migration_failed, "unknown mode '" + v.as_text() + "'");
}

void register_cpp_migrations(brine::Registry& r) {
  namespace m = brine::migrate;
  r.add<Linear>()
      .migration(1, m::sequence({m::rename_field("W", "weights"), m::rename_field("b", "bias")}),
                 "rename W and b to weights and bias")
      .migration(2, m::add_field("activation", brine::Value(brine::FunctionRef{"golden.identity"})),
                 "add activation");
  r.add<Optimizer>()
      .alias("golden.SGD")
      .migration(1,
                 m::sequence({m::move_out_of("config", {}),
                              m::convert_field(
                                  "epochs",
                                  [](const brine::Value& v) { return brine::Value(v.as_int64()); }),
                              m::convert_field("mode", text_to_mode),
                              m::convert_field("run_id",
                                               [](const brine::Value& v) {
                                                 return brine::Value(std::to_string(v.as_int64()));
                                               }),
                              m::remove_field("debug")}),
                 "flatten config, type epochs, mode and run_id, drop debug")
      .migration(2, m::move_into({"learning_rate", "momentum"}, "schedule", "golden.Schedule", 1),
                 "move learning_rate and momentum into schedule");
}

void register_today(brine::Registry& r, Migrations migrations) {
  r.add_function("golden.identity", identity);
  r.add_function("golden.square", square);
  r.add_function("golden.tanh", hyperbolic_tangent);
  r.add<Square>().bases<Shape>();
  r.add<Circle>().bases<Shape>();
  r.add<Node>();
  r.add<Values>();
  r.add<Schedule>();
  r.add<Model>();
  switch (migrations) {
    case Migrations::cpp:
      register_cpp_migrations(r);
      break;
    case Migrations::files:
      r.add<Linear>();
      r.add<Optimizer>();
      r.add_migrations(brine::load_migrations(kMigrationsDir));
      break;
    case Migrations::none:
      r.add<Linear>();
      r.add<Optimizer>();
      break;
  }
}

// ---------------------------------------------------------------------------------------
// Golden files.

struct Format {
  const char* folder;
  const char* extension;
};
const Format kFormats[] = {{"binary", ".brine"}, {"stable", ".cbor"}, {"json", ".archive.json"}};
const char* const kCases[] = {"linear", "values", "model"};
constexpr int kReleases = 3;

fs::path golden_file(const std::string& format, int release, const std::string& name) {
  for (const Format& f : kFormats)
    if (format == f.folder)
      return kGoldenDir / format / ("v" + std::to_string(release)) / (name + f.extension);
  ADD_FAILURE() << "unknown format " << format;
  return {};
}

fs::path rendering_file(const std::string& format, int release, const std::string& name) {
  return kGoldenDir / format / ("v" + std::to_string(release)) / (name + ".json");
}

template <class T>
T load(const std::string& format, const fs::path& file, const brine::Registry& r) {
  if (format == "binary") return brine::load_binary<T>(file, r);
  if (format == "stable") return brine::load_stable<T>(file, r);
  return brine::load_json<T>(file, r);
}

/// The single value of a golden archive, read into the state model with an empty registry.
brine::Value read_state(const std::string& format, const fs::path& file) {
  if (format == "binary") {
    brine::Registry empty;
    brine::FileSource source(file);
    brine::BinaryReader reader(source, empty);
    brine::Value v = reader.read_value();
    EXPECT_TRUE(reader.at_end()) << file << " holds more than one value";
    return v;
  }
  std::vector<brine::Value> values = format == "stable"
                                         ? brine::read_stable_values(brine::read_file(file))
                                         : brine::json_document_values(brine::read_file(file));
  EXPECT_EQ(values.size(), 1u) << file;
  return values.empty() ? brine::Value() : values.front();
}

/// Loads a golden file with today's registry, its migrations written in C++ and read from
/// the migration files (and, for files of the current release, with no migrations at all),
/// and checks each result.
template <class T, class Check>
void load_and_check(const std::string& format, int release, const std::string& name, Check check) {
  fs::path file = golden_file(format, release, name);
  ASSERT_TRUE(fs::exists(file)) << file;
  std::vector<Migrations> modes = {Migrations::cpp, Migrations::files};
  if (release == kReleases) modes.push_back(Migrations::none);
  for (Migrations m : modes) {
    SCOPED_TRACE(file.string() + " with " + to_string(m));
    brine::Registry registry;
    register_today(registry, m);
    T value{};
    try {
      value = load<T>(format, file, registry);
    } catch (const brine::Error& e) {
      ADD_FAILURE() << "today's code cannot load " << file << ": " << e.what();
      continue;
    }
    check(value);
  }
}

// ---------------------------------------------------------------------------------------
// What each release wrote.

void expect_activation(const Linear& l, const char* name, double at, double expected) {
  ASSERT_TRUE(l.activation) << "activation not bound";
  EXPECT_EQ(l.activation.name(), name);
  EXPECT_EQ(l.activation(at), expected);
}

void expect_linear_v1(const Linear& l) {
  EXPECT_EQ(l.weights, (std::vector<float>{1.5f, -2.25f, 0.0f}));
  EXPECT_EQ(l.bias, (std::vector<double>{0.125, -1e-3}));
  expect_activation(l, "golden.identity", 2.5, 2.5);  // added by the v2 -> v3 step
}

void expect_linear_v2(const Linear& l) {
  EXPECT_EQ(l.weights, (std::vector<float>{-0.5f, 8.0f}));
  EXPECT_EQ(l.bias, (std::vector<double>{1e10, -2.0, 0.0}));
  expect_activation(l, "golden.identity", -3.0, -3.0);
}

void expect_linear_v3(const Linear& l) {
  ASSERT_EQ(l.weights.size(), 3u);
  EXPECT_EQ(l.weights[0], 0.75f);
  EXPECT_EQ(l.weights[1], 0.0f);
  EXPECT_TRUE(std::signbit(l.weights[1])) << "-0.0f lost its sign";
  EXPECT_EQ(l.weights[2], 1e-3f);
  EXPECT_EQ(l.bias, (std::vector<double>{-4.0}));
  expect_activation(l, "golden.tanh", 0.5, std::tanh(0.5));
}

void expect_values(const Values& v) {
  using limits64 = std::numeric_limits<std::int64_t>;
  EXPECT_TRUE(v.flag);
  EXPECT_EQ(v.i8, -128);
  EXPECT_EQ(v.i16, -32768);
  EXPECT_EQ(v.i32, std::numeric_limits<std::int32_t>::min());
  EXPECT_EQ(v.i64, limits64::min());
  EXPECT_EQ(v.u8, 255);
  EXPECT_EQ(v.u16, 65535);
  EXPECT_EQ(v.u32, 4294967295u);
  EXPECT_EQ(v.u64, 18446744073709551615ull);
  EXPECT_EQ(v.f32, -1.5f);
  EXPECT_EQ(v.f64, 6.02214076e23);
  EXPECT_EQ(v.negative_zero, 0.0);
  EXPECT_TRUE(std::signbit(v.negative_zero)) << "-0.0 lost its sign";
  EXPECT_EQ(v.ch, 'A');
  EXPECT_EQ(v.color, Color::blue);
  EXPECT_EQ(v.level, Level::high);
  EXPECT_EQ(v.text,
            "h\xC3\xA9llo, w\xC3\xB6rld \xE2\x9C\x93 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x8E\x89");
  EXPECT_EQ(v.empty_text, "");
  static const char kControl[] = "tab\tnewline\nquote\"backslash\\nul\0end\x01";
  EXPECT_EQ(v.control_text, std::string(kControl, sizeof kControl - 1));
  EXPECT_EQ(v.long_text, std::string(300, 'x'));
  EXPECT_EQ(v.i8s, (std::vector<std::int8_t>{-128, -1, 0, 127}));
  EXPECT_EQ(v.i16s, (std::vector<std::int16_t>{-32768, 0, 32767}));
  EXPECT_EQ(v.i32s, (std::vector<std::int32_t>{std::numeric_limits<std::int32_t>::min(), -1, 0, 1,
                                               std::numeric_limits<std::int32_t>::max()}));
  EXPECT_EQ(v.i64s, (std::vector<std::int64_t>{limits64::min(), -1, 0, limits64::max()}));
  EXPECT_EQ(v.u8s, (std::vector<std::uint8_t>{0, 1, 254, 255}));
  EXPECT_EQ(v.u16s, (std::vector<std::uint16_t>{0, 65535}));
  EXPECT_EQ(v.u32s, (std::vector<std::uint32_t>{0, 4294967295u}));
  EXPECT_EQ(v.u64s,
            (std::vector<std::uint64_t>{0, 9223372036854775808ull, 18446744073709551615ull}));
  EXPECT_EQ(v.f32s, (std::vector<float>{0.5f, -0.25f, 3.4028235e38f}));
  ASSERT_EQ(v.f64s.size(), 7u);
  EXPECT_EQ(v.f64s[0], std::numeric_limits<double>::infinity());
  EXPECT_EQ(v.f64s[1], -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(v.f64s[2]));
  EXPECT_EQ(v.f64s[3], 0.0);
  EXPECT_TRUE(std::signbit(v.f64s[3]));
  EXPECT_EQ(v.f64s[4], std::numeric_limits<double>::denorm_min());
  EXPECT_EQ(v.f64s[5], std::numeric_limits<double>::max());
  EXPECT_EQ(v.f64s[6], 0.1);
  EXPECT_TRUE(v.empty_ints.empty());
  EXPECT_EQ(v.bits, (std::vector<bool>{true, false, true, true}));
  EXPECT_EQ(v.raw, (std::vector<std::byte>{std::byte{0}, std::byte{0x7F}, std::byte{0xFF}}));
  EXPECT_EQ(v.strings, (std::vector<std::string>{"a", "", "ccc", "ccc"}));
  EXPECT_EQ(v.arr, (std::array<double, 3>{1.0, -2.5, 1e-300}));
  EXPECT_EQ(v.sarr, (std::array<std::string, 2>{"x", "\xC3\xBC"}));
  EXPECT_EQ(v.dq, (std::deque<std::int16_t>{4, -5}));
  EXPECT_EQ(v.lst, (std::list<std::string>{"l1", "l2"}));
  EXPECT_EQ(v.by_name, (std::map<std::string, std::int32_t>{{"$type", 1}, {"", 2}, {"b", -3}}));
  EXPECT_EQ(v.by_int, (std::map<std::int64_t, std::string>{{-5, "minus five"}, {7, "seven"}}));
  EXPECT_EQ(v.umap, (std::unordered_map<std::string, std::int32_t>{{"only", 1}}));
  EXPECT_EQ(v.set, (std::set<std::int32_t>{1, 2, 3}));
  EXPECT_EQ(v.uset, (std::unordered_set<std::string>{"single"}));
  EXPECT_EQ(v.pair, (std::pair<std::int32_t, std::string>{-1, "p"}));
  EXPECT_EQ(v.tuple, (std::tuple<std::int8_t, double, std::string>{std::int8_t{-2}, 3.5, "t"}));
  EXPECT_EQ(v.opt_set, std::optional<std::int32_t>(42));
  EXPECT_FALSE(v.opt_empty.has_value());
  ASSERT_EQ(v.var_text.index(), 1u);
  EXPECT_EQ(std::get<1>(v.var_text), "v");
  ASSERT_EQ(v.var_object.index(), 2u);
  EXPECT_EQ(std::get<2>(v.var_object).a, 5);
  EXPECT_EQ(std::get<2>(v.var_object).s, "in variant");
  ASSERT_TRUE(v.up);
  EXPECT_EQ(v.up->a, 6);
  EXPECT_EQ(v.up->s, "up");
  EXPECT_FALSE(v.up_null);
  ASSERT_TRUE(v.up_int);
  EXPECT_EQ(*v.up_int, 77);
  EXPECT_EQ(v.ms, std::chrono::milliseconds(-1500));
  EXPECT_EQ(v.hours, std::chrono::hours(48));
  EXPECT_EQ(v.seconds, std::chrono::duration<double>(2.5));
  EXPECT_EQ(v.tp, std::chrono::system_clock::time_point(std::chrono::seconds(1700000000)));
  EXPECT_EQ(v.cx, std::complex<double>(1.5, -2.0));
  EXPECT_EQ(v.path, std::filesystem::path("dir/sub/file.txt"));
  EXPECT_EQ(v.unicode_path.generic_string(),
            "donn\xC3\xA9"
            "es/\xC3\xBC.bin");
  EXPECT_TRUE(v.empty_path.empty());
  EXPECT_EQ(v.bpath, boost::filesystem::path("b/dir"));
  EXPECT_EQ(v.fn, &square);
  EXPECT_EQ(v.fn_null, nullptr);
  ASSERT_TRUE(v.callable);
  EXPECT_EQ(v.callable.name(), "golden.tanh");
  EXPECT_EQ(v.callable(1.0), std::tanh(1.0));
  EXPECT_EQ(v.inner.a, -7);
  EXPECT_EQ(v.inner.s, "inner");
  ASSERT_EQ(v.inners.size(), 2u);
  EXPECT_EQ(v.inners[0].a, 9);
  EXPECT_EQ(v.inners[0].s, "a");
  EXPECT_EQ(v.inners[1].a, 10);
  EXPECT_EQ(v.inners[1].s, "");
}

/// The graph every release wrote around its layers and optimizer.
void expect_graph(Model& m) {
  // The ring is a cycle; break it once checked so the test does not leak it.
  struct BreakRing {
    Model& m;
    ~BreakRing() {
      if (m.ring && m.ring->next) m.ring->next->next.reset();
    }
  } break_ring{m};
  EXPECT_EQ(m.name, "mlp \xE2\x9C\x93");
  ASSERT_EQ(m.layers.size(), 3u);
  ASSERT_TRUE(m.layers[0] && m.layers[1]);
  EXPECT_EQ(m.layers[0], m.layers[2]) << "sharing lost";
  EXPECT_NE(m.layers[0], m.layers[1]);
  ASSERT_EQ(m.by_name.size(), 2u);
  EXPECT_EQ(m.by_name["first"], m.layers[0]);
  EXPECT_EQ(m.by_name["second"], m.layers[1]);
  EXPECT_EQ(m.best.lock(), m.layers[1]);
  ASSERT_TRUE(m.head);
  ASSERT_EQ(m.shapes.size(), 3u);
  EXPECT_EQ(m.shapes[0], m.shapes[2]) << "sharing lost behind a base pointer";
  auto* sq = dynamic_cast<Square*>(m.shapes[0].get());
  auto* ci = dynamic_cast<Circle*>(m.shapes[1].get());
  ASSERT_NE(sq, nullptr);
  ASSERT_NE(ci, nullptr);
  EXPECT_EQ(sq->name, "sq");
  EXPECT_EQ(sq->side, 2.0);
  EXPECT_EQ(ci->name, "ci");
  EXPECT_EQ(ci->r, 0.5);
  ASSERT_TRUE(m.ring);
  EXPECT_EQ(m.ring->id, 1);
  ASSERT_TRUE(m.ring->next);
  EXPECT_EQ(m.ring->next->id, 2);
  EXPECT_EQ(m.ring->next->next, m.ring) << "cycle lost";
  EXPECT_EQ(m.steps, 9223372036854775813ull);
}

void expect_optimizer(const Optimizer& o, double rate, double momentum, std::int64_t epochs,
                      Mode mode, const std::string& run_id) {
  EXPECT_EQ(o.schedule.learning_rate, rate);
  EXPECT_EQ(o.schedule.momentum, momentum);
  EXPECT_EQ(o.epochs, epochs);
  EXPECT_EQ(o.mode, mode);
  EXPECT_EQ(o.run_id, run_id);
}

void expect_model_v1(Model& m) {
  expect_graph(m);
  if (m.layers.size() != 3u || !m.head) return;
  EXPECT_EQ(m.layers[0]->weights, (std::vector<float>{1.0f}));
  EXPECT_EQ(m.layers[0]->bias, (std::vector<double>{-1.0}));
  EXPECT_EQ(m.layers[0]->activation.name(), "golden.identity");
  EXPECT_EQ(m.layers[1]->weights, (std::vector<float>{2.0f, 3.0f}));
  EXPECT_TRUE(m.layers[1]->bias.empty());
  EXPECT_EQ(m.layers[1]->activation.name(), "golden.identity");
  EXPECT_TRUE(m.head->weights.empty());
  EXPECT_EQ(m.head->bias, (std::vector<double>{4.5}));
  EXPECT_EQ(m.head->activation.name(), "golden.identity");
  expect_optimizer(m.optimizer, 0.01, 0.9, 10, Mode::nesterov, "7");
  EXPECT_FALSE(m.note.has_value());
}

void expect_model_v2(Model& m) {
  expect_graph(m);
  if (m.layers.size() != 3u || !m.head) return;
  EXPECT_EQ(m.layers[0]->weights, (std::vector<float>{0.25f}));
  EXPECT_EQ(m.layers[0]->bias, (std::vector<double>{-0.75}));
  EXPECT_EQ(m.layers[0]->activation.name(), "golden.identity");
  EXPECT_TRUE(m.layers[1]->weights.empty());
  EXPECT_EQ(m.layers[1]->bias, (std::vector<double>{6.0}));
  EXPECT_EQ(m.head->weights, (std::vector<float>{-3.0f}));
  EXPECT_TRUE(m.head->bias.empty());
  EXPECT_EQ(m.head->activation.name(), "golden.identity");
  expect_optimizer(m.optimizer, 0.02, 0.8, 20, Mode::plain, "run-2");
  EXPECT_EQ(m.note, std::optional<std::string>("release 2"));
}

void expect_model_v3(Model& m) {
  expect_graph(m);
  if (m.layers.size() != 3u || !m.head) return;
  EXPECT_EQ(m.layers[0]->weights, (std::vector<float>{5.0f}));
  EXPECT_EQ(m.layers[0]->bias, (std::vector<double>{0.5}));
  EXPECT_EQ(m.layers[0]->activation.name(), "golden.tanh");
  EXPECT_EQ(m.layers[1]->weights, (std::vector<float>{6.0f, -6.0f}));
  EXPECT_TRUE(m.layers[1]->bias.empty());
  EXPECT_FALSE(m.layers[1]->activation) << "a null activation was written";
  EXPECT_TRUE(m.head->weights.empty());
  EXPECT_EQ(m.head->bias, (std::vector<double>{7.0}));
  EXPECT_EQ(m.head->activation.name(), "golden.identity");
  expect_optimizer(m.optimizer, 0.03, 0.7, 30, Mode::nesterov, "run-3");
  EXPECT_EQ(m.note, std::optional<std::string>(""));
}

// ---------------------------------------------------------------------------------------
// Loading: every case of every release in every encoding.

TEST(Golden, LoadsLinearV1BinaryIntoV3) {
  load_and_check<Linear>("binary", 1, "linear", expect_linear_v1);
}
TEST(Golden, LoadsLinearV1StableIntoV3) {
  load_and_check<Linear>("stable", 1, "linear", expect_linear_v1);
}
TEST(Golden, LoadsLinearV1JsonIntoV3) {
  load_and_check<Linear>("json", 1, "linear", expect_linear_v1);
}
TEST(Golden, LoadsLinearV2BinaryIntoV3) {
  load_and_check<Linear>("binary", 2, "linear", expect_linear_v2);
}
TEST(Golden, LoadsLinearV2StableIntoV3) {
  load_and_check<Linear>("stable", 2, "linear", expect_linear_v2);
}
TEST(Golden, LoadsLinearV2JsonIntoV3) {
  load_and_check<Linear>("json", 2, "linear", expect_linear_v2);
}
TEST(Golden, LoadsLinearV3BinaryAsWritten) {
  load_and_check<Linear>("binary", 3, "linear", expect_linear_v3);
}
TEST(Golden, LoadsLinearV3StableAsWritten) {
  load_and_check<Linear>("stable", 3, "linear", expect_linear_v3);
}
TEST(Golden, LoadsLinearV3JsonAsWritten) {
  load_and_check<Linear>("json", 3, "linear", expect_linear_v3);
}

TEST(Golden, LoadsValuesV1Binary) { load_and_check<Values>("binary", 1, "values", expect_values); }
TEST(Golden, LoadsValuesV1Stable) { load_and_check<Values>("stable", 1, "values", expect_values); }
TEST(Golden, LoadsValuesV1Json) { load_and_check<Values>("json", 1, "values", expect_values); }
TEST(Golden, LoadsValuesV2Binary) { load_and_check<Values>("binary", 2, "values", expect_values); }
TEST(Golden, LoadsValuesV2Stable) { load_and_check<Values>("stable", 2, "values", expect_values); }
TEST(Golden, LoadsValuesV2Json) { load_and_check<Values>("json", 2, "values", expect_values); }
TEST(Golden, LoadsValuesV3Binary) { load_and_check<Values>("binary", 3, "values", expect_values); }
TEST(Golden, LoadsValuesV3Stable) { load_and_check<Values>("stable", 3, "values", expect_values); }
TEST(Golden, LoadsValuesV3Json) { load_and_check<Values>("json", 3, "values", expect_values); }

TEST(Golden, LoadsModelV1BinaryIntoV3) {
  load_and_check<Model>("binary", 1, "model", expect_model_v1);
}
TEST(Golden, LoadsModelV1StableIntoV3) {
  load_and_check<Model>("stable", 1, "model", expect_model_v1);
}
TEST(Golden, LoadsModelV1JsonIntoV3) { load_and_check<Model>("json", 1, "model", expect_model_v1); }
TEST(Golden, LoadsModelV2BinaryIntoV3) {
  load_and_check<Model>("binary", 2, "model", expect_model_v2);
}
TEST(Golden, LoadsModelV2StableIntoV3) {
  load_and_check<Model>("stable", 2, "model", expect_model_v2);
}
TEST(Golden, LoadsModelV2JsonIntoV3) { load_and_check<Model>("json", 2, "model", expect_model_v2); }
TEST(Golden, LoadsModelV3BinaryAsWritten) {
  load_and_check<Model>("binary", 3, "model", expect_model_v3);
}
TEST(Golden, LoadsModelV3StableAsWritten) {
  load_and_check<Model>("stable", 3, "model", expect_model_v3);
}
TEST(Golden, LoadsModelV3JsonAsWritten) {
  load_and_check<Model>("json", 3, "model", expect_model_v3);
}

// ---------------------------------------------------------------------------------------
// The state-model encoding is frozen too: each archive, read without any C++ type, renders
// exactly as the JSON committed next to it.

void expect_renderings(const std::string& format) {
  for (int release = 1; release <= kReleases; ++release) {
    for (const char* name : kCases) {
      fs::path file = golden_file(format, release, name);
      SCOPED_TRACE(file.string());
      try {
        std::string expected = brine::read_file(rendering_file(format, release, name));
        EXPECT_EQ(brine::to_json(read_state(format, file)) + "\n", expected);
      } catch (const brine::Error& e) {
        ADD_FAILURE() << e.what();
      }
    }
  }
}

TEST(Golden, RendersEveryBinaryFileAsItsFrozenJson) { expect_renderings("binary"); }
TEST(Golden, RendersEveryStableFileAsItsFrozenJson) { expect_renderings("stable"); }
TEST(Golden, RendersEveryJsonDocumentAsItsFrozenJson) { expect_renderings("json"); }

// The stable format's promise, on the frozen files: an independent CBOR decoder (Python's
// cbor2, through tests/support/cbor_check.py) reads each one as the committed rendering.
TEST(Golden, IndependentCborDecoderReadsEveryStableFile) {
  ASSERT_STRNE(BRINE_PYTHON_WITH_CBOR2, "")
      << "no Python interpreter with cbor2 was found at configure time: install python3-cbor2";
  brine_test::TempDir dir;
  for (int release = 1; release <= kReleases; ++release) {
    for (const char* name : kCases) {
      // cbor_check.py compares the archive's list of values with a JSON list of renderings.
      fs::path expected = dir / (std::string(name) + std::to_string(release) + ".json");
      brine::write_file_atomically(
          expected, "[" + brine::read_file(rendering_file("stable", release, name)) + "]");
      std::string command = std::string(BRINE_PYTHON_WITH_CBOR2) + " " + BRINE_CBOR_CHECK_SCRIPT +
                            " " + golden_file("stable", release, name).string() + " " +
                            expected.string();
      EXPECT_EQ(std::system(command.c_str()), 0) << command;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Release 4: tensors (binary format version 2, docs/format/binary-v1.md §13; stable §4.1).
// The type and the values as make_golden.cpp's v4 wrote them.

struct Tensors {
  BRINE_TYPE("golden.Tensors", 1);
  std::vector<brine::Tensor> every_dtype;
  brine::Tensor scalar, empty, weight, tied, row;
  template <class A>
  void getstate(A& ar) const {
    ar("every_dtype", every_dtype)("scalar", scalar)("empty", empty)("weight", weight)(
        "tied", tied)("row", row);
  }
  template <class A>
  void setstate(A& ar) {
    ar("every_dtype", every_dtype)("scalar", scalar)("empty", empty)("weight", weight)(
        "tied", tied)("row", row);
  }
};

brine::Tensor expected_tensor(brine::DType dtype, std::vector<std::int64_t> shape, unsigned seed) {
  brine::Tensor t(dtype, std::move(shape));
  for (std::size_t i = 0; i < t.nbytes(); ++i) {
    unsigned b = (static_cast<unsigned>(i) * 37 + seed) & 0xFF;
    t.mutable_bytes()[i] = static_cast<std::byte>(dtype == brine::DType::boolean ? b & 1 : b);
  }
  return t;
}

void expect_tensors(const Tensors& t) {
  ASSERT_EQ(t.every_dtype.size(), brine::kDTypeCount);
  for (std::size_t d = 0; d < brine::kDTypeCount; ++d)
    EXPECT_TRUE(t.every_dtype[d] ==
                expected_tensor(static_cast<brine::DType>(d), {2, 3}, static_cast<unsigned>(d)))
        << brine::dtype_name(static_cast<brine::DType>(d));
  EXPECT_TRUE(t.scalar == expected_tensor(brine::DType::float64, {}, 100));
  EXPECT_TRUE(t.empty == expected_tensor(brine::DType::int32, {0, 5}, 101));
  brine::Tensor weight = expected_tensor(brine::DType::float32, {4, 8}, 102);
  EXPECT_TRUE(t.weight == weight);
  EXPECT_TRUE(t.tied == weight);
  EXPECT_TRUE(t.row == weight.view_storage(brine::DType::float32, {8}, 64));
}

TEST(Golden, LoadsTensorsV4BinaryMappedWithSharedStorage) {
  brine::Registry registry;
  registry.add<Tensors>();
  Tensors t = brine::load_binary<Tensors>(golden_file("binary", 4, "tensors"), registry);
  expect_tensors(t);
  EXPECT_TRUE(t.weight.is_mapped());
  EXPECT_EQ(t.weight.storage_id(), t.tied.storage_id());
  EXPECT_EQ(t.weight.storage_id(), t.row.storage_id());
  EXPECT_EQ(t.row.storage_offset(), t.weight.storage_offset() + 64);
}
TEST(Golden, LoadsTensorsV4Stable) {
  brine::Registry registry;
  registry.add<Tensors>();
  expect_tensors(brine::load_stable<Tensors>(golden_file("stable", 4, "tensors"), registry));
}
TEST(Golden, LoadsTensorsV4Json) {
  brine::Registry registry;
  registry.add<Tensors>();
  expect_tensors(brine::load_json<Tensors>(golden_file("json", 4, "tensors"), registry));
}
TEST(Golden, RendersTensorsV4AsItsFrozenJson) {
  for (const Format& f : kFormats) {
    fs::path file = golden_file(f.folder, 4, "tensors");
    SCOPED_TRACE(file.string());
    EXPECT_EQ(brine::to_json(read_state(f.folder, file)) + "\n",
              brine::read_file(rendering_file(f.folder, 4, "tensors")));
  }
}
TEST(Golden, IndependentCborDecoderReadsTensorsV4) {
  ASSERT_STRNE(BRINE_PYTHON_WITH_CBOR2, "");
  brine_test::TempDir dir;
  fs::path expected = dir / "tensors.json";
  brine::write_file_atomically(
      expected, "[" + brine::read_file(rendering_file("stable", 4, "tensors")) + "]");
  std::string command = std::string(BRINE_PYTHON_WITH_CBOR2) + " " + BRINE_CBOR_CHECK_SCRIPT + " " +
                        golden_file("stable", 4, "tensors").string() + " " + expected.string();
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
}

// A lost folder or file must fail, not shrink the test: the count only ever grows.
TEST(Golden, FindsEveryGoldenFile) {
  std::size_t archives = 0, renderings = 0;
  for (const auto& entry : fs::recursive_directory_iterator(kGoldenDir)) {
    if (!entry.is_regular_file()) continue;
    // The golden bundle and checkpoint directories are bundle_golden_test's and
    // checkpoint_golden_test's, and the other libraries' archives under legacy/ are the
    // interop tests' (cereal_legacy_test, boost_legacy_test): each checks its own files.
    fs::path top = *entry.path().lexically_relative(kGoldenDir).begin();
    if (top == "bundle" || top == "checkpoint" || top == "legacy") continue;
    std::string name = entry.path().filename().string();
    auto ends_with = [&name](const std::string& tail) {
      return name.size() >= tail.size() &&
             name.compare(name.size() - tail.size(), tail.size(), tail) == 0;
    };
    if (ends_with(".brine") || ends_with(".cbor") || ends_with(".archive.json"))
      ++archives;
    else if (ends_with(".json"))
      ++renderings;
  }
  EXPECT_EQ(archives, 30u);  // v1 to v3: 3 cases x 3 formats; v4: "tensors" x 3
  EXPECT_EQ(renderings, 30u);
  for (const Format& f : kFormats)
    for (int release = 1; release <= kReleases; ++release)
      for (const char* name : kCases) {
        EXPECT_TRUE(fs::exists(golden_file(f.folder, release, name)))
            << golden_file(f.folder, release, name);
        EXPECT_TRUE(fs::exists(rendering_file(f.folder, release, name)))
            << rendering_file(f.folder, release, name);
      }
}

// The rejection sibling of the loads above: without its migrations, today's code refuses a
// release 1 file with a typed error naming the field it lacks, in every encoding.
TEST(Golden, RefusesV1FilesWithoutMigrationsNamingTheField) {
  brine::Registry registry;
  register_today(registry, Migrations::none);
  for (const Format& f : kFormats) {
    SCOPED_TRACE(f.folder);
    EXPECT_THROW_WITH(load<Linear>(f.folder, golden_file(f.folder, 1, "linear"), registry),
                      brine::SchemaError, "'weights'");
  }
}

}  // namespace
