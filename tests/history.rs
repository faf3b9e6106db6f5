//! `credsweep git` and `credsweep staged` on real repositories built with the `git` CLI: each
//! case checks the finding and where history says it came from.
//!
//! Every credential here is fake (note the `FAKE` tails), shaped like the real thing.

use std::cell::Cell;
use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::Value;
use tempfile::TempDir;

const TOKEN_A: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE";
const TOKEN_B: &str = "sk_live_9Qm2Zr7TkW4pXv8Ln3Bc6Hd1FAKE";
const TOKEN_C: &str = "sk_live_Xy7Pq2Rs9Tu4Vw1Mn6Kb3Jc8FAKE";

/// A file holding `token` the way a leaked `.env` does.
fn env_file(token: &str) -> String {
    format!("# vobiz partner api\nexport VOBIZ_AUTH_TOKEN={token}\n")
}

struct Repo {
    dir: TempDir,
    clock: Cell<u64>,
}

impl Repo {
    fn new() -> Repo {
        let r = Repo {
            dir: TempDir::new().unwrap(),
            clock: Cell::new(1_700_000_000),
        };
        r.git(&["init", "-q", "-b", "main", "."]);
        r
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs git in the repository, isolated from the user's configuration; returns stdout.
    fn git(&self, args: &[&str]) -> String {
        git_in(self.path(), args, self.tick())
    }

    fn tick(&self) -> u64 {
        let t = self.clock.get() + 60;
        self.clock.set(t);
        t
    }

    fn write(&self, path: &str, content: &str) {
        let p = self.path().join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }

    /// Stages everything and commits; returns the new commit's id.
    fn commit(&self, msg: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", msg]);
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }
}

fn git_in(dir: &Path, args: &[&str], time: u64) -> String {
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
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs credsweep with JSON output and secrets shown; returns the report and the exit status.
fn credsweep(dir: &Path, args: &[&str]) -> (Value, i32) {
    let out = assert_cmd::Command::cargo_bin("credsweep")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .args(["--format", "json", "--no-redact", "--quiet"])
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "credsweep {args:?} exited {code} without a JSON report ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (doc, code)
}

fn scan_git(repo: &Path, extra: &[&str]) -> (Value, i32) {
    let mut args = vec!["git", repo.to_str().unwrap()];
    args.extend_from_slice(extra);
    credsweep(Path::new("/"), &args)
}

fn findings(doc: &Value) -> &Vec<Value> {
    doc["findings"].as_array().unwrap()
}

/// The one finding for `secret`; fails if there is none or more than one.
fn finding<'a>(doc: &'a Value, secret: &str) -> &'a Value {
    let hits: Vec<&Value> = findings(doc)
        .iter()
        .filter(|f| f["secret"] == secret)
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "expected one finding for {secret}, got {hits:#?}\nreport: {doc:#}"
    );
    hits[0]
}

fn has(doc: &Value, secret: &str) -> bool {
    findings(doc).iter().any(|f| f["secret"] == secret)
}

#[test]
fn token_committed_then_deleted() {
    let r = Repo::new();
    r.write("README.md", "hello\n");
    r.commit("initial");
    r.write("config/.env", &env_file(TOKEN_A));
    let added = r.commit("add deploy config");
    fs::remove_file(r.path().join("config/.env")).unwrap();
    r.commit("remove secrets");

    let (doc, code) = scan_git(r.path(), &[]);
    assert_eq!(code, 1);
    let f = finding(&doc, TOKEN_A);
    assert_eq!(f["rule_id"], "vobiz-auth-token");
    assert_eq!(f["path"], "config/.env");
    assert_eq!(f["line"], 2);
    assert_eq!(f["commit"], added.as_str());
    assert_eq!(f["author"], "Ada Lovelace");
    assert_eq!(f["email"], "ada@example.com");
    assert_eq!(f["message"], "add deploy config");
    assert_eq!(f["ref"], "refs/heads/main");
    assert!(f["date"].as_str().unwrap().ends_with('Z'));
    // The summary says how much history was covered.
    assert_eq!(doc["summary"]["commits"], 3);
    let (range, _) = scan_git(r.path(), &["--range", "HEAD~1..HEAD"]);
    assert_eq!(range["summary"]["commits"], 1, "{range:#}");
}

