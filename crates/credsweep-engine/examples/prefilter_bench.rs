//! Filter-only micro benchmark of the keyword prefilter (`bench/prefilter.sh` runs it): loads
//! every file under the given paths into memory, builds a `KeywordIndex` over the keywords in a
//! file (one a line), and prints the CPU time of `for_each_hit` over all of them (best of `RUNS`,
//! default 3). Mode `pack` takes two keyword files, folded and exact, and times a `PackIndex`
//! over both, in one pass and as two separate indexes (what the matcher chose before).
//!
//!   cargo run --release --example prefilter_bench -- fold|exact KEYWORDS PATH...
//!   cargo run --release --example prefilter_bench -- pack FOLDED EXACT PATH...

use std::time::{Duration, Instant};

use credsweep_engine::scanner::prefilter::{KeywordIndex, PackIndex};

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

/// The distinct keywords in a file, one a line; lower-cased if `fold`.
fn keywords(path: &str, fold: bool) -> Vec<String> {
    std::fs::read_to_string(path)
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
        .collect()
}

/// Builds a searcher and prints the best CPU time of `search` over `files`.
fn time<T>(
    label: &str,
    files: &[Vec<u8>],
    build: impl FnOnce() -> T,
    search: impl Fn(&T, &[u8], &mut u64),
) {
    let bytes: usize = files.iter().map(Vec::len).sum();
    let started = Instant::now();
    let index = build();
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
        for f in files {
            search(&index, f, &mut hits);
        }
        best = best.min(cpu_time(wall) - started);
    }
    println!(
        "{label}, {} files, {} MB: build {:.1} ms, search {:.1} ms ({:.2} GB/s), {} hits",
        files.len(),
        bytes / 1_000_000,
        built.as_secs_f64() * 1e3,
        best.as_secs_f64() * 1e3,
        bytes as f64 / best.as_secs_f64() / 1e9,
        hits
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let pack = args.first().is_some_and(|m| m == "pack");
    if args.len() < 3 + pack as usize {
        eprintln!("usage: prefilter_bench fold|exact KEYWORDS PATH...");
        eprintln!("       prefilter_bench pack FOLDED EXACT PATH...");
        std::process::exit(2);
    }
    let paths = &args[2 + pack as usize..];
    let mut files = Vec::new();
    for p in paths {
        load(std::path::Path::new(p), &mut files);
    }
    if pack {
        let mut all: Vec<(String, bool)> = keywords(&args[1], true)
            .into_iter()
            .map(|k| (k, true))
            .collect();
        all.extend(keywords(&args[2], false).into_iter().map(|k| (k, false)));
        let (folded, exact) = (
            all.iter().filter(|k| k.1).count(),
            all.iter().filter(|k| !k.1).count(),
        );
        let chosen = if PackIndex::new(&all).is_one_pass() {
            "one pass"
        } else {
            "separate"
        };
        // `ONE_PASS_ONLY=1`: the one pass alone (for a profile of it).
        let modes: &[bool] = if std::env::var_os("ONE_PASS_ONLY").is_some() {
            &[true]
        } else {
            &[true, false]
        };
        for &one_pass in modes {
            let label = format!(
                "{} keywords ({folded} folded + {exact} exact, {}; default: {chosen})",
                all.len(),
                if one_pass { "one pass" } else { "separate" },
            );
            time(
                &label,
                &files,
                || PackIndex::with_one_pass(&all, one_pass),
                |index, data, hits| index.for_each_hit(data, |_, _| *hits += 1),
            );
        }
        return;
    }
    let fold = args[0] == "fold";
    let keywords = keywords(&args[1], fold);
    let label = format!(
        "{} keywords ({})",
        keywords.len(),
        if fold { "folded" } else { "exact" }
    );
    time(
        &label,
        &files,
        || KeywordIndex::new(&keywords, fold),
        |index, data, hits| index.for_each_hit(data, |_, _| *hits += 1),
    );
}
