#!/usr/bin/env bash
# flaskguard scan against the generic header checkers drheader, shcheck and the
# Mozilla HTTP Observatory's local scanner (httpobs), on the same local targets,
# in one run; then session-key cracking against flask-unsign.
#
#   bench/scan.sh                # RUNS=5 by default: each timing is the median of 5
#
# Needs python3 and the orders-weak venv (.venv/orders-weak, made by scripts/test).
# Installs the peers from PyPI into bench/out/peers (drheader and shcheck pinned;
# httpobs 0.9.3 with --no-deps, since its pinned server stack - psycopg2, uWSGI -
# does not build on current Python, plus what its local scanner imports).
# Everything runs on 127.0.0.1; nothing but pip touches the network.
#
# 1. Wall time of a full passive scan of orders-weak under gunicorn: flaskguard
#    (release build) vs each peer in its broadest passive mode, with the
#    requests each sent (counted in gunicorn's access log).
# 2. Which of the Flask-specific problems each tool reports. Each tool's report
#    is reduced to its finding lines (flaskguard: control, outcome, message, URL;
#    drheader: its rule violations; shcheck: missing headers and disclosures;
#    httpobs: its failed tests), and one pattern per problem is matched against
#    every tool's lines alike; the matching line is printed as the evidence.
#    TRACE is not planted in orders-weak (Werkzeug answers it 405), so that row
#    comes from bench/apps/extra_target.py, a small Flask app that echoes TRACE.
#    Login rate limiting needs an active probe: flaskguard's row comes from a
#    --active scan; the peers have no such mode, their row from their reports.
# 3. Session-key cracking: bench/session-crack.sh (flaskguard's cracker vs
#    flask-unsign --unsign on flask-unsign-wordlist's list).
# 4. `flaskguard scan --wordlist` end to end: a live app whose key is the last
#    line of that list; the scan must find it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out/scan
PEERS=$ROOT/bench/out/peers
RUNS=${RUNS:-5}
PYTHON=${PYTHON:-python3}
WEAK_VENV=${FLASKGUARD_VENVS:-$ROOT/.venv}/orders-weak
rm -rf "$OUT"
mkdir -p "$OUT"

if [ ! -x "$WEAK_VENV/bin/gunicorn" ]; then
  echo "bench/scan.sh: $WEAK_VENV is missing (scripts/test creates it)" >&2
  exit 2
fi

echo "==> $(nproc) cores, load average at start $(cut -d" " -f1-3 /proc/loadavg)"
echo "==> building flaskguard (release)"
cargo build --release --locked -q -p flaskguard
FG=$ROOT/target/release/flaskguard

echo "==> peers in bench/out/peers"
if [ ! -x "$PEERS/bin/drheader" ] || [ ! -x "$PEERS/bin/shcheck.py" ]; then
  "$PYTHON" -m venv "$PEERS"
  "$PEERS/bin/pip" install -q --disable-pip-version-check "drheader==2.0.0" "shcheck==1.7"
fi
HTTPOBS=$PEERS/bin/httpobs-local-scan
if [ ! -x "$HTTPOBS" ]; then
  "$PEERS/bin/pip" install -q --disable-pip-version-check --no-deps "httpobs==0.9.3" \
    && "$PEERS/bin/pip" install -q --disable-pip-version-check requests beautifulsoup4 publicsuffixlist celery \
    || true
fi
if ! "$PEERS/bin/python" -c 'import httpobs.scanner.local' 2>/dev/null; then
  echo "httpobs did not install; its column is skipped"
  HTTPOBS=
fi
echo "drheader $("$PEERS/bin/pip" show drheader | sed -n 's/^Version: //p'), shcheck $("$PEERS/bin/pip" show shcheck | sed -n 's/^Version: //p')${HTTPOBS:+, httpobs $("$PEERS/bin/pip" show httpobs | sed -n 's/^Version: //p')}"

