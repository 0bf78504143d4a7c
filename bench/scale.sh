#!/usr/bin/env bash
# Measures kant at platform scale in one run: bench/genplatform writes
# BENCH_JOBS jobs (10,000) under BENCH_SLOS SLOs (50) with BENCH_DAYS days
# (90) of daily runs (retries, failures, late runs, a few backfills), ending
# today; `kant import -evaluate=false` stores them; `kant serve` starts on
# that store. It reports:
#
#   import            observations per second of the import
#   first evaluation  kant serve's start to /readyz 200 on the store nobody
#                     judged yet: the index rebuilt and the whole retention
#                     window judged and written
#   restart           the same after kant serve is stopped and started again:
#                     the index rebuilt, the evaluator's checkpoint read and
#                     the dates that are not final judged; the load below
#                     runs against this second process
#   RSS               after ready, at the end, and the peak (VmHWM)
#   endpoints         wrk req/s and p99 of kant, of nginx serving the same
#                     body as a static file, and of bench/bare (a net/http
#                     handler writing it from memory), and kant's ratios to
#                     nginx: the gate for today and for 60 days back (100
#                     literal job keys), /v1/sla over 90 days and the status
#                     page of the busiest day
#
# It installs nothing: it needs wrk, nginx and curl (apt-get install wrk
# nginx curl). Environment: BENCH_JOBS (10000), BENCH_SLOS (50), BENCH_DAYS
# (90), BENCH_ASK (100), BENCH_DURATION (5s), BENCH_WARMUP (1s, 0 for none),
# BENCH_CONNS (100), BENCH_THREADS (2), BENCH_PORT (18180: kant; nginx +1;
# bare +10...), BENCH_KEEP (a directory to keep the work files in).
set -euo pipefail
cd "$(dirname "$0")/.."

njobs=${BENCH_JOBS:-10000}
nslos=${BENCH_SLOS:-50}
ndays=${BENCH_DAYS:-90}
nask=${BENCH_ASK:-100}
duration=${BENCH_DURATION:-5s}
warmup=${BENCH_WARMUP:-1s}
conns=${BENCH_CONNS:-100}
threads=${BENCH_THREADS:-2}
port=${BENCH_PORT:-18180}

missing=()
for tool in wrk nginx curl; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
  echo "scale.sh: missing ${missing[*]}: apt-get install wrk nginx curl" >&2
  exit 2
fi
if ((nask > njobs)); then
  echo "scale.sh: BENCH_ASK ($nask) is more than BENCH_JOBS ($njobs)" >&2
  exit 2
fi
kant_port=$port nginx_port=$((port + 1))
for p in "$kant_port" "$nginx_port" $((port + 10)) $((port + 11)) $((port + 12)) $((port + 13)); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "scale.sh: 127.0.0.1:$p is in use; set BENCH_PORT" >&2
    exit 2
  fi
done

