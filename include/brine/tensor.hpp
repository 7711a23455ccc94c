// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// tensor.hpp: Tensor, an n-dimensional array of one dtype whose bytes live in owned memory,
// in memory the caller lends with an owner, or in a read-only memory map.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "brine/detail/export.hpp"
#include "brine/error.hpp"

namespace brine {

/// Element types of a Tensor. The numbers are stable: they are written in brine archives.
/// float16, bfloat16 and the float8 types are storage types: brine moves their bytes and
/// never computes with them.
enum class DType : std::uint8_t {
  boolean = 0,  ///< one byte, 0 or 1
  int8 = 1,
  int16 = 2,
  int32 = 3,
  int64 = 4,
  uint8 = 5,
  uint16 = 6,
  uint32 = 7,
  uint64 = 8,
  float16 = 9,    ///< IEEE 754 binary16
  bfloat16 = 10,  ///< the upper half of a binary32
  float32 = 11,
  float64 = 12,
  complex64 = 13,      ///< two float32, real first
  complex128 = 14,     ///< two float64, real first
  float8_e4m3fn = 15,  ///< OCP FP8 E4M3 (finite, no infinities)
  float8_e5m2 = 16,    ///< OCP FP8 E5M2
};

/// Number of dtypes; DType values are 0 to kDTypeCount - 1.
inline constexpr std::size_t kDTypeCount = 17;

/// Bytes per element.
BRINE_API std::size_t dtype_size(DType dtype) noexcept;
/// brine's name of a dtype, as written in JSON and messages: "float32", "bfloat16", "bool".
BRINE_API const char* dtype_name(DType dtype) noexcept;
/// The dtype whose dtype_name is `name`, or nothing.
BRINE_API std::optional<DType> dtype_from_name(std::string_view name) noexcept;
/// The safetensors spelling: "BOOL", "U8", "I8", "I16", "U16", "F16", "BF16", "I32", "U32",
/// "F32", "F64", "I64", "U64", "C64", "C128", "F8_E4M3", "F8_E5M2".
BRINE_API const char* safetensors_dtype_name(DType dtype) noexcept;
/// The dtype whose safetensors spelling is `name`, or nothing.
BRINE_API std::optional<DType> dtype_from_safetensors_name(std::string_view name) noexcept;
/// Whether `value` names a dtype (a DType read from untrusted bytes must be checked first).
constexpr bool is_valid_dtype(std::uint8_t value) noexcept { return value < kDTypeCount; }

/// The dtype of a C++ element type; defined for bool, the fixed-width integers and
/// float/double (std::complex has its own in tensor.hpp's users: complex64/128 are byte
/// storage here).
template <class T>
struct dtype_of;
#define BRINE_DTYPE_OF(T, D)                 \
  template <>                                \
  struct dtype_of<T> {                       \
    static constexpr DType value = DType::D; \
  };
BRINE_DTYPE_OF(bool, boolean)
BRINE_DTYPE_OF(std::int8_t, int8)
BRINE_DTYPE_OF(std::int16_t, int16)
BRINE_DTYPE_OF(std::int32_t, int32)
BRINE_DTYPE_OF(std::int64_t, int64)
BRINE_DTYPE_OF(std::uint8_t, uint8)
BRINE_DTYPE_OF(std::uint16_t, uint16)
BRINE_DTYPE_OF(std::uint32_t, uint32)
BRINE_DTYPE_OF(std::uint64_t, uint64)
BRINE_DTYPE_OF(float, float32)
BRINE_DTYPE_OF(double, float64)
#undef BRINE_DTYPE_OF
// `long long` and `long` are distinct types of one width on LP64 hosts: map the one that is
// not std::int64_t too, so that std::vector<long long> works as it does elsewhere in brine.
template <>
struct dtype_of<std::conditional_t<std::is_same_v<std::int64_t, long>, long long, long>> {
  static constexpr DType value = DType::int64;
};
template <>
struct dtype_of<std::conditional_t<std::is_same_v<std::uint64_t, unsigned long>, unsigned long long,
                                   unsigned long>> {
  static constexpr DType value = DType::uint64;
};
template <class T>
inline constexpr DType dtype_of_v = dtype_of<T>::value;

/// A contiguous read-only or writable run of elements (C++17 has no std::span).
template <class T>
class Span {
 public:
  constexpr Span() noexcept = default;
  constexpr Span(T* data, std::size_t size) noexcept : data_(data), size_(size) {}
  constexpr T* data() const noexcept { return data_; }
  constexpr std::size_t size() const noexcept { return size_; }
  constexpr bool empty() const noexcept { return size_ == 0; }
  constexpr T* begin() const noexcept { return data_; }
  constexpr T* end() const noexcept { return data_ + size_; }
  constexpr T& operator[](std::size_t i) const noexcept { return data_[i]; }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

/// A whole file mapped read-only into memory. Tensors loaded from a file keep it alive
/// through a shared_ptr: the mapping goes when the last tensor that views it goes, and no
/// byte is copied. Where the file cannot be mapped (a pipe, an empty file) it is read into
/// memory, and the same interface serves.
class BRINE_API MappedFile {
 public:
  /// Maps `path`. Throws IoError naming the path.
  static std::shared_ptr<const MappedFile> open(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::byte* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  /// Whether the bytes are a memory map (false: they were read into memory).
  bool is_mapped() const noexcept { return mapped_; }
  const std::string& path() const noexcept { return path_; }
  /// The bytes as a string_view (for parsers).
  std::string_view view() const noexcept { return {reinterpret_cast<const char*>(data_), size_}; }

 private:
  MappedFile() = default;
  std::string path_;
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  bool mapped_ = false;
  std::unique_ptr<std::byte[]> read_;  // when not mapped
};

/// An n-dimensional array: dtype, shape, and the little-endian, C-order (row-major) bytes
/// of its elements. The bytes are shared, never copied by copying a Tensor: a copy is
/// another view of the same storage (as a torch.Tensor is), and `clone()` makes a deep copy.
///
/// The storage is one of
/// - owned memory, 64-byte aligned, which the Tensor constructors allocate;
/// - a std::vector<T> moved in (`from_vector`), kept as it is;
/// - memory the caller lends together with an owner that keeps it alive (`view`), such as a
///   MappedFile: a tensor loaded from a file views the file's mapping.
/// A tensor views `nbytes()` bytes at `storage_offset()` inside its storage; two tensors
/// that view one storage report the same `storage_id()` (Hugging Face's
/// get_torch_storage_id), which is how savers write shared storage once.
///
/// Mapped and lent storage is read-only: `mutable_bytes()` throws on it; call
/// `make_writable()` first, which copies the viewed bytes into owned memory.
class BRINE_API Tensor {
 public:
  /// An empty float32 tensor of shape {0}.
  Tensor();
  /// Owned, zero-filled memory of `dtype` and `shape`. Throws LimitError when the element
  /// count overflows, FormatError (corrupt_data) on a negative dimension.
  Tensor(DType dtype, std::vector<std::int64_t> shape);

