//! Deliberate exceptions: the configuration's allow-lists and inline markers in the scanned text.
//!
//! Unlike a positional ignore file, every exception here is about content or a path pattern, so a
//! new secret on a line that used to be allowed is not hidden by it. Inline markers are the ones
//! teams already write for other scanners, so adopting credsweep needs no edits.

use std::ops::Range;
use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use regex::bytes::Regex;

use crate::finding::line_range;
use crate::rules::PatternError;

/// Markers that allow a finding on their own line.
pub(crate) const LINE_MARKERS: &[&str] = &[
    "credsweep:allow",
    "gitleaks:allow",
    "pragma: allowlist secret",
    "kingfisher:ignore",
    "trufflehog:ignore",
];

/// The marker that allows a finding on the next line.
pub(crate) const NEXT_LINE_MARKER: &str = "pragma: allowlist nextline secret";

/// Whether an inline marker allows a secret starting at `offset` in `data`.
pub(crate) fn inline_allowed(data: &[u8], offset: usize) -> bool {
    line_allowed(data, line_range(data, offset))
}

/// [`inline_allowed`] for many offsets in increasing order: each line is judged once, and a
/// line with a thousand matches (a SQL dump's extended INSERT) is not copied a thousand times.
#[derive(Debug, Default)]
pub(crate) struct InlineMarkers {
    /// The last line judged and whether a marker allows it.
    last: Option<(Range<usize>, bool)>,
}

impl InlineMarkers {
    pub(crate) fn allowed(&mut self, data: &[u8], offset: usize, lines: &mut LineAt) -> bool {
        match &self.last {
            Some((line, allowed)) if line.contains(&offset) || line.end == offset => *allowed,
            _ => {
                let line = lines.range(data, offset);
                let allowed = line_allowed(data, line.clone());
                self.last = Some((line, allowed));
                allowed
            }
        }
    }
}

/// The line around an offset, for offsets asked in increasing order: found once per line.
#[derive(Debug, Default)]
pub(crate) struct LineAt {
    last: Option<Range<usize>>,
}

impl LineAt {
    pub(crate) fn range(&mut self, data: &[u8], offset: usize) -> Range<usize> {
        match &self.last {
            Some(line) if line.start <= offset && offset <= line.end => line.clone(),
            _ => {
                let line = line_range(data, offset);
                self.last = Some(line.clone());
                line
            }
        }
    }
}

/// Whether an inline marker on `line` of `data`, or a next-line marker on the line before,
/// allows what is on it.
fn line_allowed(data: &[u8], line: Range<usize>) -> bool {
    let text = data[line.clone()].to_ascii_lowercase();
    if LINE_MARKERS
        .iter()
        .any(|m| memchr::memmem::find(&text, m.as_bytes()).is_some())
    {
        return true;
    }
    if line.start == 0 {
        return false;
    }
    let prev = line_range(data, line.start - 1);
    let prev = data[prev].to_ascii_lowercase();
    memchr::memmem::find(&prev, NEXT_LINE_MARKER.as_bytes()).is_some()
}

/// The configuration's allow-lists.
#[derive(Debug, Default)]
pub struct Allowlist {
    root: PathBuf,
    builder: Option<GitignoreBuilder>,
    paths: Option<Gitignore>,
    /// Regexes on the path relative to the root (gitleaks allow-lists' `paths`).
    path_regexes: Vec<Regex>,
    secrets: Vec<Regex>,
    lines: Vec<Regex>,
    stopwords: Vec<String>,
    commits: Vec<String>,
    /// `--exclude` globs and the directory they are relative to (the repository's top).
    exclude: Option<(PathBuf, Gitignore)>,
    /// What the compiled secret and line regexes take (see [`crate::rules::USER_REGEX_BUDGET`]).
    regex_bytes: usize,
}

impl Allowlist {
    /// An empty allow-list whose path globs are relative to `root`.
    pub fn new(root: &Path) -> Allowlist {
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        Allowlist {
            builder: Some(GitignoreBuilder::new(&root)),
            root,
            ..Allowlist::default()
        }
    }

