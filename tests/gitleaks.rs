//! Rule files in the gitleaks format (`[[rules]]`, allow-lists, `[extend]`) through the whole
//! scanner: given with `--rules` and named in a configuration's `rule_files`, in directory and
//! history scans. And, when `GITLEAKS_CONFIG` names a copy of gitleaks' published default
//! configuration, that it loads (at least 200 rules) and scans.
//!
//! Every credential here is fake (note the `FAKE` in each).

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{git, write};
use serde_json::Value;
use tempfile::TempDir;

/// Exercises each field the converter reads. `{\d+}` is RE2 for a literal brace.
const GITLEAKS_RULES: &str = r#"
title = "team rules"

[extend]
useDefault = true
disabledRules = ["not-a-rule-here"]

[allowlist]
description = "global"
paths = ['''(?:^|/)vendor/''']
regexes = ['''^\$(?:\d+|{\d+})$''']
stopwords = ["placeholderfake"]

[[rules]]
id = "acme-live-token"
description = "Acme live token"
regex = '''(acme)_live_([A-Za-z0-9]{24})'''
secretGroup = 2
entropy = 2.0
keywords = ["acme_live_"]
tags = ["acme", "payments"]
[[rules.allowlists]]
regexes = ['''^EXAMPLE''']
[[rules.allowlists]]
stopwords = ["notreal"]

[[rules]]
id = "widget-key"
description = "Widget key, no keywords: derived from the regex"
regex = '''wdgt-[0-9a-f]{8}FAKE[0-9a-f]{12}'''

[[rules]]
id = "conf-pass"
description = "A password in a .conf file"
regex = '''pass=([a-z0-9]{8}FAKE)'''
path = '''\.conf$'''
keywords = ["pass="]

[[rules]]
id = "pkcs12-file"
description = "A PKCS#12 file"
path = '''\.p12$'''
"#;

const ACME: &str = "acme_live_Q7wPz3Kd9LmFAKE2vXb8Nc4R";
const ACME_SECRET: &str = "Q7wPz3Kd9LmFAKE2vXb8Nc4R";
const WIDGET: &str = "wdgt-3fa9c2e1FAKE7b4d0a9e6c21";
const PASS: &str = "x9k2m7q4FAKE";

/// A tree with one credential per case: found, allowed by each kind of allow-list, out of a
/// rule's path scope.
fn tree(dir: &Path) {
    write(dir, "src/a.txt", format!("token = {ACME}\n"));
    write(
        dir,
        "src/b.txt",
        "token = acme_live_EXAMPLEFAKE0000000000000\n",
    );
    write(
        dir,
        "src/c.txt",
        "token = acme_live_NotRealFAKE0000000000000\n",
    );
    write(dir, "vendor/lib/d.txt", format!("token = {ACME}\n"));
    write(dir, "src/widget.txt", format!("key: {WIDGET}\n"));
    write(dir, "app.conf", format!("pass={PASS}\n"));
    write(dir, "app.txt", format!("pass={PASS}\n"));
    write(dir, "cert.p12", "not really a p12\n");
}

/// Runs credsweep in `dir`: the JSON report (secrets shown) and the exit code.
fn run(dir: &Path, args: &[&str]) -> (Value, i32) {
    let out = common::credsweep()
        .current_dir(dir)
        .args(args)
        .args(["--format", "json", "--no-redact"])
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

/// (rule, path without a leading `./`, secret) of each finding.
fn found(doc: &Value) -> BTreeSet<(String, String, String)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["path"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("./")
                    .to_string(),
                f["secret"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn expected() -> BTreeSet<(String, String, String)> {
    [
        ("acme-live-token", "src/a.txt", ACME_SECRET),
        ("widget-key", "src/widget.txt", WIDGET),
        ("conf-pass", "app.conf", PASS),
    ]
    .iter()
    .map(|(r, p, s)| (r.to_string(), p.to_string(), s.to_string()))
    .collect()
}

fn notes(doc: &Value) -> String {
    doc["summary"]["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_gitleaks_rule_file_scans_a_directory() {
    let dir = TempDir::new().unwrap();
    tree(dir.path());
    write(dir.path(), "rules/gitleaks.toml", GITLEAKS_RULES);
    let (doc, code) = run(
        dir.path(),
        &[
            "dir",
            "--no-config",
            "--no-default-rules",
            "--rules",
            "rules/gitleaks.toml",
            "src",
            "vendor",
            "app.conf",
            "app.txt",
            "cert.p12",
        ],
    );
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(found(&doc), expected(), "{doc:#}");
    let notes = notes(&doc);
    assert!(
        notes.contains("rule `pkcs12-file` skipped: a path-only rule"),
        "{notes}"
    );
    assert!(notes.contains("disabledRules"), "{notes}");
    // Tags are kept in the description.
    let acme = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "acme-live-token")
        .unwrap();
    assert!(
        acme["description"]
            .as_str()
            .unwrap()
            .contains("tags: acme, payments"),
        "{acme:#}"
    );
}

#[test]
fn a_gitleaks_rule_file_scans_history_and_loads_from_rule_files() {
    let dir = TempDir::new().unwrap();
    let root = dir.path();
    git(root, &["init", "-q", "."]);
    tree(root);
    write(root, "gitleaks.toml", GITLEAKS_RULES);
    write(
        root,
        ".credsweep.toml",
        "default_rules = false\nrule_files = [\"gitleaks.toml\"]\n",
    );
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "add files"]);
    let (doc, code) = run(root, &["git", "."]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(found(&doc), expected(), "{doc:#}");
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["commit"].is_string()),
        "{doc:#}"
    );
    // The same through `--rules` and the default pack (ids that collide would be renamed).
    let (doc, _) = run(
        root,
        &["dir", "--no-config", "--rules", "gitleaks.toml", "."],
    );
    let ids: BTreeSet<String> = found(&doc).into_iter().map(|f| f.0).collect();
    assert!(ids.contains("acme-live-token"), "{ids:?}");
}

