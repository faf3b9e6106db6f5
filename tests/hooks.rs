//! Git hooks end to end: `credsweep install-hook` / `uninstall-hook` with plain git, and the
//! pre-commit framework (the real one, `pre-commit` on PATH) running this repository's hooks.
//!
//! Every repository, remote and home directory here is a fresh temporary directory: the
//! project's own `.credsweep.toml` (which allows fake tokens) must not apply. Every credential is
//! fake (note the `FAKE` tails), shaped like the real thing.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_credsweep");
const TOKEN_OLD: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE";
const TOKEN_NEW: &str = "sk_live_9Qm2Zr7TkW4pXv8Ln3Bc6Hd1FAKE";
/// How the report shows each token: redacted to its prefix, two characters and the last four.
const SHOWN_OLD: &str = "sk_live_4e…FAKE";
const SHOWN_NEW: &str = "sk_live_9Q…FAKE";

fn env_line(token: &str) -> String {
    format!("VOBIZ_AUTH_TOKEN={token}\n")
}

/// A sandbox: a home directory (git's global config, pre-commit's cache) and repositories in it.
struct Sandbox {
    dir: TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let s = Sandbox {
            dir: TempDir::new().unwrap(),
        };
        fs::create_dir_all(s.home()).unwrap();
        s
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// `program` run in `dir` with a hermetic environment: no user or system git config, no
    /// inherited git or pre-commit variables, a fixed identity.
    fn cmd(&self, program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> Command {
        let mut c = Command::new(program);
        c.current_dir(dir)
            .env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.home().join(".config"))
            .env("PRE_COMMIT_HOME", self.home().join(".cache/pre-commit"))
            .env("PRE_COMMIT_COLOR", "never")
            .env("NO_COLOR", "1")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Ada Lovelace")
            .env("GIT_AUTHOR_EMAIL", "ada@example.com")
            .env("GIT_COMMITTER_NAME", "Ada Lovelace")
            .env("GIT_COMMITTER_EMAIL", "ada@example.com")
            .env("GIT_TERMINAL_PROMPT", "0")
            .stdin(Stdio::null());
        for v in [
            "GIT_CONFIG_GLOBAL",
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
            "GIT_OBJECT_DIRECTORY",
            "PRE_COMMIT",
            "PRE_COMMIT_FROM_REF",
            "PRE_COMMIT_TO_REF",
            "PRE_COMMIT_LOCAL_BRANCH",
            "PRE_COMMIT_REMOTE_BRANCH",
            "PRE_COMMIT_REMOTE_NAME",
            "PRE_COMMIT_REMOTE_URL",
            "SKIP",
        ] {
            c.env_remove(v);
        }
        c
    }

    /// A new repository at `name` with one clean commit.
    fn repo(&self, name: &str) -> Repo<'_> {
        let path = self.dir.path().join(name);
        fs::create_dir_all(&path).unwrap();
        let r = Repo { sb: self, path };
        r.ok(&["init", "-q", "-b", "main", "."]);
        r.write("README.md", "# demo\n");
        r.ok(&["add", "-A"]);
        r.ok(&["commit", "-q", "--no-verify", "-m", "initial"]);
        r
    }

    /// A bare repository at `name`, to push to.
    fn bare(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        let out = self
            .cmd("git", self.dir.path())
            .args(["init", "-q", "--bare", "-b", "main"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        path
    }
}

struct Repo<'a> {
    sb: &'a Sandbox,
    path: PathBuf,
}

/// stdout and stderr together, as a person at the terminal sees a hook's messages.
fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

impl Repo<'_> {
    fn git(&self, args: &[&str]) -> Output {
        self.sb.cmd("git", &self.path).args(args).output().unwrap()
    }

    /// Runs git and insists it succeeds; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.git(args);
        assert!(out.status.success(), "git {args:?} failed:\n{}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn credsweep(&self, args: &[&str]) -> Output {
        self.sb.cmd(BIN, &self.path).args(args).output().unwrap()
    }

    fn write(&self, rel: &str, content: &str) {
        let p = self.path.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }

    fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path.join(rel)).unwrap()
    }

    /// `git commit` as a person runs it (hooks on); returns the output.
    fn commit(&self, msg: &str) -> Output {
        self.git(&["commit", "-q", "-m", msg])
    }

    fn head(&self) -> String {
        self.ok(&["rev-parse", "HEAD"]).trim().to_string()
    }

    fn hooks(&self) -> PathBuf {
        self.path.join(".git/hooks")
    }
}

