//! [`ChainSpec`]: a chain as data, the one specification every front end parses into.
//!
//! The CLI's model flags, a study file's `[model]` table and Python's `spinbat.Chain(...)`
//! all become a `ChainSpec`; its [`Default`] is [`super::defaults`], [`ChainSpec::problems`]
//! lists every parameter the library refuses and [`ChainSpec::build`] makes the validated
//! [`Chain`]. The keys are those of study files (`n`, `b`, `g`, `alpha`, `omega`,
//! `coupling`, `p`, `matrix`, `boundary`, `gamma`, `keep_field`, `omega_sites`), so a `[model]` table deserialises into it as is.

use super::couplings::check_p;
use super::{
    check_alpha, check_b, check_g, check_gamma, check_n_sites, check_omega, check_omega_sites, defaults, parse_matrix,
    Boundary, Chain, CouplingKind, Couplings,
};
use crate::error::{invalid, Result, SpinbatError};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A spin chain as plain data (serde): the parameters of
/// `H0 = B Σ_i Z_i − Σ_{i<j} g_ij [Z_i Z_j + α (X_i X_j + Y_i Y_j)]` and of the charging
/// field `V = ω Σ_i X_i`, before validation.
///
/// Every field is optional in a document (`#[serde(default)]`: absent keys take
/// [`super::defaults`]); an unknown key is refused (`deny_unknown_fields`). An empty
/// document is [`ChainSpec::default`], which builds the same chain as
/// `Chain::builder(defaults::N_SITES).build()`.
///
/// ```
/// use spinbat::{ChainSpec, CouplingKind};
/// let spec = ChainSpec { n: 6, coupling: Some(CouplingKind::NearestNeighbour), ..ChainSpec::default() };
/// let chain = spec.build(std::path::Path::new(""))?;
/// assert_eq!(chain.total_coupling(), 5.0); // G = (N − 1) g
/// # Ok::<(), spinbat::SpinbatError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChainSpec {
    /// Number of sites `N ≥ 1` (errors name it `n_sites`, as [`Chain::n_sites`]).
    pub n: usize,
    /// Storage field `B > 0` (single-spin level splitting `2B`; the unit of energy).
    pub b: f64,
    /// Coupling scale `g ≥ 0`: multiplies every pattern, `g_ij = g·f(d_ij)` or `g·M_ij`.
    pub g: f64,
    /// Anisotropy `α` (finite; 0 Ising, 1 XXX).
    pub alpha: f64,
    /// Transverse charging field `ω > 0`.
    pub omega: f64,
    /// The coupling pattern's name (`nn`, `power-law`, `matrix`). `None`: a power law
    /// ([`defaults::COUPLINGS`]), or the matrix when [`ChainSpec::matrix`] is given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coupling: Option<CouplingKind>,
    /// Power-law exponent `p ≥ 0` of `g_ij = g/d_ij^p` (`p = 0`: all-to-all); checked
    /// whatever the pattern, used by the power law only.
    pub p: f64,
    /// An explicit coupling matrix `M` (`g_ij = g·M_ij`, symmetric, zero diagonal): a file
    /// or the rows themselves. Needs `coupling` to be `matrix` or absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matrix: Option<MatrixSpec>,
    /// Boundary condition (`open` or `periodic`): it sets the distance `d_ij`; ignored for
    /// an explicit matrix.
    pub boundary: Boundary,
    /// XYZ anisotropy `γ` (finite; 0, the default, is the XXZ chain):
    /// `H_g = −Σ g_ij [Z_iZ_j + α((1+γ) X_iX_j + (1−γ) Y_iY_j)]`. Written only when set.
    #[serde(skip_serializing_if = "is_zero")]
    pub gamma: f64,
    /// Keep the storage field on while charging, `H = H0 + V` (default `false`: `H_g + V`).
    /// Written only when set.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub keep_field: bool,
    /// Per-site multipliers `w_i` of the charging field, `V = ω Σ_i w_i X_i` (`N` finite
    /// numbers, not all zero; absent: every `w_i = 1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub omega_sites: Option<Vec<f64>>,
}

/// Where an explicit coupling matrix comes from: in TOML and JSON a string is a file, an
/// array of rows the matrix itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MatrixSpec {
    /// A text file of `N` rows of `N` numbers ([`parse_matrix`]: spaces or commas, `#`
    /// comments); a relative path is relative to the `base_dir` of [`ChainSpec::build`].
    File(PathBuf),
    /// The rows of `M`.
    Rows(Vec<Vec<f64>>),
}

/// Whether `v` is zero (serde: a default `γ` is not written).
fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

