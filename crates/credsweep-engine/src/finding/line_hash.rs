//! GitHub code scanning's line hash of a finding's start line (SARIF's
//! `primaryLocationLineHash`): a property of where a finding is, computed once per scanned buffer,
//! while its bytes are at hand, beside the finding's [`Fingerprint`](super::Fingerprint). The
//! SARIF report only reads it.

use std::collections::{HashMap, HashSet};

use super::Finding;

/// GitHub's line hashes (`primaryLocationLineHash`) of the given 1-based `lines` of `data`, as
/// `github/codeql-action` computes them when it uploads SARIF (`src/fingerprints.ts`), so alerts
/// credsweep uploads are tracked the same way across commits whether or not the action could
/// read the file itself (it cannot for history and staged findings).
///
/// The algorithm: `data` is read as UTF-8 (invalid bytes become U+FFFD) and walked in UTF-16 code
/// units. Spaces and tabs are skipped; `\r\n`, `\r` and `\n` all end a line and count as one `\n`.
/// A polynomial rolling hash (base 37, wrapping 64-bit) runs over a window of the last 100
/// remaining units; each line's hash is the window's value once the 100 units that start at the
/// line's first unit have been added (the end of the data is marked by 65535 and padded with 0).
/// It is written in lower-case hex, then `:` and how many lines so far had the same hash.
///
/// Returns the hashes in the order of `lines`; a line past the end of `data` gets `None`.
pub fn line_hashes(data: &[u8], lines: &[u32]) -> Vec<Option<String>> {
    let wanted: HashSet<u32> = lines.iter().copied().collect();
    let mut h = LineHasher::new(wanted);
    if h.last_wanted > 0 && h.push_utf8(data) && h.push(LineHasher::EOF) {
        h.flush();
    }
    lines.iter().map(|l| h.found.get(l).cloned()).collect()
}

/// The state of [`line_hashes`]' rolling hash.
struct LineHasher {
    /// The last `BLOCK` units hashed, a ring buffer starting at `index`.
    window: [u16; LineHasher::BLOCK],
    /// The line that starts at each unit of `window`, or 0.
    line_numbers: [u32; LineHasher::BLOCK],
    hash: u64,
    /// `MOD` to the power `BLOCK`: what the unit leaving the window weighs.
    first_mod: u64,
    index: usize,
    line: u32,
    line_start: bool,
    prev_cr: bool,
    /// How many lines so far had each hash.
    counts: HashMap<u64, u32>,
    wanted: HashSet<u32>,
    last_wanted: u32,
    found: HashMap<u32, String>,
}

impl LineHasher {
    const BLOCK: usize = 100;
    const MOD: u64 = 37;
    const EOF: u16 = 0xFFFF;

    fn new(wanted: HashSet<u32>) -> LineHasher {
        LineHasher {
            window: [0; Self::BLOCK],
            line_numbers: [0; Self::BLOCK],
            hash: 0,
            first_mod: (0..Self::BLOCK).fold(1u64, |m, _| m.wrapping_mul(Self::MOD)),
            index: 0,
            line: 0,
            line_start: true,
            prev_cr: false,
            counts: HashMap::new(),
            last_wanted: wanted.iter().copied().max().unwrap_or(0),
            wanted,
            found: HashMap::new(),
        }
    }

    /// Hashes `data` read as UTF-8 the way Node.js reads a file (each invalid sequence becomes
    /// one U+FFFD), one UTF-16 unit at a time; returns false once every wanted line has its hash.
    fn push_utf8(&mut self, data: &[u8]) -> bool {
        for chunk in data.utf8_chunks() {
            let valid = chunk.valid();
            let more = if valid.is_ascii() {
                valid.bytes().all(|b| self.push(u16::from(b)))
            } else {
                valid.encode_utf16().all(|u| self.push(u))
            };
            if !more || (!chunk.invalid().is_empty() && !self.push(0xFFFD)) {
                return false;
            }
        }
        true
    }

    /// Hashes one UTF-16 unit; returns false once every wanted line has its hash.
    fn push(&mut self, mut unit: u16) -> bool {
        const SPACE: u16 = b' ' as u16;
        const TAB: u16 = b'\t' as u16;
        const LF: u16 = b'\n' as u16;
        const CR: u16 = b'\r' as u16;
        if unit == SPACE || unit == TAB || (self.prev_cr && unit == LF) {
            self.prev_cr = false;
            return true;
        }
        self.prev_cr = unit == CR;
        if unit == CR {
            unit = LF;
        }
        let starting = self.line_numbers[self.index];
        if starting != 0 {
            self.output();
            if starting >= self.last_wanted {
                return false;
            }
        }
        if self.line_start {
            self.line_start = false;
            self.line += 1;
            self.line_numbers[self.index] = self.line;
        }
        if unit == LF {
            self.line_start = true;
        }
        self.update(unit);
        true
    }

