// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// state/budget.hpp: the memory that state-model trees built from one archive may take
// (LoadOptions::max_state_expansion), counted by every decoder that builds Values (private).
#pragma once

#include <cstdint>
#include <string>

#include "brine/limits.hpp"

namespace brine::detail {

/// Counts what the decoders of one archive build into the state model, before they allocate
/// it: a container's elements when its count is read, so that a count checked only against
/// the input (one byte per null) cannot reserve a hundred times the input at once.
class StateBudget {
 public:
  StateBudget() = default;
  StateBudget(const LoadOptions& options, std::uint64_t input_size)
      : options_(&options), input_size_(input_size), limit_(options.max_state_bytes(input_size)) {}

  /// Counts `values` values and `bytes` bytes of string content; false once the total is over
  /// the bound (the caller raises the LimitError, with state_message(), where it stands).
  bool take(std::uint64_t values, std::uint64_t bytes = 0) noexcept {
    constexpr std::uint64_t kMax = ~std::uint64_t{0};
    const std::uint64_t cost = values > (kMax - bytes) / LoadOptions::kStateValueCost
                                   ? kMax
                                   : values * LoadOptions::kStateValueCost + bytes;
    used_ = used_ > kMax - cost ? kMax : used_ + cost;
    return used_ <= limit_;
  }

  std::uint64_t used() const noexcept { return used_; }
  std::string message() const {
    return options_ ? state_bytes_message(*options_, input_size_, used_) : std::string();
  }

 private:
  const LoadOptions* options_ = nullptr;
  std::uint64_t input_size_ = 0;
  std::uint64_t limit_ = ~std::uint64_t{0};
  std::uint64_t used_ = 0;
};

}  // namespace brine::detail