#[test]
fn old_version_of_a_file_counts_other_places_once() {
    let r = Repo::new();
    r.write("app.env", &env_file(TOKEN_A));
    let first = r.commit("v1");
    // The token stays while other lines change: every later version is another place.
    r.write("app.env", &format!("{}DEBUG=1\n", env_file(TOKEN_A)));
    r.commit("v2");
    r.write("app.env", "export VOBIZ_AUTH_TOKEN=${VOBIZ_AUTH_TOKEN}\n");
    r.commit("v3: read from env");

    let (doc, _) = scan_git(r.path(), &[]);
    let f = finding(&doc, TOKEN_A);
    assert_eq!(f["commit"], first.as_str());
    assert_eq!(f["message"], "v1");
    assert_eq!(f["path"], "app.env");
    assert_eq!(f["other_locations"], 1, "v2's blob is the one other place");
}

#[test]
fn unmerged_branch() {
    let r = Repo::new();
    r.write("README.md", "hello\n");
    r.commit("initial");
    r.git(&["checkout", "-q", "-b", "feature/payments"]);
    r.write(
        "src/settings.py",
        &format!("VOBIZ_AUTH_TOKEN = \"{TOKEN_A}\"\n"),
    );
    let c = r.commit("wip payments");
    r.git(&["checkout", "-q", "main"]);

    let (doc, _) = scan_git(r.path(), &[]);
    let f = finding(&doc, TOKEN_A);
    assert_eq!(f["commit"], c.as_str());
    assert_eq!(f["ref"], "refs/heads/feature/payments");
    assert_eq!(f["path"], "src/settings.py");
}

#[test]
fn commit_reachable_only_from_an_annotated_tag() {
    let r = Repo::new();
    r.write("README.md", "hello\n");
    r.commit("initial");
    r.git(&["checkout", "-q", "-b", "release"]);
    r.write("deploy.env", &env_file(TOKEN_A));
    let c = r.commit("release config");
    r.git(&["tag", "-a", "v1.0", "-m", "release 1.0"]);
    r.git(&["checkout", "-q", "main"]);
    r.git(&["branch", "-q", "-D", "release"]);

    let (doc, _) = scan_git(r.path(), &[]);
    let f = finding(&doc, TOKEN_A);
    assert_eq!(f["commit"], c.as_str());
    assert_eq!(f["ref"], "refs/tags/v1.0");
}

#[test]
fn remote_tracking_ref() {
    let r = Repo::new();
    r.write("README.md", "hello\n");
    r.commit("initial");
    r.git(&["checkout", "-q", "-b", "tmp"]);
    r.write("ci.env", &env_file(TOKEN_A));
    let c = r.commit("ci secrets");
    r.git(&["update-ref", "refs/remotes/origin/ci", &c]);
    r.git(&["checkout", "-q", "main"]);
    r.git(&["branch", "-q", "-D", "tmp"]);

    let (doc, _) = scan_git(r.path(), &[]);
    let f = finding(&doc, TOKEN_A);
    assert_eq!(f["commit"], c.as_str());
    assert_eq!(f["ref"], "refs/remotes/origin/ci");
}

#[test]
fn stash_with_tracked_and_untracked_files() {
    let r = Repo::new();
    r.write("app.env", "export VOBIZ_AUTH_TOKEN=\n");
    r.commit("initial");
    r.write("app.env", &env_file(TOKEN_A));
    r.write("notes/untracked.env", &env_file(TOKEN_B));
    r.git(&["stash", "push", "-q", "--include-untracked"]);
    let stash = r.git(&["rev-parse", "refs/stash"]).trim().to_string();

    let (doc, _) = scan_git(r.path(), &[]);
    let tracked = finding(&doc, TOKEN_A);
    assert_eq!(tracked["ref"], "refs/stash");
    assert_eq!(tracked["path"], "app.env");
    // The work-tree change is first held by the stash's index commit (its second parent) or the
    // stash commit itself; either way a commit of the stash.
    let stash_commits = r.git(&[
        "rev-list",
        "--no-walk",
        &stash,
        &format!("{stash}^2"),
        &format!("{stash}^3"),
    ]);
    assert!(stash_commits.contains(tracked["commit"].as_str().unwrap()));
    let untracked = finding(&doc, TOKEN_B);
    assert_eq!(untracked["ref"], "refs/stash");
    assert_eq!(untracked["path"], "notes/untracked.env");
    assert_eq!(
        untracked["commit"],
        r.git(&["rev-parse", &format!("{stash}^3")]).trim()
    );
}

