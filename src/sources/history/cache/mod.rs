//! The blob cache of history scans (`credsweep git --cache DIR`): which blobs an earlier scan
//! found clean, so that a repeat audit decodes and scans only what it has not seen.
//!
//! What it holds: blob ids that were scanned clean, each with what it added to the scan's counts
//! (bytes, blobs scanned, binaries, findings allowed), so that a warm scan reports the counts a
//! cold one does; commit and tag ids whose message was scanned clean, with the counts that scan
//! added; tree ids that hold nothing of interest ([`Fact::Tree`], below); and for a commit whose
//! message was scanned clean, what the commit graph needs of it ([`Fact::Commit`]: its tree's id,
//! its parents' ids, its committer time). No content, no secret, no path: an object id names
//! content, so a blob clean in one repository is clean in any, and one cache serves many
//! repositories.
//!
//! Commits known: a commit's tree, parents and committer time are what its id names, so they are
//! the same in any scan. A later scan does not decode a pack's entry for a commit it knows
//! (unless damaged, too large, or a base of another entry it decodes): the graph takes the facts,
//! the message's counts are replayed, and the tree is checked to be present as for a commit
//! decoded, so the graph, the order of the walk (which uses the time) and every report are a cold
//! scan's. A commit whose message has findings is never recorded.
//!
//! What it does not hold, and why the output stays exact:
//! - Blobs and messages with findings are never recorded: each scan reads and scans them again,
//!   and locates the blobs, so findings and provenance are made as a cold scan makes them.
//! - A blob or message whose scan reported anything (cut at a size cap, an archive not opened,
//!   an error) is not recorded either: it is scanned again and reports it again.
//! - The paths path-scoped rules name are found and rescanned on every run.
//!
//! Trees holding nothing of interest: the locate phase reads every tree of history to find
//! where the blobs with findings sit, and which blobs sit at paths path-scoped rules name. A tree
//! whose whole closure (itself and every tree below it) was read, and whose blob entries are all
//! blobs scanned clean under the key at names no path-scoped rule of the key can match, hands
//! that walk nothing, in any scan under the key: a tree id names its closure, a blob scanned clean
//! has no finding under the key, and the names are in the tree. So its id is recorded, and a
//! later scan under the key leaves such a tree unparsed in its locate pass (it still inflates
//! it, as a base of others), treating it as the cold walk ends up treating it: nothing below it
//! to visit. What a run adds (new commits naming old trees, a rewritten ref reaching an older
//! commit, a repack) changes no tree's closure, so no record goes stale; a tree that holds a
//! blob with findings, a blob not scanned (missing, cut) or a name a path-scoped rule may match
//! is never recorded, nor is any tree above it. A scan whose object pass reported an error (an
//! object missing or damaged) neither uses nor records them: the walk then reads what a cold
//! walk reads, and reports what it reports.
//!
//! What it is keyed on ([`Key`]): everything that changes what scanning one blob yields: the
//! rules in force ([`credsweep_engine::rules::RuleSet::matching_digest`]: built-in, `--rules`
//! and configuration rules), the allow-lists applied while content is scanned (secret and line
//! regexes, stopwords), inline markers, the size cap, the most decoded in memory, the window
//! size, the decoding depth, archive options, binary handling, the object hash, the credsweep
//! version and [`CACHE_FORMAT`]. Path and commit allow-lists, `--exclude`, baselines and
//! `--min-severity` act on findings after they are made, so they are not in the key. Each key
//! has its own directory, so a changed rule pack starts an empty namespace, and old ones are
//! evicted by size.
//!
//! Checked packs: the blob pass decodes every tree only to check that what it names is there
//! (a missing blob would go unscanned without a word). A scan whose pass reported no error at
//! all, over an object database of packs alone (no loose object), records the packs it read
//! ([`PackId`]: checksum, length, modification time): the trees of those packs name only objects
//! those packs hold. A later scan that finds every pack of such a record still there
//! ([`CheckedPacks::covering`]) leaves those packs' trees undecoded in its blob pass; a new pack,
//! or one rewritten (a repack: a new checksum), is checked as before. A record holds no content
//! and no path, and does not depend on the key (it sits under one all the same, and goes with it).
//!
//! Files and concurrency: see [`store`]. Scans over a range (`--since`, `--range`, unpushed
//! commits) and `--rule-stats` scans do not use the cache (a note says so).

