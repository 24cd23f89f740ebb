//! Observables along the charging trajectory `ψ(t) = e^{−iHt}|↓…↓⟩` (paper Sec. IV: do
//! correlations matter?): at each requested time the work `W(t)` and any of the
//! half-chain (or any cut's) entanglement entropy, the per-site Bloch vectors, the
//! connected `ZZ` matrix and `Var(H0)` ([`super::correlations`]).
//!
//! * [`trajectory`] evolves the exact state with a full-space [`StatePropagator`]
//!   (dense for `N ≤ 10`, Chebyshev beyond, or the one asked for); with
//!   [`Solver::MeanField`] it returns the classical counterpart instead: the mean-field
//!   state is the product state of the Bloch vectors `S_i`, so its entropy is `0`, its
//!   connected correlations vanish off the diagonal (`C_ii = 1 − z_i²`) and `Var(H0)` is
//!   not defined by the classical model (left out). Compare per-site Bloch vectors
//!   quantum against classical by running both.
//! * [`Trajectory::peak_entropy`], [`Trajectory::max_variance`],
//!   [`Trajectory::min_bloch_length`] and [`Trajectory::max_zz`] summarise a run (e.g. for
//!   a plot of `P_max(quantum) − P_max(mean field)` against the peak entanglement, or a
//!   study file's `observe`). They are extrema over the *requested* times, not refined
//!   between them.
//!
//! **Limits.** The state needs `16·2^N` bytes and the propagator its own memory
//! ([`crate::propagate::bytes_needed`]); the run is refused up front with
//! [`SpinbatError::TooLarge`] when it does not fit, and with [`SpinbatError::Unsupported`]
//! for permutation-symmetric (`p = 0`) chains beyond that size: the Dicke solver's
//! `N + 1` amplitudes are not turned into these observables. The weak-coupling formula
//! has no state and is refused too.
//!
//! * [`charge_observed`] runs the charge ([`super::charge`]) and the observables from one
//!   propagation where the work's method hands out its states while it runs
//!   ([`crate::propagate::StateTap`]: Chebyshev by Gram segments, each state combined from
//!   its segment's kept terms), else from a second one.
//!
//! **Accuracy.** The propagator bounds (dense: estimates) the state error `‖δψ‖ ≤ ε`
//! ([`StatePropagator::state_error`]). After normalisation the state is within
//! `ε' = 2ε`, so for an observable `O`: `|δ⟨O⟩| ≤ 2‖O‖ε'`, giving
//! [`ObservableBounds`]: Bloch components `4ε`, `C_ij` `12ε`, `Var(H0)` `12‖H0‖²ε`
//! (`‖H0‖` bounded by [`Operators::h0_norm_bound`]), and for the entropy the
//! Fannes–Audenaert inequality with trace distance `T ≤ ε'`:
//! `|δS| ≤ T ln(d − 1) + h(T)`, `d = 2^min(cut, N−cut)`, `h` the binary entropy (nats).
//! Rounding in the observables themselves comes on top (see [`super::correlations`]).

use super::correlations::{
    bloch_vectors_of, energy_variance, entanglement, half_chain_cut, row_moments, state_moments, zz_connected,
};
use super::ergotropy::{product_populations, ErgotropyContext, ErgotropyPoint, H0Spectrum};
use crate::error::{invalid, Result, SpinbatError};
use crate::meanfield::MeanField;
use crate::model::Chain;
use crate::open::Noise;
use crate::operator::Operators;
use crate::propagate::{
    check_times, Plan, Precision, Propagator, Request, Solver, StatePropagator, StateTap, StateView, WorkSample,
    DEFAULT_TOL,
};
use crate::Progress;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Bytes per amplitude the observables need beside the propagator: the copied-out state,
/// `H0ψ` for the variance, and the SVD's copy of `ψ` with its workspace.
pub const OBSERVABLE_BYTES_PER_AMPLITUDE: f64 = 16.0 + 16.0 + 32.0;

/// What observables ask of the planner: the state, with
/// [`OBSERVABLE_BYTES_PER_AMPLITUDE`] of measurement buffers per amplitude.
pub const REQUEST: Request = Request::States { bytes_per_amplitude: OBSERVABLE_BYTES_PER_AMPLITUDE };

/// Which observables to record along the trajectory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ObservableSet {
    /// Von Neumann (and Rényi-2) entropy of sites `0..cut` against the rest.
    pub entanglement: bool,
    /// Per-site Bloch vectors `(⟨X_i⟩, ⟨Y_i⟩, ⟨Z_i⟩)`.
    pub bloch: bool,
    /// Connected correlations `⟨Z_iZ_j⟩ − ⟨Z_i⟩⟨Z_j⟩`.
    pub zz: bool,
    /// Energy variance `⟨H0²⟩ − ⟨H0⟩²`.
    pub variance: bool,
    /// The ergotropy family ([`super::ergotropy`]): `ergotropy`, `ergotropy_hb`,
    /// `local_ergotropy`, `locked_ergotropy`, `coherent_ergotropy`, `incoherent_ergotropy`,
    /// `capacity`, `variance_hb`, `power_bound`, `qsl_time`.
    pub ergotropy: bool,
    /// The cut for the entropy: `None` for the half chain, `⌊N/2⌋`.
    pub cut: Option<usize>,
    /// Sites per block of the block ergotropy (`block_ergotropy`, with `ergotropy`):
    /// `None` for none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block: Option<usize>,
}