#[test]
fn merge_resolution_alone_adds_the_token() {
    let r = Repo::new();
    r.write("app.env", "export VOBIZ_AUTH_TOKEN=changeme\n");
    r.commit("initial");
    r.git(&["checkout", "-q", "-b", "left"]);
    r.write("app.env", "export VOBIZ_AUTH_TOKEN=from-left\n");
    r.commit("left");
    r.git(&["checkout", "-q", "main"]);
    r.write("app.env", "export VOBIZ_AUTH_TOKEN=from-main\n");
    r.commit("main change");
    let before_merge = r.git(&["rev-parse", "HEAD"]).trim().to_string();
    // Conflict: resolved by hand with a real token that neither side had.
    let out = Command::new("git")
        .current_dir(r.path())
        .args(["merge", "-q", "left"])
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(!out.status.success(), "the merge must conflict");
    r.write("app.env", &env_file(TOKEN_A));
    let merge = r.commit("merge left");

    let (doc, _) = scan_git(r.path(), &[]);
    let f = finding(&doc, TOKEN_A);
    assert_eq!(f["commit"], merge.as_str());
    assert_eq!(f["message"], "merge left");
    assert_eq!(f["ref"], "refs/heads/main");

    // And a range over the merge reports it too.
    let (doc, code) = scan_git(r.path(), &["--range", &format!("{before_merge}..main")]);
    assert_eq!(code, 1);
    assert_eq!(finding(&doc, TOKEN_A)["commit"], merge.as_str());
}

#[test]
fn dangling_commit_after_reset_with_expired_reflog() {
    let r = Repo::new();
    r.write("README.md", "hello\n");
    r.commit("initial");
    r.write("prod.env", &env_file(TOKEN_A));
    let dangling = r.commit("oops");
    r.git(&["reset", "-q", "--hard", "HEAD~1"]);
    r.git(&["reflog", "expire", "--expire=now", "--all"]);

    let (doc, code) = scan_git(r.path(), &[]);
    assert_eq!(code, 1);
    let f = finding(&doc, TOKEN_A);
    assert_eq!(f["ref"], "unreachable");
    assert_eq!(f["commit"], dangling.as_str());
    assert_eq!(f["path"], "prod.env");

    // --reachable-only leaves it out.
    let (doc, code) = scan_git(r.path(), &["--reachable-only"]);
    assert_eq!(code, 0, "{doc:#}");
    assert!(!has(&doc, TOKEN_A));
}

#[test]
fn blob_no_commit_holds_is_unreachable_without_a_commit() {
    let r = Repo::new();
    r.write("README.md", "hello\n");
    r.commit("initial");
    r.write("staged.env", &env_file(TOKEN_A));
    r.git(&["add", "staged.env"]);
    r.git(&["reset", "-q"]);

    let (doc, _) = scan_git(r.path(), &[]);
    let f = finding(&doc, TOKEN_A);
    assert_eq!(f["ref"], "unreachable");
    assert!(f.get("commit").is_none());
    assert!(f["path"].as_str().unwrap().starts_with("<blob "));
}

#[test]
fn packed_and_loose_objects() {
    let r = Repo::new();
    r.write("old.env", &env_file(TOKEN_A));
    let packed = r.commit("old");
    r.git(&["gc", "-q"]);
    r.write("new.env", &env_file(TOKEN_B));
    let loose = r.commit("new");
    let objects = r.git(&["count-objects", "-v"]);
    assert!(
        objects.contains("in-pack: 3") || objects.contains("packs: 1"),
        "{objects}"
    );

    let (doc, _) = scan_git(r.path(), &[]);
    assert_eq!(finding(&doc, TOKEN_A)["commit"], packed.as_str());
    assert_eq!(finding(&doc, TOKEN_B)["commit"], loose.as_str());
}

#[test]
fn bare_clone() {
    let r = Repo::new();
    r.write("app.env", &env_file(TOKEN_A));
    let c = r.commit("config");
    let bare = TempDir::new().unwrap();
    let dest = bare.path().join("mirror.git");
    git_in(
        bare.path(),
        &[
            "clone",
            "-q",
            "--bare",
            r.path().to_str().unwrap(),
            dest.to_str().unwrap(),
        ],
        1,
    );

    let (doc, _) = scan_git(&dest, &[]);
    let f = finding(&doc, TOKEN_A);
    assert_eq!(f["commit"], c.as_str());
    assert_eq!(f["ref"], "refs/heads/main");
}

