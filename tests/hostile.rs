//! Hostile and odd inputs, end to end through the binary. A scanner runs on untrusted trees and
//! repositories: whatever it meets, it must name what it could not scan, finish the rest, exit 2
//! when anything was left unscanned, and never panic, hang or run out of memory.
//!
//! (Damaged loose objects, a damaged pack entry and a corrupt index are in `tests/history.rs`.)
//!
//! Every credential here is fake (note the `FAKE` tails), shaped like the real thing.

use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

const TOKEN_A: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE";
const TOKEN_B: &str = "sk_live_9Qm2Zr7TkW4pXv8Ln3Bc6Hd1FAKE";
const TOKEN_C: &str = "sk_live_Xy7Pq2Rs9Tu4Vw1Mn6Kb3Jc8FAKE";

fn env_file(token: &str) -> String {
    format!("# vobiz partner api\nexport VOBIZ_AUTH_TOKEN={token}\n")
}

/// What one run of credsweep left behind.
struct Run {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "exit {} without a JSON report ({e}); stderr: {}",
                self.code, self.stderr
            )
        })
    }
}

/// Runs credsweep in `cwd` (never the project's own directory, whose configuration allows fake
/// tokens) with `args`, and checks what every run must: it ended on its own, with 0, 1 or 2, and
/// did not panic.
fn credsweep_in<S: AsRef<OsStr>>(cwd: &Path, args: &[S]) -> Run {
    let out = assert_cmd::Command::cargo_bin("credsweep")
        .unwrap()
        .current_dir(cwd)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(args)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !run.stderr.contains("panicked") && !run.stderr.contains("RUST_BACKTRACE"),
        "credsweep panicked: {}",
        run.stderr
    );
    assert!(
        (0..=2).contains(&run.code),
        "exit {} (killed or timed out?); stderr: {}",
        run.code,
        run.stderr
    );
    run
}

/// `credsweep dir PATH... --format json --no-redact --quiet` from a scratch directory.
fn scan_dir<S: AsRef<OsStr>>(args: &[S]) -> (Value, Run) {
    let cwd = TempDir::new().unwrap();
    let mut all: Vec<&OsStr> = vec![OsStr::new("dir")];
    all.extend(args.iter().map(AsRef::as_ref));
    all.extend(["--format", "json", "--no-redact", "--quiet"].map(OsStr::new));
    let run = credsweep_in(cwd.path(), &all);
    (run.json(), run)
}

fn secrets(doc: &Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["secret"].as_str().unwrap().to_string())
        .collect()
}

fn skipped(doc: &Value) -> String {
    doc["summary"]["skipped"].to_string()
}

fn write(dir: &Path, name: &str, data: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, data).unwrap();
    p
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(ok.success(), "mkfifo {}", path.display());
}

// ---------------------------------------------------------------------------------------------
// The working tree
// ---------------------------------------------------------------------------------------------

#[test]
fn symlink_loops_and_links_out_of_the_tree() {
    let outside = TempDir::new().unwrap();
    write(outside.path(), "elsewhere.env", env_file(TOKEN_B));
    let d = TempDir::new().unwrap();
    write(d.path(), "app.env", env_file(TOKEN_A));
    symlink("loop-b", d.path().join("loop-a")).unwrap();
    symlink("loop-a", d.path().join("loop-b")).unwrap();
    fs::create_dir(d.path().join("sub")).unwrap();
    symlink("..", d.path().join("sub/up")).unwrap();
    symlink(
        outside.path().join("elsewhere.env"),
        d.path().join("outside.env"),
    )
    .unwrap();

    // Links are not followed by default: nothing outside the tree is read, and nothing loops.
    let (doc, run) = scan_dir(&[d.path()]);
    assert_eq!(run.code, 1, "{doc:#}");
    assert_eq!(secrets(&doc), [TOKEN_A]);
    assert_eq!(doc["summary"]["not_files_skipped"], 4, "{doc:#}");

    // Followed (-L): the directory loop and the file loop are named, the link out of the tree is
    // read because the user asked for links to be followed, and the scan finishes with exit 2.
    let (doc, run) = scan_dir(&[d.path().as_os_str(), OsStr::new("-L")]);
    assert_eq!(run.code, 2, "{doc:#}");
    let mut found = secrets(&doc);
    found.sort();
    assert_eq!(found, [TOKEN_A, TOKEN_B]);
    let skips = skipped(&doc);
    assert!(skips.contains("sub/up"), "{skips}");
    assert!(skips.contains("loop"), "{skips}");
}

#[test]
fn fifos_and_devices_in_the_tree_are_skipped_without_blocking() {
    let d = TempDir::new().unwrap();
    write(d.path(), "app.env", env_file(TOKEN_A));
    // Opening a FIFO with no writer blocks forever; reading /dev/zero never ends.
    mkfifo(&d.path().join("pipe.env"));
    symlink("/dev/zero", d.path().join("zero.env")).unwrap();
    let node = d.path().join("null-device.env");
    let made = Command::new("mknod")
        .arg(&node)
        .args(["c", "1", "3"])
        .status()
        .is_ok_and(|s| s.success());
    for follow in [false, true] {
        let started = Instant::now();
        let mut args = vec![d.path().as_os_str()];
        if follow {
            args.push(OsStr::new("-L"));
        }
        let (doc, run) = scan_dir(&args);
        assert!(started.elapsed() < Duration::from_secs(30));
        assert_eq!(run.code, 1, "{doc:#}");
        assert_eq!(secrets(&doc), [TOKEN_A]);
        let expected = if made { 3 } else { 2 };
        assert_eq!(doc["summary"]["not_files_skipped"], expected, "{doc:#}");
    }
}

