//! What a pack's entries claim about their sizes, checked before anything is allocated for them.
//!
//! A pack entry's header says how many bytes it inflates to, and a delta says how large its base
//! is and how large its result will be. Decoders allocate those sizes up front, so a 53-byte
//! entry claiming 2 GiB costs 2 GiB. Two depths of reading:
//!
//! - a survey (`Survey`) reads headers only, nothing inflated: a claim zlib cannot expand the
//!   entry's bytes to is damage found without inflating, and the rest is taken on trust, bounded
//!   by the caller's caps, for the decoder to prove with the inflate that decodes the entry
//!   anyway (`inflate_exact`, `apply_delta`); a delta's sizes are known only then;
//! - a whole read (`audit_with_ends`, `Survey::verify`) inflates an entry in a small window
//!   (no allocation sized by a claim): a base object must inflate to exactly its header's size,
//!   a delta's instructions must stay inside its base and produce exactly the result it claims,
//!   and its base must be the size it claims. What fails is damaged, named by id; what passes
//!   has a size that is true, so it may be decoded a prefix at a time ([`decode_prefix`]).

use std::collections::HashMap;

use gix::ObjectId;
use gix::objs::Kind;
use gix::zlib::{Decompress, FlushDecompress, Status};

/// Bytes inflated per step.
const WINDOW: usize = 32 << 10;

/// One entry of a pack, as the audit found it.
#[derive(Debug, Clone)]
pub struct Audited {
    pub oid: ObjectId,
    pub offset: u64,
    /// The object's kind (a delta's is its chain's base's); `None` when damaged before it was known.
    pub kind: Option<Kind>,
    /// The object's size once decoded (a delta's result size): true when `verified` and
    /// `problem` is `None`; as claimed for a whole object not `verified`, and 0 (not known yet)
    /// for such a delta.
    pub size: u64,
    /// Index (in the audit's list) of the delta base, as [`Audited::base`] gives it (32 bits:
    /// an entry of every object of a repository is kept).
    pub base_at: Option<u32>,
    /// Why the entry cannot be decoded, if it cannot (boxed: an entry of every object of a
    /// repository is kept, and few have one).
    pub problem: Option<Box<str>>,
    /// Whether the entry was inflated whole, so that `size` is proven (else it is what the entry
    /// claims, for the decoder to check as it inflates).
    pub verified: bool,
}

// One is kept for every object of every pack while the blobs are scanned (849k on git/git).
const _: () = assert!(std::mem::size_of::<Audited>() <= 64);

impl Audited {
    /// Index (in the audit's list) of the delta base.
    pub fn base(&self) -> Option<usize> {
        self.base_at.map(|b| b as usize)
    }
}

/// How one entry is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Base(Kind),
    OfsDelta { base_offset: u64 },
    RefDelta { base: ObjectId },
}

/// A pack entry's header: how it is stored, its claimed inflated size and where its data starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub stored: Stored,
    pub claimed: u64,
    pub data_start: usize,
}

/// Parses the entry header at `offset` of `pack` (the whole pack file).
pub fn parse_header(pack: &[u8], offset: u64, hash_len: usize) -> Result<Header, String> {
    let start = usize::try_from(offset).map_err(|_| "offset out of range".to_string())?;
    let bytes = pack
        .get(start..)
        .filter(|b| !b.is_empty())
        .ok_or_else(|| format!("entry at offset {offset} lies past the end of the pack"))?;
    let mut i = 0;
    let first = bytes[0];
    let type_code = (first >> 4) & 7;
    let mut size = u64::from(first & 15);
    let mut shift = 4;
    let mut b = first;
    while b & 0x80 != 0 {
        i += 1;
        b = *bytes.get(i).ok_or("entry header is cut off")?;
        if shift > 60 {
            return Err("entry header's size does not fit in 64 bits".into());
        }
        size |= u64::from(b & 0x7f) << shift;
        shift += 7;
    }
    i += 1;
    let stored = match type_code {
        1 => Stored::Base(Kind::Commit),
        2 => Stored::Base(Kind::Tree),
        3 => Stored::Base(Kind::Blob),
        4 => Stored::Base(Kind::Tag),
        6 => {
            let mut b = *bytes.get(i).ok_or("delta header is cut off")?;
            i += 1;
            let mut distance = u64::from(b & 0x7f);
            while b & 0x80 != 0 {
                b = *bytes.get(i).ok_or("delta header is cut off")?;
                i += 1;
                distance = distance
                    .checked_add(1)
                    .and_then(|d| d.checked_mul(128))
                    .ok_or("delta base distance does not fit in 64 bits")?
                    | u64::from(b & 0x7f);
            }
            let base_offset = offset
                .checked_sub(distance)
                .filter(|_| distance > 0)
                .ok_or_else(|| format!("delta base distance {distance} points before the pack"))?;
            Stored::OfsDelta { base_offset }
        }
        7 => {
            let id = bytes
                .get(i..i + hash_len)
                .ok_or("delta header is cut off")?;
            i += hash_len;
            Stored::RefDelta {
                base: ObjectId::try_from(id).map_err(|e| e.to_string())?,
            }
        }
        t => return Err(format!("entry has type {t}, which no object has")),
    };
    Ok(Header {
        stored,
        claimed: size,
        data_start: start + i,
    })
}

/// An instruction of a delta, as [`DeltaReader`] reads it.
pub(crate) enum Op<'a> {
    Copy { offset: u64, len: u64 },
    Insert(&'a [u8]),
}

/// Reads a delta's instructions from its inflated bytes, fed in pieces of any size.
#[derive(Default)]
pub(crate) struct DeltaReader {
    /// The two header sizes once read: base size, result size.
    pub sizes: Vec<u64>,
    varint: (u64, u32),
    /// A copy instruction being read: its command byte and the argument bytes still to come.
    copy: Option<(u8, u8, [u8; 7], usize)>,
    /// Bytes of an insert still to come.
    insert_left: usize,
}

impl DeltaReader {
    /// Base size and result size, once the header has been read.
    pub fn header(&self) -> Option<(u64, u64)> {
        (self.sizes.len() == 2).then(|| (self.sizes[0], self.sizes[1]))
    }

    /// Feeds the next piece of the delta, calling `op` for each instruction completed. `op`'s
    /// error stops the reading and is returned as it is; a malformed delta is an `E` made from
    /// the reason.
    pub fn feed<E: From<&'static str>>(
        &mut self,
        mut data: &[u8],
        op: &mut impl FnMut(Op<'_>, (u64, u64)) -> Result<(), E>,
    ) -> Result<(), E> {
        while !data.is_empty() {
            if self.sizes.len() < 2 {
                let b = data[0];
                data = &data[1..];
                let (v, shift) = &mut self.varint;
                if *shift > 63 {
                    return Err("delta size does not fit in 64 bits".into());
                }
                *v |= u64::from(b & 0x7f) << *shift;
                *shift += 7;
                if b & 0x80 == 0 {
                    self.sizes.push(*v);
                    self.varint = (0, 0);
                }
            } else if self.insert_left > 0 {
                let n = self.insert_left.min(data.len());
                op(Op::Insert(&data[..n]), (self.sizes[0], self.sizes[1]))?;
                self.insert_left -= n;
                data = &data[n..];
            } else if let Some((cmd, want, args, got)) = &mut self.copy {
                if *got < usize::from(*want) {
                    args[*got] = data[0];
                    *got += 1;
                    data = &data[1..];
                }
                if *got == usize::from(*want) {
                    let (offset, len) = copy_args(*cmd, &args[..*got]);
                    self.copy = None;
                    op(Op::Copy { offset, len }, (self.sizes[0], self.sizes[1]))?;
                }
            } else {
                let cmd = data[0];
                data = &data[1..];
                if cmd & 0x80 != 0 {
                    let want = (cmd & 0x7f).count_ones() as u8;
                    self.copy = Some((cmd, want, [0; 7], 0));
                    if want == 0 {
                        self.copy = None;
                        let (offset, len) = copy_args(cmd, &[]);
                        op(Op::Copy { offset, len }, (self.sizes[0], self.sizes[1]))?;
                    }
                } else if cmd == 0 {
                    return Err("delta has an instruction 0, which git never writes".into());
                } else {
                    self.insert_left = usize::from(cmd);
                }
            }
        }
        Ok(())
    }

