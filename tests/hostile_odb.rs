//! Hostile object databases (issue 17.2, 17.3 loose objects, 17.10, 17.11; issue 18.13): pack
//! entries and loose objects whose claimed sizes are lies or bombs, missing objects named by many
//! trees, partial clones. Packs are written by hand here (header, sizes, zlib, index), since
//! `git index-pack` refuses what these tests need. Each run is bounded in time (killed after
//! 60 s) and its peak memory measured.
//!
//! Every credential here is fake (note the `FAKE` tails).

mod common;

use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::fixtures::env_file;
use common::{git, git_with_input, write};
use gix::ObjectId;
use gix::objs::Kind;
use serde_json::Value;
use tempfile::TempDir;

const TOKEN: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE";
const TOKEN_B: &str = "sk_live_9Qm2Zr7TkW4pXv8Ln3Bc6Hd1FAKE";

const GIB: u64 = 1 << 30;

// ---------------------------------------------------------------------------------------------
// Running credsweep: bounded time, measured memory
// ---------------------------------------------------------------------------------------------

struct Run {
    code: i32,
    doc: Value,
    stderr: String,
    rss_mib: u64,
    secs: f64,
}

impl Run {
    fn skipped(&self) -> String {
        self.doc["summary"]["skipped"].to_string()
    }

    fn secrets(&self) -> Vec<String> {
        self.doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["secret"].as_str().unwrap().to_string())
            .collect()
    }
}

/// Runs `credsweep git REPO ARGS --format json --no-redact --quiet`, kills it after 60 s, and
/// returns its exit status, report and peak RSS (from `wait4`).
fn scan(repo: &Path, args: &[&str]) -> Run {
    let cwd = TempDir::new().unwrap();
    let mut all: Vec<&OsStr> = vec![OsStr::new("git"), repo.as_os_str()];
    all.extend(args.iter().map(OsStr::new));
    all.extend(["--format", "json", "--no-redact", "--quiet"].map(OsStr::new));
    let w = common::run_watched(
        Command::new(assert_cmd::cargo::cargo_bin("credsweep"))
            .current_dir(cwd.path())
            .args(&all)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1"),
        Duration::from_secs(60),
    );
    // A refused scan has no report: `doc` is null then.
    let doc: Value = serde_json::from_slice(&w.stdout).unwrap_or(Value::Null);
    Run {
        code: w.code,
        doc,
        stderr: w.stderr,
        rss_mib: w.peak_kib / 1024,
        secs: w.secs,
    }
}

// ---------------------------------------------------------------------------------------------
// Writing packs by hand
// ---------------------------------------------------------------------------------------------

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut w = gix::zlib::stream::deflate::Write::new(Vec::new(), gix::zlib::Compression::DEFAULT);
    w.write_all(data).unwrap();
    w.flush().unwrap();
    w.into_inner()
}

/// `len` bytes of `unit` repeated, after `head`, compressed without holding them all.
fn zlib_repeated(head: &[u8], unit: &[u8], len: u64) -> Vec<u8> {
    let mut w = gix::zlib::stream::deflate::Write::new(Vec::new(), gix::zlib::Compression::DEFAULT);
    w.write_all(head).unwrap();
    let chunk: Vec<u8> = unit.iter().copied().cycle().take(1 << 20).collect();
    let mut left = len - head.len() as u64;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        w.write_all(&chunk[..n]).unwrap();
        left -= n as u64;
    }
    w.flush().unwrap();
    w.into_inner()
}

/// A pack entry's header: type and (claimed) size.
fn entry_header(type_code: u8, size: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let mut b = (type_code << 4) | (size & 15) as u8;
    let mut rest = size >> 4;
    while rest > 0 {
        out.push(b | 0x80);
        b = (rest & 0x7f) as u8;
        rest >>= 7;
    }
    out.push(b);
    out
}

/// An ofs-delta's distance to its base, as git encodes it.
fn ofs_distance(mut d: u64) -> Vec<u8> {
    let mut bytes = vec![(d & 0x7f) as u8];
    d >>= 7;
    while d > 0 {
        d -= 1;
        bytes.push(0x80 | (d & 0x7f) as u8);
        d >>= 7;
    }
    bytes.reverse();
    bytes
}

