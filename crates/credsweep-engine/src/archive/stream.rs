//! Compressed streams: gzip (one stream, or several concatenated, as `gzip` reads them),
//! bzip2, xz and zstd (one frame), inflated up to the caps. A compressed tar (`.tar.gz`, `.tgz`,
//! `.tar.bz2`, `.tar.xz`, `.txz`, `.tar.zst`) is read as that tar, so its members are named as
//! the tar names them (`app.tgz!etc/.env`), not one level deeper.

use std::borrow::Cow;
use std::io::{self, Read, Write};

use bzip2::read::MultiBzDecoder;
use flate2::read::MultiGzDecoder;

use super::{Format, Level, Skip, detect, member_name, tarball};

/// Reads the gzip stream `data`: the member is named by the header's file name, if any.
pub(super) fn read_gzip(data: &[u8], name_hint: &str, level: &mut Level<'_, '_>) -> bool {
    let mut decoder = MultiGzDecoder::new(data);
    let Some((bytes, over)) = inflate(&mut decoder, "gzip", level) else {
        return false;
    };
    let name = decoder
        .header()
        .and_then(|h| h.filename())
        .filter(|n| !n.is_empty())
        .map(member_name)
        .unwrap_or_else(|| unpacked_name(name_hint, GZIP_SUFFIXES));
    deliver(name, bytes, over, level);
    true
}

/// Reads the bzip2 stream `data` (bzip2 keeps no file name: it is named after its file).
pub(super) fn read_bzip2(data: &[u8], name_hint: &str, level: &mut Level<'_, '_>) -> bool {
    let mut decoder = MultiBzDecoder::new(data);
    let Some((bytes, over)) = inflate(&mut decoder, "bzip2", level) else {
        return false;
    };
    deliver(unpacked_name(name_hint, BZIP2_SUFFIXES), bytes, over, level);
    true
}

/// Reads the xz stream `data` (named after its file, as xz keeps no name). The decoder pushes
/// its output, so it writes into a sink that refuses a byte past the cap: what it holds is then
/// read as any other stream's output, charged and cut at the cap.
pub(super) fn read_xz(data: &[u8], name_hint: &str, level: &mut Level<'_, '_>) -> bool {
    let mut sink = CappedSink {
        bytes: Vec::new(),
        room: level.cap().bytes.saturating_add(1),
    };
    let failure = lzma_rs::xz_decompress(&mut &data[..], &mut sink).err();
    // A sink that refused bytes has stopped the decoder at the cap: not corrupt, over a limit.
    let failure = failure
        .filter(|_| sink.room > 0)
        .map(|e| io::Error::other(e.to_string()));
    let mut decoded = io::Cursor::new(sink.bytes).chain(FailAtEnd(failure));
    let Some((bytes, over)) = inflate(&mut decoded, "xz", level) else {
        return false;
    };
    deliver(unpacked_name(name_hint, XZ_SUFFIXES), bytes, over, level);
    true
}

/// Reads the zstd frame `data` (named after its file). The decoder's window is bounded by the
/// crate's default (128 MiB); a frame that asks for more is reported as not readable.
pub(super) fn read_zstd(data: &[u8], name_hint: &str, level: &mut Level<'_, '_>) -> bool {
    let decoder = match ruzstd::decoding::StreamingDecoder::new(data) {
        Ok(d) => d,
        Err(e) => {
            level.skip(
                None,
                Skip::Corrupt(format!("not a readable zstd stream: {e}")),
            );
            return false;
        }
    };
    let Some((bytes, over)) = inflate(decoder, "zstd", level) else {
        return false;
    };
    deliver(unpacked_name(name_hint, ZSTD_SUFFIXES), bytes, over, level);
    true
}

/// Where a decoder that writes its output puts it: up to `room` bytes, then an error, which
/// stops the decoder (its `write_all` fails).
struct CappedSink {
    bytes: Vec<u8>,
    room: u64,
}

impl Write for CappedSink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.room == 0 {
            return Err(io::Error::other("over the size cap"));
        }
        let n = data
            .len()
            .min(usize::try_from(self.room).unwrap_or(usize::MAX));
        self.bytes.extend_from_slice(&data[..n]);
        self.room -= n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A reader that gives no bytes and then, once, the error a decoder ended with (if any).
