//! From flags to options (ripgrep's "low-level" to "high-level" arguments): each scan's
//! [`ScanArgs`] becomes one plain [`ScanOptions`], with every decision that depends on the
//! environment (is stdout a terminal, `NO_COLOR`, the core count) taken here, once. Also the
//! value parsers clap calls for flags whose values need checking.

use std::io::IsTerminal;
use std::time::Duration;

use super::args::{
    CacheArgs, ColorChoice, DirArgs, Format, GitArgs, RuleArgs, ScanArgs, VerifyArgs,
};
use crate::app::{self, ConfigChoice, RepoScan, RuleOptions, ScanOptions, Source};
use crate::finding::Redaction;
use crate::report::{sarif::SarifOptions, text::Color};
use crate::rules::Severity;
use crate::sources::history::Selection;
use crate::sources::tree;
use crate::verify::{self, BaseUrl};

/// The most worker threads a scan starts, whatever `--threads` says: past the core count more
/// threads only cost memory (each holds a read buffer of up to the size cap).
pub(crate) const MAX_THREADS: usize = 256;

/// Worker threads: `--threads N`, or the available cores when it is absent or 0; at most
/// [`MAX_THREADS`].
pub(crate) fn threads(a: &ScanArgs) -> usize {
    match a.threads {
        Some(n) if n > 0 => n.min(MAX_THREADS),
        _ => std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(MAX_THREADS),
    }
}

/// The rules and configuration flags.
pub(crate) fn rule_options(a: &RuleArgs) -> RuleOptions {
    RuleOptions {
        files: a.rules.clone(),
        no_default_rules: a.no_default_rules,
        config: match (&a.config, a.no_config) {
            (_, true) => ConfigChoice::None,
            (Some(file), false) => ConfigChoice::File(file.clone()),
            (None, false) => ConfigChoice::Discover,
        },
    }
}

/// The verification flags.
pub(crate) fn verify_options(a: &VerifyArgs) -> verify::Options {
    verify::Options {
        verify: a.verify,
        timeout: a.verify_timeout,
        base_url: a.verify_base_url.clone(),
        dry_run: a.verify_dry_run,
        fail_on: a.fail_on.clone(),
    }
}

/// Colour for a text report: `--color`, and with `auto` only to a terminal (not `-o`) when
/// `NO_COLOR` is unset or empty.
fn color(a: &ScanArgs) -> Color {
    let to_terminal = a.output.is_none() && std::io::stdout().is_terminal();
    match a.color {
        ColorChoice::Always => Color::Ansi,
        ColorChoice::Never => Color::Never,
        ColorChoice::Auto
            if to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) =>
        {
            Color::Ansi
        }
        ColorChoice::Auto => Color::Never,
    }
}

/// Every flag a scan shares, resolved.
pub(crate) fn scan_options(a: &ScanArgs) -> ScanOptions {
    ScanOptions {
        rules: rule_options(&a.rules),
        format: match a.format {
            Format::Text => app::Format::Text,
            Format::Json => app::Format::Json,
            Format::Sarif => app::Format::Sarif,
            Format::Html => app::Format::Html,
        },
        sarif: SarifOptions {
            all_rules: a.sarif_all_rules,
            authors: a.sarif_authors,
        },
        output: a.output.clone(),
        redaction: if a.no_redact {
            Redaction::Plain
        } else {
            Redaction::Redact
        },
        color: color(a),
        max_file_size: a.max_file_size,
        allow_truncation: a.allow_truncation,
        window_size: a
            .window_size
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        threads: threads(a),
        quiet: a.quiet,
        // Progress only on a terminal: in a CI log it is noise.
        progress: (!a.quiet && std::io::stderr().is_terminal()).then(Default::default),
        min_severity: a.min_severity,
        exclude: a.exclude.clone(),
        baseline: a.baseline.clone(),
        show_suppressed: a.show_suppressed,
        fail_on_stale: a.fail_on_stale,
        inline_allow: !a.no_inline_allow,
        max_decode_depth: a.max_decode_depth,
        rule_stats: a.rule_stats,
        archives: !a.no_archives,
        max_archive_depth: a.max_archive_depth,
        binary_strings: !a.skip_binary,
        verify: verify_options(&a.verify),
    }
}

/// The tree source of `dir` (and of `baseline add`/`prune` without `--git`).
pub(crate) fn tree_source(a: &DirArgs) -> Source {
    Source::Tree {
        paths: a.paths.clone(),
        options: tree::TreeOptions {
            respect_ignore: !a.no_ignore,
            follow_links: a.follow,
            threads: threads(&a.scan),
        },
    }
}

