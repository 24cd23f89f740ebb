//! Storage and self-discharge of the open battery (physics.md, "Storage"): charge the
//! chain from all-down for a time `T` (default: the optimal time `T*` of the closed chain),
//! then hold it under the storage Hamiltonian `H0 = H_B + H_g` (the charging field off)
//! for storage times `s ≥ 0` measured from the end of charging, with the Lindblad noise
//! acting while charging, in storage, or both ([`NoiseDuring`]):
//!
//! `ρ(T + s) = e^{𝓛_0 s} e^{𝓛_c T} |↓…↓⟩⟨↓…↓|`,
//!
//! `𝓛_c` the generator with `H = H_g + V` and `𝓛_0` the one with `H0`
//! ([`crate::open::Generator`]). Reported ([`store`] → [`Storage`]): the work
//! `W(s) = Tr((H0 − E_0) ρ(T + s))` and its rate at every storage time, the ergotropy
//! family of the state ([`super::ergotropy`]) and the **half-lives** of the work and of the
//! ergotropies: the first storage time `s_½` with `W(s_½) = W(0)/2` (resp. `ℰ(s_½) = ℰ(0)/2`).
//!
//! **What is conserved.** Without noise in storage the state evolves by `e^{−iH0 s}`, which
//! commutes with `H0`: `W` is conserved exactly, and so is the ergotropy for `H0` (the
//! spectrum of `ρ` and `Tr ρH0` both stay). The uniform field commutes with the couplings
//! (`[H_B, H_g] = 0`: `H_g` keeps the magnetisation), so `⟨H_B⟩`, the ergotropy for `H_B`
//! and its incoherent part stay too; what moves is how the energy sits in the sites: the
//! local (and so the locked) ergotropy and the Bloch vectors, as the flip-flops
//! (`α ≠ 0`) exchange the sites' states and the bonds dephase their coherences. One spin (`H0 = BZ`) with decay `γ` from `|↑⟩`:
//! `W = 2B e^{−γs}`, ergotropy `2B max(0, 2e^{−γs} − 1)` (zero from `s = ln 2/γ`; half-life
//! `ln(4/3)/γ`); with dephasing `γ_φ` from an equatorial state: `W = B` kept, ergotropy
//! `B e^{−2γ_φ s}` (half-life `ln 2/(2γ_φ)`).
//!
//! **Method, closed battery** (no noise at all, [`runs_on_pure_states`]): pure states. The
//! closed propagators give `ψ(T)` (dense, or Chebyshev); storage uses `[H_B, H_g] = 0`,
//! `e^{−iH0 s} = e^{−iH_B s} e^{−iH_g s}`: the Chebyshev propagator of the chain with the
//! field off (whose charging Hamiltonian is `H_g`) started at `ψ(T)` with its error bound,
//! then the exact phases `e^{−iB(2|x| − N)s}` of the basis states. Any `N` whose state fits;
//! `entanglement` can be observed.
//!
//! **Method, with noise.** The density matrix ([`DensityMatrix`], Chebyshev steps of `e^{𝓛t}` with a
//! rigorous Crouzeix–Palencia bound): one propagator charges to `T` under `𝓛_c`, its state
//! (made exactly Hermitian and of unit trace, a change within its error bound) starts a
//! second under `𝓛_0` ([`DensityMatrix::with_initial`]). Errors: the charge's trace-norm
//! bound `‖δρ(T)‖₁` is carried unchanged through storage (a trace-preserving completely
//! positive map does not enlarge trace norms) and adds `‖H0 − E_0‖ ‖δρ(T)‖₁` to the
//! storage propagator's own bound on `W`. The ergotropy family needs the spectrum of `ρ`:
//! `N ≤` [`MAX_DENSITY_SITES`]. Closed storage on the density matrix (`solver =
//! density-matrix`) and on pure states agree (`tests/contract/storage.rs`).
//!
//! **Half-lives** (with noise; in closed storage `W` and the ergotropies for `H0` and `H_B`
//! are conserved, and only the output times are searched). For `W`: the first sign change of `W(s) − W(0)/2` on a grid of the
//! propagator's scan step ([`Propagator::scan_step`]) over the window, from the kept steps'
//! dense output (no propagation), then Brent's method on the dense output to
//! `|Δs| ≤ 10⁻¹² (1 + s)`. For an ergotropy, measured at the output times only: the first
//! output time at or below half, then Brent's method on `ℰ(s) − ℰ(0)/2` between it and
//! the output time before, each evaluation the state propagated from the earlier output
//! time (a third propagator) and measured, to `|Δs| ≤ 10⁻⁹ (1 + s)`. A crossing that
//! goes down and back up between two output times is not seen: ask for finer times. `None`
//! with the reason when the quantity does not fall to half within the window or starts at
//! (or below) zero.

use super::correlations::half_chain_cut;
use super::ergotropy::{ErgotropyContext, ErgotropyPoint, H0Spectrum, MAX_DENSITY_SITES};
use super::trajectory::{self, ObservableBounds, ObservablePoint, ObservableSet, Trajectory};
use crate::error::{invalid, Result, SpinbatError};
use crate::model::Chain;
use crate::numeric::brent;
use crate::open::{Generator, Liouvillian, Noise, Start};
use crate::operator::Operators;
use crate::propagate::{
    check_times, DensityMatrix, Plan, Precision, Propagator, Request, Solver, StatePropagator, StateView, WorkSample,
    DENSITY_OBSERVABLE_BYTES_PER_ENTRY,
};
use crate::Progress;
use num_complex::Complex64;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// When the noise acts: while charging, in storage, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoiseDuring {
    /// Only while charging (`𝓛_c` noisy, storage closed: `W` then stays at its value at `T`).
    Charge,
    /// Only in storage (a closed charge, then noisy storage).
    Storage,
    /// Both (the default).
    #[default]
    Both,
}

impl NoiseDuring {
    /// The names accepted by [`NoiseDuring::from_str`].
    pub const NAMES: [&'static str; 3] = ["charge", "storage", "both"];

    /// The noise acting while charging: `noise`, or none for [`NoiseDuring::Storage`].
    pub fn charging(self, noise: &Noise) -> Noise {
        match self {
            NoiseDuring::Storage => Noise::default(),
            _ => *noise,
        }
    }

    /// The noise acting in storage: `noise`, or none for [`NoiseDuring::Charge`].
    pub fn storage(self, noise: &Noise) -> Noise {
        match self {
            NoiseDuring::Charge => Noise::default(),
            _ => *noise,
        }
    }

    /// The name (`charge`, `storage`, `both`).
    pub fn as_str(self) -> &'static str {
        match self {
            NoiseDuring::Charge => "charge",
            NoiseDuring::Storage => "storage",
            NoiseDuring::Both => "both",
        }
    }
}

