// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// detail/stream_type.hpp: a type as an archive defines it, matched against this build's.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace brine {
class TypeInfo;
namespace detail {

/// One entry of a binary archive's type table.
struct StreamType {
  std::string name;
  std::uint32_t version = 0;
  std::string layout;  ///< the recorded layout bytes (see layout.hpp)
  std::uint64_t fingerprint = 0;
  /// (field name, descriptor) views into `layout`.
  std::vector<std::pair<std::string_view, std::string_view>> fields;
  const TypeInfo* local = nullptr;  ///< this build's type of that name (or alias), if any
  /// Same version and layout as this build: values are read straight into objects.
  bool fast = false;
};

}  // namespace detail
}  // namespace brine
