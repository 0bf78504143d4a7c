#!/usr/bin/env bash
# Measures alert latency on the real kant serve: from a pushed final failure
# to its Slack post, and from a deadline to the "missed" post, over
# BENCH_ALERTS (20) alerts each, on a local Slack Web API. Prints median and
# max; target: both under 1 s. Takes up to a minute and a half (it waits for
# the next whole minute at least 20 s away, the SLO's deadline).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/kant" ./cmd/kant
go run ./bench/alertlatency -kant "$tmp/kant" -n "${BENCH_ALERTS:-20}"
