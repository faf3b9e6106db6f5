//! The command line: clap's view of the arguments ([`args`]), resolved once into the
//! application's plain options ([`resolve`]), then handed to [`crate::app`], which runs the
//! session. The layers below do not print what they have to say to the user (notes, verification
//! progress, what a baseline update or a hook install did): they hand each line to a sink this
//! module gives them, and it prints them.
//!
//! Exit status: 0 clean, 1 findings, 2 error (including a scan that could not read everything it
//! was asked to).

pub mod args;
mod manual;
mod progress;
pub mod resolve;
pub mod rule_list;
mod rule_stats;

use std::io::{IsTerminal, Read};

use anyhow::{Context, Result, bail};

pub use crate::app::{EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS};
pub use args::{Cli, Command};

use args::{BaselineCommand, RulesCommand};

use crate::app::{self, RepoScan, Source, baseline_update::Update, output::write_stdout};
use crate::hooks;

/// A line for the user on stderr.
fn note(line: String) {
    crate::term::eprint_line(line);
}

/// A line for the user on stdout (what `install-hook` and `uninstall-hook` did); a closed stdout
/// is not a panic.
fn say(line: String) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Runs a scan session; on a terminal (as the options say), history progress is drawn on stderr
/// meanwhile.
fn run_scan(opts: &app::ScanOptions, source: Source) -> Result<i32> {
    let bar = opts.progress.clone().map(progress::Bar::start);
    let outcome = app::scan_keeping_setup(opts, source, &mut note);
    // The bar is gone before the table is printed.
    drop(bar);
    let (outcome, setup) = outcome?;
    // Left allocated on purpose: the process exits right after, and freeing the rules, their
    // compiled regexes and the keyword index one allocation at a time was 6% of a scan of an
    // empty directory (callgrind: 1.5 M of 24.8 M instructions). It holds no file or lock to
    // release.
    std::mem::forget(setup);
    finish(outcome)
}

/// A session's exit status, after its `--rule-stats` table, if asked for, on stderr.
fn finish(outcome: app::Outcome) -> Result<i32> {
    for line in outcome.rule_stats.iter().flat_map(rule_stats::table) {
        note(line);
    }
    Ok(outcome.status)
}

