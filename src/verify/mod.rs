//! Vobiz credential pairs, and opt-in verification of them against the Vobiz API.
//!
//! Two steps, between the sources and the report:
//!
//! 1. **Pairing** ([`crate::pair::link`], always on, done by every source as it scans): an auth id (a partner id `partner-…` / `PA_…`, a
//!    customer auth id `MA_…` / `auth_…`: [`ID_RULES`]) and an auth token (`sk_live_…`,
//!    `sk_test_…`: [`TOKEN_RULES`]) found in the same file (the same blob at the same path, for
//!    history) form a pair. Each token is paired with the id
//!    nearest to it; each paired id points back at the nearest of the tokens paired with it. Both
//!    findings get a [`PairLink`](crate::finding::PairLink) to the other, and the id is raised to the token's severity: a
//!    pair is a working credential, not just an identifier.
//! 2. **Verification** ([`apply`] with `--verify`, off by default): for each distinct pair with a
//!    live token, one `GET {base}/api/v1/partner/me` (partner ids) or
//!    `GET {base}/api/v1/Account/{auth_id}/` (customer auth ids) with `X-Auth-ID`,
//!    `X-Auth-Token` and `Accept: application/json` ([`http`]), and a [`Liveness`] on every
//!    finding of the pair. A token with no id in its file is [`Liveness::Unverifiable`]: it is
//!    never tried against ids found elsewhere, which would send it to accounts it may not belong
//!    to. A test-mode pair (`sk_test_`) is unverifiable too: Vobiz documents no test
//!    environment to check it against, and the live API is not the place to try it.
//!
//! Nothing here touches the network unless `--verify` is given, and then only the one base URL's
//! host: no proxies from the environment, no redirects. `--verify-dry-run` says what requests it
//! would make (secrets redacted unless `--no-redact`) and sends nothing. Nothing here prints:
//! [`apply`] hands its lines to the caller. No secret is ever in what it says
//! unless `--no-redact`: error details are the client's error *kind*, never its message, and are
//! scrubbed of both secrets all the same.

pub(crate) mod endpoint;
pub mod http;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use anyhow::Result;

use crate::finding::{Finding, Liveness, Redaction, Secret, Verification};
use crate::term::plural_s;

pub use crate::pair::{ID_RULES, TOKEN_RULES};
pub(crate) use endpoint::TEST_TOKEN_RULES;
pub use http::BaseUrl;

/// The API `--verify` talks to unless `--verify-base-url` says otherwise.
pub(crate) const DEFAULT_BASE_URL: &str = "https://api.vobiz.ai";

/// The endpoint a partner id's check requests, below the base URL.
pub(crate) const ME_PATH: &str = "/api/v1/partner/me";

/// Below the base URL, the account a customer auth id's check requests: `{ACCOUNT_PATH}/{auth_id}/`.
pub(crate) const ACCOUNT_PATH: &str = "/api/v1/Account";

/// How long one request may take, unless `--verify-timeout` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// At most this many requests are in flight at once.
pub(crate) const MAX_CONCURRENCY: usize = 4;

/// How a scan verifies what it found: resolved from the command line's `--verify*` and
/// `--fail-on` flags by the CLI.
#[derive(Debug, Clone)]
pub struct Options {
    /// Check each pair against the API (`--verify`).
    pub verify: bool,
    /// How long one request may take.
    pub timeout: Duration,
    /// The one host requests go to.
    pub base_url: BaseUrl,
    /// Say what would be sent, and send nothing.
    pub dry_run: bool,
    /// Which findings fail the scan.
    pub fail_on: Vec<FailOn>,
}

/// Which findings fail a scan (exit 1): one `--fail-on` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    /// Any finding fails the scan.
    Any,
    /// A credential verified active (the API accepted it).
    Active,
    /// A credential the API rejected.
    Inactive,
    /// A credential the API gave no answer about (timeout, network error, 429, 5xx).
    Unknown,
    /// A credential that was not tried (no pair in its file, a test-mode token).
    Unverifiable,
}

impl FailOn {
    /// The verification outcome this value fails on; `None` for `any`.
    pub fn outcome(self) -> Option<Liveness> {
        match self {
            FailOn::Any => None,
            FailOn::Active => Some(Liveness::Active),
            FailOn::Inactive => Some(Liveness::Inactive),
            FailOn::Unknown => Some(Liveness::Unknown),
            FailOn::Unverifiable => Some(Liveness::Unverifiable),
        }
    }
}

impl Options {
    /// Refuses `--fail-on` outcomes without `--verify`: no finding would have one, and the gate
    /// would pass whatever the scan found.
    pub fn validate(&self) -> Result<()> {
        if !self.verify
            && let Some(f) = self.fail_on.iter().find(|f| f.outcome().is_some())
        {
            anyhow::bail!(
                "--fail-on {} needs --verify: without it no credential has a verification outcome, so the scan could never fail (use --fail-on any, or add --verify)",
                f.outcome().expect("found by outcome").as_str()
            );
        }
        Ok(())
    }
}

