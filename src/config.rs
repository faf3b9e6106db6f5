//! The project's configuration file, `.credsweep.toml`.
//!
//! A [`Config`] tunes the rule set (extend or replace the default pack, disable rules, add rules
//! inline, change severities), the size cap and the fingerprint key, and holds the
//! allow-lists ([`crate::allow::Allowlist`]). It is found at the scanned root or the nearest parent
//! up to the repository's top (or named with `--config`), and every error names the file, the line
//! and the reason.
//!
//! ```toml
//! default_rules = true              # false: only the rules below and --rules files
//! rule_files = ["ci/extra-rules.toml"]
//! disable = ["generic-secret"]
//! fingerprint_salt = "a per-repository secret"
//! max_file_size = "16M"               # opt-in cap: a file cut by it fails the scan (exit 2)
//! allow_truncation = true             # ... unless this (or --allow-truncation) accepts it
//! min_severity = "warning"          # drop findings below it (--min-severity wins)
//!
//! [severity]
//! vobiz-partner-id = "note"
//!
//! [allow]
//! paths = ["tests/fixtures/**"]     # gitignore-style globs, relative to this file
//! secrets = ['''^sk_test_''']       # regexes on the secret
//! lines = ['''# fake:''']           # regexes on the whole line
//! stopwords = ["fixture"]           # substrings of the secret, case-insensitive
//! commits = ["0123abcd..."]         # history: findings first introduced by these commits
//!
//! [[rule]]                          # same format as rules/*.toml
//! id = "acme-api-key"
//! ...
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::allow::Allowlist;
use crate::gitleaks::Imported;
use crate::rules::{RuleSet, RuleSpec, Severity, without_values};

/// The file name looked for at the scanned root.
pub(crate) const CONFIG_FILE: &str = ".credsweep.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    default_rules: Option<bool>,
    #[serde(default)]
    rule_files: Vec<Spanned<String>>,
    #[serde(default)]
    disable: Vec<Spanned<String>>,
    fingerprint_salt: Option<Spanned<String>>,
    max_file_size: Option<Spanned<String>>,
    allow_truncation: Option<bool>,
    min_severity: Option<Severity>,
    #[serde(default)]
    severity: BTreeMap<String, Spanned<Severity>>,
    #[serde(default)]
    allow: RawAllow,
    #[serde(default)]
    rule: Vec<Spanned<RuleSpec>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAllow {
    #[serde(default)]
    paths: Vec<Spanned<String>>,
    #[serde(default)]
    secrets: Vec<Spanned<String>>,
    #[serde(default)]
    lines: Vec<Spanned<String>>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    commits: Vec<Spanned<String>>,
}

/// A configuration error: the file, the line (when known) and what is wrong.
#[derive(Debug, Clone)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}: {}", self.file.display(), l, self.problem),
            None => write!(f, "{}: {}", self.file.display(), self.problem),
        }
    }
}

impl std::error::Error for ConfigError {}

/// A loaded, validated configuration.
#[derive(Debug, Default)]
pub struct Config {
    /// The file it came from; `None` for the empty default.
    pub file: Option<PathBuf>,
    /// Named by the user (`--config`) rather than found in the scanned tree. A configuration
    /// found there belongs to the repository under review, which may be hostile: its
    /// `rule_files` must stay inside the repository, it may add at most
    /// `MAX_REPOSITORY_RULES` rules.
    pub trusted: bool,
    pub default_rules: bool,
    pub fingerprint_salt: Option<String>,
    pub max_file_size: Option<u64>,
    /// `allow_truncation = true`: a scan the size cap cut may pass (as `--allow-truncation`).
    pub allow_truncation: bool,
    /// Findings below this severity are dropped (and counted); `--min-severity` wins.
    pub min_severity: Option<Severity>,
    pub allow: Allowlist,
    rule_files: Vec<(PathBuf, usize)>,
    disable: Vec<(String, usize)>,
    severity: Vec<(String, Severity, usize)>,
    rules: Vec<(RuleSpec, usize)>,
}

impl Config {
    /// No file: the default rule pack, no allow-lists.
    pub fn empty() -> Config {
        Config {
            default_rules: true,
            ..Config::default()
        }
    }

    /// The directory paths in the configuration are relative to.
    pub fn root(&self) -> Option<&Path> {
        self.file.as_deref().and_then(Path::parent)
    }

    /// Reads and validates `file`.
    pub fn load(file: &Path) -> Result<Config, ConfigError> {
        let text = read_text_file(file, MAX_CONFIG_FILE).map_err(|e| ConfigError {
            file: file.to_path_buf(),
            line: None,
            problem: format!("cannot read the configuration: {e}"),
        })?;
        Config::parse(file, &text)
    }

