//! Binary files (issue 13, item 3): a file with a NUL byte near its start is scanned for its
//! printable strings (UTF-8 and UTF-16LE runs of 8 characters or more) in every scan (`dir`,
//! `staged`, `git`), and a finding is placed at its byte offset; media told by magic bytes are
//! skipped, and `--skip-binary` skips every binary. Every binary is built here byte by byte;
//! every credential is fake (FAKE in it).

mod common;

use base64::Engine;
use common::{credsweep, findings, git, run_json, write};
use serde_json::Value;

const TOKEN: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE";
const TOKEN2: &str = "sk_live_9xQ27LmNbVcZeRtYu8PoiWsFAKE2";

/// A file shaped like a small SQLite database: the 100-byte header, a b-tree page header, NUL
/// padding, and one cell whose record holds `VOBIZ_AUTH_TOKEN=<TOKEN>` as a text column between
/// binary record-header bytes. Returns the bytes and the token's offset.
fn sqlite_like() -> (Vec<u8>, usize) {
    let mut d = b"SQLite format 3\0".to_vec();
    d.extend([0x10, 0x00, 0x01, 0x01, 0x00, 0x40, 0x20, 0x20]);
    d.resize(100, 0);
    // Leaf table b-tree page: type 13, no freeblock, one cell, content at 0x0f00.
    d.extend([0x0D, 0x00, 0x00, 0x00, 0x01, 0x0F, 0x00, 0x00]);
    d.resize(1024, 0);
    // The cell: payload length, rowid, record header (size, a NULL, a text of 53 bytes).
    d.extend([0x3A, 0x01, 0x03, 0x00, 0x77]);
    d.extend(b"VOBIZ_AUTH_TOKEN=");
    let at = d.len();
    d.extend(TOKEN.as_bytes());
    d.extend([0x00, 0x00, 0x02, 0x7F]);
    d.resize(4096, 0);
    (d, at)
}

/// A PE-like executable with `X-Auth-Token: <token>` as a UTF-16LE string (as .NET keeps its
/// user strings). Returns the bytes and the token's offset.
fn utf16_exe(token: &str) -> (Vec<u8>, usize) {
    let mut d = b"MZ\x90\0\x03\0\0\0".to_vec();
    d.resize(256, 0);
    d.extend([0x01, 0x02, 0x29]);
    let prefix = "X-Auth-Token: ";
    let at = d.len() + 2 * prefix.len();
    for u in format!("{prefix}{token}").encode_utf16() {
        d.extend(u.to_le_bytes());
    }
    d.extend([0, 0, 0x13, 0x37]);
    d.resize(1024, 0);
    (d, at)
}

/// A PNG with a chunk holding `text` (shaped as an IDAT chunk would be, uncompressed).
fn png_with(text: &[u8]) -> Vec<u8> {
    let mut d = b"\x89PNG\r\n\x1a\n".to_vec();
    d.extend(13u32.to_be_bytes());
    d.extend(b"IHDR\0\0\0\x10\0\0\0\x10\x08\x06\0\0\0");
    d.extend([0x1F, 0xF3, 0xFF, 0x61]);
    d.extend((text.len() as u32).to_be_bytes());
    d.extend(b"IDAT");
    d.extend(text);
    d.extend([0xDE, 0xAD, 0xBE, 0xEF]);
    d.extend(b"\0\0\0\0IEND\xAE\x42\x60\x82");
    d
}

/// The one finding of `doc` at `path`.
fn found_at<'a>(doc: &'a Value, path: &str) -> &'a Value {
    let at: Vec<&Value> = findings(doc).iter().filter(|f| f["path"] == path).collect();
    assert_eq!(at.len(), 1, "{doc:#}");
    at[0]
}

