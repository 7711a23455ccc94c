// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// stable_corruption_test.cpp: small stable archives truncated at every offset and with every
// bit flipped, loaded through the typed StableReader::read<T> (the direct decoder and its
// fallback to the state model) from memory and stream sources: each load throws a typed
// brine error or loads, never crashes, and never leaves the caller's object partly filled.
// Also: chains of tags, and the bound on bytes read from a stream.

#include <brine/brine.hpp>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "hostile_support.hpp"
#include "hostile_types.hpp"
#include "test_util.hpp"

namespace {

using hostile::Outcome;
using hostile::Via;

using ReadAll = std::function<bool(brine::StableReader&)>;
/// How reading the first value of a document ended, as text that two reads compare: the
/// value written again as a stable archive (equal bytes, equal values, NaNs included), or
/// the error's code and message. `one_pass`: StableReader::read_first (from_stable), else
/// a StableReader's read.
using ReadFirst =
    std::function<std::string(const std::string&, const brine::LoadOptions&, bool one_pass)>;

struct Case {
  std::string name;
  std::string bytes;
  const brine::Registry* registry;
  ReadAll read_all;
  std::size_t read_directly;  // values the pristine archive loads without the state model
  ReadFirst read_first;
};

brine::Registry& plain_registry() {
  static brine::Registry r;
  return r;
}
brine::Registry& graph_registry() {
  static brine::Registry r;
  static const bool once = (hostile::register_graph(r), true);
  (void)once;
  return r;
}
brine::Registry& v3_registry() {
  static brine::Registry r;
  static const bool once = (hostile::register_v3_account(r), true);
  (void)once;
  return r;
}

std::string stable_of(brine::Registry& registry,
                      const std::function<void(brine::StableWriter&)>& write) {
  brine::Buffer out;
  brine::BufferSink sink(out);
  brine::StableWriter writer(sink, registry);
  write(writer);
  writer.finish();
  return std::string(out.view());
}

// Loads that failed but changed the caller's object: StableReader::read(T&) must leave it
// as it was.
int& partly_filled() {
  static int n = 0;
  return n;
}

hostile::Doc sentinel_doc() {
  hostile::Doc d;
  d.title = "SENTINEL";
  d.tags = {"keep"};
  d.origin = hostile::Point{42, 42};
  return d;
}

/// Reads a Doc into a variable that already holds something; checks that a failed read
/// leaves it unchanged.
bool read_doc(brine::StableReader& r) {
  hostile::Doc target = sentinel_doc();
  try {
    r.read(target);
  } catch (...) {
    if (!(target == sentinel_doc())) ++partly_filled();
    throw;
  }
  return target == hostile::make_doc();
}

template <class T>
ReadFirst read_first_as(
    brine::Registry& registry, std::function<void(T&)> dismantle = [](T&) {}) {
  return [&registry, dismantle](const std::string& bytes, const brine::LoadOptions& options,
                                bool one_pass) -> std::string {
    T value;
    try {
      if (one_pass) {
        value = brine::from_stable<T>(bytes, registry, options);
      } else {
        brine::MemorySource source(bytes);
        brine::StableReader reader(source, registry, options);
        value = reader.read<T>();
      }
    } catch (const brine::Error& e) {
      return "error " + std::to_string(static_cast<int>(e.code())) + " " + e.what();
    }
    std::string written = "value " + std::string(brine::to_stable(value, registry).view());
    dismantle(value);
    return written;
  };
}

std::vector<Case> build_cases() {
  std::vector<Case> cases;
  std::string doc =
      stable_of(plain_registry(), [](brine::StableWriter& w) { w.write(hostile::make_doc()); });
  cases.push_back({"document", doc, &plain_registry(), read_doc, 1,
                   read_first_as<hostile::Doc>(plain_registry())});

  brine::Registry writer_graph;
  hostile::register_graph(writer_graph);
  hostile::Graph g = hostile::make_graph();
  std::string graph = stable_of(writer_graph, [&](brine::StableWriter& w) { w.write(g); });
  hostile::dismantle(g);
  cases.push_back({"polymorphic graph with cycles", graph, &graph_registry(),
                   [](brine::StableReader& r) {
                     hostile::Graph loaded = r.read<hostile::Graph>();
                     bool same = hostile::is_original_graph(loaded);
                     hostile::dismantle(loaded);
                     return same;
                   },
                   1, read_first_as<hostile::Graph>(graph_registry(), [](hostile::Graph& g) {
                     hostile::dismantle(g);
                   })});

  std::string several = stable_of(plain_registry(), [](brine::StableWriter& w) {
    w.write(hostile::make_doc());
    w.write(std::string("second, a text long enough for the table"));
    w.write(std::vector<double>{1.5, -2});
    w.write(hostile::Point{3, 4});
    w.write(std::map<std::string, std::int32_t>{{"TITLE-MARKER", 1}, {"l", -1}});
  });
  cases.push_back(
      {"several values in one document", several, &plain_registry(),
       [](brine::StableReader& r) {
         bool same = read_doc(r);
         same = r.read<std::string>() == "second, a text long enough for the table" && same;
         same = r.read<std::vector<double>>() == std::vector<double>{1.5, -2} && same;
         same = r.read<hostile::Point>() == hostile::Point{3, 4} && same;
         same = r.read<std::map<std::string, std::int32_t>>() ==
                    std::map<std::string, std::int32_t>{{"TITLE-MARKER", 1}, {"l", -1}} &&
                same;
         return same;
       },
       5, read_first_as<hostile::Doc>(plain_registry())});

  // The ledger is read directly until its first account, of an older version: then the
  // whole value goes through the state model and the migrations.
  brine::Registry writer_v1;
  std::string old =
      stable_of(writer_v1, [](brine::StableWriter& w) { w.write(hostile::make_old_ledger()); });
  cases.push_back({"older class version through migrations", old, &v3_registry(),
                   [](brine::StableReader& r) {
                     return hostile::is_upgraded_ledger(r.read<hostile::Ledger>());
                   },
                   0, read_first_as<hostile::Ledger>(v3_registry())});
  return cases;
}

const std::vector<Case>& cases() {
  static const std::vector<Case> all = build_cases();
  return all;
}

/// Reads every value of `bytes` with `read_all` and requires the end of the document after
/// them; records how the load ended (exceptions that are not brine's are recorded, not
/// rethrown, so the caller can name the offending input).
Outcome run_load(const std::string& bytes, Via via, const Case& c,
                 const brine::LoadOptions& options, std::size_t* read_directly = nullptr) {
  Outcome o;
  try {
    auto load = [&](brine::ByteSource& source) {
      brine::StableReader reader(source, *c.registry, options);
      bool same = c.read_all(reader) && reader.at_end();
      if (read_directly != nullptr) *read_directly = reader.values_read_directly();
      return same;
    };
    bool same;
    if (via == Via::memory) {
      brine::MemorySource source(bytes);
      same = load(source);
    } else {
      std::istringstream stream(bytes);
      brine::StreamSource source(stream);
      same = load(source);
    }
    o.kind = same ? Outcome::loaded_same : Outcome::loaded_different;
  } catch (const brine::Error& e) {
    o.kind = Outcome::brine_error;
    o.code = e.code();
    o.what = e.what();
    o.type = hostile::type_name(typeid(e));
    o.byte_offset = e.context().byte_offset;
    o.internal = dynamic_cast<const brine::InternalError*>(&e) != nullptr;
  } catch (const std::exception& e) {
    o.kind = Outcome::foreign_exception;
    o.what = e.what();
    o.type = hostile::type_name(typeid(e));
  }
  return o;
}

brine::LoadOptions without_checksums() {
  brine::LoadOptions o;
  o.verify_checksums = false;
  return o;
}

std::string describe(const Outcome& o) {
  std::ostringstream s;
  s << o;
  return s.str();
}

// Collects failures so that a broken reader reports the first few offending inputs.
class Failures {
 public:
  void add(const std::string& message) {
    if (messages_.size() < 20) messages_.push_back(message);
    ++count_;
  }
  ~Failures() {
    std::string all;
    for (const std::string& m : messages_) all += "  " + m + "\n";
    EXPECT_EQ(count_, 0u) << "first failures:\n" << all;
  }

