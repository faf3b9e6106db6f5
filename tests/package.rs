//! What `cargo package` would publish: each crate's file list (`cargo package --list`, offline)
//! holds what `cargo install credsweep` needs to build (the engine's build.rs and every rule
//! file it embeds, the licences) and none of what stays in the repository (tests and their
//! fixtures, fuzzing, benchmarks, CI, the container and action files).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// The files `cargo package --list` names for `package`.
fn package_list(package: &str) -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO"))
        .current_dir(root)
        .args([
            "package",
            "--list",
            "--allow-dirty",
            "--offline",
            "-p",
            package,
        ])
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo package --list -p {package}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Every `rules/*.toml` in the repository, as `rules/<name>`.
fn rule_files() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .map(|n| format!("rules/{n}"))
        .collect();
    files.sort();
    assert!(files.len() > 5, "{files:?}");
    files
}

/// No file under a directory or with a name that stays in the repository.
fn assert_nothing_left_in_the_repository(package: &str, list: &BTreeSet<String>) {
    for f in list {
        for dir in [
            "tests/",
            "fuzz/",
            "bench/",
            ".ci/",
            "examples/",
            "target/",
            "crates/",
        ] {
            assert!(!f.starts_with(dir), "{package} packages {f}");
        }
        for name in ["Dockerfile", ".dockerignore", "action.yml"] {
            assert_ne!(f, name, "{package} packages {f}");
        }
    }
}

#[test]
fn the_engine_crate_carries_the_rules_it_embeds() {
    let list = package_list("credsweep-engine");
    for needed in [
        "build.rs",
        "src/lib.rs",
        "README.md",
        "LICENSE-MIT",
        "LICENSE-APACHE",
    ] {
        assert!(list.contains(needed), "engine lacks {needed}: {list:?}");
    }
    for rule in rule_files() {
        assert!(list.contains(&rule), "engine lacks {rule}");
    }
    assert_nothing_left_in_the_repository("credsweep-engine", &list);
}

#[test]
fn the_tool_crate_has_its_sources_and_nothing_large() {
    let list = package_list("credsweep");
    for needed in [
        "src/main.rs",
        "src/lib.rs",
        "Cargo.lock",
        "README.md",
        "LICENSE-MIT",
        "LICENSE-APACHE",
        "docs/architecture.md",
    ] {
        assert!(list.contains(needed), "credsweep lacks {needed}: {list:?}");
    }
    for rule in rule_files() {
        assert!(list.contains(&rule), "credsweep lacks {rule}");
    }
    assert_nothing_left_in_the_repository("credsweep", &list);
}

#[test]
fn the_root_crate_names_the_engine_by_path_and_version() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let doc: toml::Table = manifest.parse().unwrap();
    let engine = &doc["dependencies"]["credsweep-engine"];
    assert_eq!(engine["path"].as_str(), Some("crates/credsweep-engine"));
    // crates.io needs a version for a path dependency; it must be the engine's own.
    let engine_manifest: toml::Table = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/credsweep-engine/Cargo.toml"),
    )
    .unwrap()
    .parse()
    .unwrap();
    assert_eq!(
        engine["version"].as_str(),
        engine_manifest["package"]["version"].as_str()
    );
    for (name, m) in [("credsweep", &doc), ("credsweep-engine", &engine_manifest)] {
        for field in [
            "description",
            "readme",
            "keywords",
            "categories",
            "rust-version",
        ] {
            assert!(m["package"].get(field).is_some(), "{name} lacks {field}");
        }
    }
    let shared = &doc["workspace"]["package"];
    for field in ["license", "repository"] {
        assert!(
            shared.get(field).is_some(),
            "workspace.package lacks {field}"
        );
    }
}
