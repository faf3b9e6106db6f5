//! Values written in an encoding inside text: base64 (standard or URL-safe, padded or not), long
//! hex runs, percent-encoding, `\u0073`/`\x73` string escapes and HTML character references. A
//! Kubernetes `Secret` holds its values in base64, a logged URL holds a token percent-encoded, a
//! minified bundle holds it behind `\u` escapes: the rules cannot see any of them as written.
//!
//! [`candidates`] finds such runs cheaply and decodes those that decode to text: a run must be
//! long enough, use its alphabet, and (for base64 and hex) decode to mostly printable bytes, which
//! an identifier, a hash, a file path or an embedded image does not. Everything is bounded by a
//! [`Budget`] per scanned buffer: how many runs are decoded and how many bytes they make, so a
//! file of nothing but base64 costs a bounded multiple of its size.

use std::ops::Range;

use base64::Engine as _;

/// How a run was encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Encoding {
    Base64,
    Hex,
    Percent,
    /// `\uXXXX`, `\xNN` and the one-character escapes of JSON and JavaScript strings.
    Escapes,
    /// `&#115;`, `&#x73;`, `&amp;` and the other XML entities.
    Html,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Base64 => "base64",
            Encoding::Hex => "hex",
            Encoding::Percent => "percent",
            Encoding::Escapes => "escapes",
            Encoding::Html => "html",
        }
    }
}

/// An encoded run of a buffer and what it decodes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Where the run is in the buffer searched.
    pub span: Range<usize>,
    pub encoding: Encoding,
    pub decoded: Vec<u8>,
}

/// What decoding may still spend for one scanned buffer (shared by nested decoding).
#[derive(Debug, Clone)]
pub struct Budget {
    /// Runs that may still be decoded.
    pub runs: usize,
    /// Bytes decoded runs may still make.
    pub bytes: usize,
}

impl Budget {
    /// The budget for a buffer of `len` bytes: twice its size in decoded bytes (at least 1 MiB),
    /// and [`MAX_RUNS`] runs.
    pub fn for_buffer(len: usize) -> Budget {
        Budget {
            runs: MAX_RUNS,
            bytes: len.saturating_mul(2).max(1 << 20),
        }
    }
}

/// The most runs decoded in one scanned buffer.
pub const MAX_RUNS: usize = 100_000;

/// The longest run decoded; a longer one (an embedded image, a data dump) is decoded up to this.
pub const MAX_RUN: usize = 1 << 20;

/// The shortest base64 run worth decoding: 24 characters make 18 bytes, shorter than any token
/// worth a rule.
pub const MIN_BASE64: usize = 24;

/// The shortest hex run worth decoding (16 bytes).
pub const MIN_HEX: usize = 32;

/// A decoded base64 or hex run must be at least this printable (in parts per 100) to be text.
const MIN_PRINTABLE_PERCENT: usize = 95;

/// How many leading characters of a base64 run are decoded to judge it before the rest.
const PROBE: usize = 32;

const B64: u8 = 1;
const HEX: u8 = 2;
const STD: u8 = 4;
const URL: u8 = 8;
const UPPER: u8 = 32;
const LOWER: u8 = 64;
/// In the superset the word-at-a-time [`alphabet_mask`] classifies quickly (`+` to `9`,
/// letters, `[\\]^_{|}~`).
const MAYBE: u8 = 16;
/// What [`alphabet_mask`] classifies: the exact alphabet with SSE2, the superset otherwise; the
/// bounds of a region are found with the same class.
const REGION: u8 = if cfg!(target_arch = "x86_64") {
    B64
} else {
    MAYBE
};

/// Byte classes: base64 letters (both alphabets), hex digits, `+/` (standard), `-_` (URL-safe).
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() {
            t[b] |= B64;
            t[b] |= if c.is_ascii_uppercase() {
                UPPER
            } else if c.is_ascii_lowercase() {
                LOWER
            } else {
                0
            };
        }
        if c.is_ascii_hexdigit() {
            t[b] |= HEX;
        }
        if c == b'+' || c == b'/' {
            t[b] |= B64 | STD;
        }
        if c == b'-' || c == b'_' {
            t[b] |= B64 | URL;
        }
        if (c >= b'+' && c <= b'9') || ((c | 0x20) >= b'a' && c < 0x80) {
            t[b] |= MAYBE;
        }
        b += 1;
    }
    t
};

/// The encoded runs of `text` that decode to text, in order of position, each decoded; spends
/// `budget` and stops when it is spent.
pub fn candidates(text: &[u8], budget: &mut Budget) -> Vec<Candidate> {
    candidates_by(text, budget, base64_and_hex)
}

/// [`candidates`] with `search` to find the base64 and hex runs and the escape starts.
fn candidates_by(
    text: &[u8],
    budget: &mut Budget,
    search: impl FnOnce(&[u8], &mut Budget, &mut Vec<Candidate>) -> Markers,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    let Markers {
        percents,
        escapes,
        references,
        ..
    } = search(text, budget, &mut out);
    escaped_runs(text, percents, Encoding::Percent, budget, &mut out);
    escaped_runs(text, escapes, Encoding::Escapes, budget, &mut out);
    escaped_runs(text, references, Encoding::Html, budget, &mut out);
    out.sort_by_key(|c| (c.span.start, c.span.end));
    out
}

/// Where escapes start, found in the same pass as base64 runs: each kind of escape by the byte
/// that starts it (`%`, `\\`, `&`, classified with the alphabet), then told by the bytes after
/// it. `&` and `\\` alone are everywhere in code, so a hit costs no more than a look at its
/// next bytes.
#[derive(Default)]
struct Markers {
    /// `%` and two hex digits.
    percents: Vec<usize>,
    /// `\\u` and four hex digits, `\\x` and two.
    escapes: Vec<usize>,
    /// `&#` and `&amp;`.
    references: Vec<usize>,
    /// Where the bytes not yet looked at start.
    covered: usize,
}

impl Markers {
    /// The marker bytes `bits` of the block at `pos`, less those a block before covered.
    #[inline(never)]
    fn hits(&mut self, text: &[u8], pos: usize, mut bits: u64) {
        if self.covered > pos {
            bits &= u64::MAX
                .checked_shl((self.covered - pos) as u32)
                .unwrap_or(0);
        }
        while bits != 0 {
            self.hit(text, pos + bits.trailing_zeros() as usize);
            bits &= bits - 1;
        }
    }

    /// The marker bytes up to `end` that no block covered (the end of a run walked past a
    /// block, the byte that ends it, the lines of a wrapped body).
    #[inline]
    fn bytes(&mut self, text: &[u8], end: usize) {
        if self.covered < end {
            self.bytes_uncovered(text, end);
        }
    }

    #[inline(never)]
    fn bytes_uncovered(&mut self, text: &[u8], end: usize) {
        let from = self.covered;
        for p in memchr::memchr3_iter(b'%', b'\\', b'&', &text[from..end]) {
            self.hit(text, from + p);
        }
        self.covered = end;
    }

    /// The marker byte at `p`, if it starts an escape. Most do not (`&self`, `\\n`, `100%`), and
    /// the byte after each tells: a hex digit after `%`, `u` or `x` after `\\`, `#` or `a` after
    /// `&`.
    fn hit(&mut self, text: &[u8], p: usize) {
        let at = &text[p..];
        let next = at.get(1).copied().unwrap_or(0);
        let (list, encoding) = match at[0] {
            b'%' if next.is_ascii_hexdigit() => (&mut self.percents, Encoding::Percent),
            b'\\' if matches!(next, b'u' | b'x') => (&mut self.escapes, Encoding::Escapes),
            b'&' if matches!(next, b'#' | b'a') => (&mut self.references, Encoding::Html),
            _ => return,
        };
        if starts_escape(at, encoding) {
            list.push(p);
        }
    }
}

/// Maximal runs of the base64 alphabet, long enough, that decode to text.
///
/// The search classifies 64 bytes at a time without a branch per byte ([`alphabet_mask`]) and
/// finds where a run of [`MIN_BASE64`] alphabet bytes ends with a few shifts; only then are the
/// run's bounds found byte by byte. Text with no such run (most of it) costs a few operations
/// per 8 bytes.
fn base64_and_hex(text: &[u8], budget: &mut Budget, out: &mut Vec<Candidate>) -> Markers {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2, checked just above.
        return unsafe { base64_and_hex_avx2(text, budget, out) };
    }
    search(text, budget, out, skip_scalar, masks, run_classes)
}

/// A block where [`search`] stops: runs of [`MIN_BASE64`] class bytes end in it.
#[derive(Clone, Copy)]
struct Stop {
    /// The block's class mask (bit i: byte i in the class; escape starts are not).
    m: u64,
    /// Where runs of 24 bytes end in it ([`run_ends`]).
    ends: u64,
    /// How many class bytes end the text before the block, where a run goes on into it.
    carried: u32,
}

/// What a skip over whole blocks found: the block it stopped at (at the position returned), or
/// none before the last whole block (the position returned is where the last bytes, fewer than
/// 64, start; `tail`, the whole octets of the block before them).
type Skipped = (usize, u32, Option<Stop>);

/// [`base64_and_hex`] compiled for AVX2 as a whole: the classification of each block is inlined
/// into the search, and the processor is asked once per buffer, not once per block.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn base64_and_hex_avx2(text: &[u8], budget: &mut Budget, out: &mut Vec<Candidate>) -> Markers {
    search(
        text,
        budget,
        out,
        |text, pos, tail, resumed, markers| skip_avx2(text, pos, tail, resumed, markers),
        |block| masks_avx2(block),
        // Runs are at least MIN_BASE64 long: AVX2 asks for 16.
        |run| {
            if run.len() >= 16 {
                run_classes_avx2(run)
            } else {
                run_classes_sse2(run)
            }
        },
    )
}

/// The first whole block from `pos` on where a run of [`MIN_BASE64`] class bytes ends (see
/// [`search`]; `tail`: which of the two last octets of the block before `pos` are whole,
/// `resumed`: where the search went on, the byte before it in no run). A block is classified
/// byte by byte only where two whole octets meet, in it or across its start (a run of 24
/// holds two); the others are passed on their octets alone. The escape starts of the blocks
/// looked at, that one included, are added to `markers`. The fallback for [`skip_avx2`]
/// (which passes more: see [`undecodable_passed`]).
fn skip_scalar(
    text: &[u8],
    pos: usize,
    tail: u32,
    resumed: usize,
    markers: &mut Markers,
) -> Skipped {
    skip_by(text, pos, tail, resumed, markers, masks)
}

/// [`skip_scalar`] with `masks` to classify each block.
#[inline(always)]
fn skip_by(
    text: &[u8],
    mut pos: usize,
    mut tail: u32,
    resumed: usize,
    markers: &mut Markers,
    masks: impl Fn(&[u8; 64]) -> (u64, u64),
) -> Skipped {
    while let Some(block) = text.get(pos..pos + 64) {
        let (m, marker_bits) = masks(block.try_into().expect("64 bytes"));
        if marker_bits != 0 {
            markers.hits(text, pos, marker_bits);
        }
        let whole = u32::from(octets(m));
        let octets = whole << 2 | tail;
        if octets & (octets >> 1) != 0
            && let Some(stop) = stop_at(pos, tail, resumed, m, || {
                class_bytes_before(text, pos, resumed, |b| CLASS[b as usize] & REGION != 0)
            })
        {
            return (pos, tail, Some(stop));
        }
        tail = whole >> 6;
        pos += 64;
    }
    (pos, tail, None)
}

