//! `credsweep git --recurse-submodules`: an initialised submodule's own history is scanned, its
//! findings reported under the submodule's path and naming it; one not initialised is named; one
//! that cannot be read is an error, never a silent pass.
//!
//! Every credential here is fake: the tokens carry `FAKE` in plain sight.

use std::path::Path;

use serde_json::Value;

mod common;
use common::fixtures::{LIBRARY_TOKEN as TOKEN, files_under, library, superproject};
use common::{credsweep, findings, git, run_json};

/// Runs `credsweep git . <args> --format json --no-config` in `dir`; the exit code and the report.
fn scan(dir: &Path, args: &[&str]) -> (i32, Value) {
    run_json(dir, &[&["git", "."], args].concat())
}

fn notes(doc: &Value) -> Vec<String> {
    doc["summary"]["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn an_initialised_submodule_history_is_scanned_under_its_path() {
    let root = tempfile::tempdir().unwrap();
    let lib = library(root.path());
    let app = superproject(root.path(), &lib);

    // Without the flag the submodule is only named, and its secret is not found.
    let (code, doc) = scan(&app, &[]);
    assert_eq!(code, 0, "{doc}");
    assert!(
        notes(&doc)
            .iter()
            .any(|n| n.starts_with("submodule vendor/sdk") && n.contains("--recurse-submodules")),
        "{:?}",
        notes(&doc)
    );

    let (code, doc) = scan(&app, &["--recurse-submodules"]);
    assert_eq!(code, 1, "{doc}");
    let token: Vec<&Value> = findings(&doc)
        .iter()
        .filter(|f| f["rule_id"] == "vobiz-auth-token")
        .collect();
    assert_eq!(token.len(), 1, "{doc}");
    assert_eq!(token[0]["path"], "vendor/sdk/config.py");
    assert_eq!(token[0]["repo"], "vendor/sdk");
    // Provenance is the submodule's own commit.
    let first = git(&lib, &["rev-parse", "HEAD~1"]);
    assert_eq!(token[0]["commit"], first.trim());
    assert_eq!(token[0]["in_head"], false);
    let raw = doc.to_string();
    assert!(!raw.contains(TOKEN), "the token is printed in full");
    let n = notes(&doc);
    assert!(
        !n.iter()
            .any(|n| n.contains("not scanned: pass --recurse-submodules")),
        "{n:?}"
    );
    assert!(
        n.iter()
            .any(|n| n.starts_with("submodule vendor/sdk: history scanned")),
        "{n:?}"
    );

    // Text and HTML name the submodule the commit is in, as JSON does.
    for (format, expected) in [
        ("text", "(submodule vendor/sdk)"),
        ("html", "<small>in submodule vendor/sdk</small>"),
    ] {
        let out = credsweep()
            .current_dir(&app)
            .args(["git", ".", "--recurse-submodules", "--no-config"])
            .args(["--format", format, "--color", "never"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let page = String::from_utf8_lossy(&out.stdout);
        assert!(page.contains(expected), "{format}: {page}");
        assert!(
            !page.contains(TOKEN),
            "{format}: the token is printed in full"
        );
    }
}

#[test]
fn a_submodule_not_initialised_is_named_and_one_that_cannot_be_read_fails() {
    let root = tempfile::tempdir().unwrap();
    let lib = library(root.path());
    let app = superproject(root.path(), &lib);

    // A clone without --recurse-submodules has the gitlink but no object database for it.
    let clone = root.path().join("clone");
    git(
        root.path(),
        &[
            "clone",
            "-q",
            app.to_str().unwrap(),
            clone.to_str().unwrap(),
        ],
    );
    let (code, doc) = scan(&clone, &["--recurse-submodules"]);
    assert_eq!(code, 0, "{doc}");
    assert!(
        notes(&doc)
            .iter()
            .any(|n| n.starts_with("submodule vendor/sdk") && n.contains("not initialised")),
        "{:?}",
        notes(&doc)
    );

    // An initialised submodule whose object database is damaged: reported, exit 2.
    let modules = app.join(".git/modules/vendor/sdk");
    assert!(modules.is_dir(), "git keeps the submodule's objects here");
    let packs = modules.join("objects");
    for e in files_under(&packs) {
        if e.is_file() {
            std::fs::write(&e, b"not an object").unwrap_or_else(|_| {
                // Object files are read-only: make them writable first.
                let mut p = std::fs::metadata(&e).unwrap().permissions();
                #[allow(clippy::permissions_set_readonly_false)]
                p.set_readonly(false);
                std::fs::set_permissions(&e, p).unwrap();
                std::fs::write(&e, b"not an object").unwrap();
            });
        }
    }
    let (code, doc) = scan(&app, &["--recurse-submodules"]);
    assert_eq!(code, 2, "{doc}");
}