#[test]
fn range_reports_only_its_own_secrets() {
    let r = Repo::new();
    r.write("base.env", &env_file(TOKEN_A));
    r.commit("base has a token already");
    r.git(&["checkout", "-q", "-b", "other"]);
    r.write("other.env", &env_file(TOKEN_C));
    r.commit("another branch");
    r.git(&["checkout", "-q", "main"]);
    r.git(&["checkout", "-q", "-b", "pr"]);
    r.write("pr.env", &env_file(TOKEN_B));
    let pr = r.commit("pr adds a token");
    r.write("base.env", &format!("{}# touched\n", env_file(TOKEN_A)));
    r.commit("pr touches the old file");

    let (doc, code) = scan_git(r.path(), &["--range", "main..pr"]);
    assert_eq!(code, 1);
    assert_eq!(finding(&doc, TOKEN_B)["commit"], pr.as_str());
    assert_eq!(finding(&doc, TOKEN_B)["path"], "pr.env");
    assert!(!has(&doc, TOKEN_C), "other branches are not in the range");
    // base.env changed in the range, but its token was already in main.
    assert!(
        !has(&doc, TOKEN_A),
        "nothing that was already in the base: {doc:#}"
    );

    // --since is base..HEAD.
    r.git(&["checkout", "-q", "pr"]);
    let (doc, _) = scan_git(r.path(), &["--since", "main"]);
    assert!(has(&doc, TOKEN_B) && !has(&doc, TOKEN_A) && !has(&doc, TOKEN_C));
}

#[test]
fn linked_worktree_and_separate_git_dir() {
    let r = Repo::new();
    r.write("app.env", &env_file(TOKEN_A));
    r.commit("config");
    let wt = TempDir::new().unwrap();
    let wt_path = wt.path().join("wt");
    r.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "side",
        wt_path.to_str().unwrap(),
    ]);
    let (doc, _) = scan_git(&wt_path, &[]);
    // The branch the worktree's HEAD is on comes first.
    assert_eq!(finding(&doc, TOKEN_A)["ref"], "refs/heads/side");

    // A work tree whose .git is a file pointing elsewhere.
    let sep = TempDir::new().unwrap();
    let work = sep.path().join("work");
    let gitdir = sep.path().join("store.git");
    fs::create_dir_all(&work).unwrap();
    git_in(
        &work,
        &[
            "init",
            "-q",
            "-b",
            "main",
            "--separate-git-dir",
            gitdir.to_str().unwrap(),
        ],
        1,
    );
    fs::write(work.join("x.env"), env_file(TOKEN_B)).unwrap();
    git_in(&work, &["add", "-A"], 2);
    git_in(&work, &["commit", "-q", "-m", "x"], 3);
    assert!(work.join(".git").is_file());
    let (doc, _) = scan_git(&work, &[]);
    assert_eq!(finding(&doc, TOKEN_B)["path"], "x.env");
}

#[test]
fn shallow_clone_and_submodules_are_noted() {
    let sub = Repo::new();
    sub.write("lib.txt", "library\n");
    sub.commit("lib");
    let r = Repo::new();
    r.write("app.env", &env_file(TOKEN_A));
    r.commit("one");
    r.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        sub.path().to_str().unwrap(),
        "vendor/lib",
    ]);
    r.commit("add submodule");
    let (doc, _) = scan_git(r.path(), &[]);
    let notes = doc["summary"]["notes"].to_string();
    assert!(notes.contains("submodule vendor/lib"), "{notes}");

    let r2 = Repo::new();
    r2.write("a.env", &env_file(TOKEN_A));
    r2.commit("one");
    r2.write("b.env", &env_file(TOKEN_B));
    r2.commit("two");
    let dest = TempDir::new().unwrap();
    let clone = dest.path().join("shallow");
    let url = format!("file://{}", r2.path().display());
    git_in(
        dest.path(),
        &["clone", "-q", "--depth", "1", &url, clone.to_str().unwrap()],
        1,
    );
    let (doc, _) = scan_git(&clone, &[]);
    assert!(doc["summary"]["notes"].to_string().contains("shallow"));
    assert!(
        has(&doc, TOKEN_A) && has(&doc, TOKEN_B),
        "what the shallow clone holds is scanned"
    );
}

