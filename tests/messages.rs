//! Commit and annotated tag messages in `credsweep git` (whole history and `--range`) and in
//! `credsweep pre-push`: a token pasted into a message is a finding at the commit (or tag), its
//! report never reprints it, and the allow-lists and placeholders work as they do for files.
//!
//! Every credential here is fake: the tokens carry `FAKE` in plain sight.

use std::path::Path;

use serde_json::Value;

mod common;
use common::{credsweep, git, git_at, write};

const TOKEN: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE";
const SHOWN: &str = "sk_live_4e…FAKE";
const TOKEN_B: &str = "sk_live_9Qm2Zr7TkW4pXv8Ln3Bc6Hd1FAKE";
const SHOWN_B: &str = "sk_live_9Q…FAKE";

/// A repository with one clean commit.
fn repo() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    git(d.path(), &["init", "-q", "-b", "main", "."]);
    write(d.path(), "README.md", "A project.\n");
    commit(d.path(), "initial", "2024-01-02T03:04:05Z");
    d
}

/// Commits everything with message `msg` at `date`; returns the commit's id.
fn commit(dir: &Path, msg: &str, date: &str) -> String {
    git(dir, &["add", "-A"]);
    git_at(dir, &["commit", "-q", "--allow-empty", "-m", msg], date);
    rev(dir, "HEAD")
}

fn rev(dir: &Path, r: &str) -> String {
    git(dir, &["rev-parse", r]).trim().to_string()
}

/// Runs credsweep in `dir` with `args` and `--format json`; returns the exit code and report.
fn json(dir: &Path, args: &[&str]) -> (i32, Value) {
    let out = credsweep()
        .current_dir(dir)
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: stdout is not JSON; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), doc)
}

fn findings(doc: &Value) -> &Vec<Value> {
    doc["findings"].as_array().unwrap()
}

/// The findings at a message of kind `location` (`commit-message`, `tag-message`).
fn in_messages<'a>(doc: &'a Value, location: &str) -> Vec<&'a Value> {
    findings(doc)
        .iter()
        .filter(|f| f["location"] == location)
        .collect()
}

#[test]
fn a_token_in_a_commit_message_is_found_at_its_commit_and_never_reprinted() {
    let r = repo();
    let p = r.path();
    let id = commit(
        p,
        &format!("deploy with key {TOKEN}\n\nrotated later"),
        "2024-02-03T04:05:06Z",
    );

    let (code, doc) = json(p, &["git", "."]);
    assert_eq!(code, 1, "{doc}");
    let found = in_messages(&doc, "commit-message");
    assert_eq!(found.len(), 1, "{doc}");
    let f = found[0];
    assert!(f.get("path").is_none(), "a message has no path: {f}");
    assert!(f.get("blob").is_none(), "a message is in no blob: {f}");
    assert_eq!(f["commit"], id.as_str());
    assert_eq!(f["author"], "Ann Example");
    assert_eq!(f["date"], "2024-02-03T04:05:06Z");
    assert_eq!(f["ref"], "refs/heads/main");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(1), Some(17))
    );
    assert_eq!(f["secret"], SHOWN);
    // The subject holds the secret: it is shown redacted, like the secret itself.
    assert_eq!(f["message"], format!("deploy with key {SHOWN}").as_str());
    assert_eq!(findings(&doc).len(), 1, "nothing else: {doc}");

    let out = credsweep()
        .current_dir(p)
        .args(["git", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("<commit {} message>", &id[..12])),
        "{text}"
    );
    assert!(
        text.contains(&format!("commit {} by Ann Example", &id[..12])),
        "{text}"
    );
    assert!(
        text.contains(&format!(": deploy with key {SHOWN}")),
        "{text}"
    );
    assert!(text.contains("1 finding in 1 message"), "{text}");
    for output in [&out.stdout, &out.stderr] {
        assert!(
            !String::from_utf8_lossy(output).contains(TOKEN),
            "the token is reprinted"
        );
    }
    let raw = serde_json::to_string(&doc).unwrap();
    assert!(!raw.contains(TOKEN), "the token is in the JSON report");
}

