//! The progress bar of `crew-mrv run`: on stderr, only when stderr is a
//! terminal (a scheduled job's log gets no control characters) and only
//! once a run has taken a second (a quick run stays a clean summary).

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long a run goes unannounced.
const SHOW_AFTER: Duration = Duration::from_secs(1);

pub struct Progress {
    bar: ProgressBar,
    /// Set when the run is over, under the lock the timer takes to show
    /// the bar, so a bar is never drawn after it was cleared.
    done: Arc<Mutex<bool>>,
}

impl Progress {
    /// A bar over `files` files, hidden until [`SHOW_AFTER`] has passed;
    /// never shown unless `wanted` and stderr is a terminal.
    pub fn start(files: u64, wanted: bool) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(files), ProgressDrawTarget::hidden());
        let style =
            ProgressStyle::with_template("{elapsed:>4} [{bar:30}] {pos}/{len} files  {wide_msg}")
                .map(|s| s.progress_chars("=> "))
                .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        let done = Arc::new(Mutex::new(false));
        if wanted && std::io::stderr().is_terminal() {
            let (bar, done) = (bar.clone(), Arc::clone(&done));
            // Detached: the process does not wait for it when a run ends
            // first.
            std::thread::spawn(move || {
                std::thread::sleep(SHOW_AFTER);
                if let Ok(done) = done.lock() {
                    if !*done {
                        bar.set_draw_target(ProgressDrawTarget::stderr());
                        bar.enable_steady_tick(Duration::from_millis(200));
                    }
                }
            });
        }
        Progress { bar, done }
    }

    /// The next file is being read.
    pub fn file(&self, name: &str) {
        if self.bar.position() > 0 || !self.bar.message().is_empty() {
            self.bar.inc(1);
        }
        self.bar.set_message(name.to_string());
    }

    /// Every file is read; the run goes on with `what`.
    pub fn stage(&self, what: &str) {
        self.bar.set_position(self.bar.length().unwrap_or(0));
        self.bar.set_message(what.to_string());
    }

    /// Prints around the bar without tearing it.
    pub fn suspend(&self, f: impl FnOnce()) {
        self.bar.suspend(f);
    }

    /// Clears the bar, if it was shown, before the summary is printed.
    pub fn finish(self) {
        if let Ok(mut done) = self.done.lock() {
            *done = true;
        }
        self.bar.finish_and_clear();
    }
}
