// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// checkpoint_test.cpp: CheckpointManager and its pieces (lock, retention, layout, manifest,
// verification, quarantine, background saves).

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <brine/checkpoint.hpp>
#include <brine/types/map.hpp>
#include <brine/types/sequence.hpp>
#include <brine/types/string.hpp>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using brine::CheckpointEncoding;
using brine::CheckpointManager;
using brine::CheckpointOptions;
using brine_test::TempDir;

struct Model {
  BRINE_TYPE("checkpoint_test.Model", 1);
  std::uint64_t step = 0;
  std::vector<float> weights;
  template <class A>
  void getstate(A& ar) const {
    ar("step", step)("weights", weights);
  }
  template <class A>
  void setstate(A& ar) {
    ar("step", step)("weights", weights);
  }
  bool operator==(const Model& o) const { return step == o.step && weights == o.weights; }
};
BRINE_REGISTER(Model);

Model model_at(std::uint64_t step, std::size_t n = 1000) {
  Model m;
  m.step = step;
  m.weights.resize(n);
  for (std::size_t i = 0; i < n; ++i) m.weights[i] = static_cast<float>(step * 1000 + i);
  return m;
}

fs::path data_file(const fs::path& dir, std::uint64_t step, const char* name = "values.brine") {
  return dir / brine::checkpoint_directory_name(step) / name;
}

void flip_byte(const fs::path& file, std::size_t offset) {
  std::string bytes = brine::read_file(file);
  bytes = brine_test::corrupt(bytes, offset);
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
}

// ---- pieces ------------------------------------------------------------------------------

TEST(CheckpointLayout, DirectoryNamesAreCanonicalAndRoundTrip) {
  EXPECT_EQ(brine::checkpoint_directory_name(100), "step-0000000100");
  EXPECT_EQ(brine::checkpoint_directory_name(UINT64_MAX), "step-18446744073709551615");
  EXPECT_EQ(brine::parse_checkpoint_directory_name("step-0000000100"), 100u);
  EXPECT_EQ(brine::parse_checkpoint_directory_name("step-18446744073709551615"), UINT64_MAX);
  EXPECT_FALSE(brine::parse_checkpoint_directory_name("step-100"));  // not canonical
  EXPECT_FALSE(brine::parse_checkpoint_directory_name("step-18446744073709551616"));
  EXPECT_FALSE(brine::parse_checkpoint_directory_name("step-00000001x0"));
  EXPECT_FALSE(brine::parse_checkpoint_directory_name("quarantine"));
}

TEST(CheckpointRetention, KeepsTheLastNAndTheMultiplesOfK) {
  brine::RetentionPolicy keep3{3, std::nullopt};
  EXPECT_EQ(keep3.to_remove({50, 10, 40, 20, 30}), (std::vector<std::uint64_t>{10, 20}));
  EXPECT_TRUE(keep3.to_remove({10, 20, 30}).empty());
  brine::RetentionPolicy milestones{2, 100};
  EXPECT_EQ(milestones.to_remove({50, 100, 150, 200, 250, 300, 350}),
            (std::vector<std::uint64_t>{50, 150, 250}));
  brine::RetentionPolicy all{0, std::nullopt};
  EXPECT_TRUE(all.to_remove({1, 2, 3, 4, 5}).empty());
}

TEST(CheckpointLock, SecondHolderInTheSameProcessIsRefused) {
  TempDir dir;
  brine::CheckpointDirectoryLock first(dir.path());
  try {
    brine::CheckpointDirectoryLock second(dir.path());
    FAIL() << "a second lock was granted";
  } catch (const brine::CheckpointLockedError& e) {
    EXPECT_EQ(e.holder_pid(), ::getpid());
    EXPECT_NE(std::string(e.what()).find("process " + std::to_string(::getpid())),
              std::string::npos)
        << e.what();
  }
}

