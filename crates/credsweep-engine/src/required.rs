//! Bytes a rule's regex cannot match without: a check that costs a `memchr` before a regex run.
//!
//! A keyword hit says a rule *may* match on a line; most lines with a rule's keyword hold no
//! match. On rust-lang/cargo's history the URL rules ran half a million times on lines with
//! `://` (nearly every URL) and matched nothing, since a credential in a URL needs an `@`; the
//! generic assignment rules ran on every line with `token` or `key`, most of which assign
//! nothing. Running a regex costs its set-up and a scan of the line; finding that the line has no
//! `@` costs one `memchr`. [`Required::of`] reads, from a rule's parsed regex, the small sets of
//! bytes every match must contain one of (`@`; one of `:` `=`; one of `"` `'` `` ` ``), and the
//! matcher runs the regex on a window only if each set has a byte in it ([`Required::found_in`]).
//!
//! The analysis is sound by construction: a concatenation needs what each part needs, an
//! alternation only what all its branches need, an optional part nothing. Only sets of at most
//! three bytes are kept (one `memchr3`), only those the rule's keywords do not already imply,
//! and only the rarest few, so the check stays far cheaper than what it saves.

use regex_syntax::hir::{Class, Hir, HirKind};

mod anchor;
mod run;

pub use anchor::Anchor;
pub use run::SecretRun;

/// The most bytes in one set: a set is checked with one `memchr`, `memchr2` or `memchr3`.
const MAX_SET: usize = 3;

/// The most sets a rule checks: each is a pass over the window.
const MAX_CHECKED: usize = 2;

/// A set beyond this many (while analysing one node) is dropped: a long literal needs every one
/// of its bytes, but a few rare ones are all the check can use.
const MAX_SETS: usize = 64;

/// A set of one to three bytes, sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct ByteSet {
    bytes: [u8; MAX_SET],
    len: u8,
}

impl ByteSet {
    fn one(b: u8) -> ByteSet {
        ByteSet {
            bytes: [b, 0, 0],
            len: 1,
        }
    }

    fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// The union of two sets, if it is small enough to check.
    fn union(&self, other: &ByteSet) -> Option<ByteSet> {
        let mut all: Vec<u8> = self.as_slice().to_vec();
        all.extend_from_slice(other.as_slice());
        ByteSet::of(all)
    }

    fn of(mut bytes: Vec<u8>) -> Option<ByteSet> {
        bytes.sort_unstable();
        bytes.dedup();
        if bytes.is_empty() || bytes.len() > MAX_SET {
            return None;
        }
        let mut set = ByteSet {
            bytes: [0; MAX_SET],
            len: bytes.len() as u8,
        };
        set.bytes[..bytes.len()].copy_from_slice(&bytes);
        Some(set)
    }

    fn is_subset_of(&self, other: &ByteSet) -> bool {
        self.as_slice().iter().all(|b| other.as_slice().contains(b))
    }

    /// How often the set's bytes are expected in text and code: lower is a better filter.
    fn commonness(&self) -> u32 {
        self.as_slice().iter().map(|&b| commonness(b)).sum()
    }

    fn found_in(&self, hay: &[u8]) -> bool {
        match *self.as_slice() {
            [a] => memchr::memchr(a, hay).is_some(),
            [a, b] => memchr::memchr2(a, b, hay).is_some(),
            [a, b, c] => memchr::memchr3(a, b, c, hay).is_some(),
            _ => true,
        }
    }
}

/// A rough rank of how common a byte is in source code and configuration (the keyword
/// prefilter uses it too, to pick the rarest part of a keyword to look up).
pub(crate) fn commonness(b: u8) -> u32 {
    match b {
        b' ' | b'\t' | b'\n' | b'\r' => 12,
        b'e' | b't' | b'a' | b'o' | b'i' | b'n' | b's' | b'r' | b'l' => 6,
        b'a'..=b'z' => 4,
        b'0'..=b'9' | b'_' | b'.' | b'(' | b')' | b',' | b';' | b'"' => 4,
        b'A'..=b'Z' | b'-' | b'/' | b':' | b'=' | b'\'' | b'{' | b'}' => 3,
        _ => 1,
    }
}

/// The byte sets a rule's regex needs, at most `MAX_CHECKED` (two) of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Required {
    sets: Vec<ByteSet>,
}

