//! A scan of part of history: `--range base..tip`, `--since base`, and what pushing `tip` sends
//! (every remote-tracking ref as the base). The same phases as a whole-history scan, each
//! narrowed to the range:
//!
//! 1. enumerate: the commits in `tip` but not in a base ([`commits`]), and the blobs they
//!    introduced that no base has ([`introduced`]), each at its first (path, commit);
//! 2. scan those blobs ([`blobs::scan_listed`]; path-scoped rules only on those introduced at a
//!    path they name), keeping only secrets new to their file
//!    ([`drop_old_secrets`]);
//! 3. locate: the places are known from step 1, the head is `tip`;
//! 4. group ([`group::findings`]).
//!
//! Beside the blobs, the message of each commit of the range, and of the annotated tag `tip`
//! names (a pushed tag), is scanned ([`messages`]).

use anyhow::{Context, Result, bail};
use gix::ObjectId;
use gix::bstr::BString;
use gix::hashtable::{HashMap, HashSet};
use gix::objs::{Find, Kind};

use super::blobs::{self, BlobFindings};
use super::graph::{CommitGraph, CommitIdx, RawCommit, ReadCommitError};
use super::locate::{self, Located, Places};
use super::provenance::CommitInfo;
use super::{HistoryScan, ObjectError, group, messages, odb, refs, scoped, walk};
use crate::finding::Fingerprint;
use crate::scan::ScanContext;

/// Which range to scan.
pub(crate) struct Options<'a> {
    /// The base, or `None` for every remote-tracking ref.
    pub base: Option<&'a str>,
    pub tip: &'a str,
    pub threads: usize,
}

/// Scans the blobs the commits of the range introduced.
pub(crate) fn scan(
    ctx: &ScanContext<'_>,
    repo: &gix::Repository,
    opts: &Options<'_>,
    errors: &mut Vec<ObjectError>,
    mut notes: Vec<String>,
) -> Result<HistoryScan> {
    let base_ids = match opts.base {
        Some(b) => vec![resolve(repo, b)?],
        None => remote_tracking_commits(repo),
    };
    let tip_id = resolve(repo, opts.tip)?;
    let range = commits(repo, &base_ids, tip_id, errors)?;
    let already = base_blobs(repo, &base_ids, errors);
    let found = introduced(repo, &range, &already, opts.tip, errors);

    let ids: Vec<ObjectId> = found.places.keys().copied().collect();
    let bounded = odb::BoundedBlobs::new(repo, super::blobs::blob_cap(ctx))?;
    // Path-scoped rules run on the blobs introduced at a path they name.
    let at_scoped: HashSet<ObjectId> = match scoped::ScopedPaths::of(ctx.scanner) {
        Some(scoped) => found
            .places
            .iter()
            .filter(|(_, ps)| ps.iter().any(|p| scoped.matches(&p.path)))
            .map(|(b, _)| *b)
            .collect(),
        None => HashSet::default(),
    };
    let (mut scanned, scan_errors) =
        blobs::scan_listed(ctx, &bounded, &ids, &at_scoped, opts.threads)?;
    errors.extend(scan_errors);
    drop_old_secrets(ctx, &bounded, &mut scanned.blobs, found.previous);

    notes.push(format!(
        "{}: {}, {} they introduced",
        describe(opts, &base_ids),
        crate::term::plural(range.order.len(), "commit", "commits"),
        crate::term::plural(ids.len(), "blob", "blobs")
    ));
    let head = locate::at_head(repo, Some(tip_id), &scanned.targets(), &mut notes);
    let mut info = CommitInfo::new(repo);
    let findings = group::findings(
        ctx,
        scanned.blobs,
        found.places,
        &mut info,
        &group::Options {
            head: head.as_ref(),
        },
    )
    .into_findings(&mut scanned.summary);
    let mut findings = findings;
    findings.extend(range_messages(
        ctx,
        repo,
        &range,
        opts.tip,
        &mut scanned.summary,
    ));
    scanned.summary.commits = Some(range.order.len() as u64);
    Ok(HistoryScan {
        findings,
        summary: scanned.summary,
        notes,
    })
}

