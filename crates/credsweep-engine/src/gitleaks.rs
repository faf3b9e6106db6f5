//! Rule files in the gitleaks (and betterleaks) format, converted to credsweep rules.
//!
//! Teams moving from gitleaks bring a `.gitleaks.toml`: `[[rules]]` (plural, camelCase keys),
//! rule-level and global allow-lists, and `[extend]`. [`load`] tells the two formats apart
//! ([`is_gitleaks_format`]), hands a credsweep file to [`RuleSet::add_toml`] unchanged, and
//! converts a gitleaks file rule by rule into [`RuleSpec`]s that go through the same validation as
//! any other rule. What our format cannot express is never an error for the whole file: the rule
//! (or the allow-list entry) that needs it is skipped, and a note says which and why; the caller
//! shows the notes once. Global allow-lists come back as an [`ImportedAllow`] for the caller to
//! add to the configuration's allow-list (they apply to every rule, as in gitleaks).
//!
//! Go's RE2 and Rust's `regex` share nearly all syntax; a pattern that does not parse here
//! (`\C`, `\Q…\E`, …) skips its rule with the parser's reason, never quoting the pattern.

use std::collections::HashSet;

use regex_syntax::ast::{Ast, GroupKind};
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use serde::Deserialize;

use crate::rules::{MIN_KEYWORD_LEN, RuleError, RuleSet, RuleSpec, Severity};

/// Reads the file an `[extend] path` names: the origin to name it by and its text, or why not.
pub type ReadExtend<'a> = dyn FnMut(&str) -> Result<(String, String), String> + 'a;

/// How many `[extend] path` files deep a chain may go.
pub const MAX_EXTEND_DEPTH: usize = 2;

