//! Path-scoped rules (`path = ...`, e.g. `pgpass-password`) run only on content at a path they
//! name: in history, where a blob's paths are only known after the blob scan, as in directory and
//! staged scans, where they are known up front. Each case also checks the same content at an
//! ordinary path is not reported by the scoped rule.
//!
//! Every credential here is fake (note the `FAKE` in each).

mod common;

use std::path::Path;

use common::{git_at, write};
use serde_json::Value;
use tempfile::TempDir;

/// A `.pgpass` line; no unscoped rule of the default pack reports it.
const PGPASS: &str = "db.acme.internal:5432:orders:app:QI864uqTt7wFAKEK8d\n";
const SECRET: &str = "QI864uqTt7wFAKEK8d";

/// A repository whose commits are one minute apart, so "first committed" is unambiguous.
struct Repo {
    dir: TempDir,
    commits: std::cell::Cell<u64>,
}

impl Repo {
    fn new() -> Repo {
        let r = Repo {
            dir: TempDir::new().unwrap(),
            commits: std::cell::Cell::new(0),
        };
        common::git(r.path(), &["init", "-q", "."]);
        r
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, name: &str, data: &str) {
        write(self.path(), name, data);
    }

    fn remove(&self, name: &str) {
        std::fs::remove_file(self.path().join(name)).unwrap();
    }

    /// Stages everything and commits; returns the commit id.
    fn commit(&self, msg: &str) -> String {
        let n = self.commits.get() + 1;
        self.commits.set(n);
        let date = format!("@{} +0000", 1_700_000_000 + 60 * n);
        git_at(self.path(), &["add", "-A"], &date);
        git_at(
            self.path(),
            &["commit", "-q", "--allow-empty", "-m", msg],
            &date,
        );
        common::git(self.path(), &["rev-parse", "HEAD"])
            .trim()
            .to_string()
    }
}

/// Runs credsweep in `dir` with JSON output and secrets shown.
fn run(dir: &Path, args: &[&str]) -> (Value, i32) {
    let out = common::credsweep()
        .current_dir(dir)
        .args(args)
        .args(["--format", "json", "--no-redact", "--quiet"])
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "credsweep {args:?} exited {code} without a JSON report ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (doc, code)
}

