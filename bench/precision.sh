#!/usr/bin/env bash
# Precision benchmark: what the default rule pack finds in large trees of real, published source
# code, where (almost) every finding is a test fixture, a documentation example or a false
# positive. Prints a markdown table: per corpus its size and findings per 100 MB, then findings
# per rule and corpus. docs/precision.md records a run and classifies what was found.
#
#   bench/precision.sh                 build (cargo build --release), fetch what is missing, scan
#   BIN=/path/to/credsweep bench/precision.sh     scan with that binary instead (no build)
#   SCAN_ARGS="--no-default-rules --rules rules/a.toml ..." bench/precision.sh
#                                      extra arguments for every scan (try rule files unbuilt)
#   DETAILS=1 bench/precision.sh       also write every finding (redacted, as the JSON report has
#                                      it) to bench/.cache/precision/findings-CORPUS.json
#
# Corpora:
#   cargo   the cargo registry's unpacked sources (~/.cargo/registry/src/*/, there after a build)
#   pypi    the wheels of a fixed list of popular PyPI packages at pinned versions, unpacked
#   npm     the tarballs of a fixed list of popular npm packages at pinned versions, unpacked
# The PyPI and npm packages are fetched once (pip download --no-deps, npm pack) into
# bench/.cache/precision/ (git-ignored) and unpacked there; a later run reuses them and goes to
# the network only for a package that is missing. The pinned lists make two runs comparable:
# bump a version only with a new baseline in docs/precision.md.
#
# Scans: credsweep dir --no-ignore --no-config (every file, the project's own allow-list out of
# it), all cores. Exit status 0 when every scan ran (findings are what is measured, not an error).
#
# Needs: python3 with pip, npm, tar.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cache=$root/bench/.cache/precision
mkdir -p "$cache/dl/pypi" "$cache/dl/npm" "$cache/src/pypi" "$cache/src/npm"

for tool in python3 npm tar; do
  command -v "$tool" >/dev/null || { echo "bench/precision.sh needs $tool" >&2; exit 2; }
done

if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN=${CARGO_TARGET_DIR:-$root/target}/release/credsweep
fi

# name==version: popular packages of many kinds (cloud SDKs, web frameworks, data, tooling),
# pure-Python wheels where there is one (binary extension modules are skipped by the scan anyway).
pypi=(
  botocore==1.35.36 boto3==1.35.36 awscli==1.35.2 django==5.1.2 flask==3.0.3 requests==2.32.3
  urllib3==2.2.3 sqlalchemy==2.0.35 alembic==1.13.3 celery==5.4.0 kombu==5.4.2 redis==5.1.1
  pydantic==2.9.2 fastapi==0.115.2 starlette==0.40.0 httpx==0.27.2 aiohttp==3.10.10
  jinja2==3.1.4 click==8.1.7 rich==13.9.2 pygments==2.18.0 sphinx==8.1.3 docutils==0.21.2
  setuptools==75.1.0 pip==24.2 wheel==0.44.0 pytest==8.3.3 hypothesis==6.115.0 tox==4.21.2
  ansible-core==2.17.5 paramiko==3.5.0 cryptography==43.0.1 pyjwt==2.9.0 oauthlib==3.2.2
  requests-oauthlib==2.0.0 google-api-python-client==2.149.0 google-auth==2.35.0
  google-cloud-storage==2.18.2 azure-core==1.31.0 azure-storage-blob==12.23.1
  azure-identity==1.19.0 kubernetes==31.0.0 docker==7.1.0 openai==1.51.2 anthropic==0.36.0
  stripe==11.1.0 twilio==9.3.3 sendgrid==6.11.0 slack-sdk==3.33.1 sentry-sdk==2.16.0
  pymongo==4.10.1 psycopg==3.2.3 pymysql==1.1.1 elasticsearch==8.15.1 scrapy==2.11.2
  tornado==6.4.1 werkzeug==3.0.4 gunicorn==23.0.0 ipython==8.28.0 jupyterlab==4.2.5
  notebook==7.2.2 transformers==4.45.2 langchain==0.3.3 langchain-community==0.3.2
  mypy==1.12.0 black==24.10.0 ruff==0.6.9 pylint==3.3.1 networkx==3.4.1 sympy==1.13.3
  matplotlib==3.9.2 pandas==2.2.3 scikit-learn==1.5.2
)
# name@version
npm_pkgs=(
  typescript@5.6.3 aws-sdk@2.1691.0 @aws-sdk/client-s3@3.670.0 lodash@4.17.21 moment@2.30.1
  webpack@5.95.0 eslint@9.12.0 react@18.3.1 react-dom@18.3.1 next@14.2.15 vue@3.5.12
  @angular/core@18.2.8 @angular/compiler@18.2.8 rxjs@7.8.1 express@4.21.1 axios@1.7.7
  prettier@3.3.3 three@0.169.0 monaco-editor@0.52.0 pdfjs-dist@4.7.76 date-fns@4.1.0
  core-js@3.38.1 @babel/core@7.25.8 @babel/parser@7.25.8 @babel/types@7.25.8 jest@29.7.0
  mongoose@8.7.1 sequelize@6.37.4 firebase@10.14.1 firebase-admin@12.6.0 stripe@17.2.0
  twilio@5.3.4 @sendgrid/mail@8.1.3 @slack/web-api@7.6.0 openai@4.67.3 googleapis@144.0.0
  @google-cloud/storage@7.13.0 @azure/storage-blob@12.25.0 @azure/identity@4.4.1
  puppeteer-core@23.5.3 playwright-core@1.48.0 socket.io@4.8.0 ws@8.18.0 jsonwebtoken@9.0.2
  passport@0.7.0 bcryptjs@2.4.3 nodemailer@6.9.15 pg@8.13.0 mysql2@3.11.3 redis@4.7.0
  ioredis@5.4.1 dotenv@16.4.5 chart.js@4.4.4 d3@7.9.0 jquery@3.7.1 bootstrap@5.3.3
  tailwindcss@3.4.13 sass@1.79.5 less@4.2.0 @mui/material@6.1.3 antd@5.21.3 svelte@4.2.19
  rollup@4.24.0 esbuild@0.24.0 vite@5.4.9 @sentry/node@8.34.0 @octokit/rest@21.0.2
  graphql@16.9.0 apollo-server@3.13.0 @prisma/client@5.20.0 prisma@5.20.0 typeorm@0.3.20
)