impl FromStr for NoiseDuring {
    type Err = SpinbatError;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "charge" | "charging" => Ok(NoiseDuring::Charge),
            "storage" => Ok(NoiseDuring::Storage),
            "both" => Ok(NoiseDuring::Both),
            other => Err(invalid("noise_during", other, format!("choose from {}", NoiseDuring::NAMES.join(", ")))),
        }
    }
}

impl fmt::Display for NoiseDuring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What [`store`] runs: the charge, the storage times, the noise and when it acts, the
/// observables and the numerics. `StorageSpec::new(times)` has the defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct StorageSpec {
    /// Charging time `T` (units `1/B`); `None`: the certified `T*` of the closed chain.
    pub charge_time: Option<f64>,
    /// Storage times `s` (from the end of charging; sorted ascending, `≥ 0`).
    pub times: Vec<f64>,
    /// The noise channels.
    pub noise: Noise,
    /// When they act.
    pub noise_during: NoiseDuring,
    /// Observables at each storage time beside the ergotropy family (always measured):
    /// `bloch`, `zz`, `variance`, and `entanglement` for the closed battery (refused with
    /// noise: the state is mixed).
    pub observe: ObservableSet,
    /// `auto` (pure states for the closed battery, the density matrix with noise), `dense` or
    /// `chebyshev` (the closed charge's method), `density-matrix` (always), or
    /// `trajectories` (quantum trajectories through charge and storage: module docs).
    pub solver: Solver,
    /// Absolute tolerance on `W` (units of `B`), in `(0, 1)`.
    pub tol: f64,
    /// The state the charge starts from: all-down, or the Gibbs state of `H0` at `T0`
    /// (then the work is measured from its energy `E_β`, physics.md "Thermal starting
    /// states", and the density matrix runs, noise or not).
    pub start: Start,
    /// With `solver = trajectories`: the number `K ≥ 2` of trajectories averaged.
    pub trajectories: usize,
    /// With `solver = trajectories`: the seed (trajectory `k` draws from ChaCha8 stream `k`).
    pub seed: u64,
}

impl StorageSpec {
    /// The defaults: charge for `T*` of the closed chain, no noise (acting `both` once set),
    /// the ergotropy family, `auto`, `tol = 10⁻¹⁰`.
    pub fn new(times: Vec<f64>) -> Self {
        StorageSpec {
            charge_time: None,
            times,
            noise: Noise::default(),
            noise_during: NoiseDuring::Both,
            observe: ObservableSet { ergotropy: true, ..ObservableSet::default() },
            solver: Solver::Auto,
            tol: crate::propagate::DEFAULT_TOL,
            start: Start::AllDown,
            trajectories: super::ensemble::DEFAULT_TRAJECTORIES,
            seed: 0,
        }
    }

    /// The noise while charging.
    pub fn charging_noise(&self) -> Noise {
        self.noise_during.charging(&self.noise)
    }

    /// The noise in storage.
    pub fn storage_noise(&self) -> Noise {
        self.noise_during.storage(&self.noise)
    }
}

/// The default end of the storage window for `chain` under `storage_noise`: four
/// half-lives `4 ln 2/κ_min` of the slowest channel acting (`κ` = `2γ_φ` for dephasing,
/// `γ↓ + γ↑` for decay, `NΓ` for collective decay: the slowest rung of the superradiant
/// cascade on the Dicke states, `Γ k(N − k + 1) ≥ NΓ`), else `2π/ω` as for the charge.
pub fn default_window(chain: &Chain, storage_noise: &Noise) -> f64 {
    let r = storage_noise.rates(chain.b());
    let slowest = [2.0 * r.dephasing, r.down + r.up, r.collective * chain.n_sites() as f64]
        .into_iter()
        .filter(|&k| k > 0.0)
        .fold(f64::INFINITY, f64::min);
    if slowest.is_finite() {
        4.0 * std::f64::consts::LN_2 / slowest
    } else {
        crate::model::defaults::t_max(chain.omega())
    }
}

/// Storage times when none are given: this many, equally spaced over the window.
pub const DEFAULT_POINTS: usize = 41;

/// The storage times of a window: `points ≥ 2` equally spaced in `[0, t_max]`, `t_max`
/// defaulting to [`default_window`] for the storage noise.
///
/// # Errors
/// [`SpinbatError::InvalidParameter`] for a `t_max` that is not a finite time `> 0` or
/// fewer than two points.
pub fn window_times(chain: &Chain, storage_noise: &Noise, t_max: Option<f64>, points: usize) -> Result<Vec<f64>> {
    let t_max = t_max.unwrap_or_else(|| default_window(chain, storage_noise));
    if !(t_max.is_finite() && t_max > 0.0) {
        return Err(invalid("t_max", t_max, "must be a finite time > 0"));
    }
    if points < 2 {
        return Err(invalid("points", points, "must be at least 2"));
    }
    Ok(super::uniform_times(t_max, points))
}

/// The first time a quantity falls to half its value at the start of storage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HalfLife {
    /// Its value at the start of storage (`s = 0`); `None` where it is not known.
    pub initial: Option<f64>,
    /// The half-life `s_½` (units `1/B`, from the end of charging); `None` where not reached.
    pub time: Option<f64>,
    /// Why there is no half-life (not reached in the window, nothing stored, not known).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl HalfLife {
    fn none(initial: Option<f64>, reason: impl Into<String>) -> Self {
        HalfLife { initial, time: None, reason: Some(reason.into()) }
    }
}

/// The half-lives of the work and of the ergotropies (module docs).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HalfLives {
    /// Of `W` (from the dense output).
    pub work: HalfLife,
    /// Of the ergotropy for `H0` (`ergotropy`).
    pub ergotropy: HalfLife,
    /// Of the ergotropy for `H_B` (`ergotropy_hb`).
    pub ergotropy_hb: HalfLife,
}

/// The charge before storage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChargeStage {
    /// The charging time `T` (units `1/B`).
    pub time: f64,
    /// Where `T` came from: `t_star` (the closed chain's certified `T*`) or `given`.
    pub time_from: &'static str,
    /// The closed chain's certified maximal power and `T*`, where `T` is `T*`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_max_power: Option<super::Extremum>,
    /// The noise while charging.
    pub noise: Noise,
    /// `W(T)`, the work at the start of storage (units `B`).
    pub work: f64,
    /// Bound on the trace-norm error `‖δρ(T)‖₁` of the charged state.
    pub state_error: f64,
    /// `T0` of a thermal start (the Gibbs state of `H0`); absent for all-down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_temperature: Option<f64>,
    /// `E_β = Tr(H0ρ_β)`, the energy the work is measured from after a thermal start;
    /// absent for all-down (`E_0`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_energy: Option<f64>,
}

