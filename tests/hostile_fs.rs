//! Hostile files among those credsweep reads and writes for itself (issue 17): ignore files,
//! git's own files under `.git`, the baseline, `.gitattributes`, `-o` reports and hooks. Each
//! test builds a small hostile repository in a temporary directory and checks that credsweep
//! ends in bounded time and memory with the right exit status, finds the secret or names the
//! file it refused, and changes nothing outside the repository.
//!
//! Every credential here is fake (note the `FAKE` tail).

mod common;

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::{git, write};
use tempfile::TempDir;

const TOKEN: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE";

fn env_file() -> String {
    format!("export VOBIZ_AUTH_TOKEN={TOKEN}\n")
}

/// A run is killed after this long: far more than any of these scans needs on a loaded machine.
const TIMEOUT: Duration = Duration::from_secs(60);
/// Peak resident memory any run here may reach (a scan of a small tree needs a few MiB; the
/// defects this guards against reached gigabytes).
const MAX_RSS_KIB: u64 = 200 * 1024;

/// What one run of credsweep did.
struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Outcome {
    fn text(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs credsweep in `cwd` with `args`, with `home` as HOME and no git configuration but the
/// repository's; kills it after [`TIMEOUT`]. Checks what every run must: it ended on its own,
/// within the time and memory bounds, with 0, 1 or 2, without a panic.
fn run(cwd: &Path, home: &Path, args: &[&OsStr]) -> Outcome {
    let w = common::run_watched(
        Command::new(assert_cmd::cargo::cargo_bin("credsweep"))
            .current_dir(cwd)
            .args(args)
            .env("HOME", home)
            .env_remove("XDG_CONFIG_HOME")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1"),
        TIMEOUT,
    );
    let o = Outcome {
        code: w.code,
        stdout: String::from_utf8_lossy(&w.stdout).into_owned(),
        stderr: w.stderr,
    };
    assert!((0..=2).contains(&o.code), "{args:?}: {}", o.text());
    assert!(
        w.peak_kib < MAX_RSS_KIB,
        "credsweep {args:?}: peak RSS {} MiB",
        w.peak_kib / 1024
    );
    o
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(ok.success(), "mkfifo {}", path.display());
}

/// A file outside the repository that nothing may change; returns its path.
fn victim(outside: &Path) -> PathBuf {
    write(outside, "victim.txt", "the victim's own content\n")
}

fn assert_victim_intact(v: &Path) {
    let meta = fs::symlink_metadata(v).unwrap();
    assert!(meta.is_file(), "{} is no longer a file", v.display());
    assert_eq!(meta.permissions().mode() & 0o777, 0o644, "victim's mode");
    assert_eq!(
        fs::read_to_string(v).unwrap(),
        "the victim's own content\n",
        "{} was written to",
        v.display()
    );
}

/// What an ignore file is made into.
#[derive(Debug, Clone, Copy)]
enum Hostile {
    /// A symbolic link to `/dev/zero`.
    DevZero,
    /// A FIFO (nothing ever writes to it).
    Fifo,
    /// A regular file over the size limit whose first line would ignore the token's file.
    Huge,
}

impl Hostile {
    const ALL: [Hostile; 3] = [Hostile::DevZero, Hostile::Fifo, Hostile::Huge];

    fn plant(self, path: &Path) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let _ = fs::remove_file(path);
        match self {
            Hostile::DevZero => symlink("/dev/zero", path).unwrap(),
            Hostile::Fifo => mkfifo(path),
            Hostile::Huge => {
                let mut text = String::from("*.env\n");
                while text.len() < 300 << 10 {
                    text.push_str("# a comment line that pads the ignore file past the limit\n");
                }
                fs::write(path, text).unwrap();
            }
        }
    }

    /// What the report's note says about the file; `followed` for files git follows links to
    /// (`info/exclude`, the global excludes file).
    fn said(self, followed: bool) -> &'static str {
        match self {
            Hostile::DevZero if followed => "character device",
            Hostile::DevZero => "symbolic link",
            Hostile::Fifo => "FIFO",
            Hostile::Huge => "bytes, more than",
        }
    }
}

