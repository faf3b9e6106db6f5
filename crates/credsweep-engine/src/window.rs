//! Scanning an input of any size in bounded memory: a reader cut into overlapping windows.
//!
//! A source that reads a file, a stream or a blob hands its reader to [`scan_reader`]. What fits
//! in one window (the common case) is read whole and given to [`scan_buffer`] exactly as before:
//! nothing changes on the hot path. A longer input is scanned window by window, reusing the
//! caller's buffer:
//!
//! ```text
//!  window k    [start .............................................. end)
//!              |<- reach ->|<------------ owned ----------->|<- reach ->|
//!  window k+1                                   [start ....................
//!                                               |<- reach ->|<- owned ...
//! ```
//!
//! Consecutive windows overlap by two reaches (the longest match a rule can make,
//! [`crate::scanner::Scanner::longest_match`], and at least 16 KiB). Each window keeps only
//! the findings whose secret starts in the part it owns, which has at least one reach of context
//! on either side, so a credential across a window edge is found once, whole, by the window that
//! owns its start. Lines and columns are counted on from the lines of the earlier windows. Line
//! hashes and pairing work within a window (a pair further apart than a window is not linked).
//!
//! An archive needs all its bytes: one up to [`archive::Options::max_member_size`] is read whole
//! and opened; a larger one is scanned as plain windows and named in the summary's skips.
//!
//! A directory walk reads file after file: [`scan_input`] reads each into a first block kept from
//! file to file ([`ReadBuffers`]), with no `stat` and nothing zeroed per file, and scans a file
//! that ends within it from there; a longer one goes on through [`scan_reader`].
//!
//! The size cap (`--max-file-size`, none by default) is applied here: bytes past it are not
//! read. Whether the input went on past the cap is in the [`Outcome`]; the caller reports it,
//! since only it knows the input's real size (a file's) or must drain it (standard input).

use std::io::{self, Read};

use crate::archive;
use crate::finding::{Finding, LineLocator, Location};
use crate::scan::{self, MAX_FINDINGS_PER_BUFFER, ScanContext, SkipReason, Summary, scan_buffer};
use crate::scanner::PathFilter;
use crate::scanner::decode::{self, Content};

/// The window when nothing else is asked for: large enough that almost every file is one
/// window, small enough that a thread's buffer stays modest.
pub const DEFAULT_WINDOW_SIZE: usize = 8 << 20;

/// The most of a UTF-16 input (with a byte-order mark) decoded whole; the rest is named as not
/// scanned.
const MAX_WHOLE_UTF16: usize = 256 << 20;

/// The least overlap reach, whatever the rules: context a line-based rule needs before its secret
/// (a long `KEY=` line) and the longest single-line secrets.
const MIN_REACH: usize = 16 << 10;

/// What [`scan_reader`] read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Bytes read and scanned.
    pub bytes: u64,
    /// The input went on past the size cap: it was not read to its end.
    pub capped: bool,
}

