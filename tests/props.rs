//! Property tests of the scanning engine: random bytes and random rule sets, fed to the library
//! the way sources feed it.
//!
//! - Nothing panics, whatever the bytes or the (valid) rules.
//! - Every match lies inside the input, its secret inside its span; after overlap resolution no
//!   two secrets share a byte.
//! - A directory scan finds the same findings with 1 worker thread as with several.
//! - The keyword prefilter lower-cases and searches the input in 64 KiB chunks: a keyword (in any
//!   case) that straddles a chunk edge is found all the same, and moving the chunk edges (by
//!   padding the input) moves the findings and changes nothing else.
//!
//! Every credential here is fake (note the `FAKE` marks).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use credsweep::allow::Allowlist;
use credsweep::finding::{Finding, Location};
use credsweep::rules::RuleSet;
use credsweep::scan::{ScanContext, Summary, scan_buffer};
use credsweep::scanner::{Match, PathFilter, Scanner, filters};
use credsweep::sources::tree::{self, TreeOptions};
use proptest::prelude::*;
use proptest::test_runner::Config as PropConfig;

/// The prefilter's chunk size (`scanner::prefilter::CHUNK`).
const CHUNK: usize = 64 * 1024;

fn builtin() -> &'static Scanner {
    static S: OnceLock<Scanner> = OnceLock::new();
    S.get_or_init(|| Scanner::new(RuleSet::builtin().unwrap()))
}

fn empty_allowlist() -> &'static Allowlist {
    static A: OnceLock<Allowlist> = OnceLock::new();
    A.get_or_init(|| Allowlist::new(Path::new("/")))
}

fn context(scanner: &Scanner) -> ScanContext<'_> {
    ScanContext {
        scanner,
        fingerprint_key: b"props".to_vec(),
        max_file_size: 1 << 30,
        window_size: credsweep::window::DEFAULT_WINDOW_SIZE,
        allowlist: empty_allowlist(),
        inline_allow: true,
        path_base: PathBuf::from("/"),
        max_decode_depth: credsweep::scan::DEFAULT_MAX_DECODE_DEPTH,
        rule_stats: false,
        archives: Default::default(),
        binary_strings: true,
        line_hashes: true,
    }
}

/// The invariants every scan result must keep, for any input.
fn check_matches(data: &[u8], matches: &[Match], resolved: bool) -> Result<(), TestCaseError> {
    for m in matches {
        prop_assert!(
            m.span.start <= m.span.end && m.span.end <= data.len(),
            "{m:?}"
        );
        prop_assert!(m.secret.start < m.secret.end, "empty secret {m:?}");
        prop_assert!(
            m.span.start <= m.secret.start && m.secret.end <= m.span.end,
            "secret outside its span: {m:?}"
        );
    }
    for w in matches.windows(2) {
        prop_assert!(
            (w[0].secret.start, w[0].secret.end) <= (w[1].secret.start, w[1].secret.end),
            "not sorted: {w:?}"
        );
        if resolved {
            prop_assert!(
                w[0].secret.end <= w[1].secret.start,
                "overlapping secrets: {w:?}"
            );
        }
    }
    Ok(())
}

