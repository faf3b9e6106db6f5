//! Phase 2 of a history scan: scan blobs. Each distinct blob is scanned once, before anything
//! knows its paths, with every rule that has no `path` filter; what comes out is the findings
//! per blob (at a `Location::Blob` with no path until [`super::locate`] finds where they sit) and
//! the counts of what was read.
//!
//! Two ways in: [`scan_odb`] scans the blobs the object-database pass ([`super::odb`]) hands over,
//! all of them or a given set; [`scan_listed`] looks up a list of blobs (what a range
//! introduced, or the few blobs at paths path-scoped rules name) one by one.
//!
//! Path-scoped rules (`path = ...`: `.pgpass`, `.git-credentials`) run only on blobs known to sit
//! at a path they name ([`PathFilter::Unknown`]: every rule, resolved once the places are known);
//! every other blob is scanned with [`PathFilter::Unscoped`]. Running them on every blob cost as
//! much as the rest of a rule file (a rule with no keywords runs on all content).

use std::sync::Mutex;

use anyhow::{Context, Result};
use gix::ObjectId;
use gix::hashtable::HashSet;
use gix::objs::Kind;
use rayon::prelude::*;

use super::progress::Progress;
use super::{BlobId, ObjectError, cache, messages, odb};
use crate::finding::{Finding, Fingerprint, Location};
use crate::scan::{ScanContext, SkipReason, Summary, scan_buffer};
use crate::scanner::PathFilter;

/// The most of one blob a history scan decodes, in memory, when no smaller size cap is asked
/// for: what is past it is reported as not scanned (and fails the scan unless
/// `--allow-truncation`). Blobs are decoded whole from their deltas, so each worker thread may
/// hold one this large, and a delta base as large.
pub(crate) const MAX_BLOB_IN_MEMORY: u64 = 256 << 20;

/// How much of one blob a history scan decodes under `ctx`: the size cap, at most
/// [`MAX_BLOB_IN_MEMORY`].
pub(crate) fn blob_cap(ctx: &ScanContext<'_>) -> u64 {
    ctx.max_file_size.min(MAX_BLOB_IN_MEMORY)
}

/// The findings of one blob, in the order the scan made them.
pub(crate) type BlobFindings = (ObjectId, Vec<Finding>);

/// Blobs with findings, and the counts of everything scanned.
#[derive(Default)]
pub(crate) struct Outcome {
    /// Findings per blob, at a blob location with no path until their places are known.
    pub blobs: Vec<BlobFindings>,
    pub summary: Summary,
    /// The findings in the commit and tag messages the object-database pass handed over.
    pub messages: messages::Outcome,
    /// What the blob cache spared and what it may learn, when one is used.
    pub cache: CacheTally,
}

/// A blob pass's dealings with the blob cache ([`super::cache`]).
#[derive(Default)]
pub(crate) struct CacheTally {
    /// Blobs the cache knew clean: not read.
    pub hits: u64,
    /// Blobs read and scanned.
    pub misses: u64,
    /// Blobs scanned clean, with what they added to the counts: for the cache to keep.
    pub fresh: Vec<(ObjectId, cache::Counts)>,
    /// Commits and tags whose message the cache knew clean: not scanned.
    pub messages_spared: u64,
    /// Commits and tags whose message was scanned clean, with what that added to the counts of
    /// messages: for the cache to keep.
    pub fresh_messages: Vec<(ObjectId, cache::Counts)>,
    /// Commits the cache knew (graph facts, message clean): not decoded.
    pub commits_spared: u64,
}

impl CacheTally {
    fn absorb(&mut self, mut other: CacheTally) {
        self.hits += other.hits;
        self.misses += other.misses;
        self.fresh.append(&mut other.fresh);
        self.messages_spared += other.messages_spared;
        self.fresh_messages.append(&mut other.fresh_messages);
        self.commits_spared += other.commits_spared;
    }
}

impl Outcome {
    fn absorb(&mut self, mut other: Outcome) {
        self.blobs.append(&mut other.blobs);
        self.summary.merge(other.summary);
        self.messages.absorb(other.messages);
        self.cache.absorb(other.cache);
    }

