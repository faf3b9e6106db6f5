//! The one request verification makes, and what its answer means.
//!
//! The client is `ureq` (blocking, no async runtime) with rustls (ring provider, Mozilla's roots
//! from `webpki-roots`, no OpenSSL). It is built only when `--verify` is given, and configured to
//! reach the base URL's host and nothing else: proxies from the environment are ignored,
//! redirects are never followed (a 3xx is `unknown`), and each request has one overall timeout.
//!
//! Secrets stay out of every message: a failure is described by a fixed phrase for its kind
//! (`timed out after 5 s`, `connection refused`), never by formatting the request or the client's
//! error, and every detail is scrubbed of the pair's secrets before it is kept. The header values
//! are marked sensitive, so even a `{:?}` of the headers would not show them.

use std::fmt;
use std::io;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ureq::http::{HeaderValue, Uri};

use super::{Check, ME_PATH};
use crate::finding::Secret;
use crate::finding::{Liveness, Verification};

/// How long to wait before the one retry after a 429 or 5xx.
pub(crate) const RETRY_PAUSE: Duration = Duration::from_millis(500);

/// A validated `--verify-base-url`: `http` or `https`, a host, an optional path prefix; no user
/// name or password, query or fragment. Plain `http` is accepted only for a loopback host, so a
/// token never crosses a network unencrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    /// `scheme://authority[/prefix]`, without a trailing `/`.
    url: String,
}

/// Why a `--verify-base-url` value is refused. The messages never repeat a user name or
/// password the URL held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaseUrlError {
    NotAUrl,
    /// Neither `https://` nor `http://`.
    Scheme,
    NoHost,
    /// A user name or password in the URL.
    Credentials,
    QueryOrFragment,
    /// Plain `http://` to this host, which is not a loopback address.
    Unencrypted {
        host: String,
    },
}

impl fmt::Display for BaseUrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BaseUrlError::NotAUrl => f.write_str("not a valid URL: use e.g. https://api.vobiz.ai"),
            BaseUrlError::Scheme => {
                f.write_str("the URL must start with https:// (or http:// to a loopback address)")
            }
            BaseUrlError::NoHost => f.write_str("the URL has no host"),
            BaseUrlError::Credentials => {
                f.write_str("the URL must not hold a user name or password")
            }
            BaseUrlError::QueryOrFragment => {
                f.write_str("the URL must not have a query or fragment")
            }
            BaseUrlError::Unencrypted { host } => write!(
                f,
                "plain http:// would send tokens unencrypted to {host}: use https:// (http:// is accepted only for a loopback address such as 127.0.0.1)"
            ),
        }
    }
}

impl std::error::Error for BaseUrlError {}

impl BaseUrl {
    pub fn parse(s: &str) -> Result<BaseUrl, BaseUrlError> {
        let uri: Uri = s.trim().parse().map_err(|_| BaseUrlError::NotAUrl)?;
        let scheme = match uri.scheme_str() {
            Some(sc) if sc.eq_ignore_ascii_case("https") => "https",
            Some(sc) if sc.eq_ignore_ascii_case("http") => "http",
            _ => return Err(BaseUrlError::Scheme),
        };
        let authority = uri.authority().ok_or(BaseUrlError::NoHost)?;
        if authority.as_str().contains('@') {
            // Credentials in the URL would end up in messages and the dry run: refuse them
            // without repeating them.
            return Err(BaseUrlError::Credentials);
        }
        if uri.query().is_some() || s.contains('#') {
            return Err(BaseUrlError::QueryOrFragment);
        }
        let host = authority.host();
        if scheme == "http" && !is_loopback(host) {
            return Err(BaseUrlError::Unencrypted {
                host: host.to_string(),
            });
        }
        let prefix = uri.path().trim_end_matches('/');
        Ok(BaseUrl {
            url: format!(
                "{scheme}://{}{prefix}",
                authority.as_str().to_ascii_lowercase()
            ),
        })
    }

