//! Arbitrary bytes through the default rule pack, the way every source scans a buffer: decoding
//! (binary sniffing, UTF-16), the keyword prefilter, the rules' regexes, the filters, and findings
//! with line and column. Offsets must stay inside the input and nothing may panic.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

// The engine alone: no git, CLI or network crate is built into this target.
use credsweep_engine::allow::Allowlist;
use credsweep_engine::finding::Location;
use credsweep_engine::rules::RuleSet;
use credsweep_engine::scan::{ScanContext, Summary, scan_buffer};
use credsweep_engine::scanner::{PathFilter, Scanner};
use libfuzzer_sys::fuzz_target;

fn scanner() -> &'static Scanner {
    static S: OnceLock<Scanner> = OnceLock::new();
    S.get_or_init(|| Scanner::new(RuleSet::builtin().expect("the built-in pack loads")))
}

fn allowlist() -> &'static Allowlist {
    static A: OnceLock<Allowlist> = OnceLock::new();
    A.get_or_init(|| Allowlist::new(std::path::Path::new("/fuzz")))
}

fuzz_target!(|data: &[u8]| {
    let scanner = scanner();
    for m in scanner.scan(data, PathFilter::Path("fuzz/.env")) {
        assert!(m.span.end <= data.len() && m.secret.end <= data.len());
        assert!(m.secret.start < m.secret.end);
    }
    // A cap below the input's length, as for a file over --max-file-size.
    let cap = data.len().saturating_sub(data.first().map_or(0, |&b| b as usize));
    let ctx = ScanContext {
        scanner,
        fingerprint_key: b"fuzz".to_vec(),
        max_file_size: cap as u64,
        window_size: credsweep_engine::window::DEFAULT_WINDOW_SIZE,
        allowlist: allowlist(),
        inline_allow: true,
        path_base: PathBuf::from("/fuzz"),
        max_decode_depth: credsweep_engine::scan::DEFAULT_MAX_DECODE_DEPTH,
        binary_strings: true,
        rule_stats: false,
        archives: Default::default(),
    };
    for filter in [PathFilter::Path("config/app.env"), PathFilter::Unknown] {
        let mut summary = Summary::default();
        let mut out = Vec::new();
        scan_buffer(
            &ctx,
            &data[..cap],
            data.len() as u64,
            &Location::Path("config/app.env".to_string()),
            filter,
            &mut summary,
            &mut out,
        );
        for f in &out {
            assert!(f.line >= 1 && f.column >= 1);
            assert!((f.line, f.column) <= (f.end_line, f.end_column));
            assert!(!f.secret.is_empty());
        }
    }
});
