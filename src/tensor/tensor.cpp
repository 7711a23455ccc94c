// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// tensor/tensor.cpp: dtypes, the Tensor's storage, and read-only file mappings.

#include "brine/tensor.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <limits>
#include <new>
#include <system_error>

namespace brine {
namespace {

struct DTypeInfo {
  std::size_t size;
  const char* name;
  const char* safetensors;
};

// In DType order.
constexpr DTypeInfo kDTypes[kDTypeCount] = {
    {1, "bool", "BOOL"},           {1, "int8", "I8"},
    {2, "int16", "I16"},           {4, "int32", "I32"},
    {8, "int64", "I64"},           {1, "uint8", "U8"},
    {2, "uint16", "U16"},          {4, "uint32", "U32"},
    {8, "uint64", "U64"},          {2, "float16", "F16"},
    {2, "bfloat16", "BF16"},       {4, "float32", "F32"},
    {8, "float64", "F64"},         {8, "complex64", "C64"},
    {16, "complex128", "C128"},    {1, "float8_e4m3fn", "F8_E4M3"},
    {1, "float8_e5m2", "F8_E5M2"},
};

const DTypeInfo& info(DType d) noexcept { return kDTypes[static_cast<std::size_t>(d)]; }

[[noreturn]] void io_fail(const std::string& what, const std::string& path, int err) {
  ErrorContext where;
  where.source = path;
  detail::throw_io_error(what, std::error_code(err, std::generic_category()), where);
}

}  // namespace

std::size_t dtype_size(DType dtype) noexcept { return info(dtype).size; }
const char* dtype_name(DType dtype) noexcept { return info(dtype).name; }
const char* safetensors_dtype_name(DType dtype) noexcept { return info(dtype).safetensors; }

std::optional<DType> dtype_from_name(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kDTypeCount; ++i)
    if (name == kDTypes[i].name) return static_cast<DType>(i);
  return std::nullopt;
}

std::optional<DType> dtype_from_safetensors_name(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kDTypeCount; ++i)
    if (name == kDTypes[i].safetensors) return static_cast<DType>(i);
  return std::nullopt;
}

// ---- MappedFile ------------------------------------------------------------------------

std::shared_ptr<const MappedFile> MappedFile::open(const std::filesystem::path& path) {
  std::shared_ptr<MappedFile> file(new MappedFile());
  file->path_ = path.string();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) io_fail("cannot open file", file->path_, errno);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) io_fail("cannot stat file", file->path_, errno);
  if (S_ISDIR(st.st_mode)) io_fail("cannot map a directory", file->path_, EISDIR);
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    auto size = static_cast<std::size_t>(st.st_size);
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p != MAP_FAILED) {
      file->data_ = static_cast<const std::byte*>(p);
      file->size_ = size;
      file->mapped_ = true;
      return file;
    }
  }
  // Not mappable: read it, growing geometrically, since the size of a pipe is unknown.
  std::size_t capacity = 65536, size = 0;
  std::unique_ptr<std::byte[]> bytes(new std::byte[capacity]);
  for (;;) {
    if (size == capacity) {
      std::unique_ptr<std::byte[]> bigger(new std::byte[capacity * 2]);
      std::memcpy(bigger.get(), bytes.get(), size);
      bytes = std::move(bigger);
      capacity *= 2;
    }
    ssize_t r = ::read(fd, bytes.get() + size, capacity - size);
    if (r == 0) break;
    if (r < 0) {
      if (errno == EINTR) continue;
      io_fail("cannot read file", file->path_, errno);
    }
    size += static_cast<std::size_t>(r);
  }
  file->read_ = std::move(bytes);
  file->data_ = file->read_.get();
  file->size_ = size;
  return file;
}

MappedFile::~MappedFile() {
  if (mapped_) ::munmap(const_cast<std::byte*>(data_), size_);
}

// ---- Tensor ----------------------------------------------------------------------------

// Owned memory: one 64-byte aligned allocation, so that any element type, and SIMD loads
// of it, are aligned.
struct Tensor::Storage {
  std::byte* bytes = nullptr;
  std::size_t size = 0;
  explicit Storage(std::size_t n) : size(n) {
    // aligned_alloc wants a multiple of the alignment, and something non-null for 0 bytes.
    std::size_t rounded = (n + 63) / 64 * 64;
    if (rounded == 0) rounded = 64;
    bytes = static_cast<std::byte*>(std::aligned_alloc(64, rounded));
    if (bytes == nullptr) throw std::bad_alloc();
  }
  ~Storage() { std::free(bytes); }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

std::pair<std::uint64_t, std::size_t> Tensor::checked_size(DType dtype,
                                                           const std::vector<std::int64_t>& shape,
                                                           const std::string& what) {
  ErrorContext where;
  where.field_path = what;
  std::uint64_t count = 1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    std::int64_t d = shape[i];
    if (d < 0)
      detail::throw_error(
          errc::corrupt_data,
          "tensor dimension " + std::to_string(i) + " is negative (" + std::to_string(d) + ")",
          where);
    auto u = static_cast<std::uint64_t>(d);
    if (u != 0 && count > std::numeric_limits<std::uint64_t>::max() / u)
      detail::throw_error(
          errc::limit_exceeded,
          "tensor element count overflows 64 bits at dimension " + std::to_string(i), where);
    count *= u;
  }
  std::size_t size = dtype_size(dtype);
  if (count > std::numeric_limits<std::size_t>::max() / size)
    detail::throw_error(errc::limit_exceeded,
                        "tensor of " + std::to_string(count) + " " + dtype_name(dtype) +
                            " elements is larger than the address space",
                        where);
  return {count, static_cast<std::size_t>(count * size)};
}

Tensor::Tensor() = default;