/// Scans everything `reader` gives, up to [`ScanContext::max_file_size`] bytes, as found at
/// `location`, appending findings to `out` and counts to `summary`. `buf` is the caller's scratch
/// buffer, reused from input to input (it grows to at most one window plus a byte, or to an
/// archive read whole). A read error ends the scan of this input and is returned; what was
/// scanned before it is kept.
pub fn scan_reader(
    ctx: &ScanContext<'_>,
    reader: &mut dyn Read,
    location: &Location,
    filter: PathFilter<'_>,
    buf: &mut Vec<u8>,
    summary: &mut Summary,
    out: &mut Vec<Finding>,
) -> io::Result<Outcome> {
    let reach = reach(ctx);
    let window = window_size(ctx, reach);
    let cap = ctx.max_file_size;
    buf.clear();
    // std's `Take` reads into the buffer's spare capacity as it is: a reader of our own would
    // have every read zero that capacity first.
    let mut limited = Read::take(reader, cap);
    // One byte past the window tells whether the input is longer than it.
    fill(&mut limited, buf, window + 1)?;
    if buf.len() <= window {
        let capped = limited.limit() == 0 && has_more(limited.get_mut())?;
        scan_buffer(ctx, buf, buf.len() as u64, location, filter, summary, out);
        return Ok(Outcome {
            bytes: buf.len() as u64,
            capped,
        });
    }
    if is_utf16(buf) {
        // UTF-16 is decoded as a whole (a later window has no byte-order mark to be decoded by,
        // and its lines are counted on the decoded text): up to a bound, past which what was not
        // decoded is named as cut.
        let whole = MAX_WHOLE_UTF16.min(usize::try_from(cap).unwrap_or(usize::MAX));
        fill(&mut limited, buf, whole.saturating_add(1))?;
        let capped = limited.limit() == 0 && has_more(limited.get_mut())?;
        if buf.len() > whole {
            buf.truncate(whole);
            summary.skip(
                location.name(),
                SkipReason::TruncatedUtf16 {
                    scanned: whole as u64,
                },
            );
        }
        scan_buffer(ctx, buf, buf.len() as u64, location, filter, summary, out);
        return Ok(Outcome {
            bytes: buf.len() as u64,
            capped,
        });
    }
    if ctx.archives.enabled && ctx.archives.max_depth > 0 && archive::detect(buf).is_some() {
        let whole = usize::try_from(ctx.archives.max_member_size).unwrap_or(usize::MAX);
        fill(&mut limited, buf, whole.saturating_add(1))?;
        if buf.len() <= whole {
            let capped = limited.limit() == 0 && has_more(limited.get_mut())?;
            scan_buffer(ctx, buf, buf.len() as u64, location, filter, summary, out);
            return Ok(Outcome {
                bytes: buf.len() as u64,
                capped,
            });
        }
        summary.skip(
            location.name(),
            SkipReason::ArchiveTooLarge {
                limit: ctx.archives.max_member_size,
            },
        );
    }
    let mut windows = Windows {
        ctx,
        location,
        filter,
        reach,
        window,
        base: 0,
        lines_before: 0,
        columns_before: 0,
        owned_from: 0,
        kept: 0,
        fold: scan::Fold::default(),
        full: false,
        as_bytes: None,
        skipped: false,
        text: false,
        binary: false,
    };
    let mut base: u64 = 0;
    loop {
        // `buf` holds at least the overlap carried from the last window; top it up to a window
        // and a byte.
        fill(&mut limited, buf, window + 1)?;
        let last = buf.len() <= window;
        let end = if last {
            buf.len()
        } else {
            cut_before(buf, window, reach)
        };
        let owned_to = if last { end } else { end - reach };
        windows.scan(&buf[..end], owned_to, summary, out);
        if last || windows.skipped {
            base += buf.len() as u64;
            break;
        }
        let next = start_before(buf, end - 2 * reach, reach);
        windows.advance(&buf[..next], owned_to - next);
        base += next as u64;
        buf.drain(..next);
    }
    let capped = !windows.skipped && limited.limit() == 0 && has_more(limited.get_mut())?;
    windows.count(base, summary);
    Ok(Outcome {
        bytes: base,
        capped,
    })
}

/// How much of an input [`scan_input`] reads before it knows whether the input fits one window:
/// most source files are smaller, and are scanned from this first block as read.
pub const FIRST_READ: usize = 256 << 10;

/// A walker thread's read buffers, reused from input to input by [`scan_input`].
#[derive(Debug, Default)]
pub struct ReadBuffers {
    /// The first block of each input, zeroed once and kept at its full length: safe Rust reads
    /// only into initialized bytes, and zeroing a buffer per input would cost a pass over it for
    /// every small file.
    first: Vec<u8>,
    /// [`scan_reader`]'s buffer, for an input longer than the first block.
    pub rest: Vec<u8>,
}