 private:
  std::vector<std::string> messages_;
  std::size_t count_ = 0;
};

class StableReaderHostile : public ::testing::TestWithParam<std::size_t> {
 protected:
  void SetUp() override {
    ASSERT_LT(GetParam(), cases().size());
    partly_filled() = 0;
  }
  void TearDown() override {
    EXPECT_EQ(partly_filled(), 0) << "failed loads changed the caller's object";
  }
  const Case& test_case() const { return cases()[GetParam()]; }
  // Streams take every bit of the first 64 bytes and one bit per byte after: the memory
  // source takes every bit, and decoding after the input is read is the same code.
  static bool stream_takes(std::size_t offset, int bit) {
    return offset < 64 || static_cast<std::size_t>(bit) == offset % 8;
  }
  static std::string where(Via via, const std::string& what) {
    return std::string(hostile::via_name(via)) + ", " + what;
  }
};

TEST_P(StableReaderHostile, ArchiveLoadsWholeOnTheDirectPath) {
  const Case& c = test_case();
  for (Via via : {Via::memory, Via::stream}) {
    std::size_t direct = 0;
    Outcome o = run_load(c.bytes, via, c, {}, &direct);
    EXPECT_EQ(o.kind, Outcome::loaded_same)
        << c.name << ", " << hostile::via_name(via) << ": " << o;
    EXPECT_EQ(direct, c.read_directly) << c.name;
    EXPECT_EQ(run_load(c.bytes, via, c, without_checksums()).kind, Outcome::loaded_same);
  }
}

TEST_P(StableReaderHostile, TruncationAtEveryOffsetIsTruncatedInput) {
  const Case& c = test_case();
  Failures failures;
  for (std::size_t cut = 0; cut < c.bytes.size(); ++cut) {
    for (Via via : {Via::memory, Via::stream}) {
      if (via == Via::stream && cut > 64 && cut % 7 != 0) continue;
      for (const brine::LoadOptions& options : {brine::LoadOptions{}, without_checksums()}) {
        Outcome o = run_load(c.bytes.substr(0, cut), via, c, options);
        if (o.kind != Outcome::brine_error || o.internal ||
            o.code != brine::errc::truncated_input || !o.byte_offset)
          failures.add(where(via, "cut at " + std::to_string(cut) + ": " + describe(o)));
      }
    }
  }
}

// With checksums on, a flipped bit is refused (a checksum mismatch, or the structure the
// checksum does not cover), or lands where it changes nothing the reader keeps.
TEST_P(StableReaderHostile, EveryBitFlipIsRefusedWhenChecksumsAreVerified) {
  const Case& c = test_case();
  Failures failures;
  for (std::size_t offset = 0; offset < c.bytes.size(); ++offset) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = c.bytes;
      flipped[offset] = static_cast<char>(flipped[offset] ^ (1 << bit));
      for (Via via : {Via::memory, Via::stream}) {
        if (via == Via::stream && !stream_takes(offset, bit)) continue;
        Outcome o = run_load(flipped, via, c, {});
        bool refused = o.kind == Outcome::brine_error && !o.internal && o.byte_offset;
        if (!refused && o.kind != Outcome::loaded_same)
          failures.add(where(via, "bit " + std::to_string(bit) + " of byte " +
                                      std::to_string(offset) + ": " + describe(o)));
      }
    }
  }
}

