//! Scaffolding the integration tests share: the binary under test, files in temporary trees, and
//! git run isolated from the machine's configuration. Each test file uses only some of it.
#![allow(dead_code)]

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
    run_git(dir, args, None)
}

/// [`git`] with the author and committer dates set to `date` (git's date formats, e.g.
/// `2024-03-01T12:00:00Z` or `@1700000000 +0000`).
pub fn git_at(dir: &Path, args: &[&str], date: &str) -> String {
    run_git(dir, args, Some(date))
}

fn run_git(dir: &Path, args: &[&str], date: Option<&str>) -> String {
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
    let out = cmd.output().expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
