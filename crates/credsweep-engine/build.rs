//! Embeds every `rules/*.toml` file in the binary, as written and converted to JSON: the default
//! rule pack is data kept in `rules/`, but the tool must work with no files beside it.

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
    let out_dir = env::var("OUT_DIR").unwrap();
    let mut out = String::from("[\n");
    let mut json = String::from("[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f.file_name().unwrap().to_string_lossy();
        out += &format!(
            "    ({name:?}, include_str!({:?})),\n",
            f.display().to_string()
        );
        // The same file as JSON, which the engine parses at start-up far faster than TOML. A
        // file that is not TOML stops the build here, naming it.
        let text = fs::read_to_string(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let table: toml::Table =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let converted = Path::new(&out_dir).join(format!("{name}.json"));
        fs::write(&converted, serde_json::to_string(&table).unwrap()).unwrap();
        json += &format!(
            "    ({name:?}, include_str!({:?})),\n",
            converted.display().to_string()
        );
    }
    out += "]\n";
    json += "]\n";
    fs::write(Path::new(&out_dir).join("rules.rs"), out).unwrap();
    fs::write(Path::new(&out_dir).join("rules_json.rs"), json).unwrap();
}
