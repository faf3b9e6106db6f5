//! Turning raw file or blob bytes into the bytes the rules run on.
//!
//! Rules run on bytes, so most content needs no decoding at all: UTF-8 and any ASCII-compatible
//! encoding (Latin-1, Windows-1252) are scanned as they are. UTF-16 with a byte-order mark is
//! transcoded to UTF-8 first, since every ASCII token in it is interleaved with NUL bytes. Anything
//! else with a NUL byte near its start is binary, the way git decides: the scan then reads its
//! printable strings ([`crate::binary`]), or skips it (media, `--skip-binary`).

use std::borrow::Cow;

/// How many leading bytes are checked for NUL, as git does (`buffer_is_binary`).
pub const BINARY_SNIFF_LEN: usize = 8000;

/// What a buffer turned out to be.
#[derive(Debug)]
pub enum Content<'a> {
    /// Text to scan. Borrowed unless it had to be transcoded.
    Text {
        bytes: Cow<'a, [u8]>,
        encoding: Encoding,
    },
    /// Binary content: not text as a whole; its strings are scanned, or it is skipped.
    Binary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 or any ASCII-compatible encoding, scanned as it is.
    Bytes,
    Utf16Le,
    Utf16Be,
}

/// Classifies `data` and decodes it where needed.
pub fn decode(data: &[u8]) -> Content<'_> {
    if let Some(rest) = data.strip_prefix(b"\xEF\xBB\xBF") {
        return text_or_binary(rest);
    }
    if let Some(rest) = data.strip_prefix(b"\xFF\xFE") {
        return Content::Text {
            bytes: Cow::Owned(utf16_to_utf8(rest, u16::from_le_bytes)),
            encoding: Encoding::Utf16Le,
        };
    }
    if let Some(rest) = data.strip_prefix(b"\xFE\xFF") {
        return Content::Text {
            bytes: Cow::Owned(utf16_to_utf8(rest, u16::from_be_bytes)),
            encoding: Encoding::Utf16Be,
        };
    }
    text_or_binary(data)
}

/// The raw bytes to scan as well as the decoded text, if any: those of a buffer decoded from
/// UTF-16 that does not look like UTF-16 (no NUL among its first bytes). A byte-order mark costs
/// two bytes to write, and put in front of ASCII it would otherwise turn every token after it
/// into CJK characters no rule matches. Real UTF-16 text (ASCII interleaved with NULs) gains
/// nothing from a second look, and is not given one.
pub fn raw_too(data: &[u8], encoding: Encoding) -> Option<&[u8]> {
    let rest = data.get(2..)?;
    (encoding != Encoding::Bytes && !is_binary(rest)).then_some(rest)
}

fn text_or_binary(data: &[u8]) -> Content<'_> {
    if is_binary(data) {
        Content::Binary
    } else {
        Content::Text {
            bytes: Cow::Borrowed(data),
            encoding: Encoding::Bytes,
        }
    }
}

/// A NUL byte among the first [`BINARY_SNIFF_LEN`] bytes.
pub fn is_binary(data: &[u8]) -> bool {
    memchr::memchr(0, &data[..data.len().min(BINARY_SNIFF_LEN)]).is_some()
}

fn utf16_to_utf8(data: &[u8], unit: fn([u8; 2]) -> u16) -> Vec<u8> {
    let units = data.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    let mut out = String::with_capacity(data.len() / 2);
    for c in char::decode_utf16(units) {
        out.push(c.unwrap_or(char::REPLACEMENT_CHARACTER));
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(c: Content<'_>) -> Vec<u8> {
        match c {
            Content::Text { bytes, .. } => bytes.into_owned(),
            Content::Binary => panic!("binary"),
        }
    }

    #[test]
    fn utf16_le_and_be_with_bom_become_utf8() {
        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        for u in "key=é1".encode_utf16() {
            le.extend(u.to_le_bytes());
            be.extend(u.to_be_bytes());
        }
        assert_eq!(text(decode(&le)), "key=é1".as_bytes());
        assert_eq!(text(decode(&be)), "key=é1".as_bytes());
    }

    #[test]
    fn nul_early_is_binary_late_is_not() {
        assert!(matches!(decode(b"ab\0cd"), Content::Binary));
        let mut late = vec![b'a'; BINARY_SNIFF_LEN];
        late.push(0);
        assert!(matches!(decode(&late), Content::Text { .. }));
    }

    #[test]
    fn latin1_is_scanned_as_bytes() {
        assert_eq!(text(decode(b"caf\xe9 key")), b"caf\xe9 key");
    }

    #[test]
    fn a_fake_utf16_bom_gets_the_raw_bytes_scanned_too() {
        let fake = b"\xFF\xFEtoken=ghp_abc";
        let Content::Text { encoding, .. } = decode(fake) else {
            panic!("binary")
        };
        assert_eq!(raw_too(fake, encoding), Some(&b"token=ghp_abc"[..]));
        let mut real = vec![0xFF, 0xFE];
        for u in "token=ghp_abc".encode_utf16() {
            real.extend(u.to_le_bytes());
        }
        assert_eq!(raw_too(&real, Encoding::Utf16Le), None);
        assert_eq!(raw_too(b"plain", Encoding::Bytes), None);
    }

    #[test]
    fn utf8_bom_is_stripped() {
        assert_eq!(text(decode(b"\xEF\xBB\xBFa=b")), b"a=b");
    }
}
