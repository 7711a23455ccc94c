// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// checkpoint/checkpoint.cpp: the checkpoint directory (lock, layout, manifest, verification,
// retention) and CheckpointManager's saving, background writer and restoring.

#include "brine/checkpoint.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <mutex>
#include <nlohmann/json.hpp>
#include <system_error>
#include <thread>

#include "brine/version.hpp"
#include "io/durable.hpp"
#include "util/xxhash.hpp"

namespace brine {

namespace fs = std::filesystem;

namespace {

constexpr const char* kStepPrefix = "step-";
constexpr std::size_t kStepDigits = 10;
constexpr const char* kQuarantineName = "quarantine";
constexpr const char* kManifestFormat = "brine-checkpoint";
// A manifest lists a handful of files; anything this large is not one, and bounding it
// bounds what parsing a hostile manifest costs.
constexpr std::uintmax_t kMaxManifestBytes = std::uintmax_t{1} << 20;

[[noreturn]] void io_fail(const std::string& what, const fs::path& path, std::error_code ec) {
  ErrorContext where;
  where.source = path.string();
  detail::throw_io_error(what, ec, where);
}

[[noreturn]] void io_fail_errno(const std::string& what, const fs::path& path, int err = errno) {
  io_fail(what, path, std::error_code(err, std::generic_category()));
}

ErrorContext context_of(const fs::path& path) {
  ErrorContext where;
  where.source = path.string();
  return where;
}

[[noreturn]] void format_fail(errc code, const std::string& what, const fs::path& path) {
  ErrorContext where;
  where.source = path.string();
  detail::throw_error(code, what, where);
}

struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(Fd&& other) noexcept : fd(std::exchange(other.fd, -1)) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string hex64(std::uint64_t v) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(v));
  return text;
}

std::optional<std::uint64_t> parse_hex64(const std::string& text) {
  if (text.size() != 16 || text.find_first_not_of("0123456789abcdef") != std::string::npos)
    return std::nullopt;
  return std::stoull(text, nullptr, 16);
}

std::optional<CheckpointEncoding> encoding_named(const std::string& name) {
  for (CheckpointEncoding e :
       {CheckpointEncoding::kBinary, CheckpointEncoding::kStable, CheckpointEncoding::kSafetensors})
    if (name == checkpoint_encoding_name(e)) return e;
  return std::nullopt;
}

/// The data file a single-process checkpoint of `encoding` keeps its values in.
const char* data_file_name(CheckpointEncoding encoding) {
  switch (encoding) {
    case CheckpointEncoding::kStable:
      return "values.cbor";
    case CheckpointEncoding::kSafetensors:
      return "model.safetensors";
    case CheckpointEncoding::kBinary:
      break;
  }
  return "values.brine";
}

/// A plain file name: what a manifest may list (never a path out of the checkpoint).
bool is_plain_file_name(const std::string& name) {
  return !name.empty() && name.size() <= 255 && name != "." && name != ".." &&
         name.find_first_of(std::string("/\\\0", 3)) == std::string::npos;
}

Fd open_checkpoint_file(const fs::path& path) {
  Fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (f.fd < 0) {
    if (errno == ENOENT)
      format_fail(errc::corrupt_data, "checkpoint file listed in the manifest is missing", path);
    io_fail_errno("cannot open the checkpoint file", path);
  }
  return f;
}

std::uint64_t size_of_file(const fs::path& path) {
  Fd f = open_checkpoint_file(path);
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) io_fail_errno("cannot stat the checkpoint file", path);
  return static_cast<std::uint64_t>(st.st_size);
}

/// Whether a data file of `encoding` checksums every byte of its values itself, so that the
/// manifest need not (a second pass over every byte, on save and on restore, for nothing).
bool checksums_itself(CheckpointEncoding encoding) {
  return encoding != CheckpointEncoding::kSafetensors;
}

