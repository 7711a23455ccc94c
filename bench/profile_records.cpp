// brine — versioned object persistence for C++17.
// bench/profile_records.cpp: a driver for instruction-count profiles (valgrind --tool=callgrind)
// of one row of brine_bench at a time. Google Benchmark's loop decides its own iteration
// count, which makes two profiles hard to compare; this runs a fixed number of saves or loads
// of the records or graph workload through one adapter, so the instructions of two rows (or
// two commits) compare directly, whatever the load on the machine.
//
// Usage: brine_profile_records <records|graph> <save|load> <library> [rounds] [--quick]
//   library: handwritten (records only), brine_binary, brine_binary_unchecked, brine_stable,
//            cereal_binary
// With several libraries separated by commas, it times them instead, round by round in turn,
// and prints each one's median and the median of the per-round ratios to the first library:
// on a machine shared with other work, a ratio within a round is steadier than two medians.
// Example:
//   valgrind --tool=callgrind --callgrind-out-file=load.out
//       build/bench/brine_profile_records records load brine_binary 3 --quick

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/brine_binary.hpp"
#include "adapters/brine_stable.hpp"
#include "adapters/cereal_binary.hpp"
#include "adapters/handwritten.hpp"
#include "support/streams.hpp"
#include "workloads/graph.hpp"
#include "workloads/records.hpp"

