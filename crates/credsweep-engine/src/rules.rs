//! Rules are data: they are read from TOML (`rules/*.toml`, embedded at build time, plus any files
//! the user names) into [`RuleSpec`]s, validated and compiled into [`Rule`]s, and gathered in a
//! [`RuleSet`] that the scanner builds its prefilter from.
//!
//! Validation happens here, once, so that a bad rule is an error that names the file, the rule and
//! the problem before any scanning starts, and the scanner can assume every rule is sound.

use std::collections::HashSet;
use std::fmt;
use std::sync::OnceLock;

use regex::bytes::{Regex, RegexBuilder};
use regex_automata::meta;
use serde::Deserialize;

use crate::required::{Anchor, Required, SecretRun};

/// Where built-in rules say they come from.
const BUILTIN_ORIGIN: &str = "<builtin>/";

/// The default rule pack, embedded so the binary works with no files next to it.
pub const DEFAULT_RULE_FILES: &[(&str, &str)] = &include!(concat!(env!("OUT_DIR"), "/rules.rs"));

// [`DEFAULT_RULE_FILES`] as constant values, which is what [`RuleSet::builtin`] loads: parsing
// the pack's 400 kB of TOML was a third of a one-file `credsweep staged` (callgrind: 26 of 69
// million instructions), and parsing it as JSON still a fifth of `credsweep dir` over an empty
// directory.
mod embedded;

/// How bad a finding of a rule is. Ordered: `Note < Warning < Error`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a rule's secret is written in the text it matches, when not as itself: the captured
/// bytes are decoded, and the finding's secret (what `--no-redact` shows, what the fingerprint
/// and baseline use, what the rule's `allow`, `stopwords`, `min_entropy` and the placeholder
/// filter judge) is what they decode to. A capture that does not decode to text (printable
/// UTF-8) is not a finding of the rule: the format the rule names is not what is written there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SecretEncoding {
    /// Standard base64, padded or not (FileZilla's `<Pass encoding="base64">`).
    Base64,
}

impl SecretEncoding {
    pub fn as_str(self) -> &'static str {
        match self {
            SecretEncoding::Base64 => "base64",
        }
    }

    /// What `value` decodes to, if it decodes to text (see [`SecretEncoding`]).
    pub fn decode(self, value: &[u8]) -> Option<Vec<u8>> {
        match self {
            SecretEncoding::Base64 => crate::encoded::base64_text(value),
        }
    }
}

/// One rule as written in a TOML file, before validation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    pub description: String,
    pub severity: Severity,
    #[serde(default)]
    pub provider: Option<String>,
    pub regex: String,
    /// Literals of which at least one must occur for the regex to run (the prefilter). A rule
    /// with none must have a `path`: otherwise its regex would run on everything, and the loader
    /// rejects it.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// The keywords are matched exactly as written instead of ASCII-case-insensitively. For
    /// tokens whose format fixes the case of the literal (`AKIA`, `ghp_`, `sk_live_`,
    /// `-----BEGIN ... PRIVATE KEY-----`): a case-insensitive `akia` or `asia` also hits ordinary
    /// words, and each hit costs a regex run. Only for keywords the rule's regex requires in that
    /// very case; a context word (`vobiz`, a header name) stays case-insensitive.
    #[serde(default)]
    pub case_sensitive_keywords: bool,
    #[serde(default)]
    pub min_entropy: Option<f64>,
    #[serde(default)]
    pub allow: Vec<String>,
    #[serde(default)]
    pub stopwords: Vec<String>,
    #[serde(default)]
    pub path: Option<String>,
    /// The secret may span lines (PEM blocks): the regex runs on a window of `multiline_reach`
    /// bytes either side of each keyword hit instead of on the hit's lines.
    #[serde(default)]
    pub multiline: bool,
    /// For a `multiline` rule: how far, in bytes, its match may extend from a keyword hit, either
    /// side (default [`DEFAULT_MULTILINE_REACH`], at most [`MAX_MULTILINE_REACH`]). The regex
    /// never runs on more than these windows, so a multi-line rule costs in proportion to its
    /// keyword hits, not to the size of the buffer.
    #[serde(default)]
    pub multiline_reach: Option<usize>,
    #[serde(default)]
    pub unicode: bool,
    #[serde(default)]
    pub context: Vec<String>,
    #[serde(default)]
    pub context_required: bool,
    #[serde(default)]
    pub priority: i32,
    #[serde(default)]
    pub remediation: Option<String>,
    /// The match names an account or key rather than being a secret (an AWS access key id, a
    /// Vobiz partner id): reports show it in full, so a reader knows which key to rotate.
    #[serde(default)]
    pub identifier: bool,
    /// The secret group is written encoded: see [`SecretEncoding`].
    #[serde(default)]
    pub decode: Option<SecretEncoding>,
    /// At most this many findings of the rule per file: its further matches there are counted
    /// on the last one reported ([`crate::finding::Finding::folded`]) instead of reported one by
    /// one. For rules whose files hold many secrets of one kind (a SQL dump's password hashes),
    /// where the file is what leaks and a finding per row would bury every other finding.
    #[serde(default)]
    pub max_per_file: Option<usize>,
    #[serde(default)]
    pub examples: Vec<String>,
    #[serde(default)]
    pub negative_examples: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<RuleSpec>,
}

/// A validated, compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub description: String,
    pub severity: Severity,
    pub provider: Option<String>,
    pub regex: RuleRegex,
    /// What the matcher reads from the parsed `regex` ([`Rule::shape`]): known at load for a rule
    /// that is not built in, worked out on first use for a built-in one.
    shape: OnceLock<Result<Shape, String>>,
    /// The regex as parsed for its shape, kept until the regex is compiled from it
    /// ([`Rule::compiled_regex`]).
    parsed: Parsed,
    /// Keywords: lower-cased, for the prefilter to match ASCII-case-insensitively, unless
    /// `case_sensitive_keywords`, then as written and matched exactly.
    pub keywords: Vec<String>,
    /// See [`RuleSpec::case_sensitive_keywords`].
    pub case_sensitive_keywords: bool,
    pub min_entropy: Option<f64>,
    pub allow: Vec<RuleRegex>,
    /// Stopwords, lower-cased.
    pub stopwords: Vec<String>,
    /// The paths the rule is for, matched against the path of the content scanned.
    pub path: Option<PathRegex>,
    pub multiline: bool,
    /// For a multi-line rule, how far from a keyword hit its regex looks, either side (see
    /// [`RuleSpec::multiline_reach`]).
    pub multiline_reach: usize,
    /// Context literals, lower-cased.
    pub context: Vec<String>,
    pub context_required: bool,
    pub priority: i32,
    pub remediation: Option<String>,
    /// Findings are identifiers, shown in full even when redacting (see [`RuleSpec::identifier`]).
    pub identifier: bool,
    /// How the secret group is written, if encoded ([`RuleSpec::decode`]).
    pub decode: Option<SecretEncoding>,
    /// See [`RuleSpec::max_per_file`].
    pub max_per_file: Option<usize>,
    pub examples: Vec<String>,
    pub negative_examples: Vec<String>,
    /// Where the rule came from: a file name, `<builtin>/x.toml` or `<config>`.
    pub origin: String,
}

/// A parsed regex waiting to be compiled: [`Rule::shape`] parses a built-in rule's regex on first
/// use and the scan compiles it right after, if a window passes the checks the shape allows.
/// Compiling from that parse instead of from the pattern spares parsing it twice (callgrind, tree
/// scan of 118 MB of crate sources: 15 M of the 70 M instructions the regexes took to compile).
/// A rule whose regex is never compiled keeps its parse, a few kilobytes; a copy of a rule starts
/// without one.
#[derive(Default)]
struct Parsed(std::sync::Mutex<Option<regex_syntax::hir::Hir>>);

impl Parsed {
    fn put(&self, hir: regex_syntax::hir::Hir) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(hir);
        }
    }

    fn take(&self) -> Option<regex_syntax::hir::Hir> {
        self.0.lock().ok()?.take()
    }
}

impl Clone for Parsed {
    fn clone(&self) -> Parsed {
        Parsed::default()
    }
}

impl fmt::Debug for Parsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Parsed")
    }
}

/// A rule's regex (or allow-list regex), validated when the rule is loaded and compiled when a scan first needs it.
///
/// Compiling the default pack's regexes is nearly all of credsweep's start-up (measured with
/// callgrind: 88% of `credsweep rules list`, about 19 ms of a 31 ms `credsweep staged`), and a
/// pre-commit run over one small file needs the regexes of only the few rules whose keywords it
/// contains. Loading parses each pattern (syntax errors and a missing `secret` group are load
/// errors); user rules are also measured at load by compiling them with the same engine and
/// settings (`compiled_size`), so that nothing they can write fails later. The built-in pack is
/// compiled in full by its tests.
#[derive(Debug, Clone)]
pub struct RuleRegex {
    pattern: String,
    unicode: bool,
    limits: Limits,
    compiled: OnceLock<Result<meta::Regex, String>>,
    /// The same regex with literal prefilters, for searches of a whole large buffer
    /// ([`RuleRegex::get_wide`]); compiled only if one happens.
    wide: OnceLock<Option<meta::Regex>>,
}

