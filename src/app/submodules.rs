//! `--recurse-submodules`: each initialised submodule's history scanned like a repository of its
//! own, its findings reported at paths under the submodule's and naming it.
//!
//! A submodule is scanned with the superproject's rules, configuration and options: it is part
//! of what the superproject ships. Its own notes are prefixed with its path; a submodule that is
//! not initialised here (no object database to read) is named in a note, and one that cannot be
//! opened or read is a reported error (exit status 2), never a silent pass. Nested submodules
//! are followed to [`MAX_DEPTH`] levels, each git directory once.

use std::collections::HashSet;
use std::path::PathBuf;

use crate::finding::{Finding, Location};
use crate::scan::{ScanContext, Skip, SkipReason};

use super::Collected;
use crate::sources::history::{self, HistoryOptions, repo, submodules};

/// How deep submodules of submodules are followed.
pub const MAX_DEPTH: usize = 8;

/// Scans the submodules of `superproject` (whose own history `c` already holds) into `c`.
pub(crate) fn scan_into(
    c: &mut Collected,
    ctx: &ScanContext<'_>,
    superproject: &gix::Repository,
    options: &HistoryOptions,
) {
    let mut seen: HashSet<PathBuf> = HashSet::new();
    if let Ok(own) = superproject.git_dir().canonicalize() {
        seen.insert(own);
    }
    visit(c, ctx, superproject, options, "", 0, &mut seen);
}

fn visit(
    c: &mut Collected,
    ctx: &ScanContext<'_>,
    repo: &gix::Repository,
    options: &HistoryOptions,
    prefix: &str,
    depth: usize,
    seen: &mut HashSet<PathBuf>,
) {
    for sub in submodules::find(repo) {
        let path = format!("{prefix}{}", sub.path);
        // The superproject's scan named every submodule as not scanned: this one is handled here.
        let unscanned = repo::not_scanned_note(&sub.path, &sub.commit);
        c.notes.retain(|n| {
            *n != format!(
                "{prefix_note}{unscanned}",
                prefix_note = note_prefix(prefix)
            )
        });
        let Some(git_dir) = sub.git_dir else {
            c.notes.push(format!(
                "submodule {path} (commit {}) is not initialised here, so its history was not scanned: run `git submodule update --init --recursive` and scan again",
                short(&sub.commit)
            ));
            continue;
        };
        let canonical = git_dir.canonicalize().unwrap_or_else(|_| git_dir.clone());
        if !seen.insert(canonical) {
            continue;
        }
        if depth >= MAX_DEPTH {
            c.summary.skips.push(Skip {
                path: format!("<submodule {path}>"),
                reason: SkipReason::Error(format!(
                    "submodules nested more than {MAX_DEPTH} deep are not scanned"
                )),
            });
            continue;
        }
        let scanned = submodules::open(&git_dir).and_then(|r| {
            let out = history::scan(ctx, &r, options)?;
            Ok((r, out))
        });
        let (sub_repo, out) = match scanned {
            Ok(x) => x,
            Err(e) => {
                c.summary.skips.push(Skip {
                    path: format!("<submodule {path}>"),
                    reason: SkipReason::Error(format!("its history could not be scanned: {e:#}")),
                });
                continue;
            }
        };
        let at = format!("{path}/");
        for mut f in out.findings {
            place_under(&mut f, &at, &path);
            c.findings.push(f);
        }
        c.summary.merge(out.summary);
        let mine = note_prefix(&at);
        c.notes
            .extend(out.notes.into_iter().map(|n| format!("{mine}{n}")));
        c.notes.push(format!(
            "submodule {path}: history scanned from its own object database ({})",
            git_dir.display()
        ));
        visit(c, ctx, &sub_repo, options, &at, depth + 1, seen);
    }
}

/// How a submodule's own notes are introduced: `submodule vendor/sdk: `.
fn note_prefix(at: &str) -> String {
    match at.strip_suffix('/') {
        Some(p) if !p.is_empty() => format!("submodule {p}: "),
        _ => String::new(),
    }
}

fn short(id: &gix::ObjectId) -> String {
    id.to_hex().to_string().chars().take(12).collect()
}

/// Puts a submodule's finding at its place in the superproject: paths under `at`
/// (`vendor/sdk/`), provenance naming the submodule `path`.
fn place_under(f: &mut Finding, at: &str, path: &str) {
    prefix_location(&mut f.location, at);
    if let Some(p) = f.provenance.as_mut() {
        p.submodule = Some(path.to_string());
        for o in &mut p.other_places {
            o.path = format!("{at}{}", o.path);
        }
    }
}

fn prefix_location(l: &mut Location, at: &str) {
    match l {
        Location::Path(p) => *p = format!("{at}{p}"),
        Location::Blob { path: Some(p), .. } => *p = format!("{at}{p}"),
        Location::Member { archive, .. } => prefix_location(archive, at),
        Location::Decoded { outer, .. } => prefix_location(outer, at),
        Location::Blob { path: None, .. } | Location::Stdin | Location::Message { .. } => {}
    }
}
