//! Every blob in the object database, decoded once, in parallel.
//!
//! Looking blobs up one id at a time re-inflates every delta base on the way to each object; on
//! a real history that is about four times slower than decoding each pack in the order its deltas
//! were built. So each pack is decoded as a delta tree (the way `git index-pack` and
//! `gix verify` do: every base once, its deltas applied to it while it is hot, across threads),
//! with checksum verification skipped since a scan reads, and does not vouch for, the pack.
//! Loose objects and alternates get a pass of their own.
//!
//! A pack's entries are untrusted: before the tree is decoded, a survey ([`audit::Survey`])
//! reads every entry's header (nothing inflated), which bounds every claimed size by what zlib
//! can expand the entry's bytes to, and a whole object's by the caps; the decode then proves
//! each claim with the same inflate that decodes the entry, so each entry is inflated once. What
//! is over a cap (known from the header, or for a delta once its instructions are inflated) is
//! read whole first, then decoded a prefix at a time.
//!
//! An object stored twice (in two packs, or packed and loose) is visited once: in the first pack
//! that holds it, or loose only if no pack does. Commits are decoded on the way too: history
//! walks then need no second pass over them.
//!
//! A corrupt object does not end the scan: it is reported with its id (and the deltas built on
//! it), and the rest of its pack is decoded; a pack whose decoding threads fail is read again
//! object by object.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result};
use gix::ObjectId;
use gix::hashtable::HashSet;
use gix::objs::{Find, Kind};
use gix::odb::pack;
use gix::odb::store::structure::Record;

use super::graph::RawCommit;
use super::idsearch::IndexSearch;
use super::progress::Progress;
use super::{BlobId, ObjectError, ObjectProblem};
use super::{audit, cache};

/// Receives blobs. Each worker thread gets its own clone, so a visitor can gather results
/// without locks and hand them over when it is dropped.
pub(crate) trait BlobVisitor: Clone + Send + Sync {
    /// `data` is the blob, or its first bytes when it is larger than the size cap; `size` is
    /// its whole size.
    fn visit(&mut self, id: BlobId, data: &[u8], size: u64);
    /// A blob larger than [`Options::max_blob`] stored whole in its pack, when
    /// [`Options::stream_blobs`] asks for it: its bytes as they inflate, to be read once (in
    /// windows); `size` is its whole size. A read error is damage to report.
    fn visit_stream(&mut self, id: BlobId, reader: &mut dyn std::io::Read, size: u64);

    /// Commit or tag `id`, whole (`data`), for its message. Called once per object, as it is
    /// decoded; a visitor that wants no message ignores it.
    fn message(&mut self, _id: ObjectId, _kind: Kind, _data: &[u8]) {}

    /// Blob `id`, which [`Options::skip`] names, is in the database: it was not decoded. Called
    /// once per blob, where [`BlobVisitor::visit`] would have been.
    fn skipped(&mut self, _id: BlobId) {}

    /// Commit `id`, which [`Options::commits`] knows (its message clean), is in the database: it
    /// was not decoded. Called once per commit, where [`BlobVisitor::message`] would have been.
    fn message_known(&mut self, _id: ObjectId) {}
}

pub(crate) struct Options<'a> {
    pub threads: usize,
    /// Visit only these blobs (`--reachable-only`); all blobs when `None`.
    pub only: Option<&'a HashSet<ObjectId>>,
    pub progress: &'a Progress,
    /// Blobs larger than this are decoded only this far (`--max-file-size`, or the most a
    /// history scan decodes in memory).
    pub max_blob: u64,
    /// A blob larger than `max_blob` that its pack stores whole (not as a delta) is handed to
    /// [`BlobVisitor::visit_stream`] as it inflates, rather than cut at `max_blob`.
    pub stream_blobs: bool,
    /// Blobs not to decode (known clean from a cache): each one found is handed to
    /// [`BlobVisitor::skipped`] instead; its entry is decoded only as another one's delta base.
    pub skip: Option<&'a (dyn Fn(&gix::oid) -> bool + Sync)>,
    /// Records of packs whose trees name only objects those packs hold (the blob cache): the
    /// trees of a pack they cover while every pack of the record is there are not decoded to be
    /// checked, unless damaged or over a cap (reported as ever) or a base of something decoded.
    pub checked: Option<&'a cache::CheckedPacks>,
    /// Commits the blob cache knows ([`cache::Known::commit`]: the graph's facts, a message
    /// scanned clean): a pack's entry for one is not decoded (unless damaged, too large, or a
    /// base of something decoded); the graph takes it from the cache, the visitor hears of it
    /// ([`BlobVisitor::message_known`]), and its tree is checked to be there as ever.
    pub commits: Option<&'a cache::Known>,
    /// Keep what each pack's survey found of its trees ([`Outcome::trees`]), for a trees pass
    /// to come ([`visit_trees`]).
    pub keep_trees: bool,
}

/// Trees, commits and tags larger than this are not read: git writes none near it.
const MAX_OTHER: u64 = 64 << 20;

/// The largest delta base held whole while a blob over the size cap is decoded.
const MAX_WHOLE_BASE: u64 = 256 << 20;

/// What a pass over the object database found besides blobs.
#[derive(Default)]
pub struct Outcome {
    /// Every commit in the database, reachable or not.
    pub commits: Vec<RawCommit>,
    /// Objects that could not be read; the pass went on without them.
    pub errors: Vec<ObjectError>,
    /// Every pack the pass read, when the object database is packs alone (no loose object),
    /// each could be opened and named ([`pack_id`]): with no error in `errors`, what a record
    /// of checked packs holds ([`cache::CheckedPacks`]).
    pub packs: Option<Vec<cache::PackId>>,
    /// With [`Options::keep_trees`]: what the surveys found of the packs' trees, for the trees
    /// pass ([`visit_trees`]) not to read their entry headers again.
    pub trees: SurveyedTrees,
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

/// One decoding thread's state (a pack's delta tree, loose objects or a re-read): it takes the
/// objects decoded, hands blobs to its visitor and keeps commits and errors until it is dropped.
struct DecodeThread<'a, V: BlobVisitor> {
    visitor: V,
    hash: gix::hash::Kind,
    only: Option<&'a HashSet<ObjectId>>,
    skip: Option<&'a (dyn Fn(&gix::oid) -> bool + Sync)>,
    /// Indices of the packs decoded before this one: their objects are not visited again.
    earlier: &'a [IndexSearch<'a>],
    /// Where every object is: for the check that what trees and commits name exists.
    present: &'a Presence<'a>,
    progress: &'a Progress,
    shared: &'a Mutex<Shared>,
    commits: Vec<RawCommit>,
    delivered: Vec<ObjectId>,
    errors: Vec<ObjectError>,
    /// Ids found present lately, by their first two bytes (see [`DecodeThread::is_present`]).
    checked: Vec<[u8; 20]>,
}