mod packs;
mod segment;
mod store;

use std::collections::BTreeSet;
use std::io;
use std::path::PathBuf;

use gix::ObjectId;
use gix::hashtable::{HashMap, HashSet};
use sha2::{Digest, Sha256};

use super::graph::RawCommit;
use crate::scan::{ScanContext, Summary};

/// The version of the cache's files and of what a record means: raise it whenever either
/// changes, or whenever a change to the scan makes an old "clean" untrue that the key would not
/// catch.
pub const CACHE_FORMAT: u32 = 3;

/// `--cache-max-size` when not given.
pub const DEFAULT_MAX_SIZE: u64 = 256 << 20;

/// Where the cache is and how large it may grow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub dir: PathBuf,
    /// The most its segments take together, in bytes; the oldest go first.
    pub max_size: u64,
}

/// The cache could not be used at all.
#[derive(Debug)]
pub struct Error {
    pub dir: PathBuf,
    pub problem: String,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cache directory {}: {} (name a directory credsweep may write, or drop --cache / \
             CREDSWEEP_CACHE)",
            crate::term::escape(&self.dir.display().to_string()),
            self.problem
        )
    }
}

impl std::error::Error for Error {}

/// What decides what scanning one blob yields (see the module documentation), as a SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key(pub(crate) [u8; 32]);

impl Key {
    /// The key of scans under `ctx` of a repository whose ids are `hash`.
    pub fn of(ctx: &ScanContext<'_>, hash: gix::hash::Kind) -> Key {
        let mut h = Sha256::new();
        let mut field = |s: &[u8]| {
            h.update((s.len() as u64).to_le_bytes());
            h.update(s);
        };
        field(&CACHE_FORMAT.to_le_bytes());
        field(env!("CARGO_PKG_VERSION").as_bytes());
        field(&ctx.scanner.rules().matching_digest());
        field(ctx.allowlist.content_key().as_bytes());
        field(&[u8::from(ctx.inline_allow), u8::from(ctx.binary_strings)]);
        field(&ctx.max_file_size.to_le_bytes());
        field(&super::blobs::MAX_BLOB_IN_MEMORY.to_le_bytes());
        field(&(ctx.window_size as u64).to_le_bytes());
        field(&ctx.max_decode_depth.to_le_bytes());
        field(format!("{:?}", ctx.archives).as_bytes());
        field(format!("{hash:?}").as_bytes());
        Key(h.finalize().into())
    }

    /// The first half, in hex: the name of the key's directory.
    fn hex(&self) -> String {
        self.0[..16].iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// What scanning one clean blob added to the scan's counts, replayed when the cache spares it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub bytes: u64,
    pub allowed: u32,
    pub scanned: u8,
    pub binary: u8,
    pub binary_strings: u8,
}

/// A summary's counts before a blob is scanned, to tell what the scan added.
pub struct Mark {
    counts: [u64; 10],
    lists: (usize, usize),
}

impl Mark {
    pub fn of(s: &Summary) -> Mark {
        Mark {
            counts: [
                s.scanned,
                s.bytes,
                s.allowed,
                s.binary,
                s.binary_strings,
                s.not_files,
                s.allowed_paths,
                s.excluded,
                s.below_min_severity,
                s.commits.unwrap_or(u64::MAX),
            ],
            lists: (s.skips.len(), s.notes.len()),
        }
    }

    /// What scanning a blob added to the counts since this mark, if it is only counts the cache
    /// can replay: no skip, no note, no rule statistics, nothing else.
    pub fn counts_to(&self, after: &Summary) -> Option<Counts> {
        let now = Mark::of(after);
        if now.lists != self.lists
            || now.counts[5..] != self.counts[5..]
            || after.rule_stats.is_some()
        {
            return None;
        }
        let added = |i: usize| now.counts[i].checked_sub(self.counts[i]);
        Some(Counts {
            scanned: u8::try_from(added(0)?).ok()?,
            bytes: added(1)?,
            allowed: u32::try_from(added(2)?).ok()?,
            binary: u8::try_from(added(3)?).ok()?,
            binary_strings: u8::try_from(added(4)?).ok()?,
        })
    }
}

impl Counts {
    /// Adds these counts to `summary`, as scanning the blob again would.
    pub fn replay(&self, summary: &mut Summary) {
        summary.bytes += self.bytes;
        summary.allowed += u64::from(self.allowed);
        summary.scanned += u64::from(self.scanned);
        summary.binary += u64::from(self.binary);
        summary.binary_strings += u64::from(self.binary_strings);
    }
}

/// What a record of a segment says about the object it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    /// A blob scanned clean, with what it added to the counts.
    Blob(Counts),
    /// A commit or tag whose message was scanned clean, with what that scan added to the
    /// counts of messages.
    Message(Counts),
    /// A tree holding nothing of interest (see the module documentation).
    Tree,
    /// A commit whose message was scanned clean, with what the commit graph needs of it.
    Commit(Box<CommitFacts>),
}

