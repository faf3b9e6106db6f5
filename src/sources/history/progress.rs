//! Progress for long history scans, on stderr, only when stderr is a terminal and the user did
//! not ask for `--quiet`. Workers only bump atomic counters; a ticker thread draws, so a scan
//! with progress off pays two relaxed atomic adds per object and nothing else.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Default)]
struct Counters {
    objects: AtomicU64,
    bytes: AtomicU64,
    stop: AtomicBool,
}

/// Objects and bytes done of a known total; a no-op when hidden.
pub struct Progress {
    counters: Arc<Counters>,
    bar: Option<ProgressBar>,
    ticker: Option<JoinHandle<()>>,
}

impl Progress {
    /// Progress that draws nothing.
    pub fn hidden() -> Progress {
        Progress {
            counters: Arc::default(),
            bar: None,
            ticker: None,
        }
    }

    /// A bar on stderr if `show`.
    pub fn new(show: bool) -> Progress {
        if !show {
            return Progress::hidden();
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        Progress {
            counters: Arc::default(),
            bar: Some(bar),
            ticker: None,
        }
    }

    /// Starts counting towards `total` objects.
    pub fn start(&self, total: u64) {
        let Some(bar) = &self.bar else { return };
        bar.set_length(total);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} reading objects [{bar:30}] {human_pos}/{human_len} ({msg}, {eta} left)",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
    }

    /// Starts the ticker thread that redraws the bar.
    pub fn spawn_ticker(&mut self) {
        let Some(bar) = self.bar.clone() else { return };
        let counters = Arc::clone(&self.counters);
        self.ticker = Some(std::thread::spawn(move || {
            let started = std::time::Instant::now();
            while !counters.stop.load(Ordering::Relaxed) {
                let bytes = counters.bytes.load(Ordering::Relaxed);
                let rate = bytes as f64 / started.elapsed().as_secs_f64().max(0.001);
                bar.set_position(counters.objects.load(Ordering::Relaxed));
                bar.set_message(format!(
                    "{} decoded, {}/s",
                    crate::units::human_bytes(bytes),
                    crate::units::human_bytes(rate as u64)
                ));
                std::thread::sleep(Duration::from_millis(100));
            }
        }));
    }

    /// One object done, of `bytes` decoded bytes.
    pub fn object(&self, bytes: u64) {
        self.counters.objects.fetch_add(1, Ordering::Relaxed);
        self.counters.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Stops the object count (the ticker thread) but keeps the bar for a [`phase`](Self::phase).
    pub fn finish_counting(&mut self) {
        self.counters.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
        }
    }

    /// Shows a phase without a count (e.g. the provenance walk). Call after
    /// [`finish_counting`](Self::finish_counting), or before counting starts.
    pub fn phase(&self, msg: &str) {
        let Some(bar) = &self.bar else { return };
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(msg.to_string());
        bar.tick();
    }

    /// Stops and clears the bar.
    pub fn finish(&mut self) {
        self.finish_counting();
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
