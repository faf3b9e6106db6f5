#!/usr/bin/env bash
# Working-tree scan throughput: credsweep with the whole default rule pack against ripgrep with only
# the Vobiz patterns (a floor: the fastest possible search for a fraction of the work), on the same
# tree, in the same run. Prints a table and the ratio of credsweep's wall time to rg's.
#
#   bench/tree.sh [DIR ...]     default: the cargo registry's unpacked sources (100+ MB after a build)
#   BASE=/path/to/credsweep bench/tree.sh   adds another credsweep binary to the same run (before
#                                           and after a change)
#
# On a machine shared with other work, wall times move with the load: the CPU column (user +
# system time, summed over threads) moves less, and its ratio says how much work each tool did.
#
# Needs: rg, hyperfine (apt-get install ripgrep hyperfine), a release build (it runs cargo build).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-10}
if [ $# -eq 0 ]; then
  set -- "$HOME"/.cargo/registry/src/*/
fi
for tool in rg hyperfine; do
  command -v $tool >/dev/null || { echo "bench/tree.sh needs $tool: apt-get install ripgrep hyperfine" >&2; exit 2; }
done
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/credsweep
bytes=$(find "$@" -type f -print0 | du -cb --files0-from=- | tail -1 | cut -f1)
files=$(find "$@" -type f | wc -l)
rules=$("$bin" rules list | tail -1)
echo "corpus: $* ($files files, $((bytes / 1000000)) MB); credsweep: $rules; $(nproc) cores"

# Both tools: no ignore files, hidden files included, binary files skipped, all cores.
vobiz=(-e 'sk_live_[A-Za-z0-9]{20,64}' -e 'sk_test_[A-Za-z0-9]{20,64}' -e 'partner-[a-z0-9]*[0-9][a-z0-9]{4,}'
       -e 'PA_[A-Z0-9]{12,40}' -e 'MA_[A-Z0-9]{12,40}' -e 'eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}')
rg_cmd="rg -uu --no-messages -c $(printf '%q ' "${vobiz[@]}") $(printf '%q ' "$@") >/dev/null || true"
cs_args="dir --no-ignore -q --format json $(printf '%q ' "$@") >/dev/null; test \$? -le 1"
commands=(-n rg-vobiz-only "$rg_cmd" -n credsweep-all-rules "$bin $cs_args")
if [ -n "${BASE:-}" ]; then
  commands+=(-n credsweep-base-all-rules "$(realpath "$BASE") $cs_args")
fi
out=$(mktemp)
hyperfine -w 2 -r "$runs" --export-json "$out" "${commands[@]}" >/dev/null
python3 - "$out" "$bytes" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
mb = int(sys.argv[2]) / 1e6
base = res[0]["median"]
base_cpu = res[0]["user"] + res[0]["system"]
print(f"| command | median wall (s) | min (s) | MB/s | ratio to rg | CPU (s) | CPU ratio to rg |")
print(f"|---|---|---|---|---|---|---|")
for r in res:
    cpu = r["user"] + r["system"]
    print(f"| {r['command']} | {r['median']:.3f} | {r['min']:.3f} | {mb / r['median']:.0f} | {r['median'] / base:.2f}x | {cpu:.3f} | {cpu / base_cpu:.2f}x |")
PY
rm -f "$out"
