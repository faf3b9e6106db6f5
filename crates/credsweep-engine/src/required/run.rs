//! The run of bytes a rule's secret is: a check before a regex run that looks at the secret, not
//! only at the bytes the whole match needs.
//!
//! The generic rules' secrets are runs of one byte class between two delimiters:
//! `` ["'`](?P<secret>[^"'`\s\\]{12,256})["'`] `` (a quoted value), or
//! `(?P<secret>[^\s…]{12,256})`
//! at the end of a line (`KEY=value`). Their keywords (`key`, `token`, `secret`) are on tens of
//! thousands of source lines, and the bytes the whole match needs ([`super::Required`]: a `:` or
//! `=`, a quote) are on most of them: on 118 MB of crate sources the two rules still ran their
//! regexes 27,000 times and found 6 matches. Nearly none of those lines holds a quoted run of
//! twelve such bytes, or ends in one: Rust lines end in `;`, `,`, `{` or `(`, and a quoted string
//! of twelve bytes mostly holds a space.
//!
//! [`SecretRun::of`] reads from the parsed regex the class of the secret's bytes, its least and
//! most length, and what must be next to it on either side where the regex says so: a byte of a
//! class disjoint from the secret's (a quote), or the end of a line after bytes of a class
//! disjoint from it (`[ \t]*\r?$`). Since the delimiters cannot be secret bytes, the secret is then
//! a whole run of the secret's class, and [`SecretRun::found_in`] looks for such a run in the
//! window. The check is necessary, never sufficient: the regex still decides.

use regex_syntax::hir::{Class, Hir, HirKind, Look};

/// A secret shorter than this at its least is not worth checking: runs that short are everywhere.
const MIN_CHECKED_LEN: u32 = 6;

/// Flags of a byte in [`SecretRun::table`].
const SECRET: u8 = 1;
const BEFORE: u8 = 2;
const AFTER: u8 = 4;

/// What must be right after the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    /// Anything.
    Any,
    /// A byte flagged [`AFTER`].
    Byte,
    /// Bytes flagged [`AFTER`] (none or more), then the end of the haystack, or a `\n` too if
    /// `lf` (`$` in multi-line mode).
    LineEnd { lf: bool },
}

/// The run of bytes every secret of a rule is ([`SecretRun::of`]).
#[derive(Clone, PartialEq, Eq)]
pub struct SecretRun {
    /// Per byte: [`SECRET`] if a secret may hold it, [`BEFORE`] if the byte before the secret may
    /// be it, [`AFTER`] if what follows the secret may hold it (see [`After`]).
    table: [u8; 256],
    /// Whether the byte before the secret is fixed to the [`BEFORE`] bytes.
    before: bool,
    after: After,
    min: usize,
    max: usize,
}

impl std::fmt::Debug for SecretRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretRun")
            .field("before", &self.before)
            .field("after", &self.after)
            .field("min", &self.min)
            .field("max", &self.max)
            .finish_non_exhaustive()
    }
}

