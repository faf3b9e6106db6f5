//! Daily use of pairing, `--verify`, `--fail-on` and redaction (issue 18, items 4, 6, 7, 8), end
//! to end through the binary. Verification talks to a small HTTP server on 127.0.0.1 that each
//! test starts ([`Mock`]): it records every request and answers with the status the test's
//! handler returns.
//!
//! Every credential here is fake (`FAKE` in plain sight). credsweep runs in a temporary
//! directory with `--no-config`, so the project's own configuration is not in force.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::{credsweep, write};

const PARTNER_ID: &str = "partner-7f3a9c2e41b8";
const PARTNER_ID_UPPER: &str = "partner-7F3A9C21B0D4E6F8";
const PA_ID: &str = "PA_34F6A4W1GFAKE4NXQOVG";
const MA_ID: &str = "MA_6IJANV8A3FAKEQQJE4";
const LIVE: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE";
const LIVE2: &str = "sk_live_8KjkRXpqP7FAKEezt61EyzWB2BGBy2kW";
const TEST: &str = "sk_test_cCFAKEqOZ3QkowIyxnlS9HT16ZM3izCv";

/// One request as the mock read it: method, path, headers (names lower-cased).
#[derive(Debug, Clone)]
struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

type Handler = dyn Fn(&Request) -> u16 + Send + Sync;

/// An HTTP/1.1 server on 127.0.0.1: one request per connection, `Connection: close`. Stops when
/// dropped, and after a minute whatever happens.
struct Mock {
    port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Mock {
    fn start(handler: impl Fn(&Request) -> u16 + Send + Sync + 'static) -> Mock {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let handler: Arc<Handler> = Arc::new(handler);
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (requests, stop) = (requests.clone(), stop.clone());
            std::thread::spawn(move || {
                let deadline = Instant::now() + Duration::from_secs(60);
                while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let (handler, requests) = (handler.clone(), requests.clone());
                            std::thread::spawn(move || serve(stream, &*handler, &requests));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        Mock {
            port,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(stream: TcpStream, handler: &Handler, requests: &Mutex<Vec<Request>>) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim_end().is_empty() {
            break;
        }
        if let Some((n, v)) = h.trim_end().split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let req = Request {
        method,
        path,
        headers,
    };
    requests.lock().unwrap().push(req.clone());
    let status = handler(&req);
    let body = "{}";
    let mut s = stream;
    let _ = write!(
        s,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = s.flush();
    let _ = s.shutdown(Shutdown::Both);
}

/// A handler that answers `ok` to a well-formed check of (`id`, `token`) on `path`, 401 to any
/// other credentials and 404 to any other path.
fn accepting(
    path: &'static str,
    id: &'static str,
    token: &'static str,
    ok: u16,
) -> impl Fn(&Request) -> u16 + Send + Sync + 'static {
    move |r| {
        if r.method != "GET" || r.path != path || r.header("accept") != Some("application/json") {
            404
        } else if r.header("x-auth-id") == Some(id) && r.header("x-auth-token") == Some(token) {
            ok
        } else {
            401
        }
    }
}

/// `credsweep dir . --no-config --color never ARGS...` in `cwd`.
fn run(cwd: &Path, args: &[&str]) -> Output {
    credsweep()
        .current_dir(cwd)
        .args(["dir", ".", "--no-config", "--color", "never"])
        .args(args)
        .output()
        .unwrap()
}

/// [`run`] with `--format json`; the exit code, the document and stderr.
fn json(cwd: &Path, args: &[&str]) -> (i32, Value, String) {
    let mut all = vec!["--format", "json"];
    all.extend(args);
    let out = run(cwd, &all);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (
        out.status.code().unwrap(),
        doc,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `--verify` against `mock` with a 2 s timeout, plus `args`.
fn verify_args<'a>(mock: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec![
        "--verify",
        "--verify-base-url",
        mock,
        "--verify-timeout",
        "2",
    ];
    all.extend(args);
    all
}

/// The one finding of `rule` in `doc`.
fn one<'a>(doc: &'a Value, rule: &str) -> &'a Value {
    let all: Vec<&Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == rule)
        .collect();
    assert_eq!(all.len(), 1, "one {rule} expected:\n{doc:#}");
    all[0]
}

// ---------------------------------------------------------------------------------------------
// 18.4: every id kind pairs with every token kind

#[test]
fn customer_auth_id_with_live_token_is_paired_and_checked_on_its_account() {
    // The rule pack's own example: an MA_ customer auth id beside a live token.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "config.json",
        format!(r#"{{"vobiz": {{"auth_id": "{MA_ID}", "auth_token": "{LIVE2}"}}}}"#),
    );
    let (_, doc, _) = json(dir.path(), &[]);
    let token = one(&doc, "vobiz-auth-token");
    let id = one(&doc, "vobiz-customer-auth-id");
    assert_eq!(token["pair"]["fingerprint"], id["fingerprint"], "{doc:#}");
    assert_eq!(id["pair"]["fingerprint"], token["fingerprint"], "{doc:#}");

    let account = "/api/v1/Account/MA_6IJANV8A3FAKEQQJE4/";
    let mock = Mock::start(accepting(account, MA_ID, LIVE2, 200));
    let url = mock.url();
    let (code, doc, _) = json(dir.path(), &verify_args(&url, &[]));
    assert_eq!(code, 1);
    assert_eq!(one(&doc, "vobiz-auth-token")["verification"], "active");
    assert_eq!(
        one(&doc, "vobiz-customer-auth-id")["verification"],
        "active"
    );
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!(reqs[0].path, account);
}

#[test]
fn a_test_token_pairs_with_a_pa_id_on_one_line_and_is_never_sent() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "call.sh",
        format!(
            "curl -H \"X-Auth-ID: {PA_ID}\" -H \"X-Auth-Token: {TEST}\" https://api.vobiz.ai/api/v1/partner/me\n"
        ),
    );
    let mock = Mock::start(|_| 200);
    let url = mock.url();
    let (code, doc, stderr) = json(dir.path(), &verify_args(&url, &[]));
    assert_eq!(code, 1, "{stderr}");
    let token = one(&doc, "vobiz-test-token");
    let id = one(&doc, "vobiz-partner-auth-id");
    assert_eq!(token["pair"]["fingerprint"], id["fingerprint"], "{doc:#}");
    for f in [token, id] {
        assert_eq!(f["verification"], "unverifiable", "{doc:#}");
        let detail = f["verification_detail"].as_str().unwrap();
        assert!(
            detail.contains("test-mode token") && detail.contains("no test environment"),
            "{detail}"
        );
        assert!(!detail.contains("no Vobiz auth token"), "{detail}");
    }
    assert!(mock.requests().is_empty(), "a test token was sent");
    assert!(stderr.contains("1 test-mode pair"), "{stderr}");
}

