//! Submodules: where each one's own object database is, so that a history scan can read an
//! initialised submodule like a repository of its own (`credsweep git --recurse-submodules`).
//!
//! The submodules are the gitlink entries of `HEAD`'s tree (`repo::submodules`). Git
//! keeps an initialised submodule's objects in the superproject's `.git/modules/<name>`, where
//! `<name>` is what `.gitmodules` calls it (usually its path); older clones and hand-made set-ups
//! have them in `<path>/.git` in the work tree instead. Both are looked for, in that order. Every
//! name and path comes from the repository and is untrusted: one that would leave
//! `.git/modules` or the work tree (`..`, an absolute path) is refused, `.gitmodules` is read
//! from `HEAD`'s tree with a size cap, and a candidate is opened exactly where it is (never by
//! searching upwards, which could find the superproject again) after its files are checked as
//! [`super::repo::open`] checks a repository's.

use std::path::{Component, Path, PathBuf};

use gix::ObjectId;
use gix::bstr::ByteSlice;

/// The most `.gitmodules` bytes read: git's own file is a few lines per submodule.
const MAX_GITMODULES: usize = 4 << 20;

/// One submodule of a repository's `HEAD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submodule {
    /// Where it sits in the superproject's tree (`vendor/sdk`).
    pub path: String,
    /// The commit the superproject's `HEAD` records for it.
    pub commit: ObjectId,
    /// Its git directory, when it is initialised here; `None` when it is only named.
    pub git_dir: Option<PathBuf>,
}

/// The submodules of `repo`'s `HEAD`, by path, each with its git directory when one is found.
pub fn find(repo: &gix::Repository) -> Vec<Submodule> {
    let names = names_by_path(repo);
    super::repo::submodules(repo)
        .into_iter()
        .map(|(path, commit)| {
            let name = names
                .iter()
                .find(|(p, _)| *p == path)
                .map_or(path.as_str(), |(_, n)| n.as_str());
            let git_dir = locate(repo, &path, name);
            Submodule {
                path,
                commit,
                git_dir,
            }
        })
        .collect()
}

/// Opens the submodule whose git directory is `git_dir`, exactly there.
pub fn open(git_dir: &Path) -> anyhow::Result<gix::Repository> {
    super::repo::check_files(git_dir)?;
    let repo = gix::open_opts(git_dir, gix::open::Options::isolated())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(repo)
}

/// `(path, name)` of each `[submodule "name"]` section of `.gitmodules` in `HEAD`'s tree.
fn names_by_path(repo: &gix::Repository) -> Vec<(String, String)> {
    let Some(bytes) = gitmodules(repo) else {
        return Vec::new();
    };
    let Ok(file) = gix::config::File::from_bytes_no_includes(
        &bytes,
        gix::config::file::Metadata::from(gix::config::Source::Local),
        Default::default(),
    ) else {
        return Vec::new();
    };
    let Some(sections) = file.sections_by_name("submodule") else {
        return Vec::new();
    };
    sections
        .filter_map(|s| {
            let name = s.header().subsection_name()?.to_str().ok()?.to_string();
            let path = s.value("path")?.to_str().ok()?.to_string();
            Some((path, name))
        })
        .collect()
}

/// The bytes of `.gitmodules` at the top of `HEAD`'s tree, if it is a blob of sane size.
fn gitmodules(repo: &gix::Repository) -> Option<Vec<u8>> {
    let tree = repo.head_tree().ok()?;
    let entry = tree.find_entry(".gitmodules")?;
    let header = repo.find_header(entry.oid()).ok()?;
    if header.kind() != gix::object::Kind::Blob || header.size() > MAX_GITMODULES as u64 {
        return None;
    }
    let blob = repo.find_blob(entry.oid()).ok()?;
    Some(blob.data.clone())
}

/// Whether `p` is a relative path that stays where it is joined (no `..`, no root, not empty).
fn stays_inside(p: &str) -> bool {
    let path = Path::new(p);
    !p.is_empty() && path.components().all(|c| matches!(c, Component::Normal(_)))
}

/// The git directory of the submodule at `path` named `name`: `.git/modules/<name>` of the
/// superproject (of its common directory, for a linked worktree), else `<path>/.git` in the
/// work tree (a directory, or a `.git` file naming one).
fn locate(repo: &gix::Repository, path: &str, name: &str) -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if stays_inside(name) {
        candidates.push(repo.common_dir().join("modules").join(name));
    }
    if let Some(work) = repo.workdir().filter(|_| stays_inside(path)) {
        let dotgit = work.join(path).join(".git");
        match std::fs::symlink_metadata(&dotgit) {
            Ok(m) if m.is_dir() => candidates.push(dotgit),
            Ok(m) if m.is_file() && m.len() <= 4096 => {
                if let Ok(Some(line)) = crate::fsutil::read_first_line(&dotgit, 4096)
                    && let Some(target) = line.strip_prefix("gitdir:")
                {
                    candidates.push(work.join(path).join(target.trim()));
                }
            }
            _ => {}
        }
    }
    let own = repo.git_dir().canonicalize().ok();
    candidates.into_iter().find(|dir| {
        let Ok(meta) = std::fs::symlink_metadata(dir) else {
            return false;
        };
        // A git directory is a real directory holding HEAD and objects; never the
        // superproject's own (a `.git` file pointing back at it would scan it twice).
        meta.is_dir()
            && dir.join("HEAD").is_file()
            && dir.join("objects").is_dir()
            && dir.canonicalize().ok() != own
    })
}

#[cfg(test)]
mod tests {
    use super::stays_inside;

    #[test]
    fn names_and_paths_that_leave_their_directory_are_refused() {
        assert!(stays_inside("vendor/sdk"));
        assert!(stays_inside("sdk"));
        for bad in ["", "..", "../x", "a/../../b", "/etc", "./x"] {
            assert!(!stays_inside(bad), "{bad:?} must be refused");
        }
    }
}
