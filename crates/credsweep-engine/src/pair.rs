//! Pairing of Vobiz credentials: which auth id (partner id `partner-…` / `PA_…`, customer auth id `MA_…`) goes with
//! which auth token (`sk_live_…`, `sk_test_…`).
//!
//! Only findings in the same file can pair (for history: the same blob at the same path), so a
//! token is never matched with an id that merely appears somewhere else in the repository. Within
//! a file, each token takes the nearest id: fewest lines away, then an id above the token before
//! one below it (`X-Auth-ID` usually comes first), then fewest columns away. Several tokens may
//! take the same id (an old token commented out under the new one); the id then points back at
//! the nearest of them. An id no token took stays unpaired.
//!
//! Every source pairs in one place: [`crate::scan::scan_buffer`] links the findings of each
//! buffer it scans (a file, standard input, one blob), so history pairs per blob, before its
//! findings are grouped by secret and an id committed before its token would not meet it.

use std::collections::HashMap;

use crate::finding::{Finding, Location, PairLink};

/// Rules whose findings are the id half of a pair: partner ids (`partner-…`, `PA_…`) and customer
/// auth ids (`MA_…`, the messaging API's `auth_…`).
pub const ID_RULES: &[&str] = &[
    "vobiz-partner-id",
    "vobiz-partner-auth-id",
    "vobiz-customer-auth-id",
    "vobiz-messaging-auth-id",
];

/// Rules whose findings are the token half of a pair: live (`sk_live_`) and test-mode
/// (`sk_test_`) auth tokens.
pub const TOKEN_RULES: &[&str] = &["vobiz-auth-token", "vobiz-test-token"];

/// What a pair must share: the place (one file, standard input, one blob).
type FileKey<'a> = &'a Location;

/// How far apart two findings in one file are, smallest first: lines apart, whether the id comes
/// after the token, columns apart, then the id's own position so ties break the same way every
/// run.
fn distance(id: &Finding, token: &Finding) -> (u32, bool, u32, u32, u32) {
    (
        id.line.abs_diff(token.line),
        (id.line, id.column) > (token.line, token.column),
        id.column.abs_diff(token.column),
        id.line,
        id.column,
    )
}

/// The id nearest to token `t` by [`distance`] (the first of equals), among `ids` sorted by
/// (line, column, index). Only a few ids can be nearest: those on the nearest line with an id at
/// or above the token, and on the nearest at or below it, each just before or after the token's
/// column; so a file of many ids and tokens pairs in n log n, not in ids times tokens.
fn nearest_id(findings: &[Finding], ids: &[usize], t: usize) -> Option<usize> {
    let token = &findings[t];
    let pos = |i: usize| (findings[i].line, findings[i].column);
    let k = ids.partition_point(|&i| pos(i) < (token.line, token.column));
    let lines = [k.checked_sub(1), (k < ids.len()).then_some(k)]
        .into_iter()
        .flatten()
        .map(|j| findings[ids[j]].line);
    let mut candidates: Vec<usize> = Vec::new();
    for line in lines {
        let lo = ids.partition_point(|&i| findings[i].line < line);
        let hi = ids.partition_point(|&i| findings[i].line <= line);
        let j = lo + ids[lo..hi].partition_point(|&i| findings[i].column < token.column);
        // Just before the token's column, and at or after it, with every id at those places.
        if j > lo {
            let at = pos(ids[j - 1]);
            candidates.extend(ids[lo..j].iter().rev().take_while(|&&i| pos(i) == at));
        }
        if j < hi {
            let at = pos(ids[j]);
            candidates.extend(ids[j..hi].iter().take_while(|&&i| pos(i) == at));
        }
    }
    candidates
        .into_iter()
        .min_by_key(|&i| (distance(&findings[i], token), i))
}