#[test]
fn rules_list_and_check_accept_a_gitleaks_file() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "gl.toml", GITLEAKS_RULES);
    let out = common::credsweep()
        .current_dir(dir.path())
        .args([
            "rules",
            "list",
            "--no-config",
            "--no-default-rules",
            "--rules",
            "gl.toml",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.ends_with("3 rules\n"), "{text}");
    let out = common::credsweep()
        .current_dir(dir.path())
        .args([
            "rules",
            "check",
            "--no-config",
            "--no-default-rules",
            "--rules",
            "gl.toml",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

/// Runs only when `GITLEAKS_CONFIG` names gitleaks' published default configuration (its text
/// is not part of this repository): at least 200 of its rules load, and a scan of the test
/// fixtures with them completes.
#[test]
fn the_published_gitleaks_config_loads_and_scans() {
    let Some(file) = std::env::var_os("GITLEAKS_CONFIG") else {
        eprintln!("skipped: set GITLEAKS_CONFIG to a copy of gitleaks' config/gitleaks.toml");
        return;
    };
    let file = std::path::PathBuf::from(file);
    let out = common::credsweep()
        .args([
            "rules",
            "list",
            "--no-config",
            "--no-default-rules",
            "--rules",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let count: usize = text
        .lines()
        .last()
        .and_then(|l| l.strip_suffix(" rules"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{text}"));
    assert!(count >= 200, "{count} rules loaded");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_credsweep"));
    cmd.args(["dir", "--no-config", "--format", "json", "--rules"])
        .arg(&file)
        .arg(&fixtures);
    let run = common::run_watched(&mut cmd, std::time::Duration::from_secs(300));
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let doc: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert!(doc["findings"].is_array());
}

/// A repository's own configuration may not reach outside the repository through a gitleaks
/// file's `[extend] path`: that file is not read, and a note says so.
#[test]
fn extend_path_of_a_repository_file_stays_inside_it() {
    let outer = TempDir::new().unwrap();
    let root = outer.path().join("repo");
    std::fs::create_dir_all(&root).unwrap();
    git(&root, &["init", "-q", "."]);
    write(
        outer.path(),
        "outside.toml",
        "[[rules]]\nid='outside-rule'\nregex='''outs_[a-z]{8}FAKE'''\nkeywords=['outs_']\n",
    );
    write(
        &root,
        "gl.toml",
        "[extend]\npath='../outside.toml'\n[[rules]]\nid='acme-live-token'\n\
         regex='''acme_live_([A-Za-z0-9]{24})'''\nkeywords=['acme_live_']\n",
    );
    write(
        &root,
        ".credsweep.toml",
        "default_rules = false\nrule_files = [\"gl.toml\"]\n",
    );
    write(
        &root,
        "a.txt",
        format!("outs_abcdefghFAKE\ntoken = {ACME}\n"),
    );
    let (doc, code) = run(&root, &["dir", "a.txt"]);
    assert_eq!(code, 1, "{doc:#}");
    let ids: BTreeSet<String> = found(&doc).into_iter().map(|f| f.0).collect();
    assert_eq!(
        ids,
        BTreeSet::from(["acme-live-token".to_string()]),
        "{doc:#}"
    );
    let notes = notes(&doc);
    assert!(notes.contains("`[extend] path` not loaded"), "{notes}");
    assert!(notes.contains("outside the repository"), "{notes}");
}

/// `baseline import .gitleaksignore`: lines whose finding is still there (in the files, or with
/// `--git` in the commit named) become baseline entries, which then suppress those findings; the
/// others are listed as not found.
#[test]
fn baseline_import_turns_gitleaksignore_lines_into_entries() {
    let dir = TempDir::new().unwrap();
    let root = dir.path();
    git(root, &["init", "-q", "."]);
    tree(root);
    write(root, "gitleaks.toml", GITLEAKS_RULES);
    write(
        root,
        ".credsweep.toml",
        "default_rules = false\nrule_files = [\"gitleaks.toml\"]\n",
    );
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "add files"]);
    let head = git(root, &["rev-parse", "HEAD"]).trim().to_string();
    write(
        root,
        ".gitleaksignore",
        format!(
            "# accepted\nsrc/a.txt:acme-live-token:1\nsrc/widget.txt:widget-key:7\n\
             {head}:app.conf:conf-pass:1\nnot-an-entry\n"
        ),
    );
    let out = common::credsweep()
        .current_dir(root)
        .args(["baseline", "import", ".gitleaksignore"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("1 new entry, 1 in all"), "{err}");
    assert!(
        err.contains(
            "not found (no finding of that rule on that line): src/widget.txt:widget-key:7"
        ),
        "{err}"
    );
    assert!(err.contains("1 line(s)"), "{err}");
    // The commit line is not found by a files scan (it names a commit), but by a history scan.
    let out = common::credsweep()
        .current_dir(root)
        .args(["baseline", "import", ".gitleaksignore", "--git"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    // src/a.txt's entry is there already (its scope grows); app.conf's is new.
    assert!(err.contains("1 new entry, 2 in all"), "{err}");
    let (doc, code) = run(root, &["dir", "."]);
    assert_eq!(code, 1, "{doc:#}");
    let left: BTreeSet<String> = found(&doc).into_iter().map(|f| f.1).collect();
    assert_eq!(
        left,
        BTreeSet::from(["src/widget.txt".to_string()]),
        "{doc:#}"
    );
}