impl Required {
    /// What every match of `hir` must contain, less what any hit of the rule's `keywords`
    /// already holds (lower-cased if `folded`: a hit may then be in any case).
    pub fn of(hir: &Hir, keywords: &[String], folded: bool) -> Required {
        let mut sets = needs(hir);
        // A set the keyword hit itself satisfies says nothing about the line: each rule's window
        // holds one of its keywords, so only a set that no keyword implies is worth checking.
        sets.retain(|set| {
            !keywords.is_empty()
                && !keywords.iter().all(|k| {
                    k.bytes().any(|kb| {
                        if folded {
                            // The hit may be written in any case: it implies the set only if the
                            // set holds the byte in both cases.
                            set.as_slice().contains(&kb.to_ascii_lowercase())
                                && set.as_slice().contains(&kb.to_ascii_uppercase())
                        } else {
                            set.as_slice().contains(&kb)
                        }
                    })
                })
        });
        // Common bytes (letters, spaces) are on nearly every line: checking them costs a pass and
        // saves nothing.
        sets.retain(|s| s.commonness() <= 8);
        sets.sort_by_key(|s| (s.commonness(), *s));
        sets.truncate(MAX_CHECKED);
        Required { sets }
    }

    /// Whether `hay` holds a byte of every set: if not, no match of the regex lies in it.
    pub fn found_in(&self, hay: &[u8]) -> bool {
        self.sets.iter().all(|s| s.found_in(hay))
    }

    /// Whether there is anything to check.
    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// The sets, each as its bytes (for tests and `rules` listings).
    pub fn sets(&self) -> Vec<Vec<u8>> {
        self.sets.iter().map(|s| s.as_slice().to_vec()).collect()
    }
}

/// The sets of which every match of `hir` contains a byte of each (not all of them: sets too
/// large to check, and sets past [`MAX_SETS`], are left out, which only weakens the check).
fn needs(hir: &Hir) -> Vec<ByteSet> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Vec::new(),
        HirKind::Literal(lit) => {
            let mut sets: Vec<ByteSet> = lit.0.iter().map(|&b| ByteSet::one(b)).collect();
            tidy(&mut sets);
            sets
        }
        HirKind::Class(class) => class_set(class).into_iter().collect(),
        HirKind::Repetition(r) if r.min >= 1 => needs(&r.sub),
        HirKind::Repetition(_) => Vec::new(),
        HirKind::Capture(c) => needs(&c.sub),
        HirKind::Concat(subs) => {
            let mut sets: Vec<ByteSet> = subs.iter().flat_map(needs).collect();
            tidy(&mut sets);
            sets
        }
        HirKind::Alternation(subs) => {
            let branches: Vec<Vec<ByteSet>> = subs.iter().map(needs).collect();
            let Some((first, rest)) = branches.split_first() else {
                return Vec::new();
            };
            // A set of the first branch, widened by the set of each other branch that widens it
            // least, is needed by every branch, hence by the alternation.
            let mut sets: Vec<ByteSet> = first
                .iter()
                .filter_map(|a| {
                    rest.iter().try_fold(*a, |acc, branch| {
                        branch
                            .iter()
                            .filter_map(|b| acc.union(b))
                            .min_by_key(|u| (u.len, u.commonness()))
                    })
                })
                .collect();
            tidy(&mut sets);
            sets
        }
    }
}

/// Sorts and dedups `sets`, drops a set that a smaller one implies (needing one of `:` makes
/// needing one of `:` `=` redundant) and keeps at most [`MAX_SETS`], the rarest.
fn tidy(sets: &mut Vec<ByteSet>) {
    sets.sort_unstable();
    sets.dedup();
    let all = sets.clone();
    sets.retain(|s| !all.iter().any(|t| t != s && t.is_subset_of(s)));
    if sets.len() > MAX_SETS {
        sets.sort_by_key(|s| (s.commonness(), *s));
        sets.truncate(MAX_SETS);
    }
}