/// XXH3-64 of the file at `path` and its size, read in bounded chunks.
std::pair<std::uint64_t, std::uint64_t> hash_file(const fs::path& path) {
  Fd f = open_checkpoint_file(path);
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> state(XXH3_createState(),
                                                                 &XXH3_freeState);
  XXH3_64bits_reset(state.get());
  std::vector<char> chunk(std::size_t{1} << 20);
  std::uint64_t total = 0;
  for (;;) {
    ssize_t n = ::read(f.fd, chunk.data(), chunk.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      io_fail_errno("cannot read the checkpoint file", path);
    }
    if (n == 0) break;
    XXH3_64bits_update(state.get(), chunk.data(), static_cast<std::size_t>(n));
    total += static_cast<std::uint64_t>(n);
  }
  return {XXH3_64bits_digest(state.get()), total};
}

/// Forwards to `inner`, counting what goes through and, with `hash`, hashing it, so that a
/// streamed save knows its file's size and checksum without reading it back.
class HashingSink final : public ByteSink {
 public:
  HashingSink(ByteSink& inner, bool hash)
      : inner_(inner), state_(hash ? XXH3_createState() : nullptr) {
    if (hash && state_ == nullptr) throw std::bad_alloc();
    if (state_ != nullptr) XXH3_64bits_reset(state_);
  }
  ~HashingSink() override {
    if (state_ != nullptr) XXH3_freeState(state_);
  }
  HashingSink(const HashingSink&) = delete;
  HashingSink& operator=(const HashingSink&) = delete;

  void write(const void* bytes, std::size_t n) override {
    if (state_ != nullptr) XXH3_64bits_update(state_, bytes, n);
    inner_.write(bytes, n);
    bytes_ += n;
  }
  void flush() override { inner_.flush(); }
  std::string description() const override { return inner_.description(); }
  CheckpointFileInfo info(std::string name) const {
    CheckpointFileInfo f;
    f.name = std::move(name);
    f.bytes = bytes_;
    f.has_xxh3_64 = state_ != nullptr;
    if (f.has_xxh3_64) f.xxh3_64 = XXH3_64bits_digest(state_);
    return f;
  }
  std::uint64_t bytes() const { return bytes_; }

 private:
  ByteSink& inner_;
  XXH3_state_t* state_;
  std::uint64_t bytes_ = 0;
};

pid_t read_holder_pid(int fd) {
  char text[128] = {};
  ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  if (n <= 0) return 0;
  long pid = 0;
  if (std::sscanf(text, "pid %ld", &pid) != 1 || pid <= 0) return 0;
  return static_cast<pid_t>(pid);
}

}  // namespace

const char* checkpoint_encoding_name(CheckpointEncoding encoding) noexcept {
  switch (encoding) {
    case CheckpointEncoding::kStable:
      return "stable";
    case CheckpointEncoding::kSafetensors:
      return "safetensors";
    case CheckpointEncoding::kBinary:
      break;
  }
  return "binary";
}

void detail::checkpoint_encoding_mismatch(CheckpointEncoding encoding, bool is_state_dict) {
  std::string name = checkpoint_encoding_name(encoding);
  if (is_state_dict)
    throw_error(
        errc::type_mismatch,
        "a StateDict is saved and restored only with the safetensors encoding, not '" + name + "'");
  throw_error(errc::type_mismatch,
              "the '" + name + "' encoding holds exactly one StateDict; save and restore one");
}

// ---- the directory lock ----------------------------------------------------------------