/// Asserts `out` is a commit or push blocked by credsweep over `shown` in `file`.
fn assert_blocked(out: &Output, file: &str, shown: &str) {
    let t = text(out);
    assert_eq!(out.status.code(), Some(1), "expected a block:\n{t}");
    assert!(t.contains(file), "file {file} not named:\n{t}");
    assert!(t.contains("vobiz-auth-token"), "rule not named:\n{t}");
    assert!(t.contains(shown), "redacted secret {shown} not shown:\n{t}");
    assert!(
        !t.contains(TOKEN_OLD) && !t.contains(TOKEN_NEW),
        "a secret leaked in full:\n{t}"
    );
}

fn assert_passed(out: &Output) {
    assert!(out.status.success(), "expected a pass:\n{}", text(out));
}

fn install(r: &Repo<'_>, args: &[&str]) -> String {
    let mut a = vec!["install-hook"];
    a.extend_from_slice(args);
    let out = r.credsweep(&a);
    assert!(out.status.success(), "install-hook failed:\n{}", text(&out));
    text(&out)
}

fn executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn write_hook(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, body).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

// ---------------------------------------------------------------------------------------------
// install-hook with plain git

#[test]
fn installed_hook_blocks_a_staged_token_and_passes_a_clean_commit() {
    let sb = Sandbox::new();
    let r = sb.repo("app");
    let said = install(&r, &[]);
    let hook = r.hooks().join("pre-commit");
    assert!(executable(&hook), "{said}");
    assert!(said.contains(&hook.display().to_string()), "{said}");
    let script = fs::read_to_string(&hook).unwrap();
    // Calls this very binary by absolute path, with `credsweep` on PATH as the fallback.
    let exe = Path::new(BIN).canonicalize().unwrap();
    assert!(script.contains(&exe.display().to_string()), "{script}");
    assert!(!r.hooks().join("pre-push").exists());

    r.write("config/.env", &format!("# vobiz\n{}", env_line(TOKEN_OLD)));
    r.ok(&["add", "config/.env"]);
    let before = r.head();
    let out = r.commit("add env");
    assert_blocked(&out, "config/.env", SHOWN_OLD);
    let t = text(&out);
    assert!(t.contains("2:18"), "line and column not named:\n{t}");
    assert!(t.contains("Commit blocked"), "{t}");
    assert!(t.contains("rotate"), "{t}");
    assert!(t.contains("credsweep:allow"), "{t}");
    assert!(t.contains("git commit --no-verify"), "{t}");
    assert!(
        !t.contains("SKIP="),
        "pre-commit advice outside pre-commit:\n{t}"
    );
    assert_eq!(r.head(), before, "the commit was made");

    // Fixed: the commit goes through.
    r.write("config/.env", "VOBIZ_AUTH_TOKEN=${VOBIZ_AUTH_TOKEN}\n");
    r.ok(&["add", "config/.env"]);
    assert_passed(&r.commit("env from the environment"));
    assert_ne!(r.head(), before);
}

#[test]
fn installed_hook_judges_what_git_commits_not_the_work_tree() {
    let sb = Sandbox::new();
    let r = sb.repo("app");
    install(&r, &[]);

    // Staged with a token, then the token removed from the file but not staged: the commit
    // would hold it.
    r.write("app.env", &env_line(TOKEN_OLD));
    r.ok(&["add", "app.env"]);
    r.write("app.env", "VOBIZ_AUTH_TOKEN=\n");
    assert_blocked(&r.commit("partial"), "app.env", SHOWN_OLD);

    // Staged clean, then a token written into the file but not staged: the commit is clean.
    r.ok(&["add", "app.env"]);
    r.write("app.env", &env_line(TOKEN_OLD));
    assert_passed(&r.commit("clean staged"));
    assert!(r.read("app.env").contains(TOKEN_OLD));

    // `git commit -a` and `git commit PATH` commit from a temporary index (GIT_INDEX_FILE).
    assert_blocked(
        &r.git(&["commit", "-q", "-a", "-m", "all"]),
        "app.env",
        SHOWN_OLD,
    );
    assert_blocked(
        &r.git(&["commit", "-q", "-m", "path", "app.env"]),
        "app.env",
        SHOWN_OLD,
    );
    r.write("other.txt", "hello\n");
    r.ok(&["add", "other.txt"]);
    assert_passed(&r.git(&["commit", "-q", "-m", "other only", "other.txt"]));
}

