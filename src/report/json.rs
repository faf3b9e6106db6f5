//! The JSON report: one document, field names stable (documented in README.md).
//!
//! It holds nothing that varies between two runs over the same input (no timings, no thread
//! counts), so CI can diff it.

use serde::Serialize;

use super::Report;
use crate::finding::Redaction;
use crate::finding::{Finding, Location, OtherPlace};
use crate::scan::SkipReason;

#[derive(Serialize)]
struct Document<'a> {
    tool: Tool,
    scan: &'static str,
    findings: Vec<JsonFinding<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressed: Option<Vec<JsonFinding<'a>>>,
    /// Staged scans: secrets already in `HEAD` in the changed files (they do not fail the scan).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    preexisting: Vec<JsonFinding<'a>>,
    summary: JsonSummary<'a>,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule_id: &'a str,
    severity: &'static str,
    description: &'a str,
    /// The file (or blob) name; absent for a commit or tag message, which `location` names.
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<std::borrow::Cow<'a, str>>,
    /// `commit-message` or `tag-message` for a secret in a message (its object id in `commit`);
    /// absent for a secret in a file or blob.
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<&'static str>,
    /// How the secret was decoded to be found (`["base64"]`); absent when found as written.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    decoded: Vec<&'a str>,
    /// The member's path inside the archive `path` names, for a finding inside an archive.
    #[serde(skip_serializing_if = "Option::is_none")]
    member: Option<String>,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    /// In a binary file scanned for its strings: the secret's byte offset, and just past its
    /// end (`line` is 1 and the columns are these + 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    offset: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_offset: Option<u64>,
    secret: String,
    fingerprint: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    author: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    ref_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    blob: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    other_locations: Option<usize>,
    /// The earliest other places, at most `MAX_LISTED_PLACES`; the rest are only counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    other_places: Option<&'a [OtherPlace]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    other_places_omitted: Option<usize>,
    /// Whether the secret is still in the scanned head's tree (history findings only).
    #[serde(skip_serializing_if = "Option::is_none")]
    in_head: Option<bool>,
    /// `credsweep git`: the submodule a finding of `--recurse-submodules` is in (its path in
    /// the superproject, which `path` starts with); absent for the scanned repository's own
    /// findings. `credsweep repos`: the repository's line of the list, on every finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    repo: Option<&'a str>,
    /// `credsweep repos` only: the submodule a finding is in, as `repo` names it in `credsweep
    /// git` (there `repo` is the list's line).
    #[serde(skip_serializing_if = "Option::is_none")]
    submodule: Option<&'a str>,
    /// The other half of a Vobiz id + token pair in the same file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pair: Option<JsonPair<'a>>,
    /// With `--verify`: `active`, `inactive`, `unknown` or `unverifiable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    verification: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verification_detail: Option<&'a str>,
    /// Further findings of the same rule in the same file counted on this one instead of
    /// reported (a rule's `max_per_file`); absent when none were.
    #[serde(skip_serializing_if = "Option::is_none")]
    folded: Option<u64>,
}

#[derive(Serialize)]
struct JsonPair<'a> {
    rule_id: &'a str,
    fingerprint: &'a str,
    path: std::borrow::Cow<'a, str>,
    line: u32,
    column: u32,
}

#[derive(Serialize)]
struct JsonSummary<'a> {
    findings: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    commits: Option<u64>,
    scanned: u64,
    bytes: u64,
    binary_skipped: u64,
    /// Binary files whose printable strings were scanned (counted in `scanned` too).
    binary_scanned: u64,
    not_files_skipped: u64,
    suppressed: usize,
    allowed: u64,
    allowed_paths: u64,
    excluded: u64,
    below_min_severity: u64,
    skipped: Vec<JsonSkip<'a>>,
    errors: usize,
    notes: &'a [String],
    /// The blob cache's counters (`credsweep git --cache`): what differs between a cold and a
    /// warm scan's reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    cache: Option<JsonCache>,
}

#[derive(Serialize)]
struct JsonCache {
    /// Blobs known clean from an earlier scan: not read.
    hits: u64,
    /// Blobs read and scanned.
    misses: u64,
    /// Clean blobs added to the cache.
    stored: u64,
    /// Cache files not used (damaged, foreign, not regular files).
    ignored: u64,
    /// Commit and tag messages known clean: not scanned.
    messages: u64,
    /// Trees known to hold nothing of interest: not read to locate findings.
    trees: u64,
    /// Commits known (their message clean): taken from the cache, not decoded.
    commits: u64,
}

#[derive(Serialize)]
struct JsonSkip<'a> {
    path: &'a str,
    reason: String,
    error: bool,
}

pub(crate) fn render(report: &Report<'_>, redaction: Redaction) -> String {
    let doc = Document {
        tool: Tool {
            name: "credsweep",
            version: env!("CARGO_PKG_VERSION"),
        },
        scan: report.kind.as_str(),
        findings: json_findings(&report.findings, redaction, None),
        suppressed: report
            .show_suppressed
            .then(|| json_findings(&report.suppressed, redaction, None)),
        preexisting: json_findings(&report.preexisting, redaction, None),
        summary: summary(report),
    };
    let mut out = serde_json::to_string_pretty(&doc).expect("report serializes");
    out.push('\n');
    crate::term::escape_json_invisibles(out)
}

