// brine — versioned object persistence for C++17.
// bench/adapters/brine_binary.hpp: brine's binary (short-term) archive row, with the
// non-intrusive hooks and registrations the workload types need.
#pragma once

#include <brine/brine.hpp>
#include <ostream>
#include <string_view>

#include "../support/streams.hpp"
#include "../workloads/graph.hpp"
#include "../workloads/records.hpp"

BRINE_EXTERNAL_TYPE(brine_bench::Record, "bench.Record", 1);
BRINE_EXTERNAL_TYPE(brine_bench::Node, "bench.Node", 1);
BRINE_EXTERNAL_TYPE(brine_bench::NodeA, "bench.NodeA", 1);
BRINE_EXTERNAL_TYPE(brine_bench::NodeB, "bench.NodeB", 1);

namespace brine_bench {

// Free hooks, found by argument-dependent lookup: the workload structs stay library-free.
// One template serves saving and loading because the field list is the same.
template <class Archive, class R>
void record_fields(Archive& ar, R& r) {
  ar("id", r.id)("score", r.score)("name", r.name)("feats", r.feats)("tags", r.tags);
}
template <class Archive>
void getstate(Archive& ar, const Record& r) { record_fields(ar, r); }
template <class Archive>
void setstate(Archive& ar, Record& r) { record_fields(ar, r); }

template <class Archive, class N>
void node_fields(Archive& ar, N& n) { ar("id", n.id)("children", n.children); }
template <class Archive>
void getstate(Archive& ar, const Node& n) { node_fields(ar, n); }
template <class Archive>
void setstate(Archive& ar, Node& n) { node_fields(ar, n); }

template <class Archive, class N>
void node_a_fields(Archive& ar, N& n) {
  brine::base<Node>(ar, n);
  ar("weight", n.weight)("rank", n.rank);
}
template <class Archive>
void getstate(Archive& ar, const NodeA& n) { node_a_fields(ar, n); }
template <class Archive>
void setstate(Archive& ar, NodeA& n) { node_a_fields(ar, n); }

template <class Archive, class N>
void node_b_fields(Archive& ar, N& n) {
  brine::base<Node>(ar, n);
  ar("label", n.label);
}
template <class Archive>
void getstate(Archive& ar, const NodeB& n) { node_b_fields(ar, n); }
template <class Archive>
void setstate(Archive& ar, NodeB& n) { node_b_fields(ar, n); }

/// See adapters/README.md for the adapter shape. Saves through a std::ostream over the
/// harness's OutBuf, as the other libraries do; loads from the bytes in place
/// (brine::MemorySource), brine's own way of reading memory.
struct BrineBinaryAdapter {
  static constexpr const char* name = "brine_binary";

  template <class T>
  static void save(const T& data, OutBuf& out) {
    std::ostream os(&out);
    brine::StreamSink sink(os);
    brine::BinaryWriter writer(sink);
    writer.write(data);
    writer.finish();
  }

  template <class T>
  static void load(std::string_view archive, T& data) {
    brine::MemorySource source(archive);
    brine::BinaryReader reader(source);
    reader.read(data);
  }
};

}  // namespace brine_bench

// Registrations define static objects: this header belongs in one translation unit.
BRINE_REGISTER_POLYMORPHIC(brine_bench::NodeA, brine_bench::Node);
BRINE_REGISTER_POLYMORPHIC(brine_bench::NodeB, brine_bench::Node);
