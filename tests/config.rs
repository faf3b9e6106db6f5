//! Living with findings: `.credsweep.toml`, inline markers, the baseline.
//!
//! Every credential here is fake: the tokens carry `FAKE` in plain sight.

use std::fs;
use std::path::Path;

use predicates::prelude::*;
use serde_json::Value;

mod common;
use common::{credsweep, git, write};

const TOKEN: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE";
const TOKEN2: &str = "sk_live_9fK2pLmQ7rT4vW8xZ1cN3bH6FAKE";

/// `credsweep dir` run inside `dir` (so the config is found there); returns (status, JSON).
fn scan(dir: &Path, extra: &[&str]) -> (i32, Value) {
    let out = credsweep()
        .current_dir(dir)
        .args(["dir", "--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), doc)
}

fn paths(doc: &Value) -> Vec<String> {
    let mut p: Vec<String> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    p.sort();
    p
}

fn leak(name_hint: &str, token: &str) -> String {
    format!("# {name_hint}\nVOBIZ_AUTH_TOKEN={token}\n")
}

#[test]
fn each_allowlist_kind_drops_only_what_it_names() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    write(p, "fixtures/a.env", leak("fixture", TOKEN));
    write(p, "src/b.env", leak("plain", TOKEN2));
    write(
        p,
        "src/c.env",
        format!("VOBIZ_AUTH_TOKEN={TOKEN2} # sample-data\n"),
    );
    write(
        p,
        "src/d.env",
        "VOBIZ_AUTH_TOKEN=sk_live_Q7mZ2xW9rT4vK8pL1cN3bHsFIXTURE\n",
    );
    let (code, doc) = scan(p, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        paths(&doc),
        ["fixtures/a.env", "src/b.env", "src/c.env", "src/d.env"]
    );

    write(p, ".credsweep.toml", "[allow]\npaths = [\"fixtures/**\"]\n");
    let (_, doc) = scan(p, &[]);
    assert_eq!(paths(&doc), ["src/b.env", "src/c.env", "src/d.env"]);
    assert_eq!(doc["summary"]["allowed_paths"], 1);

    write(
        p,
        ".credsweep.toml",
        format!("[allow]\nsecrets = ['''^{TOKEN2}$''']\n"),
    );
    let (_, doc) = scan(p, &[]);
    assert_eq!(paths(&doc), ["fixtures/a.env", "src/d.env"]);
    // b.env, c.env, and the configuration itself, which spells the token out.
    assert_eq!(doc["summary"]["allowed"], 3);

    write(
        p,
        ".credsweep.toml",
        "[allow]\nlines = ['''# sample-data$''']\n",
    );
    let (_, doc) = scan(p, &[]);
    assert_eq!(paths(&doc), ["fixtures/a.env", "src/b.env", "src/d.env"]);

    write(p, ".credsweep.toml", "[allow]\nstopwords = [\"fixture\"]\n");
    let (_, doc) = scan(p, &[]);
    assert_eq!(paths(&doc), ["fixtures/a.env", "src/b.env", "src/c.env"]);

    // --no-config ignores all of it.
    let (_, doc) = scan(p, &["--no-config"]);
    assert_eq!(paths(&doc).len(), 4);
}

#[test]
fn config_found_from_a_subdirectory_and_paths_relative_to_it() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    fs::create_dir(p.join(".git")).unwrap();
    write(
        p,
        ".credsweep.toml",
        "[allow]\npaths = [\"src/fixtures/**\"]\n",
    );
    write(p, "src/fixtures/a.env", leak("fixture", TOKEN));
    write(p, "src/real.env", leak("real", TOKEN2));
    let (code, doc) = scan(&p.join("src"), &["."]);
    assert_eq!(code, 1);
    assert_eq!(paths(&doc), ["real.env"]);
}

#[test]
fn inline_markers_on_the_line_and_the_line_before() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let markers = [
        "credsweep:allow",
        "gitleaks:allow",
        "pragma: allowlist secret",
        "kingfisher:ignore",
        "trufflehog:ignore",
    ];
    for (i, m) in markers.iter().enumerate() {
        write(
            p,
            &format!("m{i}.env"),
            format!("VOBIZ_AUTH_TOKEN={TOKEN} # {m}\n"),
        );
    }
    write(
        p,
        "next.env",
        format!(
            "# pragma: allowlist nextline secret\nVOBIZ_AUTH_TOKEN={TOKEN}\nVOBIZ_AUTH_TOKEN={TOKEN2}\n"
        ),
    );
    let (code, doc) = scan(p, &[]);
    assert_eq!(code, 1);
    let f = doc["findings"].as_array().unwrap();
    // Only the line after the nextline-marked one is reported.
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(
        (f[0]["path"].as_str(), f[0]["line"].as_u64()),
        (Some("next.env"), Some(3))
    );
    assert_eq!(doc["summary"]["allowed"], markers.len() as u64 + 1);

    let (_, doc) = scan(p, &["--no-inline-allow"]);
    assert_eq!(doc["findings"].as_array().unwrap().len(), markers.len() + 2);
}

