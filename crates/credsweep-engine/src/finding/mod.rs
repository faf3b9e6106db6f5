//! Findings: what reports are made of.
//!
//! A scanned buffer's byte-offset [`Match`]es become [`Finding`]s: each at a typed [`Location`]
//! (a file, standard input, a blob, ...), with line and column, the [`Secret`] and its keyed
//! [`Fingerprint`], GitHub's [`line_hash`] and, once paired, a [`PairLink`]. History findings also
//! carry a [`Provenance`]: who committed the secret, when, and where. `--verify` adds a
//! [`Verification`].

pub mod line_hash;

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
///
/// A match of an [identifier rule](crate::rules::Rule::identifier) (an AWS access key id, a Vobiz
/// partner id) is kept as an identifier: it names a key or an account without being one, so
/// [`Secret::redacted`] shows it in full.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Secret {
    text: String,
    identifier: bool,
}

/// How much of a secret a finding keeps (and `--no-redact` shows). Real credentials, private-key
/// blocks included, are far shorter; a rule that matched megabytes of a minified line must not
/// make every finding hold them. The fingerprint is computed over the whole secret.
pub(crate) const MAX_SECRET_BYTES: usize = 16 << 10;

/// The longest provider prefix redaction shows (`github_pat_` is 11 characters).
const MAX_PREFIX_CHARS: usize = 12;

/// The longest identifier shown in full; a longer one is redacted like a secret.
const MAX_IDENTIFIER_CHARS: usize = 128;

/// A URL path segment longer than this is taken for a secret, not for a part of the address.
const MAX_SHOWN_SEGMENT_CHARS: usize = 20;

impl Secret {
    pub fn new(bytes: &[u8]) -> Secret {
        let kept = &bytes[..bytes.len().min(MAX_SECRET_BYTES)];
        Secret {
            text: String::from_utf8_lossy(kept).into_owned(),
            identifier: false,
        }
    }

    /// An identifier found by a rule: shown in full by [`Secret::redacted`].
    pub fn identifier(bytes: &[u8]) -> Secret {
        Secret {
            identifier: true,
            ..Secret::new(bytes)
        }
    }

    /// Whether this is an identifier rather than a secret.
    pub fn is_identifier(&self) -> bool {
        self.identifier
    }

    /// The secret itself, for `--no-redact`.
    pub fn plaintext(&self) -> &str {
        &self.text
    }

    /// What reports show without `--no-redact`: enough to tell which key to rotate (to match it
    /// against a provider's console), never enough to use it.
    ///
    /// - An identifier is shown in full (if it is printable ASCII without spaces, and short).
    /// - A URL (`https://hooks.slack.com/services/T…/B…/…`) shows its scheme, host and the short
    ///   path segments that lead to the secret part; the rest is redacted as a secret.
    /// - A secret shows its provider prefix (`sk_live_`, `ghp_`, `xoxb-`: up to the last `_` or
    ///   `-` in the first 12 characters, when that is at most a third of the secret), then of
    ///   the rest (the body) at most a quarter: the first 2 and last 4 characters of a body of 24
    ///   or more (`sk_live_4e…FAKE`), only the last 4 of a body of 16 to 23, and nothing of a
    ///   shorter body (`…`).
    pub fn redacted(&self) -> String {
        if self.identifier && shows_in_full(&self.text) {
            return self.text.clone();
        }
        if let Some(url) = redact_url(&self.text) {
            return url;
        }
        redact_token(&self.text)
    }

