#!/bin/bash
# Runs each libFuzzer target for SECONDS, starting from the seeds in fuzz/corpus/TARGET (which
# also hold every input that once crashed: they are replayed first, as regression tests).
# New interesting inputs go to build/fuzz/corpus/TARGET, crashes to build/fuzz/findings/TARGET.
# Usage: scripts/fuzz.sh SECONDS TARGET...
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=$1
shift
failed=0
summary=()
for target in "$@"; do
  binary=build/fuzz/fuzz-$target
  seeds=fuzz/corpus/$target
  work=build/fuzz/corpus/$target
  findings=build/fuzz/findings/$target
  mkdir -p "$work" "$findings"
  log=build/fuzz/$target.log
  echo "fuzz $target: ${seconds}s from $(ls "$seeds" | wc -l) seeds"
  # Leak checking stays on: a leak per request is a finding too.
  if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
       -artifact_prefix="$findings/" "$work" "$seeds" >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    summary+=("$target: ok, $runs executions in ${seconds}s, corpus $(ls "$work" | wc -l)")
  else
    failed=1
    summary+=("$target: FAILED (see $log; the input is in $findings/)")
    grep -E 'ERROR|SUMMARY|escaped|planned|==[0-9]+==' "$log" | head -5 | sed 's/^/    /'
  fi
done
printf '%s\n' "${summary[@]}"
exit $failed
