// brine — versioned object persistence for C++17.
// bench/workloads/graph.hpp: workload B, a DAG of polymorphic nodes held by shared_ptr with
// 30% of the nodes shared (WORKLOADS.md "B. graph"). Plain structs: adapters register them.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <unordered_set>
#include <vector>

#include "canonical.hpp"
#include "rng.hpp"

namespace brine_bench {

struct Node {
  virtual ~Node() = default;
  virtual std::uint32_t kind() const = 0;

  std::int64_t id = 0;
  std::vector<std::shared_ptr<Node>> children;
};

struct NodeA final : Node {
  static constexpr std::uint32_t kKind = 0;
  std::uint32_t kind() const override { return kKind; }

  double weight = 0.0;
  std::int32_t rank = 0;
};

struct NodeB final : Node {
  static constexpr std::uint32_t kKind = 1;
  std::uint32_t kind() const override { return kKind; }

  std::string label;
};

/// The saved object: the roots. Everything else is reachable only through children.
using Graph = std::vector<std::shared_ptr<Node>>;

inline constexpr std::uint64_t kGraphSeed = 0xB0B5EED000000002ULL;
inline constexpr std::size_t kGraphFullNodes = 100000;
inline constexpr std::size_t kGraphFullRoots = 1000;
inline constexpr std::size_t kGraphQuickNodes = 10000;
inline constexpr std::size_t kGraphQuickRoots = 100;
/// The full-size canonical encoding, as WORKLOADS.md publishes it.
inline constexpr Fingerprint kGraphFullFingerprint{4039071, 0x1d17d767};

/// Nodes 0 .. roots-1 of workload B's graph of `nodes` nodes.
/// Throws std::invalid_argument unless 1 <= roots <= nodes (the parent draws are `% i`).
inline Graph make_graph(std::size_t nodes, std::size_t roots) {
  if (roots == 0 || roots > nodes)
    throw std::invalid_argument("make_graph: need 1 <= roots <= nodes");
  SplitMix64 rng(kGraphSeed);
  std::vector<std::shared_ptr<Node>> all;
  all.reserve(nodes);
  for (std::size_t i = 0; i < nodes; ++i) {
    std::shared_ptr<Node> node;
    if (rng.next() % 2 == 0) {
      auto a = std::make_shared<NodeA>();
      a->weight = unit_double(rng.next());
      a->rank = static_cast<std::int32_t>(rng.next() % 1000);
      node = std::move(a);
    } else {
      auto b = std::make_shared<NodeB>();
      b->label = random_lowercase(rng);
      node = std::move(b);
    }
    node->id = static_cast<std::int64_t>(i);
    if (i >= roots) {
      const std::uint64_t p1 = rng.next() % i;
      all[p1]->children.push_back(node);
      if (rng.next() % 100 < 30) {
        std::uint64_t p2 = rng.next() % i;
        if (p2 == p1) p2 = (p1 + 1) % i;
        all[p2]->children.push_back(node);
      }
    }
    all.push_back(std::move(node));
  }
  all.resize(roots);
  return all;
}

namespace detail {

/// Every distinct node object reachable from the roots, each once. Iterative and keyed by
/// address, so a loaded graph that came back with a cycle or a duplicated subtree is still
/// walked in linear time instead of looping or recursing without bound.
inline std::vector<const Node*> reachable_nodes(const Graph& roots) {
  std::vector<const Node*> found;
  std::unordered_set<const Node*> seen;
  seen.reserve(roots.size() * 128);
  std::vector<const Node*> stack;
  for (const auto& r : roots) stack.push_back(r.get());
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    if (n == nullptr || !seen.insert(n).second) continue;
    found.push_back(n);
    for (const auto& c : n->children) stack.push_back(c.get());
  }
  return found;
}

}  // namespace detail

/// u32 R, R x i64 root id, u32 N, then per node in id order: i64 id, u32 kind, the derived
/// fields, u32 child count, child ids. N counts node *objects*, so a library that duplicated
/// a shared node changes the encoding; a null pointer encodes as id -1, which no generated
/// node has.
inline std::string canonical_encoding(const Graph& roots) {
  auto id_of = [](const std::shared_ptr<Node>& p) { return p ? p->id : std::int64_t{-1}; };
  std::vector<const Node*> nodes = detail::reachable_nodes(roots);
  std::stable_sort(nodes.begin(), nodes.end(),
                   [](const Node* a, const Node* b) { return a->id < b->id; });

  LittleEndianWriter w;
  w.u32(static_cast<std::uint32_t>(roots.size()));
  for (const auto& r : roots) w.i64(id_of(r));
  w.u32(static_cast<std::uint32_t>(nodes.size()));
  for (const Node* n : nodes) {
    w.i64(n->id);
    w.u32(n->kind());
    if (const auto* a = dynamic_cast<const NodeA*>(n)) {
      w.f64(a->weight);
      w.i32(a->rank);
    } else if (const auto* b = dynamic_cast<const NodeB*>(n)) {
      w.str(b->label);
    }
    w.u32(static_cast<std::uint32_t>(n->children.size()));
    for (const auto& c : n->children) w.i64(id_of(c));
  }
  return w.take();
}

/// The sharing walk of WORKLOADS.md: every id in [0, expected_nodes) is reached, each through
/// exactly one object address, and each node's dynamic type is the one its kind() names.
/// (kind() itself is covered by the canonical encoding's CRC, so together they prove the
/// dynamic types are the generated ones.) Returns an empty string when all holds, else
/// what failed first.
inline std::string verify_graph_sharing(const Graph& roots, std::size_t expected_nodes) {
  std::vector<const Node*> by_id(expected_nodes, nullptr);
  std::size_t distinct_ids = 0;
  for (const auto& r : roots) {
    if (!r) return "graph: a root is null";
  }
  for (const Node* n : detail::reachable_nodes(roots)) {
    const std::string where = "graph: node id " + std::to_string(n->id);
    for (const auto& c : n->children) {
      if (!c) return where + " has a null child";
    }
    if (n->id < 0 || static_cast<std::uint64_t>(n->id) >= expected_nodes) {
      return where + " is out of range [0, " + std::to_string(expected_nodes) + ")";
    }
    const Node*& slot = by_id[static_cast<std::size_t>(n->id)];
    if (slot != nullptr)
      return where + " reached through two addresses (a shared node was duplicated)";
    slot = n;
    ++distinct_ids;
    const bool type_matches = (n->kind() == NodeA::kKind && typeid(*n) == typeid(NodeA)) ||
                              (n->kind() == NodeB::kKind && typeid(*n) == typeid(NodeB));
    if (!type_matches)
      return where + " has kind " + std::to_string(n->kind()) + " but dynamic type " +
             typeid(*n).name();
  }
  if (distinct_ids != expected_nodes) {
    return "graph: " + std::to_string(distinct_ids) + " of " + std::to_string(expected_nodes) +
           " nodes reached from the roots";
  }
  return {};
}

}  // namespace brine_bench
