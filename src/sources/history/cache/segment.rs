//! One cache file (a segment): what one run learned (blobs and messages scanned clean, trees
//! holding nothing of interest), or a compaction merged, under one key. Ids and counts only,
//! never content.
//!
//! Layout (little-endian):
//!
//! | bytes | what |
//! |-------|------|
//! | 8     | magic `CSWBLOBS` |
//! | 4     | [`super::CACHE_FORMAT`] |
//! | 32    | the key ([`super::Key`]) the blobs were scanned under |
//! | 8     | `n`, the number of records |
//! | 36 × n | records: object id (20), bytes (8), findings allowed (4), scanned, binary, binary scanned as strings (1 each), what the record says (1: 0 a blob scanned clean, 1 a commit or tag message scanned clean, 2 a tree holding nothing of interest, its counts zero; 3 a commit whose message was scanned clean, then 4 its tree, then 5 each of its parents in order, see below) |
//! | 32    | SHA-256 of everything before it |
//!
//! A commit ([`Fact::Commit`]) takes `2 + p` consecutive records: kind 3 (the commit's id and its
//! message's counts), kind 4 (the id of its tree; in place of bytes, its committer time as a
//! two's-complement `i64`; in place of findings allowed, `p`, its number of parents; the rest
//! zero), then `p` records of kind 5 (the id of each parent, in order; the rest zero).
//!
//! A file that does not parse exactly (magic, format, key, length, checksum) is not used.

use gix::ObjectId;
use sha2::{Digest, Sha256};

use super::{CACHE_FORMAT, CommitFacts, Counts, Fact, Key};

const MAGIC: &[u8; 8] = b"CSWBLOBS";
const HEADER: usize = 8 + 4 + 32 + 8;
const RECORD: usize = 36;
const TRAILER: usize = 32;

/// The size of a segment of `n` records.
pub(super) fn size_of(n: usize) -> u64 {
    (HEADER + TRAILER) as u64 + RECORD as u64 * n as u64
}

/// How many records fit in a segment of at most `bytes`.
pub(super) fn records_within(bytes: u64) -> usize {
    usize::try_from(bytes.saturating_sub((HEADER + TRAILER) as u64) / RECORD as u64)
        .unwrap_or(usize::MAX)
}

/// The bytes of a segment holding `records` under `key`.
pub(super) fn encode(key: &Key, records: &[(ObjectId, Fact)]) -> Vec<u8> {
    let n: usize = records.iter().map(|(_, f)| f.records()).sum();
    let mut out = open_frame(MAGIC, key, n, size_of(n));
    let mut put = |id: &gix::oid, c: Counts, what: u8| {
        out.extend_from_slice(id.as_bytes());
        out.extend_from_slice(&c.bytes.to_le_bytes());
        out.extend_from_slice(&c.allowed.to_le_bytes());
        out.extend_from_slice(&[c.scanned, c.binary, c.binary_strings, what]);
    };
    for (id, fact) in records {
        match fact {
            Fact::Blob(c) => put(id, *c, 0),
            Fact::Message(c) => put(id, *c, 1),
            Fact::Tree => put(id, Counts::default(), 2),
            Fact::Commit(c) => {
                put(id, c.message, 3);
                let tree = Counts {
                    bytes: c.time as u64,
                    allowed: u32::try_from(c.parents.len()).unwrap_or(u32::MAX),
                    ..Counts::default()
                };
                put(&c.tree, tree, 4);
                for p in &c.parents {
                    put(p, Counts::default(), 5);
                }
            }
        }
    }
    seal_frame(out)
}

/// The header every cache file starts with (`magic`, format, `key`, `n` records), in a buffer
/// of `capacity` bytes: the records follow, then [`seal_frame`].
pub(super) fn open_frame(magic: &[u8; 8], key: &Key, n: usize, capacity: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    out.extend_from_slice(magic);
    out.extend_from_slice(&CACHE_FORMAT.to_le_bytes());
    out.extend_from_slice(&key.0);
    out.extend_from_slice(&(n as u64).to_le_bytes());
    out
}

