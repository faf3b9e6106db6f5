//! Walks over trees: which blobs commits reach, where given blobs were first committed, and
//! what the commits of a range introduced.
//!
//! Each walk visits commits oldest first (parents before children) and never opens a tree it
//! has already seen: a tree seen before holds exactly what it held then, so everything in it was
//! already attributed to an earlier commit. On a real history this reads each distinct tree once,
//! about three times less work than diffing every commit against its parents.

use gix::ObjectId;
use gix::bstr::{BStr, BString, ByteSlice};
use gix::hashtable::{HashMap, HashSet};
use gix::objs::{Find, Kind, TreeRef, TreeRefIter};

use super::ObjectError;
use super::graph::{CommitGraph, CommitIdx};
use super::scoped::ScopedPaths;
use super::skeleton::Skeleton;

/// A tree whose entries cannot be parsed, as every tree walk reports it (the skeleton walk must
/// report what the walk by id does).
pub(crate) fn corrupt_tree(
    id: ObjectId,
    what: &dyn Fn() -> String,
    err: &dyn std::fmt::Display,
) -> ObjectError {
    ObjectError::new(id, format!("tree {id} in {} is corrupt: {err}", what()))
}

/// `prefix/name`, or `name` at the root.
pub(crate) fn join(prefix: &BStr, name: &BStr) -> BString {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        let mut p = prefix.to_owned();
        p.push(b'/');
        p.extend_from_slice(name);
        p
    }
}

/// Reads trees, remembering which it has seen.
pub(crate) struct TreeWalker<'r> {
    repo: &'r gix::Repository,
    seen: HashSet<ObjectId>,
    buf: Vec<u8>,
    stack: Vec<(ObjectId, BString)>,
    pub errors: Vec<ObjectError>,
    /// Trees read, for the summary.
    pub trees: u64,
}

impl<'r> TreeWalker<'r> {
    pub fn new(repo: &'r gix::Repository) -> Self {
        TreeWalker {
            repo,
            seen: HashSet::default(),
            buf: Vec::new(),
            stack: Vec::new(),
            errors: Vec::new(),
            trees: 0,
        }
    }

    /// Visits every blob entry (not symlinks or submodules) in `root` and the trees below it that
    /// were not seen before, with the path of its tree and its name. `what` names the root for
    /// messages about missing trees.
    pub fn walk(
        &mut self,
        root: ObjectId,
        what: &dyn Fn() -> String,
        mut on_blob: impl FnMut(&BStr, &BStr, ObjectId),
    ) {
        if !self.seen.insert(root) {
            return;
        }
        self.stack.push((root, BString::default()));
        let hash = self.repo.object_hash();
        while let Some((id, prefix)) = self.stack.pop() {
            let Some(data) = read_tree(
                self.repo,
                id,
                prefix.as_ref(),
                what,
                &mut self.buf,
                &mut self.errors,
            ) else {
                continue;
            };
            self.trees += 1;
            for entry in TreeRefIter::from_bytes(data, hash) {
                let e = match entry {
                    Ok(e) => e,
                    Err(err) => {
                        self.errors.push(corrupt_tree(id, what, &err));
                        break;
                    }
                };
                if e.mode.is_tree() {
                    if self.seen.insert(e.oid.to_owned()) {
                        self.stack
                            .push((e.oid.to_owned(), join(prefix.as_ref(), e.filename)));
                    }
                } else if e.mode.is_blob() {
                    on_blob(prefix.as_ref(), e.filename, e.oid.to_owned());
                }
            }
        }
    }
}

/// Tree `id` (at `prefix` in what `what` names), read into `buf`; `None`, with the error in
/// `errors`, when it is missing, not a tree or cannot be read.
pub(crate) fn read_tree<'b>(
    repo: &gix::Repository,
    id: ObjectId,
    prefix: &BStr,
    what: &dyn Fn() -> String,
    buf: &'b mut Vec<u8>,
    errors: &mut Vec<ObjectError>,
) -> Option<&'b [u8]> {
    match repo.objects.try_find(&id, buf) {
        Ok(Some(d)) if d.kind == Kind::Tree => Some(d.data),
        Ok(Some(d)) => {
            errors.push(ObjectError::new(
                id,
                format!(
                    "object {id} at `{prefix}` in {} should be a tree but is a {}",
                    what(),
                    d.kind
                ),
            ));
            None
        }
        Ok(None) => {
            errors.push(ObjectError::missing(
                id,
                Some(Kind::Tree),
                format!("tree {id} at `{prefix}` in {} is missing", what()),
            ));
            None
        }
        Err(e) => {
            errors.push(ObjectError::new(
                id,
                format!("tree {id} in {} cannot be read: {e}", what()),
            ));
            None
        }
    }
}

