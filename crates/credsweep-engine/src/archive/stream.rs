//! Compressed streams: gzip (one stream, or several concatenated, as `gzip` reads them) and
//! bzip2, inflated up to the caps. A compressed tar (`.tar.gz`, `.tgz`, `.tar.bz2`) is read as
//! that tar, so its members are named as the tar names them (`app.tgz!etc/.env`), not one level
//! deeper.

use std::borrow::Cow;
use std::io::Read;

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
    use super::{BZIP2_SUFFIXES, GZIP_SUFFIXES, unpacked_name};

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
    }
}
