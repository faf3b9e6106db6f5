#!/usr/bin/env bash
# Builds the container image (Dockerfile) and scans a test repository with it, where a container
# engine works; elsewhere says plainly that it skipped. Every credential here is fake.
# usage: tests/container.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# What the image must be, checked with or without an engine: the last (default) stage is the
# binary alone, run as `credsweep` in /repo; the build context leaves out build output and fuzzing.
last_stage=$(awk '/^FROM /{stage=""} {stage=stage $0 "\n"} END{printf "%s", stage}' Dockerfile)
for want in '^FROM scratch$' '^WORKDIR /repo$' '^ENTRYPOINT \["/usr/local/bin/credsweep"\]$'; do
  printf '%b' "$last_stage" | grep -qE "$want" || { echo "FAIL Dockerfile: the final stage lacks $want"; exit 1; }
done
for ignored in target/ fuzz/; do
  grep -qxF "$ignored" .dockerignore || { echo "FAIL .dockerignore lacks $ignored"; exit 1; }
done
echo "ok   Dockerfile: final stage FROM scratch, WORKDIR /repo, ENTRYPOINT credsweep; .dockerignore"

engine=""
for e in docker podman; do
  if command -v "$e" >/dev/null && "$e" info >/dev/null 2>&1; then
    engine=$e
    break
  fi
done
if [ -z "$engine" ]; then
  echo "SKIP container: no working container engine (docker or podman whose 'info' succeeds): the image was not built"
  exit 0
fi

tag="credsweep-test:$$"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; "$engine" image rm -f "$tag" >/dev/null 2>&1 || true' EXIT

"$engine" build -q -t "$tag" .

# A repository whose history holds a token removed again.
repo="$tmp/repo"
mkdir -p "$repo"
g() { git -C "$repo" -c user.name=Ann -c user.email=ann@example.invalid -c commit.gpgsign=false "$@"; }
g init -q
echo 'STRIPE_SECRET_KEY=sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE' > "$repo/.env"
g add .env && g commit -qm config
g rm -q .env && g commit -qm "drop the key"

fail=0
status=0
"$engine" run --rm -v "$repo:/repo" "$tag" git . --quiet --no-config > "$tmp/out" || status=$?
if [ "$status" -eq 1 ] && grep -q stripe "$tmp/out"; then
  echo "ok   container: git history scan finds the removed token (exit 1)"
else
  echo "FAIL container: git scan exit $status"; cat "$tmp/out"; fail=1
fi
status=0
"$engine" run --rm -v "$repo:/repo" "$tag" dir . --quiet --no-config > "$tmp/out" || status=$?
if [ "$status" -eq 0 ]; then
  echo "ok   container: the clean work tree passes (exit 0)"
else
  echo "FAIL container: dir scan exit $status"; cat "$tmp/out"; fail=1
fi
size=$("$engine" image inspect -f '{{.Size}}' "$tag")
echo "image size: $size bytes"
exit "$fail"
