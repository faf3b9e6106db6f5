//! The trees of a whole history, read once in pack order, kept as a skeleton for the locate
//! walk to run over in memory.
//!
//! The locate walk visits commits oldest first and opens every tree it has not seen. Opening
//! them one id at a time goes through delta chains with a small cache of bases, so the same
//! bases are inflated again and again: on git/git that random access is most of a scan's time.
//! So, once the blob scan has said which blobs matter (the targets: blobs with findings) and
//! path-scoped rules have said which file names might matter, one pass decodes every tree as
//! the blob pass decodes blobs (each pack as a delta tree, in parallel: [`odb::visit_trees`]) and
//! keeps of each tree only:
//!
//! - its subtree entries, in entry order (child tree as a number, name interned), and
//! - its blob entries of interest: a target, or a name a path-scoped rule may end with
//!   ([`ScopedPaths::may_name`]; the whole path is tested exactly by the walk's caller).
//!
//! Then [`Skeleton::walk`] does what [`TreeWalker::walk`](super::walk::TreeWalker::walk) does,
//! with the same seen-tree rule, stack and entry order, opening no object. It does not descend
//! into a tree whose closure holds no blob of interest: such a tree, and every tree below it,
//! would hand over nothing, and no tree of interest sits below it, so leaving it (and what it
//! would have marked seen) out changes neither which trees of interest are visited, nor in
//! which commit, nor at which path. A tree the pass could not read (missing, damaged, too
//! large) is read by id when the walk reaches it, with the same errors as the walk by id.
//!
//! Bounded: the numbers and entries kept are capped; past a cap the skeleton is given up and
//! the caller walks by id as before.
//!
//! With the blob cache ([`Certify`]): a tree the cache knows to hold nothing of interest is
//! not parsed (its closure hands the walk nothing: see [`super::cache`]), and a tree read whose
//! closure was read whole and holds only blobs scanned clean at names no path-scoped rule may
//! match is returned ([`Skeleton::certified`]) for the cache to keep.

use std::collections::HashMap as NameMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use gix::ObjectId;
use gix::bstr::{BStr, BString, ByteSlice};
use gix::hashtable::HashSet;
use gix::hashtable::hash_table::HashTable;
use gix::objs::TreeRefIter;

use super::scoped::ScopedPaths;
use super::walk::{corrupt_tree, join, read_tree};
use super::{ObjectError, odb};

/// Shards of the numbering: the threads of the pass rarely wait on each other's lock.
const SHARDS: usize = 16;

/// The most object ids numbered (trees, and what trees name as subtrees; about 30 bytes each):
/// ten times git/git's 400,000 trees. A larger history is walked by id.
const MAX_NUMBERS: usize = 4 << 20;

/// The most entries kept (8 bytes each): three times git/git's 7.3 million. A larger history
/// is walked by id.
const MAX_ENTRIES: usize = 24 << 20;

/// Entries are kept in chunks of this many, so that the skeleton is never twice its size (as a
/// growing vector would be) nor copied; a tree's entries sit in one chunk.
const CHUNK: usize = 1 << 19;

/// A worker hands what it has read over once it holds this many entries.
const FLUSH_AT: usize = 1 << 16;

/// Marks an entry's name as a blob entry's (else a subtree's).
const BLOB: u32 = 1 << 31;

/// Object ids as dense numbers, for compact references between trees.
struct Numbering {
    shards: Vec<Mutex<Shard>>,
}

/// Ids, each given the position it was added at: the table finding a position by id holds 4
/// bytes an id rather than a second copy of it (on git/git that is 10 MB less at the scan's peak
/// for the numbering, and 20 MB for the skeleton's blobs).
#[derive(Default)]
struct IdTable {
    at: HashTable<u32>,
    ids: Vec<ObjectId>,
}

impl IdTable {
    /// The position of `id`, if it was added.
    fn position(&self, id: &gix::oid) -> Option<u32> {
        let ids = &self.ids;
        (self.at)
            .find(table_hash(id), |&i| {
                ids[i as usize].as_bytes() == id.as_bytes()
            })
            .copied()
    }

    /// Adds `id`, which is not there yet, at the next position (the callers keep positions far
    /// below `u32::MAX`).
    fn push_new(&mut self, id: &gix::oid) -> u32 {
        let IdTable { at, ids } = self;
        let n = ids.len() as u32;
        ids.push(id.to_owned());
        at.insert_unique(table_hash(id), n, |&i| table_hash(&ids[i as usize]));
        n
    }

    /// The position of `id`, which is added if it is not there yet.
    fn intern(&mut self, id: &gix::oid) -> u32 {
        self.position(id).unwrap_or_else(|| self.push_new(id))
    }
}

/// One shard of a [`Numbering`]: the ids whose first byte picks it.
type Shard = IdTable;

