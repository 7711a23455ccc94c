// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// version.hpp: the library version and the archive format versions this build writes and reads.
#pragma once

#define BRINE_VERSION_MAJOR 0
#define BRINE_VERSION_MINOR 1
#define BRINE_VERSION_PATCH 0

#define BRINE_DETAIL_STRINGIFY_(x) #x
#define BRINE_DETAIL_STRINGIFY(x) BRINE_DETAIL_STRINGIFY_(x)
/// "MAJOR.MINOR.PATCH", as files that record the writer's version spell it.
#define BRINE_VERSION_STRING                  \
  BRINE_DETAIL_STRINGIFY(BRINE_VERSION_MAJOR) \
  "." BRINE_DETAIL_STRINGIFY(BRINE_VERSION_MINOR) "." BRINE_DETAIL_STRINGIFY(BRINE_VERSION_PATCH)

namespace brine {

/// Version of the binary (short-term) archive format this build writes. A reader accepts
/// every format version up to this one and refuses newer ones with a VersionError.
/// See docs/format/binary-v1.md (version 2 adds tensors and out-of-line payloads, §13).
inline constexpr unsigned binary_format_version = 2;

}  // namespace brine
