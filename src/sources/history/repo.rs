//! Opening a repository to read its history, and the facts about it a report must mention.
//!
//! A repository handed to a scanner may be hostile: its `.git/config` can name programs (an
//! fsmonitor hook, a credential helper, a pager). Scanning never runs any of them, and the
//! repository is opened isolated from global and system configuration and from `GIT_*`
//! environment variables, so what is scanned is exactly what is on disk at the given path.

use std::path::Path;

use anyhow::{Context, Result, bail};
use gix::ObjectId;
use gix::objs::FindExt;

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
pub fn describe(repo: &gix::Repository) -> String {
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
        notes.push(format!(
            "submodule {path} (commit {}) not scanned: scan its repository separately",
            &id.to_hex().to_string()[..12]
        ));
    }
    notes
}

/// The submodules (gitlink entries) in `HEAD`'s tree, by path.
///
/// Read from the tree rather than `.gitmodules`, so that a submodule is named even when its
/// configuration is missing or hostile.
pub fn submodules(repo: &gix::Repository) -> Vec<(String, ObjectId)> {
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
            let path = join(&prefix, e.filename);
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

/// `prefix/name`, or `name` at the root.
pub fn join(prefix: &str, name: &gix::bstr::BStr) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}/{name}")
    }
}

/// The directory a repository's paths are relative to: the top of its work tree, or the git
/// directory of a bare repository. Configuration and allow-list globs are looked up there.
pub fn root(repo: &gix::Repository) -> std::path::PathBuf {
    repo.workdir()
        .map_or_else(|| repo.git_dir().to_path_buf(), Path::to_path_buf)
}
