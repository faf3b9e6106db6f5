//! The matching backend: from bytes to candidate regex matches, per rule.
//!
//! This is the one place that knows how rules are run, so that another backend (a Hyperscan-class
//! engine, say) could replace it without touching filters, findings or reports.
//!
//! The pure-Rust backend works in two steps. A keyword search ([`PackIndex`], over every rule's
//! keywords: matched exactly for rules with `case_sensitive_keywords`, ASCII-case-insensitively
//! for the others, in one pass where that pays) finds which rules can match at all and where. Each candidate rule's
//! regex then runs only on the lines around its keyword hits (a multi-line rule: on a window of
//! its `multiline_reach` bytes either side of each hit), or over the whole buffer when its hits
//! cover most of the buffer anyway. Most input contains no keyword
//! of most rules, so most regexes never run; generic rules whose keywords are common words run on
//! a few lines instead of on everything. Measured on 134 MB of crate sources with the default
//! pack (hyperfine, 15 runs, 2 threads): 190 ms with windows, 365 ms running each candidate rule
//! over the whole file.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::Range;
use std::time::Instant;

use regex_automata::{Input, util::captures::Captures};

use super::prefilter::{PackIndex, PackKeyword};
use super::stats::{RuleCounters, ScanStats};
use crate::rules::{Rule, RuleIdx, RuleSet, Shape};

/// A regex match of one rule, before any filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMatch {
    pub rule: RuleIdx,
    /// The whole regex match.
    pub span: Range<usize>,
    /// The `secret` group.
    pub secret: Range<usize>,
}

/// Lines longer than this (minified code, data files) are not taken whole as a window: the window
/// is cut to [`LONG_LINE_REACH`] bytes either side of the keyword hit instead.
const LONG_LINE: usize = 4096;

/// A rule keeps at most one keyword hit per this many bytes of input (and at least
/// [`MIN_HITS`]); past that its regex runs over the whole buffer. All rules together keep at most
/// one hit per [`BYTES_PER_KEPT_HIT`] bytes (and at least [`MIN_KEPT_HITS`]): a rule whose hit
/// would go past that also runs over the whole buffer. This bounds the hit lists at a small
/// fraction of the buffer (16 bytes per hit), whatever the input: 64 MiB of `token=` lines would
/// otherwise make tens of millions of hits per rule.
///
/// Source code holds a generic rule's keyword (`token`, `secret`) about once a kilobyte: the cap
/// must leave such text windowed, since a generic regex over a whole buffer runs at a tenth of
/// the speed of the keyword search (a 20 MB file of crate sources took 5x the time of the same
/// sources as small files when the cap was one hit per 4 KiB).
const HITS_PER_BYTES: usize = 256;
const MIN_HITS: usize = 1024;
const BYTES_PER_KEPT_HIT: usize = 128;
const MIN_KEPT_HITS: usize = 8192;
const LONG_LINE_REACH: usize = 1024;

/// A search over at least this many bytes uses the rule's regex with literal prefilters
/// ([`crate::rules::RuleRegex::get_wide`]).
const WIDE_SEARCH: usize = 64 << 10;

/// The keyword index of the whole pack and, for each of its keywords, the rules that listed it.
struct Keywords {
    index: PackIndex,
    rules: Vec<Vec<RuleIdx>>,
}

impl Keywords {
    /// The index over every rule's keywords: matched exactly for rules with
    /// `case_sensitive_keywords`, ASCII-case-insensitively for the others.
    fn new(rules: &RuleSet) -> Keywords {
        let mut patterns: Vec<PackKeyword> = Vec::new();
        let mut keyword_rules: Vec<Vec<RuleIdx>> = Vec::new();
        // Each keyword's place in `patterns`: a linear search per keyword made this quadratic in
        // the pack's size.
        let mut position: HashMap<(&str, bool), usize> = HashMap::new();
        for (i, rule) in rules.rules().iter().enumerate() {
            let idx = RuleIdx(i as u32);
            let fold = !rule.case_sensitive_keywords;
            for k in &rule.keywords {
                match position.get(&(k.as_str(), fold)) {
                    Some(&p) => keyword_rules[p].push(idx),
                    None => {
                        position.insert((k, fold), patterns.len());
                        patterns.push((k.clone(), fold));
                        keyword_rules.push(vec![idx]);
                    }
                }
            }
        }
        Keywords {
            index: PackIndex::new(&patterns),
            rules: keyword_rules,
        }
    }
}