impl Default for ChainSpec {
    /// [`super::defaults`]: `N = 8`, `B = 1`, `g = 1`, `α = 0`, `ω = 4`, power law `p = 1`,
    /// open boundary.
    fn default() -> Self {
        ChainSpec {
            n: defaults::N_SITES,
            b: defaults::B,
            g: defaults::G,
            alpha: defaults::ALPHA,
            omega: defaults::OMEGA,
            coupling: None,
            p: defaults::P,
            matrix: None,
            boundary: defaults::BOUNDARY,
            gamma: defaults::GAMMA,
            keep_field: false,
            omega_sites: None,
        }
    }
}

impl MatrixSpec {
    /// The matrix's rows: read and parsed from the file (relative to `base_dir`), or as given.
    ///
    /// # Errors
    /// [`SpinbatError::InvalidParameter`] named `matrix` when the file cannot be read;
    /// [`SpinbatError::InvalidMatrix`] when its text is not numbers (naming the file and line).
    /// Shape and symmetry are checked by [`ChainSpec::build`].
    pub fn rows(&self, base_dir: &Path) -> Result<Vec<Vec<f64>>> {
        match self {
            MatrixSpec::Rows(m) => Ok(m.clone()),
            MatrixSpec::File(file) => {
                let path = base_dir.join(file);
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| invalid("matrix", path.display(), format!("reading coupling matrix failed: {e}")))?;
                parse_matrix(&text).map_err(|e| match e {
                    SpinbatError::InvalidMatrix { reason } => {
                        SpinbatError::InvalidMatrix { reason: format!("in {}: {reason}", path.display()) }
                    }
                    other => other,
                })
            }
        }
    }

    /// The file as given, or `N x N rows` (for messages).
    fn describe(&self) -> String {
        match self {
            MatrixSpec::File(f) => f.display().to_string(),
            MatrixSpec::Rows(m) => format!("{} x {} rows", m.len(), m.first().map_or(0, Vec::len)),
        }
    }
}

