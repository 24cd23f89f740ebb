//! The open battery by quantum trajectories: the charging curve as the mean over `K`
//! trajectories ([`crate::propagate::Unravelling`]), each value with its standard error,
//! and the maximal power and work of the mean curve.
//!
//! **What is exact in the mean.** `E[|ψ⟩⟨ψ|/⟨ψ|ψ⟩] = ρ(t)`, so the mean of any quantity
//! *linear* in the state, `⟨O⟩_ψ`, estimates `Tr(Oρ)` without bias: the work
//! `W = ⟨H0⟩ − E_0`, its rate `Tr(H0 𝓛ρ)`, one-site Bloch vectors (so the local
//! ergotropy, a function of the averaged one-site states computed *after* averaging), `⟨Z_iZ_j⟩`.
//! A *non-linear* function of the state is not: the global ergotropy, the entropy of a part,
//! `Var(H0)` of `ρ` are not the mean of the pure-state values (a pure state has no
//! entropy; the ergotropy of the mixture is below the mean of the pure states'). Reported
//! here: `W`, and on request ([`charge_trajectories_observed`]) the mean one-site Bloch
//! vectors and the local ergotropy of the mean one-site states (a smooth function of linear
//! means: consistent, with a bias of order `1/K` below its statistical error).
//!
//! **Mean and standard error.** At each output time, `W̄ = Σ_k W_k/K` and
//! `σ_W̄ = s/√K`, `s² = Σ_k (W_k − W̄)²/(K − 1)` (one standard deviation of the mean;
//! `K ≥ 2`). Sums run in trajectory order, so the numbers do not depend on the threads.
//!
//! **Maximal power and work of the mean curve (statistical, not certified).** The
//! trajectories are recorded on a grid of step `h/2` over the window `[0, t_window]`
//! (`h = π/(16(Λ + κ))`, the density matrix's scan step: `Λ` the local energy scale, `κ`
//! the fastest dissipative rate) merged with the output times. Between grid points the mean
//! curve is the cubic Hermite interpolant of `W̄` and of the exact mean rate `W̄'`
//! (interpolation error `≲ (h/2)⁴ max|W''''|/384`, about `10⁻⁵` relative for `W ~ sin²`
//! at the local scale); `T*` solves `T W̄'(T) = W̄(T)` on it by Brent's method next to the
//! best grid point. The standard error of `P_max` is that of `W̄(T*)/T*` at the `T*` found
//! (the same Hermite weights on each trajectory's values): first order, since `P` is
//! stationary at `T*`; the choice of `T*` from the same data biases `P_max` upwards by a
//! second-order amount. The maximum is over the window only: unlike the closed battery's,
//! nothing beyond it is certified.

use super::trajectory::{ObservableBounds, ObservablePoint, ObservableSet, Trajectory};
use super::{Charging, Extremum, Independent, SeriesPoint};
use crate::error::{invalid, Result};
use crate::model::Chain;
use crate::numeric::brent;
use crate::open::Noise;
use crate::propagate::{check_times, scan_step_for, Ensemble, Unravelling};
use crate::Progress;
use serde::Serialize;

/// What an ensemble charge reports beside the [`Charging`] of the mean curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnsembleSummary {
    /// Number of trajectories `K`.
    pub trajectories: usize,
    /// The seed (trajectory `k` draws from ChaCha8 stream `k` of it).
    pub seed: u64,
    /// Mean number of jumps per trajectory over the window.
    pub mean_jumps: f64,
    /// Standard error of `P_max` of the mean curve (`B²`), see the module docs.
    pub max_power_stderr: f64,
    /// Standard error of the maximal work of the mean curve (`B`).
    pub max_work_stderr: f64,
    /// Bound on `|W_computed − W|` of every trajectory against the exact trajectory of
    /// its random record (truncation and rounding; the statistical error is separate).
    pub trajectory_error_bound: f64,
    /// Step of the recording grid (`h/2`, units `1/B`).
    pub grid_step: f64,
    /// How to read the numbers.
    pub note: String,
}