    /// Scans the blobs in `at_scoped` (at paths path-scoped rules name) again with every rule,
    /// and takes their findings in place of what the unscoped scan found in them. They were
    /// counted when first read, and any that could not be read was reported then.
    pub fn rescan_scoped(
        &mut self,
        ctx: &ScanContext<'_>,
        repo: &gix::Repository,
        at_scoped: &HashSet<ObjectId>,
        threads: usize,
    ) -> Result<()> {
        if at_scoped.is_empty() {
            return Ok(());
        }
        let cap = blob_cap(ctx);
        let bounded = odb::BoundedBlobs::new(repo, cap)?;
        // A blob larger than what is decoded in memory was scanned as it inflated by the first
        // pass; read by id it would come back cut at the cap, and its findings past the cap would
        // be lost. Those few are streamed again the same way, with every rule this time.
        let (big, small): (Vec<ObjectId>, Vec<ObjectId>) = at_scoped
            .iter()
            .copied()
            .partition(|id| repo.find_header(*id).is_ok_and(|h| h.size() > cap));
        let (mut again, _reported) = scan_listed(ctx, &bounded, &small, at_scoped, threads)?;
        if !big.is_empty() {
            let only: HashSet<ObjectId> = big.into_iter().collect();
            let progress = super::progress::Progress::default();
            let opts = Options {
                threads,
                only: Some(&only),
                progress: &progress,
                known: None,
                checked: None,
            };
            // Counted, and any cut reported, when first read: only the findings are taken.
            let (streamed, _pass) = scan_odb_with(ctx, repo, &opts, PathFilter::Unknown)?;
            again.blobs.extend(streamed.blobs);
        }
        self.blobs.retain(|(b, _)| !at_scoped.contains(b));
        self.blobs.extend(again.blobs);
        Ok(())
    }

    /// The blobs with findings: what the locate phase looks for.
    pub fn targets(&self) -> HashSet<ObjectId> {
        self.blobs.iter().map(|(b, _)| *b).collect()
    }
}

/// How the object-database pass is driven.
pub(crate) struct Options<'a> {
    pub threads: usize,
    /// Scan only these blobs (`--reachable-only`); every blob when `None`.
    pub only: Option<&'a HashSet<ObjectId>>,
    pub progress: &'a Progress,
    /// Blobs known clean (the blob cache): not read, their counts replayed; the blobs scanned
    /// clean are collected in [`Outcome::cache`]. `None`: no cache.
    pub known: Option<&'a cache::Known>,
    /// Records of packs whose trees an earlier scan checked (the blob cache): see
    /// [`odb::Options::checked`].
    pub checked: Option<&'a cache::CheckedPacks>,
}

/// Scans every blob the object-database pass decodes (or those in `opts.only`), and the message
/// of every commit and tag it decodes (`Outcome::messages`). Also returns
/// that pass's own outcome: the commits it decoded on the way, and the objects it could not read.
pub(crate) fn scan_odb(
    ctx: &ScanContext<'_>,
    repo: &gix::Repository,
    opts: &Options<'_>,
) -> Result<(Outcome, odb::Outcome)> {
    scan_odb_with(ctx, repo, opts, PathFilter::Unscoped)
}

/// [`scan_odb`] with the rules `filter` lets run: `Unscoped` before paths are known, `Unknown`
/// (every rule) for blobs known to sit at a path a path-scoped rule names.
fn scan_odb_with(
    ctx: &ScanContext<'_>,
    repo: &gix::Repository,
    opts: &Options<'_>,
    filter: PathFilter<'static>,
) -> Result<(Outcome, odb::Outcome)> {
    let shared = Mutex::new(Outcome::default());
    let visitor = Visitor {
        ctx,
        hash: repo.object_hash(),
        shared: &shared,
        local: Outcome::default(),
        filter,
        known: opts.known,
    };
    let skip = opts.known.map(|k| move |id: &gix::oid| k.contains(id));
    let pass = odb::visit_blobs(
        repo,
        &odb::Options {
            threads: opts.threads,
            only: opts.only,
            progress: opts.progress,
            max_blob: blob_cap(ctx),
            // A blob past what is decoded in memory, stored whole, is scanned as it inflates.
            stream_blobs: ctx.max_file_size > blob_cap(ctx),
            skip: skip
                .as_ref()
                .map(|f| f as &(dyn Fn(&gix::oid) -> bool + Sync)),
            checked: opts.checked,
            commits: opts.known,
            // The first pass over every blob: the trees pass that may follow (locating what it
            // found) reads what its surveys found of trees.
            keep_trees: matches!(filter, PathFilter::Unscoped),
        },
        visitor,
    )?;
    let scanned = shared.into_inner().unwrap_or_else(|p| p.into_inner());
    Ok((scanned, pass))
}

