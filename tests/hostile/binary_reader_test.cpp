// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// binary_reader_test.cpp: small binary archives truncated at every offset and with every
// bit flipped, read through memory and stream sources: each load throws a typed brine
// error or (only without checksums) loads, and never crashes.

#include <brine/brine.hpp>
#include <cctype>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "hostile_support.hpp"
#include "hostile_types.hpp"
#include "test_util.hpp"

namespace {

using hostile::Outcome;
using hostile::Via;

struct Case {
  std::string name;
  std::string bytes;
  const brine::Registry* registry;
  hostile::ReadAll read_all;
  /// A load that fails half-way through a graph with shared_ptr cycles leaks the cycle
  /// (reported: BinaryLoadCleanup.FailedLoadOfCyclicGraphLeaksNothing), which LeakSanitizer
  /// reports. Until the fix, failing typed loads of graphs are known bugs: of the cyclic
  /// graph always, of the acyclic one when corrupted references can form a cycle.
  bool cyclic = false;
  bool graph = false;
};

// Registries outlive every case (function-local statics: built on first use).
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

// The value read_value() gives for `bytes`, from the pristine archive.
brine::Value value_of(const std::string& bytes, const brine::Registry& registry) {
  brine::MemorySource source(bytes);
  brine::BinaryReader reader(source, registry);
  return reader.read_value();
}

std::vector<Case> build_cases() {
  std::vector<Case> cases;

  std::string doc = hostile::archive_of(hostile::make_doc(), plain_registry());
  cases.push_back({"document", doc, &plain_registry(), [](brine::BinaryReader& r) {
                     return r.read<hostile::Doc>() == hostile::make_doc();
                   }});
  brine::Value doc_value = value_of(doc, plain_registry());
  cases.push_back({"document via read_value", doc, &plain_registry(),
                   [doc_value](brine::BinaryReader& r) { return r.read_value() == doc_value; }});

  brine::Registry writer_graph;
  hostile::register_graph(writer_graph);
  hostile::Graph g = hostile::make_graph();
  std::string graph = hostile::archive_of(g, writer_graph);
  hostile::dismantle(g);
  cases.push_back({"polymorphic graph with cycles", graph, &graph_registry(),
                   [](brine::BinaryReader& r) {
                     hostile::Graph loaded = r.read<hostile::Graph>();
                     bool same = hostile::is_original_graph(loaded);
                     hostile::dismantle(loaded);
                     return same;
                   },
                   true, true});
  brine::Value graph_value = value_of(graph, graph_registry());
  cases.push_back(
      {"polymorphic graph via read_value", graph, &graph_registry(),
       [graph_value](brine::BinaryReader& r) { return r.read_value() == graph_value; }});

  // The same graph without its cycles (sharing, weak and owning pointers, polymorphism).
  hostile::Graph acyclic = hostile::make_graph();
  acyclic.roots[1]->edges.clear();  // b -> a
  acyclic.focus->edges.clear();     // c -> c
  std::string dag = hostile::archive_of(acyclic, writer_graph);
  hostile::dismantle(acyclic);
  cases.push_back({"polymorphic graph with sharing", dag, &graph_registry(),
                   [](brine::BinaryReader& r) {
                     hostile::Graph loaded = r.read<hostile::Graph>();
                     bool same = loaded.roots.size() == 2 && loaded.focus &&
                                 loaded.roots[0]->edges.size() == 2 &&
                                 loaded.roots[0]->edges[0] == loaded.roots[1] &&
                                 loaded.roots[0]->edges[1] == loaded.focus &&
                                 loaded.roots[1]->edges.empty() &&
                                 loaded.focus->parent.lock() == loaded.roots[0];
                     hostile::dismantle(loaded);
                     return same;
                   },
                   false, true});

  std::string several = hostile::archive_of(plain_registry(), [](brine::BinaryWriter& w) {
    w.write(hostile::make_doc());
    w.write(std::string("second"));
    w.write(std::vector<double>{1.5, -2});
    w.write(hostile::Point{3, 4});
    w.write(std::map<std::string, std::int32_t>{{"k", 1}, {"l", -1}});
  });
  cases.push_back(
      {"several values in one stream", several, &plain_registry(), [](brine::BinaryReader& r) {
         bool same = r.read<hostile::Doc>() == hostile::make_doc();
         same = r.read<std::string>() == "second" && same;
         same = r.read<std::vector<double>>() == std::vector<double>{1.5, -2} && same;
         same = r.read<hostile::Point>() == hostile::Point{3, 4} && same;
         same = r.read<std::map<std::string, std::int32_t>>() ==
                    std::map<std::string, std::int32_t>{{"k", 1}, {"l", -1}} &&
                same;
         return same;
       }});

  brine::Registry writer_v1;
  std::string old = hostile::archive_of(hostile::make_old_ledger(), writer_v1);
  cases.push_back(
      {"older class version through migrations", old, &v3_registry(), [](brine::BinaryReader& r) {
         return hostile::is_upgraded_ledger(r.read<hostile::Ledger>());
       }});
  return cases;
}

const std::vector<Case>& cases() {
  static const std::vector<Case> all = build_cases();
  return all;
}

brine::LoadOptions without_checksums() {
  brine::LoadOptions o;
  o.verify_checksums = false;
  return o;
}

// Collects failures so that a broken reader reports the first few offending inputs, not
// thousands of lines.
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

std::string describe(const Outcome& o) {
  std::ostringstream s;
  s << o;
  return s.str();
}

// One instance per test archive, so ctest runs them in parallel and names the archive.
class BinaryReaderHostile : public ::testing::TestWithParam<std::size_t> {
 protected:
  void SetUp() override {
    ASSERT_LT(GetParam(), cases().size())
        << "the instantiation names more archives than cases() builds";
  }
  const Case& test_case() const { return cases()[GetParam()]; }
  std::string where(Via via, const std::string& what) const {
    return std::string(hostile::via_name(via)) + ", " + what;
  }
  // Stream sources take every bit of the first 64 bytes (header, first block header, record
  // tags) and one bit per byte after: the memory source already takes every bit, and the
  // decoding after a block is loaded is the same code.
  static bool stream_takes(std::size_t offset, int bit) {
    return offset < 64 || static_cast<std::size_t>(bit) == offset % 8;
  }
};

TEST_P(BinaryReaderHostile, ArchiveLoadsWholeWithAndWithoutChecksums) {
  const Case& c = test_case();
  EXPECT_LT(c.bytes.size(), 1200u) << "keep the corrupted archives small";
  RecordProperty("archive_bytes", static_cast<int>(c.bytes.size()));
  for (Via via : {Via::memory, Via::stream}) {
    Outcome with = hostile::run_load(c.bytes, via, *c.registry, {}, c.read_all);
    EXPECT_EQ(with.kind, Outcome::loaded_same) << hostile::via_name(via) << ": " << with;
    Outcome without = hostile::run_load(c.bytes, via, *c.registry, without_checksums(), c.read_all);
    EXPECT_EQ(without.kind, Outcome::loaded_same) << hostile::via_name(via) << ": " << without;
  }
}

TEST_P(BinaryReaderHostile, TruncationAtEveryOffsetIsTruncatedInput) {
  const Case& c = test_case();
  Failures failures;
  for (std::size_t length = 0; length < c.bytes.size(); ++length) {
    std::string cut = c.bytes.substr(0, length);
    for (Via via : {Via::memory, Via::stream}) {
      Outcome o = hostile::run_load(cut, via, *c.registry, {}, c.read_all);
      std::string at = where(via, "cut to " + std::to_string(length) + " bytes: " + describe(o));
      if (o.kind != Outcome::brine_error) {
        failures.add(at);
      } else if (o.code != brine::errc::truncated_input || o.type != "brine::FormatError") {
        failures.add("expected FormatError(truncated_input), " + at);
      } else if (!o.byte_offset || *o.byte_offset > length) {
        failures.add("byte_offset missing or past the end of the input, " + at);
      }
    }
  }
}

// The bytes of the archive are cut short inside a data block whose length and checksum are
// fixed up: the block is whole, the value in it is not, and the decoder meets the end.
TEST_P(BinaryReaderHostile, ValueCutShortInsideAValidBlockIsTruncatedInput) {
  const Case& c = test_case();
  Failures failures;
  const hostile::Archive archive = hostile::parse_archive(c.bytes);
  std::size_t data_blocks = archive.blocks.size() - 1;
  for (std::size_t b = 0; b < data_blocks; ++b) {
    for (std::size_t length = 0; length < archive.blocks[b].payload.size(); ++length) {
      hostile::Archive cut = archive;
      cut.blocks[b].payload.resize(length);
      std::string bytes = hostile::serialize(cut);
      for (Via via : {Via::memory, Via::stream}) {
        Outcome o = hostile::run_load(bytes, via, *c.registry, {}, c.read_all);
        std::string at = where(via, "block " + std::to_string(b) + " cut to " +
                                        std::to_string(length) + " bytes: " + describe(o));
        if (o.kind != Outcome::brine_error || o.internal) {
          failures.add(at);
        } else if (length == 0) {
          if (o.what.find("empty data block") == std::string::npos)
            failures.add("expected 'empty data block', " + at);
        } else if (b + 1 == data_blocks && o.code != brine::errc::truncated_input) {
          // The last value runs into the end marker. (A value cut short before another
          // block runs into that block's bytes instead: any typed error will do.)
          failures.add("expected truncated_input, " + at);
        }
      }
    }
  }
}

// With checksums on, a flipped bit anywhere is reported: in the payload or in a block's
// checksum as checksum_mismatch at that block's header, elsewhere as a header or block
// format error. Never as a load, and never as another value.
TEST_P(BinaryReaderHostile, EveryBitFlipIsReportedWhenChecksumsAreVerified) {
  const Case& c = test_case();
  Failures failures;
  hostile::Archive archive = hostile::parse_archive(c.bytes);
  for (std::size_t offset = 0; offset < c.bytes.size(); ++offset) {
    // Which block (if any) holds `offset`, and whether it is in its checksum or payload.
    std::optional<std::uint64_t> block_start;
    bool checksummed = false;
    for (const hostile::Block& b : archive.blocks) {
      if (offset >= b.offset && offset < b.offset + hostile::kBlockHeaderSize + b.payload.size()) {
        block_start = b.offset;
        checksummed = offset >= b.offset + 4;
      }
    }
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = c.bytes;
      flipped[offset] = static_cast<char>(flipped[offset] ^ (1 << bit));
      for (Via via : {Via::memory, Via::stream}) {
        if (via == Via::stream && !stream_takes(offset, bit)) continue;
        Outcome o = hostile::run_load(flipped, via, *c.registry, {}, c.read_all);
        std::string at = where(via, "bit " + std::to_string(bit) + " of byte " +
                                        std::to_string(offset) + ": " + describe(o));
        if (o.kind != Outcome::brine_error || o.internal) {
          failures.add(at);
        } else if (checksummed) {
          if (o.code != brine::errc::checksum_mismatch || o.byte_offset != block_start)
            failures.add("expected checksum_mismatch at byte " + std::to_string(*block_start) +
                         ", " + at);
        } else if (offset < hostile::kHeaderSize) {
          bool version_bytes = offset >= 10;
          bool ok = o.code == brine::errc::corrupt_data ||
                    (version_bytes && o.code == brine::errc::newer_format_version);
          if (!ok) failures.add("expected a header error, " + at);
        } else if (o.code != brine::errc::corrupt_data && o.code != brine::errc::truncated_input &&
                   o.code != brine::errc::checksum_mismatch) {
          failures.add("expected a block format error, " + at);
        }
      }
    }
  }
}

