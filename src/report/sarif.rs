//! The SARIF 2.1.0 report, for GitHub code scanning and other SARIF consumers.
//!
//! One log, one run, built with `serde-sarif` (which does not validate what it builds: the test
//! suite checks every log it produces against the official schema, `tests/schema/`).
//!
//! What goes in, and why:
//!
//! - `tool.driver`: name, version, information URI, and one `rules[]` entry per rule that fired
//!   (every rule in force with `--sarif-all-rules`), with help text that says what leaked and what
//!   to do, a `defaultConfiguration.level` from the rule's severity, and the properties GitHub
//!   reads: `tags`, `security-severity` and `precision`.
//! - `results[]`: one per finding, with exactly one location whose `artifactLocation.uri` is
//!   relative to the repository root and whose region spans the secret. No snippet: a snippet of
//!   the region would be the secret itself.
//! - `partialFingerprints`: `primaryLocationLineHash` (GitHub's own line hash, computed here the
//!   way `github/codeql-action` computes it, see [`crate::finding::line_hash::line_hashes`]) and credsweep's content
//!   fingerprint under `CONTENT_FINGERPRINT_KEY` (a keyed hash of rule and secret: the same
//!   wherever the secret moves).
//! - `automationDetails.id` is `credsweep/<scan kind>/`, so tree, staged and history runs are
//!   separate categories and an upload of one never closes the alerts of another.
//! - GitHub's limits: at most `MAX_RESULTS` results per run. Past it the most severe findings
//!   are kept, the rest are counted in `run.properties` and the caller is told (it prints a
//!   warning). Each result has one location, far below the limit of 1,000.
//!
//! **Secrets never go into SARIF, not even with `--no-redact`.** A SARIF file is uploaded to a
//! code-scanning service and kept there, readable by everyone who can see the alerts, long after
//! the secret has been purged from the repository: the plaintext in it would be a second leak. The
//! message shows the same short redacted prefix as the other reports; `--no-redact` affects only
//! the text and JSON reports.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Component, Path, PathBuf};

use serde_json::{Value, json};
use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location, LogicalLocation, Message, MultiformatMessageString,
    Notification, PhysicalLocation, PropertyBag, Region, ReportingConfiguration,
    ReportingDescriptor, Result as SarifResult, ResultLevel, Run, RunAutomationDetails, Sarif,
    Tool, ToolComponent,
};

use super::{Report, ScanKind};
use crate::finding::Finding;
use crate::finding::{Liveness, PairLink};
use crate::rules::{Rule, RuleIdx, Severity};
use crate::scan::SkipReason;

/// GitHub code scanning rejects a run with more results than this.
pub(crate) const MAX_RESULTS: usize = 25_000;

/// GitHub code scanning rejects a result with more locations than this. credsweep writes one
/// location per result, so it is never reached; the constant documents the limit.
pub const MAX_LOCATIONS_PER_RESULT: usize = 1_000;

/// GitHub code scanning rejects a run with more rules than this (possible only with
/// `--sarif-all-rules` and a very large rule file).
pub(crate) const MAX_RULES: usize = 25_000;

/// The `partialFingerprints` key of credsweep's content fingerprint ([`Finding::fingerprint`]).
pub(crate) const CONTENT_FINGERPRINT_KEY: &str = "credsweep/contentFingerprint/v1";

/// The `partialFingerprints` key GitHub code scanning tracks alerts by.
pub(crate) const LINE_HASH_KEY: &str = "primaryLocationLineHash";