impl ObservableSet {
    /// The names accepted by [`ObservableSet::from_str`] (besides `all`).
    pub const NAMES: [&'static str; 5] = ["entanglement", "bloch", "zz", "variance", "ergotropy"];

    /// Every observable, half-chain cut.
    pub fn all() -> Self {
        ObservableSet {
            entanglement: true,
            bloch: true,
            zz: true,
            variance: true,
            ergotropy: true,
            cut: None,
            block: None,
        }
    }

    /// The same set with the block ergotropy of blocks of `k` neighbouring sites.
    pub fn with_block(mut self, k: usize) -> Self {
        self.block = Some(k);
        self
    }

    /// Checks the block size for `N` sites: `1 ≤ K ≤ min(N, 12)`, with `ergotropy` selected.
    ///
    /// # Errors
    /// [`SpinbatError::InvalidParameter`] otherwise.
    pub fn check_block(&self, n_sites: usize) -> Result<()> {
        match self.block {
            None => Ok(()),
            Some(_) if !self.ergotropy => {
                Err(invalid("block", "set", "the block ergotropy needs the ergotropy observable"))
            }
            Some(k) => super::ergotropy::check_block_size(n_sites, k),
        }
    }

    /// The same set with the entropy cut at `cut`.
    pub fn with_cut(mut self, cut: usize) -> Self {
        self.cut = Some(cut);
        self
    }

    /// Whether every selected observable is a sum over the basis that one pass over a
    /// sector state in its own layout measures ([`row_moments`]): Bloch vectors, `Var(H0)`, the ergotropy
    /// family without block ergotropy; not the entropy, `ZZ` or blocks of `K` sites.
    pub fn by_rows(&self) -> bool {
        !(self.entanglement || self.zz || self.block.is_some())
    }

    /// Whether nothing is selected.
    pub fn is_empty(&self) -> bool {
        !(self.entanglement || self.bloch || self.zz || self.variance || self.ergotropy)
    }

    /// The cut used for `N` sites: the one set (checked to lie in `1..N−1`) or `⌊N/2⌋`.
    ///
    /// # Errors
    /// [`SpinbatError::InvalidParameter`] for a cut outside `1..=N−1`.
    pub fn cut_for(&self, n_sites: usize) -> Result<usize> {
        match self.cut {
            None => Ok(half_chain_cut(n_sites)),
            Some(c) if c >= 1 && c < n_sites => Ok(c),
            Some(c) => Err(invalid(
                "cut",
                c,
                format!("must be in 1..={} for N = {n_sites} (sites 0..cut against cut..N)", n_sites.saturating_sub(1)),
            )),
        }
    }
}

impl FromStr for ObservableSet {
    type Err = SpinbatError;

    /// A comma-separated list of [`ObservableSet::NAMES`] (`entropy` is accepted for
    /// `entanglement`), or `all`.
    fn from_str(s: &str) -> Result<Self> {
        let mut set = ObservableSet::default();
        for item in s.split(',').map(str::trim) {
            match item {
                "all" => set = ObservableSet { cut: set.cut, block: set.block, ..ObservableSet::all() },
                "entanglement" | "entropy" => set.entanglement = true,
                "bloch" => set.bloch = true,
                "zz" => set.zz = true,
                "variance" => set.variance = true,
                "ergotropy" => set.ergotropy = true,
                _ => {
                    return Err(invalid(
                        "observe",
                        item,
                        format!("unknown observable; choose from {}, or all", ObservableSet::NAMES.join(", ")),
                    ))
                }
            }
        }
        Ok(set)
    }
}

impl fmt::Display for ObservableSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let on = [self.entanglement, self.bloch, self.zz, self.variance, self.ergotropy];
        let names: Vec<&str> = ObservableSet::NAMES.iter().zip(on).filter(|(_, on)| *on).map(|(n, _)| *n).collect();
        f.write_str(&names.join(","))
    }
}

/// The observables at one time; only the selected ones are present.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservablePoint {
    /// Time `t` (units `1/B`).
    pub t: f64,
    /// Work `W(t)` (units `B`).
    pub work: f64,
    /// Von Neumann entropy of sites `0..cut` (nats).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entropy: Option<f64>,
    /// Rényi-2 entropy of sites `0..cut` (nats).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renyi2: Option<f64>,
    /// Per-site `[⟨X_i⟩, ⟨Y_i⟩, ⟨Z_i⟩]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bloch: Option<Vec<[f64; 3]>>,
    /// Connected `ZZ` matrix, `N` rows of `N`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zz: Option<Vec<Vec<f64>>>,
    /// `Var(H0)` (units `B²`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variance: Option<f64>,
    /// The ergotropy family, its keys at the top level of the point
    /// ([`super::ergotropy::ErgotropyPoint`]).
    #[serde(flatten)]
    pub ergotropy: Option<ErgotropyPoint>,
    /// Quantum trajectories: one standard error of the mean `W` (units `B`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work_stderr: Option<f64>,
    /// Quantum trajectories: one standard error of each mean Bloch component.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bloch_stderr: Option<Vec<[f64; 3]>>,
    /// Quantum trajectories: `Σ_i (B z̄_i + |B| |r̄_i|)`, the local ergotropy of the mean
    /// one-site states (JSON `local_ergotropy`; the rest of the ergotropy family is not
    /// linear in `ρ` and is not estimated from trajectories; `ergotropy` is then absent).
    #[serde(rename = "local_ergotropy", skip_serializing_if = "Option::is_none")]
    pub mean_local_ergotropy: Option<f64>,
    /// Quantum trajectories: one standard error of `local_ergotropy` (to first order).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_ergotropy_stderr: Option<f64>,
}

/// Error bounds on the observables that follow from the state error (see the module
/// docs); rounding in the observables comes on top.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ObservableBounds {
    /// On each Bloch component: `4ε`.
    pub bloch: f64,
    /// On each `C_ij`: `12ε`.
    pub zz: f64,
    /// On `Var(H0)`: `12‖H0‖²ε`.
    pub variance: f64,
    /// On the entropy (nats): `T ln(d − 1) + h(T)`, `T = min(2ε, 1)`, capped at `ln d`.
    pub entropy: f64,
}

