// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// mpi/checkpoint.cpp: the save and commit protocol of DistributedCheckpointer. See
// docs/format/mpi-checkpoint.md §4 "Commit".

#include "brine/checkpoint.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <exception>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>
#include <thread>

#include "brine/mpi/checkpoint.hpp"
#include "brine/safetensors.hpp"
#include "io/durable.hpp"
#include "mpi/manifest.hpp"
#include "mpi/rank_file.hpp"

namespace brine::mpi {

namespace fs = std::filesystem;
namespace mf = manifest;
using nlohmann::json;

namespace {

[[noreturn]] void io_fail(const std::string& what, const fs::path& path, int err) {
  ErrorContext where;
  where.source = path.string();
  detail::throw_io_error(what, std::error_code(err, std::generic_category()), where);
}

[[noreturn]] void schema_fail(errc code, const std::string& what, const fs::path& dir) {
  ErrorContext where;
  where.source = dir.string();
  detail::throw_error(code, what, where);
}

// ---- collectives: called from the thread that called the checkpointer, never another ----

void broadcast_string(MPI_Comm comm, std::string& text) {
  unsigned long long n = text.size();
  MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, 0, comm);
  text.resize(static_cast<std::size_t>(n));
  // Messages and manifests are far below INT_MAX bytes; a count that is not would be a bug.
  BRINE_ASSERT(n <= INT_MAX, "broadcast text over INT_MAX bytes");
  if (n != 0) MPI_Bcast(text.data(), static_cast<int>(n), MPI_CHAR, 0, comm);
}

std::vector<std::string> gather_strings(MPI_Comm comm, const std::string& mine, int rank,
                                        int size) {
  BRINE_ASSERT(mine.size() <= INT_MAX / 64, "rank descriptor too large");
  int n = static_cast<int>(mine.size());
  std::vector<int> counts(rank == 0 ? static_cast<std::size_t>(size) : 1);
  MPI_Gather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, comm);
  std::vector<int> displacements(counts.size(), 0);
  std::string all;
  if (rank == 0) {
    long long total = 0;
    for (std::size_t r = 0; r < counts.size(); ++r) {
      displacements[r] = static_cast<int>(total);
      total += counts[r];
    }
    BRINE_ASSERT(total <= INT_MAX, "rank descriptors too large");
    all.resize(static_cast<std::size_t>(total));
  }
  MPI_Gatherv(mine.data(), n, MPI_CHAR, all.data(), counts.data(), displacements.data(), MPI_CHAR,
              0, comm);
  std::vector<std::string> parts;
  if (rank == 0)
    for (std::size_t r = 0; r < counts.size(); ++r)
      parts.push_back(all.substr(static_cast<std::size_t>(displacements[r]),
                                 static_cast<std::size_t>(counts[r])));
  return parts;
}

/// The outcome of a collective step as rank 0 decides it: code 0 is success, otherwise a
/// brine::errc and a message naming the failing rank.
struct Status {
  int code = 0;
  std::string message;
};

Status broadcast_status(MPI_Comm comm, Status status) {
  MPI_Bcast(&status.code, 1, MPI_INT, 0, comm);
  broadcast_string(comm, status.message);
  return status;
}

// Every exception is turned into a status here, brine's or not, because a rank that left a
// collective step early would leave the others waiting forever; the exception itself is
// kept and rethrown on its rank, so nothing is swallowed.
Status status_of(const std::exception_ptr& error, int rank, const std::string& doing) {
  std::string prefix = "rank " + std::to_string(rank) + " failed " + doing + ": ";
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    return {static_cast<int>(e.code()), prefix + e.what()};
  } catch (const std::exception& e) {
    return {static_cast<int>(errc::internal_error), prefix + e.what()};
  } catch (...) {
    return {static_cast<int>(errc::internal_error),
            prefix + "an exception that is not a std::exception"};
  }
}

/// Throws on every rank after a failed collective step: the rank that failed rethrows its own
/// exception, the others an Error of its code whose message names it.
[[noreturn]] void raise(const Status& status, const std::exception_ptr& own, const fs::path& dir) {
  if (own) std::rethrow_exception(own);
  schema_fail(static_cast<errc>(status.code), status.message, dir);
}

