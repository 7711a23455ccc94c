// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// detail/shared_table.hpp: identity maps for shared objects while saving and loading.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

namespace brine {
class TypeInfo;
namespace detail {

/// Object address -> id, for writers. Open addressing with linear probing: saving a graph
/// looks up every pointer, and std::unordered_map's node allocation per entry was the largest
/// cost of saving the graph workload.
class PointerIdMap {
 public:
  static constexpr std::uint64_t npos = ~std::uint64_t{0};

  /// Returns the id of `key`, inserting it with `next_id` when absent (`inserted` tells).
  std::uint64_t find_or_insert(const void* key, std::uint64_t next_id, bool& inserted) {
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    std::size_t mask = slots_.size() - 1;
    std::size_t i = hash(key) & mask;
    for (;;) {
      Slot& s = slots_[i];
      if (s.key == key) {
        inserted = false;
        return s.id;
      }
      if (s.key == nullptr) {
        s.key = key;
        s.id = next_id;
        ++size_;
        inserted = true;
        return next_id;
      }
      i = (i + 1) & mask;
    }
  }
  void clear() noexcept {
    if (size_ == 0) return;
    for (Slot& s : slots_) s = Slot{};
    size_ = 0;
  }
  std::size_t size() const noexcept { return size_; }

 private:
  struct Slot {
    const void* key = nullptr;
    std::uint64_t id = 0;
  };
  static std::size_t hash(const void* p) noexcept {
    auto x = reinterpret_cast<std::uintptr_t>(p);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return static_cast<std::size_t>(x);
  }
  void grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 64 : old.size() * 2, Slot{});
    std::size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.key == nullptr) continue;
      std::size_t i = hash(s.key) & mask;
      while (slots_[i].key != nullptr) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }
  std::vector<Slot> slots_;
  std::size_t size_ = 0;
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
