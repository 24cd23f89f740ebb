//! Battery figures of merit from a [`Propagator`]: the charging curve `W(t)`,
//! `P(t) = W(t)/t`, the maximal power `P_max` and its time `T*`, the maximal work in a
//! window, and the same for `N` independent spins.
//!
//! **Maximal power, certified.** Energy conservation bounds the work,
//! `W(t) ≤ W_bound = N(|B| + B) + min(N|ω|, λ_max(H_g) + G)` ([`Chain::work_bound`],
//! tightened by the exact solvers; an approximation that breaks
//! it supplies its own, [`Propagator::work_bound`]), so `P(T) ≤ W_bound/T`. The
//! search samples `W` and the exact `W'` on a grid of step `h = π/(16Λ)`,
//! `Λ = max_i (|ω| + (1 + |α|) Σ_j |g_ij|)` the largest single-site energy scale, until
//! `W_bound/T` drops below the best power seen: no later `T` can beat it. Each grid
//! interval that holds a maximum (the slope changes sign, or the cubic Hermite interpolant
//! from `W`, `W'` at both ends peaks inside) and comes within 1% of the best is refined:
//! the root predicted by the Hermite interpolant is bracketed by one batch of two samples,
//! then Brent's method on `f(T) = T W'(T) − W(T)` (zero where `d(W/T)/dT = 0`) runs to
//! `|ΔT| ≤ 10⁻¹³ T`, each evaluation a fresh propagation (from `t = 0` on the real path,
//! or from an anchor at the interval's start). `P_max` and `T*` are therefore independent of the
//! output grid and accurate to the solver's tolerance (`P` is stationary at `T*`).
//!
//! **Maximal work** is found the same way on `[0, t_window]` with `f = W'`. Where several
//! maxima are equal to 10⁻¹⁰ relative (periodic curves), the earliest is reported.

pub mod correlations;
pub mod dicke;
pub mod disorder;
pub mod ensemble;
pub mod ergotropy;
pub mod ground;
pub mod matrix_product;
pub mod storage;
pub mod trajectory;

pub use crate::numeric::brent;

use crate::error::{Result, SpinbatError};
use crate::model::Chain;
use crate::propagate::{Propagator, WorkSample};
use crate::Progress;
use serde::{Deserialize, Serialize};

/// A point of the charging curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SeriesPoint {
    /// Time `t` (units `1/B`).
    pub t: f64,
    /// Work `W(t)` (units `B`).
    pub work: f64,
    /// Average power `P(t) = W(t)/t` (units `B²`); `P(0) = 0`, its limit.
    pub power: f64,
}

/// A maximum: where it is, the work and the average power there.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Extremum {
    /// Power `W/T` at that time.
    pub power: f64,
    /// Time `T`.
    pub time: f64,
    /// Work `W(T)`.
    pub work: f64,
    /// Whether `T` is the end of the searched window (within one grid step `h` of it, or
    /// the window is `[0, 0]`): the quantity may still grow beyond, so this is a maximum of
    /// the window only. Always `false` for the certified maximal power.
    #[serde(default)]
    pub at_window_end: bool,
}

/// Everything `spinbat charge` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Charging {
    /// Solver name.
    pub solver: String,
    /// How its error is controlled.
    pub accuracy: String,
    /// Bound (estimate for dense) on the absolute error of every `W` computed; `None` where
    /// the solver's error is not bounded (weak coupling: a first-order formula).
    pub error_bound: Option<f64>,
    /// `W`, `P` at the requested times.
    pub series: Vec<SeriesPoint>,
    /// Maximal average power over all `T > 0` (certified global maximum).
    pub max_power: Extremum,
    /// `T` beyond which no power can exceed `max_power` (`W_bound / P_max`; at most the end
    /// of a field schedule, where the charge ends).
    pub certified_until: f64,
    /// Maximal work over `[0, t_window]`.
    pub max_work: Extremum,
    /// End of the window for the maximal work (the last requested time).
    pub window: f64,
    /// `N` independent spins: `N P⁽¹⁾` at `ωT* = 1.1656`, and `2BN` at `ωT = π/2`.
    pub independent: Independent,
    /// `P_max / (N P⁽¹⁾)`.
    pub power_ratio: f64,
    /// Number of `W` evaluations the search made.
    pub evaluations: usize,
}

