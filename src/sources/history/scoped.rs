//! The paths path-scoped rules name (`path = ...`: `.pgpass`, `.git-credentials`), as history
//! checks them: a blob is scanned with those rules only if it sits at such a path, and the
//! check runs on every blob entry of every tree the locate walk reads, so it must cost next to
//! nothing for the paths that do not match, which are nearly all.
//!
//! Two steps: the last byte of the path against the bytes a filter's match can end with (filters
//! end with `$`: `(?:^|/)\.pgpass$` ends in `s`), then, for the few paths left, one regex that is
//! the union of the filters.

use credsweep_engine::rules::PathRegex;
use regex_syntax::hir::Look;
use regex_syntax::hir::literal::{ExtractKind, Extractor};

/// The path filters of the rules in force, ready to test paths against.
pub(crate) struct ScopedPaths<'a> {
    /// What a path must end with to be matched by some filter; `None` when a filter can end
    /// anywhere (no `$`) or cannot be analysed.
    tails: Option<Tails>,
    /// All the filters as one regex: one search instead of one per filter.
    any: Option<regex::bytes::Regex>,
    filters: Vec<&'a PathRegex>,
}

impl<'a> ScopedPaths<'a> {
    /// The path filters of `scanner`'s rules; `None` when no rule has one.
    pub fn of(scanner: &'a crate::scanner::Scanner) -> Option<ScopedPaths<'a>> {
        let filters: Vec<_> = scanner
            .rules()
            .rules()
            .iter()
            // A filter that does not compile (a broken built-in rule, which the scan reports) names no path.
            .filter_map(|r| r.path.as_ref().filter(|p| p.get().is_some()))
            .collect();
        if filters.is_empty() {
            return None;
        }
        // Each in a group of its own, so its inline flags stay its own. Should the union not
        // compile (a size limit), the filters are tried one by one.
        let union: Vec<String> = filters
            .iter()
            .map(|re| format!("(?:{})", re.as_str()))
            .collect();
        let any = regex::bytes::Regex::new(&union.join("|")).ok();
        let tails: Option<Vec<Vec<u8>>> = filters
            .iter()
            .map(|re| suffixes(re.as_str()))
            .collect::<Option<Vec<_>>>()
            .map(|all| all.concat());
        Some(ScopedPaths {
            tails: tails.map(Tails::new),
            any,
            filters,
        })
    }

    /// Whether a path-scoped rule applies at `path`.
    pub fn matches(&self, path: &[u8]) -> bool {
        if self.tails.as_ref().is_some_and(|t| !t.may_end(path)) {
            return false;
        }
        match &self.any {
            Some(re) => re.is_match(path),
            None => self.filters.iter().any(|re| re.regex_is_match(path)),
        }
    }

    /// Whether a path-scoped rule may apply at a path whose last component is `name`, whatever
    /// its directory: `None` when that cannot be told from the name (a filter that can end
    /// anywhere). Conservative: the whole path is tested exactly later ([`ScopedPaths::names`]).
    pub fn may_name(&self, name: &[u8]) -> Option<bool> {
        self.tails.as_ref().map(|t| t.may_end(name))
    }

    /// Whether a path-scoped rule applies at `prefix/name`, joined in `buf` (reused: this runs
    /// on every blob entry of every tree).
    pub fn names(&self, prefix: &[u8], name: &[u8], buf: &mut Vec<u8>) -> bool {
        if self.tails.as_ref().is_some_and(|t| !t.may_end(name)) {
            return false;
        }
        buf.clear();
        if !prefix.is_empty() {
            buf.extend_from_slice(prefix);
            buf.push(b'/');
        }
        buf.extend_from_slice(name);
        self.matches(buf)
    }
}

/// The literals (in ASCII lower case) a path must end with one of, ignoring ASCII case, with
/// their last bytes as a table for the first look and their last two bytes as the key of the few
/// to compare: this runs on every blob entry of every tree, and a pack with a filter such as
/// `.env(.local|.prod|...){0,2}` has hundreds of literals.
struct Tails {
    last: [bool; 256],
    /// For each last two bytes (lower case, `hi << 8 | lo`), 1 + the index in `buckets` of the
    /// literals of two bytes or more that end with them, or 0: a table, not a hash map, since
    /// this is asked once per blob entry of every tree.
    by_last_two: Vec<u32>,
    buckets: Vec<Vec<Vec<u8>>>,
    /// Whether a one-byte literal ends with this (lower-case) byte.
    single: [bool; 256],
}

impl Tails {
    fn new(literals: Vec<Vec<u8>>) -> Tails {
        let mut last = [false; 256];
        let mut single = [false; 256];
        let mut by_last_two = vec![0u32; 1 << 16];
        let mut buckets: Vec<Vec<Vec<u8>>> = Vec::new();
        for l in literals {
            let Some(&b) = l.last() else { continue };
            last[b as usize] = true;
            last[b.to_ascii_uppercase() as usize] = true;
            match l.len() {
                1 => single[b as usize] = true,
                n => {
                    let key = usize::from(l[n - 2]) << 8 | usize::from(b);
                    if by_last_two[key] == 0 {
                        buckets.push(Vec::new());
                        by_last_two[key] = buckets.len() as u32;
                    }
                    buckets[by_last_two[key] as usize - 1].push(l);
                }
            }
        }
        Tails {
            last,
            by_last_two,
            buckets,
            single,
        }
    }

