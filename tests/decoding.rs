//! Credentials written in an encoding: base64 (a Kubernetes `Secret`), percent-encoding (a logged
//! URL), string escapes (a bundle), HTML references, nested encodings; in a tree, staged and in
//! history. Every credential here is fake: the tokens carry `FAKE` in plain sight.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

mod common;
use common::{credsweep, git, write};

const TOKEN: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE";

/// `credsweep <args> --format json --no-config --no-redact`: (status, findings).
fn scan(args: &[&str]) -> (i32, Vec<Value>) {
    let out = credsweep()
        .args(args)
        .args(["--format", "json", "--no-config", "--no-redact", "--quiet"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (
        out.status.code().unwrap(),
        doc["findings"].as_array().unwrap().clone(),
    )
}

fn of_rule<'a>(findings: &'a [Value], rule: &str) -> Vec<&'a Value> {
    findings.iter().filter(|f| f["rule_id"] == rule).collect()
}

fn kubernetes_secret() -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: vobiz\ndata:\n  VOBIZ_AUTH_TOKEN: {}\n",
        STANDARD.encode(TOKEN)
    )
}

#[test]
fn a_base64_value_in_a_kubernetes_secret_is_found_at_the_encoded_value() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "secret.yaml", kubernetes_secret());
    let (status, findings) = scan(&["dir", dir.path().to_str().unwrap()]);
    assert_eq!(status, 1);
    let tokens = of_rule(&findings, "vobiz-auth-token");
    assert_eq!(tokens.len(), 1, "{findings:#?}");
    let f = tokens[0];
    assert_eq!(f["secret"], TOKEN);
    assert_eq!(f["decoded"], serde_json::json!(["base64"]));
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(6), Some(21))
    );
    assert!(f["path"].as_str().unwrap().ends_with("secret.yaml"));
    // The encoded value is explained by what it holds: no generic "high-entropy value" beside it.
    assert_eq!(findings.len(), 1, "{findings:#?}");

    // The same secret written in plain text has the same fingerprint: one baseline entry covers
    // both forms.
    let plain = tempfile::tempdir().unwrap();
    write(
        plain.path(),
        "app.env",
        format!("VOBIZ_AUTH_TOKEN={TOKEN}\n"),
    );
    let (_, plain_findings) = scan(&["dir", plain.path().to_str().unwrap()]);
    assert_eq!(plain_findings[0]["fingerprint"], f["fingerprint"]);
    assert!(plain_findings[0].get("decoded").is_none());
}

