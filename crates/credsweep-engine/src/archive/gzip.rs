//! Gzip: one stream (or several concatenated, as `gzip` reads them) inflated up to the caps. A
//! gzip of a tar (`.tar.gz`, `.tgz`) is read as that tar, so its members are named as the tar
//! names them (`app.tgz!etc/.env`), not one level deeper.

use std::borrow::Cow;

use flate2::read::MultiGzDecoder;

use super::{Format, Level, Skip, detect, member_name, tarball};

pub(super) fn read(data: &[u8], name_hint: &str, level: &mut Level<'_, '_>) -> bool {
    let mut decoder = MultiGzDecoder::new(data);
    let (bytes, over, err) = level.expand(&mut decoder, 0);
    if bytes.is_empty()
        && let Some(e) = &err
    {
        level.skip(
            None,
            Skip::Corrupt(format!("not a readable gzip stream: {e}")),
        );
        return false;
    }
    let name = decoder
        .header()
        .and_then(|h| h.filename())
        .filter(|n| !n.is_empty())
        .map(member_name)
        .unwrap_or_else(|| unzipped_name(name_hint));
    if let Some(e) = err {
        level.skip(
            None,
            Skip::Corrupt(format!("gzip stream cut short or corrupt: {e}")),
        );
    }
    if over.is_none() && detect(&bytes) == Some(Format::Tar) {
        // A whole tar: read its members in place. A tar cut short by a limit is read as a
        // member instead (its tail would be a corrupt tar).
        tarball::read_members(&bytes, level);
        return true;
    }
    level.deliver(name, Cow::Owned(bytes), over);
    true
}

/// What a gzip stream with no name in its header is called: its file's name less `.gz`
/// (`.tgz` becomes `.tar`), or `<gunzipped>` when the file has no such name (a blob in history
/// whose path is not known yet).
fn unzipped_name(name_hint: &str) -> String {
    let file = name_hint.rsplit(['/', '!']).next().unwrap_or("");
    if let Some(stem) = file.strip_suffix(".tgz") {
        return format!("{stem}.tar");
    }
    match file
        .strip_suffix(".gz")
        .or_else(|| file.strip_suffix(".gzip"))
    {
        Some(stem) if !stem.is_empty() => stem.to_string(),
        _ => "<gunzipped>".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::unzipped_name;

    #[test]
    fn a_nameless_stream_is_named_after_its_file() {
        assert_eq!(unzipped_name("logs/app.log.gz"), "app.log");
        assert_eq!(unzipped_name("a.zip!dist/site.tgz"), "site.tar");
        assert_eq!(unzipped_name("<blob 0123456789ab>"), "<gunzipped>");
        assert_eq!(unzipped_name(".gz"), "<gunzipped>");
    }
}