impl Fact {
    /// How many records of a segment it takes.
    pub(super) fn records(&self) -> usize {
        match self {
            Fact::Commit(c) => 2 + c.parents.len(),
            _ => 1,
        }
    }
}

/// The most parents a commit recorded in the cache may have: one with more (git writes none)
/// is decoded on every run.
pub const MAX_CACHED_PARENTS: usize = 1 << 10;

/// A commit whose message was scanned clean, as the cache keeps it: what that scan added to the
/// counts of messages, and what the commit graph needs (see the module documentation). All of it
/// is named by the commit's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitFacts {
    pub message: Counts,
    pub tree: ObjectId,
    pub parents: Box<[ObjectId]>,
    /// The committer time, in seconds since the epoch, as `RawCommit::parse` reads it.
    pub time: i64,
}

impl CommitFacts {
    /// The commit as the graph takes it.
    pub(crate) fn raw(&self, id: ObjectId) -> RawCommit {
        RawCommit {
            id,
            tree: self.tree,
            parents: self.parents.to_vec(),
            time: self.time,
        }
    }
}

/// The commits among `decoded` (a pass's, duplicates allowed) that the cache does not know yet
/// and whose message is known clean (by `known`, or scanned clean now: `fresh_messages`), with
/// what the cache keeps of each.
pub(crate) fn commits_to_learn(
    known: &Known,
    fresh_messages: &[(ObjectId, Counts)],
    decoded: &[RawCommit],
) -> Vec<(ObjectId, CommitFacts)> {
    let fresh: HashMap<ObjectId, Counts> = fresh_messages.iter().copied().collect();
    let mut seen: HashSet<ObjectId> = HashSet::default();
    decoded
        .iter()
        .filter(|c| c.parents.len() <= MAX_CACHED_PARENTS && !known.commits.contains_key(&c.id))
        .filter_map(|c| {
            let message = fresh.get(&c.id).or_else(|| known.message(&c.id))?;
            seen.insert(c.id).then(|| {
                let facts = CommitFacts {
                    message: *message,
                    tree: c.tree,
                    parents: c.parents.clone().into_boxed_slice(),
                    time: c.time,
                };
                (c.id, facts)
            })
        })
        .collect()
}

/// What the cache knows under one key.
#[derive(Default)]
pub struct Known {
    blobs: HashMap<ObjectId, Counts>,
    messages: HashMap<ObjectId, Counts>,
    trees: HashSet<ObjectId>,
    commits: HashMap<ObjectId, CommitFacts>,
}

impl Known {
    /// A blob scanned clean: what it added to the counts.
    pub fn get(&self, id: &gix::oid) -> Option<&Counts> {
        self.blobs.get(id)
    }

    /// Whether blob `id` was scanned clean.
    pub fn contains(&self, id: &gix::oid) -> bool {
        self.blobs.contains_key(id)
    }

    /// A commit or tag whose message was scanned clean: what that scan added to the counts.
    pub fn message(&self, id: &gix::oid) -> Option<&Counts> {
        self.messages
            .get(id)
            .or_else(|| self.commits.get(id).map(|c| &c.message))
    }

    /// A commit whose message was scanned clean, with what the commit graph needs of it.
    pub fn commit(&self, id: &gix::oid) -> Option<&CommitFacts> {
        self.commits.get(id)
    }

    /// The trees known to hold nothing of interest.
    pub fn trees(&self) -> &HashSet<ObjectId> {
        &self.trees
    }

