#!/usr/bin/env bash
# bench/shield.sh: flaskguard shield against its peers, on 127.0.0.1, in one run.
#
#   (a) a fast upstream (nginx `return 200`) direct
#   (b) the same through `flaskguard shield` with every default protection
#   (c) the same through nginx 1.22 as a reverse proxy with equivalent add_header lines
#   (d) examples/orders-hardened GET /api/orders (bearer token), 2 gunicorn workers:
#       plain Flask alone, plain Flask behind shield, and the app with flask-talisman +
#       flask-cors + flask-limiter (+ CSRFProtect) in-process, memory then Redis storage
#
# For each: requests/s, p50/p99 latency (wrk --latency) and the CPU time per request
# of the process under test (utime+stime from /proc over the run / requests). CPU per
# request is the figure to compare on a shared, noisy machine; req/s is not.
#
# Needs root for apt-get (wrk, nginx-light, redis-server) when they are missing, and
# the orders-hardened venv (scripts/test makes .venv/orders-hardened).
#   DURATION=10s CONNECTIONS=32 bench/shield.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
VENV=${FLASKGUARD_VENVS:-$ROOT/.venv}/orders-hardened

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx-light)
command -v redis-server >/dev/null || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "bench/shield.sh: missing ${need[*]} (install them, or run as root)" >&2
    exit 2
  fi
fi

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

RESULTS=$WORK/results.tsv
: > "$RESULTS"
# run NAME URL "PIDS" [wrk -H args...]: prints and records req/s, p50, p99, CPU us/req.
run() {
  local name=$1 url=$2 pids=$3; shift 3
  local t0 t1 out reqs rps p50 p99
  wrk -t "$THREADS" -c "$CONNECTIONS" -d 2s "$@" "$url" >/dev/null 2>&1 || true
  t0=$(ticks $pids)
  local s0=0 s1=0
  [ -n "${SPLIT_PIDS:-}" ] && s0=$(ticks $SPLIT_PIDS)
  out=$(wrk -t "$THREADS" -c "$CONNECTIONS" -d "$DURATION" --latency "$@" "$url")
  t1=$(ticks $pids)
  [ -n "${SPLIT_PIDS:-}" ] && s1=$(ticks $SPLIT_PIDS)
  reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  local non2xx
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $4}')
  local cpu
  cpu=$(awk -v d=$((t1 - t0)) -v r="$reqs" -v t="$TCK" 'BEGIN { printf "%.1f", d * 1e6 / t / r }')
  local split=""
  if [ -n "${SPLIT_PIDS:-}" ]; then
    split=$(awk -v d=$((s1 - s0)) -v r="$reqs" -v t="$TCK" -v l="$SPLIT_LABEL" 'BEGIN { printf "  (%s: %.1f)", l, d * 1e6 / t / r }')
  fi
  printf '%-46s %10s req/s  p50 %8s  p99 %8s  CPU %8s us/req%s%s\n' "$name" "$rps" "$p50" "$p99" "$cpu" "$split" "${non2xx:+  ($non2xx non-2xx!)}"
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$rps" "$p50" "$p99" "$cpu" >> "$RESULTS"
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

echo "flaskguard shield benchmark: wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) cores, $(nginx -v 2>&1 | sed 's/.*\///'), $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}')"
echo

# (a) the fast upstream
UP=$(free_port)
nginx_conf "$WORK/up" "server { listen 127.0.0.1:$UP; location / { default_type application/json; return 200 '{\"ok\":true}'; } }"
wait_port "$UP"
UP_PIDS=$(tree "$(cat "$WORK/up/nginx.pid")")

# (b) shield in front of it
SH=$(free_port)
cat > "$WORK/flaskguard.toml" <<CONF
[shield]
listen = "127.0.0.1:$SH"
upstream = "http://127.0.0.1:$UP"
allowed_hosts = ["127.0.0.1"]
[shield.audit_log]
path = "$WORK/audit.log"
CONF
"$FG" shield --config "$WORK/flaskguard.toml" 2>"$WORK/shield.err" &
SHIELD_PID=$!
PIDS+=("$SHIELD_PID")
wait_port "$SH"

