//! Observables of one full state vector `ψ` (length `2^N`, bit `i` of a basis index set
//! ⇔ site `i` up, see [`crate::basis`]): entanglement across a cut, per-site Bloch
//! vectors, connected `ZZ` correlations and the energy variance of `H0`. They answer the
//! paper's Sec. IV question — does the quantum battery differ from the classical
//! (mean-field, product-state) one because of correlations? In a product state the
//! entropy and the connected correlations vanish.
//!
//! Every function accepts an unnormalised `ψ` and divides by `⟨ψ|ψ⟩` (so states with a
//! propagation error of their norm give consistent values); a zero or non-finite norm, or
//! a length other than `2^N`, is an [`crate::SpinbatError::InvalidParameter`]. Dimensionless
//! results unless stated; entropies in nats (natural log): divide by `ln 2`
//! ([`Entanglement::von_neumann_bits`]) for bits.
//!
//! Accuracy: all are sums of `O(2^N)` terms at rounding level (`~ε_mach log 2^N`
//! relative), except the entropy, whose singular values carry an absolute error
//! `~ε_mach` each, so `S` is accurate to `~d ε_mach ln(1/ε_mach) ≈ 4·10⁻¹⁴ d`
//! (`d = 2^min(cut, N−cut)`). Checked in `tests/contract/correlations.rs` against
//! closed forms (product, Bell/GHZ, XXX), against the reduced density matrix computed
//! independently, and against dense `H0` matrices.

use crate::basis::MAX_EXACT_SITES;
use crate::error::{invalid, Result};
use crate::numeric::simd::{lane_sums, LANES};
use crate::operator::Operators;
use crate::symmetry::SymmetricTiles;
use faer::MatRef;
use num_complex::Complex64;
use rayon::prelude::*;
use serde::Serialize;

/// Sites of the low-bit block in the two-level `ZZ` sum (`2^10` states per block).
const ZZ_LOW_SITES: usize = 10;

/// Checks `ψ` against `N` and returns `⟨ψ|ψ⟩`.
fn norm_sqr(psi: &[Complex64], n_sites: usize) -> Result<f64> {
    if n_sites == 0 || n_sites > MAX_EXACT_SITES {
        return Err(invalid("n_sites", n_sites, format!("must be in 1..={MAX_EXACT_SITES} for a full state vector")));
    }
    let dim = 1usize << n_sites;
    if psi.len() != dim {
        return Err(invalid(
            "psi",
            format!("a vector of length {}", psi.len()),
            format!("must have length 2^N = {dim}"),
        ));
    }
    let norm: f64 = psi.par_iter().map(|a| a.norm_sqr()).sum();
    if !(norm.is_finite() && norm > 0.0) {
        return Err(invalid("psi", format!("a vector of norm² {norm}"), "must have a finite, non-zero norm"));
    }
    Ok(norm)
}

/// Entanglement of sites `0..cut` (subsystem A) with sites `cut..N` (B) in a pure state.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Entanglement {
    /// The cut: A holds sites `0..cut`.
    pub cut: usize,
    /// Von Neumann entropy `S = −Σ_k λ_k ln λ_k` of `ρ_A = Tr_B |ψ⟩⟨ψ|` (nats; `ln 2` for a
    /// Bell pair, at most `min(cut, N − cut) ln 2`).
    pub von_neumann: f64,
    /// Rényi-2 entropy `S_2 = −ln Σ_k λ_k² = −ln Tr ρ_A²` (nats; `S_2 ≤ S`).
    pub renyi2: f64,
}

impl Entanglement {
    /// The von Neumann entropy in bits (`S / ln 2`; one Bell pair = 1).
    pub fn von_neumann_bits(&self) -> f64 {
        self.von_neumann / std::f64::consts::LN_2
    }
}

/// The Schmidt spectrum of `ψ` across `cut`: the eigenvalues `λ_k = σ_k² / Σσ²` of the
/// reduced density matrix `ρ_A` of sites `0..cut`, in non-increasing order
/// (`min(2^cut, 2^(N−cut))` values summing to 1).
///
/// With `s = a + 2^cut b` (`a` the low bits = sites `0..cut`, `b` the high bits), `ψ` is
/// the `2^cut × 2^(N−cut)` matrix `M_ab = ψ_s`, stored column-major without a copy; the
/// `σ_k` are its singular values (faer SVD, values only). Cost: `O(d_A d_B min(d_A, d_B))`,
/// e.g. a `256 × 256` SVD for the half chain at `N = 16`, `16·2^N` bytes of copy and
/// workspace. A trivial cut (`0` or `N`) gives `[1]`.
///
/// # Errors
/// [`crate::SpinbatError::InvalidParameter`] for a bad `ψ` or `cut > N`;
/// [`crate::SpinbatError::NotConverged`] if the SVD fails.
pub fn schmidt_spectrum(psi: &[Complex64], n_sites: usize, cut: usize) -> Result<Vec<f64>> {
    let norm = norm_sqr(psi, n_sites)?;
    if cut > n_sites {
        return Err(invalid("cut", cut, format!("must be in 0..={n_sites} (subsystem A = sites 0..cut)")));
    }
    if cut == 0 || cut == n_sites {
        return Ok(vec![1.0]);
    }
    let (rows, cols) = (1usize << cut, 1usize << (n_sites - cut));
    let m = MatRef::from_column_major_slice(psi, rows, cols);
    let sigma = m.singular_values().map_err(|e| crate::SpinbatError::NotConverged {
        what: "Schmidt decomposition (SVD)",
        reason: format!("{e:?}"),
    })?;
    // faer's vector kernels leave state that slows this crate's kernels (numeric::simd)
    crate::numeric::simd::clear_upper_state();
    Ok(sigma.into_iter().map(|s| s * s / norm).collect())
}

/// Von Neumann and Rényi-2 entropies of sites `0..cut` against `cut..N`, from the
/// Schmidt spectrum ([`schmidt_spectrum`]; same cost): `S = −Σ λ ln λ`,
/// `S_2 = −ln Σ λ²`, in nats. `0` for a product state across the cut, `ln 2` for a
/// Bell or GHZ state; `S(A) = S(B)` (the same singular values).
///
/// # Errors
/// As [`schmidt_spectrum`].
pub fn entanglement(psi: &[Complex64], n_sites: usize, cut: usize) -> Result<Entanglement> {
    let lambda = schmidt_spectrum(psi, n_sites, cut)?;
    let von_neumann = lambda.iter().filter(|&&l| l > 0.0).map(|&l| -l * l.ln()).sum::<f64>().max(0.0);
    let purity: f64 = lambda.iter().map(|l| l * l).sum();
    Ok(Entanglement { cut, von_neumann, renyi2: (-purity.ln()).max(0.0) })
}