/// Whether `findings` fail the scan under `fail_on`: with `any` in it, any finding; else a
/// finding whose verification outcome is in it.
pub fn fails(findings: &[Finding], fail_on: &[FailOn]) -> bool {
    if fail_on.contains(&FailOn::Any) {
        return !findings.is_empty();
    }
    findings.iter().any(|f| {
        f.liveness()
            .is_some_and(|l| fail_on.iter().any(|o| o.outcome() == Some(l)))
    })
}

/// One request to make: a distinct (id, token) pair, and the path below the base URL it is
/// checked on.
#[derive(Debug, Clone)]
pub(crate) struct Check {
    pub id: Secret,
    pub token: Secret,
    pub path: String,
}

/// A pair as seen from either half: (id rule, id, token rule, token).
fn pair_of(f: &Finding) -> Option<(&str, &Secret, &str, &Secret)> {
    let p = f.pair.as_ref()?;
    let rule = f.rule_id.as_str();
    if TOKEN_RULES.contains(&rule) {
        Some((p.rule_id.as_str(), &p.secret, rule, &f.secret))
    } else if ID_RULES.contains(&rule) {
        Some((rule, &f.secret, p.rule_id.as_str(), &p.secret))
    } else {
        None
    }
}

/// Why a pair is not sent, if it is not: a test-mode token, or an id no URL can hold.
fn not_sent(id_rule: &str, id: &Secret, token_rule: &str) -> Option<Verification> {
    if TEST_TOKEN_RULES.contains(&token_rule) {
        return Some(Verification::new(
            Liveness::Unverifiable,
            "test-mode token (sk_test_): Vobiz documents no test environment to check it against, so it was not sent",
        ));
    }
    if endpoint::check_path(id_rule, id.plaintext()).is_none() {
        return Some(Verification::new(
            Liveness::Unverifiable,
            "the auth id has characters an account URL cannot hold, so the pair was not sent",
        ));
    }
    None
}

/// The distinct pairs among `findings` that are sent (live tokens), in report order, each once
/// however many files hold it. Pairs are read from both halves: a history finding keeps the
/// pair its blob made, so an id and a token grouped from different blobs may name different
/// pairs.
pub(crate) fn plan(findings: &[Finding]) -> Vec<Check> {
    let mut seen: HashSet<(&str, &str)> = HashSet::new();
    let mut checks = Vec::new();
    let mut order: Vec<&Finding> = findings.iter().filter(|f| f.pair.is_some()).collect();
    order.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    for f in order {
        let Some((id_rule, id, token_rule, token)) = pair_of(f) else {
            continue;
        };
        if not_sent(id_rule, id, token_rule).is_some() {
            continue;
        }
        if seen.insert((id.plaintext(), token.plaintext())) {
            checks.push(Check {
                id: id.clone(),
                token: token.clone(),
                path: endpoint::check_path(id_rule, id.plaintext()).expect("checked by not_sent"),
            });
        }
    }
    checks
}

/// The verification of one finding, given the results of the checks by (id, token).
fn verification_of(
    f: &Finding,
    by_pair: &HashMap<(&str, &str), &Verification>,
) -> Option<Verification> {
    let rule = f.rule_id.as_str();
    if let Some((id_rule, id, token_rule, token)) = pair_of(f) {
        if let Some(v) = not_sent(id_rule, id, token_rule) {
            return Some(v);
        }
        return Some(
            by_pair
                .get(&(id.plaintext(), token.plaintext()))
                .map_or_else(
                    || Verification::new(Liveness::Unknown, "not checked"),
                    |v| (*v).clone(),
                ),
        );
    }
    if TOKEN_RULES.contains(&rule) {
        Some(Verification::new(
            Liveness::Unverifiable,
            "no Vobiz auth id (X-Auth-ID: partner-…, PA_… or MA_…) in the same file; a token is never tried with ids found elsewhere",
        ))
    } else if ID_RULES.contains(&rule) {
        Some(Verification::new(
            Liveness::Unverifiable,
            "no Vobiz auth token (X-Auth-Token: sk_live_… or sk_test_…) in the same file",
        ))
    } else {
        None
    }
}

/// How many distinct pairs among `findings` have outcome `o` (a pair found in two files, or
/// reported on both its halves, counts once).
pub(crate) fn pairs_with(findings: &[Finding], o: Liveness) -> usize {
    findings
        .iter()
        .filter(|f| f.liveness() == Some(o))
        .filter_map(pair_of)
        .map(|(_, id, _, token)| (id.plaintext(), token.plaintext()))
        .collect::<HashSet<_>>()
        .len()
}