/// The result of [`charge_trajectories`].
#[derive(Debug, Clone, PartialEq)]
pub struct EnsembleCharging {
    /// The mean curve at the output times, `P_max` and the maximal work of the mean curve
    /// (over the window; `certified_until` is `NaN`, JSON `null`: nothing is certified;
    /// `error_bound` is `None`: the error is statistical).
    pub charging: Charging,
    /// The standard error of `W̄` at each output time (units `B`).
    pub work_stderr: Vec<f64>,
    /// Trajectories, seed, jumps, the standard errors of the maxima.
    pub summary: EnsembleSummary,
    /// The observables at the output times ([`charge_trajectories_observed`]): the mean
    /// one-site Bloch vectors and the local ergotropy of the mean one-site states, each with
    /// its standard error; `None` when none was asked for.
    pub observables: Option<Trajectory>,
}

/// The note every ensemble result carries.
pub const STATISTICAL_NOTE: &str = "statistical: means over the trajectories with one standard error (s/sqrt(K)); \
     W and its rate are linear in the state, so their means are unbiased estimates of the density matrix's; P_max \
     and T* are those of the mean curve (Hermite interpolation of the mean W, W' between grid points), over the \
     window only, not certified";

/// The note of storage by trajectories.
pub const STORAGE_NOTE: &str = "statistical: means over the trajectories with one standard error (s/sqrt(K)); W, \
     its rate, the Bloch vectors and the local ergotropy of the mean one-site states are estimated (linear in rho); \
     the global ergotropies are not (null), and the work's half-life is that of the mean at the output times";

/// The observables a mean over trajectories estimates without bias at the output times
/// (module docs): `bloch` (one-site states) and, of the ergotropy family, `local_ergotropy`
/// (of the mean one-site states). Every other observable is a non-linear function of `ρ`.
///
/// # Errors
/// [`crate::SpinbatError::Unsupported`] naming the first one asked for that is not one of
/// these.
pub fn check_observables(set: &ObservableSet) -> Result<()> {
    let refuse = |what: &str, why: &str| {
        Err(crate::SpinbatError::Unsupported {
            solver: "trajectories",
            reason: format!("{what} is {why}; use --solver density-matrix"),
        })
    };
    if set.entanglement {
        return refuse(
            "entanglement",
            "not linear in the state (a mean of pure-state entropies is not the entropy of rho)",
        );
    }
    if set.zz || set.variance {
        return refuse(
            if set.zz { "zz" } else { "variance" },
            "not estimated from trajectories yet (only bloch and, of the ergotropy family, local_ergotropy)",
        );
    }
    if set.block.is_some() {
        return refuse("block ergotropy", "not linear in the state");
    }
    Ok(())
}

/// Trajectories averaged when the caller does not say (`spinbat charge --solver
/// trajectories`, Python's `Chain.charge(solver="trajectories")`).
pub const DEFAULT_TRAJECTORIES: usize = 1000;

/// The observables of an `--observe` list for trajectories: `all` is everything the mean
/// estimates (`bloch`, `ergotropy`: [`check_observables`]), any other list as parsed.
///
/// # Errors
/// An unknown name; those of [`check_observables`].
pub fn trajectory_observables(list: &str) -> Result<ObservableSet> {
    let set = if list.trim() == "all" {
        ObservableSet { bloch: true, ergotropy: true, ..ObservableSet::default() }
    } else {
        list.parse()?
    };
    check_observables(&set)?;
    Ok(set)
}

/// The recording grid's step: half the density matrix's scan step `π/(16(Λ + κ))`.
pub fn grid_step(chain: &Chain, noise: &Noise) -> f64 {
    let lambda = chain.omega().abs() + (1.0 + chain.alpha().abs()) * chain.max_abs_row_sum();
    0.5 * scan_step_for(lambda + noise.rates(chain.b()).fastest(chain.n_sites()))
}

