//! Model options shared by every subcommand that builds a chain (`charge`, `scan`, ...).

use crate::CliError;
use anyhow::{anyhow, Context};
use clap::{Args, ValueEnum};
use spinbat::model::defaults;
use spinbat::{Boundary, Chain, Couplings};
use std::path::PathBuf;

/// Coupling pattern g_ij.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CouplingKind {
    /// Nearest neighbour: g_ij = g for |i-j| = 1.
    #[value(name = "nn", alias = "nearest-neighbour")]
    Nn,
    /// Power law: g_ij = g / d_ij^p (p = 0: all-to-all).
    PowerLaw,
    /// Explicit N x N matrix M from --matrix: g_ij = g * M_ij.
    Matrix,
}

/// Boundary condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BoundaryKind {
    /// d_ij = |i - j|.
    Open,
    /// d_ij = min(|i - j|, N - |i - j|) (a ring).
    Periodic,
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
    #[arg(long, value_enum, default_value_t = CouplingKind::PowerLaw)]
    pub coupling: CouplingKind,
    /// Power-law exponent p (>= 0; 0 = all-to-all, large p approaches nearest neighbour).
    #[arg(long, default_value_t = defaults::P, allow_negative_numbers = true)]
    pub p: f64,
    /// File with the N x N coupling matrix (whitespace/comma separated, '#' comments);
    /// implies --coupling matrix.
    #[arg(long, value_name = "FILE")]
    pub matrix: Option<PathBuf>,
    /// Boundary condition (ignored for an explicit matrix).
    #[arg(long, value_enum, default_value_t = BoundaryKind::Open)]
    pub boundary: BoundaryKind,
}

impl ModelArgs {
    /// The validated chain.
    pub fn chain(&self) -> Result<Chain, CliError> {
        let kind = if self.matrix.is_some() { CouplingKind::Matrix } else { self.coupling };
        let couplings = match kind {
            CouplingKind::Nn => Couplings::NearestNeighbour,
            CouplingKind::PowerLaw => Couplings::PowerLaw { p: self.p },
            CouplingKind::Matrix => {
                let path = self
                    .matrix
                    .as_ref()
                    .ok_or_else(|| CliError::input(anyhow!("--coupling matrix needs --matrix FILE")))?;
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading coupling matrix {}", path.display()))
                    .map_err(CliError::input)?;
                let m = spinbat::model::parse_matrix(&text)
                    .with_context(|| format!("in {}", path.display()))
                    .map_err(CliError::input)?;
                Couplings::Matrix { m }
            }
        };
        let boundary = match self.boundary {
            BoundaryKind::Open => Boundary::Open,
            BoundaryKind::Periodic => Boundary::Periodic,
        };
        Ok(Chain::builder(self.n_sites)
            .b(self.b)
            .g(self.g)
            .alpha(self.alpha)
            .omega(self.omega)
            .couplings(couplings)
            .boundary(boundary)
            .build()?)
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