    /// The URL a partner id's check requests.
    pub fn endpoint(&self) -> String {
        self.url_for(ME_PATH)
    }

    /// The URL of `path` (which starts with `/`) below the base URL.
    pub(crate) fn url_for(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

/// `localhost`, `127.x.y.z`, `::1`.
fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost") || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `5 s`, `0.5 s`.
pub fn secs(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

/// A blocking HTTP client for the checks.
pub(crate) struct Client {
    agent: ureq::Agent,
    base: BaseUrl,
    timeout: Duration,
    pause: Duration,
}

impl Client {
    pub fn new(base: BaseUrl, timeout: Duration) -> Client {
        let config = ureq::Agent::config_builder()
            // Only the base URL's host: no proxy picked up from HTTP(S)_PROXY, no redirects.
            .proxy(None)
            .max_redirects(0)
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .user_agent(concat!("credsweep/", env!("CARGO_PKG_VERSION")))
            .build();
        Client {
            agent: config.into(),
            base,
            timeout,
            pause: RETRY_PAUSE,
        }
    }

    /// Checks every pair, at most `concurrency` at once; the results are in the order of
    /// `checks`.
    pub(crate) fn check_all(&self, checks: &[Check], concurrency: usize) -> Vec<Verification> {
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<Option<Verification>>> = Mutex::new(vec![None; checks.len()]);
        let workers = concurrency.clamp(1, checks.len().max(1));
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(c) = checks.get(i) else { break };
                        let v = self.check_on(&c.path, &c.id, &c.token);
                        results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(v);
                    }
                });
            }
        });
        results
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .into_iter()
            .map(|v| v.expect("every check ran"))
            .collect()
    }

    /// One pair, checked on `path` below the base URL: a request, and one more after a 429 or
    /// 5xx.
    pub(crate) fn check_on(&self, path: &str, id: &Secret, token: &Secret) -> Verification {
        let url = self.base.url_for(path);
        let first = self.attempt(&url, id, token);
        let v = match first {
            Attempt::Status(code) if retryable(code) => {
                std::thread::sleep(self.pause);
                match self.attempt(&url, id, token) {
                    Attempt::Status(code) => {
                        let mut v = classify(code);
                        v.detail += " (after one retry)";
                        v
                    }
                    Attempt::Failed(why) => {
                        Verification::new(Liveness::Unknown, format!("{why} (on the retry)"))
                    }
                }
            }
            Attempt::Status(code) => classify(code),
            Attempt::Failed(why) => Verification::new(Liveness::Unknown, why),
        };
        Verification::new(v.outcome, scrub(&v.detail, &[id, token]))
    }

    fn attempt(&self, url: &str, id: &Secret, token: &Secret) -> Attempt {
        let (Some(id_value), Some(token_value)) = (header(id), header(token)) else {
            return Attempt::Failed("the id or token cannot be sent in a header".into());
        };
        let result = self
            .agent
            .get(url)
            .header("X-Auth-ID", id_value)
            .header("X-Auth-Token", token_value)
            .header("Accept", "application/json")
            .call();
        match result {
            // The body is never read: the status says all there is to know.
            Ok(response) => Attempt::Status(response.status().as_u16()),
            Err(e) => Attempt::Failed(describe(&e, self.timeout)),
        }
    }
}

enum Attempt {
    Status(u16),
    /// Why no status came back, in words that hold no secret.
    Failed(String),
}

fn header(s: &Secret) -> Option<HeaderValue> {
    let mut v = HeaderValue::from_str(s.plaintext()).ok()?;
    v.set_sensitive(true);
    Some(v)
}

fn retryable(code: u16) -> bool {
    code == 429 || (500..600).contains(&code)
}

