#!/usr/bin/env bash
# flaskguard audit against bandit, ruff's bandit rules and semgrep, on the same
# trees of real Python that no one here wrote, in one run.
#
#   bench/audit.sh                 # both corpora, RUNS=3 (median of 3)
#   RUNS=5 bench/audit.sh flask-apps
#   SKIP=semgrep,bandit bench/audit.sh   # leave slow peers out while iterating
#
# Everything lives under bench/out/audit (gitignored):
#   tools/    a venv with the peers, pinned: bandit, ruff, semgrep
#   corpus/   the corpora, each `pip install --no-deps --target` of exact
#             versions of PyPI packages (wheels hold the sources as published):
#     flask-apps      Flask-AppBuilder and Flask-Admin: ~52,000 lines, about
#                     the size of CTFd (which is not on PyPI)
#     superset-stack  Apache Superset (a large Flask application) with
#                     Flask-AppBuilder, Flask-Admin, Flask-Security-Too,
#                     Flask, Werkzeug and Jinja2: ~313,000 lines, past quay's
#   results/  the last run's report of each tool on each corpus
#
# Each tool runs RUNS times per corpus, the tools interleaved round by round so
# load on a shared machine falls on all of them alike; the table shows the
# median wall time and the median peak RSS (from /usr/bin/time). Every tool
# reads every .py file: flaskguard with --include-tests (by default it skips
# test code), ruff with --isolated (no config files), semgrep with an empty
# .semgrepignore at the corpus root and --project-root (its default ignores
# skip tests/ and the corpus sits in a gitignored directory).
#
# semgrep runs with local rules only (bench/semgrep-flask.yml: 11 Flask rules,
# two in taint mode), --metrics=off, and, where `unshare -rn` works, with no
# network at all. The registry's python.flask pack needs the network; its
# figures are not comparable with these.
#
# The network is used only by pip, to install the pinned packages once.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out/audit
TOOLS=$OUT/tools
RUNS=${RUNS:-3}
SKIP=${SKIP:-}
PYTHON=${PYTHON:-python3}
mkdir -p "$OUT/corpus" "$OUT/results"

BANDIT_VERSION=1.9.4
RUFF_VERSION=0.17.6
SEMGREP_VERSION=1.182.0

# name|packages (exact versions: the same bytes every run)
CORPORA=(
  "flask-apps|Flask-AppBuilder==5.3.0 flask-admin==2.2.1"
  "superset-stack|apache-superset==6.1.0 Flask-AppBuilder==5.3.0 flask-admin==2.2.1 Flask-Security-Too==5.9.2 Flask==3.1.3 Werkzeug==3.1.9 Jinja2==3.1.6"
)
WANT=("$@")

skipped() { [[ ",$SKIP," == *",$1,"* ]]; }

echo "==> $(nproc) cores, load average at start $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%d)"

if [ ! -x /usr/bin/time ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends time >/dev/null \
      || { DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends time >/dev/null; }
  fi
  if [ ! -x /usr/bin/time ]; then
    echo "bench/audit.sh: /usr/bin/time (Debian package 'time') is needed for peak RSS" >&2
    exit 2
  fi
fi

echo "==> building flaskguard (release)"
cargo build --release --locked -q -p flaskguard
FG=$ROOT/target/release/flaskguard

echo "==> peers in bench/out/audit/tools"
stamp="bandit==$BANDIT_VERSION ruff==$RUFF_VERSION semgrep==$SEMGREP_VERSION"
if [ "$(cat "$TOOLS/.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$TOOLS"
  "$PYTHON" -m venv "$TOOLS"
  "$TOOLS/bin/pip" install -q --disable-pip-version-check \
    "bandit==$BANDIT_VERSION" "ruff==$RUFF_VERSION"
  # semgrep ships a native engine per platform; without it its column is skipped.
  "$TOOLS/bin/pip" install -q --disable-pip-version-check "semgrep==$SEMGREP_VERSION" \
    || echo "semgrep did not install; its column is skipped"
  echo "$stamp" >"$TOOLS/.stamp"
fi
SEMGREP=$TOOLS/bin/semgrep
[ -x "$SEMGREP" ] || SEMGREP=
NONET=()
if unshare -rn true 2>/dev/null; then
  NONET=(unshare -rn)
fi
if [ -n "$SEMGREP" ] && ! skipped semgrep; then
  echo "semgrep $("$SEMGREP" --version 2>/dev/null | tail -1), local rules bench/semgrep-flask.yml${NONET:+, run without network (unshare -rn)}"
fi
echo "bandit $("$TOOLS/bin/bandit" --version 2>/dev/null | head -1 | awk '{print $2}'), $("$TOOLS/bin/ruff" --version)"

# corpus NAME PACKAGES: the directory, built once per package list.
corpus() {
  local dir=$OUT/corpus/$1
  shift
  if [ "$(cat "$dir/.packages" 2>/dev/null)" != "$*" ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    # shellcheck disable=SC2086
    "$TOOLS/bin/pip" install -q --disable-pip-version-check --no-deps --no-compile \
      --target "$dir" $* >&2
    rm -rf "$dir/bin"
    : >"$dir/.semgrepignore"
    echo "$*" >"$dir/.packages"
  fi
  echo "$dir"
}

# measure TOOL TREE RESULT: one run; appends "wall rss" to times-TOOL.
measure() {
  local tool=$1 tree=$2 result=$3 tfile
  tfile=$(mktemp)
  case $tool in
    flaskguard)
      /usr/bin/time -f "%e %M" -o "$tfile" "$FG" audit "$tree" --include-tests \
        --output-format json -o "$result" --fail-on never >/dev/null 2>&1 || true ;;
    ruff)
      /usr/bin/time -f "%e %M" -o "$tfile" "$TOOLS/bin/ruff" check --isolated --no-cache \
        --select S --exit-zero --output-format concise "$tree" >"$result" 2>/dev/null || true ;;
    bandit)
      /usr/bin/time -f "%e %M" -o "$tfile" "$TOOLS/bin/bandit" -r -q -f json -o "$result" \
        "$tree" >/dev/null 2>&1 || true ;;
    semgrep)
      (cd "$tree" && /usr/bin/time -f "%e %M" -o "$tfile" "${NONET[@]}" "$SEMGREP" scan \
        --config "$ROOT/bench/semgrep-flask.yml" --metrics=off --disable-version-check \
        --project-root . --quiet --json -o "$result" . >/dev/null 2>&1) || true ;;
  esac
  tail -1 "$tfile" >>"$OUT/times-$tool"
  rm -f "$tfile"
}