# (c) nginx as the same reverse proxy
NP=$(free_port)
NGINX_WORKERS=2 nginx_conf "$WORK/proxy" "
  upstream app { server 127.0.0.1:$UP; keepalive 64; }
  server {
    listen 127.0.0.1:$NP;
    client_max_body_size 10m;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$remote_addr;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Forwarded-Host \$host;
      proxy_set_header X-Request-Id \$request_id;
      proxy_hide_header X-Powered-By;
      add_header Content-Security-Policy \"default-src 'none'; frame-ancestors 'none'\" always;
      add_header X-Frame-Options DENY always;
      add_header X-Content-Type-Options nosniff always;
      add_header Referrer-Policy strict-origin-when-cross-origin always;
      add_header Permissions-Policy \"geolocation=(), microphone=(), camera=()\" always;
      add_header Cross-Origin-Opener-Policy same-origin always;
      add_header Cross-Origin-Resource-Policy same-origin always;
      add_header X-Request-Id \$request_id always;
    }
  }"
wait_port "$NP"
NP_PIDS=$(tree "$(cat "$WORK/proxy/nginx.pid")")

run "(a) upstream direct (nginx return 200)" "http://127.0.0.1:$UP/api/orders" "$UP_PIDS"
run "(b) through flaskguard shield" "http://127.0.0.1:$SH/api/orders" "$SHIELD_PID"
run "(c) through nginx proxy + add_header" "http://127.0.0.1:$NP/api/orders" "$NP_PIDS"
echo
lat "(a) upstream direct" "http://127.0.0.1:$UP/api/orders"
lat "(b) through flaskguard shield" "http://127.0.0.1:$SH/api/orders"
lat "(c) through nginx proxy" "http://127.0.0.1:$NP/api/orders"
echo

# (d) orders-hardened
if [ -x "$VENV/bin/gunicorn" ]; then
  REDIS_PORT=$(free_port)
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no >/dev/null 2>&1 &
  PIDS+=("$!")
  wait_port "$REDIS_PORT"
  export SECRET_KEY=bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
  export ALLOWED_HOSTS=127.0.0.1 ORDERS_DEMO_PASSWORD=bench-password-123 CORS_ORIGINS=https://app.example
  export ORDERS_DB=$WORK/orders.db DATABASE_PATH=$WORK/orders.db WEB_CONCURRENCY=2
  export RATELIMIT_DEFAULT="100000000 per hour"
  gunicorn_start() { # mode storage -> sets G_PORT, G_PID
    G_PORT=$(free_port)
    (cd examples/orders-hardened && BENCH_MODE=$1 RATELIMIT_STORAGE_URI=$2 GUNICORN_BIND=127.0.0.1:$G_PORT \
      exec "$VENV/bin/gunicorn" -c gunicorn.conf.py --pythonpath "$ROOT/bench" --access-logfile /dev/null orders_bench_wsgi:app) \
      >"$WORK/gunicorn-$1.log" 2>&1 &
    G_PID=$!
    PIDS+=("$G_PID")
    wait_port "$G_PORT"
    sleep 1
  }
  gunicorn_stop() { kill "$G_PID" 2>/dev/null || true; wait "$G_PID" 2>/dev/null || true; }

  gunicorn_start plain memory://
  TOKEN=$(curl -s -X POST -H 'Content-Type: application/json' \
    -d '{"email":"alice@example.com","password":"bench-password-123"}' \
    "http://127.0.0.1:$G_PORT/api/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  AUTH=(-H "Authorization: Bearer $TOKEN")
  run "(d1) plain Flask, gunicorn alone" "http://127.0.0.1:$G_PORT/api/orders" "$(tree "$G_PID")" "${AUTH[@]}"
  SH2=$(free_port)
  cat > "$WORK/orders.toml" <<CONF
[shield]
listen = "127.0.0.1:$SH2"
upstream = "http://127.0.0.1:$G_PORT"
allowed_hosts = ["127.0.0.1"]
[shield.audit_log]
path = "$WORK/audit2.log"
CONF
  "$FG" shield --config "$WORK/orders.toml" 2>"$WORK/shield2.err" &
  S2=$!
  PIDS+=("$S2")
  wait_port "$SH2"
  SPLIT_PIDS=$S2 SPLIT_LABEL="shield's part" \
    run "(d2) plain Flask behind shield (both)" "http://127.0.0.1:$SH2/api/orders" "$(tree "$G_PID") $S2" "${AUTH[@]}"
  kill "$S2"
  gunicorn_stop

  # The same over a unix socket (gunicorn --bind unix:): no TCP handshake per request,
  # which matters because gunicorn's sync workers close every connection.
  SOCK=$WORK/gunicorn.sock
  (cd examples/orders-hardened && BENCH_MODE=plain RATELIMIT_STORAGE_URI=memory:// GUNICORN_BIND=unix:$SOCK \
    exec "$VENV/bin/gunicorn" -c gunicorn.conf.py --pythonpath "$ROOT/bench" --access-logfile /dev/null orders_bench_wsgi:app) \
    >"$WORK/gunicorn-unix.log" 2>&1 &
  G_PID=$!
  PIDS+=("$G_PID")
  for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
  sleep 1
  SH3=$(free_port)
  sed -e "s|^listen = .*|listen = \"127.0.0.1:$SH3\"|" -e "s|^upstream = .*|upstream = \"unix:$SOCK\"|" "$WORK/orders.toml" > "$WORK/orders-unix.toml"
  "$FG" shield --config "$WORK/orders-unix.toml" 2>"$WORK/shield3.err" &
  S3=$!
  PIDS+=("$S3")
  wait_port "$SH3"
  SPLIT_PIDS=$S3 SPLIT_LABEL="shield's part" \
    run "(d2u) plain Flask behind shield, unix socket" "http://127.0.0.1:$SH3/api/orders" "$(tree "$G_PID") $S3" "${AUTH[@]}"
  kill "$S3"
  gunicorn_stop

  gunicorn_start extensions memory://
  run "(d3) Talisman+CORS+Limiter(memory)+CSRF" "http://127.0.0.1:$G_PORT/api/orders" "$(tree "$G_PID")" "${AUTH[@]}"
  gunicorn_stop
  gunicorn_start extensions "redis://127.0.0.1:$REDIS_PORT/0"
  run "(d4) Talisman+CORS+Limiter(Redis)+CSRF" "http://127.0.0.1:$G_PORT/api/orders" "$(tree "$G_PID")" "${AUTH[@]}"
  gunicorn_stop
else
  echo "(d) skipped: $VENV is missing (run scripts/test once)"
fi

echo
echo "ratios (CPU per request of the process under test; lower is better):"
a=$(field "(a) upstream direct (nginx return 200)" 5)
b=$(field "(b) through flaskguard shield" 5)
c=$(field "(c) through nginx proxy + add_header" 5)
awk -v a="$a" -v b="$b" -v c="$c" 'BEGIN {
  printf "  shield / nginx proxy CPU per request:  %.2fx  (target <= 1.0, at most 1.5 for now)\n", b / c
  printf "  nginx static reply CPU per request:    %.1f us\n", a }'
