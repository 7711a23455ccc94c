// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// hostile_types.hpp: the small archives the hostile tests corrupt: a document of strings,
// containers and nested objects; a polymorphic shared_ptr graph with sharing and cycles; a
// ledger written by an older class version that loads through migrations.
#pragma once

#include <brine/brine.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace hostile {

struct Point {
  BRINE_TYPE("hostile.Point", 1);
  std::int32_t x = 0;
  std::int32_t y = 0;
  template <class A>
  void getstate(A& ar) const {
    ar("x", x)("y", y);
  }
  template <class A>
  void setstate(A& ar) {
    ar("x", x)("y", y);
  }
  bool operator==(const Point& o) const { return x == o.x && y == o.y; }
};

// Every container field holds a unique marker, so tests can find the count or length in
// front of it in the archive's bytes and rewrite it.
inline constexpr char kTitleMarker[] = "TITLE-MARKER";
inline constexpr char kTagMarker[] = "TAG-MARKER-1";
inline constexpr char kPointMarker[] = "POINT-MARKER";
inline constexpr char kNoteMarker[] = "NOTE-MARKER";
inline constexpr char kChoiceMarker[] = "CHOICE-MARKER";
inline constexpr std::uint32_t kNumberMarker = 0xA4A3A2A1u;  // little-endian bytes A1 A2 A3 A4

struct Doc {
  BRINE_TYPE("hostile.Doc", 1);
  std::string title;
  bool flag = false;
  std::vector<std::string> tags;
  std::vector<std::uint32_t> numbers;
  std::map<std::string, Point> points;
  std::optional<std::string> note;
  std::variant<std::int64_t, std::string> choice;
  Point origin;
  std::vector<Point> path;
  std::set<std::int16_t> ids;

  template <class A>
  void getstate(A& ar) const {
    ar("title", title)("flag", flag)("tags", tags)("numbers", numbers)("points", points)(
        "note", note)("choice", choice)("origin", origin)("path", path)("ids", ids);
  }
  template <class A>
  void setstate(A& ar) {
    ar("title", title)("flag", flag)("tags", tags)("numbers", numbers)("points", points)(
        "note", note)("choice", choice)("origin", origin)("path", path)("ids", ids);
  }
  bool operator==(const Doc& o) const {
    return title == o.title && flag == o.flag && tags == o.tags && numbers == o.numbers &&
           points == o.points && note == o.note && choice == o.choice && origin == o.origin &&
           path == o.path && ids == o.ids;
  }
};

inline Doc make_doc() {
  Doc d;
  d.title = kTitleMarker;
  d.flag = true;
  d.tags = {kTagMarker, "t2"};
  d.numbers = {kNumberMarker, 7};
  d.points = {{kPointMarker, Point{1, -2}}, {"q", Point{3, 4}}};
  d.note = std::string(kNoteMarker);
  d.choice = std::string(kChoiceMarker);
  d.origin = Point{-7, 9};
  d.path = {Point{0, 0}, Point{5, 6}};
  d.ids = {-3, 12};
  return d;
}

// A polymorphic graph: Node is concrete and polymorphic, Leaf and Branch derive from it.
// Nodes count themselves, so tests see nodes a failed load left alive.
struct Node {
  BRINE_TYPE("hostile.Node", 1);
  static inline int live = 0;
  Node() { ++live; }
  Node(const Node& o) : label(o.label), edges(o.edges), parent(o.parent) { ++live; }
  Node& operator=(const Node&) = default;
  virtual ~Node() { --live; }
  std::string label;
  std::vector<std::shared_ptr<Node>> edges;
  std::weak_ptr<Node> parent;
  template <class A>
  void getstate(A& ar) const {
    ar("label", label)("edges", edges)("parent", parent);
  }
  template <class A>
  void setstate(A& ar) {
    ar("label", label)("edges", edges)("parent", parent);
  }
};

struct Leaf final : Node {
  BRINE_TYPE("hostile.Leaf", 1);
  double weight = 0;
  template <class A>
  void getstate(A& ar) const {
    brine::base<Node>(ar, *this);
    ar("weight", weight);
  }
  template <class A>
  void setstate(A& ar) {
    brine::base<Node>(ar, *this);
    ar("weight", weight);
  }
};