/// Complete checkpoints, oldest first: step folders that hold a manifest (§1).
std::vector<std::int64_t> list_steps(const fs::path& dir) {
  std::vector<std::int64_t> steps;
  for (std::uint64_t step : list_complete_checkpoints(dir))
    if (step <= static_cast<std::uint64_t>(INT64_MAX))
      steps.push_back(static_cast<std::int64_t>(step));
  return steps;
}

void check_shard(const Shard& shard, int rank) {
  auto fail = [rank](errc code, const std::string& what) {
    detail::throw_error(code, what + " (rank " + std::to_string(rank) + ")");
  };
  std::set<std::string_view> names;
  for (const Shard::NamedTensor& t : shard.tensors()) {
    const std::string where = "distributed tensor '" + t.name + "'";
    if (t.name.empty()) fail(errc::unsupported_content, "a distributed tensor has an empty name");
    if (!names.insert(t.name).second) fail(errc::duplicate_registration, where + " added twice");
    const std::vector<std::int64_t>& global = t.tensor.global_shape;
    const std::vector<std::int64_t>& local = t.tensor.local.shape();
    if (global.empty())
      fail(errc::type_mismatch, where + " has no first dimension to distribute (global shape [])");
    Tensor::checked_size(t.tensor.local.dtype(), global, t.name);
    bool same_rest = local.size() == global.size() &&
                     std::equal(local.begin() + 1, local.end(), global.begin() + 1);
    if (!same_rest)
      fail(errc::type_mismatch,
           where + ": the local slice's shape differs from the global shape beyond dimension 0");
    RowRange rows = t.tensor.rows();
    if (rows.begin < 0 || rows.end > global[0])
      fail(errc::type_mismatch, where + ": rows " + std::to_string(rows.begin) + ".." +
                                    std::to_string(rows.end) + " are outside its " +
                                    std::to_string(global[0]) + " rows");
  }
  std::set<std::pair<bool, std::string_view>> objects;
  for (const Shard::Object& o : shard.objects()) {
    if (o.name.empty()) fail(errc::unsupported_content, "a value has an empty name");
    if (!objects.insert({o.replicated, o.name}).second)
      fail(errc::duplicate_registration, std::string(o.replicated ? "replicated" : "per-rank") +
                                             " value '" + o.name + "' added twice");
  }
}

/// What rank `rank` writes: its non-empty slices and its values, as safetensors entries
/// (§3). The entries view the shard's bytes, which must outlive the dict.
StateDict rank_entries(const Shard& shard, int rank) {
  StateDict dict;
  for (const Shard::NamedTensor& t : shard.tensors())
    if (t.tensor.rows().size() > 0) dict.insert(mf::tensor_key(t.name), t.tensor.local);
  for (const Shard::Object& o : shard.objects()) {
    if (o.replicated && rank != 0) continue;
    const auto* bytes = reinterpret_cast<const std::byte*>(o.bytes.data());
    dict.insert(o.replicated ? mf::replicated_key(o.name) : mf::local_key(o.name),
                Tensor::view(DType::uint8, {static_cast<std::int64_t>(o.bytes.size())}, nullptr,
                             bytes, o.bytes.size()));
  }
  return dict;
}

/// This rank's part of the manifest, sent to rank 0 (the file entry is added once written).
json describe(const Shard& shard, std::int64_t step) {
  json tensors = json::array();
  for (const Shard::NamedTensor& t : shard.tensors()) {
    RowRange rows = t.tensor.rows();
    tensors.push_back({{"name", t.name},
                       {"dtype", dtype_name(t.tensor.local.dtype())},
                       {"shape", t.tensor.global_shape},
                       {"begin", rows.begin},
                       {"end", rows.end}});
  }
  json replicated = json::array();
  json local = json::array();
  for (const Shard::Object& o : shard.objects())
    (o.replicated ? replicated : local).push_back(o.name);
  return {{"ok", true},
          {"step", step},
          {"tensors", tensors},
          {"replicated", replicated},
          {"local", local}};
}

std::vector<std::string> sorted_names(const json& names) {
  std::vector<std::string> out = names.get<std::vector<std::string>>();
  std::sort(out.begin(), out.end());
  return out;
}

