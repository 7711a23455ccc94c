// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// stale_temp_files_test.cpp: saves killed by SIGKILL leave temporary files, which
// remove_stale_temp_files() removes, while every committed archive stays and loads and a
// temporary file still being written (in this process or a live child) is never touched.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <brine/brine.hpp>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using brine_test::TempDir;

/// Called by Blob::getstate after the payload is written, while saving; the children below
/// use it to stop in the middle of a save, with megabytes already in the temporary file.
void (*g_after_payload)() = nullptr;

struct Blob {
  BRINE_TYPE("test.Blob", 1);
  std::vector<double> payload;
  std::string tail;
  template <class A>
  void getstate(A& ar) const {
    ar("payload", payload);
    // Layouts are computed on a default-constructed object: only a real save stops here.
    if (!payload.empty() && g_after_payload != nullptr) g_after_payload();
    ar("tail", tail);
  }
  template <class A>
  void setstate(A& ar) {
    ar("payload", payload)("tail", tail);
  }
};

Blob make_blob(std::size_t doubles, const std::string& tail) {
  Blob b;
  b.payload.resize(doubles);
  for (std::size_t i = 0; i < doubles; ++i) b.payload[i] = static_cast<double>(i) * 0.5;
  b.tail = tail;
  return b;
}

int g_ready_fd = -1;

/// In the child: tells the parent that the save is half-way, then waits to be killed.
void signal_and_hang() {
  char byte = 'r';
  if (::write(g_ready_fd, &byte, 1) != 1) ::_exit(3);
  for (;;) ::pause();
}

enum class SaveKind { binary, stable, json, raw_sink };

/// Forks a child that saves a 4 MiB Blob to `target` and stops half-way (after the payload)
/// until it is killed. Returns its pid once the child says the temporary file holds data.
pid_t start_interrupted_save(const fs::path& target, SaveKind kind) {
  int fds[2];
  if (::pipe(fds) != 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    g_ready_fd = fds[1];
    g_after_payload = signal_and_hang;
    brine::Registry registry;
    registry.add<Blob>();
    Blob blob = make_blob(std::size_t{1} << 19, "never written");
    try {
      switch (kind) {
        case SaveKind::binary:
          brine::save_binary(target, blob, registry);
          break;
        case SaveKind::stable:
          brine::save_stable(target, blob, registry);
          break;
        case SaveKind::json:
          brine::save_json(target, blob, registry);
          break;
        case SaveKind::raw_sink: {
          brine::AtomicFileSink sink(target);
          std::string chunk(std::size_t{1} << 20, 'x');
          for (int i = 0; i < 3; ++i) sink.write(chunk.data(), chunk.size());
          sink.flush();
          signal_and_hang();
        }
      }
    } catch (...) {
      ::_exit(2);
    }
    ::_exit(1);  // the save finished: the parent reports it
  }
  ::close(fds[1]);
  char byte = 0;
  ssize_t got = ::read(fds[0], &byte, 1);
  ::close(fds[0]);
  if (got != 1) {
    ::waitpid(pid, nullptr, 0);
    return -1;
  }
  return pid;
}

void save(SaveKind kind, const fs::path& target, const Blob& blob, brine::Registry& registry) {
  if (kind == SaveKind::stable)
    brine::save_stable(target, blob, registry);
  else if (kind == SaveKind::json)
    brine::save_json(target, blob, registry);
  else
    brine::save_binary(target, blob, registry);
}

Blob load(SaveKind kind, const fs::path& target, brine::Registry& registry) {
  if (kind == SaveKind::stable) return brine::load_stable<Blob>(target, registry);
  if (kind == SaveKind::json) return brine::load_json<Blob>(target, registry);
  return brine::load_binary<Blob>(target, registry);
}

void kill_and_reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
}

std::vector<fs::path> temp_files_in(const fs::path& dir) {
  std::vector<fs::path> found;
  for (const auto& entry : fs::directory_iterator(dir))
    if (brine::is_temp_file_name(entry.path().filename().string())) found.push_back(entry.path());
  return found;
}