struct Branch final : Node {
  BRINE_TYPE("hostile.Branch", 1);
  std::unique_ptr<Node> owned;
  template <class A>
  void getstate(A& ar) const {
    brine::base<Node>(ar, *this);
    ar("owned", owned);
  }
  template <class A>
  void setstate(A& ar) {
    brine::base<Node>(ar, *this);
    ar("owned", owned);
  }
};

struct Graph {
  BRINE_TYPE("hostile.Graph", 1);
  std::vector<std::shared_ptr<Node>> roots;
  std::shared_ptr<Node> focus;
  template <class A>
  void getstate(A& ar) const {
    ar("roots", roots)("focus", focus);
  }
  template <class A>
  void setstate(A& ar) {
    ar("roots", roots)("focus", focus);
  }
};

inline void register_graph(brine::Registry& r) {
  r.add<Node>();
  r.add<Leaf>().bases<Node>();
  r.add<Branch>().bases<Node>();
}

/// a (Branch) -> b (Leaf) -> a: a cycle; c -> c: a self-cycle; c's parent is a (weak);
/// a owns a Leaf through unique_ptr; roots = {a, b}, focus = c (shared, reached twice).
inline Graph make_graph() {
  auto a = std::make_shared<Branch>();
  auto b = std::make_shared<Leaf>();
  auto c = std::make_shared<Node>();
  a->label = "a";
  b->label = "b";
  c->label = "c";
  b->weight = 2.5;
  a->edges = {b, c};
  b->edges = {a};
  c->edges = {c};
  c->parent = a;
  auto owned = std::make_unique<Leaf>();
  owned->label = "owned";
  owned->weight = -1;
  a->owned = std::move(owned);
  Graph g;
  g.roots = {a, b};
  g.focus = c;
  return g;
}

/// Clears every edge reachable from `g` (through shared and owned pointers), so that cycles
/// do not leak whatever shape a corrupted archive gave the graph.
inline void dismantle(Graph& g) {
  std::vector<std::shared_ptr<Node>> keep;  // keeps every node alive until all are cleared
  std::vector<Node*> todo;
  std::set<Node*> seen;
  auto push_shared = [&](const std::shared_ptr<Node>& n) {
    if (!n) return;
    keep.push_back(n);
    todo.push_back(n.get());
  };
  for (const auto& r : g.roots) push_shared(r);
  push_shared(g.focus);
  while (!todo.empty()) {
    Node* n = todo.back();
    todo.pop_back();
    if (!seen.insert(n).second) continue;
    for (const auto& e : n->edges) push_shared(e);
    if (auto* branch = dynamic_cast<Branch*>(n); branch != nullptr && branch->owned)
      todo.push_back(branch->owned.get());
  }
  for (Node* n : seen) n->edges.clear();
}

/// True when `g` has exactly the shape make_graph() built.
inline bool is_original_graph(const Graph& g) {
  if (g.roots.size() != 2 || !g.focus) return false;
  auto* a = dynamic_cast<Branch*>(g.roots[0].get());
  auto* b = dynamic_cast<Leaf*>(g.roots[1].get());
  const std::shared_ptr<Node>& c = g.focus;
  if (!a || !b || typeid(*c) != typeid(Node)) return false;
  if (a->label != "a" || b->label != "b" || c->label != "c" || b->weight != 2.5) return false;
  if (a->edges.size() != 2 || a->edges[0] != g.roots[1] || a->edges[1] != c) return false;
  if (b->edges.size() != 1 || b->edges[0] != g.roots[0]) return false;
  if (c->edges.size() != 1 || c->edges[0] != c || c->parent.lock() != g.roots[0]) return false;
  auto* owned = dynamic_cast<Leaf*>(a->owned.get());
  return owned && owned->label == "owned" && owned->weight == -1 && owned->edges.empty();
}

// Pointer shapes for hand-made references: a shared pair of unrelated types, and a shared
// and an owning pointer side by side.
struct Label {
  BRINE_TYPE("hostile.Label", 1);
  std::string text;
  template <class A>
  void getstate(A& ar) const {
    ar("text", text);
  }
  template <class A>
  void setstate(A& ar) {
    ar("text", text);
  }
};

