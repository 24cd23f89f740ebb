//! Coupling patterns `g_ij` and boundary conditions.

use crate::error::{invalid, Result, SpinbatError};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

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

/// The name of a coupling pattern without its parameters: what `--coupling`, study files
/// and Python's `coupling=` spell (`nn`, `power-law`, `matrix`; `nearest-neighbour` too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CouplingKind {
    /// [`Couplings::NearestNeighbour`].
    NearestNeighbour,
    /// [`Couplings::PowerLaw`].
    PowerLaw,
    /// [`Couplings::Matrix`].
    Matrix,
}

impl CouplingKind {
    /// Every kind, in the order help texts list them.
    pub const ALL: [CouplingKind; 3] = [CouplingKind::NearestNeighbour, CouplingKind::PowerLaw, CouplingKind::Matrix];

    /// The short name: `nn`, `power-law`, `matrix`.
    pub fn as_str(self) -> &'static str {
        match self {
            CouplingKind::NearestNeighbour => "nn",
            CouplingKind::PowerLaw => "power-law",
            CouplingKind::Matrix => "matrix",
        }
    }

    /// The name records and Python report: `nearest-neighbour`, `power-law`, `matrix`.
    pub fn long_name(self) -> &'static str {
        match self {
            CouplingKind::NearestNeighbour => "nearest-neighbour",
            other => other.as_str(),
        }
    }

    /// Other spellings accepted when parsing.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            CouplingKind::NearestNeighbour => &["nearest-neighbour", "nearest-neighbor"],
            _ => &[],
        }
    }
}

impl std::fmt::Display for CouplingKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for CouplingKind {
    type Err = SpinbatError;
    /// Any name or alias, ignoring ASCII case.
    fn from_str(s: &str) -> Result<Self> {
        let lower = s.to_ascii_lowercase();
        CouplingKind::ALL
            .into_iter()
            .find(|k| k.as_str() == lower || k.aliases().contains(&lower.as_str()))
            .ok_or_else(|| invalid("coupling", s, "unknown coupling; choose one of nn, power-law, matrix"))
    }
}

/// Serialised as its short name ([`CouplingKind::as_str`]: `nn`, `power-law`, `matrix`), the
/// spelling of `--coupling` and of study files.
impl Serialize for CouplingKind {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Any name or alias [`CouplingKind::from_str`](std::str::FromStr) accepts.
impl<'de> Deserialize<'de> for CouplingKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// `open` or `periodic`, ignoring ASCII case ([`Boundary::from_str`](std::str::FromStr)).
impl<'de> Deserialize<'de> for Boundary {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Boundary {
    /// Both boundaries.
    pub const ALL: [Boundary; 2] = [Boundary::Open, Boundary::Periodic];

    /// `open` or `periodic`.
    pub fn as_str(self) -> &'static str {
        match self {
            Boundary::Open => "open",
            Boundary::Periodic => "periodic",
        }
    }
}

impl std::fmt::Display for Boundary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Boundary {
    type Err = SpinbatError;
    /// `open` or `periodic`, ignoring ASCII case.
    fn from_str(s: &str) -> Result<Self> {
        let lower = s.to_ascii_lowercase();
        Boundary::ALL
            .into_iter()
            .find(|b| b.as_str() == lower)
            .ok_or_else(|| invalid("boundary", s, "unknown boundary; choose one of open, periodic"))
    }
}

/// The power-law exponent alone: finite and `p ≥ 0`.
pub(crate) fn check_p(p: f64) -> Result<()> {
    if !p.is_finite() || p < 0.0 {
        return Err(invalid("p", p, "the power-law exponent must be finite and >= 0"));
    }
    Ok(())
}

impl Couplings {
    /// The pattern's name ([`CouplingKind`]).
    pub fn kind(&self) -> CouplingKind {
        match self {
            Couplings::NearestNeighbour => CouplingKind::NearestNeighbour,
            Couplings::PowerLaw { .. } => CouplingKind::PowerLaw,
            Couplings::Matrix { .. } => CouplingKind::Matrix,
        }
    }

    /// Checks the pattern for `n` sites; for an explicit matrix, returns `g·M` row-major.
    pub(crate) fn validate(&self, n: usize, g: f64) -> Result<Option<Vec<f64>>> {
        match self {
            Couplings::NearestNeighbour => Ok(None),
            Couplings::PowerLaw { p } => {
                check_p(*p)?;
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

#[cfg(test)]
mod name_tests {
    use super::*;

    #[test]
    fn every_name_parses_back_and_unknown_ones_are_typed_errors() {
        for k in CouplingKind::ALL {
            assert_eq!(k.as_str().parse::<CouplingKind>(), Ok(k));
            assert_eq!(k.long_name().parse::<CouplingKind>(), Ok(k));
            assert_eq!(k.as_str().to_uppercase().parse::<CouplingKind>(), Ok(k));
            for a in k.aliases() {
                assert_eq!(a.parse::<CouplingKind>(), Ok(k));
            }
        }
        for b in Boundary::ALL {
            assert_eq!(b.to_string().parse::<Boundary>(), Ok(b));
        }
        // the pattern's kind names the pattern
        assert_eq!(Couplings::PowerLaw { p: 2.0 }.kind(), CouplingKind::PowerLaw);
        assert_eq!(Couplings::Matrix { m: vec![] }.kind().long_name(), "matrix");
        match "ring".parse::<Boundary>() {
            Err(SpinbatError::InvalidParameter { name: "boundary", value, .. }) => assert_eq!(value, "ring"),
            other => panic!("{other:?}"),
        }
        match "Chain".parse::<CouplingKind>() {
            Err(e @ SpinbatError::InvalidParameter { name: "coupling", .. }) => {
                assert!(e.to_string().contains("choose one of nn, power-law, matrix"))
            }
            other => panic!("{other:?}"),
        }
    }
}
