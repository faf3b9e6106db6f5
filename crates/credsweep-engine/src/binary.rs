//! Binary buffers: the printable strings inside them, and the media not worth looking into.
//!
//! SQLite pages, `.pyc` and `.class` constant pools, the `.rodata` of an executable and core
//! dumps hold credentials in clear, between bytes no rule matches. [`Strings::extract`] takes
//! every run of printable text from a binary buffer: UTF-8 runs (printable ASCII,
//! tab and line breaks, and well-formed multi-byte characters) and UTF-16LE runs of ASCII
//! characters (each followed by a NUL, as Windows and Java write them), each at least
//! [`MIN_RUN_CHARS`] characters long, the shortest a token can be. The runs are joined by `\n`
//! into one text buffer, which the scan runs the rules on as it does any text, and
//! [`Strings::original`] maps an offset in that text back to the byte offset in the binary, which
//! is what a finding in a binary reports.
//!
//! Images, audio, video and fonts hold no strings worth the time and would only add noise:
//! [`is_media`] tells them by their magic bytes, so they are skipped as binary.

/// The fewest characters a run must have to be kept: shorter strings cannot hold a token.
pub const MIN_RUN_CHARS: usize = 8;

/// How a byte may take part in a UTF-8 run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Not text (a control character, a stray continuation byte, an invalid lead byte).
    Other,
    /// Printable ASCII, tab, line feed or carriage return: one character on its own.
    Ascii,
    /// The lead byte of a UTF-8 character of this many bytes (2 to 4).
    Lead(u8),
}

/// Each byte's [`Class`], so the pass looks each byte up once.
const CLASSES: [Class; 256] = {
    let mut t = [Class::Other; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = match b as u8 {
            b'\t' | b'\n' | b'\r' | 0x20..=0x7E => Class::Ascii,
            0xC2..=0xDF => Class::Lead(2),
            0xE0..=0xEF => Class::Lead(3),
            0xF0..=0xF4 => Class::Lead(4),
            _ => Class::Other,
        };
        b += 1;
    }
    t
};

/// What a byte tells [`Strings::extract`]'s first pass.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// No run holds it: not text, and neither NUL nor a continuation byte (which a multi-byte
    /// character holds). A run reading ends before it and goes on after it.
    Stop,
    /// NUL: the second byte of a UTF-16LE character after an ASCII one; otherwise a stop.
    Nul,
    /// An ASCII character of a run ([`Class::Ascii`]).
    Ascii,
    /// A lead or continuation byte of a multi-byte character.
    Multi,
}

/// Each byte's [`Kind`].
const KINDS: [Kind; 256] = {
    let mut t = [Kind::Stop; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = match (CLASSES[b], b as u8) {
            (Class::Ascii, _) => Kind::Ascii,
            (Class::Lead(_), _) | (_, 0x80..=0xBF) => Kind::Multi,
            (_, 0) => Kind::Nul,
            _ => Kind::Stop,
        };
        b += 1;
    }
    t
};

/// Which bytes of a block of 64 are of each [`Kind`] but [`Kind::Multi`], a bit for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Marks {
    stop: u64,
    nul: u64,
    ascii: u64,
}

impl Marks {
    fn of(block: &[u8; 64]) -> Marks {
        // SAFETY: the processor has SSE2: the build targets it.
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        return unsafe { Marks::of_sse2(block) };
        #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
        return Marks::of_bytes(block);
    }

    /// A byte at a time, through [`KINDS`].
    #[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
    fn of_bytes(block: &[u8; 64]) -> Marks {
        let mut m = Marks {
            stop: 0,
            nul: 0,
            ascii: 0,
        };
        for (k, &b) in block.iter().enumerate() {
            match KINDS[b as usize] {
                Kind::Stop => m.stop |= 1 << k,
                Kind::Nul => m.nul |= 1 << k,
                Kind::Ascii => m.ascii |= 1 << k,
                Kind::Multi => {}
            }
        }
        m
    }

