//! Every blob in the object database, decoded once, in parallel.
//!
//! Looking blobs up one id at a time re-inflates every delta base on the way to each object; on
//! a real history that is about four times slower than decoding each pack in the order its deltas
//! were built. So each pack is decoded as a delta tree (the way `git index-pack` and
//! `gix verify` do: every base once, its deltas applied to it while it is hot, across threads),
//! with checksum verification skipped since a scan reads, and does not vouch for, the pack.
//! Loose objects and alternates get a pass of their own.
//!
//! An object stored twice (in two packs, or packed and loose) is visited once: in the first pack
//! that holds it, or loose only if no pack does. Commits are decoded on the way too: history
//! walks then need no second pass over them.
//!
//! A corrupt object does not end the scan: a pack whose delta tree cannot be decoded is read
//! again object by object, and each object that still fails is reported with its id.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result};
use gix::ObjectId;
use gix::hashtable::HashSet;
use gix::objs::{Find, Kind};
use gix::odb::pack;
use gix::odb::store::structure::Record;
use rayon::prelude::*;

use super::graph::RawCommit;
use super::progress::Progress;
use super::{BlobId, ObjectError};

/// Receives blobs. Each worker thread gets its own clone, so a visitor can gather results
/// without locks and hand them over when it is dropped.
pub trait BlobVisitor: Clone + Send + Sync {
    fn visit(&mut self, id: BlobId, data: &[u8]);
}

pub struct Options<'a> {
    pub threads: usize,
    /// Visit only these blobs (`--reachable-only`); all blobs when `None`.
    pub only: Option<&'a HashSet<ObjectId>>,
    pub progress: &'a Progress,
}

/// What a pass over the object database found besides blobs.
#[derive(Default)]
pub struct Outcome {
    /// Every commit in the database, reachable or not.
    pub commits: Vec<RawCommit>,
    /// Objects that could not be read; the pass went on without them.
    pub errors: Vec<ObjectError>,
}

/// The files of the object database: pack indices (with their packs) and loose directories,
/// the repository's own and its alternates'.
struct Layout {
    indices: Vec<PathBuf>,
    loose: Vec<PathBuf>,
}

fn layout(repo: &gix::Repository) -> Result<Layout> {
    let store = repo.objects.store_ref();
    let records = store
        .structure()
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| {
            format!(
                "cannot list the object database of {}",
                repo.git_dir().display()
            )
        })?;
    let mut layout = Layout {
        indices: Vec::new(),
        loose: Vec::new(),
    };
    for r in records {
        match r {
            Record::Index { path, .. } => layout.indices.push(path),
            Record::MultiIndex { path, .. } => {
                // A multi-pack index sits beside the packs' own indices, which git keeps.
                let midx = pack::multi_index::File::at(&path, None)
                    .map_err(|e| anyhow::anyhow!("{e}"))
                    .with_context(|| format!("cannot read multi-pack index {}", path.display()))?;
                let dir = path.parent().unwrap_or(Path::new("."));
                layout
                    .indices
                    .extend(midx.index_names().iter().map(|n| dir.join(n)));
            }
            Record::LooseObjectDatabase {
                objects_directory, ..
            } => layout.loose.push(objects_directory),
            Record::Empty => {}
        }
    }
    layout.indices.sort();
    layout.indices.dedup();
    Ok(layout)
}

/// What workers hand over when they finish.
#[derive(Default)]
struct Shared {
    commits: Vec<RawCommit>,
    /// Blobs visited in the pack being decoded, for a re-read after a failure.
    delivered: Vec<ObjectId>,
    errors: Vec<ObjectError>,
}

/// One worker's state while decoding a pack.
struct Worker<'a, V: BlobVisitor> {
    visitor: V,
    hash: gix::hash::Kind,
    only: Option<&'a HashSet<ObjectId>>,
    /// Indices of the packs decoded before this one: their objects are not visited again.
    earlier: &'a [pack::index::File],
    /// Where every object is: for the check that what trees and commits name exists.
    present: &'a Presence<'a>,
    progress: &'a Progress,
    shared: &'a Mutex<Shared>,
    commits: Vec<RawCommit>,
    delivered: Vec<ObjectId>,
    errors: Vec<ObjectError>,
    /// Ids found present lately, by their first two bytes (see [`Worker::is_present`]).
    checked: Vec<[u8; 20]>,
}

