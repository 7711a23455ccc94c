// brine — versioned object persistence for C++17.
// bench/workloads/records.hpp: workload A, a vector of small flat records
// (WORKLOADS.md "A. records"). Plain structs: adapters add serialization non-intrusively.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "canonical.hpp"
#include "rng.hpp"

namespace brine_bench {

struct Record {
  std::int64_t id = 0;
  double score = 0.0;
  std::string name;
  std::vector<float> feats;                  // 16 floats
  std::map<std::string, std::int32_t> tags;  // 3 entries
};

using Records = std::vector<Record>;

/// Records as another struct with the same five members, in either direction: the interop
/// rows' copies of Record annotated for one library only (adapters/brine_*_hooks.hpp).
template <class To, class From>
std::vector<To> convert_records(const std::vector<From>& from) {
  std::vector<To> to;
  to.reserve(from.size());
  for (const From& r : from) to.push_back(To{r.id, r.score, r.name, r.feats, r.tags});
  return to;
}

inline constexpr std::uint64_t kRecordsSeed = 0xA11CE5EED0000001ULL;
inline constexpr std::size_t kRecordsFullCount = 200000;
inline constexpr std::size_t kRecordsQuickCount = 20000;
/// The full-size canonical encoding, as WORKLOADS.md publishes it.
inline constexpr Fingerprint kRecordsFullFingerprint{28149501, 0x6db4fadd};

/// The 16 tag keys, in the order next() % 16 indexes them.
inline constexpr const char* kRecordTagKeys[16] = {
    "alpha", "beta",  "gamma",  "delta", "epsilon", "zeta", "eta",     "theta",
    "iota",  "kappa", "lambda", "mu",    "nu",      "xi",   "omicron", "pi"};

/// The first n records of workload A's single RNG stream.
inline Records make_records(std::size_t n) {
  SplitMix64 rng(kRecordsSeed);
  Records records(n);
  for (Record& r : records) {
    r.id = static_cast<std::int64_t>(rng.next() >> 20);
    r.score = unit_double(rng.next()) * 100.0;
    r.name = random_lowercase(rng);
    r.feats.resize(16);
    for (float& f : r.feats) f = unit_float(rng.next());
    while (r.tags.size() < 3) {
      const char* key = kRecordTagKeys[rng.next() % 16];
      // A repeated key draws no value: the draw order is part of the definition.
      if (r.tags.find(key) == r.tags.end()) {
        r.tags.emplace(key, static_cast<std::int32_t>(rng.next() % 100000));
      }
    }
  }
  return records;
}

/// Counts and lengths come from the object, not from the definition, so a loaded object
/// with a missing float or tag encodes differently instead of passing.
inline std::string canonical_encoding(const Records& records) {
  LittleEndianWriter w;
  w.u32(static_cast<std::uint32_t>(records.size()));
  for (const Record& r : records) {
    w.i64(r.id);
    w.f64(r.score);
    w.str(r.name);
    w.u32(static_cast<std::uint32_t>(r.feats.size()));
    for (float f : r.feats) w.f32(f);
    w.u32(static_cast<std::uint32_t>(r.tags.size()));
    // std::map<std::string, …> iterates in bytewise key order, as the encoding requires.
    for (const auto& [key, value] : r.tags) {
      w.str(key);
      w.i32(value);
    }
  }
  return w.take();
}

}  // namespace brine_bench
