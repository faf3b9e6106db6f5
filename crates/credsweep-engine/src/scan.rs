//! Scanning one buffer: the engine's entry point for every source.
//!
//! A source (a directory walk, standard input, the index, git history, and later decoded text)
//! reads bytes and hands each buffer, with its [`Location`] and a [`ScanContext`], to
//! [`scan_buffer`]. An archive (told by its magic bytes, [`crate::archive`]) is opened in memory
//! and each member scanned as a buffer of its own at a [`Location::Member`], nested archives one
//! level deeper each, up to the depth limit. Otherwise it decodes the buffer ([`crate::scanner::decode`]), runs
//! the [`Scanner`], drops what inline markers and the [`Allowlist`] allow, and appends
//! [`Finding`]s (paired, with line hashes) and counts to a [`Summary`], which also records what
//! was skipped and why ([`SkipReason`]). A binary buffer (a NUL byte near its start) is scanned
//! for its printable strings ([`crate::binary`]), its findings placed at byte offsets; media, or
//! every binary with [`ScanContext::binary_strings`] off, is skipped.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::Range;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::allow::{self, Allowlist};
use crate::archive::{self, Budget, Event};
use crate::binary;
use crate::encoded;
use crate::finding::{Finding, LineLocator, Location, line_range};
use crate::scanner::decode::{self, Content};
use crate::scanner::{PathFilter, ScanStats, Scanner};

/// What every source needs to scan a buffer.
pub struct ScanContext<'a> {
    pub scanner: &'a Scanner,
    /// Key for findings' fingerprints.
    pub fingerprint_key: Vec<u8>,
    /// Inputs longer than this are scanned up to it; the rest is reported as not scanned
    /// (`--max-file-size`: an opt-in cap, `u64::MAX` when none was asked for).
    pub max_file_size: u64,
    /// How much of an input [`crate::window::scan_reader`] scans at once (at least eight of the
    /// scanner's longest match): [`crate::window::DEFAULT_WINDOW_SIZE`] except in tests.
    pub window_size: usize,
    /// The configuration's allow-lists.
    pub allowlist: &'a Allowlist,
    /// Honour inline markers (`credsweep:allow`, `gitleaks:allow`, ...); off for audits.
    pub inline_allow: bool,
    /// What relative paths in findings are relative to (for the allow-list's path globs).
    pub path_base: PathBuf,
    /// How many encodings deep values found in text are decoded and scanned (base64 in
    /// percent-encoding is two); 0 scans text only as written. See [`crate::encoded`].
    pub max_decode_depth: u32,
    /// Count what each rule costs into [`Summary::rule_stats`] (`--rule-stats`); off, the scan
    /// reads no clock for it.
    pub rule_stats: bool,
    /// Whether archives are opened, how deep, and under which limits.
    pub archives: archive::Options,
    /// Scan the printable strings of binary buffers ([`crate::binary`]); off
    /// (`--skip-binary`), every binary buffer is skipped, as media always is.
    pub binary_strings: bool,
    /// Give each finding GitHub's line hash ([`crate::finding::Finding::line_hash`], SARIF's
    /// `primaryLocationLineHash`). It hashes every line of the buffer up to the finding's, since
    /// the hash counts earlier lines with the same text: on a large file with a finding near its
    /// end that was a third of the scan. Only SARIF reports it.
    pub line_hashes: bool,
}

/// The decoding depth when nothing else is asked for: base64 inside percent-encoding inside a
/// JSON string is three, and deeper nesting is rare enough not to pay for.
pub const DEFAULT_MAX_DECODE_DEPTH: u32 = 3;

