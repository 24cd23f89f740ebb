//! Time evolution of the battery under the charging Hamiltonian, reduced to what every
//! figure of merit needs: the work `W(t) = ⟨ψ(t)|H0|ψ(t)⟩ − E_0` and its exact rate
//! `W'(t) = i⟨[H, H0]⟩`.
//!
//! One trait, [`Propagator`], many implementations, one planner ([`plan`]):
//!
//! | solver | method | accuracy | cost |
//! |---|---|---|---|
//! | [`Dense`] | eigendecomposition of `H` (faer) | `~ε_mach (2^N + ‖H‖ t) ‖H0‖` | `O(8^N)` once, `O(4^N)` per time |
//! | [`Chebyshev`] | matrix-free Chebyshev expansion of `e^{−iHt}`, full space or reflection-even sector ([`uses_reflection_sector`]) | a-posteriori bound, set by `tol` | `O(2^N N)` per term (half in the sector), `≈ r t` terms |
//! | [`crate::meanfield::MeanField`] | classical Bloch vectors, DOP853 | local error `σ ∝ 10⁻³ tol` per step; estimate `Γ Σ` local errors | 12 stages of `O(N log N)` (FFT, `\|i−j\|` couplings) or `O(N²)` (matrix) per step |
//! | [`crate::analytic::WeakCoupling`] | Eq. 18 of the paper | first order in `g` | `O(1)` |
//!
//! | [`dicke::Dicke`] | the `N + 1` Dicke states, permutation-symmetric chains | rigorous truncation bound | `O(N)` per term |
//!
//! `Auto` takes Dicke for permutation-symmetric chains, dense for `N ≤ 10` and Chebyshev
//! beyond.

mod bessel;
mod chebyshev;
mod dense;
pub mod dicke;
pub mod memory;

pub use chebyshev::{uses_reflection_sector, Chebyshev, REFLECTION_MIN_SITES};
pub use dense::Dense;

use crate::error::{Result, SpinbatError};
use crate::model::Chain;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// Work and its time derivative at one time (energies in units of `B` when `B = 1`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WorkSample {
    /// Time `t` (units `1/B`).
    pub t: f64,
    /// Deposited work `W(t) = ⟨H0⟩_t − E_0`.
    pub work: f64,
    /// `dW/dt`, exact from the state: `2 Im⟨H0ψ|Vψ⟩` (quantum) or `Σ_m ∇E0·Ṡ_m` (mean field).
    pub rate: f64,
}

/// A solver that can report `W(t)` and `W'(t)` for a fixed chain.
pub trait Propagator: Send {
    /// Short solver name (`dense`, `chebyshev`, ...).
    fn name(&self) -> &'static str;

    /// `W` and `W'` at `times`, which must be sorted ascending and `≥ 0`. Requests before
    /// the solver's current time are served from the anchor (see [`Propagator::anchor`])
    /// or by restarting at `t = 0`.
    fn sample(&mut self, times: &[f64]) -> Result<Vec<WorkSample>>;

    /// Keeps the state at time `t` so later requests at `≥ t` start there
    /// (the maximum search anchors at the bracket it refines). A no-op where sampling is
    /// random access anyway.
    fn anchor(&mut self, _t: f64) -> Result<()> {
        Ok(())
    }

    /// A bound on `W(t)` for all `t`, which certifies the maximal power. Exact dynamics and
    /// the mean-field model conserve energy, so `W ≤ N(|B| + B) + min(N|ω|, λ_max(H_g) + G)`
    /// ([`Chain::work_bound`]);
    /// approximations that do not conserve it override this.
    fn work_bound(&self, chain: &Chain) -> f64 {
        chain.work_bound()
    }

    /// Grid step of the maximum search: `π/(16Λ)` with `Λ` the largest single-site energy
    /// scale of the dynamics ([`crate::observe::scan_step`]). A solver whose dynamics is
    /// known to be slower (Dicke: only `(1 − α)g` acts) overrides it.
    fn scan_step(&self, chain: &Chain) -> f64 {
        crate::observe::scan_step(chain)
    }

    /// A hint: keep the state at `t` as the anchor if it is at hand now (a time of the
    /// last call of [`Propagator::sample`]), at no propagation cost; otherwise do nothing.
    /// The maximum search calls it during its scan for the best interval so far.
    fn anchor_if_at_hand(&mut self, _t: f64) -> Result<()> {
        Ok(())
    }

    /// Most times one call of [`Propagator::sample`] serves from one expansion (memory
    /// bound); the maximum search sizes its scan chunks by it so that the anchor it asks for
    /// is still at hand. Unlimited by default.
    fn batch_capacity(&self) -> usize {
        usize::MAX
    }