// Without checksums the decoder itself meets every flipped bit: it may load (a different
// string, number...) but must otherwise throw a brine error, never an InternalError or a
// foreign exception, and never touch memory it does not own (AddressSanitizer).
TEST_P(BinaryReaderHostile, EveryBitFlipWithoutChecksumsLoadsOrThrowsBrineError) {
  const Case& c = test_case();
  Failures failures;
  std::size_t loaded = 0, rejected = 0;
  for (std::size_t offset = 0; offset < c.bytes.size(); ++offset) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = c.bytes;
      flipped[offset] = static_cast<char>(flipped[offset] ^ (1 << bit));
      for (Via via : {Via::memory, Via::stream}) {
        if (via == Via::stream && !stream_takes(offset, bit)) continue;
        Outcome o = hostile::run_load(flipped, via, *c.registry, without_checksums(), c.read_all);
        if (o.kind == Outcome::foreign_exception || o.internal)
          failures.add(where(via, "bit " + std::to_string(bit) + " of byte " +
                                      std::to_string(offset) + ": " + describe(o)));
        (o.kind == Outcome::brine_error ? rejected : loaded) += 1;
      }
    }
  }
  // Both verdicts occur: flips in counts and tags are refused, flips inside text and
  // numbers load other values (without checksums nothing can tell).
  EXPECT_GT(rejected, 0u);
  EXPECT_GT(loaded, 0u);
}

