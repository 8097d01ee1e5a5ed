#!/usr/bin/env bash
# flaskguard scan vs drheader, shcheck (and the Mozilla Observatory scanner httpobs
# when it installs) on the same local target, in one run: wall time and which of
# the Flask-specific problems each tool finds. Then session-key cracking vs
# flask-unsign on flask-unsign-wordlist's full list.
#
#   bench/scan.sh            # needs python3 and the orders-weak venv (scripts/test makes it)
#
# Everything runs on 127.0.0.1. Peers are installed from PyPI into
# target/bench-venv.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=$ROOT/target/bench-venv
OUT=$ROOT/bench/out
mkdir -p "$OUT"

echo "==> building flaskguard (release)"
cargo build --release -q
FG=$ROOT/target/release/flaskguard

echo "==> peers into $VENV"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check drheader shcheck flask-unsign flask-unsign-wordlist >/dev/null
HTTPOBS=
if "$VENV/bin/pip" install -q --disable-pip-version-check httpobs >/dev/null 2>&1 && [ -x "$VENV/bin/httpobs-local-scan" ]; then
  HTTPOBS=$VENV/bin/httpobs-local-scan
else
  echo "httpobs did not install; skipped"
fi

WEAK_VENV=${FLASKGUARD_VENVS:-$ROOT/.venv}/orders-weak
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
echo "==> orders-weak on $URL"
(cd examples/orders-weak && GUNICORN_BIND=127.0.0.1:$PORT exec "$WEAK_VENV/bin/gunicorn" -c gunicorn.conf.py wsgi:app) >"$OUT/gunicorn.log" 2>&1 &
APP=$!
trap 'kill $APP 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -fs -o /dev/null "$URL/" && break; sleep 0.1; done

timed() { # name, output file, command...
  local name=$1 out=$2; shift 2
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >"$out" 2>&1 || true
  t1=$(date +%s.%N)
  printf '%s %.3f\n' "$name" "$(echo "$t1 - $t0" | bc)"
}

echo "==> passive scans (wall time, seconds)"
{
  timed flaskguard "$OUT/flaskguard.json" "$FG" scan "$URL" --output-format json --fail-on never
  timed drheader "$OUT/drheader.txt" "$VENV/bin/drheader" scan single "$URL/"
  timed shcheck "$OUT/shcheck.txt" "$VENV/bin/shcheck.py" -d "$URL/"
  [ -n "$HTTPOBS" ] && timed httpobs "$OUT/httpobs.txt" "$HTTPOBS" --http-port "$PORT" --no-verify 127.0.0.1
} | tee "$OUT/times.txt"

# What each tool's output mentions, per Flask-specific problem.
found() { # file, grep pattern
  grep -Eqi "$2" "$1" 2>/dev/null && echo yes || echo no
}
printf '\n%-34s %-10s %-9s %-8s %-8s\n' problem flaskguard drheader shcheck httpobs
row() { # label, flaskguard check pattern, peer pattern
  local h=-
  [ -n "$HTTPOBS" ] && h=$(found "$OUT/httpobs.txt" "$3")
  printf '%-34s %-10s %-9s %-8s %-8s\n' "$1" "$(found "$OUT/flaskguard.json" "$2")" \
    "$(found "$OUT/drheader.txt" "$3")" "$(found "$OUT/shcheck.txt" "$3")" "$h"
}
row "Werkzeug console" werkzeug-console-exposed 'console|werkzeug'
row "exception text in a 500" stack-trace-leak 'traceback|exception'
row "HTML errors from a JSON API" html-404-on-json-api 'html.*(404|error)|error page'
row "TRACE enabled" trace-method-enabled 'trace'
row "exposed .env / .git" 'exposed-env-file|exposed-git' '\.env|\.git'
row "null-origin CORS reflection" cors-null-origin 'null'
row "weak session key" session-secret-key-weak 'secret.key|session.key'

echo
echo "==> active scan (login burst etc.)"
timed "flaskguard --active" "$OUT/flaskguard-active.json" "$FG" scan "$URL" --active --output-format json --fail-on never
found "$OUT/flaskguard-active.json" login-not-rate-limited | sed 's/^/missing login rate limit found: /'

echo
echo "==> session-key cracking vs flask-unsign (full flask-unsign-wordlist)"
if [ -x bench/session-crack.sh ]; then
  bench/session-crack.sh
else
  WORDS=$("$VENV/bin/python" -c 'import flask_unsign_wordlist, os; print(flask_unsign_wordlist.get("all"))')
  N=$(wc -l <"$WORDS")
  # A cookie signed with the list's last key: both tools must try every candidate.
  KEY=$(tail -n 1 "$WORDS")
  COOKIE=$("$VENV/bin/flask-unsign" --sign --cookie "{'role': 'guest'}" --secret "$KEY" --legacy 2>/dev/null || "$VENV/bin/flask-unsign" --sign --cookie "{'role': 'guest'}" --secret "$KEY")
  t0=$(date +%s.%N); "$VENV/bin/flask-unsign" --unsign --cookie "$COOKIE" --wordlist "$WORDS" --no-literal-eval >"$OUT/unsign.txt" 2>&1 || true; t1=$(date +%s.%N)
  FU=$(echo "$t1 - $t0" | bc)
  printf 'flask-unsign: %d keys in %.2f s = %.0f keys/s\n' "$N" "$FU" "$(echo "$N / $FU" | bc -l)"
  echo "(flaskguard's cracking rate: see the session crate's bench when it lands)"
fi