CheckpointDirectoryLock::CheckpointDirectoryLock(const fs::path& dir) : dir_(dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) io_fail("cannot create the checkpoint directory", dir, ec);
  fs::path path = dir / kFileName;
  Fd f(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (f.fd < 0) io_fail_errno("cannot open the lock file", path);
  if (::flock(f.fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    if (err != EWOULDBLOCK) io_fail_errno("cannot lock the checkpoint directory", path, err);
    pid_t holder = read_holder_pid(f.fd);
    ErrorContext where;
    where.source = path.string();
    throw CheckpointLockedError(
        "checkpoint directory is in use by " +
            (holder != 0 ? "process " + std::to_string(holder) : std::string("another job")) +
            ": one job per directory",
        std::error_code(err, std::generic_category()), holder, where);
  }
  // The pid is for the message a second job gets; a failure to write it costs only that.
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::string text = "pid " + std::to_string(::getpid()) + "\nhost " + std::string(host) + "\n";
  if (::ftruncate(f.fd, 0) == 0) {
    ssize_t ignored = ::pwrite(f.fd, text.data(), text.size(), 0);
    (void)ignored;
  }
  fd_ = f.fd;
  f.fd = -1;
}

CheckpointDirectoryLock::~CheckpointDirectoryLock() {
  // Closing drops the lock; the file stays, so that a waiting job never races to create it.
  if (fd_ >= 0) ::close(fd_);
}

CheckpointDirectoryLock::CheckpointDirectoryLock(CheckpointDirectoryLock&& other) noexcept
    : dir_(std::move(other.dir_)), fd_(std::exchange(other.fd_, -1)) {}

CheckpointDirectoryLock& CheckpointDirectoryLock::operator=(
    CheckpointDirectoryLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    dir_ = std::move(other.dir_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

// ---- retention -------------------------------------------------------------------------

std::vector<std::uint64_t> RetentionPolicy::to_remove(std::vector<std::uint64_t> steps) const {
  std::sort(steps.begin(), steps.end());
  std::vector<std::uint64_t> removed;
  if (keep_last == 0 || steps.size() <= keep_last) return removed;
  for (std::size_t i = 0; i + keep_last < steps.size(); ++i) {
    bool milestone = keep_every && *keep_every != 0 && steps[i] % *keep_every == 0;
    if (!milestone) removed.push_back(steps[i]);
  }
  return removed;
}

// ---- layout, manifest and verification -------------------------------------------------

std::string checkpoint_directory_name(std::uint64_t step) {
  std::string digits = std::to_string(step);
  if (digits.size() < kStepDigits) digits.insert(0, kStepDigits - digits.size(), '0');
  return kStepPrefix + digits;
}

std::optional<std::uint64_t> parse_checkpoint_directory_name(std::string_view name) {
  const std::string_view prefix = kStepPrefix;
  if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix) return std::nullopt;
  std::string_view digits = name.substr(prefix.size());
  if (digits.size() > 20 || digits.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  std::uint64_t step = 0;
  for (char c : digits) {
    std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (step > (UINT64_MAX - d) / 10) return std::nullopt;
    step = step * 10 + d;
  }
  if (checkpoint_directory_name(step) != name) return std::nullopt;
  return step;
}

void write_checkpoint_manifest(const fs::path& checkpoint_dir, const CheckpointManifest& manifest) {
  nlohmann::json files = nlohmann::json::array();
  for (const CheckpointFileInfo& f : manifest.files) {
    nlohmann::json entry = {{"name", f.name}, {"bytes", f.bytes}};
    if (f.has_xxh3_64) entry["xxh3_64"] = hex64(f.xxh3_64);
    files.push_back(std::move(entry));
  }
  nlohmann::json j = {{"format", kManifestFormat},
                      {"format_version", manifest.format_version},
                      {"brine_version", BRINE_VERSION_STRING},
                      {"step", manifest.step},
                      {"encoding", checkpoint_encoding_name(manifest.encoding)},
                      {"value_count", manifest.value_count},
                      {"files", std::move(files)}};
  write_file_atomically(checkpoint_dir / CheckpointManifest::kFileName, j.dump(2) + "\n");
}

CheckpointManifest read_checkpoint_manifest(const fs::path& checkpoint_dir) {
  fs::path path = checkpoint_dir / CheckpointManifest::kFileName;
  std::error_code ec;
  std::uintmax_t size = fs::file_size(path, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory)
      format_fail(errc::corrupt_data, "checkpoint has no manifest (it is incomplete)", path);
    io_fail("cannot read the checkpoint manifest", path, ec);
  }
  if (size > kMaxManifestBytes)
    format_fail(errc::corrupt_data,
                "manifest of " + std::to_string(size) + " bytes is over the " +
                    std::to_string(kMaxManifestBytes) + " a manifest may have",
                path);
  std::string text = read_file(path);
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    format_fail(errc::corrupt_data, "manifest is not a JSON object", path);
  auto field = [&](const nlohmann::json& object, const char* key,
                   nlohmann::json::value_t type) -> const nlohmann::json& {
    auto it = object.find(key);
    if (it == object.end())
      format_fail(errc::corrupt_data, std::string("manifest lacks '") + key + "'", path);
    bool ok = it->type() == type ||
              (type == nlohmann::json::value_t::number_unsigned && it->is_number_unsigned());
    if (!ok)
      format_fail(errc::corrupt_data,
                  std::string("manifest field '") + key + "' has the wrong type", path);
    return *it;
  };
  using T = nlohmann::json::value_t;
  if (field(j, "format", T::string).get<std::string>() != kManifestFormat)
    format_fail(errc::corrupt_data,
                std::string("manifest 'format' is not '") + kManifestFormat + "'", path);
  CheckpointManifest m;
  std::uint64_t version = field(j, "format_version", T::number_unsigned).get<std::uint64_t>();
  if (version == 0) format_fail(errc::corrupt_data, "manifest 'format_version' is 0", path);
  if (version > kCheckpointFormatVersion)
    format_fail(errc::newer_format_version,
                "checkpoint written in layout version " + std::to_string(version) +
                    ", this build reads up to " + std::to_string(kCheckpointFormatVersion) +
                    ": upgrade the program",
                path);
  m.format_version = static_cast<std::uint32_t>(version);
  m.step = field(j, "step", T::number_unsigned).get<std::uint64_t>();
  std::string encoding = field(j, "encoding", T::string).get<std::string>();
  std::optional<CheckpointEncoding> e = encoding_named(encoding);
  if (!e)
    format_fail(errc::corrupt_data, "manifest names unknown encoding '" + encoding + "'", path);
  m.encoding = *e;
  std::uint64_t count = field(j, "value_count", T::number_unsigned).get<std::uint64_t>();
  if (count > 1'000'000)
    format_fail(errc::corrupt_data,
                "manifest 'value_count' " + std::to_string(count) + " is absurd", path);
  m.value_count = static_cast<std::size_t>(count);
  const nlohmann::json& files = field(j, "files", T::array);
  for (const nlohmann::json& f : files) {
    if (!f.is_object())
      format_fail(errc::corrupt_data, "manifest 'files' holds a non-object", path);
    CheckpointFileInfo info;
    info.name = field(f, "name", T::string).get<std::string>();
    if (!is_plain_file_name(info.name))
      format_fail(errc::corrupt_data, "manifest lists '" + info.name + "', not a plain file name",
                  path);
    info.bytes = field(f, "bytes", T::number_unsigned).get<std::uint64_t>();
    info.has_xxh3_64 = f.contains("xxh3_64");
    if (info.has_xxh3_64) {
      std::optional<std::uint64_t> hash =
          parse_hex64(field(f, "xxh3_64", T::string).get<std::string>());
      if (!hash)
        format_fail(errc::corrupt_data,
                    "manifest 'xxh3_64' of '" + info.name + "' is not 16 lowercase hex digits",
                    path);
      info.xxh3_64 = *hash;
    }
    for (const CheckpointFileInfo& other : m.files)
      if (other.name == info.name)
        format_fail(errc::corrupt_data, "manifest lists '" + info.name + "' twice", path);
    m.files.push_back(std::move(info));
  }
  return m;
}

CheckpointManifest verify_checkpoint(const fs::path& checkpoint_dir) {
  CheckpointManifest m = read_checkpoint_manifest(checkpoint_dir);
  std::optional<std::uint64_t> named = parse_checkpoint_directory_name(
      checkpoint_dir.filename().empty() ? checkpoint_dir.parent_path().filename().string()
                                        : checkpoint_dir.filename().string());
  if (named && *named != m.step)
    format_fail(errc::corrupt_data,
                "manifest is of step " + std::to_string(m.step) + ", the directory of step " +
                    std::to_string(*named),
                checkpoint_dir / CheckpointManifest::kFileName);
  for (const CheckpointFileInfo& f : m.files) {
    fs::path path = checkpoint_dir / f.name;
    if (!f.has_xxh3_64) {
      std::uint64_t bytes = size_of_file(path);
      if (bytes != f.bytes)
        format_fail(errc::truncated_input,
                    "checkpoint file holds " + std::to_string(bytes) +
                        " bytes, the manifest says " + std::to_string(f.bytes),
                    path);
      continue;
    }
    auto [hash, bytes] = hash_file(path);
    if (bytes != f.bytes)
      format_fail(errc::truncated_input,
                  "checkpoint file holds " + std::to_string(bytes) + " bytes, the manifest says " +
                      std::to_string(f.bytes),
                  path);
    if (hash != f.xxh3_64)
      format_fail(
          errc::checksum_mismatch,
          "checkpoint file's XXH3-64 is " + hex64(hash) + ", the manifest says " + hex64(f.xxh3_64),
          path);
  }
  return m;
}

std::vector<std::uint64_t> list_complete_checkpoints(const fs::path& dir) {
  std::vector<std::uint64_t> steps;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::optional<std::uint64_t> step =
        parse_checkpoint_directory_name(it->path().filename().string());
    std::error_code e2;
    if (step && !it->is_symlink(e2) && it->is_directory(e2) &&
        fs::is_regular_file(it->path() / CheckpointManifest::kFileName, e2))
      steps.push_back(*step);
  }
  if (ec) io_fail("cannot list the checkpoint directory", dir, ec);
  std::sort(steps.begin(), steps.end());
  return steps;
}

void remove_checkpoint(const fs::path& dir, std::uint64_t step) {
  fs::path checkpoint = dir / checkpoint_directory_name(step);
  fs::path manifest = checkpoint / CheckpointManifest::kFileName;
  if (::unlink(manifest.c_str()) != 0 && errno != ENOENT)
    io_fail_errno("cannot remove the checkpoint's manifest", manifest);
  // Durable before any data file goes: a crash then leaves an incomplete checkpoint, which
  // the next job removes, never a manifest over missing files.
  std::error_code ec;
  if (fs::exists(checkpoint, ec)) io_internal::fsync_directory(checkpoint);
  fs::remove_all(checkpoint, ec);
  if (ec) io_fail("cannot remove the checkpoint", checkpoint, ec);
  io_internal::fsync_directory(dir);
}

fs::path quarantine_checkpoint(const fs::path& dir, std::uint64_t step) {
  std::string name = checkpoint_directory_name(step);
  fs::path quarantine = dir / kQuarantineName;
  std::error_code ec;
  fs::create_directories(quarantine, ec);
  if (ec) io_fail("cannot create the quarantine folder", quarantine, ec);
  fs::path target = quarantine / name;
  for (int n = 1; fs::exists(fs::symlink_status(target, ec)); ++n)
    target = quarantine / (name + "." + std::to_string(n));
  fs::rename(dir / name, target, ec);
  if (ec) io_fail("cannot move the checkpoint into quarantine", dir / name, ec);
  io_internal::fsync_directory(quarantine);
  io_internal::fsync_directory(dir);
  return target;
}

std::size_t remove_incomplete_checkpoints(const fs::path& dir) {
  std::size_t removed = remove_stale_temp_files(dir).count();
  std::vector<fs::path> incomplete, complete;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::error_code e2;
    if (!parse_checkpoint_directory_name(it->path().filename().string()) || it->is_symlink(e2) ||
        !it->is_directory(e2))
      continue;
    if (fs::is_regular_file(it->path() / CheckpointManifest::kFileName, e2))
      complete.push_back(it->path());
    else
      incomplete.push_back(it->path());
  }
  if (ec) io_fail("cannot list the checkpoint directory", dir, ec);
  for (const fs::path& path : complete) removed += remove_stale_temp_files(path).count();
  for (const fs::path& path : incomplete) {
    fs::remove_all(path, ec);
    if (ec) io_fail("cannot remove an incomplete checkpoint", path, ec);
    ++removed;
  }
  if (!incomplete.empty()) io_internal::fsync_directory(dir);
  return removed;
}

