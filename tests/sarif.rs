//! SARIF output, end to end through the binary: every log the tests produce is validated against
//! the official SARIF 2.1.0 schema (`tests/schema/sarif-2.1.0.json`) and against what GitHub code
//! scanning requires beyond the schema (see [`check_sarif`]).
//!
//! Every credential here is fake: the tokens carry `FAKE` in plain sight.

use std::collections::HashSet;
use std::fs;
use std::path::Path;
use std::process::Output;
use std::sync::OnceLock;

use serde_json::Value;

mod common;
use common::{credsweep, git, git_at, write};

const TOKEN: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE";
const TOKEN2: &str = "sk_live_Q8vT2mXbN5pR7kLwZ3yH6dFAKE0c";
const PARTNER: &str = "partner-7f3a9c2e41b8";
const GITHUB_PAT: &str = "ghp_XSP1W50orOrvuYKSP6yeOSw4ozT2FAKEPFjG";
const TEST_TOKEN: &str = "sk_test_9Rk2FAKEmWq7Lp3ZtXv8NbY4cHd6";

/// The official schema, with its two invalid `pattern`s fixed (see tests/schema/README.md).
fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schema/sarif-2.1.0.json");
        let schema: Value = serde_json::from_slice(&fs::read(path).unwrap()).unwrap();
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the SARIF schema compiles")
    })
}

/// Checks `doc` against the schema and against what GitHub code scanning requires or what the
/// issue promises: one run, the automation id of `kind`, unique rule ids, `ruleIndex` pointing at
/// the rule named by `ruleId`, exactly one location per result with a repository-relative URI and
/// a full region, no snippet anywhere, both partial fingerprints, GitHub's limits.
fn check_sarif(doc: &Value, kind: &str) {
    let errors: Vec<String> = validator()
        .iter_errors(doc)
        .take(20)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF is not schema-valid:\n{}",
        errors.join("\n")
    );

    assert_eq!(doc["version"], "2.1.0");
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "one run");
    let run = &runs[0];
    assert_eq!(run["automationDetails"]["id"], format!("credsweep/{kind}/"));
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "credsweep");
    assert_eq!(driver["semanticVersion"], env!("CARGO_PKG_VERSION"));
    assert!(
        driver["informationUri"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );

    let rules = driver["rules"].as_array().unwrap();
    let mut ids = HashSet::new();
    for r in rules {
        let id = r["id"].as_str().unwrap();
        assert!(ids.insert(id), "duplicate rule {id}");
        assert!(r["name"].is_string(), "{id}: no name");
        for field in ["shortDescription", "fullDescription"] {
            assert!(r[field]["text"].is_string(), "{id}: no {field}");
        }
        assert!(r["help"]["text"].as_str().unwrap().contains("What to do"));
        assert!(
            r["help"]["markdown"]
                .as_str()
                .unwrap()
                .contains("What to do")
        );
        let level = r["defaultConfiguration"]["level"].as_str().unwrap();
        assert!(
            ["error", "warning", "note"].contains(&level),
            "{id}: {level}"
        );
        let tags: Vec<&str> = r["properties"]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert!(
            tags.contains(&"security") && tags.contains(&"secret"),
            "{id}: {tags:?}"
        );
        assert!(tags.len() <= 20, "GitHub allows 20 tags per rule");
        let sev: f64 = r["properties"]["security-severity"]
            .as_str()
            .expect("security-severity is a string")
            .parse()
            .unwrap();
        assert!((0.1..=10.0).contains(&sev));
        let precision = r["properties"]["precision"].as_str().unwrap();
        assert!(["high", "medium"].contains(&precision));
    }

    let results = run["results"].as_array().unwrap();
    assert!(
        results.len() <= 25_000,
        "GitHub accepts 25,000 results per run"
    );
    for res in results {
        let id = res["ruleId"].as_str().unwrap();
        let idx = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            rules[idx]["id"], id,
            "ruleIndex {idx} points at the wrong rule"
        );
        // A result has its rule's level, except half of a Vobiz id + live token pair (it links
        // the other half in relatedLocations), which is as severe as its token: `error`. A
        // test-mode pair keeps its levels (a token's `note` never lowers its id's).
        let test_pair = id == "vobiz-test-token"
            || res["relatedLocations"][0]["message"]["text"]
                .as_str()
                .is_some_and(|t| t.contains("vobiz-test-token"));
        if res.get("relatedLocations").is_some() && !test_pair {
            assert_eq!(res["level"], "error", "{res}");
        } else {
            assert_eq!(res["level"], rules[idx]["defaultConfiguration"]["level"]);
        }
        let locs = res["locations"].as_array().unwrap();
        assert_eq!(locs.len(), 1, "exactly one location");
        let pl = &locs[0]["physicalLocation"];
        let uri = pl["artifactLocation"]["uri"].as_str().unwrap();
        assert!(!uri.starts_with("./") && !uri.starts_with('/'), "{uri}");
        assert!(!uri.contains(' '), "{uri} is not percent-encoded");
        let region = &pl["region"];
        for f in ["startLine", "startColumn", "endLine", "endColumn"] {
            assert!(region[f].as_u64().unwrap() >= 1, "{f} in {region}");
        }
        assert!(region.get("snippet").is_none() && pl.get("contextRegion").is_none());
        let fp = &res["partialFingerprints"];
        let line_hash = fp["primaryLocationLineHash"].as_str().unwrap();
        let (hash, occurrence) = line_hash.split_once(':').unwrap();
        assert!(u64::from_str_radix(hash, 16).is_ok() && occurrence.parse::<u32>().unwrap() >= 1);
        assert_eq!(
            fp["credsweep/contentFingerprint/v1"]
                .as_str()
                .unwrap()
                .len(),
            32
        );
        assert!(
            res["message"]["text"]
                .as_str()
                .unwrap()
                .contains(" found in ")
        );
    }
    assert!(
        !doc.to_string().contains("\"snippet\""),
        "no snippet anywhere"
    );
}