    /// Whether the delta ended between instructions.
    pub fn complete(&self) -> bool {
        self.sizes.len() == 2 && self.insert_left == 0 && self.copy.is_none()
    }
}

/// Offset and length of a copy instruction from its command byte and argument bytes.
fn copy_args(cmd: u8, args: &[u8]) -> (u64, u64) {
    let mut it = args.iter();
    let mut offset = 0u64;
    for i in 0..4 {
        if cmd & (1 << i) != 0 {
            offset |= u64::from(*it.next().unwrap_or(&0)) << (8 * i);
        }
    }
    let mut len = 0u64;
    for i in 0..3 {
        if cmd & (0x10 << i) != 0 {
            len |= u64::from(*it.next().unwrap_or(&0)) << (8 * i);
        }
    }
    (offset, if len == 0 { 0x10000 } else { len })
}

/// Why inflating a zlib stream stopped before its end. `E` is the sink's own error: a sink may
/// stop the inflating on purpose, and its caller then tells that apart by type.
#[derive(Debug)]
pub(crate) enum InflateError<E> {
    NotZlib,
    /// More than `limit` bytes came out (the limit is what the object's header says, or what its
    /// compressed bytes can hold).
    TooLong {
        limit: u64,
    },
    /// The input ends inside the stream.
    Truncated,
    /// The reader failed ([`inflate_reader`] only).
    Unreadable(std::io::Error),
    /// The sink refused a window.
    Sink(E),
}

impl<E: std::fmt::Display> std::fmt::Display for InflateError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InflateError::NotZlib => f.write_str("its data is not valid zlib"),
            InflateError::TooLong { limit } => write!(
                f,
                "its header says {limit} bytes, its data inflates to more"
            ),
            InflateError::Truncated => f.write_str("its data ends before its zlib stream does"),
            InflateError::Unreadable(e) => write!(f, "cannot read it: {e}"),
            InflateError::Sink(e) => e.fmt(f),
        }
    }
}

impl<E: std::fmt::Display> From<InflateError<E>> for String {
    fn from(e: InflateError<E>) -> String {
        e.to_string()
    }
}

/// Inflates the zlib stream at the start of `input` in windows, handing each to `sink`; stops
/// with an error once more than `limit` bytes come out. Returns the number of bytes it inflated.
pub(crate) fn inflate_each<E>(
    z: &mut Decompress,
    input: &[u8],
    limit: u64,
    sink: &mut impl FnMut(&[u8]) -> Result<(), E>,
) -> Result<u64, InflateError<E>> {
    z.reset();
    let mut window = [0u8; WINDOW];
    let mut total = 0u64;
    loop {
        let in_before = z.total_in() as usize;
        let out_before = z.total_out();
        let rest = input.get(in_before..).unwrap_or_default();
        let status = z
            .decompress(rest, &mut window, FlushDecompress::None)
            .map_err(|_| InflateError::NotZlib)?;
        let n = (z.total_out() - out_before) as usize;
        total += n as u64;
        if total > limit {
            return Err(InflateError::TooLong { limit });
        }
        sink(&window[..n]).map_err(InflateError::Sink)?;
        match status {
            Status::StreamEnd => return Ok(total),
            Status::BufError => return Err(InflateError::Truncated),
            Status::Ok if n == 0 && z.total_in() as usize == in_before => {
                return Err(InflateError::Truncated);
            }
            Status::Ok => {}
        }
    }
}

/// [`inflate_each`] over a reader, read in 64 KiB pieces: a loose object is never held whole.
pub(crate) fn inflate_reader<E>(
    z: &mut Decompress,
    mut input: impl std::io::Read,
    limit: u64,
    sink: &mut impl FnMut(&[u8]) -> Result<(), E>,
) -> Result<u64, InflateError<E>> {
    z.reset();
    let mut inbuf = vec![0u8; 64 << 10];
    let (mut start, mut end, mut eof) = (0usize, 0usize, false);
    let mut window = [0u8; WINDOW];
    let mut total = 0u64;
    loop {
        if start == end && !eof {
            end = input.read(&mut inbuf).map_err(InflateError::Unreadable)?;
            start = 0;
            eof = end == 0;
        }
        let (in_before, out_before) = (z.total_in(), z.total_out());
        let status = z
            .decompress(&inbuf[start..end], &mut window, FlushDecompress::None)
            .map_err(|_| InflateError::NotZlib)?;
        let consumed = (z.total_in() - in_before) as usize;
        start += consumed;
        let n = (z.total_out() - out_before) as usize;
        total += n as u64;
        if total > limit {
            return Err(InflateError::TooLong { limit });
        }
        sink(&window[..n]).map_err(InflateError::Sink)?;
        match status {
            Status::StreamEnd => return Ok(total),
            Status::BufError if eof => return Err(InflateError::Truncated),
            _ if n == 0 && consumed == 0 && (eof || start < end) => {
                return Err(InflateError::Truncated);
            }
            _ => {}
        }
    }
}

/// Why [`decode_prefix`]'s sink stops inflating: it has all it keeps, or the delta is bad.
enum Stop {
    Enough,
    Bad(&'static str),
}

impl From<&'static str> for Stop {
    fn from(why: &'static str) -> Stop {
        Stop::Bad(why)
    }
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Enough => Ok(()),
            Stop::Bad(why) => f.write_str(why),
        }
    }
}

/// What the audit learnt of one entry by reading it alone.
struct Read {
    header: Result<Header, String>,
    /// For a delta: (base size, result size) from its instructions, checked against what they do
    /// when the entry is read whole.
    delta: Option<(u64, u64)>,
    /// Why the entry cannot be decoded as it stands.
    problem: Option<String>,
    /// Whether the entry was inflated whole ([`read_entry`]), so its sizes are true; a survey
    /// ([`survey_entry`]) reads headers only and leaves the proof to the decoder.
    whole: bool,
}

/// Checks one delta instruction against the delta's sizes; counts what it produces.
fn check_op(op: &Op<'_>, sizes: (u64, u64), produced: &mut u64) -> Result<(), String> {
    let (base_size, result_size) = sizes;
    match op {
        Op::Copy { offset, len } => {
            if offset.checked_add(*len).is_none_or(|e| e > base_size) {
                return Err(format!(
                    "a delta instruction copies bytes {offset}..{} of a {base_size}-byte base",
                    offset.saturating_add(*len)
                ));
            }
            *produced += len;
        }
        Op::Insert(b) => *produced += b.len() as u64,
    }
    if *produced > result_size {
        return Err(format!(
            "its delta instructions produce more than the {result_size} bytes it claims"
        ));
    }
    Ok(())
}