/// The most keywords derived from one regex; past this the literals gate nothing useful.
const MAX_DERIVED_KEYWORDS: usize = 32;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GlFile {
    #[serde(default)]
    rules: Vec<GlRule>,
    allowlist: Option<GlAllow>,
    #[serde(default)]
    allowlists: Vec<GlAllow>,
    extend: Option<GlExtend>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GlRule {
    id: String,
    description: Option<String>,
    regex: Option<String>,
    secret_group: Option<usize>,
    entropy: Option<f64>,
    #[serde(default)]
    keywords: Vec<String>,
    path: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    allowlist: Option<GlAllow>,
    #[serde(default)]
    allowlists: Vec<GlAllow>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GlAllow {
    #[serde(default)]
    regexes: Vec<String>,
    regex_target: Option<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    commits: Vec<String>,
    condition: Option<String>,
    /// Global allow-lists only: the rules they apply to (all when empty).
    #[serde(default)]
    target_rules: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GlExtend {
    use_default: Option<bool>,
    path: Option<String>,
    url: Option<String>,
    #[serde(default)]
    disabled_rules: Vec<String>,
}

/// Global allow-list entries of gitleaks files, for the configuration's allow-list.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ImportedAllow {
    /// Regexes on the secret.
    pub secrets: Vec<String>,
    /// Regexes on the line.
    pub lines: Vec<String>,
    /// Regexes on the path.
    pub paths: Vec<String>,
    pub stopwords: Vec<String>,
    pub commits: Vec<String>,
}

impl ImportedAllow {
    pub fn is_empty(&self) -> bool {
        self == &ImportedAllow::default()
    }
}

/// What loading a rule file brought besides its rules.
#[derive(Debug, Default, Clone)]
pub struct Imported {
    /// What could not be converted, and other things the user should know: one line each.
    pub notes: Vec<String>,
    pub allow: ImportedAllow,
    /// Rules converted from gitleaks files.
    pub converted: usize,
}

impl Imported {
    pub fn merge(&mut self, other: Imported) {
        self.notes.extend(other.notes);
        let a = other.allow;
        self.allow.secrets.extend(a.secrets);
        self.allow.lines.extend(a.lines);
        self.allow.paths.extend(a.paths);
        self.allow.stopwords.extend(a.stopwords);
        self.allow.commits.extend(a.commits);
        self.converted += other.converted;
    }
}

/// Whether `text` is a gitleaks-format rule file: it has `[[rules]]`, `[allowlist]`,
/// `[[allowlists]]` or `[extend]`, and no credsweep `[[rule]]`. Text that is not TOML is not:
/// the credsweep loader then reports the syntax error.
pub fn is_gitleaks_format(text: &str) -> bool {
    let Ok(table) = text.parse::<toml::Table>() else {
        return false;
    };
    !table.contains_key("rule")
        && ["rules", "allowlist", "allowlists", "extend"]
            .iter()
            .any(|k| table.contains_key(*k))
}

/// Adds the rules of the rule file `text` (named `origin`) to `set`, in either format. An
/// `[extend] path` is read with `read` (given the path as written; it resolves and bounds it and
/// returns the origin to name and the text), at most [`MAX_EXTEND_DEPTH`] files deep.
pub fn load(
    set: &mut RuleSet,
    origin: &str,
    text: &str,
    read: &mut ReadExtend<'_>,
) -> Result<Imported, RuleError> {
    load_at(set, origin, text, read, 0)
}

fn load_at(
    set: &mut RuleSet,
    origin: &str,
    text: &str,
    read: &mut ReadExtend<'_>,
    depth: usize,
) -> Result<Imported, RuleError> {
    if !is_gitleaks_format(text) {
        set.add_toml(origin, text)?;
        return Ok(Imported::default());
    }
    let file: GlFile = toml::from_str(text).map_err(|e| RuleError {
        origin: origin.to_string(),
        rule: None,
        problem: format!(
            "not a valid gitleaks rule file: {}",
            crate::rules::without_values(e.message())
        ),
    })?;
    let mut out = Imported::default();
    let note = |out: &mut Imported, s: String| out.notes.push(format!("{origin}: {s}"));
    let mut globals: Vec<GlAllow> = file.allowlist.into_iter().collect();
    globals.extend(file.allowlists);
    let (global_all, global_targeted): (Vec<GlAllow>, Vec<GlAllow>) =
        globals.into_iter().partition(|a| a.target_rules.is_empty());
    for a in &global_all {
        global_allow(a, &mut out, origin);
    }
    if let Some(ext) = &file.extend {
        if ext.use_default == Some(true) {
            // Gitleaks' own default rules are not shipped; credsweep's default pack stands in
            // for them (unless turned off with --no-default-rules or `default_rules = false`).
        }
        if ext.url.is_some() {
            note(
                &mut out,
                "`[extend] url` is not followed (no network at run time)".into(),
            );
        }
        if let Some(p) = &ext.path {
            if depth >= MAX_EXTEND_DEPTH {
                note(
                    &mut out,
                    format!(
                        "`[extend] path` not followed: more than {MAX_EXTEND_DEPTH} files deep"
                    ),
                );
            } else {
                match read(p) {
                    Ok((o, t)) => {
                        let inner = load_at(set, &o, &t, read, depth + 1)?;
                        out.merge(inner);
                    }
                    Err(e) => note(&mut out, format!("`[extend] path` not loaded: {e}")),
                }
            }
        }
    }
    let mut renamed = Vec::new();
    for rule in file.rules {
        let id = rule.id.clone();
        let label = if crate::rules::is_kebab_id(&kebab(&id)) {
            kebab(&id)
        } else {
            "(unnamed)".to_string()
        };
        let mut rule_notes = Vec::new();
        let targeted: Vec<&GlAllow> = global_targeted
            .iter()
            .filter(|a| a.target_rules.contains(&id))
            .collect();
        match convert_rule(rule, &targeted, set, &mut rule_notes) {
            Ok(spec) => {
                let spec_id = spec.id.clone();
                if spec_id != label {
                    renamed.push(label.clone());
                }
                match set.add_spec(origin, spec) {
                    Ok(()) => out.converted += 1,
                    Err(e) => note(
                        &mut out,
                        format!("rule `{spec_id}` skipped: {}", first_line(&e.problem)),
                    ),
                }
            }
            Err(why) => note(&mut out, format!("rule `{label}` skipped: {why}")),
        }
        for n in rule_notes {
            note(&mut out, format!("rule `{label}`: {n}"));
        }
    }
    if !renamed.is_empty() {
        note(
            &mut out,
            format!(
                "{} rule id(s) are taken by rules already in force, and are loaded with the prefix \
                 `gitleaks-`: {}",
                renamed.len(),
                renamed.join(", ")
            ),
        );
    }
    if let Some(ext) = &file.extend
        && !ext.disabled_rules.is_empty()
    {
        let unknown = set.remove(&ext.disabled_rules);
        if !unknown.is_empty() {
            note(
                &mut out,
                format!(
                    "`disabledRules` names {} rule(s) not in force (gitleaks' own default rule ids \
                     are not credsweep's)",
                    unknown.len()
                ),
            );
        }
    }
    Ok(out)
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// A gitleaks id as a credsweep id: lower-case, anything but letters and digits a dash.
fn kebab(id: &str) -> String {
    let mut s: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while s.contains("--") {
        s = s.replace("--", "-");
    }
    s.trim_matches('-').to_string()
}

/// The global allow-list `a` as entries of the configuration's allow-list.
fn global_allow(a: &GlAllow, out: &mut Imported, origin: &str) {
    if is_and(a) {
        out.notes.push(format!(
            "{origin}: a global allow-list with `condition = \"AND\"` is not applied (credsweep's \
             allow-lists allow on any one entry)"
        ));
        return;
    }
    let mut bad = 0;
    match a.regex_target.as_deref().unwrap_or("secret") {
        "line" => bad += usable_all(&a.regexes, true, &mut out.allow.lines),
        "secret" => bad += usable_all(&a.regexes, true, &mut out.allow.secrets),
        _ if a.regexes.is_empty() => {}
        other => out.notes.push(format!(
            "{origin}: global allow-list regexes with `regexTarget = {other:?}` are not applied"
        )),
    }
    bad += usable_all(&a.paths, true, &mut out.allow.paths);
    if bad > 0 {
        out.notes.push(format!(
            "{origin}: {bad} global allow-list regex(es) are not valid Rust regex syntax and are \
             not applied"
        ));
    }
    out.allow
        .stopwords
        .extend(a.stopwords.iter().map(|s| s.to_ascii_lowercase()));
    out.allow.commits.extend(a.commits.iter().cloned());
}

/// Whether the allow-list needs all its kinds of entries to hold at once (and has more than one).
fn is_and(a: &GlAllow) -> bool {
    let kinds = [
        !a.regexes.is_empty(),
        !a.paths.is_empty(),
        !a.stopwords.is_empty(),
        !a.commits.is_empty(),
    ]
    .iter()
    .filter(|k| **k)
    .count();
    a.condition
        .as_deref()
        .is_some_and(|c| c.eq_ignore_ascii_case("and"))
        && kinds > 1
}

/// One gitleaks rule as a [`RuleSpec`], or why it cannot be one.
fn convert_rule(
    rule: GlRule,
    targeted: &[&GlAllow],
    set: &RuleSet,
    notes: &mut Vec<String>,
) -> Result<RuleSpec, String> {
    let mut id = kebab(&rule.id);
    if !crate::rules::is_kebab_id(&id) {
        return Err("its id has no letters or digits".into());
    }
    if set.find(&id).is_some() {
        // Said once for the whole file, by the caller.
        id = format!("gitleaks-{id}");
    }
    let Some(regex) = rule.regex.filter(|r| !r.is_empty()) else {
        return Err(if rule.path.is_some() {
            "a path-only rule (a finding for the file itself) cannot be expressed".into()
        } else {
            "it has neither `regex` nor `path`".into()
        });
    };
    let (pattern, unicode) = secret_pattern(&regex, rule.secret_group)?;
    let mut keywords: Vec<String> = rule
        .keywords
        .iter()
        .filter(|k| k.len() >= MIN_KEYWORD_LEN)
        .map(|k| k.to_ascii_lowercase())
        .collect();
    if keywords.len() < rule.keywords.len() {
        notes.push(format!(
            "keywords shorter than {MIN_KEYWORD_LEN} bytes are dropped"
        ));
        if keywords.is_empty() {
            // A shorter keyword still gated the rule: do not let dropping it open the rule up.
            keywords = derive_keywords(&pattern, unicode);
        }
    }
    let mut path = match rule.path.as_deref() {
        Some(p) => Some(usable(p, true).ok_or("its `path` is not valid Rust regex syntax")?),
        None => None,
    };
    if keywords.is_empty() {
        keywords = derive_keywords(&pattern, unicode);
        if keywords.is_empty() && path.is_none() {
            notes.push(
                "no keywords, and none can be derived from its regex: it runs on every file".into(),
            );
            path = Some(String::new());
        }
    }
    let mut description = rule
        .description
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| format!("gitleaks rule {}", rule.id));
    if !rule.tags.is_empty() {
        description += &format!(" (tags: {})", rule.tags.join(", "));
    }
    let min_entropy = match rule.entropy {
        Some(e) if (0.0..=8.0).contains(&e) => Some(e),
        Some(_) => {
            notes.push("`entropy` outside 0..8 is ignored".into());
            None
        }
        None => None,
    };
    let mut spec = RuleSpec {
        id,
        description,
        severity: Severity::Error,
        provider: None,
        regex: pattern,
        keywords,
        case_sensitive_keywords: false,
        min_entropy,
        allow: Vec::new(),
        stopwords: Vec::new(),
        path,
        multiline: false,
        multiline_reach: None,
        unicode,
        context: Vec::new(),
        context_required: false,
        priority: 0,
        remediation: None,
        identifier: false,
        decode: None,
        max_per_file: None,
        examples: Vec::new(),
        negative_examples: Vec::new(),
    };
    let lists = rule
        .allowlist
        .into_iter()
        .chain(rule.allowlists)
        .chain(targeted.iter().map(|a| (*a).clone()));
    for a in lists {
        rule_allow(&a, &mut spec, notes);
    }
    Ok(spec)
}

/// Adds what of the allow-list `a` a rule can hold (secret regexes, stopwords) to `spec`.
fn rule_allow(a: &GlAllow, spec: &mut RuleSpec, notes: &mut Vec<String>) {
    if is_and(a) {
        notes.push(
            "an allow-list with `condition = \"AND\"` is not applied (a rule's allow-list allows \
             on any one entry)"
                .into(),
        );
        return;
    }
    let target = a.regex_target.as_deref().unwrap_or("secret");
    if target == "secret" {
        let bad = usable_all(&a.regexes, spec.unicode, &mut spec.allow);
        if bad > 0 {
            notes.push(format!(
                "{bad} allow-list regex(es) are not valid Rust regex syntax and are not applied"
            ));
        }
    } else if !a.regexes.is_empty() {
        notes.push(format!(
            "allow-list regexes with `regexTarget = {target:?}` are not applied (a rule's \
             allow-list matches the secret)"
        ));
    }
    spec.stopwords.extend(a.stopwords.iter().cloned());
    if !a.paths.is_empty() {
        notes.push("allow-list `paths` of a rule are not applied (use a global allow-list)".into());
    }
    if !a.commits.is_empty() {
        notes.push(
            "allow-list `commits` of a rule are not applied (use a global allow-list)".into(),
        );
    }
}

/// `regex` with the secret as a group named `secret`: the `secret_group`th group when set, else
/// the first group (gitleaks takes the first group that matched), else the whole match. Tries
/// ASCII classes first (RE2's `\w`, `\d`, `\b` are ASCII), then Unicode for patterns that need it.
fn secret_pattern(regex: &str, secret_group: Option<usize>) -> Result<(String, bool), String> {
    let regex = &re2_to_rust(regex);
    let ast = regex_syntax::ast::parse::Parser::new()
        .parse(regex)
        .map_err(|e| {
            format!(
                "its regex is not valid Rust regex syntax: {} (at character {})",
                e.kind(),
                e.span().start.column
            )
        })?;
    let mut groups = Vec::new();
    capture_groups(&ast, &mut groups);
    if groups.iter().any(|g| g.name.as_deref() == Some("secret")) {
        return Err("its regex already names a group `secret`".into());
    }
    let wanted = match secret_group {
        Some(0) | None => 1,
        Some(n) => n,
    };
    let pattern = match groups.iter().find(|g| g.index as usize == wanted) {
        Some(g) => match &g.name_span {
            Some(span) => format!("{}secret{}", &regex[..span.0], &regex[span.1..]),
            None => format!("{}(?P<secret>{}", &regex[..g.open], &regex[g.open + 1..]),
        },
        None if secret_group.unwrap_or(0) > 0 => {
            return Err(format!(
                "`secretGroup = {wanted}` but its regex has {} group(s)",
                groups.len()
            ));
        }
        None => format!("(?P<secret>{regex})"),
    };
    for unicode in [false, true] {
        if regex_syntax::ParserBuilder::new()
            .unicode(unicode)
            .utf8(false)
            .build()
            .parse(&pattern)
            .is_ok()
        {
            return Ok((pattern, unicode));
        }
    }
    Err(format!(
        "its regex cannot be expressed: {}",
        crate::rules::regex_error_without_pattern(&pattern, true)
    ))
}

/// `pattern` (Go RE2 syntax) in Rust `regex` syntax: the one difference real rule files meet is a
/// `{` that does not start a repetition (`{\d+}`, `${VAR}`), a literal in RE2 and an error here;
/// it is escaped. Everything else is passed through (what still does not parse is reported).
pub fn re2_to_rust(pattern: &str) -> String {
    let b = pattern.as_bytes();
    let mut out = String::with_capacity(pattern.len() + 4);
    let mut in_class = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\\' {
            // An escape and what it escapes, as written (the next char may be multi-byte).
            let next = pattern[i + 1..].chars().next().map_or(0, char::len_utf8);
            out.push_str(&pattern[i..i + 1 + next]);
            i += 1 + next;
            continue;
        }
        if in_class {
            if c == b']' {
                in_class = false;
            }
        } else if c == b'[' {
            in_class = true;
            // A `]` right after `[` or `[^` is a literal member.
            let mut j = i + 1;
            if b.get(j) == Some(&b'^') {
                j += 1;
            }
            if b.get(j) == Some(&b']') {
                out.push_str(&pattern[i..=j]);
                i = j + 1;
                continue;
            }
        } else if c == b'{' && !is_repetition(&b[i..]) {
            out.push_str("\\{");
            i += 1;
            continue;
        }
        let len = pattern[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&pattern[i..i + len]);
        i += len;
    }
    out
}