/// Von Neumann entanglement entropy `S = −Tr ρ_A ln ρ_A` (nats) of sites `0..cut`
/// against `cut..N`; see [`entanglement`] (which also gives Rényi-2 and bits).
/// The half-chain cut is [`half_chain_cut`].
///
/// # Errors
/// As [`schmidt_spectrum`].
pub fn entanglement_entropy(psi: &[Complex64], n_sites: usize, cut: usize) -> Result<f64> {
    Ok(entanglement(psi, n_sites, cut)?.von_neumann)
}

/// The default cut, `⌊N/2⌋`: sites `0..N/2` against the rest.
pub fn half_chain_cut(n_sites: usize) -> usize {
    n_sites / 2
}

/// Per-site Bloch vectors `(⟨X_i⟩, ⟨Y_i⟩, ⟨Z_i⟩)`, each component in `[−1, 1]`.
///
/// For every pair of basis states `d` (bit `i` down) and `u = d + 2^i` (up), with
/// `c = ψ_u^* ψ_d`: `⟨X_i⟩ = 2 Re Σ c`, `⟨Y_i⟩ = 2 Im Σ c`, `⟨Z_i⟩ = Σ (|ψ_u|² − |ψ_d|²)`,
/// all divided by `⟨ψ|ψ⟩`. Convention: `Y|↑⟩ = i|↓⟩`, so one spin under `H = ωX` from
/// `|↓⟩` has `(0, sin 2ωt, −cos 2ωt)` — the same as the mean-field Bloch vector
/// ([`crate::meanfield::MeanField::bloch_vectors`]).
/// Cost: `O(N 2^N)` arithmetic in one blocked parallel pass over `ψ` (the low sites' pairs
/// within cached blocks, a partner block for each high site).
///
/// # Errors
/// [`crate::SpinbatError::InvalidParameter`] for a bad `ψ`.
pub fn bloch_vectors(psi: &[Complex64], n_sites: usize) -> Result<Vec<[f64; 3]>> {
    bloch_vectors_of(psi, n_sites, false)
}

/// [`bloch_vectors`], for a state known to be even under the reflection
/// `i → N − 1 − i` when `mirror_even` (`ψ(Rs) = ψ(s)`, a reflection-sector state): then
/// `S_{N−1−i} = S_i`, and only the sites `i < ⌈N/2⌉` are summed (for `N ≤ 24` all within
/// the cached blocks: no partner reads).
///
/// # Errors
/// [`crate::SpinbatError::InvalidParameter`] for a bad `ψ`.
pub fn bloch_vectors_of(psi: &[Complex64], n_sites: usize, mirror_even: bool) -> Result<Vec<[f64; 3]>> {
    let norm = norm_sqr(psi, n_sites)?;
    let upto = if mirror_even { n_sites.div_ceil(2) } else { n_sites };
    // blocks of 2^12 amplitudes (64 KiB): the pairs of the low sites lie within a block,
    // those of a high site `i` in the partner block `c ⊕ 2^(i−12)`; one pass over ψ plus one
    // partner read per high site for half the blocks, instead of one pass per site
    let low = n_sites.min(BLOCH_BLOCK_BITS);
    let zero = Complex64::new(0.0, 0.0);
    let sums = (0..psi.len() >> low)
        .into_par_iter()
        .fold(
            || vec![(zero, 0.0); n_sites],
            |mut acc, c| {
                let x = &psi[c << low..(c + 1) << low];
                for (i, a) in acc.iter_mut().enumerate().take(low.min(upto)) {
                    let bit = 1usize << i;
                    for pair in x.chunks_exact(2 * bit) {
                        let (d, u) = pair.split_at(bit);
                        for (pd, pu) in d.iter().zip(u) {
                            a.0 += pu.conj() * pd;
                            a.1 += pu.norm_sqr() - pd.norm_sqr();
                        }
                    }
                }
                let weight: f64 = if upto > low { x.iter().map(|v| v.norm_sqr()).sum() } else { 0.0 };
                for (i, a) in acc.iter_mut().enumerate().take(upto).skip(low) {
                    let hb = 1usize << (i - low);
                    if c & hb == 0 {
                        let y = &psi[(c | hb) << low..((c | hb) + 1) << low];
                        a.0 += x.iter().zip(y).map(|(pd, pu)| pu.conj() * pd).sum::<Complex64>();
                        a.1 -= weight;
                    } else {
                        a.1 += weight;
                    }
                }
                acc
            },
        )
        .reduce(
            || vec![(zero, 0.0); n_sites],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| {
                    x.0 += y.0;
                    x.1 += y.1;
                });
                a
            },
        );
    let mut r: Vec<[f64; 3]> =
        sums.into_iter().map(|(c, z)| [2.0 * c.re / norm, 2.0 * c.im / norm, z / norm]).collect();
    for i in upto..n_sites {
        r[i] = r[n_sites - 1 - i];
    }
    Ok(r)
}

/// What one pass over a pure state measures ([`state_moments`]): everything of one site
/// and of the energy that the ergotropy family needs.
#[derive(Debug, Clone, PartialEq)]
pub struct StateMoments {
    /// Per-site Bloch vectors `(⟨X_i⟩, ⟨Y_i⟩, ⟨Z_i⟩)`, as [`bloch_vectors`].
    pub bloch: Vec<[f64; 3]>,
    /// `p_M = Σ_{s: M up spins} |ψ_s|² / ⟨ψ|ψ⟩`, `M = 0..N`: the populations of the
    /// eigenspaces of `H_B`, as the ergotropy module's `populations`.
    pub populations: Vec<f64>,
    /// `Var(H0)` (units `B²`), as [`energy_variance`].
    pub variance: f64,
}

/// [`bloch_vectors_of`], the populations of the magnetisation sectors and
/// [`energy_variance`] in **one** blocked parallel pass over `ψ` (each block's `|ψ_s|²`
/// computed once), with the variance about a given `m` near `⟨H0⟩`:
/// `Var = ‖(H0 − m)ψ‖²/⟨ψ|ψ⟩ − δ²`, `δ = ⟨ψ|H0 − m|ψ⟩/⟨ψ|ψ⟩`, exact for any `m` and free
/// of cancellation when `|δ|` is small (a trajectory passes `m = E_0 + W`).
///
/// # Errors
/// [`crate::SpinbatError::InvalidParameter`] for a bad `ψ` or one whose length is not
/// that of `ops`.
pub fn state_moments(ops: &Operators, psi: &[Complex64], mirror_even: bool, m: f64) -> Result<StateMoments> {
    let n = ops.dim().trailing_zeros() as usize;
    // the norm is the sum of the populations: checked after the pass
    if psi.len() != ops.dim() {
        return Err(invalid(
            "psi",
            format!("a vector of length {}", psi.len()),
            format!("must have length 2^N = {}", ops.dim()),
        ));
    }
    let upto = if mirror_even { n.div_ceil(2) } else { n };
    let low = n.min(BLOCH_BLOCK_BITS);
    let len = 1usize << low;
    let diagonal = ops.h0_is_diagonal();
    let avx2 = simd_available();
    let sums = (0..psi.len() >> low)
        .into_par_iter()
        .fold(
            || (BlockAcc::new(n), Scratch::new(len)),
            |(mut acc, mut sc), c| {
                let ctx = BlockContext { ops, psi, low, upto, diagonal, m };
                if avx2 {
                    // SAFETY: the CPU has AVX2 and FMA (checked at run time just above)
                    unsafe { block_moments_avx2(&ctx, c, &mut acc, &mut sc) };
                } else {
                    block_moments(&ctx, c, &mut acc, &mut sc);
                }
                (acc, sc)
            },
        )
        .map(|(acc, _)| acc)
        .reduce(|| BlockAcc::new(n), BlockAcc::merge);
    sums.finish(upto)
}