/// The table hash of an id: eight of its bytes (an object id is already a hash). Not its first
/// byte, which picks the shard and so is much the same for every id in one.
fn table_hash(id: &gix::oid) -> u64 {
    let b = id.as_bytes();
    b.get(4..12)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map_or(0, u64::from_le_bytes)
}

impl Numbering {
    fn new() -> Self {
        Numbering {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    fn shard(id: &gix::oid) -> usize {
        usize::from(id.as_bytes()[0]) % SHARDS
    }

    fn lock(&self, s: usize) -> std::sync::MutexGuard<'_, Shard> {
        self.shards[s].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The number of `id`, given one now if it has none; `None` past [`MAX_NUMBERS`].
    fn number(&self, id: &gix::oid) -> Option<u32> {
        let s = Self::shard(id);
        let mut shard = self.lock(s);
        let global = |local: usize| u32::try_from(local * SHARDS + s).ok();
        if let Some(local) = shard.position(id) {
            return global(local as usize);
        }
        let local = shard.ids.len();
        if local >= MAX_NUMBERS / SHARDS {
            return None;
        }
        let n = global(local)?;
        shard.push_new(id);
        Some(n)
    }

    /// The id numbered `n`.
    fn id(&self, n: u32) -> ObjectId {
        let n = n as usize;
        self.lock(n % SHARDS).ids[n / SHARDS]
    }

    /// Calls `f` with each number given and its id, a shard at a time (one lock each).
    fn each(&self, mut f: impl FnMut(usize, &ObjectId)) {
        for s in 0..SHARDS {
            for (local, id) in self.lock(s).ids.iter().enumerate() {
                f(local * SHARDS + s, id);
            }
        }
    }

    /// One more than the highest number given so far.
    fn bound(&self) -> usize {
        (0..SHARDS)
            .map(|s| self.lock(s).ids.len() * SHARDS)
            .max()
            .unwrap_or(0)
    }
}

/// What the blob cache knows, for the pass to leave trees unparsed and to find more such trees.
pub(crate) struct Certify<'a> {
    /// Trees known to hold nothing of interest under the cache's key.
    pub trees: &'a HashSet<ObjectId>,
    /// Whether a blob was scanned clean under the key (known to the cache, or by this scan).
    pub clean_blob: &'a (dyn Fn(&gix::oid) -> bool + Sync),
}

/// Where a tree's entries are in [`Store::entries`].
#[derive(Clone, Copy)]
struct Span {
    start: u32,
    len: u32,
}

/// A tree the pass did not read.
const UNREAD: Span = Span {
    start: u32::MAX,
    len: 0,
};

/// A tree the cache knows to hold nothing of interest: not parsed, no entries.
const KNOWN_CLEAN: Span = Span {
    start: u32::MAX - 1,
    len: 0,
};

impl Span {
    /// Whether the pass read its entries.
    fn is_read(self) -> bool {
        self.start < KNOWN_CLEAN.start
    }

    /// Whether the pass met it at all: read, or known clean.
    fn is_met(self) -> bool {
        self.start != UNREAD.start
    }

    fn is_known_clean(self) -> bool {
        self.start == KNOWN_CLEAN.start
    }
}

/// A kept entry: a subtree (`target` is its number) or a blob of interest (`target` indexes
/// [`Store::blobs`], and `name` has [`BLOB`] set).
#[derive(Clone, Copy)]
struct Entry {
    target: u32,
    name: u32,
}

/// Every tree's entries, each tree's in one piece, in chunks of [`CHUNK`].
#[derive(Default)]
struct Entries {
    chunks: Vec<Vec<Entry>>,
    len: usize,
}

impl Entries {
    /// Room for `n` entries in one piece: where they start, or `None` past the caps.
    fn start(&mut self, n: usize) -> Option<u32> {
        if n > CHUNK || self.len + n > MAX_ENTRIES {
            return None;
        }
        if self.chunks.last().is_none_or(|c| c.len() + n > CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        self.len += n;
        let last = self.chunks.len() - 1;
        u32::try_from(last * CHUNK + self.chunks[last].len()).ok()
    }

    /// Appends an entry to the piece [`Entries::start`] made room for.
    fn push(&mut self, e: Entry) {
        if let Some(c) = self.chunks.last_mut() {
            c.push(e);
        }
    }

    fn of(&self, span: Span) -> &[Entry] {
        let (start, len) = (span.start as usize, span.len as usize);
        self.chunks
            .get(start / CHUNK)
            .and_then(|c| c.get(start % CHUNK..start % CHUNK + len))
            .unwrap_or_default()
    }
}

/// The skeleton as the pass builds it.
#[derive(Default)]
struct Store {
    spans: Vec<Span>,
    /// By tree number: its own blob entries are all blobs scanned clean at names of no
    /// interest ([`Certify`]); false when unknown.
    own_clean: Vec<bool>,
    entries: Entries,
    names: NameMap<Box<[u8]>, u32>,
    /// The blobs of interest, each kept once however many trees name it (consecutive versions
    /// of a tree mostly name the same blobs).
    blobs: IdTable,
}

impl Store {
    /// The position in `blobs` of blob `id`, which is added if it is not there yet (fewer
    /// blobs than entries, and entries are capped far below `u32::MAX`).
    fn blob(&mut self, id: ObjectId) -> u32 {
        self.blobs.intern(&id)
    }

