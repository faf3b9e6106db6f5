//! A single-pass filter for many literal patterns of 4 bytes or more, whose cost does not grow
//! with their number: sampled 4-grams looked up in a hashed bit table.
//!
//! Every pattern is at least `4 + stride - 1` bytes long, so any occurrence of it covers
//! `stride` consecutive positions at which one of its first `stride` 4-grams starts; exactly one
//! of those positions is a multiple of `stride` from where the scan started. The scan therefore
//! looks only at every `stride`-th position: it reads the 4 bytes there as one word, hashes it
//! into a bit table (32 KiB, stays in the L1 cache) and, only where the bit is set, looks the word
//! up among the patterns' registered 4-grams (pattern, offset) and compares the whole pattern.
//! Each occurrence is thus found exactly once, at its one sample. The work per input byte is a
//! load, a multiply and a bit test divided by the stride, the same for 50 patterns or 500; only
//! the share of set bits (false candidates) grows with the count.
//!
//! On x86-64 processors with AVX2 (detected at run time), eight samples are looked up at once:
//! their words are shuffled out of two 16-byte loads, hashed with one multiply and their bits
//! fetched with one gather; the scalar loop does the rest of the input, and everything on other
//! processors. Both give the same matches (the tests run both).

/// Bits of the hashed bit table index.
const TABLE_BITS: u32 = 18;
/// Bits of the candidate bucket index (the exact look-up, only on a set bit).
const BUCKET_BITS: u32 = 12;
/// The largest stride: longer patterns gain little from more, and register one 4-gram per step.
const MAX_STRIDE: usize = 4;

/// The 4-gram a pattern starts with `offset` bytes into it.
#[derive(Clone, Copy)]
struct Gram {
    word: u32,
    pattern: u32,
    offset: u32,
}

pub(super) struct GramFilter {
    /// How far apart the samples are: 1 to [`MAX_STRIDE`].
    stride: usize,
    /// Bit `hash(word)` is set for every registered 4-gram (bit `b` is bit `b % 32` of word
    /// `b / 32`).
    table: Vec<u32>,
    /// `grams[buckets[b]..buckets[b + 1]]` are the 4-grams in bucket `b`.
    buckets: Vec<u32>,
    grams: Vec<Gram>,
    patterns: Vec<Vec<u8>>,
    /// Whether the samples are looked up with AVX2 (the processor has it).
    simd: bool,
}

#[inline(always)]
pub(super) fn word_at(hay: &[u8], at: usize) -> u32 {
    // Four indexed bytes: one load once the bounds checks are proven (`try_into` from a slice
    // compiled to a loop two-thirds slower).
    u32::from_le_bytes([hay[at], hay[at + 1], hay[at + 2], hay[at + 3]])
}

pub(super) fn hash(word: u32) -> u32 {
    word.wrapping_mul(0x9E37_79B1)
}

impl GramFilter {
    /// `patterns` must each be 4 bytes or longer.
    pub(super) fn new(patterns: &[&[u8]]) -> GramFilter {
        let shortest = patterns.iter().map(|p| p.len()).min().unwrap_or(4);
        assert!(shortest >= 4, "gram filter: patterns of 4 bytes or more");
        let stride = (shortest - 3).min(MAX_STRIDE);
        let mut table = vec![0u32; (1 << TABLE_BITS) / 32];
        let mut grams = Vec::with_capacity(patterns.len() * stride);
        for (p, pattern) in patterns.iter().enumerate() {
            for offset in 0..stride {
                let word = word_at(pattern, offset);
                let bit = hash(word) >> (32 - TABLE_BITS);
                table[bit as usize / 32] |= 1 << (bit % 32);
                grams.push(Gram {
                    word,
                    pattern: p as u32,
                    offset: offset as u32,
                });
            }
        }
        let bucket = |g: &Gram| (hash(g.word) >> (32 - BUCKET_BITS)) as usize;
        grams.sort_by_key(bucket);
        let mut buckets = vec![0u32; (1 << BUCKET_BITS) + 1];
        for g in &grams {
            buckets[bucket(g) + 1] += 1;
        }
        for b in 1..buckets.len() {
            buckets[b] += buckets[b - 1];
        }
        GramFilter {
            stride,
            table,
            buckets,
            grams,
            patterns: patterns.iter().map(|p| p.to_vec()).collect(),
            simd: avx2_detected(),
        }
    }

