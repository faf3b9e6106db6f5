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
use serde::Deserialize;

/// Where built-in rules say they come from.
const BUILTIN_ORIGIN: &str = "<builtin>/";

/// The default rule pack, embedded so the binary works with no files next to it.
pub const DEFAULT_RULE_FILES: &[(&str, &str)] = &include!(concat!(env!("OUT_DIR"), "/rules.rs"));

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
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub min_entropy: Option<f64>,
    #[serde(default)]
    pub allow: Vec<String>,
    #[serde(default)]
    pub stopwords: Vec<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub multiline: bool,
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
    /// Index of the `secret` capture group in `regex`.
    pub secret_group: usize,
    /// Keywords, lower-cased (the prefilter matches them ASCII-case-insensitively).
    pub keywords: Vec<String>,
    pub min_entropy: Option<f64>,
    pub allow: Vec<RuleRegex>,
    /// Stopwords, lower-cased.
    pub stopwords: Vec<String>,
    pub path: Option<Regex>,
    pub multiline: bool,
    /// Context literals, lower-cased.
    pub context: Vec<String>,
    pub context_required: bool,
    pub priority: i32,
    pub remediation: Option<String>,
    pub examples: Vec<String>,
    pub negative_examples: Vec<String>,
    /// Where the rule came from: a file name, `<builtin>/x.toml` or `<config>`.
    pub origin: String,
}

/// A rule's regex (or allow-list regex), validated when the rule is loaded and compiled when a scan first needs it.
///
/// Compiling the default pack's regexes is nearly all of credsweep's start-up (measured with
/// callgrind: 88% of `credsweep rules list`, about 19 ms of a 31 ms `credsweep staged`), and a
/// pre-commit run over one small file needs the regexes of only the few rules whose keywords it
/// contains. Loading parses each pattern (syntax errors and a missing `secret` group are load
/// errors); user rules are also compiled at load, so that nothing they can write fails later. The
/// built-in pack is compiled in full by its tests.
#[derive(Debug, Clone)]
pub struct RuleRegex {
    pattern: String,
    unicode: bool,
    compiled: OnceLock<Option<Regex>>,
}

impl RuleRegex {
    fn new(pattern: &str, unicode: bool) -> RuleRegex {
        RuleRegex {
            pattern: pattern.to_string(),
            unicode,
            compiled: OnceLock::new(),
        }
    }

    /// The compiled regex; `None` if it does not compile (said once on stderr; the rule then
    /// matches nothing). Only a broken built-in rule can get there: user rules compile at load.
    pub fn get(&self) -> Option<&Regex> {
        self.compiled
            .get_or_init(|| match build_regex(&self.pattern, self.unicode) {
                Ok(re) => Some(re),
                Err(e) => {
                    crate::term::eprint_line(format_args!(
                        "credsweep: error: a rule's regex does not compile, the rule is skipped: {}",
                        crate::term::escape_lines(&e)
                    ));
                    None
                }
            })
            .as_ref()
    }

    /// Compiles now; the error says why not.
    fn compile(&self) -> Result<&Regex, String> {
        if let Some(re) = self.compiled.get() {
            return re.as_ref().ok_or_else(|| "does not compile".to_string());
        }
        let re = build_regex(&self.pattern, self.unicode)?;
        Ok(self
            .compiled
            .get_or_init(|| Some(re))
            .as_ref()
            .expect("just set"))
    }

    pub fn as_str(&self) -> &str {
        &self.pattern
    }
}

/// Parses `pattern` as the regex crate will (bytes, Unicode as asked) and returns the index of
/// its `secret` group.
fn parse_pattern(pattern: &str, unicode: bool) -> Result<Option<usize>, String> {
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(unicode)
        .utf8(false)
        .build()
        .parse(pattern)
        .map_err(|e| e.to_string())?;
    Ok(find_capture(&hir, "secret"))
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
}

/// The position of a rule in its [`RuleSet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleIdx(pub u32);

impl RuleSet {
    /// The embedded default pack.
    pub fn builtin() -> Result<RuleSet, RuleError> {
        let mut set = RuleSet::default();
        for (name, text) in DEFAULT_RULE_FILES {
            set.add_toml(&format!("{BUILTIN_ORIGIN}{name}"), text)?;
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
                        text[..s.start.min(text.len())].matches('\n').count() + 1
                    ))
                    .unwrap_or_default(),
                e.message().trim_end()
            ),
        })?;
        for spec in file.rule {
            self.add_spec(origin, spec)?;
        }
        Ok(())
    }

    /// Validates and compiles one rule and adds it.
    pub fn add_spec(&mut self, origin: &str, spec: RuleSpec) -> Result<(), RuleError> {
        let rule = compile(origin, spec)?;
        if self.rules.iter().any(|r| r.id == rule.id) {
            let first = &self.rules.iter().find(|r| r.id == rule.id).unwrap().origin;
            return Err(RuleError {
                origin: origin.to_string(),
                rule: Some(rule.id),
                problem: format!(
                    "duplicate rule id (already defined in {first}); rule ids must be unique"
                ),
            });
        }
        self.rules.push(rule);
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

fn is_kebab_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-')
}

