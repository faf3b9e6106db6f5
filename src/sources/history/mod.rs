//! The git-history source: every blob in a repository's object database, scanned once, with
//! provenance for what is found.
//!
//! A leaked token stays in history after the file is deleted, in branches never merged, in the
//! stash, in content only a merge resolution wrote, and in commits no ref reaches any more. So
//! the default scan reads the object database itself ([`odb`]) rather than walking commits: each
//! distinct blob is decoded and scanned once, whatever reaches it.
//!
//! Paths and commits are only needed for blobs with findings, so provenance is worked out
//! afterwards, for those blobs alone ([`walk::places`]): a clean history pays for no tree walk.
//! Then the same secret found in many blobs (every later version of a config file still holds
//! it) becomes one finding, at its first appearance, with a count of the other places.
//!
//! - [`repo`]: opening a repository isolated from global config; shallow and submodule notes.
//! - [`refs`]: the tips history starts from, in the order provenance names them.
//! - [`odb`]: the all-blob pass over packs (as delta trees) and loose objects.
//! - [`graph`]: the commit graph in memory: reachability, topological order.
//! - [`walk`]: tree walks: reachable blobs, first places of blobs, what a range introduced.
//! - [`provenance`]: author, date and subject of the commits findings name.
//! - [`head`]: whether the blobs with findings are still in the scanned head's tree.
//! - [`progress`]: the stderr progress bar.

pub mod audit;
pub mod graph;
pub mod head;
pub mod odb;
pub mod progress;
pub mod provenance;
pub mod refs;
pub mod repo;
pub mod walk;

use std::collections::BTreeMap;
use std::sync::Mutex;

use anyhow::{Context, Result, bail};
use gix::ObjectId;
use gix::bstr::BString;
use gix::hashtable::{HashMap, HashSet};
use gix::objs::{Find, Kind};
use rayon::prelude::*;

use self::graph::{CommitGraph, RawCommit};
use self::head::HeadBlobs;
use self::progress::Progress;
use self::provenance::CommitInfo;
use self::refs::Tip;
use super::{ScanContext, SkipReason, Summary, scan_buffer};
use crate::finding::{Finding, Location, MAX_LISTED_PLACES, MAX_LISTED_PLACES_TOTAL, OtherPlace};
use crate::rules::RuleIdx;
use crate::scanner::PathFilter;

/// A blob's object id: the unit history scanning deduplicates on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobId(pub ObjectId);

/// An object that could not be read. The scan goes on without it, and ends with exit status 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectError {
    pub id: Option<ObjectId>,
    pub message: String,
}

impl ObjectError {
    pub fn new(id: ObjectId, message: impl Into<String>) -> Self {
        ObjectError {
            id: Some(id),
            message: message.into(),
        }
    }

    pub fn other(message: impl Into<String>) -> Self {
        ObjectError {
            id: None,
            message: message.into(),
        }
    }
}

/// Which part of history to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every blob in the object database, reachable or not.
    All,
    /// Only blobs that refs reach (`--reachable-only`).
    ReachableOnly,
    /// Only blobs that commits in `tip` but not in `base` introduced (`--range base..tip`,
    /// `--since base`).
    Range { base: String, tip: String },
    /// Only blobs that commits reachable from `tip` but from no remote-tracking ref
    /// (`refs/remotes/*`) introduced: what pushing a new branch sends.
    Unpushed { tip: String },
}

