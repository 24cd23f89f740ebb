//! Disorder ensembles: the charge of `R` random realisations of a chain
//! ([`crate::model::Disorder`]: `g_ij → g_ij (1 + δ_g u_ij)`, `B_i = B (1 + δ_B v_i)`), each
//! a full [`super::charge`] with its certified `P_max` and `T*`, and their statistics.
//!
//! **What is reported.** At each output time the ensemble mean `W̄(t) = Σ_r W_r(t)/R` with
//! one standard error `s/√R`, `s² = Σ_r (W_r − W̄)²/(R − 1)`; the mean ± standard error of
//! the per-realisation figures of merit `P_max`, `T*`, `W(T*)`, the maximal work and its
//! time; and their distribution: every realisation's values and the quantiles (minimum,
//! quartiles, median, maximum; linear interpolation between order statistics). The mean of
//! `P_max` over realisations is not the maximal power of the mean curve (a maximum of a
//! mean is at most the mean of the maxima); the first is what a randomly drawn battery
//! delivers on average and is the one reported.
//!
//! **Field disorder averages out of the closed curve.** The field is off while charging,
//! so the state `ψ_r(t)` of a realisation does not depend on the `B_i`; the work
//! `W_r(t) = Σ_i B_i (⟨Z_i⟩_t + 1) + ⟨H_g⟩_t + G` is linear in them, and with `E[B_i] = B`
//! the exact ensemble mean of `W(t)` under field disorder alone is the clean curve. The
//! realisations differ through `Σ_i B δ_B v_i (⟨Z_i⟩_t + 1)`, so `P_max`, `T*` spread.
//!
//! **Parallel over realisations, reproducible.** Realisation `r` is drawn from ChaCha8
//! stream `r` of the seed and charged on one thread (a worker's own one-thread rayon pool);
//! as many workers as threads and memory allow take the realisations in turn; the sums run
//! in realisation order: the same seed gives the same numbers whatever the thread count.
//! (Parallel over realisations rather than inside each: the runs an ensemble repeats are
//! small, `N ≲ 16`, where one charge's own parallel kernels gain little.)

use super::{charge, Charging, Extremum, Independent, SeriesPoint};
use crate::error::{invalid, Result, SpinbatError};
use crate::model::{Chain, Disorder};
use crate::open::Noise;
use crate::propagate::{check_times, Plan, Precision, Request, Solver};
use crate::{Progress, Silent};
use serde::Serialize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Phase name of the ensemble ([`Progress::phase`]); updates count realisations.
pub const PHASE_REALISATIONS: &str = "realisations";

/// The figures of merit of one realisation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RealisationResult {
    /// Index `r` of the realisation: ChaCha8 stream `r` of the seed.
    pub seed_index: usize,
    /// Its certified maximal power `P_max` (`B²`).
    pub p_max: f64,
    /// Its optimal charging time `T*` (`1/B`).
    pub t_star: f64,
    /// The work at `T*` (`B`).
    pub work_at_t_star: f64,
    /// Its maximal work over the window (`B`).
    pub max_work: f64,
    /// The time of the maximal work.
    pub max_work_time: f64,
}

/// Mean and one standard error of a quantity over the realisations.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MeanStderr {
    /// `x̄ = Σ_r x_r / R`.
    pub mean: f64,
    /// `s/√R`, `s² = Σ_r (x_r − x̄)²/(R − 1)`.
    pub stderr: f64,
}

impl MeanStderr {
    /// Of the values `x` (`R ≥ 2`), summed in order.
    pub fn of(x: &[f64]) -> Self {
        let r = x.len() as f64;
        let mean = x.iter().sum::<f64>() / r;
        let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (r - 1.0);
        MeanStderr { mean, stderr: (var / r).sqrt() }
    }
}

/// The distribution of a quantity over the realisations: quantiles by linear interpolation
/// between the order statistics (`q` at position `q(R − 1)` of the sorted values).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Quantiles {
    /// Smallest value.
    pub min: f64,
    /// First quartile.
    pub q25: f64,
    /// Median.
    pub median: f64,
    /// Third quartile.
    pub q75: f64,
    /// Largest value.
    pub max: f64,
}