#[test]
fn config_errors_name_file_line_and_reason() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    write(p, "a.txt", "clean\n");
    for (text, line, words) in [
        (
            "max_file_size = \"1G\"\n[allow]\nsecrets = ['(unclosed']\n",
            3,
            "allow.secrets",
        ),
        ("\ndisable = [\"no-such-rule\"]\n", 2, "no-such-rule"),
        (
            // The key and what it takes, not the value (it may be anything, a credential too).
            "[severity]\nvobiz-auth-token = \"critical\"\n",
            2,
            "`vobiz-auth-token`: unknown value, expected one of",
        ),
        ("\n\nthis is not toml\n", 3, ""),
        (
            "[[rule]]\nid = \"x\"\ndescription = \"d\"\nseverity = \"error\"\nregex = \"no-group\"\n",
            1,
            "secret",
        ),
    ] {
        write(p, ".credsweep.toml", text);
        credsweep()
            .current_dir(p)
            .arg("dir")
            .assert()
            .code(2)
            .stderr(
                predicate::str::contains(format!(".credsweep.toml:{line}:"))
                    .and(predicate::str::contains(words)),
            );
    }
    credsweep()
        .current_dir(p)
        .args(["dir", "--config", "missing.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("missing.toml"));
}

#[test]
fn config_tunes_rules() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    write(
        p,
        "a.env",
        format!("VOBIZ_AUTH_TOKEN={TOKEN}\nACME_KEY=acme_q8zr2mpv7xwk3j\n"),
    );
    let rule = "[[rule]]\nid = \"acme-key\"\ndescription = \"Acme key\"\nseverity = \"warning\"\nregex = '(?P<secret>acme_[a-z0-9]{14})'\nkeywords = [\"acme_\"]\n";
    write(
        p,
        ".credsweep.toml",
        format!("[severity]\nvobiz-auth-token = \"note\"\n{rule}"),
    );
    let (_, doc) = scan(p, &[]);
    let f = doc["findings"].as_array().unwrap();
    let sev: Vec<(&str, &str)> = f
        .iter()
        .map(|x| {
            (
                x["rule_id"].as_str().unwrap(),
                x["severity"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(sev, [("vobiz-auth-token", "note"), ("acme-key", "warning")]);

    write(
        p,
        ".credsweep.toml",
        format!("default_rules = false\n{rule}"),
    );
    let (_, doc) = scan(p, &[]);
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1);

    write(
        p,
        ".credsweep.toml",
        "disable = [\"vobiz-auth-token\", \"live-secret-key\"]\n",
    );
    let (code, doc) = scan(p, &[]);
    assert_eq!(
        (code, doc["findings"].as_array().unwrap().len()),
        (0, 0),
        "{doc:#}"
    );
}

#[test]
fn fingerprint_salt_changes_fingerprints_but_not_their_stability() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    write(p, "a.env", leak("a", TOKEN));
    let fp = |doc: &Value| {
        doc["findings"][0]["fingerprint"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (_, doc) = scan(p, &[]);
    let unsalted = fp(&doc);
    write(
        p,
        ".credsweep.toml",
        "fingerprint_salt = \"per-repo-key\"\n",
    );
    let (_, doc) = scan(p, &[]);
    let salted = fp(&doc);
    assert_ne!(unsalted, salted);
    fs::rename(p.join("a.env"), p.join("moved.env")).unwrap();
    write(
        p,
        "moved.env",
        format!("\n\n\nX=1 VOBIZ_AUTH_TOKEN={TOKEN}\n"),
    );
    let (_, doc) = scan(p, &[]);
    assert_eq!(fp(&doc), salted);
}

#[test]
fn baseline_suppresses_by_content_not_position() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    write(p, "a.env", leak("a", TOKEN));
    credsweep()
        .current_dir(p)
        .args(["baseline", "add", "--reason", "test fixture"])
        .assert()
        .code(0);
    let text = fs::read_to_string(p.join(".credsweep-baseline.toml")).unwrap();
    assert!(!text.contains(TOKEN) && !text.contains("line ="), "{text}");
    assert!(text.contains("vobiz-auth-token") && text.contains("test fixture"));

    let (code, doc) = scan(p, &[]);
    assert_eq!((code, doc["summary"]["suppressed"].as_u64()), (0, Some(1)));

    // Moved down and renamed: still suppressed.
    fs::remove_file(p.join("a.env")).unwrap();
    write(
        p,
        "config/renamed.env",
        format!("\n\n# moved\nVOBIZ_AUTH_TOKEN={TOKEN}\n"),
    );
    let (code, doc) = scan(p, &["--show-suppressed"]);
    assert_eq!(code, 0);
    assert_eq!(doc["suppressed"][0]["path"], "config/renamed.env");

    // A different secret on the same line is reported.
    write(
        p,
        "config/renamed.env",
        format!("\n\n# moved\nVOBIZ_AUTH_TOKEN={TOKEN2}\n"),
    );
    let (code, doc) = scan(p, &[]);
    assert_eq!((code, doc["summary"]["suppressed"].as_u64()), (1, Some(0)));
}

#[test]
fn prune_drops_exactly_the_stale_entries_and_fail_on_stale() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    write(p, "a.env", leak("a", TOKEN));
    write(p, "b.env", leak("b", TOKEN2));
    credsweep()
        .current_dir(p)
        .args(["baseline", "add"])
        .assert()
        .code(0);
    let entries = |p: &Path| {
        fs::read_to_string(p.join(".credsweep-baseline.toml"))
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("{ "))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let before = entries(p);
    assert_eq!(before.len(), 2);
    fs::remove_file(p.join("b.env")).unwrap();
    credsweep()
        .current_dir(p)
        .args(["dir", "--fail-on-stale"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("stale baseline entry"));
    credsweep().current_dir(p).args(["dir"]).assert().code(0);
    credsweep()
        .current_dir(p)
        .args(["baseline", "prune"])
        .assert()
        .code(0);
    let after = entries(p);
    assert_eq!(after.len(), 1);
    assert!(after[0].contains("a.env"));
    assert!(before.contains(&after[0]));
    credsweep()
        .current_dir(p)
        .args(["dir", "--fail-on-stale"])
        .assert()
        .code(0);
}

#[test]
fn baselines_from_diverging_branches_merge_without_conflict() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    git(p, &["init", "-q"]);
    write(p, "README", "project\n");
    git(p, &["add", "-A"]);
    git(p, &["commit", "-qm", "base"]);
    let tokens = [
        "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE",
        "sk_live_9fK2pLmQ7rT4vW8xZ1cN3bH6FAKE",
        "sk_live_Hq7Lm2Pz9Xw4Rt8Kv3Bn6Cj1FAKE",
        "sk_live_Zt5Wq8Mn2Lp7Xr4Kd9Vb3Hc6FAKE",
    ];
    git(p, &["checkout", "-qb", "one"]);
    write(
        p,
        "one.env",
        format!(
            "VOBIZ_AUTH_TOKEN={}\nVOBIZ_AUTH_TOKEN={}\n",
            tokens[0], tokens[1]
        ),
    );
    credsweep()
        .current_dir(p)
        .args(["baseline", "add"])
        .assert()
        .code(0);
    git(p, &["add", "-A"]);
    git(p, &["commit", "-qm", "one"]);
    git(p, &["checkout", "-q", "main"]);
    git(p, &["checkout", "-qb", "two"]);
    write(
        p,
        "two.env",
        format!(
            "VOBIZ_AUTH_TOKEN={}\nVOBIZ_AUTH_TOKEN={}\n",
            tokens[2], tokens[3]
        ),
    );
    credsweep()
        .current_dir(p)
        .args(["baseline", "add"])
        .assert()
        .code(0);
    git(p, &["add", "-A"]);
    git(p, &["commit", "-qm", "two"]);
    git(p, &["merge", "-q", "--no-edit", "one"]);
    // Merged cleanly, and the merged baseline accepts all four.
    let (code, doc) = scan(p, &[]);
    assert_eq!(
        (code, doc["summary"]["suppressed"].as_u64()),
        (0, Some(4)),
        "{doc:#}"
    );
}

#[test]
fn baseline_add_git_accepts_history_findings() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    git(p, &["init", "-q"]);
    write(p, "old.env", leak("old", TOKEN));
    git(p, &["add", "-A"]);
    git(p, &["commit", "-qm", "leak"]);
    fs::remove_file(p.join("old.env")).unwrap();
    git(p, &["add", "-A"]);
    git(p, &["commit", "-qm", "remove"]);
    let history = |dir: &Path| {
        let out = credsweep()
            .current_dir(dir)
            .args(["git", ".", "--format", "json", "-q"])
            .output()
            .unwrap();
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        (
            out.status.code().unwrap(),
            doc["summary"]["suppressed"].as_u64().unwrap(),
        )
    };
    assert_eq!(history(p), (1, 0));
    // A tree scan sees nothing to accept; the history scan does.
    credsweep()
        .current_dir(p)
        .args(["baseline", "add"])
        .assert()
        .code(0);
    assert_eq!(history(p), (1, 0));
    credsweep()
        .current_dir(p)
        .args(["baseline", "add", "--git"])
        .assert()
        .code(0);
    assert_eq!(history(p), (0, 1));
}
