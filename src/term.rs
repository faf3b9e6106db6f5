//! What credsweep writes for people to read: strings from a repository made safe to print, and
//! diagnostics on stderr that cannot panic.
//!
//! A repository under review is untrusted, and so is every string in it that a report shows: a
//! file or tree entry name, a commit's author and subject, a ref name, a rule description from
//! its configuration. Printed raw, an escape sequence in one of them can rewrite the terminal
//! (erase the finding above it, forge a clean summary), a carriage return can overwrite a line,
//! a bidi override can reorder what the reader sees, and a line that starts with `::` is a
//! workflow command to a CI runner (`::error ...`, `::add-mask::`, `::stop-commands::`).
//! [`escape`] writes such characters the way `git` quotes paths, as visible escapes.
//!
//! `eprintln!` panics when stderr is a closed pipe (`credsweep ... 2>&1 >/dev/null | true`), and a
//! panic in the panic hook aborts. [`eprint_line`] writes and ignores the error instead: a
//! diagnostic nobody can read is not a reason to lose the scan's exit status.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write as _;

/// Whether `c` must not reach a terminal or CI log as it is: C0 controls (ESC, CR, LF, TAB, BEL,
/// ...), DEL, C1 controls, and the Unicode characters that reorder or split lines (bidi
/// embeddings, overrides and isolates, the directional marks, line and paragraph separators).
pub(crate) fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{2028}' | '\u{2029}' | '\u{202A}'
                ..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
        )
}

/// `s` with every unsafe character (`is_unsafe_char`) written as an escape: `\t`, `\n`, `\r`,
/// `\e` for ESC, `\xHH` for other C0, DEL and C1 controls, `\u{HHHH}` for the Unicode ones. A
/// string that starts (after white space) with `::` or `##` gets its first character escaped too
/// (`\x3a:`, `\x23#`), so that it cannot be read as a CI workflow command wherever it lands at the
/// start of a line. Borrowed when nothing needed escaping.
pub fn escape(s: &str) -> Cow<'_, str> {
    // CI runners trim any Unicode white space before looking for a command (a no-break space
    // included), so the command test does too.
    let lead = s.trim_start_matches(char::is_whitespace);
    let command_like = lead.starts_with("::") || lead.starts_with("##");
    if !command_like && !s.chars().any(is_unsafe_char) {
        return Cow::Borrowed(s);
    }
    let lead_at = s.len() - lead.len();
    let mut out = String::with_capacity(s.len() + 8);
    for (i, c) in s.char_indices() {
        match c {
            _ if command_like && i == lead_at => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\x1b' => out.push_str("\\e"),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_unsafe_char(c) => {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// [`escape`] for a message of several lines: each line escaped on its own, the line breaks kept
/// (an error that quotes a regex parser's multi-line explanation stays readable).
pub fn escape_lines(s: &str) -> String {
    s.split('\n').map(escape).collect::<Vec<_>>().join("\n")
}

/// Writes `msg` and a newline to stderr, ignoring failures (a closed pipe, a full disk): never
/// panics, unlike `eprintln!`. Callers escape repository strings in `msg` themselves.
pub fn eprint_line(msg: impl std::fmt::Display) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{msg}");
    let _ = err.flush();
}

/// `json` (a serialized JSON document) with every invisible direction or line-separator
/// character written as a `\uXXXX` escape: the same JSON value, but a terminal or browser that
/// shows the document cannot be made to reorder or split what it displays. Such characters only
/// occur inside JSON strings, where the escape is valid.
pub(crate) fn escape_json_invisibles(json: String) -> String {
    if !json.chars().any(is_invisible_format) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if is_invisible_format(c) {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

/// The characters [`is_unsafe_char`] names that JSON leaves as they are (it escapes controls).
fn is_invisible_format(c: char) -> bool {
    is_unsafe_char(c) && !c.is_control()
}

/// `1 blob`, `2 blobs`: `n` with the noun in the number it takes (`one`, else `many`).
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// [`plural`] for a noun whose plural adds `s`: `1 token`, `2 tokens`.
pub(crate) fn plural_s(n: usize, noun: &str) -> String {
    plural(n, noun, &format!("{noun}s"))
}

/// Writes `msg` as it is to stderr, ignoring failures (see [`eprint_line`]).
pub fn eprint_text(msg: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(msg.as_bytes());
    let _ = err.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(escape("src/main.rs: fix é"), Cow::Borrowed(_)));
    }

    #[test]
    fn controls_and_bidi_are_escaped() {
        assert_eq!(
            escape("a\x1b[2Kb\rc\nd\te\x7f"),
            "a\\e[2Kb\\rc\\nd\\te\\x7f"
        );
        assert_eq!(escape("x\u{0085}y"), "x\\x85y");
        assert_eq!(escape("evil\u{202E}txt.exe"), "evil\\u{202e}txt.exe");
        let json = serde_json::to_string(&"a\u{202E}b\u{2028}c").unwrap();
        let safe = escape_json_invisibles(json);
        assert_eq!(safe, "\"a\\u202eb\\u2028c\"");
        assert_eq!(
            serde_json::from_str::<String>(&safe).unwrap(),
            "a\u{202E}b\u{2028}c"
        );
    }

    #[test]
    fn workflow_commands_are_defused() {
        assert_eq!(escape("::error ::forged"), "\\x3a:error ::forged");
        assert_eq!(escape("  ::add-mask::x"), "  \\x3a:add-mask::x");
        assert_eq!(escape("##[error]x"), "\\x23#[error]x");
        assert_eq!(escape("a::b"), "a::b");
        assert_eq!(escape("\u{a0}::x"), "\u{a0}\\x3a:x");
        // After an escaped newline the rest is on the same line: nothing more to do.
        assert_eq!(escape("ok\n::error x"), "ok\\n::error x");
        assert_eq!(escape_lines("ok\n::error x\r"), "ok\n\\x3a:error x\\r");
    }
}