/// Runs credsweep with `args` (and `stdin`), in `cwd`; returns the output.
fn run(cwd: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut c = credsweep();
    c.current_dir(cwd).args(args);
    if let Some(s) = stdin {
        c.write_stdin(s.to_string());
    }
    c.output().unwrap()
}

/// Runs a scan with `--format sarif`, checks the log (see [`check_sarif`]) and returns it with the
/// exit status and stderr.
fn sarif(cwd: &Path, kind: &str, args: &[&str], stdin: Option<&str>) -> (i32, Value, String) {
    let mut all = args.to_vec();
    all.extend(["--format", "sarif"]);
    let out = run(cwd, &all, stdin);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: stdout is not JSON; stderr: {stderr}"));
    check_sarif(&doc, kind);
    (out.status.code().unwrap(), doc, stderr)
}

fn results(doc: &Value) -> &Vec<Value> {
    doc["runs"][0]["results"].as_array().unwrap()
}

fn rules(doc: &Value) -> &Vec<Value> {
    doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
}

fn uri(result: &Value) -> &str {
    result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .unwrap()
}

fn content_fp(result: &Value) -> &str {
    result["partialFingerprints"]["credsweep/contentFingerprint/v1"]
        .as_str()
        .unwrap()
}

/// A project with many kinds of findings in many kinds of paths.
fn many_findings(p: &Path) {
    write(
        p,
        ".env",
        format!(
            "VOBIZ_AUTH_ID={PARTNER}\nVOBIZ_AUTH_TOKEN={TOKEN}\nVOBIZ_TEST_TOKEN={TEST_TOKEN}\n"
        ),
    );
    write(
        p,
        "deploy/values prod.yaml",
        format!("vobiz:\n  auth_id: \"{PARTNER}\"\n  auth_token: \"{TOKEN2}\"\n"),
    );
    write(
        p,
        "src/ünïcode/client.py",
        format!(
            "# café ☕ — ünïcode before the token\nheaders = {{\"X-Auth-Token\": \"{TOKEN}\"}}\n"
        ),
    );
    write(
        p,
        "ci/.github-token",
        format!("GITHUB_TOKEN={GITHUB_PAT}\n"),
    );
    write(
        p,
        "scripts/call.sh",
        format!(
            "curl -H \"X-Auth-ID: {PARTNER}\" \\\n  -H \"X-Auth-Token: {TOKEN2}\" https://api.vobiz.ai/api/v1/partner/me\n"
        ),
    );
}

#[test]
fn dir_scan_with_no_findings_is_valid_sarif() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "README.md", "Nothing to see here.\n");
    let (code, doc, _) = sarif(d.path(), "dir", &["dir", "."], None);
    assert_eq!(code, 0);
    assert!(results(&doc).is_empty());
    assert!(rules(&doc).is_empty(), "no rule fired, none listed");
    assert_eq!(
        doc["runs"][0]["invocations"][0]["executionSuccessful"],
        true
    );

    // --sarif-all-rules lists every rule in force, each once, with no result.
    let (code, doc, _) = sarif(d.path(), "dir", &["dir", ".", "--sarif-all-rules"], None);
    assert_eq!(code, 0);
    let listed = rules(&doc).len();
    let out = run(d.path(), &["rules", "list"], None);
    let in_force = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.ends_with(" rules"))
        .count();
    assert_eq!(listed, in_force);
    assert!(listed > 40, "{listed}");
}