    fn intern(&mut self, name: &[u8]) -> u32 {
        if let Some(&n) = self.names.get(name) {
            return n;
        }
        // Fewer names than entries, and entries are capped far below `BLOB`.
        let n = self.names.len() as u32;
        self.names.insert(name.into(), n);
        n
    }
}

/// What the pass's threads share.
struct Shared<'a> {
    hash: gix::hash::Kind,
    targets: &'a HashSet<ObjectId>,
    certify: Option<&'a Certify<'a>>,
    scoped: Option<&'a ScopedPaths<'a>>,
    numbering: Numbering,
    store: Mutex<Store>,
    /// A cap was reached: the skeleton is given up.
    overflow: AtomicBool,
}

/// An entry a worker read and has not handed over yet; its name is in [`Local::names`].
struct LocalEntry {
    target: u32,
    name_start: usize,
    name_len: usize,
    blob: bool,
}

/// What a worker learned of a tree's own entries, for [`Certify`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Own {
    /// Not known clean (or no cache).
    Unknown,
    /// Its blob entries are all blobs scanned clean at names of no interest.
    Clean,
    /// The cache knows its closure clean: not parsed.
    Known,
}

/// What a worker read and has not handed over yet.
#[derive(Default)]
struct Local {
    /// Each tree read: its number, its entries' range in `entries`, and what is known of them.
    trees: Vec<(u32, usize, usize, Own)>,
    entries: Vec<LocalEntry>,
    names: Vec<u8>,
    blobs: Vec<ObjectId>,
}

/// Slots in a worker's cache of numbers given.
const CACHED: usize = 1 << 12;

/// The visitor of the trees pass: one per worker thread, each with its own [`Local`].
struct Reader<'a> {
    shared: &'a Shared<'a>,
    local: Local,
    /// Numbers given lately, by the first bytes of their ids: consecutive versions of a tree
    /// name mostly the same subtrees, so this saves most trips to the shared numbering.
    cache: Vec<Option<(ObjectId, u32)>>,
}

impl Clone for Reader<'_> {
    fn clone(&self) -> Self {
        Reader {
            shared: self.shared,
            local: Local::default(),
            cache: Vec::new(),
        }
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}

impl Reader<'_> {
    /// [`Numbering::number`], through this worker's cache.
    fn number(&mut self, id: &gix::oid) -> Option<u32> {
        if self.cache.is_empty() {
            self.cache = vec![None; CACHED];
        }
        let b = id.as_bytes();
        let slot = (usize::from(b[0]) << 8 | usize::from(b[1])) % CACHED;
        if let Some((cached, n)) = &self.cache[slot]
            && cached.as_ref() == id
        {
            return Some(*n);
        }
        let n = self.shared.numbering.number(id)?;
        self.cache[slot] = Some((id.to_owned(), n));
        Some(n)
    }

    fn give_up(&self) {
        self.shared.overflow.store(true, Ordering::Relaxed);
    }

    /// Whether a blob entry is of interest.
    fn wanted(&self, id: &gix::oid, name: &[u8]) -> bool {
        self.shared.targets.contains(id)
            || self
                .shared
                .scoped
                .is_some_and(|s| s.may_name(name) != Some(false))
    }

    /// Hands what this worker read over to the store.
    fn flush(&mut self) {
        if self.local.trees.is_empty() {
            return;
        }
        let local = std::mem::take(&mut self.local);
        if self.shared.overflow.load(Ordering::Relaxed) {
            return;
        }
        let mut store = self.shared.store.lock().unwrap_or_else(|p| p.into_inner());
        for &(tree, start, end, own) in &local.trees {
            let tree = tree as usize;
            if store.spans.get(tree).is_some_and(|s| s.is_met()) {
                // Also in another pack, or read again after a damaged pack.
                continue;
            }
            if store.spans.len() <= tree {
                store.spans.resize(tree + 1, UNREAD);
            }
            if own == Own::Known {
                store.spans[tree] = KNOWN_CLEAN;
                continue;
            }
            if own == Own::Clean {
                if store.own_clean.len() <= tree {
                    store.own_clean.resize(tree + 1, false);
                }
                store.own_clean[tree] = true;
            }
            let Some(first) = store.entries.start(end - start) else {
                self.give_up();
                return;
            };
            for e in &local.entries[start..end] {
                let name = store.intern(&local.names[e.name_start..e.name_start + e.name_len]);
                let entry = if e.blob {
                    Entry {
                        target: store.blob(local.blobs[e.target as usize]),
                        name: name | BLOB,
                    }
                } else {
                    Entry {
                        target: e.target,
                        name,
                    }
                };
                store.entries.push(entry);
            }
            store.spans[tree] = Span {
                start: first,
                len: (end - start) as u32,
            };
        }
    }
}

