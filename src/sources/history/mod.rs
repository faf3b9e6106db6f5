//! The git-history source: every blob in a repository's object database, scanned once, with
//! provenance for what is found.
//!
//! A leaked token stays in history after the file is deleted, in branches never merged, in the
//! stash, in content only a merge resolution wrote, and in commits no ref reaches any more. So
//! the default scan reads the object database itself rather than walking commits: each distinct
//! blob is decoded and scanned once, whatever reaches it.
//!
//! A scan runs in phases, each a module with its own `Options` and `Outcome`:
//!
//! 1. **enumerate objects** (`odb`): one decode pass over packs (as delta trees) and loose
//!    objects hands every blob over and returns every commit (`odb::Outcome`). The commit
//!    graph (`graph::CommitGraph`) is built from those commits, or on its own: from the tips
//!    (`graph::CommitGraph::load`, `--reachable-only`), or from a pass that reads commits and
//!    trees but no blob (`odb::commits`), so skipping the blob scan never loses commits.
//! 2. **scan blobs** (`blobs`): every rule without a `path` filter on each blob, before its
//!    paths are known; `blobs::Outcome` holds the findings per blob and the counts.
//! 3. **locate** (`locate`): for the blobs with findings alone, their paths and commits
//!    (`locate::Located`) and whether the head holds them; the same tree walk collects the blobs
//!    at paths path-scoped rules name, which are then scanned again with every rule
//!    (`blobs::Outcome::rescan_scoped`). A clean history with no path-scoped rule pays for no
//!    tree walk. Over a whole history the walk runs in memory, over a skeleton of every tree
//!    (`skeleton`: subtrees and the blob entries of interest) read once in pack order, as
//!    the blob pass reads blobs, rather than tree by tree through delta chains.
//! 4. **group** (`group`): one finding per secret, at its first appearance, with a count of
//!    the other places; path-scoped rules and path and commit allow-lists apply here.
//!
//! [`scan`] runs them over the whole history; `range` runs them over `--range`, `--since` and
//! unpushed commits, where enumeration is a walk of the range instead.
//!
//! Commit and annotated tag messages (`messages`) are scanned beside the blobs: the enumerate
//! pass hands each commit and tag over as it decodes it (a range scan reads its commits and the
//! tags its tip names), and they are reported at their objects, outside the locate and group
//! phases, which are about blobs and paths.
//!
//! Beside the phases: [`repo`] (opening a repository isolated from global config; shallow and
//! submodule notes), [`refs`] (the tips history starts from, in the order provenance names
//! them), `walk` (tree walks), `messages` (commit and tag messages), `provenance` (author, date and subject of the commits
//! findings name), `head` (the scanned head's blobs), [`audit`] (checks of pack entries before
//! they are decoded) and [`progress`] (how far a scan has got, for the caller to show).

pub mod audit;
pub(crate) mod blobs;
pub mod cache;
pub(crate) mod graph;
pub(crate) mod group;
pub(crate) mod head;
pub(crate) mod idsearch;
pub(crate) mod locate;
pub(crate) mod messages;
pub(crate) mod odb;
pub mod progress;
pub(crate) mod provenance;
pub(crate) mod range;
pub mod refs;
pub mod repo;
pub(crate) mod scoped;
pub(crate) mod share;
pub(crate) mod skeleton;
pub mod submodules;
pub(crate) mod walk;

/// Test set-up shared by the history modules' unit tests.
#[cfg(test)]
pub(crate) mod test_git {
    use std::path::Path;

    /// Runs git in `dir`, isolated from the user's configuration; its trimmed output.
    pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .current_dir(dir)
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "A")
            .env("GIT_AUTHOR_EMAIL", "a@example.com")
            .env("GIT_COMMITTER_NAME", "A")
            .env("GIT_COMMITTER_EMAIL", "a@example.com")
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?} failed");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }
}

use anyhow::{Result, bail};
use gix::ObjectId;
use gix::hashtable::HashSet;
use gix::objs::Kind;

use self::graph::CommitGraph;
use self::progress::Progress;
use self::provenance::CommitInfo;
use self::refs::Tip;
use crate::finding::Finding;
use crate::scan::{ScanContext, SkipReason, Summary};

/// A blob's object id: the unit history scanning deduplicates on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobId(pub ObjectId);

/// An object that could not be read. The scan goes on without it, and ends with exit status 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectError {
    pub id: Option<ObjectId>,
    pub problem: ObjectProblem,
    pub message: String,
}