/// The trees a locate walk reads: from the object database one id at a time, or from a
/// skeleton of every tree read beforehand in pack order ([`Skeleton`]). Both visit the same
/// blobs in the same order, as far as the skeleton's interest goes.
pub(crate) enum Trees<'r> {
    Read(TreeWalker<'r>),
    Skeleton(Skeleton<'r>),
}

impl Trees<'_> {
    /// [`TreeWalker::walk`]: every blob entry of the trees under `root` not seen before (with
    /// a skeleton, those it holds: the blobs of interest).
    pub fn walk(
        &mut self,
        root: ObjectId,
        what: &dyn Fn() -> String,
        on_blob: impl FnMut(&BStr, &BStr, ObjectId),
    ) {
        match self {
            Trees::Read(w) => w.walk(root, what, on_blob),
            Trees::Skeleton(s) => s.walk(root, what, on_blob),
        }
    }

    /// The trees that could not be read, so far.
    pub fn errors(&mut self) -> &mut Vec<ObjectError> {
        match self {
            Trees::Read(w) => &mut w.errors,
            Trees::Skeleton(s) => &mut s.errors,
        }
    }
}

/// Every blob reachable from `commits` and from refs that name a tree or a blob directly.
pub(crate) fn reachable_blobs(
    repo: &gix::Repository,
    graph: &CommitGraph,
    commits: &[CommitIdx],
    trees: &[ObjectId],
    blobs: &[ObjectId],
) -> (HashSet<ObjectId>, Vec<ObjectError>) {
    let mut out: HashSet<ObjectId> = blobs.iter().copied().collect();
    let mut w = TreeWalker::new(repo);
    for &c in commits {
        let what = || format!("commit {}", graph.id(c));
        w.walk(graph.tree(c), &what, |_, _, b| {
            out.insert(b);
        });
    }
    for &t in trees {
        let what = || format!("tagged tree {t}");
        w.walk(t, &what, |_, _, b| {
            out.insert(b);
        });
    }
    (out, w.errors)
}

/// Where a blob sits in history at one path (the path is the key it is filed under).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Place {
    /// The commit that first introduced the blob at this path.
    pub commit: CommitIdx,
    /// Position of `commit` in the walk order: lower is earlier.
    pub seq: usize,
}

/// For each blob in `targets`, every path it was committed at, with the first commit (in
/// `order`) that introduced it there. `walker` carries the trees already seen, so walking the
/// reachable commits and then the unreachable ones attributes each place to a reachable commit
/// wherever one holds it. Each (blob, path) is looked up in a hash map (std's: gix's map hashes
/// object ids only), so a blob at a hundred thousand paths costs as much as a hundred thousand
/// blobs at one path each.
///
/// With `scoped`, blobs at a path it names are located too, at those paths, and collected in
/// `at_scoped` (see [`ScopedPaths`]).
#[allow(clippy::too_many_arguments)]
pub fn places(
    walker: &mut Trees<'_>,
    graph: &CommitGraph,
    order: &[CommitIdx],
    seq_base: usize,
    targets: &HashSet<ObjectId>,
    scoped: Option<&ScopedPaths<'_>>,
    at_scoped: &mut HashSet<ObjectId>,
    out: &mut HashMap<ObjectId, std::collections::HashMap<BString, Place>>,
) {
    let mut path = Vec::new();
    for (i, &c) in order.iter().enumerate() {
        let what = || format!("commit {}", graph.id(c));
        walker.walk(graph.tree(c), &what, |prefix, name, blob| {
            let at_scoped_path = scoped.is_some_and(|s| s.names(prefix, name, &mut path));
            if at_scoped_path {
                at_scoped.insert(blob);
            }
            if at_scoped_path || targets.contains(&blob) {
                // A tree seen for the first time may still hold this blob at a path an earlier
                // tree already had it at (a sibling changed): that is not a new place.
                out.entry(blob)
                    .or_default()
                    .entry(join(prefix, name))
                    .or_insert(Place {
                        commit: c,
                        seq: seq_base + i,
                    });
            }
        });
    }
}