impl Quantiles {
    /// Of the values `x` (not empty).
    pub fn of(x: &[f64]) -> Self {
        let mut v = x.to_vec();
        v.sort_by(f64::total_cmp);
        let q = |p: f64| {
            let pos = p * (v.len() - 1) as f64;
            let (lo, frac) = (pos.floor() as usize, pos.fract());
            if lo + 1 < v.len() {
                v[lo] + frac * (v[lo + 1] - v[lo])
            } else {
                v[lo]
            }
        };
        Quantiles { min: v[0], q25: q(0.25), median: q(0.5), q75: q(0.75), max: v[v.len() - 1] }
    }
}

/// What a disorder ensemble reports beside the [`Charging`] of the mean curve (JSON
/// `disorder`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DisorderSummary {
    /// `δ_g`.
    pub disorder_g: f64,
    /// `δ_B`.
    pub disorder_field: f64,
    /// Realisations `R`.
    pub count: usize,
    /// The seed (realisation `r` draws from ChaCha8 stream `r` of it).
    pub seed: u64,
    /// Mean ± standard error of the certified `P_max` of the realisations.
    pub max_power: MeanStderr,
    /// Mean ± standard error of `T*`.
    pub t_star: MeanStderr,
    /// Mean ± standard error of `W(T*)`.
    pub work_at_t_star: MeanStderr,
    /// Mean ± standard error of the maximal work over the window.
    pub max_work: MeanStderr,
    /// Mean ± standard error of the time of the maximal work.
    pub max_work_time: MeanStderr,
    /// Quantiles of `P_max`, `T*` and the maximal work.
    pub quantiles: DisorderQuantiles,
    /// Every realisation's figures of merit, in realisation order.
    pub realisations: Vec<RealisationResult>,
    /// Realisations run at a time (each on one thread).
    pub concurrent: usize,
    /// How to read the numbers.
    pub note: String,
}

/// The quantiles of the figures of merit over the realisations.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DisorderQuantiles {
    /// Of `P_max`.
    pub p_max: Quantiles,
    /// Of `T*`.
    pub t_star: Quantiles,
    /// Of the maximal work.
    pub max_work: Quantiles,
}

/// The result of [`charge_disorder`].
#[derive(Debug, Clone, PartialEq)]
pub struct DisorderCharging {
    /// The mean curve at the output times; `max_power` and `max_work` hold the means over
    /// the realisations of their certified values (time, work and power each averaged);
    /// `certified_until` is `NaN` (JSON `null`); `error_bound` the largest of the
    /// realisations' numerical bounds (the statistical error is separate).
    pub charging: Charging,
    /// The standard error of `W̄` at each output time (units `B`).
    pub work_stderr: Vec<f64>,
    /// Each realisation's `W_r` at the output times, in realisation order.
    pub curves: Vec<Vec<f64>>,
    /// Spreads, seed, the statistics of the figures of merit.
    pub summary: DisorderSummary,
}

/// The note every disorder ensemble carries.
pub const DISORDER_NOTE: &str = "statistical over the disorder: W(t) is the mean over the realisations with one \
     standard error (s/sqrt(R)); P_max, T* and the maximal work are the means (+- one standard error) of each \
     realisation's certified values, not the maxima of the mean curve; numerical errors are each realisation's bound";

