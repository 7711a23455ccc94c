// brine — versioned object persistence for C++17.
// bench/workloads/checkpoint.hpp: workload C, a model checkpoint of 64 float32 tensors
// (256 MiB) and a small config (WORKLOADS.md "C. checkpoint"). Plain structs: adapters add
// serialization non-intrusively.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "canonical.hpp"
#include "rng.hpp"

namespace brine_bench {

struct Config {
  std::string model_name;
  std::int64_t step = 0;
  double learning_rate = 0.0;
  std::vector<std::int32_t> layer_sizes;
  std::map<std::string, std::string> extra;
};

/// WORKLOADS.md's `Tensor`: a name, a shape and row-major float32 data. (brine::Tensor is
/// another type; the adapters that use it say brine::Tensor.)
struct Tensor {
  std::string name;
  std::vector<std::int64_t> shape;
  std::vector<float> data;
};

struct Checkpoint {
  Config config;
  std::vector<Tensor> tensors;
};

inline constexpr std::uint64_t kCheckpointSeed = 0xC0FFEE5EED000003ULL;
/// The full-size canonical encoding, as WORKLOADS.md publishes it.
inline constexpr Fingerprint kCheckpointFullFingerprint{268438189, 0xf145f29c};
inline constexpr std::size_t kCheckpointTensors = 64;
/// --quick divides the first dimension of every tensor by this.
inline constexpr std::int64_t kCheckpointQuickDivisor = 16;

inline Config make_checkpoint_config() {
  Config c;
  c.model_name = "anchor-8x1024";
  c.step = 123456;
  c.learning_rate = 3e-4;
  c.layer_sizes.assign(8, 1024);
  c.extra = {{"dtype", "float32"}, {"optimizer", "adamw"}, {"schedule", "cosine"}};
  return c;
}

/// Names and shapes in WORKLOADS.md's order, without data.
inline std::vector<Tensor> checkpoint_tensor_layout(bool quick) {
  const std::int64_t d = quick ? kCheckpointQuickDivisor : 1;
  std::vector<Tensor> tensors;
  tensors.reserve(kCheckpointTensors);
  for (int layer = 0; layer < 8; ++layer) {
    const std::string prefix = "layers." + std::to_string(layer) + ".";
    tensors.push_back({prefix + "attn.q", {1024 / d, 1024}, {}});
    tensors.push_back({prefix + "attn.k", {1024 / d, 1024}, {}});
    tensors.push_back({prefix + "attn.v", {1024 / d, 1024}, {}});
    tensors.push_back({prefix + "mlp.up", {4096 / d, 1024}, {}});
    for (int a = 0; a < 4; ++a)
      tensors.push_back({prefix + "adapter." + std::to_string(a), {1024 / d, 256}, {}});
  }
  return tensors;
}

inline std::size_t element_count(const std::vector<std::int64_t>& shape) {
  std::size_t n = 1;
  for (std::int64_t dim : shape) n *= static_cast<std::size_t>(dim);
  return n;
}

/// The checkpoint: one RNG stream over all tensors in order, row-major.
inline Checkpoint make_checkpoint(bool quick) {
  Checkpoint c;
  c.config = make_checkpoint_config();
  c.tensors = checkpoint_tensor_layout(quick);
  SplitMix64 rng(kCheckpointSeed);
  for (Tensor& t : c.tensors) {
    t.data.resize(element_count(t.shape));
    for (float& f : t.data) f = unit_float(rng.next());
  }
  return c;
}

/// What every checkpoint row starts from: the object, its canonical encoding (what the raw
/// and memcpy rows write) and that encoding's fingerprint (what every load is checked against).
struct CheckpointData {
  Checkpoint data;
  std::string payload;
  Fingerprint fingerprint;
};

// ---- Canonical encoding, in pieces, so that each adapter's loaded object (std::vector<float>
// tensors, brine::Tensor views of a mapped file, a safetensors state dict) encodes through the
// same code. `Out` is LittleEndianWriter (the payload) or CrcWriter (verification).

template <class Out>
void encode_checkpoint_config(Out& w, const Config& c) {
  w.str(c.model_name);
  w.i64(c.step);
  w.f64(c.learning_rate);
  w.u32(static_cast<std::uint32_t>(c.layer_sizes.size()));
  for (std::int32_t s : c.layer_sizes) w.i32(s);
  w.u32(static_cast<std::uint32_t>(c.extra.size()));
  // std::map<std::string, …> iterates in bytewise key order, as the encoding requires.
  for (const auto& [key, value] : c.extra) {
    w.str(key);
    w.str(value);
  }
}

template <class Out>
void encode_checkpoint_tensor_head(Out& w, std::string_view name,
                                   const std::vector<std::int64_t>& shape) {
  w.str(name);
  w.u32(static_cast<std::uint32_t>(shape.size()));
  for (std::int64_t dim : shape) w.i64(dim);
}

/// float32 data held in native byte order.
template <class Out>
void encode_float_data(Out& w, const float* data, std::size_t n) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  w.raw(data, n * sizeof(float));
#else
  for (std::size_t i = 0; i < n; ++i) w.f32(data[i]);
#endif
}

template <class Out>
void encode_checkpoint(Out& w, const Checkpoint& c) {
  encode_checkpoint_config(w, c.config);
  w.u32(static_cast<std::uint32_t>(c.tensors.size()));
  for (const Tensor& t : c.tensors) {
    encode_checkpoint_tensor_head(w, t.name, t.shape);
    encode_float_data(w, t.data.data(), t.data.size());
  }
}

/// Counts, lengths and dimensions come from the object, so a loaded object with a missing
/// element or a wrong shape encodes differently instead of passing.
inline std::string canonical_encoding(const Checkpoint& c) {
  LittleEndianWriter w;
  encode_checkpoint(w, c);
  return w.take();
}

/// Length and CRC-32 of canonical_encoding(c), without building it.
inline Fingerprint canonical_fingerprint(const Checkpoint& c) {
  CrcWriter w;
  encode_checkpoint(w, c);
  return w.fingerprint();
}

}  // namespace brine_bench
