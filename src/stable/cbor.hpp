// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// stable/cbor.hpp: CBOR constants, the head encoding and the stringref rule shared by the
// stable writer, reader and identifier (private). See docs/format/stable-v1.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "brine/detail/cbor_head.hpp"
#include "brine/tensor.hpp"

namespace brine::cbor {

inline constexpr std::uint64_t kTagSelfDescribe = 55799;
inline constexpr std::uint64_t kTagStringRefNamespace = 256;
inline constexpr std::uint64_t kTagStringRef = 25;
inline constexpr std::uint64_t kTagObject = 27;  // [type name, version, {fields}]
inline constexpr std::uint64_t kTagShareable = 28;
inline constexpr std::uint64_t kTagSharedRef = 29;

inline constexpr const char* kFormatName = "brine-stable";
inline constexpr const char* kPathType = "$path";
inline constexpr const char* kFunctionType = "$function";
inline constexpr const char* kTensorType = "$tensor";  // identifier; tensors without a tag 40 form
// RFC 8746 §3.1: tag 40 holds [shape array, typed array], row-major.
inline constexpr std::uint64_t kTagMultiDimArray = 40;

using detail::stringref_min_length;

/// Writes a CBOR head with the shortest argument (RFC 8949 §4.2.1) at `buf` (9 bytes at
/// most) and returns its size.
inline std::size_t encode_head(std::uint8_t* buf, unsigned major, std::uint64_t argument) {
  return detail::encode_cbor_head(buf, major, argument);
}

/// The RFC 8746 typed-array tag (little-endian) of a tensor's dtype, 0 when it has none.
inline std::uint64_t tensor_typed_array_tag(DType dtype) {
  switch (dtype) {
    case DType::uint8:
      return 64;
    case DType::int8:
      return 72;
    case DType::uint16:
      return 69;
    case DType::int16:
      return 77;
    case DType::uint32:
      return 70;
    case DType::int32:
      return 78;
    case DType::uint64:
      return 71;
    case DType::int64:
      return 79;
    case DType::float16:
      return 84;
    case DType::float32:
      return 85;
    case DType::float64:
      return 86;
    default:
      return 0;
  }
}

/// The dtype of a typed-array tag in a tag 40 tensor, or nothing.
inline std::optional<DType> tensor_dtype_of_tag(std::uint64_t tag) {
  for (std::size_t i = 0; i < kDTypeCount; ++i)
    if (tensor_typed_array_tag(static_cast<DType>(i)) == tag) return static_cast<DType>(i);
  return std::nullopt;
}

/// RFC 8746 typed arrays brine writes (little-endian): element size, or 0 when not one.
inline std::size_t typed_array_element_size(std::uint64_t tag) {
  switch (tag) {
    case 64:
    case 72:
      return 1;  // uint8, sint8
    case 69:
    case 77:
      return 2;  // uint16 LE, sint16 LE
    case 70:
    case 78:
    case 85:
      return 4;  // uint32 LE, sint32 LE, float32 LE
    case 71:
    case 79:
    case 86:
      return 8;  // uint64 LE, sint64 LE, float64 LE
    default:
      return 0;
  }
}

}  // namespace brine::cbor
