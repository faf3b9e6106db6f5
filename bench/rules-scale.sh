#!/usr/bin/env bash
# Rule-count independence: the default pack alone against the default pack plus N synthetic rules
# (a --rules file this script writes), on the same tree, in the same run. The extra rules look like
# real token rules: distinct literal prefixes (`qvzt_`, `mrkx-`, `Zuqv` ...), a keyword each, a
# bounded charset and length, a boundary. Few of them ever match, as with a real larger pack, so
# the difference is what rule count alone costs (prefilter, matcher set-up, regex compilation).
# Prints a table and the ratio (target: 1.2x at most).
#
#   bench/rules-scale.sh [DIR ...]      default: the cargo registry's unpacked sources
#
# Env: RUNS (default 10), EXTRA (number of synthetic rules, default 200), BIN (the credsweep
# binary; default: this tree's release build, built first).
# Needs: hyperfine (apt-get install hyperfine), python3.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-10}
extra=${EXTRA:-200}
if [ $# -eq 0 ]; then
  set -- "$HOME"/.cargo/registry/src/*/
fi
command -v hyperfine >/dev/null || { echo "bench/rules-scale.sh needs hyperfine: apt-get install hyperfine" >&2; exit 2; }
if [ -n "${BIN:-}" ]; then
  bin=$(realpath "$BIN")
else
  cargo build --release --quiet
  bin=${CARGO_TARGET_DIR:-$PWD/target}/release/credsweep
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rules=$work/extra-rules.toml
python3 - "$rules" "$extra" <<'PY'
import random, sys
path, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(12)  # fixed: every run and every build gets the same rules
consonants = "bcdfghjklmnpqrstvwxz"
vowels = "aeiou"
alnum = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
shapes = [
    # (regex body after the prefix, charset for an example)
    ("[A-Za-z0-9]{{{n}}}", "A-Za-z0-9"),
    ("[a-f0-9]{{{n}}}", "a-f0-9"),
    ("[A-Za-z0-9_-]{{{n},{m}}}", "A-Za-z0-9_-"),
    ("[A-Z0-9]{{{n}}}", "A-Z0-9"),
]
seen = set()
out = []
while len(seen) < n:
    word = rng.choice(consonants) + rng.choice(vowels) + rng.choice(consonants) + rng.choice(consonants)
    style = rng.randrange(4)
    if style == 0:
        prefix = word + "_"
    elif style == 1:
        prefix = word + "-"
    elif style == 2:
        prefix = word + "_live_"
    else:
        prefix = word.capitalize() + rng.choice(consonants).upper()
    if prefix.lower() in seen:
        continue
    seen.add(prefix.lower())
    body, _ = rng.choice(shapes)
    length = rng.choice([24, 32, 36, 40, 48])
    body = body.format(n=length, m=length + 16)
    i = len(seen)
    out.append(
        f"""[[rule]]
id = "synthetic-{i:03}"
description = "Synthetic token {i} (bench/rules-scale.sh)"
severity = "error"
regex = '''\\b(?P<secret>{prefix}{body})\\b'''
keywords = ["{prefix}"]
min_entropy = 3.0
"""
    )
open(path, "w").write("\n".join(out))
PY
bytes=$(find "$@" -type f -print0 | du -cb --files0-from=- | tail -1 | cut -f1)
echo "corpus: $* ($((bytes / 1000000)) MB); $("$bin" rules list | tail -1) + $extra synthetic rules; $(nproc) cores"
args=$(printf '%q ' "$@")
out=$work/hyperfine.json
hyperfine -N --style none -w 2 -r "$runs" --export-json "$out" -i \
  -n default-pack "$bin dir --no-ignore -q --no-config --format json $args" \
  -n "default-pack+$extra" "$bin dir --no-ignore -q --no-config --format json --rules $rules $args" >/dev/null
python3 - "$out" "$bytes" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
mb = int(sys.argv[2]) / 1e6
base = res[0]["median"]
print("| rules | median wall (s) | min (s) | MB/s | ratio |")
print("|---|---|---|---|---|")
for r in res:
    print(f"| {r['command']} | {r['median']:.3f} | {r['min']:.3f} | {mb / r['median']:.0f} | {r['median'] / base:.2f}x |")
PY