/// Charges `R` realisations of `disorder` on `chain` with `solver` (`noise` for the open
/// battery: each realisation a density-matrix run) and reports the mean curve at `times`,
/// the statistics of `P_max`, `T*` and the maximal work (module docs). Progress: the phase
/// [`PHASE_REALISATIONS`], one update per realisation done; [`Progress::stop_reason`] is
/// asked before each.
///
/// # Errors
/// Those of [`Disorder::check_for`] and [`Noise::check_for`]; [`SpinbatError::InvalidTimes`]
/// for bad or no `times`; the plan's refusals for the first realisation (a solver that
/// cannot take it, such as `dicke` with per-site fields; memory); those of [`charge`] for
/// any realisation; [`SpinbatError::Unsupported`] for the trajectories solver.
#[allow(clippy::too_many_arguments)]
pub fn charge_disorder(
    chain: &Chain,
    disorder: &Disorder,
    solver: Solver,
    tol: f64,
    precision: Precision,
    noise: &Noise,
    times: &[f64],
    progress: &dyn Progress,
) -> Result<DisorderCharging> {
    disorder.check_for(chain)?;
    check_times(times)?;
    if times.is_empty() {
        return Err(SpinbatError::InvalidTimes { reason: "no output times".to_string() });
    }
    if solver == Solver::Trajectories {
        return Err(SpinbatError::Unsupported {
            solver: "trajectories",
            reason: "disorder ensembles run one certified charge per realisation; with noise use the density matrix"
                .to_string(),
        });
    }
    let count = disorder.realisations;
    // the first realisation's plan: solver, space and memory (the others differ in numbers only)
    let first = disorder.realise(chain, 0)?;
    noise.check_for(&first)?;
    let plan = Plan::with_noise(&first, solver, tol, precision, Request::Work, noise)?;
    let threads = rayon::current_num_threads().max(1);
    let by_memory = crate::resources::bytes_available()
        .map_or(threads, |a| ((0.8 * a / plan.bytes().max(1.0)).floor() as usize).max(1));
    let concurrent = threads.min(count).min(by_memory).max(1);

    progress.phase(PHASE_REALISATIONS);
    progress.update(0.0, count as f64);
    // `concurrent` workers, each with its own one-thread pool (its realisations' sums in one
    // order whatever the machine), taking the next realisation index until none is left.
    // Plain threads, not a rayon pool: a rayon worker waiting in another pool's `install`
    // steals further realisations and would start all of them at once.
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<Result<Charging>>>> = Mutex::new((0..count).map(|_| None).collect());
    let worker = || -> Result<()> {
        let single = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .map_err(|e| invalid("threads", 1, format!("could not start a worker thread: {e}")))?;
        loop {
            let r = next.fetch_add(1, Ordering::Relaxed);
            if r >= count {
                return Ok(());
            }
            let result = match progress.stop_reason() {
                Some(reason) => Err(SpinbatError::Stopped { reason }),
                None => disorder.realise(chain, r).and_then(|realised| {
                    single.install(|| {
                        let plan = Plan::with_noise(&realised, plan.solver(), tol, precision, Request::Work, noise)?;
                        charge(plan.propagator(&realised)?.as_mut(), &realised, times, &Silent)
                    })
                }),
            };
            let failed = result.is_err();
            if let Ok(mut s) = slots.lock() {
                s[r] = Some(result);
            }
            if failed {
                // the others stop at their next index
                next.store(count, Ordering::Relaxed);
                return Ok(());
            }
            let k = done.fetch_add(1, Ordering::Relaxed) + 1;
            progress.update(k as f64, count as f64);
        }
    };
    std::thread::scope(|scope| -> Result<()> {
        let handles: Vec<_> = (0..concurrent).map(|_| scope.spawn(worker)).collect();
        for h in handles {
            h.join().map_err(|_| invalid("threads", concurrent, "a worker thread panicked"))??;
        }
        Ok(())
    })?;
    let slots = slots.into_inner().map_err(|_| invalid("threads", concurrent, "a worker thread panicked"))?;
    // the first error in realisation order, else every realisation's charge
    let mut runs = Vec::with_capacity(count);
    for slot in slots {
        match slot {
            Some(Ok(c)) => runs.push(c),
            Some(Err(e)) => return Err(e),
            None => {}
        }
    }
    if runs.len() < count {
        return Err(SpinbatError::Stopped { reason: "a realisation failed".to_string() });
    }
    Ok(summarise(chain, disorder, &runs, times, concurrent))
}