impl ChargeStage {
    /// The charge of `T = time` under `noise` from all-down (`initial_*` absent), where `T`
    /// came from: `t_star` where the closed chain's maximum is given, else `given`.
    fn new(time: f64, closed_max_power: Option<super::Extremum>, noise: Noise, work: f64, state_error: f64) -> Self {
        let time_from = if closed_max_power.is_some() { "t_star" } else { "given" };
        ChargeStage {
            time,
            time_from,
            closed_max_power,
            noise,
            work,
            state_error,
            initial_temperature: None,
            initial_energy: None,
        }
    }
}

/// Everything [`store`] reports (module docs).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Storage {
    /// The charge.
    pub charge: ChargeStage,
    /// The noise in storage.
    pub storage_noise: Noise,
    /// When the noise acts.
    pub noise_during: NoiseDuring,
    /// `W(s)` and `dW/ds` at the storage times (from the end of charging).
    pub series: Vec<WorkSample>,
    /// The observables at `s = 0`, the start of storage.
    pub start: ObservablePoint,
    /// The observables at the storage times (`t` = storage time).
    pub trajectory: Trajectory,
    /// The half-lives.
    pub half_lives: HalfLives,
    /// Bound on the absolute error of every `W`: the storage propagator's own and the
    /// charge's state error carried through (`‖H0 − E_0‖ ‖δρ(T)‖₁`); by trajectories,
    /// each trajectory's against the exact trajectory of its random record (the
    /// statistical error is in `ensemble`).
    pub work_error: f64,
    /// By trajectories: their number, seed, jumps and the standard errors of `W̄`.
    pub ensemble: Option<StorageEnsemble>,
}

/// What a storage run by quantum trajectories reports beside the means.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StorageEnsemble {
    /// Number of trajectories `K`.
    pub trajectories: usize,
    /// The seed.
    pub seed: u64,
    /// Mean number of jumps per trajectory, charge and storage.
    pub mean_jumps: f64,
    /// One standard error of `W̄(s)` at each storage time (units `B`).
    pub work_stderr: Vec<f64>,
    /// How to read the numbers.
    pub note: String,
}

/// Charges `chain`, then stores it ([`StorageSpec`], module docs).
///
/// # Errors
/// [`SpinbatError::InvalidTimes`] for bad storage times; [`SpinbatError::InvalidParameter`]
/// for a negative or non-finite charging time, bad noise or `tol`;
/// [`SpinbatError::Unsupported`] for a solver that has no state (mean field, weak coupling,
/// Dicke), and with noise for a closed solver, `entanglement` (a mixed state) and
/// `N >` [`MAX_DENSITY_SITES`]; [`SpinbatError::TooLarge`] when the states do not fit;
/// propagation errors.
///
/// ```
/// use spinbat::{Chain, Silent};
/// use spinbat::observe::storage::{store, NoiseDuring, StorageSpec};
/// use spinbat::open::Noise;
/// // one spin charged to |↑⟩ (ωT = π/2), then decay γ = 0.5 in storage
/// let chain = Chain::builder(1).build()?;
/// let mut spec = StorageSpec::new(vec![0.0, 1.0, 2.0]);
/// spec.charge_time = Some(std::f64::consts::FRAC_PI_2 / chain.omega());
/// spec.noise = Noise { decay: 0.5, ..Noise::default() };
/// spec.noise_during = NoiseDuring::Storage;
/// let s = store(&chain, &spec, &Silent)?;
/// let w = s.half_lives.work.time.unwrap();
/// assert!((w - 2f64.ln() / 0.5).abs() < 1e-8); // W = 2B e^{-γs}
/// # Ok::<(), spinbat::SpinbatError>(())
/// ```
pub fn store(chain: &Chain, spec: &StorageSpec, progress: &dyn Progress) -> Result<Storage> {
    let plan = plan(chain, spec)?;
    let (charge_time, closed_max_power) = match spec.charge_time {
        Some(t) => (t, None),
        None => {
            progress.phase("closed charge for T*");
            // from the same start: a thermal one on the density matrix
            let mut prop = Plan::with_start(
                chain,
                Solver::Auto,
                spec.tol,
                Precision::Double,
                Request::Work,
                &Noise::default(),
                spec.start,
            )?
            .propagator(chain)?;
            let c = super::charge(prop.as_mut(), chain, &[0.0], &crate::Silent)?;
            (c.max_power.time, Some(c.max_power))
        }
    };
    if plan.solver() == Solver::Trajectories {
        store_trajectories(chain, spec, &plan, charge_time, closed_max_power, progress)
    } else if runs_on_pure_states(chain, spec) {
        store_pure(chain, spec, &plan, charge_time, closed_max_power, progress)
    } else if runs_on_dicke_states(chain, spec) {
        store_dicke(chain, spec, charge_time, closed_max_power, progress)
    } else {
        store_density(chain, spec, &plan, charge_time, closed_max_power, progress)
    }
}

/// Whether [`store`] runs on pure states: no noise acts at all (closed charge, closed
/// storage), the start is all-down ([`Start::is_all_down`]: a thermal start is mixed) and
/// the density matrix is not asked for. Then the charged state `ψ(T)` comes
/// from the closed propagators and storage is `e^{−iH0 s} = e^{−iH_B s} e^{−iH_g s}`
/// (`[H_B, H_g] = 0`): the Chebyshev propagator of the chain with the field off, started at
/// `ψ(T)`, then the diagonal phases `e^{−iB(2|x| − N)s}` (`|x|` the up spins of basis
/// state `x`). Any `N` whose state fits, and `entanglement` can be observed.
pub fn runs_on_pure_states(chain: &Chain, spec: &StorageSpec) -> bool {
    spec.charging_noise().is_closed()
        && spec.storage_noise().is_closed()
        && spec.start.is_all_down(chain)
        && !matches!(spec.solver, Solver::DensityMatrix | Solver::Trajectories)
}

/// Whether [`store`] runs on the `N + 1` Dicke states: all couplings equal (`p = 0`) and
/// collective decay the only channel ([`crate::open::keeps_dicke_states`]), from all-down,
/// `N ≥ 2`, the density matrix (`auto` or `density-matrix`). Any `N` whose `(N + 1)²`
/// matrices fit; the ergotropy family from [`super::dicke::DickeObserver`].
pub fn runs_on_dicke_states(chain: &Chain, spec: &StorageSpec) -> bool {
    chain.n_sites() > 1
        && !spec.noise.is_closed()
        && matches!(spec.solver, Solver::Auto | Solver::DensityMatrix)
        && spec.start.is_all_down(chain)
        && crate::open::keeps_dicke_states(chain, &spec.noise)
}

