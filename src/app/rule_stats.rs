//! `--rule-stats`: the engine's per-rule counters ([`crate::scanner::ScanStats`], merged from
//! every worker with the scan's [`crate::scan::Summary`]) joined with what the session reported,
//! into a [`RuleProfile`] the CLI prints. Plain data: nothing here prints.

use std::collections::HashMap;
use std::time::Duration;

use crate::finding::Finding;
use crate::rules::RuleIdx;
use crate::scanner::{RuleCounters, ScanStats, Scanner};

/// One rule that ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRow {
    /// As the rule file wrote it: escape before printing.
    pub id: String,
    pub counters: RuleCounters,
    /// Findings of the rule that reached the report, before the baseline (after allow-lists,
    /// inline markers, `--exclude`, the severity threshold and path scopes).
    pub kept: u64,
}

/// What each rule cost a scan, slowest first, with the totals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleProfile {
    /// The rules whose keywords occurred or whose regex ran, by time spent, slowest first.
    pub rows: Vec<RuleRow>,
    /// Time in all rules' regexes.
    pub rule_time: Duration,
    /// Time in the keyword search.
    pub prefilter: Duration,
    /// Time finding and decoding encoded values.
    pub decode: Duration,
    /// Time parsing and compiling rules' regexes on their first use (not in any rule's time).
    pub compile: Duration,
    /// Bytes of input scanned.
    pub bytes: u64,
}

impl RuleProfile {
    /// The profile of a scan that counted `stats` over `bytes`, and reported `findings` (before
    /// the baseline).
    pub fn new(
        scanner: &Scanner,
        stats: &ScanStats,
        findings: Vec<&Finding>,
        bytes: u64,
    ) -> RuleProfile {
        let mut kept: HashMap<RuleIdx, u64> = HashMap::new();
        for f in findings {
            *kept.entry(f.rule).or_default() += 1;
        }
        let mut rows: Vec<RuleRow> = (0..scanner.rules().len())
            .map(|i| RuleIdx(i as u32))
            .filter_map(|idx| {
                let counters = stats.rule(idx);
                let kept = kept.get(&idx).copied().unwrap_or(0);
                (counters.keyword_hits > 0 || counters.regex_runs > 0 || kept > 0).then(|| {
                    RuleRow {
                        id: scanner.rule(idx).id.clone(),
                        counters,
                        kept,
                    }
                })
            })
            .collect();
        rows.sort_by(|a, b| {
            b.counters
                .time
                .cmp(&a.counters.time)
                .then_with(|| a.id.cmp(&b.id))
        });
        RuleProfile {
            rows,
            rule_time: stats.rule_time(),
            prefilter: stats.prefilter,
            decode: stats.decode,
            compile: stats.compile,
            bytes,
        }
    }
}