fn read_entry(pack: &[u8], offset: u64, end: usize, hash_len: usize, z: &mut Decompress) -> Read {
    let header = parse_header(pack, offset, hash_len);
    let h = match &header {
        Ok(h) => *h,
        Err(e) => {
            let problem = Some(e.clone());
            return Read {
                header,
                delta: None,
                problem,
                whole: true,
            };
        }
    };
    let data = pack.get(h.data_start..end).unwrap_or_default();
    if h.claimed > inflatable(data.len() as u64) {
        return Read {
            header,
            delta: None,
            whole: true,
            problem: Some(format!(
                "its header claims {} bytes from {} compressed bytes, more than zlib can expand them to",
                h.claimed,
                data.len()
            )),
        };
    }
    let mismatch = |n: u64| {
        format!(
            "its header says {} bytes, its data inflates to {n}",
            h.claimed
        )
    };
    let mut problem = None;
    let mut delta = None;
    match h.stored {
        Stored::Base(_) => match inflate_each(z, data, h.claimed, &mut |_| Ok::<_, String>(())) {
            Ok(n) if n == h.claimed => {}
            Ok(n) => problem = Some(mismatch(n)),
            Err(e) => problem = Some(e.to_string()),
        },
        _ => {
            let mut reader = DeltaReader::default();
            let mut produced = 0u64;
            let result = inflate_each(z, data, h.claimed, &mut |chunk| {
                reader.feed(chunk, &mut |op, sizes| check_op(&op, sizes, &mut produced))
            })
            .map_err(String::from);
            match (result, reader.header()) {
                (Ok(n), _) if n != h.claimed => problem = Some(mismatch(n)),
                (Ok(_), Some((base_size, result_size))) if reader.complete() => {
                    if produced == result_size {
                        delta = Some((base_size, result_size));
                    } else {
                        problem = Some(format!(
                            "its delta claims a {result_size}-byte result, its instructions produce {produced}"
                        ));
                    }
                }
                (Ok(_), _) => problem = Some("its delta instructions are cut off".into()),
                (Err(e), _) => problem = Some(e),
            }
        }
    }
    Read {
        header,
        delta,
        problem,
        whole: true,
    }
}

/// Reads an entry's header only: how it is stored and what it claims, nothing inflated. The
/// claims are not proven here: the decoder that inflates the entry anyway checks them
/// ([`inflate_exact`], [`apply_delta`]), so each entry's bytes inflate once; a delta's sizes are
/// left unknown until then. What the header alone shows to be damaged (a claim zlib cannot
/// expand its bytes to, a header cut off) is read by [`read_entry`], which names the damage.
fn survey_entry(pack: &[u8], offset: u64, end: usize, hash_len: usize, z: &mut Decompress) -> Read {
    let Ok(h) = parse_header(pack, offset, hash_len) else {
        return read_entry(pack, offset, end, hash_len, z);
    };
    let data = pack.get(h.data_start..end).unwrap_or_default();
    if h.claimed > inflatable(data.len() as u64) {
        return read_entry(pack, offset, end, hash_len, z);
    }
    Read {
        header: Ok(h),
        delta: None,
        problem: None,
        whole: false,
    }
}

/// A delta's base size and result size, from the start of its instructions (inflated); `None`
/// if they are cut off or do not fit in 64 bits.
pub(crate) fn delta_header(delta: &[u8]) -> Option<(u64, u64)> {
    let mut reader = DeltaReader::default();
    // Two sizes of at most ten bytes each; only they are wanted, so the first instruction stops
    // the reading.
    let head = &delta[..delta.len().min(20)];
    let _ = reader.feed::<&'static str>(head, &mut |_, _| Err("enough"));
    reader.header()
}

/// Audits every entry of a pack, each read whole: what the decode proves of an
/// entry as it inflates it, proven here without decoding. `entries` are (id, offset) pairs from
/// its index, `pack` the whole pack file; entries come back sorted by offset. Scans survey
/// headers instead (`Survey`); this is the whole audit, for the `odb_sizes` fuzz target.
pub fn audit_pack(
    pack: &[u8],
    entries: &mut [(ObjectId, u64)],
    hash_len: usize,
    threads: usize,
) -> Vec<Audited> {
    entries.sort_by_key(|e| e.1);
    let pack_end = pack.len().saturating_sub(hash_len);
    let ends: Vec<usize> = (0..entries.len())
        .map(|i| {
            entries
                .get(i + 1)
                .map_or(pack_end, |e| usize::try_from(e.1).unwrap_or(usize::MAX))
                .min(pack_end)
        })
        .collect();
    audit_with_ends(pack, entries, &ends, hash_len, threads)
}

/// Audits some entries of a pack (the whole of each read, [`read_entry`]): `entries` are (id,
/// offset) pairs, sorted by offset, each ending at `ends[i]` (where the next entry of the whole
/// pack starts); `pack` is the whole pack file.
pub(crate) fn audit_with_ends(
    pack: &[u8],
    entries: &[(ObjectId, u64)],
    ends: &[usize],
    hash_len: usize,
    threads: usize,
) -> Vec<Audited> {
    let reads = read_all(pack, entries, ends, hash_len, threads, read_entry);
    assemble(entries, &reads, threads)
}

/// `items` sorted by the offset `offset` gives each, those at one offset in the order given (as
/// a stable sort leaves them). A pack's index lists its entries by id, so their offsets come in
/// no order; sorting plain integers (offset, then position) is several times quicker than a
/// stable sort of the items themselves, and 64-bit ones (offsets and positions below 2^32: a
/// pack under 4 GiB) about twice as quick again as 128-bit ones.
pub(crate) fn sorted_by_offset<T: Copy>(items: &[T], offset: impl Fn(&T) -> u64) -> Vec<T> {
    const NARROW: u64 = 1 << 32;
    let narrow = (items.len() as u64) <= NARROW && items.iter().all(|i| offset(i) < NARROW);
    // The keys are distinct (each holds its position), so an unstable sort orders them fully.
    if narrow {
        let mut keys: Vec<u64> = items
            .iter()
            .enumerate()
            .map(|(i, item)| (offset(item) << 32) | i as u64)
            .collect();
        keys.sort_unstable();
        keys.into_iter()
            .map(|k| items[(k & (NARROW - 1)) as usize])
            .collect()
    } else {
        let mut keys: Vec<u128> = items
            .iter()
            .enumerate()
            .map(|(i, item)| (u128::from(offset(item)) << 64) | i as u128)
            .collect();
        keys.sort_unstable();
        keys.into_iter().map(|k| items[k as u64 as usize]).collect()
    }
}

/// The entries of a pack with their headers read ([`survey_entry`]), some of them read whole
/// ([`Survey::verify`]).
pub(crate) struct Survey {
    /// (id, offset) of every entry, by offset.
    entries: Vec<(ObjectId, u64)>,
    /// Each entry's position in the list given to [`Survey::new`] (its index's order), by
    /// offset: what the trees pass names an entry by ([`Survey::positions`]).
    positions: Vec<u32>,
    /// Where the last entry's bytes end: at the pack's checksum.
    pack_end: usize,
    reads: Vec<Read>,
    /// How many threads read and assemble the entries.
    threads: usize,
}

impl Survey {
    /// Surveys every entry of a pack: `entries` are (id, offset) pairs from its index, `pack`
    /// the whole pack file.
    pub fn new(
        pack: &[u8],
        entries: Vec<(ObjectId, u64)>,
        hash_len: usize,
        threads: usize,
    ) -> Survey {
        // Positions are sorted rather than the entries themselves: the order of positions is
        // kept, and entries follow it (a pack's index lists at most 2^32 entries).
        let positions: Vec<u32> = (0..entries.len()).map(|i| i as u32).collect();
        let positions = sorted_by_offset(&positions, |&p| entries[p as usize].1);
        let entries = positions.iter().map(|&p| entries[p as usize]).collect();
        let mut survey = Survey {
            entries,
            positions,
            pack_end: pack.len().saturating_sub(hash_len),
            reads: Vec::new(),
            threads,
        };
        let ends: Vec<usize> = (0..survey.entries.len()).map(|i| survey.end(i)).collect();
        survey.reads = read_all(
            pack,
            &survey.entries,
            &ends,
            hash_len,
            threads,
            survey_entry,
        );
        survey
    }

    /// Reads entries `which` (indices, by offset) whole, as [`audit_with_ends`] does: what is
    /// decoded outside the delta tree (over a size cap, a prefix at a time) must have true sizes
    /// first.
    pub fn verify(&mut self, pack: &[u8], which: &[usize], hash_len: usize) {
        let mut z = Decompress::new();
        for &i in which {
            if self.reads[i].whole {
                continue;
            }
            self.reads[i] = read_entry(pack, self.entries[i].1, self.end(i), hash_len, &mut z);
        }
    }

    /// Every entry as read so far, sorted by offset: kinds from delta chains, sizes as claimed
    /// (true where [`Audited::verified`]), damage found so far.
    pub fn audited(&self) -> Vec<Audited> {
        assemble(&self.entries, &self.reads, self.threads)
    }

