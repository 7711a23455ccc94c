// brine — versioned object persistence for C++17.
// bench/workloads/rng.hpp: the random numbers every workload is generated from
// (shared/bench/WORKLOADS.md "Random numbers"); other languages reproduce them bit for bit.
#pragma once

#include <cstdint>
#include <string>

namespace brine_bench {

/// SplitMix64, exactly as WORKLOADS.md states it: the CRCs of the canonical encodings
/// prove every generator against this sequence, so nothing here may change.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    state_ += kGamma;
    return mix(state_);
  }

  /// The output function alone; element g of a stream is mix(seed + (g + 1) * kGamma),
  /// which is how vectorized generators (numpy, workload C) jump into the stream.
  static std::uint64_t mix(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  static constexpr std::uint64_t kGamma = 0x9E3779B97F4A7C15ULL;

 private:
  std::uint64_t state_;
};

/// A float in [-0.5, 0.5) with 24 random bits: exact in float and double, so text
/// formats and Python floats round-trip it when they print enough digits.
inline float unit_float(std::uint64_t x) {
  return static_cast<float>(static_cast<std::int32_t>(x >> 40) - (1 << 23)) / 16777216.0f;
}

/// double(x >> 11) * 2^-53: a double in [0, 1) with 53 random bits.
inline double unit_double(std::uint64_t x) { return static_cast<double>(x >> 11) * 0x1p-53; }

/// The name/label rule shared by workloads A and B: 8 + next() % 9 characters
/// (8..16), each 'a' + next() % 26.
inline std::string random_lowercase(SplitMix64& rng) {
  const std::size_t len = 8 + static_cast<std::size_t>(rng.next() % 9);
  std::string s(len, '\0');
  for (char& c : s) c = static_cast<char>('a' + rng.next() % 26);
  return s;
}

}  // namespace brine_bench
