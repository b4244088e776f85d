//! Shared by the structure-aware targets: a counting global allocator and
//! the check that reading one file stays within its memory budget.

#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use crew_mrv_core::config::Limits;
use crew_mrv_core::{read_file, Config};

pub struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call goes to the system allocator unchanged; only sizes
// are counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Relaxed) + layout.size();
        PEAK.fetch_max(now, Relaxed);
        // SAFETY: the caller's layout, as given.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Relaxed);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            let now =
                CURRENT.fetch_add(new_size - layout.size(), Relaxed) + new_size - layout.size();
            PEAK.fetch_max(now, Relaxed);
        } else {
            CURRENT.fetch_sub(layout.size() - new_size, Relaxed);
        }
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Read `bytes` as `name`; the peak allocated while reading must stay
/// within the file's memory budget, and the account must balance.
pub fn read_within_budget(name: &str, bytes: &[u8]) {
    let config = Config::default();
    let budget = Limits::default().memory_budget(bytes.len() as u64) as usize;
    let base = CURRENT.load(Relaxed);
    PEAK.store(base, Relaxed);
    let f = read_file(name, bytes, &config);
    let peak = PEAK.load(Relaxed).saturating_sub(base);
    assert!(
        peak <= budget,
        "{name}: peak {peak} bytes over the budget {budget} for a {}-byte file",
        bytes.len()
    );
    assert!(f.account.balances(), "{name}: account does not balance");
}

/// One of `choices`, picked by the input.
pub fn pick<T: Clone>(u: &mut arbitrary::Unstructured<'_>, choices: &[T]) -> T {
    u.choose(choices)
        .cloned()
        .unwrap_or_else(|_| choices[0].clone())
}

/// A count from a palette that spans the sizes where fan-out shows.
pub fn count(u: &mut arbitrary::Unstructured<'_>, palette: &[usize]) -> usize {
    pick(u, palette)
}

/// A text of a palette length made of one picked character (or `<`-heavy
/// for CDATA), so a few input bytes describe megabytes.
pub fn text(u: &mut arbitrary::Unstructured<'_>) -> String {
    let len = count(u, &[0, 1, 12, 1_000, 60_000, 600_000, 1_100_000]);
    let ch = pick(u, &['x', '<', '&', 'é', '\u{1F600}', ' ', '_']);
    let mut s: String = std::iter::repeat_n(ch, len / ch.len_utf8().max(1)).collect();
    if u.arbitrary::<bool>().unwrap_or(false) {
        s.push_str("_x000D_");
    }
    s
}
