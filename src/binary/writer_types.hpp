// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// binary/writer_types.hpp: the binary writer's table of defined types (private).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <typeindex>
#include <unordered_map>
#include <vector>

#include "brine/registry.hpp"

namespace brine {
namespace detail {

/// The writer's view of which types the stream has defined.
class WriterTypeTable {
 public:
  struct Dynamic {
    const std::type_info* type;
    const TypeOps* ops;
  };

  /// Index of a defined type, 0 when not defined yet.
  std::uint64_t index_of(const TypeOps& ops) const {
    auto it = index_.find(std::type_index(*ops.cpp_type));
    return it == index_.end() ? 0 : it->second;
  }
  /// Defines `ops` and every type its layout names that is not defined yet, in an order where
  /// a definition may name types defined later in the same batch (readers resolve names
  /// after the whole batch). Returns the types of the batch.
  std::vector<const TypeInfo*> collect(Registry& registry, const TypeOps& root) {
    std::vector<const TypeInfo*> batch;
    visit(registry, root, batch);
    return batch;
  }
  void collect_into(Registry& registry, const TypeOps& root, std::vector<const TypeInfo*>& batch) {
    visit(registry, root, batch);
  }

  // Dynamic-type cache: saving a polymorphic graph looks up every object's typeid, and a
  // linear scan over the handful of types in play beats a hash of the type's name.
  const TypeOps* find_dynamic(const std::type_info& type) const {
    for (const Dynamic& d : dynamic_)
      if (d.type == &type) return d.ops;
    return nullptr;
  }
  void add_dynamic(const std::type_info& type, const TypeOps& ops) {
    if (dynamic_.size() < 32) dynamic_.push_back(Dynamic{&type, &ops});
  }

  struct TopLevel {
    std::string descriptor;
    std::vector<const TypeOps*> dependencies;
  };
  std::unordered_map<std::type_index, TopLevel> top_level;

  /// Every type defined in the stream by name: its index and layout bytes (write_value
  /// defines types from state trees and must agree with earlier definitions).
  std::unordered_map<std::string, std::pair<std::uint64_t, std::string>> by_name;
  std::uint64_t take_index() { return next_index_++; }

  /// The payloads (docs/format/binary-v1.md §13) of the value being written, by the storage
  /// they hold bytes of: a tensor whose bytes lie inside one of them refers to it instead of
  /// writing its storage again. Cleared with every top-level value, as the reader's table is.
  struct WrittenPayload {
    const std::byte* begin;
    std::size_t size;
    std::uint64_t index;
  };
  std::unordered_multimap<const void*, WrittenPayload> payloads;
  std::uint64_t payload_count = 0;

 private:
  void visit(Registry& registry, const TypeOps& ops, std::vector<const TypeInfo*>& batch) {
    auto key = std::type_index(*ops.cpp_type);
    if (index_.count(key)) return;
    const TypeInfo& info = registry.add(ops);
    by_name[info.name()] = {next_index_, info.layout().bytes};
    index_[key] = next_index_++;
    batch.push_back(&info);
    for (const TypeOps* dep : info.layout().dependencies) visit(registry, *dep, batch);
  }

  std::unordered_map<std::type_index, std::uint64_t> index_;
  std::uint64_t next_index_ = 1;
  std::vector<Dynamic> dynamic_;
};

}  // namespace detail
}  // namespace brine