impl SecretRun {
    /// The run the capture group `secret` (index `group`) of `hir` is, where the regex fixes one
    /// worth checking: the group is a repetition of one byte class at least six bytes
    /// long, in a concatenation. `None` otherwise.
    pub fn of(hir: &Hir, group: u32) -> Option<SecretRun> {
        match hir.kind() {
            HirKind::Capture(c) if c.index == group => SecretRun::around(&c.sub, None, &[]),
            HirKind::Capture(c) => SecretRun::of(&c.sub, group),
            // A repeated group's secret is that of one of its rounds, which the round's own
            // context bounds; zero rounds leave no secret.
            HirKind::Repetition(r) => SecretRun::of(&r.sub, group),
            // Only a match of the branch that holds the group has a secret.
            HirKind::Alternation(subs) => subs
                .iter()
                .find(|s| holds(s, group))
                .and_then(|s| SecretRun::of(s, group)),
            HirKind::Concat(subs) => {
                let i = subs.iter().position(|s| holds(s, group))?;
                match subs[i].kind() {
                    HirKind::Capture(c) if c.index == group => SecretRun::around(
                        &c.sub,
                        i.checked_sub(1).map(|j| &subs[j]),
                        &subs[i + 1..],
                    ),
                    _ => SecretRun::of(&subs[i], group),
                }
            }
            HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) | HirKind::Look(_) => None,
        }
    }

    /// The run of `secret`, a repetition of one class, with `before` right before it and `after`
    /// following it in the concatenation.
    fn around(secret: &Hir, before: Option<&Hir>, after: &[Hir]) -> Option<SecretRun> {
        let HirKind::Repetition(rep) = secret.kind() else {
            return None;
        };
        if rep.min < MIN_CHECKED_LEN {
            return None;
        }
        let class = bytes_of(&rep.sub)?;
        let mut run = SecretRun {
            table: [0; 256],
            before: false,
            after: After::Any,
            min: rep.min as usize,
            max: rep.max.map_or(usize::MAX, |m| m as usize),
        };
        for b in class {
            run.table[b as usize] |= SECRET;
        }
        // A neighbour that may hold a secret byte does not bound the run: it is left unchecked.
        let secret_bytes = run.table;
        let disjoint = |bytes: &[u8]| {
            bytes
                .iter()
                .all(|&b| secret_bytes[b as usize] & SECRET == 0)
        };
        if let Some(bytes) = before.and_then(|h| edge_bytes(h, Edge::Last))
            && disjoint(&bytes)
        {
            for b in bytes {
                run.table[b as usize] |= BEFORE;
            }
            run.before = true;
        }
        let (after_bytes, after_kind) = after_of(after);
        // A line end after bytes that may be `\n` would be any line end.
        let crosses_line =
            matches!(after_kind, After::LineEnd { .. }) && after_bytes.contains(&b'\n');
        if disjoint(&after_bytes) && !crosses_line {
            for b in after_bytes {
                run.table[b as usize] |= AFTER;
            }
            run.after = after_kind;
        }
        Some(run)
    }

    /// Whether `hay[start..]` holds a run a match found by searching `hay` from `start` could have
    /// as its secret: if not, no such match has a secret.
    pub fn found_in(&self, hay: &[u8], start: usize) -> bool {
        let window = &hay[start..];
        match self.after {
            After::LineEnd { lf } => {
                // Back from each place `$` can match: the end, and each `\n` if `lf`.
                if self.run_ends_at(window, window.len()) {
                    return true;
                }
                lf && memchr::memrchr_iter(b'\n', window).any(|e| self.run_ends_at(window, e))
            }
            _ => {
                let secret = |at: usize| self.table[window[at] as usize] & SECRET != 0;
                // Each run of at least `min` secret bytes, found by looking at the byte `min - 1`
                // on from where one could start and back from there: in text, a byte that is not
                // a secret byte comes soon and the search skips past it. `at` is always the
                // start of the window or just after a byte that is not a secret byte.
                let mut at = 0;
                while at + self.min <= window.len() {
                    let probe = at + self.min - 1;
                    if let Some(k) = (at..=probe).rev().find(|&k| !secret(k)) {
                        at = k + 1;
                        continue;
                    }
                    let mut end = probe + 1;
                    while end < window.len() && secret(end) {
                        end += 1;
                    }
                    if self.fits(window, at, end) {
                        return true;
                    }
                    at = end + 1;
                }
                false
            }
        }
    }

    /// Whether a run of secret bytes ends where `[after bytes]*` before `end` stops, and fits.
    fn run_ends_at(&self, window: &[u8], end: usize) -> bool {
        let mut at = end;
        while at > 0 && self.table[window[at - 1] as usize] & AFTER != 0 {
            at -= 1;
        }
        let run_end = at;
        let floor = if self.before {
            0
        } else {
            run_end.saturating_sub(self.min)
        };
        while at > floor && self.table[window[at - 1] as usize] & SECRET != 0 {
            at -= 1;
        }
        self.fits(window, at, run_end)
    }

    /// Whether the run `window[start..end]` of secret bytes (whole, unless it was cut short once
    /// long enough) can be the secret given what bounds it.
    fn fits(&self, window: &[u8], start: usize, end: usize) -> bool {
        let len = end - start;
        if len < self.min {
            return false;
        }
        if self.before && (start == 0 || self.table[window[start - 1] as usize] & BEFORE == 0) {
            return false;
        }
        match self.after {
            // Nothing bounds the secret's end: a longer run holds a secret of the most length.
            After::Any => true,
            After::LineEnd { .. } => !self.before || len <= self.max,
            After::Byte => {
                end < window.len()
                    && self.table[window[end] as usize] & AFTER != 0
                    && (!self.before || len <= self.max)
            }
        }
    }
}

