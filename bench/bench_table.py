#!/usr/bin/env python3
# brine — versioned object persistence for C++17.
# bench/bench_table.py: turns brine_bench's JSON output (--benchmark_out=FILE) into the
# WORKLOADS.md table: MB/s in 10^6 bytes/s (the console prints MiB/s), median, min and max.
"""Usage: bench_table.py [--cpu] RESULT.json [RESULT.json ...] > table.md

Pools the repetitions of every file given (one file per run of brine_bench) and prints, per
row, their median and min-max. With several files, a second line per op gives the range of
the per-run medians, which shows how much the machine drifted between runs. A file may hold
only some rows (e.g. a run filtered to the text rows): each row pools the files that have it.

Then the ratios brine's targets are stated in (see RATIOS): for each, the ratio of the
pooled medians and, when both rows ran in the same files, the range of the per-run ratios
(rows of one run are the fairer comparison: the machine drifts between runs).

--cpu: MB/s from each repetition's CPU time instead of its wall-clock time (the payload bytes
per iteration over cpu_time). brine_bench reports wall-clock time, as WORKLOADS.md does; on a
machine shared with other jobs, CPU time shows what the process itself spent, which the
wall clock inflates by however long the process waited for a core."""

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
    ("records", "cereal_json"): (23.9, 9.3),
    ("records", "boost_xml"): (17.6, 12.0),
    ("graph", "cereal_json"): (4.7, 2.7),
    ("checkpoint", "cereal_binary"): (1436, 392),
    ("checkpoint", "boost_binary"): (1485, 415),
    ("checkpoint", "raw_file"): (1584, 16484),
    ("checkpoint", "raw_mmap"): (None, 57685),
}

# Workload C's targets (issue 10), as columns of the checkpoint table: save time over
# raw_file's (write + fsync), load speed over cereal_binary's, load time over raw_file's read,
# and peak resident growth of a load over the tensor bytes.
CHECKPOINT_TARGETS = {
    "brine_binary": "save <= 1.05x raw_file; no load holding two copies",
    "brine_safetensors": "save <= 1.05x raw_file; no load holding two copies",
    "brine_binary_mapped": "load >= 20x cereal_binary; peak < 1.1x tensors",
    "brine_binary_mapped_verified": "load <= 3x raw_file",
}
# 64 float32 tensors of 67,108,864 elements (WORKLOADS.md); --quick divides by 16.
CHECKPOINT_TENSOR_BYTES = 67108864 * 4

# (row, baseline, target): brine's targets for records and graph, as throughput ratios
# row/baseline (= time ratio baseline/row) for save and load, and the archive size ratio
# row/baseline. The checkpoint's targets are CHECKPOINT_TARGETS.
RATIOS = [
    ("brine_binary", "cereal_binary", "save and load >= 1.5x, archive <= 1.1x"),
    ("brine_stable", "cereal_json", "save and load >= 10x, archive < 1x"),
    ("brine_stable", "brine_binary", "archive <= 1.6x"),
]


def fmt(x):
    if x is None:
        return "—"
    return f"{x:,.0f}" if x >= 1000 else f"{x:.3g}" if x < 10 else f"{x:.1f}" if x < 100 else f"{x:.0f}"


