//! The one interface of every basis the propagators run on: the full `2^N` space
//! ([`crate::operator::Operators`]), the reflection-even sector
//! ([`super::ReflectionSector`]) and the `N + 1` Dicke states ([`super::DickeSpace`]).

use crate::numeric::Amplitude;
use rayon::prelude::*;
use std::ops::Range;

/// A pure reflection-even state in its stored layout, for measurements that sum over the
/// basis (Bloch vectors, magnetisation populations, energy moments) without the state
/// expanded to `2^N` amplitudes ([`super::ReflectionSector::rows`]): the upper triangle of
/// a symmetric matrix of tiles, `ψ(s) = M_c[a][b] = M_c[b][a]`, with bit `k` of `b` site
/// `k`, bit `k` of `a` site `N − 1 − k` (`k < ⌊N/2⌋`) and layer `c` the middle site (odd `N`).
/// The matrix is cut into `T × T` tiles of `2^t × 2^t` amplitudes: tile `(A, Q)` holds
/// `a = A·2^t + x`, `b = Q·2^t + y` at `x·2^t + y`, and only tiles `A ≤ Q` are stored (a
/// diagonal tile in full, itself symmetric). Sums over the full space follow from the
/// stored tiles with weight 2 off the diagonal and 1 on it, and from products of
/// neighbouring tiles for the sites that tell tiles apart. A source exists only where `H0`
/// is diagonal in the basis (`α = 0`), so that each tile also carries `H0_ss`.
pub trait SymmetricTiles: Sync + std::fmt::Debug {
    /// Number of sites `N`.
    fn n_sites(&self) -> usize;
    /// `E_0 = ⟨↓…↓|H0|↓…↓⟩`, the energy the work is measured from.
    fn all_down_energy(&self) -> f64;
    /// In-tile bits `t` of each of `a` and `b`.
    fn tile_bits(&self) -> usize;
    /// Tiles along a side, `T = 2^(⌊N/2⌋ − t)`.
    fn tiles_per_side(&self) -> usize;
    /// Layers: 2 for odd `N` (the middle site down, up), else 1.
    fn layers(&self) -> usize;
    /// Stored tile `(A, Q)` of layer `c`, `A ≤ Q`: `4^t` amplitudes.
    fn tile(&self, c: usize, a: usize, q: usize) -> &[num_complex::Complex64];
    /// What every tile of tile row `A` shares for its `H0_ss` ([`SymmetricTiles::tile_h0`]),
    /// written to `out`.
    fn row_terms(&self, a: usize, out: &mut Vec<f64>);
    /// `H0_ss` of tile `(A, Q)` of layer `c` (`A ≤ Q`), by index within the tile, from
    /// `terms` ([`SymmetricTiles::row_terms`] of its row `A`).
    fn tile_h0(&self, c: usize, q: usize, terms: &[f64], out: &mut [f64]);
}

