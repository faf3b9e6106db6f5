//! The baseline: findings a team has accepted, so they do not fail the gate.
//!
//! Entries are keyed by [`Fingerprint`] (a keyed hash of rule and secret), so an accepted secret
//! stays accepted when its line moves or its file is renamed, and a different secret on the same
//! line is still reported. The file holds no secrets, no line numbers and no timestamps, one entry
//! per line, sorted: two branches that accept different findings touch different lines, and the
//! `merge=union` attribute that `baseline add` sets lets git merge even neighbouring additions.
//!
//! Each entry records its [`Scope`]s: which kinds of scan (the working tree, the history) saw the
//! finding when it was accepted or last pruned. A finding is suppressed wherever it turns up, but
//! an entry is judged stale only by a scan that covered its scope fully ([`Coverage`]): a scan of
//! the whole tree for `tree` entries, of the whole history for `history` entries. Entries written
//! before scopes existed have none: they are never called stale nor pruned until a `baseline add`
//! or `baseline prune` sees them and records the scope.
//!
//! The file also holds a check value of the fingerprint key ([`key_check`]), so that a changed
//! `fingerprint_salt`, which makes every entry match nothing, is an error that says so rather than
//! a flood of findings the team thought it had accepted.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::finding::{Finding, Fingerprint};
use crate::fsutil::Links;

/// The file looked for at the scanned root.
pub(crate) const BASELINE_FILE: &str = ".credsweep-baseline.toml";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub fingerprint: String,
    pub rule: String,
    /// Where it was first seen, relative to the repository's top (`<stdin>` for standard input).
    pub path: String,
    /// Which scans accepted it; empty for entries written before scopes were recorded.
    #[serde(default)]
    pub scope: Vec<Scope>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A kind of scan whose findings an entry accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// The working tree (`dir`, `baseline add`).
    Tree,
    /// The git history (`git`, `baseline add --git`).
    History,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Tree => "tree",
            Scope::History => "history",
        }
    }
}

/// Which scopes a scan looked at in full, so that an entry it did not see is truly gone from
/// them. Partial scans (`staged`, `stdin`, `pre-push`, `git --range`, `dir SUBDIR`, any scan with
/// `--exclude`) cover nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Coverage {
    pub tree: bool,
    pub history: bool,
}

impl Coverage {
    pub fn covers(self, s: Scope) -> bool {
        match s {
            Scope::Tree => self.tree,
            Scope::History => self.history,
        }
    }

    pub fn is_none(self) -> bool {
        !self.tree && !self.history
    }
}

/// The check value of a fingerprint key stored in the baseline: a keyed hash of a fixed text,
/// truncated to 64 bits. It tells whether two keys are the same and nothing about the key.
pub fn key_check(key: &[u8]) -> String {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"credsweep-baseline-check");
    let digest = mac.finalize().into_bytes();
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBaseline {
    version: u32,
    key_check: Option<String>,
    #[serde(default)]
    entries: Vec<Entry>,
}

/// Accepted findings, by fingerprint.
#[derive(Debug, Default, Clone)]
pub struct Baseline {
    entries: BTreeMap<String, Entry>,
    /// [`key_check`] of the key its fingerprints were made with; `None` in older files.
    key_check: Option<String>,
}

/// What [`Baseline::prune`] changed.
#[derive(Debug, Default)]
pub struct Pruned {
    /// Entries no covered scan sees any more, removed.
    pub dropped: Vec<Entry>,
    /// Entries kept for a scope the scan did not cover, with the scopes taken off them.
    pub narrowed: Vec<(Entry, Vec<Scope>)>,
}

