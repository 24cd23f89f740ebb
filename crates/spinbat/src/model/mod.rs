//! The spin chain: sites, fields and couplings of the battery Hamiltonians
//!
//! * storage Hamiltonian `H0 = B Σ_i Z_i − Σ_{i<j} g_ij [Z_i Z_j + α (X_i X_j + Y_i Y_j)]`
//! * charging Hamiltonian `H = H_g + V`, `V = ω Σ_i X_i` (the field `B` is off while charging)
//!
//! A [`Chain`] is built by [`ChainBuilder`], which validates every parameter before
//! anything is allocated, and expands the couplings into the `N × N` matrix `g_ij`.

mod couplings;
mod matrix_file;

pub use couplings::{Boundary, Couplings};
pub use matrix_file::parse_matrix;

use crate::error::{invalid, Result};
use serde::Serialize;

/// Largest chain the library accepts at all (basis indices are `u64`); what fits in
/// memory is decided later, per solver, by [`crate::propagate::memory`].
pub const MAX_SITES: usize = 60;

/// A validated spin chain with its coupling matrix `g_ij` (units of `B`, `ħ = 1`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chain {
    n_sites: usize,
    b: f64,
    g: f64,
    alpha: f64,
    omega: f64,
    couplings: Couplings,
    boundary: Boundary,
    #[serde(skip)]
    g_matrix: Vec<f64>,
}

impl Chain {
    /// Starts a builder with the defaults of spinbat: `B = 1`, `g = 1`, `α = 0`, `ω = 4`,
    /// power law `p = 1`, open boundary.
    pub fn builder(n_sites: usize) -> ChainBuilder {
        ChainBuilder {
            n_sites,
            b: 1.0,
            g: 1.0,
            alpha: 0.0,
            omega: 4.0,
            couplings: Couplings::PowerLaw { p: 1.0 },
            boundary: Boundary::Open,
        }
    }

    /// Number of sites `N`.
    pub fn n_sites(&self) -> usize {
        self.n_sites
    }
    /// Storage field `B`.
    pub fn b(&self) -> f64 {
        self.b
    }
    /// Coupling scale `g`.
    pub fn g(&self) -> f64 {
        self.g
    }
    /// Anisotropy `α` (0 Ising, 1 XXX).
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
    /// Charging field `ω`.
    pub fn omega(&self) -> f64 {
        self.omega
    }
    /// The coupling pattern.
    pub fn couplings(&self) -> &Couplings {
        &self.couplings
    }
    /// Open or periodic boundary.
    pub fn boundary(&self) -> Boundary {
        self.boundary
    }

    /// Coupling `g_ij` between sites `i` and `j` (0-based; `g_ii = 0`).
    pub fn coupling(&self, i: usize, j: usize) -> f64 {
        self.g_matrix[i * self.n_sites + j]
    }

    /// All pairs `(i, j, g_ij)` with `i < j` and `g_ij ≠ 0`.
    pub fn pairs(&self) -> Vec<(usize, usize, f64)> {
        let n = self.n_sites;
        let mut out = Vec::new();
        for i in 0..n {
            for j in i + 1..n {
                let gij = self.coupling(i, j);
                if gij != 0.0 {
                    out.push((i, j, gij));
                }
            }
        }
        out
    }

    /// Total coupling `G = Σ_{i<j} g_ij` (paper, Eq. 18).
    pub fn total_coupling(&self) -> f64 {
        self.pairs().iter().map(|p| p.2).sum()
    }

    /// Energy of the all-down initial state, `E_0 = −N B − Σ_{i<j} g_ij`.
    pub fn initial_energy(&self) -> f64 {
        -(self.n_sites as f64) * self.b - self.total_coupling()
    }

    /// Rigorous bound on the deposited work, `W(t) ≤ N (2|B| + |ω|)` (physics.md): energy
    /// conservation gives `W = ⟨H_B⟩ + N B − ⟨V⟩`.
    pub fn work_bound(&self) -> f64 {
        self.n_sites as f64 * (2.0 * self.b.abs() + self.omega.abs())
    }

    /// A copy with a different anisotropy (used by studies and tests).
    pub fn with_alpha(&self, alpha: f64) -> Result<Chain> {
        self.to_builder().alpha(alpha).build()
    }

    /// The builder that reproduces this chain.
    pub fn to_builder(&self) -> ChainBuilder {
        ChainBuilder {
            n_sites: self.n_sites,
            b: self.b,
            g: self.g,
            alpha: self.alpha,
            omega: self.omega,
            couplings: self.couplings.clone(),
            boundary: self.boundary,
        }
    }
}

