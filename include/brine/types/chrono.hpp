// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// types/chrono.hpp: std::chrono durations and time points.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "brine/codec.hpp"

namespace brine {

/// A duration: its tick count. The layout records the period, and the state model keeps it
/// ({"count": n, "period": "num/den"}), so a field changed from milliseconds to microseconds
/// converts exactly on load instead of misreading.
template <class Rep, class Period>
struct Codec<std::chrono::duration<Rep, Period>> {
  static_assert(std::is_arithmetic_v<Rep>, "brine: durations need an arithmetic representation");
  static constexpr std::size_t min_binary_size = sizeof(Rep);
  static void describe(LayoutBuilder& b) {
    b.code(LayoutCode::duration);
    b.count(static_cast<std::uint64_t>(Period::num));
    b.count(static_cast<std::uint64_t>(Period::den));
    b.describe<Rep>();
  }
  template <class W>
  static void save(W& w, const std::chrono::duration<Rep, Period>& d) {
    w.write_duration(d.count(), Period::num, Period::den);
  }
  template <class R>
  static void load(R& r, std::chrono::duration<Rep, Period>& d) {
    d = std::chrono::duration<Rep, Period>(r.template read_duration<Rep>(Period::num, Period::den));
  }
};

/// A time point: its duration since the clock's epoch. Only meaningful between processes
/// for clocks with a fixed epoch (system_clock: the Unix epoch).
template <class Clock, class Duration>
struct Codec<std::chrono::time_point<Clock, Duration>> {
  static constexpr std::size_t min_binary_size = Codec<Duration>::min_binary_size;
  static void describe(LayoutBuilder& b) {
    b.code(LayoutCode::time_point);
    b.count(static_cast<std::uint64_t>(Duration::period::num));
    b.count(static_cast<std::uint64_t>(Duration::period::den));
    b.describe<typename Duration::rep>();
  }
  template <class W>
  static void save(W& w, const std::chrono::time_point<Clock, Duration>& t) {
    Codec<Duration>::save(w, t.time_since_epoch());
  }
  template <class R>
  static void load(R& r, std::chrono::time_point<Clock, Duration>& t) {
    Duration d{};
    Codec<Duration>::load(r, d);
    t = std::chrono::time_point<Clock, Duration>(d);
  }
};

}  // namespace brine
