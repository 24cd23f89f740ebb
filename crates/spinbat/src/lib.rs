//! # spinbat — spin-chain quantum batteries
//!
//! Exact and mean-field simulation of the battery of Le, Levinsen, Modi, Parish and
//! Pollock, *Spin-chain model of a many-body quantum battery*, PRA **97**, 022106 (2018).
//! Units: `ħ = 1`, energies in units of `B`, times in units of `1/B`.
//!
//! ## The physics
//! `N` spins-1/2 (site `i` up ⇔ bit `i` of a basis index set) with
//! * storage Hamiltonian `H0 = B Σ_i Z_i − Σ_{i<j} g_ij [Z_i Z_j + α (X_i X_j + Y_i Y_j)]`
//!   (per-site fields `B_i` for disorder),
//! * couplings nearest-neighbour `g_ij = g δ_{|i−j|,1}`, power law `g_ij = g/|i−j|^p`
//!   (`p = 0`: all-to-all), periodic variants, or an explicit matrix,
//! * charging from the all-down state (`E_0 = −NB − Σ g_ij`) by `H = H_g + V`,
//!   `V = ω Σ_i X_i` (the field `B` is off while charging).
//!
//! The work deposited is `W(t) = ⟨ψ(t)|H0|ψ(t)⟩ − E_0`, the average power `P(T) = W(T)/T`.
//! Every convention (signs, units, the protocol), the certifying work bound and the results
//! any implementation must reproduce, with references, are in `docs/physics.md` of the
//! repository (cited as "physics.md" throughout these docs).
//!
//! ## Which call answers which question
//! | question | call |
//! |---|---|
//! | define a chain | [`Chain::builder`] → [`model::ChainBuilder::build`] |
//! | a chain as data (serde: TOML, JSON, front ends), with the defaults and every check | [`ChainSpec`] → [`ChainSpec::build`] |
//! | pick a solver | [`propagate::plan`] with a [`Solver`] (`Auto`, `Dense`, `Chebyshev`, `Dicke`, `MeanField`, `WeakCoupling`); [`propagate::plan_with`] for single precision; [`propagate::Plan`] to check first and build later, for the work or for states |
//! | the largest chains: Chebyshev in a symmetry sector (automatic: the coupling orbits of a ring, the reflection-even sector of a mirror-symmetric chain, the Dicke states) | [`propagate::space_for`], [`symmetry::Space`], [`symmetry::OrbitSpace`], [`symmetry::ReflectionSector`], [`symmetry::DickeSpace`] |
//! | `W(t)`, `W'(t)` at given times | [`propagate::Propagator::sample`] |
//! | curve, certified `P_max` and `T*`, max work, ratio to independent spins | [`observe::charge`] |
//! | closed forms (one spin, XXX, Eq. 18/19, strong coupling) | [`analytic`] |
//! | sweep a parameter, several solvers side by side; scaling fits | [`study::scan`], [`study::fit_scaling`] |
//! | entanglement, Bloch vectors, connected `ZZ`, `Var(H0)` of a state | [`observe::correlations`] |
//! | those along the charging trajectory, quantum or mean field; peak entanglement | [`observe::trajectory::trajectory`] |
//! | storage and self-discharge: charge, then hold under `H0` with noise while charging, in storage or both; `W(s)`, the ergotropy family and their half-lives | [`observe::storage::store`] |
//! | the state `ψ(t)` itself (dense, Chebyshev; a [`propagate::StateView`]) | [`propagate::StatePropagator::for_each_state`] |
//! | the open battery by quantum trajectories: the mean `W(t)` over `K` pure-state trajectories with its standard error, `P_max` of the mean curve (statistical) | [`propagate::Plan::unravelling`] or [`propagate::Unravelling::new`] → [`observe::ensemble::charge_trajectories`] |
//! | a thermal start: the Gibbs state `e^{−H0/T0}/Z` of `H0` (by magnetisation blocks), charged on the density matrix or by trajectories, `W` from its energy | [`open::Gibbs`], [`open::Start`] → [`propagate::Plan::with_start`], [`propagate::DensityMatrix::thermal`], [`propagate::Unravelling::with_thermal_start`]; storage: [`observe::storage::StorageSpec::start`] |
//! | disorder: the ensemble of random realisations `g_ij (1 + δ_g u_ij)`, `B_i = B (1 + δ_B v_i)`; the mean curve with its standard error, mean ± standard error and quantiles of the certified `P_max`, `T*`, maximal work | [`model::Disorder`] → [`observe::disorder::charge_disorder`]; per-site fields alone: [`model::ChainBuilder::site_fields`] |
//! | the charging generalised: per-site weights `V = ω Σ_i w_i X_i`, the field kept on `H = H0 + V`, XYZ couplings `α((1+γ)X_iX_j + (1−γ)Y_iY_j)` (dense, Chebyshev, mean field) | [`model::ChainBuilder::omega_sites`], [`model::ChainBuilder::keep_field`], [`model::ChainBuilder::gamma`]; which solvers take them: [`propagate::check_charging`] |
//! | a time-dependent field `ω(t)`: a piecewise-constant schedule (exact, segment by segment) or a drive `ω + A cos(νt)` | [`model::Protocol`], [`model::Schedule::parse`] → [`propagate::Plan::protocol_propagator`] → [`observe::charge`] |
//! | optimal charging: the piecewise-constant `ω(t) ∈ [−W, W]` that maximises `W(T)`, exact gradients | [`control::optimize`], [`control::Control::work_and_gradient`] |
//! | strong coupling: exact `N`-body coupling `J_eff ∝ ω^N/g^{N−1}` of all-down and all-up, slow oscillation `W_slow = C + A cos(Δt)` and its first maximum (Fig. 4) | [`effective::effective_coupling`], [`effective::slow_oscillation`] |
//!
//! ## Quick start
//! ```
//! use spinbat::{Chain, Couplings, Solver, observe, propagate, Silent};
//! let chain = Chain::builder(4).couplings(Couplings::NearestNeighbour).alpha(0.0).build()?;
//! let mut prop = propagate::plan(&chain, Solver::Auto, 1e-10)?;
//! let times = observe::uniform_times(1.0, 11);
//! let result = observe::charge(prop.as_mut(), &chain, &times, &Silent)?;
//! assert!(result.max_power.power > result.independent.max_power.power); // α < 1 helps
//! # Ok::<(), spinbat::SpinbatError>(())
//! ```
//!
//! ## Accuracy
//! Every solver states its error control ([`propagate::Propagator::accuracy_note`]) and
//! reports a bound on the error of `W` ([`propagate::Propagator::error_bound`]):
//! Chebyshev a rigorous truncation bound set by `tol`, dense an estimate at rounding level,
//! mean field an estimate (the accumulated local error estimates of DOP853, scaled by
//! the gradient of `E0`). The contract tests in `tests/` check each against
//! closed forms, against each other and against QuTiP.

