// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// io/durable.hpp: making directory changes durable (private).
#pragma once

#include <filesystem>

#include "brine/detail/export.hpp"

namespace brine::io_internal {

/// fsyncs `dir`, so that the entries created, renamed or removed in it survive a crash.
/// Throws IoError naming `dir`. File systems that cannot fsync a directory (EINVAL) pass.
/// Exported for brine's own optional libraries (brine_mpi), not part of the public API.
BRINE_API void fsync_directory(const std::filesystem::path& dir);

}  // namespace brine::io_internal
