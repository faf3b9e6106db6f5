//! The `path` filters of a rule set, matched together once per path.
//!
//! A rule with a `path` filter runs only on content at a path the filter matches. Asked rule by
//! rule, each filter compared the path with every literal ending it fixes ([`PathRegex::endings`];
//! the default `.htpasswd` filter alone has 46), and did so for every buffer of every file and for
//! every path-scoped rule asked about it: 7% of the instructions of `credsweep dir` on crate
//! sources. Here the endings of all filters are one trie of reversed bytes, walked once per path
//! from its last byte: a path such as `src/lib.rs` leaves it after a byte or two, and only the
//! filters whose ending the path has go on to their regex, and only for a rule that is asked
//! about. What is decided is what [`PathRegex::is_match`] decides.
//!
//! The same trie answers a question asked with a file name alone (history, which reads a tree's
//! entries before it knows their directory): whether any filter may match a path ending with
//! that name ([`PathScopes::may_end`]), walked from the name's last byte as a path is.

use std::sync::OnceLock;

use crate::rules::{PathRegex, RuleIdx, RuleSet};

/// The most filters the trie tells apart; a rule set with more path-scoped rules asks the ones
/// past this one by one ([`PathRegex::is_match`]).
const MAX_SLOTS: usize = 256;

const NO_SLOT: u32 = u32::MAX;

/// The path filters of one rule set ([`PathScopes::at`]).
#[derive(Debug)]
pub(crate) struct PathScopes {
    /// Per rule, the slot of its filter, or [`NO_SLOT`] for a rule without one.
    slots: Vec<u32>,
    /// Per slot, its rule.
    rules: Vec<RuleIdx>,
    /// The endings of the filters for an ASCII path, and for any other, built on first use.
    ascii: OnceLock<Trie>,
    other: OnceLock<Trie>,
}

impl PathScopes {
    pub(crate) fn new(rules: &RuleSet) -> PathScopes {
        let mut slots = vec![NO_SLOT; rules.len()];
        let mut scoped = Vec::new();
        for (i, rule) in rules.rules().iter().enumerate() {
            if rule.path.is_some() {
                slots[i] = scoped.len() as u32;
                scoped.push(RuleIdx(i as u32));
            }
        }
        PathScopes {
            slots,
            rules: scoped,
            ascii: OnceLock::new(),
            other: OnceLock::new(),
        }
    }

    /// The trie for paths that are ASCII or not, built on first use from `rules`.
    fn trie(&self, rules: &RuleSet, ascii: bool) -> &Trie {
        let lock = if ascii { &self.ascii } else { &self.other };
        lock.get_or_init(|| Trie::new(rules, &self.rules, ascii))
    }

    /// The filters' verdicts on `path`, found as they are asked for ([`ScopesAt::allows`]).
    /// `rules` is the rule set this was made from.
    pub(crate) fn at<'a>(&'a self, rules: &'a RuleSet, path: &'a [u8]) -> ScopesAt<'a> {
        let trie = self.trie(rules, path.is_ascii());
        ScopesAt {
            scopes: self,
            rules,
            path,
            candidates: trie.candidates(path),
        }
    }
}

impl PathScopes {
    /// Whether some filter may match a path whose last component is `name`, whatever its
    /// directory: false when none can; `None` when that cannot be told from a name (a filter
    /// that fixes no ending: its matches may end anywhere). `rules` is the rule set this was
    /// made from.
    ///
    /// Conservative: true when an ending is longer than `name` and ends with it (it may reach
    /// into the directory), or when the walk meets a byte outside ASCII and a filter fixes no
    /// ending for paths that are not ASCII. The name's bytes are walked from its last through
    /// the endings for ASCII paths for as long as they are ASCII, whatever comes before them
    /// (its directory, or the rest of the name): where an ending meets ASCII bytes, the endings
    /// for other paths hold the same bytes in ASCII lower case, and bytes outside ASCII match
    /// no byte of them. Past that, the endings for other paths decide.
    pub(crate) fn may_end(&self, rules: &RuleSet, name: &[u8]) -> Option<bool> {
        let ascii = self.trie(rules, true);
        if ascii.always_any {
            return None;
        }
        // Asked of every file name of every tree of a history: the name is not scanned for
        // bytes outside ASCII first, the walk meets the ones that matter.
        match ascii.may_end(name) {
            Some(may) => Some(may),
            None => {
                let other = self.trie(rules, false);
                Some(other.always_any || other.may_end(name) == Some(true))
            }
        }
    }