#[test]
fn a_device_or_pipe_named_on_the_command_line_is_read_up_to_the_cap() {
    // Named explicitly, a stream is read like standard input: up to the size cap, and the rest
    // is reported as not scanned; a cut fails the scan unless --allow-truncation (issue 13).
    let (doc, run) = scan_dir(&["/dev/zero", "--max-file-size", "1M"]);
    assert_eq!(run.code, 2, "{doc:#}");
    assert!(skipped(&doc).contains("/dev/zero"), "{doc:#}");
    let (doc, run) = scan_dir(&["/dev/zero", "--max-file-size", "1M", "--allow-truncation"]);
    assert_eq!(run.code, 0, "{doc:#}");
    assert!(skipped(&doc).contains("/dev/zero"), "{doc:#}");
    // NULs: a binary, scanned for strings (it holds none).
    assert_eq!(doc["summary"]["binary_scanned"], 1, "{doc:#}");

    let d = TempDir::new().unwrap();
    let fifo = d.path().join("pipe");
    mkfifo(&fifo);
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut f = fs::OpenOptions::new().write(true).open(fifo).unwrap();
            let _ = f.write_all(env_file(TOKEN_C).as_bytes());
        })
    };
    let (doc, run) = scan_dir(&[fifo.as_os_str()]);
    writer.join().unwrap();
    assert_eq!(run.code, 1, "{doc:#}");
    assert_eq!(secrets(&doc), [TOKEN_C]);
}

#[test]
fn a_file_that_cannot_be_read_is_named_and_fails_the_scan() {
    // Tests run as root, so permission bits stop nothing. A read error needs a file that opens
    // and then fails to read: /proc/self/mem opens, and reading its first page (never mapped)
    // fails with EIO. A link to it in the tree, followed with -L, gives a real read error.
    let d = TempDir::new().unwrap();
    write(d.path(), "app.env", env_file(TOKEN_A));
    symlink("/proc/self/mem", d.path().join("unreadable.env")).unwrap();
    // A link to nowhere, followed, cannot even be opened.
    symlink(
        "/nonexistent/credsweep-target",
        d.path().join("dangling.env"),
    )
    .unwrap();
    let (doc, run) = scan_dir(&[d.path().as_os_str(), OsStr::new("-L")]);
    assert_eq!(run.code, 2, "{doc:#}");
    assert_eq!(secrets(&doc), [TOKEN_A], "the rest of the tree is scanned");
    let skips = skipped(&doc);
    assert!(skips.contains("unreadable.env"), "{skips}");
    assert!(skips.contains("dangling.env"), "{skips}");
    assert_eq!(doc["summary"]["errors"], 2, "{doc:#}");

    // The same in the text report, and a path that does not exist at all.
    let cwd = TempDir::new().unwrap();
    let run = credsweep_in(
        cwd.path(),
        &[
            d.path().as_os_str(),
            OsStr::new("-L"),
            OsStr::new("/nonexistent/credsweep-path"),
        ]
        .iter()
        .fold(vec![OsStr::new("dir")], |mut v, a| {
            v.push(a);
            v
        }),
    );
    assert_eq!(run.code, 2);
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(text.contains("unreadable.env"), "{text}");
    assert!(text.contains("/nonexistent/credsweep-path"), "{text}");
}

/// Runs credsweep and returns its exit status, output and peak resident memory in KiB (from
/// `wait4`; an upper bound, as it includes what the child shared with this process before exec).
fn run_measured(cwd: &Path, args: &[&OsStr]) -> (i32, Vec<u8>, String, u64) {
    // Reaped by the wait4 below, which also reads its peak memory.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(assert_cmd::cargo::cargo_bin("credsweep"))
        .current_dir(cwd)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut stdout = child.stdout.unwrap();
    let mut stderr = child.stderr.unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut s).unwrap();
        s
    });
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut stdout, &mut out).unwrap();
    let err = String::from_utf8_lossy(&err_reader.join().unwrap()).into_owned();
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value, and wait4 only writes into the two locals.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4");
    assert!(libc::WIFEXITED(status), "credsweep was killed: {err}");
    assert!(!err.contains("panicked"), "{err}");
    (libc::WEXITSTATUS(status), out, err, usage.ru_maxrss as u64)
}