/// Figures of merit of `N` independent spins (closed form).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Independent {
    /// `N P⁽¹⁾ = 2BNω · 0.72461…` at `T = 1.16556…/ω`.
    pub max_power: Extremum,
    /// `2BN` at `T = π/(2ω)`.
    pub max_work: Extremum,
}

impl Independent {
    /// Closed forms for the chain's `N`, `B`, `ω`; with per-site fields `BN` is `Σ_i B_i`
    /// (each spin charges as `2B_i sin²(ωt)`, all at the same times).
    pub fn of(chain: &Chain) -> Self {
        // n·B as n and B (bit for bit what a clean chain always gave), or Σ_i B_i
        let (n, b) =
            if chain.has_site_fields() { (1.0, chain.field_sum()) } else { (chain.n_sites() as f64, chain.b()) };
        let (p1, t1) = crate::analytic::one_spin_max_power(b, chain.omega());
        let tw = std::f64::consts::FRAC_PI_2 / chain.omega();
        Independent {
            max_power: Extremum { power: n * p1, time: t1, work: n * p1 * t1, at_window_end: false },
            max_work: Extremum { power: 2.0 * b * n / tw, time: tw, work: 2.0 * b * n, at_window_end: false },
        }
    }
}

/// `n` equally spaced times `0, t_max/(n−1), …, t_max` (`n ≥ 2`; `[t_max]` for `n = 1`).
pub fn uniform_times(t_max: f64, points: usize) -> Vec<f64> {
    match points {
        0 => Vec::new(),
        1 => vec![t_max],
        _ => (0..points).map(|k| t_max * k as f64 / (points - 1) as f64).collect(),
    }
}

/// The grid step `h = π/(16Λ)` of the maximum search (see the module docs), and the
/// same for a given local energy scale `Λ`: defined with the propagators, which may know a
/// slower scale ([`Propagator::scan_step`]).
pub use crate::propagate::{scan_step, scan_step_for};

/// Most grid points sampled per propagator call during the scan.
const SCAN_CHUNK: usize = 24;
/// Upper limit on grid points, far beyond any practical run.
pub const MAX_SCAN_POINTS: usize = 50_000_000;
/// Intervals within this fraction of the best interpolated value are refined.
const CANDIDATE_MARGIN: f64 = 1e-2;
/// At most this many intervals are refined.
const MAX_CANDIDATES: usize = 4;
/// Maxima equal to this relative tolerance count as ties; the earliest is reported.
const TIE_RTOL: f64 = 1e-10;
/// Half-width, relative to the interval, of the bracket placed around the root predicted
/// by Hermite interpolation (its error is `O(h⁴)`, far inside this).
const PREDICT_WIDTH: f64 = 2e-3;
/// Relative time tolerance of the refinement.
const REFINE_XTOL: f64 = 1e-13;

/// What the scan of [`charge`] will sample, known before it starts: the grid step, the
/// time it must reach and the number of grid points on the way. The time is the larger of
/// the window and the certification horizon `W_bound / P_ind` estimated from `N`
/// independent spins (the scan itself stops at `W_bound / P_max`, so a chain that charges
/// slower than independent spins scans further than estimated).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ScanPlan {
    /// Grid step `h` ([`Propagator::scan_step`]).
    pub step: f64,
    /// End of the requested window (the last output time).
    pub window: f64,
    /// Estimated certification horizon `W_bound / P_ind` (`∞` if `P_ind = 0`).
    pub certify: f64,
    /// `max(window, certify)`: how far the scan is expected to propagate.
    pub horizon: f64,
    /// `horizon / h`: grid points of the scan (each one sample of `W`, `W'`).
    pub grid_points: f64,
}