    pub fn len(&self) -> usize {
        self.text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

/// Whether an identifier can be printed as it is: short printable ASCII, no spaces.
fn shows_in_full(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_IDENTIFIER_CHARS && s.bytes().all(|b| b.is_ascii_graphic())
}

/// `chars` as a string if every one is printable ASCII; else nothing (a redacted form never
/// carries a control character or a line break).
fn printable(chars: &[char]) -> Option<String> {
    chars
        .iter()
        .all(|c| c.is_ascii_graphic())
        .then(|| chars.iter().collect())
}

/// A secret's redacted form: its provider prefix, and at most a quarter of the rest.
fn redact_token(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let prefix_end = chars
        .iter()
        .take(MAX_PREFIX_CHARS)
        .rposition(|c| matches!(c, '_' | '-'))
        .map_or(0, |p| p + 1);
    let prefix_end = if prefix_end * 3 <= chars.len() {
        prefix_end
    } else {
        0
    };
    let mut out = printable(&chars[..prefix_end]).unwrap_or_default();
    let body = &chars[prefix_end..];
    let n = body.len();
    if n >= 24
        && let Some(head) = printable(&body[..2])
    {
        out += &head;
    }
    out.push('…');
    if n >= 16
        && let Some(tail) = printable(&body[n - 4..])
    {
        out += &tail;
    }
    out
}

/// A URL secret's redacted form: `scheme://host/` and the short path segments before the first
/// long (or the last) one, then that remainder redacted as a secret. `None` for anything that is
/// not a plain `scheme://host/path` (user info, a query or a fragment before the secret part).
fn redact_url(s: &str) -> Option<String> {
    let (scheme, rest) = s.split_once("://")?;
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-'))
    {
        return None;
    }
    let (host, path) = rest.split_once('/')?;
    let plain = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_graphic() && !matches!(b, b'@' | b'?' | b'#' | b'=' | b'&'))
    };
    if !plain(host) {
        return None;
    }
    let segments: Vec<&str> = path.split('/').collect();
    let shown = segments[..segments.len() - 1]
        .iter()
        .take_while(|seg| plain(seg) && seg.chars().count() <= MAX_SHOWN_SEGMENT_CHARS)
        .count();
    let mut out = format!("{scheme}://{host}/");
    for seg in &segments[..shown] {
        out += seg;
        out.push('/');
    }
    out += &redact_token(&segments[shown..].join("/"));
    Some(out)
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.redacted())
    }
}

/// Whether secrets are shown in full (`--no-redact`) or as a short prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redaction {
    Redact,
    Plain,
}

impl Redaction {
    pub fn show(self, s: &Secret) -> String {
        match self {
            Redaction::Redact => s.redacted(),
            Redaction::Plain => s.plaintext().to_string(),
        }
    }
}

/// What verification found out about a credential: whether it still works. (Named apart from
/// the per-phase `Outcome` types of `sources::history`, which are what an operation returns.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Liveness {
    /// The API accepted the pair (2xx): the credential works and must be rotated now.
    Active,
    /// The API rejected the pair (401 or 403): revoked, rotated or never valid.
    Inactive,
    /// No answer either way: timeout, network or TLS error, 429, 5xx, a redirect, anything else.
    Unknown,
    /// Not tried: a token with no partner id in its file, or an id with no token.
    Unverifiable,
}

impl Liveness {
    pub fn as_str(self) -> &'static str {
        match self {
            Liveness::Active => "active",
            Liveness::Inactive => "inactive",
            Liveness::Unknown => "unknown",
            Liveness::Unverifiable => "unverifiable",
        }
    }
}

impl fmt::Display for Liveness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A finding's verification: the outcome and a short reason (`HTTP 401`, `timed out after 5 s`).
/// The detail never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub outcome: Liveness,
    pub detail: String,
}

impl Verification {
    pub fn new(outcome: Liveness, detail: impl Into<String>) -> Verification {
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
    pub location: Location,
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
            location: f.location.clone(),
            line: f.line,
            column: f.column,
            end_line: f.end_line,
            end_column: f.end_column,
            secret: f.secret.clone(),
        }
    }
}

