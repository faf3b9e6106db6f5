//! `--format html`: the audit report, end to end through the binary. The file itself is checked
//! for its structure (a row per finding, header, timeline, what to do), its escaping of every
//! string a repository controls, and its redaction (never a secret in full, not even with
//! `--no-redact`); then a real browser (headless Chromium, Debian's `chromium`) loads it, runs its
//! script and shows one row per finding and a filter read from the URL fragment.
//!
//! Every credential here is fake (`FAKE` in plain sight). credsweep runs in temporary directories,
//! so the project's own `.credsweep.toml` (which allows "fake") is not in force.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod common;
use common::{credsweep, git, git_at, run_json, write};

const VOBIZ_ID: &str = "partner-7c1e94ab20f3";
const VOBIZ_TOKEN: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE";
const VOBIZ_TOKEN_SHOWN: &str = "sk_live_4e…FAKE";
const VOBIZ_ID2: &str = "partner-c88a35a2e601";
const VOBIZ_TOKEN2: &str = "sk_live_Q8vT2mXbN5pR7kLwZ3yH6dFAKE0c";
const AWS_KEY_ID: &str = "AKIAP7DFAKEVC7ATTXOM";
const AWS_SECRET: &str = "OSpNFAKE3ElTtZ+DcfptEZoiHAaVhhkxnvjESN0c";
const GITHUB_PAT: &str = "ghp_XSP1W50orOrvuYKSP6yeOSw4ozT2FAKEPFjG";

fn vobiz_env(id: &str, token: &str) -> String {
    format!("VOBIZ_AUTH_ID={id}\nVOBIZ_AUTH_TOKEN={token}\n")
}

/// `credsweep ARGS... --format html` in `cwd`: exit status, the page, stderr.
fn html(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let out = credsweep()
        .current_dir(cwd)
        .args(args)
        .args(["--format", "html", "--color", "never"])
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).expect("the page is UTF-8"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The markup of the table with this id.
fn table<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page
        .find(&format!("<table id=\"{id}\""))
        .unwrap_or_else(|| panic!("no table {id}"));
    let end = start + page[start..].find("</table>").unwrap();
    &page[start..end]
}

/// The rows of the findings table (each `<tr data-provider=...>`).
fn rows(page: &str) -> Vec<&str> {
    table(page, "findings-table")
        .split("<tr data-provider=")
        .skip(1)
        .collect()
}

/// A repository whose history holds a Vobiz pair (Feb 2024), AWS keys deleted later (Apr 2024,
/// gone in Jul 2024) and a GitHub token (Nov 2025).
fn history_repo() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    git(p, &["init", "-q"]);
    write(p, ".env", vobiz_env(VOBIZ_ID, VOBIZ_TOKEN));
    git(p, &["add", "-A"]);
    git_at(
        p,
        &["commit", "-qm", "vobiz settings"],
        "2024-02-03T09:00:00Z",
    );
    write(
        p,
        "deploy/aws.ini",
        format!("aws_access_key_id = {AWS_KEY_ID}\naws_secret_access_key = {AWS_SECRET}\n"),
    );
    git(p, &["add", "-A"]);
    git_at(p, &["commit", "-qm", "aws"], "2024-04-22T10:00:00Z");
    git(p, &["rm", "-q", "deploy/aws.ini"]);
    git_at(p, &["commit", "-qm", "drop aws"], "2024-07-01T10:00:00Z");
    write(p, "ci.yml", format!("GITHUB_TOKEN={GITHUB_PAT}\n"));
    git(p, &["add", "-A"]);
    git_at(p, &["commit", "-qm", "ci"], "2025-11-18T10:00:00Z");
    d
}