/// What is wrong with an object: missing objects are told apart because they are counted past
/// a limit, and in a partial clone missing blobs are expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectProblem {
    /// The object database does not hold it; of this kind, where that is known.
    Missing(Option<Kind>),
    /// It is there but cannot be read or decoded, or something else went wrong.
    Unreadable,
}

impl ObjectError {
    /// Object `id` cannot be read.
    pub fn new(id: ObjectId, message: impl Into<String>) -> Self {
        ObjectError {
            id: Some(id),
            problem: ObjectProblem::Unreadable,
            message: message.into(),
        }
    }

    /// Object `id` (of `kind`, if known) is not in the object database.
    pub fn missing(id: ObjectId, kind: Option<Kind>, message: impl Into<String>) -> Self {
        ObjectError {
            id: Some(id),
            problem: ObjectProblem::Missing(kind),
            message: message.into(),
        }
    }

    /// A problem with no one object to name (a pack, a ref).
    pub fn other(message: impl Into<String>) -> Self {
        ObjectError {
            id: None,
            problem: ObjectProblem::Unreadable,
            message: message.into(),
        }
    }

    /// Whether a named object is missing.
    pub fn is_missing(&self) -> bool {
        self.id.is_some() && matches!(self.problem, ObjectProblem::Missing(_))
    }
}

/// Which part of history to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every blob in the object database, reachable or not.
    All,
    /// Only blobs that refs reach (`--reachable-only`).
    ReachableOnly,
    /// Only blobs that commits in `tip` but not in `base` introduced (`--range base..tip`,
    /// `--since base`).
    Range { base: String, tip: String },
    /// Only blobs that commits reachable from `tip` but from no remote-tracking ref
    /// (`refs/remotes/*`) introduced: what pushing a new branch sends.
    Unpushed { tip: String },
}

