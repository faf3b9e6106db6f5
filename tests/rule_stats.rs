//! `--rule-stats`: the per-rule table on stderr, on every scan command, and a report that does
//! not change with it. Every credential here is fake: the tokens carry `FAKE` in plain sight.

use std::path::Path;

use serde_json::Value;

mod common;
use common::{credsweep, git, write};

const TOKEN: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE";
const OTHER: &str = "sk_live_9fK2pLmQ7rT4vW8xZ1cNp3dzFAKE";

/// A rule whose keyword the fixtures never hold.
const QUIET_RULE: &str = "[[rule]]\nid = \"never-fires\"\ndescription = \"d\"\n\
    severity = \"error\"\nregex = 'zqxjkeyword=(?P<secret>[a-z0-9]{16,})'\nkeywords = [\"zqxjkeyword\"]\n";

struct Run {
    status: i32,
    stdout: Vec<u8>,
    stderr: String,
}

fn run(cwd: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    let mut cmd = credsweep();
    cmd.current_dir(cwd)
        .args(args)
        .args(["--format", "json", "--no-config", "--quiet"]);
    if let Some(input) = stdin {
        cmd.write_stdin(input);
    }
    let out = cmd.output().unwrap();
    Run {
        status: out.status.code().unwrap(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The table's row for `rule`: (keyword hits, regex runs, matches, kept).
fn row(stderr: &str, rule: &str) -> Option<(u64, u64, u64, u64)> {
    stderr.lines().find_map(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        (cols.len() == 7 && cols[0] == rule).then(|| {
            let n = |i: usize| cols[i].parse::<u64>().unwrap();
            (n(1), n(2), n(3), n(4))
        })
    })
}

fn findings_of(stdout: &[u8], rule: &str) -> u64 {
    let doc: Value = serde_json::from_slice(stdout).unwrap();
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == rule)
        .count() as u64
}

/// Scans `args` with and without `--rule-stats`: the report is the same byte for byte, only the
/// run with the flag has a table, and the table's counts agree with the report.
fn check(cwd: &Path, args: &[&str], stdin: Option<&str>, fired: &str) {
    let plain = run(cwd, args, stdin);
    let with: Vec<&str> = args.iter().copied().chain(["--rule-stats"]).collect();
    let stats = run(cwd, &with, stdin);
    assert_eq!(plain.status, 1, "{}", plain.stderr);
    assert_eq!(stats.status, 1, "{}", stats.stderr);
    assert_eq!(
        plain.stdout, stats.stdout,
        "the report changed with --rule-stats"
    );
    assert!(!plain.stderr.contains("rule stats"), "{}", plain.stderr);
    assert!(stats.stderr.contains("rule stats"), "{}", stats.stderr);
    assert!(stats.stderr.contains("keyword search (prefilter)"));
    let (hits, runs, matches, kept) =
        row(&stats.stderr, fired).unwrap_or_else(|| panic!("no row for {fired}: {}", stats.stderr));
    assert!(hits >= 1 && runs >= 1 && matches >= 1, "{}", stats.stderr);
    assert!(kept >= 1, "{}", stats.stderr);
    assert_eq!(kept, findings_of(&stats.stdout, fired), "{}", stats.stderr);
    // The rule whose keyword is nowhere ran on nothing.
    if let Some((_, runs, _, _)) = row(&stats.stderr, "never-fires") {
        assert_eq!(runs, 0, "{}", stats.stderr);
    }
}

fn tree(dir: &Path) {
    write(dir, "rules/quiet.toml", QUIET_RULE);
    write(dir, "app/.env", format!("STRIPE_SECRET_KEY={TOKEN}\n"));
    // An allowed finding: matched by the regex, not kept.
    write(
        dir,
        "app/other.env",
        format!("STRIPE_SECRET_KEY={OTHER} # credsweep:allow\n"),
    );
}

#[test]
fn dir_table_agrees_with_the_report() {
    let d = tempfile::tempdir().unwrap();
    tree(d.path());
    check(
        d.path(),
        &["dir", "app", "--rules", "rules/quiet.toml"],
        None,
        "stripe-secret-key",
    );
    let stats = run(
        d.path(),
        &["dir", "app", "--rules", "rules/quiet.toml", "--rule-stats"],
        None,
    );
    let (_, _, matches, kept) = row(&stats.stderr, "stripe-secret-key").unwrap();
    assert!(
        matches > kept,
        "the allowed match is not kept: {}",
        stats.stderr
    );
}

#[test]
fn stdin_git_and_staged_print_the_table() {
    let d = tempfile::tempdir().unwrap();
    tree(d.path());
    let rules = d.path().join("rules/quiet.toml");
    let rules = rules.to_str().unwrap();
    check(
        d.path(),
        &["stdin", "--rules", rules],
        Some(&format!("STRIPE_SECRET_KEY={TOKEN}\n")),
        "stripe-secret-key",
    );
    let repo = d.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    write(&repo, "config/.env", format!("STRIPE_SECRET_KEY={TOKEN}\n"));
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "add config"]);
    check(&repo, &["git", "--rules", rules], None, "stripe-secret-key");
    write(
        &repo,
        "config/prod.env",
        format!("STRIPE_SECRET_KEY={OTHER}\n"),
    );
    git(&repo, &["add", "."]);
    check(
        &repo,
        &["staged", "--rules", rules],
        None,
        "stripe-secret-key",
    );
}

#[test]
fn baseline_add_prints_the_table() {
    let d = tempfile::tempdir().unwrap();
    tree(d.path());
    let out = credsweep()
        .current_dir(d.path())
        .args([
            "baseline",
            "add",
            "app",
            "--no-config",
            "--quiet",
            "--rule-stats",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        row(&stderr, "stripe-secret-key").map(|r| r.3),
        Some(1),
        "{stderr}"
    );
}
