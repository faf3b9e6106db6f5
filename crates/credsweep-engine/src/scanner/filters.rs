//! Filters that decide whether a regex match is a credential or only looks like one.
//!
//! The placeholder filter is shared by every rule: documentation, templates and example configs
//! are full of values shaped like credentials (`sk_live_abc123...`, `{your_auth_token}`,
//! `${VOBIZ_AUTH_TOKEN}`, `process.env.TOKEN`), and a scanner that reports them gets switched off.

use std::sync::LazyLock;

use regex::bytes::Regex;

/// Shannon entropy in bits per byte.
pub fn shannon_entropy(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in data {
        counts[b as usize] += 1;
    }
    let len = data.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / len;
            -p * p.log2()
        })
        .sum()
}

/// Templating inside the secret: `${VAR}`, `{{ var }}`, `{your_token}`, `<your token>`,
/// `%(name)s`, `$VAR`, `%VAR%`.
static TEMPLATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x-u)
        \$\{[^}]*\}? | \$\( | \{\{ | \}\}
        | \{\s*[A-Za-z_][A-Za-z0-9_.\ -]*\s*\}
        | <\s*[A-Za-z_][A-Za-z0-9_.\ -]*\s*>
        | %\([A-Za-z_]+\)s
        | ^\$[A-Za-z_][A-Za-z0-9_]*$
        | ^%[A-Za-z_][A-Za-z0-9_]*%$
        ",
    )
    .unwrap()
});

