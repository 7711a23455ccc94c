// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// test_util.hpp: assertions and fixtures shared by the tests.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <brine/brine.hpp>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <vector>

/// Asserts that `statement` throws `exception_type` whose what() contains `substring`.
#define EXPECT_THROW_WITH(statement, exception_type, substring)                 \
  do {                                                                          \
    bool brine_caught = false;                                                  \
    try {                                                                       \
      statement;                                                                \
    } catch (const exception_type& brine_e) {                                   \
      brine_caught = true;                                                      \
      EXPECT_NE(std::string(brine_e.what()).find(substring), std::string::npos) \
          << "message: " << brine_e.what();                                     \
    } catch (const std::exception& brine_e) {                                   \
      ADD_FAILURE() << "threw the wrong exception type: " << brine_e.what();    \
      brine_caught = true;                                                      \
    }                                                                           \
    if (!brine_caught) ADD_FAILURE() << "did not throw: " #statement;           \
  } while (false)

namespace brine_test {

/// A stable archive holding the values `write(writer)` writes (write, write_value).
template <class Write>
brine::Buffer stable_document(brine::Registry& registry, Write&& write) {
  brine::Buffer out;
  brine::BufferSink sink(out);
  brine::StableWriter writer(sink, registry);
  write(writer);
  writer.finish();
  return out;
}

/// A fresh directory under the system temp dir, removed at destruction.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("brine-test-" + std::to_string(rd()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

/// `bytes` with `n` bytes at `offset` inverted (LevelDB's Corrupt()).
inline std::string corrupt(std::string bytes, std::size_t offset, std::size_t n = 1) {
  for (std::size_t i = offset; i < offset + n && i < bytes.size(); ++i)
    bytes[i] = static_cast<char>(~static_cast<unsigned char>(bytes[i]));
  return bytes;
}

}  // namespace brine_test