/// `re` converted ([`re2_to_rust`]) if it then parses (with `unicode` as the regex will be
/// compiled), else `None`.
fn usable(re: &str, unicode: bool) -> Option<String> {
    let re = re2_to_rust(re);
    regex_syntax::ParserBuilder::new()
        .unicode(unicode)
        .utf8(false)
        .build()
        .parse(&re)
        .is_ok()
        .then_some(re)
}

/// Converts the regexes in `res` into `out`; returns how many could not be.
fn usable_all(res: &[String], unicode: bool, out: &mut Vec<String>) -> usize {
    let before = out.len();
    out.extend(res.iter().filter_map(|r| usable(r, unicode)));
    res.len() - (out.len() - before)
}

/// Whether `s` starts with `{n}`, `{n,}` or `{n,m}`.
fn is_repetition(s: &[u8]) -> bool {
    let digits = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_digit()).count();
    let n = digits(&s[1..]);
    if n == 0 {
        return false;
    }
    let rest = &s[1 + n..];
    match rest.first() {
        Some(b'}') => true,
        Some(b',') => {
            let m = digits(&rest[1..]);
            rest.get(1 + m) == Some(&b'}')
        }
        _ => false,
    }
}

struct Group {
    index: u32,
    name: Option<String>,
    /// Where the name is, to rename it.
    name_span: Option<(usize, usize)>,
    /// Where its `(` is.
    open: usize,
}