/// The ensemble's statistics from the realisations' charges, in realisation order.
fn summarise(
    chain: &Chain,
    disorder: &Disorder,
    runs: &[Charging],
    times: &[f64],
    concurrent: usize,
) -> DisorderCharging {
    let count = runs.len();
    let curves: Vec<Vec<f64>> = runs.iter().map(|c| c.series.iter().map(|p| p.work).collect()).collect();
    let (series, work_stderr): (Vec<SeriesPoint>, Vec<f64>) = times
        .iter()
        .enumerate()
        .map(|(k, &t)| {
            let w: Vec<f64> = curves.iter().map(|c| c[k]).collect();
            let m = MeanStderr::of(&w);
            (SeriesPoint { t, work: m.mean, power: if t > 0.0 { m.mean / t } else { 0.0 } }, m.stderr)
        })
        .unzip();
    let realisations: Vec<RealisationResult> = runs
        .iter()
        .enumerate()
        .map(|(r, c)| RealisationResult {
            seed_index: r,
            p_max: c.max_power.power,
            t_star: c.max_power.time,
            work_at_t_star: c.max_power.work,
            max_work: c.max_work.work,
            max_work_time: c.max_work.time,
        })
        .collect();
    let column = |f: fn(&RealisationResult) -> f64| -> Vec<f64> { realisations.iter().map(f).collect() };
    let (p, t, wt, mw, mwt) = (
        column(|r| r.p_max),
        column(|r| r.t_star),
        column(|r| r.work_at_t_star),
        column(|r| r.max_work),
        column(|r| r.max_work_time),
    );
    let mean = |x: &[f64]| MeanStderr::of(x).mean;
    let independent = Independent::of(chain);
    let max_power = Extremum { power: mean(&p), time: mean(&t), work: mean(&wt), at_window_end: false };
    let max_work = Extremum {
        power: mean(&runs.iter().map(|c| c.max_work.power).collect::<Vec<_>>()),
        time: mean(&mwt),
        work: mean(&mw),
        at_window_end: runs.iter().any(|c| c.max_work.at_window_end),
    };
    let error_bound = runs.iter().map(|c| c.error_bound).try_fold(0.0f64, |acc, b| b.map(|b| acc.max(b)));
    let first = &runs[0];
    let charging = Charging {
        solver: first.solver.clone(),
        accuracy: format!(
            "{}; mean of {count} disorder realisations (seed {}), one standard error s/sqrt(R) reported",
            first.accuracy, disorder.seed
        ),
        error_bound,
        series,
        max_power,
        certified_until: f64::NAN,
        max_work,
        window: first.window,
        power_ratio: max_power.power / independent.max_power.power,
        independent,
        evaluations: runs.iter().map(|c| c.evaluations).sum(),
    };
    let summary = DisorderSummary {
        disorder_g: disorder.disorder_g,
        disorder_field: disorder.disorder_field,
        count,
        seed: disorder.seed,
        max_power: MeanStderr::of(&p),
        t_star: MeanStderr::of(&t),
        work_at_t_star: MeanStderr::of(&wt),
        max_work: MeanStderr::of(&mw),
        max_work_time: MeanStderr::of(&mwt),
        quantiles: DisorderQuantiles {
            p_max: Quantiles::of(&p),
            t_star: Quantiles::of(&t),
            max_work: Quantiles::of(&mw),
        },
        realisations,
        concurrent,
        note: DISORDER_NOTE.to_string(),
    };
    DisorderCharging { charging, work_stderr, curves, summary }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_the_order_statistics() {
        let q = Quantiles::of(&[4.0, 1.0, 3.0, 2.0, 5.0]);
        assert_eq!((q.min, q.q25, q.median, q.q75, q.max), (1.0, 2.0, 3.0, 4.0, 5.0));
        let q = Quantiles::of(&[0.0, 1.0]);
        assert_eq!((q.q25, q.median), (0.25, 0.5));
        let m = MeanStderr::of(&[1.0, 3.0]);
        // s² = 2, s/√2 = 1
        assert_eq!((m.mean, m.stderr), (2.0, 1.0));
    }
}