/// The bytes a class matches, if it matches only a few single bytes (an ASCII class of at most
/// [`MAX_SET`] characters, or such a byte class).
fn class_set(class: &Class) -> Option<ByteSet> {
    let mut bytes = Vec::new();
    match class {
        Class::Unicode(c) => {
            for r in c.ranges() {
                let (s, e) = (r.start() as u32, r.end() as u32);
                if e > 0x7f || e - s >= MAX_SET as u32 {
                    return None;
                }
                bytes.extend((s..=e).map(|b| b as u8));
                if bytes.len() > MAX_SET {
                    return None;
                }
            }
        }
        Class::Bytes(c) => {
            for r in c.ranges() {
                if r.end() - r.start() >= MAX_SET as u8 {
                    return None;
                }
                bytes.extend(r.start()..=r.end());
                if bytes.len() > MAX_SET {
                    return None;
                }
            }
        }
    }
    ByteSet::of(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn required(pattern: &str, keywords: &[&str], folded: bool) -> Vec<Vec<u8>> {
        let hir = regex_syntax::ParserBuilder::new()
            .utf8(false)
            .build()
            .parse(pattern)
            .unwrap();
        let kws: Vec<String> = keywords.iter().map(|k| k.to_string()).collect();
        Required::of(&hir, &kws, folded).sets()
    }

    #[test]
    fn a_credential_in_a_url_needs_an_at_sign() {
        let sets = required(
            r#"(?:\b|%[0-9A-Fa-f]{2})[A-Za-z][A-Za-z0-9+.-]{1,30}://[^\s:/@]{1,128}:(?P<secret>[^\s:/@]{3,128})@[A-Za-z0-9.-]+"#,
            &["://"],
            true,
        );
        assert_eq!(sets, [b"@".to_vec()]);
    }

    #[test]
    fn an_alternation_needs_only_what_every_branch_needs() {
        // `:=` and `:` and `=`: every branch has one of `:` `=`.
        let sets = required(
            r#"(?i)token[ \t]*(?::=|=>|=|:)[ \t]*["'`](?P<secret>\w{12,})["'`]"#,
            &["token"],
            true,
        );
        assert!(sets.contains(&b":=".to_vec()), "{sets:?}");
        assert!(sets.contains(&b"\"'`".to_vec()), "{sets:?}");
        // Either `@` or `#`; a branch that needs nothing (a boundary) leaves nothing needed.
        let either = required(r"(?:@x|#y)(?i:key)(?P<secret>\w+)", &["key"], true);
        assert!(either.contains(&b"#@".to_vec()), "{either:?}");
        assert!(required(r"(?:@|\b)(?i:key)(?P<secret>\w+)", &["key"], true).is_empty());
    }

    #[test]
    fn optional_parts_and_what_the_keyword_holds_are_not_required() {
        assert!(required(r"(?i:key)(?:@)?(?P<secret>\w+)", &["key"], true).is_empty());
        // The keyword `a@b` always brings its `@`.
        assert!(required(r"a@b(?P<secret>\w+)", &["a@b"], false).is_empty());
        // A folded keyword may be hit in any case: it implies `[xX]`, but not `x` alone.
        assert!(required(r"(?i)x#(?P<secret>\w+)", &["x#"], true).is_empty());
        assert_eq!(
            required(r"(?i)kx#(?P<secret>\w+)", &["kx"], true),
            [b"#".to_vec()]
        );
        let exact = required(r"kx#(?P<secret>\w+)", &["kx"], true);
        assert_eq!(exact, [b"#".to_vec(), b"k".to_vec()]);
        assert_eq!(
            required(r"kx#(?P<secret>\w+)", &["kx"], false),
            [b"#".to_vec()]
        );
    }

    #[test]
    fn a_window_without_a_needed_byte_is_skipped() {
        let hir = regex_syntax::Parser::new()
            .parse(r"://\w+:(?P<secret>\w+)@")
            .unwrap();
        let r = Required::of(&hir, &["://".to_string()], true);
        assert!(!r.found_in(b"see https://example.invalid/docs"));
        assert!(r.found_in(b"https://user:pw@example.invalid"));
    }

    #[test]
    fn every_match_holds_every_required_set() {
        // Soundness on a few shapes: whatever the analysis keeps, each match contains.
        let cases = [
            (
                r"(?i)(?:secret|token)[ \t]*[:=][ \t]*(?P<secret>[a-z0-9]{8})",
                "Token = abcd1234",
            ),
            (
                r"(?:pwd=|password:)(?P<secret>\S+)",
                "password:hunter2hunter2",
            ),
            (r"x{2,}(?P<secret>[#!])", "xxx!"),
        ];
        for (pattern, hay) in cases {
            let hir = regex_syntax::Parser::new().parse(pattern).unwrap();
            let r = Required::of(&hir, &["zzzz".to_string()], true);
            let re = regex::bytes::Regex::new(pattern).unwrap();
            let m = re.find(hay.as_bytes()).unwrap();
            assert!(
                r.found_in(&hay.as_bytes()[m.range()]),
                "{pattern}: {:?}",
                r.sets()
            );
        }
    }
}