    /// The lines near the end, whose windows run past it: pads with 0.
    fn flush(&mut self) {
        for _ in 0..Self::BLOCK {
            if self.line_numbers[self.index] != 0 {
                self.output();
            }
            self.update(0);
        }
    }

    /// Emits the hash of the line that starts at `index`: its `BLOCK` units are in the window.
    fn output(&mut self) {
        let n = self.counts.entry(self.hash).or_insert(0);
        *n += 1;
        let line = self.line_numbers[self.index];
        if self.wanted.contains(&line) {
            self.found.insert(line, format!("{:x}:{n}", self.hash));
        }
        self.line_numbers[self.index] = 0;
    }

    fn update(&mut self, unit: u16) {
        let leaving = self.window[self.index];
        self.window[self.index] = unit;
        self.hash = Self::MOD
            .wrapping_mul(self.hash)
            .wrapping_add(u64::from(unit))
            .wrapping_sub(self.first_mod.wrapping_mul(u64::from(leaving)));
        self.index += 1;
        if self.index == Self::BLOCK {
            self.index = 0;
        }
    }
}

/// Sets [`Finding::line_hash`] on `findings`, all found in `data` (the bytes as stored: the file
/// or blob before any decoding, which is what code scanning hashes).
pub(crate) fn add_line_hashes(data: &[u8], findings: &mut [Finding]) {
    if findings.is_empty() {
        return;
    }
    let lines: Vec<u32> = findings.iter().map(|f| f.line).collect();
    for (f, h) in findings.iter_mut().zip(line_hashes(data, &lines)) {
        f.line_hash = h;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line's hash, one per line as code scanning counts lines (`\r\n`, `\r`, `\n`).
    fn all(data: &str) -> Vec<String> {
        let n = data
            .split("\r\n")
            .flat_map(|l| l.split(['\r', '\n']))
            .count() as u32;
        let h = line_hashes(data.as_bytes(), &(1..=n + 1).collect::<Vec<_>>());
        assert_eq!(h[n as usize], None, "no line past the last");
        h[..n as usize].iter().map(|h| h.clone().unwrap()).collect()
    }

    /// Test vectors from `github/codeql-action`'s tests of the same algorithm.
    #[test]
    fn line_hashes_match_codeql_action() {
        assert_eq!(all(""), ["c129715d7a2bc9a3:1"]);
        assert_eq!(
            all(" a\nb\n  \t\tc\n d"),
            [
                "271789c17abda88f:1",
                "54703d4cd895b18:1",
                "180aee12dab6264:1",
                "a23a3dc5e078b07b:1"
            ]
        );
        assert_eq!(
            all(" hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End"),
            [
                "8b7cf3e952e7aeb2:1",
                "b1ae1287ec4718d9:1",
                "bff680108adb0fcc:1",
                "c6805c5e1288b612:1",
                "b86d3392aea1be30:1",
                "e6ceba753e1a442:1",
            ]
        );
        let same = [
            "e9496ae3ebfced30:1",
            "fb7c023a8b9ccb3f:1",
            "ce8ba1a563dcdaca:1",
            "e20e36e16fcb0cc8:1",
            "b3edc88f2938467e:1",
            "c8e28b0b4002a3a0:1",
            "c129715d7a2bc9a3:1",
        ];
        for input in [
            " hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End\n",
            " hello; \t\nworld!!!\r\r\r  \t\tGreetings\r End\r",
            " hello; \t\r\nworld!!!\r\n\r\n\r\n  \t\tGreetings\r\n End\r\n",
            " hello; \t\nworld!!!\r\n\n\r  \t\tGreetings\r End\r\n",
        ] {
            assert_eq!(all(input), same, "{input:?}");
        }
        assert_eq!(
            all(&"Lorem ipsum dolor sit amet.\n".repeat(10)),
            [
                "a7f2ff13bc495cf2:1",
                "a7f2ff13bc495cf2:2",
                "a7f2ff13bc495cf2:3",
                "a7f2ff13bc495cf2:4",
                "a7f2ff13bc495cf2:5",
                "a7f2ff13bc495cf2:6",
                "a7f2ff1481e87703:1",
                "a9cf91f7bbf1862b:1",
                "55ec222b86bcae53:1",
                "cc97dc7b1d7d8f7b:1",
                "c129715d7a2bc9a3:1"
            ]
        );
    }

    #[test]
    fn whitespace_and_line_endings_do_not_change_the_hash() {
        let a = all("a = 1\nb = 2\n");
        let b = all("  a=1\r\n\tb =2\r\n");
        assert_eq!(a[0], b[0]);
        assert_eq!(a[1], b[1]);
    }

    #[test]
    fn only_wanted_lines_and_past_the_end() {
        let h = line_hashes(b"one\ntwo\n", &[2, 9]);
        assert!(h[0].is_some());
        assert_eq!(h[1], None);
    }
}