    /// Bound (or, for `dense`, estimate) of the absolute error of every `W` returned so far;
    /// `f64::INFINITY` for an approximation whose error is not bounded (weak coupling).
    fn error_bound(&self) -> f64;

    /// One line on how the error is controlled, for summaries and records.
    fn accuracy_note(&self) -> String;
}

/// The callback of [`StatePropagator::for_each_state`]: `(W and W' at t, ψ(t), operators)`.
pub type StateVisitor<'a> =
    dyn FnMut(&WorkSample, &[num_complex::Complex64], &crate::operator::Operators) -> Result<()> + 'a;

/// A full-space propagator that can hand out the state `ψ(t)` itself (dense and
/// Chebyshev), for observables beyond the work (see [`crate::observe::trajectory`]).
pub trait StatePropagator: Propagator {
    /// Calls `visit(sample, ψ(t), ops)` for each of `times` (sorted ascending, `≥ 0`), in
    /// order, with `W`, `W'` at `t`, the `2^N` amplitudes of `ψ(t)` (up to a global phase;
    /// the slice is only valid during the call) and the chain's matrix-free operators.
    /// Stops at the first error of `visit`.
    ///
    /// # Errors
    /// [`SpinbatError::InvalidTimes`] for bad `times`; whatever `visit` returns.
    fn for_each_state(&mut self, times: &[f64], visit: &mut StateVisitor<'_>) -> Result<()>;

    /// Bound (dense: estimate) on the norm `‖ψ_computed − ψ(t)‖` of the state error, up
    /// to a global phase, for every state handed out so far.
    fn state_error(&self) -> f64;
}

/// Which solver to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Solver {
    /// Dense for small chains, Chebyshev beyond.
    Auto,
    /// Full eigendecomposition.
    Dense,
    /// Matrix-free Chebyshev propagation.
    Chebyshev,
    /// Exact propagation in the `N + 1` symmetric (Dicke) states, for permutation-symmetric
    /// couplings (all `g_ij` equal: `p = 0`).
    Dicke,
    /// Classical mean-field (Bloch vector) model.
    MeanField,
    /// First-order weak-coupling formula, Eq. 18.
    WeakCoupling,
}

impl Solver {
    /// Every solver, for help texts.
    pub const ALL: [Solver; 6] =
        [Solver::Auto, Solver::Dense, Solver::Chebyshev, Solver::Dicke, Solver::MeanField, Solver::WeakCoupling];

    /// The name used on the command line and in records.
    pub fn as_str(&self) -> &'static str {
        match self {
            Solver::Auto => "auto",
            Solver::Dense => "dense",
            Solver::Chebyshev => "chebyshev",
            Solver::Dicke => "dicke",
            Solver::MeanField => "mean-field",
            Solver::WeakCoupling => "weak-coupling",
        }
    }

    /// Whether the solver reads the tolerance on `W` (Chebyshev, Dicke, mean field); dense
    /// diagonalisation is exact to rounding and the weak-coupling formula is a closed form.
    /// `Auto` resolves first ([`resolve`]).
    pub fn uses_tolerance(&self) -> bool {
        matches!(self, Solver::Chebyshev | Solver::Dicke | Solver::MeanField)
    }

    /// Whether the solver is exact quantum dynamics (up to its tolerance).
    pub fn is_exact(&self) -> bool {
        matches!(self, Solver::Auto | Solver::Dense | Solver::Chebyshev | Solver::Dicke)
    }
}

impl fmt::Display for Solver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Solver {
    type Err = SpinbatError;
    fn from_str(s: &str) -> Result<Self> {
        Solver::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| SpinbatError::InvalidParameter {
            name: "solver",
            value: s.to_string(),
            reason: format!("unknown solver; choose one of {}", Solver::ALL.map(|s| s.as_str()).join(", ")),
        })
    }
}

/// Floating-point precision of the states of the Chebyshev solver. `Single` (`f32`) halves
/// memory and memory traffic for the largest chains; its error estimate adds `4u ≈ 2.4·10⁻⁷`
/// per Chebyshev term (a state error of `~10⁻⁵` for a hundred terms, `|ΔW| ≤ 2‖H0‖` times
/// that), against `~10⁻¹⁴` in double. Observables are summed in double either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Precision {
    /// `f64` states (the default).
    #[default]
    Double,
    /// `f32` states (Chebyshev only).
    Single,
}

