//! Phase 4 of a history scan: group. The findings of every blob, with the places each blob sits
//! at ([`super::locate`]), become one finding per secret: at its first appearance, counting the
//! other places it is in, listing the earliest of them, and saying whether the head still holds
//! it. Path-scoped rules, `[allow] paths`, `--exclude` and allowed commits are applied here,
//! since only here are paths and commits known.
//!
//! The work is linear in places and findings (with a sort of each blob's places): what a place
//! admits (the allow-list, path-scoped rules) is worked out once per blob and kind of finding,
//! not once per finding, and each secret keeps only its earliest places: [`MAX_LISTED_PLACES`],
//! or fewer when many secrets share [`MAX_LISTED_PLACES_TOTAL`].

use std::collections::BTreeMap;

use gix::ObjectId;
use gix::bstr::BString;
use gix::hashtable::HashMap;

use super::blobs::{BlobFindings, blob_name};
use super::head::HeadBlobs;
use super::locate::{Located, Places, UNREACHABLE};
use super::provenance::CommitInfo;
use super::walk;
use crate::finding::{
    Finding, Fingerprint, Location, MAX_LISTED_PLACES, MAX_LISTED_PLACES_TOTAL, OtherPlace,
};
use crate::rules::RuleIdx;
use crate::scan::{ScanContext, Summary};

/// What grouping reads besides the findings and places.
pub(crate) struct Options<'a> {
    /// Which blobs the scanned head holds; `None` when that cannot be told.
    pub head: Option<&'a HeadBlobs>,
}

/// Grouped findings, and how many secrets the path and commit allow-lists left with no place.
pub(crate) struct Outcome {
    pub findings: Vec<Finding>,
    /// Left out by `[allow] paths` or `[allow] commits`.
    pub allowed: u64,
    /// Left out by `--exclude`.
    pub excluded: u64,
}

impl Outcome {
    /// Counts what was left out in `summary`, and hands the findings over.
    pub fn into_findings(self, summary: &mut Summary) -> Vec<Finding> {
        summary.allowed += self.allowed;
        summary.excluded += self.excluded;
        self.findings
    }
}

/// A secret, keyed by its fingerprint and which occurrence of it within a blob this is: a secret
/// written on two lines of a file is two findings, each followed through history on its own.
type SecretKey = (Fingerprint, usize);

/// Gives each finding its path and provenance, drops what path-scoped rules and allow-lists rule
/// out, and makes one finding per secret.
pub(crate) fn findings(
    ctx: &ScanContext<'_>,
    blobs: Vec<BlobFindings>,
    places: Places,
    info: &mut CommitInfo<'_>,
    opts: &Options<'_>,
) -> Outcome {
    let secrets = count_secrets(&blobs);
    let listed = (MAX_LISTED_PLACES_TOTAL / secrets.max(1)).clamp(1, MAX_LISTED_PLACES);
    let mut lists = PlaceLists {
        places,
        lists: Vec::with_capacity(blobs.len()),
        blob: Vec::with_capacity(blobs.len()),
        index: HashMap::default(),
    };
    let mut groups: BTreeMap<SecretKey, Group> = BTreeMap::new();
    // Secrets with a place left out by `[allow] paths` (false) or `--exclude` (true): those with
    // no place left are counted, like other suppressions.
    let mut dropped_by_path: BTreeMap<SecretKey, bool> = BTreeMap::new();
    for (blob, found) in blobs {
        let li = lists.of(blob);
        let at_head = opts.head.and_then(|h| h.holds(blob));
        add_blob(
            ctx,
            &found,
            li,
            at_head,
            listed,
            &lists,
            &mut groups,
            &mut dropped_by_path,
        );
    }
    let mut out = Outcome {
        findings: Vec::with_capacity(groups.len()),
        allowed: 0,
        excluded: 0,
    };
    for (key, excluded) in dropped_by_path {
        if !groups.contains_key(&key) {
            if excluded {
                out.excluded += 1;
            } else {
                out.allowed += 1;
            }
        }
    }
    for (_, g) in groups {
        let first = g.earliest[0];
        if lists
            .place(first)
            .commit
            .is_some_and(|c| ctx.allowlist.allows_commit(&c.to_string()))
        {
            out.allowed += 1;
            continue;
        }
        out.findings
            .push(report(g, &lists, info, opts.head.is_some()));
    }
    out
}