/// The [`Stop`] at the block at `pos` whose class mask is `m`, if a run of 24 class bytes ends
/// in it (`tail` and `resumed` as [`skip_scalar`] takes them; `before`, what
/// [`class_bytes_before`] answers for `text[resumed..pos]`).
#[inline(always)]
fn stop_at(
    pos: usize,
    tail: u32,
    resumed: usize,
    m: u64,
    before: impl FnOnce() -> u32,
) -> Option<Stop> {
    // The bytes in the class the text before the block ends with, where a run may go on into
    // the block: fewer than 24, or the block before had a run; fewer than 8 unless its last
    // octet is whole, fewer than 16 unless the two.
    let at_most = [7, 7, 15, 23][tail as usize];
    let carried = if pos > resumed && m.trailing_ones() + at_most >= 24 {
        before()
    } else {
        0
    };

    let ends = run_ends(m, carried);
    (ends != 0).then_some(Stop { m, ends, carried })
}

/// Which of the 8 octets of a block's class mask `m` (bytes 8k..8k+8, bit k) are whole: all 8
/// bytes in the class.
fn octets(m: u64) -> u8 {
    (0..8).fold(0, |o, k| o | u8::from((m >> (8 * k)) as u8 == 0xff) << k)
}

/// The search of [`base64_and_hex`], with `skip` to find the whole blocks where runs end (and
/// add their escape starts, as [`skip_scalar`] does) and `masks` to classify a block byte by
/// byte (the alphabet and the escape starts, as [`masks`] does). Inlined into each caller, so
/// that the classification is compiled with the caller's instructions.
///
/// A run of [`MIN_BASE64`] (24) bytes holds two whole octets one after the other (the octets of
/// the blocks, 8 bytes from a block's start), so `skip` asks first only for whole octets and
/// escape starts, in a loop that holds little else (and keeps its constants in registers); a
/// block where two whole octets meet (one in six of the cargo registry's sources: a long
/// identifier, a hash, a path) is then classified byte by byte in the same loop, and about half
/// of them hold a run. The bytes after the last whole block are classified as a block of their
/// own, padded with spaces (in no class).
///
/// Most runs found (five in six on the cargo registry's sources: identifiers in one case,
/// paths) cannot decode by their classes alone (`classes`, as [`run_classes`] answers): they are
/// passed here, before the call that would try them ([`take_run`], which asks the same), or,
/// where a run lies within its block, by `skip` itself ([`skip_avx2`] does, the fallback does
/// not: see [`undecodable_passed`]).
#[inline(always)]
fn search(
    text: &[u8],
    budget: &mut Budget,
    out: &mut Vec<Candidate>,
    skip: impl Fn(&[u8], usize, u32, usize, &mut Markers) -> Skipped,
    masks: impl Fn(&[u8; 64]) -> (u64, u64),
    classes: impl Fn(&[u8]) -> (u8, u8),
) -> Markers {
    let n = text.len();
    let mut markers = Markers::default();
    let alphabet = |b: u8| CLASS[b as usize] & B64 != 0;
    let maybe = |b: u8| CLASS[b as usize] & REGION != 0;
    let mut pos = 0;
    'search: while pos < n {
        // The escape starts that no block covered: those after a run that went past its block.
        markers.bytes(text, pos);
        // Where the search goes on: the byte before is not in the class (it ends a run or a
        // wrapped body), or there is none.
        let resumed = pos;
        // The two last octets of the block before, when it was looked at: whole ones.
        let mut tail = 0u32;
        // A region of bytes that may be in the alphabet, bounded by bytes that are not.
        let (region, one_run) = {
            let stop;
            (pos, tail, stop) = skip(text, pos, tail, resumed, &mut markers);
            let stop = match stop {
                Some(stop) => stop,
                None if pos >= n => {
                    if pos > resumed {
                        // Blocks covered the bytes up to `pos`.
                        markers.covered = markers.covered.max(pos);
                    }
                    break 'search;
                }
                None => {
                    // The last bytes, which `skip` leaves (it looked at the whole blocks).
                    let (m, marker_bits) = masks(&padded_tail(&text[pos..]));
                    if marker_bits != 0 {
                        markers.hits(text, pos, marker_bits);
                    }
                    let before = || class_bytes_before(text, pos, resumed, maybe);
                    match stop_at(pos, tail, resumed, m, before) {
                        Some(stop) => stop,
                        None => {
                            markers.covered = markers.covered.max(n);
                            break 'search;
                        }
                    }
                }
            };
            markers.covered = markers.covered.max(pos + 64);
            let Stop { m, ends, carried } = stop;
            let bit = ends.trailing_zeros();
            let inside = pos + bit as usize;
            if REGION == B64 {
                // The run's bounds from the masks: the last byte out of the alphabet below the
                // bit (or the run carried from the previous block), the first above it.
                let below = !m & ((1u64 << bit) - 1);
                let start = if below != 0 {
                    pos + 64 - below.leading_zeros() as usize
                } else {
                    pos - carried as usize
                };
                let above = !m >> bit;
                let mut end = if above != 0 {
                    inside + above.trailing_zeros() as usize
                } else {
                    pos + 64
                };
                while end < n && maybe(text[end]) {
                    end += 1;
                }
                (start..end, true)
            } else {
                let mut start = inside;
                while start > 0 && maybe(text[start - 1]) {
                    start -= 1;
                }
                let mut end = inside + 1;
                while end < n && maybe(text[end]) {
                    end += 1;
                }
                (start..end, false)
            }
        };
        pos = region.end + 1;
        // The runs of the real alphabet in it.
        let mut i = region.start;
        while i < region.end {
            if !alphabet(text[i]) {
                i += 1;
                continue;
            }
            let start = i;
            if one_run {
                // The region is one run of the alphabet.
                i = region.end;
            }
            while i < region.end && alphabet(text[i]) {
                i += 1;
            }
            let end = i;
            if end - start < MIN_BASE64 {
                continue;
            }
            let capped = &text[start..end.min(start + MAX_RUN)];
            if budget.runs != 0
                && budget.bytes != 0
                && !may_start_body(text, start, end)
                && !may_decode(classes(capped), capped.len())
            {
                // What `take_run` would make of it: nothing.
                continue;
            }
            match take_run(text, start..end, budget, out) {
                Taken::Run => {}
                Taken::Body(end) => {
                    pos = end;
                    continue 'search;
                }
                // Nothing more is decoded: escapes neither.
                Taken::Spent => return markers,
            }
        }
    }
    markers.bytes(text, n);
    markers
}

/// What [`take_run`] made of a run.
enum Taken {
    /// The run was decoded, or not; the search goes on after it.
    Run,
    /// The run was the first line of a wrapped body, which ends here (the search goes on here).
    Body(usize),
    /// The budget is spent: the search stops.
    Spent,
}

/// Decodes the run `run` of the alphabet (at least [`MIN_BASE64`] long) as base64 or hex, or as
/// the first line of a wrapped body, if it decodes to text and the budget allows.
fn take_run(
    text: &[u8],
    run: Range<usize>,
    budget: &mut Budget,
    out: &mut Vec<Candidate>,
) -> Taken {
    let Range { start, end } = run;
    if budget.runs == 0 || budget.bytes == 0 {
        return Taken::Spent;
    }
    if let Some(body) = wrapped_body(text, start, end) {
        // The lines of a wrapped body are one value: decoded whole, or not at all (the lines of
        // an attached image are not tried one by one).
        if let Some((encoding, decoded)) = decode_run(&body.joined, budget.bytes)
            && !follows_image_marker(text, start)
        {
            budget.runs -= 1;
            budget.bytes = budget.bytes.saturating_sub(decoded.len());
            out.push(Candidate {
                span: start..body.end,
                encoding,
                decoded,
            });
        }
        return Taken::Body(body.end);
    }
    let mut padded_end = end;
    while padded_end < text.len() && padded_end - end < 2 && text[padded_end] == b'=' {
        padded_end += 1;
    }
    // An image's bytes are judged by what comes before the run only when they decode to text
    // (an image's bytes seldom do): most runs never get there.
    if let Some((encoding, decoded)) = decode_run(&text[start..end], budget.bytes)
        && !follows_image_marker(text, start)
    {
        budget.runs -= 1;
        budget.bytes = budget.bytes.saturating_sub(decoded.len());
        out.push(Candidate {
            span: start..padded_end,
            encoding,
            decoded,
        });
    }
    Taken::Run
}

/// Where a run of 24 bytes of the class ends in a block whose class mask is `m` (bit k: the
/// bytes k-23..=k all in it), and, if the bytes before the block end with `carried` bytes of
/// the class, a bit below 24 where such a run that started before the block reaches 24 bytes.
#[inline(always)]
fn run_ends(m: u64, carried: u32) -> u64 {
    // Shifts of one word, cheaper than of two.
    let mut t = m;
    t &= t << 1;
    t &= t << 2;
    t &= t << 4;
    t &= t << 8;
    t &= t << 8;
    if carried > 0 && carried + m.trailing_ones() >= 24 {
        t |= 1 << (23 - carried);
    }
    t
}

/// How many bytes in the class (`maybe`) end `text[from..pos]`: fewer than 24 where the search
/// asks (a run of 24 there would have been found).
#[inline(never)]
fn class_bytes_before(text: &[u8], pos: usize, from: usize, maybe: impl Fn(u8) -> bool) -> u32 {
    let count = text[from..pos]
        .iter()
        .rev()
        .take(MIN_BASE64)
        .take_while(|&&b| maybe(b))
        .count();
    debug_assert!(count < MIN_BASE64, "a run of {count} before {pos}");
    count as u32
}

/// The last bytes of a text (fewer than 64) as a block, padded with spaces.
#[cold]
fn padded_tail(tail: &[u8]) -> [u8; 64] {
    let mut block = [b' '; 64];
    block[..tail.len()].copy_from_slice(tail);
    block
}

/// The widest line of a wrapped base64 body: MIME writes 76 characters a line, PEM and OpenSSL 64.
pub const MAX_WRAP_WIDTH: usize = 76;

/// The most spaces or tabs that indent the lines of a wrapped body (a YAML block scalar).
const MAX_INDENT: usize = 32;

/// A base64 body written as lines of one width (the last may be shorter): an e-mail part, a
/// file run through `base64`, a YAML block scalar.
struct Wrapped {
    /// Where the body's last line ends (its padding included).
    end: usize,
    /// The body's characters, lines joined (no line breaks, indentation or padding).
    joined: Vec<u8>,
}