impl Selection {
    /// `A..B` as given to `--range`.
    pub fn parse_range(spec: &str) -> Result<Selection> {
        if spec.contains("...") {
            bail!(
                "--range takes A..B (two dots): the commits in B that are not in A; A...B is not supported"
            );
        }
        match spec.split_once("..") {
            Some((a, b)) if !a.is_empty() => Ok(Selection::Range {
                base: a.to_string(),
                tip: if b.is_empty() {
                    "HEAD".to_string()
                } else {
                    b.to_string()
                },
            }),
            _ => bail!("--range takes A..B, e.g. origin/main..HEAD; got {spec:?}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct HistoryOptions {
    pub selection: Selection,
    pub threads: usize,
    /// Draw progress on stderr.
    pub progress: bool,
    /// In a partial clone, blobs it was cloned without are a note, not an error.
    pub allow_missing_promised: bool,
}

/// A finished history scan.
pub struct HistoryScan {
    pub findings: Vec<Finding>,
    /// Also says how many commits the scan covered (`Summary::commits`).
    pub summary: Summary,
    /// Things the reader must know: shallow clone, submodules not scanned, the range scanned.
    pub notes: Vec<String>,
}

/// Scans the history of `repo` (opened with [`repo::open`]).
pub fn scan(
    ctx: &ScanContext<'_>,
    repo: &gix::Repository,
    opts: &HistoryOptions,
) -> Result<HistoryScan> {
    odb::refuse_blocking_loose_objects(repo)?;
    let mut notes = repo::notes(repo);
    let mut progress = Progress::new(opts.progress);
    let shallow = shallow_commits(repo);
    let mut errors = Vec::new();

    let out = match &opts.selection {
        Selection::All | Selection::ReachableOnly => {
            let reachable_only = opts.selection == Selection::ReachableOnly;
            let (tips, ref_errors) = refs::tips(repo);
            errors.extend(ref_errors);
            // With --reachable-only, what refs reach decides what is read at all.
            let (pre_graph, only) = if reachable_only {
                progress.phase("finding reachable blobs");
                let commit_tips = tips
                    .iter()
                    .filter(|t| t.kind == Kind::Commit)
                    .map(|t| t.target);
                let graph = CommitGraph::load(repo, commit_tips, &shallow, &mut errors);
                // Oldest first: consecutive commits share most trees, and their deltas share bases,
                // so the pack cache stays warm (random order is several times slower).
                let order = graph.topo(|_| true);
                let (trees, blobs) = non_commit_tips(&tips);
                let (set, walk_errors) =
                    walk::reachable_blobs(repo, &graph, &order, &trees, &blobs);
                errors.extend(walk_errors);
                (Some(graph), Some(set))
            } else {
                (None, None)
            };
            progress.spawn_ticker();
            let hits = Mutex::new(Hits::default());
            let visitor = BlobScan {
                ctx,
                shared: &hits,
                local: Hits::default(),
            };
            let outcome = odb::visit_blobs(
                repo,
                &odb::Options {
                    threads: opts.threads,
                    only: only.as_ref(),
                    progress: &progress,
                    max_blob: ctx.max_file_size,
                },
                visitor,
            )?;
            progress.finish_counting();
            errors.extend(outcome.errors);
            let mut hits = hits.into_inner().unwrap_or_else(|p| p.into_inner());
            let graph = match pre_graph {
                Some(g) => g,
                None => CommitGraph::build(outcome.commits, &shallow, &mut errors),
            };
            let label = graph.reach(&tips);
            let commits = graph.len() as u64;
            let findings = if hits.blobs.is_empty() {
                Vec::new()
            } else {
                progress.phase(&format!(
                    "finding where {} with findings {} committed",
                    crate::term::plural(hits.blobs.len(), "blob", "blobs"),
                    if hits.blobs.len() == 1 { "was" } else { "were" }
                ));
                let targets: HashSet<ObjectId> = hits.blobs.iter().map(|(b, _)| *b).collect();
                let located = locate_in_history(repo, &graph, &tips, &label, &targets, &mut errors);
                let head = head_blobs(repo, head::head_commit(repo), &targets, &mut notes);
                let mut info = CommitInfo::new(repo);
                group_findings(
                    ctx,
                    hits.blobs,
                    located,
                    head.as_ref(),
                    &mut info,
                    &mut hits.summary,
                )
            };
            let unreachable = label.iter().filter(|l| l.is_none()).count();
            notes.push(format!(
                "history: {} commit{} from {} ref{}{}; each distinct blob read once",
                graph.len(),
                if graph.len() == 1 { "" } else { "s" },
                tips.len(),
                if tips.len() == 1 { "" } else { "s" },
                if reachable_only {
                    " (reachable only)"
                } else {
                    ""
                }
            ));
            if !reachable_only && unreachable > 0 {
                notes.push(format!(
                    "{} no ref reaches (dangling, or only in reflogs) {} scanned too; --reachable-only leaves them out",
                    crate::term::plural(unreachable, "commit", "commits"),
                    if unreachable == 1 { "was" } else { "were" }
                ));
            }
            hits.summary.commits = Some(commits);
            HistoryScan {
                findings,
                summary: hits.summary,
                notes,
            }
        }
        Selection::Range { base, tip } => {
            scan_range(ctx, repo, Some(base), tip, opts, &mut errors, notes)?
        }
        Selection::Unpushed { tip } => scan_range(ctx, repo, None, tip, opts, &mut errors, notes)?,
    };
    progress.finish();
    let mut out = out;
    odb::collapse_promised(
        repo,
        &mut errors,
        opts.allow_missing_promised,
        &mut out.notes,
    );
    for e in errors {
        let (path, message) = match e.id {
            Some(id) => (
                format!("<object {id}>"),
                format!(
                    "{} (the scan went on without it; `git fsck` shows the damage)",
                    e.message
                ),
            ),
            None => (format!("<repository {}>", repo::describe(repo)), e.message),
        };
        out.summary.skip(path, SkipReason::Error(message));
    }
    Ok(out)
}

/// Which of `targets` (the blobs with findings) the tree of `head` holds; with no head commit, a
/// note that findings do not say whether they are still at HEAD.
fn head_blobs(
    repo: &gix::Repository,
    head: Option<ObjectId>,
    targets: &HashSet<ObjectId>,
    notes: &mut Vec<String>,
) -> Option<HeadBlobs> {
    if targets.is_empty() {
        return None;
    }
    match head {
        Some(c) => Some(HeadBlobs::read(repo, c, targets)),
        None => {
            notes.push(
                "HEAD names no commit (nor does refs/remotes/origin/HEAD): findings do not say whether they are still at HEAD".to_string(),
            );
            None
        }
    }
}

/// Commits a shallow clone cut the parents of.
fn shallow_commits(repo: &gix::Repository) -> HashSet<ObjectId> {
    match repo.shallow_commits() {
        Ok(Some(c)) => c.iter().copied().collect(),
        _ => HashSet::default(),
    }
}

/// Trees and blobs that refs name directly (a tag of a tree or a blob).
fn non_commit_tips(tips: &[Tip]) -> (Vec<ObjectId>, Vec<ObjectId>) {
    let trees = tips
        .iter()
        .filter(|t| t.kind == Kind::Tree)
        .map(|t| t.target)
        .collect();
    let blobs = tips
        .iter()
        .filter(|t| t.kind == Kind::Blob)
        .map(|t| t.target)
        .collect();
    (trees, blobs)
}

/// Blobs with findings, and the counts of everything scanned.
#[derive(Default)]
struct Hits {
    /// Findings per blob, with placeholder paths until provenance is known.
    blobs: Vec<(ObjectId, Vec<Finding>)>,
    summary: Summary,
}

/// Scans blobs as the object-database pass hands them over; one per worker thread.
struct BlobScan<'a> {
    ctx: &'a ScanContext<'a>,
    shared: &'a Mutex<Hits>,
    local: Hits,
}

impl Clone for BlobScan<'_> {
    fn clone(&self) -> Self {
        BlobScan {
            ctx: self.ctx,
            shared: self.shared,
            local: Hits::default(),
        }
    }
}

impl odb::BlobVisitor for BlobScan<'_> {
    fn visit(&mut self, id: BlobId, data: &[u8], size: u64) {
        scan_blob_sized(self.ctx, id.0, data, size, &mut self.local);
    }
}