impl ScanPlan {
    /// The plan of [`charge`] for `prop` on `chain` with output `times`.
    pub fn of(prop: &dyn Propagator, chain: &Chain, times: &[f64]) -> Self {
        let step = prop.scan_step(chain);
        let window = times.last().copied().unwrap_or(0.0);
        // independent spins from the propagator's start (a thermal start: less polarised)
        let ind = Independent::of(chain).max_power.power * prop.start_polarisation();
        let certify = if ind > 0.0 { prop.certify_time(chain, ind) } else { f64::INFINITY };
        // a field schedule ends: nothing past its end is searched
        let certify = certify.min(prop.end_time().unwrap_or(f64::INFINITY));
        let horizon = window.max(certify);
        ScanPlan { step, window, certify, horizon, grid_points: horizon / step }
    }

    /// Refuses a plan past [`MAX_SCAN_POINTS`] grid points before anything runs, saying
    /// what to change.
    ///
    /// # Errors
    /// [`SpinbatError::TooLong`].
    pub fn check(&self) -> Result<()> {
        if self.grid_points <= MAX_SCAN_POINTS as f64 {
            return Ok(());
        }
        let certify_points = self.certify / self.step;
        let mut advice = String::new();
        if self.window / self.step > MAX_SCAN_POINTS as f64 / 10.0 {
            advice = format!(
                "the window [0, {:.4e}] is sampled every h = {:.3e} for the maximal work; shorten it with \
                 --t-max (or fewer --times; --t-max {:.3e} gives {} points)",
                self.window,
                self.step,
                self.step * MAX_SCAN_POINTS as f64 / 10.0,
                MAX_SCAN_POINTS / 10
            );
        }
        if certify_points > MAX_SCAN_POINTS as f64 / 10.0 {
            if !advice.is_empty() {
                advice.push_str("; and ");
            }
            advice.push_str(&format!(
                "certifying P_max alone needs the scan to reach T ~ W_bound/P_ind = {:.4e} ({} points): the \
                 field omega is too weak against the couplings' energy scale (raise omega), or a thermal start \
                 is too hot (its polarisation is small)",
                self.certify,
                crate::error::sig_count(certify_points)
            ));
        }
        Err(SpinbatError::TooLong {
            what: "the certified maximum search",
            needed: self.grid_points,
            limit: MAX_SCAN_POINTS as f64,
            unit: "grid points",
            advice,
        })
    }
}

/// How often [`sample_watched`] reads how far a long expansion has got.
const WATCH_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// `prop.sample(times)`, with `progress` moving while it runs where the propagator reports
/// how far a long expansion has got ([`Propagator::live_reach`]: a Chebyshev Gram segment,
/// seconds to minutes at `N ≥ 22`, built inside one call): a watcher thread reads it every
/// [`WATCH_EVERY`] and reports it as done out of `total` (never past it). Without a live
/// reach, the plain call.
fn sample_watched(
    prop: &mut dyn Propagator,
    times: &[f64],
    progress: &dyn Progress,
    total: f64,
) -> Result<Vec<WorkSample>> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let Some(cell) = prop.live_reach() else {
        return prop.sample(times);
    };
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            let mut last = f64::NEG_INFINITY;
            loop {
                std::thread::park_timeout(WATCH_EVERY);
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let t = f64::from_bits(cell.load(Ordering::Relaxed));
                if t > last && t.is_finite() {
                    progress.update(t.min(total), total);
                    last = t;
                }
            }
        });
        let out = prop.sample(times);
        stop.store(true, Ordering::Relaxed);
        watcher.thread().unpark();
        out
    })
}

/// How far below the best power a sample's power must fall before a propagator told that its
/// samples only certify ([`Propagator::certify_only`]) loosens its accuracy: a fraction of
/// the best power, clear of the best grid interval and its neighbours that the refinement
/// reads.
pub const CERTIFY_ONLY_MARGIN: f64 = 0.05;

/// Phase names [`charge`] reports to its [`Progress`].
pub const PHASE_SCAN: &str = "maximum search and curve";
/// The refinement of the maxima found by the scan.
pub const PHASE_REFINE: &str = "refinement";