// ---- the manager -----------------------------------------------------------------------

struct CheckpointManager::State {
  State(const fs::path& d, CheckpointOptions o)
      : dir(d), options(std::move(o)), lock(d), retention{options.keep_last, options.keep_every} {}

  fs::path dir;
  CheckpointOptions options;
  CheckpointDirectoryLock lock;
  RetentionPolicy retention;

  // Caller thread only: the newest step saved or queued.
  std::optional<std::uint64_t> latest;

  // Shared with the background writer.
  struct Job {
    std::uint64_t step;
    std::size_t value_count;
    Buffer bytes;
  };
  mutable std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::uint64_t> complete;  // ascending
  std::deque<Job> queue;
  std::size_t pending_count = 0;  // queued, or being written
  std::size_t pending_bytes = 0;
  std::exception_ptr error;  // the first failure of a background save not yet reported
  // The buffer of the last save written, emptied, for the next capture: its pages are mapped
  // already, so a capture is a copy into warm memory rather than one page fault every 4 KiB
  // (which made a capture slower than a synchronous save). It is the memory the next capture
  // needs anyway.
  Buffer spare;
  bool stopping = false;
  std::thread writer;

  /// Writes checkpoint `step` with the encoding's data file written by `write`, completes it
  /// with its manifest, then applies retention.
  void commit(std::uint64_t step, std::size_t value_count,
              const std::function<CheckpointFileInfo(const fs::path&)>& write) {
    fs::path checkpoint = dir / checkpoint_directory_name(step);
    std::error_code ec;
    // Left by an earlier failed save of this step in this process: never complete. Anything
    // else of that name is not ours, and create_directory refuses it below.
    if (fs::is_directory(fs::symlink_status(checkpoint, ec))) fs::remove_all(checkpoint, ec);
    if (!fs::create_directory(checkpoint, ec) || ec)
      io_fail("cannot create the checkpoint directory", checkpoint, ec);
    try {
      CheckpointManifest manifest;
      manifest.step = step;
      manifest.encoding = options.encoding;
      manifest.value_count = value_count;
      manifest.files.push_back(write(checkpoint / data_file_name(options.encoding)));
      write_checkpoint_manifest(checkpoint, manifest);
      // The checkpoint's own entry: until this, a crash may lose the whole directory.
      io_internal::fsync_directory(dir);
    } catch (...) {
      std::error_code ignored;
      fs::remove_all(checkpoint, ignored);
      throw;
    }
    {
      std::lock_guard<std::mutex> guard(mutex);
      complete.push_back(step);
      std::sort(complete.begin(), complete.end());
    }
    apply_retention();
  }