impl<V: BlobVisitor> Clone for Worker<'_, V> {
    fn clone(&self) -> Self {
        Worker {
            visitor: self.visitor.clone(),
            hash: self.hash,
            only: self.only,
            earlier: self.earlier,
            present: self.present,
            progress: self.progress,
            shared: self.shared,
            commits: Vec::new(),
            delivered: Vec::new(),
            errors: Vec::new(),
            checked: Vec::new(),
        }
    }
}

impl<V: BlobVisitor> Worker<'_, V> {
    fn object(&mut self, id: ObjectId, kind: Kind, data: &[u8]) {
        self.progress.object(data.len() as u64);
        match kind {
            Kind::Blob => {
                if self.only.is_some_and(|only| !only.contains(&id))
                    || self.earlier.iter().any(|e| e.lookup(id).is_some())
                {
                    return;
                }
                self.delivered.push(id);
                self.visitor.visit(BlobId(id), data);
            }
            Kind::Commit => match RawCommit::parse(id, data, self.hash) {
                Ok(c) => {
                    if !self.is_present(&c.tree) {
                        self.errors.push(ObjectError::new(
                            c.tree,
                            format!("tree {} of commit {id} is missing", c.tree),
                        ));
                    }
                    self.commits.push(c)
                }
                Err(e) => self.errors.push(ObjectError::new(id, e)),
            },
            Kind::Tree => self.check_tree(id, data),
            Kind::Tag => {}
        }
    }

    /// Whether `id` is in the object database. Consecutive versions of a tree name mostly the
    /// same objects, so a small direct-mapped cache of ids found present (1.3 MB per worker)
    /// saves most index lookups: they cost as much as the rest of the pass otherwise.
    fn is_present(&mut self, id: &gix::oid) -> bool {
        let b = id.as_bytes();
        if self.checked.is_empty() {
            self.checked = vec![[0u8; 20]; CHECKED_SLOTS];
        }
        let slot = (usize::from(b[0]) << 8 | usize::from(b[1])) % CHECKED_SLOTS;
        if self.checked[slot][..] == b[..20] {
            return true;
        }
        let found = self.present.contains(id);
        if found {
            self.checked[slot].copy_from_slice(&b[..20]);
        }
        found
    }

    /// Reports what tree `id` names that the object database does not hold: a missing blob
    /// would otherwise go unscanned without a word.
    fn check_tree(&mut self, id: ObjectId, data: &[u8]) {
        for entry in gix::objs::TreeRefIter::from_bytes(data, self.hash) {
            match entry {
                // Submodules are commits of another repository.
                Ok(e) if e.mode.is_commit() => {}
                Ok(e) if !self.is_present(e.oid) => {
                    let kind = if e.mode.is_tree() { "tree" } else { "blob" };
                    self.errors.push(ObjectError::new(
                        e.oid.to_owned(),
                        format!(
                            "{kind} {} (`{}` in tree {id}) is missing",
                            e.oid, e.filename
                        ),
                    ));
                }
                Ok(_) => {}
                Err(e) => {
                    self.errors
                        .push(ObjectError::new(id, format!("tree {id} is corrupt: {e}")));
                    break;
                }
            }
        }
    }
}

/// Whether an object is in any pack or loose directory of the repository.
struct Presence<'a> {
    indices: &'a [pack::index::File],
    loose: HashSet<ObjectId>,
}

impl Presence<'_> {
    fn contains(&self, id: &gix::oid) -> bool {
        self.loose.contains(id) || self.indices.iter().any(|i| i.lookup(id).is_some())
    }
}

/// Slots in a worker's cache of ids found present.
const CHECKED_SLOTS: usize = 1 << 16;

/// Missing objects listed one by one at most; more are counted.
const MAX_MISSING_LISTED: usize = 100;