#[test]
fn dir_scan_with_many_findings_is_valid_sarif_with_repository_relative_uris() {
    let d = tempfile::tempdir().unwrap();
    let repo = d.path();
    git(repo, &["init", "-q"]);
    let project = repo.join("services/api");
    many_findings(&project);

    // Scanned from a subdirectory of the repository: URIs are still relative to its root.
    let (code, doc, _) = sarif(&project, "dir", &["dir", "."], None);
    assert_eq!(code, 1);
    let res = results(&doc);
    assert!(res.len() >= 8, "{}", res.len());
    let uris: HashSet<&str> = res.iter().map(uri).collect();
    for expected in [
        "services/api/.env",
        "services/api/deploy/values%20prod.yaml",
        "services/api/src/%C3%BCn%C3%AFcode/client.py",
        "services/api/ci/.github-token",
        "services/api/scripts/call.sh",
    ] {
        assert!(uris.contains(expected), "{expected} not in {uris:?}");
    }
    for r in res {
        assert_eq!(
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"],
            "%SRCROOT%"
        );
    }

    // The region is the secret's: line 2 of the Python file, after the quote; columns count
    // characters, and the run says so.
    assert_eq!(doc["runs"][0]["columnKind"], "unicodeCodePoints");
    let py = res.iter().find(|r| uri(r).ends_with("client.py")).unwrap();
    let region = &py["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 2);
    let col = "headers = {\"X-Auth-Token\": \"".chars().count() as u64 + 1;
    assert_eq!(region["startColumn"], col);
    assert_eq!(region["endColumn"], col + TOKEN.len() as u64);
    let msg = py["message"]["text"].as_str().unwrap();
    let first_sentence = msg.split(". ").next().unwrap();
    assert!(
        first_sentence.contains("Vobiz API auth token")
            && first_sentence.contains("client.py at line 2, column"),
        "{msg}"
    );

    // Severity, rules and help.
    let by_id = |id: &str| rules(&doc).iter().find(|r| r["id"] == id).cloned().unwrap();
    let vobiz = by_id("vobiz-auth-token");
    assert_eq!(vobiz["name"], "VobizAuthToken");
    assert_eq!(vobiz["defaultConfiguration"]["level"], "error");
    assert_eq!(vobiz["properties"]["precision"], "high");
    let tags = vobiz["properties"]["tags"].as_array().unwrap();
    assert_eq!(tags, &["security", "secret", "vobiz"]);
    let help = vobiz["help"]["text"].as_str().unwrap();
    let (console, history, env) = (
        help.find("Partner Console").unwrap(),
        help.find("history").unwrap(),
        help.find("environment variable").unwrap(),
    );
    assert!(console < history && history < env, "{help}");
    assert!(
        vobiz["help"]["markdown"]
            .as_str()
            .unwrap()
            .contains("**What to do:**")
    );
    assert_eq!(
        by_id("vobiz-test-token")["defaultConfiguration"]["level"],
        "note"
    );
    assert_eq!(
        by_id("vobiz-partner-id")["defaultConfiguration"]["level"],
        "warning"
    );
    let sev = |id: &str| by_id(id)["properties"]["security-severity"].clone();
    assert_eq!(sev("vobiz-auth-token"), "9.1");
    assert_eq!(sev("vobiz-partner-id"), "6.5");
    assert_eq!(sev("vobiz-test-token"), "3.0");

    // Only the rules that fired are listed.
    let fired: HashSet<&str> = res.iter().map(|r| r["ruleId"].as_str().unwrap()).collect();
    let listed: HashSet<&str> = rules(&doc)
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(fired, listed);
}

#[test]
fn rule_index_points_at_the_rule_with_all_rules_too() {
    let d = tempfile::tempdir().unwrap();
    many_findings(d.path());
    let (_, some, _) = sarif(d.path(), "dir", &["dir", "."], None);
    let (_, all, _) = sarif(d.path(), "dir", &["dir", ".", "--sarif-all-rules"], None);
    assert!(rules(&all).len() > rules(&some).len());
    // The same findings, the same rule ids, different indices: each still names its rule.
    assert_eq!(results(&some).len(), results(&all).len());
    let mut moved = 0;
    for (a, b) in results(&some).iter().zip(results(&all)) {
        assert_eq!(a["ruleId"], b["ruleId"]);
        for (doc, r) in [(&some, a), (&all, b)] {
            let i = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules(doc)[i]["id"], r["ruleId"]);
        }
        if a["ruleIndex"] != b["ruleIndex"] {
            moved += 1;
        }
    }
    assert!(moved > 0, "the test should exercise different indices");
}