/// Whether `hir` holds the capture group `group`.
fn holds(hir: &Hir, group: u32) -> bool {
    match hir.kind() {
        HirKind::Capture(c) => c.index == group || holds(&c.sub, group),
        HirKind::Repetition(r) => holds(&r.sub, group),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => subs.iter().any(|s| holds(s, group)),
        HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) | HirKind::Look(_) => false,
    }
}

/// What follows the secret, from the parts of the concatenation after it: a byte of a class (a
/// literal's first byte, or a class repeated at least once), or bytes of optional classes up to
/// the end of the line; [`After::Any`] where the regex fixes neither.
fn after_of(after: &[Hir]) -> (Vec<u8>, After) {
    let Some(first) = after.first() else {
        return (Vec::new(), After::Any);
    };
    if let Some(bytes) = edge_bytes(first, Edge::First) {
        return (bytes, After::Byte);
    }
    let mut skipped = Vec::new();
    for h in after {
        match h.kind() {
            HirKind::Repetition(r) if r.min == 0 => match bytes_of(&r.sub) {
                Some(bytes) => skipped.extend(bytes),
                None => break,
            },
            HirKind::Look(Look::End) => return (skipped, After::LineEnd { lf: false }),
            HirKind::Look(Look::EndLF) => return (skipped, After::LineEnd { lf: true }),
            _ => break,
        }
    }
    (Vec::new(), After::Any)
}

#[derive(Clone, Copy)]
enum Edge {
    First,
    Last,
}

/// The bytes the first (or last) byte matched by `hir` may be, where `hir` is a class, a literal,
/// or a class or literal repeated at least once.
fn edge_bytes(hir: &Hir, edge: Edge) -> Option<Vec<u8>> {
    match hir.kind() {
        HirKind::Literal(lit) => {
            let b = match edge {
                Edge::First => lit.0.first(),
                Edge::Last => lit.0.last(),
            };
            b.map(|&b| vec![b])
        }
        HirKind::Class(_) => bytes_of(hir),
        HirKind::Repetition(r) if r.min >= 1 => edge_bytes(&r.sub, edge),
        _ => None,
    }
}

