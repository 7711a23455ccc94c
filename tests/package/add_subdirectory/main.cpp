// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// main.cpp: a program that builds brine with add_subdirectory(): declares types (one behind a
// polymorphic pointer), round-trips them through the binary archive, exits non-zero on any
// mismatch.

#include <brine/brine.hpp>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace app {

struct Layer {
  BRINE_TYPE("app.Layer", 1);
  virtual ~Layer() = default;
  virtual int width() const { return 0; }
  std::string label;
  template <class Archive>
  void getstate(Archive& ar) const {
    ar("label", label);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    ar("label", label);
  }
};

struct Dense final : Layer {
  BRINE_TYPE("app.Dense", 3);
  std::vector<double> weights;
  std::optional<double> dropout;
  int width() const override { return static_cast<int>(weights.size()); }
  template <class Archive>
  void getstate(Archive& ar) const {
    brine::base<Layer>(ar, *this);
    ar("weights", weights)("dropout", dropout);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    brine::base<Layer>(ar, *this);
    ar("weights", weights)("dropout", dropout);
  }
};

struct Model {
  BRINE_TYPE("app.Model", 1);
  std::vector<std::unique_ptr<Layer>> layers;
  template <class Archive>
  void getstate(Archive& ar) const {
    ar("layers", layers);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    ar("layers", layers);
  }
};

BRINE_REGISTER_POLYMORPHIC(Dense, Layer);

}  // namespace app

int main() {
  app::Model model;
  auto dense = std::make_unique<app::Dense>();
  dense->label = "hidden";
  dense->weights = {0.5, -1.0, 2.0};
  dense->dropout = 0.1;
  model.layers.push_back(std::move(dense));
  model.layers.push_back(nullptr);

  try {
    brine::Buffer bytes = brine::to_binary(model);
    app::Model loaded = brine::from_binary<app::Model>(bytes.view());
    bool ok = loaded.layers.size() == 2 && loaded.layers[1] == nullptr;
    const auto* d = ok ? dynamic_cast<const app::Dense*>(loaded.layers[0].get()) : nullptr;
    ok = d != nullptr && d->label == "hidden" && d->width() == 3 && d->weights[1] == -1.0 &&
         d->dropout == 0.1;
    if (!ok) {
      std::fprintf(stderr, "FAILED: the model did not round-trip\n");
      return 1;
    }
  } catch (const brine::Error& e) {
    std::fprintf(stderr, "FAILED: brine::Error: %s\n", e.what());
    return 1;
  }
  std::printf("brine add_subdirectory consumer: ok\n");
  return 0;
}
