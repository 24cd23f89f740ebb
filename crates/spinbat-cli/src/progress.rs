//! Progress on stderr for runs that last more than a moment: the phase, elapsed and
//! remaining time; an indicatif bar on a terminal, or with `--progress` one line every few
//! seconds (for logs and batch jobs). Never on stdout, so `--json -` stays clean.
//!
//! A bar can carry a time limit ([`Bar::with_limit`]): once the phase has run for
//! [`MEASURE`], the total is extrapolated from the fraction done (the scan's cost grows
//! linearly with the simulated time, the grid of its fixed step), and past the limit the
//! computation is asked to stop ([`spinbat::Progress::stop_reason`]) with the estimate
//! and what to change. A long estimate within the limit is announced, and announced again
//! each time it has doubled (a run whose steps grow dearer as it goes, as a matrix-product
//! state's do while its bond dimension grows, outruns the first extrapolation). A phase
//! that is done (the fraction at 1) is never stopped.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Nothing (not a terminal, or `--json -` without `--progress`).
    Off,
    /// An indicatif bar, redrawn in place.
    Terminal,
    /// A plain line every [`LINE_EVERY`] (`--progress`).
    Lines,
}

static LINES: AtomicBool = AtomicBool::new(false);

/// `--progress`: plain progress lines on stderr even when it is not a terminal.
pub fn set_lines(on: bool) {
    LINES.store(on, Ordering::Relaxed);
}

const DELAY: Duration = Duration::from_millis(400);
const SCALE: f64 = 1000.0;
/// Time between two plain progress lines.
const LINE_EVERY: Duration = Duration::from_secs(5);
/// How long a phase runs before its total is extrapolated.
pub const MEASURE: Duration = Duration::from_secs(2);
/// Estimated totals above this are announced before the run goes on.
const ANNOUNCE_S: f64 = 20.0;
/// An announced estimate is announced again once the estimate has grown by this factor.
const REANNOUNCE_FACTOR: f64 = 2.0;

struct State {
    phase: String,
    phase_start: Instant,
    last_line: Option<Instant>,
    /// The estimate last announced.
    announced: Option<f64>,
    stop: Option<String>,
}

