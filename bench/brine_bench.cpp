// brine — versioned object persistence for C++17.
// bench/brine_bench.cpp: one Google Benchmark binary timing every workload x op x library,
// following shared/bench/WORKLOADS.md, so one run compares all of them side by side.
//
// Workloads (data in bench/workloads/, exactly as WORKLOADS.md; --quick sizes in brackets):
//   records   200,000 records of i64, f64, 8-16 chars, 16 floats, 3-entry map [20,000]
//   graph     100,000 NodeA/NodeB in a shared_ptr DAG, 1,000 roots, 30% shared [10,000, 100]
//   checkpoint  config + 64 float32 tensors, 256 MiB, to and from files with fsync [dims / 16]
//             (its own harness and adapters: bench_checkpoint_save/load, adapters/checkpoint_*)
// Ops:        save (object -> in-memory archive), load (archive -> default-constructed object)
// Libraries:  memcpy (limit row: the canonical bytes), handwritten (records only: the floor a
//             plain loop reaches, no format or checks), cereal_binary, boost_binary,
//             cereal_json, cereal_xml, boost_text, boost_xml
//             [brine_binary, brine_stable, brine_json when built with brine]
// Text rows (cereal_json, cereal_xml, boost_text, boost_xml, brine_json) take seconds per op
// at full size: they run one iteration per repetition and their loads are not primed
// (WORKLOADS.md); see bench_load.
//
// Rows are named <workload>/<op>/<library>. MB/s are canonical payload bytes per second, the
// same basis for every library, so MB/s ratios are time ratios. Counters: archive_bytes (the
// library's archive size), items_per_second (records or nodes). The console prints
// bytes_per_second in binary units (M/s is MiB/s); WORKLOADS.md's MB/s are 10^6 bytes/s, as
// the JSON output's raw bytes_per_second gives them. Save and load rows also report
// peak_bytes: how far the process's resident memory rose during one save, or one load into
// an empty object (measure_peak); records/load/handwritten's is the loaded objects alone.
//
// Usage: brine_bench [--quick] [Google Benchmark flags], e.g. --benchmark_filter=graph/
//        BRINE_BENCH_QUICK=1 in the environment is the same as --quick.

#include <benchmark/benchmark.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "adapters/boost_binary.hpp"
#include "adapters/boost_text.hpp"
#include "adapters/boost_xml.hpp"
#if BRINE_BENCH_HAVE_BRINE
#include "adapters/brine_binary.hpp"
#include "adapters/brine_json.hpp"
#include "adapters/brine_stable.hpp"
#endif
#include "adapters/cereal_binary.hpp"
#include "adapters/cereal_json.hpp"
#include "adapters/cereal_xml.hpp"
#include "adapters/checkpoint_files.hpp"
#include "adapters/handwritten.hpp"
#include "adapters/memcpy.hpp"
#if BRINE_BENCH_HAVE_BRINE
#include "adapters/checkpoint_brine.hpp"
#include "adapters/checkpoint_manager.hpp"
#endif
#if BRINE_BENCH_HAVE_BRINE_CEREAL
#include "adapters/brine_cereal_hooks.hpp"
#endif
#if BRINE_BENCH_HAVE_TENSOR_FIELDS
#include "adapters/checkpoint_brine_mapped.hpp"
#endif
#if BRINE_BENCH_HAVE_BRINE_BOOST
#include "adapters/brine_boost_hooks.hpp"
#endif
#if BRINE_BENCH_HAVE_SAFETENSORS
#include "adapters/checkpoint_safetensors.hpp"
#endif
#include "support/files.hpp"
#include "support/streams.hpp"
#include "workloads/canonical.hpp"
#include "workloads/checkpoint.hpp"
#include "workloads/graph.hpp"
#include "workloads/records.hpp"

