// brine — versioned object persistence for C++17.
// bench/adapters/cereal_binary.hpp: cereal's BinaryOutputArchive/BinaryInputArchive row,
// with the non-intrusive serialize functions and polymorphic registration it needs.
#pragma once

#include <cereal/archives/binary.hpp>
#include <cereal/types/base_class.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/memory.hpp>
#include <cereal/types/polymorphic.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <istream>
#include <ostream>
#include <string_view>

#include "../support/streams.hpp"
#include "../workloads/graph.hpp"
#include "../workloads/records.hpp"

namespace brine_bench {

// Found by ADL in the types' namespace. Names are given with make_nvp so that the text
// archives (cereal_json, cereal_xml) can reuse these functions; binary archives drop them at
// compile time. Only the two-argument (unversioned) form: Boost's three-argument functions
// in boost_binary.hpp are constrained to Boost archives, otherwise cereal would see both and
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

/// See adapters/README.md for the adapter shape.
struct CerealBinaryAdapter {
  static constexpr const char* name = "cereal_binary";

  template <class T>
  static void save(const T& data, OutBuf& out) {
    std::ostream os(&out);
    cereal::BinaryOutputArchive ar(os);
    ar(cereal::make_nvp("data", data));
  }

  template <class T>
  static void load(std::string_view archive, T& data) {
    InBuf in(archive);
    std::istream is(&in);
    cereal::BinaryInputArchive ar(is);
    ar(cereal::make_nvp("data", data));
  }
};

}  // namespace brine_bench

// These define static objects (one binding per archive type included above), so this header
// belongs in exactly one translation unit of a program, as brine_bench.cpp is.
CEREAL_REGISTER_TYPE(brine_bench::NodeA)
CEREAL_REGISTER_TYPE(brine_bench::NodeB)