/// Where a finding is: a typed place, never a string to be parsed back. Sources make it, reports
/// render it ([`Location::name`]: the path a report shows).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Location {
    /// A file in a directory tree or in the index, by the path it is reported under.
    Path(String),
    /// Standard input.
    Stdin,
    /// A git blob, by its full id. `path` is where a commit put it, once history has located it
    /// (a blob no commit names keeps `None` and is shown by its id).
    Blob { id: String, path: Option<String> },
    /// A member of an archive (`bundle.zip` → `app/.env`): where the archive is, and the
    /// member's path inside it.
    Member {
        archive: Box<Location>,
        member: String,
    },
    /// Text decoded from an encoded value (`base64`, `percent`, ...) found at `outer`. The
    /// finding's line and column are those of the encoded value in `outer`; its name is
    /// `outer`'s, and [`Location::decoded`] says how it was decoded.
    Decoded {
        outer: Box<Location>,
        encoding: String,
    },
    /// The message of a commit (or of an annotated tag, `tag`), by the object's id.
    Message { object: String, tag: bool },
}

impl Location {
    /// The name reports show: the path, `<stdin>`, `<blob 0123456789ab>` for a blob no commit
    /// names, `bundle.zip!app/.env` for an archive member; a decoded value is named by where it
    /// was found (see [`Location::decoded`]).
    pub fn name(&self) -> std::borrow::Cow<'_, str> {
        use std::borrow::Cow;
        match self {
            Location::Path(p) | Location::Blob { path: Some(p), .. } => Cow::Borrowed(p),
            Location::Stdin => Cow::Borrowed("<stdin>"),
            Location::Blob { id, path: None } => Cow::Owned(format!("<blob {}>", short_id(id))),
            Location::Member { archive, member } => {
                Cow::Owned(format!("{}!{member}", archive.name()))
            }
            Location::Decoded { outer, .. } => outer.name(),
            Location::Message { object, tag } => Cow::Owned(format!(
                "<{} {} message>",
                if *tag { "tag" } else { "commit" },
                short_id(object)
            )),
        }
    }

    /// Whether this is standard input (or a value decoded there).
    pub fn is_stdin(&self) -> bool {
        matches!(self.undecoded(), Location::Stdin)
    }

    /// How the secret was decoded to be found, first decoding first (`["base64", "percent"]`);
    /// empty for a secret found as written.
    pub fn decoded(&self) -> Vec<&str> {
        let mut chain = Vec::new();
        let mut at = self;
        while let Location::Decoded { outer, encoding } = at {
            chain.push(encoding.as_str());
            at = outer;
        }
        chain.reverse();
        chain
    }

    /// Sets the path of the blob this location is in (under any archive members and decodings
    /// around it), once history knows where the blob sits; a location in no blob is left as it
    /// is.
    pub fn place_blob(&mut self, placed: Option<String>) {
        match self {
            Location::Blob { path, .. } => *path = placed,
            Location::Member { archive: inner, .. } | Location::Decoded { outer: inner, .. } => {
                inner.place_blob(placed)
            }
            Location::Path(_) | Location::Stdin | Location::Message { .. } => {}
        }
    }

    /// The place the encoded value was found in: this location less any decoding.
    pub fn undecoded(&self) -> &Location {
        match self {
            Location::Decoded { outer, .. } => outer.undecoded(),
            other => other,
        }
    }

    /// The same place with every string in it from the repository (paths, members) passed
    /// through `f`; ids are left as they are.
    pub(crate) fn map_strings(&self, f: &mut impl FnMut(&str) -> String) -> Location {
        match self {
            Location::Path(p) => Location::Path(f(p)),
            Location::Stdin => Location::Stdin,
            Location::Blob { id, path } => Location::Blob {
                id: id.clone(),
                path: path.as_deref().map(&mut *f),
            },
            Location::Member { archive, member } => Location::Member {
                archive: Box::new(archive.map_strings(f)),
                member: f(member),
            },
            Location::Decoded { outer, encoding } => Location::Decoded {
                outer: Box::new(outer.map_strings(f)),
                encoding: encoding.clone(),
            },
            Location::Message { object, tag } => Location::Message {
                object: object.clone(),
                tag: *tag,
            },
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// The first 12 hex digits of an object id: how reports name an object in passing.
fn short_id(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
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
    /// The earliest of those other places, at most [`MAX_LISTED_PLACES`], earliest first; the
    /// rest are only counted ([`Provenance::other_places_omitted`]).
    pub other_places: Vec<OtherPlace>,
    /// Whether the secret is still in the tree of the scanned head (`HEAD`, or the tip of a
    /// range): `false` means it lives only in history (rotate it and purge it). `None` when there
    /// is no such commit, or its tree could not be read whole.
    pub in_head: Option<bool>,
    /// For a finding in a submodule's history (`--recurse-submodules`): the submodule's path in
    /// the superproject, which the finding's path starts with.
    pub submodule: Option<String>,
}

/// How many of a history finding's other places are listed: enough to act on, and a secret
/// committed at millions of paths does not make a report of millions of lines.
pub const MAX_LISTED_PLACES: usize = 100;

/// How many other places a whole report lists: when many secrets share it, each lists fewer (at
/// least one), so a blob of 100,000 secrets at 100,000 paths does not make ten million entries.
pub const MAX_LISTED_PLACES_TOTAL: usize = 100_000;

impl Provenance {
    /// The other places counted but not listed.
    pub fn other_places_omitted(&self) -> usize {
        self.other_locations.saturating_sub(self.other_places.len())
    }
}

/// Another (blob, path) place in history that holds a history finding's secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OtherPlace {
    pub path: String,
    /// The commit that first introduced the blob at this path; `None` for a ref naming a tree.
    pub commit: Option<String>,
    /// Empty for a commit or tag message, which is in no blob.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub blob: String,
}

/// One credential at one place.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: RuleIdx,
    pub rule_id: String,
    pub severity: Severity,
    pub description: String,
    /// Where the secret is.
    pub location: Location,
    pub line: u32,
    /// 1-based, in characters of the line.
    pub column: u32,
    pub end_line: u32,
    /// 1-based, just past the last character of the secret (as SARIF's `endColumn`).
    pub end_column: u32,
    pub secret: Secret,
    pub fingerprint: Fingerprint,
    /// In a binary buffer scanned for its strings ([`crate::binary`]): the secret's byte range in
    /// the buffer (the encoded value's, for a decoded secret). A binary has no lines, so `line`
    /// and `end_line` are 1 and the columns are these offsets + 1. `None` in text.
    pub offset: Option<Range<u64>>,
    pub provenance: Option<Provenance>,
    /// GitHub code scanning's `primaryLocationLineHash` of the start line, as `hash:occurrence`
    /// (see [`line_hash::line_hashes`]); set when the buffer is scanned, while its bytes are at
    /// hand. Only the SARIF report reads it.
    pub line_hash: Option<String>,
    /// The other half of a Vobiz id + token pair found in the same place (see [`crate::pair`]).
    pub pair: Option<Box<PairLink>>,
    /// What `--verify` found out about this credential; `None` without `--verify`.
    pub verification: Option<Verification>,
    /// How many further findings of the same rule in the same file (blob, member) were counted
    /// on this one instead of reported: the rule has a
    /// [`max_per_file`](crate::rules::RuleSpec::max_per_file) and this is the last finding of it
    /// reported there.
    pub folded: u64,
}