#[test]
fn history_report_has_the_header_counts_timeline_and_a_row_per_finding() {
    let d = history_repo();
    let (code, page, stderr) = html(d.path(), &["git", "."]);
    assert_eq!(code, 1, "{stderr}");
    let (_, doc) = run_json(d.path(), &["git", "."]);
    let findings = common::findings(&doc);
    assert!(findings.len() >= 5, "{doc:#}");

    assert!(page.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(page.trim_end().ends_with("</html>"));
    // What was scanned.
    assert!(
        page.contains("<dd>git history (<code>git</code>)</dd>"),
        "{page}"
    );
    assert!(page.contains("<dt>Commits</dt><dd>all:"), "{page}");
    assert!(page.contains("4 commits read"), "{page}");
    assert!(page.contains("<code>refs/heads/main</code>"), "{page}");
    let digest = page.split("SHA-256 of the rule set <code>").nth(1).unwrap();
    assert!(digest[..64].bytes().all(|b| b.is_ascii_hexdigit()) && &digest[64..71] == "</code>");

    // One row per finding, each with its fingerprint, path:line and commit.
    let rows = rows(&page);
    assert_eq!(rows.len(), findings.len(), "{page}");
    for f in findings {
        let fp = f["fingerprint"].as_str().unwrap();
        let row = rows.iter().find(|r| r.contains(fp)).unwrap_or_else(|| {
            panic!("no row with fingerprint {fp}: {page}");
        });
        let at = format!("{}:{}</code>", f["path"].as_str().unwrap(), f["line"]);
        assert!(row.contains(&at), "{at} not in {row}");
        let commit = f["commit"].as_str().unwrap();
        assert!(row.contains(&commit[..12]), "{row}");
        assert!(row.contains("Ann Example"), "{row}");
    }
    // Still at HEAD, or only in history.
    let aws = rows.iter().find(|r| r.contains(AWS_KEY_ID)).unwrap();
    assert!(aws.contains("<td>no: only in history</td>"), "{aws}");
    let gh = rows.iter().find(|r| r.contains("github-pat")).unwrap();
    assert!(gh.contains("<td>yes</td>"), "{gh}");

    // By provider and severity.
    let summary = table_like(&page, "<table class=\"counts\">");
    for provider in ["AWS", "GitHub", "Vobiz"] {
        assert!(
            summary.contains(&format!("<tr><td>{provider}</td>")),
            "{summary}"
        );
    }
    // The timeline: a bar in each month with a secret, from the first month to the last.
    assert!(page.contains("<svg class=\"timeline\""));
    assert!(page.contains("<title>2024-02: 2 secrets</title>"), "{page}");
    assert!(page.contains("<title>2025-11: 1 secret</title>"), "{page}");
    assert!(
        !page.contains("<title>2024-03:"),
        "an empty month has no bar"
    );
    assert!(page.contains(", 2024-02 to 2025-11</title>"));
    // What to do: each row links to its rule's remediation, which is there.
    for r in &rows {
        let anchor = r
            .split("<a href=\"#")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert!(page.contains(&format!("<dt id=\"{anchor}\">")), "{anchor}");
    }
}

/// The markup from `start` to the end of its table.
fn table_like<'a>(page: &'a str, start: &str) -> &'a str {
    let i = page.find(start).unwrap();
    &page[i..i + page[i..].find("</table>").unwrap()]
}

#[test]
fn page_loads_nothing_from_outside_and_allows_only_its_own_style_and_script() {
    let d = history_repo();
    let (_, page, _) = html(d.path(), &["git", "."]);
    let csp = page
        .split("<meta http-equiv=\"Content-Security-Policy\" content=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert!(
        csp.starts_with("default-src 'none'; style-src 'sha256-"),
        "{csp}"
    );
    assert!(csp.contains("; script-src 'sha256-"), "{csp}");
    assert!(!csp.contains("unsafe"), "{csp}");
    for outside in [
        "src=", "http://", "https://", "@import", "url(", "<link", "<img", "<iframe",
    ] {
        assert!(!page.contains(outside), "{outside:?} in the page");
    }
    assert_eq!(page.matches("<script").count(), 1);
    assert_eq!(page.matches("<style").count(), 1);
    // Readable without the script: the filters are hidden until it shows them.
    assert!(page.contains("<form id=\"filters\" hidden>"));
    for handler in [" onclick=", " onload=", " onerror=", " onchange="] {
        assert!(!page.contains(handler), "{handler} in the page");
    }
}

