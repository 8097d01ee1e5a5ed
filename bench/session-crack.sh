#!/usr/bin/env bash
# Session-key cracking: flaskguard's cracker against flask-unsign, same word list,
# same cookies, one run.
#
#   bench/session-crack.sh
#
# Installs flask-unsign and flask-unsign-wordlist (pinned) from PyPI into a scratch
# venv under bench/out/, turns the wordlist's ~56k Python-literal lines into raw keys
# (one per line, no surrounding whitespace, so both tools read identical keys), and
# signs two cookies with Flask's real session interface:
#   - worst case: a key not in the list (every key is tried);
#   - near the end: a key 100 lines before the end of the list.
# flask-unsign runs as `flask-unsign --unsign --cookie C --wordlist F --no-literal-eval
# --quiet` (its default 8 threads); its rate is keys / (wall time - the wall time of
# a decode-only run, i.e. interpreter and import start-up). flaskguard's rate is
# measured inside the harness (crates/flask-session/examples/crack.rs) over repeated
# rounds, with Flask's default parameters only (the same work per key as
# flask-unsign) and with all 16 SHA-1 parameter sets. Last, both as commands, wall
# time with start-up: flask-unsign against `flaskguard session crack --no-builtin
# --wordlist F -` (cookie on standard input). Nothing touches the network except pip.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=bench/out/session-crack
mkdir -p "$OUT"
PYTHON=${PYTHON:-python3}

echo "==> building the cracker harness (release)"
cargo build -q --release --locked -p flaskguard-flask-session --example crack
CRACK=target/release/examples/crack
cargo build -q --release --locked -p flaskguard
FG=target/release/flaskguard

VENV=$OUT/venv
if [ ! -x "$VENV/bin/flask-unsign" ]; then
  echo "==> installing flask-unsign into $VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check \
    "flask-unsign==1.2.1" "flask-unsign-wordlist==2024.1" "flask>=3,<4"
fi
PY=$VENV/bin/python

echo "==> preparing the word list and cookies"
"$PY" - "$OUT" <<'PY'
import sys, os
from ast import literal_eval
import flask_unsign_wordlist
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

out = sys.argv[1]
keys = []
with open(flask_unsign_wordlist.get("all"), "rb") as src:
    for line in src:
        try:
            key = literal_eval(line.decode("utf-8").strip())
        except Exception:
            continue
        if isinstance(key, str):
            key = key.encode("utf-8")
        if not isinstance(key, bytes) or not key or key != key.strip() or b"\n" in key or b"\r" in key:
            continue
        keys.append(key)
with open(os.path.join(out, "wordlist.txt"), "wb") as dst:
    dst.write(b"\n".join(keys) + b"\n")

def cookie(secret):
    app = Flask("bench")
    app.secret_key = secret
    s = SecureCookieSessionInterface().get_signing_serializer(app)
    return s.dumps({"_user_id": "1", "_fresh": True, "role": "admin"})

near_end = keys[-100]
with open(os.path.join(out, "cookies.txt"), "w") as f:
    f.write("absent " + cookie(b"flaskguard-bench-" + os.urandom(8).hex().encode()) + "\n")
    f.write("near-end " + cookie(near_end) + "\n")
with open(os.path.join(out, "near-end-key.txt"), "wb") as f:
    f.write(near_end)
print(f"{len(keys)} keys; near-end key is line {len(keys) - 99}")
PY
WORDLIST=$OUT/wordlist.txt
NKEYS=$(wc -l < "$WORDLIST")

now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }

echo "==> flask-unsign start-up (decode only)"
read -r _ ABSENT < <(grep '^absent ' "$OUT/cookies.txt")
read -r _ NEAR < <(grep '^near-end ' "$OUT/cookies.txt")
t0=$(now); "$VENV/bin/flask-unsign" --decode --cookie "$ABSENT" >/dev/null; t1=$(now)
STARTUP=$(calc "$t1 - $t0")
printf 'start-up: %.2fs\n' "$STARTUP"