/// Links ids and tokens found in the same file: sets [`Finding::pair`] on both halves of every
/// pair and raises each paired id to its token's severity. Findings already linked are relinked,
/// except history findings: the history source pairs them blob by blob before it groups them,
/// and a grouped finding no longer shows every blob it was in.
pub fn link(findings: &mut [Finding]) {
    // (index of the token, index of the id) for every token that found an id.
    let mut chosen: Vec<(usize, usize)> = Vec::new();
    {
        let mut files: HashMap<FileKey<'_>, (Vec<usize>, Vec<usize>)> = HashMap::new();
        for (i, f) in findings.iter().enumerate() {
            if f.provenance.is_some() {
                continue;
            }
            let rule = f.rule_id.as_str();
            let is_id = ID_RULES.contains(&rule);
            if !is_id && !TOKEN_RULES.contains(&rule) {
                continue;
            }
            // A value decoded in the file is in the file.
            let key: FileKey<'_> = f.location.undecoded();
            let (ids, tokens) = files.entry(key).or_default();
            if is_id { ids } else { tokens }.push(i);
        }
        for (ids, tokens) in files.values_mut() {
            ids.sort_by_key(|&i| (findings[i].line, findings[i].column, i));
            for &t in tokens.iter() {
                if let Some(i) = nearest_id(findings, ids, t) {
                    chosen.push((t, i));
                }
            }
        }
    }
    // Each id points at the nearest token that chose it.
    let mut back: HashMap<usize, usize> = HashMap::new();
    for &(t, i) in &chosen {
        let nearer = match back.get(&i) {
            Some(&old) => {
                let d_new = distance(&findings[i], &findings[t]);
                let d_old = distance(&findings[i], &findings[old]);
                (d_new, findings[t].line, findings[t].column)
                    < (d_old, findings[old].line, findings[old].column)
            }
            None => true,
        };
        if nearer {
            back.insert(i, t);
        }
    }
    for f in findings.iter_mut().filter(|f| f.provenance.is_none()) {
        f.pair = None;
    }
    for &(t, i) in &chosen {
        findings[t].pair = Some(Box::new(PairLink::to(&findings[i])));
        let token_severity = findings[t].severity;
        if findings[i].severity < token_severity {
            findings[i].severity = token_severity;
        }
    }
    for (&i, &t) in &back {
        findings[i].pair = Some(Box::new(PairLink::to(&findings[t])));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Fingerprint, Provenance, Secret};
    use crate::rules::{RuleIdx, Severity};

    fn finding(rule: &str, path: &str, line: u32, column: u32, secret: &str) -> Finding {
        let severity = if TOKEN_RULES.contains(&rule) {
            Severity::Error
        } else {
            Severity::Warning
        };
        Finding {
            rule: RuleIdx(0),
            rule_id: rule.to_string(),
            severity,
            description: String::new(),
            location: Location::Path(path.to_string()),
            line,
            column,
            end_line: line,
            end_column: column + secret.len() as u32,
            secret: Secret::new(secret.as_bytes()),
            fingerprint: Fingerprint::new(b"k", rule, secret.as_bytes()),
            offset: None,
            provenance: None,
            line_hash: None,
            pair: None,
            verification: None,
            folded: 0,
        }
    }

    fn paired(f: &Finding) -> Option<(u32, u32)> {
        f.pair.as_ref().map(|p| (p.line, p.column))
    }

    #[test]
    fn one_id_one_token_pair_and_the_id_takes_the_token_severity() {
        let mut fs = vec![
            finding(
                "vobiz-partner-id",
                ".env",
                1,
                15,
                "partner-fake7f3a9c2e41b8",
            ),
            finding(
                "vobiz-auth-token",
                ".env",
                2,
                18,
                "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE",
            ),
            finding("github-pat", ".env", 3, 1, "ghp_x"),
        ];
        link(&mut fs);
        assert_eq!(paired(&fs[0]), Some((2, 18)));
        assert_eq!(paired(&fs[1]), Some((1, 15)));
        assert_eq!(fs[1].pair.as_ref().unwrap().rule_id, "vobiz-partner-id");
        assert_eq!(fs[0].severity, Severity::Error);
        assert_eq!(paired(&fs[2]), None);
    }

    #[test]
    fn never_across_files() {
        let mut fs = vec![
            finding(
                "vobiz-partner-id",
                "a.env",
                1,
                1,
                "partner-fake7f3a9c2e41b8",
            ),
            finding(
                "vobiz-auth-token",
                "b.env",
                1,
                1,
                "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE",
            ),
        ];
        link(&mut fs);
        assert!(fs.iter().all(|f| f.pair.is_none()));
        assert_eq!(fs[0].severity, Severity::Warning);
    }

    #[test]
    fn history_findings_keep_the_pairs_their_source_made() {
        // The history source pairs within a blob before grouping; linking the grouped findings
        // (which may come from different blobs) must neither drop nor invent pairs.
        let mut fs = vec![
            finding("vobiz-partner-id", ".env", 1, 1, "partner-fake7f3a9c2e41b8"),
            finding(
                "vobiz-auth-token",
                ".env",
                2,
                1,
                "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE",
            ),
        ];
        for f in &mut fs {
            f.provenance = Some(Provenance {
                blob: "aaaa".into(),
                ..Provenance::default()
            });
        }
        link(&mut fs);
        assert!(fs.iter().all(|f| f.pair.is_none()));
        let mut source_paired = fs.clone();
        for f in &mut source_paired {
            f.provenance = None;
        }
        link(&mut source_paired);
        for (f, p) in fs.iter_mut().zip(&source_paired) {
            f.pair = p.pair.clone();
        }
        link(&mut fs);
        assert!(fs.iter().all(|f| f.pair.is_some()));
    }

    #[test]
    fn nearest_id_wins_and_above_beats_below() {
        // Two accounts in one file: each token goes with the id just above it.
        let mut fs = vec![
            finding("vobiz-partner-id", "x", 1, 1, "partner-aaaa1111bbbb"),
            finding(
                "vobiz-auth-token",
                "x",
                2,
                1,
                "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE",
            ),
            finding(
                "vobiz-partner-auth-id",
                "x",
                3,
                1,
                "PA_5ST1FAKEA4FSUDP24PCA",
            ),
            finding(
                "vobiz-auth-token",
                "x",
                4,
                1,
                "sk_live_Q8vT2mXbN5pR7kLwZ3yH6dFAKE0c",
            ),
        ];
        link(&mut fs);
        assert_eq!(paired(&fs[1]), Some((1, 1)), "equidistant: the id above");
        assert_eq!(paired(&fs[3]), Some((3, 1)));
        assert_eq!(paired(&fs[0]), Some((2, 1)));
        assert_eq!(paired(&fs[2]), Some((4, 1)));
    }

    #[test]
    fn two_tokens_share_one_id_which_points_at_the_nearer() {
        let mut fs = vec![
            finding(
                "vobiz-auth-token",
                "x",
                1,
                1,
                "sk_live_Q8vT2mXbN5pR7kLwZ3yH6dFAKE0c",
            ),
            finding("vobiz-partner-id", "x", 5, 1, "partner-fake7f3a9c2e41b8"),
            finding(
                "vobiz-auth-token",
                "x",
                6,
                1,
                "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE",
            ),
        ];
        link(&mut fs);
        assert_eq!(paired(&fs[0]), Some((5, 1)));
        assert_eq!(paired(&fs[2]), Some((5, 1)));
        assert_eq!(paired(&fs[1]), Some((6, 1)));
    }

    #[test]
    fn every_id_kind_pairs_with_every_token_kind() {
        for id_rule in ID_RULES {
            for token_rule in TOKEN_RULES {
                let mut fs = vec![
                    finding(id_rule, "x", 1, 1, "MA_6IJANV8A3FAKEQQJE4"),
                    finding(
                        token_rule,
                        "x",
                        1,
                        40,
                        "sk_test_5qXHy1l9byFAKE9fSauNHlCyW3nO",
                    ),
                ];
                link(&mut fs);
                assert_eq!(paired(&fs[0]), Some((1, 40)), "{id_rule} + {token_rule}");
                assert_eq!(paired(&fs[1]), Some((1, 1)), "{id_rule} + {token_rule}");
            }
        }
    }

    #[test]
    fn a_lone_token_or_id_stays_unpaired() {
        let mut fs = vec![finding(
            "vobiz-auth-token",
            "x",
            1,
            1,
            "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE",
        )];
        link(&mut fs);
        assert!(fs[0].pair.is_none());
        let mut fs = vec![finding(
            "vobiz-partner-id",
            "x",
            1,
            1,
            "partner-fake7f3a9c2e41b8",
        )];
        link(&mut fs);
        assert!(fs[0].pair.is_none());
        assert_eq!(fs[0].severity, Severity::Warning);
    }

    #[test]
    fn the_nearest_id_is_the_one_a_full_search_finds() {
        // Ids and tokens scattered over a few lines and columns (some at the same place): the
        // n log n search picks what comparing the token with every id picks.
        let mut seed = 0x2545_f491_u32;
        let mut next = |n: u32| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed % n
        };
        for _ in 0..300 {
            let mut fs = Vec::new();
            for _ in 0..1 + next(12) {
                let (line, column) = (1 + next(5), 1 + next(6));
                if next(2) == 0 {
                    fs.push(finding(
                        "vobiz-partner-id",
                        ".env",
                        line,
                        column,
                        "partner-fake7f3a9c2e41b8",
                    ));
                } else {
                    fs.push(finding(
                        "vobiz-auth-token",
                        ".env",
                        line,
                        column,
                        "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE",
                    ));
                }
            }
            let mut ids: Vec<usize> = (0..fs.len())
                .filter(|&i| ID_RULES.contains(&fs[i].rule_id.as_str()))
                .collect();
            let full: Vec<Option<usize>> = (0..fs.len())
                .map(|t| {
                    ids.iter()
                        .copied()
                        .min_by_key(|&i| distance(&fs[i], &fs[t]))
                })
                .collect();
            ids.sort_by_key(|&i| (fs[i].line, fs[i].column, i));
            for t in (0..fs.len()).filter(|&t| TOKEN_RULES.contains(&fs[t].rule_id.as_str())) {
                assert_eq!(nearest_id(&fs, &ids, t), full[t], "token {t} in {fs:?}");
            }
        }
    }
}