impl Baseline {
    /// Reads `path`. Duplicate entries (as a union merge may leave) are fine: the first wins.
    pub fn load(path: &Path) -> Result<Baseline> {
        // Generous: an entry is a few hundred bytes.
        let text = crate::config::read_text_file(path, 256 << 20)
            .with_context(|| format!("cannot read the baseline {}", path.display()))?;
        let raw: RawBaseline = toml::from_str(&text).map_err(|e| {
            let line = e
                .span()
                .map(|s| crate::finding::line_number(text.as_bytes(), s.start));
            anyhow::anyhow!(
                "{}{}: not a valid baseline: {} (regenerate it with `credsweep baseline add`)",
                path.display(),
                line.map(|l| format!(":{l}")).unwrap_or_default(),
                e.message().trim_end()
            )
        })?;
        if raw.version != 1 {
            bail!(
                "{}: baseline version {} is not supported by this credsweep (it writes version 1)",
                path.display(),
                raw.version
            );
        }
        let mut entries: BTreeMap<String, Entry> = BTreeMap::new();
        for mut e in raw.entries {
            e.scope.sort();
            e.scope.dedup();
            match entries.get_mut(&e.fingerprint) {
                // A union merge of two branches that recorded different scopes: both hold.
                Some(first) => {
                    for s in e.scope {
                        insert_scope(&mut first.scope, s);
                    }
                }
                None => {
                    entries.insert(e.fingerprint.clone(), e);
                }
            }
        }
        Ok(Baseline {
            entries,
            key_check: raw.key_check,
        })
    }

    /// Fails when the baseline was written with another fingerprint key than `key`: its entries
    /// could then match nothing, and every accepted finding would come back unexplained.
    pub(crate) fn check_key(&self, key: &[u8], path: &Path) -> Result<()> {
        match &self.key_check {
            Some(k) if *k != key_check(key) => bail!(
                "{}: the baseline was written with another fingerprint key (was `fingerprint_salt` \
                 in .credsweep.toml changed?), so none of its {} entries can match. Put the old \
                 `fingerprint_salt` back, or rebuild the baseline with the new key: remove {} and \
                 run `credsweep baseline add` (and `credsweep baseline add --git` for history)",
                path.display(),
                self.entries.len(),
                path.display()
            ),
            _ => Ok(()),
        }
    }

