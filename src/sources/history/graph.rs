//! The commit graph, held compactly in memory: which tree each commit has, its parents, and its
//! time. Built once (from the object-database pass, which decodes every commit anyway, or by
//! reading commits from the tips) and then walked as often as needed without touching disk.
//!
//! Commits are numbered (`CommitIdx`) so that per-commit data is a `Vec` indexed by number,
//! not another hash map: a 1M-commit history costs tens of megabytes, not hundreds.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use gix::ObjectId;
use gix::hashtable::{HashMap, HashSet};
use gix::objs::commit::ref_iter::Token;
use gix::objs::{CommitRefIter, Find, Kind};

use super::ObjectError;
use super::refs::Tip;

/// A commit's number in a [`CommitGraph`].
pub(crate) type CommitIdx = u32;

/// A commit as decoded from its object: enough to walk history.
#[derive(Debug, Clone)]
pub(crate) struct RawCommit {
    pub id: ObjectId,
    pub tree: ObjectId,
    pub parents: Vec<ObjectId>,
    /// Committer time, seconds since the epoch: orders commits that topology leaves unordered.
    pub time: i64,
}

/// A commit object with no tree to walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CorruptCommit {
    pub id: ObjectId,
    /// Why its tree cannot be read.
    pub reason: String,
}

impl std::fmt::Display for CorruptCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "commit {} is corrupt (no tree): {}",
            self.id, self.reason
        )
    }
}

impl std::error::Error for CorruptCommit {}

impl From<CorruptCommit> for ObjectError {
    fn from(e: CorruptCommit) -> Self {
        ObjectError::new(e.id, e.to_string())
    }
}

/// Why [`RawCommit::read`] returned no commit. Each caller words (or ignores) each case its own
/// way: a missing parent is reported later, with its child.
#[derive(Debug)]
pub(crate) enum ReadCommitError {
    Missing,
    /// The object database could not read it (the reason).
    Unreadable(String),
    /// The object is there but is not a commit.
    NotACommit(Kind),
    Corrupt(CorruptCommit),
}

impl RawCommit {
    /// Reads commit `id` from `repo` (`buf` is scratch space) and decodes it.
    pub fn read(
        repo: &gix::Repository,
        id: ObjectId,
        buf: &mut Vec<u8>,
    ) -> Result<RawCommit, ReadCommitError> {
        match repo.objects.try_find(&id, buf) {
            Ok(Some(d)) if d.kind == Kind::Commit => {
                RawCommit::parse(id, d.data, repo.object_hash()).map_err(ReadCommitError::Corrupt)
            }
            Ok(Some(d)) => Err(ReadCommitError::NotACommit(d.kind)),
            Ok(None) => Err(ReadCommitError::Missing),
            Err(e) => Err(ReadCommitError::Unreadable(e.to_string())),
        }
    }

