//! One record of checked packs (`packs-*.bin`): the packs a scan found whose trees name no
//! missing object. Pack checksums, lengths and times only, never content.
//!
//! Layout (little-endian):
//!
//! | bytes | what |
//! |-------|------|
//! | 8     | magic `CSWPACKS` |
//! | 4     | [`super::CACHE_FORMAT`] |
//! | 32    | the key ([`super::Key`]) of the directory it sits in |
//! | 8     | `n`, the number of packs |
//! | 36 × n | packs: checksum (20), length (8), modification time in nanoseconds (8) |
//! | 32    | SHA-256 of everything before it |
//!
//! A file that does not parse exactly (magic, format, key, length, checksum) is not used.

use super::{Key, PackId};
use gix::ObjectId;

const MAGIC: &[u8; 8] = b"CSWPACKS";
const HEADER: usize = 8 + 4 + 32 + 8;
const RECORD: usize = 36;
const TRAILER: usize = 32;

/// The size of a record of `n` packs.
pub(super) fn size_of(n: usize) -> u64 {
    (HEADER + TRAILER) as u64 + RECORD as u64 * n as u64
}

/// The bytes of a record of `packs` under `key`.
pub(super) fn encode(key: &Key, packs: &[PackId]) -> Vec<u8> {
    let mut out = super::segment::open_frame(MAGIC, key, packs.len(), size_of(packs.len()));
    for p in packs {
        out.extend_from_slice(p.checksum.as_bytes());
        out.extend_from_slice(&p.len.to_le_bytes());
        out.extend_from_slice(&p.modified.to_le_bytes());
    }
    super::segment::seal_frame(out)
}

/// The packs of record `bytes`, checked to be a whole record of `key`.
pub(super) fn decode(bytes: &[u8], key: &Key) -> Result<Vec<PackId>, super::segment::Invalid> {
    let body = super::segment::framed_records(
        bytes,
        MAGIC,
        key,
        RECORD,
        "its length does not match its pack count",
    )?;
    Ok(body
        .chunks_exact(RECORD)
        .map(|r| PackId {
            checksum: ObjectId::from_bytes_or_panic(&r[..20]),
            len: u64::from_le_bytes(r[20..28].try_into().expect("8 bytes")),
            modified: u64::from_le_bytes(r[28..36].try_into().expect("8 bytes")),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packs() -> Vec<PackId> {
        (0u8..3)
            .map(|i| PackId {
                checksum: ObjectId::from_bytes_or_panic(&[i; 20]),
                len: 4096 + u64::from(i),
                modified: 1_700_000_000_000_000_000 + u64::from(i),
            })
            .collect()
    }

    #[test]
    fn round_trips_and_refuses_any_damage() {
        let key = Key([9; 32]);
        let bytes = encode(&key, &packs());
        assert_eq!(bytes.len() as u64, size_of(3));
        assert_eq!(decode(&bytes, &key).unwrap(), packs());
        assert!(decode(&bytes, &Key([8; 32])).is_err());
        for len in 0..bytes.len() {
            assert!(decode(&bytes[..len], &key).is_err(), "cut at {len}");
        }
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x40;
            assert!(decode(&b, &key).is_err(), "flipped byte {i}");
        }
        // A segment is not a record of packs.
        let segment = super::super::segment::encode(&key, &[]);
        assert!(decode(&segment, &key).is_err());
    }
}
