//! Ignore files for the working-tree walk: `.gitignore`, `.ignore`, the repository's
//! `info/exclude` and the user's global excludes file.
//!
//! The `ignore` crate walks the tree, but it does not read ignore files for credsweep: it would
//! open them whatever they are, and a committed `.gitignore` that is a symbolic link to
//! `/dev/zero` (which survives `git clone`) made it allocate until the process aborted, a FIFO
//! made it block forever. Here every ignore file is read with `crate::fsutil::read_bounded`:
//!
//! - `.gitignore` and `.ignore` in the tree (and in the directories above a scanned root) must
//!   be regular files of at most `MAX_IGNORE_FILE` bytes, and are not followed when they are
//!   symbolic links, as git does not since 2.32;
//! - `info/exclude` (found through `.git`, a `.git` file and `commondir`) and the global excludes
//!   file (`core.excludesFile`, else `$XDG_CONFIG_HOME/git/ignore`) are followed to a regular
//!   file, as git does, within the same size.
//!
//! An ignore file that fails these checks is not used, and the scan goes on: the files it would
//! have left out are scanned, and the report carries a note naming it (git warns the same way).
//!
//! The precedence is the `ignore` crate's (and git's): a directory's rules before its parents',
//! `.ignore` before `.gitignore` before `info/exclude` before the global file, the last matching
//! pattern of a file deciding, and a repository's top ending the `.gitignore` chain.

use std::collections::{BTreeSet, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};

use crate::fsutil::{self, Links};

/// The largest ignore file used. Real ones are a few kilobytes; a pattern file much larger is
/// not what git users write, and each pattern costs time and memory to compile (a 256 KiB file
/// of wildcard-heavy patterns: about 0.8 s and 130 MB).
pub(crate) const MAX_IGNORE_FILE: u64 = 256 << 10;

/// The most bytes of ignore files one walk uses in all (a large monorepo has a few hundred KB):
/// the compiled patterns are kept for the whole walk, so this bounds their memory and time.
pub(crate) const MAX_IGNORE_TOTAL: u64 = 1 << 20;

/// Notes listed one by one; the rest are counted.
const MAX_NOTES: usize = 50;

/// A `.git` file, `commondir` and the user's git configuration files are small.
const MAX_POINTER_FILE: u64 = 64 << 10;
const MAX_GIT_CONFIG: u64 = 16 << 20;

/// The ignore rules of one directory.
struct DirRules {
    /// The nearest ancestor directory with rules of its own (or a repository's top).
    parent: Option<Arc<DirRules>>,
    ignore: Gitignore,
    gitignore: Gitignore,
    /// `info/exclude` of the repository whose top this directory is.
    exclude: Gitignore,
    /// The directory holds `.git`: `.gitignore` files above it do not apply below it.
    repo_top: bool,
}

impl DirRules {
    fn is_empty(&self) -> bool {
        !self.repo_top
            && self.ignore.is_empty()
            && self.gitignore.is_empty()
            && self.exclude.is_empty()
    }
}

/// The ignore rules of a walk: read once per directory, on first use, from any walker thread.
pub(crate) struct IgnoreRules {
    /// Each scanned root as given, and as an absolute path.
    roots: Vec<(PathBuf, PathBuf)>,
    global: Gitignore,
    dirs: Mutex<HashMap<PathBuf, Option<Arc<DirRules>>>>,
    /// Ignore files not used, and why: notes for the report.
    notes: Mutex<BTreeSet<String>>,
    /// What is left of [`MAX_IGNORE_TOTAL`].
    budget: AtomicU64,
}

impl IgnoreRules {
    /// Rules for a walk of `roots`; reads the global excludes file now.
    pub fn new(roots: &[PathBuf]) -> IgnoreRules {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        let roots = roots
            .iter()
            .map(|r| {
                let abs = r.canonicalize().unwrap_or_else(|_| cwd.join(r));
                (r.clone(), abs)
            })
            .collect();
        let rules = IgnoreRules {
            roots,
            global: Gitignore::empty(),
            dirs: Mutex::new(HashMap::new()),
            notes: Mutex::new(BTreeSet::new()),
            budget: AtomicU64::new(MAX_IGNORE_TOTAL),
        };
        let global = match global_excludes_path() {
            Some(p) => rules.load(&cwd, &p, Links::Follow),
            None => Gitignore::empty(),
        };
        IgnoreRules { global, ..rules }
    }

    /// The notes of ignore files that were not used, sorted; past [`MAX_NOTES`], counted.
    pub fn notes(&self) -> Vec<String> {
        let all = self.notes.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<String> = all.iter().take(MAX_NOTES).cloned().collect();
        if all.len() > MAX_NOTES {
            out.push(format!(
                "... and {} more notes about ignore files that were not used",
                all.len() - MAX_NOTES
            ));
        }
        out
    }