TEST(CheckpointLock, LiveProcessHoldsItAndItsDeathReleasesIt) {
  TempDir dir;
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    try {
      brine::CheckpointDirectoryLock lock(dir.path());
      char c = 'x';
      if (::write(ready[1], &c, 1) != 1) ::_exit(2);
      ::pause();  // until SIGKILL: a job that dies with the lock held
    } catch (...) {
      ::_exit(1);
    }
    ::_exit(0);
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  try {
    CheckpointManager manager(dir.path());
    ADD_FAILURE() << "the manager took a lock a live process holds";
  } catch (const brine::CheckpointLockedError& e) {
    EXPECT_EQ(e.holder_pid(), child);
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  // The stale lock file is still there, naming the dead process; taking it over is safe.
  EXPECT_NE(brine::read_file(dir / brine::CheckpointDirectoryLock::kFileName)
                .find("pid " + std::to_string(child)),
            std::string::npos);
  CheckpointManager manager(dir.path());
  EXPECT_NE(brine::read_file(dir / brine::CheckpointDirectoryLock::kFileName)
                .find("pid " + std::to_string(::getpid())),
            std::string::npos);
}

TEST(CheckpointManifest, RoundTripsAndVerifiesSizes) {
  TempDir dir;
  {
    CheckpointManager manager(dir.path());
    manager.save(7, model_at(7));
  }
  fs::path checkpoint = dir / brine::checkpoint_directory_name(7);
  brine::CheckpointManifest m = brine::verify_checkpoint(checkpoint);
  EXPECT_EQ(m.step, 7u);
  EXPECT_EQ(m.encoding, CheckpointEncoding::kBinary);
  EXPECT_EQ(m.value_count, 1u);
  ASSERT_EQ(m.files.size(), 1u);
  EXPECT_EQ(m.files[0].name, "values.brine");
  EXPECT_EQ(m.files[0].bytes, fs::file_size(data_file(dir.path(), 7)));
  // A binary archive checksums its blocks itself: the manifest records no second checksum,
  // and a changed byte is found by decoding.
  EXPECT_FALSE(m.files[0].has_xxh3_64);
  flip_byte(data_file(dir.path(), 7), 200);
  EXPECT_NO_THROW(brine::verify_checkpoint(checkpoint));
  {
    CheckpointManager manager(dir.path());
    Model back;
    EXPECT_THROW(manager.restore(7, back), brine::FormatError);
  }
  fs::rename(dir / "quarantine" / brine::checkpoint_directory_name(7), checkpoint);
  fs::resize_file(data_file(dir.path(), 7), 10);
  EXPECT_THROW_WITH(brine::verify_checkpoint(checkpoint), brine::FormatError, "holds 10 bytes");
  fs::remove(data_file(dir.path(), 7));
  EXPECT_THROW_WITH(brine::verify_checkpoint(checkpoint), brine::FormatError, "missing");
}

TEST(CheckpointManifest, SafetensorsFilesCarryAChecksum) {
  TempDir dir;
  brine::CheckpointOptions options;
  options.encoding = CheckpointEncoding::kSafetensors;
  {
    CheckpointManager manager(dir.path(), options);
    brine::StateDict dict;
    dict.insert("w", brine::Tensor::from_vector(std::vector<float>(64, 1.0f), {8, 8}));
    manager.save(1, dict);
  }
  fs::path checkpoint = dir / brine::checkpoint_directory_name(1);
  brine::CheckpointManifest m = brine::verify_checkpoint(checkpoint);
  ASSERT_EQ(m.files.size(), 1u);
  EXPECT_TRUE(m.files[0].has_xxh3_64);
  fs::path file = data_file(dir.path(), 1, "model.safetensors");
  flip_byte(file, fs::file_size(file) - 3);  // a tensor byte: safetensors has no checksum
  EXPECT_THROW_WITH(brine::verify_checkpoint(checkpoint), brine::FormatError, "XXH3-64");
}

TEST(CheckpointManifest, HostileManifestsAreFormatErrors) {
  TempDir dir;
  fs::path checkpoint = dir / brine::checkpoint_directory_name(1);
  fs::create_directories(checkpoint);
  auto write = [&](const std::string& text) {
    std::ofstream(checkpoint / brine::CheckpointManifest::kFileName, std::ios::trunc) << text;
  };
  write("not json");
  EXPECT_THROW_WITH(brine::read_checkpoint_manifest(checkpoint), brine::FormatError,
                    "not a JSON object");
  const std::string head =
      R"({"format":"brine-checkpoint","format_version":1,"step":1,"encoding":"binary","value_count":1,)";
  write(head + R"("files":[{"name":"../escape","bytes":1,"xxh3_64":"0000000000000000"}]})");
  EXPECT_THROW_WITH(brine::read_checkpoint_manifest(checkpoint), brine::FormatError,
                    "not a plain file name");
  write(head + R"("files":[{"name":"a","bytes":-1,"xxh3_64":"0000000000000000"}]})");
  EXPECT_THROW_WITH(brine::read_checkpoint_manifest(checkpoint), brine::FormatError, "'bytes'");
  write(
      R"({"format":"brine-checkpoint","format_version":2,"step":1,"encoding":"binary","value_count":1,"files":[]})");
  EXPECT_THROW_WITH(brine::read_checkpoint_manifest(checkpoint), brine::VersionError,
                    "layout version 2");
  write(
      R"({"format":"brine-checkpoint","format_version":1,"step":2,"encoding":"binary","value_count":1,"files":[]})");
  EXPECT_THROW_WITH(brine::verify_checkpoint(checkpoint), brine::FormatError,
                    "manifest is of step 2");
}

// ---- the manager -------------------------------------------------------------------------

class CheckpointManagerModes : public ::testing::TestWithParam<bool> {};

TEST_P(CheckpointManagerModes, SavesRestoresAndKeepsTheLastThree) {
  TempDir dir;
  CheckpointOptions options;
  options.async = GetParam();
  {
    CheckpointManager manager(dir.path(), options);
    Model m;
    EXPECT_FALSE(manager.restore_latest(m));
    for (std::uint64_t step = 10; step <= 50; step += 10) manager.save(step, model_at(step));
    manager.wait();
    EXPECT_EQ(manager.steps(), (std::vector<std::uint64_t>{30, 40, 50}));
  }
  CheckpointManager manager(dir.path(), options);
  EXPECT_EQ(manager.steps(), (std::vector<std::uint64_t>{30, 40, 50}));
  EXPECT_EQ(brine::list_complete_checkpoints(dir.path()), manager.steps());
  Model m;
  ASSERT_EQ(manager.restore_latest(m), 50u);
  EXPECT_EQ(m, model_at(50));
  ASSERT_TRUE(manager.restore(40, m));
  EXPECT_EQ(m, model_at(40));
  EXPECT_FALSE(manager.restore(10, m));
  EXPECT_EQ(m, model_at(40));  // untouched by the failed restore
}

TEST_P(CheckpointManagerModes, SeveralValuesAndMilestones) {
  TempDir dir;
  CheckpointOptions options;
  options.async = GetParam();
  options.keep_last = 2;
  options.keep_every = 100;
  CheckpointManager manager(dir.path(), options);
  for (std::uint64_t step = 50; step <= 400; step += 50)
    manager.save(step, model_at(step, 10), std::string("note ") + std::to_string(step));
  manager.wait();
  EXPECT_EQ(manager.steps(), (std::vector<std::uint64_t>{100, 200, 300, 350, 400}));
  Model m;
  std::string note;
  ASSERT_EQ(manager.restore_latest(m, note), 400u);
  EXPECT_EQ(m, model_at(400, 10));
  EXPECT_EQ(note, "note 400");
  EXPECT_THROW_WITH(manager.restore_latest(m), brine::SchemaError, "holds 2 values, 1 were");
}

INSTANTIATE_TEST_SUITE_P(SyncAndAsync, CheckpointManagerModes, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Async" : "Sync"; });

TEST(CheckpointManager, StepsMustIncrease) {
  TempDir dir;
  CheckpointManager manager(dir.path());
  manager.save(5, model_at(5));
  EXPECT_THROW_WITH(manager.save(5, model_at(5)), brine::Error, "steps must increase");
  EXPECT_THROW_WITH(manager.save(4, model_at(4)), brine::Error, "steps must increase");
  manager.save(6, model_at(6));
  EXPECT_EQ(manager.steps(), (std::vector<std::uint64_t>{5, 6}));
}

TEST(CheckpointManager, CorruptNewestIsQuarantinedAndTheNextOlderRestored) {
  TempDir dir;
  {
    CheckpointManager manager(dir.path());
    for (std::uint64_t step : {1, 2, 3}) manager.save(step, model_at(step));
  }
  flip_byte(data_file(dir.path(), 3), 100);
  fs::remove(dir / brine::checkpoint_directory_name(2) / brine::CheckpointManifest::kFileName);
  std::vector<brine::SkippedCheckpoint> skipped;
  CheckpointOptions options;
  options.on_skipped = [&](const brine::SkippedCheckpoint& s) { skipped.push_back(s); };
  CheckpointManager manager(dir.path(), options);
  // Step 2 lost its manifest: incomplete, removed at open, never restored.
  EXPECT_FALSE(fs::exists(dir / brine::checkpoint_directory_name(2)));
  Model m;
  ASSERT_EQ(manager.restore_latest(m), 1u);
  EXPECT_EQ(m, model_at(1));
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0].step, 3u);
  EXPECT_NE(skipped[0].reason.find("checksum"), std::string::npos) << skipped[0].reason;
  EXPECT_EQ(skipped[0].quarantined, dir / "quarantine" / brine::checkpoint_directory_name(3));
  EXPECT_TRUE(fs::exists(skipped[0].quarantined / "values.brine"));  // kept, never deleted
  EXPECT_EQ(manager.steps(), (std::vector<std::uint64_t>{1}));
  // The job goes on from step 1 and saves step 2 and 3 again.
  manager.save(2, model_at(2));
  manager.save(3, model_at(3));
  ASSERT_EQ(manager.restore_latest(m), 3u);
  EXPECT_EQ(m, model_at(3));
}

