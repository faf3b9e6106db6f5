//! Opening a repository to read its history, and the facts about it a report must mention.
//!
//! A repository handed to a scanner may be hostile: its `.git/config` can name programs (an
//! fsmonitor hook, a credential helper, a pager). Scanning never runs any of them, and the
//! repository is opened isolated from global and system configuration and from `GIT_*`
//! environment variables, so what is scanned is exactly what is on disk at the given path.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::objs::FindExt;

use crate::fsutil::{self, Links};

/// Options that read nothing but the repository's own files.
fn isolated() -> gix::open::Options {
    gix::open::Options::isolated()
}

/// Opens the repository at or above `path`: a work tree (or a directory in one), a bare
/// repository, a linked worktree, or a directory whose `.git` file points elsewhere.
pub fn open(path: &Path) -> Result<gix::Repository> {
    if !path.exists() {
        bail!(
            "{} does not exist: pass the path of a git repository",
            path.display()
        );
    }
    check_files(path)?;
    let trust = gix::sec::trust::Mapping {
        full: isolated(),
        reduced: isolated(),
    };
    let repo = gix::ThreadSafeRepository::discover_opts(path, Default::default(), trust)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| {
            format!(
                "{} is not in a git repository (or its .git file points to a missing directory): pass a work tree, a bare repository or a linked worktree",
                path.display()
            )
        })?;
    Ok(repo.to_thread_local())
}

/// Where the objects of `repo` live, for messages.
pub(crate) fn describe(repo: &gix::Repository) -> String {
    match repo.workdir() {
        Some(w) => w.display().to_string(),
        None => format!("{} (bare)", repo.git_dir().display()),
    }
}

/// Notes every history report carries about what could not be scanned.
pub fn notes(repo: &gix::Repository) -> Vec<String> {
    let mut notes = Vec::new();
    if repo.is_shallow().unwrap_or(false) {
        notes.push(
            "shallow clone: commits before the shallow boundary are not in this repository and were not scanned (run `git fetch --unshallow` to scan all history)"
                .to_string(),
        );
    }
    for (path, id) in submodules(repo) {
        notes.push(not_scanned_note(&path, &id));
    }
    notes
}

/// The note that names a submodule a history scan did not read.
pub(crate) fn not_scanned_note(path: &str, id: &ObjectId) -> String {
    format!(
        "submodule {path} (commit {}) not scanned: pass --recurse-submodules to scan its history, or scan its repository separately",
        &id.to_hex().to_string()[..12]
    )
}

/// The submodules (gitlink entries) in `HEAD`'s tree, by path.
///
/// Read from the tree rather than `.gitmodules`, so that a submodule is named even when its
/// configuration is missing or hostile.
pub(crate) fn submodules(repo: &gix::Repository) -> Vec<(String, ObjectId)> {
    let Ok(tree) = repo.head_tree_id() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut stack = vec![(tree.detach(), String::new())];
    let mut buf = Vec::new();
    let mut guard = 0usize;
    while let Some((id, prefix)) = stack.pop() {
        guard += 1;
        if guard > 1_000_000 {
            break;
        }
        let Ok(tree) = repo.objects.find_tree_iter(&id, &mut buf) else {
            continue;
        };
        for e in tree.filter_map(Result::ok) {
            // Lossy per name, as a report shows it: the same text as joining lossy parts.
            let path = super::walk::join(prefix.as_bytes().as_bstr(), e.filename).to_string();
            if e.mode.is_commit() {
                out.push((path, e.oid.to_owned()));
            } else if e.mode.is_tree() {
                stack.push((e.oid.to_owned(), path));
            }
        }
    }
    out.sort();
    out
}

/// The directory a repository's paths are relative to: the top of its work tree, or the git
/// directory of a bare repository. Configuration and allow-list globs are looked up there.
pub fn root(repo: &gix::Repository) -> std::path::PathBuf {
    repo.workdir()
        .map_or_else(|| repo.git_dir().to_path_buf(), Path::to_path_buf)
}

/// Small files under `.git`: `HEAD`, ref files, `commondir`, `gitdir`, a `.git` file.
const SMALL_GIT_FILE: u64 = 64 << 10;
/// `config`, `config.worktree`, `objects/info/alternates`.
const GIT_CONFIG_FILE: u64 = 16 << 20;
/// `shallow`, `FETCH_HEAD`: one line per commit or fetched ref.
const GIT_LIST_FILE: u64 = 64 << 20;
/// `packed-refs` and `index`, which grow with the repository.
const GIT_TABLE_FILE: u64 = 1 << 30;
/// Ref files checked at most: past this many the rest are left to gix (each is still small).
const MAX_REF_FILES: usize = 1_000_000;

/// Checks the files git (and gix) read to open the repository at or above `path`, before
/// anything opens them: the `.git` file of a worktree, `HEAD` and the other `*_HEAD` files,
/// `config`, `commondir`, `index`, `shallow`, `packed-refs`, `objects/info/alternates` (and
/// those of the alternates), every file under `refs/`, and the same files of each linked
/// worktree. Each must be a regular file (or a link to one) of bounded size: a FIFO would block
/// the scan forever, a link to `/dev/zero` would read until memory runs out. Missing files are
/// fine (gix says what is missing); anything else is an error naming the file.
pub(crate) fn check_files(path: &Path) -> Result<()> {
    let start = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    for dir in start.ancestors() {
        let dotgit = dir.join(".git");
        let mut found = false;
        if let Ok(meta) = fs::symlink_metadata(&dotgit) {
            found = true;
            let git_dir = resolve_dotgit(dir, &dotgit, &meta)?;
            check_git_dir(&git_dir)?;
        }
        if looks_like_git_dir(dir) {
            found = true;
            check_git_dir(dir)?;
        }
        if found {
            return Ok(());
        }
    }
    Ok(())
}

