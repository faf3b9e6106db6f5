//! The keyword prefilter: where in a buffer does any rule's keyword occur?
//!
//! A [`KeywordIndex`] matches its keywords either ASCII-case-insensitively (folded) or exactly;
//! a rule chooses (`case_sensitive_keywords`), and a [`PackIndex`] searches both kinds together.
//! These choices make it fast:
//!
//! - A folded index lower-cases the input a chunk at a time (the copy stays in cache) and searches
//!   it with a case-sensitive searcher: the automaton's own case-insensitive mode defeats its SIMD
//!   prefilters (measured on 82 MB of crate sources with 45 keywords: 1.4 GB/s against 0.57 GB/s).
//!   An exact index searches the input itself.
//! - Only the *minimal* keywords are searched for: those that contain no other keyword. A rule
//!   pack has many keywords that extend a shorter one (`secret` in `aws_secret`, `client_secret`,
//!   `secret_access_key`); each hit of `secret` is checked in place for the longer ones.
//! - The patterns are searched in groups of `GROUP` with the SIMD "Teddy" searcher, one pass
//!   per group. Teddy's candidate filter blurs as a group grows (measured on the default pack's
//!   120 patterns over 82 MB of crate sources: one group of 120, 0.14 GB/s; a DFA, 0.58 GB/s;
//!   groups of 16, 0.9–1.6 GB/s). Sorting first puts patterns that share a prefix in one group,
//!   and the three-byte patterns in groups of their own. Each group is one more pass (near
//!   16 GB/s when it finds little), so a large pack would cost in proportion to its size.
//! - A large pack's longer patterns therefore go to one `GramFilter` instead
//!   (`gram_filter.rs`): it samples every `stride`-th position, hashes the 4 bytes there into a
//!   bit table and verifies exactly only where a bit is set, one pass whatever the number of
//!   patterns. A pass costs about as much as 9 Teddy groups at stride 1 and 2.4 at stride 4, so
//!   `gram_split` weighs the two per index: the default pack (2 folded groups, 4 exact) stays
//!   all Teddy; with 200 more 5-byte token prefixes, the folded index is one Teddy group for the
//!   short patterns plus a stride-2 gram filter. Measured with `bench/prefilter.sh` (CPU time of
//!   the keyword search alone over 140 MB of crate sources, 2 cores shared with other builds):
//!
//!   | folded keywords | Teddy groups only | with the gram filter |
//!   |---|---|---|
//!   | default pack (76) | 36 ms | 36 ms (all Teddy) |
//!   | default + 200 synthetic | 148–153 ms (15 groups) | 73–83 ms |
//!   | default + 1000 synthetic | 567 ms (65 groups) | 89 ms |
//!
//! - A rule pack has keywords of both kinds, and the matcher searches them all with one
//!   [`PackIndex`]: where that pays, one pass of a `PackFilter` (`pack_filter.rs`) over the
//!   input itself for the minimal patterns of both case modes, no lower-cased copy and no pass
//!   per group. It reads the 4 bytes at every other position or-ed with `0x20` each (a superset of
//!   case folding, so exact and folded patterns share one bit table), and compares candidates
//!   exactly or ASCII-case-insensitively per pattern. A pass costs about six Teddy groups; with
//!   few keywords (fewer groups and lower-casing than that, or a keyword under 3 bytes), a
//!   `PackIndex` keeps one `KeywordIndex` per case mode instead. Measured with
//!   `bench/prefilter.sh` on 118 MB of crate sources, 2 cores shared with other builds:
//!
//!   | pack (folded + exact keywords) | two indexes | one pass |
//!   |---|---|---|
//!   | default (464 + 177; 5 + 10 groups) | 258–361 ms | 100–108 ms |
//!   | two folded + one exact | 84 ms | 84 ms (two indexes chosen) |
//!
//! Every occurrence of every keyword is reported, overlapping ones too, and each once: a Teddy
//! group is searched again one byte after each match, the pack filter registers every pattern by
//! two adjacent words (one of them starts at a position it looks at),
//! and a keyword that is not minimal is reported through exactly one minimal pattern (of its
//! own case mode) it contains.

use std::ops::Range;

use aho_corasick::packed;
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use gram_filter::GramFilter;
use pack_filter::{PackFilter, equal};

mod common_grams;
mod gram_filter;
mod pack_filter;

/// How much of the input is lower-cased and searched at a time.
const CHUNK: usize = 64 * 1024;

/// Patterns per Teddy group.
const GROUP: usize = 16;

enum Searcher {
    Packed(packed::Searcher),
    Automaton(AhoCorasick),
}

impl Searcher {
    /// Builds a searcher for `patterns` (3+ bytes each for Teddy to narrow candidates well; with
    /// shorter ones it verifies nearly every position, and the DFA is faster).
    fn new(patterns: &[&[u8]]) -> Searcher {
        let shortest = patterns.iter().map(|p| p.len()).min().unwrap_or(0);
        let packed = (shortest >= 3)
            .then(|| {
                packed::Config::new()
                    .match_kind(packed::MatchKind::LeftmostLongest)
                    .builder()
                    .extend(patterns)
                    .build()
            })
            .flatten();
        match packed {
            Some(p) => Searcher::Packed(p),
            None => Searcher::Automaton(
                AhoCorasick::builder()
                    .kind(Some(AhoCorasickKind::DFA))
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(patterns)
                    .expect("keyword automaton: keywords are plain literals"),
            ),
        }
    }

    /// The next match in `hay[at..]`, as (pattern, start, end).
    fn find(&self, hay: &[u8], at: usize) -> Option<(usize, usize, usize)> {
        match self {
            Searcher::Packed(s) => s
                .find_in(hay, aho_corasick::Span::from(at..hay.len()))
                .map(|m| (m.pattern().as_usize(), m.start(), m.end())),
            Searcher::Automaton(a) => a
                .find(aho_corasick::Input::new(hay).span(at..hay.len()))
                .map(|m| (m.pattern().as_usize(), m.start(), m.end())),
        }
    }
}