impl<V: BlobVisitor> Clone for DecodeThread<'_, V> {
    fn clone(&self) -> Self {
        DecodeThread {
            visitor: self.visitor.clone(),
            hash: self.hash,
            only: self.only,
            skip: self.skip,
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

impl<V: BlobVisitor> DecodeThread<'_, V> {
    fn object(&mut self, id: ObjectId, kind: Kind, data: &[u8], size: u64) {
        self.progress.object(data.len() as u64);
        match kind {
            Kind::Blob => {
                // A blob to skip that is decoded anyway is a delta base: it was handed over as
                // skipped when its pack was planned (or a re-read finds it in `delivered`).
                if self.only.is_some_and(|only| !only.contains(&id))
                    || self.skip.is_some_and(|skip| skip(&id))
                    || self.earlier.iter().any(|e| e.contains(&id))
                {
                    return;
                }
                self.delivered.push(id);
                self.visitor.visit(BlobId(id), data, size);
            }
            Kind::Commit | Kind::Tag if !self.earlier.iter().any(|e| e.contains(&id)) => {
                // Once per object: a copy in an earlier pack was handed over there.
                self.visitor.message(id, kind, data);
                if kind == Kind::Commit {
                    self.commit(id, data);
                }
            }
            Kind::Commit => self.commit(id, data),
            Kind::Tree => self.check_tree(id, data),
            Kind::Tag => {}
        }
    }

    /// Hands the blob `id`, too large to decode in memory, to the visitor as it inflates.
    fn stream(&mut self, id: ObjectId, reader: &mut dyn std::io::Read, size: u64) {
        self.progress.object(size);
        if self.only.is_some_and(|only| !only.contains(&id))
            || self.skip.is_some_and(|skip| skip(&id))
            || self.earlier.iter().any(|e| e.contains(&id))
        {
            return;
        }
        self.delivered.push(id);
        self.visitor.visit_stream(BlobId(id), reader, size);
    }

    /// Keeps commit `id` for the graph, and checks that its tree is there.
    fn commit(&mut self, id: ObjectId, data: &[u8]) {
        match RawCommit::parse(id, data, self.hash) {
            Ok(c) => self.keep_commit(c),
            Err(e) => self.errors.push(e.into()),
        }
    }

    /// Commit `c`, known to the cache and not decoded: as [`DecodeThread::object`] takes a
    /// commit decoded, the message from the cache.
    fn known_commit(&mut self, c: RawCommit) {
        self.visitor.message_known(c.id);
        self.keep_commit(c);
    }

    fn keep_commit(&mut self, c: RawCommit) {
        if !self.is_present(&c.tree) {
            self.errors.push(ObjectError::missing(
                c.tree,
                Some(Kind::Tree),
                format!("tree {} of commit {} is missing", c.tree, c.id),
            ));
        }
        self.commits.push(c)
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
                    let kind = if e.mode.is_tree() {
                        Kind::Tree
                    } else {
                        Kind::Blob
                    };
                    self.errors.push(ObjectError::missing(
                        e.oid.to_owned(),
                        Some(kind),
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
    indices: &'a [IndexSearch<'a>],
    loose: HashSet<ObjectId>,
}

impl Presence<'_> {
    fn contains(&self, id: &gix::oid) -> bool {
        self.indices.iter().any(|i| i.contains(id)) || self.loose.contains(id)
    }
}

/// Slots in a worker's cache of ids found present.
const CHECKED_SLOTS: usize = 1 << 16;

/// Missing objects listed one by one at most; more are counted.
const MAX_MISSING_LISTED: usize = 100;

/// One error per object (a missing blob is named by every tree that holds it), and a count in
/// place of a long tail: a damaged repository can lack every old blob. Errors are sorted by a
/// total order first, so which tree names a missing object does not depend on which thread
/// read it first. In a partial clone (`keep_missing`) missing objects are all kept, for
/// [`collapse_promised`] to count.
fn dedup_errors(errors: &mut Vec<ObjectError>, keep_missing: bool) {
    errors.sort_by(|a, b| (a.id, &a.message).cmp(&(b.id, &b.message)));
    let mut seen = HashSet::default();
    errors.retain(|e| e.id.is_none_or(|id| seen.insert(id)));
    if keep_missing {
        return;
    }
    let mut listed = 0usize;
    let mut extra = 0usize;
    errors.retain(|e| {
        if e.is_missing() {
            listed += 1;
            if listed > MAX_MISSING_LISTED {
                extra += 1;
                return false;
            }
        }
        true
    });
    if extra > 0 {
        errors.push(ObjectError::other(format!(
            "{extra} more objects that trees or commits name are missing (a damaged repository: `git fsck` shows them)"
        )));
    }
}

/// Whether the repository is a partial clone: promisor packs (`*.promisor` beside them), or
/// `extensions.partialClone` / `remote.<name>.promisor` in its configuration.
pub(crate) fn is_partial_clone(repo: &gix::Repository) -> bool {
    let config = repo.config_snapshot();
    if config.string("extensions.partialClone").is_some() {
        return true;
    }
    if repo
        .remote_names()
        .iter()
        .any(|name| config.boolean(&format!("remote.{name}.promisor")) == Some(true))
    {
        return true;
    }
    std::fs::read_dir(repo.objects.store_ref().path().join("pack")).is_ok_and(|dir| {
        dir.take(100_000)
            .filter_map(Result::ok)
            .any(|e| e.path().extension().is_some_and(|x| x == "promisor"))
    })
}

/// In a partial clone, the blobs it was cloned without are expected to be missing: they are
/// taken out of `errors` and counted in one line. That line is an error (the scan did not see
/// them: exit 2) unless `allow` (`--allow-missing-promised`), when it is a note.
pub(crate) fn collapse_promised(
    repo: &gix::Repository,
    errors: &mut Vec<ObjectError>,
    allow: bool,
    notes: &mut Vec<String>,
) {
    if !is_partial_clone(repo) {
        return;
    }
    let mut ids = HashSet::default();
    errors.retain(|e| match e.id {
        Some(id) if e.problem == ObjectProblem::Missing(Some(Kind::Blob)) => {
            ids.insert(id);
            false
        }
        _ => true,
    });
    let n = ids.len();
    if n == 0 {
        return;
    }
    let line = format!(
        "{n} blob{} {} not held locally by this partial clone; list them with `git rev-list --objects --all --missing=print`, or fetch without the filter",
        if n == 1 { "" } else { "s" },
        if n == 1 { "is" } else { "are" },
    );
    if allow {
        notes.push(format!(
            "{line} (accepted with --allow-missing-promised: they were not scanned)"
        ));
    } else {
        errors.push(ObjectError::other(format!(
            "{line}; --allow-missing-promised accepts that"
        )));
    }
}

impl<V: BlobVisitor> Drop for DecodeThread<'_, V> {
    fn drop(&mut self) {
        let mut s = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        s.commits.append(&mut self.commits);
        s.delivered.append(&mut self.delivered);
        s.errors.append(&mut self.errors);
    }
}

/// Visits every blob once (or every blob in `opts.only`), and returns all commits.
pub(crate) fn visit_blobs<V: BlobVisitor>(
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
    let loose: Vec<(PathBuf, Vec<ObjectId>)> = layout
        .loose
        .iter()
        .map(|dir| {
            let db = gix::odb::loose::Store::at(dir, hash);
            let ids: Vec<ObjectId> = db.iter().filter_map(Result::ok).collect();
            (dir.clone(), ids)
        })
        .collect();
    let searches: Vec<IndexSearch<'_>> = indices.iter().map(IndexSearch::new).collect();
    let present = Presence {
        indices: &searches,
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

    let ids: Vec<Option<cache::PackId>> = packs.iter().map(pack_id).collect();
    let covered = opts
        .checked
        .map(|c| c.covering(&ids.iter().flatten().copied().collect::<Vec<_>>()))
        .unwrap_or_default();
    out.packs = (out.errors.is_empty() && loose.iter().all(|(_, l)| l.is_empty()))
        .then(|| ids.iter().copied().collect::<Option<Vec<_>>>())
        .flatten();
    for (n, (index, data)) in indices.iter().zip(&packs).enumerate() {
        let make_worker = || decode_thread(&visitor, hash, opts, &searches[..n], &present, &shared);
        let trees_checked = ids[n].is_some_and(|id| covered.contains(&id));
        let mut plan = plan_pack(index, data, hash, opts, trees_checked);
        out.trees.packs.extend(plan.trees.take());
        if opts.skip.is_some() {
            // Each blob to skip once, where it would have been visited: in the first pack that
            // holds it (and among those `only` lets through).
            let mut worker = make_worker();
            for a in plan.spared.iter().map(|&i| &plan.audit[i]) {
                if opts.only.is_none_or(|only| only.contains(&a.oid))
                    && !searches[..n].iter().any(|e| e.contains(&a.oid))
                {
                    worker.visitor.skipped(BlobId(a.oid));
                }
            }
        }
        if let Some(known) = opts.commits {
            // Each commit the cache spares once, in the first pack that holds it.
            let mut worker = make_worker();
            for a in plan.spared_commits.iter().map(|&i| &plan.audit[i]) {
                if let Some(facts) = known.commit(&a.oid)
                    && !searches[..n].iter().any(|e| e.contains(&a.oid))
                {
                    worker.known_commit(facts.raw(a.oid));
                }
            }
        }
        out.errors.extend(plan.errors.iter().cloned());
        let result = decode_tree(data, &plan, hash, opts, make_worker());
        let delivered =
            std::mem::take(&mut shared.lock().unwrap_or_else(|p| p.into_inner()).delivered);
        decode_outside(data, &plan.audit, &plan.prefix, hash, opts, make_worker());
        // Entries neither decoded nor visited still count as done for the progress bar.
        for _ in plan.prefix.len()..plan.outside.len() {
            opts.progress.object(0);
        }
        let result = result.map(|late| decode_late(data, &plan, &late, hash, opts, make_worker()));
        if let Err(e) = result {
            out.errors.push(ObjectError::other(format!(
                "pack {} is damaged ({e}); its objects were read one by one",
                data.path().display()
            )));
            let mut done: HashSet<ObjectId> = delivered.into_iter().collect();
            // What the plan left out was reported or handed over already.
            done.extend(plan.outside.iter().map(|&i| plan.audit[i].oid));
            reread_pack(
                repo,
                index,
                &searches[..n],
                &present,
                &done,
                opts,
                &visitor,
                &shared,
            );
        }
    }

    // Scoped threads, all joined before this returns (a rayon pool's threads outlive it for a
    // moment, and the trees pass that may come next starts its own: --threads bounds how many
    // exist at once).
    for (dir, ids) in &loose {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let workers = opts.threads.max(1).min(ids.len().max(1));
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    let mut worker = decode_thread(&visitor, hash, opts, &[], &present, &shared);
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(id) = ids.get(i) else { break };
                        if searches.iter().any(|x| x.contains(id)) {
                            opts.progress.object(0);
                            continue;
                        }
                        // Only blob ids are skipped: an object of another kind never has one.
                        if opts.skip.is_some_and(|skip| skip(id))
                            && opts.only.is_none_or(|only| only.contains(id))
                        {
                            opts.progress.object(0);
                            worker.visitor.skipped(BlobId(*id));
                            continue;
                        }
                        // A blob too large to decode in memory is scanned as it inflates.
                        if opts.stream_blobs
                            && let Some((mut reader, size)) = big_loose_blob(dir, id, opts.max_blob)
                        {
                            worker.stream(*id, &mut reader, size);
                            continue;
                        }
                        match read_loose(dir, id, opts.max_blob) {
                            Ok(o) => worker.object(*id, o.kind, &o.data, o.size),
                            Err(e) => worker.errors.push(ObjectError::new(
                                *id,
                                format!("loose object {id} is damaged: {e}"),
                            )),
                        }
                    }
                });
            }
        });
    }
    let shared = shared.into_inner().unwrap_or_else(|p| p.into_inner());
    out.commits = shared.commits;
    out.errors.extend(shared.errors);
    dedup_errors(&mut out.errors, is_partial_clone(repo));
    Ok(out)
}

/// Every commit in the object database, reachable or not, from a pass of its own that scans no
/// blob: the commit graph without the blob scan, for when that scan is skipped or partial (a
/// future cache of scanned packs must not lose their commits). With no blob wanted, the plan
/// leaves blobs out of each delta tree, so this pass decodes commits, trees and tags (and the
/// rare blob one of them is a delta of). A full scan does not call it: [`visit_blobs`] collects
/// the same commits on its way, with no second decode.
#[cfg_attr(
    not(test),
    expect(
        dead_code,
        reason = "the graph phase on its own, for a cache of scanned packs; no caller yet"
    )
)]
pub(crate) fn commits(repo: &gix::Repository, threads: usize) -> Result<Outcome> {
    let progress = Progress::default();
    let none = HashSet::default();
    visit_blobs(
        repo,
        &Options {
            threads,
            only: Some(&none),
            progress: &progress,
            // Only a blob that a commit, tree or tag is a delta of is decoded: whole, as the
            // object built on it must be.
            max_blob: MAX_OTHER,
            stream_blobs: false,
            skip: None,
            checked: None,
            commits: None,
            keep_trees: false,
        },
        NoBlobs,
    )
}

/// The visitor of a pass that wants no blob.
#[derive(Clone)]
struct NoBlobs;

impl BlobVisitor for NoBlobs {
    fn visit(&mut self, _: BlobId, _: &[u8], _: u64) {}
    fn visit_stream(&mut self, _: BlobId, _: &mut dyn std::io::Read, _: u64) {}
}

