#!/usr/bin/env bash
# Load-tests GET /v1/gate with wrk on loopback, next to two ceilings:
#
#   nginx  the same JSON body as a static file (the machine's ceiling)
#   bare   bench/bare, a net/http handler writing the body from memory (Go's)
#   kant   kant serve with 10,000 known jobs, one succeeded run each for
#          yesterday, asked about 100 of them: jobs= lists 100 literal keys
#          (bench/job_00000, bench/job_00100, ... bench/job_09900), so every
#          request looks up 100 keys; no glob
#   store  the same kant asked the same about a date 30 days back, older
#          than its index holds, which it answers by a store query
#
# and prints req/s, p50 and p99 of each and the ratios; target: kant at least
# 0.40x nginx. Then it runs the gate's Go benchmarks: the same answer from the
# index and from a store query per request (BENCH_GO=0 skips them).
#
# It installs nothing: it needs wrk and nginx (apt-get install wrk nginx).
# Environment: BENCH_DURATION (10s), BENCH_CONNS (64), BENCH_THREADS (2),
# BENCH_WARMUP (2s, 0 for none), BENCH_PORT (18080: nginx, +1 bare, +2 kant),
# BENCH_JOBS (10000), BENCH_ASK (100), BENCH_GO (1).
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${BENCH_DURATION:-10s}
conns=${BENCH_CONNS:-64}
threads=${BENCH_THREADS:-2}
warmup=${BENCH_WARMUP:-2s}
port=${BENCH_PORT:-18080}
njobs=${BENCH_JOBS:-10000}
nask=${BENCH_ASK:-100}

missing=()
for tool in wrk nginx curl; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
  echo "gate.sh: missing ${missing[*]}: apt-get install wrk nginx curl" >&2
  exit 2
fi
if ((nask > njobs)); then
  echo "gate.sh: BENCH_ASK ($nask) is more than BENCH_JOBS ($njobs)" >&2
  exit 2
fi
nginx_port=$port bare_port=$((port + 1)) kant_port=$((port + 2))
for p in "$nginx_port" "$bare_port" "$kant_port"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "gate.sh: 127.0.0.1:$p is in use; set BENCH_PORT" >&2
    exit 2
  fi
done

