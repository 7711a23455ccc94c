// brine — versioned object persistence for C++17.
// bench/adapters/cereal_serialize.hpp: the non-intrusive serialize functions and polymorphic
// registration cereal needs for the workload types, shared by every cereal row
// (cereal_binary.hpp, cereal_json.hpp, cereal_xml.hpp).
#pragma once

// Every cereal archive the bench uses is included here, before CEREAL_REGISTER_TYPE below:
// the registration binds a type to the archives declared before it, so a row whose archive
// header came later would fail to save a polymorphic pointer ("Trying to save an
// unregistered polymorphic type").
#include <cereal/archives/binary.hpp>
#include <cereal/archives/json.hpp>
#include <cereal/archives/xml.hpp>
#include <cereal/types/base_class.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/memory.hpp>
#include <cereal/types/polymorphic.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include "../workloads/checkpoint.hpp"
#include "../workloads/graph.hpp"
#include "../workloads/records.hpp"

namespace brine_bench {

// Found by ADL in the types' namespace. Names are given with make_nvp so that the text
// archives (cereal_json, cereal_xml) use them; binary archives drop them at compile time.
// Only the two-argument (unversioned) form: Boost's three-argument functions in
// boost_serialize.hpp are constrained to Boost archives, otherwise cereal would see both and
// refuse the type as ambiguous.
template <class Archive>
void serialize(Archive& ar, Record& r) {
  ar(cereal::make_nvp("id", r.id), cereal::make_nvp("score", r.score),
     cereal::make_nvp("name", r.name), cereal::make_nvp("feats", r.feats),
     cereal::make_nvp("tags", r.tags));
}

template <class Archive>
void serialize(Archive& ar, Node& n) {
  ar(cereal::make_nvp("id", n.id), cereal::make_nvp("children", n.children));
}

// cereal::base_class also registers the Node -> NodeX relation that polymorphic
// shared_ptr<Node> loading needs, so no CEREAL_REGISTER_POLYMORPHIC_RELATION is required.
template <class Archive>
void serialize(Archive& ar, NodeA& n) {
  ar(cereal::make_nvp("Node", cereal::base_class<Node>(&n)), cereal::make_nvp("weight", n.weight),
     cereal::make_nvp("rank", n.rank));
}

template <class Archive>
void serialize(Archive& ar, NodeB& n) {
  ar(cereal::make_nvp("Node", cereal::base_class<Node>(&n)), cereal::make_nvp("label", n.label));
}

template <class Archive>
void serialize(Archive& ar, Config& c) {
  ar(cereal::make_nvp("model_name", c.model_name), cereal::make_nvp("step", c.step),
     cereal::make_nvp("learning_rate", c.learning_rate),
     cereal::make_nvp("layer_sizes", c.layer_sizes), cereal::make_nvp("extra", c.extra));
}

template <class Archive>
void serialize(Archive& ar, Tensor& t) {
  ar(cereal::make_nvp("name", t.name), cereal::make_nvp("shape", t.shape),
     cereal::make_nvp("data", t.data));
}

template <class Archive>
void serialize(Archive& ar, Checkpoint& c) {
  ar(cereal::make_nvp("config", c.config), cereal::make_nvp("tensors", c.tensors));
}

}  // namespace brine_bench

// These define static objects (one binding per archive type included above), so this header
// belongs in exactly one translation unit of a program, as brine_bench.cpp is.
CEREAL_REGISTER_TYPE(brine_bench::NodeA)
CEREAL_REGISTER_TYPE(brine_bench::NodeB)