#[test]
fn a_1_gib_sparse_file_is_capped_and_memory_stays_bounded() {
    let d = TempDir::new().unwrap();
    let p = d.path().join("huge.env");
    // Text at the start (so it is not binary), a hole, and a token past the cap at the end.
    let mut head = env_file(TOKEN_A);
    head.push_str(&"# padding line of plain text\n".repeat(400));
    let f = fs::File::create(&p).unwrap();
    f.set_len(1 << 30).unwrap();
    std::os::unix::fs::FileExt::write_all_at(&f, head.as_bytes(), 0).unwrap();
    let tail = env_file(TOKEN_B);
    std::os::unix::fs::FileExt::write_all_at(&f, tail.as_bytes(), (1 << 30) - tail.len() as u64)
        .unwrap();
    drop(f);

    let cwd = TempDir::new().unwrap();
    let args = one_file_args(&p);
    let (code, out, err, rss_kib) = run_measured(cwd.path(), &args);
    let doc: Value = serde_json::from_slice(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    assert_eq!(code, 1, "{doc:#}");
    // No cap by default (issue 13): scanned to its end in windows, the token past the hole found.
    assert_eq!(secrets(&doc), [TOKEN_A, TOKEN_B], "scanned to its end");
    assert_eq!(skipped(&doc), "[]", "{doc:#}");
    // One window of 8 MiB at a time, and little else.
    eprintln!("peak RSS on a 1 GiB sparse file: {} MiB", rss_kib / 1024);
    assert!(rss_kib < 160 * 1024, "peak RSS {rss_kib} KiB");

    // A cap cuts it: the prefix is scanned, the file named, and the scan fails unless the cut is
    // allowed.
    let mut small = args.clone();
    small.extend([OsStr::new("--max-file-size"), OsStr::new("4M")]);
    let (code, out, _, _) = run_measured(cwd.path(), &small);
    assert_eq!(code, 2);
    let doc: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(secrets(&doc), [TOKEN_A], "the capped prefix is scanned");
    let skips = skipped(&doc);
    assert!(
        skips.contains("huge.env") && skips.contains("1073741824 bytes"),
        "{skips}"
    );
    small.push(OsStr::new("--allow-truncation"));
    let (code, _, _, rss_small) = run_measured(cwd.path(), &small);
    assert_eq!(code, 1);
    // Printed, not asserted: with windows the uncapped scan above is already bounded (the
    // assertion that matters), and a child's peak RSS also counts the test process's own peak
    // when it was spawned (posix_spawn shares its memory until exec), which other tests of this
    // binary running at the same time can raise past any small bound.
    eprintln!("... with --max-file-size 4M: {} MiB", rss_small / 1024);
}

/// The arguments that scan one file, as [`scan_one_file_measured`] does.
fn one_file_args(p: &Path) -> Vec<&OsStr> {
    vec![
        OsStr::new("dir"),
        p.as_os_str(),
        OsStr::new("--format"),
        OsStr::new("json"),
        OsStr::new("--no-redact"),
        OsStr::new("--threads"),
        OsStr::new("1"),
    ]
}

/// `credsweep dir FILE --format json --no-redact --threads 1`: exit status, report, the child's
/// peak RSS (KiB) and wall time.
fn scan_one_file_measured(p: &Path) -> (i32, Value, u64, Duration) {
    let cwd = TempDir::new().unwrap();
    let started = Instant::now();
    let (code, out, err, rss_kib) = run_measured(cwd.path(), &one_file_args(p));
    let elapsed = started.elapsed();
    let doc: Value = serde_json::from_slice(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    (code, doc, rss_kib, elapsed)
}

/// Writes `head`, then `filler` repeated to 100 MiB, then `tail`, in pieces: the test process
/// itself stays small, since a child's peak RSS counts what it shared with its parent before exec.
fn write_100_mib(p: &Path, head: &str, filler: &[u8], tail: &str) {
    let mut w = std::io::BufWriter::new(fs::File::create(p).unwrap());
    w.write_all(head.as_bytes()).unwrap();
    for _ in 0..(100 << 20) / filler.len() {
        w.write_all(filler).unwrap();
    }
    w.write_all(tail.as_bytes()).unwrap();
    w.flush().unwrap();
}

/// Scans the 100 MiB file `p` and checks that the tokens at its start and end were both found,
/// nothing skipped, within `max_rss_mib` of memory and a minute.
fn assert_scanned_to_its_end(p: &Path, what: &str, max_rss_mib: u64) {
    let (code, doc, rss_kib, elapsed) = scan_one_file_measured(p);
    assert_eq!(code, 1, "{doc:#}");
    // No cap by default (issue 13): the file is scanned in windows to its end.
    assert_eq!(secrets(&doc), [TOKEN_A, TOKEN_B]);
    assert_eq!(skipped(&doc), "[]", "{doc:#}");
    eprintln!(
        "{what}: peak RSS {} MiB, {:.1} s",
        rss_kib / 1024,
        elapsed.as_secs_f64()
    );
    assert!(rss_kib < max_rss_mib * 1024, "peak RSS {rss_kib} KiB");
    assert!(elapsed < Duration::from_secs(60));
}

#[test]
fn a_100_mib_single_line_is_capped_scanned_and_bounded() {
    let d = TempDir::new().unwrap();
    let p = d.path().join("minified.js");
    // Keyword-laden filler: every few bytes a keyword hit, so the regexes really run.
    write_100_mib(
        &p,
        &format!("var a=1;VOBIZ_AUTH_TOKEN={TOKEN_A};"),
        &b"x=token;y=secret_key;z=password;w=api_key;".repeat(1000),
        &format!(";VOBIZ_AUTH_TOKEN={TOKEN_B};"),
    );
    assert_scanned_to_its_end(&p, "100 MiB line", 200);
}

#[test]
fn a_100_mib_base64_run_on_one_line_ends_bounded_with_the_tokens_around_it_found() {
    // One base64 run of 100 MiB (a data dump, an inlined blob): too long to decode as a value,
    // it must neither be decoded whole nor stall the scan, and what is written around it is found.
    let d = TempDir::new().unwrap();
    let p = d.path().join("dump.b64");
    // Base64 of ordinary bytes: every character in the alphabet, no padding until the end.
    let chunk: Vec<u8> = (0..48 * 1024)
        .map(|i| {
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
                [(i * 7 + i / 64) % 64]
        })
        .collect();
    write_100_mib(
        &p,
        &format!("VOBIZ_AUTH_TOKEN={TOKEN_A}\ndata: "),
        &chunk,
        &format!("==\nVOBIZ_AUTH_TOKEN={TOKEN_B}\n"),
    );
    assert_scanned_to_its_end(&p, "100 MiB base64 run", 300);
}

#[test]
fn non_utf8_file_names() {
    let d = TempDir::new().unwrap();
    let name = OsStr::from_bytes(b"caf\xe9-\xff\xfe.env");
    fs::write(d.path().join(name), env_file(TOKEN_A)).unwrap();
    let (doc, run) = scan_dir(&[d.path()]);
    assert_eq!(run.code, 1, "{doc:#}");
    let f = &doc["findings"][0];
    assert_eq!(f["secret"], TOKEN_A);
    assert!(
        f["path"]
            .as_str()
            .unwrap()
            .ends_with("caf\u{fffd}-\u{fffd}\u{fffd}.env"),
        "{f:#}"
    );
    // Text and SARIF reports too.
    let cwd = TempDir::new().unwrap();
    for format in ["text", "sarif"] {
        let run = credsweep_in(
            cwd.path(),
            &[
                OsStr::new("dir"),
                d.path().as_os_str(),
                OsStr::new("--format"),
                OsStr::new(format),
            ],
        );
        assert_eq!(run.code, 1);
        if format == "sarif" {
            let _: Value = serde_json::from_slice(&run.stdout).unwrap();
        }
    }
}

#[test]
fn a_file_rewritten_while_it_is_read() {
    // Best effort: a writer truncates and rewrites a large file over and over while scans read
    // it. Whatever a scan sees (the old bytes, the new, a mix, a short read), it must not panic
    // or fail on the rest of the tree.
    let d = TempDir::new().unwrap();
    write(d.path(), "stable.env", env_file(TOKEN_A));
    let p = d.path().join("churn.log");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (p, stop) = (p.clone(), stop.clone());
        std::thread::spawn(move || {
            let line = format!("log line VOBIZ_AUTH_TOKEN={TOKEN_B} end\n");
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let mut f = fs::File::create(&p).unwrap();
                for _ in 0..(n % 7 + 1) * 2_000 {
                    f.write_all(line.as_bytes()).unwrap();
                }
                n += 1;
            }
        })
    };
    for _ in 0..8 {
        let (doc, run) = scan_dir(&[d.path()]);
        assert!(run.code == 1 || run.code == 2, "{doc:#}");
        assert!(secrets(&doc).contains(&TOKEN_A.to_string()));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
}

#[test]
fn catastrophic_backtracking_pattern_runs_in_linear_time() {
    // Classic ReDoS shapes: `^(a+)+$` on lines of `aaaa…X`, and `(\w+\s?)+$` on a long run of
    // words that ends in punctuation. A backtracking engine takes time exponential in the line's
    // length on every line; the regex crate takes time linear in the input. Each line must be
    // tried (`(?m)`, nothing for a literal optimisation to skip), so the engine really runs.
    let d = TempDir::new().unwrap();
    let rules = write(
        d.path(),
        "evil.toml",
        "[[rule]]\nid = 'evil'\ndescription = 'nested quantifiers'\nseverity = 'error'\n\
         regex = '''(?m)^(?P<secret>(a+)+)$'''\nkeywords = ['aaa']\n\
         [[rule]]\nid = 'evil-words'\ndescription = 'nested words'\nseverity = 'error'\n\
         regex = '''(?m)^word (?P<secret>(\\w+\\s?)+)$'''\nkeywords = ['word']\n",
    );
    let time = |lines: usize| {
        let mut data = String::new();
        for i in 0..lines {
            if i % 2 == 0 {
                data += &"a".repeat(2000 + i % 7);
                data += "X\n";
            } else {
                data += "word ";
                data += &"ab cd ".repeat(300 + i % 5);
                data += "!\n";
            }
        }
        let input = write(d.path(), &format!("in-{lines}.txt"), &data);
        let started = Instant::now();
        let (doc, run) = scan_dir(&[
            input.as_os_str(),
            OsStr::new("--no-default-rules"),
            OsStr::new("--rules"),
            rules.as_os_str(),
        ]);
        assert_eq!(run.code, 0, "{doc:#}");
        (started.elapsed(), data.len())
    };
    let (small, small_len) = time(500);
    let (large, large_len) = time(4000);
    eprintln!(
        "ReDoS shapes on {} KiB: {small:?}; on {} KiB: {large:?}",
        small_len >> 10,
        large_len >> 10
    );
    assert!(large < Duration::from_secs(30), "{large:?}");
    // Linear (8x the input), with a generous margin for process start-up and a busy machine.
    assert!(
        large < small * 24 + Duration::from_secs(2),
        "{small:?} vs {large:?}"
    );
}

#[test]
fn absurd_limits_in_the_configuration_and_on_the_command_line() {
    let d = TempDir::new().unwrap();
    write(d.path(), "app.env", env_file(TOKEN_A));
    let cfg = d.path().join(".credsweep.toml");

    // A cap of 0 is refused, with the file and line.
    for (value, says) in [
        ("\"0\"", "between 1 byte"),
        ("\"-5M\"", "not a size"),
        ("\"99999999999T\"", "between 1 byte"),
        ("\"12 parsecs\"", "unknown size unit"),
        ("7", "string"),
    ] {
        fs::write(&cfg, format!("# limits\nmax_file_size = {value}\n")).unwrap();
        let cwd = TempDir::new().unwrap();
        let run = credsweep_in(cwd.path(), &[OsStr::new("dir"), d.path().as_os_str()]);
        assert_eq!(run.code, 2, "{value}: {}", run.stderr);
        assert!(
            run.stderr.contains(".credsweep.toml:2") && run.stderr.contains(says),
            "{value}: {}",
            run.stderr
        );
    }
    // Huge values are fine: they are caps, not allocations.
    fs::write(&cfg, "max_file_size = \"1000000T\"\n").unwrap();
    let (doc, run) = scan_dir(&[d.path()]);
    assert_eq!(run.code, 1, "{doc:#}");
    assert_eq!(secrets(&doc), [TOKEN_A]);
    fs::remove_file(&cfg).unwrap();

    // The command line: a 1-byte cap scans one byte; 0 is refused.
    let (doc, run) = scan_dir(&[d.path().as_os_str(), "--max-file-size=1".as_ref()]);
    assert_eq!(run.code, 2, "a cut fails the scan: {doc:#}");
    assert!(skipped(&doc).contains("only the first 1 bytes"));
    let (doc, run) = scan_dir(&[
        d.path().as_os_str(),
        "--max-file-size=1".as_ref(),
        "--allow-truncation".as_ref(),
    ]);
    assert_eq!(run.code, 0, "{doc:#}");
    let cwd = TempDir::new().unwrap();
    let run = credsweep_in(
        cwd.path(),
        &[
            OsStr::new("dir"),
            d.path().as_os_str(),
            OsStr::new("--max-file-size=0"),
        ],
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("between 1 byte"), "{}", run.stderr);

    // Thread counts: 0 means "as many as there are cores"; a huge count is capped, not obeyed.
    for threads in ["0", "1", "10000"] {
        let (doc, run) = scan_dir(&[d.path().as_os_str(), "--threads".as_ref(), threads.as_ref()]);
        assert_eq!(run.code, 1, "--threads {threads}: {doc:#}");
        assert_eq!(secrets(&doc), [TOKEN_A]);
    }
}

#[test]
fn a_configuration_or_rule_file_that_is_a_device_or_huge_is_refused() {
    // A repository's own `.credsweep.toml` is untrusted input when scanning someone else's
    // repository: it must not be able to make credsweep read forever.
    let d = TempDir::new().unwrap();
    write(d.path(), "app.env", env_file(TOKEN_A));
    fs::write(
        d.path().join(".credsweep.toml"),
        "rule_files = [\"/dev/zero\"]\n",
    )
    .unwrap();
    let started = Instant::now();
    let cwd = TempDir::new().unwrap();
    let run = credsweep_in(cwd.path(), &[OsStr::new("dir"), d.path().as_os_str()]);
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(run.code, 2, "{}", run.stderr);
    // A repository's own configuration may not name files outside it at all.
    assert!(
        run.stderr.contains("rule_files") && run.stderr.contains("outside the repository"),
        "{}",
        run.stderr
    );
    // The user's own may, and /dev/zero is still refused, not read.
    let user = write(cwd.path(), "user.toml", "rule_files = [\"/dev/zero\"]\n");
    let run = credsweep_in(
        cwd.path(),
        &[
            OsStr::new("dir"),
            d.path().as_os_str(),
            OsStr::new("--config"),
            user.as_os_str(),
        ],
    );
    assert!(started.elapsed() < Duration::from_secs(60));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("/dev/zero"), "{}", run.stderr);

    let big = write(d.path(), "big.toml", "");
    fs::File::options()
        .write(true)
        .open(&big)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let run = credsweep_in(
        cwd.path(),
        &[
            OsStr::new("dir"),
            d.path().as_os_str(),
            OsStr::new("--no-config"),
            OsStr::new("--rules"),
            big.as_os_str(),
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("big.toml"), "{}", run.stderr);
    let run = credsweep_in(
        cwd.path(),
        &[
            OsStr::new("dir"),
            d.path().as_os_str(),
            OsStr::new("--config"),
            big.as_os_str(),
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("big.toml"), "{}", run.stderr);
}

// ---------------------------------------------------------------------------------------------
// Thread counts
// ---------------------------------------------------------------------------------------------

/// The most threads the process of `cmd` had at once, sampled from /proc while it ran.
fn peak_threads(mut cmd: Command) -> (usize, i32) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(s) = fs::read_to_string(&status)
            && let Some(n) = s
                .lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|n| n.trim().parse::<usize>().ok())
        {
            peak = peak.max(n);
        }
        if let Some(st) = child.try_wait().unwrap() {
            return (peak, st.code().unwrap_or(-1));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn worker_threads_follow_threads() {
    // Enough work that the scan lasts a while: files whose every line wakes a slow-ish rule.
    let d = TempDir::new().unwrap();
    let line =
        "token = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n";
    for i in 0..400 {
        write(
            d.path(),
            &format!("d{}/f{i}.txt", i % 10),
            line.repeat(2_000),
        );
    }
    write(d.path(), "app.env", env_file(TOKEN_A));
    let cwd = TempDir::new().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("credsweep");
    for threads in [1usize, 3, 10_000] {
        let mut cmd = Command::new(&bin);
        cmd.current_dir(cwd.path()).arg("dir").arg(d.path()).args([
            "--quiet",
            "--threads",
            &threads.to_string(),
        ]);
        let (peak, code) = peak_threads(cmd);
        assert_eq!(code, 1);
        eprintln!("dir --threads {threads}: at most {peak} threads at once");
        // The main thread and the workers; the walker's own coordinator at most.
        assert!(
            peak >= 1 && peak <= threads.min(256) + 2,
            "--threads {threads}: {peak} threads at once"
        );
    }

    // History: the pack decoder and the loose-object pool both take their size from --threads.
    let repo = TempDir::new().unwrap();
    git(repo.path(), &["init", "-q", "-b", "main", "."]);
    for i in 0..300 {
        write(
            repo.path(),
            &format!("d{}/f{i}.txt", i % 10),
            format!("{i}\n{}", line.repeat(500)),
        );
    }
    write(repo.path(), "app.env", env_file(TOKEN_A));
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "many files"]);
    git(repo.path(), &["gc", "-q"]);
    write(repo.path(), "loose.env", env_file(TOKEN_B));
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "loose objects"]);
    for threads in [1usize, 3] {
        let mut cmd = Command::new(&bin);
        cmd.current_dir(cwd.path())
            .arg("git")
            .arg(repo.path())
            .args(["--quiet", "--threads", &threads.to_string()]);
        let (peak, code) = peak_threads(cmd);
        assert_eq!(code, 1);
        eprintln!("git --threads {threads}: at most {peak} threads at once");
        assert!(
            peak >= 1 && peak <= threads + 2,
            "git --threads {threads}: {peak} threads at once"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Repositories
// ---------------------------------------------------------------------------------------------

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Ada Lovelace")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Ada Lovelace")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com")
        .env("GIT_AUTHOR_DATE", "@1700000000 +0000")
        .env("GIT_COMMITTER_DATE", "@1700000000 +0000")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A repository with TOKEN_A packed (in commit one) and TOKEN_B loose (in commit two).
fn packed_and_loose() -> TempDir {
    let r = TempDir::new().unwrap();
    git(r.path(), &["init", "-q", "-b", "main", "."]);
    write(r.path(), "old.env", env_file(TOKEN_A));
    let noise: String = (0..20_000u32)
        .map(|i| char::from(b'a' + (i.wrapping_mul(2_654_435_761) >> 27) as u8 % 26))
        .collect();
    write(r.path(), "noise.txt", noise);
    git(r.path(), &["add", "-A"]);
    git(r.path(), &["commit", "-q", "-m", "one"]);
    git(r.path(), &["gc", "-q"]);
    write(r.path(), "new.env", env_file(TOKEN_B));
    git(r.path(), &["add", "-A"]);
    git(r.path(), &["commit", "-q", "-m", "two"]);
    r
}

fn pack_file(repo: &Path, ext: &str) -> PathBuf {
    fs::read_dir(repo.join(".git/objects/pack"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == ext))
        .unwrap()
}

fn make_writable(p: &Path) {
    let mut perms = fs::metadata(p).unwrap().permissions();
    perms.set_mode(0o644);
    fs::set_permissions(p, perms).unwrap();
}

fn scan_git(repo: &Path, extra: &[&str]) -> (Value, Run) {
    let cwd = TempDir::new().unwrap();
    let mut args = vec!["git", repo.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.extend(["--format", "json", "--no-redact", "--quiet"]);
    let run = credsweep_in(cwd.path(), &args);
    (run.json(), run)
}

#[test]
fn truncated_pack() {
    let r = packed_and_loose();
    let pack = pack_file(r.path(), "pack");
    make_writable(&pack);
    let len = fs::metadata(&pack).unwrap().len();
    fs::File::options()
        .write(true)
        .open(&pack)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let (doc, run) = scan_git(r.path(), &[]);
    assert_eq!(run.code, 2, "{doc:#}");
    assert!(
        secrets(&doc).contains(&TOKEN_B.to_string()),
        "loose objects are still scanned: {doc:#}"
    );
    let skips = skipped(&doc);
    assert!(skips.contains(".pack"), "the pack is named: {skips}");

    // Cut inside the header: the pack cannot even be opened.
    fs::File::options()
        .write(true)
        .open(&pack)
        .unwrap()
        .set_len(7)
        .unwrap();
    let (doc, run) = scan_git(r.path(), &[]);
    assert_eq!(run.code, 2, "{doc:#}");
    assert!(secrets(&doc).contains(&TOKEN_B.to_string()));
    assert!(skipped(&doc).contains(".pack"), "{doc:#}");
}

#[test]
fn pack_with_bad_checksums_still_reads_what_it_can() {
    // Every CRC32 in the index and the pack's trailing checksum wrong, the objects intact: a
    // scan reads the content (it does not vouch for the pack) and finds everything.
    let r = packed_and_loose();
    let idx = pack_file(r.path(), "idx");
    let pack = pack_file(r.path(), "pack");
    make_writable(&idx);
    make_writable(&pack);
    let mut bytes = fs::read(&idx).unwrap();
    let n = u32::from_be_bytes(bytes[8 + 255 * 4..8 + 256 * 4].try_into().unwrap()) as usize;
    let crc_start = 8 + 256 * 4 + n * 20;
    for b in &mut bytes[crc_start..crc_start + n * 4] {
        *b ^= 0x5A;
    }
    fs::write(&idx, bytes).unwrap();
    let mut bytes = fs::read(&pack).unwrap();
    let len = bytes.len();
    for b in &mut bytes[len - 20..] {
        *b = !*b;
    }
    fs::write(&pack, bytes).unwrap();
    let (doc, run) = scan_git(r.path(), &[]);
    let mut found = secrets(&doc);
    found.sort();
    assert_eq!(found, [TOKEN_A, TOKEN_B], "{doc:#}");
    assert!(run.code == 1 || run.code == 2, "{doc:#}");

    // Garbage over the middle of the pack: what is damaged is named, the rest is scanned.
    let mut bytes = fs::read(&pack).unwrap();
    let (mid, n) = (bytes.len() / 2, (bytes.len() / 4).min(512));
    for (i, b) in bytes[mid..mid + n].iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(151).wrapping_add(7);
    }
    fs::write(&pack, bytes).unwrap();
    let (doc, run) = scan_git(r.path(), &[]);
    assert_eq!(run.code, 2, "{doc:#}");
    assert!(secrets(&doc).contains(&TOKEN_B.to_string()), "{doc:#}");
    assert!(skipped(&doc).contains("object"), "{doc:#}");
}

#[test]
fn missing_objects_are_named() {
    let r = packed_and_loose();
    let blob = git(r.path(), &["rev-parse", "HEAD:new.env"])
        .trim()
        .to_string();
    fs::remove_file(
        r.path()
            .join(".git/objects")
            .join(&blob[..2])
            .join(&blob[2..]),
    )
    .unwrap();
    // Every scan that walks trees finds the hole: --reachable-only and ranges.
    for extra in [
        &["--reachable-only"][..],
        &["--range", "HEAD~1..HEAD"][..],
        &[][..],
    ] {
        let (doc, run) = scan_git(r.path(), extra);
        assert_eq!(run.code, 2, "{extra:?}: {doc:#}");
        assert!(skipped(&doc).contains(&blob), "{extra:?}: {doc:#}");
    }

    // A missing parent commit.
    let r = packed_and_loose();
    let parent = git(r.path(), &["rev-parse", "HEAD~1"]).trim().to_string();
    // Move the first commit out of the pack by exploding it, then drop the loose copy.
    fs::remove_dir_all(r.path().join(".git/objects/pack")).unwrap();
    let (doc, run) = scan_git(r.path(), &[]);
    assert_eq!(run.code, 2, "{doc:#}");
    assert!(skipped(&doc).contains(&parent), "{doc:#}");
    assert!(secrets(&doc).contains(&TOKEN_B.to_string()), "{doc:#}");
}

#[test]
fn head_that_points_nowhere() {
    let r = packed_and_loose();
    // An unborn branch (as after `git checkout --orphan`): the branches are still history.
    fs::write(r.path().join(".git/HEAD"), "ref: refs/heads/nowhere\n").unwrap();
    let (doc, run) = scan_git(r.path(), &[]);
    assert_eq!(run.code, 1, "{doc:#}");
    assert_eq!(secrets(&doc).len(), 2, "{doc:#}");

    // Detached at a commit that does not exist.
    let missing = "0123456789abcdef0123456789abcdef01234567";
    fs::write(r.path().join(".git/HEAD"), format!("{missing}\n")).unwrap();
    let (doc, run) = scan_git(r.path(), &[]);
    assert_eq!(run.code, 2, "{doc:#}");
    assert!(doc.to_string().contains(missing), "{doc:#}");
    assert_eq!(
        secrets(&doc).len(),
        2,
        "the rest of history is scanned: {doc:#}"
    );
    // `--since`/`--range` need HEAD itself: a clear error.
    let cwd = TempDir::new().unwrap();
    let run = credsweep_in(
        cwd.path(),
        &["git", r.path().to_str().unwrap(), "--since", "main"],
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("HEAD"), "{}", run.stderr);
    // `staged` with no readable HEAD commit takes everything staged as new: it scans more,
    // never less.
    let run = credsweep_in(
        cwd.path(),
        &[
            "staged",
            "--repo",
            r.path().to_str().unwrap(),
            "--format",
            "json",
            "--no-redact",
        ],
    );
    assert!(run.code == 1 || run.code == 2, "{}", run.stderr);
    assert_eq!(secrets(&run.json()).len(), 2);

    // Garbage in HEAD: named, and the branches are still scanned.
    fs::write(r.path().join(".git/HEAD"), "\u{0}\u{1}garbage\n").unwrap();
    let (doc, run) = scan_git(r.path(), &[]);
    assert_eq!(run.code, 2, "{doc:#}");
    assert!(skipped(&doc).contains("HEAD"), "{doc:#}");
    assert_eq!(secrets(&doc).len(), 2, "{doc:#}");
}

#[test]
fn index_with_garbage() {
    let r = TempDir::new().unwrap();
    git(r.path(), &["init", "-q", "-b", "main", "."]);
    for i in 0..20 {
        write(r.path(), &format!("f{i}.txt"), format!("file {i}\n"));
    }
    git(r.path(), &["add", "-A"]);
    git(r.path(), &["commit", "-q", "-m", "one"]);
    write(r.path(), "app.env", env_file(TOKEN_A));
    git(r.path(), &["add", "app.env"]);
    let index = r.path().join(".git/index");
    let good = fs::read(&index).unwrap();
    let cwd = TempDir::new().unwrap();
    let mut variants: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", good[..good.len() / 2].to_vec()),
        ("empty", Vec::new()),
        ("header only", good[..12].to_vec()),
    ];
    let mut huge_count = good.clone();
    huge_count[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
    variants.push(("absurd entry count", huge_count));
    let mut garbled = good.clone();
    for (i, b) in garbled[12..good.len() - 20].iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(73) ^ 0xA5;
    }
    variants.push(("garbage entries", garbled));
    for (what, bytes) in variants {
        fs::write(&index, bytes).unwrap();
        let run = credsweep_in(
            cwd.path(),
            &["staged", "--repo", r.path().to_str().unwrap()],
        );
        assert_eq!(run.code, 2, "{what}: {}", run.stderr);
        assert!(
            run.stderr.contains(".git/index"),
            "{what}: the index is named: {}",
            run.stderr
        );
        // History does not read the index: a damaged one does not stop it.
        let (doc, run) = scan_git(r.path(), &[]);
        assert!(run.code <= 1, "{what}: {doc:#}");
    }
}