/// The wrapped body whose first line is the run `start..end`, if the run is a whole line (after
/// an indentation), at most [`MAX_WRAP_WIDTH`] long, a multiple of 4, and followed by at least
/// one more line of the body: the same indentation, then the same number of alphabet characters
/// or, on the last line, fewer and their padding. Joined up to [`MAX_RUN`] characters (a longer
/// body goes on as a body of its own). Most runs are rejected by the first test: what follows
/// them is not a line break.
fn wrapped_body(text: &[u8], start: usize, end: usize) -> Option<Wrapped> {
    if !may_start_body(text, start, end) {
        return None;
    }
    let width = end - start;
    let indent_len = text[start.saturating_sub(MAX_INDENT + 1)..start]
        .iter()
        .rev()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    let line_start = start - indent_len;
    if line_start > 0 && text[line_start - 1] != b'\n' {
        return None;
    }
    let indent = &text[line_start..start];
    let alphabet = |b: &u8| CLASS[*b as usize] & B64 != 0;
    let mut joined = text[start..end].to_vec();
    let mut at = end;
    loop {
        let next = match &text[at..] {
            [b'\n', ..] => at + 1,
            [b'\r', b'\n', ..] => at + 2,
            _ => break,
        };
        if !text[next..].starts_with(indent) {
            break;
        }
        let line = next + indent.len();
        let k = text[line..]
            .iter()
            .take(width + 1)
            .take_while(|b| alphabet(b))
            .count();
        let mut line_end = line + k;
        while line_end - line - k < 2 && text.get(line_end) == Some(&b'=') {
            line_end += 1;
        }
        let breaks = matches!(text.get(line_end), None | Some(b'\n' | b'\r'));
        if k == 0 || line_end - line > width || !breaks || joined.len() + k > MAX_RUN {
            break;
        }
        joined.extend_from_slice(&text[line..line + k]);
        at = line_end;
        if line_end - line < width || line_end > line + k {
            break;
        }
    }
    (at > end).then_some(Wrapped { end: at, joined })
}

/// Whether the run `start..end` may be the first line of a wrapped body by its own shape
/// (what [`wrapped_body`] asks first): a line break after it, at most [`MAX_WRAP_WIDTH`] long,
/// a multiple of 4.
#[inline]
fn may_start_body(text: &[u8], start: usize, end: usize) -> bool {
    let width = end - start;
    matches!(text.get(end), Some(b'\n' | b'\r'))
        && width <= MAX_WRAP_WIDTH
        && width.is_multiple_of(4)
}

/// Whether the run at `start` is an image's bytes by what is written just before it: a
/// `data:image/png;base64,` URI, or a notebook's `"image/png": "` output. Images are not text,
/// and a scan of their bytes finds only noise. SVG is text and is left to decode.
fn follows_image_marker(text: &[u8], start: usize) -> bool {
    let mut before = &text[start.saturating_sub(40)..start];
    while let [rest @ .., b' ' | b'\t' | b'"' | b'\'' | b'[' | b':' | b','] = before {
        before = rest;
    }
    let before = before.strip_suffix(b";base64").unwrap_or(before);
    let Some(at) = memchr::memmem::rfind(before, b"image/") else {
        return false;
    };
    let kind = before[at + 6..]
        .strip_suffix(b"\"")
        .unwrap_or(&before[at + 6..]);
    IMAGE_KINDS.contains(&kind)
}

/// The image media types (after `image/`) whose base64 is not decoded.
const IMAGE_KINDS: &[&[u8]] = &[
    b"png", b"jpeg", b"jpg", b"gif", b"webp", b"bmp", b"x-icon", b"avif", b"tiff",
];

/// Whether decoded bytes start as an image file does (PNG, JPEG, GIF, WebP): text may follow
/// an image's header (a GIF's comment, a PNG's `tEXt` chunk), but it is no secret's place.
fn is_image(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89PNG\r\n\x1a\n")
        || bytes.starts_with(&[0xff, 0xd8, 0xff])
        || bytes.starts_with(b"GIF87a")
        || bytes.starts_with(b"GIF89a")
        || (bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP"))
}

// The word-at-a-time classification: what other targets use, and what tests check SSE2 against.
#[cfg(any(test, not(target_arch = "x86_64")))]
const ONES: u64 = 0x0101_0101_0101_0101;
#[cfg(any(test, not(target_arch = "x86_64")))]
const HIGH: u64 = 0x8080_8080_8080_8080;

#[cfg(any(test, not(target_arch = "x86_64")))]
/// For each byte of `t` (all below 0x80): its high bit set if it is within `lo..=hi`.
fn in_range(t: u64, lo: u8, hi: u8) -> u64 {
    let at_least_lo = t.wrapping_add(ONES * (0x80 - u64::from(lo)));
    let above_hi = t.wrapping_add(ONES * (0x7f - u64::from(hi)));
    at_least_lo & !above_hi & HIGH
}

#[cfg(any(test, not(target_arch = "x86_64")))]
/// Which of 8 bytes (little-endian in `x`) may be in the base64 alphabet, as bits: a superset
/// in two ranges, `+` to `9` (with `,` and `.`) and letters with `[\\]^_{|}~`, which the exact
/// check of a run that looks long enough then narrows.
fn alphabet8(x: u64) -> u64 {
    let t = x & !HIGH;
    let m = in_range(t | (ONES * 0x20), b'a', 0x7f) | in_range(t, b'+', b'9');
    // Bytes of 0x80 and above are in no alphabet; then one bit per byte, byte i at bit i.
    let flags = (m & !x) >> 7;
    flags.wrapping_mul(0x0102_0408_1020_4080) >> 56
}

/// Which of 64 bytes are in the base64 alphabet (both alphabets: letters, digits, `+/-_`): bit i
/// for byte i. On x86-64, exactly: 32 bytes per instruction with AVX2 where the processor has it
/// (nearly all do), 16 with SSE2 (which every x86-64 has); a superset (with `.` and `[]{}`) would
/// send most of the lines of code to the byte-by-byte search of a region.
#[cfg(all(test, target_arch = "x86_64"))]
fn alphabet_mask(chunk: &[u8; 64]) -> u64 {
    masks(chunk).0
}

/// [`alphabet_mask`] and which of the 64 bytes start an escape (`%`, `\\`, `&`), in one pass.
#[cfg(target_arch = "x86_64")]
fn masks(chunk: &[u8; 64]) -> (u64, u64) {
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2, checked just above.
        unsafe { masks_avx2(chunk) }
    } else {
        masks_sse2(chunk)
    }
}

/// The classes of 32 bytes (see [`NIBBLE_LO`]): each byte classified by two table look-ups,
/// one per nibble, whose bits are ANDed: a bit stands for a set of high nibbles times a set of
/// low nibbles.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn classes_avx2(bytes: &[u8; 32]) -> std::arch::x86_64::__m256i {
    nibble_classes_avx2(bytes, &NIBBLE_LO, &NIBBLE_HI)
}

/// The classes of 32 bytes by the nibble tables `lo` and `hi` (see [`classes_avx2`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn nibble_classes_avx2(
    bytes: &[u8; 32],
    lo: &[u8; 32],
    hi: &[u8; 32],
) -> std::arch::x86_64::__m256i {
    use std::arch::x86_64::{__m256i, _mm256_loadu_si256};
    // SAFETY: `bytes` is 32 readable bytes, loaded without any alignment requirement.
    let x = unsafe { _mm256_loadu_si256(bytes.as_ptr().cast::<__m256i>()) };
    nibble_classes_of(x, lo, hi)
}

/// [`nibble_classes_avx2`] of 32 bytes already loaded.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn nibble_classes_of(
    x: std::arch::x86_64::__m256i,
    lo: &[u8; 32],
    hi: &[u8; 32],
) -> std::arch::x86_64::__m256i {
    use std::arch::x86_64::{
        __m256i, _mm256_and_si256, _mm256_loadu_si256, _mm256_set1_epi8, _mm256_shuffle_epi8,
        _mm256_srli_epi16,
    };
    // SAFETY: the tables are 32 readable bytes, loaded without any alignment requirement.
    let (lo_table, hi_table) = unsafe {
        (
            _mm256_loadu_si256(lo.as_ptr().cast::<__m256i>()),
            _mm256_loadu_si256(hi.as_ptr().cast::<__m256i>()),
        )
    };
    // The low nibble's look-up needs no mask: a byte of 0x80 and above (its high bit set) looks
    // up 0, in no class.
    let lo = _mm256_shuffle_epi8(lo_table, x);
    let nibble = _mm256_set1_epi8(0x0f);
    let hi = _mm256_shuffle_epi8(hi_table, _mm256_and_si256(_mm256_srli_epi16(x, 4), nibble));
    _mm256_and_si256(lo, hi)
}

/// The two halves of a block.
#[cfg(target_arch = "x86_64")]
fn halves(chunk: &[u8; 64]) -> (&[u8; 32], &[u8; 32]) {
    let (a, b) = chunk.split_at(32);
    (
        a.try_into().expect("32 bytes"),
        b.try_into().expect("32 bytes"),
    )
}

/// The escape starts of a block whose halves have the classes `a` and `b`, or 0 when it has
/// none (one test of both halves: most blocks).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn markers_avx2(a: std::arch::x86_64::__m256i, b: std::arch::x86_64::__m256i) -> u64 {
    use std::arch::x86_64::{
        _mm256_and_si256, _mm256_cmpeq_epi8, _mm256_movemask_epi8, _mm256_or_si256,
        _mm256_set1_epi8, _mm256_testz_si256,
    };
    let marker_bits = _mm256_set1_epi8(NIBBLE_MARKER as i8);
    if _mm256_testz_si256(_mm256_or_si256(a, b), marker_bits) == 1 {
        return 0;
    }
    let zero = _mm256_set1_epi8(0);
    let marker = |c| {
        !(_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_and_si256(c, marker_bits), zero)) as u32)
    };
    u64::from(marker(a)) | u64::from(marker(b)) << 32
}