#[test]
fn corrupt_object_is_reported_and_the_scan_goes_on() {
    let r = Repo::new();
    r.write("good.env", &env_file(TOKEN_A));
    r.commit("good");
    r.write("bad.txt", "this blob will be damaged on disk\n");
    r.commit("bad");
    let bad = r.git(&["rev-parse", "HEAD:bad.txt"]).trim().to_string();
    let p = r
        .path()
        .join(".git/objects")
        .join(&bad[..2])
        .join(&bad[2..]);
    let mut perms = fs::metadata(&p).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    fs::set_permissions(&p, perms).unwrap();
    fs::write(&p, b"not zlib at all").unwrap();

    let (doc, code) = scan_git(r.path(), &[]);
    assert_eq!(code, 2, "a damaged object makes the scan incomplete");
    assert!(has(&doc, TOKEN_A), "the scan went on");
    assert!(
        doc["summary"]["skipped"].to_string().contains(&bad),
        "{doc:#}"
    );
}

#[test]
fn not_a_repository_is_a_clear_error() {
    let d = TempDir::new().unwrap();
    let out = assert_cmd::Command::cargo_bin("credsweep")
        .unwrap()
        .args(["git", d.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not in a git repository"));
}

fn scan_staged(dir: &Path) -> (Value, i32) {
    credsweep(dir, &["staged"])
}

#[test]
fn staged_reads_the_index_not_the_work_tree() {
    let r = Repo::new();
    r.write("README.md", "hello\n");
    r.commit("initial");
    // Staged, then removed from the file without staging: still what the commit would hold.
    r.write("app.env", &env_file(TOKEN_A));
    r.git(&["add", "app.env"]);
    r.write("app.env", "export VOBIZ_AUTH_TOKEN=\n");
    let (doc, code) = scan_staged(r.path());
    assert_eq!(code, 1);
    let f = finding(&doc, TOKEN_A);
    assert_eq!(f["path"], "app.env");
    assert_eq!(f["line"], 2);
    r.git(&["reset", "-q"]);

    // A clean file staged, then a token written into the work tree only: nothing to report.
    r.write("clean.env", "export VOBIZ_AUTH_TOKEN=\n");
    r.git(&["add", "clean.env"]);
    r.write("clean.env", &env_file(TOKEN_B));
    let (doc, code) = scan_staged(r.path());
    assert_eq!(code, 0, "{doc:#}");
    assert!(findings(&doc).is_empty());
}

#[test]
fn staged_modified_and_renamed_in_subdirectories() {
    let r = Repo::new();
    for i in 0..50 {
        r.write(&format!("src/mod{}/file{i}.txt", i % 5), "plain text\n");
    }
    r.write("conf/app.env", &env_file(TOKEN_A));
    r.commit("initial");
    // Unchanged token in HEAD is not staged: not reported.
    r.write("src/mod3/new.env", &env_file(TOKEN_B));
    r.git(&["add", "src/mod3/new.env"]);
    r.git(&["mv", "conf/app.env", "conf/renamed.env"]);
    let (doc, _) = scan_staged(r.path());
    assert_eq!(finding(&doc, TOKEN_B)["path"], "src/mod3/new.env");
    // A rename is a new path and is scanned, but its secret was already committed (in the file
    // it was renamed from): listed as pre-existing, not blocking (issue 18.10).
    assert!(
        findings(&doc).iter().all(|f| f["secret"] != TOKEN_A),
        "{doc:#}"
    );
    let old: Vec<&Value> = doc["preexisting"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["secret"] == TOKEN_A)
        .collect();
    assert_eq!(old.len(), 1, "{doc:#}");
    assert_eq!(old[0]["path"], "conf/renamed.env");
}

#[test]
fn staged_with_nothing_staged_passes_and_says_so() {
    let r = Repo::new();
    r.write("README.md", "hello\n");
    r.commit("initial");
    let (doc, code) = scan_staged(r.path());
    assert_eq!(code, 0);
    assert!(
        doc["summary"]["notes"]
            .to_string()
            .contains("nothing staged")
    );

    // A fresh repository: nothing ever added, no index file yet.
    let fresh = Repo::new();
    let (_, code) = scan_staged(fresh.path());
    assert_eq!(code, 0);
    // First commit not made yet: everything staged is new.
    fresh.write("a.env", &env_file(TOKEN_C));
    fresh.git(&["add", "a.env"]);
    let (doc, code) = scan_staged(fresh.path());
    assert_eq!(code, 1);
    assert_eq!(finding(&doc, TOKEN_C)["path"], "a.env");
}

#[test]
fn staged_with_a_corrupt_index_fails() {
    let r = Repo::new();
    r.write("README.md", "hello\n");
    r.commit("initial");
    fs::write(r.path().join(".git/index"), b"DIRC garbage").unwrap();
    let out = assert_cmd::Command::cargo_bin("credsweep")
        .unwrap()
        .current_dir(r.path())
        .args(["staged"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "it never passes without having scanned"
    );
}

#[test]
fn blobs_in_several_packs_are_scanned_once() {
    let r = Repo::new();
    r.write("a.env", &env_file(TOKEN_A));
    r.commit("one");
    // Two overlapping packs (as after a fetch into a repository that was never repacked), plus
    // the loose copies: three copies of the first commit's blob, one scan.
    let pack = |name: &str| {
        let objects = r.git(&["rev-list", "--objects", "--all"]);
        let out = Command::new("git")
            .current_dir(r.path())
            .args(["pack-objects", "-q", &format!(".git/objects/pack/{name}")])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin.take().unwrap().write_all(objects.as_bytes())?;
                c.wait()
            })
            .unwrap();
        assert!(out.success());
    };
    pack("pack");
    r.write("b.txt", "plain\n");
    r.commit("two");
    pack("pack");
    let packs = fs::read_dir(r.path().join(".git/objects/pack"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "pack")
        })
        .count();
    assert_eq!(packs, 2);

    let (doc, _) = scan_git(r.path(), &[]);
    assert_eq!(
        doc["summary"]["scanned"], 2,
        "a.env and b.txt, once each: {doc:#}"
    );
    assert_eq!(finding(&doc, TOKEN_A)["other_locations"], 0);
}