/// Bytes per full-space amplitude of pure-state storage beside the charge's plan: the
/// Chebyshev propagator's fixed buffers and one accumulated state (`56 + 16`), the
/// measurements ([`trajectory::OBSERVABLE_BYTES_PER_AMPLITUDE`]), `ψ(T)` and the phased copy
/// handed to the measurements (`16 + 16`).
pub const PURE_STORAGE_BYTES_PER_AMPLITUDE: f64 = 56.0 + 16.0 + trajectory::OBSERVABLE_BYTES_PER_AMPLITUDE + 32.0;

/// Checks `spec` for `chain` before anything runs and plans the memory, checked once: on
/// the density matrix, its matrices (the charge, its state, the storage propagator and the
/// refinement's start) and the measurements' buffers; on pure states
/// ([`runs_on_pure_states`]), the charge's state propagator and the storage's buffers
/// ([`PURE_STORAGE_BYTES_PER_AMPLITUDE`]). Returns the plan of the charge's propagator.
///
/// # Errors
/// As [`store`], before anything large is allocated.
pub fn plan(chain: &Chain, spec: &StorageSpec) -> Result<Plan> {
    check_times(&spec.times)?;
    if spec.times.is_empty() {
        return Err(SpinbatError::InvalidTimes { reason: "no storage time given".into() });
    }
    if let Some(t) = spec.charge_time {
        if !(t.is_finite() && t >= 0.0) {
            return Err(invalid("charge_time", t, "must be a finite time >= 0"));
        }
    }
    spec.noise.check_for(chain)?;
    if chain.has_site_fields() {
        return Err(SpinbatError::Unsupported {
            solver: "store",
            reason: "storage takes one field B on every site (with per-site fields H_B no longer commutes with the \
                     flip-flops, and the ergotropy keys take one field)"
                .into(),
        });
    }
    if !chain.has_paper_charging() {
        return Err(SpinbatError::Unsupported {
            solver: "store",
            reason: format!(
                "storage implements the paper's charging H = H_g + omega sum_i X_i with XXZ couplings (its hold under \
                 H0 factors as exp(-i H_B s) exp(-i H_g s), which XYZ pair flips break), not {}",
                chain.charging_extensions()
            ),
        });
    }
    spec.observe.check_block(chain.n_sites())?;
    spec.observe.cut_for(chain.n_sites())?;
    let n = chain.n_sites();
    let full = (n as f64).exp2();
    if spec.solver == Solver::Trajectories {
        return plan_trajectories(chain, spec);
    }
    if runs_on_pure_states(chain, spec) {
        let charge_solver = match spec.solver {
            Solver::Auto | Solver::Dense | Solver::Chebyshev => spec.solver,
            other => {
                return Err(SpinbatError::Unsupported {
                    solver: other.as_str(),
                    reason: "storage runs on exact states: auto, dense, chebyshev or density-matrix".into(),
                })
            }
        };
        let plan = Plan::new(chain, charge_solver, spec.tol, Precision::Double, trajectory::REQUEST)?;
        let bytes = plan.bytes().max(PURE_STORAGE_BYTES_PER_AMPLITUDE * full);
        crate::resources::ensure_fits("chebyshev", n, bytes)?;
        return Ok(plan);
    }
    if spec.observe.entanglement {
        return Err(SpinbatError::Unsupported {
            solver: "density-matrix",
            reason: "the entropy of a part of a mixed state is not its entanglement: observe bloch, zz or variance \
                     beside the ergotropy"
                .into(),
        });
    }
    if runs_on_dicke_states(chain, spec) {
        if spec.observe.zz || spec.observe.block.is_some() {
            return Err(SpinbatError::Unsupported {
                solver: "density-matrix",
                reason:
                    "on the Dicke states (p = 0, collective decay) storage measures the ergotropy family, bloch and \
                         variance; zz and the block ergotropy are not computed there"
                        .into(),
            });
        }
        // the charge's plan (the Dicke density matrix); storage holds two more such matrices
        // and ρ(T), the measurements the levels of H0 by total spin
        let plan = Plan::with_start(
            chain,
            Solver::DensityMatrix,
            spec.tol,
            Precision::Double,
            Request::Work,
            &spec.noise,
            spec.start,
        )?;
        let d = (n + 1) as f64;
        let extra = crate::propagate::density::bytes_needed_dicke(n) + 16.0 * d * d * 3.0 + 8.0 * d * d;
        crate::resources::ensure_fits("density-matrix", n, plan.bytes() + extra)?;
        return Ok(plan);
    }
    match spec.solver {
        Solver::Auto | Solver::DensityMatrix => {}
        other if spec.noise.is_closed() => {
            return Err(SpinbatError::Unsupported {
                solver: other.as_str(),
                reason: format!(
                    "it evolves one pure state, but the start is mixed ({}); storage from a thermal start runs on the \
                     density matrix (--solver density-matrix, or auto)",
                    spec.start.describe()
                ),
            })
        }
        other => {
            return Err(SpinbatError::Unsupported {
                solver: other.as_str(),
                reason: format!(
                    "it simulates the closed battery, but noise is set ({}); storage with noise runs on the density \
                     matrix (--solver density-matrix, or auto)",
                    spec.noise.describe()
                ),
            })
        }
    }
    if n > MAX_DENSITY_SITES {
        return Err(SpinbatError::Unsupported {
            solver: "density-matrix",
            reason: format!(
                "storage with noise or from a thermal start measures the ergotropy of the density matrix, which \
                 needs N <= {MAX_DENSITY_SITES}, got N = {n}"
            ),
        });
    }
    // the larger of the two stages' propagators (collective decay needs two more matrices)
    let noise = if spec.noise.collective_decay != 0.0 { spec.noise } else { spec.storage_noise() };
    let plan = Plan::with_start(
        chain,
        Solver::DensityMatrix,
        spec.tol,
        Precision::Double,
        Request::States { bytes_per_amplitude: trajectory::OBSERVABLE_BYTES_PER_AMPLITUDE },
        &noise,
        spec.start,
    )?;
    // beside the propagator and the measurements: ρ(T), the propagator's copy of its
    // initial state, and the refinement's start
    let entries = full * full;
    let extra = 3.0 * 16.0 * entries;
    debug_assert!(plan.bytes() >= DENSITY_OBSERVABLE_BYTES_PER_ENTRY * entries);
    crate::resources::ensure_fits("density-matrix", n, plan.bytes() + extra)?;
    Ok(plan)
}

