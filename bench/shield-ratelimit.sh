#!/usr/bin/env bash
# bench/shield-ratelimit.sh: rate limiting in shield against flask-limiter, on
# 127.0.0.1, in one run (also called at the end of bench/shield.sh).
#
#   (q) the cost of a decision alone: shield in front of nginx `return 200`, with
#       its limiter's counters in memory, then in Redis (one EVALSHA per request),
#       all requests from one client (one counter); (q1m)/(q2m) the same from 10,000
#       clients (X-Forwarded-For from a trusted proxy, a random address per
#       request: a counter per client, so a batch of decisions rarely shares one)
#   (r) examples/orders-hardened GET /api/orders (bearer token), on its
#       gunicorn.conf.py (2 gthread workers, keep-alive), one limit per client ("1000000 per hour": every request counted, none refused):
#       plain Flask alone; plain Flask behind shield, memory then Redis storage (TCP
#       and unix socket); the app with only flask-limiter in-process, memory then
#       Redis storage
#   (o) Redis stopped: shield (fail_open) and flask-limiter, a short run each
#
# For each: req/s, p50/p99 and CPU time per request of everything that serves the
# request (gunicorn's tree, shield, redis-server), with the parts split out, and the
# Redis commands sent per request (a MONITOR sample). The (q) and (r) rows alternate
# in ROUNDS rounds and the ratios use each row's median.
#   DURATION=10s CONNECTIONS=32 ROUNDS=3 bench/shield-ratelimit.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
VENV=${FLASKGUARD_VENVS:-$ROOT/.venv}/orders-hardened

for tool in wrk nginx redis-server redis-cli; do
  command -v "$tool" >/dev/null || { echo "bench/shield-ratelimit.sh: $tool is missing (run bench/shield.sh as root once)" >&2; exit 2; }
done
[ -x "$VENV/bin/gunicorn" ] || { echo "bench/shield-ratelimit.sh: $VENV is missing (run scripts/test once)" >&2; exit 2; }

. "$ROOT/bench/shield-lib.sh"

LIMIT="1000000 per hour"
REDIS_PORT=$(free_port)
redis_start() {
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no >/dev/null 2>&1 &
  REDIS_PID=$!
  PIDS+=("$REDIS_PID")
  wait_port "$REDIS_PORT"
}
redis_stop() { kill "$REDIS_PID" 2>/dev/null || true; wait "$REDIS_PID" 2>/dev/null || true; }
redis_start
REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0

# shield_start NAME UPSTREAM STORAGE [EXTRA [shield] LINES] -> SH_PORT, SH_PID
shield_start() {
  SH_PORT=$(free_port)
  cat > "$WORK/$1.toml" <<CONF
[shield]
listen = "127.0.0.1:$SH_PORT"
upstream = "$2"
allowed_hosts = ["127.0.0.1"]
${4:-}
[shield.audit_log]
path = "$WORK/$1-audit.log"
[shield.rate_limit]
storage = "$3"
global_limit = ["$LIMIT"]
CONF
  "$FG" shield --config "$WORK/$1.toml" 2>"$WORK/$1.err" &
  SH_PID=$!
  PIDS+=("$SH_PID")
  wait_port "$SH_PORT"
}
shield_stop() { kill "$SH_PID" 2>/dev/null || true; wait "$SH_PID" 2>/dev/null || true; }

CMDS=$WORK/commands.tsv
: > "$CMDS"
# count_commands NAME URL [curl args...]: the Redis commands sent per request: a
# sample of 100 requests under MONITOR, apart from the timed runs, counting the
# commands clients sent (commands a Lua script runs inside Redis show as "lua" and
# are not sent by the client).
count_commands() {
  local name=$1 url=$2 mon n
  shift 2
  mon=$WORK/monitor-$RANDOM.log
  redis-cli -p "$REDIS_PORT" monitor > "$mon" &
  local mpid=$!
  sleep 0.3
  for _ in $(seq 100); do curl -s -o /dev/null "$@" "$url"; done
  sleep 0.3
  kill "$mpid" 2>/dev/null || true
  wait "$mpid" 2>/dev/null || true
  n=$(grep -v -e '^OK' -e ' lua\]' "$mon" | grep -c '"' || true)
  printf '%s\t%s\t%s\n' "$name" "$n" 100 >> "$CMDS"
}

