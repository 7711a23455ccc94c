// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// training.hpp: the checkpointed job: a 2-layer MLP trained by SGD with momentum on synthetic data.
#pragma once

#include <algorithm>
#include <array>
#include <brine/brine.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace sample {

inline constexpr std::size_t kInputs = 32;
inline constexpr std::size_t kHidden = 64;
inline constexpr std::size_t kExamples = 4096;
inline constexpr std::size_t kBatch = 32;

/// SplitMix64: expands one seed into well-mixed words. Used to build the dataset and to seed
/// Xoshiro256; never checkpointed because the dataset is rebuilt from its seed.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : x_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (x_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in [-1, 1), from the top 24 bits so the float is exact.
  float uniform_pm1() { return static_cast<float>(next() >> 40) * 0x1p-23f - 1.0f; }

 private:
  std::uint64_t x_;
};

/// xoshiro256**, the training RNG. Its four state words are the whole of its state, so they
/// go into the checkpoint as plain integers: std::mt19937's state would have to round-trip
/// through its text form, whose layout the standard does not fix across library versions.
class Xoshiro256 {
 public:
  BRINE_TYPE("sample.Xoshiro256", 1);

  Xoshiro256() = default;
  explicit Xoshiro256(std::uint64_t seed) {
    SplitMix64 mix(seed);
    for (auto& word : s_) word = mix.next();
  }
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  /// Uniform in [0, n) without modulo bias (Lemire's multiply-shift with rejection).
  std::uint32_t below(std::uint32_t n) {
    for (;;) {
      std::uint64_t m = (next() >> 32) * n;
      if (static_cast<std::uint32_t>(m) >= (0u - n) % n) return static_cast<std::uint32_t>(m >> 32);
    }
  }
  float uniform_pm1() { return static_cast<float>(next() >> 40) * 0x1p-23f - 1.0f; }

  template <class Archive>
  void getstate(Archive& ar) const {
    ar("s", s_);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    ar("s", s_);
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<std::uint64_t, 4> s_{};
};

/// The training set: inputs in [-1, 1) and 0/1 labels from a fixed random "teacher" network
/// with 5% label noise. Rebuilt from its seed on every start, so never checkpointed.
struct Dataset {
  std::vector<float> x;  // kExamples rows of kInputs
  std::vector<float> y;

  explicit Dataset(std::uint64_t seed) : x(kExamples * kInputs), y(kExamples) {
    SplitMix64 mix(seed);
    constexpr std::size_t kTeacher = 8;
    std::vector<float> tw(kTeacher * kInputs), tv(kTeacher);
    for (auto& w : tw) w = mix.uniform_pm1();
    for (auto& v : tv) v = mix.uniform_pm1();
    for (std::size_t i = 0; i < kExamples; ++i) {
      float* row = &x[i * kInputs];
      for (std::size_t j = 0; j < kInputs; ++j) row[j] = mix.uniform_pm1();
      float score = 0;
      for (std::size_t k = 0; k < kTeacher; ++k) {
        float a = 0;
        for (std::size_t j = 0; j < kInputs; ++j) a += tw[k * kInputs + j] * row[j];
        score += tv[k] * std::tanh(a);
      }
      bool label = score > 0;
      if ((mix.next() % 20) == 0) label = !label;
      y[i] = label ? 1.0f : 0.0f;
    }
  }
};

/// kInputs -> kHidden (tanh) -> 1 (logit). 2177 parameters.
struct Mlp {
  BRINE_TYPE("sample.Mlp", 1);

  std::vector<float> w1 = std::vector<float>(kHidden * kInputs);
  std::vector<float> b1 = std::vector<float>(kHidden);
  std::vector<float> w2 = std::vector<float>(kHidden);
  float b2 = 0;

  template <class Archive>
  void getstate(Archive& ar) const {
    ar("w1", w1)("b1", b1)("w2", w2)("b2", b2);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    ar("w1", w1)("b1", b1)("w2", w2)("b2", b2);
  }