/// Whether `dir` may be a git directory itself (a bare repository, or `.git` passed directly).
fn looks_like_git_dir(dir: &Path) -> bool {
    fs::symlink_metadata(dir.join("HEAD")).is_ok()
        && ["objects", "refs", "commondir"]
            .iter()
            .any(|n| fs::symlink_metadata(dir.join(n)).is_ok())
}

/// A repository file that cannot be used, as an error naming it.
fn refused(file: &Path, e: io::Error) -> anyhow::Error {
    anyhow::anyhow!(
        "cannot open the repository: {} {}. git's own files must be regular files of \
         bounded size (a FIFO would block the scan, a device such as /dev/zero would never end): \
         this repository is damaged or hostile; remove or repair that file, then scan again",
        file.display(),
        fsutil::explain(&e)
    )
}

/// Checks `file` if it exists.
fn check_optional(file: &Path, limit: u64) -> Result<()> {
    match fsutil::check_file(file, limit, Links::Follow) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(refused(file, e)),
    }
}

/// Reads the small text file `file` if it exists: its first line, trimmed.
fn read_small(file: &Path) -> Result<Option<String>> {
    fsutil::read_first_line(file, SMALL_GIT_FILE).map_err(|e| refused(file, e))
}

/// The git directory `.git` in `work` stands for: itself (a directory, or a link to one), or
/// the directory a `.git` file names (`gitdir: <path>`).
fn resolve_dotgit(work: &Path, dotgit: &Path, meta: &fs::Metadata) -> Result<PathBuf> {
    let target = if meta.file_type().is_symlink() {
        match fs::metadata(dotgit) {
            Ok(m) => m,
            // A dangling link: gix will say there is no repository.
            Err(_) => return Ok(dotgit.to_path_buf()),
        }
    } else {
        meta.clone()
    };
    if target.is_dir() {
        return Ok(dotgit.to_path_buf());
    }
    let line = read_small(dotgit)?.unwrap_or_default();
    match line.strip_prefix("gitdir:") {
        Some(p) => Ok(work.join(p.trim())),
        None => Ok(dotgit.to_path_buf()),
    }
}

/// Checks the files of the git directory `git_dir` and of its common directory.
fn check_git_dir(git_dir: &Path) -> Result<()> {
    check_own_files(git_dir)?;
    let common = match read_small(&git_dir.join("commondir"))? {
        Some(c) if !c.is_empty() => {
            let joined = git_dir.join(c);
            joined.canonicalize().unwrap_or(joined)
        }
        _ => git_dir.to_path_buf(),
    };
    if common != git_dir {
        check_own_files(&common)?;
    }
    check_optional(&common.join("packed-refs"), GIT_TABLE_FILE)?;
    check_alternates(&common.join("objects"))?;
    let mut refs = 0usize;
    check_refs(&common.join("refs"), 0, &mut refs)?;
    if let Ok(worktrees) = fs::read_dir(common.join("worktrees")) {
        for wt in worktrees.flatten() {
            let wt = wt.path();
            if wt.is_dir() {
                check_own_files(&wt)?;
                check_refs(&wt.join("refs"), 0, &mut refs)?;
                check_optional(&wt.join("gitdir"), SMALL_GIT_FILE)?;
            }
        }
    }
    Ok(())
}

/// The files of one git directory (the main one, or a linked worktree's).
fn check_own_files(dir: &Path) -> Result<()> {
    for name in [
        "HEAD",
        "ORIG_HEAD",
        "MERGE_HEAD",
        "CHERRY_PICK_HEAD",
        "REVERT_HEAD",
        "BISECT_HEAD",
        "AUTO_MERGE",
        "commondir",
    ] {
        check_optional(&dir.join(name), SMALL_GIT_FILE)?;
    }
    check_optional(&dir.join("FETCH_HEAD"), GIT_LIST_FILE)?;
    check_optional(&dir.join("shallow"), GIT_LIST_FILE)?;
    check_optional(&dir.join("config"), GIT_CONFIG_FILE)?;
    check_optional(&dir.join("config.worktree"), GIT_CONFIG_FILE)?;
    check_optional(&dir.join("index"), GIT_TABLE_FILE)?;
    Ok(())
}

/// Checks `objects/info/alternates` under `objects`, and those of the object directories it
/// names, each once.
fn check_alternates(objects: &Path) -> Result<()> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![objects.to_path_buf()];
    while let Some(dir) = todo.pop() {
        if seen.len() >= 64 || !seen.insert(dir.clone()) {
            continue;
        }
        let file = dir.join("info/alternates");
        let text = match fsutil::read_bounded(&file, GIT_CONFIG_FILE, Links::Follow) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(refused(&file, e)),
        };
        for line in String::from_utf8_lossy(&text).lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            todo.push(dir.join(line));
        }
    }
    Ok(())
}

/// Checks every file under `refs/`, without following links to directories.
fn check_refs(dir: &Path, depth: usize, count: &mut usize) -> Result<()> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    for e in entries.flatten() {
        *count += 1;
        if *count > MAX_REF_FILES || depth > 64 {
            return Ok(());
        }
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => check_refs(&p, depth + 1, count)?,
            _ => check_optional(&p, SMALL_GIT_FILE)?,
        }
    }
    Ok(())
}