#[test]
fn strings_from_the_repository_are_escaped() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    git(p, &["init", "-q"]);
    // A file name that is markup, quotes, an ampersand, an escape sequence and a bidi override.
    let name = "x<img src=x onerror=alert(1)>\"'&\u{1b}[2J\u{202e}.env";
    write(p, name, format!("GITHUB_TOKEN={GITHUB_PAT}\n"));
    // A rule from the repository's configuration whose texts and provider are markup.
    write(
        p,
        ".credsweep.toml",
        r#"[[rule]]
id = "acme-key"
description = "ACME <b>key</b> \"quoted\" & more"
severity = "warning"
provider = "Ac\"me<script>x</script>"
regex = '''(?P<secret>acme_[a-z0-9]{32})'''
keywords = ["acme_"]
remediation = "Rotate & <i>purge</i> it"
"#,
    );
    write(
        p,
        "acme.txt",
        "key = acme_q7w2k9x4m1n8b3v6c5z0l2p9r4t7y1hd\n",
    );
    git(p, &["add", "-A"]);
    let subject = "<script>alert(\"pwned\")</script> & 'q' \u{1b}[31mred\u{202e}txt";
    let mut commit = Command::new("git");
    commit
        .current_dir(p)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(["-c", "user.name=Eve \u{1b}[1m\u{2066}Mallory", "-c"])
        .args(["user.email=eve\"&'@x.invalid", "-c", "commit.gpgsign=false"])
        .args(["commit", "-qm", subject]);
    assert!(commit.status().unwrap().success(), "git commit");
    for args in [&["git", "."][..], &["dir", "."][..]] {
        let (code, page, stderr) = html(p, args);
        assert_eq!(code, 1, "{args:?}: {stderr}");
        // The one script is the page's own; no markup from the repository made it in.
        assert_eq!(page.matches("<script").count(), 1, "{args:?}");
        assert!(!page.contains("<img"), "{args:?}");
        assert!(
            !page.contains("<b>key") && !page.contains("<i>purge"),
            "{args:?}"
        );
        for c in ['\u{1b}', '\u{202e}', '\u{2066}'] {
            assert!(!page.contains(c), "{args:?}: {c:?} in the page");
        }
        // Shown escaped: markup as references, controls and bidi as the text report's escapes.
        assert!(
            page.contains("x&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;\\e[2J\\u{202e}.env"),
            "{args:?}: {page}"
        );
        assert!(page.contains("ACME &lt;b&gt;key&lt;/b&gt; &quot;quoted&quot; &amp; more"));
        assert!(page.contains("Rotate &amp; &lt;i&gt;purge&lt;/i&gt; it"));
        // In attribute values too (the filter's data and options).
        assert!(page.contains("data-provider=\"Ac&quot;me&lt;script&gt;x&lt;/script&gt;\""));
        assert!(page.contains("<option value=\"Ac&quot;me&lt;script&gt;x&lt;/script&gt;\">"));
    }
    let (_, page, _) = html(p, &["git", "."]);
    assert!(
        page.contains(
            "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; &amp; &#39;q&#39; \\e[31mred\\u{202e}txt"
        ),
        "{page}"
    );
    assert!(page.contains("Eve \\e[1m\\u{2066}Mallory"), "{page}");
    assert!(page.contains("eve&quot;&amp;&#39;@x.invalid"), "{page}");
}

