//! History scans at scale and what a history finding says about where its secret is: one blob
//! committed at hundreds of thousands of paths, one blob with a hundred thousand findings, the
//! bounded list of other places, and `in_head` (is the secret still at HEAD, or only in history?).
//!
//! The repositories are built in each test; big trees are written as one tree object, which is
//! fast. Every credential here is fake (note the `FAKE` tails).

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

mod common;
use common::fixtures::{commit_all, env_file};
use common::{credsweep, git, git_with_input, write};

const TOKEN_A: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE";
const TOKEN_B: &str = "sk_live_9Qm2Zr7TkW4pXv8Ln3Bc6Hd1FAKE";

/// How long a scan that must be linear may take. The quadratic versions took 42 s (240,000 paths)
/// and 38 s (100,000 findings at 3 paths) on an idle machine; the linear ones take under 3 s on a
/// loaded one. Generous, so that a busy machine does not make it flaky.
const LINEAR_BOUND: Duration = Duration::from_secs(20);

/// A repository at `d` with `main` as the default branch.
fn init(d: &Path) {
    git(d, &["init", "-q", "-b", "main"]);
}

/// `f0000001.env` … : the name of the `i`th path of a big tree (they sort as numbered).
fn nth_path(i: usize) -> String {
    format!("f{i:07}.env")
}

/// Commits one tree holding the blob `content` at `n` paths (`nth_path(1..=n)`) on `main`.
fn commit_blob_at_many_paths(d: &Path, content: &[u8], n: usize) {
    commit_blob_at(d, content, n, "f", None);
}

/// Commits (on `main`, with `parent`) a tree holding the blob `content` at `n` paths named
/// `{prefix}0000001.env` …; returns the commit.
fn commit_blob_at(
    d: &Path,
    content: &[u8],
    n: usize,
    prefix: &str,
    parent: Option<&str>,
) -> String {
    let blob = git_with_input(d, &["hash-object", "-w", "--stdin"], content)
        .trim()
        .to_string();
    let raw: Vec<u8> = (0..20)
        .map(|i| u8::from_str_radix(&blob[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let mut tree = Vec::with_capacity(n * 40);
    for i in 1..=n {
        tree.extend_from_slice(b"100644 ");
        tree.extend_from_slice(format!("{prefix}{i:07}.env").as_bytes());
        tree.push(0);
        tree.extend_from_slice(&raw);
    }
    let tree = git_with_input(d, &["hash-object", "-t", "tree", "-w", "--stdin"], &tree)
        .trim()
        .to_string();
    let mut args = vec!["commit-tree", tree.as_str(), "-m", "many paths"];
    if let Some(p) = parent {
        args.extend(["-p", p]);
    }
    let commit = git(d, &args).trim().to_string();
    git(d, &["update-ref", "refs/heads/main", &commit]);
    commit
}

/// `credsweep git . --no-config --format FORMAT ARGS…` in `d`, killed after two minutes; the exit
/// status, stdout and how long it took.
fn scan_history(d: &Path, format: &str, args: &[&str]) -> (i32, String, Duration) {
    let start = Instant::now();
    let out = credsweep()
        .current_dir(d)
        .args(["git", ".", "--no-config", "--quiet", "--color", "never"])
        .args(["--format", format])
        .args(args)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let took = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("internal error"), "{stderr}");
    let code = out.status.code().unwrap_or(-1);
    assert!((0..=2).contains(&code), "exit {code}: {stderr}");
    (
        code,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        took,
    )
}

fn scan_json(d: &Path, args: &[&str]) -> (i32, Value, Duration) {
    let (code, out, took) = scan_history(d, "json", args);
    let doc = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    (code, doc, took)
}

fn findings(doc: &Value) -> &Vec<Value> {
    doc["findings"].as_array().unwrap()
}

/// The one finding of `token`, in a report made with `--no-redact`.
fn finding<'a>(doc: &'a Value, token: &str) -> &'a Value {
    let all: Vec<&Value> = findings(doc)
        .iter()
        .filter(|f| f["secret"] == token)
        .collect();
    assert_eq!(all.len(), 1, "{token} in {doc:#}");
    all[0]
}