/// Runs the command line; returns the exit status.
pub fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Dir(a) => run_scan(&resolve::scan_options(&a.scan), resolve::tree_source(&a)),
        Command::Stdin(a) => run_scan(&resolve::scan_options(&a.scan), Source::Stdin),
        Command::Git(a) => {
            let source = resolve::history_source(&a)?;
            run_scan(&resolve::scan_options(&a.scan), source)
        }
        Command::Repos(a) => {
            let mut opts = resolve::scan_options(&a.scan);
            opts.progress = None;
            let repos = app::repos::ReposOptions {
                list: if a.list.as_os_str() == "-" {
                    app::repos::ListSource::Stdin
                } else {
                    app::repos::ListSource::File(a.list.clone())
                },
                jobs: usize::from(a.jobs),
                shard: a.shard,
                keep_clones: a.keep_clones.clone(),
                clone: crate::sources::clone::Options {
                    timeout: std::time::Duration::from_secs(a.clone_timeout),
                },
                selection: if a.reachable_only {
                    crate::sources::history::Selection::ReachableOnly
                } else {
                    crate::sources::history::Selection::All
                },
                allow_missing_promised: a.allow_missing_promised,
                recurse_submodules: a.recurse_submodules,
                cache: resolve::cache_options(&a.cache),
            };
            app::repos::run(&opts, &repos, &mut note)
        }
        Command::Merge(a) => {
            let opts = app::merge::MergeOptions {
                reports: a.reports,
                output: a.output,
                quiet: a.quiet,
                sarif_runs: match a.sarif_runs {
                    args::SarifRunsArg::PerRepo => app::merge::SarifRuns::PerRepo,
                    args::SarifRunsArg::Combined => app::merge::SarifRuns::Combined,
                },
            };
            app::merge::run(&opts, &mut note)
        }
        Command::Staged(a) => {
            // Under the pre-commit framework's pre-push stage, the commits being pushed.
            let scan = match hooks::pre_commit_framework_push() {
                Some(pushes) => RepoScan::Push(pushes),
                None => RepoScan::Staged,
            };
            let source = Source::Repo { repo: a.repo, scan };
            run_scan(&resolve::scan_options(&a.scan), source)
        }
        Command::PrePush(a) => {
            let pushes = hooks::parse_pre_push(&read_pre_push_lines()?)?;
            let source = Source::Repo {
                repo: a.repo,
                scan: RepoScan::Push(pushes),
            };
            run_scan(&resolve::scan_options(&a.scan), source)
        }
        Command::InstallHook(a) => {
            let opts = hooks::InstallOptions {
                pre_push: a.pre_push,
                force: a.force,
                repo: a.repo,
            };
            hooks::install(&opts, &mut say)?;
            Ok(EXIT_CLEAN)
        }
        Command::UninstallHook(a) => {
            hooks::uninstall(&a.repo, &mut say)?;
            Ok(EXIT_CLEAN)
        }
        Command::Baseline(cmd) => {
            let (dir, git, update) = match cmd {
                BaselineCommand::Add { reason, git, dir } => (dir, git, Update::Add { reason }),
                BaselineCommand::Prune { git, dir } => (dir, git, Update::Prune),
                BaselineCommand::Import {
                    file,
                    reason,
                    git,
                    dir,
                } => {
                    let text = crate::config::read_text_file(&file, crate::config::MAX_CONFIG_FILE)
                        .with_context(|| format!("cannot read {}", file.display()))?;
                    let (entries, unreadable) = crate::baseline::parse_gitleaksignore(&text);
                    if unreadable > 0 {
                        note(format!(
                            "credsweep: note: {unreadable} line(s) of {} are not `[commit:]path:rule-id:line` and were left out",
                            crate::term::escape(&file.display().to_string())
                        ));
                    }
                    (dir, git, Update::Import { entries, reason })
                }
            };
            let source = if git {
                Source::Repo {
                    repo: app::tree_root(&dir.paths),
                    scan: RepoScan::History {
                        selection: crate::sources::history::Selection::All,
                        allow_missing_promised: false,
                        recurse_submodules: false,
                        cache: None,
                    },
                }
            } else {
                resolve::tree_source(&dir)
            };
            let opts = resolve::scan_options(&dir.scan);
            let bar = opts.progress.clone().map(progress::Bar::start);
            let outcome = app::baseline_update::run(&opts, source, update, &mut note);
            drop(bar);
            finish(outcome?)
        }
        Command::Completions { shell } => {
            write_stdout(&manual::completions(shell))?;
            Ok(EXIT_CLEAN)
        }
        Command::Man => {
            write_stdout(&manual::manual()?)?;
            Ok(EXIT_CLEAN)
        }
        Command::Rules(RulesCommand::List { rules, format }) => {
            let mut sink = note;
            let out = rule_list::run(&resolve::rule_options(&rules), format, &mut sink)?;
            write_stdout(&out)?;
            Ok(EXIT_CLEAN)
        }
        Command::Rules(RulesCommand::Check { rules }) => {
            let (out, code) = app::check_rules(&resolve::rule_options(&rules))?;
            write_stdout(&out)?;
            Ok(code)
        }
    }
}

/// git's pre-push lines on standard input; refused from a terminal, where nobody would type them.
fn read_pre_push_lines() -> Result<String> {
    let mut stdin = std::io::stdin();
    if stdin.is_terminal() {
        bail!(
            "credsweep pre-push reads git's pre-push lines on standard input: it is run by the \
             pre-push hook (`credsweep install-hook --pre-push`); to scan commits by hand use \
             `credsweep git --range A..B`"
        );
    }
    let mut raw = Vec::new();
    stdin
        .read_to_end(&mut raw)
        .context("cannot read the pre-push lines on standard input")?;
    Ok(String::from_utf8_lossy(&raw).into_owned())
}