impl odb::TreeVisitor for Reader<'_> {
    fn tree(&mut self, id: ObjectId, data: &[u8]) {
        if self.shared.overflow.load(Ordering::Relaxed) {
            return;
        }
        let Some(me) = self.shared.numbering.number(&id) else {
            return self.give_up();
        };
        let start = self.local.entries.len();
        let certify = self.shared.certify;
        if certify.is_some_and(|c| c.trees.contains(&id)) {
            self.local.trees.push((me, start, start, Own::Known));
            return;
        }
        // Whether every blob entry so far is one scanned clean, at a name of no interest.
        let mut clean = certify.is_some();
        let (names, blobs) = (self.local.names.len(), self.local.blobs.len());
        for entry in TreeRefIter::from_bytes(data, self.shared.hash) {
            let Ok(e) = entry else {
                // Left unread: the walk reads it by id and reports what is wrong with it.
                self.local.entries.truncate(start);
                self.local.names.truncate(names);
                self.local.blobs.truncate(blobs);
                return;
            };
            let (target, blob) = if e.mode.is_tree() {
                match self.number(e.oid) {
                    Some(n) => (n, false),
                    None => return self.give_up(),
                }
            } else if e.mode.is_blob() && self.wanted(e.oid, e.filename) {
                clean = false;
                self.local.blobs.push(e.oid.to_owned());
                ((self.local.blobs.len() - 1) as u32, true)
            } else {
                if clean && e.mode.is_blob() {
                    clean = certify.is_some_and(|c| (c.clean_blob)(e.oid));
                }
                continue;
            };
            let local = &mut self.local;
            local.entries.push(LocalEntry {
                target,
                name_start: local.names.len(),
                name_len: e.filename.len(),
                blob,
            });
            local.names.extend_from_slice(e.filename);
        }
        let end = self.local.entries.len();
        let own = if clean { Own::Clean } else { Own::Unknown };
        self.local.trees.push((me, start, end, own));
        if end >= FLUSH_AT {
            self.flush();
        }
    }
}

/// The trees of a history, kept as far as a locate walk needs them, and that walk's state.
pub(crate) struct Skeleton<'r> {
    repo: &'r gix::Repository,
    numbering: Numbering,
    spans: Vec<Span>,
    entries: Entries,
    names: Vec<Box<[u8]>>,
    blobs: Vec<ObjectId>,
    /// By tree number: whether the tree's closure holds a blob of interest, or a tree the pass
    /// did not read. Numbers past its end were given by the walk: not read, so of interest.
    interesting: Vec<bool>,
    seen: Vec<bool>,
    stack: Vec<(u32, BString)>,
    buf: Vec<u8>,
    /// Trees that could not be read.
    pub errors: Vec<ObjectError>,
    /// With [`Certify`]: the trees read whose closure was read whole and holds only blobs
    /// scanned clean at names of no interest, that the cache did not know yet.
    pub certified: Vec<ObjectId>,
    /// With [`Certify`]: the trees met that the cache knew clean (left unparsed).
    pub known_clean: usize,
    /// How many entries the skeleton keeps.
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "tests check that the pass read the trees")
    )]
    kept: usize,
}

