//! Work shared out between scoped threads in blocks: each thread takes the next block when it
//! is done with one, so a thread slowed by its blocks (or by the machine) holds up no other.
//! Used where a pass fills one table of slots, each from its own entry alone, so the outcome is
//! the one-thread outcome whatever the thread count.

use std::sync::{Mutex, PoisonError};

/// Runs `work` on every block `blocks` yields, on `threads` scoped threads (at least one), each
/// with its own `state()`; returns when all are done. A thread that panics leaves the blocks it
/// took unfinished and the others go on: the caller sees what was not filled in (an entry left
/// unread is reported as such), rather than the panic unwinding through the scan.
pub(crate) fn share_blocks<B: Send, S>(
    blocks: impl Iterator<Item = B> + Send,
    threads: usize,
    state: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, B) + Sync,
) {
    let blocks = Mutex::new(blocks);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|_| {
                scope.spawn(|| {
                    let mut s = state();
                    loop {
                        let next = blocks.lock().unwrap_or_else(PoisonError::into_inner).next();
                        let Some(block) = next else { return };
                        work(&mut s, block);
                    }
                })
            })
            .collect();
        for w in workers {
            let _ = w.join();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_block_is_done_once_whatever_the_threads() {
        for threads in [0, 1, 2, 3, 8] {
            let mut slots = vec![0u32; 1000];
            share_blocks(
                slots.chunks_mut(7).enumerate(),
                threads,
                || (),
                |_, (b, block)| {
                    for (k, s) in block.iter_mut().enumerate() {
                        *s += (b * 7 + k) as u32 + 1;
                    }
                },
            );
            assert!(slots.iter().enumerate().all(|(i, &s)| s == i as u32 + 1));
        }
    }

    #[test]
    fn a_panicking_block_leaves_only_itself_undone() {
        let mut slots = [false; 100];
        share_blocks(
            slots.chunks_mut(10).enumerate(),
            2,
            || (),
            |_, (b, block)| {
                assert_ne!(b, 3, "block 3 fails");
                block.fill(true);
            },
        );
        let undone: Vec<_> = (0..100).filter(|&i| !slots[i]).collect();
        assert_eq!(undone, (30..40).collect::<Vec<_>>());
    }
}