    /// Whether the walk entry at `path` (a directory when `is_dir`) is ignored.
    pub(crate) fn is_ignored(&self, path: &Path, is_dir: bool) -> bool {
        let abs = self.absolute(path);
        let Some(parent) = abs.parent() else {
            return false;
        };
        let chain = self.rules_for(parent);
        let (mut m_ignore, mut m_gi, mut m_ex) = (Match::None, Match::None, Match::None);
        let mut saw_top = false;
        let mut node = chain.as_deref();
        while let Some(r) = node {
            if m_ignore.is_none() {
                m_ignore = r.ignore.matched(&abs, is_dir);
            }
            if !saw_top && m_gi.is_none() {
                m_gi = r.gitignore.matched(&abs, is_dir);
            }
            if !saw_top && m_ex.is_none() {
                m_ex = r.exclude.matched(&abs, is_dir);
            }
            saw_top |= r.repo_top;
            node = r.parent.as_deref();
        }
        m_ignore
            .or(m_gi)
            .or(m_ex)
            .or(self.global.matched(&abs, is_dir))
            .is_ignore()
    }

    /// `path` of a walk entry as an absolute path, through the root it is under.
    fn absolute(&self, path: &Path) -> PathBuf {
        for (given, abs) in &self.roots {
            if let Ok(rest) = path.strip_prefix(given) {
                return if rest.as_os_str().is_empty() {
                    abs.clone()
                } else {
                    abs.join(rest)
                };
            }
        }
        std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
    }

    /// How a file at the absolute `path` is named in a note: under the root it was found in,
    /// as the reports name paths.
    fn shown(&self, path: &Path) -> String {
        for (given, abs) in &self.roots {
            if let Ok(rest) = path.strip_prefix(abs) {
                return super::tree::display_path(&given.join(rest));
            }
        }
        path.display().to_string()
    }

    /// The rules in force in the absolute directory `dir`: its own and its ancestors'.
    fn rules_for(&self, dir: &Path) -> Option<Arc<DirRules>> {
        let mut dirs = self.dirs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(r) = dirs.get(dir) {
            return r.clone();
        }
        // The directories from `dir` up to the nearest one already read, built top down.
        let mut missing = vec![dir.to_path_buf()];
        let mut parent = None;
        let mut up = dir.parent();
        while let Some(d) = up {
            if let Some(r) = dirs.get(d) {
                parent = r.clone();
                break;
            }
            missing.push(d.to_path_buf());
            up = d.parent();
        }
        for d in missing.into_iter().rev() {
            let own = self.read_dir_rules(&d, parent.clone());
            if !own.is_empty() {
                parent = Some(Arc::new(own));
            }
            dirs.insert(d, parent.clone());
        }
        parent
    }

    /// Reads the ignore files of the absolute directory `dir`.
    fn read_dir_rules(&self, dir: &Path, parent: Option<Arc<DirRules>>) -> DirRules {
        let ignore = self.load(dir, &dir.join(".ignore"), Links::Refuse);
        let gitignore = self.load(dir, &dir.join(".gitignore"), Links::Refuse);
        let dotgit = dir.join(".git");
        let repo_top = std::fs::symlink_metadata(&dotgit).is_ok();
        let exclude = match repo_top.then(|| self.common_dir(dir, &dotgit)).flatten() {
            Some(common) => self.load(dir, &common.join("info/exclude"), Links::Follow),
            None => Gitignore::empty(),
        };
        DirRules {
            parent,
            ignore,
            gitignore,
            exclude,
            repo_top,
        }
    }

    /// The common git directory of the repository whose `.git` is `dotgit`: `.git` itself, or
    /// for a linked worktree or submodule the directory its `.git` file names, through its
    /// `commondir`. `None` (with a note) when a file on the way cannot be used.
    fn common_dir(&self, work: &Path, dotgit: &Path) -> Option<PathBuf> {
        if std::fs::metadata(dotgit).is_ok_and(|m| m.is_dir()) {
            return Some(dotgit.to_path_buf());
        }
        let git_dir = match self.read_pointer(dotgit)? {
            Some(line) => work.join(line.strip_prefix("gitdir:")?.trim()),
            None => return None,
        };
        match self.read_pointer(&git_dir.join("commondir"))? {
            Some(c) => Some(git_dir.join(c)),
            None => Some(git_dir),
        }
    }

    /// The first line of a small git pointer file (`.git`, `commondir`): `Some(None)` when it
    /// does not exist, `None` (with a note) when it cannot be used.
    fn read_pointer(&self, file: &Path) -> Option<Option<String>> {
        match fsutil::read_first_line(file, MAX_POINTER_FILE) {
            Ok(line) => Some(line),
            Err(e) => {
                self.note(format!(
                    "{} {}: the repository's info/exclude was not used",
                    self.shown(file),
                    fsutil::explain(&e)
                ));
                None
            }
        }
    }