// Regression: checkpoint_crash_resume found 4 checkpoints kept of 3 when a job was killed
// after its last checkpoint became durable and before retention removed the oldest; the job
// resumed at its last step never saved again. restore_latest applies retention once the
// newest checkpoint has restored; a damaged newer one is quarantined first, never counted.
TEST(CheckpointManager, RestoreLatestFinishesTheRetentionACrashCutShort) {
  TempDir dir;
  {
    CheckpointOptions keep_four;
    keep_four.keep_last = 4;
    CheckpointManager manager(dir.path(), keep_four);
    for (std::uint64_t step : {1, 2, 3, 4, 5}) manager.save(step, model_at(step));
  }
  flip_byte(data_file(dir.path(), 5), 100);
  Model m;
  {
    CheckpointManager manager(dir.path());  // keeps the last 3
    EXPECT_EQ(manager.steps(), (std::vector<std::uint64_t>{2, 3, 4, 5}));
    ASSERT_EQ(manager.restore_latest(m), 4u);
    EXPECT_EQ(m, model_at(4));
    EXPECT_EQ(manager.steps(), (std::vector<std::uint64_t>{2, 3, 4}));
    EXPECT_TRUE(fs::exists(dir / brine::checkpoint_directory_name(2)));
  }
  // restore(step) of an older one leaves retention alone: it is a look back, not a resume.
  CheckpointManager again(dir.path(), [] {
    CheckpointOptions keep_one;
    keep_one.keep_last = 1;
    return keep_one;
  }());
  ASSERT_TRUE(again.restore(2, m));
  EXPECT_EQ(again.steps(), (std::vector<std::uint64_t>{2, 3, 4}));
}