pub struct Matcher {
    /// Every rule's keywords, folded and exact, searched together.
    keywords: Keywords,
    /// Rules with no keywords: they run on every input.
    unconditional: Vec<RuleIdx>,
    rule_count: usize,
}

impl Matcher {
    pub fn new(rules: &RuleSet) -> Matcher {
        let unconditional = (0..rules.len())
            .map(|i| RuleIdx(i as u32))
            .filter(|&i| rules.get(i).keywords.is_empty())
            .collect();
        Matcher {
            keywords: Keywords::new(rules),
            unconditional,
            rule_count: rules.len(),
        }
    }

    /// Appends to `out` every regex match of every rule for which `active` is true; counts into
    /// `stats` what each rule cost, if given (with `None`, no clock is read).
    pub fn find(
        &self,
        rules: &RuleSet,
        data: &[u8],
        active: &dyn Fn(RuleIdx) -> bool,
        out: &mut Vec<RawMatch>,
        stats: Option<&mut ScanStats>,
    ) {
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => self.find_with(&mut scratch, rules, data, active, out, stats),
            // Only if `active` itself scanned: that call gets space of its own.
            Err(_) => self.find_with(&mut Scratch::default(), rules, data, active, out, stats),
        })
    }

    /// [`Matcher::find`], in `scratch`.
    fn find_with(
        &self,
        scratch: &mut Scratch,
        rules: &RuleSet,
        data: &[u8],
        active: &dyn Fn(RuleIdx) -> bool,
        out: &mut Vec<RawMatch>,
        mut stats: Option<&mut ScanStats>,
    ) {
        let prefilter_started = stats.is_some().then(Instant::now);
        // Keyword hits, grouped by rule, each group in input order. A rule with more hits than
        // `HITS_PER_BYTES` allows (a keyword on every line of a large file) runs over the whole
        // buffer: its hits are dropped rather than kept by the million.
        let max_hits = (data.len() / HITS_PER_BYTES).max(MIN_HITS);
        let mut budget = (data.len() / BYTES_PER_KEPT_HIT).max(MIN_KEPT_HITS);
        scratch.reset(self.rule_count);
        // `touched`: the rules with a hit, so that the work per buffer after the keyword search
        // follows the rules that can match, not the size of the pack (most buffers hit a few
        // rules).
        let Scratch {
            whole,
            hits,
            touched,
            windows: rule_windows,
        } = scratch;
        let keywords = &self.keywords;
        keywords.index.for_each_hit(data, |k, range| {
            for &r in &keywords.rules[k] {
                if let Some(stats) = stats.as_deref_mut() {
                    stats.rule_mut(r).keyword_hits += 1;
                }
                let r = r.0 as usize;
                if whole[r] {
                    continue;
                }
                if hits[r].is_empty() {
                    touched.push(r);
                }
                if hits[r].len() >= max_hits || budget == 0 {
                    whole[r] = true;
                    budget += hits[r].len();
                    hits[r].clear();
                } else {
                    budget -= 1;
                    hits[r].push(range.clone());
                }
            }
        });
        if let (Some(stats), Some(started)) = (stats.as_deref_mut(), prefilter_started) {
            stats.prefilter += started.elapsed();
        }
        for idx in self.unconditional.iter().copied() {
            // Captures belong to one regex: another's may have fewer slots, and lose the secret.
            let mut locs: Option<Captures> = None;
            // A rule without keywords still needs the rarer bytes every match of its regex holds
            // (a quote, a colon): without them its regex is neither compiled nor run (a report
            // redacting a few short strings compiled every path-scoped rule for nothing).
            if active(idx)
                && shape_of(rules.get(idx), stats.as_deref_mut())
                    .is_some_and(|shape| shape.may_match_in(data, 0))
            {
                let counters = stats.as_deref_mut().map(|s| s.rule_mut(idx));
                run_regex(rules, idx, data, 0..data.len(), &mut locs, out, counters);
            }
        }
        // In rule order, as a walk over all rules would go.
        touched.sort_unstable();
        for &i in touched.iter() {
            let rule_hits = &mut hits[i];
            let idx = RuleIdx(i as u32);
            if !active(idx) {
                continue;
            }
            let mut locs: Option<Captures> = None;
            let rule = rules.get(idx);
            let Some(shape) = shape_of(rule, stats.as_deref_mut()) else {
                continue;
            };
            let mut counters = stats.as_deref_mut().map(|s| s.rule_mut(idx));
            // The windows around the hits, or none where the regex runs over the whole buffer:
            // hits on every line, or windows that would cover most of it anyway.
            let mut windowed = !whole[i] && {
                rule_hits.sort_unstable_by_key(|h| h.start);
                rule_windows_around(data, rule, rule_hits, rule_windows)
            };
            // A keyword on every line (`token_type=bearer` all over a log): where every match
            // needs a rarer string, the lines around that string are where to look instead.
            if !windowed
                && let Some(anchor) = &shape.anchor
                && anchor.find_all(data, max_hits, rule_hits)
            {
                if rule_hits.is_empty() {
                    continue;
                }
                windowed = rule_windows_around(data, rule, rule_hits, rule_windows);
            }
            if !windowed {
                if shape.may_match_in(data, 0) {
                    run_regex(rules, idx, data, 0..data.len(), &mut locs, out, counters);
                }
                continue;
            }
            // A multi-line rule's match may run past its window (see `search`): only the windows
            // of single-line rules hold all of any match in them.
            let check = !rule.multiline;
            for w in rule_windows.iter().cloned() {
                if check && !shape.may_match_in(&data[..w.end], w.start) {
                    continue;
                }
                let counters = counters.as_deref_mut();
                run_regex(rules, idx, data, w, &mut locs, out, counters);
            }
        }
    }
}

