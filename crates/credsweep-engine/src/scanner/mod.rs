//! The scanner: bytes in, credential [`Match`]es out.
//!
//! A [`Scanner`] owns a [`RuleSet`] and a [`Matcher`] built from it. [`Scanner::scan`] asks the
//! matcher for raw regex matches, drops those that are not credentials (allow-lists, stopwords,
//! entropy, placeholders, missing context) and then resolves overlaps, so that bytes two rules
//! both match (a `sk_live_` token is Vobiz- and Stripe-shaped) become exactly one match, under the
//! rule whose context fits best.
//!
//! The scanner knows nothing of files, blobs or reports: sources hand it bytes and a path, and
//! turn its matches into findings.

pub mod decode;
pub mod filters;
pub mod matcher;
mod path_scopes;
pub mod prefilter;
pub mod stats;

use std::cell::OnceCell;
use std::ops::Range;

use crate::rules::{Rule, RuleIdx, RuleSet};
pub use matcher::{Matcher, RawMatch};
use path_scopes::PathScopes;
pub use stats::{RuleCounters, ScanStats};

/// A credential found in a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub rule: RuleIdx,
    /// The bytes of the whole regex match.
    pub span: Range<usize>,
    /// The bytes that are the credential (as written: encoded, for a rule that decodes).
    pub secret: Range<usize>,
    /// For a rule that [decodes](crate::rules::RuleSpec::decode) its secret: what the bytes at
    /// `secret` decode to, which is the credential.
    pub decoded: Option<Vec<u8>>,
}

impl Match {
    /// The credential: what the bytes at `secret` of `data` (the buffer scanned) decode to, for
    /// a rule that decodes, or those bytes.
    pub fn secret_bytes<'a>(&'a self, data: &'a [u8]) -> &'a [u8] {
        self.decoded
            .as_deref()
            .unwrap_or(&data[self.secret.clone()])
    }
}

/// How far from a match its rule's context literals are looked for.
const CONTEXT_BEFORE: usize = 512;
const CONTEXT_AFTER: usize = 256;

/// How much of a secret's line, before and after it, the placeholder filter judges it with.
const PLACEHOLDER_BEFORE: usize = 256;
const PLACEHOLDER_AFTER: usize = 8;

pub struct Scanner {
    rules: RuleSet,
    matcher: Matcher,
    /// The rules' `path` filters, matched together once per buffer.
    scopes: PathScopes,
    /// See [`Scanner::longest_match`].
    longest_match: usize,
}

/// Which rules apply to a buffer, by its path.
#[derive(Debug, Clone, Copy)]
pub enum PathFilter<'a> {
    /// The buffer has this path: rules with a `path` filter run only if it matches.
    Path(&'a str),
    /// The buffer has no path (standard input): rules with a `path` filter do not run.
    Pathless,
    /// The path is not known yet (a git blob before provenance): every rule runs, and the caller
    /// must check [`Rule::path`] once it knows the paths.
    Unknown,
    /// The caller knows no path of the buffer matches any rule's `path` filter (a git blob at no
    /// path a path-scoped rule names): only rules without a `path` filter run.
    Unscoped,
}

impl Scanner {
    pub fn new(rules: RuleSet) -> Scanner {
        let matcher = Matcher::new(&rules);
        let longest_match = rules
            .rules()
            .iter()
            .filter(|r| r.multiline)
            .map(|r| r.multiline_reach.saturating_mul(2))
            .max()
            .unwrap_or(0);
        Scanner {
            scopes: PathScopes::new(&rules),
            rules,
            matcher,
            longest_match,
        }
    }