impl ChainSpec {
    /// The keys of a spec, in the order of the struct (and of help texts): what a study
    /// file's `[model]` table may hold.
    pub const KEYS: [&'static str; 12] =
        ["n", "b", "g", "alpha", "omega", "coupling", "p", "matrix", "boundary", "gamma", "keep_field", "omega_sites"];

    /// The coupling pattern's name this spec resolves to: [`ChainSpec::coupling`] when
    /// given, else `matrix` with a matrix and the default (power law) without.
    pub fn coupling_kind(&self) -> CouplingKind {
        match (self.coupling, &self.matrix) {
            (Some(k), _) => k,
            (None, Some(_)) => CouplingKind::Matrix,
            (None, None) => defaults::COUPLINGS.kind(),
        }
    }

    /// Every parameter the library refuses, each checked on its own, in the order of the
    /// fields: `N` (`n_sites`), `B`, `g`, `α`, `ω`, `p`, `γ`, the `ω` weights (the rules of
    /// [`super::ChainBuilder::build`]), then the pairing of `coupling` and `matrix`. Empty
    /// when only the matrix itself (read by [`ChainSpec::build`]) may still be refused.
    ///
    /// For front ends that report all problems at once (study files); each error is a
    /// [`SpinbatError::InvalidParameter`] whose `name` is the field (`n_sites` for `n`):
    /// `coupling` for `coupling = "matrix"` without a matrix, `matrix` for a matrix with
    /// another pattern.
    pub fn problems(&self) -> Vec<SpinbatError> {
        let checks = [
            check_n_sites(self.n),
            check_b(self.b),
            check_g(self.g),
            check_alpha(self.alpha),
            check_omega(self.omega),
            check_p(self.p),
            check_gamma(self.gamma),
            self.omega_sites.as_ref().map_or(Ok(()), |w| check_omega_sites(w, self.n)),
        ];
        let mut out: Vec<SpinbatError> = checks.into_iter().filter_map(|c| c.err()).collect();
        match (self.coupling, &self.matrix) {
            (Some(CouplingKind::Matrix), None) => {
                out.push(invalid("coupling", "matrix", "needs a coupling matrix (matrix: a file or N x N rows)"))
            }
            (Some(k), Some(m)) if k != CouplingKind::Matrix => out.push(invalid(
                "matrix",
                m.describe(),
                format!("is given but coupling is \"{k}\", not \"matrix\"; drop one of them"),
            )),
            _ => {}
        }
        out
    }

    /// The coupling pattern: nearest neighbour, power law `g/d^p`, or the matrix (read from
    /// its file, relative to `base_dir`).
    ///
    /// # Errors
    /// Those of [`MatrixSpec::rows`]; `coupling = "matrix"` without a matrix, or a matrix
    /// with another pattern ([`ChainSpec::problems`]).
    pub fn couplings(&self, base_dir: &Path) -> Result<Couplings> {
        match (self.coupling_kind(), &self.matrix) {
            (CouplingKind::NearestNeighbour, None) => Ok(Couplings::NearestNeighbour),
            (CouplingKind::PowerLaw, None) => Ok(Couplings::PowerLaw { p: self.p }),
            (CouplingKind::Matrix, Some(m)) => Ok(Couplings::Matrix { m: m.rows(base_dir)? }),
            _ => Err(self.problems().pop().unwrap_or_else(|| invalid("coupling", self.coupling_kind(), "unusable"))),
        }
    }

    /// The validated chain; a matrix file is read relative to `base_dir` (`""`: the
    /// working folder).
    ///
    /// # Errors
    /// The first of [`ChainSpec::problems`] ([`SpinbatError::InvalidParameter`] naming the
    /// field), then those of [`ChainSpec::couplings`] and of
    /// [`super::ChainBuilder::build`] ([`SpinbatError::InvalidMatrix`] for a matrix of the
    /// wrong shape, asymmetric, with a non-zero diagonal or a non-finite entry).
    pub fn build(&self, base_dir: &Path) -> Result<Chain> {
        if let Some(e) = self.problems().into_iter().next() {
            return Err(e);
        }
        let builder = Chain::builder(self.n)
            .b(self.b)
            .g(self.g)
            .alpha(self.alpha)
            .omega(self.omega)
            .couplings(self.couplings(base_dir)?)
            .boundary(self.boundary)
            .gamma(self.gamma)
            .keep_field(self.keep_field);
        match &self.omega_sites {
            Some(w) => builder.omega_sites(w.clone()),
            None => builder,
        }
        .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn here() -> &'static Path {
        Path::new("")
    }

    fn full() -> ChainSpec {
        ChainSpec {
            n: 5,
            b: 1.5,
            g: 0.25,
            alpha: -0.5,
            omega: 3.0,
            coupling: Some(CouplingKind::PowerLaw),
            p: 1.5,
            matrix: None,
            boundary: Boundary::Periodic,
            gamma: 0.25,
            keep_field: true,
            omega_sites: Some(vec![1.0, 0.0, 0.5, 0.0, 1.0]),
        }
    }

    fn with_rows() -> ChainSpec {
        let m = vec![vec![0.0, 1.0, 0.5], vec![1.0, 0.0, 2.0], vec![0.5, 2.0, 0.0]];
        ChainSpec { n: 3, matrix: Some(MatrixSpec::Rows(m)), ..ChainSpec::default() }
    }

    #[test]
    fn a_spec_round_trips_through_toml_and_json() {
        let file = ChainSpec { matrix: Some(MatrixSpec::File("m.txt".into())), coupling: None, ..full() };
        for spec in [ChainSpec::default(), full(), with_rows(), file] {
            let toml = toml_edit::ser::to_string(&spec).unwrap();
            assert_eq!(toml_edit::de::from_str::<ChainSpec>(&toml).unwrap(), spec, "{toml}");
            let json = serde_json::to_string(&spec).unwrap();
            assert_eq!(serde_json::from_str::<ChainSpec>(&json).unwrap(), spec, "{json}");
        }
        // the keys are those of study files, the names those of --coupling and --boundary
        let toml = toml_edit::ser::to_string(&full()).unwrap();
        for line in ["n = 5", "alpha = -0.5", "coupling = \"power-law\"", "boundary = \"periodic\""] {
            assert!(toml.lines().any(|l| l == line), "no {line} in\n{toml}");
        }
        let json: serde_json::Value = serde_json::to_value(with_rows()).unwrap();
        let mut keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["alpha", "b", "boundary", "g", "matrix", "n", "omega", "p"]);
        // every name and alias parses, ignoring case
        let spec: ChainSpec = toml_edit::de::from_str("coupling = \"Nearest-Neighbour\"\nboundary = \"OPEN\"").unwrap();
        assert_eq!(spec.coupling, Some(CouplingKind::NearestNeighbour));
    }

    #[test]
    fn an_empty_spec_is_the_defaults_and_builds_the_default_chain() {
        let empty: ChainSpec = toml_edit::de::from_str("").unwrap();
        assert_eq!(empty, ChainSpec::default());
        assert_eq!(serde_json::from_str::<ChainSpec>("{}").unwrap(), empty);
        assert_eq!(empty.coupling_kind(), defaults::COUPLINGS.kind());
        let built = empty.build(here()).unwrap();
        assert_eq!(built, Chain::builder(defaults::N_SITES).build().unwrap());
        assert_eq!(built.couplings(), &defaults::COUPLINGS);
        // a partial document keeps the defaults of the other keys
        let spec: ChainSpec = toml_edit::de::from_str("n = 3\ncoupling = \"nn\"").unwrap();
        let chain = Chain::builder(3).couplings(Couplings::NearestNeighbour).build().unwrap();
        assert_eq!(spec.build(here()).unwrap(), chain);
    }

