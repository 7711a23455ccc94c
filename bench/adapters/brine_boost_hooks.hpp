// brine — versioned object persistence for C++17.
// bench/adapters/brine_boost_hooks.hpp: the records/<op>/brine_boost_hooks rows (issue #12): a
// copy of workload A's types annotated only for Boost.Serialization, as a Boost code base has
// them, declared to brine with BRINE_BOOST_TYPE and saved through brine's binary archive. The
// rows to compare with are boost_binary (the same serialize through Boost's binary archive)
// and brine_binary (brine's own hooks).
#pragma once

#include <boost/serialization/map.hpp>
#include <boost/serialization/nvp.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <brine/brine.hpp>
#include <brine/interop/boost.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "../support/streams.hpp"
#include "../workloads/records.hpp"
#include "brine_binary.hpp"

namespace brine_bench {
namespace boost_hooks {

/// brine_bench::Record, member for member: a distinct type, because brine_hooks.hpp already
/// gives the workload's Record brine hooks of its own.
struct Record {
  std::int64_t id = 0;
  double score = 0.0;
  std::string name;
  std::vector<float> feats;
  std::map<std::string, std::int32_t> tags;
};
using Records = std::vector<Record>;

// The serialize of boost_serialize.hpp, without its restriction to Boost archives (which only
// keeps cereal from seeing it): brine's adapter archive is not a Boost archive.
// clang-format off
template <class Archive>
void serialize(Archive& ar, Record& r, const unsigned int /*version*/) {
  ar & boost::serialization::make_nvp("id", r.id) &
      boost::serialization::make_nvp("score", r.score) &
      boost::serialization::make_nvp("name", r.name) &
      boost::serialization::make_nvp("feats", r.feats) &
      boost::serialization::make_nvp("tags", r.tags);
}
// clang-format on

}  // namespace boost_hooks

/// See adapters/README.md for the adapter shape. brine_binary's save and load: only the type
/// handed to them differs, and with it the hooks brine runs.
struct BrineBoostHooksAdapter : BrineBinaryAdapter {
  static constexpr const char* name = "brine_boost_hooks";
};

}  // namespace brine_bench

BRINE_BOOST_TYPE(brine_bench::boost_hooks::Record, "bench.BoostRecord");
