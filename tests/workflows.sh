#!/usr/bin/env bash
# Checks every GitHub workflow this repository documents, and the action itself, with the field's
# own tools: GitHub's schemas (check-jsonschema's vendor.github-workflows / vendor.github-actions)
# and zizmor's security audits, offline. A workflow is a ```yaml block in README.md or docs/*.md
# whose first line is `# .github/workflows/<name>.yml`. GitLab CI blocks (first line
# `# .gitlab-ci.yml`) are checked against GitLab's schema (vendor.gitlab-ci); pre-commit
# configuration blocks are not checked here.
# usage: tests/workflows.sh    (needs check-jsonschema and zizmor: pip install both)
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/.github/workflows" "$tmp/gitlab"

# Each block to <tmp>/.github/workflows/<source>-<n>.yml (zizmor reads a workflow's kind from
# where it lives).
python3 - "$tmp" README.md docs/*.md <<'PY'
import os, re, sys
tmp, sources = sys.argv[1], sys.argv[2:]
out = os.path.join(tmp, ".github", "workflows")
count = 0
for src in sources:
    text = open(src).read()
    for n, block in enumerate(re.findall(r"^```yaml\n(.*?)^```", text, re.S | re.M)):
        if re.match(r"# \.github/workflows/\S+\.ya?ml\n", block):
            name = re.sub(r"[^A-Za-z0-9]+", "-", src) + f"-{n}.yml"
            with open(os.path.join(out, name), "w") as f:
                f.write(block)
            print(f"workflow: {src} block {n} -> {name}")
            count += 1
        elif block.startswith("# .gitlab-ci.yml\n"):
            name = re.sub(r"[^A-Za-z0-9]+", "-", src) + f"-{n}.yml"
            with open(os.path.join(tmp, "gitlab", name), "w") as f:
                f.write(block)
            print(f"gitlab ci: {src} block {n} -> {name}")
if count == 0:
    sys.exit("no workflows found in " + " ".join(sources))
PY

status=0
check-jsonschema --builtin-schema vendor.github-workflows "$tmp"/.github/workflows/*.yml || status=1
check-jsonschema --builtin-schema vendor.github-actions action.yml || status=1
if compgen -G "$tmp/gitlab/*.yml" >/dev/null; then
  check-jsonschema --builtin-schema vendor.gitlab-ci "$tmp"/gitlab/*.yml || status=1
fi
# zizmor's exit status is non-zero on any finding; --offline: no GitHub API calls.
zizmor --offline "$tmp"/.github/workflows/*.yml || status=1
zizmor --offline action.yml || status=1
if [ "$status" -eq 0 ]; then
  echo "workflows: schemas and zizmor clean"
else
  echo "workflows: a check failed (above)" >&2
fi
exit "$status"
