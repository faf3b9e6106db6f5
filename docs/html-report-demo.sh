#!/usr/bin/env bash
# Builds a small demo history and writes credsweep's HTML report of it, and with chromium the
# README's screenshot (docs/html-report.png).
#
#   docs/html-report-demo.sh [CREDSWEEP] [REPORT.html] [SCREENSHOT.png]
#
# Defaults: target/release/credsweep (or $CARGO_TARGET_DIR's), credsweep-demo-report.html in the
# current directory, and no screenshot unless a third argument is given. Every credential here is
# FAKE: shaped like the real thing so that the rules match, made up, working nowhere (credsweep's
# own configuration allows them through its `fake` stopword). The demo repository lives in a
# temporary directory and is removed at exit; its commits are dated over two years so that the
# timeline has a shape.
set -euo pipefail
here=$PWD
cd "$(dirname "$0")/.."

bin=${1:-${CARGO_TARGET_DIR:-target}/release/credsweep}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
report=${2:-$here/credsweep-demo-report.html}
shot=${3:-}

repo=$tmp/acme-payments
git init -q -b main "$repo"
# No signing, no hooks (a credsweep hook installed globally would rightly refuse these commits).
g() { git -C "$repo" -c commit.gpgsign=false -c core.hooksPath=/dev/null "$@"; }
# commit DATE AUTHOR MESSAGE: commits everything, as AUTHOR, on DATE.
commit() {
  g add -A
  GIT_AUTHOR_DATE=$1 GIT_COMMITTER_DATE=$1 GIT_AUTHOR_NAME=$2 GIT_COMMITTER_NAME=$2 \
    GIT_AUTHOR_EMAIL="$(tr 'A-Z ' 'a-z.' <<<"$2")@acme.invalid" \
    GIT_COMMITTER_EMAIL="$(tr 'A-Z ' 'a-z.' <<<"$2")@acme.invalid" \
    g commit -q -m "$3"
}
put() { mkdir -p "$(dirname "$repo/$1")"; printf '%s\n' "$2" >"$repo/$1"; }

put README.md "# acme-payments"
commit 2024-01-15T10:00:00Z "Ann Example" "Initial commit"
# The README's first-run demo id (examples/demo/.env): a fake id, allowed on its line.
vobiz_id=partner-7c1e94ab20f3 # credsweep:allow
put .env "VOBIZ_AUTH_ID=$vobiz_id
VOBIZ_AUTH_TOKEN=sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE"
commit 2024-02-03T09:12:00Z "Ann Example" "Add Vobiz settings for local runs"
put deploy/aws.ini "[default]
aws_access_key_id = AKIAP7DFAKEVC7ATTXOM
aws_secret_access_key = OSpNFAKE3ElTtZ+DcfptEZoiHAaVhhkxnvjESN0c"
commit 2024-04-22T16:40:00Z "Bob Builder" "deploy: credentials for the staging bucket"
put ci/notify.py 'client = WebClient(token="xoxb-445342877231-6162665630734-YvMQ9IBFfJiUFAKEdj49IZys")'
commit 2024-07-09T11:05:00Z "Chen Li" "ci: post build results to Slack"
g rm -q deploy/aws.ini
commit 2024-07-30T08:30:00Z "Bob Builder" "Remove the AWS file (moved to the vault)"
put .github/workflows/release.yml "env:
  GITHUB_TOKEN: ghp_XSP1W50orOrvuYKSP6yeOSw4ozT2FAKEPFjG"
commit 2024-11-18T14:00:00Z "Dana Scully" "release: tag from CI"
put billing/stripe.env "STRIPE_SECRET_KEY=sk_live_PMVUqUFAKEfQ4uSXe9zlMD9O5uR2DLw0"
commit 2025-03-02T10:20:00Z "Ann Example" "billing: Stripe test setup"
put scripts/backfill.sh "export AWS_ACCESS_KEY_ID=\"AKIAIHKK5FAKERGTBJZW\"
export AWS_SECRET_ACCESS_KEY=\"HC/WkhzYPFAKE9bGbcsIk3tUFxYmLpeCtnq4mJzk\""
commit 2025-03-27T17:45:00Z "Chen Li" "scripts: one-off backfill"
put config/gh.yml "oauth_token: gho_2RXFAKEAOpBOSxYTD4N3OTivJAYcHglqRLxe"
commit 2025-08-11T12:00:00Z "Dana Scully" "config: gh CLI settings"

status=0
# From the temporary directory, so that the report names the repository `acme-payments`.
bin=$(realpath "$bin")
report=$(realpath -m "$report")
(cd "$tmp" && "$bin" git acme-payments --no-config -q --format html -o "$report") || status=$?
# 1 is "findings": what a demo of findings should end with.
[ "$status" -eq 1 ] || { echo "credsweep exited $status, expected 1" >&2; exit 1; }
echo "report: $report"

if [ -n "$shot" ]; then
  chromium --headless --disable-gpu --no-sandbox --hide-scrollbars \
    --screenshot="$(realpath -m "$shot")" --window-size=1280,900 "file://$report" 2>/dev/null
  echo "screenshot: $shot ($(wc -c <"$shot") bytes)"
fi