/// The places of each blob with findings, earliest first, numbered in the order blobs come:
/// `lists[i]` belongs to `blob[i]`.
struct PlaceLists {
    /// Places not yet numbered.
    places: Places,
    lists: Vec<Vec<Located>>,
    blob: Vec<ObjectId>,
    index: HashMap<ObjectId, usize>,
}

impl PlaceLists {
    /// The number of `blob`'s list, sorted earliest first; a blob with no place is known by its
    /// id alone.
    fn of(&mut self, blob: ObjectId) -> usize {
        if let Some(&i) = self.index.get(&blob) {
            return i;
        }
        let mut list = match self.places.remove(&blob) {
            Some(p) if !p.is_empty() => p,
            _ => vec![Located {
                path: BString::from(blob_name(blob)),
                commit: None,
                ref_name: UNREACHABLE.to_string(),
                seq: usize::MAX,
            }],
        };
        list.sort_by(|a, b| (a.seq, &a.path).cmp(&(b.seq, &b.path)));
        self.lists.push(list);
        self.blob.push(blob);
        self.index.insert(blob, self.lists.len() - 1);
        self.lists.len() - 1
    }

    fn place(&self, s: Spot) -> &Located {
        &self.lists[s.list as usize][s.place as usize]
    }
}

/// A path-scoped rule needs a real path: a blob only known by id cannot match.
fn path_known(p: &Located) -> bool {
    p.seq != usize::MAX
}

/// Adds the findings of one blob (list `li` of `lists`) to the groups of their secrets.
#[allow(clippy::too_many_arguments)]
fn add_blob(
    ctx: &ScanContext<'_>,
    found: &[Finding],
    li: usize,
    at_head: Option<bool>,
    listed: usize,
    lists: &PlaceLists,
    groups: &mut BTreeMap<SecretKey, Group>,
    dropped_by_path: &mut BTreeMap<SecretKey, bool>,
) {
    let places = &lists.lists[li];
    let closed = closed_places(ctx, places);
    // The path-scoped findings, in order: they never overlap each other.
    let mut scoped: Vec<&Finding> = found
        .iter()
        .filter(|f| ctx.scanner.rule(f.rule).path.is_some())
        .collect();
    scoped.sort_by_key(|f| (f.line, f.column));
    let mut admitted: std::collections::HashMap<Admission, Admitted> = Default::default();
    let mut nth_in_blob: BTreeMap<&Fingerprint, usize> = BTreeMap::new();
    for f in found {
        let n = nth_in_blob.entry(&f.fingerprint).or_insert(0);
        let nth = *n;
        *n += 1;
        let a = admitted
            .entry(admission(ctx, f, &scoped))
            .or_insert_with_key(|kind| admit(ctx, kind, places, &closed, listed));
        if let Some(excluded) = a.dropped {
            let d = dropped_by_path
                .entry((f.fingerprint.clone(), nth))
                .or_insert(excluded);
            *d |= excluded;
        }
        if a.count == 0 {
            continue;
        }
        let spots = a.first.iter().map(|&pi| Spot {
            seq: places[pi as usize].seq,
            list: li as u32,
            place: pi,
            line: f.line,
            column: f.column,
        });
        let g = groups
            .entry((f.fingerprint.clone(), nth))
            .or_insert_with(|| Group {
                earliest: Vec::new(),
                finding: f.clone(),
                places: 0,
                in_head: Some(false),
            });
        g.places += a.count;
        g.in_head = either_in_head(g.in_head, at_head);
        let was_first = g.earliest.first().map(|s| s.list);
        g.add(spots, listed, &lists.lists, &lists.blob);
        // A new group starts with this finding; an old one takes it if this blob now holds the
        // earliest place.
        if was_first.is_some_and(|w| w != li as u32) && g.earliest[0].list == li as u32 {
            g.finding = f.clone();
        }
    }
}

