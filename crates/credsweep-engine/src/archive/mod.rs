//! Archives read in memory: zip and its family (jar, war, apk, whl, nupkg, Office Open XML and
//! OpenDocument files, ...), gzip, bzip2, xz and zstd streams, and tar (with `.tar.gz`/`.tgz`,
//! `.tar.bz2`, `.tar.xz`/`.txz` and `.tar.zst` read as one archive).
//!
//! [`crate::scan::scan_buffer`] asks [`detect`] whether a buffer is an archive, by its magic
//! bytes (never by its name), and if so hands it to [`read`], which calls back with each
//! member's bytes ([`Event::Member`]) and with whatever was not read ([`Event::Skip`],
//! [`Event::Error`]). The scan decides what a member is (text, or an archive nested one level
//! deeper) and where its findings are; this module only turns archive bytes into member bytes.
//! Nothing is extracted to disk, and a member's name is only a name (absolute or `..` paths
//! included): it is never opened.
//!
//! Every allocation is bounded before it is made, against bombs: each member is read at most to
//! the smallest of the per-member cap, what is left of the outermost archive's [`Budget`]
//! (expanded bytes and members, shared by every nested level) and the expansion-ratio cap of the
//! archive being read. An archive over a limit is read as far as the limit and the limit is
//! reported ([`Skip::Limit`]).

mod stream;
mod tarball;
mod zipfile;

use std::borrow::Cow;
use std::fmt;
use std::io::Read;

/// What archives a scan opens, and the limits it reads them under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Open archives at all (`--no-archives` turns it off).
    pub enabled: bool,
    /// How deep archives nested in archives are opened; the outermost is depth 1, 0 opens none
    /// (`--max-archive-depth`).
    pub max_depth: u32,
    /// Expanded bytes one outermost archive may produce, nested archives included.
    pub max_total_bytes: u64,
    /// Bytes read of one member; the rest of it is not scanned.
    pub max_member_size: u64,
    /// Expanded bytes per compressed byte of one archive, past [`RATIO_FLOOR`]: more is a bomb.
    pub max_ratio: u64,
    /// Members one outermost archive may hold, nested archives included.
    pub max_members: u64,
}

/// The default `--max-archive-depth`.
pub const DEFAULT_MAX_DEPTH: u32 = 4;

/// Expanded bytes any archive may produce whatever its size: the ratio cap only bites past this,
/// so a small, very compressible log is still read whole.
pub const RATIO_FLOOR: u64 = 8 << 20;

impl Default for Options {
    fn default() -> Options {
        Options {
            enabled: true,
            max_depth: DEFAULT_MAX_DEPTH,
            max_total_bytes: 256 << 20,
            max_member_size: 64 << 20,
            max_ratio: 250,
            max_members: 100_000,
        }
    }
}

/// An archive format, told by its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `PK\x03\x04` (or an empty archive's `PK\x05\x06`): zip, jar, apk, docx, odt, ...
    Zip,
    /// `\x1f\x8b\x08`: a gzip stream (a `.tar.gz` is read as the tar inside).
    Gzip,
    /// `BZh1`..`BZh9` and a block or end-of-stream magic: a bzip2 stream (a `.tar.bz2` is read
    /// as the tar inside).
    Bzip2,
    /// `\xfd7zXZ\0`: an xz stream (a `.tar.xz` is read as the tar inside).
    Xz,
    /// `\x28\xb5\x2f\xfd`: a zstd frame (a `.tar.zst` is read as the tar inside).
    Zstd,
    /// `ustar` at offset 257: a POSIX or GNU tar.
    Tar,
}

/// The format of `data` if it is an archive this module reads.
pub fn detect(data: &[u8]) -> Option<Format> {
    if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
        Some(Format::Zip)
    } else if data.starts_with(&[0x1f, 0x8b, 0x08]) {
        Some(Format::Gzip)
    } else if is_bzip2(data) {
        Some(Format::Bzip2)
    } else if data.starts_with(b"\xfd7zXZ\0") {
        Some(Format::Xz)
    } else if data.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some(Format::Zstd)
    } else if data.len() >= 512 && &data[257..262] == b"ustar" {
        Some(Format::Tar)
    } else {
        None
    }
}

