// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// types/tensor.hpp: brine::Tensor as a field. In the binary archive its bytes go out of line,
// 64-byte aligned, and load_binary(path) maps them; see docs/format/binary-v1.md §13.
#pragma once

#include <cstddef>

#include "brine/codec.hpp"
#include "brine/tensor.hpp"

namespace brine {

/// A Tensor field: dtype, shape and bytes. Binary archive: a reference to an out-of-line
/// payload, written once per storage and value, viewed without a copy when loaded from a
/// file. Stable archive: an RFC 8746 multi-dimensional array (tag 40) where the dtype has a
/// typed-array tag. State model and JSON: ValueKind::tensor, {"$tensor": ...}.
template <>
struct Codec<Tensor> {
  static constexpr std::size_t min_binary_size = 4;
  static void describe(LayoutBuilder& b) { b.code(LayoutCode::tensor); }
  template <class W>
  static void save(W& w, const Tensor& t) {
    w.write_tensor(t);
  }
  template <class R>
  static void load(R& r, Tensor& t) {
    r.read_tensor(t);
  }
};

}  // namespace brine