impl RuleRegex {
    fn new(pattern: &str, unicode: bool, limits: Limits) -> RuleRegex {
        RuleRegex {
            pattern: pattern.to_string(),
            unicode,
            limits,
            compiled: OnceLock::new(),
            wide: OnceLock::new(),
        }
    }

    /// The compiled regex; `None` if it does not compile (the rule then matches nothing, and
    /// [`RuleSet::broken`] names it, so the scan is known to be incomplete). Only a broken
    /// built-in rule can get there: user rules compile at load.
    pub fn get(&self) -> Option<&meta::Regex> {
        self.compile().ok()
    }

    /// The regex built for a search over a long stretch of input (a whole buffer whose keyword
    /// hits were too many to keep, or cover most of it): the same automata, with the literal
    /// prefilters `rule_regex_config` leaves out, so that the search skips to where a literal
    /// of the pattern is (memchr, Teddy, or a literal inside the pattern searched first and the
    /// match found backwards from it). Over a long stretch that is several times faster for
    /// rules such as `url-credentials` (`://`); over a few lines it is set-up for nothing.
    /// Compiled on first use; [`RuleRegex::get`] where it does not compile.
    pub fn get_wide(&self) -> Option<&meta::Regex> {
        let wide = self.wide.get_or_init(|| {
            self.compile().ok()?;
            build(&self.pattern, self.unicode, self.limits, true).ok()
        });
        wide.as_ref().or_else(|| self.get())
    }

    /// Why the regex did not compile, once something needed it; `None` if it compiled or was
    /// never needed.
    pub fn failure(&self) -> Option<&str> {
        self.compiled.get()?.as_ref().err().map(String::as_str)
    }

    /// Compiles now (once); the error says why not.
    fn compile(&self) -> Result<&meta::Regex, &str> {
        self.compiled
            .get_or_init(|| build_regex(&self.pattern, self.unicode, self.limits))
            .as_ref()
            .map_err(String::as_str)
    }

    pub fn as_str(&self) -> &str {
        &self.pattern
    }
}

/// A rule's `path` filter: its regex, compiled on first use, behind a check of the literal endings
/// a matching path must have.
///
/// A rule with a `path` and no keywords is tested against every path scanned, so a filter that
/// compiled on first use would be compiled by the first file of nearly any scan: the default
/// pack's thirteen such filters took 15 million instructions to compile (callgrind), more than
/// the rest of a one-file `credsweep staged`. Most filters end in `$` after literals
/// (`\.sql$`, `\.pgpass$`): parsing one (far cheaper than compiling it) gives the endings a
/// matching path must have, and a path with none of them is refused without the regex.
///
/// The endings are kept in ASCII lower case, each once, and compared without regard to ASCII
/// case: a case-insensitive filter's literal endings are every case variant of each (`(?i)\.sql$`
/// gave sixteen, and the `.env` filter hundreds), which made the check one `memcmp` per variant
/// per file and rule, 5% of a tree scan. A looser check is still only a first check: the regex
/// decides what passes it.
#[derive(Debug, Clone)]
pub struct PathRegex {
    regex: RuleRegex,
    /// The endings, parsed on first use; `None` where the pattern does not fix them.
    endings: OnceLock<Option<Vec<Vec<u8>>>>,
    /// The endings of an ASCII path ([`ascii_path_endings`]), parsed on first use.
    ascii_endings: OnceLock<Option<Vec<Vec<u8>>>>,
}

impl PathRegex {
    fn new(regex: RuleRegex) -> PathRegex {
        PathRegex {
            regex,
            endings: OnceLock::new(),
            ascii_endings: OnceLock::new(),
        }
    }

    /// Whether `path` matches the filter; `false` if the regex does not compile (only a broken
    /// built-in rule: [`RuleSet::broken`] then names it).
    pub fn is_match(&self, path: &[u8]) -> bool {
        if let Some(endings) = self.endings(path.is_ascii())
            && !endings.iter().any(|e| ends_with_ignore_ascii_case(path, e))
        {
            return false;
        }
        self.regex_is_match(path)
    }

    /// The literals, in ASCII lower case, every path the filter matches ends with one of,
    /// without regard to ASCII case: of an ASCII path if `ascii`, else of any path. `None` where
    /// the pattern does not fix them. Parsed on first use.
    pub(crate) fn endings(&self, ascii: bool) -> Option<&[Vec<u8>]> {
        let (pattern, unicode) = (self.regex.as_str(), self.regex.unicode);
        let endings = if ascii {
            (self.ascii_endings).get_or_init(|| ascii_path_endings(pattern, unicode))
        } else {
            (self.endings).get_or_init(|| path_endings(pattern, unicode, LITERALS))
        };
        endings.as_deref()
    }

    /// [`PathRegex::is_match`] without the check of the endings: for a caller that made it.
    pub fn regex_is_match(&self, path: &[u8]) -> bool {
        self.regex.get().is_some_and(|re| re.is_match(path))
    }

    /// The compiled regex ([`RuleRegex::get`]).
    pub fn get(&self) -> Option<&meta::Regex> {
        self.regex.get()
    }

    pub fn as_str(&self) -> &str {
        self.regex.as_str()
    }
}

/// The most literals the endings of a filter are extracted as (the regex parser's default).
const LITERALS: usize = 250;

/// The endings an ASCII path that matches `pattern` must have, without regard to ASCII case.
///
/// A case-insensitive pattern has too many case variants of its endings for the parser to list
/// (with Unicode, the long s and the Kelvin sign fold to `s` and `k` too): the default pack's
/// two filters with the most alternatives had none, and ran their regex on every path of a scan
/// (5% of the instructions of `dir` on crate sources). On an ASCII path, an ASCII pattern parsed
/// without Unicode matches as it does with it (case folding adds to a class only characters that
/// fold to its own, and the path has no others), and its case-insensitive letters can be taken
/// in lower case ([`lower_case_letters`]): its endings are listed, and are a few. A pattern that
/// is not ASCII, or does not parse without Unicode, gets its Unicode endings.
fn ascii_path_endings(pattern: &str, unicode: bool) -> Option<Vec<Vec<u8>>> {
    if pattern.is_ascii()
        && let Ok(hir) = parse_hir(pattern, false)
    {
        return hir_endings(&lower_case_letters(&hir), LITERALS);
    }
    path_endings(pattern, unicode, LITERALS)
}

/// `hir` with each class of one ASCII letter in both cases (what a case-insensitive letter
/// parses to) made the lower-case letter. Whatever ASCII string `hir` matches, the string with
/// those letters in lower case is matched by the result: every ending of the result, compared
/// without regard to ASCII case, is one of `hir`'s, and there are no case variants to list.
fn lower_case_letters(hir: &regex_syntax::hir::Hir) -> regex_syntax::hir::Hir {
    use regex_syntax::hir::{Capture, Class, Hir, HirKind, Repetition};
    let letter = |a: u32, b: u32| {
        let (a, b) = (u8::try_from(a).ok()?, u8::try_from(b).ok()?);
        (a.is_ascii_alphabetic() && a != b && a.eq_ignore_ascii_case(&b))
            .then(|| a.to_ascii_lowercase())
    };
    let one_letter = |ranges: Vec<(u32, u32)>| match ranges[..] {
        [(a, a2), (b, b2)] if a == a2 && b == b2 => letter(a, b),
        _ => None,
    };
    match hir.kind() {
        HirKind::Class(Class::Bytes(c)) => one_letter(
            c.ranges()
                .iter()
                .map(|r| (u32::from(r.start()), u32::from(r.end())))
                .collect(),
        )
        .map_or_else(|| hir.clone(), |l| Hir::literal([l])),
        HirKind::Class(Class::Unicode(c)) => one_letter(
            c.ranges()
                .iter()
                .map(|r| (u32::from(r.start()), u32::from(r.end())))
                .collect(),
        )
        .map_or_else(|| hir.clone(), |l| Hir::literal([l])),
        HirKind::Concat(subs) => Hir::concat(subs.iter().map(lower_case_letters).collect()),
        HirKind::Alternation(subs) => {
            Hir::alternation(subs.iter().map(lower_case_letters).collect())
        }
        HirKind::Repetition(r) => Hir::repetition(Repetition {
            sub: Box::new(lower_case_letters(&r.sub)),
            ..r.clone()
        }),
        HirKind::Capture(c) => Hir::capture(Capture {
            sub: Box::new(lower_case_letters(&c.sub)),
            ..c.clone()
        }),
        _ => hir.clone(),
    }
}

/// Whether `path` ends with `ending` (ASCII lower case), whatever the ASCII case of `path`.
fn ends_with_ignore_ascii_case(path: &[u8], ending: &[u8]) -> bool {
    path.len() >= ending.len() && path[path.len() - ending.len()..].eq_ignore_ascii_case(ending)
}

