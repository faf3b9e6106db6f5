//! Data flows one way: no module imports from a layer above it (docs/architecture.md). Each
//! crate's top-level modules are listed lowest layer first; a module may name (`crate::x`, or
//! `super::x` from its own top) only modules listed before it. Comments are not code, so doc
//! links upwards ("the CLI turns flags into …") are allowed.

use std::fs;
use std::path::{Path, PathBuf};

/// The `credsweep` crate, lowest first. The engine's modules (re-exported under the same names)
/// are below all of them.
const CREDSWEEP: &[&str] = &[
    "allow",
    "encoded",
    "archive",
    "binary",
    "finding",
    "gitleaks",
    "pair",
    "rulecheck",
    "rules",
    "scan",
    "scanner",
    "window",
    "term",
    "units",
    "fsutil",
    "project",
    "config",
    "baseline",
    "sources",
    "verify",
    "report",
    "hooks",
    "app",
    "cli",
];

/// The engine crate, lowest first.
const ENGINE: &[&str] = &[
    // Tests only: the randomised tests' generator, used from the lowest module up.
    "test_rng",
    "encoded",
    "required",
    "rules",
    "gitleaks",
    "scanner",
    "finding",
    "allow",
    "pair",
    "archive",
    "binary",
    "scan",
    "window",
    "rulecheck",
];

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(sources(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}

/// The top-level module a file of `src` belongs to (`None` for `lib.rs` and `main.rs`).
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel.components().next()?.as_os_str().to_string_lossy();
    let name = first.trim_end_matches(".rs");
    (!matches!(name, "lib" | "main")).then(|| name.to_string())
}

/// The crate modules a file's code (not its comments) names: `crate::x`.
fn named_modules(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push(name);
            }
            rest = after;
        }
    }
    out
}

/// Every import from a layer above, as `file: module -> module`.
fn upward_imports(src: &Path, layers: &[&str]) -> Vec<String> {
    let rank = |m: &str| layers.iter().position(|l| *l == m);
    let mut bad = Vec::new();
    for file in sources(src) {
        let Some(top) = top_module(src, &file) else {
            continue;
        };
        let own = rank(&top).unwrap_or_else(|| {
            panic!(
                "{}: module `{top}` has no layer: add it to tests/layers.rs",
                file.display()
            )
        });
        let text = fs::read_to_string(&file).unwrap();
        for m in named_modules(&text) {
            if m == top {
                continue;
            }
            match rank(&m) {
                Some(r) if r < own => {}
                Some(_) => bad.push(format!("{}: {top} -> {m}", file.display())),
                // Not a module (a macro path, an item of lib.rs): nothing to order.
                None => {}
            }
        }
    }
    bad
}

#[test]
fn no_module_of_credsweep_imports_from_a_layer_above() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let bad = upward_imports(&src, CREDSWEEP);
    assert!(
        bad.is_empty(),
        "imports from a layer above:\n{}",
        bad.join("\n")
    );
}

#[test]
fn no_module_of_the_engine_imports_from_a_layer_above() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/credsweep-engine/src");
    let bad = upward_imports(&src, ENGINE);
    assert!(
        bad.is_empty(),
        "imports from a layer above:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_check_sees_an_upward_import() {
    // The same reading, on a made-up file of a low layer that names a higher one.
    let names = named_modules("use crate::cli::Cli; // crate::app in a comment\n");
    assert_eq!(names, ["cli"]);
    let dir = std::env::temp_dir().join(format!("credsweep-layers-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("config")).unwrap();
    fs::write(dir.join("config/mod.rs"), "use crate::report::Report;\n").unwrap();
    fs::write(dir.join("report.rs"), "use crate::config::Config;\n").unwrap();
    let bad = upward_imports(&dir, CREDSWEEP);
    fs::remove_dir_all(&dir).unwrap();
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(bad[0].ends_with("config -> report"), "{bad:?}");
}
