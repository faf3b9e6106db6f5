//! Vobiz pairs and `--verify`, end to end through the binary, against a real HTTP server on
//! 127.0.0.1 that each test starts ([`Server`]): it parses every request, records it, checks the
//! method, path and headers, and answers what the test tells it to.
//!
//! Every credential here is fake: the tokens carry `FAKE` in plain sight. credsweep always runs
//! in a temporary directory, so the project's own `.credsweep.toml` (which allows "fake") is not
//! in force.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

mod common;
use common::{git, write};

const ID: &str = "partner-7f3a9c2e41b8";
const TOKEN: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE";
const ID2: &str = "partner-c88a35a2e601";
const TOKEN2: &str = "sk_live_Q8vT2mXbN5pR7kLwZ3yH6dFAKE0c";
/// What a redacted report shows of `TOKEN`.
const TOKEN_SHOWN: &str = "sk_live_4e…FAKE";
const ENDPOINT: &str = "/api/v1/partner/me";

fn env_file(id: &str, token: &str) -> String {
    format!("# Vobiz partner API\nVOBIZ_AUTH_ID={id}\nVOBIZ_AUTH_TOKEN={token}\n")
}

/// A temporary tree holding `.env` with `ID` and `TOKEN`.
fn tree_with_pair() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ".env", env_file(ID, TOKEN));
    dir
}

/// One request as the server read it.
#[derive(Debug, Clone)]
struct Request {
    method: String,
    path: String,
    /// Names lower-cased.
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

/// What the server answers.
#[derive(Debug, Clone)]
enum Reply {
    Status(u16),
    /// Sleep this long, then answer 200 (too late for the client).
    Sleep(Duration),
    /// 302 to this URL.
    Redirect(String),
}

type Handler = dyn Fn(&Request, usize) -> Reply + Send + Sync;

/// A small HTTP/1.1 server on 127.0.0.1 for one test: one request per connection, answered
/// with `Connection: close`. It stops when dropped, and after a minute whatever happens.
struct Server {
    port: u16,
    connections: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<Request>>>,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// A server that answers `reply` to a well-formed check of (`ID`, `TOKEN`), 401 to other
    /// credentials and 400 to anything that is not the expected request.
    fn answering(reply: Reply) -> Server {
        Server::start(Box::new(move |req, _| {
            if !well_formed(req) {
                return Reply::Status(400);
            }
            if req.header("x-auth-id") == Some(ID) && req.header("x-auth-token") == Some(TOKEN) {
                reply.clone()
            } else {
                Reply::Status(401)
            }
        }))
    }