impl ObservableBounds {
    /// The bounds for a state error `eps` in a chain with `‖H0‖ ≤ h0_norm`, entropy across
    /// `cut` of `n_sites`.
    pub fn from_state_error(eps: f64, h0_norm: f64, n_sites: usize, cut: usize) -> Self {
        let t = (2.0 * eps).min(1.0);
        let d = (cut.min(n_sites - cut) as f64).exp2();
        let h = |x: f64| if x <= 0.0 || x >= 1.0 { 0.0 } else { -x * x.ln() - (1.0 - x) * (1.0 - x).ln() };
        let entropy = if d <= 1.0 {
            0.0
        } else if t <= 1.0 - 1.0 / d {
            (t * (d - 1.0).ln() + h(t)).min(d.ln())
        } else {
            d.ln()
        };
        ObservableBounds { bloch: 4.0 * eps, zz: 12.0 * eps, variance: 12.0 * h0_norm * h0_norm * eps, entropy }
    }
}

/// An extremum over the sampled times: a maximum, except for
/// [`Trajectory::min_bloch_length`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Peak {
    /// The largest (smallest) value.
    pub value: f64,
    /// The (earliest) time where it is reached.
    pub time: f64,
    /// Whether that time is the last sampled time of several: the quantity may still grow
    /// after the window, so this is the window's maximum only.
    #[serde(default)]
    pub at_window_end: bool,
}

/// Observables along a trajectory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trajectory {
    /// Solver that produced the states (`dense`, `chebyshev`, `mean-field`).
    pub solver: String,
    /// What was recorded.
    pub selected: ObservableSet,
    /// Cut of the entropy: sites `0..cut` against `cut..N`.
    pub cut: usize,
    /// How the error of `W` is controlled.
    pub accuracy: String,
    /// Bound (dense, mean field: estimate) on the absolute error of every `W`.
    pub work_error: f64,
    /// Quantum solvers: bound (dense: estimate) on `‖δψ‖` of every state; `None` for the
    /// mean field.
    pub state_error: Option<f64>,
    /// Quantum solvers: the bounds on the observables implied by `state_error`.
    pub bounds: Option<ObservableBounds>,
    /// One point per requested time.
    pub points: Vec<ObservablePoint>,
}

impl Trajectory {
    /// Largest recorded value of `f` and its earliest time.
    fn peak(&self, f: impl Fn(&ObservablePoint) -> Option<f64>) -> Option<Peak> {
        let last = self.points.last().map(|p| p.t);
        let best = self
            .points
            .iter()
            .filter_map(|p| f(p).map(|v| Peak { value: v, time: p.t, at_window_end: false }))
            .fold(None, |best: Option<Peak>, p| match best {
                Some(b) if b.value >= p.value => Some(b),
                _ => Some(p),
            });
        best.map(|b| Peak { at_window_end: self.points.len() > 1 && Some(b.time) == last, ..b })
    }

    /// The largest entropy over the sampled times and when (`None` if not recorded).
    pub fn peak_entropy(&self) -> Option<Peak> {
        self.peak(|p| p.entropy)
    }

    /// The largest `Var(H0)` over the sampled times and when (`None` if not recorded).
    pub fn max_variance(&self) -> Option<Peak> {
        self.peak(|p| p.variance)
    }

    /// The largest ergotropy locked in correlations, `ℰ(ρ, H_B) − Σ_i ℰ(ρ_i, BZ_i)`, over
    /// the sampled times and when (`None` if the ergotropy was not recorded); `0` in the
    /// mean field's product state.
    pub fn max_locked_ergotropy(&self) -> Option<Peak> {
        self.peak(|p| p.ergotropy.as_ref().map(|e| e.locked_ergotropy))
    }

    /// The largest global ergotropy for `H0`, `⟨H0⟩ − E_min`, over the sampled times and
    /// when (`None` if not recorded, or where `E_min` is unknown).
    pub fn max_ergotropy(&self) -> Option<Peak> {
        self.peak(|p| p.ergotropy.as_ref().and_then(|e| e.ergotropy))
    }

    /// The shortest Bloch vector `|S_i| = (⟨X_i⟩² + ⟨Y_i⟩² + ⟨Z_i⟩²)^½` over the sites and
    /// the sampled times, and its (earliest) time (`None` if not recorded). `|S_i| = 1`
    /// exactly when site `i` is in a pure state, unentangled with the rest of the chain
    /// (the single-site purity is `(1 + |S_i|²)/2`); the mean field's product state keeps
    /// `1`.
    pub fn min_bloch_length(&self) -> Option<Peak> {
        let shortest = |p: &ObservablePoint| {
            p.bloch.as_ref().map(|b| {
                b.iter().map(|s| (s[0] * s[0] + s[1] * s[1] + s[2] * s[2]).sqrt()).fold(f64::INFINITY, f64::min)
            })
        };
        self.peak(|p| shortest(p).map(|v| -v)).map(|p| Peak { value: -p.value, ..p })
    }

    /// The largest connected correlation `|⟨Z_iZ_j⟩ − ⟨Z_i⟩⟨Z_j⟩|`, `i ≠ j`, over the sampled
    /// times and when (`None` if not recorded; `0` for one site). `0` between independent
    /// spins, so `0` in the mean field.
    pub fn max_zz(&self) -> Option<Peak> {
        let largest = |p: &ObservablePoint| {
            p.zz.as_ref().map(|c| {
                let off_diagonal = c
                    .iter()
                    .enumerate()
                    .flat_map(|(i, row)| row.iter().enumerate().filter(move |(j, _)| *j != i).map(|(_, v)| v.abs()));
                off_diagonal.fold(0.0, f64::max)
            })
        };
        self.peak(largest)
    }
}

