//! `credsweep repos LIST` and `credsweep merge`: many repositories in one run, shards of a list
//! merged back, and the coverage record that proves (or disproves) every repository was read.
//!
//! Every credential here is fake (note the `FAKE` tails), shaped like the real thing.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use serde_json::Value;
use tempfile::TempDir;

use common::fixtures::{TOKENS, commit_all, env_file, library, repo_with_env, superproject};
use common::{credsweep, git, write};

/// Runs credsweep in `cwd`; the exit status, stdout and stderr.
fn run(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let out = credsweep()
        .current_dir(cwd)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        err,
    )
}

/// `credsweep repos LIST --format json` with `extra`; the exit status, the report and stderr.
fn repos(cwd: &Path, list: &str, extra: &[&str]) -> (i32, Value, String) {
    let list_file = cwd.join("list.txt");
    fs::write(&list_file, list).unwrap();
    let mut args = vec!["repos", "list.txt", "--format", "json", "--no-config"];
    args.extend_from_slice(extra);
    let (code, out, err) = run(cwd, &args);
    let doc = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("exit {code}, no JSON report ({e}): {out}\n{err}"));
    (code, doc, err)
}

/// `credsweep repos LIST --format FORMAT --no-config --shard SHARD -o OUT` in `cwd`, with the
/// list already in `cwd/LIST`; the exit status and stderr.
fn shard_report(cwd: &Path, list: &str, format: &str, shard: &str, out: &str) -> (i32, String) {
    let args = [
        "repos",
        list,
        "--format",
        format,
        "--no-config",
        "--shard",
        shard,
        "-o",
        out,
    ];
    let (code, _, err) = run(cwd, &args);
    (code, err)
}

