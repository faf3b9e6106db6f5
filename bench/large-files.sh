#!/usr/bin/env bash
# Large files: what a scan costs per byte when opening files is not the cost. `bench/tree.sh`
# scans 10,000 small files, where the kernel's share is half; here a few large files of kinds
# that make keyword hits dense, each scanned by credsweep (all default rules) and by ripgrep
# with the Vobiz patterns only, in the same run:
#
#   sources  the cargo registry's .rs/.toml/.md files concatenated into 20 MB files (generic
#            keywords such as `token` and `secret` about once a kilobyte)
#   links    Markdown lines with a URL and an email address on every line (`://` and `@`)
#   log      an application log with `token_type=` and hex ids on every line
#   minified one 60 MB line of JavaScript naming keys, secrets and tokens
#
#   bench/large-files.sh                  BASE=/path/to/credsweep adds an earlier build
#   FORMAT=sarif bench/large-files.sh     the report format (default json)
#
# Prints, per corpus and command, the median wall time, CPU (user + sys) and MB per CPU-second.
# Needs: rg, hyperfine, python3 (apt-get install ripgrep hyperfine python3), a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
format=${FORMAT:-json}
for tool in rg hyperfine python3; do
  command -v $tool >/dev/null || { echo "bench/large-files.sh needs $tool" >&2; exit 2; }
done
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/credsweep
work=$(mktemp -d "${TMPDIR:-/tmp}/credsweep-large.XXXXXX")
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/sources" "$work/links" "$work/log" "$work/minified"
registry=$(ls -d "$HOME"/.cargo/registry/src/*/ 2>/dev/null | head -1 || true)
if [ -n "$registry" ]; then
  find "$registry" -type f \( -name '*.rs' -o -name '*.toml' -o -name '*.md' \) -print0 | sort -z |
    xargs -0 cat 2>/dev/null | head -c 100000000 | split -b 20M - "$work/sources/part" || true
fi
python3 - "$work" <<'PY'
import hashlib, random, sys
work = sys.argv[1]
rnd = random.Random(1)
with open(f"{work}/links/links.md", "w") as f:
    for i in range(400_000):
        f.write(f"- [item {i}](https://docs.example.org/section/{i}/page-{rnd.randint(0, 99999)}.html)"
                f" by dev{i}@example.org\n")
with open(f"{work}/log/app.log", "w") as f:
    for i in range(300_000):
        h = hashlib.md5(str(i).encode()).hexdigest()
        s = hashlib.sha1(str(i).encode()).hexdigest()
        f.write(f"2026-12-01T10:{i % 60:02d}:{i % 60:02d}Z INFO request id={h} user=u{i} "
                f"path=/api/v1/items/{i}?token_type=bearer status=200 took={i % 900}ms session={s}\n")
with open(f"{work}/minified/bundle.min.js", "w") as f:
    f.write(";".join(
        f'function a{i}(b,c){{var key="k{i}",secret=b.token||c.apiKey;'
        f'return fetch("https://api.x.io/v{i % 3}/"+key,{{headers:{{Authorization:"Bearer "+secret}}}})}}'
        for i in range(400_000)))
PY

vobiz=(-e 'sk_live_[A-Za-z0-9]{20,64}' -e 'sk_test_[A-Za-z0-9]{20,64}' -e 'partner-[a-z0-9]*[0-9][a-z0-9]{4,}'
       -e 'PA_[A-Z0-9]{12,40}' -e 'MA_[A-Z0-9]{12,40}' -e 'eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}')
echo "| corpus | command | median wall (s) | CPU (s) | MB per CPU-second |"
echo "|---|---|---|---|---|"
for corpus in sources links log minified; do
  dir=$work/$corpus
  [ -n "$(ls -A "$dir")" ] || continue
  bytes=$(du -cb "$dir"/* | tail -1 | cut -f1)
  rg_cmd="rg -uu --no-messages -c $(printf '%q ' "${vobiz[@]}") $dir >/dev/null || true"
  cs_args="dir --no-ignore -q --format $format $dir >/dev/null; test \$? -le 1"
  commands=(-n rg-vobiz-only "$rg_cmd" -n credsweep "$bin $cs_args")
  if [ -n "${BASE:-}" ]; then
    commands+=(-n credsweep-base "$(realpath "$BASE") $cs_args")
  fi
  out=$work/$corpus.json
  hyperfine -w 1 -r "$runs" --export-json "$out" "${commands[@]}" >/dev/null
  python3 - "$out" "$bytes" "$corpus" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
mb = int(sys.argv[2]) / 1e6
for r in res:
    cpu = r["user"] + r["system"]
    print(f"| {sys.argv[3]} ({mb:.0f} MB) | {r['command']} | {r['median']:.3f} | {cpu:.3f} | {mb / cpu:.0f} |")
PY
done
