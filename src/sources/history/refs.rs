//! The starting points of history: every ref, peeled to what it finally names.
//!
//! Provenance names "one ref that reaches" a commit, so the order of tips matters: the branch
//! `HEAD` is on comes first, then other branches, tags, remote-tracking refs, notes and the
//! stash, then detached `HEAD`s of worktrees and older stash entries (which live only in the
//! stash's reflog but are refs to the user: `stash@{1}`).

use gix::ObjectId;
use gix::objs::{Kind, TagRefIter};

use super::ObjectError;

/// A named starting point, peeled through annotated tags.
#[derive(Debug, Clone)]
pub(crate) struct Tip {
    /// `refs/heads/main`, `HEAD`, `stash@{1}`.
    pub name: String,
    /// The commit, tree or blob the ref finally names.
    pub target: ObjectId,
    pub kind: Kind,
}

/// How early a ref sorts among tips: lower first.
fn rank(name: &str, head_branch: Option<&str>) -> u8 {
    if Some(name) == head_branch {
        0
    } else if name.starts_with("refs/heads/") {
        1
    } else if name.starts_with("refs/tags/") {
        2
    } else if name.starts_with("refs/remotes/") {
        3
    } else if name.starts_with("refs/notes/") {
        4
    } else if name == "refs/stash" {
        5
    } else {
        6
    }
}

/// All tips of `repo`, in the order provenance prefers them. Refs that cannot be read or peeled
/// are returned as errors: the scan goes on without them.
pub(crate) fn tips(repo: &gix::Repository) -> (Vec<Tip>, Vec<ObjectError>) {
    let mut errors = Vec::new();
    let mut named: Vec<(u8, String, ObjectId)> = Vec::new();
    let head_branch = repo
        .head_name()
        .ok()
        .flatten()
        .map(|n| n.as_bstr().to_string());
    let mut stash_log: Vec<ObjectId> = Vec::new();
    let platform = repo.references();
    match platform
        .as_ref()
        .map_err(ToString::to_string)
        .and_then(|p| p.all().map_err(|e| e.to_string()))
    {
        Ok(iter) => {
            for r in iter {
                let mut r = match r {
                    Ok(r) => r,
                    Err(e) => {
                        errors.push(ObjectError::other(format!("cannot read a ref: {e}")));
                        continue;
                    }
                };
                let name = r.name().as_bstr().to_string();
                match r.follow_to_object() {
                    Ok(id) => named.push((
                        rank(&name, head_branch.as_deref()),
                        name.clone(),
                        id.detach(),
                    )),
                    Err(e) => errors.push(ObjectError::other(format!(
                        "cannot resolve ref {name}: {e}"
                    ))),
                }
                if name == "refs/stash"
                    && let Ok(Some(log)) = r.log_iter().all()
                {
                    // Newest entry last in the file; stash@{0} is the ref itself.
                    stash_log = log.filter_map(Result::ok).map(|l| l.new_oid()).collect();
                }
            }
        }
        Err(e) => errors.push(ObjectError::other(format!("cannot list refs: {e}"))),
    }
    named.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));

    let mut raw: Vec<(String, ObjectId)> = named.into_iter().map(|(_, n, id)| (n, id)).collect();
    // A detached HEAD is a ref of its own; on a branch it is already covered.
    // Not peeled here: a HEAD that names a missing object must be reported, not skipped.
    if head_branch.is_none() {
        match repo.head() {
            Ok(head) => {
                if let Some(id) = head.id() {
                    raw.push(("HEAD".to_string(), id.detach()));
                }
            }
            Err(e) => errors.push(ObjectError::other(format!("cannot read HEAD: {e}"))),
        }
    }
    for wt in repo.worktrees().unwrap_or_default() {
        let id = wt.id().map(ToString::to_string).unwrap_or_default();
        if let Ok(r) = wt.into_repo_with_possibly_inaccessible_worktree()
            && r.head_name().ok().flatten().is_none()
            && let Ok(head) = r.head_id()
        {
            raw.push((format!("worktree {id} HEAD"), head.detach()));
        }
    }
    let n = stash_log.len();
    for (i, id) in stash_log.into_iter().enumerate() {
        let age = n - 1 - i;
        if age > 0 {
            raw.push((format!("stash@{{{age}}}"), id));
        }
    }

    let mut out = Vec::with_capacity(raw.len());
    for (name, id) in raw {
        match peel(repo, id) {
            Ok((target, kind)) => out.push(Tip { name, target, kind }),
            // A ref naming a missing object counts among the missing objects.
            Err(e @ PeelError::Missing(_)) => {
                errors.push(ObjectError::missing(id, None, format!("ref {name}: {e}")))
            }
            Err(e) => errors.push(ObjectError::new(id, format!("ref {name}: {e}"))),
        }
    }
    (out, errors)
}

/// Why a ref could not be peeled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PeelError {
    /// The object the ref or a tag on the way names is not in the object database.
    Missing(ObjectId),
    /// An object on the way cannot be read (the reason attached).
    Unreadable(ObjectId, String),
    /// A tag on the way names no target.
    CorruptTag(ObjectId, String),
    /// Tags of tags more than 64 deep: a loop, or hostile.
    ChainTooLong(ObjectId),
}

impl std::fmt::Display for PeelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PeelError::Missing(id) => write!(f, "object {id} is missing"),
            PeelError::Unreadable(id, e) => write!(f, "object {id} cannot be read: {e}"),
            PeelError::CorruptTag(id, e) => write!(f, "tag {id} is corrupt: {e}"),
            PeelError::ChainTooLong(id) => write!(f, "tag chain at {id} is too long"),
        }
    }
}

impl std::error::Error for PeelError {}

/// Follows annotated tags (and tags of tags) to the object they finally name.
pub(crate) fn peel(
    repo: &gix::Repository,
    mut id: ObjectId,
) -> Result<(ObjectId, Kind), PeelError> {
    let mut buf = Vec::new();
    for _ in 0..64 {
        let data = match gix::objs::Find::try_find(&repo.objects, &id, &mut buf) {
            Ok(Some(d)) => d,
            Ok(None) => return Err(PeelError::Missing(id)),
            Err(e) => return Err(PeelError::Unreadable(id, e.to_string())),
        };
        if data.kind != Kind::Tag {
            return Ok((id, data.kind));
        }
        id = TagRefIter::from_bytes(data.data, repo.object_hash())
            .target_id()
            .map_err(|e| PeelError::CorruptTag(id, e.to_string()))?;
    }
    Err(PeelError::ChainTooLong(id))
}