#[test]
fn stdin_scans_are_valid_sarif_with_and_without_findings() {
    let d = tempfile::tempdir().unwrap();
    let (code, doc, _) = sarif(d.path(), "stdin", &["stdin"], Some("nothing here\n"));
    assert_eq!(code, 0);
    assert!(results(&doc).is_empty());

    let input = format!(
        "export VOBIZ_AUTH_ID={PARTNER}\nexport VOBIZ_AUTH_TOKEN={TOKEN}\nGITHUB_TOKEN={GITHUB_PAT}\n"
    );
    let (code, doc, _) = sarif(d.path(), "stdin", &["stdin"], Some(&input));
    assert_eq!(code, 1);
    let res = results(&doc);
    assert_eq!(res.len(), 3);
    for r in res {
        assert_eq!(uri(r), "%3Cstdin%3E");
        assert!(
            r["message"]["text"]
                .as_str()
                .unwrap()
                .contains("found in standard input at line")
        );
    }

    // `dir -` reads standard input too, reported the same way but under the dir category.
    let (_, doc, _) = sarif(d.path(), "dir", &["dir", "-"], Some(&input));
    assert_eq!(results(&doc).len(), 3);
    assert_eq!(uri(&results(&doc)[0]), "%3Cstdin%3E");
}

#[test]
fn output_file_holds_the_same_log() {
    let d = tempfile::tempdir().unwrap();
    many_findings(d.path());
    let out_file = d.path().join("out/credsweep.sarif");
    fs::create_dir_all(out_file.parent().unwrap()).unwrap();
    let out = run(
        d.path(),
        &[
            "dir",
            ".",
            "--format",
            "sarif",
            "-o",
            out_file.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let doc: Value = serde_json::from_slice(&fs::read(&out_file).unwrap()).unwrap();
    check_sarif(&doc, "dir");
    assert!(!results(&doc).is_empty());
}

#[test]
fn the_secret_is_never_in_sarif_or_json_unless_no_redact() {
    let d = tempfile::tempdir().unwrap();
    many_findings(d.path());
    // The partner id is an identifier, not a secret: reports show it in full (checked below).
    let secrets = [TOKEN, TOKEN2, GITHUB_PAT, TEST_TOKEN];
    // The parts before the last four characters: no result may carry them in any field.
    let tails: Vec<&str> = secrets.iter().map(|s| &s[s.len() - 12..]).collect();
    let leaks = |body: &str| -> Vec<String> {
        secrets
            .iter()
            .chain(tails.iter())
            .filter(|s| body.contains(*s))
            .map(|s| s.to_string())
            .collect()
    };

    for extra in [&[][..], &["--no-redact"][..]] {
        let mut args = vec!["dir", "."];
        args.extend(extra);
        let (_, doc, stderr) = sarif(d.path(), "dir", &args, None);
        assert!(results(&doc).len() >= 8);
        let body = doc.to_string();
        assert_eq!(leaks(&body), Vec::<String>::new(), "SARIF with {extra:?}");
        assert_eq!(
            stderr.contains("--no-redact does not apply to SARIF"),
            !extra.is_empty(),
            "{stderr}"
        );
        // The message shows the redacted prefix instead, and the id that says which account.
        assert!(body.contains("sk_live_"), "the redacted prefix is shown");
        assert!(body.contains(PARTNER), "the partner id is shown in full");

        let stdin = format!("VOBIZ_AUTH_TOKEN={TOKEN}\n");
        let (_, doc, _) = sarif(
            d.path(),
            "stdin",
            &[&["stdin"][..], extra].concat(),
            Some(&stdin),
        );
        assert_eq!(leaks(&doc.to_string()), Vec::<String>::new());
    }

    // JSON: redacted by default, in full only with --no-redact.
    let json = run(d.path(), &["dir", ".", "--format", "json"], None);
    let body = String::from_utf8(json.stdout).unwrap();
    assert!(body.contains("\"findings\""));
    assert_eq!(
        leaks(&body),
        Vec::<String>::new(),
        "JSON without --no-redact"
    );
    let json = run(
        d.path(),
        &["dir", ".", "--format", "json", "--no-redact"],
        None,
    );
    let body = String::from_utf8(json.stdout).unwrap();
    for s in [TOKEN, TOKEN2, PARTNER, GITHUB_PAT] {
        assert!(body.contains(s), "--no-redact shows {s} in JSON");
    }
}

#[test]
fn content_fingerprint_follows_the_secret_not_the_line_or_file() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    write(p, "a/.env", format!("VOBIZ_AUTH_TOKEN={TOKEN}\n"));
    write(
        p,
        "b/config.sh",
        format!("# moved\n\n\n\nexport FOO=1\n  VOBIZ_AUTH_TOKEN=\"{TOKEN}\"\n"),
    );
    write(p, "c/.env", format!("VOBIZ_AUTH_TOKEN={TOKEN2}\n"));
    let (_, doc, _) = sarif(p, "dir", &["dir", "."], None);
    let res = results(&doc);
    let fp = |u: &str| {
        let r = res
            .iter()
            .find(|r| uri(r) == u)
            .unwrap_or_else(|| panic!("{u}"));
        (
            content_fp(r).to_string(),
            r["locations"][0]["physicalLocation"]["region"]["startLine"].clone(),
            r["partialFingerprints"]["primaryLocationLineHash"].clone(),
        )
    };
    let (a, a_line, a_hash) = fp("a/.env");
    let (b, b_line, b_hash) = fp("b/config.sh");
    let (c, _, _) = fp("c/.env");
    assert_ne!(a_line, b_line, "the secret moved to another line");
    assert_eq!(
        a, b,
        "same secret, same content fingerprint, whatever the file and line"
    );
    assert_ne!(a, c, "another secret, another fingerprint");
    assert_ne!(a_hash, b_hash, "the line hash follows the line's text");

    // The same in another scan kind: stdin gives the fingerprint the tree scan gave.
    let (_, doc, _) = sarif(
        p,
        "stdin",
        &["stdin"],
        Some(&format!("\n\nX-Auth-Token: {TOKEN}\n")),
    );
    assert_eq!(content_fp(&results(&doc)[0]), a);
}

#[test]
fn a_finding_in_a_binary_has_its_byte_range_in_a_valid_region() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let mut db = b"SQLite format 3\0".to_vec();
    db.resize(700, 0);
    db.extend(b"\x01\x17VOBIZ_AUTH_TOKEN=");
    let at = db.len();
    db.extend(TOKEN.as_bytes());
    db.resize(2048, 0);
    write(p, "data/app.db", &db);
    write(p, "a/.env", format!("VOBIZ_AUTH_TOKEN={TOKEN}\n"));
    let (code, doc, _) = sarif(p, "dir", &["dir", "."], None);
    assert_eq!(code, 1);
    let res = results(&doc);
    let r = res.iter().find(|r| uri(r) == "data/app.db").unwrap();
    let region = &r["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["byteOffset"], at, "{region}");
    assert_eq!(region["byteLength"], TOKEN.len(), "{region}");
    assert_eq!(region["startLine"], 1, "{region}");
    assert_eq!(region["startColumn"], at + 1, "{region}");
    let message = r["message"]["text"].as_str().unwrap();
    assert!(
        message.contains(&format!("data/app.db at byte offset {at}.")),
        "{message}"
    );
    let text = res.iter().find(|r| uri(r) == "a/.env").unwrap();
    assert_eq!(
        content_fp(r),
        content_fp(text),
        "the fingerprint of the same secret in text"
    );
    assert!(
        text["locations"][0]["physicalLocation"]["region"]
            .get("byteOffset")
            .is_none()
    );
}

#[test]
fn identical_lines_get_numbered_line_hashes() {
    let d = tempfile::tempdir().unwrap();
    let line = format!("VOBIZ_AUTH_TOKEN={TOKEN}\n");
    // Far enough apart that the following text (the hash looks 100 characters ahead) is the same.
    let filler = "# ---------------------------------------------------------------------------\n";
    let body = format!("{line}{filler}{filler}{line}{filler}{filler}");
    write(d.path(), ".env", &body);
    let (_, doc, _) = sarif(d.path(), "dir", &["dir", "."], None);
    let hashes: Vec<&str> = results(&doc)
        .iter()
        .map(|r| {
            r["partialFingerprints"]["primaryLocationLineHash"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(hashes.len(), 2);
    let (h1, n1) = hashes[0].split_once(':').unwrap();
    let (h2, n2) = hashes[1].split_once(':').unwrap();
    assert_eq!(h1, h2);
    assert_eq!((n1, n2), ("1", "2"));
}

#[test]
fn results_past_githubs_limit_keep_the_most_severe_and_say_so() {
    const NOTES: usize = 24_990;
    const ERRORS: usize = 25;
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    write(
        p,
        "fake-rules.toml",
        r#"
[[rule]]
id = "fake-note-token"
description = "Fake low-severity token (test rule)"
severity = "note"
regex = '''\b(?P<secret>fknote_[0-9a-f]{12})\b'''
keywords = ["fknote_"]

[[rule]]
id = "fake-error-token"
description = "Fake high-severity token (test rule)"
severity = "error"
regex = '''\b(?P<secret>fkerr_[0-9a-f]{12})\b'''
keywords = ["fkerr_"]
"#,
    );
    // Random-looking values (xorshift), so no placeholder filter takes them for `000000...`.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x & 0xFFFF_FFFF_FFFF
    };
    // The errors come last, so keeping the first 25,000 would lose them all.
    let mut data = String::new();
    for i in 0..NOTES {
        data += &format!("n{i} = fknote_{:012x}\n", next());
    }
    for i in 0..ERRORS {
        data += &format!("e{i} = fkerr_{:012x}\n", next());
    }
    write(p, "src/many.txt", &data);

    let (code, doc, stderr) = sarif(
        p,
        "dir",
        &[
            "dir",
            "src",
            "--no-default-rules",
            "--rules",
            "fake-rules.toml",
        ],
        None,
    );
    assert_eq!(code, 1);
    let res = results(&doc);
    assert_eq!(res.len(), 25_000);
    let errors = res.iter().filter(|r| r["level"] == "error").count();
    assert_eq!(errors, ERRORS, "every error is kept");
    // Still in report order: by line.
    let lines: Vec<u64> = res
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert!(lines.windows(2).all(|w| w[0] < w[1]));

    // Rules without a remediation of their own get the generic advice.
    let help = rules(&doc)[0]["help"]["text"].as_str().unwrap();
    assert!(
        help.contains("Revoke or rotate") && help.contains("secrets manager"),
        "{help}"
    );

    let props = &doc["runs"][0]["properties"];
    let omitted = NOTES + ERRORS - 25_000;
    assert_eq!(props["resultsTruncated"], true);
    assert_eq!(props["resultsOmitted"], omitted);
    assert_eq!(props["resultsOmittedBySeverity"]["note"], omitted);
    assert_eq!(props["findings"], NOTES + ERRORS);
    assert!(props["truncationNote"].as_str().unwrap().contains("25000"));
    assert!(
        stderr.contains("warning: SARIF:") && stderr.contains(&format!("{omitted} are left out")),
        "{stderr}"
    );

    // JSON is not capped.
    let out = run(
        p,
        &[
            "dir",
            "src",
            "--no-default-rules",
            "--rules",
            "fake-rules.toml",
            "--format",
            "json",
        ],
        None,
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["findings"].as_array().unwrap().len(), NOTES + ERRORS);
}

/// The packaged schema's `language` pattern (`^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$`) has a lone
/// `]`, which ECMAScript regexes in Unicode mode reject, and accepts any string that starts with
/// two letters. The copy in tests/schema/ fixes both; this keeps it fixed.
#[test]
fn schema_copy_has_sound_patterns() {
    fn patterns<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    match (k.as_str(), v) {
                        ("pattern", Value::String(p)) => out.push(p),
                        _ => patterns(v, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|v| patterns(v, out)),
            _ => {}
        }
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schema/sarif-2.1.0.json");
    let schema: Value = serde_json::from_slice(&fs::read(path).unwrap()).unwrap();
    let mut all = Vec::new();
    patterns(&schema, &mut all);
    assert!(all.len() > 10);
    for p in all {
        // No `]` outside a character class (escapes aside).
        let (mut in_class, mut escaped) = (false, false);
        for c in p.chars() {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '[') => in_class = true,
                (false, ']') if in_class => in_class = false,
                (false, ']') => panic!("lone `]` in pattern {p}"),
                _ => {}
            }
        }
    }
    let log = |language: &str| {
        serde_json::json!({
            "version": "2.1.0",
            "runs": [{"tool": {"driver": {"name": "x"}}, "language": language, "results": []}]
        })
    };
    assert!(validator().is_valid(&log("en")));
    assert!(validator().is_valid(&log("en-US")));
    assert!(!validator().is_valid(&log("english")));
}

/// The workflow in the README is the one docs/github-actions.md explains: the action, on a full
/// clone. What the issue asks (full history, a range on pull requests, a full scan on push, an
/// upload with a category) is in the action and in the docs' long form, which passes the base
/// branch through the environment, never as a template expansion inside a script.
#[test]
fn readme_and_docs_show_the_same_workflow() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workflows = |file: &str| -> Vec<String> {
        let text = fs::read_to_string(root.join(file)).unwrap();
        let mut found = Vec::new();
        let mut rest = text.as_str();
        while let Some(start) = rest.find("```yaml\n# .github/workflows/credsweep.yml") {
            let len = rest[start + 7..].find("```").unwrap();
            found.push(rest[start..start + 7 + len].to_string());
            rest = &rest[start + 7 + len..];
        }
        assert!(!found.is_empty(), "no workflow in {file}");
        found
    };
    let docs = workflows("docs/github-actions.md");
    let readme = workflows("README.md");
    assert_eq!(readme[0], docs[0]);
    for needle in [
        "fetch-depth: 0",
        "persist-credentials: false",
        "security-events: write",
        "uses: your-org/credsweep@",
    ] {
        assert!(docs[0].contains(needle), "workflow lacks {needle}");
    }
    let long = docs
        .get(1)
        .expect("docs show the workflow without the action");
    let action = fs::read_to_string(root.join("action.yml")).unwrap();
    for (what, text, needles) in [
        (
            "the long form",
            long,
            &[
                "fetch-depth: 0",
                "credsweep git --range \"origin/$GITHUB_BASE_REF..HEAD\" --format sarif -o credsweep.sarif",
                "credsweep git . --format sarif -o credsweep.sarif",
                "github/codeql-action/upload-sarif@",
                "sarif_file: credsweep.sarif",
                "category: credsweep/git",
            ][..],
        ),
        (
            "action.yml",
            &action,
            &[
                "scan=(git . --range \"origin/$GITHUB_BASE_REF..HEAD\")",
                "scan=(git .)",
                "github/codeql-action/upload-sarif@",
                "category: credsweep/${{ inputs.mode }}",
            ][..],
        ),
    ] {
        for needle in needles {
            assert!(text.contains(needle), "{what} lacks {needle}");
        }
        assert!(
            !text.contains("${{ github.base_ref }}"),
            "{what}: template injection"
        );
    }
}