/// Which places `--exclude` (Some(true)) or `[allow] paths` (Some(false)) leave out.
fn closed_places(ctx: &ScanContext<'_>, places: &[Located]) -> Vec<Option<bool>> {
    places
        .iter()
        .map(|p| {
            if !path_known(p) {
                return None;
            }
            let text = walk::path_text(p.path.as_ref());
            if ctx.allowlist.excludes_path(&text, &ctx.path_base) {
                Some(true)
            } else if ctx.allowlist.allows_path(&text, &ctx.path_base) {
                Some(false)
            } else {
                None
            }
        })
        .collect()
}

/// What decides the places finding `f` counts at; `scoped` are the path-scoped findings of its
/// blob, in order.
fn admission(ctx: &ScanContext<'_>, f: &Finding, scoped: &[&Finding]) -> Admission {
    if ctx.scanner.rule(f.rule).path.is_some() {
        return Admission::Scoped(f.rule);
    }
    // The scan kept an unscoped match beside a path-scoped one that beat it on the same bytes;
    // where the scoped rule applies, it takes the unscoped one's place.
    let from = scoped.partition_point(|o| (o.end_line, o.end_column) <= (f.line, f.column));
    let to = scoped.partition_point(|o| (o.line, o.column) < (f.end_line, f.end_column));
    let mut rules: Vec<RuleIdx> = scoped[from..to.max(from)]
        .iter()
        .filter(|o| overlaps(o, f))
        .map(|o| o.rule)
        .collect();
    rules.sort_unstable();
    rules.dedup();
    Admission::Unscoped(rules)
}

/// The finding of group `g`, at its first place, with the provenance of that place and the
/// earliest other places listed.
fn report(g: Group, lists: &PlaceLists, info: &mut CommitInfo<'_>, head_known: bool) -> Finding {
    let first = g.earliest[0];
    let p = lists.place(first);
    let blob = lists.blob[first.list as usize];
    let mut f = g.finding;
    place_at(&mut f, blob, p);
    let mut prov = info.provenance(blob, p.commit, Some(p.ref_name.clone()));
    prov.other_locations = g.places.saturating_sub(1);
    prov.other_places = g.earliest[1..]
        .iter()
        .map(|&s| {
            let o = lists.place(s);
            OtherPlace {
                path: walk::path_text(o.path.as_ref()),
                commit: o.commit.map(|c| c.to_string()),
                blob: lists.blob[s.list as usize].to_string(),
            }
        })
        .collect();
    prov.in_head = if head_known { g.in_head } else { None };
    f.provenance = Some(prov);
    f
}

/// Places a finding at `place` of `blob`: the one write of a history finding's location. A blob
/// no commit names keeps no path, and is shown by its id. A finding inside an archive keeps its
/// chain of members (`bundle.zip!app/.env`): the blob at the bottom of it is placed.
fn place_at(f: &mut Finding, blob: ObjectId, place: &Located) {
    let placed = Location::Blob {
        id: blob.to_string(),
        path: path_known(place).then(|| walk::path_text(place.path.as_ref())),
    };
    let mut bottom = &mut f.location;
    while let Location::Member { archive, .. } = bottom {
        bottom = archive;
    }
    *bottom = placed;
    if let Some(pair) = f.pair.as_mut() {
        // Paired within the same blob, so at the same place.
        pair.location = f.location.clone();
    }
}

/// One secret's finding, as it is gathered from every blob that holds it.
struct Group {
    /// The earliest places holding the secret, earliest first: the finding is reported at the
    /// first, the rest are listed (at most [`MAX_LISTED_PLACES`] of them, see `listed`).
    earliest: Vec<Spot>,
    /// The finding in the blob of `earliest[0]`.
    finding: Finding,
    /// Every (blob, path) place holding the secret, the first included.
    places: usize,
    /// Whether a blob holding the secret is at the head (`None`: cannot tell).
    in_head: Option<bool>,
}