    /// Each entry's position in the list given to [`Survey::new`], by offset (as
    /// [`Survey::audited`] lists them).
    pub fn positions(&self) -> &[u32] {
        &self.positions
    }

    /// Where entry `i`'s bytes end in the pack: where the next entry starts, or the checksum.
    fn end(&self, i: usize) -> usize {
        self.entries
            .get(i + 1)
            .map_or(self.pack_end, |e| {
                usize::try_from(e.1).unwrap_or(usize::MAX)
            })
            .min(self.pack_end)
    }
}

/// Reads every entry with `read` (in parallel when there are many), in the order of `entries`.
fn read_all(
    pack: &[u8],
    entries: &[(ObjectId, u64)],
    ends: &[usize],
    hash_len: usize,
    threads: usize,
    read: fn(&[u8], u64, usize, usize, &mut Decompress) -> Read,
) -> Vec<Read> {
    let read = |(i, (_, offset)): (usize, &(ObjectId, u64)), z: &mut Decompress| {
        read(pack, *offset, ends[i], hash_len, z)
    };
    // Scoped threads, all joined before this returns: the decoder that runs next starts its
    // own, and --threads bounds how many exist at once.
    let threads = if entries.len() > 64 {
        threads.max(1)
    } else {
        1
    };
    // Each worker takes the next 64 slots and fills them in place: the reads are the largest
    // thing an audit holds (about 100 bytes an entry), so they are never gathered twice.
    let mut reads: Vec<Option<Read>> = (0..entries.len()).map(|_| None).collect();
    // A worker's panic leaves its entries unread (reported below) instead of unwinding through
    // the scan.
    super::share::share_blocks(
        reads.chunks_mut(64).enumerate(),
        threads,
        Decompress::new,
        |z, (block, slots)| {
            for (k, slot) in slots.iter_mut().enumerate() {
                let i = block * 64 + k;
                *slot = Some(read((i, &entries[i]), z));
            }
        },
    );
    reads
        .into_iter()
        // Built only for an entry not read: built for each, it cost more than the rest of the
        // survey's own thread.
        .map(|r| {
            r.unwrap_or_else(|| Read {
                header: Err("not read".into()),
                delta: None,
                problem: Some("the audit of this entry failed".into()),
                whole: true,
            })
        })
        .collect()
}

/// Entries joined up per thread at a time: enough that a thread's start-up is paid back.
const ASSEMBLE_BLOCK: usize = 1 << 14;

/// The entries' reads joined up: each delta's base found, kinds and damage carried down chains.
/// The entries are joined to their bases in blocks, on up to `threads` threads when there are
/// many and no base is named by id; the chains are then resolved in order.
fn assemble(entries: &[(ObjectId, u64)], reads: &[Read], threads: usize) -> Vec<Audited> {
    let by_id_needed = || {
        reads.iter().any(|r| {
            r.header
                .as_ref()
                .is_ok_and(|h| matches!(h.stored, Stored::RefDelta { .. }))
        })
    };
    let blocks = entries.len().div_ceil(ASSEMBLE_BLOCK);
    let threads = threads.clamp(1, blocks.max(1));
    // Each slot is filled in place (one table of them: the audit is the largest thing a pass
    // holds), by blocks; each entry's join depends on the reads alone, so the outcome is the
    // one-thread outcome.
    let mut slots: Vec<Option<Audited>> = (0..entries.len()).map(|_| None).collect();
    if threads == 1 || by_id_needed() {
        join_bases(entries, reads, 0, &mut slots);
    } else {
        super::share::share_blocks(
            slots.chunks_mut(ASSEMBLE_BLOCK).enumerate(),
            threads,
            || (),
            |_, (b, block)| join_bases(entries, reads, b * ASSEMBLE_BLOCK, block),
        );
    }
    let mut out: Vec<Audited> = slots
        .into_iter()
        .map(|a| a.expect("every entry is joined"))
        .collect();
    resolve_chains(&mut out, reads);
    out
}

/// Fills `slots` with entries `start..start + slots.len()` of `entries` (with their `reads`)
/// as audited before their chains are resolved: each delta's base found by offset or by id.
fn join_bases(
    entries: &[(ObjectId, u64)],
    reads: &[Read],
    start: usize,
    slots: &mut [Option<Audited>],
) {
    // `entries` are sorted by offset: an offset is found by binary search (the last entry at it,
    // should a hostile index list two). Bases named by id are rare (thin packs), so that table
    // is built only when one is met: both tables together would add half again to the audit's
    // peak memory on a large pack.
    let by_offset = |offset: u64| {
        let end = entries.partition_point(|e| e.1 <= offset);
        end.checked_sub(1).filter(|&i| entries[i].1 == offset)
    };
    let mut by_id: Option<HashMap<ObjectId, usize>> = None;
    let range = start..start + slots.len();
    let joined = entries[range.clone()]
        .iter()
        .zip(&reads[range])
        .map(|(&(oid, offset), r)| {
            let mut problem = r.problem.clone();
            let mut base = None;
            let (kind, size) = match &r.header {
                Ok(h) => match h.stored {
                    Stored::Base(k) => (Some(k), h.claimed),
                    Stored::OfsDelta { base_offset } => {
                        base = by_offset(base_offset);
                        if base.is_none() && problem.is_none() {
                            problem = Some(format!(
                                "its delta base at offset {base_offset} is not an object of the pack"
                            ));
                        }
                        (None, r.delta.map_or(0, |d| d.1))
                    }
                    Stored::RefDelta { base: id } => {
                        base = by_id
                            .get_or_insert_with(|| {
                                entries.iter().enumerate().map(|(i, e)| (e.0, i)).collect()
                            })
                            .get(&id)
                            .copied();
                        if base.is_none() && problem.is_none() {
                            problem = Some(format!("its delta base {id} is not in the pack"));
                        }
                        (None, r.delta.map_or(0, |d| d.1))
                    }
                },
                Err(_) => (None, 0),
            };
            Audited {
                oid,
                offset,
                kind,
                size,
                // An index into `entries`, which a pack's index lists with a 32-bit count.
                base_at: base.map(|b| b as u32),
                problem: problem.map(String::into_boxed_str),
                verified: r.whole,
            }
        });
    for (slot, audited) in slots.iter_mut().zip(joined) {
        *slot = Some(audited);
    }
}

/// Gives each delta its chain's kind, checks its base's size against the size it claims, and
/// marks deltas of damaged bases (and delta cycles) damaged.
fn resolve_chains(out: &mut [Audited], reads: &[Read]) {
    // 0: not yet, 1: on the current chain, 2: done.
    let mut state = vec![0u8; out.len()];
    let mut chain = Vec::new();
    for start in 0..out.len() {
        let mut i = start;
        chain.clear();
        // Walk down to a resolved entry, a base object or a cycle.
        let mut cycle = false;
        loop {
            if state[i] == 2 {
                break;
            }
            if state[i] == 1 {
                cycle = true;
                break;
            }
            state[i] = 1;
            chain.push(i);
            match out[i].base() {
                Some(b) if out[i].problem.is_none() => i = b,
                _ => break,
            }
        }
        // Resolve from the base up.
        for &c in chain.iter().rev() {
            state[c] = 2;
            if out[c].problem.is_some() {
                continue;
            }
            if cycle {
                out[c].problem = Some("its delta chain is a cycle".into());
                continue;
            }
            let Some(b) = out[c].base() else { continue };
            if out[b].problem.is_some() {
                out[c].problem = Some(format!("its delta base {} is damaged", out[b].oid).into());
                continue;
            }
            // A delta not read whole has its base's size checked as it is decoded; one read whole
            // builds on bases read whole (or on whole objects, by their claims).
            let claimed_base = reads[c].delta.map(|d| d.0);
            if let Some(claimed_base) = claimed_base.filter(|&s| s != out[b].size) {
                out[c].problem = Some(
                    format!(
                        "its delta claims a {claimed_base}-byte base, but base {} has {} bytes",
                        out[b].oid, out[b].size
                    )
                    .into(),
                );
                continue;
            }
            out[c].kind = out[b].kind;
        }
    }
}