/// A repository with a fixed identity and dates, for the history and staged scans.
fn repo() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    git(d.path(), &["init", "-q", "-b", "main", "."]);
    d
}

fn commit(dir: &Path, msg: &str, date: &str) {
    git(dir, &["add", "-A"]);
    git_at(dir, &["commit", "-q", "--allow-empty", "-m", msg], date);
}

fn rev(dir: &Path, r: &str) -> String {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", r])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn history_scans_are_valid_sarif_with_provenance() {
    let r = repo();
    let p = r.path();
    write(p, "README.md", "A project.\n");
    commit(p, "initial", "2024-01-02T03:04:05Z");

    // Nothing in history yet.
    let (code, doc, _) = sarif(p, "git", &["git", "."], None);
    assert_eq!(code, 0);
    assert!(results(&doc).is_empty());

    // A token committed, then deleted: still in history.
    many_findings(&p.join("app"));
    commit(p, "add the app", "2024-02-03T04:05:06Z");
    let added = rev(p, "HEAD");
    fs::remove_dir_all(p.join("app")).unwrap();
    commit(p, "remove the app", "2024-03-04T05:06:07Z");

    // No author identity unless asked for.
    let (code, doc, _) = sarif(p, "git", &["git", "."], None);
    assert_eq!(code, 1);
    assert!(!doc.to_string().contains("Ann Example"), "{doc}");
    assert!(!doc.to_string().contains("ann@example"), "{doc}");
    let (code, doc, _) = sarif(p, "git", &["git", ".", "--sarif-authors"], None);
    assert_eq!(code, 1);
    let res = results(&doc);
    assert!(res.len() >= 5, "{}", res.len());
    let env = res
        .iter()
        .find(|r| uri(r) == "app/.env" && r["ruleId"] == "vobiz-auth-token")
        .expect("the deleted .env is found in history");
    let props = &env["properties"];
    assert_eq!(props["commit"], added.as_str());
    assert_eq!(props["author"], "Ann Example");
    assert!(
        props["date"]
            .as_str()
            .unwrap()
            .starts_with("2024-02-03T04:05:06")
    );
    assert_eq!(props["blob"].as_str().unwrap().len(), 40);
    let msg = env["message"]["text"].as_str().unwrap();
    let first = msg.split(". ").next().unwrap();
    for part in [
        "found in app/.env at line 2",
        &format!("added in commit {}", &added[..12]),
        "by Ann Example",
        "on 2024-02-03T04:05:06",
    ] {
        assert!(
            first.contains(part),
            "{part:?} not in the first sentence of {msg:?}"
        );
    }
    let spaced = res
        .iter()
        .find(|r| uri(r) == "app/deploy/values%20prod.yaml");
    assert!(spaced.is_some(), "paths with spaces are percent-encoded");

    // The pull-request gate: only what the range adds. The range that only removes adds nothing.
    let (code, doc, _) = sarif(p, "git", &["git", "--range", "HEAD~1..HEAD"], None);
    assert_eq!(code, 0);
    assert!(results(&doc).is_empty());
    let (_, doc, _) = sarif(p, "git", &["git", "--range", "HEAD~2..HEAD"], None);
    assert!(results(&doc).len() >= 5);

    // The line hash is computed from the blob (the file is gone from the work tree).
    for r in results(&doc) {
        assert!(r["partialFingerprints"]["primaryLocationLineHash"].is_string());
    }
}

