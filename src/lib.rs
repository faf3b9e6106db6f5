//! credsweep finds leaked credentials in files, staged changes and git history.
//!
//! This crate reads the bytes and does everything around the scan; the scan itself (rules,
//! scanner, findings, allow-lists, pairing) is the `credsweep-engine` crate, whose modules are
//! re-exported here under the same names ([`rules`], [`scanner`], [`scan`], [`finding`],
//! [`allow`], [`pair`], [`rulecheck`]). Data flows one way:
//!
//! - **Sources** ([`sources`]): where bytes come from: a directory tree or standard input
//!   ([`sources::tree`]), the index about to be committed ([`sources::staged`]), and every blob
//!   of a repository's history ([`sources::history`], read from the object database with gix,
//!   in phases: enumerate objects, scan blobs, locate, group). A source checks each input's type
//!   and size before reading it and hands each buffer, with its [`finding::Location`], to
//!   [`scan::scan_buffer`], which returns [`finding::Finding`]s and counts what it read and
//!   skipped in a [`scan::Summary`].
//! - **Exceptions**: [`config`] (`.credsweep.toml`: rule settings and the
//!   [`allow::Allowlist`]) and the [`baseline::Baseline`] of accepted findings, which are counted
//!   and can be shown as suppressed.
//! - **Verification** ([`verify`]): with `--verify` (and only then), asks the Vobiz API whether
//!   each id + token pair the engine linked still works.
//! - **Reports** ([`report`]): a [`report::Report`] (sorted findings and the summary) rendered as
//!   text, JSON or SARIF.
//!
//! [`app`] runs a scan session over these stages (open, configuration and rules, scan,
//! baseline, verify, report, exit status: 0 clean, 1 findings, 2 error or incomplete scan) from
//! plain options; [`cli`] is the `credsweep` binary's side: it parses the arguments with clap,
//! resolves them once into those options, and prints what the layers below hand back. [`hooks`]
//! puts credsweep in front of commits and pushes: it installs git hooks and reads what a push
//! sends, which [`app`] then scans. [`project`] finds the repository's top, where the
//! configuration and the baseline live; [`fsutil`] reads and writes files safely, [`term`]
//! escapes what reaches a terminal, and [`units`] parses and prints sizes.

// The engine's modules, under the names the rest of this crate (and its users) know them by.
pub use credsweep_engine::{
    allow, archive, binary, encoded, finding, gitleaks, pair, rulecheck, rules, scan, scanner,
    window,
};

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