/// Scans each of `ids` once, in parallel, looking each up on its own; ids that are not blobs
/// are skipped, and blobs that cannot be read are returned as errors. Blobs in `at_scoped` (at a
/// path a path-scoped rule names) are scanned with every rule, the others with the unscoped ones.
pub(crate) fn scan_listed(
    ctx: &ScanContext<'_>,
    blobs: &odb::BoundedBlobs,
    ids: &[ObjectId],
    at_scoped: &HashSet<ObjectId>,
    threads: usize,
) -> Result<(Outcome, Vec<ObjectError>)> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start worker threads")?;
    let results: Vec<(Outcome, Vec<ObjectError>)> = pool.install(|| {
        ids.par_iter()
            .map(|id| {
                let mut out = Outcome::default();
                let mut errs = Vec::new();
                match blobs.find(id) {
                    Ok(Some(d)) if d.kind == Kind::Blob => {
                        let filter = if at_scoped.contains(id) {
                            PathFilter::Unknown
                        } else {
                            PathFilter::Unscoped
                        };
                        scan_blob(ctx, *id, &d.data, d.size, filter, &mut out)
                    }
                    Ok(Some(_)) => {}
                    Ok(None) => errs.push(ObjectError::missing(
                        *id,
                        Some(Kind::Blob),
                        format!("blob {id} is missing"),
                    )),
                    Err(e) => errs.push(ObjectError::new(
                        *id,
                        format!("blob {id} cannot be read: {e}"),
                    )),
                }
                (out, errs)
            })
            .collect()
    });
    let mut out = Outcome::default();
    let mut errors = Vec::new();
    for (o, e) in results {
        out.absorb(o);
        errors.extend(e);
    }
    Ok((out, errors))
}

/// The fingerprints of the secrets in blob `id` (none if it cannot be read: it is only compared
/// against).
pub(crate) fn fingerprints_of(
    ctx: &ScanContext<'_>,
    blobs: &odb::BoundedBlobs,
    id: ObjectId,
) -> Vec<Fingerprint> {
    let mut out = Outcome::default();
    if let Ok(Some(d)) = blobs.find(&id)
        && d.kind == Kind::Blob
    {
        // Every rule: the blob is only compared against, whatever its paths.
        scan_blob(ctx, id, &d.data, d.size, PathFilter::Unknown, &mut out);
    }
    out.blobs
        .into_iter()
        .flat_map(|(_, f)| f.into_iter().map(|f| f.fingerprint))
        .collect()
}

/// Scans blobs as the object-database pass hands them over; one per worker thread, handing its
/// results over when dropped.
struct Visitor<'a> {
    ctx: &'a ScanContext<'a>,
    hash: gix::hash::Kind,
    shared: &'a Mutex<Outcome>,
    local: Outcome,
    filter: PathFilter<'static>,
    /// The blob cache's clean blobs, when one is used.
    known: Option<&'a cache::Known>,
}

impl Clone for Visitor<'_> {
    fn clone(&self) -> Self {
        Visitor {
            ctx: self.ctx,
            hash: self.hash,
            shared: self.shared,
            local: Outcome::default(),
            filter: self.filter,
            known: self.known,
        }
    }
}