/// The bytes a one-byte class (or a one-byte literal) matches; `None` for anything else,
/// including a Unicode class that reaches past ASCII (its characters are several bytes).
fn bytes_of(hir: &Hir) -> Option<Vec<u8>> {
    match hir.kind() {
        HirKind::Literal(lit) if lit.0.len() == 1 => Some(lit.0.to_vec()),
        HirKind::Class(Class::Bytes(c)) => {
            Some(c.iter().flat_map(|r| r.start()..=r.end()).collect())
        }
        HirKind::Class(Class::Unicode(c)) => {
            let mut bytes = Vec::new();
            for r in c.iter() {
                let (s, e) = (r.start() as u32, r.end() as u32);
                if e > 0x7f {
                    return None;
                }
                bytes.extend((s..=e).map(|b| b as u8));
            }
            Some(bytes)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_of(pattern: &str) -> Option<SecretRun> {
        let hir = regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(pattern)
            .unwrap();
        SecretRun::of(&hir, 1)
    }

    #[test]
    fn a_quoted_secret_needs_a_whole_quoted_run() {
        let run =
            run_of(r#"(?i)(?:x|token)[ \t]*=[ \t]*["'](?P<secret>[^"'\s]{8,10})["']"#).unwrap();
        assert!(run.before && run.after == After::Byte, "{run:?}");
        assert!(run.found_in(br#"token = "abcdefgh""#, 0));
        // Too short, too long, a space in it, not closed, cut by the window's start.
        assert!(!run.found_in(br#"token = "abcdefg""#, 0));
        assert!(!run.found_in(br#"token = "abcdefghijk""#, 0));
        assert!(!run.found_in(br#"token = "abcd efgh""#, 0));
        assert!(!run.found_in(br#"token = "abcdefgh"#, 0));
        assert!(!run.found_in(br#"token = "abcdefgh""#, 9));
        assert!(run.found_in(br#"token = "abcdefgh""#, 8));
        // Unquoted runs do not count; a later quoted one does.
        assert!(!run.found_in(b"let token_value_of_twelve = x;", 0));
        assert!(run.found_in(b"token_abcdefghijkl = 'abcdefghij'", 0));
    }

    #[test]
    fn a_secret_at_the_end_of_a_line_needs_a_run_there() {
        let run = run_of(r"(?m)^key[ \t]*=[ \t]*(?P<secret>[^\s;,]{6,8})[ \t]*\r?$").unwrap();
        assert!(
            !run.before && run.after == After::LineEnd { lf: true },
            "{run:?}"
        );
        assert!(run.found_in(b"key = abcdef", 0));
        assert!(run.found_in(b"key = abcdef \t\r\nnext line;", 0));
        assert!(run.found_in(b"first;\nkey = abcdef\n", 0));
        // Longer than the most is fine without a bound before it: a suffix of it may be the
        // secret as far as this check knows.
        assert!(run.found_in(b"key=abcdefghijklmnop", 0));
        assert!(!run.found_in(b"let key = abcdef;\nfn x() {", 0));
        assert!(!run.found_in(b"key = abcde\n", 0));
        assert!(!run.found_in(b"key = abcdef \rx", 0));
        // `\z` without multi-line mode: only the end of the haystack.
        let end = run_of(r"key=(?P<secret>[a-z]{6,})\z").unwrap();
        assert!(end.found_in(b"x\nkey=abcdef", 0));
        assert!(!end.found_in(b"key=abcdef\nx", 0));
    }

    #[test]
    fn a_secret_with_nothing_after_it_may_be_the_start_of_a_longer_run() {
        // `sk_live_` ends in `_`, which bounds the secret's start; nothing bounds its end, so the
        // regex matches the first 8 bytes of a longer run.
        let pattern = r"sk_live_(?P<secret>[a-z0-9]{6,8})";
        let run = run_of(pattern).unwrap();
        assert!(run.before && run.after == After::Any, "{run:?}");
        let hay = b"key: sk_live_abcdef0123456789";
        assert!(regex::bytes::Regex::new(pattern).unwrap().is_match(hay));
        assert!(run.found_in(hay, 0));
        assert!(!run.found_in(b"key: sk_live_abcde", 0));
    }

    #[test]
    fn only_runs_the_regex_fixes_are_checked() {
        // Too short to be worth it, not a class, not in a concatenation with bounds.
        assert!(run_of(r"k(?P<secret>[a-z]{3})").is_none());
        assert!(run_of(r"k(?P<secret>ab[a-z]{8})").is_none());
        let loose = run_of(r"k(?P<secret>[a-z0-9]{8,})").unwrap();
        // `k` may be a secret byte: it bounds nothing.
        assert!(!loose.before && loose.after == After::Any, "{loose:?}");
        assert!(loose.found_in(b"xx abcd1234", 0));
        assert!(!loose.found_in(b"xx abc-1234", 0));
        // A Unicode class past ASCII is left alone.
        let hir = regex_syntax::Parser::new()
            .parse(r"k=(?P<secret>\w{8,})")
            .unwrap();
        assert!(SecretRun::of(&hir, 1).is_none());
    }
}