/// The findings in the messages of the range's commits, and of the annotated tags `tip` names
/// (pushing a tag sends its message), each named by `tip`.
fn range_messages(
    ctx: &ScanContext<'_>,
    repo: &gix::Repository,
    range: &RangeCommits,
    tip: &str,
    summary: &mut crate::scan::Summary,
) -> Vec<crate::finding::Finding> {
    let mut ids: Vec<ObjectId> = range.order.iter().map(|&c| range.graph.id(c)).collect();
    ids.extend(messages::tags_named(repo, tip));
    let found = messages::scan_listed(ctx, repo, &ids);
    messages::findings(ctx, found, |_, _| tip.to_string(), summary)
}

/// The commit `spec` names (a tag is peeled to its commit).
fn resolve(repo: &gix::Repository, spec: &str) -> Result<ObjectId> {
    let id = repo
        .rev_parse_single(spec)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("cannot resolve {spec:?}: name a branch, tag or commit that exists in this repository"))?;
    let (id, kind) = refs::peel(repo, id.detach()).map_err(|e| anyhow::anyhow!("{spec}: {e}"))?;
    if kind != Kind::Commit {
        bail!("{spec} names a {kind}, not a commit");
    }
    Ok(id)
}

/// The commits of a range, as a graph of their own.
struct RangeCommits {
    by_id: HashMap<ObjectId, RawCommit>,
    graph: CommitGraph,
    /// Parents first, oldest first.
    order: Vec<CommitIdx>,
}

/// The commits reachable from `tip` and from none of `bases`.
fn commits(
    repo: &gix::Repository,
    bases: &[ObjectId],
    tip: ObjectId,
    errors: &mut Vec<ObjectError>,
) -> Result<RangeCommits> {
    let walk = repo
        .rev_walk([tip])
        .with_hidden(bases.iter().copied())
        .all()
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("cannot walk the range")?;
    let mut raw = Vec::new();
    let mut buf = Vec::new();
    for info in walk {
        let info = info
            .map_err(|e| anyhow::anyhow!("{e}"))
            .context("cannot walk the range")?;
        let id = info.id;
        match repo.objects.try_find(&id, &mut buf) {
            Ok(Some(d)) => match RawCommit::parse(id, d.data, repo.object_hash()) {
                Ok(c) => raw.push(c),
                Err(e) => errors.push(e.into()),
            },
            _ => errors.push(ObjectError::new(id, format!("commit {id} cannot be read"))),
        }
    }
    let by_id: HashMap<ObjectId, RawCommit> = raw.iter().map(|c| (c.id, c.clone())).collect();
    // Parents outside the range are the boundary: not missing, just not ours.
    let in_range: HashSet<ObjectId> = by_id.keys().copied().collect();
    let graph = CommitGraph::build(raw, &in_range, &mut Vec::new());
    let order = graph.topo(|_| true);
    Ok(RangeCommits {
        by_id,
        graph,
        order,
    })
}

/// Every blob the trees of `bases` hold. One walker for all bases: the trees remote-tracking
/// refs share are read once.
fn base_blobs(
    repo: &gix::Repository,
    bases: &[ObjectId],
    errors: &mut Vec<ObjectError>,
) -> HashSet<ObjectId> {
    let mut already: HashSet<ObjectId> = HashSet::default();
    let mut walker = walk::TreeWalker::new(repo);
    for &b in bases {
        if let Some(tree) = tree_of(repo, b, errors) {
            let what = || format!("tree {tree}");
            walker.walk(tree, &what, |_, _, blob| {
                already.insert(blob);
            });
        }
    }
    errors.append(&mut walker.errors);
    already
}

/// What the commits of a range introduced.
struct Introductions {
    /// Each new blob at the first (path, commit) of each path it was introduced at.
    places: Places,
    /// For each new blob, the blobs it replaced at its paths.
    previous: HashMap<ObjectId, Vec<ObjectId>>,
}

