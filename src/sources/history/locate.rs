//! Phase 3 of a history scan: locate. For the blobs with findings alone, where they sit in
//! history ([`Located`]: a path, the commit that holds it there, a ref that reaches that commit)
//! and whether the scanned head still holds them. A clean history pays for none of this.

use gix::ObjectId;
use gix::bstr::BString;
use gix::hashtable::{HashMap, HashSet};
use gix::objs::Kind;

use super::ObjectError;
use super::graph::{CommitGraph, CommitIdx};
use super::head::HeadBlobs;
use super::refs::Tip;
use super::scoped::ScopedPaths;
use super::{odb, skeleton, walk};

/// One place a blob with findings sits in history.
#[derive(Debug, Clone)]
pub(crate) struct Located {
    pub path: BString,
    pub commit: Option<ObjectId>,
    /// A ref that reaches `commit`, or [`UNREACHABLE`].
    pub ref_name: String,
    /// Order of first appearance: lower is earlier.
    pub seq: usize,
}

/// The ref name of a place no ref reaches.
pub(crate) const UNREACHABLE: &str = "unreachable";

/// The places of each blob with findings.
pub(crate) type Places = HashMap<ObjectId, Vec<Located>>;

/// What locating the blobs of a whole-history scan needs.
pub(crate) struct Options<'a> {
    pub graph: &'a CommitGraph,
    pub tips: &'a [Tip],
    /// For each commit of `graph`, the first tip that reaches it ([`CommitGraph::reach`]).
    pub label: &'a [Option<u32>],
    /// The paths path-scoped rules name: blobs there are located too, and collected, since
    /// the blob scan ran those rules on no blob.
    pub scoped: Option<&'a ScopedPaths<'a>>,
    /// Threads for the pass that reads every tree ([`skeleton::read`]).
    pub threads: usize,
    /// What the blob cache knows of trees and blobs, when one is used: see [`skeleton::Certify`].
    pub certify: Option<&'a skeleton::Certify<'a>>,
    /// What the blob pass's surveys found of the packs' trees, for the pass that reads every
    /// tree not to survey them again.
    pub surveyed: Option<&'a odb::SurveyedTrees>,
}

/// Where blobs sit in history.
pub(crate) struct Outcome {
    /// The places of each blob with findings, and of each blob at a path in
    /// [`Options::scoped`] (at those paths at least).
    pub places: Places,
    /// The blobs at a path in [`Options::scoped`]: those the path-scoped rules must scan.
    pub at_scoped: HashSet<ObjectId>,
    /// With [`Options::certify`]: trees found to hold nothing of interest, for the cache.
    pub certified: Vec<ObjectId>,
    /// With [`Options::certify`]: trees the cache knew to hold nothing of interest, met and
    /// left unparsed.
    pub trees_known: usize,
}

/// Where each of `targets` sits: walks reachable commits oldest first, then the commits no ref
/// reaches, then trees and blobs that refs name directly. The same walk finds the blobs at paths
/// path-scoped rules name, so that history reads its trees once.
pub(crate) fn in_history(
    repo: &gix::Repository,
    opts: &Options<'_>,
    targets: &HashSet<ObjectId>,
    errors: &mut Vec<ObjectError>,
) -> Outcome {
    let Options {
        scoped,
        threads,
        certify,
        surveyed,
        ..
    } = *opts;
    // Every tree read once in pack order, rather than by id through delta chains; by id when
    // the skeleton cannot be built here.
    let mut certified = Vec::new();
    let mut trees_known = 0;
    let roots = (0..opts.graph.len()).map(|i| opts.graph.tree(i as CommitIdx));
    let walker = match skeleton::read(repo, threads, targets, scoped, certify, surveyed, roots) {
        Some(mut s) => {
            certified = std::mem::take(&mut s.certified);
            trees_known = s.known_clean;
            walk::Trees::Skeleton(s)
        }
        None => walk::Trees::Read(walk::TreeWalker::new(repo)),
    };
    let mut out = walking(walker, opts, targets, errors);
    out.certified = certified;
    out.trees_known = trees_known;
    out
}

/// [`in_history`] with the trees `walker` gives.
pub(crate) fn walking(
    mut walker: walk::Trees<'_>,
    opts: &Options<'_>,
    targets: &HashSet<ObjectId>,
    errors: &mut Vec<ObjectError>,
) -> Outcome {
    let Options {
        graph,
        tips,
        label,
        scoped,
        ..
    } = *opts;
    let mut at_scoped = HashSet::default();
    let reachable = graph.topo(|c| label[c as usize].is_some());
    let dangling = graph.topo(|c| label[c as usize].is_none());
    let mut places = HashMap::default();
    walk::places(
        &mut walker,
        graph,
        &reachable,
        0,
        targets,
        scoped,
        &mut at_scoped,
        &mut places,
    );
    walk::places(
        &mut walker,
        graph,
        &dangling,
        reachable.len(),
        targets,
        scoped,
        &mut at_scoped,
        &mut places,
    );
    errors.append(walker.errors());

    let ref_of = |c: CommitIdx| {
        label[c as usize].map_or_else(
            || UNREACHABLE.to_string(),
            |t| tips[t as usize].name.clone(),
        )
    };
    let mut out: Places = HashMap::default();
    for (blob, ps) in places {
        let list = out.entry(blob).or_default();
        for (path, p) in ps {
            list.push(Located {
                path,
                commit: Some(graph.id(p.commit)),
                ref_name: ref_of(p.commit),
                seq: p.seq,
            });
        }
    }
    named_by_refs(
        &mut walker,
        tips,
        reachable.len() + dangling.len(),
        targets,
        scoped,
        &mut at_scoped,
        &mut out,
    );
    errors.append(walker.errors());
    Outcome {
        places: out,
        at_scoped,
        certified: Vec::new(),
        trees_known: 0,
    }
}

/// Refs naming a tree or a blob directly: rare, but then the ref is the only provenance. Their
/// places come after every commit's (`base` on).
fn named_by_refs(
    walker: &mut walk::Trees<'_>,
    tips: &[Tip],
    base: usize,
    targets: &HashSet<ObjectId>,
    scoped: Option<&ScopedPaths<'_>>,
    at_scoped: &mut HashSet<ObjectId>,
    out: &mut Places,
) {
    let mut buf = Vec::new();
    for (i, tip) in tips.iter().enumerate() {
        match tip.kind {
            Kind::Blob => {
                let path = BString::from(format!("<{}>", tip.name));
                let at_scoped_path = scoped.is_some_and(|s| s.matches(&path));
                if at_scoped_path {
                    at_scoped.insert(tip.target);
                }
                if !(at_scoped_path || targets.contains(&tip.target)) {
                    continue;
                }
                out.entry(tip.target).or_default().push(Located {
                    path,
                    commit: None,
                    ref_name: tip.name.clone(),
                    seq: base + i,
                })
            }
            Kind::Tree => {
                let what = || format!("ref {}", tip.name);
                walker.walk(tip.target, &what, |prefix, name, blob| {
                    let at_scoped_path = scoped.is_some_and(|s| s.names(prefix, name, &mut buf));
                    if at_scoped_path {
                        at_scoped.insert(blob);
                    }
                    if at_scoped_path || targets.contains(&blob) {
                        out.entry(blob).or_default().push(Located {
                            path: walk::join(prefix, name),
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
}

/// Which of `targets` (the blobs with findings) the tree of `head` holds; with no head commit, a
/// note that findings do not say whether they are still at HEAD.
pub(crate) fn at_head(
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
