#!/usr/bin/env bash
# Runs each Go fuzz target of kant for FUZZTIME (default 15s), one at a time
# (go allows one -fuzz per invocation), and prints for each its executions
# and whether it found a crasher, then the total time. A crasher is written
# by go to the package's testdata/fuzz/FuzzX/ and fails this script: commit
# it as a regression input once the bug is fixed.
#
# Environment: FUZZTIME (15s), FUZZMINIMIZETIME (0: do not spend the run
# minimizing each new input, which otherwise stalls the executions for
# seconds at a time), FUZZ_ONLY (a regexp of target names to run).
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-15s}
minimize=${FUZZMINIMIZETIME:-0}
only=${FUZZ_ONLY:-.}

# package target
targets=(
  ". FuzzParseDate"
  ". FuzzTruncate"
  "./config FuzzParse"
  "./config FuzzSecretsNeverInErrors"
  "./config FuzzParseDuration"
  "./collector/push FuzzDecodeBody"
  "./collector/push FuzzLines"
  "./collector/lineage FuzzDecodeBody"
  "./slo FuzzParseSchedule"
  "./alert/slack FuzzBlocks"
  "./api FuzzReadQueries"
  "./gate FuzzQuery"
  "./collector/eventbridge FuzzDecodeEvent"
)

start=$(date +%s)
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
printf '%-22s %-26s %12s  %s\n' package target execs result
for t in "${targets[@]}"; do
  read -r pkg name <<<"$t"
  [[ $name =~ $only ]] || continue
  t0=$(date +%s)
  if go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize" "$pkg" >"$log" 2>&1; then
    result=ok
  else
    result=CRASHER
    failed=1
  fi
  execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
  printf '%-22s %-26s %12s  %s (%ss)\n' "$pkg" "$name" "${execs:-?}" "$result" "$(($(date +%s) - t0))"
  if [[ $result != ok ]]; then
    grep -v '^fuzz: elapsed' "$log" | head -40 | sed 's/^/    /'
  fi
done
echo "total: $(($(date +%s) - start))s"
exit "$failed"
