//! The command line: argument definitions and the glue from arguments to sources and reports.
//!
//! Each subcommand builds a [`Scanner`] from the rules in force, runs one source, and hands a
//! [`Report`] to [`emit`], which writes it and decides the exit status: 0 clean, 1 findings, 2
//! error (including a scan that could not read everything it was asked to).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::baseline::{self, BASELINE_FILE, Baseline, Coverage, Scope};
use crate::config::Config;
use crate::finding::Redaction;
use crate::finding::{DEFAULT_FINGERPRINT_KEY, Finding};
use crate::report::{self, Report, ScanKind, text::Color};
use crate::rulecheck;
use crate::rules::{RuleSet, Severity};
use crate::scanner::Scanner;
use crate::sources::{ScanContext, Summary, tree};
use crate::term::plural;

/// Exit statuses.
pub const EXIT_CLEAN: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_ERROR: i32 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "credsweep",
    version,
    about = "Find leaked credentials (Vobiz Partner API tokens and many more) in files, staged changes and git history.",
    after_help = "Exit status: 0 no findings, 1 findings, 2 error or incomplete scan."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and directories (default: the current directory); `-` reads standard input.
    Dir(DirArgs),
    /// Scan standard input, reported as `<stdin>`.
    Stdin(StdinArgs),
    /// Scan git history: every blob in the object database once (all branches, tags, the
    /// stash, unreachable commits), each finding with the commit that introduced it.
    Git(GitArgs),
    /// Scan what is staged for the next commit: the index, not the working tree.
    Staged(StagedArgs),
    /// Scan the commits a `git push` sends: reads git's pre-push lines (`<local ref> <local sha>
    /// <remote ref> <remote sha>`) on standard input; what the installed pre-push hook runs.
    PrePush(crate::hooks::PrePushArgs),
    /// Install credsweep as the repository's git pre-commit hook (and pre-push hook with
    /// --pre-push), chaining to a hook already there.
    InstallHook(crate::hooks::InstallArgs),
    /// Remove the hooks `install-hook` wrote and put back the hooks it chained to.
    UninstallHook(crate::hooks::UninstallArgs),
    /// List or check the rules in force.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Accept the current findings (add) or drop accepted ones that match nothing (prune).
    #[command(subcommand)]
    Baseline(BaselineCommand),
}