declare -A FU_RATE FU_SECS FU_WALL CLI_WALL OURS_FLASK OURS_SECS OURS_ALL OURS_FOUND
for case in absent near-end; do
  cookie=$([ "$case" = absent ] && echo "$ABSENT" || echo "$NEAR")
  echo "==> $case: flask-unsign"
  t0=$(now)
  set +e
  fu_out=$("$VENV/bin/flask-unsign" --unsign --cookie "$cookie" --wordlist "$WORDLIST" --no-literal-eval --quiet 2>&1)
  set -e
  t1=$(now)
  wall=$(calc "$t1 - $t0")
  attempts=$([ "$case" = absent ] && echo "$NKEYS" || echo "$((NKEYS - 99))")
  FU_WALL[$case]=$wall
  FU_SECS[$case]=$(calc "$wall - $STARTUP")
  FU_RATE[$case]=$(calc "$attempts / ${FU_SECS[$case]}")
  printf 'wall %.2fs, %d keys tried, %.0f keys/s (start-up excluded); output: %s\n' \
    "$wall" "$attempts" "${FU_RATE[$case]}" "$(echo "$fu_out" | tail -n 1)"

  echo "==> $case: flaskguard (Flask default parameters)"
  line=$("$CRACK" --cookie "$cookie" --wordlist "$WORDLIST" --params flask --min-seconds 2)
  echo "$line"
  OURS_FLASK[$case]=$(sed -n 's/.* keys_per_sec=\([0-9]*\).*/\1/p' <<<"$line")
  OURS_SECS[$case]=$(sed -n 's/.* seconds_per_round=\([0-9.]*\).*/\1/p' <<<"$line")
  OURS_FOUND[$case]=$(sed -n 's/.* found=\([a-z]*\).*/\1/p' <<<"$line")
  echo "==> $case: flaskguard (all 16 SHA-1 parameter sets)"
  line=$("$CRACK" --cookie "$cookie" --wordlist "$WORDLIST" --params all --min-seconds 2)
  echo "$line"
  OURS_ALL[$case]=$(sed -n 's/.* attempts_per_sec=\([0-9]*\).*/\1/p' <<<"$line")
  echo "==> $case: flaskguard session crack (the command as a user runs it, start-up included)"
  want=$([ "$case" = absent ] && echo 0 || echo 1)
  t0=$(now)
  set +e
  "$FG" session crack --no-builtin --wordlist "$WORDLIST" - <<<"$cookie"
  rc=$?
  set -e
  t1=$(now)
  [ "$rc" = "$want" ] || { echo "error: flaskguard session crack exited $rc, expected $want" >&2; exit 1; }
  CLI_WALL[$case]=$(calc "$t1 - $t0")
done

[ "${OURS_FOUND[absent]}" = no ] || { echo "error: flaskguard cracked the absent key" >&2; exit 1; }
[ "${OURS_FOUND[near-end]}" = yes ] || { echo "error: flaskguard missed the near-end key" >&2; exit 1; }

echo
echo "== session-crack: $NKEYS keys, $(nproc) cores, Flask's default parameters =="
printf 'worst case (key absent, every key tried):\n'
printf '  flask-unsign  %10.0f keys/s\n' "${FU_RATE[absent]}"
printf '  flaskguard    %10.0f keys/s   (%.0fx)\n' "${OURS_FLASK[absent]}" "$(calc "${OURS_FLASK[absent]} / ${FU_RATE[absent]}")"
printf '  flaskguard    %10.0f key x parameter-set attempts/s over all 16 SHA-1 sets\n' "${OURS_ALL[absent]}"
printf 'key near the end (line %d), time to find it:\n' "$((NKEYS - 99))"
printf '  flask-unsign  %10.3f s\n' "${FU_SECS[near-end]}"
printf '  flaskguard    %10.3f s     (%.0fx)\n' "${OURS_SECS[near-end]}" "$(calc "${FU_SECS[near-end]} / ${OURS_SECS[near-end]}")"
printf 'as commands, wall time with start-up (flask-unsign: Flask'"'"'s default parameters only;\n'
printf 'flaskguard session crack: every parameter set that fits the signature, Flask'"'"'s first):\n'
printf '  key absent    flask-unsign %8.3f s   flaskguard %8.3f s   (%.0fx)\n' "${FU_WALL[absent]}" "${CLI_WALL[absent]}" "$(calc "${FU_WALL[absent]} / ${CLI_WALL[absent]}")"
printf '  key near end  flask-unsign %8.3f s   flaskguard %8.3f s   (%.0fx)\n' "${FU_WALL[near-end]}" "${CLI_WALL[near-end]}" "$(calc "${FU_WALL[near-end]} / ${CLI_WALL[near-end]}")"
