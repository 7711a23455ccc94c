#!/usr/bin/env bash
# fuzz/run.sh BUILD_DIR SECONDS
# Runs every fuzzer built in BUILD_DIR/fuzz for SECONDS on its seed corpus (written by its
# fuzz_<name>_corpus generator) and on the inputs earlier runs kept, then prints one summary
# line per fuzzer: executions, coverage (libFuzzer's cov: edges and ft: features) and corpus
# size. Exits non-zero when a fuzzer finds a crash, a leak, undefined behaviour, a timeout or
# an out-of-memory; the reproducer is in BUILD_DIR/fuzz/work/artifacts/.
#   BRINE_FUZZ_CORPUS=DIR  keep the growing corpus in DIR/<reader>/ instead of
#                          BUILD_DIR/fuzz/work/corpus/, so that long runs build on each other
#                          across build trees; fuzz/corpus/ is the place for it (git ignores
#                          it). A long run: BRINE_FUZZ_CORPUS=fuzz/corpus fuzz/run.sh build/fuzz 900
#                          fuzzes each reader 15 minutes.
#   BRINE_FUZZ_TARGETS="binary_reader json_reader"  run only these readers
#   BRINE_FUZZ_SKIP="boost_import"  leave these out (each named in the summary as skipped)
#   BRINE_FUZZ_JOBS=N      run N fuzzing processes per fuzzer (default 1)
#   BRINE_FUZZ_PARALLEL=N  run N fuzzers at once (default: the number of cores)
#   BRINE_FUZZ_ARGS="..."  more libFuzzer options, e.g. -detect_leaks=0
#   BRINE_FUZZ_STACK_KB=N  the fuzzers' stack in KiB (default 8192)
# The fuzzers (AddressSanitizer builds) run with the stack LoadOptions' limits are measured
# against under AddressSanitizer, 8 MiB (docs/limits.md): a reader that needs more at the
# limits crashes here as it would in a program. libFuzzer runs each input on the main
# thread, whose stack is the soft RLIMIT_STACK when the process starts, so `ulimit -s` sets
# it; a runner with an unlimited or larger limit would otherwise hide an overflow.
# A finding becomes a regression input in tests/hostile/fuzz_regression_test.cpp.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD_DIR SECONDS" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
seconds=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work="$build/fuzz/work"
corpus_root="$work/corpus"
if [ -n "${BRINE_FUZZ_CORPUS:-}" ]; then
  mkdir -p "$BRINE_FUZZ_CORPUS"
  corpus_root=$(cd "$BRINE_FUZZ_CORPUS" && pwd)
fi
mkdir -p "$work/artifacts" "$work/logs"

# One fuzzer: its seeds, its run, and one summary line in $work/logs/<name>.summary; the
# full output is in $work/logs/<name>.log (with several fuzzers at once, interleaved output
# on the terminal would be unreadable).
fuzz_one() {
  local name=$1 fuzzer="$build/fuzz/$1" reader=${1#fuzz_}
  local seeds="$work/seeds/$reader" corpus="$corpus_root/$reader" log="$work/logs/$1.log"
  rm -rf "$seeds"
  mkdir -p "$seeds" "$corpus"
  "$build/fuzz/${name}_corpus" "$seeds"
  local extra=()
  if [ -f "$here/$reader.dict" ]; then extra+=("-dict=$here/$reader.dict"); fi
  local jobs=${BRINE_FUZZ_JOBS:-1}
  if [ "$jobs" -gt 1 ]; then extra+=("-jobs=$jobs" "-workers=$jobs"); fi
  # shellcheck disable=SC2206  # word splitting is the point
  if [ -n "${BRINE_FUZZ_ARGS:-}" ]; then extra+=(${BRINE_FUZZ_ARGS}); fi
  local before after status=0
  before=$(find "$corpus" -type f | wc -l)
  echo "=== $name: ${seconds}s, stack ${BRINE_FUZZ_STACK_KB:-8192} KiB, seeds $(ls "$seeds" | wc -l), corpus $before"
  # The first directory receives new inputs; the seeds are read only.
  # With -jobs, libFuzzer writes one log per job into the current directory.
  (ulimit -s "${BRINE_FUZZ_STACK_KB:-8192}" && cd "$work" && "$fuzzer" "$corpus" "$seeds" "${extra[@]}" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/$name-") >"$log" 2>&1 || status=$?
  # The last status line libFuzzer printed carries the coverage it reached.
  local last execs cov ft verdict=ok
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  after=$(find "$corpus" -type f | wc -l)
  if [ "$status" -ne 0 ]; then
    verdict="FOUND (exit $status, see $log)"
    echo "=== $name found something; the end of its log:"
    tail -n 60 "$log"
  fi
  printf '%-22s %6ss  execs %-10s cov %-6s ft %-7s corpus %s -> %s  %s\n' \
    "$name" "$seconds" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$before" "$after" "$verdict" \
    >"$work/logs/$name.summary"
  return "$status"
}

# Fuzzers run side by side, one per core by default (each is one process): the whole run
# takes SECONDS times the number of fuzzers divided by the cores.
parallel=${BRINE_FUZZ_PARALLEL:-$(nproc)}
names=()
for fuzzer in "$build"/fuzz/fuzz_*; do
  name=$(basename "$fuzzer")
  case "$name" in *_corpus) continue ;; esac
  [ -x "$fuzzer" ] || continue
  reader=${name#fuzz_}
  if [ -n "${BRINE_FUZZ_TARGETS:-}" ] && [[ " $BRINE_FUZZ_TARGETS " != *" $reader "* ]]; then
    continue
  fi
  if [[ " ${BRINE_FUZZ_SKIP:-} " == *" $reader "* ]]; then
    echo "fuzz/run.sh: $name skipped (BRINE_FUZZ_SKIP)"
    continue
  fi
  names+=("$name")
done
found=$((${#names[@]} > 0))
failed=0
running=0
for name in "${names[@]}"; do
  rm -f "$work/logs/$name.summary"
  if [ "$running" -ge "$parallel" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
  fuzz_one "$name" &
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
summary=()
for name in "${names[@]}"; do
  if [ -f "$work/logs/$name.summary" ]; then
    summary+=("$(cat "$work/logs/$name.summary")")
  else
    summary+=("$name: no summary (the runner failed before fuzzing; see above)")
    failed=1
  fi
done

if [ "$found" = 0 ]; then
  echo "no fuzzers in $build/fuzz (configure with CXX=clang++ -DBRINE_BUILD_FUZZERS=ON)" >&2
  exit 1
fi
echo
echo "=== fuzz summary (corpus in $corpus_root)"
printf '%s\n' "${summary[@]}"
exit "$failed"