/// Rank 0: the manifest from every rank's description, or SchemaError naming what the ranks
/// disagree on.
mf::Manifest assemble(const std::vector<json>& ranks, std::int64_t step) {
  mf::Manifest m;
  m.step = step;
  m.world_size = static_cast<int>(ranks.size());
  auto fail = [](const std::string& what) { detail::throw_error(errc::type_mismatch, what); };
  const json& first = ranks[0];
  m.replicated = sorted_names(first["replicated"]);
  m.local = sorted_names(first["local"]);
  for (const json& t : first["tensors"]) {
    mf::TensorEntry e;
    e.dtype = *dtype_from_name(t["dtype"].get<std::string>());
    e.shape = t["shape"].get<std::vector<std::int64_t>>();
    m.tensors.emplace(t["name"].get<std::string>(), std::move(e));
  }
  for (std::size_t r = 0; r < ranks.size(); ++r) {
    const json& d = ranks[r];
    std::string who = "rank " + std::to_string(r);
    if (d["step"].get<std::int64_t>() != step)
      fail(who + " saved step " + std::to_string(d["step"].get<std::int64_t>()) + ", rank 0 step " +
           std::to_string(step));
    if (sorted_names(d["local"]) != m.local) fail(who + " added other per-rank values than rank 0");
    if (d["tensors"].size() != m.tensors.size())
      fail(who + " added " + std::to_string(d["tensors"].size()) + " distributed tensors, rank 0 " +
           std::to_string(m.tensors.size()));
    for (const json& t : d["tensors"]) {
      std::string name = t["name"].get<std::string>();
      auto it = m.tensors.find(name);
      if (it == m.tensors.end()) fail(who + " added distributed tensor '" + name + "', rank 0 not");
      if (t["dtype"].get<std::string>() != dtype_name(it->second.dtype) ||
          t["shape"].get<std::vector<std::int64_t>>() != it->second.shape)
        fail("distributed tensor '" + name + "' has another dtype or global shape on " + who +
             " than on rank 0");
      RowRange rows{t["begin"].get<std::int64_t>(), t["end"].get<std::int64_t>()};
      if (rows.size() > 0) it->second.slices.push_back({static_cast<int>(r), rows});
    }
    const json& file = d["file"];
    m.files.push_back({mf::rank_file_name(static_cast<int>(r)), file["size"].get<std::uint64_t>(),
                       file["xxh3"].get<std::uint64_t>()});
  }
  for (auto& [name, e] : m.tensors) {
    std::sort(e.slices.begin(), e.slices.end(),
              [](const mf::Slice& a, const mf::Slice& b) { return a.rows.begin < b.rows.begin; });
    std::string problem = mf::coverage_problem(e);
    if (!problem.empty()) fail("distributed tensor '" + name + "' " + problem);
  }
  return m;
}

}  // namespace

// ---- DistributedCheckpointer ---------------------------------------------------------------

struct DistributedCheckpointer::LocalResult {
  std::exception_ptr error;  // this rank's failure, rethrown here after the collective step
  json description;
  mf::FileEntry file;
};

struct DistributedCheckpointer::Pending {
  std::int64_t step = 0;
  Buffer bytes;  // the rank file, serialized when save_async() was called
  LocalResult result;
  std::thread writer;
};

DistributedCheckpointer::DistributedCheckpointer(MPI_Comm comm, fs::path directory,
                                                 CheckpointerOptions options)
    : directory_(std::move(directory)), options_(std::move(options)) {
  // A communicator of our own, so that the checkpointer's messages never match the caller's.
  MPI_Comm_dup(comm, &comm_);
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &world_size_);
  Status status;
  std::exception_ptr own;
  if (rank_ == 0) {
    try {
      std::error_code ec;
      fs::create_directories(directory_, ec);
      if (ec) io_fail("cannot create the checkpoint directory", directory_, ec.value());
      lock_ = std::make_unique<CheckpointDirectoryLock>(directory_);
      // Holding the lock, no save of ours runs: a step folder without a manifest is what a
      // killed job left.
      remove_incomplete_checkpoints(directory_);
    } catch (...) {
      own = std::current_exception();
      status = status_of(own, 0, "to open the checkpoint directory");
    }
  }
  status = broadcast_status(comm_, status);
  if (status.code != 0) {
    lock_.reset();
    MPI_Comm_free(&comm_);
    raise(status, own, directory_);
  }
}

