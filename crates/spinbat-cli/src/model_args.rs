//! Model options shared by every subcommand that builds a chain (`charge`, `scan`, ...).

use crate::CliError;
use anyhow::anyhow;
use clap::Args;
use spinbat::model::{defaults, MatrixSpec};
use spinbat::{Boundary, Chain, ChainSpec, CouplingKind, SpinbatError};
use std::path::{Path, PathBuf};

/// `--coupling`: the library's names ([`CouplingKind`]), each with its formula in `--help`.
fn coupling_parser() -> impl clap::builder::TypedValueParser<Value = CouplingKind> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    let help = |k: CouplingKind| match k {
        CouplingKind::NearestNeighbour => "Nearest neighbour: g_ij = g for |i-j| = 1",
        CouplingKind::PowerLaw => "Power law: g_ij = g / d_ij^p (p = 0: all-to-all)",
        CouplingKind::Matrix => "Explicit N x N matrix M from --matrix: g_ij = g * M_ij",
    };
    PossibleValuesParser::new(
        CouplingKind::ALL.map(|k| PossibleValue::new(k.as_str()).aliases(k.aliases().iter().copied()).help(help(k))),
    )
    .try_map(|s| s.parse::<CouplingKind>())
}

/// `--boundary`: `open` or `periodic` ([`Boundary`]).
fn boundary_parser() -> impl clap::builder::TypedValueParser<Value = Boundary> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    let help = |b: Boundary| match b {
        Boundary::Open => "d_ij = |i - j|",
        Boundary::Periodic => "d_ij = min(|i - j|, N - |i - j|) (a ring)",
    };
    PossibleValuesParser::new(Boundary::ALL.map(|b| PossibleValue::new(b.as_str()).help(help(b))))
        .try_map(|s| s.parse::<Boundary>())
}

/// The chain: N, fields, anisotropy and couplings.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// Number of spins N.
    #[arg(long = "n", default_value_t = defaults::N_SITES, value_name = "N")]
    pub n_sites: usize,
    /// Storage field B (> 0): single-spin level splitting 2B.
    #[arg(long, default_value_t = defaults::B, allow_negative_numbers = true)]
    pub b: f64,
    /// Coupling strength g (>= 0): scales every coupling pattern.
    #[arg(long, default_value_t = defaults::G, allow_negative_numbers = true)]
    pub g: f64,
    /// Anisotropy alpha: 0 Ising, 1 XXX (isotropic; charges like independent spins).
    #[arg(long, default_value_t = defaults::ALPHA, allow_negative_numbers = true)]
    pub alpha: f64,
    /// Transverse charging field omega (> 0).
    #[arg(long, default_value_t = defaults::OMEGA, allow_negative_numbers = true)]
    pub omega: f64,
    /// Coupling pattern.
    #[arg(long, value_parser = coupling_parser(), default_value_t = defaults::COUPLINGS.kind())]
    pub coupling: CouplingKind,
    /// Power-law exponent p (>= 0; 0 = all-to-all, large p approaches nearest neighbour).
    #[arg(long, default_value_t = defaults::P, allow_negative_numbers = true)]
    pub p: f64,
    /// File with the N x N coupling matrix (whitespace/comma separated, '#' comments);
    /// implies --coupling matrix.
    #[arg(long, value_name = "FILE")]
    pub matrix: Option<PathBuf>,
    /// Boundary condition (ignored for an explicit matrix).
    #[arg(long, value_parser = boundary_parser(), default_value_t = defaults::BOUNDARY)]
    pub boundary: Boundary,
    /// XYZ anisotropy gamma (finite; 0 = the paper's XXZ chain):
    /// H_g = -sum g_ij [Z_iZ_j + alpha((1+gamma) X_iX_j + (1-gamma) Y_iY_j)]. With
    /// alpha*gamma != 0 the couplings also flip parallel pairs (down-down <-> up-up,
    /// amplitude -2 alpha gamma g_ij): the magnetisation is not conserved and all-down is no
    /// eigenstate of H0. Dense, chebyshev (in the reflection sector or a ring's coupling
    /// orbits where the chain has them, else the full space) and mean-field only.
    #[arg(long, default_value_t = defaults::GAMMA, allow_negative_numbers = true)]
    pub gamma: f64,
    /// Keep the storage field on while charging: H = H0 + V instead of H_g + V. The work is
    /// still W = <H0>_t - E0; energy conservation gives W = -<V>_t <= |omega| sum_i |w_i|.
    /// Dense, chebyshev, dicke and mean-field only.
    #[arg(long)]
    pub keep_field: bool,
    /// Per-site multipliers of the charging field, V = omega sum_i w_i X_i: N finite
    /// comma-separated numbers (1,0,...,0 charges one end). Chebyshev uses the reflection
    /// sector only for mirror-symmetric weights; dense, chebyshev and mean-field only.
    #[arg(long, value_name = "W1,...,WN", value_delimiter = ',', allow_negative_numbers = true)]
    pub omega_sites: Option<Vec<f64>>,
}

impl ModelArgs {
    /// The flags as the library's spec: `--matrix` implies `--coupling matrix`; defaults and
    /// checks are the spec's.
    pub fn spec(&self) -> ChainSpec {
        ChainSpec {
            n: self.n_sites,
            b: self.b,
            g: self.g,
            alpha: self.alpha,
            omega: self.omega,
            coupling: Some(if self.matrix.is_some() { CouplingKind::Matrix } else { self.coupling }),
            p: self.p,
            matrix: self.matrix.clone().map(MatrixSpec::File),
            boundary: self.boundary,
            gamma: self.gamma,
            keep_field: self.keep_field,
            omega_sites: self.omega_sites.clone(),
        }
    }

    /// The validated chain ([`ChainSpec::build`]; a relative `--matrix` is relative to the
    /// working folder). The spec's refusals as they are, but a missing matrix in the
    /// flags' words.
    pub fn chain(&self) -> Result<Chain, CliError> {
        self.spec().build(Path::new("")).map_err(|e| match e {
            SpinbatError::InvalidParameter { name: "coupling", .. } => {
                CliError::input(anyhow!("--coupling matrix needs --matrix FILE"))
            }
            other => other.into(),
        })
    }
}

pub fn set_threads(threads: Option<usize>) -> Result<(), CliError> {
    if let Some(threads) = threads {
        if threads == 0 {
            return Err(CliError::input(anyhow!("--threads must be at least 1")));
        }
        // only fails if a pool exists already, which cannot happen this early
        let _ = rayon::ThreadPoolBuilder::new().num_threads(threads).build_global();
    }
    Ok(())
}
