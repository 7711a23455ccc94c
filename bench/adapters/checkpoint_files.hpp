// brine — versioned object persistence for C++17.
// bench/adapters/checkpoint_files.hpp: the rows of workload C (checkpoint) that save to and
// load from a file (WORKLOADS.md "What is timed", File (C)): cereal_binary, boost_binary, and
// the limit rows raw_file, raw_file_fresh, raw_mmap and memcpy. brine's rows are in
// checkpoint_brine*.hpp. The adapter shape is described in adapters/README.md ("Checkpoint
// adapters").
#pragma once

#include <sys/mman.h>

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/serialization/nvp.hpp>
#include <cereal/archives/binary.hpp>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "../support/files.hpp"
#include "../workloads/checkpoint.hpp"
#include "boost_serialize.hpp"
#include "cereal_serialize.hpp"

namespace brine_bench {

/// A Checkpoint row's verification: the streamed canonical CRC of the loaded object.
struct CheckpointObjectRow {
  using Source = Checkpoint;
  using Loaded = Checkpoint;
  static constexpr bool has_save_row = true;
  static const Source& source(const CheckpointData& d) { return d.data; }
  static Fingerprint fingerprint(const Loaded& loaded, const CheckpointData&) {
    return canonical_fingerprint(loaded);
  }
  static void reset(Loaded& loaded) { loaded = Loaded{}; }
  static std::size_t archive_bytes(const std::string& path) { return file_size(path); }
};

inline std::ofstream open_for_save(const std::string& path) {
  std::ofstream os(path, std::ios::binary | std::ios::trunc);
  if (!os) throw_errno("cannot create", path);
  return os;
}

inline void close_and_fsync(std::ofstream& os, const std::string& path) {
  os.close();
  if (!os) throw std::runtime_error("cannot write " + path);
  fsync_path(path);
}

inline std::ifstream open_for_load(const std::string& path) {
  std::ifstream is(path, std::ios::binary);
  if (!is) throw_errno("cannot open", path);
  return is;
}

struct CheckpointCerealBinary : CheckpointObjectRow {
  static constexpr const char* name = "cereal_binary";

  static void save(const Checkpoint& c, const std::string& path) {
    std::ofstream os = open_for_save(path);
    {
      cereal::BinaryOutputArchive ar(os);
      ar(cereal::make_nvp("data", c));
    }
    close_and_fsync(os, path);
  }

  static void load(const std::string& path, Checkpoint& c) {
    std::ifstream is = open_for_load(path);
    {
      cereal::BinaryInputArchive ar(is);
      ar(cereal::make_nvp("data", c));
    }
    is.close();
  }
};

struct CheckpointBoostBinary : CheckpointObjectRow {
  static constexpr const char* name = "boost_binary";

  static void save(const Checkpoint& c, const std::string& path) {
    std::ofstream os = open_for_save(path);
    {
      boost::archive::binary_oarchive ar(os);
      ar << boost::serialization::make_nvp("data", c);
    }
    close_and_fsync(os, path);
  }