/// Findings reduced to what a report shows, in report order.
fn summarize(findings: &[Finding]) -> Vec<(String, u32, u32, u32, u32, String, String)> {
    let mut v: Vec<_> = findings
        .iter()
        .map(|f| {
            (
                f.location.to_string(),
                f.line,
                f.column,
                f.end_line,
                f.end_column,
                f.rule_id.clone(),
                f.fingerprint.0.clone(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Bytes that are mostly the stuff credentials and their keywords are made of, so random inputs
/// reach the regexes and the filters, not only the prefilter.
fn credential_soup() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        3 => proptest::collection::vec(any::<u8>(), 0..24),
        2 => "[A-Za-z0-9_/+=-]{1,48}".prop_map(String::into_bytes),
        2 => prop_oneof![
            Just("sk_live_"), Just("SK_TEST_"), Just("ghp_"), Just("AKIA"), Just("xoxb-"),
            Just("VOBIZ_AUTH_TOKEN="), Just("partner-"), Just("password = \""), Just("token: "),
            Just("-----BEGIN RSA PRIVATE KEY-----\n"), Just("-----END RSA PRIVATE KEY-----"),
            Just("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0."), Just("https://user:"), Just("@host/"),
            Just("\n"), Just("\r\n"), Just("\""), Just(" "), Just("\u{feff}"), Just("é"),
            Just("credsweep:allow"), Just("FAKE"),
        ]
        .prop_map(|s| s.as_bytes().to_vec()),
        1 => Just(vec![0xFF, 0xFE]),
    ];
    proptest::collection::vec(piece, 0..64).prop_map(|v| v.concat())
}

/// A small random rule: a literal keyword and a regex built from safe pieces around it.
#[derive(Debug, Clone)]
struct RandomRule {
    keyword: String,
    separator: &'static str,
    class: &'static str,
    min: usize,
    extra: usize,
    keyword_in_regex: bool,
    with_keyword: bool,
    case_insensitive: bool,
    multiline: bool,
}

impl RandomRule {
    fn toml(&self, i: usize) -> String {
        let mut re = String::new();
        if self.case_insensitive {
            re.push_str("(?i)");
        }
        if self.keyword_in_regex {
            re.push_str(&regex_escape(&self.keyword));
            re.push_str(self.separator);
        }
        re.push_str(&format!(
            "(?P<secret>{}{{{},{}}})",
            self.class,
            self.min,
            self.min + self.extra
        ));
        // A rule needs keywords or a path filter: one without keywords gets a filter every path
        // the properties scan at matches, so its regex still runs on every buffer.
        let keywords = if self.with_keyword {
            format!("keywords = ['{}']\n", self.keyword)
        } else {
            "path = '''.'''\n".to_string()
        };
        format!(
            "[[rule]]\nid = 'r{i}'\ndescription = 'random rule {i}'\nseverity = 'warning'\n\
             regex = '''{re}'''\n{keywords}multiline = {}\n",
            self.multiline
        )
    }
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                vec![c]
            } else {
                vec!['\\', c]
            }
        })
        .collect()
}

fn random_rule() -> impl Strategy<Value = RandomRule> {
    (
        "[a-z][a-z_]{2,7}",
        prop_oneof![
            Just(""),
            Just("[ \\t]*[:=][ \\t]*"),
            Just("\\s*=\\s*"),
            Just("[^\\n]{0,8}"),
            Just("(?:\\s|[:=\"'])+"),
        ],
        prop_oneof![
            Just("[A-Za-z0-9]"),
            Just("[a-f0-9]"),
            Just("[^\\s\"']"),
            Just("\\w"),
            Just("."),
        ],
        1usize..12,
        0usize..40,
        any::<bool>(),
        prop::bool::weighted(0.85),
        any::<bool>(),
        prop::bool::weighted(0.15),
    )
        .prop_map(
            |(
                keyword,
                separator,
                class,
                min,
                extra,
                keyword_in_regex,
                with_keyword,
                case_insensitive,
                multiline,
            )| RandomRule {
                keyword,
                separator,
                class,
                min,
                extra,
                keyword_in_regex,
                with_keyword,
                case_insensitive,
                multiline,
            },
        )
}

/// Rules and an input that mentions their keywords (in random case) among random bytes.
fn rules_and_input() -> impl Strategy<Value = (Vec<RandomRule>, Vec<u8>)> {
    proptest::collection::vec(random_rule(), 1..6).prop_flat_map(|rules| {
        let keywords: Vec<String> = rules.iter().map(|r| r.keyword.clone()).collect();
        let piece = prop_oneof![
            3 => (proptest::sample::select(keywords), any::<u64>()).prop_map(|(k, bits)| {
                k.bytes()
                    .enumerate()
                    .map(|(i, b)| if bits >> (i % 64) & 1 == 1 { b.to_ascii_uppercase() } else { b })
                    .collect::<Vec<u8>>()
            }),
            2 => "[ \t]*[:=][ \t\"']*".prop_map(String::into_bytes),
            3 => "[A-Za-z0-9]{1,40}".prop_map(String::into_bytes),
            1 => proptest::collection::vec(any::<u8>(), 0..16),
            1 => Just(b"\n".to_vec()),
        ];
        (
            Just(rules),
            proptest::collection::vec(piece, 0..48).prop_map(|v| v.concat()),
        )
    })
}

fn build(rules: &[RandomRule]) -> Scanner {
    let text: String = rules.iter().enumerate().map(|(i, r)| r.toml(i)).collect();
    let mut set = RuleSet::default();
    set.add_toml("random.toml", &text)
        .unwrap_or_else(|e| panic!("generated rules must be valid: {e}\n{text}"));
    Scanner::new(set)
}