  /// A copy of `nbytes` bytes at `bytes` as a tensor of `dtype` and `shape`; throws
  /// FormatError when nbytes is not what the dtype and shape need.
  static Tensor copy_of(DType dtype, std::vector<std::int64_t> shape, const void* bytes,
                        std::size_t nbytes);
  /// A view of `nbytes` bytes at `bytes`, read-only, kept alive by `owner` (which may be
  /// null when the caller guarantees the bytes outlive every view). Throws like copy_of.
  static Tensor view(DType dtype, std::vector<std::int64_t> shape,
                     std::shared_ptr<const void> owner, const std::byte* bytes, std::size_t nbytes);
  /// A read-only view of the bytes at `offset` in a mapped file, which it keeps alive. Its
  /// storage is the whole file: every tensor of one file reports one storage_id, as torch
  /// reports one storage for a safetensors file. Throws FormatError when the bytes the
  /// dtype and shape need do not lie inside the file.
  static Tensor view(DType dtype, std::vector<std::int64_t> shape,
                     std::shared_ptr<const MappedFile> file, std::size_t offset);
  /// Another tensor on this tensor's storage, at `storage_offset` bytes from the storage's
  /// start (see storage_offset()): the way to rebuild tensors that share one buffer. It is
  /// writable when this one is. Throws FormatError when it would reach outside the storage.
  Tensor view_storage(DType dtype, std::vector<std::int64_t> shape,
                      std::size_t storage_offset) const;
  /// Adopts `values` without copying them; the shape defaults to {values.size()}.
  template <class T>
  static Tensor from_vector(std::vector<T> values, std::vector<std::int64_t> shape = {});
  /// A copy of `n` elements.
  template <class T>
  static Tensor from_values(const T* values, std::size_t n, std::vector<std::int64_t> shape = {}) {
    if (shape.empty()) shape = {static_cast<std::int64_t>(n)};
    return copy_of(dtype_of_v<T>, std::move(shape), values, n * sizeof(T));
  }