#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Scan like `dir` (or like `git` with --git) and add every finding to the baseline
    /// (`.credsweep-baseline.toml` at the repository's top), with its scope (tree or history).
    Add {
        /// Why these findings are accepted; stored with each new entry.
        #[arg(long)]
        reason: Option<String>,
        /// Scan the whole git history of the repository at PATH instead of the files.
        #[arg(long)]
        git: bool,
        #[command(flatten)]
        dir: DirArgs,
    },
    /// Scan the whole tree (or, with --git, the whole history) and drop baseline entries that
    /// match no finding there any more; entries of the other scope are kept.
    Prune {
        /// Scan the whole git history of the repository at PATH instead of the files.
        #[arg(long)]
        git: bool,
        #[command(flatten)]
        dir: DirArgs,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    /// SARIF 2.1.0, for GitHub code scanning (secrets are never written into it).
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Which rules are in force; shared by every command that scans or lists rules.
#[derive(Debug, Clone, Args)]
pub struct RuleArgs {
    /// Add the rules in this TOML file (repeatable).
    #[arg(long = "rules", value_name = "FILE")]
    pub rules: Vec<PathBuf>,
    /// Do not load the built-in rule pack (use only --rules files and the configuration's rules).
    #[arg(long)]
    pub no_default_rules: bool,
    /// Use this configuration file instead of `.credsweep.toml` at the scanned root.
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,
    /// Ignore `.credsweep.toml`.
    #[arg(long)]
    pub no_config: bool,
}

/// Options every scan shares.
#[derive(Debug, Clone, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// With `--format sarif`: list every rule in force in the log, not only those that fired.
    #[arg(long)]
    pub sarif_all_rules: bool,
    /// With `--format sarif`: name each history finding's commit author (left out by default:
    /// a SARIF log is uploaded and kept, and an author's name or email is personal data).
    #[arg(long)]
    pub sarif_authors: bool,
    /// Write the report to this file instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Show secrets in full (they are redacted to a short prefix by default).
    #[arg(long)]
    pub no_redact: bool,
    /// Scan at most this much of each file (e.g. 64M, 1G, 100K; default 64M); the rest is
    /// reported as not scanned.
    #[arg(long, value_name = "SIZE", value_parser = crate::units::parse_size)]
    pub max_file_size: Option<u64>,
    /// Worker threads (default, or 0: available cores; at most 256).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// When to colour text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// No progress output on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Drop findings below this severity (counted in the summary); overrides `min_severity` in
    /// the configuration.
    #[arg(long, value_name = "LEVEL", value_parser = parse_severity)]
    pub min_severity: Option<Severity>,
    /// Leave out paths matching this gitignore-style glob, relative to the repository's top (or
    /// the scanned root outside a repository); repeatable. Not for `stdin`.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Accepted findings (default: `.credsweep-baseline.toml` at the repository's top, if present).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// List the findings the baseline suppresses (they never fail the scan).
    #[arg(long)]
    pub show_suppressed: bool,
    /// Fail (exit 2) when a baseline entry matches nothing, so the baseline does not rot. Judged
    /// only for entries whose scope the scan covered in full: `tree` entries by `dir` of the
    /// repository's top, `history` entries by `git` with no range; other scans judge none.
    #[arg(long)]
    pub fail_on_stale: bool,
    /// Ignore inline markers such as `credsweep:allow` and `gitleaks:allow` (for audits).
    #[arg(long)]
    pub no_inline_allow: bool,
    /// Opt-in verification of Vobiz credential pairs (`--verify`, `--fail-on active`, ...).
    #[command(flatten)]
    pub verify: crate::verify::VerifyArgs,
    /// Text printed after a text report with findings (set by hook runs, not an option).
    #[arg(skip)]
    pub footer: Option<String>,
    /// What the scan read, for judging stale baseline entries (set by the command, not an option).
    #[arg(skip)]
    pub scanned: Scanned,
}

/// What a scan read, as far as the baseline is concerned: whether it saw the whole tree or the
/// whole history, so that an entry it did not see is really gone from there.
#[derive(Debug, Clone, Default)]
pub enum Scanned {
    /// Part of a tree or history, a diff, standard input: covers no scope.
    #[default]
    Partial,
    /// The working tree from these paths (covers the tree when one is the project root).
    Tree(Vec<PathBuf>),
    /// Every blob of the history.
    FullHistory,
}

/// `error`, `warning` or `note`.
pub fn parse_severity(s: &str) -> Result<Severity, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "error" => Ok(Severity::Error),
        "warning" => Ok(Severity::Warning),
        "note" => Ok(Severity::Note),
        _ => Err("a severity is error, warning or note".to_string()),
    }
}

#[derive(Debug, Args)]
pub struct DirArgs {
    /// Files and directories to scan; `-` is standard input.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Scan files that .gitignore, .ignore or git's excludes leave out.
    #[arg(long)]
    pub no_ignore: bool,
    /// Follow symbolic links.
    #[arg(long, short = 'L')]
    pub follow: bool,
    #[command(flatten)]
    pub scan: ScanArgs,
}

#[derive(Debug, Args)]
pub struct StdinArgs {
    #[command(flatten)]
    pub scan: ScanArgs,
}

#[derive(Debug, Args)]
pub struct GitArgs {
    /// The repository: a work tree (or a directory in one), a bare repository or a linked worktree.
    #[arg(value_name = "REPO", default_value = ".")]
    pub repo: PathBuf,
    /// Scan only blobs that refs reach (leave out dangling and reflog-only commits).
    #[arg(long, conflicts_with_all = ["since", "range"])]
    pub reachable_only: bool,
    /// Scan only what commits after REV introduced (REV..HEAD).
    #[arg(long, value_name = "REV", conflicts_with = "range")]
    pub since: Option<String>,
    /// Scan only what the commits in B but not in A introduced, merges included (e.g. origin/main..HEAD).
    #[arg(long, value_name = "A..B")]
    pub range: Option<String>,
    /// In a partial clone, accept that the blobs it was cloned without are not scanned (they are
    /// counted in a note; without this flag they make the exit status 2).
    #[arg(long)]
    pub allow_missing_promised: bool,
    #[command(flatten)]
    pub scan: ScanArgs,
}