    fn start(handler: Box<Handler>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let handler: Arc<Handler> = Arc::from(handler);
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let max_in_flight = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (connections, requests, stop) =
                (connections.clone(), requests.clone(), stop.clone());
            let (in_flight, max_in_flight) = (in_flight.clone(), max_in_flight.clone());
            std::thread::spawn(move || {
                let deadline = Instant::now() + Duration::from_secs(60);
                while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            connections.fetch_add(1, Ordering::SeqCst);
                            let (handler, requests) = (handler.clone(), requests.clone());
                            let (in_flight, max_in_flight) =
                                (in_flight.clone(), max_in_flight.clone());
                            std::thread::spawn(move || {
                                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                                max_in_flight.fetch_max(now, Ordering::SeqCst);
                                serve(stream, &*handler, &requests);
                                in_flight.fetch_sub(1, Ordering::SeqCst);
                            });
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        Server {
            port,
            connections,
            requests,
            in_flight,
            max_in_flight,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = self.in_flight.load(Ordering::SeqCst);
    }
}

/// The request a check must be: `GET /api/v1/partner/me` with both auth headers and
/// `Accept: application/json`.
fn well_formed(req: &Request) -> bool {
    req.method == "GET"
        && req.path == ENDPOINT
        && req.header("x-auth-id").is_some()
        && req.header("x-auth-token").is_some()
        && req.header("accept") == Some("application/json")
}

/// Reads one request from `stream`, records it, and answers it.
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
        if reader.read_line(&mut h).unwrap_or(0) == 0 {
            break;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((n, v)) = h.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let req = Request {
        method,
        path,
        headers,
    };
    let n = {
        let mut all = requests.lock().unwrap();
        all.push(req.clone());
        all.len() - 1
    };
    let (status, extra) = match handler(&req, n) {
        Reply::Status(s) => (s, String::new()),
        Reply::Sleep(d) => {
            std::thread::sleep(d);
            (200, String::new())
        }
        Reply::Redirect(to) => (302, format!("Location: {to}\r\n")),
    };
    let body = if (200..300).contains(&status) {
        r#"{"partner_id":"partner-7f3a9c2e41b8","name":"Example Partner"}"#
    } else {
        r#"{"error":"no"}"#
    };
    let mut s = stream;
    let _ = write!(
        s,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = s.flush();
    let _ = s.shutdown(Shutdown::Both);
}

fn credsweep(cwd: &Path, args: &[&str]) -> Output {
    Command::cargo_bin("credsweep")
        .unwrap()
        .current_dir(cwd)
        .args(["dir", ".", "--no-config", "--color", "never"])
        .args(args)
        .output()
        .unwrap()
}

/// `credsweep dir . --format json --verify --verify-base-url URL --verify-timeout 1 ARGS...`.
fn verify_json(cwd: &Path, server: &str, args: &[&str]) -> (i32, Value, String) {
    let mut all = vec![
        "--format",
        "json",
        "--verify",
        "--verify-base-url",
        server,
        "--verify-timeout",
        "1",
    ];
    all.extend(args);
    let out = credsweep(cwd, &all);
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

/// The findings of `rule` in `doc`.
fn of_rule<'a>(doc: &'a Value, rule: &str) -> Vec<&'a Value> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == rule)
        .collect()
}

fn token_finding(doc: &Value) -> &Value {
    let t = of_rule(doc, "vobiz-auth-token");
    assert_eq!(t.len(), 1, "{doc:#}");
    t[0]
}

fn id_finding(doc: &Value) -> &Value {
    let t = of_rule(doc, "vobiz-partner-id");
    assert_eq!(t.len(), 1, "{doc:#}");
    t[0]
}

/// Checks the one pair in `doc` has `outcome` on both halves.
fn assert_outcome(doc: &Value, outcome: &str) {
    assert_eq!(token_finding(doc)["verification"], outcome, "{doc:#}");
    assert_eq!(id_finding(doc)["verification"], outcome, "{doc:#}");
}

fn assert_checked_once(server: &Server) {
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_request(&reqs[0], ID, TOKEN);
}

fn assert_request(r: &Request, id: &str, token: &str) {
    assert_eq!(r.method, "GET");
    assert_eq!(r.path, ENDPOINT);
    assert_eq!(r.header("x-auth-id"), Some(id));
    assert_eq!(r.header("x-auth-token"), Some(token));
    assert_eq!(r.header("accept"), Some("application/json"));
    assert!(r.header("host").unwrap().starts_with("127.0.0.1:"));
    for name in ["accept", "x-auth-id", "x-auth-token", "host"] {
        let n = r.headers.iter().filter(|(h, _)| h == name).count();
        assert_eq!(n, 1, "{name} sent {n} times");
    }
    assert!(r.header("user-agent").unwrap().starts_with("credsweep/"));
}

#[test]
fn active_pair_is_reported_in_json_text_and_sarif() {
    let server = Server::answering(Reply::Status(200));
    let dir = tree_with_pair();
    let (code, doc, stderr) = verify_json(dir.path(), &server.url(), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_checked_once(&server);
    assert_outcome(&doc, "active");
    let token = token_finding(&doc);
    let id = id_finding(&doc);
    assert_eq!(token["verification_detail"], "HTTP 200");
    // The pair links both ways, and the id is as severe as its token.
    assert_eq!(token["pair"]["rule_id"], "vobiz-partner-id");
    assert_eq!(token["pair"]["fingerprint"], id["fingerprint"]);
    assert_eq!(token["pair"]["line"], id["line"]);
    assert_eq!(id["pair"]["fingerprint"], token["fingerprint"]);
    assert_eq!(id["pair"]["path"], ".env");
    assert_eq!(id["severity"], "error");
    assert!(stderr.contains("1 active"), "{stderr}");

    // Text.
    let server = Server::answering(Reply::Status(200));
    let out = credsweep(
        dir.path(),
        &["--verify", "--verify-base-url", &server.url()],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text.contains("verified ACTIVE (HTTP 200): this credential works: rotate it now"),
        "{text}"
    );
    assert!(
        text.contains("paired with vobiz-partner-id at 2:15"),
        "{text}"
    );
    assert!(text.contains("1 credential pair verified active"), "{text}");
    assert_checked_once(&server);

    // SARIF: level error, a message that says to rotate, the outcome in properties, the other
    // half as a related location; and still a valid SARIF 2.1.0 log.
    let server = Server::answering(Reply::Status(200));
    let out = credsweep(
        dir.path(),
        &[
            "--format",
            "sarif",
            "--verify",
            "--verify-base-url",
            &server.url(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    check_schema(&log);
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for r in results {
        assert_eq!(r["level"], "error", "{r:#}");
        let msg = r["message"]["text"].as_str().unwrap();
        assert!(msg.contains("Rotate it now"), "{msg}");
        assert!(
            msg.contains("](1)"),
            "message links the related location: {msg}"
        );
        assert_eq!(r["properties"]["verification"], "active");
        let rel = r["relatedLocations"].as_array().unwrap();
        assert_eq!(rel.len(), 1);
        assert_eq!(rel[0]["id"], 1);
        assert_eq!(
            rel[0]["physicalLocation"]["artifactLocation"]["uri"],
            ".env"
        );
        let other_line = if r["ruleId"] == "vobiz-auth-token" {
            2
        } else {
            3
        };
        assert_eq!(
            rel[0]["physicalLocation"]["region"]["startLine"],
            other_line
        );
    }
    assert!(!String::from_utf8_lossy(&out.stdout).contains(TOKEN));
    assert_checked_once(&server);
}

fn check_schema(log: &Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schema/sarif-2.1.0.json");
    let schema: Value = serde_json::from_slice(&fs::read(path).unwrap()).unwrap();
    let v = jsonschema::options().build(&schema).unwrap();
    let errors: Vec<String> = v.iter_errors(log).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn rejected_pairs_are_inactive() {
    for status in [401, 403] {
        let server = Server::answering(Reply::Status(status));
        let dir = tree_with_pair();
        let (code, doc, _) = verify_json(dir.path(), &server.url(), &[]);
        assert_eq!(code, 1, "findings still fail the scan by default");
        assert_outcome(&doc, "inactive");
        assert_eq!(
            token_finding(&doc)["verification_detail"],
            format!("HTTP {status}")
        );
        assert_checked_once(&server);
    }
}

#[test]
fn rate_limits_and_server_errors_are_retried_once_then_unknown() {
    for status in [429, 500] {
        let server = Server::answering(Reply::Status(status));
        let dir = tree_with_pair();
        let (_, doc, _) = verify_json(dir.path(), &server.url(), &[]);
        assert_outcome(&doc, "unknown");
        let detail = token_finding(&doc)["verification_detail"].as_str().unwrap();
        assert!(detail.starts_with(&format!("HTTP {status}")), "{detail}");
        assert!(detail.contains("after one retry"), "{detail}");
        let reqs = server.requests();
        assert_eq!(reqs.len(), 2, "one try and exactly one retry: {reqs:?}");
        for r in &reqs {
            assert_request(r, ID, TOKEN);
        }
    }
}

#[test]
fn a_retry_that_succeeds_counts() {
    let server = Server::start(Box::new(|req, n| {
        assert!(well_formed(req));
        Reply::Status(if n == 0 { 503 } else { 200 })
    }));
    let dir = tree_with_pair();
    let (_, doc, _) = verify_json(dir.path(), &server.url(), &[]);
    assert_outcome(&doc, "active");
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn other_statuses_are_unknown_without_retry() {
    let server = Server::answering(Reply::Status(404));
    let dir = tree_with_pair();
    let (_, doc, _) = verify_json(dir.path(), &server.url(), &[]);
    assert_outcome(&doc, "unknown");
    assert_checked_once(&server);
}

#[test]
fn a_slow_server_times_out_as_unknown() {
    let server = Server::answering(Reply::Sleep(Duration::from_secs(4)));
    let dir = tree_with_pair();
    let started = Instant::now();
    let (_, doc, stderr) = verify_json(dir.path(), &server.url(), &[]);
    let took = started.elapsed();
    assert_outcome(&doc, "unknown");
    assert_eq!(
        token_finding(&doc)["verification_detail"],
        "timed out after 1 s"
    );
    assert!(
        took < Duration::from_secs(3),
        "{took:?}: the timeout is 1 s"
    );
    assert_checked_once(&server);
    assert!(!stderr.contains(TOKEN));
}

#[test]
fn a_redirect_to_another_host_is_not_followed() {
    let elsewhere = Server::answering(Reply::Status(200));
    let target = format!(
        "{}{ENDPOINT}",
        elsewhere.url().replace("127.0.0.1", "localhost")
    );
    let server = Server::answering(Reply::Redirect(target));
    let dir = tree_with_pair();
    let (_, doc, _) = verify_json(dir.path(), &server.url(), &[]);
    assert_outcome(&doc, "unknown");
    let detail = token_finding(&doc)["verification_detail"].as_str().unwrap();
    assert!(
        detail.contains("302") && detail.contains("not followed"),
        "{detail}"
    );
    assert_checked_once(&server);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        elsewhere.connections(),
        0,
        "the redirect target saw a connection"
    );
}

#[test]
fn dry_run_prints_the_requests_and_sends_nothing() {
    let server = Server::answering(Reply::Status(200));
    let dir = tree_with_pair();
    let out = credsweep(
        dir.path(),
        &[
            "--format",
            "json",
            "--verify",
            "--verify-dry-run",
            "--verify-base-url",
            &server.url(),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        stderr.contains(&format!("GET {}{ENDPOINT}", server.url())),
        "{stderr}"
    );
    // The id names the account (shown in full); the token is redacted.
    for h in [
        &format!("X-Auth-ID: {ID}\n"),
        "X-Auth-Token: sk_live_4e…FAKE\n",
        "Accept: application/json",
    ] {
        assert!(stderr.contains(h), "{h} in {stderr}");
    }
    assert!(!stderr.contains(TOKEN), "{stderr}");
    // Pairing still shows; no outcome is claimed.
    assert!(token_finding(&doc)["pair"].is_object());
    assert!(token_finding(&doc).get("verification").is_none());
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(server.connections(), 0, "the dry run connected");
}

#[test]
fn without_verify_no_connection_is_made() {
    let server = Server::answering(Reply::Status(200));
    let dir = tree_with_pair();
    for format in ["json", "text", "sarif"] {
        let out = credsweep(
            dir.path(),
            &["--format", format, "--verify-base-url", &server.url()],
        );
        assert_eq!(out.status.code(), Some(1));
        if format == "json" {
            let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
            // Pairing works with verification off.
            assert_eq!(token_finding(&doc)["pair"]["rule_id"], "vobiz-partner-id");
            assert_eq!(id_finding(&doc)["severity"], "error");
            assert!(token_finding(&doc).get("verification").is_none());
        }
    }
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(server.connections(), 0);
}

#[test]
fn an_unpaired_token_is_unverifiable_and_never_sent() {
    let server = Server::answering(Reply::Status(200));
    let dir = tempfile::tempdir().unwrap();
    // The token's file has no id; an id elsewhere must not be tried with it.
    write(
        dir.path(),
        "deploy/.env",
        format!("VOBIZ_AUTH_TOKEN={TOKEN}\n"),
    );
    write(dir.path(), "other/.env", format!("VOBIZ_AUTH_ID={ID}\n"));
    let (code, doc, stderr) = verify_json(dir.path(), &server.url(), &[]);
    assert_eq!(code, 1);
    let t = token_finding(&doc);
    assert_eq!(t["verification"], "unverifiable");
    assert!(t.get("pair").is_none());
    assert_eq!(id_finding(&doc)["verification"], "unverifiable");
    assert_eq!(id_finding(&doc)["severity"], "warning");
    assert!(
        stderr.contains("not tried: 1 token without an auth id"),
        "{stderr}"
    );
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(server.connections(), 0);
}

#[test]
fn the_same_pair_in_two_files_is_requested_once() {
    let server = Server::answering(Reply::Status(200));
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ".env", env_file(ID, TOKEN));
    write(dir.path(), "deploy/prod.env", env_file(ID, TOKEN));
    let (_, doc, _) = verify_json(dir.path(), &server.url(), &[]);
    let tokens = of_rule(&doc, "vobiz-auth-token");
    assert_eq!(tokens.len(), 2);
    assert!(tokens.iter().all(|t| t["verification"] == "active"));
    assert_checked_once(&server);
}

#[test]
fn distinct_pairs_each_get_their_own_answer_with_bounded_concurrency() {
    // (ID, TOKEN) works, (ID2, TOKEN2) is rejected, and six more pairs (all rejected) make the
    // concurrency limit show: the server holds each request 300 ms.
    let server = Server::start(Box::new(|req, _| {
        assert!(well_formed(req));
        std::thread::sleep(Duration::from_millis(300));
        if req.header("x-auth-id") == Some(ID) && req.header("x-auth-token") == Some(TOKEN) {
            Reply::Status(200)
        } else {
            Reply::Status(401)
        }
    }));
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a/.env", env_file(ID, TOKEN));
    write(dir.path(), "b/.env", env_file(ID2, TOKEN2));
    let extra = [
        ("partner-9e41c07b3d82", "sk_live_Vb7Kq2Lm9Xw4Rt6Yp1Zs3FAKEa"),
        ("partner-47d0be91c3a5", "sk_live_Hc8Nr3Pw5Ty7Ui9Ok2Lj4FAKEb"),
        ("partner-c83f5a06e1d9", "sk_live_Gd9Ms4Qx6Uz8Vi1Pl3Kh5FAKEc"),
        ("partner-1f6b92d7e04c", "sk_live_Fe1Lt5Ry7Va9Wj2Qm4Jg6FAKEd"),
        ("partner-b2e87c4190fa", "sk_live_Ef2Ku6Sz8Wb1Xk3Rn5Hf7FAKEe"),
        ("partner-5ad39e0f62c8", "sk_live_Dg3Jv7Ta9Xc2Yl4So6Ge8FAKEf"),
    ];
    for (i, (id, token)) in extra.iter().enumerate() {
        write(dir.path(), &format!("x{i}/.env"), env_file(id, token));
    }
    let (_, doc, _) = verify_json(dir.path(), &server.url(), &["-q"]);
    let by_path = |p: &str| {
        of_rule(&doc, "vobiz-auth-token")
            .into_iter()
            .find(|f| f["path"] == p)
            .unwrap()["verification"]
            .clone()
    };
    assert_eq!(by_path("a/.env"), "active");
    assert_eq!(by_path("b/.env"), "inactive");
    assert_eq!(server.requests().len(), 8);
    let max = server.max_in_flight.load(Ordering::SeqCst);
    assert!((2..=4).contains(&max), "{max} requests in flight at once");
}

#[test]
fn fail_on_active_fails_only_for_a_working_credential() {
    let dir = tree_with_pair();
    let inactive = Server::answering(Reply::Status(401));
    let (code, _, _) = verify_json(dir.path(), &inactive.url(), &["--fail-on", "active"]);
    assert_eq!(code, 0, "findings, but none verified active");
    let active = Server::answering(Reply::Status(200));
    let (code, _, _) = verify_json(dir.path(), &active.url(), &["--fail-on", "active"]);
    assert_eq!(code, 1);
    let (code, _, _) = verify_json(dir.path(), &active.url(), &["--fail-on", "any"]);
    assert_eq!(code, 1);
    // `--fail-on active` means nothing without --verify: refused as a usage error.
    let out = credsweep(dir.path(), &["--fail-on", "active"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(active.requests().len(), 2);
}

/// A port nothing listens on: bound, then closed.
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn connection_refused_is_unknown() {
    let dir = tree_with_pair();
    let url = format!("http://127.0.0.1:{}", closed_port());
    let (_, doc, _) = verify_json(dir.path(), &url, &[]);
    assert_outcome(&doc, "unknown");
    let detail = token_finding(&doc)["verification_detail"].as_str().unwrap();
    assert!(
        detail.contains("refused") || detail.contains("connection"),
        "{detail}"
    );
}

#[test]
fn the_token_never_reaches_stderr_or_the_report_unless_no_redact() {
    let dir = tree_with_pair();
    let ok = Server::answering(Reply::Status(200));
    let slow = Server::answering(Reply::Sleep(Duration::from_secs(3)));
    let refused = format!("http://127.0.0.1:{}", closed_port());
    let scenarios: Vec<(String, bool)> = vec![
        (ok.url(), false),
        (slow.url(), false),
        (refused.clone(), false),
        (ok.url(), true), // dry run
    ];
    for (url, dry) in &scenarios {
        for format in ["text", "json", "sarif"] {
            let mut args = vec![
                "--format",
                format,
                "--verify",
                "--verify-timeout",
                "1",
                "--verify-base-url",
                url,
            ];
            if *dry {
                args.push("--verify-dry-run");
            }
            let out = credsweep(dir.path(), &args);
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                !stdout.contains(TOKEN) && !stderr.contains(TOKEN),
                "{url} {format} dry={dry}:\n{stdout}\n{stderr}"
            );
            assert!(
                !stdout.contains("jtT1zdp7dc") && !stderr.contains("jtT1zdp7dc"),
                "no part of the token's body either"
            );
            if format != "sarif" {
                assert!(stdout.contains(TOKEN_SHOWN), "{stdout}");
            }
        }
    }
    // With --no-redact the user asked for it: the report and the dry run show it.
    let out = credsweep(
        dir.path(),
        &[
            "--format",
            "json",
            "--no-redact",
            "--verify",
            "--verify-base-url",
            &ok.url(),
        ],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(TOKEN));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(TOKEN));
    let out = credsweep(
        dir.path(),
        &[
            "--no-redact",
            "--verify-dry-run",
            "--verify-base-url",
            &ok.url(),
        ],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("X-Auth-Token: {TOKEN}")));
}

#[test]
fn bad_base_urls_are_refused_before_scanning() {
    let dir = tree_with_pair();
    for (url, why) in [
        ("http://api.vobiz.ai", "unencrypted"),
        ("ftp://127.0.0.1", "https://"),
        (
            "https://me:hunter2secret@api.vobiz.ai",
            "user name or password",
        ),
    ] {
        let out = credsweep(dir.path(), &["--verify", "--verify-base-url", url]);
        assert_eq!(out.status.code(), Some(2), "{url}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(why), "{url}: {stderr}");
        assert!(!stderr.contains("hunter2secret"), "{stderr}");
        assert!(out.stdout.is_empty());
    }
}

/// `credsweep git` on the repository at `d`, verifying against `server`; the JSON report.
fn verify_history(d: &Path, server: &Server) -> Value {
    let out = Command::cargo_bin("credsweep")
        .unwrap()
        .current_dir(d)
        .args(["git", ".", "--no-config", "--format", "json", "--verify"])
        .args(["--verify-timeout", "1", "--verify-base-url", &server.url()])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn history_pairs_within_a_blob_and_verifies_each_pair_once() {
    let server = Server::answering(Reply::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    write(d, ".env", env_file(ID, TOKEN));
    // The same blob at a second path, and a second account's id in a blob of its own: that id is
    // never tried with the first account's token.
    write(d, "deploy/.env", env_file(ID, TOKEN));
    write(d, "other/.env", format!("VOBIZ_AUTH_ID={ID2}\n"));
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "add env"]);
    let doc = verify_history(d, &server);
    let t = token_finding(&doc);
    assert_eq!(t["verification"], "active", "{doc:#}");
    let ids = of_rule(&doc, "vobiz-partner-id");
    assert_eq!(ids.len(), 2, "{doc:#}");
    let mine = ids.iter().find(|i| i["path"] != "other/.env").unwrap();
    assert_eq!(mine["blob"], t["blob"]);
    assert_eq!(t["pair"]["fingerprint"], mine["fingerprint"]);
    assert_eq!(mine["verification"], "active");
    let lone = ids.iter().find(|i| i["path"] == "other/.env").unwrap();
    assert_eq!(lone["verification"], "unverifiable");
    assert_checked_once(&server);
}

#[test]
fn history_pairs_an_id_committed_before_its_token() {
    // The id's first appearance is a blob without the token; the token's blob holds both, and
    // that is where they pair.
    let server = Server::answering(Reply::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    write(
        d,
        ".env",
        format!("# Vobiz partner API\nVOBIZ_AUTH_ID={ID}\n"),
    );
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "id first"]);
    write(d, ".env", env_file(ID, TOKEN));
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "then the token"]);
    let doc = verify_history(d, &server);
    let t = token_finding(&doc);
    assert_eq!(t["verification"], "active", "{doc:#}");
    assert_eq!(t["pair"]["path"], ".env", "{doc:#}");
    assert_eq!(t["pair"]["line"], 2, "{doc:#}");
    assert_checked_once(&server);
}

#[test]
fn history_a_token_paired_with_two_ids_in_two_commits_checks_each_pair_once() {
    // The same token committed with one account's id, then in another file with a second id.
    // Grouped by secret, the token is reported once (paired with the first id), while the second
    // id still names its own pair with the token: both pairs are checked, each once, and nothing
    // panics on a pair the token does not name.
    let server = Server::answering(Reply::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    write(d, "a/.env", env_file(ID, TOKEN));
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "first account"]);
    write(d, "b/.env", env_file(ID2, TOKEN));
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "second account, same token"]);
    let out = Command::cargo_bin("credsweep")
        .unwrap()
        .current_dir(d)
        .args(["git", ".", "--no-config", "--format", "json", "--verify"])
        .args(["--verify-timeout", "1", "--verify-base-url", &server.url()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("internal error"), "{stderr}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let t = token_finding(&doc);
    assert_eq!(t["path"], "a/.env", "{doc:#}");
    assert_eq!(t["verification"], "active", "{doc:#}");
    let ids = of_rule(&doc, "vobiz-partner-id");
    assert_eq!(ids.len(), 2, "{doc:#}");
    // The server accepts only (ID, TOKEN): each id gets its own pair's answer.
    for i in &ids {
        let want = if i["path"] == "a/.env" {
            "active"
        } else {
            "inactive"
        };
        assert_eq!(i["verification"], want, "{doc:#}");
        assert_eq!(i["pair"]["fingerprint"], t["fingerprint"], "{doc:#}");
    }
    let mut sent: Vec<(String, String)> = server
        .requests()
        .iter()
        .map(|r| {
            assert_request(r, r.header("x-auth-id").unwrap(), TOKEN);
            (
                r.header("x-auth-id").unwrap().to_string(),
                r.header("x-auth-token").unwrap().to_string(),
            )
        })
        .collect();
    sent.sort();
    let mut want = vec![
        (ID.to_string(), TOKEN.to_string()),
        (ID2.to_string(), TOKEN.to_string()),
    ];
    want.sort();
    assert_eq!(sent, want, "each pair once");
}
