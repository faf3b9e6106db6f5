//! Findings: what reports are made of.
//!
//! A source turns the scanner's byte-offset [`Match`]es into [`Finding`]s: it knows the path, and
//! [`Finding::new`] adds line and column, the secret and its [`Fingerprint`]. History findings also
//! carry a [`Provenance`]: who committed the secret, when, and where.

use std::fmt;
use std::ops::Range;

use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use sha2::Sha256;

use crate::rules::{Rule, RuleIdx, Severity};
use crate::scanner::Match;

/// The key fingerprints are computed with when the project sets none (`fingerprint_salt`).
pub const DEFAULT_FINGERPRINT_KEY: &[u8] = b"credsweep-fingerprint-v1";

/// A keyed hash of (rule id, secret): the same wherever the secret moves (another line, file or
/// commit), different for another secret, and no dictionary of secrets without the key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Fingerprint(pub String);

impl Fingerprint {
    pub fn new(key: &[u8], rule_id: &str, secret: &[u8]) -> Fingerprint {
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(rule_id.as_bytes());
        mac.update(&[0]);
        mac.update(secret);
        let digest = mac.finalize().into_bytes();
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        Fingerprint(hex)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A secret as found. Its `Debug` is redacted, so it cannot leak through a stray `{:?}`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Secret(String);

/// How much of a secret a finding keeps (and `--no-redact` shows). Real credentials, private-key
/// blocks included, are far shorter; a rule that matched megabytes of a minified line must not
/// make every finding hold them. The fingerprint is computed over the whole secret.
pub const MAX_SECRET_BYTES: usize = 16 << 10;

impl Secret {
    pub fn new(bytes: &[u8]) -> Secret {
        let kept = &bytes[..bytes.len().min(MAX_SECRET_BYTES)];
        Secret(String::from_utf8_lossy(kept).into_owned())
    }

    /// The secret itself, for `--no-redact`.
    pub fn plaintext(&self) -> &str {
        &self.0
    }

    /// A short prefix that helps a reader recognise the credential, then `…`: the provider's
    /// prefix (`sk_live_`, `ghp_`, `xoxb-`) and two more characters, or four characters, and never
    /// more than a third of the secret.
    pub fn redacted(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        let prefix_end = chars
            .iter()
            .take(16)
            .rposition(|c| matches!(c, '_' | '-'))
            .map_or(0, |p| p + 1);
        let keep = if prefix_end > 0 && prefix_end + 2 <= chars.len() / 2 {
            prefix_end + 2
        } else {
            4
        };
        let keep = keep.min(chars.len() / 3);
        let mut out: String = chars[..keep].iter().collect();
        out.push('…');
        out
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.redacted())
    }
}

/// Where a history finding came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Provenance {
    /// The commit that first introduced the blob at this path; `None` for a blob no commit holds.
    pub commit: Option<String>,
    pub author: Option<String>,
    pub email: Option<String>,
    /// Commit time, RFC 3339 (UTC).
    pub date: Option<String>,
    /// First line of the commit message.
    pub message: Option<String>,
    /// One ref that reaches the commit, or `unreachable`.
    #[serde(rename = "ref")]
    pub ref_name: Option<String>,
    /// The blob's object id.
    pub blob: String,
    /// How many other (blob, path) places hold the same secret.
    pub other_locations: usize,
}

/// One credential at one place.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: RuleIdx,
    pub rule_id: String,
    pub severity: Severity,
    pub description: String,
    pub path: String,
    pub line: u32,
    /// 1-based, in characters of the line.
    pub column: u32,
    pub end_line: u32,
    /// 1-based, just past the last character of the secret (as SARIF's `endColumn`).
    pub end_column: u32,
    pub secret: Secret,
    pub fingerprint: Fingerprint,
    pub provenance: Option<Provenance>,
    /// GitHub code scanning's `primaryLocationLineHash` of the start line, as `hash:occurrence`
    /// (see [`crate::report::sarif::line_hashes`]); set by [`crate::sources::scan_buffer`], which
    /// has the whole buffer at hand. Only the SARIF report uses it.
    pub line_hash: Option<String>,
    /// The other half of a Vobiz id + token pair found in the same file (see [`crate::verify`]).
    pub pair: Option<Box<crate::verify::PairLink>>,
    /// What `--verify` found out about this credential; `None` without `--verify`.
    pub verification: Option<crate::verify::Verification>,
}

