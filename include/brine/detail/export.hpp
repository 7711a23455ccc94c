// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// detail/export.hpp: BRINE_API marks what libbrine exports. The shared library is built with
// hidden visibility (CMakeLists.txt), so that only the API is exported: not the internals,
// not the template instantiations of its private dependencies (nlohmann, the standard
// library). A static libbrine defines BRINE_STATIC_DEFINE for itself and its users.
#pragma once

#if defined(BRINE_STATIC_DEFINE)
#define BRINE_API
#elif defined(_WIN32) || defined(__CYGWIN__)
#if defined(BRINE_BUILDING)
#define BRINE_API __declspec(dllexport)
#else
#define BRINE_API __declspec(dllimport)
#endif
#else
#define BRINE_API __attribute__((visibility("default")))
#endif