if [[ -n ${BENCH_KEEP:-} ]]; then
  work=$BENCH_KEEP
  mkdir -p "$work"
  rm -rf "${work:?}"/*
else
  work=$(mktemp -d)
fi
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
cleanup() {
  stop
  if [[ -z ${BENCH_KEEP:-} ]]; then rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_ok URL NAME [TRIES]: waits (0.05s a try, 30s by default) for URL to
# answer 200.
wait_ok() {
  for _ in $(seq "${3:-600}"); do
    if [[ $(curl -s -o /dev/null -w '%{http_code}' "$1") == 200 ]]; then
      return 0
    fi
    sleep 0.05
  done
  echo "scale.sh: $2 did not answer 200 at $1" >&2
  for log in "$work"/*.log; do echo "--- $log" >&2; tail -20 "$log" >&2; done
  exit 1
}
rss_mib() { awk -v k="$2:" '$1 == k { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

echo "building kant, bench/bare and bench/genplatform"
go build -o "$work/kant" ./cmd/kant
go build -o "$work/bare" ./bench/bare
go build -o "$work/genplatform" ./bench/genplatform

today=$(date -u +%F)
back=$(date -u -d '60 days ago' +%F)
from=$(date -u -d "$((ndays - 1)) days ago" +%F)
"$work/genplatform" -jobs "$njobs" -slos "$nslos" -days "$ndays" -end "$today" \
  -config "$work/kant.yaml" -db "$work/kant.db" -listen "127.0.0.1:$kant_port" > "$work/runs.jsonl"
nobs=$(wc -l < "$work/runs.jsonl")
busiest=$(awk -F'"logical_date":"' '{ d = substr($2, 1, 10); n[d]++ } END { for (d in n) if (n[d] > m) { m = n[d]; b = d }; print b }' "$work/runs.jsonl")
echo "$njobs jobs, $nslos SLOs, $ndays days ($from..$today): $nobs observations, $(du -h "$work/runs.jsonl" | cut -f1)"

t0=$(date +%s.%N)
"$work/kant" import -evaluate=false -config "$work/kant.yaml" "$work/runs.jsonl" > "$work/import.log" 2>&1
t1=$(date +%s.%N)
import_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
import_rate=$(awk -v n="$nobs" -v s="$import_s" 'BEGIN { printf "%.0f", n / s }')

# serve_ready LOG: starts kant serve, waits for /readyz and sets kant_pid and
# ready_s (seconds from the start).
serve_ready() {
  local t0 t1
  t0=$(date +%s.%N)
  "$work/kant" serve -config "$work/kant.yaml" -log-level warn > "$work/$1" 2>&1 &
  kant_pid=$!
  pids+=("$kant_pid")
  wait_ok "http://127.0.0.1:$kant_port/readyz" kant 6000
  t1=$(date +%s.%N)
  ready_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
}
serve_ready kant-first.log
first_s=$ready_s
rss_first=$(rss_mib "$kant_pid" VmHWM)
kill "$kant_pid"
wait "$kant_pid" || true
pids=()
serve_ready kant.log
restart_s=$ready_s
rss_ready=$(rss_mib "$kant_pid" VmRSS)
# The RSS is sampled every 0.2s while the load runs.
(while kill -0 "$kant_pid" 2>/dev/null; do rss_mib "$kant_pid" VmRSS; echo; sleep 0.2; done) > "$work/rss.txt" 2>/dev/null &
pids+=($!)
sleep 5
rss_settled=$(rss_mib "$kant_pid" VmRSS)

keys=()
step=$((njobs / nask))
for ((i = 0; i < nask; i++)); do
  j=$((i * step))
  keys+=("$(printf 'bench/team_%02d/job_%05d' $((j % nslos)) "$j")")
done
jobs=$(IFS=,; echo "${keys[*]}")
names=(gate-today gate-60d sla-90d page-busiest)
declare -A path
path[gate-today]="/v1/gate?jobs=$jobs&date=$today"
path[gate-60d]="/v1/gate?jobs=$jobs&date=$back"
path[sla-90d]="/v1/sla?from=$from&to=$today"
path[page-busiest]="/?date=$busiest"

# nginx serves each body as the file www/NAME; bare, one process a body.
mkdir -p "$work/www" "$work/nginx"
for n in "${names[@]}"; do
  code=$(curl -s -o "$work/www/$n" -w '%{http_code}' "http://127.0.0.1:$kant_port${path[$n]}")
  echo "$n: kant answered $code, $(wc -c < "$work/www/$n") bytes"
done
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
declare -A bare_port
i=0
for n in "${names[@]}"; do
  bare_port[$n]=$((port + 10 + i))
  i=$((i + 1))
  "$work/bare" -listen "127.0.0.1:${bare_port[$n]}" -body "$work/www/$n" > "$work/bare-$n.log" 2>&1 &
  pids+=($!)
done
for n in "${names[@]}"; do
  wait_ok "http://127.0.0.1:$nginx_port/$n" nginx
  wait_ok "http://127.0.0.1:${bare_port[$n]}/" "bare $n"
done

# to_ms VALUE: a wrk duration (850.00us, 1.20ms, 1.01s, 1.50m) in ms.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    printf "%.2f", n }'
}
declare -A rps p99 rss_load
bench() { # bench KEY URL
  local out=$work/wrk-$1.txt
  if [[ $warmup != 0 ]]; then
    wrk -t"$threads" -c"$conns" -d"$warmup" "$2" > /dev/null
  fi
  wrk -t"$threads" -c"$conns" -d"$duration" --latency "$2" > "$out"
  # A gate's 404 or 409 is an answer; socket errors and timeouts are not.
  if grep -q -e 'Socket errors' "$out"; then
    echo "scale.sh: $1: $(grep -e 'Socket errors' "$out" | tr -s ' ')" >&2
  fi
  rps[$1]=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
  p99[$1]=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
}

echo "wrk -t$threads -c$conns -d$duration --latency, warm-up $warmup; $(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for n in "${names[@]}"; do
  bench "nginx-$n" "http://127.0.0.1:$nginx_port/$n"
  bench "bare-$n" "http://127.0.0.1:${bare_port[$n]}/"
  mark=$(wc -l < "$work/rss.txt")
  bench "kant-$n" "http://127.0.0.1:$kant_port${path[$n]}"
  rss_load[$n]=$(tail -n +"$((mark + 1))" "$work/rss.txt" | sort -n | tail -1)
done
rss_end=$(rss_mib "$kant_pid" VmRSS)
rss_peak=$(rss_mib "$kant_pid" VmHWM)
stop

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "kant at scale: $njobs jobs, $nslos SLOs, $ndays days, $nobs observations; $(nproc) CPUs"
echo
printf '%-34s %12s\n' measure value
printf '%-34s %12s\n' "import obs/s" "$import_rate"
printf '%-34s %12s\n' "import s" "$import_s"
printf '%-34s %12s\n' "first complete evaluation s" "$first_s"
printf '%-34s %12s\n' "  its peak RSS (VmHWM) MiB" "$rss_first"
printf '%-34s %12s\n' "restart to ready s" "$restart_s"
printf '%-34s %12s\n' "RSS at ready MiB" "$rss_ready"
printf '%-34s %12s\n' "RSS 5s after ready MiB" "$rss_settled"
printf '%-34s %12s\n' "RSS at the end MiB" "$rss_end"
printf '%-34s %12s\n' "RSS peak (VmHWM) MiB" "$rss_peak"
echo
printf '%-13s %8s %8s %8s %7s %8s %8s %8s %7s %8s\n' endpoint kant_rps nginx bare k/nginx kant_p99 nginx bare k/nginx rss_MiB
for n in "${names[@]}"; do
  printf '%-13s %8.0f %8.0f %8.0f %7s %8s %8s %8s %7s %8s\n' "$n" \
    "${rps[kant-$n]}" "${rps[nginx-$n]}" "${rps[bare-$n]}" "$(ratio "${rps[kant-$n]}" "${rps[nginx-$n]}")" \
    "${p99[kant-$n]}" "${p99[nginx-$n]}" "${p99[bare-$n]}" "$(ratio "${p99[kant-$n]}" "${p99[nginx-$n]}")" \
    "${rss_load[$n]}"
done
echo "(req/s and p99 ms; k/nginx: kant over nginx; rss_MiB: kant's peak RSS under that load)"
echo "(the RSS lines and the load are of the restarted process)"
echo "targets: RSS < 200 MiB; first evaluation < 3 s; gate >= 0.80x nginx req/s and p99 <= 2x nginx's; import >= 250000 obs/s"
