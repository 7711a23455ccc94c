// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// fuzz_npz.cpp: libFuzzer target for the .npz reader (src/tensor/npz.cpp): the ZIP reading
// path through libzip, from a memory buffer as load_npz reads a mapped file. Each input is
// inspected and loaded; what loads must agree with the inspection, and write back and load
// again as the same state dict. brine::Error is the expected verdict on bad input; any other
// exception, a crash, a leak, undefined behaviour or an allocation over -rss_limit_mb is a
// bug. Inputs are also loaded as an object .npz (src/tensor/npz_object.cpp: the
// `__brine__.json` entry and its tensor references); a state that loads must write back and
// load again as the same state. Inputs are also written to a file and loaded from it, which
// maps stored entries (src/io/zip_directory.cpp finds them): what the mapped load accepts
// the libzip path from memory must accept too, with the same tensors.

#include <unistd.h>

#include <brine/npz_object.hpp>
#include <brine/numpy.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace fuzz::npz {

inline void object_input(std::string_view bytes) {
  brine::Value state;
  try {
    state = brine::load_npz_state_from_memory(bytes);
  } catch (const brine::Error&) {
    return;
  }
  try {
    if (brine::load_npz_state_from_memory(brine::npz_object_bytes(state)) != state) {
      std::fprintf(stderr, "a loaded object .npz does not round-trip\n");
      std::abort();
    }
  } catch (const brine::Error& e) {
    // The state was read from JSON, so it renders back; only dtypes numpy lacks cannot be
    // written, and the loader never produces them.
    std::fprintf(stderr, "a loaded object .npz does not save again: %s\n", e.what());
    std::abort();
  }
}

// load_npz of the input as a file, against load_npz_from_memory of it.
inline void mapped_input(std::string_view bytes) {
  static const std::filesystem::path path =
      std::filesystem::temp_directory_path() /
      ("brine-fuzz-npz-" + std::to_string(::getpid()) + ".npz");
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out.flush()) {
      std::fprintf(stderr, "cannot write %s\n", path.c_str());
      std::abort();
    }
  }
  brine::StateDict mapped;
  try {
    mapped = brine::load_npz(path);
  } catch (const brine::Error&) {
    return;
  }
  brine::StateDict copied;
  try {
    copied = brine::load_npz_from_memory(bytes);
  } catch (const brine::Error& e) {
    std::fprintf(stderr, "the mapped load accepts an .npz the memory load refuses: %s\n", e.what());
    std::abort();
  }
  if (mapped != copied) {
    std::fprintf(stderr, "the mapped and memory loads of an .npz differ\n");
    std::abort();
  }
}

inline void one_input(std::string_view bytes) {
  object_input(bytes);
  mapped_input(bytes);
  brine::NpzContents contents;
  try {
    contents = brine::inspect_npz_from_memory(bytes);
  } catch (const brine::Error&) {
  }
  brine::StateDict dict;
  try {
    dict = brine::load_npz_from_memory(bytes);
  } catch (const brine::Error&) {
    return;
  }
  // What loads was inspected first, entry for entry.
  if (contents.arrays.size() != dict.size()) {
    std::fprintf(stderr, "inspect_npz saw %zu arrays, load_npz loaded %zu\n",
                 contents.arrays.size(), dict.size());
    std::abort();
  }
  std::size_t i = 0;
  for (const auto& [name, tensor] : dict) {
    const brine::NpzEntry& entry = contents.arrays[i++];
    if (entry.name != name || entry.header.dtype != tensor.dtype() ||
        entry.header.shape != tensor.shape()) {
      std::fprintf(stderr, "inspect_npz and load_npz disagree about entry '%s'\n", name.c_str());
      std::abort();
    }
  }
  for (bool compress : {false, true}) {
    if (brine::load_npz_from_memory(brine::npz_bytes(dict, compress)) != dict) {
      std::fprintf(stderr, "a loaded .npz does not round-trip (compress %d)\n", compress);
      std::abort();
    }
  }
}

}  // namespace fuzz::npz

#ifndef BRINE_FUZZ_REPLAY
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::npz::one_input(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
#endif