/// Checks that `f` is the token at byte `offset` of a binary, `span` bytes long there.
fn assert_placed(f: &Value, offset: usize, span: usize) {
    assert_eq!(f["rule_id"], "vobiz-auth-token", "{f:#}");
    assert_eq!(f["offset"], offset, "{f:#}");
    assert_eq!(f["end_offset"], offset + span, "{f:#}");
    assert_eq!(f["line"], 1, "{f:#}");
    assert_eq!(f["end_line"], 1, "{f:#}");
    assert_eq!(f["column"], offset + 1, "{f:#}");
    assert_eq!(f["end_column"], offset + span + 1, "{f:#}");
}

#[test]
fn a_token_in_a_database_is_found_at_its_byte_offset_with_the_fingerprint_of_text() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let (db, at) = sqlite_like();
    write(p, "data/app.db", &db);
    write(p, "config/.env", format!("VOBIZ_AUTH_TOKEN={TOKEN}\n"));
    let (code, doc) = run_json(p, &["dir", "."]);
    assert_eq!(code, 1, "{doc:#}");
    let f = found_at(&doc, "data/app.db");
    assert_placed(f, at, TOKEN.len());
    // The same secret written in a text file: the same fingerprint, so one baseline entry.
    let text = found_at(&doc, "config/.env");
    assert!(text.get("offset").is_none(), "{text:#}");
    assert_eq!(f["fingerprint"], text["fingerprint"]);
    assert_eq!(doc["summary"]["binary_scanned"], 1, "{doc:#}");
    assert_eq!(doc["summary"]["binary_skipped"], 0, "{doc:#}");
    assert_eq!(doc["summary"]["scanned"], 2, "{doc:#}");

    // The text report places it by offset, and counts the binary.
    let out = credsweep()
        .current_dir(p)
        .args(["dir", "data", "--no-config", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("offset {at} ")), "{text}");
    assert!(text.contains("scanned 1 binary file as strings"), "{text}");
    assert!(!text.contains(TOKEN), "{text}");
}

#[test]
fn a_baseline_entry_for_the_text_secret_covers_the_binary_one() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    write(p, "config/.env", format!("VOBIZ_AUTH_TOKEN={TOKEN}\n"));
    let out = credsweep()
        .current_dir(p)
        .args(["baseline", "add", "--no-config", "."])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    write(p, "data/app.db", sqlite_like().0);
    let (code, doc) = run_json(p, &["dir", "."]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["summary"]["binary_scanned"], 1, "{doc:#}");
    assert_eq!(doc["summary"]["suppressed"], 2, "{doc:#}");
}

#[test]
fn a_utf16le_string_is_found_at_the_offset_of_its_bytes() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let (exe, at) = utf16_exe(TOKEN);
    write(p, "bin/tool.exe", exe);
    let (code, doc) = run_json(p, &["dir", "."]);
    assert_eq!(code, 1, "{doc:#}");
    // Two bytes a character.
    assert_placed(found_at(&doc, "bin/tool.exe"), at, 2 * TOKEN.len());
}

#[test]
fn an_encoded_value_in_a_binary_is_decoded_and_placed_at_its_offset() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let value = base64::engine::general_purpose::STANDARD.encode(format!("X-Auth-Token: {TOKEN}"));
    let mut data = b"\x7fELF\x02\x01\x01\0".to_vec();
    data.resize(512, 0);
    data.extend(b"config=");
    let at = data.len();
    data.extend(value.as_bytes());
    data.resize(2048, 0);
    write(p, "lib/libapp.so", &data);
    let (code, doc) = run_json(p, &["dir", "."]);
    assert_eq!(code, 1, "{doc:#}");
    let f = found_at(&doc, "lib/libapp.so");
    assert_eq!(f["decoded"], serde_json::json!(["base64"]), "{f:#}");
    assert_placed(f, at, value.len());
}

#[test]
fn a_binary_in_the_index_is_scanned_by_staged() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    git(p, &["init", "-q"]);
    let (db, at) = sqlite_like();
    write(p, "data/app.db", db);
    git(p, &["add", "data/app.db"]);
    let (code, doc) = run_json(p, &["staged"]);
    assert_eq!(code, 1, "{doc:#}");
    assert_placed(found_at(&doc, "data/app.db"), at, TOKEN.len());
}

