//! credsweep finds leaked credentials in files, staged changes and git history.
//!
//! Data flows one way, and each stage is a module with one job:
//!
//! - **Rules** ([`rules`]): TOML data (`rules/*.toml`, embedded, plus the user's files) validated
//!   and compiled into a [`rules::RuleSet`] of [`rules::Rule`]s.
//! - **Sources** ([`sources`]): where bytes come from: a directory tree or standard input
//!   ([`sources::tree`]), the index about to be committed ([`sources::staged`]), and every blob
//!   of a repository's history ([`sources::history`], read from the object database with gix). A
//!   source hands each buffer, with the path it is reported under (for history: once provenance
//!   is known), to [`sources::scan_buffer`], which decodes it ([`scanner::decode`]) and scans it.
//! - **Scanner** ([`scanner`]): a [`scanner::Scanner`] runs its [`scanner::Matcher`] (a keyword
//!   prefilter, then the candidate rules' regexes near the keyword hits), drops what only looks
//!   like a credential ([`scanner::filters`]: entropy, allow-lists, placeholders, missing context)
//!   and resolves overlaps so the same bytes are reported once, under the rule that fits best. It
//!   returns byte-offset [`scanner::Match`]es.
//! - **Findings** ([`finding`]): a [`finding::Finding`] is a match placed in its source: path,
//!   line and column, the [`finding::Secret`] (redacted unless asked), a keyed
//!   [`finding::Fingerprint`], and for history a [`finding::Provenance`].
//! - **Reports** ([`report`]): a [`report::Report`] (sorted findings and a
//!   [`sources::Summary`] of what was read and skipped) is rendered as text, JSON or SARIF.
//!
//! Between findings and reports sit the team's exceptions: [`config`] (`.credsweep.toml`: rule
//! settings and the [`allow::Allowlist`]), inline markers ([`allow`]) and the
//! [`baseline::Baseline`] of accepted findings, which are counted and can be shown as suppressed.
//!
//! Pairs of Vobiz partner ids and auth tokens in one file are linked in [`verify`], which with
//! `--verify` (and only then) asks the Vobiz API whether each pair still works.
//!
//! [`app`] runs a scan session over these stages (open, configuration and rules, scan,
//! baseline, verify, report, exit status: 0 clean, 1 findings, 2 error or incomplete scan) from
//! plain options; [`cli`] is the `credsweep` binary's side: it parses the arguments with clap,
//! resolves them once into those options, and prints what the layers below hand back. [`hooks`]
//! puts credsweep in front of commits and pushes: it installs git hooks and reads what a push
//! sends, which [`app`] then scans. [`project`] finds the repository's top, where the
//! configuration and the baseline live.

// The engine's modules, under the names the rest of this crate (and its users) know them by.
pub use credsweep_engine::{allow, finding, pair, rulecheck, rules, scan, scanner};

pub mod app;
pub mod baseline;
pub mod cli;
pub mod config;
pub mod fsutil;
pub mod hooks;
pub mod project;
pub mod report;
pub mod sources;
pub mod term;
pub mod units;
pub mod verify;