/// [`skip_scalar`] 32 bytes at a time, two blocks a step where neither holds an escape start
/// nor two whole octets that meet (most): an octet is whole where none of its bytes is in no
/// class (an escape start counts as in the alphabet here: the class mask of a block where two
/// whole octets meet leaves them out). About 30 instructions a block passed. The escape starts
/// of a block are narrowed by the byte after each ([`escape_starts_avx2`]) before
/// [`Markers::hits`] looks at them one by one.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline(never)]
fn skip_avx2(
    text: &[u8],
    mut pos: usize,
    mut tail: u32,
    resumed: usize,
    markers: &mut Markers,
) -> Skipped {
    use std::arch::x86_64::{
        _mm256_castsi256_pd, _mm256_cmpeq_epi8, _mm256_cmpeq_epi64, _mm256_movemask_epi8,
        _mm256_movemask_pd, _mm256_or_si256, _mm256_set1_epi8, _mm256_testz_si256,
    };
    let zero = _mm256_set1_epi8(0);
    let whole = |c| {
        let unclassed = _mm256_cmpeq_epi8(c, zero);
        _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpeq_epi64(unclassed, zero))) as u32
    };
    let in_class = |c| !(_mm256_movemask_epi8(_mm256_cmpeq_epi8(c, zero)) as u32);
    let marker = _mm256_set1_epi8(NIBBLE_MARKER as i8);
    // Where the last whole block may start.
    let Some(last) = text.len().checked_sub(64) else {
        return (pos, tail, None);
    };
    loop {
        // Blocks with no escape start and no two whole octets that meet, in a loop of their
        // own (most blocks: its constants stay in registers); then the block that has either.
        let (a, b, whole) = loop {
            // A bound known before the loop: no test of `pos + 64` for overflow in it.
            if pos > last {
                return (pos, tail, None);
            }
            let (a, b) = halves(text[pos..pos + 64].try_into().expect("64 bytes"));
            let (a, b) = (classes_avx2(a), classes_avx2(b));
            let whole = whole(a) | whole(b) << 4;
            let octets = whole << 2 | tail;
            if _mm256_testz_si256(_mm256_or_si256(a, b), marker) == 0 || octets & (octets >> 1) != 0
            {
                break (a, b, whole);
            }
            tail = whole >> 6;
            pos += 64;
        };
        let mut marker_bits = markers_avx2(a, b);
        let octets = whole << 2 | tail;
        let meet = octets & (octets >> 1) != 0;
        // The exact class mask, where it is asked for: the escape starts are in no class.
        let m = if meet {
            (u64::from(in_class(a)) | u64::from(in_class(b)) << 32) & !marker_bits
        } else {
            0
        };
        if marker_bits != 0 {
            if let Some(next) = text.get(pos + 1..pos + 65) {
                marker_bits &= escape_starts_avx2(a, b, next.try_into().expect("64 bytes"));
            }
            if marker_bits != 0 {
                markers.hits(text, pos, marker_bits);
            }
        }
        // A block after `resumed` is at least a block after it: the 32 bytes before `pos` are
        // the text's, and more than 24 bytes from `resumed`.
        let before = || class_bytes_before_avx2(text, pos);
        if meet
            && let Some(stop) = stop_at(pos, tail, resumed, m, before)
            && let Some(stop) = undecodable_passed(text, pos, stop, |run| run_classes_avx2(run))
        {
            return (pos, tail, Some(stop));
        }
        tail = whole >> 6;
        pos += 64;
    }
}

/// The [`Stop`] at the block at `pos` less its runs that end within the block and that
/// [`search`] would pass (not the first line of a wrapped body, and undecodable by their
/// `classes`), or none if that is all of them. A run that goes on past the block's end is left
/// to the search, and so are those after it. Each run's bounds are found as the search finds
/// them: in the block's class mask, and the class bytes `carried` into it.
///
/// Most blocks where runs end hold one run of an identifier or a path, within the block: passed
/// here, the search is neither left nor started again for it (about 100 instructions a run
/// less). The search passes these runs only while the budget is not spent, and stops at them
/// when it is; passed here whatever the budget, they change nothing found: a spent budget
/// decodes nothing more, escapes neither ([`escaped_runs`] asks it too).
#[inline(always)]
fn undecodable_passed(
    text: &[u8],
    pos: usize,
    mut stop: Stop,
    classes: impl Fn(&[u8]) -> (u8, u8),
) -> Option<Stop> {
    while stop.ends != 0 {
        let bit = stop.ends.trailing_zeros();
        let above = !stop.m >> bit;
        if above == 0 {
            break;
        }
        let below = !stop.m & ((1u64 << bit) - 1);
        let start = if below != 0 {
            pos + 64 - below.leading_zeros() as usize
        } else {
            pos - stop.carried as usize
        };
        let end = pos + bit as usize + above.trailing_zeros() as usize;
        let run = &text[start..end];
        if may_start_body(text, start, end) || may_decode(classes(run), run.len()) {
            break;
        }
        // The run's ends (the byte at `end` is in no run): those after it are of other runs.
        stop.ends &= u64::MAX.checked_shl((end - pos) as u32).unwrap_or(0);
    }
    (stop.ends != 0).then_some(stop)
}

/// [`class_bytes_before`] for a block at `pos` that is at least a block after where the search
/// went on: the alphabet bytes that end the 32 bytes before it, at most [`MIN_BASE64`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn class_bytes_before_avx2(text: &[u8], pos: usize) -> u32 {
    use std::arch::x86_64::{
        _mm256_and_si256, _mm256_cmpeq_epi8, _mm256_movemask_epi8, _mm256_set1_epi8,
    };
    let before = classes_avx2(text[pos - 32..pos].try_into().expect("32 bytes"));
    let alphabet = _mm256_and_si256(before, _mm256_set1_epi8(NIBBLE_ALPHABET as i8));
    let outside = _mm256_movemask_epi8(_mm256_cmpeq_epi8(alphabet, _mm256_set1_epi8(0))) as u32;
    outside.leading_zeros().min(MIN_BASE64 as u32)
}

/// Which escape starts of a block (its halves classed `a` and `b`) may start an escape by the
/// byte after each (`next`, the block one byte on, classed by [`NEXT_LO`]): `%` before a hex
/// digit, `\\` before `u` or `x`, `&` before `#` or `a` (and a few more), what
/// [`Markers::hit`] asks first. Most `&` and `\\` in code (`&self`, `\\n`) are not.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn escape_starts_avx2(
    a: std::arch::x86_64::__m256i,
    b: std::arch::x86_64::__m256i,
    next: &[u8; 64],
) -> u64 {
    use std::arch::x86_64::{
        __m256i, _mm256_and_si256, _mm256_cmpeq_epi8, _mm256_movemask_epi8, _mm256_set1_epi8,
    };
    let zero = _mm256_set1_epi8(0);
    let starts = |c: __m256i, at: usize| {
        let after = nibble_classes_avx2(
            next[at..at + 32].try_into().expect("32 bytes"),
            &NEXT_LO,
            &NEXT_HI,
        );
        !(_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_and_si256(c, after), zero)) as u32)
    };
    u64::from(starts(a, 0)) | u64::from(starts(b, 32)) << 32
}

/// [`masks`] 32 bytes at a time; the same classes as [`masks_sse2`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn masks_avx2(chunk: &[u8; 64]) -> (u64, u64) {
    use std::arch::x86_64::{_mm256_cmpeq_epi8, _mm256_movemask_epi8, _mm256_set1_epi8};
    let (a, b) = halves(chunk);
    let (a, b) = (classes_avx2(a), classes_avx2(b));
    // The bytes in some class: the alphabet and the escape starts (no byte is in both).
    let zero = _mm256_set1_epi8(0);
    let in_class = |c| !(_mm256_movemask_epi8(_mm256_cmpeq_epi8(c, zero)) as u32);
    let classed = u64::from(in_class(a)) | u64::from(in_class(b)) << 32;
    let markers = markers_avx2(a, b);
    (classed & !markers, markers)
}

/// The nibble tables of [`masks_avx2`]: a byte is in a class when its low nibble's entry and its
/// high nibble's entry share a bit. Bit 0: `+ - /` (high nibble 2); bit 1: digits (3); bit 2:
/// `A-O` and `a-o` (4, 6); bit 3: `P-Z` and `p-z` (5, 7); bit 4: `_` (5); bit 5: `%` (2);
/// bit 6: `\\` (5); bit 7: `&` (2). Bits 0-4 make the base64 alphabet (both), bits 5-7 the
/// escape starts, one bit each (as [`NEXT_LO`] asks).
/// Each table holds its 16 entries twice: the shuffle looks up within each 128-bit lane.
#[cfg(target_arch = "x86_64")]
const NIBBLE_LO: [u8; 32] = {
    let mut t = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        let l = i % 16;
        let mut bits = 0;
        if l == 0xb || l == 0xd || l == 0xf {
            bits |= 1;
        }
        if l <= 9 {
            bits |= 2;
        }
        if l >= 1 {
            bits |= 4;
        }
        if l <= 0xa {
            bits |= 8;
        }
        if l == 0xf {
            bits |= 16;
        }
        if l == 5 {
            bits |= 32;
        }
        if l == 6 {
            bits |= 128;
        }
        if l == 0xc {
            bits |= 64;
        }
        t[i] = bits;
        i += 1;
    }
    t
};

/// See [`NIBBLE_LO`].
#[cfg(target_arch = "x86_64")]
const NIBBLE_HI: [u8; 32] = {
    let mut t = [0u8; 32];
    let mut lane = 0;
    while lane < 32 {
        t[lane + 2] = 1 | 32 | 128;
        t[lane + 3] = 2;
        t[lane + 4] = 4;
        t[lane + 5] = 8 | 16 | 64;
        t[lane + 6] = 4;
        t[lane + 7] = 8;
        lane += 16;
    }
    t
};

#[cfg(target_arch = "x86_64")]
const NIBBLE_MARKER: u8 = 32 | 64 | 128;

/// The bits of [`NIBBLE_LO`] that make the base64 alphabet.
#[cfg(target_arch = "x86_64")]
const NIBBLE_ALPHABET: u8 = 1 | 2 | 4 | 8 | 16;

/// The nibble tables of the byte after an escape start ([`escape_starts_avx2`]), with the bits
/// of the start it may follow in [`NIBBLE_LO`]: bit 5 (after `%`): `0-9` `@A-I` `` ` ``a-i`
/// (high nibble 3, 4, 6; the hex digits and a few more); bit 6 (after `\\`): `u` and `x`
/// (7); bit 7 (after `&`): `!` `#` `a` `c` (2, 6; `#` and `a`, and two more).
#[cfg(target_arch = "x86_64")]
const NEXT_LO: [u8; 32] = {
    let mut t = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        let l = i % 16;
        let mut bits = 0;
        if l <= 9 {
            bits |= 32;
        }
        if l == 5 || l == 8 {
            bits |= 64;
        }
        if l == 1 || l == 3 {
            bits |= 128;
        }
        t[i] = bits;
        i += 1;
    }
    t
};

/// See [`NEXT_LO`].
#[cfg(target_arch = "x86_64")]
const NEXT_HI: [u8; 32] = {
    let mut t = [0u8; 32];
    let mut lane = 0;
    while lane < 32 {
        t[lane + 2] = 128;
        t[lane + 3] = 32;
        t[lane + 4] = 32;
        t[lane + 6] = 32 | 128;
        t[lane + 7] = 64;
        lane += 16;
    }
    t
};

