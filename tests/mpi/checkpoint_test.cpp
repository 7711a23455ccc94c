// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// mpi/checkpoint_test.cpp: DistributedCheckpointer under mpirun. Each ctest entry runs one
// test of this program on some number of ranks against one directory (--dir=...);
// tests/mpi/CMakeLists.txt chains them (a 4-rank save, then restores on 2, 4 and 8 ranks).

#include <gtest/gtest.h>
#include <mpi.h>
#include <signal.h>
#include <unistd.h>

#include <brine/brine.hpp>
#include <brine/mpi/checkpoint.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

namespace fs = std::filesystem;
using brine::mpi::DistributedCheckpointer;
using brine::mpi::RowRange;
using brine::mpi::ShardedTensor;

namespace {

fs::path g_dir;  // --dir=...

int world_rank() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}
int world_size() {
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

struct TrainConfig {
  BRINE_TYPE("mpi_test.TrainConfig", 1);
  std::string model;
  double learning_rate = 0;
  std::vector<std::int64_t> layer_sizes;
  template <class A>
  void getstate(A& ar) const {
    ar("model", model)("learning_rate", learning_rate)("layer_sizes", layer_sizes);
  }
  template <class A>
  void setstate(A& ar) {
    ar("model", model)("learning_rate", learning_rate)("layer_sizes", layer_sizes);
  }
  bool operator==(const TrainConfig& o) const {
    return model == o.model && learning_rate == o.learning_rate && layer_sizes == o.layer_sizes;
  }
};

struct RankState {
  BRINE_TYPE("mpi_test.RankState", 1);
  int saved_rank = -1;
  std::uint64_t rng = 0;
  std::vector<double> history;
  template <class A>
  void getstate(A& ar) const {
    ar("saved_rank", saved_rank)("rng", rng)("history", history);
  }
  template <class A>
  void setstate(A& ar) {
    ar("saved_rank", saved_rank)("rng", rng)("history", history);
  }
  bool operator==(const RankState& o) const {
    return saved_rank == o.saved_rank && rng == o.rng && history == o.history;
  }
};

TrainConfig config_of(std::int64_t step) {
  return {"mpi-test-" + std::to_string(step), 1e-3 * static_cast<double>(step), {37, 5, 3}};
}
RankState rank_state_of(std::int64_t step, int rank) {
  RankState s;
  s.saved_rank = rank;
  s.rng = 0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(step * 131 + rank + 1);
  for (int i = 0; i <= rank; ++i) s.history.push_back(static_cast<double>(step) + 0.25 * i);
  return s;
}

/// The distributed tensors of the tests: their dtype and global shape. "tiny" has fewer rows
/// than ranks, "empty" none.
struct TensorSpec {
  const char* name;
  brine::DType dtype;
  std::vector<std::int64_t> shape;
};
const std::vector<TensorSpec>& specs() {
  static const std::vector<TensorSpec> all = {
      {"weights", brine::DType::float32, {37, 5}},
      {"ids", brine::DType::int64, {10}},
      {"tiny", brine::DType::float64, {3, 2}},
      {"empty", brine::DType::float32, {0, 4}},
  };
  return all;
}

/// Element `i` (flat, row-major, global) of tensor `name` at `step`: every value differs
/// between tensors and steps, so a row from the wrong place or step shows.
double element(const std::string& name, std::int64_t step, std::int64_t i) {
  std::uint64_t h = std::hash<std::string>{}(name) % 1000;
  return static_cast<double>(h * 100000 + static_cast<std::uint64_t>(step) * 1000) +
         static_cast<double>(i);
}

std::int64_t row_elements(const TensorSpec& spec) {
  std::int64_t n = 1;
  for (std::size_t d = 1; d < spec.shape.size(); ++d) n *= spec.shape[d];
  return n;
}

brine::Tensor make_rows(const TensorSpec& spec, std::int64_t step, RowRange rows) {
  std::vector<std::int64_t> shape = spec.shape;
  shape[0] = rows.size();
  brine::Tensor t(spec.dtype, shape);
  std::int64_t per_row = row_elements(spec);
  std::int64_t first = rows.begin * per_row;
  for (std::int64_t i = 0; i < rows.size() * per_row; ++i) {
    double v = element(spec.name, step, first + i);
    switch (spec.dtype) {
      case brine::DType::float32:
        t.mutable_values<float>()[static_cast<std::size_t>(i)] = static_cast<float>(v);
        break;
      case brine::DType::float64:
        t.mutable_values<double>()[static_cast<std::size_t>(i)] = v;
        break;
      case brine::DType::int64:
        t.mutable_values<std::int64_t>()[static_cast<std::size_t>(i)] =
            static_cast<std::int64_t>(v);
        break;
      default:
        ADD_FAILURE() << "dtype not used by the tests";
    }
  }
  return t;
}

/// What rank `rank` of `size` saves at `step`: its even rows of every tensor, the config,
/// its own state.
brine::mpi::Shard shard_of(std::int64_t step, int rank, int size) {
  brine::mpi::Shard shard;
  for (const TensorSpec& spec : specs()) {
    RowRange rows = brine::mpi::even_rows(spec.shape[0], rank, size);
    shard.add_tensor(spec.name, ShardedTensor{spec.shape, rows.begin, make_rows(spec, step, rows)});
  }
  shard.add_replicated("config", config_of(step));
  shard.add_local("state", rank_state_of(step, rank));
  return shard;
}

/// Checks a restored checkpoint of `step` saved by `saved_size` ranks, from this rank under
/// the current world size: every tensor's even rows, rows across slice boundaries, the
/// replicated value and every saved rank's value. Returns the rows this rank received, so the
/// caller can check that the ranks' rows add up to each tensor.
std::int64_t expect_checkpoint(const brine::mpi::Restored& restored, std::int64_t step,
                               int saved_size) {
  const int rank = world_rank();
  const int size = world_size();
  EXPECT_EQ(restored.step(), step);
  EXPECT_EQ(restored.saved_world_size(), saved_size);
  EXPECT_EQ(restored.rank(), rank);
  EXPECT_EQ(restored.world_size(), size);
  EXPECT_EQ(restored.tensor_names(), (std::vector<std::string>{"empty", "ids", "tiny", "weights"}));
  std::int64_t rows_received = 0;
  for (const TensorSpec& spec : specs()) {
    SCOPED_TRACE(spec.name);
    EXPECT_EQ(restored.dtype(spec.name), spec.dtype);
    EXPECT_EQ(restored.global_shape(spec.name), spec.shape);
    RowRange mine = brine::mpi::even_rows(spec.shape[0], rank, size);
    ShardedTensor got = restored.tensor(spec.name);
    EXPECT_EQ(got.global_shape, spec.shape);
    EXPECT_EQ(got.row_offset, mine.begin);
    EXPECT_EQ(got.rows(), mine);
    EXPECT_TRUE(got.local == make_rows(spec, step, mine));
    rows_received += got.rows().size();
    // A partition of the caller's own: rows that straddle every saved slice boundary.
    if (spec.shape[0] >= 2) {
      RowRange inner{1, spec.shape[0] - 1};
      EXPECT_TRUE(restored.tensor(spec.name, inner).local == make_rows(spec, step, inner));
    }
  }
  EXPECT_EQ(restored.replicated<TrainConfig>("config"), config_of(step));
  for (int r = 0; r < saved_size; ++r)
    EXPECT_EQ(restored.local_of<RankState>("state", r), rank_state_of(step, r));
  if (size == saved_size) {
    EXPECT_EQ(restored.local<RankState>("state"), rank_state_of(step, rank));
  } else {
    EXPECT_THROW_WITH(restored.local<RankState>("state"), brine::SchemaError,
                      "cannot be restored on " + std::to_string(size));
  }
  return rows_received;
}

/// Every rank's rows of every tensor together are the global rows, each once.
void expect_rows_add_up(std::int64_t rows_received) {
  std::int64_t total = 0;
  MPI_Allreduce(&rows_received, &total, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
  std::int64_t expected = 0;
  for (const TensorSpec& spec : specs()) expected += spec.shape[0];
  EXPECT_EQ(total, expected);
}

/// Empties `dir` on rank 0 before any rank uses it.
void fresh_directory(const fs::path& dir) {
  if (world_rank() == 0) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

std::vector<std::string> entries_of(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(DistributedCheckpointer, SavesOnFourRanks) {
  ASSERT_EQ(world_size(), 4);
  fresh_directory(g_dir);
  DistributedCheckpointer ckpt(MPI_COMM_WORLD, g_dir);
  EXPECT_FALSE(ckpt.restore_latest().has_value());
  ckpt.save(10, shard_of(10, world_rank(), 4));
  ckpt.save(20, shard_of(20, world_rank(), 4));
  EXPECT_EQ(ckpt.steps(), (std::vector<std::int64_t>{10, 20}));

  std::optional<brine::mpi::Restored> restored = ckpt.restore_latest();
  ASSERT_TRUE(restored.has_value());
  expect_rows_add_up(expect_checkpoint(*restored, 20, 4));
  expect_checkpoint(ckpt.restore(10), 10, 4);

  if (world_rank() == 0) {
    EXPECT_EQ(entries_of(g_dir), (std::vector<std::string>{"brine-checkpoint.lock",
                                                           "step-0000000010", "step-0000000020"}));
    EXPECT_EQ(entries_of(g_dir / "step-0000000020"),
              (std::vector<std::string>{"brine-checkpoint.json", "rank-00000.safetensors",
                                        "rank-00001.safetensors", "rank-00002.safetensors",
                                        "rank-00003.safetensors"}));
  }
}

// Run on 2, 4 and 8 ranks against the checkpoint SavesOnFourRanks wrote.
TEST(DistributedCheckpointer, RestoresOnAnyWorldSize) {
  DistributedCheckpointer ckpt(MPI_COMM_WORLD, g_dir);
  std::optional<brine::mpi::Restored> restored = ckpt.restore_latest();
  ASSERT_TRUE(restored.has_value());
  expect_rows_add_up(expect_checkpoint(*restored, 20, 4));
}

TEST(DistributedCheckpointer, FailingRankAbortsTheCheckpointOnEveryRank) {
  const int rank = world_rank();
  const int size = world_size();
  ASSERT_GE(size, 2);
  fresh_directory(g_dir);
  DistributedCheckpointer ckpt(MPI_COMM_WORLD, g_dir);
  ckpt.save(1, shard_of(1, rank, size));

  // The last rank fails on its own (a tensor added twice): it throws its own error, every
  // other rank an error of the same class naming it.
  brine::mpi::Shard broken = shard_of(2, rank, size);
  if (rank == size - 1) broken.add_tensor("ids", broken.tensors()[1].tensor);
  const std::string failing = "rank " + std::to_string(size - 1);
  if (rank == size - 1)
    EXPECT_THROW_WITH(ckpt.save(2, broken), brine::SchemaError, "'ids' added twice");
  else
    EXPECT_THROW_WITH(ckpt.save(2, broken), brine::SchemaError, failing + " failed");

  // The ranks disagree (the last one claims another global shape): found when rank 0
  // assembles the manifest, and refused everywhere.
  brine::mpi::Shard disagreeing = shard_of(2, rank, size);
  if (rank == size - 1) {
    ShardedTensor t = disagreeing.tensors()[0].tensor;
    t.global_shape = {38, 5};
    brine::mpi::Shard other;
    other.add_tensor("weights", t);
    for (std::size_t i = 1; i < disagreeing.tensors().size(); ++i)
      other.add_tensor(disagreeing.tensors()[i].name, disagreeing.tensors()[i].tensor);
    other.add_replicated("config", config_of(2));
    other.add_local("state", rank_state_of(2, rank));
    disagreeing = std::move(other);
  }
  EXPECT_THROW_WITH(ckpt.save(2, disagreeing), brine::SchemaError,
                    "'weights' has another dtype or global shape on " + failing);

  // Nothing of step 2 is left, and step 1 is still the newest, whole.
  EXPECT_EQ(ckpt.steps(), (std::vector<std::int64_t>{1}));
  if (rank == 0) {
    EXPECT_EQ(entries_of(g_dir),
              (std::vector<std::string>{"brine-checkpoint.lock", "step-0000000001"}));
  }
  std::optional<brine::mpi::Restored> restored = ckpt.restore_latest();
  ASSERT_TRUE(restored.has_value());
  expect_checkpoint(*restored, 1, size);

  // A second checkpointer of the directory is refused on every rank: rank 0 cannot take the
  // lock the first holds (CheckpointLockedError there, an IoError naming rank 0 elsewhere).
  EXPECT_THROW_WITH(DistributedCheckpointer(MPI_COMM_WORLD, g_dir), brine::IoError,
                    "checkpoint directory is in use by");

  // A step not after the newest is refused on every rank; the next good save succeeds.
  EXPECT_THROW_WITH(ckpt.save(1, shard_of(1, rank, size)), brine::FormatError,
                    "not after the newest checkpoint");
  ckpt.save(3, shard_of(3, rank, size));
  EXPECT_EQ(ckpt.latest_step(), std::optional<std::int64_t>(3));
}

TEST(DistributedCheckpointer, AsyncSavesOnEveryRank) {
  const int rank = world_rank();
  const int size = world_size();
  fresh_directory(g_dir);
  brine::mpi::CheckpointerOptions options;
  options.keep_last = 2;
  options.keep_every = 2;
  DistributedCheckpointer ckpt(MPI_COMM_WORLD, g_dir, options);
  for (std::int64_t step = 1; step <= 5; ++step) {
    brine::mpi::Shard shard = shard_of(step, rank, size);
    ckpt.save_async(step, shard);
    EXPECT_TRUE(ckpt.pending());
    // save_async copied the shard: writing over the caller's tensors now changes nothing
    // that is saved.
    for (const auto& t : shard.tensors()) {
      brine::Tensor local = t.tensor.local;
      if (local.nbytes() != 0) std::memset(local.mutable_bytes(), 0xAB, local.nbytes());
    }
  }
  ckpt.wait();
  EXPECT_FALSE(ckpt.pending());
  // keep_last 2 keeps 4 and 5; keep_every 2 keeps 2 too.
  EXPECT_EQ(ckpt.steps(), (std::vector<std::int64_t>{2, 4, 5}));
  std::optional<brine::mpi::Restored> restored = ckpt.restore_latest();
  ASSERT_TRUE(restored.has_value());
  expect_rows_add_up(expect_checkpoint(*restored, 5, size));
  expect_checkpoint(ckpt.restore(2), 2, size);

  // A synchronous save commits the pending asynchronous one first.
  ckpt.save_async(6, shard_of(6, rank, size));
  ckpt.save(7, shard_of(7, rank, size));
  EXPECT_EQ(ckpt.steps(), (std::vector<std::int64_t>{2, 4, 6, 7}));
  expect_checkpoint(ckpt.restore(6), 6, size);
}

TEST(DistributedCheckpointer, IgnoresIncompleteAndDamagedCheckpoints) {
  const int rank = world_rank();
  const int size = world_size();
  fresh_directory(g_dir);
  brine::mpi::CheckpointerOptions options;
  options.keep_last = 0;
  DistributedCheckpointer ckpt(MPI_COMM_WORLD, g_dir, options);
  ckpt.save(1, shard_of(1, rank, size));
  const fs::path one = g_dir / "step-0000000001";
  // A copy of step 1 as another step (its manifest says which).
  auto copy_of_one = [&](std::int64_t step) {
    char name[32];
    std::snprintf(name, sizeof name, "step-%010lld", static_cast<long long>(step));
    fs::path copy = g_dir / name;
    fs::copy(one, copy, fs::copy_options::recursive);
    std::string manifest = brine::read_file(copy / "brine-checkpoint.json");
    std::size_t at = manifest.find("\"step\": 1,");
    EXPECT_NE(at, std::string::npos);
    manifest.replace(at, 10, "\"step\": " + std::to_string(step) + ",");
    fs::remove(copy / "brine-checkpoint.json");
    brine::write_file_atomically(copy / "brine-checkpoint.json", manifest);
    return copy;
  };
  if (rank == 0) {
    // 5: no manifest (a save that did not commit). 7: a manifest that is not JSON.
    fs::remove(copy_of_one(5) / "brine-checkpoint.json");
    brine::write_file_atomically(copy_of_one(7) / "brine-checkpoint.json", "{\"format\": ");
    // 9: whole sizes, one byte of rank 1's tensor data flipped. 11: rank 2's file cut short.
    fs::path flipped = copy_of_one(9) / "rank-00001.safetensors";
    std::string bytes = brine::read_file(flipped);
    bytes[bytes.size() - 1] = static_cast<char>(bytes[bytes.size() - 1] ^ 0x20);
    fs::remove(flipped);
    brine::write_file_atomically(flipped, bytes);
    fs::resize_file(copy_of_one(11) / "rank-00002.safetensors", 100);
  }
  MPI_Barrier(MPI_COMM_WORLD);

  // Manifests that break a rule, each refused with its own message (checked before the
  // copies above are added as later steps, so that restore_latest is not disturbed).
  struct Broken {
    const char* rule;
    void (*edit)(nlohmann::json&);
    const char* message;
  };
  const Broken broken[] = {
      {"newer version", [](nlohmann::json& m) { m["version"] = 2; },
       "checkpoint manifest version 2, this build reads up to 1"},
      {"file outside the folder", [](nlohmann::json& m) { m["files"][0]["name"] = "../x"; },
       "files[0].name is not 'rank-00000.safetensors'"},
      {"a file per rank", [](nlohmann::json& m) { m["files"].erase(0); },
       "'files' is not an array of one entry per rank"},
      {"rows written twice",
       [](nlohmann::json& m) { m["tensors"]["weights"]["slices"][1]["begin"] = 5; },
       "tensor 'weights' has rows 5..10 written twice"},
      {"rows written by no rank",
       [](nlohmann::json& m) { m["tensors"]["weights"]["shape"][0] = 40; },
       "tensor 'weights' has rows 37..40 written by no rank"},
      {"unknown dtype", [](nlohmann::json& m) { m["tensors"]["ids"]["dtype"] = "float128"; },
       "tensor 'ids' has an unknown dtype"},
      {"names unsorted",
       [](nlohmann::json& m) {
         m["local"] = {"b", "a"};
       },
       "'local' is not sorted without repeats"},
  };
  const fs::path probe = g_dir / "probe";
  for (const Broken& b : broken) {
    SCOPED_TRACE(b.rule);
    // Step 1's folder with a broken manifest, under a name only restore(1) of a checkpointer
    // of `probe` reads.
    if (rank == 0) {
      fs::remove_all(probe);
      fs::create_directories(probe);
      fs::copy(one, probe / "step-0000000001", fs::copy_options::recursive);
      nlohmann::json m = nlohmann::json::parse(brine::read_file(one / "brine-checkpoint.json"));
      b.edit(m);
      fs::remove(probe / "step-0000000001" / "brine-checkpoint.json");
      brine::write_file_atomically(probe / "step-0000000001" / "brine-checkpoint.json", m.dump());
    }
    MPI_Barrier(MPI_COMM_WORLD);
    {
      DistributedCheckpointer other(MPI_COMM_WORLD, probe);
      if (std::string(b.rule) == "newer version")
        EXPECT_THROW_WITH(other.restore(1), brine::VersionError, b.message);
      else
        EXPECT_THROW_WITH(other.restore(1), brine::FormatError, b.message);
      // Never chosen as the newest either.
      EXPECT_FALSE(other.restore_latest().has_value());
    }
    MPI_Barrier(MPI_COMM_WORLD);
  }

  // Listed are the folders with a manifest; restore_latest passes over 11 (a file shorter
  // than its manifest says) and takes 9, whose damage shows only when its bytes are read.
  EXPECT_EQ(ckpt.steps(), (std::vector<std::int64_t>{1, 7, 9, 11}));
  std::optional<brine::mpi::Restored> latest = ckpt.restore_latest();
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->step(), 9);
  EXPECT_THROW_WITH(latest->tensor("weights", RowRange{0, 37}), brine::FormatError,
                    "rank file's XXH3-64 is");
  EXPECT_THROW_WITH(ckpt.restore(11).tensor("weights", RowRange{0, 37}), brine::FormatError,
                    "the manifest records");
  EXPECT_THROW_WITH(ckpt.restore(7), brine::FormatError,
                    "invalid checkpoint manifest: not valid JSON");
  EXPECT_THROW_WITH(ckpt.restore(5), brine::IoError, "brine-checkpoint.json");
  expect_checkpoint(ckpt.restore(1), 1, size);
  EXPECT_THROW_WITH(ckpt.restore(1).tensor("nothing"), brine::SchemaError,
                    "no distributed tensor 'nothing'");
  EXPECT_THROW_WITH(ckpt.restore(1).tensor("weights", RowRange{30, 38}), brine::SchemaError,
                    "rows 30..38 of tensor 'weights' are not within its 37 rows");
  EXPECT_THROW_WITH(ckpt.restore(1).replicated<TrainConfig>("nothing"), brine::SchemaError,
                    "no replicated value 'nothing'");
}

// First half of the kill test: rank 2 is killed (SIGKILL) while its file of step 2 is being
// written. Open MPI then tears the job down, so this run fails by design (WILL_FAIL);
// RestoresAfterKilledSave checks what it left.
TEST(DistributedCheckpointer, KilledDuringSave) {
  const int rank = world_rank();
  ASSERT_EQ(world_size(), 4);
  fresh_directory(g_dir);
  DistributedCheckpointer ckpt(MPI_COMM_WORLD, g_dir);
  ckpt.save(1, shard_of(1, rank, 4));

  // Each rank's file gets 32 MiB more, so that rank 2's is still being written when rank 2
  // sees it appear.
  brine::mpi::Shard shard = shard_of(2, rank, 4);
  std::int64_t rows = std::int64_t{4} * 8 * 1024 * 1024;
  RowRange mine = brine::mpi::even_rows(rows, rank, 4);
  shard.add_tensor(
      "big",
      ShardedTensor{{rows}, mine.begin, brine::Tensor(brine::DType::float32, {mine.size()})});
  ckpt.save_async(2, shard);
  if (rank == 2) {
    fs::path file = g_dir / "step-0000000002" / "rank-00002.safetensors";
    std::error_code ec;
    while (!fs::exists(file, ec) || fs::file_size(file, ec) == 0)
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    std::fprintf(stderr, "rank 2: killing itself while writing %s\n", file.c_str());
    ::raise(SIGKILL);
  }
  ckpt.wait();  // never returns: rank 2 is gone before the commit
  ADD_FAILURE() << "the checkpoint committed without rank 2";
}

TEST(DistributedCheckpointer, RestoresAfterKilledSave) {
  const int rank = world_rank();
  const int size = world_size();
  if (rank == 0) {
    // What the killed job left: step 1 complete, step 2 a folder without manifest.
    EXPECT_TRUE(fs::is_regular_file(g_dir / "step-0000000001" / "brine-checkpoint.json"));
    EXPECT_TRUE(fs::is_directory(g_dir / "step-0000000002"));
    EXPECT_FALSE(fs::exists(g_dir / "step-0000000002" / "brine-checkpoint.json"));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  DistributedCheckpointer ckpt(MPI_COMM_WORLD, g_dir);
  // Opening the directory removed the interrupted save.
  if (rank == 0) {
    EXPECT_EQ(entries_of(g_dir),
              (std::vector<std::string>{"brine-checkpoint.lock", "step-0000000001"}));
  }
  EXPECT_EQ(ckpt.latest_step(), std::optional<std::int64_t>(1));
  std::optional<brine::mpi::Restored> restored = ckpt.restore_latest();
  ASSERT_TRUE(restored.has_value());
  expect_rows_add_up(expect_checkpoint(*restored, 1, 4));
  // The job goes on from step 1 and saves step 2 again, now on `size` ranks.
  ckpt.save(2, shard_of(2, rank, size));
  expect_checkpoint(ckpt.restore(2), 2, size);
}

/// On ranks other than 0, only failures are printed, prefixed by the rank: the output of four
/// or eight ranks would otherwise interleave.
class RankFailurePrinter : public testing::EmptyTestEventListener {
 public:
  explicit RankFailurePrinter(int rank) : rank_(rank) {}
  void OnTestPartResult(const testing::TestPartResult& result) override {
    if (result.failed())
      std::fprintf(stderr, "[rank %d] %s:%d: failure\n%s\n", rank_,
                   result.file_name() ? result.file_name() : "?", result.line_number(),
                   result.message());
  }

 private:
  int rank_;
};

}  // namespace

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--dir=", 0) == 0) g_dir = arg.substr(6);
  }
  int result = 1;
  if (g_dir.empty()) {
    std::fprintf(stderr, "usage: mpirun -np N %s --gtest_filter=... --dir=<directory>\n", argv[0]);
  } else if (provided < MPI_THREAD_FUNNELED) {
    std::fprintf(stderr, "MPI provides no MPI_THREAD_FUNNELED, which save_async needs\n");
  } else {
    if (world_rank() != 0) {
      testing::TestEventListeners& listeners = testing::UnitTest::GetInstance()->listeners();
      delete listeners.Release(listeners.default_result_printer());
      listeners.Append(new RankFailurePrinter(world_rank()));
    }
    result = RUN_ALL_TESTS();
    // A filter that matches nothing would otherwise pass a ctest entry that tests nothing.
    if (testing::UnitTest::GetInstance()->test_to_run_count() == 0) {
      std::fprintf(stderr, "no test matches the filter\n");
      result = 1;
    }
  }
  MPI_Finalize();
  return result;
}
