//! Filter-only micro benchmark of the keyword prefilter (`bench/prefilter.sh` runs it): loads
//! every file under the given paths into memory, builds a `KeywordIndex` over the keywords in a
//! file (one a line), and prints the CPU time of `for_each_hit` over all of them (best of `RUNS`, default 3).
//!
//!   cargo run --release --example prefilter_bench -- fold|exact KEYWORDS PATH...

use std::time::{Duration, Instant};

use credsweep_engine::scanner::prefilter::KeywordIndex;

fn load(path: &std::path::Path, out: &mut Vec<Vec<u8>>) {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return;
    };
    if meta.is_dir() {
        let Ok(entries) = std::fs::read_dir(path) else {
            return;
        };
        for e in entries.flatten() {
            load(&e.path(), out);
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
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: prefilter_bench fold|exact KEYWORDS PATH...");
        std::process::exit(2);
    }
    let fold = args[0] == "fold";
    let keywords: Vec<String> = std::fs::read_to_string(&args[1])
        .expect("keywords file")
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            if fold {
                l.to_ascii_lowercase()
            } else {
                l.to_string()
            }
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut files = Vec::new();
    for p in &args[2..] {
        load(std::path::Path::new(p), &mut files);
    }
    let bytes: usize = files.iter().map(Vec::len).sum();
    let started = Instant::now();
    let index = KeywordIndex::new(&keywords, fold);
    let built = started.elapsed();
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let mut best = Duration::MAX;
    let mut hits = 0u64;
    for _ in 0..runs {
        hits = 0;
        let wall = Instant::now();
        let started = cpu_time(wall);
        for f in &files {
            index.for_each_hit(f, |_, _| hits += 1);
        }
        best = best.min(cpu_time(wall) - started);
    }
    println!(
        "{} keywords ({}), {} files, {} MB: build {:.1} ms, search {:.1} ms ({:.2} GB/s), {} hits",
        keywords.len(),
        if fold { "folded" } else { "exact" },
        files.len(),
        bytes / 1_000_000,
        built.as_secs_f64() * 1e3,
        best.as_secs_f64() * 1e3,
        bytes as f64 / best.as_secs_f64() / 1e9,
        hits
    );
}
