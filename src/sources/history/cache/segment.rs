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
    let (body, sum) = frame(bytes, magic, record, what)?;
    if Sha256::digest(body)[..] != sum[..] {
        return Err(Invalid::Damaged("checksum mismatch"));
    }
    keyed(body, key)
}

/// A cache file `bytes` split into what its checksum covers and the checksum, after checking
/// that it is a file of `magic` and this format whose length matches its count of `record`-byte
/// records (`what` names the count in the error). The checksum is not checked.
fn frame<'a>(
    bytes: &'a [u8],
    magic: &[u8; 8],
    record: usize,
    what: &'static str,
) -> Result<(&'a [u8], &'a [u8]), Invalid> {
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
    Ok(bytes.split_at(bytes.len() - TRAILER))
}

/// The records of `body` (a file's checksummed part, its checksum checked) if it is of `key`.
fn keyed<'a>(body: &'a [u8], key: &Key) -> Result<&'a [u8], Invalid> {
    if body[12..44] != key.0 {
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

/// The facts of one segment, by kind, each kind in the order of the file.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Records {
    pub blobs: Vec<(ObjectId, Counts)>,
    pub messages: Vec<(ObjectId, Counts)>,
    pub trees: Vec<ObjectId>,
    pub commits: Vec<(ObjectId, CommitFacts)>,
}

impl Records {
    /// How many facts (a commit's several records are one).
    pub fn len(&self) -> usize {
        self.blobs.len() + self.messages.len() + self.trees.len() + self.commits.len()
    }

    /// Every fact, one kind after another (blobs, messages, trees, commits), each kind in the
    /// order of the file.
    pub fn into_facts(self) -> impl Iterator<Item = (ObjectId, Fact)> {
        let blobs = self.blobs.into_iter().map(|(id, c)| (id, Fact::Blob(c)));
        let messages = self
            .messages
            .into_iter()
            .map(|(id, c)| (id, Fact::Message(c)));
        let trees = self.trees.into_iter().map(|id| (id, Fact::Tree));
        let commits = self
            .commits
            .into_iter()
            .map(|(id, c)| (id, Fact::Commit(Box::new(c))));
        blobs.chain(messages).chain(trees).chain(commits)
    }
}

/// Segments with fewer records than this are checked, read and taken in on one thread.
pub(super) const PARALLEL_FROM: usize = 4096;

/// The facts of segment `bytes`, checked to be a whole segment of `key`. With `threads` over
/// one, its checksum is computed on a thread of its own while the records are read (a file is
/// still used entirely or not at all: nothing is returned before both are done).
pub(super) fn decode(bytes: &[u8], key: &Key, threads: usize) -> Result<Records, Invalid> {
    let (body, sum) = frame(
        bytes,
        MAGIC,
        RECORD,
        "its length does not match its record count",
    )?;
    let sound = || Sha256::digest(body)[..] == sum[..];
    let records = &body[HEADER..];
    let (sound, read) = if threads > 1 && records.len() / RECORD >= PARALLEL_FROM {
        std::thread::scope(|scope| {
            let summing = scope.spawn(sound);
            let read = read_records(records);
            let sound = summing
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            (sound, read)
        })
    } else {
        (sound(), read_records(records))
    };
    // The errors in the order a file is checked: its checksum, its key, then its records.
    if !sound {
        return Err(Invalid::Damaged("checksum mismatch"));
    }
    keyed(body, key)?;
    read
}

/// The records of a segment's body (after its header), checksum checked or not.
fn read_records(body: &[u8]) -> Result<Records, Invalid> {
    let mut out = Records::default();
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
        match what {
            0 => out.blobs.push((id, counts)),
            1 => out.messages.push((id, counts)),
            2 => out.trees.push(id),
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
                out.commits.push((
                    id,
                    CommitFacts {
                        message: counts,
                        tree,
                        parents: parents.into_boxed_slice(),
                        time: t.bytes as i64,
                    },
                ));
            }
            // A tree or parent record with no commit before it.
            4 | 5 => return Err(cut),
            _ => return Err(unknown),
        }
    }
    Ok(out)
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
        let one = decode(bytes, key, 1).map(|r| r.into_facts().collect());
        // On two threads (the checksum beside the records) it reads the same, errors and all.
        assert_eq!(decode(bytes, key, 2), decode(bytes, key, 1));
        one
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
    fn a_large_segment_reads_the_same_on_several_threads() {
        let key = Key([9; 32]);
        let id = |i: u32, salt: u8| {
            let mut b = [salt; 20];
            b[..4].copy_from_slice(&i.to_be_bytes());
            ObjectId::from_bytes_or_panic(&b)
        };
        // Kinds interleaved, as no run writes them: they come back grouped, each in file order.
        let facts: Vec<(ObjectId, Fact)> = (0..PARALLEL_FROM as u32 + 500)
            .map(|i| {
                let counts = Counts {
                    bytes: u64::from(i),
                    scanned: 1,
                    ..Counts::default()
                };
                let fact = match i % 4 {
                    0 => Fact::Blob(counts),
                    1 => Fact::Message(counts),
                    2 => Fact::Tree,
                    _ => Fact::Commit(Box::new(CommitFacts {
                        message: counts,
                        tree: id(i, 1),
                        parents: (0..i % 3).map(|p| id(p, 2)).collect(),
                        time: i64::from(i),
                    })),
                };
                (id(i, 0), fact)
            })
            .collect();
        let bytes = encode(&key, &facts);
        let one = decode(&bytes, &key, 1).unwrap();
        assert_eq!(decode(&bytes, &key, 2).unwrap(), one);
        let rank = |f: &Fact| match f {
            Fact::Blob(_) => 0,
            Fact::Message(_) => 1,
            Fact::Tree => 2,
            Fact::Commit(_) => 3,
        };
        let mut grouped = facts.clone();
        grouped.sort_by_key(|(_, f)| rank(f));
        assert_eq!(one.into_facts().collect::<Vec<_>>(), grouped);
        // Damage anywhere, another key, a bad record in a sound file: the same answer on two
        // threads as on one, in the same order of checks.
        for at in [HEADER + 3, bytes.len() / 2, bytes.len() - 1] {
            let mut b = bytes.clone();
            b[at] ^= 1;
            for threads in [1, 2] {
                assert_eq!(
                    decode(&b, &key, threads),
                    Err(Invalid::Damaged("checksum mismatch"))
                );
            }
        }
        assert_eq!(decode(&bytes, &Key([8; 32]), 2), Err(Invalid::OtherKey));
        let mut body = bytes[..bytes.len() - TRAILER].to_vec();
        // The record of fact 2000, a blob's.
        let at: usize = facts[..2000].iter().map(|(_, f)| f.records()).sum();
        body[HEADER + RECORD * at + 35] = 9;
        let resealed = seal_frame(body);
        for threads in [1, 2] {
            assert_eq!(
                decode(&resealed, &key, threads),
                Err(Invalid::Damaged("a record of an unknown kind"))
            );
        }
    }

    #[test]
    fn record_capacity_matches_size() {
        assert_eq!(records_within(size_of(5)), 5);
        assert_eq!(records_within(size_of(5) - 1), 4);
        assert_eq!(records_within(10), 0);
    }
}