#[test]
fn staged_scans_are_valid_sarif() {
    let r = repo();
    let p = r.path();
    write(p, "README.md", "A project.\n");
    commit(p, "initial", "2024-01-02T03:04:05Z");

    // Nothing staged.
    let (code, doc, _) = sarif(p, "staged", &["staged"], None);
    assert_eq!(code, 0);
    assert!(results(&doc).is_empty());

    // A token staged, then removed from the work tree without staging: the index still has it.
    write(
        p,
        "config/prod settings.env",
        format!("VOBIZ_AUTH_ID={PARTNER}\nVOBIZ_AUTH_TOKEN={TOKEN}\n"),
    );
    git(p, &["add", "-A"]);
    write(
        p,
        "config/prod settings.env",
        "VOBIZ_AUTH_TOKEN=${VOBIZ_AUTH_TOKEN}\n",
    );
    let (code, doc, _) = sarif(p, "staged", &["staged"], None);
    assert_eq!(code, 1);
    let res = results(&doc);
    assert_eq!(res.len(), 2);
    for r in res {
        assert_eq!(uri(r), "config/prod%20settings.env");
        let msg = r["message"]["text"].as_str().unwrap();
        assert!(
            msg.contains("found in the staged version of config/prod settings.env"),
            "{msg}"
        );
        assert!(r.get("properties").is_none() || r["properties"].get("commit").is_none());
    }
    assert!(!doc.to_string().contains(&TOKEN[12..]));
}

