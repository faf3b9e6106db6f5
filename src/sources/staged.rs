//! The staged source: what is about to be committed.
//!
//! A pre-commit hook must check what the commit will hold, which is the index, not the working
//! tree: a token staged and then deleted from the file is still committed, and a token written
//! into a file after a clean `git add` is not. So blobs are read from the object database by the
//! ids the index records.
//!
//! A commit is blocked only for secrets it *adds*: a secret that `HEAD` already holds in the same
//! file (or, for a file new at its path, in a file the commit removes: a rename) is listed as
//! pre-existing ([`StagedScan::preexisting`]) and does not block. Touching a file with an old leak
//! in it is not the moment to be stopped; auditing the history (`credsweep git .`) is.
//!
//! A hook runs on every commit, so this must cost next to nothing on a large repository. Only
//! the parts of `HEAD`'s tree that can differ are read: a directory whose cache-tree entry in the
//! index is valid and equals `HEAD`'s tree for it is unchanged as a whole and skipped, so one
//! staged file in a 10,000-file repository reads the few trees on its path.

use std::collections::HashSet;

use anyhow::{Context, Result, anyhow};
use gix::ObjectId;
use gix::bstr::{BStr, ByteSlice};
use gix::index::entry::{Flags, Mode, Stage};
use gix::index::extension::Tree as CacheTree;
use gix::objs::{Find, Kind, TreeRef};

use crate::finding::{Finding, Location};
use crate::scan::{ScanContext, SkipReason, Summary};
use crate::scanner::PathFilter;
use crate::window::scan_reader;

/// A staged blob that differs from `HEAD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StagedBlob {
    pub path: String,
    pub id: ObjectId,
    /// The blob `HEAD` has at the same path; `None` for a file new at its path.
    pub head: Option<ObjectId>,
}

/// What [`changed_entries`] found: the staged blobs that differ from `HEAD`, and the blobs of
/// `HEAD` the index no longer has (deleted or renamed away).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Changes {
    pub staged: Vec<StagedBlob>,
    pub removed: Vec<StagedBlob>,
}

/// At most this many removed blobs are kept as rename sources: past it, a secret in a renamed
/// file counts as new (the commit is blocked, never wrongly let through).
pub(crate) const MAX_REMOVED: usize = 10_000;

/// What `credsweep staged` found.
pub struct StagedScan {
    /// Secrets the commit adds: they block it.
    pub findings: Vec<Finding>,
    /// Secrets the changed files already held in `HEAD` (same secret, same file or the file it
    /// was renamed from): reported, never blocking.
    pub preexisting: Vec<Finding>,
    pub summary: Summary,
    pub notes: Vec<String>,
    /// How many staged blobs differ from `HEAD`; 0 means nothing is staged.
    pub staged: usize,
}

