//! No silent truncation (issue 13, item 6): inputs of any size are scanned in windows, by
//! default to their end; `--max-file-size` is an opt-in cap whose cuts fail the scan (exit 2)
//! unless `--allow-truncation` accepts them. Windows are made small with the hidden
//! `--window-size` (a test knob) so the files here stay a few MiB.
//!
//! Every credential here is fake (note the `FAKE` marks).

use std::path::Path;

use serde_json::Value;

mod common;
use common::{credsweep, git, write};

const TOKEN: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE";
const TOKEN2: &str = "sk_live_9fK2pLmQ7rT4vW8xZ1cN3bH6FAKE";

/// The smallest window the built-in rules allow (eight times their longest match).
const WINDOW: usize = 2 << 20;

/// `lines` filler lines of 100 bytes each.
fn filler(lines: usize) -> String {
    format!("{}\n", "x".repeat(99)).repeat(lines)
}

/// Runs credsweep with `args` (plus `--format json`) and `stdin`; returns (status, report).
fn run(cwd: &Path, args: &[&str], stdin: Option<Vec<u8>>) -> (i32, Value) {
    let mut cmd = credsweep();
    cmd.current_dir(cwd).args(args).args(["--format", "json"]);
    if let Some(input) = stdin {
        cmd.write_stdin(input);
    }
    let out = cmd.output().unwrap();
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), doc)
}