    /// Parses `text`, the contents of `file`.
    pub fn parse(file: &Path, text: &str) -> Result<Config, ConfigError> {
        let at = |span: Range<usize>, problem: String| ConfigError {
            file: file.to_path_buf(),
            line: Some(line_of(text, span.start)),
            problem,
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError {
            file: file.to_path_buf(),
            line: e.span().map(|s| line_of(text, s.start)),
            problem: toml_problem(text, e.span().map(|s| s.start), e.message()),
        })?;
        let root = file.parent().unwrap_or(Path::new("."));
        let max_file_size = raw
            .max_file_size
            .map(|s| {
                // The value is not quoted: errors reach CI logs, and a value may be anything.
                crate::units::parse_size(s.get_ref())
                    .map_err(|e| at(s.span(), format!("max_file_size: {}", without_values(&e))))
            })
            .transpose()?;
        let mut allow = Allowlist::new(root);
        for p in &raw.allow.paths {
            allow
                .add_path_glob(p.get_ref())
                .map_err(|e| at(p.span(), format!("allow.paths: {e}")))?;
        }
        for s in &raw.allow.secrets {
            allow
                .add_secret_regex(s.get_ref())
                .map_err(|e| at(s.span(), format!("allow.secrets: {e}")))?;
        }
        for s in &raw.allow.lines {
            allow
                .add_line_regex(s.get_ref())
                .map_err(|e| at(s.span(), format!("allow.lines: {e}")))?;
        }
        for w in &raw.allow.stopwords {
            allow.add_stopword(w);
        }
        for c in &raw.allow.commits {
            // The value is not echoed: a mistake here may be a secret pasted in the wrong place.
            if !is_commit_id(c.get_ref()) {
                return Err(at(
                    c.span(),
                    "allow.commits: not a commit id: use a full commit id or a prefix of at least 7 hex digits".to_string(),
                ));
            }
            allow.add_commit(c.get_ref());
        }
        allow.finish().map_err(|e| ConfigError {
            file: file.to_path_buf(),
            line: None,
            problem: format!("allow.paths: {e}"),
        })?;
        Ok(Config {
            file: Some(file.to_path_buf()),
            trusted: false,
            default_rules: raw.default_rules.unwrap_or(true),
            fingerprint_salt: raw.fingerprint_salt.map(|s| s.into_inner()),
            max_file_size,
            allow_truncation: raw.allow_truncation.unwrap_or(false),
            min_severity: raw.min_severity,
            allow,
            rule_files: raw
                .rule_files
                .into_iter()
                .map(|f| (root.join(f.get_ref()), line_of(text, f.span().start)))
                .collect(),
            disable: raw
                .disable
                .into_iter()
                .map(|d| (d.get_ref().clone(), line_of(text, d.span().start)))
                .collect(),
            severity: raw
                .severity
                .into_iter()
                .map(|(id, s)| (id, *s.get_ref(), line_of(text, s.span().start)))
                .collect(),
            rules: raw
                .rule
                .into_iter()
                .map(|r| {
                    let line = line_of(text, r.span().start);
                    (r.into_inner(), line)
                })
                .collect(),
        })
    }

    /// Finds the configuration for a scan rooted at `start`: `.credsweep.toml` there or in the
    /// nearest parent, not above the repository's top (the first directory holding `.git`).
    pub(crate) fn discover(start: &Path) -> Result<Option<Config>, ConfigError> {
        let start = start.canonicalize().unwrap_or_else(|_| start.to_path_buf());
        let mut dir = if start.is_dir() {
            Some(start.as_path())
        } else {
            start.parent()
        };
        while let Some(d) = dir {
            let candidate = d.join(CONFIG_FILE);
            if candidate.is_file() {
                return Config::load(&candidate).map(Some);
            }
            if crate::project::is_top(d) {
                break;
            }
            dir = d.parent();
        }
        Ok(None)
    }

