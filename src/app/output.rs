//! The last step of a session, the binary's terminal side: a [`Report`] rendered in the format
//! asked for, written to standard output or the `-o` file, and the exit status it calls for.
//! What the reader must also see on stderr (SARIF warnings, and with `-o` the errors and notes
//! the report file holds) goes to the [`Notes`] sink.

use std::io::Write;

use anyhow::{Context, Result};

use super::{EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, Format, Notes, ScanOptions};
use crate::finding::Redaction;
use crate::report::{self, Report};
use crate::scan::SkipReason;
use crate::term::plural;

/// Writes `report` where `opts` says, and returns the exit status it calls for.
pub fn emit(opts: &ScanOptions, report: &Report<'_>, notes: Notes<'_>) -> Result<i32> {
    let body = match opts.format {
        Format::Text => report::text::render(report, opts.redaction, opts.color),
        Format::Json => report::json::render(report, opts.redaction),
        Format::Sarif => {
            if opts.redaction == Redaction::Plain {
                notes(
                    "credsweep: note: --no-redact does not apply to SARIF: secrets are never written into it"
                        .to_string(),
                );
            }
            let r = report::sarif::render(report, opts.sarif);
            for w in &r.warnings {
                notes(format!("credsweep: warning: {}", crate::term::escape(w)));
            }
            r.body
        }
        Format::Html => {
            if opts.redaction == Redaction::Plain {
                notes(
                    "credsweep: note: --no-redact does not apply to HTML: secrets are never written into it in full"
                        .to_string(),
                );
            }
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let generated = crate::sources::history::provenance::rfc3339_utc(
                i64::try_from(now).unwrap_or(i64::MAX),
            );
            report::html::render(report, &generated)
        }
    };
    match &opts.output {
        Some(path) => {
            crate::fsutil::write_atomic(path, body.as_bytes(), None)
                .with_context(|| format!("cannot write the report to {}", path.display()))?;
            // The report file may not be read (a CI log shows stderr): what made the scan
            // incomplete, or left part of it unscanned, is said here as well.
            for line in stderr_lines(report) {
                notes(line);
            }
        }
        None => write_stdout(&body)?,
    }
    Ok(if report.summary.has_errors() {
        EXIT_ERROR
    } else if crate::verify::fails(&report.findings, &opts.verify.fail_on) {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    })
}

/// What a report written with `-o` repeats on stderr: each error and each input not scanned in
/// full, and the notes.
fn stderr_lines(report: &Report<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for k in &report.summary.skips {
        let label = match k.reason {
            SkipReason::Error(_) => "error",
            _ => "note",
        };
        out.push(format!(
            "credsweep: {label}: {}: {}",
            crate::term::escape(&k.path),
            crate::term::escape(&k.reason.to_string())
        ));
    }
    for n in &report.notes {
        out.push(format!("credsweep: note: {}", crate::term::escape(n)));
    }
    let errors = report
        .summary
        .skips
        .iter()
        .filter(|k| matches!(k.reason, SkipReason::Error(_)))
        .count();
    if errors > 0 {
        out.push(format!(
            "credsweep: the scan is incomplete: {} could not be read (exit status 2)",
            plural(errors, "input", "inputs")
        ));
    }
    out
}

/// Writes `s` to standard output; a closed pipe (`credsweep ... | head`) is the reader's choice,
/// not an error.
pub fn write_stdout(s: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("cannot write to standard output"),
    }
}
