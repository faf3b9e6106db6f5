//! The cache directory: one directory per key (`v<format>-<key>`), each holding segments
//! (`seg-*.bin`, see [`super::segment`]) and records of checked packs (`packs-*.bin`, see
//! [`super::packs`]).
//!
//! - A run adds one segment: written to a temporary file in the key's directory, synced, then
//!   renamed into place under a name no other run uses, so a reader sees a whole segment or
//!   none, and a run killed at any moment leaves at most a temporary file (removed later).
//! - Past [`MAX_SEGMENTS`], one run (the one that creates the `lock` file) merges them into
//!   one, written the same way, then removes those it merged; a lock older than
//!   [`STALE_LOCK`] was left by a killed run and is taken over.
//! - Past the size bound, the oldest segments go first, across every key's directory.
//! - Records of checked packs are written as segments are; a key's directory keeps the newest
//!   [`MAX_PACK_RECORDS`] of them (each a few dozen bytes a pack), outside the size bound.
//!
//! Nothing is written or read through a symbolic link; a segment is checked for type and size
//! before it is read and validated whole before it is used.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use gix::ObjectId;
use gix::hashtable::HashMap;

use super::segment::{self, Invalid};
use super::{CACHE_FORMAT, Fact, Key, PackId, packs};
use crate::fsutil::{self, Links};

/// A key's directory holding more segments than this is compacted into one.
pub(super) const MAX_SEGMENTS: usize = 8;

/// The most records of checked packs a key's directory keeps (the newest): a run writes one
/// only when no record it found says the same.
pub(super) const MAX_PACK_RECORDS: usize = 8;

/// The largest record of checked packs read: 29,000 packs.
pub(super) const MAX_PACKS_FILE: u64 = 1 << 20;

/// A compaction lock older than this was left by a run that died.
const STALE_LOCK: Duration = Duration::from_secs(600);

/// A temporary file older than this was left by a run that died.
const STALE_TEMP: Duration = Duration::from_secs(3600);

/// A segment file as listed.
#[derive(Debug, Clone)]
pub(super) struct SegmentFile {
    pub path: PathBuf,
    pub len: u64,
    pub modified: SystemTime,
}

/// `dir`, created if absent (with its parents when `parents`), checked to be a real directory:
/// a symbolic link there is refused.
pub(super) fn ensure_dir(dir: &Path, parents: bool) -> io::Result<()> {
    let made = if parents {
        fs::create_dir_all(dir)
    } else {
        fs::create_dir(dir)
    };
    match made {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let meta = fs::symlink_metadata(dir)?;
    if meta.file_type().is_symlink() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is a symbolic link: credsweep never writes through one (name the directory itself)",
        ));
    }
    if !meta.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("it is {}, not a directory", fsutil::describe_type(&meta)),
        ));
    }
    Ok(())
}

/// The directory of `key`'s segments under `root`.
pub(super) fn key_dir(root: &Path, key: &Key) -> PathBuf {
    root.join(format!("v{CACHE_FORMAT}-{}", key.hex()))
}

/// Whether `name` is a key directory's name.
fn is_key_dir_name(name: &str) -> bool {
    name.starts_with('v') && name.contains('-')
}

/// The segments in `dir`; what is named like one but is not a regular file is returned apart,
/// described, to be reported.
pub(super) fn segments(dir: &Path) -> io::Result<(Vec<SegmentFile>, Vec<String>)> {
    listed(dir, "seg-")
}

/// The records of checked packs in `dir` (`packs-*.bin`, see [`super::packs`]), oldest first,
/// as [`segments`] lists segments.
pub(super) fn pack_records(dir: &Path) -> io::Result<(Vec<SegmentFile>, Vec<String>)> {
    listed(dir, "packs-")
}