namespace {

using namespace brine_bench;

/// brine_binary without its block checksums (LoadOptions::verify_checksums off): what the
/// checksums cost a load, for analysis only; not a row of brine_bench.
struct BrineBinaryUncheckedAdapter {
  static constexpr const char* name = "brine_binary_unchecked";
  template <class T>
  static void save(const T& data, OutBuf& out) {
    BrineBinaryAdapter::save(data, out);
  }
  template <class T>
  static void load(std::string_view archive, T& data) {
    brine::MemorySource source(archive);
    brine::LoadOptions options;
    options.verify_checksums = false;
    brine::BinaryReader reader(source, brine::default_registry(), options);
    reader.read(data);
  }
};

// Kept out of line so that a profile can count them alone:
// valgrind --tool=callgrind --toggle-collect='*load_once*' counts the loads, not the setup and
// not the destruction of what they loaded.
template <class Adapter, class Data>
__attribute__((noinline)) void load_once(std::string_view archive, Data& data) {
  Adapter::load(archive, data);
}
template <class Adapter, class Data>
__attribute__((noinline)) void save_once(const Data& data, OutBuf& out) {
  Adapter::save(data, out);
}

// Every round loads into a fresh object, as the benchmark's timed load does; the save before
// the rounds is untimed setup, and so is the first save of a save profile (it grows OutBuf).
template <class Adapter, class Data>
int run(const Data& data, bool save, int rounds) {
  OutBuf out;
  Adapter::save(data, out);
  std::size_t total = out.size();
  for (int i = 0; i < rounds; ++i) {
    if (save) {
      out.clear();
      save_once<Adapter>(data, out);
      total += out.size();
    } else {
      Data loaded;
      load_once<Adapter>(out.view(), loaded);
      total += loaded.size();
    }
  }
  std::printf("%s: %zu\n", Adapter::name, total);
  return 0;
}

// brine_bench's settle_allocator: a 64 KiB free makes glibc consolidate its fast bins, which
// the benchmark's timed loop does after every save and load and before every load.
void settle_allocator() {
  void* volatile p = std::malloc(64 * 1024);
  std::free(p);
}

// One timed save or load of `data` as brine_bench times it (loads into a fresh object,
// destroyed untimed).
template <class Adapter, class Data>
std::function<double()> timed(const Data& data, bool save) {
  auto out = std::make_shared<OutBuf>();
  Adapter::save(data, *out);
  return [&data, save, out]() {
    using Clock = std::chrono::steady_clock;
    if (save) {
      out->clear();
      const auto start = Clock::now();
      Adapter::save(data, *out);
      settle_allocator();
      return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    }
    Data loaded;
    settle_allocator();
    const auto start = Clock::now();
    Adapter::load(out->view(), loaded);
    settle_allocator();
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  };
}

template <class Data>
std::function<double()> timed_row(const Data& data, std::string_view library, bool save) {
  if constexpr (std::is_same_v<Data, Records>) {
    if (library == "handwritten") return timed<HandwrittenAdapter>(data, save);
  }
  if (library == "brine_binary") return timed<BrineBinaryAdapter>(data, save);
  if (library == "brine_binary_unchecked") return timed<BrineBinaryUncheckedAdapter>(data, save);
  if (library == "brine_stable") return timed<BrineStableAdapter>(data, save);
  if (library == "cereal_binary") return timed<CerealBinaryAdapter>(data, save);
  return nullptr;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

template <class Data>
int compare(const Data& data, std::string_view libraries, bool save, int rounds) {
  std::vector<std::string> names;
  std::vector<std::function<double()>> rows;
  for (std::size_t at = 0; at <= libraries.size();) {
    std::size_t comma = std::min(libraries.find(',', at), libraries.size());
    names.emplace_back(libraries.substr(at, comma - at));
    rows.push_back(timed_row(data, names.back(), save));
    if (!rows.back()) {
      std::fprintf(stderr, "unknown library '%s'\n", names.back().c_str());
      return 2;
    }
    at = comma + 1;
  }
  std::vector<std::vector<double>> ms(rows.size()), ratio(rows.size());
  for (int round = 0; round < rounds; ++round) {
    std::vector<double> t(rows.size());
    // Rotated each round, as WORKLOADS.md's rounds are; primed untimed before each row.
    for (std::size_t k = 0; k < rows.size(); ++k) {
      std::size_t i = (k + static_cast<std::size_t>(round)) % rows.size();
      rows[i]();
      t[i] = rows[i]();
    }
    for (std::size_t i = 0; i < rows.size(); ++i) {
      ms[i].push_back(t[i]);
      ratio[i].push_back(t[0] / t[i]);
    }
  }
  for (std::size_t i = 0; i < rows.size(); ++i)
    std::printf("%-14s median %8.2f ms  min %8.2f ms  speed vs %s (median of ratios) %.3fx\n",
                names[i].c_str(), median(ms[i]), *std::min_element(ms[i].begin(), ms[i].end()),
                names[0].c_str(), median(ratio[i]));
  return 0;
}

template <class Data>
int dispatch(const Data& data, std::string_view library, bool save, int rounds) {
  if (library.find(',') != std::string_view::npos) return compare(data, library, save, rounds);
  if constexpr (std::is_same_v<Data, Records>) {
    if (library == "handwritten") return run<HandwrittenAdapter>(data, save, rounds);
  }
  if (library == "brine_binary") return run<BrineBinaryAdapter>(data, save, rounds);
  if (library == "brine_binary_unchecked")
    return run<BrineBinaryUncheckedAdapter>(data, save, rounds);
  if (library == "brine_stable") return run<BrineStableAdapter>(data, save, rounds);
  if (library == "cereal_binary") return run<CerealBinaryAdapter>(data, save, rounds);
  std::fprintf(stderr, "unknown library '%.*s'\n", static_cast<int>(library.size()),
               library.data());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s <records|graph> <save|load> <library> [rounds] [--quick]\n",
                 argv[0]);
    return 2;
  }
  const std::string_view workload = argv[1];
  const bool save = std::string_view(argv[2]) == "save";
  const std::string_view library = argv[3];
  const int rounds = argc > 4 ? std::atoi(argv[4]) : 3;
  const bool quick = argc > 5 && std::strcmp(argv[5], "--quick") == 0;
  if (workload == "records")
    return dispatch(make_records(quick ? kRecordsQuickCount : kRecordsFullCount), library, save,
                    rounds);
  if (workload == "graph") {
    const Graph graph = quick ? make_graph(kGraphQuickNodes, kGraphQuickRoots)
                              : make_graph(kGraphFullNodes, kGraphFullRoots);
    return dispatch(graph, library, save, rounds);
  }
  std::fprintf(stderr, "unknown workload '%.*s'\n", static_cast<int>(workload.size()),
               workload.data());
  return 2;
}