// Without checksums the decoders meet every flipped bit: the direct one, and the state model
// it hands over to. Each load is a typed brine error or a value; nothing else.
TEST_P(StableReaderHostile, EveryBitFlipWithoutChecksumsLoadsOrThrowsBrineError) {
  const Case& c = test_case();
  Failures failures;
  std::size_t refused = 0;
  std::size_t loaded_different = 0;
  for (std::size_t offset = 0; offset < c.bytes.size(); ++offset) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = c.bytes;
      flipped[offset] = static_cast<char>(flipped[offset] ^ (1 << bit));
      for (Via via : {Via::memory, Via::stream}) {
        if (via == Via::stream && !stream_takes(offset, bit)) continue;
        Outcome o = run_load(flipped, via, c, without_checksums());
        if (o.kind == Outcome::brine_error && !o.internal) ++refused;
        if (o.kind == Outcome::loaded_different) ++loaded_different;
        if (o.kind == Outcome::foreign_exception || o.internal)
          failures.add(where(via, "bit " + std::to_string(bit) + " of byte " +
                                      std::to_string(offset) + ": " + describe(o)));
      }
    }
  }
  // Both verdicts occur: flips in heads and names are refused, flips inside values load.
  EXPECT_GT(refused, 0u);
  EXPECT_GT(loaded_different, 0u);
}