/// The files in `dir` named `<prefix>*.bin`, oldest first; what is named like one but is not a
/// regular file is returned apart, described.
fn listed(dir: &Path, prefix: &str) -> io::Result<(Vec<SegmentFile>, Vec<String>)> {
    let mut found = Vec::new();
    let mut refused = Vec::new();
    for entry in fs::read_dir(dir)? {
        let Ok(entry) = entry else { continue };
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(prefix) && name.ends_with(".bin")) {
            continue;
        }
        let path = entry.path();
        match fs::symlink_metadata(&path) {
            Ok(m) if m.is_file() => found.push(SegmentFile {
                len: m.len(),
                modified: m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                path,
            }),
            Ok(m) => refused.push(format!(
                "{} is {}",
                path.display(),
                fsutil::describe_type(&m)
            )),
            // Removed by another run since it was listed.
            Err(_) => {}
        }
    }
    // Oldest first; names break ties (they start with the time they were written).
    found.sort_by(|a, b| a.modified.cmp(&b.modified).then(a.path.cmp(&b.path)));
    Ok((found, refused))
}

/// Reads segment `file` of `key`, at most `limit` bytes, on up to `threads` threads (see
/// [`segment::decode`]). `Ok(None)`: it is gone (another run compacted or evicted it), which is
/// no problem.
pub(super) fn read_segment(
    file: &Path,
    key: &Key,
    limit: u64,
    threads: usize,
) -> Result<Option<segment::Records>, String> {
    let bytes = match fsutil::read_bounded(file, limit, Links::Refuse) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(fsutil::explain(&e)),
    };
    segment::decode(&bytes, key, threads)
        .map(Some)
        .map_err(|e: Invalid| e.to_string())
}

/// Writes `records` as a new segment of `key` in `dir`: a temporary file, synced, renamed to a
/// name no other segment has. Returns its path.
pub(super) fn write_segment(
    dir: &Path,
    key: &Key,
    records: &[(ObjectId, Fact)],
) -> io::Result<PathBuf> {
    write_new(dir, "seg-", &segment::encode(key, records))
}

/// Reads the record of checked packs `file` of `key`, at most `limit` bytes. `Ok(None)`: it is
/// gone (another run removed it), which is no problem.
pub(super) fn read_packs(
    file: &Path,
    key: &Key,
    limit: u64,
) -> Result<Option<Vec<PackId>>, String> {
    let bytes = match fsutil::read_bounded(file, limit, Links::Refuse) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(fsutil::explain(&e)),
    };
    packs::decode(&bytes, key)
        .map(Some)
        .map_err(|e: Invalid| e.to_string())
}

/// Writes `checked` as a new record of checked packs of `key` in `dir`, as a segment is
/// written, then removes the oldest records past [`MAX_PACK_RECORDS`].
pub(super) fn write_packs(dir: &Path, key: &Key, checked: &[PackId]) -> io::Result<()> {
    write_new(dir, "packs-", &packs::encode(key, checked))?;
    let (files, _) = pack_records(dir)?;
    for f in files.iter().rev().skip(MAX_PACK_RECORDS) {
        // Another run may have removed it already.
        let _ = fs::remove_file(&f.path);
    }
    Ok(())
}

/// Writes `bytes` to a new file of `dir` named `<prefix>...`: a temporary file, synced, renamed
/// to a name no other file has. Returns its path.
fn write_new(dir: &Path, prefix: &str, bytes: &[u8]) -> io::Result<PathBuf> {
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .suffix(".bin")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let unique = tmp
        .path()
        .file_name()
        .map(|n| n.to_string_lossy().trim_start_matches(".tmp-").to_string())
        .unwrap_or_default();
    let path = dir.join(format!(
        "{prefix}{nanos:024}-{}-{unique}",
        std::process::id()
    ));
    // The temporary name is unique in `dir` (created exclusively), so this one is too; never
    // replace anything that is there all the same.
    tmp.persist_noclobber(&path).map_err(|e| e.error)?;
    Ok(path)
}

/// Holds a key directory's compaction lock; removes it when dropped.
pub(super) struct Lock(PathBuf);

