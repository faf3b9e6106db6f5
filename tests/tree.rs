//! The working-tree and stdin scans, end to end through the binary.
//!
//! Every credential here is fake: the tokens carry `FAKE` in plain sight.

use std::fs;
use std::path::Path;

use predicates::prelude::*;
use serde_json::Value;

mod common;
use common::{credsweep, write};

const TOKEN: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE";
const TEST_TOKEN: &str = "sk_test_9Rk2FAKEmWq7Lp3ZtXv8NbY4cHd6";
const PARTNER: &str = "partner-7f3a9c2e41b8";
// header {"alg":"HS256","typ":"JWT"}, payload {"sub":"partner-fake","exp":1}, fake signature
const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJwYXJ0bmVyLWZha2UiLCJleHAiOjF9.RkFLRS1zaWduYXR1cmUtbm90LXJlYWwtMDAx";
const PASSWORD: &str = "Fake#Pa55w0rd!Q7";

/// Runs `credsweep dir --format json` on `dir` with `extra` arguments; returns (status, findings).
fn scan_json(dir: &Path, extra: &[&str]) -> (i32, Vec<Value>) {
    let out = credsweep()
        .arg("dir")
        .arg(dir)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (
        out.status.code().unwrap(),
        doc["findings"].as_array().unwrap().clone(),
    )
}

fn found(findings: &[Value], path_suffix: &str, rule: &str) -> Vec<Value> {
    findings
        .iter()
        .filter(|f| f["path"].as_str().unwrap().ends_with(path_suffix) && f["rule_id"] == rule)
        .cloned()
        .collect()
}

fn assert_found(findings: &[Value], path_suffix: &str, rule: &str) -> Value {
    let hits = found(findings, path_suffix, rule);
    assert_eq!(
        hits.len(),
        1,
        "expected one {rule} in {path_suffix}, got {hits:?}\nall: {findings:#?}"
    );
    hits[0].clone()
}

#[test]
fn every_vobiz_form_in_every_file_kind() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    write(
        p,
        ".env",
        format!(
            "VOBIZ_AUTH_ID={PARTNER}\nVOBIZ_AUTH_TOKEN={TOKEN}\nVOBIZ_TEST_TOKEN={TEST_TOKEN}\n"
        ),
    );
    write(
        p,
        "deploy/values.yaml",
        format!("vobiz:\n  auth_id: \"{PARTNER}\"\n  auth_token: \"{TOKEN}\"\n"),
    );
    write(
        p,
        "config.json",
        format!(
            "{{\n  \"vobiz\": {{ \"x-auth-id\": \"{PARTNER}\", \"x-auth-token\": \"{TOKEN}\" }},\n  \"partner_access_token\": \"{JWT}\"\n}}\n"
        ),
    );
    write(
        p,
        "client.py",
        format!(
            "import requests\n\nHEADERS = {{\"X-Auth-ID\": \"{PARTNER}\", \"X-Auth-Token\": \"{TOKEN}\"}}\n\
             requests.post(\"https://api.vobiz.ai/api/v1/partner/login\", json={{\"email\": \"partner@example.org\", \"password\": \"{PASSWORD}\"}})\n"
        ),
    );
    let filler: String = (0..400).map(|i| format!("var a{i}=b{i};")).collect();
    let minified = format!(
        "{filler}fetch(\"https://api.vobiz.ai/api/v1/partner/me\",{{headers:{{\"X-Auth-ID\":\"{PARTNER}\",\"X-Auth-Token\":\"{TOKEN}\"}}}});{filler}\n"
    );
    assert!(minified.len() > 5000);
    write(p, "web/app.min.js", &minified);
    write(
        p,
        "settings.ini",
        format!("[vobiz]\r\nauth_id = {PARTNER}\r\nauth_token = {TOKEN}\r\n"),
    );
    let mut latin1 = b"# Param\xe8tres d'acc\xe8s vobiz\n".to_vec();
    latin1.extend(format!("X-Auth-Token: {TOKEN}\n").as_bytes());
    write(p, "latin1.txt", latin1);
    let mut utf16 = vec![0xFF, 0xFE];
    for u in format!("vobiz\r\nX-Auth-Token: {TOKEN}\r\n").encode_utf16() {
        utf16.extend(u.to_le_bytes());
    }
    write(p, "utf16.txt", utf16);
    let mut big = "x = 1 # padding line for a large file\n".repeat(60_000);
    big.push_str(&format!("VOBIZ_AUTH_TOKEN={TOKEN}\n"));
    assert!(big.len() > 2 << 20);
    write(p, "big.txt", &big);

    let (code, f) = scan_json(p, &[]);
    assert_eq!(code, 1);
    for file in [
        ".env",
        "values.yaml",
        "config.json",
        "client.py",
        "app.min.js",
        "settings.ini",
        "latin1.txt",
        "utf16.txt",
        "big.txt",
    ] {
        assert_found(&f, file, "vobiz-auth-token");
    }
    for file in [
        ".env",
        "values.yaml",
        "config.json",
        "client.py",
        "app.min.js",
        "settings.ini",
    ] {
        assert_found(&f, file, "vobiz-partner-id");
    }
    assert_found(&f, ".env", "vobiz-test-token");
    assert_found(&f, "config.json", "vobiz-jwt");
    assert_found(&f, "client.py", "vobiz-login-password");

    // Positions: line and column of the secret, in characters.
    let ini = assert_found(&f, "settings.ini", "vobiz-auth-token");
    assert_eq!(
        (ini["line"].as_u64(), ini["column"].as_u64()),
        (Some(3), Some(14))
    );
    assert_eq!(ini["end_column"].as_u64(), Some(14 + TOKEN.len() as u64));
    let utf = assert_found(&f, "utf16.txt", "vobiz-auth-token");
    assert_eq!(
        (utf["line"].as_u64(), utf["column"].as_u64()),
        (Some(2), Some(15))
    );
    let big = assert_found(&f, "big.txt", "vobiz-auth-token");
    assert_eq!(big["line"].as_u64(), Some(60_001));
}

