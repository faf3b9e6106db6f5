//! A single-pass filter for many literal patterns of 4 bytes or more, whose cost does not grow
//! with their number: sampled 4-grams looked up in a hashed bit table.
//!
//! Every pattern is at least `4 + stride - 1` bytes long, so any occurrence of it covers
//! `stride` consecutive positions at which one of its first `stride` 4-grams starts; exactly one
//! of those positions is a multiple of `stride` from where the scan started. The scan therefore
//! looks only at every `stride`-th position: it reads the 4 bytes there as one word, hashes it
//! into a bit table (8 KiB, stays in the L1 cache) and, only where the bit is set, looks the word
//! up among the patterns' registered 4-grams (pattern, offset) and compares the whole pattern.
//! Each occurrence is thus found exactly once, at its one sample. The work per input byte is a
//! load, a multiply and a bit test divided by the stride, the same for 50 patterns or 500; only
//! the share of set bits (false candidates) grows with the count.

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
    /// Bit `hash(word)` is set for every registered 4-gram.
    table: Vec<u64>,
    /// `grams[buckets[b]..buckets[b + 1]]` are the 4-grams in bucket `b`.
    buckets: Vec<u32>,
    grams: Vec<Gram>,
    patterns: Vec<Vec<u8>>,
}

fn word_at(hay: &[u8], at: usize) -> u32 {
    // Four indexed bytes: one load once the bounds checks are proven (`try_into` from a slice
    // compiled to a loop two-thirds slower).
    u32::from_le_bytes([hay[at], hay[at + 1], hay[at + 2], hay[at + 3]])
}

fn hash(word: u32) -> u32 {
    word.wrapping_mul(0x9E37_79B1)
}

impl GramFilter {
    /// `patterns` must each be 4 bytes or longer.
    pub(super) fn new(patterns: &[&[u8]]) -> GramFilter {
        let shortest = patterns.iter().map(|p| p.len()).min().unwrap_or(4);
        assert!(shortest >= 4, "gram filter: patterns of 4 bytes or more");
        let stride = (shortest - 3).min(MAX_STRIDE);
        let mut table = vec![0u64; (1 << TABLE_BITS) / 64];
        let mut grams = Vec::with_capacity(patterns.len() * stride);
        for (p, pattern) in patterns.iter().enumerate() {
            for offset in 0..stride {
                let word = word_at(pattern, offset);
                let bit = hash(word) >> (32 - TABLE_BITS);
                table[bit as usize / 64] |= 1 << (bit % 64);
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
        }
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
        while at < last {
            let word = word_at(hay, at);
            let bit = hash(word) >> (32 - TABLE_BITS);
            if self.table[bit as usize / 64] & (1 << (bit % 64)) != 0 {
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
            let f = GramFilter::new(&ps);
            let mut got = Vec::new();
            f.for_each_match(&hay, from, to, |p, s| got.push((s, p)));
            got.sort_unstable();
            let want: Vec<(usize, usize)> = (from..to)
                .flat_map(|s| {
                    let hay = &hay;
                    ps.iter()
                        .enumerate()
                        .filter(move |(_, p)| hay[s..].starts_with(p))
                        .map(move |(p, _)| (s, p))
                })
                .collect();
            assert_eq!(got, want, "{patterns:?} in {hay:?} from {from} to {to}");
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