  DType dtype() const noexcept { return dtype_; }
  const std::vector<std::int64_t>& shape() const noexcept { return shape_; }
  std::size_t rank() const noexcept { return shape_.size(); }
  /// Product of the dimensions (1 for a rank-0 tensor).
  std::uint64_t numel() const noexcept { return numel_; }
  std::size_t nbytes() const noexcept { return nbytes_; }
  const std::byte* bytes() const noexcept { return data_; }
  /// The bytes, writable. Throws InternalError when the storage is read-only (mapped or
  /// lent); see make_writable().
  std::byte* mutable_bytes();
  /// Whether mutable_bytes() may be called.
  bool is_writable() const noexcept;
  /// Makes the storage owned and writable, copying the viewed bytes when it is not; other
  /// tensors that shared the old storage keep it.
  void make_writable();
  /// A deep copy in owned memory.
  Tensor clone() const;

  /// The elements as T. Throws SchemaError (type_mismatch) naming both dtypes when T is not
  /// the tensor's dtype, and FormatError when the bytes are not aligned for T (a view into a
  /// file whose writer did not align its data).
  template <class T>
  Span<const T> values() const {
    check_access(dtype_of_v<T>, alignof(T));
    return {reinterpret_cast<const T*>(data_), static_cast<std::size_t>(numel_)};
  }
  template <class T>
  Span<T> mutable_values() {
    check_access(dtype_of_v<T>, alignof(T));
    return {reinterpret_cast<T*>(mutable_bytes()), static_cast<std::size_t>(numel_)};
  }
  /// The elements as a std::vector<T>: moved out without a copy when this tensor's storage
  /// is a std::vector<T> it alone holds and views whole, copied otherwise. Leaves this
  /// tensor empty when it moved.
  template <class T>
  std::vector<T> to_vector() &&;
  template <class T>
  std::vector<T> to_vector() const& {
    Span<const T> v = values<T>();
    return std::vector<T>(v.begin(), v.end());
  }

  /// Identity of the storage this tensor views: equal for two tensors that view one buffer
  /// (one mapping, one vector, one allocation), whatever part of it each views.
  const void* storage_id() const noexcept {
    return storage_ ? storage_.get() : static_cast<const void*>(storage_base_);
  }
  /// Bytes of the whole storage (get_torch_storage_size).
  std::size_t storage_nbytes() const noexcept;
  /// Offset of this tensor's first byte inside its storage.
  std::size_t storage_offset() const noexcept {
    return static_cast<std::size_t>(data_ - storage_base_);
  }
  /// Whether the bytes are a read-only memory map of a file.
  bool is_mapped() const noexcept;
  /// The object that keeps the bytes alive (a MappedFile for mapped tensors).
  std::shared_ptr<const void> owner() const noexcept { return storage_; }

  /// Same dtype, same shape, same bytes.
  friend BRINE_API bool operator==(const Tensor& a, const Tensor& b) noexcept;
  friend bool operator!=(const Tensor& a, const Tensor& b) noexcept { return !(a == b); }