    /// Sixteen bytes at a time with SSE2, which every x86-64 processor has.
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    #[target_feature(enable = "sse2")]
    fn of_sse2(block: &[u8; 64]) -> Marks {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8,
            _mm_or_si128, _mm_set1_epi8, _mm_setzero_si128, _mm_sub_epi8,
        };
        // Bytes from `lo` to `hi`: `b - lo`, wrapping, is at most `hi - lo`.
        let within = |x: __m128i, lo: u8, hi: u8| {
            let t = _mm_sub_epi8(x, _mm_set1_epi8(lo as i8));
            _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8((hi - lo) as i8)), t)
        };
        let is = |x: __m128i, b: u8| _mm_cmpeq_epi8(x, _mm_set1_epi8(b as i8));
        let bits = |x: __m128i| u64::from(_mm_movemask_epi8(x) as u16);
        let mut m = Marks {
            stop: 0,
            nul: 0,
            ascii: 0,
        };
        for (k, lane) in block.chunks_exact(16).enumerate() {
            // SAFETY: `lane` is 16 bytes, and the load needs no alignment.
            let x = unsafe { _mm_loadu_si128(lane.as_ptr().cast::<__m128i>()) };
            let nul = _mm_cmpeq_epi8(x, _mm_setzero_si128());
            let ascii = _mm_or_si128(
                within(x, 0x20, 0x7E),
                _mm_or_si128(is(x, b'\t'), _mm_or_si128(is(x, b'\n'), is(x, b'\r'))),
            );
            // Multi-byte: 0x80 to 0xF4 but 0xC0 and 0xC1.
            let multi = within(x, 0x80, 0xF4);
            let not_lead = within(x, 0xC0, 0xC1);
            let (nul, ascii) = (bits(nul), bits(ascii));
            let multi = bits(multi) & !bits(not_lead);
            let stop = !(nul | ascii | multi) & 0xFFFF;
            let shift = 16 * k;
            m.stop |= stop << shift;
            m.nul |= nul << shift;
            m.ascii |= ascii << shift;
        }
        m
    }
}

/// Whether `b` is an ASCII character a UTF-16LE run may hold (its high byte being NUL).
fn wide_char(b: u8) -> bool {
    CLASSES[b as usize] == Class::Ascii
}

/// Where a stretch of the joined text comes from: one run, or several in a row whose offsets
/// keep the same distance (runs one byte apart in the binary, the byte that parted them turned
/// into the `\n` that parts them in the text; UTF-16LE runs one NUL character apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    /// Where it starts in the joined text.
    text: usize,
    /// Where it starts in the binary, shifted left by one; the low bit is set for UTF-16LE (two
    /// bytes of the binary for each byte of text). 16 bytes a run, not 24.
    at_wide: usize,
}

impl Run {
    fn at(self) -> usize {
        self.at_wide >> 1
    }

    fn wide(self) -> bool {
        self.at_wide & 1 == 1
    }
}

/// The printable runs of a binary buffer, joined by `\n`, and where each came from.
#[derive(Debug, Default)]
pub struct Strings {
    /// The runs, each followed by `\n`; valid UTF-8. At most the binary's length plus one byte
    /// per [`MIN_RUN_CHARS`] bytes of it.
    pub text: Vec<u8>,
    /// In order of `text` (and of the binary); at most one per 10 bytes of the binary, as a run
    /// that needs an entry of its own is at least 8 bytes and 2 away from the one before.
    runs: Vec<Run>,
    /// The end of the last run kept, in the binary, and whether it was UTF-16LE.
    last: Option<(usize, bool)>,
}

impl Strings {
    /// Extracts the runs of `data`. Nothing is allocated per byte: the text grows with what is
    /// kept, and there are at most `data.len() / MIN_RUN_CHARS` runs.
    ///
    /// Most of a binary is bytes no run can cross (neither text, NUL nor part of a multi-byte
    /// character; and a NUL not after an ASCII character, which no UTF-16LE character ends
    /// with). A first pass finds those 64 bytes at a time, and the stretches between them
    /// shorter than a run are not looked at again: a block with no longer stretch costs a few
    /// operations. The rest is read run by run. Whatever the run reading does between two such
    /// bytes, it ends at the second and goes on past it, so each stretch gives what a run
    /// reading of the whole buffer would give there.
    pub fn extract(data: &[u8]) -> Strings {
        let mut s = Strings::default();
        // The first byte of the stretch after the last stop.
        let mut from = 0;
        // Whether the byte before the block is an ASCII character (as bit 0).
        let mut after_ascii = 0;
        let mut blocks = data.chunks_exact(64);
        for (n, block) in (&mut blocks).enumerate() {
            let m = Marks::of(block.try_into().expect("64 bytes"));
            let stops = m.stop | m.nul & !(m.ascii << 1 | after_ascii);
            after_ascii = m.ascii >> 63;
            s.stretches(data, n * 64, stops, &mut from);
        }
        let base = data.len() - blocks.remainder().len();
        for (k, &b) in blocks.remainder().iter().enumerate() {
            let kind = KINDS[b as usize];
            if kind == Kind::Stop || (kind == Kind::Nul && after_ascii == 0) {
                if base + k - from >= MIN_RUN_CHARS {
                    s.extract_between(data, from, base + k);
                }
                from = base + k + 1;
            }
            after_ascii = u64::from(kind == Kind::Ascii);
        }
        if data.len() - from >= MIN_RUN_CHARS {
            s.extract_between(data, from, data.len());
        }
        s
    }

