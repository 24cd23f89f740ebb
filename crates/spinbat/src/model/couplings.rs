//! Coupling patterns `g_ij` and boundary conditions.

use crate::error::{invalid, Result, SpinbatError};
use serde::Serialize;

/// How the couplings `g_ij` are laid out.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Couplings {
    /// `g_ij = g` for `|i − j| = 1` (and across the ends when periodic).
    NearestNeighbour,
    /// `g_ij = g / d_ij^p`, `p ≥ 0`; `p = 0` is uniform all-to-all.
    PowerLaw {
        /// The exponent `p ≥ 0`.
        p: f64,
    },
    /// `g_ij = g · M_ij` for an explicit symmetric `N × N` matrix `M` with zero diagonal.
    Matrix {
        /// The rows of `M`.
        m: Vec<Vec<f64>>,
    },
}

/// Boundary condition: it sets the distance `d_ij` used by the patterns above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Boundary {
    /// `d_ij = |i − j|`.
    Open,
    /// `d_ij = min(|i − j|, N − |i − j|)` (a ring).
    Periodic,
}

impl Couplings {
    /// Checks the pattern for `n` sites; for an explicit matrix, returns `g·M` row-major.
    pub(crate) fn validate(&self, n: usize, g: f64) -> Result<Option<Vec<f64>>> {
        match self {
            Couplings::NearestNeighbour => Ok(None),
            Couplings::PowerLaw { p } => {
                let p = *p;
                if !p.is_finite() || p < 0.0 {
                    return Err(invalid("p", p, "the power-law exponent must be finite and >= 0"));
                }
                Ok(None)
            }
            Couplings::Matrix { m } => {
                let bad = |reason: String| Err(SpinbatError::InvalidMatrix { reason });
                if m.len() != n {
                    return bad(format!("has {} rows but the chain has N = {n} sites", m.len()));
                }
                for (i, row) in m.iter().enumerate() {
                    if row.len() != n {
                        return bad(format!("row {} has {} entries, expected {n}", i + 1, row.len()));
                    }
                    for (j, &v) in row.iter().enumerate() {
                        if !v.is_finite() {
                            return bad(format!("entry ({}, {}) = {v} is not finite", i + 1, j + 1));
                        }
                    }
                }
                let mut out = vec![0.0; n * n];
                for i in 0..n {
                    if m[i][i] != 0.0 {
                        return bad(format!(
                            "diagonal entry ({0}, {0}) = {1} must be 0 (a site does not couple to itself)",
                            i + 1,
                            m[i][i]
                        ));
                    }
                    for j in 0..i {
                        let tol = 1e-12 * m[i][j].abs().max(m[j][i].abs()).max(1.0);
                        if (m[i][j] - m[j][i]).abs() > tol {
                            return bad(format!(
                                "not symmetric: ({}, {}) = {} but ({}, {}) = {}",
                                i + 1,
                                j + 1,
                                m[i][j],
                                j + 1,
                                i + 1,
                                m[j][i]
                            ));
                        }
                        let v = g * 0.5 * (m[i][j] + m[j][i]);
                        out[i * n + j] = v;
                        out[j * n + i] = v;
                    }
                }
                Ok(Some(out))
            }
        }
    }

    /// `g_ij` for the distance-based patterns as a function of the distance `d ≥ 1`
    /// (already reduced by the boundary); `None` for an explicit matrix.
    pub(crate) fn at_distance(&self, g: f64, d: usize) -> Option<f64> {
        match self {
            Couplings::NearestNeighbour => Some(if d == 1 { g } else { 0.0 }),
            Couplings::PowerLaw { p } => Some(g / (d as f64).powf(*p)),
            Couplings::Matrix { .. } => None,
        }
    }
}