impl Drop for BlobScan<'_> {
    fn drop(&mut self) {
        let mut g = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        g.blobs.append(&mut self.local.blobs);
        g.summary.merge(std::mem::take(&mut self.local.summary));
    }
}

/// Scans one blob with every rule (its paths are not known yet: path-scoped rules are checked
/// once they are). `data` is the blob, or its first bytes when only those were decoded of its
/// `size` (over the size cap).
fn scan_blob_sized(ctx: &ScanContext<'_>, id: ObjectId, data: &[u8], size: u64, hits: &mut Hits) {
    let cap = data
        .len()
        .min(usize::try_from(ctx.max_file_size).unwrap_or(usize::MAX));
    let location = Location::Blob {
        id: id.to_string(),
        path: None,
    };
    let mut found = Vec::new();
    // Pairs Vobiz ids and tokens within the blob too, before findings are grouped by secret: an
    // id committed before its token first appears in an older blob than the token, and would not
    // pair with it once each is reported at its own first appearance.
    scan_buffer(
        ctx,
        &data[..cap],
        size.max(data.len() as u64),
        &location,
        PathFilter::Unknown,
        &mut hits.summary,
        &mut found,
    );
    if !found.is_empty() {
        hits.blobs.push((id, found));
    }
}

/// Whether two findings in the same blob cover some of the same characters.
fn overlaps(a: &Finding, b: &Finding) -> bool {
    (a.line, a.column) < (b.end_line, b.end_column)
        && (b.line, b.column) < (a.end_line, a.end_column)
}

/// How a blob with no known path is named in reports.
fn blob_name(id: ObjectId) -> String {
    Location::Blob {
        id: id.to_string(),
        path: None,
    }
    .name()
    .into_owned()
}