/// Scans the blobs staged in `repo` (opened with [`repo::open`](crate::sources::history::repo::open)).
pub fn scan(ctx: &ScanContext<'_>, repo: &gix::Repository) -> Result<StagedScan> {
    let index_path = index_path(repo);
    if repo.workdir().is_none() {
        return Err(anyhow!(
            "{} is a bare repository: it has no index, so nothing can be staged; use `credsweep git` to scan its history",
            repo.git_dir().display()
        ));
    }
    // The index is the repository's file: it must be a regular file of bounded size (checked
    // here for `GIT_INDEX_FILE` too; a FIFO would block, /dev/zero would never end).
    match crate::fsutil::check_file(&index_path, 1 << 30, crate::fsutil::Links::Follow) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(anyhow!(
                "the index {} {}: remove or repair it (`git status` will say)",
                index_path.display(),
                crate::fsutil::explain(&e)
            ));
        }
        _ => {}
    }
    let index = if index_path.exists() {
        gix::index::File::at(&index_path, repo.object_hash(), false, Default::default())
            .map_err(|e| anyhow!("{e}"))
            .with_context(|| {
                format!(
                    "cannot read the index {}: it may be corrupt (`git status` will say)",
                    index_path.display()
                )
            })?
    } else if std::env::var_os("GIT_INDEX_FILE").is_some_and(|p| !p.is_empty()) {
        return Err(anyhow!(
            "GIT_INDEX_FILE names {}, which does not exist: nothing could be scanned",
            index_path.display()
        ));
    } else {
        // A repository where nothing was ever added has no index file: nothing is staged.
        gix::index::File::from_state(gix::index::State::new(repo.object_hash()), index_path)
    };
    let head_tree = match repo.head_tree_id() {
        Ok(id) => Some(id.detach()),
        Err(_) if repo.head_id().is_err() => None, // unborn branch: everything staged is new
        Err(e) => return Err(anyhow!("{e}")).context("cannot read HEAD's tree"),
    };
    let Changes { staged, removed } = changed_entries(repo, &index, head_tree)?;

    let mut summary = Summary::default();
    let mut findings = Vec::new();
    let mut notes = Vec::new();
    let unmerged = index
        .entries()
        .iter()
        .filter(|e| e.stage() != Stage::Unconflicted)
        .count();
    if unmerged > 0 {
        notes.push(format!(
            "{} unmerged (a conflict in progress): their versions were scanned where they differ from HEAD",
            crate::term::plural(unmerged, "index entry is", "index entries are")
        ));
    }
    let mut preexisting = Vec::new();
    // The secrets of the removed blobs, read once and only if a new file has findings.
    let mut renamed_from: Option<HashSet<String>> = None;
    let mut buf = Vec::new();
    let mut window = Vec::new();
    for b in &staged {
        if ctx.allowlist.excludes_path(&b.path, &ctx.path_base) {
            summary.excluded += 1;
            continue;
        }
        if ctx.allowlist.allows_path(&b.path, &ctx.path_base) {
            summary.allowed_paths += 1;
            continue;
        }
        match repo.objects.try_find(&b.id, &mut buf) {
            Ok(Some(d)) if d.kind == Kind::Blob => {
                let mut found = Vec::new();
                scan_blob(ctx, d.data, &b.path, &mut window, &mut summary, &mut found);
                if found.is_empty() {
                    continue;
                }
                let before = match b.head {
                    Some(h) => secrets_in(ctx, repo, &[(b.path.as_str(), h)]),
                    None => renamed_from
                        .get_or_insert_with(|| {
                            let blobs: Vec<(&str, ObjectId)> =
                                removed.iter().map(|r| (r.path.as_str(), r.id)).collect();
                            secrets_in(ctx, repo, &blobs)
                        })
                        .clone(),
                };
                for f in found {
                    if before.contains(f.secret.plaintext()) {
                        preexisting.push(f);
                    } else {
                        findings.push(f);
                    }
                }
            }
            Ok(_) => summary.skip(
                &b.path,
                SkipReason::Error(format!(
                    "staged blob {} is missing from the object database",
                    b.id
                )),
            ),
            Err(e) => summary.skip(
                &b.path,
                SkipReason::Error(format!("staged blob {} cannot be read: {e}", b.id)),
            ),
        }
    }
    if staged.is_empty() {
        notes.push("nothing staged: the index matches HEAD".to_string());
    }
    Ok(StagedScan {
        findings,
        preexisting,
        summary,
        notes,
        staged: staged.len(),
    })
}

/// The secrets credsweep finds in the blobs `(path, id)` of `HEAD`, each scanned as at its path.
/// A blob that cannot be read contributes nothing: its secrets then count as new, and block.
fn secrets_in(
    ctx: &ScanContext<'_>,
    repo: &gix::Repository,
    blobs: &[(&str, ObjectId)],
) -> HashSet<String> {
    let mut scratch = Summary::default();
    let mut found = Vec::new();
    let (mut buf, mut window) = (Vec::new(), Vec::new());
    for &(path, id) in blobs {
        if let Ok(Some(d)) = repo.objects.try_find(&id, &mut buf)
            && d.kind == Kind::Blob
        {
            scan_blob(ctx, d.data, path, &mut window, &mut scratch, &mut found);
        }
    }
    found
        .into_iter()
        .map(|f| f.secret.plaintext().to_string())
        .collect()
}

