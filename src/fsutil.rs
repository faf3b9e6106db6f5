//! Reading and writing the files credsweep itself uses: configuration, rule files, baselines,
//! ignore files, a repository's own files under `.git`, reports, `.gitattributes` and hooks.
//!
//! A scanned tree is untrusted input, and so is every file in it that credsweep opens for its
//! own purposes. Two rules hold for all of them:
//!
//! - **Reads** (`read_bounded`, `read_text_file`) take only a regular file of bounded size.
//!   The type is checked before opening (a FIFO with no writer would block `open`, a device may
//!   never end), and again on the opened file, which is opened non-blocking so that a file
//!   swapped for a FIFO in between cannot block either. [`Links::Refuse`] also refuses a symbolic
//!   link, as git does for `.gitignore` and `.gitattributes` in a work tree.
//! - **Writes** (`write_atomic`) never go through a symbolic link and never replace anything
//!   but a regular file: the new content is written in full to a fresh temporary file beside the
//!   target (created exclusively, so a link planted under a predictable name is never followed),
//!   then renamed over it. A failure leaves the old file as it was.

use std::fmt;
use std::fs::{self, File, Metadata};
use std::io::{self, Read, Write};
use std::path::Path;

/// Whether a read follows a symbolic link (to a regular file) or refuses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    Follow,
    Refuse,
}

/// What kind of thing is at a path, in words for messages ("a FIFO").
pub(crate) fn describe_type(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_symlink() {
        return "a symbolic link";
    }
    if t.is_dir() {
        return "a directory";
    }
    if t.is_file() {
        return "a regular file";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
    }
    "not a regular file"
}

/// Why a file was not read: it is not a regular file, or it is larger than the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// A symbolic link, and links are refused.
    Symlink,
    /// Not a regular file (or a link to one): the words say what it is.
    NotRegular(&'static str),
    /// Larger than the limit.
    TooLarge { size: u64, limit: u64 },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Symlink => f.write_str("a symbolic link, which is not followed"),
            Refusal::NotRegular(what) => write!(f, "{what}, not a regular file"),
            Refusal::TooLarge { size, limit } => write!(
                f,
                "{size} bytes, more than the {} such a file may have",
                limit_text(*limit)
            ),
        }
    }
}

impl std::error::Error for Refusal {}

impl From<Refusal> for io::Error {
    fn from(r: Refusal) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, r)
    }
}

/// An error of [`read_bounded`] or [`check_file`] as the rest of a sentence that names the file:
/// "is a FIFO, not a regular file", "cannot be read: permission denied".
pub(crate) fn explain(e: &io::Error) -> String {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<Refusal>())
    {
        Some(r) => format!("is {r}"),
        None => format!("cannot be read: {e}"),
    }
}

/// `16 MiB`, `64 KiB`, `100 bytes`.
fn limit_text(limit: u64) -> String {
    if limit >= 1 << 20 && limit.is_multiple_of(1 << 20) {
        format!("{} MiB", limit >> 20)
    } else if limit >= 1 << 10 && limit.is_multiple_of(1 << 10) {
        format!("{} KiB", limit >> 10)
    } else {
        format!("{limit} bytes")
    }
}

/// Checks, without opening it, that `path` is a regular file of at most `limit` bytes (a link
/// to one, with [`Links::Follow`]). `Ok(meta)` of the file; an I/O error (e.g. not found) as is.
pub(crate) fn check_file(path: &Path, limit: u64, links: Links) -> io::Result<Metadata> {
    let lmeta = fs::symlink_metadata(path)?;
    let meta = if lmeta.file_type().is_symlink() {
        if links == Links::Refuse {
            return Err(Refusal::Symlink.into());
        }
        fs::metadata(path)?
    } else {
        lmeta
    };
    check_meta(&meta, limit)?;
    Ok(meta)
}

fn check_meta(meta: &Metadata, limit: u64) -> Result<(), Refusal> {
    if !meta.is_file() {
        return Err(Refusal::NotRegular(describe_type(meta)));
    }
    if meta.len() > limit {
        return Err(Refusal::TooLarge {
            size: meta.len(),
            limit,
        });
    }
    Ok(())
}

/// Opens `path` for reading without blocking on a FIFO and, with [`Links::Refuse`], without
/// following a final symbolic link (the system's "too many levels of symbolic links" error if
/// one is there). One `open`, no `stat`.
pub(crate) fn open_nonblocking(path: &Path, links: Links) -> io::Result<File> {
    let mut opts = fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut flags = libc::O_NONBLOCK | libc::O_NOCTTY;
        if links == Links::Refuse {
            flags |= libc::O_NOFOLLOW;
        }
        opts.custom_flags(flags);
    }
    #[cfg(not(unix))]
    let _ = links;
    opts.open(path)
}

/// [`open_nonblocking`], with a refused link reported as [`Refusal::Symlink`].
fn open_for_read(path: &Path, links: Links) -> io::Result<File> {
    open_nonblocking(path, links).map_err(|e| {
        #[cfg(unix)]
        if links == Links::Refuse && e.raw_os_error() == Some(libc::ELOOP) {
            return Refusal::Symlink.into();
        }
        e
    })
}

/// Reads `path`, a regular file of at most `limit` bytes; anything else is an error that says
/// what it is (see [`Refusal`]), and nothing that is not a regular file is ever opened.
pub(crate) fn read_bounded(path: &Path, limit: u64, links: Links) -> io::Result<Vec<u8>> {
    check_file(path, limit, links)?;
    let file = open_for_read(path, links)?;
    // Checked again on what was opened: the path may have changed since.
    let meta = file.metadata()?;
    check_meta(&meta, limit)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(Refusal::TooLarge {
            size: bytes.len() as u64,
            limit,
        }
        .into());
    }
    Ok(bytes)
}

