//! The paths path-scoped rules name (`path = ...`: `.pgpass`, `.git-credentials`), as history
//! checks them: a blob is scanned with those rules only if it sits at such a path, and the
//! check runs on every blob entry of every tree the locate walk reads, so it must cost next to
//! nothing for the paths that do not match, which are nearly all.
//!
//! The scanner's path filters answer both questions history asks, from the one trie of the
//! filters' endings the tree scan uses: whether a file name may end a path some filter matches
//! (asked of every blob entry, before its directory is known), and whether a whole path is
//! matched.

use crate::scanner::Scanner;

/// The path filters of the rules in force, ready to test paths against.
pub(crate) struct ScopedPaths<'a> {
    scanner: &'a Scanner,
}

impl<'a> ScopedPaths<'a> {
    /// The path filters of `scanner`'s rules; `None` when no rule has one.
    pub fn of(scanner: &'a Scanner) -> Option<ScopedPaths<'a>> {
        // A filter that does not compile (a broken built-in rule, which the scan reports)
        // names no path.
        let any = scanner
            .rules()
            .rules()
            .iter()
            .any(|r| r.path.as_ref().is_some_and(|p| p.get().is_some()));
        any.then_some(ScopedPaths { scanner })
    }

    /// Whether a path-scoped rule applies at `path`.
    pub fn matches(&self, path: &[u8]) -> bool {
        self.scanner.path_filters_match(path)
    }

    /// Whether a path-scoped rule may apply at a path whose last component is `name`, whatever
    /// its directory: `None` when that cannot be told from the name (a filter that can end
    /// anywhere). Conservative: the whole path is tested exactly later ([`ScopedPaths::names`]).
    pub fn may_name(&self, name: &[u8]) -> Option<bool> {
        self.scanner.path_filters_may_end(name)
    }

    /// Whether a path-scoped rule applies at `prefix/name`, joined in `buf` (reused: this runs
    /// on every blob entry of every tree).
    pub fn names(&self, prefix: &[u8], name: &[u8], buf: &mut Vec<u8>) -> bool {
        if self.may_name(name) == Some(false) {
            return false;
        }
        buf.clear();
        if !prefix.is_empty() {
            buf.extend_from_slice(prefix);
            buf.push(b'/');
        }
        buf.extend_from_slice(name);
        self.matches(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use credsweep_engine::rules::RuleSet;

    #[test]
    fn every_default_path_filter_is_told_from_a_file_name() {
        // A filter whose matches can end with anything makes every file name a candidate:
        // history then cannot build its skeleton of trees and reads trees by id (on git/git:
        // 25 s instead of about 10 s).
        let scanner = Scanner::new(RuleSet::builtin().unwrap());
        let scoped = ScopedPaths::of(&scanner).expect("the default pack has path filters");
        assert_eq!(scoped.may_name(b"lib.rs"), Some(false));
        assert_eq!(scoped.may_name(b".pgpass"), Some(true));
        // Each filter on its own: `path_scopes` in the engine.
    }

    #[test]
    fn names_and_whole_paths() {
        let scanner = Scanner::new(RuleSet::builtin().unwrap());
        let scoped = ScopedPaths::of(&scanner).unwrap();
        let mut buf = Vec::new();
        assert!(scoped.names(b"home/u", b".pgpass", &mut buf));
        assert_eq!(buf, b"home/u/.pgpass");
        assert!(scoped.names(b"", b".pgpass", &mut buf));
        assert!(!scoped.names(b"src", b"pgpass.rs", &mut buf));
        // A name some ending ends with, whose whole path no filter matches.
        assert_eq!(scoped.may_name(b"config"), Some(true));
        assert!(scoped.names(b"home/u/.kube", b"config", &mut buf));
        assert!(!scoped.names(b"src", b"config", &mut buf));
        assert!(scoped.matches(b"a/.git-credentials"));
        assert!(!scoped.matches(b"a/git-credentials.rs"));
    }

    #[test]
    fn no_path_filter_no_scoped_paths() {
        let mut set = RuleSet::default();
        set.add_toml(
            "t.toml",
            "[[rule]]\nid='any'\ndescription='d'\nseverity='error'\nregex='(?P<secret>zzq)'\nkeywords=['zzq']\n",
        )
        .unwrap();
        assert!(ScopedPaths::of(&Scanner::new(set)).is_none());
    }
}
