// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// counting_allocator.hpp: replaces global operator new/delete and interposes realloc (which
// brine::Buffer grows with) to record the largest single allocation and the total bytes
// allocated while a Recording is alive. Include it in exactly one file of a test executable.
#pragma once

#include <dlfcn.h>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace counting {

inline std::atomic<bool> recording{false};
inline std::atomic<std::size_t> largest{0};
inline std::atomic<std::size_t> total{0};
inline std::atomic<std::size_t> count{0};

inline void note(std::size_t n) noexcept {
  if (!recording.load(std::memory_order_relaxed)) return;
  total.fetch_add(n, std::memory_order_relaxed);
  count.fetch_add(1, std::memory_order_relaxed);
  std::size_t seen = largest.load(std::memory_order_relaxed);
  while (n > seen && !largest.compare_exchange_weak(seen, n, std::memory_order_relaxed)) {
  }
}

/// Records allocations from construction to destruction (or stop()).
class Recording {
 public:
  Recording() {
    largest = 0;
    total = 0;
    count = 0;
    recording = true;
  }
  ~Recording() { recording = false; }
  Recording(const Recording&) = delete;
  Recording& operator=(const Recording&) = delete;
  void stop() { recording = false; }
  std::size_t largest_allocation() const { return largest.load(); }
  std::size_t total_bytes() const { return total.load(); }
  std::size_t allocations() const { return count.load(); }
};

inline void* allocate(std::size_t n) {
  note(n);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}

inline void* allocate_aligned(std::size_t n, std::align_val_t alignment) {
  note(n);
  auto a = static_cast<std::size_t>(alignment);
  std::size_t rounded = (n + a - 1) / a * a;
  if (void* p = std::aligned_alloc(a, rounded == 0 ? a : rounded)) return p;
  throw std::bad_alloc();
}

}  // namespace counting

void* operator new(std::size_t n) { return counting::allocate(n); }
void* operator new[](std::size_t n) { return counting::allocate(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return counting::allocate(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return counting::allocate(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(std::size_t n, std::align_val_t a) { return counting::allocate_aligned(n, a); }
void* operator new[](std::size_t n, std::align_val_t a) { return counting::allocate_aligned(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

// brine::Buffer (the stream reader's block buffer) grows with realloc: count it too. The
// executable's definition comes first in symbol lookup, also for libbrine.so; RTLD_NEXT is
// the C library's (or the sanitizer runtime's) realloc.
extern "C" void* realloc(void* p, std::size_t n) noexcept {
  using Realloc = void* (*)(void*, std::size_t);
  static Realloc next = reinterpret_cast<Realloc>(dlsym(RTLD_NEXT, "realloc"));
  counting::note(n);
  return next(p, n);
}