fn coverage(doc: &Value) -> Vec<(String, String)> {
    doc["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["repo"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Every finding of every repository: (repo, secret).
fn found(doc: &Value) -> BTreeSet<(String, String)> {
    doc["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["findings"].as_array().unwrap())
        .map(|f| {
            (
                f["repo"].as_str().unwrap().to_string(),
                f["secret"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn local_paths_bare_repositories_and_file_urls_are_scanned() {
    let d = TempDir::new().unwrap();
    repo_with_env(d.path(), "a", Some(TOKENS[0]));
    let b = repo_with_env(d.path(), "b", Some(TOKENS[1]));
    git(d.path(), &["clone", "-q", "--bare", "b", "b.git"]);
    let c = repo_with_env(d.path(), "c", Some(TOKENS[2]));
    let url = format!("file://{}", c.display());
    let list = format!(
        "# the org\n\n./a\n{}\n  {url}  \n",
        d.path().join("b.git").display()
    );
    let (code, doc, err) = repos(d.path(), &list, &["--no-redact", "--jobs", "2"]);
    assert_eq!(code, 1, "{err}");
    let bare = d.path().join("b.git").display().to_string();
    assert_eq!(
        found(&doc),
        BTreeSet::from([
            ("./a".to_string(), TOKENS[0].to_string()),
            (bare.clone(), TOKENS[1].to_string()),
            (url.clone(), TOKENS[2].to_string()),
        ])
    );
    assert_eq!(
        coverage(&doc),
        vec![
            ("./a".to_string(), "scanned".to_string()),
            (bare, "scanned".to_string()),
            (url, "scanned".to_string()),
        ]
    );
    // Each records the branch it started from, and what it read.
    let head_b = git(&b, &["rev-parse", "HEAD"]).trim().to_string();
    let row = &doc["coverage"][1];
    assert_eq!(row["heads"][0]["commit"], head_b.as_str(), "{row:#}");
    assert!(row["blobs"].as_u64().unwrap() >= 1);
    assert!(row["bytes"].as_u64().unwrap() > 0);
    assert_eq!(doc["summary"]["findings"], 3);
    assert_eq!(doc["list"]["repositories"].as_array().unwrap().len(), 3);
    // The one-screen summary is on stderr.
    assert!(err.contains("3 repositories in the list"), "{err}");
    assert!(err.contains("most findings"), "{err}");
    // The temporary mirror of the URL is gone.
    let leftovers: Vec<_> = fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("credsweep-clone-")
        })
        .collect();
    let _ = leftovers; // other test processes may be cloning at the same time: not asserted.
    let _ = c;
}

#[test]
fn kept_clones_are_reused_and_credentials_in_urls_are_redacted() {
    let d = TempDir::new().unwrap();
    let c = repo_with_env(d.path(), "c", Some(TOKENS[2]));
    // git ignores the user information of a file:// URL; it is redacted wherever it is shown.
    let url = format!("file://user:FAKEpass@localhost{}", c.display());
    let keep = d.path().join("mirrors");
    let keep_s = keep.display().to_string();
    let (code, doc, err) = repos(d.path(), &format!("{url}\n"), &["--keep-clones", &keep_s]);
    assert_eq!(code, 1, "{err}");
    let all = format!("{doc}{err}");
    assert!(!all.contains("FAKEpass"), "{all}");
    assert!(all.contains("user:***@localhost"), "{all}");
    // Nor does the kept mirror hold it.
    let mirror = fs::read_dir(&keep).unwrap().next().unwrap().unwrap().path();
    let config = fs::read_to_string(mirror.join("config")).unwrap();
    assert!(!config.contains("FAKEpass"), "{config}");

    // The same repository without the credentials is the same mirror, fetched into.
    let url = format!("file://localhost{}", c.display());
    let (code, doc, err) = repos(d.path(), &format!("{url}\n"), &["--keep-clones", &keep_s]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(doc["summary"]["findings"], 1);
    assert_eq!(fs::read_dir(&keep).unwrap().count(), 1);
    // A new commit upstream is fetched into the kept mirror on the next run.
    write(&c, "later.env", format!("VOBIZ_AUTH_TOKEN={}\n", TOKENS[0]));
    commit_all(&c, "two");
    let (code, doc, err) = repos(d.path(), &format!("{url}\n"), &["--keep-clones", &keep_s]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(doc["summary"]["findings"], 2, "{doc:#}");
}

#[test]
fn a_missing_repository_is_recorded_and_the_others_are_scanned() {
    let d = TempDir::new().unwrap();
    repo_with_env(d.path(), "a", Some(TOKENS[0]));
    repo_with_env(d.path(), "z", Some(TOKENS[1]));
    let list = "./a\n./nowhere\nfile:///nonexistent/credsweep/repo.git\n./z\n";
    let (code, doc, err) = repos(d.path(), list, &["--no-redact"]);
    assert_eq!(code, 2, "{err}");
    let statuses: Vec<String> = coverage(&doc).into_iter().map(|(_, s)| s).collect();
    assert_eq!(statuses, ["scanned", "failed", "failed", "scanned"]);
    assert!(doc["coverage"][1]["reason"].as_str().unwrap().len() > 10);
    assert_eq!(found(&doc).len(), 2);
    assert!(err.contains("failed: ./nowhere"), "{err}");
    assert!(err.contains("coverage is incomplete"), "{err}");
}

/// Six repositories, four of them with a token.
fn org(d: &Path) -> String {
    let mut list = String::new();
    for i in 0..6 {
        let name = format!("r{i}");
        repo_with_env(d, &name, (i % 3 != 0).then(|| TOKENS[i % 3]));
        list += &format!("./{name}\n");
    }
    list
}

#[test]
fn shards_merged_equal_one_unsharded_run() {
    let d = TempDir::new().unwrap();
    let list = org(d.path());
    let (code, whole, err) = repos(d.path(), &list, &[]);
    assert_eq!(code, 1, "{err}");
    let n = 3;
    let mut files = Vec::new();
    for k in 1..=n {
        let out = format!("shard-{k}.json");
        let shard = format!("{k}/{n}");
        let (code, err) = shard_report(d.path(), "list.txt", "json", &shard, &out);
        assert!(code == 0 || code == 1, "{err}");
        files.push(out);
    }
    let mut args = vec!["merge", "-o", "merged.json"];
    args.extend(files.iter().map(String::as_str));
    let (code, _, err) = run(d.path(), &args);
    assert_eq!(code, 1, "{err}");
    let merged: Value =
        serde_json::from_str(&fs::read_to_string(d.path().join("merged.json")).unwrap()).unwrap();
    assert_eq!(merged["repositories"], whole["repositories"]);
    assert_eq!(merged["coverage"], whole["coverage"]);
    assert_eq!(merged["summary"], whole["summary"]);
    assert_eq!(merged["list"], whole["list"]);
    assert_eq!(merged["shards"].as_array().unwrap().len(), n);
    assert!(err.contains("3 shards merged"), "{err}");
}

#[test]
fn the_coverage_record_names_a_repository_no_shard_scanned() {
    let d = TempDir::new().unwrap();
    let list = org(d.path());
    fs::write(d.path().join("list.txt"), &list).unwrap();
    let n = 2;
    // Which shard each repository is in, from the shard reports themselves.
    let mut owned = Vec::new();
    for k in 1..=n {
        let shard = format!("{k}/{n}");
        let out = format!("s{k}.json");
        shard_report(d.path(), "list.txt", "json", &shard, &out);
        let doc: Value =
            serde_json::from_str(&fs::read_to_string(d.path().join(&out)).unwrap()).unwrap();
        owned.push(
            coverage(&doc)
                .into_iter()
                .map(|(r, _)| r)
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(owned[0].len() + owned[1].len(), 6);
    // Only the first shard's report is given.
    let (code, out, err) = run(d.path(), &["merge", "s1.json"]);
    assert_eq!(code, 2, "{err}");
    let merged: Value = serde_json::from_str(&out).unwrap();
    let rows = coverage(&merged);
    assert_eq!(rows.len(), 6);
    for (repo, status) in rows {
        let expected = if owned[0].contains(&repo) {
            "scanned"
        } else {
            "missing"
        };
        assert_eq!(status, expected, "{repo}");
    }
    assert!(err.contains("no report of shard 2/2"), "{err}");
    assert!(err.contains("missing: ./"), "{err}");
}

#[test]
fn adding_a_line_moves_only_that_line() {
    let d = TempDir::new().unwrap();
    // Repositories that do not exist are recorded (failed) in their shard all the same.
    let lines: Vec<String> = (0..30).map(|i| format!("./repo-{i}")).collect();
    let n = 4;
    let shares = |list: &str| -> Vec<BTreeSet<String>> {
        (1..=n)
            .map(|k| {
                let shard = format!("{k}/{n}");
                let (code, doc, err) = repos(d.path(), list, &["--shard", &shard, "-q"]);
                assert!(
                    code == 2 || doc["coverage"].as_array().unwrap().is_empty(),
                    "{err}"
                );
                coverage(&doc).into_iter().map(|(r, _)| r).collect()
            })
            .collect()
    };
    let before = shares(&lines.join("\n"));
    let after = shares(&format!("{}\n./repo-new\n", lines.join("\n")));
    let mut moved = 0;
    for (b, a) in before.iter().zip(&after) {
        let added: Vec<_> = a.difference(b).collect();
        assert!(
            b.is_subset(a),
            "a repository left its shard: {b:?} -> {a:?}"
        );
        moved += added.len();
        assert!(added.iter().all(|r| *r == "./repo-new"));
    }
    assert_eq!(moved, 1);
    // Every repository is in exactly one shard.
    let total: usize = before.iter().map(BTreeSet::len).sum();
    assert_eq!(total, 30);
}

#[test]
fn hostile_lines_inject_no_option_and_no_terminal_escape() {
    let d = TempDir::new().unwrap();
    repo_with_env(d.path(), "a", Some(TOKENS[0]));
    let marker = d.path().join("pwned");
    let m = marker.display();
    let list = format!(
        "--upload-pack=touch {m}\n-o\nfile:///x --upload-pack=touch%20{m}\next::sh -c touch% {m}\nssh://-oProxyCommand=touch%20{m}/r\n./a\u{1b}]0;title\u{7}\n./a\u{1b}[2J\n./a\n"
    );
    let (code, doc, err) = repos(d.path(), &list, &["--clone-timeout", "30"]);
    assert_eq!(code, 2, "{err}");
    assert!(!marker.exists(), "a list line ran a command");
    let rows = coverage(&doc);
    assert_eq!(rows.len(), 8, "{rows:?}");
    assert_eq!(rows.last().unwrap().1, "scanned");
    assert!(rows[..7].iter().all(|(_, s)| s == "failed"), "{rows:?}");
    // No control character reaches the terminal, none is raw in the report.
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
    let raw = serde_json::to_string(&doc).unwrap();
    assert!(!raw.contains("\\u001b"), "{raw}");
    // `-o` in the list is not the output option: the report went to standard output.
    assert!(!d.path().join("-o").exists());
}

#[test]
fn merge_refuses_reports_it_cannot_trust() {
    let d = TempDir::new().unwrap();
    let list = org(d.path());
    fs::write(d.path().join("list.txt"), &list).unwrap();
    shard_report(d.path(), "list.txt", "json", "1/2", "s1.json");
    fs::write(d.path().join("other.txt"), "./r0\n").unwrap();
    run(
        d.path(),
        &[
            "repos",
            "other.txt",
            "--format",
            "json",
            "--no-config",
            "-o",
            "other.json",
        ],
    );
    let text = fs::read_to_string(d.path().join("s1.json")).unwrap();
    fs::write(d.path().join("cut.json"), &text[..text.len() / 2]).unwrap();
    fs::write(
        d.path().join("extra.json"),
        text.replacen("\"scan\": \"repos\"", "\"scan\": \"repos\", \"x\": 1", 1),
    )
    .unwrap();
    for (args, expect) in [
        (vec!["merge", "s1.json", "s1.json"], "in two reports"),
        (vec!["merge", "s1.json", "other.json"], "another list"),
        (vec!["merge", "cut.json"], "cut short"),
        (vec!["merge", "extra.json"], "not a report"),
        (vec!["merge", "/dev/zero"], "cannot read the report"),
        (vec!["merge", "nothing.json"], "cannot read the report"),
    ] {
        let (code, out, err) = run(d.path(), &args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
        assert!(err.contains(expect), "{args:?}: {err}");
    }
}

#[test]
fn the_list_can_come_from_standard_input_and_text_reports_name_each_repository() {
    let d = TempDir::new().unwrap();
    repo_with_env(d.path(), "a", Some(TOKENS[0]));
    repo_with_env(d.path(), "b", None);
    let out = credsweep()
        .current_dir(d.path())
        .args(["repos", "-", "--no-config", "--color", "never"])
        .write_stdin("./a\n./b\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("== ./a\n"), "{text}");
    assert!(text.contains("== ./b\n"), "{text}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("2 scanned, 0 incomplete, 0 failed"), "{err}");
}

/// Copies the directory tree `from` to `to`.
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// Peak resident memory (KiB) of `credsweep repos` over a list of `count` copies of a small
/// repository, from `wait4`.
fn peak_rss(d: &Path, count: usize) -> u64 {
    let mut list = String::new();
    for i in 0..count {
        let p = d.join(format!("copy-{i}"));
        if !p.exists() {
            copy_tree(&d.join("seed"), &p);
        }
        list += &format!("{}\n", p.display());
    }
    let list_file = d.join(format!("list-{count}.txt"));
    fs::write(&list_file, list).unwrap();
    // Reaped by the wait4 below, which also reads its peak memory.
    #[allow(clippy::zombie_processes)]
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("credsweep"))
        .args([
            "repos",
            "--format",
            "json",
            "--no-config",
            "--jobs",
            "2",
            "-q",
        ])
        .arg(&list_file)
        .arg("-o")
        .arg(d.join(format!("report-{count}.json")))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value, and wait4 only writes into the two locals.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4");
    assert!(libc::WIFEXITED(status));
    assert_eq!(libc::WEXITSTATUS(status), 1, "every copy has a finding");
    let doc: Value =
        serde_json::from_str(&fs::read_to_string(d.join(format!("report-{count}.json"))).unwrap())
            .unwrap();
    assert_eq!(doc["summary"]["findings"], count);
    usage.ru_maxrss as u64
}

#[test]
fn memory_does_not_grow_with_the_number_of_repositories() {
    let d = TempDir::new().unwrap();
    let seed = repo_with_env(d.path(), "seed", Some(TOKENS[0]));
    // Some history, so that each scan holds more than a handful of objects.
    for i in 0..20 {
        write(
            &seed,
            &format!("src/f{i}.txt"),
            format!("line {i}\n").repeat(200),
        );
        commit_all(&seed, &format!("c{i}"));
    }
    git(&seed, &["gc", "-q"]);
    let small = peak_rss(d.path(), 50);
    let large = peak_rss(d.path(), 500);
    // Ten times the repositories: the peak may not grow by more than half (the list and the
    // coverage record, and what the allocator keeps of each scan's threads, are all that grows;
    // measured 23 MB and 28 MB, and once past a third while other tests ran beside it). Keeping
    // 25 KB more per repository would already break this bound.
    assert!(
        large <= small + small / 2,
        "peak RSS grew from {small} KiB (50 repositories) to {large} KiB (500)"
    );
}

/// Checks `doc` against the official SARIF 2.1.0 schema (tests/schema/README.md).
fn check_schema(doc: &Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schema/sarif-2.1.0.json");
    let schema: Value = serde_json::from_slice(&fs::read(path).unwrap()).unwrap();
    let v = jsonschema::options().build(&schema).unwrap();
    let errors: Vec<String> = v.iter_errors(doc).take(10).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

fn read_json(d: &Path, name: &str) -> Value {
    serde_json::from_str(&fs::read_to_string(d.join(name)).unwrap()).unwrap()
}

#[test]
fn sarif_shards_merge_into_runs_per_repository_or_one_combined_run() {
    let d = TempDir::new().unwrap();
    let mut list = org(d.path());
    list += "./not-there\n";
    fs::write(d.path().join("list.txt"), &list).unwrap();
    let base = [
        "repos",
        "list.txt",
        "--format",
        "sarif",
        "--no-config",
        "-q",
    ];
    let (code, _, err) = run(d.path(), &[&base[..], &["-o", "whole.sarif"]].concat());
    assert_eq!(code, 2, "{err}");
    for k in 1..=2 {
        let (shard, out) = (format!("{k}/2"), format!("s{k}.sarif"));
        run(
            d.path(),
            &[&base[..], &["--shard", &shard, "-o", &out]].concat(),
        );
    }
    let whole = read_json(d.path(), "whole.sarif");
    check_schema(&whole);
    assert_eq!(whole["runs"].as_array().unwrap().len(), 7);

    let (code, out, err) = run(d.path(), &["merge", "s1.sarif", "s2.sarif", "-q"]);
    assert_eq!(code, 2, "{err}");
    let merged: Value = serde_json::from_str(&out).unwrap();
    check_schema(&merged);
    assert_eq!(merged["runs"], whole["runs"]);
    assert_eq!(
        merged["properties"]["credsweep"]["coverage"],
        whole["properties"]["credsweep"]["coverage"]
    );
    // Each run is its repository's own category; the failed one says why it has no results.
    let ids: BTreeSet<&str> = merged["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["automationDetails"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 7);
    let failed = &merged["runs"][6];
    assert_eq!(failed["properties"]["status"], "failed");
    assert_eq!(failed["invocations"][0]["executionSuccessful"], false);

    let (code, out, err) = run(
        d.path(),
        &[
            "merge",
            "s2.sarif",
            "s1.sarif",
            "-q",
            "--sarif-runs",
            "combined",
        ],
    );
    assert_eq!(code, 2, "{err}");
    let combined: Value = serde_json::from_str(&out).unwrap();
    check_schema(&combined);
    let runs = combined["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let results = runs[0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    let rules = runs[0]["tool"]["driver"]["rules"].as_array().unwrap();
    for r in results {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], r["ruleId"]);
        assert!(r["properties"]["repo"].as_str().unwrap().starts_with("./r"));
    }
    assert_eq!(runs[0]["invocations"][0]["executionSuccessful"], false);
    // JSON and SARIF reports do not mix.
    shard_report(d.path(), "list.txt", "json", "1/2", "s1.json");
    let (code, _, err) = run(d.path(), &["merge", "s1.json", "s2.sarif"]);
    assert_eq!(code, 2);
    assert!(err.contains("SARIF logs with SARIF logs"), "{err}");
}

/// A JSON value whose objects keep their keys in the order written (a `serde_json::Value` may
/// sort them), to compare the shapes of two reports.
#[derive(Debug)]
enum Ordered {
    Object(Vec<(String, Ordered)>),
    Array(Vec<Ordered>),
    Scalar,
}

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Ordered, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_bool<E>(self, _: bool) -> Result<Ordered, E> {
                Ok(Ordered::Scalar)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar)
            }
            fn visit_str<E>(self, _: &str) -> Result<Ordered, E> {
                Ok(Ordered::Scalar)
            }
            fn visit_unit<E>(self) -> Result<Ordered, E> {
                Ok(Ordered::Scalar)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Ordered, A::Error> {
                let mut items = Vec::new();
                while let Some(v) = a.next_element()? {
                    items.push(v);
                }
                Ok(Ordered::Array(items))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Ordered, A::Error> {
                let mut fields = Vec::new();
                while let Some(kv) = a.next_entry()? {
                    fields.push(kv);
                }
                Ok(Ordered::Object(fields))
            }
        }
        d.deserialize_any(Visit)
    }
}

impl Ordered {
    fn parse(text: &str) -> Ordered {
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    fn get(&self, key: &str) -> &Ordered {
        match self {
            Ordered::Object(fields) => fields
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v)
                .unwrap_or_else(|| panic!("no {key} in {self:?}")),
            _ => panic!("{self:?} is not an object"),
        }
    }

    fn items(&self) -> &[Ordered] {
        match self {
            Ordered::Array(items) => items,
            _ => panic!("{self:?} is not an array"),
        }
    }

    fn keys(&self) -> Vec<&str> {
        match self {
            Ordered::Object(fields) => fields.iter().map(|(k, _)| k.as_str()).collect(),
            _ => panic!("{self:?} is not an object"),
        }
    }
}

/// A superproject at `d/app` holding a token of its own and a submodule whose history held
/// another.
fn app_with_submodule(d: &Path) -> std::path::PathBuf {
    let app = superproject(d, &library(d));
    write(&app, "deploy/.env", env_file(TOKENS[0]));
    commit_all(&app, "deploy settings");
    app
}

#[test]
fn findings_have_the_fields_of_credsweep_git_in_its_order_and_a_submodule_its_own_field() {
    let d = TempDir::new().unwrap();
    app_with_submodule(d.path());
    let (code, git_json, err) = run(
        &d.path().join("app"),
        &[
            "git",
            ".",
            "--recurse-submodules",
            "--no-config",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 1, "{err}");
    let git_doc = Ordered::parse(&git_json);
    let git_findings = git_doc.get("findings").items();
    // The superproject's token, the submodule's token and the partner id paired with it.
    assert_eq!(git_findings.len(), 3, "{git_json}");

    fs::write(d.path().join("list.txt"), "./app\n").unwrap();
    let args = [
        "repos",
        "list.txt",
        "--recurse-submodules",
        "--no-config",
        "--format",
        "json",
        "-o",
        "org.json",
    ];
    let (code, _, err) = run(d.path(), &args);
    assert_eq!(code, 1, "{err}");
    let (code, merged, err) = run(d.path(), &["merge", "org.json", "-q"]);
    assert_eq!(code, 1, "{err}");
    let written = fs::read_to_string(d.path().join("org.json")).unwrap();
    for text in [&written, &merged] {
        let doc = Ordered::parse(text);
        let findings = doc.get("repositories").items()[0].get("findings").items();
        assert_eq!(findings.len(), git_findings.len(), "{text}");
        for (ours, theirs) in findings.iter().zip(git_findings) {
            // `credsweep git`'s `repo` (the submodule) is `submodule`, right after `repo`,
            // here the line of the list; every other field is where `credsweep git` has it.
            let mut expected = theirs.keys();
            match expected.iter().position(|k| *k == "repo") {
                Some(at) => expected.insert(at + 1, "submodule"),
                None => {
                    let at = expected.iter().position(|k| *k == "in_head").unwrap();
                    expected.insert(at + 1, "repo");
                }
            }
            assert_eq!(ours.keys(), expected, "{text}");
        }
    }
    let doc: Value = serde_json::from_str(&merged).unwrap();
    let mut placed: Vec<(String, String, Option<String>)> = doc["repositories"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["repo"].as_str().unwrap().to_string(),
                f["submodule"].as_str().map(String::from),
            )
        })
        .collect();
    placed.sort();
    assert_eq!(
        placed,
        vec![
            ("deploy/.env".into(), "./app".into(), None),
            (
                "vendor/sdk/config.py".into(),
                "./app".into(),
                Some("vendor/sdk".into())
            ),
            (
                "vendor/sdk/config.py".into(),
                "./app".into(),
                Some("vendor/sdk".into())
            ),
        ]
    );
}

#[test]
fn a_submodule_finding_names_the_list_line_and_the_submodule_in_sarif_and_text() {
    let d = TempDir::new().unwrap();
    app_with_submodule(d.path());
    fs::write(d.path().join("list.txt"), "./app\n").unwrap();
    let base = ["repos", "list.txt", "--recurse-submodules", "--no-config"];
    let (code, _, err) = run(
        d.path(),
        &[&base[..], &["--format", "sarif", "-o", "org.sarif"]].concat(),
    );
    assert_eq!(code, 1, "{err}");
    let log = read_json(d.path(), "org.sarif");
    let run0 = &log["runs"][0];
    assert_eq!(run0["properties"]["repo"], "./app");
    let submodules: Vec<&Value> = run0["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["properties"]["submodule"])
        .collect();
    assert!(submodules.contains(&&Value::from("vendor/sdk")), "{run0:#}");
    assert!(submodules.contains(&&Value::Null), "{run0:#}");
    // One combined run: each result names both.
    let (code, out, err) = run(
        d.path(),
        &["merge", "org.sarif", "-q", "--sarif-runs", "combined"],
    );
    assert_eq!(code, 1, "{err}");
    let combined: Value = serde_json::from_str(&out).unwrap();
    let results = combined["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert!(results.iter().all(|r| r["properties"]["repo"] == "./app"));
    assert!(
        results
            .iter()
            .any(|r| r["properties"]["submodule"] == "vendor/sdk")
    );

    let (code, text, err) = run(
        d.path(),
        &[&base[..], &["--format", "text", "--color", "never"]].concat(),
    );
    assert_eq!(code, 1, "{err}");
    assert!(text.starts_with("== ./app\n"), "{text}");
    assert!(text.contains("(submodule vendor/sdk)"), "{text}");
}