/// [`state_moments`] of a reflection-even state in its stored tiles ([`SymmetricTiles`]:
/// read in place, never expanded to `2^N` amplitudes), about `m`: the same sums in one
/// parallel pass, a task per tile row `A`. With `w = 2` for a tile off the diagonal and `1`
/// on it, and the full matrix symmetric (`M[a][b] = M[b][a]`):
/// * a sum `Σ_full g(a, b)|ψ|²` is `Σ_stored (w/2)(g(a, b) + g(b, a))|ψ|²`: the populations
///   and `H0` moments (`g` symmetric) by weight `w`, `Z` of a site `i < t` by the tile's bits
///   `i` of `y` and of `x` together, `Z` of a site `t ≤ i < ⌊N/2⌋` by the tile's weight and
///   bit `i − t` of `A` and of `Q`;
/// * the pairs of a site `i < t` (`X`, `Y`): its flips of `b` equal its flips of `a` in sum
///   (transpose), so `(w/2)` times the tile's own pairs on bits `i` and `t + i`;
/// * the pairs of a site `t ≤ i < ⌊N/2⌋` join tile `(A, Q)` of the full matrix to
///   `(A, Q | 2^j)`, `j = i − t`: per tile row `A` of the full matrix (its stored row and,
///   transposed, its stored column) the products `⟨T(A, Q|2^j), T(A, Q)⟩`, a tile below the
///   diagonal being the transpose of a stored one;
/// * the middle site (odd `N`) pairs the two layers tile by tile.
///
/// Sites `⌈N/2⌉..N` are mirrored. The `X`, `Y` sums take each of their `2^N/2` pairs a
/// site as on the full state; the diagonal sums take each stored amplitude once, half the
/// full state's.
///
/// # Errors
/// [`crate::SpinbatError::InvalidParameter`] for a state of zero or non-finite norm.
pub fn row_moments(tiles: &dyn SymmetricTiles, m: f64) -> Result<StateMoments> {
    let n = tiles.n_sites();
    let len = 1usize << (2 * tiles.tile_bits());
    let avx2 = simd_available();
    let sums = (0..tiles.tiles_per_side())
        .into_par_iter()
        .fold(
            || (TileAcc::new(tiles), TileScratch::new(len)),
            |(mut acc, mut sc), a| {
                if avx2 {
                    // SAFETY: the CPU has AVX2 and FMA (checked at run time just above)
                    unsafe { tile_row_avx2(tiles, a, m, &mut acc, &mut sc) };
                } else {
                    tile_row(tiles, a, m, &mut acc, &mut sc);
                }
                (acc, sc)
            },
        )
        .map(|(acc, _)| acc)
        .reduce(|| TileAcc::new(tiles), TileAcc::merge);
    sums.finish(n)
}

/// The sums of [`row_moments`] over the tiles one thread has seen.
struct TileAcc {
    /// in-tile sums (bits `0..2t` of the index within a tile, populations, `H0` moments)
    /// of the diagonal tiles `[0]` and of the others `[1]`
    local: [BlockAcc; 2],
    /// `(Re, Im) Σ ψ_u^*ψ_d` of sites `t..⌊N/2⌋` over the full space
    cross: Vec<(f64, f64)>,
    /// `Σ |ψ|² z_i` of sites `t..⌊N/2⌋` over the full space
    z_tile: Vec<f64>,
    /// the middle site's `(Re, Im, Z)` sums (odd `N`)
    middle: (f64, f64, f64),
    t: usize,
}

impl TileAcc {
    fn new(tiles: &dyn SymmetricTiles) -> Self {
        let (n, t) = (tiles.n_sites(), tiles.tile_bits());
        let bits = tiles.tiles_per_side().trailing_zeros() as usize;
        TileAcc {
            local: [BlockAcc::new(n), BlockAcc::new(n)],
            cross: vec![(0.0, 0.0); bits],
            z_tile: vec![0.0; bits],
            middle: (0.0, 0.0, 0.0),
            t,
        }
    }

    fn merge(self, other: TileAcc) -> TileAcc {
        let [d, o] = self.local;
        let [e, p] = other.local;
        let add = |x: Vec<(f64, f64)>, y: Vec<(f64, f64)>| x.into_iter().zip(y).map(|(a, b)| (a.0 + b.0, a.1 + b.1));
        TileAcc {
            local: [d.merge(e), o.merge(p)],
            cross: add(self.cross, other.cross).collect(),
            z_tile: self.z_tile.iter().zip(&other.z_tile).map(|(a, b)| a + b).collect(),
            middle: (self.middle.0 + other.middle.0, self.middle.1 + other.middle.1, self.middle.2 + other.middle.2),
            t: self.t,
        }
    }

    /// The full-space sums of sites `0..⌈N/2⌉` from the tiles' ([`row_moments`]), then
    /// [`BlockAcc::finish`].
    fn finish(self, n: usize) -> Result<StateMoments> {
        let [d, o] = self.local;
        let t = self.t;
        let mut acc = BlockAcc::new(n);
        for i in 0..t {
            let (x, y) = ((d.xyz[i], d.xyz[i + t]), (o.xyz[i], o.xyz[i + t]));
            acc.xyz[i] = (
                0.5 * (x.0 .0 + x.1 .0) + y.0 .0 + y.1 .0,
                0.5 * (x.0 .1 + x.1 .1) + y.0 .1 + y.1 .1,
                0.5 * (x.0 .2 + x.1 .2) + y.0 .2 + y.1 .2,
            );
        }
        for (j, (&(re, im), &z)) in self.cross.iter().zip(&self.z_tile).enumerate() {
            acc.xyz[t + j] = (re, im, z);
        }
        if n % 2 == 1 {
            acc.xyz[n / 2] = self.middle;
        }
        for ((p, x), y) in acc.pop.iter_mut().zip(&d.pop).zip(&o.pop) {
            *p = x + 2.0 * y;
        }
        acc.sq = d.sq + 2.0 * o.sq;
        acc.shift = d.shift + 2.0 * o.shift;
        acc.finish(n.div_ceil(2))
    }
}

