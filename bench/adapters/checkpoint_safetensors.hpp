// brine — versioned object persistence for C++17.
// bench/adapters/checkpoint_safetensors.hpp: row brine_safetensors of workload C
// (checkpoint): the 64 tensors as a brine::StateDict in a safetensors file, the config in its
// `__metadata__` (string to string, so each field is written as text and parsed back).
//
// Compiled only when CMakeLists.txt's probe finds that this header compiles against the brine
// being built (BRINE_BENCH_HAVE_SAFETENSORS): brine/safetensors.hpp with save_safetensors and
// load_safetensors.
#pragma once

#include <brine/safetensors.hpp>
#include <brine/state_dict.hpp>
#include <brine/tensor.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

#include "../support/files.hpp"
#include "../workloads/checkpoint.hpp"

namespace brine_bench {

struct SafetensorsCheckpoint {
  Config config;
  brine::StateDict tensors;
};

/// The config as `__metadata__`: model_name, step, learning_rate (17 significant digits, so
/// it parses back to the same double), layer_sizes (comma-separated), extra.<key>.
inline std::map<std::string, std::string> config_to_metadata(const Config& c) {
  std::map<std::string, std::string> m;
  m["model_name"] = c.model_name;
  m["step"] = std::to_string(c.step);
  char rate[32];
  std::snprintf(rate, sizeof rate, "%.17g", c.learning_rate);
  m["learning_rate"] = rate;
  std::string sizes;
  for (std::int32_t s : c.layer_sizes) sizes += (sizes.empty() ? "" : ",") + std::to_string(s);
  m["layer_sizes"] = sizes;
  for (const auto& [key, value] : c.extra) m["extra." + key] = value;
  return m;
}

inline Config config_from_metadata(const std::map<std::string, std::string>& m) {
  auto at = [&](const std::string& key) -> const std::string& {
    auto it = m.find(key);
    if (it == m.end()) throw std::runtime_error("safetensors metadata has no " + key);
    return it->second;
  };
  Config c;
  c.model_name = at("model_name");
  c.step = std::stoll(at("step"));
  c.learning_rate = std::strtod(at("learning_rate").c_str(), nullptr);
  const std::string& sizes = at("layer_sizes");
  for (std::size_t pos = 0; pos < sizes.size();) {
    std::size_t comma = sizes.find(',', pos);
    if (comma == std::string::npos) comma = sizes.size();
    c.layer_sizes.push_back(static_cast<std::int32_t>(std::stol(sizes.substr(pos, comma - pos))));
    pos = comma + 1;
  }
  for (const auto& [key, value] : m)
    if (key.compare(0, 6, "extra.") == 0) c.extra[key.substr(6)] = value;
  return c;
}

/// The workload's tensors as views of the generated data (no copy), config as metadata.
inline brine::StateDict state_dict_of(const Checkpoint& c) {
  brine::StateDict dict;
  for (const Tensor& t : c.tensors) {
    dict.insert(t.name,
                brine::Tensor::view(brine::DType::float32, t.shape, std::shared_ptr<const void>(),
                                    reinterpret_cast<const std::byte*>(t.data.data()),
                                    t.data.size() * sizeof(float)));
  }
  dict.metadata = config_to_metadata(c.config);
  return dict;
}

/// Timed save: save_safetensors, then an fsync of the file (a no-op cost when brine's save
/// already made it durable). Timed load: load_safetensors (map, parse and validate the
/// header, tensors as views of the map) and the config parsed back from the metadata.
struct CheckpointBrineSafetensors {
  static constexpr const char* name = "brine_safetensors";
  static constexpr bool has_save_row = true;
  using Source = brine::StateDict;
  using Loaded = SafetensorsCheckpoint;
  static const Source& source(const CheckpointData& d) {
    static const brine::StateDict dict = state_dict_of(d.data);
    return dict;
  }

  static void save(const brine::StateDict& dict, const std::string& path) {
    brine::save_safetensors(path, dict);
    fsync_path(path);
  }
  static void load(const std::string& path, SafetensorsCheckpoint& c) {
    c.tensors = brine::load_safetensors(path);
    c.config = config_from_metadata(c.tensors.metadata);
  }

  /// The canonical encoding in the workload's tensor order (a safetensors header is a JSON
  /// object: the order a reader gives back is not the order written).
  static Fingerprint fingerprint(const SafetensorsCheckpoint& loaded, const CheckpointData& d) {
    CrcWriter w;
    encode_checkpoint_config(w, loaded.config);
    w.u32(static_cast<std::uint32_t>(loaded.tensors.size()));
    for (const Tensor& expected : d.data.tensors) {
      const brine::Tensor& t = loaded.tensors.at(expected.name);
      if (t.dtype() != brine::DType::float32)
        throw std::runtime_error("tensor " + expected.name + " loaded as " +
                                 brine::dtype_name(t.dtype()) + ", not float32");
      encode_checkpoint_tensor_head(w, expected.name, t.shape());
      w.raw(t.bytes(), t.nbytes());
    }
    return w.fingerprint();
  }
  static void reset(SafetensorsCheckpoint& c) { c = SafetensorsCheckpoint{}; }
  static std::size_t archive_bytes(const std::string& path) { return file_size(path); }
};

}  // namespace brine_bench