#[test]
fn seed_placeholders_and_environment_lookups_are_not_findings() {
    let d = tempfile::tempdir().unwrap();
    let seed = fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/seed-placeholders.txt"
    ))
    .unwrap();
    write(d.path(), "README.md", seed);
    write(
        d.path(),
        "app.py",
        "import os\nVOBIZ_AUTH_ID = os.environ[\"VOBIZ_AUTH_ID\"]\nVOBIZ_AUTH_TOKEN = os.environ.get(\"VOBIZ_AUTH_TOKEN\")\n",
    );
    write(
        d.path(),
        "app.js",
        "const headers = { 'X-Auth-ID': process.env.VOBIZ_AUTH_ID, 'X-Auth-Token': process.env.VOBIZ_AUTH_TOKEN };\n",
    );
    write(
        d.path(),
        "compose.yml",
        "environment:\n  VOBIZ_AUTH_ID: ${VOBIZ_AUTH_ID}\n  VOBIZ_AUTH_TOKEN: ${VOBIZ_AUTH_TOKEN}\n  X_AUTH_TOKEN: \"{{ vobiz_auth_token }}\"\n  OTHER: sk_live_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\n",
    );
    let (code, f) = scan_json(d.path(), &[]);
    assert_eq!(f, Vec::<Value>::new());
    assert_eq!(code, 0);
}

#[test]
fn a_live_token_is_reported_exactly_once() {
    let d = tempfile::tempdir().unwrap();
    // Vobiz context, Stripe context, and none: the same kind of bytes, one finding each.
    write(d.path(), "vobiz.env", format!("VOBIZ_AUTH_TOKEN={TOKEN}\n"));
    write(
        d.path(),
        "stripe.env",
        format!("STRIPE_SECRET_KEY={TOKEN}\n"),
    );
    write(d.path(), "bare.txt", format!("key: {TOKEN}\n"));
    let (_, f) = scan_json(d.path(), &[]);
    assert_eq!(f.len(), 3, "{f:#?}");
    assert_found(&f, "vobiz.env", "vobiz-auth-token");
    assert_eq!(found(&f, "stripe.env", "vobiz-auth-token").len(), 0);
    assert_eq!(
        f.iter()
            .filter(|x| x["path"].as_str().unwrap().ends_with("bare.txt"))
            .count(),
        1
    );
}

#[test]
fn exit_codes_clean_findings_error() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "clean.txt", "nothing to see\n");
    credsweep().arg("dir").arg(d.path()).assert().code(0);
    write(d.path(), "leak.env", format!("VOBIZ_AUTH_TOKEN={TOKEN}\n"));
    credsweep().arg("dir").arg(d.path()).assert().code(1);
    // Bad arguments, a bad rule file and a missing path are errors.
    credsweep()
        .args(["dir", "--format", "xml"])
        .assert()
        .code(2);
    let bad = d.path().join("bad.toml");
    fs::write(&bad, "[[rule]]\nid = \"bad-rule\"\ndescription = \"d\"\nseverity = \"error\"\nregex = \"(?P<secret>[a-z\"\n").unwrap();
    credsweep()
        .arg("dir")
        .arg(d.path().join("clean.txt"))
        .arg("--rules")
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad-rule").and(predicate::str::contains("bad.toml")));
    credsweep()
        .arg("dir")
        .arg(d.path().join("no-such-file"))
        .assert()
        .code(2);
}

