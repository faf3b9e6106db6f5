//! What a scan needs before it reads anything: the configuration and rules in force, the
//! scanner built from them, the project root, the size cap, and the baseline, all resolved once
//! from the [`ScanOptions`] and the scanned root into a [`Setup`].

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::{ConfigChoice, Format, RuleOptions, ScanOptions, Scanned};
use crate::baseline::{BASELINE_FILE, Baseline, Coverage};
use crate::config::Config;
use crate::finding::{DEFAULT_FINGERPRINT_KEY, Finding, Redaction};
use crate::gitleaks::{Imported, ImportedAllow};
use crate::rules::{RuleSet, Severity};
use crate::scan::ScanContext;
use crate::scanner::Scanner;

/// The size cap when neither the command line nor the configuration sets one: none. Inputs of
/// any size are scanned in bounded memory, in windows ([`crate::window`]).
pub const DEFAULT_MAX_FILE_SIZE: u64 = u64::MAX;

/// The configuration in force: the file `--config` names, none with `--no-config`, else
/// `.credsweep.toml` found from `root` upwards, up to the repository's top.
pub fn load_config(a: &RuleOptions, root: &Path) -> Result<Config> {
    match &a.config {
        ConfigChoice::None => Ok(Config::empty()),
        ConfigChoice::File(file) => {
            let mut config = Config::load(file)?;
            config.trusted = true;
            Ok(config)
        }
        ConfigChoice::Discover => Ok(Config::discover(root)?.unwrap_or_else(Config::empty)),
    }
}

/// The rules in force: the built-in pack (unless `--no-default-rules` or the configuration says
/// `default_rules = false`), `--rules` files, then the configuration's rule settings.
pub fn load_rules(a: &RuleOptions, config: &Config) -> Result<RuleSet> {
    Ok(load_rules_imported(a, config)?.0)
}

/// [`load_rules`], with what gitleaks-format rule files brought besides rules: notes on what
/// could not be converted, and global allow-lists ([`crate::gitleaks`]).
pub fn load_rules_imported(a: &RuleOptions, config: &Config) -> Result<(RuleSet, Imported)> {
    let mut set = if a.no_default_rules || !config.default_rules {
        RuleSet::default()
    } else {
        RuleSet::builtin().context("the built-in rule pack is broken (a bug: please report it)")?
    };
    let mut imported = Imported::default();
    for path in &a.files {
        let text = crate::config::read_text_file(path, crate::config::MAX_CONFIG_FILE)
            .with_context(|| format!("cannot read rule file {}", path.display()))?;
        // `--rules` files are the user's own: an `[extend] path` is read as written, relative
        // to the file that names it.
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut read = |p: &str| {
            let file = dir.join(p);
            crate::config::read_text_file(&file, crate::config::MAX_CONFIG_FILE)
                .map(|t| (file.display().to_string(), t))
                .map_err(|e| format!("cannot read {}: {e}", file.display()))
        };
        imported.merge(crate::gitleaks::load(
            &mut set,
            &path.display().to_string(),
            &text,
            &mut read,
        )?);
    }
    imported.merge(config.apply_rules(&mut set)?);
    if set.is_empty() {
        bail!("no rules in force: drop --no-default-rules or add rules with --rules FILE");
    }
    Ok((set, imported))
}

/// Adds the global allow-lists of gitleaks rule files to the configuration's. A regex the
/// allow-list refuses (past the size bounds) is left out with a note: more findings, never fewer.
fn apply_imported_allow(config: &mut Config, allow: &ImportedAllow, notes: &mut Vec<String>) {
    let a = &mut config.allow;
    let mut refused = 0;
    for r in &allow.paths {
        refused += usize::from(a.add_path_regex(r).is_err());
    }
    for r in &allow.secrets {
        refused += usize::from(a.add_secret_regex(r).is_err());
    }
    for r in &allow.lines {
        refused += usize::from(a.add_line_regex(r).is_err());
    }
    for w in &allow.stopwords {
        a.add_stopword(w);
    }
    for c in &allow.commits {
        a.add_commit(c);
    }
    if refused > 0 {
        notes.push(format!(
            "{refused} regex(es) of gitleaks global allow-lists could not be compiled and are not \
             applied"
        ));
    }
}

