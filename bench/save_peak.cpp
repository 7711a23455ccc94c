// brine — versioned object persistence for C++17.
// bench/save_peak.cpp: the peak resident memory of one save of a large pointer graph, against
// the size of the object saved. brine_bench's peak_bytes rows are small workloads; this one
// is large enough that the writer's own tables (the address table that sharing needs) show.
//
//   brine_save_peak stable|binary NODES FILE
//
// The graph is bench/workloads/graph.hpp's shape with NodeA nodes only (no label strings):
// each node is a child of an earlier one and, three times in ten, of a second one, so about
// 80 bytes of object per node. Prints the object's size (the rise of the resident set while
// it is built) and the save's peak above the same base (VmHWM, reset before the save), in
// MB, and the peak as a multiple of the object.

#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "adapters/brine_hooks.hpp"

namespace {

long status_kib(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0)
      return std::strtol(line.c_str() + std::string(key).size(), nullptr, 10);
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: brine_save_peak stable|binary NODES FILE\n");
    return 2;
  }
  const std::string format = argv[1];
  const auto nodes = static_cast<std::size_t>(std::strtoull(argv[2], nullptr, 10));
  const long base = status_kib("VmRSS:");
  brine_bench::Graph graph;
  {
    brine_bench::SplitMix64 rng(brine_bench::kGraphSeed);
    std::vector<std::shared_ptr<brine_bench::NodeA>> all(nodes);
    for (std::size_t i = 0; i < nodes; ++i) {
      all[i] = std::make_shared<brine_bench::NodeA>();
      all[i]->id = static_cast<std::int64_t>(i);
      all[i]->weight = static_cast<double>(rng.next() % 1000) / 8;
      if (i == 0) continue;
      all[rng.next() % i]->children.push_back(all[i]);
      if (rng.next() % 100 < 30) all[rng.next() % i]->children.push_back(all[i]);
    }
    graph.push_back(all[0]);
  }
  malloc_trim(0);
  const long object = status_kib("VmRSS:") - base;
  {
    // The building's own peak is not the save's: reset the high-water mark to now.
    std::ofstream clear("/proc/self/clear_refs");
    clear << "5";
  }
  if (format == "stable")
    brine::save_stable(argv[3], graph);
  else if (format == "binary")
    brine::save_binary(argv[3], graph);
  else
    return 2;
  const long peak = status_kib("VmHWM:") - base;
  std::printf("%s: %zu nodes, object %.1f MB, save peak %.1f MB (%.2fx)\n", format.c_str(), nodes,
              object / 1024.0, peak / 1024.0,
              static_cast<double>(peak) / static_cast<double>(object));
  return 0;
}