DistributedCheckpointer::~DistributedCheckpointer() {
  if (pending_ && pending_->writer.joinable()) pending_->writer.join();
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

fs::path DistributedCheckpointer::begin_step(std::int64_t step) {
  fs::path folder = directory_ / mf::step_folder_name(step);
  Status status;
  std::exception_ptr own;
  if (rank_ == 0) {
    try {
      if (step < 0)
        schema_fail(errc::unsupported_content,
                    "checkpoint step " + std::to_string(step) + " is negative", directory_);
      std::vector<std::int64_t> steps = list_steps(directory_);
      if (!steps.empty() && steps.back() >= step)
        schema_fail(errc::unsupported_content,
                    "checkpoint step " + std::to_string(step) +
                        " is not after the newest checkpoint, step " + std::to_string(steps.back()),
                    directory_);
      // A folder of this step without a manifest is an earlier attempt that failed.
      std::error_code ec;
      fs::remove_all(folder, ec);
      if (ec) io_fail("cannot remove an interrupted checkpoint", folder, ec.value());
      fs::create_directory(folder, ec);
      if (ec) io_fail("cannot create the checkpoint folder", folder, ec.value());
    } catch (...) {
      own = std::current_exception();
      status = status_of(own, 0, "to begin checkpoint step " + std::to_string(step));
    }
  }
  status = broadcast_status(comm_, status);
  if (status.code != 0) raise(status, own, directory_);
  return folder;
}

void DistributedCheckpointer::commit(std::int64_t step, const LocalResult& result) {
  fs::path folder = directory_ / mf::step_folder_name(step);
  std::exception_ptr own = result.error;
  json mine = result.description;
  if (!own) mine["file"] = {{"size", result.file.size}, {"xxh3", result.file.xxh3}};
  std::string text;
  try {
    if (!own) text = mine.dump();
  } catch (const json::exception&) {
    // Names that are not UTF-8 cannot go into the manifest; this rank must still take part
    // in the gather below, or the others would wait for it forever.
    try {
      detail::throw_error(
          errc::unsupported_content,
          "a tensor or value name is not valid UTF-8 (rank " + std::to_string(rank_) + ")");
    } catch (const Error&) {
      own = std::current_exception();
    }
  }
  if (own) {
    Status s = status_of(own, rank_, "to save checkpoint step " + std::to_string(step));
    text = json{{"ok", false}, {"code", s.code}, {"message", s.message}}.dump(
        -1, ' ', false, json::error_handler_t::replace);
  }
  std::vector<std::string> parts = gather_strings(comm_, text, rank_, world_size_);

  Status status;
  if (rank_ == 0) {
    try {
      std::vector<json> ranks;
      for (const std::string& part : parts) ranks.push_back(json::parse(part));
      for (const json& r : ranks)
        if (!r["ok"].get<bool>()) {
          status = {r["code"].get<int>(), r["message"].get<std::string>()};
          break;
        }
      if (status.code == 0) {
        mf::Manifest manifest = assemble(ranks, step);
        // The commit point (§4). Every rank fsynced its file before reporting, and rank 0
        // the directory (the folder's own name); the manifest's atomic write fsyncs the
        // folder, which makes the rank files' names durable with the manifest's.
        write_file_atomically(folder / mf::kManifestName, mf::to_json(manifest));
      }
    } catch (...) {
      if (!own) own = std::current_exception();
      status = status_of(std::current_exception(), 0,
                         "to commit checkpoint step " + std::to_string(step));
    }
    if (status.code != 0) {
      std::error_code ec;
      fs::remove_all(folder, ec);
    } else {
      // Retention after the commit: the new checkpoint is durable before any old one goes. A
      // folder that cannot be removed now is tried again after the next save.
      std::vector<std::int64_t> steps;
      try {
        steps = list_steps(directory_);
      } catch (const IoError&) {
      }
      RetentionPolicy retention;
      retention.keep_last = options_.keep_last;
      if (options_.keep_every > 0)
        retention.keep_every = static_cast<std::uint64_t>(options_.keep_every);
      std::vector<std::uint64_t> all(steps.begin(), steps.end());
      for (std::uint64_t old : retention.to_remove(all)) {
        try {
          remove_checkpoint(directory_, old);
        } catch (const IoError&) {
        }
      }
    }
  }
  status = broadcast_status(comm_, status);
  if (status.code != 0) raise(status, own, directory_);
}

void DistributedCheckpointer::save(std::int64_t step, const Shard& shard) {
  wait();
  fs::path folder = begin_step(step);
  LocalResult result;
  // Rank 0 makes the new folder's name durable while it writes its file, off the path every
  // rank waits on: a directory fsync is a file system journal commit.
  std::exception_ptr folder_sync_error;
  std::thread folder_sync;
  try {
    if (rank_ == 0)
      folder_sync = std::thread([this, &folder_sync_error] {
        try {
          io_internal::fsync_directory(directory_);
        } catch (...) {
          folder_sync_error = std::current_exception();
        }
      });
    check_shard(shard, rank_);
    StateDict entries = rank_entries(shard, rank_);
    RankFileWriter file(folder / mf::rank_file_name(rank_));
    write_safetensors(file, entries);
    result.file = file.finish();
    result.description = describe(shard, step);
  } catch (...) {
    result.error = std::current_exception();
  }
  if (folder_sync.joinable()) folder_sync.join();
  if (!result.error) result.error = folder_sync_error;
  commit(step, result);
}

void DistributedCheckpointer::save_async(std::int64_t step, const Shard& shard) {
  wait();
  fs::path folder = begin_step(step);
  auto pending = std::make_shared<Pending>();
  pending->step = step;
  try {
    check_shard(shard, rank_);
    StateDict entries = rank_entries(shard, rank_);
    BufferSink sink(pending->bytes);
    write_safetensors(sink, entries);
    pending->result.description = describe(shard, step);
    fs::path path = folder / mf::rank_file_name(rank_);
    Pending* p = pending.get();
    const fs::path directory = rank_ == 0 ? directory_ : fs::path();
    pending->writer = std::thread([p, path, directory] {
      try {
        if (!directory.empty())
          io_internal::fsync_directory(directory);  // the folder's name, as in save()
        RankFileWriter file(path);
        file.write(p->bytes.data(), p->bytes.size());
        p->result.file = file.finish();
      } catch (...) {
        p->result.error = std::current_exception();
      }
      // The copy is on disk: free it now rather than at the commit.
      p->bytes = Buffer();
    });
  } catch (...) {
    pending->result.error = std::current_exception();
  }
  pending_ = std::move(pending);
}

void DistributedCheckpointer::wait() {
  if (!pending_) return;
  std::shared_ptr<Pending> pending = std::move(pending_);
  pending_.reset();
  if (pending->writer.joinable()) pending->writer.join();
  commit(pending->step, pending->result);
}

std::vector<std::int64_t> DistributedCheckpointer::steps() {
  std::vector<std::int64_t> steps;
  Status status;
  std::exception_ptr own;
  if (rank_ == 0) {
    try {
      steps = list_steps(directory_);
    } catch (...) {
      own = std::current_exception();
      status = status_of(own, 0, "to list the checkpoints");
    }
  }
  status = broadcast_status(comm_, status);
  if (status.code != 0) raise(status, own, directory_);
  unsigned long long n = steps.size();
  MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, 0, comm_);
  steps.resize(static_cast<std::size_t>(n));
  if (n != 0) MPI_Bcast(steps.data(), static_cast<int>(n), MPI_INT64_T, 0, comm_);
  return steps;
}

