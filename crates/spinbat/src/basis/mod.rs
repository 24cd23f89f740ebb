//! The computational basis of `N` spins-1/2.
//!
//! Basis state `s ∈ [0, 2^N)`; bit `i` of `s` set means site `i` is up (`Z_i = +1`).
//! The initial all-down state is `s = 0`. Symmetry sectors (spin flip, reflection, Dicke)
//! build on these conventions.

/// Dimension `2^N` of the full Hilbert space.
pub fn dimension(n_sites: usize) -> usize {
    1usize << n_sites
}

/// `z_i(s) = ±1`, the eigenvalue of `Z_i` on basis state `s`.
#[inline(always)]
pub fn z(s: usize, i: usize) -> f64 {
    if (s >> i) & 1 == 1 {
        1.0
    } else {
        -1.0
    }
}

/// Magnetisation `Σ_i z_i(s) = 2·popcount(s) − N`.
#[inline(always)]
pub fn magnetisation(s: usize, n_sites: usize) -> f64 {
    2.0 * s.count_ones() as f64 - n_sites as f64
}

/// Index of the all-down state `|↓…↓⟩`.
pub const ALL_DOWN: usize = 0;