/// A decoding thread's state for a pass that is not one pack's delta tree (loose objects, a
/// damaged pack re-read object by object); `earlier` are the pack indices whose objects it must
/// not visit again.
fn decode_thread<'a, V: BlobVisitor>(
    visitor: &V,
    hash: gix::hash::Kind,
    opts: &Options<'a>,
    earlier: &'a [IndexSearch<'a>],
    present: &'a Presence<'a>,
    shared: &'a Mutex<Shared>,
) -> DecodeThread<'a, V> {
    DecodeThread {
        visitor: visitor.clone(),
        hash,
        only: opts.only,
        skip: opts.skip,
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
    earlier: &[IndexSearch<'_>],
    present: &Presence<'_>,
    delivered: &HashSet<ObjectId>,
    opts: &Options<'_>,
    visitor: &V,
    shared: &Mutex<Shared>,
) {
    let mut worker = decode_thread(visitor, repo.object_hash(), opts, earlier, present, shared);
    let mut buf = Vec::new();
    for entry in index.iter() {
        if delivered.contains(&entry.oid) {
            continue;
        }
        match repo.objects.try_find(&entry.oid, &mut buf) {
            Ok(Some(d)) => {
                let (kind, data) = (d.kind, d.data);
                worker.object(entry.oid, kind, data, data.len() as u64);
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

/// What to do with each entry of a pack, from its survey ([`audit::Survey`]).
struct Plan {
    /// Every entry, by offset: sizes as claimed, proven for those read whole (`verified`): the
    /// entries of `prefix` and the bases they build on.
    audit: Vec<audit::Audited>,
    /// Entries left out of the delta tree (by index into `audit`): damaged, too large to decode
    /// whole, or not wanted (`--reachable-only`), and the deltas that build on them.
    outside: Vec<usize>,
    /// Those of `outside` to decode a prefix of, one by one (blobs over the size cap and deltas
    /// of them), in pack order.
    prefix: Vec<usize>,
    /// Damaged and unreadable entries, named.
    errors: Vec<ObjectError>,
    /// Blobs [`Options::skip`] names, sound down their chain: not visited (decoded only as
    /// another entry's base), handed to [`BlobVisitor::skipped`].
    spared: Vec<usize>,
    /// Commits [`Options::commits`] knows, sound down their chain and not decoded (as no
    /// entry's base): taken from the cache.
    spared_commits: Vec<usize>,
    /// With [`Options::keep_trees`], what the survey found of the pack's trees, if it found no
    /// damage.
    trees: Option<PackTrees>,
}

/// `trees_checked`: the pack's trees are known to name nothing missing; they are not wanted.
fn plan_pack(
    index: &pack::index::File,
    data: &pack::data::File,
    hash: gix::hash::Kind,
    opts: &Options<'_>,
    trees_checked: bool,
) -> Plan {
    let bytes = data
        .entry_slice(0..data.data_len() as u64)
        .unwrap_or_default();
    let entries: Vec<(ObjectId, u64)> = index.iter().map(|e| (e.oid, e.pack_offset)).collect();
    let hash_len = hash.len_in_bytes();
    let mut survey = audit::Survey::new(bytes, entries, hash_len, opts.threads);
    let mut audit = survey.audited();
    let mut known = known_to_cache(&audit, opts);
    let (mut needed, mut heavy) = triage(&audit, &known, opts, trees_checked);
    // What is decoded outside the delta tree is decoded a prefix at a time, trusting the sizes
    // it and its bases claim: those are read whole first. They are few (blobs over the cap), so
    // their second inflate costs little; everything else is proven as the delta tree decodes it.
    let mut whole = Vec::new();
    let mut marked = vec![false; audit.len()];
    for i in 0..audit.len() {
        if !(needed[i] && heavy[i] && audit[i].problem.is_none() && !audit[i].verified) {
            continue;
        }
        let mut c = Some(i);
        while let Some(j) = c.filter(|&j| !marked[j]) {
            marked[j] = true;
            whole.push(j);
            c = audit[j].base();
        }
    }
    if !whole.is_empty() {
        whole.sort_unstable();
        survey.verify(bytes, &whole, hash_len);
        // The first plan goes before the second is built: two at once would double the peak.
        drop(std::mem::take(&mut audit));
        audit = survey.audited();
        known = known_to_cache(&audit, opts);
        (needed, heavy) = triage(&audit, &known, opts, trees_checked);
    }
    let trees = opts
        .keep_trees
        .then(|| PackTrees::of(index, data, &audit, survey.positions()))
        .flatten();
    drop(survey);
    let mut plan = Plan {
        outside: Vec::new(),
        prefix: Vec::new(),
        errors: Vec::new(),
        audit: Vec::new(),
        spared: Vec::new(),
        spared_commits: Vec::new(),
        trees,
    };
    for (i, a) in audit.iter().enumerate() {
        if a.kind == Some(Kind::Blob) && !heavy[i] && known[i] {
            plan.spared.push(i);
        }
        if !needed[i] {
            // Not needed, a commit is one the cache knows (triage wants every other).
            if a.kind == Some(Kind::Commit) {
                plan.spared_commits.push(i);
            }
            plan.outside.push(i);
            continue;
        }
        if !heavy[i] {
            continue;
        }
        plan.outside.push(i);
        let id = a.oid;
        match (&a.problem, a.kind) {
            (Some(p), _) => plan.errors.push(damaged_at(id, data.path(), p)),
            (None, Some(Kind::Blob)) => plan.prefix.push(i),
            (None, kind) => plan.errors.push(too_large(id, kind, a.size)),
        }
    }
    plan.audit = audit;
    plan
}

/// How a record of checked packs names `pack`; `None` if its file cannot be examined.
fn pack_id(pack: &pack::data::File) -> Option<cache::PackId> {
    let meta = std::fs::symlink_metadata(pack.path()).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_nanos();
    Some(cache::PackId {
        checksum: pack.checksum(),
        len: meta.len(),
        modified: u64::try_from(modified).ok()?,
    })
}

/// The error for object `id`, not a blob, whose size is over what a scan reads for one.
fn too_large(id: ObjectId, kind: Option<Kind>, size: u64) -> ObjectError {
    ObjectError::new(
        id,
        format!(
            "{} {id} has {size} bytes, more than credsweep reads for one (64 MiB); not read",
            kind.map_or("object".to_string(), |k| k.to_string()),
        ),
    )
}

/// Entries looked up in the blob cache per thread at a time.
const LOOKUP_BLOCK: usize = 1 << 12;

/// For each entry of `audit`, whether the blob cache knows it: a blob [`Options::skip`] names,
/// or a commit [`Options::commits`] knows. The lookups (one per entry, into tables larger than
/// the processor's caches) are shared out between `opts.threads` threads; each answer depends on
/// its entry alone.
fn known_to_cache(audit: &[audit::Audited], opts: &Options<'_>) -> Vec<bool> {
    let mut known = vec![false; audit.len()];
    if opts.skip.is_none() && opts.commits.is_none() {
        return known;
    }
    let look = |a: &audit::Audited| match a.kind {
        Some(Kind::Blob) => opts.skip.is_some_and(|s| s(&a.oid)),
        Some(Kind::Commit) => opts.commits.is_some_and(|k| k.commit(&a.oid).is_some()),
        _ => false,
    };
    let fill = |(slots, entries): (&mut [bool], &[audit::Audited])| {
        for (slot, a) in slots.iter_mut().zip(entries) {
            *slot = look(a);
        }
    };
    let threads = opts
        .threads
        .clamp(1, audit.len().div_ceil(LOOKUP_BLOCK).max(1));
    if threads == 1 {
        fill((&mut known, audit));
        return known;
    }
    // A worker's panic leaves its entries unknown: scanned, as if the cache did not have them.
    super::share::share_blocks(
        known
            .chunks_mut(LOOKUP_BLOCK)
            .zip(audit.chunks(LOOKUP_BLOCK)),
        threads,
        || (),
        |_, block| fill(block),
    );
    known
}

/// Which entries a scan needs (non-blobs, blobs `only` lets through, and every base they build
/// on), and which are heavy: damaged or over a size cap, themselves or down their chain. Trees
/// are not wanted when `trees_checked` (unless heavy: reported as a cold scan reports them).
/// `known`: which entries the blob cache knows ([`known_to_cache`]).
fn triage(
    audit: &[audit::Audited],
    known: &[bool],
    opts: &Options<'_>,
    trees_checked: bool,
) -> (Vec<bool>, Vec<bool>) {
    let n = audit.len();
    // `None`: not known yet.
    let mut heavy: Vec<Option<bool>> = vec![None; n];
    let own = |a: &audit::Audited| {
        a.problem.is_some()
            || match a.kind {
                Some(Kind::Blob) => a.size > opts.max_blob,
                _ => a.size > MAX_OTHER,
            }
    };
    // One chain buffer for every entry: most entries have a chain of one (their own), which
    // would otherwise cost an allocation each.
    let mut chain = Vec::new();
    for i in 0..n {
        chain.clear();
        let mut c = Some(i);
        let mut verdict = false;
        while let Some(j) = c {
            if let Some(v) = heavy[j] {
                verdict = v;
                break;
            }
            chain.push(j);
            if own(&audit[j]) || chain.len() > n {
                verdict = true;
                break;
            }
            c = audit[j].base();
        }
        for &j in chain.iter().rev() {
            verdict = verdict || own(&audit[j]);
            heavy[j] = Some(verdict);
        }
    }
    let heavy: Vec<bool> = heavy.into_iter().map(|h| h == Some(true)).collect();
    let mut needed = vec![false; n];
    for (i, a) in audit.iter().enumerate() {
        let wanted = match (a.kind, opts.only) {
            // Known clean (a cache): not wanted, unless damaged down its chain (reported as a
            // cold scan reports it).
            (Some(Kind::Blob), _) if !heavy[i] && known[i] => false,
            // Checked by an earlier scan (a record of checked packs): not wanted, unless
            // damaged or too large down its chain.
            (Some(Kind::Tree), _) if trees_checked && !heavy[i] => false,
            // Known to the cache: taken from it, unless damaged or too large down its chain.
            (Some(Kind::Commit), _) if !heavy[i] && known[i] => false,
            (Some(Kind::Blob), Some(only)) => only.contains(&a.oid),
            // A damaged entry's kind may be unknown: report it unless it is a blob left out.
            (None, Some(only)) => only.contains(&a.oid) || a.problem.is_some(),
            _ => true,
        };
        if wanted {
            let mut c = Some(i);
            let mut steps = 0;
            while let Some(j) = c {
                if needed[j] && j != i || steps > n {
                    break;
                }
                needed[j] = true;
                steps += 1;
                c = audit[j].base();
            }
        }
    }
    (needed, heavy)
}

/// A decoding buffer larger than this is let go once the entries that use it are done, so a
/// thread keeps only small buffers between delta trees.
const KEEP_BUFFER: usize = 1 << 20;

/// The largest decoding buffer a thread keeps from one delta tree to the next.
const KEEP_BETWEEN_TREES: usize = 128 << 10;

/// Decodes the entries the plan leaves in the delta tree, each base once, its deltas applied to
/// it while it is held, trees shared out between `opts.threads` threads, the largest first.
///
/// Each entry's bytes are inflated once, and that inflate proves what the survey took on trust:
/// an object inflates to exactly the size its header claims, a delta's base is the size it says,
/// its copies stay inside that base and it produces exactly the result it claims
/// ([`audit::inflate_entry`], [`audit::apply_delta`]). An entry that fails is named as damaged,
/// with the deltas built on it; the rest of the pack is decoded. A delta whose result turns out
/// to be over its cap is left, with the deltas built on it, for [`decode_late`]: they are
/// returned. Fails only if a thread does.
fn decode_tree<V: BlobVisitor>(
    data: &pack::data::File,
    plan: &Plan,
    hash: gix::hash::Kind,
    opts: &Options<'_>,
    worker: DecodeThread<'_, V>,
) -> std::result::Result<Vec<usize>, String> {
    let bytes = data
        .entry_slice(0..data.data_len() as u64)
        .unwrap_or_default();
    let audit = &plan.audit;
    let n = audit.len();
    let mut inside = vec![true; n];
    for &i in &plan.outside {
        inside[i] = false;
    }
    // The deltas built on each entry: `kids[starts[i]..starts[i + 1]]` (u32: a pack index
    // counts its entries in 32 bits).
    let mut starts = vec![0u32; n + 1];
    for (i, a) in audit.iter().enumerate() {
        if let Some(b) = a.base().filter(|_| inside[i]) {
            starts[b + 1] += 1;
        }
    }
    for i in 0..n {
        starts[i + 1] += starts[i];
    }
    let mut kids = vec![0u32; starts[n] as usize];
    let mut cursor = starts.clone();
    for (i, a) in audit.iter().enumerate() {
        if let Some(b) = a.base().filter(|_| inside[i]) {
            kids[cursor[b] as usize] = i as u32;
            cursor[b] += 1;
        }
    }
    drop(cursor);
    let tree = DeltaTree {
        starts,
        kids,
        bytes,
        plan,
        path: data.path(),
        hash_len: hash.len_in_bytes(),
        max_blob: opts.max_blob,
    };
    let roots = tree.largest_first((0..n).filter(|&i| inside[i] && audit[i].base().is_none()));
    drop(inside);

    let next = AtomicUsize::new(0);
    let threads = opts.threads.clamp(1, roots.len().max(1));
    let finished = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let mut worker = worker.clone();
                let (tree, roots, next) = (&tree, &roots, &next);
                scope.spawn(move || {
                    let mut state = TreeThread::default();
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&root) = roots.get(k) else { break };
                        tree.decode_from(root, &mut state, &mut worker);
                    }
                    state.late
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join())
            .collect::<std::result::Result<Vec<Vec<usize>>, _>>()
    });
    match finished {
        Ok(late) => Ok(late.concat()),
        Err(_) => Err("a decoding thread failed".into()),
    }
}

/// The entries of a pack's delta tree and how to reach their bytes.
struct DeltaTree<'a> {
    starts: Vec<u32>,
    kids: Vec<u32>,
    bytes: &'a [u8],
    plan: &'a Plan,
    path: &'a Path,
    hash_len: usize,
    max_blob: u64,
}

/// A tree-decoding thread's buffers, kept from one entry to the next.
#[derive(Default)]
struct TreeThread {
    z: gix::zlib::Decompress,
    /// The object decoded at each depth of the current chain: `levels[d][..lens[d]]`.
    levels: Vec<Vec<u8>>,
    lens: Vec<usize>,
    /// A delta's instructions, inflated.
    delta: Vec<u8>,
    /// Entries to decode, with their depth.
    stack: Vec<(usize, usize)>,
    /// Deltas found over their cap, and the deltas built on them.
    late: Vec<usize>,
}

/// What became of an entry of the delta tree.
enum Decoded {
    /// Decoded: its kind and size (the object is the first `size` bytes of its level's buffer).
    Object(Kind, usize),
    /// A delta whose result is over its cap: for [`decode_late`].
    OverCap,
}

impl DeltaTree<'_> {
    fn kids(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.kids[self.starts[i] as usize..self.starts[i + 1] as usize]
            .iter()
            .map(|&k| k as usize)
    }

    /// `roots` ordered by the size of their trees (in entries), largest first: so that no
    /// thread is left with a large tree at the end.
    fn largest_first(&self, roots: impl Iterator<Item = usize>) -> Vec<usize> {
        let mut roots: Vec<usize> = roots.collect();
        let audit = &self.plan.audit;
        let mut weight = vec![1u32; audit.len()];
        let mut order = Vec::with_capacity(audit.len());
        let mut stack = Vec::new();
        for &r in &roots {
            stack.push(r);
            while let Some(i) = stack.pop() {
                order.push(i as u32);
                stack.extend(self.kids(i));
            }
        }
        for &i in order.iter().rev() {
            if let Some(b) = audit[i as usize].base() {
                weight[b] = weight[b].saturating_add(weight[i as usize]);
            }
        }
        roots.sort_by_key(|&r| std::cmp::Reverse(weight[r]));
        roots
    }

    /// Decodes `root` and every delta built on it, depth first: an entry's base is the object
    /// one level up, held until the entries below it are done.
    fn decode_from<V: BlobVisitor>(
        &self,
        root: usize,
        t: &mut TreeThread,
        worker: &mut DecodeThread<'_, V>,
    ) {
        let audit = &self.plan.audit;
        t.stack.push((root, 0));
        while let Some((i, d)) = t.stack.pop() {
            // The levels below `d` belong to trees that are done: large buffers go.
            for level in t.levels.iter_mut().skip(d) {
                if level.capacity() > KEEP_BUFFER {
                    *level = Vec::new();
                }
            }
            if t.levels.len() <= d {
                t.levels.resize_with(d + 1, Vec::new);
                t.lens.resize(d + 1, 0);
            }
            let a = &audit[i];
            match self.decode_one(i, d, t) {
                Ok(Decoded::Object(kind, len)) => {
                    t.lens[d] = len;
                    worker.object(a.oid, kind, &t.levels[d][..len], len as u64);
                    t.stack.extend(self.kids(i).map(|k| (k, d + 1)));
                }
                Ok(Decoded::OverCap) => {
                    let mut below = vec![i];
                    while let Some(b) = below.pop() {
                        t.late.push(b);
                        below.extend(self.kids(b));
                    }
                }
                Err(problem) => {
                    worker.progress.object(0);
                    worker.errors.push(damaged_at(a.oid, self.path, &problem));
                    self.damage_below(i, worker);
                }
            }
        }
        // Between trees a thread keeps small buffers only: a tree's large objects are not held
        // while other trees decode.
        for buffer in t.levels.iter_mut().chain([&mut t.delta]) {
            if buffer.capacity() > KEEP_BETWEEN_TREES {
                *buffer = Vec::new();
            }
        }
    }

    /// Decodes entry `i` into `t.levels[d]`, its base (if a delta) being `t.levels[d - 1]`.
    fn decode_one(
        &self,
        i: usize,
        d: usize,
        t: &mut TreeThread,
    ) -> std::result::Result<Decoded, String> {
        let a = &self.plan.audit[i];
        let kind = a.kind.ok_or("its kind is not known")?;
        let max = if kind == Kind::Blob {
            self.max_blob
        } else {
            MAX_OTHER
        };
        let h = audit::parse_header(self.bytes, a.offset, self.hash_len)?;
        // An entry ends where the next begins, the last at the pack's checksum.
        let pack_end = self.bytes.len().saturating_sub(self.hash_len);
        let end = self.plan.audit.get(i + 1).map_or(pack_end, |e| {
            usize::try_from(e.offset)
                .unwrap_or(usize::MAX)
                .min(pack_end)
        });
        // The entry's bytes, and the rest of the pack after them for zlib to look ahead into
        // ([`audit::inflate_entry`]).
        let rest = self.bytes.get(h.data_start..).unwrap_or_default();
        let entry_len = end.saturating_sub(h.data_start);
        let claimed = usize::try_from(h.claimed).unwrap_or(usize::MAX);
        match (h.stored, a.base()) {
            (audit::Stored::Base(_), _) => {
                // The plan leaves whole objects over the cap out of the tree.
                if h.claimed > max {
                    return Err(format!(
                        "its header claims {} bytes, more than credsweep decodes here ({max} bytes)",
                        h.claimed
                    ));
                }
                audit::inflate_entry(&mut t.z, rest, entry_len, claimed, &mut t.levels[d])?;
                Ok(Decoded::Object(kind, claimed))
            }
            (_, Some(b)) if d > 0 => {
                // git's instructions are hardly longer than their result (an insert costs a
                // byte in 127): longer ones, which may make a result over the cap, are read
                // the bounded way, so that no buffer here grows much past the cap.
                if h.claimed > max.saturating_add(max / 8).saturating_add(64) {
                    return Ok(Decoded::OverCap);
                }
                audit::inflate_entry(&mut t.z, rest, entry_len, claimed, &mut t.delta)?;
                if audit::delta_header(&t.delta[..claimed]).is_some_and(|(_, size)| size > max) {
                    return Ok(Decoded::OverCap);
                }
                let (above, here) = t.levels.split_at_mut(d);
                let base = &above[d - 1][..t.lens[d - 1]];
                let len = audit::apply_delta(
                    base,
                    &self.plan.audit[b].oid,
                    &t.delta[..claimed],
                    max,
                    &mut here[0],
                )?;
                Ok(Decoded::Object(kind, len))
            }
            _ => Err("its delta base was not decoded".into()),
        }
    }

    /// Names every delta built on entry `i`, which could not be decoded, as damaged.
    fn damage_below<V: BlobVisitor>(&self, i: usize, worker: &mut DecodeThread<'_, V>) {
        let audit = &self.plan.audit;
        let mut stack = vec![i];
        while let Some(b) = stack.pop() {
            for k in self.kids(b) {
                worker.progress.object(0);
                let problem = format!("its delta base {} is damaged", audit[b].oid);
                worker
                    .errors
                    .push(damaged_at(audit[k].oid, self.path, &problem));
                stack.push(k);
            }
        }
    }
}