#[test]
fn an_annotated_tag_message_is_found_at_its_tag() {
    let r = repo();
    let p = r.path();
    git_at(
        p,
        &[
            "tag",
            "-a",
            "v1",
            "-m",
            &format!("release\n\ntoken {TOKEN_B}"),
        ],
        "2024-03-04T05:06:07Z",
    );
    let tag = rev(p, "v1");
    let (code, doc) = json(p, &["git", "."]);
    assert_eq!(code, 1, "{doc}");
    let found = in_messages(&doc, "tag-message");
    assert_eq!(found.len(), 1, "{doc}");
    let f = found[0];
    assert_eq!(f["commit"], tag.as_str(), "named by the tag object's id");
    assert_eq!(f["ref"], "refs/tags/v1");
    assert_eq!(f["author"], "Ann Example", "the tagger");
    assert_eq!(f["date"], "2024-03-04T05:06:07Z");
    assert_eq!(f["message"], "release");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(3), Some(7))
    );
    assert_eq!(f["secret"], SHOWN_B);
    assert!(in_messages(&doc, "commit-message").is_empty());

    let out = credsweep()
        .current_dir(p)
        .args(["git", "."])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("<tag {} message>", &tag[..12])),
        "{text}"
    );
    assert!(
        text.contains(&format!("tag {} by Ann Example", &tag[..12])),
        "{text}"
    );
}

#[test]
fn a_message_no_ref_reaches_any_more_is_found_unless_reachable_only() {
    let r = repo();
    let p = r.path();
    let id = commit(p, &format!("oops {TOKEN}"), "2024-02-03T04:05:06Z");
    git(p, &["reset", "-q", "--hard", "HEAD~1"]);
    let (code, doc) = json(p, &["git", "."]);
    assert_eq!(code, 1, "{doc}");
    let found = in_messages(&doc, "commit-message");
    assert_eq!(found.len(), 1, "{doc}");
    assert_eq!(found[0]["commit"], id.as_str());
    assert_eq!(found[0]["ref"], "unreachable");

    let (code, doc) = json(p, &["git", ".", "--reachable-only"]);
    assert_eq!(code, 0, "{doc}");
    assert!(findings(&doc).is_empty(), "{doc}");
}

#[test]
fn a_range_scans_the_messages_of_its_commits_only() {
    let r = repo();
    let p = r.path();
    let base = commit(p, &format!("old {TOKEN_B}"), "2024-02-03T04:05:06Z");
    let new = commit(p, &format!("new {TOKEN}"), "2024-03-04T05:06:07Z");
    commit(p, "clean", "2024-04-05T06:07:08Z");
    let (code, doc) = json(p, &["git", ".", "--range", &format!("{base}..HEAD")]);
    assert_eq!(code, 1, "{doc}");
    let found = in_messages(&doc, "commit-message");
    assert_eq!(found.len(), 1, "only the range's commit: {doc}");
    assert_eq!(found[0]["commit"], new.as_str());
    assert_eq!(found[0]["secret"], SHOWN);
    assert_eq!(found[0]["ref"], "HEAD");
}

/// Runs `credsweep pre-push` in `dir` with git's ref lines on standard input.
fn pre_push(dir: &Path, lines: &str) -> (i32, String) {
    let out = credsweep()
        .current_dir(dir)
        .args(["pre-push", "origin", "/nowhere"])
        .write_stdin(lines.to_string())
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap(), all)
}

#[test]
fn pre_push_blocks_a_token_in_a_pushed_commit_or_tag_message() {
    let r = repo();
    let p = r.path();
    let zero = "0".repeat(40);
    let clean = rev(p, "HEAD");
    let (code, out) = pre_push(
        p,
        &format!("refs/heads/main {clean} refs/heads/main {zero}\n"),
    );
    assert_eq!(code, 0, "{out}");

    let id = commit(p, &format!("ship it {TOKEN}"), "2024-02-03T04:05:06Z");
    let (code, out) = pre_push(
        p,
        &format!("refs/heads/main {id} refs/heads/main {clean}\n"),
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("<commit {} message>", &id[..12])),
        "{out}"
    );
    assert!(out.contains(SHOWN) && !out.contains(TOKEN), "{out}");

    // A tag pushed on its own: its commit is already on the remote, its message is new.
    git(p, &["reset", "-q", "--hard", &clean]);
    git(p, &["tag", "-a", "v2", "-m", &format!("v2 {TOKEN_B}")]);
    let tag = rev(p, "v2");
    let (code, out) = pre_push(p, &format!("refs/tags/v2 {tag} refs/tags/v2 {zero}\n"));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("<tag {} message>", &tag[..12])),
        "{out}"
    );
    assert!(out.contains(SHOWN_B) && !out.contains(TOKEN_B), "{out}");
}