/// Keywords shorter than this occur nearly everywhere: they gate nothing and slow the prefilter.
pub const MIN_KEYWORD_LEN: usize = 3;

/// Bounds on compiled regex size: generous for real rules, but a rule cannot make the scanner
/// allocate without limit.
const REGEX_SIZE_LIMIT: usize = 32 * 1024 * 1024;

fn build_regex(pattern: &str, unicode: bool) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .unicode(unicode)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| e.to_string())
}

fn compile(origin: &str, spec: RuleSpec) -> Result<Rule, RuleError> {
    let err = |problem: String| RuleError {
        origin: origin.to_string(),
        rule: Some(spec.id.clone()),
        problem,
    };
    if !is_kebab_id(&spec.id) {
        return Err(err(
            "ids must be kebab-case: lower-case letters, digits and `-`".to_string(),
        ));
    }
    if spec.description.trim().is_empty() {
        return Err(err("`description` is empty".to_string()));
    }
    let secret_group = parse_pattern(&spec.regex, spec.unicode)
        .map_err(|e| err(format!("`regex` does not compile:\n{e}")))?
        .ok_or_else(|| {
            err(
                "`regex` has no named group `secret`: wrap the credential in (?P<secret>...)"
                    .into(),
            )
        })?;
    let regex = RuleRegex::new(&spec.regex, spec.unicode);
    if !origin.starts_with(BUILTIN_ORIGIN) {
        regex
            .compile()
            .map_err(|e| err(format!("`regex` does not compile:\n{e}")))?;
    }
    let mut keywords = Vec::new();
    let mut seen = HashSet::new();
    for k in &spec.keywords {
        if k.len() < MIN_KEYWORD_LEN {
            return Err(err(format!(
                "keyword {k:?} is shorter than {MIN_KEYWORD_LEN} bytes: it would occur nearly everywhere and the \
                 rule's regex would run on everything; use a longer literal the match or its line must contain"
            )));
        }
        let k = k.to_ascii_lowercase();
        if seen.insert(k.clone()) {
            keywords.push(k);
        }
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
        .map(|a| {
            parse_pattern(a, spec.unicode)
                .map_err(|e| err(format!("`allow` regex {a:?} does not compile:\n{e}")))?;
            let re = RuleRegex::new(a, spec.unicode);
            if !origin.starts_with(BUILTIN_ORIGIN) {
                re.compile()
                    .map_err(|e| err(format!("`allow` regex {a:?} does not compile:\n{e}")))?;
            }
            Ok(re)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let path = spec
        .path
        .as_deref()
        .map(|p| {
            build_regex(p, true).map_err(|e| err(format!("`path` regex does not compile:\n{e}")))
        })
        .transpose()?;
    Ok(Rule {
        id: spec.id.clone(),
        description: spec.description.trim().to_string(),
        severity: spec.severity,
        provider: spec.provider,
        regex,
        secret_group,
        keywords,
        min_entropy: spec.min_entropy,
        allow,
        stopwords: spec
            .stopwords
            .iter()
            .map(|s| s.to_ascii_lowercase())
            .collect(),
        path,
        multiline: spec.multiline,
        context: spec
            .context
            .iter()
            .map(|s| s.to_ascii_lowercase())
            .collect(),
        context_required: spec.context_required,
        priority: spec.priority,
        remediation: spec.remediation,
        examples: spec.examples,
        negative_examples: spec.negative_examples,
        origin: origin.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Result<RuleSet, RuleError> {
        let mut set = RuleSet::default();
        set.add_toml("t.toml", text)?;
        Ok(set)
    }

    #[test]
    fn builtin_pack_loads_and_every_regex_compiles() {
        let set = RuleSet::builtin().unwrap();
        assert!(set.len() >= 60);
        for r in set.rules() {
            for a in &r.allow {
                a.compile()
                    .unwrap_or_else(|e| panic!("{}: allow: {e}", r.id));
            }
            let re = r
                .regex
                .compile()
                .unwrap_or_else(|e| panic!("{}: {e}", r.id));
            assert_eq!(
                re.capture_names().position(|n| n == Some("secret")),
                Some(r.secret_group),
                "{}",
                r.id
            );
        }
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
        let r = "[[rule]]\nid='a'\ndescription='d'\nseverity='error'\nregex='(?P<secret>x)'\n";
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
    fn ids_must_be_kebab_case() {
        let e = one(
            "[[rule]]\nid='Bad_Id'\ndescription='d'\nseverity='error'\nregex='(?P<secret>x)'\n",
        )
        .unwrap_err();
        assert!(e.problem.contains("kebab"), "{e}");
    }
}