/// (line, column, secret) of each finding, in report order.
fn places(doc: &Value) -> Vec<(u64, u64, String)> {
    let mut out: Vec<(u64, u64, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
                f["secret"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// A file of a few windows: a token on the line that straddles the first window's edge, and one
/// deep inside a later window. Returns the text and the two tokens' line numbers.
fn big_text() -> (String, u64, u64) {
    let before = WINDOW / 100 - 1;
    let mut text = filler(before);
    // This line runs from just under the window's edge to past it.
    text.push_str(&format!("{}VOBIZ_AUTH_TOKEN={TOKEN}\n", "y".repeat(130)));
    text.push_str(&filler(30_000));
    text.push_str(&format!("VOBIZ_AUTH_TOKEN={TOKEN2}\n"));
    text.push_str(&filler(2_000));
    let first = before as u64 + 1;
    (text, first, first + 30_001)
}

#[test]
fn a_file_over_several_windows_is_scanned_to_its_end_with_the_right_lines() {
    let d = tempfile::tempdir().unwrap();
    let (text, first, deep) = big_text();
    assert!(text.len() > 2 * WINDOW);
    write(d.path(), "dump.sql", &text);
    let (code, doc) = run(
        d.path(),
        &["dir", ".", "--no-redact", "--window-size", "2M"],
        None,
    );
    assert_eq!(code, 1, "{doc}");
    assert_eq!(
        places(&doc),
        vec![
            (first, 148, TOKEN.to_string()),
            (deep, 18, TOKEN2.to_string())
        ],
        "each token once, at its line"
    );
    assert_eq!(doc["summary"]["scanned"], 1);
    assert_eq!(doc["summary"]["bytes"], text.len() as u64);
    assert!(doc["summary"]["skipped"].as_array().unwrap().is_empty());
}

#[test]
fn one_long_line_over_several_windows_keeps_its_columns() {
    let d = tempfile::tempdir().unwrap();
    let pad = WINDOW - 20;
    let text = format!(
        "a\n{} VOBIZ_AUTH_TOKEN={TOKEN} {} VOBIZ_AUTH_TOKEN={TOKEN2}\n",
        "p".repeat(pad),
        "q".repeat(3 * WINDOW / 2)
    );
    write(d.path(), "one-line.min.js", &text);
    let (code, doc) = run(
        d.path(),
        &["dir", ".", "--no-redact", "--window-size", "2M"],
        None,
    );
    assert_eq!(code, 1, "{doc}");
    let col1 = pad as u64 + 19;
    let col2 = col1 + TOKEN.len() as u64 + 1 + 3 * WINDOW as u64 / 2 + 18;
    assert_eq!(
        places(&doc),
        vec![(2, col1, TOKEN.to_string()), (2, col2, TOKEN2.to_string())]
    );
}

#[test]
fn with_default_settings_a_file_past_the_old_cap_is_scanned_whole() {
    // Past one default window (8 MiB), with no flags at all.
    let d = tempfile::tempdir().unwrap();
    let mut text = filler(90_000);
    text.push_str(&format!("VOBIZ_AUTH_TOKEN={TOKEN}\n"));
    write(d.path(), "big.log", &text);
    let (code, doc) = run(d.path(), &["dir", ".", "--no-redact"], None);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(places(&doc), vec![(90_001, 18, TOKEN.to_string())]);
}

#[test]
fn a_cap_that_cuts_a_file_fails_the_scan_unless_truncation_is_allowed() {
    let d = tempfile::tempdir().unwrap();
    let (text, _, _) = big_text();
    // A token in the first KiB too, so that the allowed scan exits by its findings.
    write(
        d.path(),
        "dump.sql",
        format!("VOBIZ_AUTH_TOKEN={TOKEN2}\n{text}"),
    );
    let (code, doc) = run(d.path(), &["dir", ".", "--max-file-size", "1K"], None);
    assert_eq!(code, 2, "{doc}");
    let skipped = doc["summary"]["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{doc}");
    assert_eq!(skipped[0]["path"], "dump.sql");
    assert_eq!(skipped[0]["error"], true);
    let reason = skipped[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("only the first 1024 bytes") && reason.contains("--allow-truncation"),
        "{reason}"
    );

    let (code, doc) = run(
        d.path(),
        &["dir", ".", "--max-file-size", "1K", "--allow-truncation"],
        None,
    );
    assert_eq!(code, 1, "exits by its findings: {doc}");
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1);
    assert_eq!(doc["summary"]["skipped"][0]["error"], false);

    // The configuration may set both.
    write(
        d.path(),
        ".credsweep.toml",
        "max_file_size = \"1K\"\nallow_truncation = true\n",
    );
    let (code, doc) = run(d.path(), &["dir", "."], None);
    assert_eq!(code, 1, "{doc}");
    write(d.path(), ".credsweep.toml", "max_file_size = \"1K\"\n");
    let (code, _) = run(d.path(), &["dir", "."], None);
    assert_eq!(code, 2);
}

#[test]
fn standard_input_is_windowed_and_capped_the_same_way() {
    let d = tempfile::tempdir().unwrap();
    let (text, first, deep) = big_text();
    let (code, doc) = run(
        d.path(),
        &["stdin", "--no-redact", "--window-size", "2M"],
        Some(text.clone().into_bytes()),
    );
    assert_eq!(code, 1, "{doc}");
    assert_eq!(
        places(&doc),
        vec![
            (first, 148, TOKEN.to_string()),
            (deep, 18, TOKEN2.to_string())
        ]
    );

    let (code, doc) = run(
        d.path(),
        &["stdin", "--max-file-size", "1K"],
        Some(text.clone().into_bytes()),
    );
    assert_eq!(code, 2, "{doc}");
    let skipped = &doc["summary"]["skipped"][0];
    assert_eq!(skipped["path"], "<stdin>");
    assert!(
        skipped["reason"]
            .as_str()
            .unwrap()
            .contains(&format!("{} bytes", text.len())),
        "the whole size is counted: {skipped}"
    );
    let (code, _) = run(
        d.path(),
        &["stdin", "--max-file-size", "1K", "--allow-truncation"],
        Some(text.into_bytes()),
    );
    assert_eq!(code, 0);
}

#[test]
fn a_history_blob_past_the_old_default_cap_is_scanned_to_its_end() {
    // 64 MiB was the default cap; the token sits past it.
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    git(p, &["init", "-q"]);
    let mut text = filler(680_000);
    assert!(text.len() > 64 << 20);
    text.push_str(&format!("VOBIZ_AUTH_TOKEN={TOKEN}\n"));
    write(p, "dump.sql", &text);
    drop(text);
    git(p, &["add", "dump.sql"]);
    git(p, &["commit", "-q", "-m", "dump"]);
    git(p, &["rm", "-q", "dump.sql"]);
    git(p, &["commit", "-q", "-m", "gone"]);
    let (code, doc) = run(p, &["git", "--no-redact"], None);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(places(&doc), vec![(680_001, 18, TOKEN.to_string())]);

    // Capped, it fails unless allowed.
    let (code, doc) = run(p, &["git", "--max-file-size", "1M"], None);
    assert_eq!(code, 2, "{doc}");
    let (code, _) = run(
        p,
        &["git", "--max-file-size", "1M", "--allow-truncation"],
        None,
    );
    assert_eq!(code, 0);
}

#[test]
fn a_staged_blob_over_several_windows_is_scanned_to_its_end() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    git(p, &["init", "-q"]);
    let (text, first, deep) = big_text();
    write(p, "dump.sql", &text);
    git(p, &["add", "dump.sql"]);
    let (code, doc) = run(p, &["staged", "--no-redact", "--window-size", "2M"], None);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(
        places(&doc),
        vec![
            (first, 148, TOKEN.to_string()),
            (deep, 18, TOKEN2.to_string())
        ]
    );
    let (code, doc) = run(p, &["staged", "--max-file-size", "1K"], None);
    assert_eq!(code, 2, "{doc}");
    assert_eq!(doc["summary"]["skipped"][0]["path"], "dump.sql");
}

#[test]
fn a_history_blob_over_several_windows_is_found_at_its_lines() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    git(p, &["init", "-q"]);
    let (text, first, deep) = big_text();
    write(p, "dump.sql", &text);
    git(p, &["add", "dump.sql"]);
    git(p, &["commit", "-q", "-m", "dump"]);
    let (code, doc) = run(p, &["git", "--no-redact", "--window-size", "2M"], None);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(
        places(&doc),
        vec![
            (first, 148, TOKEN.to_string()),
            (deep, 18, TOKEN2.to_string())
        ]
    );
}