/// A tile's parts and `H0_ss`, the row's `H0` terms, a transposed tile.
struct TileScratch {
    split: Scratch,
    terms: Vec<f64>,
    transposed: Vec<Complex64>,
}

impl TileScratch {
    fn new(len: usize) -> Self {
        TileScratch { split: Scratch::new(len), terms: Vec::new(), transposed: vec![Complex64::new(0.0, 0.0); len] }
    }
}

/// [`tile_row`] compiled for AVX2 and FMA.
///
/// # Safety
/// The CPU must support AVX2 and FMA ([`simd_available`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn tile_row_avx2(tiles: &dyn SymmetricTiles, a: usize, m: f64, acc: &mut TileAcc, sc: &mut TileScratch) {
    tile_row(tiles, a, m, acc, sc);
}

/// Without AVX2 (not reached: [`simd_available`] is false off x86-64).
#[cfg(not(target_arch = "x86_64"))]
unsafe fn tile_row_avx2(tiles: &dyn SymmetricTiles, a: usize, m: f64, acc: &mut TileAcc, sc: &mut TileScratch) {
    tile_row(tiles, a, m, acc, sc);
}

/// The sums of [`row_moments`] over tile row `a`: the in-tile sums of its stored tiles
/// `(a, Q ≥ a)`, and the cross-tile pairs of the full matrix's tile row `a`.
#[inline(always)]
fn tile_row(tiles: &dyn SymmetricTiles, a: usize, m: f64, acc: &mut TileAcc, sc: &mut TileScratch) {
    let (t, side, layers) = (tiles.tile_bits(), tiles.tiles_per_side(), tiles.layers());
    let z = |x: usize, j: usize| if (x >> j) & 1 == 1 { 1.0 } else { -1.0 };
    tiles.row_terms(a, &mut sc.terms);
    for c in 0..layers {
        for q in a..side {
            let x = tiles.tile(c, a, q);
            let part = usize::from(q != a);
            // w/2: the full matrix holds a tile off the diagonal twice
            let w_half = if q == a { 0.5 } else { 1.0 };
            let high_up = (a.count_ones() + q.count_ones()) as usize + c;
            let weight = in_block(x, high_up, 2 * t, &mut acc.local[part], &mut sc.split);
            for (j, zt) in acc.z_tile.iter_mut().enumerate() {
                *zt += w_half * weight * (z(a, j) + z(q, j));
            }
            if layers == 2 {
                acc.middle.2 += 2.0 * w_half * weight * z(c, 0);
                if c == 0 {
                    let (re, im) = tile_dot(tiles.tile(1, a, q), x);
                    acc.middle.0 += 2.0 * w_half * re;
                    acc.middle.1 += 2.0 * w_half * im;
                }
            }
            // after in_block, which folds its Z sums in `d`
            tiles.tile_h0(c, q, &sc.terms, &mut sc.split.d);
            for d in sc.split.d.iter_mut() {
                *d -= m;
            }
            let (s1, s2) = weighted_moments(&sc.split.p, &sc.split.d);
            acc.local[part].shift += s1;
            acc.local[part].sq += s2;
        }
        // the full matrix's tile (a, q): stored (a, q) where a ≤ q, else (q, a) transposed
        // (into scratch once, where a plain tile pairs with it)
        for q in 0..side {
            let down_plain = a <= q;
            let mut transposed = false;
            for (j, cross) in acc.cross.iter_mut().enumerate() {
                if (q >> j) & 1 == 1 {
                    continue;
                }
                let u = q | (1 << j);
                let (re, im) = if down_plain {
                    tile_dot(tiles.tile(c, a, u), tiles.tile(c, a, q))
                } else if u < a {
                    // both transposed: the same product of the stored tiles
                    tile_dot(tiles.tile(c, u, a), tiles.tile(c, q, a))
                } else {
                    if !transposed {
                        transpose_tile(tiles.tile(c, q, a), t, &mut sc.transposed);
                        transposed = true;
                    }
                    tile_dot(tiles.tile(c, a, u), &sc.transposed)
                };
                cross.0 += re;
                cross.1 += im;
            }
        }
    }
}

/// `Σ ū·d` over two tiles (`ū d = (u_r d_r + u_i d_i) + i(u_r d_i − u_i d_r)`).
#[inline(always)]
fn tile_dot(u: &[Complex64], d: &[Complex64]) -> (f64, f64) {
    assert_eq!(u.len(), d.len(), "tile_dot: tiles of different lengths");
    #[cfg(target_arch = "x86_64")]
    {
        if u.len() >= 8 && simd_available() {
            // SAFETY: AVX2 and FMA are present (just checked); equal lengths (asserted)
            return unsafe { tile_dot_avx2(u, d) };
        }
    }
    lane_sums([u, d], |[u, d]| [u.re * d.re + u.im * d.im, u.re * d.im - u.im * d.re]).into()
}

/// [`tile_dot`] by AVX2 registers of two amplitudes: `Re` lane-wise `u·d`, `Im` `u` times
/// `d` with its parts swapped and the new imaginary part negated; four independent
/// accumulators each.
///
/// # Safety
/// The CPU must support AVX2 and FMA, and `u`, `d` have equal lengths.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn tile_dot_avx2(u: &[Complex64], d: &[Complex64]) -> (f64, f64) {
    use std::arch::x86_64::*;
    let n = u.len();
    let (up, dp) = (u.as_ptr().cast::<f64>(), d.as_ptr().cast::<f64>());
    // (+1, −1) per amplitude: (d_i, −d_r) from the swapped (d_i, d_r)
    let sign = _mm256_setr_pd(1.0, -1.0, 1.0, -1.0);
    let mut re = [_mm256_setzero_pd(); 4];
    let mut im = [_mm256_setzero_pd(); 4];
    let full = n - n % 8;
    let mut k = 0;
    while k < full {
        for l in 0..4 {
            // SAFETY: amplitudes k + 2l, k + 2l + 1 < full ≤ n of both slices
            let (x, y) =
                unsafe { (_mm256_loadu_pd(up.add(2 * (k + 2 * l))), _mm256_loadu_pd(dp.add(2 * (k + 2 * l)))) };
            re[l] = _mm256_fmadd_pd(x, y, re[l]);
            let swapped = _mm256_mul_pd(_mm256_permute_pd(y, 0b0101), sign);
            im[l] = _mm256_fmadd_pd(x, swapped, im[l]);
        }
        k += 8;
    }
    let sum = |v: [__m256d; 4]| {
        let s = _mm256_add_pd(_mm256_add_pd(v[0], v[1]), _mm256_add_pd(v[2], v[3]));
        let mut out = [0.0f64; 4];
        // SAFETY: four f64 into a four-f64 array
        unsafe { _mm256_storeu_pd(out.as_mut_ptr(), s) };
        out.iter().sum::<f64>()
    };
    let (mut r, mut i) = (sum(re), sum(im));
    for (x, y) in u[full..].iter().zip(&d[full..]) {
        r += x.re * y.re + x.im * y.im;
        i += x.re * y.im - x.im * y.re;
    }
    (r, i)
}