impl Lock {
    /// The lock of `dir`, unless another live run holds it.
    pub fn take(dir: &Path) -> Option<Lock> {
        let path = dir.join("lock");
        for _ in 0..2 {
            // Exclusive creation: never through a link planted there.
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    let _ = writeln!(f, "{}", std::process::id());
                    return Some(Lock(path));
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    let stale = fs::symlink_metadata(&path)
                        .ok()
                        .and_then(|m| m.modified().ok())
                        .and_then(|t| t.elapsed().ok())
                        .is_some_and(|age| age > STALE_LOCK);
                    if !stale {
                        return None;
                    }
                    let _ = fs::remove_file(&path);
                }
                Err(_) => return None,
            }
        }
        None
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// Merges the segments of `key` in `dir` into one (at most `max_records` records, the newest
/// kept), then removes those merged and stale temporary files. Runs only under `dir`'s lock; does
/// nothing if another run holds it. Damaged segments are dropped with the rest.
pub(super) fn compact(dir: &Path, key: &Key, limit: u64, max_records: usize) -> io::Result<()> {
    let Some(_lock) = Lock::take(dir) else {
        return Ok(());
    };
    let (files, _) = segments(dir)?;
    if files.len() <= 1 {
        return Ok(());
    }
    let mut merged: HashMap<ObjectId, Fact> = HashMap::default();
    // Records the merged facts take: a commit takes several.
    let mut used = 0usize;
    // Newest first, so that what is cut at the bound is the oldest.
    for f in files.iter().rev() {
        if used >= max_records {
            break;
        }
        let Ok(Some(records)) = read_segment(&f.path, key, limit, 1) else {
            continue;
        };
        for (id, fact) in records.into_facts() {
            let n = fact.records();
            match merged.get(&id) {
                // A commit's facts say all its message's record says, and more: they replace
                // it, within the bound.
                Some(old) if old.records() >= n || used - old.records() + n > max_records => {}
                Some(old) => {
                    used = used - old.records() + n;
                    merged.insert(id, fact);
                }
                None if used + n <= max_records => {
                    used += n;
                    merged.insert(id, fact);
                }
                None => {}
            }
        }
    }
    let mut records: Vec<(ObjectId, Fact)> = merged.into_iter().collect();
    records.sort_unstable_by_key(|(id, _)| *id);
    write_segment(dir, key, &records)?;
    for f in &files {
        let _ = fs::remove_file(&f.path);
    }
    remove_stale_temps(dir);
    Ok(())
}

/// Removes temporary files runs that died left in `dir`.
fn remove_stale_temps(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(".tmp-") {
            continue;
        }
        let old = fs::symlink_metadata(entry.path())
            .ok()
            .filter(|m| m.is_file())
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_TEMP);
        if old {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Removes the oldest segments under `root` (every key's) until they take at most `max_size`
/// bytes. Returns how many were removed.
pub(super) fn evict(root: &Path, max_size: u64) -> io::Result<usize> {
    let mut all = Vec::new();
    for entry in fs::read_dir(root)?.flatten() {
        let name = entry.file_name();
        if !is_key_dir_name(&name.to_string_lossy()) {
            continue;
        }
        // Only real directories: a link there is not followed.
        if !fs::symlink_metadata(entry.path()).is_ok_and(|m| m.is_dir()) {
            continue;
        }
        if let Ok((files, _)) = segments(&entry.path()) {
            all.extend(files);
        }
    }
    all.sort_by(|a, b| a.modified.cmp(&b.modified).then(a.path.cmp(&b.path)));
    let mut total: u64 = all.iter().map(|f| f.len).sum();
    let mut removed = 0;
    for f in &all {
        if total <= max_size {
            break;
        }
        if fs::remove_file(&f.path).is_ok() {
            removed += 1;
        }
        total = total.saturating_sub(f.len);
    }
    Ok(removed)
}
