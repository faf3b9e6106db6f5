//! The baseline: findings a team has accepted, so they do not fail the gate.
//!
//! Entries are keyed by [`Fingerprint`] (a keyed hash of rule and secret), so an accepted secret
//! stays accepted when its line moves or its file is renamed, and a different secret on the same
//! line is still reported. The file holds no secrets, no line numbers and no timestamps, one entry
//! per line, sorted: two branches that accept different findings touch different lines, and the
//! `merge=union` attribute that `baseline add` sets lets git merge even neighbouring additions.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::finding::{Finding, Fingerprint};
use crate::fsutil::Links;

/// The file looked for at the scanned root.
pub const BASELINE_FILE: &str = ".credsweep-baseline.toml";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub fingerprint: String,
    pub rule: String,
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBaseline {
    version: u32,
    #[serde(default)]
    entries: Vec<Entry>,
}

/// Accepted findings, by fingerprint.
#[derive(Debug, Default, Clone)]
pub struct Baseline {
    entries: BTreeMap<String, Entry>,
}

impl Baseline {
    /// Reads `path`. Duplicate entries (as a union merge may leave) are fine: the first wins.
    pub fn load(path: &Path) -> Result<Baseline> {
        // Generous: an entry is a few hundred bytes.
        let text = crate::config::read_text_file(path, 256 << 20)
            .with_context(|| format!("cannot read the baseline {}", path.display()))?;
        let raw: RawBaseline = toml::from_str(&text).map_err(|e| {
            let line = e.span().map(|s| {
                text.as_bytes()[..s.start]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count()
                    + 1
            });
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
        let mut entries = BTreeMap::new();
        for e in raw.entries {
            entries.entry(e.fingerprint.clone()).or_insert(e);
        }
        Ok(Baseline { entries })
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

    /// Adds an entry for each finding not in the baseline yet; returns how many were added.
    pub fn add(&mut self, findings: &[Finding], reason: Option<&str>) -> usize {
        let before = self.entries.len();
        for f in findings {
            self.entries
                .entry(f.fingerprint.0.clone())
                .or_insert_with(|| Entry {
                    fingerprint: f.fingerprint.0.clone(),
                    rule: f.rule_id.clone(),
                    path: f.path.clone(),
                    reason: reason.map(str::to_string),
                });
        }
        self.entries.len() - before
    }

    /// Entries that match none of `findings`.
    pub fn stale(&self, findings: &[Finding]) -> Vec<&Entry> {
        let live: BTreeSet<&str> = findings.iter().map(|f| f.fingerprint.0.as_str()).collect();
        self.entries
            .values()
            .filter(|e| !live.contains(e.fingerprint.as_str()))
            .collect()
    }

    /// Drops the entries that match none of `findings`; returns them.
    pub fn prune(&mut self, findings: &[Finding]) -> Vec<Entry> {
        let stale: Vec<String> = self
            .stale(findings)
            .iter()
            .map(|e| e.fingerprint.clone())
            .collect();
        stale
            .iter()
            .filter_map(|fp| self.entries.remove(fp))
            .collect()
    }

    /// The file's text: a header, then one entry per line, sorted by fingerprint.
    pub fn render(&self) -> String {
        let mut out = String::from(
            "# credsweep baseline: accepted findings. No secrets and no line numbers: each entry is a\n\
             # keyed hash of (rule, secret). `credsweep baseline add` adds the current findings,\n\
             # `credsweep baseline prune` drops entries that match nothing any more.\n\
             version = 1\n\
             entries = [\n",
        );
        for e in self.entries.values() {
            let _ = write!(
                out,
                "{{ fingerprint = {}, rule = {}, path = {}",
                toml_str(&e.fingerprint),
                toml_str(&e.rule),
                toml_str(&e.path)
            );
            if let Some(r) = &e.reason {
                let _ = write!(out, ", reason = {}", toml_str(r));
            }
            out.push_str(" },\n");
        }
        out.push_str("]\n");
        out
    }

    /// Writes the baseline to `path`, atomically, never through a symbolic link.
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::fsutil::write_atomic(path, self.render().as_bytes(), None)
            .with_context(|| format!("cannot write the baseline {}", path.display()))
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
pub fn check_writable(baseline: &Path) -> Result<()> {
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
pub fn ensure_union_merge(baseline: &Path) -> Result<Option<PathBuf>> {
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
                reason: Some("fixture".into()),
            },
        );
        b.entries.insert(
            "aa".into(),
            Entry {
                fingerprint: "aa".into(),
                rule: "r".into(),
                path: "p".into(),
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
    }

    #[test]
    fn bad_baseline_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.toml");
        fs::write(&p, "version = 1\nentries = [\n{ fingerprint = 1 },\n]\n").unwrap();
        let e = Baseline::load(&p).unwrap_err().to_string();
        assert!(e.contains("b.toml:3"), "{e}");
    }
}
