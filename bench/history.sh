#!/usr/bin/env bash
# History scan benchmark: `credsweep git` (all rules, all cores) against the cost of inflating every
# object once, `git cat-file --batch-all-objects --batch > /dev/null`, on the same repository in the
# same run; then `credsweep staged` on a 10,000-file repository with one staged change.
#
#   bench/history.sh [CORPUS.git]    default: $TMPDIR/credsweep-bench/corpus.git, built if absent
#   bench/history.sh /path/to/clone.git   a real repository (a bare clone, e.g. of rust-lang/cargo):
#                                         no truth file, so no planted check; same table
#
# The corpus is built by ../shared/bench/make-history-corpus.py (COMMITS=20000 PLANT=20 by
# default) with fake credentials planted; every planted one must be found. RUNS=5 repetitions,
# medians reported. Targets: credsweep <= 0.6x the floor's wall time, peak anonymous memory
# <= 256 MB (peak RSS also counts the mapped pack and index, file-backed and reclaimable),
# staged < 50 ms. Exits 1 if a planted credential is missed or a target is not met.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
commits=${COMMITS:-20000}
plant=${PLANT:-20}
work=${TMPDIR:-/tmp}/credsweep-bench
corpus=${1:-$work/corpus.git}
mkdir -p "$work"

if [ ! -d "$corpus" ]; then
  echo "building $corpus ($commits commits, $plant planted credentials)..." >&2
  python3 ../shared/bench/make-history-corpus.py "$corpus" --commits "$commits" --plant "$plant" >&2
fi
truth=${corpus%/}.truth.json
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/credsweep

# The staged corpus: 10,000 files in 100 directories, committed, then one file changed and staged.
staged=$work/staged-10k
if [ ! -d "$staged/.git" ]; then
  rm -rf "$staged"
  mkdir -p "$staged"
  python3 - "$staged" <<'PY'
import os, sys
root = sys.argv[1]
for d in range(100):
    os.makedirs(f"{root}/pkg{d:02}/src", exist_ok=True)
    for f in range(100):
        with open(f"{root}/pkg{d:02}/src/file{f:03}.txt", "w") as fh:
            fh.write(f"package {d} file {f}\n" * 20)
PY
  export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
  git -C "$staged" init -q -b main
  git -C "$staged" add -A
  git -C "$staged" -c user.name=bench -c user.email=bench@example.com commit -q -m "10k files"
  printf 'export VOBIZ_AUTH_TOKEN=sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE\n' >> "$staged/pkg42/src/file007.txt"
  git -C "$staged" add pkg42/src/file007.txt
  unset GIT_CONFIG_GLOBAL GIT_CONFIG_NOSYSTEM
fi

python3 - "$bin" "$corpus" "$truth" "$staged" "$runs" <<'PY'
import json, os, statistics, subprocess, sys, time

bin, corpus, truth_path, staged, runs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])

def rss_anon_kb(pid):
    """The process's anonymous resident memory now (RssAnon, KB): mapped pack and index pages
    are file-backed and reclaimable, and not counted here."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0

def run(cmd, stdout=subprocess.DEVNULL, ok=(0,)):
    """Wall seconds, peak RSS (MB) and peak anonymous RSS (MB, sampled every 5 ms) of one run."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.DEVNULL)
    anon = 0
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        anon = max(anon, rss_anon_kb(p.pid))
        time.sleep(0.005)
    wall = time.perf_counter() - t
    code = os.waitstatus_to_exitcode(status)
    if code not in ok:
        sys.exit(f"{' '.join(cmd)} exited {code}")
    return wall, ru.ru_maxrss / 1024, anon / 1024

def bench(cmd, ok=(0,)):
    run(cmd, ok=ok)  # warm the page cache
    res = [run(cmd, ok=ok) for _ in range(runs)]
    return (statistics.median(r[0] for r in res), min(r[0] for r in res),
            max(r[1] for r in res), max(r[2] for r in res))

count = lambda *a: subprocess.run(["git", "-C", corpus, *a], capture_output=True, text=True).stdout.strip()
objects = count("count-objects", "-v")
size = {k: v for k, v in (l.split(": ") for l in objects.splitlines())}
print(f"corpus: {corpus}: {count('rev-list', '--all', '--count')} commits, "
      f"{size.get('in-pack', '?')} packed objects, {int(size.get('size-pack', 0)) // 1024} MB packed; "
      f"{os.cpu_count()} cores; {runs} runs each, medians")

floor = ["git", "-C", corpus, "cat-file", "--batch-all-objects", "--batch"]
# A partial clone's absent blobs are named but are not what is measured here.
scan = [bin, "git", corpus, "--quiet", "--format", "json", "--no-redact", "--allow-missing-promised"]
f_med, f_min, f_rss, f_anon = bench(floor)
c_med, c_min, c_rss, c_anon = bench(scan, ok=(0, 1))

# Every planted credential found, at its path, with the planting commit's message.
out = subprocess.run(scan, capture_output=True, text=True)
doc = json.loads(out.stdout)
found = {(f.get("path"), f["secret"]) for f in doc["findings"]}
by_path = {}
for f in doc["findings"]:
    by_path.setdefault(f.get("path"), []).append(f)
# A real repository has no truth file: nothing planted to check.
truth = json.load(open(truth_path)) if os.path.exists(truth_path) else []
missed = []
for t in truth:
    fs = [f for f in by_path.get(t["path"], []) if f["rule_id"] == "vobiz-auth-token"]
    if not fs or fs[0].get("message") != f"change {t['commit_index']}" or fs[0]["line"] != t["token_line"]:
        missed.append(t["path"])

s_cmd = [bin, "staged", "--repo", staged, "--quiet"]
s_med, s_min, s_rss, s_anon = bench(s_cmd, ok=(1,))
s_runs = [run(s_cmd, ok=(1,))[0] for _ in range(20)]
s_med = statistics.median(s_runs + [s_med])

print()
print("| command | median wall (s) | min (s) | peak RSS (MB) | peak anon (MB) | ratio to floor |")
print("|---|---|---|---|---|---|")
print(f"| git cat-file --batch-all-objects --batch (floor) | {f_med:.3f} | {f_min:.3f} | {f_rss:.0f} | {f_anon:.0f} | 1.00x |")
print(f"| credsweep git (all rules) | {c_med:.3f} | {c_min:.3f} | {c_rss:.0f} | {c_anon:.0f} | {c_med / f_med:.2f}x |")
print(f"| credsweep staged (10,000 files, 1 staged) | {s_med * 1000:.1f} ms | {s_min * 1000:.1f} ms | {s_rss:.0f} | {s_anon:.0f} | |")
print()
planted = (f"planted credentials found: {len(truth) - len(missed)}/{len(truth)}" if truth
           else "a real repository: nothing planted to check")
print(f"{planted} ({doc['summary']['scanned']} blobs, {doc['summary']['bytes'] / 1e6:.1f} MB scanned, "
      f"{len(doc['findings'])} findings)")
fail = []
if missed:
    fail.append(f"missed: {', '.join(missed)}")
if c_med > 0.6 * f_med:
    fail.append(f"credsweep git is {c_med / f_med:.2f}x the floor (target <= 0.6x)")
if c_anon > 256:
    fail.append(f"peak anonymous memory {c_anon:.0f} MB (target <= 256 MB)")
if s_med >= 0.050:
    fail.append(f"staged took {s_med * 1000:.1f} ms (target < 50 ms)")
for f in fail:
    print("FAIL:", f)
sys.exit(1 if fail else 0)
PY