/// What a status code says about the pair.
pub(crate) fn classify(code: u16) -> Verification {
    let (outcome, why) = match code {
        200..=299 => (Liveness::Active, ""),
        401 | 403 => (Liveness::Inactive, ""),
        300..=399 => (Liveness::Unknown, ", a redirect, not followed"),
        429 => (Liveness::Unknown, ", rate limited"),
        500..=599 => (Liveness::Unknown, ", server error"),
        _ => (Liveness::Unknown, ", not an answer about the credential"),
    };
    Verification::new(outcome, format!("HTTP {code}{why}"))
}

/// A fixed phrase for each kind of failure; the client's own message is not used, so nothing it
/// might echo (a URL, a header) can reach the report or stderr.
fn describe(e: &ureq::Error, timeout: Duration) -> String {
    match e {
        ureq::Error::Timeout(_) => format!("timed out after {}", secs(timeout)),
        ureq::Error::HostNotFound => "host not found".into(),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        ureq::Error::Io(io) => match io.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
                format!("timed out after {}", secs(timeout))
            }
            kind => format!("network error: {kind}"),
        },
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::TlsRequired => {
            "TLS error (is the certificate valid for the host?)".into()
        }
        ureq::Error::Protocol(_) | ureq::Error::LargeResponseHeader(..) => {
            "the server's answer is not valid HTTP".into()
        }
        ureq::Error::TooManyRedirects | ureq::Error::RedirectFailed => {
            "a redirect, not followed".into()
        }
        _ => "network error".into(),
    }
}

/// `s` with every occurrence of the secrets replaced by their redacted form.
pub(crate) fn scrub(s: &str, secrets: &[&Secret]) -> String {
    let mut out = s.to_string();
    for secret in secrets {
        if !secret.is_empty() && out.contains(secret.plaintext()) {
            out = out.replace(secret.plaintext(), &secret.redacted());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        let ok = |s: &str| {
            BaseUrl::parse(s)
                .map(|b| b.endpoint())
                .map_err(|e| e.to_string())
        };
        assert_eq!(
            ok("https://api.vobiz.ai"),
            Ok("https://api.vobiz.ai/api/v1/partner/me".into())
        );
        assert_eq!(
            ok("HTTPS://Proxy.Example:8443/vobiz/"),
            Ok("https://proxy.example:8443/vobiz/api/v1/partner/me".into())
        );
        assert_eq!(
            ok("http://127.0.0.1:9000"),
            Ok("http://127.0.0.1:9000/api/v1/partner/me".into())
        );
        assert!(ok("http://[::1]:9000").is_ok());
        assert!(ok("http://localhost:9000").is_ok());
        assert!(
            ok("http://api.vobiz.ai")
                .unwrap_err()
                .contains("unencrypted")
        );
        assert!(ok("http://10.0.0.1").is_err());
        assert!(ok("ftp://api.vobiz.ai").is_err());
        assert!(ok("api.vobiz.ai").is_err());
        assert!(ok("https://api.vobiz.ai/?x=1").is_err());
        assert!(ok("https://api.vobiz.ai/#top").is_err());
        let e = ok("https://user:hunter2FAKE@api.vobiz.ai").unwrap_err();
        assert!(!e.contains("hunter2FAKE"), "{e}");
    }

    #[test]
    fn status_codes() {
        assert_eq!(classify(200).outcome, Liveness::Active);
        assert_eq!(classify(204).outcome, Liveness::Active);
        assert_eq!(classify(401).outcome, Liveness::Inactive);
        assert_eq!(classify(403).outcome, Liveness::Inactive);
        for c in [302, 404, 429, 500, 503, 100] {
            assert_eq!(classify(c).outcome, Liveness::Unknown, "{c}");
        }
        assert!(retryable(429) && retryable(500) && retryable(599));
        assert!(!retryable(401) && !retryable(404) && !retryable(302));
    }

    #[test]
    fn scrubbing() {
        let t = Secret::new(b"sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE");
        let s = scrub(
            "bad header sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE here",
            &[&t],
        );
        assert_eq!(s, "bad header sk_live_4e…FAKE here");
    }
}
