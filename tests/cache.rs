//! `credsweep git --cache DIR`: a warm scan reports what a cold one does (apart from the cache's
//! counters), finds what arrived since, is invalidated by a new rule, survives runs killed at any
//! moment and runs sharing the directory, ignores damaged or linked files, and holds no secret.
//!
//! Every credential here is fake (note the `FAKE` tails).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::fixtures::{TOKENS, env_file, files_under};
use common::{credsweep, git_at, git_with_input, write};
use serde_json::Value;
use sha2::Digest;
use tempfile::TempDir;

const TOKEN_A: &str = TOKENS[0];
const TOKEN_B: &str = TOKENS[1];
/// A `.pgpass` line: only a path-scoped rule reports it.
const PGPASS: &str = "db.acme.internal:5432:orders:app:QI864uqTt7wFAKEK8d\n";

/// A repository with findings (in a file later deleted, in a `.pgpass`, on a branch) and clean
/// files, `commits` commits of clean files before them.
fn repo_with_findings(clean_commits: usize) -> TempDir {
    let d = TempDir::new().unwrap();
    let p = d.path();
    let mut t = 1_700_000_000u64;
    let mut commit = |msg: &str| {
        t += 60;
        let date = format!("@{t} +0000");
        git_at(p, &["add", "-A"], &date);
        git_at(p, &["commit", "-q", "--allow-empty", "-m", msg], &date);
    };
    git_at(p, &["init", "-q", "."], "@1700000000 +0000");
    for i in 0..clean_commits {
        write(
            p,
            &format!("src/mod{}.rs", i % 7),
            format!("// version {i}\nfn f() {{}}\n"),
        );
        commit(&format!("clean {i}"));
    }
    write(p, "config/.env", env_file(TOKEN_A));
    write(p, ".pgpass", PGPASS);
    commit("add config");
    fs::remove_file(p.join("config/.env")).unwrap();
    commit("remove the leaked token");
    git_at(p, &["checkout", "-q", "-b", "feature"], "@1700000000 +0000");
    write(p, "deploy.sh", env_file(TOKEN_B));
    commit("deploy script");
    git_at(p, &["checkout", "-q", "main"], "@1700000000 +0000");
    d
}

/// A repository with clean files only.
fn clean_repo() -> TempDir {
    let d = TempDir::new().unwrap();
    let p = d.path();
    git_at(p, &["init", "-q", "."], "@1700000000 +0000");
    for i in 0..5 {
        write(
            p,
            &format!("notes/{i}.md"),
            format!("# note {i}\nnothing to see\n"),
        );
        let date = format!("@{} +0000", 1_700_000_000 + 60 * i);
        git_at(p, &["add", "-A"], &date);
        git_at(p, &["commit", "-q", "-m", &format!("note {i}")], &date);
    }
    d
}

/// Runs `credsweep git REPO --no-config` with `args`; exit code, stdout, stderr.
fn run(repo: &Path, args: &[&str]) -> (i32, String, String) {
    let out = credsweep()
        .arg("git")
        .arg(repo)
        .arg("--no-config")
        .args(args)
        .env_remove("CREDSWEEP_CACHE")
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The JSON report of a scan with `args`, and its exit code.
fn json(repo: &Path, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let (code, out, err) = run(repo, &all);
    let doc = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    (code, doc)
}

fn cache_args(cache: &Path) -> Vec<&str> {
    vec!["--cache", cache.to_str().unwrap()]
}

/// The report without the cache's counters (what differs between a cold and a warm scan); the
/// counters apart.
fn split_counters(mut doc: Value) -> (Value, Value) {
    let counters = doc["summary"]
        .as_object_mut()
        .unwrap()
        .remove("cache")
        .unwrap_or(Value::Null);
    (doc, counters)
}

/// A text report without its timing and the cache's line.
fn text_without_counters(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with("cache: "))
        .map(|l| match l.rfind(" in ") {
            Some(i) if l.ends_with(" s") => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn counter(counters: &Value, name: &str) -> u64 {
    counters[name]
        .as_u64()
        .unwrap_or_else(|| panic!("{name} in {counters}"))
}

/// The segments of the cache in `dir`.
fn segments(dir: &Path) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("seg-"))
        })
        .collect()
}

