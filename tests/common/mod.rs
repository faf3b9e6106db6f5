//! Scaffolding the integration tests share: the binary under test, files in temporary trees, and
//! git run isolated from the machine's configuration; [`fixtures`] has the repositories several
//! suites build. Each test file uses only some of it.
#![allow(dead_code)]

pub mod fixtures;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The credsweep binary this test run built.
pub fn credsweep() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("credsweep").unwrap()
}

/// Writes `data` to `dir/name`, creating parent directories; returns the path.
pub fn write(dir: &Path, name: &str, data: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, data).unwrap();
    p
}

/// Runs git in `dir` as Ann Example, with no global or system configuration, `main` as the
/// default branch and no signing; fails the test if git fails. Returns stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    run_git(dir, args, None, None)
}

/// [`git`] with the author and committer dates set to `date` (git's date formats, e.g.
/// `2024-03-01T12:00:00Z` or `@1700000000 +0000`).
pub fn git_at(dir: &Path, args: &[&str], date: &str) -> String {
    run_git(dir, args, Some(date), None)
}

/// [`git`] with `input` on its standard input (`fast-import`, `pack-objects`).
pub fn git_with_input(dir: &Path, args: &[&str], input: &[u8]) -> String {
    run_git(dir, args, None, Some(input))
}

fn run_git(dir: &Path, args: &[&str], date: Option<&str>, input: Option<&[u8]>) -> String {
    use std::process::Stdio;
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args([
            "-c",
            "user.name=Ann Example",
            "-c",
            "user.email=ann@example.invalid",
        ])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args);
    if let Some(d) = date {
        cmd.env("GIT_AUTHOR_DATE", d).env("GIT_COMMITTER_DATE", d);
    }
    let mut child = cmd
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("git runs");
    // Written from a thread while the output is read: git may fill its output pipes before it
    // has read all its input.
    let writer = input.zip(child.stdin.take()).map(|(data, mut stdin)| {
        let data = data.to_vec();
        std::thread::spawn(move || std::io::Write::write_all(&mut stdin, &data))
    });
    let out = child.wait_with_output().expect("git runs");
    if let Some(w) = writer {
        w.join().unwrap().expect("git reads its input");
    }
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What a [`run_watched`] child did: its exit code, output, peak memory and wall time.
pub struct Watched {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
    /// Peak resident memory of the child in KiB (`ru_maxrss` from `wait4`).
    pub peak_kib: u64,
    pub secs: f64,
}

/// Runs `cmd` (stdin null, stdout and stderr captured), kills it after `timeout`, and reaps it
/// with `wait4` to read its peak memory. Checks what every run must: it ended on its own, within
/// `timeout`, by exiting (not by a signal), without a panic.
pub fn run_watched(cmd: &mut Command, timeout: std::time::Duration) -> Watched {
    use std::process::Stdio;
    let started = std::time::Instant::now();
    // Reaped by the wait4 below, which also reads its peak memory.
    #[allow(clippy::zombie_processes)]
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        let timed_out = done_rx.recv_timeout(timeout).is_err();
        if timed_out {
            // SAFETY: pid is our child, not yet reaped (wait4 below returns only after it ends).
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        timed_out
    });
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
    let _ = done_tx.send(());
    let killed = watchdog.join().unwrap();
    assert_eq!(r, pid, "wait4");
    assert!(
        !killed,
        "{cmd:?} did not finish in {timeout:?} (a hang): {err}"
    );
    assert!(libc::WIFEXITED(status), "{cmd:?} was killed: {err}");
    assert!(!err.contains("panicked"), "{cmd:?} panicked: {err}");
    Watched {
        code: libc::WEXITSTATUS(status),
        stdout: out,
        stderr: err,
        peak_kib: usage.ru_maxrss as u64,
        secs: started.elapsed().as_secs_f64(),
    }
}

/// Runs credsweep in `cwd` with `args` and `--format json --no-config`: exit code and report.
pub fn run_json(cwd: &Path, args: &[&str]) -> (i32, serde_json::Value) {
    let out = credsweep()
        .current_dir(cwd)
        .args(args)
        .args(["--format", "json", "--no-config"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let doc = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text}\n{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), doc)
}

/// The findings of a JSON report.
pub fn findings(doc: &serde_json::Value) -> &Vec<serde_json::Value> {
    doc["findings"].as_array().unwrap()
}