/// Redacts the description and remediation of every rule that is not built in (a repository's
/// configuration may write anything there, a credential too) the way reports redact other
/// repository strings ([`crate::finding::StringRedactor`]), with the rules themselves.
fn redact_rule_texts(rules: &mut RuleSet) {
    if rules.rules().iter().all(|r| r.is_builtin()) {
        return;
    }
    let scanner = Scanner::new(rules.clone());
    let mut r = crate::finding::StringRedactor::new(&scanner, []);
    for rule in rules.rules_mut().iter_mut().filter(|r| !r.is_builtin()) {
        rule.description = r.redact(&rule.description);
        if let Some(text) = &rule.remediation {
            rule.remediation = Some(r.redact(text));
        }
    }
}

/// Whether repository strings (rule texts, paths, messages) are redacted in the report: unless
/// `--no-redact`, and always in SARIF and HTML, which never hold a secret.
pub(crate) fn redacts_repository_strings(opts: &ScanOptions) -> bool {
    opts.redaction == Redaction::Redact || matches!(opts.format, Format::Sarif | Format::Html)
}

/// Everything a scan needs before it reads anything, resolved from options and configuration.
pub struct Setup {
    pub config: Config,
    pub scanner: Scanner,
    /// The repository's top; outside a repository, where the configuration lives, or else the
    /// scanned root. The baseline's default home, and what `--exclude` globs and baseline paths
    /// are relative to.
    pub project_root: PathBuf,
    pub max_file_size: u64,
    /// A scan cut by the size cap may pass (`--allow-truncation`, `allow_truncation = true`);
    /// otherwise each truncation is an error and the exit status 2.
    pub allow_truncation: bool,
    /// How much of an input is scanned at once ([`crate::window::DEFAULT_WINDOW_SIZE`]; tests
    /// make it small).
    pub window_size: usize,
    pub inline_allow: bool,
    pub max_decode_depth: u32,
    /// `--rule-stats`: the scan counts what each rule costs.
    pub rule_stats: bool,
    /// Whether and how deep archives are opened (`--no-archives`, `--max-archive-depth`).
    pub archives: crate::archive::Options,
    /// Whether binary files' printable strings are scanned (`--skip-binary` turns it off).
    pub binary_strings: bool,
    /// See [`ScanContext::line_hashes`]: for a SARIF report.
    pub line_hashes: bool,
    /// For the report: where the configuration came from, and what of it was not applied.
    pub notes: Vec<String>,
}

impl Setup {
    pub fn new(a: &ScanOptions, root: &Path) -> Result<Setup> {
        a.verify.validate()?;
        let mut config = load_config(&a.rules, root)?;
        let (mut rules, mut imported) = load_rules_imported(&a.rules, &config)?;
        apply_imported_allow(&mut config, &imported.allow, &mut imported.notes);
        // Reports print what rules say; SARIF never holds a secret.
        if redacts_repository_strings(a) {
            redact_rule_texts(&mut rules);
        }
        let scanner = Scanner::new(rules);
        let project_root = match (crate::project::repo_top(root), config.root()) {
            (Some(top), _) => top,
            (None, Some(r)) => r.to_path_buf(),
            (None, None) if root.is_dir() => root.to_path_buf(),
            (None, None) => root
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
        };
        config
            .allow
            .set_excludes(&project_root, &a.exclude)
            .map_err(anyhow::Error::msg)?;
        let mut notes: Vec<String> = config.source_note().into_iter().collect();
        notes.extend(imported.notes);
        // There is no cap unless one is asked for; a repository's own configuration may set one
        // (it makes the scan fail, unless truncation is allowed too).
        let max_file_size = a
            .max_file_size
            .or(config.max_file_size)
            .unwrap_or(DEFAULT_MAX_FILE_SIZE);
        let allow_truncation = a.allow_truncation || config.allow_truncation;
        Ok(Setup {
            config,
            scanner,
            project_root,
            max_file_size,
            allow_truncation,
            window_size: a.window_size.unwrap_or(crate::window::DEFAULT_WINDOW_SIZE),
            inline_allow: a.inline_allow,
            max_decode_depth: a.max_decode_depth,
            rule_stats: a.rule_stats,
            archives: crate::archive::Options {
                enabled: a.archives,
                max_depth: a.max_archive_depth,
                ..Default::default()
            },
            binary_strings: a.binary_strings,
            line_hashes: a.format == Format::Sarif,
            notes,
        })
    }

