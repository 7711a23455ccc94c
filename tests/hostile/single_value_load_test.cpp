// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// single_value_load_test.cpp: the one-call loads (from_binary, load_binary, from_stable,
// load_stable) refuse an archive cut anywhere, the end marker included.

#include <brine/brine.hpp>
#include <fstream>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace {

struct Sample {
  BRINE_TYPE("test.SingleValueSample", 1);
  std::string name;
  std::vector<double> values;
  std::int64_t step = 0;

  template <class Archive>
  void getstate(Archive& ar) const {
    ar("name", name)("values", values)("step", step);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    ar("name", name)("values", values)("step", step);
  }
  friend bool operator==(const Sample& a, const Sample& b) {
    return a.name == b.name && a.values == b.values && a.step == b.step;
  }
};

Sample sample() { return Sample{"a sample", {1.5, -2.25, 3.0}, 42}; }

// Regression: issue #8 (a binary archive cut by up to 28 bytes, its end marker lost, loaded
// through from_binary as if whole).
TEST(SingleValueLoad, BinaryCutAnywhereIsAFormatError) {
  brine::Registry registry;
  const std::string whole(brine::to_binary(sample(), registry).view());
  EXPECT_EQ(brine::from_binary<Sample>(whole, registry), sample());
  for (std::size_t size = 0; size < whole.size(); ++size) {
    SCOPED_TRACE("cut to " + std::to_string(size) + " of " + std::to_string(whole.size()));
    EXPECT_THROW(brine::from_binary<Sample>(std::string_view(whole).substr(0, size), registry),
                 brine::FormatError);
  }
}

// The values after the first are checked too: damage there is not silently ignored.
TEST(SingleValueLoad, BinaryChecksTheValuesAfterTheFirst) {
  brine::Registry registry;
  brine::Buffer bytes;
  {
    brine::BufferSink sink(bytes);
    brine::BinaryWriter writer(sink, registry);
    writer.write(sample());
    writer.write(Sample{"second", {}, 7});
    writer.finish();
  }
  const std::string whole(bytes.view());
  EXPECT_EQ(brine::from_binary<Sample>(whole, registry), sample());
  const std::string first_only(brine::to_binary(sample(), registry).view());
  // Cut inside the second value or its end marker: the first value is whole, the archive not.
  for (std::size_t size = first_only.size() - 1; size < whole.size(); ++size) {
    SCOPED_TRACE("cut to " + std::to_string(size) + " of " + std::to_string(whole.size()));
    EXPECT_THROW(brine::from_binary<Sample>(std::string_view(whole).substr(0, size), registry),
                 brine::FormatError);
  }
}

TEST(SingleValueLoad, FilesCutAnywhereAreFormatErrors) {
  brine::Registry registry;
  brine_test::TempDir dir;
  const auto binary = dir.path() / "sample.brine";
  const auto stable = dir.path() / "sample.brines";
  brine::save_binary(binary, sample(), registry);
  brine::save_stable(stable, sample(), registry);
  EXPECT_EQ(brine::load_binary<Sample>(binary, registry), sample());
  EXPECT_EQ(brine::load_stable<Sample>(stable, registry), sample());
  for (const auto& path : {binary, stable}) {
    const std::string whole = brine::read_file(path);
    const auto cut = dir.path() / "cut";
    for (std::size_t size = 0; size < whole.size(); ++size) {
      SCOPED_TRACE(path.filename().string() + " cut to " + std::to_string(size));
      std::ofstream(cut, std::ios::binary | std::ios::trunc)
          .write(whole.data(), static_cast<long>(size));
      if (path == binary)
        EXPECT_THROW(brine::load_binary<Sample>(cut, registry), brine::FormatError);
      else
        EXPECT_THROW(brine::load_stable<Sample>(cut, registry), brine::FormatError);
    }
  }
}

}  // namespace