    /// Whether some filter matches `path`. `rules` is the rule set this was made from.
    pub(crate) fn any_match(&self, rules: &RuleSet, path: &[u8]) -> bool {
        let at = self.at(rules, path);
        self.rules.iter().any(|&idx| at.allows(idx))
    }
}

/// What the path filters of a rule set say of one path.
pub(crate) struct ScopesAt<'a> {
    scopes: &'a PathScopes,
    rules: &'a RuleSet,
    path: &'a [u8],
    /// The slots whose filter fixes no ending or one the path has.
    candidates: Slots,
}

impl ScopesAt<'_> {
    /// Whether rule `idx` runs at the path: it has no `path` filter, or its filter matches.
    pub(crate) fn allows(&self, idx: RuleIdx) -> bool {
        let Some(filter) = &self.rules.get(idx).path else {
            return true;
        };
        match self.scopes.slots.get(idx.0 as usize) {
            Some(&slot) if (slot as usize) < MAX_SLOTS => {
                self.candidates.contains(slot as usize) && filter.regex_is_match(self.path)
            }
            _ => filter.is_match(self.path),
        }
    }
}

/// A set of slots below [`MAX_SLOTS`].
#[derive(Debug, Clone, Copy, Default)]
struct Slots([u64; MAX_SLOTS / 64]);

impl Slots {
    fn insert(&mut self, slot: usize) {
        self.0[slot / 64] |= 1 << (slot % 64);
    }

    fn contains(&self, slot: usize) -> bool {
        self.0[slot / 64] & (1 << (slot % 64)) != 0
    }

    fn union(&mut self, other: &Slots) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a |= b;
        }
    }
}

/// The endings of the filters, each reversed, in one trie: a path is read from its last byte
/// (in ASCII lower case, as the endings are) down the trie, and every node it reaches ends the
/// endings of the slots it holds.
#[derive(Debug)]
struct Trie {
    /// The root first.
    nodes: Vec<Node>,
    /// The root's children by byte (0 for none: the root is no one's child), so that the step
    /// every path takes is one load.
    first: [u32; 256],
    /// The slots whose filter fixes no ending: every path is a candidate.
    always: Slots,
    /// Whether a filter (of any slot, or past them) fixes no ending and compiles.
    always_any: bool,
}

#[derive(Debug, Default)]
struct Node {
    /// The next byte back, and its node.
    children: Vec<(u8, u32)>,
    /// The bytes of `children`, as bits: most paths leave the trie at the second or third
    /// byte, and a node near the root has dozens of children to look through.
    bytes: [u64; 4],
    /// The slots with an ending that ends here.
    ends: Slots,
    /// Whether an ending (of any filter, past the slots too) ends here.
    end: bool,
}

impl Trie {
    /// The trie of the endings of the filters of `scoped`, for an ASCII path if `ascii`; the
    /// first [`MAX_SLOTS`] filters have their slot.
    fn new(rules: &RuleSet, scoped: &[RuleIdx], ascii: bool) -> Trie {
        let mut trie = Trie {
            nodes: vec![Node::default()],
            first: [0; 256],
            always: Slots::default(),
            always_any: false,
        };
        for (slot, &idx) in scoped.iter().enumerate() {
            let slot = (slot < MAX_SLOTS).then_some(slot);
            let filter: &PathRegex = rules.get(idx).path.as_ref().expect("a scoped rule");
            match filter.endings(ascii) {
                Some(endings) => {
                    for e in endings {
                        trie.add(e, slot);
                    }
                }
                None => {
                    if let Some(slot) = slot {
                        trie.always.insert(slot);
                    }
                    // A filter that does not compile matches nothing (the scan reports it).
                    trie.always_any |= filter.get().is_some();
                }
            }
        }
        trie
    }

