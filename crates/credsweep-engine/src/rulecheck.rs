//! `credsweep rules check`: every rule's examples must produce a finding of that rule, and its
//! negative examples must not, with the whole rule set in force. Running examples through the full
//! scanner (not the rule's regex alone) checks what users get: filters and overlap resolution
//! included.

use std::fmt;

use crate::rules::RuleSet;
use crate::scanner::{PathFilter, Scanner};

/// One example that did not behave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckFailure {
    pub rule: String,
    pub example: String,
    pub negative: bool,
    /// The rules that did match it.
    pub matched: Vec<String>,
}

impl fmt::Display for CheckFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.negative {
            "negative example was found"
        } else {
            "example was not found"
        };
        write!(f, "{}: {what}: {:?}", self.rule, self.example)?;
        if !self.matched.is_empty() {
            write!(f, " (matched: {})", self.matched.join(", "))?;
        }
        Ok(())
    }
}

/// Checks every rule's examples against the whole set.
pub fn check(set: &RuleSet) -> Vec<CheckFailure> {
    let scanner = Scanner::new(set.clone());
    let mut failures = Vec::new();
    for rule in set.rules() {
        let cases = rule
            .examples
            .iter()
            .map(|e| (e, false))
            .chain(rule.negative_examples.iter().map(|e| (e, true)));
        for (example, negative) in cases {
            let matched: Vec<String> = scanner
                .scan(example.as_bytes(), PathFilter::Unknown)
                .iter()
                .map(|m| scanner.rule(m.rule).id.clone())
                .collect();
            let hit = matched.contains(&rule.id);
            if hit == negative {
                failures.push(CheckFailure {
                    rule: rule.id.clone(),
                    example: example.clone(),
                    negative,
                    matched,
                });
            }
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_pack_passes_its_own_examples() {
        let set = RuleSet::builtin().unwrap();
        let failures = check(&set);
        assert!(
            failures.is_empty(),
            "{}",
            failures
                .iter()
                .map(|f| f.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    #[test]
    fn a_wrong_example_is_reported() {
        let mut set = RuleSet::default();
        set.add_toml(
            "t.toml",
            "[[rule]]\nid='t'\ndescription='d'\nseverity='error'\nregex='(?P<secret>tok_[a-z0-9]{8})'\nkeywords=['tok_']\nexamples=['nothing']\nnegative_examples=['tok_q8zr2mpv']\n",
        )
        .unwrap();
        let f = check(&set);
        assert_eq!(f.len(), 2);
        assert!(!f[0].negative && f[1].negative);
    }
}
