//! Rule files and configuration files from arbitrary text: parsing and validation must return
//! an error for anything malformed, never panic, and never take unbounded time or memory.

#![no_main]

use std::path::Path;

use credsweep::config::Config;
use credsweep::rules::RuleSet;
use credsweep::scanner::{PathFilter, Scanner};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut set = RuleSet::default();
    if set.add_toml("fuzz.toml", text).is_ok() && !set.is_empty() {
        // A rule that validates must also build a scanner and run on its own text.
        let scanner = Scanner::new(set);
        for m in scanner.scan(data, PathFilter::Unknown) {
            assert!(m.span.start <= m.span.end && m.span.end <= data.len());
            assert!(m.secret.start < m.secret.end && m.secret.end <= data.len());
        }
    }
    // A configuration's rule files are read from disk only by `apply_rules`: parsing alone
    // touches nothing outside the text.
    let _ = Config::parse(Path::new("/fuzz/.credsweep.toml"), text);
});