/// A thread's working space for [`Matcher::find`], kept from buffer to buffer: a directory walk
/// scans file after file and each encoded value in them, and space for every rule's hits made
/// afresh each time (for the default pack, two arrays of some 380 entries, allocated, zeroed and
/// freed per buffer) cost more than the keyword search of most small files.
#[derive(Default)]
struct Scratch {
    /// Per rule: its regex runs over the whole buffer (too many hits to keep).
    whole: Vec<bool>,
    /// Per rule: its keyword hits in the buffer.
    hits: Vec<Vec<Range<usize>>>,
    /// The rules with a hit, whose entries above are the only ones not empty.
    touched: Vec<usize>,
    /// The windows of the rule being run.
    windows: Vec<Range<usize>>,
}

/// A rule's hit list longer than this is not kept for the next buffer: what a thread keeps stays
/// small (a few kilobytes per rule at most) whatever it scanned.
const KEEP_HITS: usize = 256;

impl Scratch {
    /// Empties the space of the last buffer's rules and makes room for `rules` rules.
    fn reset(&mut self, rules: usize) {
        for r in self.touched.drain(..) {
            self.whole[r] = false;
            if self.hits[r].capacity() > KEEP_HITS {
                self.hits[r] = Vec::new();
            } else {
                self.hits[r].clear();
            }
        }
        if self.hits.len() < rules {
            self.hits.resize_with(rules, Vec::new);
            self.whole.resize(rules, false);
        }
        if self.windows.capacity() > KEEP_HITS {
            self.windows = Vec::new();
        }
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::default();
}

/// The rule's shape, with its regex compiled: both are built on a rule's first use, and the time
/// that takes goes to `stats.compile`, not to the rule's own time, which measures searching.
fn shape_of<'r>(rule: &'r Rule, stats: Option<&mut ScanStats>) -> Option<&'r Shape> {
    let Some(stats) = stats.filter(|_| !rule.is_compiled()) else {
        return rule.shape();
    };
    let started = Instant::now();
    let shape = rule.shape();
    rule.compiled_regex();
    stats.compile += started.elapsed();
    shape
}