/// Reads every tree of `repo` once, keeping what a locate walk for `targets` (and for the
/// paths `scoped` names) needs. `None` when that cannot be done here: a path filter whose
/// match cannot be told from a file name, a pass that cannot start, a cap reached; the caller
/// then walks by id.
///
/// `roots`: the trees the walk starts from (commits' trees). With [`Certify`], those the cache
/// knows clean that the pass did not meet (no tree read names a root, and it decodes none the
/// cache knows) are known clean to the walk, as the subtrees it met are: it leaves them as a
/// walk over trees read leaves a tree holding nothing of interest, rather than reading each
/// by id.
pub(crate) fn read<'r>(
    repo: &'r gix::Repository,
    threads: usize,
    targets: &HashSet<ObjectId>,
    scoped: Option<&ScopedPaths<'_>>,
    certify: Option<&Certify<'_>>,
    surveyed: Option<&odb::SurveyedTrees>,
    roots: impl IntoIterator<Item = ObjectId>,
) -> Option<Skeleton<'r>> {
    if scoped.is_some_and(|s| s.may_name(b"").is_none()) {
        return None;
    }
    let shared = Shared {
        hash: repo.object_hash(),
        targets,
        certify,
        scoped,
        numbering: Numbering::new(),
        store: Mutex::default(),
        overflow: AtomicBool::new(false),
    };
    let reader = Reader {
        shared: &shared,
        local: Local::default(),
        cache: Vec::new(),
    };
    // On trouble, the walk by id gives the errors it always gave.
    // Trees known clean are not decoded at all, unless another tree is built on them.
    let known = certify.map(|c| move |id: &gix::oid| c.trees.contains(id));
    let skip = known
        .as_ref()
        .map(|f| f as &(dyn Fn(&gix::oid) -> bool + Sync));
    odb::visit_trees(repo, threads, reader, skip, surveyed).ok()?;
    if shared.overflow.load(Ordering::Relaxed) {
        return None;
    }
    let store = shared.store.into_inner().unwrap_or_else(|p| p.into_inner());
    let numbering = shared.numbering;
    if let Some(c) = certify {
        // Past the cap a root gets no number, here or when the walk reaches it: the same error.
        for root in roots.into_iter().filter(|r| c.trees.contains(r)) {
            numbering.number(&root);
        }
    }
    let mut spans = store.spans;
    spans.resize(numbering.bound().max(spans.len()), UNREAD);
    if let Some(c) = certify {
        // Those the pass did not decode: named by trees it read, or roots; known clean.
        numbering.each(|n, id| {
            if !spans[n].is_met() && c.trees.contains(id) {
                spans[n] = KNOWN_CLEAN;
            }
        });
    }
    let mut names: Vec<Box<[u8]>> = vec![Box::default(); store.names.len()];
    for (name, n) in store.names {
        names[n as usize] = name;
    }
    let (interesting, certified) = interest(&spans, &store.entries, &store.own_clean);
    let certified = if certify.is_some() {
        certified.into_iter().map(|n| numbering.id(n)).collect()
    } else {
        Vec::new()
    };
    let known_clean = spans.iter().filter(|s| s.is_known_clean()).count();
    Some(Skeleton {
        certified,
        known_clean,
        repo,
        numbering,
        kept: store.entries.len,
        spans,
        entries: store.entries,
        names,
        blobs: store.blobs.ids,
        interesting,
        seen: Vec::new(),
        stack: Vec::new(),
        buf: Vec::new(),
        errors: Vec::new(),
    })
}

/// For each tree number, whether its closure holds a blob entry or an unread tree (a tree known
/// clean holds neither): a walk over subtrees, children before parents, each tree once (a
/// cycle, which hashes make impossible in a sound repository, is cut where it closes). Also the
/// trees read that are certified clean: `own_clean` (by number) and every subtree certified or
/// known clean.
fn interest(spans: &[Span], entries: &Entries, own_clean: &[bool]) -> (Vec<bool>, Vec<u32>) {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        Open,
        No,
        Yes,
    }
    let mut state = vec![State::New; spans.len()];
    let mut certified = vec![false; spans.len()];
    let mut fresh = Vec::new();
    // A tree, the next of its entries to look at, and whether one so far is of interest.
    let mut stack: Vec<(usize, usize, bool)> = Vec::new();
    for root in 0..spans.len() {
        if state[root] != State::New {
            continue;
        }
        state[root] = State::Open;
        stack.push((root, 0, false));
        while let Some(top) = stack.last_mut() {
            let (tree, next, yes) = *top;
            let span = spans[tree];
            let all = entries.of(span);
            let mut yes = yes || !(span.is_read() || span.is_known_clean());
            let mut descend = None;
            let mut at = next;
            while at < all.len() && !yes {
                let e = all[at];
                at += 1;
                if e.name & BLOB != 0 {
                    yes = true;
                    break;
                }
                match state.get(e.target as usize).copied() {
                    // Named, never read: a tree the walk reads by id.
                    None => yes = true,
                    Some(State::Yes) => yes = true,
                    Some(State::No | State::Open) => {}
                    Some(State::New) => {
                        descend = Some(e.target as usize);
                        break;
                    }
                }
            }
            *top = (tree, at, yes);
            match descend {
                Some(child) => {
                    state[child] = State::Open;
                    stack.push((child, 0, false));
                }
                None => {
                    state[tree] = if yes { State::Yes } else { State::No };
                    // Of no interest, so every entry is a subtree, each done (or open: a
                    // cycle, never certified).
                    if !yes {
                        if span.is_known_clean() {
                            certified[tree] = true;
                        } else if own_clean.get(tree).copied().unwrap_or(false)
                            && all.iter().all(|e| certified[e.target as usize])
                        {
                            certified[tree] = true;
                            fresh.push(tree as u32);
                        }
                    }
                    stack.pop();
                    // The parent looks at this child's verdict when it resumes: step back.
                    if let Some(parent) = stack.last_mut() {
                        parent.1 -= 1;
                    }
                }
            }
        }
    }
    let interesting = state.into_iter().map(|s| s == State::Yes).collect();
    (interesting, fresh)
}

