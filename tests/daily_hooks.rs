//! Daily use of the commit hooks (issue 18, items 10 and 11): `credsweep staged` blocks only on
//! secrets a commit adds, and the manifest's `credsweep-files` hook makes
//! `pre-commit run --all-files` (what pre-commit.ci runs) scan the files themselves.
//!
//! Every repository and home directory is a fresh temporary directory with a hermetic
//! environment; every credential is fake (`FAKE` tails).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_credsweep");
const OLD: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE";
const NEW: &str = "sk_live_9Qm2Zr7TkW4pXv8Ln3Bc6Hd1FAKE";
const SHOWN_OLD: &str = "sk_live_4e…FAKE";
const SHOWN_NEW: &str = "sk_live_9Q…FAKE";

/// A home directory and one repository with a first commit, run hermetically.
struct Repo {
    dir: TempDir,
}

impl Repo {
    fn new() -> Repo {
        let r = Repo {
            dir: TempDir::new().unwrap(),
        };
        fs::create_dir_all(r.home()).unwrap();
        fs::create_dir_all(r.path()).unwrap();
        r.ok(&["init", "-q", "-b", "main", "."]);
        r.write("README.md", "# demo\n");
        r.ok(&["add", "-A"]);
        r.ok(&["commit", "-q", "--no-verify", "-m", "initial"]);
        r
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("app")
    }

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
            "SKIP",
        ] {
            c.env_remove(v);
        }
        c
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd("git", &self.path()).args(args).output().unwrap();
        assert!(out.status.success(), "git {args:?}:\n{}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn write(&self, rel: &str, content: &str) {
        let p = self.path().join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }

    fn credsweep(&self, args: &[&str]) -> Output {
        self.cmd(BIN, &self.path()).args(args).output().unwrap()
    }

    /// Commits `content` at `rel` without hooks: a secret already in the history.
    fn committed(&self, rel: &str, content: &str) {
        self.write(rel, content);
        self.ok(&["add", "-A"]);
        self.ok(&["commit", "-q", "--no-verify", "-m", "old"]);
    }

    /// `credsweep staged --format json`: exit code, document, stderr.
    fn staged_json(&self) -> (i32, Value, String) {
        let out = self.credsweep(&["staged", "--format", "json"]);
        let doc = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", text(&out)));
        (
            out.status.code().unwrap(),
            doc,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn env(tokens: &[&str]) -> String {
    let mut s = String::from("# Vobiz partner API\nDEBUG=false\n");
    for t in tokens {
        s += &format!("VOBIZ_AUTH_TOKEN={t}\n");
    }
    s
}

fn secrets(doc: &Value, field: &str) -> Vec<String> {
    doc[field]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["secret"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// 18.10: the commit hook blocks on what a commit adds, not on old leaks

#[test]
fn changing_a_file_with_a_committed_secret_passes_and_says_it_was_there() {
    let r = Repo::new();
    r.committed("app.env", &env(&[OLD]));
    r.write("app.env", &env(&[OLD]).replace("DEBUG=false", "DEBUG=true"));
    r.ok(&["add", "app.env"]);

    let out = r.credsweep(&["staged", "--color", "never"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "an old secret blocked:\n{t}");
    assert!(t.contains("Already committed"), "{t}");
    assert!(t.contains("app.env:3:18"), "{t}");
    assert!(t.contains(SHOWN_OLD), "{t}");
    assert!(
        t.contains("credsweep git ."),
        "no pointer to the audit:\n{t}"
    );
    assert!(t.contains("credsweep baseline add"), "{t}");
    assert!(!t.contains("Commit blocked"), "{t}");
    assert!(!t.contains(OLD), "{t}");

    let (code, doc, stderr) = r.staged_json();
    assert_eq!(code, 0);
    assert_eq!(secrets(&doc, "findings"), Vec::<String>::new());
    assert_eq!(secrets(&doc, "preexisting"), vec![SHOWN_OLD.to_string()]);
    assert!(stderr.contains("already committed"), "{stderr}");
}

#[test]
fn adding_a_second_secret_blocks_only_on_the_new_one() {
    let r = Repo::new();
    r.committed("app.env", &env(&[OLD]));
    r.write("app.env", &env(&[OLD, NEW]));
    r.ok(&["add", "app.env"]);
    let (code, doc, _) = r.staged_json();
    assert_eq!(code, 1);
    assert_eq!(secrets(&doc, "findings"), vec![SHOWN_NEW.to_string()]);
    assert_eq!(secrets(&doc, "preexisting"), vec![SHOWN_OLD.to_string()]);

    // The same old secret copied into a new file is added by this commit: it blocks.
    r.write("app.env", &env(&[OLD]));
    r.write("copy.env", &env(&[OLD]));
    r.ok(&["add", "-A"]);
    let (code, doc, _) = r.staged_json();
    assert_eq!(code, 1, "{doc:#}");
    let blocked: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(blocked, ["copy.env"], "{doc:#}");
}

#[test]
fn a_renamed_file_keeps_its_old_secret_without_blocking() {
    let r = Repo::new();
    r.committed("config/app.env", &env(&[OLD]));
    r.ok(&["mv", "config", "settings"]);
    r.write(
        "settings/app.env",
        &env(&[OLD]).replace("DEBUG=false", "DEBUG=true"),
    );
    r.ok(&["add", "-A"]);
    let (code, doc, _) = r.staged_json();
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(secrets(&doc, "preexisting"), vec![SHOWN_OLD.to_string()]);
}

#[test]
fn the_installed_hook_lets_a_commit_through_that_only_touches_an_old_leak() {
    let r = Repo::new();
    r.committed("app.env", &env(&[OLD]));
    let out = r.credsweep(&["install-hook"]);
    assert!(out.status.success(), "{}", text(&out));
    r.write("app.env", &env(&[OLD]).replace("DEBUG=false", "DEBUG=true"));
    r.ok(&["add", "app.env"]);
    let out = r
        .cmd("git", &r.path())
        .args(["commit", "-q", "-m", "debug on"])
        .output()
        .unwrap();
    assert!(out.status.success(), "blocked:\n{}", text(&out));
    assert!(text(&out).contains("Already committed"), "{}", text(&out));

    r.write("app.env", &env(&[OLD, NEW]));
    r.ok(&["add", "app.env"]);
    let out = r
        .cmd("git", &r.path())
        .args(["commit", "-q", "-m", "new token"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains(SHOWN_NEW), "{}", text(&out));
}

// ---------------------------------------------------------------------------------------------
// 18.11: a hook for `pre-commit run --all-files` and pre-commit.ci

/// The `pre-commit` program (CI installs it; these tests fail loudly without it).
fn pre_commit() -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join("pre-commit"))
        .find(|p| p.is_file())
        .expect("`pre-commit` is not on PATH: install it with `python3 -m pip install pre-commit`")
}

#[test]
fn pre_commit_all_files_with_the_files_hook_fails_on_a_committed_leak() {
    let r = Repo::new();
    // The manifest in a repository of its own: try-repo clones it.
    let hooks = r.dir.path().join("hooks-repo");
    fs::create_dir_all(&hooks).unwrap();
    fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
        hooks.join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    for args in [
        &["init", "-q", "-b", "main", "."][..],
        &["add", "-A"][..],
        &["commit", "-q", "-m", "hooks"][..],
    ] {
        let out = r.cmd("git", &hooks).args(args).output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
    }
    let out = r
        .cmd(pre_commit(), &hooks)
        .args(["validate-manifest", ".pre-commit-hooks.yaml"])
        .output()
        .unwrap();
    assert!(out.status.success(), "invalid manifest:\n{}", text(&out));
    let manifest = fs::read_to_string(hooks.join(".pre-commit-hooks.yaml")).unwrap();
    for id in ["credsweep-files", "credsweep-files-system"] {
        let at = manifest
            .find(&format!("\n- id: {id}\n"))
            .unwrap_or_else(|| panic!("no hook {id}"));
        let hook = &manifest[at..];
        let hook = &hook[..hook[1..].find("\n- id:").map_or(hook.len(), |e| e + 1)];
        assert!(hook.contains("entry: credsweep dir --\n"), "{hook}");
        assert!(hook.contains("pass_filenames: true"), "{hook}");
    }
    // `*-system` hooks run `credsweep` from PATH: the binary under test first.
    let mut path = vec![Path::new(BIN).parent().unwrap().to_path_buf()];
    path.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap()));
    let path = std::env::join_paths(path).unwrap();
    let try_repo = |hook: &str| {
        r.cmd(pre_commit(), &r.path())
            .arg("try-repo")
            .arg(&hooks)
            .args([hook, "--all-files"])
            .env("PATH", &path)
            .output()
            .unwrap()
    };

    // Many files, one committed leak deep in them; nothing staged. A file name that looks like
    // an option is a file name (`--` in the entry).
    r.write("-v", "not an option\n");
    for i in 0..300 {
        r.write(
            &format!("src/m{:02}/f{i:03}.txt", i % 30),
            &format!("{i}\n"),
        );
    }
    r.committed("src/m07/f187.txt", &format!("187\n{}", env(&[OLD])));

    let out = try_repo("credsweep-system");
    assert!(
        out.status.success(),
        "the staged hook checks only the index:\n{}",
        text(&out)
    );
    let out = try_repo("credsweep-files-system");
    let t = text(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the committed leak passed:\n{t}"
    );
    assert!(t.contains("src/m07/f187.txt"), "{t}");
    assert!(t.contains(SHOWN_OLD) && !t.contains(OLD), "{t}");

    // Gone from the files: --all-files passes.
    r.committed("src/m07/f187.txt", "187\n");
    let out = try_repo("credsweep-files-system");
    assert!(out.status.success(), "{}", text(&out));
}