/// The plan of storage by trajectories: the charge's unravelling (with the charging noise
/// and the start), and beside it the storage's operators and the records (`W`, `W'` and the
/// `N` Bloch vectors at every storage time of every trajectory).
fn plan_trajectories(chain: &Chain, spec: &StorageSpec) -> Result<Plan> {
    if spec.noise.is_closed() && spec.start.is_all_down(chain) {
        return Err(SpinbatError::Unsupported {
            solver: "trajectories",
            reason: "without noise and from all-down every trajectory is the closed evolution; use auto (pure states)"
                .into(),
        });
    }
    if spec.trajectories < 2 {
        return Err(invalid("trajectories", spec.trajectories, "needs at least 2 (a standard error needs two)"));
    }
    super::ensemble::check_observables(&spec.observe)?;
    let plan = Plan::with_start(
        chain,
        Solver::Trajectories,
        spec.tol,
        Precision::Double,
        Request::Work,
        &spec.charging_noise(),
        spec.start,
    )?;
    let n = chain.n_sites();
    let records = spec.trajectories as f64 * (spec.times.len() + 1) as f64 * (16.0 + 24.0 * n as f64);
    let storage = crate::propagate::unravelling::bytes_needed(n, rayon::current_num_threads(), 1);
    crate::resources::ensure_fits("trajectories", n, plan.bytes() + storage + records)?;
    Ok(plan)
}

/// Storage by quantum trajectories (module docs): each trajectory charges to `T` under
/// the charging noise, then is held under `H0` with the storage noise
/// ([`crate::propagate::Unravelling::storing`]); the means over them with their standard
/// errors. What is linear in `ρ` only: `W`, its rate, the Bloch vectors and the local
/// ergotropy of the mean one-site states; the work's half-life from the mean at the output
/// times (linear interpolation between the two around the crossing: statistical).
fn store_trajectories(
    chain: &Chain,
    spec: &StorageSpec,
    plan: &Plan,
    charge_time: f64,
    closed_max_power: Option<super::Extremum>,
    progress: &dyn Progress,
) -> Result<Storage> {
    let n = chain.n_sites();
    let (charging_noise, storage_noise) = (spec.charging_noise(), spec.storage_noise());
    let times = from_start(&spec.times);
    let charger = plan.unravelling(chain)?;
    let unravelling = crate::propagate::Unravelling::storing(chain, &storage_noise, charger, charge_time, spec.tol)?
        .with_bloch_at(&times);
    progress.phase("trajectories");
    let ensemble = unravelling.run(&times, spec.trajectories, spec.seed, progress)?;
    let set = ObservableSet { ergotropy: true, bloch: spec.observe.bloch, ..ObservableSet::default() };
    let (samples, stderr, mut measured) = super::ensemble::ensemble_means(&ensemble, chain, &set);
    if !spec.observe.bloch {
        measured.iter_mut().for_each(|p| (p.bloch, p.bloch_stderr) = (None, None));
    }
    let skip = usize::from(spec.times[0] != 0.0);
    let start = measured[0].clone();
    let work_values: Vec<(f64, f64)> = samples.iter().map(|w| (w.t, w.work)).collect();
    let work_half = interpolated_half_life(&work_values, Some(start.work), spec.tol, "work");
    let not_linear = || {
        HalfLife::none(
            None,
            "the global ergotropy is not linear in rho: trajectories estimate the local ergotropy only (use --solver \
             density-matrix)",
        )
    };
    let eps = ensemble.trajectories.iter().map(|t| t.state_error).fold(0.0, f64::max);
    let k = ensemble.trajectories.len() as f64;
    let accuracy = format!(
        "{}; each trajectory charges to T, then is stored (one random stream); {}",
        unravelling.accuracy_note(),
        super::ensemble::STORAGE_NOTE
    );
    let cut = half_chain_cut(n);
    Ok(Storage {
        charge: ChargeStage {
            initial_temperature: spec.start.temperature(),
            initial_energy: plan.gibbs().map(|g| g.energy()),
            ..ChargeStage::new(charge_time, closed_max_power, charging_noise, start.work, eps)
        },
        storage_noise,
        noise_during: spec.noise_during,
        series: samples[skip..].to_vec(),
        start,
        trajectory: Trajectory {
            solver: "trajectories".to_string(),
            selected: set,
            cut,
            accuracy: accuracy.clone(),
            work_error: ensemble.work_error,
            state_error: Some(eps),
            bounds: Some(ObservableBounds::from_state_error(eps, 0.0, n, cut)),
            points: measured[skip..].to_vec(),
        },
        half_lives: HalfLives { work: work_half, ergotropy: not_linear(), ergotropy_hb: not_linear() },
        work_error: ensemble.work_error,
        ensemble: Some(StorageEnsemble {
            trajectories: spec.trajectories,
            seed: spec.seed,
            mean_jumps: ensemble.trajectories.iter().map(|t| t.jumps as f64).sum::<f64>() / k,
            work_stderr: stderr[skip..].to_vec(),
            note: super::ensemble::STORAGE_NOTE.to_string(),
        }),
    })
}

/// The state `charger` reaches at `charge_time` (`d × d`, made Hermitian with unit trace),
/// its trace-norm bound and `‖H0 − E_0‖` of its generator; the charger is dropped.
fn charged_state<L: crate::open::LindbladGenerator>(
    mut charger: DensityMatrix<L>,
    charge_time: f64,
    d: usize,
) -> Result<(Vec<Complex64>, f64, f64)> {
    let mut rho = charger.density_at(charge_time)?.to_vec();
    let error = charger.state_error();
    let work_norm = charger.liouvillian().work_operator_norm();
    hermitian_unit_trace(&mut rho, d);
    Ok((rho, error, work_norm))
}

/// The storage times with `s = 0` first (the start of storage is always measured).
fn from_start(times: &[f64]) -> Vec<f64> {
    let mut out = times.to_vec();
    if out.first() != Some(&0.0) {
        out.insert(0, 0.0);
    }
    out
}

/// `(s, Q(s))` of an ergotropy key at the measured times (`NaN` where not known).
fn ergotropy_values(measured: &[ObservablePoint], key: fn(&ErgotropyPoint) -> Option<f64>) -> Vec<(f64, f64)> {
    measured.iter().map(|p| (p.t, p.ergotropy.as_ref().and_then(key).unwrap_or(f64::NAN))).collect()
}

/// The half-life of `values` (`(s, Q(s))`, `values[0]` at `s = 0`) by linear interpolation
/// between the two output times around the first crossing of `Q(0)/2`, or
/// [`first_at_half`]'s reason why there is none.
fn interpolated_half_life(values: &[(f64, f64)], initial: Option<f64>, tol: f64, what: &str) -> HalfLife {
    match first_at_half(values, initial, tol, what) {
        Err(none) => none,
        Ok(k) => {
            let ((a, fa), (b, fb)) = (values[k - 1], values[k]);
            let half = 0.5 * initial.expect("known where a crossing is found");
            HalfLife { initial, time: Some(a + (b - a) * (fa - half) / (fa - fb)), reason: None }
        }
    }
}

