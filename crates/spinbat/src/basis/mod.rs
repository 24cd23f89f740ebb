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

/// Most sites a full-space state vector may have (`2^N` amplitudes must be addressable).
pub const MAX_EXACT_SITES: usize = 48;

/// Index of the all-down state `|↓…↓⟩`.
pub const ALL_DOWN: usize = 0;

/// The all-down state `|↓…↓⟩` as `dim` complex amplitudes: `1` at row [`ALL_DOWN`] (row 0
/// of every space the propagators run on), `0` elsewhere.
pub fn all_down_vector(dim: usize) -> Vec<num_complex::Complex64> {
    let mut psi = vec![num_complex::Complex64::new(0.0, 0.0); dim];
    psi[ALL_DOWN] = num_complex::Complex64::new(1.0, 0.0);
    psi
}

/// The globally spin-flipped state: `P|s⟩ = |s̄⟩` with `P = Π_i X_i` and
/// `s̄ = s ⊕ (2^N − 1)`. `P` commutes with `H_g` and `V`, anticommutes with `H_B`, and maps
/// the all-down state to the all-up state `2^N − 1`.
#[inline(always)]
pub fn flipped(s: usize, n_sites: usize) -> usize {
    s ^ (dimension(n_sites) - 1)
}

/// Representative of the spin-flip pair `{s, s̄}` and whether `s` is the flipped one: the
/// member with site `N − 1` down, so representatives are `r ∈ [0, 2^{N−1})`. The parity
/// sector `σ = ±1` has the basis `|r⟩_σ = (|r⟩ + σ|r̄⟩)/√2`, in which
/// `|s⟩ = (|r⟩_+ + |r⟩_−)/√2` for `s = r` and `(|r⟩_+ − |r⟩_−)/√2` for `s = r̄`.
#[inline(always)]
pub fn flip_representative(s: usize, n_sites: usize) -> (usize, bool) {
    if s >> (n_sites - 1) == 0 {
        (s, false)
    } else {
        (flipped(s, n_sites), true)
    }
}
