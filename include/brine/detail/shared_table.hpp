// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// detail/shared_table.hpp: identity maps for shared objects while saving and loading.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "brine/error.hpp"

namespace brine {
class TypeInfo;
namespace detail {

/// Object address -> index, for writers: the index of an address is the number of addresses
/// inserted before it since clear(), which is the id every writer gives a shared object (ids
/// count objects in the order they are first met).
///
/// Saving a graph looks up every pointer, and the table is the largest thing a writer holds
/// beside the object: a 200 MB graph of 2.5 million shared objects. So each entry costs
/// about 13 bytes: the address, once, in fixed-size chunks indexed by insertion order (no
/// reallocation that would hold two copies while it grows), and an open-addressing slot of
/// 4 bytes at a load of at most 3/4. A slot holds the entry's index + 1 in the bits below
/// the table's size and, above them, bits of the address's hash, so a probe rarely reads an
/// address that is not the one looked for. Growing frees the old slots before allocating
/// the new ones, since the addresses are rehashed from the chunks.
class PointerIdMap {
 public:
  static constexpr std::uint64_t npos = ~std::uint64_t{0};

  /// Returns the index of `key`, inserting it when absent (`inserted` tells).
  std::uint64_t find_or_insert(const void* key, bool& inserted) {
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    const std::uint64_t h = hash(key);
    const std::uint32_t tag = static_cast<std::uint32_t>(h >> 32) & ~index_mask_;
    for (std::size_t i = static_cast<std::size_t>(h) & slot_mask_;; i = (i + 1) & slot_mask_) {
      const std::uint32_t s = slots_[i];
      if (s == 0) {
        if (size_ == chunks_.size() * kChunk)
          chunks_.push_back(std::make_unique<const void*[]>(kChunk));
        key_at(size_) = key;
        slots_[i] = tag | static_cast<std::uint32_t>(size_ + 1);
        inserted = true;
        return size_++;
      }
      if ((s & ~index_mask_) == tag && key_at((s & index_mask_) - 1) == key) {
        inserted = false;
        return (s & index_mask_) - 1;
      }
    }
  }
  /// The index of `key`, or npos when it was not inserted.
  std::uint64_t find(const void* key) const noexcept {
    if (size_ == 0) return npos;
    const std::uint64_t h = hash(key);
    const std::uint32_t tag = static_cast<std::uint32_t>(h >> 32) & ~index_mask_;
    for (std::size_t i = static_cast<std::size_t>(h) & slot_mask_;; i = (i + 1) & slot_mask_) {
      const std::uint32_t s = slots_[i];
      if (s == 0) return npos;
      if ((s & ~index_mask_) == tag && key_at((s & index_mask_) - 1) == key)
        return (s & index_mask_) - 1;
    }
  }
  /// Forgets every address; keeps the memory for the next value.
  void clear() noexcept {
    if (size_ == 0) return;
    std::fill(slots_.begin(), slots_.end(), std::uint32_t{0});
    size_ = 0;
  }
  std::size_t size() const noexcept { return static_cast<std::size_t>(size_); }