  /// The element count of `shape` and the bytes it takes in `dtype`. Throws LimitError
  /// (limit_exceeded) when either overflows 64 bits or size_t, FormatError (corrupt_data)
  /// on a negative dimension; `what` names the tensor in the message.
  static std::pair<std::uint64_t, std::size_t> checked_size(DType dtype,
                                                            const std::vector<std::int64_t>& shape,
                                                            const std::string& what = {});

  /// Storage kinds, for storage_kind(); stable only within a process.
  enum class StorageKind { owned, vector, lent, mapped };
  StorageKind storage_kind() const noexcept;

 private:
  struct Storage;
  template <class T>
  struct VectorStorage;
  Tensor(DType dtype, std::vector<std::int64_t> shape, std::shared_ptr<const void> storage,
         const std::byte* data, std::size_t nbytes, bool writable);
  void check_access(DType wanted, std::size_t alignment) const;
  template <class T>
  bool vector_is_movable() const noexcept;

  DType dtype_ = DType::float32;
  std::vector<std::int64_t> shape_{0};
  std::uint64_t numel_ = 0;
  std::size_t nbytes_ = 0;
  // The storage is a Storage (below) for every kind except a lent view, where it is the
  // caller's owner; `data_` points into it.
  std::shared_ptr<const void> storage_;
  const std::byte* data_ = nullptr;
  const std::byte* storage_base_ = nullptr;  // first byte of the storage
  bool writable_ = false;
  StorageKind kind_ = StorageKind::owned;
  std::size_t storage_nbytes_ = 0;
  // For StorageKind::vector: which std::vector<T> the storage holds (see vector_tag).
  const void* vector_tag_ = nullptr;
};

namespace detail {
// One address per element type, to tell a VectorStorage<long> from a VectorStorage<long
// long> without RTTI. Two shared libraries may hold two copies; to_vector then copies, which
// is correct, only slower.
template <class T>
inline constexpr char vector_tag = 0;
}  // namespace detail

// ---- implementation of the templates ---------------------------------------------------

template <class T>
struct Tensor::VectorStorage {
  std::vector<T> values;
};

template <class T>
Tensor Tensor::from_vector(std::vector<T> values, std::vector<std::int64_t> shape) {
  static_assert(!std::is_same_v<T, bool>, "std::vector<bool> has no contiguous storage");
  if (shape.empty()) shape = {static_cast<std::int64_t>(values.size())};
  auto holder = std::make_shared<VectorStorage<T>>();
  holder->values = std::move(values);
  const auto* data = reinterpret_cast<const std::byte*>(holder->values.data());
  std::size_t nbytes = holder->values.size() * sizeof(T);
  Tensor t(dtype_of_v<T>, std::move(shape), std::shared_ptr<const void>(holder), data, nbytes,
           true);
  t.kind_ = StorageKind::vector;
  t.vector_tag_ = &detail::vector_tag<T>;
  return t;
}

template <class T>
bool Tensor::vector_is_movable() const noexcept {
  if (kind_ != StorageKind::vector || dtype_ != dtype_of_v<T> || storage_.use_count() != 1)
    return false;
  const auto* holder = static_cast<const VectorStorage<T>*>(storage_.get());
  // Only the exact element type: a VectorStorage<long> is not a VectorStorage<long long>
  // even where both are int64.
  return storage_nbytes_ == holder->values.size() * sizeof(T) &&
         reinterpret_cast<const std::byte*>(holder->values.data()) == data_ &&
         nbytes_ == storage_nbytes_ && vector_tag_ == &detail::vector_tag<T>;
}

template <class T>
std::vector<T> Tensor::to_vector() && {
  if (!vector_is_movable<T>()) return static_cast<const Tensor&>(*this).to_vector<T>();
  // The storage is ours alone: nothing else can observe the vector being moved out.
  auto* holder =
      const_cast<VectorStorage<T>*>(static_cast<const VectorStorage<T>*>(storage_.get()));
  std::vector<T> out = std::move(holder->values);
  *this = Tensor();
  return out;
}

}  // namespace brine