#[test]
fn secrets_are_redacted_even_with_no_redact() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    git(p, &["init", "-q"]);
    write(p, ".env", vobiz_env(VOBIZ_ID, VOBIZ_TOKEN));
    git(p, &["add", "-A"]);
    // The secret in a commit subject, a repository string the page shows.
    git(p, &["commit", "-qm", &format!("add token {VOBIZ_TOKEN}")]);
    for args in [
        &["git", ".", "--no-redact"][..],
        &["dir", ".", "--no-redact"][..],
        &["git", "."][..],
    ] {
        let (code, page, stderr) = html(p, args);
        assert_eq!(code, 1, "{args:?}: {stderr}");
        assert!(!page.contains(VOBIZ_TOKEN), "{args:?}: the token in clear");
        assert!(
            !page.contains(&VOBIZ_TOKEN[8..]),
            "{args:?}: the token's body"
        );
        assert!(page.contains(VOBIZ_TOKEN_SHOWN), "{args:?}");
        // An identifier is shown in full, as in the text report.
        assert!(page.contains(VOBIZ_ID), "{args:?}");
        if args.contains(&"--no-redact") {
            assert!(
                stderr.contains("--no-redact does not apply to HTML"),
                "{args:?}: {stderr}"
            );
        }
    }
    // The text report shows it redacted the same way.
    let out = credsweep()
        .current_dir(p)
        .args(["dir", ".", "--color", "never"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(VOBIZ_TOKEN_SHOWN));
}

#[test]
fn tree_report_leaves_out_history_columns_and_says_why_there_is_no_timeline() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "a/.env", vobiz_env(VOBIZ_ID, VOBIZ_TOKEN));
    write(d.path(), "b.txt", format!("GITHUB_TOKEN={GITHUB_PAT}\n"));
    let (code, page, _) = html(d.path(), &["dir", "."]);
    assert_eq!(code, 1);
    assert_eq!(rows(&page).len(), 3);
    assert!(page.contains("No commit dates: this scan read files, not history."));
    assert!(!page.contains("<svg"));
    let head = table(&page, "findings-table");
    assert!(
        !head.contains(">Commit") && !head.contains(">At HEAD<"),
        "{head}"
    );
    assert!(
        page.contains("<dt>Scanned</dt><dd><code>.</code></dd>"),
        "{page}"
    );

    // Nothing found: a page that says so, exit 0.
    let clean = tempfile::tempdir().unwrap();
    write(clean.path(), "README", "nothing here\n");
    let (code, page, _) = html(clean.path(), &["dir", "."]);
    assert_eq!(code, 0);
    assert!(page.contains("<strong>0 findings</strong>"));
    assert!(page.contains("<h2>Findings</h2>\n<p>None.</p>"));
}