/// The (path, rule, commit) of each finding of `pgpass-password`.
fn pgpass_findings(doc: &Value) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "pgpass-password")
        .map(|f| {
            assert_eq!(f["secret"], SECRET, "{f:#}");
            (
                f["path"].as_str().unwrap().to_string(),
                f["commit"].as_str().map(str::to_string),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_deleted_pgpass_is_found_at_the_commit_that_added_it() {
    let repo = Repo::new();
    repo.write("README.md", "# orders service\n");
    repo.commit("start");
    repo.write("deploy/.pgpass", PGPASS);
    let added = repo.commit("add db credentials");
    repo.remove("deploy/.pgpass");
    repo.commit("oops, remove them");
    let (doc, code) = run(repo.path(), &["git", "."]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(
        pgpass_findings(&doc),
        [("deploy/.pgpass".to_string(), Some(added))],
        "{doc:#}"
    );
}

#[test]
fn pgpass_content_at_an_ordinary_path_is_not_reported() {
    let repo = Repo::new();
    repo.write("docs/example-connection.txt", PGPASS);
    repo.commit("document the connection line");
    let (doc, _) = run(repo.path(), &["git", "."]);
    assert_eq!(pgpass_findings(&doc), [], "{doc:#}");
    // Nor is a blob no tree names (written with `git hash-object -w`): it has no path at all.
    write(repo.path(), "loose.txt", PGPASS.replace("orders", "loose"));
    common::git(repo.path(), &["hash-object", "-w", "loose.txt"]);
    std::fs::remove_file(repo.path().join("loose.txt")).unwrap();
    let (doc, _) = run(repo.path(), &["git", "."]);
    assert_eq!(pgpass_findings(&doc), [], "{doc:#}");
}

#[test]
fn a_blob_at_two_paths_is_reported_at_the_matching_one() {
    let repo = Repo::new();
    repo.write("notes/db.txt", PGPASS);
    let first = repo.commit("notes");
    repo.write("home/.pgpass", PGPASS);
    let second = repo.commit("and the real file");
    assert_ne!(first, second);
    let (doc, code) = run(repo.path(), &["git", "."]);
    assert_eq!(code, 1, "{doc:#}");
    // The same blob was committed earlier at an ordinary path: the finding is at the .pgpass.
    assert_eq!(
        pgpass_findings(&doc),
        [("home/.pgpass".to_string(), Some(second))],
        "{doc:#}"
    );
}

#[test]
fn a_range_scan_applies_path_scoped_rules_by_path() {
    let repo = Repo::new();
    repo.write("README.md", "# orders service\n");
    let base = repo.commit("start");
    repo.write("notes/db.txt", PGPASS);
    repo.write(
        "ops/pgpass.conf",
        PGPASS.replace("orders", "billing").as_str(),
    );
    let added = repo.commit("credentials");
    repo.remove("ops/pgpass.conf");
    repo.commit("remove them");
    let range = format!("{base}..HEAD");
    let (doc, code) = run(repo.path(), &["git", ".", "--range", &range]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(
        pgpass_findings(&doc),
        [("ops/pgpass.conf".to_string(), Some(added))],
        "{doc:#}"
    );
    // Only the ordinary file in the range: nothing.
    repo.write("more/db.txt", &PGPASS.replace("orders", "audit"));
    repo.commit("more notes");
    let (doc, _) = run(repo.path(), &["git", ".", "--range", "HEAD~1..HEAD"]);
    assert_eq!(pgpass_findings(&doc), [], "{doc:#}");
}

#[test]
fn directory_and_staged_scans_run_scoped_rules_only_at_matching_paths() {
    let repo = Repo::new();
    repo.write("home/.pgpass", PGPASS);
    repo.write("notes/db.txt", PGPASS);
    let (doc, code) = run(repo.path(), &["dir", "."]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(
        pgpass_findings(&doc),
        [("home/.pgpass".to_string(), None)],
        "{doc:#}"
    );
    common::git(repo.path(), &["add", "-A"]);
    let (doc, code) = run(repo.path(), &["staged"]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(
        pgpass_findings(&doc),
        [("home/.pgpass".to_string(), None)],
        "{doc:#}"
    );
    // Standard input has no path: a path-scoped rule does not run on it.
    let out = common::credsweep()
        .args(["stdin", "--format", "json", "--no-redact", "--quiet"])
        .write_stdin(PGPASS)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(pgpass_findings(&doc), [], "{doc:#}");
}

#[test]
fn rules_check_rejects_a_rule_with_neither_keywords_nor_path() {
    let d = TempDir::new().unwrap();
    let everywhere = write(
        d.path(),
        "everywhere.toml",
        "[[rule]]\nid = \"acme-anything\"\ndescription = \"Acme\"\nseverity = \"warning\"\n\
         regex = '(?P<secret>[a-z0-9]{12})'\nexamples = [\"q8zr2mpv7xwk\"]\n",
    );
    let out = common::credsweep()
        .args(["rules", "check", "--no-default-rules", "--rules"])
        .arg(&everywhere)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("rule `acme-anything`") && stderr.contains("no `keywords` and no `path`"),
        "{stderr}"
    );
    // The same rule with a path filter is fine: it runs only on the files it names.
    let scoped = write(
        d.path(),
        "scoped.toml",
        "[[rule]]\nid = \"acme-anything\"\ndescription = \"Acme\"\nseverity = \"warning\"\n\
         regex = '(?P<secret>[a-z0-9]{12})'\npath = '(?:^|/)acme\\.conf$'\n",
    );
    common::credsweep()
        .args(["rules", "check", "--no-default-rules", "--rules"])
        .arg(&scoped)
        .assert()
        .code(0);
}
