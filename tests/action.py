#!/usr/bin/env python3
"""Runs action.yml's steps locally, as a GitHub runner would, against throwaway git repositories.

usage: python3 tests/action.py CREDSWEEP_BINARY

The composite action's `run:` steps run with bash exactly as the runner starts them
(`bash --noprofile --norc -eo pipefail FILE`), with the environment the runner gives them
(GITHUB_OUTPUT, GITHUB_ACTION_PATH, RUNNER_TEMP, the event's name and base ref) and the step's
`env:` with its `${{ }}` expressions evaluated. `uses:` steps (the cache, the SARIF upload) are not
run: the cache always misses, and the upload is recorded as "would run" when its `if:` holds. The
release download is real: a tarball of the binary under test, with its checksum, served from a
file:// URL given as the action's `release-url`. Every credential here is fake (FAKE in plain
sight). Prints "N passed, N failed" and exits non-zero on any failure.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKEN = "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE"


def evaluate(expr, ctx):
    """A GitHub expression of the forms action.yml uses: context paths, 'strings', == != && || !
    and parentheses. A missing context value is the empty string, as on GitHub."""
    tokens = re.findall(r"'(?:[^']|'')*'|==|!=|&&|\|\||!|\(|\)|[A-Za-z_][A-Za-z0-9_.\-]*|\S", expr)
    py = []
    for t in tokens:
        if t.startswith("'"):
            py.append(repr(t[1:-1].replace("''", "'")))
        elif t in ("==", "!=", "(", ")"):
            py.append(t)
        elif t == "&&":
            py.append(" and ")
        elif t == "||":
            py.append(" or ")
        elif t == "!":
            py.append(" not ")
        elif t in ("true", "false"):
            py.append(repr(t == "true"))
        elif re.match(r"[A-Za-z_]", t):
            value = ctx
            for part in t.split("."):
                value = value.get(part, "") if isinstance(value, dict) else ""
            py.append(repr(value))
        else:
            raise ValueError(f"unsupported token {t!r} in {expr!r}")
    return eval("".join(py), {"__builtins__": {}})


def interpolate(text, ctx):
    return re.sub(r"\$\{\{\s*(.*?)\s*\}\}", lambda m: str(evaluate(m.group(1), ctx)), str(text))


def run_action(workspace, inputs, event="push", base_ref="", path_dir=None):
    """Runs the action's steps in `workspace`; returns (job succeeded, outputs, log, steps run)."""
    with open(os.path.join(ROOT, "action.yml")) as f:
        action = yaml.safe_load(f)
    given = {k: str(v) for k, v in inputs.items()}
    for name in given:
        assert name in action["inputs"], f"no input {name}"
    tmp = tempfile.mkdtemp(prefix="credsweep-action-")
    home = os.path.join(tmp, "home")
    runner_temp = os.path.join(tmp, "runner-temp")
    os.makedirs(home)
    os.makedirs(runner_temp)
    ctx = {
        "inputs": {k: str(v.get("default", "")) for k, v in action["inputs"].items()} | given,
        "github": {
            "event_name": event,
            "action_ref": "v0-test",
            "action_repository": "example/credsweep",
            "repository": "example/app",
            "base_ref": base_ref,
            "event": {"pull_request": {"head": {"repo": {"full_name": "example/app"}}}},
        },
        "runner": {"os": "Linux", "arch": "X64", "temp": runner_temp},
        "steps": {},
    }
    base_env = {
        "PATH": (path_dir + os.pathsep if path_dir else "") + "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "RUNNER_TEMP": runner_temp,
        "GITHUB_ACTION_PATH": ROOT,
        # Empty in a composite action's steps, as on GitHub (actions/runner#2473).
        "GITHUB_ACTION_REPOSITORY": "",
        "GITHUB_EVENT_NAME": event,
        "GITHUB_BASE_REF": base_ref,
        "GITHUB_WORKSPACE": workspace,
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    log, ran, ok = "", [], True
    for i, step in enumerate(action["runs"]["steps"]):
        cond = step.get("if")
        # Every `if:` here implies success(): a failed step stops the job.
        if not ok or (cond is not None and not evaluate(cond, ctx)):
            continue
        sid = step.get("id", f"step{i}")
        if "uses" in step:
            ran.append(("would run", step["name"]))
            ctx["steps"][sid] = {"outputs": {}}
            continue
        assert step["shell"] == "bash", step["name"]
        out_file = os.path.join(tmp, f"output-{i}")
        open(out_file, "w").close()
        script = os.path.join(tmp, f"step-{i}.sh")
        with open(script, "w") as f:
            f.write(step["run"])
        env = base_env | {"GITHUB_OUTPUT": out_file}
        env |= {k: interpolate(v, ctx) for k, v in step.get("env", {}).items()}
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", script],
            cwd=workspace, env=env, capture_output=True, text=True,
        )
        log += proc.stdout + proc.stderr
        outputs = {}
        with open(out_file) as f:
            for line in f:
                if "=" in line:
                    k, v = line.rstrip("\n").split("=", 1)
                    outputs[k] = v
        ctx["steps"][sid] = {"outputs": outputs}
        ran.append(("ran", step["name"]))
        ok = proc.returncode == 0
    outputs = {k: interpolate(v["value"], ctx) for k, v in action["outputs"].items()}
    return ok, outputs, log, ran