 private:
  static constexpr std::uint64_t kChunk = 1024;  // addresses per chunk: 8 KiB
  static std::uint64_t hash(const void* p) noexcept {
    auto x = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p));
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
  }
  const void*& key_at(std::uint64_t i) noexcept { return chunks_[i / kChunk][i % kChunk]; }
  const void* key_at(std::uint64_t i) const noexcept { return chunks_[i / kChunk][i % kChunk]; }
  void grow() {
    const std::uint64_t slots = slots_.empty() ? 64 : std::uint64_t{slots_.size()} * 2;
    // An index + 1 must fit in 32 bits: 3 x 2^30 entries, 40 GB of addresses alone.
    if (slots > (std::uint64_t{1} << 32) || slots > std::uint64_t{SIZE_MAX} / sizeof(std::uint32_t))
      detail::throw_error(errc::limit_exceeded,
                          "more than 3 x 2^30 objects through shared pointers in one value");
    std::vector<std::uint32_t>().swap(slots_);
    slots_.assign(static_cast<std::size_t>(slots), 0);
    slot_mask_ = static_cast<std::size_t>(slots - 1);
    index_mask_ = static_cast<std::uint32_t>(slots - 1);
    for (std::uint64_t n = 0; n < size_; ++n) {
      const std::uint64_t h = hash(key_at(n));
      std::size_t i = static_cast<std::size_t>(h) & slot_mask_;
      while (slots_[i] != 0) i = (i + 1) & slot_mask_;
      slots_[i] =
          (static_cast<std::uint32_t>(h >> 32) & ~index_mask_) | static_cast<std::uint32_t>(n + 1);
    }
  }
  std::vector<std::uint32_t> slots_;
  std::vector<std::unique_ptr<const void*[]>> chunks_;
  std::size_t slot_mask_ = 0;
  std::uint32_t index_mask_ = 0;
  std::uint64_t size_ = 0;
};

/// Id -> loaded shared object, for readers. Holds a reference to every object until the
/// top-level load ends, so objects reachable only through weak_ptr survive until then.
struct TypeOps;
struct SharedObject {
  std::shared_ptr<void> object;    ///< points at the most-derived object
  const TypeOps* ops = nullptr;    ///< its dynamic type
  const TypeInfo* info = nullptr;  ///< its registry entry (nullptr for unregistered types)
};

/// An object a reader created or found for a pointer.
struct PointerTarget {
  void* address = nullptr;       ///< the object as the pointer's static type; nullptr for null
  const TypeOps* ops = nullptr;  ///< its dynamic type
  const TypeInfo* info = nullptr;
  std::shared_ptr<void> owner;  ///< empty for unique pointers (the caller takes ownership)
};

class SharedObjectTable {
 public:
  const SharedObject* find(std::uint64_t id) const noexcept {
    if (id < dense_.size()) return dense_[id].object ? &dense_[id] : nullptr;
    auto it = sparse_.find(id);
    return it == sparse_.end() ? nullptr : &it->second;
  }
  void put(std::uint64_t id, SharedObject object) {
    // Binary archives number objects densely; ids from a hand-edited state tree can be
    // anything, and resizing a vector to a hostile id would allocate gigabytes.
    if (id < dense_.size() + kDenseSlack) {
      if (id >= dense_.size()) dense_.resize(id + 1);
      dense_[id] = std::move(object);
    } else {
      sparse_[id] = std::move(object);
    }
  }
  void clear() noexcept {
    dense_.clear();
    sparse_.clear();
  }
  /// Forgets every object after a failed load. Objects of a half-loaded graph may point at
  /// each other through shared_ptr (a cycle the rest of the archive would have closed, or
  /// one it did close), and such a cycle outlives the table: each object is first reset to
  /// a default value so that it drops the references it holds. Every object is still owned
  /// by the table while that happens, so no reset destroys an object another reset visits.
  /// The objects are about to be destroyed and were never handed to the caller.
  void abandon() noexcept;
  std::size_t size() const noexcept { return dense_.size() + sparse_.size(); }

 private:
  static constexpr std::uint64_t kDenseSlack = 4096;
  std::vector<SharedObject> dense_;
  std::unordered_map<std::uint64_t, SharedObject> sparse_;
};

}  // namespace detail
}  // namespace brine

#include "brine/detail/core.hpp"

namespace brine::detail {

inline void SharedObjectTable::abandon() noexcept {
  auto reset = [](SharedObject& o) noexcept {
    if (!o.object || o.ops == nullptr || o.ops->clear == nullptr) return;
    // A type whose default constructor or assignment throws keeps its references: leaking
    // is better than an exception escaping cleanup that runs during unwinding.
    try {
      o.ops->clear(o.object.get());
    } catch (...) {
    }
  };
  for (SharedObject& o : dense_) reset(o);
  for (auto& entry : sparse_) reset(entry.second);
  clear();
}

}  // namespace brine::detail