std::uint64_t total_size(const std::vector<fs::path>& files) {
  std::uint64_t n = 0;
  for (const fs::path& f : files) n += fs::file_size(f);
  return n;
}

TEST(StaleTempFiles, NamesAreRecognisedAndUnambiguous) {
  EXPECT_TRUE(brine::is_temp_file_name(".a.brine.brine-tmp.123.0123456789abcdef"));
  // A target whose own name looks like a temporary file's still parses from the end.
  EXPECT_TRUE(
      brine::is_temp_file_name("..x.brine-tmp.1.0123456789abcdef.brine-tmp.42.fedcba9876543210"));
  EXPECT_FALSE(brine::is_temp_file_name("a.brine"));
  EXPECT_FALSE(brine::is_temp_file_name("a.brine.tmp-123-456"));
  EXPECT_FALSE(brine::is_temp_file_name(".a.brine.brine-tmp.123.0123456789ABCDEF"));
  EXPECT_FALSE(brine::is_temp_file_name(".a.brine.brine-tmp..0123456789abcdef"));
  EXPECT_FALSE(brine::is_temp_file_name("a.brine.brine-tmp.1.0123456789abcdef"));
  EXPECT_FALSE(brine::is_temp_file_name("..brine-tmp.1.0123456789abcdef"));
}

TEST(StaleTempFiles, WriterTempFileIsHiddenNextToTheTarget) {
  TempDir dir;
  brine::AtomicFileSink sink(dir / "model.brine");
  fs::path temp = sink.temp_path();
  EXPECT_EQ(temp.parent_path(), dir.path());
  EXPECT_EQ(temp.filename().string().rfind(
                ".model.brine.brine-tmp." + std::to_string(::getpid()) + ".", 0),
            0u)
      << temp;
  EXPECT_TRUE(brine::is_temp_file_name(temp.filename().string()));
  EXPECT_TRUE(fs::exists(temp));
  sink.abandon();
  EXPECT_FALSE(fs::exists(temp));
  EXPECT_FALSE(fs::exists(dir / "model.brine"));
}

TEST(StaleTempFiles, LongTargetNamesStillGetATempFile) {
  TempDir dir;
  std::string name(250, 'n');
  brine::write_file_atomically(dir / name, "content");
  EXPECT_EQ(brine::read_file(dir / name), "content");
  EXPECT_TRUE(temp_files_in(dir.path()).empty());
}

// Regression: issue #9 (a killed save left its temporary file behind for good: 2 GB after 30
// kills of a 200 MB save).
TEST(StaleTempFiles, KilledSavesLeaveDebrisThatCleanupRemovesWhileArchivesStay) {
  TempDir dir;
  brine::Registry registry;
  registry.add<Blob>();
  const SaveKind kinds[] = {SaveKind::binary, SaveKind::stable, SaveKind::json, SaveKind::raw_sink};
  std::vector<std::pair<fs::path, SaveKind>> archives;
  int debris_expected = 0;
  for (int round = 0; round < 8; ++round) {
    SaveKind kind = kinds[round % 4];
    // Every other round kills a save over an archive that exists: it must survive.
    fs::path target = dir / ("ckpt-" + std::to_string(round / 2) + ".archive");
    if (round % 2 == 0) {
      SaveKind good_kind = kinds[(round / 2) % 3];
      Blob good = make_blob(1000, "round " + std::to_string(round));
      save(good_kind, target, good, registry);
      archives.emplace_back(target, good_kind);
    }
    pid_t pid = start_interrupted_save(target, kind);
    ASSERT_GT(pid, 0) << "the child could not start its save";
    kill_and_reap(pid);
    // save_json renders the whole document before it creates the file: killed in getstate,
    // it leaves nothing.
    if (kind != SaveKind::json) ++debris_expected;
  }
  std::vector<fs::path> debris = temp_files_in(dir.path());
  ASSERT_EQ(debris.size(), static_cast<std::size_t>(debris_expected));
  std::uint64_t debris_bytes = total_size(debris);
  EXPECT_GT(debris_bytes, std::uint64_t{1} << 20);  // saves stopped after megabytes

  brine::RemovedTempFiles removed = brine::remove_stale_temp_files(dir.path());
  EXPECT_EQ(removed.count(), static_cast<std::size_t>(debris_expected));
  EXPECT_EQ(removed.bytes, debris_bytes);
  EXPECT_TRUE(temp_files_in(dir.path()).empty());
  for (const fs::path& p : removed.paths) EXPECT_EQ(p.parent_path(), dir.path());

  // Every committed archive is intact.
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, archives.size());
  for (std::size_t i = 0; i < archives.size(); ++i) {
    Blob b = load(archives[i].second, archives[i].first, registry);
    EXPECT_EQ(b.payload.size(), 1000u);
    EXPECT_EQ(b.tail, "round " + std::to_string(2 * i));
  }
  // Nothing left: a second call removes nothing.
  EXPECT_EQ(brine::remove_stale_temp_files(dir.path()).count(), 0u);
}

