//! Observables of a study's jobs: besides `P_max` and the maximal work, each (point,
//! solver) follows its state along the point's output window and records the summary of
//! [`crate::observe::trajectory`] — the peak half-chain (or any cut's) entanglement
//! entropy, the largest `Var(H0)`, the shortest single-site Bloch vector, the largest
//! connected `ZZ` correlation, and the largest ergotropy and locked ergotropy, each with its
//! time ([`ObservableSummary`]).
//!
//! The times are `points` equally spaced ones on `[0, window]`, `window` the study's
//! maximal-work window (default `2π/ω` of each point), so with the defaults a job records
//! what `spinbat charge --observe ...` reports for the same chain (201 times on
//! `[0, 2π/ω]`). The summaries are extrema over those times, not refined between them.
//!
//! Solvers: the exact ones run the full state (dense for `N ≤ 10`, Chebyshev beyond, also
//! for `quantum` and `dicke` points whose `P_max` came from the Dicke solver); the mean
//! field gives its product state (entropy and off-diagonal `ZZ` `0`, Bloch vectors of
//! length `1`, no `Var(H0)`); the weak-coupling formula has no state and is refused, as is
//! a permutation-symmetric chain too large for the full state
//! ([`crate::observe::trajectory::check`]). Cost per job: a second propagation over the
//! window, plus per time a `2^cut × 2^(N−cut)` SVD (entanglement), one `H0` application
//! (variance), `O(N 2^N)` (Bloch vectors) and `O(2^N)` (`ZZ`).

use crate::error::{invalid, Result};
use crate::model::Chain;
use crate::observe::trajectory::{self, ObservableSet, Peak, OBSERVABLE_BYTES_PER_AMPLITUDE};
use crate::observe::uniform_times;
use crate::propagate::{memory, Solver};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Output times per job when a study does not say: the default of `spinbat charge`.
pub const DEFAULT_OBSERVE_POINTS: usize = crate::model::defaults::POINTS;

/// Which observables a study records for every job, and at how many times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ObserveOptions {
    /// The observables and the entropy's cut (`None`: `⌊N/2⌋` of each point).
    pub set: ObservableSet,
    /// Number of equally spaced times on `[0, window]` (`≥ 2`).
    pub points: usize,
}

impl ObserveOptions {
    /// `set` at [`DEFAULT_OBSERVE_POINTS`] times.
    pub fn new(set: ObservableSet) -> Self {
        ObserveOptions { set, points: DEFAULT_OBSERVE_POINTS }
    }

    /// Checks the options alone (the chains are checked by [`ObserveOptions::check`]).
    ///
    /// # Errors
    /// [`crate::SpinbatError::InvalidParameter`] for an empty set or fewer than two points.
    pub fn validate(&self) -> Result<()> {
        if self.set.is_empty() {
            return Err(invalid(
                "observe",
                "[]",
                format!("name at least one observable: {}, or all", ObservableSet::NAMES.join(", ")),
            ));
        }
        if self.points < 2 {
            return Err(invalid("points", self.points, "must be at least 2"));
        }
        Ok(())
    }

    /// Checks, before anything runs, that `solver` can give these observables of `chain`:
    /// the cut fits `N`, the state and the recorded values fit in memory, and the solver
    /// has a state at all. Returns the solver the trajectory will use.
    ///
    /// # Errors
    /// [`crate::SpinbatError::InvalidParameter`] for a cut outside `1..N`;
    /// [`crate::SpinbatError::Unsupported`] for the weak-coupling formula and for a
    /// permutation-symmetric chain too large for the full state;
    /// [`crate::SpinbatError::TooLarge`] otherwise when it does not fit.
    pub fn check(&self, chain: &Chain, solver: Solver) -> Result<Solver> {
        self.set.cut_for(chain.n_sites())?;
        let resolved = trajectory::check(chain, solver)?;
        trajectory::check_output(resolved, chain.n_sites(), self.points, &self.set)?;
        Ok(resolved)
    }

    /// Bytes the trajectory of `chain` with `solver` needs (for scheduling: see
    /// [`crate::study::GridStudy::run`]); `0` when it cannot run.
    pub fn bytes_needed(&self, chain: &Chain, solver: Solver) -> f64 {
        match trajectory::resolve(chain, solver) {
            Ok(Solver::MeanField) => memory::bytes_needed(chain, Solver::MeanField),
            Ok(s) => memory::bytes_needed(chain, s) + OBSERVABLE_BYTES_PER_AMPLITUDE * (chain.n_sites() as f64).exp2(),
            Err(_) => 0.0,
        }
    }
}

/// The observables of one job: extrema over the sampled times, each with its (earliest)
/// time (units `1/B`); only those asked for (and defined for the solver) are present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObservableSummary {
    /// Solver that gave the states (`dense`, `chebyshev`, `mean-field`).
    pub solver: String,
    /// Cut of the entropy: sites `0..cut` against `cut..N`.
    pub cut: usize,
    /// End of the sampled window `[0, window]` (units `1/B`).
    pub window: f64,
    /// Number of equally spaced times sampled.
    pub points: usize,
    /// Quantum solvers: bound (dense: estimate) on `‖δψ‖` of every state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_error: Option<f64>,
    /// Largest von Neumann entropy of sites `0..cut` (nats; at most
    /// `min(cut, N − cut) ln 2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_entropy: Option<Peak>,
    /// Bound on the entropy's error implied by `state_error` (nats).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entropy_bound: Option<f64>,
    /// Largest energy variance `⟨H0²⟩ − ⟨H0⟩²` (units `B²`; quantum solvers only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_variance: Option<Peak>,
    /// Shortest Bloch vector `|S_i|` over sites and times (`1`: every site pure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_bloch_length: Option<Peak>,
    /// Largest `|⟨Z_iZ_j⟩ − ⟨Z_i⟩⟨Z_j⟩|`, `i ≠ j`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_zz: Option<Peak>,
    /// Largest ergotropy for `H0` (units `B`; where `E_min` is known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ergotropy: Option<Peak>,
    /// Largest ergotropy locked in correlations (units `B`; `0` in the mean field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_locked_ergotropy: Option<Peak>,
    /// Wall time of the trajectory (seconds).
    pub run_time_s: f64,
}

/// The trajectory of `chain` with `solver` at `options.points` times on `[0, window]`,
/// summarised.
///
/// # Errors
/// Those of [`trajectory::trajectory`] (a solver without a state, memory, convergence).
pub fn summarise_observables(
    chain: &Chain,
    solver: Solver,
    window: f64,
    options: &ObserveOptions,
    tol: f64,
) -> Result<ObservableSummary> {
    let start = Instant::now();
    let times = uniform_times(window, options.points);
    let tr = trajectory::trajectory(chain, solver, &times, &options.set, tol, &crate::Silent)?;
    Ok(ObservableSummary {
        solver: tr.solver.clone(),
        cut: tr.cut,
        window,
        points: tr.points.len(),
        state_error: tr.state_error,
        peak_entropy: tr.peak_entropy(),
        entropy_bound: tr.bounds.filter(|_| tr.selected.entanglement).map(|b| b.entropy),
        max_variance: tr.max_variance(),
        min_bloch_length: tr.min_bloch_length(),
        max_zz: tr.max_zz(),
        max_ergotropy: tr.max_ergotropy(),
        max_locked_ergotropy: tr.max_locked_ergotropy(),
        run_time_s: start.elapsed().as_secs_f64(),
    })
}