    /// Reads the stretches of `data` that end at a stop of the block at `base` (`stops`, a bit
    /// for each of its bytes) and are long enough to hold a run. `from` is where the stretch
    /// the block starts in began, and is moved past the block's last stop.
    fn stretches(&mut self, data: &[u8], base: usize, stops: u64, from: &mut usize) {
        if stops == 0 {
            return;
        }
        // A bit for each byte that starts eight bytes with no stop, all in the block.
        let open = !stops;
        let two = open & open >> 1;
        let four = two & two >> 2;
        let eight = four & four >> 4;
        if eight == 0 {
            // Only the stretch that ends at the first stop may be long enough: it began before.
            let first = base + stops.trailing_zeros() as usize;
            if first - *from >= MIN_RUN_CHARS {
                self.extract_between(data, *from, first);
            }
            *from = base + 64 - stops.leading_zeros() as usize;
            return;
        }
        let mut left = stops;
        while left != 0 {
            let k = base + left.trailing_zeros() as usize;
            if k - *from >= MIN_RUN_CHARS {
                self.extract_between(data, *from, k);
            }
            *from = k + 1;
            left &= left - 1;
        }
    }

    /// Reads the runs of `data` from `start`, where a run reading of all of `data` reaches a byte
    /// of its own, to `end`, a byte no run crosses or the end of `data`.
    fn extract_between(&mut self, data: &[u8], start: usize, end: usize) {
        let mut i = start;
        while i < end {
            let b = data[i];
            if CLASSES[b as usize] == Class::Other {
                i += 1;
                continue;
            }
            if data.get(i + 1) == Some(&0) && wide_char(b) {
                let end = wide_end(data, i);
                if (end - i) / 2 >= MIN_RUN_CHARS {
                    self.push(data, i..end, true);
                }
                // Shorter: one character and a NUL at a time, none of which starts a UTF-8 run.
                i = end;
                continue;
            }
            let (mut end, chars) = narrow_end(data, i);
            let mut chars = chars;
            // A UTF-16LE string right after UTF-8 text: its first character ends the UTF-8 run,
            // and belongs to the UTF-16 one.
            if end > i + 1
                && data.get(end) == Some(&0)
                && wide_char(data[end - 1])
                && (wide_end(data, end - 1) - (end - 1)) / 2 >= MIN_RUN_CHARS
            {
                end -= 1;
                chars -= 1;
            }
            if chars >= MIN_RUN_CHARS {
                self.push(data, i..end, false);
            }
            i = end.max(i + 1);
        }
    }

    /// Appends the run `range` of `data`, and its separator.
    fn push(&mut self, data: &[u8], range: std::ops::Range<usize>, wide: bool) {
        let gap = if wide { 2 } else { 1 };
        if self.last != Some((range.start.wrapping_sub(gap), wide)) {
            self.runs.push(Run {
                text: self.text.len(),
                at_wide: range.start << 1 | usize::from(wide),
            });
        }
        self.last = Some((range.end, wide));
        if wide {
            self.text.extend(data[range].iter().step_by(2));
        } else {
            self.text.extend_from_slice(&data[range]);
        }
        self.text.push(b'\n');
    }

    /// Whether no run was found.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// The byte offset in the binary of byte `offset` of [`Strings::text`]. An offset at a run's
    /// separator (just past its last character) maps to just past the run in the binary.
    pub fn original(&self, offset: usize) -> usize {
        let k = self.runs.partition_point(|r| r.text <= offset);
        let Some(run) = k.checked_sub(1).map(|k| self.runs[k]) else {
            return offset;
        };
        let within = offset - run.text;
        run.at() + if run.wide() { within * 2 } else { within }
    }
}