work=$(mktemp -d)
pids=()
stop() {
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  pids=()
}
trap 'stop; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# wait_ok URL NAME: waits up to 30s for URL to answer 200.
wait_ok() {
  for _ in $(seq 300); do
    if [[ $(curl -s -o /dev/null -w '%{http_code}' "$1") == 200 ]]; then
      return 0
    fi
    sleep 0.1
  done
  echo "gate.sh: $2 did not answer 200 at $1 within 30s" >&2
  for log in "$work"/*.log; do echo "--- $log" >&2; tail -20 "$log" >&2; done
  exit 1
}

echo "building kant and bench/bare"
go build -o "$work/kant" ./cmd/kant
go build -o "$work/bare" ./bench/bare

date=$(date -u -d yesterday +%F) # inside the index's window, and in the past
old=$(date -u -d '30 days ago' +%F) # older than the window (lookback + 7 days)
for d in "$old" "$date"; do
  go run ./bench/genruns -jobs "$njobs" -days 1 -end "$d" -retry-one-in 0 -running=false
done > "$work/runs.jsonl"
cat > "$work/kant.yaml" <<EOF
listen: "127.0.0.1:$kant_port"
store:
  sqlite: {path: $work/kant.db}
slos: []
EOF
"$work/kant" import -evaluate=false -config "$work/kant.yaml" "$work/runs.jsonl"

keys=()
step=$((njobs / nask))
for ((i = 0; i < nask; i++)); do
  keys+=("$(printf 'bench/job_%05d' $((i * step)))")
done
jobs=$(IFS=,; echo "${keys[*]}")
path="/v1/gate?jobs=$jobs&date=$date"

"$work/kant" serve -config "$work/kant.yaml" -log-level warn > "$work/kant.log" 2>&1 &
pids+=($!)
wait_ok "http://127.0.0.1:$kant_port/readyz" kant
status=$(curl -s -o "$work/answer.json" -w '%{http_code}' "http://127.0.0.1:$kant_port$path")
if [[ $status != 200 ]]; then
  echo "gate.sh: kant answered $status, want 200 (open):" >&2
  head -c 500 "$work/answer.json" >&2
  exit 1
fi

# nginx serves the answer as the file www/v1/gate, so all three take the
# same path and query (nginx ignores the query).
mkdir -p "$work/www/v1" "$work/nginx"
cp "$work/answer.json" "$work/www/v1/gate"
user=
if ((EUID == 0)); then
  user="user $(id -un) $(id -gn);"
fi
cat > "$work/nginx.conf" <<EOF
$user
daemon off;
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  sendfile on;
  tcp_nopush on;
  open_file_cache max=16;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/www;
    default_type application/json;
  }
}
EOF
nginx -p "$work/nginx" -e "$work/nginx/error.log" -c "$work/nginx.conf" > "$work/nginx.log" 2>&1 &
pids+=($!)
"$work/bare" -listen "127.0.0.1:$bare_port" -body "$work/answer.json" > "$work/bare.log" 2>&1 &
pids+=($!)
wait_ok "http://127.0.0.1:$nginx_port$path" nginx
wait_ok "http://127.0.0.1:$bare_port$path" bare

# to_ms VALUE: a wrk duration (850.00us, 1.20ms, 1.01s, 1.50m) in ms.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    printf "%.2f", n }'
}

declare -A rps p50 p99 bytes
bench() { # bench NAME PORT [PATH]
  local out=$work/wrk-$1.txt url="http://127.0.0.1:$2${3:-$path}"
  if [[ $warmup != 0 ]]; then
    wrk -t"$threads" -c"$conns" -d"$warmup" "$url" > /dev/null
  fi
  wrk -t"$threads" -c"$conns" -d"$duration" --latency "$url" > "$out"
  if grep -q -e 'Non-2xx' -e 'Socket errors' "$out"; then
    echo "gate.sh: $1 had errors:" >&2
    grep -e 'Non-2xx' -e 'Socket errors' "$out" >&2
  fi
  rps[$1]=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
  p50[$1]=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
  p99[$1]=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
  bytes[$1]=$(curl -s "$url" | wc -c)
}

echo "wrk -t$threads -c$conns -d$duration --latency, warm-up $warmup; $(nproc) CPUs; $njobs jobs, $nask asked, date $date (store: $old)"
echo "path: ${path:0:72}... (${#path} bytes)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (anything else running skews the figures)"
bench nginx "$nginx_port"
bench bare "$bare_port"
bench kant "$kant_port"
bench store "$kant_port" "/v1/gate?jobs=$jobs&date=$old"
stop

echo
printf '%-6s %12s %9s %9s %7s\n' server req/s p50_ms p99_ms bytes
for s in nginx bare kant store; do
  printf '%-6s %12.0f %9s %9s %7s\n' "$s" "${rps[$s]}" "${p50[$s]}" "${p99[$s]}" "${bytes[$s]}"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
kn=$(ratio "${rps[kant]}" "${rps[nginx]}")
echo
echo "kant/nginx $kn (target >= 0.40: $(awk -v r="$kn" 'BEGIN { print (r >= 0.40 ? "met" : "MISSED") }'))"
echo "bare/nginx $(ratio "${rps[bare]}" "${rps[nginx]}")"
echo "kant/bare  $(ratio "${rps[kant]}" "${rps[bare]}")"
echo "kant/store $(ratio "${rps[kant]}" "${rps[store]}") (what the index buys)"

if [[ ${BENCH_GO:-1} != 0 ]]; then
  echo
  echo "go test -bench Gate ./gate: the same answer from the index and from a store query"
  go test -run '^$' -bench 'BenchmarkGate' -benchmem ./gate
fi
