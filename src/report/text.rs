//! The text report: findings grouped by file, the way ripgrep groups matches, then what to do about
//! each kind of credential found, then one summary line.

use std::collections::BTreeSet;
use std::fmt::Write;

use super::Report;
use crate::finding::Liveness;
use crate::finding::Redaction;
use crate::finding::{Finding, Location, Provenance};
use crate::rules::Severity;
use crate::scan::SkipReason;
use crate::term::{escape as esc, plural_s};
use crate::units::human_bytes;

/// ANSI colours, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    Never,
    Ansi,
}

impl Color {
    fn paint(self, code: &str, s: &str) -> String {
        match self {
            Color::Never => s.to_string(),
            Color::Ansi => format!("\x1b[{code}m{s}\x1b[0m"),
        }
    }
}

fn severity_code(s: Severity) -> &'static str {
    match s {
        Severity::Error => "1;31",
        Severity::Warning => "1;33",
        Severity::Note => "1;36",
    }
}

/// What to do about secrets a commit did not add but that are already committed.
pub(crate) const PREEXISTING_ADVICE: &str = "They are in the repository's history already: rotate them, audit the history with \
     `credsweep git .`, and accept what is not a secret with `credsweep baseline add`.";

/// Every string from the repository (paths, names, commit data, descriptions and remediation of
/// rules from its configuration, notes, errors) is escaped ([`crate::term::escape`]): no control
/// character, bidi override or workflow command reaches the terminal or a CI log.
pub(crate) fn render(report: &Report<'_>, redaction: Redaction, color: Color) -> String {
    let mut out = String::new();
    // Findings are sorted by place name: one heading per name (history: per path, whatever blob).
    let mut last_name: Option<std::borrow::Cow<'_, str>> = None;
    for f in &report.findings {
        let name = f.location.name();
        if last_name.as_ref() != Some(&name) {
            if last_name.is_some() {
                out.push('\n');
            }
            let _ = writeln!(out, "{}", color.paint("35", &esc(&name)));
            last_name = Some(name);
        }
        // A binary has no lines: its findings are placed by byte offset.
        let pos = match &f.offset {
            Some(o) => format!("offset {}", o.start),
            None => format!("{}:{}", f.line, f.column),
        };
        let _ = writeln!(
            out,
            "{}  {}  {}  {}  {}",
            color.paint("32", &pos),
            color.paint(
                severity_code(f.severity),
                &format!("{:<7}", f.severity.as_str())
            ),
            color.paint("1", &esc(&f.rule_id)),
            esc(&f.description),
            esc(&redaction.show(&f.secret)),
        );
        let decoded = f.location.decoded();
        if !decoded.is_empty() {
            // Where to look: the value at this line and column is encoded.
            let _ = writeln!(
                out,
                "{}",
                color.paint(
                    "2",
                    &format!("    decoded from {}", esc(&decoded.join(" → ")))
                )
            );
        }
        if f.folded > 0 {
            // The rule's `max_per_file`: the rest of its findings here are only counted.
            let line = format!(
                "    and {} more of {} in this file, not listed",
                f.folded,
                esc(&f.rule_id)
            );
            let _ = writeln!(out, "{}", color.paint("2", &line));
        }
        if let Some(p) = &f.provenance {
            let mut line = String::from("    ");
            match &p.commit {
                Some(c) => {
                    // A tag message names its tag object.
                    let object = match f.location {
                        Location::Message { tag: true, .. } => "tag",
                        _ => "commit",
                    };
                    let _ = write!(line, "{object} {}", &c[..c.len().min(12)]);
                    if let Some(a) = &p.author {
                        let _ = write!(line, " by {}", esc(a));
                        if let Some(e) = &p.email {
                            let _ = write!(line, " <{}>", esc(e));
                        }
                    }
                    if let Some(d) = &p.date {
                        let _ = write!(line, " on {}", esc(d));
                    }
                    if let Some(m) = &p.message {
                        let _ = write!(line, ": {}", esc(m));
                    }
                }
                None => {
                    let _ = write!(line, "blob {}", &p.blob[..p.blob.len().min(12)]);
                }
            }
            if let Some(r) = &p.ref_name {
                let _ = write!(line, " [{}]", esc(r));
            }
            if p.other_locations > 0 {
                let _ = write!(line, " (+{} other places)", p.other_locations);
            }
            if let Some(s) = &p.submodule {
                let _ = write!(line, " (submodule {})", esc(s));
            }
            match p.in_head {
                Some(true) => line.push_str("; still at HEAD"),
                Some(false) => line.push_str("; only in history: rotate and purge"),
                None => {}
            }
            let _ = writeln!(out, "{}", color.paint("2", &line));
            if let Some(also) = other_places_line(p) {
                let _ = writeln!(out, "{}", color.paint("2", &also));
            }
        }
        pair_and_verification(&mut out, f, color);
    }

    if report.show_suppressed && !report.suppressed.is_empty() {
        if !out.is_empty() {
            out.push('\n');
        }
        let _ = writeln!(out, "{}", color.paint("1", "Suppressed by the baseline:"));
        for f in &report.suppressed {
            let _ = writeln!(
                out,
                "  {}:{}:{}  {}  {}  {}",
                esc(&f.location.name()),
                f.line,
                f.column,
                esc(&f.rule_id),
                esc(&redaction.show(&f.secret)),
                f.fingerprint
            );
        }
    }

    if !report.preexisting.is_empty() {
        if !out.is_empty() {
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "{}",
            color.paint(
                "1;33",
                "Already committed (HEAD holds these in the files you changed; they do not block this commit):"
            )
        );
        for f in &report.preexisting {
            let _ = writeln!(
                out,
                "  {}:{}:{}  {}  {}",
                esc(&f.location.name()),
                f.line,
                f.column,
                esc(&f.rule_id),
                redaction.show(&f.secret)
            );
        }
        let _ = writeln!(out, "  {}", PREEXISTING_ADVICE);
    }

    let fired: BTreeSet<&str> = report.findings.iter().map(|f| f.rule_id.as_str()).collect();
    let advice: Vec<(&str, &str)> = fired
        .iter()
        .filter_map(|id| {
            let idx = report.rules.find(id)?;
            let r = report.rules.get(idx).remediation.as_deref()?;
            Some((*id, r))
        })
        .collect();
    if !advice.is_empty() {
        out.push('\n');
        let _ = writeln!(out, "{}", color.paint("1", "What to do:"));
        for (id, r) in advice {
            let _ = writeln!(out, "  {}: {}", esc(id), esc(r.trim()));
        }
    }

    let s = &report.summary;
    if !s.skips.is_empty() {
        out.push('\n');
        for k in &s.skips {
            let label = match k.reason {
                SkipReason::Error(_) => color.paint("1;31", "error"),
                _ => color.paint("1;33", "note"),
            };
            let _ = writeln!(
                out,
                "{label}: {}: {}",
                esc(&k.path),
                esc(&k.reason.to_string())
            );
        }
    }
    for n in &report.notes {
        let _ = writeln!(out, "{}: {}", color.paint("1;33", "note"), esc(n));
    }

    if !out.is_empty() {
        out.push('\n');
    }
    let n = report.findings.len();
    // Commit and tag messages are counted apart from the files (or blobs) they are not.
    let messages: BTreeSet<_> = report
        .findings
        .iter()
        .filter_map(|f| match f.location.undecoded() {
            Location::Message { object, .. } => Some(object),
            _ => None,
        })
        .collect();
    let files: BTreeSet<_> = report
        .findings
        .iter()
        .filter(|f| !matches!(f.location.undecoded(), Location::Message { .. }))
        .map(|f| f.location.name())
        .collect();
    let unit = match report.kind {
        super::ScanKind::History => "blob",
        _ => "file",
    };
    let places = if messages.is_empty() {
        format!(
            "{} {unit}{}",
            files.len(),
            if files.len() == 1 { "" } else { "s" }
        )
    } else if files.is_empty() {
        plural_s(messages.len(), "message")
    } else {
        format!(
            "{} {unit}{} and {}",
            files.len(),
            if files.len() == 1 { "" } else { "s" },
            plural_s(messages.len(), "message")
        )
    };
    let commits = s
        .commits
        .map(|c| format!(" from {}", plural_s(c as usize, "commit")))
        .unwrap_or_default();
    let _ = write!(
        out,
        "{} in {}; scanned {} {}{}{}, {} in {:.2} s",
        plural_s(n, "finding"),
        places,
        s.scanned,
        unit,
        if s.scanned == 1 { "" } else { "s" },
        commits,
        human_bytes(s.bytes),
        report.elapsed.as_secs_f64(),
    );
    // Pairs, as the verification line on stderr counts them: a pair is one credential, however
    // many files hold it and though both its halves are findings.
    let active = crate::verify::pairs_with(&report.findings, Liveness::Active);
    if active > 0 {
        let _ = write!(
            out,
            "; {}",
            color.paint(
                "1;31",
                &format!("{} verified active", plural_s(active, "credential pair"))
            )
        );
    }
    if !report.suppressed.is_empty() {
        let _ = write!(
            out,
            "; {} suppressed by the baseline",
            report.suppressed.len()
        );
    }
    if !report.preexisting.is_empty() {
        let _ = write!(
            out,
            "; {} already committed (not blocking)",
            report.preexisting.len()
        );
    }
    if s.allowed > 0 {
        let _ = write!(
            out,
            "; {} allowed inline or by the configuration",
            s.allowed
        );
    }
    if s.allowed_paths > 0 {
        let _ = write!(
            out,
            "; {} allowed by path",
            plural_s(s.allowed_paths as usize, unit)
        );
    }
    if s.excluded > 0 {
        // History drops findings by path (blobs are read before their paths are known).
        let what = match report.kind {
            super::ScanKind::History => "finding",
            _ => unit,
        };
        let _ = write!(out, "; {} excluded", plural_s(s.excluded as usize, what));
    }
    if s.below_min_severity > 0 {
        let _ = write!(
            out,
            "; {} below the minimum severity",
            plural_s(s.below_min_severity as usize, "finding")
        );
    }
    if s.binary_strings > 0 {
        let _ = write!(
            out,
            "; scanned {} as strings",
            plural_s(s.binary_strings as usize, &format!("binary {unit}"))
        );
    }
    if s.binary > 0 {
        let _ = write!(out, "; skipped {} binary", s.binary);
    }
    if s.not_files > 0 {
        let _ = write!(
            out,
            "; skipped {} not regular {}",
            s.not_files,
            if s.not_files == 1 { "file" } else { "files" }
        );
    }
    let errors = s
        .skips
        .iter()
        .filter(|k| matches!(k.reason, SkipReason::Error(_)))
        .count();
    if errors > 0 {
        let _ = write!(out, "; {} could not be read", errors);
    }
    out.push('\n');
    if let Some(c) = &s.cache {
        let _ = writeln!(
            out,
            "cache: {} known clean (not read), {} scanned, {} added; {}, {} and {} known clean{}",
            plural_s(c.hits as usize, "blob"),
            c.misses,
            c.stored,
            plural_s(c.messages as usize, "message"),
            plural_s(c.trees as usize, "tree"),
            plural_s(c.commits as usize, "commit"),
            if c.ignored > 0 {
                format!(", {} ignored", plural_s(c.ignored as usize, "file"))
            } else {
                String::new()
            }
        );
    }
    if let Some(footer) = report.footer.as_deref().filter(|_| n > 0) {
        out.push('\n');
        out += footer.trim_end();
        out.push('\n');
    }
    out
}