#[test]
fn one_blob_at_240k_paths_is_located_in_linear_time_and_lists_100_places() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    init(d);
    let n = 240_000;
    commit_blob_at_many_paths(d, env_file(TOKEN_A).as_bytes(), n);

    let (code, doc, took) = scan_json(d, &["--no-redact"]);
    eprintln!("one blob at {n} paths: {:.2} s", took.as_secs_f64());
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(findings(&doc).len(), 1, "one secret, one finding");
    let f = finding(&doc, TOKEN_A);
    assert_eq!(f["path"], nth_path(1), "reported at its first place");
    assert_eq!(f["other_locations"], n - 1, "every other place is counted");
    let listed = f["other_places"].as_array().unwrap();
    assert_eq!(listed.len(), 100, "at most 100 other places are listed");
    for (i, p) in listed.iter().enumerate() {
        assert_eq!(p["path"], nth_path(i + 2), "the earliest, in order");
        assert_eq!(p["commit"], f["commit"]);
        assert_eq!(p["blob"], f["blob"]);
    }
    assert_eq!(f["other_places_omitted"], n - 1 - 100);
    assert_eq!(f["in_head"], true);
    assert!(
        took < LINEAR_BOUND,
        "{n} paths took {:.1} s: provenance is not linear in paths",
        took.as_secs_f64()
    );

    // The text report names a few places and counts the rest.
    let (_, text, _) = scan_history(d, "text", &[]);
    let also = text
        .lines()
        .find(|l| l.trim_start().starts_with("also at:"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        also.contains(&nth_path(2)) && also.contains(&nth_path(4)),
        "{also}"
    );
    assert!(!also.contains(&nth_path(5)), "{also}");
    assert!(
        also.ends_with(&format!(" and {} more", n - 1 - 3)),
        "{also}"
    );
    assert!(text.contains("still at HEAD"), "{text}");
}

#[test]
fn a_blob_with_100k_findings_at_three_paths_is_grouped_in_linear_time() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    init(d);
    let mut dump = String::new();
    for i in 0..100_000u32 {
        dump += &format!(
            "VOBIZ_AUTH_TOKEN=sk_live_{:08x}Q7mZr2TkW4pXvFAKE\n",
            i.wrapping_mul(2_654_435_761)
        );
    }
    for name in ["dump.env", "copy/dump.env", "old/dump.env"] {
        write(d, name, &dump);
    }
    // Two directories of the same content are one tree, which provenance reads once (and so
    // names once): a file of its own makes `old` a tree of its own.
    write(d, "old/README", "archived\n");
    commit_all(d, "three copies of a dump");

    let (code, doc, took) = scan_json(d, &["--threads", "1"]);
    eprintln!("100,000 findings at 3 paths: {:.2} s", took.as_secs_f64());
    assert_eq!(code, 1);
    let all = findings(&doc);
    // A few of the generated tokens fall to the scanner's filters; nearly all are findings.
    assert!(all.len() > 99_900, "{} findings", all.len());
    for f in all {
        assert_eq!(f["path"], "copy/dump.env", "the first path in commit order");
        assert_eq!(f["other_locations"], 2);
        // 100,000 secrets share the report's 100,000 listed places: one each.
        assert_eq!(f["other_places"][0]["path"], "dump.env");
        assert_eq!(f["other_places"].as_array().unwrap().len(), 1);
        assert_eq!(f["other_places_omitted"], 1);
        assert_eq!(f["in_head"], true);
    }
    assert!(
        took < LINEAR_BOUND,
        "100,000 findings took {:.1} s: grouping is not linear in findings",
        took.as_secs_f64()
    );
}

/// A repository whose first commit holds `a.env` (TOKEN_A) and `b.env` (TOKEN_B), and whose
/// second deletes `a.env`: TOKEN_A lives only in history, TOKEN_B is still at HEAD.
fn one_deleted_one_kept() -> TempDir {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    init(d);
    write(d, "a.env", env_file(TOKEN_A));
    write(d, "b.env", env_file(TOKEN_B));
    commit_all(d, "add env files");
    std::fs::remove_file(d.join("a.env")).unwrap();
    commit_all(d, "remove a.env");
    dir
}

