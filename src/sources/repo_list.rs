//! A list of repositories for `credsweep repos`: one per line (a local path, a bare repository,
//! or a `file://`, `https://` or `ssh://` clone URL), blank lines and `#` comments left out.
//!
//! Each line has a **key**: the line trimmed, without credentials in a URL and without trailing
//! slashes. The key names the repository wherever credsweep needs a stable name for it: a
//! repeated key is scanned once, `--shard K/N` assigns a repository by a hash of its key alone
//! (so adding a line moves no other repository), and the list's digest is over the keys.
//! What reports show is the **display** form: the line with a URL's password (or, over
//! http(s), a user name alone, which is how tokens are passed) replaced by `***`.
//!
//! A line is repository content of a kind: it is never passed where it could read as an option
//! (a line starting with `-` is refused), and one holding control characters is refused too.

use sha2::{Digest, Sha256};

/// The most a list may hold: far more than any organisation has repositories.
pub const MAX_LIST_SIZE: u64 = 64 << 20;

/// What a line names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A repository on this machine: opened where it is, no git needed.
    Path(std::path::PathBuf),
    /// A clone URL (`file://`, `https://`, `ssh://`): cloned into a mirror first.
    Url(String),
    /// A line that cannot be scanned, and why (recorded as a failed repository).
    Invalid(String),
}

/// One repository of a list.
#[derive(Debug, Clone)]
pub struct Item {
    /// The 1-based line number in the list.
    pub line: usize,
    pub target: Target,
    /// The stable name (see the module's documentation); free of credentials.
    pub key: String,
    /// The line as reports show it: credentials redacted, control characters escaped.
    pub display: String,
}

/// A parsed list.
#[derive(Debug, Clone, Default)]
pub struct RepoList {
    /// Each repository once, in the order of the list.
    pub items: Vec<Item>,
    /// Lines left out because an earlier line has the same key.
    pub duplicates: usize,
}

/// Which share of a list a run takes: `index` of `count` (`--shard K/N`, 1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Parses `K/N` with 1 <= K <= N.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}` is not K/N (e.g. 2/8: the second of eight shards)"))?;
        let index: u32 = k
            .trim()
            .parse()
            .map_err(|_| format!("`{k}` in `{s}` is not a whole number"))?;
        let count: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("`{n}` in `{s}` is not a whole number"))?;
        if count == 0 || index == 0 || index > count {
            return Err(format!(
                "shard `{s}`: K must be between 1 and N, and N at least 1"
            ));
        }
        Ok(Shard { index, count })
    }

    /// Whether the repository with `key` belongs to this shard.
    pub fn holds(&self, key: &str) -> bool {
        shard_of(key, self.count) == self.index
    }
}

/// The shard (1-based, of `count`) a repository with `key` belongs to: a hash of the key alone,
/// the same on every machine and in every version.
pub fn shard_of(key: &str, count: u32) -> u32 {
    let h = Sha256::digest(key.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&h[..8]);
    (u64::from_be_bytes(first) % u64::from(count.max(1))) as u32 + 1
}

impl RepoList {
    /// Parses the text of a list. Never fails: a line that cannot be scanned is an
    /// [`Target::Invalid`] item, recorded as a failed repository.
    pub fn parse(text: &str) -> RepoList {
        let mut list = RepoList::default();
        let mut seen = std::collections::HashSet::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let item = parse_line(i + 1, line);
            if seen.insert(item.key.clone()) {
                list.items.push(item);
            } else {
                list.duplicates += 1;
            }
        }
        list
    }

    /// `sha256:<hex>` of the keys, one per line: the same list gives the same digest, whatever
    /// its comments, blank lines, duplicates and credentials.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        for item in &self.items {
            h.update(item.key.as_bytes());
            h.update(b"\n");
        }
        format!("sha256:{}", hex(&h.finalize()))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The URL schemes credsweep clones.
const SCHEMES: [&str; 3] = ["file", "https", "ssh"];

fn parse_line(line: usize, text: &str) -> Item {
    let display = display_form(text);
    if text.chars().any(char::is_control) {
        return Item {
            line,
            key: format!("line {line}: {display}"),
            display,
            target: Target::Invalid(
                "the line holds control characters: it is not a path or URL credsweep opens"
                    .to_string(),
            ),
        };
    }
    let key = key_form(text);
    let target = if text.starts_with('-') {
        Target::Invalid(
            "the line starts with `-`, which would read as an option: write a path as `./-name`"
                .to_string(),
        )
    } else if let Some((scheme, _)) = text.split_once("://") {
        if SCHEMES.contains(&scheme.to_ascii_lowercase().as_str()) {
            Target::Url(text.to_string())
        } else {
            Target::Invalid(format!(
                "`{scheme}://` URLs are not cloned: credsweep clones file://, https:// and ssh:// URLs"
            ))
        }
    } else {
        Target::Path(std::path::PathBuf::from(text))
    };
    Item {
        line,
        target,
        key,
        display,
    }
}