/// Progress display (and optional time limit) of one computation.
pub struct Bar {
    bar: ProgressBar,
    start: Instant,
    mode: Mode,
    label: String,
    /// Show `unit done/total` (jobs, points) instead of a percentage.
    unit: Option<&'static str>,
    /// Refuse to go on past this many seconds (estimated), with the flag that lifts it.
    limit: Option<(f64, &'static str)>,
    state: Mutex<State>,
}

impl Bar {
    /// A display labelled `label`; `enabled = false` (e.g. `--json -`) shows nothing on a
    /// terminal, but `--progress` lines still go to stderr.
    pub fn new(enabled: bool, label: &str) -> Self {
        let mode = if LINES.load(Ordering::Relaxed) {
            Mode::Lines
        } else if enabled && std::io::stderr().is_terminal() {
            Mode::Terminal
        } else {
            Mode::Off
        };
        let bar = ProgressBar::with_draw_target(Some(SCALE as u64), ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template("{msg} {wide_bar} {percent:>3}%")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(label.to_string());
        let now = Instant::now();
        Bar {
            bar,
            start: now,
            mode,
            label: label.to_string(),
            unit: None,
            limit: None,
            state: Mutex::new(State {
                phase: String::new(),
                phase_start: now,
                last_line: None,
                announced: None,
                stop: None,
            }),
        }
    }

    /// Counts `unit`s (`jobs 3/12`) instead of a percentage of simulated time.
    pub fn counting(mut self, unit: &'static str) -> Self {
        self.unit = Some(unit);
        self
    }

    /// Asks the computation to stop once its estimated total exceeds `seconds`
    /// (`flag` is the option that raises it, named in the message).
    pub fn with_limit(mut self, seconds: f64, flag: &'static str) -> Self {
        if seconds.is_finite() {
            self.limit = Some((seconds, flag));
        }
        self
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    fn status(&self, st: &State, done: f64, total: f64) -> String {
        let frac = if total > 0.0 { (done / total).clamp(0.0, 1.0) } else { 0.0 };
        let phase_elapsed = st.phase_start.elapsed().as_secs_f64();
        let mut s = self.label.clone();
        if !st.phase.is_empty() {
            s.push_str(": ");
            s.push_str(&st.phase);
        }
        match self.unit {
            Some(u) => s.push_str(&format!(" {u} {}/{}", done.round(), total.round())),
            None => s.push_str(&format!(" {:.0}%", 100.0 * frac)),
        }
        s.push_str(&format!(", {} elapsed", duration(self.start.elapsed().as_secs_f64())));
        if frac > 0.0 && phase_elapsed >= MEASURE.as_secs_f64() {
            let left = phase_elapsed * (1.0 - frac) / frac;
            s.push_str(&format!(", ~{} left", duration(left)));
        }
        s
    }
}

/// `0.4 s`, `12 s`, `3 min 20 s`, `2.5 h`, `3.1 days`.
pub fn duration(s: f64) -> String {
    if !s.is_finite() {
        "forever".to_string()
    } else if s < 10.0 {
        format!("{s:.1} s")
    } else if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 3600.0 {
        // whole seconds first, so 599.6 s reads "10 min 00 s", never "9 min 60 s"
        let whole = s.round() as u64;
        format!("{} min {:02} s", whole / 60, whole % 60)
    } else if s < 86400.0 * 2.0 {
        format!("{:.1} h", s / 3600.0)
    } else if s < 86400.0 * 365.0 * 2.0 {
        format!("{:.1} days", s / 86400.0)
    } else {
        format!("{:.1e} years", s / (86400.0 * 365.25))
    }
}

impl spinbat::Progress for Bar {
    fn update(&self, done: f64, total: f64) {
        let Ok(mut st) = self.state.lock() else { return };
        if st.stop.is_some() {
            return;
        }
        let frac = if total > 0.0 { (done / total).clamp(0.0, 1.0) } else { 0.0 };
        match self.mode {
            Mode::Off => {}
            Mode::Terminal => {
                if self.bar.is_hidden() && self.start.elapsed() > DELAY {
                    self.bar.set_draw_target(ProgressDrawTarget::stderr());
                }
                self.bar.set_message(self.status(&st, done, total));
                self.bar.set_position((frac * SCALE) as u64);
            }
            Mode::Lines => {
                // the first line once there is an estimate to show, then every LINE_EVERY
                let due = match st.last_line {
                    None => self.start.elapsed() >= MEASURE,
                    Some(t) => t.elapsed() >= LINE_EVERY,
                };
                if due {
                    st.last_line = Some(Instant::now());
                    eprintln!("spinbat: {}", self.status(&st, done, total));
                }
            }
        }
        // extrapolate the phase's total once it has run long enough to measure
        let phase_elapsed = st.phase_start.elapsed().as_secs_f64();
        if frac <= 0.0 || phase_elapsed < MEASURE.as_secs_f64() {
            return;
        }
        let estimate = phase_elapsed / frac;
        let phase = if st.phase.is_empty() { self.label.clone() } else { st.phase.clone() };
        // a phase at its end has nothing left to refuse
        if let Some((limit, flag)) = self.limit.filter(|&(limit, _)| estimate > limit && frac < 1.0) {
            st.stop = Some(format!(
                "{phase} would take about {} ({:.1}% done after {}), more than the limit of {} ({flag}); \
                 shorten the window (--t-max), fewer sites or a faster solver, or raise {flag}",
                duration(estimate),
                100.0 * frac,
                duration(phase_elapsed),
                duration(limit)
            ));
        } else if estimate > ANNOUNCE_S && st.announced.is_none_or(|last| estimate > REANNOUNCE_FACTOR * last) {
            let note = match st.announced {
                None => format!(
                    "spinbat: note: {} ({phase}) will take about {} in all (estimated after {})",
                    self.label,
                    duration(estimate),
                    duration(phase_elapsed)
                ),
                Some(last) => format!(
                    "spinbat: note: {} ({phase}) now looks like about {} in all (revised after {}, {:.0}% done; \
                     announced before: {})",
                    self.label,
                    duration(estimate),
                    duration(phase_elapsed),
                    100.0 * frac,
                    duration(last)
                ),
            };
            st.announced = Some(estimate);
            if self.mode == Mode::Terminal && !self.bar.is_hidden() {
                self.bar.println(note);
            } else {
                eprintln!("{note}");
            }
        }
    }

    fn phase(&self, name: &str) {
        if let Ok(mut st) = self.state.lock() {
            st.phase = name.to_string();
            st.phase_start = Instant::now();
        }
    }

    fn stop_reason(&self) -> Option<String> {
        self.state.lock().ok().and_then(|s| s.stop.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spinbat::Progress;

    #[test]
    fn durations_read_as_a_person_would_say_them() {
        assert_eq!(duration(0.42), "0.4 s");
        assert_eq!(duration(36.2), "36 s");
        assert_eq!(duration(200.0), "3 min 20 s");
        assert_eq!(duration(599.6), "10 min 00 s");
        assert_eq!(duration(179.4), "2 min 59 s");
        assert_eq!(duration(9000.0), "2.5 h");
        assert!(duration(1e12).ends_with("years"));
    }

    #[test]
    fn a_limit_stops_only_after_measuring_and_only_past_it() {
        let bar = Bar::new(false, "charging").with_limit(60.0, "--max-time");
        bar.phase("scan");
        // at once: nothing measured yet, however small the fraction
        bar.update(1e-9, 1.0);
        assert!(bar.stop_reason().is_none());
        // pretend the phase has run MEASURE already
        bar.state.lock().unwrap().phase_start = Instant::now() - MEASURE;
        bar.update(0.5, 1.0); // about 4 s in all: within the limit
        assert!(bar.stop_reason().is_none());
        bar.update(0.001, 1.0); // about 2000 s: past it
        let reason = bar.stop_reason().expect("past the limit");
        assert!(reason.contains("--max-time") && reason.contains("--t-max"), "{reason}");
    }

    #[test]
    fn a_done_phase_is_not_stopped_and_a_grown_estimate_is_announced_again() {
        let bar = Bar::new(false, "charging").with_limit(60.0, "--max-time");
        bar.phase("scan");
        bar.state.lock().unwrap().phase_start = Instant::now() - Duration::from_secs(100);
        // 100 s elapsed at the end of the phase: over the limit, but nothing is left to refuse
        bar.update(1.0, 1.0);
        assert!(bar.stop_reason().is_none());
        let bar = Bar::new(false, "charging");
        bar.phase("scan");
        bar.state.lock().unwrap().phase_start = Instant::now() - Duration::from_secs(10);
        bar.update(0.25, 1.0); // about 40 s: announced
        let first = bar.state.lock().unwrap().announced.expect("announced");
        assert!((first - 40.0).abs() < 1.0, "{first}");
        bar.update(0.2, 1.0); // about 50 s: not yet twice the first
        assert_eq!(bar.state.lock().unwrap().announced, Some(first));
        bar.update(0.1, 1.0); // about 100 s: announced again
        let second = bar.state.lock().unwrap().announced.unwrap();
        assert!((second - 100.0).abs() < 2.0, "{second}");
    }
}