/// The cubic Hermite weights of `(W_a, W'_a, W_b, W'_b)` for the value and the derivative
/// at `t` in `[a, b]`.
fn hermite(a: f64, b: f64, t: f64) -> ([f64; 4], [f64; 4]) {
    let h = b - a;
    let s = (t - a) / h;
    let (s2, s3) = (s * s, s * s * s);
    let value = [2.0 * s3 - 3.0 * s2 + 1.0, (s3 - 2.0 * s2 + s) * h, -2.0 * s3 + 3.0 * s2, (s3 - s2) * h];
    let slope = [(6.0 * s2 - 6.0 * s) / h, 3.0 * s2 - 4.0 * s + 1.0, (-6.0 * s2 + 6.0 * s) / h, 3.0 * s2 - 2.0 * s];
    (value, slope)
}

/// Per-grid means of the work and rate over the trajectories, in trajectory order.
struct Means {
    work: Vec<f64>,
    rate: Vec<f64>,
}

impl Means {
    fn of(e: &Ensemble) -> Self {
        let g = e.times.len();
        let k = e.trajectories.len() as f64;
        let (mut work, mut rate) = (vec![0.0; g], vec![0.0; g]);
        for tr in &e.trajectories {
            work.iter_mut().zip(&tr.work).for_each(|(a, w)| *a += w);
            rate.iter_mut().zip(&tr.rate).for_each(|(a, r)| *a += r);
        }
        work.iter_mut().chain(rate.iter_mut()).for_each(|x| *x /= k);
        Means { work, rate }
    }

    /// Mean `W` and `W'` at `t` inside grid interval `i` (`[t_i, t_{i+1}]`).
    fn at(&self, grid: &[f64], i: usize, t: f64) -> (f64, f64) {
        let (v, d) = hermite(grid[i], grid[i + 1], t);
        let ends = [self.work[i], self.rate[i], self.work[i + 1], self.rate[i + 1]];
        (dot(&v, &ends), dot(&d, &ends))
    }
}