/// `BZh`, a block size digit, then the magic of a block (π) or of the stream's end (√π): four
/// letters alone would take text starting `BZh1` for a stream.
fn is_bzip2(data: &[u8]) -> bool {
    data.len() >= 10
        && data.starts_with(b"BZh")
        && (b'1'..=b'9').contains(&data[3])
        && (data[4..10] == [0x31, 0x41, 0x59, 0x26, 0x53, 0x59]
            || data[4..10] == [0x17, 0x72, 0x45, 0x38, 0x50, 0x90])
}

/// A limit an archive ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// One member is longer than this: its first bytes were scanned.
    MemberSize(u64),
    /// The outermost archive expands past this many bytes.
    TotalBytes(u64),
    /// The archive expands more than this many times its own size.
    Ratio(u64),
    /// The outermost archive holds more members than this.
    Members(u64),
}

/// Why an archive, or one of its members, was not read (or not wholly). None of these makes
/// the scan fail: what could not be read at all is an [`Event::Error`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// An encrypted member: its bytes cannot be read without the password.
    Encrypted,
    /// Not a readable archive, or cut short: what could be read was scanned.
    Corrupt(String),
    /// Over a limit: read as far as the limit.
    Limit(Limit),
    /// An archive nested deeper than the depth limit: not opened.
    TooDeep { max: u32 },
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::Encrypted => f.write_str("encrypted archive member: not scanned"),
            Skip::Corrupt(e) => write!(
                f,
                "corrupt or truncated archive ({e}): only what could be read was scanned"
            ),
            Skip::Limit(Limit::MemberSize(n)) => write!(
                f,
                "archive member over {n} bytes: only its first {n} bytes were scanned"
            ),
            Skip::Limit(Limit::TotalBytes(n)) => write!(
                f,
                "archive expands past {n} bytes: scanned only as far as that limit"
            ),
            Skip::Limit(Limit::Ratio(r)) => write!(
                f,
                "archive expands more than {r} times its size (a compression bomb?): scanned only as far as that limit"
            ),
            Skip::Limit(Limit::Members(n)) => write!(
                f,
                "archive holds more than {n} members: only the first {n} were scanned"
            ),
            Skip::TooDeep { max } => write!(
                f,
                "archive nested deeper than --max-archive-depth {max}: not opened"
            ),
        }
    }
}

/// What is left to read of one outermost archive, nested archives included.
#[derive(Debug, Clone)]
pub struct Budget {
    bytes_left: u64,
    members_left: u64,
}

impl Budget {
    pub fn new(options: &Options) -> Budget {
        Budget {
            bytes_left: options.max_total_bytes,
            members_left: options.max_members,
        }
    }
}

/// One member of an archive, read (up to the limits).
#[derive(Debug)]
pub struct Member<'a> {
    /// Its path inside the archive, as the archive names it (lossily UTF-8).
    pub name: String,
    /// Its bytes, or the first of them when it ran into a limit.
    pub data: Cow<'a, [u8]>,
}

/// What [`read`] reports while it reads an archive.
#[derive(Debug)]
pub enum Event<'a> {
    Member(Member<'a>),
    /// The archive (`member: None`) or one member was not read, or not wholly.
    Skip {
        member: Option<String>,
        reason: Skip,
    },
    /// A member could not be read (an unsupported compression method, corrupt data): the scan
    /// is incomplete.
    Error {
        member: String,
        message: String,
    },
}

/// Reads the archive `data` of `format`, calling `visit` with each member and each skip, in
/// order, and with the budget left (for nested archives). `name_hint` is the archive's own name
/// (a gzip stream with no name in its header is named after it). Returns `false` when `data`
/// is not a readable archive at all (after a [`Skip::Corrupt`] event): the caller may scan the
/// bytes as they are.
pub fn read(
    format: Format,
    data: &[u8],
    options: &Options,
    budget: &mut Budget,
    name_hint: &str,
    visit: &mut dyn FnMut(&mut Budget, Event<'_>),
) -> bool {
    let mut level = Level {
        options,
        budget,
        allowed: data
            .len()
            .try_into()
            .unwrap_or(u64::MAX)
            .saturating_mul(options.max_ratio)
            .max(RATIO_FLOOR),
        expanded: 0,
        visit,
    };
    match format {
        Format::Zip => zipfile::read(data, &mut level),
        Format::Gzip => stream::read_gzip(data, name_hint, &mut level),
        Format::Bzip2 => stream::read_bzip2(data, name_hint, &mut level),
        Format::Xz => stream::read_xz(data, name_hint, &mut level),
        Format::Zstd => stream::read_zstd(data, name_hint, &mut level),
        Format::Tar => tarball::read(data, &mut level),
    }
}

/// One archive being read: its limits and what it has expanded to so far.
struct Level<'r, 'v> {
    options: &'r Options,
    budget: &'r mut Budget,
    /// Expanded bytes this archive may produce by its ratio cap.
    allowed: u64,
    expanded: u64,
    visit: &'v mut dyn FnMut(&mut Budget, Event<'_>),
}