    /// Applies the rule settings to `set` (which holds the default pack when `default_rules`,
    /// else nothing): adds rule files (credsweep or gitleaks format) and inline rules, disables,
    /// and changes severities. Returns what gitleaks-format rule files brought besides rules.
    pub fn apply_rules(&self, set: &mut RuleSet) -> Result<Imported, ConfigError> {
        let mut imported = Imported::default();
        let file = self.file.clone().unwrap_or_default();
        let err = |line: usize, problem: String| ConfigError {
            file: file.clone(),
            line: Some(line),
            problem,
        };
        let before = set.len();
        let too_many = |set: &RuleSet, line: usize| {
            (!self.trusted && set.len() - before > MAX_REPOSITORY_RULES).then(|| {
                err(
                    line,
                    format!(
                        "a repository's own configuration may add at most {MAX_REPOSITORY_RULES} \
                         rules: name a configuration you trust with --config, or rule files with \
                         --rules"
                    ),
                )
            })
        };
        for (path, line) in &self.rule_files {
            let path = if self.trusted {
                path.clone()
            } else {
                self.inside_repository(path)
                    .map_err(|problem| err(*line, problem))?
            };
            let text = read_text_file(&path, MAX_CONFIG_FILE).map_err(|e| {
                err(
                    *line,
                    format!("cannot read rule file {}: {e}", path.display()),
                )
            })?;
            // An `[extend] path` is relative to the rule file naming it, and held to the same
            // bounds as a `rule_files` entry: inside the repository unless trusted.
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            let mut read = |p: &str| {
                let file = dir.join(p);
                let file = if self.trusted {
                    file
                } else {
                    self.inside_repository(&file)?
                };
                read_text_file(&file, MAX_CONFIG_FILE)
                    .map(|t| (file.display().to_string(), t))
                    .map_err(|e| format!("cannot read it: {e}"))
            };
            imported.merge(
                crate::gitleaks::load(set, &path.display().to_string(), &text, &mut read)
                    .map_err(|e| err(*line, e.to_string()))?,
            );
            if let Some(e) = too_many(set, *line) {
                return Err(e);
            }
        }
        for (spec, line) in &self.rules {
            // The error already starts with this file and line: not the file again.
            set.add_spec(&file.display().to_string(), spec.clone())
                .map_err(|e| {
                    let problem = match &e.rule {
                        Some(id) => format!("rule `{id}`: {}", e.problem),
                        None => e.problem.clone(),
                    };
                    err(*line, problem)
                })?;
            if let Some(e) = too_many(set, *line) {
                return Err(e);
            }
        }
        for (id, line) in &self.disable {
            if !set.remove(std::slice::from_ref(id)).is_empty() {
                return Err(err(
                    *line,
                    format!(
                        "disable: no rule has the id {} (see `credsweep rules list`)",
                        shown_id(id)
                    ),
                ));
            }
        }
        for (id, severity, line) in &self.severity {
            let Some(idx) = set.find(id) else {
                return Err(err(
                    *line,
                    format!(
                        "severity: no rule has the id {} (see `credsweep rules list`)",
                        shown_id(id)
                    ),
                ));
            };
            set.rules_mut()[idx.0 as usize].severity = *severity;
        }
        Ok(imported)
    }
}

impl Config {
    /// `path` (a `rule_files` entry of a repository's own configuration) resolved, symlinks
    /// and `..` included, if it lies inside the repository the configuration belongs to (the
    /// nearest directory above it holding `.git`, else its own directory). The path is not
    /// quoted in the error: it is the repository's to choose.
    fn inside_repository(&self, path: &Path) -> Result<PathBuf, String> {
        let outside = || {
            "rule_files: this entry resolves outside the repository, and a repository's own \
             configuration may only name rule files inside it; name it with --rules or in a \
             configuration given with --config"
                .to_string()
        };
        let dir = self.root().unwrap_or(Path::new("."));
        let dir = dir.canonicalize().map_err(|e| format!("rule_files: {e}"))?;
        let top = dir
            .ancestors()
            .find(|d| d.join(".git").exists())
            .unwrap_or(&dir)
            .to_path_buf();
        let resolved = path.canonicalize().map_err(|e| {
            if path.is_absolute() || !normalized_inside(&dir, path, &top) {
                outside()
            } else {
                format!("rule_files: cannot read this rule file: {e}")
            }
        })?;
        if resolved.starts_with(&top) {
            Ok(resolved)
        } else {
            Err(outside())
        }
    }

    /// What the report says about the configuration in force, if one is: where it came from,
    /// and for one the scanned tree holds, that the repository wrote it.
    pub(crate) fn source_note(&self) -> Option<String> {
        let file = self.file.as_ref()?;
        Some(if self.trusted {
            format!("configuration: {} (given with --config)", file.display())
        } else {
            format!(
                "configuration: {} (the scanned repository's own, read from its work tree: it \
                 can allow findings; for pull requests use --config with a trusted copy)",
                file.display()
            )
        })
    }
}

/// Whether `path` (relative to `dir`), with `.` and `..` resolved by name, stays under `top`.
fn normalized_inside(dir: &Path, path: &Path, top: &Path) -> bool {
    use std::path::Component;
    let mut out = dir.to_path_buf();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            _ => return false,
        }
    }
    out.starts_with(top)
}

/// The most rules a repository's own configuration may add (inline and from its `rule_files`).
pub(crate) const MAX_REPOSITORY_RULES: usize = 200;

