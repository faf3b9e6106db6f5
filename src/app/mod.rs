//! The application: one scan session from resolved options to an exit status.
//!
//! The CLI ([`crate::cli`]) turns flags into a plain [`ScanOptions`] and a [`Source`] once; it
//! never runs a scan itself, and nothing here knows about clap. A session runs the same steps
//! for every source, in this order:
//!
//! 1. **open**: the repository, for the git sources (its top is the scanned root);
//! 2. **config and rules**: a [`Setup`] (configuration, rules, scanner, project root, size cap);
//! 3. **scan**: the one step that differs by [`Source`] (`collect`: tree, standard input,
//!    history, staged changes, the ranges a push sends), giving a `Collected`;
//! 4. **baseline, severity, verify**: `report` judges stale entries, drops findings below the
//!    threshold, links pairs and verifies them, and builds the [`Report`];
//! 5. **report and exit status**: [`output::emit`] writes it and decides the status.
//!
//! `baseline add` and `baseline prune` ([`baseline_update`]) run steps 1-3 the same way and then
//! update the baseline instead of reporting. Lines for the user on stderr (notes, progress of
//! verification, what a baseline update did) go to a [`Notes`] sink the CLI gives, in order, as
//! they happen; the report itself is written by [`output`], the binary's terminal side.

pub mod baseline_update;
pub mod merge;
pub mod output;
pub mod repos;
pub mod rule_stats;
pub mod setup;
pub(crate) mod submodules;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;

use crate::finding::{Finding, Redaction};
use crate::hooks::{self, Pushed};
use crate::report::{Report, ScanKind, Target, sarif::SarifOptions, text::Color};
use crate::rules::Severity;
use crate::scan::Summary;
use crate::sources::history::{self, HistoryOptions, Selection};
use crate::sources::tree;
use crate::term::plural;

pub use setup::{DEFAULT_MAX_FILE_SIZE, Setup, load_config, load_rules, load_rules_imported};

/// Exit statuses.
pub const EXIT_CLEAN: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_ERROR: i32 = 2;

/// Where lines for the user go (the CLI writes each to stderr): one line each, escaped, without
/// its line break.
pub type Notes<'a> = &'a mut dyn FnMut(String);

/// Which rules are in force.
#[derive(Debug, Clone, Default)]
pub struct RuleOptions {
    /// Rule files added to the set.
    pub files: Vec<PathBuf>,
    /// Leave out the built-in rule pack.
    pub no_default_rules: bool,
    /// Where the configuration comes from.
    pub config: ConfigChoice,
}

/// Where the configuration comes from.
#[derive(Debug, Clone, Default)]
pub enum ConfigChoice {
    /// `.credsweep.toml` found from the scanned root upwards, if any.
    #[default]
    Discover,
    /// This file, trusted (the user named it).
    File(PathBuf),
    /// No configuration.
    None,
}

/// The report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Html,
}