/// The literals every match of `pattern` ends with one of, without regard to ASCII case, if every
/// match ends where the haystack does (a `$` after literals): a haystack that ends in none of
/// them has no match. In ASCII lower case, each once, and none that ends with another (a path
/// that ends with the longer one ends with the shorter). `None` when the pattern does not fix
/// them (no `$`, a class too wide to list, an empty ending).
/// At most `limit` literals are listed before case folding.
fn path_endings(pattern: &str, unicode: bool, limit: usize) -> Option<Vec<Vec<u8>>> {
    hir_endings(&parse_hir(pattern, unicode).ok()?, limit)
}

/// [`path_endings`] of a parsed pattern.
fn hir_endings(hir: &regex_syntax::hir::Hir, limit: usize) -> Option<Vec<Vec<u8>>> {
    use regex_syntax::hir::Look;
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    if !hir.properties().look_set_suffix().contains(Look::End) {
        return None;
    }
    let seq = Extractor::new()
        .kind(ExtractKind::Suffix)
        .limit_total(limit)
        .extract(hir);
    let literals = seq.literals()?;
    if literals.is_empty() || literals.iter().any(|l| l.as_bytes().is_empty()) {
        return None;
    }
    let mut endings: Vec<Vec<u8>> = literals
        .iter()
        .map(|l| l.as_bytes().to_ascii_lowercase())
        .collect();
    // Shortest first, so that each is kept only if no shorter one it ends with was.
    endings.sort_unstable_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
    let mut kept: Vec<Vec<u8>> = Vec::new();
    for e in endings {
        if !kept.iter().any(|k| e.ends_with(k)) {
            kept.push(e);
        }
    }
    Some(kept)
}

/// Parses `pattern` as the regex crate will (bytes, Unicode as asked) and returns the index of
/// its `secret` group.
fn parse_pattern(pattern: &str, unicode: bool) -> Result<Option<usize>, String> {
    Ok(find_capture(&parse_hir(pattern, unicode)?, "secret"))
}

/// Parses `pattern` as the regex crate will: bytes, Unicode as asked.
fn parse_hir(pattern: &str, unicode: bool) -> Result<regex_syntax::hir::Hir, String> {
    regex_syntax::ParserBuilder::new()
        .unicode(unicode)
        .utf8(false)
        .build()
        .parse(pattern)
        .map_err(|e| e.to_string())
}

fn find_capture(hir: &regex_syntax::hir::Hir, name: &str) -> Option<usize> {
    use regex_syntax::hir::HirKind;
    match hir.kind() {
        HirKind::Capture(c) if c.name.as_deref() == Some(name) => Some(c.index as usize),
        HirKind::Capture(c) => find_capture(&c.sub, name),
        HirKind::Repetition(r) => find_capture(&r.sub, name),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => {
            subs.iter().find_map(|h| find_capture(h, name))
        }
        _ => None,
    }
}

const NO_SECRET_GROUP: &str =
    "`regex` has no named group `secret`: wrap the credential in (?P<secret>...)";

/// What the matcher needs from a rule's parsed regex besides the compiled regex itself.
#[derive(Debug, Clone)]
pub struct Shape {
    /// Index of the `secret` capture group in the rule's regex.
    pub secret_group: usize,
    /// Bytes every match of the regex contains, beyond the rule's keywords: a window without them
    /// is not searched ([`Required`]).
    pub required: Required,
    /// The run of bytes every secret of the regex is, where it fixes one worth checking: a window
    /// without such a run is not searched ([`SecretRun`]).
    pub secret_run: Option<SecretRun>,
    /// A string every match of the regex contains that none of the rule's keywords holds: where
    /// to look instead when a keyword floods a buffer ([`Anchor`]).
    pub anchor: Option<Anchor>,
}

impl Shape {
    /// Whether a search of `hay` from `start` may find a match with a secret: `hay[start..]`
    /// holds the bytes every match needs and a run the secret can be. If not, the regex need not
    /// run there.
    pub fn may_match_in(&self, hay: &[u8], start: usize) -> bool {
        self.required.found_in(&hay[start..])
            && self
                .secret_run
                .as_ref()
                .is_none_or(|run| run.found_in(hay, start))
    }

    /// Reads the shape from the parsed regex; fails without a `secret` group.
    fn of(
        hir: &regex_syntax::hir::Hir,
        keywords: &[String],
        folded: bool,
    ) -> Result<Shape, String> {
        let secret_group =
            find_capture(hir, "secret").ok_or_else(|| NO_SECRET_GROUP.to_string())?;
        Ok(Shape {
            secret_group,
            required: Required::of(hir, keywords, folded),
            secret_run: SecretRun::of(hir, secret_group as u32),
            anchor: Anchor::of(hir, keywords),
        })
    }
}

impl Rule {
    /// Whether the rule is part of the embedded default pack.
    pub fn is_builtin(&self) -> bool {
        self.origin.starts_with(BUILTIN_ORIGIN)
    }

    /// Where the secret is in a match of the rule's regex and which bytes every match needs;
    /// `None` if the regex does not parse or has no `secret` group (only a broken built-in rule:
    /// [`RuleSet::broken`] then names it). Parsed on first use for a built-in rule, so that
    /// loading the pack does not parse hundreds of regexes a scan may never run.
    pub fn shape(&self) -> Option<&Shape> {
        self.shape
            .get_or_init(|| {
                let hir = parse_hir(self.regex.as_str(), self.regex.unicode)
                    .map_err(|e| format!("`regex` does not compile:\n{e}"))?;
                let shape = Shape::of(&hir, &self.keywords, !self.case_sensitive_keywords);
                if shape.is_ok() && self.regex.compiled.get().is_none() {
                    self.parsed.put(hir);
                }
                shape
            })
            .as_ref()
            .ok()
    }

    /// The compiled regex ([`RuleRegex::get`]), compiled from the parse [`Rule::shape`] made if
    /// that is still at hand.
    pub fn compiled_regex(&self) -> Option<&meta::Regex> {
        let regex = &self.regex;
        regex
            .compiled
            .get_or_init(|| match self.parsed.take() {
                Some(hir) => build_regex_from_hir(&hir, regex.limits),
                None => build_regex(&regex.pattern, regex.unicode, regex.limits),
            })
            .as_ref()
            .ok()
    }

    /// Whether the rule's shape and regex are built (or known not to build): using it then costs
    /// no parsing or compiling.
    pub fn is_compiled(&self) -> bool {
        self.shape.get().is_some() && self.regex.compiled.get().is_some()
    }

    /// Parses and compiles every regex of the rule now (they are otherwise compiled when a scan
    /// first needs them); the first problem, if any.
    pub fn compile_all(&self) -> Result<(), String> {
        self.shape();
        for re in std::iter::once(&self.regex)
            .chain(&self.allow)
            .chain(self.path.as_ref().map(|p| &p.regex))
        {
            re.compile()?;
        }
        match self.shape.get() {
            Some(Err(e)) => Err(e.clone()),
            _ => Ok(()),
        }
    }

    /// Why some regex of the rule could not be used, once something needed it.
    /// A regex that does not parse fails to compile too: it is named once.
    fn failures(&self) -> impl Iterator<Item = &str> {
        let shape = self
            .shape
            .get()
            .and_then(|s| s.as_ref().err().map(String::as_str))
            .filter(|_| self.regex.failure().is_none());
        shape.into_iter().chain(
            std::iter::once(&self.regex)
                .chain(&self.allow)
                .chain(self.path.as_ref().map(|p| &p.regex))
                .filter_map(RuleRegex::failure),
        )
    }
}

/// A rule file could not be used. Names the file, the rule (when known) and the problem.
#[derive(Debug, Clone)]
pub struct RuleError {
    pub origin: String,
    pub rule: Option<String>,
    pub problem: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.rule {
            Some(id) => write!(f, "{}: rule `{}`: {}", self.origin, id, self.problem),
            None => write!(f, "{}: {}", self.origin, self.problem),
        }
    }
}

impl std::error::Error for RuleError {}

/// All rules in force for a scan, in a fixed order (their index is their [`RuleIdx`]).
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    /// What the compiled regexes of the rules that are not built in take, in bytes (see
    /// [`USER_REGEX_BUDGET`]).
    user_regex_bytes: usize,
}

/// The position of a rule in its [`RuleSet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleIdx(pub u32);