impl Finding {
    /// Builds a finding for `m` in `data`; `lines` must have been built over the same `data`.
    pub fn new(
        rule: &Rule,
        m: &Match,
        data: &[u8],
        lines: &mut LineLocator<'_>,
        location: &Location,
        key: &[u8],
    ) -> Finding {
        let secret = m.secret_bytes(data);
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
            location: location.clone(),
            line,
            column,
            end_line,
            end_column,
            secret: if rule.identifier {
                Secret::identifier(secret)
            } else {
                Secret::new(secret)
            },
            fingerprint: Fingerprint::new(key, &rule.id, secret),
            offset: None,
            provenance: None,
            line_hash: None,
            pair: None,
            verification: None,
            folded: 0,
        }
    }

    /// What verification found, if the finding was verified.
    pub fn liveness(&self) -> Option<Liveness> {
        self.verification.as_ref().map(|v| v.outcome)
    }

    /// Whether verification found the credential active: it works and must be rotated now.
    pub fn is_verified_active(&self) -> bool {
        self.liveness() == Some(Liveness::Active)
    }

    /// The order reports use: by path, line, column, rule. Output is the same whatever the order
    /// threads finished in.
    pub fn sort_key(&self) -> (std::borrow::Cow<'_, str>, u32, u32, &str, Option<&str>) {
        (
            self.location.name(),
            self.line,
            self.column,
            &self.rule_id,
            self.provenance.as_ref().and_then(|p| p.commit.as_deref()),
        )
    }
}