impl odb::BlobVisitor for Visitor<'_> {
    fn visit(&mut self, id: BlobId, data: &[u8], size: u64) {
        if self.known.is_none() {
            scan_blob(self.ctx, id.0, data, size, self.filter, &mut self.local);
            return;
        }
        // With a cache: what the scan adds to the counts, kept for the cache if it is clean.
        let before = cache::Mark::of(&self.local.summary);
        let found = self.local.blobs.len();
        scan_blob(self.ctx, id.0, data, size, self.filter, &mut self.local);
        self.local.cache.misses += 1;
        if self.local.blobs.len() == found
            && let Some(counts) = before.counts_to(&self.local.summary)
        {
            self.local.cache.fresh.push((id.0, counts));
        }
    }

    fn skipped(&mut self, id: BlobId) {
        if let Some(counts) = self.known.and_then(|k| k.get(&id.0)) {
            counts.replay(&mut self.local.summary);
            self.local.cache.hits += 1;
        }
    }

    fn message_known(&mut self, id: ObjectId) {
        if let Some(known) = self.known
            && self.replay_message(known, id)
        {
            self.local.cache.commits_spared += 1;
        }
    }

    fn visit_stream(&mut self, id: BlobId, reader: &mut dyn std::io::Read, size: u64) {
        // Blobs this large are few, and not cached: scanned every time.
        if self.known.is_some() {
            self.local.cache.misses += 1;
        }
        let location = Location::Blob {
            id: id.0.to_string(),
            path: None,
        };
        let mut found = Vec::new();
        let mut window = Vec::new();
        let summary = &mut self.local.summary;
        match crate::window::scan_reader(
            self.ctx,
            reader,
            &location,
            self.filter,
            &mut window,
            summary,
            &mut found,
        ) {
            Ok(read) if read.capped => summary.skip(
                location.name(),
                SkipReason::Truncated {
                    size,
                    scanned: read.bytes,
                },
            ),
            Ok(read) if read.bytes < size => summary.skip(
                location.name(),
                SkipReason::Error(format!(
                    "blob ends after {} of its {size} bytes",
                    read.bytes
                )),
            ),
            Ok(_) => {}
            Err(e) => summary.skip(
                location.name(),
                SkipReason::Error(format!("blob cannot be inflated: {e}")),
            ),
        }
        if !found.is_empty() {
            self.local.blobs.push((id.0, found));
        }
    }

    fn message(&mut self, id: ObjectId, kind: Kind, data: &[u8]) {
        let Some(known) = self.known else {
            messages::scan_object(
                self.ctx,
                id,
                kind,
                data,
                self.hash,
                &mut self.local.messages,
            );
            return;
        };
        // With a cache: a message it knows clean under the key is not scanned again, its counts
        // replayed; one scanned clean now, counts and nothing else, is kept for it.
        if self.replay_message(known, id) {
            return;
        }
        let messages = &mut self.local.messages;
        let before = cache::Mark::of(&messages.summary);
        let found = messages.found.len();
        messages::scan_object(self.ctx, id, kind, data, self.hash, messages);
        if messages.found.len() == found
            && let Some(counts) = before.counts_to(&messages.summary)
        {
            self.local.cache.fresh_messages.push((id, counts));
        }
    }
}

impl Visitor<'_> {
    /// Replays the counts of message `id` if `known` holds it clean; whether it did.
    fn replay_message(&mut self, known: &cache::Known, id: ObjectId) -> bool {
        let Some(counts) = known.message(&id) else {
            return false;
        };
        counts.replay(&mut self.local.messages.summary);
        self.local.cache.messages_spared += 1;
        true
    }
}

impl Drop for Visitor<'_> {
    fn drop(&mut self) {
        let mut g = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        g.absorb(std::mem::take(&mut self.local));
    }
}

/// Scans one blob with the rules `filter` lets run (its paths are not known yet: path-scoped
/// rules are checked once they are). `data` is the blob, or its first bytes when only those were
/// decoded of its `size` (over the size cap).
fn scan_blob(
    ctx: &ScanContext<'_>,
    id: ObjectId,
    data: &[u8],
    size: u64,
    filter: PathFilter<'_>,
    out: &mut Outcome,
) {
    let cap = data
        .len()
        .min(usize::try_from(ctx.max_file_size).unwrap_or(usize::MAX));
    let location = Location::Blob {
        id: id.to_string(),
        path: None,
    };
    let size = size.max(data.len() as u64);
    if size > cap as u64 {
        // Cut by the user's cap, or by the most a history scan decodes of one blob.
        let reason = if cap as u64 >= ctx.max_file_size {
            SkipReason::Truncated {
                size,
                scanned: cap as u64,
            }
        } else {
            SkipReason::TruncatedBlob {
                size,
                scanned: cap as u64,
            }
        };
        out.summary.skip(location.name(), reason);
    }
    let mut found = Vec::new();
    // Vobiz ids and tokens are paired within the blob (scan_buffer pairs each buffer), before
    // findings are grouped by secret: an id committed before its token first appears in an
    // older blob than the token, and would not pair with it once each is reported at its own
    // first appearance.
    // A blob longer than a window is scanned in windows, as a file of its size is, so that the
    // scan of a huge blob holds what one window's scan holds (pairs are linked within a window).
    let data = &data[..cap];
    if data.len() > ctx.window_size {
        let mut reader = data;
        let mut window = Vec::new();
        // Reading from memory cannot fail.
        let _ = crate::window::scan_reader(
            ctx,
            &mut reader,
            &location,
            filter,
            &mut window,
            &mut out.summary,
            &mut found,
        );
    } else {
        scan_buffer(
            ctx,
            data,
            cap as u64,
            &location,
            filter,
            &mut out.summary,
            &mut found,
        );
    }
    if !found.is_empty() {
        out.blobs.push((id, found));
    }
}

/// How a blob with no known path is named where a place is listed by name (another place of a
/// secret): as its [`Location`] renders it.
pub(crate) fn blob_name(id: ObjectId) -> String {
    Location::Blob {
        id: id.to_string(),
        path: None,
    }
    .name()
    .into_owned()
}