Tensor::Tensor(DType dtype, std::vector<std::int64_t> shape)
    : dtype_(dtype), shape_(std::move(shape)) {
  auto [count, nbytes] = checked_size(dtype_, shape_);
  auto storage = std::make_shared<Storage>(nbytes);
  std::memset(storage->bytes, 0, nbytes);
  numel_ = count;
  nbytes_ = storage_nbytes_ = nbytes;
  data_ = storage_base_ = storage->bytes;
  storage_ = std::move(storage);
  writable_ = true;
  kind_ = StorageKind::owned;
}

Tensor::Tensor(DType dtype, std::vector<std::int64_t> shape, std::shared_ptr<const void> storage,
               const std::byte* data, std::size_t nbytes, bool writable)
    : dtype_(dtype), shape_(std::move(shape)) {
  auto [count, expected] = checked_size(dtype_, shape_);
  if (expected != nbytes)
    detail::throw_error(errc::corrupt_data, "a " + std::string(dtype_name(dtype_)) + " tensor of " +
                                                std::to_string(count) + " elements needs " +
                                                std::to_string(expected) + " bytes, given " +
                                                std::to_string(nbytes));
  numel_ = count;
  nbytes_ = storage_nbytes_ = nbytes;
  storage_ = std::move(storage);
  data_ = storage_base_ = data;
  writable_ = writable;
}

Tensor Tensor::copy_of(DType dtype, std::vector<std::int64_t> shape, const void* bytes,
                       std::size_t nbytes) {
  // Allocated without the zero-fill of Tensor(dtype, shape): every byte is copied over. The
  // constructor checks that nbytes is what dtype and shape need before anything is copied.
  auto storage = std::make_shared<Storage>(nbytes);
  std::byte* data = storage->bytes;
  Tensor t(dtype, std::move(shape), std::move(storage), data, nbytes, true);
  t.kind_ = StorageKind::owned;
  if (nbytes != 0) std::memcpy(data, bytes, nbytes);
  return t;
}

Tensor Tensor::view(DType dtype, std::vector<std::int64_t> shape, std::shared_ptr<const void> owner,
                    const std::byte* bytes, std::size_t nbytes) {
  Tensor t(dtype, std::move(shape), std::move(owner), bytes, nbytes, false);
  t.kind_ = StorageKind::lent;
  return t;
}

Tensor Tensor::view(DType dtype, std::vector<std::int64_t> shape,
                    std::shared_ptr<const MappedFile> file, std::size_t offset) {
  BRINE_ASSERT(file != nullptr, "Tensor::view of a null MappedFile");
  auto [count, nbytes] = checked_size(dtype, shape);
  (void)count;
  if (offset > file->size() || nbytes > file->size() - offset) {
    ErrorContext where;
    where.source = file->path();
    where.byte_offset = offset;
    detail::throw_error(errc::corrupt_data,
                        "tensor of " + std::to_string(nbytes) + " bytes at byte " +
                            std::to_string(offset) + " reaches past the end of the file (" +
                            std::to_string(file->size()) + " bytes)",
                        where);
  }
  const std::byte* base = file->data();
  std::size_t file_size = file->size();
  Tensor t(dtype, std::move(shape), std::shared_ptr<const void>(file), base + offset, nbytes,
           false);
  t.kind_ = StorageKind::mapped;
  t.storage_base_ = base;
  t.storage_nbytes_ = file_size;
  return t;
}

Tensor Tensor::view_storage(DType dtype, std::vector<std::int64_t> shape,
                            std::size_t storage_offset) const {
  auto [count, nbytes] = checked_size(dtype, shape);
  (void)count;
  if (storage_offset > storage_nbytes_ || nbytes > storage_nbytes_ - storage_offset)
    detail::throw_error(errc::corrupt_data,
                        "a view of " + std::to_string(nbytes) + " bytes at byte " +
                            std::to_string(storage_offset) + " of a storage of " +
                            std::to_string(storage_nbytes_) + " bytes reaches past its end");
  Tensor t = *this;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.numel_ = count;
  t.nbytes_ = nbytes;
  t.data_ = storage_base_ + storage_offset;
  return t;
}

std::byte* Tensor::mutable_bytes() {
  if (!writable_)
    detail::throw_error(errc::internal_error,
                        "this tensor's storage is read-only (mapped or lent): call "
                        "make_writable() before writing to it");
  return const_cast<std::byte*>(data_);
}

bool Tensor::is_writable() const noexcept { return writable_; }

void Tensor::make_writable() {
  if (writable_) return;
  *this = clone();
}

Tensor Tensor::clone() const { return copy_of(dtype_, shape_, data_, nbytes_); }

std::size_t Tensor::storage_nbytes() const noexcept { return storage_nbytes_; }

bool Tensor::is_mapped() const noexcept { return kind_ == StorageKind::mapped; }

Tensor::StorageKind Tensor::storage_kind() const noexcept { return kind_; }

void Tensor::check_access(DType wanted, std::size_t alignment) const {
  if (wanted != dtype_)
    detail::throw_error(errc::type_mismatch, std::string("tensor holds ") + dtype_name(dtype_) +
                                                 ", read as " + dtype_name(wanted));
  if (reinterpret_cast<std::uintptr_t>(data_) % alignment != 0)
    detail::throw_error(errc::corrupt_data, std::string("tensor bytes are not aligned for ") +
                                                dtype_name(wanted) +
                                                " (call make_writable() for an aligned copy)");
}

bool operator==(const Tensor& a, const Tensor& b) noexcept {
  return a.dtype_ == b.dtype_ && a.shape_ == b.shape_ && a.nbytes_ == b.nbytes_ &&
         (a.nbytes_ == 0 || std::memcmp(a.data_, b.data_, a.nbytes_) == 0);
}

}  // namespace brine