/// One place a blob with findings sits in history.
#[derive(Debug, Clone)]
struct Located {
    path: BString,
    commit: Option<ObjectId>,
    /// A ref that reaches `commit`, or `unreachable`.
    ref_name: String,
    /// Order of first appearance: lower is earlier.
    seq: usize,
}

const UNREACHABLE: &str = "unreachable";

/// Where each target blob sits: walks reachable commits oldest first, then the commits no ref
/// reaches, then trees and blobs that refs name directly.
fn locate_in_history(
    repo: &gix::Repository,
    graph: &CommitGraph,
    tips: &[Tip],
    label: &[Option<u32>],
    targets: &HashSet<ObjectId>,
    errors: &mut Vec<ObjectError>,
) -> HashMap<ObjectId, Vec<Located>> {
    let reachable = graph.topo(|c| label[c as usize].is_some());
    let dangling = graph.topo(|c| label[c as usize].is_none());
    let mut walker = walk::TreeWalker::new(repo);
    let mut places = HashMap::default();
    walk::places(&mut walker, graph, &reachable, 0, targets, &mut places);
    walk::places(
        &mut walker,
        graph,
        &dangling,
        reachable.len(),
        targets,
        &mut places,
    );
    errors.append(&mut walker.errors);

    let mut out: HashMap<ObjectId, Vec<Located>> = HashMap::default();
    for (blob, ps) in places {
        let list = out.entry(blob).or_default();
        for (path, p) in ps {
            let ref_name = label[p.commit as usize].map_or_else(
                || UNREACHABLE.to_string(),
                |t| tips[t as usize].name.clone(),
            );
            list.push(Located {
                path,
                commit: Some(graph.id(p.commit)),
                ref_name,
                seq: p.seq,
            });
        }
    }
    // Refs naming a tree or a blob directly: rare, but then the ref is the only provenance.
    let base = reachable.len() + dangling.len();
    for (i, tip) in tips.iter().enumerate() {
        match tip.kind {
            Kind::Blob if targets.contains(&tip.target) => {
                out.entry(tip.target).or_default().push(Located {
                    path: BString::from(format!("<{}>", tip.name)),
                    commit: None,
                    ref_name: tip.name.clone(),
                    seq: base + i,
                })
            }
            Kind::Tree => {
                let what = || format!("ref {}", tip.name);
                walker.walk(tip.target, &what, |prefix, name, blob| {
                    if targets.contains(&blob) {
                        let mut path = prefix.to_owned();
                        if !path.is_empty() {
                            path.push(b'/');
                        }
                        path.extend_from_slice(name);
                        out.entry(blob).or_default().push(Located {
                            path,
                            commit: None,
                            ref_name: tip.name.clone(),
                            seq: base + i,
                        });
                    }
                });
            }
            _ => {}
        }
    }
    errors.append(&mut walker.errors);
    out
}