/// The blobs the commits of `range` introduced (merges included) that no base holds, in commit
/// order: the first introduction of each (blob, path).
fn introduced(
    repo: &gix::Repository,
    range: &RangeCommits,
    already: &HashSet<ObjectId>,
    tip: &str,
    errors: &mut Vec<ObjectError>,
) -> Introductions {
    let mut parent_trees: HashMap<ObjectId, Option<ObjectId>> = HashMap::default();
    let mut all = Vec::new();
    for &c in &range.order {
        let id = range.graph.id(c);
        let commit = &range.by_id[&id];
        let parents: Vec<ObjectId> = commit
            .parents
            .iter()
            .filter_map(|p| match range.by_id.get(p) {
                Some(pc) => Some(pc.tree),
                None => *parent_trees
                    .entry(*p)
                    .or_insert_with(|| tree_of(repo, *p, errors)),
            })
            .collect();
        walk::introduced_by(repo, id, commit.tree, &parents, &mut all, errors);
    }
    let seq_of: HashMap<ObjectId, usize> = range
        .order
        .iter()
        .enumerate()
        .map(|(i, &c)| (range.graph.id(c), i))
        .collect();
    let mut out = Introductions {
        places: HashMap::default(),
        previous: HashMap::default(),
    };
    let mut placed: std::collections::HashSet<(ObjectId, BString)> = Default::default();
    for i in all {
        if already.contains(&i.blob) {
            continue;
        }
        out.previous
            .entry(i.blob)
            .or_default()
            .extend(i.previous.iter().copied());
        let list = out.places.entry(i.blob).or_default();
        if !placed.insert((i.blob, i.path.clone())) {
            continue;
        }
        list.push(Located {
            path: i.path,
            commit: Some(i.commit),
            ref_name: tip.to_string(),
            seq: seq_of[&i.commit],
        });
    }
    out
}

/// A secret the replaced version of the file already held was not introduced by the range (a
/// line next to it changed): only secrets new to their file are kept.
fn drop_old_secrets(
    ctx: &ScanContext<'_>,
    bounded: &odb::BoundedBlobs,
    found: &mut Vec<BlobFindings>,
    mut previous: HashMap<ObjectId, Vec<ObjectId>>,
) {
    let mut old_secrets: HashMap<ObjectId, Vec<Fingerprint>> = HashMap::default();
    for prevs in previous.values_mut() {
        // One replaced version at many paths is one version to compare against.
        prevs.sort_unstable();
        prevs.dedup();
    }
    for (blob, found) in found.iter_mut() {
        let mut before = std::collections::BTreeSet::new();
        for prev in previous.get(blob).map(Vec::as_slice).unwrap_or_default() {
            let fps = old_secrets
                .entry(*prev)
                .or_insert_with(|| blobs::fingerprints_of(ctx, bounded, *prev));
            before.extend(fps.iter().cloned());
        }
        found.retain(|f| !before.contains(&f.fingerprint));
    }
    found.retain(|(_, f)| !f.is_empty());
}

/// What the note says was scanned.
fn describe(opts: &Options<'_>, bases: &[ObjectId]) -> String {
    let tip = opts.tip;
    match opts.base {
        Some(base) => format!("range {base}..{tip}"),
        None if bases.is_empty() => {
            format!("{tip}, all new (there are no remote-tracking refs)")
        }
        None => format!(
            "{tip} less what the remote-tracking refs ({}) have",
            bases.len()
        ),
    }
}

/// The commits remote-tracking refs (`refs/remotes/*`) name: what the remotes already have.
/// A ref that cannot be read is left out, which can only widen the scan.
fn remote_tracking_commits(repo: &gix::Repository) -> Vec<ObjectId> {
    let (tips, _) = refs::tips(repo);
    tips.iter()
        .filter(|t| t.kind == Kind::Commit && t.name.starts_with("refs/remotes/"))
        .map(|t| t.target)
        .collect()
}

/// The tree of commit `id`.
fn tree_of(
    repo: &gix::Repository,
    id: ObjectId,
    errors: &mut Vec<ObjectError>,
) -> Option<ObjectId> {
    match RawCommit::read(repo, id, &mut Vec::new()) {
        Ok(c) => Some(c.tree),
        Err(ReadCommitError::Corrupt(e)) => {
            errors.push(e.into());
            None
        }
        Err(_) => {
            errors.push(ObjectError::new(id, format!("commit {id} cannot be read")));
            None
        }
    }
}