#![deny(missing_docs)]

pub mod analytic;
pub mod basis;
pub mod control;
pub mod effective;
pub mod error;
pub mod meanfield;
pub mod model;
pub mod mps;
pub mod numeric;
pub mod observe;
pub mod open;
pub mod operator;
pub mod partition;
pub mod propagate;
pub mod record;
pub mod resources;
pub mod study;
pub mod symmetry;

pub use error::{Result, SpinbatError};
pub use model::{Boundary, Chain, ChainSpec, CouplingKind, Couplings};
pub use propagate::{Propagator, Solver, WorkSample};

/// Receives progress of long computations; the library never prints.
pub trait Progress: Sync {
    /// `done` out of `total` (same units, e.g. simulated time); `total` may grow.
    fn update(&self, done: f64, total: f64);

    /// The phase now running (`"maximum search and curve"`, `"refinement"`, `"jobs"`, ...):
    /// later [`Progress::update`]s count within it. Ignored by default.
    fn phase(&self, _name: &str) {}

    /// Asked between steps of a long computation: `Some(reason)` asks it to stop, and it
    /// returns [`SpinbatError::Stopped`] with that reason (a caller's time limit, say).
    /// Never by default.
    fn stop_reason(&self) -> Option<String> {
        None
    }
}

/// A [`Progress`] that ignores every update.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn update(&self, _done: f64, _total: f64) {}
}