struct Pair {
  BRINE_TYPE("hostile.Pair", 1);
  std::shared_ptr<Point> a;
  std::shared_ptr<Label> b;
  template <class A>
  void getstate(A& ar) const {
    ar("a", a)("b", b);
  }
  template <class A>
  void setstate(A& ar) {
    ar("a", a)("b", b);
  }
};

struct Owner {
  BRINE_TYPE("hostile.Owner", 1);
  std::shared_ptr<Point> shared;
  std::unique_ptr<Point> owned;
  template <class A>
  void getstate(A& ar) const {
    ar("shared", shared)("owned", owned);
  }
  template <class A>
  void setstate(A& ar) {
    ar("shared", shared)("owned", owned);
  }
};

// A type that evolved: v1 as an old program wrote it, v3 as this program reads it.
namespace v1 {
struct Account {
  BRINE_TYPE("hostile.Account", 1);
  std::string owner;
  std::int32_t cents = 0;
  std::vector<std::string> history;
  template <class A>
  void getstate(A& ar) const {
    ar("owner", owner)("cents", cents)("history", history);
  }
  template <class A>
  void setstate(A& ar) {
    ar("owner", owner)("cents", cents)("history", history);
  }
};
}  // namespace v1

namespace v3 {
struct Account {
  BRINE_TYPE("hostile.Account", 3);
  std::string holder;
  std::int64_t balance_cents = 0;
  std::vector<std::string> history;
  std::string currency;
  template <class A>
  void getstate(A& ar) const {
    ar("holder", holder)("balance_cents", balance_cents)("history", history)("currency", currency);
  }
  template <class A>
  void setstate(A& ar) {
    ar("holder", holder)("balance_cents", balance_cents)("history", history)("currency", currency);
  }
};
}  // namespace v3

/// The ledger's own layout does not change between the versions: it is read on the fast
/// path while its accounts go through the state model and the migrations.
template <class Account>
struct LedgerOf {
  BRINE_TYPE("hostile.Ledger", 1);
  std::vector<Account> accounts;
  std::shared_ptr<Account> primary;
  std::shared_ptr<Account> backup;  // the same object as primary
  std::string memo;
  template <class A>
  void getstate(A& ar) const {
    ar("accounts", accounts)("primary", primary)("backup", backup)("memo", memo);
  }
  template <class A>
  void setstate(A& ar) {
    ar("accounts", accounts)("primary", primary)("backup", backup)("memo", memo);
  }
};
using OldLedger = LedgerOf<v1::Account>;
using Ledger = LedgerOf<v3::Account>;

inline OldLedger make_old_ledger() {
  OldLedger l;
  l.accounts = {v1::Account{"ann", 1250, {"open"}}, v1::Account{"bob", -40, {}}};
  l.primary = std::make_shared<v1::Account>(v1::Account{"cat", 99, {"open", "deposit"}});
  l.backup = l.primary;
  l.memo = "ledger";
  return l;
}

inline void register_v3_account(brine::Registry& r) {
  namespace m = brine::migrate;
  r.add<v3::Account>()
      .migration(1, m::rename_field("owner", "holder"))
      .migration(2, m::sequence({m::rename_field("cents", "balance_cents"),
                                 m::add_field("currency", brine::Value("EUR"))}));
}

/// True when `l` is make_old_ledger() upgraded to v3.
inline bool is_upgraded_ledger(const Ledger& l) {
  if (l.accounts.size() != 2 || !l.primary || l.primary != l.backup || l.memo != "ledger")
    return false;
  const v3::Account& ann = l.accounts[0];
  const v3::Account& bob = l.accounts[1];
  const v3::Account& cat = *l.primary;
  return ann.holder == "ann" && ann.balance_cents == 1250 &&
         ann.history == std::vector<std::string>{"open"} && ann.currency == "EUR" &&
         bob.holder == "bob" && bob.balance_cents == -40 && bob.history.empty() &&
         cat.holder == "cat" && cat.balance_cents == 99 &&
         cat.history == std::vector<std::string>{"open", "deposit"} && cat.currency == "EUR";
}

}  // namespace hostile