#[test]
fn output_file_is_written_and_a_symlink_there_is_refused() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), ".env", vobiz_env(VOBIZ_ID, VOBIZ_TOKEN));
    let (code, _, stderr) = html(d.path(), &["dir", ".env", "-o", "report.html"]);
    assert_eq!(code, 1, "{stderr}");
    let page = std::fs::read_to_string(d.path().join("report.html")).unwrap();
    assert_eq!(rows(&page).len(), 2);

    let victim = d.path().join("victim.txt");
    std::fs::write(&victim, "keep me\n").unwrap();
    std::os::unix::fs::symlink(&victim, d.path().join("link.html")).unwrap();
    let (code, _, stderr) = html(d.path(), &["dir", ".env", "-o", "link.html"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("cannot write the report"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me\n");
}

/// A one-thread HTTP server on 127.0.0.1 that answers each verification request: 200 for
/// `active`'s token, 401 for any other. It stops after `n` requests, or after 30 seconds.
fn verifier(active: &'static str, n: usize) -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let thread = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut served = 0;
        while served < n && Instant::now() < deadline {
            let Ok((mut stream, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            };
            served += 1;
            stream.set_nonblocking(false).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut is_active = false;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
                is_active |=
                    line.to_ascii_lowercase().starts_with("x-auth-token:") && line.contains(active);
            }
            let (status, body) = if is_active {
                ("200 OK", "{}")
            } else {
                ("401 Unauthorized", "")
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, thread)
}

#[test]
fn verification_outcomes_are_shown_active_first() {
    let d = tempfile::tempdir().unwrap();
    // The active pair sorts last by path; the report lists it first.
    write(d.path(), "a.env", vobiz_env(VOBIZ_ID2, VOBIZ_TOKEN2));
    write(d.path(), "z.env", vobiz_env(VOBIZ_ID, VOBIZ_TOKEN));
    let (url, server) = verifier(VOBIZ_TOKEN, 2);
    let (code, page, stderr) = html(
        d.path(),
        &[
            "dir",
            ".",
            "--verify",
            "--verify-base-url",
            &url,
            "--verify-timeout",
            "5",
        ],
    );
    server.join().unwrap();
    assert_eq!(code, 1, "{stderr}");
    assert!(page.contains("<section id=\"verification\">"), "{page}");
    assert!(
        page.contains("<li class=\"st-active\">2 findings: active"),
        "{page}"
    );
    assert!(page.contains("<li>2 findings: inactive"), "{page}");
    assert!(page.contains("1 credential pair verified active"), "{page}");
    let rows = rows(&page);
    assert_eq!(rows.len(), 4);
    assert!(
        rows[0].contains("data-status=\"active\"") && rows[0].contains("z.env"),
        "{page}"
    );
    assert!(rows[1].contains("data-status=\"active\""), "{page}");
    assert!(rows[2].contains("data-status=\"inactive\"") && rows[2].contains("a.env"));
    assert!(page.contains("<option>active</option><option>inactive</option>"));
    assert!(!page.contains(VOBIZ_TOKEN) && !page.contains(VOBIZ_TOKEN2));
}

#[test]
fn a_hundred_thousand_findings_take_about_as_long_as_json() {
    // Distinct fake tokens, one a line: 100,000 findings in one file. The reports go beside the
    // scanned directory, not into it.
    let outside = tempfile::tempdir().unwrap();
    let d = tempfile::TempDir::new_in(outside.path()).unwrap();
    let mut body = String::with_capacity(6 << 20);
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..100_000 {
        body.push_str("GITHUB_TOKEN=ghp_");
        for _ in 0..32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            body.push(alphabet[(x % 62) as usize] as char);
        }
        body.push_str("FAKE\n");
    }
    write(d.path(), "many.env", body);
    let timed = |format: &str| {
        let t = Instant::now();
        let out = credsweep()
            .current_dir(d.path())
            .args(["dir", "many.env", "-q", "--format", format, "-o", "../out"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        (
            t.elapsed(),
            std::fs::read_to_string(outside.path().join("out")).unwrap(),
        )
    };
    let (json_time, json) = timed("json");
    let (html_time, page) = timed("html");
    let n = serde_json::from_str::<serde_json::Value>(&json).unwrap()["findings"]
        .as_array()
        .unwrap()
        .len();
    assert!(n > 99_000, "{n}");
    assert_eq!(rows(&page).len(), n);
    // Linear: the page costs about what the JSON does (quadratic would take hours). Generous
    // for a shared machine.
    assert!(
        html_time < json_time * 4 + Duration::from_secs(10),
        "html {html_time:?}, json {json_time:?}"
    );
    assert!(page.contains("<table id=\"findings-table\" data-path-col=\"3\" class=\"fixed\">"));
}

/// `chromium`, or why the browser tests cannot run. Under CI (`CI=true`) a missing browser fails.
fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("chromium"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but chromium is not installed: .ci/run installs it (apt-get install chromium)"
        );
        eprintln!(
            "SKIPPED: the browser test needs chromium (Debian: apt-get install -y chromium); not found on PATH"
        );
    }
    found
}

/// The DOM after the page's script ran, as headless Chromium dumps it.
fn rendered(chromium: &Path, url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--dump-dom", url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn browser_shows_a_row_per_finding_and_filters_from_the_url_fragment() {
    let Some(chromium) = chromium() else {
        return;
    };
    let d = history_repo();
    let report = d.path().join("report.html");
    let (code, _, stderr) = html(d.path(), &["git", ".", "-o", report.to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    let page = std::fs::read_to_string(&report).unwrap();
    let total = rows(&page).len();
    let vobiz = rows(&page)
        .iter()
        .filter(|r| r.starts_with("\"Vobiz\""))
        .count();
    assert!(total >= 5 && vobiz == 2, "{total} {vobiz}");
    let url = format!("file://{}", report.display());

    // Loaded as it is: the script ran (it marks the page and shows the filters), every row shown.
    let dom = rendered(&chromium, &url);
    assert!(
        dom.contains("<html lang=\"en\" class=\"js\">"),
        "the script did not run: {dom}"
    );
    assert!(!dom.contains("<form id=\"filters\" hidden"), "{dom}");
    let dom_rows = rows(&dom);
    assert_eq!(dom_rows.len(), total, "{dom}");
    assert!(dom_rows.iter().all(|r| !r.contains(" hidden")));
    assert!(dom.contains(&format!(
        "<output id=\"shown\">{total} of {total} shown</output>"
    )));

    // A view named in the fragment: only Vobiz rows stay visible.
    let dom = rendered(&chromium, &format!("{url}#provider=Vobiz"));
    let dom_rows = rows(&dom);
    assert_eq!(dom_rows.len(), total);
    let visible: Vec<&&str> = dom_rows.iter().filter(|r| !r.contains(" hidden")).collect();
    assert_eq!(visible.len(), vobiz, "{dom}");
    assert!(visible.iter().all(|r| r.starts_with("\"Vobiz\"")));
    assert!(dom.contains(&format!(
        "<output id=\"shown\">{vobiz} of {total} shown</output>"
    )));

    // Sorted by a column from the fragment: the path column, descending.
    let dom = rendered(&chromium, &format!("{url}#sort=-3"));
    let paths: Vec<String> = rows(&dom)
        .iter()
        .map(|r| {
            r.split("<code>")
                .nth(1)
                .unwrap()
                .split(':')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    let mut sorted = paths.clone();
    sorted.sort_by_key(|p| std::cmp::Reverse(p.to_lowercase()));
    assert_eq!(paths, sorted, "{dom}");
}

/// The header's digest of the rule set.
fn digest(page: &str) -> &str {
    let d = page.split("SHA-256 of the rule set <code>").nth(1).unwrap();
    &d[..64]
}

#[test]
fn the_rules_digest_names_the_rule_set_in_force() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "a.txt", "nothing\n");
    write(
        d.path(),
        "extra.toml",
        "[[rule]]\nid = \"acme-key\"\ndescription = \"ACME key\"\nseverity = \"warning\"\n\
         regex = '''(?P<secret>acme_[a-z0-9]{32})'''\nkeywords = [\"acme_\"]\n",
    );
    let (_, builtin, _) = html(d.path(), &["dir", "a.txt"]);
    let (_, again, _) = html(d.path(), &["dir", "a.txt"]);
    let (_, extra, _) = html(d.path(), &["dir", "a.txt", "--rules", "extra.toml"]);
    assert_eq!(digest(&builtin), digest(&again));
    assert_ne!(digest(&builtin), digest(&extra));
    assert!(
        extra.contains("1 from rule files or the configuration"),
        "{extra}"
    );
}

#[test]
fn a_timeline_of_a_century_has_a_bar_a_year() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    git(p, &["init", "-q"]);
    write(p, "a.env", format!("GITHUB_TOKEN={GITHUB_PAT}\n"));
    git(p, &["add", "-A"]);
    git_at(p, &["commit", "-qm", "old"], "1971-03-01T00:00:00Z");
    write(p, ".env", vobiz_env(VOBIZ_ID, VOBIZ_TOKEN));
    git(p, &["add", "-A"]);
    git_at(p, &["commit", "-qm", "new"], "2099-06-01T00:00:00Z");
    let (code, page, stderr) = html(p, &["git", "."]);
    assert_eq!(code, 1, "{stderr}");
    // 1,540 months would be too many bars: a bar a year, from the first to the last.
    assert!(page.contains("<title>1971: 1 secret</title>"), "{page}");
    assert!(page.contains("<title>2099: 2 secrets</title>"), "{page}");
    assert!(page.contains(", 1971 to 2099</title>"), "{page}");
    assert_eq!(page.matches("<rect class=\"bar\"").count(), 2);
    let labels = page.split("<svg").nth(1).unwrap().matches("<text").count();
    assert!(labels <= 2 + 24, "{labels} labels");
}