impl Selection {
    /// `A..B` as given to `--range`.
    pub fn parse_range(spec: &str) -> Result<Selection> {
        if spec.contains("...") {
            bail!(
                "--range takes A..B (two dots): the commits in B that are not in A; A...B is not supported"
            );
        }
        match spec.split_once("..") {
            Some((a, b)) if !a.is_empty() => Ok(Selection::Range {
                base: a.to_string(),
                tip: if b.is_empty() {
                    "HEAD".to_string()
                } else {
                    b.to_string()
                },
            }),
            _ => bail!("--range takes A..B, e.g. origin/main..HEAD; got {spec:?}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct HistoryOptions {
    pub selection: Selection,
    pub threads: usize,
    /// Where the scan records how far it has got, for the caller to show; `None`: nowhere.
    pub progress: Option<std::sync::Arc<Progress>>,
    /// In a partial clone, blobs it was cloned without are a note, not an error.
    pub allow_missing_promised: bool,
    /// The blob cache (`--cache DIR`): blobs an earlier whole-history scan found clean under the
    /// same rules and options are not read again. `None`: no cache.
    pub cache: Option<cache::Options>,
}

/// A finished history scan.
pub struct HistoryScan {
    pub findings: Vec<Finding>,
    /// Also says how many commits the scan covered (`Summary::commits`).
    pub summary: Summary,
    /// Things the reader must know: shallow clone, submodules not scanned, the range scanned.
    pub notes: Vec<String>,
}

/// Scans the history of `repo` (opened with [`repo::open`]).
pub fn scan(
    ctx: &ScanContext<'_>,
    repo: &gix::Repository,
    opts: &HistoryOptions,
) -> Result<HistoryScan> {
    odb::refuse_blocking_loose_objects(repo)?;
    let notes = repo::notes(repo);
    let unseen = Progress::default();
    let progress = opts.progress.as_deref().unwrap_or(&unseen);
    let mut errors = Vec::new();
    let mut notes = notes;
    let cache = match (&opts.cache, &opts.selection) {
        (None, _) => None,
        (Some(_), Selection::Range { .. } | Selection::Unpushed { .. }) => {
            notes.push(
                "cache: not used for a scan of a range (--since, --range, unpushed commits): it \
                 read every blob the range introduced"
                    .to_string(),
            );
            None
        }
        (Some(_), _) if ctx.rule_stats => {
            notes.push(
                "cache: not used with --rule-stats, which measures every blob's scan".to_string(),
            );
            None
        }
        (Some(c), _) => Some(c),
    };
    let mut out = match &opts.selection {
        Selection::All | Selection::ReachableOnly => {
            scan_whole(ctx, repo, opts, cache, progress, &mut errors, notes)?
        }
        Selection::Range { base, tip } => range::scan(
            ctx,
            repo,
            &range::Options {
                base: Some(base),
                tip,
                threads: opts.threads,
            },
            &mut errors,
            notes,
        )?,
        Selection::Unpushed { tip } => range::scan(
            ctx,
            repo,
            &range::Options {
                base: None,
                tip,
                threads: opts.threads,
            },
            &mut errors,
            notes,
        )?,
    };
    // A bar drawn from this progress is cleared before anything is printed under it.
    progress.finish();
    odb::collapse_promised(
        repo,
        &mut errors,
        opts.allow_missing_promised,
        &mut out.notes,
    );
    skip_unreadable(repo, errors, &mut out.summary);
    Ok(out)
}

/// Blocks this large and larger are mapped on their own once the blob pass is over (see
/// [`release_freed_memory`]).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 256 << 10;

/// Returns to the system the memory the blob pass freed, before the phases that build their own
/// tables (the tree skeleton, provenance), and keeps those tables' growth from stranding memory.
///
/// glibc keeps a freed chunk in the arena of the thread that freed it; the decoding threads'
/// arenas would otherwise stay resident under everything that follows. And glibc raises its
/// threshold for mapping a block on its own to the largest mapped block freed so far (up to
/// 32 MB): after the blob pass has freed its large buffers, the tables that grow next (the
/// skeleton, the pack's delta tree of trees) take their blocks from the heap, and each growth
/// leaves the old block behind as a hole that later small allocations fragment, so the heap
/// stays tens of megabytes above what is live. A fixed threshold of [`MMAP_THRESHOLD`] turns
/// that adjustment off: large blocks are mapped, grown in place by the kernel and unmapped when
/// freed (on git/git that is about 65 MB less peak anonymous memory). It is set only now: the
/// blob pass allocates and frees large buffers per blob, which mapping each time would slow.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt and malloc_trim take no pointer; they only change glibc's allocation
    // parameters and release free pages of its own heaps, and are safe to call from any thread
    // at any time.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        libc::malloc_trim(0);
    }
}

/// The whole history (or what refs reach), through the four phases.
fn scan_whole(
    ctx: &ScanContext<'_>,
    repo: &gix::Repository,
    opts: &HistoryOptions,
    cache: Option<&cache::Options>,
    progress: &Progress,
    errors: &mut Vec<ObjectError>,
    mut notes: Vec<String>,
) -> Result<HistoryScan> {
    let reachable_only = opts.selection == Selection::ReachableOnly;
    let shallow = shallow_commits(repo);
    let (tips, ref_errors) = refs::tips(repo);
    errors.extend(ref_errors);
    // With --reachable-only, what refs reach decides what is read at all.
    let reachable = reachable_only.then(|| {
        progress.phase("finding reachable blobs");
        Reachable::find(repo, &tips, &shallow, errors)
    });

    // The blob cache: what an earlier scan under the same key found clean is not read again.
    let key = cache::Key::of(ctx, repo.object_hash());
    let loaded = match cache {
        Some(c) => {
            let loaded = cache::load(c, &key, opts.threads)?;
            notes.extend(loaded.ignored.iter().map(|why| {
                format!(
                    "cache: ignored {} (the scan read what it would have spared)",
                    crate::term::escape(why)
                )
            }));
            Some(loaded)
        }
        None => None,
    };

    // Phases 1 and 2: one pass over the object database scans the blobs and hands back the
    // commits it decoded on the way; a second pass for the commits alone would decode every
    // tree again.
    let (mut scanned, pass) = blobs::scan_odb(
        ctx,
        repo,
        &blobs::Options {
            threads: opts.threads,
            only: reachable.as_ref().map(|r| &r.blobs),
            progress,
            known: loaded.as_ref().map(|l| &l.known),
            checked: loaded.as_ref().map(|l| &l.packs),
        },
    )?;
    progress.finish_counting();
    release_freed_memory();
    // The packs whose trees named nothing missing: only when the pass reported nothing at all.
    // Trees known clean are used and learned on the same condition (see `cache`): a pass that
    // reported nothing found every object trees name.
    let sound = pass.errors.is_empty();
    let checked_packs = pass.packs.filter(|_| sound);
    let surveyed = pass.trees;
    errors.extend(pass.errors);
    // Commits whose message is clean, for the cache: their graph facts spare the next run
    // decoding them.
    let commits_learned = match &loaded {
        Some(l) => cache::commits_to_learn(&l.known, &scanned.cache.fresh_messages, &pass.commits),
        None => Vec::new(),
    };
    let graph = match reachable {
        Some(r) => r.graph,
        None => CommitGraph::build(pass.commits, &shallow, errors),
    };
    let label = graph.reach(&tips);

    // Phases 3 and 4, for the blobs with findings, and those at paths path-scoped rules name:
    // those rules ran on no blob yet, and run now on these alone.
    let scoped = scoped::ScopedPaths::of(ctx.scanner);
    // Trees found to hold nothing of interest, for the cache.
    let mut certified = Vec::new();
    let mut trees_known = 0;
    let findings = if scanned.blobs.is_empty() && scoped.is_none() {
        Vec::new()
    } else {
        let n = scanned.blobs.len();
        if n == 0 {
            progress.phase("finding the files path-scoped rules are for");
        } else {
            progress.phase(&format!(
                "finding where {} with findings {} committed",
                crate::term::plural(n, "blob", "blobs"),
                if n == 1 { "was" } else { "were" }
            ));
        }
        let fresh: HashSet<ObjectId> = scanned.cache.fresh.iter().map(|(id, _)| *id).collect();
        let clean_blob = |id: &gix::oid| {
            fresh.contains(id) || loaded.as_ref().is_some_and(|l| l.known.contains(id))
        };
        let certify = loaded
            .as_ref()
            .filter(|_| sound)
            .map(|l| skeleton::Certify {
                trees: l.known.trees(),
                clean_blob: &clean_blob,
            });
        let located = locate::in_history(
            repo,
            &locate::Options {
                graph: &graph,
                tips: &tips,
                label: &label,
                scoped: scoped.as_ref(),
                threads: opts.threads,
                certify: certify.as_ref(),
                surveyed: Some(&surveyed),
            },
            &scanned.targets(),
            errors,
        );
        certified = located.certified;
        trees_known = located.trees_known as u64;
        let places = located.places;
        scanned.rescan_scoped(ctx, repo, &located.at_scoped, opts.threads)?;
        let targets = scanned.targets();
        let head = locate::at_head(repo, head::head_commit(repo), &targets, &mut notes);
        let mut info = CommitInfo::new(repo);
        group::findings(
            ctx,
            scanned.blobs,
            places,
            &mut info,
            &group::Options {
                head: head.as_ref(),
            },
        )
        .into_findings(&mut scanned.summary)
    };
    let mut findings = findings;
    findings.extend(whole_messages(
        ctx,
        repo,
        std::mem::take(&mut scanned.messages),
        &Reach {
            graph: &graph,
            label: &label,
            tips: &tips,
            reachable_only,
        },
        &mut scanned.summary,
    ));
    let unreachable = label.iter().filter(|l| l.is_none()).count();
    notes.extend(whole_notes(
        graph.len(),
        tips.len(),
        reachable_only,
        unreachable,
    ));
    scanned.summary.commits = Some(graph.len() as u64);
    if let (Some(c), Some(loaded)) = (cache, &loaded) {
        let mut tally = std::mem::take(&mut scanned.cache);
        // A commit's facts hold its message's counts: no record of its own for that.
        let as_commits: HashSet<ObjectId> = commits_learned.iter().map(|(id, _)| *id).collect();
        tally
            .fresh_messages
            .retain(|(id, _)| !as_commits.contains(id));
        // Only what a whole pass scanned is kept: an error above returned before this.
        let learned = cache::Learned {
            blobs: &tally.fresh,
            messages: &tally.fresh_messages,
            trees: &certified,
            commits: &commits_learned,
        };
        let stored = match cache::store(c, &key, learned, checked_packs.as_deref(), &loaded.packs) {
            // Blobs come first among the records, which a small bound may cut.
            Ok(s) => s.records.min(tally.fresh.len()) as u64,
            Err(e) => {
                notes.push(format!("cache: not updated: {e}"));
                0
            }
        };
        scanned.summary.cache = Some(crate::scan::CacheCounts {
            hits: tally.hits,
            misses: tally.misses,
            stored,
            ignored: loaded.ignored.len() as u64,
            messages: tally.messages_spared,
            trees: trees_known,
            commits: tally.commits_spared,
        });
    }
    Ok(HistoryScan {
        findings,
        summary: scanned.summary,
        notes,
    })
}

/// Which refs reach which commits, for naming a message finding's ref.
struct Reach<'a> {
    graph: &'a CommitGraph,
    label: &'a [Option<u32>],
    tips: &'a [Tip],
    /// Leave out messages no ref reaches (`--reachable-only`).
    reachable_only: bool,
}