    /// Takes in one segment's facts: a fact replaces what an earlier one (of this segment or
    /// one taken in before) said of the same object. With `threads` over one and many facts,
    /// the blobs are taken in on a thread of their own beside the rest (each kind has its own
    /// table).
    fn absorb(&mut self, records: segment::Records, threads: usize) {
        let parallel = threads > 1 && records.len() >= segment::PARALLEL_FROM;
        let segment::Records {
            blobs,
            messages,
            trees,
            commits,
        } = records;
        let Known {
            blobs: known_blobs,
            messages: known_messages,
            trees: known_trees,
            commits: known_commits,
        } = self;
        let take_blobs = move || {
            known_blobs.reserve(blobs.len());
            known_blobs.extend(blobs);
        };
        let take_rest = move || {
            known_messages.reserve(messages.len());
            known_messages.extend(messages);
            known_trees.reserve(trees.len());
            known_trees.extend(trees);
            known_commits.reserve(commits.len());
            known_commits.extend(commits);
        };
        if parallel {
            std::thread::scope(|scope| {
                scope.spawn(take_blobs);
                take_rest();
            });
        } else {
            take_blobs();
            take_rest();
        }
    }

    #[cfg(test)]
    fn insert(&mut self, id: ObjectId, fact: Fact) {
        match fact {
            Fact::Blob(c) => {
                self.blobs.insert(id, c);
            }
            Fact::Message(c) => {
                self.messages.insert(id, c);
            }
            Fact::Tree => {
                self.trees.insert(id);
            }
            Fact::Commit(c) => {
                self.commits.insert(id, *c);
            }
        }
    }

    /// How many objects it knows of.
    pub fn len(&self) -> usize {
        self.blobs.len() + self.messages.len() + self.trees.len() + self.commits.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A pack as a record of checked packs names it: what changes when it is rewritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PackId {
    /// The checksum its trailer holds.
    pub checksum: ObjectId,
    /// Its length in bytes.
    pub len: u64,
    /// When it was last modified, in nanoseconds since the epoch: a pack changed in place (it
    /// never is, unless damaged) is not taken for the one checked.
    pub modified: u64,
}

/// The records of checked packs the cache holds under one key: each a set of packs whose trees
/// name only objects those packs hold.
#[derive(Debug, Default)]
pub struct CheckedPacks {
    sets: Vec<Vec<PackId>>,
}

impl CheckedPacks {
    /// The packs of `present` whose trees need no check: those of each record all of whose
    /// packs are in `present` (what their trees name is still there).
    pub fn covering(&self, present: &[PackId]) -> BTreeSet<PackId> {
        // Not a gix table: its hasher takes object ids alone.
        let here: BTreeSet<PackId> = present.iter().copied().collect();
        self.sets
            .iter()
            .filter(|set| set.iter().all(|p| here.contains(p)))
            .flatten()
            .copied()
            .collect()
    }

    /// Records as given: for tests of the passes that use them.
    #[cfg(test)]
    pub(crate) fn of_sets(sets: Vec<Vec<PackId>>) -> CheckedPacks {
        CheckedPacks { sets }
    }

    /// Whether a record says exactly what `packs` would.
    fn holds(&self, packs: &[PackId]) -> bool {
        self.sets.iter().any(|s| s == packs)
    }

    pub fn len(&self) -> usize {
        self.sets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }
}

/// What [`load`] found.
pub struct Loaded {
    pub known: Known,
    /// The records of checked packs.
    pub packs: CheckedPacks,
    /// Cache files not used, each with why (damaged, foreign, a symbolic link): for notes.
    pub ignored: Vec<String>,
}

/// The blobs the cache in `opts.dir` knows clean under `key`, read on up to `threads` threads.
/// The directory is created if absent. Files that are damaged, foreign or not regular are not
/// used, and listed in [`Loaded::ignored`]; the error is only for a directory that cannot be
/// used at all.
pub fn load(opts: &Options, key: &Key, threads: usize) -> Result<Loaded, Error> {
    let fail = |e: io::Error| Error {
        dir: opts.dir.clone(),
        problem: crate::fsutil::explain(&e),
    };
    store::ensure_dir(&opts.dir, true).map_err(fail)?;
    let dir = store::key_dir(&opts.dir, key);
    store::ensure_dir(&dir, false).map_err(fail)?;
    let (files, refused) = store::segments(&dir).map_err(fail)?;
    let mut out = Loaded {
        known: Known::default(),
        packs: CheckedPacks::default(),
        ignored: refused
            .into_iter()
            .map(|r| format!("{r}, not a cache file"))
            .collect(),
    };
    // Newest first, and no more than the bound: more is left for eviction.
    let mut budget = opts.max_size;
    for f in files.iter().rev() {
        if f.len > budget {
            continue;
        }
        match store::read_segment(&f.path, key, budget, threads) {
            Ok(records) => {
                budget -= f.len;
                if let Some(records) = records {
                    out.known.absorb(records, threads);
                }
            }
            Err(why) => out.ignored.push(format!("{}: {why}", f.path.display())),
        }
    }
    let (files, refused) = store::pack_records(&dir).map_err(fail)?;
    out.ignored.extend(
        refused
            .into_iter()
            .map(|r| format!("{r}, not a cache file")),
    );
    for f in files.iter().rev().take(store::MAX_PACK_RECORDS) {
        match store::read_packs(&f.path, key, store::MAX_PACKS_FILE) {
            Ok(Some(mut set)) => {
                set.sort_unstable();
                out.packs.sets.push(set);
            }
            Ok(None) => {}
            Err(why) => out.ignored.push(format!("{}: {why}", f.path.display())),
        }
    }
    Ok(out)
}

/// What [`store`] did.
#[derive(Debug, Default)]
pub struct Stored {
    /// Facts written (a commit's facts take several records of a segment).
    pub records: usize,
    /// Segments removed to keep the cache within its bound.
    pub evicted: usize,
}

/// What a run learned, for the cache to keep.
#[derive(Debug, Default, Clone, Copy)]
pub struct Learned<'a> {
    /// Blobs scanned clean, with their counts.
    pub blobs: &'a [(ObjectId, Counts)],
    /// Commits and tags whose message was scanned clean, with the counts of that scan.
    pub messages: &'a [(ObjectId, Counts)],
    /// Trees found to hold nothing of interest.
    pub trees: &'a [ObjectId],
    /// Commits whose message was scanned clean, with what the graph needs
    /// (`commits_to_learn`); their messages need no record of `messages` besides.
    pub commits: &'a [(ObjectId, CommitFacts)],
}

impl Learned<'_> {
    fn records(&self) -> Vec<(ObjectId, Fact)> {
        let blobs = self.blobs.iter().map(|&(id, c)| (id, Fact::Blob(c)));
        let messages = self.messages.iter().map(|&(id, c)| (id, Fact::Message(c)));
        let trees = self.trees.iter().map(|&id| (id, Fact::Tree));
        let commits = self
            .commits
            .iter()
            .map(|(id, c)| (*id, Fact::Commit(Box::new(c.clone()))));
        blobs.chain(messages).chain(trees).chain(commits).collect()
    }
}