/// Scans the blob `data` (read whole from the object database) at `path`, in windows as a file
/// of its size is ([`crate::window`]), up to the size cap if one was asked for; a cut is named.
fn scan_blob(
    ctx: &ScanContext<'_>,
    data: &[u8],
    path: &str,
    window: &mut Vec<u8>,
    summary: &mut Summary,
    out: &mut Vec<Finding>,
) {
    let mut reader = data;
    // Reading from memory cannot fail.
    if let Ok(read) = scan_reader(
        ctx,
        &mut reader,
        &Location::Path(path.to_string()),
        PathFilter::Path(path),
        window,
        summary,
        out,
    ) && read.capped
    {
        summary.skip(
            path,
            SkipReason::Truncated {
                size: data.len() as u64,
                scanned: read.bytes,
            },
        );
    }
}

/// The index the next commit is made from: `GIT_INDEX_FILE` when git sets it, else the
/// repository's own. Git points hooks at a temporary index for `git commit -a` and
/// `git commit PATH...`, and that one, not `.git/index`, holds what is about to be committed. A
/// relative value is relative to the current directory, as for git.
pub(crate) fn index_path(repo: &gix::Repository) -> std::path::PathBuf {
    match std::env::var_os("GIT_INDEX_FILE") {
        Some(p) if !p.is_empty() => std::path::PathBuf::from(p),
        _ => repo.index_path(),
    }
}

/// The blobs in `index` that `HEAD`'s tree (`head`, `None` on an unborn branch) does not hold at
/// the same path: added, modified and renamed files. Submodules, intent-to-add placeholders and
/// sparse directories carry no content to scan and are left out; of an unmerged path, every
/// stage that differs from `HEAD` is returned. Also the blobs of `HEAD` at paths the index no
/// longer has (at most [`MAX_REMOVED`]): where a renamed file came from.
pub(crate) fn changed_entries(
    repo: &gix::Repository,
    index: &gix::index::State,
    head: Option<ObjectId>,
) -> Result<Changes> {
    let entries: Vec<(&BStr, ObjectId, Mode, Flags)> = index
        .entries()
        .iter()
        .map(|e| (e.path(index), e.id, e.mode, e.flags))
        .collect();
    let mut out = Changes::default();
    let mut cmp = Compare {
        repo,
        buf: Vec::new(),
        out: &mut out,
    };
    cmp.dir(head, index.tree(), BStr::new(""), &entries)?;
    Ok(out)
}

struct Compare<'a, 'r> {
    repo: &'r gix::Repository,
    buf: Vec<u8>,
    out: &'a mut Changes,
}