/// The solver [`trajectory`] uses for `solver`: `auto` and `dicke` give dense for
/// `N ≤ 10` and Chebyshev beyond (the full state is needed); dense, Chebyshev and mean
/// field as asked.
///
/// # Errors
/// [`SpinbatError::Unsupported`] for the weak-coupling formula (it has no state).
pub fn resolve(chain: &Chain, solver: Solver) -> Result<Solver> {
    resolve_with(chain, solver, Precision::Double)
}

/// [`resolve`] in the given precision ([`crate::propagate::resolve_states`]): single
/// precision means Chebyshev for `auto` and `dicke` at any `N`.
///
/// # Errors
/// As [`resolve`]; [`SpinbatError::InvalidParameter`] for single precision with dense or
/// the mean field.
pub fn resolve_with(chain: &Chain, solver: Solver, precision: Precision) -> Result<Solver> {
    crate::propagate::resolve_states(chain, solver, precision)
}

/// Resolves `solver` ([`resolve`]) and checks, before anything is allocated, that the
/// trajectory fits in memory: for the quantum solvers the propagator's estimate
/// ([`crate::propagate::bytes_needed`]) plus [`OBSERVABLE_BYTES_PER_AMPLITUDE`]` · 2^N`; the mean
/// field's own estimate otherwise. Returns the solver that will run.
///
/// # Errors
/// [`SpinbatError::TooLarge`] when it does not fit; [`SpinbatError::Unsupported`] for a
/// permutation-symmetric chain that does not fit (Dicke states are not supported here)
/// and for the weak-coupling formula.
pub fn check(chain: &Chain, solver: Solver) -> Result<Solver> {
    check_with(chain, solver, Precision::Double)
}

/// [`check`] in the given precision: the propagator's own estimate
/// ([`crate::propagate::bytes_needed_with`]: half the rows in the reflection sector, half the bytes
/// in single precision) plus [`OBSERVABLE_BYTES_PER_AMPLITUDE`]` · 2^N`, and for a sector
/// the full-space operators and expanded state it hands out
/// ([`crate::propagate::SECTOR_EXPANSION_BYTES_PER_AMPLITUDE`]).
///
/// # Errors
/// As [`check`]; [`SpinbatError::InvalidParameter`] for single precision with dense or the
/// mean field.
pub fn check_with(chain: &Chain, solver: Solver, precision: Precision) -> Result<Solver> {
    Ok(plan(chain, solver, DEFAULT_TOL, precision)?.solver())
}

/// The one plan of a trajectory ([`Plan::new`] for [`REQUEST`]): the solver resolved, the
/// space and precision fixed, the propagator's memory and the observables' buffers checked
/// once. [`trajectory_planned`] runs it.
///
/// # Errors
/// As [`check_with`]; [`SpinbatError::InvalidParameter`] for `tol` outside `(0, 1)`.
pub fn plan(chain: &Chain, solver: Solver, tol: f64, precision: Precision) -> Result<Plan> {
    Plan::new(chain, solver, tol, precision, REQUEST)
}

/// [`plan`] for the open battery: with any noise the density matrix
/// ([`crate::propagate::DensityMatrix`]), its measurements' memory counted
/// ([`crate::propagate::DENSITY_OBSERVABLE_BYTES_PER_ENTRY`]).
///
/// # Errors
/// As [`plan`] and [`Plan::with_noise`].
pub fn plan_noisy(chain: &Chain, solver: Solver, tol: f64, precision: Precision, noise: &Noise) -> Result<Plan> {
    Plan::with_noise(chain, solver, tol, precision, REQUEST, noise)
}

/// [`plan_noisy`] from the starting state `start` (a thermal start: the density matrix,
/// [`Plan::with_start`]).
///
/// # Errors
/// As [`Plan::with_start`].
pub fn plan_start(
    chain: &Chain,
    solver: Solver,
    tol: f64,
    precision: Precision,
    noise: &Noise,
    start: crate::open::Start,
) -> Result<Plan> {
    Plan::with_start(chain, solver, tol, precision, REQUEST, noise, start)
}

/// Refuses outputs that would not fit in memory: per time `24N` bytes of Bloch vectors
/// and `8N²` of `ZZ` matrix (this matters for the mean field at large `N`); `solver`
/// names the solver in the error.
///
/// # Errors
/// [`SpinbatError::TooLarge`] beyond half the available memory.
pub fn check_output(solver: Solver, n_sites: usize, times: usize, set: &ObservableSet) -> Result<()> {
    let n = n_sites as f64;
    let per_time = 64.0 + if set.bloch { 24.0 * n } else { 0.0 } + if set.zz { 8.0 * n * n } else { 0.0 };
    let needed = per_time * times as f64;
    crate::resources::ensure_fits_share(solver.as_str(), n_sites, needed, 0.5)
}

/// Builds the propagator of the states for observables after [`check`] (double precision).
///
/// # Errors
/// Those of [`check`]; [`SpinbatError::Unsupported`] for the mean field (no state
/// vector); [`SpinbatError::InvalidParameter`] for `tol` outside `(0, 1)`.
pub fn state_propagator(chain: &Chain, solver: Solver, tol: f64) -> Result<Box<dyn StatePropagator>> {
    state_propagator_with(chain, solver, tol, Precision::Double)
}