  /// Removes the complete checkpoints the retention policy no longer keeps.
  void apply_retention() {
    std::vector<std::uint64_t> doomed;
    {
      std::lock_guard<std::mutex> guard(mutex);
      doomed = retention.to_remove(complete);
      for (std::uint64_t s : doomed) complete.erase(std::find(complete.begin(), complete.end(), s));
    }
    for (std::uint64_t s : doomed) remove_checkpoint(dir, s);
  }

  void write_in_background() {
    std::unique_lock<std::mutex> guard(mutex);
    for (;;) {
      changed.wait(guard, [&] { return stopping || !queue.empty(); });
      if (queue.empty()) return;  // stopping, and nothing left to write
      Job job = std::move(queue.front());
      queue.pop_front();
      guard.unlock();
      std::exception_ptr failure;
      try {
        commit(job.step, job.value_count, [&](const fs::path& path) {
          write_file_atomically(path, job.bytes.view());
          CheckpointFileInfo f;
          f.name = path.filename().string();
          f.bytes = job.bytes.size();
          f.has_xxh3_64 = !checksums_itself(options.encoding);
          if (f.has_xxh3_64) f.xxh3_64 = XXH3_64bits(job.bytes.data(), job.bytes.size());
          return f;
        });
      } catch (...) {
        failure = std::current_exception();
      }
      std::size_t size = job.bytes.size();
      job.bytes.clear();
      guard.lock();
      // One spare at most: the others' memory goes before the next save() is let in.
      if (job.bytes.capacity() > spare.capacity()) spare = std::move(job.bytes);
      job.bytes = Buffer();
      if (failure && !error) error = failure;
      --pending_count;
      pending_bytes -= size;
      changed.notify_all();
    }
  }