    /// Records `key` as the key the fingerprints are made with (before [`Baseline::save`]).
    pub(crate) fn set_key(&mut self, key: &[u8]) {
        self.key_check = Some(key_check(key));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn contains(&self, fp: &Fingerprint) -> bool {
        self.entries.contains_key(&fp.0)
    }

    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// Adds an entry for each finding not in the baseline yet, accepted for `scope`; entries
    /// already there that a finding matches get `scope` too. `path_of` gives the path to record
    /// (relative to the repository's top). Returns how many entries were added.
    pub fn add(
        &mut self,
        findings: &[Finding],
        scope: Scope,
        reason: Option<&str>,
        path_of: impl Fn(&Finding) -> String,
    ) -> usize {
        let before = self.entries.len();
        for f in findings {
            let e = self
                .entries
                .entry(f.fingerprint.0.clone())
                .or_insert_with(|| Entry {
                    fingerprint: f.fingerprint.0.clone(),
                    rule: f.rule_id.clone(),
                    path: path_of(f),
                    scope: Vec::new(),
                    reason: reason.map(str::to_string),
                });
            insert_scope(&mut e.scope, scope);
        }
        self.entries.len() - before
    }

    /// Entries a scan covering `cov` should have seen but did not (none of `seen`), each with the
    /// scope it is stale for. Entries with no recorded scope are never stale.
    pub fn stale(&self, seen: &BTreeSet<&str>, cov: Coverage) -> Vec<(&Entry, Vec<Scope>)> {
        self.entries
            .values()
            .filter(|e| !seen.contains(e.fingerprint.as_str()))
            .filter_map(|e| {
                let gone: Vec<Scope> = e.scope.iter().copied().filter(|&s| cov.covers(s)).collect();
                (!gone.is_empty()).then_some((e, gone))
            })
            .collect()
    }

    /// Brings the baseline in line with a scan covering `cov` that found `findings`: an entry it
    /// saw gets the scan's scopes; one it did not see loses the scopes the scan covered, and is
    /// dropped when none is left. Entries outside the scan's coverage, and entries with no recorded
    /// scope that it did not see, are kept as they are: prune never drops what it did not look at.
    pub fn prune(&mut self, findings: &[Finding], cov: Coverage) -> Pruned {
        let seen: BTreeSet<&str> = findings.iter().map(|f| f.fingerprint.0.as_str()).collect();
        let mut out = Pruned::default();
        let mut drop = Vec::new();
        for e in self.entries.values_mut() {
            if seen.contains(e.fingerprint.as_str()) {
                for s in [Scope::Tree, Scope::History] {
                    if cov.covers(s) {
                        insert_scope(&mut e.scope, s);
                    }
                }
                continue;
            }
            let gone: Vec<Scope> = e.scope.iter().copied().filter(|&s| cov.covers(s)).collect();
            if gone.is_empty() {
                continue;
            }
            e.scope.retain(|s| !gone.contains(s));
            if e.scope.is_empty() {
                drop.push(e.fingerprint.clone());
            } else {
                out.narrowed.push((e.clone(), gone));
            }
        }
        out.dropped = drop
            .iter()
            .filter_map(|fp| self.entries.remove(fp))
            .collect();
        out
    }

    /// How many entries have no recorded scope (written by an older credsweep).
    pub fn unscoped(&self) -> usize {
        self.entries.values().filter(|e| e.scope.is_empty()).count()
    }

    /// The file's text: a header, then one entry per line, sorted by fingerprint.
    pub(crate) fn render(&self) -> String {
        let mut out = String::from(
            "# credsweep baseline: accepted findings. No secrets and no line numbers: each entry is a\n\
             # keyed hash of (rule, secret). `credsweep baseline add` adds the current findings,\n\
             # `credsweep baseline prune` drops entries that match nothing any more.\n\
             # Paths are relative to the repository's top; `scope` says which scans accepted each\n\
             # entry (tree: `baseline add`, history: `baseline add --git`).\n\
             version = 1\n",
        );
        if let Some(k) = &self.key_check {
            let _ = writeln!(
                out,
                "key_check = {}  # check value of the fingerprint key",
                toml_str(k)
            );
        }
        out.push_str("entries = [\n");
        for e in self.entries.values() {
            let _ = write!(
                out,
                "{{ fingerprint = {}, rule = {}, path = {}",
                toml_str(&e.fingerprint),
                toml_str(&e.rule),
                toml_str(&e.path)
            );
            if !e.scope.is_empty() {
                let scopes: Vec<String> = e.scope.iter().map(|s| toml_str(s.as_str())).collect();
                let _ = write!(out, ", scope = [{}]", scopes.join(", "));
            }
            if let Some(r) = &e.reason {
                let _ = write!(out, ", reason = {}", toml_str(r));
            }
            out.push_str(" },\n");
        }
        out.push_str("]\n");
        out
    }

    /// Writes the baseline to `path`, atomically, never through a symbolic link.
    pub(crate) fn save(&self, path: &Path) -> Result<()> {
        crate::fsutil::write_atomic(path, self.render().as_bytes(), None)
            .with_context(|| format!("cannot write the baseline {}", path.display()))
    }
}

/// Adds `s` to a sorted scope list unless it is there.
fn insert_scope(scopes: &mut Vec<Scope>, s: Scope) {
    if let Err(i) = scopes.binary_search(&s) {
        scopes.insert(i, s);
    }
}

/// A TOML basic string.
fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The largest `.gitattributes` `baseline add` reads to append to.
const MAX_ATTRIBUTES_FILE: u64 = 16 << 20;

/// `.gitattributes` beside `baseline`.
fn attributes_file(baseline: &Path) -> PathBuf {
    baseline
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join(".gitattributes")
}

/// Checks, before anything is written, that [`ensure_union_merge`] may read and replace the
/// `.gitattributes` beside `baseline` and that `baseline` itself may be replaced: each is absent
/// or a regular file, not a symbolic link.
pub(crate) fn check_writable(baseline: &Path) -> Result<()> {
    let attrs = attributes_file(baseline);
    for p in [baseline, attrs.as_path()] {
        crate::fsutil::check_writable(p)
            .with_context(|| format!("cannot write {}", p.display()))?;
    }
    match crate::fsutil::check_file(&attrs, MAX_ATTRIBUTES_FILE, Links::Refuse) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => bail!(
            "cannot add `merge=union` for the baseline to {}: it {}",
            attrs.display(),
            crate::fsutil::explain(&e)
        ),
        _ => Ok(()),
    }
}

