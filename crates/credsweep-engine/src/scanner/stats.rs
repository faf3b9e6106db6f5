//! Per-rule statistics (`--rule-stats`): what each rule cost a scan.
//!
//! Collected only when a [`crate::scan::ScanContext`] asks for them: the scanner and the matcher
//! take an `Option<&mut ScanStats>`, and with `None` they read no clock and count nothing. The
//! counters are plain data owned by one thread (each source's worker keeps its own in its
//! [`crate::scan::Summary`]) and merged with the summaries at the end: no shared state, no
//! atomics.

use std::time::Duration;

use crate::rules::RuleIdx;

/// What one rule cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RuleCounters {
    /// Occurrences of the rule's keywords (a rule without keywords has none).
    pub keyword_hits: u64,
    /// Regex searches started: one per window around keyword hits, or per whole buffer.
    pub regex_runs: u64,
    /// Regex matches with a non-empty secret, before any filter.
    pub matches: u64,
    /// Time spent in the rule's regex.
    pub time: Duration,
}

impl RuleCounters {
    fn add(&mut self, other: &RuleCounters) {
        self.keyword_hits += other.keyword_hits;
        self.regex_runs += other.regex_runs;
        self.matches += other.matches;
        self.time += other.time;
    }
}

/// The statistics of a scan, or of one thread's part of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Indexed by [`RuleIdx`]; rules past the end have counted nothing yet.
    pub rules: Vec<RuleCounters>,
    /// Time in the keyword search (the prefilter).
    pub prefilter: Duration,
    /// Time finding and decoding encoded values (base64, percent-encoding, ...), not counting
    /// the rules run on what they decode to (those count under each rule).
    pub decode: Duration,
    /// Time parsing and compiling rules' regexes on their first use (a rule's regex is compiled
    /// when a scan first needs it), not counted in any rule's time.
    pub compile: Duration,
}

impl ScanStats {
    /// The counters of rule `idx`.
    pub fn rule_mut(&mut self, idx: RuleIdx) -> &mut RuleCounters {
        let i = idx.0 as usize;
        if i >= self.rules.len() {
            self.rules.resize(i + 1, RuleCounters::default());
        }
        &mut self.rules[i]
    }

    /// The counters of rule `idx` (zero if it counted nothing).
    pub fn rule(&self, idx: RuleIdx) -> RuleCounters {
        self.rules.get(idx.0 as usize).copied().unwrap_or_default()
    }

    pub fn merge(&mut self, other: &ScanStats) {
        for (i, c) in other.rules.iter().enumerate() {
            self.rule_mut(RuleIdx(i as u32)).add(c);
        }
        self.prefilter += other.prefilter;
        self.decode += other.decode;
        self.compile += other.compile;
    }

    /// Time in all rules' regexes.
    pub fn rule_time(&self) -> Duration {
        self.rules.iter().map(|c| c.time).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_adds_rule_by_rule() {
        let mut a = ScanStats::default();
        a.rule_mut(RuleIdx(1)).matches = 2;
        let mut b = ScanStats::default();
        b.rule_mut(RuleIdx(3)).regex_runs = 5;
        b.rule_mut(RuleIdx(1)).matches = 1;
        b.prefilter = Duration::from_millis(3);
        a.merge(&b);
        assert_eq!(a.rule(RuleIdx(1)).matches, 3);
        assert_eq!(a.rule(RuleIdx(3)).regex_runs, 5);
        assert_eq!(a.rule(RuleIdx(7)), RuleCounters::default());
        assert_eq!(a.prefilter, Duration::from_millis(3));
    }

    #[test]
    fn a_scan_counts_hits_runs_and_matches_per_rule() {
        let mut set = crate::rules::RuleSet::default();
        set.add_toml(
            "t.toml",
            "[[rule]]\nid='live'\ndescription='d'\nseverity='error'\n\
             regex='(?P<secret>sk_live_[A-Za-z0-9]{20,})'\nkeywords=['sk_live_']\n\
             [[rule]]\nid='quiet'\ndescription='d'\nseverity='error'\n\
             regex='zqxj=(?P<secret>[a-z]{12})'\nkeywords=['zqxj']\n",
        )
        .unwrap();
        let scanner = crate::scanner::Scanner::new(set);
        let filler = "filler line\n".repeat(200);
        let text = format!(
            "a = sk_live_4eC39HqLyjWDarjtT1zdFAKE\n{filler}c = sk_live_9fK2pLmQ7rT4vW8xZ1cNFAKE\n"
        );
        let data = text.as_bytes();
        let mut stats = ScanStats::default();
        let path = crate::scanner::PathFilter::Unknown;
        let found = scanner.scan_with_stats(data, path, Some(&mut stats));
        assert_eq!(found, scanner.scan(data, path));
        let live = stats.rule(RuleIdx(0));
        assert_eq!((live.keyword_hits, live.matches), (2, 2));
        // Far apart: a window around each hit, a run in each.
        assert_eq!(live.regex_runs, 2);
        assert_eq!(stats.rule(RuleIdx(1)), RuleCounters::default());
    }
}
