#!/usr/bin/env bash
# fuzz/run.sh BUILD_DIR SECONDS
# Runs every fuzzer built in BUILD_DIR/fuzz for SECONDS on its seed corpus (written by its
# fuzz_<name>_corpus generator) and on the inputs earlier runs kept. Exits non-zero when a
# fuzzer finds a crash, a leak, undefined behaviour, a timeout or an out-of-memory; the
# reproducer is in BUILD_DIR/fuzz/work/artifacts/.
#   BRINE_FUZZ_JOBS=N      run N fuzzing processes per fuzzer (default 1)
#   BRINE_FUZZ_ARGS="..."  more libFuzzer options, e.g. -detect_leaks=0
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
  echo "=== $name: ${seconds}s, seeds $(ls "$seeds" | wc -l), corpus $(ls "$corpus" | wc -l)"
  # The first directory receives new inputs; the seeds are read only.
  # With -jobs, libFuzzer writes one log per job into the current directory.
  (cd "$work" && "$fuzzer" "$corpus" "$seeds" "${extra[@]}" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/$name-")
done

if [ "$found" = 0 ]; then
  echo "no fuzzers in $build/fuzz (configure with CXX=clang++ -DBRINE_BUILD_FUZZERS=ON)" >&2
  exit 1
fi
