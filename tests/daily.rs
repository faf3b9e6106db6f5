//! Daily use (issue 18): the baseline and configuration at the repository's top, baseline scopes
//! and staleness, errors on stderr with `-o`, the fingerprint key check, `--min-severity` and
//! `--exclude`, small report wording, and the README's first-run demo.
//!
//! Every credential here is fake: the tokens carry `FAKE` in plain sight.

use std::fs;
use std::path::Path;

use serde_json::Value;

mod common;
use common::{credsweep, git, write};

const TOKEN_A: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE";
const TOKEN_B: &str = "sk_live_9Qw3FAKEzT7mLp2XcV8bN4rK6dY1";
const TEST_TOKEN: &str = "sk_test_9Rk2FAKEmWq7Lp3ZtXv8NbY4cHd6";

fn env_line(token: &str) -> String {
    format!("VOBIZ_AUTH_TOKEN={token}\n")
}

/// Runs credsweep in `cwd` with `args`; returns (status, stdout, stderr).
fn run(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let out = credsweep().current_dir(cwd).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// [`run`] with `--format json`; returns (status, report).
fn run_json(cwd: &Path, args: &[&str]) -> (i32, Value) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let (code, out, err) = run(cwd, &all);
    let doc = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    (code, doc)
}

/// A repository (not committed to) with one token in `src/x.js`, and no `.credsweep.toml`.
fn repo_with_src_token() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    git(d.path(), &["init", "-q"]);
    write(d.path(), "src/x.js", env_line(TOKEN_A));
    d
}

// ---- 18.1: the baseline belongs to the repository's top -------------------------------------

#[test]
fn baseline_add_of_a_subdirectory_writes_the_top_baseline_with_top_relative_paths() {
    let d = repo_with_src_token();
    let (code, _, err) = run(d.path(), &["baseline", "add", "src"]);
    assert_eq!(code, 0, "{err}");
    assert!(!d.path().join("src/.credsweep-baseline.toml").exists());
    let text = fs::read_to_string(d.path().join(".credsweep-baseline.toml")).unwrap();
    assert!(text.contains("path = \"src/x.js\""), "{text}");
    assert!(
        d.path().join(".gitattributes").exists(),
        "merge=union beside the top baseline"
    );

    // Added from inside `src`: the same entry, the same path.
    let e = repo_with_src_token();
    let (code, _, err) = run(&e.path().join("src"), &["baseline", "add", "."]);
    assert_eq!(code, 0, "{err}");
    let text2 = fs::read_to_string(e.path().join(".credsweep-baseline.toml")).unwrap();
    assert_eq!(text, text2, "sub-directory and top-level adds agree");
}

#[test]
fn the_top_baseline_applies_to_subdirectory_file_and_cd_scans_without_a_config() {
    let d = repo_with_src_token();
    let (code, _, err) = run(d.path(), &["baseline", "add"]);
    assert_eq!(code, 0, "{err}");
    assert!(!d.path().join(".credsweep.toml").exists());
    for (cwd, args) in [
        (d.path().to_path_buf(), vec!["dir", "src"]),
        (d.path().to_path_buf(), vec!["dir", "src/x.js"]),
        (d.path().join("src"), vec!["dir", "."]),
        (d.path().join("src"), vec!["dir", "x.js"]),
    ] {
        let (code, doc) = run_json(&cwd, &args);
        assert_eq!(code, 0, "{args:?} in {cwd:?}: {doc:#}");
        assert_eq!(doc["summary"]["suppressed"], 1, "{args:?}: {doc:#}");
    }
}

#[test]
fn fingerprints_agree_between_subdirectory_and_top_scans() {
    let d = repo_with_src_token();
    let (_, top) = run_json(d.path(), &["dir", "."]);
    let (_, sub) = run_json(&d.path().join("src"), &["dir", "."]);
    assert_eq!(
        top["findings"][0]["fingerprint"],
        sub["findings"][0]["fingerprint"]
    );
    assert!(top["findings"][0]["fingerprint"].is_string());
}

