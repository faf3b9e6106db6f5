//! The keyword prefilter: where in a buffer does any rule's keyword occur?
//!
//! An index matches its keywords either ASCII-case-insensitively (folded) or exactly; the matcher
//! keeps one of each, since a rule chooses (`case_sensitive_keywords`). These choices make it fast:
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
//!   and the three-byte patterns in groups of their own. The cost grows with the number of
//!   groups (each pass runs near 18 GB/s when it finds little), which is what makes a large
//!   rule pack cost more (`bench/rules-scale.sh`).

use std::ops::Range;

use aho_corasick::packed;
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

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
    /// Searchers over groups of the minimal patterns: pattern `i` of group `g` is minimal pattern
    /// `g * GROUP + i`.
    groups: Vec<Searcher>,
    /// For each searched (minimal) pattern: the keywords that contain it, with its offset in each.
    /// A minimal keyword lists itself at offset 0.
    extensions: Vec<Vec<(usize, usize)>>,
    /// All keywords: lower-case if `fold`.
    keywords: Vec<Vec<u8>>,
    longest: usize,
    /// Whether the input is lower-cased before it is searched.
    fold: bool,
}

impl KeywordIndex {
    /// `keywords` must be distinct, and lower-case if `fold` (matched ASCII-case-insensitively);
    /// otherwise they are matched exactly.
    pub fn new(keywords: &[String], fold: bool) -> KeywordIndex {
        let keywords: Vec<Vec<u8>> = keywords.iter().map(|k| k.as_bytes().to_vec()).collect();
        // Where `needle` occurs in `hay`. Keywords are short and this runs for every pair of
        // them, so a plain comparison at each offset: a `memmem` searcher built per pair was a
        // sixth of start-up with a few hundred keywords.
        let contains = |hay: &[u8], needle: &[u8]| {
            (0..(hay.len() + 1).saturating_sub(needle.len()))
                .filter(move |&at| hay[at..].starts_with(needle))
                .collect::<Vec<_>>()
        };
        let mut minimal: Vec<usize> = (0..keywords.len())
            .filter(|&i| {
                !(0..keywords.len()).any(|j| {
                    j != i
                        && !keywords[j].is_empty()
                        && keywords[j].len() < keywords[i].len()
                        && keywords[i]
                            .windows(keywords[j].len())
                            .any(|w| w == keywords[j])
                })
            })
            .collect();
        // Three-byte patterns first, together: Teddy fingerprints the first min(4, shortest)
        // bytes of a group's patterns, so one short pattern in a group blurs the whole group's
        // filter (measured on 134 MB of crate sources, default pack: 179 ms of CPU sorted by
        // bytes alone, 143 ms with the short patterns in groups of their own).
        minimal.sort_by(|&a, &b| {
            let key = |k: usize| (keywords[k].len() >= 4, &keywords[k]);
            key(a).cmp(&key(b))
        });
        let extensions = minimal
            .iter()
            .map(|&m| {
                let mut ext = Vec::new();
                for (k, kw) in keywords.iter().enumerate() {
                    for off in contains(kw, &keywords[m]) {
                        ext.push((k, off));
                    }
                }
                ext
            })
            .collect();
        let patterns: Vec<&[u8]> = minimal.iter().map(|&m| keywords[m].as_slice()).collect();
        let groups = patterns.chunks(GROUP).map(Searcher::new).collect();
        let longest = keywords.iter().map(Vec::len).max().unwrap_or(0);
        KeywordIndex {
            groups,
            extensions,
            keywords,
            longest,
            fold,
        }
    }

    /// Calls `hit(keyword, range)` for every occurrence of every keyword in `data`, in order of
    /// the searched pattern's position.
    pub fn for_each_hit(&self, data: &[u8], mut hit: impl FnMut(usize, Range<usize>)) {
        if self.groups.is_empty() {
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
        // Per group: where the last accepted match ended, so a match found again from the next
        // chunk's context is not reported twice.
        let mut last_end = vec![0; self.groups.len()];
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
            for (g, searcher) in self.groups.iter().enumerate() {
                let mut at = pos - from;
                while let Some((p, s, e)) = searcher.find(hay, at) {
                    let (start, stop) = (from + s, from + e);
                    if start >= end {
                        break;
                    }
                    at = e;
                    if start < last_end[g] {
                        continue;
                    }
                    last_end[g] = stop;
                    for &(k, off) in &self.extensions[g * GROUP + p] {
                        let kw = &self.keywords[k];
                        if off > s || s - off + kw.len() > hay.len() {
                            continue;
                        }
                        let ks = s - off;
                        if (off == 0 && kw.len() == e - s) || hay[ks..ks + kw.len()] == kw[..] {
                            hit(k, from + ks..from + ks + kw.len());
                        }
                    }
                }
            }
            pos = end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn short_keywords_fall_back_to_the_automaton() {
        let h = hits(&["ab", "xyz"], "..AB..xYz..ab");
        assert_eq!(h.len(), 3);
    }
}