    /// The same filter, looking samples up with the scalar loop only (tests compare the two).
    #[cfg(test)]
    pub(super) fn scalar(mut self) -> GramFilter {
        self.simd = false;
        self
    }

    /// Whether the sample at `word` hashes to a set bit.
    fn is_set(&self, word: u32) -> bool {
        let bit = hash(word) >> (32 - TABLE_BITS);
        self.table[bit as usize / 32] & (1 << (bit % 32)) != 0
    }

    /// Calls `found(pattern, start)` for every occurrence of every pattern in `hay` that starts
    /// in `from..to`, in order of the sample that found it (starts may be up to `stride - 1` out
    /// of order).
    pub(super) fn for_each_match(
        &self,
        hay: &[u8],
        from: usize,
        to: usize,
        mut found: impl FnMut(usize, usize),
    ) {
        let to = to.min(hay.len());
        if hay.len() < 4 || from >= to {
            return;
        }
        // Samples up to `stride - 1` past `to` still find patterns that start before it; none
        // may read past the end.
        let last = (to + self.stride - 1).min(hay.len() - 3);
        let step = self.stride;
        let mut at = from;
        #[cfg(target_arch = "x86_64")]
        if self.simd {
            // Eight samples, `step` apart, per round: while all of their words' bytes, and the
            // 16-byte loads they come from, are inside `hay` and the first sample before `last`.
            let span = 4 * step + 16;
            while at < last && hay.len() - at >= span {
                // SAFETY: AVX2 was detected when `simd` was set; `hay[at..at + span]` is
                // readable, checked just above.
                let mut set = unsafe { avx2::set_bits(hay, at, step, 0, &self.table, TABLE_BITS) };
                while set != 0 {
                    let sample = at + set.trailing_zeros() as usize * step;
                    set &= set - 1;
                    if sample < last {
                        self.verify(hay, sample, word_at(hay, sample), from, to, &mut found);
                    }
                }
                at += 8 * step;
            }
        }
        while at < last {
            let word = word_at(hay, at);
            if self.is_set(word) {
                self.verify(hay, at, word, from, to, &mut found);
            }
            at += step;
        }
    }

    /// Checks the registered 4-grams equal to `word` at sample `at`.
    #[cold]
    fn verify(
        &self,
        hay: &[u8],
        at: usize,
        word: u32,
        from: usize,
        to: usize,
        found: &mut impl FnMut(usize, usize),
    ) {
        let b = (hash(word) >> (32 - BUCKET_BITS)) as usize;
        for g in &self.grams[self.buckets[b] as usize..self.buckets[b + 1] as usize] {
            if g.word != word || (g.offset as usize) > at {
                continue;
            }
            let start = at - g.offset as usize;
            let pattern = &self.patterns[g.pattern as usize];
            if start >= from
                && start < to
                && hay.len() - start >= pattern.len()
                && hay[start..start + pattern.len()] == pattern[..]
            {
                found(g.pattern as usize, start);
            }
        }
    }
}

pub(super) fn avx2_detected() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(target_arch = "x86_64")]
pub(super) mod avx2 {
    use std::arch::x86_64::{
        __m128i, __m256i, _mm_cvtsi32_si128, _mm_loadu_si128, _mm256_and_si256,
        _mm256_broadcastsi128_si256, _mm256_castsi256_ps, _mm256_i32gather_epi32,
        _mm256_loadu2_m128i, _mm256_movemask_ps, _mm256_mullo_epi32, _mm256_or_si256,
        _mm256_set1_epi32, _mm256_shuffle_epi8, _mm256_slli_epi32, _mm256_srl_epi32,
        _mm256_srli_epi32, _mm256_srlv_epi32,
    };