/// Makes git merge the baseline by union of lines, so branches that add entries merge cleanly.
/// Adds `<name> merge=union` to `.gitattributes` beside the baseline unless it is there already.
pub(crate) fn ensure_union_merge(baseline: &Path) -> Result<Option<PathBuf>> {
    let name = baseline
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| BASELINE_FILE.to_string());
    let attrs = attributes_file(baseline);
    // A committed `.gitattributes` is the repository's: like git, a symbolic link there is not
    // followed, and a FIFO, a device or a huge file is not read.
    let existing = match crate::fsutil::read_bounded(&attrs, MAX_ATTRIBUTES_FILE, Links::Refuse) {
        Ok(bytes) => String::from_utf8(bytes)
            .map_err(|_| anyhow::anyhow!("{}: not UTF-8 text", attrs.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => bail!(
            "cannot add `merge=union` for the baseline to {}: {e}",
            attrs.display()
        ),
    };
    let line = format!("{name} merge=union");
    if existing.lines().any(|l| l.trim() == line) {
        return Ok(None);
    }
    let mut text = existing;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&line);
    text.push('\n');
    crate::fsutil::write_atomic(&attrs, text.as_bytes(), None)
        .with_context(|| format!("cannot write {}", attrs.display()))?;
    Ok(Some(attrs))
}

/// One line of gitleaks' ignore file (`.gitleaksignore`): a finding gitleaks was told to ignore,
/// named by `commit:path:rule-id:line` (history) or `path:rule-id:line` (files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreEntry {
    pub commit: Option<String>,
    pub path: String,
    pub rule: String,
    pub line: usize,
}

impl IgnoreEntry {
    /// Whether a finding of `rule_id` at `path` (relative to the repository's top), `line`, first
    /// introduced by `commit` (history scans) is the one this entry names. A rule converted from a
    /// gitleaks file may carry the prefix `gitleaks-` (its id was taken); an entry without a
    /// commit names the path in any commit.
    pub fn matches(&self, rule_id: &str, path: &str, line: usize, commit: Option<&str>) -> bool {
        let rule_ok = rule_id == self.rule
            || rule_id
                .strip_prefix("gitleaks-")
                .is_some_and(|r| r == self.rule);
        let commit_ok = match (&self.commit, commit) {
            (None, _) => true,
            (Some(want), Some(c)) => c.to_ascii_lowercase().starts_with(want.as_str()),
            (Some(_), None) => false,
        };
        rule_ok
            && commit_ok
            && line == self.line
            && path.trim_start_matches("./") == self.path.trim_start_matches("./")
    }
}

impl std::fmt::Display for IgnoreEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(c) = &self.commit {
            write!(f, "{c}:")?;
        }
        write!(f, "{}:{}:{}", self.path, self.rule, self.line)
    }
}