/// [`state_propagator`] in the given precision, through the one planner
/// ([`plan`], [`Plan::state_propagator`]): dense, or Chebyshev on the full space or in the
/// reflection-even sector (for mirror-symmetric chains with `N ≥ 14`), `f64` or `f32`.
///
/// # Errors
/// As [`state_propagator`] and [`check_with`].
pub fn state_propagator_with(
    chain: &Chain,
    solver: Solver,
    tol: f64,
    precision: Precision,
) -> Result<Box<dyn StatePropagator>> {
    plan(chain, solver, tol, precision)?.state_propagator(chain)
}

/// Records the selected observables of `ψ` at one time.
#[allow(clippy::too_many_arguments)]
pub(crate) fn observe_state(
    ops: &Operators,
    psi: &[num_complex::Complex64],
    mirror_even: bool,
    n: usize,
    set: &ObservableSet,
    cut: usize,
    t: f64,
    work: f64,
    ergotropy: Option<&ErgotropyContext>,
) -> Result<ObservablePoint> {
    let ent = if set.entanglement { Some(entanglement(psi, n, cut)?) } else { None };
    // the ergotropy needs the Bloch vectors, Var(H0) and the populations: one pass for all,
    // the variance about E_0 + W
    let (bloch, variance, ergotropy) = match ergotropy {
        Some(context) => {
            let moments = state_moments(ops, psi, mirror_even, ops.all_down_energy() + work)?;
            let point = context.measure_moments(psi, &moments, work)?;
            (Some(moments.bloch), Some(moments.variance), Some(point))
        }
        None => (
            if set.bloch { Some(bloch_vectors_of(psi, n, mirror_even)?) } else { None },
            if set.variance { Some(energy_variance(ops, psi)?) } else { None },
            None,
        ),
    };
    Ok(ObservablePoint {
        t,
        work,
        entropy: ent.map(|e| e.von_neumann),
        renyi2: ent.map(|e| e.renyi2),
        bloch: bloch.filter(|_| set.bloch),
        zz: if set.zz { Some(zz_connected(psi, n)?) } else { None },
        variance: variance.filter(|_| set.variance),
        ergotropy,
        work_stderr: None,
        bloch_stderr: None,
        mean_local_ergotropy: None,
        local_ergotropy_stderr: None,
    })
}

/// Records the selected observables of a matrix-product state ([`StateView::MatrixProduct`]:
/// the runs at steps `δ`, `2δ`), measured by contractions and extrapolated as `W` is
/// ([`super::matrix_product::measure`]); `e0` the energy of all-down.
///
/// # Errors
/// Those of [`super::matrix_product::measure`].
#[allow(clippy::too_many_arguments)]
fn observe_mps(
    psi: &crate::mps::Mps,
    coarse: &crate::mps::Mps,
    h0: &crate::mps::Mpo,
    set: &ObservableSet,
    cut: usize,
    t: f64,
    work: f64,
    e0: f64,
    ergotropy: Option<&ErgotropyContext>,
) -> Result<ObservablePoint> {
    use super::matrix_product::{measure, Selection};
    let what = Selection {
        entanglement: set.entanglement,
        bloch: set.bloch,
        zz: set.zz,
        variance: set.variance,
        ergotropy: set.ergotropy,
    };
    let m = measure(psi, coarse, h0, what, cut, work, e0, ergotropy)?;
    Ok(ObservablePoint {
        t,
        work,
        entropy: m.entropy.map(|e| e.0),
        renyi2: m.entropy.map(|e| e.1),
        bloch: m.bloch.filter(|_| set.bloch),
        zz: m.zz,
        variance: m.variance.filter(|_| set.variance),
        ergotropy: m.ergotropy,
        work_stderr: None,
        bloch_stderr: None,
        mean_local_ergotropy: None,
        local_ergotropy_stderr: None,
    })
}

/// Records the selected observables of a pure state handed out in the sector's layout
/// ([`StateView::Rows`]: never expanded): the Bloch vectors, `Var(H0)` and
/// the ergotropy family from one [`row_moments`] pass; only for sets that need nothing
/// else ([`ObservableSet::by_rows`]).
fn observe_rows(
    rows: &dyn crate::symmetry::SymmetricTiles,
    set: &ObservableSet,
    t: f64,
    work: f64,
    ergotropy: Option<&ErgotropyContext>,
) -> Result<ObservablePoint> {
    if !set.by_rows() {
        return Err(SpinbatError::Unsupported {
            solver: "chebyshev",
            reason: "entanglement, ZZ and block ergotropy need the whole state, not its blocks".into(),
        });
    }
    let moments = row_moments(rows, rows.all_down_energy() + work)?;
    let ergotropy = ergotropy.map(|c| c.measure(&moments.populations, &moments.bloch, work, Some(moments.variance)));
    Ok(ObservablePoint {
        t,
        work,
        entropy: None,
        renyi2: None,
        bloch: set.bloch.then_some(moments.bloch),
        zz: None,
        variance: set.variance.then_some(moments.variance),
        ergotropy,
        work_stderr: None,
        bloch_stderr: None,
        mean_local_ergotropy: None,
        local_ergotropy_stderr: None,
    })
}