/// The error for entry `id` of the pack at `path`, damaged as `problem` says.
fn damaged_at(id: ObjectId, path: &Path, problem: &str) -> ObjectError {
    ObjectError::new(
        id,
        format!("object {id} in {} is damaged: {problem}", path.display()),
    )
}

/// Decodes the blobs over the size cap (and deltas built on them) one at a time, each to the
/// cap: a base object in windows, a delta over its base held whole (at most [`MAX_WHOLE_BASE`]).
fn decode_outside<V: BlobVisitor>(
    data: &pack::data::File,
    audited: &[audit::Audited],
    prefix: &[usize],
    hash: gix::hash::Kind,
    opts: &Options<'_>,
    mut worker: DecodeThread<'_, V>,
) {
    let bytes = data
        .entry_slice(0..data.data_len() as u64)
        .unwrap_or_default();
    let mut cache = None;
    for &i in prefix {
        let a = &audited[i];
        if worker.earlier.iter().any(|e| e.contains(&a.oid))
            || worker.only.is_some_and(|only| !only.contains(&a.oid))
        {
            continue;
        }
        if opts.stream_blobs && a.base().is_none() && a.size > opts.max_blob {
            match whole_blob(bytes, a.offset, hash.len_in_bytes()) {
                Ok(mut reader) => worker.stream(a.oid, &mut reader, a.size),
                Err(e) => worker.errors.push(ObjectError::new(
                    a.oid,
                    format!("blob {} ({} bytes) was not scanned: {e}", a.oid, a.size),
                )),
            }
            continue;
        }
        match audit::decode_prefix(
            bytes,
            audited,
            i,
            opts.max_blob,
            MAX_WHOLE_BASE.max(opts.max_blob),
            hash.len_in_bytes(),
            &mut cache,
        ) {
            Ok(prefix) => worker.object(a.oid, Kind::Blob, &prefix, a.size),
            Err(e) => worker.errors.push(ObjectError::new(
                a.oid,
                format!("blob {} ({} bytes) was not scanned: {e}", a.oid, a.size),
            )),
        }
    }
}