  static void load(const std::string& path, Checkpoint& c) {
    std::ifstream is = open_for_load(path);
    {
      boost::archive::binary_iarchive ar(is);
      ar >> boost::serialization::make_nvp("data", c);
    }
    is.close();
  }
};

// ---- Limit rows: the canonical bytes, no library.

/// Bytes read from a file, in a buffer that is kept (pre-faulted) or allocated per load.
struct ByteBuffer {
  std::unique_ptr<char[]> bytes;
  std::size_t size = 0;
  std::size_t capacity = 0;
  std::string_view view() const { return {bytes.get(), size}; }
};

struct CheckpointPayloadRow {
  using Source = std::string;
  static const Source& source(const CheckpointData& d) { return d.payload; }
  static std::size_t archive_bytes(const std::string& path) { return file_size(path); }
};

/// open(O_TRUNC) + write() of the payload + fsync + close: the disk's limit for a save.
inline void raw_write_file(const std::string& payload, const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw_errno("cannot create", path);
  try {
    write_all(fd, payload.data(), payload.size(), path);
    if (::fsync(fd) != 0) throw_errno("cannot fsync", path);
  } catch (...) {
    ::close(fd);
    throw;
  }
  if (::close(fd) != 0) throw_errno("cannot close", path);
}

/// read() of the whole file into `out`, reallocated only when too small.
inline void raw_read_file(const std::string& path, ByteBuffer& out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_errno("cannot open", path);
  try {
    struct stat st;
    if (::fstat(fd, &st) != 0) throw_errno("cannot stat", path);
    const auto n = static_cast<std::size_t>(st.st_size);
    if (out.capacity < n) {
      // new char[] leaves the bytes untouched: the pages are faulted in by the read.
      out.bytes.reset(new char[n]);
      out.capacity = n;
    }
    read_all(fd, out.bytes.get(), n, path);
    out.size = n;
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

/// WORKLOADS.md's raw_file: save = write + fsync; load = read() of the page-cached file into
/// a buffer faulted in beforehand (kept from one load to the next): the page-cache limit.
struct CheckpointRawFile : CheckpointPayloadRow {
  static constexpr const char* name = "raw_file";
  static constexpr bool has_save_row = true;
  using Loaded = ByteBuffer;
  static void save(const std::string& payload, const std::string& path) {
    raw_write_file(payload, path);
  }
  static void load(const std::string& path, ByteBuffer& out) { raw_read_file(path, out); }
  static Fingerprint fingerprint(const ByteBuffer& b, const CheckpointData&) {
    return fingerprint_of(b.view());
  }
  static void reset(ByteBuffer&) {}  // kept: the buffer stays faulted in
};

/// The same read into memory allocated for each load (freed untimed after it): what a load
/// into new memory pays in first-touch page faults, the floor of every copying load.
struct CheckpointRawFileFresh : CheckpointRawFile {
  static constexpr const char* name = "raw_file_fresh";
  static constexpr bool has_save_row = false;  // the same save as raw_file
  static void reset(ByteBuffer& b) { b = ByteBuffer{}; }
};

/// A read-only private mapping of a whole file, unmapped when destroyed.
struct Mapping {
  const char* bytes = nullptr;
  std::size_t size = 0;
  Mapping() = default;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  Mapping(Mapping&& o) noexcept : bytes(o.bytes), size(o.size) { o.bytes = nullptr; }
  Mapping& operator=(Mapping&& o) noexcept {
    std::swap(bytes, o.bytes);
    std::swap(size, o.size);
    return *this;
  }
  ~Mapping() {
    if (bytes != nullptr) ::munmap(const_cast<char*>(bytes), size);
  }
  std::string_view view() const { return {bytes, size}; }
};

/// open + mmap(PROT_READ, MAP_PRIVATE) of the page-cached file + one byte read from every
/// 4 KiB page (load only; its file is written as raw_file's).
struct CheckpointRawMmap : CheckpointPayloadRow {
  static constexpr const char* name = "raw_mmap";
  static constexpr bool has_save_row = false;
  using Loaded = Mapping;
  static void save(const std::string& payload, const std::string& path) {
    raw_write_file(payload, path);
  }
  static void load(const std::string& path, Mapping& m) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw_errno("cannot open", path);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      throw_errno("cannot stat", path);
    }
    const auto n = static_cast<std::size_t>(st.st_size);
    void* p = ::mmap(nullptr, n, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) throw_errno("cannot map", path);
    Mapping fresh;
    fresh.bytes = static_cast<const char*>(p);
    fresh.size = n;
    unsigned char sum = 0;
    for (std::size_t i = 0; i < n; i += 4096)
      sum = static_cast<unsigned char>(sum + static_cast<unsigned char>(fresh.bytes[i]));
    benchmark_sink = sum;
    m = std::move(fresh);
  }
  static Fingerprint fingerprint(const Mapping& m, const CheckpointData&) {
    return fingerprint_of(m.view());
  }
  static void reset(Mapping& m) { m = Mapping{}; }
  // Where the page touches go, so the compiler keeps them.
  static inline volatile unsigned char benchmark_sink = 0;
};

/// The in-memory limit: the payload copied into a buffer faulted in beforehand (save), and
/// back into a second one (load). No file: `path` is not used.
struct CheckpointMemcpy : CheckpointPayloadRow {
  static constexpr const char* name = "memcpy";
  static constexpr bool has_save_row = true;
  using Loaded = ByteBuffer;
  static ByteBuffer& copy() {
    static ByteBuffer b;
    return b;
  }
  static void copy_into(std::string_view from, ByteBuffer& to) {
    if (to.capacity < from.size()) {
      to.bytes.reset(new char[from.size()]);
      to.capacity = from.size();
    }
    std::memcpy(to.bytes.get(), from.data(), from.size());
    to.size = from.size();
  }
  static void save(const std::string& payload, const std::string&) { copy_into(payload, copy()); }
  static void load(const std::string&, ByteBuffer& out) { copy_into(copy().view(), out); }
  static Fingerprint fingerprint(const ByteBuffer& b, const CheckpointData&) {
    return fingerprint_of(b.view());
  }
  static void reset(ByteBuffer&) {}
  static std::size_t archive_bytes(const std::string&) { return copy().size; }
};

}  // namespace brine_bench