/// `out` with the SHA-256 of everything in it appended.
pub(super) fn seal_frame(mut out: Vec<u8>) -> Vec<u8> {
    let sum = Sha256::digest(&out);
    out.extend_from_slice(&sum);
    out
}

/// The records of a cache file `bytes` (`record` bytes each) after checking that it is a whole
/// file of `magic`, this format and `key`: its length matches its count (`what` names the count
/// in the error) and its checksum its content.
pub(super) fn framed_records<'a>(
    bytes: &'a [u8],
    magic: &[u8; 8],
    key: &Key,
    record: usize,
    what: &'static str,
) -> Result<&'a [u8], Invalid> {
    if bytes.len() < HEADER + TRAILER || &bytes[..8] != magic {
        return Err(Invalid::Foreign);
    }
    if bytes[8..12] != CACHE_FORMAT.to_le_bytes() {
        return Err(Invalid::Foreign);
    }
    let n = u64::from_le_bytes(bytes[44..52].try_into().expect("8 bytes"));
    let expected = usize::try_from(n)
        .ok()
        .and_then(|n| n.checked_mul(record))
        .and_then(|r| r.checked_add(HEADER + TRAILER));
    if expected != Some(bytes.len()) {
        return Err(Invalid::Damaged(what));
    }
    let (body, sum) = bytes.split_at(bytes.len() - TRAILER);
    if Sha256::digest(body)[..] != sum[..] {
        return Err(Invalid::Damaged("checksum mismatch"));
    }
    if bytes[12..44] != key.0 {
        return Err(Invalid::OtherKey);
    }
    Ok(&body[HEADER..])
}

/// Why a file is not a usable segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Invalid {
    /// Not a credsweep cache file, or one of another format version.
    Foreign,
    /// A segment of another key: a stray file (keys have a directory each).
    OtherKey,
    /// Cut short, too long, or not what its checksum says.
    Damaged(&'static str),
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Invalid::Foreign => f.write_str("not a credsweep cache file of this version"),
            Invalid::OtherKey => f.write_str("written under another key"),
            Invalid::Damaged(why) => write!(f, "damaged ({why})"),
        }
    }
}

