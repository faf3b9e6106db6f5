//! What a hostile repository can make credsweep print or load (issue 17): secrets hidden in
//! commit data and names, control characters and CI workflow commands in text output, a closed
//! stderr, configuration errors that quote values, rule files outside the repository, rule sets
//! that exhaust memory, and the settings a repository's own configuration may not loosen.
//!
//! Every credential here is fake (note the `FAKE` in each), shaped like the real thing.

mod common;

use std::ffi::OsStr;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::write;
use serde_json::Value;
use tempfile::TempDir;

/// A GitHub token in a file.
const FILE_TOKEN: &str = "ghp_XSP1W50orOrvuYKSP6yeOSw4ozT2FAKEPFjG";
/// Another one, only ever in commit data and names.
const SUBJECT_TOKEN: &str = "ghp_mhPMhHkJBxt3Q9u2FAKEhsGhTl1sQ3LrIFib";

/// What one run of credsweep left behind.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    /// Peak resident memory of the child in KiB (from `wait4`).
    peak_kib: u64,
}

/// Runs credsweep in `cwd` with `args`, git isolated from the machine's configuration; kills it
/// after 120 s (a hang is a failure, not a stuck test run).
fn run_in<S: AsRef<OsStr>>(cwd: &Path, args: &[S]) -> Run {
    let w = common::run_watched(
        Command::new(assert_cmd::cargo::cargo_bin("credsweep"))
            .current_dir(cwd)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env_remove("NO_COLOR")
            .args(args),
        Duration::from_secs(120),
    );
    Run {
        code: w.code,
        stdout: String::from_utf8_lossy(&w.stdout).into_owned(),
        stderr: w.stderr,
        peak_kib: w.peak_kib,
    }
}