#[test]
fn damaged_pack_entry_is_reported_and_the_rest_of_the_pack_is_scanned() {
    let r = Repo::new();
    r.write("good.env", &env_file(TOKEN_A));
    // Incompressible content, so the damage lands inside this object's zlib stream.
    let noise: String = (0..4000u32)
        .map(|i| char::from(b'a' + (i.wrapping_mul(2_654_435_761) >> 27) as u8 % 26))
        .collect();
    r.write("noise.txt", &noise);
    r.commit("both");
    r.git(&["gc", "-q"]);
    let victim = r.git(&["rev-parse", "HEAD:noise.txt"]).trim().to_string();
    let verify = r.git(&["verify-pack", "-v", &pack_index(r.path())]);
    let line = verify.lines().find(|l| l.starts_with(&victim)).unwrap();
    let offset: u64 = line.split_whitespace().nth(4).unwrap().parse().unwrap();
    let pack = pack_index(r.path()).replace(".idx", ".pack");
    let mut bytes = fs::read(&pack).unwrap();
    for b in &mut bytes[offset as usize + 200..offset as usize + 260] {
        *b = !*b;
    }
    let mut perms = fs::metadata(&pack).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    fs::set_permissions(&pack, perms).unwrap();
    fs::write(&pack, bytes).unwrap();

    let (doc, code) = scan_git(r.path(), &[]);
    assert_eq!(code, 2, "{doc:#}");
    assert!(
        has(&doc, TOKEN_A),
        "the rest of the pack is scanned: {doc:#}"
    );
    assert!(
        doc["summary"]["skipped"].to_string().contains(&victim),
        "{doc:#}"
    );
}

fn pack_index(repo: &Path) -> String {
    fs::read_dir(repo.join(".git/objects/pack"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "idx"))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

#[test]
fn path_scoped_rule_applies_only_where_its_path_matches() {
    // The same credential line in a `.git-credentials` file and in an ordinary file: the scoped
    // rule wins where its path matches, and the unscoped rule still reports the other copy.
    let repo = Repo::new();
    let line = "https://octo-ci:QI864uqTt7wFAKEK8d@github.com\n";
    repo.write("home/.git-credentials", line);
    repo.write("notes.txt", line);
    repo.commit("credentials in two places");
    let (doc, code) = scan_git(repo.path(), &[]);
    assert_eq!(code, 1);
    let mut got: Vec<(String, String)> = findings(&doc)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["rule_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (
                "home/.git-credentials".to_string(),
                "git-credentials".to_string()
            ),
            ("notes.txt".to_string(), "url-credentials".to_string()),
        ],
        "{doc:#}"
    );
}
