#!/usr/bin/env bash
# Pre-commit hook benchmark: the hook `credsweep install-hook` writes, timed with hyperfine on a
# repository of 10,000 files (100 directories of 100) with one staged change.
#
#   bench/staged-hook.sh [WORKDIR]     default: $TMPDIR/credsweep-bench
#
# Timed, each including every process start (sh, git, credsweep):
#   - the installed hook script run directly, as git runs it (one clean file staged);
#   - `git hook run pre-commit`: git finding and running the hook;
#   - `git commit`: a whole commit with the hook (reset between runs);
#   - the hook with a token staged (it blocks: exit 1, ignored).
# Target: the hook under 100 ms wall (median). Exits 1 if it is not met. RUNS=30 by default.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-30}
work=${1:-${TMPDIR:-/tmp}/credsweep-bench}
repo=$work/staged-hook-10k
mkdir -p "$work"

command -v hyperfine >/dev/null || {
  echo "hyperfine is not installed (apt-get install hyperfine)" >&2
  exit 2
}
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/credsweep

# Nothing from the user's or the system's git configuration (a global core.hooksPath would move
# the hook, a global hook manager would run too).
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com

if [ ! -d "$repo/.git" ]; then
  rm -rf "$repo"
  mkdir -p "$repo"
  python3 - "$repo" <<'PY'
import os, sys
root = sys.argv[1]
for d in range(100):
    os.makedirs(f"{root}/pkg{d:02}/src", exist_ok=True)
    for f in range(100):
        with open(f"{root}/pkg{d:02}/src/file{f:03}.txt", "w") as fh:
            fh.write(f"package {d} file {f}\n" * 20)
PY
  git -C "$repo" init -q -b main
  git -C "$repo" add -A
  git -C "$repo" commit -q -m "10k files"
fi
base=$(git -C "$repo" rev-parse HEAD)
git -C "$repo" reset -q --hard "$base"
"$bin" install-hook --force --repo "$repo" >/dev/null
hook=$repo/.git/hooks/pre-commit
files=$(git -C "$repo" ls-files | wc -l)

# One staged change, clean.
clean_change() {
  git -C "$repo" reset -q --hard "$base"
  printf 'one more line\n' >> "$repo/pkg42/src/file007.txt"
  git -C "$repo" add pkg42/src/file007.txt
}
clean_change
(cd "$repo" && "$hook") >/dev/null 2>&1 || {
  echo "the hook failed on a clean change" >&2
  exit 1
}

echo "repository: $repo: $files files, 1 staged change; $(nproc) cores; hyperfine, $runs runs each"
json=$work/staged-hook
cd "$repo"
hyperfine -N --style none --warmup 3 --runs "$runs" --export-json "$json.hook.json" \
  --command-name "installed pre-commit hook (clean change)" "$hook" \
  --command-name "git hook run pre-commit" "git hook run pre-commit" \
  --command-name "credsweep staged alone" "$bin staged --quiet" >/dev/null
hyperfine -N --style none --warmup 3 --runs "$runs" --export-json "$json.commit.json" \
  --prepare "git reset -q --soft $base" \
  --command-name "git commit (hook included)" "git commit -q -m bench" >/dev/null
git reset -q --soft "$base"
printf 'VOBIZ_AUTH_TOKEN=sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE\n' >> pkg42/src/file007.txt
git add pkg42/src/file007.txt
hyperfine -N -i --style none --warmup 3 --runs "$runs" --export-json "$json.token.json" \
  --command-name "installed pre-commit hook (token staged: blocks, exit 1)" "$hook" >/dev/null 2>&1
clean_change

python3 - "$json.hook.json" "$json.commit.json" "$json.token.json" <<'PY'
import json, statistics, sys
rows = [r for path in sys.argv[1:] for r in json.load(open(path))["results"]]
print()
print("| command | median (ms) | mean ± σ (ms) | min (ms) | max (ms) |")
print("|---|---|---|---|---|")
for r in rows:
    ms = lambda v: v * 1000
    print(f"| {r['command']} | {ms(r['median']):.1f} | {ms(r['mean']):.1f} ± {ms(r['stddev'] or 0):.1f} "
          f"| {ms(r['min']):.1f} | {ms(r['max']):.1f} |")
print()
fail = False
for r in rows:
    if r["command"].startswith("installed pre-commit hook"):
        ms = r["median"] * 1000
        ok = ms < 100
        fail |= not ok
        print(f"{r['command']}: median {ms:.1f} ms: {'OK' if ok else 'FAIL'} (target < 100 ms)")
sys.exit(1 if fail else 0)
PY
