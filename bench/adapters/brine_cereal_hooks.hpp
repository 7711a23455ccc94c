// brine — versioned object persistence for C++17.
// bench/adapters/brine_cereal_hooks.hpp: the brine_cereal_hooks row (issue #12): a copy of the
// records workload's Record annotated for cereal only, exactly as cereal_serialize.hpp
// annotates the original, saved and loaded through brine's binary archive by
// BRINE_CEREAL_TYPE (brine/interop/cereal.hpp). What adopting brine costs a cereal user who
// keeps their serialize functions; compare with cereal_binary.
#pragma once

#include <brine/brine.hpp>
#include <brine/interop/cereal.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "../workloads/records.hpp"
#include "brine_binary.hpp"

namespace brine_bench::cereal_hooks {

struct Record {
  std::int64_t id = 0;
  double score = 0.0;
  std::string name;
  std::vector<float> feats;
  std::map<std::string, std::int32_t> tags;
};
using Records = std::vector<Record>;

// The very function cereal_serialize.hpp gives brine_bench::Record.
template <class Archive>
void serialize(Archive& ar, Record& r) {
  ar(cereal::make_nvp("id", r.id), cereal::make_nvp("score", r.score),
     cereal::make_nvp("name", r.name), cereal::make_nvp("feats", r.feats),
     cereal::make_nvp("tags", r.tags));
}

}  // namespace brine_bench::cereal_hooks

BRINE_CEREAL_TYPE(brine_bench::cereal_hooks::Record, "bench.cereal_hooks.Record");

namespace brine_bench {

/// See adapters/README.md for the adapter shape. The calls are BrineBinaryAdapter's: only the
/// hooks differ.
struct BrineCerealHooksAdapter : BrineBinaryAdapter {
  static constexpr const char* name = "brine_cereal_hooks";
};

}  // namespace brine_bench