/// The entries of a `.gitleaksignore` and how many lines were neither an entry, a comment nor
/// blank. The path may hold `:`, so a line is read from the right: line number, rule id, then a
/// leading commit id (7 to 64 hex digits) if there is one.
pub fn parse_gitleaksignore(text: &str) -> (Vec<IgnoreEntry>, usize) {
    let mut entries = Vec::new();
    let mut unreadable = 0;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.rsplitn(3, ':');
        let (Some(n), Some(rule), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
            unreadable += 1;
            continue;
        };
        let Ok(n) = n.parse::<usize>() else {
            unreadable += 1;
            continue;
        };
        let (commit, path) = match rest.split_once(':') {
            Some((c, p))
                if (7..=64).contains(&c.len())
                    && c.bytes().all(|b| b.is_ascii_hexdigit())
                    && !p.is_empty() =>
            {
                (Some(c.to_ascii_lowercase()), p)
            }
            _ => (None, rest),
        };
        if rule.is_empty() || path.is_empty() {
            unreadable += 1;
            continue;
        }
        entries.push(IgnoreEntry {
            commit,
            path: path.to_string(),
            rule: rule.to_string(),
            line: n,
        });
    }
    (entries, unreadable)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn render_then_load_round_trips_and_tolerates_duplicates() {
        let mut b = Baseline::default();
        b.entries.insert(
            "bb".into(),
            Entry {
                fingerprint: "bb".into(),
                rule: "r".into(),
                path: "a \"q\".txt".into(),
                scope: vec![Scope::History],
                reason: Some("fixture".into()),
            },
        );
        b.entries.insert(
            "aa".into(),
            Entry {
                fingerprint: "aa".into(),
                rule: "r".into(),
                path: "p".into(),
                scope: Vec::new(),
                reason: None,
            },
        );
        let text = b.render();
        let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("{ ")).collect();
        assert!(lines[0].contains("\"aa\"") && lines[1].contains("\"bb\""));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.toml");
        // A union merge can leave the same line twice.
        fs::write(&p, text.replace("]\n", &format!("{}\n]\n", lines[0]))).unwrap();
        let back = Baseline::load(&p).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back.entries["bb"].path, "a \"q\".txt");
        assert_eq!(back.entries["bb"].scope, [Scope::History]);
        assert!(back.entries["aa"].scope.is_empty());
    }

    fn entry(fp: &str, scope: &[Scope]) -> Entry {
        Entry {
            fingerprint: fp.into(),
            rule: "r".into(),
            path: "p".into(),
            scope: scope.to_vec(),
            reason: None,
        }
    }

    #[test]
    fn staleness_and_prune_stay_within_the_scan_scope() {
        let mut b = Baseline::default();
        for e in [
            entry("tree", &[Scope::Tree]),
            entry("hist", &[Scope::History]),
            entry("both", &[Scope::Tree, Scope::History]),
            entry("old", &[]),
        ] {
            b.entries.insert(e.fingerprint.clone(), e);
        }
        let none = BTreeSet::new();
        let tree = Coverage {
            tree: true,
            history: false,
        };
        let stale: Vec<&str> = b
            .stale(&none, tree)
            .iter()
            .map(|(e, _)| e.fingerprint.as_str())
            .collect();
        assert_eq!(stale, ["both", "tree"]);
        assert!(b.stale(&none, Coverage::default()).is_empty());
        let pruned = b.prune(&[], tree);
        assert_eq!(pruned.dropped.len(), 1);
        assert_eq!(pruned.dropped[0].fingerprint, "tree");
        assert_eq!(pruned.narrowed.len(), 1);
        assert_eq!(b.entries["both"].scope, [Scope::History]);
        assert!(b.entries.contains_key("hist") && b.entries.contains_key("old"));
    }

    #[test]
    fn key_check_round_trips_and_catches_another_key() {
        let mut b = Baseline::default();
        b.set_key(b"one");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.toml");
        fs::write(&p, b.render()).unwrap();
        let back = Baseline::load(&p).unwrap();
        back.check_key(b"one", &p).unwrap();
        let e = back.check_key(b"two", &p).unwrap_err().to_string();
        assert!(
            e.contains("fingerprint_salt") && e.contains("baseline add"),
            "{e}"
        );
        assert!(!b.render().contains("one"));
    }

    #[test]
    fn bad_baseline_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.toml");
        fs::write(&p, "version = 1\nentries = [\n{ fingerprint = 1 },\n]\n").unwrap();
        let e = Baseline::load(&p).unwrap_err().to_string();
        assert!(e.contains("b.toml:3"), "{e}");
    }

    #[test]
    fn gitleaksignore_lines_are_read_from_the_right() {
        let text = "# comment\n\n\
                    0123abcd0123abcd0123abcd0123abcd0123abcd:src/a:b.txt:acme-token:12\n\
                    config/app.env:generic-api-key:3\n\
                    not an entry\n";
        let (entries, bad) = parse_gitleaksignore(text);
        assert_eq!(bad, 1);
        assert_eq!(entries.len(), 2);
        let e = &entries[0];
        assert_eq!(
            e.commit.as_deref(),
            Some("0123abcd0123abcd0123abcd0123abcd0123abcd")
        );
        assert_eq!(
            (e.path.as_str(), e.rule.as_str(), e.line),
            ("src/a:b.txt", "acme-token", 12)
        );
        assert!(e.matches(
            "acme-token",
            "src/a:b.txt",
            12,
            Some("0123ABCD0123abcd0123abcd0123abcd0123abcd")
        ));
        assert!(e.matches(
            "gitleaks-acme-token",
            "./src/a:b.txt",
            12,
            Some("0123abcd0123abcd0123abcd0123abcd0123abcd")
        ));
        assert!(!e.matches(
            "acme-token",
            "src/a:b.txt",
            13,
            Some("0123abcd0123abcd0123abcd0123abcd0123abcd")
        ));
        assert!(!e.matches("acme-token", "src/a:b.txt", 12, None));
        let e = &entries[1];
        assert_eq!(e.commit, None);
        assert!(e.matches("generic-api-key", "config/app.env", 3, None));
        assert_eq!(e.to_string(), "config/app.env:generic-api-key:3");
    }
}
