// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// util/in_place.hpp: building a decoded Value where it finally lives (private).
#pragma once

#include <new>

#include "brine/value.hpp"

namespace brine::util {

/// Replaces `slot`, a null Value, by what `make()` returns, constructed in place: C++17
/// guarantees the returned prvalue is built straight into the slot. `slot = make()` or
/// `list.push_back(make())` would first build an 88-byte temporary in the caller's frame,
/// and a recursive decoder pays its frame once per level of nesting (docs/limits.md).
/// If make() throws, the slot is left null.
template <class Make>
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
inline void
construct_in(Value& slot, Make&& make) {
  slot.~Value();
  try {
    ::new (static_cast<void*>(&slot)) Value(make());
  } catch (...) {
    ::new (static_cast<void*>(&slot)) Value();
    throw;
  }
}

}  // namespace brine::util