#[test]
fn non_utf8_paths_in_history() {
    let r = TempDir::new().unwrap();
    git(r.path(), &["init", "-q", "-b", "main", "."]);
    fs::write(
        r.path().join(OsStr::from_bytes(b"caf\xe9.env")),
        env_file(TOKEN_A),
    )
    .unwrap();
    git(r.path(), &["add", "-A"]);
    git(r.path(), &["commit", "-q", "-m", "latin-1 name"]);
    let (doc, run) = scan_git(r.path(), &[]);
    assert_eq!(run.code, 1, "{doc:#}");
    assert_eq!(doc["findings"][0]["path"], "caf\u{fffd}.env", "{doc:#}");
}

#[test]
fn a_file_of_many_keys_reports_a_bounded_number() {
    // Distinct key-shaped lines, every one a finding. A report of millions of findings helps
    // nobody and would hold them all in memory: one file reports at most 100,000, and says so.
    let d = TempDir::new().unwrap();
    let p = d.path().join("dump.env");
    let mut w = std::io::BufWriter::new(fs::File::create(&p).unwrap());
    for i in 0..150_000u32 {
        writeln!(
            w,
            "VOBIZ_AUTH_TOKEN=sk_live_{:08x}Q7mZr2TkW4pXvFAKE",
            i.wrapping_mul(2_654_435_761)
        )
        .unwrap();
    }
    w.flush().unwrap();
    drop(w);
    let (code, doc, rss_kib, _) = scan_one_file_measured(&p);
    assert_eq!(code, 1, "{}", skipped(&doc));
    assert_eq!(doc["findings"].as_array().unwrap().len(), 100_000);
    assert!(
        skipped(&doc).contains("more than 100000 findings"),
        "{}",
        skipped(&doc)
    );
    eprintln!(
        "150,000 findings in one file: peak RSS {} MiB",
        rss_kib / 1024
    );
    assert!(rss_kib < 512 * 1024, "peak RSS {rss_kib} KiB");
}