// StableReader::read_first (from_stable) takes one pass when it can, validating as it
// decodes: on every truncation, every flipped bit and a boundary byte at every offset, with
// checksums verified and not, it gives what the validating read gives (the same value or
// the same error).
TEST_P(StableReaderHostile, EveryMutationReadsTheSameInOnePass) {
  const Case& c = test_case();
  Failures failures;
  std::size_t values = 0;
  auto compare = [&](const std::string& bytes, const std::string& what) {
    for (const brine::LoadOptions& options : {brine::LoadOptions{}, without_checksums()}) {
      std::string one_pass = c.read_first(bytes, options, true);
      std::string validating = c.read_first(bytes, options, false);
      if (one_pass.rfind("value", 0) == 0) ++values;
      if (one_pass != validating)
        failures.add(what + (options.verify_checksums ? "" : ", checksums off") +
                     ": read_first gives [" + one_pass.substr(0, 200) + "], the validating read [" +
                     validating.substr(0, 200) + "]");
    }
  };
  compare(c.bytes, "unchanged");
  static const unsigned char boundary[] = {0x00, 0x18, 0x1F, 0x7F, 0xD8, 0xFF};
  for (std::size_t offset = 0; offset < c.bytes.size(); ++offset) {
    compare(c.bytes.substr(0, offset), "cut at " + std::to_string(offset));
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = c.bytes;
      flipped[offset] = static_cast<char>(flipped[offset] ^ (1 << bit));
      compare(flipped, "bit " + std::to_string(bit) + " of byte " + std::to_string(offset));
    }
    for (unsigned char b : boundary) {
      std::string replaced = c.bytes;
      replaced[offset] = static_cast<char>(b);
      compare(replaced, "byte " + std::to_string(offset) + " set to " + std::to_string(b));
    }
  }
  // Mutations inside values load (different values) on both paths: the comparison saw both
  // verdicts, not only errors.
  EXPECT_GT(values, c.bytes.size());
}

INSTANTIATE_TEST_SUITE_P(Archives, StableReaderHostile, ::testing::Range<std::size_t>(0, 4),
                         [](const ::testing::TestParamInfo<std::size_t>& info) {
                           return "case" + std::to_string(info.param);
                         });

TEST(StableReaderHostileCases, ThereAreFourArchives) { EXPECT_EQ(cases().size(), 4u); }

// ---------------------------------------------------------------------- chains of tags

/// A stable archive whose one value is `value` (raw CBOR), with a valid checksum.
std::string document_with_value(const std::string& value) {
  std::string null_doc = stable_of(plain_registry(), [](brine::StableWriter& w) {
    w.write_value(brine::Value());  // the value is the single byte F6
  });
  std::size_t values_key = null_doc.find("values");
  EXPECT_NE(values_key, std::string::npos);
  std::size_t at = values_key + 6;  // the values array: 9F (indefinite), F6, FF (break)
  EXPECT_EQ(null_doc.substr(at, 3), "\x9F\xF6\xFF");
  std::string values = "\x9F" + value + "\xFF";
  std::string checksum_key = null_doc.substr(at + 3, null_doc.find("checksum") + 8 - (at + 3));
  std::string out = null_doc.substr(0, at) + values + checksum_key;
  out += '\x1B';
  std::uint64_t sum = XXH3_64bits(values.data(), values.size());
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(sum >> (8 * i)));
  return out;
}

std::string repeated(const std::string& item, std::size_t n) {
  std::string out;
  out.reserve(item.size() * n);
  for (std::size_t i = 0; i < n; ++i) out += item;
  return out;
}

