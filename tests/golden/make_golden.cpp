// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// make_golden.cpp: wrote the golden archives of tests/golden/ once; kept as their record.
//
// The types below are the sample program as releases 1, 2 and 3 defined it, side by side,
// each release with its own Registry. They are history: never edit them. To freeze a new
// case, add new types or a new release here and run the generator again; it writes the
// files that are missing and refuses to touch the ones that exist (tests/golden/README.md).

#include <brine/brine.hpp>
#include <brine/types/boost_path.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <string>
#include <utility>

namespace golden {

namespace fs = std::filesystem;

// Registered functions: every release registers the same names.
double identity(double x) { return x; }
double square(double x) { return x * x; }
double hyperbolic_tangent(double x) { return std::tanh(x); }

void register_functions(brine::Registry& r) {
  r.add_function("golden.identity", identity);
  r.add_function("golden.square", square);
  r.add_function("golden.tanh", hyperbolic_tangent);
}

enum class Color : std::int16_t { red = -1, green = 2, blue = 300 };
enum class Level : std::uint8_t { low = 0, high = 255 };

// ---------------------------------------------------------------------------------------
// Types no release changed.

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

/// One field of every value kind the library has, with edge values, so that the golden
/// files freeze the encoding of each.
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
  std::vector<double> f64s;  // infinities, NaN, -0.0, the smallest subnormal, the largest
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
  std::unordered_map<std::string, std::int32_t> umap;  // one entry: its order is fixed
  std::set<std::int32_t> set;
  std::unordered_set<std::string> uset;  // one element
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

Values make_values(const brine::Registry& registry) {
  using limits64 = std::numeric_limits<std::int64_t>;
  Values v;
  v.flag = true;
  v.i8 = -128;
  v.i16 = -32768;
  v.i32 = std::numeric_limits<std::int32_t>::min();
  v.i64 = limits64::min();
  v.u8 = 255;
  v.u16 = 65535;
  v.u32 = 4294967295u;
  v.u64 = 18446744073709551615ull;
  v.f32 = -1.5f;
  v.f64 = 6.02214076e23;
  v.negative_zero = -0.0;
  v.ch = 'A';
  v.color = Color::blue;
  v.level = Level::high;
  v.text = "h\xC3\xA9llo, w\xC3\xB6rld \xE2\x9C\x93 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x8E\x89";
  static const char kControl[] = "tab\tnewline\nquote\"backslash\\nul\0end\x01";
  v.control_text = std::string(kControl, sizeof kControl - 1);  // the NUL included
  v.long_text = std::string(300, 'x');
  v.i8s = {-128, -1, 0, 127};
  v.i16s = {-32768, 0, 32767};
  v.i32s = {std::numeric_limits<std::int32_t>::min(), -1, 0, 1,
            std::numeric_limits<std::int32_t>::max()};
  v.i64s = {limits64::min(), -1, 0, limits64::max()};
  v.u8s = {0, 1, 254, 255};
  v.u16s = {0, 65535};
  v.u32s = {0, 4294967295u};
  v.u64s = {0, 9223372036854775808ull, 18446744073709551615ull};
  v.f32s = {0.5f, -0.25f, 3.4028235e38f};
  v.f64s = {std::numeric_limits<double>::infinity(),
            -std::numeric_limits<double>::infinity(),
            std::numeric_limits<double>::quiet_NaN(),
            -0.0,
            std::numeric_limits<double>::denorm_min(),
            std::numeric_limits<double>::max(),
            0.1};
  v.bits = {true, false, true, true};
  v.raw = {std::byte{0}, std::byte{0x7F}, std::byte{0xFF}};
  v.strings = {"a", "", "ccc", "ccc"};
  v.arr = {1.0, -2.5, 1e-300};
  v.sarr = {"x", "\xC3\xBC"};
  v.dq = {4, -5};
  v.lst = {"l1", "l2"};
  v.by_name = {{"$type", 1}, {"", 2}, {"b", -3}};
  v.by_int = {{-5, "minus five"}, {7, "seven"}};
  v.umap = {{"only", 1}};
  v.set = {3, 1, 2};
  v.uset = {"single"};
  v.pair = {-1, "p"};
  v.tuple = {std::int8_t{-2}, 3.5, "t"};
  v.opt_set = 42;
  v.var_text = std::string("v");
  v.var_object = Inner{5, "in variant"};
  v.up = std::make_unique<Inner>(Inner{6, "up"});
  v.up_int = std::make_unique<std::int32_t>(77);
  v.ms = std::chrono::milliseconds(-1500);
  v.hours = std::chrono::hours(48);
  v.seconds = std::chrono::duration<double>(2.5);
  v.tp = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  v.cx = {1.5, -2.0};
  v.path = "dir/sub/file.txt";
  v.unicode_path =
      "donn\xC3\xA9"
      "es/\xC3\xBC.bin";
  v.bpath = "b/dir";
  v.fn = square;
  v.callable = brine::Function<double(double)>("golden.tanh", registry);
  v.inner = Inner{-7, "inner"};
  v.inners = {Inner{9, "a"}, Inner{10, ""}};
  return v;
}

/// The model around the versioned types: sharing (a layer twice, a weak pointer, a map of
/// shared pointers), an owned pointer, polymorphic pointers, a cycle, and the optimizer by
/// value. Its own version never changed; the types it holds did.
template <class Linear, class Optimizer>
struct ModelOf {
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

template <class Model>
void fill_graph(Model& m) {
  m.name = "mlp \xE2\x9C\x93";
  m.by_name = {{"first", m.layers[0]}, {"second", m.layers[1]}};
  m.best = m.layers[1];
  auto square = std::make_shared<Square>();
  square->name = "sq";
  square->side = 2;
  auto circle = std::make_shared<Circle>();
  circle->name = "ci";
  circle->r = 0.5;
  m.shapes = {square, circle, square};
  auto a = std::make_shared<Node>();
  auto b = std::make_shared<Node>();
  a->id = 1;
  b->id = 2;
  a->next = b;
  b->next = a;  // a cycle: broken in main() once written
  m.ring = a;
  m.steps = 9223372036854775813ull;
}

template <class Model>
void break_cycle(Model& m) {
  m.ring->next->next.reset();
}

void register_common(brine::Registry& r) {
  register_functions(r);
  r.add<Square>().bases<Shape>();
  r.add<Circle>().bases<Shape>();
  r.add<Node>();
  r.add<Values>();
}

// ---------------------------------------------------------------------------------------
// Release 1.

namespace v1 {

struct Linear {
  BRINE_TYPE("golden.Linear", 1);
  std::vector<float> W;
  std::vector<double> b;
  template <class A>
  void getstate(A& ar) const {
    ar("W", W)("b", b);
  }
  template <class A>
  void setstate(A& ar) {
    ar("W", W)("b", b);
  }
};

struct SGDConfig {
  BRINE_TYPE("golden.SGDConfig", 1);
  double epochs = 0;  // a double by mistake: release 2 makes it an integer
  std::string mode;   // "plain" or "nesterov": release 2 makes it an enum
  template <class A>
  void getstate(A& ar) const {
    ar("epochs", epochs)("mode", mode);
  }
  template <class A>
  void setstate(A& ar) {
    ar("epochs", epochs)("mode", mode);
  }
};

struct SGD {
  BRINE_TYPE("golden.SGD", 1);
  double learning_rate = 0;
  double momentum = 0;
  SGDConfig config;
  std::int64_t run_id = 0;
  bool debug = false;
  template <class A>
  void getstate(A& ar) const {
    ar("learning_rate", learning_rate)("momentum", momentum)("config", config)("run_id", run_id)(
        "debug", debug);
  }
  template <class A>
  void setstate(A& ar) {
    ar("learning_rate", learning_rate)("momentum", momentum)("config", config)("run_id", run_id)(
        "debug", debug);
  }
};

using Model = ModelOf<Linear, SGD>;

Linear make_linear() { return Linear{{1.5f, -2.25f, 0.0f}, {0.125, -1e-3}}; }

Model make_model() {
  Model m;
  m.layers = {std::make_shared<Linear>(Linear{{1.0f}, {-1.0}}),
              std::make_shared<Linear>(Linear{{2.0f, 3.0f}, {}})};
  m.layers.push_back(m.layers[0]);
  m.head = std::make_unique<Linear>(Linear{{}, {4.5}});
  m.optimizer = SGD{0.01, 0.9, SGDConfig{10.0, "nesterov"}, 7, true};
  fill_graph(m);
  return m;
}

void register_types(brine::Registry& r) {
  register_common(r);
  r.add<Linear>();
  r.add<SGD>();
  r.add<Model>();
}

}  // namespace v1

// ---------------------------------------------------------------------------------------
// Release 2: Linear's W and b renamed to weights and bias; golden.SGD renamed to
// golden.Optimizer, its config's fields moved up and given proper types, debug dropped.

namespace v2 {

struct Linear {
  BRINE_TYPE("golden.Linear", 2);
  std::vector<float> weights;
  std::vector<double> bias;
  template <class A>
  void getstate(A& ar) const {
    ar("weights", weights)("bias", bias);
  }
  template <class A>
  void setstate(A& ar) {
    ar("weights", weights)("bias", bias);
  }
};

enum class Mode : std::int32_t { plain = 0, nesterov = 1 };

struct Optimizer {
  BRINE_TYPE("golden.Optimizer", 2);
  double learning_rate = 0;
  double momentum = 0;
  std::int64_t epochs = 0;
  Mode mode = Mode::plain;
  std::string run_id;
  template <class A>
  void getstate(A& ar) const {
    ar("learning_rate", learning_rate)("momentum", momentum)("epochs", epochs)("mode", mode)(
        "run_id", run_id);
  }
  template <class A>
  void setstate(A& ar) {
    ar("learning_rate", learning_rate)("momentum", momentum)("epochs", epochs)("mode", mode)(
        "run_id", run_id);
  }
};

using Model = ModelOf<Linear, Optimizer>;

Linear make_linear() { return Linear{{-0.5f, 8.0f}, {1e10, -2.0, 0.0}}; }

Model make_model() {
  Model m;
  m.layers = {std::make_shared<Linear>(Linear{{0.25f}, {-0.75}}),
              std::make_shared<Linear>(Linear{{}, {6.0}})};
  m.layers.push_back(m.layers[0]);
  m.head = std::make_unique<Linear>(Linear{{-3.0f}, {}});
  m.optimizer = Optimizer{0.02, 0.8, 20, Mode::plain, "run-2"};
  fill_graph(m);
  m.note = "release 2";
  return m;
}

void register_types(brine::Registry& r) {
  register_common(r);
  r.add<Linear>();
  r.add<Optimizer>().alias("golden.SGD");
  r.add<Model>();
}

}  // namespace v2

// ---------------------------------------------------------------------------------------
// Release 3: Linear gained an activation function; the optimizer's learning rate and
// momentum moved into a nested schedule.

namespace v3 {

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

using v2::Mode;

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

using Model = ModelOf<Linear, Optimizer>;

Linear make_linear(const brine::Registry& r) {
  return Linear{{0.75f, -0.0f, 1e-3f}, {-4.0}, brine::Function<double(double)>("golden.tanh", r)};
}

Model make_model(const brine::Registry& r) {
  Model m;
  m.layers = {std::make_shared<Linear>(
                  Linear{{5.0f}, {0.5}, brine::Function<double(double)>("golden.tanh", r)}),
              std::make_shared<Linear>(Linear{{6.0f, -6.0f}, {}, {}})};
  m.layers.push_back(m.layers[0]);
  m.head = std::make_unique<Linear>(
      Linear{{}, {7.0}, brine::Function<double(double)>("golden.identity", r)});
  m.optimizer = Optimizer{Schedule{0.03, 0.7}, 30, Mode::nesterov, "run-3"};
  fill_graph(m);
  m.note = "";
  return m;
}

void register_types(brine::Registry& r) {
  register_common(r);
  r.add<Linear>();
  r.add<Schedule>();
  r.add<Optimizer>().alias("golden.SGD");
  r.add<Model>();
}

}  // namespace v3

// Release 4 adds tensors (binary format version 2, docs/format/binary-v1.md §13; stable
// §4.1): one new case, "tensors", in every encoding.
namespace v4 {

struct Tensors {
  BRINE_TYPE("golden.Tensors", 1);
  std::vector<brine::Tensor> every_dtype;  // one per dtype, shape {2, 3}
  brine::Tensor scalar;                    // rank 0
  brine::Tensor empty;                     // shape {0, 5}
  brine::Tensor weight;                    // float32 {4, 8}
  brine::Tensor tied;                      // the same storage as weight
  brine::Tensor row;                       // weight's third row: a view at offset 64
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

/// A tensor whose byte i is (i * 37 + seed) & 0xFF (0 or 1 for bool).
brine::Tensor patterned(brine::DType dtype, std::vector<std::int64_t> shape, unsigned seed) {
  brine::Tensor t(dtype, std::move(shape));
  for (std::size_t i = 0; i < t.nbytes(); ++i) {
    unsigned b = (static_cast<unsigned>(i) * 37 + seed) & 0xFF;
    t.mutable_bytes()[i] = static_cast<std::byte>(dtype == brine::DType::boolean ? b & 1 : b);
  }
  return t;
}

Tensors make_tensors() {
  Tensors t;
  for (std::size_t d = 0; d < brine::kDTypeCount; ++d)
    t.every_dtype.push_back(
        patterned(static_cast<brine::DType>(d), {2, 3}, static_cast<unsigned>(d)));
  t.scalar = patterned(brine::DType::float64, {}, 100);
  t.empty = patterned(brine::DType::int32, {0, 5}, 101);
  t.weight = patterned(brine::DType::float32, {4, 8}, 102);
  t.tied = t.weight;
  t.row = t.weight.view_storage(brine::DType::float32, {8}, 64);
  return t;
}

void register_types(brine::Registry& r) {
  register_functions(r);
  r.add<Tensors>();
}

}  // namespace v4

// ---------------------------------------------------------------------------------------

int written = 0, kept = 0;

/// Writes `make(path)` unless `path` exists: a golden file is never rewritten.
template <class Make>
void write_once(const fs::path& path, Make make) {
  if (fs::exists(path)) {
    std::printf("kept     %s\n", path.string().c_str());
    ++kept;
    return;
  }
  fs::create_directories(path.parent_path());
  make(path);
  std::printf("written  %s\n", path.string().c_str());
  ++written;
}

/// Writes one case of one release in every encoding, each with its expected rendering.
template <class T>
void write_case(const fs::path& root, int release, const std::string& name, const T& value,
                brine::Registry& registry) {
  std::string version = "v" + std::to_string(release);
  std::string rendering = brine::to_json(brine::to_state(value, registry)) + "\n";
  struct Format {
    const char* folder;
    const char* extension;
  };
  for (Format f :
       {Format{"binary", ".brine"}, Format{"stable", ".cbor"}, Format{"json", ".archive.json"}}) {
    fs::path dir = root / f.folder / version;
    write_once(dir / (name + f.extension), [&](const fs::path& p) {
      if (std::string(f.folder) == "binary")
        brine::save_binary(p, value, registry);
      else if (std::string(f.folder) == "stable")
        brine::save_stable(p, value, registry);
      else
        brine::save_json(p, value, registry);
    });
    write_once(dir / (name + ".json"),
               [&](const fs::path& p) { brine::write_file_atomically(p, rendering); });
  }
}

int run(const fs::path& root) {
  {
    brine::Registry r;
    v1::register_types(r);
    write_case(root, 1, "linear", v1::make_linear(), r);
    write_case(root, 1, "values", make_values(r), r);
    v1::Model m = v1::make_model();
    write_case(root, 1, "model", m, r);
    break_cycle(m);
  }
  {
    brine::Registry r;
    v2::register_types(r);
    write_case(root, 2, "linear", v2::make_linear(), r);
    write_case(root, 2, "values", make_values(r), r);
    v2::Model m = v2::make_model();
    write_case(root, 2, "model", m, r);
    break_cycle(m);
  }
  {
    brine::Registry r;
    v3::register_types(r);
    write_case(root, 3, "linear", v3::make_linear(r), r);
    write_case(root, 3, "values", make_values(r), r);
    v3::Model m = v3::make_model(r);
    write_case(root, 3, "model", m, r);
    break_cycle(m);
  }
  {
    brine::Registry r;
    v4::register_types(r);
    write_case(root, 4, "tensors", v4::make_tensors(), r);
  }
  std::printf("%d written, %d kept\n", written, kept);
  return 0;
}

}  // namespace golden

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_golden GOLDEN_DIR   (e.g. make_golden tests/golden)\n");
    return 2;
  }
  try {
    return golden::run(argv[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_golden: %s\n", e.what());
    return 1;
  }
}