#[test]
fn warm_reports_equal_cold_ones_in_every_format() {
    let repo = repo_with_findings(12);
    let cache = TempDir::new().unwrap();
    let c = cache_args(cache.path());
    let (cold_code, cold) = json(repo.path(), &[]);
    assert_eq!(cold_code, 1);
    assert!(
        cold["summary"].get("cache").is_none(),
        "no cache, no counters"
    );

    let (first_code, first) = json(repo.path(), &c);
    let (warm_code, warm) = json(repo.path(), &c);
    assert_eq!((first_code, warm_code), (1, 1));
    let (first, first_counters) = split_counters(first);
    let (warm, warm_counters) = split_counters(warm);
    assert_eq!(
        first, cold,
        "a scan filling the cache reports what a cold one does"
    );
    assert_eq!(warm, cold, "a warm scan reports what a cold one does");
    assert_eq!(counter(&first_counters, "hits"), 0);
    assert!(counter(&first_counters, "stored") > 10);
    assert_eq!(
        counter(&warm_counters, "hits"),
        counter(&first_counters, "stored")
    );
    // The two blobs with findings are read again, and nothing else.
    assert_eq!(counter(&warm_counters, "misses"), 2);
    assert_eq!(counter(&warm_counters, "stored"), 0);
    assert_eq!(cold["findings"].as_array().unwrap().len(), 3);

    for format in ["sarif", "text"] {
        let (_, cold, _) = run(repo.path(), &["--format", format]);
        let mut args = vec!["--format", format];
        args.extend_from_slice(&c);
        let (_, warm, _) = run(repo.path(), &args);
        if format == "sarif" {
            assert_eq!(warm, cold, "SARIF carries no cache counter");
        } else {
            assert!(warm.contains("cache: "), "{warm}");
            assert_eq!(text_without_counters(&warm), text_without_counters(&cold));
        }
    }
}

/// The records of checked packs of the cache in `dir`.
fn pack_records(dir: &Path) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("packs-"))
        })
        .collect()
}