/// Inflates the zlib stream at the start of `input` into `out`, which must come to exactly
/// `claimed` bytes: the proof [`read_entry`] gives, given by the one inflate that decodes the
/// entry. `out` is a buffer kept between entries: it is grown to `claimed + 1` bytes (one more,
/// to see a stream that runs past its claim) and never shrunk, so reusing it costs no clearing;
/// the object is `out[..claimed]`. The caller bounds `claimed`.
pub(crate) fn inflate_exact(
    z: &mut Decompress,
    input: &[u8],
    claimed: usize,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    inflate_within(z, input, claimed, claimed + 1, out)
}

/// Output room past an object's claimed size, and input past its entry's end, that a quick
/// inflate ([`inflate_entry`]) allows: zlib's fast loop runs only while at least 258 bytes of
/// room and 15 bytes of input are left, so without them the last bytes of every stream (the
/// whole of a small commit or delta) go through its slow byte-at-a-time path.
const FAST_ROOM: usize = 320;
const FAST_INPUT: usize = 64;

/// [`inflate_exact`] for an entry of a pack: `rest` is the pack from the entry's data on,
/// `entry_len` how much of it is the entry's. The stream is first inflated with room to spare
/// (at most [`FAST_ROOM`] bytes past the claim, [`FAST_INPUT`] past the entry): when that
/// gives exactly `claimed` bytes from within the entry, it is what [`inflate_exact`] gives.
/// Anything else is decided by [`inflate_exact`] on the entry alone, so each error is the one
/// it names. `out` is grown to `claimed + 1 + FAST_ROOM` bytes.
pub(crate) fn inflate_entry(
    z: &mut Decompress,
    rest: &[u8],
    entry_len: usize,
    claimed: usize,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let entry_len = entry_len.min(rest.len());
    let ahead = &rest[..rest.len().min(entry_len.saturating_add(FAST_INPUT))];
    let room = claimed.saturating_add(1 + FAST_ROOM);
    if inflate_within(z, ahead, claimed, room, out).is_ok() && z.total_in() as usize <= entry_len {
        return Ok(());
    }
    inflate_exact(z, &rest[..entry_len], claimed, out)
}

/// Inflates the zlib stream at the start of `input` into the first `room` bytes of `out` (grown
/// to that, never shrunk), which must come to exactly `claimed` bytes (`room > claimed`).
fn inflate_within(
    z: &mut Decompress,
    input: &[u8],
    claimed: usize,
    room: usize,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    if out.len() < room {
        out.resize(room, 0);
    }
    let room = &mut out[..room];
    z.reset();
    loop {
        let (in_before, out_before) = (z.total_in() as usize, z.total_out() as usize);
        let status = z
            .decompress(
                input.get(in_before..).unwrap_or_default(),
                &mut room[out_before..],
                FlushDecompress::None,
            )
            .map_err(|_| InflateError::<String>::NotZlib.to_string())?;
        let total = z.total_out() as usize;
        if total > claimed {
            return Err(InflateError::<String>::TooLong {
                limit: claimed as u64,
            }
            .to_string());
        }
        match status {
            Status::StreamEnd if total == claimed => return Ok(()),
            Status::StreamEnd => {
                return Err(format!(
                    "its header says {claimed} bytes, its data inflates to {total}"
                ));
            }
            Status::Ok if total > out_before || z.total_in() as usize > in_before => {}
            _ => return Err(InflateError::<String>::Truncated.to_string()),
        }
    }
}

