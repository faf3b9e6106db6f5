//! A string every match of a rule's regex contains: where to look when the rule's keyword is on
//! every line.
//!
//! A rule's keywords say where its regex may match. When a keyword floods a buffer (`bearer` in
//! `token_type=bearer` on every line of a log, `token` all over a minified bundle), the matcher
//! gives up on windows and runs the regex over the whole buffer, at a tenth of the speed of a
//! literal search. Yet the regex may need a longer, rarer string than its keyword:
//! http-bearer-token's regex needs `authorization` before `bearer`. [`Anchor::of`] reads such a
//! string from the parsed regex, and the matcher then looks for it ([`Anchor::find_all`]): where it
//! is absent the regex cannot match, and where it is rare the regex runs on the lines around it
//! instead of on the whole buffer.
//!
//! The analysis is sound by construction: a literal is needed by a match of itself; a
//! concatenation needs what each part needs, and the strings its adjacent fixed parts spell
//! together; a repetition of at least one needs what its part needs; an alternation, an optional
//! part or a class of more than one letter in two cases needs nothing here. The search ignores
//! ASCII case, which only finds more places, never fewer.

use std::ops::Range;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, Span, packed};
use regex_syntax::hir::{Class, Hir, HirKind};

/// A needed string shorter than this is not an anchor: short strings are common.
const MIN_LEN: usize = 5;

/// A fixed part longer than this is not spelled out (a repetition `x{1000}`): the analysis stays
/// small, and the strings of its parts are still needed.
const MAX_LEN: usize = 64;

/// A string every match of a rule's regex contains, compared without regard to ASCII case.
#[derive(Debug, Clone)]
pub struct Anchor {
    /// The string, ASCII lower-case.
    needle: Vec<u8>,
    /// Its search, built on first use: most rules' keywords never flood a buffer.
    finder: OnceLock<Finder>,
}

impl PartialEq for Anchor {
    fn eq(&self, other: &Anchor) -> bool {
        self.needle == other.needle
    }
}

impl Anchor {
    /// The longest string every match of `hir` contains, if it is at least five bytes long
    /// and no keyword holds it (a keyword that holds the string is at least as rare as it: looking
    /// for the string instead would find at least every keyword hit).
    pub fn of(hir: &Hir, keywords: &[String]) -> Option<Anchor> {
        let needle = pieces(hir)
            .needed
            .into_iter()
            .filter(|s| s.len() >= MIN_LEN)
            .filter(|s| {
                !keywords.iter().any(|k| {
                    k.len() >= s.len()
                        && k.as_bytes()
                            .windows(s.len())
                            .any(|w| w.eq_ignore_ascii_case(s))
                })
            })
            .max_by(|a, b| a.len().cmp(&b.len()).then_with(|| b.cmp(a)))?;
        Some(Anchor {
            needle,
            finder: OnceLock::new(),
        })
    }

    /// The string, ASCII lower-case.
    pub fn needle(&self) -> &[u8] {
        &self.needle
    }

    /// Puts into `out` (cleared first) where the string is in `hay`, overlapping places included,
    /// in order; `false` if there are more than `max` of them, or if, past the first eighth of
    /// `hay`, those found so far are too dense for the whole of `hay` to hold at most `max` (then
    /// `out` holds those found until it stopped). A string as common as the keyword it would
    /// replace (`Authorization:"Bearer "` all over a bundle) is then given up on early: the
    /// caller searches the whole buffer anyway.
    pub fn find_all(&self, hay: &[u8], max: usize, out: &mut Vec<Range<usize>>) -> bool {
        out.clear();
        let finder = self.finder.get_or_init(|| Finder::new(&self.needle));
        let eighth = hay.len() / 8;
        let mut keep = |place: Range<usize>| {
            if out.len() == max {
                return false;
            }
            let end = place.end;
            out.push(place);
            !(end > eighth && out.len() * hay.len() > max * end)
        };
        match finder {
            Finder::Packed { searcher, at } => {
                let mut from = 0;
                while let Some(m) = searcher.find_in(hay, Span::from(from..hay.len())) {
                    from = m.start() + 1;
                    let Some(start) = m.start().checked_sub(*at) else {
                        continue;
                    };
                    let end = start + self.needle.len();
                    if end <= hay.len()
                        && hay[start..end].eq_ignore_ascii_case(&self.needle)
                        && !keep(start..end)
                    {
                        return false;
                    }
                }
            }
            Finder::Automaton(Some(ac)) => {
                for m in ac.find_overlapping_iter(hay) {
                    if !keep(m.range()) {
                        return false;
                    }
                }
            }
            // Cannot happen for one short pattern; if it did, say "everywhere".
            Finder::Automaton(None) => return false,
        }
        true
    }
}