/// Where an ignore file is, for a repository at `repo` and a home directory at `home`.
fn ignore_file_path(kind: &str, repo: &Path, home: &Path) -> PathBuf {
    match kind {
        "global" => home.join(".config/git/ignore"),
        k => repo.join(k),
    }
}

// ---------------------------------------------------------------------------------------------
// 17.1 Ignore files
// ---------------------------------------------------------------------------------------------

/// Every kind of ignore file, made a link to /dev/zero, a FIFO or a huge file, is not used (and
/// named in a note), and the scan goes on and finds the token it would have ignored. A regular
/// ignore file in the same place does leave the token out, so each case tests the real file.
#[test]
fn hostile_ignore_files_are_noted_and_not_used() {
    let outside = TempDir::new().unwrap();
    let v = victim(outside.path());
    for kind in [
        ".gitignore",
        ".ignore",
        "sub/.gitignore",
        ".git/info/exclude",
        "global",
    ] {
        let home = TempDir::new().unwrap();
        let d = TempDir::new().unwrap();
        let repo = d.path().join("repo");
        fs::create_dir(&repo).unwrap();
        git(&repo, &["init", "-q"]);
        write(&repo, "sub/app.env", env_file());
        let file = ignore_file_path(kind, &repo, home.path());

        // The control: a regular ignore file there leaves the token out.
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(&file, "*.env\n").unwrap();
        let o = run(d.path(), home.path(), &[os("dir"), os("repo")]);
        assert_eq!(
            o.code,
            0,
            "{kind} (regular) must ignore app.env: {}",
            o.text()
        );

        for hostile in Hostile::ALL {
            hostile.plant(&file);
            let started = Instant::now();
            let o = run(
                d.path(),
                home.path(),
                &[os("dir"), os("repo"), os("--format"), os("json")],
            );
            let elapsed = started.elapsed();
            assert_eq!(o.code, 1, "{kind} as {hostile:?}: {}", o.text());
            let doc: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
            assert_eq!(
                doc["findings"][0]["path"],
                "repo/sub/app.env",
                "{}",
                o.text()
            );
            let notes = doc["summary"]["notes"].to_string();
            let name = if kind == "global" {
                file.display().to_string()
            } else {
                format!("repo/{kind}")
            };
            assert!(
                notes.contains(&name)
                    && notes.contains(hostile.said(kind.contains("exclude") || kind == "global")),
                "{kind} as {hostile:?}: the note must name the file and why: {notes}"
            );
            eprintln!("{kind} as {hostile:?}: {elapsed:?}");
        }
    }
    assert_victim_intact(&v);
}

/// A `.gitignore` that is a link to a regular file is not followed (git does not follow it
/// either since 2.32): its patterns do not apply, and a note says so.
#[test]
fn a_gitignore_link_to_a_regular_file_is_not_followed() {
    let home = TempDir::new().unwrap();
    let d = TempDir::new().unwrap();
    let rules = write(d.path(), "outside/ignore-all", "*\n");
    write(d.path(), "repo/app.env", env_file());
    symlink(&rules, d.path().join("repo/.gitignore")).unwrap();
    let o = run(d.path(), home.path(), &[os("dir"), os("repo")]);
    assert_eq!(o.code, 1, "{}", o.text());
    assert!(
        o.stdout.contains("repo/.gitignore is a symbolic link"),
        "{}",
        o.text()
    );
}

// ---------------------------------------------------------------------------------------------
// 17.3 git's own files
// ---------------------------------------------------------------------------------------------