def git(cwd, *args):
    subprocess.run(
        ["git", "-c", "user.name=Ann Example", "-c", "user.email=ann@example.invalid",
         "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
        cwd=cwd, check=True, capture_output=True,
        env=os.environ | {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"},
    )


def make_repos(tmp):
    """origin: main (start, config, drop the key) with a leaked token in its history, removed
    again; a clone whose branch
    `feature` adds a clean commit on top, with origin/main as a remote-tracking ref."""
    origin = os.path.join(tmp, "origin")
    os.makedirs(origin)
    git(origin, "init", "-q")
    with open(os.path.join(origin, "README"), "w") as f:
        f.write("app\n")
    git(origin, "add", "README")
    git(origin, "commit", "-qm", "start")
    with open(os.path.join(origin, ".env"), "w") as f:
        f.write(f"STRIPE_SECRET_KEY={TOKEN}\n")
    git(origin, "add", ".env")
    git(origin, "commit", "-qm", "config")
    os.remove(os.path.join(origin, ".env"))
    git(origin, "add", "-A")
    git(origin, "commit", "-qm", "drop the key")
    clone = os.path.join(tmp, "clone")
    git(tmp, "clone", "-q", origin, clone)
    git(clone, "checkout", "-qb", "feature")
    with open(os.path.join(clone, "main.txt"), "w") as f:
        f.write("nothing secret\n")
    git(clone, "add", "main.txt")
    git(clone, "commit", "-qm", "feature")
    return clone


def make_release(tmp, binary, corrupt=False):
    """<tmp>/releases/v<version>/credsweep-<version>-<target>.tar.gz and its .sha256; returns the
    file:// URL the action's release-url takes."""
    with open(os.path.join(ROOT, "Cargo.toml")) as f:
        version = re.search(r'^version = "(.*)"$', f.read(), re.M).group(1)
    target = {"x86_64": "x86_64-unknown-linux-musl", "aarch64": "aarch64-unknown-linux-musl"}[os.uname().machine]
    rel = os.path.join(tmp, "releases", f"v{version}")
    os.makedirs(rel)
    name = f"credsweep-{version}-{target}.tar.gz"
    with tarfile.open(os.path.join(rel, name), "w:gz") as tar:
        tar.add(binary, arcname="credsweep")
    with open(os.path.join(rel, name), "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if corrupt:
        digest = "0" * 64
    with open(os.path.join(rel, name + ".sha256"), "w") as f:
        f.write(f"{digest}  {name}\n")
    return "file://" + os.path.join(tmp, "releases")


def main():
    binary = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="credsweep-action-test-")
    passed, failed = 0, 0

    def check(name, cond, detail=""):
        nonlocal passed, failed
        if cond:
            passed += 1
            print(f"ok   {name}")
        else:
            failed += 1
            print(f"FAIL {name}\n{detail}")

    clone = make_repos(tmp)
    url = make_release(tmp, binary)

    # A push: the whole history, where the leaked token still is; SARIF written, upload would
    # run, and the job fails after it.
    ok, out, log, ran = run_action(clone, {"release-url": url, "install": "release"})
    sarif = json.load(open(out["sarif-file"])) if out["sarif-file"] else {}
    results = sarif.get("runs", [{}])[0].get("results", [])
    check("push: findings fail the job", not ok and out["status"] == "1", log)
    check("push: the SARIF names the leaked token's rule and holds no secret",
          any("stripe" in r["ruleId"] for r in results) and TOKEN not in json.dumps(sarif), log)
    check("push: the upload would run before the job fails",
          ("would run", "Upload to code scanning") in ran and ran[-1] == ("ran", "Fail on findings"), str(ran))

    # A pull request: only what feature adds to origin/main, which is clean.
    ok, out, log, ran = run_action(clone, {"release-url": url, "install": "release"},
                                   event="pull_request", base_ref="main")
    check("pull request: the range is clean", ok and out["status"] == "0", log)

    # An explicit range: the commit that added the token (main~2..main~1), text report instead
    # of SARIF.
    ok, out, log, ran = run_action(clone, {"release-url": url, "install": "release", "sarif": "false",
                                          "range": "main~2..main~1", "args": "--no-config --color never"})
    check("range input: the text report in the log, no upload",
          not ok and out["status"] == "1" and "stripe" in log and TOKEN not in log
          and ("would run", "Upload to code scanning") not in ran, log)

    # dir mode with a credsweep already on PATH: the work tree is clean.
    bindir = os.path.join(tmp, "bin")
    os.makedirs(bindir)
    shutil.copy(binary, os.path.join(bindir, "credsweep"))
    ok, out, log, ran = run_action(clone, {"install": "path", "mode": "dir"}, path_dir=bindir)
    check("dir mode, install path: clean tree passes", ok and out["status"] == "0", log)

    # No release to download: auto falls back to `cargo install` of the action's own source. A
    # stand-in cargo records its arguments and installs the binary under test where --root says.
    stub = os.path.join(tmp, "stub")
    os.makedirs(stub)
    with open(os.path.join(stub, "cargo"), "w") as f:
        f.write("#!/bin/sh\n"
                f"echo \"$@\" > '{tmp}/cargo-args'\n"
                'while [ "$#" -gt 0 ]; do [ "$1" = --root ] && root=$2; shift; done\n'
                f"mkdir -p \"$root/bin\" && cp '{binary}' \"$root/bin/credsweep\"\n")
    os.chmod(os.path.join(stub, "cargo"), 0o755)
    empty = "file://" + os.path.join(tmp, "no-releases")
    ok, out, log, ran = run_action(clone, {"release-url": empty}, path_dir=stub)
    args = open(os.path.join(tmp, "cargo-args")).read() if os.path.exists(os.path.join(tmp, "cargo-args")) else ""
    check("auto without a release builds the action's source with cargo",
          f"install --locked --path {ROOT} --root " in args and out["status"] == "1"
          and "building it with cargo" in log, log + args)

    # A corrupt download is refused, nothing is scanned.
    bad = make_release(os.path.join(tmp, "bad"), binary, corrupt=True)
    ok, out, log, ran = run_action(clone, {"release-url": bad, "install": "release"})
    check("a checksum mismatch stops the install", not ok and "checksum mismatch" in log
          and out["status"] == "", log)

    # A bad mode is an error (2), not a pass, and nothing is uploaded.
    ok, out, log, ran = run_action(clone, {"release-url": url, "install": "release", "mode": "tree"})
    check("an unknown mode fails", not ok and "mode must be" in log
          and ("would run", "Upload to code scanning") not in ran, log)

    # Arguments are data: a shell metacharacter in args reaches credsweep as an argument.
    ok, out, log, ran = run_action(clone, {"release-url": url, "install": "release",
                                          "args": "$(touch pwned) --no-config"})
    check("args are not evaluated by the shell", not os.path.exists(os.path.join(clone, "pwned"))
          and out["status"] == "2", log)

    shutil.rmtree(tmp)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