impl Skeleton<'_> {
    fn is_interesting(&self, n: u32) -> bool {
        self.interesting.get(n as usize).copied().unwrap_or(true)
    }

    /// Marks tree `n` seen; false if it was already.
    fn mark(&mut self, n: u32) -> bool {
        let n = n as usize;
        if self.seen.len() <= n {
            self.seen.resize((n + 1).max(self.spans.len()), false);
        }
        !std::mem::replace(&mut self.seen[n], true)
    }

    /// [`TreeWalker::walk`](super::walk::TreeWalker::walk) over the skeleton: the blob entries
    /// of interest in `root` and the trees below it that were not seen before (and that hold
    /// any), with the path of their tree and their name.
    pub fn walk(
        &mut self,
        root: ObjectId,
        what: &dyn Fn() -> String,
        mut on_blob: impl FnMut(&BStr, &BStr, ObjectId),
    ) {
        let Some(r) = self.numbering.number(&root) else {
            self.errors.push(too_many(root, what));
            return;
        };
        if !self.is_interesting(r) || !self.mark(r) {
            return;
        }
        self.stack.push((r, BString::default()));
        while let Some((n, prefix)) = self.stack.pop() {
            let span = self.spans.get(n as usize).copied().filter(|s| s.is_read());
            let Some(span) = span else {
                self.read_by_id(n, prefix, what, &mut on_blob);
                continue;
            };
            for i in 0..span.len as usize {
                let e = self.entries.of(span)[i];
                let name = self.names[(e.name & !BLOB) as usize].as_bstr();
                if e.name & BLOB != 0 {
                    on_blob(prefix.as_ref(), name, self.blobs[e.target as usize]);
                } else if self.is_interesting(e.target) && self.mark(e.target) {
                    let path = join(
                        prefix.as_ref(),
                        self.names[(e.name & !BLOB) as usize].as_bstr(),
                    );
                    self.stack.push((e.target, path));
                }
            }
        }
    }

    /// A tree the pass did not read, read by id as [`TreeWalker::walk`] reads every tree.
    ///
    /// [`TreeWalker::walk`]: super::walk::TreeWalker::walk
    fn read_by_id(
        &mut self,
        n: u32,
        prefix: BString,
        what: &dyn Fn() -> String,
        on_blob: &mut impl FnMut(&BStr, &BStr, ObjectId),
    ) {
        let id = self.numbering.id(n);
        let mut buf = std::mem::take(&mut self.buf);
        if let Some(data) = read_tree(
            self.repo,
            id,
            prefix.as_ref(),
            what,
            &mut buf,
            &mut self.errors,
        ) {
            for entry in TreeRefIter::from_bytes(data, self.repo.object_hash()) {
                let e = match entry {
                    Ok(e) => e,
                    Err(err) => {
                        self.errors.push(corrupt_tree(id, what, &err));
                        break;
                    }
                };
                if e.mode.is_tree() {
                    let Some(c) = self.numbering.number(e.oid) else {
                        self.errors.push(too_many(e.oid.to_owned(), what));
                        continue;
                    };
                    if self.is_interesting(c) && self.mark(c) {
                        self.stack.push((c, join(prefix.as_ref(), e.filename)));
                    }
                } else if e.mode.is_blob() {
                    on_blob(prefix.as_ref(), e.filename, e.oid.to_owned());
                }
            }
        }
        self.buf = buf;
    }
}