/// Charges `chain` with `prop`: the curve at `times` (sorted, `≥ 0`), the certified
/// maximal power over all `T > 0` and the maximal work over `[0, times.last()]`.
///
/// Progress: the phases [`PHASE_SCAN`] (in simulated time, out of the expected
/// horizon) and [`PHASE_REFINE`]; [`Progress::stop_reason`] is asked after every chunk.
///
/// # Errors
/// Propagator errors; [`SpinbatError::InvalidTimes`] for bad `times`;
/// [`SpinbatError::TooLong`] at once if the [`ScanPlan`] needs more than 5·10⁷ grid points;
/// [`SpinbatError::NotConverged`] if the search reaches that many anyway;
/// [`SpinbatError::Stopped`] when the progress asks it to stop.
pub fn charge(prop: &mut dyn Propagator, chain: &Chain, times: &[f64], progress: &dyn Progress) -> Result<Charging> {
    crate::propagate::check_times(times)?;
    let plan = ScanPlan::of(prop, chain, times);
    plan.check()?;
    let h = plan.step;
    let bound = prop.work_bound(chain);
    let window = plan.window;
    let independent = Independent::of(chain);
    let ind_time = independent.max_power.time;
    // the last grid index inside the window
    let window_last = (window / h).floor().min(MAX_SCAN_POINTS as f64) as usize;
    // where the dynamics ends (a field schedule): the search covers (0, end] and no further
    let end = prop.end_time();
    let end_last = end.map_or(usize::MAX, |e| (e / h).floor().min(MAX_SCAN_POINTS as f64) as usize);
    progress.phase(PHASE_SCAN);
    prop.expect_until(window);

    // Scan: grid j·h merged with the requested times, chunk by chunk.
    let mut all: Vec<WorkSample> = vec![WorkSample { t: 0.0, work: 0.0, rate: 0.0 }];
    let mut series_samples: Vec<WorkSample> = Vec::with_capacity(times.len());
    let mut next_out = 0;
    let mut j = 1usize;
    let mut p_best = 0.0f64;
    loop {
        // as many grid points as still needed to certify and to cover the window, at most
        // SCAN_CHUNK and what the propagator serves from one expansion (with the requested
        // times of the chunk), at least one. Before any power is known the chunk reaches the
        // optimal time of N independent spins (or their certified stop if sooner); from then
        // on, the certified stop of the best power found: a real-path expansion costs in
        // proportion to its last time, so no chunk goes past what certification needs (sizing
        // only: the stopping test below uses the powers found).
        let need_t = if p_best > 0.0 {
            prop.certify_time(chain, p_best)
        } else {
            let ind = independent.max_power;
            if ind.power > 0.0 {
                prop.certify_time(chain, ind.power).min(ind.time)
            } else {
                f64::INFINITY
            }
        };
        // the grid reaches past the certification time, and up to the window (whose end is
        // an output time, so no grid point beyond it is needed)
        let last = (need_t / h).ceil().max(window_last as f64).min(MAX_SCAN_POINTS as f64) as usize;
        let last = last.min(end_last);
        let need = (last + 1).saturating_sub(j);
        let capacity = prop.batch_capacity().max(1);
        let mut count = need.clamp(1, SCAN_CHUNK.min(capacity));
        while count > 1 {
            let end = (j + count - 1) as f64 * h;
            let outputs = times[next_out..].iter().take_while(|&&t| t <= end).count();
            if count + outputs <= capacity {
                break;
            }
            count -= 1;
        }
        let chunk_end = (j + count - 1) as f64 * h;
        // the chunk with the last grid point inside the window takes the outputs up to its end
        let outputs_end = if j + count > window_last { chunk_end.max(window) } else { chunk_end };
        let mut ts: Vec<(f64, bool)> = (j..j + count).map(|k| (k as f64 * h, false)).collect();
        while next_out < times.len() && times[next_out] <= outputs_end {
            ts.push((times[next_out], true));
            next_out += 1;
        }
        // the last chunk before a schedule's end samples the end itself
        if let Some(e) = end.filter(|_| j + count > end_last) {
            if !ts.iter().any(|x| x.0 == e) {
                ts.push((e, false));
            }
        }
        ts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let just_t: Vec<f64> = ts.iter().map(|x| x.0).collect();
        // the way still expected as it stands before this chunk (as below, after it; before
        // any power is known, the planned horizon)
        let total_before = {
            let stop_at = if p_best > 0.0 { prop.certify_time(chain, p_best) } else { f64::INFINITY };
            let expected = if chunk_end < ind_time || p_best <= 0.0 { stop_at.min(plan.horizon) } else { stop_at };
            expected.max(window).max(chunk_end)
        };
        let samples = sample_watched(prop, &just_t, progress, total_before)?;
        for (s, &(_, is_output)) in samples.iter().zip(&ts) {
            if is_output {
                series_samples.push(*s);
            }
            if s.t > 0.0 {
                p_best = p_best.max(s.work / s.t);
            }
            if s.t > all.last().map_or(-1.0, |l| l.t) {
                all.push(*s);
            }
        }
        j += count;
        // keep the state at the start of the best interval so far, while it is at hand: the
        // refinement then starts there instead of at t = 0
        if let Some(t) = best_interval_start(&all) {
            if just_t.contains(&t) {
                prop.anchor_if_at_hand(t)?;
            }
        }
        let certified = (p_best > 0.0 && prop.certify_time(chain, p_best) < chunk_end) || j > end_last;
        let stop_at = if p_best > 0.0 { prop.certify_time(chain, p_best) } else { f64::INFINITY };
        // before the independent spins' best time the running stop (W_bound over a power
        // still rising) overshoots: count against the planned horizon until then
        let expected = if chunk_end < ind_time { stop_at.min(plan.horizon) } else { stop_at };
        // what the propagator has already computed counts as done (a Gram segment's reach)
        let total = expected.max(window).max(chunk_end);
        progress.update(chunk_end.max(prop.computed_until()).min(total), total);
        if let Some(reason) = progress.stop_reason() {
            return Err(SpinbatError::Stopped { reason });
        }
        if certified && j > window_last && next_out == times.len() {
            break;
        }
        // past the window and every requested time, the samples still to come only certify
        // that the power stays below its best (a hint; an MPS run loosens its truncation
        // once the power has fallen clearly below)
        if j > window_last && next_out == times.len() && p_best > 0.0 {
            prop.certify_only(chunk_end, p_best)?;
        }
        if j > MAX_SCAN_POINTS {
            return Err(SpinbatError::NotConverged {
                what: "maximal-power search",
                reason: format!(
                    "the bound W <= {bound} did not certify a maximum within {MAX_SCAN_POINTS} grid points"
                ),
            });
        }
    }
    // requested t = 0 samples were taken by the propagator too (W(0) = 0 exactly)
    let evaluations_scan = all.len();

    let power_key = |s: &WorkSample| {
        if s.t > 0.0 {
            s.t * s.rate - s.work
        } else {
            0.0
        }
    };
    let mut evaluations = evaluations_scan;
    progress.phase(PHASE_REFINE);
    let max_power = refine_maximum(
        prop,
        &all,
        |s| if s.t > 0.0 { s.work / s.t } else { 0.0 },
        power_key,
        |w, _d, t| if t > 0.0 { w / t } else { 0.0 },
        &mut evaluations,
    )?;
    let in_window: Vec<WorkSample> = all.iter().copied().filter(|s| s.t <= window).collect();
    let mut max_work = refine_maximum(prop, &in_window, |s| s.work, |s| s.rate, |w, _d, _t| w, &mut evaluations)?;
    // a maximum on the window's last grid interval that still rises there (W' > 0 at the
    // end), or a window of one point, is the window's edge, not a turning point
    let still_rising = all.iter().rev().find(|s| s.t <= window).is_some_and(|s| s.rate > 0.0);
    max_work.at_window_end = window <= 0.0 || (window - max_work.time <= h && still_rising);
    let series = series_samples
        .iter()
        .map(|s| SeriesPoint { t: s.t, work: s.work, power: if s.t > 0.0 { s.work / s.t } else { 0.0 } })
        .collect();
    Ok(Charging {
        solver: prop.name().to_string(),
        accuracy: prop.accuracy_note(),
        error_bound: Some(prop.error_bound()).filter(|b| b.is_finite()),
        series,
        certified_until: prop.certify_time(chain, max_power.power).min(end.unwrap_or(f64::INFINITY)),
        max_power,
        max_work,
        window,
        power_ratio: max_power.power / independent.max_power.power,
        independent,
        evaluations,
    })
}