/// With `--verify`, verifies the pairs the sources linked in `findings` (or with
/// `--verify-dry-run` says what would be sent). Nothing is printed here: each line for the user
/// (progress, the dry run, the tally) goes to `note` as it happens, escaped and without its line
/// break, so that a caller that shows them on stderr shows progress before the requests go out.
/// Secrets in them are shown as `redaction` says; `quiet` drops all but the dry run.
pub fn apply(
    opts: &Options,
    findings: &mut [Finding],
    redaction: Redaction,
    quiet: bool,
    note: &mut dyn FnMut(String),
) -> Result<()> {
    opts.validate()?;
    if !opts.verify && !opts.dry_run {
        return Ok(());
    }
    let checks = plan(findings);
    let unpaired_tokens = findings
        .iter()
        .filter(|f| TOKEN_RULES.contains(&f.rule_id.as_str()) && f.pair.is_none())
        .count();
    let test_pairs = findings
        .iter()
        .filter(|f| TEST_TOKEN_RULES.contains(&f.rule_id.as_str()) && f.pair.is_some())
        .map(|f| {
            (
                f.pair.as_ref().map(|p| p.secret.plaintext()),
                f.secret.plaintext(),
            )
        })
        .collect::<HashSet<_>>()
        .len();
    let base = &opts.base_url;

    if opts.dry_run {
        let text = dry_run_text(base, &checks, unpaired_tokens, test_pairs, redaction);
        for line in text.split_terminator('\n') {
            note(crate::term::escape(line).into_owned());
        }
        return Ok(());
    }

    let timeout = opts.timeout;
    if !quiet && !checks.is_empty() {
        note(format!(
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

    let assigned: Vec<Option<Verification>> = findings
        .iter()
        .map(|f| verification_of(f, &by_pair))
        .collect();
    for (f, v) in findings.iter_mut().zip(assigned) {
        f.verification = v;
    }

    if !quiet && (!checks.is_empty() || unpaired_tokens > 0 || test_pairs > 0) {
        let mut counts: HashMap<Liveness, usize> = HashMap::new();
        for v in &results {
            *counts.entry(v.outcome).or_default() += 1;
        }
        let n = |o| counts.get(&o).copied().unwrap_or(0);
        note(format!(
            "credsweep: verification of {}: {} active, {} inactive, {} unknown; not tried: {} without an auth id, {}",
            plural_s(checks.len(), "credential pair"),
            n(Liveness::Active),
            n(Liveness::Inactive),
            n(Liveness::Unknown),
            plural_s(unpaired_tokens, "token"),
            plural_s(test_pairs, "test-mode pair"),
        ));
    }
    Ok(())
}

/// What `--verify-dry-run` prints: each request, secrets shown as `redaction` says.
pub(crate) fn dry_run_text(
    base: &BaseUrl,
    checks: &[Check],
    unpaired_tokens: usize,
    test_pairs: usize,
    redaction: Redaction,
) -> String {
    let mut out = format!(
        "credsweep: --verify-dry-run: {} request{} would be sent; nothing is sent\n",
        checks.len(),
        if checks.len() == 1 { "" } else { "s" }
    );
    for c in checks {
        out += &format!(
            "  GET {}\n    X-Auth-ID: {}\n    X-Auth-Token: {}\n    Accept: application/json\n",
            base.url_for(&c.path),
            redaction.show(&c.id),
            redaction.show(&c.token)
        );
    }
    if unpaired_tokens > 0 {
        out += &format!(
            "credsweep: --verify-dry-run: {} without an auth id in the same file would not be tried (unverifiable)\n",
            plural_s(unpaired_tokens, "token")
        );
    }
    if test_pairs > 0 {
        out += &format!(
            "credsweep: --verify-dry-run: {} would not be sent: Vobiz documents no test environment (unverifiable)\n",
            plural_s(test_pairs, "test-mode pair")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dry_run_redacts_unless_asked() {
        let base = BaseUrl::parse("https://api.vobiz.ai/").unwrap();
        let checks = [
            Check {
                id: Secret::identifier(b"partner-fake7f3a9c2e41b8"),
                token: Secret::new(b"sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE"),
                path: ME_PATH.to_string(),
            },
            Check {
                id: Secret::identifier(b"MA_6IJANV8A3FAKEQQJE4"),
                token: Secret::new(b"sk_live_8KjkRXpqP7FAKEezt61EyzWB2BGBy2kW"),
                path: "/api/v1/Account/MA_6IJANV8A3FAKEQQJE4/".to_string(),
            },
        ];
        let t = dry_run_text(&base, &checks, 1, 1, Redaction::Redact);
        assert!(
            t.contains("GET https://api.vobiz.ai/api/v1/partner/me\n"),
            "{t}"
        );
        assert!(
            t.contains("GET https://api.vobiz.ai/api/v1/Account/MA_6IJANV8A3FAKEQQJE4/\n"),
            "{t}"
        );
        // The token: prefix and a quarter of the rest; the id (not a secret) in full.
        assert!(t.contains("X-Auth-Token: sk_live_4e…FAKE\n"), "{t}");
        assert!(t.contains("X-Auth-ID: partner-fake7f3a9c2e41b8\n"), "{t}");
        assert!(!t.contains("C39HqLyjWDarjtT1zdp7dc"), "{t}");
        assert!(t.contains("1 token without an auth id"), "{t}");
        assert!(t.contains("1 test-mode pair would not be sent"), "{t}");
        let t = dry_run_text(&base, &checks, 0, 0, Redaction::Plain);
        assert!(t.contains("sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE"), "{t}");
    }
}