/// How many of a history finding's other places the text report names (JSON lists more).
const TEXT_LISTED_PLACES: usize = 3;

/// `    also at: a.env (commit 0123456789ab), b.env (commit …) and 97 more`, for a history finding
/// with other places.
fn other_places_line(p: &Provenance) -> Option<String> {
    if p.other_places.is_empty() {
        return None;
    }
    let shown = &p.other_places[..p.other_places.len().min(TEXT_LISTED_PLACES)];
    let mut line = String::from("    also at: ");
    for (i, o) in shown.iter().enumerate() {
        if i > 0 {
            line.push_str(", ");
        }
        line.push_str(&esc(&o.path));
        match &o.commit {
            // A message place (no blob) names its object already.
            Some(_) if o.blob.is_empty() => {}
            Some(c) => {
                let _ = write!(line, " (commit {})", &c[..c.len().min(12)]);
            }
            None => {
                let _ = write!(line, " (blob {})", &o.blob[..o.blob.len().min(12)]);
            }
        }
    }
    let more = p.other_locations.saturating_sub(shown.len());
    if more > 0 {
        let _ = write!(line, " and {more} more");
    }
    Some(line)
}

/// The lines under a finding that name the other half of its Vobiz pair and what `--verify`
/// found.
fn pair_and_verification(out: &mut String, f: &Finding, color: Color) {
    if let Some(p) = &f.pair {
        let line = format!(
            "    paired with {} at {}:{}",
            esc(&p.rule_id),
            p.line,
            p.column
        );
        let _ = writeln!(out, "{}", color.paint("2", &line));
    }
    if let Some(v) = &f.verification {
        let line = match v.outcome {
            Liveness::Active => format!(
                "    verified ACTIVE ({}): this credential works: rotate it now",
                esc(&v.detail)
            ),
            Liveness::Inactive => format!(
                "    verified inactive ({}): the API rejected it; remove it all the same",
                esc(&v.detail)
            ),
            Liveness::Unknown => format!("    verification unknown ({})", esc(&v.detail)),
            Liveness::Unverifiable => format!("    not verifiable: {}", esc(&v.detail)),
        };
        let code = match v.outcome {
            Liveness::Active => "1;31",
            _ => "2",
        };
        let _ = writeln!(out, "{}", color.paint(code, &line));
    }
}