/// The packs of the repository at `repo`.
fn packs_of(repo: &Path) -> Vec<PathBuf> {
    fs::read_dir(repo.join(".git/objects/pack"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pack"))
        .collect()
}

/// A warm scan of `repo` reports what a cold one does; the exit code.
fn warm_equals_cold(repo: &Path, cache: &[&str]) -> i32 {
    let (code, warm) = json(repo, cache);
    let (cold_code, cold) = json(repo, &[]);
    assert_eq!(code, cold_code);
    assert_eq!(split_counters(warm).0, cold);
    code
}

#[test]
fn checked_packs_are_trusted_only_while_every_pack_of_the_record_is_there() {
    let repo = repo_with_findings(4);
    let p = repo.path();
    git_at(p, &["repack", "-adq"], "@1700000000 +0000");
    let cache = TempDir::new().unwrap();
    let c = cache_args(cache.path());
    assert_eq!(json(p, &c).0, 1);
    assert_eq!(pack_records(cache.path()).len(), 1, "packs alone: recorded");
    assert_eq!(warm_equals_cold(p, &c), 1);
    assert_eq!(
        pack_records(cache.path()).len(),
        1,
        "the same record is not written again"
    );

    // New commits arrive as a pack of their own: the first pack is covered, the new one is
    // checked, and both are recorded.
    write(p, "later/.env", env_file(TOKEN_B));
    git_at(p, &["add", "-A"], "@1800000000 +0000");
    git_at(p, &["commit", "-q", "-m", "later"], "@1800000000 +0000");
    git_at(p, &["repack", "-dq"], "@1800000000 +0000");
    assert_eq!(packs_of(p).len(), 2);
    assert_eq!(warm_equals_cold(p, &c), 1);
    assert_eq!(pack_records(cache.path()).len(), 2);

    // A repack of everything: a pack no record names, checked again.
    git_at(p, &["repack", "-adq"], "@1800000000 +0000");
    assert_eq!(warm_equals_cold(p, &c), 1);

    // The older of two packs goes: the newer one's trees name what it held. No record holds
    // any more, and every missing object is reported as a cold scan reports it.
    write(p, "last.txt", "plain\n");
    git_at(p, &["add", "-A"], "@1900000000 +0000");
    git_at(p, &["commit", "-q", "-m", "last"], "@1900000000 +0000");
    let before = packs_of(p);
    git_at(p, &["repack", "-dq"], "@1900000000 +0000");
    assert_eq!(json(p, &c).0, 1);
    for old in before {
        for ext in ["pack", "idx", "rev", "bitmap"] {
            let _ = fs::remove_file(old.with_extension(ext));
        }
    }
    assert_eq!(packs_of(p).len(), 1);
    assert_eq!(
        warm_equals_cold(p, &c),
        2,
        "missing objects: an incomplete scan"
    );
}

#[test]
fn a_clean_history_is_not_read_again() {
    let repo = clean_repo();
    let cache = TempDir::new().unwrap();
    let c = cache_args(cache.path());
    let (code, cold) = json(repo.path(), &[]);
    assert_eq!(code, 0);
    json(repo.path(), &c);
    let (code, warm) = json(repo.path(), &c);
    assert_eq!(code, 0);
    let (warm, counters) = split_counters(warm);
    assert_eq!(warm, cold);
    assert_eq!(counter(&counters, "misses"), 0);
    assert_eq!(counter(&counters, "hits"), 5);
    assert_eq!(warm["summary"]["scanned"], 5, "counted as scanned, as cold");
}

#[test]
fn what_arrives_after_a_cached_scan_is_found() {
    let repo = clean_repo();
    let p = repo.path();
    let cache = TempDir::new().unwrap();
    let c = cache_args(cache.path());
    assert_eq!(json(p, &c).0, 0);
    write(p, "later/.env", env_file(TOKEN_A));
    git_at(p, &["add", "-A"], "@1800000000 +0000");
    git_at(p, &["commit", "-q", "-m", "later"], "@1800000000 +0000");
    let (code, warm) = json(p, &c);
    assert_eq!(code, 1);
    let (warm, counters) = split_counters(warm);
    assert_eq!(warm, json(p, &[]).1);
    assert_eq!(warm["findings"][0]["path"], "later/.env");
    assert_eq!(counter(&counters, "hits"), 5);
    assert_eq!(counter(&counters, "misses"), 1);
}

#[test]
fn a_new_rule_or_a_changed_option_starts_afresh() {
    let repo = clean_repo();
    let p = repo.path();
    write(p, "notes/acme.txt", "key: acme_k3y9pq4x7wz2mfak\n");
    git_at(p, &["add", "-A"], "@1800000000 +0000");
    git_at(p, &["commit", "-q", "-m", "acme"], "@1800000000 +0000");
    let cache = TempDir::new().unwrap();
    let c = cache_args(cache.path());
    let (code, _) = json(p, &c);
    assert_eq!(code, 0, "no built-in rule knows acme keys");

    let rules = TempDir::new().unwrap();
    let rule_file = write(
        rules.path(),
        "acme.toml",
        "[[rule]]\nid = \"acme-key\"\ndescription = \"Acme key\"\nseverity = \"error\"\n\
         regex = '(?P<secret>acme_[a-z0-9]{14})'\nkeywords = [\"acme_\"]\n",
    );
    let mut args = c.clone();
    args.extend_from_slice(&["--rules", rule_file.to_str().unwrap()]);
    let (code, doc) = json(p, &args);
    assert_eq!(code, 1, "the new rule runs on every blob: {doc}");
    let (doc, counters) = split_counters(doc);
    assert_eq!(counter(&counters, "hits"), 0);
    assert_eq!(doc["findings"][0]["rule_id"], "acme-key");

    // A changed scan option is another key too.
    let mut args = c.clone();
    args.extend_from_slice(&["--max-decode-depth", "0"]);
    let (_, doc) = json(p, &args);
    assert_eq!(counter(&doc["summary"]["cache"], "hits"), 0);
    // And the first key's entries are still there.
    let (_, doc) = json(p, &c);
    assert_eq!(counter(&doc["summary"]["cache"], "hits"), 6);
}

#[test]
fn damaged_foreign_and_linked_cache_files_are_ignored_with_a_note() {
    let repo = repo_with_findings(6);
    let p = repo.path();
    let cache = TempDir::new().unwrap();
    let c = cache_args(cache.path());
    let cold = json(p, &[]).1;
    json(p, &c);
    let segs = segments(cache.path());
    assert_eq!(segs.len(), 1);
    let dir = segs[0].parent().unwrap().to_path_buf();
    // A copy cut short, a file of garbage, a link to a device, and a copy with one byte changed.
    let bytes = fs::read(&segs[0]).unwrap();
    fs::write(dir.join("seg-1-cut.bin"), &bytes[..bytes.len() / 2]).unwrap();
    fs::write(dir.join("seg-2-garbage.bin"), b"not a cache file at all").unwrap();
    let mut flipped = bytes.clone();
    flipped[60] ^= 1;
    fs::write(dir.join("seg-3-flipped.bin"), &flipped).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("/dev/zero", dir.join("seg-4-link.bin")).unwrap();
    // And the real one cut too: the scan must read everything again.
    fs::write(&segs[0], &bytes[..bytes.len() - 1]).unwrap();

    let (code, warm) = json(p, &c);
    assert_eq!(code, 1);
    let (warm, counters) = split_counters(warm);
    let expected = if cfg!(unix) { 5 } else { 4 };
    assert_eq!(counter(&counters, "ignored"), expected);
    assert_eq!(counter(&counters, "hits"), 0);
    let notes: Vec<&str> = warm["summary"]["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n.as_str())
        .filter(|n| n.starts_with("cache: ignored"))
        .collect();
    assert_eq!(notes.len(), expected as usize, "{notes:?}");
    assert_eq!(warm["findings"], cold["findings"]);
}

#[cfg(unix)]
#[test]
fn a_linked_cache_directory_is_refused() {
    let repo = clean_repo();
    let real = TempDir::new().unwrap();
    let link_dir = TempDir::new().unwrap();
    let link = link_dir.path().join("cache");
    std::os::unix::fs::symlink(real.path(), &link).unwrap();
    let (code, _, err) = run(repo.path(), &["--cache", link.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("symbolic link"), "{err}");
    assert!(fs::read_dir(real.path()).unwrap().next().is_none());
}

#[test]
fn the_cache_holds_no_secret_and_no_path() {
    let repo = repo_with_findings(3);
    let cache = TempDir::new().unwrap();
    let c = cache_args(cache.path());
    json(repo.path(), &c);
    json(repo.path(), &c);
    let files = files_under(cache.path());
    assert!(!files.is_empty());
    for f in files {
        let bytes = fs::read(&f).unwrap_or_default();
        for needle in [
            TOKEN_A,
            TOKEN_B,
            "QI864uqTt7wFAKEK8d",
            "VOBIZ",
            ".pgpass",
            "config/",
        ] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{} holds {needle}",
                f.display()
            );
        }
    }
}

#[test]
fn range_scans_bypass_the_cache_with_a_note_and_the_environment_names_it() {
    let repo = repo_with_findings(3);
    let p = repo.path();
    let cache = TempDir::new().unwrap();
    let mut args = cache_args(cache.path());
    args.extend_from_slice(&["--since", "HEAD~1"]);
    let (_, doc) = json(p, &args);
    assert!(doc["summary"].get("cache").is_none());
    let notes = doc["summary"]["notes"].to_string();
    assert!(
        notes.contains("cache: not used for a scan of a range"),
        "{notes}"
    );
    assert!(segments(cache.path()).is_empty());

    // CREDSWEEP_CACHE is used unless --no-cache.
    let from_env = |extra: &[&str]| {
        let out = credsweep()
            .arg("git")
            .arg(p)
            .args(["--no-config", "--format", "json"])
            .args(extra)
            .env("CREDSWEEP_CACHE", cache.path())
            .output()
            .unwrap();
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    assert!(from_env(&[])["summary"]["cache"].is_object());
    assert_eq!(segments(cache.path()).len(), 1);
    assert!(from_env(&["--no-cache"])["summary"].get("cache").is_none());
}

/// A repository of `n` clean commits of a few files each, with one finding at the end: enough
/// work for a run to be killed in the middle of it.
fn larger_repo(n: usize) -> TempDir {
    let d = TempDir::new().unwrap();
    let p = d.path();
    git_at(p, &["init", "-q", "."], "@1700000000 +0000");
    // fast-import: thousands of blobs in one process.
    let mut script = String::new();
    for i in 0..n {
        let t = 1_700_000_000 + i * 60;
        script.push_str(&format!(
            "commit refs/heads/main\ncommitter Ann Example <ann@example.invalid> {t} +0000\n\
             data <<EOM\nchange {i}\nEOM\n"
        ));
        for f in 0..4 {
            let body = format!(
                "// file {f}, version {i}\n{}\n",
                "let x = 1;\n".repeat(40 + f)
            );
            script.push_str(&format!(
                "M 100644 inline src/f{f}_{}.rs\ndata {}\n{body}\n",
                i % 50,
                body.len()
            ));
        }
        if i == n - 1 {
            let body = env_file(TOKEN_A);
            script.push_str(&format!(
                "M 100644 inline .env\ndata {}\n{body}\n",
                body.len()
            ));
        }
    }
    git_with_input(p, &["fast-import", "--quiet"], script.as_bytes());
    git_at(p, &["reset", "-q", "--hard", "main"], "@1700000000 +0000");
    d
}

fn spawn_scan(repo: &Path, cache: &Path) -> std::process::Child {
    Command::new(assert_cmd::cargo::cargo_bin("credsweep"))
        .arg("git")
        .arg(repo)
        .args([
            "--no-config",
            "--format",
            "json",
            "--threads",
            "2",
            "--cache",
        ])
        .arg(cache)
        .env_remove("CREDSWEEP_CACHE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn runs_killed_at_any_moment_leave_a_cache_that_misses_nothing() {
    let repo = larger_repo(600);
    let p = repo.path();
    let cold = json(p, &[]).1;
    assert_eq!(cold["findings"].as_array().unwrap().len(), 1);
    let cache = TempDir::new().unwrap();
    // Killed early, in the middle, near the end and (likely) while writing; each time the next
    // run on the same cache must report what a cold one does.
    for delay_ms in [0u64, 30, 120, 300, 600, 1000] {
        let mut child = spawn_scan(p, cache.path());
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        let (code, warm) = json(p, &cache_args(cache.path()));
        assert_eq!(code, 1, "after a kill at {delay_ms} ms");
        let (warm, counters) = split_counters(warm);
        assert_eq!(warm, cold, "after a kill at {delay_ms} ms");
        assert_eq!(
            counter(&counters, "ignored"),
            0,
            "a kill leaves no damaged segment"
        );
    }
}

#[test]
fn runs_sharing_a_cache_directory_both_finish_correct() {
    let repo = larger_repo(300);
    let p = repo.path();
    let cold = json(p, &[]).1;
    let cache = TempDir::new().unwrap();
    // Rounds of two runs at once: the first pair fills the cache together, later pairs read it
    // while the other writes and compacts.
    for round in 0..(4 + 2) {
        let a = spawn_scan(p, cache.path());
        let b = spawn_scan(p, cache.path());
        for child in [a, b] {
            let out = child.wait_with_output().unwrap();
            assert_eq!(out.status.code(), Some(1), "round {round}");
            let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
            let (doc, counters) = split_counters(doc);
            assert_eq!(doc, cold, "round {round}");
            assert_eq!(counter(&counters, "ignored"), 0, "round {round}");
        }
    }
    let (_, warm) = json(p, &cache_args(cache.path()));
    let (warm, counters) = split_counters(warm);
    assert_eq!(warm, cold);
    assert_eq!(
        counter(&counters, "misses"),
        1,
        "only the blob with a finding"
    );
}

/// The full id of `rev` in `repo`.
fn rev_parse(repo: &Path, rev: &str) -> String {
    git_at(repo, &["rev-parse", rev], "@1700000000 +0000")
        .trim()
        .to_string()
}

#[test]
fn messages_and_trees_known_clean_are_spared_and_reports_stay_exact() {
    let repo = repo_with_findings(12);
    let p = repo.path();
    let cache = TempDir::new().unwrap();
    let c = cache_args(cache.path());
    let (_, first) = json(p, &c);
    let first_counters = split_counters(first).1;
    assert_eq!(counter(&first_counters, "messages"), 0);
    assert_eq!(counter(&first_counters, "trees"), 0);
    let (code, warm) = json(p, &c);
    assert_eq!(code, 1);
    let (warm, counters) = split_counters(warm);
    assert_eq!(warm, json(p, &[]).1);
    // Every message is clean: none is scanned again.
    let commits = warm["summary"]["commits"].as_u64().unwrap();
    assert_eq!(counter(&counters, "messages"), commits);
    // The versions of `src` hold clean blobs only: known, not parsed again. A root tree holds
    // `.pgpass` or a blob with findings, so it is never known clean.
    assert!(counter(&counters, "trees") > 0, "{counters}");
    assert!(counter(&counters, "trees") < commits, "{counters}");
}

#[test]
fn an_old_tree_holding_a_finding_reused_by_new_commits_is_located() {
    let repo = repo_with_findings(4);
    let p = repo.path();
    let cache = TempDir::new().unwrap();
    let c = cache_args(cache.path());
    assert_eq!(json(p, &c).0, 1);
    // A new commit brings back the old `config` tree (with the token) at another path (a tree
    // seen before: no new place), beside a copy of a `src` tree the cache knows clean, and the
    // token's blob in a new tree (a new place).
    let date = "@1800000000 +0000";
    git_at(p, &["read-tree", "--prefix=copy/", "HEAD~1:config"], date);
    git_at(p, &["read-tree", "--prefix=again/", "HEAD:src"], date);
    write(p, "copy2/.env", env_file(TOKEN_A));
    write(p, "copy2/notes.txt", "plain\n");
    git_at(p, &["add", "copy2"], date);
    git_at(p, &["commit", "-q", "-m", "old trees again"], date);
    let (code, warm) = json(p, &c);
    assert_eq!(code, 1);
    let (warm, counters) = split_counters(warm);
    assert_eq!(warm, json(p, &[]).1);
    assert!(counter(&counters, "trees") > 0, "{counters}");
    assert!(warm.to_string().contains("copy2/.env"), "{warm}");
}

#[test]
fn a_ref_made_to_reach_an_older_commit_names_its_findings() {
    let repo = repo_with_findings(4);
    let p = repo.path();
    // A commit no ref reaches, with a token in a directory of its own.
    let date = "@1750000000 +0000";
    git_at(p, &["checkout", "-q", "--detach"], date);
    write(p, "old/deploy.env", env_file(TOKENS[2]));
    git_at(p, &["add", "-A"], date);
    git_at(p, &["commit", "-q", "-m", "dangling"], date);
    let dangling = rev_parse(p, "HEAD");
    git_at(p, &["checkout", "-q", "main"], date);
    let cache = TempDir::new().unwrap();
    let c = cache_args(cache.path());
    let (_, first) = json(p, &c);
    assert!(first.to_string().contains("unreachable"), "{first}");
    // The ref now reaches it: the same findings, named by the ref, as a cold scan names them.
    git_at(p, &["branch", "rescued", &dangling], date);
    assert_eq!(warm_equals_cold(p, &c), 1);
    let (_, warm) = json(p, &c);
    assert!(warm.to_string().contains("refs/heads/rescued"), "{warm}");
}

#[test]
fn trees_known_clean_survive_a_repack() {
    let repo = repo_with_findings(8);
    let p = repo.path();
    let cache = TempDir::new().unwrap();
    let c = cache_args(cache.path());
    assert_eq!(json(p, &c).0, 1);
    git_at(p, &["repack", "-adq"], "@1800000000 +0000");
    assert_eq!(packs_of(p).len(), 1);
    let (code, warm) = json(p, &c);
    assert_eq!(code, 1);
    let (warm, counters) = split_counters(warm);
    assert_eq!(warm, json(p, &[]).1);
    assert!(counter(&counters, "trees") > 0, "{counters}");
}

/// How many commits the history of `repo` holds, reachable from a ref or not.
fn count_commits(repo: &Path) -> u64 {
    git_at(
        repo,
        &["rev-list", "--count", "--all", "--reflog"],
        "@1700000000 +0000",
    )
    .trim()
    .parse()
    .unwrap()
}

#[test]
fn commits_known_to_the_cache_are_not_decoded_and_the_graph_stays_exact() {
    let repo = repo_with_findings(6);
    let p = repo.path();
    // A commit whose message holds a token: its message is scanned on every run, so the commit
    // is never taken from the cache.
    let date = "@1750000000 +0000";
    write(p, "notes.txt", "plain\n");
    git_at(p, &["add", "-A"], date);
    let message = format!("deploy with VOBIZ_AUTH_TOKEN={}", TOKENS[2]);
    git_at(p, &["commit", "-q", "-m", &message], date);
    // Commits are taken from the cache in packs only: loose ones are read as ever.
    git_at(p, &["repack", "-adq"], date);
    let cache = TempDir::new().unwrap();
    let c = cache_args(cache.path());
    let (_, first) = json(p, &c);
    assert_eq!(counter(&split_counters(first).1, "commits"), 0);
    let all = count_commits(p);
    let (code, warm) = json(p, &c);
    assert_eq!(code, 1);
    let (warm, counters) = split_counters(warm);
    assert_eq!(warm, json(p, &[]).1);
    assert!(warm.to_string().contains("commit-message"), "{warm}");
    assert_eq!(counter(&counters, "commits"), all - 1, "{counters}");

    // What arrives in a pack of its own is decoded: a merge of the feature branch, a commit
    // with a token, and main rewritten to drop its last commit (which then no ref reaches).
    let date = "@1800000000 +0000";
    git_at(
        p,
        &["merge", "-q", "--no-ff", "-m", "merge feature", "feature"],
        date,
    );
    write(p, "later/.env", env_file(TOKEN_B));
    git_at(p, &["add", "-A"], date);
    git_at(p, &["commit", "-q", "-m", "later"], date);
    git_at(p, &["branch", "-f", "feature", "HEAD~1"], date);
    git_at(p, &["reset", "-q", "--hard", "HEAD~1"], date);
    git_at(p, &["repack", "-dq"], date);
    assert_eq!(packs_of(p).len(), 2);
    let (code, warm) = json(p, &c);
    assert_eq!(code, 1);
    let (warm, counters) = split_counters(warm);
    assert_eq!(warm, json(p, &[]).1);
    assert_eq!(counter(&counters, "commits"), all - 1, "{counters}");
    assert_eq!(warm["summary"]["commits"], all + 2);

    // Repacked whole: the commits are known by id, wherever they are stored.
    git_at(p, &["repack", "-adq"], date);
    let (code, warm) = json(p, &c);
    assert_eq!(code, 1);
    let (warm, counters) = split_counters(warm);
    assert_eq!(warm, json(p, &[]).1);
    assert_eq!(counter(&counters, "commits"), all + 1, "{counters}");
}

#[test]
fn a_cache_of_an_earlier_format_is_not_used() {
    let repo = repo_with_findings(3);
    let p = repo.path();
    git_at(p, &["repack", "-adq"], "@1800000000 +0000");
    let cache = TempDir::new().unwrap();
    let c = cache_args(cache.path());
    assert_eq!(json(p, &c).0, 1);
    // Every cache file rewritten as an earlier format's (the format field, then a checksum
    // that holds): each is ignored with a note, and the scan reads everything.
    let files: Vec<PathBuf> = files_under(cache.path())
        .into_iter()
        .filter(|f| f.extension().is_some_and(|x| x == "bin"))
        .collect();
    assert!(!files.is_empty());
    for f in &files {
        let mut bytes = fs::read(f).unwrap();
        bytes[8..12].copy_from_slice(&2u32.to_le_bytes());
        let body = bytes.len() - 32;
        let sum = sha2::Sha256::digest(&bytes[..body]);
        bytes[body..].copy_from_slice(&sum);
        fs::write(f, bytes).unwrap();
    }
    let (code, warm) = json(p, &c);
    assert_eq!(code, 1);
    let (warm, counters) = split_counters(warm);
    assert_eq!(warm["findings"], json(p, &[]).1["findings"]);
    assert_eq!(counter(&counters, "ignored"), files.len() as u64);
    for name in ["hits", "messages", "trees", "commits"] {
        assert_eq!(counter(&counters, name), 0, "{name}: {counters}");
    }
    assert!(warm.to_string().contains("of this version"), "{warm}");
    // What that scan learned is used by the next.
    let (_, again) = json(p, &c);
    assert!(counter(&split_counters(again).1, "commits") > 0);
}