/// Validating builder for [`Chain`].
#[derive(Debug, Clone)]
pub struct ChainBuilder {
    n_sites: usize,
    b: f64,
    g: f64,
    alpha: f64,
    omega: f64,
    couplings: Couplings,
    boundary: Boundary,
}

impl ChainBuilder {
    /// Storage field `B > 0`.
    pub fn b(mut self, b: f64) -> Self {
        self.b = b;
        self
    }
    /// Coupling scale `g ≥ 0` (multiplies every pattern, the explicit matrix included).
    pub fn g(mut self, g: f64) -> Self {
        self.g = g;
        self
    }
    /// Anisotropy `α` (any finite value; the paper uses `|α| ≤ 1`).
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }
    /// Charging field `ω > 0`.
    pub fn omega(mut self, omega: f64) -> Self {
        self.omega = omega;
        self
    }
    /// Coupling pattern.
    pub fn couplings(mut self, couplings: Couplings) -> Self {
        self.couplings = couplings;
        self
    }
    /// Boundary condition (ignored for an explicit matrix).
    pub fn boundary(mut self, boundary: Boundary) -> Self {
        self.boundary = boundary;
        self
    }

    /// Validates the parameters and expands the couplings.
    ///
    /// # Errors
    /// [`crate::SpinbatError::InvalidParameter`] for `N = 0`, `N > MAX_SITES`, non-finite
    /// values, `B ≤ 0`, `ω ≤ 0`, `g < 0`, `p < 0`; [`crate::SpinbatError::InvalidMatrix`]
    /// for a matrix of the wrong shape, asymmetric, with a non-zero diagonal or non-finite.
    pub fn build(self) -> Result<Chain> {
        let n = self.n_sites;
        if n == 0 {
            return Err(invalid("n_sites", n, "a chain needs at least one site"));
        }
        if n > MAX_SITES {
            return Err(invalid(
                "n_sites",
                n,
                format!("at most {MAX_SITES} sites are supported (the state has 2^N amplitudes)"),
            ));
        }
        positive("b", self.b)?;
        positive("omega", self.omega)?;
        finite("g", self.g)?;
        if self.g < 0.0 {
            return Err(invalid("g", self.g, "must be >= 0 (attractive couplings, as in the paper)"));
        }
        finite("alpha", self.alpha)?;
        let g_matrix = self.couplings.expand(n, self.g, self.boundary)?;
        Ok(Chain {
            n_sites: n,
            b: self.b,
            g: self.g,
            alpha: self.alpha,
            omega: self.omega,
            couplings: self.couplings,
            boundary: self.boundary,
            g_matrix,
        })
    }
}

pub(crate) fn finite(name: &'static str, v: f64) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(invalid(name, v, "must be a finite number"))
    }
}

fn positive(name: &'static str, v: f64) -> Result<()> {
    finite(name, v)?;
    if v > 0.0 {
        Ok(())
    } else {
        Err(invalid(name, v, "must be > 0"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_neighbour_open_and_periodic() {
        let c = Chain::builder(4).couplings(Couplings::NearestNeighbour).g(2.0).build().unwrap();
        assert_eq!(c.pairs().len(), 3);
        assert_eq!(c.total_coupling(), 6.0);
        let c = c.to_builder().boundary(Boundary::Periodic).build().unwrap();
        assert_eq!(c.pairs().len(), 4);
        assert_eq!(c.coupling(0, 3), 2.0);
    }

    #[test]
    fn power_law_periodic_uses_minimum_image() {
        let c =
            Chain::builder(6).couplings(Couplings::PowerLaw { p: 2.0 }).boundary(Boundary::Periodic).build().unwrap();
        assert_eq!(c.coupling(0, 5), 1.0);
        assert_eq!(c.coupling(0, 4), 0.25);
        assert_eq!(c.coupling(0, 3), 1.0 / 9.0);
    }

    #[test]
    fn bad_parameters_are_rejected() {
        assert!(Chain::builder(0).build().is_err());
        assert!(Chain::builder(3).b(f64::NAN).build().is_err());
        assert!(Chain::builder(3).omega(-1.0).build().is_err());
        assert!(Chain::builder(3).g(-1.0).build().is_err());
        assert!(Chain::builder(3).couplings(Couplings::PowerLaw { p: -0.5 }).build().is_err());
        assert!(Chain::builder(3).alpha(f64::INFINITY).build().is_err());
    }
}