/// A basis on which the Chebyshev propagator runs and the work is measured: the full `2^N`
/// space, or a sector of states invariant under a symmetry of the couplings that contains
/// the all-down start (then `H`, `H0` and `Σ_i X_i` map the sector into itself).
///
/// **Rows.** Vectors are stored as [`Space::dim`] rows; row `0` is the all-down state
/// [`crate::basis::ALL_DOWN`]. The rows form an orthogonal basis in which the full-space
/// inner product is `⟨x|y⟩ = Σ_rows w_row x̄_row y_row`, `w_row` the weight of the row's
/// block ([`Space::block_weight`]): `1` for an orthonormal basis (the full space, the Dicke
/// states `|S = N/2, S_z⟩`), the number of full-space states a row stands for when its
/// amplitude is that of each of them (the reflection sector: 1 or 2).
///
/// **Blocks.** The kernels work block by block, in parallel: every block has
/// [`Space::block_len`] rows except the last, which holds the rest, so a space of any
/// dimension is one (the Dicke space has `N + 1` rows). A space chooses its blocks so that
/// the rows an operator couples to a block lie in few other blocks (cache reuse).
///
/// The generic kernels ([`crate::operator::chebyshev_step`],
/// [`crate::operator::energy_and_rate_split`], [`crate::operator::energy_and_rate_multi`])
/// are written once on top of these block operations.
pub trait Space: Send + Sync {
    /// Number of sites `N`.
    fn n_sites(&self) -> usize;
    /// Transverse field `ω`.
    fn omega(&self) -> f64;
    /// Sets the transverse field `ω` of `H = H_g + ω Σ_i X_i` (time-dependent charging:
    /// one value per segment, [`crate::model::Protocol`]); any finite value, `0` and
    /// negative ones included.
    fn set_omega(&mut self, omega: f64);
    /// Stored rows (the full space: `2^N`).
    fn dim(&self) -> usize;
    /// Rows per block (every block but the last, which holds the rest), at least 1.
    fn block_len(&self) -> usize;
    /// `out = (H x)` on the rows of block `block` (`out.len()` = the block's rows),
    /// `H = H_g + V`.
    fn h_block<T: Amplitude>(&self, x: &[T], block: usize, out: &mut [T]);
    /// `out[o·m + j] = (Σ_i X_i x_j)` on the rows of block `block` for `m` states stored
    /// interleaved (`x[row·m + j]`).
    fn flip_sum_block<T: Amplitude>(&self, x: &[T], m: usize, block: usize, out: &mut [T]);
    /// `out[o·m + j] = ((H0 − E_0) x_j)` on the rows of block `block`, `m` interleaved
    /// states: the work operator, `H0` measured from the all-down energy
    /// `E_0 = ⟨↓…↓|H0|↓…↓⟩`, so that `W = ⟨ψ|H0 − E_0|ψ⟩` is summed without cancelling
    /// against `E_0` (which grows like `N²` for long-range chains).
    fn work_block<T: Amplitude>(&self, x: &[T], m: usize, block: usize, out: &mut [T]);
    /// Adds to `out[j]` the part of the rate `W' = i⟨[H, H0]⟩` of state `j` that the flip
    /// sums do not carry, `i⟨[H_g, H_B]⟩` summed over the rows of block `block` (`m` states
    /// interleaved; `im_pair(r, s, j) = Im(ψ̄_j[r] ψ_j[s])`). Zero wherever `H_B` commutes
    /// with the couplings (one field on every site, or no flip-flops, `α = 0`): the default
    /// adds nothing; the full space adds it for per-site fields with flip-flops
    /// ([`crate::model::Chain::fields_commute_with_couplings`]).
    fn field_flip_rate(
        &self,
        _block: usize,
        _m: usize,
        _im_pair: &dyn Fn(usize, usize, usize) -> f64,
        _out: &mut [f64],
    ) {
    }
    /// Whether [`Space::field_flip_rate`] adds anything (default `false`).
    fn has_field_flip_rate(&self) -> bool {
        false
    }
    /// The diagonal of the work operator `H0 − E_0` on the rows of block `block`, written
    /// to `out` (the block's rows), when `H0` is diagonal on this basis (no flip-flops,
    /// `α = 0`): returns whether it is. Lets products of many states apply it by a row
    /// scaling ([`crate::operator::gram_sums`]). Default: `false`, nothing written.
    fn work_diagonal(&self, _block: usize, _out: &mut [f64]) -> bool {
        false
    }
    /// The weight `w` of each row of block `block` in the full-space inner product
    /// (see the trait docs).
    fn block_weight(&self, block: usize) -> f64;
    /// Rigorous enclosure `[E_min, E_max]` of the spectrum of `H` on this space (Gershgorin).
    fn spectral_bounds_h(&self) -> (f64, f64);
    /// Upper bound on the top of the spectrum of `H_g` (exact for `α = 0`).
    fn h_g_max_bound(&self) -> f64;
    /// One line naming the basis, for accuracy notes.
    fn description(&self) -> String;

    /// Most times a Chebyshev expansion should accumulate at once on this space
    /// ([`crate::propagate::Chebyshev`] takes the smaller of this and what memory allows).
    /// Accumulating costs one multiply-add per row, time and term, against one
    /// application of `H` per row and term; where `H` is cheap (a tridiagonal product)
    /// fewer times per expansion pay. Default 32.
    fn batch_hint(&self) -> usize {
        32
    }

    /// Whether a curve of many times on this space is best measured through the Gram
    /// products of the kept Chebyshev terms (`O(K²)` multiply-adds per row for `K` terms,
    /// [`crate::operator::gram_sums`]) rather than by accumulating each time's state (one
    /// multiply-add per row, term and time) and measuring it. True where applying `H`
    /// costs many operations per row (bit flips over `N` sites, sparse orbit rows); the
    /// Dicke states' tridiagonal `H` is too cheap for it. Default true.
    fn gram_output(&self) -> bool {
        true
    }

    /// Number of blocks, `⌈dim / block_len⌉`.
    fn blocks(&self) -> usize {
        self.dim().div_ceil(self.block_len())
    }

    /// The rows of block `block`.
    fn block_rows(&self, block: usize) -> Range<usize> {
        let len = self.block_len();
        block * len..((block + 1) * len).min(self.dim())
    }
}

/// Gershgorin enclosure of `H = H_g + V` from the diagonal of `H_g` on any basis of
/// single spin states: its range widened by the largest off-diagonal row sum,
/// `N|ω| + offdiag` (`offdiag = 2|α| Σ|g_ij|`, the flip-flop amplitudes). A sector's
/// spectrum lies inside the full one.
pub(crate) fn spectral_enclosure(diag: &[f64], n_sites: usize, omega: f64, offdiag: f64) -> (f64, f64) {
    let (lo, hi) = diag
        .par_iter()
        .fold(|| (f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &d| (lo.min(d), hi.max(d)))
        .reduce(|| (f64::INFINITY, f64::NEG_INFINITY), |a, b| (a.0.min(b.0), a.1.max(b.1)));
    let radius = n_sites as f64 * omega.abs() + offdiag;
    (lo - radius, hi + radius)
}

/// Upper bound on the top of the spectrum of `H_g`: `max_s (H_g)_ss + offdiag` (Gershgorin;
/// exact for `α = 0`, where `offdiag = 0`).
pub(crate) fn top_of_h_g(diag: &[f64], offdiag: f64) -> f64 {
    diag.par_iter().copied().reduce(|| f64::NEG_INFINITY, f64::max) + offdiag
}