#[test]
fn in_head_says_whether_the_secret_is_still_at_head() {
    let dir = one_deleted_one_kept();
    let d = dir.path();

    let (code, doc, _) = scan_json(d, &["--no-redact"]);
    assert_eq!(code, 1);
    assert_eq!(finding(&doc, TOKEN_A)["in_head"], false, "{doc:#}");
    assert_eq!(finding(&doc, TOKEN_B)["in_head"], true, "{doc:#}");

    let (_, text, _) = scan_history(d, "text", &[]);
    let line_after = |path: &str| {
        let mut lines = text.lines();
        lines.find(|l| *l == path);
        lines.nth(1).unwrap_or_default().to_string()
    };
    assert!(
        line_after("a.env").ends_with("; only in history: rotate and purge"),
        "{text}"
    );
    assert!(line_after("b.env").ends_with("; still at HEAD"), "{text}");

    let (_, sarif, _) = scan_history(d, "sarif", &[]);
    let log: Value = serde_json::from_str(&sarif).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    let in_head = |uri: &str| {
        results
            .iter()
            .find(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == uri)
            .unwrap_or_else(|| panic!("{uri} in {log:#}"))["properties"]["inHead"]
            .clone()
    };
    assert_eq!(in_head("a.env"), false);
    assert_eq!(in_head("b.env"), true);

    // Not a question a working-tree scan answers.
    let out = credsweep()
        .current_dir(d)
        .args(["dir", ".", "--no-config", "--format", "json"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!findings(&doc).is_empty());
    assert!(findings(&doc).iter().all(|f| f.get("in_head").is_none()));
}

#[test]
fn a_secret_moved_to_another_file_is_still_at_head() {
    // The first appearance is gone, but another blob holding the same secret is at HEAD: the
    // finding is reported at its first appearance and is still at HEAD.
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    init(d);
    write(d, "a.env", env_file(TOKEN_A));
    commit_all(d, "add a.env");
    std::fs::remove_file(d.join("a.env")).unwrap();
    write(
        d,
        "conf/app.env",
        format!("NAME=app\n{}", env_file(TOKEN_A)),
    );
    commit_all(d, "move the token");

    let (_, doc, _) = scan_json(d, &["--no-redact"]);
    let f = finding(&doc, TOKEN_A);
    assert_eq!(f["path"], "a.env");
    assert_eq!(f["other_locations"], 1);
    assert_eq!(f["other_places"][0]["path"], "conf/app.env");
    assert_eq!(f["in_head"], true, "{doc:#}");
}

#[test]
fn in_head_follows_a_detached_head_and_the_tip_of_a_range() {
    let dir = one_deleted_one_kept();
    let d = dir.path();
    // HEAD detached at the first commit: there, a.env is still present.
    git(d, &["checkout", "-q", "--detach", "HEAD~1"]);
    let (_, doc, _) = scan_json(d, &["--no-redact"]);
    assert_eq!(finding(&doc, TOKEN_A)["in_head"], true, "{doc:#}");
    assert_eq!(finding(&doc, TOKEN_B)["in_head"], true, "{doc:#}");
    git(d, &["checkout", "-q", "main"]);

    // A range is judged against its tip.
    write(d, "c.env", env_file(TOKEN_A));
    commit_all(d, "add it back");
    std::fs::remove_file(d.join("c.env")).unwrap();
    commit_all(d, "and remove it again");
    let (_, doc, _) = scan_json(d, &["--no-redact", "--range", "main~2..main"]);
    assert_eq!(finding(&doc, TOKEN_A)["path"], "c.env", "{doc:#}");
    assert_eq!(finding(&doc, TOKEN_A)["in_head"], false, "{doc:#}");
    let (_, doc, _) = scan_json(d, &["--no-redact", "--range", "main~2..main~1"]);
    assert_eq!(finding(&doc, TOKEN_A)["in_head"], true, "{doc:#}");
}

#[test]
fn with_no_head_commit_in_head_is_left_out_and_the_report_says_why() {
    let dir = one_deleted_one_kept();
    let d = dir.path();
    // HEAD on a branch that does not exist yet (as after `git checkout --orphan`).
    git(d, &["symbolic-ref", "HEAD", "refs/heads/unborn"]);
    let (code, doc, _) = scan_json(d, &["--no-redact"]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(findings(&doc).len(), 2, "{doc:#}");
    assert!(findings(&doc).iter().all(|f| f.get("in_head").is_none()));
    let notes = doc["summary"]["notes"].to_string();
    assert!(notes.contains("HEAD names no commit"), "{notes}");

    // A clone's remote default branch stands in for an unborn HEAD.
    let main = git(d, &["rev-parse", "main"]);
    git(d, &["update-ref", "refs/remotes/origin/main", main.trim()]);
    git(
        d,
        &[
            "symbolic-ref",
            "refs/remotes/origin/HEAD",
            "refs/remotes/origin/main",
        ],
    );
    let (_, doc, _) = scan_json(d, &["--no-redact"]);
    assert_eq!(finding(&doc, TOKEN_A)["in_head"], false, "{doc:#}");
    assert_eq!(finding(&doc, TOKEN_B)["in_head"], true, "{doc:#}");
}

#[test]
fn a_file_of_50k_ids_and_50k_tokens_pairs_in_n_log_n() {
    // Pairing takes, for each token, the nearest id in its file: found by binary search, not by
    // measuring the distance to every id (50,000 x 50,000 before; 20,000 pairs took 17 s).
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    init(d);
    let mut file = String::new();
    for i in 0..50_000u32 {
        let h = i.wrapping_mul(2_654_435_761);
        file += &format!("VOBIZ_AUTH_ID=partner-{h:08x}7f3a\n");
        file += &format!("VOBIZ_AUTH_TOKEN=sk_live_{h:08x}Q7mZr2TkW4pXvFAKE\n");
    }
    write(d, "pairs.env", &file);
    commit_all(d, "many pairs");

    let (code, doc, took) = scan_json(d, &["--threads", "1"]);
    eprintln!("50,000 pairs in one blob: {:.2} s", took.as_secs_f64());
    assert_eq!(code, 1);
    let tokens: Vec<&Value> = findings(&doc)
        .iter()
        .filter(|f| f["rule_id"] == "vobiz-auth-token")
        .collect();
    assert!(tokens.len() > 49_900, "{} tokens", tokens.len());
    // Each token pairs with the id on the line above; where the scanner's filters dropped that
    // id, with the one below.
    let id_lines: std::collections::HashSet<u64> = findings(&doc)
        .iter()
        .filter(|f| f["rule_id"] == "vobiz-partner-id")
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    for t in &tokens {
        let line = t["line"].as_u64().unwrap();
        let want = if id_lines.contains(&(line - 1)) {
            line - 1
        } else {
            line + 1
        };
        assert_eq!(t["pair"]["line"], want, "{t:#}");
    }
    assert!(
        took < LINEAR_BOUND,
        "50,000 pairs took {:.1} s: pairing is not n log n",
        took.as_secs_f64()
    );

    let start = Instant::now();
    let out = credsweep()
        .current_dir(d)
        .args([
            "dir",
            "pairs.env",
            "--no-config",
            "--format",
            "json",
            "--threads",
            "1",
        ])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let took = start.elapsed();
    eprintln!("50,000 pairs in one file: {:.2} s", took.as_secs_f64());
    assert_eq!(out.status.code(), Some(1));
    assert!(took < LINEAR_BOUND, "dir: {:.1} s", took.as_secs_f64());
}

#[test]
fn the_listed_places_are_the_earliest_whichever_blob_is_scanned_first() {
    // One secret in two blobs: the earlier at 150 paths, the later at 60. Whichever blob the scan
    // meets first, the 100 places listed are the earliest ones (both ways round, as the order
    // blobs are scanned in follows their ids).
    let early_late = [
        (
            env_file(TOKEN_A),
            format!("NAME=later\n{}", env_file(TOKEN_A)),
        ),
        (
            format!("NAME=later\n{}", env_file(TOKEN_A)),
            env_file(TOKEN_A),
        ),
    ];
    for (early, late) in early_late {
        let dir = TempDir::new().unwrap();
        let d = dir.path();
        init(d);
        let first = commit_blob_at(d, early.as_bytes(), 150, "e", None);
        commit_blob_at(d, late.as_bytes(), 60, "l", Some(&first));
        let (_, doc, _) = scan_json(d, &["--no-redact", "--threads", "1"]);
        let f = finding(&doc, TOKEN_A);
        assert_eq!(f["path"], "e0000001.env", "{doc:#}");
        assert_eq!(f["other_locations"], 150 + 60 - 1);
        let listed: Vec<&str> = f["other_places"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["path"].as_str().unwrap())
            .collect();
        let want: Vec<String> = (2..=101).map(|i| format!("e{i:07}.env")).collect();
        assert_eq!(listed, want);
        assert_eq!(f["other_places_omitted"], 150 + 60 - 1 - 100);
        assert_eq!(f["in_head"], true, "the later blob is at HEAD");
    }
}

#[test]
fn many_secrets_share_the_report_s_budget_of_listed_places() {
    // 2,000 secrets in one blob at 100 paths: 2,000 x 99 other places would be listed; the
    // report lists 100,000 at most, so each secret lists 50 and counts the rest.
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    init(d);
    let mut dump = String::new();
    for i in 0..2_000u32 {
        dump += &format!(
            "VOBIZ_AUTH_TOKEN=sk_live_{:08x}Q7mZr2TkW4pXvFAKE\n",
            i.wrapping_mul(2_654_435_761)
        );
    }
    commit_blob_at_many_paths(d, dump.as_bytes(), 100);
    let (code, doc, _) = scan_json(d, &[]);
    assert_eq!(code, 1);
    let all = findings(&doc);
    assert!(all.len() > 1_990, "{} findings", all.len());
    let per_secret = 100_000 / all.len();
    for f in all {
        assert_eq!(f["other_locations"], 99);
        assert_eq!(f["other_places"].as_array().unwrap().len(), per_secret);
        assert_eq!(f["other_places_omitted"], 99 - per_secret);
    }
}
