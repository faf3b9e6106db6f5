//! Pack entries and loose objects with mutated size claims, through the object-database audit
//! (`sources::history::audit`): a small pack is built in memory from the input (a blob, an
//! ofs-delta over it, and a raw entry), with the blob's header size, the delta's base and
//! result sizes and its instructions taken from the input; loose objects likewise. Nothing may
//! panic; an entry the audit passes must decode to exactly the size it claims (or the cap); no
//! decoded buffer may exceed the cap.

#![no_main]

use credsweep::sources::history::audit::{self, Audited};
use gix::ObjectId;
use libfuzzer_sys::fuzz_target;

const CAP: u64 = 1 << 20;

/// zlib with stored (uncompressed) blocks, so the fuzzer controls every inflated byte.
fn stored_zlib(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let chunks: Vec<&[u8]> = if data.is_empty() {
        vec![&[][..]]
    } else {
        data.chunks(65535).collect()
    };
    for (i, c) in chunks.iter().enumerate() {
        out.push(u8::from(i + 1 == chunks.len()));
        let len = c.len() as u16;
        out.extend(len.to_le_bytes());
        out.extend((!len).to_le_bytes());
        out.extend_from_slice(c);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    out.extend(((b << 16) | a).to_be_bytes());
    out
}

fn entry_header(type_code: u8, size: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let mut b = (type_code << 4) | (size & 15) as u8;
    let mut rest = size >> 4;
    while rest > 0 {
        out.push(b | 0x80);
        b = (rest & 0x7f) as u8;
        rest >>= 7;
    }
    out.push(b);
    out
}

fn varint(mut n: u64, out: &mut Vec<u8>) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// A size near `real`, or far from it, as `m` says.
fn mutate(real: u64, m: u8) -> u64 {
    match m % 8 {
        0 | 1 | 2 => real,
        3 => real.saturating_add(u64::from(m >> 3)),
        4 => real.saturating_sub(u64::from(m >> 3)),
        5 => 1 << (m >> 2),
        6 => u64::MAX >> (m >> 3),
        _ => real ^ u64::from(m),
    }
}

fn id(n: u8) -> ObjectId {
    ObjectId::from_bytes_or_panic(&[n; 20])
}

fn check(pack: &[u8], audit: &[Audited]) {
    for (i, a) in audit.iter().enumerate() {
        if a.problem.is_some() {
            continue;
        }
        let mut cache = None;
        match audit::decode_prefix(pack, audit, i, CAP, CAP, 20, &mut cache) {
            Ok(bytes) => assert_eq!(bytes.len() as u64, a.size.min(CAP), "entry {i}: {a:?}"),
            // Only a base too large to hold whole may refuse an audited entry.
            Err(e) => assert!(e.contains("decodes whole"), "entry {i}: {a:?}: {e}"),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let (ctl, rest) = data.split_at(8);
    let split = usize::from(ctl[7]).min(rest.len());
    let (content, tail) = rest.split_at(split);

    // A pack: a blob, an ofs-delta over it (instructions from the input), a raw entry.
    let mut body = Vec::new();
    let blob_at = 12u64;
    body.extend(entry_header(3, mutate(content.len() as u64, ctl[0])));
    body.extend(stored_zlib(content));
    let delta_at = 12 + body.len() as u64;
    let mut delta = Vec::new();
    varint(mutate(content.len() as u64, ctl[1]), &mut delta);
    let half = tail.len() / 2;
    let instructions = &tail[..half];
    varint(mutate(instructions.len() as u64 * 4, ctl[2]), &mut delta);
    delta.extend_from_slice(instructions);
    body.extend(entry_header(6, mutate(delta.len() as u64, ctl[3])));
    let mut dist = delta_at - blob_at;
    let mut enc = vec![(dist & 0x7f) as u8];
    dist >>= 7;
    while dist > 0 {
        dist -= 1;
        enc.push(0x80 | (dist & 0x7f) as u8);
        dist >>= 7;
    }
    enc.reverse();
    body.extend(enc);
    body.extend(stored_zlib(&delta));
    let raw_at = 12 + body.len() as u64;
    body.extend_from_slice(&tail[half..]);
    let mut pack = b"PACK\0\0\0\x02\0\0\0\x03".to_vec();
    pack.extend(&body);
    pack.extend([0u8; 20]);

    let mut entries = vec![(id(1), blob_at), (id(2), delta_at), (id(3), raw_at)];
    if ctl[4] & 1 == 1 {
        // An offset the index gets wrong.
        entries[2].1 = raw_at.saturating_add(u64::from(ctl[5]));
    }
    let audited = audit::audit_pack(&pack, &mut entries, 20, 1);
    assert_eq!(audited.len(), 3);
    check(&pack, &audited);
    if audited[0].problem.is_none() {
        assert_eq!(audited[0].size, content.len() as u64, "a passed blob's size is true");
    }
    let _ = audit::parse_header(rest, 0, 20);

    // Loose objects: the raw input as a file, and a real header over the content with a
    // mutated size.
    for (file, claimed) in [
        (rest.to_vec(), None),
        (
            stored_zlib(
                &[
                    format!("blob {}\0", mutate(content.len() as u64, ctl[6])).as_bytes(),
                    content,
                ]
                .concat(),
            ),
            Some(mutate(content.len() as u64, ctl[6])),
        ),
    ] {
        if let Ok((_, kept, size)) = audit::decode_loose(&file, CAP, CAP) {
            assert!(kept.len() as u64 <= CAP && kept.len() as u64 <= size);
            if let Some(c) = claimed {
                assert_eq!(size, c);
                assert_eq!(c, content.len() as u64, "a passed loose object's size is true");
            }
        }
    }
});