/// The selected observables of the charging trajectory at `times` (sorted ascending,
/// `≥ 0`), with the work.
///
/// `solver`: `Auto`/`Dicke` (dense for `N ≤ 10`, Chebyshev beyond), `Dense`, `Chebyshev`
/// (exact quantum states, `tol` the target error on `W` as in [`crate::propagate::plan`],
/// which also bounds the state error), or `MeanField` ([`mean_field_trajectory`]).
/// Cost per time: the propagation, plus `O(N 2^N)` for Bloch vectors, `O(2^N)` for `ZZ`,
/// one `H0` application for the variance and one `2^cut × 2^(N−cut)` SVD for the entropy.
///
/// # Errors
/// [`SpinbatError::InvalidTimes`], [`SpinbatError::InvalidParameter`] (`tol`, `cut`),
/// and those of [`state_propagator`].
///
/// ```
/// use spinbat::{Chain, Couplings, Silent, Solver};
/// use spinbat::observe::trajectory::{trajectory, ObservableSet};
/// let chain = Chain::builder(6).couplings(Couplings::NearestNeighbour).alpha(0.0).build()?;
/// let set: ObservableSet = "entanglement,variance".parse()?;
/// let tr = trajectory(&chain, Solver::Auto, &[0.0, 0.2, 0.4], &set, 1e-10, &Silent)?;
/// assert!(tr.points[0].entropy.unwrap() < 1e-12); // all-down: a product state
/// assert!(tr.peak_entropy().unwrap().value > 0.0); // the Ising chain entangles
/// # Ok::<(), spinbat::SpinbatError>(())
/// ```
pub fn trajectory(
    chain: &Chain,
    solver: Solver,
    times: &[f64],
    set: &ObservableSet,
    tol: f64,
    progress: &dyn Progress,
) -> Result<Trajectory> {
    trajectory_with(chain, solver, times, set, tol, Precision::Double, progress)
}

/// [`trajectory`] in the given precision: `Single` propagates `f32` states with the
/// Chebyshev solver (its state-error bound includes the rounding; observables are summed in
/// double). Either precision runs in the reflection-even sector where it applies.
///
/// # Errors
/// As [`trajectory`]; [`SpinbatError::InvalidParameter`] for single precision with a solver
/// other than `auto` or `chebyshev`.
pub fn trajectory_with(
    chain: &Chain,
    solver: Solver,
    times: &[f64],
    set: &ObservableSet,
    tol: f64,
    precision: Precision,
    progress: &dyn Progress,
) -> Result<Trajectory> {
    trajectory_planned(&plan(chain, solver, tol, precision)?, chain, times, set, progress)
}

/// [`trajectory_with`] for a plan made by [`plan`] (a caller that planned ahead, to refuse
/// before a long run, does not check again).
///
/// # Errors
/// As [`trajectory`]; [`SpinbatError::Unsupported`] for a plan not made for [`REQUEST`].
pub fn trajectory_planned(
    plan: &Plan,
    chain: &Chain,
    times: &[f64],
    set: &ObservableSet,
    progress: &dyn Progress,
) -> Result<Trajectory> {
    trajectory_planned_with(plan, chain, times, set, progress, None)
}

/// [`trajectory_planned`] with the ergotropy context made already (its spectral range
/// may have cost a Lanczos run), or `None` to make it here where `set` asks for it.
fn trajectory_planned_with(
    plan: &Plan,
    chain: &Chain,
    times: &[f64],
    set: &ObservableSet,
    progress: &dyn Progress,
    context: Option<&ErgotropyContext>,
) -> Result<Trajectory> {
    check_times(times)?;
    let n = chain.n_sites();
    let cut = set.cut_for(n)?;
    set.check_block(n)?;
    if plan.solver() == Solver::MeanField {
        return mean_field_planned(plan, chain, times, set, progress);
    }
    check_output(plan.solver(), n, times.len(), set)?;
    let context = match (set.ergotropy, context) {
        (false, _) => None,
        (true, Some(c)) => Some(*c),
        (true, None) => {
            Some(ErgotropyContext::new(chain)?.with_block(set.block).with_reference(plan.reference_energy(chain)))
        }
    };
    let density = plan.solver() == Solver::DensityMatrix;
    if density && set.entanglement {
        return Err(SpinbatError::Unsupported {
            solver: "density-matrix",
            reason: "the entropy of a part of a mixed state is not its entanglement: `entanglement` is for pure states"
                .into(),
        });
    }
    let spectrum = if density && set.ergotropy { Some(H0Spectrum::new(chain)?) } else { None };
    let mut prop = plan.state_propagator(chain)?;
    let t_last = times.last().copied().unwrap_or(0.0);
    let mut points = Vec::with_capacity(times.len());
    prop.for_each_state(times, &mut |s, state| {
        points.push(match state {
            StateView::Pure { psi, ops, mirror_even } => {
                observe_state(ops, psi, mirror_even, n, set, cut, s.t, s.work, context.as_ref())?
            }
            StateView::Rows { rows } => observe_rows(rows, set, s.t, s.work, context.as_ref())?,
            StateView::Density { rho, ops } => {
                observe_density(ops, rho, n, set, s.t, s.work, context.as_ref(), spectrum.as_ref())?
            }
            StateView::MatrixProduct { psi, psi_coarse, h0 } => {
                let e0 = chain.initial_energy();
                observe_mps(psi, psi_coarse, h0, set, cut, s.t, s.work, e0, context.as_ref())?
            }
        });
        progress.update(s.t, t_last);
        Ok(())
    })?;
    let eps = prop.state_error();
    Ok(Trajectory {
        solver: prop.name().to_string(),
        selected: *set,
        cut,
        accuracy: prop.accuracy_note(),
        work_error: prop.error_bound(),
        state_error: Some(eps),
        bounds: Some(ObservableBounds::from_state_error(eps, Operators::h0_norm_bound(chain), n, cut)),
        points,
    })
}