    /// Adds a gitignore-style glob of allowed paths (relative to the root).
    pub fn add_path_glob(&mut self, glob: &str) -> Result<(), PatternError> {
        let b = self
            .builder
            .get_or_insert_with(|| GitignoreBuilder::new(&self.root));
        b.add_line(None, glob)
            .map_err(|e| PatternError(e.to_string()))?;
        Ok(())
    }

    /// Adds a regex on paths, matched against the path relative to the root with `/` separators
    /// (the way gitleaks' allow-list `paths` are); bounded and quiet like
    /// [`Allowlist::add_secret_regex`].
    pub fn add_path_regex(&mut self, re: &str) -> Result<(), PatternError> {
        let re = crate::rules::build_config_regex(re, &mut self.regex_bytes)?;
        self.path_regexes.push(re);
        Ok(())
    }

    /// Adds a regex on secrets. Its error never quotes it (it may spell out a secret), and its
    /// compiled size is bounded like a user rule's.
    pub fn add_secret_regex(&mut self, re: &str) -> Result<(), PatternError> {
        let re = crate::rules::build_config_regex(re, &mut self.regex_bytes)?;
        self.secrets.push(re);
        Ok(())
    }

    /// Adds a regex on lines; bounded and quiet like [`Allowlist::add_secret_regex`].
    pub fn add_line_regex(&mut self, re: &str) -> Result<(), PatternError> {
        let re = crate::rules::build_config_regex(re, &mut self.regex_bytes)?;
        self.lines.push(re);
        Ok(())
    }

    pub fn add_stopword(&mut self, w: &str) {
        self.stopwords.push(w.to_ascii_lowercase());
    }

    pub fn add_commit(&mut self, c: &str) {
        self.commits.push(c.trim().to_ascii_lowercase());
    }

    /// Compiles the path globs; call once after the last `add_path_glob`.
    pub fn finish(&mut self) -> Result<(), PatternError> {
        if let Some(b) = self.builder.take() {
            self.paths = Some(b.build().map_err(|e| PatternError(e.to_string()))?);
        }
        Ok(())
    }