/// How far a member may be read, and which limit says so.
struct Cap {
    bytes: u64,
    limit: Limit,
}

/// Whether to go on with the next member.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    Continue,
    Stop,
}

impl Level<'_, '_> {
    fn emit(&mut self, event: Event<'_>) {
        (self.visit)(self.budget, event);
    }

    fn skip(&mut self, member: Option<String>, reason: Skip) {
        self.emit(Event::Skip { member, reason });
    }

    /// Takes one member from the budget, or says (once) that the archive holds too many.
    fn admit_member(&mut self) -> Next {
        if self.budget.members_left == 0 {
            let n = self.options.max_members;
            self.skip(None, Skip::Limit(Limit::Members(n)));
            return Next::Stop;
        }
        self.budget.members_left -= 1;
        Next::Continue
    }

    /// How far the next member that must be expanded may be read.
    fn cap(&self) -> Cap {
        let mut cap = Cap {
            bytes: self.options.max_member_size,
            limit: Limit::MemberSize(self.options.max_member_size),
        };
        if self.budget.bytes_left < cap.bytes {
            cap = Cap {
                bytes: self.budget.bytes_left,
                limit: Limit::TotalBytes(self.options.max_total_bytes),
            };
        }
        let by_ratio = self.allowed.saturating_sub(self.expanded);
        if by_ratio < cap.bytes {
            cap = Cap {
                bytes: by_ratio,
                limit: Limit::Ratio(self.options.max_ratio),
            };
        }
        cap
    }

    /// Reads a member that must be expanded from `reader`, at most to the cap, charging the
    /// budget; `size_hint` (what the archive claims) only sizes the first allocation, never
    /// past the cap. Returns the bytes, the limit the member ran into if any, and the read error
    /// that ended it early if any.
    fn expand(
        &mut self,
        reader: impl Read,
        size_hint: u64,
    ) -> (Vec<u8>, Option<Limit>, Option<std::io::Error>) {
        let cap = self.cap();
        // Never trust a claimed size beyond what may be read anyway, nor for more than a
        // modest first allocation: the vector grows as bytes really arrive.
        let first = size_hint.min(cap.bytes).min(1 << 20);
        let mut buf = Vec::with_capacity(usize::try_from(first).unwrap_or(0));
        let err = reader
            .take(cap.bytes.saturating_add(1))
            .read_to_end(&mut buf)
            .err();
        let over = buf.len() as u64 > cap.bytes;
        if over {
            buf.truncate(usize::try_from(cap.bytes).unwrap_or(usize::MAX));
        }
        self.charge(buf.len() as u64);
        (buf, over.then_some(cap.limit), err)
    }

    fn charge(&mut self, bytes: u64) {
        self.budget.bytes_left = self.budget.bytes_left.saturating_sub(bytes);
        self.expanded = self.expanded.saturating_add(bytes);
    }

    /// Reports a member read, and the limit it ran into: a member over the per-member cap is
    /// named and the archive goes on; any other limit ends the archive.
    fn deliver(&mut self, name: String, data: Cow<'_, [u8]>, over: Option<Limit>) -> Next {
        let skip_name = name.clone();
        self.emit(Event::Member(Member { name, data }));
        match over {
            None => Next::Continue,
            Some(l @ Limit::MemberSize(_)) => {
                self.skip(Some(skip_name), Skip::Limit(l));
                Next::Continue
            }
            Some(l) => {
                self.skip(None, Skip::Limit(l));
                Next::Stop
            }
        }
    }
}