TEST(CheckpointManager, ExplicitRestoreOfADamagedStepThrows) {
  TempDir dir;
  CheckpointManager manager(dir.path());
  manager.save(1, model_at(1));
  fs::resize_file(data_file(dir.path(), 1), 20);
  Model m = model_at(99);
  EXPECT_THROW_WITH(manager.restore(1, m), brine::FormatError, "holds 20 bytes");
  EXPECT_EQ(m, model_at(99));
  EXPECT_TRUE(fs::exists(dir / "quarantine" / brine::checkpoint_directory_name(1)));
}

TEST(CheckpointManager, StableAndSafetensorsEncodings) {
  TempDir dir;
  CheckpointOptions stable;
  stable.encoding = CheckpointEncoding::kStable;
  {
    CheckpointManager manager(dir / "stable", stable);
    manager.save(1, model_at(1));
  }
  EXPECT_TRUE(fs::exists(data_file(dir / "stable", 1, "values.cbor")));
  CheckpointManager reopened(dir / "stable");  // the manifest says which encoding to read
  Model m;
  ASSERT_EQ(reopened.restore_latest(m), 1u);
  EXPECT_EQ(m, model_at(1));

  CheckpointOptions st;
  st.encoding = CheckpointEncoding::kSafetensors;
  st.async = true;
  CheckpointManager manager(dir / "st", st);
  brine::StateDict dict;
  dict.insert("w", brine::Tensor::from_vector(std::vector<float>{1, 2, 3, 4}, {2, 2}));
  manager.save(3, dict);
  EXPECT_THROW_WITH(manager.save(4, model_at(4)), brine::SchemaError, "exactly one StateDict");
  brine::StateDict back;
  ASSERT_EQ(manager.restore_latest(back), 3u);
  ASSERT_TRUE(back.contains("w"));
  EXPECT_EQ(back.at("w").nbytes(), 16u);
  EXPECT_EQ(std::memcmp(back.at("w").bytes(), dict.at("w").bytes(), 16), 0);
  EXPECT_TRUE(fs::exists(data_file(dir / "st", 3, "model.safetensors")));
}

