//! Scanning one buffer: the engine's entry point for every source.
//!
//! A source (a directory walk, standard input, the index, git history, and later decoded text)
//! reads bytes and hands each buffer, with its [`Location`] and a [`ScanContext`], to
//! [`scan_buffer`]. An archive (told by its magic bytes, [`crate::archive`]) is opened in memory
//! and each member scanned as a buffer of its own at a [`Location::Member`], nested archives one
//! level deeper each, up to the depth limit. Otherwise it decodes the buffer ([`crate::scanner::decode`]), runs
//! the [`Scanner`], drops what inline markers and the [`Allowlist`] allow, and appends
//! [`Finding`]s (paired, with line hashes) and counts to a [`Summary`], which also records what
//! was skipped and why ([`SkipReason`]).

use std::fmt;
use std::path::PathBuf;

use crate::allow::{self, Allowlist};
use crate::archive::{self, Budget, Event};
use crate::finding::{Finding, LineLocator, Location, line_range};
use crate::scanner::decode::{self, Content};
use crate::scanner::{PathFilter, Scanner};

/// What every source needs to scan a buffer.
pub struct ScanContext<'a> {
    pub scanner: &'a Scanner,
    /// Key for findings' fingerprints.
    pub fingerprint_key: Vec<u8>,
    /// Buffers longer than this are scanned up to it; the rest is reported as not scanned.
    pub max_file_size: u64,
    /// The configuration's allow-lists.
    pub allowlist: &'a Allowlist,
    /// Honour inline markers (`credsweep:allow`, `gitleaks:allow`, ...); off for audits.
    pub inline_allow: bool,
    /// What relative paths in findings are relative to (for the allow-list's path globs).
    pub path_base: PathBuf,
    /// Whether archives are opened, how deep, and under which limits.
    pub archives: archive::Options,
}

/// Why an input, or part of one, was not scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// Looks binary (a NUL byte among the first 8,000 bytes).
    Binary,
    /// Longer than the size cap: the first `scanned` of `size` bytes were scanned.
    Truncated { size: u64, scanned: u64 },
    /// A stream (a FIFO or device named on the command line) longer than the size cap: its
    /// first `scanned` bytes were scanned.
    TruncatedStream { scanned: u64 },
    /// Not a regular file (FIFO, socket, device) or a symlink not followed.
    NotAFile,
    /// An archive, or a member of one, not read (or not wholly): encrypted, corrupt, over a
    /// limit, nested too deep. Not an error: what could be read was scanned.
    Archive(archive::Skip),
    /// More findings than one buffer may report ([`MAX_FINDINGS_PER_BUFFER`]): the first
    /// `listed` are reported, the rest dropped. Not an error: the file was scanned.
    TooManyFindings { listed: usize },
    /// Could not be read: this makes the scan incomplete, and the exit status 2.
    Error(String),
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::Binary => f.write_str("binary"),
            SkipReason::Truncated { size, scanned } => write!(
                f,
                "{size} bytes, over the size cap: only the first {scanned} bytes were scanned (raise --max-file-size to scan all)"
            ),
            SkipReason::TruncatedStream { scanned } => write!(
                f,
                "a stream longer than the size cap: only the first {scanned} bytes were scanned"
            ),
            SkipReason::NotAFile => f.write_str("not a regular file"),
            SkipReason::TooManyFindings { listed } => write!(
                f,
                "more than {listed} findings: only the first {listed} are reported (a dump of credentials? rotate them all)"
            ),
            SkipReason::Archive(s) => s.fmt(f),
            SkipReason::Error(e) => f.write_str(e),
        }
    }
}

/// An input that was not scanned, or not wholly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    pub path: String,
    pub reason: SkipReason,
}

/// What a scan read and skipped.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Files (or blobs) scanned, wholly or in part.
    pub scanned: u64,
    /// Commits a history scan covered (`None` for other scans).
    pub commits: Option<u64>,
    pub bytes: u64,
    pub binary: u64,
    /// Symlinks not followed, FIFOs, sockets, devices.
    pub not_files: u64,
    /// Findings dropped by an inline marker or the configuration's allow-lists.
    pub allowed: u64,
    /// Files not read because the configuration allows their path.
    pub allowed_paths: u64,
    /// Files (or, in history, findings' places) left out by `--exclude`.
    pub excluded: u64,
    /// Findings dropped because their severity is below `--min-severity` / `min_severity`.
    pub below_min_severity: u64,
    /// Skips worth naming one by one: truncations and errors. Others are counted only.
    pub skips: Vec<Skip>,
    /// Notes for the reader that are not skips (an ignore file that was not used).
    pub notes: Vec<String>,
}

