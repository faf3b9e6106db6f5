//! One pass for a whole rule pack's patterns, exact and ASCII-case-insensitive alike, 3 bytes or
//! longer: the 4 bytes at every other position, case-folded, looked up in a hashed bit table.
//!
//! The input is never lower-cased or copied: every word read from it is or-ed with `0x20` in
//! each byte ([`FOLD`]), which maps `A` to `a` and leaves `a` as it is, so two byte strings that
//! are equal (exactly, or ignoring ASCII case) fold to the same bytes. Other bytes collide too
//! (`_` with DEL, `@` with `` ` ``): the folded word is a superset test, and every candidate is
//! compared with the real comparison, exact or ASCII-case-insensitive, per pattern.
//!
//! Only the words at even positions (from the start of the input) are looked up, so every
//! pattern registers two words that start one byte apart: whatever its start, one of them is at
//! an even position, and exactly one, so each occurrence is found once.
//! - A pattern of 5 bytes or more registers two adjacent 4-byte words of its own, the pair
//!   least common in source text: a common word's prefix (`data` of `datadog`, `bind` of
//!   `bindpw`) would send each occurrence of that word to be compared. How common a word is
//!   comes from `common_grams.rs` (measured on crate sources by `tools/common-grams.py`): the
//!   most common words listed, any other estimated from its byte pairs.
//! - A 4-byte pattern registers itself, and the 128 words of any folded byte and its first 3
//!   bytes (the word one byte before it) or of its last 3 bytes and any folded byte (one byte
//!   after it), whichever 3 bytes are rarer.
//! - A 3-byte pattern registers its bytes followed by any folded byte and any folded byte
//!   followed by its bytes, 256 words. When the last even position has only 3 bytes left, it
//!   reads a folded zero as its fourth, one of those 128.
//!
//! On the default pack's patterns over 118 MB of crate sources (`bench/prefilter.sh`), this
//! looks up half the positions, and compares 273,352 candidates (both table bits set; 449,182
//! with one bit, 525,453 with the per-byte estimate of `required::commonness`); 233,797 of them
//! pass the word's check, for 132,782 matches.
//!
//! Each word hashes to two bits of one 32-bit word of the table (a Bloom filter whose test is
//! one load, one gather for eight positions); only where both bits are set is the word compared
//! with the registered words of its bucket, each of which names its pattern and where the word
//! is in it. The pattern bytes are stored contiguously.
//!
//! With AVX2 (detected at run time), eight positions (two bytes apart) are looked up at once as
//! the gram filter does (`gram_filter.rs`, stride 2), in one function so that the look-up is
//! inlined (a call per eight positions was a third of the pass); the scalar loop does the rest,
//! and everything on other processors. Both give the same matches (the tests run both).

use super::common_grams::{BYTES, PAIRS, PER_MIB, WORDS, class};
use super::gram_filter::{avx2_detected, hash, word_at};

/// Or-ed into a word read from the input: a superset of ASCII case folding (see the module doc).
const FOLD: u32 = 0x2020_2020;
/// Bits of the table: 256 KiB, in the L2 cache. The default pack registers about 13,000 words
/// (a 3-byte pattern 256, a 4-byte one 129), four times as many as with one word per pattern at
/// every position, so one more bit than the 20 measured best then.
const TABLE_BITS: u32 = 21;
/// Bits of the index of a table word (32 bits each).
const SLOT_BITS: u32 = TABLE_BITS - 5;
/// The multiplier of the second hash, which picks a word's second bit: independent of the first
/// (`hash`), whose top bits pick the table word and the first bit.
const SECOND: u32 = 0x85EB_CA6B;
/// Bits of the candidate bucket index (the exact look-up, only on a set bit).
const BUCKET_BITS: u32 = 13;
/// The distance between looked-up positions.
const STRIDE: usize = 2;