#[test]
fn a_git_fifo_does_not_make_a_repository_top() {
    let d = tempfile::tempdir().unwrap();
    let sub = d.path().join("proj");
    write(&sub, "a.txt", env_line(TOKEN_A));
    let status = std::process::Command::new("mkfifo")
        .arg(sub.join(".git"))
        .status()
        .unwrap();
    assert!(status.success());
    // A FIFO named .git is neither walked into nor opened; the scan ends and finds the token.
    let out = credsweep()
        .current_dir(&sub)
        .args(["dir", "a.txt"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

// ---- 18.2: staleness and prune respect what was scanned --------------------------------------

/// A repository whose history held TOKEN_A in `old.env` (deleted since) and holds TOKEN_B in
/// `b/x.env`; the baseline accepts both from history (`add --git`) and TOKEN_B from the tree.
fn scoped_repo() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    git(p, &["init", "-q"]);
    write(p, "old.env", env_line(TOKEN_A));
    write(p, "b/x.env", env_line(TOKEN_B));
    write(p, "README", "hello\n");
    git(p, &["add", "."]);
    git(p, &["commit", "-qm", "one"]);
    git(p, &["rm", "-q", "old.env"]);
    git(p, &["commit", "-qm", "two"]);
    for args in [&["baseline", "add", "--git"][..], &["baseline", "add"][..]] {
        let (code, _, err) = run(p, args);
        assert_eq!(code, 0, "{args:?}: {err}");
    }
    git(p, &["add", "."]);
    git(p, &["commit", "-qm", "baseline"]);
    d
}

#[test]
fn entries_record_their_scope() {
    let d = scoped_repo();
    let text = fs::read_to_string(d.path().join(".credsweep-baseline.toml")).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("{ ")).collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("old.env") && l.contains("scope = [\"history\"]")),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("b/x.env") && l.contains("scope = [\"tree\", \"history\"]")),
        "{text}"
    );
}

#[test]
fn history_entries_are_not_stale_to_a_tree_scan_nor_partial_scans() {
    let d = scoped_repo();
    let p = d.path();
    for args in [
        &["dir", ".", "--fail-on-stale"][..],
        &["git", ".", "--fail-on-stale", "-q"],
        &[
            "git",
            ".",
            "--range",
            "HEAD~1..HEAD",
            "--fail-on-stale",
            "-q",
        ],
        &["staged", "--fail-on-stale"],
        &["dir", "b", "--fail-on-stale"],
        &["dir", "README", "--fail-on-stale"],
        &["dir", ".", "--exclude", "b/**", "--fail-on-stale"],
    ] {
        let (code, out, err) = run(p, args);
        assert_eq!(code, 0, "{args:?}\n{out}\n{err}");
        assert!(!out.contains("stale baseline entry"), "{args:?}: {out}");
    }
    let out = credsweep()
        .current_dir(p)
        .args(["stdin", "--fail-on-stale"])
        .write_stdin("nothing here\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("judged no baseline entry"),
        "a partial scan says --fail-on-stale judged nothing"
    );
}