impl Group {
    /// Merges `spots` (earliest first) into the earliest places kept: the first and `listed`
    /// more.
    fn add(
        &mut self,
        spots: impl Iterator<Item = Spot>,
        listed: usize,
        lists: &[Vec<Located>],
        blob: &[ObjectId],
    ) {
        let key = |s: &Spot| {
            (
                s.seq,
                &lists[s.list as usize][s.place as usize].path,
                s.line,
                s.column,
                blob[s.list as usize],
            )
        };
        let before = self.earliest.len();
        // Kept sorted and at most `listed` + 1 long: a full list's last place is the bar a new
        // place must beat, and of the new ones (earliest first) no more than that many can.
        let bar = (before > listed).then(|| self.earliest[before - 1]);
        for s in spots.take(listed + 1) {
            if bar.is_some_and(|b| key(&s) >= key(&b)) {
                break;
            }
            self.earliest.push(s);
        }
        if self.earliest.len() > before {
            self.earliest.sort_by(|a, b| key(a).cmp(&key(b)));
            self.earliest.truncate(listed + 1);
        }
    }
}

/// A place of a finding's secret: place `place` of blob list `list`, the finding at
/// `line`:`column` there.
#[derive(Debug, Clone, Copy)]
struct Spot {
    seq: usize,
    list: u32,
    place: u32,
    line: u32,
    column: u32,
}

/// What decides which places of a blob a finding counts at: its own rule's path filter, or for
/// an unscoped finding, the path-scoped rules whose findings overlap it (where one of them
/// applies, that one is reported instead).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Admission {
    Scoped(RuleIdx),
    Unscoped(Vec<RuleIdx>),
}

/// The places of a blob a kind of finding counts at.
struct Admitted {
    count: usize,
    /// The earliest of them, at most `listed` + 1.
    first: Vec<u32>,
    /// Whether a place it would count at was left out: by `--exclude` (true) or only by
    /// `[allow] paths` (false).
    dropped: Option<bool>,
}

fn admit(
    ctx: &ScanContext<'_>,
    kind: &Admission,
    places: &[Located],
    closed: &[Option<bool>],
    listed: usize,
) -> Admitted {
    let mut a = Admitted {
        count: 0,
        first: Vec::new(),
        dropped: None,
    };
    for (i, p) in places.iter().enumerate() {
        let counts = match kind {
            Admission::Scoped(rule) => path_known(p) && ctx.scanner.applies_at(*rule, &p.path),
            Admission::Unscoped(rules) => {
                !path_known(p) || !rules.iter().any(|&r| ctx.scanner.applies_at(r, &p.path))
            }
        };
        if !counts {
            continue;
        }
        if let Some(excluded) = closed[i] {
            a.dropped = Some(a.dropped.unwrap_or(false) | excluded);
            continue;
        }
        a.count += 1;
        if a.first.len() <= listed {
            a.first.push(i as u32);
        }
    }
    a
}

/// Whether two findings in the same blob cover some of the same characters.
fn overlaps(a: &Finding, b: &Finding) -> bool {
    (a.line, a.column) < (b.end_line, b.end_column)
        && (b.line, b.column) < (a.end_line, a.end_column)
}

/// How many findings grouping makes at most: distinct (secret, occurrence in its blob).
fn count_secrets(blobs: &[BlobFindings]) -> usize {
    let mut keys: std::collections::HashSet<(&Fingerprint, usize)> = Default::default();
    for (_, findings) in blobs {
        let mut nth: std::collections::HashMap<&Fingerprint, usize> = Default::default();
        for f in findings {
            let n = nth.entry(&f.fingerprint).or_insert(0);
            keys.insert((&f.fingerprint, *n));
            *n += 1;
        }
    }
    keys.len()
}

/// Whether a secret is at the head, from two of its blobs' answers.
fn either_in_head(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}