#[test]
fn a_megabyte_secret_is_kept_to_16_kib() {
    // A rule that matches a whole long line makes a secret of it; the finding keeps 16 KiB.
    let d = TempDir::new().unwrap();
    let rules = write(
        d.path(),
        "long.toml",
        "[[rule]]\nid = 'long'\ndescription = 'a greedy rule'\nseverity = 'error'\n\
         regex = '''blob=(?P<secret>[A-Za-z0-9]+)'''\nkeywords = ['blob=']\nmultiline = true\n",
    );
    let body: String = (0..(1 << 20))
        .map(|i: u32| {
            char::from(
                b"abcdefghijklmnopqrstuvwxyz0123456789"
                    [(i.wrapping_mul(2_654_435_761) >> 26) as usize % 36],
            )
        })
        .collect();
    let input = write(d.path(), "in.txt", format!("blob={body}\n"));
    let (doc, run) = scan_dir(&[
        input.as_os_str(),
        OsStr::new("--no-default-rules"),
        OsStr::new("--rules"),
        rules.as_os_str(),
    ]);
    assert_eq!(run.code, 1, "{doc:#}");
    let f = &doc["findings"][0];
    assert_eq!(f["secret"].as_str().unwrap().len(), 16 << 10);
    assert_eq!(
        f["end_column"],
        (1 << 20) + 6,
        "the position covers the whole match"
    );
}
