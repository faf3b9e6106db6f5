//! `credsweep baseline add` and `baseline prune`: a session that scans like `dir` (or, for the
//! history, like `git`) and then updates the baseline instead of reporting. What changed is said
//! line by line to the [`Notes`] sink.

use anyhow::{Result, bail};

use super::{Collected, EXIT_CLEAN, Notes, Outcome, ScanOptions, Scanned, Source, collect};
use crate::baseline::{self, Baseline, Scope};
use crate::scan::SkipReason;
use crate::term::{escape, plural};

/// Which update.
#[derive(Debug, Clone)]
pub enum Update {
    /// Accept every finding, with this reason on each new entry.
    Add { reason: Option<String> },
    /// Drop the entries that match no finding in the scope the scan covered.
    Prune,
    /// Accept the findings gitleaks' ignore file names (`baseline import`), with this reason;
    /// the entries no finding matches are listed as not found.
    Import {
        entries: Vec<baseline::IgnoreEntry>,
        reason: Option<String>,
    },
}

/// Scans `source` (a tree or the whole history) with `opts` and applies `update` to the
/// baseline.
pub fn run(
    opts: &ScanOptions,
    source: Source,
    update: Update,
    notes: Notes<'_>,
) -> Result<Outcome> {
    let (setup, mut collected) = collect(opts, source)?;
    let rule_stats = super::take_rule_stats(opts, &setup, &mut collected);
    let Collected {
        mut findings,
        summary,
        scanned,
        path_base,
        ..
    } = collected;
    let scope = match &scanned {
        Scanned::FullHistory => Scope::History,
        _ => Scope::Tree,
    };
    if summary.has_errors() {
        for k in summary
            .skips
            .iter()
            .filter(|k| matches!(k.reason, SkipReason::Error(_)))
        {
            notes(format!(
                "credsweep: error: {}: {}",
                escape(&k.path),
                escape(&k.reason.to_string())
            ));
        }
        bail!("the scan could not read everything, so the baseline was not changed");
    }
    // `add` accepts what the scan reports; `prune` judges on everything it saw, so that an
    // entry below the severity threshold is not taken for gone.
    if let Update::Add { .. } | Update::Import { .. } = update {
        findings.retain(|f| setup.reports_severity_of(opts, f));
    }
    // `import`: only the findings an ignore entry names, each entry said found or not.
    let mut not_found = Vec::new();
    if let Update::Import { entries, .. } = &update {
        let mut matched = vec![false; entries.len()];
        findings.retain(|f| {
            let path = setup.baseline_entry_path(f, &path_base);
            let commit = f.provenance.as_ref().and_then(|p| p.commit.as_deref());
            let mut any = false;
            for (i, e) in entries.iter().enumerate() {
                if e.matches(&f.rule_id, &path, f.line as usize, commit) {
                    matched[i] = true;
                    any = true;
                }
            }
            any
        });
        not_found = entries
            .iter()
            .zip(&matched)
            .filter(|(_, m)| !**m)
            .map(|(e, _)| e.to_string())
            .collect();
    }
    let path = setup.baseline_path(opts);
    // Both commands write the baseline (and `.gitattributes`): refuse links before reading.
    baseline::check_writable(&path)?;
    let mut b = if std::fs::symlink_metadata(&path).is_ok() {
        let b = Baseline::load(&path)?;
        b.check_key(&setup.fingerprint_key(), &path)?;
        b
    } else {
        Baseline::default()
    };
    b.set_key(&setup.fingerprint_key());
    match update {
        Update::Add { reason } | Update::Import { reason, .. } => {
            for e in &not_found {
                notes(format!(
                    "credsweep: not found (no finding of that rule on that line): {}",
                    escape(e)
                ));
            }
            let added = b.add(&findings, scope, reason.as_deref(), |f| {
                setup.baseline_entry_path(f, &path_base)
            });
            b.save(&path)?;
            notes(format!(
                "credsweep: {}, {} in all, in {} (scope {})",
                plural(added, "new entry", "new entries"),
                b.len(),
                escape(&path.display().to_string()),
                scope.as_str()
            ));
            if let Some(attrs) = baseline::ensure_union_merge(&path)? {
                notes(format!(
                    "credsweep: added `merge=union` for the baseline to {}, so branches that add entries merge cleanly",
                    escape(&attrs.display().to_string())
                ));
            }
        }
        Update::Prune => {
            let cov = setup.coverage(opts, &scanned);
            if cov.is_none() {
                bail!(
                    "baseline prune needs a scan of the whole tree (`credsweep baseline prune` at the \
                     repository's top, no --exclude) or of the whole history (`credsweep baseline prune \
                     --git`): an entry this scan does not see may live elsewhere, so nothing was dropped"
                );
            }
            let pruned = b.prune(&findings, cov);
            b.save(&path)?;
            for e in &pruned.dropped {
                notes(format!(
                    "credsweep: dropped {} ({} in {})",
                    e.fingerprint,
                    escape(&e.rule),
                    escape(&e.path)
                ));
            }
            for (e, gone) in &pruned.narrowed {
                let gone: Vec<&str> = gone.iter().map(|s| s.as_str()).collect();
                let kept: Vec<&str> = e.scope.iter().map(|s| s.as_str()).collect();
                notes(format!(
                    "credsweep: {} ({} in {}) is gone from the {} but kept for the {}",
                    e.fingerprint,
                    escape(&e.rule),
                    escape(&e.path),
                    gone.join(", "),
                    kept.join(", ")
                ));
            }
            let other = if cov.history {
                "tree entries were not judged (run it without --git for those)"
            } else {
                "history entries were not judged (run it with --git for those)"
            };
            notes(format!(
                "credsweep: {} dropped, {} kept, in {}; {other}",
                plural(pruned.dropped.len(), "stale entry", "stale entries"),
                b.len(),
                escape(&path.display().to_string())
            ));
            let unscoped = b.unscoped();
            if unscoped > 0 {
                notes(format!(
                    "credsweep: note: {} no recorded scope (written by an older credsweep) and no scan \
                     has seen them since; they are never dropped automatically: check them and remove \
                     them by hand",
                    plural(unscoped, "entry has", "entries have")
                ));
            }
        }
    }
    Ok(Outcome {
        status: EXIT_CLEAN,
        rule_stats,
    })
}