def main(paths, cpu=False):
    rates = defaultdict(list)  # (workload, op, library) -> MB/s of each repetition
    run_medians = defaultdict(list)  # (workload, op, library) -> median MB/s of each run
    per_run = []  # one {(workload, op, library): median MB/s} per file
    archive = {}
    peaks = defaultdict(list)  # (workload, op, library) -> peak_bytes of each repetition
    quick = False
    for path in paths:
        this_run = defaultdict(list)
        with open(path) as f:
            data = json.load(f)
        quick = quick or data.get("context", {}).get("brine_bench_sizes", "").startswith("quick")
        for b in data["benchmarks"]:
            if b.get("run_type") != "iteration":
                continue
            if b.get("error_occurred"):
                sys.exit(f"{b['name']}: {b.get('error_message')}")
            workload, op, library = b["run_name"].split("/")[:3]
            rate = b["bytes_per_second"]
            if cpu:  # bytes_per_second is over real_time (UseRealTime); both times in one unit
                rate *= b["real_time"] / b["cpu_time"]
            this_run[(workload, op, library)].append(rate / 1e6)
            archive[(workload, library)] = b["archive_bytes"] / 1e6
            if "peak_bytes" in b:
                peaks[(workload, op, library)].append(b["peak_bytes"])
        for key, values in this_run.items():
            rates[key].extend(values)
            run_medians[key].append(statistics.median(values))
        per_run.append({key: statistics.median(values) for key, values in this_run.items()})

    order = ["memcpy", "raw_file", "raw_file_fresh", "raw_mmap", "cereal_binary", "boost_binary",
             "brine_binary", "brine_binary_mapped", "brine_binary_mapped_verified",
             "brine_safetensors", "brine_stable", "cereal_json", "cereal_xml", "boost_text", "boost_xml", "brine_json"]
    rows = sorted({(w, lib) for (w, _, lib) in rates},
                  key=lambda k: (["records", "graph", "checkpoint"].index(k[0]),
                                 order.index(k[1]) if k[1] in order else len(order), k[1]))
    runs = len(paths)
    spread = "; run medians" if runs > 1 else ""
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
            m = run_medians[(w, op, lib)]
            if len(m) > 1:
                cell += f"; {fmt(min(m))}-{fmt(max(m))}"
            cell += f"; n={len(r)}"
            cells.append(cell + ")")
        ref = REFERENCE.get((w, lib))
        ref_cell = f"{fmt(ref[0])} / {fmt(ref[1])}" if ref else "—"
        print(f"| {w} | {lib} | {cells[0]} | {cells[1]} | {archive[(w, lib)]:.2f} | {ref_cell} |")

    workloads = sorted({w for (w, _) in rows}, key=["records", "graph", "checkpoint"].index)
    if any(w != "checkpoint" for w in workloads):
        print()
        print("| workload | ratio | save | load | archive | target |")
        print("|---|---|---|---|---|---|")
    for w in workloads:
        if w == "checkpoint":
            continue
        for lib, base, target in RATIOS:
            if (w, lib) not in archive or (w, base) not in archive:
                continue
            cells = []
            for op in ("save", "load"):
                a, b = rates.get((w, op, lib)), rates.get((w, op, base))
                if not a or not b:
                    cells.append("—")
                    continue
                cell = f"{statistics.median(a) / statistics.median(b):.2f}x"
                same = [r[(w, op, lib)] / r[(w, op, base)] for r in per_run
                        if (w, op, lib) in r and (w, op, base) in r]
                if len(same) > 1:
                    cell += f" (per run {min(same):.2f}-{max(same):.2f})"
                elif same and len(paths) > 1:
                    cell += f" (the one run with both: {same[0]:.2f}x)"
                cells.append(cell)
            size = archive[(w, lib)] / archive[(w, base)]
            print(f"| {w} | {lib} / {base} | {cells[0]} | {cells[1]} | {size:.2f}x | {target} |")

    if any(w == "checkpoint" for (w, _) in rows):
        checkpoint_table(rates, per_run, peaks, archive, len(paths),
                         CHECKPOINT_TENSOR_BYTES // (16 if quick else 1),
                         [lib for (w, lib) in rows if w == "checkpoint"])


def checkpoint_table(rates, per_run, peaks, archive, runs, tensor_bytes, libraries):
    """Workload C's ratios: save time / raw_file's, load speed / cereal_binary's, load time /
    raw_file's read, and peak_bytes of a load (median over repetitions) / tensor bytes."""

    def ratio(op, lib, base, invert):
        a, b = rates.get(("checkpoint", op, lib)), rates.get(("checkpoint", op, base))
        if not a or not b:
            return "—"
        r = statistics.median(a) / statistics.median(b)
        r = 1 / r if invert else r
        cell = f"{r:.2f}x"
        same = [x[("checkpoint", op, lib)] / x[("checkpoint", op, base)] for x in per_run
                if ("checkpoint", op, lib) in x and ("checkpoint", op, base) in x]
        if len(same) > 1:
            same = [1 / v for v in same] if invert else same
            cell += f" (per run {min(same):.2f}-{max(same):.2f})"
        return cell

    print()
    print("| checkpoint row | save time ×raw_file | load speed ×cereal_binary "
          "| load time ×raw_file | load peak MB | peak ×tensor bytes | target |")
    print("|---|---|---|---|---|---|---|")
    for lib in libraries:
        save = ratio("save", lib, "raw_file", True) if lib not in ("raw_file", "memcpy") else "—"
        load_cereal = ratio("load", lib, "cereal_binary", False)
        load_raw = ratio("load", lib, "raw_file", True)
        p = peaks.get(("checkpoint", "load", lib))
        peak = statistics.median(p) if p else None
        peak_mb = fmt(peak / 1e6) if p else "—"
        peak_ratio = f"{peak / tensor_bytes:.2f}x" if p else "—"
        print(f"| {lib} | {save} | {load_cereal} | {load_raw} | {peak_mb} | {peak_ratio} "
              f"| {CHECKPOINT_TARGETS.get(lib, '—')} |")


if __name__ == "__main__":
    args = sys.argv[1:]
    use_cpu = "--cpu" in args
    args = [a for a in args if a != "--cpu"]
    if not args:
        sys.exit(__doc__)
    main(args, use_cpu)