    /// Whether `path` is allowed. A relative path is taken relative to `base` (the current
    /// directory for tree scans, the repository's top for history).
    pub fn allows_path(&self, path: &str, base: &Path) -> bool {
        if !self.path_regexes.is_empty() {
            let p = Path::new(path);
            let abs = if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            };
            let rel = abs
                .strip_prefix(&self.root)
                .map_or_else(|_| path.to_string(), |r| r.to_string_lossy().into_owned())
                .replace('\\', "/");
            if self
                .path_regexes
                .iter()
                .any(|re| re.is_match(rel.as_bytes()))
            {
                return true;
            }
        }
        let Some(g) = &self.paths else { return false };
        if g.is_empty() {
            return false;
        }
        matches_below(g, &self.root, path, base)
    }

    /// Sets the command line's `--exclude` globs (gitignore-style, relative to `root`).
    pub fn set_excludes(&mut self, root: &Path, globs: &[String]) -> Result<(), PatternError> {
        if globs.is_empty() {
            self.exclude = None;
            return Ok(());
        }
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let mut b = GitignoreBuilder::new(&root);
        for g in globs {
            b.add_line(None, g)
                .map_err(|e| PatternError(format!("--exclude {g:?}: {e}")))?;
        }
        let set = b
            .build()
            .map_err(|e| PatternError(format!("--exclude: {e}")))?;
        self.exclude = Some((root, set));
        Ok(())
    }

    /// Whether `--exclude` leaves `path` out (relative paths are relative to `base`, as for
    /// [`Allowlist::allows_path`]).
    pub fn excludes_path(&self, path: &str, base: &Path) -> bool {
        let Some((root, g)) = &self.exclude else {
            return false;
        };
        matches_below(g, root, path, base)
    }

    /// Whether any `--exclude` glob is set.
    pub fn has_excludes(&self) -> bool {
        self.exclude.is_some()
    }

    /// Whether the secret or the line it is on is allowed.
    pub(crate) fn allows_content(&self, secret: &[u8], line: &[u8]) -> bool {
        if self.secrets.iter().any(|re| re.is_match(secret)) {
            return true;
        }
        if self.lines.iter().any(|re| re.is_match(line)) {
            return true;
        }
        if !self.stopwords.is_empty() {
            let lower = secret.to_ascii_lowercase();
            return self
                .stopwords
                .iter()
                .any(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some());
        }
        false
    }

    /// What of the allow-lists applies while content is scanned (secret and line regexes,
    /// stopwords), spelled out in full: two allow-lists with one key drop the same findings from
    /// any content. Path and commit allow-lists are applied once places are known, not here.
    pub fn content_key(&self) -> String {
        let secrets: Vec<&str> = self.secrets.iter().map(Regex::as_str).collect();
        let lines: Vec<&str> = self.lines.iter().map(Regex::as_str).collect();
        format!("{secrets:?}\0{lines:?}\0{:?}", self.stopwords)
    }

    /// Whether findings first introduced by `commit` (a full id) are allowed: the list holds full
    /// ids or prefixes of at least 7 hex digits.
    pub fn allows_commit(&self, commit: &str) -> bool {
        let c = commit.to_ascii_lowercase();
        self.commits
            .iter()
            .any(|a| a.len() >= 7 && c.starts_with(a.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.paths.as_ref().is_none_or(|g| g.is_empty())
            && self.path_regexes.is_empty()
            && self.secrets.is_empty()
            && self.lines.is_empty()
            && self.stopwords.is_empty()
            && self.commits.is_empty()
    }
}

/// Whether gitignore-style globs rooted at `root` match `path` or one of its parents; a relative
/// `path` is taken relative to `base`, and a path outside `root` matches nothing.
fn matches_below(g: &Gitignore, root: &Path, path: &str, base: &Path) -> bool {
    let p = Path::new(path);
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    };
    let Ok(rel) = abs.strip_prefix(root) else {
        return false;
    };
    g.matched_path_or_any_parents(rel, false).is_ignore()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_on_the_line_and_the_line_before() {
        let d = b"a = 1\nkey = s3cr3t # gitleaks:allow\nb = 2\n# pragma: allowlist nextline secret\nkey = s3cr3t\nkey = s3cr3t\n";
        let at = |n: usize| {
            let mut off = 0;
            for _ in 0..n {
                off = d[off..].iter().position(|&b| b == b'\n').unwrap() + off + 1;
            }
            off + 2
        };
        assert!(!inline_allowed(d, at(0)));
        assert!(inline_allowed(d, at(1)));
        assert!(inline_allowed(d, at(4)));
        assert!(!inline_allowed(d, at(5)));
    }

    #[test]
    fn path_globs_are_relative_to_root() {
        let mut a = Allowlist::new(Path::new("/nonexistent/repo"));
        a.add_path_glob("tests/fixtures/**").unwrap();
        a.add_path_glob("*.pem").unwrap();
        a.finish().unwrap();
        let root = Path::new("/nonexistent/repo");
        assert!(a.allows_path("tests/fixtures/x/a.env", root));
        assert!(a.allows_path("deep/key.pem", root));
        assert!(!a.allows_path("src/main.rs", root));
        assert!(a.allows_path(
            "/nonexistent/repo/tests/fixtures/a",
            Path::new("/elsewhere")
        ));
        assert!(a.allows_path("repo/tests/fixtures/a", Path::new("/nonexistent")));
    }

    #[test]
    fn content_and_commits() {
        let mut a = Allowlist::new(Path::new("/r"));
        a.add_secret_regex("^sk_test_").unwrap();
        a.add_line_regex("# fixture").unwrap();
        a.add_stopword("FAKE");
        a.add_commit("0123456789abcdef");
        assert!(a.allows_content(b"sk_test_q8Zr2", b""));
        assert!(a.allows_content(b"q8Zr2", b"x = q8Zr2 # fixture"));
        assert!(a.allows_content(b"q8Zfake2", b""));
        assert!(!a.allows_content(b"q8Zr2", b"x = q8Zr2"));
        assert!(a.allows_commit("0123456789abcdef0123456789abcdef01234567"));
        assert!(!a.allows_commit("0123456"));
        assert!(!a.allows_commit("fedcba9876543210"));
    }
}
