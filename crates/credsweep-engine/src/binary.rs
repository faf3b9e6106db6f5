//! Binary buffers: the printable strings inside them, and the media not worth looking into.
//!
//! SQLite pages, `.pyc` and `.class` constant pools, the `.rodata` of an executable and core
//! dumps hold credentials in clear, between bytes no rule matches. [`Strings::extract`] takes
//! every run of printable text from a binary buffer in one pass: UTF-8 runs (printable ASCII,
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
    /// Extracts the runs of `data` in one pass. Nothing is allocated per byte: the text grows
    /// with what is kept, and there are at most `data.len() / MIN_RUN_CHARS` runs.
    pub fn extract(data: &[u8]) -> Strings {
        let mut s = Strings::default();
        let mut i = 0;
        while i < data.len() {
            let b = data[i];
            if CLASSES[b as usize] == Class::Other {
                // Long stretches of NULs and other non-text bytes are skipped a byte at a time
                // through the table; nothing else is done for them.
                i += 1;
                continue;
            }
            if data.get(i + 1) == Some(&0) && wide_char(b) {
                let end = wide_end(data, i);
                if (end - i) / 2 >= MIN_RUN_CHARS {
                    s.push(data, i..end, true);
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
                s.push(data, i..end, false);
            }
            i = end.max(i + 1);
        }
        s
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