    /// The context sources scan with; `path_base` is what relative finding paths are relative to.
    pub fn context(&self, path_base: PathBuf) -> ScanContext<'_> {
        // Canonical, as the allow-list's root is, so its path globs compare.
        let path_base = path_base.canonicalize().unwrap_or(path_base);
        ScanContext {
            scanner: &self.scanner,
            fingerprint_key: self.fingerprint_key(),
            max_file_size: self.max_file_size,
            window_size: self.window_size,
            allowlist: &self.config.allow,
            inline_allow: self.inline_allow,
            path_base,
            max_decode_depth: self.max_decode_depth,
            rule_stats: self.rule_stats,
            archives: self.archives.clone(),
            binary_strings: self.binary_strings,
            line_hashes: self.line_hashes,
        }
    }

    /// The key fingerprints are made with: `fingerprint_salt`, or the default key.
    pub fn fingerprint_key(&self) -> Vec<u8> {
        self.config.fingerprint_salt.as_ref().map_or_else(
            || DEFAULT_FINGERPRINT_KEY.to_vec(),
            |s| s.as_bytes().to_vec(),
        )
    }

    /// The severity below which findings are dropped: `--min-severity`, else `min_severity`.
    pub fn min_severity(&self, a: &ScanOptions) -> Option<Severity> {
        a.min_severity.or(self.config.min_severity)
    }

    /// Whether `f` is reported under the severity threshold: the one test every step that drops
    /// findings below it (the report, `--rule-stats`, `baseline add`) makes.
    pub fn reports_severity_of(&self, a: &ScanOptions, f: &Finding) -> bool {
        self.min_severity(a).is_none_or(|min| f.severity >= min)
    }

    /// Which baseline scopes a scan that read `scanned` covered fully.
    pub fn coverage(&self, a: &ScanOptions, scanned: &Scanned) -> Coverage {
        let whole = a.exclude.is_empty();
        match scanned {
            Scanned::Partial => Coverage::default(),
            Scanned::FullHistory => Coverage {
                tree: false,
                history: whole,
            },
            Scanned::Tree(paths) => {
                let root = crate::project::absolute(&self.project_root);
                Coverage {
                    tree: whole
                        && paths
                            .iter()
                            .any(|p| p.as_os_str() != "-" && crate::project::absolute(p) == root),
                    history: false,
                }
            }
        }
    }

    /// The path a baseline entry records for `f`: relative to the project root when the finding's
    /// path (relative to `base`) is under it, else as reported. A member of an archive is
    /// recorded as its archive's path and the member (`deploy/bundle.zip!app/.env`).
    pub fn baseline_entry_path(&self, f: &Finding, base: &Path) -> String {
        self.entry_path(&f.location, base)
    }

    fn entry_path(&self, location: &crate::finding::Location, base: &Path) -> String {
        use crate::finding::Location;
        if let Location::Member { archive, member } = location {
            return format!("{}!{member}", self.entry_path(archive, base));
        }
        // Standard input and history are recorded by name; a file by its path in the project.
        let Location::Path(path) = location else {
            return location.name().into_owned();
        };
        let p = Path::new(path);
        let abs = if p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        };
        crate::project::relative_to(&abs, &self.project_root)
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| path.clone())
    }

    /// The baseline file: `--baseline FILE`, else `.credsweep-baseline.toml` at the project root.
    pub fn baseline_path(&self, a: &ScanOptions) -> PathBuf {
        a.baseline
            .clone()
            .unwrap_or_else(|| self.project_root.join(BASELINE_FILE))
    }

    /// The baseline in force: an explicit `--baseline` must exist; the default one may not.
    pub fn baseline(&self, a: &ScanOptions) -> Result<Option<Baseline>> {
        let path = self.baseline_path(a);
        if a.baseline.is_none() && std::fs::symlink_metadata(&path).is_err() {
            return Ok(None);
        }
        let b = Baseline::load(&path)?;
        b.check_key(&self.fingerprint_key(), &path)?;
        Ok(Some(b))
    }
}