/// The end of the UTF-16LE run of ASCII characters at `start` (`data[start]` is one, and
/// `data[start + 1]` is NUL).
fn wide_end(data: &[u8], start: usize) -> usize {
    let mut j = start;
    while j + 1 < data.len() && data[j + 1] == 0 && wide_char(data[j]) {
        j += 2;
    }
    j
}

/// The end of the UTF-8 run at `start`, and how many characters it holds.
fn narrow_end(data: &[u8], start: usize) -> (usize, usize) {
    let mut j = start;
    let mut chars = 0;
    while j < data.len() {
        match CLASSES[data[j] as usize] {
            Class::Ascii => j += 1,
            Class::Lead(n) => {
                let n = usize::from(n);
                let Some(c) = data.get(j..j + n) else { break };
                if !well_formed(c) {
                    break;
                }
                j += n;
            }
            Class::Other => break,
        }
        chars += 1;
    }
    (j, chars)
}

/// Whether `c`, a lead byte of `c.len()` bytes and what follows it, is one well-formed UTF-8
/// character (as `str::from_utf8` judges: no overlong form, no surrogate, nothing above
/// U+10FFFF).
fn well_formed(c: &[u8]) -> bool {
    let cont = |b: u8| b & 0xC0 == 0x80;
    match *c {
        [_, b1] => cont(b1),
        [lead, b1, b2] => {
            let second = match lead {
                0xE0 => (0xA0..=0xBF).contains(&b1),
                0xED => (0x80..=0x9F).contains(&b1),
                _ => cont(b1),
            };
            second && cont(b2)
        }
        [lead, b1, b2, b3] => {
            let second = match lead {
                0xF0 => (0x90..=0xBF).contains(&b1),
                0xF4 => (0x80..=0x8F).contains(&b1),
                _ => cont(b1),
            };
            second && cont(b2) && cont(b3)
        }
        _ => false,
    }
}