/// The first output time at or below half of `initial` (its index in `values`, `(s, Q(s))`
/// with `values[0]` at `s = 0`), or the half-life with its reason why there is none.
fn first_at_half(
    values: &[(f64, f64)],
    initial: Option<f64>,
    tol: f64,
    what: &str,
) -> std::result::Result<usize, HalfLife> {
    let Some(q0) = initial else {
        return Err(HalfLife::none(None, format!("the {what} at the start of storage is not known")));
    };
    if q0 <= tol {
        return Err(HalfLife::none(initial, format!("no {what} at the start of storage")));
    }
    match values.iter().position(|&(_, v)| v <= 0.5 * q0) {
        Some(k) => Ok(k),
        None => {
            let &(s, v) = values.last().expect("not empty");
            Err(HalfLife::none(
                initial,
                format!(
                    "not reached by s = {s:.6}: the {what} is {:.4} % of its start (ask for a longer window)",
                    100.0 * v / q0
                ),
            ))
        }
    }
}

/// `(X + X†)/2` divided by its trace, in place (`X` a `d × d` matrix by columns).
fn hermitian_unit_trace(x: &mut [Complex64], d: usize) {
    for c in 0..d {
        for r in 0..c {
            let avg = 0.5 * (x[c * d + r] + x[r * d + c].conj());
            x[c * d + r] = avg;
            x[r * d + c] = avg.conj();
        }
        x[c * d + c].im = 0.0;
    }
    let trace: f64 = (0..d).map(|s| x[s * d + s].re).sum();
    x.iter_mut().for_each(|v| *v /= trace);
}

/// The density-matrix run (module docs).
fn store_density(
    chain: &Chain,
    spec: &StorageSpec,
    plan: &Plan,
    charge_time: f64,
    closed_max_power: Option<super::Extremum>,
    progress: &dyn Progress,
) -> Result<Storage> {
    let n = chain.n_sites();
    let d = 1usize << n;
    let (charging_noise, storage_noise) = (spec.charging_noise(), spec.storage_noise());
    // the charge
    progress.phase("charging");
    // from all-down, or the Gibbs state of the plan (W measured from its energy E_ref)
    let e_ref = plan.reference_energy(chain);
    let work_offset = e_ref - chain.initial_energy();
    let charger = match plan.gibbs() {
        Some(g) => DensityMatrix::thermal(chain, &charging_noise, g, spec.tol)?,
        None => DensityMatrix::new(chain, &charging_noise, spec.tol)?,
    };
    let (rho_t, charge_error, work_norm) = charged_state(charger, charge_time, d)?;

    // storage: the states at s = 0 and the output times, measured
    let times = from_start(&spec.times);
    let t_last = *times.last().expect("not empty");
    let set = ObservableSet { ergotropy: true, entanglement: false, ..spec.observe };
    let context = ErgotropyContext::new(chain)?.with_block(set.block).with_reference(e_ref);
    let spectrum = H0Spectrum::new(chain)?;
    let ops = Operators::new(chain)?;
    let mut keeper = DensityMatrix::with_initial(chain, &storage_noise, Generator::Storage, rho_t.clone(), spec.tol)?
        .with_reference_energy(e_ref);
    keeper.expect_until(t_last);
    progress.phase("storage");
    let mut measured: Vec<ObservablePoint> = Vec::with_capacity(times.len());
    keeper.for_each_state(&times, &mut |s, state| {
        let StateView::Density { rho, .. } = state else {
            unreachable!("the density-matrix propagator hands out density matrices")
        };
        measured.push(trajectory::observe_density(&ops, rho, n, &set, s.t, s.work, Some(&context), Some(&spectrum))?);
        progress.update(s.t, t_last);
        Ok(())
    })?;
    let series = keeper.sample(&spec.times)?;
    let start = measured[0].clone();
    let points: Vec<ObservablePoint> = if spec.times[0] != 0.0 { measured[1..].to_vec() } else { measured.clone() };

    // the work's half-life on the dense output
    progress.phase("half-lives");
    let work_half = work_half_life(&mut keeper, chain, start.work, t_last, spec.tol)?;
    let state_error = charge_error + keeper.state_error();
    let work_error = keeper.error_bound() + work_norm * charge_error;
    let (solver, accuracy) = (keeper.name().to_string(), keeper.accuracy_note());
    drop(keeper);

    // the ergotropies' half-lives between output times: a propagator from the earlier one
    let liou = Liouvillian::new(chain, &storage_noise, Generator::Storage)?;
    // the last bracket start reached, (s, ρ(T + s)): a later bracket continues from it, an
    // earlier one from ρ(T) (memory: ρ(T), this state and one propagator with its start)
    let mut reached: (f64, Vec<Complex64>) = (0.0, Vec::new());
    let mut refine = |key: fn(&ErgotropyPoint) -> Option<f64>| -> Result<HalfLife> {
        let initial = start.ergotropy.as_ref().and_then(key);
        let value = |p: &ObservablePoint| p.ergotropy.as_ref().and_then(key).unwrap_or(f64::NAN);
        let values: Vec<(f64, f64)> = measured.iter().map(|p| (p.t, value(p))).collect();
        let k = match first_at_half(&values, initial, spec.tol, "ergotropy") {
            Ok(k) => k,
            Err(none) => return Ok(none),
        };
        let e0 = initial.expect("known where a crossing is found");
        let (a, b) = (measured[k - 1].t, measured[k].t);
        let (fa, fb) = (value(&measured[k - 1]) - 0.5 * e0, value(&measured[k]) - 0.5 * e0);
        if reached.0 != a || reached.1.is_empty() {
            let (s0, rho0) = if reached.0 < a && !reached.1.is_empty() {
                (reached.0, std::mem::take(&mut reached.1))
            } else {
                reached.1 = Vec::new();
                (0.0, rho_t.clone())
            };
            let mut from = DensityMatrix::with_initial(chain, &storage_noise, Generator::Storage, rho0, spec.tol)?;
            let mut rho_a = from.density_at(a - s0)?.to_vec();
            drop(from);
            hermitian_unit_trace(&mut rho_a, d);
            reached = (a, rho_a);
        }
        let mut between =
            DensityMatrix::with_initial(chain, &storage_noise, Generator::Storage, reached.1.clone(), spec.tol)?;
        let mut f = |s: f64| -> Result<f64> {
            let rho = between.density_at(s - a)?;
            let work = liou.sums(rho).work.re - work_offset;
            let p = context.measure_density(rho, &spectrum, work)?;
            Ok(key(&p).unwrap_or(f64::NAN) - 0.5 * e0)
        };
        let time = brent(&mut f, a, b, fa, fb, 1e-9 * (1.0 + b), 100)?;
        Ok(HalfLife { initial, time: Some(time), reason: None })
    };
    let ergotropy_half = refine(|p| p.ergotropy)?;
    let ergotropy_hb_half = refine(|p| Some(p.ergotropy_hb))?;

    let cut = half_chain_cut(n);
    Ok(Storage {
        charge: ChargeStage {
            initial_temperature: spec.start.temperature(),
            initial_energy: plan.gibbs().map(|g| g.energy()),
            ..ChargeStage::new(charge_time, closed_max_power, charging_noise, start.work, charge_error)
        },
        storage_noise,
        noise_during: spec.noise_during,
        series,
        start,
        trajectory: Trajectory {
            solver,
            selected: set,
            cut,
            accuracy: format!("{accuracy}; the charged state's trace-norm error {charge_error:.1e} carried through"),
            work_error,
            state_error: Some(state_error),
            bounds: Some(ObservableBounds::from_state_error(state_error, Operators::h0_norm_bound(chain), n, cut)),
            points,
        },
        half_lives: HalfLives { work: work_half, ergotropy: ergotropy_half, ergotropy_hb: ergotropy_hb_half },
        work_error,
        ensemble: None,
    })
}