impl RuleSet {
    /// A SHA-256 over everything in the rules that decides what they match and what a finding
    /// of theirs says: each rule's id, severity, provider, regex (with its Unicode mode and
    /// compile limits), secret group, keywords, entropy, allow regexes, stopwords, path filter,
    /// multi-line settings, context, priority, secret decoding and per-file limit, in order. Two
    /// rule sets with one digest find the same secrets in any input; descriptions, remediation
    /// texts and examples are left out.
    /// What a cache of clean content is keyed on.
    pub fn matching_digest(&self) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        let mut field = |s: &[u8]| {
            h.update((s.len() as u64).to_le_bytes());
            h.update(s);
        };
        let regex = |r: &RuleRegex| format!("{}\0{}\0{:?}", r.pattern, r.unicode, r.limits);
        field(&(self.rules.len() as u64).to_le_bytes());
        for r in &self.rules {
            field(r.id.as_bytes());
            field(r.severity.as_str().as_bytes());
            field(r.provider.as_deref().unwrap_or("\0").as_bytes());
            // The secret group and the required bytes follow from the regex and the keywords.
            field(regex(&r.regex).as_bytes());
            field(&(r.keywords.len() as u64).to_le_bytes());
            for k in &r.keywords {
                field(k.as_bytes());
            }
            field(&[u8::from(r.case_sensitive_keywords)]);
            field(&r.min_entropy.map_or(u64::MAX, f64::to_bits).to_le_bytes());
            field(&(r.allow.len() as u64).to_le_bytes());
            for a in &r.allow {
                field(regex(a).as_bytes());
            }
            field(&(r.stopwords.len() as u64).to_le_bytes());
            for s in &r.stopwords {
                field(s.as_bytes());
            }
            field(r.path.as_ref().map_or("\0", |p| p.as_str()).as_bytes());
            field(&[
                u8::from(r.multiline),
                u8::from(r.context_required),
                u8::from(r.identifier),
            ]);
            field(&(r.multiline_reach as u64).to_le_bytes());
            field(&(r.context.len() as u64).to_le_bytes());
            for c in &r.context {
                field(c.as_bytes());
            }
            field(&r.priority.to_le_bytes());
            field(r.decode.map_or("\0", SecretEncoding::as_str).as_bytes());
            field(&(r.max_per_file.map_or(u64::MAX, |n| n as u64)).to_le_bytes());
        }
        h.finalize().into()
    }

    /// The embedded default pack.
    pub fn builtin() -> Result<RuleSet, RuleError> {
        let mut set = RuleSet::default();
        let mut ids = HashSet::new();
        for (name, values) in embedded::FILES {
            let origin = format!("{BUILTIN_ORIGIN}{name}");
            let file = RuleFile::deserialize(*values).map_err(|e| RuleError {
                origin: origin.clone(),
                rule: None,
                problem: format!("not a valid rule file: {}", without_values(&e.to_string())),
            })?;
            for spec in file.rule {
                set.add_spec_with_ids(&origin, spec, Some(&mut ids))?;
            }
        }
        Ok(set)
    }

    /// Parses `text` (the contents of `origin`) and adds its rules. Fails on TOML errors, invalid
    /// regexes, a missing `secret` group and ids that are already taken.
    pub fn add_toml(&mut self, origin: &str, text: &str) -> Result<(), RuleError> {
        let file: RuleFile = toml::from_str(text).map_err(|e| RuleError {
            origin: origin.to_string(),
            rule: None,
            // The message and the line, not toml's rendering, which quotes the line: rule files
            // hold example credentials, and errors go to stderr and CI logs.
            problem: format!(
                "not a valid rule file{}: {}",
                e.span()
                    .map(|s| format!(
                        " (line {})",
                        memchr::memchr_iter(b'\n', &text.as_bytes()[..s.start.min(text.len())])
                            .count()
                            + 1
                    ))
                    .unwrap_or_default(),
                without_values(e.message())
            ),
        })?;
        self.add_file(origin, file)
    }

    fn add_file(&mut self, origin: &str, file: RuleFile) -> Result<(), RuleError> {
        for spec in file.rule {
            self.add_spec(origin, spec)?;
        }
        Ok(())
    }

    /// Validates and compiles one rule and adds it. A rule that is not built in must stay within
    /// the compiled-size bounds ([`USER_REGEX_SIZE_LIMIT`], [`USER_REGEX_BUDGET`]).
    pub fn add_spec(&mut self, origin: &str, spec: RuleSpec) -> Result<(), RuleError> {
        self.add_spec_with_ids(origin, spec, None)
    }

    /// [`RuleSet::add_spec`]; `ids`, if given, holds the id of every rule in the set and gains
    /// the new rule's: a taken id is looked up there instead of compared with every rule's (for
    /// the default pack, 72 thousand comparisons, 3% of `credsweep dir` over an empty directory).
    fn add_spec_with_ids(
        &mut self,
        origin: &str,
        spec: RuleSpec,
        ids: Option<&mut HashSet<String>>,
    ) -> Result<(), RuleError> {
        let mut spent = self.user_regex_bytes;
        let rule = compile(origin, spec, &mut spent)?;
        let taken = match ids {
            Some(ids) => !ids.insert(rule.id.clone()),
            None => self.rules.iter().any(|r| r.id == rule.id),
        };
        if taken {
            let first = &self.rules.iter().find(|r| r.id == rule.id).unwrap().origin;
            // The error names `origin` already: name the first file only when it is another one.
            let problem = if first == origin {
                "duplicate rule id (defined twice in this file); rule ids must be unique"
                    .to_string()
            } else {
                format!("duplicate rule id (already defined in {first}); rule ids must be unique")
            };
            return Err(RuleError {
                origin: origin.to_string(),
                rule: Some(rule.id),
                problem,
            });
        }
        self.rules.push(rule);
        self.user_regex_bytes = spent;
        Ok(())
    }

    /// Removes the rules whose id is in `ids`; returns the ids that named no rule.
    pub fn remove(&mut self, ids: &[String]) -> Vec<String> {
        let unknown = ids
            .iter()
            .filter(|id| !self.rules.iter().any(|r| &r.id == *id))
            .cloned()
            .collect();
        self.rules.retain(|r| !ids.contains(&r.id));
        unknown
    }

    /// The rules a scan could not apply in full: a regex (the rule's or one of its allow
    /// regexes) that did not compile when first needed, with why. A scan that leaves one here
    /// is incomplete.
    pub fn broken(&self) -> Vec<(&str, &str)> {
        self.rules
            .iter()
            .flat_map(|r| r.failures().map(|e| (r.id.as_str(), e)))
            .collect()
    }

    /// Parses and compiles every regex of every rule now, as `rules check` does (a scan compiles
    /// a rule's regexes on first use); the rules that failed, with why ([`RuleSet::broken`]).
    pub fn compile_all(&self) -> Vec<(&str, &str)> {
        for r in &self.rules {
            // The failure stays recorded in the rule, where `broken` reads it.
            let _ = r.compile_all();
        }
        self.broken()
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn rules_mut(&mut self) -> &mut [Rule] {
        &mut self.rules
    }

    pub fn get(&self, idx: RuleIdx) -> &Rule {
        &self.rules[idx.0 as usize]
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn find(&self, id: &str) -> Option<RuleIdx> {
        self.rules
            .iter()
            .position(|r| r.id == id)
            .map(|i| RuleIdx(i as u32))
    }
}

/// Whether `id` is a rule id: lower-case ASCII letters, digits and dashes, no dash at either end.
pub fn is_kebab_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-')
}

/// How far from a keyword hit a multi-line rule's regex looks by default, either side.
pub const DEFAULT_MULTILINE_REACH: usize = 4 * 1024;

/// The most a rule may set `multiline_reach` to: past this a window is most of a typical file.
pub const MAX_MULTILINE_REACH: usize = 256 * 1024;

/// Keywords shorter than this occur nearly everywhere: they gate nothing and slow the prefilter.
pub const MIN_KEYWORD_LEN: usize = 3;

/// Bounds on compiled regex size for the built-in pack: generous, and the pack is known.
const REGEX_SIZE_LIMIT: usize = 32 * 1024 * 1024;

/// The most one compiled regex of a rule that is not built in may take (its NFA, forward or
/// reverse): far above what a real credential pattern needs (the largest built-in regex takes
/// well under 1 MiB), far below what `(?P<secret>\w{600})` with Unicode takes (about 35 MiB).
pub const USER_REGEX_SIZE_LIMIT: usize = 4 << 20;

/// The lazy DFA cache of one regex of a rule that is not built in, per scanning thread.
pub const USER_REGEX_DFA_LIMIT: usize = 1 << 20;

/// The most the compiled regexes of all rules that are not built in (from `--rules` files and
/// configurations, a repository's own among them) may take together, measured as the regex
/// engine reports it: fifteen times what the whole built-in pack takes (about 4 MiB). Rules are compiled one by one as they load, so memory stays within this
/// plus one regex whatever a configuration holds.
pub const USER_REGEX_BUDGET: usize = 64 << 20;

/// Which compile-size bounds a regex gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Limits {
    Builtin,
    User,
}