/// Finds every keyword occurrence in a buffer.
pub struct KeywordIndex {
    /// Searchers over groups of the first `teddy_patterns` minimal patterns: pattern `i` of group
    /// `g` is minimal pattern `g * GROUP + i`.
    groups: Vec<Searcher>,
    teddy_patterns: usize,
    /// The filter over the other minimal patterns: its pattern `i` is minimal pattern
    /// `teddy_patterns + i`.
    grams: Option<GramFilter>,
    /// For each searched (minimal) pattern: the keywords that are found through it, with its
    /// offset in each. A minimal keyword lists itself at offset 0; every other keyword is listed
    /// under exactly one minimal pattern it contains, so each occurrence is reported once.
    extensions: Vec<Vec<(usize, usize)>>,
    /// Minimal pattern lengths.
    lengths: Vec<usize>,
    /// All keywords: lower-case if `fold`.
    keywords: Vec<Vec<u8>>,
    longest: usize,
    /// Whether the input is lower-cased before it is searched.
    fold: bool,
}

/// The cost of a search pass over the input, in units of one Teddy group's pass, for a gram
/// filter of stride 1 to 4 (measured with `bench/prefilter.sh` on 140 MB of crate sources: a
/// Teddy group 9 ms, the gram filter 85 ms divided by its stride).
const GRAM_COST: [f64; 4] = [9.4, 4.7, 3.1, 2.4];

/// From which length on the minimal patterns go to a gram filter rather than Teddy groups, if
/// any: Teddy searches all of them while their groups cost less than splitting off the longer
/// ones into the gram filter, whose cost is flat in their count but high per pass.
fn gram_split(lengths: &[usize]) -> Option<usize> {
    split_cost(lengths).1
}

/// [`gram_split`]'s choice, with its cost per pass over the input (in Teddy groups).
fn split_cost(lengths: &[usize]) -> (f64, Option<usize>) {
    let groups = |n: usize| n.div_ceil(GROUP) as f64;
    let mut best = (groups(lengths.len()), None);
    for split in 4..=3 + GRAM_COST.len() {
        let (short, long): (Vec<usize>, Vec<usize>) = lengths.iter().partition(|&&l| l < split);
        let Some(shortest) = long.iter().min() else {
            break;
        };
        let stride = (shortest - 3).min(GRAM_COST.len());
        let cost = groups(short.len()) + GRAM_COST[stride - 1];
        if cost < best.0 {
            best = (cost, Some(split));
        }
    }
    best
}

/// Every occurrence of a set of patterns (indexes into the keywords) in a keyword, overlapping
/// ones too. The patterns are sorted by their bytes, so that those that start with given bytes
/// are adjacent. At each start in a keyword, the range of patterns that begin with the keyword's
/// two bytes there is looked up in a bit set of the pairs of first bytes (most starts have none),
/// then narrowed a byte at a time by two binary searches until it is empty or one pattern is left
/// to compare; the patterns that end on the way are the occurrences.
///
/// An Aho-Corasick automaton over the patterns (one pass per keyword) found the same and cost
/// more to build than the default pack's keywords take to search this way (callgrind, `credsweep
/// dir` of an empty directory: the two functions below took 7.0 M instructions of 24.8 M with the
/// automaton; 3.4 M narrowing from the first byte on, 4.2 M walking a trie of the patterns).
struct Containment<'k> {
    /// (pattern's bytes, its number in the patterns given), sorted.
    sorted: Vec<(&'k [u8], usize)>,
    /// For each byte, the range of `sorted` that is the one-byte pattern of it (if any).
    single: [(u32, u32); 256],
    /// A bit for each pair of bytes some pattern of two or more bytes starts with (bit
    /// `256 * first + second`).
    pairs: Vec<u64>,
    /// For each word of `pairs`, how many bits the words before it have set.
    rank: Vec<u32>,
    /// For each pair in `pairs`, in order, the range of `sorted` whose patterns start with it.
    ranges: Vec<(u32, u32)>,
}