/// The log's `$schema`: the SARIF 2.1.0 schema as published by JSON Schema Store (the URI GitHub's
/// documentation uses).
pub(crate) const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The URI standard input is reported under: `<stdin>`, percent-encoded (`<` and `>` may not
/// appear in a URI).
pub(crate) const STDIN_URI: &str = "%3Cstdin%3E";

/// Where the tool is documented: the crate's homepage or repository when Cargo.toml names one.
pub(crate) const INFORMATION_URI: &str = {
    let home = env!("CARGO_PKG_HOMEPAGE");
    let repo = env!("CARGO_PKG_REPOSITORY");
    if !home.is_empty() {
        home
    } else if !repo.is_empty() {
        repo
    } else {
        "https://crates.io/crates/credsweep"
    }
};

/// What the SARIF renderer needs beyond the report.
#[derive(Debug, Clone, Copy, Default)]
pub struct SarifOptions {
    /// List every rule in force in `tool.driver.rules`, not only those that fired.
    pub all_rules: bool,
    /// Name each history finding's commit author (`--sarif-authors`). Off by default: the log is
    /// uploaded and kept, readable by everyone who sees the alerts, and a name or email is
    /// personal data (and, from a hostile repository, anything at all).
    pub authors: bool,
}

/// A rendered SARIF log and what the caller should tell the user on stderr.
#[derive(Debug)]
pub(crate) struct Rendered {
    pub body: String,
    pub warnings: Vec<String>,
}

/// SARIF's `security-severity` for a severity, as GitHub reads it: over 9.0 is critical, 7.0 to
/// 8.9 high, 4.0 to 6.9 medium, 0.1 to 3.9 low. A live credential in a repository is critical
/// (anyone who can read it can use it), an identifier or short-lived token medium, a test-mode key
/// low.
pub(crate) fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "9.1",
        Severity::Warning => "6.5",
        Severity::Note => "3.0",
    }
}

/// SARIF's `precision` for a rule: `high` when a match needs provider context nearby
/// (`context_required`) or every keyword is a distinctive literal of at least four characters (a
/// token prefix like `ghp_`, `xoxb-`, `AKIA`, or a key name like `secret_access_key`); `medium`
/// when a keyword is short or generic (`SK`, `AC`, `-us`), so more of the matches may be
/// something else.
pub fn precision(rule: &Rule) -> &'static str {
    let distinctive =
        !rule.keywords.is_empty() && rule.keywords.iter().all(|k| k.chars().count() >= 4);
    if rule.context_required || distinctive {
        "high"
    } else {
        "medium"
    }
}

/// `vobiz-auth-token` → `VobizAuthToken`.
pub(crate) fn pascal_case(id: &str) -> String {
    id.split(['-', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            let first = c.next().unwrap().to_ascii_uppercase();
            std::iter::once(first).chain(c).collect::<String>()
        })
        .collect()
}

fn result_level(s: Severity) -> ResultLevel {
    match s {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
        Severity::Note => ResultLevel::Note,
    }
}

/// What to do about a credential when its rule says nothing more specific.
const GENERIC_REMEDIATION: &str = "Revoke or rotate the credential with whoever issued it, at \
once: assume it has been copied. Then purge it from git history (for example with git \
filter-repo) and have every clone re-fetched, and load it at run time from an environment \
variable or a secrets manager instead of keeping it in the repository.";

/// Why removing the line is not enough; appended to every rule's help.
const HISTORY_NOTE: &str = "Deleting the line in a new commit does not help on its own: the \
credential stays in git history, in every clone and fork, and in any CI log that printed it. \
Rotate it first, then clean up.";

/// Escapes the characters Markdown would read as formatting.
fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '~'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn message(text: String) -> Message {
    Message::builder().text(text).build()
}

fn mms(text: String) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(text).build()
}