fetch_pypi() {
  local spec name dir
  for spec in "${pypi[@]}"; do
    name=${spec%%==*}
    dir=$cache/src/pypi/${spec/==/-}
    [ -d "$dir" ] && continue
    rm -rf "$cache/dl/pypi/tmp"
    mkdir -p "$cache/dl/pypi/tmp"
    # One wheel for a fixed platform and Python, so that every machine fetches the same files.
    if ! python3 -m pip download --quiet --no-deps --only-binary=:all: \
        --platform manylinux2014_x86_64 --python-version 3.12 --implementation cp \
        -d "$cache/dl/pypi/tmp" "$spec" >&2; then
      echo "precision: could not fetch $spec from PyPI, left out" >&2
      continue
    fi
    mkdir -p "$dir.part"
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
      "$(ls "$cache/dl/pypi/tmp/"*.whl | head -1)" "$dir.part"
    mv "$dir.part" "$dir"
    rm -rf "$cache/dl/pypi/tmp"
    echo "precision: unpacked $name" >&2
  done
}

fetch_npm() {
  local spec dir tgz
  for spec in "${npm_pkgs[@]}"; do
    dir=$cache/src/npm/$(printf '%s' "$spec" | tr '/@' '+-' | sed 's/^-//')
    [ -d "$dir" ] && continue
    rm -rf "$cache/dl/npm/tmp"
    mkdir -p "$cache/dl/npm/tmp"
    if ! (cd "$cache/dl/npm/tmp" && npm pack --silent "$spec" >/dev/null 2>&1); then
      echo "precision: could not fetch $spec from npm, left out" >&2
      continue
    fi
    tgz=$(ls "$cache/dl/npm/tmp/"*.tgz | head -1)
    mkdir -p "$dir.part"
    tar -xzf "$tgz" -C "$dir.part" --no-same-owner --no-same-permissions
    mv "$dir.part" "$dir"
    rm -rf "$cache/dl/npm/tmp"
    echo "precision: unpacked $spec" >&2
  done
}

fetch_pypi
fetch_npm

cargo_src=("$HOME"/.cargo/registry/src/*/)
[ -d "${cargo_src[0]}" ] || { echo "precision: no cargo registry sources (build the project first)" >&2; exit 2; }

out=$cache/results
rm -rf "$out"
mkdir -p "$out"
scan() { # corpus-name dir...
  local name=$1
  shift
  local bytes status=0
  bytes=$(find "$@" -type f -print0 | du -cb --files0-from=- | tail -1 | cut -f1)
  # shellcheck disable=SC2086 # SCAN_ARGS is a list of words
  "$BIN" dir --no-ignore --no-config --format json -q ${SCAN_ARGS:-} "$@" >"$out/$name.json" || status=$?
  if [ "$status" -gt 1 ]; then
    echo "precision: the scan of $name failed (exit $status)" >&2
    exit 2
  fi
  printf '%s\t%s\n' "$name" "$bytes" >>"$out/sizes.tsv"
  if [ -n "${DETAILS:-}" ]; then
    cp "$out/$name.json" "$cache/findings-$name.json"
  fi
}
scan cargo "${cargo_src[@]}"
scan pypi "$cache/src/pypi"
scan npm "$cache/src/npm"

# shellcheck disable=SC2086
rules=$("$BIN" rules list ${SCAN_ARGS:-} | tail -1)
echo "## Precision: $rules ($(date -u +%Y-%m-%d), $("$BIN" --version))"
echo
python3 - "$out" <<'PY'
import json, sys, collections
out = sys.argv[1]
sizes = [line.split("\t") for line in open(f"{out}/sizes.tsv").read().splitlines()]
per_rule = collections.defaultdict(collections.Counter)
total = 0
print("| corpus | MB | files with findings | findings | findings per 100 MB |")
print("|---|---:|---:|---:|---:|")
for name, size in sizes:
    size = int(size)
    total += size
    found = json.load(open(f"{out}/{name}.json"))["findings"]
    for f in found:
        per_rule[f["rule_id"]][name] += 1
    files = len({f["path"] for f in found})
    print(f"| {name} | {size / 1e6:.0f} | {files} | {len(found)} | {len(found) * 1e8 / size:.1f} |")
print()
names = [n for n, _ in sizes]
print("| rule | " + " | ".join(names) + " | per 100 MB (all) |")
print("|---|" + "---:|" * (len(names) + 1))
for rule in sorted(per_rule):
    c = per_rule[rule]
    cells = " | ".join(str(c[n]) for n in names)
    print(f"| {rule} | {cells} | {sum(c.values()) * 1e8 / total:.1f} |")
PY