impl<'k> Containment<'k> {
    /// `patterns`: indexes into `keywords`; a pattern's number is its place in `patterns`. Empty
    /// patterns are never found.
    fn new(keywords: &'k [Vec<u8>], patterns: &[usize]) -> Containment<'k> {
        let mut sorted: Vec<(&[u8], usize)> = patterns
            .iter()
            .enumerate()
            .map(|(n, &p)| (keywords[p].as_slice(), n))
            .filter(|(bytes, _)| !bytes.is_empty())
            .collect();
        sorted.sort_unstable();
        let mut single = [(0, 0); 256];
        let mut pairs = vec![0u64; 1024];
        let mut ranges = Vec::new();
        let mut lo = 0;
        while lo < sorted.len() {
            let (head, hi) = match *sorted[lo].0 {
                [byte] => {
                    let hi = lo + sorted[lo..].partition_point(|(p, _)| p == &[byte]);
                    single[usize::from(byte)] = (lo as u32, hi as u32);
                    (None, hi)
                }
                // Sorted, the patterns of a pair come after the one-byte pattern of its first
                // byte, together, and the pairs in order.
                [a, b, ..] => {
                    let hi = lo + sorted[lo..].partition_point(|(p, _)| p.starts_with(&[a, b]));
                    ranges.push((lo as u32, hi as u32));
                    (Some(Self::pair(a, b)), hi)
                }
                [] => unreachable!("empty patterns are left out"),
            };
            if let Some(pair) = head {
                pairs[pair / 64] |= 1 << (pair % 64);
            }
            lo = hi;
        }
        let rank = pairs
            .iter()
            .scan(0, |before, word: &u64| {
                let here = *before;
                *before += word.count_ones();
                Some(here)
            })
            .collect();
        Containment {
            sorted,
            single,
            pairs,
            rank,
            ranges,
        }
    }

    fn pair(a: u8, b: u8) -> usize {
        usize::from(a) << 8 | usize::from(b)
    }

    /// The range of `sorted` whose patterns start with `a`, `b`; `None` if there are none.
    fn starting_with(&self, a: u8, b: u8) -> Option<(usize, usize)> {
        let pair = Self::pair(a, b);
        let (word, bit) = (self.pairs[pair / 64], pair % 64);
        if word & 1 << bit == 0 {
            return None;
        }
        let before = self.rank[pair / 64] + (word & ((1 << bit) - 1)).count_ones();
        let (lo, hi) = self.ranges[before as usize];
        Some((lo as usize, hi as usize))
    }

    /// Calls `found(pattern, start)` for every occurrence of every pattern in `hay`.
    fn for_each(&self, hay: &[u8], mut found: impl FnMut(usize, usize)) {
        for (start, &byte) in hay.iter().enumerate() {
            let (lo, hi) = self.single[usize::from(byte)];
            for &(_, n) in &self.sorted[lo as usize..hi as usize] {
                found(n, start);
            }
            let rest = &hay[start..];
            let Some((mut lo, mut hi)) = rest.get(1).and_then(|&b| self.starting_with(byte, b))
            else {
                continue;
            };
            // The patterns in `sorted[lo..hi]` all start with `rest[..depth]`.
            let mut depth = 2;
            loop {
                // Those that are exactly `rest[..depth]` sort first.
                while lo < hi && self.sorted[lo].0.len() == depth {
                    found(self.sorted[lo].1, start);
                    lo += 1;
                }
                if hi - lo <= 1 {
                    if let Some(&(pattern, n)) = self.sorted[lo..hi].first()
                        && rest.starts_with(pattern)
                    {
                        found(n, start);
                    }
                    break;
                }
                let Some(&next) = rest.get(depth) else {
                    break;
                };
                // The others by their next byte.
                let range = &self.sorted[lo..hi];
                let from = range.partition_point(|(p, _)| p[depth] < next);
                let to = from + range[from..].partition_point(|(p, _)| p[depth] == next);
                (lo, hi) = (lo + from, lo + to);
                depth += 1;
            }
        }
    }
}

/// The *minimal* keywords, those that contain no other (non-empty) keyword: the patterns
/// searched for. Their indexes in `keywords`, in order.
fn minimal_patterns(keywords: &[Vec<u8>]) -> Vec<usize> {
    let non_empty: Vec<usize> = (0..keywords.len())
        .filter(|&i| !keywords[i].is_empty())
        .collect();
    let contained = Containment::new(keywords, &non_empty);
    non_empty
        .iter()
        .copied()
        .filter(|&i| {
            // Only a shorter keyword counts: the keyword itself (and any equal one) does not.
            let mut shorter = false;
            contained.for_each(&keywords[i], |m, _| {
                shorter |= keywords[non_empty[m]].len() < keywords[i].len();
            });
            !shorter
        })
        .collect()
}

/// Lists every keyword `k` under the first of the `minimal` patterns (indexes into `keywords`)
/// it contains, with the offset of that pattern's first occurrence in the keyword: in
/// `extensions[m]` for pattern `m`, as `(number + k, offset)`.
fn extend(
    keywords: &[Vec<u8>],
    minimal: &[usize],
    number: usize,
    extensions: &mut [Vec<(usize, usize)>],
) {
    let contained = Containment::new(keywords, minimal);
    for (k, kw) in keywords.iter().enumerate() {
        let mut first: Option<(usize, usize)> = None;
        contained.for_each(kw, |m, start| {
            if first.is_none_or(|f| (m, start) < f) {
                first = Some((m, start));
            }
        });
        if let Some((m, start)) = first {
            extensions[m].push((number + k, start));
        }
    }
}

impl KeywordIndex {
    /// `keywords` must be distinct, and lower-case if `fold` (matched ASCII-case-insensitively);
    /// otherwise they are matched exactly. Empty keywords are never found.
    pub fn new(keywords: &[String], fold: bool) -> KeywordIndex {
        KeywordIndex::with_split(keywords, fold, gram_split)
    }

    /// [`KeywordIndex::new`], with `split` choosing from the minimal patterns' lengths the
    /// length from which on they go to the gram filter (tests force either searcher with it).
    fn with_split(
        keywords: &[String],
        fold: bool,
        split: impl FnOnce(&[usize]) -> Option<usize>,
    ) -> KeywordIndex {
        let keywords: Vec<Vec<u8>> = keywords.iter().map(|k| k.as_bytes().to_vec()).collect();
        let mut minimal = minimal_patterns(&keywords);
        // Few patterns: Teddy groups. Many: the longer ones go to the gram filter (after the
        // others), one pass whatever their number.
        let lengths: Vec<usize> = minimal.iter().map(|&m| keywords[m].len()).collect();
        // Never below 4: the gram filter's samples are four bytes.
        let split = split(&lengths).map_or(usize::MAX, |l| l.max(4));
        // Three-byte patterns first, together: Teddy fingerprints the first min(4, shortest)
        // bytes of a group's patterns, so one short pattern in a group blurs the whole group's
        // filter (measured on 134 MB of crate sources, default pack: 179 ms of CPU sorted by
        // bytes alone, 143 ms with the short patterns in groups of their own).
        minimal.sort_by(|&a, &b| {
            let key = |k: usize| {
                (
                    keywords[k].len() >= split,
                    keywords[k].len() >= 4,
                    &keywords[k],
                )
            };
            key(a).cmp(&key(b))
        });
        let teddy_patterns = minimal
            .iter()
            .take_while(|&&m| keywords[m].len() < split)
            .count();
        let mut extensions = vec![Vec::new(); minimal.len()];
        extend(&keywords, &minimal, 0, &mut extensions);
        let patterns: Vec<&[u8]> = minimal.iter().map(|&m| keywords[m].as_slice()).collect();
        let lengths: Vec<usize> = patterns.iter().map(|p| p.len()).collect();
        let groups = patterns[..teddy_patterns]
            .chunks(GROUP)
            .map(Searcher::new)
            .collect();
        let grams =
            (teddy_patterns < patterns.len()).then(|| GramFilter::new(&patterns[teddy_patterns..]));
        let longest = keywords.iter().map(Vec::len).max().unwrap_or(0);
        KeywordIndex {
            groups,
            teddy_patterns,
            grams,
            extensions,
            lengths,
            keywords,
            longest,
            fold,
        }
    }

    /// The same index, with the gram filter's scalar loop only (tests compare the two).
    #[cfg(test)]
    fn scalar(mut self) -> KeywordIndex {
        self.grams = self.grams.map(GramFilter::scalar);
        self
    }

