//! How far a history scan has got, for whoever shows it. The caller passes a [`Progress`] in
//! ([`super::HistoryOptions::progress`]) and reads [`Progress::snapshot`]s from its own thread
//! (the CLI draws a bar on a terminal); the scan only records. Workers bump two relaxed atomic
//! counters per object, so recording costs next to nothing whether anyone looks or not.
//!
//! When the scan ends it calls `Progress::finish`, which waits (briefly, at most
//! [`FINISH_WAIT`]) for an attached reader to say it is done with the terminal, so that a bar is
//! cleared before the report is printed under it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// A history scan's progress: objects and bytes decoded of a known total while the object
/// database is read, and otherwise the phase it is in.
#[derive(Debug, Default)]
pub struct Progress {
    objects: AtomicU64,
    bytes: AtomicU64,
    total: AtomicU64,
    counting: AtomicBool,
    state: Mutex<State>,
    changed: Condvar,
}

/// How long `Progress::finish` waits for an attached reader at most.
pub const FINISH_WAIT: Duration = Duration::from_secs(2);

#[derive(Debug, Default)]
struct State {
    /// The current phase, and how many phases have been named so far (so that a reader can tell
    /// a phase it has not shown yet, even one with the same text).
    phase: String,
    seq: u64,
    /// The scan has ended.
    finished: bool,
    /// A reader said it will call [`Progress::release`] once the scan has finished.
    attached: bool,
    released: bool,
}

/// What a [`Progress`] says at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot {
    /// Objects read so far, of `total`, while `counting`.
    pub objects: u64,
    pub total: u64,
    /// Bytes decoded so far.
    pub bytes: u64,
    /// Whether the object database is being read (the counts move); else `phase` says what is
    /// being done.
    pub counting: bool,
    /// The current phase ("finding reachable blobs", ...); empty before the first.
    pub phase: String,
    /// How many phases have been named: a new value means a new phase.
    pub phase_seq: u64,
    /// The scan has ended: a reader clears what it drew and calls [`Progress::release`].
    pub finished: bool,
}

impl Progress {
    /// Starts counting objects towards `total`.
    pub(crate) fn start(&self, total: u64) {
        self.total.store(total, Ordering::Relaxed);
        self.counting.store(true, Ordering::Relaxed);
    }

    /// One object done, of `bytes` decoded bytes.
    pub(crate) fn object(&self, bytes: u64) {
        self.objects.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// The object database has been read: the counts stop.
    pub(crate) fn finish_counting(&self) {
        self.counting.store(false, Ordering::Relaxed);
    }

    /// Names the phase the scan is in now (e.g. the provenance walk), and wakes a reader
    /// waiting in [`Progress::wait`].
    pub(crate) fn phase(&self, msg: &str) {
        let mut state = self.lock();
        state.phase = msg.to_string();
        state.seq += 1;
        self.changed.notify_all();
    }

    /// The scan has ended: wakes the reader and waits (at most [`FINISH_WAIT`]) for an attached
    /// one to [`release`](Progress::release) the terminal.
    pub(crate) fn finish(&self) {
        self.counting.store(false, Ordering::Relaxed);
        let mut state = self.lock();
        state.finished = true;
        self.changed.notify_all();
        if state.attached {
            let _ = self
                .changed
                .wait_timeout_while(state, FINISH_WAIT, |s| !s.released);
        }
    }

    /// Called by a reader before it starts reading: `Progress::finish` will wait for its
    /// [`Progress::release`].
    pub fn attach(&self) {
        self.lock().attached = true;
    }

    /// Called by an attached reader once the scan has finished and it is done with what it
    /// drew (or when it stops reading for good).
    pub fn release(&self) {
        self.lock().released = true;
        self.changed.notify_all();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What the scan says now.
    pub fn snapshot(&self) -> Snapshot {
        let state = self.lock();
        Snapshot {
            objects: self.objects.load(Ordering::Relaxed),
            total: self.total.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            counting: self.counting.load(Ordering::Relaxed),
            phase: state.phase.clone(),
            phase_seq: state.seq,
            finished: state.finished,
        }
    }

    /// Waits at most `timeout` for a phase after the `seen`th to be named or the scan to finish
    /// (returns at once if either already happened); a reader that draws calls this between
    /// redraws.
    pub fn wait(&self, seen: u64, timeout: Duration) {
        let state = self.lock();
        let _ = self
            .changed
            .wait_timeout_while(state, timeout, |s| s.seq == seen && !s.finished);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_say_counts_and_phases() {
        let p = Progress::default();
        assert_eq!(p.snapshot(), Snapshot::default());
        p.phase("finding reachable blobs");
        p.start(10);
        p.object(100);
        p.object(0);
        let s = p.snapshot();
        assert!(s.counting);
        assert_eq!((s.objects, s.total, s.bytes), (2, 10, 100));
        assert_eq!(
            (s.phase.as_str(), s.phase_seq),
            ("finding reachable blobs", 1)
        );
        p.finish_counting();
        p.phase("finding reachable blobs");
        let s = p.snapshot();
        assert!(!s.counting);
        assert_eq!(s.phase_seq, 2, "the same text named again is a new phase");
        assert!(!s.finished);
        // Nobody attached: finishing does not wait.
        p.finish();
        assert!(p.snapshot().finished);
    }

    #[test]
    fn finishing_waits_for_an_attached_reader_to_release() {
        let p = std::sync::Arc::new(Progress::default());
        p.attach();
        let q = std::sync::Arc::clone(&p);
        let reader = std::thread::spawn(move || {
            while !q.snapshot().finished {
                q.wait(q.snapshot().phase_seq, Duration::from_secs(30));
            }
            std::thread::sleep(Duration::from_millis(50));
            let releasing_at = std::time::Instant::now();
            q.release();
            releasing_at
        });
        p.finish();
        let finished_at = std::time::Instant::now();
        let released_at = reader.join().unwrap();
        assert!(
            finished_at >= released_at,
            "finish returned before the reader released"
        );
    }

    #[test]
    fn a_waiting_reader_wakes_on_a_new_phase() {
        let p = std::sync::Arc::new(Progress::default());
        let q = std::sync::Arc::clone(&p);
        let t = std::thread::spawn(move || {
            q.wait(0, Duration::from_secs(30));
            q.snapshot().phase
        });
        std::thread::sleep(Duration::from_millis(20));
        p.phase("grouping");
        assert_eq!(t.join().unwrap(), "grouping");
    }
}