echo "rate limiting: shield vs flask-limiter, wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) cores, redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# (q) decision cost against a fast upstream
UP=$(free_port)
nginx_conf "$WORK/rl-up" "server { listen 127.0.0.1:$UP; location / { default_type application/json; return 200 '{\"ok\":true}'; } }"
wait_port "$UP"
# Interleaved rounds (medians below): the machine's load moves between runs. At
# 40,000 req/s three rounds would exceed one client's 1,000,000 per hour, so each
# round starts with fresh counters (new shield processes, Redis flushed).
# A client address per request, from 10,000 (wrk's own random numbers: the
# same addresses in every run).
cat > "$WORK/clients.lua" <<'LUA'
request = function()
  local n = math.random(0, 9999)
  return wrk.format(nil, nil, { ["X-Forwarded-For"] = "10.0." .. math.floor(n / 100) .. "." .. (n % 100) })
end
LUA
for _ in $(seq "$ROUNDS"); do
  redis-cli -p "$REDIS_PORT" flushall >/dev/null
  shield_start q1 "http://127.0.0.1:$UP" memory
  Q1_PORT=$SH_PORT Q1_PID=$SH_PID
  shield_start q2 "http://127.0.0.1:$UP" "$REDIS_URL"
  Q2_PORT=$SH_PORT Q2_PID=$SH_PID
  run "(q1) shield, memory -> nginx 200" "http://127.0.0.1:$Q1_PORT/api/orders" "$Q1_PID"
  SPLIT_PIDS=$Q2_PID SPLIT_LABEL="shield" SPLIT2_PIDS=$REDIS_PID SPLIT2_LABEL="redis" \
    run "(q2) shield, Redis -> nginx 200" "http://127.0.0.1:$Q2_PORT/api/orders" "$Q2_PID $REDIS_PID"
  kill "$Q1_PID" "$Q2_PID" 2>/dev/null || true
  wait "$Q1_PID" "$Q2_PID" 2>/dev/null || true
  redis-cli -p "$REDIS_PORT" flushall >/dev/null
  shield_start q1m "http://127.0.0.1:$UP" memory 'trusted_proxies = ["127.0.0.1/32"]'
  Q1_PORT=$SH_PORT Q1_PID=$SH_PID
  shield_start q2m "http://127.0.0.1:$UP" "$REDIS_URL" 'trusted_proxies = ["127.0.0.1/32"]'
  Q2_PORT=$SH_PORT Q2_PID=$SH_PID
  run "(q1m) 10,000 clients, memory" "http://127.0.0.1:$Q1_PORT/api/orders" "$Q1_PID" -s "$WORK/clients.lua"
  SPLIT_PIDS=$Q2_PID SPLIT_LABEL="shield" SPLIT2_PIDS=$REDIS_PID SPLIT2_LABEL="redis" \
    run "(q2m) 10,000 clients, Redis" "http://127.0.0.1:$Q2_PORT/api/orders" "$Q2_PID $REDIS_PID" -s "$WORK/clients.lua"
  kill "$Q1_PID" "$Q2_PID" 2>/dev/null || true
  wait "$Q1_PID" "$Q2_PID" 2>/dev/null || true
done
redis-cli -p "$REDIS_PORT" flushall >/dev/null
shield_start q2 "http://127.0.0.1:$UP" "$REDIS_URL"
count_commands "(q2) shield, Redis -> nginx 200" "http://127.0.0.1:$SH_PORT/api/orders"
shield_stop
redis-cli -p "$REDIS_PORT" flushall >/dev/null

export SECRET_KEY=bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
export ALLOWED_HOSTS=127.0.0.1 ORDERS_DEMO_PASSWORD=bench-password-123 CORS_ORIGINS=https://app.example
export ORDERS_DB=$WORK/rl-orders.db DATABASE_PATH=$WORK/rl-orders.db WEB_CONCURRENCY=2
export RATELIMIT_DEFAULT="$LIMIT"
gunicorn_start() { # mode storage bind -> G_PID (--reuse-port on TCP: see shield-lib.sh)
  local rp=()
  case $3 in unix:*) ;; *) rp=("${REUSE_PORT[@]}") ;; esac
  (cd examples/orders-hardened && BENCH_MODE=$1 RATELIMIT_STORAGE_URI=$2 GUNICORN_BIND=$3 \
    exec "$VENV/bin/gunicorn" -c gunicorn.conf.py "${rp[@]}" --pythonpath "$ROOT/bench" --access-logfile /dev/null orders_bench_wsgi:app) \
    >"$WORK/rl-gunicorn-$1.log" 2>&1 &
  G_PID=$!
  PIDS+=("$G_PID")
  case $3 in
    unix:*) for _ in $(seq 100); do [ -S "${3#unix:}" ] && break; sleep 0.1; done ;;
    *) wait_port "${3##*:}" ;;
  esac
  sleep 1
}
gunicorn_stop() { kill "$G_PID" 2>/dev/null || true; wait "$G_PID" 2>/dev/null || true; }