/// The findings in the commit and tag messages of the whole object database (or of what refs
/// reach), each named by a ref that reaches its commit, or that names its tag.
fn whole_messages(
    ctx: &ScanContext<'_>,
    repo: &gix::Repository,
    mut found: messages::Outcome,
    reach: &Reach<'_>,
    summary: &mut Summary,
) -> Vec<Finding> {
    let tag_refs = if found.found.iter().any(|f| f.tag) {
        messages::tag_refs(repo)
    } else {
        Default::default()
    };
    let commit_ref = |id: &ObjectId| {
        reach
            .graph
            .idx(id)
            .and_then(|i| reach.label[i as usize])
            .map(|t| reach.tips[t as usize].name.clone())
    };
    if reach.reachable_only {
        found.found.retain(|f| {
            if f.tag {
                tag_refs.contains_key(&f.object)
            } else {
                commit_ref(&f.object).is_some()
            }
        });
    }
    messages::findings(
        ctx,
        found,
        |id, tag| {
            let name = if tag {
                tag_refs.get(&id).cloned()
            } else {
                commit_ref(&id)
            };
            name.unwrap_or_else(|| locate::UNREACHABLE.to_string())
        },
        summary,
    )
}

/// What refs reach, for `--reachable-only`: the commit graph, read from the tips, and the blobs
/// of its trees and of refs naming trees and blobs directly.
struct Reachable {
    graph: CommitGraph,
    blobs: HashSet<ObjectId>,
}