namespace brine_bench {
namespace {

// Set by main() before any benchmark runs, read when the data is first generated.
bool g_quick = false;

// Google Benchmark exits 0 even when rows were skipped with an error, but a failed round trip
// must fail the run (CI's smoke run relies on it), so main() reports these and exits 1.
// Keyed by row: with repetitions, a row fails once per repetition.
std::map<std::string, std::string> g_failures;

void fail(benchmark::State& state, const std::string& row, const std::string& message) {
  g_failures.emplace(row, message);
  state.SkipWithError(message.c_str());
}

std::string row_name(const char* workload, const char* op, const char* library) {
  return std::string(workload) + "/" + op + "/" + library;
}

/// True for an adapter that declares `static constexpr bool is_text = true` (a text format:
/// cereal JSON and XML, Boost text and XML, brine JSON); false when the member is absent.
template <class A, class = void>
struct IsTextAdapter : std::false_type {};
template <class A>
struct IsTextAdapter<A, std::void_t<decltype(A::is_text)>> : std::bool_constant<A::is_text> {};

// ---- Workloads: what to generate and what a loaded object must satisfy beyond its CRC.

struct RecordsWorkload {
  using Data = Records;
  static constexpr const char* name = "records";

  static std::size_t objects() { return g_quick ? kRecordsQuickCount : kRecordsFullCount; }
  static Data generate() { return make_records(objects()); }
  static const Fingerprint& published() { return kRecordsFullFingerprint; }
  static std::string check_structure(const Data&) { return {}; }
};

struct GraphWorkload {
  using Data = Graph;
  static constexpr const char* name = "graph";

  static std::size_t objects() { return g_quick ? kGraphQuickNodes : kGraphFullNodes; }
  static Data generate() {
    return make_graph(objects(), g_quick ? kGraphQuickRoots : kGraphFullRoots);
  }
  static const Fingerprint& published() { return kGraphFullFingerprint; }
  // The CRC cannot see sharing: a library that duplicated shared nodes would encode the same
  // node twice, but only the walk names the fault.
  static std::string check_structure(const Data& loaded) {
    return verify_graph_sharing(loaded, objects());
  }
};

/// A workload's data, generated once per process on first use (so listing or filtering
/// benchmarks costs nothing), with its canonical encoding.
template <class W>
struct Prepared {
  typename W::Data data;
  std::string payload;  // the canonical encoding: the MB/s basis and the memcpy row's object
  Fingerprint fingerprint;
  std::string error;  // non-empty if the generator disagrees with WORKLOADS.md
};

template <class W>
const Prepared<W>& prepared() {
  static const Prepared<W> p = [] {
    Prepared<W> q;
    q.data = W::generate();
    q.payload = canonical_encoding(q.data);
    q.fingerprint = fingerprint_of(q.payload);
    // Only full sizes have published values; quick figures never count anyway.
    if (!g_quick && q.fingerprint != W::published()) {
      q.error = std::string(W::name) + " generator gives " + describe(q.fingerprint) +
                ", WORKLOADS.md says " + describe(W::published());
    } else {
      q.error = W::check_structure(q.data);
    }
    return q;
  }();
  return p;
}

// ---- Subjects: which object of a workload an adapter is handed, and how a load is reset.

/// Library rows serialize the workload's data structure.
template <class W>
struct ObjectSubject {
  using Data = typename W::Data;
  // Each load goes into a default-constructed object (WORKLOADS.md), so the previous one
  // must be destroyed between iterations, untimed; the library allocates and frees.
  static constexpr bool kIsLimitRow = false;

  static const Data& source(const Prepared<W>& p) { return p.data; }

  static std::string verify(const Data& loaded, const Prepared<W>& p) {
    const Fingerprint got = fingerprint_of(canonical_encoding(loaded));
    if (got != p.fingerprint) {
      return std::string(W::name) + ": loaded object encodes to " + describe(got) +
             ", the original to " + describe(p.fingerprint);
    }
    return W::check_structure(loaded);
  }
};

/// The interop rows (brine_cereal_hooks, brine_boost_hooks) serialize workload A's records
/// copied into `Record`, a type annotated for one library only (adapters/brine_*_hooks.hpp).
/// The copy is made once, untimed; a load is verified through the workload's own encoding.
template <class Record>
struct RecordsCopiedAs {
  template <class W>
  struct Subject {
    using Data = std::vector<Record>;
    static constexpr bool kIsLimitRow = false;

