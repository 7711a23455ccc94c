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
  explicit StateBudget(const LoadOptions& options) : options_(&options) {}

  /// Counts `values` values and `bytes` bytes of string content; false once the total is over
  /// the bound for `input_size` bytes of input (the archive's size, or what a stream has
  /// given so far). The caller raises the LimitError, with message(), where it stands.
  bool take(std::uint64_t values, std::uint64_t bytes, std::uint64_t input_size) noexcept {
    constexpr std::uint64_t kMax = ~std::uint64_t{0};
    const std::uint64_t cost = values > (kMax - bytes) / LoadOptions::kStateValueCost
                                   ? kMax
                                   : values * LoadOptions::kStateValueCost + bytes;
    used_ = used_ > kMax - cost ? kMax : used_ + cost;
    return options_ == nullptr || used_ <= options_->max_state_bytes(input_size);
  }

  std::uint64_t used() const noexcept { return used_; }
  std::string message(std::uint64_t input_size) const {
    return options_ ? state_bytes_message(*options_, input_size, used_) : std::string();
  }

 private:
  const LoadOptions* options_ = nullptr;
  std::uint64_t used_ = 0;
};

}  // namespace brine::detail