/// Everything a scan session needs to know from the command line, resolved: no flag is read
/// again after the CLI built this (terminal checks included).
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub rules: RuleOptions,
    pub format: Format,
    pub sarif: SarifOptions,
    /// Write the report to this file instead of standard output.
    pub output: Option<PathBuf>,
    /// How secrets are shown.
    pub redaction: Redaction,
    /// Whether text reports are coloured (decided with the terminal and `NO_COLOR`).
    pub color: Color,
    /// `--max-file-size`; else the configuration's, else [`DEFAULT_MAX_FILE_SIZE`] (no cap).
    pub max_file_size: Option<u64>,
    /// `--allow-truncation`: a scan the size cap cut may pass (else it exits 2).
    pub allow_truncation: bool,
    /// `--window-size` (hidden, for tests): how much of an input is scanned at once.
    pub window_size: Option<usize>,
    /// Worker threads.
    pub threads: usize,
    /// No notes on stderr beyond errors.
    pub quiet: bool,
    /// Where a history scan records how far it has got (the CLI draws it on a terminal).
    pub progress: Option<std::sync::Arc<crate::sources::history::progress::Progress>>,
    /// `--min-severity`; else the configuration's.
    pub min_severity: Option<Severity>,
    /// `--exclude` globs.
    pub exclude: Vec<String>,
    /// `--baseline FILE`; else the default one, if present.
    pub baseline: Option<PathBuf>,
    pub show_suppressed: bool,
    pub fail_on_stale: bool,
    /// Honour inline markers (`credsweep:allow`).
    pub inline_allow: bool,
    /// How many encodings deep values in text are decoded and scanned.
    pub max_decode_depth: u32,
    /// `--rule-stats`: count what each rule costs, for the CLI to print after the report.
    pub rule_stats: bool,
    /// Open archives (zip, gzip, tar) and scan their members; off with `--no-archives`.
    pub archives: bool,
    /// `--max-archive-depth`: how deep archives nested in archives are opened.
    pub max_archive_depth: u32,
    /// Scan the printable strings of binary files; off with `--skip-binary`.
    pub binary_strings: bool,
    pub verify: crate::verify::Options,
}

/// Where a scan's bytes come from: the one step of a session that differs.
#[derive(Debug, Clone)]
pub enum Source {
    /// Files and directories (`-` is standard input).
    Tree {
        paths: Vec<PathBuf>,
        options: tree::TreeOptions,
    },
    /// Standard input.
    Stdin,
    /// Part of the repository at (or above) `repo`, whose top becomes the scanned root.
    Repo { repo: PathBuf, scan: RepoScan },
}