/// Reads a configuration, rule or baseline file of at most `limit` bytes as UTF-8 text,
/// following a symbolic link only to a regular file. A repository's own files are untrusted
/// input: one that is a FIFO, a device or a link to one (`/dev/zero`), or is huge, is an error,
/// never a read that blocks or does not end.
pub(crate) fn read_text_file(path: &Path, limit: u64) -> io::Result<String> {
    let bytes = read_bounded(path, limit, Links::Follow)?;
    String::from_utf8(bytes)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"))
}

/// The first line, trimmed, of a small git pointer file (`.git`, `commondir`, `HEAD`) of at most
/// `limit` bytes, decoded lossily; `Ok(None)` when the file does not exist. Symbolic links are
/// followed, as git follows them.
pub(crate) fn read_first_line(path: &Path, limit: u64) -> io::Result<Option<String>> {
    match read_bounded(path, limit, Links::Follow) {
        Ok(bytes) => Ok(Some(
            String::from_utf8_lossy(&bytes)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string(),
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Checks that `path` may be written: nothing is there, or a regular file (not a symbolic link,
/// even to a regular file). Returns the existing file's metadata.
pub(crate) fn check_writable(path: &Path) -> io::Result<Option<Metadata>> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
        Ok(m) if m.file_type().is_symlink() => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is a symbolic link: credsweep never writes through one (remove the link, or \
             name another file)",
        )),
        Ok(m) if !m.is_file() => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "it is {}: credsweep only replaces regular files",
                describe_type(&m)
            ),
        )),
        Ok(m) => Ok(Some(m)),
    }
}

/// Permissions of a file credsweep writes: `mode` when given; else those of the file it
/// replaces; else `0644`.
#[cfg(unix)]
fn permissions(mode: Option<u32>, existing: Option<&Metadata>) -> fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    let mode = mode.unwrap_or_else(|| existing.map_or(0o644, |m| m.permissions().mode() & 0o7777));
    fs::Permissions::from_mode(mode)
}

/// Writes `data` to `path` atomically: into a new temporary file beside it (created
/// exclusively: a symbolic link or anything else already at a temporary name is never
/// followed or reused), then renamed over `path`. `path` itself must be absent or a regular
/// file: a symbolic link or a FIFO there is an error, and nothing is written. On any failure
/// the old file is left as it was. `mode` sets the new file's permission bits (Unix); `None`
/// keeps those of the file replaced (`0644` for a new one).
pub(crate) fn write_atomic(path: &Path, data: &[u8], mode: Option<u32>) -> io::Result<()> {
    let existing = check_writable(path)?;
    let tmp = temp_beside(path, data, mode, existing.as_ref())?;
    // The temporary file is removed if the rename fails.
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A new temporary file in `path`'s directory holding `data`, created exclusively (so never
/// through a link planted there), synced, with permissions `mode` (else those of `existing`,
/// else `0644`). Renaming it over `path` ([`tempfile::NamedTempFile::persist`]) is the caller's
/// step; dropped, it is removed.
pub(crate) fn temp_beside(
    path: &Path,
    data: &[u8],
    mode: Option<u32>,
    existing: Option<&Metadata>,
) -> io::Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut builder = tempfile::Builder::new();
    let prefix = format!(".{name}.");
    builder.prefix(&prefix).suffix(".credsweep-tmp");
    #[cfg(unix)]
    builder.permissions(permissions(mode, existing));
    #[cfg(not(unix))]
    let _ = (mode, existing);
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(data)?;
    tmp.as_file().sync_all()?;
    Ok(tmp)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn reads_refuse_devices_fifos_big_files_and_optionally_links() {
        let d = tempfile::tempdir().unwrap();
        let zero = d.path().join("zero");
        symlink("/dev/zero", &zero).unwrap();
        let e = read_bounded(&zero, 100, Links::Follow).unwrap_err();
        assert!(e.to_string().contains("character device"), "{e}");
        let e = read_bounded(&zero, 100, Links::Refuse).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");

        let fifo = d.path().join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let e = read_bounded(&fifo, 100, Links::Follow).unwrap_err();
        assert!(e.to_string().contains("FIFO"), "{e}");

        let big = d.path().join("big");
        fs::write(&big, vec![b'x'; 101]).unwrap();
        let e = read_bounded(&big, 100, Links::Follow).unwrap_err();
        assert!(e.to_string().contains("101 bytes"), "{e}");
        fs::write(&big, b"ok").unwrap();
        assert_eq!(read_bounded(&big, 100, Links::Follow).unwrap(), b"ok");
        let link = d.path().join("link");
        symlink(&big, &link).unwrap();
        assert_eq!(read_bounded(&link, 100, Links::Follow).unwrap(), b"ok");
        assert!(read_bounded(&link, 100, Links::Refuse).is_err());
    }

    #[test]
    fn writes_refuse_links_and_replace_atomically() {
        let d = tempfile::tempdir().unwrap();
        let victim = d.path().join("victim");
        fs::write(&victim, b"keep").unwrap();
        let link = d.path().join("out");
        symlink(&victim, &link).unwrap();
        let e = write_atomic(&link, b"new", None).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        let dangling = d.path().join("dangling");
        symlink(d.path().join("created"), &dangling).unwrap();
        assert!(write_atomic(&dangling, b"new", None).is_err());
        assert!(!d.path().join("created").exists());
        assert_eq!(fs::read(&victim).unwrap(), b"keep");

        write_atomic(&victim, b"new", Some(0o755)).unwrap();
        assert_eq!(fs::read(&victim).unwrap(), b"new");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&victim).unwrap().permissions().mode() & 0o777,
            0o755
        );
        // Nothing left beside it.
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 3);
    }
}
