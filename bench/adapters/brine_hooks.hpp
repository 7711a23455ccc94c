// brine — versioned object persistence for C++17.
// bench/adapters/brine_hooks.hpp: the non-intrusive hooks and registrations that brine's
// archives need for the workload types, shared by every brine adapter (brine_binary.hpp,
// brine_stable.hpp, brine_json.hpp).
#pragma once

#include <brine/brine.hpp>

#include "../workloads/checkpoint.hpp"
#include "../workloads/graph.hpp"
#include "../workloads/records.hpp"

BRINE_EXTERNAL_TYPE(brine_bench::Record, "bench.Record", 1);
BRINE_EXTERNAL_TYPE(brine_bench::Node, "bench.Node", 1);
BRINE_EXTERNAL_TYPE(brine_bench::NodeA, "bench.NodeA", 1);
BRINE_EXTERNAL_TYPE(brine_bench::NodeB, "bench.NodeB", 1);
BRINE_EXTERNAL_TYPE(brine_bench::Config, "bench.Config", 1);
BRINE_EXTERNAL_TYPE(brine_bench::Tensor, "bench.Tensor", 1);
BRINE_EXTERNAL_TYPE(brine_bench::Checkpoint, "bench.Checkpoint", 1);

namespace brine_bench {

// Free hooks, found by argument-dependent lookup: the workload structs stay library-free.
// One template serves saving and loading because the field list is the same. The same hooks
// serve every brine archive.
template <class Archive, class R>
void record_fields(Archive& ar, R& r) {
  ar("id", r.id)("score", r.score)("name", r.name)("feats", r.feats)("tags", r.tags);
}
template <class Archive>
void getstate(Archive& ar, const Record& r) {
  record_fields(ar, r);
}
template <class Archive>
void setstate(Archive& ar, Record& r) {
  record_fields(ar, r);
}

template <class Archive, class N>
void node_fields(Archive& ar, N& n) {
  ar("id", n.id)("children", n.children);
}
template <class Archive>
void getstate(Archive& ar, const Node& n) {
  node_fields(ar, n);
}
template <class Archive>
void setstate(Archive& ar, Node& n) {
  node_fields(ar, n);
}

template <class Archive, class N>
void node_a_fields(Archive& ar, N& n) {
  brine::base<Node>(ar, n);
  ar("weight", n.weight)("rank", n.rank);
}
template <class Archive>
void getstate(Archive& ar, const NodeA& n) {
  node_a_fields(ar, n);
}
template <class Archive>
void setstate(Archive& ar, NodeA& n) {
  node_a_fields(ar, n);
}

template <class Archive, class N>
void node_b_fields(Archive& ar, N& n) {
  brine::base<Node>(ar, n);
  ar("label", n.label);
}
template <class Archive>
void getstate(Archive& ar, const NodeB& n) {
  node_b_fields(ar, n);
}
template <class Archive>
void setstate(Archive& ar, NodeB& n) {
  node_b_fields(ar, n);
}

template <class Archive, class C>
void config_fields(Archive& ar, C& c) {
  ar("model_name", c.model_name)("step", c.step)("learning_rate", c.learning_rate)(
      "layer_sizes", c.layer_sizes)("extra", c.extra);
}
template <class Archive>
void getstate(Archive& ar, const Config& c) {
  config_fields(ar, c);
}
template <class Archive>
void setstate(Archive& ar, Config& c) {
  config_fields(ar, c);
}

template <class Archive, class T>
void tensor_fields(Archive& ar, T& t) {
  ar("name", t.name)("shape", t.shape)("data", t.data);
}
template <class Archive>
void getstate(Archive& ar, const Tensor& t) {
  tensor_fields(ar, t);
}
template <class Archive>
void setstate(Archive& ar, Tensor& t) {
  tensor_fields(ar, t);
}

template <class Archive, class C>
void checkpoint_fields(Archive& ar, C& c) {
  ar("config", c.config)("tensors", c.tensors);
}
template <class Archive>
void getstate(Archive& ar, const Checkpoint& c) {
  checkpoint_fields(ar, c);
}
template <class Archive>
void setstate(Archive& ar, Checkpoint& c) {
  checkpoint_fields(ar, c);
}

}  // namespace brine_bench

// Registrations define static objects: this header belongs in one translation unit of a
// program (brine_bench.cpp); #pragma once keeps them single when several brine adapters
// include it there.
BRINE_REGISTER_POLYMORPHIC(brine_bench::NodeA, brine_bench::Node);
BRINE_REGISTER_POLYMORPHIC(brine_bench::NodeB, brine_bench::Node);