  bool has_expected_shape() const {
    return w1.size() == kHidden * kInputs && b1.size() == kHidden && w2.size() == kHidden;
  }
};

/// SGD with (heavy-ball) momentum. The velocities are state: resuming with them zeroed would
/// give a different trajectory than the run that was never interrupted.
struct SgdMomentum {
  BRINE_TYPE("sample.SgdMomentum", 1);

  float learning_rate = 0.05f;
  float momentum = 0.9f;
  Mlp velocity;  // same shapes as the model, zero at the start

  template <class Archive>
  void getstate(Archive& ar) const {
    ar("learning_rate", learning_rate)("momentum", momentum)("velocity", velocity);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    ar("learning_rate", learning_rate)("momentum", momentum)("velocity", velocity);
  }

  void update(std::vector<float>& param, std::vector<float>& v,
              const std::vector<float>& grad) const {
    for (std::size_t i = 0; i < param.size(); ++i) {
      v[i] = momentum * v[i] + grad[i];
      param[i] -= learning_rate * v[i];
    }
  }
};

/// Everything that determines the rest of the run. Two jobs with equal state produce
/// bit-identical futures, which is what makes kill-and-resume indistinguishable from an
/// uninterrupted run.
class TrainingJob {
 public:
  BRINE_TYPE("sample.TrainingJob", 1);

  static constexpr std::uint64_t kDataSeed = 20240611;
  static constexpr std::uint64_t kInitSeed = 7;

  /// For loading: attach() a dataset before use.
  TrainingJob() = default;

  /// A fresh job at step 0.
  explicit TrainingJob(const Dataset& data) : rng_(kInitSeed) {
    const float scale1 = 1.0f / std::sqrt(static_cast<float>(kInputs));
    const float scale2 = 1.0f / std::sqrt(static_cast<float>(kHidden));
    for (auto& w : model_.w1) w = scale1 * rng_.uniform_pm1();
    for (auto& w : model_.w2) w = scale2 * rng_.uniform_pm1();
    order_.resize(kExamples);
    for (std::size_t i = 0; i < kExamples; ++i) order_[i] = static_cast<std::uint32_t>(i);
    cursor_ = static_cast<std::uint32_t>(kExamples);  // the first step shuffles
    attach(data);
  }

  /// Re-attaches the dataset after a load and checks that the checkpoint fits it: a checkpoint
  /// written by a build with other sizes must not be trained on as if it matched.
  void attach(const Dataset& data) {
    if (data_seed_ != kDataSeed || !model_.has_expected_shape() ||
        !optimizer_.velocity.has_expected_shape() || order_.size() != data.y.size() ||
        cursor_ > order_.size() || losses_.size() != step_)
      throw std::runtime_error("checkpoint does not match this program's model and dataset");
    for (std::uint32_t index : order_)
      if (index >= data.y.size()) throw std::runtime_error("checkpoint holds a bad example index");
    data_ = &data;
    grad_ = Mlp{};
  }

  std::uint64_t step() const { return step_; }
  const Mlp& model() const { return model_; }
  const std::vector<float>& losses() const { return losses_; }

  /// One minibatch step.
  void train_step() {
    std::fill(grad_.w1.begin(), grad_.w1.end(), 0.0f);
    std::fill(grad_.b1.begin(), grad_.b1.end(), 0.0f);
    std::fill(grad_.w2.begin(), grad_.w2.end(), 0.0f);
    grad_.b2 = 0;
    float loss = 0;
    for (std::size_t b = 0; b < kBatch; ++b) {
      if (cursor_ == order_.size()) shuffle();
      std::uint32_t i = order_[cursor_++];
      loss += accumulate(&data_->x[i * kInputs], data_->y[i]);
    }
    optimizer_.update(model_.w1, optimizer_.velocity.w1, grad_.w1);
    optimizer_.update(model_.b1, optimizer_.velocity.b1, grad_.b1);
    optimizer_.update(model_.w2, optimizer_.velocity.w2, grad_.w2);
    optimizer_.velocity.b2 = optimizer_.momentum * optimizer_.velocity.b2 + grad_.b2;
    model_.b2 -= optimizer_.learning_rate * optimizer_.velocity.b2;
    losses_.push_back(loss / kBatch);
    ++step_;
  }