/// [`scan_reader`] for inputs read one after another (a directory walk's files): the first
/// [`FIRST_READ`] bytes (at most a window) are read into `bufs`' first block with plain `read`
/// calls, no `stat` and no per-input set-up, and an input that ends within them is scanned from
/// there as one buffer. A longer input goes on through [`scan_reader`], its first block first.
/// What is found, counted and returned is what [`scan_reader`] finds, counts and returns.
pub fn scan_input(
    ctx: &ScanContext<'_>,
    reader: &mut dyn Read,
    location: &Location,
    filter: PathFilter<'_>,
    bufs: &mut ReadBuffers,
    summary: &mut Summary,
    out: &mut Vec<Finding>,
) -> io::Result<Outcome> {
    let whole = FIRST_READ.min(window_size(ctx, reach(ctx)));
    if ctx.max_file_size <= whole as u64 {
        // A cap within the first block: [`scan_reader`] applies it.
        return scan_reader(ctx, reader, location, filter, &mut bufs.rest, summary, out);
    }
    // One byte past the block tells whether the input is longer than it.
    if bufs.first.len() != whole + 1 {
        bufs.first = vec![0; whole + 1];
    }
    let got = read_up_to(reader, &mut bufs.first)?;
    if got <= whole {
        // The whole input, within one window and under the cap.
        let data = &bufs.first[..got];
        scan_buffer(ctx, data, got as u64, location, filter, summary, out);
        return Ok(Outcome {
            bytes: got as u64,
            capped: false,
        });
    }
    let mut rest = Read::chain(&bufs.first[..got], reader);
    scan_reader(
        ctx,
        &mut rest,
        location,
        filter,
        &mut bufs.rest,
        summary,
        out,
    )
}