#[test]
fn secrets_are_redacted_unless_asked() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), ".env", format!("VOBIZ_AUTH_TOKEN={TOKEN}\n"));
    for format in ["text", "json"] {
        credsweep()
            .arg("dir")
            .arg(d.path())
            .args(["--format", format])
            .assert()
            .code(1)
            .stdout(predicate::str::contains(TOKEN).not())
            .stdout(predicate::str::contains("sk_live_4e…FAKE"))
            .stderr(predicate::str::contains(TOKEN).not());
        credsweep()
            .arg("dir")
            .arg(d.path())
            .args(["--format", format, "--no-redact"])
            .assert()
            .code(1)
            .stdout(predicate::str::contains(TOKEN));
    }
}

#[test]
fn gitignore_is_honoured_and_no_ignore_overrides_it() {
    let d = tempfile::tempdir().unwrap();
    fs::create_dir(d.path().join(".git")).unwrap();
    write(d.path(), ".gitignore", ".env\n");
    write(d.path(), ".env", format!("VOBIZ_AUTH_TOKEN={TOKEN}\n"));
    write(
        d.path(),
        ".git/config-copy",
        format!("VOBIZ_AUTH_TOKEN={TOKEN}\n"),
    );
    let (code, f) = scan_json(d.path(), &[]);
    assert_eq!((code, f.len()), (0, 0), "{f:#?}");
    let (code, f) = scan_json(d.path(), &["--no-ignore"]);
    assert_eq!(code, 1);
    // `.git/` itself is never scanned.
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(f[0]["path"].as_str().unwrap().ends_with(".env"));
}

#[test]
fn stdin_and_dash_are_scanned_as_stdin() {
    // Run outside this repository, whose own .credsweep.toml allows fake tokens.
    let d = tempfile::tempdir().unwrap();
    for args in [vec!["stdin"], vec!["dir", "-"]] {
        credsweep()
            .current_dir(d.path())
            .args(&args)
            .write_stdin(format!("X-Auth-Token: {TOKEN}\n"))
            .assert()
            .code(1)
            .stdout(
                predicate::str::contains("<stdin>")
                    .and(predicate::str::contains("vobiz-auth-token")),
            );
    }
    credsweep()
        .arg("stdin")
        .write_stdin("hello\n")
        .assert()
        .code(0);
}

#[test]
fn binary_files_are_skipped_and_counted_large_files_truncated_and_reported() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "blob.bin",
        [
            b"\0\x01\x02".as_slice(),
            format!("VOBIZ_AUTH_TOKEN={TOKEN}").as_bytes(),
        ]
        .concat(),
    );
    let mut big = "a".repeat(2000);
    big.push_str(&format!("\nVOBIZ_AUTH_TOKEN={TOKEN}\n"));
    write(d.path(), "big.txt", &big);
    let run = |extra: &[&str]| {
        let out = credsweep()
            .arg("dir")
            .arg(d.path())
            // Binary files are scanned for their strings unless asked not to (tests/binary.rs).
            .args(["--format", "json", "--max-file-size", "1K", "--skip-binary"])
            .args(extra)
            .output()
            .unwrap();
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code(), doc)
    };
    // A scan the cap cut does not pass (issue 13): the cut file is an error that says what to do.
    let (code, doc) = run(&[]);
    assert_eq!(code, Some(2), "a truncation fails the scan");
    assert_eq!(doc["summary"]["binary_skipped"], 1);
    let skipped = doc["summary"]["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1);
    assert!(skipped[0]["path"].as_str().unwrap().ends_with("big.txt"));
    let reason = skipped[0]["reason"].as_str().unwrap();
    assert!(reason.contains("size cap"), "{reason}");
    assert!(reason.contains("--allow-truncation"), "{reason}");
    assert_eq!(skipped[0]["error"], true);
    // Accepted with --allow-truncation: reported, and the exit status is the findings'.
    let (code, doc) = run(&["--allow-truncation"]);
    assert_eq!(
        code,
        Some(0),
        "truncation allowed, no findings in the first 1K"
    );
    let skipped = doc["summary"]["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0]["error"], false);
    assert!(skipped[0]["reason"].as_str().unwrap().contains("size cap"));
}

#[test]
fn rules_list_and_check() {
    credsweep().args(["rules", "list"]).assert().code(0).stdout(
        predicate::str::contains("vobiz-auth-token").and(predicate::str::contains("error")),
    );
    credsweep()
        .args(["rules", "check"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(" 0 failed"));
    let d = tempfile::tempdir().unwrap();
    let r = d.path().join("mine.toml");
    fs::write(
        &r,
        "[[rule]]\nid = \"acme-key\"\ndescription = \"Acme key\"\nseverity = \"warning\"\nregex = '(?P<secret>acme_[a-z0-9]{12})'\nkeywords = [\"acme_\"]\nexamples = [\"k = acme_q8zr2mpv7xwk\"]\nnegative_examples = [\"k = acme_q8zr2mpv7xwk\"]\n",
    )
    .unwrap();
    credsweep()
        .args(["rules", "check", "--no-default-rules", "--rules"])
        .arg(&r)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "acme-key: negative example was found",
        ));
}