impl Compare<'_, '_> {
    /// Compares the index entries under `prefix` (all of `entries`, sorted by path) with the
    /// tree `head` has there.
    fn dir(
        &mut self,
        head: Option<ObjectId>,
        cache: Option<&CacheTree>,
        prefix: &BStr,
        entries: &[(&BStr, ObjectId, Mode, Flags)],
    ) -> Result<()> {
        if let (Some(h), Some(c)) = (head, cache)
            && c.num_entries.is_some()
            && c.id == h
        {
            return Ok(());
        }
        let tree_data = match head {
            Some(h) => match self.repo.objects.try_find(&h, &mut self.buf) {
                Ok(Some(d)) if d.kind == Kind::Tree => d.data.to_vec(),
                Ok(_) => {
                    return Err(anyhow!(
                        "HEAD's tree {h} at `{prefix}` is missing or not a tree: the repository is damaged (run `git fsck`)"
                    ));
                }
                Err(e) => return Err(anyhow!("cannot read HEAD's tree {h} at `{prefix}`: {e}")),
            },
            None => Vec::new(),
        };
        let tree = if head.is_some() {
            TreeRef::from_bytes(&tree_data, self.repo.object_hash())
                .map_err(|e| anyhow!("HEAD's tree at `{prefix}` is corrupt: {e}"))?
        } else {
            TreeRef::empty()
        };
        // Names at this level the index has (files, and directories with entries under them).
        let mut present: HashSet<&[u8]> = HashSet::new();
        let mut i = 0;
        while i < entries.len() {
            let (path, id, mode, flags) = entries[i];
            let rest = &path[prefix.len()..];
            match rest.find_byte(b'/') {
                Some(slash) if !mode.contains(Mode::DIR) || slash + 1 < rest.len() => {
                    // Everything under `name/` is contiguous in the sorted index.
                    let name = &rest[..slash];
                    let end = entries[i..]
                        .iter()
                        .position(|(p, ..)| !under(p, prefix, name))
                        .map_or(entries.len(), |n| i + n);
                    let sub_head = tree
                        .bisect_entry(name.as_bstr(), true)
                        .filter(|e| e.mode.is_tree())
                        .map(|e| e.oid.to_owned());
                    let sub_cache =
                        cache.and_then(|c| c.children.iter().find(|t| t.name.as_slice() == name));
                    let sub_prefix = &path[..prefix.len() + slash + 1];
                    present.insert(name);
                    self.dir(sub_head, sub_cache, sub_prefix.as_bstr(), &entries[i..end])?;
                    i = end;
                }
                _ => {
                    i += 1;
                    present.insert(rest.trim_end_with(|c| c == '/'));
                    if mode.contains(Mode::COMMIT)
                        || mode.contains(Mode::DIR)
                        || flags.contains(Flags::INTENT_TO_ADD)
                    {
                        continue;
                    }
                    let in_head = tree
                        .bisect_entry(rest.as_bstr(), false)
                        .filter(|e| e.mode.is_blob());
                    if in_head.is_none_or(|e| e.oid != id.as_ref()) {
                        self.out.staged.push(StagedBlob {
                            path: path.to_str_lossy().into_owned(),
                            id,
                            head: in_head.map(|e| e.oid.to_owned()),
                        });
                    }
                }
            }
        }
        // What HEAD has here and the index does not: removed, or renamed away.
        let gone: Vec<(Vec<u8>, ObjectId, bool)> = tree
            .entries
            .iter()
            .filter(|e| !present.contains(e.filename.as_bytes()))
            .filter(|e| e.mode.is_blob() || e.mode.is_tree())
            .map(|e| {
                let mut p = prefix.to_vec();
                p.extend_from_slice(e.filename);
                (p, e.oid.to_owned(), e.mode.is_tree())
            })
            .collect();
        for (path, oid, is_tree) in gone {
            self.removed(path, oid, is_tree);
        }
        Ok(())
    }

    /// Records the blob `oid` at `path` (every blob under it, for a tree) as removed, up to
    /// [`MAX_REMOVED`]. A tree that cannot be read is left out: its secrets then count as new.
    fn removed(&mut self, path: Vec<u8>, oid: ObjectId, is_tree: bool) {
        if self.out.removed.len() >= MAX_REMOVED {
            return;
        }
        if !is_tree {
            self.out.removed.push(StagedBlob {
                path: path.to_str_lossy().into_owned(),
                id: oid,
                head: Some(oid),
            });
            return;
        }
        let children: Vec<(Vec<u8>, ObjectId, bool)> =
            match self.repo.objects.try_find(&oid, &mut self.buf) {
                Ok(Some(d)) if d.kind == Kind::Tree => {
                    match TreeRef::from_bytes(d.data, self.repo.object_hash()) {
                        Ok(t) => t
                            .entries
                            .iter()
                            .filter(|e| e.mode.is_blob() || e.mode.is_tree())
                            .map(|e| {
                                let mut p = path.clone();
                                p.push(b'/');
                                p.extend_from_slice(e.filename);
                                (p, e.oid.to_owned(), e.mode.is_tree())
                            })
                            .collect(),
                        Err(_) => Vec::new(),
                    }
                }
                _ => Vec::new(),
            };
        for (p, o, t) in children {
            self.removed(p, o, t);
        }
    }
}

/// Whether `path` lies under `prefix` + `name` + `/`.
fn under(path: &BStr, prefix: &BStr, name: &[u8]) -> bool {
    let rest = &path[prefix.len()..];
    rest.len() > name.len() && rest.starts_with(name) && rest[name.len()] == b'/'
}
