//! credsweep's scanning engine: from bytes to findings. No git, no command line, no network, no
//! terminal: it can be embedded (the `credsweep` crate is its one user today) and fuzzed alone.
//!
//! Data flows one way through these types:
//!
//! - **Rules** ([`rules`]): TOML data (the built-in pack from the repository's `rules/`,
//!   embedded at build time, plus the user's files) validated and compiled into a
//!   [`rules::RuleSet`] of [`rules::Rule`]s. [`rulecheck`] runs every rule's examples.
//! - **Scan** ([`scan`]): a source hands each buffer, with its [`finding::Location`], to
//!   [`scan::scan_buffer`] under a [`scan::ScanContext`] (scanner, fingerprint key, size cap,
//!   allow-lists). It decodes the buffer ([`scanner::decode`]: UTF-16, Latin-1, binary; a
//!   binary's printable strings are extracted by [`binary`], media skipped), runs the
//!   scanner, drops what inline markers and the [`allow::Allowlist`] allow, pairs Vobiz ids with
//!   tokens ([`pair`]) and counts what it read and skipped in a [`scan::Summary`].
//! - **Archives** ([`archive`]): a buffer whose magic bytes say zip, gzip or tar is opened in
//!   memory, and each member is scanned as a buffer of its own at a [`finding::Location::Member`]
//!   (nested archives up to a depth), under limits against bombs.
//! - **Scanner** ([`scanner`]): a [`scanner::Scanner`] runs its [`scanner::Matcher`] (a keyword
//!   prefilter, then the candidate rules' regexes near the keyword hits, each only where the
//!   window holds the bytes its regex needs: [`required`]), drops what only looks
//!   like a credential ([`scanner::filters`]: entropy, placeholders, missing context) and
//!   resolves overlaps so the same bytes are reported once, under the rule that fits best. It
//!   returns byte-offset [`scanner::Match`]es.
//! - **Findings** ([`finding`]): a [`finding::Finding`] is a match placed at its
//!   [`finding::Location`]: line and column, the [`finding::Secret`] (redacted unless asked), a
//!   keyed [`finding::Fingerprint`], GitHub's line hash, and for history a
//!   [`finding::Provenance`] the caller fills in. [`finding::StringRedactor`] redacts the other
//!   strings a report prints.
//!
//! What reads the bytes (directory walks, the index, git history), what is done with findings
//! afterwards (baseline, verification, reports) and the command line live in the `credsweep`
//! crate.

pub mod allow;
pub mod archive;
pub mod binary;
pub mod encoded;
pub mod finding;
pub mod gitleaks;
pub mod pair;
pub mod required;
pub mod rulecheck;
pub mod rules;
pub mod scan;
pub mod scanner;
#[cfg(test)]
mod test_rng;
pub mod window;