/// Why an input, or part of one, was not scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// Binary (a NUL byte among the first 8,000 bytes) and not scanned: media (an image,
    /// audio, video, a font), or any binary with `--skip-binary`.
    Binary,
    /// Longer than the size cap: the first `scanned` of `size` bytes were scanned.
    Truncated { size: u64, scanned: u64 },
    /// A stream (a FIFO or device named on the command line) longer than the size cap: its
    /// first `scanned` bytes were scanned.
    TruncatedStream { scanned: u64 },
    /// A git blob of `size` bytes, over the `scanned` bytes a history scan decodes of one blob
    /// in memory: only those were scanned.
    TruncatedBlob { size: u64, scanned: u64 },
    /// UTF-16 text (decoded whole, not in windows) longer than the most decoded of one input:
    /// its first `scanned` bytes were scanned.
    TruncatedUtf16 { scanned: u64 },
    /// Not a regular file (FIFO, socket, device) or a symlink not followed.
    NotAFile,
    /// An archive, or a member of one, not read (or not wholly): encrypted, corrupt, over a
    /// limit, nested too deep. Not an error: what could be read was scanned.
    Archive(archive::Skip),
    /// More findings than one buffer may report (`MAX_FINDINGS_PER_BUFFER`): the first
    /// `listed` are reported, the rest dropped. Not an error: the file was scanned.
    TooManyFindings { listed: usize },
    /// An archive too large to read whole (over the archive member size limit): scanned as
    /// plain bytes in windows, its members not opened.
    ArchiveTooLarge { limit: u64 },
    /// Could not be read: this makes the scan incomplete, and the exit status 2.
    Error(String),
}

impl SkipReason {
    /// Whether the size cap (`--max-file-size`) cut the input: the scan did not read all of it.
    pub fn is_truncation(&self) -> bool {
        matches!(
            self,
            SkipReason::Truncated { .. }
                | SkipReason::TruncatedStream { .. }
                | SkipReason::TruncatedBlob { .. }
                | SkipReason::TruncatedUtf16 { .. }
        )
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::Binary => f.write_str("binary"),
            SkipReason::Truncated { size, scanned } => write!(
                f,
                "{size} bytes, over the size cap: only the first {scanned} bytes were scanned (drop or raise --max-file-size to scan all)"
            ),
            SkipReason::TruncatedStream { scanned } => write!(
                f,
                "a stream longer than the size cap: only the first {scanned} bytes were scanned (drop or raise --max-file-size to scan all)"
            ),
            SkipReason::TruncatedBlob { size, scanned } => write!(
                f,
                "a blob of {size} bytes, over the {scanned} bytes a history scan decodes of one blob: only those were scanned (scan a checkout of it as files, which has no limit)"
            ),
            SkipReason::TruncatedUtf16 { scanned } => write!(
                f,
                "UTF-16 text longer than {scanned} bytes, the most decoded of one input: only those were scanned"
            ),
            SkipReason::ArchiveTooLarge { limit } => write!(
                f,
                "an archive over {limit} bytes, too large to open in memory: scanned as plain bytes, its members not opened"
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
    /// Binary files skipped ([`SkipReason::Binary`]).
    pub binary: u64,
    /// Binary files whose printable strings were scanned (also counted in `scanned`).
    pub binary_strings: u64,
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
    /// What each rule cost, when [`ScanContext::rule_stats`] asks (`None` otherwise, and until
    /// a buffer of text was scanned).
    pub rule_stats: Option<ScanStats>,
    /// What a history scan's blob cache saved (`credsweep git --cache`); `None` with no cache.
    pub cache: Option<CacheCounts>,
}

/// The counters of a history scan's blob cache: ids and counts, never content.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheCounts {
    /// Blobs an earlier scan under the same rules and options found clean: not read again.
    pub hits: u64,
    /// Blobs read and scanned: not in the cache, or with findings (always scanned again).
    pub misses: u64,
    /// Clean blobs this scan added to the cache.
    pub stored: u64,
    /// Cache files not used: damaged, foreign or not regular files (each named in a note).
    pub ignored: u64,
    /// Commit and tag messages an earlier scan found clean: not scanned again.
    pub messages: u64,
    /// Trees an earlier scan found to hold nothing of interest: not parsed (nor, unless a base
    /// of another, decoded) to locate findings.
    pub trees: u64,
    /// Commits an earlier scan read (their message clean): taken from the cache, not decoded.
    pub commits: u64,
}

impl CacheCounts {
    fn merge(&mut self, other: CacheCounts) {
        self.hits += other.hits;
        self.misses += other.misses;
        self.stored += other.stored;
        self.ignored += other.ignored;
        self.messages += other.messages;
        self.trees += other.trees;
        self.commits += other.commits;
    }
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
        self.binary_strings += other.binary_strings;
        self.not_files += other.not_files;
        self.allowed += other.allowed;
        self.allowed_paths += other.allowed_paths;
        self.excluded += other.excluded;
        self.below_min_severity += other.below_min_severity;
        self.skips.extend(other.skips);
        self.notes.extend(other.notes);
        match (&mut self.rule_stats, other.rule_stats) {
            (Some(mine), Some(theirs)) => mine.merge(&theirs),
            (mine @ None, theirs) => *mine = theirs,
            (Some(_), None) => {}
        }
        match (&mut self.cache, other.cache) {
            (Some(mine), Some(theirs)) => mine.merge(theirs),
            (mine @ None, theirs) => *mine = theirs,
            (Some(_), None) => {}
        }
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

