//! The command line as clap reads it (ripgrep's "low-level" arguments): the subcommands and
//! their flags, exactly as typed. [`super::resolve`] turns them into the application's plain
//! options once; nothing outside [`crate::cli`] sees these types.

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::PossibleValue;
use clap::{Args, Parser, Subcommand, ValueEnum};

use super::resolve::{BaseUrlParser, parse_severity, parse_timeout};
use crate::rules::Severity;
use crate::sources::repo_list::Shard;
use crate::verify::{BaseUrl, DEFAULT_BASE_URL, FailOn};

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
    /// Scan many repositories, each like `git` does: LIST names one per line (a local path, a
    /// bare repository, or a file://, https:// or ssh:// URL, cloned into a temporary mirror by
    /// git); `-` reads the list from standard input.
    Repos(ReposArgs),
    /// Combine the JSON reports of `repos --shard K/N` runs into one report with a coverage
    /// record of every repository in the list (exit status 2 when one was not scanned).
    Merge(MergeArgs),
    /// Scan what is staged for the next commit: the index, not the working tree.
    Staged(StagedArgs),
    /// Scan the commits a `git push` sends: reads git's pre-push lines (`<local ref> <local sha>
    /// <remote ref> <remote sha>`) on standard input; what the installed pre-push hook runs.
    PrePush(PrePushArgs),
    /// Install credsweep as the repository's git pre-commit hook (and pre-push hook with
    /// --pre-push), chaining to a hook already there.
    InstallHook(InstallArgs),
    /// Remove the hooks `install-hook` wrote and put back the hooks it chained to.
    UninstallHook(UninstallArgs),
    /// List or check the rules in force.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Accept the current findings (add) or drop accepted ones that match nothing (prune).
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// Print a shell completion script, e.g. `credsweep completions bash >
    /// ~/.local/share/bash-completion/completions/credsweep`.
    Completions {
        /// The shell the script is for.
        #[arg(value_enum, value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), every subcommand and flag: `credsweep man | man -l -`, or
    /// install it with `credsweep man > ~/.local/share/man/man1/credsweep.1`.
    Man,
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
    /// Turn gitleaks' ignore file (`.gitleaksignore`: `commit:path:rule-id:line` or
    /// `path:rule-id:line`) into baseline entries: scans like `dir` (or `git` with --git), and
    /// each line whose finding is still there becomes an entry; the others are listed.
    Import {
        /// The ignore file, e.g. `.gitleaksignore`.
        #[arg(value_name = "IGNORE_FILE")]
        file: PathBuf,
        /// Why these findings are accepted; stored with each new entry.
        #[arg(long)]
        reason: Option<String>,
        /// Scan the whole git history of the repository at PATH (for `commit:…` lines).
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
    /// One self-contained HTML file for an audit: summary, timeline, sortable findings table
    /// (secrets are never written into it in full, not even with --no-redact).
    Html,
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
    /// Scan at most this much of each file, stream or blob (e.g. 64M, 1G, 100K; default: no
    /// cap, everything is scanned). An input cut by it fails the scan (exit status 2) unless
    /// --allow-truncation is given.
    #[arg(long, value_name = "SIZE", value_parser = crate::units::parse_size)]
    pub max_file_size: Option<u64>,
    /// Let a scan that --max-file-size (or max_file_size in the configuration) cut pass: the
    /// cut inputs are still named, but do not make the exit status 2.
    #[arg(long)]
    pub allow_truncation: bool,
    /// For tests: scan inputs in windows of this size (default 8M; at least eight times the
    /// longest multi-line match).
    #[arg(long, value_name = "SIZE", value_parser = crate::units::parse_size, hide = true)]
    pub window_size: Option<u64>,
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
    /// Decode values written in base64, hex, percent-encoding, string escapes or HTML
    /// references and scan what they hold, up to N encodings deep (0: scan text as written).
    #[arg(long, value_name = "N", default_value_t = crate::scan::DEFAULT_MAX_DECODE_DEPTH, value_parser = clap::value_parser!(u32).range(0..=8))]
    pub max_decode_depth: u32,
    /// Print to stderr, after the report, what each rule cost: keyword hits, regex runs, matches,
    /// findings kept and time, slowest first, with the keyword search and decoding totals.
    #[arg(long)]
    pub rule_stats: bool,
    /// Do not open archives (zip and its family, gzip, tar): scan them as the bytes they are.
    #[arg(long)]
    pub no_archives: bool,
    /// Open archives nested in archives this deep (the outermost is 1; 0 opens none).
    #[arg(long, value_name = "N", default_value_t = crate::archive::DEFAULT_MAX_DEPTH)]
    pub max_archive_depth: u32,
    /// Skip binary files (a NUL byte among the first 8,000 bytes) instead of scanning their
    /// printable strings. Images, audio, video and fonts are skipped either way.
    #[arg(long)]
    pub skip_binary: bool,
    /// Opt-in verification of Vobiz credential pairs (`--verify`, `--fail-on active`, ...).
    #[command(flatten)]
    pub verify: VerifyArgs,
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
    /// Also scan the history of each initialised submodule (its own object database under
    /// .git/modules), its findings at paths under the submodule's; one not initialised is named
    /// in the report.
    #[arg(long)]
    pub recurse_submodules: bool,
    #[command(flatten)]
    pub cache: CacheArgs,
    #[command(flatten)]
    pub scan: ScanArgs,
}

/// The blob cache's flags, the same for `git` and `repos` (one cache may serve every repository:
/// a blob id names its content).
#[derive(Debug, Args)]
pub struct CacheArgs {
    /// Keep a cache of the blobs scanned clean in DIR (also CREDSWEEP_CACHE): a repeat audit
    /// reads only blobs it has not seen under the same rules and options. Ids and counts only.
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    pub cache: Option<PathBuf>,
    /// Use no cache, whatever CREDSWEEP_CACHE says.
    #[arg(long)]
    pub no_cache: bool,
    /// The most the cache may take (default 256M); the oldest entries go first.
    #[arg(long, value_name = "SIZE", value_parser = crate::units::parse_size)]
    pub cache_max_size: Option<u64>,
}

#[derive(Debug, Args)]
pub struct ReposArgs {
    /// The list of repositories, one per line (blank lines and `#` comments are skipped); `-`
    /// is standard input.
    #[arg(value_name = "LIST")]
    pub list: PathBuf,
    /// Scan this many repositories at a time (the --threads are shared among them).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: u16,
    /// Scan only share K of N of the list (1-based), chosen by a hash of each line: the same
    /// line is always in the same shard, and adding a line moves no other. Merge the N reports
    /// with `credsweep merge`.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,
    /// Keep the mirrors of cloned repositories in DIR (and fetch into them on the next run)
    /// instead of deleting them after the scan.
    #[arg(long, value_name = "DIR")]
    pub keep_clones: Option<PathBuf>,
    /// Seconds a clone (or a fetch into a kept one) may take before git is stopped and the
    /// repository recorded as failed.
    #[arg(long, value_name = "SECS", default_value_t = 1800, value_parser = clap::value_parser!(u64).range(1..))]
    pub clone_timeout: u64,
    /// Scan only blobs that refs reach (leave out dangling and reflog-only commits).
    #[arg(long)]
    pub reachable_only: bool,
    /// In a partial clone, accept that the blobs it was cloned without are not scanned.
    #[arg(long)]
    pub allow_missing_promised: bool,
    /// Also scan each initialised submodule's history (local repositories; a mirror clone has
    /// none initialised).
    #[arg(long)]
    pub recurse_submodules: bool,
    #[command(flatten)]
    pub cache: CacheArgs,
    #[command(flatten)]
    pub scan: ScanArgs,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The reports of `credsweep repos --format json` (or `--format sarif`) runs, one per shard.
    #[arg(value_name = "REPORT", required = true)]
    pub reports: Vec<PathBuf>,
    /// Write the merged report to this file instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// No summary on stderr (unless coverage is incomplete).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// For SARIF logs: keep one run per repository (`per-repo`, each with its own category for
    /// code scanning) or put every repository's results in one run (`combined`, each result
    /// with `properties.repo`).
    #[arg(long, value_enum, value_name = "HOW", default_value_t = SarifRunsArg::PerRepo)]
    pub sarif_runs: SarifRunsArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SarifRunsArg {
    PerRepo,
    Combined,
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
    /// Print every rule: id, severity, description (text); with provider, keywords, path
    /// scope, pairing and verification too (json, markdown).
    List {
        #[command(flatten)]
        rules: RuleArgs,
        /// text (one line per rule), json, or markdown (a table grouped by provider).
        #[arg(long, value_enum, default_value = "text")]
        format: super::rule_list::ListFormat,
    },
    /// Run every rule's examples and negative examples; fail on any mismatch.
    Check {
        #[command(flatten)]
        rules: RuleArgs,
    },
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Also install a pre-push hook that scans the commits each push sends.
    #[arg(long)]
    pub pre_push: bool,
    /// Replace a hook already there instead of chaining to it (it is kept as
    /// `<hook>.credsweep-replaced`, not run, and `uninstall-hook` puts it back).
    #[arg(long)]
    pub force: bool,
    /// The repository (default: the one the current directory is in).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
}

#[derive(Debug, Args)]
pub struct UninstallArgs {
    /// The repository (default: the one the current directory is in).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
}

#[derive(Debug, Args)]
pub struct PrePushArgs {
    /// The remote's name, as git passes it to a pre-push hook.
    #[arg(value_name = "REMOTE")]
    pub remote: Option<String>,
    /// The remote's URL, as git passes it to a pre-push hook (not used).
    #[arg(value_name = "URL")]
    pub url: Option<String>,
    /// The repository (default: the one the current directory is in).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
    #[command(flatten)]
    pub scan: ScanArgs,
}

/// Parses `--shard K/N`.
fn parse_shard(s: &str) -> Result<Shard, String> {
    Shard::parse(s)
}

/// The verification options every scan command takes.
#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// Check each Vobiz partner id + auth token pair found against the Vobiz API (one
    /// `GET /api/v1/partner/me` per distinct pair) and report it active, inactive or unknown.
    /// Off by default: without it credsweep makes no network connection.
    #[arg(long)]
    pub verify: bool,
    /// Seconds one verification request may take.
    #[arg(long, value_name = "SECS", value_parser = parse_timeout, default_value = "5")]
    pub verify_timeout: Duration,
    /// The API to verify against: requests go to this one host only, redirects are never
    /// followed. Plain `http://` only to a loopback address.
    #[arg(long, value_name = "URL", value_parser = BaseUrlParser, default_value = DEFAULT_BASE_URL)]
    pub verify_base_url: BaseUrl,
    /// Print the verification requests that would be made (secrets redacted) on stderr, and send
    /// nothing.
    #[arg(long)]
    pub verify_dry_run: bool,
    /// Which findings fail the scan (exit 1): `any` finding (the default), or only credentials
    /// whose `--verify` outcome is in the list: `active`, `inactive`, `unknown` (no answer:
    /// API down, rate limited, timed out), `unverifiable`. Comma-separated or repeated, e.g.
    /// `--fail-on active,unknown` for a CI gate that does not pass when the API cannot answer.
    /// Outcomes need `--verify`. Errors still exit 2.
    #[arg(long, value_enum, value_name = "WHEN", value_delimiter = ',',
          default_values_t = [FailOn::Any])]
    pub fail_on: Vec<FailOn>,
}

/// `--fail-on` values are [`FailOn`] itself: verify keeps no clap, and the names and help texts
/// clap shows are given here, once.
impl ValueEnum for FailOn {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            FailOn::Any,
            FailOn::Active,
            FailOn::Inactive,
            FailOn::Unknown,
            FailOn::Unverifiable,
        ]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            FailOn::Any => PossibleValue::new("any").help("Any finding fails the scan"),
            FailOn::Active => PossibleValue::new("active")
                .help("A credential verified active (the API accepted it)"),
            FailOn::Inactive => {
                PossibleValue::new("inactive").help("A credential the API rejected")
            }
            FailOn::Unknown => PossibleValue::new("unknown").help(
                "A credential the API gave no answer about (timeout, network error, 429, 5xx)",
            ),
            FailOn::Unverifiable => PossibleValue::new("unverifiable")
                .help("A credential that was not tried (no pair in its file, a test-mode token)"),
        })
    }
}
