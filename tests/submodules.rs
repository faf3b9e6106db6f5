//! `credsweep git --recurse-submodules`: an initialised submodule's own history is scanned, its
//! findings reported under the submodule's path and naming it; one not initialised is named; one
//! that cannot be read is an error, never a silent pass.
//!
//! Every credential here is fake: the tokens carry `FAKE` in plain sight.

use std::path::Path;

use serde_json::Value;

mod common;
use common::{credsweep, git, write};

const TOKEN: &str = "sk_live_7Hc2Qp9ZkR4wXv8Nm3Bt6Jd1FAKE";

/// Runs `credsweep git . <args> --format json` in `dir`; the exit code and the report.
fn scan(dir: &Path, args: &[&str]) -> (i32, Value) {
    let out = credsweep()
        .current_dir(dir)
        .args(["git", "."])
        .args(args)
        .args(["--format", "json", "--no-config"])
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

fn commit_all(dir: &Path, msg: &str) {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", msg]);
}

/// A library repository whose history (not its last commit) held a Vobiz token.
fn library(root: &Path) -> std::path::PathBuf {
    let lib = root.join("sdk-src");
    std::fs::create_dir_all(&lib).unwrap();
    git(&lib, &["init", "-q", "-b", "main", "."]);
    write(
        &lib,
        "config.py",
        format!("VOBIZ_AUTH_ID = \"partner-7c1e94ab20f3\"\nVOBIZ_AUTH_TOKEN = \"{TOKEN}\"\n"),
    );
    commit_all(&lib, "configure the client");
    write(
        &lib,
        "config.py",
        "VOBIZ_AUTH_TOKEN = os.environ[\"VOBIZ_AUTH_TOKEN\"]\n",
    );
    commit_all(&lib, "read the token from the environment");
    lib
}

/// A superproject with `lib` as its submodule at `vendor/sdk`, initialised.
fn superproject(root: &Path, lib: &Path) -> std::path::PathBuf {
    let app = root.join("app");
    std::fs::create_dir_all(&app).unwrap();
    git(&app, &["init", "-q", "-b", "main", "."]);
    write(&app, "README.md", "An application.\n");
    commit_all(&app, "initial");
    git(
        &app,
        &[
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            lib.to_str().unwrap(),
            "vendor/sdk",
        ],
    );
    commit_all(&app, "add the sdk");
    app
}

fn findings(doc: &Value) -> &Vec<Value> {
    doc["findings"].as_array().unwrap()
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
    for e in walk(&packs) {
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

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}