    /// Counts a buffer read at `location`: `scanned` of its `full_size` bytes (less is a
    /// truncation, named).
    pub(crate) fn count_read(&mut self, location: &Location, scanned: usize, full_size: u64) {
        self.scanned += 1;
        self.bytes += scanned as u64;
        if full_size > scanned as u64 {
            self.skip(
                location.name(),
                SkipReason::Truncated {
                    size: full_size,
                    scanned: scanned as u64,
                },
            );
        }
    }

    /// Makes each truncation by the size cap an error, so that the scan does not pass
    /// (`--allow-truncation` not given): its text says what was cut and what to do.
    pub fn truncations_as_errors(&mut self) {
        for k in &mut self.skips {
            if k.reason.is_truncation() {
                k.reason = SkipReason::Error(format!(
                    "{}; the scan is incomplete: pass --allow-truncation to accept a scan cut by the size cap",
                    k.reason
                ));
            }
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
pub(crate) const MAX_FINDINGS_PER_BUFFER: usize = 100_000;

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
    scan_plain(ctx, data, full_size, location, filter, true, summary, out);
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
        summary.count_read(location, data.len(), full_size);
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
    scan_plain(ctx, data, size, location, filter, true, summary, out);
}

/// How a skip inside an archive is named: the archive, or `archive!member`.
fn member_place(archive: &str, member: Option<&str>) -> String {
    match member {
        Some(m) => format!("{archive}!{m}"),
        None => archive.to_string(),
    }
}

/// Decodes and scans one buffer that is not opened as an archive (a window of a long input,
/// [`crate::window`], is one). `fold`: the findings of rules with a `max_per_file` are folded
/// ([`Fold`]) here, the buffer being the whole input; a window's are folded by its caller, which
/// knows which of them the window owns.
#[allow(clippy::too_many_arguments)]
pub(crate) fn scan_plain(
    ctx: &ScanContext<'_>,
    data: &[u8],
    full_size: u64,
    location: &Location,
    filter: PathFilter<'_>,
    fold: bool,
    summary: &mut Summary,
    out: &mut Vec<Finding>,
) {
    let (text, raw) = match decode::decode(data) {
        Content::Binary => {
            if ctx.binary_strings && !binary::is_media(data) {
                scan_strings(ctx, data, full_size, location, filter, fold, summary, out);
            } else {
                summary.skip(location.name(), SkipReason::Binary);
            }
            return;
        }
        Content::Text { bytes, encoding } => (bytes, decode::raw_too(data, encoding)),
    };
    scan_decoded(
        ctx, data, &text, raw, full_size, location, filter, fold, summary, out,
    );
}

/// Scans `text`, what `data` decoded to (and `raw`, its raw bytes when they are worth a second
/// look), counting `data` as read. A window after the first of a text input
/// ([`crate::window`]) comes here directly: the input was judged text by its start.
#[allow(clippy::too_many_arguments)]
pub(crate) fn scan_decoded(
    ctx: &ScanContext<'_>,
    data: &[u8],
    text: &[u8],
    raw: Option<&[u8]>,
    full_size: u64,
    location: &Location,
    filter: PathFilter<'_>,
    fold: bool,
    summary: &mut Summary,
    out: &mut Vec<Finding>,
) {
    summary.count_read(location, data.len(), full_size);
    let first = scan_text_and_values(ctx, text, raw, location, filter, fold, summary, out);
    if out.len() > first {
        // GitHub's line hash for SARIF, over the bytes as stored (what code scanning would hash).
        if ctx.line_hashes {
            crate::finding::line_hash::add_line_hashes(data, &mut out[first..]);
        }
        crate::pair::link(&mut out[first..]);
    }
}

/// Scans `text` (and `raw`, the raw bytes of a buffer that claimed an encoding, if worth a second
/// look) and the values encoded in it, appending the findings; returns where they start in
/// `out`. What a text buffer and a binary's strings share; the caller places and pairs them.
#[allow(clippy::too_many_arguments)]
fn scan_text_and_values(
    ctx: &ScanContext<'_>,
    text: &[u8],
    raw: Option<&[u8]>,
    location: &Location,
    filter: PathFilter<'_>,
    fold: bool,
    summary: &mut Summary,
    out: &mut Vec<Finding>,
) -> usize {
    let first = out.len();
    if ctx.rule_stats && summary.rule_stats.is_none() {
        summary.rule_stats = Some(ScanStats::default());
    }
    let mut folding = Fold::default();
    let mut fold = fold.then_some(&mut folding);
    scan_text(
        ctx,
        text,
        location,
        filter,
        fold.as_deref_mut(),
        summary,
        out,
    );
    if let Some(raw) = raw {
        scan_text(ctx, raw, location, filter, fold, summary, out);
    }
    if ctx.max_decode_depth > 0 {
        scan_encoded(ctx, text, location, filter, summary, out, first);
    }
    first
}

/// Scans decoded `text` (or the raw bytes of a buffer that claimed an encoding) and appends its
/// findings, less what inline markers and the allow-lists drop, and, with `fold`, less what
/// it folds.
fn scan_text(
    ctx: &ScanContext<'_>,
    text: &[u8],
    location: &Location,
    filter: PathFilter<'_>,
    mut fold: Option<&mut Fold>,
    summary: &mut Summary,
    out: &mut Vec<Finding>,
) {
    // Taken out of the summary while the scanner writes to it (`None` without `--rule-stats`).
    let mut stats = summary.rule_stats.take();
    let matches = ctx.scanner.scan_with_stats(text, filter, stats.as_mut());
    summary.rule_stats = stats;
    if matches.is_empty() {
        return;
    }
    let mut lines = LineLocator::new(text);
    let mut line_at = allow::LineAt::default();
    let mut markers = allow::InlineMarkers::default();
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
        if ctx.inline_allow && markers.allowed(text, m.secret.start, &mut line_at) {
            summary.allowed += 1;
            continue;
        }
        if !ctx.allowlist.is_empty() {
            let line = &text[line_at.range(text, m.secret.start)];
            if ctx.allowlist.allows_content(m.secret_bytes(text), line) {
                summary.allowed += 1;
                continue;
            }
        }
        let rule = ctx.scanner.rule(m.rule);
        if let Some(fold) = fold.as_deref_mut()
            && !fold.admit(rule, m.rule, out)
        {
            continue;
        }
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

/// The findings of one input for rules with a `max_per_file` ([`crate::rules::RuleSpec::max_per_file`]):
/// the first that many of each such rule are reported, and each further one is counted on the
/// last of them ([`Finding::folded`]) instead of being built and reported. Findings must be
/// offered in the order they are reported.
#[derive(Debug, Default)]
pub(crate) struct Fold {
    /// For each rule with a limit that has findings: how many were reported, and where the last
    /// of them is in the output.
    reported: HashMap<crate::rules::RuleIdx, (usize, usize)>,
}

impl Fold {
    /// Whether a finding of `rule` (at `idx`) is to be reported: then the caller pushes it onto
    /// `out` next. If not, it is counted on the last one reported.
    pub(crate) fn admit(
        &mut self,
        rule: &crate::rules::Rule,
        idx: crate::rules::RuleIdx,
        out: &mut [Finding],
    ) -> bool {
        let Some(max) = rule.max_per_file else {
            return true;
        };
        let (reported, last) = self.reported.entry(idx).or_insert((0, 0));
        if *reported < max {
            *reported += 1;
            *last = out.len();
            return true;
        }
        match out.get_mut(*last) {
            Some(f) => {
                f.folded += 1;
                false
            }
            // Not where it was put (the caller dropped it): report this one in its place.
            None => {
                *last = out.len();
                true
            }
        }
    }
}

/// Scans the values encoded in `text` (base64, percent-encoding, escapes, ...; see
/// [`crate::encoded`]) as decoded, up to [`ScanContext::max_decode_depth`] encodings deep, and
/// appends what they hold that the plain scan of `text` did not find. Each value is scanned in
/// its line, the value decoded in place, so that a rule that needs context (`VOBIZ_AUTH_TOKEN:`
/// before a base64 value) has it; only matches inside the value count. A finding is placed at
/// the encoded value in `text` (its line and column), at a [`Location::Decoded`] that says how
/// it was decoded; its fingerprint is the plain secret's, so a baseline entry covers both forms.
/// A plain finding of the encoded value itself (a generic rule's "high-entropy value") is
/// dropped once the decoded value explains it.
fn scan_encoded(
    ctx: &ScanContext<'_>,
    text: &[u8],
    location: &Location,
    filter: PathFilter<'_>,
    summary: &mut Summary,
    out: &mut Vec<Finding>,
    first: usize,
) {
    // Taken out of the summary while the scanner writes to it, put back on every return.
    let mut stats = summary.rule_stats.take();
    let mut budget = encoded::Budget::for_buffer(text.len());
    let mut decoding = Decoding::new(stats.is_some());
    let mut level: Vec<Decoded> = decoding.timed(|| {
        encoded::candidates(text, &mut budget)
            .into_iter()
            .map(|c| Decoded::in_line(text, c, location))
            .collect()
    });
    if level.is_empty() {
        decoding.add_to(&mut stats);
        summary.rule_stats = stats;
        return;
    }
    // Values wholly encoded as base64 or hex that decode to text: not random, whatever their
    // entropy as written (what they hold is scanned below).
    let text_values: Vec<Range<usize>> = level
        .iter()
        .filter(|d| d.encoding == encoded::Encoding::Base64 || d.encoding == encoded::Encoding::Hex)
        .map(|d| d.span.clone())
        .collect();
    // Where each secret was found as written: a decoded value around one of them (a
    // percent-encoded URL that holds a plain token) adds nothing.
    let mut plain_at: HashMap<(crate::rules::RuleIdx, String), Vec<(u32, u32)>> = HashMap::new();
    for f in &out[first..] {
        plain_at
            .entry((f.rule, f.secret.plaintext().to_string()))
            .or_default()
            .push((f.line, f.column));
    }
    let mut seen: HashSet<(crate::rules::RuleIdx, String, usize)> = HashSet::new();
    let plain = out.len();
    let mut explained: Vec<Range<usize>> = Vec::new();
    let mut lines = LineLocator::new(text);
    for depth in 1..=ctx.max_decode_depth {
        let mut next = Vec::new();
        for d in &level {
            for m in ctx
                .scanner
                .scan_with_stats(&d.buffer, filter, stats.as_mut())
            {
                if m.secret.start < d.value.start || m.secret.end > d.value.end {
                    continue;
                }
                if out.len() - first >= MAX_FINDINGS_PER_BUFFER {
                    decoding.add_to(&mut stats);
                    summary.rule_stats = stats;
                    return;
                }
                let secret = m.secret_bytes(&d.buffer);
                let key = (m.rule, String::from_utf8_lossy(secret).into_owned());
                let (start, end) = (lines.locate(d.span.start), lines.locate(d.span.end));
                let written_here = plain_at
                    .get(&key)
                    .is_some_and(|at| at.iter().any(|p| (start..=end).contains(p)));
                // Once per secret and encoded value (nested decodings find it again).
                if written_here || !seen.insert((key.0, key.1, d.span.start)) {
                    continue;
                }
                // Markers and allow-lists are judged on the line the encoded value is on.
                if ctx.inline_allow && allow::inline_allowed(text, d.span.start) {
                    summary.allowed += 1;
                    continue;
                }
                if !ctx.allowlist.is_empty()
                    && ctx
                        .allowlist
                        .allows_content(secret, &text[line_range(text, d.span.start)])
                {
                    summary.allowed += 1;
                    continue;
                }
                let rule = ctx.scanner.rule(m.rule);
                let mut f = Finding::new(
                    rule,
                    &m,
                    &d.buffer,
                    &mut LineLocator::new(&d.buffer),
                    &d.location,
                    &ctx.fingerprint_key,
                );
                ((f.line, f.column), (f.end_line, f.end_column)) = (start, end);
                out.push(f);
                explained.push(d.span.clone());
            }
            if depth < ctx.max_decode_depth {
                decoding.timed(|| {
                    let inner = encoded::candidates(&d.buffer[d.value.clone()], &mut budget);
                    next.extend(inner.into_iter().map(|c| d.nested(c)));
                });
            }
        }
        level = next;
        if level.is_empty() {
            break;
        }
    }
    decoding.add_to(&mut stats);
    summary.rule_stats = stats;
    // Plain findings of an encoded value itself: dropped where a decoded finding explains the
    // value, and, for a rule that flags a value only for looking random (the generic rules),
    // where the value decodes to text.
    let within = |spans: &[Range<usize>], secret: &[u8]| {
        spans
            .iter()
            .any(|r| memchr::memmem::find(&text[r.clone()], secret).is_some())
    };
    let decoded: Vec<Finding> = out.drain(plain..).collect();
    let mut index = 0;
    out.retain(|f| {
        index += 1;
        let s = f.secret.plaintext().as_bytes();
        index <= first
            || !(within(&explained, s)
                || (f.rule_id.starts_with(GENERIC_RULE_PREFIX) && within(&text_values, s)))
    });
    out.extend(decoded);
}

/// The time [`scan_encoded`] spends finding and decoding values, when `--rule-stats` asks for it
/// (no clock is read otherwise).
struct Decoding {
    on: bool,
    spent: Duration,
}

impl Decoding {
    fn new(on: bool) -> Decoding {
        Decoding {
            on,
            spent: Duration::ZERO,
        }
    }

    fn timed<T>(&mut self, work: impl FnOnce() -> T) -> T {
        if !self.on {
            return work();
        }
        let started = Instant::now();
        let out = work();
        self.spent += started.elapsed();
        out
    }

    fn add_to(&self, stats: &mut Option<ScanStats>) {
        if let Some(stats) = stats {
            stats.decode += self.spent;
        }
    }
}

/// The id prefix of the rules that flag a value for its entropy and its key's name alone
/// (`generic-secret-env`, ...), with no format of their own.
const GENERIC_RULE_PREFIX: &str = "generic-";

/// How much of the line around an encoded value is scanned with it, on each side.
const DECODE_CONTEXT: usize = 256;

/// An encoded value decoded in place: `buffer` is the value's line (at most [`DECODE_CONTEXT`]
/// bytes each side) with the value replaced by what it decodes to, at `value`.
struct Decoded {
    /// The encoded value in the scanned text (for nested values, the outermost one).
    span: Range<usize>,
    /// The last encoding decoded.
    encoding: encoded::Encoding,
    location: Location,
    buffer: Vec<u8>,
    value: Range<usize>,
}

impl Decoded {
    /// Candidate `c` of `text`, decoded in its line.
    fn in_line(text: &[u8], c: encoded::Candidate, location: &Location) -> Decoded {
        let line = line_range(text, c.span.start);
        let before =
            &text[line.start.max(c.span.start.saturating_sub(DECODE_CONTEXT))..c.span.start];
        let end = c.span.end.min(text.len());
        let after_end = line.end.max(end).min(end + DECODE_CONTEXT);
        let after = &text[end..after_end];
        let mut buffer = Vec::with_capacity(before.len() + c.decoded.len() + after.len());
        buffer.extend_from_slice(before);
        buffer.extend_from_slice(&c.decoded);
        buffer.extend_from_slice(after);
        Decoded {
            value: before.len()..before.len() + c.decoded.len(),
            span: c.span,
            encoding: c.encoding,
            location: decoded_at(location, c.encoding),
            buffer,
        }
    }

    /// Candidate `c`, found in this value (`c.span` relative to it), decoded in its place.
    fn nested(&self, c: encoded::Candidate) -> Decoded {
        let start = self.value.start + c.span.start;
        let end = self.value.start + c.span.end;
        let mut buffer = Vec::with_capacity(self.buffer.len() + c.decoded.len());
        buffer.extend_from_slice(&self.buffer[..start]);
        buffer.extend_from_slice(&c.decoded);
        buffer.extend_from_slice(&self.buffer[end..]);
        Decoded {
            span: self.span.clone(),
            encoding: c.encoding,
            location: decoded_at(&self.location, c.encoding),
            value: start..start + c.decoded.len(),
            buffer,
        }
    }
}

/// `outer` as a value decoded from `encoding`.
fn decoded_at(outer: &Location, encoding: encoded::Encoding) -> Location {
    Location::Decoded {
        outer: Box::new(outer.clone()),
        encoding: encoding.as_str().to_string(),
    }
}

/// Scans the printable strings of a binary buffer ([`binary::Strings`]) as text, values in them
/// decoded as in any text, and places each finding at its byte offset in `data`
/// ([`Finding::offset`]; line 1, columns the offsets + 1). The line hash SARIF carries is that
/// of the secret's line in its string: a binary has no lines of its own, a hash of its first
/// "line" would change with any byte before the secret, and a result without one would have
/// code scanning hash the binary itself.
#[allow(clippy::too_many_arguments)]
fn scan_strings(
    ctx: &ScanContext<'_>,
    data: &[u8],
    full_size: u64,
    location: &Location,
    filter: PathFilter<'_>,
    fold: bool,
    summary: &mut Summary,
    out: &mut Vec<Finding>,
) {
    let strings = binary::Strings::extract(data);
    summary.count_read(location, data.len(), full_size);
    summary.binary_strings += 1;
    if strings.is_empty() {
        return;
    }
    let first = scan_text_and_values(
        ctx,
        &strings.text,
        None,
        location,
        filter,
        fold,
        summary,
        out,
    );
    if out.len() == first {
        return;
    }
    if ctx.line_hashes {
        crate::finding::line_hash::add_line_hashes(&strings.text, &mut out[first..]);
    }
    // Each finding's start and end, as lines and columns of the text, back to text offsets:
    // asked in order, in one walk over the text however many findings there are.
    let found = &mut out[first..];
    let mut places: Vec<((u32, u32), usize)> = Vec::with_capacity(found.len() * 2);
    for (i, f) in found.iter().enumerate() {
        places.push(((f.line, f.column), 2 * i));
        places.push(((f.end_line, f.end_column), 2 * i + 1));
    }
    places.sort_unstable();
    let mut offsets = vec![0u64; places.len()];
    let mut walk = TextWalk::new(&strings.text);
    for ((line, column), i) in places {
        offsets[i] = strings.original(walk.offset(line, column)) as u64;
    }
    let column = |offset: u64| u32::try_from(offset + 1).unwrap_or(u32::MAX);
    for (i, f) in found.iter_mut().enumerate() {
        let (mut start, end) = (offsets[2 * i], offsets[2 * i + 1].max(offsets[2 * i]));
        if end <= start {
            // A byte-mode regex can start and end a match inside one multi-byte character, and
            // columns, counted in characters, cannot tell those bytes apart: the finding is
            // given the whole character before `end`, never an empty span.
            let mut at = usize::try_from(end).unwrap_or(data.len()).min(data.len());
            at = at.saturating_sub(1);
            while at > 0 && data[at] & 0xC0 == 0x80 {
                at -= 1;
            }
            start = at as u64;
        }
        let end = end.max(start + 1);
        (f.line, f.column, f.end_line, f.end_column) = (1, column(start), 1, column(end));
        f.offset = Some(start..end);
    }
    crate::pair::link(&mut out[first..]);
}

/// Turns 1-based lines and columns (in characters, as [`LineLocator`] counts them in valid
/// UTF-8) back into byte offsets of a text, for places asked in increasing order.
struct TextWalk<'t> {
    text: &'t [u8],
    /// The line, column and byte offset the walk is at.
    line: u32,
    column: u32,
    at: usize,
}

impl<'t> TextWalk<'t> {
    fn new(text: &'t [u8]) -> TextWalk<'t> {
        TextWalk {
            text,
            line: 1,
            column: 1,
            at: 0,
        }
    }

    fn offset(&mut self, line: u32, column: u32) -> usize {
        let text = self.text;
        while self.line < line && self.at < text.len() {
            match memchr::memchr(b'\n', &text[self.at..]) {
                Some(p) => {
                    self.at += p + 1;
                    self.line += 1;
                    self.column = 1;
                }
                None => self.at = text.len(),
            }
        }
        while self.column < column && self.at < text.len() && text[self.at] != b'\n' {
            self.at += 1;
            // Past the continuation bytes of a multi-byte character.
            while self.at < text.len() && text[self.at] & 0xC0 == 0x80 {
                self.at += 1;
            }
            self.column += 1;
        }
        self.at
    }
}