    /// Which of the eight samples at `at + i * step` (bit `i`) hash to a set bit of `table`, as
    /// [`super::GramFilter::is_set`] would say: each sample's word is or-ed with `or` (a case
    /// fold, or 0), hashed, and its top `bits` bits index `table`.
    ///
    /// # Safety
    ///
    /// The processor has AVX2, `hay[at..at + 4 * step + 16]` is readable, `step` is 1 to 4,
    /// `bits` is 5 to 31 and `table` holds `1 << bits` bits.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(in super::super) unsafe fn set_bits(
        hay: &[u8],
        at: usize,
        step: usize,
        or: u32,
        table: &[u32],
        bits: u32,
    ) -> u32 {
        debug_assert!((1..=4).contains(&step) && hay.len() - at >= 4 * step + 16);
        debug_assert!((5..32).contains(&bits) && table.len() == (1 << bits) / 32);
        // SAFETY: the same promises as this function's.
        let words = unsafe { words(hay, at, step, or) };
        let hashed = _mm256_mullo_epi32(words, _mm256_set1_epi32(0x9E37_79B1_u32 as i32));
        let bit = _mm256_srl_epi32(hashed, _mm_cvtsi32_si128(32 - bits as i32));
        let word = _mm256_srli_epi32::<5>(bit);
        // SAFETY: every index is below `1 << (bits - 5)`, the table's length in words.
        let fetched = unsafe { _mm256_i32gather_epi32::<4>(table.as_ptr().cast::<i32>(), word) };
        let shifted = _mm256_srlv_epi32(fetched, _mm256_and_si256(bit, _mm256_set1_epi32(31)));
        // The tested bit moved to each lane's sign bit.
        _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_slli_epi32::<31>(shifted))) as u32
    }

    /// The eight words at `at + i * step` (lane `i`, little-endian as `word_at` reads them),
    /// each or-ed with `or`.
    ///
    /// # Safety
    ///
    /// The processor has AVX2, `hay[at..at + 4 * step + 16]` is readable, `step` is 1 to 4.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(in super::super) unsafe fn words(hay: &[u8], at: usize, step: usize, or: u32) -> __m256i {
        debug_assert!((1..=4).contains(&step) && hay.len() - at >= 4 * step + 16);
        // The low 128-bit lane holds the 16 bytes from sample 0, the high one those from sample
        // 4; in each, sample `j` (0 to 3) reads bytes `j * step..j * step + 4`, at most 16.
        // SAFETY: both loads are 16 readable bytes (the caller's bound), unaligned loads.
        let bytes = unsafe {
            let p = hay.as_ptr().add(at);
            _mm256_loadu2_m128i(p.add(4 * step).cast::<__m128i>(), p.cast::<__m128i>())
        };
        let shuffle = match step {
            1 => SHUFFLE[0],
            2 => SHUFFLE[1],
            3 => SHUFFLE[2],
            _ => SHUFFLE[3],
        };
        // The same 16 byte indices in both 128-bit lanes (the shuffle works within a lane).
        // SAFETY: `shuffle` is 16 bytes, read unaligned.
        let index = _mm256_broadcastsi128_si256(unsafe {
            _mm_loadu_si128(shuffle.as_ptr().cast::<__m128i>())
        });
        // Little-endian words, as `word_at` reads them.
        _mm256_or_si256(
            _mm256_shuffle_epi8(bytes, index),
            _mm256_set1_epi32(or as i32),
        )
    }

    /// For a stride of 1 to 4: the byte indices of samples 0 to 3's words in a 16-byte lane.
    const SHUFFLE: [[u8; 16]; 4] = {
        let mut out = [[0u8; 16]; 4];
        let mut step = 1;
        while step <= 4 {
            let mut i = 0;
            while i < 16 {
                out[step - 1][i] = ((i / 4) * step + i % 4) as u8;
                i += 1;
            }
            step += 1;
        }
        out
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(patterns: &[&str], hay: &str, from: usize, to: usize) -> Vec<(usize, usize)> {
        let ps: Vec<&[u8]> = patterns.iter().map(|p| p.as_bytes()).collect();
        let f = GramFilter::new(&ps);
        let mut out = Vec::new();
        f.for_each_match(hay.as_bytes(), from, to, |p, s| out.push((p, s)));
        out.sort_unstable_by_key(|&(p, s)| (s, p));
        out
    }

    #[test]
    fn finds_every_occurrence_once_overlapping_too() {
        assert_eq!(
            matches(&["aaaaaa", "qvzt_"], "aaaaaaaa qvzt_ qvzt_x", 0, 21),
            [(0, 0), (0, 1), (0, 2), (1, 9), (1, 15)]
        );
    }

    #[test]
    fn random_patterns_and_ranges_match_a_naive_search() {
        let mut rng = super::super::tests::Rng(0x2545_F491_4F6C_DD1D);
        for _ in 0..300 {
            let alphabet = [b"ab".as_slice(), b"abc_"][rng.below(2)];
            let mut patterns: Vec<Vec<u8>> = Vec::new();
            for _ in 0..1 + rng.below(6) {
                let len = 4 + rng.below(6);
                let p = rng.text(alphabet, len);
                if !patterns.contains(&p) {
                    patterns.push(p);
                }
            }
            let hay_len = rng.below(200);
            let mut hay = rng.text(alphabet, hay_len);
            let from = rng.below(hay.len() + 1);
            let to = from + rng.below(hay.len() + 1 - from);
            // Occurrences planted anywhere, and just before `to`, where a sample past `to`
            // must find them.
            for near in [false, false, true, true] {
                let p = &patterns[rng.below(patterns.len())];
                let start = if near {
                    to.saturating_sub(1 + rng.below(4))
                } else {
                    rng.below(hay.len() + 1)
                };
                if start + p.len() <= hay.len() {
                    hay[start..start + p.len()].copy_from_slice(p);
                }
            }
            let ps: Vec<&[u8]> = patterns.iter().map(Vec::as_slice).collect();
            let want: Vec<(usize, usize)> = (from..to)
                .flat_map(|s| {
                    let hay = &hay;
                    ps.iter()
                        .enumerate()
                        .filter(move |(_, p)| hay[s..].starts_with(p))
                        .map(move |(p, _)| (s, p))
                })
                .collect();
            for f in [GramFilter::new(&ps), GramFilter::new(&ps).scalar()] {
                let mut got = Vec::new();
                f.for_each_match(&hay, from, to, |p, s| got.push((s, p)));
                got.sort_unstable();
                assert_eq!(
                    got, want,
                    "{patterns:?} in {hay:?} from {from} to {to}, simd {}",
                    f.simd
                );
            }
        }
    }

    /// The AVX2 look-up of eight samples says what the scalar one says of each, at every stride,
    /// for a table with many bits set (so that both answers occur).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn eight_samples_at_once_agree_with_one_at_a_time() {
        if !avx2_detected() {
            return;
        }
        let mut rng = super::super::tests::Rng(0x5851_F42D_4C95_7F2D);
        for step in 1..=MAX_STRIDE {
            let patterns: Vec<Vec<u8>> =
                (0..2000).map(|_| rng.text(b"abcdefgh", 3 + step)).collect();
            let ps: Vec<&[u8]> = patterns.iter().map(Vec::as_slice).collect();
            let f = GramFilter::new(&ps);
            assert_eq!(f.stride, step);
            let hay = rng.text(b"abcdefghij", 4000);
            let (mut set, mut clear) = (0, 0);
            for at in 0..=hay.len() - (4 * step + 16) {
                // SAFETY: AVX2 is detected above; the loop bound keeps the loads in `hay`.
                let bits = unsafe { avx2::set_bits(&hay, at, step, 0, &f.table, TABLE_BITS) };
                for i in 0..8 {
                    let want = f.is_set(word_at(&hay, at + i * step));
                    assert_eq!(
                        bits >> i & 1 == 1,
                        want,
                        "stride {step}, sample {i} at {at}"
                    );
                    if want {
                        set += 1;
                    } else {
                        clear += 1;
                    }
                }
            }
            assert!(
                set > 0 && clear > 0,
                "stride {step}: {set} set, {clear} clear"
            );
        }
    }

    #[test]
    fn only_starts_in_range_count_and_nothing_is_read_past_the_end() {
        let hay = "qvzt_ qvzt_ qvzt";
        assert_eq!(matches(&["qvzt_"], hay, 1, 7), [(0, 6)]);
        assert_eq!(matches(&["qvzt_"], hay, 0, hay.len()), [(0, 0), (0, 6)]);
        assert!(matches(&["qvzt_"], "qvz", 0, 3).is_empty());
    }
}
