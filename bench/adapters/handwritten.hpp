// brine — versioned object persistence for C++17.
// bench/adapters/handwritten.hpp: the floor row of workload A (issue #14). A plain loop that
// writes each record's canonical fields into a flat buffer, and a loop that builds the same
// Records back from it, with no format, no versions, no bounds checks and no checksum: its
// save is what a hand-tuned encoder reaches, its load the practical limit for filling these
// standard types (strings, vectors and maps must be allocated whatever the format).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "../support/streams.hpp"
#include "../workloads/records.hpp"

namespace brine_bench {

/// Only for Records: the bytes are the workload's canonical encoding (u32 counts and lengths,
/// little-endian scalars written as the host lays them out, which the x86-64 machines these
/// figures come from are).
struct HandwrittenAdapter {
  static constexpr const char* name = "handwritten";

  static void save(const Records& records, OutBuf& out) {
    put_u32(out.extend(4), static_cast<std::uint32_t>(records.size()));
    for (const Record& r : records) {
      std::size_t size = 8 + 8 + 4 + r.name.size() + 4 + 4 * r.feats.size() + 4;
      for (const auto& tag : r.tags) size += 4 + tag.first.size() + 4;
      char* p = out.extend(size);
      p = put(p, r.id);
      p = put(p, r.score);
      p = put_bytes(p, r.name);
      p = put_u32(p, static_cast<std::uint32_t>(r.feats.size()));
      if (!r.feats.empty()) std::memcpy(p, r.feats.data(), 4 * r.feats.size());
      p += 4 * r.feats.size();
      p = put_u32(p, static_cast<std::uint32_t>(r.tags.size()));
      for (const auto& [key, value] : r.tags) {
        p = put_bytes(p, key);
        p = put(p, value);
      }
    }
  }

  static void load(std::string_view archive, Records& records) {
    const char* p = archive.data();
    records.resize(get<std::uint32_t>(p));
    for (Record& r : records) {
      r.id = get<std::int64_t>(p);
      r.score = get<double>(p);
      const std::uint32_t name_size = get<std::uint32_t>(p);
      r.name.assign(p, name_size);
      p += name_size;
      const std::uint32_t feats = get<std::uint32_t>(p);
      r.feats.resize(feats);
      if (feats > 0) std::memcpy(r.feats.data(), p, 4 * std::size_t{feats});
      p += 4 * std::size_t{feats};
      const std::uint32_t tags = get<std::uint32_t>(p);
      for (std::uint32_t i = 0; i < tags; ++i) {
        const std::uint32_t key_size = get<std::uint32_t>(p);
        std::string key(p, key_size);
        p += key_size;
        // Keys arrive in map order, so each insertion is at the end.
        r.tags.emplace_hint(r.tags.end(), std::move(key), get<std::int32_t>(p));
      }
    }
  }

 private:
  template <class T>
  static char* put(char* p, T value) {
    std::memcpy(p, &value, sizeof value);
    return p + sizeof value;
  }
  static char* put_u32(char* p, std::uint32_t value) { return put(p, value); }
  static char* put_bytes(char* p, const std::string& s) {
    p = put_u32(p, static_cast<std::uint32_t>(s.size()));
    std::memcpy(p, s.data(), s.size());
    return p + s.size();
  }
  template <class T>
  static T get(const char*& p) {
    T value;
    std::memcpy(&value, p, sizeof value);
    p += sizeof value;
    return value;
  }
};

}  // namespace brine_bench