lfield() { awk -F'\t' -v n="$1" -v c="$2" '$1==n {print $c}' "$LAT"; }
for q in 2 3; do
  pa=$(to_us "$(lfield "(a) upstream direct" $q)")
  pb=$(to_us "$(lfield "(b) through flaskguard shield" $q)")
  pc=$(to_us "$(lfield "(c) through nginx proxy" $q)")
  awk -v a="$pa" -v b="$pb" -v c="$pc" -v q="$([ $q = 2 ] && echo p50 || echo p99)" 'BEGIN {
    printf "  %s added by shield (one connection):   %.0f us  (nginx proxy: %.0f us; target p99 < 1000)\n", q, b - a, c - a }'
done
d1=$(field "(d1) plain Flask, gunicorn alone" 5)
if [ -n "$d1" ]; then
  d2=$(field "(d2) plain Flask behind shield (both)" 5)
  d3=$(field "(d3) Talisman+CORS+Limiter(memory)+CSRF" 5)
  d4=$(field "(d4) Talisman+CORS+Limiter(Redis)+CSRF" 5)
  d2u=$(field "(d2u) plain Flask behind shield, unix socket" 5)
  awk -v d1="$d1" -v d2="$d2" -v d2u="$d2u" -v d3="$d3" -v d4="$d4" 'BEGIN {
    printf "  shield + plain Flask / plain Flask:    %.2fx over TCP, %.2fx over a unix socket  (target <= 1.10)\n", d2 / d1, d2u / d1
    printf "  in-process extensions (memory) / plain: %.2fx\n", d3 / d1
    printf "  in-process extensions (Redis) / plain:  %.2fx\n", d4 / d1 }'
fi