#[derive(Debug, Args)]
pub struct StagedArgs {
    /// The repository (default: the one the current directory is in).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
    #[command(flatten)]
    pub scan: ScanArgs,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Print every rule: id, severity, description.
    List {
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Run every rule's examples and negative examples; fail on any mismatch.
    Check {
        #[command(flatten)]
        rules: RuleArgs,
    },
}

/// The size cap when neither the command line nor the configuration sets one.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 64 << 20;

/// Runs the command line; returns the exit status.
pub fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Dir(mut a) => {
            a.scan.scanned = Scanned::Tree(a.paths.clone());
            let opts = tree_options(&a);
            scan_with(&a.scan, ScanKind::Dir, &dir_root(&a.paths), |ctx| {
                Ok(tree::scan_paths(ctx, &a.paths, &opts))
            })
        }
        Command::Stdin(a) => scan_with(&a.scan, ScanKind::Stdin, Path::new("."), |ctx| {
            Ok(tree::scan_stdin(ctx))
        }),
        Command::Git(a) => run_git(&a),
        Command::Staged(a) => run_staged(&a),
        Command::PrePush(a) => crate::hooks::run_pre_push(&a),
        Command::InstallHook(a) => crate::hooks::install(&a),
        Command::UninstallHook(a) => crate::hooks::uninstall(&a),
        Command::Baseline(cmd) => run_baseline(cmd),
        Command::Rules(RulesCommand::List { rules }) => {
            let set = load_rules(&rules, &load_config(&rules, Path::new("."))?)?;
            let mut out = String::new();
            for r in set.rules() {
                out += &format!(
                    "{:<36} {:<8} {}\n",
                    r.id,
                    r.severity.as_str(),
                    // A rule from a repository's configuration may say anything.
                    crate::term::escape(&r.description)
                );
            }
            out += &format!("{} rules\n", set.len());
            write_stdout(&out)?;
            Ok(EXIT_CLEAN)
        }
        Command::Rules(RulesCommand::Check { rules }) => {
            let set = load_rules(&rules, &load_config(&rules, Path::new("."))?)?;
            let failures = rulecheck::check(&set);
            let mut out = String::new();
            for f in &failures {
                out += &format!("FAIL {}\n", crate::term::escape_lines(&f.to_string()));
            }
            let examples: usize = set
                .rules()
                .iter()
                .map(|r| r.examples.len() + r.negative_examples.len())
                .sum();
            out += &format!(
                "{} rules, {} examples: {} failed\n",
                set.len(),
                examples,
                failures.len()
            );
            write_stdout(&out)?;
            Ok(if failures.is_empty() {
                EXIT_CLEAN
            } else {
                EXIT_FINDINGS
            })
        }
    }
}

fn tree_options(a: &DirArgs) -> tree::TreeOptions {
    tree::TreeOptions {
        respect_ignore: !a.no_ignore,
        follow_links: a.follow,
        threads: threads(&a.scan),
    }
}

/// The most worker threads a scan starts, whatever `--threads` says: past the core count more
/// threads only cost memory (each holds a read buffer of up to the size cap).
pub const MAX_THREADS: usize = 256;

/// Worker threads: `--threads N`, or the available cores when it is absent or 0; at most
/// [`MAX_THREADS`].
pub fn threads(a: &ScanArgs) -> usize {
    match a.threads {
        Some(n) if n > 0 => n.min(MAX_THREADS),
        _ => std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(MAX_THREADS),
    }
}