/// Scans a buffer the way sources do and checks the findings' positions.
fn scan_as_source(ctx: &ScanContext<'_>, data: &[u8]) -> Result<Vec<Finding>, TestCaseError> {
    let mut out = Vec::new();
    for filter in [PathFilter::Path("dir/app.env"), PathFilter::Unknown] {
        let mut summary = Summary::default();
        out.clear();
        scan_buffer(
            ctx,
            data,
            data.len() as u64,
            &Location::Path("dir/app.env".to_string()),
            filter,
            &mut summary,
            &mut out,
        );
        for f in &out {
            prop_assert!(f.line >= 1 && f.column >= 1, "{f:?}");
            prop_assert!((f.line, f.column) < (f.end_line, f.end_column), "{f:?}");
            prop_assert!(!f.secret.is_empty());
        }
    }
    Ok(out)
}

proptest! {
    #![proptest_config(PropConfig { cases: 1024, ..PropConfig::default() })]

    #[test]
    fn default_pack_on_random_bytes(data in credential_soup()) {
        let s = builtin();
        check_matches(&data, &s.scan(&data, PathFilter::Path("x/.env")), true)?;
        check_matches(&data, &s.scan(&data, PathFilter::Unknown), false)?;
        scan_as_source(&context(s), &data)?;
    }

    #[test]
    fn random_rules_on_random_input((rules, data) in rules_and_input()) {
        let s = build(&rules);
        let matches = s.scan(&data, PathFilter::Path("x"));
        check_matches(&data, &matches, true)?;
        scan_as_source(&context(&s), &data)?;
        // A rule whose keyword gate passed and whose regex matches the keyword itself must
        // report a match wherever its whole regex matches in the input on its own line.
        for (i, r) in rules.iter().enumerate() {
            if !(r.keyword_in_regex && r.with_keyword && r.case_insensitive) {
                continue;
            }
            let re = regex::bytes::RegexBuilder::new(&format!(
                "(?i){}{}(?P<secret>{}{{{},{}}})",
                regex_escape(&r.keyword), r.separator, r.class, r.min, r.min + r.extra
            )).unicode(false).build().unwrap();
            let secret_free = |m: &Match| {
                // Overlap resolution may hand these bytes to another rule.
                matches.iter().any(|o| o.secret.start < m.secret.end && m.secret.start < o.secret.end)
            };
            for line in data.split(|&b| b == b'\n') {
                if let Some(c) = re.captures(line)
                    && !r.separator.contains("\\s")
                    && !r.class.contains('.')
                {
                    let g = c.name("secret").unwrap();
                    // What the shared placeholder filter drops is not a finding.
                    let before = &line[g.start().saturating_sub(256)..g.start()];
                    let after = &line[g.end()..(g.end() + 8).min(line.len())];
                    if filters::is_placeholder(g.as_bytes(), before, after) {
                        continue;
                    }
                    let start = line.as_ptr() as usize - data.as_ptr() as usize + g.start();
                    let probe = Match { rule: credsweep::rules::RuleIdx(i as u32), span: start..start + g.len(), secret: start..start + g.len(), decoded: None };
                    prop_assert!(
                        secret_free(&probe),
                        "rule r{i} ({:?}) matches at {start} but nothing was reported there: {matches:?}",
                        r
                    );
                }
            }
        }
    }
}

proptest! {
    // Each case writes a small tree to disk and walks it twice.
    #![proptest_config(PropConfig { cases: 24, ..PropConfig::default() })]

    #[test]
    fn one_thread_or_many_same_findings(files in proptest::collection::vec(credential_soup(), 1..40)) {
        let dir = tempfile::TempDir::new().unwrap();
        for (i, data) in files.iter().enumerate() {
            let p = dir.path().join(format!("d{}/f{i}.env", i % 4));
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, data).unwrap();
            // Every few files a plain finding, so there is always something to compare.
            if i % 3 == 0 {
                let p = dir.path().join(format!("d{}/vobiz{i}.env", i % 3));
                fs::create_dir_all(p.parent().unwrap()).unwrap();
                fs::write(p, format!("export VOBIZ_AUTH_TOKEN=sk_live_4eC39HqLyjWDarjtT1zd{i:04}FAKE\n")).unwrap();
            }
        }
        let s = builtin();
        let ctx = context(s);
        let run = |threads: usize| {
            let opts = TreeOptions { respect_ignore: false, follow_links: false, threads };
            let (f, summary) = tree::scan_paths(&ctx, &[dir.path().to_path_buf()], &opts);
            (summarize(&f), summary.scanned, summary.bytes, summary.binary)
        };
        let one = run(1);
        prop_assert!(!one.0.is_empty());
        prop_assert_eq!(&one, &run(4));
        prop_assert_eq!(&one, &run(7));
    }
}

