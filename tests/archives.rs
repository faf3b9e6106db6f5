//! Archives (issue 13, item 2): zip and its family, gzip, bzip2, xz, zstd and tar are opened in memory in every
//! scan (`dir`, `staged`, `git`), nested archives up to `--max-archive-depth`, under limits
//! against bombs; what is not read is named in the summary's skips. Every archive is built here
//! with the crates the engine reads them with; every credential is fake (FAKE in it).

mod common;

use std::io::{Cursor, Write};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{credsweep, findings, git, run_json, run_watched, write};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::Value;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

const TOKEN: &str = "sk_live_4eC39HqLyjWDarjtFAKEp7dcQ2";

fn env_line() -> String {
    format!("STRIPE_SECRET_KEY={TOKEN}\n")
}

/// A zip of `members` (name, bytes), deflated.
fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for (name, data) in members {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// A gzip stream of `data` with no name in its header.
fn gzip_of(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A tar of `members` (name, bytes).
fn tar_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// The reported paths of the findings, sorted.
fn paths(doc: &Value) -> Vec<String> {
    let mut p: Vec<String> = findings(doc)
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    p.sort();
    p
}

/// The skips named in the summary, as `path: reason` lines.
fn skips(doc: &Value) -> Vec<String> {
    doc["summary"]["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{}: {}",
                s["path"].as_str().unwrap(),
                s["reason"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn a_member_of_a_zip_is_found_and_named_with_its_archive() {
    let d = tempfile::tempdir().unwrap();
    let env = env_line();
    write(
        d.path(),
        "deploy/bundle.zip",
        zip_of(&[("app/.env", env.as_bytes())]),
    );
    let (code, doc) = run_json(d.path(), &["dir", "."]);
    assert_eq!(code, 1, "{doc:#}");
    let f = &findings(&doc)[0];
    assert_eq!(f["path"], "deploy/bundle.zip!app/.env");
    assert_eq!(f["member"], "app/.env");
    assert_eq!(f["line"], 1);
    assert_eq!(f["rule_id"], "stripe-secret-key");
}

#[test]
fn the_zip_family_is_told_by_magic_bytes_not_by_name() {
    let d = tempfile::tempdir().unwrap();
    let env = env_line();
    let props = format!("stripe.key={TOKEN}\n");
    write(
        d.path(),
        "lib/app.jar",
        zip_of(&[
            ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
            ("config/application.properties", props.as_bytes()),
        ]),
    );
    // An Office Open XML document: a zip of XML parts.
    let xml = format!("<w:document><w:t>{}</w:t></w:document>", env.trim_end());
    write(
        d.path(),
        "docs/handover.docx",
        zip_of(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("word/document.xml", xml.as_bytes()),
        ]),
    );
    // A zip under a name that says nothing.
    write(
        d.path(),
        "data/blob.bin",
        zip_of(&[("x.env", env.as_bytes())]),
    );
    let (code, doc) = run_json(d.path(), &["dir", "."]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(
        paths(&doc),
        [
            "data/blob.bin!x.env",
            "docs/handover.docx!word/document.xml",
            "lib/app.jar!config/application.properties",
        ]
    );
}

#[test]
fn a_gzipped_log_and_a_tar_gz_are_read() {
    let d = tempfile::tempdir().unwrap();
    let env = env_line();
    let log = format!("{}{env}", "GET /health 200\n".repeat(50));
    write(d.path(), "logs/app.log.gz", gzip_of(log.as_bytes()));
    let tar = tar_of(&[
        ("etc/README", b"nothing here\n"),
        ("etc/.env", env.as_bytes()),
    ]);
    write(d.path(), "dist/site.tar.gz", gzip_of(&tar));
    write(d.path(), "dist/plain.tar", &tar);
    let (code, doc) = run_json(d.path(), &["dir", "."]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(
        paths(&doc),
        [
            "dist/plain.tar!etc/.env",
            "dist/site.tar.gz!etc/.env",
            "logs/app.log.gz!app.log",
        ]
    );
    let log_finding = findings(&doc)
        .iter()
        .find(|f| f["member"] == "app.log")
        .unwrap();
    assert_eq!(log_finding["line"], 51);
}

#[test]
fn bzip2_streams_and_bzip2_zip_members_are_read() {
    let d = tempfile::tempdir().unwrap();
    let env = env_line();
    let bz = |data: &[u8]| {
        let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    };
    let dump = format!("INSERT INTO t VALUES (1);\n{env}");
    write(d.path(), "backup/dump.sql.bz2", bz(dump.as_bytes()));
    let tar = tar_of(&[("etc/.env", env.as_bytes())]);
    write(d.path(), "dist/site.tar.bz2", bz(&tar));
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    w.start_file(
        "app/.env",
        SimpleFileOptions::default().compression_method(CompressionMethod::Bzip2),
    )
    .unwrap();
    w.write_all(env.as_bytes()).unwrap();
    write(d.path(), "bundle.zip", w.finish().unwrap().into_inner());
    let (code, doc) = run_json(d.path(), &["dir", "."]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(
        paths(&doc),
        [
            "backup/dump.sql.bz2!dump.sql",
            "bundle.zip!app/.env",
            "dist/site.tar.bz2!etc/.env",
        ]
    );
}

/// `data` as an xz stream (lzma-rs, the crate the engine reads xz with).
fn xz_of(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    lzma_rs::xz_compress(&mut &data[..], &mut out).unwrap();
    out
}

/// `data` as a zstd frame (ruzstd, the crate the engine reads zstd with).
fn zstd_of(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

#[test]
fn xz_and_zstd_streams_and_tars_are_read() {
    let d = tempfile::tempdir().unwrap();
    let env = env_line();
    let dump = format!("{}{env}", "INSERT INTO t VALUES (1);\n".repeat(40));
    let tar = tar_of(&[
        ("etc/README", b"nothing here\n"),
        ("etc/.env", env.as_bytes()),
    ]);
    write(d.path(), "backup/dump.sql.xz", xz_of(dump.as_bytes()));
    write(d.path(), "dist/rootfs.txz", xz_of(&tar));
    write(d.path(), "logs/app.log.zst", zstd_of(dump.as_bytes()));
    write(d.path(), "dist/site.tar.zst", zstd_of(&tar));
    // Told by magic bytes, not by name.
    write(d.path(), "blob.bin", zstd_of(env.as_bytes()));
    let (code, doc) = run_json(d.path(), &["dir", "."]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(
        paths(&doc),
        [
            "backup/dump.sql.xz!dump.sql",
            "blob.bin!<unpacked>",
            "dist/rootfs.txz!etc/.env",
            "dist/site.tar.zst!etc/.env",
            "logs/app.log.zst!app.log",
        ]
    );
    let dump_finding = findings(&doc)
        .iter()
        .find(|f| f["member"] == "dump.sql")
        .unwrap();
    assert_eq!(dump_finding["line"], 41);
    // Not opened: no member is named (what the compressed bytes hold in clear may still be
    // found where binary files are scanned: lzma-rs's encoder writes most bytes as literals).
    let (_, off) = run_json(d.path(), &["dir", ".", "--no-archives"]);
    assert!(
        findings(&off)
            .iter()
            .all(|f| f.get("member").is_none() && !f["path"].as_str().unwrap().contains('!')),
        "{off:#}"
    );
}

#[test]
fn xz_and_zstd_bombs_stop_at_the_ratio_cap_and_cut_streams_are_named() {
    let d = tempfile::tempdir().unwrap();
    // 200 MB of one line after a token, made with the xz and zstd tools: about 30 KB and 18 KB.
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/archives");
    for name in ["bomb.log.xz", "bomb.log.zst"] {
        std::fs::copy(fixtures.join(name), d.path().join(name)).unwrap();
    }
    let mut log = env_line().into_bytes();
    log.extend(b"line of a log that goes on\n".repeat(2000));
    let xz = xz_of(&log);
    write(d.path(), "cut.log.xz", &xz[..xz.len() / 2]);
    let zst = zstd_of(&log);
    write(d.path(), "cut.log.zst", &zst[..zst.len() / 2]);
    write(d.path(), "empty.zst", [0x28, 0xb5, 0x2f, 0xfd]);
    let started = std::time::Instant::now();
    let (code, doc) = run_json(d.path(), &["dir", "."]);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(doc["summary"]["errors"], 0, "{doc:#}");
    let p = paths(&doc);
    for name in ["bomb.log.xz!bomb.log", "bomb.log.zst!bomb.log"] {
        assert!(p.iter().any(|p| p == name), "{name}: {p:?}");
    }
    let s = skips(&doc);
    for name in ["bomb.log.xz", "bomb.log.zst"] {
        assert!(
            s.iter()
                .any(|s| s.contains(name) && s.contains("compression bomb")),
            "{name}: {s:?}"
        );
    }
    for name in ["cut.log.xz", "cut.log.zst", "empty.zst"] {
        assert!(
            s.iter()
                .any(|s| s.contains(name) && s.contains("corrupt or truncated archive")),
            "{name}: {s:?}"
        );
    }
}

#[test]
fn nested_archives_are_opened_down_to_the_depth_limit() {
    let d = tempfile::tempdir().unwrap();
    let env = env_line();
    let inner = zip_of(&[("deep/.env", env.as_bytes())]);
    write(d.path(), "outer.zip", zip_of(&[("inner.zip", &inner)]));
    let (code, doc) = run_json(d.path(), &["dir", "."]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(paths(&doc), ["outer.zip!inner.zip!deep/.env"]);
    assert_eq!(findings(&doc)[0]["member"], "inner.zip!deep/.env");

    // Binary strings left out: a member stored uncompressed holds its text in clear.
    let (code, doc) = run_json(
        d.path(),
        &["dir", ".", "--max-archive-depth", "1", "--skip-binary"],
    );
    assert_eq!(code, 0, "{doc:#}");
    assert!(findings(&doc).is_empty());
    let s = skips(&doc);
    assert!(
        s.iter().any(|s| s.contains(
            "outer.zip!inner.zip: archive nested deeper than --max-archive-depth 1: not opened"
        )),
        "{s:?}"
    );
}

#[test]
fn no_archives_turns_it_off() {
    let d = tempfile::tempdir().unwrap();
    let env = env_line();
    write(
        d.path(),
        "bundle.zip",
        zip_of(&[("app/.env", env.as_bytes())]),
    );
    write(d.path(), "app.log.gz", gzip_of(env.as_bytes()));
    // Binary strings left out: a member stored uncompressed holds its text in clear.
    let (code, doc) = run_json(d.path(), &["dir", ".", "--no-archives", "--skip-binary"]);
    assert_eq!(code, 0, "{doc:#}");
    assert!(findings(&doc).is_empty());
    assert!(skips(&doc).is_empty());
}

#[test]
fn an_archive_over_a_limit_is_scanned_as_far_as_the_limit_and_named() {
    let d = tempfile::tempdir().unwrap();
    // A token, then 200 MB of one repeated line: a few hundred KB compressed, far past the
    // expansion-ratio cap.
    let mut log = env_line().into_bytes();
    log.extend(b"x\n".repeat(100 << 20));
    write(d.path(), "huge.log.gz", gzip_of(&log));
    let (code, doc) = run_json(d.path(), &["dir", "."]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(paths(&doc), ["huge.log.gz!huge.log"]);
    let s = skips(&doc);
    assert!(
        s.iter()
            .any(|s| s.contains("huge.log.gz") && s.contains("compression bomb")),
        "{s:?}"
    );
    assert_eq!(doc["summary"]["errors"], 0);
}

#[test]
fn corrupt_and_truncated_archives_get_a_clear_skip_line() {
    let d = tempfile::tempdir().unwrap();
    let env = env_line();
    let zip = zip_of(&[("app/.env", env.as_bytes())]);
    write(d.path(), "cut.zip", &zip[..zip.len() / 2]);
    let mut log = env.clone().into_bytes();
    log.extend(b"line of a log that goes on\n".repeat(2000));
    let gz = gzip_of(&log);
    write(d.path(), "cut.log.gz", &gz[..gz.len() / 2]);
    let (code, doc) = run_json(d.path(), &["dir", "."]);
    // The token before the cut in the gzip stream is found; nothing fails the scan.
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(paths(&doc), ["cut.log.gz!cut.log"]);
    assert_eq!(doc["summary"]["errors"], 0);
    let s = skips(&doc);
    for name in ["cut.zip", "cut.log.gz"] {
        assert!(
            s.iter()
                .any(|s| s.contains(name) && s.contains("corrupt or truncated archive")),
            "{name}: {s:?}"
        );
    }
}

/// Marks every member of `zip` encrypted (bit 0 of the general-purpose flags, in the local and
/// the central headers), as a zip written with a password says.
fn mark_encrypted(mut zip: Vec<u8>) -> Vec<u8> {
    let mut i = 0;
    while i + 4 <= zip.len() {
        match &zip[i..i + 4] {
            b"PK\x03\x04" => zip[i + 6] |= 1,
            b"PK\x01\x02" => zip[i + 8] |= 1,
            _ => {}
        }
        i += 1;
    }
    zip
}

#[test]
fn an_encrypted_member_is_named_as_skipped_not_an_error() {
    let d = tempfile::tempdir().unwrap();
    let env = env_line();
    write(
        d.path(),
        "secret.zip",
        mark_encrypted(zip_of(&[("hidden.env", env.as_bytes())])),
    );
    let (code, doc) = run_json(d.path(), &["dir", "."]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["summary"]["errors"], 0);
    let s = skips(&doc);
    assert!(
        s.iter()
            .any(|s| s.contains("secret.zip!hidden.env") && s.contains("encrypted")),
        "{s:?}"
    );
}

#[test]
fn member_names_are_only_names_never_paths_written_to() {
    let d = tempfile::tempdir().unwrap();
    let env = env_line();
    write(
        d.path(),
        "evil.zip",
        zip_of(&[
            ("../../escaped.env", env.as_bytes()),
            ("/tmp/absolute.env", env.as_bytes()),
        ]),
    );
    let before: Vec<_> = std::fs::read_dir(d.path()).unwrap().collect();
    let (code, doc) = run_json(d.path(), &["dir", "."]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(
        paths(&doc),
        ["evil.zip!../../escaped.env", "evil.zip!/tmp/absolute.env"]
    );
    let after: Vec<_> = std::fs::read_dir(d.path()).unwrap().collect();
    assert_eq!(before.len(), after.len());
    assert!(!d.path().parent().unwrap().join("escaped.env").exists());
}

#[test]
fn sarif_reports_on_the_archive_and_names_the_member() {
    let d = tempfile::tempdir().unwrap();
    let env = env_line();
    write(
        d.path(),
        "deploy/bundle.zip",
        zip_of(&[("app/.env", env.as_bytes())]),
    );
    let out = credsweep()
        .current_dir(d.path())
        .args(["dir", "deploy", "--format", "sarif", "--no-config"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &doc["runs"][0]["results"][0];
    assert_eq!(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "deploy/bundle.zip"
    );
    assert_eq!(r["properties"]["member"], "app/.env");
    assert!(
        r["message"]["text"]
            .as_str()
            .unwrap()
            .contains("deploy/bundle.zip!app/.env"),
        "{r:#}"
    );
}

#[test]
fn a_staged_archive_is_read_from_the_index() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    git(p, &["init", "-q"]);
    let env = env_line();
    write(
        p,
        "deploy/bundle.zip",
        zip_of(&[("app/.env", env.as_bytes())]),
    );
    git(p, &["add", "deploy/bundle.zip"]);
    let (code, doc) = run_json(p, &["staged"]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(paths(&doc), ["deploy/bundle.zip!app/.env"]);
    assert_eq!(findings(&doc)[0]["member"], "app/.env");
}

#[test]
fn an_archive_committed_then_deleted_is_found_at_its_commit() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    git(p, &["init", "-q"]);
    let env = env_line();
    write(
        p,
        "deploy/bundle.zip",
        zip_of(&[("app/.env", env.as_bytes())]),
    );
    let tar = tar_of(&[("etc/.env", format!("OTHER={TOKEN}X\n").as_bytes())]);
    write(p, "dist/site.tgz", gzip_of(&tar));
    git(p, &["add", "."]);
    git(p, &["commit", "-q", "-m", "add the bundle"]);
    let added = git(p, &["rev-parse", "HEAD"]).trim().to_string();
    git(p, &["rm", "-q", "deploy/bundle.zip", "dist/site.tgz"]);
    git(p, &["commit", "-q", "-m", "remove the bundle"]);
    let (code, doc) = run_json(p, &["git", "."]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(
        paths(&doc),
        ["deploy/bundle.zip!app/.env", "dist/site.tgz!etc/.env"]
    );
    for f in findings(&doc) {
        assert_eq!(f["commit"], added.as_str(), "{f:#}");
        assert_eq!(f["in_head"], false, "{f:#}");
    }
    let f = findings(&doc)
        .iter()
        .find(|f| f["member"] == "app/.env")
        .unwrap();
    assert_eq!(f["line"], 1);
}

/// A 42.zip-style bomb: four levels of zips, each member of the lowest a run of zeros and each
/// level sixteen copies of the one below: terabytes if expanded.
fn nested_bomb() -> Vec<u8> {
    let zeros = vec![0u8; 32 << 20];
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .large_file(false);
    w.start_file("0.bin", opts).unwrap();
    w.write_all(&zeros).unwrap();
    for i in 1..16 {
        w.shallow_copy_file("0.bin", &format!("{i}.bin")).unwrap();
    }
    let mut level = w.finish().unwrap().into_inner();
    for _ in 0..3 {
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        w.start_file("0.zip", opts).unwrap();
        w.write_all(&level).unwrap();
        for i in 1..16 {
            w.shallow_copy_file("0.zip", &format!("{i}.zip")).unwrap();
        }
        level = w.finish().unwrap().into_inner();
    }
    level
}

#[test]
fn a_nested_bomb_ends_in_seconds_in_bounded_memory_and_is_named() {
    let d = tempfile::tempdir().unwrap();
    let bomb = nested_bomb();
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    write(d.path(), "42.zip", &bomb);
    let w = run_watched(
        Command::new(env!("CARGO_BIN_EXE_credsweep"))
            .current_dir(d.path())
            .args(["dir", ".", "--no-config", "--format", "json"]),
        Duration::from_secs(60),
    );
    assert_eq!(w.code, 0, "{}", w.stderr);
    assert!(w.peak_kib < 1 << 20, "peak {} KiB", w.peak_kib);
    assert!(w.secs < 30.0, "{} s", w.secs);
    let doc: Value = serde_json::from_slice(&w.stdout).unwrap();
    let s = skips(&doc);
    eprintln!(
        "42.zip-style bomb of {} bytes: {:.2} s, peak {} KiB, {} skips, first {:?}",
        bomb.len(),
        w.secs,
        w.peak_kib,
        s.len(),
        s.first()
    );
    assert!(
        s.iter()
            .any(|s| s.contains("42.zip") && s.contains("expands")),
        "{s:?}"
    );
}

#[test]
fn a_baseline_entry_records_the_archive_path_from_the_top_and_the_member() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    git(p, &["init", "-q"]);
    let env = env_line();
    write(
        p,
        "deploy/bundle.zip",
        zip_of(&[("app/.env", env.as_bytes())]),
    );
    let out = credsweep()
        .current_dir(p.join("deploy"))
        .args(["baseline", "add", ".", "--no-config"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = std::fs::read_to_string(p.join(".credsweep-baseline.toml")).unwrap();
    assert!(
        text.contains("path = \"deploy/bundle.zip!app/.env\""),
        "{text}"
    );
    let (code, doc) = run_json(p, &["dir", "."]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["summary"]["suppressed"], 1);
}
