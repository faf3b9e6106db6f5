//! Embeds every `rules/*.toml` file in the binary, as written and as constant values (the
//! engine's `rules/embedded.rs`): the default rule pack is data kept in `rules/`, but the tool
//! must work with no files beside it.

use std::fmt::Write as _;
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
    let mut data = String::from("[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f.file_name().unwrap().to_string_lossy();
        out += &format!(
            "    ({name:?}, include_str!({:?})),\n",
            f.display().to_string()
        );
        // The same file as a Rust expression of its values, which the engine deserializes at
        // start-up without parsing any text. A file that is not TOML stops the build here,
        // naming it.
        let text = fs::read_to_string(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let table: toml::Table =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        data += &format!("    ({name:?}, ");
        write_table(&mut data, &table, &f.display().to_string());
        data += "),\n";
    }
    out += "]\n";
    data += "]\n";
    fs::write(Path::new(&out_dir).join("rules.rs"), out).unwrap();
    fs::write(Path::new(&out_dir).join("rules_data.rs"), data).unwrap();
}

/// Writes `table` as a `Value::Table` expression (`file` names it in a panic).
fn write_table(out: &mut String, table: &toml::Table, file: &str) {
    out.push_str("Value::Table(&[");
    for (key, value) in table {
        write!(out, "({key:?}, ").unwrap();
        write_value(out, value, file);
        out.push_str("), ");
    }
    out.push_str("])");
}

/// Writes `value` as a `Value` expression: strings as literals (`{:?}` escapes them as Rust
/// does), floats by their bits, so that each reads back exactly as TOML gave it.
fn write_value(out: &mut String, value: &toml::Value, file: &str) {
    match value {
        toml::Value::String(s) => write!(out, "Value::Str({s:?})").unwrap(),
        toml::Value::Integer(i) => write!(out, "Value::Int({i})").unwrap(),
        toml::Value::Float(f) => {
            write!(out, "Value::Float(f64::from_bits({}))", f.to_bits()).unwrap()
        }
        toml::Value::Boolean(b) => write!(out, "Value::Bool({b})").unwrap(),
        toml::Value::Array(items) => {
            out.push_str("Value::Array(&[");
            for item in items {
                write_value(out, item, file);
                out.push_str(", ");
            }
            out.push_str("])");
        }
        toml::Value::Table(table) => write_table(out, table, file),
        toml::Value::Datetime(_) => panic!("{file}: a date-time is not a value of any rule field"),
    }
}