  /// Mean of the last `n` minibatch losses.
  double mean_recent_loss(std::size_t n) const {
    n = std::min(n, losses_.size());
    double sum = 0;
    for (std::size_t i = losses_.size() - n; i < losses_.size(); ++i) sum += losses_[i];
    return n == 0 ? 0.0 : sum / static_cast<double>(n);
  }

  /// Mean loss and accuracy over the whole dataset; does not change the state.
  std::pair<double, double> evaluate() const {
    double loss = 0;
    std::size_t correct = 0;
    std::array<float, kHidden> h;
    for (std::size_t i = 0; i < kExamples; ++i) {
      float z = forward(&data_->x[i * kInputs], h);
      float y = data_->y[i];
      loss += bce(z, y);
      correct += (z > 0) == (y > 0.5f);
    }
    return {loss / kExamples, static_cast<double>(correct) / kExamples};
  }

  template <class Archive>
  void getstate(Archive& ar) const {
    ar("data_seed", data_seed_)("step", step_)("model", model_)("optimizer", optimizer_)(
        "rng", rng_)("order", order_)("cursor", cursor_)("epoch", epoch_)("losses", losses_);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    ar("data_seed", data_seed_)("step", step_)("model", model_)("optimizer", optimizer_)(
        "rng", rng_)("order", order_)("cursor", cursor_)("epoch", epoch_)("losses", losses_);
  }

 private:
  static float bce(float z, float y) {
    // log(1 + e^-|z|) form: stays finite for large |z| where log(sigmoid(z)) would not.
    return std::max(z, 0.0f) - z * y + std::log1p(std::exp(-std::fabs(z)));
  }

  float forward(const float* x, std::array<float, kHidden>& h) const {
    float z = model_.b2;
    for (std::size_t k = 0; k < kHidden; ++k) {
      const float* w = &model_.w1[k * kInputs];
      float a = model_.b1[k];
      for (std::size_t j = 0; j < kInputs; ++j) a += w[j] * x[j];
      h[k] = std::tanh(a);
      z += model_.w2[k] * h[k];
    }
    return z;
  }

  float accumulate(const float* x, float y) {
    std::array<float, kHidden> h;
    float z = forward(x, h);
    float p = 1.0f / (1.0f + std::exp(-z));
    float dz = (p - y) / kBatch;
    grad_.b2 += dz;
    for (std::size_t k = 0; k < kHidden; ++k) {
      grad_.w2[k] += dz * h[k];
      float da = dz * model_.w2[k] * (1.0f - h[k] * h[k]);
      grad_.b1[k] += da;
      float* g = &grad_.w1[k * kInputs];
      for (std::size_t j = 0; j < kInputs; ++j) g[j] += da * x[j];
    }
    return bce(z, y);
  }

  void shuffle() {
    for (std::size_t i = order_.size() - 1; i > 0; --i)
      std::swap(order_[i], order_[rng_.below(static_cast<std::uint32_t>(i + 1))]);
    cursor_ = 0;
    ++epoch_;
  }

  std::uint64_t data_seed_ = kDataSeed;
  std::uint64_t step_ = 0;
  Mlp model_;
  SgdMomentum optimizer_;
  Xoshiro256 rng_;
  std::vector<std::uint32_t> order_;  // this epoch's shuffled example order
  std::uint32_t cursor_ = 0;          // next position in order_
  std::uint32_t epoch_ = 0;
  std::vector<float> losses_;  // one minibatch loss per step

  // Not state, so not in getstate: the dataset is rebuilt from kDataSeed on every start (saving
  // it would make every checkpoint a dozen times larger for nothing) and re-attached by
  // attach(); the gradient buffer is scratch that each step overwrites.
  const Dataset* data_ = nullptr;
  Mlp grad_;
};

}  // namespace sample