// Inverts whole bytes (LevelDB's Corrupt()), a pattern single bit flips do not produce for
// counts and tags, with checksums recomputed so that the decoder sees them.
TEST_P(BinaryReaderHostile, EveryInvertedPayloadByteWithValidChecksumLoadsOrThrowsBrineError) {
  const Case& c = test_case();
  Failures failures;
  hostile::Archive archive = hostile::parse_archive(c.bytes);
  for (std::size_t b = 0; b < archive.blocks.size(); ++b) {
    for (std::size_t i = 0; i < archive.blocks[b].payload.size(); ++i) {
      hostile::Archive edited = archive;
      edited.blocks[b].payload = brine_test::corrupt(edited.blocks[b].payload, i);
      std::string bytes = hostile::serialize(edited);
      for (Via via : {Via::memory, Via::stream}) {
        Outcome o = hostile::run_load(bytes, via, *c.registry, {}, c.read_all);
        if (o.kind == Outcome::foreign_exception || o.internal)
          failures.add(where(via, "payload byte " + std::to_string(i) + " of block " +
                                      std::to_string(b) + " inverted: " + describe(o)));
      }
    }
  }
}

// Several random bytes at once, with checksums recomputed: reaches decoder states single
// flips do not. Set BRINE_HOSTILE_SEED to replay a failure.
TEST_P(BinaryReaderHostile, RandomPayloadCorruptionWithValidChecksumsLoadsOrThrowsBrineError) {
  const Case& c = test_case();
  std::uint64_t seed = 20240611 + GetParam();
  if (const char* env = std::getenv("BRINE_HOSTILE_SEED")) seed = std::strtoull(env, nullptr, 10);
  SCOPED_TRACE("seed " + std::to_string(seed) +
               " (replay with BRINE_HOSTILE_SEED=" + std::to_string(seed) + ")");
  std::mt19937_64 rng(seed);
  Failures failures;
  const hostile::Archive archive = hostile::parse_archive(c.bytes);
  for (int iteration = 0; iteration < 500; ++iteration) {
    hostile::Archive edited = archive;
    std::size_t b = rng() % edited.blocks.size();
    std::string& payload = edited.blocks[b].payload;
    int edits = 1 + static_cast<int>(rng() % 4);
    std::string log;
    for (int e = 0; e < edits; ++e) {
      std::size_t i = rng() % payload.size();
      // Bytes that mean something to the decoder (small counts and tags, varint
      // continuations), or anything at all.
      static const unsigned char interesting[] = {0x00, 0x01, 0x02, 0x7F, 0x80, 0xFF};
      unsigned char v =
          rng() % 2 ? interesting[rng() % sizeof interesting] : static_cast<unsigned char>(rng());
      payload[i] = static_cast<char>(v);
      log += " [" + std::to_string(i) + "]=" + std::to_string(v);
    }
    std::string bytes = hostile::serialize(edited);
    Via via = rng() % 2 ? Via::memory : Via::stream;
    Outcome o = hostile::run_load(bytes, via, *c.registry, {}, c.read_all);
    if (o.kind == Outcome::foreign_exception || o.internal)
      failures.add(where(via, "iteration " + std::to_string(iteration) + ", block " +
                                  std::to_string(b) + log + ": " + describe(o)));
  }
}

std::string case_name(const ::testing::TestParamInfo<std::size_t>& info) {
  std::string name;
  bool upper = true;
  for (char ch : cases()[info.param].name) {
    if (std::isalnum(static_cast<unsigned char>(ch))) {
      name += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(ch))) : ch;
      upper = false;
    } else {
      upper = true;
    }
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Archives, BinaryReaderHostile, ::testing::Range<std::size_t>(0, 7),
                         case_name);

TEST(BinaryReaderHostileCases, ThereAreSevenArchives) { EXPECT_EQ(cases().size(), 7u); }

}  // namespace
