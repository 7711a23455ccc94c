// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// mpi/restored.cpp: reading a committed distributed checkpoint on any number of ranks. See
// docs/format/mpi-checkpoint.md §7 "Restoring".

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <system_error>

#include "brine/mpi/checkpoint.hpp"
#include "brine/safetensors.hpp"
#include "mpi/manifest.hpp"
#include "mpi/rank_file.hpp"

namespace brine::mpi {

namespace fs = std::filesystem;
namespace mf = manifest;

namespace {

[[noreturn]] void fail(errc code, const std::string& what, const fs::path& source) {
  ErrorContext where;
  where.source = source.string();
  detail::throw_error(code, what, where);
}

}  // namespace

RowRange even_rows(std::int64_t rows, int rank, int world_size) {
  BRINE_ASSERT(world_size > 0 && rank >= 0 && rank < world_size, "rank outside the world");
  BRINE_ASSERT(rows >= 0, "negative row count");
  std::int64_t base = rows / world_size;
  std::int64_t extra = rows % world_size;
  std::int64_t begin = rank * base + std::min<std::int64_t>(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

struct Restored::Impl {
  fs::path folder;
  mf::Manifest manifest;
  int rank = 0;
  int world_size = 1;
  CheckpointerOptions options;
  // Rank files are opened (mapped and checked) on first use and kept for the life of the
  // Restored: a rank reads only the files that hold rows it asks for.
  mutable std::mutex mutex;
  mutable std::vector<std::shared_ptr<const StateDict>> files;

  const StateDict& file(int saved_rank) const;
  const Tensor& entry(int saved_rank, const std::string& key, const std::string& what) const;
};

const StateDict& Restored::Impl::file(int saved_rank) const {
  std::lock_guard<std::mutex> lock(mutex);
  std::shared_ptr<const StateDict>& slot = files[static_cast<std::size_t>(saved_rank)];
  if (slot) return *slot;
  const mf::FileEntry& entry = manifest.files[static_cast<std::size_t>(saved_rank)];
  fs::path path = folder / entry.name;
  std::shared_ptr<const MappedFile> mapped = MappedFile::open(path);
  if (mapped->size() != entry.size)
    fail(mapped->size() < entry.size ? errc::truncated_input : errc::corrupt_data,
         "rank file has " + std::to_string(mapped->size()) + " bytes, the manifest records " +
             std::to_string(entry.size),
         path);
  if (options.verify_checksums && mf::xxh3(mapped->data(), mapped->size()) != entry.xxh3)
    fail(errc::checksum_mismatch,
         "rank file's XXH3-64 is " + mf::hex64(mf::xxh3(mapped->data(), mapped->size())) +
             ", the manifest records " + mf::hex64(entry.xxh3),
         path);
  std::string_view bytes = mapped->view();
  slot = std::make_shared<const StateDict>(
      load_safetensors(std::shared_ptr<const void>(mapped), bytes, {}, path.string()));
  return *slot;
}

const Tensor& Restored::Impl::entry(int saved_rank, const std::string& key,
                                    const std::string& what) const {
  const Tensor* t = file(saved_rank).find(key);
  if (t == nullptr)
    fail(errc::corrupt_data, "rank file has no entry '" + key + "' for " + what,
         folder / manifest.files[static_cast<std::size_t>(saved_rank)].name);
  return *t;
}

std::int64_t Restored::step() const noexcept { return impl_->manifest.step; }
int Restored::saved_world_size() const noexcept { return impl_->manifest.world_size; }
int Restored::rank() const noexcept { return impl_->rank; }
int Restored::world_size() const noexcept { return impl_->world_size; }
const LoadOptions& Restored::load_options() const noexcept { return impl_->options.load; }

std::vector<std::string> Restored::tensor_names() const {
  std::vector<std::string> names;
  for (const auto& entry : impl_->manifest.tensors) names.push_back(entry.first);
  return names;
}
bool Restored::has_tensor(std::string_view name) const {
  return impl_->manifest.tensors.find(name) != impl_->manifest.tensors.end();
}
std::vector<std::string> Restored::replicated_names() const { return impl_->manifest.replicated; }
std::vector<std::string> Restored::local_names() const { return impl_->manifest.local; }

namespace {
const mf::TensorEntry& tensor_entry(const mf::Manifest& m, std::string_view name,
                                    const fs::path& folder) {
  auto it = m.tensors.find(name);
  if (it == m.tensors.end())
    fail(errc::missing_field, "no distributed tensor '" + std::string(name) + "' in the checkpoint",
         folder);
  return it->second;
}
}  // namespace

DType Restored::dtype(std::string_view name) const {
  return tensor_entry(impl_->manifest, name, impl_->folder).dtype;
}
std::vector<std::int64_t> Restored::global_shape(std::string_view name) const {
  return tensor_entry(impl_->manifest, name, impl_->folder).shape;
}

ShardedTensor Restored::tensor(std::string_view name) const {
  const mf::TensorEntry& t = tensor_entry(impl_->manifest, name, impl_->folder);
  return tensor(name, even_rows(t.shape[0], impl_->rank, impl_->world_size));
}

ShardedTensor Restored::tensor(std::string_view name, RowRange rows) const {
  const mf::TensorEntry& t = tensor_entry(impl_->manifest, name, impl_->folder);
  const std::string what = "tensor '" + std::string(name) + "'";
  if (rows.begin < 0 || rows.end < rows.begin || rows.end > t.shape[0])
    fail(errc::missing_field,
         "rows " + std::to_string(rows.begin) + ".." + std::to_string(rows.end) + " of " + what +
             " are not within its " + std::to_string(t.shape[0]) + " rows",
         impl_->folder);
  std::vector<std::int64_t> shape = t.shape;
  shape[0] = rows.size();
  std::vector<std::int64_t> one_row = t.shape;
  one_row[0] = 1;
  const std::size_t row_bytes = Tensor::checked_size(t.dtype, one_row, std::string(name)).second;
  const std::string key = mf::tensor_key(name);

  // A slice whose rank file entry is unlike the manifest's is damage, caught before any
  // byte is copied out of it.
  auto slice_tensor = [&](const mf::Slice& s) -> const Tensor& {
    const Tensor& saved = impl_->entry(s.rank, key, what);
    std::vector<std::int64_t> expected = t.shape;
    expected[0] = s.rows.size();
    if (saved.dtype() != t.dtype || saved.shape() != expected)
      fail(errc::corrupt_data,
           "rank file's slice of " + what + " has another dtype or shape than the manifest's",
           impl_->folder / impl_->manifest.files[static_cast<std::size_t>(s.rank)].name);
    return saved;
  };

  ShardedTensor out;
  out.global_shape = t.shape;
  out.row_offset = rows.begin;
  for (const mf::Slice& s : t.slices)
    if (s.rows == rows) {
      out.local = slice_tensor(s);  // a view of the mapping, no copy
      return out;
    }
  Tensor local(t.dtype, shape);
  if (rows.size() > 0) {
    std::byte* dest = local.mutable_bytes();
    for (const mf::Slice& s : t.slices) {
      std::int64_t begin = std::max(s.rows.begin, rows.begin);
      std::int64_t end = std::min(s.rows.end, rows.end);
      if (begin >= end) continue;
      const Tensor& saved = slice_tensor(s);
      std::memcpy(dest + static_cast<std::size_t>(begin - rows.begin) * row_bytes,
                  saved.bytes() + static_cast<std::size_t>(begin - s.rows.begin) * row_bytes,
                  static_cast<std::size_t>(end - begin) * row_bytes);
    }
  }
  out.local = std::move(local);
  return out;
}

std::string_view Restored::object_bytes(std::string_view name, bool replicated,
                                        int saved_rank) const {
  const mf::Manifest& m = impl_->manifest;
  const std::vector<std::string>& names = replicated ? m.replicated : m.local;
  const std::string kind = replicated ? "replicated value" : "per-rank value";
  if (!std::binary_search(names.begin(), names.end(), name))
    fail(errc::missing_field, "no " + kind + " '" + std::string(name) + "' in the checkpoint",
         impl_->folder);
  if (saved_rank < 0 || saved_rank >= m.world_size)
    fail(errc::missing_field,
         "no rank " + std::to_string(saved_rank) + " in the checkpoint, saved by " +
             std::to_string(m.world_size) + " ranks",
         impl_->folder);
  std::string key = replicated ? mf::replicated_key(name) : mf::local_key(name);
  const Tensor& t = impl_->entry(saved_rank, key, kind + " '" + std::string(name) + "'");
  if (t.dtype() != DType::uint8 || t.rank() != 1)
    fail(errc::corrupt_data, "rank file's entry '" + key + "' is not a byte array",
         impl_->folder / m.files[static_cast<std::size_t>(saved_rank)].name);
  return {reinterpret_cast<const char*>(t.bytes()), t.nbytes()};
}

int Restored::own_saved_rank(std::string_view name) const {
  if (impl_->world_size != impl_->manifest.world_size)
    fail(errc::type_mismatch,
         "per-rank value '" + std::string(name) + "' was saved by " +
             std::to_string(impl_->manifest.world_size) + " ranks and cannot be restored on " +
             std::to_string(impl_->world_size) + ": read a saved rank's value with local_of()",
         impl_->folder);
  return impl_->rank;
}

Restored restored_detail::open(const fs::path& directory, std::int64_t step, int rank,
                               int world_size, const CheckpointerOptions& options,
                               bool check_files) {
  auto impl = std::make_shared<Restored::Impl>();
  impl->folder = directory / mf::step_folder_name(step);
  impl->rank = rank;
  impl->world_size = world_size;
  impl->options = options;
  fs::path manifest_path = impl->folder / mf::kManifestName;
  std::error_code ec;
  std::uintmax_t manifest_bytes = fs::file_size(manifest_path, ec);
  if (!ec && manifest_bytes > mf::kMaxManifestBytes)
    fail(errc::limit_exceeded,
         "checkpoint manifest of " + std::to_string(manifest_bytes) + " bytes is over the " +
             std::to_string(mf::kMaxManifestBytes) + " bytes a reader accepts",
         manifest_path);
  impl->manifest = mf::parse(read_file(manifest_path), manifest_path.string());
  if (impl->manifest.step != step)
    fail(errc::corrupt_data,
         "invalid checkpoint manifest: 'step' is " + std::to_string(impl->manifest.step) +
             " in the folder of step " + std::to_string(step),
         manifest_path);
  impl->files.resize(impl->manifest.files.size());
  if (check_files)
    for (const mf::FileEntry& f : impl->manifest.files) {
      fs::path path = impl->folder / f.name;
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0) {
        ErrorContext where;
        where.source = path.string();
        detail::throw_io_error("cannot stat the rank file",
                               std::error_code(errno, std::generic_category()), where);
      }
      if (static_cast<std::uint64_t>(st.st_size) != f.size)
        fail(errc::truncated_input,
             "rank file has " + std::to_string(st.st_size) + " bytes, the manifest records " +
                 std::to_string(f.size),
             path);
    }
  return Restored(std::move(impl));
}

}  // namespace brine::mpi