/// A registered folded word: 4 bytes of a pattern, `lead` bytes into it (-1: the word starts one
/// byte before the pattern), with what a candidate needs of its pattern (where its bytes are,
/// how long, whether folded) in the same record: one load less per candidate than looking the
/// pattern up.
#[derive(Clone, Copy)]
struct Gram {
    word: u32,
    pattern: u32,
    lead: i32,
    /// The pattern: `bytes[span.from..span.from + span.len]`, matched ignoring case if
    /// `span.folded`.
    span: Span,
    /// Whether the word holds the whole pattern: then `mask` and `value` have compared all of
    /// it, and its bytes are not compared again.
    whole: bool,
    /// The word read from the input (not folded), and-ed with `mask`, is `value` where the
    /// pattern could be there: its bytes exactly, or ignoring case where it is folded (`0xDF`
    /// for a letter); a byte of the word outside the pattern is masked out. This rejects most
    /// candidates of an exact pattern in the other case without reading the pattern.
    mask: u32,
    value: u32,
}

/// Where a pattern's bytes are in [`PackFilter::bytes`], and whether it is folded.
#[derive(Clone, Copy)]
struct Span {
    from: u32,
    len: u32,
    folded: bool,
}

pub(super) struct PackFilter {
    /// Both bits of [`probe`] are set for every registered word.
    table: Vec<u32>,
    /// `grams[buckets[b]..buckets[b + 1]]` are the registered words in bucket `b`.
    buckets: Vec<u32>,
    grams: Vec<Gram>,
    /// Every pattern's bytes, one after the other: lower-case where folded (matched
    /// ASCII-case-insensitively).
    bytes: Vec<u8>,
    /// Whether positions are looked up with AVX2 (the processor has it).
    simd: bool,
}

/// The table word of a folded word, and its two bits there: a set bit of a registered word's
/// hits another word by chance at about 0.6% of positions with the default pack (most
/// candidates, before); both of two bits of the same table word, one gather still, at far
/// fewer.
fn probe(word: u32) -> (usize, u32) {
    let first = hash(word);
    let slot = first >> (32 - SLOT_BITS);
    let bits = 1 << ((first >> (32 - TABLE_BITS)) & 31) | 1 << (word.wrapping_mul(SECOND) >> 27);
    (slot as usize, bits)
}

/// The bucket of a folded word.
fn bucket(word: u32) -> usize {
    (hash(word) >> (32 - BUCKET_BITS)) as usize
}

/// The 128 folded bytes (those with `0x20` set), for the byte next to a short pattern.
fn folded_bytes() -> impl Iterator<Item = u32> {
    (0..=255u32).filter(|b| b & 0x20 != 0)
}

/// How often the folded `word` is expected per MiB of source text: from the table of common
/// words where it is listed, else estimated from its byte pairs ([`rarity`]), and less than the
/// least common listed word.
fn expected(word: u32) -> f64 {
    if let Ok(i) = WORDS.binary_search(&word) {
        return f64::from(PER_MIB[i]);
    }
    let bits = rarity(&word.to_le_bytes());
    (f64::from(1u32 << 20) * (-bits).exp2()).min(f64::from(RAREST_LISTED))
}

/// `-log2` of the chance of the folded `bytes` (2 or more) at a position, from the chance of the
/// first pair and of each next byte given the one before it: P(ab) P(bc) / P(b) ...
fn rarity(bytes: &[u8]) -> f64 {
    let bits = |r: u8| f64::from(r) / 8.0;
    let pairs: f64 = bytes
        .windows(2)
        .map(|w| bits(PAIRS[class(w[0]) * 65 + class(w[1])]))
        .sum();
    let inner: f64 = bytes[1..bytes.len() - 1]
        .iter()
        .map(|&b| bits(BYTES[class(b)]))
        .sum();
    pairs - inner
}

/// The least common listed word's occurrences per MiB.
const RAREST_LISTED: u16 = {
    let mut min = u16::MAX;
    let mut i = 0;
    while i < PER_MIB.len() {
        if PER_MIB[i] < min {
            min = PER_MIB[i];
        }
        i += 1;
    }
    min
};