impl Summary {
    pub fn merge(&mut self, other: Summary) {
        self.scanned += other.scanned;
        self.commits = match (self.commits, other.commits) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
        };
        self.bytes += other.bytes;
        self.binary += other.binary;
        self.not_files += other.not_files;
        self.allowed += other.allowed;
        self.allowed_paths += other.allowed_paths;
        self.excluded += other.excluded;
        self.below_min_severity += other.below_min_severity;
        self.skips.extend(other.skips);
        self.notes.extend(other.notes);
    }

    pub fn skip(&mut self, path: impl Into<String>, reason: SkipReason) {
        if reason == SkipReason::Binary {
            self.binary += 1;
        } else if reason == SkipReason::NotAFile {
            self.not_files += 1;
        } else {
            self.skips.push(Skip {
                path: path.into(),
                reason,
            });
        }
    }

    /// Whether anything could not be read: the scan is incomplete and must not pass.
    pub fn has_errors(&self) -> bool {
        self.skips
            .iter()
            .any(|s| matches!(s.reason, SkipReason::Error(_)))
    }
}

/// The most findings one file or blob reports. Each finding is kept in memory until the report
/// is written; a file of millions of key-shaped lines must not turn into millions of findings.
pub const MAX_FINDINGS_PER_BUFFER: usize = 100_000;

/// Decodes and scans one buffer found at `location`, appending its findings, with Vobiz ids and
/// tokens paired ([`crate::pair::link`]) and GitHub's line hashes set, and counting it in
/// `summary`. `data` must already be capped at the size limit; `full_size` is its real size.
pub fn scan_buffer(
    ctx: &ScanContext<'_>,
    data: &[u8],
    full_size: u64,
    location: &Location,
    filter: PathFilter<'_>,
    summary: &mut Summary,
    out: &mut Vec<Finding>,
) {
    if ctx.archives.enabled
        && ctx.archives.max_depth > 0
        && let Some(format) = archive::detect(data)
    {
        let mut budget = Budget::new(&ctx.archives);
        let nest = Nest {
            depth: 1,
            budget: &mut budget,
        };
        if scan_archive(
            ctx, format, data, full_size, location, filter, nest, summary, out,
        ) {
            return;
        }
    }
    scan_plain(ctx, data, full_size, location, filter, summary, out);
}

/// Where an archive being read sits: how deep, and what is left of its outermost archive's
/// budget.
struct Nest<'b> {
    depth: u32,
    budget: &'b mut Budget,
}

/// Opens the archive `data` and scans each member. Returns `false`, having scanned nothing, when
/// `data` is not a readable archive after all (its skip is reported; the caller scans the bytes
/// as they are).
#[allow(clippy::too_many_arguments)]
fn scan_archive(
    ctx: &ScanContext<'_>,
    format: archive::Format,
    data: &[u8],
    full_size: u64,
    location: &Location,
    filter: PathFilter<'_>,
    nest: Nest<'_>,
    summary: &mut Summary,
    out: &mut Vec<Finding>,
) -> bool {
    let name = location.name();
    let depth = nest.depth;
    let opened = archive::read(
        format,
        data,
        &ctx.archives,
        nest.budget,
        &name,
        &mut |budget, event| match event {
            Event::Member(m) => {
                let member_location = Location::Member {
                    archive: Box::new(location.clone()),
                    member: m.name.clone(),
                };
                // Path-scoped rules see the member's path; a blob's (history) is checked later.
                let member_filter = match filter {
                    PathFilter::Unknown => PathFilter::Unknown,
                    _ => PathFilter::Path(&m.name),
                };
                scan_member(
                    ctx,
                    &m.data,
                    &member_location,
                    member_filter,
                    Nest { depth, budget },
                    summary,
                    out,
                );
            }
            Event::Skip { member, reason } => summary.skip(
                member_place(&name, member.as_deref()),
                SkipReason::Archive(reason),
            ),
            Event::Error { member, message } => summary.skip(
                member_place(&name, Some(&member)),
                SkipReason::Error(message),
            ),
        },
    );
    if opened {
        summary.scanned += 1;
        summary.bytes += data.len() as u64;
        if full_size > data.len() as u64 {
            summary.skip(
                location.name(),
                SkipReason::Truncated {
                    size: full_size,
                    scanned: data.len() as u64,
                },
            );
        }
    }
    opened
}

