//! The history scan's progress bar on stderr (indicatif), drawn from the
//! [`Progress`](crate::sources::history::progress::Progress) the scan records into. A drawing
//! thread redraws the counts every 100 ms and shows each new phase as soon as it is named;
//! nothing is drawn until the scan records something, so scans that never do (a tree, a range)
//! show no bar. When the scan finishes, the bar is cleared before the scan returns (the scan
//! waits for [`Progress::release`]), so the report is never printed under a bar.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::sources::history::progress::{Progress, Snapshot};
use crate::units::human_bytes;

/// A bar being drawn; dropping it stops the drawing thread and clears the bar.
pub(crate) struct Bar {
    progress: Arc<Progress>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Bar {
    /// Starts drawing `progress` on stderr.
    pub(crate) fn start(progress: Arc<Progress>) -> Bar {
        progress.attach();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (progress, stop) = (Arc::clone(&progress), Arc::clone(&stop));
            std::thread::spawn(move || draw(&progress, &stop))
        };
        Bar {
            progress,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // The scan has returned: it has finished, or failed before it could say so.
        self.progress.release();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn spinner() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn counter() -> ProgressStyle {
    ProgressStyle::with_template(
        "{spinner} reading objects [{bar:30}] {human_pos}/{human_len} ({msg}, {eta} left)",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ")
}

/// The drawing loop: until the scan finishes (or `stop`), then clears the bar and releases the
/// terminal. A phase named just before the scan ended is still drawn once. The bar is made on
/// its first draw: a scan with nothing to show writes nothing to the terminal at all.
fn draw(progress: &Progress, stop: &AtomicBool) {
    let mut bar: Option<ProgressBar> = None;
    let new_bar = || {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(spinner());
        bar
    };
    let mut shown = Snapshot::default();
    let mut counting_since: Option<Instant> = None;
    loop {
        let stopping = stop.load(Ordering::Relaxed);
        let now = progress.snapshot();
        if now.counting {
            let bar = bar.get_or_insert_with(new_bar);
            let started = *counting_since.get_or_insert_with(Instant::now);
            let rate = now.bytes as f64 / started.elapsed().as_secs_f64().max(0.001);
            bar.set_message(format!(
                "{} decoded, {}/s",
                human_bytes(now.bytes),
                human_bytes(rate as u64)
            ));
            bar.set_position(now.objects);
            if bar.length() != Some(now.total) {
                bar.set_length(now.total);
                bar.set_style(counter());
            }
        } else if now.phase_seq != shown.phase_seq {
            let bar = bar.get_or_insert_with(new_bar);
            if counting_since.take().is_some() {
                bar.set_style(spinner());
            }
            bar.set_message(now.phase.clone());
            bar.tick();
        }
        let seen = now.phase_seq;
        let done = stopping || now.finished;
        shown = now;
        if done {
            break;
        }
        progress.wait(seen, Duration::from_millis(100));
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    progress.release();
}