/// The search of an [`Anchor`].
#[derive(Debug, Clone)]
enum Finder {
    /// Every way of writing the needle's rarest three bytes in upper and lower case (at most
    /// eight strings), found by a SIMD multi-string search; each place is then compared with the
    /// whole needle. One case-insensitive automaton over the needle ran at 16 instructions a
    /// byte on a minified bundle, its one rare byte being common there.
    Packed {
        searcher: packed::Searcher,
        /// Where the three bytes are in the needle.
        at: usize,
    },
    /// Where the CPU has no such search.
    Automaton(Option<AhoCorasick>),
}

impl Finder {
    fn new(needle: &[u8]) -> Finder {
        let width = needle.len().min(3);
        let at = (0..=needle.len() - width)
            .min_by_key(|&i| {
                needle[i..i + width]
                    .iter()
                    .map(|&b| super::commonness(b))
                    .sum::<u32>()
            })
            .unwrap_or(0);
        let mut variants: Vec<Vec<u8>> = vec![Vec::new()];
        for &b in &needle[at..at + width] {
            let cases = if b.is_ascii_alphabetic() {
                vec![b.to_ascii_lowercase(), b.to_ascii_uppercase()]
            } else {
                vec![b]
            };
            variants = variants
                .iter()
                .flat_map(|v| {
                    cases.iter().map(move |&c| {
                        let mut v = v.clone();
                        v.push(c);
                        v
                    })
                })
                .collect();
        }
        match packed::Config::new().builder().extend(&variants).build() {
            Some(searcher) => Finder::Packed { searcher, at },
            None => Finder::Automaton(
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .build([needle])
                    .ok(),
            ),
        }
    }
}

/// What a part of a regex says about the strings in its matches.
struct Pieces {
    /// The one string the part always matches, lower-cased, if it is fixed (up to ASCII case).
    fixed: Option<Vec<u8>>,
    /// Strings every match of the part contains, lower-cased.
    needed: Vec<Vec<u8>>,
}

impl Pieces {
    fn nothing() -> Pieces {
        Pieces {
            fixed: None,
            needed: Vec::new(),
        }
    }

    fn fixed(s: Vec<u8>) -> Pieces {
        let needed = if s.is_empty() {
            Vec::new()
        } else {
            vec![s.clone()]
        };
        Pieces {
            fixed: Some(s).filter(|s| s.len() <= MAX_LEN),
            needed,
        }
    }
}

fn pieces(hir: &Hir) -> Pieces {
    match hir.kind() {
        // Zero-width: the strings on either side are next to each other in the match.
        HirKind::Empty | HirKind::Look(_) => Pieces::fixed(Vec::new()),
        HirKind::Literal(lit) => Pieces::fixed(lit.0.to_ascii_lowercase()),
        HirKind::Class(class) => match one_letter(class) {
            Some(b) => Pieces::fixed(vec![b]),
            None => Pieces::nothing(),
        },
        HirKind::Capture(c) => pieces(&c.sub),
        HirKind::Repetition(r) if r.min >= 1 => {
            let sub = pieces(&r.sub);
            let fixed = match (&sub.fixed, r.max) {
                (Some(s), Some(max)) if max == r.min && s.len() * (max as usize) <= MAX_LEN => {
                    Some(s.repeat(max as usize))
                }
                _ => None,
            };
            match fixed {
                Some(s) => Pieces::fixed(s),
                None => Pieces {
                    fixed: None,
                    needed: sub.needed,
                },
            }
        }
        HirKind::Repetition(_) | HirKind::Alternation(_) => Pieces::nothing(),
        HirKind::Concat(subs) => {
            let mut needed = Vec::new();
            let mut run: Vec<u8> = Vec::new();
            let mut all_fixed = true;
            for sub in subs.iter().map(pieces) {
                match sub.fixed {
                    Some(s) if run.len() + s.len() <= MAX_LEN => run.extend_from_slice(&s),
                    Some(s) => {
                        // Too long to spell out: what is spelled so far is needed, and so is
                        // what comes next.
                        all_fixed = false;
                        needed.push(std::mem::replace(&mut run, s));
                    }
                    None => {
                        all_fixed = false;
                        needed.push(std::mem::take(&mut run));
                        needed.extend(sub.needed);
                    }
                }
            }
            if all_fixed {
                return Pieces::fixed(run);
            }
            needed.push(run);
            needed.retain(|s| !s.is_empty());
            Pieces {
                fixed: None,
                needed,
            }
        }
    }
}