    /// The longest a multi-line rule's match can be, in bytes: its reach on both sides of a
    /// keyword hit (0 without multi-line rules). A reader scanned in windows overlaps them by at
    /// least this ([`crate::window`]).
    pub fn longest_match(&self) -> usize {
        self.longest_match
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    pub fn rule(&self, idx: RuleIdx) -> &Rule {
        self.rules.get(idx)
    }

    /// Whether some rule's `path` filter matches `path` (what [`PathRegex::is_match`] says of
    /// each).
    ///
    /// [`PathRegex::is_match`]: crate::rules::PathRegex::is_match
    pub fn path_filters_match(&self, path: &[u8]) -> bool {
        self.scopes.any_match(&self.rules, path)
    }

    /// Whether some rule's `path` filter may match a path whose last component is `name`,
    /// whatever its directory (for a caller that meets file names before their directories):
    /// false when none can; `None` when that cannot be told from a name (a filter whose
    /// matches may end anywhere, without `$`). Conservative: a true is settled by
    /// [`Scanner::path_filters_match`] on the whole path.
    pub fn path_filters_may_end(&self, name: &[u8]) -> Option<bool> {
        self.scopes.may_end(&self.rules, name)
    }

    /// Every credential in `data`, sorted by position, at most one per span of bytes.
    pub fn scan(&self, data: &[u8], path: PathFilter<'_>) -> Vec<Match> {
        self.scan_with_stats(data, path, None)
    }

    /// [`Scanner::scan`], counting into `stats` what each rule cost (`--rule-stats`), if given.
    pub fn scan_with_stats(
        &self,
        data: &[u8],
        path: PathFilter<'_>,
        stats: Option<&mut ScanStats>,
    ) -> Vec<Match> {
        // The path filters are matched on the first question about a path-scoped rule, and
        // once for all of them.
        let at = OnceCell::new();
        let active = |idx: RuleIdx| match (path, &self.rules.get(idx).path) {
            (PathFilter::Path(p), Some(_)) => at
                .get_or_init(|| self.scopes.at(&self.rules, p.as_bytes()))
                .allows(idx),
            (PathFilter::Pathless | PathFilter::Unscoped, Some(_)) => false,
            _ => true,
        };
        let mut raw = Vec::new();
        self.matcher
            .find(&self.rules, data, &active, &mut raw, stats);
        let mut kept: Vec<(Match, bool)> = raw
            .into_iter()
            .filter_map(|m| {
                let rule = self.rules.get(m.rule);
                let decoded = match rule.decode {
                    Some(encoding) => Some(encoding.decode(&data[m.secret.clone()])?),
                    None => None,
                };
                let secret = decoded.as_deref().unwrap_or(&data[m.secret.clone()]);
                let context = has_context(rule, data, &m.secret);
                if !is_credential(rule, secret, data, &m.secret)
                    || (rule.context_required && !context)
                {
                    return None;
                }
                let m = Match {
                    rule: m.rule,
                    span: m.span,
                    secret: m.secret,
                    decoded,
                };
                Some((m, context))
            })
            .collect();
        kept.sort_by_key(|(m, _)| (m.secret.start, m.secret.end, m.rule));
        match path {
            PathFilter::Path(_) | PathFilter::Pathless | PathFilter::Unscoped => {
                resolve_overlaps(&self.rules, kept)
            }
            PathFilter::Unknown => {
                // A path-scoped rule that wins here may be dropped once the path is known, and
                // must not take the finding of an unscoped rule with it: keep the winner among
                // the unscoped rules too. The caller resolves the pair with the path in hand:
                // a path-scoped match that applies there replaces the unscoped one.
                let unscoped: Vec<(Match, bool)> = kept
                    .iter()
                    .filter(|(m, _)| self.rules.get(m.rule).path.is_none())
                    .cloned()
                    .collect();
                let mut out = resolve_overlaps(&self.rules, unscoped);
                out.extend(
                    resolve_overlaps(&self.rules, kept)
                        .into_iter()
                        .filter(|m| self.rules.get(m.rule).path.is_some()),
                );
                out.sort_by_key(|m| (m.secret.start, m.secret.end, m.rule));
                out
            }
        }
    }

    /// For matches from a [`PathFilter::Unknown`] scan, once a path is known: whether the match
    /// of `rule` applies at `path` (its rule has no path filter, or the filter matches).
    pub fn applies_at(&self, rule: RuleIdx, path: &[u8]) -> bool {
        self.rules
            .get(rule)
            .path
            .as_ref()
            .is_none_or(|re| re.is_match(path))
    }
}

/// Rule-specific and shared filters on one secret: `s`, found at `secret` in `data` (decoded
/// from those bytes, for a rule that decodes).
fn is_credential(rule: &Rule, s: &[u8], data: &[u8], secret: &Range<usize>) -> bool {
    if rule
        .allow
        .iter()
        .any(|re| re.get().is_some_and(|re| re.is_match(s)))
    {
        return false;
    }
    if !rule.stopwords.is_empty() {
        let lower = s.to_ascii_lowercase();
        if rule
            .stopwords
            .iter()
            .any(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some())
        {
            return false;
        }
    }
    if let Some(min) = rule.min_entropy
        && filters::shannon_entropy(s) < min
    {
        return false;
    }
    // At most 256 bytes of the line before the secret and 8 after: only those are looked for
    // line ends in, so a match on a line of megabytes costs no more than on a short one.
    let from = secret.start.saturating_sub(PLACEHOLDER_BEFORE);
    let before = &data[from..secret.start];
    let before = memchr::memrchr(b'\n', before).map_or(before, |p| &before[p + 1..]);
    let after = &data[secret.end..(secret.end + PLACEHOLDER_AFTER).min(data.len())];
    let after = memchr::memchr(b'\n', after).map_or(after, |p| &after[..p]);
    !filters::is_placeholder(s, before, after)
}

fn has_context(rule: &Rule, data: &[u8], secret: &Range<usize>) -> bool {
    if rule.context.is_empty() {
        return false;
    }
    let from = secret.start.saturating_sub(CONTEXT_BEFORE);
    let to = (secret.end + CONTEXT_AFTER).min(data.len());
    let near = data[from..to].to_ascii_lowercase();
    rule.context
        .iter()
        .any(|c| memchr::memmem::find(&near, c.as_bytes()).is_some())
}

/// Keeps, of matches whose secrets overlap, the best: the one with the highest priority, then the
/// one whose context was found, then the longer secret, then the rule listed first. Greedily:
/// the best match of all is kept, then the best of those that share no byte with a kept one,
/// and so on, so that a match is only ever dropped for one that covers some of its bytes (a
/// chain A-B-C where only neighbours overlap keeps A and C when A wins).
/// `matches` must be sorted by secret start; so is the result.
fn resolve_overlaps(rules: &RuleSet, matches: Vec<(Match, bool)>) -> Vec<Match> {
    let rank = |(m, ctx): &(Match, bool)| {
        (
            rules.get(m.rule).priority,
            *ctx,
            m.secret.len(),
            std::cmp::Reverse(m.rule),
            // Earlier first among equals, so the choice does not depend on the sort's stability.
            std::cmp::Reverse(m.secret.start),
        )
    };
    if matches.len() <= 1 {
        return matches.into_iter().map(|(m, _)| m).collect();
    }
    let mut order: Vec<usize> = (0..matches.len()).collect();
    order.sort_by(|&a, &b| rank(&matches[b]).cmp(&rank(&matches[a])));
    // Kept secrets, disjoint, by start.
    let mut kept: std::collections::BTreeMap<usize, (usize, usize)> = Default::default();
    for i in order {
        let s = &matches[i].0.secret;
        let clash_before = kept
            .range(..s.end)
            .next_back()
            .is_some_and(|(_, &(end, _))| end > s.start);
        if !clash_before {
            kept.insert(s.start, (s.end, i));
        }
    }
    let mut slots: Vec<Option<(Match, bool)>> = matches.into_iter().map(Some).collect();
    kept.into_values()
        .filter_map(|(_, i)| slots[i].take().map(|(m, _)| m))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scanner(toml: &str) -> Scanner {
        let mut set = RuleSet::default();
        set.add_toml("t.toml", toml).unwrap();
        Scanner::new(set)
    }

    const LIVE: &str = r#"
[[rule]]
id = "vendor-a"
description = "a"
severity = "error"
regex = '(?P<secret>sk_live_[A-Za-z0-9]{20,})'
keywords = ["sk_live_"]
context = ["vendor-a"]
context_required = true
priority = 20
[[rule]]
id = "any-live"
description = "any"
severity = "error"
regex = '(?P<secret>sk_live_[A-Za-z0-9]{20,})'
keywords = ["sk_live_"]
[[rule]]
id = "generic"
description = "generic"
severity = "warning"
regex = '(?i)token\s*=\s*"(?P<secret>[^"]{8,})"'
keywords = ["token"]
"#;

    fn ids(s: &Scanner, data: &str) -> Vec<String> {
        s.scan(data.as_bytes(), PathFilter::Unknown)
            .iter()
            .map(|m| s.rule(m.rule).id.clone())
            .collect()
    }

    #[test]
    fn same_bytes_one_match_best_context_wins() {
        let s = scanner(LIVE);
        assert_eq!(
            ids(&s, "VENDOR-A_TOKEN = \"sk_live_4eC39HqLyjWDarjtT1zdFAKE\""),
            ["vendor-a"]
        );
        assert_eq!(
            ids(&s, "token = \"sk_live_4eC39HqLyjWDarjtT1zdFAKE\""),
            ["any-live"]
        );
    }

    #[test]
    fn placeholders_are_dropped() {
        let s = scanner(LIVE);
        assert!(ids(&s, "token = \"sk_live_abc123...\"").is_empty());
        assert!(ids(&s, "token = \"${VENDOR_TOKEN}\"").is_empty());
    }

    #[test]
    fn keyword_gate_is_case_insensitive() {
        let s = scanner(LIVE);
        assert_eq!(ids(&s, "TOKEN = \"q8Zr2mPv7XwK\""), ["generic"]);
    }

    #[test]
    fn distinct_secrets_on_one_line_are_kept() {
        let s = scanner(LIVE);
        let d = "a sk_live_4eC39HqLyjWDarjtT1zdFAKE b sk_live_9fK2pLmQ7rT4vW8xZ1cNFAKE";
        assert_eq!(ids(&s, d).len(), 2);
    }

    #[test]
    fn unknown_path_keeps_the_unscoped_winner_beside_a_scoped_one() {
        let s = scanner(
            "[[rule]]\nid='scoped'\ndescription='d'\nseverity='error'\npriority=9\nregex='password (?P<secret>\\S{6,})'\nkeywords=['password']\npath='(^|/)\\.netrc$'\n\
             [[rule]]\nid='any'\ndescription='d'\nseverity='error'\nregex='password (?P<secret>\\S{6,})'\nkeywords=['password']\n",
        );
        let d = b"machine h login u password q8ZrFAKE7X";
        let ids = |f: PathFilter<'_>| -> Vec<String> {
            s.scan(d, f)
                .iter()
                .map(|m| s.rule(m.rule).id.clone())
                .collect()
        };
        assert_eq!(ids(PathFilter::Path(".netrc")), ["scoped"]);
        assert_eq!(ids(PathFilter::Path("notes.txt")), ["any"]);
        assert_eq!(ids(PathFilter::Unknown), ["scoped", "any"]);
    }

