//! Vobiz credential pairs, and opt-in verification of them against the Vobiz API.
//!
//! Two steps, between the sources and the report:
//!
//! 1. **Pairing** ([`pair::link`], always on): a partner id (`vobiz-partner-id`,
//!    `vobiz-partner-auth-id`) and an auth token (`vobiz-auth-token`) found in the same file (the
//!    same blob at the same path, for history) form a pair. Each token is paired with the id
//!    nearest to it; each paired id points back at the nearest of the tokens paired with it. Both
//!    findings get a [`PairLink`] to the other, and the id is raised to the token's severity: a
//!    pair is a working credential, not just an identifier.
//! 2. **Verification** ([`apply`] with `--verify`, off by default): for each distinct pair, one
//!    `GET {base}/api/v1/partner/me` with `X-Auth-ID`, `X-Auth-Token` and
//!    `Accept: application/json` ([`http`]), and an [`Outcome`] on every finding of the pair.
//!    A token with no id in its file is [`Outcome::Unverifiable`]: it is never tried against ids
//!    found elsewhere, which would send it to accounts it may not belong to.
//!
//! Nothing here touches the network unless `--verify` is given, and then only the one base URL's
//! host: no proxies from the environment, no redirects. `--verify-dry-run` prints the requests
//! (secrets redacted unless `--no-redact`) and sends nothing. No secret is ever written to stderr
//! unless `--no-redact`: error details are the client's error *kind*, never its message, and are
//! scrubbed of both secrets all the same.

pub mod http;
pub mod pair;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, ValueEnum};

use crate::finding::{Finding, Fingerprint, Secret};
use crate::report::Redaction;

pub use http::{BaseUrl, BaseUrlParser};
pub use pair::{ID_RULES, TOKEN_RULES};

/// The API `--verify` talks to unless `--verify-base-url` says otherwise.
pub const DEFAULT_BASE_URL: &str = "https://api.vobiz.ai";

/// The endpoint every check requests, below the base URL.
pub const ME_PATH: &str = "/api/v1/partner/me";

/// How long one request may take, unless `--verify-timeout` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// At most this many requests are in flight at once.
pub const MAX_CONCURRENCY: usize = 4;

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
    pub verify_timeout: TimeoutSecs,
    /// The API to verify against: requests go to this one host only, redirects are never
    /// followed. Plain `http://` only to a loopback address.
    #[arg(long, value_name = "URL", value_parser = http::BaseUrlParser, default_value = DEFAULT_BASE_URL)]
    pub verify_base_url: BaseUrl,
    /// Print the verification requests that would be made (secrets redacted) on stderr, and send
    /// nothing.
    #[arg(long)]
    pub verify_dry_run: bool,
    /// Which findings fail the scan (exit 1): `any` finding, or only a credential `--verify`
    /// found `active` (errors still exit 2).
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = FailOn::Any,
          requires_if("active", "verify"))]
    pub fail_on: FailOn,
}

/// `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Any finding fails the scan.
    Any,
    /// Only a credential verified active fails the scan.
    Active,
}

/// A request timeout given in seconds on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeoutSecs(pub Duration);

/// `5`, `0.5`, `30`: seconds, more than 0 and at most 300.
pub fn parse_timeout(s: &str) -> Result<TimeoutSecs, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !(secs > 0.0 && secs <= 300.0) {
        return Err(format!(
            "the timeout must be more than 0 and at most 300 seconds, not {s}"
        ));
    }
    Ok(TimeoutSecs(Duration::from_secs_f64(secs)))
}

/// What verification found out about a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// The API accepted the pair (2xx): the credential works and must be rotated now.
    Active,
    /// The API rejected the pair (401 or 403): revoked, rotated or never valid.
    Inactive,
    /// No answer either way: timeout, network or TLS error, 429, 5xx, a redirect, anything else.
    Unknown,
    /// Not tried: a token with no partner id in its file, or an id with no token.
    Unverifiable,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Active => "active",
            Outcome::Inactive => "inactive",
            Outcome::Unknown => "unknown",
            Outcome::Unverifiable => "unverifiable",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A finding's verification: the outcome and a short reason (`HTTP 401`, `timed out after 5 s`).