/// The engine settings of a rule's regex: those of `regex::bytes::Regex` (leftmost-first, empty
/// matches anywhere, patterns over bytes), without two things the engine builds by default that a
/// rule's search never gains from, which were half of compiling the default pack (callgrind: 514 M
/// instructions with the `regex` crate's settings, 253 M with these):
/// - literal prefilters (`auto_prefilter`): a rule's regex runs on the lines around its keyword
///   hits, found by the keyword pass already, so a search is short and starts next to its match;
/// - the one-pass DFA (`onepass`), one of the engines that resolve capture groups inside a match
///   once it is found: the bounded backtracker does that as well for a match of a few hundred
///   bytes, and matches are rare;
/// - the full DFAs (`dfa`), forward and reverse, determinized in full when the regex is small:
///   the lazy DFA builds the states a search visits, and a rule's search visits few (callgrind,
///   tree scan of 118 MB of crate sources: 3.3 M fewer instructions of 902 M, the regexes' build
///   5% cheaper, their searches no dearer).
///
/// Neither changes what matches: the same automata decide.
///
/// [`RuleRegex::get_wide`] builds the prefilters back (`prefilter`) for the rare search over a
/// whole large buffer.
fn rule_regex_config(limits: Limits, prefilter: bool) -> meta::Config {
    let (nfa, dfa) = match limits {
        Limits::Builtin => (REGEX_SIZE_LIMIT, REGEX_SIZE_LIMIT),
        Limits::User => (USER_REGEX_SIZE_LIMIT, USER_REGEX_DFA_LIMIT),
    };
    meta::Config::new()
        .match_kind(regex_automata::MatchKind::LeftmostFirst)
        .utf8_empty(false)
        .nfa_size_limit(Some(nfa))
        .hybrid_cache_capacity(dfa)
        .auto_prefilter(prefilter)
        .onepass(false)
        .dfa(false)
}

/// Compiles a rule's regex (or one of its allow-list or path regexes) with [`rule_regex_config`].
fn build_regex(pattern: &str, unicode: bool, limits: Limits) -> Result<meta::Regex, String> {
    build(pattern, unicode, limits, false)
}

/// [`build_regex`], with literal prefilters if `prefilter`.
fn build(
    pattern: &str,
    unicode: bool,
    limits: Limits,
    prefilter: bool,
) -> Result<meta::Regex, String> {
    use regex_automata::util::syntax;
    meta::Builder::new()
        .configure(rule_regex_config(limits, prefilter))
        .syntax(syntax::Config::new().unicode(unicode).utf8(false))
        .build(pattern)
        .map_err(|e| {
            if let Some(syntax) = e.syntax_error() {
                syntax.to_string()
            } else if let (Some(limit), Limits::User) = (e.size_limit(), limits) {
                too_big(limit)
            } else {
                e.to_string()
            }
        })
}

/// [`build_regex`] from `pattern` parsed already, with the same settings ([`parse_hir`]).
fn build_regex_from_hir(
    hir: &regex_syntax::hir::Hir,
    limits: Limits,
) -> Result<meta::Regex, String> {
    meta::Builder::new()
        .configure(rule_regex_config(limits, false))
        .build_from_hir(hir)
        .map_err(|e| match (e.size_limit(), limits) {
            (Some(limit), Limits::User) => too_big(limit),
            _ => e.to_string(),
        })
}

/// What `pattern` takes compiled as a rule regex that is not built in, in bytes: the same engine
/// and settings [`build_regex`] uses, measured, then dropped. Fails as compiling it would.
fn compiled_size(pattern: &str, unicode: bool) -> Result<usize, String> {
    Ok(build_regex(pattern, unicode, Limits::User)?.memory_usage())
}

fn too_big(limit: usize) -> String {
    format!(
        "the compiled regex would take more than {} MiB, the most a rule that is not built in may \
         take: shorten its repetitions (`{{600}}`) or turn off `unicode`",
        limit >> 20
    )
}

/// Measures `pattern` ([`compiled_size`]) and adds it to `spent`, unless that would pass
/// [`USER_REGEX_BUDGET`].
fn charge(spent: &mut usize, pattern: &str, unicode: bool) -> Result<(), String> {
    let n = compiled_size(pattern, unicode)?;
    if spent.saturating_add(n) > USER_REGEX_BUDGET {
        return Err(format!(
            "the rules that are not built in would take more than {} MiB of compiled regexes \
             together (this one: {} KiB): use fewer or simpler rules",
            USER_REGEX_BUDGET >> 20,
            n >> 10
        ));
    }
    *spent += n;
    Ok(())
}

/// Why a pattern from a configuration (an allow-list regex or glob, an `--exclude` glob) was
/// refused. A regex's error never quotes it: an allow-list regex may spell out the secret it
/// allows, and errors go to terminals and CI logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError(pub String);

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PatternError {}

/// Compiles a regex that is not part of a rule but comes from a configuration (its allow-lists)
/// with the bounds of a user rule: measured against `spent` as [`USER_REGEX_BUDGET`] allows, and
/// an error that does not quote it.
pub fn build_config_regex(pattern: &str, spent: &mut usize) -> Result<Regex, PatternError> {
    let refused = || PatternError(regex_error_without_pattern(pattern, true));
    parse_pattern(pattern, true).map_err(|_| refused())?;
    charge(spent, pattern, true).map_err(PatternError)?;
    RegexBuilder::new(pattern)
        .size_limit(USER_REGEX_SIZE_LIMIT)
        .dfa_size_limit(USER_REGEX_DFA_LIMIT)
        .build()
        .map_err(|_| refused())
}

/// Why `pattern` does not compile, without quoting it: an allow-list regex may hold the very
/// secret it allows, and errors go to terminals and CI logs. The parser's reason and the
/// character it stopped at, or the size bound it passed.
pub fn regex_error_without_pattern(pattern: &str, unicode: bool) -> String {
    let parsed = regex_syntax::ParserBuilder::new()
        .unicode(unicode)
        .utf8(false)
        .build()
        .parse(pattern);
    match parsed {
        Err(regex_syntax::Error::Parse(e)) => {
            format!("{} (at character {})", e.kind(), e.span().start.column)
        }
        Err(regex_syntax::Error::Translate(e)) => {
            format!("{} (at character {})", e.kind(), e.span().start.column)
        }
        Err(_) => "invalid regex syntax".to_string(),
        Ok(_) => too_big(USER_REGEX_SIZE_LIMIT),
    }
}