/// Decodes what the delta tree found over a cap (deltas whose results are known only once their
/// instructions are inflated, `late`, with the deltas built on them) as the plan decodes what it
/// knows to be over a cap from the start: each read whole with the bases it builds on
/// ([`audit::audit_with_ends`]), then a blob decoded to the cap ([`decode_outside`]), anything
/// else named.
fn decode_late<V: BlobVisitor>(
    data: &pack::data::File,
    plan: &Plan,
    late: &[usize],
    hash: gix::hash::Kind,
    opts: &Options<'_>,
    mut worker: DecodeThread<'_, V>,
) {
    if late.is_empty() {
        return;
    }
    let bytes = data
        .entry_slice(0..data.data_len() as u64)
        .unwrap_or_default();
    let hash_len = hash.len_in_bytes();
    let audited = &plan.audit;
    // The late entries and every base they build on, by offset.
    let mut seen = std::collections::HashSet::new();
    let mut chains = Vec::new();
    for &i in late {
        let mut c = Some(i);
        while let Some(j) = c.filter(|&j| seen.insert(j)) {
            chains.push(j);
            c = audited[j].base();
        }
    }
    chains.sort_unstable();
    let pack_end = bytes.len().saturating_sub(hash_len);
    let entries: Vec<(ObjectId, u64)> = chains
        .iter()
        .map(|&j| (audited[j].oid, audited[j].offset))
        .collect();
    let ends: Vec<usize> = chains
        .iter()
        .map(|&j| {
            audited.get(j + 1).map_or(pack_end, |e| {
                usize::try_from(e.offset)
                    .unwrap_or(usize::MAX)
                    .min(pack_end)
            })
        })
        .collect();
    let whole = audit::audit_with_ends(bytes, &entries, &ends, hash_len, opts.threads);
    let late: std::collections::HashSet<usize> = late.iter().copied().collect();
    let mut prefix = Vec::new();
    for (k, &j) in chains.iter().enumerate() {
        if !late.contains(&j) {
            continue;
        }
        let a = &whole[k];
        match (&a.problem, a.kind) {
            (Some(p), _) => {
                worker.progress.object(0);
                worker.errors.push(damaged_at(a.oid, data.path(), p));
            }
            (None, Some(Kind::Blob)) => prefix.push(k),
            (None, kind) => {
                worker.progress.object(0);
                worker.errors.push(too_large(a.oid, kind, a.size));
            }
        }
    }
    decode_outside(data, &whole, &prefix, hash, opts, worker);
}

/// The blob stored whole at `offset` of `pack`, inflating as it is read (at most the size its
/// header claims). The audit checked that it inflates to that size.
fn whole_blob(
    pack: &[u8],
    offset: u64,
    hash_len: usize,
) -> std::result::Result<impl std::io::Read + '_, String> {
    let h = audit::parse_header(pack, offset, hash_len)?;
    if h.stored != audit::Stored::Base(Kind::Blob) {
        return Err("it is not stored whole".into());
    }
    let input = pack
        .get(h.data_start..)
        .ok_or_else(|| "its data lies past the end of the pack".to_string())?;
    Ok(std::io::Read::take(Inflating::new(input), h.claimed))
}

/// A zlib stream read from `input`, inflated as it is read (the input read in 64 KiB pieces).
struct Inflating<R> {
    z: gix::zlib::Decompress,
    input: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    done: bool,
}

impl<R: std::io::Read> Inflating<R> {
    fn new(input: R) -> Inflating<R> {
        Inflating {
            z: gix::zlib::Decompress::new(),
            input,
            buf: vec![0; 64 << 10],
            start: 0,
            end: 0,
            eof: false,
            done: false,
        }
    }
}

impl<R: std::io::Read> std::io::Read for Inflating<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        use gix::zlib::{FlushDecompress, Status};
        use std::io::{Error, ErrorKind};
        if self.done || out.is_empty() {
            return Ok(0);
        }
        loop {
            if self.start == self.end && !self.eof {
                self.end = self.input.read(&mut self.buf)?;
                self.start = 0;
                self.eof = self.end == 0;
            }
            let (in_before, out_before) = (self.z.total_in(), self.z.total_out());
            let status = self
                .z
                .decompress(&self.buf[self.start..self.end], out, FlushDecompress::None)
                .map_err(|_| Error::new(ErrorKind::InvalidData, "its data is not a zlib stream"))?;
            let consumed = (self.z.total_in() - in_before) as usize;
            self.start += consumed;
            let n = (self.z.total_out() - out_before) as usize;
            if status == Status::StreamEnd {
                self.done = true;
                return Ok(n);
            }
            if n > 0 {
                return Ok(n);
            }
            if consumed == 0 && (self.eof || self.start < self.end) {
                return Err(Error::new(
                    ErrorKind::UnexpectedEof,
                    "its zlib stream ends before its data does",
                ));
            }
        }
    }
}

/// Refuses a repository with a loose object that is a FIFO (or a symlink to one): gix opens
/// loose objects without checking their type, and opening a FIFO blocks until something writes
/// to it. Other loose objects that are not regular files cannot block; the object pass names
/// them ([`read_loose`]).
pub(crate) fn refuse_blocking_loose_objects(repo: &gix::Repository) -> Result<()> {
    use std::os::unix::fs::FileTypeExt;
    let layout = layout(repo)?;
    for dir in &layout.loose {
        let db = gix::odb::loose::Store::at(dir, repo.object_hash());
        for id in db.iter().filter_map(Result::ok) {
            let hex = id.to_string();
            let path = dir.join(&hex[..2]).join(&hex[2..]);
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.file_type().is_file() {
                continue;
            }
            let target = std::fs::metadata(&path).map(|m| m.file_type());
            if target.is_ok_and(|t| t.is_fifo() || t.is_socket()) {
                anyhow::bail!(
                    "loose object {id} ({}) is a FIFO, not a file: reading it would block, so the repository is not scanned (remove it; `git fsck` names it as damaged)",
                    path.display()
                );
            }
        }
    }
    Ok(())
}

/// Reads single blobs within the same bounds as the all-objects pass: each pack entry on the
/// way (the blob and its delta bases) is audited first ([`audit`]), blobs over the cap are
/// decoded to the cap, loose objects are read by [`read_loose`]. For scans that read a few
/// blobs by id (`--range`).
pub(crate) struct BoundedBlobs {
    packs: Vec<OnePack>,
    loose: Vec<PathBuf>,
    max_blob: u64,
    hash: gix::hash::Kind,
}

struct OnePack {
    index: pack::index::File,
    data: pack::data::File,
    /// Every entry's offset and id, by offset: where each entry ends, and who its base is.
    by_offset: Vec<(u64, ObjectId)>,
}

/// Delta chains deeper than this are damage (git's default maximum is 4095, `--depth`'s 4095).
const MAX_CHAIN: usize = 10_000;

impl BoundedBlobs {
    pub fn new(repo: &gix::Repository, max_blob: u64) -> Result<Self> {
        let layout = layout(repo)?;
        let hash = repo.object_hash();
        let packs = layout
            .indices
            .iter()
            .filter_map(|path| {
                let index = pack::index::File::at(path, hash).ok()?;
                let data = pack::data::File::at(path.with_extension("pack"), hash).ok()?;
                let mut by_offset: Vec<(u64, ObjectId)> =
                    index.iter().map(|e| (e.pack_offset, e.oid)).collect();
                by_offset.sort();
                Some(OnePack {
                    index,
                    data,
                    by_offset,
                })
            })
            .collect();
        Ok(BoundedBlobs {
            packs,
            loose: layout.loose,
            max_blob,
            hash,
        })
    }

    /// Object `id`: its kind, its data (a blob's first `max_blob` bytes) and its whole size;
    /// `None` if the database does not hold it; an error if it is damaged.
    pub fn find(&self, id: &ObjectId) -> std::result::Result<Option<Loose>, String> {
        for p in &self.packs {
            if let Some(i) = p.index.lookup(id) {
                return self.in_pack(p, p.index.pack_offset_at_index(i)).map(Some);
            }
        }
        for dir in &self.loose {
            let hex = id.to_string();
            if std::fs::symlink_metadata(dir.join(&hex[..2]).join(&hex[2..])).is_ok() {
                return read_loose(dir, id, self.max_blob).map(Some);
            }
        }
        Ok(None)
    }

    fn in_pack(&self, p: &OnePack, offset: u64) -> std::result::Result<Loose, String> {
        let bytes = p
            .data
            .entry_slice(0..p.data.data_len() as u64)
            .unwrap_or_default();
        let hash_len = self.hash.len_in_bytes();
        // The chain of bases, by offset.
        let mut chain = vec![offset];
        let mut at = offset;
        loop {
            let h = audit::parse_header(bytes, at, hash_len)?;
            let base = match h.stored {
                audit::Stored::Base(_) => break,
                audit::Stored::OfsDelta { base_offset } => base_offset,
                audit::Stored::RefDelta { base } => match p.index.lookup(base) {
                    Some(i) => p.index.pack_offset_at_index(i),
                    None => return Err(format!("its delta base {base} is not in its pack")),
                },
            };
            if chain.contains(&base) || chain.len() > MAX_CHAIN {
                return Err("its delta chain is a cycle, or deeper than git makes them".into());
            }
            chain.push(base);
            at = base;
        }
        chain.sort_unstable();
        let pack_end = bytes.len().saturating_sub(hash_len);
        let mut entries = Vec::with_capacity(chain.len());
        let mut ends = Vec::with_capacity(chain.len());
        for &off in &chain {
            let pos = p.by_offset.partition_point(|e| e.0 < off);
            let Some(&(o, oid)) = p.by_offset.get(pos).filter(|e| e.0 == off) else {
                return Err(format!(
                    "its delta base at offset {off} is not an object of the pack"
                ));
            };
            entries.push((oid, o));
            ends.push(
                p.by_offset
                    .get(pos + 1)
                    .map_or(pack_end, |e| usize::try_from(e.0).unwrap_or(usize::MAX))
                    .min(pack_end),
            );
        }
        let audited = audit::audit_with_ends(bytes, &entries, &ends, hash_len, 1);
        let i = chain.binary_search(&offset).unwrap_or(0);
        let a = &audited[i];
        if let Some(problem) = &a.problem {
            return Err(format!("it is damaged: {problem}"));
        }
        let kind = a.kind.unwrap_or(Kind::Blob);
        let want = if kind == Kind::Blob {
            self.max_blob
        } else if a.size > MAX_OTHER {
            return Err(format!(
                "it is a {kind} of {} bytes, more than credsweep reads for one (64 MiB)",
                a.size
            ));
        } else {
            a.size
        };
        let data = audit::decode_prefix(
            bytes,
            &audited,
            i,
            want,
            MAX_WHOLE_BASE.max(self.max_blob),
            hash_len,
            &mut None,
        )?;
        Ok(Loose {
            kind,
            data,
            size: a.size,
        })
    }
}

/// An object read within bounds.
pub struct Loose {
    pub kind: Kind,
    /// The object, or its first `max_blob` bytes for a larger blob.
    pub data: Vec<u8>,
    pub size: u64,
}

/// The most a loose object file may hold: more than zlib's best ratio could ever need for the
/// largest object credsweep reads (objects larger still are not stored loose by git).
const MAX_LOOSE_FILE: u64 = 4 << 30;

/// Reads loose object `id` from objects directory `dir`: a regular file (never a FIFO, device
/// or symlink) of bounded size, whose header's kind and size are checked before anything is
/// allocated, and whose data must inflate to exactly that size.
fn read_loose(dir: &Path, id: &ObjectId, max_blob: u64) -> std::result::Result<Loose, String> {
    use std::io::Read;
    let (file, len) = open_loose(dir, id)?;
    let (kind, data, size) =
        audit::decode_loose_from(file.take(MAX_LOOSE_FILE), len, max_blob, MAX_OTHER)?;
    Ok(Loose { kind, data, size })
}

