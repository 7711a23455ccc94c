// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// mpi/brine_mpi_bench.cpp: the aggregate write rate of N ranks each saving one tensor of
// --mib MiB through DistributedCheckpointer::save (a file per rank, fsync, manifest, commit),
// against the same N ranks each writing a raw file of the same size with write + fsync. A
// plain timed program: Google Benchmark has no notion of ranks.
//
//   mpiexec -n 4 build/bench/mpi/brine_mpi_bench [--mib=64] [--reps=7]
//   [--dir=/tmp/brine-anchors/mpi]
//
// Each repetition times both (alternating which goes first, so neither always meets a disk
// still flushing the other's bytes) from a barrier to the last rank's end; the figure is the
// median over repetitions of brine's time over raw's. Files go to --dir, which must be on a
// disk (not tmpfs) for the fsyncs to mean anything.

#include <fcntl.h>
#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <brine/mpi/checkpoint.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

int rank_of_world() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "brine_mpi_bench: %s\n", what.c_str());
  MPI_Abort(MPI_COMM_WORLD, 2);
  std::abort();
}

/// What the checkpointer competes with: write(2) the bytes and fsync, nothing else.
void write_raw(const fs::path& path, const std::byte* bytes, std::size_t n) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die("cannot create " + path.string() + ": " + std::strerror(errno));
  while (n > 0) {
    ssize_t w = ::write(fd, bytes, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      die("cannot write " + path.string() + ": " + std::strerror(errno));
    }
    bytes += w;
    n -= static_cast<std::size_t>(w);
  }
  if (::fsync(fd) != 0) die("cannot fsync " + path.string());
  ::close(fd);
}

/// Seconds from a barrier until every rank has run `work`.
template <class F>
double timed(F&& work) {
  MPI_Barrier(MPI_COMM_WORLD);
  double start = MPI_Wtime();
  work();
  double local = MPI_Wtime() - start;
  double slowest = 0;
  MPI_Allreduce(&local, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return slowest;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/// The whole benchmark, so that the checkpointer is gone before MPI_Finalize.
void run(int argc, char** argv) {
  long mib = 64;
  int reps = 7;
  fs::path dir = "/tmp/brine-anchors/mpi";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--mib=", 0) == 0)
      mib = std::atol(arg.c_str() + 6);
    else if (arg.rfind("--reps=", 0) == 0)
      reps = std::atoi(arg.c_str() + 7);
    else if (arg.rfind("--dir=", 0) == 0)
      dir = arg.substr(6);
    else
      die("unknown argument '" + arg + "' (--mib=N --reps=N --dir=PATH)");
  }
  if (mib <= 0 || reps <= 0) die("--mib and --reps must be positive");
  const int rank = rank_of_world();
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);

  // One float32 tensor of `mib` MiB per rank, its pages touched before any timing.
  const std::int64_t per_rank = mib * 1024 * 1024 / 4;
  const std::int64_t rows = per_rank * size;
  brine::Tensor local(brine::DType::float32, {per_rank});
  brine::Span<float> values = local.mutable_values<float>();
  for (std::size_t i = 0; i < values.size(); ++i)
    values[i] = static_cast<float>(i % 4093) + static_cast<float>(rank);
  brine::mpi::Shard shard;
  shard.add_tensor("weights", {{rows}, per_rank * rank, local});

  fs::path raw_dir = dir / "raw";
  fs::path ckpt_dir = dir / "checkpoints";
  if (rank == 0) {
    fs::remove_all(dir);
    fs::create_directories(raw_dir);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  brine::mpi::CheckpointerOptions options;
  options.keep_last = 0;  // old checkpoints are removed between repetitions, not timed
  brine::mpi::DistributedCheckpointer ckpt(MPI_COMM_WORLD, ckpt_dir, options);

  std::vector<double> raw_seconds, brine_seconds, ratios;
  const fs::path raw_file = raw_dir / ("rank-" + std::to_string(rank) + ".bin");
  for (int rep = 0; rep < reps; ++rep) {
    auto raw = [&] { return timed([&] { write_raw(raw_file, local.bytes(), local.nbytes()); }); };
    auto save = [&] { return timed([&] { ckpt.save(rep, shard); }); };
    double r, b;
    if (rep % 2 == 0) {
      r = raw();
      b = save();
    } else {
      b = save();
      r = raw();
    }
    raw_seconds.push_back(r);
    brine_seconds.push_back(b);
    ratios.push_back(b / r);
    // Outside the timing: the files of this repetition go, so every one writes new files.
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) {
      fs::remove_all(raw_dir);
      fs::create_directories(raw_dir);
      for (const auto& entry : fs::directory_iterator(ckpt_dir))
        if (entry.is_directory()) fs::remove_all(entry.path());
    }
    MPI_Barrier(MPI_COMM_WORLD);
  }

  if (rank == 0) {
    const double total_mb = static_cast<double>(mib) * size * 1024 * 1024 / 1e6;
    std::printf("ranks %d, %ld MiB per rank, %d repetitions, files in %s\n", size, mib, reps,
                dir.c_str());
    std::printf("%-4s %12s %12s %12s %12s %8s\n", "rep", "raw_s", "raw_MB/s", "brine_s",
                "brine_MB/s", "ratio");
    for (int i = 0; i < reps; ++i)
      std::printf("%-4d %12.4f %12.1f %12.4f %12.1f %8.3f\n", i, raw_seconds[i],
                  total_mb / raw_seconds[i], brine_seconds[i], total_mb / brine_seconds[i],
                  ratios[i]);
    std::printf("median aggregate write rate: raw %.1f MB/s, brine %.1f MB/s\n",
                total_mb / median(raw_seconds), total_mb / median(brine_seconds));
    std::printf("median ratio brine/raw time: %.3f (target <= 1.10)\n", median(ratios));
  }
  if (rank == 0) fs::remove_all(dir);
  MPI_Barrier(MPI_COMM_WORLD);
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  run(argc, argv);
  MPI_Finalize();
  return 0;
}