fn compile(origin: &str, spec: RuleSpec, spent: &mut usize) -> Result<Rule, RuleError> {
    // An id that is not kebab-case is not named: it may be anything, a credential included.
    let kebab = is_kebab_id(&spec.id);
    let err = |problem: String| RuleError {
        origin: origin.to_string(),
        rule: kebab.then(|| spec.id.clone()),
        problem,
    };
    if !kebab {
        return Err(err(
            "a rule id is not kebab-case: ids are lower-case letters, digits and `-`".to_string(),
        ));
    }
    let limits = if origin.starts_with(BUILTIN_ORIGIN) {
        Limits::Builtin
    } else {
        Limits::User
    };
    if spec.description.trim().is_empty() {
        return Err(err("`description` is empty".to_string()));
    }
    // A rule that is not built in is parsed and measured here, so that its errors name it and its
    // file before any scanning; measuring compiles the pattern with the engine and settings of
    // `build_regex`, so a pattern that passes is known to compile. The regex itself is compiled
    // when a scan first needs it: most rules of a large pack never meet their keyword in a given
    // scan (measured: 200 user rules added 32 ms to start-up compiled twice). A built-in rule is
    // not even parsed here (its shape is read on first use, [`Rule::shape`]): parsing the whole
    // pack was most of a pre-commit run's time, and the pack's tests and `rules check` compile
    // every regex in it.
    let hir = if limits == Limits::User {
        let hir = parse_hir(&spec.regex, spec.unicode)
            .map_err(|e| err(format!("`regex` does not compile:\n{e}")))?;
        if find_capture(&hir, "secret").is_none() {
            return Err(err(NO_SECRET_GROUP.to_string()));
        }
        charge(spent, &spec.regex, spec.unicode).map_err(|e| err(format!("`regex`: {e}")))?;
        Some(hir)
    } else {
        None
    };
    let regex = RuleRegex::new(&spec.regex, spec.unicode, limits);
    let mut keywords = Vec::new();
    let mut seen = HashSet::new();
    for k in &spec.keywords {
        if k.len() < MIN_KEYWORD_LEN {
            return Err(err(format!(
                "keyword {k:?} is shorter than {MIN_KEYWORD_LEN} bytes: it would occur nearly everywhere and the \
                 rule's regex would run on everything; use a longer literal the match or its line must contain"
            )));
        }
        let k = if spec.case_sensitive_keywords {
            k.clone()
        } else {
            k.to_ascii_lowercase()
        };
        if seen.insert(k.clone()) {
            keywords.push(k);
        }
    }
    if keywords.is_empty() && spec.path.is_none() {
        // Such a rule's regex would run on every byte of every file and blob scanned: with a
        // pack of hundreds of rules, one of these can cost as much as all the others together.
        return Err(err(format!(
            "it has no `keywords` and no `path`: its regex would run on everything scanned; give \
             it `keywords` (literals its match or its line always contains, at least \
             {MIN_KEYWORD_LEN} bytes) or a `path` filter naming the files it is for"
        )));
    }
    let shape = OnceLock::new();
    if let Some(hir) = &hir {
        let _ = shape.set(Shape::of(hir, &keywords, !spec.case_sensitive_keywords));
    }
    let multiline_reach = match spec.multiline_reach {
        Some(_) if !spec.multiline => {
            return Err(err(
                "`multiline_reach` is set but `multiline` is not: only a multi-line rule has a reach"
                    .to_string(),
            ));
        }
        Some(r) if r == 0 || r > MAX_MULTILINE_REACH => {
            return Err(err(format!(
                "`multiline_reach` is {r}: it must be between 1 and {MAX_MULTILINE_REACH} bytes"
            )));
        }
        Some(r) => r,
        None => DEFAULT_MULTILINE_REACH,
    };
    if spec.max_per_file == Some(0) {
        return Err(err(
            "`max_per_file` is 0: a rule that reports nothing is no rule; give at least 1, or \
             leave it out to report every match"
                .to_string(),
        ));
    }
    if let Some(e) = spec.min_entropy
        && !(0.0..=8.0).contains(&e)
    {
        return Err(err(format!(
            "`min_entropy` is {e}: Shannon entropy per byte lies between 0 and 8"
        )));
    }
    let allow = spec
        .allow
        .iter()
        .enumerate()
        .map(|(i, a)| {
            // Not quoted: an allow regex may spell out the secret it allows.
            let bad = || {
                err(format!(
                    "`allow` regex {} does not compile: {}",
                    i + 1,
                    regex_error_without_pattern(a, spec.unicode)
                ))
            };
            let re = RuleRegex::new(a, spec.unicode, limits);
            if limits == Limits::User {
                parse_pattern(a, spec.unicode).map_err(|_| bad())?;
                charge(spent, a, spec.unicode).map_err(|e| err(format!("`allow`: {e}")))?;
                re.compile().map_err(|_| bad())?;
            }
            Ok(re)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let path = spec
        .path
        .as_deref()
        .map(|p| {
            let re = RuleRegex::new(p, true, limits);
            if limits == Limits::User {
                charge(spent, p, true).map_err(|e| err(format!("`path`: {e}")))?;
                re.compile()
                    .map_err(|e| err(format!("`path` regex does not compile:\n{e}")))?;
            }
            Ok(PathRegex::new(re))
        })
        .transpose()?;
    Ok(Rule {
        id: spec.id.clone(),
        description: spec.description.trim().to_string(),
        severity: spec.severity,
        provider: spec.provider,
        regex,
        shape,
        parsed: Parsed::default(),
        keywords,
        case_sensitive_keywords: spec.case_sensitive_keywords,
        min_entropy: spec.min_entropy,
        allow,
        stopwords: spec
            .stopwords
            .iter()
            .map(|s| s.to_ascii_lowercase())
            .collect(),
        path,
        multiline: spec.multiline,
        multiline_reach,
        context: spec
            .context
            .iter()
            .map(|s| s.to_ascii_lowercase())
            .collect(),
        context_required: spec.context_required,
        priority: spec.priority,
        remediation: spec.remediation,
        identifier: spec.identifier,
        decode: spec.decode,
        max_per_file: spec.max_per_file,
        examples: spec.examples,
        negative_examples: spec.negative_examples,
        origin: origin.to_string(),
    })
}

/// `message` with the values serde and toml quote left out: `invalid type: string "x", expected
/// a boolean` becomes `invalid type: string, expected a boolean`, `unknown variant `x`` becomes
/// `unknown value`, and any other double-quoted text `"…"`. Field names (`unknown field `x``)
/// stay: they name keys, not values.
pub fn without_values(message: &str) -> String {
    let msg = message.trim_end();
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = msg.strip_prefix(prefix) {
            let kind = rest.split([' ', ',']).next().unwrap_or("value");
            let expected = rest.rfind(", expected ").map_or("", |i| &rest[i..]);
            return format!("{prefix}{kind}{expected}");
        }
    }
    if msg.starts_with("unknown variant ") {
        let expected = msg.rfind(", expected ").map_or("", |i| &msg[i..]);
        return format!("unknown value{expected}");
    }
    let mut out = String::with_capacity(msg.len());
    let mut chars = msg.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '"' {
            let mut escaped = false;
            for q in chars.by_ref() {
                if escaped {
                    escaped = false;
                } else if q == '\\' {
                    escaped = true;
                } else if q == '"' {
                    break;
                }
            }
            out.push_str("…\"");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The [`SecretRun`] check of every built-in rule that has one, against its regex.
    mod secret_runs {
        use regex_automata::Input;

        use super::*;

        /// Whether some match of `re` found by searching `hay` from `start`, as the matcher does,
        /// has a non-empty secret.
        fn has_secret(
            re: &regex_automata::meta::Regex,
            group: usize,
            hay: &[u8],
            start: usize,
        ) -> bool {
            let mut caps = re.create_captures();
            let mut at = start;
            while at <= hay.len() {
                re.search_captures(&Input::new(hay).span(at..hay.len()), &mut caps);
                let Some(m) = caps.get_match() else {
                    return false;
                };
                if caps.get_group(group).is_some_and(|s| s.start < s.end) {
                    return true;
                }
                at = if m.end() > m.start() {
                    m.end()
                } else {
                    m.end() + 1
                };
            }
            false
        }

        use crate::test_rng::Rng;

        /// Lines of keywords, operators, quotes, blanks, line ends, runs of letters and digits of all
        /// lengths around the bounds, and the bytes the rules' classes leave out.
        fn line(rng: &mut Rng) -> Vec<u8> {
            const PIECES: &[&str] = &[
                "secret",
                "token",
                "API_KEY",
                "key",
                "credential",
                "export ",
                "- ",
                "password",
                "=",
                ":",
                ":=",
                "=>",
                " ",
                "\t",
                "\"",
                "'",
                "`",
                "\r",
                "\n",
                "\\",
                "$",
                "#",
                "{",
                "}",
                "(",
                ")",
                "<",
                ">",
                "[",
                "]",
                ";",
                ",",
                "|",
                "&",
                ".",
                "@",
                "/",
                "-",
                "_",
                "+",
                "%",
                "\0",
                "\u{e9}",
            ];
            let mut out = Vec::new();
            // Half the lines are assignments of a value, each part of which may be off: matches, and
            // near misses at every bound.
            if rng.below(2) == 0 {
                for part in [
                    &["", "  ", "- ", "export "][..],
                    &["secret", "token", "API_KEY", "private-key", "x"],
                    &["", "\"", " "],
                    &["=", ":", ":=", "=>", " "],
                    &["", " ", "\t"],
                    &["\"", "'", "`", ""],
                ] {
                    out.extend_from_slice(part[rng.below(part.len())].as_bytes());
                }
                let len = 10 + rng.below(5);
                for i in 0..len {
                    let piece = if rng.below(20) == 0 {
                        PIECES[rng.below(PIECES.len())]
                    } else {
                        ["a", "Z", "0", "9", "q", "7", "K", "/", "=", "+"][i % 10]
                    };
                    out.extend_from_slice(piece.as_bytes());
                }
                for part in [
                    &["\"", "'", "`", "", ";"][..],
                    &["", " ", "\r", ","],
                    &["", "\n"],
                ] {
                    out.extend_from_slice(part[rng.below(part.len())].as_bytes());
                }
                return out;
            }
            for _ in 0..rng.below(12) {
                if rng.below(3) == 0 {
                    let len = rng.below(20);
                    for _ in 0..len {
                        let alnum = b"aZ09xQk7fP3mWsT1";
                        out.push(alnum[rng.below(alnum.len())]);
                    }
                } else {
                    out.extend_from_slice(PIECES[rng.below(PIECES.len())].as_bytes());
                }
            }
            out
        }

        #[test]
        fn the_check_never_drops_a_window_with_a_secret_match() {
            let rules = RuleSet::builtin().unwrap();
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
            let mut checked = 0;
            for rule in rules.rules() {
                let shape = rule.shape().unwrap();
                let Some(run) = &shape.secret_run else {
                    continue;
                };
                checked += 1;
                let re = rule.regex.get().unwrap();
                let group = shape.secret_group;
                for example in &rule.examples {
                    assert!(
                        run.found_in(example.as_bytes(), 0),
                        "{}: {example}",
                        rule.id
                    );
                }
                let (mut kept, mut dropped) = (0, 0);
                for _ in 0..3000 {
                    let mut hay = Vec::new();
                    for _ in 0..1 + rng.below(3) {
                        hay.extend(line(&mut rng));
                    }
                    let start = rng.below(hay.len().min(4) + 1).min(hay.len());
                    let found = run.found_in(&hay, start);
                    if has_secret(re, group, &hay, start) {
                        assert!(
                            found,
                            "{}: {:?} from {start}",
                            rule.id,
                            hay.escape_ascii().to_string()
                        );
                        kept += 1;
                    } else if !found {
                        dropped += 1;
                    }
                }
                // The generated input exercises both outcomes for the generic rules.
                if rule.id.starts_with("generic-secret") {
                    assert!(kept > 0 && dropped > 0, "{}: {kept} {dropped}", rule.id);
                }
            }
            assert!(checked >= 2, "{checked}");
        }
    }

    #[test]
    fn a_regex_compiled_from_the_shapes_parse_matches_as_from_its_pattern() {
        let set = RuleSet::builtin().unwrap();
        for rule in set.rules() {
            rule.shape().unwrap();
            assert!(rule.parsed.0.lock().unwrap().is_some(), "{}", rule.id);
            let from_parse = rule.compiled_regex().unwrap();
            // Taken: the parse is not kept once compiled.
            assert!(rule.parsed.0.lock().unwrap().is_none(), "{}", rule.id);
            let regex = &rule.regex;
            let from_pattern = build_regex(&regex.pattern, regex.unicode, regex.limits).unwrap();
            for text in rule.examples.iter().chain(&rule.negative_examples) {
                let hay = text.as_bytes();
                let (mut a, mut b) = (from_parse.create_captures(), from_pattern.create_captures());
                from_parse.search_captures(&regex_automata::Input::new(hay), &mut a);
                from_pattern.search_captures(&regex_automata::Input::new(hay), &mut b);
                let groups = |c: &regex_automata::util::captures::Captures| {
                    (0..c.group_len())
                        .map(|g| c.get_group(g))
                        .collect::<Vec<_>>()
                };
                assert_eq!(groups(&a), groups(&b), "{}: {text}", rule.id);
            }
        }
    }

    fn one(text: &str) -> Result<RuleSet, RuleError> {
        let mut set = RuleSet::default();
        set.add_toml("t.toml", text)?;
        Ok(set)
    }

    #[test]
    fn a_regex_that_fails_to_compile_when_needed_is_reported_not_skipped_silently() {
        let mut set = RuleSet::builtin().unwrap();
        assert!(set.broken().is_empty());
        // Parses, but past any compiled-size limit: only found out when compiled.
        set.rules_mut()[0].regex =
            RuleRegex::new(r"(?P<secret>\w{1000}{1000})", true, Limits::Builtin);
        assert!(
            set.broken().is_empty(),
            "not compiled yet, not known broken"
        );
        assert!(set.rules()[0].regex.get().is_none());
        let broken = set.broken();
        assert_eq!(broken.len(), 1);
        assert_eq!(broken[0].0, set.rules()[0].id);
        assert!(!broken[0].1.is_empty());
        // `rules check` compiles every regex up front: a rule no scan has used yet is found too.
        set.rules_mut()[1].regex = RuleRegex::new(r"(?P<secret>x", true, Limits::Builtin);
        let id = set.rules()[1].id.clone();
        assert!(set.rules()[1].shape().is_none());
        let broken = set.compile_all();
        assert_eq!(broken.len(), 2, "{broken:?}");
        assert!(
            broken
                .iter()
                .any(|(r, e)| *r == id && e.contains("unclosed")),
            "{broken:?}"
        );
    }

    #[test]
    fn builtin_pack_loads_and_every_regex_compiles() {
        let set = RuleSet::builtin().unwrap();
        assert!(set.len() >= 60);
        for r in set.rules() {
            r.compile_all().unwrap_or_else(|e| panic!("{}: {e}", r.id));
            let re = r.regex.get().unwrap();
            assert_eq!(
                re.group_info()
                    .to_index(regex_automata::PatternID::ZERO, "secret"),
                Some(r.shape().unwrap().secret_group),
                "{}",
                r.id
            );
        }
        assert!(set.broken().is_empty());
        assert!(set.compile_all().is_empty());
    }

    #[test]
    fn wide_regexes_find_what_the_plain_ones_find() {
        let set = RuleSet::builtin().unwrap();
        // Every rule's examples and negative examples, one after another: matches of many rules
        // at many offsets, with text between that is nobody's match.
        let mut hay = String::new();
        for r in set.rules() {
            for e in r.examples.iter().chain(&r.negative_examples) {
                hay.push_str(e);
                hay.push_str("\nfiller line with words, 42 and a://b\n");
            }
        }
        let spans = |re: &meta::Regex| {
            re.find_iter(hay.as_bytes())
                .map(|m| m.range())
                .collect::<Vec<_>>()
        };
        let mut matched = 0;
        for r in set.rules() {
            let (plain, wide) = (r.regex.get().unwrap(), r.regex.get_wide().unwrap());
            assert!(!plain.get_config().get_auto_prefilter(), "{}", r.id);
            assert!(wide.get_config().get_auto_prefilter(), "{}", r.id);
            let found = spans(plain);
            assert_eq!(spans(wide), found, "{}", r.id);
            matched += usize::from(!found.is_empty());
        }
        assert!(matched * 2 > set.len(), "most rules match their examples");
    }

    #[test]
    fn the_embedded_values_are_the_rule_pack_as_written() {
        let mut from_toml = RuleSet::default();
        for (name, text) in DEFAULT_RULE_FILES {
            from_toml
                .add_toml(&format!("{BUILTIN_ORIGIN}{name}"), text)
                .unwrap();
        }
        let embedded = RuleSet::builtin().unwrap();
        assert_eq!(
            DEFAULT_RULE_FILES.iter().map(|f| f.0).collect::<Vec<_>>(),
            embedded::FILES.iter().map(|f| f.0).collect::<Vec<_>>()
        );
        assert_eq!(from_toml.matching_digest(), embedded.matching_digest());
        let shown = |s: &RuleSet| {
            s.rules()
                .iter()
                .map(|r| {
                    format!(
                        "{} {} {:?} {:?} {:?} {:?} {}",
                        r.id,
                        r.description,
                        r.remediation,
                        r.examples,
                        r.negative_examples,
                        r.provider,
                        r.origin
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(shown(&from_toml), shown(&embedded));
        // Every field of every rule, as loaded.
        assert_eq!(
            format!("{:?}", from_toml.rules()),
            format!("{:?}", embedded.rules())
        );
    }

    #[test]
    fn missing_secret_group_is_named() {
        let e =
            one("[[rule]]\nid='a-b'\ndescription='d'\nseverity='error'\nregex='x+'\n").unwrap_err();
        assert_eq!(e.rule.as_deref(), Some("a-b"));
        assert!(e.problem.contains("secret"), "{e}");
    }

    #[test]
    fn bad_regex_is_named() {
        let e = one("[[rule]]\nid='a'\ndescription='d'\nseverity='error'\nregex='(?P<secret>x('\n")
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("t.toml: rule `a`: `regex` does not compile"),
            "{e}"
        );
    }

    #[test]
    fn duplicate_id_is_an_error() {
        let r = "[[rule]]\nid='a'\ndescription='d'\nseverity='error'\nregex='(?P<secret>x)'\nkeywords=['xyz']\n";
        let e = one(&format!("{r}{r}")).unwrap_err();
        assert!(e.problem.contains("duplicate"), "{e}");
    }

    #[test]
    fn toml_error_names_file() {
        let e = one("[[rule]\nid=").unwrap_err();
        assert!(
            e.to_string().starts_with("t.toml: not a valid rule file"),
            "{e}"
        );
    }

    #[test]
    fn unknown_field_is_an_error() {
        let e = one("[[rule]]\nid='a'\ndescription='d'\nseverity='error'\nregex='(?P<secret>x)'\nregexp='y'\n")
            .unwrap_err();
        assert!(e.problem.contains("regexp"), "{e}");
    }

    #[test]
    fn decode_and_max_per_file_are_checked() {
        let r = "[[rule]]\nid='a'\ndescription='d'\nseverity='error'\nregex='(?P<secret>x)'\nkeywords=['xyz']\n";
        let set = one(&format!("{r}decode='base64'\nmax_per_file=2\n")).unwrap();
        assert_eq!(set.rules()[0].decode, Some(SecretEncoding::Base64));
        assert_eq!(set.rules()[0].max_per_file, Some(2));
        let e = one(&format!("{r}decode='rot13'\n")).unwrap_err();
        assert!(e.problem.contains("base64"), "{e}");
        let e = one(&format!("{r}max_per_file=0\n")).unwrap_err();
        assert!(e.problem.contains("`max_per_file` is 0"), "{e}");
    }

    fn spec(id: &str, regex: &str, unicode: bool) -> RuleSpec {
        toml::from_str(&format!(
            "id = '{id}'\ndescription = 'd'\nseverity = 'error'\nregex = '''{regex}'''\nunicode = {unicode}\nkeywords = ['key']\n"
        ))
        .unwrap()
    }

    #[test]
    fn a_huge_user_regex_is_refused_and_builtin_ones_are_small() {
        let mut set = RuleSet::default();
        let e = set
            .add_spec(
                "repo/.credsweep.toml",
                spec("big", r"(?P<secret>\w{600})", true),
            )
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("repo/.credsweep.toml: rule `big`"),
            "{e}"
        );
        assert!(e.problem.contains("more than 4 MiB"), "{e}");
        assert!(set.is_empty());
        // The built-in pack (nearly 400 rules) fits the bounds user rules get, four times over.
        let builtin = RuleSet::builtin().unwrap();
        let total: usize = builtin
            .rules()
            .iter()
            .map(|r| compiled_size(r.regex.as_str(), r.regex.unicode).unwrap())
            .sum();
        assert!(total < USER_REGEX_BUDGET / 4, "{total}");
    }

    #[test]
    fn user_regexes_share_one_budget() {
        let mut set = RuleSet::default();
        // Each fits the per-regex bound; together they pass the budget.
        let pattern = r"(?P<secret>\w{40})";
        let each = compiled_size(pattern, true).unwrap();
        assert!(each > 0 && each < USER_REGEX_SIZE_LIMIT * 2);
        let fits = USER_REGEX_BUDGET / each;
        let mut err = None;
        for i in 0..fits + 2 {
            if let Err(e) = set.add_spec("cfg.toml", spec(&format!("r{i}"), pattern, true)) {
                err = Some(e);
                break;
            }
        }
        let e = err.expect("the budget is reached");
        assert!(e.problem.contains("64 MiB"), "{e}");
        assert!(
            set.len() <= fits && set.len() + 2 >= fits,
            "{} of {fits}",
            set.len()
        );
        assert!(set.user_regex_bytes <= USER_REGEX_BUDGET);
    }

    #[test]
    fn allow_regex_errors_do_not_quote_the_pattern() {
        let mut s = spec("a", "(?P<secret>x)", false);
        s.allow = vec!["(sk_live_SECRETFAKE".to_string()];
        let e = RuleSet::default().add_spec("cfg.toml", s).unwrap_err();
        assert!(!e.to_string().contains("SECRETFAKE"), "{e}");
        assert!(e.problem.contains("unclosed group"), "{e}");
        let e = one("[[rule]]\nid='sk_live_SECRETFAKE'\ndescription='d'\nseverity='error'\nregex='(?P<secret>x)'\n")
            .unwrap_err();
        assert!(!e.to_string().contains("SECRETFAKE"), "{e}");
    }

    #[test]
    fn a_rule_with_neither_keywords_nor_path_is_rejected() {
        let r = "[[rule]]\nid='runs-everywhere'\ndescription='d'\nseverity='error'\nregex='(?P<secret>[a-z]{12})'\n";
        let e = one(r).unwrap_err().to_string();
        assert!(e.contains("rule `runs-everywhere`"), "{e}");
        assert!(e.contains("no `keywords` and no `path`"), "{e}");
        assert!(one(&format!("{r}keywords=[]\n")).is_err());
        // A path filter alone is enough: the rule runs only on the files it names.
        assert!(one(&format!("{r}path='(^|/)\\.pgpass$'\n")).is_ok());
        assert!(one(&format!("{r}keywords=['abc']\n")).is_ok());
    }

    #[test]
    fn the_default_pack_has_no_rule_that_runs_on_everything() {
        for rule in RuleSet::builtin().unwrap().rules() {
            assert!(
                !rule.keywords.is_empty() || rule.path.is_some(),
                "{} has neither keywords nor a path",
                rule.id
            );
        }
    }

    #[test]
    fn case_sensitive_keywords_are_kept_as_written() {
        let r = "[[rule]]\nid='a'\ndescription='d'\nseverity='error'\nregex='(?P<secret>AKIA[A-Z]{4})'\nkeywords=['AKIA']\n";
        assert_eq!(one(r).unwrap().rules()[0].keywords, ["akia"]);
        let set = one(&format!("{r}case_sensitive_keywords=true\n")).unwrap();
        assert_eq!(set.rules()[0].keywords, ["AKIA"]);
        assert!(set.rules()[0].case_sensitive_keywords);
    }

    #[test]
    fn multiline_reach_is_bounded_and_only_for_multiline_rules() {
        let r = "[[rule]]\nid='a'\ndescription='d'\nseverity='error'\nregex='(?P<secret>x)'\nkeywords=['xyz']\n";
        let set = one(&format!("{r}multiline=true\n")).unwrap();
        assert_eq!(set.rules()[0].multiline_reach, DEFAULT_MULTILINE_REACH);
        let e = one(&format!("{r}multiline_reach=100\n")).unwrap_err();
        assert!(e.problem.contains("`multiline` is not"), "{e}");
        let e = one(&format!("{r}multiline=true\nmultiline_reach=0\n")).unwrap_err();
        assert!(e.problem.contains("between 1 and"), "{e}");
    }

    #[test]
    fn a_path_that_ends_in_no_ending_of_the_filter_needs_no_compiled_regex() {
        let path = |p: &str| PathRegex::new(RuleRegex::new(p, true, Limits::Builtin));
        let sql = path(r"(?i)\.sql$");
        assert!(!sql.is_match(b"src/main.rs"));
        assert!(sql.regex.compiled.get().is_none(), "refused by its ending");
        assert!(sql.is_match(b"dump/ALL.SQL"));
        assert!(sql.regex.compiled.get().is_some());
        assert!(!sql.is_match(b"x.sql.gz"));
        // Endings from every branch, of any case.
        let pg = path(r"(?i)(?:^|/)\.?pgpass(?:\.conf)?$");
        for (p, want) in [
            (&b"home/.PGPASS"[..], true),
            (b"pgpass.conf", true),
            (b"a/xpgpass", false),
            (b"pgpass.txt", false),
        ] {
            assert_eq!(pg.is_match(p), want, "{}", String::from_utf8_lossy(p));
        }
        // Not anchored at the end, or ending in a class: no endings, the regex decides.
        assert_eq!(path_endings(r"config/", true, LITERALS), None);
        // Case variants are one ending; an ending that ends with another is not kept.
        assert_eq!(
            path_endings(r"(?i)\.sql$", false, LITERALS),
            Some(vec![b".sql".to_vec()])
        );
        // With Unicode, `s` also matches the long s (U+017F), kept as it is.
        assert_eq!(
            path_endings(r"(?i)\.sql$", true, LITERALS),
            Some(vec![b".sql".to_vec(), ".\u{17f}ql".as_bytes().to_vec()])
        );
        assert_eq!(
            path_endings(r"(?:^|/)(?:x\.KEY|y\.key|\.key|\.Conf)$", true, LITERALS),
            Some(vec![b".key".to_vec(), b".conf".to_vec()])
        );
        assert_eq!(path_endings(r"\.key[0-9a-z_]*$", true, LITERALS), None);
        assert!(path(r"(?:^|/)config/").is_match(b"a/config/b"));
    }

    #[test]
    fn path_endings_agree_with_the_regex_on_every_builtin_filter() {
        let names = [
            "a.sql",
            "B.SQL",
            "x.sql.bak",
            ".pgpass",
            "dir/pgpass.conf",
            "_netrc",
            ".netrc",
            "x/.git-credentials",
            "git-credentials.txt",
            "config/master.key",
            "config/credentials/production.key",
            "settings.py",
            "app/settings/base.py",
            ".htpasswd",
            "htpasswd-old",
            ".npmrc",
            "a/.YARNRC",
            "FileZilla.xml",
            "sitemanager.xml",
            ".idea/dataSources.local.xml",
            "WebServers.xml",
            // Case-sensitive filters, with endings compared without regard to case.
            "webservers.xml",
            "SETTINGS.PY",
            "x/.GIT-CREDENTIALS",
            "Config/Master.Key",
            ".ENV.Local",
            "a/.Kube/Config",
            // Not ASCII: the long s and the Kelvin sign match `s` and `k` case-insensitively.
            "dump.\u{17f}ql",
            "a/\u{212a}ubeconfig",
            ".\u{212a}ube/config",
            "caf\u{e9}/.env",
            ".s3cfg",
            "config/database.yml",
            ".env.production.local",
            "prod.kubeconfig",
            "x.tfstate.backup",
            "sftp-config-alt2.json",
            "src/main.rs",
            "README.md",
            "",
            "/",
        ];
        let set = RuleSet::builtin().unwrap();
        let mut checked = 0;
        for rule in set.rules() {
            let Some(path) = &rule.path else { continue };
            let re = build_regex(path.as_str(), true, Limits::Builtin).unwrap();
            for name in names {
                assert_eq!(
                    path.is_match(name.as_bytes()),
                    re.is_match(name.as_bytes()),
                    "{}: {name}",
                    rule.id
                );
            }
            checked += 1;
        }
        assert!(checked >= 10, "{checked}");
    }

    #[test]
    fn every_builtin_filter_anchored_at_the_end_has_endings_for_an_ascii_path() {
        let set = RuleSet::builtin().unwrap();
        for rule in set.rules() {
            let Some(path) = &rule.path else { continue };
            if !path.as_str().ends_with('$') {
                continue;
            }
            let endings = ascii_path_endings(path.as_str(), true);
            let endings = endings.unwrap_or_else(|| panic!("{}: no endings", rule.id));
            assert!(endings.len() <= 64, "{}: {}", rule.id, endings.len());
            assert!(
                endings
                    .iter()
                    .all(|e| e.is_ascii() && *e == e.to_ascii_lowercase()),
                "{}",
                rule.id
            );
        }
    }

    #[test]
    fn ids_must_be_kebab_case() {
        let e = one(
            "[[rule]]\nid='Bad_Id'\ndescription='d'\nseverity='error'\nregex='(?P<secret>x)'\n",
        )
        .unwrap_err();
        assert!(e.problem.contains("kebab"), "{e}");
    }
}