/// `out[x·2^t + y] = tile[y·2^t + x]`, in `8 × 8` blocks.
#[inline(always)]
fn transpose_tile(tile: &[Complex64], t: usize, out: &mut [Complex64]) {
    let side = 1usize << t;
    let step = side.min(8);
    for x0 in (0..side).step_by(step) {
        for y0 in (0..side).step_by(step) {
            for x in x0..x0 + step {
                for y in y0..y0 + step {
                    out[x * side + y] = tile[y * side + x];
                }
            }
        }
    }
}

/// The sums of [`state_moments`] over the blocks one thread has seen.
struct BlockAcc {
    /// `(Re Σ ψ_u^*ψ_d, Im Σ ψ_u^*ψ_d, Σ |ψ_u|² − |ψ_d|²)` per site
    xyz: Vec<(f64, f64, f64)>,
    /// `Σ |ψ_s|²` by number of up spins
    pop: Vec<f64>,
    /// `‖(H0 − m)ψ‖²`
    sq: f64,
    /// `⟨ψ|H0 − m|ψ⟩`
    shift: f64,
}

impl BlockAcc {
    fn new(n: usize) -> Self {
        BlockAcc { xyz: vec![(0.0, 0.0, 0.0); n], pop: vec![0.0; n + 1], sq: 0.0, shift: 0.0 }
    }

    /// Both threads' sums.
    fn merge(mut self, other: BlockAcc) -> BlockAcc {
        self.xyz.iter_mut().zip(other.xyz).for_each(|(x, y)| {
            x.0 += y.0;
            x.1 += y.1;
            x.2 += y.2;
        });
        self.pop.iter_mut().zip(other.pop).for_each(|(x, y)| *x += y);
        self.sq += other.sq;
        self.shift += other.shift;
        self
    }

    /// The moments from the sums over every block: normalised, sites `upto..N` mirrored.
    fn finish(self, upto: usize) -> Result<StateMoments> {
        let n = self.xyz.len();
        let norm: f64 = self.pop.iter().sum();
        if !(norm.is_finite() && norm > 0.0) {
            return Err(invalid("psi", format!("a vector of norm² {norm}"), "must have a finite, non-zero norm"));
        }
        let mut bloch: Vec<[f64; 3]> =
            self.xyz.iter().map(|&(x, y, z)| [2.0 * x / norm, 2.0 * y / norm, z / norm]).collect();
        for i in upto..n {
            bloch[i] = bloch[n - 1 - i];
        }
        let delta = self.shift / norm;
        Ok(StateMoments {
            bloch,
            populations: self.pop.iter().map(|p| p / norm).collect(),
            variance: (self.sq / norm - delta * delta).max(0.0),
        })
    }
}

/// One block's amplitudes split into real and imaginary parts, `|ψ|²` and `H0_ss − m`:
/// every sum of [`block_moments`] runs over contiguous `f64` slices in independent lanes.
struct Scratch {
    re: Vec<f64>,
    im: Vec<f64>,
    p: Vec<f64>,
    d: Vec<f64>,
}

impl Scratch {
    fn new(len: usize) -> Self {
        Scratch { re: vec![0.0; len], im: vec![0.0; len], p: vec![0.0; len], d: vec![0.0; len] }
    }
}

/// What every block of [`state_moments`] shares.
struct BlockContext<'a> {
    ops: &'a Operators,
    psi: &'a [Complex64],
    /// sites within a block
    low: usize,
    /// sites measured (the rest mirrored)
    upto: usize,
    /// `H0` diagonal (`α = 0`)
    diagonal: bool,
    /// the shift of `H0` for the variance
    m: f64,
}

/// Whether the CPU runs [`block_moments_avx2`] (AVX2 and FMA, detected at run time).
fn simd_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// [`block_moments`] compiled for AVX2 (four `f64` lanes a register instead of SSE2's two).
///
/// # Safety
/// The CPU must support AVX2 and FMA ([`simd_available`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn block_moments_avx2(ctx: &BlockContext<'_>, c: usize, acc: &mut BlockAcc, sc: &mut Scratch) {
    block_moments(ctx, c, acc, sc);
}

/// Without AVX2 (not reached: [`simd_available`] is false off x86-64).
#[cfg(not(target_arch = "x86_64"))]
unsafe fn block_moments_avx2(ctx: &BlockContext<'_>, c: usize, acc: &mut BlockAcc, sc: &mut Scratch) {
    block_moments(ctx, c, acc, sc);
}

/// The sums of [`state_moments`] over block `c` (amplitudes `c·2^low ..`) added to `acc`.
#[inline(always)]
fn block_moments(ctx: &BlockContext<'_>, c: usize, acc: &mut BlockAcc, sc: &mut Scratch) {
    let BlockContext { ops, psi, low, upto, diagonal, m } = *ctx;
    let len = 1usize << low;
    let base = c << low;
    let x = &psi[base..base + len];
    let weight = in_block(x, c.count_ones() as usize, low.min(upto), acc, sc);
    for (i, a) in acc.xyz.iter_mut().enumerate().take(upto).skip(low) {
        let hb = 1usize << (i - low);
        if c & hb == 0 {
            let y = &psi[(c | hb) << low..((c | hb) + 1) << low];
            let pair = x.iter().zip(y).map(|(vd, vu)| vu.conj() * vd).sum::<Complex64>();
            a.0 += pair.re;
            a.1 += pair.im;
            a.2 -= weight;
        } else {
            a.2 += weight;
        }
    }
    if diagonal {
        // (H0 − m)ψ_s = (H0_ss − m)ψ_s
        for (s, e) in sc.d.iter_mut().enumerate() {
            *e = ops.field_energy(base + s) + ops.diag_g()[base + s] - m;
        }
        let (a, b) = weighted_moments(&sc.p, &sc.d);
        acc.shift += a;
        acc.sq += b;
    } else {
        for (o, v) in x.iter().enumerate() {
            let r = ops.h0_row(psi, base + o) - v * m;
            acc.sq += r.norm_sqr();
            acc.shift += (v.conj() * r).re;
        }
    }
}