    fn add(&mut self, ending: &[u8], slot: Option<usize>) {
        let mut node = 0;
        for &b in ending.iter().rev() {
            let b = b.to_ascii_lowercase();
            node = match self.child(node, b) {
                Some(next) => next,
                None => {
                    let next = self.nodes.len() as u32;
                    self.nodes.push(Node::default());
                    self.nodes[node].children.push((b, next));
                    self.nodes[node].bytes[usize::from(b >> 6)] |= 1 << (b & 63);
                    if node == 0 {
                        self.first[usize::from(b)] = next;
                    }
                    next as usize
                }
            };
        }
        let node = &mut self.nodes[node];
        node.end = true;
        if let Some(slot) = slot {
            node.ends.insert(slot);
        }
    }

    /// Whether a path ending with `name` may end with an ending, without regard to ASCII case:
    /// `name` ends with one, or one is longer and ends with `name`. `None` when the walk meets
    /// a byte outside ASCII before it can tell (this trie is for ASCII paths, the caller then
    /// asks the other one).
    fn may_end(&self, name: &[u8]) -> Option<bool> {
        let Some((&last, rest)) = name.split_last() else {
            return Some(!self.nodes[0].children.is_empty());
        };
        if !last.is_ascii() {
            return None;
        }
        let mut node = self.first[usize::from(last.to_ascii_lowercase())] as usize;
        if node == 0 {
            return Some(false);
        }
        for &b in rest.iter().rev() {
            if self.nodes[node].end {
                return Some(true);
            }
            if !b.is_ascii() {
                return None;
            }
            match self.child(node, b.to_ascii_lowercase()) {
                Some(next) => node = next,
                None => return Some(false),
            }
        }
        // The whole name is an ending's end, or ends one.
        Some(true)
    }

    fn child(&self, node: usize, byte: u8) -> Option<usize> {
        let node = &self.nodes[node];
        if node.bytes[usize::from(byte >> 6)] & (1 << (byte & 63)) == 0 {
            return None;
        }
        node.children
            .iter()
            .find(|&&(b, _)| b == byte)
            .map(|&(_, n)| n as usize)
    }

