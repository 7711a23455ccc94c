// brine — versioned object persistence for C++17.
// bench/check_workloads.cpp: proves the generators against WORKLOADS.md (payload bytes and
// CRC-32 of the full-size canonical encodings); exits non-zero on any mismatch.

#include <cstdio>
#include <string>
#include <unordered_map>

#include "workloads/checkpoint.hpp"
#include "workloads/graph.hpp"
#include "workloads/records.hpp"

namespace {

using brine_bench::Fingerprint;

bool report(const char* what, const Fingerprint& got, const Fingerprint* published,
            const char* source = "WORKLOADS.md") {
  std::printf("%-34s %s", what, brine_bench::describe(got).c_str());
  if (published == nullptr) {
    std::printf("  (no published value)\n");
    return true;
  }
  const bool ok = got == *published;
  std::printf("  %s (%s: %s)\n", ok ? "OK" : "MISMATCH", source,
              brine_bench::describe(*published).c_str());
  return ok;
}

// The shape facts WORKLOADS.md states for B, a second check that does not go through the CRC.
void print_graph_shape(const brine_bench::Graph& roots) {
  std::unordered_map<const brine_bench::Node*, int> parents;
  std::size_t references = 0, node_a = 0;
  for (const brine_bench::Node* n : brine_bench::detail::reachable_nodes(roots)) {
    references += n->children.size();
    if (n->kind() == brine_bench::NodeA::kKind) ++node_a;
    for (const auto& c : n->children) ++parents[c.get()];
  }
  std::size_t shared = 0;
  for (const auto& entry : parents) shared += entry.second == 2 ? 1 : 0;
  std::printf("  graph shape: %zu child references, %zu nodes with two parents, %zu NodeA\n",
              references, shared, node_a);
}

}  // namespace

int main() {
  using namespace brine_bench;
  bool ok = true;

  const Records records = make_records(kRecordsFullCount);
  ok &= report("records (200,000 records)", fingerprint_of(canonical_encoding(records)),
               &kRecordsFullFingerprint);
  report("records --quick (20,000 records)",
         fingerprint_of(canonical_encoding(make_records(kRecordsQuickCount))), nullptr);

  const Graph graph = make_graph(kGraphFullNodes, kGraphFullRoots);
  ok &= report("graph (100,000 nodes, 1,000 roots)", fingerprint_of(canonical_encoding(graph)),
               &kGraphFullFingerprint);
  print_graph_shape(graph);
  const std::string walk = verify_graph_sharing(graph, kGraphFullNodes);
  std::printf("  sharing walk on the generated graph: %s\n", walk.empty() ? "OK" : walk.c_str());
  ok &= walk.empty();
  report("graph --quick (10,000 nodes, 100 roots)",
         fingerprint_of(canonical_encoding(make_graph(kGraphQuickNodes, kGraphQuickRoots))),
         nullptr);

  {
    // The payload string (what the raw and memcpy rows write) and the streamed CRC (what
    // verifies every load) must be the same encoding.
    const Checkpoint checkpoint = make_checkpoint(false);
    const std::string payload = canonical_encoding(checkpoint);
    ok &= report("checkpoint (64 tensors + config)", fingerprint_of(payload),
                 &kCheckpointFullFingerprint);
    const Fingerprint streamed = canonical_fingerprint(checkpoint);
    ok &= report("checkpoint, streamed CRC", streamed, &kCheckpointFullFingerprint);
  }
  {
    const Checkpoint quick = make_checkpoint(true);
    const Fingerprint built = fingerprint_of(canonical_encoding(quick));
    report("checkpoint --quick (dims / 16)", built, nullptr);
    const Fingerprint streamed = canonical_fingerprint(quick);
    ok &= report("checkpoint --quick, streamed CRC", streamed, &built, "encoding");
  }

  std::printf("%s\n", ok ? "all generators match WORKLOADS.md" : "GENERATOR MISMATCH");
  return ok ? 0 : 1;
}