/// What of a repository a scan reads.
#[derive(Debug, Clone)]
pub enum RepoScan {
    /// The history, or the part `selection` names.
    History {
        selection: Selection,
        allow_missing_promised: bool,
        /// Scan each initialised submodule's history too (`--recurse-submodules`).
        recurse_submodules: bool,
        /// The blob cache (`--cache DIR`), if one is used.
        cache: Option<history::cache::Options>,
    },
    /// What is staged for the next commit.
    Staged,
    /// The ranges a push sends.
    Push(Vec<Pushed>),
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

/// What the scan step of a session gives.
pub(crate) struct Collected {
    pub kind: ScanKind,
    pub findings: Vec<Finding>,
    /// For a staged scan: secrets already committed in the changed files (never blocking).
    pub preexisting: Vec<Finding>,
    pub summary: Summary,
    /// Notes from the source for the reader (shallow clone, submodules, range).
    pub notes: Vec<String>,
    pub scanned: Scanned,
    /// What relative finding paths are relative to.
    pub path_base: PathBuf,
    /// Text printed after a text report with findings (hook runs).
    pub footer: Option<String>,
    /// What was scanned, for the report's header.
    pub target: Target,
}

impl Collected {
    fn new(kind: ScanKind, path_base: PathBuf) -> Collected {
        Collected {
            kind,
            findings: Vec::new(),
            preexisting: Vec::new(),
            summary: Summary::default(),
            notes: Vec::new(),
            scanned: Scanned::Partial,
            path_base,
            footer: None,
            target: Target::default(),
        }
    }
}

/// What a session ends with.
#[derive(Debug)]
pub struct Outcome {
    /// The exit status.
    pub status: i32,
    /// What each rule cost, with `--rule-stats` (for the CLI to print).
    pub rule_stats: Option<rule_stats::RuleProfile>,
}

/// Runs one scan session: `source` scanned with `opts`, reported.
pub fn scan(opts: &ScanOptions, source: Source, notes: Notes<'_>) -> Result<Outcome> {
    scan_keeping_setup(opts, source, notes).map(|(outcome, _)| outcome)
}

/// [`scan`], giving back the session's [`Setup`] (its rules, compiled regexes and keyword index)
/// for the caller to drop, or not: a process that exits right after need not free it.
pub fn scan_keeping_setup(
    opts: &ScanOptions,
    source: Source,
    notes: Notes<'_>,
) -> Result<(Outcome, Setup)> {
    let started = Instant::now();
    let (setup, mut collected) = collect(opts, source)?;
    let rule_stats = take_rule_stats(opts, &setup, &mut collected);
    let status = report(opts, &setup, collected, started, notes)?;
    Ok((Outcome { status, rule_stats }, setup))
}

/// With `--rule-stats`, what each rule cost the scan `collected` holds (and the findings it
/// reports, before the baseline), taken out of its summary.
pub(crate) fn take_rule_stats(
    opts: &ScanOptions,
    setup: &Setup,
    collected: &mut Collected,
) -> Option<rule_stats::RuleProfile> {
    if !opts.rule_stats {
        return None;
    }
    let stats = collected.summary.rule_stats.take().unwrap_or_default();
    let reported: Vec<&Finding> = collected
        .findings
        .iter()
        .filter(|f| setup.reports_severity_of(opts, f))
        .collect();
    Some(rule_stats::RuleProfile::new(
        &setup.scanner,
        &stats,
        reported,
        collected.summary.bytes,
    ))
}

/// How a history scan runs under `opts`.
fn history_options(
    opts: &ScanOptions,
    selection: Selection,
    allow_missing_promised: bool,
    cache: Option<history::cache::Options>,
) -> HistoryOptions {
    HistoryOptions {
        selection,
        threads: opts.threads,
        progress: opts.progress.clone(),
        allow_missing_promised,
        cache,
    }
}

/// Where a tree scan looks for its configuration and baseline, and where `baseline add --git`
/// looks for the repository: the first path given that is not `-`, else `.`.
pub(crate) fn tree_root(paths: &[PathBuf]) -> PathBuf {
    paths
        .iter()
        .find(|p| p.as_os_str() != "-")
        .cloned()
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Steps 1-3 of a session: opens what `source` names, sets up rules and configuration for it,
/// and scans it.
pub(crate) fn collect(opts: &ScanOptions, source: Source) -> Result<(Setup, Collected)> {
    let (setup, mut c) = collect_source(opts, source)?;
    // A scan the size cap cut did not read everything: it does not pass, unless asked.
    if !setup.allow_truncation {
        c.summary.truncations_as_errors();
    }
    Ok((setup, c))
}

/// [`collect`] before the truncation policy is applied.
fn collect_source(opts: &ScanOptions, source: Source) -> Result<(Setup, Collected)> {
    match source {
        Source::Tree { paths, options } => {
            let setup = Setup::new(opts, &tree_root(&paths))?;
            let mut c = Collected::new(ScanKind::Tree, crate::project::current_dir());
            let (findings, summary) =
                tree::scan_paths(&setup.context(c.path_base.clone()), &paths, &options);
            c.target.roots = paths.iter().map(|p| p.display().to_string()).collect();
            (c.findings, c.summary, c.scanned) = (findings, summary, Scanned::Tree(paths));
            Ok((setup, c))
        }
        Source::Stdin => {
            let setup = Setup::new(opts, Path::new("."))?;
            let mut c = Collected::new(ScanKind::Stdin, crate::project::current_dir());
            (c.findings, c.summary) = tree::scan_stdin(&setup.context(c.path_base.clone()));
            c.target.roots = vec!["<stdin>".to_string()];
            Ok((setup, c))
        }
        Source::Repo { repo, scan } => {
            let repo = history::repo::open(&repo)?;
            let top = history::repo::root(&repo);
            let setup = Setup::new(opts, &top)?;
            let mut c = collect_repo(opts, &setup, &repo, top.clone(), scan)?;
            c.target.roots = vec![top.display().to_string()];
            Ok((setup, c))
        }
    }
}

/// The scan step for a repository opened at `top`.
fn collect_repo(
    opts: &ScanOptions,
    setup: &Setup,
    repo: &gix::Repository,
    top: PathBuf,
    scan: RepoScan,
) -> Result<Collected> {
    let ctx = setup.context(top.clone());
    Ok(match scan {
        RepoScan::History {
            selection,
            allow_missing_promised,
            recurse_submodules,
            cache,
        } => {
            let mut c = Collected::new(ScanKind::History, top);
            if matches!(selection, Selection::All) {
                c.scanned = Scanned::FullHistory;
            }
            c.target.commits = Some(commits_scanned(&selection));
            let options = history_options(opts, selection, allow_missing_promised, cache);
            let scan = history::scan(&ctx, repo, &options)?;
            (c.findings, c.summary, c.notes) = (scan.findings, scan.summary, scan.notes);
            if recurse_submodules {
                submodules::scan_into(&mut c, &ctx, repo, &options);
            }
            c
        }
        RepoScan::Staged => {
            let mut c = Collected::new(ScanKind::Staged, top);
            let scan = crate::sources::staged::scan(&ctx, repo)?;
            (c.findings, c.preexisting, c.summary, c.notes) =
                (scan.findings, scan.preexisting, scan.summary, scan.notes);
            c.footer = Some(hooks::commit_footer());
            c.target.commits = Some("the index, against HEAD".to_string());
            c
        }
        RepoScan::Push(pushes) => {
            let mut c = Collected::new(ScanKind::History, top);
            c.target.commits = Some(format!(
                "what the push sends ({})",
                plural(pushes.len(), "ref", "refs")
            ));
            if pushes.is_empty() {
                c.notes.push(
                    "nothing to scan: the push sends no commits (it only deletes refs)".to_string(),
                );
            }
            let mut seen = BTreeSet::new();
            for p in pushes {
                let selection = hooks::selection(repo, p);
                let out =
                    history::scan(&ctx, repo, &history_options(opts, selection, false, None))?;
                for f in out.findings {
                    // Two branches pushed together may share commits: report each place once.
                    if seen.insert((f.fingerprint.clone(), f.location.clone(), f.line, f.column)) {
                        c.findings.push(f);
                    }
                }
                c.summary.merge(out.summary);
                for n in out.notes {
                    if !c.notes.contains(&n) {
                        c.notes.push(n);
                    }
                }
            }
            c.footer = Some(hooks::push_footer());
            c
        }
    })
}

/// Which commits a history scan read, in words for a report's header.
fn commits_scanned(selection: &Selection) -> String {
    match selection {
        Selection::All => {
            "all: every object, reachable or not (refs, reflogs, the stash, unreachable commits)"
                .to_string()
        }
        Selection::ReachableOnly => "those the refs reach (--reachable-only)".to_string(),
        Selection::Range { base, tip } => format!("{base}..{tip}"),
        Selection::Unpushed { tip } => {
            format!("{tip}, less what the remote-tracking refs reach")
        }
    }
}

/// Steps 4-5 of a session: applies the baseline, the severity threshold and verification to
/// what `collect` gave, and emits the report; returns the exit status.
pub(crate) fn report(
    opts: &ScanOptions,
    setup: &Setup,
    collected: Collected,
    started: Instant,
    notes: Notes<'_>,
) -> Result<i32> {
    let (report, stale) = build_report(opts, setup, collected, started, notes)?;
    let code = output::emit(opts, &report, notes)?;
    Ok(if stale > 0 { EXIT_ERROR } else { code })
}

/// Step 4 of a session: the [`Report`] of what `collect` gave, with the baseline, the severity
/// threshold and verification applied, and how many baseline entries `--fail-on-stale` found
/// stale (each makes the exit status 2).
pub(crate) fn build_report<'s>(
    opts: &ScanOptions,
    setup: &'s Setup,
    collected: Collected,
    started: Instant,
    notes: Notes<'_>,
) -> Result<(Report<'s>, usize)> {
    let Collected {
        kind,
        mut findings,
        preexisting,
        mut summary,
        notes: source_notes,
        scanned,
        footer,
        target,
        ..
    } = collected;
    if !preexisting.is_empty()
        && !opts.quiet
        && (opts.format != Format::Text || opts.output.is_some())
    {
        // The text report lists them; other formats and `-o` get the notice on stderr too.
        notes(format!(
            "credsweep: note: {} already committed in the files you changed (not added by this commit, not blocking). {}",
            plural(preexisting.len(), "secret", "secrets"),
            crate::report::text::PREEXISTING_ADVICE
        ));
    }
    // A built-in rule whose regex failed to compile matched nothing: the scan is incomplete.
    for (id, e) in setup.scanner.rules().broken() {
        summary.skip(
            format!("rule {id}"),
            crate::scan::SkipReason::Error(format!(
                "the rule's regex does not compile, so the rule was not applied (a bug: please report it): {e}"
            )),
        );
    }
    let report_notes: Vec<String> = std::mem::take(&mut summary.notes)
        .into_iter()
        .chain(source_notes)
        .collect();
    let baseline = setup.baseline(opts)?;
    // Staleness is judged on everything the scan saw, before the severity threshold drops any.
    let seen: BTreeSet<String> = findings.iter().map(|f| f.fingerprint.0.clone()).collect();
    let before = findings.len();
    findings.retain(|f| setup.reports_severity_of(opts, f));
    summary.below_min_severity += (before - findings.len()) as u64;
    crate::verify::apply(
        &opts.verify,
        &mut findings,
        opts.redaction,
        opts.quiet,
        notes,
    )?;
    let mut report = Report::new(
        kind,
        findings,
        summary,
        setup.scanner.rules(),
        started.elapsed(),
    );
    report.preexisting = preexisting;
    report.show_suppressed = opts.show_suppressed;
    report.footer = footer;
    report.target = target;
    report.notes.extend(setup.notes.iter().cloned());
    report.notes.extend(report_notes);
    let mut stale = 0;
    if let Some(b) = &baseline {
        report.apply_baseline(b);
        if opts.fail_on_stale {
            let cov = setup.coverage(opts, &scanned);
            let seen: BTreeSet<&str> = seen.iter().map(String::as_str).collect();
            for (e, scopes) in b.stale(&seen, cov) {
                stale += 1;
                let history = scopes.contains(&crate::baseline::Scope::History);
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
    if setup::redacts_repository_strings(opts) {
        report.redact_repository_strings(&setup.scanner);
    }
    Ok((report, stale))
}

/// `credsweep rules check`: each example that misbehaves and a tally, with the exit status.
pub fn check_rules(rules: &RuleOptions) -> Result<(String, i32)> {
    let set = load_rules(rules, &load_config(rules, Path::new("."))?)?;
    // A scan compiles a rule's regexes on first use; the check compiles every one of them, so a
    // built-in rule that would fail only when its keyword turns up fails here.
    let broken = set.compile_all();
    let mut out = String::new();
    for (id, e) in &broken {
        out += &format!(
            "FAIL {}\n",
            crate::term::escape_lines(&format!("{id}: a regex does not compile: {e}"))
        );
    }
    let failures = crate::rulecheck::check(&set);
    for f in &failures {
        out += &format!("FAIL {}\n", crate::term::escape_lines(&f.to_string()));
    }
    let examples: usize = set
        .rules()
        .iter()
        .map(|r| r.examples.len() + r.negative_examples.len())
        .sum();
    out += &format!(
        "{} rules, {} examples: {} failed{}\n",
        set.len(),
        examples,
        failures.len(),
        if broken.is_empty() {
            String::new()
        } else {
            format!("; {} regexes do not compile", broken.len())
        }
    );
    let code = if failures.is_empty() && broken.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_FINDINGS
    };
    Ok((out, code))
}