/// One error per object (a missing blob is named by every tree that holds it), and a count in
/// place of a long tail: a partial clone lacks every old blob.
fn dedup_errors(errors: &mut Vec<ObjectError>) {
    let mut seen = HashSet::default();
    errors.retain(|e| e.id.is_none_or(|id| seen.insert(id)));
    let missing: Vec<usize> = errors
        .iter()
        .enumerate()
        .filter(|(_, e)| e.id.is_some() && e.message.ends_with(" is missing"))
        .map(|(i, _)| i)
        .collect();
    if missing.len() > MAX_MISSING_LISTED {
        let extra = missing.len() - MAX_MISSING_LISTED;
        let drop: HashSet<usize> = missing[MAX_MISSING_LISTED..].iter().copied().collect();
        let mut i = 0;
        errors.retain(|_| {
            i += 1;
            !drop.contains(&(i - 1))
        });
        errors.push(ObjectError::other(format!(
            "{extra} more objects that trees or commits name are missing (a partial clone, or a damaged repository: `git fsck` shows them)"
        )));
    }
}

impl<V: BlobVisitor> Drop for Worker<'_, V> {
    fn drop(&mut self) {
        let mut s = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        s.commits.append(&mut self.commits);
        s.delivered.append(&mut self.delivered);
        s.errors.append(&mut self.errors);
    }
}

/// Visits every blob once (or every blob in `opts.only`), and returns all commits.
pub fn visit_blobs<V: BlobVisitor>(
    repo: &gix::Repository,
    opts: &Options<'_>,
    visitor: V,
) -> Result<Outcome> {
    let layout = layout(repo)?;
    let hash = repo.object_hash();
    let shared = Mutex::new(Shared::default());
    let mut out = Outcome::default();

    let mut indices: Vec<pack::index::File> = Vec::with_capacity(layout.indices.len());
    let mut packs: Vec<pack::data::File> = Vec::with_capacity(layout.indices.len());
    for path in &layout.indices {
        let pack_path = path.with_extension("pack");
        match (
            pack::index::File::at(path, hash),
            pack::data::File::at(&pack_path, hash),
        ) {
            (Ok(i), Ok(p)) => {
                indices.push(i);
                packs.push(p);
            }
            (Err(e), _) => out.errors.push(ObjectError::other(format!(
                "pack index {} cannot be read, its objects were not scanned: {e}",
                path.display()
            ))),
            (_, Err(e)) => out.errors.push(ObjectError::other(format!(
                "pack {} cannot be read, its objects were not scanned: {e}",
                pack_path.display()
            ))),
        }
    }
    let loose: Vec<(gix::odb::loose::Store, Vec<ObjectId>)> = layout
        .loose
        .iter()
        .map(|dir| {
            let db = gix::odb::loose::Store::at(dir, hash);
            let ids: Vec<ObjectId> = db.iter().filter_map(Result::ok).collect();
            (db, ids)
        })
        .collect();
    let present = Presence {
        indices: &indices,
        loose: loose
            .iter()
            .flat_map(|(_, ids)| ids.iter().copied())
            .collect(),
    };
    let total: u64 = indices
        .iter()
        .map(|i| u64::from(i.num_objects()))
        .sum::<u64>()
        + loose.iter().map(|(_, ids)| ids.len() as u64).sum::<u64>();
    opts.progress.start(total);

    let interrupt = AtomicBool::new(false);
    for (n, (index, data)) in indices.iter().zip(&packs).enumerate() {
        let worker = Worker {
            visitor: visitor.clone(),
            hash,
            only: opts.only,
            earlier: &indices[..n],
            present: &present,
            progress: opts.progress,
            shared: &shared,
            commits: Vec::new(),
            delivered: Vec::new(),
            errors: Vec::new(),
            checked: Vec::new(),
        };
        let result = {
            let mut worker = worker;
            index.traverse_with_index(
                data,
                move |kind, bytes, entry: &pack::index::Entry, _: &dyn gix::progress::Progress| {
                    worker.object(entry.oid, kind, bytes);
                    Ok(())
                },
                &mut gix::progress::Discard,
                &interrupt,
                pack::index::traverse::with_index::Options {
                    thread_limit: Some(opts.threads),
                    check:
                        pack::index::traverse::SafetyCheck::SkipFileAndObjectChecksumVerification,
                    alloc_limit_bytes: None,
                },
            )
        };
        let delivered =
            std::mem::take(&mut shared.lock().unwrap_or_else(|p| p.into_inner()).delivered);
        if let Err(e) = result {
            out.errors.push(ObjectError::other(format!(
                "pack {} is damaged ({e}); its objects were read one by one",
                data.path().display()
            )));
            let delivered: HashSet<ObjectId> = delivered.into_iter().collect();
            reread_pack(
                repo,
                index,
                &indices[..n],
                &present,
                &delivered,
                opts,
                &visitor,
                &shared,
            );
        }
    }

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
        .context("cannot start worker threads")?;
    for (db, ids) in &loose {
        pool.install(|| {
            ids.par_iter().for_each_init(
                || {
                    (
                        worker(&visitor, hash, opts, &[], &present, &shared),
                        Vec::new(),
                    )
                },
                |(worker, buf), id| {
                    if indices.iter().any(|i| i.lookup(id).is_some()) {
                        opts.progress.object(0);
                        return;
                    }
                    match db.try_find(id, buf) {
                        Ok(Some(d)) => {
                            let (kind, data) = (d.kind, d.data);
                            worker.object(*id, kind, data)
                        }
                        Ok(None) => {}
                        Err(e) => worker.errors.push(ObjectError::new(
                            *id,
                            format!("loose object {id} is corrupt: {e}"),
                        )),
                    }
                },
            )
        });
    }
    let shared = shared.into_inner().unwrap_or_else(|p| p.into_inner());
    out.commits = shared.commits;
    out.errors.extend(shared.errors);
    out.errors.sort_by_key(|e| e.id);
    dedup_errors(&mut out.errors);
    Ok(out)
}