/// The byte a class stands for, lower-cased, if it matches one byte or one ASCII letter in both
/// cases (`(?i)a` is `[Aa]`; `(?i)k` with Unicode is `[Kk\u{212A}]`, which is not one letter).
fn one_letter(class: &Class) -> Option<u8> {
    let mut bytes = [0u8; 2];
    let mut n = 0;
    let mut add = |start: u32, end: u32| -> Option<()> {
        for b in start..=end {
            if b > 0x7f || n == 2 {
                return None;
            }
            bytes[n] = b as u8;
            n += 1;
        }
        Some(())
    };
    match class {
        Class::Unicode(c) => {
            for r in c.ranges() {
                add(r.start() as u32, r.end() as u32)?;
            }
        }
        Class::Bytes(c) => {
            for r in c.ranges() {
                if r.end() > 0x7f {
                    return None;
                }
                add(u32::from(r.start()), u32::from(r.end()))?;
            }
        }
    }
    match (n, bytes) {
        (1, [b, _]) => Some(b.to_ascii_lowercase()),
        (2, [a, b]) if a.is_ascii_alphabetic() && a.eq_ignore_ascii_case(&b) && a != b => {
            Some(a.to_ascii_lowercase())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anchor(pattern: &str, keywords: &[&str]) -> Option<String> {
        let hir = regex_syntax::ParserBuilder::new()
            .utf8(false)
            .build()
            .parse(pattern)
            .unwrap();
        let kws: Vec<String> = keywords.iter().map(|k| k.to_string()).collect();
        Anchor::of(&hir, &kws).map(|a| String::from_utf8(a.needle).unwrap())
    }

    #[test]
    fn a_bearer_header_needs_its_header_name() {
        assert_eq!(
            anchor(
                r#"(?i)(?:\b|%[0-9A-Fa-f]{2}|\\[nrt])authorization["']?[ \t]*[:=,][ \t]*["']?bearer[ \t]+(?P<secret>[A-Za-z0-9._~+/-]{20,}=*)"#,
                &["bearer"]
            )
            .as_deref(),
            Some("authorization")
        );
    }

    #[test]
    fn what_a_keyword_holds_or_what_is_optional_is_no_anchor() {
        // The keyword holds the only long string.
        assert_eq!(
            anchor(r"(?i)bearer\s+(?P<secret>\w{20})", &["bearer"]),
            None
        );
        assert_eq!(
            anchor(r"(?i)bearer\s+(?P<secret>\w{20})", &["BEARER "]),
            None
        );
        // Optional, or one branch of two.
        assert_eq!(anchor(r"(?:password)?=(?P<secret>\w+)", &["="]), None);
        assert_eq!(anchor(r"(?:password|passwd)=(?P<secret>\w+)", &["="]), None);
        // Too short.
        assert_eq!(anchor(r"pwd=(?P<secret>\w+)", &["="]), None);
        // `(?i)s` with Unicode is `[Ss\u{17F}]`: it breaks the string, `ecret` is left.
        assert_eq!(
            anchor(r"(?i)xsecret=(?P<secret>\w+)", &["="]).as_deref(),
            Some("ecret=")
        );
        assert_eq!(
            anchor(r"(?i-u)xsecret=(?P<secret>\w+)", &["="]).as_deref(),
            Some("xsecret=")
        );
    }

    #[test]
    fn fixed_parts_join_across_groups_boundaries_and_counted_repeats() {
        assert_eq!(
            anchor(r"\b(?:api)_(?:key){1}\b-{2}(?P<secret>\w+)", &["zz"]).as_deref(),
            Some("api_key--")
        );
        // A repetition of at least one needs what its part needs.
        assert_eq!(
            anchor(r"(?:[a-z]+access_token)+(?P<secret>\w+)", &["zz"]).as_deref(),
            Some("access_token")
        );
    }

    /// Soundness: on generated patterns and haystacks, every match of the regex contains the
    /// anchor, ignoring ASCII case.
    #[test]
    fn every_match_holds_the_anchor() {
        let mut rng = crate::test_rng::Rng(0x5eed_a2c4);
        let parts = [
            "token",
            "(?i:bearer)",
            "[A-Z]",
            "x{2}",
            "(?:ab|cd)",
            "=",
            r"\s*",
            "(?:_key)?",
            "[Kk]",
            "(?i)secret",
            "(?-i:Auth)",
            r"\b",
            "[0-9]+",
            "(?:wxyz)+",
            "(?:apikey)?",
            "(?:token)*",
            "(?:tokens|apikey)",
            "(?i:AUTH)",
            "(?:-x)",
            "[kq]",
        ];
        // Haystacks are made of the parts' own strings, so that the patterns match often.
        let atoms = [
            "token", "TOKEN", "bearer", "BeArEr", "Q", "xx", "ab", "cd", "=", " ", "_key", "K",
            "k", "secret", "SECRET", "Auth", "auth", "7", "wxyz", "WXYZ", "-", "apikey", "tokens",
            "-x", "q",
        ];
        let mut checked = 0;
        for _ in 0..3000 {
            let n = 2 + rng.below(5);
            let pattern: String = (0..n).map(|_| parts[rng.below(parts.len())]).collect();
            let Some(needle) = anchor(&pattern, &["zz"]) else {
                continue;
            };
            let re = regex::bytes::Regex::new(&pattern).unwrap();
            for _ in 0..20 {
                let len = rng.below(12);
                let hay: String = (0..len).map(|_| atoms[rng.below(atoms.len())]).collect();
                for m in re.find_iter(hay.as_bytes()) {
                    let text = m.as_bytes().to_ascii_lowercase();
                    assert!(
                        text.windows(needle.len()).any(|w| w == needle.as_bytes()),
                        "{pattern}: {:?} lacks {needle}",
                        String::from_utf8_lossy(m.as_bytes())
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 100, "too few matches checked: {checked}");
    }

    #[test]
    fn find_all_finds_what_a_naive_search_finds() {
        let mut rng = crate::test_rng::Rng(0xa11_c0de);
        for pattern in [
            "(?i)authorization",
            "(?i-u)zz_zzz",
            "end=POINT",
            "(?i)a-b-c-d",
        ] {
            let hir = regex_syntax::Parser::new().parse(pattern).unwrap();
            let a = Anchor::of(&hir, &[]).unwrap();
            let needle = a.needle().to_vec();
            let mut alphabet = needle.clone();
            alphabet.extend(needle.to_ascii_uppercase());
            alphabet.extend_from_slice(b" \n");
            for len in [0, 3, 40, 300, 5000] {
                let mut hay = rng.text(&alphabet, len);
                // Some whole needles, in mixed case.
                for _ in 0..len / 100 {
                    let at = rng.below(hay.len() - needle.len().min(hay.len()) + 1);
                    for (i, &b) in needle.iter().enumerate() {
                        if at + i < hay.len() {
                            hay[at + i] = if rng.below(2) == 0 {
                                b
                            } else {
                                b.to_ascii_uppercase()
                            };
                        }
                    }
                }
                let naive: Vec<Range<usize>> = (0..hay.len().saturating_sub(needle.len() - 1))
                    .filter(|&i| hay[i..i + needle.len()].eq_ignore_ascii_case(&needle))
                    .map(|i| i..i + needle.len())
                    .collect();
                let mut out = Vec::new();
                assert!(a.find_all(&hay, usize::MAX / hay.len().max(1), &mut out));
                assert_eq!(
                    out,
                    naive,
                    "{pattern} in {:?}",
                    String::from_utf8_lossy(&hay)
                );
            }
        }
    }

    #[test]
    fn find_all_ignores_case_counts_overlaps_and_stops_at_max() {
        let hir = regex_syntax::Parser::new().parse("(?i-u)aaaaa").unwrap();
        let a = Anchor::of(&hir, &[]).unwrap();
        let mut out = Vec::new();
        assert!(a.find_all(b"xx AaAaAa yy aaaaa", 10, &mut out));
        assert_eq!(out, [3..8, 4..9, 13..18]);
        assert!(!a.find_all(b"xx AaAaAa yy aaaaa", 2, &mut out));
        assert!(a.find_all(b"no such string", 10, &mut out));
        assert!(out.is_empty());
        // 15 places, half of the 30 allowed, but all of them early: at that rate the whole would
        // hold far more than 30, and the search stops at the sixth.
        let dense = [" ".repeat(200), "aaaaa ".repeat(15), " ".repeat(1000)].concat();
        assert!(!a.find_all(dense.as_bytes(), 30, &mut out));
        assert_eq!(out.len(), 6);
        // Spread over the whole, the same 15 are all found.
        let spread = format!("{} ", "aaaaa".to_string() + &" ".repeat(80)).repeat(15);
        assert!(a.find_all(spread.as_bytes(), 30, &mut out));
        assert_eq!(out.len(), 15);
    }
}