fn capture_groups(ast: &Ast, out: &mut Vec<Group>) {
    match ast {
        Ast::Group(g) => {
            match &g.kind {
                GroupKind::CaptureIndex(i) => out.push(Group {
                    index: *i,
                    name: None,
                    name_span: None,
                    open: g.span.start.offset,
                }),
                GroupKind::CaptureName { name, .. } => out.push(Group {
                    index: name.index,
                    name: Some(name.name.clone()),
                    name_span: Some((name.span.start.offset, name.span.end.offset)),
                    open: g.span.start.offset,
                }),
                GroupKind::NonCapturing(_) => {}
            }
            capture_groups(&g.ast, out);
        }
        Ast::Repetition(r) => capture_groups(&r.ast, out),
        Ast::Concat(c) => c.asts.iter().for_each(|a| capture_groups(a, out)),
        Ast::Alternation(a) => a.asts.iter().for_each(|a| capture_groups(a, out)),
        _ => {}
    }
}

/// Literals every match of `pattern` starts (or else ends) with, lower-cased, when there are few
/// and all are at least [`MIN_KEYWORD_LEN`] bytes: keywords for a rule that has none.
fn derive_keywords(pattern: &str, unicode: bool) -> Vec<String> {
    let Ok(hir) = regex_syntax::ParserBuilder::new()
        .unicode(unicode)
        .utf8(false)
        .build()
        .parse(pattern)
    else {
        return Vec::new();
    };
    // First as the extractor stops by default; then, for a short literal followed by a small
    // class (`SK[0-9a-f]`), one keyword of three bytes per member of the class.
    for class_limit in [None, Some(MAX_DERIVED_KEYWORDS)] {
        for kind in [ExtractKind::Prefix, ExtractKind::Suffix] {
            let mut ex = Extractor::new();
            ex.kind(kind);
            if let Some(n) = class_limit {
                ex.limit_class(n).limit_total(4 * n);
            }
            let seq = ex.extract(&hir);
            let Some(lits) = seq.literals() else { continue };
            let mut seen = HashSet::new();
            let words: Vec<String> = lits
                .iter()
                .map(|l| String::from_utf8_lossy(l.as_bytes()).to_ascii_lowercase())
                .filter(|w| seen.insert(w.clone()))
                .collect();
            if !words.is_empty()
                && words.len() <= MAX_DERIVED_KEYWORDS
                && words.iter().all(|w| w.len() >= MIN_KEYWORD_LEN)
            {
                return words;
            }
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_read(_: &str) -> Result<(String, String), String> {
        Err("no files here".into())
    }

    fn load_str(text: &str) -> (RuleSet, Imported) {
        let mut set = RuleSet::default();
        let imp = load(&mut set, "g.toml", text, &mut no_read).unwrap();
        (set, imp)
    }

    #[test]
    fn detects_the_format() {
        assert!(is_gitleaks_format("[[rules]]\nid='a'\nregex='x'\n"));
        assert!(is_gitleaks_format("[extend]\nuseDefault=true\n"));
        assert!(!is_gitleaks_format("[[rule]]\nid='a'\n"));
        assert!(!is_gitleaks_format("[[rules]\n"));
    }

    #[test]
    fn secret_group_becomes_the_named_group() {
        let (p, u) = secret_pattern(r"(?i)(key)\s*=\s*([a-z]{8})", Some(2)).unwrap();
        assert_eq!(p, r"(?i)(key)\s*=\s*(?P<secret>[a-z]{8})");
        assert!(!u);
        let (p, _) = secret_pattern(r"abc_[a-z]{8}", None).unwrap();
        assert_eq!(p, r"(?P<secret>abc_[a-z]{8})");
        let (p, _) = secret_pattern(r"x(?P<tok>[a-z]{8})", None).unwrap();
        assert_eq!(p, r"x(?P<secret>[a-z]{8})");
        assert!(secret_pattern(r"(a)", Some(3)).is_err());
        assert!(secret_pattern(r"\Qa\E", None).is_err());
        // Needs Unicode: loaded with it.
        assert!(secret_pattern(r"\pL{4}", None).unwrap().1);
    }

    #[test]
    fn re2_literal_braces_are_escaped() {
        assert_eq!(re2_to_rust(r"^\$(?:\d+|{\d+})$"), r"^\$(?:\d+|\{\d+})$");
        assert_eq!(re2_to_rust(r"a{2,3}b{4}c{5,}"), r"a{2,3}b{4}c{5,}");
        assert_eq!(re2_to_rust(r"[{]\{x}"), r"[{]\{x}");
        assert_eq!(re2_to_rust(r"[]{]é{"), r"[]{]é\{");
    }

    #[test]
    fn keywords_are_derived_when_missing() {
        assert_eq!(
            derive_keywords(r"(?P<secret>ACME_[A-Z]{8})", false),
            ["acme_"]
        );
        assert!(derive_keywords(r"(?P<secret>[a-z]{8})", false).is_empty());
        let sk = derive_keywords(r"(?P<secret>SK[0-9a-f]{32})", false);
        assert_eq!(sk.len(), 16);
        assert!(sk.iter().all(|k| k.starts_with("sk")), "{sk:?}");
    }

    #[test]
    fn converts_fields_and_notes_what_it_cannot() {
        let text = r#"
[extend]
useDefault = true
disabledRules = ["nope"]

[allowlist]
regexes = ['''^EXAMPLE''']
paths = ['''fixtures/''']
stopwords = ["Dummy"]
commits = ["0123456789abcdef"]

[[rules]]
id = "acme-token"
description = "Acme token"
regex = '''acme_(?:live)_([A-Za-z0-9]{16})'''
entropy = 2.5
keywords = ["acme_"]
tags = ["acme", "api"]
[[rules.allowlists]]
regexes = ['''FAKEFAKE''']
stopwords = ["sample"]
[[rules.allowlists]]
regexTarget = "line"
regexes = ['''test''']

[[rules]]
id = "no-keywords"
regex = '''[a-z]{40}'''

[[rules]]
id = "pkcs12"
path = '''\.p12$'''
"#;
        let (set, imp) = load_str(text);
        assert_eq!(imp.converted, 2);
        let r = &set.rules()[set.find("acme-token").unwrap().0 as usize];
        assert_eq!(r.keywords, ["acme_"]);
        assert_eq!(r.min_entropy, Some(2.5));
        assert!(r.description.contains("tags: acme, api"));
        assert_eq!(r.allow.len(), 1);
        assert_eq!(r.stopwords, ["sample"]);
        let nk = &set.rules()[set.find("no-keywords").unwrap().0 as usize];
        assert!(nk.keywords.is_empty() && nk.path.is_some());
        assert_eq!(imp.allow.secrets, ["^EXAMPLE"]);
        assert_eq!(imp.allow.paths, ["fixtures/"]);
        assert_eq!(imp.allow.stopwords, ["dummy"]);
        let notes = imp.notes.join("\n");
        assert!(
            notes.contains("rule `pkcs12` skipped: a path-only rule"),
            "{notes}"
        );
        assert!(notes.contains("regexTarget = \"line\""), "{notes}");
        assert!(notes.contains("runs on every file"), "{notes}");
        assert!(notes.contains("disabledRules"), "{notes}");
    }

    #[test]
    fn a_taken_id_is_renamed_and_extend_paths_are_bounded() {
        let mut set = RuleSet::default();
        let mut depth = 0;
        let mut read = |_: &str| {
            depth += 1;
            Ok((
                format!("f{depth}.toml"),
                "[extend]\npath='next'\n[[rules]]\nid='dup'\nregex='''dup_[a-z]{8}'''\n"
                    .to_string(),
            ))
        };
        let imp = load(
            &mut set,
            "g.toml",
            "[extend]\npath='a'\n[[rules]]\nid='dup'\nregex='''dup_[a-z]{8}'''\n",
            &mut read,
        )
        .unwrap();
        // Three files (the third names a fourth, not followed): the second `dup` is renamed, the
        // third cannot be and is skipped with a note.
        assert_eq!(imp.converted, 2);
        assert!(set.find("dup").is_some() && set.find("gitleaks-dup").is_some());
        let notes = imp.notes.join("\n");
        assert!(notes.contains("files deep"), "{notes}");
        assert!(notes.contains("skipped: duplicate rule id"), "{notes}");
    }

    #[test]
    fn a_credsweep_file_goes_to_the_native_loader() {
        let (set, imp) = load_str(
            "[[rule]]\nid='a'\ndescription='d'\nseverity='error'\nregex='(?P<secret>xyz)'\nkeywords=['xyz']\n",
        );
        assert_eq!(set.len(), 1);
        assert!(imp.notes.is_empty());
    }
}