/// A blob a commit of a range introduced: its tree has it at `path`, and no parent has it there.
#[derive(Debug, Clone)]
pub(crate) struct Introduced {
    pub blob: ObjectId,
    pub path: BString,
    pub commit: ObjectId,
    /// The blobs the parents had at `path`: the versions this one replaced.
    pub previous: Vec<ObjectId>,
}

/// An owned, decoded tree, so parents and child can be compared side by side.
struct Tree {
    data: Vec<u8>,
}

impl Tree {
    fn read(repo: &gix::Repository, id: ObjectId) -> Result<Tree, String> {
        let mut data = Vec::new();
        match repo.objects.try_find(&id, &mut data) {
            Ok(Some(d)) if d.kind == Kind::Tree => Ok(Tree { data }),
            Ok(Some(d)) => Err(format!("object {id} should be a tree but is a {}", d.kind)),
            Ok(None) => Err(format!("tree {id} is missing")),
            Err(e) => Err(format!("tree {id} cannot be read: {e}")),
        }
    }

    fn parse(&self, hash: gix::hash::Kind) -> Result<TreeRef<'_>, String> {
        TreeRef::from_bytes(&self.data, hash).map_err(|e| format!("tree is corrupt: {e}"))
    }
}

/// What `commit` (with tree `tree` and its parents' trees) introduced: every blob at a path
/// where no parent has that same blob. For a merge this is exactly what the merge resolution
/// itself wrote; for a root commit it is everything.
pub(crate) fn introduced_by(
    repo: &gix::Repository,
    commit: ObjectId,
    tree: ObjectId,
    parent_trees: &[ObjectId],
    out: &mut Vec<Introduced>,
    errors: &mut Vec<ObjectError>,
) {
    let mut stack: Vec<(ObjectId, Vec<ObjectId>, BString)> =
        vec![(tree, parent_trees.to_vec(), BString::default())];
    let hash = repo.object_hash();
    while let Some((tree, parents, prefix)) = stack.pop() {
        let t = match Tree::read(repo, tree) {
            Ok(t) => t,
            Err(e) => {
                errors.push(ObjectError::new(
                    tree,
                    format!("{e} (at `{prefix}` in commit {commit})"),
                ));
                continue;
            }
        };
        let parent_data: Vec<Tree> = parents
            .iter()
            .filter_map(|p| match Tree::read(repo, *p) {
                Ok(t) => Some(t),
                Err(e) => {
                    errors.push(ObjectError::new(
                        *p,
                        format!("{e} (a parent tree of commit {commit})"),
                    ));
                    None
                }
            })
            .collect();
        let parsed: Vec<TreeRef<'_>> = parent_data
            .iter()
            .filter_map(|t| t.parse(hash).ok())
            .collect();
        let me = match t.parse(hash) {
            Ok(me) => me,
            Err(e) => {
                errors.push(ObjectError::new(
                    tree,
                    format!("{e} (tree {tree} in commit {commit})"),
                ));
                continue;
            }
        };
        for e in &me.entries {
            if !(e.mode.is_tree() || e.mode.is_blob()) {
                continue;
            }
            let is_dir = e.mode.is_tree();
            let in_parents: Vec<_> = parsed
                .iter()
                .filter_map(|p| p.bisect_entry(e.filename, is_dir))
                .collect();
            if in_parents.iter().any(|p| p.oid == e.oid) {
                continue;
            }
            let path = join(prefix.as_ref(), e.filename);
            if is_dir {
                stack.push((
                    e.oid.to_owned(),
                    in_parents.iter().map(|p| p.oid.to_owned()).collect(),
                    path,
                ));
            } else {
                out.push(Introduced {
                    blob: e.oid.to_owned(),
                    path,
                    commit,
                    previous: in_parents.iter().map(|p| p.oid.to_owned()).collect(),
                });
            }
        }
    }
}

/// Turns a path from git into text for reports (git paths are bytes; invalid UTF-8 is shown
/// with replacement characters).
pub(crate) fn path_text(p: &BStr) -> String {
    p.to_str_lossy().into_owned()
}