std::optional<std::int64_t> DistributedCheckpointer::latest_step() {
  std::vector<std::int64_t> all = steps();
  if (all.empty()) return std::nullopt;
  return all.back();
}

std::optional<Restored> DistributedCheckpointer::restore_latest() {
  wait();
  std::vector<std::int64_t> all = steps();
  // Rank 0 tries the newest first and falls back past a checkpoint whose manifest or file
  // sizes are damaged; every rank then opens the one it chose.
  std::int64_t chosen = -1;
  Status status;
  std::exception_ptr own;
  if (rank_ == 0) {
    try {
      for (auto it = all.rbegin(); it != all.rend() && chosen < 0; ++it) {
        try {
          restored_detail::open(directory_, *it, rank_, world_size_, options_, true);
          chosen = *it;
        } catch (const FormatError&) {
        } catch (const VersionError&) {
        } catch (const IoError&) {
        }
      }
    } catch (...) {
      own = std::current_exception();
      status = status_of(own, 0, "to choose the checkpoint to restore");
    }
  }
  status = broadcast_status(comm_, status);
  if (status.code != 0) raise(status, own, directory_);
  MPI_Bcast(&chosen, 1, MPI_INT64_T, 0, comm_);
  if (chosen < 0) return std::nullopt;
  return restored_detail::open(directory_, chosen, rank_, world_size_, options_, false);
}

Restored DistributedCheckpointer::restore(std::int64_t step) {
  wait();
  return restored_detail::open(directory_, step, rank_, world_size_, options_, false);
}

}  // namespace brine::mpi