/// Commits a blob of over 256 MiB (the most a history scan decodes of one blob in memory) with a
/// token on its last line, packed (`core.bigFileThreshold` makes `git add` write it straight into
/// a pack, stored whole) or loose; the history scan finds the token at its line, nothing cut.
/// Packed, a rule scoped to `.sql` files is in force too: the blob sits at a path it names, so it
/// is scanned again once its path is known, and that must neither cut it at what is decoded in
/// memory nor lose the findings past that (it did: the rescan read it by id, cut).
fn scan_history_of_a_huge_blob(packed: bool) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    git(p, &["init", "-q"]);
    if packed {
        git(p, &["config", "core.bigFileThreshold", "1m"]);
    }
    let lines = 2_700_000;
    {
        use std::io::Write;
        let mut w = std::io::BufWriter::new(std::fs::File::create(p.join("dump.sql")).unwrap());
        let chunk = filler(10_000);
        for _ in 0..lines / 10_000 {
            w.write_all(chunk.as_bytes()).unwrap();
        }
        if packed {
            writeln!(w, "-- dump note zqxSCOPED{SCOPED}").unwrap();
        }
        writeln!(w, "VOBIZ_AUTH_TOKEN={TOKEN}").unwrap();
    }
    git(p, &["add", "dump.sql"]);
    git(p, &["commit", "-q", "-m", "dump"]);
    let rules = d.path().with_extension("rules.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nid = 'sql-scoped-test'\ndescription = 'a rule only .sql files run'\n\
         severity = 'warning'\nregex = '''(?P<secret>zqxSCOPED[0-9]{6})'''\n\
         keywords = ['zqxscoped']\npath = '''\\.sql$'''\n",
    )
    .unwrap();
    let packs = std::fs::read_dir(p.join(".git/objects/pack"))
        .unwrap()
        .count();
    assert_eq!(
        packs > 0,
        packed,
        "the blob is where the test means it to be"
    );
    let rules_arg = rules.to_str().unwrap();
    let args: &[&str] = if packed {
        &["git", "--no-redact", "--rules", rules_arg]
    } else {
        &["git", "--no-redact"]
    };
    let (code, doc) = run(p, args, None);
    let _ = std::fs::remove_file(&rules);
    assert_eq!(code, 1, "{doc}");
    let mut want = vec![(lines as u64 + 1 + packed as u64, 18, TOKEN.to_string())];
    if packed {
        want.insert(0, (lines as u64 + 1, 14, format!("zqxSCOPED{SCOPED}")));
    }
    assert_eq!(places(&doc), want);
    assert!(doc["summary"]["skipped"].as_array().unwrap().is_empty());
}

/// The digits of the path-scoped rule's match in [`scan_history_of_a_huge_blob`].
const SCOPED: &str = "314159";

#[test]
fn a_packed_blob_past_what_history_decodes_in_memory_is_streamed_to_its_end() {
    scan_history_of_a_huge_blob(true);
}

#[test]
fn a_loose_blob_past_what_history_decodes_in_memory_is_streamed_to_its_end() {
    scan_history_of_a_huge_blob(false);
}