/// Runs one rule's regex over `data[window]` and records each match with a non-empty secret;
/// counts the run, its matches and its time into `counters`, if given.
fn run_regex(
    rules: &RuleSet,
    idx: RuleIdx,
    data: &[u8],
    window: Range<usize>,
    locs: &mut Option<Captures>,
    out: &mut Vec<RawMatch>,
    counters: Option<&mut RuleCounters>,
) {
    match counters {
        None => search(rules, idx, data, window, locs, out),
        Some(c) => {
            let (started, before) = (Instant::now(), out.len());
            search(rules, idx, data, window, locs, out);
            c.time += started.elapsed();
            c.regex_runs += 1;
            c.matches += (out.len() - before) as u64;
        }
    }
}

/// The search of [`run_regex`].
fn search(
    rules: &RuleSet,
    idx: RuleIdx,
    data: &[u8],
    window: Range<usize>,
    locs: &mut Option<Captures>,
    out: &mut Vec<RawMatch>,
) {
    let rule = rules.get(idx);
    let (Some(shape), Some(plain)) = (rule.shape(), rule.compiled_regex()) else {
        return;
    };
    let wide = window.len() >= WIDE_SEARCH;
    let re = if wide {
        rule.regex.get_wide().unwrap_or(plain)
    } else {
        plain
    };
    // Captures belong to one regex: the wide one's are made for its search alone (rare).
    let mut own;
    let caps = if wide {
        own = re.create_captures();
        &mut own
    } else {
        locs.get_or_insert_with(|| re.create_captures())
    };
    let hay = &data[..window.end];
    let mut at = window.start;
    while at <= hay.len() {
        re.search_captures(&Input::new(hay).span(at..hay.len()), caps);
        let Some(m) = caps.get_match() else {
            break;
        };
        let mut span = m.range();
        if rule.multiline && span.end == hay.len() && hay.len() < data.len() {
            // The match runs into the window's edge and may go on past it (a greedy `[^\n]+`, a
            // PEM body longer than the reach): match again from its start on the rest of the
            // buffer, as the whole-buffer search this window replaces would have.
            re.search_captures(&Input::new(data).span(span.start..data.len()), caps);
            // No match there leaves no groups: nothing is recorded, as before.
            if let Some(full) = caps.get_match() {
                span = full.range();
            }
        }
        if let Some(secret) = caps.get_group(shape.secret_group)
            && secret.start < secret.end
        {
            out.push(RawMatch {
                rule: idx,
                span: span.clone(),
                secret: secret.range(),
            });
        }
        // An empty match must not loop forever.
        at = if span.end > span.start {
            span.end
        } else {
            span.end + 1
        };
    }
}

/// Puts into `out` the windows `rule`'s regex runs on around `hits` (sorted by start); whether
/// they cover at most half of `data` (if not, one search of the whole buffer costs less).
fn rule_windows_around(
    data: &[u8],
    rule: &Rule,
    hits: &[Range<usize>],
    out: &mut Vec<Range<usize>>,
) -> bool {
    if rule.multiline {
        reach_windows(data, hits, rule.multiline_reach, out);
    } else {
        windows(data, hits, out);
    }
    out.iter().map(|w| w.len()).sum::<usize>() * 2 <= data.len()
}

