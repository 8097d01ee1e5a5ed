#!/usr/bin/env bash
# bench/shield.sh: flaskguard shield against its peers, on 127.0.0.1, in one run.
#
#   (a) a fast upstream (nginx `return 200`) direct
#   (b) the same through `flaskguard shield` with every default protection
#   (c) the same through nginx 1.22 as a reverse proxy with equivalent add_header lines
#   (d) examples/orders-hardened GET /api/orders (bearer token), its gunicorn.conf.py
#       (2 gthread workers, keep-alive): plain Flask alone, plain Flask behind shield
#       (over TCP and over a unix socket) and behind nginx, in ROUNDS interleaved
#       rounds (medians), one gunicorn instance per row, with --reuse-port on TCP
#       (see shield-lib.sh) and the connections each worker holds printed; (s) the same on gunicorn's default sync workers, which
#       close every connection; the headers a proxy adds, costed in the app in-process
#       (bench/proxy_headers.py); and the app with flask-talisman + flask-cors +
#       flask-limiter (+ CSRFProtect) in-process, memory then Redis storage
#   then bench/shield-ratelimit.sh: rate limiting in shield (memory, Redis) against
#   flask-limiter in-process (memory, Redis), and both with Redis down.
#
# shield runs with its defaults, rate limiting included (the global limit raised so
# that wrk, one client, is not refused: every request is still counted and decided).
#
# For each: requests/s, p50/p99 latency (wrk --latency) and the CPU time per request
# of the process under test (utime+stime from /proc over the run / requests). CPU per
# request is the figure to compare on a shared, noisy machine; req/s is not.
#
# Needs root for apt-get (wrk, nginx-light, redis-server) when they are missing, and
# the orders-hardened venv (scripts/test makes .venv/orders-hardened).
#   DURATION=10s CONNECTIONS=32 ROUNDS=3 bench/shield.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
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

. "$ROOT/bench/shield-lib.sh"

# shield runs its default worker count ("auto": one per two CPUs, at least one);
# nginx, where it is the proxy, gets as many worker processes.
PROXY_WORKERS=$(( $(nproc) / 2 )); [ "$PROXY_WORKERS" -ge 1 ] || PROXY_WORKERS=1
echo "flaskguard shield benchmark: wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) cores, proxies with $PROXY_WORKERS worker(s), $(nginx -v 2>&1 | sed 's/.*\///'), $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}')"
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
# The default global limit (1200 per minute per client) would refuse wrk, one client
# at thousands of requests per second: raise it, the limiter still decides each one.
[shield.rate_limit]
global_limit = ["1000000 per hour"]
CONF
"$FG" shield --config "$WORK/flaskguard.toml" 2>"$WORK/shield.err" &
SHIELD_PID=$!
PIDS+=("$SHIELD_PID")
wait_port "$SH"

# (c) nginx as the same reverse proxy
NP=$(free_port)
# What shield adds and strips by default, as nginx directives (for (c) and (d2n)).
PROXY_HEADERS="proxy_set_header Host \$host;
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
      add_header X-Request-Id \$request_id always;"
NGINX_WORKERS=$PROXY_WORKERS nginx_conf "$WORK/proxy" "
  upstream app { server 127.0.0.1:$UP; keepalive 64; }
  server {
    listen 127.0.0.1:$NP;
    client_max_body_size 10m;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
      $PROXY_HEADERS
    }
  }"
wait_port "$NP"
NP_PIDS=$(tree "$(cat "$WORK/proxy/nginx.pid")")

run "(a) upstream direct (nginx return 200)" "http://127.0.0.1:$UP/api/orders" "$UP_PIDS"
run "(b) through flaskguard shield" "http://127.0.0.1:$SH/api/orders" "$SHIELD_PID"
run "(c) through nginx proxy + add_header" "http://127.0.0.1:$NP/api/orders" "$NP_PIDS"
echo
for _ in $(seq "$ROUNDS"); do
  lat "(a) upstream direct" "http://127.0.0.1:$UP/api/orders"
  lat "(b) through flaskguard shield" "http://127.0.0.1:$SH/api/orders"
  lat "(c) through nginx proxy" "http://127.0.0.1:$NP/api/orders"