#[test]
fn percent_escapes_html_references_and_nested_encodings_are_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let percent = TOKEN.replace('_', "%5F");
    write(
        dir.path(),
        "access.log",
        format!("GET /cb?x-auth-token={percent}&page=2 HTTP/1.1\n"),
    );
    write(
        dir.path(),
        "page.html",
        "<meta name=\"vobiz-auth-token\" content=&#115;k_live_4eC39HqLyjWDarjtT1zdp7dcFAKE>\n",
    );
    write(
        dir.path(),
        "bundle.js",
        "const h={\"X-Auth-Token\":\"\\u0073k_live_4eC39HqLyjWDarjtT1zdp7dcFAKE\"};\n",
    );
    // base64 of a percent-encoded line: two encodings deep.
    let nested = STANDARD.encode(format!("X-Auth-Token: {percent}"));
    write(dir.path(), "nested.txt", format!("blob: {nested}\n"));
    let (_, findings) = scan(&["dir", dir.path().to_str().unwrap()]);
    let decoded_in = |file: &str| -> Vec<String> {
        findings
            .iter()
            .filter(|f| f["path"].as_str().unwrap().ends_with(file) && f["secret"] == TOKEN)
            .map(|f| f["decoded"].to_string())
            .collect()
    };
    assert_eq!(
        decoded_in("access.log"),
        [r#"["percent"]"#],
        "{findings:#?}"
    );
    assert_eq!(decoded_in("page.html"), [r#"["html"]"#], "{findings:#?}");
    assert_eq!(decoded_in("bundle.js"), [r#"["escapes"]"#], "{findings:#?}");
    assert_eq!(
        decoded_in("nested.txt"),
        [r#"["base64","percent"]"#],
        "{findings:#?}"
    );

    // One encoding deep finds the first three, not the nested one; 0 finds none.
    let (_, one) = scan(&[
        "dir",
        dir.path().to_str().unwrap(),
        "--max-decode-depth",
        "1",
    ]);
    assert_eq!(of_rule(&one, "vobiz-auth-token").len(), 3, "{one:#?}");
    let (status, none) = scan(&[
        "dir",
        dir.path().to_str().unwrap(),
        "--max-decode-depth",
        "0",
    ]);
    assert!(of_rule(&none, "vobiz-auth-token").is_empty(), "{none:#?}");
    assert!(none.iter().all(|f| f.get("decoded").is_none()));
    assert!(status <= 1);
}

#[test]
fn benign_encoded_data_and_encoded_placeholders_give_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // A 1x1 PNG, base64 text of an ordinary sentence, a hash, an encoded placeholder.
    write(
        dir.path(),
        "notebook.json",
        concat!(
            "{\"image/png\": \"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==\",\n",
            " \"text\": \"VGhlIHF1aWNrIGJyb3duIGZveCBqdW1wcyBvdmVyIHRoZSBsYXp5IGRvZw==\",\n",
            " \"sha\": \"3f786850e387550fdab836ed7e6dc881de23001b\"}\n"
        ),
    );
    let placeholder = STANDARD.encode("X-Auth-Token: sk_live_XXXXXXXXXXXXXXXXXXXXXXXX");
    write(
        dir.path(),
        "example.yaml",
        format!("token: {placeholder}\n"),
    );
    let (status, findings) = scan(&["dir", dir.path().to_str().unwrap()]);
    assert_eq!(status, 0, "{findings:#?}");
}

#[test]
fn a_huge_base64_line_ends_in_bounded_time_with_the_token_found() {
    let dir = tempfile::tempdir().unwrap();
    // 16 MB of base64 text on one line, with the token's line encoded in the middle.
    let filler = STANDARD.encode("ordinary log text, nothing to see here. ".repeat(200_000));
    let mut line = filler.clone();
    line.push_str(" X-Auth-Token: ");
    line.push_str(&STANDARD.encode(format!("X-Auth-Token: {TOKEN}")));
    line.push(' ');
    line.push_str(&filler);
    write(dir.path(), "dump.txt", line);
    let started = std::time::Instant::now();
    let (status, findings) = scan(&["dir", dir.path().to_str().unwrap()]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(status, 1);
    assert_eq!(
        of_rule(&findings, "vobiz-auth-token").len(),
        1,
        "{findings:#?}"
    );
}

#[test]
fn broken_escapes_are_scanned_as_written_and_do_not_hide_what_follows() {
    // Percent signs that start no escape, escapes cut at the end of a line or file, a UTF-8
    // sequence cut in two, invalid HTML references and JSON escapes: each value is left as it
    // is, the scan goes on, and the token next to them (encoded or not) is still found.
    let dir = tempfile::tempdir().unwrap();
    let percent = TOKEN.replace('_', "%5F");
    write(
        dir.path(),
        "broken.log",
        format!(
            "GET /a?q=%ZZ%4&r=%&s=%E2%82&t=100%%\n\
             GET /b?x-auth-token={percent}&u=%G1%\n\
             html: &#xZZ; &#99999999999; &amp &#\n\
             json: \"\\u12\\x4\\\"\n\
             tail %4"
        ),
    );
    let (status, findings) = scan(&["dir", dir.path().to_str().unwrap()]);
    assert_eq!(status, 1, "{findings:#?}");
    let tokens = of_rule(&findings, "vobiz-auth-token");
    assert_eq!(tokens.len(), 1, "{findings:#?}");
    assert_eq!(tokens[0]["secret"], TOKEN);
    assert_eq!(tokens[0]["line"], 2);
    assert_eq!(tokens[0]["decoded"].to_string(), r#"["percent"]"#);
}

fn repo() -> tempfile::TempDir {
    let r = tempfile::tempdir().unwrap();
    git(r.path(), &["init", "-q", "-b", "main", "."]);
    r
}

fn commit(dir: &Path, msg: &str) {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", msg]);
}

#[test]
fn encoded_secrets_are_found_in_history_and_in_staged_changes() {
    let r = repo();
    write(r.path(), "README.md", "hello\n");
    commit(r.path(), "init");
    write(r.path(), "k8s/secret.yaml", kubernetes_secret());
    commit(r.path(), "add the secret");
    std::fs::remove_file(r.path().join("k8s/secret.yaml")).unwrap();
    commit(r.path(), "remove it");
    let (status, findings) = scan(&["git", r.path().to_str().unwrap()]);
    assert_eq!(status, 1);
    let tokens = of_rule(&findings, "vobiz-auth-token");
    assert_eq!(tokens.len(), 1, "{findings:#?}");
    assert_eq!(tokens[0]["path"], "k8s/secret.yaml");
    assert_eq!(tokens[0]["decoded"], serde_json::json!(["base64"]));
    assert_eq!(tokens[0]["message"], "add the secret");

    write(r.path(), "k8s/again.yaml", kubernetes_secret());
    git(r.path(), &["add", "k8s/again.yaml"]);
    let out = credsweep()
        .args([
            "staged",
            "--repo",
            r.path().to_str().unwrap(),
            "--no-config",
        ])
        .args(["--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    // Already in history, but not in HEAD's version of this file: the commit adds it.
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("decoded from base64"), "{text}");
}

/// `text` base64-encoded and wrapped at `width` columns, lines ended by `newline`.
fn wrapped_base64(text: &[u8], width: usize, newline: &str) -> String {
    let encoded = STANDARD.encode(text);
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(width)
        .map(|l| std::str::from_utf8(l).unwrap())
        .collect();
    lines.join(newline)
}

#[test]
fn a_mime_base64_body_is_decoded_whole_at_its_first_line() {
    let dir = tempfile::tempdir().unwrap();
    // An e-mail whose text part is base64 (as mail clients send non-ASCII text), wrapped at 76
    // columns with CRLF line ends; the token is cut across two lines of the body.
    let part = format!(
        "Hi team,\r\n\r\nthe new gateway credentials for the staging account are below; \
         please put them in the vault and not in the repository.\r\n\r\n\
         X-Auth-Token: {TOKEN}\r\n\r\nThanks\r\n"
    );
    let body = wrapped_base64(part.as_bytes(), 76, "\r\n");
    let png = wrapped_base64(&fake_png(), 76, "\r\n");
    let eml = format!(
        "From: ops@example.com\r\nTo: dev@example.com\r\nSubject: credentials\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n\
         {body}\r\n--b1\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n\
         {png}\r\n--b1--\r\n"
    );
    let body_line = eml[..eml.find(&body).unwrap()].matches('\n').count() + 1;
    write(dir.path(), "mail/credentials.eml", &eml);
    // A whole .env run through `base64` (76 columns, LF), committed as a file.
    let env =
        format!("DATABASE_URL=postgres://localhost/app\nVOBIZ_AUTH_TOKEN={TOKEN}\nDEBUG=false\n");
    write(
        dir.path(),
        "env.b64",
        format!("{}\n", wrapped_base64(env.as_bytes(), 76, "\n")),
    );

    let (status, findings) = scan(&["dir", dir.path().to_str().unwrap()]);
    assert_eq!(status, 1);
    let at = |file: &str| -> Vec<(Option<u64>, Option<u64>, String)> {
        findings
            .iter()
            .filter(|f| f["path"].as_str().unwrap().ends_with(file) && f["secret"] == TOKEN)
            .map(|f| {
                (
                    f["line"].as_u64(),
                    f["column"].as_u64(),
                    f["decoded"].to_string(),
                )
            })
            .collect()
    };
    assert_eq!(
        at("credentials.eml"),
        [(Some(body_line as u64), Some(1), r#"["base64"]"#.to_string())],
        "{findings:#?}"
    );
    assert_eq!(
        at("env.b64"),
        [(Some(1), Some(1), r#"["base64"]"#.to_string())],
        "{findings:#?}"
    );
    // Nothing else: the image part's lines are not text, the body's lines are not "values".
    assert_eq!(findings.len(), 2, "{findings:#?}");
}

/// A small PNG's bytes with a text chunk that holds a token-like string: an image, not text.
fn fake_png() -> Vec<u8> {
    let mut png =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    png.extend_from_slice(b"\0\0\0\x40tEXtComment\0X-Auth-Token: ");
    png.extend_from_slice(TOKEN.as_bytes());
    png.extend_from_slice(b" and some more words to fill\0\0\0\0\0\0\0\0IEND\xaeB`\x82");
    png
}

#[test]
fn a_notebook_is_scanned_at_the_lines_of_its_json_and_its_images_are_not_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let other = "sk_live_7Hq2mZk9Lp4Wx8Rt3Nv6Bd1yFAKE";
    // An image whose "pixels" read as text: only the context says it is an image.
    let texty_image = STANDARD.encode(format!("X-Auth-Token: {TOKEN} ").repeat(3));
    let gif = STANDARD.encode(format!("GIF89a X-Auth-Token: {TOKEN}"));
    let notebook = format!(
        r#"{{
 "cells": [
  {{
   "cell_type": "code",
   "execution_count": 1,
   "metadata": {{}},
   "outputs": [
    {{
     "name": "stdout",
     "output_type": "stream",
     "text": [
      "connected\n",
      "X-Auth-Token: {other}\n"
     ]
    }},
    {{
     "data": {{
      "image/png": "{texty_image}",
      "image/gif": "{gif}",
      "text/plain": [
       "<Figure size 640x480 with 1 Axes>"
      ]
     }},
     "metadata": {{}},
     "output_type": "display_data"
    }}
   ],
   "source": [
    "import requests\n",
    "headers = {{\"X-Auth-Token\": \"{TOKEN}\"}}\n",
    "requests.get(url, headers=headers)"
   ]
  }},
  {{
   "cell_type": "markdown",
   "metadata": {{}},
   "source": [
    "![plot](data:image/png;base64,{texty_image})"
   ]
  }}
 ],
 "metadata": {{}},
 "nbformat": 4,
 "nbformat_minor": 5
}}
"#
    );
    let line_of = |needle: &str| {
        notebook[..notebook.find(needle).unwrap()]
            .matches('\n')
            .count() as u64
            + 1
    };
    write(dir.path(), "analysis.ipynb", &notebook);
    let (status, findings) = scan(&["dir", dir.path().to_str().unwrap()]);
    assert_eq!(status, 1);
    let mut found: Vec<(String, Option<u64>)> = findings
        .iter()
        .map(|f| {
            (
                f["secret"].as_str().unwrap().to_string(),
                f["line"].as_u64(),
            )
        })
        .collect();
    found.sort();
    let mut expected = vec![
        (TOKEN.to_string(), Some(line_of("headers = "))),
        (other.to_string(), Some(line_of(other))),
    ];
    expected.sort();
    assert_eq!(found, expected, "{findings:#?}");
    assert!(
        findings.iter().all(|f| f.get("decoded").is_none()),
        "{findings:#?}"
    );
}