#[test]
fn each_scan_kind_has_its_own_category() {
    let r = repo();
    let p = r.path();
    write(p, ".env", format!("VOBIZ_AUTH_TOKEN={TOKEN}\n"));
    commit(p, "leak", "2024-01-02T03:04:05Z");
    let mut ids = HashSet::new();
    for (kind, args, stdin) in [
        ("dir", &["dir", "."][..], None),
        (
            "stdin",
            &["stdin"][..],
            Some("VOBIZ_AUTH_TOKEN=sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE\n"),
        ),
        ("git", &["git", "."][..], None),
        ("staged", &["staged"][..], None),
    ] {
        let (_, doc, _) = sarif(p, kind, args, stdin);
        ids.insert(
            doc["runs"][0]["automationDetails"]["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(ids.len(), 4, "{ids:?}");
}

#[test]
fn a_commit_message_finding_is_a_logical_location_with_no_artifact() {
    let r = repo();
    let p = r.path();
    write(p, "README.md", "A project.\n");
    commit(p, &format!("key {TOKEN}"), "2024-02-03T04:05:06Z");
    let id = rev(p, "HEAD");
    let out = run(p, &["git", ".", "--format", "sarif"], None);
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors: Vec<String> = validator()
        .iter_errors(&doc)
        .take(20)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "not schema-valid:\n{}",
        errors.join("\n")
    );
    let res = results(&doc);
    assert_eq!(res.len(), 1, "{doc}");
    let loc = &res[0]["locations"][0];
    assert!(loc.get("physicalLocation").is_none(), "{loc}");
    let logical = &loc["logicalLocations"][0];
    assert_eq!(logical["name"], id.as_str());
    assert_eq!(logical["kind"], "object");
    assert_eq!(res[0]["properties"]["location"], "commit-message");
    assert_eq!(res[0]["properties"]["commit"], id.as_str());
    assert!(!serde_json::to_string(&doc).unwrap().contains(TOKEN));
}
