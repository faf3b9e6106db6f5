//! The command line: argument definitions and the glue from arguments to sources and reports.
//!
//! Each subcommand builds a [`Scanner`] from the rules in force, runs one source, and hands a
//! [`Report`] to [`emit`], which writes it and decides the exit status: 0 clean, 1 findings, 2
//! error (including a scan that could not read everything it was asked to).

use std::fs;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::report::{self, Redaction, Report, ScanKind, text::Color};
use crate::rulecheck;
use crate::rules::RuleSet;
use crate::scanner::Scanner;
use crate::sources::{ScanContext, tree};

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
    /// List or check the rules in force.
    #[command(subcommand)]
    Rules(RulesCommand),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
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
    /// Do not load the built-in rule pack (use only --rules files).
    #[arg(long)]
    pub no_default_rules: bool,
}

/// Options every scan shares.
#[derive(Debug, Clone, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the report to this file instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Show secrets in full (they are redacted to a short prefix by default).
    #[arg(long)]
    pub no_redact: bool,
    /// Scan at most this much of each file (e.g. 64M, 1G, 100K); the rest is reported as not scanned.
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = parse_size)]
    pub max_file_size: u64,
    /// Worker threads (default: available cores).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// When to colour text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// No progress output on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
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

/// `64M`, `1G`, `100K`, `512`: bytes, with optional binary unit suffixes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => {
            let unit = t[i..].to_ascii_uppercase();
            let mult: u64 = match unit.trim_end_matches("IB").trim_end_matches('B') {
                "" => 1,
                "K" => 1 << 10,
                "M" => 1 << 20,
                "G" => 1 << 30,
                "T" => 1 << 40,
                _ => return Err(format!("unknown size unit in {s:?}: use K, M, G or T")),
            };
            (&t[..i], mult)
        }
        None => (t, 1),
    };
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a size: use a number with an optional K, M, G or T"))?;
    n.checked_mul(mult)
        .filter(|&v| v > 0)
        .ok_or_else(|| format!("size {s:?} must be between 1 byte and 16 EiB"))
}

/// Runs the command line; returns the exit status.
pub fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Dir(a) => {
            let (paths, opts) = (a.paths.clone(), tree_options(&a));
            scan_with(&a.scan, ScanKind::Dir, |ctx| {
                Ok(tree::scan_paths(ctx, &paths, &opts))
            })
        }
        Command::Stdin(a) => scan_with(&a.scan, ScanKind::Stdin, |ctx| Ok(tree::scan_stdin(ctx))),
        Command::Rules(RulesCommand::List { rules }) => {
            let set = load_rules(&rules)?;
            let mut out = String::new();
            for r in set.rules() {
                out += &format!(
                    "{:<36} {:<8} {}\n",
                    r.id,
                    r.severity.as_str(),
                    r.description
                );
            }
            out += &format!("{} rules\n", set.len());
            write_stdout(&out)?;
            Ok(EXIT_CLEAN)
        }
        Command::Rules(RulesCommand::Check { rules }) => {
            let set = load_rules(&rules)?;
            let failures = rulecheck::check(&set);
            let mut out = String::new();
            for f in &failures {
                out += &format!("FAIL {f}\n");
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

pub fn threads(a: &ScanArgs) -> usize {
    a.threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1)
}

/// The rules in force: the built-in pack unless `--no-default-rules`, plus `--rules` files.
pub fn load_rules(a: &RuleArgs) -> Result<RuleSet> {
    let mut set = if a.no_default_rules {
        RuleSet::default()
    } else {
        RuleSet::builtin().context("the built-in rule pack is broken (a bug: please report it)")?
    };
    for path in &a.rules {
        let text = fs::read_to_string(path)
            .with_context(|| format!("cannot read rule file {}", path.display()))?;
        set.add_toml(&path.display().to_string(), &text)?;
    }
    if set.is_empty() {
        bail!("no rules in force: drop --no-default-rules or add rules with --rules FILE");
    }
    Ok(set)
}

/// Builds the scanner and context for `a`, runs `source`, and emits the report.
pub fn scan_with(
    a: &ScanArgs,
    kind: ScanKind,
    source: impl FnOnce(
        &ScanContext<'_>,
    ) -> Result<(Vec<crate::finding::Finding>, crate::sources::Summary)>,
) -> Result<i32> {
    let started = Instant::now();
    let rules = load_rules(&a.rules)?;
    let scanner = Scanner::new(rules);
    let ctx = ScanContext {
        scanner: &scanner,
        fingerprint_key: crate::finding::DEFAULT_FINGERPRINT_KEY.to_vec(),
        max_file_size: a.max_file_size,
    };
    let (findings, summary) = source(&ctx)?;
    let report = Report::new(kind, findings, summary, scanner.rules(), started.elapsed());
    emit(a, &report)
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
    };
    match &a.output {
        Some(path) => fs::write(path, body)
            .with_context(|| format!("cannot write the report to {}", path.display()))?,
        None => write_stdout(&body)?,
    }
    Ok(if report.summary.has_errors() {
        EXIT_ERROR
    } else if !report.findings.is_empty() {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    })
}

fn write_stdout(s: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        // A closed pipe (`credsweep ... | head`) is the reader's choice, not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("cannot write to standard output"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("100k"), Ok(100 << 10));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("512"), Ok(512));
        assert!(parse_size("0").is_err());
        assert!(parse_size("12Q").is_err());
        assert!(parse_size("lots").is_err());
        assert!(parse_size("99999999999T").is_err());
    }
}
