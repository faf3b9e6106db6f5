#!/usr/bin/env bash
# Speed against an earlier build: BASE and NEW credsweep binaries timed by hyperfine in the same
# run, alternating, on a working tree (the cargo registry's sources, as bench/tree.sh) and on a
# generated history corpus (as bench/history.sh). Prints each median and NEW/BASE.
#
#   bench/compare-speed.sh BASE_BINARY [NEW_BINARY]   (NEW defaults to this tree's release build)
#
# Env: RUNS (default 7), COMMITS (history corpus size, default 5000).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "needs hyperfine: apt-get install hyperfine" >&2; exit 2; }
base=$(realpath "${1:?usage: bench/compare-speed.sh BASE_BINARY [NEW_BINARY]}")
if [ -n "${2:-}" ]; then
  new=$(realpath "$2")
else
  cargo build --release --quiet
  new=${CARGO_TARGET_DIR:-$PWD/target}/release/credsweep
fi
runs=${RUNS:-7}
commits=${COMMITS:-5000}
work=${TMPDIR:-/tmp}/credsweep-bench
mkdir -p "$work"
corpus=$work/corpus-$commits.git
if [ ! -d "$corpus" ]; then
  python3 ../shared/bench/make-history-corpus.py "$corpus" --commits "$commits" --plant 20 >&2
fi
tree=("$HOME"/.cargo/registry/src/*/)

out=$(mktemp)
# compare NAME ARGS...: both binaries with the same arguments; exit 0 or 1 (findings) is success.
compare() {
  local name=$1
  shift
  local args
  args=$(printf '%q ' "$@")
  hyperfine -N --style none --warmup 1 --runs "$runs" --export-json "$out" \
    -n base "$base $args" -n new "$new $args" -i >/dev/null 2>&1
  python3 - "$out" "$name" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
b, n = r["base"]["median"], r["new"]["median"]
print(f"{sys.argv[2]:<28} base {b:7.3f} s   new {n:7.3f} s   new/base {n / b:5.2f}")
PY
}
echo "$(nproc) cores, $runs runs each, medians"
compare "tree (cargo registry)" dir --no-ignore -q --format json "${tree[@]}"
compare "history ($commits commits)" git -q --no-config --format json "$corpus"
rm -f "$out"
