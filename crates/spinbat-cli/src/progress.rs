//! Progress bars on stderr for runs that last more than a moment.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::time::{Duration, Instant};

/// Shows an indicatif bar once a run has lasted `DELAY`, if enabled and stderr is a
/// terminal; silent otherwise (e.g. `--json -`).
pub struct Bar {
    bar: ProgressBar,
    start: Instant,
    enabled: bool,
}

const DELAY: Duration = Duration::from_millis(400);
const SCALE: f64 = 1000.0;

impl Bar {
    pub fn new(enabled: bool, message: &str) -> Self {
        let bar = ProgressBar::with_draw_target(Some(SCALE as u64), ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template("{msg} [{elapsed_precise}] {wide_bar} {percent:>3}%")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(message.to_string());
        Bar { bar, start: Instant::now(), enabled }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl spinbat::Progress for Bar {
    fn update(&self, done: f64, total: f64) {
        if !self.enabled {
            return;
        }
        if self.bar.is_hidden() && self.start.elapsed() > DELAY {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        let frac = if total > 0.0 { (done / total).clamp(0.0, 1.0) } else { 0.0 };
        self.bar.set_position((frac * SCALE) as u64);
    }
}