/// Reads into `buf` until it is full or the reader ends; returns how much was read.
fn read_up_to(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// How far either side of a secret a window must see: the longest multi-line rule's reach on
/// both sides of its keyword, and at least [`MIN_REACH`].
fn reach(ctx: &ScanContext<'_>) -> usize {
    ctx.scanner.longest_match().max(MIN_REACH)
}

/// The window for `ctx`: its window size, but at least eight reaches, so that a window owns at
/// least half of what it reads and each window moves on by at least four reaches.
fn window_size(ctx: &ScanContext<'_>, reach: usize) -> usize {
    ctx.window_size.max(8 * reach)
}

/// One input's windowed scan: what the windows before the current one leave to it.
struct Windows<'a, 'c> {
    ctx: &'a ScanContext<'c>,
    location: &'a Location,
    filter: PathFilter<'a>,
    reach: usize,
    window: usize,
    /// Where the current window starts in the input, in bytes.
    base: u64,
    /// Line breaks in the input before the current window.
    lines_before: u32,
    /// Characters of the line the current window starts in, before its start.
    columns_before: u32,
    /// Where, in the current window, the part it owns starts (findings before it are the last
    /// window's).
    owned_from: usize,
    /// Findings kept so far, for the per-input limit, and whether it was reached.
    kept: usize,
    /// The input's findings of rules with a `max_per_file`, folded over all its windows.
    fold: scan::Fold,
    full: bool,
    /// Whether the input's start is text scanned as it is (not binary, no UTF-16 byte-order
    /// mark): then every later window is scanned as text too. `None` before the first window.
    as_bytes: Option<bool>,
    /// The first window was skipped as binary, and so is the input.
    skipped: bool,
    /// Some window was scanned as text, some was judged binary.
    text: bool,
    binary: bool,
}

impl Windows<'_, '_> {
    /// Scans `data`, the current window, and keeps the findings whose secret starts before
    /// `owned_to` (and at or after `owned_from`), placed in the whole input.
    fn scan(
        &mut self,
        data: &[u8],
        owned_to: usize,
        summary: &mut Summary,
        out: &mut Vec<Finding>,
    ) {
        debug_assert!(self.window >= data.len() && 8 * self.reach <= self.window);
        let mut found = Vec::new();
        let mut here = Summary::default();
        let first = self.as_bytes.is_none();
        if first {
            // Judged by its start, as a buffer read whole is: text as it is, or not.
            self.as_bytes = Some(is_plain_text(data));
        }
        if !first && self.as_bytes == Some(true) {
            // A text input stays text: a NUL byte further on does not make the rest binary.
            scan::scan_decoded(
                self.ctx,
                data,
                data,
                None,
                data.len() as u64,
                self.location,
                self.filter,
                false,
                &mut here,
                &mut found,
            );
        } else {
            scan::scan_plain(
                self.ctx,
                data,
                data.len() as u64,
                self.location,
                self.filter,
                false,
                &mut here,
                &mut found,
            );
        }
        self.text |= here.scanned > 0;
        self.binary |= here.binary > 0;
        // Skipped whole by its start (media, or binary with --skip-binary): the rest is not read.
        self.skipped = first && here.scanned == 0 && here.binary > 0;
        (here.scanned, here.bytes, here.binary) = (0, 0, 0);
        summary.merge(here);
        let mut lines = LineLocator::new(data);
        let from = lines.locate(self.owned_from);
        let to = lines.locate(owned_to);
        for mut f in found {
            // A finding in a binary window is placed by its byte offset, not by lines.
            let owned = match &f.offset {
                Some(at) => (self.owned_from as u64..owned_to as u64).contains(&at.start),
                None => (from..to).contains(&(f.line, f.column)),
            };
            if !owned || !self.fold.admit(self.ctx.scanner.rule(f.rule), f.rule, out) {
                continue;
            }
            if self.kept >= MAX_FINDINGS_PER_BUFFER {
                if !self.full {
                    self.full = true;
                    summary.skip(
                        self.location.name(),
                        SkipReason::TooManyFindings {
                            listed: MAX_FINDINGS_PER_BUFFER,
                        },
                    );
                }
                break;
            }
            if let Some(at) = &mut f.offset {
                // Line 1, and columns that are the offsets in the whole input + 1.
                *at = at.start + self.base..at.end + self.base;
                let shift = u32::try_from(self.base).unwrap_or(u32::MAX);
                f.column = f.column.saturating_add(shift);
                f.end_column = f.end_column.saturating_add(shift);
                if let Some(p) = f.pair.as_deref_mut() {
                    p.column = p.column.saturating_add(shift);
                    p.end_column = p.end_column.saturating_add(shift);
                }
            } else {
                self.place(&mut f.line, &mut f.column);
                self.place(&mut f.end_line, &mut f.end_column);
                if let Some(p) = f.pair.as_deref_mut() {
                    self.place(&mut p.line, &mut p.column);
                    self.place(&mut p.end_line, &mut p.end_column);
                }
            }
            self.kept += 1;
            out.push(f);
        }
    }

    /// A line and column in the current window, made one in the whole input.
    fn place(&self, line: &mut u32, column: &mut u32) {
        if *line == 1 {
            *column = column.saturating_add(self.columns_before);
        }
        *line = line.saturating_add(self.lines_before);
    }

    /// Moves on past `dropped`, the bytes before the next window; the next window owns from
    /// `owned_from`.
    fn advance(&mut self, dropped: &[u8], owned_from: usize) {
        self.base += dropped.len() as u64;
        let breaks = memchr::memchr_iter(b'\n', dropped).count();
        self.lines_before = self
            .lines_before
            .saturating_add(u32::try_from(breaks).unwrap_or(u32::MAX));
        let tail = match memchr::memrchr(b'\n', dropped) {
            Some(i) => {
                self.columns_before = 0;
                &dropped[i + 1..]
            }
            None => dropped,
        };
        let chars = tail.iter().filter(|&&b| b & 0xC0 != 0x80).count();
        self.columns_before = self
            .columns_before
            .saturating_add(u32::try_from(chars).unwrap_or(u32::MAX));
        self.owned_from = owned_from;
    }

    /// Counts the input once, as a buffer read whole would be.
    fn count(&self, bytes: u64, summary: &mut Summary) {
        if self.text {
            summary.scanned += 1;
            summary.bytes += bytes;
        } else if self.binary {
            summary.binary += 1;
        }
    }
}

/// Whether `data` (an input's start) is scanned as the bytes it is: not binary, and not UTF-16
/// with a byte-order mark (a later window of which has no mark to be decoded by).
fn is_plain_text(data: &[u8]) -> bool {
    matches!(
        decode::decode(data),
        Content::Text {
            encoding: decode::Encoding::Bytes,
            ..
        }
    )
}

/// Whether `data` starts with a UTF-16 byte-order mark and is decoded from UTF-16.
fn is_utf16(data: &[u8]) -> bool {
    matches!(
        decode::decode(&data[..data.len().min(4)]),
        Content::Text {
            encoding: decode::Encoding::Utf16Le | decode::Encoding::Utf16Be,
            ..
        }
    )
}

/// Where a window of `buf` that may run to `window` ends: after the last line break in its last
/// `reach` bytes, else on a character boundary, so that no line or character is cut where one
/// can be helped.
fn cut_before(buf: &[u8], window: usize, reach: usize) -> usize {
    let end = window.min(buf.len());
    match memchr::memrchr(b'\n', &buf[end - reach..end]) {
        Some(i) => end - reach + i + 1,
        None => char_start(buf, end),
    }
}

/// Where the next window starts, at or before `at`: after a line break in the `reach` bytes
/// before it if there is one, else on a character boundary at or before it.
fn start_before(buf: &[u8], at: usize, reach: usize) -> usize {
    let from = at.saturating_sub(reach);
    match memchr::memrchr(b'\n', &buf[from..at]) {
        Some(i) => from + i + 1,
        None => char_start(buf, at),
    }
}

/// `at`, moved back over at most three UTF-8 continuation bytes to the start of a character.
fn char_start(buf: &[u8], at: usize) -> usize {
    let mut i = at;
    while i > 0 && at - i < 3 && i < buf.len() && buf[i] & 0xC0 == 0x80 {
        i -= 1;
    }
    i
}

/// Reads into `buf` until it holds `want` bytes or the reader ends.
fn fill(reader: &mut dyn Read, buf: &mut Vec<u8>, want: usize) -> io::Result<()> {
    if buf.len() >= want {
        return Ok(());
    }
    let need = want - buf.len();
    Read::take(&mut *reader, need as u64).read_to_end(buf)?;
    Ok(())
}

/// Whether `reader` has another byte (read and dropped): whether an input cut at the cap went on.
fn has_more(reader: &mut dyn Read) -> io::Result<bool> {
    let mut one = [0u8; 1];
    loop {
        match reader.read(&mut one) {
            Ok(n) => return Ok(n > 0),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allow::Allowlist;
    use crate::rules::RuleSet;
    use crate::scanner::Scanner;
    use std::path::{Path, PathBuf};

    fn context<'a>(scanner: &'a Scanner, allow: &'a Allowlist) -> ScanContext<'a> {
        ScanContext {
            scanner,
            fingerprint_key: b"window".to_vec(),
            max_file_size: u64::MAX,
            window_size: 0,
            allowlist: allow,
            inline_allow: true,
            path_base: PathBuf::from("/"),
            max_decode_depth: crate::scan::DEFAULT_MAX_DECODE_DEPTH,
            rule_stats: false,
            archives: archive::Options::default(),
            binary_strings: true,
            line_hashes: true,
        }
    }

    /// (line, column, end line, end column, fingerprint) of each finding, sorted.
    fn places(found: &[Finding]) -> Vec<(u32, u32, u32, u32, String)> {
        let mut out: Vec<_> = found
            .iter()
            .map(|f| {
                let fp = format!("{:?}", f.fingerprint);
                (f.line, f.column, f.end_line, f.end_column, fp)
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn windows_find_what_one_buffer_finds_once_at_the_same_places() {
        let scanner = Scanner::new(RuleSet::builtin().unwrap());
        let allow = Allowlist::new(Path::new("/"));
        let ctx = context(&scanner, &allow);
        let reach = reach(&ctx);
        let window = window_size(&ctx, reach);
        // Tokens every so often, on lines of varied length (some long, no line break for more
        // than a reach), so that some fall in overlaps and on window edges.
        let mut data = Vec::new();
        let mut i = 0usize;
        while data.len() < 3 * window {
            let pad = (i * 7919) % 5000 + if i.is_multiple_of(13) { reach + 100 } else { 0 };
            data.extend(std::iter::repeat_n(b'z', pad));
            data.extend(
                format!(" VOBIZ_AUTH_TOKEN=sk_live_4eC39HqLyjWDarjt{i:04}p7dcFAKE\n").as_bytes(),
            );
            i += 1;
        }
        let location = Location::Path("big.txt".into());
        let (mut whole, mut windowed) = (Vec::new(), Vec::new());
        let mut summary = Summary::default();
        scan_buffer(
            &ctx,
            &data,
            data.len() as u64,
            &location,
            PathFilter::Path("big.txt"),
            &mut summary,
            &mut whole,
        );
        let mut windowed_summary = Summary::default();
        let mut buf = Vec::new();
        let got = scan_reader(
            &ctx,
            &mut data.as_slice(),
            &location,
            PathFilter::Path("big.txt"),
            &mut buf,
            &mut windowed_summary,
            &mut windowed,
        )
        .unwrap();
        assert_eq!(
            got,
            Outcome {
                bytes: data.len() as u64,
                capped: false
            }
        );
        assert_eq!(whole.len(), i, "every token found in the whole buffer");
        assert_eq!(places(&windowed), places(&whole));
        assert_eq!(windowed_summary.scanned, 1);
        assert_eq!(windowed_summary.bytes, data.len() as u64);
        assert!(buf.capacity() <= 2 * window, "one window held at a time");
    }

    #[test]
    fn line_hashes_are_made_only_when_asked() {
        let scanner = Scanner::new(RuleSet::builtin().unwrap());
        let allow = Allowlist::new(Path::new("/"));
        let mut ctx = context(&scanner, &allow);
        let text = b"a\nVOBIZ_AUTH_TOKEN=sk_live_4eC39HqLyjWDarjt0001p7dcFAKE\n".to_vec();
        // The same line among a binary's strings.
        let mut binary = vec![0u8; 64];
        binary.extend_from_slice(&text);
        binary.extend_from_slice(&[0u8; 64]);
        let location = Location::Path("x".into());
        let hashes = |ctx: &ScanContext<'_>, data: &[u8]| {
            let (mut out, mut summary) = (Vec::new(), Summary::default());
            let len = data.len() as u64;
            scan_buffer(
                ctx,
                data,
                len,
                &location,
                PathFilter::Path("x"),
                &mut summary,
                &mut out,
            );
            assert!(!out.is_empty());
            out.into_iter().map(|f| f.line_hash).collect::<Vec<_>>()
        };
        for data in [&text, &binary] {
            assert!(hashes(&ctx, data).iter().all(Option::is_some));
        }
        ctx.line_hashes = false;
        for data in [&text, &binary] {
            assert!(hashes(&ctx, data).iter().all(Option::is_none));
        }
    }

    #[test]
    fn a_rule_with_max_per_file_folds_the_same_across_windows_as_in_one_buffer() {
        let scanner = Scanner::new(RuleSet::builtin().unwrap());
        let allow = Allowlist::new(Path::new("/"));
        let ctx = context(&scanner, &allow);
        let window = window_size(&ctx, reach(&ctx));
        // A dump of distinct bcrypt hashes over three windows and more, one row per INSERT, and
        // one extended INSERT line longer than a reach across the first window edge.
        let alphabet = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let hash = |i: usize| -> String {
            let body: String = (0..53)
                .map(|k| alphabet[(i * 31 + k * 7 + i / 64 * k) % 64] as char)
                .collect();
            format!("$2y$10${body}")
        };
        let mut data = String::new();
        let mut rows = 0;
        let mut long_line = false;
        while data.len() < 3 * window {
            if !long_line && data.len() + 10_000 > window {
                long_line = true;
                data.push_str("INSERT INTO `users` VALUES ");
                for _ in 0..400 {
                    data.push_str(&format!("({rows},'u{rows}','{}'),", hash(rows)));
                    rows += 1;
                }
                data.push_str("(0,'x',NULL);\n");
            }
            data.push_str(&format!(
                "INSERT INTO `users` VALUES ({rows},'u{rows}','{}');\n",
                hash(rows)
            ));
            rows += 1;
        }
        let location = Location::Path("dump.sql".into());
        let folded = |found: &[Finding]| -> Vec<(u32, u32, u64)> {
            found
                .iter()
                .filter(|f| f.rule_id == "sql-dump-password-hash")
                .map(|f| (f.line, f.column, f.folded))
                .collect()
        };
        let mut whole = Vec::new();
        scan_buffer(
            &ctx,
            data.as_bytes(),
            data.len() as u64,
            &location,
            PathFilter::Path("dump.sql"),
            &mut Summary::default(),
            &mut whole,
        );
        let mut windowed = Vec::new();
        scan_reader(
            &ctx,
            &mut data.as_bytes(),
            &location,
            PathFilter::Path("dump.sql"),
            &mut Vec::new(),
            &mut Summary::default(),
            &mut windowed,
        )
        .unwrap();
        // Every match the scanner finds in the whole input is reported or counted, once.
        let matches = scanner
            .scan(data.as_bytes(), PathFilter::Path("dump.sql"))
            .iter()
            .filter(|m| scanner.rule(m.rule).id == "sql-dump-password-hash")
            .count() as u64;
        assert!(matches > rows as u64 * 9 / 10, "{matches} of {rows}");
        let expected = vec![(1, 37, 0), (2, 37, 0), (3, 37, matches - 3)];
        assert_eq!(folded(&whole), expected);
        assert_eq!(folded(&windowed), expected);
    }

    /// A reader that gives at most 1,000 bytes per call, as a pipe or a slow disk may.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(out.len()).min(1000);
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn scan_input_finds_counts_and_returns_what_scan_reader_does() {
        let scanner = Scanner::new(RuleSet::builtin().unwrap());
        let allow = Allowlist::new(Path::new("/"));
        let ctx = context(&scanner, &allow);
        let whole = FIRST_READ.min(window_size(&ctx, reach(&ctx)));
        let line = |i: usize| format!("VOBIZ_AUTH_TOKEN=sk_live_4eC39HqLyjWDarjt{i:04}p7dcFAKE\n");
        let mut bufs = ReadBuffers::default();
        // Empty; small; exactly the first block; one byte over it; a token across its end;
        // several windows.
        for size in [0, 100, whole, whole + 1, whole + 40, 3 * whole + 17] {
            let mut data = Vec::new();
            let mut i = 0;
            while data.len() < size {
                data.extend(std::iter::repeat_n(b'z', (i * 7919) % 3000));
                data.push(b'\n');
                data.extend(line(i).as_bytes());
                i += 1;
            }
            data.truncate(size);
            if size == whole + 40 {
                let token = line(9999);
                let at = whole - 20;
                data[at - 1] = b'\n';
                data[at..at + token.len()].copy_from_slice(token.as_bytes());
            }
            let location = Location::Path("f.txt".into());
            let filter = PathFilter::Path("f.txt");
            let (mut expected, mut expected_summary) = (Vec::new(), Summary::default());
            let expected_outcome = scan_reader(
                &ctx,
                &mut data.as_slice(),
                &location,
                filter,
                &mut Vec::new(),
                &mut expected_summary,
                &mut expected,
            )
            .unwrap();
            let (mut got, mut summary) = (Vec::new(), Summary::default());
            let outcome = scan_input(
                &ctx,
                &mut Trickle(&data),
                &location,
                filter,
                &mut bufs,
                &mut summary,
                &mut got,
            )
            .unwrap();
            assert_eq!(outcome, expected_outcome, "size {size}");
            assert_eq!(places(&got), places(&expected), "size {size}");
            assert_eq!(
                (summary.scanned, summary.bytes),
                (expected_summary.scanned, expected_summary.bytes)
            );
            if size > 0 {
                assert!(!got.is_empty(), "size {size}: tokens found");
            }
        }
    }

    #[test]
    fn a_cap_stops_the_read_and_says_there_was_more() {
        let scanner = Scanner::new(RuleSet::builtin().unwrap());
        let allow = Allowlist::new(Path::new("/"));
        let mut ctx = context(&scanner, &allow);
        ctx.max_file_size = 10;
        let mut summary = Summary::default();
        let (mut out, mut buf) = (Vec::new(), Vec::new());
        let location = Location::Stdin;
        let mut read = |data: &[u8], ctx: &ScanContext<'_>| {
            scan_reader(
                ctx,
                &mut &data[..],
                &location,
                PathFilter::Pathless,
                &mut buf,
                &mut summary,
                &mut out,
            )
            .unwrap()
        };
        assert!(!read(b"0123456789", &ctx).capped);
        let got = read(b"0123456789a", &ctx);
        assert_eq!((got.bytes, got.capped), (10, true));
    }

    #[test]
    fn utf16_longer_than_a_window_is_decoded_whole() {
        let scanner = Scanner::new(RuleSet::builtin().unwrap());
        let allow = Allowlist::new(Path::new("/"));
        let ctx = context(&scanner, &allow);
        let window = window_size(&ctx, reach(&ctx));
        let lines = window / 40;
        let text = format!(
            "{}VOBIZ_AUTH_TOKEN=sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE\n",
            "plain text, forty-nine characters of it, no more\n".repeat(lines)
        );
        let mut data = vec![0xFF, 0xFE];
        for u in text.encode_utf16() {
            data.extend(u.to_le_bytes());
        }
        assert!(data.len() > 2 * window);
        let mut summary = Summary::default();
        let (mut out, mut buf) = (Vec::new(), Vec::new());
        scan_reader(
            &ctx,
            &mut data.as_slice(),
            &Location::Path("big.txt".into()),
            PathFilter::Path("big.txt"),
            &mut buf,
            &mut summary,
            &mut out,
        )
        .unwrap();
        assert_eq!(out.len(), 1, "{:?}", summary.skips);
        assert_eq!(out[0].line as usize, lines + 1);
        assert!(summary.skips.is_empty());
    }

    #[test]
    fn a_binary_longer_than_a_window_is_scanned_for_strings_at_their_offsets() {
        let scanner = Scanner::new(RuleSet::builtin().unwrap());
        let allow = Allowlist::new(Path::new("/"));
        let ctx = context(&scanner, &allow);
        let window = window_size(&ctx, reach(&ctx));
        let token = b"VOBIZ_AUTH_TOKEN=sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE";
        let mut data = vec![0u8; 5 * window / 2];
        data[10..10 + token.len()].copy_from_slice(token);
        let far = 2 * window + 123;
        data[far..far + token.len()].copy_from_slice(token);
        let mut summary = Summary::default();
        let (mut out, mut buf) = (Vec::new(), Vec::new());
        scan_reader(
            &ctx,
            &mut data.as_slice(),
            &Location::Path("core".into()),
            PathFilter::Path("core"),
            &mut buf,
            &mut summary,
            &mut out,
        )
        .unwrap();
        let at: Vec<_> = out
            .iter()
            .map(|f| (f.offset.clone(), f.line, f.column))
            .collect();
        let secret = token.len() as u64 - 36;
        let far = far as u64;
        assert_eq!(
            at,
            vec![
                (
                    Some(10 + secret..10 + token.len() as u64),
                    1,
                    11 + secret as u32
                ),
                (
                    Some(far + secret..far + token.len() as u64),
                    1,
                    (far + secret + 1) as u32
                ),
            ]
        );
        // Media is skipped by its start, and the rest not read.
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(&data);
        let (mut out, mut summary) = (Vec::new(), Summary::default());
        let read = scan_reader(
            &ctx,
            &mut png.as_slice(),
            &Location::Path("a.png".into()),
            PathFilter::Path("a.png"),
            &mut buf,
            &mut summary,
            &mut out,
        )
        .unwrap();
        assert!(out.is_empty());
        assert_eq!(summary.binary, 1);
        assert!(read.bytes < png.len() as u64);
    }

    #[test]
    fn an_archive_too_large_to_open_is_scanned_as_plain_windows_and_named() {
        let scanner = Scanner::new(RuleSet::builtin().unwrap());
        let allow = Allowlist::new(Path::new("/"));
        let mut ctx = context(&scanner, &allow);
        let reach = reach(&ctx);
        let window = window_size(&ctx, reach);
        ctx.archives.max_member_size = window as u64 * 2;
        // A gzip magic, then text: not a readable archive, but detected as one.
        let mut data = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', 3 * window));
        data.extend(b"\nVOBIZ_AUTH_TOKEN=sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE\n");
        let mut summary = Summary::default();
        let (mut out, mut buf) = (Vec::new(), Vec::new());
        scan_reader(
            &ctx,
            &mut data.as_slice(),
            &Location::Path("big.gz".into()),
            PathFilter::Path("big.gz"),
            &mut buf,
            &mut summary,
            &mut out,
        )
        .unwrap();
        assert_eq!(out.len(), 1, "{:?}", summary.skips);
        assert_eq!(out[0].line, 3);
        assert!(
            summary
                .skips
                .iter()
                .any(|k| matches!(k.reason, SkipReason::ArchiveTooLarge { .. })),
            "{:?}",
            summary.skips
        );
    }

    #[test]
    fn cuts_after_a_line_break_or_on_a_character() {
        let mut buf = b"abc\ndef".to_vec();
        assert_eq!(cut_before(&buf, 7, 4), 4);
        buf = "aaaaé".as_bytes().to_vec();
        // `é` is two bytes at 4..6: a cut at 5 moves back to 4.
        assert_eq!(cut_before(&buf, 5, 2), 4);
        assert_eq!(start_before(&buf, 5, 2), 4);
        assert_eq!(start_before(b"ab\ncdef", 6, 4), 3);
    }
}