/// Start of the grid interval that holds the largest power seen: the sample of largest
/// `W/t` if `P` still rises there (`t W' > W`), else the one before it.
fn best_interval_start(all: &[WorkSample]) -> Option<f64> {
    let (k, s) = all
        .iter()
        .enumerate()
        .filter(|(_, s)| s.t > 0.0)
        .max_by(|a, b| (a.1.work / a.1.t).total_cmp(&(b.1.work / b.1.t)))?;
    if s.t * s.rate - s.work > 0.0 || k == 0 {
        Some(s.t)
    } else {
        Some(all[k - 1].t)
    }
}

/// Cubic Hermite interpolant of `W` on `[a, b]` at `t`.
fn hermite(a: &WorkSample, b: &WorkSample, t: f64) -> (f64, f64) {
    let h = b.t - a.t;
    let s = (t - a.t) / h;
    let (s2, s3) = (s * s, s * s * s);
    let w = (2.0 * s3 - 3.0 * s2 + 1.0) * a.work
        + (s3 - 2.0 * s2 + s) * h * a.rate
        + (-2.0 * s3 + 3.0 * s2) * b.work
        + (s3 - s2) * h * b.rate;
    let d = ((6.0 * s2 - 6.0 * s) * a.work
        + (3.0 * s2 - 4.0 * s + 1.0) * h * a.rate
        + (-6.0 * s2 + 6.0 * s) * b.work
        + (3.0 * s2 - 2.0 * s) * h * b.rate)
        / h;
    (w, d)
}

