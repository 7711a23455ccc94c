// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// plugin_clash.cpp: a shared library that registers a C++ type of its own under a name
// plugin_a already uses. Whichever of the two loads second must stop the program at
// start-up instead of silently replacing the other's type.

#include "plugins.hpp"

namespace clash {

struct Impostor {
  BRINE_TYPE("plugins.a.Circle", 1);
  int x = 0;
  template <class Archive>
  void getstate(Archive& ar) const {
    ar("x", x);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    ar("x", x);
  }
};

BRINE_REGISTER(Impostor);

}  // namespace clash

const brine::Registry* plugin_clash_registry() { return &brine::default_registry(); }