/// The in-block sums of one block `x` of `2^low` amplitudes whose other sites hold
/// `high_up` up spins: its `|ψ_s|²` by magnetisation, and the Bloch sums of sites
/// `0..sites` (their flips stay inside the block); returns `Σ |ψ_s|²`.
#[inline(always)]
fn in_block(x: &[Complex64], high_up: usize, sites: usize, acc: &mut BlockAcc, sc: &mut Scratch) -> f64 {
    let len = x.len();
    for (((r, i), q), v) in sc.re.iter_mut().zip(sc.im.iter_mut()).zip(sc.p.iter_mut()).zip(x) {
        (*r, *i, *q) = (v.re, v.im, v.norm_sqr());
    }
    let (re, im, p) = (&sc.re, &sc.im, &sc.p);
    let weight = lane_sum(p);
    add_populations(p, high_up, &mut acc.pop);
    z_sums(p, sites, &mut sc.d, &mut acc.xyz);
    // sites whose pairs lie within a chunk that stays in L1 are summed chunk by chunk,
    // every such site on a chunk before the next (one read of the block from L2, not one
    // per site); the chunk's three nearest sites by fixed patterns (blocks of fewer than
    // 8 amplitudes take the general loop)
    let near = if len >= 8 { sites.min(NEAR_SITES) } else { 0 };
    let chunk_bits = CHUNK_BITS.min(len.trailing_zeros() as usize);
    let inner = sites.min(chunk_bits).max(near);
    for start in (0..len).step_by(1 << chunk_bits) {
        let r = start..start + (1 << chunk_bits);
        if near > 0 {
            near_pairs(&re[r.clone()], &im[r.clone()], &mut acc.xyz[..near]);
        }
        for (i, a) in acc.xyz.iter_mut().enumerate().take(inner).skip(near) {
            add_site_pairs(&re[r.clone()], &im[r.clone()], 1 << i, a);
        }
    }
    for (i, a) in acc.xyz.iter_mut().enumerate().take(sites).skip(inner) {
        add_site_pairs(re, im, 1 << i, a);
    }
    weight
}

/// The `Z` sums `Σ_s |ψ_s|² z_i(s)` of sites `0..sites` over one block (`p = |ψ|²` by
/// index within the block, `2^b` long) added to `xyz[i].2`, by folding the block in half
/// from its top site down: at site `i` the array holds the weights summed over the sites
/// above, its upper half minus its lower half is site `i`'s sum, and the halves added are
/// the next array (`2 · 2^b` additions for every site, instead of `2^b` for each).
#[inline(always)]
fn z_sums(p: &[f64], sites: usize, fold: &mut [f64], xyz: &mut [(f64, f64, f64)]) {
    let len = p.len();
    if len < 2 {
        return;
    }
    let top = len.trailing_zeros() as usize;
    // the first fold reads `p`, the later ones fold `fold` in place
    let half = len / 2;
    let (lo, hi) = p.split_at(half);
    if top - 1 < sites {
        xyz[top - 1].2 += lane_sum(hi) - lane_sum(lo);
    }
    for ((f, l), h) in fold[..half].iter_mut().zip(lo).zip(hi) {
        *f = l + h;
    }
    for i in (0..top - 1).rev() {
        let (lo, hi) = fold[..2 << i].split_at_mut(1 << i);
        if i < sites {
            xyz[i].2 += lane_sum(hi) - lane_sum(lo);
        }
        for (l, h) in lo.iter_mut().zip(hi.iter()) {
            *l += h;
        }
    }
}

/// Sites of the chunks [`in_block`] sums in L1: `2^9` amplitudes, `3 × 4` KiB of parts.
const CHUNK_BITS: usize = 9;

/// The `X`, `Y` Bloch sums `(Re Σ ψ_u^*ψ_d, Im Σ ψ_u^*ψ_d)` of the site whose flip is
/// `bit` over amplitudes `re + i·im` (every pair inside), added to `a.0`, `a.1` (the `Z`
/// sums come from [`z_sums`]): in [`LANES`] partial sums kept across the whole slice
/// (pairs at least a lane apart), reduced once at the end.
#[inline(always)]
fn add_site_pairs(re: &[f64], im: &[f64], bit: usize, a: &mut (f64, f64, f64)) {
    if bit < LANES {
        for start in (0..re.len()).step_by(2 * bit) {
            let (d, u) = (start..start + bit, start + bit..start + 2 * bit);
            let (r, q) = pair_dot(&re[d.clone()], &im[d.clone()], &re[u.clone()], &im[u.clone()]);
            a.0 += r;
            a.1 += q;
        }
        return;
    }
    let (mut xr, mut xi) = ([0.0; LANES], [0.0; LANES]);
    for start in (0..re.len()).step_by(2 * bit) {
        let (rd, ru) = re[start..start + 2 * bit].split_at(bit);
        let (id, iu) = im[start..start + 2 * bit].split_at(bit);
        let lanes =
            rd.chunks_exact(LANES).zip(ru.chunks_exact(LANES)).zip(id.chunks_exact(LANES).zip(iu.chunks_exact(LANES)));
        for ((rd, ru), (id, iu)) in lanes {
            for l in 0..LANES {
                xr[l] += ru[l] * rd[l] + iu[l] * id[l];
                xi[l] += ru[l] * id[l] - iu[l] * rd[l];
            }
        }
    }
    a.0 += xr.iter().sum::<f64>();
    a.1 += xi.iter().sum::<f64>();
}

/// Sites whose flips pair amplitudes closer than [`LANES`]: summed chunk by chunk
/// ([`near_pairs`]).
const NEAR_SITES: usize = 3;

/// The `X`, `Y` Bloch sums `(Re Σ ψ_u^*ψ_d, Im Σ ψ_u^*ψ_d)` of sites `0..xyz.len()` (at
/// most [`NEAR_SITES`]) added to `xyz`: their pairs lie within each chunk of 8 amplitudes,
/// so one pass over the chunks with fixed pair patterns (lane accumulators the compiler
/// can keep in registers) serves all three.
#[inline(always)]
fn near_pairs(re: &[f64], im: &[f64], xyz: &mut [(f64, f64, f64)]) {
    const PAIRS: [[(usize, usize); 4]; NEAR_SITES] =
        [[(0, 1), (2, 3), (4, 5), (6, 7)], [(0, 2), (1, 3), (4, 6), (5, 7)], [(0, 4), (1, 5), (2, 6), (3, 7)]];
    let mut sums = [[[0.0f64; 4]; 2]; NEAR_SITES];
    for (r, i) in re.chunks_exact(8).zip(im.chunks_exact(8)) {
        for (pairs, acc) in PAIRS.iter().zip(sums.iter_mut()).take(xyz.len()) {
            for (l, &(d, u)) in pairs.iter().enumerate() {
                acc[0][l] += r[u] * r[d] + i[u] * i[d];
                acc[1][l] += r[u] * i[d] - i[u] * r[d];
            }
        }
    }
    for (a, acc) in xyz.iter_mut().zip(&sums) {
        a.0 += acc[0].iter().sum::<f64>();
        a.1 += acc[1].iter().sum::<f64>();
    }
}