/// Finds the maximum of `value(sample)` over the sampled range: grid maximum, candidate
/// intervals by Hermite interpolation, Brent on `slope` (positive before a maximum,
/// negative after) inside each candidate.
fn refine_maximum(
    prop: &mut dyn Propagator,
    grid: &[WorkSample],
    value: impl Fn(&WorkSample) -> f64,
    slope: impl Fn(&WorkSample) -> f64,
    interp_value: impl Fn(f64, f64, f64) -> f64,
    evaluations: &mut usize,
) -> Result<Extremum> {
    let to_ext = |s: &WorkSample| Extremum {
        power: if s.t > 0.0 { s.work / s.t } else { 0.0 },
        time: s.t,
        work: s.work,
        at_window_end: false,
    };
    let best_grid = grid.iter().max_by(|a, b| value(a).total_cmp(&value(b))).copied().unwrap_or(WorkSample {
        t: 0.0,
        work: 0.0,
        rate: 0.0,
    });
    if grid.len() < 2 {
        return Ok(to_ext(&best_grid));
    }
    // interpolated maximum of each interval
    // interpolated maximum of each interval, and whether a maximum lies inside it: the
    // slope changes sign from + to −, or the interpolant peaks strictly inside. Intervals
    // where the value only rises or falls have their maximum on the grid already.
    let mut cands: Vec<(f64, usize)> = grid
        .windows(2)
        .enumerate()
        .filter_map(|(k, w)| {
            let vals: Vec<f64> = (0..=16)
                .map(|q| {
                    let t = w[0].t + (w[1].t - w[0].t) * q as f64 / 16.0;
                    let (wv, d) = hermite(&w[0], &w[1], t);
                    interp_value(wv, d, t)
                })
                .collect();
            let est = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let peaks_inside = est > vals[0].max(vals[16]);
            let sign_change = slope(&w[0]) > 0.0 && slope(&w[1]) <= 0.0;
            (peaks_inside || sign_change).then_some((est, k))
        })
        .collect();
    let top = cands.iter().map(|c| c.0).fold(value(&best_grid), f64::max);
    let margin = CANDIDATE_MARGIN * top.abs();
    cands.retain(|c| c.0 >= top - margin);
    cands.sort_by(|a, b| b.0.total_cmp(&a.0));
    cands.truncate(MAX_CANDIDATES);

    let mut found = vec![best_grid];
    for &(_, k) in &cands {
        let (a, b) = (grid[k], grid[k + 1]);
        found.push(refine_interval(prop, a, b, &value, &slope, evaluations)?);
    }
    // the largest value; among maxima equal to TIE_RTOL (periodic curves), the earliest
    let top = found.iter().map(&value).fold(f64::NEG_INFINITY, f64::max);
    let best = found
        .iter()
        .filter(|s| value(s) >= top - TIE_RTOL * top.abs())
        .min_by(|a, b| a.t.total_cmp(&b.t))
        .copied()
        .unwrap_or(best_grid);
    Ok(to_ext(&best))
}