/// The findings of a report as the JSON report writes them, in its field order, for `credsweep
/// repos`: each with `repo`, the repository's line of the list, and a submodule's finding with
/// `submodule`, the submodule's path (what `repo` is in `credsweep git`).
pub(crate) fn finding_values(
    findings: &[Finding],
    redaction: Redaction,
    repo: &str,
) -> Vec<serde_json::Value> {
    json_findings(findings, redaction, Some(repo))
        .iter()
        .map(|f| serde_json::to_value(f).expect("a finding serializes"))
        .collect()
}

/// The summary's `skipped` list of a report, as the JSON report writes it.
pub(crate) fn skip_values(report: &Report<'_>) -> Vec<serde_json::Value> {
    summary(report)
        .skipped
        .iter()
        .map(|k| serde_json::to_value(k).expect("a skip serializes"))
        .collect()
}

/// The findings as JSON writes them. `listed` is the line of `credsweep repos`'s list the
/// findings' repository is: it is `repo`, and a submodule moves to `submodule`; without it (one
/// repository), `repo` is the submodule.
fn json_findings<'a>(
    findings: &'a [Finding],
    redaction: Redaction,
    listed: Option<&'a str>,
) -> Vec<JsonFinding<'a>> {
    findings
        .iter()
        .map(|f| {
            let p = f.provenance.as_ref();
            let submodule = p.and_then(|p| p.submodule.as_deref());
            let (repo, submodule) = match listed {
                Some(line) => (Some(line), submodule),
                None => (submodule, None),
            };
            JsonFinding {
                rule_id: &f.rule_id,
                severity: f.severity.as_str(),
                description: &f.description,
                path: message_kind(&f.location)
                    .is_none()
                    .then(|| f.location.name()),
                location: message_kind(&f.location),
                decoded: f.location.decoded(),
                member: super::archive_member(f.location.undecoded()).map(|(_, m)| m),
                line: f.line,
                column: f.column,
                end_line: f.end_line,
                end_column: f.end_column,
                offset: f.offset.as_ref().map(|o| o.start),
                end_offset: f.offset.as_ref().map(|o| o.end),
                secret: redaction.show(&f.secret),
                fingerprint: &f.fingerprint.0,
                commit: p.and_then(|p| p.commit.as_deref()),
                author: p.and_then(|p| p.author.as_deref()),
                email: p.and_then(|p| p.email.as_deref()),
                date: p.and_then(|p| p.date.as_deref()),
                message: p.and_then(|p| p.message.as_deref()),
                ref_name: p.and_then(|p| p.ref_name.as_deref()),
                // A message is in no blob.
                blob: p.map(|p| p.blob.as_str()).filter(|b| !b.is_empty()),
                other_locations: p.map(|p| p.other_locations),
                other_places: p.map(|p| p.other_places.as_slice()),
                other_places_omitted: p.map(|p| p.other_places_omitted()),
                in_head: p.and_then(|p| p.in_head),
                repo,
                submodule,
                pair: f.pair.as_deref().map(|p| JsonPair {
                    rule_id: &p.rule_id,
                    fingerprint: &p.fingerprint.0,
                    path: p.location.name(),
                    line: p.line,
                    column: p.column,
                }),
                verification: f.verification.as_ref().map(|v| v.outcome.as_str()),
                verification_detail: f.verification.as_ref().map(|v| v.detail.as_str()),
                folded: (f.folded > 0).then_some(f.folded),
            }
        })
        .collect()
}

/// `commit-message` or `tag-message` for a finding in a message (or in a value decoded there).
fn message_kind(location: &Location) -> Option<&'static str> {
    match location.undecoded() {
        Location::Message { tag: false, .. } => Some("commit-message"),
        Location::Message { tag: true, .. } => Some("tag-message"),
        _ => None,
    }
}

fn summary<'a>(report: &'a Report<'_>) -> JsonSummary<'a> {
    let s = &report.summary;
    let skipped: Vec<JsonSkip<'_>> = s
        .skips
        .iter()
        .map(|k| JsonSkip {
            path: &k.path,
            reason: k.reason.to_string(),
            error: matches!(k.reason, SkipReason::Error(_)),
        })
        .collect();
    JsonSummary {
        findings: report.findings.len(),
        commits: s.commits,
        scanned: s.scanned,
        bytes: s.bytes,
        binary_skipped: s.binary,
        binary_scanned: s.binary_strings,
        not_files_skipped: s.not_files,
        suppressed: report.suppressed.len(),
        allowed: s.allowed,
        allowed_paths: s.allowed_paths,
        excluded: s.excluded,
        below_min_severity: s.below_min_severity,
        errors: skipped.iter().filter(|k| k.error).count(),
        skipped,
        notes: &report.notes,
        cache: s.cache.map(|c| JsonCache {
            hits: c.hits,
            misses: c.misses,
            stored: c.stored,
            ignored: c.ignored,
            messages: c.messages,
            trees: c.trees,
            commits: c.commits,
        }),
    }
}
