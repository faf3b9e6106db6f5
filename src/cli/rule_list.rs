//! `credsweep rules list`: the rules in force as text (one line each, the default), JSON (for
//! tools) or a Markdown table grouped by provider (docs/rules.md is generated from it).
//!
//! The rules are loaded as for a scan; what loading had to say (rules of a gitleaks file that
//! could not be converted) goes to the caller's note sink, once, before the list.

use std::path::Path;

use anyhow::Result;
use serde::Serialize;

use crate::app::{self, RuleOptions};
use crate::rules::{Rule, RuleSet};

/// How `rules list` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ListFormat {
    /// One line per rule: id, severity, description, and the count.
    #[default]
    Text,
    /// `{"rules": [...]}`, one object per rule.
    Json,
    /// A Markdown table, grouped by provider.
    Markdown,
}

/// The provider a rule without one is listed under.
const NO_PROVIDER: &str = "other";

/// One rule as `--format json` prints it.
#[derive(Debug, Serialize)]
struct ListedRule<'a> {
    id: &'a str,
    provider: &'a str,
    severity: &'a str,
    description: &'a str,
    keywords: &'a [String],
    /// The path regex the rule is limited to, if any.
    path: Option<&'a str>,
    /// Its findings pair with another rule's (an id with its token).
    pairs: bool,
    /// Its pairs can be checked against the provider with `--verify`.
    verifies: bool,
    /// Where the rule came from (`<builtin>/…` or a file).
    origin: &'a str,
}

impl<'a> ListedRule<'a> {
    fn of(r: &'a Rule) -> ListedRule<'a> {
        let pairs = crate::verify::ID_RULES.contains(&r.id.as_str())
            || crate::verify::TOKEN_RULES.contains(&r.id.as_str());
        ListedRule {
            id: &r.id,
            provider: r.provider.as_deref().unwrap_or(NO_PROVIDER),
            severity: r.severity.as_str(),
            description: &r.description,
            keywords: &r.keywords,
            path: r.path.as_ref().map(|p| p.as_str()),
            pairs,
            verifies: pairs && !crate::verify::TEST_TOKEN_RULES.contains(&r.id.as_str()),
            origin: &r.origin,
        }
    }
}

/// Loads the rules `rules` names and renders them as `format` asks; each note goes to `note`.
pub fn run(
    rules: &RuleOptions,
    format: ListFormat,
    note: &mut dyn FnMut(String),
) -> Result<String> {
    let config = app::load_config(rules, Path::new("."))?;
    let (set, imported) = app::load_rules_imported(rules, &config)?;
    for n in imported.notes {
        note(format!("credsweep: note: {}", crate::term::escape(&n)));
    }
    Ok(render(&set, format))
}

/// The listing of `set` in `format`.
pub fn render(set: &RuleSet, format: ListFormat) -> String {
    match format {
        ListFormat::Text => text(set),
        ListFormat::Json => {
            #[derive(Serialize)]
            struct Doc<'a> {
                rules: Vec<ListedRule<'a>>,
            }
            let doc = Doc {
                rules: set.rules().iter().map(ListedRule::of).collect(),
            };
            serde_json::to_string_pretty(&doc).expect("plain data serializes") + "\n"
        }
        ListFormat::Markdown => markdown(set),
    }
}

fn text(set: &RuleSet) -> String {
    let mut out = String::new();
    for r in set.rules() {
        out += &format!(
            "{:<36} {:<8} {}\n",
            r.id,
            r.severity.as_str(),
            // A rule from a repository's configuration may say anything.
            crate::term::escape(&r.description)
        );
    }
    out += &format!("{} rules\n", set.len());
    out
}

/// One table, rows grouped by provider (alphabetically, `other` last), then by id.
fn markdown(set: &RuleSet) -> String {
    let mut rows: Vec<ListedRule<'_>> = set.rules().iter().map(ListedRule::of).collect();
    rows.sort_by(|a, b| {
        (a.provider == NO_PROVIDER, a.provider, a.id).cmp(&(
            b.provider == NO_PROVIDER,
            b.provider,
            b.id,
        ))
    });
    let providers = {
        let mut p: Vec<&str> = rows.iter().map(|r| r.provider).collect();
        p.dedup();
        p.len()
    };
    let mut out = format!(
        "{} rules from {} providers.\n\n\
         | Provider | Rule | Severity | Keywords | Path | Pairs | Verifies | Description |\n\
         |---|---|---|---|---|---|---|---|\n",
        rows.len(),
        providers
    );
    for r in &rows {
        let keywords = r
            .keywords
            .iter()
            .map(|k| code(k))
            .collect::<Vec<_>>()
            .join(" ");
        out += &format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            cell(r.provider),
            code(r.id),
            r.severity,
            keywords,
            r.path.map(code).unwrap_or_default(),
            if r.pairs { "yes" } else { "" },
            if r.verifies { "yes" } else { "" },
            cell(r.description),
        );
    }
    out
}

/// Text for a table cell: terminal-safe, on one line, without a `|` that would end the cell.
fn cell(s: &str) -> String {
    crate::term::escape(&s.replace(['\n', '\r'], " ")).replace('|', "\\|")
}

/// A code span for a table cell; the backtick fence is longer than any run of backticks inside.
fn code(s: &str) -> String {
    let s = cell(s);
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> RuleSet {
        let mut set = RuleSet::default();
        set.add_toml(
            "t.toml",
            "[[rule]]\nid='acme-key'\nprovider='Acme'\ndescription='Acme | key'\nseverity='error'\n\
             regex='(?P<secret>acme_[a-z]{8})'\nkeywords=['acme_']\n\
             [[rule]]\nid='loose'\ndescription='d'\nseverity='note'\nregex='(?P<secret>x`y)'\n\
             path='\\.conf$'\n",
        )
        .unwrap();
        set
    }

    #[test]
    fn markdown_groups_by_provider_and_escapes_cells() {
        let md = render(&set(), ListFormat::Markdown);
        let lines: Vec<&str> = md.lines().collect();
        assert_eq!(lines[0], "2 rules from 2 providers.");
        assert!(
            lines[4].starts_with("| Acme | `acme-key` | error | `acme_` |  |"),
            "{md}"
        );
        assert!(lines[4].ends_with("| Acme \\| key |"), "{md}");
        assert!(lines[5].starts_with("| other | `loose` |"), "{md}");
        assert!(lines[5].contains("| `\\.conf$` |"), "{md}");
    }

    #[test]
    fn json_lists_every_field() {
        let doc: serde_json::Value =
            serde_json::from_str(&render(&set(), ListFormat::Json)).unwrap();
        let r = &doc["rules"][0];
        assert_eq!(r["id"], "acme-key");
        assert_eq!(r["provider"], "Acme");
        assert_eq!(r["keywords"][0], "acme_");
        assert_eq!(r["pairs"], false);
        assert_eq!(doc["rules"][1]["path"], "\\.conf$");
        assert_eq!(doc["rules"][1]["provider"], "other");
    }

    #[test]
    fn code_spans_survive_backticks() {
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`a"), "`` `a ``");
    }
}
