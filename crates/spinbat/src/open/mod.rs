//! The open battery: noise channels ([`Noise`], serde data checked before anything runs)
//! and the Lindblad generator acting on a density matrix without storing it
//! ([`Liouvillian`]),
//!
//! `dρ/dt = 𝓛ρ = −i[H, ρ] + Σ_k (L_k ρ L_k† − ½{L_k†L_k, ρ})`,
//!
//! with `H = H_g + V` while charging ([`Generator::Charging`]) or `H0` in storage
//! ([`Generator::Storage`]). Conventions in physics.md ("The open battery"). The
//! propagator built on it is [`crate::propagate::DensityMatrix`].
//!
//! Thermal starting states: the Gibbs state of `H0` ([`Gibbs`], [`Start`]), by its
//! magnetisation blocks.
//!
//! Layer: above `operator/` (the chain's diagonals and bounds), below `propagate/`.

mod gibbs;
mod liouvillian;
mod noise;

pub use gibbs::{Gibbs, Start, MAX_BLOCK as MAX_GIBBS_BLOCK};
pub use liouvillian::{fill_upper, lower_start, Generator, Liouvillian, MatrixSums, Workspace, ROW_BLOCK};
pub use noise::{Noise, Rates};
