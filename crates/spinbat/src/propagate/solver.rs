//! The names of the solvers and precisions (parsed from and printed as the CLI, study files
//! and Python spell them), and `auto`'s choice among them.

use super::dicke;
use crate::error::{Result, SpinbatError};
use crate::model::Chain;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// Which solver to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Solver {
    /// The cheapest exact solver for the chain ([`resolve`]): Dicke for
    /// permutation-symmetric couplings, dense for `N ≤ 10`, Chebyshev beyond.
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
    /// The density matrix of the open battery under the Lindblad equation (any noise,
    /// [`crate::open::Noise`]; exact up to its tolerance, [`super::DensityMatrix`]).
    DensityMatrix,
    /// Quantum trajectories of the open battery (the jump unravelling, pure states of
    /// `2^N` amplitudes, [`super::Unravelling`]): the mean over trajectories, with its
    /// standard error.
    Trajectories,
    /// A matrix-product state evolved by two-site TDVP ([`super::MpsPropagator`]): chains
    /// beyond exact diagonalisation, accurate to an estimate (bond dimension, discarded
    /// weight, time step); never picked by `auto`.
    Mps,
    /// Free fermions (Jordan–Wigner, Pfaffians; [`super::fermion::FreeFermion`]): exact
    /// `W(t)` of the open nearest-neighbour Ising chain (`α = 0`) up to
    /// [`super::fermion::MAX_SITES`] sites, `O(N⁴)/8` per time, no state vector.
    FreeFermion,
}

impl Solver {
    /// Every solver, for help texts.
    pub const ALL: [Solver; 10] = [
        Solver::Auto,
        Solver::Dense,
        Solver::Chebyshev,
        Solver::Dicke,
        Solver::MeanField,
        Solver::WeakCoupling,
        Solver::DensityMatrix,
        Solver::Trajectories,
        Solver::Mps,
        Solver::FreeFermion,
    ];

    /// The name used on the command line and in records.
    pub fn as_str(&self) -> &'static str {
        match self {
            Solver::Auto => "auto",
            Solver::Dense => "dense",
            Solver::Chebyshev => "chebyshev",
            Solver::Dicke => "dicke",
            Solver::MeanField => "mean-field",
            Solver::WeakCoupling => "weak-coupling",
            Solver::DensityMatrix => "density-matrix",
            Solver::Trajectories => "trajectories",
            Solver::Mps => "mps",
            Solver::FreeFermion => "free-fermion",
        }
    }

    /// Whether the solver reads the tolerance on `W` (Chebyshev, Dicke, mean field, density
    /// matrix, trajectories: each trajectory's); dense diagonalisation is exact to rounding
    /// and the weak-coupling formula is a closed form. `Auto` resolves first ([`resolve`]).
    pub fn uses_tolerance(&self) -> bool {
        matches!(
            self,
            Solver::Chebyshev | Solver::Dicke | Solver::MeanField | Solver::DensityMatrix | Solver::Trajectories
        )
    }

    /// Whether the solver is exact quantum dynamics (up to its tolerance); trajectories are
    /// exact only in the mean over infinitely many (a statistical estimate).
    pub fn is_exact(&self) -> bool {
        matches!(
            self,
            Solver::Auto
                | Solver::Dense
                | Solver::Chebyshev
                | Solver::Dicke
                | Solver::DensityMatrix
                | Solver::FreeFermion
        )
    }

    /// Whether the solver can run the open battery (noise): the density matrix, the
    /// trajectories, and `auto`, which then picks the density matrix ([`resolve_noisy`]).
    pub fn handles_noise(&self) -> bool {
        matches!(self, Solver::Auto | Solver::DensityMatrix | Solver::Trajectories)
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
/// permutation-symmetric couplings (`N + 1` states), dense for `N ≤ 10`, beyond that free
/// fermions for the open nearest-neighbour Ising chain ([`super::fermion::applies`]) and
/// Chebyshev for every other chain.
pub fn resolve(chain: &Chain, solver: Solver) -> Solver {
    match solver {
        Solver::Auto if dicke::is_permutation_symmetric(chain) && chain.gamma() == 0.0 && chain.n_sites() > 1 => {
            Solver::Dicke
        }
        Solver::Auto if chain.n_sites() <= AUTO_DENSE_MAX_SITES => Solver::Dense,
        Solver::Auto if super::fermion::applies(chain) && chain.n_sites() <= super::fermion::MAX_SITES => {
            Solver::FreeFermion
        }
        Solver::Auto => Solver::Chebyshev,
        s => s,
    }
}

/// [`resolve`] for a battery with `noise`: closed (every rate zero) as [`resolve`]; open,
/// `auto` is the density matrix; the trajectories are asked for by name.
///
/// # Errors
/// [`SpinbatError::Unsupported`] for noise with a solver of the closed battery (dense,
/// Chebyshev, Dicke and weak coupling evolve a pure state; the mean field with noise is not
/// implemented).
pub fn resolve_noisy(chain: &Chain, solver: Solver, noise: &crate::open::Noise) -> Result<Solver> {
    if noise.is_closed() {
        return Ok(resolve(chain, solver));
    }
    match solver {
        Solver::Auto | Solver::DensityMatrix => Ok(Solver::DensityMatrix),
        Solver::Trajectories => Ok(Solver::Trajectories),
        other => Err(SpinbatError::Unsupported {
            solver: other.as_str(),
            reason: format!(
                "it simulates the closed battery, but noise is set ({}); use --solver density-matrix (or auto) or \
                 trajectories",
                noise.describe()
            ),
        }),
    }
}

/// The solver that serves requests of the state itself (observables along a trajectory):
/// `auto`, `dicke` and `free-fermion` give dense for `N ≤ 10` in double precision and
/// Chebyshev otherwise (the full state is needed, not the `N + 1` Dicke amplitudes nor the
/// fermions' covariance); dense, Chebyshev and the
/// mean field (its own classical trajectory) as asked.
///
/// # Errors
/// [`SpinbatError::Unsupported`] for the weak-coupling formula (it has no state);
/// [`SpinbatError::InvalidParameter`] for single precision with a solver other than
/// Chebyshev.
pub fn resolve_states(chain: &Chain, solver: Solver, precision: Precision) -> Result<Solver> {
    let solver = match solver {
        Solver::Auto | Solver::Dicke | Solver::FreeFermion
            if precision == Precision::Double && chain.n_sites() <= AUTO_DENSE_MAX_SITES =>
        {
            Solver::Dense
        }
        Solver::Auto | Solver::Dicke | Solver::FreeFermion => Solver::Chebyshev,
        Solver::WeakCoupling => {
            return Err(SpinbatError::Unsupported {
                solver: "weak-coupling",
                reason: "Eq. 18 gives W(t) but no state; observables need dense, chebyshev or mean-field".to_string(),
            })
        }
        s => s,
    };
    if precision == Precision::Single && solver != Solver::Chebyshev {
        return Err(crate::error::invalid(
            "precision",
            "single",
            format!("single precision is implemented for the chebyshev solver, not {solver}"),
        ));
    }
    Ok(solver)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_solver_name_parses_back() {
        for s in Solver::ALL {
            assert!(Solver::ALL.contains(&s), "{s} missing from Solver::ALL");
            assert_eq!(s.as_str().parse::<Solver>(), Ok(s));
        }
        assert!("magic".parse::<Solver>().is_err());
    }
}