impl Precision {
    /// `"double"` or `"single"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Precision::Double => "double",
            Precision::Single => "single",
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Precision {
    type Err = SpinbatError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "double" | "f64" => Ok(Precision::Double),
            "single" | "f32" => Ok(Precision::Single),
            other => Err(crate::error::invalid("precision", other, "choose double or single")),
        }
    }
}

/// Largest `N` for which `auto` picks the dense solver.
pub const AUTO_DENSE_MAX_SITES: usize = 10;

/// Default absolute tolerance on `W` (units of `B`).
pub const DEFAULT_TOL: f64 = 1e-10;

/// Resolves `Auto` to the cheapest exact solver for the chain: Dicke for
/// permutation-symmetric couplings (`N + 1` states), dense for `N ≤ 10`, Chebyshev beyond.
pub fn resolve(chain: &Chain, solver: Solver) -> Solver {
    match solver {
        Solver::Auto if dicke::is_permutation_symmetric(chain) && chain.n_sites() > 1 => Solver::Dicke,
        Solver::Auto if chain.n_sites() <= AUTO_DENSE_MAX_SITES => Solver::Dense,
        Solver::Auto => Solver::Chebyshev,
        s => s,
    }
}

/// Builds the propagator for `chain`, checking the memory it needs first.
///
/// `tol` is the absolute tolerance on `W` (Chebyshev, mean field); it must be in `(0, 1)`.
///
/// # Errors
/// [`SpinbatError::TooLarge`] when the estimate of [`memory::bytes_needed`] exceeds what
/// the machine has; [`SpinbatError::InvalidParameter`] for a bad `tol`.
pub fn plan(chain: &Chain, solver: Solver, tol: f64) -> Result<Box<dyn Propagator>> {
    check_tol(tol)?;
    let solver = resolve(chain, solver);
    memory::check(chain, solver)?;
    Ok(match solver {
        Solver::Dense => Box::new(Dense::new(chain)?),
        Solver::Chebyshev => chebyshev::plan(chain, tol)?,
        Solver::Dicke => Box::new(dicke::Dicke::new(chain, tol)?),
        Solver::MeanField => Box::new(crate::meanfield::MeanField::new(chain, tol)?),
        Solver::WeakCoupling => Box::new(crate::analytic::WeakCoupling::new(chain)),
        Solver::Auto => unreachable!("resolved above"),
    })
}

/// [`plan`] in the given precision. Single precision runs the Chebyshev solver with `f32`
/// states (`auto` then means Chebyshev, whatever the size); other solvers are double only.
///
/// # Errors
/// As [`plan`]; [`SpinbatError::InvalidParameter`] for single precision with a solver other
/// than `auto` or `chebyshev`.
pub fn plan_with(chain: &Chain, solver: Solver, tol: f64, precision: Precision) -> Result<Box<dyn Propagator>> {
    match precision {
        Precision::Double => plan(chain, solver, tol),
        Precision::Single => {
            check_tol(tol)?;
            if !matches!(solver, Solver::Auto | Solver::Chebyshev) {
                return Err(crate::error::invalid(
                    "precision",
                    "single",
                    format!("single precision is implemented for the chebyshev solver, not {solver}"),
                ));
            }
            memory::check_with(chain, Solver::Chebyshev, Precision::Single)?;
            chebyshev::plan_in::<f32>(chain, tol)
        }
    }
}

/// Checks that the tolerance on `W` is a number in `(0, 1)`.
fn check_tol(tol: f64) -> Result<()> {
    if tol.is_finite() && tol > 0.0 && tol < 1.0 {
        Ok(())
    } else {
        Err(crate::error::invalid("tol", tol, "must be a number in (0, 1)"))
    }
}

/// Checks that `times` are finite, `≥ 0` and sorted ascending.
pub fn check_times(times: &[f64]) -> Result<()> {
    for (k, &t) in times.iter().enumerate() {
        if !t.is_finite() || t < 0.0 {
            return Err(SpinbatError::InvalidTimes {
                reason: format!("time #{} = {t} must be finite and >= 0", k + 1),
            });
        }
        if k > 0 && t < times[k - 1] {
            return Err(SpinbatError::InvalidTimes {
                reason: format!("times must be sorted ascending, but {} comes after {}", t, times[k - 1]),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_solver_name_parses_back() {
        for s in
            [Solver::Auto, Solver::Dense, Solver::Chebyshev, Solver::Dicke, Solver::MeanField, Solver::WeakCoupling]
        {
            assert!(Solver::ALL.contains(&s), "{s} missing from Solver::ALL");
            assert_eq!(s.as_str().parse::<Solver>(), Ok(s));
        }
        assert!("magic".parse::<Solver>().is_err());
    }
}
