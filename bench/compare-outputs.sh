#!/usr/bin/env bash
# Output equivalence: runs two credsweep binaries over the same inputs and diffs their reports
# (text, JSON, SARIF) and exit statuses. For refactors that must change no behaviour.
#
#   bench/compare-outputs.sh BASE_BINARY [NEW_BINARY]   (NEW defaults to this tree's release build)
#
# Inputs: this repository's own tree and history (its configuration in force, with
# --show-suppressed so that baselined findings are rendered too), examples/demo without the
# configuration, standard input, a staged change, and a generated history corpus with planted
# fake credentials (../shared/bench/make-history-corpus.py, COMMITS=2000 by default). Wall-clock
# times in text reports are masked. Exits 1 if any output differs.
set -euo pipefail
cd "$(dirname "$0")/.."
base=$(realpath "${1:?usage: bench/compare-outputs.sh BASE_BINARY [NEW_BINARY]}")
if [ -n "${2:-}" ]; then
  new=$(realpath "$2")
else
  cargo build --release --quiet
  new=${CARGO_TARGET_DIR:-$PWD/target}/release/credsweep
fi
work=${TMPDIR:-/tmp}/credsweep-compare
commits=${COMMITS:-2000}
mkdir -p "$work"
corpus=$work/corpus-$commits.git
if [ ! -d "$corpus" ]; then
  python3 ../shared/bench/make-history-corpus.py "$corpus" --commits "$commits" --plant 20 >&2
fi
checkout=$work/checkout-$commits
if [ ! -d "$checkout" ]; then
  git clone -q "$corpus" "$checkout"
fi
staged=$work/staged
rm -rf "$staged"
git init -q "$staged"
printf 'VOBIZ_AUTH_ID=partner-7F3A9C21fake\n' >"$staged/old.env"
git -C "$staged" add old.env
git -C "$staged" -c user.name=t -c user.email=t@t.invalid commit -qm init
printf 'X-Auth-ID: PA_FAKE0000TESTONLY\nX-Auth-Token: sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE\n' >"$staged/new.env"
git -C "$staged" add new.env

failed=0
# compare NAME ARGS...: runs both binaries with ARGS (stdin from $input if set).
compare() {
  local name=$1
  shift
  local b n
  b=$(cd "$work" && { "$base" "$@" <"${input:-/dev/null}" 2>"$work/base.err"; echo "exit $?"; } | sed -E 's/ in [0-9]+\.[0-9]+ s(;|$)/ in T s\1/')
  n=$(cd "$work" && { "$new" "$@" <"${input:-/dev/null}" 2>"$work/new.err"; echo "exit $?"; } | sed -E 's/ in [0-9]+\.[0-9]+ s(;|$)/ in T s\1/')
  if [ "$b" == "$n" ] && diff -q "$work/base.err" "$work/new.err" >/dev/null; then
    echo "same      $name ($(printf '%s\n' "$b" | wc -l) lines, $(printf '%s\n' "$b" | tail -1))"
  else
    echo "DIFFERENT $name"
    diff <(printf '%s\n' "$b") <(printf '%s\n' "$n") | head -20 || true
    diff "$work/base.err" "$work/new.err" | head -10 || true
    failed=1
  fi
}

repo=$PWD
for fmt in text json sarif; do
  compare "self dir --$fmt" dir "$repo" --format "$fmt" --show-suppressed --color never
  compare "self git --$fmt" git "$repo" --format "$fmt" --show-suppressed --quiet --color never
  compare "self tests/ no config --$fmt" dir "$repo/tests" "$repo/src" --no-config --format "$fmt" --color never
  compare "self git no config --$fmt" git "$repo" --no-config --format "$fmt" --quiet --color never
  compare "demo --$fmt" dir "$repo/examples/demo" --no-config --format "$fmt" --color never
  compare "corpus tree --$fmt" dir "$checkout" --no-config --format "$fmt" --color never
  compare "corpus git --$fmt" git "$corpus" --no-config --format "$fmt" --quiet --color never
  compare "corpus git --reachable-only --$fmt" git "$corpus" --no-config --reachable-only --format "$fmt" --quiet --color never
  input=$repo/examples/demo/.env compare "stdin --$fmt" stdin --no-config --format "$fmt" --color never
  compare "staged --$fmt" staged --repo "$staged" --no-config --format "$fmt" --color never
done
compare "corpus git --min-severity error" git "$corpus" --no-config --min-severity error --format json --quiet
exit $failed