impl Finding {
    /// Builds a finding for `m` in `data`; `lines` must have been built over the same `data`.
    pub fn new(
        rule: &Rule,
        m: &Match,
        data: &[u8],
        lines: &mut LineLocator<'_>,
        path: &str,
        key: &[u8],
    ) -> Finding {
        let secret = &data[m.secret.clone()];
        let (line, column) = lines.locate(m.secret.start);
        let (end_line, mut end_column) = lines.locate(m.secret.end);
        // A secret is at least one character wide, even one that starts inside a multi-byte
        // character (rules match bytes) and so counts no character of its own.
        if end_line == line && end_column <= column {
            end_column = column + 1;
        }
        Finding {
            rule: m.rule,
            rule_id: rule.id.clone(),
            severity: rule.severity,
            description: rule.description.clone(),
            path: path.to_string(),
            line,
            column,
            end_line,
            end_column,
            secret: Secret::new(secret),
            fingerprint: Fingerprint::new(key, &rule.id, secret),
            provenance: None,
            line_hash: None,
            pair: None,
            verification: None,
        }
    }

    /// The order reports use: by path, line, column, rule. Output is the same whatever the order
    /// threads finished in.
    pub fn sort_key(&self) -> (&str, u32, u32, &str, Option<&str>) {
        (
            &self.path,
            self.line,
            self.column,
            &self.rule_id,
            self.provenance.as_ref().and_then(|p| p.commit.as_deref()),
        )
    }
}

/// Known secrets shorter than this are not searched for in other strings: they would match
/// ordinary words (the scanner's rules still redact what they recognise).
pub const MIN_KNOWN_SECRET_LEN: usize = 8;

/// Redacts the strings from a repository that a report prints besides the secrets themselves: a
/// path, a commit's subject or author, a ref name, a note. A commit titled "add key ghp_… for ci"
/// holds the token as surely as the file does. Each string is scanned with the rules in force,
/// and every credential they find in it, and every occurrence of a secret the scan found, is
/// replaced by its redacted form ([`Secret::redacted`]), the same form the finding shows.
pub struct StringRedactor<'a> {
    scanner: &'a crate::scanner::Scanner,
    known: Option<aho_corasick::AhoCorasick>,
    /// Strings already redacted: findings share commits, authors and paths.
    cache: std::collections::HashMap<String, String>,
}

impl<'a> StringRedactor<'a> {
    /// A redactor for the rules of `scanner` and the secrets in `secrets`.
    pub fn new<'s>(
        scanner: &'a crate::scanner::Scanner,
        secrets: impl IntoIterator<Item = &'s Secret>,
    ) -> StringRedactor<'a> {
        let mut known: Vec<&str> = secrets
            .into_iter()
            .map(Secret::plaintext)
            .filter(|s| s.len() >= MIN_KNOWN_SECRET_LEN)
            .collect();
        known.sort_unstable();
        known.dedup();
        let known = (!known.is_empty())
            .then(|| {
                aho_corasick::AhoCorasick::builder()
                    .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                    // Built once and run over a few short strings: the cheapest to build.
                    .kind(Some(aho_corasick::AhoCorasickKind::NoncontiguousNFA))
                    .prefilter(false)
                    .build(&known)
                    .ok()
            })
            .flatten();
        StringRedactor {
            scanner,
            known,
            cache: std::collections::HashMap::new(),
        }
    }

    /// `s` with every credential in it redacted.
    pub fn redact(&mut self, s: &str) -> String {
        if let Some(done) = self.cache.get(s) {
            return done.clone();
        }
        let bytes = s.as_bytes();
        let mut spans: Vec<Range<usize>> = self
            .scanner
            .scan(bytes, crate::scanner::PathFilter::Unknown)
            .into_iter()
            .map(|m| m.secret)
            .filter(|r| !r.is_empty())
            .collect();
        if let Some(ac) = &self.known {
            spans.extend(ac.find_iter(bytes).map(|m| m.range()));
        }
        let out = if spans.is_empty() {
            s.to_string()
        } else {
            spans.sort_by_key(|r| (r.start, r.end));
            let mut out = Vec::with_capacity(bytes.len());
            let mut at = 0;
            let mut i = 0;
            while i < spans.len() {
                let start = spans[i].start.max(at);
                let mut end = spans[i].end;
                while i + 1 < spans.len() && spans[i + 1].start < end {
                    i += 1;
                    end = end.max(spans[i].end);
                }
                i += 1;
                if end <= start {
                    continue;
                }
                out.extend_from_slice(&bytes[at..start]);
                out.extend_from_slice(Secret::new(&bytes[start..end]).redacted().as_bytes());
                at = end;
            }
            out.extend_from_slice(&bytes[at..]);
            String::from_utf8_lossy(&out).into_owned()
        };
        self.cache.insert(s.to_string(), out.clone());
        out
    }

    fn redact_opt(&mut self, s: &mut Option<String>) {
        if let Some(v) = s {
            *v = self.redact(v);
        }
    }

    /// Redacts every string of `f` that came from the repository: path, description (a rule
    /// may come from its configuration), the provenance's author, email, subject and ref, and the
    /// path of its pair.
    pub fn redact_finding(&mut self, f: &mut Finding) {
        f.path = self.redact(&f.path);
        f.description = self.redact(&f.description);
        if let Some(p) = &mut f.provenance {
            self.redact_opt(&mut p.author);
            self.redact_opt(&mut p.email);
            self.redact_opt(&mut p.message);
            self.redact_opt(&mut p.ref_name);
        }
        if let Some(p) = &mut f.pair {
            p.path = self.redact(&p.path);
        }
    }
}

