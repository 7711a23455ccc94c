// brine — versioned object persistence for C++17.
// bench/adapters/checkpoint_brine_mapped.hpp: rows brine_binary_mapped and
// brine_binary_mapped_verified of workload C (checkpoint): the same checkpoint with
// brine::Tensor fields, which brine's binary archive writes out of line (64-byte aligned) and
// load_binary maps without a copy.
//
// Compiled only when CMakeLists.txt's probe finds that this header compiles against the brine
// being built (BRINE_BENCH_HAVE_TENSOR_FIELDS): before brine::Tensor is a field type
// (Codec<brine::Tensor>, LoadOptions::verify_payload_checksums) the rows are left out.
#pragma once

#include <brine/brine.hpp>
#include <brine/tensor.hpp>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../support/files.hpp"
#include "../workloads/checkpoint.hpp"
#include "brine_hooks.hpp"

namespace brine_bench {

/// WORKLOADS.md's Tensor with its shape and data in one brine::Tensor.
struct MappedTensor {
  std::string name;
  brine::Tensor tensor;
};

struct MappedCheckpoint {
  Config config;
  std::vector<MappedTensor> tensors;
};

/// The workload's tensors as brine::Tensor views of the generated data (no copy; the data
/// lives as long as the process).
inline MappedCheckpoint mapped_views_of(const Checkpoint& c) {
  MappedCheckpoint m;
  m.config = c.config;
  m.tensors.reserve(c.tensors.size());
  for (const Tensor& t : c.tensors) {
    m.tensors.push_back(
        {t.name, brine::Tensor::view(brine::DType::float32, t.shape, std::shared_ptr<const void>(),
                                     reinterpret_cast<const std::byte*>(t.data.data()),
                                     t.data.size() * sizeof(float))});
  }
  return m;
}

/// The canonical encoding of a checkpoint of brine::Tensors, streamed through `w`. Throws if
/// a tensor is not float32, or, with `require_mapped`, if its bytes were copied out of the
/// file instead of mapped: the row's name promises a mapped load.
template <class Out>
void encode_mapped_checkpoint(Out& w, const MappedCheckpoint& c, bool require_mapped) {
  encode_checkpoint_config(w, c.config);
  w.u32(static_cast<std::uint32_t>(c.tensors.size()));
  for (const MappedTensor& t : c.tensors) {
    if (t.tensor.dtype() != brine::DType::float32)
      throw std::runtime_error("tensor " + t.name + " loaded as " +
                               brine::dtype_name(t.tensor.dtype()) + ", not float32");
    if (require_mapped && !t.tensor.is_mapped())
      throw std::runtime_error("tensor " + t.name + " was copied, not mapped");
    encode_checkpoint_tensor_head(w, t.name, t.tensor.shape());
    // brine::Tensor bytes are little-endian whatever the host: the canonical bytes as they are.
    w.raw(t.tensor.bytes(), t.tensor.nbytes());
  }
}

}  // namespace brine_bench

BRINE_EXTERNAL_TYPE(brine_bench::MappedTensor, "bench.MappedTensor", 1);
BRINE_EXTERNAL_TYPE(brine_bench::MappedCheckpoint, "bench.MappedCheckpoint", 1);

namespace brine_bench {

template <class Archive, class T>
void mapped_tensor_fields(Archive& ar, T& t) {
  ar("name", t.name)("tensor", t.tensor);
}
template <class Archive>
void getstate(Archive& ar, const MappedTensor& t) {
  mapped_tensor_fields(ar, t);
}
template <class Archive>
void setstate(Archive& ar, MappedTensor& t) {
  mapped_tensor_fields(ar, t);
}

template <class Archive, class C>
void mapped_checkpoint_fields(Archive& ar, C& c) {
  ar("config", c.config)("tensors", c.tensors);
}
template <class Archive>
void getstate(Archive& ar, const MappedCheckpoint& c) {
  mapped_checkpoint_fields(ar, c);
}
template <class Archive>
void setstate(Archive& ar, MappedCheckpoint& c) {
  mapped_checkpoint_fields(ar, c);
}

/// Timed load: load_binary(path) with LoadOptions::verify_payload_checksums off, i.e. map
/// the file, check the header, the layouts, the block checksums of the (small) data blocks
/// and the payloads' structure, and build the tensors as views of the mapping: what a user
/// needs to get usable tensors, touching no tensor page. The untimed verification then reads
/// every byte (and so faults the file's pages in).
struct CheckpointBrineBinaryMapped {
  static constexpr const char* name = "brine_binary_mapped";
  static constexpr bool has_save_row = true;
  using Source = MappedCheckpoint;
  using Loaded = MappedCheckpoint;
  static const Source& source(const CheckpointData& d) {
    static const MappedCheckpoint views = mapped_views_of(d.data);
    return views;
  }

  static void save(const MappedCheckpoint& c, const std::string& path) {
    brine::save_binary(path, c);
  }
  static void load(const std::string& path, MappedCheckpoint& c) {
    brine::LoadOptions options;
    options.verify_payload_checksums = false;
    c = brine::load_binary<MappedCheckpoint>(path, brine::default_registry(), options);
  }

  static Fingerprint fingerprint(const MappedCheckpoint& loaded, const CheckpointData&) {
    CrcWriter w;
    encode_mapped_checkpoint(w, loaded, true);
    return w.fingerprint();
  }
  // Destroying the tensors unmaps the file.
  static void reset(MappedCheckpoint& c) { c = MappedCheckpoint{}; }
  static std::size_t archive_bytes(const std::string& path) { return file_size(path); }
};

/// The same mapped load with brine's default options, which hash every byte of the payloads
/// against the checksums the writer recorded (the issue's "a load that checks the checksum
/// of every byte", target within 3x of raw_file's read). Load row only: its save is
/// brine_binary_mapped's.
struct CheckpointBrineBinaryMappedVerified : CheckpointBrineBinaryMapped {
  static constexpr const char* name = "brine_binary_mapped_verified";
  static constexpr bool has_save_row = false;
  static void load(const std::string& path, MappedCheckpoint& c) {
    c = brine::load_binary<MappedCheckpoint>(path);
  }
};

}  // namespace brine_bench
