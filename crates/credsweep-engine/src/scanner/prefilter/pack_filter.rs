//! One pass for a whole rule pack's patterns, exact and ASCII-case-insensitive alike, 3 bytes or
//! longer: the 4 bytes at every position, case-folded, looked up in a hashed bit table.
//!
//! The input is never lower-cased or copied: every word read from it is or-ed with `0x20` in
//! each byte ([`FOLD`]), which maps `A` to `a` and leaves `a` as it is, so two byte strings that
//! are equal (exactly, or ignoring ASCII case) fold to the same bytes. Other bytes collide too
//! (`_` with DEL, `@` with `` ` ``): the folded word is a superset test, and every candidate is
//! compared with the real comparison, exact or ASCII-case-insensitive, per pattern.
//!
//! A pattern of 4 bytes or more registers the folded word of its rarest 4 bytes (by
//! `required::commonness`) with their offset in it: a common word's prefix (`data` of
//! `datadog`, `bind` of `bindpw`) would send each occurrence of that word to be compared, and
//! the rarest word took the default pack's pass from 307 ms to 194 ms on 118 MB of crate
//! sources. A 3-byte pattern registers every folded word it can start (its 3 bytes and any of
//! the 128 folded values of a fourth byte), so that every position is one look-up whatever the
//! patterns' lengths. The last position of the input, with 3 bytes left, reads a folded zero as
//! its fourth byte, one of those 128. Each word hashes to one bit of the table; only where that
//! bit is set are the registered words of its bucket compared.
//!
//! With AVX2 (detected at run time), eight positions are looked up at once as the gram filter
//! does (`gram_filter.rs`, stride 1), in one function so that the look-up is inlined (a call
//! per eight positions was a third of the pass); the scalar loop does the rest, and everything
//! on other processors. Both give the same matches (the tests run both).

use super::gram_filter::{avx2_detected, hash, word_at};
use crate::required::commonness;

/// Or-ed into a word read from the input: a superset of ASCII case folding (see the module doc).
const FOLD: u32 = 0x2020_2020;
/// Bits of the hashed bit table index: 128 KiB, in the L2 cache. On the default pack's 234
/// patterns (a fifth of them 3 bytes long, 128 words each) over 118 MB of crate sources, 18 bits
/// took 139 ms (more false candidates), 20 bits 100–108 ms, 21 bits 94 ms.
const TABLE_BITS: u32 = 20;
/// Bits of the candidate bucket index (the exact look-up, only on a set bit).
const BUCKET_BITS: u32 = 13;

/// A registered folded word: 4 bytes of a pattern, `offset` bytes into it.
#[derive(Clone, Copy)]
struct Gram {
    word: u32,
    pattern: u32,
    /// Where in the pattern the word is.
    offset: u32,
}

pub(super) struct PackFilter {
    /// Bit `hash(word) >> (32 - TABLE_BITS)` is set for every registered word.
    table: Vec<u32>,
    /// `grams[buckets[b]..buckets[b + 1]]` are the registered words in bucket `b`.
    buckets: Vec<u32>,
    grams: Vec<Gram>,
    /// The patterns: lower-case where folded (matched ASCII-case-insensitively).
    patterns: Vec<(Vec<u8>, bool)>,
    /// Whether positions are looked up with AVX2 (the processor has it).
    simd: bool,
}

/// The table bit of a folded word.
fn bit(word: u32) -> u32 {
    hash(word) >> (32 - TABLE_BITS)
}

/// The bucket of a folded word.
fn bucket(word: u32) -> usize {
    (hash(word) >> (32 - BUCKET_BITS)) as usize
}

impl PackFilter {
    /// `patterns` are (bytes, folded): each 3 bytes or longer, lower-case if folded.
    pub(super) fn new(patterns: &[(&[u8], bool)]) -> PackFilter {
        assert!(
            patterns.iter().all(|(p, _)| p.len() >= 3),
            "pack filter: patterns of 3 bytes or more"
        );
        let mut table = vec![0u32; (1 << TABLE_BITS) / 32];
        let mut grams = Vec::new();
        for (p, (pattern, _)) in patterns.iter().enumerate() {
            let mut register = |word: u32, offset: usize| {
                let b = bit(word);
                table[b as usize / 32] |= 1 << (b % 32);
                grams.push(Gram {
                    word,
                    pattern: p as u32,
                    offset: offset as u32,
                });
            };
            if pattern.len() >= 4 {
                // The pattern's rarest 4 bytes: a common word's prefix (`data` of `datadog`)
                // would send every occurrence of that word to be compared.
                let offset = (0..=pattern.len() - 4)
                    .min_by_key(|&o| {
                        pattern[o..o + 4]
                            .iter()
                            .map(|b| commonness(b.to_ascii_lowercase()))
                            .sum::<u32>()
                    })
                    .unwrap_or(0);
                register(word_at(pattern, offset) | FOLD, offset);
            } else {
                let three = u32::from_le_bytes([pattern[0], pattern[1], pattern[2], 0]) | FOLD;
                // Every folded fourth byte: the 128 bytes with 0x20 set.
                for fourth in (0..=255u32).filter(|b| b & 0x20 != 0) {
                    register(three & 0x00FF_FFFF | fourth << 24, 0);
                }
            }
        }
        grams.sort_by_key(|g| bucket(g.word));
        let mut buckets = vec![0u32; (1 << BUCKET_BITS) + 1];
        for g in &grams {
            buckets[bucket(g.word) + 1] += 1;
        }
        for b in 1..buckets.len() {
            buckets[b] += buckets[b - 1];
        }
        PackFilter {
            table,
            buckets,
            grams,
            patterns: patterns.iter().map(|&(p, f)| (p.to_vec(), f)).collect(),
            simd: avx2_detected(),
        }
    }

