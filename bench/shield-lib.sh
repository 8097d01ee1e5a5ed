# bench/shield-lib.sh: helpers shared by bench/shield.sh and bench/shield-ratelimit.sh
# (sourced, not run): the release build, a work directory cleaned up on exit, free
# ports, process trees and their CPU ticks, nginx instances, and `run`/`lat`, which
# drive wrk and record req/s, p50/p99 and CPU per request in $RESULTS / $LAT.
# Expects ROOT, DURATION, CONNECTIONS and THREADS to be set.

cargo build --release -q -p flaskguard
FG=$ROOT/target/release/flaskguard
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for f in "$WORK"/*/nginx.pid; do [ -f "$f" ] && kill -QUIT "$(cat "$f")" 2>/dev/null || true; done
  sleep 0.5
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "nothing on port $1" >&2; exit 1; }
TCK=$(getconf CLK_TCK)

# The pids of a process and all its descendants.
tree() {
  local out=$1 kids
  kids=$(pgrep -P "$1" || true)
  for k in $kids; do out="$out $(tree "$k")"; done
  echo "$out"
}
# utime+stime of the given pids, in clock ticks.
ticks() {
  local sum=0 p f
  for p in "$@"; do
    f=$(cut -d')' -f2- "/proc/$p/stat" 2>/dev/null) || continue
    set -- $f
    sum=$((sum + ${12} + ${13}))
  done
  echo $sum
}

nginx_conf() { # dir, server block
  mkdir -p "$1"
  cat > "$1/nginx.conf" <<CONF
worker_processes ${NGINX_WORKERS:-1};
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  server_tokens off;
  client_body_temp_path $1/body;
  proxy_temp_path $1/proxy;
  fastcgi_temp_path $1/fcgi;
  uwsgi_temp_path $1/uwsgi;
  scgi_temp_path $1/scgi;
  $2
}
CONF
  nginx -p "$1" -c "$1/nginx.conf"
}

# gunicorn on TCP runs with --reuse-port in every row: each worker gets a listening
# socket of its own and the kernel spreads a load generator's (or a proxy's) kept
# connections over the workers. Without it the workers race to accept from one
# socket, and gthread sometimes ends with most of a burst of 32 keep-alive
# connections on one worker: half the req/s and about 20% more CPU per request, in
# whichever row it happens to, which made single rounds swing by ±10%. (Not for
# unix sockets: gunicorn cannot set SO_REUSEPORT on them.)
REUSE_PORT=(--reuse-port)
# spread PORT: how many established connections each gunicorn worker holds on PORT
# right now ("17 15"), sorted, largest first.
spread() {
  ss -Htnp state established "( sport = :$1 )" 2>/dev/null | grep -o 'pid=[0-9]*' | sort | uniq -c |
    sort -rn | awk '{ printf "%s%s", (NR > 1 ? "/" : ""), $1 }'
}

RESULTS=$WORK/results.tsv
: > "$RESULTS"
# run NAME URL "PIDS" [wrk -H args...]: prints and records req/s, p50, p99, CPU us/req.
# SPLIT_PIDS/SPLIT_LABEL (and SPLIT2_…) show the part of some of the pids.
run() {
  local name=$1 url=$2 pids=$3; shift 3
  local t0 t1 out reqs rps p50 p99
  wrk -t "$THREADS" -c "$CONNECTIONS" -d 2s "$@" "$url" >/dev/null 2>&1 || true
  t0=$(ticks $pids)
  local s0=0 s1=0 u0=0 u1=0
  [ -n "${SPLIT_PIDS:-}" ] && s0=$(ticks $SPLIT_PIDS)
  [ -n "${SPLIT2_PIDS:-}" ] && u0=$(ticks $SPLIT2_PIDS)
  local sf=$WORK/spread.$$ sampler=""
  : > "$sf"
  if [ -n "${SPREAD_PORT:-}" ]; then
    # Sampled halfway through the run (DURATION in seconds, e.g. 10s): which worker
    # holds the connections.
    (sleep "$(awk -v d="${DURATION%s}" 'BEGIN { print d / 2 }')"; spread "$SPREAD_PORT" > "$sf") &
    sampler=$!
  fi
  out=$(wrk -t "$THREADS" -c "$CONNECTIONS" -d "$DURATION" --latency "$@" "$url")
  [ -n "$sampler" ] && wait "$sampler"
  t1=$(ticks $pids)
  [ -n "${SPLIT_PIDS:-}" ] && s1=$(ticks $SPLIT_PIDS)
  [ -n "${SPLIT2_PIDS:-}" ] && u1=$(ticks $SPLIT2_PIDS)
  reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  local non2xx
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  local cpu
  cpu=$(awk -v d=$((t1 - t0)) -v r="$reqs" -v t="$TCK" 'BEGIN { printf "%.1f", d * 1e6 / t / r }')
  local split=""
  if [ -n "${SPLIT_PIDS:-}" ]; then
    split=$(awk -v d=$((s1 - s0)) -v r="$reqs" -v t="$TCK" -v l="$SPLIT_LABEL" 'BEGIN { printf "  (%s: %.1f)", l, d * 1e6 / t / r }')
  fi
  if [ -n "${SPLIT2_PIDS:-}" ]; then
    split="$split$(awk -v d=$((u1 - u0)) -v r="$reqs" -v t="$TCK" -v l="$SPLIT2_LABEL" 'BEGIN { printf " (%s: %.1f)", l, d * 1e6 / t / r }')"
  fi
  [ -s "$sf" ] && split="$split  [connections per gunicorn worker: $(cat "$sf")]"
  printf '%-46s %10s req/s  p50 %8s  p99 %8s  CPU %8s us/req%s%s\n' "$name" "$rps" "$p50" "$p99" "$cpu" "$split" "${non2xx:+  ($non2xx non-2xx!)}"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$rps" "$p50" "$p99" "$cpu" "$reqs" >> "$RESULTS"
}
LAT=$WORK/latency.tsv
: > "$LAT"
# lat NAME URL: one connection, one request at a time, so p50/p99 show the time a
# request spends in each hop rather than queueing behind 32 others on 2 cores.
lat() {
  local out p50 p99
  out=$(wrk -t1 -c1 -d "${LATENCY_DURATION:-5s}" --latency "$2")
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  printf '%-46s one connection: p50 %8s  p99 %8s\n' "$1" "$p50" "$p99"
  printf '%s\t%s\t%s\n' "$1" "$p50" "$p99" >> "$LAT"
}
to_us() { # wrk latency (123.45us, 1.23ms, 1.2s) -> microseconds
  awk -v v="$1" 'BEGIN { n=v+0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n*1000; else if (v ~ /s$/) print n*1e6; else print n }'
}
field() { awk -F'\t' -v n="$1" -v c="$2" '$1==n {print $c}' "$RESULTS"; }
# mfield NAME COLUMN: the median of a column over every run recorded under NAME.
mfield() {
  awk -F'\t' -v n="$1" -v c="$2" '$1==n {print $c}' "$RESULTS" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