impl Reachable {
    fn find(
        repo: &gix::Repository,
        tips: &[Tip],
        shallow: &HashSet<ObjectId>,
        errors: &mut Vec<ObjectError>,
    ) -> Reachable {
        let commit_tips = tips
            .iter()
            .filter(|t| t.kind == Kind::Commit)
            .map(|t| t.target);
        let graph = CommitGraph::load(repo, commit_tips, shallow, errors);
        // Oldest first: consecutive commits share most trees, and their deltas share bases, so
        // the pack cache stays warm (random order is several times slower).
        let order = graph.topo(|_| true);
        let (trees, blobs) = non_commit_tips(tips);
        let (blobs, walk_errors) = walk::reachable_blobs(repo, &graph, &order, &trees, &blobs);
        errors.extend(walk_errors);
        Reachable { graph, blobs }
    }
}

/// What a whole-history scan covered.
fn whole_notes(
    commits: usize,
    tips: usize,
    reachable_only: bool,
    unreachable: usize,
) -> Vec<String> {
    let mut notes = vec![format!(
        "history: {} commit{} from {} ref{}{}; each distinct blob read once",
        commits,
        if commits == 1 { "" } else { "s" },
        tips,
        if tips == 1 { "" } else { "s" },
        if reachable_only {
            " (reachable only)"
        } else {
            ""
        }
    )];
    if !reachable_only && unreachable > 0 {
        notes.push(format!(
            "{} no ref reaches (dangling, or only in reflogs) {} scanned too; --reachable-only leaves them out",
            crate::term::plural(unreachable, "commit", "commits"),
            if unreachable == 1 { "was" } else { "were" }
        ));
    }
    notes
}

/// Each object that could not be read becomes a skipped entry of the summary: the scan went on
/// without it, and ends with exit status 2.
fn skip_unreadable(repo: &gix::Repository, errors: Vec<ObjectError>, summary: &mut Summary) {
    for e in errors {
        let (path, message) = match e.id {
            Some(id) => (
                format!("<object {id}>"),
                format!(
                    "{} (the scan went on without it; `git fsck` shows the damage)",
                    e.message
                ),
            ),
            None => (format!("<repository {}>", repo::describe(repo)), e.message),
        };
        summary.skip(path, SkipReason::Error(message));
    }
}

/// Commits a shallow clone cut the parents of.
fn shallow_commits(repo: &gix::Repository) -> HashSet<ObjectId> {
    match repo.shallow_commits() {
        Ok(Some(c)) => c.iter().copied().collect(),
        _ => HashSet::default(),
    }
}

/// Trees and blobs that refs name directly (a tag of a tree or a blob).
fn non_commit_tips(tips: &[Tip]) -> (Vec<ObjectId>, Vec<ObjectId>) {
    let trees = tips
        .iter()
        .filter(|t| t.kind == Kind::Tree)
        .map(|t| t.target)
        .collect();
    let blobs = tips
        .iter()
        .filter(|t| t.kind == Kind::Blob)
        .map(|t| t.target)
        .collect();
    (trees, blobs)
}