/// Rules whose keywords nest (`token` is inside `vobiz_auth_token`), so both the searched
/// (minimal) keyword and the longer one checked in place are exercised at chunk edges.
const EDGE_RULES: &str = r#"
[[rule]]
id = "edge-vobiz"
description = "edge test: long keyword"
severity = "error"
regex = '''(?i)vobiz_auth_token[ \t]*=[ \t]*(?P<secret>sk_live_[A-Za-z0-9]{20,64})'''
keywords = ["vobiz_auth_token"]
priority = 5
[[rule]]
id = "edge-token"
description = "edge test: short keyword"
severity = "warning"
regex = '''(?i)token:[ \t]*(?P<secret>[a-z0-9]{16,40})'''
keywords = ["token"]
"#;

fn edge_scanner() -> &'static Scanner {
    static S: OnceLock<Scanner> = OnceLock::new();
    S.get_or_init(|| {
        let mut set = RuleSet::default();
        set.add_toml("edge.toml", EDGE_RULES).unwrap();
        Scanner::new(set)
    })
}

/// `keyword` with the case of each letter taken from `bits`.
fn random_case(keyword: &str, bits: u64) -> String {
    keyword
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if bits >> (i % 64) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

/// A buffer of filler lines with `line` placed so that byte `at` of the buffer is its first byte.
fn place(at: usize, line: &str, total: usize) -> Vec<u8> {
    let mut data = vec![b'x'; total.max(at + line.len() + 1)];
    // Filler lines of 79 `x`s and a newline; the planted line gets newlines around it.
    for i in (79..data.len()).step_by(80) {
        data[i] = b'\n';
    }
    data[at - 1] = b'\n';
    data[at..at + line.len()].copy_from_slice(line.as_bytes());
    data[at + line.len()] = b'\n';
    data
}

proptest! {
    #![proptest_config(PropConfig { cases: 192, ..PropConfig::default() })]

    #[test]
    fn keywords_straddling_chunk_edges_are_found(
        edge in 1usize..4,
        before in 0usize..40,
        bits in any::<u64>(),
        long in any::<bool>(),
        tail in 0usize..2048,
    ) {
        let (line, rule, secret) = if long {
            let kw = random_case("VOBIZ_AUTH_TOKEN", bits);
            (format!("{kw}=sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE"), "edge-vobiz", "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE")
        } else {
            let kw = random_case("token", bits);
            (format!("{kw}: q8zr2mpv7xwkfake01"), "edge-token", "q8zr2mpv7xwkfake01")
        };
        // The keyword starts `before` bytes ahead of a chunk edge: inside it, across it, or
        // just past it.
        let at = (edge * CHUNK).saturating_sub(before).max(1);
        let data = place(at, &line, edge * CHUNK + tail);
        let s = edge_scanner();
        let matches = s.scan(&data, PathFilter::Path("f"));
        check_matches(&data, &matches, true)?;
        let found: Vec<(&str, &[u8])> = matches
            .iter()
            .map(|m| (s.rule(m.rule).id.as_str(), &data[m.secret.clone()]))
            .collect();
        prop_assert_eq!(found, vec![(rule, secret.as_bytes())], "line at {}", at);
    }

    #[test]
    fn moving_chunk_edges_moves_findings_and_nothing_else(
        plants in proptest::collection::vec((0usize..3 * CHUNK, any::<u64>(), any::<bool>()), 1..6),
        shift in 1usize..200,
    ) {
        let mut data = place(1, "start", 3 * CHUNK + 300);
        let mut taken: Vec<std::ops::Range<usize>> = Vec::new();
        for (at, bits, long) in &plants {
            let line = if *long {
                format!("{}=sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE", random_case("vobiz_auth_token", *bits))
            } else {
                format!("{}: q8zr2mpv7xwkfake01", random_case("token", *bits))
            };
            // On a line of its own, clear of the others.
            let at = (*at).max(8);
            let region = at - 1..at + line.len() + 1;
            if taken.iter().any(|t| t.start < region.end && region.start < t.end) {
                continue;
            }
            taken.push(region);
            data[at - 1] = b'\n';
            data[at..at + line.len()].copy_from_slice(line.as_bytes());
            data[at + line.len()] = b'\n';
        }
        let mut shifted = vec![b'\n'; shift];
        shifted.extend_from_slice(&data);
        let s = edge_scanner();
        let a: Vec<(u32, std::ops::Range<usize>)> = s
            .scan(&data, PathFilter::Path("f"))
            .into_iter()
            .map(|m| (m.rule.0, m.secret))
            .collect();
        let b: Vec<(u32, std::ops::Range<usize>)> = s
            .scan(&shifted, PathFilter::Path("f"))
            .into_iter()
            .map(|m| (m.rule.0, m.secret.start - shift..m.secret.end - shift))
            .collect();
        prop_assert!(!a.is_empty());
        prop_assert_eq!(a, b);
    }
}
