// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// tensor/safetensors_mapped.hpp: loading a safetensors file that lies inside a larger mapped
// file (a DDUF entry), so that its tensors are views of that mapping (private).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "brine/safetensors.hpp"

namespace brine::detail {

/// load_safetensors for the `size` bytes at `offset` in `file`: the tensors are
/// Tensor::view(..., file, offset + ...), mapped and sharing the file's storage_id.
StateDict load_safetensors_in_file(std::shared_ptr<const MappedFile> file, std::size_t offset,
                                   std::size_t size, const SafetensorsLoadOptions& options,
                                   const std::string& source);

}  // namespace brine::detail
