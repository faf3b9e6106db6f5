#!/usr/bin/env bash
# Filter-only micro benchmark of the keyword prefilter (crates/credsweep-engine/examples/
# prefilter_bench.rs): the CPU time of the keyword search alone over the files under DIR, loaded
# into memory first, for the default pack's folded and exact keywords and for the folded ones plus
# N synthetic token prefixes shaped like bench/rules-scale.sh's; then each of those folded sets
# with the exact keywords as one pack (the matcher's index), searched in one pass and as two
# separate indexes, each line saying which of the two the cost model picks. CPU time of the searching thread
# (not wall time), best of RUNS, so that other work on a shared machine counts less.
#
#   bench/prefilter.sh [DIR ...]      default: the cargo registry's unpacked sources
#
# Env: RUNS (default 3), EXTRA (synthetic keywords, default 200 and 1000). Needs python3 (3.11+).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then
  set -- "$HOME"/.cargo/registry/src/*/
fi
cargo build --release --quiet --example prefilter_bench
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/examples/prefilter_bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work" ${EXTRA:-200 1000} <<'PY'
import glob, random, sys, tomllib
work, counts = sys.argv[1], [int(n) for n in sys.argv[2:]]
folded, exact = [], []
for path in sorted(glob.glob("rules/*.toml")):
    for rule in tomllib.load(open(path, "rb")).get("rule", []):
        (exact if rule.get("case_sensitive_keywords") else folded).extend(rule.get("keywords", []))
open(f"{work}/folded", "w").write("\n".join(folded) + "\n")
open(f"{work}/exact", "w").write("\n".join(exact) + "\n")
for n in counts:
    rng = random.Random(12)
    seen = set()
    while len(seen) < n:
        word = rng.choice("bcdfghjklmnpqrstvwxz") + rng.choice("aeiou") + rng.choice("bcdfghjklmnpqrstvwxz") + rng.choice("bcdfghjklmnpqrstvwxz")
        seen.add(word + rng.choice(["_", "-", "_live_", rng.choice("bcdfghjklmnpqrstvwxz")]))
    open(f"{work}/folded+{n}", "w").write("\n".join(folded + sorted(seen)) + "\n")
PY
"$bin" exact "$work/exact" "$@"
for k in "$work"/folded*; do
  "$bin" fold "$k" "$@"
done
for k in "$work"/folded*; do
  "$bin" pack "$k" "$work/exact" "$@"
done