impl PackFilter {
    /// `patterns` are (bytes, folded): each 3 bytes or longer, lower-case if folded.
    pub(super) fn new(patterns: &[(&[u8], bool)]) -> PackFilter {
        assert!(
            patterns.iter().all(|(p, _)| p.len() >= 3),
            "pack filter: patterns of 3 bytes or more"
        );
        let mut table = vec![0u32; (1 << TABLE_BITS) / 32];
        let mut grams = Vec::new();
        let mut bytes = Vec::new();
        for (p, &(pattern, folded)) in patterns.iter().enumerate() {
            let span = Span {
                from: bytes.len() as u32,
                len: pattern.len() as u32,
                folded,
            };
            bytes.extend_from_slice(pattern);
            let mut register = |word: u32, lead: i32| {
                let (slot, bits) = probe(word);
                table[slot] |= bits;
                let (mut mask, mut value) = ([0u8; 4], [0u8; 4]);
                for j in 0..4 {
                    let Some(&byte) = usize::try_from(lead + j as i32)
                        .ok()
                        .and_then(|i| pattern.get(i))
                    else {
                        continue;
                    };
                    mask[j] = if folded && byte.is_ascii_alphabetic() {
                        0xDF
                    } else {
                        0xFF
                    };
                    value[j] = byte & mask[j];
                }
                grams.push(Gram {
                    word,
                    pattern: p as u32,
                    lead,
                    span,
                    whole: lead <= 0 && lead + 4 >= pattern.len() as i32,
                    mask: u32::from_le_bytes(mask),
                    value: u32::from_le_bytes(value),
                });
            };
            match pattern.len() {
                3 => {
                    let three = u32::from_le_bytes([pattern[0], pattern[1], pattern[2], 0]) | FOLD;
                    let three = three & 0x00FF_FFFF;
                    for any in folded_bytes() {
                        register(three | any << 24, 0);
                        register(three << 8 | any, -1);
                    }
                }
                4 => {
                    // Its start is odd in half the occurrences: the word one byte before it (any
                    // byte and its first 3), or one byte after (its last 3 and any byte),
                    // whichever 3 bytes are rarer.
                    let word = word_at(pattern, 0) | FOLD;
                    let before = |any: u32| word << 8 | any;
                    let after = |any: u32| word >> 8 | any << 24;
                    let folded = word.to_le_bytes();
                    let (side, lead): (&dyn Fn(u32) -> u32, i32) =
                        if rarity(&folded[1..]) > rarity(&folded[..3]) {
                            (&after, 1)
                        } else {
                            (&before, -1)
                        };
                    register(word, 0);
                    for any in folded_bytes() {
                        register(side(any), lead);
                    }
                }
                len => {
                    // The rarest pair of adjacent words: a common word's prefix (`data` of
                    // `datadog`) would send every occurrence of that word to be compared.
                    let pair = |o: usize| {
                        expected(word_at(pattern, o) | FOLD)
                            + expected(word_at(pattern, o + 1) | FOLD)
                    };
                    let lead = (0..=len - 5)
                        .min_by(|&a, &b| pair(a).total_cmp(&pair(b)))
                        .unwrap_or(0);
                    for o in [lead, lead + 1] {
                        register(word_at(pattern, o) | FOLD, o as i32);
                    }
                }
            }
        }
        // Grouped by bucket with a counting sort (a comparison sort of the 13,000 words of the
        // default pack was a third of this set-up).
        let mut buckets = vec![0u32; (1 << BUCKET_BITS) + 1];
        for g in &grams {
            buckets[bucket(g.word) + 1] += 1;
        }
        for b in 1..buckets.len() {
            buckets[b] += buckets[b - 1];
        }
        let mut next = buckets.clone();
        let mut sorted = grams.clone();
        for g in grams {
            let b = bucket(g.word);
            sorted[next[b] as usize] = g;
            next[b] += 1;
        }
        PackFilter {
            table,
            buckets,
            grams: sorted,
            bytes,
            simd: avx2_detected(),
        }
    }

    /// The same filter, looking positions up with the scalar loop only (tests compare the two).
    #[cfg(test)]
    pub(super) fn scalar(mut self) -> PackFilter {
        self.simd = false;
        self
    }

    /// Whether both table bits of the folded word are set.
    fn is_set(&self, word: u32) -> bool {
        let (slot, bits) = probe(word);
        self.table[slot] & bits == bits
    }

