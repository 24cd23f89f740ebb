//! Scans: the figures of merit of [`crate::observe::charge`] along one varied parameter,
//! for several solvers side by side.

use super::sweep::Sweep;
use crate::error::{invalid, Result};
use crate::model::Chain;
use crate::observe::{self, Extremum, Independent};
use crate::open::Noise;
use crate::propagate::{self, memory, Plan, Precision, Request, Solver};
use crate::Progress;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// A solver as a scan names it: `quantum` is the exact dynamics with the cheapest exact
/// method ([`Solver::Auto`]); the others are [`Solver`] names (`dense`, `chebyshev`,
/// `dicke`, `mean-field`, `weak-coupling`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ScanSolver {
    /// Label in records (`quantum`, `mean-field`, ...).
    pub label: &'static str,
    /// The solver that runs (before `auto` is resolved per chain).
    pub solver: Solver,
}

impl ScanSolver {
    /// Exact quantum dynamics, method chosen per chain.
    pub const QUANTUM: ScanSolver = ScanSolver { label: "quantum", solver: Solver::Auto };
    /// Classical mean-field model.
    pub const MEAN_FIELD: ScanSolver = ScanSolver { label: "mean-field", solver: Solver::MeanField };
    /// First-order weak coupling, Eq. 18.
    pub const WEAK_COUPLING: ScanSolver = ScanSolver { label: "weak-coupling", solver: Solver::WeakCoupling };

    /// Parses a comma-separated list such as `quantum,mean-field`.
    ///
    /// # Errors
    /// [`crate::SpinbatError::InvalidParameter`] for an unknown name or an empty list.
    pub fn parse_list(text: &str) -> Result<Vec<ScanSolver>> {
        let mut out: Vec<ScanSolver> = Vec::new();
        for name in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let s = match name {
                "quantum" | "exact" | "auto" => ScanSolver::QUANTUM,
                other => {
                    let solver: Solver = other.parse().map_err(|_| {
                        invalid(
                            "solvers",
                            other,
                            "unknown solver; choose from quantum, mean-field, weak-coupling, dense, chebyshev, dicke",
                        )
                    })?;
                    ScanSolver { label: solver.as_str(), solver }
                }
            };
            if !out.contains(&s) {
                out.push(s);
            }
        }
        if out.is_empty() {
            return Err(invalid("solvers", text, "name at least one solver"));
        }
        Ok(out)
    }
}

/// Numerics shared by every point of a scan.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ScanOptions {
    /// Absolute tolerance on `W` (units of `B`), as in [`propagate::plan`].
    pub tol: f64,
    /// Window `[0, t]` for the maximal work; `None`: `2π/ω` of each chain (two periods of
    /// a free spin, so the independent-spin maximum `2BN` at `π/(2ω)` is inside).
    pub window: Option<f64>,
    /// Whether to find the maximal work at all; without it the propagation stops at the
    /// certified stopping time of `P_max` (much cheaper at large `N`).
    pub max_work: bool,
}

impl ScanOptions {
    /// Checks the options before anything runs.
    ///
    /// # Errors
    /// [`crate::SpinbatError::InvalidParameter`] for `tol` outside `(0, 1)` (the rule of
    /// [`propagate::plan`]) or a window that is not a finite time `> 0`.
    pub fn validate(&self) -> Result<()> {
        if !(self.tol.is_finite() && self.tol > 0.0 && self.tol < 1.0) {
            return Err(invalid("tol", self.tol, "must be a number in (0, 1)"));
        }
        if let Some(w) = self.window {
            if !(w.is_finite() && w > 0.0) {
                return Err(invalid("window", w, "must be a finite time > 0"));
            }
        }
        Ok(())
    }
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions { tol: propagate::DEFAULT_TOL, window: None, max_work: true }
    }
}

/// One point of a scan with one solver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanRow {
    /// Value of the varied parameter.
    pub value: f64,
    /// Solver label (`quantum`, `mean-field`, `weak-coupling`, or a method name).
    pub solver: String,
    /// Method that ran (`dense`, `chebyshev`, `dicke`, `mean-field`, `weak-coupling`).
    pub method: String,
    /// Number of sites of this point.
    pub n_sites: usize,
    /// Certified maximal power `P_max`, its time `T*` and `W(T*)`.
    pub max_power: Extremum,
    /// Maximal work in `[0, window]`, its time and `W/T` there (`None` when not asked for).
    pub max_work: Option<Extremum>,
    /// End of the maximal-work window.
    pub window: Option<f64>,
    /// `P_max / (N P⁽¹⁾)`: the gain over `N` independent spins.
    pub power_ratio: f64,
    /// `W_max / (2BN)`.
    pub work_ratio: Option<f64>,
    /// `N` independent spins (closed form).
    pub independent: Independent,
    /// Bound (dense, mean field: estimate) on the absolute error of `W`; `None` where it
    /// is not bounded (weak coupling).
    pub error_bound: Option<f64>,
    /// How that error is controlled.
    pub accuracy: String,
    /// Wall time of this point (seconds).
    pub run_time_s: f64,
}