/// A worker for a pass that is not one pack's delta tree (loose objects, a damaged pack re-read
/// object by object); `earlier` are the pack indices whose objects it must not visit again.
fn worker<'a, V: BlobVisitor>(
    visitor: &V,
    hash: gix::hash::Kind,
    opts: &Options<'a>,
    earlier: &'a [pack::index::File],
    present: &'a Presence<'a>,
    shared: &'a Mutex<Shared>,
) -> Worker<'a, V> {
    Worker {
        visitor: visitor.clone(),
        hash,
        only: opts.only,
        earlier,
        present,
        progress: opts.progress,
        shared,
        commits: Vec::new(),
        delivered: Vec::new(),
        errors: Vec::new(),
        checked: Vec::new(),
    }
}

/// Reads the objects of a damaged pack one at a time, skipping those already visited, and
/// reports each object that cannot be read.
#[allow(clippy::too_many_arguments)]
fn reread_pack<V: BlobVisitor>(
    repo: &gix::Repository,
    index: &pack::index::File,
    earlier: &[pack::index::File],
    present: &Presence<'_>,
    delivered: &HashSet<ObjectId>,
    opts: &Options<'_>,
    visitor: &V,
    shared: &Mutex<Shared>,
) {
    let mut worker = worker(visitor, repo.object_hash(), opts, earlier, present, shared);
    let mut buf = Vec::new();
    for entry in index.iter() {
        if delivered.contains(&entry.oid) {
            continue;
        }
        match repo.objects.try_find(&entry.oid, &mut buf) {
            Ok(Some(d)) => {
                let (kind, data) = (d.kind, d.data);
                worker.object(entry.oid, kind, data);
            }
            Ok(None) => worker.errors.push(ObjectError::new(
                entry.oid,
                format!(
                    "object {} is listed in the pack index but cannot be found",
                    entry.oid
                ),
            )),
            Err(e) => worker.errors.push(ObjectError::new(
                entry.oid,
                format!(
                    "object {} at offset {} cannot be decoded: {e}",
                    entry.oid, entry.pack_offset
                ),
            )),
        }
    }
}