/// A rule id as an error may show it: quoted when it is kebab-case (a real id), else not at all
/// (an entry that is not an id may be anything, a credential included).
fn shown_id(id: &str) -> String {
    if crate::rules::is_kebab_id(id) && id.len() <= 64 {
        format!("`{id}`")
    } else {
        "in this entry (not shown: it is not a kebab-case rule id)".to_string()
    }
}

/// A TOML error as a configuration error shows it: the parser's message without the values it
/// quotes (`invalid type: string "ghp_…"`; the value may be a credential, and errors reach CI
/// logs), and the key it is about when the line names one.
pub(crate) fn toml_problem(text: &str, offset: Option<usize>, message: &str) -> String {
    let problem = without_values(message);
    match offset.and_then(|o| key_at(text, o)) {
        Some(key) if !problem.contains(&format!("`{key}`")) => format!("key `{key}`: {problem}"),
        _ => problem,
    }
}

/// The bare key the line around `offset` assigns (`key = value`, `a.b = value`), if any.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |p| p + 1);
    let end = text[start..].find('\n').map_or(text.len(), |p| start + p);
    let line = &text[start..end];
    let key = line.split('=').next()?.trim();
    (line.contains('=')
        && !key.is_empty()
        && key.len() <= 64
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')))
    .then(|| key.to_string())
}

/// Configuration and rule files larger than this are refused rather than read.
pub(crate) const MAX_CONFIG_FILE: u64 = 16 << 20;

pub(crate) use crate::fsutil::read_text_file;

/// A commit id or a prefix of one: 7 to 64 hex digits (SHA-1 ids have 40, SHA-256 ids 64).
fn is_commit_id(s: &str) -> bool {
    let s = s.trim();
    (7..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    crate::finding::line_number(text.as_bytes(), offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("/repo/.credsweep.toml"), text)
    }

    #[test]
    fn the_readme_example_parses() {
        let readme = include_str!("../README.md");
        let start = readme
            .find("## Living with findings")
            .expect("README section");
        let block = &readme[start..];
        let body = &block[block.find("```toml\n").unwrap() + 8..];
        let body = &body[..body.find("```").unwrap()];
        let c = parse(body).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.max_file_size, Some(16 << 20));
        assert!(
            c.allow
                .allows_commit("0123abcd0000000000000000000000000000000")
        );
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = parse("max_file_size = \"1G\"\n\n[allow]\nsecrets = ['(unclosed']\n").unwrap_err();
        assert_eq!(e.line, Some(4), "{e}");
        assert!(
            e.to_string()
                .starts_with("/repo/.credsweep.toml:4: allow.secrets"),
            "{e}"
        );
        let e = parse("max_file_size = \"huge\"\n").unwrap_err();
        assert_eq!(e.line, Some(1), "{e}");
        let e = parse("\nunknown_key = 1\n").unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        assert!(e.problem.contains("unknown_key"), "{e}");
    }

    #[test]
    fn toml_errors_leave_values_out() {
        assert_eq!(
            without_values("invalid type: string \"sk_live_x, expected y\", expected a boolean"),
            "invalid type: string, expected a boolean"
        );
        assert_eq!(
            without_values("unknown variant `sk_live_x`, expected one of `note`, `error`"),
            "unknown value, expected one of `note`, `error`"
        );
        assert_eq!(
            without_values("something \"sk\\\"live\" here"),
            "something \"…\" here"
        );
        assert_eq!(
            without_values("unknown field `regexp`, expected `id`"),
            "unknown field `regexp`, expected `id`"
        );
        let e = parse("\ndefault_rules = 'sk_live_FAKE'\n").unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(!e.problem.contains("sk_live"), "{e}");
        assert!(e.problem.contains("default_rules"), "{e}");
    }

    #[test]
    fn severity_and_disable_apply_and_check_ids() {
        let c = parse("disable = ['b']\n[severity]\na = 'note'\n[[rule]]\nid = 'c'\ndescription = 'c'\nseverity = 'error'\nregex = '(?P<secret>c)'\nkeywords = ['ccc']\n").unwrap();
        let mut set = RuleSet::default();
        set.add_toml(
            "t",
            "[[rule]]\nid='a'\ndescription='a'\nseverity='error'\nregex='(?P<secret>a)'\nkeywords=['aaa']\n[[rule]]\nid='b'\ndescription='b'\nseverity='error'\nregex='(?P<secret>b)'\nkeywords=['bbb']\n",
        )
        .unwrap();
        c.apply_rules(&mut set).unwrap();
        let ids: Vec<_> = set
            .rules()
            .iter()
            .map(|r| (r.id.as_str(), r.severity))
            .collect();
        assert_eq!(ids, [("a", Severity::Note), ("c", Severity::Error)]);
        let c = parse("\ndisable = ['nope']\n").unwrap();
        let e = c.apply_rules(&mut set).unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.problem.contains("nope"));
    }
}