TEST(StaleTempFiles, CleanupOfOnePathLeavesOtherTargetsDebris) {
  TempDir dir;
  for (const char* name : {"a.brine", "b.brine"}) {
    pid_t pid = start_interrupted_save(dir / name, SaveKind::raw_sink);
    ASSERT_GT(pid, 0);
    kill_and_reap(pid);
  }
  ASSERT_EQ(temp_files_in(dir.path()).size(), 2u);
  brine::RemovedTempFiles removed = brine::remove_stale_temp_files(dir / "a.brine");
  ASSERT_EQ(removed.count(), 1u);
  EXPECT_EQ(removed.paths[0].filename().string().rfind(".a.brine.brine-tmp.", 0), 0u);
  std::vector<fs::path> left = temp_files_in(dir.path());
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].filename().string().rfind(".b.brine.brine-tmp.", 0), 0u);
}

TEST(StaleTempFiles, KeepsTheTempFileOfASaveRunningInThisProcess) {
  TempDir dir;
  brine::AtomicFileSink sink(dir / "live.brine");
  sink.write("partial", 7);
  sink.flush();
  brine::RemovedTempFiles removed = brine::remove_stale_temp_files(dir.path());
  EXPECT_EQ(removed.count(), 0u);
  EXPECT_EQ(brine::remove_stale_temp_files(dir / "live.brine").count(), 0u);
  EXPECT_TRUE(fs::exists(sink.temp_path()));
  sink.write(" and the rest", 13);
  sink.commit();
  EXPECT_EQ(brine::read_file(dir / "live.brine"), "partial and the rest");
}

TEST(StaleTempFiles, KeepsTheTempFileOfALiveChildAndRemovesItOnceTheChildIsKilled) {
  TempDir dir;
  pid_t pid = start_interrupted_save(dir / "child.brine", SaveKind::binary);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(temp_files_in(dir.path()).size(), 1u);
  EXPECT_EQ(brine::remove_stale_temp_files(dir.path()).count(), 0u);
  EXPECT_EQ(temp_files_in(dir.path()).size(), 1u);
  kill_and_reap(pid);
  EXPECT_EQ(brine::remove_stale_temp_files(dir.path()).count(), 1u);
  EXPECT_TRUE(temp_files_in(dir.path()).empty());
}

TEST(StaleTempFiles, LeavesLookalikesThatAreNotRegularFiles) {
  TempDir dir;
  fs::create_directory(dir / ".x.brine.brine-tmp.1.0123456789abcdef");
  fs::create_symlink("/etc/passwd", dir / ".y.brine.brine-tmp.1.0123456789abcdef");
  EXPECT_EQ(brine::remove_stale_temp_files(dir.path()).count(), 0u);
  EXPECT_TRUE(fs::exists(dir / ".x.brine.brine-tmp.1.0123456789abcdef"));
  EXPECT_TRUE(fs::is_symlink(dir / ".y.brine.brine-tmp.1.0123456789abcdef"));
}

TEST(StaleTempFiles, MissingDirectoryIsAnIoErrorNamingIt) {
  TempDir dir;
  EXPECT_THROW_WITH(brine::remove_stale_temp_files(dir / "nope" / "x.brine"), brine::IoError,
                    "nope");
}

}  // namespace
