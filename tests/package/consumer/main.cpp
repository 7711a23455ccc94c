// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// main.cpp: a program built against an installed brine (find_package(brine)): declares a
// type, round-trips it through the binary archive, exits non-zero on any mismatch.

#include <brine/brine.hpp>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace consumer {

struct Sensor {
  BRINE_TYPE("consumer.Sensor", 1);
  std::string id;
  double gain = 1.0;
  template <class Archive>
  void getstate(Archive& ar) const {
    ar("id", id)("gain", gain);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    ar("id", id)("gain", gain);
  }
};

class Reading {
 public:
  BRINE_TYPE("consumer.Reading", 2);

  Reading() = default;
  Reading(std::shared_ptr<Sensor> sensor, std::vector<float> samples)
      : sensor_(std::move(sensor)), samples_(std::move(samples)) {}

  const std::shared_ptr<Sensor>& sensor() const { return sensor_; }
  const std::vector<float>& samples() const { return samples_; }
  std::map<std::string, int>& tags() { return tags_; }
  const std::map<std::string, int>& tags() const { return tags_; }

 private:
  // Private hooks: BRINE_TYPE befriends brine::Access.
  template <class Archive>
  void getstate(Archive& ar) const {
    ar("sensor", sensor_)("samples", samples_)("tags", tags_);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    ar("sensor", sensor_)("samples", samples_)("tags", tags_);
  }

  std::shared_ptr<Sensor> sensor_;
  std::vector<float> samples_;
  std::map<std::string, int> tags_;
};

// Registered at start-up in brine's process-wide registry, which lives in libbrine.
BRINE_REGISTER(Sensor);
BRINE_REGISTER(Reading);

}  // namespace consumer

namespace {

int failures = 0;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "FAILED: %s\n", what);
    ++failures;
  }
}

}  // namespace

int main() {
  // The headers installed with the package are those of the version the package claims.
  const std::string header_version = std::to_string(BRINE_VERSION_MAJOR) + "." +
                                     std::to_string(BRINE_VERSION_MINOR) + "." +
                                     std::to_string(BRINE_VERSION_PATCH);
  if (std::strlen(BRINE_EXPECTED_VERSION) != 0)
    check(header_version == BRINE_EXPECTED_VERSION,
          "brine/version.hpp matches the package version");

  check(brine::default_registry().find("consumer.Reading") != nullptr,
        "BRINE_REGISTER filled brine::default_registry()");

  auto sensor = std::make_shared<consumer::Sensor>();
  sensor->id = "thermo-7";
  sensor->gain = 0.25;
  std::vector<consumer::Reading> readings;
  readings.emplace_back(sensor, std::vector<float>{1.5f, -2.0f, 3.25f});
  readings.emplace_back(sensor, std::vector<float>{});
  readings[0].tags()["site"] = 4;

  try {
    brine::Buffer bytes = brine::to_binary(readings);
    auto loaded = brine::from_binary<std::vector<consumer::Reading>>(bytes.view());

    check(loaded.size() == 2, "two readings loaded");
    if (loaded.size() == 2) {
      check(loaded[0].sensor() != nullptr && loaded[0].sensor()->id == "thermo-7" &&
                loaded[0].sensor()->gain == 0.25,
            "sensor fields round-trip");
      check(loaded[0].sensor() == loaded[1].sensor(), "one shared sensor stays one object");
      check(loaded[0].samples() == readings[0].samples(), "samples round-trip");
      check(loaded[1].samples().empty(), "empty samples round-trip");
      check(loaded[0].tags() == readings[0].tags(), "tags round-trip");
    }

    // A non-template part of the compiled library: the state model's JSON rendering.
    std::string json = brine::to_json(brine::to_state(readings[0]), {-1});
    check(json.find("\"$type\":\"consumer.Reading\"") != std::string::npos,
          "to_json names the type");
  } catch (const brine::Error& e) {
    std::fprintf(stderr, "FAILED: brine::Error: %s\n", e.what());
    return 1;
  }

  if (failures != 0) return 1;
  std::printf("brine package consumer: ok (brine %s)\n", header_version.c_str());
  return 0;
}
