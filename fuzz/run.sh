#!/usr/bin/env bash
# Runs each fuzz target for SECONDS on its seeds (fuzz/corpus/T), its regressions (fuzz/regressions/T) and what
# earlier runs found (BUILD/corpus/T, where new inputs go, outside the repository). A crash, leak, timeout or
# out-of-memory input is written to fuzz/regressions/T/; the run goes on with the next target and fails at the end.
# Usage: fuzz/run.sh BUILD SECONDS TARGET...
set -uo pipefail
cd "$(dirname "$0")/.."
build=$1 seconds=$2
shift 2
failed=()
printf '%-10s %12s %8s %8s %s\n' target executions seconds corpus result
for t in "$@"; do
  mkdir -p "$build/corpus/$t" "fuzz/regressions/$t"
  dict=()
  case $t in
    jpeg | image) dict=(-dict=fuzz/dicts/image.dict) ;;
    unpickle | npy | feature) dict=(-dict=fuzz/dicts/$t.dict) ;;
  esac
  log=$build/$t.log
  start=$(date +%s)
  LSAN_OPTIONS=suppressions=fuzz/lsan.supp UBSAN_OPTIONS=print_stacktrace=1 "$build/fuzz_$t" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="fuzz/regressions/$t/" "${dict[@]}" \
    "$build/corpus/$t" "fuzz/corpus/$t" "fuzz/regressions/$t" >"$log" 2>&1
  rc=$?
  elapsed=$(($(date +%s) - start))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  corpus=$(find "$build/corpus/$t" -type f | wc -l)
  result=ok
  if [ $rc -ne 0 ]; then
    result="FAILED (exit $rc; see $log)"
    failed+=("$t")
  fi
  printf '%-10s %12s %8s %8s %s\n' "$t" "${execs:-?}" "$elapsed" "$corpus" "$result"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in ${failed[*]}: inputs in fuzz/regressions/" >&2
  exit 1
fi
