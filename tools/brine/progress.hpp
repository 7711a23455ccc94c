// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// tools/brine/progress.hpp: the progress line (bytes read and written) and the byte source and
// sink wrappers that count for it (private to the tool). See docs/cli.md "Progress".
#pragma once

#include <brine/io.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace brine_cli {

/// Where the progress line goes. `terminal` is the default when stderr is a terminal; the
/// environment variable BRINE_PROGRESS overrides it for tests: `force` (a line per MiB of
/// bytes, in a fixed format, whatever stderr is) or `off`.
enum class ProgressMode { off, terminal, force };

/// The mode BRINE_PROGRESS and stderr select.
ProgressMode progress_mode();

/// Bytes read from the input and written to the output, on stderr. The counting wrappers
/// below feed it; it decides when a report is due, so that counting costs a comparison.
/// A terminal sees one line redrawn at most ten times a second, once the run has lasted a
/// second, and erased at the end; forced reports go one to a line, one per kForceStep bytes
/// of progress, and end with a `done` line.
class Progress {
 public:
  /// Bytes of progress (read and written together) between two forced reports.
  static constexpr std::uint64_t kForceStep = std::uint64_t{1} << 20;

  explicit Progress(ProgressMode mode = progress_mode());
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  /// Starts reading an input of `total` bytes.
  void start_reading(std::uint64_t total);
  /// Starts a phase that neither reads nor writes ("migrating").
  void start_phase(const char* label);
  /// Starts writing the output.
  void start_writing();
  /// The input's bytes consumed so far.
  void read(std::uint64_t bytes) {
    read_ = bytes;
    if (read_ + written_ >= next_) report(false);
  }
  /// The output's bytes written so far.
  void written(std::uint64_t bytes) {
    written_ = bytes;
    if (read_ + written_ >= next_) report(false);
  }
  /// The run succeeded: a forced report ends with its final figures; a terminal line is
  /// erased.
  void finish();

 private:
  void report(bool phase_changed);
  void draw();
  void clear();

  ProgressMode mode_;
  const char* phase_ = "reading";
  std::uint64_t total_ = 0;
  std::uint64_t read_ = 0;
  std::uint64_t written_ = 0;
  // read_ + written_ at which report() next looks: a step away in forced mode, a chunk away
  // on a terminal (where it then asks the clock), never when off.
  std::uint64_t next_ = std::numeric_limits<std::uint64_t>::max();
  bool shown_ = false;  // a terminal line is on screen
  std::size_t width_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
};

/// A source that reports how far `inner` has been consumed, after every read and skip.
/// Direct views pass through: readers still decode in place, and advance it as they go.
class CountingSource final : public brine::ByteSource {
 public:
  CountingSource(brine::ByteSource& inner, Progress& progress) noexcept
      : inner_(inner), progress_(progress) {}
  std::size_t read(void* bytes, std::size_t n) override {
    const std::size_t got = inner_.read(bytes, n);
    progress_.read(inner_.position());
    return got;
  }
  bool has_direct_view() const noexcept override { return inner_.has_direct_view(); }
  std::string_view direct_view() const noexcept override { return inner_.direct_view(); }
  void skip(std::size_t n) override {
    inner_.skip(n);
    progress_.read(inner_.position());
  }
  std::optional<std::uint64_t> remaining() const override { return inner_.remaining(); }
  std::uint64_t position() const noexcept override { return inner_.position(); }
  std::string description() const override { return inner_.description(); }

 private:
  brine::ByteSource& inner_;
  Progress& progress_;
};

/// A sink that counts the bytes written through it to `inner`. It offers no direct buffer,
/// so every writer's bytes pass through write().
class CountingSink final : public brine::ByteSink {
 public:
  CountingSink(brine::ByteSink& inner, Progress& progress) noexcept
      : inner_(inner), progress_(progress) {}
  void write(const void* bytes, std::size_t n) override {
    inner_.write(bytes, n);
    count_ += n;
    progress_.written(count_);
  }
  void flush() override { inner_.flush(); }
  std::string description() const override { return inner_.description(); }

 private:
  brine::ByteSink& inner_;
  Progress& progress_;
  std::uint64_t count_ = 0;
};

}  // namespace brine_cli
