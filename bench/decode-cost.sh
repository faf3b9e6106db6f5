#!/usr/bin/env bash
# What decoding and archives cost (issue 13: at most 15% more time), on a working tree and on a
# history, in one run: `credsweep` as it ships against the same scan with them turned off
# (`--max-decode-depth 0 --no-archives`, and `--skip-binary` where the build has it). Prints a
# table and the two ratios, of median and of min wall time and of mean CPU time (user + system).
#
#   bench/decode-cost.sh [TREE [GIT_DIR]]
#       TREE     default: the cargo registry's unpacked sources (as bench/tree.sh)
#       GIT_DIR  default: /work/.mirror/rust-lang+cargo/repo (a bare clone of rust-lang/cargo)
#
# Needs hyperfine and a release build (it runs cargo build). RUNS (default 5) sets the runs of
# each command. Measure on a quiet machine (see `uptime`): other builds skew both ratios.
#
#   bench/decode-cost.sh search [DIR ...]
#       The search for encoded values alone (crates/credsweep-engine/examples/decode_bench.rs):
#       the CPU time of `encoded::candidates` over every file under DIR (default: the cargo
#       registry's sources), loaded into memory first, mean of RUNS (default 3), with what it
#       found and a digest of it. BASE=path/to/another/decode_bench adds that build's line (the
#       digests of two builds that find the same values are the same).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = search ]; then
  shift
  [ $# -gt 0 ] || set -- "$HOME"/.cargo/registry/src/*/
  cargo build --release --quiet --example decode_bench
  new=${CARGO_TARGET_DIR:-$PWD/target}/release/examples/decode_bench
  if [ -n "${BASE:-}" ]; then
    echo "base: $("$BASE" "$@")"
  fi
  echo "this tree: $("$new" "$@")"
  exit 0
fi
runs=${RUNS:-5}
tree=${1:-$(echo "$HOME"/.cargo/registry/src/*/)}
repo=${2:-/work/.mirror/rust-lang+cargo/repo}
command -v hyperfine >/dev/null || { echo "bench/decode-cost.sh needs hyperfine" >&2; exit 2; }
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/credsweep
off=(--max-decode-depth 0 --no-archives)
if "$bin" dir --help | grep -q -- --skip-binary; then
  off+=(--skip-binary)
fi
echo "off: ${off[*]}; $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"

out_tree=$(mktemp) out_git=$(mktemp)
trap 'rm -f "$out_tree" "$out_git"' EXIT
hyperfine -N -w 1 -r "$runs" -i --export-json "$out_tree" \
  -n "tree, default" "$bin dir --no-ignore -q --format json $tree" \
  -n "tree, off" "$bin dir --no-ignore -q --format json ${off[*]} $tree" >/dev/null
hyperfine -N -w 1 -r "$runs" -i --export-json "$out_git" \
  -n "history, default" "$bin git -q --format json $repo" \
  -n "history, off" "$bin git -q --format json ${off[*]} $repo" >/dev/null
python3 - "$out_tree" "$out_git" <<'PY'
import json, sys
print("| scan | median wall (s) | min wall (s) | mean CPU (s) |")
print("|---|---|---|---|")
ratios = []
for path in sys.argv[1:]:
    on, off = json.load(open(path))["results"]
    for r in (on, off):
        if any(code > 1 for code in r["exit_codes"]):
            sys.exit(f"{r['command']}: exit codes {r['exit_codes']}")
        print(f"| {r['command']} | {r['median']:.3f} | {r['min']:.3f} | {r['user'] + r['system']:.3f} |")
    cpu = lambda r: r["user"] + r["system"]
    ratios.append((on["command"].split(",")[0], on["median"] / off["median"],
                   on["min"] / off["min"], cpu(on) / cpu(off)))
# The fastest run is the one other work on the machine disturbed least.
for name, wall, fastest, cpu in ratios:
    print(f"{name}: decoding and archives cost {wall:.2f}x median wall, {fastest:.2f}x min wall, "
          f"{cpu:.2f}x CPU (target <= 1.15x)")
PY
