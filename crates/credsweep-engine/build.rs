//! Embeds every `rules/*.toml` file in the binary: the default rule pack is data kept in `rules/`,
//! but the tool must work with no files beside it.

use std::{env, fs, path::Path};

fn main() {
    // The rule pack lives at the repository's top, where users and reviewers find it. The
    // engine's `rules` is a symbolic link to it, so that `cargo package` copies the pack into
    // the engine's .crate and a build from crates.io embeds the same files; a checkout without
    // symbolic links (git's core.symlinks=false) has a small file there instead, and the
    // repository's top is read directly.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = match manifest.join("rules") {
        linked if linked.is_dir() => linked,
        _ => manifest.join("../../rules"),
    };
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = fs::read_dir(&dir)
        .expect("rules/ must exist")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let mut out = String::from("[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f.file_name().unwrap().to_string_lossy();
        out += &format!(
            "    ({name:?}, include_str!({:?})),\n",
            f.display().to_string()
        );
    }
    out += "]\n";
    let dest = Path::new(&env::var("OUT_DIR").unwrap()).join("rules.rs");
    fs::write(dest, out).unwrap();
}