    /// Calls `hit(keyword, range)` for every occurrence of every keyword in `data` (overlapping
    /// ones too), each once. Hits come a chunk of input at a time, and within a chunk one
    /// searcher at a time, each nearly in order of position: callers that need them in order
    /// sort them.
    pub fn for_each_hit(&self, data: &[u8], mut hit: impl FnMut(usize, Range<usize>)) {
        if self.groups.is_empty() && self.grams.is_none() {
            return;
        }
        // Each chunk is searched with `reach` bytes of context on both sides, so that a keyword
        // that extends a minimal pattern can be checked across the chunk's edges.
        let reach = self.longest.saturating_sub(1);
        let mut lower = Vec::with_capacity(if self.fold {
            CHUNK.min(data.len()) + 2 * reach
        } else {
            0
        });
        let mut pos = 0;
        while pos < data.len() {
            let end = (pos + CHUNK).min(data.len());
            let from = pos.saturating_sub(reach);
            let to = (end + reach).min(data.len());
            let hay: &[u8] = if self.fold {
                lower.clear();
                lower.extend(data[from..to].iter().map(u8::to_ascii_lowercase));
                &lower
            } else {
                &data[from..to]
            };
            // A minimal pattern found at `hay[s..]`: report the keywords found through it.
            let mut report = |m: usize, s: usize| {
                for &(k, off) in &self.extensions[m] {
                    let kw = &self.keywords[k];
                    if off > s || s - off + kw.len() > hay.len() {
                        continue;
                    }
                    let ks = s - off;
                    // A minimal pattern is already matched. A longer keyword's first and last
                    // bytes are compared before the whole (`equal`): `key` has some thirty
                    // keywords to check at each of its (frequent) hits, and a call to compare
                    // each was 3% of a history scan's CPU time.
                    if (off == 0 && kw.len() == self.lengths[m])
                        || equal(&hay[ks..ks + kw.len()], kw, false)
                    {
                        hit(k, from + ks..from + ks + kw.len());
                    }
                }
            };
            for (g, searcher) in self.groups.iter().enumerate() {
                let mut at = pos - from;
                // No two minimal patterns match at the same start (the shorter would be a prefix
                // of the longer), so searching again one byte after each match's start finds
                // every occurrence, overlapping ones too.
                while let Some((p, s, _)) = searcher.find(hay, at) {
                    if from + s >= end {
                        break;
                    }
                    at = s + 1;
                    report(g * GROUP + p, s);
                }
            }
            if let Some(grams) = &self.grams {
                grams.for_each_match(hay, pos - from, end - from, |p, s| {
                    report(self.teddy_patterns + p, s)
                });
            }
            pos = end;
        }
    }
}

/// A keyword of a [`PackIndex`]: its bytes (lower-case if folded) and whether it is matched
/// ASCII-case-insensitively (folded) rather than exactly.
pub type PackKeyword = (String, bool);

/// The cost of lower-casing the input for a folded [`KeywordIndex`], in Teddy group passes
/// (measured with `bench/prefilter.sh`: the default pack's 5 folded groups cost as much as its
/// 10 exact ones).
const LOWER_COST: f64 = 2.0;

/// The cost of one `PackFilter` pass, in Teddy group passes (measured with
/// `bench/prefilter.sh` on 118 MB of crate sources: the default pack's 15 groups 258 ms, one
/// pass 100–108 ms; two folded keywords and one exact, 84 ms either way).
const ONE_PASS_COST: f64 = 6.0;

/// Finds every keyword of a whole rule pack, folded and exact alike.
pub struct PackIndex {
    search: PackSearch,
}

enum PackSearch {
    /// One pass of the pack filter for both case modes.
    OnePass(OnePass),
    /// One [`KeywordIndex`] per case mode, each with the pack's number of each of its keywords.
    Separate(Vec<(KeywordIndex, Vec<usize>)>),
}

struct OnePass {
    filter: PackFilter,
    /// For each pattern of the filter (a minimal keyword of its case mode): the keywords found
    /// through it (see [`KeywordIndex`]'s `extensions`), by the byte next to it.
    extensions: Vec<Extensions>,
    /// Pattern lengths.
    lengths: Vec<usize>,
    /// All keywords, lower-case where folded, and whether folded.
    keywords: Vec<(Vec<u8>, bool)>,
}

/// The keywords found through one pattern, by the bytes they add to it, so that a match of the
/// pattern compares only those whose added bytes are the input's (the pattern `key` has 175
/// extensions in the default pack, 123 of them with `_` before it: with only the byte next to the
/// pattern told apart, each `_key` in the input compared all 123, most of the pass's time).
#[derive(Default)]
struct Extensions {
    /// Whether the pattern (and so every keyword here) is folded.
    folded: bool,
    /// The keyword that is the pattern itself.
    whole: Option<usize>,
    /// Keywords that start with the pattern, by their bytes after it.
    after: Fan,
    /// Keywords with the pattern some bytes in, by their bytes before it, read backwards from
    /// the pattern.
    before: Fan,
}

impl Extensions {
    fn new(
        pattern_len: usize,
        folded: bool,
        found: &[(usize, usize)],
        keywords: &[(Vec<u8>, bool)],
    ) -> Self {
        let (mut after, mut before) = (Vec::new(), Vec::new());
        let mut whole = None;
        for &(k, off) in found {
            let kw = &keywords[k].0;
            if off > 0 {
                before.push((kw[..off].iter().rev().copied().collect(), k, off));
            } else if kw.len() > pattern_len {
                after.push((kw[pattern_len..].to_vec(), k, 0));
            } else {
                whole = Some(k);
            }
        }
        Extensions {
            folded,
            whole,
            after: Fan::new(after),
            before: Fan::new(before),
        }
    }
}

/// Keywords that extend a pattern on one side, in a trie of the bytes they add on that side
/// (read away from the pattern), so that the input's bytes narrow them down a byte at a time.
/// A node's children are adjacent nodes, and their bytes adjacent in [`Fan::labels`]: a step is
/// a short scan of a few bytes (`key` has 123 keywords with `_` before it; a binary search of
/// sorted keywords per byte, two per step with a load of the keyword's bytes behind each probe,
/// cost 340 instructions a walk, 18% of the one pass over crate sources).
#[derive(Default)]
struct Fan {
    /// The root (no byte read yet) first, if any keyword is here.
    nodes: Vec<FanNode>,
    /// For each node, the byte that leads to it from its parent (the root's is unused).
    labels: Vec<u8>,
    /// The keywords that end at each node: (keyword, how many bytes before the pattern it
    /// starts).
    ends: Vec<(u32, u32)>,
}

#[derive(Clone, Copy, Default)]
struct FanNode {
    /// The node's children are `first_child..first_child + children`.
    first_child: u32,
    children: u32,
    /// The keywords that add exactly the bytes on the way to this node:
    /// `ends[ends_from..ends_to]`.
    ends_from: u32,
    ends_to: u32,
}

impl Fan {
    /// `side`: (added bytes, in the order they are read away from the pattern; keyword; how many
    /// bytes before the pattern it starts).
    fn new(mut side: Vec<(Vec<u8>, usize, usize)>) -> Fan {
        side.sort_unstable();
        let mut fan = Fan::default();
        if side.is_empty() {
            return fan;
        }
        fan.nodes.push(FanNode::default());
        fan.labels.push(0);
        // Breadth first, so that each node's children are created one after the other:
        // (node, the sorted entries `side[lo..hi]` under it, its depth).
        let mut queue = std::collections::VecDeque::from([(0, 0, side.len(), 0)]);
        while let Some((node, mut lo, hi, depth)) = queue.pop_front() {
            // The entries here all add the `depth` bytes on the way to the node; those that add
            // no more sort first, then the others by their next byte.
            let ends_from = fan.ends.len() as u32;
            while lo < hi && side[lo].0.len() == depth {
                fan.ends.push((side[lo].1 as u32, side[lo].2 as u32));
                lo += 1;
            }
            let first_child = fan.nodes.len() as u32;
            while lo < hi {
                let byte = side[lo].0[depth];
                let next = lo + side[lo..hi].partition_point(|e| e.0[depth] == byte);
                queue.push_back((fan.nodes.len(), lo, next, depth + 1));
                fan.nodes.push(FanNode::default());
                fan.labels.push(byte);
                lo = next;
            }
            fan.nodes[node] = FanNode {
                first_child,
                children: fan.nodes.len() as u32 - first_child,
                ends_from,
                ends_to: fan.ends.len() as u32,
            };
        }
        fan
    }