/// Gives each finding its path and provenance, drops what path-scoped rules rule out, and makes
/// one finding per secret: at its first appearance, counting the other places it is in, listing
/// the earliest of them, and saying whether `head` still holds it.
///
/// The work is linear in places and findings (with a sort of each blob's places): what a place
/// admits (the allow-list, path-scoped rules) is worked out once per blob and kind of finding,
/// not once per finding, and each secret keeps only its earliest places: [`MAX_LISTED_PLACES`],
/// or fewer when many secrets share [`MAX_LISTED_PLACES_TOTAL`].
fn group_findings(
    ctx: &ScanContext<'_>,
    blobs: Vec<(ObjectId, Vec<Finding>)>,
    mut located: HashMap<ObjectId, Vec<Located>>,
    head: Option<&HeadBlobs>,
    info: &mut CommitInfo<'_>,
    summary: &mut Summary,
) -> Vec<Finding> {
    // The places of each blob with findings, earliest first; `lists[i]` belongs to `list_blob[i]`.
    let mut lists: Vec<Vec<Located>> = Vec::with_capacity(blobs.len());
    let mut list_blob: Vec<ObjectId> = Vec::with_capacity(blobs.len());
    let mut list_of: HashMap<ObjectId, usize> = HashMap::default();
    // Keyed by the secret and which occurrence of it within a blob this is: a secret written
    // on two lines of a file is two findings, each followed through history on its own.
    let mut groups: BTreeMap<(crate::finding::Fingerprint, usize), Group> = BTreeMap::new();
    let secrets = count_secrets(&blobs);
    let listed = (MAX_LISTED_PLACES_TOTAL / secrets.max(1)).clamp(1, MAX_LISTED_PLACES);
    // Findings with a place left out by `[allow] paths` (false) or `--exclude` (true): those with
    // no place left are counted in the summary, like other suppressions.
    let mut dropped_by_path: BTreeMap<(crate::finding::Fingerprint, usize), bool> = BTreeMap::new();
    for (blob, findings) in blobs {
        let li = *list_of.entry(blob).or_insert_with(|| {
            let mut list = match located.remove(&blob) {
                Some(p) if !p.is_empty() => p,
                _ => vec![Located {
                    path: BString::from(blob_name(blob)),
                    commit: None,
                    ref_name: UNREACHABLE.to_string(),
                    seq: usize::MAX,
                }],
            };
            list.sort_by(|a, b| (a.seq, &a.path).cmp(&(b.seq, &b.path)));
            lists.push(list);
            list_blob.push(blob);
            lists.len() - 1
        });
        let places = &lists[li];
        let at_head = head.and_then(|h| h.holds(blob));
        // A path-scoped rule needs a real path: a blob only known by id cannot match.
        let path_known = |p: &Located| p.seq != usize::MAX;
        // Which places `--exclude` (Some(true)) or `[allow] paths` (Some(false)) leave out.
        let closed: Vec<Option<bool>> = places
            .iter()
            .map(|p| {
                if !path_known(p) {
                    return None;
                }
                let text = walk::path_text(p.path.as_ref());
                if ctx.allowlist.excludes_path(&text, &ctx.path_base) {
                    Some(true)
                } else if ctx.allowlist.allows_path(&text, &ctx.path_base) {
                    Some(false)
                } else {
                    None
                }
            })
            .collect();
        // The path-scoped findings, in order: they never overlap each other.
        let mut scoped: Vec<&Finding> = findings
            .iter()
            .filter(|f| ctx.scanner.rule(f.rule).path.is_some())
            .collect();
        scoped.sort_by_key(|f| (f.line, f.column));
        let mut admitted: std::collections::HashMap<Admission, Admitted> = Default::default();
        let mut nth_in_blob: BTreeMap<&crate::finding::Fingerprint, usize> = BTreeMap::new();
        for f in &findings {
            let n = nth_in_blob.entry(&f.fingerprint).or_insert(0);
            let nth = *n;
            *n += 1;
            let kind = if ctx.scanner.rule(f.rule).path.is_some() {
                Admission::Scoped(f.rule)
            } else {
                // The scan kept an unscoped match beside a path-scoped one that beat it on the
                // same bytes; where the scoped rule applies, it takes the unscoped one's place.
                let from =
                    scoped.partition_point(|o| (o.end_line, o.end_column) <= (f.line, f.column));
                let to =
                    scoped.partition_point(|o| (o.line, o.column) < (f.end_line, f.end_column));
                let mut rules: Vec<RuleIdx> = scoped[from..to.max(from)]
                    .iter()
                    .filter(|o| overlaps(o, f))
                    .map(|o| o.rule)
                    .collect();
                rules.sort_unstable();
                rules.dedup();
                Admission::Unscoped(rules)
            };
            let a = admitted
                .entry(kind)
                .or_insert_with_key(|kind| admit(ctx, kind, places, &closed, &path_known, listed));
            if let Some(excluded) = a.dropped {
                let d = dropped_by_path
                    .entry((f.fingerprint.clone(), nth))
                    .or_insert(excluded);
                *d |= excluded;
            }
            if a.count == 0 {
                continue;
            }
            let spots = a.first.iter().map(|&pi| Spot {
                seq: places[pi as usize].seq,
                list: li as u32,
                place: pi,
                line: f.line,
                column: f.column,
            });
            let g = groups
                .entry((f.fingerprint.clone(), nth))
                .or_insert_with(|| Group {
                    earliest: Vec::new(),
                    finding: f.clone(),
                    places: 0,
                    in_head: Some(false),
                });
            g.places += a.count;
            g.in_head = either_in_head(g.in_head, at_head);
            let was_first = g.earliest.first().map(|s| s.list);
            g.add(spots, listed, &lists, &list_blob);
            // A new group starts with this finding; an old one takes it if this blob now holds
            // the earliest place.
            if was_first.is_some_and(|w| w != li as u32) && g.earliest[0].list == li as u32 {
                g.finding = f.clone();
            }
        }
    }
    for (key, excluded) in dropped_by_path {
        if !groups.contains_key(&key) {
            if excluded {
                summary.excluded += 1;
            } else {
                summary.allowed += 1;
            }
        }
    }
    let mut out = Vec::with_capacity(groups.len());
    for (_, g) in groups {
        let first = g.earliest[0];
        let p = &lists[first.list as usize][first.place as usize];
        let blob = list_blob[first.list as usize];
        let mut f = g.finding;
        if p.commit
            .is_some_and(|c| ctx.allowlist.allows_commit(&c.to_string()))
        {
            summary.allowed += 1;
            continue;
        }
        f.location = Location::Blob {
            id: blob.to_string(),
            path: (p.seq != usize::MAX).then(|| walk::path_text(p.path.as_ref())),
        };
        if let Some(pair) = f.pair.as_mut() {
            // Paired within the same blob, so at the same path.
            pair.location = f.location.clone();
        }
        let mut prov = info.provenance(blob, p.commit, Some(p.ref_name.clone()));
        prov.other_locations = g.places.saturating_sub(1);
        prov.other_places = g.earliest[1..]
            .iter()
            .map(|s| {
                let o = &lists[s.list as usize][s.place as usize];
                OtherPlace {
                    path: walk::path_text(o.path.as_ref()),
                    commit: o.commit.map(|c| c.to_string()),
                    blob: list_blob[s.list as usize].to_string(),
                }
            })
            .collect();
        prov.in_head = if head.is_some() { g.in_head } else { None };
        f.provenance = Some(prov);
        out.push(f);
    }
    out
}