/// A cell of a scan row flattened into a table ([`ScanRow::COLUMNS`], [`ScanRow::cells`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    /// A number; `None` where the row has none (the maximal work when it was not asked
    /// for, the error bound of weak coupling).
    Number(Option<f64>),
    /// A whole number (the number of sites).
    Count(usize),
    /// A name or a sentence (solver, method, accuracy).
    Text(&'a str),
}

impl ScanRow {
    /// The columns of a scan row as a flat table, in order: the one list of their names,
    /// which Python's `spinbat.scan` returns as they are and `spinbat scan --csv` (and the
    /// study CSV of `spinbat run`) selects from. Units: powers in `B²`, works in `B`, times
    /// in `1/B`; the ratios are dimensionless; `run_time_s` in seconds.
    pub const COLUMNS: [&'static str; 18] = [
        "value",
        "solver",
        "method",
        "n_sites",
        "max_power",
        "t_star",
        "work_at_max_power",
        "max_work",
        "t_max_work",
        "power_at_max_work",
        "window",
        "power_ratio",
        "work_ratio",
        "independent_max_power",
        "independent_max_work",
        "error_bound",
        "accuracy",
        "run_time_s",
    ];

    /// The row's cells, one for each of [`ScanRow::COLUMNS`] in the same order.
    pub fn cells(&self) -> [Cell<'_>; 18] {
        let work = |f: fn(&Extremum) -> f64| Cell::Number(self.max_work.as_ref().map(f));
        [
            Cell::Number(Some(self.value)),
            Cell::Text(&self.solver),
            Cell::Text(&self.method),
            Cell::Count(self.n_sites),
            Cell::Number(Some(self.max_power.power)),
            Cell::Number(Some(self.max_power.time)),
            Cell::Number(Some(self.max_power.work)),
            work(|m| m.work),
            work(|m| m.time),
            work(|m| m.power),
            Cell::Number(self.window),
            Cell::Number(Some(self.power_ratio)),
            Cell::Number(self.work_ratio),
            Cell::Number(Some(self.independent.max_power.power)),
            Cell::Number(Some(self.independent.max_work.work)),
            Cell::Number(self.error_bound),
            Cell::Text(&self.accuracy),
            Cell::Number(Some(self.run_time_s)),
        ]
    }

    /// The cell of the column named `column` (one of [`ScanRow::COLUMNS`]); `None` for any
    /// other name.
    pub fn cell(&self, column: &str) -> Option<Cell<'_>> {
        let k = Self::COLUMNS.iter().position(|c| *c == column)?;
        Some(self.cells()[k])
    }
}

/// Scans `sweep` on `base` with each of `solvers`: one [`ScanRow`] per (value, solver), in
/// the order values × solvers.
///
/// Every chain is validated, and its memory checked, before any point runs. Points whose
/// exact state needs less than `1/(4·threads)` of the free memory run in parallel
/// (rayon; each propagator parallelises inside as well); the others run one at a time.
/// `progress` receives the number of finished points.
///
/// # Errors
/// An invalid chain or solver (e.g. `dicke` on a chain that is not permutation-symmetric),
/// memory, or the first error of a point.
pub fn scan(
    base: &Chain,
    sweep: &Sweep,
    solvers: &[ScanSolver],
    options: &ScanOptions,
    progress: &dyn Progress,
) -> Result<Vec<ScanRow>> {
    scan_noisy(base, &Noise::default(), sweep, solvers, options, progress)
}

/// [`scan`] of the open battery: every point charges under `noise` (closed: every rate
/// zero), with the swept parameter set in the chain or, for a noise setting
/// ([`Parameter::NOISE`](super::Parameter::NOISE): `dephasing`, `decay`,
/// `collective_decay`, `temperature`), in the noise ([`Sweep::noises`]). Each point is the
/// `charge` of its chain and noise: with any channel acting the density matrix
/// ([`crate::propagate::DensityMatrix`], on the Dicke states for `p = 0` with collective
/// decay), certified with the open battery's work bound; a point whose rates are all zero
/// runs the closed battery's exact solver, as `charge` without noise does.
///
/// # Errors
/// As [`scan`]; a refused noise setting ([`crate::open::Noise::check`]); a solver of the
/// closed battery at a point with noise ([`crate::SpinbatError::Unsupported`]).
pub fn scan_noisy(
    base: &Chain,
    noise: &Noise,
    sweep: &Sweep,
    solvers: &[ScanSolver],
    options: &ScanOptions,
    progress: &dyn Progress,
) -> Result<Vec<ScanRow>> {
    if solvers.is_empty() {
        return Err(invalid("solvers", "[]", "name at least one solver"));
    }
    options.validate()?;
    let chains = sweep.chains(base)?;
    let noises = sweep.noises(noise, base.b())?;
    let mut jobs = Vec::with_capacity(chains.len() * solvers.len());
    for ((chain, noise), &value) in chains.iter().zip(&noises).zip(&sweep.values) {
        for s in solvers {
            // the one memory check of each job, before any runs
            let plan = Plan::with_noise(chain, s.solver, options.tol, Precision::Double, Request::Work, noise)?;
            jobs.push((value, chain, *s, plan));
        }
    }
    run_rows(
        &jobs,
        |job| job.3.bytes(),
        |(value, chain, s, plan)| point_planned(*value, chain, *s, options, plan),
        progress,
    )
}

