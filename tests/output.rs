//! What credsweep writes, and where: byte-identical reports whatever the thread count, and no
//! secret in anything but the report itself (and there only with `--no-redact`).
//!
//! Every credential here is fake (note the `FAKE` tails), shaped like the real thing.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tempfile::TempDir;

const TOKENS: &[&str] = &[
    "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE",
    "sk_live_9Qm2Zr7TkW4pXv8Ln3Bc6Hd1FAKE",
    "sk_live_Xy7Pq2Rs9Tu4Vw1Mn6Kb3Jc8FAKE",
];
const GITHUB: &str = "ghp_R4nd0mFAKEt0k3nV4lu3Xq9Zk2Lm8Np6Wt1";
const AWS_ID: &str = "AKIAQ7FAKEQ7FAKEQ7FA";
const AWS_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYFAKEKEY9Zq";
const PASSWORD: &str = "Fake#Pa55w0rd!Q7";

/// Every plaintext secret the fixtures hold.
fn all_secrets() -> Vec<&'static str> {
    let mut v = TOKENS.to_vec();
    v.extend([GITHUB, AWS_SECRET, PASSWORD]);
    v
}

struct Out {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

/// Runs credsweep in `cwd` (a scratch directory: the project's own configuration allows fake
/// tokens).
fn credsweep<S: AsRef<OsStr>>(cwd: &Path, args: &[S], env: &[(&str, &OsStr)]) -> Out {
    let mut cmd = assert_cmd::Command::cargo_bin("credsweep").unwrap();
    cmd.current_dir(cwd)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(args)
        .timeout(Duration::from_secs(120));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let o = Out {
        code: out.status.code().unwrap_or(-1),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    o
}

fn write(dir: &Path, name: &str, data: impl AsRef<[u8]>) {
    let p = dir.join(name);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, data).unwrap();
}

/// A tree with many files and findings of several rules, binary files, files over a small cap
/// and, with `-L`, links that cannot be followed.
fn busy_tree() -> TempDir {
    let d = TempDir::new().unwrap();
    for i in 0..240 {
        let dir = format!("m{}/s{}", i % 7, i % 3);
        let token = TOKENS[i % TOKENS.len()];
        let body = match i % 6 {
            0 => format!("# vobiz\nexport VOBIZ_AUTH_TOKEN={token}\nX-Auth-Token: {token}\n"),
            1 => format!("aws_access_key_id = {AWS_ID}\naws_secret_access_key = {AWS_SECRET}\n"),
            2 => format!("GITHUB_TOKEN={GITHUB}\npassword = \"{PASSWORD}\"\n"),
            3 => "plain text, nothing to see\n".repeat(50),
            4 => format!("binary\0{token}\n"),
            _ => format!("{}\nVOBIZ_AUTH_TOKEN={token}\n", "x".repeat(3000 + i)),
        };
        write(d.path(), &format!("{dir}/f{i:03}.env"), body);
    }
    std::os::unix::fs::symlink("/nonexistent/target", d.path().join("m0/dangling.env")).unwrap();
    d
}

fn report(cwd: &Path, args: &[&OsStr], threads: usize, format: &str) -> Vec<u8> {
    let mut all: Vec<&OsStr> = args.to_vec();
    let t = threads.to_string();
    let rest = [
        "--format",
        format,
        "--threads",
        &t,
        "--quiet",
        "--color",
        "never",
    ];
    all.extend(rest.iter().map(OsStr::new));
    let out = credsweep(cwd, &all, &[]);
    assert!((1..=2).contains(&out.code), "{}", out.stderr);
    out.stdout
}

fn assert_same_at_any_thread_count(cwd: &Path, args: &[&OsStr]) {
    for format in ["json", "sarif"] {
        let one = report(cwd, args, 1, format);
        assert!(one.len() > 1000, "{}", String::from_utf8_lossy(&one));
        for threads in [8, 3] {
            let many = report(cwd, args, threads, format);
            assert!(
                one == many,
                "{format} differs between --threads 1 and --threads {threads}"
            );
        }
    }
}

#[test]
fn tree_reports_are_byte_identical_at_any_thread_count() {
    let d = busy_tree();
    let cwd = TempDir::new().unwrap();
    assert_same_at_any_thread_count(
        cwd.path(),
        &[
            OsStr::new("dir"),
            d.path().as_os_str(),
            OsStr::new("-L"),
            OsStr::new("--max-file-size"),
            OsStr::new("2K"),
        ],
    );
}

fn git(dir: &Path, args: &[&str], time: u64) {
    let date = format!("@{time} +0000");
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Ada Lovelace")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Ada Lovelace")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com")
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A repository with several branches, a merge, a tag, packed and loose objects, and the same
/// secrets in many places.
fn busy_repo() -> TempDir {
    let r = TempDir::new().unwrap();
    let p = r.path();
    let mut t = 1_700_000_000;
    let mut tick = || {
        t += 60;
        t
    };
    git(p, &["init", "-q", "-b", "main", "."], tick());
    for c in 0..12 {
        for f in 0..8 {
            let token = TOKENS[(c + f) % TOKENS.len()];
            let body = match (c + f) % 4 {
                0 => format!("# vobiz\nexport VOBIZ_AUTH_TOKEN={token}\nrev {c}\n"),
                1 => format!("GITHUB_TOKEN={GITHUB}\nrev {c}\n"),
                2 => format!(
                    "aws_access_key_id = {AWS_ID}\naws_secret_access_key = {AWS_SECRET}\n# {c}\n"
                ),
                _ => format!("nothing {c} {f}\n"),
            };
            write(p, &format!("dir{}/file{f}.env", f % 3), body);
        }
        git(p, &["add", "-A"], tick());
        git(p, &["commit", "-q", "-m", &format!("main {c}")], tick());
        if c == 5 {
            git(p, &["gc", "-q"], tick());
        }
    }
    for b in 0..4 {
        git(
            p,
            &["checkout", "-q", "-b", &format!("topic{b}"), "main~3"],
            tick(),
        );
        for c in 0..3 {
            write(
                p,
                &format!("topic/{b}-{c}.env"),
                format!(
                    "VOBIZ_AUTH_TOKEN={}\npassword = \"{PASSWORD}\"\n# {b} {c}\n",
                    TOKENS[(b + c) % 3]
                ),
            );
            git(p, &["add", "-A"], tick());
            git(
                p,
                &["commit", "-q", "-m", &format!("topic {b} {c}")],
                tick(),
            );
        }
    }
    git(p, &["checkout", "-q", "main"], tick());
    git(p, &["merge", "-q", "--no-edit", "topic0"], tick());
    git(p, &["tag", "-a", "v1", "-m", "release", "topic2"], tick());
    r
}

#[test]
fn history_reports_are_byte_identical_at_any_thread_count() {
    let r = busy_repo();
    let cwd = TempDir::new().unwrap();
    assert_same_at_any_thread_count(cwd.path(), &[OsStr::new("git"), r.path().as_os_str()]);
    assert_same_at_any_thread_count(
        cwd.path(),
        &[
            OsStr::new("git"),
            r.path().as_os_str(),
            OsStr::new("--range"),
            OsStr::new("main~6..topic1"),
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// No leaks
// ---------------------------------------------------------------------------------------------

/// Asserts that no plaintext secret appears in `what`.
fn assert_no_secret(what: &str, text: &[u8]) {
    let text = String::from_utf8_lossy(text);
    for s in all_secrets() {
        assert!(!text.contains(s), "{what} holds the secret {s}:\n{text}");
    }
}

/// Every file under `dir`, relative.
fn files_under(dir: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                stack.push(e.path());
            } else {
                out.insert(e.path().strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out
}

#[test]
fn secrets_stay_out_of_stderr_and_redacted_reports() {
    let d = busy_tree();
    let r = busy_repo();
    let cwd = TempDir::new().unwrap();
    let tmp = TempDir::new().unwrap();
    let tree_before = files_under(d.path());
    let env = [("TMPDIR", tmp.path().as_os_str())];
    let dir = d.path().as_os_str();
    let repo = r.path().as_os_str();
    let runs: Vec<Vec<&OsStr>> = vec![
        // Succeeding scans with findings.
        vec!["dir".as_ref(), dir],
        vec!["dir".as_ref(), dir, "--format".as_ref(), "json".as_ref()],
        vec!["dir".as_ref(), dir, "--format".as_ref(), "sarif".as_ref()],
        vec!["git".as_ref(), repo],
        vec!["git".as_ref(), repo, "--format".as_ref(), "json".as_ref()],
        vec!["git".as_ref(), repo, "--format".as_ref(), "sarif".as_ref()],
        vec!["staged".as_ref(), "--repo".as_ref(), repo],
        // Failing ones: unreadable paths (exit 2), a bad size, a missing baseline.
        vec!["dir".as_ref(), dir, "-L".as_ref(), "/nonexistent".as_ref()],
        vec![
            "dir".as_ref(),
            dir,
            "--max-file-size".as_ref(),
            "0".as_ref(),
        ],
        vec![
            "dir".as_ref(),
            dir,
            "--baseline".as_ref(),
            "/nonexistent/b.toml".as_ref(),
        ],
        vec![
            "git".as_ref(),
            repo,
            "--range".as_ref(),
            "nope..main".as_ref(),
        ],
        // SARIF never holds secrets, even when asked to show them.
        vec![
            "dir".as_ref(),
            dir,
            "--format".as_ref(),
            "sarif".as_ref(),
            "--no-redact".as_ref(),
        ],
    ];
    for args in &runs {
        let out = credsweep(cwd.path(), args, &env);
        assert!((0..=2).contains(&out.code), "{args:?}: {}", out.stderr);
        assert_no_secret(&format!("stderr of {args:?}"), out.stderr.as_bytes());
        assert_no_secret(&format!("stdout of {args:?}"), &out.stdout);
    }

    // A rule file and a configuration with a syntax error on a line holding a secret: the
    // error names the file and line, and does not quote it.
    let bad_rules = cwd.path().join("bad-rules.toml");
    fs::write(
        &bad_rules,
        format!(
            "[[rule]]\nid = \"x\"\nexamples = [\"{}\" oops]\n",
            TOKENS[0]
        ),
    )
    .unwrap();
    let out = credsweep(
        cwd.path(),
        &[
            "dir".as_ref(),
            dir,
            "--rules".as_ref(),
            bad_rules.as_os_str(),
        ],
        &env,
    );
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("bad-rules.toml"), "{}", out.stderr);
    assert_no_secret("a rule file's syntax error", out.stderr.as_bytes());
    let bad_config = cwd.path().join("bad.toml");
    fs::write(
        &bad_config,
        format!("fingerprint_salt = \"{}\" \"\n", TOKENS[1]),
    )
    .unwrap();
    let out = credsweep(
        cwd.path(),
        &[
            "dir".as_ref(),
            dir,
            "--config".as_ref(),
            bad_config.as_os_str(),
        ],
        &env,
    );
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("bad.toml"), "{}", out.stderr);
    assert_no_secret("a configuration's syntax error", out.stderr.as_bytes());

    // With --no-redact the report shows them (that is what it is for), stderr still does not.
    let out = credsweep(
        cwd.path(),
        &["dir".as_ref(), dir, "--no-redact".as_ref()],
        &env,
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(TOKENS[0]));
    assert_no_secret("stderr with --no-redact", out.stderr.as_bytes());

    // Nothing written: no temporary files, nothing in the scanned tree or the working directory
    // but the -o file.
    let out_file = cwd.path().join("report.json");
    let out = credsweep(
        cwd.path(),
        &[
            "dir".as_ref(),
            dir,
            "-o".as_ref(),
            out_file.as_os_str(),
            "--format".as_ref(),
            "json".as_ref(),
        ],
        &env,
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stdout.is_empty());
    assert_no_secret("the -o report", &fs::read(&out_file).unwrap());
    assert_eq!(files_under(tmp.path()), BTreeSet::new(), "temporary files");
    assert_eq!(
        files_under(d.path()),
        tree_before,
        "the scanned tree changed"
    );
    let written: BTreeSet<PathBuf> = files_under(cwd.path());
    let expected: BTreeSet<PathBuf> = ["report.json", "bad-rules.toml", "bad.toml"]
        .iter()
        .map(PathBuf::from)
        .collect();
    assert_eq!(written, expected);
}

#[test]
fn the_baseline_holds_no_secret() {
    let d = busy_tree();
    let cwd = TempDir::new().unwrap();
    let out = credsweep(
        cwd.path(),
        &["baseline".as_ref(), "add".as_ref(), d.path().as_os_str()],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_no_secret("baseline add's stderr", out.stderr.as_bytes());
    let baseline = fs::read(d.path().join(".credsweep-baseline.toml")).unwrap();
    assert!(
        String::from_utf8_lossy(&baseline).contains("vobiz-auth-token"),
        "entries were written"
    );
    assert_no_secret("the baseline", &baseline);
}

#[test]
fn a_panic_prints_no_payload_and_exits_2() {
    let cwd = TempDir::new().unwrap();
    let secret = format!("while scanning: VOBIZ_AUTH_TOKEN={}", TOKENS[2]);
    let out = credsweep(
        cwd.path(),
        &["dir", "."],
        &[("CREDSWEEP_TEST_PANIC", OsStr::new(&secret))],
    );
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("internal error"), "{}", out.stderr);
    assert!(
        out.stderr.contains("src/main.rs"),
        "the location is given: {}",
        out.stderr
    );
    assert_no_secret("a panic message", out.stderr.as_bytes());
}

/// Runs `credsweep git <busy repo> <args>` in a terminal (`script` gives it one, so progress is
/// drawn) and returns the session's typescript; `None` if `script` (util-linux) is missing.
fn git_scan_in_a_terminal(args: &str) -> Option<Vec<u8>> {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: `script` (util-linux) is not installed, so no terminal to test on");
        return None;
    }
    let r = busy_repo();
    let cwd = TempDir::new().unwrap();
    let log = cwd.path().join("typescript");
    let cmd = format!(
        "{} git {} {args}",
        assert_cmd::cargo::cargo_bin("credsweep").display(),
        r.path().display()
    );
    let status = Command::new("script")
        .current_dir(cwd.path())
        .args(["-q", "-e", "-c", &cmd])
        .arg(&log)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
    Some(fs::read(&log).unwrap())
}

#[test]
fn the_progress_bar_shows_no_secret() {
    let Some(typescript) = git_scan_in_a_terminal("--format json") else {
        return;
    };
    assert!(
        String::from_utf8_lossy(&typescript).contains("finding where"),
        "a progress bar was drawn"
    );
    assert!(
        String::from_utf8_lossy(&typescript).contains("vobiz-auth-token"),
        "the report is in the typescript"
    );
    assert_no_secret("a terminal session with progress", &typescript);
}

#[test]
fn the_progress_bar_is_cleared_before_the_report_is_printed() {
    // The CLI draws the bar from what the scan records, on another thread: the scan must not
    // return (and the report be printed) until the bar is gone, or the bar's clearing would
    // erase the report's last line.
    let Some(typescript) = git_scan_in_a_terminal("--color never") else {
        return;
    };
    let typescript = String::from_utf8_lossy(&typescript).into_owned();
    let bar = typescript
        .rfind("finding where")
        .expect("a progress bar was drawn");
    let report = typescript.find("vobiz-auth-token").expect("the report");
    assert!(bar < report, "the bar was drawn after the report started");
    assert!(
        !typescript[report..].contains('\u{1b}'),
        "an escape sequence (a bar or its clearing) after the report started"
    );
}