/// One secret's finding, as it is gathered from every blob that holds it.
struct Group {
    /// The earliest places holding the secret, earliest first: the finding is reported at the
    /// first, the rest are listed (at most [`MAX_LISTED_PLACES`] of them, see `listed`).
    earliest: Vec<Spot>,
    /// The finding in the blob of `earliest[0]`.
    finding: Finding,
    /// Every (blob, path) place holding the secret, the first included.
    places: usize,
    /// Whether a blob holding the secret is at the head (`None`: cannot tell).
    in_head: Option<bool>,
}

impl Group {
    /// Merges `spots` (earliest first) into the earliest places kept: the first and `listed`
    /// more.
    fn add(
        &mut self,
        spots: impl Iterator<Item = Spot>,
        listed: usize,
        lists: &[Vec<Located>],
        blob: &[ObjectId],
    ) {
        let key = |s: &Spot| {
            (
                s.seq,
                &lists[s.list as usize][s.place as usize].path,
                s.line,
                s.column,
                blob[s.list as usize],
            )
        };
        let before = self.earliest.len();
        // Kept sorted and at most `listed` + 1 long: a full list's last place is the bar a new
        // place must beat, and of the new ones (earliest first) no more than that many can.
        let bar = (before > listed).then(|| self.earliest[before - 1]);
        for s in spots.take(listed + 1) {
            if bar.is_some_and(|b| key(&s) >= key(&b)) {
                break;
            }
            self.earliest.push(s);
        }
        if self.earliest.len() > before {
            self.earliest.sort_by(|a, b| key(a).cmp(&key(b)));
            self.earliest.truncate(listed + 1);
        }
    }
}

/// A place of a finding's secret: place `place` of blob list `list`, the finding at
/// `line`:`column` there.
#[derive(Debug, Clone, Copy)]
struct Spot {
    seq: usize,
    list: u32,
    place: u32,
    line: u32,
    column: u32,
}

/// What decides which places of a blob a finding counts at: its own rule's path filter, or for
/// an unscoped finding, the path-scoped rules whose findings overlap it (where one of them
/// applies, that one is reported instead).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Admission {
    Scoped(RuleIdx),
    Unscoped(Vec<RuleIdx>),
}

/// The places of a blob a kind of finding counts at.
struct Admitted {
    count: usize,
    /// The earliest of them, at most `listed` + 1.
    first: Vec<u32>,
    /// Whether a place it would count at was left out: by `--exclude` (true) or only by
    /// `[allow] paths` (false).
    dropped: Option<bool>,
}

fn admit(
    ctx: &ScanContext<'_>,
    kind: &Admission,
    places: &[Located],
    closed: &[Option<bool>],
    path_known: &dyn Fn(&Located) -> bool,
    listed: usize,
) -> Admitted {
    let mut a = Admitted {
        count: 0,
        first: Vec::new(),
        dropped: None,
    };
    for (i, p) in places.iter().enumerate() {
        let counts = match kind {
            Admission::Scoped(rule) => path_known(p) && ctx.scanner.applies_at(*rule, &p.path),
            Admission::Unscoped(rules) => {
                !path_known(p) || !rules.iter().any(|&r| ctx.scanner.applies_at(r, &p.path))
            }
        };
        if !counts {
            continue;
        }
        if let Some(excluded) = closed[i] {
            a.dropped = Some(a.dropped.unwrap_or(false) | excluded);
            continue;
        }
        a.count += 1;
        if a.first.len() <= listed {
            a.first.push(i as u32);
        }
    }
    a
}