/// `pop[high_up + M] += Σ_{s: M up spins in s} p_s` over one block (`p` by index within
/// the block, `high_up` the up spins the block fixes): per row of 64, the sums of the
/// seven popcount classes of the low six bits (gathered in class order, independent
/// chains), instead of one dependent scattered addition per amplitude.
#[inline(always)]
fn add_populations(p: &[f64], high_up: usize, pop: &mut [f64]) {
    if p.len() < 64 {
        for (s, &q) in p.iter().enumerate() {
            pop[high_up + s.count_ones() as usize] += q;
        }
        return;
    }
    // the 64 six-bit patterns ordered by popcount, and where each class starts
    const ORDER: [u8; 64] = {
        let mut order = [0u8; 64];
        let mut k = 0;
        let mut m = 0;
        while m <= 6 {
            let mut s = 0;
            while s < 64 {
                if (s as u32).count_ones() == m {
                    order[k] = s as u8;
                    k += 1;
                }
                s += 1;
            }
            m += 1;
        }
        order
    };
    const STARTS: [usize; 8] = [0, 1, 7, 22, 42, 57, 63, 64];
    for (row, x) in p.chunks_exact(64).enumerate() {
        let base = high_up + row.count_ones() as usize;
        for m in 0..7 {
            let class = &ORDER[STARTS[m]..STARTS[m + 1]];
            pop[base + m] += class.iter().map(|&s| x[s as usize]).sum::<f64>();
        }
    }
}

/// `Σ x` ([`lane_sums`]).
#[inline(always)]
fn lane_sum(x: &[f64]) -> f64 {
    lane_sums([x], |[v]| [v])[0]
}

/// `Σ_s ψ_u(s)^* ψ_d(s)` for `ψ_d = dr + i·di`, `ψ_u = ur + i·ui` (real and imaginary
/// parts) ([`lane_sums`]).
#[inline(always)]
fn pair_dot(dr: &[f64], di: &[f64], ur: &[f64], ui: &[f64]) -> (f64, f64) {
    let [re, im] = lane_sums([dr, di, ur, ui], |[a, b, c, e]| [c * a + e * b, c * b - e * a]);
    (re, im)
}

/// `(Σ p·d, Σ p·d²)` ([`lane_sums`]).
#[inline(always)]
fn weighted_moments(p: &[f64], d: &[f64]) -> (f64, f64) {
    let [s1, s2] = lane_sums([p, d], |[p, d]| {
        let w = p * d;
        [w, w * d]
    });
    (s1, s2)
}

/// Sites whose flips [`bloch_vectors`] pairs within one block of `2^12` amplitudes.
const BLOCH_BLOCK_BITS: usize = 12;

/// `Σ_{k, l ∈ bits(s)} w` over pairs of set bits `k < l` of `s`, added to `acc[k][l]`
/// (upper triangle of an `n × n` row-major matrix).
#[inline]
fn add_pairs(acc: &mut [f64], n: usize, mut s: usize, w: f64) {
    while s != 0 {
        let k = s.trailing_zeros() as usize;
        s &= s - 1;
        let mut rest = s;
        while rest != 0 {
            let l = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            acc[k * n + l] += w;
        }
    }
}

/// Connected correlations `C_ij = ⟨Z_i Z_j⟩ − ⟨Z_i⟩⟨Z_j⟩` as an `N × N` symmetric matrix
/// (rows of `Vec`), with `C_ii = 1 − ⟨Z_i⟩²`. Zero off the diagonal in a product state.
///
/// Computed from the probabilities `p_s = |ψ_s|²/⟨ψ|ψ⟩` and occupations `n_i = (1 + z_i)/2`
/// as `C_ij = 4 (⟨n_i n_j⟩ − ⟨n_i⟩⟨n_j⟩)`, the pair moments in two levels: the index
/// splits into `10` low sites and `N − 10` high ones; the marginal of the high block, the
/// marginal of the low block and the per-block low-site sums give every pair in
/// `O(2^N · 6)` plus `O(2^(N−10) (N−10)² + 2^10·10²)`, instead of `O(2^N N²)`.
///
/// # Errors
/// [`crate::SpinbatError::InvalidParameter`] for a bad `ψ`.
pub fn zz_connected(psi: &[Complex64], n_sites: usize) -> Result<Vec<Vec<f64>>> {
    let norm = norm_sqr(psi, n_sites)?;
    let n = n_sites;
    let k = n.min(ZZ_LOW_SITES);
    let block = 1usize << k;
    // per block h: P_h = Σ_lo p and m_i = Σ_lo p n_i(lo) for the low sites
    let per_block: Vec<(f64, Vec<f64>)> = psi
        .par_chunks(block)
        .map(|blk| {
            let mut m = vec![0.0; k];
            let mut total = 0.0;
            for (lo, a) in blk.iter().enumerate() {
                let p = a.norm_sqr() / norm;
                total += p;
                let mut bits = lo;
                while bits != 0 {
                    m[bits.trailing_zeros() as usize] += p;
                    bits &= bits - 1;
                }
            }
            (total, m)
        })
        .collect();
    // marginal of the low block, r_lo = Σ_h p
    let r: Vec<f64> = psi
        .par_chunks(block)
        .fold(
            || vec![0.0; block],
            |mut r, blk| {
                for (x, a) in r.iter_mut().zip(blk) {
                    *x += a.norm_sqr() / norm;
                }
                r
            },
        )
        .reduce(
            || vec![0.0; block],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
                a
            },
        );
    // pair moments ⟨n_i n_j⟩ (upper triangle) and occupations ⟨n_i⟩
    let mut pair = vec![0.0; n * n];
    let mut occ = vec![0.0; n];
    for (lo, &p) in r.iter().enumerate() {
        add_pairs(&mut pair, n, lo, p);
        let mut bits = lo;
        while bits != 0 {
            occ[bits.trailing_zeros() as usize] += p;
            bits &= bits - 1;
        }
    }
    for (h, (ph, m)) in per_block.iter().enumerate() {
        // high–high pairs and high occupations from the block marginal; bits of h are
        // sites k.. (shifted by k)
        add_pairs(&mut pair, n, h << k, *ph);
        let mut bits = h;
        while bits != 0 {
            let j = bits.trailing_zeros() as usize + k;
            bits &= bits - 1;
            occ[j] += ph;
            // low–high pairs: Σ_h n_j(h) m_i(h)
            for (i, mi) in m.iter().enumerate() {
                pair[i * n + j] += mi;
            }
        }
    }
    let mut c = vec![vec![0.0; n]; n];
    for i in 0..n {
        c[i][i] = 4.0 * occ[i] * (1.0 - occ[i]); // 1 − ⟨Z_i⟩², ⟨Z_i⟩ = 2⟨n_i⟩ − 1
        for j in i + 1..n {
            let v = 4.0 * (pair[i * n + j] - occ[i] * occ[j]);
            c[i][j] = v;
            c[j][i] = v;
        }
    }
    Ok(c)
}