    /// Calls `found(pattern, start)` for every occurrence of every pattern in `hay`, overlapping
    /// ones too, each once, in order of the position of the word that found it (a pattern is
    /// looked up by its rarest words, so starts may be out of order by up to the longest
    /// pattern's length).
    pub(super) fn for_each_match(&self, hay: &[u8], mut found: impl FnMut(usize, usize)) {
        if hay.len() < 3 {
            return;
        }
        let mut at = 0;
        #[cfg(target_arch = "x86_64")]
        if self.simd {
            // SAFETY: AVX2 was detected when `simd` was set.
            at = unsafe { self.scan_avx2(hay, &mut found) };
        }
        // The even positions with a whole word.
        while hay.len() - at >= 4 {
            let raw = word_at(hay, at);
            if self.is_set(raw | FOLD) {
                self.verify(hay, at, raw, &mut found);
            }
            at += STRIDE;
        }
        // An even position with 3 bytes left: a 3-byte pattern there, with a folded zero.
        if hay.len() - at == 3 {
            let raw = u32::from_le_bytes([hay[at], hay[at + 1], hay[at + 2], 0]);
            if self.is_set(raw | FOLD) {
                self.verify(hay, at, raw, &mut found);
            }
        }
    }

    /// The AVX2 part of [`PackFilter::for_each_match`]: eight even positions per round, two
    /// rounds at a time, while their words and the 16-byte loads they come from are inside
    /// `hay`. Returns the first position not looked up (even). One function with the AVX2
    /// look-up, so that it is inlined (a call per round was a third of the pass).
    ///
    /// # Safety
    ///
    /// The processor has AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn scan_avx2(&self, hay: &[u8], found: &mut impl FnMut(usize, usize)) -> usize {
        let mut at = 0;
        // Two rounds at a time, with one test and one branch for their sixteen positions: a
        // round at a time spent a quarter of its instructions on the loop and the test (this
        // pass over crate sources, `bench/prefilter.sh`: 199 M instructions, 189 M so).
        while hay.len() - at >= 12 * STRIDE + 16 {
            // SAFETY: AVX2 is there (the caller's promise); `hay[at..at + 12 * STRIDE + 16]`,
            // which holds both rounds' loads, is readable, checked just above; the table holds
            // `1 << TABLE_BITS` bits.
            let mut set = unsafe {
                avx2::set_pairs(hay, at, &self.table)
                    | avx2::set_pairs(hay, at + 8 * STRIDE, &self.table) << 8
            };
            while set != 0 {
                let pos = at + STRIDE * set.trailing_zeros() as usize;
                set &= set - 1;
                self.verify(hay, pos, word_at(hay, pos), found);
            }
            at += 16 * STRIDE;
        }
        // At most one more round.
        while hay.len() - at >= 4 * STRIDE + 16 {
            // SAFETY: AVX2 is there (the caller's promise); `hay[at..at + 4 * STRIDE + 16]` is
            // readable, checked just above; the table holds `1 << TABLE_BITS` bits.
            let mut set = unsafe { avx2::set_pairs(hay, at, &self.table) };
            while set != 0 {
                let pos = at + STRIDE * set.trailing_zeros() as usize;
                set &= set - 1;
                self.verify(hay, pos, word_at(hay, pos), found);
            }
            at += 8 * STRIDE;
        }
        at
    }

    /// Compares the patterns registered under the word `raw` read at `at` (whose last byte may
    /// be past the end of `hay`, read as zero).
    #[cold]
    #[inline(never)]
    fn verify(&self, hay: &[u8], at: usize, raw: u32, found: &mut impl FnMut(usize, usize)) {
        let word = raw | FOLD;
        let b = bucket(word);
        for g in &self.grams[self.buckets[b] as usize..self.buckets[b + 1] as usize] {
            if g.word != word || raw & g.mask != g.value {
                continue;
            }
            let Some(start) = at.checked_add_signed(-(g.lead as isize)) else {
                continue;
            };
            let span = g.span;
            let Some(here) = hay.get(start..start + span.len as usize) else {
                continue;
            };
            let pattern = &self.bytes[span.from as usize..(span.from + span.len) as usize];
            if g.whole || equal(here, pattern, span.folded) {
                found(g.pattern as usize, start);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::{
        _mm256_and_si256, _mm256_castsi256_ps, _mm256_i32gather_epi32, _mm256_movemask_ps,
        _mm256_mullo_epi32, _mm256_set1_epi32, _mm256_slli_epi32, _mm256_srli_epi32,
        _mm256_srlv_epi32,
    };

    use super::{FOLD, SECOND, SLOT_BITS, STRIDE, TABLE_BITS};
    use crate::scanner::prefilter::gram_filter::avx2::words;

    /// Which of the eight even positions `at + 2 * i` (bit `i`) have both table bits of their
    /// folded word set, as [`super::PackFilter::is_set`] says.
    ///
    /// # Safety
    ///
    /// The processor has AVX2, `hay[at..at + 4 * STRIDE + 16]` is readable and `table` holds
    /// `1 << TABLE_BITS` bits.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(super) unsafe fn set_pairs(hay: &[u8], at: usize, table: &[u32]) -> u32 {
        debug_assert!(hay.len() - at >= 4 * STRIDE + 16 && table.len() == 1 << SLOT_BITS);
        // SAFETY: the caller's promises.
        let words = unsafe { words(hay, at, STRIDE, FOLD) };
        // `hash(1)` is `hash`'s multiplier.
        let first = _mm256_mullo_epi32(words, _mm256_set1_epi32(super::hash(1) as i32));
        let slot = _mm256_srli_epi32::<{ 32 - SLOT_BITS as i32 }>(first);
        let bit = _mm256_and_si256(
            _mm256_srli_epi32::<{ 32 - TABLE_BITS as i32 }>(first),
            _mm256_set1_epi32(31),
        );
        let second =
            _mm256_srli_epi32::<27>(_mm256_mullo_epi32(words, _mm256_set1_epi32(SECOND as i32)));
        // SAFETY: every slot is below `1 << SLOT_BITS`, the table's length.
        let fetched = unsafe { _mm256_i32gather_epi32::<4>(table.as_ptr().cast::<i32>(), slot) };
        let both = _mm256_and_si256(
            _mm256_srlv_epi32(fetched, bit),
            _mm256_srlv_epi32(fetched, second),
        );
        // The tested bits' conjunction moved to each lane's sign bit.
        _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_slli_epi32::<31>(both))) as u32
    }
}