/// How many findings grouping makes at most: distinct (secret, occurrence in its blob).
fn count_secrets(blobs: &[(ObjectId, Vec<Finding>)]) -> usize {
    let mut keys: std::collections::HashSet<(&crate::finding::Fingerprint, usize)> =
        Default::default();
    for (_, findings) in blobs {
        let mut nth: std::collections::HashMap<&crate::finding::Fingerprint, usize> =
            Default::default();
        for f in findings {
            let n = nth.entry(&f.fingerprint).or_insert(0);
            keys.insert((&f.fingerprint, *n));
            *n += 1;
        }
    }
    keys.len()
}

/// Whether a secret is at the head, from two of its blobs' answers.
fn either_in_head(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

/// `--range base..tip` and `--since base`: the blobs that commits in `tip` but not in `base`
/// introduced, merges included. With no `base`, every remote-tracking ref is the base
/// ([`Selection::Unpushed`]).
fn scan_range(
    ctx: &ScanContext<'_>,
    repo: &gix::Repository,
    base: Option<&str>,
    tip: &str,
    opts: &HistoryOptions,
    errors: &mut Vec<ObjectError>,
    mut notes: Vec<String>,
) -> Result<HistoryScan> {
    let resolve = |spec: &str| -> Result<ObjectId> {
        let id = repo
            .rev_parse_single(spec)
            .map_err(|e| anyhow::anyhow!("{e}"))
            .with_context(|| format!("cannot resolve {spec:?}: name a branch, tag or commit that exists in this repository"))?;
        let (id, kind) =
            refs::peel(repo, id.detach()).map_err(|e| anyhow::anyhow!("{spec}: {e}"))?;
        if kind != Kind::Commit {
            bail!("{spec} names a {kind}, not a commit");
        }
        Ok(id)
    };
    let base_ids = match base {
        Some(b) => vec![resolve(b)?],
        None => remote_tracking_commits(repo),
    };
    let tip_id = resolve(tip)?;

    // The commits of the range: reachable from tip, not from base.
    let walk = repo
        .rev_walk([tip_id])
        .with_hidden(base_ids.iter().copied())
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
                Err(e) => errors.push(ObjectError::new(id, e)),
            },
            _ => errors.push(ObjectError::new(id, format!("commit {id} cannot be read"))),
        }
    }
    let by_id: HashMap<ObjectId, RawCommit> = raw.iter().map(|c| (c.id, c.clone())).collect();
    // Parents outside the range are the boundary: not missing, just not ours.
    let in_range: HashSet<ObjectId> = by_id.keys().copied().collect();
    let graph = CommitGraph::build(raw, &in_range, &mut Vec::new());
    let order = graph.topo(|_| true);

    // One walker for all bases: the trees remote-tracking refs share are read once.
    let mut already: HashSet<ObjectId> = HashSet::default();
    let mut walker = walk::TreeWalker::new(repo);
    for &b in &base_ids {
        if let Some(tree) = tree_of(repo, b, errors) {
            let what = || format!("tree {tree}");
            walker.walk(tree, &what, |_, _, blob| {
                already.insert(blob);
            });
        }
    }
    errors.append(&mut walker.errors);
    let mut parent_trees: HashMap<ObjectId, Option<ObjectId>> = HashMap::default();
    let mut introduced = Vec::new();
    for &c in &order {
        let id = graph.id(c);
        let commit = &by_id[&id];
        let parents: Vec<ObjectId> = commit
            .parents
            .iter()
            .filter_map(|p| match by_id.get(p) {
                Some(pc) => Some(pc.tree),
                None => *parent_trees
                    .entry(*p)
                    .or_insert_with(|| tree_of(repo, *p, errors)),
            })
            .collect();
        walk::introduced_by(repo, id, commit.tree, &parents, &mut introduced, errors);
    }
    // First introduction of each (blob, path), in commit order; nothing already in base.
    let seq_of: HashMap<ObjectId, usize> = order
        .iter()
        .enumerate()
        .map(|(i, &c)| (graph.id(c), i))
        .collect();
    let mut located: HashMap<ObjectId, Vec<Located>> = HashMap::default();
    let mut previous: HashMap<ObjectId, Vec<ObjectId>> = HashMap::default();
    let mut placed: std::collections::HashSet<(ObjectId, BString)> = Default::default();
    for i in introduced {
        if already.contains(&i.blob) {
            continue;
        }
        previous
            .entry(i.blob)
            .or_default()
            .extend(i.previous.iter().copied());
        let list = located.entry(i.blob).or_default();
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
    // Scan each distinct blob once, in parallel.
    let blobs: Vec<ObjectId> = located.keys().copied().collect();
    let bounded = odb::BoundedBlobs::new(repo, ctx.max_file_size)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
        .context("cannot start worker threads")?;
    let results: Vec<(Hits, Vec<ObjectError>)> = pool.install(|| {
        blobs
            .par_iter()
            .map(|id| {
                let mut hits = Hits::default();
                let mut errs = Vec::new();
                match bounded.find(id) {
                    Ok(Some(d)) if d.kind == Kind::Blob => {
                        scan_blob_sized(ctx, *id, &d.data, d.size, &mut hits)
                    }
                    Ok(Some(_)) => {}
                    Ok(None) => errs.push(ObjectError::new(*id, format!("blob {id} is missing"))),
                    Err(e) => errs.push(ObjectError::new(
                        *id,
                        format!("blob {id} cannot be read: {e}"),
                    )),
                }
                (hits, errs)
            })
            .collect()
    });
    let mut hits = Hits::default();
    for (h, e) in results {
        hits.blobs.extend(h.blobs);
        hits.summary.merge(h.summary);
        errors.extend(e);
    }
    // A secret the replaced version of the file already held was not introduced by the range
    // (a line next to it changed): only secrets new to their file count.
    let mut old_secrets: HashMap<ObjectId, Vec<crate::finding::Fingerprint>> = HashMap::default();
    for prevs in previous.values_mut() {
        // One replaced version at many paths is one version to compare against.
        prevs.sort_unstable();
        prevs.dedup();
    }
    for (blob, found) in &mut hits.blobs {
        let mut before = std::collections::BTreeSet::new();
        for prev in previous.get(blob).map(Vec::as_slice).unwrap_or_default() {
            let fps = old_secrets
                .entry(*prev)
                .or_insert_with(|| fingerprints_of(ctx, &bounded, *prev));
            before.extend(fps.iter().cloned());
        }
        found.retain(|f| !before.contains(&f.fingerprint));
    }
    hits.blobs.retain(|(_, found)| !found.is_empty());
    let what = match base {
        Some(base) => format!("range {base}..{tip}"),
        None if base_ids.is_empty() => {
            format!("{tip}, all new (there are no remote-tracking refs)")
        }
        None => format!(
            "{tip} less what the remote-tracking refs ({}) have",
            base_ids.len()
        ),
    };
    notes.push(format!(
        "{what}: {}, {} they introduced",
        crate::term::plural(order.len(), "commit", "commits"),
        crate::term::plural(blobs.len(), "blob", "blobs")
    ));
    let targets: HashSet<ObjectId> = hits.blobs.iter().map(|(b, _)| *b).collect();
    let head = head_blobs(repo, Some(tip_id), &targets, &mut notes);
    let mut info = CommitInfo::new(repo);
    let findings = group_findings(
        ctx,
        hits.blobs,
        located,
        head.as_ref(),
        &mut info,
        &mut hits.summary,
    );
    hits.summary.commits = Some(order.len() as u64);
    Ok(HistoryScan {
        findings,
        summary: hits.summary,
        notes,
    })
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
    let mut buf = Vec::new();
    match repo.objects.try_find(&id, &mut buf) {
        Ok(Some(d)) if d.kind == Kind::Commit => {
            match RawCommit::parse(id, d.data, repo.object_hash()) {
                Ok(c) => Some(c.tree),
                Err(e) => {
                    errors.push(ObjectError::new(id, e));
                    None
                }
            }
        }
        _ => {
            errors.push(ObjectError::new(id, format!("commit {id} cannot be read")));
            None
        }
    }
}

/// The fingerprints of the secrets in blob `id` (none if it cannot be read: it is only compared
/// against).
fn fingerprints_of(
    ctx: &ScanContext<'_>,
    blobs: &odb::BoundedBlobs,
    id: ObjectId,
) -> Vec<crate::finding::Fingerprint> {
    let mut hits = Hits::default();
    if let Ok(Some(d)) = blobs.find(&id)
        && d.kind == Kind::Blob
    {
        scan_blob_sized(ctx, id, &d.data, d.size, &mut hits);
    }
    hits.blobs
        .into_iter()
        .flat_map(|(_, f)| f.into_iter().map(|f| f.fingerprint))
        .collect()
}