#[test]
fn a_tree_entry_gone_from_the_tree_is_stale_only_to_a_whole_tree_scan() {
    let d = scoped_repo();
    let p = d.path();
    fs::remove_file(p.join("b/x.env")).unwrap();
    let (code, out, _) = run(p, &["dir", ".", "--fail-on-stale"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("stale baseline entry"), "{out}");
    assert!(out.contains("b/x.env"), "{out}");
    assert!(
        !out.contains("old.env"),
        "a history-only entry is not stale to a tree scan: {out}"
    );
    // Still in history: the history gate is green.
    let (code, out, _) = run(p, &["git", ".", "--fail-on-stale", "-q"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn prune_without_git_keeps_history_entries_and_the_git_gate_stays_green() {
    let d = scoped_repo();
    let p = d.path();
    fs::remove_file(p.join("b/x.env")).unwrap();
    let (code, _, err) = run(p, &["baseline", "prune"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("0 stale entries dropped"), "{err}");
    let text = fs::read_to_string(p.join(".credsweep-baseline.toml")).unwrap();
    assert!(text.contains("old.env"), "history entry kept: {text}");
    assert!(
        text.lines()
            .any(|l| l.contains("b/x.env") && l.contains("scope = [\"history\"]")),
        "tree scope taken off, history kept: {text}"
    );
    let (code, out, _) = run(p, &["git", ".", "--fail-on-stale"]);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = run(p, &["dir", ".", "--fail-on-stale"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn prune_of_a_subdirectory_drops_nothing_and_says_why() {
    let d = scoped_repo();
    let p = d.path();
    let before = fs::read_to_string(p.join(".credsweep-baseline.toml")).unwrap();
    let (code, _, err) = run(p, &["baseline", "prune", "README"]);
    assert_eq!(code, 2);
    assert!(err.contains("whole tree"), "{err}");
    let after = fs::read_to_string(p.join(".credsweep-baseline.toml")).unwrap();
    assert_eq!(before, after);
}

#[test]
fn prune_with_git_drops_a_history_entry_nothing_holds_and_says_one_entry() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    git(p, &["init", "-q"]);
    write(p, "a.env", env_line(TOKEN_A));
    git(p, &["add", "."]);
    git(p, &["commit", "-qm", "one"]);
    let (code, _, err) = run(p, &["baseline", "add", "--git"]);
    assert_eq!(code, 0, "{err}");
    // Rewrite history so the token is gone from every object: a fresh repository.
    fs::remove_dir_all(p.join(".git")).unwrap();
    fs::remove_file(p.join("a.env")).unwrap();
    git(p, &["init", "-q"]);
    write(p, "b.txt", "clean\n");
    git(p, &["add", "b.txt"]);
    git(p, &["commit", "-qm", "clean"]);
    let (code, out, _) = run(p, &["git", ".", "--fail-on-stale", "-q"]);
    assert_eq!(code, 2, "{out}");
    let (code, _, err) = run(p, &["baseline", "prune"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("0 stale entries dropped"), "{err}");
    let (code, _, err) = run(p, &["baseline", "prune", "--git"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("1 stale entry dropped"), "{err}");
}

#[test]
fn entries_without_a_scope_stay_valid_and_are_never_called_stale() {
    let d = repo_with_src_token();
    let p = d.path();
    let (_, doc) = run_json(p, &["dir", "."]);
    let fp = doc["findings"][0]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    write(
        p,
        ".credsweep-baseline.toml",
        format!(
            "version = 1\nentries = [\n{{ fingerprint = \"{fp}\", rule = \"vobiz-auth-token\", path = \"src/x.js\" }},\n{{ fingerprint = \"00000000000000000000000000000000\", rule = \"r\", path = \"gone\" }},\n]\n"
        ),
    );
    let (code, out, _) = run(p, &["dir", ".", "--fail-on-stale"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 suppressed"), "{out}");
    let (code, _, err) = run(p, &["baseline", "prune"]);
    assert_eq!(code, 0, "{err}");
    let text = fs::read_to_string(p.join(".credsweep-baseline.toml")).unwrap();
    assert!(text.contains("\"gone\""), "unscoped entry kept: {text}");
    assert!(
        text.lines()
            .any(|l| l.contains(&fp) && l.contains("scope = [\"tree\"]")),
        "the scan that saw it recorded its scope: {text}"
    );
    assert!(err.contains("no recorded scope"), "{err}");
}

// ---- 18.3: -o does not swallow errors -------------------------------------------------------

#[test]
fn with_an_output_file_errors_and_skips_also_go_to_stderr() {
    let d = tempfile::tempdir().unwrap();
    let report = d.path().join("report.txt");
    let (code, out, err) = run(
        d.path(),
        &["dir", "no-such-dir", "-o", report.to_str().unwrap()],
    );
    assert_eq!(code, 2);
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("no-such-dir"),
        "stderr names the path: {err:?}"
    );
    assert!(err.contains("error"), "{err}");

    // A truncated input is named on stderr too (and fails the scan: issue 13).
    write(d.path(), "big.txt", "x".repeat(4096));
    let (code, _, err) = run(
        d.path(),
        &[
            "dir",
            "big.txt",
            "--max-file-size",
            "1K",
            "-o",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("big.txt") && err.contains("size cap"),
        "{err:?}"
    );
}

// ---- 18.5: a changed fingerprint key is caught ----------------------------------------------

#[test]
fn a_changed_fingerprint_salt_is_an_error_that_says_how_to_rebuild() {
    let d = repo_with_src_token();
    let p = d.path();
    let (code, _, err) = run(p, &["baseline", "add"]);
    assert_eq!(code, 0, "{err}");
    let text = fs::read_to_string(p.join(".credsweep-baseline.toml")).unwrap();
    assert!(text.contains("key_check = "), "{text}");
    let (code, _, _) = run(p, &["dir", "."]);
    assert_eq!(code, 0);

    write(
        p,
        ".credsweep.toml",
        "fingerprint_salt = \"salty-FAKE-value-42\"\n",
    );
    let (code, out, err) = run(p, &["dir", "."]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("fingerprint_salt"), "{err}");
    assert!(err.contains("credsweep baseline add"), "{err}");
    assert!(
        !err.contains("salty-FAKE-value-42"),
        "never the salt: {err}"
    );
    let baseline = fs::read_to_string(p.join(".credsweep-baseline.toml")).unwrap();
    assert!(!baseline.contains("salty"), "{baseline}");

    // Rebuilt with the new key, the baseline works again.
    fs::remove_file(p.join(".credsweep-baseline.toml")).unwrap();
    let (code, _, err) = run(p, &["baseline", "add"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run(p, &["dir", "."]);
    assert_eq!(code, 0, "{out}");
}

// ---- 18.6: smaller ---------------------------------------------------------------------------

#[test]
fn git_summary_counts_findings_dropped_by_allow_paths() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    git(p, &["init", "-q"]);
    write(p, ".credsweep.toml", "[allow]\npaths = [\"fixtures/**\"]\n");
    write(p, "fixtures/a.env", env_line(TOKEN_A));
    git(p, &["add", "."]);
    git(p, &["commit", "-qm", "one"]);
    let (code, doc) = run_json(p, &["git", ".", "-q"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["summary"]["allowed"], 1, "{doc:#}");
    let (_, out, _) = run(p, &["git", ".", "-q"]);
    assert!(out.contains("1 allowed"), "{out}");
}

#[test]
fn allow_commits_rejects_a_non_hex_value_naming_file_and_line_not_the_value() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        ".credsweep.toml",
        "[allow]\ncommits = [\n  \"0123abcd\",\n  \"hunter2-FAKE-oops\",\n]\n",
    );
    let (code, _, err) = run(d.path(), &["dir", "."]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(".credsweep.toml:4"), "{err}");
    assert!(err.contains("allow.commits"), "{err}");
    assert!(!err.contains("hunter2"), "value not echoed: {err}");
}

#[test]
fn counts_in_text_output_agree_in_number() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    git(p, &["init", "-q"]);
    write(p, "a.env", env_line(TOKEN_A));
    git(p, &["add", "."]);
    git(p, &["commit", "-qm", "one"]);
    let (_, out, _) = run(p, &["git", ".", "-q"]);
    assert!(out.contains("from 1 commit,"), "{out}");
    assert!(
        !out.contains("1 commits") && !out.contains("1 blobs"),
        "{out}"
    );
    git(p, &["tag", "base"]);
    write(p, "b.env", env_line(TOKEN_B));
    git(p, &["add", "."]);
    git(p, &["commit", "-qm", "two"]);
    let (_, out, _) = run(p, &["git", ".", "--range", "base..HEAD", "-q"]);
    assert!(out.contains("1 commit, 1 blob they introduced"), "{out}");
    assert!(
        !out.contains("1 commits") && !out.contains("1 blobs"),
        "{out}"
    );
}

#[test]
fn duplicate_rule_id_error_names_the_path_once() {
    let d = tempfile::tempdir().unwrap();
    let rule = "[[rule]]\nid = \"acme-key\"\ndescription = \"d\"\nseverity = \"error\"\nregex = '''(?P<secret>acme_[a-z0-9]{32})'''\nkeywords = [\"acme_\"]\n";
    write(d.path(), ".credsweep.toml", format!("{rule}\n{rule}"));
    let (code, _, err) = run(d.path(), &["dir", "."]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("duplicate rule id"), "{err}");
    assert_eq!(err.matches(".credsweep.toml").count(), 1, "{err}");

    let rules = write(d.path(), "extra.toml", format!("{rule}\n{rule}"));
    let (code, _, err) = run(
        d.path(),
        &[
            "dir",
            ".",
            "--no-config",
            "--rules",
            rules.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("duplicate rule id"), "{err}");
    assert_eq!(err.matches("extra.toml").count(), 1, "{err}");
}

#[test]
fn color_always_wins_over_no_color_as_the_readme_says() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "a.env", env_line(TOKEN_A));
    let out = credsweep()
        .current_dir(d.path())
        .env("NO_COLOR", "1")
        .args(["dir", ".", "--color", "always"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("\x1b["));
    let readme = include_str!("../README.md");
    assert!(
        readme.contains("`--color always` colours even then"),
        "README documents that the flag overrides NO_COLOR"
    );
}

/// Runs credsweep with `args` on a terminal (`script` gives it one) in `cwd`, with `NO_COLOR` set
/// or not; returns what the terminal showed.
fn on_terminal(cwd: &Path, args: &str, no_color: bool) -> String {
    let log = cwd.join("typescript");
    let cmd = format!(
        "{} {args}",
        assert_cmd::cargo::cargo_bin("credsweep").display()
    );
    let mut c = std::process::Command::new("script");
    c.current_dir(cwd)
        .args(["-q", "-e", "-c", &cmd])
        .arg(&log)
        .env_remove("NO_COLOR")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null());
    if no_color {
        c.env("NO_COLOR", "1");
    }
    let status = c.status().unwrap();
    assert_eq!(status.code(), Some(1), "{args}");
    let shown = String::from_utf8_lossy(&fs::read(&log).unwrap()).into_owned();
    fs::remove_file(&log).unwrap();
    shown
}

#[test]
fn on_a_terminal_auto_colours_unless_no_color_and_always_colours_anyway() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: `script` (util-linux) is not installed, so no terminal to test on");
        return;
    }
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "scan/a.env", env_line(TOKEN_A));
    let paint = "\x1b[";
    assert!(on_terminal(d.path(), "dir scan", false).contains(paint));
    assert!(!on_terminal(d.path(), "dir scan", true).contains(paint));
    assert!(on_terminal(d.path(), "dir scan --color always", true).contains(paint));
    assert!(!on_terminal(d.path(), "dir scan --color never", false).contains(paint));
}

// ---- 18.12: --min-severity and --exclude ----------------------------------------------------

#[test]
fn min_severity_drops_and_counts_findings_below_it_and_the_command_line_wins() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    write(
        p,
        "a.env",
        format!("{}VOBIZ_TEST_TOKEN={TEST_TOKEN}\n", env_line(TOKEN_A)),
    );
    let (code, doc) = run_json(p, &["dir", "."]);
    assert_eq!(code, 1);
    let severities: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["severity"].as_str().unwrap())
        .collect();
    assert!(severities.contains(&"note"), "{doc:#}");

    let (code, doc) = run_json(p, &["dir", ".", "--min-severity", "warning"]);
    assert_eq!(code, 1);
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1, "{doc:#}");
    assert_eq!(doc["findings"][0]["severity"], "error");
    assert_eq!(doc["summary"]["below_min_severity"], 1);
    let (_, out, _) = run(p, &["dir", ".", "--min-severity", "warning"]);
    assert!(
        out.contains("1 finding below the minimum severity"),
        "{out}"
    );

    // Only the note: clean at `error`.
    write(p, "a.env", format!("VOBIZ_TEST_TOKEN={TEST_TOKEN}\n"));
    let (code, _, _) = run(p, &["dir", ".", "--min-severity", "error"]);
    assert_eq!(code, 0);
    write(p, ".credsweep.toml", "min_severity = \"error\"\n");
    let (code, _, _) = run(p, &["dir", "."]);
    assert_eq!(code, 0, "min_severity in the configuration");
    let (code, _, _) = run(p, &["dir", ".", "--min-severity", "note"]);
    assert_eq!(code, 1, "the command line wins");

    let (code, _, err) = run(p, &["dir", ".", "--min-severity", "severe"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn min_severity_limits_what_baseline_add_accepts_but_not_what_prune_sees() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    git(p, &["init", "-q"]);
    write(
        p,
        "a.env",
        format!("{}VOBIZ_TEST_TOKEN={TEST_TOKEN}\n", env_line(TOKEN_A)),
    );
    let entries = |p: &Path| {
        fs::read_to_string(p.join(".credsweep-baseline.toml"))
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("{ "))
            .count()
    };
    let (code, _, err) = run(p, &["baseline", "add", "--min-severity", "error"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(entries(p), 1, "the note is not accepted");
    let (code, _, err) = run(p, &["baseline", "add"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(entries(p), 2);
    // A prune with a threshold still sees the note, so its entry stays.
    let (code, _, err) = run(p, &["baseline", "prune", "--min-severity", "error"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(entries(p), 2, "{err}");
    let (code, out, _) = run(
        p,
        &["dir", ".", "--min-severity", "error", "--fail-on-stale"],
    );
    assert_eq!(code, 0, "{out}");
}

#[test]
fn exclude_leaves_out_paths_relative_to_the_repository_top_in_every_scan() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    git(p, &["init", "-q"]);
    write(p, "src/gen/keys.env", env_line(TOKEN_A));
    write(p, "src/app.env", env_line(TOKEN_B));
    git(p, &["add", "."]);
    git(p, &["commit", "-qm", "one"]);

    let (code, doc) = run_json(p, &["dir", ".", "--exclude", "src/gen/**"]);
    assert_eq!(code, 1);
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1, "{doc:#}");
    assert_eq!(doc["findings"][0]["path"], "src/app.env");
    assert_eq!(doc["summary"]["excluded"], 1);

    // From a sub-directory, globs are still relative to the top.
    let (code, doc) = run_json(&p.join("src"), &["dir", ".", "--exclude", "src/gen/**"]);
    assert_eq!(code, 1);
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1, "{doc:#}");
    assert_eq!(doc["findings"][0]["path"], "app.env");

    let (code, doc) = run_json(
        p,
        &["dir", ".", "--exclude", "src/gen/**", "--exclude", "*.env"],
    );
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["summary"]["excluded"], 2);

    let (code, doc) = run_json(p, &["git", ".", "-q", "--exclude", "src/gen/"]);
    assert_eq!(code, 1);
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1, "{doc:#}");
    assert_eq!(doc["findings"][0]["path"], "src/app.env");
    assert_eq!(doc["summary"]["excluded"], 1);

    write(
        p,
        "src/gen/more.env",
        env_line("sk_live_7Yt5FAKEqW3eR9tY2uI8oP4aS6dF1g"),
    );
    git(p, &["add", "src/gen/more.env"]);
    let (code, doc) = run_json(p, &["staged", "--exclude", "src/gen/**"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["summary"]["excluded"], 1);
    let (code, _) = run_json(p, &["staged"]);
    assert_eq!(code, 1);
}

// ---- README -----------------------------------------------------------------------------------

/// The README's first-run demo, run exactly as written, from the project's top.
#[test]
fn the_readme_demo_shows_a_finding() {
    let readme = include_str!("../README.md");
    let cmd = "credsweep dir examples/demo --no-config";
    assert!(readme.contains(cmd), "README shows `{cmd}`");
    let args: Vec<&str> = cmd.split_whitespace().skip(1).collect();
    let (code, out, err) = run(Path::new(env!("CARGO_MANIFEST_DIR")), &args);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("examples/demo/.env"), "{out}");
    assert!(out.contains("vobiz-auth-token"), "{out}");
    assert!(!out.contains(TOKEN_A), "redacted: {out}");
    // Without --no-config the project's own allow-list covers the demo.
    let (code, out, _) = run(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &["dir", "examples/demo"],
    );
    assert_eq!(code, 0, "{out}");
}

#[test]
fn the_readme_names_every_command_and_the_minimum_rust_version() {
    let readme = include_str!("../README.md");
    for cmd in [
        "credsweep pre-push",
        "credsweep baseline add",
        "credsweep baseline prune",
        "cargo install --path .",
        "pre-commit install --hook-type pre-push",
    ] {
        assert!(readme.contains(cmd), "README mentions `{cmd}`");
    }
    let manifest = include_str!("../Cargo.toml");
    let line = manifest
        .lines()
        .find(|l| l.starts_with("rust-version"))
        .expect("Cargo.toml sets rust-version");
    let version = line.split('"').nth(1).unwrap();
    assert!(
        readme.contains(&format!("Rust {version}")),
        "README states the minimum Rust version {version}"
    );
}