/// Known secrets shorter than this are not searched for in other strings: they would match
/// ordinary words (the scanner's rules still redact what they recognise).
pub(crate) const MIN_KNOWN_SECRET_LEN: usize = 8;

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

    /// Redacts every string of `f` that came from the repository: path, description (unless
    /// the rule is built in: a rule may come from its configuration), the provenance's author,
    /// email, subject and ref, and the path of its pair.
    pub fn redact_finding(&mut self, f: &mut Finding) {
        f.location = f.location.map_strings(&mut |s| self.redact(s));
        // A built-in rule's description is the project's own text: scanned as a repository
        // string, its words read as raw matches of generic rules (`password in a ...` lost
        // its `in`).
        let builtin = self
            .scanner
            .rules()
            .rules()
            .get(f.rule.0 as usize)
            .is_some_and(|r| r.is_builtin() && r.id == f.rule_id);
        if !builtin {
            f.description = self.redact(&f.description);
        }
        if let Some(p) = &mut f.provenance {
            self.redact_opt(&mut p.author);
            self.redact_opt(&mut p.email);
            self.redact_opt(&mut p.message);
            self.redact_opt(&mut p.ref_name);
            for o in &mut p.other_places {
                o.path = self.redact(&o.path);
            }
        }
        if let Some(p) = &mut f.pair {
            p.location = p.location.map_strings(&mut |s| self.redact(s));
        }
    }
}

/// Converts byte offsets into 1-based (line, column) pairs, columns counted in characters.
/// Offsets asked for in increasing order cost one pass over the data in all, however long the
/// lines: a column is counted on from the last one asked on the same line (a mysqldump extended
/// INSERT is one line of megabytes with a finding every few hundred bytes).
pub struct LineLocator<'a> {
    data: &'a [u8],
    /// Offset and number of the line the last lookup was on.
    line_start: usize,
    line: u32,
    /// The last offset looked up on that line and its column.
    last: usize,
    last_column: usize,
}