struct FailAtEnd(Option<io::Error>);

impl Read for FailAtEnd {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        match self.0.take() {
            Some(e) => Err(e),
            None => Ok(0),
        }
    }
}

/// Inflates a stream up to the caps. `None` when not a byte came out (not a readable stream, a
/// skip is reported); a stream that breaks off later is reported and what came out is kept.
fn inflate(
    decoder: impl Read,
    kind: &str,
    level: &mut Level<'_, '_>,
) -> Option<(Vec<u8>, Option<super::Limit>)> {
    let (bytes, over, err) = level.expand(decoder, 0);
    match err {
        Some(e) if bytes.is_empty() => {
            level.skip(
                None,
                Skip::Corrupt(format!("not a readable {kind} stream: {e}")),
            );
            None
        }
        Some(e) => {
            level.skip(
                None,
                Skip::Corrupt(format!("{kind} stream cut short or corrupt: {e}")),
            );
            Some((bytes, over))
        }
        None => Some((bytes, over)),
    }
}

/// Hands the inflated bytes on: a whole tar is read in place, members and all; anything else
/// (a tar cut short by a limit too, whose tail would be a corrupt tar) is one member.
fn deliver(name: String, bytes: Vec<u8>, over: Option<super::Limit>, level: &mut Level<'_, '_>) {
    if over.is_none() && detect(&bytes) == Some(Format::Tar) {
        tarball::read_members(&bytes, level);
        return;
    }
    level.deliver(name, Cow::Owned(bytes), over);
}

/// File-name suffixes of each stream format, and what the unpacked file is called.
const GZIP_SUFFIXES: &[(&str, &str)] = &[(".tgz", ".tar"), (".gz", ""), (".gzip", "")];
const BZIP2_SUFFIXES: &[(&str, &str)] = &[
    (".tbz2", ".tar"),
    (".tbz", ".tar"),
    (".bz2", ""),
    (".bzip2", ""),
];

const XZ_SUFFIXES: &[(&str, &str)] = &[(".txz", ".tar"), (".xz", "")];
const ZSTD_SUFFIXES: &[(&str, &str)] = &[(".tzst", ".tar"), (".zst", ""), (".zstd", "")];

/// What a stream with no name of its own is called: its file's name less the suffix (`.tgz`
/// becomes `.tar`), or `<unpacked>` when the file has no such name (a blob in history whose
/// path is not known yet).
fn unpacked_name(name_hint: &str, suffixes: &[(&str, &str)]) -> String {
    let file = name_hint.rsplit(['/', '!']).next().unwrap_or("");
    for (suffix, becomes) in suffixes {
        if let Some(stem) = file.strip_suffix(suffix)
            && !stem.is_empty()
        {
            return format!("{stem}{becomes}");
        }
    }
    "<unpacked>".to_string()
}

#[cfg(test)]
mod tests {
    use super::{BZIP2_SUFFIXES, GZIP_SUFFIXES, XZ_SUFFIXES, ZSTD_SUFFIXES, unpacked_name};

    #[test]
    fn a_nameless_stream_is_named_after_its_file() {
        assert_eq!(unpacked_name("logs/app.log.gz", GZIP_SUFFIXES), "app.log");
        assert_eq!(
            unpacked_name("a.zip!dist/site.tgz", GZIP_SUFFIXES),
            "site.tar"
        );
        assert_eq!(
            unpacked_name("<blob 0123456789ab>", GZIP_SUFFIXES),
            "<unpacked>"
        );
        assert_eq!(unpacked_name(".gz", GZIP_SUFFIXES), "<unpacked>");
        assert_eq!(unpacked_name("dump.sql.bz2", BZIP2_SUFFIXES), "dump.sql");
        assert_eq!(unpacked_name("x.tbz2", BZIP2_SUFFIXES), "x.tar");
        assert_eq!(unpacked_name("db.sql.xz", XZ_SUFFIXES), "db.sql");
        assert_eq!(unpacked_name("rootfs.txz", XZ_SUFFIXES), "rootfs.tar");
        assert_eq!(unpacked_name("app.log.zst", ZSTD_SUFFIXES), "app.log");
    }
}