/// The history source of `git`: which part of the history its flags select.
pub(crate) fn history_source(a: &GitArgs) -> anyhow::Result<Source> {
    let selection = match (&a.since, &a.range) {
        (Some(rev), _) => Selection::Range {
            base: rev.clone(),
            tip: "HEAD".to_string(),
        },
        (None, Some(spec)) => Selection::parse_range(spec)?,
        (None, None) if a.reachable_only => Selection::ReachableOnly,
        (None, None) => Selection::All,
    };
    Ok(Source::Repo {
        repo: a.repo.clone(),
        scan: RepoScan::History {
            selection,
            allow_missing_promised: a.allow_missing_promised,
            recurse_submodules: a.recurse_submodules,
            cache: cache_options(&a.cache),
        },
    })
}

/// The blob cache `git` uses: `--cache DIR`, else `CREDSWEEP_CACHE` (unless `--no-cache`).
pub(crate) fn cache_options(a: &CacheArgs) -> Option<crate::sources::history::cache::Options> {
    use crate::sources::history::cache;
    let dir = match &a.cache {
        Some(dir) => dir.clone(),
        None if a.no_cache => return None,
        None => {
            std::path::PathBuf::from(std::env::var_os("CREDSWEEP_CACHE").filter(|v| !v.is_empty())?)
        }
    };
    Some(cache::Options {
        dir,
        max_size: a.cache_max_size.unwrap_or(cache::DEFAULT_MAX_SIZE),
    })
}

/// `error`, `warning` or `note`.
pub(crate) fn parse_severity(s: &str) -> Result<Severity, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "error" => Ok(Severity::Error),
        "warning" => Ok(Severity::Warning),
        "note" => Ok(Severity::Note),
        _ => Err("a severity is error, warning or note".to_string()),
    }
}

/// `5`, `0.5`, `30`: seconds, more than 0 and at most 300.
pub(crate) fn parse_timeout(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !(secs > 0.0 && secs <= 300.0) {
        return Err(format!(
            "the timeout must be more than 0 and at most 300 seconds, not {s}"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Parses `--verify-base-url` for clap. Unlike a plain function parser, its errors do not repeat
/// the value given: a URL with a password in it is refused without printing the password.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BaseUrlParser;

impl clap::builder::TypedValueParser for BaseUrlParser {
    type Value = BaseUrl;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<BaseUrl, clap::Error> {
        let s = value.to_str().ok_or_else(|| {
            clap::Error::raw(
                clap::error::ErrorKind::InvalidUtf8,
                "--verify-base-url is not valid UTF-8\n",
            )
            .with_cmd(cmd)
        })?;
        BaseUrl::parse(s).map_err(|why| {
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("invalid --verify-base-url: {why}\n"),
            )
            .with_cmd(cmd)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_flags_resolve_to_one_choice() {
        let flags = |config: Option<&str>, no_config| RuleArgs {
            rules: Vec::new(),
            no_default_rules: false,
            config: config.map(Into::into),
            no_config,
        };
        assert!(matches!(
            rule_options(&flags(None, false)).config,
            ConfigChoice::Discover
        ));
        assert!(matches!(
            rule_options(&flags(Some("c.toml"), false)).config,
            ConfigChoice::File(f) if f.as_os_str() == "c.toml"
        ));
        assert!(matches!(
            rule_options(&flags(None, true)).config,
            ConfigChoice::None
        ));
    }

    #[test]
    fn threads_are_capped() {
        use clap::Parser;
        let scan = |extra: &[&str]| {
            let cli = super::super::Cli::parse_from(["credsweep", "dir"].iter().chain(extra));
            match cli.command {
                super::super::Command::Dir(a) => threads(&a.scan),
                _ => unreachable!(),
            }
        };
        assert_eq!(scan(&["-j", "3"]), 3);
        assert_eq!(scan(&["-j", "100000"]), MAX_THREADS);
        assert!(scan(&["-j", "0"]) >= 1);
    }

    #[test]
    fn timeouts_parse() {
        assert_eq!(parse_timeout("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_timeout("0.5"), Ok(Duration::from_millis(500)));
        assert!(parse_timeout("0").is_err());
        assert!(parse_timeout("-1").is_err());
        assert!(parse_timeout("NaN").is_err());
        assert!(parse_timeout("301").is_err());
        assert!(parse_timeout("soon").is_err());
    }
}