impl<'a> LineLocator<'a> {
    pub fn new(data: &'a [u8]) -> LineLocator<'a> {
        LineLocator {
            data,
            line_start: 0,
            line: 1,
            last: 0,
            last_column: 1,
        }
    }

    pub fn locate(&mut self, offset: usize) -> (u32, u32) {
        let offset = offset.min(self.data.len());
        if offset < self.line_start {
            self.line_start = 0;
            self.line = 1;
            (self.last, self.last_column) = (0, 1);
        } else if offset < self.last {
            (self.last, self.last_column) = (self.line_start, 1);
        }
        let between = &self.data[self.last..offset];
        let newlines = memchr::memchr_iter(b'\n', between).count();
        if newlines > 0 {
            let last = memchr::memrchr(b'\n', between).unwrap();
            self.line_start = self.last + last + 1;
            self.line += newlines as u32;
            (self.last, self.last_column) = (self.line_start, 1);
        }
        // Counted on from the last offset on this line, unless that is inside a character (a
        // byte-mode match may start or end there): then from the line's start.
        if !is_char_start(self.data, self.last) {
            (self.last, self.last_column) = (self.line_start, 1);
        }
        self.last_column += char_count(&self.data[self.last..offset]);
        self.last = offset;
        (self.line, self.last_column as u32)
    }
}

/// Whether `offset` of `data` starts a character (or is the end): not a UTF-8 continuation byte
/// after the lead byte of a sequence, so counting characters from it counts as from the line's
/// start.
fn is_char_start(data: &[u8], offset: usize) -> bool {
    let at = |i: usize| data.get(i).copied();
    match at(offset) {
        None => true,
        Some(b) if b & 0xC0 != 0x80 => true,
        // A continuation byte: part of a character when a lead byte opens it within 3 bytes.
        Some(_) => {
            let back = offset.saturating_sub(3);
            !(back..offset)
                .rev()
                .any(|i| at(i).is_some_and(|b| b >= 0xC0))
        }
    }
}

/// 1-based line number of byte `offset` in `data` (an offset past the end counts as the end):
/// for a finding the scanner uses [`LineLocator`], which also counts columns; configuration,
/// rule and baseline files use this for the line of a TOML error or value.
pub fn line_number(data: &[u8], offset: usize) -> usize {
    memchr::memchr_iter(b'\n', &data[..offset.min(data.len())]).count() + 1
}

/// Characters in `bytes`: valid UTF-8 counts by code point, each invalid byte counts as one (a
/// Latin-1 `é` is one character, as an editor in that encoding shows it).
pub(crate) fn char_count(bytes: &[u8]) -> usize {
    bytes
        .utf8_chunks()
        .map(|c| c.valid().chars().count() + c.invalid().len())
        .sum()
}

/// The byte range of the line around `offset`.
pub(crate) fn line_range(data: &[u8], offset: usize) -> Range<usize> {
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
    fn redaction_shows_prefix_and_at_most_a_quarter_of_the_rest() {
        let s = Secret::new(b"sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE");
        assert_eq!(s.redacted(), "sk_live_4e…FAKE");
        assert!(!format!("{s:?}").contains("C39Hq"));
        // A short secret: nothing of it.
        assert_eq!(Secret::new(b"Secure@123").redacted(), "…");
        // 16..23 characters: the last 4 only.
        assert_eq!(Secret::new(b"aBFAKEb42OcGsfz4").redacted(), "…sfz4");
        // A secret key of AWS (40 characters, no prefix).
        assert_eq!(
            Secret::new(b"OSpNFAKE3ElTtZ+DcfptEZoiHAaVhhkxnvjESN0c").redacted(),
            "OS…SN0c"
        );
        // A password with dashes is not a prefix.
        assert_eq!(Secret::new(b"correct-horse-battery").redacted(), "…tery");
        // No line break or control character gets out.
        assert_eq!(
            Secret::new(b"-----BEGIN KEY-----\nMIIEFAKE\n-----END KEY-----\n").redacted(),
            "-----BE…"
        );
    }

    #[test]
    fn identifiers_are_shown_in_full_unless_unprintable() {
        let id = Secret::identifier(b"AKIAQ7FAKEQ7FAKEQ7FA");
        assert_eq!(id.redacted(), "AKIAQ7FAKEQ7FAKEQ7FA");
        assert!(id.is_identifier());
        assert_eq!(
            Secret::identifier(b"partner-7F3A9C21fake").redacted(),
            "partner-7F3A9C21fake"
        );
        assert_eq!(Secret::identifier(b"user\x1b[31m").redacted(), "…");
        assert!(!Secret::new(b"AKIAQ7FAKEQ7FAKEQ7FA").is_identifier());
    }

    #[test]
    fn a_webhook_url_shows_its_address_not_its_secret() {
        let s = Secret::new(
            b"https://hooks.slack.com/services/TPU4K27Q7Z7/BLNX2T07U73/k5FAKE1vdRxrBxrN5rPUNJSk",
        );
        assert_eq!(
            s.redacted(),
            "https://hooks.slack.com/services/TPU4K27Q7Z7/BLNX2T07U73/k5…NJSk"
        );
        // A long segment before the end is a secret too: nothing after it is shown.
        let s = Secret::new(
            b"https://outlook.example/webhook/0123456789abcdef0123456789abcdef/IncomingWebhook/x",
        );
        assert_eq!(s.redacted(), "https://outlook.example/webhook/01…ok/x");
        // User info or a query: not an address to show.
        assert_eq!(
            Secret::new(b"https://bot:hunter2FAKEhunter2@x.example/a").redacted(),
            "ht…le/a"
        );
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
    fn counting_on_along_a_line_gives_the_columns_counted_from_its_start() {
        // Multi-byte characters, invalid bytes and truncated sequences on long lines, every
        // offset asked in order, then some backwards: each answer must be what a locator asked
        // that offset alone (counting from the line's start) gives.
        let mut data = Vec::new();
        for i in 0..40 {
            data.extend_from_slice("é€😀x".as_bytes());
            data.extend_from_slice(&[0xA9, b'y', 0xE2, 0x82, b'z', 0xF0, 0x9F]);
            if i % 9 == 0 {
                data.extend_from_slice(b"\r\n");
            }
        }
        let alone = |offset: usize| LineLocator::new(&data).locate(offset);
        let mut l = LineLocator::new(&data);
        for offset in 0..=data.len() {
            assert_eq!(l.locate(offset), alone(offset), "at {offset}");
        }
        for offset in [data.len() / 2, 5, data.len() - 1, 3, 4, 200] {
            assert_eq!(l.locate(offset), alone(offset), "at {offset}");
        }
    }

    #[test]
    fn locations_render_by_kind_and_never_parse_back() {
        let id = "0123456789abcdef0123456789abcdef01234567".to_string();
        assert_eq!(Location::Path("a/.env".into()).name(), "a/.env");
        assert_eq!(Location::Stdin.name(), "<stdin>");
        // A file named like standard input is still a file.
        assert!(!Location::Path("<stdin>".into()).is_stdin());
        let unplaced = Location::Blob {
            id: id.clone(),
            path: None,
        };
        assert_eq!(unplaced.name(), "<blob 0123456789ab>");
        let placed = Location::Blob {
            id: id.clone(),
            path: Some("config/prod.env".into()),
        };
        assert_eq!(placed.to_string(), "config/prod.env");
        let member = Location::Member {
            archive: Box::new(Location::Path("dist/bundle.zip".into())),
            member: "app/.env".into(),
        };
        assert_eq!(member.name(), "dist/bundle.zip!app/.env");
        let decoded = Location::Decoded {
            outer: Box::new(member.clone()),
            encoding: "base64".into(),
        };
        assert_eq!(decoded.name(), "dist/bundle.zip!app/.env");
        let twice = Location::Decoded {
            outer: Box::new(decoded.clone()),
            encoding: "percent".into(),
        };
        assert_eq!(twice.decoded(), ["base64", "percent"]);
        assert_eq!(twice.undecoded(), &member);
        assert!(member.decoded().is_empty());
        assert!(
            Location::Decoded {
                outer: Box::new(Location::Stdin),
                encoding: "hex".into()
            }
            .is_stdin()
        );
        assert_eq!(
            Location::Message {
                object: id.clone(),
                tag: true
            }
            .name(),
            "<tag 0123456789ab message>"
        );
        // History places a blob under its wrappers.
        let mut in_blob = Location::Decoded {
            outer: Box::new(Location::Member {
                archive: Box::new(unplaced.clone()),
                member: "app/.env".into(),
            }),
            encoding: "base64".into(),
        };
        in_blob.place_blob(Some("dist/app.zip".into()));
        assert_eq!(in_blob.name(), "dist/app.zip!app/.env");
        assert_eq!(in_blob.decoded(), ["base64"]);
        // Redaction reaches every repository string, and no id.
        let upper = decoded.map_strings(&mut |s| s.to_uppercase());
        assert_eq!(upper.name(), "DIST/BUNDLE.ZIP!APP/.ENV");
        assert_eq!(upper.decoded(), ["base64"]);
        let upper = placed.map_strings(&mut |s| s.to_uppercase());
        assert_eq!(
            upper,
            Location::Blob {
                id,
                path: Some("CONFIG/PROD.ENV".into())
            }
        );
    }

    #[test]
    fn latin1_bytes_count_as_characters() {
        assert_eq!(char_count(b"caf\xe9 "), 5);
    }
}