/// Storage on the Dicke states ([`runs_on_dicke_states`]): the Dicke density matrix charges
/// to `T` and a second one stores from its state (made Hermitian with unit trace), both
/// with their trace-norm bounds as on the full space; the ergotropy family at the output
/// times from [`super::dicke::DickeObserver`]. The work's half-life from the dense output
/// (as on the full space); the ergotropies' by linear interpolation between the two output
/// times around the crossing (finer `times` sharpen it).
fn store_dicke(
    chain: &Chain,
    spec: &StorageSpec,
    charge_time: f64,
    closed_max_power: Option<super::Extremum>,
    progress: &dyn Progress,
) -> Result<Storage> {
    let n = chain.n_sites();
    let d = n + 1;
    let (charging_noise, storage_noise) = (spec.charging_noise(), spec.storage_noise());
    progress.phase("charging");
    let charger = DensityMatrix::dicke(chain, &charging_noise, spec.tol)?;
    let (rho_t, charge_error, work_norm) = charged_state(charger, charge_time, d)?;

    let times = from_start(&spec.times);
    let t_last = *times.last().expect("not empty");
    let set = ObservableSet { ergotropy: true, entanglement: false, zz: false, block: None, ..spec.observe };
    let observer = super::dicke::DickeObserver::new(chain)?;
    let e0 = chain.initial_energy();
    let mut keeper = DensityMatrix::dicke_with_initial(chain, &storage_noise, Generator::Storage, rho_t, spec.tol)?;
    keeper.expect_until(t_last);
    progress.phase("storage");
    let mut measured: Vec<ObservablePoint> = Vec::with_capacity(times.len());
    for &s in &times {
        let rho = keeper.density_at(s)?;
        let (ergotropy, bloch) = observer.measure(rho)?;
        let trace: f64 = (0..d).map(|k| rho[k * d + k].re).sum();
        let (mut h0, mut h0_sq) = (0.0, 0.0);
        for (k, &e) in observer.diagonal().iter().enumerate() {
            let p = rho[k * d + k].re / trace;
            h0 += p * e;
            h0_sq += p * e * e;
        }
        measured.push(ObservablePoint {
            t: s,
            work: h0 - e0,
            entropy: None,
            renyi2: None,
            bloch: set.bloch.then(|| vec![bloch; n]),
            zz: None,
            // H0 is diagonal on the Dicke states (p = 0): Var(H0) from the populations
            variance: set.variance.then(|| (h0_sq - h0 * h0).max(0.0)),
            ergotropy: Some(ergotropy),
            work_stderr: None,
            bloch_stderr: None,
            mean_local_ergotropy: None,
            local_ergotropy_stderr: None,
        });
        progress.update(s, t_last);
    }
    let series = keeper.sample(&spec.times)?;
    let start = measured[0].clone();
    let skip = usize::from(spec.times[0] != 0.0);
    let points = measured[skip..].to_vec();
    progress.phase("half-lives");
    let work_half = work_half_life(&mut keeper, chain, start.work, t_last, spec.tol)?;
    let state_error = charge_error + keeper.state_error();
    let work_error = keeper.error_bound() + work_norm * charge_error;
    let (solver, accuracy) = (keeper.name().to_string(), keeper.accuracy_note());
    let interpolated = |key: fn(&ErgotropyPoint) -> Option<f64>| -> HalfLife {
        let initial = start.ergotropy.as_ref().and_then(key);
        interpolated_half_life(&ergotropy_values(&measured, key), initial, spec.tol, "ergotropy")
    };
    let half_lives = HalfLives {
        work: work_half,
        ergotropy: interpolated(|p| p.ergotropy),
        ergotropy_hb: interpolated(|p| Some(p.ergotropy_hb)),
    };
    let cut = half_chain_cut(n);
    Ok(Storage {
        charge: ChargeStage {
            initial_temperature: None,
            initial_energy: None,
            ..ChargeStage::new(charge_time, closed_max_power, charging_noise, start.work, charge_error)
        },
        storage_noise,
        noise_during: spec.noise_during,
        series,
        start,
        trajectory: Trajectory {
            solver,
            selected: set,
            cut,
            accuracy: format!(
                "{accuracy}; the charged state's trace-norm error {charge_error:.1e} carried through; the ergotropies' \
                 half-lives interpolated linearly between output times"
            ),
            work_error,
            state_error: Some(state_error),
            bounds: Some(ObservableBounds::from_state_error(state_error, Operators::h0_norm_bound(chain), n, cut)),
            points,
        },
        half_lives,
        work_error,
        ensemble: None,
    })
}

