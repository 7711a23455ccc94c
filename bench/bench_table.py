#!/usr/bin/env python3
# brine — versioned object persistence for C++17.
# bench/bench_table.py: turns brine_bench's JSON output (--benchmark_out=FILE) into the
# WORKLOADS.md table: MB/s in 10^6 bytes/s (the console prints MiB/s), median, min and max.
"""Usage: bench_table.py RESULT.json [RESULT.json ...] > table.md

Pools the repetitions of every file given (one file per run of brine_bench) and prints, per
row, their median and min-max. With several files, a second line per op gives the range of
the per-run medians, which shows how much the machine drifted between runs."""

import json
import statistics
import sys
from collections import defaultdict

# WORKLOADS.md "Reference figures on this machine" (save MB/s, load MB/s); a rough context
# column only: absolute figures drift between runs, compare rows of one run instead.
REFERENCE = {
    ("records", "cereal_binary"): (971, 578),
    ("records", "boost_binary"): (596, 448),
    ("records", "memcpy"): (21300, 21865),
    ("graph", "cereal_binary"): (79.7, 135),
    ("graph", "boost_binary"): (35.1, 68.8),
}


def fmt(x):
    return f"{x:,.0f}" if x >= 1000 else f"{x:.3g}" if x < 10 else f"{x:.1f}" if x < 100 else f"{x:.0f}"


def main(paths):
    rates = defaultdict(list)  # (workload, op, library) -> MB/s of each repetition
    run_medians = defaultdict(list)  # (workload, op, library) -> median MB/s of each run
    archive = {}
    for path in paths:
        this_run = defaultdict(list)
        with open(path) as f:
            data = json.load(f)
        for b in data["benchmarks"]:
            if b.get("run_type") != "iteration":
                continue
            if b.get("error_occurred"):
                sys.exit(f"{b['name']}: {b.get('error_message')}")
            workload, op, library = b["run_name"].split("/")[:3]
            this_run[(workload, op, library)].append(b["bytes_per_second"] / 1e6)
            archive[(workload, library)] = b["archive_bytes"] / 1e6
        for key, values in this_run.items():
            rates[key].extend(values)
            run_medians[key].append(statistics.median(values))

    order = ["memcpy", "cereal_binary", "boost_binary", "brine_binary", "brine_stable"]
    rows = sorted({(w, lib) for (w, _, lib) in rates},
                  key=lambda k: (["records", "graph", "checkpoint"].index(k[0]),
                                 order.index(k[1]) if k[1] in order else len(order), k[1]))
    runs = len(paths)
    spread = f"; run medians {runs} runs" if runs > 1 else ""
    print(f"| workload | row | save MB/s median (min-max{spread}) "
          f"| load MB/s median (min-max{spread}) | archive MB | WORKLOADS.md save / load |")
    print("|---|---|---|---|---|---|")
    for w, lib in rows:
        cells = []
        for op in ("save", "load"):
            r = rates.get((w, op, lib))
            if not r:
                cells.append("—")
                continue
            cell = f"{fmt(statistics.median(r))} ({fmt(min(r))}-{fmt(max(r))}"
            if runs > 1:
                m = run_medians[(w, op, lib)]
                cell += f"; {fmt(min(m))}-{fmt(max(m))}"
            cells.append(cell + ")")
        ref = REFERENCE.get((w, lib))
        ref_cell = f"{fmt(ref[0])} / {fmt(ref[1])}" if ref else "—"
        print(f"| {w} | {lib} | {cells[0]} | {cells[1]} | {archive[(w, lib)]:.2f} | {ref_cell} |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