/// [`masks`] 16 bytes at a time.
#[cfg(target_arch = "x86_64")]
fn masks_sse2(chunk: &[u8; 64]) -> (u64, u64) {
    use std::arch::x86_64::{
        __m128i, _mm_and_si128, _mm_andnot_si128, _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_cmplt_epi8,
        _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    let (mut mask, mut markers) = (0u64, 0u64);
    for (j, block) in chunk.chunks_exact(16).enumerate() {
        // SAFETY: SSE2 is part of every x86-64 target (the intrinsics need no runtime check),
        // and `block` is 16 readable bytes, loaded without any alignment requirement.
        let (bits, starts) = unsafe {
            let x = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
            let eq = |c: u8| _mm_cmpeq_epi8(x, _mm_set1_epi8(c as i8));
            // Signed compares: bytes of 0x80 and above are negative and fall in no range.
            let folded = _mm_or_si128(x, _mm_set1_epi8(0x20));
            let letters = _mm_and_si128(
                _mm_cmpgt_epi8(folded, _mm_set1_epi8(b'a' as i8 - 1)),
                _mm_cmplt_epi8(folded, _mm_set1_epi8(b'z' as i8 + 1)),
            );
            // `+` to `9` is `+,-./0-9`: all in the alphabet but `,` and `.`.
            let digits_and_signs = _mm_andnot_si128(
                _mm_or_si128(eq(b','), eq(b'.')),
                _mm_and_si128(
                    _mm_cmpgt_epi8(x, _mm_set1_epi8(b'+' as i8 - 1)),
                    _mm_cmplt_epi8(x, _mm_set1_epi8(b'9' as i8 + 1)),
                ),
            );
            let class = _mm_or_si128(_mm_or_si128(letters, digits_and_signs), eq(b'_'));
            let starts = _mm_or_si128(_mm_or_si128(eq(b'%'), eq(b'\\')), eq(b'&'));
            (
                _mm_movemask_epi8(class) as u32 as u64,
                _mm_movemask_epi8(starts) as u32 as u64,
            )
        };
        mask |= bits << (16 * j);
        markers |= starts << (16 * j);
    }
    (mask, markers)
}

/// Which of 64 bytes may be in the base64 alphabet: bit i for byte i, 8 bytes at a time.
#[cfg(not(target_arch = "x86_64"))]
fn alphabet_mask(chunk: &[u8; 64]) -> u64 {
    let mut mask = 0;
    for (j, word) in chunk.chunks_exact(8).enumerate() {
        let x = u64::from_le_bytes(word.try_into().expect("8 bytes"));
        mask |= alphabet8(x) << (8 * j);
    }
    mask
}

/// [`alphabet_mask`] and which of the 64 bytes start an escape (`%`, `\\`, `&`).
#[cfg(not(target_arch = "x86_64"))]
fn masks(chunk: &[u8; 64]) -> (u64, u64) {
    let markers = chunk
        .iter()
        .enumerate()
        .filter(|(_, b)| matches!(b, b'%' | b'\\' | b'&'))
        .fold(0u64, |m, (i, _)| m | 1 << i);
    (alphabet_mask(chunk), markers)
}

/// A run of the base64 alphabet as hex or base64, if it decodes to text.
fn decode_run(run: &[u8], max_bytes: usize) -> Option<(Encoding, Vec<u8>)> {
    let run = &run[..run.len().min(MAX_RUN)];
    let (classes, common) = run_classes(run);
    if !may_decode((classes, common), run.len()) {
        return None;
    }
    if common & HEX != 0 {
        let even = &run[..run.len() / 2 * 2];
        fn pairs(hex: &[u8], max: usize) -> impl Iterator<Item = u8> + '_ {
            hex.chunks_exact(2)
                .take(max)
                .map(|p| (hex_value(p[0]) << 4) | hex_value(p[1]))
        }
        // Hashes and ids (most hex runs) fail on their first bytes, decoded on the stack.
        let mut head = [0u8; PROBE / 2];
        let mut len = 0;
        for (slot, b) in head
            .iter_mut()
            .zip(pairs(&even[..even.len().min(PROBE)], max_bytes))
        {
            *slot = b;
            len += 1;
        }
        if !is_text(&head[..len]) {
            return None;
        }
        let decoded: Vec<u8> = pairs(even, max_bytes).collect();
        return is_text(&decoded).then_some((Encoding::Hex, decoded));
    }
    let engine = if classes & URL != 0 {
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
    } else {
        &base64::engine::general_purpose::STANDARD_NO_PAD
    };
    // Judge the first characters before decoding the whole run: most runs (identifiers, paths,
    // hashes) are rejected here.
    // A whole number of quads, decoded on the stack: no allocation for a run rejected here.
    let probe = &run[..run.len().min(PROBE) / 4 * 4];
    let mut head = [0u8; PROBE / 4 * 3];
    let len = engine.decode_slice(probe, &mut head).ok()?;
    let head = &head[..len];
    if !is_text(head) || is_image(head) {
        return None;
    }
    let whole = &run[..run.len().min(max_bytes.saturating_mul(4) / 3)];
    let decoded = lenient_decode(engine, whole)?;
    is_text(&decoded).then_some((Encoding::Base64, decoded))
}

/// Whether a run of `len` characters whose classes are `classes` ([`run_classes`]) may decode
/// to text, as [`decode_run`] judges it before decoding: hex long enough, or base64 that mixes
/// cases (as text encoded in base64 does) and uses one alphabet only.
#[inline]
fn may_decode((classes, common): (u8, u8), len: usize) -> bool {
    if common & HEX != 0 {
        return len >= MIN_HEX;
    }
    classes & UPPER != 0 && classes & LOWER != 0 && (classes & STD == 0 || classes & URL == 0)
}

/// The classes some byte of `run` has, and those every byte has ([`CLASS`]), of those
/// [`decode_run`] asks about (hex digit for every byte; upper and lower case, `+/` and `-_` for
/// some byte), in one pass.
#[cfg(not(target_arch = "x86_64"))]
fn run_classes(run: &[u8]) -> (u8, u8) {
    let (some, every) = run_classes_by_table(run);
    (some & (UPPER | LOWER | STD | URL), every & HEX)
}

/// [`run_classes`] a byte at a time.
fn run_classes_by_table(run: &[u8]) -> (u8, u8) {
    run.iter().fold((0u8, u8::MAX), |(some, every), &b| {
        let class = CLASS[b as usize];
        (some | class, every & class)
    })
}

/// [`run_classes`] on x86-64: 32 bytes at a time with AVX2 where the processor has it (nearly
/// all do), 16 with SSE2 otherwise. Most runs (identifiers, paths and hashes) are rejected by
/// these classes alone.
#[cfg(target_arch = "x86_64")]
fn run_classes(run: &[u8]) -> (u8, u8) {
    if run.len() >= 16 && std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2, checked just above.
        unsafe { run_classes_avx2(run) }
    } else {
        run_classes_sse2(run)
    }
}

/// [`run_classes`] 32 bytes at a time, each byte classed by two nibble look-ups
/// ([`RUN_LO`], [`HEX_LO`]): about a tenth of the instructions of [`run_classes_sse2`]. Bytes
/// are read again where the length is not a multiple of 32 (which changes neither answer); a
/// run of at least 16 bytes (a shorter one is left to the table).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn run_classes_avx2(run: &[u8]) -> (u8, u8) {
    use std::arch::x86_64::{
        __m128i, __m256i, _mm_loadu_si128, _mm256_and_si256, _mm256_cmpeq_epi8, _mm256_loadu_si256,
        _mm256_or_si256, _mm256_set_m128i, _mm256_set1_epi8, _mm256_testz_si256,
    };
    let zero = _mm256_set1_epi8(0);
    let (mut some, mut not_hex) = (zero, zero);
    let mut at = 0;
    loop {
        let chunk = if run.len() >= 32 {
            let start = at.min(run.len() - 32);
            // SAFETY: `start + 32 <= run.len()`: 32 readable bytes, loaded without any
            // alignment requirement.
            unsafe { _mm256_loadu_si256(run.as_ptr().add(start).cast::<__m256i>()) }
        } else {
            // The first 16 bytes and the last 16 (16 to 31 bytes: the two overlap).
            // SAFETY: `16 <= run.len()`: 16 readable bytes at 0 and at `run.len() - 16`.
            unsafe {
                _mm256_set_m128i(
                    _mm_loadu_si128(run.as_ptr().add(run.len() - 16).cast::<__m128i>()),
                    _mm_loadu_si128(run.as_ptr().cast::<__m128i>()),
                )
            }
        };
        let class = nibble_classes_of(chunk, &RUN_LO, &RUN_HI);
        let hex_letter = nibble_classes_of(chunk, &HEX_LO, &HEX_HI);
        some = _mm256_or_si256(some, class);
        let digit = _mm256_and_si256(class, _mm256_set1_epi8(RUN_DIGIT as i8));
        let hex = _mm256_or_si256(digit, hex_letter);
        not_hex = _mm256_or_si256(not_hex, _mm256_cmpeq_epi8(hex, zero));
        at += 32;
        if at >= run.len() {
            break;
        }
    }
    let has = |v: __m256i, bits: u8| _mm256_testz_si256(v, _mm256_set1_epi8(bits as i8)) == 0;
    let flag = |set: bool, class: u8| if set { class } else { 0 };
    let classes = flag(has(some, RUN_UPPER), UPPER)
        | flag(has(some, RUN_LOWER), LOWER)
        | flag(has(some, RUN_STD), STD)
        | flag(has(some, RUN_URL), URL);
    (classes, flag(!has(not_hex, 0xff), HEX))
}

/// The nibble tables of [`run_classes_avx2`] (see [`NIBBLE_LO`] for how they work), one bit a
/// class of the run: bit 0 `A-O` (high nibble 4), bit 1 `P-Z` (5), bit 2 `a-o` (6), bit 3
/// `p-z` (7), bit 4 `+/` (2), bit 5 `-` (2), bit 6 `_` (5), bit 7 digits (3).
#[cfg(target_arch = "x86_64")]
const RUN_LO: [u8; 32] = {
    let mut t = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        let l = i % 16;
        let mut bits = 0;
        if l >= 1 {
            bits |= 1 | 4;
        }
        if l <= 0xa {
            bits |= 2 | 8;
        }
        if l == 0xb || l == 0xf {
            bits |= 16;
        }
        if l == 0xd {
            bits |= 32;
        }
        if l == 0xf {
            bits |= 64;
        }
        if l <= 9 {
            bits |= 128;
        }
        t[i] = bits;
        i += 1;
    }
    t
};

/// See [`RUN_LO`].
#[cfg(target_arch = "x86_64")]
const RUN_HI: [u8; 32] = {
    let mut t = [0u8; 32];
    let mut lane = 0;
    while lane < 32 {
        t[lane + 2] = 16 | 32;
        t[lane + 3] = 128;
        t[lane + 4] = 1;
        t[lane + 5] = 2 | 64;
        t[lane + 6] = 4;
        t[lane + 7] = 8;
        lane += 16;
    }
    t
};

#[cfg(target_arch = "x86_64")]
const RUN_UPPER: u8 = 1 | 2;
#[cfg(target_arch = "x86_64")]
const RUN_LOWER: u8 = 4 | 8;
#[cfg(target_arch = "x86_64")]
const RUN_STD: u8 = 16;
#[cfg(target_arch = "x86_64")]
const RUN_URL: u8 = 32 | 64;
#[cfg(target_arch = "x86_64")]
const RUN_DIGIT: u8 = 128;

/// The nibble tables of the hex letters `A-F` and `a-f` (low nibble 1 to 6, high nibble 4 or
/// 6), for [`run_classes_avx2`].
#[cfg(target_arch = "x86_64")]
const HEX_LO: [u8; 32] = {
    let mut t = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        let l = i % 16;
        if l >= 1 && l <= 6 {
            t[i] = 1;
        }
        i += 1;
    }
    t
};