    /// Whether a path that ends with `text` may end with one of the literals, ignoring ASCII
    /// case: `text` ends with it, or it is longer and ends with `text` (it may reach into what
    /// comes before, a file name's directory). False means no filter can match.
    fn may_end(&self, text: &[u8]) -> bool {
        let Some(&b) = text.last() else {
            return false;
        };
        if !self.last[b as usize] {
            return false;
        }
        let b = b.to_ascii_lowercase();
        // One byte of text: some literal ends with it (the table above said so).
        let Some(&a) = text.len().checked_sub(2).map(|i| &text[i]) else {
            return true;
        };
        if self.single[b as usize] {
            return true;
        }
        let key = usize::from(a.to_ascii_lowercase()) << 8 | usize::from(b);
        match self.by_last_two[key] {
            0 => false,
            k => self.buckets[k as usize - 1].iter().any(|l| {
                let n = l.len().min(text.len());
                text[text.len() - n..].eq_ignore_ascii_case(&l[l.len() - n..])
            }),
        }
    }
}

/// Literals (ASCII lower case) every match of `pattern` ends with one of, ignoring ASCII case,
/// if every match ends at the end of the text (`$`) and there are finitely many (a suffix of a
/// literal that is too long to list is listed instead).
fn suffixes(pattern: &str) -> Option<Vec<Vec<u8>>> {
    // Tails are compared ignoring ASCII case anyway, so a filter that is case-insensitive as a
    // whole has the tails of the same filter without `(?i)`, folded: read that way first, since
    // every case variant of a long alternation is more literals than any limit.
    if let Some(rest) = pattern.strip_prefix("(?i)")
        && let Some(tails) = suffixes_of(rest)
    {
        return Some(tails);
    }
    suffixes_of(pattern)
}

fn suffixes_of(pattern: &str) -> Option<Vec<Vec<u8>>> {
    let hir = regex_syntax::ParserBuilder::new()
        .utf8(false)
        .build()
        .parse(pattern)
        .ok()?;
    if !hir.properties().look_set_suffix().contains(Look::End) {
        return None;
    }
    // Case-insensitive filters (`(?i)...pgpass`) give a literal per case variant: room for
    // them, then folded to lower case, where they are a handful.
    let mut seq = Extractor::new()
        .kind(ExtractKind::Suffix)
        .limit_total(10_000)
        .extract(&hir);
    seq.optimize_for_suffix_by_preference();
    let lits = seq.literals()?;
    let mut out: Vec<Vec<u8>> = lits
        .iter()
        .map(|l| l.as_bytes().to_ascii_lowercase())
        .collect();
    out.sort_by(|a, b| (a.len(), a).cmp(&(b.len(), b)));
    out.dedup();
    // A literal that ends with a shorter one adds nothing.
    let mut kept: Vec<Vec<u8>> = Vec::new();
    for l in out {
        if !kept.iter().any(|k| l.ends_with(k)) {
            kept.push(l);
        }
    }
    if kept.is_empty() || kept.iter().any(Vec::is_empty) {
        return None;
    }
    Some(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tails(pattern: &str) -> Option<Vec<String>> {
        suffixes(pattern).map(|v| {
            let mut v: Vec<String> = v
                .into_iter()
                .map(|l| String::from_utf8_lossy(&l).into_owned())
                .collect();
            v.sort();
            v
        })
    }

    #[test]
    fn what_a_path_filter_can_end_with() {
        assert_eq!(tails(r"(?:^|/)\.pgpass$").unwrap(), [".pgpass"]);
        let ci = tails(r"(?i)(?:^|/)\.?pgpass(?:\.conf)?$").unwrap();
        assert!(ci.iter().all(|t| !t.is_empty()), "{ci:?}");
        assert!(ci.len() <= 8, "{ci:?}");
        let t = Tails::new(suffixes(r"(?i)(?:^|/)\.?pgpass(?:\.conf)?$").unwrap());
        for path in [
            ".pgpass",
            "home/PGPASS",
            "etc/pgpass.conf",
            "a/.PgPass.Conf",
        ] {
            assert!(t.may_end(path.as_bytes()), "{path}: {ci:?}");
        }
        // The end of a literal longer than a file name: the name alone may still match.
        assert!(t.may_end(b"s"));
        for path in ["src/main.rs", "lib/pgpass.rs", "Cargo.lock", "x"] {
            assert!(!t.may_end(path.as_bytes()), "{path}: {ci:?}");
        }
        // Not anchored at the end: a match may end anywhere.
        assert_eq!(tails(r"(?:^|/)secrets/"), None);
        assert_eq!(tails(r"\.env$|config"), None);
    }

    #[test]
    fn every_default_path_filter_ends_in_listed_literals() {
        // A filter whose matches can end with anything turns the tails test off for all of them:
        // history then runs the filters' regex on every path of every tree and cannot build its
        // skeleton of trees (on git/git: 25 s instead of about 10 s).
        let set = crate::rules::RuleSet::builtin().unwrap();
        for rule in set.rules() {
            if let Some(path) = &rule.path {
                assert!(
                    suffixes(path.as_str()).is_some(),
                    "{}: path filter `{}` can end with anything",
                    rule.id,
                    path.as_str()
                );
            }
        }
    }
}
