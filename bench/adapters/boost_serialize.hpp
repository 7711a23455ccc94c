// brine — versioned object persistence for C++17.
// bench/adapters/boost_serialize.hpp: the non-intrusive serialize functions and export
// registration Boost.Serialization needs for the workload types, shared by every Boost row
// (boost_binary.hpp, boost_text.hpp, boost_xml.hpp).
#pragma once

// Every Boost archive the bench uses is included here, before BOOST_CLASS_EXPORT below: the
// export instantiates pointer serialization for the archives declared before it (Boost's
// documentation requires the archive headers first), so a row whose archive came later could
// not save a NodeA through a shared_ptr<Node> ("unregistered class").
#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/archive/text_iarchive.hpp>
#include <boost/archive/text_oarchive.hpp>
#include <boost/archive/xml_iarchive.hpp>
#include <boost/archive/xml_oarchive.hpp>
#include <boost/serialization/assume_abstract.hpp>
#include <boost/serialization/base_object.hpp>
#include <boost/serialization/export.hpp>
#include <boost/serialization/map.hpp>
#include <boost/serialization/nvp.hpp>
#include <boost/serialization/shared_ptr.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <type_traits>

#include "../workloads/checkpoint.hpp"
#include "../workloads/graph.hpp"
#include "../workloads/records.hpp"

namespace brine_bench {
namespace boost_detail {

// cereal also looks for serialize(ar, t, version) by ADL and treats a match next to its own
// serialize(ar, t) as an ambiguity, so these functions must not exist for cereal archives.
template <class Archive>
using IfBoostArchive =
    std::enable_if_t<std::is_base_of_v<boost::archive::detail::basic_oarchive, Archive> ||
                     std::is_base_of_v<boost::archive::detail::basic_iarchive, Archive>>;

}  // namespace boost_detail

// Every member is wrapped in make_nvp, which the XML archive (boost_xml) requires; the binary
// and text archives ignore the names. clang-format would read `ar & x` as a reference declaration.
// clang-format off
template <class Archive, class = boost_detail::IfBoostArchive<Archive>>
void serialize(Archive& ar, Record& r, const unsigned int /*version*/) {
  ar & boost::serialization::make_nvp("id", r.id) &
      boost::serialization::make_nvp("score", r.score) &
      boost::serialization::make_nvp("name", r.name) &
      boost::serialization::make_nvp("feats", r.feats) &
      boost::serialization::make_nvp("tags", r.tags);
}

template <class Archive, class = boost_detail::IfBoostArchive<Archive>>
void serialize(Archive& ar, Node& n, const unsigned int /*version*/) {
  ar & boost::serialization::make_nvp("id", n.id) &
      boost::serialization::make_nvp("children", n.children);
}

// base_object also registers the NodeX -> Node void cast that loading a NodeX through a
// shared_ptr<Node> needs.
template <class Archive, class = boost_detail::IfBoostArchive<Archive>>
void serialize(Archive& ar, NodeA& n, const unsigned int /*version*/) {
  ar & boost::serialization::make_nvp("Node", boost::serialization::base_object<Node>(n)) &
      boost::serialization::make_nvp("weight", n.weight) &
      boost::serialization::make_nvp("rank", n.rank);
}

template <class Archive, class = boost_detail::IfBoostArchive<Archive>>
void serialize(Archive& ar, NodeB& n, const unsigned int /*version*/) {
  ar & boost::serialization::make_nvp("Node", boost::serialization::base_object<Node>(n)) &
      boost::serialization::make_nvp("label", n.label);
}

template <class Archive, class = boost_detail::IfBoostArchive<Archive>>
void serialize(Archive& ar, Config& c, const unsigned int /*version*/) {
  ar & boost::serialization::make_nvp("model_name", c.model_name) &
      boost::serialization::make_nvp("step", c.step) &
      boost::serialization::make_nvp("learning_rate", c.learning_rate) &
      boost::serialization::make_nvp("layer_sizes", c.layer_sizes) &
      boost::serialization::make_nvp("extra", c.extra);
}

template <class Archive, class = boost_detail::IfBoostArchive<Archive>>
void serialize(Archive& ar, Tensor& t, const unsigned int /*version*/) {
  ar & boost::serialization::make_nvp("name", t.name) &
      boost::serialization::make_nvp("shape", t.shape) &
      boost::serialization::make_nvp("data", t.data);
}

template <class Archive, class = boost_detail::IfBoostArchive<Archive>>
void serialize(Archive& ar, Checkpoint& c, const unsigned int /*version*/) {
  ar & boost::serialization::make_nvp("config", c.config) &
      boost::serialization::make_nvp("tensors", c.tensors);
}

// clang-format on

}  // namespace brine_bench

// Node is abstract; this keeps Boost from instantiating anything that would construct one.
BOOST_SERIALIZATION_ASSUME_ABSTRACT(brine_bench::Node)
// BOOST_CLASS_EXPORT defines static registration objects for every archive included above,
// so this header belongs in exactly one translation unit of a program, as brine_bench.cpp is.
BOOST_CLASS_EXPORT(brine_bench::NodeA)
BOOST_CLASS_EXPORT(brine_bench::NodeB)
