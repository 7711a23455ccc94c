// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// consumer_mpi/main.cpp: saves and restores a checkpoint through the installed brine::mpi, on
// however many ranks it is started (one, started without mpiexec).

#include <mpi.h>

#include <brine/brine.hpp>
#include <brine/mpi/checkpoint.hpp>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int failed = 0;
  {
    const std::filesystem::path dir = "brine-consumer-mpi-checkpoints";
    if (rank == 0) std::filesystem::remove_all(dir);
    MPI_Barrier(MPI_COMM_WORLD);
    brine::mpi::DistributedCheckpointer ckpt(MPI_COMM_WORLD, dir);
    brine::mpi::RowRange mine = brine::mpi::even_rows(10, rank, size);
    std::vector<double> values;
    for (std::int64_t i = mine.begin; i < mine.end; ++i) values.push_back(0.5 * i);
    brine::mpi::Shard shard;
    shard.add_tensor("x", {{10}, mine.begin, brine::Tensor::from_vector(values)});
    shard.add_replicated("name", std::string("consumer"));
    ckpt.save(1, shard);
    std::optional<brine::mpi::Restored> restored = ckpt.restore_latest();
    if (!restored || restored->step() != 1 ||
        restored->tensor("x").local != brine::Tensor::from_vector(values) ||
        restored->replicated<std::string>("name") != "consumer") {
      std::fprintf(stderr, "rank %d: the checkpoint did not restore\n", rank);
      failed = 1;
    }
  }
  MPI_Finalize();
  if (failed == 0 && rank == 0) std::printf("brine::mpi package consumer: ok\n");
  return failed;
}