/// Whether `data` starts as an image, audio, video or font file does: PNG, JPEG, GIF, WebP, WAV
/// and AVI (RIFF), BMP, ICO and CUR, TIFF, MP3 (ID3 tag or an MPEG audio frame), FLAC, Ogg,
/// MP4 and QuickTime (`ftyp`), Matroska and WebM, WOFF, WOFF2, TrueType and OpenType. Archives
/// are opened before this is asked ([`crate::archive`]); PDF is not media (its strings are
/// scanned). Short magic numbers are checked with a field of their header as well, so that
/// other binaries that happen to start the same way are not skipped.
pub fn is_media(data: &[u8]) -> bool {
    let at = |offset: usize, magic: &[u8]| data.get(offset..offset + magic.len()) == Some(magic);
    let u16_le = |offset: usize| {
        data.get(offset..offset + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u16_be = |offset: usize| {
        data.get(offset..offset + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
    };
    let u32_le = |offset: usize| {
        data.get(offset..offset + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let starts = |magic: &[u8]| at(0, magic);
    starts(b"\x89PNG\r\n\x1a\n")
        || starts(b"\xFF\xD8\xFF")
        || starts(b"GIF87a")
        || starts(b"GIF89a")
        || (starts(b"RIFF") && (at(8, b"WEBP") || at(8, b"WAVE") || at(8, b"AVI ")))
        // BMP: "BM", reserved fields zero, and a known size of the header that follows.
        || (starts(b"BM")
            && at(6, &[0, 0, 0, 0])
            && u32_le(14).is_some_and(|n| matches!(n, 12 | 40 | 52 | 56 | 64 | 108 | 124)))
        // ICO and CUR: reserved zero, the type, at least one image, the entry's reserved byte.
        || ((starts(&[0, 0, 1, 0]) || starts(&[0, 0, 2, 0]))
            && u16_le(4).is_some_and(|n| n > 0)
            && data.get(9) == Some(&0))
        || starts(b"II*\0")
        || starts(b"MM\0*")
        || starts(b"ID3")
        // An MPEG audio frame: 11 sync bits, and a layer (not the reserved 00).
        || (data.len() >= 2 && data[0] == 0xFF && data[1] & 0xE0 == 0xE0 && data[1] & 0x06 != 0)
        || starts(b"fLaC")
        || starts(b"OggS")
        || at(4, b"ftyp")
        || starts(b"\x1A\x45\xDF\xA3")
        || starts(b"wOFF")
        || starts(b"wOF2")
        // TrueType (version 1.0, with a plausible number of tables), OpenType, collections.
        || (starts(&[0, 1, 0, 0]) && u16_be(4).is_some_and(|n| (1..=64).contains(&n)))
        || starts(b"OTTO")
        || starts(b"true")
        || starts(b"ttcf")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(data: &[u8]) -> Vec<String> {
        let s = Strings::extract(data);
        String::from_utf8(s.text)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn utf16le(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    #[test]
    fn utf8_runs_of_eight_characters_or_more_are_kept() {
        let data = b"\0\0short\0\x01exactly8\x02\xFFa longer run, caf\xC3\xA9 \xE2\x82\xAC\0";
        assert_eq!(runs(data), ["exactly8", "a longer run, café €"]);
    }

    #[test]
    fn malformed_utf8_ends_a_run() {
        // A lead byte without its continuation, then an overlong encoding of '/'.
        let data = b"abcdefghij\xC3(\0\0klmnopqrst\xC0\xAFuvw";
        assert_eq!(runs(data), ["abcdefghij", "klmnopqrst"]);
    }

    #[test]
    fn utf16le_runs_are_kept_and_mapped_back() {
        let mut data = b"\x01\x02\x03".to_vec();
        data.extend(utf16le("token=abc123XYZ"));
        data.extend(b"\0\0\x05plain text here\0");
        let s = Strings::extract(&data);
        assert_eq!(s.text, b"token=abc123XYZ\nplain text here\n");
        // 't' of "token" at 3; 'a' of "abc" is the 7th character: 3 + 6 * 2.
        assert_eq!(s.original(0), 3);
        assert_eq!(s.original(6), 15);
        // "plain" starts after the UTF-16 run (30 bytes), two NULs and 0x05.
        assert_eq!(s.original(16), 3 + 30 + 3);
        // A run's separator maps to just past the run.
        assert_eq!(s.original(15), 33);
    }

    #[test]
    fn utf16le_runs_one_nul_character_apart_map_back() {
        let mut data = utf16le("first-string");
        data.extend([0, 0]);
        data.extend(utf16le("second-string"));
        data.extend([0, 0, 0, 0]);
        data.extend(utf16le("third-string"));
        let s = Strings::extract(&data);
        assert_eq!(s.text, b"first-string\nsecond-string\nthird-string\n");
        assert_eq!(s.runs.len(), 2);
        assert_eq!(s.original(13), 26);
        assert_eq!(s.original(27), 26 + 26 + 4);
    }

    #[test]
    fn utf16le_right_after_utf8_text_keeps_its_first_character() {
        let mut data = b"prefix-text".to_vec();
        data.extend(utf16le("WideString"));
        assert_eq!(runs(&data), ["prefix-text", "WideString"]);
        // A short UTF-16 string is not a run: its first character stays with the text.
        let mut data = b"prefix-text".to_vec();
        data.extend(utf16le("ab"));
        assert_eq!(runs(&data), ["prefix-texta"]);
    }

    #[test]
    fn multi_byte_characters_are_judged_as_from_utf8_judges_them() {
        let mut checked = 0;
        for lead in 0xC2..=0xF4u8 {
            let Class::Lead(n) = CLASSES[lead as usize] else {
                panic!("{lead:#x}")
            };
            for b1 in 0..=255u8 {
                for b2 in 0..=255u8 {
                    let tails: &[u8] = if n == 4 {
                        &[0x00, 0x80, 0xA5, 0xBF, 0xC0]
                    } else {
                        &[0]
                    };
                    for &b3 in tails {
                        let c = &[lead, b1, b2, b3][..usize::from(n)];
                        assert_eq!(well_formed(c), std::str::from_utf8(c).is_ok(), "{c:x?}");
                        checked += 1;
                        if n == 2 {
                            break;
                        }
                    }
                    if n == 2 {
                        break;
                    }
                }
            }
        }
        assert!(checked > 1_000_000, "{checked}");
    }

    #[test]
    fn random_bytes_give_little_text() {
        // A simple generator (xorshift): deterministic, no dependency.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let data: Vec<u8> = (0..1 << 20)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let s = Strings::extract(&data);
        assert!(s.text.len() < data.len() / 100, "{}", s.text.len());
        assert!(std::str::from_utf8(&s.text).is_ok());
    }

    /// The runs of `data` read from its first byte to its last, with no first pass.
    fn read_whole(data: &[u8]) -> Strings {
        let mut s = Strings::default();
        s.extract_between(data, 0, data.len());
        s
    }

    #[test]
    fn the_first_pass_changes_nothing_the_runs_give() {
        // Bytes of every kind, text and UTF-16LE strings, in random order and lengths.
        let bytes: &[u8] =
            b"\0\0\0\x01\x7F\xC0\xFF\x80\xA5\xBF\xC3\xE2\xF0\xED\xF4\x9F\t\n\r az=Z0+";
        let mut rng = crate::test_rng::Rng(0x5EED_B1A5_0000_0001);
        let mut nonempty = 0;
        for _ in 0..3000 {
            let mut data = Vec::new();
            let size = rng.below(400);
            while data.len() < size {
                let (kind, len) = (rng.below(5), rng.below(12));
                match kind {
                    0 => data.extend(rng.text(bytes, len)),
                    1 => data.extend(rng.text(b"abc=XYZ019-", len)),
                    2 => {
                        let text = rng.text(b"abc=XYZ019-", len);
                        data.extend(text.iter().flat_map(|&b| [b, 0]));
                    }
                    3 => data.extend(rng.text(b"\xC3\xA9\xE2\x82\xACab", len)),
                    // Mostly stops, as most of a binary is.
                    _ => data.extend(rng.text(b"\0\0\x01\x02\x10\xFFab", len * 4)),
                }
            }
            let fast = Strings::extract(&data);
            let whole = read_whole(&data);
            assert_eq!(fast.text, whole.text, "{data:x?}");
            assert_eq!(fast.runs, whole.runs, "{data:x?}");
            assert_eq!(fast.last, whole.last, "{data:x?}");
            nonempty += usize::from(!fast.is_empty());
        }
        // Most inputs hold runs to compare.
        assert!(nonempty > 1500, "{nonempty}");
    }

    #[test]
    fn the_block_marks_are_the_kinds_of_the_bytes() {
        for b in 0..=255u8 {
            for at in [0, 1, 15, 16, 31, 47, 63] {
                let mut block = [b'a'; 64];
                block[at] = b;
                let m = Marks::of(&block);
                assert_eq!(m, Marks::of_bytes(&block), "{b:#x} at {at}");
                let bit = |mask: u64| mask >> at & 1 == 1;
                let kind = KINDS[b as usize];
                assert_eq!(bit(m.stop), kind == Kind::Stop, "{b:#x}");
                assert_eq!(bit(m.nul), b == 0, "{b:#x}");
                assert_eq!(bit(m.ascii), CLASSES[b as usize] == Class::Ascii, "{b:#x}");
            }
        }
    }

    #[test]
    fn output_is_bounded_by_input() {
        let data = vec![b'a'; 1000];
        let s = Strings::extract(&data);
        assert_eq!(s.text.len(), 1001);
        let data: Vec<u8> = b"abcdefgh\0".repeat(100);
        let s = Strings::extract(&data);
        assert_eq!(s.text.len(), data.len());
        assert_eq!(s.original(9 * 50 + 3), 9 * 50 + 3);
        // Runs one byte apart share one entry of the map.
        assert_eq!(s.runs.len(), 1);
    }

    #[test]
    fn media_is_told_by_magic_bytes() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert!(is_media(png));
        assert!(is_media(b"\xFF\xD8\xFF\xE0\0\x10JFIF"));
        assert!(is_media(b"RIFF\0\0\0\0WEBPVP8 "));
        assert!(is_media(b"\0\0\0\x18ftypmp42"));
        assert!(is_media(b"wOF2\0\x01\0\0"));
        assert!(is_media(&[0, 1, 0, 0, 0, 12, 0, 128]));
        assert!(is_media(b"ID3\x04\0\0\0\0\0\0"));
        // Not media: a PDF, SQLite, an ELF, a RIFF of another kind, a short "BM".
        assert!(!is_media(b"%PDF-1.7\n"));
        assert!(!is_media(b"SQLite format 3\0"));
        assert!(!is_media(b"\x7FELF\x02\x01\x01\0"));
        assert!(!is_media(b"RIFF\0\0\0\0XXXX"));
        assert!(!is_media(b"BM\0"));
        assert!(!is_media(&[0, 1, 0, 0, 0, 0]));
    }
}
