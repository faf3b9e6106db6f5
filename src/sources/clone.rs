//! Fetching a repository named by a clone URL, for `credsweep repos`: a bare mirror made by
//! `git clone --mirror`, which credsweep then scans like any local repository.
//!
//! Cloning is acquisition, not scanning: gix's https and ssh transports would add a large
//! dependency stack (TLS, HTTP, ssh process handling) for what git on the machine already does,
//! so a URL is handed to `git` itself. Local paths never need git. The clone is made safe for
//! an unattended run over untrusted lists: bare (no checkout, so no filters, no submodules, no
//! hooks that a checkout runs), hooks off, only the `file`, `https` and `ssh` protocols, no
//! prompt for a password (`GIT_TERMINAL_PROMPT=0`, ssh in batch mode), the URL after `--` so it
//! never reads as an option, and a time limit after which git is killed.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How a clone runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// After this long git is killed and the repository recorded as failed.
    pub timeout: Duration,
}

/// The most of git's error output kept for the reason a clone failed.
const MAX_STDERR: u64 = 16 << 10;

/// Why a clone or update failed, in words (git's own last lines when it said something). May
/// hold the URL as written: the caller redacts it.
#[derive(Debug, Clone)]
pub struct Error(pub String);

/// Clones `url` into a new bare mirror at `dest` (which must not exist).
pub fn mirror(url: &str, dest: &Path, opts: &Options) -> Result<(), Error> {
    let mut cmd = git();
    cmd.args(["clone", "--mirror", "--quiet", "--no-local", "--"])
        .arg(url)
        .arg(dest);
    run(cmd, opts)
}

/// Makes a mirror that is kept (`--keep-clones`) hold no credentials: its `origin` is set to
/// `plain_url` (the URL without user information); [`update`] fetches from the URL given each
/// time, not from `origin`.
pub fn forget_credentials(dest: &Path, plain_url: &str, opts: &Options) -> Result<(), Error> {
    let mut cmd = git();
    cmd.arg("--git-dir")
        .arg(dest)
        .args(["config", "remote.origin.url"])
        .arg(plain_url);
    run(cmd, opts)
}

/// Brings a mirror made by [`mirror`] (a kept one, reused) up to date with `url`, as a mirror:
/// every ref, those gone upstream pruned.
pub fn update(url: &str, dest: &Path, opts: &Options) -> Result<(), Error> {
    let mut cmd = git();
    cmd.arg("--git-dir").arg(dest).args([
        "fetch",
        "--quiet",
        "--prune",
        "--no-recurse-submodules",
        "--",
    ]);
    cmd.arg(url).arg("+refs/*:refs/*");
    run(cmd, opts)
}

/// `git` with the settings every clone and fetch runs under.
fn git() -> Command {
    let mut cmd = Command::new("git");
    for setting in [
        "core.hooksPath=/dev/null",
        "protocol.allow=never",
        "protocol.file.allow=always",
        "protocol.https.allow=always",
        "protocol.ssh.allow=always",
        "submodule.recurse=false",
    ] {
        cmd.args(["-c", setting]);
    }
    cmd.env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if std::env::var_os("GIT_SSH_COMMAND").is_none() {
        cmd.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
    }
    cmd
}

/// Runs `cmd` to its end or the time limit; git's last words on failure.
fn run(mut cmd: Command, opts: &Options) -> Result<(), Error> {
    let mut child = cmd.spawn().map_err(|e| {
        Error(format!(
            "cannot run git to clone it ({e}): install git, or clone the repository yourself and list its path"
        ))
    })?;
    let stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut kept = Vec::new();
        if let Some(mut s) = stderr {
            let _ = (&mut s).take(MAX_STDERR).read_to_end(&mut kept);
            // Drained to the end so git never blocks on a full pipe.
            let _ = std::io::copy(&mut s, &mut std::io::sink());
        }
        kept
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if started.elapsed() >= opts.timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(Error(format!(
                    "git did not finish within {} s (--clone-timeout)",
                    opts.timeout.as_secs()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => break Err(Error(format!("cannot wait for git: {e}"))),
        }
    };
    let said = reader.join().unwrap_or_default();
    let status = status?;
    if status.success() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&said);
    let last: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let tail = last[last.len().saturating_sub(3)..].join(" / ");
    Err(Error(if tail.is_empty() {
        format!("git failed ({status})")
    } else {
        format!("git failed: {tail}")
    }))
}
