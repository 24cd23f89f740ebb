//! Memory estimates, checked before anything large is allocated.

use super::dicke;
use super::solver::{resolve, Precision, Solver};
use crate::model::Chain;

/// Bytes a solver needs for `chain` (estimate, within ~10%):
/// * dense: `H`, `U` and the eigensolver's workspace, `≈ 4 · 8 · 4^N`, plus `8·4^N` per
///   batch of times (bounded by the same);
/// * chebyshev: the state, a recurrence vector, the anchor, the diagonal of `H_g` and at
///   least one accumulated state (up to 32 when memory allows): `(56 + 16)` bytes per
///   stored row, `2^N` rows or about half that in the reflection sector;
/// * mean field: the integrator's stages and the model, `≈ 570N`, plus the dense `g_ij`
///   (`8N²`) only where the model keeps it (explicit matrix, or `N < 24`), see
///   [`crate::meanfield::bytes_needed`];
/// * density matrix: three `2^N × 2^N` complex matrices, `48 · 4^N` (five with collective
///   decay: [`super::density::bytes_needed`], which the planner calls with the noise);
/// * trajectories: per worker thread the state, two Chebyshev terms and the accumulated
///   states of a batch, `16(3 + batch)·2^N` ([`super::unravelling::bytes_needed`]);
/// * mps: the state and its environments, twice (steps `δ`, `2δ`) and their anchors,
///   `~ 64 N χ² (2 + 2D)` ([`super::mps::bytes_needed`]);
/// * free fermions: `O(N²)` (`A`, its eigenvectors, per thread `R` and the Pfaffians'
///   matrix, [`super::fermion`]);
/// * weak coupling: nothing to speak of.
pub fn bytes_needed(chain: &Chain, solver: Solver) -> f64 {
    let n = chain.n_sites() as f64;
    let dim = n.exp2();
    match resolve(chain, solver) {
        Solver::Dense => 5.0 * 8.0 * dim * dim,
        Solver::Chebyshev => chebyshev_bytes::<f64>(chain),
        // DOP853 ~16 state vectors; the dense coupling matrix only where the model keeps it
        Solver::MeanField => crate::meanfield::bytes_needed(chain),
        // a window of up to 1024 eigenpairs (with workspace), or Chebyshev on the N + 1 states
        Solver::Dicke => 5e7 + dicke::CHEB_BYTES_PER_STATE * (n + 1.0),
        Solver::DensityMatrix => super::density::bytes_needed(chain.n_sites(), &crate::open::Noise::default()),
        Solver::Trajectories => super::unravelling::bytes_needed(chain.n_sites(), rayon::current_num_threads(), 1),
        Solver::Mps => super::mps::bytes_needed(chain, &crate::mps::MpsSettings::default()),
        // A, its eigenvectors (complex) and per thread R, M and faer's workspace
        Solver::FreeFermion => 1e6 + 160.0 * (2.0 * n + 1.0) * (2.0 * n + 1.0),
        _ => 1e6,
    }
}

/// The Chebyshev solver's fixed buffers and one accumulated state, with states in `R`.
fn chebyshev_bytes<R: crate::numeric::Real>(chain: &Chain) -> f64 {
    use super::chebyshev::{bytes_per_row_and_time, fixed_bytes_per_row, rows, space_bytes};
    (fixed_bytes_per_row::<R>() + bytes_per_row_and_time::<R>()) * rows(chain) + space_bytes(chain)
}

/// [`bytes_needed`] in the given precision: single precision halves the Chebyshev solver's
/// states (`28 + 8` bytes per stored row); every other solver is double only.
pub fn bytes_needed_with(chain: &Chain, solver: Solver, precision: Precision) -> f64 {
    match (precision, resolve(chain, solver)) {
        (Precision::Single, Solver::Chebyshev) => chebyshev_bytes::<f32>(chain),
        _ => bytes_needed(chain, solver),
    }
}

pub use crate::resources::bytes_available;