    /// Whether no keyword extends the pattern on this side.
    fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Calls `found(keyword, back)` for every keyword whose added bytes the input has: `next(d)`
    /// is the input's byte `d` away from the pattern (as the keywords hold it), `None` past the
    /// input's end. Keywords that add fewer bytes come first.
    fn walk(&self, next: impl Fn(usize) -> Option<u8>, mut found: impl FnMut(usize, usize)) {
        let Some(mut node) = self.nodes.first() else {
            return;
        };
        let mut depth = 0;
        loop {
            for &(keyword, back) in &self.ends[node.ends_from as usize..node.ends_to as usize] {
                found(keyword as usize, back as usize);
            }
            if node.children == 0 {
                return;
            }
            let Some(b) = next(depth) else {
                return;
            };
            let first = node.first_child as usize;
            let labels = &self.labels[first..first + node.children as usize];
            // Children in order of their bytes: a binary search where there are many (the
            // bytes before `key`).
            let i = if labels.len() > 8 {
                labels.binary_search(&b).ok()
            } else {
                labels.iter().position(|&l| l == b)
            };
            let Some(i) = i else {
                return;
            };
            node = &self.nodes[first + i];
            depth += 1;
        }
    }
}

impl PackIndex {
    /// `keywords` must be distinct; folded ones lower-case. Empty keywords are never found.
    /// Searches them in one pass of a `PackFilter` or with one [`KeywordIndex`] per case mode,
    /// whichever costs less by the measured cost model.
    pub fn new(keywords: &[PackKeyword]) -> PackIndex {
        PackIndex::build(keywords, None)
    }

    /// [`PackIndex::new`], in one pass if `one_pass` (and every minimal keyword is 3 bytes or
    /// longer, as the filter needs), else with one index per case mode: benchmarks and tests
    /// compare the two.
    pub fn with_one_pass(keywords: &[PackKeyword], one_pass: bool) -> PackIndex {
        PackIndex::build(keywords, Some(one_pass))
    }

    /// Whether the keywords are searched in one pass.
    pub fn is_one_pass(&self) -> bool {
        matches!(self.search, PackSearch::OnePass(_))
    }

    fn build(keywords: &[PackKeyword], one_pass: Option<bool>) -> PackIndex {
        // Each case mode's keywords, with their numbers in the pack.
        let modes: Vec<(bool, Vec<Vec<u8>>, Vec<usize>)> = [true, false]
            .into_iter()
            .map(|fold| {
                let (numbers, kws): (Vec<usize>, Vec<Vec<u8>>) = keywords
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, f))| *f == fold)
                    .map(|(k, (kw, _))| (k, kw.as_bytes().to_vec()))
                    .unzip();
                (fold, kws, numbers)
            })
            .filter(|(_, kws, _)| !kws.is_empty())
            .collect();
        let minimal: Vec<Vec<usize>> = modes
            .iter()
            .map(|(_, kws, _)| minimal_patterns(kws))
            .collect();
        let lengths =
            |m: usize| -> Vec<usize> { minimal[m].iter().map(|&p| modes[m].1[p].len()).collect() };
        let possible = (0..modes.len()).all(|m| lengths(m).iter().all(|&l| l >= 3))
            && minimal.iter().any(|m| !m.is_empty());
        let one_pass = possible
            && one_pass.unwrap_or_else(|| {
                let separate: f64 = (0..modes.len())
                    .map(|m| split_cost(&lengths(m)).0 + if modes[m].0 { LOWER_COST } else { 0.0 })
                    .sum();
                ONE_PASS_COST < separate
            });
        if !one_pass {
            let indexes = modes
                .into_iter()
                .map(|(fold, kws, numbers)| {
                    let kws: Vec<String> = kws
                        .into_iter()
                        .map(|k| String::from_utf8(k).expect("keywords are strings"))
                        .collect();
                    (KeywordIndex::new(&kws, fold), numbers)
                })
                .collect();
            return PackIndex {
                search: PackSearch::Separate(indexes),
            };
        }
        let all: Vec<(Vec<u8>, bool)> = keywords
            .iter()
            .map(|(k, f)| (k.as_bytes().to_vec(), *f))
            .collect();
        let mut patterns: Vec<(&[u8], bool)> = Vec::new();
        let mut extensions = Vec::new();
        for (m, (fold, kws, numbers)) in modes.iter().enumerate() {
            let mut local = vec![Vec::new(); minimal[m].len()];
            extend(kws, &minimal[m], 0, &mut local);
            extensions.extend(local.into_iter().zip(&minimal[m]).map(|(ext, &p)| {
                let found: Vec<(usize, usize)> =
                    ext.into_iter().map(|(k, off)| (numbers[k], off)).collect();
                Extensions::new(kws[p].len(), *fold, &found, &all)
            }));
            patterns.extend(minimal[m].iter().map(|&p| (kws[p].as_slice(), *fold)));
        }
        let lengths = patterns.iter().map(|(p, _)| p.len()).collect();
        PackIndex {
            search: PackSearch::OnePass(OnePass {
                filter: PackFilter::new(&patterns),
                extensions,
                lengths,
                keywords: all,
            }),
        }
    }

    /// The same index, with its filters' scalar loops only (tests compare the two).
    #[cfg(test)]
    fn scalar(mut self) -> PackIndex {
        self.search = match self.search {
            PackSearch::OnePass(mut p) => {
                p.filter = p.filter.scalar();
                PackSearch::OnePass(p)
            }
            PackSearch::Separate(indexes) => PackSearch::Separate(
                indexes
                    .into_iter()
                    .map(|(index, numbers)| (index.scalar(), numbers))
                    .collect(),
            ),
        };
        self
    }

    /// Calls `hit(keyword, range)` for every occurrence of every keyword in `data` (overlapping
    /// ones too), each once. In one pass, hits come nearly in order of position; with an index
    /// per case mode, one index's after the other's: callers that need them in order sort them.
    pub fn for_each_hit(&self, data: &[u8], mut hit: impl FnMut(usize, Range<usize>)) {
        let p = match &self.search {
            PackSearch::OnePass(p) => p,
            PackSearch::Separate(indexes) => {
                for (index, numbers) in indexes {
                    index.for_each_hit(data, |k, r| hit(numbers[k], r));
                }
                return;
            }
        };
        p.filter.for_each_match(data, |m, s| {
            let ext = &p.extensions[m];
            let len = p.lengths[m];
            if let Some(k) = ext.whole {
                hit(k, s..s + len);
            }
            // A byte next to the match, as the keywords of its case mode hold it.
            let norm = |b: u8| {
                if ext.folded {
                    b.to_ascii_lowercase()
                } else {
                    b
                }
            };
            if !ext.after.is_empty() {
                ext.after.walk(
                    |d| data.get(s + len + d).map(|&b| norm(b)),
                    |k, _| p.check(data, k, s, &mut hit),
                );
            }
            if !ext.before.is_empty() {
                ext.before.walk(
                    |d| (d < s).then(|| norm(data[s - 1 - d])),
                    |k, back| p.check(data, k, s - back, &mut hit),
                );
            }
        });
    }
}