    /// The slots whose filter fixes no ending or one that `path` ends with, without regard to
    /// ASCII case.
    fn candidates(&self, path: &[u8]) -> Slots {
        let mut found = self.always;
        let Some((&last, rest)) = path.split_last() else {
            return found;
        };
        let mut node = self.first[usize::from(last.to_ascii_lowercase())] as usize;
        if node == 0 {
            return found;
        }
        found.union(&self.nodes[node].ends);
        for &b in rest.iter().rev() {
            match self.child(node, b.to_ascii_lowercase()) {
                Some(next) => node = next,
                None => break,
            }
            found.union(&self.nodes[node].ends);
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Paths of every kind a filter of the default pack tells apart: its endings in other cases,
    /// nested, as a whole path, with a byte more or less, and paths that are not ASCII.
    const PATHS: &[&str] = &[
        "",
        "/",
        "src/lib.rs",
        "README.md",
        ".env",
        "app/.ENV",
        ".env.local",
        "deploy/.env.production.bak",
        ".env.local.bak.old",
        "x.env",
        "a/b.env",
        "envs/.envrc",
        "home/.netrc",
        "home/_netrc",
        "home/x.netrc",
        "home/.NETRC",
        ".kube/config",
        "home/u/.kube/config",
        "kube/config",
        "cluster.kubeconfig",
        "kubeconfig.YAML",
        "config/master.key",
        "app/config/credentials/production.key",
        "config/credentials/.key",
        "x.key",
        "settings.py",
        "proj/settings_local.py",
        "settings/prod.py",
        "mysettings.py",
        "main.py",
        "dump.sql",
        "backup/ALL.SQL",
        "x.sql.gz",
        "sftp-config.json",
        "a/SFTP-CONFIG-ALT2.json",
        "package.json",
        "data-sources.local.json",
        "terraform.tfstate",
        "prod.tfstate.backup",
        ".ftpconfig",
        "filezilla.xml",
        "AppData/FileZilla/recentservers.xml",
        "sitemanager.xml.bak",
        ".idea/dataSources.xml",
        ".idea/datasources.xml",
        ".idea/dataSources.local.xml",
        "pom.xml",
        ".htpasswd",
        "htpasswd.bak",
        "www/.htpasswd-users",
        "www/.htpasswd_admin",
        ".htpasswd.txt.bak",
        ".npmrc",
        "a/.YARNRC",
        ".pgpass",
        "pgpass.conf",
        "a/xpgpass",
        ".git-credentials",
        "git-credentials.txt",
        ".s3cfg",
        ".pypirc",
        "database.yml",
        "mongoid.yaml",
        "données/.env",
        "café/.netrc",
        "ünïcode/dump.sql",
        "ünïcode/src/lib.rs",
        "dump.ſql",
        "x/.env.ſtage",
        "\u{212a}ubeconfig",
    ];

    #[test]
    fn the_default_pack_decides_every_path_as_each_filter_does() {
        let rules = RuleSet::builtin().unwrap();
        let scopes = PathScopes::new(&rules);
        assert!(scopes.rules.len() >= 10, "{}", scopes.rules.len());
        let mut allowed = 0;
        for path in PATHS {
            let at = scopes.at(&rules, path.as_bytes());
            for (i, rule) in rules.rules().iter().enumerate() {
                let want = rule
                    .path
                    .as_ref()
                    .is_none_or(|f| f.is_match(path.as_bytes()));
                let got = at.allows(RuleIdx(i as u32));
                assert_eq!(got, want, "rule {} at {path:?}", rule.id);
                allowed += usize::from(rule.path.is_some() && got);
            }
        }
        assert!(allowed >= 40, "{allowed}");
    }

    /// File names, and paths whose last component is one, that the default filters match or
    /// nearly: in other cases, under directories that are or are not ASCII.
    fn may_end_cases() -> Vec<String> {
        let mut paths: Vec<String> = PATHS.iter().map(|p| p.to_string()).collect();
        for p in PATHS {
            for dir in ["données", "\u{212a}ube", ".ku\u{212a}e", "a/.kube", "_", ""] {
                paths.push(format!("{dir}/{p}"));
                paths.push(format!("{dir}{p}"));
            }
        }
        paths
    }

    #[test]
    fn a_file_name_no_filter_may_end_with_ends_no_path_a_filter_matches() {
        let rules = RuleSet::builtin().unwrap();
        let scopes = PathScopes::new(&rules);
        let (mut matched, mut refused) = (0, 0);
        for path in may_end_cases() {
            let name = path.rsplit('/').next().unwrap();
            let may = scopes.may_end(&rules, name.as_bytes());
            assert!(may.is_some(), "{path:?}");
            if scopes.any_match(&rules, path.as_bytes()) {
                matched += 1;
                assert_eq!(
                    may,
                    Some(true),
                    "{path:?}: a filter matches, and not its name?"
                );
            }
            refused += usize::from(may == Some(false));
            let direct = rules
                .rules()
                .iter()
                .any(|r| r.path.as_ref().is_some_and(|f| f.is_match(path.as_bytes())));
            assert_eq!(
                scopes.any_match(&rules, path.as_bytes()),
                direct,
                "{path:?}"
            );
        }
        // The cases have both kinds.
        assert!(matched >= 100, "{matched}");
        assert!(refused >= 50, "{refused}");
        // A name that some ending ends with: the directory may hold the rest.
        assert_eq!(scopes.may_end(&rules, b"config"), Some(true));
        assert_eq!(scopes.may_end(&rules, b"lib.rs"), Some(false));
        assert!(scopes.may_end(&rules, "d\u{f6}ner.rs".as_bytes()).is_some());
    }

    #[test]
    fn every_default_path_filter_ends_in_listed_endings() {
        // A filter whose matches can end with anything makes every file name a candidate: history
        // then cannot build its skeleton of trees and reads trees by id (on git/git: 25 s instead
        // of about 10 s).
        let rules = RuleSet::builtin().unwrap();
        for rule in rules.rules() {
            if let Some(path) = &rule.path {
                assert!(
                    path.endings(true).is_some(),
                    "{}: path filter `{}` can end with anything",
                    rule.id,
                    path.as_str()
                );
            }
        }
    }

    #[test]
    fn names_past_the_slots_and_filters_without_endings() {
        let mut filters: Vec<String> = (0..MAX_SLOTS + 4)
            .map(|i| format!(r"(?:^|/)f{i}\.txt$"))
            .collect();
        let refs: Vec<&str> = filters.iter().map(String::as_str).collect();
        let rules = scoped_rules(&refs);
        let scopes = PathScopes::new(&rules);
        let last = format!("f{}.txt", MAX_SLOTS + 3);
        assert_eq!(scopes.may_end(&rules, last.as_bytes()), Some(true));
        assert_eq!(scopes.may_end(&rules, b"x.txt"), Some(false));
        // A longer ending that ends with the name.
        assert_eq!(scopes.may_end(&rules, b"1.txt"), Some(true));
        filters.push(r"(?i)secrets/".to_string());
        let refs: Vec<&str> = filters.iter().map(String::as_str).collect();
        let rules = scoped_rules(&refs);
        let scopes = PathScopes::new(&rules);
        assert_eq!(scopes.may_end(&rules, b"x.txt"), None);
    }

    fn scoped_rules(filters: &[&str]) -> RuleSet {
        let mut toml = String::new();
        for (i, f) in filters.iter().enumerate() {
            toml.push_str(&format!(
                "[[rule]]\nid='r{i}'\ndescription='d'\nseverity='error'\n\
                 regex='(?P<secret>q{i}x)'\nkeywords=['q{i}x']\npath='''{f}'''\n"
            ));
        }
        toml.push_str(
            "[[rule]]\nid='any'\ndescription='d'\nseverity='error'\nregex='(?P<secret>zzq)'\nkeywords=['zzq']\n",
        );
        let mut set = RuleSet::default();
        set.add_toml("t.toml", &toml).unwrap();
        set
    }

    fn allowed(rules: &RuleSet, path: &str) -> Vec<String> {
        let scopes = PathScopes::new(rules);
        let at = scopes.at(rules, path.as_bytes());
        (0..rules.len())
            .filter(|&i| at.allows(RuleIdx(i as u32)))
            .map(|i| rules.rules()[i].id.clone())
            .collect()
    }

    #[test]
    fn endings_that_end_one_another_and_filters_without_endings() {
        let rules = scoped_rules(&[
            r"\.json$",
            r"(?:^|/)sftp-config\.json$",
            r"(?i)secrets/",
            r"(?:^|/)\.env$",
        ]);
        assert_eq!(allowed(&rules, "a/sftp-config.json"), ["r0", "r1", "any"]);
        assert_eq!(allowed(&rules, "a/xsftp-config.json"), ["r0", "any"]);
        assert_eq!(allowed(&rules, "package.json"), ["r0", "any"]);
        // No `$`: no ending, so the regex decides at every path.
        assert_eq!(allowed(&rules, "SECRETS/x.txt"), ["r2", "any"]);
        assert_eq!(allowed(&rules, "a/.env"), ["r3", "any"]);
        assert_eq!(allowed(&rules, "a/.env.txt"), ["any"]);
        // An ending the path has, whose regex refuses it.
        assert_eq!(allowed(&rules, "x.env"), ["any"]);
        assert_eq!(allowed(&rules, "src/lib.rs"), ["any"]);
    }

    #[test]
    fn filters_past_the_trie_are_asked_one_by_one() {
        let filters: Vec<String> = (0..MAX_SLOTS + 4)
            .map(|i| format!(r"(?:^|/)f{i}\.txt$"))
            .collect();
        let refs: Vec<&str> = filters.iter().map(String::as_str).collect();
        let rules = scoped_rules(&refs);
        assert_eq!(allowed(&rules, "d/f3.txt"), ["r3", "any"]);
        let last = MAX_SLOTS + 3;
        assert_eq!(
            allowed(&rules, &format!("d/f{last}.txt")),
            [format!("r{last}"), "any".to_string()]
        );
        assert_eq!(allowed(&rules, "d/f.txt"), ["any"]);
    }
}
