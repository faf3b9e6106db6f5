//! The `--rule-stats` table: what each rule cost a scan, printed to stderr after the report.
//!
//! One fixed-width row per rule that ran, slowest first (rule ids escaped: a user's rule file may
//! hold anything), then the totals. Times are summed over the worker threads, so with several
//! threads they may add up to more than the scan's wall time.

use crate::app::rule_stats::RuleProfile;
use crate::term::escape;
use crate::units::human_bytes;

/// The widest the rule column is padded to; a longer id pushes its own row's columns right.
const MAX_ID_WIDTH: usize = 48;

/// The lines of the table, without line breaks.
pub(crate) fn table(p: &RuleProfile) -> Vec<String> {
    let ids: Vec<String> = p.rows.iter().map(|r| escape(&r.id).into_owned()).collect();
    let width = ids
        .iter()
        .map(|id| id.chars().count())
        .max()
        .unwrap_or(0)
        .clamp("rule".len(), MAX_ID_WIDTH);
    let total_ms = p.rule_time.as_secs_f64() * 1e3;
    let mut out = vec![
        "credsweep: rule stats (times summed over threads; kept: findings reported before the baseline)"
            .to_string(),
        format!(
            "{:<width$} {:>12} {:>10} {:>9} {:>7} {:>10} {:>6}",
            "rule", "keyword hits", "regex runs", "matches", "kept", "time (ms)", "%"
        ),
    ];
    for (row, id) in p.rows.iter().zip(&ids) {
        let c = &row.counters;
        let ms = c.time.as_secs_f64() * 1e3;
        let share = if total_ms > 0.0 {
            100.0 * ms / total_ms
        } else {
            0.0
        };
        out.push(format!(
            "{id:<width$} {:>12} {:>10} {:>9} {:>7} {ms:>10.1} {share:>6.1}",
            c.keyword_hits, c.regex_runs, c.matches, row.kept
        ));
    }
    out.push(format!(
        "rules: {} ran, {total_ms:.1} ms in their regexes; keyword search (prefilter): {:.1} ms; decoding encoded values: {:.1} ms; compiling rules on first use: {:.1} ms; {} scanned",
        p.rows.iter().filter(|r| r.counters.regex_runs > 0).count(),
        p.prefilter.as_secs_f64() * 1e3,
        p.decode.as_secs_f64() * 1e3,
        p.compile.as_secs_f64() * 1e3,
        human_bytes(p.bytes)
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::rule_stats::RuleRow;
    use crate::scanner::RuleCounters;
    use std::time::Duration;

    #[test]
    fn rows_are_aligned_and_ids_escaped() {
        let row = |id: &str, ms| RuleRow {
            id: id.to_string(),
            counters: RuleCounters {
                keyword_hits: 3,
                regex_runs: 2,
                matches: 1,
                time: Duration::from_millis(ms),
            },
            kept: 1,
        };
        let p = RuleProfile {
            rows: vec![row("slow\x1b[2J", 30), row("fast", 10)],
            rule_time: Duration::from_millis(40),
            bytes: 2048,
            ..Default::default()
        };
        let lines = table(&p);
        assert!(!lines.iter().any(|l| l.contains('\x1b')));
        assert!(lines[2].starts_with("slow\\e[2J"), "{}", lines[2]);
        assert!(lines[2].ends_with("30.0   75.0"), "{}", lines[2]);
        assert_eq!(lines[1].len(), lines[3].len());
        assert!(lines[4].contains("2 ran"), "{}", lines[4]);
    }
}