    /// The same filter, looking positions up with the scalar loop only (tests compare the two).
    #[cfg(test)]
    pub(super) fn scalar(mut self) -> PackFilter {
        self.simd = false;
        self
    }

    /// Whether the folded word hashes to a set bit.
    fn is_set(&self, word: u32) -> bool {
        let b = bit(word);
        self.table[b as usize / 32] & (1 << (b % 32)) != 0
    }

    /// Calls `found(pattern, start)` for every occurrence of every pattern in `hay`, overlapping
    /// ones too, each once, in order of the position of the word that found it (a pattern is
    /// looked up by its rarest 4 bytes, so starts may be out of order by up to the longest
    /// pattern's length).
    pub(super) fn for_each_match(&self, hay: &[u8], mut found: impl FnMut(usize, usize)) {
        if hay.len() < 3 {
            return;
        }
        // Positions before `last` read 4 bytes; `last` has 3.
        let last = hay.len() - 3;
        let mut at = 0;
        #[cfg(target_arch = "x86_64")]
        if self.simd {
            // SAFETY: AVX2 was detected when `simd` was set.
            at = unsafe { self.scan_avx2(hay, &mut found) };
        }
        while at < last {
            let word = word_at(hay, at) | FOLD;
            if self.is_set(word) {
                self.verify(hay, at, word, &mut found);
            }
            at += 1;
        }
        let word = u32::from_le_bytes([hay[last], hay[last + 1], hay[last + 2], 0]) | FOLD;
        if self.is_set(word) {
            self.verify(hay, last, word, &mut found);
        }
    }

    /// The AVX2 part of [`PackFilter::for_each_match`]: eight positions per round, while their
    /// words and the two 16-byte loads they come from are inside `hay` (then all eight are
    /// before the last position). Returns the first position not looked up. One function with
    /// the AVX2 look-up, so that it is inlined (a call per round was a third of the pass).
    ///
    /// # Safety
    ///
    /// The processor has AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn scan_avx2(&self, hay: &[u8], found: &mut impl FnMut(usize, usize)) -> usize {
        let mut at = 0;
        while hay.len() - at >= 20 {
            // SAFETY: AVX2 is there (the caller's promise); `hay[at..at + 20]` is readable,
            // checked just above; the table holds `1 << bits` bits.
            let mut set = unsafe {
                super::gram_filter::avx2::set_bits(hay, at, 1, FOLD, &self.table, TABLE_BITS)
            };
            while set != 0 {
                let pos = at + set.trailing_zeros() as usize;
                set &= set - 1;
                self.verify(hay, pos, word_at(hay, pos) | FOLD, found);
            }
            at += 8;
        }
        at
    }

    /// Compares the patterns registered under the folded `word` read at `at`.
    #[cold]
    #[inline(never)]
    fn verify(&self, hay: &[u8], at: usize, word: u32, found: &mut impl FnMut(usize, usize)) {
        let b = bucket(word);
        for g in &self.grams[self.buckets[b] as usize..self.buckets[b + 1] as usize] {
            if g.word != word || g.offset as usize > at {
                continue;
            }
            let start = at - g.offset as usize;
            let (pattern, folded) = &self.patterns[g.pattern as usize];
            let Some(here) = hay.get(start..start + pattern.len()) else {
                continue;
            };
            let equal = if *folded {
                here.eq_ignore_ascii_case(pattern)
            } else {
                here == &pattern[..]
            };
            if equal {
                found(g.pattern as usize, start);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(patterns: &[(&str, bool)], hay: &[u8]) -> Vec<(usize, usize)> {
        let ps: Vec<(&[u8], bool)> = patterns.iter().map(|&(p, f)| (p.as_bytes(), f)).collect();
        let [simd, scalar] = [PackFilter::new(&ps), PackFilter::new(&ps).scalar()].map(|f| {
            let mut got = Vec::new();
            f.for_each_match(hay, |p, s| got.push((s, p)));
            got.sort_unstable();
            got
        });
        assert_eq!(simd, scalar, "AVX2 and scalar differ");
        simd
    }

    #[test]
    fn exact_and_folded_patterns_share_one_pass() {
        let pats = [
            ("AKIA", false),
            ("key", true),
            ("ghp_", false),
            ("xox", false),
        ];
        assert_eq!(
            matches(&pats, b"akia AKIA KeY ghp_ GHP_ xox XOX key"),
            [(5, 0), (10, 1), (14, 2), (24, 3), (32, 1)]
        );
    }

    #[test]
    fn a_three_byte_pattern_is_found_at_the_very_end_and_nothing_shorter_is() {
        assert_eq!(matches(&[("key", true)], b"KEY"), [(0, 0)]);
        assert_eq!(matches(&[("key", true)], b"..kEy"), [(2, 0)]);
        assert!(matches(&[("key", true)], b"ke").is_empty());
        assert!(matches(&[("keys", true)], b"key").is_empty());
    }

    #[test]
    fn bytes_that_fold_alike_are_not_taken_for_each_other() {
        // `_` | 0x20 is DEL, `@` | 0x20 is a backtick: same folded word, different bytes.
        assert_eq!(
            matches(&[("a_b", true), ("x@y", false)], b"a\x7fb A_B x`y x@y X@Y"),
            [(4, 0), (12, 1)]
        );
    }
}
