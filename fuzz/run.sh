#!/usr/bin/env bash
# fuzz/run.sh BUILD_DIR SECONDS
# Runs every fuzzer built in BUILD_DIR/fuzz for SECONDS on its seed corpus (written by its
# fuzz_<name>_corpus generator) and on the inputs earlier runs kept. Exits non-zero when a
# fuzzer finds a crash, a leak, undefined behaviour, a timeout or an out-of-memory; the
# reproducer is in BUILD_DIR/fuzz/work/artifacts/.
#   BRINE_FUZZ_JOBS=N      run N fuzzing processes per fuzzer (default 1)
#   BRINE_FUZZ_ARGS="..."  more libFuzzer options, e.g. -detect_leaks=0
#   BRINE_FUZZ_STACK_KB=N  the fuzzers' stack in KiB (default 8192)
# The fuzzers (AddressSanitizer builds) run with the stack LoadOptions' limits are measured
# against under AddressSanitizer, 8 MiB (docs/limits.md): a reader that needs more at the
# limits crashes here as it would in a program. libFuzzer runs each input on the main
# thread, whose stack is the soft RLIMIT_STACK when the process starts, so `ulimit -s` sets
# it; a runner with an unlimited or larger limit would otherwise hide an overflow.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD_DIR SECONDS" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
seconds=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work="$build/fuzz/work"
mkdir -p "$work/artifacts"

found=0
for fuzzer in "$build"/fuzz/fuzz_*; do
  name=$(basename "$fuzzer")
  case "$name" in *_corpus) continue ;; esac
  [ -x "$fuzzer" ] || continue
  found=1
  reader=${name#fuzz_}
  seeds="$work/seeds/$reader"
  corpus="$work/corpus/$reader"
  rm -rf "$seeds"
  mkdir -p "$seeds" "$corpus"
  "$build/fuzz/${name}_corpus" "$seeds"
  extra=()
  if [ -f "$here/$reader.dict" ]; then extra+=("-dict=$here/$reader.dict"); fi
  jobs=${BRINE_FUZZ_JOBS:-1}
  if [ "$jobs" -gt 1 ]; then extra+=("-jobs=$jobs" "-workers=$jobs"); fi
  # shellcheck disable=SC2206  # word splitting is the point
  if [ -n "${BRINE_FUZZ_ARGS:-}" ]; then extra+=(${BRINE_FUZZ_ARGS}); fi
  echo "=== $name: ${seconds}s, stack ${BRINE_FUZZ_STACK_KB:-8192} KiB, seeds $(ls "$seeds" | wc -l), corpus $(ls "$corpus" | wc -l)"
  # The first directory receives new inputs; the seeds are read only.
  # With -jobs, libFuzzer writes one log per job into the current directory.
  (ulimit -s "${BRINE_FUZZ_STACK_KB:-8192}" && cd "$work" && "$fuzzer" "$corpus" "$seeds" "${extra[@]}" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/$name-")
done

if [ "$found" = 0 ]; then
  echo "no fuzzers in $build/fuzz (configure with CXX=clang++ -DBRINE_BUILD_FUZZERS=ON)" >&2
  exit 1
fi