  void rethrow_error() {
    std::exception_ptr e;
    {
      std::lock_guard<std::mutex> guard(mutex);
      e = std::exchange(error, nullptr);
    }
    if (e) std::rethrow_exception(e);
  }

  void drain() {
    std::unique_lock<std::mutex> guard(mutex);
    changed.wait(guard, [&] { return pending_count == 0; });
  }
};

CheckpointManager::CheckpointManager(const fs::path& dir, CheckpointOptions options)
    : state_(std::make_unique<State>(dir, std::move(options))) {
  if (state_->options.max_pending_saves == 0) state_->options.max_pending_saves = 1;
  remove_incomplete_checkpoints(state_->dir);
  state_->complete = list_complete_checkpoints(state_->dir);
  if (!state_->complete.empty()) state_->latest = state_->complete.back();
}

CheckpointManager::~CheckpointManager() {
  if (!state_->writer.joinable()) return;
  {
    std::lock_guard<std::mutex> guard(state_->mutex);
    state_->stopping = true;
  }
  state_->changed.notify_all();
  state_->writer.join();  // writes every queued save first
}

void CheckpointManager::save_with(std::uint64_t step, std::size_t value_count,
                                  const WriteFn& write) {
  State& s = *state_;
  s.rethrow_error();
  if (s.latest && step <= *s.latest)
    detail::throw_error(errc::unsupported_content,
                        "cannot save step " + std::to_string(step) +
                            ": steps must increase, and step " + std::to_string(*s.latest) +
                            " is saved already",
                        context_of(s.dir));
  if (!s.options.async) {
    s.commit(step, value_count, [&](const fs::path& path) {
      AtomicFileSink file(path);
      HashingSink sink(file, !checksums_itself(s.options.encoding));
      write(sink);
      sink.flush();
      file.commit();
      return sink.info(path.filename().string());
    });
    s.latest = step;
    return;
  }
  {
    std::unique_lock<std::mutex> guard(s.mutex);
    s.changed.wait(guard, [&] { return s.pending_count < s.options.max_pending_saves || s.error; });
  }
  s.rethrow_error();
  // The capture: after this the caller may change its objects.
  Buffer bytes;
  {
    std::lock_guard<std::mutex> guard(s.mutex);
    bytes = std::move(s.spare);
    s.spare = Buffer();
  }
  bytes.clear();
  {
    BufferSink sink(bytes);
    write(sink);
  }
  std::unique_lock<std::mutex> guard(s.mutex);
  s.changed.wait(guard, [&] {
    return s.pending_count == 0 || s.pending_bytes + bytes.size() <= s.options.max_pending_bytes;
  });
  // Started before the job is queued: a thread that cannot start leaves nothing pending.
  if (!s.writer.joinable()) s.writer = std::thread([&s] { s.write_in_background(); });
  s.pending_bytes += bytes.size();
  ++s.pending_count;
  s.queue.push_back(State::Job{step, value_count, std::move(bytes)});
  s.latest = step;
  guard.unlock();
  s.changed.notify_all();
}