#[test]
fn a_binary_committed_then_deleted_is_found_at_its_commit() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    git(p, &["init", "-q"]);
    let (db, at) = sqlite_like();
    // Another token: history reports each secret once, at its first place.
    let (exe, wide_at) = utf16_exe(TOKEN2);
    write(p, "data/app.db", db);
    write(p, "bin/tool.exe", exe);
    git(p, &["add", "."]);
    git(p, &["commit", "-q", "-m", "add the database"]);
    let added = git(p, &["rev-parse", "HEAD"]).trim().to_string();
    git(p, &["rm", "-q", "data/app.db", "bin/tool.exe"]);
    git(p, &["commit", "-q", "-m", "remove the database"]);
    let (code, doc) = run_json(p, &["git", "."]);
    assert_eq!(code, 1, "{doc:#}");
    let f = found_at(&doc, "data/app.db");
    assert_placed(f, at, TOKEN.len());
    assert_eq!(f["commit"], added.as_str(), "{f:#}");
    assert_eq!(f["in_head"], false, "{f:#}");
    let wide = found_at(&doc, "bin/tool.exe");
    assert_placed(wide, wide_at, 2 * TOKEN2.len());
    assert_eq!(wide["commit"], added.as_str(), "{wide:#}");
}

#[test]
fn media_are_skipped_by_their_magic_bytes() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let chunk = format!("\0\0VOBIZ_AUTH_TOKEN={TOKEN}\0\0");
    write(p, "img/logo.png", png_with(chunk.as_bytes()));
    let (code, doc) = run_json(p, &["dir", "."]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["summary"]["binary_skipped"], 1, "{doc:#}");
    assert_eq!(doc["summary"]["binary_scanned"], 0, "{doc:#}");

    // The same bytes without the PNG signature are not media: their strings are scanned.
    let mut other = png_with(chunk.as_bytes());
    other[1..4].copy_from_slice(b"XYZ");
    write(p, "img/logo.png", other);
    let (code, doc) = run_json(p, &["dir", "."]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(doc["summary"]["binary_scanned"], 1, "{doc:#}");
}

#[test]
fn skip_binary_skips_every_binary_as_before() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    write(p, "data/app.db", sqlite_like().0);
    write(p, "bin/tool.exe", utf16_exe(TOKEN2).0);
    write(p, "img/logo.png", png_with(TOKEN.as_bytes()));
    let (code, doc) = run_json(p, &["dir", ".", "--skip-binary"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["summary"]["binary_skipped"], 3, "{doc:#}");
    assert_eq!(doc["summary"]["binary_scanned"], 0, "{doc:#}");
    assert_eq!(doc["summary"]["scanned"], 0, "{doc:#}");

    git(p, &["init", "-q"]);
    git(p, &["add", "."]);
    let (code, doc) = run_json(p, &["staged", "--skip-binary"]);
    assert_eq!(code, 0, "{doc:#}");
    git(p, &["commit", "-q", "-m", "binaries"]);
    let (code, doc2) = run_json(p, &["git", ".", "--skip-binary"]);
    assert_eq!(code, 0, "{doc:#} {doc2:#}");
    let (code, _) = run_json(p, &["git", "."]);
    assert_eq!(code, 1);
}

#[test]
fn five_megabytes_of_random_bytes_give_no_finding() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    // xorshift64: deterministic noise, and a NUL first so the file is binary.
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut data = vec![0u8];
    data.extend((0..5 << 20).map(|_| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 24) as u8
    }));
    write(p, "core.dump", &data);
    let started = std::time::Instant::now();
    let (code, doc) = run_json(p, &["dir", "."]);
    assert_eq!(code, 0, "{doc:#}");
    assert!(findings(&doc).is_empty(), "{doc:#}");
    assert_eq!(doc["summary"]["binary_scanned"], 1, "{doc:#}");
    assert_eq!(doc["summary"]["bytes"], data.len(), "{doc:#}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}