/// A member name from an archive's raw bytes: lossily UTF-8, and only ever a name.
fn member_name(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// What [`read`] reported, as `member:<name>:<len>`, `skip:<name>:<reason>`, `error:<name>`.
    fn events(format: Format, data: &[u8], options: &Options) -> (bool, Vec<String>) {
        let mut budget = Budget::new(options);
        let mut seen = Vec::new();
        let opened = read(format, data, options, &mut budget, "x.gz", &mut |_, e| {
            seen.push(match e {
                Event::Member(m) => format!("member:{}:{}", m.name, m.data.len()),
                Event::Skip { member, reason } => {
                    format!("skip:{}:{reason:?}", member.unwrap_or_default())
                }
                Event::Error { member, .. } => format!("error:{member}"),
            })
        });
        (opened, seen)
    }

    fn tar_of(members: &[(&str, usize)]) -> Vec<u8> {
        let mut b = ::tar::Builder::new(Vec::new());
        for (name, len) in members {
            let mut h = ::tar::Header::new_gnu();
            h.set_size(*len as u64);
            h.set_cksum();
            b.append_data(&mut h, name, &vec![b'a'; *len][..]).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn gzip_of(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn a_member_over_the_member_cap_is_cut_and_named_and_the_archive_goes_on() {
        let options = Options {
            max_member_size: 10,
            ..Options::default()
        };
        let tar = tar_of(&[("big", 100), ("small", 5)]);
        let (opened, seen) = events(Format::Tar, &tar, &options);
        assert!(opened);
        assert_eq!(
            seen,
            [
                "member:big:10",
                "skip:big:Limit(MemberSize(10))",
                "member:small:5"
            ]
        );
    }

    #[test]
    fn members_past_the_member_count_are_not_read() {
        let options = Options {
            max_members: 2,
            ..Options::default()
        };
        let tar = tar_of(&[("a", 1), ("b", 1), ("c", 1)]);
        let (_, seen) = events(Format::Tar, &tar, &options);
        assert_eq!(
            seen,
            ["member:a:1", "member:b:1", "skip::Limit(Members(2))"]
        );
    }

    #[test]
    fn expansion_stops_at_the_total_budget_and_at_the_ratio_cap() {
        let data = vec![b'x'; RATIO_FLOOR as usize * 2];
        let gz = gzip_of(&data);
        let small_total = Options {
            max_total_bytes: 1000,
            ..Options::default()
        };
        let (_, seen) = events(Format::Gzip, &gz, &small_total);
        assert_eq!(seen, ["member:x:1000", "skip::Limit(TotalBytes(1000))"]);
        // 16 MiB of one byte is a few KB compressed: past 250 times that and the floor.
        let (_, seen) = events(Format::Gzip, &gz, &Options::default());
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert!(seen[1].ends_with("Limit(Ratio(250))"), "{seen:?}");
    }

    #[test]
    fn corrupt_input_is_reported_and_not_opened() {
        let (opened, seen) = events(Format::Zip, b"PK\x03\x04 not really", &Options::default());
        assert!(!opened);
        assert!(seen[0].starts_with("skip::Corrupt("), "{seen:?}");
        let (opened, seen) = events(Format::Gzip, &[0x1f, 0x8b, 0x08, 0, 1], &Options::default());
        assert!(!opened);
        assert!(seen[0].starts_with("skip::Corrupt("), "{seen:?}");
    }

    #[test]
    fn formats_are_told_by_magic_bytes() {
        assert_eq!(detect(b"PK\x03\x04rest"), Some(Format::Zip));
        assert_eq!(detect(b"PK\x05\x06"), Some(Format::Zip));
        assert_eq!(detect(&[0x1f, 0x8b, 0x08, 0]), Some(Format::Gzip));
        let mut tar = vec![0u8; 512];
        tar[257..262].copy_from_slice(b"ustar");
        assert_eq!(detect(&tar), Some(Format::Tar));
        assert_eq!(detect(b"PK is a name"), None);
        assert_eq!(detect(b"BZh91AY&SYrest"), Some(Format::Bzip2));
        assert_eq!(detect(b"BZh9 is text"), None);
        assert_eq!(detect(b"\xfd7zXZ\0\0\x04"), Some(Format::Xz));
        assert_eq!(detect(&[0x28, 0xb5, 0x2f, 0xfd, 0x24]), Some(Format::Zstd));
        assert_eq!(detect(b""), None);
    }
}