/// A size in a delta's header.
fn delta_size(mut n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

fn sha1(parts: &[&[u8]]) -> ObjectId {
    let mut h = gix::hash::hasher(gix::hash::Kind::Sha1);
    for p in parts {
        h.update(p);
    }
    h.try_finalize().unwrap()
}

fn blob_id(data: &[u8]) -> ObjectId {
    gix::objs::compute_hash(gix::hash::Kind::Sha1, Kind::Blob, data).unwrap()
}

/// A pack being written: its bytes and (id, offset) of each entry.
#[derive(Default)]
struct Pack {
    body: Vec<u8>,
    entries: Vec<(ObjectId, u64)>,
}

impl Pack {
    fn offset(&self) -> u64 {
        12 + self.body.len() as u64
    }

    /// A whole blob whose header claims `claimed` bytes, stored as `compressed`.
    fn blob(&mut self, id: ObjectId, claimed: u64, compressed: &[u8]) -> u64 {
        let at = self.offset();
        self.body.extend(entry_header(3, claimed));
        self.body.extend_from_slice(compressed);
        self.entries.push((id, at));
        at
    }

    /// An ofs-delta over the entry at `base`, `delta` being its (uncompressed) instructions.
    fn ofs_delta(&mut self, id: ObjectId, base: u64, delta: &[u8]) -> u64 {
        let at = self.offset();
        self.body.extend(entry_header(6, delta.len() as u64));
        self.body.extend(ofs_distance(at - base));
        self.body.extend(zlib(delta));
        self.entries.push((id, at));
        at
    }

    /// Writes `pack-<sum>.pack` and its version-2 index into `objects/pack` of `git_dir`.
    fn write(mut self, git_dir: &Path) -> PathBuf {
        let mut pack = b"PACK".to_vec();
        pack.extend(2u32.to_be_bytes());
        pack.extend((self.entries.len() as u32).to_be_bytes());
        pack.extend(&self.body);
        let sum = sha1(&[&pack]);
        pack.extend(sum.as_bytes());
        self.entries.sort();
        let mut idx = vec![0xff, b't', b'O', b'c'];
        idx.extend(2u32.to_be_bytes());
        for b in 0..=255u8 {
            let n = self
                .entries
                .iter()
                .filter(|e| e.0.as_bytes()[0] <= b)
                .count();
            idx.extend((n as u32).to_be_bytes());
        }
        for (id, _) in &self.entries {
            idx.extend(id.as_bytes());
        }
        for _ in &self.entries {
            idx.extend(0u32.to_be_bytes());
        }
        for (_, off) in &self.entries {
            idx.extend((*off as u32).to_be_bytes());
        }
        idx.extend(sum.as_bytes());
        let isum = sha1(&[&idx]);
        idx.extend(isum.as_bytes());
        let dir = git_dir.join("objects/pack");
        fs::create_dir_all(&dir).unwrap();
        let base = dir.join(format!("pack-{sum}"));
        fs::write(base.with_extension("pack"), pack).unwrap();
        fs::write(base.with_extension("idx"), idx).unwrap();
        base.with_extension("pack")
    }
}

/// A repository whose one commit holds `app.env` (TOKEN, loose) and `data.txt`, whose blob is
/// then taken out of the loose objects: the test puts it back, as it likes. Returns the
/// repository and the id of `data.txt`'s blob.
fn repo_with_hole(data: &[u8]) -> (TempDir, ObjectId) {
    let r = TempDir::new().unwrap();
    git(r.path(), &["init", "-q", "."]);
    write(r.path(), "app.env", env_file(TOKEN));
    write(r.path(), "data.txt", data);
    git(r.path(), &["add", "-A"]);
    git(r.path(), &["commit", "-q", "-m", "add files"]);
    let id = blob_id(data);
    fs::remove_file(loose_path(r.path(), &id)).unwrap();
    (r, id)
}

fn loose_path(repo: &Path, id: &ObjectId) -> PathBuf {
    let hex = id.to_string();
    repo.join(".git/objects").join(&hex[..2]).join(&hex[2..])
}

// ---------------------------------------------------------------------------------------------
// 17.2: sizes claimed beyond what can be true
// ---------------------------------------------------------------------------------------------

#[test]
fn a_blob_header_claiming_2_gib_is_damaged_and_not_allocated() {
    let (r, id) = repo_with_hole(b"hello\n");
    let mut pack = Pack::default();
    pack.blob(id, 2 * GIB, &zlib(b"hello\n"));
    let path = pack.write(&r.path().join(".git"));
    assert!(fs::metadata(&path).unwrap().len() < 80, "a tiny pack");

    let run = scan(r.path(), &["--threads", "2"]);
    eprintln!("2 GiB claim: {} MiB, {:.1} s", run.rss_mib, run.secs);
    assert_eq!(run.code, 2, "{:#}", run.doc);
    assert_eq!(run.secrets(), [TOKEN], "the rest is scanned");
    let skipped = run.skipped();
    assert!(
        skipped.contains(&id.to_string()) && skipped.contains("damaged"),
        "{skipped}"
    );
    assert!(skipped.contains("2147483648"), "{skipped}");
    assert!(skipped.contains("more than zlib can expand"), "{skipped}");
    assert!(run.rss_mib < 150, "peak RSS {} MiB", run.rss_mib);
}

#[test]
fn reachable_only_does_not_decode_unreachable_objects() {
    let (r, id) = repo_with_hole(b"hello\n");
    let mut pack = Pack::default();
    // The blob data.txt names, whole; and four unreachable blobs claiming 2 GiB each.
    pack.blob(id, 6, &zlib(b"hello\n"));
    for i in 0..4u8 {
        pack.blob(sha1(&[b"unreachable", &[i]]), 2 * GIB, &zlib(b"x"));
    }
    pack.write(&r.path().join(".git"));

    let run = scan(r.path(), &["--reachable-only", "--threads", "2"]);
    eprintln!("--reachable-only: {} MiB", run.rss_mib);
    assert_eq!(run.code, 1, "{:#} {}", run.doc, run.stderr);
    assert_eq!(run.secrets(), [TOKEN]);
    assert!(run.rss_mib < 150, "peak RSS {} MiB", run.rss_mib);

    // Without it, they are named as damaged (and still not allocated).
    let run = scan(r.path(), &["--threads", "2"]);
    assert_eq!(run.code, 2, "{:#}", run.doc);
    assert_eq!(
        run.skipped().matches("damaged").count(),
        4,
        "{}",
        run.skipped()
    );
    assert!(run.rss_mib < 150, "peak RSS {} MiB", run.rss_mib);
}

/// A 64 KiB base holding the token, for deltas.
fn delta_base() -> Vec<u8> {
    let mut base = env_file(TOKEN_B).into_bytes();
    while base.len() < 1 << 16 {
        base.extend_from_slice(b"# a line of plain text to copy from\n");
    }
    base.truncate(1 << 16);
    base
}

#[test]
fn an_ofs_delta_promising_2_gib_it_does_not_produce_is_damaged() {
    let (r, id) = repo_with_hole(b"hello\n");
    let base = delta_base();
    let mut pack = Pack::default();
    let at = pack.blob(blob_id(&base), base.len() as u64, &zlib(&base));
    // Claims a 2 GiB result; its instructions insert six bytes.
    let mut delta = delta_size(base.len() as u64);
    delta.extend(delta_size(2 * GIB));
    delta.push(6);
    delta.extend_from_slice(b"hello\n");
    pack.ofs_delta(id, at, &delta);
    pack.write(&r.path().join(".git"));

    let run = scan(r.path(), &["--threads", "2"]);
    eprintln!("lying delta: {} MiB, {:.1} s", run.rss_mib, run.secs);
    assert_eq!(run.code, 2, "{:#}", run.doc);
    let skipped = run.skipped();
    assert!(
        skipped.contains(&id.to_string()) && skipped.contains("2147483648"),
        "{skipped}"
    );
    assert!(run.secrets().contains(&TOKEN.to_string()));
    assert!(
        run.secrets().contains(&TOKEN_B.to_string()),
        "the base is scanned"
    );
    assert!(run.rss_mib < 150, "peak RSS {} MiB", run.rss_mib);
}

#[test]
fn an_ofs_delta_that_truly_makes_2_gib_is_decoded_to_the_cap_only() {
    let (r, id) = repo_with_hole(b"hello\n");
    let base = delta_base();
    let mut pack = Pack::default();
    let at = pack.blob(blob_id(&base), base.len() as u64, &zlib(&base));
    // 32,768 instructions "copy the whole 64 KiB base": 2 GiB from a pack of a few hundred bytes.
    let mut delta = delta_size(base.len() as u64);
    delta.extend(delta_size(2 * GIB));
    delta.extend(std::iter::repeat_n(0x80u8, ((2 * GIB) >> 16) as usize));
    pack.ofs_delta(id, at, &delta);
    let path = pack.write(&r.path().join(".git"));
    eprintln!("pack of {} bytes", fs::metadata(&path).unwrap().len());

    let run = scan(
        r.path(),
        &[
            "--threads",
            "2",
            "--max-file-size",
            "1M",
            "--allow-truncation",
        ],
    );
    eprintln!(
        "2 GiB delta, 1M cap: {} MiB, {:.1} s",
        run.rss_mib, run.secs
    );
    // Over the cap, as `dir` reports a file over it: scanned up to it, named, not an error
    // (with --allow-truncation; without, the cut fails the scan).
    assert_eq!(run.code, 1, "{:#}", run.doc);
    let skipped = run.skipped();
    assert!(
        skipped.contains("2147483648 bytes, over the size cap"),
        "{skipped}"
    );
    assert!(
        run.secrets().contains(&TOKEN_B.to_string()),
        "{:#}",
        run.doc
    );
    assert!(run.rss_mib < 150, "peak RSS {} MiB", run.rss_mib);
}

#[test]
fn a_real_1_gib_zlib_bomb_with_a_1m_cap_stays_small() {
    let (r, id) = repo_with_hole(b"hello\n");
    let head = env_file(TOKEN_B);
    let mut pack = Pack::default();
    pack.blob(
        id,
        GIB,
        &zlib_repeated(head.as_bytes(), b"all work and no play\n", GIB),
    );
    let path = pack.write(&r.path().join(".git"));
    eprintln!("bomb pack: {} bytes", fs::metadata(&path).unwrap().len());

    let run = scan(
        r.path(),
        &[
            "--threads",
            "2",
            "--max-file-size",
            "1M",
            "--allow-truncation",
        ],
    );
    eprintln!("1 GiB bomb, 1M cap: {} MiB, {:.1} s", run.rss_mib, run.secs);
    assert_eq!(run.code, 1, "{:#}", run.doc);
    assert!(run.secrets().contains(&TOKEN_B.to_string()));
    assert!(
        run.skipped()
            .contains("1073741824 bytes, over the size cap")
    );
    assert!(run.rss_mib < 100, "peak RSS {} MiB", run.rss_mib);
}

// ---------------------------------------------------------------------------------------------
// 17.10: decoded sizes that do not match the header
// ---------------------------------------------------------------------------------------------

#[test]
fn a_blob_whose_header_size_is_wrong_is_damaged() {
    let data = format!(
        "{}{}",
        env_file(TOKEN_B),
        "# more text after the token\n".repeat(4)
    );
    for (what, claimed) in [
        ("10 bytes more", data.len() as u64 + 10),
        ("50 bytes fewer", data.len() as u64 - 50),
    ] {
        let (r, id) = repo_with_hole(data.as_bytes());
        let mut pack = Pack::default();
        pack.blob(id, claimed, &zlib(data.as_bytes()));
        pack.write(&r.path().join(".git"));
        let run = scan(r.path(), &[]);
        assert_eq!(run.code, 2, "{what}: {:#}", run.doc);
        let skipped = run.skipped();
        assert!(
            skipped.contains(&id.to_string()) && skipped.contains("damaged"),
            "{what}: {skipped}"
        );
        assert!(
            skipped.contains(&format!("header says {claimed} bytes")),
            "{what}: {skipped}"
        );
    }
}

#[test]
fn lies_found_while_the_delta_tree_decodes_are_named_and_the_rest_is_scanned() {
    // Every entry here is within the size caps, so its claims are proven by the one inflate
    // that decodes it, not by a pass of their own.
    let (r, id) = repo_with_hole(b"hello\n");
    let base = delta_base();
    let mut pack = Pack::default();
    pack.blob(id, 6, &zlib(b"hello\n"));
    let at = pack.blob(blob_id(&base), base.len() as u64, &zlib(&base));
    let with_sizes = |base_size: u64, result: u64, ops: &[u8]| {
        let mut d = delta_size(base_size);
        d.extend(delta_size(result));
        d.extend_from_slice(ops);
        d
    };
    let insert = |bytes: &[u8]| [&[bytes.len() as u8][..], bytes].concat();
    // Copies 128 KiB from a 64 KiB base.
    let outside = sha1(&[b"outside"]);
    pack.ofs_delta(outside, at, &with_sizes(1 << 16, 1 << 17, &[0xc0, 0x02]));
    // Claims ten bytes, inserts six.
    let short = sha1(&[b"short"]);
    pack.ofs_delta(short, at, &with_sizes(1 << 16, 10, &insert(b"hello\n")));
    // Claims a base one byte larger than its base.
    let wrong_base = sha1(&[b"wrong base"]);
    pack.ofs_delta(
        wrong_base,
        at,
        &with_sizes((1 << 16) + 1, 6, &insert(b"hello\n")),
    );
    // A true delta of the same base, holding a token: decoded and scanned.
    let token = format!("{}# a copy\n", env_file(TOKEN));
    let good = token.as_bytes();
    pack.ofs_delta(
        blob_id(good),
        at,
        &with_sizes(1 << 16, good.len() as u64, &insert(good)),
    );
    // A blob ten bytes shorter than its header says, and a delta built on it.
    let plain = "# plain text, nothing secret here\n".repeat(4);
    let claimed = plain.len() as u64 + 10;
    let lying = blob_id(plain.as_bytes());
    let lying_at = pack.blob(lying, claimed, &zlib(plain.as_bytes()));
    let on_lying = sha1(&[b"on lying"]);
    pack.ofs_delta(
        on_lying,
        lying_at,
        &with_sizes(claimed, 6, &insert(b"hello\n")),
    );
    pack.write(&r.path().join(".git"));

    let run = scan(r.path(), &["--threads", "2"]);
    assert_eq!(run.code, 2, "{:#}", run.doc);
    let skipped = run.skipped();
    for (what, id, why) in [
        (
            "a copy outside",
            outside,
            "copies bytes 0..131072 of a 65536-byte base".to_string(),
        ),
        (
            "a short result",
            short,
            "claims a 10-byte result, its instructions produce 6".into(),
        ),
        (
            "a wrong base size",
            wrong_base,
            "claims a 65537-byte base".into(),
        ),
        (
            "a lying blob",
            lying,
            format!("header says {claimed} bytes"),
        ),
        (
            "a delta of it",
            on_lying,
            format!("its delta base {lying} is damaged"),
        ),
    ] {
        assert!(
            skipped.contains(&format!("object {id} in ")) && skipped.contains(&why),
            "{what}: {skipped}"
        );
    }
    let mut secrets = run.secrets();
    secrets.sort();
    assert_eq!(
        secrets,
        [TOKEN, TOKEN_B],
        "app.env and the base: {:#}",
        run.doc
    );
    let good_id = blob_id(good).to_string();
    assert!(
        run.doc["findings"].to_string().contains(&good_id),
        "the true delta is scanned (another place of app.env's token): {:#}",
        run.doc
    );
}

// ---------------------------------------------------------------------------------------------
// Loose objects (17.3): FIFOs, /dev/zero, bombs
// ---------------------------------------------------------------------------------------------

#[test]
fn a_loose_object_that_is_a_fifo_or_dev_zero_is_named_without_hanging() {
    for kind in ["fifo", "dev-zero"] {
        let (r, id) = repo_with_hole(b"hello\n");
        let p = loose_path(r.path(), &id);
        match kind {
            "fifo" => {
                let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
                // SAFETY: mkfifo(3) with a valid NUL-terminated path.
                assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
            }
            _ => std::os::unix::fs::symlink("/dev/zero", &p).unwrap(),
        }
        let run = scan(r.path(), &[]);
        eprintln!("loose {kind}: {} MiB, {:.1} s", run.rss_mib, run.secs);
        assert_eq!(run.code, 2, "{kind}: {:#} {}", run.doc, run.stderr);
        if kind == "fifo" {
            // gix would block opening it on any later read: the scan is refused, naming it.
            assert!(
                run.stderr.contains(&id.to_string()) && run.stderr.contains("FIFO"),
                "{}",
                run.stderr
            );
        } else {
            let skipped = run.skipped();
            assert!(
                skipped.contains(&id.to_string()) && skipped.contains("not a regular file"),
                "{kind}: {skipped}"
            );
            assert_eq!(run.secrets(), [TOKEN], "the rest is scanned");
        }
        assert!(run.rss_mib < 150, "peak RSS {} MiB", run.rss_mib);
    }
}

#[test]
fn a_loose_zlib_bomb_and_a_lying_loose_header() {
    // 256 MiB of text behind a header saying so, with a 1M cap: scanned to the cap.
    let (r, id) = repo_with_hole(b"hello\n");
    let size = 256u64 << 20;
    let head = format!("blob {size}\0{}", env_file(TOKEN_B));
    let body = zlib_repeated(
        head.as_bytes(),
        b"all work and no play\n",
        size + format!("blob {size}\0").len() as u64,
    );
    fs::write(loose_path(r.path(), &id), body).unwrap();
    let run = scan(r.path(), &["--max-file-size", "1M", "--allow-truncation"]);
    eprintln!(
        "loose 256 MiB bomb, 1M cap: {} MiB, {:.1} s",
        run.rss_mib, run.secs
    );
    assert_eq!(run.code, 1, "{:#}", run.doc);
    assert!(run.secrets().contains(&TOKEN_B.to_string()));
    assert!(run.skipped().contains("268435456 bytes, over the size cap"));
    assert!(run.rss_mib < 100, "peak RSS {} MiB", run.rss_mib);

    // A header claiming 2 GiB over six bytes: damaged, named, nothing allocated.
    let (r, id) = repo_with_hole(b"hello\n");
    fs::write(loose_path(r.path(), &id), zlib(b"blob 2147483648\0hello\n")).unwrap();
    let run = scan(r.path(), &[]);
    assert_eq!(run.code, 2, "{:#}", run.doc);
    let skipped = run.skipped();
    assert!(
        skipped.contains(&id.to_string()) && skipped.contains("2147483648"),
        "{skipped}"
    );
    assert!(run.rss_mib < 150, "peak RSS {} MiB", run.rss_mib);
}

// ---------------------------------------------------------------------------------------------
// 17.11: the same report at any thread count
// ---------------------------------------------------------------------------------------------

#[test]
fn a_missing_blob_named_by_many_trees_reports_the_same_at_any_thread_count() {
    let r = TempDir::new().unwrap();
    git(r.path(), &["init", "-q", "."]);
    write(r.path(), "app.env", env_file(TOKEN));
    // One blob at many paths, in many trees and commits.
    for i in 0..40 {
        write(r.path(), &format!("dir{i}/shared.txt"), "shared content\n");
        write(r.path(), &format!("dir{i}/own.txt"), format!("file {i}\n"));
        git(r.path(), &["add", "-A"]);
        git(r.path(), &["commit", "-q", "-m", &format!("commit {i}")]);
    }
    git(r.path(), &["gc", "-q"]);
    git(r.path(), &["prune-packed"]);
    // Take the shared blob out: rewrite the pack without it.
    let shared = blob_id(b"shared content\n");
    let list = git(r.path(), &["rev-list", "--objects", "--all"]);
    let shared_hex = shared.to_string();
    let keep: String = list
        .lines()
        .filter_map(|l| l.split(' ').next())
        .filter(|id| *id != shared_hex)
        .map(|id| format!("{id}\n"))
        .collect();
    let pack_dir = r.path().join(".git/objects/pack");
    let old: Vec<PathBuf> = fs::read_dir(&pack_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    git_with_input(
        r.path(),
        &["pack-objects", "-q", ".git/objects/pack/pack"],
        keep.as_bytes(),
    );
    for p in old {
        fs::remove_file(p).unwrap();
    }

    let reports: Vec<String> = ["1", "2", "8"]
        .iter()
        .map(|j| {
            let run = scan(r.path(), &["-j", j]);
            assert_eq!(run.code, 2, "{:#}", run.doc);
            assert!(
                run.skipped().contains(&shared.to_string()),
                "{}",
                run.skipped()
            );
            let mut doc = run.doc;
            // Timings differ between runs; nothing else may.
            if let Some(s) = doc["summary"].as_object_mut() {
                s.remove("elapsed_ms");
                s.remove("duration_ms");
            }
            doc.to_string()
        })
        .collect();
    assert_eq!(reports[0], reports[1]);
    assert_eq!(reports[0], reports[2]);
}

// ---------------------------------------------------------------------------------------------
// 18.13: partial clones
// ---------------------------------------------------------------------------------------------

#[test]
fn a_partial_clone_reports_promised_blobs_in_one_line() {
    let src = TempDir::new().unwrap();
    git(src.path(), &["init", "-q", "."]);
    git(src.path(), &["config", "uploadpack.allowFilter", "true"]);
    write(src.path(), "app.env", env_file(TOKEN));
    for i in 0..5 {
        // Blobs over 1 KiB: the filter leaves them out.
        write(
            src.path(),
            &format!("big{i}.txt"),
            format!("{i}\n").repeat(2000),
        );
    }
    git(src.path(), &["add", "-A"]);
    git(src.path(), &["commit", "-q", "-m", "one"]);
    let work = TempDir::new().unwrap();
    let url = format!("file://{}", src.path().display());
    git(
        work.path(),
        &[
            "clone",
            "-q",
            "--no-checkout",
            "--filter=blob:limit=1k",
            &url,
            "clone",
        ],
    );
    let clone = work.path().join("clone");

    let run = scan(&clone, &[]);
    assert_eq!(run.code, 2, "{:#}", run.doc);
    let skipped = run.doc["summary"]["skipped"].as_array().unwrap().clone();
    assert_eq!(skipped.len(), 1, "one line: {skipped:#?}");
    let line = skipped[0].to_string();
    assert!(
        line.contains("5 blobs are not held locally by this partial clone")
            && line.contains("git rev-list --objects --all --missing=print"),
        "{line}"
    );
    assert!(
        run.secrets().contains(&TOKEN.to_string()),
        "what it holds is scanned"
    );

    let run = scan(&clone, &["--allow-missing-promised"]);
    assert_eq!(run.code, 1, "{:#}", run.doc);
    assert!(
        run.doc.to_string().contains("5 blobs are not held locally"),
        "the note stays"
    );
}

// ---------------------------------------------------------------------------------------------
// --range reads blobs one by one: the same bounds
// ---------------------------------------------------------------------------------------------

/// A repository whose second commit adds `data.txt`, whose blob the test stores as it likes.
fn range_repo(data: &[u8]) -> (TempDir, ObjectId) {
    let r = TempDir::new().unwrap();
    git(r.path(), &["init", "-q", "."]);
    write(r.path(), "README", "first\n");
    git(r.path(), &["add", "-A"]);
    git(r.path(), &["commit", "-q", "-m", "first"]);
    write(r.path(), "data.txt", data);
    git(r.path(), &["add", "-A"]);
    git(r.path(), &["commit", "-q", "-m", "second"]);
    let id = blob_id(data);
    fs::remove_file(loose_path(r.path(), &id)).unwrap();
    (r, id)
}

#[test]
fn range_scans_read_blobs_within_the_same_bounds() {
    // A 2 GiB claim over six bytes: damaged, named, not allocated.
    let (r, id) = range_repo(b"hello\n");
    let mut pack = Pack::default();
    pack.blob(id, 2 * GIB, &zlib(b"hello\n"));
    pack.write(&r.path().join(".git"));
    let run = scan(r.path(), &["--range", "HEAD~1..HEAD"]);
    eprintln!("--range, 2 GiB claim: {} MiB", run.rss_mib);
    assert_eq!(run.code, 2, "{:#}", run.doc);
    let skipped = run.skipped();
    assert!(
        skipped.contains(&id.to_string()) && skipped.contains("damaged"),
        "{skipped}"
    );
    assert!(run.rss_mib < 150, "peak RSS {} MiB", run.rss_mib);

    // A real 1 GiB blob with a 1M cap: scanned to the cap.
    let (r, id) = range_repo(b"hello\n");
    let head = env_file(TOKEN_B);
    let mut pack = Pack::default();
    pack.blob(
        id,
        GIB,
        &zlib_repeated(head.as_bytes(), b"all work and no play\n", GIB),
    );
    pack.write(&r.path().join(".git"));
    let run = scan(
        r.path(),
        &[
            "--range",
            "HEAD~1..HEAD",
            "--max-file-size",
            "1M",
            "--allow-truncation",
        ],
    );
    eprintln!(
        "--range, 1 GiB bomb, 1M cap: {} MiB, {:.1} s",
        run.rss_mib, run.secs
    );
    assert_eq!(run.code, 1, "{:#}", run.doc);
    assert_eq!(run.secrets(), [TOKEN_B]);
    assert!(
        run.skipped()
            .contains("1073741824 bytes, over the size cap")
    );
    assert!(run.rss_mib < 100, "peak RSS {} MiB", run.rss_mib);
}