findings() {
  local tool=$1 result=$2
  case $tool in
    flaskguard) "$PYTHON" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$result" ;;
    ruff) grep -c ': S[0-9]' "$result" || true ;;
    bandit) "$PYTHON" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["results"]))' "$result" ;;
    semgrep) "$PYTHON" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["results"]))' "$result" ;;
  esac 2>/dev/null || echo "?"
}

for entry in "${CORPORA[@]}"; do
  name=${entry%%|*}
  packages=${entry#*|}
  if [ ${#WANT[@]} -gt 0 ] && [[ " ${WANT[*]} " != *" $name "* ]]; then
    continue
  fi
  echo
  echo "==> corpus $name: $packages"
  tree=$(corpus "$name" "$packages")
  files=$(find "$tree" -name '*.py' -type f | wc -l)
  lines=$(find "$tree" -name '*.py' -type f -print0 | xargs -0 cat | wc -l)
  tools=(flaskguard ruff bandit)
  [ -n "$SEMGREP" ] && tools+=(semgrep)
  run_tools=()
  for t in "${tools[@]}"; do skipped "$t" || run_tools+=("$t"); done
  for t in "${run_tools[@]}"; do : >"$OUT/times-$t"; done
  for run in $(seq "$RUNS"); do
    printf '    round %d/%d (load %s):' "$run" "$RUNS" "$(cut -d' ' -f1 /proc/loadavg)"
    for t in "${run_tools[@]}"; do
      measure "$t" "$tree" "$OUT/results/$t-$name.out"
      printf ' %s %ss' "$t" "$(tail -1 "$OUT/times-$t" | cut -d' ' -f1)"
    done
    echo
  done
  for t in "${run_tools[@]}"; do
    echo "$t $(findings "$t" "$OUT/results/$t-$name.out")" >>"$OUT/findings-$name"
  done
  "$PYTHON" - "$OUT" "$name" "$files" "$lines" "${run_tools[@]}" <<'EOF'
import statistics, sys
out, name, files, lines, tools = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:]
found = dict(l.split() for l in open(f"{out}/findings-{name}") if l.strip())
rows = {}
for t in tools:
    runs = [l.split() for l in open(f"{out}/times-{t}") if len(l.split()) == 2]
    if not runs:
        continue
    rows[t] = (statistics.median(float(w) for w, _ in runs),
               statistics.median(int(r) for _, r in runs) / 1024,
               min(float(w) for w, _ in runs))
n = max(len(open(f"{out}/times-{t}").read().split()) // 2 for t in tools)
print(f"\n{name}: {files} Python files, {lines} lines; median of {n} runs")
print(f"{'tool':<34} {'wall s':>8} {'min s':>7} {'peak RSS MB':>12} {'findings':>9}")
label = {
    "flaskguard": "flaskguard audit --include-tests",
    "ruff": "ruff check --select S --no-cache",
    "bandit": "bandit -r",
    "semgrep": "semgrep (11 local Flask rules)",
}
for t, (wall, rss, best) in rows.items():
    print(f"{label[t]:<34} {wall:>8.2f} {best:>7.2f} {rss:>12.1f} {found.get(t, '?'):>9}")
fg = rows.get("flaskguard")
if fg:
    if "ruff" in rows:
        print(f"ratio flaskguard/ruff wall        {fg[0] / rows['ruff'][0]:8.2f}   (target: at most 2)")
    if "bandit" in rows:
        print(f"ratio bandit/flaskguard wall      {rows['bandit'][0] / fg[0]:8.1f}   (target: at least 50)")
        print(f"peak RSS flaskguard/bandit        {fg[1] / rows['bandit'][1]:8.2f}   (target: below 1)")
    if "semgrep" in rows:
        print(f"ratio semgrep/flaskguard wall     {rows['semgrep'][0] / fg[0]:8.1f}")
EOF
  rm -f "$OUT/findings-$name"
done
echo
echo "==> load average at end $(cut -d' ' -f1-3 /proc/loadavg)"