/// Energy variance `Var(H0) = ⟨H0²⟩ − ⟨H0⟩²` (units `B²`): the spread of the stored
/// energy, `0` in an eigenstate of `H0` (such as the all-down start).
///
/// `H0ψ` is streamed row by row ([`Operators::h0_row`]) and never stored: one pass for
/// `⟨H0⟩`, a second for `Var = ‖(H0 − ⟨H0⟩)ψ‖² / ⟨ψ|ψ⟩` (no cancellation of
/// `‖H0ψ‖² − ⟨H0⟩²`, `≥ 0` by construction). Cost: two `H0` applications,
/// `O(2^N (1 + P))` each (`P` flip-flop pairs, `0` for `α = 0`), no memory beyond `ψ`.
///
/// # Errors
/// [`crate::SpinbatError::InvalidParameter`] for a bad `ψ` or one whose length is not
/// that of `ops`.
pub fn energy_variance(ops: &Operators, psi: &[Complex64]) -> Result<f64> {
    let n_sites = ops.dim().trailing_zeros() as usize;
    let norm = norm_sqr(psi, n_sites)?;
    let rows = || (0..psi.len()).into_par_iter().with_min_len(1 << 12);
    let mean = rows().map(|s| (psi[s].conj() * ops.h0_row(psi, s)).re).sum::<f64>() / norm;
    let var = rows().map(|s| (ops.h0_row(psi, s) - psi[s] * mean).norm_sqr()).sum::<f64>() / norm;
    Ok(var)
}

/// Checks a density matrix of `N` sites (`2^N × 2^N` by columns) and returns its trace.
fn density_trace(n_sites: usize, rho: &[Complex64]) -> Result<f64> {
    if n_sites == 0 || n_sites > MAX_EXACT_SITES / 2 {
        return Err(invalid("n_sites", n_sites, "out of range for a density matrix"));
    }
    let dim = 1usize << n_sites;
    if rho.len() != dim * dim {
        return Err(invalid("rho", format!("{} entries", rho.len()), format!("must be 2^N x 2^N = {dim} x {dim}")));
    }
    let trace: f64 = (0..dim).map(|s| rho[s + dim * s].re).sum();
    if !(trace.is_finite() && trace > 0.0) {
        return Err(invalid("rho", format!("trace {trace}"), "must be finite and positive"));
    }
    Ok(trace)
}

/// Per-site Bloch vectors of a density matrix `ρ` (`2^N × 2^N` by columns:
/// `rho[c·2^N + r] = ρ_rc`): `x_i + i y_i = 2 Σ_{s: bit i down} ρ_{s, s+2^i}`,
/// `z_i = Σ_s ρ_ss z_i(s)`, divided by `Tr ρ` (the conventions of [`bloch_vectors`]: for
/// `ρ = |ψ⟩⟨ψ|` the same numbers).
///
/// # Errors
/// [`crate::SpinbatError::InvalidParameter`] for a matrix of the wrong size or a
/// non-positive trace.
pub fn density_bloch(rho: &[Complex64], n_sites: usize) -> Result<Vec<[f64; 3]>> {
    let trace = density_trace(n_sites, rho)?;
    let (n, dim) = (n_sites, 1usize << n_sites);
    Ok((0..n)
        .map(|i| {
            let bit = 1usize << i;
            let (mut c, mut z) = (Complex64::new(0.0, 0.0), 0.0);
            for s in (0..dim).filter(|s| s & bit == 0) {
                c += rho[s + dim * (s | bit)];
                z += rho[(s | bit) * (dim + 1)].re - rho[s * (dim + 1)].re;
            }
            [2.0 * c.re / trace, 2.0 * c.im / trace, z / trace]
        })
        .collect())
}

/// Connected `⟨Z_iZ_j⟩ − ⟨Z_i⟩⟨Z_j⟩` of a density matrix (by columns, as
/// [`density_bloch`]): from its diagonal alone.
///
/// # Errors
/// As [`density_bloch`].
pub fn density_zz(rho: &[Complex64], n_sites: usize) -> Result<Vec<Vec<f64>>> {
    let trace = density_trace(n_sites, rho)?;
    let (n, dim) = (n_sites, 1usize << n_sites);
    let z = |s: usize, i: usize| if (s >> i) & 1 == 1 { 1.0 } else { -1.0 };
    let mut single = vec![0.0; n];
    let mut pair = vec![vec![0.0; n]; n];
    for s in 0..dim {
        let p = rho[s * (dim + 1)].re / trace;
        for (i, (one, row)) in single.iter_mut().zip(pair.iter_mut()).enumerate() {
            *one += p * z(s, i);
            for (j, entry) in row.iter_mut().enumerate() {
                *entry += p * z(s, i) * z(s, j);
            }
        }
    }
    Ok((0..n).map(|i| (0..n).map(|j| pair[i][j] - single[i] * single[j]).collect()).collect())
}

/// `Var(H0) = Tr(ρH0²)/Tr ρ − (Tr(ρH0)/Tr ρ)²` of a density matrix (by columns, as
/// [`density_bloch`]): `A = H0ρ` column by column ([`Operators::h0_row`]), then
/// `Tr(ρH0) = Σ_{r,c} H0_{cr} ρ_{rc}` and `Tr(ρH0²) = Σ_{r,c} H0_{cr} A_{rc}` along the
/// columns of `H0` ([`Operators::column_h0`]). Cost `O(4^N (1 + P))`, `16·2^N` bytes.
///
/// # Errors
/// As [`density_bloch`].
pub fn density_variance(ops: &Operators, rho: &[Complex64]) -> Result<f64> {
    let dim = ops.dim();
    let trace = density_trace(dim.trailing_zeros() as usize, rho)?;
    let (first, second) = (0..dim)
        .into_par_iter()
        .map(|c| {
            let col = &rho[c * dim..(c + 1) * dim];
            let (mut e1, mut e2) = (0.0, 0.0);
            ops.column_h0(c, |r, v| {
                // H0_{rc} = H0_{cr}: row c of H0 met through column c
                e1 += v * rho[r + dim * c].re;
                e2 += v * ops.h0_row(col, r).re;
            });
            (e1, e2)
        })
        .reduce(|| (0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
    let mean = first / trace;
    Ok((second / trace - mean * mean).max(0.0))
}