# One identical instance per row: the direct runs, shield with memory storage,
# shield with Redis storage (over TCP), and over a unix socket (connections one
# client keeps open to an instance would weigh on the rows of another).
G_PORT=$(free_port)
gunicorn_start plain memory:// "127.0.0.1:$G_PORT"
G_TCP=$G_PID
G_PORT2=$(free_port)
gunicorn_start plain memory:// "127.0.0.1:$G_PORT2"
G_TCP2=$G_PID
G_PORT3=$(free_port)
gunicorn_start plain memory:// "127.0.0.1:$G_PORT3"
G_TCP3=$G_PID
SOCK=$WORK/rl-gunicorn.sock
gunicorn_start plain memory:// "unix:$SOCK"
G_UNIX=$G_PID
TOKEN=$(curl -s -X POST -H 'Content-Type: application/json' \
  -d '{"email":"alice@example.com","password":"bench-password-123"}' \
  "http://127.0.0.1:$G_PORT/api/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
AUTH=(-H "Authorization: Bearer $TOKEN")
shield_start r1 "http://127.0.0.1:$G_PORT2" memory
R1_PORT=$SH_PORT R1_PID=$SH_PID
shield_start r2 "http://127.0.0.1:$G_PORT3" "$REDIS_URL"
R2_PORT=$SH_PORT R2_PID=$SH_PID
shield_start r2u "unix:$SOCK" "$REDIS_URL"
R2U_PORT=$SH_PORT R2U_PID=$SH_PID
for _ in $(seq "$ROUNDS"); do
  SPREAD_PORT=$G_PORT \
    run "(r0) plain Flask, gunicorn alone" "http://127.0.0.1:$G_PORT/api/orders" "$(tree "$G_TCP")" "${AUTH[@]}"
  SPLIT_PIDS=$R1_PID SPLIT_LABEL="shield" SPREAD_PORT=$G_PORT2 \
    run "(r1) shield (memory) + plain Flask" "http://127.0.0.1:$R1_PORT/api/orders" "$(tree "$G_TCP2") $R1_PID" "${AUTH[@]}"
  SPLIT_PIDS=$R2_PID SPLIT_LABEL="shield" SPLIT2_PIDS=$REDIS_PID SPLIT2_LABEL="redis" SPREAD_PORT=$G_PORT3 \
    run "(r2) shield (Redis) + plain Flask" "http://127.0.0.1:$R2_PORT/api/orders" "$(tree "$G_TCP3") $R2_PID $REDIS_PID" "${AUTH[@]}"
  SPLIT_PIDS=$R2U_PID SPLIT_LABEL="shield" SPLIT2_PIDS=$REDIS_PID SPLIT2_LABEL="redis" \
    run "(r2u) shield (Redis) + plain Flask, unix" "http://127.0.0.1:$R2U_PORT/api/orders" "$(tree "$G_UNIX") $R2U_PID $REDIS_PID" "${AUTH[@]}"
done
count_commands "(r2) shield (Redis) + plain Flask" "http://127.0.0.1:$R2_PORT/api/orders" "${AUTH[@]}"
kill "$R1_PID" "$R2_PID" "$R2U_PID" "$G_TCP" "$G_TCP2" "$G_TCP3" "$G_UNIX" 2>/dev/null || true
wait "$R1_PID" "$R2_PID" "$R2U_PID" "$G_TCP" "$G_TCP2" "$G_TCP3" "$G_UNIX" 2>/dev/null || true

G_PORT=$(free_port)
gunicorn_start limiter memory:// "127.0.0.1:$G_PORT"
SPREAD_PORT=$G_PORT run "(r3) flask-limiter (memory) in-process" "http://127.0.0.1:$G_PORT/api/orders" "$(tree "$G_PID")" "${AUTH[@]}"
gunicorn_stop
G_PORT=$(free_port)
gunicorn_start limiter "$REDIS_URL" "127.0.0.1:$G_PORT"
G_TREE=$(tree "$G_PID")
SPLIT_PIDS=$REDIS_PID SPLIT_LABEL="redis" SPREAD_PORT=$G_PORT \
  run "(r4) flask-limiter (Redis) in-process" "http://127.0.0.1:$G_PORT/api/orders" "$G_TREE $REDIS_PID" "${AUTH[@]}"
count_commands "(r4) flask-limiter (Redis) in-process" "http://127.0.0.1:$G_PORT/api/orders" "${AUTH[@]}"

# (o) Redis down: a short run each, counting what was not a 2xx.
outage() { # name url
  local out n non2xx
  out=$(wrk -t "$THREADS" -c 8 -d 3s "${AUTH[@]}" "$2")
  n=$(echo "$out" | awk '/requests in/ {print $1}')
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  printf '%-46s %8s requests, %8s not 2xx\n' "$1" "$n" "${non2xx:-0}"
}
echo
redis_stop
outage "(o1) flask-limiter (Redis), Redis down" "http://127.0.0.1:$G_PORT/api/orders"
curl -s -o /dev/null -w '      one response: HTTP %{http_code}, %{content_type}\n' "${AUTH[@]}" "http://127.0.0.1:$G_PORT/api/orders"
gunicorn_stop
G_PORT=$(free_port)
gunicorn_start plain memory:// "127.0.0.1:$G_PORT"
shield_start o2 "http://127.0.0.1:$G_PORT" "$REDIS_URL"
outage "(o2) shield (Redis, fail_open), Redis down" "http://127.0.0.1:$SH_PORT/api/orders"
grep -c '"storage_down"' "$WORK/o2-audit.log" | sed 's/^/      storage_down lines in the audit log: /'
shield_stop
gunicorn_stop

echo
echo "ratios (medians of $ROUNDS rounds where rows repeat):"
cmds() { awk -F'\t' -v n="$1" '$1==n && $3>0 {printf "%.2f", $2/$3}' "$CMDS"; }
q1=$(mfield "(q1) shield, memory -> nginx 200" 2)
q2=$(mfield "(q2) shield, Redis -> nginx 200" 2)
r0=$(mfield "(r0) plain Flask, gunicorn alone" 5)
r1=$(mfield "(r1) shield (memory) + plain Flask" 5)
r2=$(mfield "(r2) shield (Redis) + plain Flask" 5)
r2u=$(mfield "(r2u) shield (Redis) + plain Flask, unix" 5)
r3=$(field "(r3) flask-limiter (memory) in-process" 5)
r4=$(field "(r4) flask-limiter (Redis) in-process" 5)
q1m=$(mfield "(q1m) 10,000 clients, memory" 2)
q2m=$(mfield "(q2m) 10,000 clients, Redis" 2)
awk -v q1="$q1" -v q2="$q2" -v q1m="$q1m" -v q2m="$q2m" 'BEGIN {
  printf "  shield Redis / memory, req/s (fast upstream):  %.2fx one client, %.2fx 10,000 clients  (target >= 0.8)\n", q2 / q1, q2m / q1m }'
awk -v r0="$r0" -v r1="$r1" -v r2="$r2" -v r2u="$r2u" -v r3="$r3" -v r4="$r4" 'BEGIN {
  printf "  CPU per request / plain Flask alone (redis-server included where used):\n"
  printf "    shield (memory) + Flask:   %.2fx\n", r1 / r0
  printf "    shield (Redis) + Flask:    %.2fx over TCP, %.2fx over a unix socket  (target <= 1.2)\n", r2 / r0, r2u / r0
  printf "    flask-limiter (memory):    %.2fx\n", r3 / r0
  printf "    flask-limiter (Redis):     %.2fx\n", r4 / r0 }'
printf '  Redis commands sent per request (not those a script runs): shield %s, flask-limiter %s\n' \
  "$(cmds "(r2) shield (Redis) + plain Flask")" "$(cmds "(r4) flask-limiter (Redis) in-process")"