free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
APPS=()
stop_apps() {
  for pid in "${APPS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${APPS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_apps EXIT
wait_http() {
  for _ in $(seq 150); do
    curl -fs -o /dev/null "$1" && return 0
    sleep 0.1
  done
  echo "bench/scan.sh: $1 did not come up" >&2
  exit 1
}
# extra_target NAME KEYFILE: starts bench/apps/extra_target.py, sets URL_<NAME>.
extra_target() {
  local port
  port=$(free_port)
  SECRET_KEY_FILE=$2 PYTHONUNBUFFERED=1 "$WEAK_VENV/bin/gunicorn" --chdir "$ROOT/bench/apps" \
    --bind "127.0.0.1:$port" --workers 2 --access-logfile - extra_target:app >"$OUT/$1.log" 2>&1 &
  APPS+=($!)
  printf -v "URL_$1" '%s' "http://127.0.0.1:$port"
  wait_http "http://127.0.0.1:$port/"
}

PORT=$(free_port)
WEAK=http://127.0.0.1:$PORT
echo "==> orders-weak under gunicorn on $WEAK"
(cd examples/orders-weak && ORDERS_DB=$OUT/orders.db GUNICORN_BIND=127.0.0.1:$PORT PYTHONUNBUFFERED=1 \
  exec "$WEAK_VENV/bin/gunicorn" -c gunicorn.conf.py wsgi:app) >"$OUT/orders-weak.log" 2>&1 &
APPS+=($!)
wait_http "$WEAK/"
"$PYTHON" -c 'import os; print(os.urandom(24).hex())' >"$OUT/random-key.txt"
extra_target trace "$OUT/random-key.txt"

requests_so_far() { grep -c -E '" [1-5][0-9]{2} ' "$OUT/orders-weak.log" || true; }
now() { date +%s.%N; }
# timed NAME OUTFILE COMMAND...: RUNS runs; the last run's output in OUTFILE.
timed() {
  local name=$1 out=$2 before t0 t1
  shift 2
  before=$(requests_so_far)
  : >"$OUT/times-$name"
  for _ in $(seq "$RUNS"); do
    t0=$(now)
    "$@" >"$out" 2>"$out.err" || true
    t1=$(now)
    awk "BEGIN { print $t1 - $t0 }" >>"$OUT/times-$name"
  done
  echo $(( ($(requests_so_far) - before) / RUNS )) >"$OUT/requests-$name"
}

# Each tool in its broadest passive mode. The peers scan the page they are given;
# flaskguard explores from it.
scan_flaskguard() { "$FG" scan "$1" --output-format json --fail-on never "${@:2}"; }
scan_drheader() { "$PEERS/bin/drheader" scan single "$1/" --cross-origin-isolated --output json; }
scan_shcheck() { "$PEERS/bin/shcheck.py" --use-get-method --information --caching --deprecated --json-output "$1/"; }
scan_httpobs() { "$HTTPOBS" --http-port "${1##*:}" --format json 127.0.0.1; }
TOOLS=(flaskguard drheader shcheck)
[ -n "$HTTPOBS" ] && TOOLS+=(httpobs)

echo
echo "==> 1. passive scan of orders-weak, wall time (median of $RUNS runs)"
for tool in "${TOOLS[@]}"; do
  timed "$tool" "$OUT/$tool.weak.json" "scan_$tool" "$WEAK"
done
"$PYTHON" - "$OUT" "${TOOLS[@]}" <<'PY'
import statistics, sys
out, tools = sys.argv[1], sys.argv[2:]
def times(t):
    return [float(x) for x in open(f"{out}/times-{t}").read().split()]
ours = statistics.median(times("flaskguard"))
print(f"{'tool':<11} {'median s':>9} {'min s':>7} {'requests':>9} {'time / flaskguard':>18}")
for t in tools:
    ts = times(t)
    med = statistics.median(ts)
    reqs = open(f"{out}/requests-{t}").read().strip()
    print(f"{t:<11} {med:>9.3f} {min(ts):>7.3f} {reqs:>9} {med / ours:>17.2f}x")
PY

echo
echo "==> flaskguard --active on orders-weak (login burst, oversized body, CSRF, ...)"
timed flaskguard-active "$OUT/flaskguard.active.json" scan_flaskguard "$WEAK" --active
printf 'wall time: %.3f s (median of %d), %s requests\n' \
  "$(sort -n "$OUT/times-flaskguard-active" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')" "$RUNS" \
  "$(cat "$OUT/requests-flaskguard-active")"

echo
echo "==> TRACE target (bench/apps/extra_target.py on $URL_trace)"
for tool in "${TOOLS[@]}"; do
  "scan_$tool" "$URL_trace" >"$OUT/$tool.trace.json" 2>"$OUT/$tool.trace.json.err" || true
done

echo
echo "==> 2. Flask-specific problems found (derived from each tool's report)"
"$PYTHON" - "$OUT" "${TOOLS[@]}" <<'PY'
import json, re, sys
out, tools = sys.argv[1], sys.argv[2:]

def lines(tool, path):
    """A tool's report reduced to one line per finding (None: unreadable)."""
    try:
        data = json.load(open(path))
    except (OSError, ValueError):
        return None
    if tool == "flaskguard":
        return [f"{f['control']} {f['check']}: {f['message']} at {f['location'].get('url', '')}"
                for f in data["findings"]]
    if tool == "drheader":
        return [f"{r.get('rule')}: {r.get('message')} {r.get('value', '')}" for r in data]
    if tool == "shcheck":
        res = []
        for url, r in data.items():
            res += [f"missing header {h} at {url}" for h in r.get("missing", [])]
            res += [f"information disclosure {k}: {v} at {url}"
                    for k, v in r.get("information_disclosure", {}).items()]
            res += [f"caching {k}: {v} at {url}" for k, v in r.get("caching", {}).items()]
        return res
    if tool == "httpobs":
        return [f"{name}: {t['result']}: {t['score_description']}"
                for name, t in data["tests"].items() if not t["pass"]]
    raise ValueError(tool)

# problem, report to read (weak / active / trace), pattern matched against finding lines
PROBLEMS = [
    ("Werkzeug console / debugger", "weak", r"werkzeug.{0,40}(console|debugger)|/console\b"),
    ("exception text in a 500", "weak", r"python traceback|stack.?trace|traceback \(most recent"),
    ("HTML errors from a JSON API", "weak", r"html.{0,30}\b40[45]\b|\b40[45]\b.{0,30}html"),
    ("no login rate limit (active)", "active", r"rate.?limit|brute.?force|\b429\b"),
    ("TRACE answered (extra target)", "trace", r"\btrace\b"),
    ("exposed .env / .git", "weak", r"/\.env\b|/\.git\b"),
    ("null-origin CORS reflection", "weak", r"null.{0,20}origin|origin.{0,20}null"),
    ("any-origin CORS reflection", "weak", r"universal.access|any origin|origin.{0,30}reflected"),
]
col = 11
print(f"{'problem':<32}" + "".join(f"{t:<{col}}" for t in tools))
evidence = []
for label, source, pattern in PROBLEMS:
    row = f"{label:<32}"
    for t in tools:
        path = f"{out}/{t}.{source}.json"
        if source == "active" and t != "flaskguard":
            path = f"{out}/{t}.weak.json"  # no active mode: what the passive report says
        found = lines(t, path)
        if found is None:
            cell = "error"
        else:
            hit = next((l for l in found if re.search(pattern, l, re.I)), None)
            cell = "yes" if hit else "no"
            if hit:
                evidence.append(f"  {label} / {t}: {hit[:150]}")
        row += f"{cell:<{col}}"
    print(row)
print("evidence (first matching line of each report):")
print("\n".join(evidence))
PY

echo
echo "==> 3. session-key cracking: bench/session-crack.sh"
bench/session-crack.sh

echo
echo "==> 4. flaskguard scan --wordlist, end to end"
WORDLIST=$ROOT/bench/out/session-crack/wordlist.txt
tail -n 1 "$WORDLIST" >"$OUT/last-key.txt"
extra_target lastkey "$OUT/last-key.txt"
echo "word list: $(wc -l <"$WORDLIST") keys; app A ($URL_lastkey) signs with the last one, app B ($URL_trace) with a random key"
# scan_key LABEL URL [ARGS...]: one scan; prints wall and CPU time and the KEY002 verdict.
scan_key() {
  local label=$1 url=$2 wall user sys verdict
  shift 2
  /usr/bin/time -f '%e %U %S' -o "$OUT/time-$label" \
    "$FG" scan "$url" --output-format json --fail-on never "$@" >"$OUT/key-$label.json"
  read -r wall user sys <"$OUT/time-$label"
  verdict=$("$PYTHON" -c '
import json, sys
r = json.load(open(sys.argv[1]))
hit = [f for f in r["findings"] if f["check"] == "session-secret-key-weak"]
print("KEY002 " + hit[0]["evidence"] if hit else "no KEY002 finding")' "$OUT/key-$label.json")
  printf '%-32s %5.2f s wall, %5.2f s CPU: %s\n' "$label" "$wall" "$(awk "BEGIN { print $user + $sys }")" "$verdict"
  [ "$label" != "A with --wordlist" ] || [[ $verdict == KEY002* ]] \
    || { echo "error: flaskguard scan --wordlist missed the key on the last line" >&2; exit 1; }
}
scan_key "A without --wordlist" "$URL_lastkey"
scan_key "A with --wordlist" "$URL_lastkey" --wordlist "$WORDLIST"
# Every key under all 16 SHA-1 parameter sets: CPU above wall time is the parallelism.
scan_key "B with --wordlist (key absent)" "$URL_trace" --wordlist "$WORDLIST"
echo
echo "bench/scan.sh: $(date -u +%Y-%m-%d), $(nproc) cores, load average $(cut -d" " -f1-3 /proc/loadavg); outputs in bench/out/scan"