/// The detail never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub outcome: Outcome,
    pub detail: String,
}

impl Verification {
    pub fn new(outcome: Outcome, detail: impl Into<String>) -> Verification {
        Verification {
            outcome,
            detail: detail.into(),
        }
    }
}

/// The other half of a pair, as a finding points at it: where it is, and its secret (so the pair
/// can be verified; no report prints it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairLink {
    pub rule_id: String,
    pub fingerprint: Fingerprint,
    pub path: String,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    pub secret: Secret,
}

impl PairLink {
    pub fn to(f: &Finding) -> PairLink {
        PairLink {
            rule_id: f.rule_id.clone(),
            fingerprint: f.fingerprint.clone(),
            path: f.path.clone(),
            line: f.line,
            column: f.column,
            end_line: f.end_line,
            end_column: f.end_column,
            secret: f.secret.clone(),
        }
    }
}

/// Whether `findings` fail the scan under `fail_on`: any finding, or a verified-active one.
pub fn fails(findings: &[Finding], fail_on: FailOn) -> bool {
    match fail_on {
        FailOn::Any => !findings.is_empty(),
        FailOn::Active => findings.iter().any(|f| {
            f.verification
                .as_ref()
                .is_some_and(|v| v.outcome == Outcome::Active)
        }),
    }
}

/// One request to make: a distinct (id, token) pair.
#[derive(Debug, Clone)]
pub struct Check {
    pub id: Secret,
    pub token: Secret,
}

/// The distinct pairs among `findings`, in report order, each once however many files hold it.
pub fn plan(findings: &[Finding]) -> Vec<Check> {
    let mut seen: HashSet<(&str, &str)> = HashSet::new();
    let mut checks = Vec::new();
    let mut order: Vec<&Finding> = findings
        .iter()
        .filter(|f| TOKEN_RULES.contains(&f.rule_id.as_str()) && f.pair.is_some())
        .collect();
    order.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    for f in order {
        let id = &f.pair.as_ref().expect("filtered on pair").secret;
        if seen.insert((id.plaintext(), f.secret.plaintext())) {
            checks.push(Check {
                id: id.clone(),
                token: f.secret.clone(),
            });
        }
    }
    checks
}

/// Links pairs in `findings` and, with `--verify`, verifies them (or with `--verify-dry-run`
/// prints what would be sent). Progress and the dry run go to stderr; secrets in it are redacted
/// unless `no_redact`.
pub fn apply(
    args: &VerifyArgs,
    findings: &mut [Finding],
    no_redact: bool,
    quiet: bool,
) -> Result<()> {
    pair::link(findings);
    if !args.verify && !args.verify_dry_run {
        return Ok(());
    }
    let redaction = if no_redact {
        Redaction::Plain
    } else {
        Redaction::Redact
    };
    let checks = plan(findings);
    let unpaired_tokens = findings
        .iter()
        .filter(|f| TOKEN_RULES.contains(&f.rule_id.as_str()) && f.pair.is_none())
        .count();
    let base = &args.verify_base_url;

    if args.verify_dry_run {
        crate::term::eprint_text(&crate::term::escape_lines(&dry_run_text(
            base,
            &checks,
            unpaired_tokens,
            redaction,
        )));
        return Ok(());
    }

    let timeout = args.verify_timeout.0;
    if !quiet && !checks.is_empty() {
        crate::term::eprint_line(format_args!(
            "credsweep: verifying {} Vobiz credential pair{} against {} (timeout {})",
            checks.len(),
            if checks.len() == 1 { "" } else { "s" },
            base,
            http::secs(timeout)
        ));
    }
    let results = if checks.is_empty() {
        Vec::new()
    } else {
        http::Client::new(base.clone(), timeout).check_all(&checks, MAX_CONCURRENCY)
    };
    let by_pair: HashMap<(&str, &str), &Verification> = checks
        .iter()
        .zip(&results)
        .map(|(c, v)| ((c.id.plaintext(), c.token.plaintext()), v))
        .collect();

    let mut assigned = Vec::with_capacity(findings.len());
    for f in findings.iter() {
        let rule = f.rule_id.as_str();
        let v = if TOKEN_RULES.contains(&rule) {
            Some(match &f.pair {
                Some(p) => by_pair[&(p.secret.plaintext(), f.secret.plaintext())].clone(),
                None => Verification::new(
                    Outcome::Unverifiable,
                    "no Vobiz partner id in the same file; a token is never tried with ids found elsewhere",
                ),
            })
        } else if ID_RULES.contains(&rule) {
            Some(match &f.pair {
                Some(p) => by_pair[&(f.secret.plaintext(), p.secret.plaintext())].clone(),
                None => Verification::new(
                    Outcome::Unverifiable,
                    "no Vobiz auth token in the same file",
                ),
            })
        } else {
            None
        };
        assigned.push(v);
    }
    for (f, v) in findings.iter_mut().zip(assigned) {
        f.verification = v;
    }

    if !quiet && (!checks.is_empty() || unpaired_tokens > 0) {
        let mut counts: HashMap<Outcome, usize> = HashMap::new();
        for v in &results {
            *counts.entry(v.outcome).or_default() += 1;
        }
        let n = |o| counts.get(&o).copied().unwrap_or(0);
        crate::term::eprint_line(format_args!(
            "credsweep: verification: {} active, {} inactive, {} unknown; {} token{} without a partner id not tried",
            n(Outcome::Active),
            n(Outcome::Inactive),
            n(Outcome::Unknown),
            unpaired_tokens,
            if unpaired_tokens == 1 { "" } else { "s" },
        ));
    }
    Ok(())
}