void CheckpointManager::wait() {
  state_->drain();
  state_->rethrow_error();
}

std::optional<std::uint64_t> CheckpointManager::restore_with(std::optional<std::uint64_t> step,
                                                             std::size_t value_count,
                                                             const ReadFn& read) {
  State& s = *state_;
  wait();
  std::vector<std::uint64_t> candidates = list_complete_checkpoints(s.dir);
  if (step) {
    if (!std::binary_search(candidates.begin(), candidates.end(), *step)) return std::nullopt;
    candidates = {*step};
  }
  for (auto it = candidates.rbegin(); it != candidates.rend(); ++it) {
    fs::path checkpoint = s.dir / checkpoint_directory_name(*it);
    try {
      CheckpointManifest manifest = verify_checkpoint(checkpoint);
      if (manifest.value_count != value_count)
        detail::throw_error(errc::type_mismatch,
                            "checkpoint of step " + std::to_string(*it) + " holds " +
                                std::to_string(manifest.value_count) + " values, " +
                                std::to_string(value_count) + " were asked for",
                            context_of(checkpoint));
      std::string data = data_file_name(manifest.encoding);
      bool listed = std::any_of(manifest.files.begin(), manifest.files.end(),
                                [&](const CheckpointFileInfo& f) { return f.name == data; });
      if (!listed)
        format_fail(errc::corrupt_data, "manifest does not list the data file '" + data + "'",
                    checkpoint / CheckpointManifest::kFileName);
      read(checkpoint / data, manifest.encoding);
      // A job killed after a checkpoint became durable and before its retention ran left one
      // more than the policy keeps; a job that resumes and never saves again (it was done)
      // would keep it for good. Only now is it safe to remove: the newest checkpoint has
      // restored, so the ones retention keeps start from a good one.
      if (!step) s.apply_retention();
      return *it;
    } catch (const LimitError&) {
      throw;  // a valid checkpoint over the caller's limits is not damaged
    } catch (const FormatError& e) {
      SkippedCheckpoint skipped;
      skipped.step = *it;
      skipped.path = checkpoint;
      skipped.reason = e.what();
      try {
        skipped.quarantined = quarantine_checkpoint(s.dir, *it);
      } catch (const IoError&) {
        // Left in place, it is skipped again next time; the report says it was not moved.
      }
      {
        std::lock_guard<std::mutex> guard(s.mutex);
        s.complete.erase(std::remove(s.complete.begin(), s.complete.end(), *it), s.complete.end());
        // The job resumes from an older step and saves the steps after it again.
        s.latest =
            s.complete.empty() ? std::nullopt : std::optional<std::uint64_t>(s.complete.back());
      }
      if (s.options.on_skipped) s.options.on_skipped(skipped);
      if (step) throw;
    }
  }
  return std::nullopt;
}

std::vector<std::uint64_t> CheckpointManager::steps() const {
  std::lock_guard<std::mutex> guard(state_->mutex);
  return state_->complete;
}

std::optional<std::uint64_t> CheckpointManager::latest_step() const { return state_->latest; }

const fs::path& CheckpointManager::directory() const noexcept { return state_->dir; }

const CheckpointOptions& CheckpointManager::options() const noexcept { return state_->options; }

Registry& CheckpointManager::registry() const noexcept {
  return state_->options.registry ? *state_->options.registry : default_registry();
}

}  // namespace brine