#[test]
fn partner_ids_in_upper_and_mixed_case_hex_are_found_and_paired() {
    for id in [PARTNER_ID_UPPER, "partner-Fa3b9C21e0d4"] {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            ".env",
            format!("# Vobiz\nVOBIZ_AUTH_ID={id}\nVOBIZ_AUTH_TOKEN={LIVE}\n"),
        );
        let (_, doc, _) = json(dir.path(), &[]);
        let found = one(&doc, "vobiz-partner-id");
        assert_eq!(found["secret"], id, "an id is shown in full: {doc:#}");
        assert_eq!(found["severity"], "error", "raised to its token's severity");
        assert_eq!(
            one(&doc, "vobiz-auth-token")["pair"]["fingerprint"],
            found["fingerprint"]
        );
    }
    // Hyphenated words stay words, whatever their case.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "index.html",
        "<a href=\"/partner-FAQ\">FAQ</a> <a href=\"/partner-Portal2024\">Vobiz partners</a>\n",
    );
    let (code, doc, _) = json(dir.path(), &[]);
    assert_eq!(code, 0, "{doc:#}");
}

#[test]
fn unpaired_halves_say_which_half_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.env", format!("VOBIZ_AUTH_TOKEN={LIVE}\n"));
    write(dir.path(), "b.env", format!("VOBIZ_AUTH_ID={MA_ID}\n"));
    let mock = Mock::start(|_| 200);
    let url = mock.url();
    let (_, doc, _) = json(dir.path(), &verify_args(&url, &[]));
    let token = one(&doc, "vobiz-auth-token");
    assert_eq!(token["verification"], "unverifiable");
    let detail = token["verification_detail"].as_str().unwrap();
    assert!(detail.starts_with("no Vobiz auth id"), "{detail}");
    assert!(detail.contains("MA_"), "{detail}");
    let id = one(&doc, "vobiz-customer-auth-id");
    assert_eq!(id["verification"], "unverifiable");
    let detail = id["verification_detail"].as_str().unwrap();
    assert!(detail.starts_with("no Vobiz auth token"), "{detail}");
    assert!(mock.requests().is_empty());
}

// ---------------------------------------------------------------------------------------------
// 18.6: one count of pairs