/// Where a URL's user information is: the byte range between `://` and the `@` before the host,
/// and the scheme.
fn userinfo(url: &str) -> Option<(&str, std::ops::Range<usize>)> {
    let (scheme, rest) = url.split_once("://")?;
    let start = scheme.len() + 3;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let at = rest[..authority_end].rfind('@')?;
    Some((scheme, start..start + at))
}

/// The line with a URL's credentials left out, trailing slashes dropped.
fn key_form(text: &str) -> String {
    let mut s = match userinfo(text) {
        Some((_, r)) => format!("{}{}", &text[..r.start], &text[r.end + 1..]),
        None => text.to_string(),
    };
    while s.len() > 1 && s.ends_with('/') && !s.ends_with("://") {
        s.pop();
    }
    s
}

/// The line as reports show it: a URL's password replaced by `***` (`https://user:***@host/x`),
/// a user name alone over http(s) too (a token is passed that way); control characters escaped.
pub fn display_form(text: &str) -> String {
    let redacted = match userinfo(text) {
        Some((scheme, r)) => {
            let info = &text[r.clone()];
            let shown = match info.split_once(':') {
                Some((user, _)) => format!("{user}:***"),
                None if scheme.to_ascii_lowercase().starts_with("http") => "***".to_string(),
                None => info.to_string(),
            };
            format!("{}{shown}{}", &text[..r.start], &text[r.end..])
        }
        None => text.to_string(),
    };
    crate::term::escape(&redacted).into_owned()
}

/// `text` (git's words about `url`) with `url` in its display form, and the secret part of its
/// user information (a password, or an http(s) user name) replaced wherever else it appears.
pub fn redact_url_in(text: &str, url: &str) -> String {
    let mut out = text.replace(url, &display_form(url));
    if let Some((scheme, r)) = userinfo(url) {
        let info = &url[r];
        let secret = match info.split_once(':') {
            Some((_, password)) => password,
            None if scheme.to_ascii_lowercase().starts_with("http") => info,
            None => "",
        };
        if !secret.is_empty() {
            out = out.replace(secret, "***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_comments_duplicates_and_kinds() {
        let list = RepoList::parse(
            "# org\n\n  ./a  \nfile:///srv/b.git\n./a/\nhttps://u:pw@host/c\n-o\nftp://h/x\n",
        );
        let kinds: Vec<_> = list.items.iter().map(|i| (i.line, &i.target)).collect();
        assert_eq!(kinds.len(), 5, "{kinds:?}");
        assert_eq!(list.duplicates, 1);
        assert_eq!(list.items[0].target, Target::Path("./a".into()));
        assert_eq!(
            list.items[1].target,
            Target::Url("file:///srv/b.git".into())
        );
        assert_eq!(list.items[2].key, "https://host/c");
        assert_eq!(list.items[2].display, "https://u:***@host/c");
        assert!(matches!(list.items[3].target, Target::Invalid(_)));
        assert!(matches!(list.items[4].target, Target::Invalid(_)));
    }

    #[test]
    fn credentials_are_redacted_and_not_in_the_key() {
        assert_eq!(
            display_form("https://ghp_token@github.com/o/r"),
            "https://***@github.com/o/r"
        );
        assert_eq!(
            display_form("ssh://git@github.com/o/r"),
            "ssh://git@github.com/o/r"
        );
        assert_eq!(key_form("https://a:b@h/x@y/"), "https://h/x@y");
        assert_eq!(
            redact_url_in(
                "fatal: 'https://a:fakeS3cret@h/r' failed: fakeS3cret",
                "https://a:fakeS3cret@h/r"
            ),
            "fatal: 'https://a:***@h/r' failed: ***"
        );
        // A rotated token does not move the repository to another shard.
        let a = RepoList::parse("https://x:one@h/r\n");
        let b = RepoList::parse("https://x:two@h/r\n");
        assert_eq!(a.digest(), b.digest());
    }

    #[test]
    fn control_characters_are_refused_and_escaped() {
        let list = RepoList::parse("./a\u{1b}[31mred\n");
        let item = &list.items[0];
        assert!(matches!(item.target, Target::Invalid(_)));
        assert!(!item.display.contains('\u{1b}'), "{}", item.display);
    }

    #[test]
    fn shards_are_a_partition_and_stable() {
        let keys: Vec<String> = (0..200).map(|i| format!("repo-{i}")).collect();
        let n = 4;
        for k in &keys {
            let holders: Vec<u32> = (1..=n)
                .filter(|&i| Shard { index: i, count: n }.holds(k))
                .collect();
            assert_eq!(holders.len(), 1);
        }
        // Every shard gets some of 200 keys.
        for i in 1..=n {
            assert!(keys.iter().any(|k| shard_of(k, n) == i));
        }
        assert!(Shard::parse("0/3").is_err());
        assert!(Shard::parse("4/3").is_err());
        assert_eq!(Shard::parse("2/3"), Ok(Shard { index: 2, count: 3 }));
    }
}