/// The rows of `jobs`, in order: each job's row by `row`, the small jobs (by `bytes`) in
/// parallel ([`for_each_job`]), `progress` told the number finished.
///
/// # Errors
/// The first error of a job, in job order.
pub(super) fn run_rows<J: Sync>(
    jobs: &[J],
    bytes: impl Fn(&J) -> f64 + Sync,
    row: impl Fn(&J) -> Result<ScanRow> + Sync,
    progress: &dyn Progress,
) -> Result<Vec<ScanRow>> {
    let total = jobs.len() as f64;
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<ScanRow>>>> = Mutex::new(vec![None; jobs.len()]);
    progress.update(0.0, total);
    for_each_job(
        jobs.len(),
        |k| bytes(&jobs[k]),
        |k| {
            let r = row(&jobs[k]);
            if let Ok(mut results) = results.lock() {
                results[k] = Some(r);
            }
            let d = done.fetch_add(1, Ordering::Relaxed) + 1;
            progress.update(d as f64, total);
        },
    );
    let results = results.into_inner().unwrap_or_default();
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(invalid("scan", "point", "a point did not run (internal error)"))))
        .collect()
}

/// Runs `run(k)` for `k in 0..count`: jobs whose state needs (`bytes(k)`) less than
/// `1/(4·threads)` of the free memory in parallel (rayon work stealing, so in no fixed
/// order), then the large ones one at a time in index order (each parallelises inside).
pub(super) fn for_each_job(count: usize, bytes: impl Fn(usize) -> f64 + Sync, run: impl Fn(usize) + Sync) {
    let threshold =
        memory::bytes_available().unwrap_or(8.0 * 1024f64.powi(3)) / (4.0 * rayon::current_num_threads() as f64);
    let (parallel, serial): (Vec<usize>, Vec<usize>) = (0..count).partition(|&k| bytes(k) < threshold);
    parallel.into_par_iter().for_each(&run);
    serial.into_iter().for_each(run);
}

/// Default end of the maximal-work window: `2π/ω`.
pub fn default_window(chain: &Chain) -> f64 {
    2.0 * std::f64::consts::PI / chain.omega()
}

pub(super) fn point(value: f64, chain: &Chain, s: ScanSolver, options: &ScanOptions) -> Result<ScanRow> {
    point_planned(value, chain, s, options, &Plan::new(chain, s.solver, options.tol, Precision::Double, Request::Work)?)
}

/// [`point`] with its plan made (and memory checked) already.
pub(super) fn point_planned(
    value: f64,
    chain: &Chain,
    s: ScanSolver,
    options: &ScanOptions,
    plan: &Plan,
) -> Result<ScanRow> {
    point_of(value, chain, s, options, plan.propagator(chain)?)
}

/// [`point`] by a propagator already built (a drive's: [`super::floquet::scan_drive`]).
pub(super) fn point_of(
    value: f64,
    chain: &Chain,
    s: ScanSolver,
    options: &ScanOptions,
    prop: Box<dyn propagate::Propagator>,
) -> Result<ScanRow> {
    let window = options.max_work.then(|| options.window.unwrap_or_else(|| default_window(chain)));
    row_of(value, chain, s, window, prop, Instant::now())
}

/// The row of one point: `prop`'s charge of `chain`, its maximal work on `[0, window]`
/// where a window is given, timed from `start`.
pub(super) fn row_of(
    value: f64,
    chain: &Chain,
    s: ScanSolver,
    window: Option<f64>,
    mut prop: Box<dyn propagate::Propagator>,
    start: Instant,
) -> Result<ScanRow> {
    let times: Vec<f64> = window.into_iter().collect();
    let r = observe::charge(prop.as_mut(), chain, &times, &crate::Silent)?;
    let max_work = window.map(|_| r.max_work);
    Ok(ScanRow {
        value,
        solver: s.label.to_string(),
        method: r.solver.clone(),
        n_sites: chain.n_sites(),
        max_power: r.max_power,
        max_work,
        window,
        power_ratio: r.power_ratio,
        work_ratio: max_work.map(|m| m.work / r.independent.max_work.work),
        independent: r.independent,
        error_bound: r.error_bound,
        accuracy: r.accuracy,
        run_time_s: start.elapsed().as_secs_f64(),
    })
}
