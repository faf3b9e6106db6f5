//! Micro benchmark of the search for encoded values (`encoded::candidates`, what
//! `bench/decode-cost.sh search` runs): loads every file under the given paths into memory, then
//! prints the CPU time of `candidates` over all of them (the mean of `RUNS`, default 3: the
//! thread's CPU time is counted in scheduler ticks, too coarse for the best of short runs), how
//! many runs of each encoding it found, and a digest of every candidate (span, encoding,
//! decoded bytes), so that two builds can be shown to find the same values.
//!
//!   cargo run --release --example decode_bench -- PATH...

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Duration, Instant};

use credsweep_engine::encoded::{Budget, candidates};

fn load(path: &std::path::Path, out: &mut Vec<Vec<u8>>) {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return;
    };
    if meta.is_dir() {
        let Ok(entries) = std::fs::read_dir(path) else {
            return;
        };
        let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        // In name order, so that the digest does not depend on the directory's order.
        entries.sort();
        for e in entries {
            load(&e, out);
        }
    } else if meta.is_file()
        && let Ok(data) = std::fs::read(path)
    {
        out.push(data);
    }
}

/// CPU time this thread has run (Linux `schedstat`), so that other work on a shared machine does
/// not count; wall time where that is not available.
fn cpu_time(wall: Instant) -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map(Duration::from_nanos)
        .unwrap_or_else(|| wall.elapsed())
}

fn main() {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        eprintln!("usage: decode_bench PATH...");
        std::process::exit(2);
    }
    let mut files = Vec::new();
    for p in &paths {
        load(std::path::Path::new(p), &mut files);
    }
    let bytes: usize = files.iter().map(Vec::len).sum();
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let mut total = Duration::ZERO;
    let mut counts = BTreeMap::new();
    let mut digest = DefaultHasher::new();
    let wall = Instant::now();
    let started = cpu_time(wall);
    for run in 0..runs {
        let mut found = 0usize;
        for f in &files {
            let c = candidates(f, &mut Budget::for_buffer(f.len()));
            found += c.len();
            if run == 0 {
                for c in &c {
                    *counts.entry(c.encoding.as_str()).or_insert(0usize) += 1;
                    (c.span.start, c.span.end, c.encoding, &c.decoded).hash(&mut digest);
                }
            }
            std::hint::black_box(c);
        }
        std::hint::black_box(found);
    }
    total += cpu_time(wall) - started;
    let mean = total / runs.max(1) as u32;
    println!(
        "{} files, {} MB: search {:.1} ms ({:.2} GB/s); found {:?}; digest {:016x}",
        files.len(),
        bytes / 1_000_000,
        mean.as_secs_f64() * 1e3,
        bytes as f64 / mean.as_secs_f64() / 1e9,
        counts,
        digest.finish()
    );
}