/// A repository with a token committed, a packed ref, a linked worktree and an index.
fn repo_with_history(d: &Path) -> PathBuf {
    let repo = d.join("repo");
    fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    write(&repo, "app.env", env_file());
    git(&repo, &["add", "app.env"]);
    git(&repo, &["commit", "-q", "-m", "add config"]);
    git(&repo, &["tag", "v1"]);
    git(&repo, &["pack-refs", "--all"]);
    // A loose ref as well as the packed ones.
    git(&repo, &["commit", "-q", "--allow-empty", "-m", "later"]);
    git(&repo, &["worktree", "add", "-q", "../wt"]);
    write(&repo, "staged.env", env_file().replace("FAKE", "FAKF"));
    git(&repo, &["add", "staged.env"]);
    repo
}

/// Each of git's files that gix reads, as a FIFO or a link to /dev/zero (and HEAD as a huge
/// file), makes `git`, `staged` and `install-hook` fail at once with exit 2, naming the file.
#[test]
fn hostile_files_under_dot_git_are_refused_by_name() {
    let home = TempDir::new().unwrap();
    let d = TempDir::new().unwrap();
    let repo = repo_with_history(d.path());
    let wt = d.path().join("wt");

    // The control: the repository as git made it scans.
    let o = run(
        d.path(),
        home.path(),
        &[os("git"), os("repo"), os("--quiet")],
    );
    assert_eq!(o.code, 1, "{}", o.text());
    let o = run(
        d.path(),
        home.path(),
        &[os("staged"), os("--repo"), os("repo"), os("--quiet")],
    );
    assert_eq!(o.code, 1, "{}", o.text());

    fs::write(repo.join(".git/shallow"), "").unwrap();
    fs::write(repo.join(".git/objects/info/alternates"), "").unwrap();
    fs::write(repo.join(".git/commondir"), ".\n").unwrap();
    let files = [
        ".git/config",
        ".git/HEAD",
        ".git/packed-refs",
        ".git/objects/info/alternates",
        ".git/shallow",
        ".git/commondir",
        ".git/refs/heads/main",
        ".git/index",
        ".git/worktrees/wt/HEAD",
        ".git/worktrees/wt/commondir",
    ];
    for rel in files {
        let file = repo.join(rel);
        let saved = fs::read(&file).unwrap();
        for hostile in [Hostile::Fifo, Hostile::DevZero] {
            hostile.plant(&file);
            let commands: [&[&OsStr]; 4] = [
                &[os("git"), os("repo"), os("--quiet")],
                &[os("staged"), os("--repo"), os("repo"), os("--quiet")],
                &[os("git"), wt.as_os_str(), os("--quiet")],
                &[os("install-hook"), os("--repo"), os("repo")],
            ];
            for args in commands {
                let o = run(d.path(), home.path(), args);
                assert_eq!(o.code, 2, "{rel} as {hostile:?}, {args:?}: {}", o.text());
                assert!(
                    o.stderr
                        .contains(rel.trim_start_matches('.').trim_start_matches('/'))
                        && o.stderr.contains(if matches!(hostile, Hostile::Fifo) {
                            "a FIFO"
                        } else {
                            "a character device"
                        }),
                    "{rel} as {hostile:?}, {args:?}: the error must name the file: {}",
                    o.text()
                );
            }
        }
        fs::remove_file(&file).unwrap();
        fs::write(&file, saved).unwrap();
    }
    assert!(
        !repo.join(".git/hooks/pre-commit").exists(),
        "install-hook wrote into a repository it refused"
    );

    // A HEAD of a megabyte is not read.
    let head = repo.join(".git/HEAD");
    let saved = fs::read(&head).unwrap();
    fs::write(&head, "ref: refs/heads/main\n".repeat(50_000)).unwrap();
    let o = run(
        d.path(),
        home.path(),
        &[os("git"), os("repo"), os("--quiet")],
    );
    assert_eq!(o.code, 2, "{}", o.text());
    assert!(o.stderr.contains("HEAD is 1050000 bytes"), "{}", o.text());
    fs::write(&head, saved).unwrap();

    // Restored, the repository scans again: each file was checked, not the repository broken.
    let o = run(
        d.path(),
        home.path(),
        &[os("git"), os("repo"), os("--quiet")],
    );
    assert_eq!(o.code, 1, "{}", o.text());
}