/// Where a `dir` scan looks for its configuration and baseline: the first path given.
fn dir_root(paths: &[PathBuf]) -> PathBuf {
    paths
        .iter()
        .find(|p| p.as_os_str() != "-")
        .cloned()
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The configuration in force: `--config FILE`, none with `--no-config`, else `.credsweep.toml`
/// found from `root` upwards, up to the repository's top.
pub fn load_config(a: &RuleArgs, root: &Path) -> Result<Config> {
    if a.no_config {
        return Ok(Config::empty());
    }
    if let Some(file) = &a.config {
        let mut config = Config::load(file)?;
        config.trusted = true;
        return Ok(config);
    }
    Ok(Config::discover(root)?.unwrap_or_else(Config::empty))
}

/// The rules in force: the built-in pack (unless `--no-default-rules` or the configuration says
/// `default_rules = false`), `--rules` files, then the configuration's rule settings.
pub fn load_rules(a: &RuleArgs, config: &Config) -> Result<RuleSet> {
    let mut set = if a.no_default_rules || !config.default_rules {
        RuleSet::default()
    } else {
        RuleSet::builtin().context("the built-in rule pack is broken (a bug: please report it)")?
    };
    for path in &a.rules {
        let text = crate::config::read_text_file(path, crate::config::MAX_CONFIG_FILE)
            .with_context(|| format!("cannot read rule file {}", path.display()))?;
        set.add_toml(&path.display().to_string(), &text)?;
    }
    config.apply_rules(&mut set)?;
    if set.is_empty() {
        bail!("no rules in force: drop --no-default-rules or add rules with --rules FILE");
    }
    Ok(set)
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

/// Everything a scan needs before it reads anything, resolved from arguments and configuration.
pub struct Setup {
    pub config: Config,
    pub scanner: Scanner,
    /// The repository's top; outside a repository, where the configuration lives, or else the
    /// scanned root. The baseline's default home, and what `--exclude` globs and baseline paths
    /// are relative to.
    pub project_root: PathBuf,
    pub max_file_size: u64,
    pub inline_allow: bool,
    /// For the report: where the configuration came from, and what of it was not applied.
    pub notes: Vec<String>,
}

impl Setup {
    pub fn new(a: &ScanArgs, root: &Path) -> Result<Setup> {
        a.verify.validate()?;
        let mut config = load_config(&a.rules, root)?;
        let mut rules = load_rules(&a.rules, &config)?;
        // Reports print what rules say; SARIF never holds a secret.
        if !a.no_redact || a.format == Format::Sarif {
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
        let max_file_size = match (a.max_file_size, config.max_file_size) {
            (Some(n), _) => n,
            // A repository's own configuration may lower the cap, not raise it: a hostile one
            // would make every thread hold gigabyte buffers.
            (None, Some(n)) if config.trusted || n <= DEFAULT_MAX_FILE_SIZE => n,
            (None, Some(n)) => {
                notes.push(format!(
                    "the repository's configuration asks for max_file_size {}, above the default \
                     {}: a repository's own configuration may only lower it, so the default \
                     applies (raise it with --max-file-size)",
                    crate::units::human_bytes(n),
                    crate::units::human_bytes(DEFAULT_MAX_FILE_SIZE)
                ));
                DEFAULT_MAX_FILE_SIZE
            }
            (None, None) => DEFAULT_MAX_FILE_SIZE,
        };
        Ok(Setup {
            config,
            scanner,
            project_root,
            max_file_size,
            inline_allow: !a.no_inline_allow,
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
            allowlist: &self.config.allow,
            inline_allow: self.inline_allow,
            path_base,
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
    pub fn min_severity(&self, a: &ScanArgs) -> Option<Severity> {
        a.min_severity.or(self.config.min_severity)
    }

    /// Which baseline scopes a scan that read `scanned` covered fully.
    pub fn coverage(&self, a: &ScanArgs) -> Coverage {
        let whole = a.exclude.is_empty();
        match &a.scanned {
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
    /// path (relative to `base`) is under it, else as reported.
    pub fn baseline_entry_path(&self, f: &Finding, base: &Path) -> String {
        // Standard input and history are recorded by name; a file by its path in the project.
        let crate::finding::Location::Path(path) = &f.location else {
            return f.location.name().into_owned();
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
    pub fn baseline_path(&self, a: &ScanArgs) -> PathBuf {
        a.baseline
            .clone()
            .unwrap_or_else(|| self.project_root.join(BASELINE_FILE))
    }

    /// The baseline in force: an explicit `--baseline` must exist; the default one may not.
    pub fn baseline(&self, a: &ScanArgs) -> Result<Option<Baseline>> {
        let path = self.baseline_path(a);
        if a.baseline.is_none() && std::fs::symlink_metadata(&path).is_err() {
            return Ok(None);
        }
        let b = Baseline::load(&path)?;
        b.check_key(&self.fingerprint_key(), &path)?;
        Ok(Some(b))
    }
}

/// Builds the scanner and context for `a`, runs `source`, and emits the report.
pub fn scan_with(
    a: &ScanArgs,
    kind: ScanKind,
    root: &Path,
    source: impl FnOnce(&ScanContext<'_>) -> Result<(Vec<Finding>, Summary)>,
) -> Result<i32> {
    let started = Instant::now();
    let setup = Setup::new(a, root)?;
    let ctx = setup.context(crate::project::current_dir());
    let (findings, summary) = source(&ctx)?;
    finish(a, &setup, kind, findings, summary, started)
}

/// Applies the baseline and emits the report; returns the exit status.
pub fn finish(
    a: &ScanArgs,
    setup: &Setup,
    kind: ScanKind,
    findings: Vec<Finding>,
    summary: Summary,
    started: Instant,
) -> Result<i32> {
    finish_with_notes(a, setup, kind, findings, summary, Vec::new(), started)
}

/// [`finish`], with notes for the reader from the source (shallow clone, submodules, range).
pub fn finish_with_notes(
    a: &ScanArgs,
    setup: &Setup,
    kind: ScanKind,
    findings: Vec<Finding>,
    summary: Summary,
    notes: Vec<String>,
    started: Instant,
) -> Result<i32> {
    finish_report(a, setup, kind, findings, summary, notes, started, |r| r)
}

/// [`finish_with_notes`], with `extend` adding to the report before the baseline applies.
#[allow(clippy::too_many_arguments)]
fn finish_report<'s>(
    a: &ScanArgs,
    setup: &'s Setup,
    kind: ScanKind,
    findings: Vec<Finding>,
    summary: Summary,
    notes: Vec<String>,
    started: Instant,
    extend: impl FnOnce(Report<'s>) -> Report<'s>,
) -> Result<i32> {
    let mut findings = findings;
    let mut summary = summary;
    // A built-in rule whose regex failed to compile matched nothing: the scan is incomplete.
    for (id, e) in setup.scanner.rules().broken() {
        summary.skip(
            format!("rule {id}"),
            crate::sources::SkipReason::Error(format!(
                "the rule's regex does not compile, so the rule was not applied (a bug: please report it): {e}"
            )),
        );
    }
    let notes: Vec<String> = std::mem::take(&mut summary.notes)
        .into_iter()
        .chain(notes)
        .collect();
    let baseline = setup.baseline(a)?;
    // Staleness is judged on everything the scan saw, before the severity threshold drops any.
    let seen: std::collections::BTreeSet<String> =
        findings.iter().map(|f| f.fingerprint.0.clone()).collect();
    if let Some(min) = setup.min_severity(a) {
        let before = findings.len();
        findings.retain(|f| f.severity >= min);
        summary.below_min_severity += (before - findings.len()) as u64;
    }
    crate::verify::apply(&a.verify, &mut findings, a.no_redact, a.quiet)?;
    let mut report = extend(Report::new(
        kind,
        findings,
        summary,
        setup.scanner.rules(),
        started.elapsed(),
    ));
    report.show_suppressed = a.show_suppressed;
    report.footer = a.footer.clone();
    report.notes.extend(setup.notes.iter().cloned());
    report.notes.extend(notes);
    let mut stale = 0;
    if let Some(b) = &baseline {
        report.apply_baseline(b);
        if a.fail_on_stale {
            let cov = setup.coverage(a);
            let seen: std::collections::BTreeSet<&str> = seen.iter().map(String::as_str).collect();
            for (e, scopes) in b.stale(&seen, cov) {
                stale += 1;
                let history = scopes.contains(&Scope::History);
                report.notes.push(format!(
                    "stale baseline entry {} ({} in {}, scope {}) matches nothing in the whole {}: run `credsweep baseline prune{}`",
                    e.fingerprint,
                    e.rule,
                    e.path,
                    scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
                    if history { "history" } else { "tree" },
                    if history { " --git" } else { "" },
                ));
            }
            if cov.is_none() {
                report.notes.push(
                    "--fail-on-stale judged no baseline entry: this scan does not cover the whole tree (`dir` of the repository's top, no --exclude) or the whole history (`git` with no range)".to_string(),
                );
            }
        }
    }
    // SARIF never holds a secret, whatever --no-redact says.
    if !a.no_redact || a.format == Format::Sarif {
        report.redact_repository_strings(&setup.scanner);
    }
    let code = emit(a, &report)?;
    Ok(if stale > 0 { EXIT_ERROR } else { code })
}

/// How a history scan runs for `a`: its thread count, and progress on stderr only when that is a
/// terminal and `--quiet` was not given.
pub fn history_options(
    a: &ScanArgs,
    selection: crate::sources::history::Selection,
) -> crate::sources::history::HistoryOptions {
    crate::sources::history::HistoryOptions {
        selection,
        threads: threads(a),
        progress: !a.quiet && std::io::stderr().is_terminal(),
        allow_missing_promised: false,
    }
}

/// `credsweep git`: the history source, with progress on stderr when it is a terminal.
fn run_git(a: &GitArgs) -> Result<i32> {
    use crate::sources::history::{self, Selection};
    let started = Instant::now();
    let selection = match (&a.since, &a.range) {
        (Some(rev), _) => Selection::Range {
            base: rev.clone(),
            tip: "HEAD".to_string(),
        },
        (None, Some(spec)) => Selection::parse_range(spec)?,
        (None, None) if a.reachable_only => Selection::ReachableOnly,
        (None, None) => Selection::All,
    };
    let mut args = a.scan.clone();
    if matches!(selection, Selection::All) {
        args.scanned = Scanned::FullHistory;
    }
    let repo = history::repo::open(&a.repo)?;
    let top = history::repo::root(&repo);
    let setup = Setup::new(&args, &top)?;
    let ctx = setup.context(top);
    let mut opts = history_options(&args, selection);
    opts.allow_missing_promised = a.allow_missing_promised;
    let scan = history::scan(&ctx, &repo, &opts)?;
    let (findings, summary, notes) = (scan.findings, scan.summary, scan.notes);
    finish_with_notes(
        &args,
        &setup,
        ScanKind::History,
        findings,
        summary,
        notes,
        started,
    )
}

/// `credsweep staged`: the blobs in the index that differ from `HEAD`; under the pre-commit
/// framework's pre-push stage, the commits being pushed.
fn run_staged(a: &StagedArgs) -> Result<i32> {
    use crate::sources::{history, staged};
    if let Some(push) = crate::hooks::pre_commit_framework_push() {
        return crate::hooks::scan_push(&a.scan, &a.repo, push);
    }
    let started = Instant::now();
    let repo = history::repo::open(&a.repo)?;
    let top = history::repo::root(&repo);
    let setup = Setup::new(&a.scan, &top)?;
    let ctx = setup.context(top);
    let scan = staged::scan(&ctx, &repo)?;
    let mut args = a.scan.clone();
    args.footer = Some(crate::hooks::commit_footer());
    let preexisting = scan.preexisting;
    if !preexisting.is_empty() && !a.scan.quiet {
        // The text report lists them; other formats and `-o` get the notice on stderr too.
        if a.scan.format != Format::Text || a.scan.output.is_some() {
            crate::term::eprint_line(format_args!(
                "credsweep: note: {} already committed in the files you changed (not added by this commit, not blocking). {}",
                plural(preexisting.len(), "secret", "secrets"),
                report::text::PREEXISTING_ADVICE
            ));
        }
    }
    finish_staged(
        &args,
        &setup,
        scan.findings,
        preexisting,
        scan.summary,
        scan.notes,
        started,
    )
}

/// [`finish_with_notes`] for a staged scan, with the secrets the commit does not add.
fn finish_staged(
    a: &ScanArgs,
    setup: &Setup,
    findings: Vec<Finding>,
    preexisting: Vec<Finding>,
    summary: Summary,
    notes: Vec<String>,
    started: Instant,
) -> Result<i32> {
    finish_report(
        a,
        setup,
        ScanKind::Staged,
        findings,
        summary,
        notes,
        started,
        |mut r| {
            r.preexisting = preexisting;
            r
        },
    )
}

fn run_baseline(cmd: BaselineCommand) -> Result<i32> {
    let (dir, reason, git) = match &cmd {
        BaselineCommand::Add { dir, reason, git } => (dir, reason.as_deref(), *git),
        BaselineCommand::Prune { dir, git } => (dir, None, *git),
    };
    let mut args = dir.scan.clone();
    let (setup, mut findings, summary, base, scope) = if git {
        use crate::sources::history::{self, Selection};
        args.scanned = Scanned::FullHistory;
        let repo = history::repo::open(&dir_root(&dir.paths))?;
        let top = history::repo::root(&repo);
        let setup = Setup::new(&args, &top)?;
        let opts = history_options(&args, Selection::All);
        let scan = history::scan(&setup.context(top.clone()), &repo, &opts)?;
        (setup, scan.findings, scan.summary, top, Scope::History)
    } else {
        args.scanned = Scanned::Tree(dir.paths.clone());
        let setup = Setup::new(&args, &dir_root(&dir.paths))?;
        let (findings, summary) = tree::scan_paths(
            &setup.context(crate::project::current_dir()),
            &dir.paths,
            &tree_options(dir),
        );
        (
            setup,
            findings,
            summary,
            crate::project::current_dir(),
            Scope::Tree,
        )
    };
    if summary.has_errors() {
        for k in summary
            .skips
            .iter()
            .filter(|k| matches!(k.reason, crate::sources::SkipReason::Error(_)))
        {
            crate::term::eprint_line(format_args!(
                "credsweep: error: {}: {}",
                crate::term::escape(&k.path),
                crate::term::escape(&k.reason.to_string())
            ));
        }
        bail!("the scan could not read everything, so the baseline was not changed");
    }
    // `add` accepts what the scan reports; `prune` judges on everything it saw, so that an
    // entry below the severity threshold is not taken for gone.
    if let (BaselineCommand::Add { .. }, Some(min)) = (&cmd, setup.min_severity(&args)) {
        findings.retain(|f| f.severity >= min);
    }
    let path = setup.baseline_path(&args);
    // Both commands write the baseline (and `.gitattributes`): refuse links before reading.
    baseline::check_writable(&path)?;
    let mut b = if std::fs::symlink_metadata(&path).is_ok() {
        let b = Baseline::load(&path)?;
        b.check_key(&setup.fingerprint_key(), &path)?;
        b
    } else {
        Baseline::default()
    };
    b.set_key(&setup.fingerprint_key());
    match cmd {
        BaselineCommand::Add { .. } => {
            let added = b.add(&findings, scope, reason, |f| {
                setup.baseline_entry_path(f, &base)
            });
            b.save(&path)?;
            crate::term::eprint_line(format_args!(
                "credsweep: {}, {} in all, in {} (scope {})",
                plural(added, "new entry", "new entries"),
                b.len(),
                crate::term::escape(&path.display().to_string()),
                scope.as_str()
            ));
            if let Some(attrs) = baseline::ensure_union_merge(&path)? {
                crate::term::eprint_line(format_args!(
                    "credsweep: added `merge=union` for the baseline to {}, so branches that add entries merge cleanly",
                    crate::term::escape(&attrs.display().to_string())
                ));
            }
        }
        BaselineCommand::Prune { .. } => {
            let cov = setup.coverage(&args);
            if cov.is_none() {
                bail!(
                    "baseline prune needs a scan of the whole tree (`credsweep baseline prune` at the \
                     repository's top, no --exclude) or of the whole history (`credsweep baseline prune \
                     --git`): an entry this scan does not see may live elsewhere, so nothing was dropped"
                );
            }
            let pruned = b.prune(&findings, cov);
            b.save(&path)?;
            for e in &pruned.dropped {
                crate::term::eprint_line(format_args!(
                    "credsweep: dropped {} ({} in {})",
                    e.fingerprint,
                    crate::term::escape(&e.rule),
                    crate::term::escape(&e.path)
                ));
            }
            for (e, gone) in &pruned.narrowed {
                let gone: Vec<&str> = gone.iter().map(|s| s.as_str()).collect();
                let kept: Vec<&str> = e.scope.iter().map(|s| s.as_str()).collect();
                crate::term::eprint_line(format_args!(
                    "credsweep: {} ({} in {}) is gone from the {} but kept for the {}",
                    e.fingerprint,
                    crate::term::escape(&e.rule),
                    crate::term::escape(&e.path),
                    gone.join(", "),
                    kept.join(", ")
                ));
            }
            let other = if cov.history {
                "tree entries were not judged (run it without --git for those)"
            } else {
                "history entries were not judged (run it with --git for those)"
            };
            crate::term::eprint_line(format_args!(
                "credsweep: {} dropped, {} kept, in {}; {other}",
                plural(pruned.dropped.len(), "stale entry", "stale entries"),
                b.len(),
                crate::term::escape(&path.display().to_string())
            ));
            let unscoped = b.unscoped();
            if unscoped > 0 {
                crate::term::eprint_line(format_args!(
                    "credsweep: note: {} no recorded scope (written by an older credsweep) and no scan \
                     has seen them since; they are never dropped automatically: check them and remove \
                     them by hand",
                    plural(unscoped, "entry has", "entries have")
                ));
            }
        }
    }
    Ok(EXIT_CLEAN)
}

/// Writes `report` where `a` says, and returns the exit status it calls for.
pub fn emit(a: &ScanArgs, report: &Report<'_>) -> Result<i32> {
    let redaction = if a.no_redact {
        Redaction::Plain
    } else {
        Redaction::Redact
    };
    let to_terminal = a.output.is_none() && std::io::stdout().is_terminal();
    let color = match a.color {
        ColorChoice::Always => Color::Ansi,
        ColorChoice::Never => Color::Never,
        ColorChoice::Auto
            if to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) =>
        {
            Color::Ansi
        }
        ColorChoice::Auto => Color::Never,
    };
    let body = match a.format {
        Format::Text => report::text::render(report, redaction, color),
        Format::Json => report::json::render(report, redaction),
        Format::Sarif => {
            if a.no_redact {
                crate::term::eprint_line(
                    "credsweep: note: --no-redact does not apply to SARIF: secrets are never written into it",
                );
            }
            let opts = report::sarif::SarifOptions {
                all_rules: a.sarif_all_rules,
                authors: a.sarif_authors,
            };
            let r = report::sarif::render(report, opts);
            for w in &r.warnings {
                crate::term::eprint_line(format_args!(
                    "credsweep: warning: {}",
                    crate::term::escape(w)
                ));
            }
            r.body
        }
    };
    match &a.output {
        Some(path) => {
            crate::fsutil::write_atomic(path, body.as_bytes(), None)
                .with_context(|| format!("cannot write the report to {}", path.display()))?;
            // The report file may not be read (a CI log shows stderr): what made the scan
            // incomplete, or left part of it unscanned, is said here as well.
            for line in stderr_lines(report) {
                crate::term::eprint_line(&line);
            }
        }
        None => write_stdout(&body)?,
    }
    Ok(if report.summary.has_errors() {
        EXIT_ERROR
    } else if crate::verify::fails(&report.findings, &a.verify.fail_on) {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    })
}

/// What a report written with `-o` repeats on stderr: each error and each input not scanned in
/// full, and the notes.
fn stderr_lines(report: &Report<'_>) -> Vec<String> {
    use crate::sources::SkipReason;
    let mut out = Vec::new();
    for k in &report.summary.skips {
        let label = match k.reason {
            SkipReason::Error(_) => "error",
            _ => "note",
        };
        out.push(format!(
            "credsweep: {label}: {}: {}",
            crate::term::escape(&k.path),
            crate::term::escape(&k.reason.to_string())
        ));
    }
    for n in &report.notes {
        out.push(format!("credsweep: note: {}", crate::term::escape(n)));
    }
    let errors = report
        .summary
        .skips
        .iter()
        .filter(|k| matches!(k.reason, SkipReason::Error(_)))
        .count();
    if errors > 0 {
        out.push(format!(
            "credsweep: the scan is incomplete: {} could not be read (exit status 2)",
            plural(errors, "input", "inputs")
        ));
    }
    out
}

fn write_stdout(s: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        // A closed pipe (`credsweep ... | head`) is the reader's choice, not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("cannot write to standard output"),
    }
}
