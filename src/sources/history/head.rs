//! Whether a secret found in history is still there: the blobs with findings that the scanned
//! head's tree holds.
//!
//! The first question of every audit is whether a leaked secret only needs rotating and purging
//! from history, or is still in the code. One walk of one tree answers it for every finding:
//! each distinct tree of the head is read once ([`TreeWalker`]), and only the blobs with findings
//! are remembered, so the cost is bounded by the size of the head's tree.

use gix::ObjectId;
use gix::hashtable::HashSet;
use gix::objs::Kind;

use super::graph::RawCommit;
use super::refs;
use super::walk::TreeWalker;

/// The commit `in_head` is judged against for a whole-history scan: what `HEAD` names (a branch
/// or a detached commit); when `HEAD` names no commit (an unborn branch, a mirror whose `HEAD` was
/// never set), the remote's default branch `refs/remotes/origin/HEAD`. `None` when neither names
/// a commit: then no finding says whether it is at HEAD.
pub(crate) fn head_commit(repo: &gix::Repository) -> Option<ObjectId> {
    let commit = |id: ObjectId| match refs::peel(repo, id) {
        Ok((id, Kind::Commit)) => Some(id),
        _ => None,
    };
    if let Ok(id) = repo.head_id()
        && let Some(c) = commit(id.detach())
    {
        return Some(c);
    }
    let mut origin = repo.find_reference("refs/remotes/origin/HEAD").ok()?;
    let id = origin.follow_to_object().ok()?;
    commit(id.detach())
}

/// The target blobs a head commit's tree holds.
#[derive(Debug, Clone, Default)]
pub(crate) struct HeadBlobs {
    found: HashSet<ObjectId>,
    /// Every tree of the head could be read: a blob not found is not at the head.
    complete: bool,
}

impl HeadBlobs {
    /// Walks the tree of `commit` once, remembering which of `targets` it holds.
    pub fn read(repo: &gix::Repository, commit: ObjectId, targets: &HashSet<ObjectId>) -> Self {
        let Ok(RawCommit { tree, .. }) = RawCommit::read(repo, commit, &mut Vec::new()) else {
            return HeadBlobs::default();
        };
        let mut found = HashSet::default();
        let mut walker = TreeWalker::new(repo);
        let what = || format!("the tree of HEAD ({commit})");
        walker.walk(tree, &what, |_, _, blob| {
            if targets.contains(&blob) {
                found.insert(blob);
            }
        });
        // Damage is reported by the scan's own passes; here it only makes "not at HEAD" unknown.
        HeadBlobs {
            found,
            complete: walker.errors.is_empty(),
        }
    }

    /// Whether the head holds `blob`: `Some(true)` when it does, `Some(false)` when the whole tree
    /// was read and it does not, `None` when part of the tree could not be read.
    pub fn holds(&self, blob: ObjectId) -> Option<bool> {
        if self.found.contains(&blob) {
            Some(true)
        } else if self.complete {
            Some(false)
        } else {
            None
        }
    }
}