/// Whether `here` is `pattern`, ignoring ASCII case if `folded` (`pattern` then lower-case):
/// first and last bytes first, then the rest, byte by byte (patterns are short; a `memcmp`
/// call costs more).
#[inline]
pub(super) fn equal(here: &[u8], pattern: &[u8], folded: bool) -> bool {
    debug_assert_eq!(here.len(), pattern.len());
    let last = pattern.len() - 1;
    if folded {
        here[0].to_ascii_lowercase() == pattern[0]
            && here[last].to_ascii_lowercase() == pattern[last]
            && here
                .iter()
                .zip(pattern)
                .all(|(h, p)| h.to_ascii_lowercase() == *p)
    } else {
        here[0] == pattern[0]
            && here[last] == pattern[last]
            && here.iter().zip(pattern).all(|(h, p)| h == p)
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

    #[test]
    fn every_start_odd_or_even_is_found_once_up_to_both_ends() {
        // Every pattern length the filter registers differently (3, 4, 5 and longer), folded and
        // exact, planted at each start of inputs of odd and even lengths, from the first byte to
        // the last. The filler cannot occur in any of them.
        for (pattern, folded) in [
            ("key", true),
            ("AKIA", false),
            ("tion", true),
            ("the ", true),
            ("ghp_x", false),
            ("secret", true),
            ("$2y", false),
        ] {
            for len in pattern.len()..pattern.len() + 41 {
                for start in 0..=len - pattern.len() {
                    let mut hay = vec![b'.'; len];
                    hay[start..start + pattern.len()].copy_from_slice(pattern.as_bytes());
                    assert_eq!(
                        matches(&[(pattern, folded)], &hay),
                        [(start, 0)],
                        "{pattern:?} at {start} of {len}"
                    );
                }
            }
        }
    }

    #[test]
    fn four_byte_patterns_take_the_word_before_or_after_them() {
        // The patterns of the test above: the rarer side differs between them, so both kinds of
        // registration are tested there.
        let leads: Vec<i32> = ["AKIA", "tion", "the "]
            .iter()
            .map(|p| {
                let f = PackFilter::new(&[(p.as_bytes(), true)]);
                f.grams.iter().map(|g| g.lead).find(|&l| l != 0).unwrap()
            })
            .collect();
        assert!(leads.contains(&-1) && leads.contains(&1), "{leads:?}");
    }

    #[test]
    fn a_word_that_holds_only_part_of_its_pattern_is_not_a_match() {
        // A 4-byte pattern's word one byte before or after it holds 3 of its bytes: the fourth
        // is compared too. The pattern with one end byte changed, at every start, folded and
        // exact, is found nowhere; 3-byte patterns (which their words hold whole) likewise.
        for pattern in ["AKIA", "tion", "the ", "key", "$2y"] {
            for folded in [true, false] {
                for changed in [0, pattern.len() - 1] {
                    let mut near = pattern.as_bytes().to_vec();
                    near[changed] = b'#';
                    for start in 0..6 {
                        let mut hay = vec![b'.'; start + near.len() + 5];
                        hay[start..start + near.len()].copy_from_slice(&near);
                        assert!(
                            matches(&[(pattern, folded)], &hay).is_empty(),
                            "{pattern:?} in {:?}",
                            String::from_utf8_lossy(&hay)
                        );
                    }
                }
            }
        }
    }

    /// A filter of the default pack's size: 50 3-byte patterns of random letters, 256 words each.
    fn large_filter(rng: &mut super::super::tests::Rng) -> PackFilter {
        let patterns: Vec<Vec<u8>> = (0..50)
            .map(|_| rng.text(b"abcdefghijklmnopqrstuvwxyz", 3))
            .collect();
        let ps: Vec<(&[u8], bool)> = patterns.iter().map(|p| (p.as_slice(), true)).collect();
        PackFilter::new(&ps)
    }

    #[test]
    fn a_word_not_registered_passes_the_table_rarely() {
        // Both bits: about 0.03% of other words pass; one bit of the same table, about 0.6%.
        let mut rng = super::super::tests::Rng(0x94D0_49BB_1331_11EB);
        let f = large_filter(&mut rng);
        let registered: std::collections::HashSet<u32> = f.grams.iter().map(|g| g.word).collect();
        let (mut tried, mut passed) = (0u32, 0u32);
        while tried < 200_000 {
            let word = (rng.below(1 << 32) as u32) | FOLD;
            if registered.contains(&word) {
                continue;
            }
            tried += 1;
            passed += u32::from(f.is_set(word));
        }
        assert!(passed < 300, "{passed} of {tried} unregistered words pass");
        assert!(registered.iter().all(|&w| f.is_set(w)));
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_avx2_look_up_tests_the_bits_the_scalar_one_does() {
        if !avx2_detected() {
            return;
        }
        let mut rng = super::super::tests::Rng(0xBF58_476D_1CE4_E5B9);
        let f = large_filter(&mut rng);
        // Text of the patterns' letters, so that many positions pass one bit or both.
        let hay = rng.text(b"abcdefghijklmnopqrstuvwxyzABC_", 1 << 16);
        let mut set_somewhere = 0;
        for at in (0..hay.len() - 4 * STRIDE - 16).step_by(8 * STRIDE) {
            // SAFETY: AVX2 was detected; the loads are inside `hay`; the table is the filter's.
            let set = unsafe { avx2::set_pairs(&hay, at, &f.table) };
            for i in 0..8 {
                let word = word_at(&hay, at + STRIDE * i) | FOLD;
                assert_eq!(set >> i & 1 == 1, f.is_set(word), "at {}", at + STRIDE * i);
            }
            set_somewhere += set.count_ones();
        }
        assert!(set_somewhere > 100, "{set_somewhere}");
    }

    #[test]
    fn repeated_patterns_are_each_found_once() {
        // A pattern whose two registered words are the same word, and one shifted by a byte:
        // every start is found once, from one of the words.
        let hay = b"aaaaaaaaaaa";
        for len in [3, 4, 5, 6] {
            let pattern = "a".repeat(len);
            let want: Vec<(usize, usize)> = (0..=hay.len() - len).map(|s| (s, 0)).collect();
            assert_eq!(matches(&[(&pattern, true)], hay), want, "{pattern}");
        }
    }
}