/// See [`HEX_LO`].
#[cfg(target_arch = "x86_64")]
const HEX_HI: [u8; 32] = {
    let mut t = [0u8; 32];
    t[4] = 1;
    t[6] = 1;
    t[20] = 1;
    t[22] = 1;
    t
};

/// [`run_classes`] 16 bytes at a time with SSE2 (which every x86-64 has), the last 16 bytes of
/// the run read again where its length is not a multiple of 16: about three instructions a byte
/// less than the table.
#[cfg(target_arch = "x86_64")]
fn run_classes_sse2(run: &[u8]) -> (u8, u8) {
    use std::arch::x86_64::{
        __m128i, _mm_and_si128, _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_cmplt_epi8, _mm_loadu_si128,
        _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8, _mm_setzero_si128,
    };
    if run.len() < 16 {
        let (some, every) = run_classes_by_table(run);
        return (some & (UPPER | LOWER | STD | URL), every & HEX);
    }
    // SAFETY: SSE2 is part of every x86-64 target (the intrinsics need no runtime check); each
    // load reads the 16 bytes at `start`, and `start + 16 <= run.len()`.
    unsafe {
        // Signed comparisons: bytes of 0x80 and above are negative, in no range.
        let range = |x: __m128i, lo: u8, hi: u8| {
            _mm_and_si128(
                _mm_cmpgt_epi8(x, _mm_set1_epi8(lo as i8 - 1)),
                _mm_cmplt_epi8(x, _mm_set1_epi8(hi as i8 + 1)),
            )
        };
        let eq = |x: __m128i, c: u8| _mm_cmpeq_epi8(x, _mm_set1_epi8(c as i8));
        let (mut upper, mut lower, mut std, mut url) = (
            _mm_setzero_si128(),
            _mm_setzero_si128(),
            _mm_setzero_si128(),
            _mm_setzero_si128(),
        );
        let mut hex = _mm_cmpeq_epi8(upper, upper);
        let mut at = 0;
        loop {
            let start = at.min(run.len() - 16);
            let x = _mm_loadu_si128(run.as_ptr().add(start).cast::<__m128i>());
            upper = _mm_or_si128(upper, range(x, b'A', b'Z'));
            lower = _mm_or_si128(lower, range(x, b'a', b'z'));
            std = _mm_or_si128(std, _mm_or_si128(eq(x, b'+'), eq(x, b'/')));
            url = _mm_or_si128(url, _mm_or_si128(eq(x, b'-'), eq(x, b'_')));
            let letter = range(_mm_or_si128(x, _mm_set1_epi8(0x20)), b'a', b'f');
            hex = _mm_and_si128(hex, _mm_or_si128(range(x, b'0', b'9'), letter));
            if start + 16 >= run.len() {
                break;
            }
            at += 16;
        }
        let any = |v: __m128i| _mm_movemask_epi8(v) != 0;
        let flag = |set: bool, class: u8| if set { class } else { 0 };
        let some = flag(any(upper), UPPER)
            | flag(any(lower), LOWER)
            | flag(any(std), STD)
            | flag(any(url), URL);
        (some, flag(_mm_movemask_epi8(hex) == 0xffff, HEX))
    }
}

/// A rule's secret written in standard base64 (padded or not), decoded
/// ([`crate::rules::SecretEncoding::Base64`]): `None` unless it decodes whole to text, non-empty
/// UTF-8 with no control character (a password someone can type). The decoded value is at most
/// three quarters the size of `value`.
pub fn base64_text(value: &[u8]) -> Option<Vec<u8>> {
    use base64::engine::{GeneralPurpose, general_purpose};
    const STANDARD: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        general_purpose::PAD_INDIFFERENT,
    );
    let decoded = STANDARD.decode(value).ok()?;
    let text = std::str::from_utf8(&decoded).ok()?;
    (!text.is_empty() && !text.chars().any(char::is_control)).then_some(decoded)
}

/// Decodes base64 without padding, dropping a last character that cannot end a run.
fn lenient_decode(engine: &base64::engine::GeneralPurpose, run: &[u8]) -> Option<Vec<u8>> {
    let usable = if run.len() % 4 == 1 {
        &run[..run.len() - 1]
    } else {
        run
    };
    engine.decode(usable).ok()
}

fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    }
}

/// Whether decoded bytes read as text: nearly all printable ASCII, whitespace or UTF-8.
fn is_text(bytes: &[u8]) -> bool {
    if bytes.len() < 8 {
        return false;
    }
    // ASCII control characters (but tab and line breaks) are never printable: too many, and
    // the bytes are not text (random bytes, most runs that are not base64 of text, have one in
    // eight; judged on their first bytes, where the one too many is); none else, and ASCII,
    // they are. Only the rest needs the UTF-8 count.
    let allowed = bytes.len() * (100 - MIN_PRINTABLE_PERCENT) / 100;
    let mut controls = 0;
    for &b in bytes {
        if (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7f {
            controls += 1;
            if controls > allowed {
                return false;
            }
        }
    }
    if bytes.is_ascii() {
        return true;
    }
    // The bytes that are not printable (broken UTF-8, control characters), counted a chunk at
    // a time: random bytes (most runs that get here) are judged on their first chunks.
    let most = bytes.len() * (100 - MIN_PRINTABLE_PERCENT);
    let mut unprintable = 0;
    for chunk in bytes.utf8_chunks() {
        unprintable += chunk.invalid().len();
        unprintable += chunk
            .valid()
            .chars()
            .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
            .map(char::len_utf8)
            .sum::<usize>();
        if unprintable * 100 > most {
            return false;
        }
    }
    true
}

/// Runs that hold escapes starting at the positions `at` (of `%`; `\u`, `\x`; `&#`, `&amp;`):
/// each occurrence that starts a real escape is widened to the surrounding run of non-space,
/// non-quote bytes, and the run is kept if it decodes to other text (not to control characters
/// or broken UTF-8, which is what `%02x` in a format string or `\xff` in a byte string make).
fn escaped_runs(
    text: &[u8],
    at: Vec<usize>,
    encoding: Encoding,
    budget: &mut Budget,
    out: &mut Vec<Candidate>,
) {
    let mut from = 0;
    for p in at {
        if p < from || !starts_escape(&text[p..], encoding) {
            continue;
        }
        let bound =
            |b: u8| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'`' | b'<' | b'>');
        let mut start = p;
        while start > from && p - start < MAX_RUN && !bound(text[start - 1]) {
            start -= 1;
        }
        let mut end = p + 1;
        while end < text.len() && end - start < MAX_RUN {
            // An escaped quote belongs to the run (`\"` inside a JSON string).
            if bound(text[end]) && !(encoding == Encoding::Escapes && text[end - 1] == b'\\') {
                break;
            }
            end += 1;
        }
        from = end;
        if budget.runs == 0 || budget.bytes < end - start {
            return;
        }
        let run = &text[start..end];
        let decoded = match encoding {
            Encoding::Percent => percent_encoding::percent_decode(run).collect(),
            Encoding::Escapes => unescape(run),
            _ => unentity(run),
        };
        if decoded != run && is_plain_text(&decoded) {
            budget.runs -= 1;
            budget.bytes -= decoded.len().min(budget.bytes);
            out.push(Candidate {
                span: start..end,
                encoding,
                decoded,
            });
        }
    }
}

/// Valid UTF-8 with no control character but tab and line breaks.
fn is_plain_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|s| {
        !s.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    })
}

/// Whether `at` (which starts with the marker) begins an escape of `encoding`.
#[inline]
fn starts_escape(at: &[u8], encoding: Encoding) -> bool {
    let hex = |r: Range<usize>| {
        at.get(r)
            .is_some_and(|s| s.iter().all(u8::is_ascii_hexdigit))
    };
    match encoding {
        Encoding::Percent => hex(1..3),
        Encoding::Escapes => match at.get(1) {
            Some(b'u') => hex(2..6),
            Some(b'x') => hex(2..4),
            _ => false,
        },
        _ => at.starts_with(b"&#") || at.starts_with(b"&amp;"),
    }
}

/// JSON and JavaScript string escapes decoded (`\u0073`, `\x73`, `\n`, `\"`, ...); anything
/// else is kept as it is.
fn unescape(run: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(run.len());
    let mut i = 0;
    while i < run.len() {
        if run[i] != b'\\' || i + 1 >= run.len() {
            out.push(run[i]);
            i += 1;
            continue;
        }
        let hex_at = |r: Range<usize>| run.get(r).and_then(hex_number);
        let (ch, used) = match run[i + 1] {
            b'u' => match hex_at(i + 2..i + 6).and_then(char::from_u32) {
                Some(c) => (Some(c), 6),
                None => (None, 1),
            },
            b'x' => match hex_at(i + 2..i + 4).and_then(char::from_u32) {
                Some(c) => (Some(c), 4),
                None => (None, 1),
            },
            b'n' => (Some('\n'), 2),
            b't' => (Some('\t'), 2),
            b'r' => (Some('\r'), 2),
            c @ (b'"' | b'\'' | b'\\' | b'/') => (Some(c as char), 2),
            _ => (None, 1),
        };
        match ch {
            Some(c) => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            None => out.push(b'\\'),
        }
        i += used;
    }
    out
}

/// The number at most 8 hex digits `digits` write, read as `u32::from_str_radix(_, 16)` reads
/// them (a `+` before them too), without the look at UTF-8 it asks first: what [`unescape`]
/// reads after `\u` (4 bytes) and `\x` (2), most of its time before.
fn hex_number(digits: &[u8]) -> Option<u32> {
    let digits = match digits {
        [b'+', rest @ ..] if !rest.is_empty() => rest,
        digits => digits,
    };
    if digits.is_empty() || digits.len() > 8 {
        return None;
    }
    digits.iter().try_fold(0u32, |value, &b| {
        let digit = char::from(b).to_digit(16)?;
        Some(value << 4 | digit)
    })
}