/// Reading the value from the environment, in the text just before the secret:
/// `os.environ["X"]`, `os.getenv("X")`, `process.env.X`, `ENV["X"]`, `System.getenv("X")`.
static ENV_BEFORE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?xi-u)
        (?: environ (?:\.get)? \s* [\[(] \s* ['"]?
          | getenv \s* \( \s* ['"]?
          | process\.env (?:\. | \[\s*['"]?)
          | import\.meta\.env\.
          | \benv \s* (?: \[ | \( | \. ) \s* ['"]?
          | \$\{? | \$env: | %
        )$"#,
    )
    .unwrap()
});

/// Environment reads inside the secret itself (a generic rule may capture the expression).
static ENV_INSIDE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i-u)os\.environ|getenv\(|process\.env|import\.meta\.env|\bENV\[").unwrap()
});

const PLACEHOLDER_WORDS: &[&[u8]] = &[
    b"your",
    b"example",
    b"placeholder",
    b"here",
    b"dummy",
    b"changeme",
];

/// Long secrets (PEM blocks, service-account files) are not screened for words or runs: a few
/// kilobytes of base64 contain `AAAAAAAA` or `here` by chance.
const SHORT_SECRET: usize = 200;

/// Whether `secret` is a placeholder rather than a credential. `before` and `after` are the bytes
/// of the same line just before and after it.
pub fn is_placeholder(secret: &[u8], before: &[u8], after: &[u8]) -> bool {
    if after.starts_with(b"...") || after.starts_with("\u{2026}".as_bytes()) {
        return true;
    }
    if memchr::memmem::find(secret, b"...").is_some()
        || memchr::memmem::find(secret, "\u{2026}".as_bytes()).is_some()
    {
        return true;
    }
    if TEMPLATE.is_match(secret) || ENV_INSIDE.is_match(secret) {
        return true;
    }
    let tail = &before[before.len().saturating_sub(48)..];
    if ENV_BEFORE.is_match(tail) {
        return true;
    }
    if secret.len() >= SHORT_SECRET {
        return false;
    }
    let lower = secret.to_ascii_lowercase();
    if PLACEHOLDER_WORDS
        .iter()
        .any(|w| memchr::memmem::find(&lower, w).is_some())
    {
        return true;
    }
    let run = longest_run(secret);
    if run >= 6 && run * 4 >= secret.len() {
        return true;
    }
    // Masked values: `sk_live_4eC3********`, `AKIAXXXXXXXXXXXXXXXX`.
    if longest_run_of(&lower, b"x*#0") >= 8 {
        return true;
    }
    // `abcdefgh`, `12345678`, `abcd1234`, `a1b2c3d4`: how people type a fake value.
    longest_ascending_run(&lower) >= 8
        || (ascending_run_of(&lower, u8::is_ascii_alphabetic) >= 4
            && ascending_run_of(&lower, u8::is_ascii_digit) >= 4)
        || interleaved_ascending_run(&lower) >= 6
}

/// The longest ascending run (`abcd`, `1234`) made only of bytes of one class.
fn ascending_run_of(s: &[u8], class: fn(&u8) -> bool) -> usize {
    let (mut best, mut cur) = (0, 0);
    for (i, b) in s.iter().enumerate() {
        cur = if !class(b) {
            0
        } else if i > 0 && class(&s[i - 1]) && s[i - 1].wrapping_add(1) == *b {
            cur + 1
        } else {
            1
        };
        best = best.max(cur);
    }
    best
}

/// The longest stretch like `a1b2c3d4` or `1a2b3c`, in which every byte is one more than the
/// byte two before it: two ascending sequences woven together.
fn interleaved_ascending_run(s: &[u8]) -> usize {
    let (mut best, mut cur) = (0, 0);
    for i in 0..s.len() {
        cur = if i >= 2 && s[i - 2].wrapping_add(1) == s[i] && s[i].is_ascii_alphanumeric() {
            cur + 1
        } else {
            (i + 1).min(2)
        };
        best = best.max(cur);
    }
    best
}

/// The length of the longest run of one repeated byte.
fn longest_run(s: &[u8]) -> usize {
    let (mut best, mut cur) = (0, 0);
    for (i, &b) in s.iter().enumerate() {
        cur = if i > 0 && s[i - 1] == b { cur + 1 } else { 1 };
        best = best.max(cur);
    }
    best
}

/// The longest run of one repeated byte among `set`.
fn longest_run_of(s: &[u8], set: &[u8]) -> usize {
    let (mut best, mut cur) = (0, 0);
    for (i, &b) in s.iter().enumerate() {
        cur = if !set.contains(&b) {
            0
        } else if i > 0 && s[i - 1] == b {
            cur + 1
        } else {
            1
        };
        best = best.max(cur);
    }
    best
}

/// The longest run like `abcdefgh` or `12345678`: documentation's favourite fake value.
fn longest_ascending_run(s: &[u8]) -> usize {
    let (mut best, mut cur) = (0, 0);
    for (i, &b) in s.iter().enumerate() {
        cur = if i > 0 && s[i - 1].wrapping_add(1) == b && b.is_ascii_alphanumeric() {
            cur + 1
        } else {
            1
        };
        best = best.max(cur);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ph(s: &str) -> bool {
        is_placeholder(s.as_bytes(), b"", b"")
    }

    #[test]
    fn entropy_bounds() {
        assert_eq!(shannon_entropy(b""), 0.0);
        assert_eq!(shannon_entropy(b"aaaa"), 0.0);
        assert!((shannon_entropy(b"abcd") - 2.0).abs() < 1e-9);
    }

    #[test]
    fn seed_placeholders_are_placeholders() {
        assert!(ph("{your_auth_token}"));
        assert!(ph("{your_partner_id}"));
        assert!(ph("${VOBIZ_AUTH_TOKEN}"));
        assert!(ph("{{ vobiz_token }}"));
        assert!(ph("<your token>"));
        assert!(ph("your_token_here"));
        assert!(ph("sk_live_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"));
        assert!(ph("sk_live_abcdefghijklmnopqrstuvwxyz123456"));
        assert!(ph("process.env.VOBIZ_AUTH_TOKEN"));
        assert!(ph("os.environ['VOBIZ_AUTH_TOKEN']"));
        assert!(is_placeholder(b"sk_live_abc123", b"X-Auth-Token: ", b"..."));
        assert!(is_placeholder(
            b"VOBIZ_AUTH_TOKEN",
            b"token = os.environ[\"",
            b"\"]"
        ));
        assert!(is_placeholder(
            b"VOBIZ_AUTH_TOKEN",
            b"token: process.env.",
            b""
        ));
    }

    #[test]
    fn typed_fake_values_are_placeholders() {
        assert!(ph("abcd1234defg5678"));
        assert!(ph("a1b2c3d4567890ab"));
        assert!(ph("1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"));
        assert!(!ph("q8Zr2mPv7XwK9sLd4Tn6Hb3Jc1Fy5Gu0Ae7Wi2Ro"));
        assert!(!ph("62d91b17309e76c8"));
    }

    #[test]
    fn realistic_tokens_are_not_placeholders() {
        assert!(!ph("sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE"));
        assert!(!ph("ghp_R4nd0mLook1ngF4keT0kenQw3rtyZxcv12"));
        assert!(!ph("Secure@123"));
        // Long key material keeps its chance runs.
        let pem = format!(
            "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAB{}",
            "Zm9v".repeat(60)
        );
        assert!(!ph(&pem));
    }
}
