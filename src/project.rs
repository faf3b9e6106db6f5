//! Where a project's shared files live: the repository's top.
//!
//! The configuration and the baseline belong to the repository, not to whichever directory a scan
//! starts in: `credsweep dir src`, `credsweep dir src/x.js` and `cd src && credsweep dir .` must all
//! use the baseline at the top, and paths recorded in it are relative to the top, so a scan of a
//! sub-directory and one of the whole tree agree on them.
//!
//! The top is found by looking for `.git` (a directory, or the file a linked worktree or submodule
//! has) from the start upwards, by file type only: nothing under `.git` is read here, and a `.git`
//! that is a FIFO, a device or a symlink does not count.

use std::path::{Component, Path, PathBuf};

/// Whether `dir` holds a `.git` directory or `.git` file (not followed if a symlink, never read).
pub(crate) fn has_git_marker(dir: &Path) -> bool {
    std::fs::symlink_metadata(dir.join(".git")).is_ok_and(|m| m.is_dir() || m.is_file())
}

/// Whether `dir` is a repository's top: it holds `.git`, or it is a bare repository itself (a
/// `HEAD` file beside an `objects` directory), which a search must not climb out of.
pub(crate) fn is_top(dir: &Path) -> bool {
    let kind = |name: &str| std::fs::symlink_metadata(dir.join(name)).ok();
    has_git_marker(dir)
        || (kind("HEAD").is_some_and(|m| m.is_file())
            && kind("objects").is_some_and(|m| m.is_dir()))
}

/// The absolute form of `p` (relative to the current directory), symlinks resolved where the path
/// exists; lexically cleaned where it does not.
pub fn absolute(p: &Path) -> PathBuf {
    if let Ok(c) = p.canonicalize() {
        return c;
    }
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        current_dir().join(p)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The repository top `start` (a file or directory) is in: the nearest directory, from `start`
/// upwards, that holds `.git` or is a bare repository. `None` outside any repository.
pub(crate) fn repo_top(start: &Path) -> Option<PathBuf> {
    let start = absolute(start);
    let mut dir = if start.is_dir() {
        Some(start.as_path())
    } else {
        start.parent()
    };
    while let Some(d) = dir {
        if is_top(d) {
            return Some(d.to_path_buf());
        }
        dir = d.parent();
    }
    None
}

/// `path` (relative to the current directory, or absolute) relative to `top`, `/`-separated; `None`
/// when it is not under `top`.
pub(crate) fn relative_to(path: &Path, top: &Path) -> Option<String> {
    let abs = absolute(path);
    let top = absolute(top);
    let rel = abs.strip_prefix(&top).ok()?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(parts.join("/"))
}

/// The current directory: what relative paths given on the command line are relative to.
pub fn current_dir() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_top_from_a_subdirectory_and_a_file() {
        let d = tempfile::tempdir().unwrap();
        let top = d.path().canonicalize().unwrap();
        std::fs::create_dir_all(top.join(".git")).unwrap();
        std::fs::create_dir_all(top.join("src/deep")).unwrap();
        std::fs::write(top.join("src/x.js"), "").unwrap();
        assert_eq!(repo_top(&top.join("src/deep")), Some(top.clone()));
        assert_eq!(repo_top(&top.join("src/x.js")), Some(top.clone()));
        assert_eq!(
            relative_to(&top.join("src/x.js"), &top).as_deref(),
            Some("src/x.js")
        );
        assert_eq!(relative_to(&top, &top).as_deref(), Some(""));
    }

    #[cfg(unix)]
    #[test]
    fn a_git_fifo_or_symlink_is_not_a_repository() {
        let d = tempfile::tempdir().unwrap();
        let top = d.path().canonicalize().unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(top.join(".git"))
            .status()
            .unwrap();
        assert!(status.success());
        assert!(!has_git_marker(&top));
        let other = tempfile::tempdir().unwrap();
        std::fs::create_dir(other.path().join("real")).unwrap();
        std::os::unix::fs::symlink(other.path().join("real"), other.path().join(".git")).unwrap();
        assert!(!has_git_marker(other.path()));
    }

    #[test]
    fn a_bare_repository_is_its_own_top() {
        let d = tempfile::tempdir().unwrap();
        let outer = d.path().canonicalize().unwrap();
        std::fs::create_dir_all(outer.join(".git")).unwrap();
        let bare = outer.join("fixtures/repo.git");
        std::fs::create_dir_all(bare.join("objects")).unwrap();
        std::fs::write(bare.join("HEAD"), "ref: refs/heads/main\n").unwrap();
        assert_eq!(repo_top(&bare), Some(bare.clone()));
        assert_eq!(repo_top(&outer.join("fixtures")), Some(outer));
    }
}