/// What `--verify-dry-run` prints: each request, secrets shown as `redaction` says.
pub fn dry_run_text(
    base: &BaseUrl,
    checks: &[Check],
    unpaired_tokens: usize,
    redaction: Redaction,
) -> String {
    let mut out = format!(
        "credsweep: --verify-dry-run: {} request{} would be sent; nothing is sent\n",
        checks.len(),
        if checks.len() == 1 { "" } else { "s" }
    );
    let url = base.endpoint();
    for c in checks {
        out += &format!(
            "  GET {url}\n    X-Auth-ID: {}\n    X-Auth-Token: {}\n    Accept: application/json\n",
            redaction.show(&c.id),
            redaction.show(&c.token)
        );
    }
    if unpaired_tokens > 0 {
        out += &format!(
            "credsweep: --verify-dry-run: {unpaired_tokens} token{} without a partner id in the same file would not be tried (unverifiable)\n",
            if unpaired_tokens == 1 { "" } else { "s" }
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_parse() {
        assert_eq!(parse_timeout("5"), Ok(TimeoutSecs(Duration::from_secs(5))));
        assert_eq!(
            parse_timeout("0.5"),
            Ok(TimeoutSecs(Duration::from_millis(500)))
        );
        assert!(parse_timeout("0").is_err());
        assert!(parse_timeout("-1").is_err());
        assert!(parse_timeout("NaN").is_err());
        assert!(parse_timeout("301").is_err());
        assert!(parse_timeout("soon").is_err());
    }

    #[test]
    fn dry_run_redacts_unless_asked() {
        let base = BaseUrl::parse("https://api.vobiz.ai/").unwrap();
        let checks = [Check {
            id: Secret::new(b"partner-fake7f3a9c2e41b8"),
            token: Secret::new(b"sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE"),
        }];
        let t = dry_run_text(&base, &checks, 1, Redaction::Redact);
        assert!(
            t.contains("GET https://api.vobiz.ai/api/v1/partner/me\n"),
            "{t}"
        );
        assert!(t.contains("X-Auth-Token: sk_live_4e…"), "{t}");
        assert!(!t.contains("FAKE") && !t.contains("2e41b8"), "{t}");
        assert!(t.contains("1 token without a partner id"), "{t}");
        let t = dry_run_text(&base, &checks, 0, Redaction::Plain);
        assert!(t.contains("sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE"), "{t}");
    }
}