impl OnePass {
    /// Calls `hit` if keyword `k` is at `start` (first and last bytes first, then the whole:
    /// `equal`).
    fn check(
        &self,
        data: &[u8],
        k: usize,
        start: usize,
        hit: &mut impl FnMut(usize, Range<usize>),
    ) {
        let (kw, folded) = &self.keywords[k];
        let Some(here) = data.get(start..start + kw.len()) else {
            return;
        };
        if equal(here, kw, *folded) {
            hit(k, start..start + kw.len());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where `needle` first occurs in `hay`, by comparing at each offset.
    fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
        (0..(hay.len() + 1).saturating_sub(needle.len())).find(|&at| hay[at..].starts_with(needle))
    }

    /// `minimal_patterns` and `extend` give what comparing every pair of keywords gives.
    #[test]
    fn minimal_patterns_and_extensions_match_a_comparison_of_every_pair() {
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        for round in 0..300 {
            let alphabet: &[u8] = if round % 2 == 0 { b"ab" } else { b"abc_" };
            let mut keywords: Vec<Vec<u8>> = Vec::new();
            for _ in 0..rng.below(30) {
                let len = rng.below(7);
                let kw = rng.text(alphabet, len);
                if !keywords.contains(&kw) {
                    keywords.push(kw);
                }
            }
            let want_minimal: Vec<usize> = (0..keywords.len())
                .filter(|&i| {
                    !keywords[i].is_empty()
                        && !(0..keywords.len()).any(|j| {
                            j != i
                                && !keywords[j].is_empty()
                                && keywords[j].len() < keywords[i].len()
                                && find(&keywords[i], &keywords[j]).is_some()
                        })
                })
                .collect();
            let mut minimal = minimal_patterns(&keywords);
            assert_eq!(minimal, want_minimal, "round {round}: {keywords:?}");
            // Any order of the minimal patterns: the first one a keyword contains takes it.
            minimal.reverse();
            let mut want = vec![Vec::new(); minimal.len()];
            for (k, kw) in keywords.iter().enumerate() {
                if let Some((m, off)) = minimal
                    .iter()
                    .enumerate()
                    .find_map(|(m, &mk)| find(kw, &keywords[mk]).map(|off| (m, off)))
                {
                    want[m].push((7 + k, off));
                }
            }
            let mut got = vec![Vec::new(); minimal.len()];
            extend(&keywords, &minimal, 7, &mut got);
            assert_eq!(
                got, want,
                "round {round}: {keywords:?}, minimal {minimal:?}"
            );
        }
    }

    fn hits(kws: &[&str], data: &str) -> Vec<(String, Range<usize>)> {
        let kws: Vec<String> = kws.iter().map(|s| s.to_string()).collect();
        let idx = KeywordIndex::new(&kws, true);
        let mut out = Vec::new();
        idx.for_each_hit(data.as_bytes(), |k, r| out.push((kws[k].clone(), r)));
        out.sort_by_key(|(k, r)| (r.start, k.clone()));
        out
    }

    #[test]
    fn longer_keywords_are_found_through_the_shorter_one() {
        let h = hits(
            &["secret", "aws_secret", "secret_access_key", "token"],
            "AWS_SECRET_ACCESS_KEY = x; Token",
        );
        let names: Vec<&str> = h.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            ["aws_secret", "secret", "secret_access_key", "token"]
        );
        assert_eq!(h[0].1, 0..10);
        assert_eq!(h[2].1, 4..21);
    }

