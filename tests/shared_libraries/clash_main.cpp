// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// clash_main.cpp: links plugin_a and plugin_clash, which register two different types under
// one name. It must never reach main(): expect_startup_failure.cmake checks that it dies at
// start-up with brine's duplicate-registration message.

#include <cstdio>

#include "plugins.hpp"

int main() {
  // Referencing both libraries keeps them linked even under --as-needed.
  std::printf("main() reached: plugin_a %p, plugin_clash %p\n",
              static_cast<const void*>(plugin_a_registry()),
              static_cast<const void*>(plugin_clash_registry()));
  return 0;
}