/// Loose object `id`, if it is a blob larger than `max_blob`: inflating as it is read, its
/// header (`blob <size>\0`) skipped, at most its size; and that size. Only a file whose
/// compressed length could inflate past `max_blob` ([`audit::inflatable`]) is opened for it:
/// anything else, and any damage, is left to [`read_loose`].
fn big_loose_blob(
    dir: &Path,
    id: &ObjectId,
    max_blob: u64,
) -> Option<(impl std::io::Read + use<>, u64)> {
    use std::io::Read;
    let hex = id.to_string();
    let meta = std::fs::symlink_metadata(dir.join(&hex[..2]).join(&hex[2..])).ok()?;
    if !meta.file_type().is_file() || audit::inflatable(meta.len()) <= max_blob {
        return None;
    }
    let (file, _) = open_loose(dir, id).ok()?;
    let mut inflating = Inflating::new(file.take(MAX_LOOSE_FILE));
    let mut header = Vec::new();
    let mut byte = [0u8; 1];
    while header.len() < 64 {
        inflating.read_exact(&mut byte).ok()?;
        if byte[0] == 0 {
            let size: u64 = std::str::from_utf8(header.strip_prefix(b"blob ")?)
                .ok()?
                .parse()
                .ok()?;
            return (size > max_blob).then(|| (inflating.take(size), size));
        }
        header.push(byte[0]);
    }
    None
}

/// Opens loose object `id` of objects directory `dir`, checked to be a regular file of bounded
/// size; returns it and its length.
fn open_loose(dir: &Path, id: &ObjectId) -> std::result::Result<(std::fs::File, u64), String> {
    use std::os::unix::fs::OpenOptionsExt;
    let hex = id.to_string();
    let path = dir.join(&hex[..2]).join(&hex[2..]);
    // A symlink is refused before opening; a FIFO swapped in is opened without blocking, and
    // the opened file's own type is checked.
    let link = std::fs::symlink_metadata(&path).map_err(|e| format!("cannot read it: {e}"))?;
    if !link.file_type().is_file() {
        return Err("it is not a regular file (a FIFO, a device or a symlink)".into());
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc_flags())
        .open(&path)
        .map_err(|e| format!("cannot open it: {e}"))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot read it: {e}"))?;
    if !meta.file_type().is_file() {
        return Err("it is not a regular file (a FIFO, a device or a symlink)".into());
    }
    if meta.len() > MAX_LOOSE_FILE {
        return Err(format!(
            "its file has {} bytes, more than any object credsweep reads",
            meta.len()
        ));
    }
    Ok((file, meta.len()))
}

/// Opening flags for repository files: never block on a FIFO (`O_NONBLOCK`).
fn libc_flags() -> i32 {
    if cfg!(any(target_os = "linux", target_os = "android")) {
        0o4000
    } else if cfg!(any(
        target_os = "macos",
        target_os = "freebsd",
        target_os = "ios"
    )) {
        0x0004
    } else {
        0
    }
}

/// An entry of the delta tree of a pack's trees: its position in the pack's index, where its
/// id and offset are read. gix's delta tree keeps one for each tree and base of the pack (with
/// two offsets and a vector of children, and room for twice as many in its growing vectors), so
/// 4 bytes rather than a 32-byte copy of id and offset make that tree a third smaller: 14 MB
/// less at the peak of a scan of git/git.
#[derive(Clone, Copy)]
struct TreeItem {
    at: u32,
}

/// Receives trees from [`visit_trees`]. Each worker thread gets its own clone, so a visitor can
/// gather results without locks and hand them over when it is dropped.
pub(crate) trait TreeVisitor: Clone + Send + Sync {
    /// Tree `id`, whole.
    fn tree(&mut self, id: ObjectId, data: &[u8]);
}

/// Hands every tree of the object database to `visitor`, each pack decoded as a delta tree of
/// its trees alone (and the rare other object one is a delta of), in parallel, each base once:
/// the trees of a whole history in pack order, rather than looked up one id at a time through
/// delta chains. Loose trees follow; a tree in several places may be handed over more than once.
///
/// Entry headers are parsed, but entries are not audited again (the blob pass did that and
/// reported what is damaged): decoding is bounded by [`MAX_OTHER`] per object instead, and any
/// trouble (a damaged or thin pack, an object over the bound) ends the pass with an error, for
/// the caller to read trees by id instead, with the errors that gives.
///
/// Trees `skip` names are not decoded, unless another tree is built on them (they are then
/// handed over too).
///
/// `surveyed`: what the blob pass's surveys found of the packs' trees ([`Outcome::trees`]); a
/// pack it covers (the same pack and index as then) has no entry header read again.
pub(crate) fn visit_trees<V: TreeVisitor>(
    repo: &gix::Repository,
    threads: usize,
    visitor: V,
    skip: Option<&(dyn Fn(&gix::oid) -> bool + Sync)>,
    surveyed: Option<&SurveyedTrees>,
) -> std::result::Result<(), String> {
    let layout = layout(repo).map_err(|e| format!("{e:#}"))?;
    let hash = repo.object_hash();
    let mut indices = Vec::with_capacity(layout.indices.len());
    for path in &layout.indices {
        let index = pack::index::File::at(path, hash).map_err(|e| e.to_string())?;
        let data =
            pack::data::File::at(path.with_extension("pack"), hash).map_err(|e| e.to_string())?;
        let known = surveyed.and_then(|s| s.of(&index, &data));
        trees_of_pack(&index, &data, hash, threads, skip, known, visitor.clone())?;
        indices.push(index);
    }
    let mut visitor = visitor;
    for dir in &layout.loose {
        let db = gix::odb::loose::Store::at(dir, hash);
        for id in db.iter().filter_map(Result::ok) {
            if indices.iter().any(|i| i.lookup(id).is_some()) || skip.is_some_and(|s| s(&id)) {
                continue;
            }
            // A blob is decoded no further than its header; a damaged object is left to the
            // caller, who reads it by id.
            if let Ok(o) = read_loose(dir, &id, 0)
                && o.kind == Kind::Tree
                && o.size == o.data.len() as u64
            {
                visitor.tree(id, &o.data);
            }
        }
    }
    Ok(())
}

/// The trees of one pack, decoded as a delta tree (see [`visit_trees`]); `surveyed`: what the
/// blob pass's survey found of them, if it covers this pack.
fn trees_of_pack<V: TreeVisitor>(
    index: &pack::index::File,
    data: &pack::data::File,
    hash: gix::hash::Kind,
    threads: usize,
    skip: Option<&(dyn Fn(&gix::oid) -> bool + Sync)>,
    surveyed: Option<&PackTrees>,
    mut visitor: V,
) -> std::result::Result<(), String> {
    let inside = match surveyed {
        Some(known) => known.inside(index, skip),
        None => trees_in_pack(index, data, hash, threads, skip)?,
    };
    if inside.is_empty() {
        return Ok(());
    }
    let interrupt = std::sync::atomic::AtomicBool::new(false);
    // A ref delta's base is found through the pack's index, not a map of the entries: every
    // base of an entry kept is kept too (see `trees_in_pack`), so both give the same offset.
    let tree = pack::cache::delta::Tree::from_offsets_in_pack(
        data.path(),
        inside.into_iter(),
        &|item: &TreeItem| index.pack_offset_at_index(item.at),
        &|id| Ok(index.lookup(id).map(|i| index.pack_offset_at_index(i))),
        &mut gix::progress::Discard,
        &interrupt,
        hash,
    )
    .map_err(|e| e.to_string())?;
    let mut size_progress = gix::progress::Discard;
    tree.traverse(
        |slice, pack: &pack::data::File| pack.entry_slice(slice),
        data,
        data.pack_end() as u64,
        move |item: &mut TreeItem, _: &dyn gix::progress::Progress, ctx| {
            if ctx.entry.header.as_kind() == Some(Kind::Tree) {
                visitor.tree(index.oid_at_index(item.at).to_owned(), ctx.decompressed);
            }
            Ok(())
        },
        pack::cache::delta::traverse::Options {
            object_progress: Box::new(gix::progress::Discard),
            size_progress: &mut size_progress,
            thread_limit: Some(threads),
            should_interrupt: &interrupt,
            object_hash: hash,
            alloc_limit_bytes: usize::try_from(MAX_OTHER).ok(),
        },
    )
    .map(|_| ())
    .map_err(|e| e.to_string())
}

/// What the blob pass's surveys found of the packs' trees ([`Outcome::trees`]), for the trees
/// pass ([`visit_trees`]): that pass then reads no entry header of these packs again (on a warm
/// cached audit of rust-lang/cargo, that second survey was a sixth of the run's wall time).
#[derive(Default)]
pub(crate) struct SurveyedTrees {
    packs: Vec<PackTrees>,
}

impl SurveyedTrees {
    /// What was found of the pack `data` with its `index`, if they are the pack and index
    /// surveyed (the same checksums and count of objects: a pack replaced between the passes
    /// is surveyed again).
    fn of(&self, index: &pack::index::File, data: &pack::data::File) -> Option<&PackTrees> {
        // The checksums are the files' trailers, which opening them checked are there.
        let (pack, idx, objects) = (data.checksum(), index.index_checksum(), index.num_objects());
        self.packs
            .iter()
            .find(|p| p.pack == pack && p.index == idx && p.objects == objects)
    }
}

/// One pack's trees as its survey found them.
struct PackTrees {
    /// The pack's checksum, its index's, and how many objects the index lists.
    pack: ObjectId,
    index: ObjectId,
    objects: u32,
    /// The pack's first entry, its trees and every base they build on, in pack order.
    entries: Vec<TreeEntry>,
}

/// An entry of [`PackTrees`].
#[derive(Clone, Copy)]
struct TreeEntry {
    /// Its position in the pack's index.
    at: u32,
    /// Its delta base, by index into [`PackTrees::entries`]; [`WHOLE`] when stored whole.
    base: u32,
    /// Whether it is a tree (else a base of one, or the pack's first entry).
    tree: bool,
}

/// [`TreeEntry::base`] of an object stored whole.
const WHOLE: u32 = u32::MAX;

impl PackTrees {
    /// From a pack's survey: `audit` lists its entries by offset, `positions` their positions
    /// in `index` ([`audit::Survey::positions`]). `None` when the survey found damage of any
    /// kind, or entries [`trees_in_pack`] refuses (the first not where entries start, two at
    /// one offset): the trees pass then surveys the pack itself and reports as it always did.
    fn of(
        index: &pack::index::File,
        data: &pack::data::File,
        audit: &[audit::Audited],
        positions: &[u32],
    ) -> Option<PackTrees> {
        let n = audit.len();
        if positions.len() != n
            || n != index.num_objects() as usize
            || n >= WHOLE as usize
            || audit
                .first()
                .is_some_and(|a| a.offset != pack::data::header::SIZE as u64)
            || audit.windows(2).any(|w| w[0].offset == w[1].offset)
            || audit
                .iter()
                .any(|a| a.problem.is_some() || a.kind.is_none())
        {
            return None;
        }
        // Trees and their bases, and the first entry, as `trees_in_pack` chooses them (without
        // `skip`: the trees pass applies it when it reads this list).
        let needed = needed_entries(
            n,
            |i| audit[i].kind == Some(Kind::Tree),
            |c| audit[c].base().filter(|&b| b < n),
        );
        // Each kept entry's place in the list, for its deltas to name it by.
        let mut place = vec![WHOLE; n];
        let kept = needed.iter().enumerate().filter(|(_, k)| **k);
        for (next, (i, _)) in kept.enumerate() {
            // Below `n`, checked to be below `WHOLE`.
            place[i] = next as u32;
        }
        let entries = (0..n)
            .filter(|&i| needed[i])
            .map(|i| TreeEntry {
                at: positions[i],
                base: audit[i].base().map_or(WHOLE, |b| place[b]),
                tree: audit[i].kind == Some(Kind::Tree),
            })
            .collect();
        Some(PackTrees {
            pack: data.checksum(),
            index: index.index_checksum(),
            objects: index.num_objects(),
            entries,
        })
    }