/// `GIT_INDEX_FILE` naming a FIFO fails `staged` at once, naming it.
#[test]
fn an_index_file_that_is_a_fifo_is_refused() {
    let d = TempDir::new().unwrap();
    let repo = repo_with_history(d.path());
    let fifo = d.path().join("index.fifo");
    mkfifo(&fifo);
    let o = common::credsweep()
        .current_dir(&repo)
        .env("GIT_INDEX_FILE", &fifo)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(["staged", "--quiet"])
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("index.fifo is a FIFO"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// 17.9 Files credsweep writes: the baseline, .gitattributes, -o reports
// ---------------------------------------------------------------------------------------------

#[test]
fn baseline_add_and_reports_never_write_through_links() {
    let home = TempDir::new().unwrap();
    let d = TempDir::new().unwrap();
    let v = victim(d.path());
    let repo = d.path().join("repo");
    write(&repo, "app.env", env_file());
    let baseline = repo.join(".credsweep-baseline.toml");
    let attrs = repo.join(".gitattributes");
    let add = [os("baseline"), os("add"), os("repo")];

    // .gitattributes linking out of the repository: refused, the victim keeps its content.
    symlink(&v, &attrs).unwrap();
    let o = run(d.path(), home.path(), &add);
    assert_eq!(o.code, 2, "{}", o.text());
    assert!(
        o.stderr.contains(".gitattributes") && o.stderr.contains("symbolic link"),
        "{}",
        o.text()
    );
    assert_victim_intact(&v);
    assert!(
        !baseline.exists(),
        "the baseline was written before the refusal"
    );
    fs::remove_file(&attrs).unwrap();

    // .gitattributes as a FIFO: refused without blocking.
    mkfifo(&attrs);
    let o = run(d.path(), home.path(), &add);
    assert_eq!(o.code, 2, "{}", o.text());
    assert!(o.stderr.contains("FIFO"), "{}", o.text());
    assert!(
        !baseline.exists(),
        "the baseline was written before the refusal"
    );
    fs::remove_file(&attrs).unwrap();

    // A dangling baseline link: its target is not created.
    let target = d.path().join("created-outside.toml");
    symlink(&target, &baseline).unwrap();
    let o = run(d.path(), home.path(), &add);
    assert_eq!(o.code, 2, "{}", o.text());
    assert!(o.stderr.contains("symbolic link"), "{}", o.text());
    assert!(!target.exists(), "the link's target was created");
    fs::remove_file(&baseline).unwrap();

    // A baseline linking to the victim: it is read (it is not a baseline: an error), never
    // written.
    symlink(&v, &baseline).unwrap();
    let o = run(d.path(), home.path(), &add);
    assert_eq!(o.code, 2, "{}", o.text());
    assert_victim_intact(&v);
    fs::remove_file(&baseline).unwrap();

    // The control: with plain files, baseline add writes both.
    let o = run(d.path(), home.path(), &add);
    assert_eq!(o.code, 0, "{}", o.text());
    assert!(
        fs::read_to_string(&baseline)
            .unwrap()
            .contains("vobiz-auth-token")
    );
    assert!(
        fs::read_to_string(&attrs)
            .unwrap()
            .contains(".credsweep-baseline.toml merge=union")
    );

    // -o naming a link or a FIFO: refused, nothing written through it.
    let report = repo.join("report.json");
    symlink(&v, &report).unwrap();
    let o = run(
        d.path(),
        home.path(),
        &[
            os("dir"),
            os("repo"),
            os("--no-config"),
            os("-o"),
            report.as_os_str(),
        ],
    );
    assert_eq!(o.code, 2, "{}", o.text());
    assert!(o.stderr.contains("symbolic link"), "{}", o.text());
    assert_victim_intact(&v);
    fs::remove_file(&report).unwrap();
    mkfifo(&report);
    let o = run(
        d.path(),
        home.path(),
        &[os("dir"), os("repo"), os("-o"), report.as_os_str()],
    );
    assert_eq!(o.code, 2, "{}", o.text());
    assert!(o.stderr.contains("FIFO"), "{}", o.text());
}

// ---------------------------------------------------------------------------------------------
// 17.8, 17.13, 17.14 Hooks
// ---------------------------------------------------------------------------------------------

/// A repository whose `core.hooksPath` is a committed `.githooks` directory.
fn repo_with_hooks_path(d: &Path) -> (PathBuf, PathBuf) {
    let repo = d.join("repo");
    fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    git(&repo, &["config", "core.hooksPath", ".githooks"]);
    let hooks = repo.join(".githooks");
    fs::create_dir(&hooks).unwrap();
    (repo, hooks)
}

fn assert_our_hook(p: &Path) {
    let meta = fs::symlink_metadata(p).unwrap();
    assert!(meta.is_file(), "{} is not a regular file", p.display());
    assert_eq!(meta.permissions().mode() & 0o777, 0o755);
    assert!(fs::read_to_string(p).unwrap().contains("credsweep-hook"));
}

/// Links planted under the names a temporary hook file could have are never written through,
/// and an existing hook that is a link is moved aside as a link, not written to.
#[test]
fn install_hook_never_writes_through_a_planted_link() {
    let home = TempDir::new().unwrap();
    let d = TempDir::new().unwrap();
    let v = victim(d.path());
    let (_repo, hooks) = repo_with_hooks_path(d.path());
    for name in [
        ".pre-commit.credsweep-tmp",
        ".pre-push.credsweep-tmp",
        "pre-commit.tmp",
        "pre-push.lock",
    ] {
        symlink(&v, hooks.join(name)).unwrap();
    }
    let o = run(
        d.path(),
        home.path(),
        &[
            os("install-hook"),
            os("--pre-push"),
            os("--repo"),
            os("repo"),
        ],
    );
    assert_eq!(o.code, 0, "{}", o.text());
    assert_victim_intact(&v);
    assert_our_hook(&hooks.join("pre-commit"));
    assert_our_hook(&hooks.join("pre-push"));
    assert_eq!(
        fs::read_link(hooks.join(".pre-commit.credsweep-tmp")).unwrap(),
        v,
        "the planted link was touched"
    );

    // A hook that is a link to the victim is chained by moving the link, then put back.
    let (_repo2, hooks2) = {
        let d2 = d.path().join("second");
        fs::create_dir(&d2).unwrap();
        repo_with_hooks_path(&d2)
    };
    symlink(&v, hooks2.join("pre-commit")).unwrap();
    let second = d.path().join("second");
    let o = run(
        &second,
        home.path(),
        &[os("install-hook"), os("--repo"), os("repo")],
    );
    assert_eq!(o.code, 0, "{}", o.text());
    assert_victim_intact(&v);
    assert_our_hook(&hooks2.join("pre-commit"));
    assert_eq!(
        fs::read_link(hooks2.join("pre-commit.credsweep-chained")).unwrap(),
        v
    );
    let o = run(
        &second,
        home.path(),
        &[os("uninstall-hook"), os("--repo"), os("repo")],
    );
    assert_eq!(o.code, 0, "{}", o.text());
    assert_eq!(fs::read_link(hooks2.join("pre-commit")).unwrap(), v);
    assert_victim_intact(&v);
}

/// Whatever is in the way of a temporary file does not cost the hook that was there, and a
/// rerun repairs what an interrupted install left (the old hook set aside, no new one yet).
#[test]
fn install_hook_keeps_the_old_hook_on_failure_and_a_rerun_repairs() {
    let home = TempDir::new().unwrap();
    let d = TempDir::new().unwrap();
    let (_repo, hooks) = repo_with_hooks_path(d.path());
    let original = "#!/bin/sh\necho the team's own hook\n";
    write(&hooks, "pre-commit", original);
    // A directory where the old installer wrote its temporary file.
    fs::create_dir(hooks.join(".pre-commit.credsweep-tmp")).unwrap();
    let install = [os("install-hook"), os("--repo"), os("repo")];
    let o = run(d.path(), home.path(), &install);
    assert_eq!(o.code, 0, "{}", o.text());
    assert_our_hook(&hooks.join("pre-commit"));
    assert_eq!(
        fs::read_to_string(hooks.join("pre-commit.credsweep-chained")).unwrap(),
        original
    );

    // What an interrupted install leaves: the old hook set aside and no hook. A rerun installs
    // the hook, which chains to the one set aside.
    fs::remove_file(hooks.join("pre-commit")).unwrap();
    let o = run(d.path(), home.path(), &install);
    assert_eq!(o.code, 0, "{}", o.text());
    assert_our_hook(&hooks.join("pre-commit"));
    assert_eq!(
        fs::read_to_string(hooks.join("pre-commit.credsweep-chained")).unwrap(),
        original
    );

    // Writing the new hook fails (the directory is read-only): the old hook stays in place.
    // Root writes anyway, so this part needs an ordinary user.
    if unsafe { libc::geteuid() } != 0 {
        let (_r, hooks3) = {
            let d3 = d.path().join("third");
            fs::create_dir(&d3).unwrap();
            repo_with_hooks_path(&d3)
        };
        write(&hooks3, "pre-commit", original);
        fs::set_permissions(&hooks3, fs::Permissions::from_mode(0o555)).unwrap();
        let o = run(&d.path().join("third"), home.path(), &install);
        fs::set_permissions(&hooks3, fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(o.code, 2, "{}", o.text());
        assert_eq!(
            fs::read_to_string(hooks3.join("pre-commit")).unwrap(),
            original
        );
        assert!(!hooks3.join("pre-commit.credsweep-chained").exists());
    }
}

/// A remote named like an option (`--max-file-size=1`) is passed after `--`: it cannot shrink
/// the scan, and the push of a token is blocked.
#[test]
fn pre_push_hook_passes_the_remote_after_double_dash() {
    let home = TempDir::new().unwrap();
    let d = TempDir::new().unwrap();
    let repo = d.path().join("repo");
    fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    write(&repo, "app.env", env_file());
    git(&repo, &["add", "app.env"]);
    git(&repo, &["commit", "-q", "-m", "add config"]);
    let remote = d.path().join("remote.git");
    git(d.path(), &["init", "-q", "--bare", "remote.git"]);
    git(
        &repo,
        &[
            "config",
            "remote.--max-file-size=1.url",
            remote.to_str().unwrap(),
        ],
    );
    let o = run(
        d.path(),
        home.path(),
        &[
            os("install-hook"),
            os("--pre-push"),
            os("--repo"),
            os("repo"),
        ],
    );
    assert_eq!(o.code, 0, "{}", o.text());

    let push: Output = Command::new("git")
        .current_dir(&repo)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", home.path())
        .args(["push", "--", "--max-file-size=1", "main"])
        .output()
        .unwrap();
    let err = format!(
        "{}{}",
        String::from_utf8_lossy(&push.stdout),
        String::from_utf8_lossy(&push.stderr)
    );
    assert!(
        !push.status.success(),
        "the push of a token went through: {err}"
    );
    assert!(err.contains("Push blocked"), "{err}");
    let refs = git(&remote, &["for-each-ref"]);
    assert!(refs.is_empty(), "the remote received {refs}");
    let script = fs::read_to_string(repo.join(".git/hooks/pre-push")).unwrap();
    assert!(script.contains("pre-push --quiet -- \"$@\""), "{script}");

    // credsweep pre-push takes the remote after `--` as the remote, not as an option.
    let head = git(&repo, &["rev-parse", "HEAD"]);
    let o = common::credsweep()
        .current_dir(&repo)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(["pre-push", "--quiet", "--", "--max-file-size=1", "url"])
        .write_stdin(format!(
            "refs/heads/main {} refs/heads/main {}\n",
            head.trim(),
            "0".repeat(40)
        ))
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