TEST(CheckpointManager, AsyncErrorSurfacesOnTheNextSaveAndWait) {
  TempDir dir;
  CheckpointOptions options;
  options.async = true;
  CheckpointManager manager(dir.path(), options);
  manager.save(1, model_at(1));
  manager.wait();
  // A file where the next checkpoint's directory goes: the background write fails.
  std::ofstream(dir / brine::checkpoint_directory_name(2)) << "in the way";
  manager.save(2, model_at(2));
  EXPECT_THROW(manager.wait(), brine::IoError);
  manager.wait();  // reported once
  std::ofstream(dir / brine::checkpoint_directory_name(3)) << "in the way";
  manager.save(3, model_at(3));
  EXPECT_THROW(manager.save(4, model_at(4)), brine::IoError);
  manager.save(5, model_at(5));
  manager.wait();
  EXPECT_EQ(manager.steps(), (std::vector<std::uint64_t>{1, 5}));
}

TEST(CheckpointManager, AsyncSaveCapturesTheValuesWhenItReturns) {
  TempDir dir;
  CheckpointOptions options;
  options.async = true;
  options.max_pending_saves = 2;
  CheckpointManager manager(dir.path(), options);
  Model m = model_at(1, 100000);
  manager.save(1, m);
  m = model_at(2, 100000);  // changed while step 1 may still be written
  manager.save(2, m);
  m.weights.clear();
  manager.wait();
  Model back;
  ASSERT_TRUE(manager.restore(1, back));
  EXPECT_EQ(back, model_at(1, 100000));
  ASSERT_TRUE(manager.restore(2, back));
  EXPECT_EQ(back, model_at(2, 100000));
}

// The bounds on pending saves: when save() returns, the saves it had to wait for are durable.
TEST(CheckpointManager, AsyncSaveWaitsWhileOverItsBounds) {
  for (bool bound_by_count : {true, false}) {
    SCOPED_TRACE(bound_by_count ? "max_pending_saves 1" : "max_pending_bytes 1");
    TempDir dir;
    CheckpointOptions options;
    options.async = true;
    options.keep_last = 0;
    options.max_pending_saves = bound_by_count ? 1 : 8;
    options.max_pending_bytes = bound_by_count ? options.max_pending_bytes : 1;
    CheckpointManager manager(dir.path(), options);
    for (std::uint64_t step = 1; step <= 4; ++step) {
      manager.save(step, model_at(step, 200000));
      std::vector<std::uint64_t> done = manager.steps();
      // One save pending at most, so every earlier one is complete.
      EXPECT_GE(done.size(), step - 1);
      for (std::uint64_t earlier = 1; earlier < step; ++earlier)
        EXPECT_TRUE(std::find(done.begin(), done.end(), earlier) != done.end()) << earlier;
    }
    manager.wait();
    EXPECT_EQ(manager.steps(), (std::vector<std::uint64_t>{1, 2, 3, 4}));
  }
}

TEST(CheckpointManager, DestructorFinishesPendingSaves) {
  TempDir dir;
  CheckpointOptions options;
  options.async = true;
  options.max_pending_saves = 4;
  {
    CheckpointManager manager(dir.path(), options);
    for (std::uint64_t step = 1; step <= 4; ++step) manager.save(step, model_at(step, 50000));
  }
  EXPECT_EQ(brine::list_complete_checkpoints(dir.path()), (std::vector<std::uint64_t>{2, 3, 4}));
  for (std::uint64_t step : {2, 3, 4})
    EXPECT_NO_THROW(brine::verify_checkpoint(dir / brine::checkpoint_directory_name(step)));
}

TEST(CheckpointManager, InterruptedSavesAreCleanedAtOpen) {
  TempDir dir;
  {
    CheckpointManager manager(dir.path());
    manager.save(1, model_at(1));
  }
  fs::create_directories(dir / brine::checkpoint_directory_name(2));
  std::ofstream(dir / brine::checkpoint_directory_name(2) / "values.brine") << "half";
  fs::create_directories(dir / "unrelated");
  CheckpointManager manager(dir.path());
  EXPECT_FALSE(fs::exists(dir / brine::checkpoint_directory_name(2)));
  EXPECT_TRUE(fs::exists(dir / "unrelated"));
  EXPECT_EQ(manager.steps(), (std::vector<std::uint64_t>{1}));
  manager.save(2, model_at(2));
}

}  // namespace