/// Scans one member of an archive at depth `nest.depth`: an archive itself is opened one level
/// deeper if the depth limit allows, anything else is scanned as a buffer.
fn scan_member(
    ctx: &ScanContext<'_>,
    data: &[u8],
    location: &Location,
    filter: PathFilter<'_>,
    nest: Nest<'_>,
    summary: &mut Summary,
    out: &mut Vec<Finding>,
) {
    // Members over a limit were cut by the archive reader, which reported it: the size cap's
    // truncation note does not apply, so the full size is what was read.
    let size = data.len() as u64;
    if let Some(format) = archive::detect(data) {
        if nest.depth < ctx.archives.max_depth {
            let inner = Nest {
                depth: nest.depth + 1,
                budget: nest.budget,
            };
            if scan_archive(
                ctx, format, data, size, location, filter, inner, summary, out,
            ) {
                return;
            }
        } else {
            summary.skip(
                location.name(),
                SkipReason::Archive(archive::Skip::TooDeep {
                    max: ctx.archives.max_depth,
                }),
            );
        }
    }
    scan_plain(ctx, data, size, location, filter, summary, out);
}

/// How a skip inside an archive is named: the archive, or `archive!member`.
fn member_place(archive: &str, member: Option<&str>) -> String {
    match member {
        Some(m) => format!("{archive}!{m}"),
        None => archive.to_string(),
    }
}

/// Decodes and scans one buffer that is not opened as an archive.
fn scan_plain(
    ctx: &ScanContext<'_>,
    data: &[u8],
    full_size: u64,
    location: &Location,
    filter: PathFilter<'_>,
    summary: &mut Summary,
    out: &mut Vec<Finding>,
) {
    let (text, raw) = match decode::decode(data) {
        Content::Binary => {
            summary.skip(location.name(), SkipReason::Binary);
            return;
        }
        Content::Text { bytes, encoding } => (bytes, decode::raw_too(data, encoding)),
    };
    summary.scanned += 1;
    summary.bytes += data.len() as u64;
    if full_size > data.len() as u64 {
        summary.skip(
            location.name(),
            SkipReason::Truncated {
                size: full_size,
                scanned: data.len() as u64,
            },
        );
    }
    let first = out.len();
    scan_text(ctx, &text, location, filter, summary, out);
    if let Some(raw) = raw {
        scan_text(ctx, raw, location, filter, summary, out);
    }
    if out.len() > first {
        // GitHub's line hash for SARIF, over the bytes as stored (what code scanning would hash).
        crate::finding::line_hash::add_line_hashes(data, &mut out[first..]);
        crate::pair::link(&mut out[first..]);
    }
}

/// Scans decoded `text` (or the raw bytes of a buffer that claimed an encoding) and appends its
/// findings, less what inline markers and the allow-lists drop.
fn scan_text(
    ctx: &ScanContext<'_>,
    text: &[u8],
    location: &Location,
    filter: PathFilter<'_>,
    summary: &mut Summary,
    out: &mut Vec<Finding>,
) {
    let matches = ctx.scanner.scan(text, filter);
    if matches.is_empty() {
        return;
    }
    let mut lines = LineLocator::new(text);
    let first = out.len();
    for m in &matches {
        if out.len() - first >= MAX_FINDINGS_PER_BUFFER {
            summary.skip(
                location.name(),
                SkipReason::TooManyFindings {
                    listed: MAX_FINDINGS_PER_BUFFER,
                },
            );
            break;
        }
        if ctx.inline_allow && allow::inline_allowed(text, m.secret.start) {
            summary.allowed += 1;
            continue;
        }
        if !ctx.allowlist.is_empty() {
            let line = &text[line_range(text, m.secret.start)];
            if ctx.allowlist.allows_content(&text[m.secret.clone()], line) {
                summary.allowed += 1;
                continue;
            }
        }
        let rule = ctx.scanner.rule(m.rule);
        out.push(Finding::new(
            rule,
            m,
            text,
            &mut lines,
            location,
            &ctx.fingerprint_key,
        ));
    }
}