#[test]
fn installed_hook_says_when_nothing_is_staged_and_blocks_when_it_cannot_read() {
    let sb = Sandbox::new();
    let r = sb.repo("app");
    install(&r, &[]);
    let out = r.credsweep(&["staged"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("nothing staged"), "{}", text(&out));
    // `git commit --allow-empty` runs the hook with nothing staged.
    assert_passed(&r.git(&["commit", "-q", "--allow-empty", "-m", "empty"]));

    // A damaged index: the hook exits 2 and the commit is blocked, never passed blind.
    r.write("a.txt", "a\n");
    r.ok(&["add", "a.txt"]);
    let index = r.path.join(".git/index");
    let mut bytes = fs::read(&index).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0xff;
    bytes.truncate(n - 7);
    fs::write(&index, bytes).unwrap();
    let out = r.credsweep(&["staged"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    // The installed hook passes that on (`git commit` itself may rewrite the index first, so
    // the hook is run as git runs it, from the top of the work tree).
    let out = sb
        .cmd(r.hooks().join("pre-commit"), &r.path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("cannot read the index"),
        "{}",
        text(&out)
    );

    // A GIT_INDEX_FILE that does not exist is an error too, not an empty index.
    let out = sb
        .cmd(BIN, &r.path)
        .arg("staged")
        .env("GIT_INDEX_FILE", r.path.join(".git/no-such-index"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn installed_hook_fails_closed_when_credsweep_is_missing() {
    let sb = Sandbox::new();
    let r = sb.repo("app");
    // Install from a copy of the binary, then delete the copy.
    let copy = sb.dir.path().join("bin/credsweep");
    fs::create_dir_all(copy.parent().unwrap()).unwrap();
    fs::copy(BIN, &copy).unwrap();
    let out = sb.cmd(&copy, &r.path).arg("install-hook").output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    fs::remove_file(&copy).unwrap();
    // PATH without any credsweep on it.
    let path: Vec<PathBuf> = std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .filter(|d| !d.join("credsweep").exists())
        .collect();
    r.write("clean.txt", "nothing secret\n");
    r.ok(&["add", "clean.txt"]);
    let out = sb
        .cmd("git", &r.path)
        .args(["commit", "-q", "-m", "clean"])
        .env("PATH", std::env::join_paths(path).unwrap())
        .output()
        .unwrap();
    let t = text(&out);
    assert!(!out.status.success(), "a commit passed unscanned:\n{t}");
    assert!(t.contains("cannot find credsweep"), "{t}");
    assert!(t.contains("--no-verify"), "{t}");
}

#[test]
fn install_chains_an_existing_hook_and_uninstall_restores_it() {
    let sb = Sandbox::new();
    let r = sb.repo("app");
    let ran = sb.dir.path().join("old-hook-ran");
    let old_hook = format!(
        "#!/bin/sh\n# the team's own hook\necho \"old hook $#\" >> '{}'\n[ ! -e \"$(git rev-parse --show-toplevel)/BLOCK\" ]\n",
        ran.display()
    );
    let hook = r.hooks().join("pre-commit");
    write_hook(&hook, &old_hook);

    let said = install(&r, &[]);
    assert!(said.contains("credsweep-chained"), "{said}");
    let chained = r.hooks().join("pre-commit.credsweep-chained");
    assert_eq!(fs::read_to_string(&chained).unwrap(), old_hook);
    assert!(executable(&chained));

    // A clean commit: both hooks run, the commit is made.
    r.write("a.txt", "a\n");
    r.ok(&["add", "a.txt"]);
    assert_passed(&r.commit("a"));
    assert_eq!(fs::read_to_string(&ran).unwrap(), "old hook 0\n");

    // The old hook's failure still blocks a clean commit.
    r.write("BLOCK", "\n");
    r.write("b.txt", "b\n");
    r.ok(&["add", "b.txt"]);
    let out = r.commit("b");
    assert!(!out.status.success(), "{}", text(&out));
    fs::remove_file(r.path.join("BLOCK")).unwrap();

    // A token blocks even though the old hook passes; both ran.
    fs::remove_file(&ran).unwrap();
    r.write("c.env", &env_line(TOKEN_OLD));
    r.ok(&["add", "c.env"]);
    assert_blocked(&r.commit("c"), "c.env", SHOWN_OLD);
    assert_eq!(fs::read_to_string(&ran).unwrap(), "old hook 0\n");

    // Installing again updates credsweep's hook in place; the chained one stays as it was.
    let said = install(&r, &[]);
    assert!(said.contains("updated"), "{said}");
    assert_eq!(fs::read_to_string(&chained).unwrap(), old_hook);

    // Uninstall puts the team's hook back, byte for byte, and credsweep no longer runs.
    let out = r.credsweep(&["uninstall-hook"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("restored"), "{}", text(&out));
    assert_eq!(fs::read_to_string(&hook).unwrap(), old_hook);
    assert!(executable(&hook));
    assert!(!chained.exists());
    assert_passed(&r.commit("c without credsweep"));

    // Uninstalling again leaves the team's hook alone.
    let out = r.credsweep(&["uninstall-hook"]);
    assert!(out.status.success());
    assert!(
        text(&out).contains("not credsweep's hook"),
        "{}",
        text(&out)
    );
    assert_eq!(fs::read_to_string(&hook).unwrap(), old_hook);
}

#[test]
fn install_force_replaces_and_uninstall_restores_or_removes() {
    let sb = Sandbox::new();
    let r = sb.repo("app");
    let old_hook = "#!/bin/sh\nexit 0\n";
    let hook = r.hooks().join("pre-commit");
    write_hook(&hook, old_hook);
    let said = install(&r, &["--force"]);
    assert!(said.contains("credsweep-replaced"), "{said}");
    assert!(!r.hooks().join("pre-commit.credsweep-chained").exists());
    assert!(fs::read_to_string(&hook).unwrap().contains("credsweep"));
    let out = r.credsweep(&["uninstall-hook"]);
    assert!(out.status.success());
    assert_eq!(fs::read_to_string(&hook).unwrap(), old_hook);

    // On a repository that had no hook, uninstall leaves none.
    fs::remove_file(&hook).unwrap();
    install(&r, &["--pre-push"]);
    assert!(executable(&r.hooks().join("pre-push")));
    let out = r.credsweep(&["uninstall-hook"]);
    assert!(out.status.success());
    assert!(!hook.exists());
    assert!(!r.hooks().join("pre-push").exists());
    let out = r.credsweep(&["uninstall-hook"]);
    assert!(text(&out).contains("nothing to remove"), "{}", text(&out));
}

#[test]
fn install_honours_core_hooks_path() {
    let sb = Sandbox::new();

    // Relative: relative to the top of the work tree, whatever directory install runs from.
    let r = sb.repo("rel");
    r.ok(&["config", "core.hooksPath", ".githooks"]);
    fs::create_dir_all(r.path.join("src/deep")).unwrap();
    let out = sb
        .cmd(BIN, &r.path.join("src/deep"))
        .arg("install-hook")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("core.hooksPath"), "{}", text(&out));
    assert!(executable(&r.path.join(".githooks/pre-commit")));
    assert!(!r.hooks().join("pre-commit").exists());
    r.write("src/deep/k.env", &env_line(TOKEN_OLD));
    r.ok(&["add", "-A"]);
    let out = sb
        .cmd("git", &r.path.join("src/deep"))
        .args(["commit", "-q", "-m", "k"])
        .output()
        .unwrap();
    assert_blocked(&out, "src/deep/k.env", SHOWN_OLD);
    let out = r.credsweep(&["uninstall-hook"]);
    assert!(out.status.success());
    assert!(!r.path.join(".githooks/pre-commit").exists());

    // Absolute, and set in the user's global configuration with `~/`: git runs hooks from
    // there for every repository, and install says so.
    fs::write(
        sb.home().join(".gitconfig"),
        "[core]\n\thooksPath = ~/shared-hooks\n",
    )
    .unwrap();
    let g = sb.repo("global");
    let said = install(&g, &["--pre-push"]);
    assert!(said.contains("outside the repository"), "{said}");
    let shared = sb.home().join("shared-hooks");
    assert!(executable(&shared.join("pre-commit")));
    assert!(executable(&shared.join("pre-push")));
    g.write("k.env", &env_line(TOKEN_OLD));
    g.ok(&["add", "-A"]);
    assert_blocked(&g.commit("k"), "k.env", SHOWN_OLD);
    let out = g.credsweep(&["uninstall-hook"]);
    assert!(out.status.success());
    assert!(!shared.join("pre-commit").exists());
}

#[test]
fn installed_pre_push_hook_scans_only_the_pushed_commits() {
    let sb = Sandbox::new();
    let remote = sb.bare("remote.git");
    let r = sb.repo("app");
    r.ok(&["remote", "add", "origin", remote.to_str().unwrap()]);
    // An old token, already on the remote (pushed before credsweep was installed).
    r.write("old.env", &env_line(TOKEN_OLD));
    r.ok(&["add", "old.env"]);
    r.ok(&["commit", "-q", "--no-verify", "-m", "old token"]);
    r.ok(&["push", "-q", "origin", "main"]);

    // The team's own pre-push hook, which must still get git's arguments and ref lines.
    let seen = sb.dir.path().join("old-pre-push-input");
    write_hook(
        &r.hooks().join("pre-push"),
        &format!(
            "#!/bin/sh\necho \"args $1 $2\" >> '{0}'\ncat >> '{0}'\n",
            seen.display()
        ),
    );
    install(&r, &["--pre-push"]);
    assert!(r.hooks().join("pre-push.credsweep-chained").exists());

    // A clean commit: the old token is not in what is pushed.
    r.write("a.txt", "a\n");
    r.ok(&["add", "a.txt"]);
    assert_passed(&r.commit("clean"));
    let out = r.git(&["push", "origin", "main"]);
    assert_passed(&out);
    assert!(!text(&out).contains(SHOWN_OLD), "{}", text(&out));
    let head = r.head();
    let input = fs::read_to_string(&seen).unwrap();
    assert!(
        input.starts_with(&format!(
            "args origin {}\nrefs/heads/main {head} refs/heads/main ",
            remote.display()
        )),
        "the chained hook got: {input:?}"
    );

    // A new token in a commit (let through by --no-verify) is stopped at the push.
    r.write("new.env", &env_line(TOKEN_NEW));
    r.ok(&["add", "new.env"]);
    r.ok(&["commit", "-q", "--no-verify", "-m", "new token"]);
    let out = r.git(&["push", "origin", "main"]);
    assert_blocked(&out, "new.env", SHOWN_NEW);
    let t = text(&out);
    assert!(
        !t.contains(SHOWN_OLD),
        "the already pushed token was reported:\n{t}"
    );
    assert!(t.contains("Push blocked"), "{t}");
    assert!(
        t.contains("new token"),
        "the commit that added it is not named:\n{t}"
    );
    assert!(t.contains("git push --no-verify"), "{t}");
    r.ok(&["reset", "-q", "--hard", "HEAD~1"]);

    // A new branch (no remote ref yet): only what no remote-tracking ref has is scanned.
    r.ok(&["checkout", "-q", "-b", "topic"]);
    r.write("t.txt", "t\n");
    r.ok(&["add", "t.txt"]);
    assert_passed(&r.commit("topic work"));
    assert_passed(&r.git(&["push", "origin", "topic"]));
    r.write("t.env", &env_line(TOKEN_NEW));
    r.ok(&["add", "t.env"]);
    r.ok(&["commit", "-q", "--no-verify", "-m", "topic token"]);
    let out = r.git(&["push", "origin", "topic:refs/heads/topic2"]);
    assert_blocked(&out, "t.env", SHOWN_NEW);
    assert!(!text(&out).contains(SHOWN_OLD), "{}", text(&out));

    // Deleting a remote branch sends nothing and passes.
    assert_passed(&r.git(&["push", "origin", ":refs/heads/topic"]));

    // Two refs in one push: each range is scanned.
    r.ok(&["checkout", "-q", "main"]);
    let out = r.git(&["push", "origin", "main", "topic:refs/heads/topic3"]);
    assert_blocked(&out, "t.env", SHOWN_NEW);
}

#[test]
fn pre_push_command_reads_git_lines_and_fails_closed_on_garbage() {
    let sb = Sandbox::new();
    let r = sb.repo("app");
    let run = |input: &str| {
        let mut c = sb.cmd(BIN, &r.path);
        c.args(["pre-push", "origin", "/nowhere"])
            .stdin(Stdio::piped());
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out = run("this is not a pre-push line\n");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = run("");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("nothing to scan"), "{}", text(&out));
    // A local id this repository does not have cannot be scanned: exit 2.
    let out = run(&format!(
        "refs/heads/main {} refs/heads/main {}\n",
        "ab".repeat(20),
        "0".repeat(40)
    ));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    // A first push of everything: the whole history is new.
    r.write("k.env", &env_line(TOKEN_OLD));
    r.ok(&["add", "-A"]);
    r.ok(&["commit", "-q", "-m", "k"]);
    let out = run(&format!(
        "refs/heads/main {} refs/heads/main {}\n",
        r.head(),
        "0".repeat(40)
    ));
    assert_blocked(&out, "k.env", SHOWN_OLD);
}

// ---------------------------------------------------------------------------------------------
// The pre-commit framework

/// The `pre-commit` program. CI installs it (`.ci/run`); without it these tests fail, loudly.
fn pre_commit() -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join("pre-commit"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`pre-commit` is not on PATH: these tests drive the real pre-commit framework. \
                 Install it with `python3 -m pip install pre-commit` (.ci/run does)."
            )
        })
}

/// This repository's `.pre-commit-hooks.yaml`.
fn hooks_manifest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml")
}

/// A `.pre-commit-config.yaml` with a local hook like the manifest's `credsweep-system`, calling
/// the binary under test by absolute path.
fn local_config() -> String {
    assert!(
        !BIN.contains(' '),
        "the test binary's path has a space: {BIN}"
    );
    format!(
        "repos:\n\
         \x20 - repo: local\n\
         \x20   hooks:\n\
         \x20     - id: credsweep\n\
         \x20       name: credsweep\n\
         \x20       entry: {BIN} staged\n\
         \x20       language: system\n\
         \x20       pass_filenames: false\n\
         \x20       always_run: true\n\
         \x20       require_serial: true\n\
         \x20       stages: [pre-commit, pre-push, manual]\n"
    )
}

impl Repo<'_> {
    /// Commits the pre-commit configuration and installs pre-commit's git hooks.
    fn with_pre_commit(&self, hook_types: &[&str]) {
        self.write(".pre-commit-config.yaml", &local_config());
        self.ok(&["add", ".pre-commit-config.yaml"]);
        self.ok(&["commit", "-q", "--no-verify", "-m", "pre-commit config"]);
        for t in hook_types {
            let out = self
                .sb
                .cmd(pre_commit(), &self.path)
                .args(["install", "--hook-type", t])
                .output()
                .unwrap();
            assert!(out.status.success(), "pre-commit install: {}", text(&out));
        }
    }
}

#[test]
fn pre_commit_framework_blocks_a_token_and_passes_a_clean_commit() {
    let sb = Sandbox::new();
    let r = sb.repo("app");
    r.with_pre_commit(&["pre-commit"]);

    r.write(
        "settings/vobiz.env",
        &format!("# partner api\n{}", env_line(TOKEN_OLD)),
    );
    r.ok(&["add", "-A"]);
    let before = r.head();
    let out = r.commit("add settings");
    assert_blocked(&out, "settings/vobiz.env", SHOWN_OLD);
    let t = text(&out);
    assert!(t.contains("Failed"), "{t}");
    assert!(t.contains("2:18"), "{t}");
    assert!(t.contains("Commit blocked"), "{t}");
    assert!(t.contains("SKIP=credsweep git commit"), "{t}");
    assert_eq!(r.head(), before);

    // SKIP is the deliberate bypass pre-commit offers.
    let out = sb
        .cmd("git", &r.path)
        .args(["commit", "-q", "-m", "skipped"])
        .env("SKIP", "credsweep")
        .output()
        .unwrap();
    assert_passed(&out);
    r.ok(&["reset", "-q", "--soft", "HEAD~1"]);

    r.write("settings/vobiz.env", "# partner api\nVOBIZ_AUTH_TOKEN=\n");
    r.ok(&["add", "-A"]);
    let out = r.commit("settings without the token");
    assert_passed(&out);
    assert!(
        text(&out).contains("Passed") || text(&out).is_empty(),
        "{}",
        text(&out)
    );
    assert_ne!(r.head(), before);
}

#[test]
fn pre_commit_framework_judges_partially_staged_files_by_their_staged_content() {
    let sb = Sandbox::new();
    let r = sb.repo("app");
    r.with_pre_commit(&["pre-commit"]);

    // The token is staged; the work tree no longer has it.
    r.write("app.env", &env_line(TOKEN_OLD));
    r.ok(&["add", "app.env"]);
    r.write("app.env", "VOBIZ_AUTH_TOKEN=\n");
    assert_blocked(&r.commit("partial"), "app.env", SHOWN_OLD);
    assert_eq!(
        r.read("app.env"),
        "VOBIZ_AUTH_TOKEN=\n",
        "pre-commit lost the work tree"
    );

    // Clean content is staged; the work tree has a token that is not staged.
    r.ok(&["add", "app.env"]);
    r.write(
        "app.env",
        &format!("VOBIZ_AUTH_TOKEN=\n{}", env_line(TOKEN_OLD)),
    );
    assert_passed(&r.commit("clean staged"));
    assert!(
        r.read("app.env").contains(TOKEN_OLD),
        "pre-commit lost the work tree"
    );
    let committed = r.ok(&["show", "HEAD:app.env"]);
    assert_eq!(committed, "VOBIZ_AUTH_TOKEN=\n");
}

#[test]
fn pre_commit_framework_handles_a_commit_of_200_files() {
    let sb = Sandbox::new();
    let r = sb.repo("app");
    r.with_pre_commit(&["pre-commit"]);
    for i in 0..200 {
        r.write(
            &format!("src/module{:02}/file{i:03}.txt", i % 20),
            &format!("file {i}\n"),
        );
    }
    r.write(
        "src/module07/file147.txt",
        &format!("file 147\n{}", env_line(TOKEN_OLD)),
    );
    r.ok(&["add", "-A"]);
    let out = r.commit("200 files");
    assert_blocked(&out, "src/module07/file147.txt", SHOWN_OLD);
    assert!(text(&out).contains("1 finding"), "{}", text(&out));

    r.write("src/module07/file147.txt", "file 147\n");
    r.ok(&["add", "-A"]);
    assert_passed(&r.commit("200 files"));
    let files = r.ok(&["show", "--name-only", "--format=", "HEAD"]);
    assert_eq!(files.lines().count(), 200);
}

#[test]
fn pre_commit_framework_pre_push_scans_only_the_pushed_commits() {
    let sb = Sandbox::new();
    let remote = sb.bare("remote.git");
    let r = sb.repo("app");
    r.ok(&["remote", "add", "origin", remote.to_str().unwrap()]);
    r.with_pre_commit(&["pre-commit", "pre-push"]);
    // An old token, already on the remote.
    r.write("old.env", &env_line(TOKEN_OLD));
    r.ok(&["add", "old.env"]);
    r.ok(&["commit", "-q", "--no-verify", "-m", "old token"]);
    r.ok(&["push", "-q", "--no-verify", "origin", "main"]);

    r.write("a.txt", "a\n");
    r.ok(&["add", "a.txt"]);
    assert_passed(&r.commit("clean"));
    let out = r.git(&["push", "origin", "main"]);
    assert_passed(&out);
    assert!(!text(&out).contains(SHOWN_OLD), "{}", text(&out));

    r.write("new.env", &env_line(TOKEN_NEW));
    r.ok(&["add", "new.env"]);
    r.ok(&["commit", "-q", "--no-verify", "-m", "new token"]);
    let out = r.git(&["push", "origin", "main"]);
    assert_blocked(&out, "new.env", SHOWN_NEW);
    let t = text(&out);
    assert!(
        !t.contains(SHOWN_OLD),
        "the already pushed token was reported:\n{t}"
    );
    assert!(t.contains("Push blocked"), "{t}");
    assert!(t.contains("SKIP=credsweep git push"), "{t}");
    r.ok(&["reset", "-q", "--hard", "HEAD~1"]);

    // A new branch on top of pushed history: pre-commit names the range from the first
    // commit the remote lacks.
    r.ok(&["checkout", "-q", "-b", "topic"]);
    r.write("t.txt", "t\n");
    r.ok(&["add", "t.txt"]);
    assert_passed(&r.commit("topic work"));
    let out = r.git(&["push", "origin", "topic"]);
    assert_passed(&out);
    assert!(!text(&out).contains(SHOWN_OLD), "{}", text(&out));
    r.write("t.env", &env_line(TOKEN_NEW));
    r.ok(&["add", "t.env"]);
    r.ok(&["commit", "-q", "--no-verify", "-m", "topic token"]);
    let out = r.git(&["push", "origin", "topic:refs/heads/topic2"]);
    assert_blocked(&out, "t.env", SHOWN_NEW);
    assert!(!text(&out).contains(SHOWN_OLD), "{}", text(&out));

    // A first push to an empty remote: pre-commit names no range, only the branches; what no
    // remote-tracking ref has is scanned.
    let empty = sb.bare("empty.git");
    let out = r.git(&["push", empty.to_str().unwrap(), "topic"]);
    assert_blocked(&out, "t.env", SHOWN_NEW);
}

#[test]
fn pre_commit_try_repo_runs_the_manifest_hook() {
    let sb = Sandbox::new();
    let pc = pre_commit();
    // The manifest, in a repository of its own (try-repo clones a git repository).
    let hooks_repo = sb.repo("hooks-repo");
    fs::copy(
        hooks_manifest(),
        hooks_repo.path.join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    hooks_repo.ok(&["add", "-A"]);
    hooks_repo.ok(&["commit", "-q", "-m", "hooks"]);
    let out = sb
        .cmd(&pc, &hooks_repo.path)
        .args(["validate-manifest", ".pre-commit-hooks.yaml"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the manifest is invalid:\n{}",
        text(&out)
    );
    let manifest = fs::read_to_string(hooks_manifest()).unwrap();
    for needle in [
        "id: credsweep\n",
        "id: credsweep-system\n",
        "language: rust",
        "language: system",
        "entry: credsweep staged",
        "pass_filenames: false",
        "stages: [pre-commit, pre-push, manual]",
    ] {
        assert!(manifest.contains(needle), "manifest lacks {needle:?}");
    }

    // `credsweep-system` runs `credsweep` from PATH: put the binary under test first.
    let bin_dir = Path::new(BIN).parent().unwrap().to_path_buf();
    let mut path = vec![bin_dir];
    path.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap()));
    let path = std::env::join_paths(path).unwrap();
    let r = sb.repo("app");
    let try_repo = |r: &Repo<'_>| {
        sb.cmd(&pc, &r.path)
            .args(["try-repo"])
            .arg(&hooks_repo.path)
            .arg("credsweep-system")
            .env("PATH", &path)
            .output()
            .unwrap()
    };
    r.write("k.env", &env_line(TOKEN_OLD));
    r.ok(&["add", "-A"]);
    let out = try_repo(&r);
    assert_blocked(&out, "k.env", SHOWN_OLD);
    assert!(text(&out).contains("Commit blocked"), "{}", text(&out));

    r.write("k.env", "VOBIZ_AUTH_TOKEN=\n");
    r.ok(&["add", "-A"]);
    let out = try_repo(&r);
    assert_passed(&out);
    assert!(text(&out).contains("Passed"), "{}", text(&out));
}
