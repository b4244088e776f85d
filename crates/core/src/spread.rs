//! Work the core can hand out in pieces: the chunks of one large CSV.
//!
//! The core has no threads of its own (it runs in a browser worker as it
//! runs natively); an edge that has them implements [`Spread`] and passes
//! it to [`crate::read_file_with`]. Whatever the edge does with the pieces
//! (one thread, several, any order), the import is the same: the pieces
//! are put back together in file order, and checked to join where a
//! one-piece read would have gone on.

/// Runs independent tasks, on as many threads as the edge likes.
pub trait Spread: Sync {
    /// Pieces worth making: the threads this work may use (1: do not
    /// split).
    fn width(&self) -> usize;
    /// The smallest piece worth its own thread; a file is split only
    /// when each piece gets at least this many bytes.
    fn min_piece_bytes(&self) -> usize {
        MIN_PIECE_BYTES
    }
    /// Calls `task(i)` exactly once for every `i` in `0..n` (in any order,
    /// on any thread) and returns when all have returned.
    fn run(&self, n: usize, task: &(dyn Fn(usize) + Sync));
}

/// 4 MiB: below it, finding the pieces and joining them costs more than
/// a second thread saves.
pub const MIN_PIECE_BYTES: usize = 1 << 22;

/// No splitting: every file is read in one piece, in order.
pub struct OneThread;

impl Spread for OneThread {
    fn width(&self) -> usize {
        1
    }

    fn run(&self, n: usize, task: &(dyn Fn(usize) + Sync)) {
        for i in 0..n {
            task(i);
        }
    }
}
