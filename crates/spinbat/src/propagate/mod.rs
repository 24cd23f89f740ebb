//! Time evolution of the battery under the charging Hamiltonian, reduced to what every
//! figure of merit needs: the work `W(t) = ⟨ψ(t)|H0|ψ(t)⟩ − E_0` and its exact rate
//! `W'(t) = i⟨[H, H0]⟩`.
//!
//! One trait, [`Propagator`], many implementations, one planner ([`Plan`]; [`plan`] for short):
//!
//! | solver | method | accuracy | cost |
//! |---|---|---|---|
//! | [`Dense`] | eigendecomposition of `H` (faer) | `~ε_mach (2^N + ‖H‖ t) ‖H0‖` | `O(8^N)` once, `O(4^N)` per time |
//! | [`Chebyshev`] | matrix-free Chebyshev expansion of `e^{−iHt}` on any [`crate::symmetry::Space`]: full space, reflection-even sector, coupling orbits ([`space_for`]) | a-posteriori bound, set by `tol` | `O(2^N N)` per term (half in the sector, `~1/(2N)` in a ring's orbits), `≈ r t` terms |
//! | [`crate::meanfield::MeanField`] | classical Bloch vectors, DOP853 | local error `σ ∝ 10⁻³ tol` per step; estimate `Γ Σ` local errors | 12 stages of `O(N log N)` (FFT, `\|i−j\|` couplings) or `O(N²)` (matrix) per step |
//! | [`crate::analytic::WeakCoupling`] | Eq. 18 of the paper | first order in `g` | `O(1)` |
//! | [`DensityMatrix`] | the open battery (noise, [`crate::open::Noise`]): Chebyshev steps of `e^{𝓛t}` on an ellipse holding the numerical range of `𝓛`, on the `2^N × 2^N` density matrix, matrix-free, with dense output | rigorous truncation bound (Crouzeix–Palencia, trace norm), set by `tol` | `O(4^N N)` per term, `≈ bt` terms (`b ≈ E_max − E_min` of `H`) |
//! | [`Unravelling`] | the open battery by quantum trajectories (pure states, jump unravelling; dephasing as `Z_i` kicks at Poisson times, decay by the waiting-time algorithm), Chebyshev steps of `e^{−iH_eff t}` on an ellipse; the mean over `K` trajectories ([`crate::observe::ensemble`]) | per trajectory: rigorous truncation bound set by `tol`; the mean: statistical, standard error `∝ 1/√K` | `O(2^N N)` per term per trajectory |
//! | [`fermion::FreeFermion`] | the open nearest-neighbour Ising chain (`α = 0`) by free fermions: covariance `e^{At}` and Pfaffians, no state vector | exact; rounding estimate `8ε(2N + 1)(Σ\|B\| + Σ\|g\| + Σ\|ω\|)` | `O(N⁴)/8` per time |
//! | [`dicke::Dicke`] | the `N + 1` Dicke states, permutation-symmetric chains: an eigen window, then [`Chebyshev`] on [`crate::symmetry::DickeSpace`] | rigorous leak and truncation bounds | `O(N)` per term |
//!
//! `Auto` takes Dicke for permutation-symmetric chains, dense for `N ≤ 10`, beyond that free
//! fermions for the open nearest-neighbour Ising chain and Chebyshev for the rest; with
//! noise, the density matrix.

mod chebyshev;
pub mod checkpoint;
mod dense;
pub mod density;
pub mod dicke;
pub mod distributed;
pub mod fermion;
pub mod gram;
pub mod magnus;
pub(crate) mod memory;
mod method;
pub mod mps;
mod plan;
pub mod schedule;
mod solver;
pub mod unravelling;

pub use chebyshev::{
    space_for, uses_reflection_sector, Chebyshev, GRAM_FIT_TERMS, GRAM_MAX_TERMS, GRAM_MIN_TERMS, ORBIT_MIN_SITES,
    REFLECTION_MIN_SITES,
};
pub use dense::Dense;
pub use density::DensityMatrix;
pub use distributed::Distributed;
pub use memory::{bytes_needed, bytes_needed_with};
pub use method::{
    check_times, check_within, drive_power_bound, protocol_certify_time, protocol_scan_step, protocol_work_bound,
    scan_step, scan_step_for, DrivePowerBound, Propagator, SpaceKind, StatePropagator, StateTap, StateView,
    StateVisitor, TapOutcome, TapVisitor, WorkSample,
};
pub use mps::{mps_settings, MpsPropagator};
pub use plan::{
    check_charging, plan, plan_noisy, plan_states, plan_with, Plan, Request, DENSITY_OBSERVABLE_BYTES_PER_ENTRY,
    SECTOR_EXPANSION_BYTES_PER_AMPLITUDE,
};
pub use solver::{resolve, resolve_noisy, resolve_states, Precision, Solver, AUTO_DENSE_MAX_SITES, DEFAULT_TOL};
pub use unravelling::{Ensemble, Unravelling};