fn bag(entries: impl IntoIterator<Item = (&'static str, Value)>) -> PropertyBag {
    PropertyBag::builder()
        .additional_properties(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect::<BTreeMap<_, _>>(),
        )
        .build()
}

/// The `tool.driver.rules[]` entry for `rule`.
fn descriptor(rule: &Rule) -> ReportingDescriptor {
    let provider = rule.provider.as_deref();
    let what = match provider {
        Some(p) => format!(
            "{}. Provider: {p}; credsweep rule: {}.",
            rule.description.trim_end_matches('.'),
            rule.id
        ),
        None => format!(
            "{}. credsweep rule: {}.",
            rule.description.trim_end_matches('.'),
            rule.id
        ),
    };
    let full = format!(
        "{}. A credential of this kind found in a repository must be treated as exposed: anyone \
         who can read the repository, a clone, a fork or a CI log can use it.",
        rule.description.trim_end_matches('.')
    );
    let todo = rule
        .remediation
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .unwrap_or(GENERIC_REMEDIATION);
    let help_text = format!("What leaked: {what}\n\nWhat to do: {todo}\n\n{HISTORY_NOTE}");
    let help_md = format!(
        "**What leaked:** {}\n\n**What to do:** {}\n\n{}",
        md_escape(&what),
        md_escape(todo),
        md_escape(HISTORY_NOTE)
    );
    let mut tags = vec!["security".to_string(), "secret".to_string()];
    if let Some(p) = provider {
        let tag = p.trim().to_lowercase().replace(char::is_whitespace, "-");
        if !tag.is_empty() && !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    let mut properties = bag([
        ("security-severity", json!(security_severity(rule.severity))),
        ("precision", json!(precision(rule))),
    ]);
    properties.tags = Some(tags);
    ReportingDescriptor::builder()
        .id(rule.id.clone())
        .name(pascal_case(&rule.id))
        .short_description(mms(rule.description.clone()))
        .full_description(mms(full))
        .help(
            MultiformatMessageString::builder()
                .text(help_text)
                .markdown(help_md)
                .build(),
        )
        .default_configuration(
            ReportingConfiguration::builder()
                .level(json!(rule.severity.as_str()))
                .build(),
        )
        .properties(properties)
        .build()
}

/// Percent-encodes `path` for a URI: every byte but ASCII letters, digits, `-._~` and `/`.
pub(crate) fn percent_encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Removes `.` and resolves `..` without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// The root of the git work tree `dir` is in: the nearest ancestor with a `.git` entry.
fn work_tree_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

/// Turns the paths of a tree scan (relative to the current directory, or absolute) into
/// paths relative to the root of the repository the current directory is in, which is what code
/// scanning resolves a relative URI against. Paths outside it stay as they are.
struct TreeScanPaths {
    cwd: Option<PathBuf>,
    root: Option<PathBuf>,
}

impl TreeScanPaths {
    fn new() -> TreeScanPaths {
        let cwd = std::env::current_dir()
            .ok()
            .map(|d| std::fs::canonicalize(&d).unwrap_or(d));
        let root = cwd.as_deref().and_then(work_tree_root);
        TreeScanPaths { cwd, root }
    }

    /// The repository-relative URI of `path`, or `None` to keep the path as it is.
    fn uri(&self, path: &str) -> String {
        let p = Path::new(path);
        let abs = match (&self.cwd, p.is_absolute()) {
            (_, true) => normalize(p),
            (Some(cwd), false) => normalize(&cwd.join(p)),
            (None, false) => return relative_uri(path),
        };
        if let Some(rel) = self.root.as_deref().and_then(|r| abs.strip_prefix(r).ok()) {
            return relative_uri(&rel.to_string_lossy());
        }
        if p.is_absolute() {
            // Outside any repository: an absolute file URI, so nothing resolves it to the wrong
            // file.
            let s = abs.to_string_lossy().replace('\\', "/");
            return format!("file://{}", percent_encode_path(&s));
        }
        relative_uri(path)
    }
}

/// A relative path as a relative URI: `/`-separated, no leading `./`, percent-encoded.
fn relative_uri(path: &str) -> String {
    let s = path.replace('\\', "/");
    let mut s = s.as_str();
    while let Some(rest) = s.strip_prefix("./") {
        s = rest;
    }
    percent_encode_path(s)
}

/// A path from a git tree or index (history and staged scans) as a relative URI that stays under
/// the repository root whatever the tree holds: a hostile tree can name an entry `..` or `.`,
/// or build a path with empty segments (`/etc/passwd`), which as a URI would resolve outside
/// `%SRCROOT%` or to another file. Empty segments are dropped, `.` and `..` are percent-encoded
/// (`%2E`, `%2E%2E`: a name, not a step up, when the URI is resolved), the rest as
/// [`percent_encode_path`] does (a backslash is part of a name in git, and becomes `%5C`).
pub(crate) fn git_path_uri(path: &str) -> String {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| match s {
            "." => "%2E".to_string(),
            ".." => "%2E%2E".to_string(),
            s => percent_encode_path(s),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// How a finding's place is named in its message.
fn place(kind: ScanKind, f: &Finding) -> String {
    let file = if f.location.is_stdin() {
        "standard input".to_string()
    } else if kind == ScanKind::Staged {
        format!("the staged version of {}", f.location)
    } else {
        f.location.to_string()
    };
    match &f.offset {
        Some(o) => format!("{file} at byte offset {}", o.start),
        None => format!("{file} at line {}, column {}", f.line, f.column),
    }
}

/// The result message: the first sentence says what was found and where (for history, in which
/// commit, when, and by whom with `--sarif-authors`); then the redacted secret.
fn result_message(kind: ScanKind, f: &Finding, authors: bool) -> String {
    let mut m = format!(
        "{} found in {}",
        f.description.trim_end_matches('.'),
        place(kind, f)
    );
    if let Some(p) = &f.provenance {
        match &p.commit {
            Some(_) if message_object(f).is_some() => {
                let by = p.author.as_ref().filter(|_| authors);
                if by.is_some() || p.date.is_some() {
                    m += ", written";
                }
                if let Some(a) = by {
                    m += &format!(" by {a}");
                }
                if let Some(d) = &p.date {
                    m += &format!(" on {d}");
                }
            }
            Some(c) => {
                m += &format!(", added in commit {}", &c[..c.len().min(12)]);
                if let Some(a) = p.author.as_ref().filter(|_| authors) {
                    m += &format!(" by {a}");
                }
                if let Some(d) = &p.date {
                    m += &format!(" on {d}");
                }
            }
            None => {
                m += &format!(
                    ", in blob {} that no commit holds",
                    &p.blob[..p.blob.len().min(12)]
                );
            }
        }
    }
    m.push('.');
    if let Some(p) = &f.provenance
        && p.other_locations > 0
    {
        m += &format!(
            " The same secret is in {} other place{} in history.",
            p.other_locations,
            if p.other_locations == 1 { "" } else { "s" }
        );
    }
    if f.folded > 0 {
        m += &format!(
            " {} more of this rule in the same file {} counted here, not reported one by one.",
            f.folded,
            if f.folded == 1 { "is" } else { "are" }
        );
    }
    m += &format!(" Redacted value: {}", f.secret.redacted());
    m
}

/// For a finding in a commit or tag message: the object's full id, and whether it is a tag.
fn message_object(f: &Finding) -> Option<(&str, bool)> {
    match f.location.undecoded() {
        crate::finding::Location::Message { object, tag } => Some((object, *tag)),
        _ => None,
    }
}

/// Where a message is, for SARIF: no file holds it, so a logical location names the commit (or
/// tag) object by its id.
fn message_location(object: &str, tag: bool) -> LogicalLocation {
    LogicalLocation::builder()
        .name(object.to_string())
        .fully_qualified_name(format!(
            "{} {object} message",
            if tag { "tag" } else { "commit" }
        ))
        .kind("object".to_string())
        .build()
}

fn result(
    kind: ScanKind,
    f: &Finding,
    rule_index: usize,
    uri: String,
    authors: bool,
) -> SarifResult {
    let mut artifact = ArtifactLocation::builder().uri(uri.clone()).build();
    if !uri.starts_with("file:") && uri != STDIN_URI {
        artifact.uri_base_id = Some("%SRCROOT%".to_string());
    }
    let mut region = Region::builder()
        .start_line(i64::from(f.line))
        .start_column(i64::from(f.column))
        .end_line(i64::from(f.end_line))
        .end_column(i64::from(f.end_column))
        .build();
    // A binary scanned for its strings: the byte range is the place (line 1, columns from it).
    if let Some(o) = &f.offset {
        region.byte_offset = i64::try_from(o.start).ok();
        region.byte_length = i64::try_from(o.end - o.start).ok();
    }
    let message_at = message_object(f);
    let related = f.pair.as_deref().map(|p| match message_at {
        Some((object, tag)) => related_in_message(p, message_location(object, tag)),
        None => related_location(p, artifact.clone()),
    });
    let location = match message_at {
        // The line and column in the message are in the result's message and properties.
        Some((object, tag)) => Location::builder()
            .logical_locations(vec![message_location(object, tag)])
            .build(),
        None => Location::builder()
            .physical_location(
                PhysicalLocation::builder()
                    .artifact_location(artifact)
                    .region(region)
                    .build(),
            )
            .build(),
    };
    let mut fingerprints = BTreeMap::new();
    if let Some(h) = &f.line_hash {
        fingerprints.insert(LINE_HASH_KEY.to_string(), h.clone());
    }
    fingerprints.insert(CONTENT_FINGERPRINT_KEY.to_string(), f.fingerprint.0.clone());
    let mut r = SarifResult::builder()
        .rule_id(f.rule_id.clone())
        .rule_index(rule_index as i64)
        .level(if f.is_verified_active() {
            ResultLevel::Error
        } else {
            result_level(f.severity)
        })
        .message(message(
            result_message(kind, f, authors) + &pair_sentences(f),
        ))
        .locations(vec![location])
        .partial_fingerprints(fingerprints)
        .build();
    r.related_locations = related.map(|l| vec![l]);
    let mut props: Vec<(&'static str, Value)> = Vec::new();
    let decoded = f.location.decoded();
    if !decoded.is_empty() {
        props.push(("decoded", json!(decoded)));
    }
    if let Some((_, member)) = super::archive_member(f.location.undecoded()) {
        props.push(("member", json!(member)));
    }
    if let Some((_, tag)) = message_at {
        props.push((
            "location",
            json!(if tag { "tag-message" } else { "commit-message" }),
        ));
        props.push(("line", json!(f.line)));
        props.push(("column", json!(f.column)));
    }
    if let Some(p) = &f.provenance {
        if let Some(c) = &p.commit {
            props.push(("commit", json!(c)));
        }
        if let Some(a) = p.author.as_ref().filter(|_| authors) {
            props.push(("author", json!(a)));
        }
        if let Some(d) = &p.date {
            props.push(("date", json!(d)));
        }
        if !p.blob.is_empty() {
            props.push(("blob", json!(p.blob)));
        }
        if let Some(r) = &p.ref_name {
            props.push(("ref", json!(r)));
        }
        props.push(("otherLocations", json!(p.other_locations)));
        if let Some(h) = p.in_head {
            props.push(("inHead", json!(h)));
        }
        if let Some(s) = &p.submodule {
            props.push(("submodule", json!(s)));
        }
    }
    if f.folded > 0 {
        props.push(("folded", json!(f.folded)));
    }
    if let Some(v) = &f.verification {
        props.push(("verification", json!(v.outcome.as_str())));
        props.push(("verificationDetail", json!(v.detail)));
    }
    if !props.is_empty() {
        r.properties = Some(bag(props));
    }
    r
}

/// The related location (id 1) of the other half of a Vobiz pair: same file, its own region.
fn related_location(p: &PairLink, artifact: ArtifactLocation) -> Location {
    let region = Region::builder()
        .start_line(i64::from(p.line))
        .start_column(i64::from(p.column))
        .end_line(i64::from(p.end_line))
        .end_column(i64::from(p.end_column))
        .build();
    Location::builder()
        .id(1)
        .physical_location(
            PhysicalLocation::builder()
                .artifact_location(artifact)
                .region(region)
                .build(),
        )
        .message(message(format!(
            "The other half of the credential pair ({}, redacted value {}).",
            p.rule_id,
            p.secret.redacted()
        )))
        .build()
}

/// The related location (id 1) of the other half of a Vobiz pair in the same message.
fn related_in_message(p: &PairLink, at: LogicalLocation) -> Location {
    Location::builder()
        .id(1)
        .logical_locations(vec![at])
        .message(message(format!(
            "The other half of the credential pair ({}, redacted value {}), at line {}, column {} of the same message.",
            p.rule_id,
            p.secret.redacted(),
            p.line,
            p.column
        )))
        .build()
}

/// What the message adds for a Vobiz pair and its verification: the link to the other half, and
/// what `--verify` found (an active credential must be rotated now).
fn pair_sentences(f: &Finding) -> String {
    let mut m = String::new();
    if let Some(p) = &f.pair {
        m += &format!(
            " It pairs with the [{}](1) at line {}, column {} of the same {}: together they make a complete Vobiz API credential.",
            p.rule_id,
            p.line,
            p.column,
            if message_object(f).is_some() {
                "message"
            } else {
                "file"
            }
        );
    }
    if let Some(v) = &f.verification {
        m += &match v.outcome {
            Liveness::Active => format!(
                " Verified ACTIVE against the Vobiz API ({}): this credential works. Rotate it now.",
                v.detail
            ),
            Liveness::Inactive => format!(
                " Verified inactive: the Vobiz API rejected it ({}). Remove it all the same.",
                v.detail
            ),
            Liveness::Unknown => format!(" Verification inconclusive ({}).", v.detail),
            Liveness::Unverifiable => format!(" Not verifiable: {}.", v.detail),
        };
    }
    m
}

/// The indices of the findings to write: all of them, or past [`MAX_RESULTS`] the most severe,
/// in report order.
fn keep(findings: &[Finding]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..findings.len()).collect();
    if idx.len() > MAX_RESULTS {
        // Stable: within a severity, the report's order (path, line) decides.
        idx.sort_by_key(|&i| std::cmp::Reverse(findings[i].severity));
        idx.truncate(MAX_RESULTS);
        idx.sort_unstable();
    }
    idx
}

/// The position in `report.rules` of the rule that produced `f`.
fn rule_position(report: &Report<'_>, f: &Finding) -> usize {
    let i = f.rule.0 as usize;
    match report.rules.rules().get(i) {
        Some(r) if r.id == f.rule_id => i,
        _ => report
            .rules
            .find(&f.rule_id)
            .map(|r| r.0 as usize)
            .unwrap_or_else(|| panic!("finding of rule {} not in the rule set", f.rule_id)),
    }
}

/// Renders `report` as a SARIF 2.1.0 log.
pub(crate) fn render(report: &Report<'_>, opts: SarifOptions) -> Rendered {
    let mut warnings = Vec::new();
    let rules = report.rules;
    let kept = keep(&report.findings);
    let omitted = report.findings.len() - kept.len();

    // rules[]: in rule-set order, the rules that fired among the kept findings, or all.
    let positions: Vec<usize> = report
        .findings
        .iter()
        .map(|f| rule_position(report, f))
        .collect();
    let mut fired = vec![false; rules.len()];
    for &i in &kept {
        fired[positions[i]] = true;
    }
    let mut listed: Vec<usize> = (0..rules.len())
        .filter(|&i| opts.all_rules || fired[i])
        .collect();
    let mut rules_omitted = 0;
    if listed.len() > MAX_RULES {
        // Only possible with --sarif-all-rules: every rule that fired, then the others in order,
        // up to the limit.
        let mut room = MAX_RULES - fired.iter().filter(|&&f| f).count();
        listed.retain(|&i| {
            let keep = fired[i] || room > 0;
            if !fired[i] && keep {
                room -= 1;
            }
            keep
        });
        rules_omitted = rules.len() - listed.len();
        warnings.push(format!(
            "SARIF: {} rules are in force but GitHub accepts at most {MAX_RULES} per run: {rules_omitted} rules that found nothing are left out of tool.driver.rules",
            rules.len()
        ));
    }
    let index_of: HashMap<usize, usize> = listed
        .iter()
        .enumerate()
        .map(|(pos, &i)| (i, pos))
        .collect();
    let descriptors: Vec<ReportingDescriptor> = listed
        .iter()
        .map(|&i| descriptor(rules.get(RuleIdx(i as u32))))
        .collect();

    let mut tree_paths = None;
    let results: Vec<SarifResult> = kept
        .iter()
        .map(|&i| {
            let f = &report.findings[i];
            // A finding inside an archive is reported on the archive's file; the member is
            // named in the message and the `member` property.
            let file = super::archive_member(f.location.undecoded())
                .map_or(&f.location, |(outer, _)| outer);
            let name = file.name();
            let uri = if f.location.is_stdin() {
                STDIN_URI.to_string()
            } else if report.kind == ScanKind::Tree {
                tree_paths.get_or_insert_with(TreeScanPaths::new).uri(&name)
            } else {
                git_path_uri(&name)
            };
            result(report.kind, f, index_of[&positions[i]], uri, opts.authors)
        })
        .collect();

    let mut run_props: Vec<(&'static str, Value)> = vec![
        ("scan", json!(report.kind.as_str())),
        ("findings", json!(report.findings.len())),
    ];
    if !report.suppressed.is_empty() {
        // Accepted in the baseline: never written as results. Code scanning does not honour
        // SARIF `suppressions` (it would open an alert for each), so an accepted finding's alert
        // closes as fixed on the next upload instead.
        run_props.push(("baselineSuppressed", json!(report.suppressed.len())));
    }
    if omitted > 0 {
        let mut by_severity = BTreeMap::new();
        let kept_set: HashSet<usize> = kept.iter().copied().collect();
        for (i, f) in report.findings.iter().enumerate() {
            if !kept_set.contains(&i) {
                *by_severity.entry(f.severity.as_str()).or_insert(0usize) += 1;
            }
        }
        let note = format!(
            "{} findings, but GitHub code scanning accepts at most {MAX_RESULTS} results per run: the {MAX_RESULTS} most severe are included and {omitted} are left out; run credsweep with --format json to see them all",
            report.findings.len()
        );
        warnings.push(format!("SARIF: {note}"));
        run_props.push(("resultsTruncated", json!(true)));
        run_props.push(("resultsLimit", json!(MAX_RESULTS)));
        run_props.push(("resultsOmitted", json!(omitted)));
        run_props.push(("resultsOmittedBySeverity", json!(by_severity)));
        run_props.push(("truncationNote", json!(note)));
    }
    if rules_omitted > 0 {
        run_props.push(("rulesOmitted", json!(rules_omitted)));
    }

    let run = Run::builder()
        .tool(
            Tool::builder()
                .driver(
                    ToolComponent::builder()
                        .name("credsweep")
                        .semantic_version(env!("CARGO_PKG_VERSION"))
                        .version(env!("CARGO_PKG_VERSION"))
                        .information_uri(INFORMATION_URI)
                        .rules(descriptors)
                        .build(),
                )
                .build(),
        )
        .automation_details(
            RunAutomationDetails::builder()
                .id(format!("credsweep/{}/", report.kind.as_str()))
                .build(),
        )
        .column_kind(json!("unicodeCodePoints"))
        .invocations(vec![invocation(report)])
        .results(results)
        .properties(bag(run_props))
        .build();
    let log = Sarif::builder()
        .schema(SCHEMA_URI)
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build();
    let mut body = serde_json::to_string_pretty(&log).expect("SARIF serializes");
    body.push('\n');
    let body = crate::term::escape_json_invisibles(body);
    Rendered { body, warnings }
}

/// The invocation: whether the scan read everything (`executionSuccessful`), and a notification
/// for each input not scanned, or not wholly, and each note.
fn invocation(report: &Report<'_>) -> Invocation {
    let mut notes = Vec::new();
    for k in &report.summary.skips {
        let level = match k.reason {
            SkipReason::Error(_) => "error",
            _ => "warning",
        };
        notes.push(
            Notification::builder()
                .level(json!(level))
                .message(message(format!("{}: {}", k.path, k.reason)))
                .build(),
        );
    }
    for n in &report.notes {
        notes.push(
            Notification::builder()
                .level(json!("note"))
                .message(message(n.clone()))
                .build(),
        );
    }
    let mut inv = Invocation::builder()
        .execution_successful(!report.summary.has_errors())
        .build();
    if !notes.is_empty() {
        inv.tool_execution_notifications = Some(notes);
    }
    inv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_uris() {
        assert_eq!(pascal_case("vobiz-auth-token"), "VobizAuthToken");
        assert_eq!(percent_encode_path("a b/ü:x.env"), "a%20b/%C3%BC%3Ax.env");
        assert_eq!(relative_uri("./././src/x y.rs"), "src/x%20y.rs");
    }

    #[test]
    fn markdown_is_escaped() {
        assert_eq!(md_escape("sk_live_…"), "sk\\_live\\_…");
    }
}