/// The records of segment `bytes`, checked to be a whole segment of `key`; each is passed to
/// `each`.
pub(super) fn decode(
    bytes: &[u8],
    key: &Key,
    mut each: impl FnMut(ObjectId, Fact),
) -> Result<usize, Invalid> {
    let body = framed_records(
        bytes,
        MAGIC,
        key,
        RECORD,
        "its length does not match its record count",
    )?;
    // Read whole before any record is handed over: a file is used entirely or not at all.
    let mut facts = Vec::new();
    let mut records = body.chunks_exact(RECORD).map(|r| {
        let id = ObjectId::from_bytes_or_panic(&r[..20]);
        let counts = Counts {
            bytes: u64::from_le_bytes(r[20..28].try_into().expect("8 bytes")),
            allowed: u32::from_le_bytes(r[28..32].try_into().expect("4 bytes")),
            scanned: r[32],
            binary: r[33],
            binary_strings: r[34],
        };
        (id, counts, r[35])
    });
    let unknown = Invalid::Damaged("a record of an unknown kind");
    let cut = Invalid::Damaged("a commit's records cut short");
    while let Some((id, counts, what)) = records.next() {
        let fact = match what {
            0 => Fact::Blob(counts),
            1 => Fact::Message(counts),
            2 => Fact::Tree,
            3 => {
                let Some((tree, t, 4)) = records.next() else {
                    return Err(cut);
                };
                let n = t.allowed as usize;
                if n > super::MAX_CACHED_PARENTS {
                    return Err(Invalid::Damaged("a commit with too many parents"));
                }
                let mut parents = Vec::with_capacity(n);
                for _ in 0..n {
                    match records.next() {
                        Some((p, _, 5)) => parents.push(p),
                        _ => return Err(cut),
                    }
                }
                Fact::Commit(Box::new(CommitFacts {
                    message: counts,
                    tree,
                    parents: parents.into_boxed_slice(),
                    time: t.bytes as i64,
                }))
            }
            // A tree or parent record with no commit before it.
            4 | 5 => return Err(cut),
            _ => return Err(unknown),
        };
        facts.push((id, fact));
    }
    let count = facts.len();
    for (id, fact) in facts {
        each(id, fact);
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records() -> Vec<(ObjectId, Fact)> {
        (0u8..6)
            .map(|i| {
                let counts = Counts {
                    bytes: 1000 + u64::from(i),
                    allowed: u32::from(i),
                    scanned: 1,
                    binary: 0,
                    binary_strings: i % 2,
                };
                let fact = match i {
                    0 | 1 => Fact::Blob(counts),
                    2 => Fact::Message(counts),
                    3 => Fact::Tree,
                    _ => Fact::Commit(Box::new(CommitFacts {
                        message: counts,
                        tree: ObjectId::from_bytes_or_panic(&[40 + i; 20]),
                        parents: (0..i - 3)
                            .map(|p| ObjectId::from_bytes_or_panic(&[50 + p; 20]))
                            .collect(),
                        time: -7 * i64::from(i),
                    })),
                };
                (ObjectId::from_bytes_or_panic(&[i; 20]), fact)
            })
            .collect()
    }

    fn read(bytes: &[u8], key: &Key) -> Result<Vec<(ObjectId, Fact)>, Invalid> {
        let mut out = Vec::new();
        decode(bytes, key, |id, c| out.push((id, c)))?;
        Ok(out)
    }

    #[test]
    fn round_trips_and_refuses_any_damage() {
        let key = Key([7; 32]);
        let bytes = encode(&key, &records());
        // Two commits, with one and two parents: 3 and 4 records.
        assert_eq!(bytes.len() as u64, size_of(4 + 3 + 4));
        assert_eq!(read(&bytes, &key).unwrap(), records());
        assert_eq!(read(&bytes, &Key([8; 32])), Err(Invalid::OtherKey));
        // Every truncation and every flipped byte is refused.
        for len in 0..bytes.len() {
            assert!(read(&bytes[..len], &key).is_err(), "cut at {len}");
        }
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x40;
            assert!(read(&b, &key).is_err(), "flipped byte {i}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(read(&longer, &key).is_err());
        // A whole file, checksum and all, with a record of a kind this version does not know.
        let mut body = bytes[..bytes.len() - TRAILER].to_vec();
        body[HEADER + RECORD + 35] = 6;
        assert_eq!(
            read(&seal_frame(body), &key),
            Err(Invalid::Damaged("a record of an unknown kind"))
        );
        // Whole files, checksum and all, whose commit records do not follow each other as they
        // must: a parent record in place of the tree's, a commit cut before its last parent.
        let at = |r: usize| HEADER + RECORD * r + 35;
        let mut body = bytes[..bytes.len() - TRAILER].to_vec();
        body[at(5)] = 5;
        assert_eq!(
            read(&seal_frame(body), &key),
            Err(Invalid::Damaged("a commit's records cut short"))
        );
        let mut body = bytes[..bytes.len() - TRAILER].to_vec();
        body[at(10)] = 0;
        assert_eq!(
            read(&seal_frame(body), &key),
            Err(Invalid::Damaged("a commit's records cut short"))
        );
    }

    #[test]
    fn record_capacity_matches_size() {
        assert_eq!(records_within(size_of(5)), 5);
        assert_eq!(records_within(size_of(5) - 1), 4);
        assert_eq!(records_within(10), 0);
    }
}