    /// Reads the ignore file `file`, whose patterns are relative to `base`. A file that does not
    /// exist gives no rules; one that cannot be used gives none and a note.
    fn load(&self, base: &Path, file: &Path, links: Links) -> Gitignore {
        let bytes = match fsutil::read_bounded(file, MAX_IGNORE_FILE, links) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Gitignore::empty(),
            Err(e) => {
                self.note(format!(
                    "{} {}: not used as an ignore file, so what it would leave out was scanned",
                    self.shown(file),
                    fsutil::explain(&e)
                ));
                return Gitignore::empty();
            }
        };
        let len = bytes.len() as u64;
        let within = self
            .budget
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(len)
            })
            .is_ok();
        if !within {
            self.note(format!(
                "{}: not used as an ignore file: the scan's ignore files exceed {} KiB in all, \
                 so what it would leave out was scanned",
                self.shown(file),
                MAX_IGNORE_TOTAL >> 10
            ));
            return Gitignore::empty();
        }
        let text = String::from_utf8_lossy(&bytes);
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let mut builder = GitignoreBuilder::new(base);
        let mut bad = 0usize;
        for line in text.lines() {
            if builder.add_line(Some(file.to_path_buf()), line).is_err() {
                bad += 1;
            }
        }
        // The patterns themselves are never quoted: the file may not be the repository's.
        if bad > 0 {
            self.note(format!(
                "{}: {bad} line(s) are not valid ignore patterns and were not used",
                self.shown(file)
            ));
        }
        builder.build().unwrap_or_else(|_| {
            self.note(format!(
                "{}: its patterns could not be compiled: not used as an ignore file",
                self.shown(file)
            ));
            Gitignore::empty()
        })
    }

    fn note(&self, n: String) {
        self.notes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(n);
    }
}

/// The user's global excludes file, as git finds it: `core.excludesFile` from the global
/// configuration (`GIT_CONFIG_GLOBAL`, else `~/.gitconfig` and `$XDG_CONFIG_HOME/git/config`),
/// then the system one, else `$XDG_CONFIG_HOME/git/ignore` (`~/.config/git/ignore`). The
/// configuration files are read bounded; one that cannot be read is passed over.
fn global_excludes_path() -> Option<PathBuf> {
    let var = |n: &str| std::env::var_os(n).filter(|v| !v.is_empty());
    let home = var("HOME").map(PathBuf::from);
    let xdg = var("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".config")));
    let mut configs = Vec::new();
    match var("GIT_CONFIG_GLOBAL") {
        Some(g) => configs.push(PathBuf::from(g)),
        None => {
            configs.extend(home.as_ref().map(|h| h.join(".gitconfig")));
            configs.extend(xdg.as_ref().map(|x| x.join("git/config")));
        }
    }
    if var("GIT_CONFIG_NOSYSTEM").is_none() {
        configs
            .push(var("GIT_CONFIG_SYSTEM").map_or_else(|| "/etc/gitconfig".into(), PathBuf::from));
    }
    for c in configs {
        let Ok(bytes) = fsutil::read_bounded(&c, MAX_GIT_CONFIG, Links::Follow) else {
            continue;
        };
        if let Some(v) = excludes_file_setting(&String::from_utf8_lossy(&bytes)) {
            return Some(match (v.strip_prefix("~/"), &home) {
                (Some(rest), Some(h)) => h.join(rest),
                _ => PathBuf::from(v),
            });
        }
    }
    xdg.map(|x| x.join("git/ignore"))
}

/// The last `excludesFile = ...` in a git configuration's text (the key is case-insensitive).
fn excludes_file_setting(text: &str) -> Option<String> {
    text.lines()
        .rev()
        .filter_map(|l| {
            let (k, v) = l.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("excludesfile")
                .then(|| v.trim().trim_matches('"').trim().to_string())
        })
        .find(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excludes_file_is_the_last_setting() {
        let text = "[core]\n\texcludesFile = ~/a\n[core]\n  excludesfile = \"/b c\"\n";
        assert_eq!(excludes_file_setting(text).as_deref(), Some("/b c"));
        assert_eq!(excludes_file_setting("[core]\nbare = false\n"), None);
    }

    #[test]
    fn nested_rules_and_precedence() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("sub/deep")).unwrap();
        std::fs::write(root.join(".gitignore"), "*.log\nbuild/\n").unwrap();
        std::fs::write(root.join("sub/.gitignore"), "!keep.log\n").unwrap();
        std::fs::write(root.join("sub/.ignore"), "deep/\n").unwrap();
        let rules = IgnoreRules::new(std::slice::from_ref(&root));
        assert!(rules.is_ignored(&root.join("a.log"), false));
        assert!(rules.is_ignored(&root.join("build"), true));
        assert!(!rules.is_ignored(&root.join("build"), false));
        assert!(rules.is_ignored(&root.join("sub/x.log"), false));
        assert!(!rules.is_ignored(&root.join("sub/keep.log"), false));
        assert!(rules.is_ignored(&root.join("sub/deep"), true));
        assert!(!rules.is_ignored(&root.join("sub/a.txt"), false));
        assert!(rules.notes().is_empty());
    }
}
