// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// util/xxhash.hpp: xxHash, as every part of brine includes it (private).
#pragma once

#include <xxhash.h>

// Every byte of an archive goes through XXH3 twice (its checksum, when written and when
// read). Where this libxxhash has runtime-dispatched AVX2/AVX-512 entry points (Debian's
// does; CMake checks), this header makes XXH3_64bits and its streaming and seeded forms
// those entry points: twice the speed of the SSE2 default, with the same results.
#ifdef BRINE_HAVE_XXH_DISPATCH
#include <xxh_x86dispatch.h>
#endif