    #[test]
    fn a_chain_of_overlaps_keeps_both_ends() {
        // `wide` overlaps both `left` and `right`, which do not overlap each other. `left` wins
        // its overlap with `wide`; `right` shares no byte with `left` and must stay (proptest
        // found the scanner dropping it along with the whole chain).
        let s = scanner(
            "[[rule]]\nid='left'\ndescription='d'\nseverity='error'\npriority=9\nregex='L(?P<secret>[a-z]{12})'\nkeywords=['qwz']\n\
             [[rule]]\nid='wide'\ndescription='d'\nseverity='error'\nregex='(?P<secret>[a-z]{6}R[a-z]{6})'\nkeywords=['qwz']\n\
             [[rule]]\nid='right'\ndescription='d'\nseverity='error'\nregex='R(?P<secret>[a-z]{10})'\nkeywords=['qwz']\n",
        );
        let d = "Lqwzkvmpxbtrn Rhdfgsjcqwz";
        let d = d.replace(' ', "");
        assert_eq!(ids(&s, &d), ["left", "right"]);
    }

    /// The leading boundary of the default pack's token rules: a word boundary, a
    /// percent-escape (`%22`, `%3A`) or a JSON/C string escape (`\n`, `\t`, `\r`).
    const ESCAPE_BOUNDARY: &str = r"%[0-9A-Fa-f]{2}|\\[nrt]";