    #[test]
    fn an_unknown_key_is_refused_by_name() {
        let err = toml_edit::de::from_str::<ChainSpec>("n = 3\nalpah = 0.5").unwrap_err().to_string();
        assert!(err.contains("alpah"), "{err}");
        let err = serde_json::from_str::<ChainSpec>(r#"{"n": 3, "omgea": 1}"#).unwrap_err().to_string();
        assert!(err.contains("omgea") && err.contains("omega"), "{err}");
        let err = toml_edit::de::from_str::<ChainSpec>("coupling = \"star\"").unwrap_err().to_string();
        assert!(err.contains("choose one of nn, power-law, matrix"), "{err}");
    }

    /// The `name` of an [`SpinbatError::InvalidParameter`], else panics.
    fn name(e: &SpinbatError) -> &'static str {
        match e {
            SpinbatError::InvalidParameter { name, .. } => name,
            other => panic!("not a typed parameter error: {other:?}"),
        }
    }

    #[test]
    fn bad_values_give_typed_errors_naming_the_field() {
        for (spec, field) in [
            (ChainSpec { n: 0, ..ChainSpec::default() }, "n_sites"),
            (ChainSpec { b: 0.0, ..ChainSpec::default() }, "b"),
            (ChainSpec { g: f64::NAN, ..ChainSpec::default() }, "g"),
            (ChainSpec { g: -1.0, ..ChainSpec::default() }, "g"),
            (ChainSpec { alpha: f64::INFINITY, ..ChainSpec::default() }, "alpha"),
            (ChainSpec { omega: -4.0, ..ChainSpec::default() }, "omega"),
            (ChainSpec { p: -0.5, ..ChainSpec::default() }, "p"),
            (ChainSpec { coupling: Some(CouplingKind::Matrix), ..ChainSpec::default() }, "coupling"),
            (ChainSpec { coupling: Some(CouplingKind::NearestNeighbour), ..with_rows() }, "matrix"),
            (
                ChainSpec { matrix: Some(MatrixSpec::File("/nonexistent/m.txt".into())), ..ChainSpec::default() },
                "matrix",
            ),
        ] {
            let err = spec.build(here()).unwrap_err();
            assert_eq!(name(&err), field, "{spec:?}: {err}");
            let problems = spec.problems();
            if field != "matrix" || spec.coupling.is_some() {
                assert_eq!(problems.iter().map(name).collect::<Vec<_>>(), [field], "{spec:?}");
                assert_eq!(problems[0], err, "build refuses with the first problem");
            }
        }
        // every problem at once, in the order of the fields
        let bad = ChainSpec { n: 0, g: f64::NAN, p: -1.0, ..ChainSpec::default() };
        assert_eq!(bad.problems().iter().map(name).collect::<Vec<_>>(), ["n_sites", "g", "p"]);
        assert!(ChainSpec::default().problems().is_empty());
        // a malformed matrix is the builder's InvalidMatrix
        let asym = vec![vec![0.0, 1.0], vec![2.0, 0.0]];
        let err = ChainSpec { n: 2, matrix: Some(MatrixSpec::Rows(asym)), ..ChainSpec::default() }.build(here());
        assert!(matches!(err, Err(SpinbatError::InvalidMatrix { .. })), "{err:?}");
    }

    #[test]
    fn a_matrix_file_is_read_relative_to_the_base_folder() {
        let dir = std::env::temp_dir().join(format!("spinbat-spec-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("m.txt"), "0 1 0.5\n1 0 2 # row 2\n0.5, 2, 0\n").unwrap();
        std::fs::write(dir.join("bad.txt"), "0 x\nx 0\n").unwrap();
        let from_file = ChainSpec { n: 3, matrix: Some(MatrixSpec::File("m.txt".into())), ..ChainSpec::default() };
        assert_eq!(from_file.build(&dir).unwrap(), with_rows().build(here()).unwrap());
        let bad = ChainSpec { n: 2, matrix: Some(MatrixSpec::File("bad.txt".into())), ..ChainSpec::default() };
        match bad.build(&dir) {
            Err(SpinbatError::InvalidMatrix { reason }) => {
                assert!(reason.contains("bad.txt: line 1: 'x' is not a number"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