/// Applies the delta instructions `delta` (whole, inflated) to `base` (the delta's base, whole
/// and true), writing the result into `out` (a buffer kept between entries, as in
/// [`inflate_exact`]). The checks [`read_entry`] and the chain audit make, made while applying:
/// the delta's base must be `base`'s size, its result at most `max_result` bytes, every copy
/// inside the base, and the instructions must end whole, having produced exactly the result they
/// claim. Returns the result's size (the object is `out[..size]`). `base_id` names the base in
/// what goes wrong.
///
/// The instructions are read as [`DeltaReader`] reads them (the same checks, in the same order,
/// with the same errors), but straight from the slice: a delta here is always whole, and this
/// runs once per delta of a history.
pub(crate) fn apply_delta(
    base: &[u8],
    base_id: &ObjectId,
    delta: &[u8],
    max_result: u64,
    out: &mut Vec<u8>,
) -> Result<usize, String> {
    const CUT_OFF: &str = "its delta instructions are cut off";
    let mut pos = 0;
    let mut sizes = [0u64; 2];
    for size in &mut sizes {
        let mut shift = 0u32;
        loop {
            let &b = delta.get(pos).ok_or(CUT_OFF)?;
            if shift > 63 {
                return Err("delta size does not fit in 64 bits".into());
            }
            pos += 1;
            *size |= u64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    let [base_size, result_size] = sizes;
    let mut produced = 0u64;
    let mut ready = false;
    while let Some(&cmd) = delta.get(pos) {
        pos += 1;
        let mut cut = false;
        let op = if cmd & 0x80 != 0 {
            let want = (cmd & 0x7f).count_ones() as usize;
            let args = delta.get(pos..pos + want).ok_or(CUT_OFF)?;
            pos += want;
            let (offset, len) = copy_args(cmd, args);
            Op::Copy { offset, len }
        } else if cmd == 0 {
            return Err("delta has an instruction 0, which git never writes".into());
        } else {
            // An insert cut off is applied as far as it goes, then found cut off.
            let have = usize::from(cmd).min(delta.len() - pos);
            if have == 0 {
                return Err(CUT_OFF.into());
            }
            cut = have < usize::from(cmd);
            pos += have;
            Op::Insert(&delta[pos - have..pos])
        };
        if !ready {
            if base_size != base.len() as u64 {
                return Err(format!(
                    "its delta claims a {base_size}-byte base, but base {base_id} has {} bytes",
                    base.len()
                ));
            }
            if result_size > max_result {
                return Err(format!(
                    "its delta claims a {result_size}-byte result, more than credsweep decodes here ({max_result} bytes)"
                ));
            }
            let result_size = result_size as usize;
            if out.len() < result_size {
                out.resize(result_size, 0);
            }
            ready = true;
        }
        let at = produced as usize;
        check_op(&op, (base_size, result_size), &mut produced)?;
        // `check_op` bounds the copy by the base and the total by the result's size.
        let piece = match op {
            Op::Copy { offset, len } => &base[offset as usize..(offset + len) as usize],
            Op::Insert(b) => b,
        };
        out[at..produced as usize].copy_from_slice(piece);
        if cut {
            return Err(CUT_OFF.into());
        }
    }
    if produced != result_size {
        return Err(format!(
            "its delta claims a {result_size}-byte result, its instructions produce {produced}"
        ));
    }
    if result_size > max_result {
        // No instruction ran, so the sizes were not checked above.
        return Err(format!(
            "its delta claims a {result_size}-byte result, more than credsweep decodes here ({max_result} bytes)"
        ));
    }
    if !ready && base_size != base.len() as u64 {
        return Err(format!(
            "its delta claims a {base_size}-byte base, but base {base_id} has {} bytes",
            base.len()
        ));
    }
    Ok(produced as usize)
}

/// Decodes entry `i` (audited, without problems) of `pack` to at most `want` bytes: a base
/// object in windows, a delta by applying its instructions to its fully decoded base, whose size
/// the audit found true. `full_limit` bounds the size of any base that must be held whole.
/// `cache` keeps the last base decoded, so a chain of large objects is decoded once.
pub fn decode_prefix(
    pack: &[u8],
    audit: &[Audited],
    i: usize,
    want: u64,
    full_limit: u64,
    hash_len: usize,
    cache: &mut Option<(usize, Vec<u8>)>,
) -> Result<Vec<u8>, String> {
    let mut z = Decompress::new();
    // The chain from `i` down to a base object, or to an entry whose base is cached.
    let cached = cache.as_ref().map(|(c, _)| *c);
    let mut chain = vec![i];
    let mut cur = i;
    while let Some(b) = audit[cur].base() {
        if Some(b) == cached {
            break;
        }
        if chain.len() > audit.len() {
            return Err("its delta chain is a cycle".into());
        }
        chain.push(b);
        cur = b;
    }
    let mut prev: Option<Vec<u8>> = None;
    let mut base_of_i = None;
    for (n, &c) in chain.iter().enumerate().rev() {
        if n > 0 && audit[c].size > full_limit {
            return Err(format!(
                "its delta base {} has {} bytes, more than the {full_limit} credsweep decodes whole",
                audit[c].oid, audit[c].size
            ));
        }
        let keep = if n == 0 {
            audit[c].size.min(want)
        } else {
            audit[c].size
        } as usize;
        let h = parse_header(pack, audit[c].offset, hash_len)?;
        let end = audit
            .get(c + 1)
            .map_or(pack.len(), |e| {
                usize::try_from(e.offset).unwrap_or(usize::MAX)
            })
            .min(pack.len());
        let data = pack.get(h.data_start..end).unwrap_or_default();
        let mut out = Vec::with_capacity(keep);
        // `Stop::Enough` stops inflating once `keep` bytes are out: the audit read the rest.
        let result = match h.stored {
            Stored::Base(_) => inflate_each(&mut z, data, h.claimed, &mut |chunk| {
                let room = keep - out.len();
                out.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if out.len() == keep {
                    Err(Stop::Enough)
                } else {
                    Ok(())
                }
            }),
            _ => {
                let base: &[u8] = match (&prev, &*cache) {
                    (Some(p), _) => p,
                    (None, Some((_, bytes))) => bytes,
                    (None, None) => return Err("its delta base could not be decoded".into()),
                };
                let mut reader = DeltaReader::default();
                inflate_each(&mut z, data, h.claimed, &mut |chunk| {
                    reader.feed(chunk, &mut |op, _| {
                        let room = keep - out.len();
                        match op {
                            Op::Copy { offset, len } => {
                                let s = usize::try_from(offset).unwrap_or(usize::MAX);
                                let e = s.saturating_add(len as usize);
                                let piece = base.get(s..e).ok_or("a copy outside its base")?;
                                out.extend_from_slice(&piece[..piece.len().min(room)]);
                            }
                            Op::Insert(b) => out.extend_from_slice(&b[..b.len().min(room)]),
                        }
                        if out.len() == keep {
                            Err(Stop::Enough)
                        } else {
                            Ok(())
                        }
                    })
                })
            }
        };
        match result {
            Err(e) if !matches!(e, InflateError::Sink(Stop::Enough)) => return Err(e.to_string()),
            _ if out.len() != keep => {
                return Err(format!("decodes to {} bytes, not {keep}", out.len()));
            }
            _ => {}
        }
        if n == 1 {
            base_of_i = Some((c, out.clone()));
        }
        prev = Some(out);
    }
    if let Some(b) = base_of_i {
        *cache = Some(b);
    }
    prev.ok_or_else(|| "nothing decoded".into())
}

/// zlib's best case: about 1032 bytes out per byte in (deflate's longest match, 258 bytes, in
/// two bits); with room for headers.
pub(crate) fn inflatable(compressed: u64) -> u64 {
    compressed.saturating_mul(1032).saturating_add(1024)
}

/// Decodes a loose object's file: its header (`<kind> <size>\0`) is checked before anything is
/// allocated (a size its compressed bytes cannot hold, or a non-blob over `max_other`, is
/// refused), the data must inflate to exactly that size, and a blob is kept to its first
/// `max_blob` bytes. Returns the kind, the (kept) data and the whole size.
pub fn decode_loose(
    compressed: &[u8],
    max_blob: u64,
    max_other: u64,
) -> Result<(Kind, Vec<u8>, u64), String> {
    decode_loose_from(compressed, compressed.len() as u64, max_blob, max_other)
}

/// [`decode_loose`] of a file of `len` bytes, read from `file` piece by piece.
pub(crate) fn decode_loose_from(
    file: impl std::io::Read,
    len: u64,
    max_blob: u64,
    max_other: u64,
) -> Result<(Kind, Vec<u8>, u64), String> {
    let mut z = Decompress::new();
    let mut head = Vec::new();
    let mut kind_size: Option<(Kind, u64)> = None;
    let mut out = Vec::new();
    let mut total = 0u64;
    let limit = inflatable(len);
    inflate_reader(&mut z, file, limit, &mut |mut chunk| {
        if kind_size.is_none() {
            let nul = chunk.iter().position(|&b| b == 0);
            let take = nul.map_or(chunk.len(), |p| p + 1);
            head.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
            if nul.is_none() {
                return if head.len() > 64 {
                    Err("its header is not an object header".into())
                } else {
                    Ok(())
                };
            }
            let (kind, size, _) = gix::objs::decode::loose_header(&head)
                .map_err(|_| "its header is not an object header".to_string())?;
            if size > limit {
                return Err(format!(
                    "its header claims {size} bytes, more than its {len} compressed bytes can hold"
                ));
            }
            if kind != Kind::Blob && size > max_other {
                return Err(format!(
                    "it is a {kind} of {size} bytes, more than credsweep reads for one ({max_other} bytes)"
                ));
            }
            out.reserve(size.min(max_blob) as usize);
            kind_size = Some((kind, size));
        }
        let Some((kind, size)) = kind_size else {
            return Ok(());
        };
        total += chunk.len() as u64;
        if total > size {
            return Err(format!(
                "its header says {size} bytes, its data inflates to more"
            ));
        }
        let keep = if kind == Kind::Blob { max_blob } else { size };
        let room = usize::try_from(keep).unwrap_or(usize::MAX).saturating_sub(out.len());
        out.extend_from_slice(&chunk[..chunk.len().min(room)]);
        Ok(())
    })
    .map_err(|e| match e {
        // Before the header is read, the limit is what the compressed bytes can hold.
        InflateError::TooLong { .. } if kind_size.is_none() => {
            "its data is longer than zlib can expand its compressed bytes to".to_string()
        }
        e => e.to_string(),
    })?;
    let (kind, size) = kind_size.ok_or("its data ends inside its header")?;
    if total != size {
        return Err(format!(
            "its header says {size} bytes, its data inflates to {total}"
        ));
    }
    Ok((kind, out, size))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ops of `delta` fed `step` bytes at a time (an insert split across pieces joined).
    fn ops(delta: &[u8], step: usize) -> (Vec<String>, bool) {
        let mut r = DeltaReader::default();
        let mut seen: Vec<String> = Vec::new();
        for chunk in delta.chunks(step) {
            r.feed::<String>(chunk, &mut |op, sizes| {
                match op {
                    Op::Copy { offset, len } => {
                        seen.push(format!("copy {offset}+{len} of {}", sizes.0))
                    }
                    Op::Insert(b) => {
                        let b = String::from_utf8_lossy(b);
                        match seen.last_mut() {
                            Some(last) if last.starts_with("insert ") => last.push_str(&b),
                            _ => seen.push(format!("insert {b}")),
                        }
                    }
                }
                Ok(())
            })
            .unwrap();
        }
        (seen, r.complete())
    }

    #[test]
    fn delta_instructions_read_the_same_in_any_pieces() {
        // Base 300 bytes, result 65,576; copy 0x10000 (size bits 0) from 0; copy 35 from 258;
        // insert "hello".
        let mut delta = vec![0xac, 0x02, 0xa8, 0x80, 0x04];
        delta.extend([0x80, 0x93, 0x02, 0x01, 0x23]);
        delta.extend(b"\x05hello");
        let (whole, done) = ops(&delta, delta.len());
        assert!(done);
        assert_eq!(
            whole,
            ["copy 0+65536 of 300", "copy 258+35 of 300", "insert hello"]
        );
        for step in 1..delta.len() {
            assert_eq!(ops(&delta, step), (whole.clone(), true), "step {step}");
        }
        // Cut inside an instruction: not complete.
        assert!(!ops(&delta[..8], 3).1);
        assert!(!ops(&delta[..12], 3).1);
        // Instruction 0 is refused.
        let mut r = DeltaReader::default();
        assert!(r.feed::<String>(&[1, 1, 0], &mut |_, _| Ok(())).is_err());
    }

    #[test]
    fn entry_headers_that_lie_about_their_place() {
        // An ofs-delta at offset 12 whose base is 127 bytes back: before the pack.
        let mut pack = vec![0u8; 12];
        pack.extend([0x65, 0x7f]);
        assert!(
            parse_header(&pack, 12, 20)
                .unwrap_err()
                .contains("before the pack")
        );
        // A size that does not fit in 64 bits.
        let pack = [
            0xb0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
        ];
        assert!(parse_header(&pack, 0, 20).is_err());
        // Type 5 exists nowhere.
        assert!(parse_header(&[0x50], 0, 20).unwrap_err().contains("type 5"));
        assert!(parse_header(&[], 0, 20).is_err());
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut w =
            gix::zlib::stream::deflate::Write::new(Vec::new(), gix::zlib::Compression::DEFAULT);
        w.write_all(data).unwrap();
        w.flush().unwrap();
        w.into_inner()
    }

    #[test]
    fn inflating_once_proves_the_claimed_size() {
        let data = b"some text to compress, some text to compress\n".repeat(20);
        let z = &mut Decompress::new();
        let stream = zlib(&data);
        // A buffer kept from a larger object: what lies past the claim is not read.
        let mut out = vec![7u8; 5000];
        inflate_exact(z, &stream, data.len(), &mut out).unwrap();
        assert_eq!(&out[..data.len()], &data[..]);
        let n = data.len();
        assert_eq!(
            inflate_exact(z, &stream, n + 10, &mut out).unwrap_err(),
            format!("its header says {} bytes, its data inflates to {n}", n + 10)
        );
        assert_eq!(
            inflate_exact(z, &stream, n - 1, &mut Vec::new()).unwrap_err(),
            format!("its header says {} bytes, its data inflates to more", n - 1)
        );
        assert_eq!(
            inflate_exact(z, &stream[..stream.len() / 2], n, &mut out).unwrap_err(),
            "its data ends before its zlib stream does"
        );
        assert_eq!(
            inflate_exact(z, b"not zlib at all", n, &mut out).unwrap_err(),
            "its data is not valid zlib"
        );
        // The same stream again, after the failures: the state was reset.
        inflate_exact(z, &stream, n, &mut out).unwrap();
        assert_eq!(&out[..n], &data[..]);
    }

    /// [`apply_delta`] as it was written over [`DeltaReader`], which reads instructions in
    /// pieces (as the audit does): the reference that its reading straight from the slice must
    /// agree with, result and error alike.
    fn apply_delta_by_reader(
        base: &[u8],
        base_id: &ObjectId,
        delta: &[u8],
        max_result: u64,
        out: &mut Vec<u8>,
    ) -> Result<usize, String> {
        let mut reader = DeltaReader::default();
        let mut produced = 0u64;
        let mut ready = false;
        let mut apply = |op: Op<'_>, sizes: (u64, u64)| -> Result<(), String> {
            if !ready {
                let (base_size, result_size) = sizes;
                if base_size != base.len() as u64 {
                    return Err(format!(
                        "its delta claims a {base_size}-byte base, but base {base_id} has {} bytes",
                        base.len()
                    ));
                }
                if result_size > max_result {
                    return Err(format!(
                        "its delta claims a {result_size}-byte result, more than credsweep decodes here ({max_result} bytes)"
                    ));
                }
                let result_size = result_size as usize;
                if out.len() < result_size {
                    out.resize(result_size, 0);
                }
                ready = true;
            }
            let at = produced as usize;
            check_op(&op, sizes, &mut produced)?;
            // `check_op` bounds the copy by the base and the total by the result's size.
            let piece = match op {
                Op::Copy { offset, len } => &base[offset as usize..(offset + len) as usize],
                Op::Insert(b) => b,
            };
            out[at..produced as usize].copy_from_slice(piece);
            Ok(())
        };
        reader.feed(delta, &mut apply)?;
        let Some((_, result_size)) = reader.header().filter(|_| reader.complete()) else {
            return Err("its delta instructions are cut off".into());
        };
        if produced != result_size {
            return Err(format!(
                "its delta claims a {result_size}-byte result, its instructions produce {produced}"
            ));
        }
        if result_size > max_result {
            // No instruction ran, so the sizes were not checked above.
            return Err(format!(
                "its delta claims a {result_size}-byte result, more than credsweep decodes here ({max_result} bytes)"
            ));
        }
        if !ready && reader.header().is_some_and(|(b, _)| b != base.len() as u64) {
            let (base_size, _) = reader.header().unwrap_or_default();
            return Err(format!(
                "its delta claims a {base_size}-byte base, but base {base_id} has {} bytes",
                base.len()
            ));
        }
        Ok(produced as usize)
    }

    /// Deltas over `base` (16 bytes): good ones of each instruction form, and every way of
    /// cutting and corrupting them one byte at a time.
    fn delta_variants() -> Vec<Vec<u8>> {
        let good: [&[u8]; 6] = [
            &[16, 6, 0x91, 10, 4, 2, b'!', b'!'],
            &[16, 0],
            // A copy with no argument bytes: 0x10000 bytes from offset 0.
            &[16, 1, 0x80],
            &[16, 16, 0x90, 16],
            &[
                16, 20, 4, b'a', b'b', b'c', b'd', 0xb3, 2, 0, 12, 0, 4, b'w', b'x', b'y', b'z',
            ],
            // Sizes of more than one byte, and one that does not fit in 64 bits.
            &[0x90, 0x80, 0x00, 0x83, 0x00, 1, b'z', 1, b'z', 1, b'z'],
        ];
        let mut all = vec![vec![0x80; 12], vec![16]];
        for g in good {
            for cut in 0..=g.len() {
                all.push(g[..cut].to_vec());
            }
            for i in 0..g.len() {
                for v in [0u8, 1, 3, 7, 16, 0x7f, 0x80, 0x81, 0x91, 0xff] {
                    let mut d = g.to_vec();
                    d[i] = v;
                    all.push(d);
                }
            }
        }
        all
    }

    #[test]
    fn a_delta_read_from_its_slice_reads_as_the_piecewise_reader_reads_it() {
        let base = b"0123456789abcdef";
        let id = ObjectId::null(gix::hash::Kind::Sha1);
        let variants = delta_variants();
        let mut errors = std::collections::HashSet::new();
        for delta in &variants {
            for max in [0, 5, 6, 100, 1 << 20] {
                let (mut fast, mut slow) = (vec![b'x'; 8], vec![b'x'; 8]);
                let a = apply_delta(base, &id, delta, max, &mut fast);
                let b = apply_delta_by_reader(base, &id, delta, max, &mut slow);
                assert_eq!(a, b, "delta {delta:?}, at most {max} bytes");
                if let Ok(n) = a {
                    assert_eq!(fast[..n], slow[..n], "delta {delta:?}");
                }
                if let Err(e) = a {
                    errors.insert(e.split(' ').take(4).collect::<Vec<_>>().join(" "));
                }
            }
        }
        // Every kind of damage was met, so the comparison covers each error's place.
        for e in [
            "its delta instructions are",
            "delta size does not",
            "delta has an instruction",
            "its delta claims a",
            "a delta instruction copies",
            "its delta instructions produce",
        ] {
            assert!(errors.iter().any(|x| x.starts_with(e)), "{e} in {errors:?}");
        }
    }

    #[test]
    fn an_entry_inflated_with_room_to_spare_gives_what_the_exact_inflate_gives() {
        let data = b"some text to compress, some text to compress\n".repeat(20);
        let small = b"tree 1234\nparent 5678\n".to_vec();
        let z = &mut Decompress::new();
        for object in [&data, &small, &Vec::new()] {
            let stream = zlib(object);
            // The entry is followed by more of the pack: another stream, or noise.
            for next in [zlib(b"the next entry"), vec![0xff; 100], Vec::new()] {
                let mut pack = stream.clone();
                pack.extend_from_slice(&next);
                let n = object.len();
                for entry_len in [stream.len(), stream.len() - 1, stream.len() / 2, 0] {
                    for claimed in [n, n + 1, n.saturating_sub(1), n + 400] {
                        let (mut fast, mut exact) = (Vec::new(), vec![7u8; 3]);
                        let a = inflate_entry(z, &pack, entry_len, claimed, &mut fast);
                        let b = inflate_exact(z, &pack[..entry_len], claimed, &mut exact);
                        assert_eq!(a, b, "{n} bytes, entry {entry_len}, claim {claimed}");
                        if a.is_ok() {
                            assert_eq!(fast[..claimed], exact[..claimed]);
                            assert_eq!(&fast[..claimed], &object[..]);
                        }
                    }
                }
            }
        }
        // A stream that ends only in the next entry's bytes is cut off: the entry's own bytes
        // decide.
        let stream = zlib(&data);
        assert_eq!(
            inflate_entry(z, &stream, stream.len() - 6, data.len(), &mut Vec::new()).unwrap_err(),
            "its data ends before its zlib stream does"
        );
    }

    #[test]
    fn applying_a_delta_checks_what_the_audit_checks() {
        let base = b"0123456789abcdef";
        let id = ObjectId::null(gix::hash::Kind::Sha1);
        let mut out = vec![b'x'; 64];
        // Copy 4 bytes from offset 10, insert "!!": "abcd!!".
        let good = [16, 6, 0x91, 10, 4, 2, b'!', b'!'];
        assert_eq!(apply_delta(base, &id, &good, 100, &mut out), Ok(6));
        assert_eq!(&out[..6], b"abcd!!");
        let fails = |delta: &[u8], max: u64| apply_delta(base, &id, delta, max, &mut Vec::new());
        assert!(
            fails(&good, 5)
                .unwrap_err()
                .contains("6-byte result, more than")
        );
        // A copy past the base's end.
        let outside = [16, 6, 0x91, 14, 4, 2, b'!', b'!'];
        assert!(
            fails(&outside, 100)
                .unwrap_err()
                .contains("copies bytes 14..18")
        );
        // Sizes that lie: the base's, the result's (both ways), and an instruction cut off.
        assert!(
            fails(&[17, 6, 0x91, 10, 4, 2, b'!', b'!'], 100)
                .unwrap_err()
                .contains("claims a 17-byte base")
        );
        assert!(
            fails(&[16, 7, 0x91, 10, 4, 2, b'!', b'!'], 100)
                .unwrap_err()
                .contains("produce 6")
        );
        assert!(
            fails(&[16, 5, 0x91, 10, 4, 2, b'!', b'!'], 100)
                .unwrap_err()
                .contains("produce more than the 5 bytes")
        );
        assert_eq!(
            fails(&good[..7], 100).unwrap_err(),
            "its delta instructions are cut off"
        );
        // No instruction at all: the sizes are still checked.
        assert!(fails(&[17, 0], 100).unwrap_err().contains("17-byte base"));
        assert_eq!(apply_delta(base, &id, &[16, 0], 100, &mut out), Ok(0));
    }

    #[test]
    fn a_survey_takes_claims_on_trust_and_a_verify_proves_them() {
        // A 12-byte pack header, a blob claiming 10 bytes more than it holds, a 20-byte trailer.
        let data = b"hello, plain text\n".repeat(3);
        let mut pack = vec![0u8; 12];
        let claimed = data.len() as u64 + 10;
        pack.push(0xb0 | (claimed & 15) as u8);
        pack.push((claimed >> 4) as u8);
        pack.extend(zlib(&data));
        pack.extend([0u8; 20]);
        let id = ObjectId::null(gix::hash::Kind::Sha1);
        let mut survey = Survey::new(&pack, vec![(id, 12)], 20, 1);
        let a = &survey.audited()[0];
        assert!(a.problem.is_none() && !a.verified && a.size == claimed);
        survey.verify(&pack, &[0], 20);
        let a = &survey.audited()[0];
        assert!(a.verified);
        assert!(
            a.problem
                .as_deref()
                .is_some_and(|p| p.contains(&format!("header says {claimed} bytes"))),
            "{a:?}"
        );
    }

    /// A small deterministic generator for the tests' made-up packs.
    fn xorshift(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    #[test]
    fn sorting_by_offset_is_a_stable_sort() {
        let mut seed = 0x9e37_79b9_7f4a_7c15;
        // Offsets with many ties, below 2^32 (64-bit keys) and some above (128-bit keys).
        for wide in [false, true] {
            let items: Vec<(u32, u64)> = (0..5000u32)
                .map(|i| {
                    let o = xorshift(&mut seed) % 700;
                    (i, if wide && i % 7 == 0 { o << 40 } else { o })
                })
                .collect();
            let mut stable = items.clone();
            stable.sort_by_key(|e| e.1);
            assert_eq!(sorted_by_offset(&items, |e| e.1), stable, "wide: {wide}");
        }
        assert!(sorted_by_offset(&[] as &[(u32, u64)], |e| e.1).is_empty());
    }

    #[test]
    fn assembling_on_several_threads_gives_the_one_thread_outcome() {
        // Enough entries for several blocks: whole objects, deltas on earlier entries (chains,
        // bases that are not entries, damaged bases), unreadable headers.
        let n = ASSEMBLE_BLOCK * 2 + 1234;
        let mut seed = 42u64;
        let entries: Vec<(ObjectId, u64)> = (0..n)
            .map(|i| {
                let mut id = [0u8; 20];
                id[..8].copy_from_slice(&(i as u64).to_be_bytes());
                (ObjectId::from_bytes_or_panic(&id), 12 + 10 * i as u64)
            })
            .collect();
        let reads: Vec<Read> = (0..n)
            .map(|i| {
                let roll = xorshift(&mut seed);
                let header = match roll % 10 {
                    0 => Err("cut".to_string()),
                    1..=3 => Ok(Stored::Base(Kind::Blob)),
                    4 => Ok(Stored::Base(Kind::Tree)),
                    _ if i == 0 => Ok(Stored::Base(Kind::Commit)),
                    // A base before it, or now and then an offset no entry starts at.
                    r => {
                        let b = (roll >> 8) as usize % i;
                        let off = 12 + 10 * b as u64 + u64::from(r == 9 && roll.is_multiple_of(3));
                        Ok(Stored::OfsDelta { base_offset: off })
                    }
                };
                let header = header.map(|stored| Header {
                    stored,
                    claimed: roll % 1000,
                    data_start: 0,
                });
                Read {
                    delta: header
                        .as_ref()
                        .ok()
                        .filter(|h| !matches!(h.stored, Stored::Base(_)))
                        .map(|_| (roll % 1000, roll % 777)),
                    problem: roll.is_multiple_of(97).then(|| "damaged".to_string()),
                    whole: roll.is_multiple_of(2),
                    header,
                }
            })
            .collect();
        let one = format!("{:?}", assemble(&entries, &reads, 1));
        for threads in [2, 3, 8] {
            assert_eq!(format!("{:?}", assemble(&entries, &reads, threads)), one);
        }
        // Deltas found their bases, and damage went down chains.
        let audited = assemble(&entries, &reads, 2);
        assert!(audited.iter().filter(|a| a.base().is_some()).count() > n / 3);
        assert!(audited.iter().any(|a| {
            a.problem
                .as_deref()
                .is_some_and(|p| p.contains("is damaged"))
        }));
    }

    #[test]
    fn inflatable_bounds_a_claim() {
        assert!(inflatable(53) < 60_000);
        assert_eq!(inflatable(u64::MAX), u64::MAX);
    }
}