fn dot(a: &[f64; 4], b: &[f64; 4]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Standard error of the mean of the per-trajectory values `f(trajectory)`.
fn stderr_of(e: &Ensemble, f: impl Fn(&crate::propagate::unravelling::TrajectoryRecord) -> f64) -> f64 {
    let k = e.trajectories.len() as f64;
    let values: Vec<f64> = e.trajectories.iter().map(f).collect();
    let mean = values.iter().sum::<f64>() / k;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (k - 1.0);
    (var / k).sqrt()
}

/// Standard error of the mean work at `t`: at grid point `i` (`interval = None`) or
/// interpolated inside interval `i`.
fn stderr_at(e: &Ensemble, i: usize, t: f64, inside: bool) -> f64 {
    if !inside {
        return stderr_of(e, |tr| tr.work[i]);
    }
    let (v, _) = hermite(e.times[i], e.times[i + 1], t);
    stderr_of(e, |tr| dot(&v, &[tr.work[i], tr.rate[i], tr.work[i + 1], tr.rate[i + 1]]))
}

/// The maximum over the window of `value(W, t)` (power `W/t`, or the work) of the mean
/// curve: the best grid point, refined by Brent on `stationary(W, W', t)` in the grid
/// intervals beside it where that changes sign from `+` to `−`. Returns the extremum and
/// its standard error.
fn maximum(
    e: &Ensemble,
    means: &Means,
    value: impl Fn(f64, f64) -> f64,
    stationary: impl Fn(f64, f64, f64) -> f64,
) -> (Extremum, f64) {
    let grid = &e.times;
    let g = grid.len();
    let mut best_i = None;
    for i in 0..g {
        if grid[i] > 0.0 && best_i.is_none_or(|b: usize| value(means.work[i], grid[i]) > value(means.work[b], grid[b]))
        {
            best_i = Some(i);
        }
    }
    let Some(bi) = best_i else {
        let zero = Extremum { power: 0.0, time: 0.0, work: 0.0, at_window_end: true };
        return (zero, 0.0);
    };
    // (time, work, interval or grid point)
    let mut best = (grid[bi], means.work[bi], bi, false);
    for i in [bi.wrapping_sub(1), bi] {
        if i >= g - 1 || grid[i] <= 0.0 {
            continue;
        }
        let f = |t: f64| {
            let (w, dw) = means.at(grid, i, t);
            stationary(w, dw, t)
        };
        let (fa, fb) = (f(grid[i]), f(grid[i + 1]));
        if !(fa > 0.0 && fb < 0.0) {
            continue;
        }
        let xtol = 1e-13 * grid[i + 1];
        let Ok(t) = brent::<std::convert::Infallible>(|t| Ok(f(t)), grid[i], grid[i + 1], fa, fb, xtol, 200);
        let (w, _) = means.at(grid, i, t);
        if value(w, t) > value(best.1, best.0) {
            best = (t, w, i, true);
        }
    }
    let (t, w, i, inside) = best;
    let se = stderr_at(e, i, t, inside);
    let at_end = !inside && i == g - 1;
    (Extremum { power: w / t, time: t, work: w, at_window_end: at_end }, se)
}

/// Charges `chain` by `count` quantum trajectories of `unravelling` (seed `seed`) and
/// reports the mean curve at `times` with its standard errors, and the maximal power and
/// work of the mean curve over the window `[0, last time]` (module docs).
///
/// # Errors
/// [`crate::SpinbatError::InvalidParameter`] for `count < 2` (a standard error needs two);
/// [`crate::SpinbatError::InvalidTimes`] for bad `times`; [`crate::SpinbatError::TooLarge`]
/// when the `16·K·G` bytes of the records (`G` grid points) do not fit; those of
/// [`Unravelling::run`].
pub fn charge_trajectories(
    unravelling: &Unravelling,
    chain: &Chain,
    noise: &Noise,
    count: usize,
    seed: u64,
    times: &[f64],
    progress: &dyn Progress,
) -> Result<EnsembleCharging> {
    charge_trajectories_observed(unravelling, chain, noise, count, seed, times, &ObservableSet::default(), progress)
}

/// [`charge_trajectories`] with observables at the output times: with `set.bloch` the mean
/// Bloch vector of each site, with `set.ergotropy` the local ergotropy
/// `Σ_i (B z̄_i + |B| |r̄_i|)` of the mean one-site states, each with one standard error
/// (the local ergotropy's to first order: the standard error of the mean of the
/// per-trajectory values of its linearisation `Σ_i (B z_i + |B| r̄_i·r_i/|r̄_i|)`); every
/// point carries `work_stderr`. The trajectories' state errors bound the Bloch components
/// as for a pure state (`4ε`).
///
/// # Errors
/// Those of [`charge_trajectories`] and of [`check_observables`].
#[allow(clippy::too_many_arguments)]
pub fn charge_trajectories_observed(
    unravelling: &Unravelling,
    chain: &Chain,
    noise: &Noise,
    count: usize,
    seed: u64,
    times: &[f64],
    set: &ObservableSet,
    progress: &dyn Progress,
) -> Result<EnsembleCharging> {
    check_observables(set)?;
    check_times(times)?;
    if count < 2 {
        return Err(invalid("trajectories", count, "needs at least 2 trajectories (a standard error needs two)"));
    }
    if times.is_empty() {
        return Err(crate::SpinbatError::InvalidTimes { reason: "no output times".to_string() });
    }
    let window = *times.last().expect("not empty");
    let h = grid_step(chain, noise);
    let steps = (window / h).floor();
    if steps > super::MAX_SCAN_POINTS as f64 {
        return Err(invalid("t_max", window, format!("the recording grid of step {h:.3e} would be too long")));
    }
    let mut grid: Vec<f64> = (0..=steps as usize).map(|k| k as f64 * h).filter(|&t| t < window).collect();
    grid.extend_from_slice(times);
    grid.sort_by(f64::total_cmp);
    grid.dedup();
    let observed = set.bloch || set.ergotropy;
    let n = chain.n_sites();
    let bloch_bytes = if observed { 24.0 * (n * times.len()) as f64 } else { 0.0 };
    crate::resources::ensure_fits("trajectories", n, count as f64 * (16.0 * grid.len() as f64 + bloch_bytes))?;
    let ensemble = if observed {
        unravelling.clone().with_bloch_at(times).run(&grid, count, seed, progress)?
    } else {
        unravelling.run(&grid, count, seed, progress)?
    };
    let means = Means::of(&ensemble);

    let index = |t: f64| grid.partition_point(|&g| g < t);
    let mut series = Vec::with_capacity(times.len());
    let mut work_stderr = Vec::with_capacity(times.len());
    for &t in times {
        let i = index(t);
        let w = means.work[i];
        series.push(SeriesPoint { t, work: w, power: if t > 0.0 { w / t } else { 0.0 } });
        work_stderr.push(stderr_at(&ensemble, i, t, false));
    }
    let (max_power, power_se) = maximum(&ensemble, &means, |w, t| w / t, |w, dw, t| t * dw - w);
    let (max_work, work_se) = maximum(&ensemble, &means, |w, _| w, |_, dw, _| dw);
    let independent = Independent::of(chain);
    let k = count as f64;
    let summary = EnsembleSummary {
        trajectories: count,
        seed,
        mean_jumps: ensemble.trajectories.iter().map(|t| t.jumps as f64).sum::<f64>() / k,
        max_power_stderr: power_se / max_power.time.max(f64::MIN_POSITIVE),
        max_work_stderr: work_se,
        trajectory_error_bound: ensemble.work_error,
        grid_step: h,
        note: STATISTICAL_NOTE.to_string(),
    };
    let charging = Charging {
        solver: "trajectories".to_string(),
        accuracy: format!(
            "{}; mean of {count} trajectories (seed {seed}), one standard error s/sqrt(K) reported",
            unravelling.accuracy_note()
        ),
        error_bound: None,
        series,
        max_power,
        certified_until: f64::NAN,
        max_work,
        window,
        independent,
        power_ratio: max_power.power / independent.max_power.power,
        evaluations: count * grid.len(),
    };
    let observables = observed.then(|| {
        let points = times
            .iter()
            .enumerate()
            .map(|(j, &t)| observed_point(&ensemble, chain, set, j, t, charging.series[j].work, work_stderr[j]))
            .collect();
        let eps = ensemble.trajectories.iter().map(|t| t.state_error).fold(0.0, f64::max);
        Trajectory {
            solver: "trajectories".to_string(),
            selected: *set,
            cut: super::correlations::half_chain_cut(n),
            accuracy: format!("{}; {STATISTICAL_NOTE}", unravelling.accuracy_note()),
            work_error: ensemble.work_error,
            state_error: Some(eps),
            bounds: Some(ObservableBounds::from_state_error(eps, 0.0, n, super::correlations::half_chain_cut(n))),
            points,
        }
    });
    Ok(EnsembleCharging { charging, work_stderr, summary, observables })
}

/// The means over `ensemble`'s trajectories at each of its times, as the density matrix
/// would report them: `W̄` and its rate (unbiased: linear in `ρ`), one standard error of
/// `W̄`, and with `set` the mean Bloch vectors and the local ergotropy of the mean one-site
/// states ([`charge_trajectories_observed`]; the Bloch vectors must have been recorded at
/// every time, [`Unravelling::with_bloch_at`]). Used for storage by trajectories
/// ([`super::storage`]).
pub fn ensemble_means(
    ensemble: &Ensemble,
    chain: &Chain,
    set: &ObservableSet,
) -> (Vec<crate::propagate::WorkSample>, Vec<f64>, Vec<ObservablePoint>) {
    let means = Means::of(ensemble);
    let samples: Vec<crate::propagate::WorkSample> = ensemble
        .times
        .iter()
        .enumerate()
        .map(|(i, &t)| crate::propagate::WorkSample { t, work: means.work[i], rate: means.rate[i] })
        .collect();
    let stderr: Vec<f64> =
        (0..ensemble.times.len()).map(|i| stderr_at(ensemble, i, ensemble.times[i], false)).collect();
    let points = ensemble
        .times
        .iter()
        .enumerate()
        .map(|(j, &t)| observed_point(ensemble, chain, set, j, t, means.work[j], stderr[j]))
        .collect();
    (samples, stderr, points)
}

/// The observables at output time `j` (module docs of [`charge_trajectories_observed`]).
fn observed_point(
    e: &Ensemble,
    chain: &Chain,
    set: &ObservableSet,
    j: usize,
    t: f64,
    work: f64,
    work_stderr: f64,
) -> ObservablePoint {
    let n = chain.n_sites();
    let k = e.trajectories.len() as f64;
    let site = |tr: &crate::propagate::unravelling::TrajectoryRecord, i: usize| tr.bloch[j * n + i];
    let mut mean = vec![[0.0; 3]; n];
    for tr in &e.trajectories {
        for (i, m) in mean.iter_mut().enumerate() {
            let r = site(tr, i);
            (0..3).for_each(|a| m[a] += r[a]);
        }
    }
    mean.iter_mut().for_each(|m| m.iter_mut().for_each(|x| *x /= k));
    let mut se = vec![[0.0; 3]; n];
    for tr in &e.trajectories {
        for (i, s) in se.iter_mut().enumerate() {
            let r = site(tr, i);
            (0..3).for_each(|a| s[a] += (r[a] - mean[i][a]).powi(2));
        }
    }
    se.iter_mut().for_each(|s| s.iter_mut().for_each(|x| *x = (*x / (k - 1.0) / k).sqrt()));
    let b = chain.b();
    let (local, local_se) = if set.ergotropy {
        let len = |r: &[f64; 3]| (r[0] * r[0] + r[1] * r[1] + r[2] * r[2]).sqrt();
        let local: f64 = mean.iter().map(|r| b * r[2] + b.abs() * len(r)).sum();
        // the linearisation about the mean one-site states, per trajectory
        let unit: Vec<[f64; 3]> = mean
            .iter()
            .map(|r| {
                let l = len(r);
                if l > 0.0 {
                    [r[0] / l, r[1] / l, r[2] / l]
                } else {
                    [0.0; 3]
                }
            })
            .collect();
        let values: Vec<f64> = e
            .trajectories
            .iter()
            .map(|tr| {
                (0..n)
                    .map(|i| {
                        let r = site(tr, i);
                        b * r[2] + b.abs() * (unit[i][0] * r[0] + unit[i][1] * r[1] + unit[i][2] * r[2])
                    })
                    .sum::<f64>()
            })
            .collect();
        let m = values.iter().sum::<f64>() / k;
        let var = values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (k - 1.0);
        (Some(local), Some((var / k).sqrt()))
    } else {
        (None, None)
    };
    ObservablePoint {
        t,
        work,
        entropy: None,
        renyi2: None,
        bloch: set.bloch.then(|| mean.clone()),
        zz: None,
        variance: None,
        ergotropy: None,
        work_stderr: Some(work_stderr),
        bloch_stderr: set.bloch.then_some(se),
        mean_local_ergotropy: local,
        local_ergotropy_stderr: local_se,
    }
}