TEST(StableTagChains, TheHandMadeDocumentLoads) {
  // [type, version, {}] of an unknown type: a valid document whose value is an object.
  std::string object =
      "\xD8\x1B\x83\x66"
      "a.Type\x01\xA0";
  std::vector<brine::Value> values = brine::read_stable_values(document_with_value(object));
  ASSERT_EQ(values.size(), 1u);
  EXPECT_EQ(values[0].as_object().type, "a.Type");
}

// 100,000 tags of one kind around a null: each tag wraps one item without counting a level
// of nesting, so the reader must refuse the chain from its shape, not recurse down it.
TEST(StableTagChains, AChainOfShareableTagsIsAFormatError) {
  std::string doc = document_with_value(repeated("\xD8\x1C", 100000) + "\xF6");
  EXPECT_THROW_WITH(brine::read_stable_values(doc), brine::FormatError,
                    "shareable tag 28 does not wrap an object (tag 27)");
  brine::MemorySource source(doc);
  EXPECT_THROW_WITH(brine::StableReader(source, plain_registry()), brine::FormatError,
                    "shareable tag 28 does not wrap an object");
}

TEST(StableTagChains, AChainOfObjectTagsIsAFormatError) {
  std::string doc = document_with_value(repeated("\xD8\x1B", 100000) + "\xF6");
  EXPECT_THROW_WITH(brine::read_stable_values(doc), brine::FormatError,
                    "object tag 27 needs [type name, version, {fields}]");
}

TEST(StableTagChains, AChainOfAlternatingTagsIsAFormatError) {
  std::string doc = document_with_value(repeated("\xD8\x1C\xD8\x1B", 50000) + "\xF6");
  EXPECT_THROW_WITH(brine::read_stable_values(doc), brine::FormatError,
                    "object tag 27 needs [type name, version, {fields}]");
}

// ---------------------------------------------------------------------- bytes from a stream

/// A source that never ends: a peer that keeps sending.
class EndlessSource final : public brine::ByteSource {
 public:
  std::size_t read(void* bytes, std::size_t n) override {
    std::memset(bytes, 0, n);
    position_ += n;
    return n;
  }
  std::uint64_t position() const noexcept override { return position_; }
  std::string description() const override { return "endless stream"; }

 private:
  std::uint64_t position_ = 0;
};

TEST(StableInputBound, AStreamThatNeverEndsIsALimitError) {
  EndlessSource source;
  brine::LoadOptions options;
  options.max_input_bytes = std::uint64_t{1} << 20;
  EXPECT_THROW_WITH(brine::StableReader(source, plain_registry(), options), brine::LimitError,
                    "input exceeds LoadOptions::max_input_bytes (1048576)");
  EXPECT_LE(source.position(), (std::uint64_t{1} << 20) + 65536);
}

TEST(StableInputBound, AStreamOfExactlyTheBoundLoadsAndOneByteMoreIsRefused) {
  std::string bytes =
      stable_of(plain_registry(), [](brine::StableWriter& w) { w.write(hostile::make_doc()); });
  brine::LoadOptions options;
  options.max_input_bytes = bytes.size();
  {
    std::istringstream stream(bytes);
    brine::StreamSource source(stream);
    brine::StableReader reader(source, plain_registry(), options);
    EXPECT_EQ(reader.read<hostile::Doc>(), hostile::make_doc());
  }
  options.max_input_bytes = bytes.size() - 1;
  std::istringstream stream(bytes);
  brine::StreamSource source(stream);
  try {
    brine::StableReader reader(source, plain_registry(), options);
    ADD_FAILURE() << "an input one byte over max_input_bytes loaded";
  } catch (const brine::LimitError& e) {
    EXPECT_EQ(e.code(), brine::errc::limit_exceeded);
    EXPECT_NE(std::string(e.what()).find("max_input_bytes"), std::string::npos) << e.what();
  }
  // Memory sources are bounded by their size, and not counted.
  brine::MemorySource memory(bytes);
  brine::StableReader reader(memory, plain_registry(), options);
  EXPECT_EQ(reader.read<hostile::Doc>(), hostile::make_doc());
}

}  // namespace