#[test]
fn an_allowed_commit_drops_its_message_finding_and_paths_do_not() {
    let r = repo();
    let p = r.path();
    let id = commit(p, &format!("key {TOKEN}"), "2024-02-03T04:05:06Z");
    // Path allow-lists are for files: a message has no path they could match.
    write(p, ".credsweep.toml", "[allow]\npaths = [\"**\"]\n");
    let (code, doc) = json(p, &["git", "."]);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(in_messages(&doc, "commit-message").len(), 1, "{doc}");

    write(
        p,
        ".credsweep.toml",
        format!("[allow]\ncommits = [\"{}\"]\n", &id[..10]),
    );
    let (code, doc) = json(p, &["git", "."]);
    assert_eq!(code, 0, "{doc}");
    assert!(findings(&doc).is_empty(), "{doc}");
    assert!(doc["summary"]["allowed"].as_u64().unwrap() >= 1, "{doc}");
}

#[test]
fn a_placeholder_in_a_message_is_not_a_finding() {
    let r = repo();
    let p = r.path();
    commit(
        p,
        "docs: set VOBIZ_AUTH_TOKEN=sk_live_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX in .env",
        "2024-02-03T04:05:06Z",
    );
    let (code, doc) = json(p, &["git", "."]);
    assert_eq!(code, 0, "{doc}");
    assert!(findings(&doc).is_empty(), "{doc}");
}

#[test]
fn one_secret_in_many_messages_is_one_finding_and_apart_from_the_file_holding_it() {
    let r = repo();
    let p = r.path();
    write(p, "app.env", format!("key = {TOKEN}\n"));
    let first = commit(p, &format!("add {TOKEN}"), "2024-02-03T04:05:06Z");
    // Amended: a second commit with the same message; the first is left unreachable.
    git_at(
        p,
        &["commit", "-q", "--amend", "--allow-empty", "--no-edit"],
        "2024-03-04T05:06:07Z",
    );
    let second = rev(p, "HEAD");
    assert_ne!(first, second);
    let (code, doc) = json(p, &["git", "."]);
    assert_eq!(code, 1, "{doc}");
    let msgs = in_messages(&doc, "commit-message");
    assert_eq!(msgs.len(), 1, "{doc}");
    let m = msgs[0];
    assert_eq!(m["commit"], first.as_str(), "at the earliest message");
    assert_eq!(m["other_locations"], 1);
    assert_eq!(m["other_places"][0]["commit"], second.as_str());
    let files: Vec<&Value> = findings(&doc)
        .iter()
        .filter(|f| f["path"] == "app.env")
        .collect();
    assert_eq!(files.len(), 1, "{doc}");
    // The same secret: one baseline entry accepts both.
    assert_eq!(files[0]["fingerprint"], m["fingerprint"]);
}

#[test]
fn a_subject_holding_the_secret_encoded_shows_it_redacted() {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(TOKEN);
    let r = repo();
    let p = r.path();
    commit(p, &format!("cfg {encoded} here"), "2024-02-03T04:05:06Z");
    let (code, doc) = json(p, &["git", "."]);
    assert_eq!(code, 1, "{doc}");
    let found = in_messages(&doc, "commit-message");
    assert_eq!(found.len(), 1, "{doc}");
    assert_eq!(found[0]["decoded"][0], "base64", "{doc}");
    assert_eq!(found[0]["message"], format!("cfg {SHOWN} here").as_str());
    let out = credsweep()
        .current_dir(p)
        .args(["git", "."])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!(": cfg {SHOWN} here")), "{text}");
    for printed in [serde_json::to_string(&doc).unwrap(), text.into_owned()] {
        assert!(
            !printed.contains(&encoded) && !printed.contains(TOKEN),
            "{printed}"
        );
    }
}

#[test]
fn a_hostile_subject_reaches_the_terminal_escaped() {
    let r = repo();
    let p = r.path();
    commit(
        p,
        &format!("\u{1b}]0;pwned\u{7}\u{1b}[2J key {TOKEN} \u{202e}txt.exe"),
        "2024-02-03T04:05:06Z",
    );
    let out = credsweep()
        .current_dir(p)
        .args(["git", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("<commit "), "{text}");
    for bad in ['\u{1b}', '\u{7}', '\u{202e}'] {
        assert!(
            !text.contains(bad),
            "{bad:?} reached the terminal: {text:?}"
        );
    }
    assert!(text.contains(SHOWN) && !text.contains(TOKEN), "{text}");
}
