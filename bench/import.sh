#!/usr/bin/env bash
# Times `kant import` of one million observations (target: at least 100,000
# observations per second), on a fresh embedded store, with hyperfine when it
# is installed (Debian package hyperfine) and plain `time` otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/kant" ./cmd/kant
go run ./bench/genruns -jobs 5000 -days 100 -n 1000000 > "$work/runs.jsonl"
echo "observations: $(wc -l < "$work/runs.jsonl"), $(du -h "$work/runs.jsonl" | cut -f1)"
printf 'store:\n  sqlite: {path: %s/kant.db}\nslos: []\n' "$work" > "$work/kant.yaml"
run() { rm -f "$work"/kant.db*; "$work/kant" import -evaluate=false -config "$work/kant.yaml" "$work/runs.jsonl"; }
if command -v hyperfine >/dev/null; then
  export -f run; export work
  hyperfine --runs 3 --shell bash run
fi
run