/// A charge ([`super::charge`]) with the observables of its states along the curve and at
/// `T*` ([`charge_observed`]).
#[derive(Debug, Clone)]
pub struct ObservedCharge {
    /// The curve, `P_max`, the maximal work.
    pub charge: super::Charging,
    /// The observables at the requested times.
    pub trajectory: Trajectory,
    /// The observables at `T*` (one more short propagation, to `T*`).
    pub at_t_star: Option<ObservablePoint>,
    /// Seconds the charge took, without the measurements of the states it handed out.
    pub charge_s: f64,
    /// Seconds of the observables: measuring the states, and propagating them where the
    /// charge did not hand them out.
    pub observables_s: f64,
    /// How many of the requested times' states came from the charge's own propagation.
    pub shared_points: usize,
    /// The MPS run's settings and accuracy figures ([`Propagator::mps_report`]); `None`
    /// for other methods.
    pub mps: Option<crate::mps::MpsReport>,
}

/// The charge of `chain` ([`super::charge`] with `prop`, `times` the curve's output
/// times) and the observables `set` of its states at `times` and at `T*`, from **one**
/// propagation where `prop` hands out its states while it runs
/// ([`Propagator::tap_states`]: Chebyshev by Gram segments, whose kept terms give the
/// states of their times by one dense product, [`crate::operator::combine_terms`]), else
/// from a second propagation planned by `states` ([`trajectory_planned`]), which also
/// serves any time the charge did not reach. `prop` is dropped before a second
/// propagation (its kept terms take up to 70 % of the free memory). The states are the same
/// either way: the same series, cut at the same tolerance, with the error bound of each
/// state carried into [`Trajectory::state_error`] and [`Trajectory::bounds`].
///
/// # Errors
/// Those of [`super::charge`] and [`trajectory_planned`]; the first error of measuring a
/// state.
pub fn charge_observed(
    mut prop: Box<dyn Propagator>,
    states: &Plan,
    chain: &Chain,
    times: &[f64],
    set: &ObservableSet,
    progress: &dyn Progress,
    observables_progress: &dyn Progress,
) -> Result<ObservedCharge> {
    use std::sync::{Arc, Mutex};
    use std::time::Instant;
    check_times(times)?;
    let n = chain.n_sites();
    let cut = set.cut_for(n)?;
    set.check_block(n)?;
    let start = Instant::now();
    // the tap: each state measured as the charge's propagation passes its time
    type Sink = Arc<Mutex<(Vec<ObservablePoint>, f64)>>;
    let measured: Sink = Arc::new(Mutex::new((Vec::new(), 0.0)));
    let context = if set.ergotropy && states.solver() != Solver::MeanField {
        Some(Arc::new(
            ErgotropyContext::new(chain)?.with_block(set.block).with_reference(states.reference_energy(chain)),
        ))
    } else {
        None
    };
    let (set_copy, cut_copy, e0) = (*set, cut, chain.initial_energy());
    let tap = |times: Vec<f64>, sink: &Sink| {
        let (sink, context) = (Arc::clone(sink), context.clone());
        StateTap {
            times,
            // the tap owns the state; only the entropy's SVD copies it (the variance streams)
            visitor_bytes_per_amplitude: if set_copy.entanglement { OBSERVABLE_BYTES_PER_AMPLITUDE } else { 0.0 },
            rows: set_copy.by_rows(),
            visit: Box::new(move |s: &WorkSample, state: StateView<'_>| {
                let clock = Instant::now();
                let point = match state {
                    StateView::Pure { psi, ops, mirror_even } => {
                        observe_state(ops, psi, mirror_even, n, &set_copy, cut_copy, s.t, s.work, context.as_deref())?
                    }
                    StateView::Rows { rows } => observe_rows(rows, &set_copy, s.t, s.work, context.as_deref())?,
                    StateView::MatrixProduct { psi, psi_coarse, h0 } => {
                        observe_mps(psi, psi_coarse, h0, &set_copy, cut_copy, s.t, s.work, e0, context.as_deref())?
                    }
                    _ => {
                        return Err(SpinbatError::Unsupported {
                            solver: "chebyshev",
                            reason: "a tap measures pure states".into(),
                        })
                    }
                };
                let mut sink = sink.lock().map_err(|_| poisoned())?;
                sink.0.push(point);
                sink.1 += clock.elapsed().as_secs_f64();
                Ok(())
            }),
        }
    };
    let tapped = states.solver() != Solver::MeanField && {
        check_output(states.solver(), n, times.len(), set)?;
        prop.tap_states(tap(times.to_vec(), &measured)).is_ok()
    };
    let charge = super::charge(prop.as_mut(), chain, times, progress)?;
    let outcome = if tapped { prop.end_tap()? } else { None };
    // the state at T*, from the same propagator where it can (a short real series)
    let at_star: Sink = Arc::new(Mutex::new((Vec::new(), 0.0)));
    if tapped && prop.tap_states(tap(vec![charge.max_power.time], &at_star)).is_ok() {
        prop.end_tap()?;
    }
    let (solver, accuracy, work_error) = (prop.name().to_string(), prop.accuracy_note(), prop.error_bound());
    let mps = prop.mps_report();
    drop(prop);
    let (mut points, measuring) = {
        let mut sink = measured.lock().map_err(|_| poisoned())?;
        (std::mem::take(&mut sink.0), sink.1)
    };
    let (mut star_point, star_s) = {
        let mut sink = at_star.lock().map_err(|_| poisoned())?;
        (sink.0.pop(), sink.1)
    };
    let measuring = measuring + star_s;
    let charge_s = start.elapsed().as_secs_f64() - measuring;
    let start = Instant::now();
    let shared_points = points.len();
    let trajectory = match outcome {
        Some(out) => {
            let mut eps = out.state_error;
            let mut accuracy = accuracy;
            let mut work_error = work_error;
            if !out.remaining.is_empty() {
                let rest = trajectory_planned_with(
                    states,
                    chain,
                    &out.remaining,
                    set,
                    observables_progress,
                    context.as_deref(),
                )?;
                eps = eps.max(rest.state_error.unwrap_or(0.0));
                work_error = work_error.max(rest.work_error);
                accuracy = format!("{accuracy}; from t = {}: {}", out.remaining[0], rest.accuracy);
                points.extend(rest.points);
            }
            Trajectory {
                solver,
                selected: *set,
                cut,
                accuracy,
                work_error,
                state_error: Some(eps),
                bounds: Some(ObservableBounds::from_state_error(eps, Operators::h0_norm_bound(chain), n, cut)),
                points,
            }
        }
        None => trajectory_planned_with(states, chain, times, set, observables_progress, context.as_deref())?,
    };
    if star_point.is_none() {
        let star = [charge.max_power.time];
        star_point =
            trajectory_planned_with(states, chain, &star, set, &crate::Silent, context.as_deref())?.points.pop();
    }
    Ok(ObservedCharge {
        charge,
        trajectory,
        at_t_star: star_point,
        charge_s,
        observables_s: measuring + start.elapsed().as_secs_f64(),
        shared_points,
        mps,
    })
}