/// The pure-state run ([`runs_on_pure_states`]): `ψ(T)` from the charge's state propagator
/// (`plan`), then `e^{−iH_g s}` by Chebyshev on the chain with the field off started at
/// `ψ(T)` (its error bound carried), then the phases of `e^{−iH_B s}`, and the measurements
/// of pure states. `W` and the ergotropies for `H0` and `H_B` are conserved here (module
/// docs), so their half-lives come from the output times alone (linear interpolation
/// between the two around a crossing, which only rounding could make).
fn store_pure(
    chain: &Chain,
    spec: &StorageSpec,
    plan: &Plan,
    charge_time: f64,
    closed_max_power: Option<super::Extremum>,
    progress: &dyn Progress,
) -> Result<Storage> {
    use crate::propagate::checkpoint::Saved;
    use crate::propagate::Chebyshev;
    let n = chain.n_sites();
    progress.phase("charging");
    let mut charger = plan.state_propagator(chain)?;
    let mut psi_t: Vec<Complex64> = Vec::new();
    charger.for_each_state(&[charge_time], &mut |_, state| {
        if let StateView::Pure { psi, .. } = state {
            psi_t = psi.to_vec();
        }
        Ok(())
    })?;
    let charge_error = charger.state_error();
    let charge_solver = charger.name();
    drop(charger);
    let norm = psi_t.iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt();
    psi_t.iter_mut().for_each(|z| *z /= norm);

    let times = from_start(&spec.times);
    let t_last = *times.last().expect("not empty");
    let set = ObservableSet { ergotropy: true, ..spec.observe };
    let cut = set.cut_for(n)?;
    let context = ErgotropyContext::new(chain)?.with_block(set.block);
    let field_off = chain.field_off();
    let mut keeper = Chebyshev::<Operators, f64>::with_start(
        Operators::new(&field_off)?,
        &field_off,
        spec.tol,
        Saved { t: 0.0, err: charge_error, state: psi_t },
    );
    keeper.expect_until(t_last);
    progress.phase("storage");
    let mut phased = vec![Complex64::new(0.0, 0.0); 1usize << n];
    let mut measured: Vec<ObservablePoint> = Vec::with_capacity(times.len());
    let mut samples: Vec<WorkSample> = Vec::with_capacity(times.len());
    let b = chain.b();
    keeper.for_each_state(&times, &mut |sample, state| {
        let StateView::Pure { psi, ops, .. } = state else {
            unreachable!("the Chebyshev propagator hands out pure states")
        };
        // e^{−iH_B s}: the phase e^{−iB(2|x| − N)s} of basis state x
        let s = sample.t;
        phased.iter_mut().zip(psi).enumerate().for_each(|(x, (out, &z))| {
            *out = z * Complex64::from_polar(1.0, -b * crate::basis::magnetisation(x, n) * s);
        });
        let mut point = trajectory::observe_state(ops, &phased, false, n, &set, cut, s, sample.work, Some(&context))?;
        // the Robertson bound and the speed limit of the charge (ΔH² = Nω² from all-down
        // under H) do not apply in storage under H0
        if let Some(e) = point.ergotropy.as_mut() {
            e.power_bound = None;
            e.qsl_time = None;
        }
        measured.push(point);
        samples.push(*sample);
        progress.update(s, t_last);
        Ok(())
    })?;
    let skip = usize::from(spec.times[0] != 0.0);
    let series = samples[skip..].to_vec();
    let start = measured[0].clone();
    let points = measured[skip..].to_vec();
    let half_life = |values: Vec<(f64, f64)>, initial: Option<f64>, what: &str| -> HalfLife {
        match interpolated_half_life(&values, initial, spec.tol, what) {
            none if none.time.is_none() && none.initial.is_some_and(|q| q > spec.tol) => HalfLife::none(
                initial,
                format!(
                    "not reached by s = {:.6}: no noise in storage, and the {what} is conserved (e^(-i H0 s) commutes \
                     with H0 and H_B)",
                    values.last().map_or(0.0, |v| v.0)
                ),
            ),
            found => found,
        }
    };
    let work_values: Vec<(f64, f64)> = samples.iter().map(|w| (w.t, w.work)).collect();
    let key_values = |key: fn(&ErgotropyPoint) -> Option<f64>| ergotropy_values(&measured, key);
    let half_lives = HalfLives {
        work: half_life(work_values, Some(start.work), "work"),
        ergotropy: half_life(key_values(|p| p.ergotropy), start.ergotropy.and_then(|e| e.ergotropy), "ergotropy"),
        ergotropy_hb: half_life(
            key_values(|p| Some(p.ergotropy_hb)),
            start.ergotropy.map(|e| e.ergotropy_hb),
            "ergotropy",
        ),
    };
    let state_error = keeper.state_error();
    let work_error = keeper.error_bound();
    Ok(Storage {
        charge: ChargeStage {
            initial_temperature: spec.start.temperature(),
            initial_energy: None,
            ..ChargeStage::new(charge_time, closed_max_power, Noise::default(), start.work, charge_error)
        },
        storage_noise: Noise::default(),
        noise_during: spec.noise_during,
        series,
        start,
        trajectory: Trajectory {
            solver: keeper.name().to_string(),
            selected: set,
            cut,
            accuracy: format!(
                "psi(T) by {charge_solver} (state error {charge_error:.1e}), then e^(-i H_g s) by {} on the chain with \
                 the field off and the exact phases of e^(-i H_B s) ([H_B, H_g] = 0)",
                keeper.accuracy_note()
            ),
            work_error,
            state_error: Some(state_error),
            bounds: Some(ObservableBounds::from_state_error(state_error, Operators::h0_norm_bound(chain), n, cut)),
            points,
        },
        half_lives,
        work_error,
        ensemble: None,
    })
}

/// Most grid points of the work's half-life scan.
const MAX_HALF_LIFE_GRID: usize = 1_000_000;

/// The first `s ≤ t_last` with `W(s) = W(0)/2` from `prop`'s dense output (module docs).
fn work_half_life(prop: &mut dyn Propagator, chain: &Chain, w0: f64, t_last: f64, tol: f64) -> Result<HalfLife> {
    if w0 <= tol {
        return Ok(HalfLife::none(Some(w0), "no work stored at the start of storage"));
    }
    let half = 0.5 * w0;
    let steps = ((t_last / prop.scan_step(chain)).ceil() as usize).clamp(1, MAX_HALF_LIFE_GRID);
    let grid: Vec<f64> = (0..=steps).map(|k| t_last * k as f64 / steps as f64).collect();
    let samples = prop.sample(&grid)?;
    let Some(k) = samples.iter().position(|s| s.work <= half) else {
        let last = samples.last().expect("not empty");
        return Ok(HalfLife::none(
            Some(w0),
            format!(
                "not reached by s = {t_last:.6}: W is {:.4} % of its start (ask for a longer window)",
                100.0 * last.work / w0
            ),
        ));
    };
    if k == 0 {
        return Ok(HalfLife { initial: Some(w0), time: Some(0.0), reason: None });
    }
    let (a, b) = (samples[k - 1], samples[k]);
    let mut f = |s: f64| -> Result<f64> { Ok(prop.sample(&[s])?[0].work - half) };
    let time = brent(&mut f, a.t, b.t, a.work - half, b.work - half, 1e-12 * (1.0 + b.t), 200)?;
    Ok(HalfLife { initial: Some(w0), time: Some(time), reason: None })
}
