#!/usr/bin/env bash
# The blob cache (`credsweep git --cache DIR`): a repeat audit after new commits against a cold
# audit of the same state, in the same run.
#
#   bench/cache.sh [MIRROR] [NEW]   MIRROR: a clone of rust-lang/cargo (default
#                                   /work/.mirror/rust-lang+cargo/repo, read only); NEW: how many
#                                   commits arrive between the two audits (default 300)
#
# 1. A bare repository gets the history up to NEW commits behind MIRROR's HEAD; it is audited
#    with an empty cache (which fills it).
# 2. HEAD is fetched into it (a new pack); it is audited warm (with the cache), then cold (no
#    cache), RUNS=3 times each, alternating.
# 3. The warm and cold JSON reports must be identical apart from `summary.cache`; the table
#    gives the medians of wall and CPU (user+sys) time and the warm/cold ratios. Target: CPU
#    ratio <= 0.2. Exits 1 if the reports differ.
#
# The mirror may be a partial clone (blobs absent): the audits pass --allow-missing-promised.
# BIN=path audits with that binary (e.g. an earlier build, to compare) instead of building.
set -euo pipefail
cd "$(dirname "$0")/.."
mirror=${1:-/work/.mirror/rust-lang+cargo/repo}
new=${2:-300}
runs=${RUNS:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/credsweep-cache-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [ -n "${BIN:-}" ]; then
    bin=$BIN
else
    cargo build --release --quiet
    bin=${CARGO_TARGET_DIR:-$PWD/target}/release/credsweep
fi
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1

tip=$(git -C "$mirror" rev-parse HEAD)
old=$(git -C "$mirror" rev-list --max-count=1 --skip="$new" "$tip")
repo=$work/repo.git
git init -q --bare "$repo"
# A fetch by id needs the serving side to allow it; the mirror is not changed.
upload="git -c uploadpack.allowAnySHA1InWant=true upload-pack"
git -C "$repo" fetch -q --no-tags --upload-pack="$upload" "file://$mirror" "$old:refs/heads/main"
cache=$work/cache
python3 - "$bin" "$repo" "$cache" "$runs" "$mirror" "$tip" "$upload" <<'PY'
import json, os, resource, statistics, subprocess, sys, time

bin, repo, cache, runs, mirror, tip, upload = sys.argv[1:8]
runs = int(runs)

def audit(with_cache):
    args = [bin, "git", repo, "--allow-missing-promised", "--format", "json"]
    args += ["--cache", cache] if with_cache else ["--no-cache"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.monotonic()
    p = subprocess.run(args, capture_output=True)
    wall = time.monotonic() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if p.returncode not in (0, 1):
        sys.exit(f"credsweep failed ({p.returncode}): {p.stderr.decode(errors='replace')}")
    return json.loads(p.stdout), wall, cpu

first, w, c = audit(True)
print(f"first audit, empty cache: {w:.2f} s wall, {c:.2f} s CPU; cache {first['summary']['cache']}")
subprocess.run(["git", "-C", repo, "fetch", "-q", "--no-tags", f"--upload-pack={upload}",
                f"file://{mirror}", f"{tip}:refs/heads/main"], check=True)
count = subprocess.run(["git", "-C", repo, "rev-list", "--count", "--all"], capture_output=True,
                       text=True, check=True).stdout.strip()
print(f"fetched the tip: {count} commits now")

warm, cold = [], []
warm_doc = cold_doc = None
for i in range(runs):
    # The warm audits must not learn from each other: each starts from the first audit's cache.
    snapshot = cache + ".first"
    if i == 0:
        subprocess.run(["cp", "-a", cache, snapshot], check=True)
    else:
        subprocess.run(["rm", "-rf", cache], check=True)
        subprocess.run(["cp", "-a", snapshot, cache], check=True)
    warm_doc, w, c = audit(True)
    warm.append((w, c))
    cold_doc, w, c = audit(False)
    cold.append((w, c))

counters = warm_doc["summary"].pop("cache")
cold_doc["summary"].pop("cache", None)
same = warm_doc == cold_doc
med = lambda xs, k: statistics.median(x[k] for x in xs)
print(f"warm cache counters: {counters}")
print(f"{'':6} {'wall s':>8} {'CPU s':>8}")
print(f"{'cold':6} {med(cold, 0):8.2f} {med(cold, 1):8.2f}")
print(f"{'warm':6} {med(warm, 0):8.2f} {med(warm, 1):8.2f}")
print(f"warm/cold: wall {med(warm, 0) / med(cold, 0):.3f}, CPU {med(warm, 1) / med(cold, 1):.3f} "
      f"(target <= 0.2)")
print(f"findings: {len(warm_doc['findings'])} warm, {len(cold_doc['findings'])} cold; "
      f"reports {'identical' if same else 'DIFFER'} apart from summary.cache")
sys.exit(0 if same else 1)
PY