/// Converts byte offsets into 1-based (line, column) pairs, columns counted in characters.
/// Offsets asked for in increasing order cost one pass over the data in all.
pub struct LineLocator<'a> {
    data: &'a [u8],
    /// Offset and number of the line the last lookup was on.
    line_start: usize,
    line: u32,
}

impl<'a> LineLocator<'a> {
    pub fn new(data: &'a [u8]) -> LineLocator<'a> {
        LineLocator {
            data,
            line_start: 0,
            line: 1,
        }
    }

    pub fn locate(&mut self, offset: usize) -> (u32, u32) {
        let offset = offset.min(self.data.len());
        if offset < self.line_start {
            self.line_start = 0;
            self.line = 1;
        }
        let between = &self.data[self.line_start..offset];
        let newlines = memchr::memchr_iter(b'\n', between).count();
        if newlines > 0 {
            let last = memchr::memrchr(b'\n', between).unwrap();
            self.line_start += last + 1;
            self.line += newlines as u32;
        }
        let col = char_count(&self.data[self.line_start..offset]) + 1;
        (self.line, col as u32)
    }
}

/// Characters in `bytes`: valid UTF-8 counts by code point, each invalid byte counts as one (a
/// Latin-1 `é` is one character, as an editor in that encoding shows it).
pub fn char_count(bytes: &[u8]) -> usize {
    bytes
        .utf8_chunks()
        .map(|c| c.valid().chars().count() + c.invalid().len())
        .sum()
}

/// The byte range of the line around `offset`.
pub fn line_range(data: &[u8], offset: usize) -> Range<usize> {
    let start = memchr::memrchr(b'\n', &data[..offset]).map_or(0, |p| p + 1);
    let end = memchr::memchr(b'\n', &data[offset..]).map_or(data.len(), |p| offset + p);
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_depends_on_rule_secret_and_key_only() {
        let a = Fingerprint::new(b"k", "r", b"s1");
        assert_eq!(a, Fingerprint::new(b"k", "r", b"s1"));
        assert_ne!(a, Fingerprint::new(b"k", "r", b"s2"));
        assert_ne!(a, Fingerprint::new(b"k", "q", b"s1"));
        assert_ne!(a, Fingerprint::new(b"other", "r", b"s1"));
        assert_eq!(a.0.len(), 32);
    }

    #[test]
    fn redaction_keeps_a_short_prefix() {
        let s = Secret::new(b"sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE");
        assert_eq!(s.redacted(), "sk_live_4e…");
        assert_eq!(Secret::new(b"Secure@123").redacted(), "Sec…");
        assert_eq!(Secret::new(b"AKIAQ7FAKEQ7FAKEQ7FA").redacted(), "AKIA…");
        assert!(!format!("{s:?}").contains("FAKE"));
    }

    #[test]
    fn lines_and_columns_in_characters() {
        let data = "ab\né x\r\nline3 tok".as_bytes();
        let mut l = LineLocator::new(data);
        assert_eq!(l.locate(0), (1, 1));
        let x = data.iter().position(|&b| b == b'x').unwrap();
        assert_eq!(l.locate(x), (2, 3));
        let tok = data.len() - 3;
        assert_eq!(l.locate(tok), (3, 7));
        assert_eq!(l.locate(1), (1, 2));
    }

    #[test]
    fn latin1_bytes_count_as_characters() {
        assert_eq!(char_count(b"caf\xe9 "), 5);
    }
}