    static const Data& source(const Prepared<W>& p) {
      static const Data copy = convert_records<Record>(p.data);
      return copy;
    }

    static std::string verify(const Data& loaded, const Prepared<W>& p) {
      return ObjectSubject<W>::verify(convert_records<brine_bench::Record>(loaded), p);
    }
  };
};

/// Limit rows copy the canonical bytes.
template <class W>
struct PayloadSubject {
  using Data = std::string;
  // The limit is a copy into memory faulted in beforehand: the destination is kept, and
  // nothing is allocated or freed, so the loop is the copy alone.
  static constexpr bool kIsLimitRow = true;

  static std::string_view source(const Prepared<W>& p) { return p.payload; }

  static std::string verify(const Data& loaded, const Prepared<W>& p) {
    const Fingerprint got = fingerprint_of(loaded);
    if (got != p.fingerprint) {
      return std::string(W::name) + ": copied bytes are " + describe(got) + ", the payload " +
             describe(p.fingerprint);
    }
    return {};
  }
};

// glibc's free() leaves small chunks in its fast bins and coalesces them only when a later
// malloc asks for a large block, so an op can pay for what an earlier one freed: a load
// right after the previous loaded object was destroyed paid for coalescing its ~10^5-10^6
// chunks in its first vector allocation (perf: malloc_consolidate ~10% of
// graph/load/cereal_binary), destruction work on the clock. So every timed op ends with this
// (the op pays for the archive it destroyed, as WORKLOADS.md times it), and so does the
// untimed destruction of a loaded object. A 64 KiB request is above glibc's small-bin sizes,
// so it coalesces, and below its mmap threshold, so it is served from the heap where the
// chunks are. Under other allocators it is one cheap malloc/free.
void settle_allocator() {
  // Through a volatile so the compiler cannot pair and drop the malloc/free. Not
  // benchmark::DoNotOptimize: for a pointer, 1.7.1 uses an asm constraint ("+m,r") that
  // g++ 12 -O1 -fsanitize=address mishandled here, handing free() a different address.
  void* volatile p = std::malloc(64 * 1024);
  std::free(p);
}

// ---- Peak memory of a save.
//
// What a save holds beside the object and the archive it writes: the rise of the process's
// resident set from just before the save to its highest point during it. Linux keeps that
// highest point (VmHWM) and lets a process reset it to its current RSS (writing 5 to
// /proc/self/clear_refs), so no sampling is needed. A counting allocator would miss what is
// not allocated through malloc/new and would have to wrap every allocation of every row;
// RSS is what the issue measured (/usr/bin/time's maximum resident set). The archive goes
// into an OutBuf that an earlier save has grown and faulted in, so it is not counted, as a
// file being written would not be. malloc_trim first returns the pages glibc keeps from
// earlier rows' frees: without it, a save that reuses them would show no rise at all.

long proc_status_kib(const char* key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  const std::size_t n = std::strlen(key);
  while (std::getline(status, line))
    if (line.compare(0, n, key) == 0) return std::strtol(line.c_str() + n, nullptr, 10);
  return -1;
}

/// Bytes the resident set rose by during `work()`, or -1 where Linux's peak reset is missing.
template <class Work>
double measure_peak(Work&& work) {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
  const long before = proc_status_kib("VmRSS:");
  {
    std::ofstream clear("/proc/self/clear_refs");
    clear << "5";
    clear.flush();
    if (!clear || before < 0) return -1;
  }
  work();
  const long peak = proc_status_kib("VmHWM:");
  if (peak < 0) return -1;
  return static_cast<double>(peak > before ? peak - before : 0) * 1024;
}

/// Each save row's peak_bytes, measured once per row and process: it is a property of the
/// library and the data, not of the repetition, and a text row's save takes seconds.
std::map<std::string, double> g_save_peaks;
std::map<std::string, double> g_load_peaks;

template <class W>
void finish(benchmark::State& state, const std::string& row, const Prepared<W>& p,
            std::size_t archive_bytes, const std::string& error) {
  state.SetBytesProcessed(static_cast<std::int64_t>(p.payload.size()) * state.iterations());
  state.SetItemsProcessed(static_cast<std::int64_t>(W::objects()) * state.iterations());
  state.counters["archive_bytes"] = static_cast<double>(archive_bytes);
  if (!error.empty()) fail(state, row, error);
}

// ---- The two benchmark bodies.
//
// Google Benchmark calls each body several times (to size the iteration count, then once per
// repetition); every call primes, times, then verifies what the timed loop produced.

template <class W, template <class> class S, class A>
void bench_save(benchmark::State& state) {
  using Subject = S<W>;
  const std::string row = row_name(W::name, "save", A::name);
  const Prepared<W>& p = prepared<W>();
  if (!p.error.empty()) {
    fail(state, row, p.error);
    return;
  }
  try {
    OutBuf out;
    // Untimed prime: grows `out` to its final capacity and faults its pages in, so the timed
    // saves write into mapped memory like any save after the first in a long-lived program.
    A::save(Subject::source(p), out);
    auto peak = g_save_peaks.find(row);
    if (peak == g_save_peaks.end()) {
      out.clear();
      double bytes = measure_peak([&] { A::save(Subject::source(p), out); });
      peak = g_save_peaks.emplace(row, bytes).first;
    }
    for (auto _ : state) {
      out.clear();
      A::save(Subject::source(p), out);
      if constexpr (!Subject::kIsLimitRow) settle_allocator();
      benchmark::DoNotOptimize(out);
    }
    // Proves the timed saves wrote a complete archive: it must load back to the original.
    typename Subject::Data back{};
    A::load(out.view(), back);
    finish<W>(state, row, p, out.size(), Subject::verify(back, p));
    if (peak->second >= 0) state.counters["peak_bytes"] = peak->second;
  } catch (const std::exception& e) {
    fail(state, row, std::string("exception: ") + e.what());
  }
}

template <class W, template <class> class S, class A>
void bench_load(benchmark::State& state) {
  using Subject = S<W>;
  const std::string row = row_name(W::name, "load", A::name);
  const Prepared<W>& p = prepared<W>();
  if (!p.error.empty()) {
    fail(state, row, p.error);
    return;
  }
  try {
    OutBuf out;
    A::save(Subject::source(p), out);
    const std::string_view archive = out.view();
    typename Subject::Data loaded{};
    // Untimed prime, as in the reference rounds: the timed loads then allocate from memory
    // the allocator has just used and freed, not from pages the process never touched.
    // WORKLOADS.md does not prime text formats (seconds per op dwarf the effect), and a
    // prime would double the time their rows take.
    if constexpr (!IsTextAdapter<A>::value) A::load(archive, loaded);
    // The resident set's rise during one load into an empty object: the loaded objects plus
    // whatever the reader holds beside them. Measured once per row, untimed; the handwritten
    // row's figure is the objects alone, the basis issue #14's memory target compares with.
    auto peak = g_load_peaks.find(row);
    if (peak == g_load_peaks.end()) {
      loaded = typename Subject::Data{};
      double bytes = measure_peak([&] { A::load(archive, loaded); });
      peak = g_load_peaks.emplace(row, bytes).first;
    }
    for (auto _ : state) {
      if constexpr (!Subject::kIsLimitRow) {
        // Destroying the previous object is not part of a load, so it happens with the timer
        // paused. Pause+Resume costs ~1.5 us of clock reads (measured here), under 0.05% of
        // the shortest paused load (graph, ~3 ms with --quick, ~40 ms full). The alternative,
        // keeping every loaded object alive until after the loop, makes each load allocate
        // never-touched memory and so time first-touch page faults (~9.5 us per 4 KiB page
        // on this VM): records/load/cereal_binary measured 341 ms that way against 45 ms this
        // way, an artifact no long-lived program has, while holding iterations x ~100 MB.
        // (A text row's first load finds `loaded` still default-constructed; the reset is
        // then a no-op, but the allocator is settled all the same.)
        state.PauseTiming();
        loaded = typename Subject::Data{};
        settle_allocator();
        state.ResumeTiming();
      }
      A::load(archive, loaded);
      if constexpr (!Subject::kIsLimitRow) settle_allocator();
      benchmark::DoNotOptimize(loaded);
    }
    finish<W>(state, row, p, archive.size(), Subject::verify(loaded, p));
    if (peak->second >= 0) state.counters["peak_bytes"] = peak->second;
  } catch (const std::exception& e) {
    fail(state, row, std::string("exception: ") + e.what());
  }
}

// ---- Registration: every workload x op x adapter, in table order.

// Text rows take 0.2-3 s per op at full size (WORKLOADS.md's reference: records cereal_json
// save 1.2 s, load 3.0 s), so they run exactly one timed iteration per repetition, whatever
// --benchmark_min_time says: left to Google Benchmark, a row under the 0.5 s default would
// be run again with more iterations, and each call of a body also pays an untimed save and
// a verification load. --benchmark_repetitions still repeats them.
void register_row(const char* workload, const char* op, const char* library, bool text,
                  void (*body)(benchmark::State&)) {
  const std::string row = row_name(workload, op, library);
  auto* b = benchmark::RegisterBenchmark(row.c_str(), body);
  b->Unit(benchmark::kMillisecond)->UseRealTime();
  if (text) b->Iterations(1);
}

template <class W, template <class> class S, class A>
void register_save() {
  register_row(W::name, "save", A::name, IsTextAdapter<A>::value, &bench_save<W, S, A>);
}

template <class W, template <class> class S, class A>
void register_load() {
  register_row(W::name, "load", A::name, IsTextAdapter<A>::value, &bench_load<W, S, A>);
}

// A new library is one adapter header plus a register_save/register_load line per op here
// (brine's rows under #if BRINE_BENCH_HAVE_BRINE, which CMake defines when brine::brine exists).
// Saves, then loads; within each, binary rows before text rows.
template <class W>
void register_workload() {
  constexpr bool kRecords = std::is_same_v<W, RecordsWorkload>;
  register_save<W, PayloadSubject, MemcpyAdapter>();
  if constexpr (kRecords) register_save<W, ObjectSubject, HandwrittenAdapter>();
  register_save<W, ObjectSubject, CerealBinaryAdapter>();
#if BRINE_BENCH_HAVE_BRINE_CEREAL
  if constexpr (kRecords)
    register_save<W, RecordsCopiedAs<cereal_hooks::Record>::Subject, BrineCerealHooksAdapter>();
#endif
  register_save<W, ObjectSubject, BoostBinaryAdapter>();
#if BRINE_BENCH_HAVE_BRINE_BOOST
  if constexpr (kRecords)
    register_save<W, RecordsCopiedAs<boost_hooks::Record>::Subject, BrineBoostHooksAdapter>();
#endif
#if BRINE_BENCH_HAVE_BRINE
  register_save<W, ObjectSubject, BrineBinaryAdapter>();
  register_save<W, ObjectSubject, BrineStableAdapter>();
#endif
  register_save<W, ObjectSubject, CerealJsonAdapter>();
  register_save<W, ObjectSubject, CerealXmlAdapter>();
  register_save<W, ObjectSubject, BoostTextAdapter>();
  register_save<W, ObjectSubject, BoostXmlAdapter>();
#if BRINE_BENCH_HAVE_BRINE
  register_save<W, ObjectSubject, BrineJsonAdapter>();
#endif

  register_load<W, PayloadSubject, MemcpyAdapter>();
  if constexpr (kRecords) register_load<W, ObjectSubject, HandwrittenAdapter>();
  register_load<W, ObjectSubject, CerealBinaryAdapter>();
#if BRINE_BENCH_HAVE_BRINE_CEREAL
  if constexpr (kRecords)
    register_load<W, RecordsCopiedAs<cereal_hooks::Record>::Subject, BrineCerealHooksAdapter>();
#endif
  register_load<W, ObjectSubject, BoostBinaryAdapter>();
#if BRINE_BENCH_HAVE_BRINE_BOOST
  if constexpr (kRecords)
    register_load<W, RecordsCopiedAs<boost_hooks::Record>::Subject, BrineBoostHooksAdapter>();
#endif
#if BRINE_BENCH_HAVE_BRINE
  register_load<W, ObjectSubject, BrineBinaryAdapter>();
  register_load<W, ObjectSubject, BrineStableAdapter>();
#endif
  register_load<W, ObjectSubject, CerealJsonAdapter>();
  register_load<W, ObjectSubject, CerealXmlAdapter>();
  register_load<W, ObjectSubject, BoostTextAdapter>();
  register_load<W, ObjectSubject, BoostXmlAdapter>();
#if BRINE_BENCH_HAVE_BRINE
  register_load<W, ObjectSubject, BrineJsonAdapter>();
#endif
}

// ---- Workload C: checkpoint, saved to and loaded from files (WORKLOADS.md "What is timed",
// File (C)).
//
// The adapters (adapters/checkpoint_*.hpp) save a source object to a path and load a path
// into a Loaded object; the harness owns the files, the timing, the verification and the
// memory counter. Each row runs a fixed number of timed iterations per repetition
// (kCheckpointIterations; --benchmark_min_time does not apply): every timed load is verified
// by a CRC of every byte (~0.1-0.2 s untimed at full size), which Google Benchmark's
// iteration sizing would otherwise repeat hundreds of times for a mapped load of ~1 ms.

constexpr int kCheckpointIterations = 3;

struct CheckpointPrepared {
  CheckpointData d;
  std::string error;  // non-empty if the generator disagrees with WORKLOADS.md
};

const CheckpointPrepared& checkpoint_prepared() {
  static const CheckpointPrepared p = [] {
    CheckpointPrepared q;
    q.d.data = make_checkpoint(g_quick);
    q.d.payload = canonical_encoding(q.d.data);
    q.d.fingerprint = fingerprint_of(q.d.payload);
    if (!g_quick && q.d.fingerprint != kCheckpointFullFingerprint) {
      q.error = "checkpoint generator gives " + describe(q.d.fingerprint) + ", WORKLOADS.md says " +
                describe(kCheckpointFullFingerprint);
    }
    return q;
  }();
  return p;
}

/// The highest resident set during a stretch of work, above the resident set at its start
/// (see measure_peak for why VmHWM after clear_refs "5"). Measured around each timed
/// op, so each row gets its own figure whatever ran before it: ru_maxrss and an unreset
/// VmHWM are the process's high-water mark since it started, which only ever grows.
class RssPeak {
 public:
  /// Returns false where the kernel's peak reset is missing (then bytes() means nothing).
  bool start() {
#if defined(__GLIBC__)
    // Frees kept by glibc would let an op reuse resident pages and show no rise.
    malloc_trim(0);
#endif
    before_ = proc_status_kib("VmRSS:");
    std::ofstream clear("/proc/self/clear_refs");
    clear << "5";
    clear.flush();
    return static_cast<bool>(clear) && before_ >= 0;
  }
  double bytes() const {
    const long peak = proc_status_kib("VmHWM:");
    return peak > before_ ? static_cast<double>(peak - before_) * 1024 : 0.0;
  }