done
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
      exec "$VENV/bin/gunicorn" -c gunicorn.conf.py "${REUSE_PORT[@]}" --pythonpath "$ROOT/bench" --access-logfile /dev/null orders_bench_wsgi:app) \
      >"$WORK/gunicorn-$1.log" 2>&1 &
    G_PID=$!
    PIDS+=("$G_PID")
    wait_port "$G_PORT"
    sleep 1
  }
  gunicorn_stop() { kill "$G_PID" 2>/dev/null || true; wait "$G_PID" 2>/dev/null || true; }

  gunicorn_start_at() { # mode bind [extra gunicorn args...] -> sets G_PID
    local mode=$1 bind=$2; shift 2
    (cd examples/orders-hardened && BENCH_MODE=$mode RATELIMIT_STORAGE_URI=memory:// GUNICORN_BIND=$bind \
      exec "$VENV/bin/gunicorn" -c gunicorn.conf.py "$@" --pythonpath "$ROOT/bench" --access-logfile /dev/null orders_bench_wsgi:app) \
      >>"$WORK/gunicorn-$mode.log" 2>&1 &
    G_PID=$!
    PIDS+=("$G_PID")
  }
  shield_for() { # name port upstream -> starts shield, sets S_PID
    cat > "$WORK/$1.toml" <<CONF
[shield]
listen = "127.0.0.1:$2"
upstream = "$3"
allowed_hosts = ["127.0.0.1"]
[shield.audit_log]
path = "$WORK/$1-audit.log"
[shield.rate_limit]
global_limit = ["1000000 per hour"]
CONF
    "$FG" shield --config "$WORK/$1.toml" 2>"$WORK/$1.err" &
    S_PID=$!
    PIDS+=("$S_PID")
    wait_port "$2"
  }

  # The app as shipped: examples/orders-hardened/gunicorn.conf.py runs 2 gthread
  # workers that keep connections open, so shield (and nginx with an upstream
  # `keepalive`) reuse their connections to the app. One identical instance per
  # row (direct, shield over TCP, shield over a unix socket, nginx): connections a
  # proxy keeps open to an instance would otherwise weigh on the rows of another
  # client of the same instance (with one instance shared by shield and nginx,
  # their rows differed by up to 10% in the app's CPU per request alone).
  G_PORT=$(free_port)
  gunicorn_start_at plain "127.0.0.1:$G_PORT" "${REUSE_PORT[@]}"
  G_KA=$G_PID
  G_PORT2=$(free_port)
  gunicorn_start_at plain "127.0.0.1:$G_PORT2" "${REUSE_PORT[@]}"
  G_KA2=$G_PID
  G_PORT3=$(free_port)
  gunicorn_start_at plain "127.0.0.1:$G_PORT3" "${REUSE_PORT[@]}"
  G_KA3=$G_PID
  SOCK_KA=$WORK/gunicorn-ka.sock
  gunicorn_start_at plain "unix:$SOCK_KA"
  G_KAU=$G_PID
  wait_port "$G_PORT"
  wait_port "$G_PORT2"
  wait_port "$G_PORT3"
  for _ in $(seq 100); do [ -S "$SOCK_KA" ] && break; sleep 0.1; done
  sleep 1
  TOKEN=$(curl -s -X POST -H 'Content-Type: application/json' \
    -d '{"email":"alice@example.com","password":"bench-password-123"}' \
    "http://127.0.0.1:$G_PORT/api/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  AUTH=(-H "Authorization: Bearer $TOKEN")
  SH4=$(free_port)
  shield_for orders-ka "$SH4" "http://127.0.0.1:$G_PORT2"
  S4=$S_PID
  SH5=$(free_port)
  shield_for orders-ka-unix "$SH5" "unix:$SOCK_KA"
  S5=$S_PID
  NP4=$(free_port)
  NGINX_WORKERS=$PROXY_WORKERS nginx_conf "$WORK/proxy-flask-ka" "
  upstream flask { server 127.0.0.1:$G_PORT3; keepalive 64; }
  server {
    listen 127.0.0.1:$NP4;
    location / {
      proxy_pass http://flask;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
      $PROXY_HEADERS
    }
  }"
  wait_port "$NP4"
  NP4_PIDS=$(tree "$(cat "$WORK/proxy-flask-ka/nginx.pid")")
  # Rounds, interleaved, so that a change in the machine's load hits every row alike;
  # the ratios below use each row's median.
  for round in $(seq "$ROUNDS"); do
    [ "$ROUNDS" -gt 1 ] && echo "  round $round of $ROUNDS (gunicorn.conf.py as shipped: gthread workers, keep-alive)"
    SPREAD_PORT=$G_PORT \
      run "(d1) plain Flask, gunicorn alone" "http://127.0.0.1:$G_PORT/api/orders" "$(tree "$G_KA")" "${AUTH[@]}"
    SPLIT_PIDS=$S4 SPLIT_LABEL="shield's part" SPREAD_PORT=$G_PORT2 \
      run "(d2) plain Flask behind shield (both)" "http://127.0.0.1:$SH4/api/orders" "$(tree "$G_KA2") $S4" "${AUTH[@]}"
    SPLIT_PIDS=$S5 SPLIT_LABEL="shield's part" \
      run "(d2u) plain Flask behind shield, unix socket" "http://127.0.0.1:$SH5/api/orders" "$(tree "$G_KAU") $S5" "${AUTH[@]}"
    SPLIT_PIDS=$NP4_PIDS SPLIT_LABEL="nginx's part" SPREAD_PORT=$G_PORT3 \
      run "(d2n) plain Flask behind nginx (both)" "http://127.0.0.1:$NP4/api/orders" "$(tree "$G_KA3") $NP4_PIDS" "${AUTH[@]}"
  done
  kill "$S4" "$S5" "$G_KA" "$G_KA2" "$G_KA3" "$G_KAU" 2>/dev/null || true
  kill -QUIT "$(cat "$WORK/proxy-flask-ka/nginx.pid")" 2>/dev/null || true
  wait "$G_KA" "$G_KA2" "$G_KA3" "$G_KAU" 2>/dev/null || true

  # Part of the app's own CPU behind any proxy: its ProxyFix and Werkzeug reading the
  # headers the proxy adds (those shield sends), measured in-process without a server.
  echo
  (cd examples/orders-hardened && BENCH_MODE=plain RATELIMIT_STORAGE_URI=memory:// \
    "$VENV/bin/python" "$ROOT/bench/proxy_headers.py" "$TOKEN" "X-Forwarded-For: 127.0.0.1" \
    "X-Forwarded-Proto: http" "X-Forwarded-Host: 127.0.0.1" "X-Request-Id: 0123456789abcdef")
  echo

  # The same app on gunicorn's default sync workers (`--worker-class sync`), which
  # close every connection after its response: any proxy in front then opens a new
  # upstream connection per request (nginx shown as the reference for that place).
  SYNC=(--worker-class sync --threads 1)
  G_PORT=$(free_port)
  gunicorn_start_at plain "127.0.0.1:$G_PORT" "${SYNC[@]}"
  G_TCP=$G_PID
  SOCK=$WORK/gunicorn.sock
  gunicorn_start_at plain "unix:$SOCK" "${SYNC[@]}"
  G_UNIX=$G_PID
  wait_port "$G_PORT"
  for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
  sleep 1
  SH2=$(free_port)
  shield_for orders "$SH2" "http://127.0.0.1:$G_PORT"
  S2=$S_PID
  SH3=$(free_port)
  shield_for orders-unix "$SH3" "unix:$SOCK"
  S3=$S_PID
  NP2=$(free_port)
  NGINX_WORKERS=$PROXY_WORKERS nginx_conf "$WORK/proxy-flask" "
  upstream flask { server 127.0.0.1:$G_PORT; }
  server {
    listen 127.0.0.1:$NP2;
    location / {
      proxy_pass http://flask;
      $PROXY_HEADERS
    }
  }"
  wait_port "$NP2"
  NP2_PIDS=$(tree "$(cat "$WORK/proxy-flask/nginx.pid")")
  for round in $(seq "$ROUNDS"); do
    [ "$ROUNDS" -gt 1 ] && echo "  round $round of $ROUNDS (sync workers)"
    run "(s1) sync workers, plain Flask alone" "http://127.0.0.1:$G_PORT/api/orders" "$(tree "$G_TCP")" "${AUTH[@]}"
    SPLIT_PIDS=$S2 SPLIT_LABEL="shield's part" \
      run "(s2) sync workers behind shield (both)" "http://127.0.0.1:$SH2/api/orders" "$(tree "$G_TCP") $S2" "${AUTH[@]}"
    SPLIT_PIDS=$S3 SPLIT_LABEL="shield's part" \
      run "(s2u) sync workers behind shield, unix socket" "http://127.0.0.1:$SH3/api/orders" "$(tree "$G_UNIX") $S3" "${AUTH[@]}"
    SPLIT_PIDS=$NP2_PIDS SPLIT_LABEL="nginx's part" \
      run "(s2n) sync workers behind nginx (both)" "http://127.0.0.1:$NP2/api/orders" "$(tree "$G_TCP") $NP2_PIDS" "${AUTH[@]}"
  done
  kill "$S2" "$S3" "$G_TCP" "$G_UNIX" 2>/dev/null || true
  kill -QUIT "$(cat "$WORK/proxy-flask/nginx.pid")" 2>/dev/null || true
  wait "$G_TCP" "$G_UNIX" 2>/dev/null || true

  # The in-process extensions, on the shipped workers like (d1).
  gunicorn_start extensions memory://
  SPREAD_PORT=$G_PORT run "(d3) Talisman+CORS+Limiter(memory)+CSRF" "http://127.0.0.1:$G_PORT/api/orders" "$(tree "$G_PID")" "${AUTH[@]}"
  gunicorn_stop
  gunicorn_start extensions "redis://127.0.0.1:$REDIS_PORT/0"
  SPREAD_PORT=$G_PORT run "(d4) Talisman+CORS+Limiter(Redis)+CSRF" "http://127.0.0.1:$G_PORT/api/orders" "$(tree "$G_PID")" "${AUTH[@]}"
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
# The median over the rounds of each latency figure, in microseconds.
lfield() {
  local v
  for v in $(awk -F'\t' -v n="$1" -v c="$2" '$1==n {print $c}' "$LAT"); do to_us "$v"; done | sort -g |
    awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
for q in 2 3; do
  pa=$(lfield "(a) upstream direct" $q)
  pb=$(lfield "(b) through flaskguard shield" $q)
  pc=$(lfield "(c) through nginx proxy" $q)
  awk -v a="$pa" -v b="$pb" -v c="$pc" -v r="$ROUNDS" -v q="$([ $q = 2 ] && echo p50 || echo p99)" 'BEGIN {
    printf "  %s added by shield (one connection, median of %d): %.0f us  (nginx proxy: %.0f us; target p99 < 1000)\n", q, r, b - a, c - a }'
done
d1=$(mfield "(d1) plain Flask, gunicorn alone" 5)
if [ -n "$d1" ]; then
  d2=$(mfield "(d2) plain Flask behind shield (both)" 5)
  d2u=$(mfield "(d2u) plain Flask behind shield, unix socket" 5)
  d2n=$(mfield "(d2n) plain Flask behind nginx (both)" 5)
  d3=$(field "(d3) Talisman+CORS+Limiter(memory)+CSRF" 5)
  d4=$(field "(d4) Talisman+CORS+Limiter(Redis)+CSRF" 5)
  s1=$(mfield "(s1) sync workers, plain Flask alone" 5)
  s2=$(mfield "(s2) sync workers behind shield (both)" 5)
  s2u=$(mfield "(s2u) sync workers behind shield, unix socket" 5)
  s2n=$(mfield "(s2n) sync workers behind nginx (both)" 5)
  awk -v d1="$d1" -v d2="$d2" -v d2u="$d2u" -v d2n="$d2n" -v d3="$d3" -v d4="$d4" -v s1="$s1" -v s2="$s2" -v s2u="$s2u" -v s2n="$s2n" -v r="$ROUNDS" 'BEGIN {
    printf "  (d) medians of %d rounds, CPU per request of app + proxy / app alone, same workers (target <= 1.10):\n", r
    printf "    shield, the shipped gthread workers:   %.2fx   over a unix socket %.2fx   (nginx with keepalive in the same place: %.2fx)\n", d2 / d1, d2u / d1, d2n / d1
    printf "    shield, sync workers:                  %.2fx   over a unix socket %.2fx   (nginx in the same place: %.2fx)\n", s2 / s1, s2u / s1, s2n / s1
    printf "  in-process extensions (memory) / plain: %.2fx\n", d3 / d1
    printf "  in-process extensions (Redis) / plain:  %.2fx\n", d4 / d1 }'
fi

echo
if [ "${SKIP_RATELIMIT:-}" != 1 ]; then
  "$ROOT/bench/shield-ratelimit.sh"
fi