/// How many of `facts`, from the first, fit in `max_records` records: a commit's records are
/// never cut apart.
pub(super) fn fitting(facts: &[(ObjectId, Fact)], max_records: usize) -> usize {
    let mut used = 0usize;
    facts
        .iter()
        .take_while(|(_, f)| {
            used = used.saturating_add(f.records());
            used <= max_records
        })
        .count()
}

/// Adds `fresh` (what the run learned) to the cache in `opts.dir` under `key`, and `checked` (the packs of a pass that found nothing missing, see the module
/// documentation) unless `known` holds that record already; compacts the key's segments when
/// they are many, and evicts the oldest segments past `opts.max_size`.
pub fn store(
    opts: &Options,
    key: &Key,
    fresh: Learned<'_>,
    checked: Option<&[PackId]>,
    known: &CheckedPacks,
) -> Result<Stored, Error> {
    let fail = |e: io::Error| Error {
        dir: opts.dir.clone(),
        problem: crate::fsutil::explain(&e),
    };
    let mut out = Stored::default();
    let dir = store::key_dir(&opts.dir, key);
    store::ensure_dir(&opts.dir, true).map_err(fail)?;
    store::ensure_dir(&dir, false).map_err(fail)?;
    let max_records = segment::records_within(opts.max_size);
    let fresh = fresh.records();
    let fit = fitting(&fresh, max_records);
    if fit > 0 {
        let records = &fresh[..fit];
        store::write_segment(&dir, key, records).map_err(fail)?;
        out.records = records.len();
    }
    if let Some(checked) = checked {
        let mut set = checked.to_vec();
        set.sort_unstable();
        set.dedup();
        if !set.is_empty()
            && packs::size_of(set.len()) <= store::MAX_PACKS_FILE
            && !known.holds(&set)
        {
            store::write_packs(&dir, key, &set).map_err(fail)?;
        }
    }
    let (files, _) = store::segments(&dir).map_err(fail)?;
    if files.len() > store::MAX_SEGMENTS {
        store::compact(&dir, key, opts.max_size, max_records).map_err(fail)?;
    }
    out.evicted = store::evict(&opts.dir, opts.max_size).map_err(fail)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn opts(dir: &Path, max_size: u64) -> Options {
        Options {
            dir: dir.to_path_buf(),
            max_size,
        }
    }

    fn id(i: u32) -> ObjectId {
        let mut b = [0u8; 20];
        b[..4].copy_from_slice(&i.to_be_bytes());
        ObjectId::from_bytes_or_panic(&b)
    }

    fn fresh(range: std::ops::Range<u32>) -> Vec<(ObjectId, Counts)> {
        range
            .map(|i| {
                (
                    id(i),
                    Counts {
                        bytes: u64::from(i),
                        scanned: 1,
                        ..Counts::default()
                    },
                )
            })
            .collect()
    }

    fn blobs(fresh: &[(ObjectId, Counts)]) -> Learned<'_> {
        Learned {
            blobs: fresh,
            ..Learned::default()
        }
    }

    #[test]
    fn keeps_messages_and_trees_apart_from_blobs_through_compaction() {
        let d = tempfile::tempdir().unwrap();
        let o = opts(d.path(), DEFAULT_MAX_SIZE);
        let k = Key([7; 32]);
        let allowed = Counts {
            allowed: 2,
            scanned: 1,
            ..Counts::default()
        };
        store(
            &o,
            &k,
            Learned {
                blobs: &fresh(0..3),
                messages: &[(id(10), allowed)],
                trees: &[id(20), id(21)],
                commits: &[(id(30), commit_facts(2)), (id(31), commit_facts(0))],
            },
            None,
            &CheckedPacks::default(),
        )
        .unwrap();
        let check = |known: &Known| {
            assert_eq!(known.len(), 8);
            assert!(known.contains(&id(1)) && !known.contains(&id(10)));
            assert_eq!(known.message(&id(10)), Some(&allowed));
            assert_eq!(known.commit(&id(30)), Some(&commit_facts(2)));
            assert_eq!(known.commit(&id(31)), Some(&commit_facts(0)));
            assert_eq!(known.message(&id(30)), Some(&commit_facts(2).message));
            assert!(known.commit(&id(10)).is_none() && !known.contains(&id(30)));
            assert!(known.message(&id(1)).is_none() && known.message(&id(20)).is_none());
            let mut trees: Vec<_> = known.trees().iter().copied().collect();
            trees.sort();
            assert_eq!(trees, [id(20), id(21)]);
        };
        check(&load(&o, &k, 2).unwrap().known);
        for run in 0..store::MAX_SEGMENTS as u32 {
            store(
                &o,
                &k,
                blobs(&fresh(100 + run..101 + run)),
                None,
                &CheckedPacks::default(),
            )
            .unwrap();
        }
        let (files, _) = store::segments(&store::key_dir(d.path(), &k)).unwrap();
        assert_eq!(files.len(), 1, "compacted");
        let known = load(&o, &k, 2).unwrap().known;
        assert_eq!(known.blobs.len(), 3 + store::MAX_SEGMENTS);
        assert_eq!(known.message(&id(10)), Some(&allowed));
        assert!(known.trees().contains(&id(21)));
        assert_eq!(known.commit(&id(30)), Some(&commit_facts(2)));
    }

    fn commit_facts(parents: u32) -> CommitFacts {
        CommitFacts {
            message: Counts {
                bytes: 70,
                scanned: 1,
                ..Counts::default()
            },
            tree: id(1000 + parents),
            parents: (0..parents).map(|p| id(2000 + p)).collect(),
            time: -1_234_567 - i64::from(parents),
        }
    }

    #[test]
    fn loads_the_same_on_several_threads() {
        let d = tempfile::tempdir().unwrap();
        let o = opts(d.path(), DEFAULT_MAX_SIZE);
        let k = Key([11; 32]);
        // Two segments large enough to be read and taken in on two threads, the newer one
        // saying other things of some of the same blobs.
        let n = segment::PARALLEL_FROM as u32;
        let trees: Vec<ObjectId> = (0..n).map(|i| id(1_000_000 + i)).collect();
        let commits: Vec<(ObjectId, CommitFacts)> = (0..100)
            .map(|i| (id(2_000_000 + i), commit_facts(i % 3)))
            .collect();
        let none = CheckedPacks::default();
        let older = Learned {
            blobs: &fresh(0..n),
            trees: &trees,
            commits: &commits,
            ..Learned::default()
        };
        store(&o, &k, older, None, &none).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let newer: Vec<(ObjectId, Counts)> = fresh(n / 2..n + n / 2)
            .into_iter()
            .map(|(i, c)| (i, Counts { binary: 1, ..c }))
            .collect();
        store(&o, &k, blobs(&newer), None, &none).unwrap();
        let one = load(&o, &k, 1).unwrap().known;
        let two = load(&o, &k, 2).unwrap().known;
        assert_eq!(one.blobs, two.blobs);
        assert_eq!(one.messages, two.messages);
        assert_eq!(one.trees, two.trees);
        assert_eq!(one.commits, two.commits);
        assert_eq!(two.len(), (n + n / 2) as usize + n as usize + 100);
        // Segments are read newest first: where two say something of one blob, the older wins
        // (as it always has).
        assert_eq!(two.get(&id(n - 1)).unwrap().binary, 0);
        assert_eq!(two.get(&id(n)).unwrap().binary, 1);
        assert_eq!(two.commit(&id(2_000_005)), Some(&commit_facts(2)));
    }

    #[test]
    fn a_bound_never_cuts_a_commit_apart() {
        let facts = vec![
            (id(1), Fact::Tree),
            (id(2), Fact::Commit(Box::new(commit_facts(3)))),
            (id(3), Fact::Tree),
        ];
        assert_eq!(fitting(&facts, 0), 0);
        assert_eq!(
            fitting(&facts, 5),
            1,
            "the commit takes 5 records, one is used"
        );
        assert_eq!(fitting(&facts, 6), 2);
        assert_eq!(fitting(&facts, 7), 3);
        // Commits learned once, only with a message known clean, never beyond the parents cap.
        let mut known = Known::default();
        known.insert(id(40), Fact::Commit(Box::new(commit_facts(1))));
        known.insert(id(41), Fact::Message(Counts::default()));
        let raw = |i: u32, parents: usize| RawCommit {
            id: id(i),
            tree: id(9),
            parents: vec![id(8); parents],
            time: 5,
        };
        let decoded = [
            raw(40, 1),
            raw(41, 1),
            raw(41, 1),
            raw(42, 2),
            raw(43, 0),
            raw(44, MAX_CACHED_PARENTS + 1),
        ];
        let fresh = [(id(43), Counts::default()), (id(44), Counts::default())];
        let learned = commits_to_learn(&known, &fresh, &decoded);
        let ids: Vec<ObjectId> = learned.iter().map(|(i, _)| *i).collect();
        assert_eq!(ids, [id(41), id(43)]);
        assert_eq!(learned[0].1.raw(id(41)).parents, [id(8)]);
    }

    #[test]
    fn stores_loads_and_compacts_per_key() {
        let d = tempfile::tempdir().unwrap();
        let o = opts(d.path(), DEFAULT_MAX_SIZE);
        let (k1, k2) = (Key([1; 32]), Key([2; 32]));
        for run in 0..(store::MAX_SEGMENTS as u32 + 3) {
            store(
                &o,
                &k1,
                blobs(&fresh(run * 10..run * 10 + 10)),
                None,
                &CheckedPacks::default(),
            )
            .unwrap();
        }
        let loaded = load(&o, &k1, 2).unwrap();
        assert!(loaded.ignored.is_empty(), "{:?}", loaded.ignored);
        assert_eq!(loaded.known.len(), (store::MAX_SEGMENTS + 3) * 10);
        assert_eq!(loaded.known.get(&id(42)).unwrap().bytes, 42);
        let (files, _) = store::segments(&store::key_dir(d.path(), &k1)).unwrap();
        assert!(
            files.len() <= store::MAX_SEGMENTS,
            "compacted: {}",
            files.len()
        );
        // Another key sees nothing of it.
        assert_eq!(load(&o, &k2, 2).unwrap().known.len(), 0);
    }

    #[test]
    fn stays_within_its_bound_oldest_first() {
        let d = tempfile::tempdir().unwrap();
        let max = segment::size_of(25);
        let o = opts(d.path(), max);
        let k = Key([3; 32]);
        let none = CheckedPacks::default();
        store(&o, &k, blobs(&fresh(0..20)), None, &none).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        store(&o, &k, blobs(&fresh(100..120)), None, &none).unwrap();
        let loaded = load(&o, &k, 2).unwrap();
        assert!(loaded.known.contains(&id(100)), "the newest stays");
        assert!(!loaded.known.contains(&id(0)), "the oldest went");
        let (files, _) = store::segments(&store::key_dir(d.path(), &k)).unwrap();
        assert!(files.iter().map(|f| f.len).sum::<u64>() <= max);
        // One run's records alone are cut to the bound.
        store(&o, &k, blobs(&fresh(200..300)), None, &none).unwrap();
        assert!(load(&o, &k, 2).unwrap().known.len() <= 25);
    }

    fn pack(i: u8) -> PackId {
        PackId {
            checksum: ObjectId::from_bytes_or_panic(&[i; 20]),
            len: u64::from(i) * 100,
            modified: u64::from(i),
        }
    }

    #[test]
    fn records_of_checked_packs_cover_only_while_all_their_packs_are_there() {
        let d = tempfile::tempdir().unwrap();
        let o = opts(d.path(), DEFAULT_MAX_SIZE);
        let k = Key([5; 32]);
        store(
            &o,
            &k,
            Learned::default(),
            Some(&[pack(2), pack(1)]),
            &CheckedPacks::default(),
        )
        .unwrap();
        let loaded = load(&o, &k, 2).unwrap();
        assert_eq!(loaded.packs.len(), 1);
        // The same packs in another order: the record is not written again.
        store(
            &o,
            &k,
            Learned::default(),
            Some(&[pack(1), pack(2)]),
            &loaded.packs,
        )
        .unwrap();
        let loaded = load(&o, &k, 2).unwrap();
        assert_eq!(loaded.packs.len(), 1);
        let covered = loaded.packs.covering(&[pack(1), pack(2), pack(3)]);
        assert_eq!(covered.into_iter().collect::<Vec<_>>(), [pack(1), pack(2)]);
        assert!(loaded.packs.covering(&[pack(1), pack(3)]).is_empty());
        // A pack rewritten in place (another time) is another pack.
        let touched = PackId {
            modified: 99,
            ..pack(2)
        };
        assert!(loaded.packs.covering(&[pack(1), touched]).is_empty());
        // The newest records are kept, no more.
        for i in 10..(10 + store::MAX_PACK_RECORDS as u8 + 3) {
            let known = load(&o, &k, 2).unwrap().packs;
            store(&o, &k, Learned::default(), Some(&[pack(i)]), &known).unwrap();
        }
        let loaded = load(&o, &k, 2).unwrap();
        assert_eq!(loaded.packs.len(), store::MAX_PACK_RECORDS);
        assert!(loaded.packs.covering(&[pack(1), pack(2)]).is_empty());
        assert_eq!(loaded.packs.covering(&[pack(20)]).len(), 1);
        // Another key sees none of them.
        assert!(load(&o, &Key([6; 32]), 2).unwrap().packs.is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn refuses_a_linked_directory_and_ignores_damaged_or_linked_files() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("real");
        std::fs::create_dir(&real).unwrap();
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let k = Key([4; 32]);
        assert!(load(&opts(&link, DEFAULT_MAX_SIZE), &k, 2).is_err());

        let o = opts(&real, DEFAULT_MAX_SIZE);
        store(&o, &k, blobs(&fresh(0..5)), None, &CheckedPacks::default()).unwrap();
        let dir = store::key_dir(&real, &k);
        std::fs::write(dir.join("seg-0-bad.bin"), b"CSWBLOBS-not-really").unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.join("seg-1-link.bin")).unwrap();
        let loaded = load(&o, &k, 2).unwrap();
        assert_eq!(loaded.known.len(), 5);
        assert_eq!(loaded.ignored.len(), 2, "{:?}", loaded.ignored);
    }
}