    #[test]
    fn no_default_rule_starts_with_a_bare_word_boundary() {
        // `\bsk_live_` misses `%3Ask_live_…` and `"a\nsk_live_…"`: `3` and `n` are word bytes.
        let set = RuleSet::builtin().unwrap();
        for rule in set.rules() {
            let re = rule.regex.as_str();
            for (i, _) in re.match_indices(r"\b") {
                let next = re[i + 2..].bytes().next();
                let after_word = re[..i]
                    .bytes()
                    .last()
                    .is_some_and(|b| b.is_ascii_alphanumeric());
                if after_word || !matches!(next, Some(b'(' | b'[' | b'A'..=b'Z' | b'a'..=b'z')) {
                    continue; // a trailing boundary (`curl\b`, `…{32})\b`)
                }
                assert!(
                    re[..i].ends_with("(?:")
                        && re[i + 2..].starts_with(&format!("|{ESCAPE_BOUNDARY})")),
                    "{}: a leading \\b without the escape alternatives: {re}",
                    rule.id
                );
            }
        }
    }

    #[test]
    fn tokens_after_percent_and_string_escapes_are_found() {
        let s = Scanner::new(RuleSet::builtin().unwrap());
        let found = |text: &str| -> Vec<(String, String)> {
            s.scan(text.as_bytes(), PathFilter::Unknown)
                .iter()
                .map(|m| {
                    let secret = String::from_utf8_lossy(&text.as_bytes()[m.secret.clone()]);
                    (s.rule(m.rule).id.clone(), secret.into_owned())
                })
                .collect()
        };
        let live = "sk_live_Qw7RbT2mZ9FAKEp4XvN8sK3dL6hJ1cYe";
        for text in [
            format!("stripe callback: https://pay.invalid/cb?key=%3A{live}&x=1"),
            format!("stripe callback: https://pay.invalid/cb?key=%22{live}%22"),
            format!(r#"{{"stripe": "first line\n{live}"}}"#),
            format!(r#"{{"stripe": "STRIPE_KEY=\"{live}\""}}"#),
            format!("stripe callback: https://pay.invalid/cb?key={live}&x=1"),
        ] {
            assert_eq!(
                found(&text),
                [("stripe-secret-key".to_string(), live.to_string())],
                "{text}"
            );
        }
        // Every token rule, on each of its examples with an escape put right before the secret.
        let mut checked = 0;
        for rule in s.rules().rules() {
            let re = rule.regex.as_str();
            let Some(at) = re.find("(?P<secret>") else {
                continue;
            };
            let group = re[..at].rfind("(?:").map_or("", |g| &re[g..at]);
            if !(group.contains(ESCAPE_BOUNDARY) && group.ends_with(')')) {
                continue;
            }
            for example in &rule.examples {
                let secrets: Vec<String> = found(example)
                    .into_iter()
                    .filter(|(id, _)| *id == rule.id)
                    .map(|(_, secret)| secret)
                    .collect();
                assert!(!secrets.is_empty(), "{}: {example}", rule.id);
                let secret = &secrets[0];
                let pos = example.find(secret.as_str()).unwrap();
                for escape in ["%22", "%3A", r"\n", r"\t"] {
                    let text = format!("{}{escape}{}", &example[..pos], &example[pos..]);
                    assert!(
                        found(&text).contains(&(rule.id.clone(), secret.clone())),
                        "{}: {text}",
                        rule.id
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 200, "{checked}");
    }

    #[test]
    fn path_filter_limits_rules() {
        let s = scanner(
            "[[rule]]\nid='n'\ndescription='d'\nseverity='error'\nregex='password (?P<secret>\\S{6,})'\nkeywords=['password']\npath='(^|/)\\.netrc$'\n",
        );
        let d = b"machine h login u password q8ZrFAKE7X";
        assert_eq!(s.scan(d, PathFilter::Path("home/.netrc")).len(), 1);
        assert_eq!(s.scan(d, PathFilter::Path("notes.txt")).len(), 0);
        assert_eq!(s.scan(d, PathFilter::Unknown).len(), 1);
    }
}
