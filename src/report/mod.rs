//! Reports: a finished scan ([`Report`]) rendered as text for people, JSON for programs, SARIF
//! for code-scanning services, or one HTML file for an audit.
//!
//! Every renderer gets findings already sorted (see [`Report::new`]) and a [`Redaction`](crate::finding::Redaction) choice,
//! so the same input gives byte-identical output whatever the thread count, and no renderer can
//! forget to redact.

pub mod html;
pub mod json;
pub mod repos;
pub mod sarif;
pub mod text;

use std::time::Duration;

use crate::finding::{Finding, Location, Secret};
use crate::rules::RuleSet;
use crate::scan::Summary;

/// For a finding inside an archive: where the outermost archive is (the file a reader opens),
/// and the member's path inside it, nested archives included (`inner.zip!app/.env`). `None`
/// for a finding that is not in an archive.
pub fn archive_member(location: &Location) -> Option<(&Location, String)> {
    let Location::Member { archive, member } = location else {
        return None;
    };
    Some(match archive_member(archive) {
        Some((outer, path)) => (outer, format!("{path}!{member}")),
        None => (archive.as_ref(), member.clone()),
    })
}

/// Which kind of scan produced a report. Also names SARIF's `automationDetails.id` category, so
/// that tree, staged and history alerts do not overwrite each other.
///
/// Inside the code the sources are `tree` and `history`; the command line and the outputs keep
/// their older words, and [`ScanKind::as_str`] is the one place that maps them: the `dir`
/// command scans a [`ScanKind::Tree`] (JSON `"scan": "dir"`, SARIF category `dir`), and the
/// `git` command scans [`ScanKind::History`] (`"git"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanKind {
    Tree,
    Stdin,
    Staged,
    History,
}

impl ScanKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ScanKind::Tree => "dir",
            ScanKind::Stdin => "stdin",
            ScanKind::Staged => "staged",
            ScanKind::History => "git",
        }
    }
}

/// What a scan read, in words for a report's header (the HTML report shows it).
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// The repository's top, the paths scanned as given, or `<stdin>`.
    pub roots: Vec<String>,
    /// For a repository: which commits were read (`all of them ...`, `A..B`, the index).
    pub commits: Option<String>,
}

/// A finished scan.
pub struct Report<'a> {
    pub kind: ScanKind,
    pub findings: Vec<Finding>,
    pub summary: Summary,
    pub rules: &'a RuleSet,
    pub elapsed: Duration,
    /// Notes for the reader that are not skips (e.g. "shallow clone").
    pub notes: Vec<String>,
    /// Findings the baseline accepts: counted, listed only when `show_suppressed`.
    pub suppressed: Vec<Finding>,
    pub show_suppressed: bool,
    /// Shown at the end of a text report that has findings: what a blocked hook run (a commit
    /// or a push) means and what to do about it. `None` for ordinary scans.
    pub footer: Option<String>,
    /// Staged scans: secrets the changed files already held in `HEAD`. Listed, never failing
    /// the scan: the commit does not add them.
    pub preexisting: Vec<Finding>,
    /// What was scanned (empty unless the session says).
    pub target: Target,
}

impl<'a> Report<'a> {
    pub fn new(
        kind: ScanKind,
        mut findings: Vec<Finding>,
        mut summary: Summary,
        rules: &'a RuleSet,
        elapsed: Duration,
    ) -> Report<'a> {
        findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        // By path, then reason: one path can be skipped twice (cut at the cap, then unreadable),
        // and threads add skips in any order.
        summary
            .skips
            .sort_by_cached_key(|k| (k.path.clone(), k.reason.to_string()));
        Report {
            kind,
            findings,
            summary,
            rules,
            elapsed,
            notes: Vec::new(),
            suppressed: Vec::new(),
            show_suppressed: false,
            footer: None,
            preexisting: Vec::new(),
            target: Target::default(),
        }
    }

    /// Redacts every string from the repository the report prints besides the secrets: the
    /// findings' paths, descriptions and provenance (also of suppressed findings), skipped paths
    /// and their errors, and notes (see [`crate::finding::StringRedactor`]). Called once before
    /// rendering, unless secrets are to be shown (`--no-redact`).
    pub(crate) fn redact_repository_strings(&mut self, scanner: &crate::scanner::Scanner) {
        let secrets: Vec<Secret> = self
            .findings
            .iter()
            .chain(&self.suppressed)
            .chain(&self.preexisting)
            .flat_map(|f| std::iter::once(&f.secret).chain(f.pair.as_ref().map(|p| &p.secret)))
            .cloned()
            .collect();
        let mut r = crate::finding::StringRedactor::new(scanner, &secrets);
        for f in self
            .findings
            .iter_mut()
            .chain(&mut self.suppressed)
            .chain(&mut self.preexisting)
        {
            r.redact_finding(f);
        }
        for k in &mut self.summary.skips {
            k.path = r.redact(&k.path);
            if let crate::scan::SkipReason::Error(e) = &mut k.reason {
                *e = r.redact(e);
            }
        }
        for n in &mut self.notes {
            *n = r.redact(n);
        }
    }

    /// Moves the findings `baseline` accepts to `suppressed`.
    pub(crate) fn apply_baseline(&mut self, baseline: &crate::baseline::Baseline) {
        let (kept, suppressed) = std::mem::take(&mut self.findings)
            .into_iter()
            .partition(|f| !baseline.contains(&f.fingerprint));
        self.findings = kept;
        self.suppressed = suppressed;
        self.preexisting
            .retain(|f| !baseline.contains(&f.fingerprint));
    }
}