fn too_many(id: ObjectId, what: &dyn Fn() -> String) -> ObjectError {
    ObjectError::new(
        id,
        format!(
            "tree {id} in {} was not read: more trees than credsweep numbers",
            what()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_git::git;
    use std::path::Path;

    use super::*;
    use crate::rules::RuleSet;
    use crate::scanner::Scanner;
    use crate::sources::history::graph::CommitGraph;
    use crate::sources::history::walk::{TreeWalker, Trees};
    use crate::sources::history::{locate, refs, repo};

    fn span(start: u32, len: u32) -> Span {
        Span { start, len }
    }

    fn sub(target: u32) -> Entry {
        Entry { target, name: 0 }
    }

    #[test]
    fn a_blob_of_interest_is_kept_once_however_many_trees_name_it() {
        let ids: Vec<ObjectId> = (0u8..40)
            .map(|i| {
                let mut b = [0u8; 20];
                // Ids that share the bytes the table hashes, and ids that do not.
                b[0] = i;
                b[19] = i % 7;
                b[5] = i % 3;
                ObjectId::from_bytes_or_panic(&b)
            })
            .collect();
        let mut store = Store::default();
        let first: Vec<u32> = ids.iter().map(|id| store.blob(*id)).collect();
        for round in 0..3 {
            for (id, &at) in ids.iter().zip(&first).rev() {
                assert_eq!(store.blob(*id), at, "round {round}: {id}");
            }
        }
        assert_eq!(store.blobs.ids.len(), ids.len());
        for (id, &at) in ids.iter().zip(&first) {
            assert_eq!(store.blobs.ids[at as usize], *id);
        }
        let mut distinct = first.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), ids.len());
    }

    #[test]
    fn a_tree_is_of_interest_when_its_closure_holds_a_blob_of_interest_or_an_unread_tree() {
        // 0 -> 1 -> 2 (a blob of interest); 3 -> 4 (nothing); 5 -> 6 (unread); 7 -> 9
        // (never numbered by the pass); 8 <-> 8 (a loop, impossible in a sound repository).
        let list = [
            sub(1),
            sub(2),
            Entry {
                target: 0,
                name: BLOB,
            },
            sub(4),
            sub(6),
            sub(9),
            sub(8),
        ];
        let mut entries = Entries::default();
        entries.start(list.len());
        for e in list {
            entries.push(e);
        }
        let spans = vec![
            span(0, 1),
            span(1, 1),
            span(2, 1),
            span(3, 1),
            span(4, 0),
            span(4, 1),
            UNREAD,
            span(5, 1),
            span(6, 1),
        ];
        let (got, certified) = interest(&spans, &entries, &[]);
        assert_eq!(
            got,
            [true, true, true, false, false, true, true, true, false]
        );
        assert!(certified.is_empty(), "nothing is clean without the cache");
    }

    fn commit_files(dir: &Path, files: &[(&str, &str)], message: &str) {
        for (path, text) in files {
            let p = dir.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        git(dir, &["add", "-A"]);
        git(dir, &["commit", "-q", "-m", message]);
    }

    /// A history where one blob sits at many paths: in a directory copied whole (the same tree
    /// at two paths: one place, since a tree seen is not walked again), then changed, moved on a
    /// branch, in a loose commit after the pack, in a commit no ref
    /// reaches, and in a tree a tag names; beside `.pgpass` files and directories of no interest.
    fn history(dir: &Path) -> ObjectId {
        let secret = "token = sk_live_FAKE0000000000000000TEST\n";
        git(dir, &["init", "-q", "-b", "main", "."]);
        commit_files(
            dir,
            &[
                ("a/secret.txt", secret),
                ("a/x.txt", "x\n"),
                ("c/d/e.txt", "e1\n"),
            ],
            "one",
        );
        git(dir, &["checkout", "-q", "-b", "side"]);
        std::fs::rename(dir.join("a/secret.txt"), dir.join("z-secret.txt")).unwrap();
        commit_files(dir, &[("z/other.txt", "o\n")], "moved");
        git(dir, &["checkout", "-q", "main"]);
        commit_files(
            dir,
            &[("b/secret.txt", secret), ("b/x.txt", "x\n")],
            "copied",
        );
        commit_files(
            dir,
            &[
                ("b/secret.txt", secret),
                ("b/x.txt", "x\n"),
                ("b/y.txt", "y\n"),
                ("c/d/e.txt", "e2\n"),
            ],
            "changed",
        );
        commit_files(
            dir,
            &[
                (".pgpass", "h:5432:db:u:pw\n"),
                ("c/.pgpass", "h:1:d:u:p\n"),
            ],
            "pgpass",
        );
        git(dir, &["tag", "tree-tag", "HEAD^{tree}"]);
        git(dir, &["repack", "-adq"]);
        commit_files(
            dir,
            &[("y/secret.txt", secret), ("c/d/e.txt", "e3\n")],
            "loose",
        );
        git(dir, &["checkout", "-q", "--detach"]);
        commit_files(
            dir,
            &[("w/deep/secret.txt", secret), ("w/deep/more.txt", "m\n")],
            "dangling",
        );
        git(dir, &["checkout", "-q", "main"]);
        ObjectId::from_hex(git(dir, &["rev-parse", "HEAD:y/secret.txt"]).as_bytes()).unwrap()
    }

    /// Places, blobs at scoped paths and errors, in an order that does not depend on hashing.
    type Seen = (Vec<String>, Vec<ObjectId>, Vec<String>);

    fn locate_with(repo: &gix::Repository, targets: &HashSet<ObjectId>, skeleton: bool) -> Seen {
        let scanner = Scanner::new(RuleSet::builtin().unwrap());
        let scoped = ScopedPaths::of(&scanner);
        let mut errors = Vec::new();
        let commits = odb::commits(repo, 2).unwrap().commits;
        let graph = CommitGraph::build(commits, &HashSet::default(), &mut errors);
        let (tips, _) = refs::tips(repo);
        let label = graph.reach(&tips);
        let opts = locate::Options {
            graph: &graph,
            tips: &tips,
            label: &label,
            scoped: scoped.as_ref(),
            threads: 2,
            certify: None,
            surveyed: None,
        };
        let walker = if skeleton {
            let s = read(repo, 2, targets, scoped.as_ref(), None, None, []).expect("a skeleton");
            assert!(s.kept > 0, "the pass read trees");
            Trees::Skeleton(s)
        } else {
            Trees::Read(TreeWalker::new(repo))
        };
        let out = locate::walking(walker, &opts, targets, &mut errors);
        let mut places: Vec<String> = out
            .places
            .iter()
            .flat_map(|(blob, ps)| {
                ps.iter().map(move |p| {
                    format!("{} {blob} {} {:?} {}", p.seq, p.path, p.commit, p.ref_name)
                })
            })
            .collect();
        places.sort();
        let mut at_scoped: Vec<ObjectId> = out.at_scoped.into_iter().collect();
        at_scoped.sort();
        let mut errors: Vec<String> = errors.into_iter().map(|e| e.message).collect();
        errors.sort();
        (places, at_scoped, errors)
    }

    #[test]
    fn a_root_the_cache_knows_clean_is_left_unread_like_the_trees_it_names() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path();
        git(dir, &["init", "-q", "-b", "main", "."]);
        commit_files(
            dir,
            &[("a/one.txt", "one\n"), ("two.txt", "two\n")],
            "clean",
        );
        let clean = git(dir, &["rev-parse", "HEAD^{tree}"]);
        commit_files(dir, &[("three.txt", "three\n")], "more");
        let later = git(dir, &["rev-parse", "HEAD^{tree}"]);
        git(dir, &["repack", "-adq"]);
        let id = |hex: &str| ObjectId::from_hex(hex.as_bytes()).unwrap();
        let (clean, later) = (id(&clean), id(&later));
        let three = id(&git(dir, &["rev-parse", "HEAD:three.txt"]));
        let repo = repo::open(dir).unwrap();
        // The first root is known clean; the pass does not decode it, and no tree names it.
        let trees: HashSet<ObjectId> = [clean].into_iter().collect();
        let certify = Certify {
            trees: &trees,
            clean_blob: &|_| true,
        };
        let targets: HashSet<ObjectId> = [three].into_iter().collect();
        let blobs_at = |s: &mut Skeleton<'_>, root| {
            let mut names = Vec::new();
            s.walk(root, &String::new, |prefix, name, _| {
                names.push(join(prefix, name).to_string())
            });
            names.sort();
            names
        };
        // Not told the roots: the known root is read by id when the walk reaches it, its blob
        // entries handed over (its subtree, read by the pass, holds nothing of interest).
        let mut s = read(&repo, 2, &targets, None, Some(&certify), None, []).unwrap();
        assert_eq!(s.known_clean, 0);
        assert_eq!(blobs_at(&mut s, clean), ["two.txt"]);
        // Told: it is known clean, as a subtree the cache knows is, and left.
        let mut s = read(
            &repo,
            2,
            &targets,
            None,
            Some(&certify),
            None,
            [clean, later],
        )
        .unwrap();
        assert_eq!(s.known_clean, 1);
        assert!(blobs_at(&mut s, clean).is_empty());
        // A root the cache does not know is walked as ever: to the blob of interest.
        assert_eq!(blobs_at(&mut s, later), ["three.txt"]);
        assert!(s.errors.is_empty());
    }

    #[test]
    fn the_skeleton_walk_finds_what_the_walk_by_id_finds() {
        let d = tempfile::tempdir().unwrap();
        let secret = history(d.path());
        let repo = repo::open(d.path()).unwrap();
        let targets: HashSet<ObjectId> = [secret].into_iter().collect();
        let by_id = locate_with(&repo, &targets, false);
        let skeleton = locate_with(&repo, &targets, true);
        assert_eq!(by_id, skeleton);
        let (places, at_scoped, errors) = skeleton;
        for path in [
            " a/secret.txt ",
            " b/secret.txt ",
            " z-secret.txt ",
            " y/secret.txt ",
            " w/deep/secret.txt ",
        ] {
            assert!(
                places.iter().any(|p| p.contains(path)),
                "{path}: {places:?}"
            );
        }
        assert_eq!(at_scoped.len(), 2, "{places:?}");
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn a_tree_the_pass_cannot_read_gives_the_errors_of_the_walk_by_id() {
        let d = tempfile::tempdir().unwrap();
        let secret = history(d.path());
        // The loose commit's tree `y`, gone.
        let y = git(d.path(), &["rev-parse", "HEAD:y"]);
        std::fs::remove_file(
            d.path()
                .join(format!(".git/objects/{}/{}", &y[..2], &y[2..])),
        )
        .unwrap();
        let repo = repo::open(d.path()).unwrap();
        let targets: HashSet<ObjectId> = [secret].into_iter().collect();
        let by_id = locate_with(&repo, &targets, false);
        let skeleton = locate_with(&repo, &targets, true);
        assert_eq!(by_id, skeleton);
        assert_eq!(skeleton.2.len(), 1, "{:?}", skeleton.2);
        assert!(skeleton.2[0].contains(&y), "{:?}", skeleton.2);
    }
}