/// Runs git in `dir` with no global or system configuration; `author` names the author and
/// committer. Fails the test if git fails.
fn git_as(dir: &Path, author: &str, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", author)
        .env("GIT_COMMITTER_NAME", author)
        .env("GIT_AUTHOR_EMAIL", "eve@example.invalid")
        .env("GIT_COMMITTER_EMAIL", "eve@example.invalid")
        .env("GIT_AUTHOR_DATE", "2024-05-06T07:08:09Z")
        .env("GIT_COMMITTER_DATE", "2024-05-06T07:08:09Z")
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn git(dir: &Path, args: &[&str]) {
    git_as(dir, "Ann Example", args);
}

/// A line of text output is forged or a workflow command if it carries a raw control character
/// (ESC, CR, ...) or starts, after blanks, with `::`.
fn assert_no_raw_control(output: &str) {
    for c in output.chars() {
        assert!(
            c == '\n' || !(c.is_control() || ('\u{202A}'..='\u{202E}').contains(&c)),
            "raw control character {c:?} in output:\n{output}"
        );
    }
    for line in output.lines() {
        let t = line.trim_start();
        assert!(
            !t.starts_with("::") && !t.starts_with("##"),
            "a line reads as a workflow command: {line:?}\n{output}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 17.7: secrets in commit data, names and paths are redacted like the secret itself
// ---------------------------------------------------------------------------------------------

/// A repository whose file holds [`FILE_TOKEN`] and whose commit subject, author name, branch
/// name, annotated tag message and a file name all hold [`SUBJECT_TOKEN`] or [`FILE_TOKEN`].
fn repo_with_tokens_in_commit_data() -> TempDir {
    let d = TempDir::new().unwrap();
    let p = d.path();
    git(p, &["init", "-q"]);
    write(p, "ci.env", format!("GITHUB_TOKEN={FILE_TOKEN}\n"));
    write(
        p,
        &format!("keys/{FILE_TOKEN}.txt"),
        format!("token {FILE_TOKEN}\n"),
    );
    git(p, &["add", "-A"]);
    git_as(
        p,
        &format!("Eve {SUBJECT_TOKEN}"),
        &[
            "commit",
            "-q",
            "-m",
            &format!("add key {SUBJECT_TOKEN} for ci, also {FILE_TOKEN}"),
        ],
    );
    git(p, &["branch", "-m", &format!("leak-{SUBJECT_TOKEN}")]);
    git(
        p,
        &[
            "tag",
            "-a",
            &format!("t-{SUBJECT_TOKEN}"),
            "-m",
            &format!("release {SUBJECT_TOKEN}"),
        ],
    );
    d
}

#[test]
fn tokens_in_commit_subject_author_ref_and_path_are_redacted_in_every_format() {
    let repo = repo_with_tokens_in_commit_data();
    let p = repo.path();
    for format in ["text", "json", "sarif"] {
        let run = run_in(p, &["git", ".", "--quiet", "--format", format]);
        assert_eq!(run.code, 1, "{format}: {}{}", run.stdout, run.stderr);
        for token in [FILE_TOKEN, SUBJECT_TOKEN] {
            assert!(
                !run.stdout.contains(token) && !run.stderr.contains(token),
                "{format}: {token} in clear:\n{}\n{}",
                run.stdout,
                run.stderr
            );
        }
        // Still recognisable: the redacted prefix stands where the token was.
        if format != "sarif" {
            assert!(
                run.stdout.contains("add key ghp_"),
                "{format}: {}",
                run.stdout
            );
        }
        if format == "json" {
            let doc: Value = serde_json::from_str(&run.stdout).unwrap();
            let f = &doc["findings"][0];
            assert!(f["message"].as_str().unwrap().starts_with("add key ghp_"));
            assert!(f["author"].as_str().unwrap().starts_with("Eve ghp_"));
        }
        if format == "sarif" {
            // No author identity in SARIF unless asked for.
            assert!(!run.stdout.contains("Eve"), "{}", run.stdout);
            assert!(!run.stdout.contains("eve@example"), "{}", run.stdout);
        }
    }
    // --sarif-authors names the author, still redacted.
    let run = run_in(
        p,
        &[
            "git",
            ".",
            "--quiet",
            "--format",
            "sarif",
            "--sarif-authors",
        ],
    );
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("Eve ghp_"), "{}", run.stdout);
    assert!(!run.stdout.contains(SUBJECT_TOKEN));
    // SARIF has no secret even with --no-redact.
    let run = run_in(
        p,
        &[
            "git",
            ".",
            "--quiet",
            "--format",
            "sarif",
            "--sarif-authors",
            "--no-redact",
        ],
    );
    assert_eq!(run.code, 1);
    assert!(!run.stdout.contains(SUBJECT_TOKEN) && !run.stdout.contains(FILE_TOKEN));
    // --no-redact shows everything as it is.
    let run = run_in(p, &["git", ".", "--quiet", "--no-redact"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains(&format!("add key {SUBJECT_TOKEN}")));
}

#[test]
fn a_token_in_a_file_name_is_redacted_in_a_directory_scan() {
    let d = TempDir::new().unwrap();
    write(d.path(), &format!("{FILE_TOKEN}.txt"), "nothing here\n");
    write(d.path(), "a.env", format!("GITHUB_TOKEN={FILE_TOKEN}\n"));
    for format in ["text", "json", "sarif"] {
        let run = run_in(d.path(), &["dir", ".", "--quiet", "--format", format]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(!run.stdout.contains(FILE_TOKEN), "{format}: {}", run.stdout);
    }
}

// ---------------------------------------------------------------------------------------------
// 17.12: control characters and workflow commands never reach text output raw
// ---------------------------------------------------------------------------------------------

#[test]
fn control_characters_in_names_commit_data_and_rules_are_escaped() {
    let d = TempDir::new().unwrap();
    let p = d.path();
    git(p, &["init", "-q"]);
    // A file name that would erase the line above and start a workflow command.
    let evil_name = "x\x1b[1A\x1b[2K\r::error file=app.py::all clear\u{202E}.env";
    write(p, evil_name, format!("GITHUB_TOKEN={FILE_TOKEN}\n"));
    // A directory whose name starts a workflow command on the path line.
    write(p, "::warning::forged/b.env", format!("T={FILE_TOKEN}\n"));
    // A rule from the repository's configuration with a control sequence in its description
    // and remediation.
    write(
        p,
        ".credsweep.toml",
        "[[rule]]\nid = 'acme-key'\ndescription = \"Acme key\\u001b[8m hidden\\r::error::x\"\n\
         severity = 'error'\nregex = '(?P<secret>acme_[a-z0-9]{24})'\nkeywords = ['acme_']\n\
         remediation = \"rotate\\n::error::forged\"\n",
    );
    write(p, "c.txt", "k = acme_q8w7e6r5t4y3u2i1o9p8a7s6\n");
    git(p, &["add", "-A"]);
    git_as(
        p,
        "Eve\x1b]0;owned\x07 Example",
        &["commit", "-q", "-m", "fix\x1b[31m\r::error::forged subject"],
    );

    let run = run_in(p, &["dir", ".", "--quiet", "--color", "never"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_no_raw_control(&run.stdout);
    assert!(run.stdout.contains("\\e[1A\\e[2K\\r"), "{}", run.stdout);
    assert!(run.stdout.contains("\\u{202e}"), "{}", run.stdout);
    assert!(
        run.stdout.contains("\\x3a:warning::forged/b.env"),
        "{}",
        run.stdout
    );

    let run = run_in(p, &["git", ".", "--quiet", "--color", "never"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_no_raw_control(&run.stdout);
    assert!(
        run.stdout.contains("by Eve\\e]0;owned\\x07 Example"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("fix\\e[31m\\r::error::forged"),
        "{}",
        run.stdout
    );

    // Colour codes are credsweep's own; the repository's strings are still escaped.
    let run = run_in(p, &["dir", ".", "--quiet", "--color", "always"]);
    assert_eq!(run.code, 1);
    assert!(!run.stdout.contains('\r') && !run.stdout.contains("\x1b[1A"));

    // `rules list` shows the repository's rule descriptions escaped too.
    let run = run_in(p, &["rules", "list"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_no_raw_control(&run.stdout);
    assert!(
        run.stdout.contains("Acme key\\e[8m hidden\\r::error::x"),
        "{}",
        run.stdout
    );

    // JSON and SARIF escape by construction.
    for format in ["json", "sarif"] {
        let run = run_in(p, &["git", ".", "--quiet", "--format", format]);
        assert_eq!(run.code, 1);
        assert_no_raw_control(&run.stdout);
    }
}

#[test]
fn control_characters_in_stderr_messages_are_escaped() {
    let d = TempDir::new().unwrap();
    let p = d.path();
    // An unreadable file (a dangling symlink followed with -L) named to forge lines: `baseline
    // add` lists what it could not read on stderr.
    std::os::unix::fs::symlink(
        "/nonexistent/credsweep-target",
        p.join("a\x1b[2K\r::error::forged"),
    )
    .unwrap();
    let run = run_in(p, &["baseline", "add", "-L", "--quiet", "."]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert_no_raw_control(&run.stderr);
    assert!(
        run.stderr.contains("a\\e[2K\\r::error::forged"),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// 17.15: a closed stderr is no reason to abort
// ---------------------------------------------------------------------------------------------

/// Runs credsweep in `cwd` with stdout discarded and stderr a pipe whose read end is closed
/// (`credsweep ... 2>&1 >/dev/null | true`); returns the exit status (-1 if killed by a signal).
fn run_with_closed_stderr(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> i32 {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("credsweep"))
        .current_dir(cwd)
        .envs(env.iter().copied())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(writer)
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().unwrap_or(-1);
        }
        if started.elapsed() > Duration::from_secs(120) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("credsweep {args:?} hung with a closed stderr");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_closed_stderr_pipe_keeps_the_exit_status() {
    let d = TempDir::new().unwrap();
    let p = d.path();
    write(p, "a.env", format!("GITHUB_TOKEN={FILE_TOKEN}\n"));
    // Findings, and a note on stderr (--no-redact does not apply to SARIF).
    assert_eq!(
        run_with_closed_stderr(p, &["dir", ".", "--format", "sarif", "--no-redact"], &[]),
        1
    );
    // An error: its message cannot be written; the status is still 2.
    assert_eq!(
        run_with_closed_stderr(p, &["dir", ".", "--rules", "/nonexistent/rules.toml"], &[]),
        2
    );
    // A panic: the hook cannot write either, and still exits 2 (no abort).
    assert_eq!(
        run_with_closed_stderr(p, &["dir", "."], &[("CREDSWEEP_TEST_PANIC", "boom")]),
        2
    );
    // Clean.
    write(p, "a.env", "nothing\n");
    assert_eq!(run_with_closed_stderr(p, &["dir", "."], &[]), 0);
}

#[test]
fn a_closed_stdout_pipe_of_install_hook_is_not_a_panic() {
    let d = TempDir::new().unwrap();
    let p = d.path();
    git(p, &["init", "-q"]);
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let status = Command::new(assert_cmd::cargo::cargo_bin("credsweep"))
        .current_dir(p)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(["install-hook"])
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(
        status.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert!(p.join(".git/hooks/pre-commit").is_file());
}

// ---------------------------------------------------------------------------------------------
// 17.16: configuration errors name file, key and line, never the value; rule files stay inside
// ---------------------------------------------------------------------------------------------

/// A scratch repository holding `config` as its `.credsweep.toml` and a clean file.
fn repo_with_config(config: &str) -> TempDir {
    let d = TempDir::new().unwrap();
    git(d.path(), &["init", "-q"]);
    write(d.path(), ".credsweep.toml", config);
    write(d.path(), "a.txt", "nothing to see\n");
    d
}

#[test]
fn configuration_errors_do_not_quote_values() {
    let cases = [
        (
            format!("default_rules = \"{FILE_TOKEN}\"\n"),
            1,
            "default_rules",
        ),
        (
            format!("\n[severity]\ngithub-pat = \"{FILE_TOKEN}\"\n"),
            3,
            "github-pat",
        ),
        (
            format!("[allow]\nsecrets = ['({FILE_TOKEN}']\n"),
            2,
            "allow.secrets",
        ),
        (
            format!("[allow]\nlines = ['x', '[{FILE_TOKEN}']\n"),
            2,
            "allow.lines",
        ),
        (
            format!("max_file_size = \"{FILE_TOKEN}\"\n"),
            1,
            "max_file_size",
        ),
        (format!("disable = [\"{FILE_TOKEN}\"]\n"), 1, "disable"),
        (
            format!("fingerprint_salt = [\"{FILE_TOKEN}\"]\n"),
            1,
            "fingerprint_salt",
        ),
        (
            format!(
                "[[rule]]\nid = 'x'\ndescription = 'd'\nseverity = 'error'\nregex = '(?P<secret>x)'\nkeywords = ['xyz']\nallow = ['({FILE_TOKEN}']\n"
            ),
            1,
            "`allow` regex 1",
        ),
    ];
    for (config, line, key) in cases {
        let repo = repo_with_config(&config);
        let run = run_in(repo.path(), &["dir", ".", "--quiet"]);
        assert_eq!(run.code, 2, "{config}: {}", run.stderr);
        assert!(
            !run.stderr.contains(FILE_TOKEN) && !run.stdout.contains(FILE_TOKEN),
            "{config}: the value is quoted: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains(&format!(".credsweep.toml:{line}:")) && run.stderr.contains(key),
            "{config}: file, line {line} and key {key} not named: {}",
            run.stderr
        );
    }
}

#[test]
fn a_repository_config_cannot_load_rule_files_outside_the_repository() {
    let outside = TempDir::new().unwrap();
    // A valid rule file outside: if it were loaded, its rule would find `outside_...` below.
    let rules = write(
        outside.path(),
        "rules.toml",
        "[[rule]]\nid = 'outside-rule'\ndescription = 'from outside'\nseverity = 'error'\n\
         regex = '(?P<secret>outside_[a-z0-9]{20})'\nkeywords = ['outside_']\n",
    );
    let repo = TempDir::new().unwrap();
    let p = repo.path();
    git(p, &["init", "-q"]);
    write(p, "a.txt", "k = outside_q8w7e6r5t4y3u2i1o9p8\n");
    std::os::unix::fs::symlink(&rules, p.join("link.toml")).unwrap();
    let entries = [
        rules.display().to_string(),
        "/etc/passwd".to_string(),
        "../../../../../../etc/passwd".to_string(),
        // A symlink inside that points out.
        "link.toml".to_string(),
    ];
    for entry in &entries {
        write(p, ".credsweep.toml", format!("rule_files = ['{entry}']\n"));
        let run = run_in(p, &["dir", ".", "--quiet", "--format", "json"]);
        assert_eq!(run.code, 2, "{entry}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains(".credsweep.toml:1: rule_files"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("outside the repository"),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("root:"), "{}", run.stderr);
    }
    // Inside the repository is fine.
    fs::copy(&rules, p.join("ci-rules.toml")).unwrap();
    write(p, ".credsweep.toml", "rule_files = ['ci-rules.toml']\n");
    let run = run_in(p, &["dir", ".", "--quiet"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("outside-rule"));
    // The user's own configuration (--config) may name any file; so may --rules.
    let cfg = write(
        outside.path(),
        "trusted.toml",
        format!("rule_files = ['{}']\n", rules.display()),
    );
    let run = run_in(
        p,
        &["dir", ".", "--quiet", "--config", cfg.to_str().unwrap()],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("outside-rule"));
    let run = run_in(
        p,
        &[
            "dir",
            "a.txt",
            "--quiet",
            "--no-config",
            "--rules",
            rules.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
}

// ---------------------------------------------------------------------------------------------
// 17.5: a repository's rules cannot exhaust memory
// ---------------------------------------------------------------------------------------------

fn rules_config(n: usize, regex: &str, unicode: bool) -> String {
    (0..n)
        .map(|i| {
            format!(
                "[[rule]]\nid = 'r{i}'\ndescription = 'd'\nseverity = 'error'\n\
                 regex = '''{regex}'''\nunicode = {unicode}\nkeywords = ['key']\n\n"
            )
        })
        .collect()
}

#[test]
fn huge_rules_in_a_repository_config_are_refused_within_bounded_memory() {
    // Thirty rules of about 35 MiB each took 1.1 GB (1.5 GB measured) and 13 s.
    let repo = repo_with_config(&rules_config(30, r"(?P<secret>\w{600})", true));
    let started = Instant::now();
    let run = run_in(repo.path(), &["dir", ".", "--quiet"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains(".credsweep.toml:1:"), "{}", run.stderr);
    assert!(run.stderr.contains("rule `r0`"), "{}", run.stderr);
    assert!(run.peak_kib < 200 << 10, "peak {} KiB", run.peak_kib);
    assert!(started.elapsed() < Duration::from_secs(30));

    // Many rules that each fit: the budget over all of them holds.
    let repo = repo_with_config(&rules_config(150, r"(?P<secret>\w{60})", true));
    let run = run_in(repo.path(), &["dir", ".", "--quiet"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("MiB of compiled regexes"),
        "{}",
        run.stderr
    );
    assert!(run.peak_kib < 300 << 10, "peak {} KiB", run.peak_kib);

    // Too many rules, however small.
    let repo = repo_with_config(&rules_config(300, r"(?P<secret>tok_[a-z]{9})", false));
    let run = run_in(repo.path(), &["dir", ".", "--quiet"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("at most 200 rules"), "{}", run.stderr);
    // The same rules in a configuration the user names are fine.
    let user = TempDir::new().unwrap();
    let cfg = write(
        user.path(),
        "trusted.toml",
        rules_config(300, r"(?P<secret>tok_[a-z]{9})", false),
    );
    let run = run_in(
        repo.path(),
        &["dir", ".", "--quiet", "--config", cfg.to_str().unwrap()],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

// ---------------------------------------------------------------------------------------------
// Decided: what a repository's own configuration may not loosen, and where it came from
// ---------------------------------------------------------------------------------------------

#[test]
fn a_repository_config_may_set_a_size_cap_but_a_cut_then_fails_the_scan() {
    // A 70 MiB file with a token at its end: past the old 64 MiB default. There is no default
    // cap to raise now (issue 13: files are scanned in windows), so a large cap changes nothing.
    let repo = repo_with_config("max_file_size = '1G'\n");
    let p = repo.path();
    let mut big = vec![b'a'; 70 << 20];
    for chunk in big.chunks_mut(100) {
        *chunk.last_mut().unwrap() = b'\n';
    }
    big.extend(format!("GITHUB_TOKEN={FILE_TOKEN}\n").as_bytes());
    write(p, "big.txt", &big);
    drop(big);
    let run = run_in(p, &["dir", ".", "--quiet", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        doc["findings"].as_array().unwrap().len(),
        1,
        "{}",
        run.stdout
    );
    // A lower cap is honoured, and the file it cuts fails the scan: a repository's own
    // configuration cannot quietly hide the rest of a file.
    write(p, ".credsweep.toml", "max_file_size = '1K'\n");
    write(
        p,
        "big.txt",
        format!("{}\nGITHUB_TOKEN={FILE_TOKEN}\n", "a".repeat(2000)),
    );
    let run = run_in(p, &["dir", ".", "--quiet", "--format", "json"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        doc["findings"].as_array().unwrap().len(),
        0,
        "{}",
        run.stdout
    );
    assert!(doc["summary"]["skipped"].to_string().contains("big.txt"));
}

#[test]
fn the_report_names_the_configuration_in_force_and_where_it_came_from() {
    let repo = repo_with_config("[allow]\npaths = ['**']\n");
    let p = repo.path();
    write(p, "a.env", format!("GITHUB_TOKEN={FILE_TOKEN}\n"));
    git(p, &["add", "-A"]);
    git(p, &["commit", "-q", "-m", "allow everything"]);
    for args in [&["dir", "."][..], &["git", "."], &["staged"]] {
        let mut all = args.to_vec();
        all.extend(["--quiet", "--format", "json"]);
        let run = run_in(p, &all);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        let doc: Value = serde_json::from_str(&run.stdout).unwrap();
        let notes = doc["summary"]["notes"].to_string();
        assert!(
            notes.contains(".credsweep.toml") && notes.contains("repository's own"),
            "{args:?}: {notes}"
        );
    }
    // A trusted configuration from outside (the base branch's, say) is named as such.
    let base = TempDir::new().unwrap();
    let cfg = write(base.path(), "base.toml", "");
    let run = run_in(
        p,
        &["git", ".", "--quiet", "--config", cfg.to_str().unwrap()],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("given with --config"), "{}", run.stdout);
}

#[test]
fn tree_entries_named_dot_dot_stay_inside_the_repository_in_sarif() {
    let d = TempDir::new().unwrap();
    let p = d.path();
    git(p, &["init", "-q"]);
    let run_git = |args: &[&str], input: &[u8]| -> String {
        let mut child = Command::new("git")
            .current_dir(p)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .args(["-c", "user.name=A", "-c", "user.email=a@example.invalid"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), input).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "git {args:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    // git's own commands refuse such names; a hostile repository writes the objects itself.
    let tree = |entries: &[(&str, &str, &str)]| {
        let mut data = Vec::new();
        for (mode, name, oid) in entries {
            data.extend(format!("{mode} {name}\0").as_bytes());
            data.extend((0..20).map(|i| u8::from_str_radix(&oid[2 * i..2 * i + 2], 16).unwrap()));
        }
        run_git(
            &["hash-object", "-t", "tree", "--literally", "-w", "--stdin"],
            &data,
        )
    };
    let blob = run_git(
        &["hash-object", "-w", "--stdin"],
        format!("GITHUB_TOKEN={FILE_TOKEN}\n").as_bytes(),
    );
    let passwd = tree(&[("100644", "passwd", &blob)]);
    let etc = tree(&[("40000", "etc", &passwd)]);
    let dot = tree(&[("100644", "x.env", &blob)]);
    let root = tree(&[("40000", "..", &etc), ("40000", ".", &dot)]);
    let commit = run_git(&["commit-tree", &root, "-m", "evil"], b"");
    run_git(&["update-ref", "refs/heads/main", &commit], b"");

    let run = run_in(p, &["git", ".", "--quiet", "--format", "sarif"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(
            !uri.starts_with('/')
                && !uri.contains(':')
                && !uri.split('/').any(|s| s == ".." || s == "."),
            "{uri}"
        );
        assert!(uri == "%2E%2E/etc/passwd" || uri == "%2E/x.env", "{uri}");
    }
}

#[test]
fn a_fake_utf16_byte_order_mark_does_not_hide_a_token() {
    let d = TempDir::new().unwrap();
    let mut fake = vec![0xFF, 0xFE];
    fake.extend(format!("GITHUB_TOKEN={FILE_TOKEN}\n").as_bytes());
    write(d.path(), "le.env", &fake);
    fake[0] = 0xFE;
    fake[1] = 0xFF;
    write(d.path(), "be.env", &fake);
    let run = run_in(d.path(), &["dir", ".", "--quiet", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let paths: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["be.env", "le.env"], "{}", run.stdout);
    // Real UTF-16 is still decoded, and found once.
    let mut real = vec![0xFF, 0xFE];
    for u in format!("GITHUB_TOKEN={FILE_TOKEN}\n").encode_utf16() {
        real.extend(u.to_le_bytes());
    }
    fs::remove_file(d.path().join("be.env")).unwrap();
    write(d.path(), "le.env", &real);
    let run = run_in(d.path(), &["dir", ".", "--quiet", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        doc["findings"].as_array().unwrap().len(),
        1,
        "{}",
        run.stdout
    );
}

#[test]
fn a_token_in_a_repository_rule_description_is_redacted_in_every_format() {
    let repo = repo_with_config(&format!(
        "[[rule]]\nid = 'acme-key'\ndescription = 'Acme key, like {SUBJECT_TOKEN}'\n\
         severity = 'error'\nregex = '(?P<secret>acme_[a-z0-9]{{24}})'\nkeywords = ['acme_']\n\
         remediation = 'rotate it, and {SUBJECT_TOKEN} too'\n"
    ));
    write(repo.path(), "c.txt", "k = acme_q8w7e6r5t4y3u2i1o9p8a7s6\n");
    for format in ["text", "json", "sarif"] {
        let run = run_in(repo.path(), &["dir", ".", "--quiet", "--format", format]);
        assert_eq!(run.code, 1, "{format}: {}", run.stderr);
        assert!(
            !run.stdout.contains(SUBJECT_TOKEN),
            "{format}: {}",
            run.stdout
        );
        assert!(
            run.stdout.contains("Acme key, like ghp_"),
            "{format}: {}",
            run.stdout
        );
    }
}