/// The windows a rule's regex runs on: the whole lines around each hit, merged where they touch
/// or are next to each other.
/// `hits` must be sorted by start. Into `out`, which is cleared first.
fn windows(data: &[u8], hits: &[Range<usize>], out: &mut Vec<Range<usize>>) {
    out.clear();
    for h in hits {
        if let Some(last) = out.last()
            && h.end <= last.end
        {
            continue;
        }
        let w = line_window(data, h.clone());
        match out.last_mut() {
            Some(last) if w.start <= last.end + 1 => last.end = last.end.max(w.end),
            _ => out.push(w),
        }
    }
}

/// The windows a multi-line rule's regex runs on: `reach` bytes either side of each hit (a cut
/// moved out of any token it falls in), merged where they overlap or touch. A PEM block whose
/// BEGIN and END lines both hold the keyword is found whole if it is at most twice `reach` long;
/// a match that runs into a window's edge is completed on the rest of the buffer ([`run_regex`]).
/// `hits` must be sorted by start. Into `out`, which is cleared first.
fn reach_windows(data: &[u8], hits: &[Range<usize>], reach: usize, out: &mut Vec<Range<usize>>) {
    out.clear();
    for h in hits {
        let start = token_start(data, h.start.saturating_sub(reach));
        let end = token_end(data, (h.end + reach).min(data.len()));
        match out.last_mut() {
            Some(last) if start <= last.end => last.end = last.end.max(end),
            _ => out.push(start..end),
        }
    }
}

fn line_window(data: &[u8], hit: Range<usize>) -> Range<usize> {
    let floor = hit.start.saturating_sub(LONG_LINE);
    let start = match memchr::memrchr(b'\n', &data[floor..hit.start]) {
        Some(p) => floor + p + 1,
        None if floor == 0 => 0,
        None => token_start(data, hit.start.saturating_sub(LONG_LINE_REACH)),
    };
    let ceil = (hit.end + LONG_LINE).min(data.len());
    let end = match memchr::memchr(b'\n', &data[hit.end..ceil]) {
        Some(p) => hit.end + p,
        None if ceil == data.len() => data.len(),
        None => token_end(data, (hit.end + LONG_LINE_REACH).min(data.len())),
    };
    start..end
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+' | b'/' | b'=' | b'.')
}

/// Moves a cut in a long line back so it does not fall inside a token.
fn token_start(data: &[u8], mut at: usize) -> usize {
    let limit = at.saturating_sub(256);
    while at > limit && is_token_byte(data[at - 1]) {
        at -= 1;
    }
    at
}