/// Refines the maximum inside `[a, b]`: Brent on `slope` if it changes sign from + to −,
/// otherwise 16 fresh samples to find such a sub-bracket.
fn refine_interval(
    prop: &mut dyn Propagator,
    a: WorkSample,
    b: WorkSample,
    value: &impl Fn(&WorkSample) -> f64,
    slope: &impl Fn(&WorkSample) -> f64,
    evaluations: &mut usize,
) -> Result<WorkSample> {
    prop.anchor(a.t)?;
    let mut lo = a;
    let mut hi = b;
    if !(slope(&lo) > 0.0 && slope(&hi) <= 0.0) {
        let ts: Vec<f64> = (1..16).map(|q| a.t + (b.t - a.t) * q as f64 / 16.0).collect();
        let mut pts = vec![a];
        pts.extend(prop.sample(&ts)?);
        pts.push(b);
        *evaluations += ts.len();
        let best = pts
            .windows(2)
            .filter(|w| slope(&w[0]) > 0.0 && slope(&w[1]) <= 0.0)
            .max_by(|x, y| value(&x[0]).max(value(&x[1])).total_cmp(&value(&y[0]).max(value(&y[1]))));
        match best {
            Some(w) => {
                lo = w[0];
                hi = w[1];
            }
            None => {
                // monotone inside: the maximum is an end point
                return Ok(*pts.iter().max_by(|x, y| value(x).total_cmp(&value(y))).unwrap_or(&a));
            }
        }
        prop.anchor(lo.t)?;
    }
    // Predict the root from the Hermite interpolant and bracket it tightly with one batch
    // of two samples; the bracket always shrinks, whatever the prediction is worth.
    let interp_slope = |t: f64| {
        let (work, rate) = hermite(&lo, &hi, t);
        slope(&WorkSample { t, work, rate })
    };
    let (mut pa, mut pb) = (lo.t, hi.t);
    for _ in 0..60 {
        let mid = 0.5 * (pa + pb);
        if interp_slope(mid) > 0.0 {
            pa = mid;
        } else {
            pb = mid;
        }
    }
    let guess = 0.5 * (pa + pb);
    let delta = PREDICT_WIDTH * (hi.t - lo.t);
    let (ta, tb) = ((guess - delta).max(lo.t), (guess + delta).min(hi.t));
    if lo.t < ta && ta < tb && tb < hi.t {
        let pair = prop.sample(&[ta, tb])?;
        *evaluations += 2;
        let (sa, sb) = (pair[0], pair[1]);
        if slope(&sa) > 0.0 && slope(&sb) <= 0.0 {
            lo = sa;
            hi = sb;
        } else if slope(&sa) > 0.0 {
            lo = sb;
        } else {
            hi = sa;
        }
        // Brent's evaluations start from the bracket's lower end: a time of the batch just
        // sampled, so the anchor is a copy and every step is a short expansion
        prop.anchor(lo.t)?;
    }
    let mut last = lo;
    let t = brent(
        |t| -> Result<f64> {
            let s = prop.sample(&[t])?[0];
            *evaluations += 1;
            last = s;
            Ok(slope(&s))
        },
        lo.t,
        hi.t,
        slope(&lo),
        slope(&hi),
        REFINE_XTOL * hi.t,
        200,
    )?;
    let s = if last.t == t { last } else { prop.sample(&[t])?[0] };
    Ok(s)
}