#[test]
fn stderr_and_the_summary_count_the_same_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let env = format!("# Vobiz partner API\nVOBIZ_AUTH_ID={PARTNER_ID}\nVOBIZ_AUTH_TOKEN={LIVE}\n");
    // The same pair in two files is one credential.
    write(dir.path(), ".env", &env);
    write(dir.path(), "deploy/.env", &env);
    let mock = Mock::start(accepting("/api/v1/partner/me", PARTNER_ID, LIVE, 200));
    let url = mock.url();
    let out = run(dir.path(), &verify_args(&url, &[]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("verification of 1 credential pair: 1 active"),
        "{stderr}"
    );
    assert!(
        stdout.contains("; 1 credential pair verified active"),
        "{stdout}"
    );
    assert!(!stdout.contains("2 verified active") && !stdout.contains("4 verified active"));
}

// ---------------------------------------------------------------------------------------------
// 18.7: a gate that does not pass when the API cannot answer

#[test]
fn fail_on_unknown_fails_when_the_api_cannot_answer() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        ".env",
        format!("# Vobiz\nVOBIZ_AUTH_ID={PARTNER_ID}\nVOBIZ_AUTH_TOKEN={LIVE}\n"),
    );
    let down = Mock::start(|_| 503);
    let url = down.url();
    let (code, doc, _) = json(dir.path(), &verify_args(&url, &["--fail-on", "active"]));
    assert_eq!(one(&doc, "vobiz-auth-token")["verification"], "unknown");
    assert_eq!(code, 0, "`active` alone passes when nothing is known");
    for args in [
        &["--fail-on", "active,unknown"][..],
        &["--fail-on", "active", "--fail-on", "unknown"][..],
    ] {
        let (code, _, _) = json(dir.path(), &verify_args(&url, args));
        assert_eq!(code, 1, "{args:?}");
    }
    // A rejected pair is neither active nor unknown.
    let inactive = Mock::start(|_| 401);
    let url = inactive.url();
    let (code, _, _) = json(
        dir.path(),
        &verify_args(&url, &["--fail-on", "active,unknown"]),
    );
    assert_eq!(code, 0);
    // Outcomes mean nothing without --verify: refused, and the error says why.
    let out = run(dir.path(), &["--fail-on", "active,unknown"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("needs --verify"), "{stderr}");
    let out = run(dir.path(), &["--fail-on", "sometimes"]);
    assert_eq!(out.status.code(), Some(2));
}

// ---------------------------------------------------------------------------------------------
// 18.8: redaction that tells which key to rotate

#[test]
fn reports_show_identifiers_in_full_and_secrets_by_prefix_and_last_four() {
    let dir = tempfile::tempdir().unwrap();
    let aws_id = "AKIAP7DFAKEVC7ATTXOM";
    let aws_secret = "OSpNFAKE3ElTtZ+DcfptEZoiHAaVhhkxnvjESN0c";
    let hook = "https://hooks.slack.com/services/TPU4K27Q7Z7/BLNX2T07U73/k5FAKE1vdRxrBxrN5rPUNJSk";
    write(
        dir.path(),
        "settings.ini",
        format!(
            "aws_access_key_id = {aws_id}\naws_secret_access_key = {aws_secret}\nSLACK_WEBHOOK_URL={hook}\n# Vobiz\nVOBIZ_AUTH_ID={PARTNER_ID}\nVOBIZ_AUTH_TOKEN={LIVE}\n"
        ),
    );
    let (_, doc, _) = json(dir.path(), &[]);
    let shown = |rule| one(&doc, rule)["secret"].as_str().unwrap().to_string();
    assert_eq!(shown("aws-access-key-id"), aws_id);
    assert_eq!(shown("vobiz-partner-id"), PARTNER_ID);
    assert_eq!(shown("aws-secret-access-key"), "OS…SN0c");
    assert_eq!(shown("vobiz-auth-token"), "sk_live_4e…FAKE");
    assert_eq!(
        shown("slack-webhook-url"),
        "https://hooks.slack.com/services/TPU4K27Q7Z7/BLNX2T07U73/k5…NJSk"
    );

    // Text and SARIF show the same, and no report holds the middle of a secret.
    let text = String::from_utf8_lossy(&run(dir.path(), &[]).stdout).into_owned();
    let sarif =
        String::from_utf8_lossy(&run(dir.path(), &["--format", "sarif"]).stdout).into_owned();
    let json_text = doc.to_string();
    for report in [&text, &sarif, &json_text] {
        assert!(report.contains("sk_live_4e…FAKE"), "{report}");
        assert!(report.contains(aws_id), "{report}");
        for middle in ["C39HqLyjWDarjtT1zdp7dc", "3ElTtZ+Dcfpt", "1vdRxrBxrN5rP"] {
            assert!(!report.contains(middle), "{middle} leaked:\n{report}");
        }
    }
    // `--no-redact` still shows everything.
    let (_, doc, _) = json(dir.path(), &["--no-redact"]);
    assert_eq!(one(&doc, "vobiz-auth-token")["secret"], LIVE);
    assert_eq!(one(&doc, "slack-webhook-url")["secret"], hook);
}