    #[test]
    fn keywords_across_chunk_edges_are_found_once() {
        let mut data = "x".repeat(CHUNK - 5);
        data.push_str("AWS_SECRET_here");
        data.push_str(&"y".repeat(CHUNK));
        data.push_str("sk_live_");
        let h = hits(&["secret", "aws_secret", "sk_live_"], &data);
        let names: Vec<&str> = h.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["aws_secret", "secret", "sk_live_"]);
        assert_eq!(h[0].1.start, CHUNK - 5);
    }

    #[test]
    fn an_exact_index_matches_case() {
        let kws: Vec<String> = ["AKIA", "ghp_", "KIA"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let idx = KeywordIndex::new(&kws, false);
        let mut out = Vec::new();
        idx.for_each_hit(b"akia AKIA Ghp_ ghp_ kia", |k, r| out.push((k, r)));
        out.sort_by_key(|(k, r)| (r.start, *k));
        assert_eq!(out, [(0, 5..9), (2, 6..9), (1, 15..19)]);
    }

    pub(super) use crate::test_rng::Rng;

    /// Chooses the gram filter's share of the patterns (see `KeywordIndex::with_split`).
    type Split = fn(&[usize]) -> Option<usize>;

    /// Every occurrence of every keyword, overlapping ones too, by trying each at each offset.
    fn naive(keywords: &[String], data: &[u8], fold: bool) -> Vec<(usize, Range<usize>)> {
        let pack: Vec<PackKeyword> = keywords.iter().map(|k| (k.clone(), fold)).collect();
        naive_pack(&pack, data)
    }

    #[test]
    fn every_occurrence_is_found_once_whichever_searcher_runs() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for round in 0..80 {
            let fold = round % 2 == 0;
            // Few letters, so that keywords overlap, extend each other and occur often; two
            // letters, so that long ones do too.
            let alphabet: &[u8] = if round % 3 == 0 { b"aB" } else { b"abcAB_-" };
            let mut keywords: Vec<String> = Vec::new();
            let count = 1 + rng.below(40);
            while keywords.len() < count {
                let len = 1 + rng.below(12);
                let mut kw = rng.text(alphabet, len);
                // Some keywords extend another on either side.
                if !keywords.is_empty() && rng.below(3) == 0 {
                    let base = keywords[rng.below(keywords.len())].clone().into_bytes();
                    let pad_len = 1 + rng.below(3);
                    let pad = rng.text(alphabet, pad_len);
                    kw = if rng.below(2) == 0 {
                        [base, pad].concat()
                    } else {
                        [pad, base].concat()
                    };
                }
                let mut kw = String::from_utf8(kw).unwrap();
                if fold {
                    kw.make_ascii_lowercase();
                }
                if !keywords.contains(&kw) {
                    keywords.push(kw);
                }
            }
            // Sometimes longer than a chunk, so that keywords straddle chunk edges.
            let len = if round % 5 == 0 {
                CHUNK + 1 + rng.below(CHUNK)
            } else {
                rng.below(3000)
            };
            let data = rng.text(alphabet, len);
            let mut want = naive(&keywords, &data, fold);
            want.sort_by_key(|(k, r)| (r.start, *k));
            let splits: [Split; 4] = [|_| None, |_| Some(4), |_| Some(6), gram_split];
            for (s, split) in splits.into_iter().enumerate() {
                for scalar in [false, true] {
                    let mut index = KeywordIndex::with_split(&keywords, fold, split);
                    if scalar {
                        index = index.scalar();
                    }
                    let mut got = Vec::new();
                    index.for_each_hit(&data, |k, r| got.push((k, r)));
                    got.sort_by_key(|(k, r)| (r.start, *k));
                    assert!(
                        got == want,
                        "round {round}, split {s}, scalar {scalar}, fold {fold}, keywords \
                         {keywords:?}: {} hits, want {}",
                        got.len(),
                        want.len()
                    );
                }
            }
        }
    }

    /// Every occurrence of every keyword of a pack, folded or exact, by trying each at each
    /// offset.
    fn naive_pack(keywords: &[PackKeyword], data: &[u8]) -> Vec<(usize, Range<usize>)> {
        let mut out = Vec::new();
        for at in 0..data.len() {
            for (k, (kw, fold)) in keywords.iter().enumerate() {
                let Some(here) = data.get(at..at + kw.len()) else {
                    continue;
                };
                let equal = if *fold {
                    here.eq_ignore_ascii_case(kw.as_bytes())
                } else {
                    here == kw.as_bytes()
                };
                if !kw.is_empty() && equal {
                    out.push((k, at..at + kw.len()));
                }
            }
        }
        out
    }

    #[test]
    fn a_pack_finds_every_occurrence_once_in_one_pass_or_two() {
        let mut rng = Rng(0xD1B5_4A32_D192_ED03);
        for round in 0..120 {
            // Few letters, so that keywords overlap, extend each other and occur often; bytes
            // that fold alike with `| 0x20` (`_` and DEL, `@` and backtick) and non-ASCII ones.
            let alphabet: &[u8] = match round % 3 {
                0 => b"aB",
                1 => b"abcAB_\x7f",
                _ => b"aAbB@`\xc3\xa9-",
            };
            let text = |rng: &mut Rng, len: usize| -> String {
                // Keywords are strings: non-ASCII bytes in them come as whole characters.
                String::from_utf8_lossy(&rng.text(alphabet, len)).into_owned()
            };
            let mut keywords: Vec<PackKeyword> = Vec::new();
            let count = 1 + rng.below(40);
            // Mostly 3 bytes or more, as the one pass needs; some rounds with shorter ones.
            let shortest = if round % 7 == 0 { 1 } else { 3 };
            while keywords.len() < count {
                let len = shortest + rng.below(10);
                let mut kw = text(&mut rng, len);
                // Some keywords extend another on either side, or are another in the other case
                // mode.
                if !keywords.is_empty() && rng.below(3) == 0 {
                    let base = keywords[rng.below(keywords.len())].0.clone();
                    let pad_len = 1 + rng.below(3);
                    let pad = text(&mut rng, pad_len);
                    kw = match rng.below(3) {
                        0 => base + &pad,
                        1 => pad + &base,
                        _ => base,
                    };
                }
                let fold = rng.below(2) == 0;
                if fold {
                    kw.make_ascii_lowercase();
                }
                if kw.len() >= shortest && !keywords.contains(&(kw.clone(), fold)) {
                    keywords.push((kw, fold));
                }
            }
            let len = rng.below(3000);
            let mut data = rng.text(alphabet, len);
            // Keywords planted at both ends, in either case, so that the last positions count.
            for end in [false, true] {
                let (kw, _) = &keywords[rng.below(keywords.len())];
                let kw = if rng.below(2) == 0 {
                    kw.to_ascii_uppercase()
                } else {
                    kw.clone()
                };
                if kw.len() <= data.len() {
                    let at = if end { data.len() - kw.len() } else { 0 };
                    data[at..at + kw.len()].copy_from_slice(kw.as_bytes());
                }
            }
            let mut want = naive_pack(&keywords, &data);
            want.sort_by_key(|(k, r)| (r.start, *k));
            let mut one_pass_ran = false;
            for one_pass in [true, false] {
                for scalar in [false, true] {
                    let mut index = PackIndex::with_one_pass(&keywords, one_pass);
                    one_pass_ran |= index.is_one_pass();
                    if scalar {
                        index = index.scalar();
                    }
                    let mut got = Vec::new();
                    index.for_each_hit(&data, |k, r| got.push((k, r)));
                    got.sort_by_key(|(k, r)| (r.start, *k));
                    assert!(
                        got == want,
                        "round {round}, one pass {one_pass}, scalar {scalar}, keywords \
                         {keywords:?}: {} hits, want {}",
                        got.len(),
                        want.len()
                    );
                }
            }
            // One pass where every keyword is 3 bytes or longer (non-ASCII bytes in keywords
            // may make a 1-byte draw 3 bytes long).
            let long = keywords.iter().all(|(k, _)| k.len() >= 3);
            assert_eq!(one_pass_ran, long, "round {round}: {keywords:?}");
        }
    }

    #[test]
    fn a_fan_walk_finds_exactly_the_keywords_whose_added_bytes_the_input_has() {
        // Random added bytes over few letters, so that they share prefixes, are each other's
        // prefixes and branch at every depth; inputs that stop early (`None`) too.
        let mut rng = Rng(0x6A09_E667_F3BC_C908);
        for round in 0..400 {
            let alphabet: &[u8] = if round % 2 == 0 { b"ab" } else { b"abc_-" };
            let mut side: Vec<(Vec<u8>, usize, usize)> = Vec::new();
            for k in 0..rng.below(30) {
                let len = 1 + rng.below(6);
                let added = rng.text(alphabet, len);
                let back = rng.below(4);
                side.push((added, 100 + k, back));
            }
            let fan = Fan::new(side.clone());
            assert_eq!(fan.is_empty(), side.is_empty());
            let len = rng.below(8);
            let input = rng.text(alphabet, len);
            let mut got = Vec::new();
            fan.walk(|d| input.get(d).copied(), |k, back| got.push((k, back)));
            // Shorter added bytes first; among equal ones, any order.
            let mut want: Vec<(usize, usize, usize)> = side
                .iter()
                .filter(|(added, _, _)| input.starts_with(added))
                .map(|(added, k, back)| (added.len(), *k, *back))
                .collect();
            want.sort_unstable();
            let lengths: Vec<usize> = got.iter().map(|&(k, _)| side[k - 100].0.len()).collect();
            assert!(lengths.is_sorted(), "round {round}: {lengths:?}");
            got.sort_unstable();
            let mut want: Vec<(usize, usize)> = want.into_iter().map(|(_, k, b)| (k, b)).collect();
            want.sort_unstable();
            assert_eq!(got, want, "round {round}: {side:?} on {input:?}");
        }
    }

    #[test]
    fn keywords_that_extend_one_pattern_alike_are_told_apart_by_every_added_byte() {
        // Many keywords through `key`, sharing the byte next to it and more: prefixes that are
        // each other's ends (`a_key`, `ba_key`, `_key`), suffixes that are each other's starts
        // (`keyid`, `keyidx`), both sides at once (`x_key_y`), in both case modes.
        let folded = [
            "key", "_key", "a_key", "ba_key", "cba_key", "b_key", "keyid", "keyidx", "keyring",
            "x_key_y", "x_key_z", "api-key",
        ];
        let mut pack: Vec<PackKeyword> = folded.iter().map(|k| (k.to_string(), true)).collect();
        pack.extend(["KEY", "B_KEY", "KEY_", "A_KEY_Q"].map(|k| (k.to_string(), false)));
        let data = b"a_keyB_KEYcba_KEYidx_key_yx_key_zX_KEY_Yba_key_keyring API-KEY_\
                     A_KEY_Q b_keyidX_KEY_ cba_Key ba_key";
        let mut want = naive_pack(&pack, data);
        want.sort_by_key(|(k, r)| (r.start, *k));
        for scalar in [false, true] {
            let mut index = PackIndex::with_one_pass(&pack, true);
            assert!(index.is_one_pass());
            if scalar {
                index = index.scalar();
            }
            let mut got = Vec::new();
            index.for_each_hit(data, |k, r| got.push((k, r)));
            got.sort_by_key(|(k, r)| (r.start, *k));
            assert_eq!(got, want, "scalar {scalar}");
        }
        // Every keyword is there at least once, so none is found through another's entry only.
        for (k, kw) in pack.iter().enumerate() {
            assert!(want.iter().any(|(w, _)| *w == k), "{kw:?} not in the input");
        }
    }

    #[test]
    fn the_default_packs_shape_is_searched_in_one_pass_a_few_keywords_with_teddy() {
        let pack = |folded: &[&str], exact: &[&str]| -> Vec<PackKeyword> {
            let mut all: Vec<PackKeyword> = folded.iter().map(|k| (k.to_string(), true)).collect();
            all.extend(exact.iter().map(|k| (k.to_string(), false)));
            all
        };
        assert!(!PackIndex::new(&pack(&["password", "secret"], &["AKIA"])).is_one_pass());
        // Five folded Teddy groups and ten exact ones, as in the default pack.
        let many: Vec<String> = (0..240).map(|i| format!("k{i:03}x")).collect();
        let (f, e) = many.split_at(80);
        let f: Vec<&str> = f.iter().map(String::as_str).collect();
        let e: Vec<&str> = e.iter().map(|s| s.as_str()).collect();
        let e: Vec<String> = e.iter().map(|s| s.to_uppercase()).collect();
        let e: Vec<&str> = e.iter().map(String::as_str).collect();
        assert!(PackIndex::new(&pack(&f, &e)).is_one_pass());
        // A keyword shorter than 3 bytes: never one pass.
        assert!(!PackIndex::with_one_pass(&pack(&f, &["ab"]), true).is_one_pass());
    }

    #[test]
    fn many_long_keywords_go_to_the_gram_filter_few_to_teddy() {
        // The default pack's shapes: a few dozen keywords, 3 to 10 bytes.
        assert_eq!(gram_split(&[3, 3, 4, 5, 6, 8, 10].repeat(8)), None);
        // Hundreds of 5-byte prefixes beside a few short ones: one Teddy group and a filter
        // of stride 2.
        let mut lengths = vec![3, 4, 4];
        lengths.extend([5; 200]);
        assert_eq!(gram_split(&lengths), Some(5));
    }

    #[test]
    fn short_keywords_fall_back_to_the_automaton() {
        let h = hits(&["ab", "xyz"], "..AB..xYz..ab");
        assert_eq!(h.len(), 3);
    }
}