/// Records the selected observables of a density matrix `ρ` (by columns) at one time:
/// Bloch vectors, connected `ZZ` (from the diagonal), `Var(H0)` and the ergotropy family
/// by the general definitions ([`ErgotropyContext::measure_density`]); the entropy of a
/// part is not recorded (not an entanglement measure for mixed states, refused earlier).
#[allow(clippy::too_many_arguments)]
pub(crate) fn observe_density(
    ops: &Operators,
    rho: &[num_complex::Complex64],
    n: usize,
    set: &ObservableSet,
    t: f64,
    work: f64,
    ergotropy: Option<&ErgotropyContext>,
    spectrum: Option<&H0Spectrum>,
) -> Result<ObservablePoint> {
    use super::correlations::{density_bloch, density_variance, density_zz};
    let ergotropy = match (ergotropy, spectrum) {
        (Some(c), Some(sp)) => Some(c.measure_density(rho, sp, work)?),
        _ => None,
    };
    Ok(ObservablePoint {
        t,
        work,
        entropy: None,
        renyi2: None,
        bloch: if set.bloch { Some(density_bloch(rho, n)?) } else { None },
        zz: if set.zz { Some(density_zz(rho, n)?) } else { None },
        variance: if set.variance { Some(density_variance(ops, rho)?) } else { None },
        ergotropy,
        work_stderr: None,
        bloch_stderr: None,
        mean_local_ergotropy: None,
        local_ergotropy_stderr: None,
    })
}

/// The error of a measurement that panicked while holding the results.
fn poisoned() -> SpinbatError {
    SpinbatError::NotConverged { what: "observables", reason: "a measurement panicked".into() }
}

/// The classical counterpart of [`trajectory`]: mean-field Bloch vectors `S_i(t)`
/// ([`MeanField`], `tol` on `W`), read as the product state `⊗_i |S_i⟩`. Entropy and
/// Rényi-2 are `0`, `C_ij = 0` for `i ≠ j` and `C_ii = 1 − z_i²`; `variance` is left out
/// (the classical model defines none). Cost: the mean-field integration, `O(N)` per time
/// (`O(N²)` with `zz`).
///
/// # Errors
/// [`SpinbatError::InvalidTimes`], [`SpinbatError::InvalidParameter`] (`tol`, `cut`),
/// [`SpinbatError::TooLarge`] when the recorded Bloch vectors and `ZZ` matrices
/// (`24N + 8N²` bytes per time) would exceed half the available memory, integrator
/// failures.
pub fn mean_field_trajectory(
    chain: &Chain,
    times: &[f64],
    set: &ObservableSet,
    tol: f64,
    progress: &dyn Progress,
) -> Result<Trajectory> {
    mean_field_planned(&plan(chain, Solver::MeanField, tol, Precision::Double)?, chain, times, set, progress)
}

/// [`mean_field_trajectory`] for a plan of the mean field (checked already).
fn mean_field_planned(
    plan: &Plan,
    chain: &Chain,
    times: &[f64],
    set: &ObservableSet,
    progress: &dyn Progress,
) -> Result<Trajectory> {
    check_times(times)?;
    let n = chain.n_sites();
    let cut = set.cut_for(n)?;
    check_output(Solver::MeanField, n, times.len(), set)?;
    let context = if set.ergotropy { Some(ErgotropyContext::new(chain)?.with_block(set.block)) } else { None };
    let mut mf = MeanField::new(chain, plan.tol())?;
    let t_last = times.last().copied().unwrap_or(0.0);
    let mut points = Vec::with_capacity(times.len());
    for &t in times {
        let s = mf.sample(&[t])?[0];
        let bloch = mf.bloch_vectors();
        let zz = set.zz.then(|| {
            (0..n)
                .map(|i| (0..n).map(|j| if i == j { 1.0 - bloch[i][2] * bloch[i][2] } else { 0.0 }).collect())
                .collect()
        });
        points.push(ObservablePoint {
            t: s.t,
            work: s.work,
            entropy: set.entanglement.then_some(0.0),
            renyi2: set.entanglement.then_some(0.0),
            bloch: set.bloch.then(|| bloch.to_vec()),
            zz,
            variance: None,
            ergotropy: context.as_ref().map(|c| c.measure(&product_populations(bloch), bloch, s.work, None)),
            work_stderr: None,
            bloch_stderr: None,
            mean_local_ergotropy: None,
            local_ergotropy_stderr: None,
        });
        progress.update(t, t_last);
    }
    Ok(Trajectory {
        solver: mf.name().to_string(),
        selected: ObservableSet { variance: false, ..*set },
        cut,
        accuracy: mf.accuracy_note(),
        work_error: mf.error_bound(),
        state_error: None,
        bounds: None,
        points,
    })
}