fn token_end(data: &[u8], mut at: usize) -> usize {
    let limit = (at + 256).min(data.len());
    while at < limit && is_token_byte(data[at]) {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each match's rule and secret, and each rule's count of regex runs, in one buffer.
    fn find_counted(set: &RuleSet, data: &[u8]) -> (Vec<(u32, Vec<u8>)>, Vec<u64>) {
        let mut out = Vec::new();
        let mut stats = ScanStats::default();
        Matcher::new(set).find(set, data, &|_| true, &mut out, Some(&mut stats));
        let secrets = out
            .into_iter()
            .map(|m| (m.rule.0, data[m.secret].to_vec()))
            .collect();
        let runs = (0..set.len())
            .map(|r| stats.rule(RuleIdx(r as u32)).regex_runs)
            .collect();
        (secrets, runs)
    }

    #[test]
    fn windows_are_whole_lines_and_merge() {
        let data = b"aa\nbb key cc\ndd key\nee\n";
        let mut w = Vec::new();
        // What an earlier call left is not kept.
        windows(data, &[0..2, 3..4], &mut w);
        windows(data, &[6..9, 16..19], &mut w);
        assert_eq!(w, vec![3..19]);
        assert_eq!(&data[w[0].clone()], b"bb key cc\ndd key");
    }

    #[test]
    fn multiline_windows_reach_both_ways_and_merge() {
        let mut data = vec![b' '; 100_000];
        data[10_000..10_003].copy_from_slice(b"key");
        data[12_000..12_003].copy_from_slice(b"key");
        data[90_000..90_003].copy_from_slice(b"key");
        let mut w = Vec::new();
        reach_windows(&data, &[50_000..50_003, 60_000..60_003], 10, &mut w);
        reach_windows(
            &data,
            &[10_000..10_003, 12_000..12_003, 90_000..90_003],
            4096,
            &mut w,
        );
        assert_eq!(
            w,
            vec![10_000 - 4096..12_003 + 4096, 90_000 - 4096..90_003 + 4096]
        );
    }

    #[test]
    fn a_multiline_rule_runs_near_its_hits_only() {
        let mut set = RuleSet::default();
        set.add_toml(
            "t.toml",
            "[[rule]]\nid='pem'\ndescription='d'\nseverity='error'\nmultiline=true\nmultiline_reach=64\n\
             case_sensitive_keywords=true\nkeywords=['BEGIN K']\n\
             regex='(?s)(?P<secret>-----BEGIN K-----.{8,}?-----END K-----)'\n",
        )
        .unwrap();
        let m = Matcher::new(&set);
        let find = |data: &[u8]| {
            let mut out = Vec::new();
            m.find(&set, data, &|_| true, &mut out, None);
            out.into_iter().map(|m| m.secret).collect::<Vec<_>>()
        };
        let block = "-----BEGIN K-----\nq8Zr2mPv7XwK\n-----END K-----";
        let mut data = " ".repeat(10_000);
        data.push_str(block);
        data.push_str(&" ".repeat(10_000));
        assert_eq!(find(data.as_bytes()), vec![10_000..10_000 + block.len()]);
        // The END marker further than the reach from the only keyword hit: not found.
        let far = block.replace("\n-----END", &format!("{}-----END", "\n".repeat(200)));
        assert!(
            find(format!("{}{far}{}", " ".repeat(10_000), " ".repeat(10_000)).as_bytes())
                .is_empty()
        );
        // Case-sensitive keyword: `begin k` does not gate the rule in.
        assert!(
            find(format!("{}{}", " ".repeat(10_000), block.to_lowercase()).as_bytes()).is_empty()
        );
    }

    #[test]
    fn keyword_dense_text_stays_windowed_and_a_flood_runs_whole() {
        let mut set = RuleSet::default();
        set.add_toml(
            "t.toml",
            "[[rule]]\nid='tok'\ndescription='d'\nseverity='error'\nkeywords=['token']\n\
             regex='token = \"(?P<secret>[A-Za-z0-9]{24})\"'\n",
        )
        .unwrap();
        let secret = b"q8Zr2mPv7XwKFAKEa1b2c3d4";
        // Like source code: the keyword about once a kilobyte, 8 MB in all (one window of a large
        // file). Every hit keeps its own line as a window (lines between hold no keyword).
        let mut text = Vec::new();
        let mut lines = 0;
        while text.len() < 8 << 20 {
            text.extend_from_slice(b"let ok = token == \"abcdefghijklmnopqrstuvwx\";\n// ");
            text.extend_from_slice(&[b'x'; 1000]);
            text.push(b'\n');
            lines += 1;
        }
        text.extend_from_slice(b"token = \"");
        text.extend_from_slice(secret);
        text.extend_from_slice(b"\"\n");
        let (found, runs) = find_counted(&set, &text);
        assert_eq!(found, [(0, secret.to_vec())]);
        assert_eq!(runs, [lines + 1], "one regex run per line with the keyword");
        // A flood (the keyword every few bytes) outgrows the hit lists: one run over everything,
        // which finds the same.
        let mut flood = b"token token token\n".repeat(1 << 16);
        flood.extend_from_slice(b"token = \"");
        flood.extend_from_slice(secret);
        flood.extend_from_slice(b"\"\n");
        assert_eq!(
            find_counted(&set, &flood),
            (vec![(0, secret.to_vec())], vec![1])
        );
    }

    #[test]
    fn a_flooded_keyword_gives_way_to_the_string_every_match_needs() {
        let mut set = RuleSet::default();
        set.add_toml(
            "t.toml",
            "[[rule]]\nid='hdr'\ndescription='d'\nseverity='error'\nkeywords=['bearer']\n\
             regex='(?i)authorization: bearer (?P<secret>[A-Za-z0-9]{24})'\n\
             [[rule]]\nid='plain'\ndescription='d'\nseverity='error'\nkeywords=['bearer']\n\
             regex='(?i)bearer (?P<secret>[A-Za-z0-9]{24})'\n",
        )
        .unwrap();
        // `bearer` on every line of a log: both rules' hit lists overflow.
        let flood =
            b"GET /items?token_type=bearer status: 200 sid 0123456789abcdefghijklmnopqrstuv\n"
                .repeat(1 << 16);
        // No `authorization` anywhere: the header rule's regex never runs; the other runs whole.
        assert_eq!(find_counted(&set, &flood), (vec![], vec![0, 1]));
        // Three header lines, one with a secret (in another case): the header rule searches the
        // lines around them only, and finds what a search of everything finds.
        let secret = b"q8Zr2mPv7XwKFAKEa1b2c3d4";
        let mut text = flood.clone();
        text.extend_from_slice(b"Authorization: Bearer \n");
        text.extend_from_slice(&flood);
        text.extend_from_slice(b"AUTHORIZATION: bearer ");
        text.extend_from_slice(secret);
        text.extend_from_slice(b"\nauthorization: none\n");
        text.extend_from_slice(&flood);
        let (found, runs) = find_counted(&set, &text);
        assert_eq!(
            found,
            vec![(0, secret.to_vec()), (1, secret.to_vec())],
            "{runs:?}"
        );
        // Two windows (the first header line; the next two, adjacent, merged), of which the
        // first holds no secret-like run and is skipped: one run of the header rule.
        assert_eq!(runs, [1, 1]);
    }

    #[test]
    fn rules_sharing_a_keyword_share_one_bound_on_kept_hits() {
        // Nine rules on one keyword, each under its own cap (MIN_HITS) but together over
        // MIN_KEPT_HITS: some of them give up their hits and run over the whole buffer, and
        // every rule still finds the secret.
        let mut set = RuleSet::default();
        for i in 0..9 {
            set.add_toml(
                "t.toml",
                &format!(
                    "[[rule]]\nid='tok{i}'\ndescription='d'\nseverity='error'\nkeywords=['token']\n\
                     regex='token = \"(?P<secret>[A-Za-z0-9]{{24}})\"'\n"
                ),
            )
            .unwrap();
        }
        let mut data = format!(
            "ok = token == \"abcdefghijklmnopqrstuvwx\";\n#{}\n",
            "x".repeat(200)
        )
        .repeat(1000);
        data.push_str("token = \"q8Zr2mPv7XwKFAKEa1b2c3d4\"\n");
        let (found, runs) = find_counted(&set, data.as_bytes());
        let mut rules = found.iter().map(|(r, _)| *r).collect::<Vec<_>>();
        rules.sort_unstable();
        assert_eq!(rules, (0..9).collect::<Vec<_>>());
        assert!(runs.contains(&1), "{runs:?}");
        assert!(runs.contains(&1001), "{runs:?}");
    }

    #[test]
    fn long_lines_are_cut_near_the_hit_outside_tokens() {
        let mut data = vec![b' '; 10_000];
        data[5000..5003].copy_from_slice(b"key");
        let w = line_window(&data, 5000..5003);
        assert!(w.start <= 5000 - LONG_LINE_REACH && w.start > 0);
        assert!(w.end >= 5003 + LONG_LINE_REACH && w.end < data.len());
    }
}