    /// Decodes the parts of commit `id` that history walks need.
    pub fn parse(
        id: ObjectId,
        data: &[u8],
        hash: gix::hash::Kind,
    ) -> Result<RawCommit, CorruptCommit> {
        let mut tokens = CommitRefIter::from_bytes(data, hash);
        let tree = tokens.tree_id().map_err(|e| CorruptCommit {
            id,
            reason: e.to_string(),
        })?;
        // One pass over the header, up to the committer: the parents come first, then the
        // author, then the committer. A header that does not parse ends the iterator, keeping the
        // parents read before it, with time 0. Nothing after the committer (extra headers such
        // as a signature, the message) is parsed.
        let mut parents = Vec::new();
        let mut time = 0;
        for token in tokens {
            match token {
                Ok(Token::Parent { id }) => parents.push(id),
                Ok(Token::Committer { signature }) => {
                    time = signature.seconds();
                    break;
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        Ok(RawCommit {
            id,
            tree,
            parents,
            time,
        })
    }
}

/// Commits, their trees and parents, numbered.
#[derive(Default)]
pub(crate) struct CommitGraph {
    ids: Vec<ObjectId>,
    trees: Vec<ObjectId>,
    times: Vec<i64>,
    /// Parents of commit `i` are `parents[parent_start[i]..parent_start[i + 1]]`.
    parent_start: Vec<u32>,
    parents: Vec<CommitIdx>,
    index: HashMap<ObjectId, CommitIdx>,
}

impl CommitGraph {
    /// Builds the graph from decoded commits (duplicates allowed). Parents that are not among
    /// them are missing objects, reported in `errors` unless `shallow` lists the child (a
    /// shallow clone's boundary has no parents here by design).
    pub fn build(
        mut raw: Vec<RawCommit>,
        shallow: &HashSet<ObjectId>,
        errors: &mut Vec<ObjectError>,
    ) -> CommitGraph {
        raw.sort_unstable_by_key(|c| c.id);
        raw.dedup_by(|a, b| a.id == b.id);
        let mut g = CommitGraph::default();
        g.index.reserve(raw.len());
        for (i, c) in raw.iter().enumerate() {
            g.index.insert(c.id, i as CommitIdx);
        }
        g.parent_start.push(0);
        for c in &raw {
            for p in &c.parents {
                match g.index.get(p) {
                    Some(&pi) => g.parents.push(pi),
                    None if shallow.contains(&c.id) => {}
                    None => errors.push(ObjectError::missing(
                        *p,
                        Some(Kind::Commit),
                        format!("commit {p} (parent of {}) is missing", c.id),
                    )),
                }
            }
            g.parent_start.push(g.parents.len() as u32);
        }
        g.ids = raw.iter().map(|c| c.id).collect();
        g.trees = raw.iter().map(|c| c.tree).collect();
        g.times = raw.iter().map(|c| c.time).collect();
        g
    }

    /// Reads the commits reachable from `starts` by looking each one up: for when no
    /// object-database pass decoded them already.
    pub fn load(
        repo: &gix::Repository,
        starts: impl IntoIterator<Item = ObjectId>,
        shallow: &HashSet<ObjectId>,
        errors: &mut Vec<ObjectError>,
    ) -> CommitGraph {
        let mut seen: HashSet<ObjectId> = HashSet::default();
        let mut raw = Vec::new();
        let mut stack: Vec<ObjectId> = starts.into_iter().collect();
        let mut buf = Vec::new();
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            match RawCommit::read(repo, id, &mut buf) {
                Ok(c) => {
                    stack.extend(c.parents.iter().filter(|p| !seen.contains(*p)));
                    raw.push(c);
                }
                Err(ReadCommitError::Corrupt(e)) => errors.push(e.into()),
                Err(ReadCommitError::NotACommit(kind)) => errors.push(ObjectError::new(
                    id,
                    format!("object {id} should be a commit but is a {kind}"),
                )),
                // Reported by `build` as a missing parent, with its child.
                Err(ReadCommitError::Missing) => {}
                Err(ReadCommitError::Unreadable(e)) => errors.push(ObjectError::new(
                    id,
                    format!("commit {id} cannot be read: {e}"),
                )),
            }
        }
        CommitGraph::build(raw, shallow, errors)
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn idx(&self, id: &ObjectId) -> Option<CommitIdx> {
        self.index.get(id).copied()
    }

    pub fn id(&self, i: CommitIdx) -> ObjectId {
        self.ids[i as usize]
    }

    pub fn tree(&self, i: CommitIdx) -> ObjectId {
        self.trees[i as usize]
    }

    pub(crate) fn parents(&self, i: CommitIdx) -> &[CommitIdx] {
        let i = i as usize;
        &self.parents[self.parent_start[i] as usize..self.parent_start[i + 1] as usize]
    }

    /// For every commit, the first tip (by index into `tips`) that reaches it, or `None`.
    pub fn reach(&self, tips: &[Tip]) -> Vec<Option<u32>> {
        let mut label: Vec<Option<u32>> = vec![None; self.len()];
        let mut stack = Vec::new();
        for (t, tip) in tips.iter().enumerate() {
            let Some(start) = self.idx(&tip.target) else {
                continue;
            };
            stack.push(start);
            while let Some(c) = stack.pop() {
                if label[c as usize].is_some() {
                    continue;
                }
                label[c as usize] = Some(t as u32);
                stack.extend(
                    self.parents(c)
                        .iter()
                        .filter(|p| label[**p as usize].is_none()),
                );
            }
        }
        label
    }

    /// The commits for which `include` holds, parents before children, and among commits whose
    /// parents are all done, the oldest first: the order in which history was written.
    pub(crate) fn topo(&self, include: impl Fn(CommitIdx) -> bool) -> Vec<CommitIdx> {
        let n = self.len();
        let included: Vec<bool> = (0..n as CommitIdx).map(&include).collect();
        let mut pending = vec![0u32; n];
        let mut child_count = vec![0u32; n + 1];
        for c in 0..n {
            if !included[c] {
                continue;
            }
            for &p in self.parents(c as CommitIdx) {
                if included[p as usize] {
                    pending[c] += 1;
                    child_count[p as usize] += 1;
                }
            }
        }
        // Children of `p` are `children[child_start[p]..child_start[p + 1]]`.
        let mut child_start = Vec::with_capacity(n + 1);
        let mut acc = 0u32;
        for c in &child_count[..n] {
            child_start.push(acc);
            acc += c;
        }
        child_start.push(acc);
        let mut fill = child_start.clone();
        let mut children = vec![0 as CommitIdx; acc as usize];
        for c in 0..n {
            if !included[c] {
                continue;
            }
            for &p in self.parents(c as CommitIdx) {
                if included[p as usize] {
                    children[fill[p as usize] as usize] = c as CommitIdx;
                    fill[p as usize] += 1;
                }
            }
        }
        let mut ready: BinaryHeap<Reverse<(i64, ObjectId, CommitIdx)>> = (0..n)
            .filter(|&c| included[c] && pending[c] == 0)
            .map(|c| Reverse((self.times[c], self.ids[c], c as CommitIdx)))
            .collect();
        let mut out = Vec::with_capacity(n);
        while let Some(Reverse((_, _, c))) = ready.pop() {
            out.push(c);
            let c = c as usize;
            for &ch in &children[child_start[c] as usize..child_start[c + 1] as usize] {
                pending[ch as usize] -= 1;
                if pending[ch as usize] == 0 {
                    ready.push(Reverse((
                        self.times[ch as usize],
                        self.ids[ch as usize],
                        ch,
                    )));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> ObjectId {
        ObjectId::from_bytes_or_panic(&[n; 20])
    }

    fn commit(n: u8, parents: &[u8], time: i64) -> RawCommit {
        RawCommit {
            id: id(n),
            tree: id(100 + n),
            parents: parents.iter().map(|&p| id(p)).collect(),
            time,
        }
    }

    #[test]
    fn a_commit_header_gives_its_tree_parents_and_committer_time() {
        let hex = |n: u8| id(n).to_string();
        let hash = gix::hash::Kind::Sha1;
        let signed = format!(
            "tree {}\nparent {}\nparent {}\nauthor A U Thor <a@example.com> 100 +0000\n\
             committer C O Mitter <c@example.com> 1700000000 +0100\n\
             gpgsig -----BEGIN PGP SIGNATURE-----\n \n -----END PGP SIGNATURE-----\n\nmessage\n",
            hex(7),
            hex(1),
            hex(2)
        );
        let c = RawCommit::parse(id(9), signed.as_bytes(), hash).expect("parses");
        assert_eq!((c.id, c.tree), (id(9), id(7)));
        assert_eq!(c.parents, vec![id(1), id(2)]);
        assert_eq!(c.time, 1_700_000_000);

        // A root commit; then an author line that does not parse: the parents read before it
        // are kept, the time is unknown (0).
        let root = format!(
            "tree {}\nauthor A <a@example.com> 5 +0000\ncommitter C <c@example.com> 6 +0000\n\nm\n",
            hex(7)
        );
        let c = RawCommit::parse(id(9), root.as_bytes(), hash).expect("parses");
        assert!(c.parents.is_empty());
        assert_eq!(c.time, 6);
        let broken = format!(
            "tree {}\nparent {}\nauthor nobody\ncommitter C <c@example.com> 6 +0000\n\nm\n",
            hex(7),
            hex(3)
        );
        let c = RawCommit::parse(id(9), broken.as_bytes(), hash).expect("the tree is there");
        assert_eq!((c.parents, c.time), (vec![id(3)], 0));

        // No tree: corrupt, with the parser's reason.
        let err = RawCommit::parse(id(9), b"parent 00\n\nm\n", hash).unwrap_err();
        assert_eq!(err.id, id(9));
        assert!(!err.reason.is_empty());
    }

    #[test]
    fn topo_puts_parents_first_then_oldest() {
        // 1 <- 2 <- 4 (merge of 2 and 3); 1 <- 3. 3 is older than 2.
        let raw = vec![
            commit(4, &[2, 3], 40),
            commit(2, &[1], 30),
            commit(3, &[1], 20),
            commit(1, &[], 10),
        ];
        let mut errors = Vec::new();
        let g = CommitGraph::build(raw, &HashSet::default(), &mut errors);
        assert!(errors.is_empty());
        let order: Vec<ObjectId> = g.topo(|_| true).into_iter().map(|c| g.id(c)).collect();
        assert_eq!(order, vec![id(1), id(3), id(2), id(4)]);
    }

    #[test]
    fn a_clock_skewed_child_still_comes_after_its_parent() {
        let raw = vec![commit(2, &[1], 5), commit(1, &[], 10)];
        let g = CommitGraph::build(raw, &HashSet::default(), &mut Vec::new());
        let order: Vec<ObjectId> = g.topo(|_| true).into_iter().map(|c| g.id(c)).collect();
        assert_eq!(order, vec![id(1), id(2)]);
    }

    #[test]
    fn reach_labels_with_the_first_tip() {
        let raw = vec![
            commit(2, &[1], 2),
            commit(1, &[], 1),
            commit(3, &[1], 3),
            commit(9, &[], 9),
        ];
        let g = CommitGraph::build(raw, &HashSet::default(), &mut Vec::new());
        let tips = vec![
            Tip {
                name: "main".into(),
                target: id(2),
                kind: Kind::Commit,
            },
            Tip {
                name: "topic".into(),
                target: id(3),
                kind: Kind::Commit,
            },
        ];
        let l = g.reach(&tips);
        assert_eq!(l[g.idx(&id(1)).unwrap() as usize], Some(0));
        assert_eq!(l[g.idx(&id(3)).unwrap() as usize], Some(1));
        assert_eq!(l[g.idx(&id(9)).unwrap() as usize], None);
    }

    #[test]
    fn missing_parents_are_errors_unless_shallow() {
        let mut errors = Vec::new();
        CommitGraph::build(vec![commit(2, &[1], 2)], &HashSet::default(), &mut errors);
        assert_eq!(errors.len(), 1);
        let mut errors = Vec::new();
        let shallow: HashSet<ObjectId> = [id(2)].into_iter().collect();
        CommitGraph::build(vec![commit(2, &[1], 2)], &shallow, &mut errors);
        assert!(errors.is_empty());
    }
}