/// HTML and XML character references decoded (`&#115;`, `&#x73;`, `&amp;`, `&lt;`, `&gt;`,
/// `&quot;`, `&apos;`); anything else is kept as it is.
fn unentity(run: &[u8]) -> Vec<u8> {
    const NAMED: &[(&[u8], u8)] = &[
        (b"&amp;", b'&'),
        (b"&lt;", b'<'),
        (b"&gt;", b'>'),
        (b"&quot;", b'"'),
        (b"&apos;", b'\''),
    ];
    let mut out = Vec::with_capacity(run.len());
    let mut i = 0;
    'outer: while i < run.len() {
        if run[i] == b'&' {
            let rest = &run[i..];
            for (name, c) in NAMED {
                if rest.starts_with(name) {
                    out.push(*c);
                    i += name.len();
                    continue 'outer;
                }
            }
            if let Some(semi) = rest.iter().take(10).position(|&b| b == b';')
                && rest.get(1) == Some(&b'#')
            {
                let digits = &rest[2..semi];
                let value = match digits.first() {
                    Some(b'x' | b'X') => std::str::from_utf8(&digits[1..])
                        .ok()
                        .and_then(|s| u32::from_str_radix(s, 16).ok()),
                    _ => std::str::from_utf8(digits)
                        .ok()
                        .and_then(|s| s.parse().ok()),
                };
                if let Some(c) = value.and_then(char::from_u32) {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    i += semi + 1;
                    continue;
                }
            }
        }
        out.push(run[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

    fn decoded(text: &str) -> Vec<(Encoding, String)> {
        candidates(text.as_bytes(), &mut Budget::for_buffer(text.len()))
            .into_iter()
            .map(|c| {
                assert!(c.span.end <= text.len());
                (c.encoding, String::from_utf8_lossy(&c.decoded).into_owned())
            })
            .collect()
    }

    const TOKEN: &str = "X-Auth-Token: sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE";

    #[test]
    fn base64_values_decode_in_both_alphabets_with_or_without_padding() {
        let std = STANDARD.encode(TOKEN);
        let text = format!("data:\n  token: {std}\n");
        assert_eq!(decoded(&text), [(Encoding::Base64, TOKEN.to_string())]);
        let url = URL_SAFE_NO_PAD.encode(format!("{TOKEN}??>>"));
        assert!(url.contains('-') || url.contains('_'), "{url}");
        assert_eq!(decoded(&format!("v={url}"))[0].1, format!("{TOKEN}??>>"));
        // The span covers the padding.
        let c = candidates(text.as_bytes(), &mut Budget::for_buffer(text.len()));
        assert_eq!(&text[c[0].span.clone()], std);
    }

    #[test]
    fn identifiers_hashes_paths_and_images_are_not_text() {
        for s in [
            "fn someVeryLongCamelCaseIdentifierName() {}",
            "commit 3f786850e387550fdab836ed7e6dc881de23001b",
            "src/main/java/com/example/SomethingService.java",
            "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE",
            // A PNG's first bytes.
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
        ] {
            assert_eq!(decoded(s), [], "{s}");
        }
    }

    #[test]
    fn the_word_at_a_time_classification_is_a_superset_of_the_table() {
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut word = [b'!'; 8];
                word[at] = b;
                let bits = alphabet8(u64::from_le_bytes(word));
                assert_eq!(
                    bits & !(1 << at),
                    0,
                    "byte {b:#x} at {at}: only its own bit"
                );
                if CLASS[b as usize] & B64 != 0 {
                    assert_eq!(bits, 1 << at, "byte {b:#x} at {at}");
                }
                assert_eq!(bits != 0, CLASS[b as usize] & MAYBE != 0, "byte {b:#x}");
                let mut block = [b' '; 64];
                block[at * 8] = b;
                let expected = u64::from(CLASS[b as usize] & REGION != 0) << (at * 8);
                assert_eq!(alphabet_mask(&block), expected, "{b:#x}");
                #[cfg(target_arch = "x86_64")]
                assert_eq!(masks_sse2(&block).0, expected, "{b:#x}");
                let marker = u64::from(matches!(b, b'%' | b'\\' | b'&')) << (at * 8);
                assert_eq!(masks(&block).1, marker, "{b:#x}");
                #[cfg(target_arch = "x86_64")]
                assert_eq!(masks_sse2(&block).1, marker, "{b:#x}");
                if b >= 0x80 || b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b':' | b'=') {
                    assert_eq!(bits, 0, "byte {b:#x} at {at}");
                }
            }
        }
        for pattern in 0..=255u64 {
            let word: Vec<u8> = (0..8)
                .map(|i| if pattern >> i & 1 == 1 { b'Q' } else { b' ' })
                .collect();
            let x = u64::from_le_bytes(word.try_into().unwrap());
            assert_eq!(alphabet8(x), pattern, "{pattern:#010b}");
        }
        // Runs across 64-byte blocks and in the tail are found, and only long enough ones.
        for offset in [0, 1, 40, 63, 64, 100, 127, 130] {
            let token = STANDARD.encode(TOKEN);
            let text = format!("{}{token} {}", " ".repeat(offset), "x ".repeat(20));
            let found = decoded(&text);
            assert_eq!(
                found,
                [(Encoding::Base64, TOKEN.to_string())],
                "offset {offset}"
            );
        }
        let short = "a".repeat(MIN_BASE64 - 1);
        assert!(decoded(&format!("{short} {short}")).is_empty());
    }

    /// The search as plainly as it can be written: every maximal run of the alphabet, left to
    /// right (after a wrapped body, from where it ends), then every byte that starts an escape.
    fn naive(text: &[u8], budget: &mut Budget) -> Vec<Candidate> {
        let alphabet = |b: u8| CLASS[b as usize] & B64 != 0;
        let mut out = Vec::new();
        let mut i = 0;
        let mut spent = false;
        while i < text.len() {
            if !alphabet(text[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < text.len() && alphabet(text[i]) {
                i += 1;
            }
            if i - start < MIN_BASE64 {
                continue;
            }
            match take_run(text, start..i, budget, &mut out) {
                Taken::Run => {}
                Taken::Body(end) => i = end,
                Taken::Spent => {
                    spent = true;
                    break;
                }
            }
        }
        if !spent {
            for (marker, encoding) in [
                (b'%', Encoding::Percent),
                (b'\\', Encoding::Escapes),
                (b'&', Encoding::Html),
            ] {
                let at = (0..text.len())
                    .filter(|&p| text[p] == marker && starts_escape(&text[p..], encoding))
                    .collect();
                escaped_runs(text, at, encoding, budget, &mut out);
            }
        }
        out.sort_by_key(|c| (c.span.start, c.span.end));
        out
    }

    use crate::test_rng::Rng;

    /// Text made of the pieces the search tells apart, at random: runs of the alphabet of about
    /// [`MIN_BASE64`] bytes (and long ones), base64 and hex of text, wrapped bodies, escapes,
    /// separators, bytes above 0x7f, lines.
    fn random_text(rng: &mut Rng) -> Vec<u8> {
        const ALPHABET: &[u8] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_";
        const SEPARATORS: &[u8] = b" \n\t.,:;=\"'()[]{}<>!?*#@$^|~`\r";
        let len = rng.below(1000);
        let mut text = Vec::new();
        while text.len() < len {
            match rng.below(12) {
                0..=2 => {
                    let n = [1, 8, 16, 22, 23, 24, 25, 31, 32, 40, 63, 64, 65, 100][rng.below(14)];
                    text.extend((0..n).map(|_| ALPHABET[rng.below(ALPHABET.len())]));
                }
                3 => {
                    let plain: Vec<u8> = (0..rng.below(60) + 10)
                        .map(|_| b' ' + rng.below(95) as u8)
                        .collect();
                    text.extend(STANDARD.encode(&plain).bytes());
                }
                4 => {
                    let plain: Vec<u8> = (0..rng.below(30) + 12)
                        .map(|_| b' ' + rng.below(95) as u8)
                        .collect();
                    text.extend(plain.iter().flat_map(|b| format!("{b:02x}").into_bytes()));
                }
                5 => {
                    let plain: Vec<u8> = (0..rng.below(200) + 60)
                        .map(|_| b' ' + rng.below(95) as u8)
                        .collect();
                    // Lines as long as a run that fits in a block, too.
                    let width = [32, 48, 64, 76][rng.below(4)];
                    let encoded = STANDARD.encode(&plain);
                    for line in encoded.as_bytes().chunks(width) {
                        text.extend_from_slice(line);
                        text.push(b'\n');
                    }
                }
                6 => {
                    let escapes: [&[u8]; 8] = [
                        b"%41", b"%5F", b"%zz", b"\\u0073", b"\\x41", b"\\n", b"&#115;", b"&amp;",
                    ];
                    text.extend_from_slice(escapes[rng.below(escapes.len())]);
                }
                7 => text.extend(b"& % \\"),
                8 => text.push(0x80 + rng.below(128) as u8),
                9 => text.extend(b"==\n"),
                _ => {
                    let n = rng.below(4) + 1;
                    text.extend((0..n).map(|_| SEPARATORS[rng.below(SEPARATORS.len())]));
                }
            }
        }
        text
    }

    #[test]
    fn the_search_finds_what_a_byte_by_byte_search_finds() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        for round in 0..4000 {
            let mut text = random_text(&mut rng);
            // Now and then as a multiple of 64 bytes, or one byte off it.
            if round % 5 == 0 && text.len() > 64 {
                let cut = text.len() / 64 * 64 - rng.below(2);
                text.truncate(cut);
            }
            let budget = if round % 7 == 0 {
                Budget {
                    runs: rng.below(4),
                    bytes: rng.below(200),
                }
            } else {
                Budget::for_buffer(text.len())
            };
            let expected = naive(&text, &mut budget.clone());
            let shown = String::from_utf8_lossy(&text);
            assert_eq!(
                candidates(&text, &mut budget.clone()),
                expected,
                "round {round}: {shown:?}"
            );
            #[cfg(target_arch = "x86_64")]
            {
                let sse2 = |t: &[u8], b: &mut Budget, out: &mut Vec<Candidate>| {
                    search(
                        t,
                        b,
                        out,
                        |t, pos, tail, resumed, markers| {
                            skip_by(t, pos, tail, resumed, markers, masks_sse2)
                        },
                        masks_sse2,
                        run_classes_sse2,
                    )
                };
                assert_eq!(
                    candidates_by(&text, &mut budget.clone(), sse2),
                    expected,
                    "SSE2, round {round}: {shown:?}"
                );
            }
        }
    }

    /// What [`escape_starts_avx2`] keeps of an escape start: the byte after it is one
    /// [`Markers::hit`] asks for, or one of the few more its tables let through.
    #[cfg(target_arch = "x86_64")]
    fn may_start_escape(marker: u8, next: u8) -> bool {
        match marker {
            b'%' => next.is_ascii_digit() || matches!(next, 0x40..=0x49 | 0x60..=0x69),
            b'\\' => matches!(next, b'u' | b'x'),
            b'&' => matches!(next, b'!' | b'#' | b'a' | b'c'),
            _ => false,
        }
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn escape_starts_are_told_by_the_byte_after_them() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return;
        }
        for marker in [b'%', b'\\', b'&', b'a', b'#', b' '] {
            for next in 0..=255u8 {
                for at in [0, 1, 31, 32, 33, 62, 63] {
                    let mut text = [b' '; 65];
                    text[at] = marker;
                    text[at + 1] = next;
                    let block: &[u8; 64] = text[..64].try_into().unwrap();
                    let following: &[u8; 64] = text[1..].try_into().unwrap();
                    // SAFETY: the processor has AVX2, checked above.
                    let bits = unsafe {
                        let (a, b) = halves(block);
                        escape_starts_avx2(classes_avx2(a), classes_avx2(b), following)
                    };
                    let expected = u64::from(may_start_escape(marker, next)) << at;
                    assert_eq!(bits, expected, "{marker:#x} then {next:#x} at {at}");
                    // Every escape the hit asks for is kept; `&self` and `\\n` are not.
                    if at < 63 {
                        let escape = match marker {
                            b'%' => Some(Encoding::Percent),
                            b'\\' => Some(Encoding::Escapes),
                            b'&' => Some(Encoding::Html),
                            _ => None,
                        };
                        let full = [marker, next, b'0', b'0', b'4', b'1', b';'];
                        if let Some(encoding) = escape
                            && starts_escape(&full, encoding)
                        {
                            assert_ne!(bits & 1 << at, 0, "{marker:#x} then {next:#x}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn text_is_at_least_95_percent_printable_ascii_or_utf8() {
        let with = |printable: &[u8], n: usize, bad: &[u8], m: usize| {
            let mut bytes = printable.repeat(n);
            bytes.extend(bad.repeat(m));
            bytes
        };
        // 100 bytes, 5 of them broken UTF-8 or a control character in UTF-8 text: text.
        assert!(is_text(&with(b"a", 95, b"\xff", 5)));
        // (47 two-byte letters, a two-byte control character, three broken bytes, one more.)
        assert!(is_text(&with(
            "\u{e9}".as_bytes(),
            47,
            b"\xc2\x85\xff\xff\xffa",
            1
        )));
        // 6 of them: not, wherever they are.
        assert!(!is_text(&with(b"a", 94, b"\xff", 6)));
        let mut front = with(b"\xff", 6, b"a", 94);
        assert!(!is_text(&front));
        front.rotate_left(50);
        assert!(!is_text(&front));
        assert!(!is_text(&with(
            "\u{e9}".as_bytes(),
            47,
            b"\xc2\x85\xff\xff\xff\xff",
            1
        )));
        assert!(is_text("caf\u{e9} cr\u{e8}me br\u{fb}l\u{e9}e".as_bytes()));
        // ASCII control characters: 5 in 100 bytes, 1 in 24 (a base64 probe), none in 16 (a hex
        // probe), wherever they are; tab and line breaks are not.
        for (len, allowed) in [(100, 5), (24, 1), (16, 0), (8, 0)] {
            for control in [0u8, 0x1b, 0x7f] {
                for (at, step) in [(0, 1), (len - 1 - allowed, 1), (3, 2)] {
                    let mut bytes = vec![b'a'; len];
                    for k in 0..=allowed {
                        bytes[(at + k * step) % len] = control;
                    }
                    assert!(!is_text(&bytes), "{} of {len}", allowed + 1);
                    if allowed > 0 {
                        bytes[(at + allowed * step) % len] = b'a';
                        assert!(is_text(&bytes), "{allowed} of {len}");
                    }
                }
            }
            assert!(is_text(&b"\t\n\r".repeat(len)));
        }
    }

    #[test]
    fn the_classes_of_a_run_are_those_of_the_table() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let pick: &[u8] = b"09afAFgzGZ+/-_=. \x80\xff";
        for round in 0..20_000 {
            let len = rng.below(80);
            let run: Vec<u8> = (0..len)
                .map(|_| match rng.below(4) {
                    0 => rng.below(256) as u8,
                    1 => pick[rng.below(pick.len())],
                    _ => b"0123456789abcdefABCDEF"[rng.below(22)],
                })
                .collect();
            let (some, every) = run_classes_by_table(&run);
            let asked = UPPER | LOWER | STD | URL;
            let expected = (some & asked, every & HEX);
            assert_eq!(run_classes(&run), expected, "round {round}: {run:?}");
            #[cfg(target_arch = "x86_64")]
            {
                assert_eq!(
                    run_classes_sse2(&run),
                    expected,
                    "SSE2, round {round}: {run:?}"
                );
                if run.len() >= 16 && std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the processor has AVX2, checked just above.
                    let avx2 = unsafe { run_classes_avx2(&run) };
                    assert_eq!(avx2, expected, "AVX2, round {round}: {run:?}");
                }
            }
        }
    }

    #[test]
    fn runs_of_about_the_shortest_length_are_found_at_every_offset() {
        // A run of base64 of text, 23 to 25 bytes long, at every offset around two blocks, the
        // text before and after it in the class or not, and the buffer ending right after it.
        let value = STANDARD.encode("a plain sentence, long enough to decode");
        for len in [MIN_BASE64 - 1, MIN_BASE64, MIN_BASE64 + 1, 32, 40] {
            let run = &value.as_bytes()[..len];
            for offset in 0..140 {
                let words =
                    b" some words after it, more than a block of them, in short words; and more";
                for (before, after) in [(b' ', &words[..]), (b'.', b""), (b'\n', b"\n")] {
                    // Short words before it: no run of their own.
                    let mut text: Vec<u8> = b"word ".iter().copied().cycle().take(offset).collect();
                    if offset > 0 {
                        text[offset - 1] = before;
                    }
                    text.extend_from_slice(run);
                    text.extend_from_slice(after);
                    let expected = naive(&text, &mut Budget::for_buffer(text.len()));
                    assert_eq!(
                        candidates(&text, &mut Budget::for_buffer(text.len())),
                        expected,
                        "{len} at {offset}: {:?}",
                        String::from_utf8_lossy(&text)
                    );
                    assert_eq!(
                        expected.iter().any(|c| c.encoding == Encoding::Base64),
                        len >= MIN_BASE64,
                        "{len} at {offset}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_wrapped_base64_body_is_one_value_at_its_first_line() {
        let env = "VOBIZ_AUTH_ID=MA0123456789\nVOBIZ_AUTH_TOKEN=sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE\nDEBUG=false\n";
        let encoded = STANDARD.encode(env);
        for (width, newline, indent) in [(76, "\n", ""), (64, "\r\n", ""), (76, "\n", "    ")] {
            let lines: Vec<String> = encoded
                .as_bytes()
                .chunks(width)
                .map(|l| format!("{indent}{}", std::str::from_utf8(l).unwrap()))
                .collect();
            assert!(lines.len() >= 2);
            let body = lines.join(newline);
            let text = format!(
                "Content-Transfer-Encoding: base64{newline}{newline}{body}{newline}--b--{newline}"
            );
            let c = candidates(text.as_bytes(), &mut Budget::for_buffer(text.len()));
            assert_eq!(c.len(), 1, "{width} {indent:?}: {c:?}");
            assert_eq!(c[0].decoded, env.as_bytes());
            assert_eq!(c[0].span.start, text.find(&body).unwrap() + indent.len());
            assert_eq!(
                &text[c[0].span.end..][..newline.len() + 3],
                format!("{newline}--b")
            );
        }
        // Lines of different widths are values of their own.
        let a = STANDARD.encode("first value, a sentence of text");
        let b = STANDARD.encode("second value: more text, and longer still");
        assert_eq!(decoded(&format!("{a}\n{b}\n")).len(), 2);
    }

    #[test]
    fn images_are_not_decoded_by_their_context_or_their_magic_bytes() {
        let text = STANDARD.encode("X-Auth-Token: sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE");
        assert_eq!(
            decoded(&format!("<img src=\"data:image/png;base64,{text}\">")),
            []
        );
        assert_eq!(decoded(&format!("\"image/jpeg\": \"{text}\",")), []);
        assert_eq!(
            decoded(&format!("\"image/svg+xml;base64,{text}\"")).len(),
            1
        );
        let gif = STANDARD.encode("GIF89a X-Auth-Token: sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE");
        assert_eq!(decoded(&format!("v = {gif}")), []);
    }

    #[test]
    fn escapes_are_found_wherever_the_blocks_and_runs_fall() {
        // After a run of the alphabet that ends on the escape's first byte, or walks past a
        // 64-byte block, at every offset around the block bounds, and in the last bytes.
        for prefix in [
            "",
            "x ",
            "identifier_of_thirty_two_letters",
            &"a".repeat(70),
        ] {
            for offset in 0..140 {
                let text = format!(
                    "{}{prefix}%5Ftoken%3Dsk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE {}",
                    " ".repeat(offset),
                    "y ".repeat(offset % 7)
                );
                let found = decoded(&text);
                assert!(
                    found.iter().any(|(e, d)| *e == Encoding::Percent
                        && d.ends_with("_token=sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE")),
                    "{prefix:?} at {offset}: {found:?}"
                );
                let text = format!("{}{prefix}&#115;k_live_4eC39HqLyjW", " ".repeat(offset));
                assert_eq!(decoded(&text).len(), 1, "{prefix:?} at {offset}");
            }
        }
    }

    #[test]
    fn long_hex_of_text_decodes() {
        let hex: String = TOKEN.bytes().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            decoded(&format!("x = {hex}")),
            [(Encoding::Hex, TOKEN.to_string())]
        );
    }

    #[test]
    fn hex_numbers_read_as_from_str_radix_reads_them() {
        let mut rng = Rng(0x6a09_e667_f3bc_c908);
        let pick: &[u8] = b"0123456789abcdefABCDEFgG+-_ \x80\xff";
        for round in 0..50_000 {
            let len = rng.below(9);
            let digits: Vec<u8> = (0..len)
                .map(|_| match rng.below(3) {
                    0 => rng.below(256) as u8,
                    _ => pick[rng.below(pick.len())],
                })
                .collect();
            let expected = std::str::from_utf8(&digits)
                .ok()
                .and_then(|s| u32::from_str_radix(s, 16).ok());
            assert_eq!(hex_number(&digits), expected, "round {round}: {digits:?}");
        }
        assert_eq!(hex_number(b"+7f"), Some(0x7f));
        assert_eq!(hex_number(b"ffffffff"), Some(u32::MAX));
        assert_eq!(hex_number(b"+"), None);
        assert_eq!(hex_number(b""), None);
    }

    #[test]
    fn percent_escapes_and_entities_decode_their_run() {
        assert_eq!(
            decoded("GET /cb?token=sk%5Flive%5F4eC39HqLyjWDarjtT1zdp7dcFAKE&x=1 HTTP/1.1"),
            [(
                Encoding::Percent,
                "/cb?token=sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE&x=1".to_string()
            )]
        );
        assert_eq!(
            decoded(r#"var t = "\u0073k_live_4eC39HqLyjWDarjtT1zdp7dcFAKE";"#),
            [(
                Encoding::Escapes,
                "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE".to_string()
            )]
        );
        assert_eq!(
            decoded("<v>&#115;k_live_4eC39&#x48;qLyjWDarjtT1zdp7dcFAKE&amp;x</v>"),
            [(
                Encoding::Html,
                "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE&x".to_string()
            )]
        );
        // Not an escape: nothing to decode.
        assert_eq!(decoded("100% sure, \\d+ and & more"), []);
        // An invalid sequence stays as it is.
        assert_eq!(
            decoded("a%zz%41b"),
            [(Encoding::Percent, "a%zzAb".to_string())]
        );
    }

    #[test]
    fn the_budget_bounds_work_on_hostile_input() {
        // Many runs: at most the budget's count.
        let line = STANDARD.encode("a perfectly ordinary sentence!");
        let text = format!("{line} ").repeat(1000);
        let mut budget = Budget {
            runs: 10,
            bytes: usize::MAX,
        };
        assert_eq!(candidates(text.as_bytes(), &mut budget).len(), 10);
        // One huge run: decoded up to the byte budget.
        let huge = STANDARD.encode("text ".repeat(1 << 20));
        let mut budget = Budget::for_buffer(1000);
        let c = candidates(huge.as_bytes(), &mut budget);
        assert_eq!(c.len(), 1);
        assert!(c[0].decoded.len() <= 1 << 20);
        assert_eq!(budget.bytes, (1 << 20) - c[0].decoded.len());
    }
}
