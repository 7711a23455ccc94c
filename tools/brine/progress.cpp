// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// tools/brine/progress.cpp: the progress line on stderr. See docs/cli.md "Progress".

#include "progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace brine_cli {
namespace {

// A terminal asks the clock at most once per this many bytes: the wrappers report every
// chunk or block, and the clock is not free.
constexpr std::uint64_t kTerminalCheckBytes = 64 * 1024;
// Quick runs print nothing.
constexpr std::chrono::milliseconds kTerminalDelay{1000};
// At most ten redraws a second.
constexpr std::chrono::milliseconds kTerminalInterval{100};

// "41.9 MB": decimal units, as file managers and `ls -h --si` show sizes.
std::string human(std::uint64_t bytes) {
  if (bytes < 1000) return std::to_string(bytes) + " B";
  static const char* const units[] = {"kB", "MB", "GB", "TB", "PB", "EB"};
  double v = static_cast<double>(bytes) / 1000;
  std::size_t u = 0;
  while (v >= 999.95 && u + 1 < sizeof units / sizeof units[0]) {
    v /= 1000;
    ++u;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.1f %s", v, units[u]);
  return text;
}

}  // namespace

ProgressMode progress_mode() {
  const char* env = std::getenv("BRINE_PROGRESS");
  if (env != nullptr && std::strcmp(env, "force") == 0) return ProgressMode::force;
  if (env != nullptr && std::strcmp(env, "off") == 0) return ProgressMode::off;
  return isatty(STDERR_FILENO) == 1 ? ProgressMode::terminal : ProgressMode::off;
}

Progress::Progress(ProgressMode mode)
    : mode_(mode), start_(std::chrono::steady_clock::now()), last_(start_) {}

Progress::~Progress() { clear(); }

void Progress::start_reading(std::uint64_t total) {
  total_ = total;
  read_ = 0;
  phase_ = "reading";
  report(true);
}

void Progress::start_phase(const char* label) {
  phase_ = label;
  report(true);
}

void Progress::start_writing() {
  written_ = 0;
  phase_ = "writing";
  report(true);
}

void Progress::finish() {
  if (mode_ == ProgressMode::force) {
    std::fprintf(stderr, "brine: progress done, read %llu bytes, wrote %llu bytes\n",
                 static_cast<unsigned long long>(read_), static_cast<unsigned long long>(written_));
    std::fflush(stderr);
  }
  clear();
  mode_ = ProgressMode::off;
  next_ = std::numeric_limits<std::uint64_t>::max();
}

void Progress::report(bool phase_changed) {
  const std::uint64_t done = read_ + written_;
  switch (mode_) {
    case ProgressMode::off:
      return;
    case ProgressMode::force:
      // By bytes, not by time, so that the lines a run prints do not depend on the machine.
      next_ = done + kForceStep;
      draw();
      return;
    case ProgressMode::terminal: {
      next_ = done + kTerminalCheckBytes;
      const auto now = std::chrono::steady_clock::now();
      if (now - start_ < kTerminalDelay) return;
      if (shown_ && !phase_changed && now - last_ < kTerminalInterval) return;
      last_ = now;
      draw();
      return;
    }
  }
}

void Progress::draw() {
  std::string line = "brine: ";
  if (mode_ == ProgressMode::force) {
    // Exact figures, one report to a line: what tests parse.
    line += "progress ";
    line += phase_;
    if (std::strcmp(phase_, "reading") == 0)
      line += ' ' + std::to_string(read_) + " of " + std::to_string(total_) + " bytes";
    else if (std::strcmp(phase_, "writing") == 0)
      line += ' ' + std::to_string(written_) + " bytes";
    std::fprintf(stderr, "%s\n", line.c_str());
    std::fflush(stderr);
    return;
  }
  line += phase_;
  if (std::strcmp(phase_, "reading") == 0) {
    line += ' ' + human(read_) + " of " + human(total_);
    if (total_ != 0)
      line += " (" + std::to_string(read_ >= total_ ? 100 : read_ * 100 / total_) + "%)";
  } else {
    if (std::strcmp(phase_, "writing") == 0) line += ' ' + human(written_);
    line += " (read " + human(read_) + ")";
  }
  // Blank what a longer line before left behind.
  const std::size_t width = line.size();
  if (line.size() < width_) line.append(width_ - line.size(), ' ');
  width_ = width;
  std::fprintf(stderr, "\r%s", line.c_str());
  std::fflush(stderr);
  shown_ = true;
}

void Progress::clear() {
  if (!shown_) return;
  // Blank the line so that a message printed next starts clean.
  std::fprintf(stderr, "\r%*s\r", static_cast<int>(width_), "");
  std::fflush(stderr);
  shown_ = false;
}

}  // namespace brine_cli