 private:
  long before_ = -1;
};

/// Removes a row's file when the row ends, however it ends.
struct RemoveOnExit {
  std::string path;
  ~RemoveOnExit() {
    try {
      remove_file(path);
    } catch (const std::exception&) {
    }
  }
};

std::string checkpoint_mismatch(const Fingerprint& got, const CheckpointData& d) {
  if (got == d.fingerprint) return {};
  return "checkpoint: loaded object encodes to " + describe(got) + ", the original to " +
         describe(d.fingerprint);
}

void finish_checkpoint(benchmark::State& state, const std::string& row, const CheckpointData& d,
                       std::size_t archive_bytes, const std::string& error) {
  state.SetBytesProcessed(static_cast<std::int64_t>(d.payload.size()) * state.iterations());
  state.SetItemsProcessed(static_cast<std::int64_t>(d.data.tensors.size()) * state.iterations());
  state.counters["archive_bytes"] = static_cast<double>(archive_bytes);
  if (!error.empty()) fail(state, row, error);
}

/// Timed: the adapter's save, which opens the file, serializes, closes and fsyncs (the
/// file was removed untimed before). peak_bytes: the resident set's rise during a save.
template <class A>
void bench_checkpoint_save(benchmark::State& state) {
  const std::string row = row_name("checkpoint", "save", A::name);
  const CheckpointPrepared& p = checkpoint_prepared();
  if (!p.error.empty()) {
    fail(state, row, p.error);
    return;
  }
  try {
    const RemoveOnExit file{checkpoint_path(A::name)};
    const auto& source = A::source(p.d);
    // Untimed prime (WORKLOADS.md "Rounds"): the first save of a row in a process pays for
    // the allocator's and the file system's first use.
    remove_file(file.path);
    A::save(source, file.path);
    double peak = 0;
    bool have_peak = true;
    for (auto _ : state) {
      state.PauseTiming();
      remove_file(file.path);
      settle_allocator();
      RssPeak rss;
      have_peak = rss.start() && have_peak;
      state.ResumeTiming();
      A::save(source, file.path);
      state.PauseTiming();
      peak = std::max(peak, rss.bytes());
      state.ResumeTiming();
    }
    // The last timed save wrote a complete file: it must load back to the original.
    typename A::Loaded back{};
    A::load(file.path, back);
    finish_checkpoint(state, row, p.d, A::archive_bytes(file.path),
                      checkpoint_mismatch(A::fingerprint(back, p.d), p.d));
    if (have_peak) state.counters["peak_bytes"] = peak;
  } catch (const std::exception& e) {
    fail(state, row, std::string("exception: ") + e.what());
  }
}

/// Timed: the adapter's load of the file its save just wrote (so the file is in the page
/// cache) into a reset object. Untimed after each: the previous object's destruction before
/// it, and after it the canonical CRC of everything loaded, which must equal the original's.
/// peak_bytes: the resident set's highest rise from just before a load through that
/// verification, which reads every byte: for a mapped load, that pass is what faults the
/// file's pages in, so the figure is what using the loaded tensors costs.
template <class A>
void bench_checkpoint_load(benchmark::State& state) {
  const std::string row = row_name("checkpoint", "load", A::name);
  const CheckpointPrepared& p = checkpoint_prepared();
  if (!p.error.empty()) {
    fail(state, row, p.error);
    return;
  }
  try {
    const RemoveOnExit file{checkpoint_path(A::name)};
    remove_file(file.path);
    A::save(A::source(p.d), file.path);
    typename A::Loaded loaded{};
    A::load(file.path, loaded);  // untimed prime
    std::string error;
    double peak = 0;
    bool have_peak = true;
    for (auto _ : state) {
      state.PauseTiming();
      A::reset(loaded);
      settle_allocator();
      RssPeak rss;
      have_peak = rss.start() && have_peak;
      state.ResumeTiming();
      A::load(file.path, loaded);
      state.PauseTiming();
      if (error.empty()) error = checkpoint_mismatch(A::fingerprint(loaded, p.d), p.d);
      peak = std::max(peak, rss.bytes());
      state.ResumeTiming();
    }
    finish_checkpoint(state, row, p.d, A::archive_bytes(file.path), error);
    if (have_peak) state.counters["peak_bytes"] = peak;
  } catch (const std::exception& e) {
    fail(state, row, std::string("exception: ") + e.what());
  }
}

#if BRINE_BENCH_HAVE_BRINE
/// Timed: how long CheckpointManager::save blocks its caller with async saving, i.e. the
/// capture (the binary archive serialized into memory) and the hand-over to the writer
/// thread, in a job's steady state: one manager over the run (keep_last 1), each timed save
/// at a new step after an untimed first one. Untimed: the wait() for each background write
/// (a write that fails fails the row), then the load back through restore_latest.
void bench_checkpoint_manager_async_save(benchmark::State& state) {
  const std::string row = row_name("checkpoint", "save", "brine_manager_async");
  const CheckpointPrepared& p = checkpoint_prepared();
  if (!p.error.empty()) {
    fail(state, row, p.error);
    return;
  }
  try {
    const RemoveOnExit dir{checkpoint_path("brine_manager_async")};
    remove_file(dir.path);
    brine::CheckpointOptions options;
    options.async = true;
    options.keep_last = 1;
    const Checkpoint& c = p.d.data;
    std::uint64_t step = static_cast<std::uint64_t>(c.config.step);
    {
      brine::CheckpointManager manager(dir.path, options);
      manager.save(step++, c);  // untimed prime, as the other rows
      manager.wait();
      double peak = 0;
      bool have_peak = true;
      for (auto _ : state) {
        state.PauseTiming();
        settle_allocator();
        RssPeak rss;
        have_peak = rss.start() && have_peak;
        state.ResumeTiming();
        manager.save(step++, c);
        state.PauseTiming();
        manager.wait();
        peak = std::max(peak, rss.bytes());
        state.ResumeTiming();
      }
      if (have_peak) state.counters["peak_bytes"] = peak;
    }
    Checkpoint back{};
    CheckpointBrineManager::load(dir.path, back);
    finish_checkpoint(state, row, p.d, CheckpointBrineManager::archive_bytes(dir.path),
                      checkpoint_mismatch(canonical_fingerprint(back), p.d));
  } catch (const std::exception& e) {
    fail(state, row, std::string("exception: ") + e.what());
  }
}
#endif

template <class A>
void register_checkpoint_save() {
  if constexpr (A::has_save_row) {
    const std::string row = row_name("checkpoint", "save", A::name);
    benchmark::RegisterBenchmark(row.c_str(), &bench_checkpoint_save<A>)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->Iterations(kCheckpointIterations);
  }
}

template <class A>
void register_checkpoint_load() {
  const std::string row = row_name("checkpoint", "load", A::name);
  benchmark::RegisterBenchmark(row.c_str(), &bench_checkpoint_load<A>)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->Iterations(kCheckpointIterations);
}

template <class... Adapters>
void register_checkpoint_rows() {
  (register_checkpoint_save<Adapters>(), ...);
  (register_checkpoint_load<Adapters>(), ...);
}

void register_checkpoint() {
  register_checkpoint_rows<CheckpointMemcpy, CheckpointRawFile, CheckpointRawFileFresh,
                           CheckpointRawMmap, CheckpointCerealBinary, CheckpointBoostBinary
#if BRINE_BENCH_HAVE_BRINE
                           ,
                           CheckpointBrineBinary, CheckpointBrineManager
#endif
#if BRINE_BENCH_HAVE_TENSOR_FIELDS
                           ,
                           CheckpointBrineBinaryMapped, CheckpointBrineBinaryMappedVerified
#endif
#if BRINE_BENCH_HAVE_SAFETENSORS
                           ,
                           CheckpointBrineSafetensors
#endif
                           >();
#if BRINE_BENCH_HAVE_BRINE
  benchmark::RegisterBenchmark(row_name("checkpoint", "save", "brine_manager_async").c_str(),
                               &bench_checkpoint_manager_async_save)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->Iterations(kCheckpointIterations);
#endif
}

}  // namespace
}  // namespace brine_bench

int main(int argc, char** argv) {
  const char* env = std::getenv("BRINE_BENCH_QUICK");
  bool quick = env != nullptr && std::string_view(env) == "1";
  // Google Benchmark rejects flags it does not know, so --quick is taken out first.
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--quick") {
      quick = true;
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  argv[argc] = nullptr;
  brine_bench::g_quick = quick;

  brine_bench::register_workload<brine_bench::RecordsWorkload>();
  brine_bench::register_workload<brine_bench::GraphWorkload>();
  brine_bench::register_checkpoint();

  benchmark::AddCustomContext(
      "brine_bench_sizes",
      quick ? "quick (records 20000; graph 10000 nodes, 100 roots; checkpoint dims / 16): "
              "figures do not count"
            : "full (records 200000; graph 100000 nodes, 1000 roots; checkpoint 256 MiB)");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (!brine_bench::g_failures.empty()) {
    std::fprintf(stderr, "brine_bench: %zu rows failed:\n", brine_bench::g_failures.size());
    for (const auto& [row, message] : brine_bench::g_failures) {
      std::fprintf(stderr, "  %s: %s\n", row.c_str(), message.c_str());
    }
    return 1;
  }
  return 0;
}