    /// The entries a delta tree of the pack's trees is built from, in pack order, as
    /// [`trees_in_pack`] gives them: its trees but those `skip` names, the bases they build on,
    /// and its first entry.
    fn inside(
        &self,
        index: &pack::index::File,
        skip: Option<&(dyn Fn(&gix::oid) -> bool + Sync)>,
    ) -> Vec<TreeItem> {
        let needed = needed_entries(
            self.entries.len(),
            |k| {
                let e = &self.entries[k];
                e.tree && !skip.is_some_and(|s| s(index.oid_at_index(e.at)))
            },
            |c| match self.entries[c].base {
                WHOLE => None,
                b => Some(b as usize),
            },
        );
        self.entries
            .iter()
            .zip(&needed)
            .filter(|(_, needed)| **needed)
            .map(|(e, _)| TreeItem { at: e.at })
            .collect()
    }
}

/// The most threads reading a pack's entry headers for [`trees_in_pack`]: a few suffice, each
/// header being a few bytes.
const MAX_HEADER_THREADS: usize = 4;

/// The fewest entry headers a thread of [`trees_in_pack`] reads: a small pack is read on one.
const HEADERS_PER_THREAD: usize = 1 << 14;

/// The entries of one pack its delta tree of trees is built from, in pack order: its trees
/// (but those `skip` names), the bases they build on, and its first entry (see
/// [`trees_of_pack`]). Read from entry headers, on up to `threads` threads.
fn trees_in_pack(
    index: &pack::index::File,
    data: &pack::data::File,
    hash: gix::hash::Kind,
    threads: usize,
    skip: Option<&(dyn Fn(&gix::oid) -> bool + Sync)>,
) -> std::result::Result<Vec<TreeItem>, String> {
    let bytes = data
        .entry_slice(0..data.data_len() as u64)
        .ok_or("the pack cannot be read")?;
    // Each entry's position in the index and its offset, in pack order, sorted as the blob
    // pass's survey sorts (offsets are unique in a sound pack; equal ones are refused below).
    let entries: Vec<(u32, u64)> = (0..index.num_objects())
        .map(|at| (at, index.pack_offset_at_index(at)))
        .collect();
    let entries = super::audit::sorted_by_offset(&entries, |e| e.1);
    let id = |pos: u32| index.oid_at_index(pos);
    // The delta tree reads entry headers from the first entry on: it must be where entries
    // start, after the pack header.
    if entries
        .first()
        .is_some_and(|e| e.1 != pack::data::header::SIZE as u64)
    {
        return Err("the pack's first entry is not where entries start".into());
    }
    if entries.windows(2).any(|w| w[0].1 == w[1].1) {
        return Err("two entries of the pack's index have the same offset".into());
    }
    let at = |offset: u64| entries.binary_search_by_key(&offset, |e| e.1).ok();
    let n = entries.len();
    // Each entry's own kind, or its delta base (by position in `entries`): the headers of a
    // slice of the entries per thread, the first error in pack order reported.
    let read = |slice: &[(u32, u64)]| -> std::result::Result<Vec<Result<Kind, usize>>, String> {
        let mut stored = Vec::with_capacity(slice.len());
        for &(pos, offset) in slice {
            let header = audit::parse_header(bytes, offset, hash.len_in_bytes())
                .map_err(|e| format!("object {}: {e}", id(pos)))?;
            let base_offset = match header.stored {
                audit::Stored::Base(kind) => {
                    stored.push(Ok(kind));
                    continue;
                }
                audit::Stored::OfsDelta { base_offset } => Some(base_offset),
                audit::Stored::RefDelta { base } => {
                    index.lookup(base).map(|i| index.pack_offset_at_index(i))
                }
            };
            let base = base_offset
                .and_then(at)
                .ok_or_else(|| format!("object {}: its delta base is not in the pack", id(pos)))?;
            stored.push(Err(base));
        }
        Ok(stored)
    };
    let per_thread = n
        .div_ceil(threads.clamp(1, MAX_HEADER_THREADS))
        .max(HEADERS_PER_THREAD);
    let stored: Vec<Result<Kind, usize>> = if n <= per_thread {
        read(&entries)?
    } else {
        let parts: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = entries
                .chunks(per_thread)
                .map(|slice| s.spawn(move || read(slice)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        let mut stored = Vec::with_capacity(n);
        for part in parts {
            stored.extend(part?);
        }
        stored
    };
    // The kind of each entry: its chain's base's. Chains are followed once each.
    let mut kind: Vec<Option<Kind>> = vec![None; n];
    let mut chain = Vec::new();
    for (i, &(pos, _)) in entries.iter().enumerate() {
        let mut c = i;
        let found = loop {
            if let Some(k) = kind[c] {
                break k;
            }
            match stored[c] {
                Ok(k) => {
                    kind[c] = Some(k);
                    break k;
                }
                Err(base) => {
                    chain.push(c);
                    if chain.len() > n {
                        return Err(format!("object {}: its delta chain loops", id(pos)));
                    }
                    c = base;
                }
            }
        };
        for j in chain.drain(..) {
            kind[j] = Some(found);
        }
    }
    let needed = needed_entries(
        n,
        |i| kind[i] == Some(Kind::Tree) && !skip.is_some_and(|s| s(id(entries[i].0))),
        |c| stored[c].err(),
    );
    let inside: Vec<TreeItem> = entries
        .iter()
        .zip(&needed)
        .filter(|(_, needed)| **needed)
        .map(|(&(pos, _), _)| TreeItem { at: pos })
        .collect();
    Ok(inside)
}

/// Which of a pack's `n` entries (in offset order) the trees pass reads: those `wanted` says, every
/// base each is built on (`base_of`: its delta base's place, `None` for a whole object), and the
/// first entry, since the delta tree is built by reading headers on from the start of the pack's
/// entries. Each step marks an entry not marked before: at most `n` steps in all, whatever the
/// chains.
fn needed_entries(
    n: usize,
    wanted: impl Fn(usize) -> bool,
    base_of: impl Fn(usize) -> Option<usize>,
) -> Vec<bool> {
    let mut needed = vec![false; n];
    for i in 0..n {
        if i != 0 && !wanted(i) {
            continue;
        }
        let mut c = i;
        while !needed[c] {
            needed[c] = true;
            match base_of(c) {
                Some(b) => c = b,
                None => break,
            }
        }
    }
    needed
}

#[cfg(test)]
mod tests {
    use super::super::test_git::git;
    use super::*;

    fn missing(tree: &str) -> ObjectError {
        let id = ObjectId::from_hex(b"1111111111111111111111111111111111111111").unwrap();
        ObjectError::missing(
            id,
            Some(Kind::Blob),
            format!("blob {id} (`shared.txt` in tree {tree}) is missing"),
        )
    }

    #[test]
    fn the_same_errors_in_any_order_dedup_to_the_same_report() {
        let a = missing("aaaa");
        let b = missing("bbbb");
        let other = ObjectError::other("pack x is damaged");
        let mut one = vec![a.clone(), other.clone(), b.clone()];
        let mut two = vec![b, other, a];
        dedup_errors(&mut one, false);
        dedup_errors(&mut two, false);
        assert_eq!(one, two);
        assert_eq!(one.len(), 2);
    }

    #[test]
    fn past_the_listed_missing_objects_a_count() {
        let mut errors: Vec<ObjectError> = (0..150u32)
            .map(|i| {
                let id = ObjectId::from_hex(format!("{i:040x}").as_bytes()).unwrap();
                ObjectError::missing(
                    id,
                    Some(Kind::Blob),
                    format!("blob {id} (`f` in tree t) is missing"),
                )
            })
            .collect();
        dedup_errors(&mut errors, false);
        assert_eq!(errors.len(), MAX_MISSING_LISTED + 1);
        assert!(
            errors
                .last()
                .unwrap()
                .message
                .starts_with("50 more objects")
        );
        let mut kept: Vec<ObjectError> = (0..150u32)
            .map(|i| {
                let id = ObjectId::from_hex(format!("{i:040x}").as_bytes()).unwrap();
                ObjectError::missing(
                    id,
                    Some(Kind::Blob),
                    format!("blob {id} (`f` in tree t) is missing"),
                )
            })
            .collect();
        dedup_errors(&mut kept, true);
        assert_eq!(
            kept.len(),
            150,
            "a partial clone's are all kept, to be counted"
        );
    }

    fn sorted_ids(outcome: Outcome) -> Vec<ObjectId> {
        let mut ids: Vec<ObjectId> = outcome.commits.into_iter().map(|c| c.id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    #[test]
    fn the_commits_alone_are_the_commits_the_blob_pass_decodes() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path();
        git(dir, &["init", "-q", "-b", "main", "."]);
        for i in 0..5 {
            std::fs::write(dir.join("f.txt"), format!("version {i}\n").repeat(50)).unwrap();
            git(dir, &["add", "-A"]);
            git(dir, &["commit", "-q", "-m", &format!("c{i}")]);
        }
        // Packed history, then a loose commit no ref reaches.
        git(dir, &["repack", "-adq"]);
        git(dir, &["checkout", "-q", "--detach"]);
        std::fs::write(dir.join("g.txt"), "dangling\n").unwrap();
        git(dir, &["add", "-A"]);
        git(dir, &["commit", "-q", "-m", "dangling"]);
        git(dir, &["checkout", "-q", "main"]);

        let repo = super::super::repo::open(dir).unwrap();
        let progress = Progress::default();
        let with_blobs = visit_blobs(
            &repo,
            &Options {
                threads: 2,
                only: None,
                progress: &progress,
                max_blob: 1 << 20,
                stream_blobs: false,
                skip: None,
                checked: None,
                commits: None,
                keep_trees: false,
            },
            NoBlobs,
        )
        .unwrap();
        let alone = commits(&repo, 2).unwrap();
        assert!(alone.errors.is_empty() && with_blobs.errors.is_empty());
        let alone = sorted_ids(alone);
        assert_eq!(alone.len(), 6);
        assert_eq!(alone, sorted_ids(with_blobs));
    }

    /// A tree [`visit_trees`] handed over: its id and its content.
    type Handed = (ObjectId, Vec<u8>);

    /// Gathers what [`visit_trees`] hands over, each worker into the same list.
    #[derive(Clone, Default)]
    struct Trees(std::sync::Arc<Mutex<Vec<Handed>>>);

    impl TreeVisitor for Trees {
        fn tree(&mut self, id: ObjectId, data: &[u8]) {
            self.0.lock().unwrap().push((id, data.to_vec()));
        }
    }

    /// A repository at `dir` whose one pack stores versions of trees that differ a little,
    /// most of them as deltas.
    fn tree_history(dir: &Path) {
        git(dir, &["init", "-q", "-b", "main", "."]);
        for i in 0..12 {
            for j in 0..30 {
                let sub = dir.join(format!("d{}", j % 3));
                std::fs::create_dir_all(&sub).unwrap();
                std::fs::write(sub.join(format!("f{j}.txt")), format!("{}\n", i * (j % 4)))
                    .unwrap();
            }
            git(dir, &["add", "-A"]);
            git(dir, &["commit", "-q", "-m", &format!("c{i}")]);
        }
        git(dir, &["repack", "-adq", "--depth=50", "--window=50"]);
    }

    #[test]
    fn the_trees_pass_hands_every_tree_over_under_its_own_id() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path();
        tree_history(dir);
        let listed = git(
            dir,
            &[
                "cat-file",
                "--batch-all-objects",
                "--batch-check=%(objecttype) %(objectname) %(deltabase)",
            ],
        );
        let zero = "0".repeat(40);
        let mut expected: Vec<ObjectId> = Vec::new();
        let mut deltas = 0;
        for line in listed.lines() {
            let mut words = line.split(' ');
            let (kind, id, base) = (words.next(), words.next(), words.next());
            if kind == Some("tree") {
                expected.push(ObjectId::from_hex(id.unwrap().as_bytes()).unwrap());
                deltas += usize::from(base != Some(zero.as_str()));
            }
        }
        assert!(
            expected.len() > 40 && deltas > 10,
            "{} trees, {deltas} deltas",
            expected.len()
        );

        let repo = super::super::repo::open(dir).unwrap();
        let progress = Progress::default();
        let surveyed = blob_pass(&repo, &progress, true).trees;
        // Surveying the packs again, or taking what the blob pass's survey found: the same.
        for known in [None, Some(&surveyed)] {
            let trees = Trees::default();
            visit_trees(&repo, 2, trees.clone(), None, known).unwrap();
            let mut got = std::mem::take(&mut *trees.0.lock().unwrap());
            for (id, data) in &got {
                let hashed =
                    gix::objs::compute_hash(gix::hash::Kind::Sha1, Kind::Tree, data).unwrap();
                assert_eq!(
                    &hashed, id,
                    "tree {id} handed over with another tree's content"
                );
            }
            got.sort();
            let mut got: Vec<ObjectId> = got.into_iter().map(|(id, _)| id).collect();
            got.dedup();
            expected.sort();
            assert_eq!(
                got,
                expected,
                "surveyed by the blob pass: {}",
                known.is_some()
            );
        }
    }

    /// A blob pass over `repo` that visits nothing, keeping what its surveys find of trees if
    /// `keep_trees`.
    fn blob_pass(repo: &gix::Repository, progress: &Progress, keep_trees: bool) -> Outcome {
        visit_blobs(
            repo,
            &Options {
                threads: 2,
                only: None,
                progress,
                max_blob: 1 << 20,
                stream_blobs: false,
                skip: None,
                checked: None,
                commits: None,
                keep_trees,
            },
            NoBlobs,
        )
        .unwrap()
    }

    #[test]
    fn the_blob_pass_survey_picks_the_entries_the_trees_pass_survey_picks() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path();
        tree_history(dir);
        let repo = super::super::repo::open(dir).unwrap();
        let progress = Progress::default();
        assert!(blob_pass(&repo, &progress, false).trees.packs.is_empty());
        let surveyed = blob_pass(&repo, &progress, true).trees;
        assert_eq!(surveyed.packs.len(), 1);
        let hash = repo.object_hash();
        let ats = |items: Vec<TreeItem>| items.into_iter().map(|i| i.at).collect::<Vec<u32>>();
        let some = |id: &gix::oid| id.as_bytes()[0].is_multiple_of(3);
        let all = |_: &gix::oid| true;
        let layout = layout(&repo).unwrap();
        assert_eq!(layout.indices.len(), 1);
        let index = pack::index::File::at(&layout.indices[0], hash).unwrap();
        let data = pack::data::File::at(layout.indices[0].with_extension("pack"), hash).unwrap();
        let known = surveyed.of(&index, &data).expect("the pack was surveyed");
        // No tree left out, some, every one (the first entry alone stays).
        type Skip<'a> = Option<&'a (dyn Fn(&gix::oid) -> bool + Sync)>;
        let skips: [Skip<'_>; 3] = [None, Some(&some), Some(&all)];
        let mut sizes = Vec::new();
        for skip in skips {
            let own = ats(trees_in_pack(&index, &data, hash, 2, skip).unwrap());
            assert_eq!(ats(known.inside(&index, skip)), own);
            sizes.push(own.len());
        }
        assert!(
            sizes[0] > sizes[1] && sizes[1] > sizes[2] && sizes[2] == 1,
            "{sizes:?}"
        );

        // Repacked since: another pack, which the trees pass surveys itself.
        git(dir, &["repack", "-adfq", "--depth=5", "--window=5"]);
        let repo = super::super::repo::open(dir).unwrap();
        let layout = super::layout(&repo).unwrap();
        assert_eq!(layout.indices.len(), 1);
        let index = pack::index::File::at(&layout.indices[0], hash).unwrap();
        let data = pack::data::File::at(layout.indices[0].with_extension("pack"), hash).unwrap();
        assert!(surveyed.of(&index, &data).is_none());
    }

    /// Writes a pack of `ids` (one a line) into the repository at `dir`; its path.
    fn pack_of(dir: &Path, ids: &str) -> PathBuf {
        use std::io::Write as _;
        let mut child = std::process::Command::new("git")
            .current_dir(dir)
            .args(["pack-objects", "-q", ".git/objects/pack/pack"])
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{ids}\n").as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        let name = String::from_utf8(out.stdout).unwrap();
        dir.join(format!(".git/objects/pack/pack-{}.pack", name.trim()))
    }

    #[test]
    fn cache_lookups_on_several_threads_answer_as_on_one() {
        // Enough entries for several blocks, of every kind; the cache knows blobs whose id's
        // first byte is even.
        let n = LOOKUP_BLOCK * 3 + 77;
        let kinds = [Some(Kind::Blob), Some(Kind::Tree), Some(Kind::Commit), None];
        let audit: Vec<audit::Audited> = (0..n)
            .map(|i| {
                let mut id = [0u8; 20];
                id[0] = (i * 7 % 251) as u8;
                id[1..9].copy_from_slice(&(i as u64).to_be_bytes());
                audit::Audited {
                    oid: ObjectId::from_bytes_or_panic(&id),
                    offset: i as u64,
                    kind: kinds[i % 4],
                    size: 1,
                    base_at: None,
                    problem: None,
                    verified: false,
                }
            })
            .collect();
        let skip = |id: &gix::oid| id.as_bytes()[0].is_multiple_of(2);
        let progress = Progress::default();
        let opts = |threads| Options {
            threads,
            only: None,
            progress: &progress,
            max_blob: 1 << 20,
            stream_blobs: false,
            skip: Some(&skip),
            checked: None,
            commits: None,
            keep_trees: false,
        };
        let expected: Vec<bool> = audit
            .iter()
            .map(|a| a.kind == Some(Kind::Blob) && skip(&a.oid))
            .collect();
        assert!(expected.iter().any(|&k| k) && !expected.iter().all(|&k| k));
        for threads in [1, 2, 3] {
            assert_eq!(known_to_cache(&audit, &opts(threads)), expected);
        }
        // No cache: nothing is known, and nothing is looked up.
        let none = Options {
            skip: None,
            ..opts(2)
        };
        assert!(known_to_cache(&audit, &none).iter().all(|&k| !k));
    }

    fn pass(repo: &gix::Repository, checked: Option<&cache::CheckedPacks>) -> Outcome {
        let progress = Progress::default();
        visit_blobs(
            repo,
            &Options {
                threads: 2,
                only: None,
                progress: &progress,
                max_blob: 1 << 20,
                stream_blobs: false,
                skip: None,
                checked,
                commits: None,
                keep_trees: false,
            },
            NoBlobs,
        )
        .unwrap()
    }

    #[test]
    fn a_record_of_checked_packs_spares_their_trees_while_all_its_packs_are_there() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path();
        git(dir, &["init", "-q", "-b", "main", "."]);
        std::fs::write(dir.join("kept.txt"), "kept\n").unwrap();
        std::fs::write(dir.join("apart.txt"), "apart\n").unwrap();
        git(dir, &["add", "-A"]);
        git(dir, &["commit", "-q", "-m", "c"]);
        // Two packs: the blob of apart.txt alone in one, what names it in the other.
        let apart = git(dir, &["rev-parse", "HEAD:apart.txt"]);
        let listed = git(dir, &["rev-list", "--objects", "--all"]);
        let rest: Vec<&str> = listed
            .lines()
            .filter_map(|l| l.split(' ').next())
            .filter(|id| *id != apart)
            .collect();
        let a = pack_of(dir, &rest.join("\n"));
        let b = pack_of(dir, &apart);
        git(dir, &["prune-packed"]);

        let repo = super::super::repo::open(dir).unwrap();
        let first = pass(&repo, None);
        assert!(first.errors.is_empty(), "{:?}", first.errors);
        let packs = first.packs.expect("packs alone: a record");
        assert_eq!(packs.len(), 2);
        let id_of = |path: &Path| {
            let file = pack::data::File::at(path, repo.object_hash()).unwrap();
            pack_id(&file).unwrap()
        };
        let (a_id, b_id) = (id_of(&a), id_of(&b));
        assert!(packs.contains(&a_id) && packs.contains(&b_id));

        // The blob's pack goes: the record of both no longer holds, and the tree naming the
        // blob is read and reports it missing.
        std::fs::remove_file(&b).unwrap();
        std::fs::remove_file(b.with_extension("idx")).unwrap();
        let _ = std::fs::remove_file(b.with_extension("rev"));
        let repo = super::super::repo::open(dir).unwrap();
        let both = cache::CheckedPacks::of_sets(vec![packs.clone()]);
        let after = pass(&repo, Some(&both));
        assert_eq!(after.errors.len(), 1, "{:?}", after.errors);
        assert!(after.errors[0].message.contains(&apart));
        // A record of the tree's pack alone (made up here: it was never true) covers it, so its
        // trees are not decoded: nothing is reported. Only the commit's own tree is checked.
        let alone = cache::CheckedPacks::of_sets(vec![vec![a_id]]);
        let spared = pass(&repo, Some(&alone));
        assert!(spared.errors.is_empty(), "{:?}", spared.errors);
        assert_eq!(sorted_ids(spared).len(), 1, "the commit is still decoded");

        // A loose object: no record.
        git(dir, &["commit", "-q", "--allow-empty", "-m", "loose"]);
        let repo = super::super::repo::open(dir).unwrap();
        assert!(pass(&repo, None).packs.is_none());
    }
}
