//! Work spread over threads with results kept in input order: the files of
//! a run are imported on every core (`--jobs`), and the outputs written side
//! by side, yet what comes out is what a one-thread run gives. The core
//! stays single-threaded and pure; only this edge knows about threads.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The default for `--jobs`: every core the process may use.
pub fn all_cores() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

/// `f(i)` for every `i` in `0..n`, on up to `jobs` threads, returned in
/// index order whatever order the threads finished in. Items are started
/// in the order `order` gives (largest first balances the threads: the
/// last file to start is then a small one), so a big file never starts
/// last and keeps one core busy while the others wait.
pub fn map_ordered<T: Send>(order: &[usize], jobs: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let n = order.len();
    let threads = jobs.clamp(1, n.max(1));
    if threads == 1 {
        let mut out: Vec<Option<T>> = (0..n).map(|_| None).collect();
        for &i in order {
            if let Some(slot) = out.get_mut(i) {
                *slot = Some(f(i));
            }
        }
        return out.into_iter().flatten().collect();
    }
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<(usize, T)>> = Mutex::new(Vec::with_capacity(n));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(&i) = order.get(k) else { break };
                let v = f(i);
                // A poisoned lock means another thread panicked; the
                // scope re-raises that panic when it ends.
                if let Ok(mut d) = done.lock() {
                    d.push((i, v));
                }
            });
        }
    });
    let mut done = done.into_inner().unwrap_or_else(|e| e.into_inner());
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, v)| v).collect()
}

/// A file's pieces (`crew_mrv_core::spread`) on up to `width` threads of
/// their own.
pub struct Threads {
    pub width: usize,
}

impl crew_mrv_core::spread::Spread for Threads {
    fn width(&self) -> usize {
        self.width
    }

    fn run(&self, n: usize, task: &(dyn Fn(usize) + Sync)) {
        let order: Vec<usize> = (0..n).collect();
        map_ordered(&order, self.width, task);
    }
}

/// The threads a file of `size` bytes gets for its pieces when `jobs`
/// threads read `total` bytes: its share of them, at least one. A file
/// that is most of the set (one big log) is split over every thread; a
/// set of similar files is spread file by file and none is split.
pub fn share(jobs: usize, size: u64, total: u64) -> usize {
    let jobs = jobs.max(1) as u128;
    let share = (jobs * u128::from(size) + u128::from(total) / 2) / u128::from(total.max(1));
    usize::try_from(share).unwrap_or(1).clamp(1, jobs as usize)
}

/// `0..sizes.len()`, largest first (ties in index order, so the schedule
/// is the same from run to run).
pub fn largest_first(sizes: &[u64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by(|a, b| sizes[*b].cmp(&sizes[*a]).then(a.cmp(b)));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_index_order_whatever_the_schedule() {
        // The slowest item first: with threads it finishes last.
        let order = vec![0, 1, 2, 3, 4, 5, 6, 7];
        for jobs in [1, 2, 3, 8, 32] {
            let out = map_ordered(&order, jobs, |i| {
                if i == 0 {
                    std::thread::sleep(std::time::Duration::from_millis(30));
                }
                i * 10
            });
            assert_eq!(out, vec![0, 10, 20, 30, 40, 50, 60, 70], "jobs {jobs}");
        }
        let out = map_ordered(&[2, 0, 1], 2, |i| i);
        assert_eq!(out, vec![0, 1, 2]);
        assert!(map_ordered(&[], 4, |i| i).is_empty());
    }

    #[test]
    fn a_file_is_split_by_its_share_of_the_bytes() {
        // One log of 90 % of the set: every thread.
        assert_eq!(share(4, 90, 100), 4);
        // Eight similar logs on two threads: none split.
        assert_eq!(share(2, 45, 360), 1);
        assert_eq!(share(2, 0, 0), 1);
        assert_eq!(share(1, 100, 100), 1);
    }

    #[test]
    fn the_largest_start_first() {
        assert_eq!(largest_first(&[5, 50, 5, 7]), vec![1, 3, 0, 2]);
    }
}
