//! The reflection-even sector: `H` and `H0` on the states with `ψ(s) = ψ(Rs)`, where `R`
//! maps site `i` to `N − 1 − i`.
//!
//! **Why it is exact.** For couplings with `g_ij = g_{N−1−i, N−1−j}` (every `|i − j|` pattern,
//! open or periodic, and symmetric matrices of that kind) `R` commutes with `H_g`, `V` and
//! `H_B`, and `ψ_0 = |↓…↓⟩` is `R`-even, so `ψ(t)` stays in the even sector, of dimension
//! `(2^N + 2^⌈N/2⌉)/2`: half the memory and half the work of the full space. (The global
//! spin flip `P = Π X_i` also commutes with `H`, but `ψ_0` has equal weight in both parity
//! sectors and `H_B` couples them, so both are needed at every time: no saving.)
//!
//! **Layout.** With `L = ⌊N/2⌋`, write a basis state as `(c, a, b)`: `b` the bits of sites
//! `0..L` (bit `k` = site `k`), `a` those of sites `N−1..N−1−L` (bit `k` = site `N−1−k`) and,
//! for odd `N`, `c` the middle site `L`. Then `R(c, a, b) = (c, b, a)`: an even state is a
//! pair (one per `c`) of *symmetric* `2^L × 2^L` matrices `Φ_c[a][b]`. They are stored as
//! their upper triangle of `2^t × 2^t` tiles (`t = min(6, L)`): tile `(A, B)`, `A ≤ B`, holds
//! `Φ[A·2^t + a'][B·2^t + b']` row-major; diagonal tiles are stored whole. A stored
//! amplitude is the amplitude of the full-space state it stands for, so sums over the full
//! space weight off-diagonal tiles by 2 ([`Space::block_weight`]).
//!
//! **Kernel.** Flipping one of the `2t` sites inside a tile permutes the tile; flipping a
//! site of `a` or `b` beyond the tile maps it onto tile `(A ⊕ 2^{k−t}, B)` or
//! `(A, B ⊕ 2^{k−t})`, read directly when it lies in the upper triangle and transposed
//! (`Φ[a][b] = Φ[b][a]`) when not; for odd `N` the middle site maps layer `c` onto `1 − c`.
//! Every pass is a contiguous or tile-transposed addition over data in cache, as in the
//! full-space kernel. The diagonal of `H_g` is stored (`8` bytes per row), built per tile
//! from tables: `D = const + row(a') + col(b') + cross(a', b')`.
//!
//! **The lone step** (one state, whole `64 × 64` tiles, uniform `ω`: every Chebyshev term
//! of the default command) writes each output row once, summing the in-tile flips (within
//! the row, and the tile's other rows) and the partner tiles stored as they are row by row,
//! then adds the transposed partners; it asks for the next tile's partners ahead
//! (`prefetcht1`: most lie in other tile rows, far in memory), and sums the diagonal from
//! the tables in cache instead of reading the stored one.

use super::space::{spectral_enclosure, top_of_h_g, Space, SymmetricTiles};
use crate::error::Result;
use crate::model::Chain;
use crate::numeric::amplitude::{gather, Amplitude};
use num_complex::Complex64;
use rayon::prelude::*;

/// Bits per side of a tile: tiles of `64 × 64 = 4096` rows, like the full-space blocks.
const TILE_BITS: usize = 6;

/// Where a site's bit lives: in `b`, in `a`, or the middle site (`c`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    B(usize),
    A(usize),
    Middle,
}

/// A pair term `amp (|s ⊕ i ⊕ j⟩⟨s|)` in sector coordinates: a flip-flop for anti-parallel
/// sites `i`, `j` (`odd = 1`, `amp = −2αg_ij`), or with XYZ couplings a pair flip for
/// parallel ones (`odd = 0`, `amp = −2αγg_ij`, `σ⁺_iσ⁺_j + σ⁻_iσ⁻_j`). `b_i`, `b_j`: the
/// storage fields of the two sites, for the rate's part `i⟨[H_g, H_B]⟩`.
#[derive(Debug, Clone, Copy)]
struct SectorFlip {
    si: Slot,
    sj: Slot,
    mask_a: usize,
    mask_b: usize,
    mask_c: usize,
    amp: f64,
    odd: usize,
    b_i: f64,
    b_j: f64,
}

/// Shape of the sector for `N` sites (no couplings needed).
#[derive(Debug, Clone, Copy)]
struct Shape {
    half: usize,
    odd: bool,
    t: usize,
    tiles: usize,
    per_layer: usize,
}

impl Shape {
    fn new(n_sites: usize) -> Shape {
        let half = n_sites / 2;
        let t = TILE_BITS.min(half);
        let tiles = 1usize << (half - t);
        Shape { half, odd: n_sites % 2 == 1, t, tiles, per_layer: tiles * (tiles + 1) / 2 }
    }

    fn layers(&self) -> usize {
        1 + self.odd as usize
    }

    fn tile_len(&self) -> usize {
        1 << (2 * self.t)
    }

    fn dim(&self) -> usize {
        self.layers() * self.per_layer * self.tile_len()
    }

    /// Index of tile `(A, B)`, `A ≤ B`, within a layer (row-major upper triangle).
    #[inline(always)]
    fn tri(&self, a: usize, b: usize) -> usize {
        debug_assert!(a <= b && b < self.tiles);
        a * (2 * self.tiles + 1 - a) / 2 + (b - a)
    }

    /// Block (tile) number of tile `(A, B)` of layer `c`, `A ≤ B`.
    #[inline(always)]
    fn block(&self, c: usize, a: usize, b: usize) -> usize {
        c * self.per_layer + self.tri(a, b)
    }
}

/// `H = H_g + V` and `H0 = H_B + H_g` on the reflection-even sector (module docs).
#[derive(Debug, Clone)]
pub struct ReflectionSector {
    n_sites: usize,
    b: f64,
    /// Mirror-symmetric per-site fields (`B_i = B_{N−1−i}`), `None` for a clean chain.
    fields: Option<MirrorFields>,
    omega: f64,
    /// Mirror-symmetric weights of `ω` by distance from the end, `w_k = w_{N−1−k}`,
    /// `k = 0..=L` (`None`: all 1)
    weights: Option<Vec<f64>>,
    /// `H = H0 + V` (the storage field kept on) instead of `H_g + V`
    keep_field: bool,
    shape: Shape,
    /// `(A, B)` of each tile of a layer, in storage order
    coords: Vec<(u32, u32)>,
    diag_g: Vec<f64>,
    /// the tables `diag_g` is built from, a tile at a time ([`ReflectionSector::tile_diagonal`])
    diag_tables: DiagonalTables,
    /// the couplings [`SectorRows`] computes `(H_g)_ss` from, a tile at a time
    block_couplings: BlockCouplings,
    flips: Vec<SectorFlip>,
    /// `[H_g, H_B] ≠ 0` (XYZ pair flips, or per-site fields with flip-flops) with the field
    /// off while charging: the rate has `i⟨[H_g, H_B]⟩` too ([`Space::field_flip_rate`])
    field_flips: bool,
    /// the full space's two-site enclosure of the spectrum of `H`
    bonds: crate::model::BondEnclosure,
}

/// The diagonal of `H_g` on a tile, `D[a'][b'] = const + row[a'] + col[b'] + tab[a'][b']`
/// ([`ReflectionSector::tile_diagonal`]): the tables over the `2t` in-tile sites that do not
/// depend on the tile, and the couplings the per-tile parts are summed from.
#[derive(Debug, Clone, Default)]
struct DiagonalTables {
    /// `−Σ_{k<l<t} g(N−1−k, N−1−l) z_k z_l` over the in-tile bits of `a`
    taa: Vec<f64>,
    /// the same over the in-tile bits of `b` (sites `k`)
    tbb: Vec<f64>,
    /// `−Σ_{k,l<t} g(k, N−1−l) z_k(b') z_l(a')` at `a'·2^t + b'`
    tab: Vec<f64>,
    /// `g_ij` at `i·N + j`
    g: Vec<f64>,
}

impl DiagonalTables {
    fn new(chain: &Chain, t: usize) -> Self {
        let n = chain.n_sites();
        let side = 1usize << t;
        let g = |i: usize, j: usize| chain.coupling(i, j);
        let z = |x: usize, k: usize| if (x >> k) & 1 == 1 { 1.0 } else { -1.0 };
        let pair_table = |site: &dyn Fn(usize) -> usize| -> Vec<f64> {
            (0..side)
                .map(|x| {
                    let mut e = 0.0;
                    for k in 0..t {
                        for l in k + 1..t {
                            e -= g(site(k), site(l)) * z(x, k) * z(x, l);
                        }
                    }
                    e
                })
                .collect()
        };
        let tbb = pair_table(&|k| k);
        let taa = pair_table(&|k| n - 1 - k);
        let tab = (0..side * side)
            .map(|o| {
                let (ai, bi) = (o >> t, o & (side - 1));
                let mut e = 0.0;
                for k in 0..t {
                    for l in 0..t {
                        e -= g(k, n - 1 - l) * z(bi, k) * z(ai, l);
                    }
                }
                e
            })
            .collect();
        let g = (0..n * n).map(|ij| g(ij / n, ij % n)).collect();
        DiagonalTables { taa, tbb, tab, g }
    }
}

/// The couplings of the `⌈N/2⌉` sites `x = (c, b)` of a state `(c, a, b)` (sites `0..L`,
/// then the middle one for odd `N`: bit `k` of `x` is `low_sites[k]`) and the `L` sites
/// `a` fixes (bit `k` of `a` is site `N − 1 − k`), from which [`SectorRows`] computes the
/// diagonal of `H_g` in cache instead of reading the stored one:
/// `(H_g)_(a,x) = P(x) + Σ_k z_k(x) h_k(a) + Q(a)`, `P` the pair energy among the sites
/// of `x`, `h_k(a) = −Σ_l g(low_k, fixed_l) z_l(a)` and `Q` the fixed sites' pair energy.
#[derive(Debug, Clone, Default)]
struct BlockCouplings {
    /// `P(x)` over the `2^⌈N/2⌉` indices within a block
    pairs_low: Vec<f64>,
    /// `g(low_k, fixed_l)` at `k·L + l`
    cross: Vec<f64>,
    /// `g(fixed_k, fixed_l)` at `k·L + l`
    fixed: Vec<f64>,
}

impl BlockCouplings {
    fn new(chain: &Chain, half: usize, odd: bool) -> Self {
        let n = chain.n_sites();
        let low: Vec<usize> = (0..half).chain(odd.then_some(half)).collect();
        let fixed: Vec<usize> = (0..half).map(|k| n - 1 - k).collect();
        let z = |x: usize, k: usize| if (x >> k) & 1 == 1 { 1.0 } else { -1.0 };
        let pairs_low = (0..1usize << low.len())
            .into_par_iter()
            .map(|x| {
                let mut e = 0.0;
                for k in 0..low.len() {
                    for l in k + 1..low.len() {
                        e -= chain.coupling(low[k], low[l]) * z(x, k) * z(x, l);
                    }
                }
                e
            })
            .collect();
        let cross = low.iter().flat_map(|&i| fixed.iter().map(move |&j| chain.coupling(i, j))).collect();
        let fixed = fixed.iter().flat_map(|&i| fixed.iter().map(move |&j| chain.coupling(i, j))).collect();
        BlockCouplings { pairs_low, cross, fixed }
    }
}

impl ReflectionSector {
    /// Whether the chain is reflection symmetric, `g_ij = g_{N−1−i, N−1−j}` (always for
    /// `|i − j|` patterns; checked entry by entry for a matrix).
    ///
    /// Per-site fields must be mirror symmetric too (`B_i = B_{N−1−i}`), and so must
    /// per-site weights of `ω` (`w_i = w_{N−1−i}`, checked by
    /// [`crate::symmetry::is_reflection_symmetric`]); the field may be kept on
    /// ([`Chain::keep_field`]). XYZ couplings (`γ ≠ 0`) keep the symmetry: their pair flips
    /// `σ⁺_iσ⁺_j + σ⁻_iσ⁻_j` map onto those of the mirror pair, and `H` stays real. Where `H_B`
    /// does not commute with the couplings (XYZ, or per-site fields with flip-flops) the
    /// sector measures the rate's part `i⟨[H_g, H_B]⟩` too ([`Space::field_flip_rate`]).
    pub fn applies(chain: &Chain) -> bool {
        crate::symmetry::is_reflection_symmetric(chain)
    }

    /// Stored rows for `N` sites: `(2^N + 2^⌈N/2⌉)/2` up to the whole diagonal tiles,
    /// `layers · T(T+1)/2 · 4^t` with `T = 2^{L−t}` tiles per side.
    pub fn dimension(n_sites: usize) -> usize {
        Shape::new(n_sites).dim()
    }

    /// Bytes held by [`ReflectionSector::new`] (the diagonal of `H_g`, 8 per row).
    pub fn bytes(n_sites: usize) -> f64 {
        8.0 * Self::dimension(n_sites) as f64
    }

    /// Builds the sector operators, in `O(dim)` (the diagonal from per-tile tables).
    ///
    /// # Errors
    /// [`SpinbatError::InvalidParameter`](crate::SpinbatError::InvalidParameter) if the chain is not reflection symmetric;
    /// [`SpinbatError::TooLarge`](crate::SpinbatError::TooLarge) beyond [`crate::basis::MAX_EXACT_SITES`].
    pub fn new(chain: &Chain) -> Result<Self> {
        let n = chain.n_sites();
        if n > crate::basis::MAX_EXACT_SITES {
            return Err(crate::resources::cannot_index("exact", n, Self::bytes(n)));
        }
        if !Self::applies(chain) {
            return Err(crate::error::invalid(
                "couplings",
                "matrix",
                "the reflection sector needs g_ij = g_(N-1-i)(N-1-j) and B_i = B_(N-1-i) (with alpha != 0: one field)",
            ));
        }
        let shape = Shape::new(n);
        let coords: Vec<(u32, u32)> =
            (0..shape.tiles).flat_map(|a| (a..shape.tiles).map(move |b| (a as u32, b as u32))).collect();
        let mut sector = ReflectionSector {
            n_sites: n,
            b: chain.b(),
            fields: chain.site_fields().map(|f| MirrorFields::new(f, shape.half)),
            omega: chain.omega(),
            weights: chain.has_omega_sites().then(|| (0..=shape.half).map(|k| chain.omega_weight(k)).collect()),
            keep_field: chain.keep_field(),
            shape,
            coords,
            diag_g: Vec::new(),
            diag_tables: DiagonalTables::default(),
            block_couplings: BlockCouplings::default(),
            flips: Vec::new(),
            field_flips: !chain.fields_commute_with_couplings() && !chain.keep_field(),
            bonds: crate::model::BondEnclosure::of(chain),
        };
        sector.diag_tables = DiagonalTables::new(chain, shape.t);
        sector.diag_g = sector.build_diagonal();
        if chain.alpha() == 0.0 {
            sector.block_couplings = BlockCouplings::new(chain, shape.half, shape.odd);
        }
        // the pair terms of the full space, in sector coordinates: the flip-flops
        // −2αg_ij (odd = 1) and, with XYZ couplings, the pair flips −2αγg_ij (odd = 0)
        let field = |i: usize| chain.site_fields().map_or(chain.b(), |f| f[i]);
        let (alpha, gamma) = (chain.alpha(), chain.gamma());
        let pairs = if alpha == 0.0 { Vec::new() } else { chain.pairs() };
        let terms = pairs
            .iter()
            .map(|&(i, j, g)| (i, j, -2.0 * alpha * g, 1))
            .chain(pairs.iter().filter(|_| gamma != 0.0).map(|&(i, j, g)| (i, j, -2.0 * alpha * gamma * g, 0)));
        sector.flips = terms
            .map(|(i, j, amp, odd)| {
                let (si, sj) = (sector.slot(i), sector.slot(j));
                let (mut mask_a, mut mask_b, mut mask_c) = (0, 0, 0);
                for s in [si, sj] {
                    match s {
                        Slot::A(k) => mask_a |= 1 << k,
                        Slot::B(k) => mask_b |= 1 << k,
                        Slot::Middle => mask_c = 1,
                    }
                }
                SectorFlip { si, sj, mask_a, mask_b, mask_c, amp, odd, b_i: field(i), b_j: field(j) }
            })
            .collect();
        Ok(sector)
    }

    /// Gershgorin's enclosure of the spectrum of `H` on the sector alone.
    fn gershgorin_h(&self) -> (f64, f64) {
        let offdiag = self.flips.iter().map(|f| f.amp.abs()).sum();
        let v_norm = match &self.weights {
            None => self.n_sites as f64 * self.omega.abs(),
            Some(w) => {
                let (l, odd) = (self.shape.half, self.shape.odd);
                let mid = if odd { w[l].abs() } else { 0.0 };
                self.omega.abs() * (2.0 * w[..l].iter().map(|v| v.abs()).sum::<f64>() + mid)
            }
        };
        if self.keep_field {
            let e0 = self.all_down_energy();
            let diag: Vec<f64> = (0..self.dim())
                .into_par_iter()
                .map(|s| self.work_diagonal_at(s, self.coordinates(s), e0) + e0)
                .collect();
            spectral_enclosure(&diag, 1, v_norm, offdiag)
        } else {
            spectral_enclosure(&self.diag_g, 1, v_norm, offdiag)
        }
    }

    /// Where site `i` lives.
    fn slot(&self, i: usize) -> Slot {
        let (n, l) = (self.n_sites, self.shape.half);
        if i < l {
            Slot::B(i)
        } else if self.shape.odd && i == l {
            Slot::Middle
        } else {
            Slot::A(n - 1 - i)
        }
    }

    /// Bit of a site in coordinates `(c, a, b)`.
    #[inline(always)]
    fn bit(slot: Slot, c: usize, a: usize, b: usize) -> usize {
        match slot {
            Slot::A(k) => (a >> k) & 1,
            Slot::B(k) => (b >> k) & 1,
            Slot::Middle => c,
        }
    }

    /// Coordinates `(c, a, b)` of stored row `row`.
    #[inline(always)]
    fn coordinates(&self, row: usize) -> (usize, usize, usize) {
        let sh = &self.shape;
        let tl = sh.tile_len();
        let (block, o) = (row / tl, row % tl);
        let (c, p) = (block / sh.per_layer, block % sh.per_layer);
        let (ta, tb) = self.coords[p];
        let (ai, bi) = (o >> sh.t, o & ((1 << sh.t) - 1));
        (c, ((ta as usize) << sh.t) | ai, ((tb as usize) << sh.t) | bi)
    }

    /// Stored row of the state `(c, a, b)` (or of its mirror image `(c, b, a)`).
    #[inline(always)]
    fn row_of(&self, c: usize, a: usize, b: usize) -> usize {
        let sh = &self.shape;
        let mask = (1 << sh.t) - 1;
        let (ta, tb) = (a >> sh.t, b >> sh.t);
        let (ai, bi) = (a & mask, b & mask);
        if ta <= tb {
            sh.block(c, ta, tb) * sh.tile_len() + (ai << sh.t) + bi
        } else {
            sh.block(c, tb, ta) * sh.tile_len() + (bi << sh.t) + ai
        }
    }

    /// The full-space basis state (bit `i` = site `i` up) that stored row `row` stands
    /// for (one of the pair `s`, `Rs`).
    pub fn full_state(&self, row: usize) -> usize {
        let (c, a, b) = self.coordinates(row);
        let (n, l) = (self.n_sites, self.shape.half);
        let mut s = b;
        if self.shape.odd {
            s |= c << l;
        }
        for k in 0..l {
            s |= ((a >> k) & 1) << (n - 1 - k);
        }
        s
    }

    /// Writes the full-space amplitudes `ψ(s) = φ(row(s))` of the stored state `φ` into
    /// `full` (`2^N` of them; each stored row stands for `s` and `Rs`), by runs: for a
    /// fixed high half `(c, a)`, the low half `b = (B, b_in)` walks tile row `a_in` of tile
    /// `(A, B)` (contiguous rows, copied) or tile column `a_in` of tile `(B, A)` (a
    /// stride of `2^t`).
    ///
    /// # Panics
    /// If `stored` does not have the sector's rows or `full` `2^N` entries (a programming
    /// error).
    pub fn expand<T: Copy + Send + Sync>(&self, stored: &[T], full: &mut [T]) {
        let sh = self.shape;
        assert!(stored.len() == sh.dim() && full.len() == 1usize << self.n_sites, "expand: lengths");
        let (n, l) = (self.n_sites, sh.half);
        full.par_chunks_mut(1 << l).enumerate().for_each(|(hi, out)| {
            let s0 = hi << l;
            let c = if sh.odd { hi & 1 } else { 0 };
            let a = (0..l).fold(0, |acc, k| acc | (((s0 >> (n - 1 - k)) & 1) << k));
            self.fill_row(stored, c, a, out);
        });
    }

    /// Row `a` of layer `c` of the stored symmetric matrix, `out[b] = Φ_c[a][b]` for every
    /// `b` (`2^L` of them): tile row `a_in` of tile `(A, B)` (contiguous, copied) where
    /// `A ≤ B`, tile column `a_in` of tile `(B, A)` (a stride of `2^t`) where not.
    #[inline]
    fn fill_row<T: Copy>(&self, stored: &[T], c: usize, a: usize, out: &mut [T]) {
        let sh = self.shape;
        let t = sh.t;
        let side = 1usize << t;
        let (ta, ai) = (a >> t, a & (side - 1));
        for (tb, run) in out.chunks_exact_mut(side).enumerate() {
            if ta <= tb {
                let base = sh.block(c, ta, tb) * sh.tile_len() + (ai << t);
                run.copy_from_slice(&stored[base..base + side]);
            } else {
                let base = sh.block(c, tb, ta) * sh.tile_len() + ai;
                for (bi, v) in run.iter_mut().enumerate() {
                    *v = stored[base + (bi << t)];
                }
            }
        }
    }

    /// `H0` is diagonal in the basis (no flip-flops: `α = 0`).
    pub fn h0_is_diagonal(&self) -> bool {
        self.flips.is_empty()
    }

    /// The stored state `stored` as a [`SymmetricTiles`] source (its tiles read in place;
    /// `H0_ss` computed a tile at a time from the couplings), where `H0`
    /// is diagonal (`α = 0`); `None` otherwise or for a vector that is not a sector state.
    pub fn rows<'a>(&'a self, stored: &'a [Complex64]) -> Option<SectorRows<'a>> {
        if !self.h0_is_diagonal() || stored.len() != self.shape.dim() {
            return None;
        }
        let low = self.shape.half + self.shape.odd as usize;
        let (b, n) = (self.b, self.n_sites as f64);
        // B Σ_i z_i over the block's sites, and −B·(sites the block fixes)
        let field: Vec<f64> = match &self.fields {
            None => (0..1usize << low).map(|s| b * (2.0 * s.count_ones() as f64 - n)).collect(),
            // sites 0..half from the table, the middle one (odd N) bit `half`
            Some(f) => (0..1usize << low)
                .map(|s| {
                    f.half[s & ((1 << self.shape.half) - 1)] + 2.0 * f.middle * (s >> self.shape.half) as f64 - f.sum
                })
                .collect(),
        };
        let field = field.into_iter().zip(&self.block_couplings.pairs_low).map(|(f, p)| f + p).collect();
        Some(SectorRows { sector: self, stored, low, field })
    }

    /// Stored row of full-space basis state `s` (the same row for `s` and `Rs`).
    pub fn row_of_full_state(&self, s: usize) -> usize {
        let (n, l) = (self.n_sites, self.shape.half);
        let b = s & ((1 << l) - 1);
        let c = if self.shape.odd { (s >> l) & 1 } else { 0 };
        let a = (0..l).fold(0, |acc, k| acc | (((s >> (n - 1 - k)) & 1) << k));
        self.row_of(c, a, b)
    }

    /// Diagonal of `H_g` (stored layout).
    pub fn diag_g(&self) -> &[f64] {
        &self.diag_g
    }

    /// `(H_g)_ss` for every stored row, per tile from [`DiagonalTables`]
    /// ([`ReflectionSector::tile_diagonal`]).
    fn build_diagonal(&self) -> Vec<f64> {
        let sh = self.shape;
        let side = 1usize << sh.t;
        let mut diag = vec![0.0; sh.dim()];
        diag.par_chunks_mut(sh.tile_len()).enumerate().for_each(|(block, out)| {
            let (mut row, mut col) = (vec![0.0; side], vec![0.0; side]);
            let cst = self.tile_diagonal(block, &mut row, &mut col);
            let tab = &self.diag_tables.tab;
            for (o, d) in out.iter_mut().enumerate() {
                let (ai, bi) = (o >> sh.t, o & (side - 1));
                *d = cst + row[ai] + col[bi] + tab[o];
            }
        });
        diag
    }

    /// The parts of `(H_g)_ss` on tile `block`, `D[a'][b'] = const + row[a'] + col[b'] +
    /// tab[a'·2^t + b']` ([`DiagonalTables`]): fills `row`, `col` (`2^t` each) and returns
    /// `const`, the pair energy of the sites the tile fixes. `row[x]` is the pair energy
    /// of the in-tile sites of `a` among themselves plus `Σ_k v_k z_k(x)`, `v_k` the field
    /// the fixed sites put on site `N − 1 − k`; `col` the same for the sites of `b`.
    fn tile_diagonal(&self, block: usize, row: &mut [f64], col: &mut [f64]) -> f64 {
        let sh = self.shape;
        let (n, t) = (self.n_sites, sh.t);
        let tb = &self.diag_tables;
        let g = |i: usize, j: usize| tb.g[i * n + j];
        let z = |x: usize, k: usize| if (x >> k) & 1 == 1 { 1.0 } else { -1.0 };
        let (c, p) = (block / sh.per_layer, block % sh.per_layer);
        let (ta, tbk) = (self.coords[p].0 as usize, self.coords[p].1 as usize);
        // the fixed sites and their z
        let mut fixed = [(0usize, 0.0f64); 64];
        let mut nf = 0;
        for k in t..sh.half {
            fixed[nf] = (k, z(tbk, k - t));
            fixed[nf + 1] = (n - 1 - k, z(ta, k - t));
            nf += 2;
        }
        if sh.odd {
            fixed[nf] = (sh.half, if c == 1 { 1.0 } else { -1.0 });
            nf += 1;
        }
        let fixed = &fixed[..nf];
        let mut cst = 0.0;
        for (x, &(i, zi)) in fixed.iter().enumerate() {
            for &(j, zj) in &fixed[x + 1..] {
                cst -= g(i, j) * zi * zj;
            }
        }
        let field = |site: usize| -> f64 { -fixed.iter().map(|&(j, zj)| g(site, j) * zj).sum::<f64>() };
        let mut u = [0.0; TILE_BITS];
        let mut v = [0.0; TILE_BITS];
        for k in 0..t {
            u[k] = field(k);
            v[k] = field(n - 1 - k);
        }
        for (x, (r, cl)) in row.iter_mut().zip(col.iter_mut()).enumerate() {
            *cl = tb.tbb[x] + (0..t).map(|k| u[k] * z(x, k)).sum::<f64>();
            *r = tb.taa[x] + (0..t).map(|k| v[k] * z(x, k)).sum::<f64>();
        }
        cst
    }

    /// `out[o·m + j] = Σ_i x_j(s_o ⊕ 2^i)` over all sites for the rows `s_o` of block
    /// `block`, `m` interleaved states (module docs: in-tile passes, then the partner tiles,
    /// direct or transposed).
    fn flip_sum_tile<T: Amplitude>(&self, x: &[T], m: usize, block: usize, out: &mut [T]) {
        let sh = &self.shape;
        if m == 1 && sh.t == TILE_BITS && self.weights.is_none() {
            self.flip_sum_tile_rows(x, block, out);
            return;
        }
        let n = sh.tile_len() * m;
        let xb = &x[block * n..(block + 1) * n];
        out.fill(T::default());
        // the weight of sites k and N−1−k (mirror-symmetric weights of ω), or none
        let weight = |k: usize| self.weights.as_ref().map(|w| w[k]);
        for bit in 0..2 * sh.t {
            let half = (1usize << bit) * m;
            // bits 0..t are sites k = bit (of b), bits t..2t sites N−1−k, k = bit − t (of a)
            let w = weight(bit % sh.t);
            for (ob, xsub) in out.chunks_exact_mut(2 * half).zip(xb.chunks_exact(2 * half)) {
                let (olo, ohi) = ob.split_at_mut(half);
                let (xlo, xhi) = xsub.split_at(half);
                if let Some(w) = w {
                    for (o, &xv) in olo.iter_mut().zip(xhi) {
                        *o += xv.scale(w);
                    }
                    for (o, &xv) in ohi.iter_mut().zip(xlo) {
                        *o += xv.scale(w);
                    }
                    continue;
                }
                for (o, &xv) in olo.iter_mut().zip(xhi) {
                    *o += xv;
                }
                for (o, &xv) in ohi.iter_mut().zip(xlo) {
                    *o += xv;
                }
            }
        }
        let side = 1usize << sh.t;
        let add_raw = |out: &mut [T], a: usize, b: usize, c: usize| {
            if a <= b {
                let q = sh.block(c, a, b) * n;
                for (o, &xv) in out.iter_mut().zip(&x[q..q + n]) {
                    *o += xv;
                }
            } else {
                // Φ[a][b] = Φ[b][a]: the stored tile (b, a), transposed
                let q = sh.block(c, b, a) * n;
                let src = &x[q..q + n];
                if m == 1 {
                    add_transposed_tile(out, src, side);
                } else {
                    for ai in 0..side {
                        for bi in 0..side {
                            let (o, s) = ((ai * side + bi) * m, (bi * side + ai) * m);
                            for j in 0..m {
                                out[o + j] += src[s + j];
                            }
                        }
                    }
                }
            }
        };
        // a weighted partner tile: read into a scratch tile, then added scaled
        let add = |out: &mut [T], a: usize, b: usize, c: usize, w: Option<f64>| match w {
            None => add_raw(out, a, b, c),
            Some(w) => {
                let mut buf = [T::default(); 1 << (2 * TILE_BITS)];
                let buf = &mut buf[..n];
                add_raw(buf, a, b, c);
                for (o, &v) in out.iter_mut().zip(buf.iter()) {
                    *o += v.scale(w);
                }
            }
        };
        self.partner_tiles(block, &mut |a, b, c, site| add(out, a, b, c, weight(site)));
    }

    /// [`ReflectionSector::flip_sum_tile`] for one state (`m = 1`), whole `64 × 64` tiles and
    /// uniform weights (the lone Chebyshev step): the output written once, row by row of
    /// the tile, instead of `2t` in-tile passes and one pass per partner tile over it. A
    /// row `a'` of the tile is `Σ_{k<6} x[a'][b' ⊕ 2^k]` (the sites of `b` inside the tile,
    /// permutations within the row, in registers), plus rows `a' ⊕ 2^k` of the same tile
    /// (the sites of `a` inside it), plus row `a'` of each partner tile stored as it is;
    /// partner tiles stored transposed are added after, as in the general kernel.
    fn flip_sum_tile_rows<T: Amplitude>(&self, x: &[T], block: usize, out: &mut [T]) {
        const SIDE: usize = 1 << TILE_BITS;
        let sh = &self.shape;
        let n = SIDE * SIDE;
        let xb = &x[block * n..(block + 1) * n];
        let mut direct: Vec<&[T]> = Vec::with_capacity(2 * sh.half + 1);
        let mut transposed: Vec<&[T]> = Vec::new();
        self.partner_tiles(block, &mut |a, b, c, _| {
            if a <= b {
                let q = sh.block(c, a, b) * n;
                direct.push(&x[q..q + n]);
            } else {
                let q = sh.block(c, b, a) * n;
                transposed.push(&x[q..q + n]);
            }
        });
        // the next tile's partners, most of them far from it in memory (other tile rows),
        // are asked for now, so that their reads overlap this tile's work
        if block + 1 < sh.layers() * sh.per_layer {
            self.partner_tiles(block + 1, &mut |a, b, c, _| {
                let q = sh.block(c, a.min(b), a.max(b)) * n;
                prefetch_tile(&x[q..q + n]);
            });
        }
        for (row, o) in out.chunks_exact_mut(SIDE).enumerate() {
            let o: &mut [T; SIDE] = o.try_into().expect("a tile row");
            let xr: &[T; SIDE] = xb[row * SIDE..(row + 1) * SIDE].try_into().expect("a tile row");
            // sites 0..3 within groups of 8, sites 3..6 between the groups
            for (g, o8) in o.chunks_exact_mut(8).enumerate() {
                let v: &[T; 8] = xr[8 * g..8 * g + 8].try_into().expect("a group of 8");
                let (p, q, r) = (&xr[8 * (g ^ 1)..][..8], &xr[8 * (g ^ 2)..][..8], &xr[8 * (g ^ 4)..][..8]);
                for (i, o) in o8.iter_mut().enumerate() {
                    *o = (v[i ^ 1] + v[i ^ 2]) + (v[i ^ 4] + p[i]) + (q[i] + r[i]);
                }
            }
            for k in 0..TILE_BITS {
                let other = row ^ (1 << k);
                for (o, &v) in o.iter_mut().zip(&xb[other * SIDE..(other + 1) * SIDE]) {
                    *o += v;
                }
            }
            for src in &direct {
                for (o, &v) in o.iter_mut().zip(&src[row * SIDE..(row + 1) * SIDE]) {
                    *o += v;
                }
            }
        }
        for src in transposed {
            add_transposed_tile(out, src, SIDE);
        }
    }

    /// Calls `visit(a, b, c, k)` on the partner tiles of `block` (tile `(A, B)` of layer
    /// `c`) in the full matrix: `(A, B ⊕ f)` and `(A ⊕ f, B)` for the sites `k` and
    /// `N − 1 − k` beyond the tile (`f = 2^{k−t}`), and the other layer's `(A, B)` for the
    /// middle site of odd `N` (`k = ⌊N/2⌋`); stored as `(a, b)` if `a ≤ b`, else transposed
    /// as `(b, a)`.
    #[inline(always)]
    fn partner_tiles(&self, block: usize, visit: &mut dyn FnMut(usize, usize, usize, usize)) {
        let sh = &self.shape;
        let (c, p) = (block / sh.per_layer, block % sh.per_layer);
        let (ta, tb) = (self.coords[p].0 as usize, self.coords[p].1 as usize);
        for k in sh.t..sh.half {
            let f = 1usize << (k - sh.t);
            visit(ta, tb ^ f, c, k);
            visit(ta ^ f, tb, c, k);
        }
        if sh.odd {
            visit(ta, tb, 1 - c, sh.half);
        }
    }

    /// `Σ_pairs amp · x_j[(c, a, b) ⊕ pair]` over the pair terms acting on `(c, a, b)`: the
    /// flip-flops `−2αg_ij` of anti-parallel pairs and the XYZ pair flips `−2αγg_ij` of
    /// parallel ones.
    #[inline(always)]
    fn flip_flop<T: Amplitude>(&self, x: &[T], m: usize, j: usize, (c, a, b): (usize, usize, usize)) -> T {
        let mut acc = T::default();
        for f in &self.flips {
            if Self::bit(f.si, c, a, b) ^ Self::bit(f.sj, c, a, b) == f.odd {
                let row = self.row_of(c ^ f.mask_c, a ^ f.mask_a, b ^ f.mask_b);
                acc += gather(x, row * m + j).scale(f.amp);
            }
        }
        acc
    }
}

impl ReflectionSector {
    /// `E_0 = −Σ_i B_i + H_g` at all-down (row 0).
    fn all_down_energy(&self) -> f64 {
        match &self.fields {
            None => -self.b * self.n_sites as f64 + self.diag_g[0],
            Some(f) => -f.sum + self.diag_g[0],
        }
    }

    /// The diagonal of `H0 − E_0` at row `s` with coordinates `(c, a, b)`:
    /// `B·(2·#up − N) + H_g(s) − E_0`, or with mirror-symmetric fields
    /// `T(a) + T(b) + 2 B_mid c − Σ_i B_i + H_g(s) − E_0` ([`MirrorFields`]).
    #[inline(always)]
    fn work_diagonal_at(&self, s: usize, (c, a, b): (usize, usize, usize), e0: f64) -> f64 {
        match &self.fields {
            None => {
                let n = self.n_sites as f64;
                let mag = 2.0 * (a.count_ones() + b.count_ones() + c as u32) as f64 - n;
                self.b * mag + self.diag_g[s] - e0
            }
            Some(f) => f.half[a] + f.half[b] + 2.0 * f.middle * c as f64 - f.sum + self.diag_g[s] - e0,
        }
    }

    /// `2 Σ_{i∈up} B_i` of the fixed sites of block `a` (site `N−1−k` up for bit `k`).
    #[inline]
    fn fixed_field(&self, a: usize) -> f64 {
        match &self.fields {
            None => 2.0 * self.b * a.count_ones() as f64,
            Some(f) => f.half[a],
        }
    }
}

/// Mirror-symmetric per-site fields on the sector's coordinates: `(c, a, b)` has site `k`
/// up for bit `k` of `b`, site `N−1−k` for bit `k` of `a` and the middle site for `c`, so with
/// `B_k = B_{N−1−k}` its field energy is `T(a) + T(b) + 2 B_mid c − Σ_i B_i`,
/// `T(x) = 2 Σ_{k<⌊N/2⌋} B_k x_k` (`2^⌊N/2⌋` numbers).
#[derive(Debug, Clone)]
struct MirrorFields {
    half: Vec<f64>,
    middle: f64,
    sum: f64,
}

impl MirrorFields {
    fn new(f: &[f64], half: usize) -> Self {
        let table = (0..1usize << half).map(|x| (0..half).map(|k| 2.0 * f[k] * ((x >> k) & 1) as f64).sum()).collect();
        let middle = if f.len() % 2 == 1 { f[half] } else { 0.0 };
        MirrorFields { half: table, middle, sum: f.iter().sum() }
    }
}

impl Space for ReflectionSector {
    fn n_sites(&self) -> usize {
        self.n_sites
    }

    fn omega(&self) -> f64 {
        self.omega
    }

    fn set_omega(&mut self, omega: f64) {
        self.omega = omega;
    }

    fn dim(&self) -> usize {
        self.diag_g.len()
    }

    fn block_len(&self) -> usize {
        self.shape.tile_len()
    }

    fn h_block<T: Amplitude>(&self, x: &[T], block: usize, out: &mut [T]) {
        self.flip_sum_tile(x, 1, block, out);
        let tl = self.shape.tile_len();
        let base = block * tl;
        let w = self.omega;
        if self.keep_field {
            // H = H0 + V: the diagonal of H0, (H0 − E_0)_ss + E_0
            let e0 = self.all_down_energy();
            for (k, (o, &xv)) in out.iter_mut().zip(&x[base..base + tl]).enumerate() {
                let s = base + k;
                let d = self.work_diagonal_at(s, self.coordinates(s), e0) + e0;
                *o = o.scale(w) + xv.scale(d);
            }
        } else if self.shape.t == TILE_BITS {
            // the diagonal summed from its tables in cache (`tile_diagonal`), not read from
            // memory: the same sums, in the same order, as the stored `diag_g`
            const SIDE: usize = 1 << TILE_BITS;
            let (mut row, mut col) = ([0.0; SIDE], [0.0; SIDE]);
            let cst = self.tile_diagonal(block, &mut row, &mut col);
            let tab = &self.diag_tables.tab;
            let rows =
                out.chunks_exact_mut(SIDE).zip(x[base..base + tl].chunks_exact(SIDE)).zip(tab.chunks_exact(SIDE));
            for (((orow, xrow), trow), &r) in rows.zip(&row) {
                for (((o, &xv), &t), &cl) in orow.iter_mut().zip(xrow).zip(trow).zip(&col) {
                    *o = o.scale(w) + xv.scale(cst + r + cl + t);
                }
            }
        } else {
            for ((o, &xv), &d) in out.iter_mut().zip(&x[base..base + tl]).zip(&self.diag_g[base..base + tl]) {
                *o = o.scale(w) + xv.scale(d);
            }
        }
        if !self.flips.is_empty() {
            for (k, o) in out.iter_mut().enumerate() {
                *o += self.flip_flop(x, 1, 0, self.coordinates(base + k));
            }
        }
    }

    fn flip_sum_block<T: Amplitude>(&self, x: &[T], m: usize, block: usize, out: &mut [T]) {
        self.flip_sum_tile(x, m, block, out);
    }

    fn work_block<T: Amplitude>(&self, x: &[T], m: usize, block: usize, out: &mut [T]) {
        let base = block * self.shape.tile_len();
        let e0 = self.all_down_energy();
        for (o, row) in out.chunks_exact_mut(m).enumerate() {
            let s = base + o;
            let (c, a, b) = self.coordinates(s);
            let d = self.work_diagonal_at(s, (c, a, b), e0);
            for (j, y) in row.iter_mut().enumerate() {
                let mut v = x[s * m + j].scale(d);
                if !self.flips.is_empty() {
                    v += self.flip_flop(x, m, j, (c, a, b));
                }
                *y = v;
            }
        }
    }

    /// `i⟨[H_g, H_B]⟩` over the block's rows, as the full space sums it: for each row `s` and pair term to `s'` (amplitude
    /// `a`), `−a (E_B(s) − E_B(s')) Im(ψ̄_{s'} ψ_s)`, where flipping sites `i`, `j` changes
    /// the field energy by `E_B(s) − E_B(s') = 2(B_i z_i(s) + B_j z_j(s))` (`±4B` for an XYZ
    /// pair flip of one field, `0` for its flip-flops). Each stored row stands for `s` and
    /// `Rs`, on which the sum is the same: the kernels weight it by the block's weight.
    fn field_flip_rate(&self, block: usize, m: usize, im_pair: &dyn Fn(usize, usize, usize) -> f64, out: &mut [f64]) {
        if !self.field_flips {
            return;
        }
        let base = block * self.shape.tile_len();
        let z = |bit: usize| 2.0 * bit as f64 - 1.0;
        for s in base..(base + self.shape.tile_len()).min(self.dim()) {
            let (c, a, b) = self.coordinates(s);
            for f in &self.flips {
                let (bi, bj) = (Self::bit(f.si, c, a, b), Self::bit(f.sj, c, a, b));
                if bi ^ bj != f.odd {
                    continue;
                }
                let de = 2.0 * (f.b_i * z(bi) + f.b_j * z(bj));
                if de == 0.0 {
                    continue;
                }
                let r = self.row_of(c ^ f.mask_c, a ^ f.mask_a, b ^ f.mask_b);
                let weight = -f.amp * de;
                for (j, o) in out.iter_mut().enumerate().take(m) {
                    *o += weight * im_pair(r, s, j);
                }
            }
        }
    }

    fn has_field_flip_rate(&self) -> bool {
        self.field_flips
    }

    fn work_diagonal(&self, block: usize, out: &mut [f64]) -> bool {
        if !self.flips.is_empty() {
            return false;
        }
        let base = block * self.shape.tile_len();
        let e0 = self.all_down_energy();
        for (o, d) in out.iter_mut().enumerate() {
            let s = base + o;
            *d = self.work_diagonal_at(s, self.coordinates(s), e0);
        }
        true
    }

    fn block_weight(&self, block: usize) -> f64 {
        let (ta, tb) = self.coords[block % self.shape.per_layer];
        if ta == tb {
            1.0
        } else {
            2.0
        }
    }

    /// Gershgorin around the diagonal of `H` (`H_g`, or `H0` with the field kept on), radius
    /// `|ω| Σ_i |w_i| + Σ|flip-flop elements|`, intersected with the full space's two-site
    /// enclosure ([`crate::model::BondEnclosure`]; the sector's spectrum is part of the full one).
    fn spectral_bounds_h(&self) -> (f64, f64) {
        self.bonds.narrow(self.omega, self.gershgorin_h())
    }

    fn h_g_max_bound(&self) -> f64 {
        top_of_h_g(&self.diag_g, self.flips.iter().map(|f| f.amp.abs()).sum())
    }

    fn description(&self) -> String {
        format!("reflection-even sector, {} of 2^{} states", self.dim(), self.n_sites)
    }
}

/// A reflection-even state as a [`SymmetricTiles`] source ([`ReflectionSector::rows`]).
#[derive(Debug)]
pub struct SectorRows<'a> {
    sector: &'a ReflectionSector,
    stored: &'a [Complex64],
    /// sites `a` does not fix: `⌈N/2⌉` (`b`, and the middle site for odd `N`)
    low: usize,
    /// `B Σ_i z_i` with the fixed sites down, plus the pair energy among the `low` sites
    /// ([`BlockCouplings`]), by `s = (c, b)`
    field: Vec<f64>,
}

impl SectorRows<'_> {
    /// `(F(a), h_0(a), …, h_{low−1}(a))` of `H0_ss = F(a) + Σ_k h_k(a) z_k(s) + field(s)`
    /// for the states `(c, a, b)` of row `a` (`s = (c, b)` the `low` sites `a` does not
    /// fix): `F` the pair energy among the fixed sites plus their field, `h_k` the field
    /// the fixed sites put on site `k` of `s`.
    fn fixed_terms(&self, a: usize, out: &mut [f64]) {
        let sec = self.sector;
        let bc = &sec.block_couplings;
        let half = sec.shape.half;
        let z = |k: usize| if (a >> k) & 1 == 1 { 1.0 } else { -1.0 };
        let mut fixed_pairs = 0.0;
        for k in 0..half {
            for l in k + 1..half {
                fixed_pairs -= bc.fixed[k * half + l] * z(k) * z(l);
            }
        }
        out[0] = fixed_pairs + sec.fixed_field(a);
        for (k, hk) in out[1..=self.low].iter_mut().enumerate() {
            *hk = -(0..half).map(|l| bc.cross[k * half + l] * z(l)).sum::<f64>();
        }
    }
}

impl SymmetricTiles for SectorRows<'_> {
    fn n_sites(&self) -> usize {
        self.sector.n_sites
    }

    fn all_down_energy(&self) -> f64 {
        self.sector.all_down_energy()
    }

    fn tile_bits(&self) -> usize {
        self.sector.shape.t
    }

    fn tiles_per_side(&self) -> usize {
        self.sector.shape.tiles
    }

    fn layers(&self) -> usize {
        self.sector.shape.layers()
    }

    fn tile(&self, c: usize, a: usize, q: usize) -> &[Complex64] {
        let sh = self.sector.shape;
        let start = sh.block(c, a, q) * sh.tile_len();
        &self.stored[start..start + sh.tile_len()]
    }

    fn row_terms(&self, a: usize, out: &mut Vec<f64>) {
        let t = self.sector.shape.t;
        let width = 1 + self.low;
        out.clear();
        out.resize(width << t, 0.0);
        for (x, row) in out.chunks_exact_mut(width).enumerate() {
            self.fixed_terms((a << t) | x, row);
        }
    }

    fn tile_h0(&self, c: usize, q: usize, terms: &[f64], out: &mut [f64]) {
        let sh = self.sector.shape;
        let (t, half) = (sh.t, sh.half);
        let side = 1usize << t;
        let width = 1 + self.low;
        let z = |bit: usize| if bit == 1 { 1.0 } else { -1.0 };
        // the block index of (c, b = Q·2^t + y): y the low t bits
        let s0 = (c << half) | (q << t);
        let field = &self.field[s0..s0 + side];
        for (row, r) in out.chunks_exact_mut(side).zip(terms.chunks_exact(width)) {
            // the sites of Q (and the middle one) fixed within the tile: a constant a row
            let mut base = r[0] + (t..half).map(|k| r[1 + k] * z((q >> (k - t)) & 1)).sum::<f64>();
            if sh.odd {
                base += r[1 + half] * z(c);
            }
            row[0] = base - r[1..=t].iter().sum::<f64>();
            for k in 0..t {
                let (done, next) = row[..2 << k].split_at_mut(1 << k);
                for (y, x) in next.iter_mut().zip(done.iter()) {
                    *y = x + 2.0 * r[1 + k];
                }
            }
            for (e, f) in row.iter_mut().zip(field) {
                *e += f;
            }
        }
    }
}

/// `out[a'][b'] += src[b'][a']` for one state's `side × side` tiles: one contiguous
/// (prefetchable) read of `src` into L1, then the transposed, strided reads from there.
#[inline(always)]
fn add_transposed_tile<T: Amplitude>(out: &mut [T], src: &[T], side: usize) {
    let mut buf = [T::default(); 1 << (2 * TILE_BITS)];
    let buf = &mut buf[..src.len()];
    buf.copy_from_slice(src);
    for (ai, orow) in out.chunks_exact_mut(side).enumerate() {
        for (bi, o) in orow.iter_mut().enumerate() {
            *o += buf[bi * side + ai];
        }
    }
}

/// Asks the CPU to bring `tile` towards its L2 cache (`prefetcht1`, every 64-byte line),
/// without waiting for it; a hint only (nothing off x86-64).
#[inline(always)]
fn prefetch_tile<T>(tile: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T1};
        let bytes = std::mem::size_of_val(tile);
        let base = tile.as_ptr().cast::<i8>();
        for off in (0..bytes).step_by(64) {
            // SAFETY: `off < bytes`: the address lies inside `tile`; a prefetch never faults
            unsafe { _mm_prefetch::<_MM_HINT_T1>(base.add(off)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = tile;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operator::Operators;
    use crate::{Boundary, Couplings};

    fn chains() -> Vec<Chain> {
        let mut out = Vec::new();
        for n in [1usize, 2, 3, 5, 8, 13, 14, 15] {
            for (alpha, couplings, boundary) in [
                (0.0, Couplings::PowerLaw { p: 1.0 }, Boundary::Open),
                (0.7, Couplings::NearestNeighbour, Boundary::Periodic),
                (-0.4, Couplings::PowerLaw { p: 2.5 }, Boundary::Periodic),
            ] {
                let chain = Chain::builder(n)
                    .alpha(alpha)
                    .g(0.8)
                    .omega(1.7)
                    .b(0.9)
                    .couplings(couplings)
                    .boundary(boundary)
                    .build()
                    .unwrap();
                out.push(chain);
            }
        }
        out
    }

    /// A reflection-even full-space vector from a pseudo-random one: `(v + Rv)/2`.
    fn even_vector(n: usize) -> Vec<f64> {
        let dim = 1usize << n;
        let v: Vec<f64> = (0..dim).map(|s| ((s * 7919 + 13) % 1013) as f64 / 1013.0 - 0.5).collect();
        let reflect = |s: usize| (0..n).fold(0, |acc, i| acc | (((s >> i) & 1) << (n - 1 - i)));
        (0..dim).map(|s| 0.5 * (v[s] + v[reflect(s)])).collect()
    }

    /// XYZ chains (pair flips of parallel pairs) and mirror-symmetric per-site fields with
    /// flip-flops, the field off or kept on: `[H_g, H_B] ≠ 0`.
    fn generalised_chains() -> Vec<Chain> {
        let mut out = Vec::new();
        for n in [2usize, 3, 5, 8, 13, 14, 15] {
            for (alpha, gamma, couplings, keep) in [
                (0.7, 0.35, Couplings::PowerLaw { p: 1.3 }, false),
                (-0.4, -0.8, Couplings::NearestNeighbour, false),
                (1.1, 0.5, Couplings::PowerLaw { p: 0.0 }, true),
            ] {
                let chain = Chain::builder(n)
                    .alpha(alpha)
                    .gamma(gamma)
                    .keep_field(keep)
                    .g(0.8)
                    .omega(1.7)
                    .b(0.9)
                    .couplings(couplings)
                    .build()
                    .unwrap();
                out.push(chain);
            }
            // per-site fields B_i = B_(N-1-i) with flip-flops (XXZ)
            let fields: Vec<f64> = (0..n).map(|i| 0.6 + 0.3 * (i.min(n - 1 - i) as f64)).collect();
            out.push(Chain::builder(n).alpha(0.6).site_fields(fields).omega(1.3).build().unwrap());
        }
        out
    }

    /// `W`, `W' = i⟨[H, H0]⟩` (with its part `i⟨[H_g, H_B]⟩`) and `‖(H0 − E_0)ψ‖²` of a
    /// complex reflection-even state: the sector's sums against the full space's.
    #[test]
    fn xyz_and_site_fields_measure_the_full_space_moments() {
        for chain in generalised_chains() {
            let n = chain.n_sites();
            assert!(ReflectionSector::applies(&chain), "N = {n}");
            let sector = ReflectionSector::new(&chain).unwrap();
            let full = Operators::new(&chain).unwrap();
            let (re, im) = (even_vector(n), even_vector(n).iter().rev().map(|v| 0.7 * v).collect::<Vec<f64>>());
            // the reversed vector is even too: R commutes with the bit reversal s -> 2^N - 1 - s
            let psi: Vec<Complex64> = re.iter().zip(&im).map(|(&a, &b)| Complex64::new(a, b)).collect();
            let xs: Vec<Complex64> = (0..sector.dim()).map(|row| psi[sector.full_state(row)]).collect();
            let want = crate::operator::energy_and_rate_multi(&full, &psi, 1)[0];
            let got = crate::operator::energy_and_rate_multi(&sector, &xs, 1)[0];
            let close = |a: f64, b: f64| (a - b).abs() < 1e-10 * (1.0 + b.abs());
            assert!(close(got.norm, want.norm), "N = {n}: norm");
            assert!(close(got.work, want.work), "N = {n}: W {} vs {}", got.work, want.work);
            assert!(close(got.rate, want.rate), "N = {n}: W' {} vs {}", got.rate, want.rate);
            assert!(close(got.work_sq, want.work_sq), "N = {n}: |A psi|^2");
            // and the split (real, imaginary) kernel alike
            let (xr, xi): (Vec<f64>, Vec<f64>) = xs.iter().map(|z| (z.re, z.im)).unzip();
            let split = crate::operator::energy_and_rate_split(&sector, &xr, &xi, 1)[0];
            assert!(close(split.rate, want.rate), "N = {n}: split W' {} vs {}", split.rate, want.rate);
            // a rate that is not zero: the check can fail
            if chain.gamma() != 0.0 && !chain.keep_field() {
                assert!(sector.has_field_flip_rate(), "N = {n}");
            }
        }
    }

    #[test]
    fn rows_cover_every_state_pair_once_and_diagonal_matches_full_space() {
        for chain in chains() {
            let n = chain.n_sites();
            let sector = ReflectionSector::new(&chain).unwrap();
            let full = Operators::new(&chain).unwrap();
            // weights count each full-space state exactly once
            let total: f64 = (0..sector.dim() / sector.block_len()).map(|b| sector.block_weight(b)).sum::<f64>()
                * sector.block_len() as f64;
            assert_eq!(total, (1u64 << n) as f64, "N = {n}");
            for row in 0..sector.dim() {
                let s = sector.full_state(row);
                let d = (sector.diag_g()[row] - full.diag_g()[s]).abs();
                assert!(d < 1e-12, "N = {n}, row {row}: diagonal off by {d}");
                let (c, a, b) = sector.coordinates(row);
                assert_eq!(sector.row_of(c, a, b), row);
            }
            for s in 0..1usize << n {
                let back = sector.full_state(sector.row_of_full_state(s));
                let reflect = (0..n).fold(0, |acc, i| acc | (((s >> i) & 1) << (n - 1 - i)));
                assert!(back == s || back == reflect, "N = {n}: state {s} maps to row of {back}");
            }
        }
    }

    #[test]
    fn expanded_states_put_each_row_on_both_of_its_full_states() {
        for n in [1usize, 2, 3, 5, 8, 13, 14, 15, 16] {
            let sector = ReflectionSector::new(&Chain::builder(n).build().unwrap()).unwrap();
            // every stored row a distinct value: the expansion must put row r on s and Rs
            let stored: Vec<usize> = (0..sector.dim()).collect();
            let mut full = vec![usize::MAX; 1 << n];
            sector.expand(&stored, &mut full);
            let reflect = |s: usize| (0..n).fold(0, |acc, i| acc | (((s >> i) & 1) << (n - 1 - i)));
            for (s, &row) in full.iter().enumerate() {
                let back = sector.full_state(row);
                assert!(back == s || back == reflect(s), "N = {n}: state {s} got row {row} of state {back}");
            }
        }
    }

    #[test]
    fn h_and_h0_on_the_sector_equal_the_full_space_restricted() {
        // N = 16, 17: two sites of each half beyond the tile, so four partner tiles of which
        // some are stored transposed, and the middle layer (odd N)
        let wider = [16usize, 17].into_iter().flat_map(|n| {
            [(Couplings::PowerLaw { p: 1.0 }, Boundary::Open), (Couplings::NearestNeighbour, Boundary::Periodic)].map(
                |(couplings, boundary)| {
                    Chain::builder(n).g(0.8).omega(1.7).b(0.9).couplings(couplings).boundary(boundary).build().unwrap()
                },
            )
        });
        for chain in chains().into_iter().chain(generalised_chains()).chain(wider) {
            let n = chain.n_sites();
            let sector = ReflectionSector::new(&chain).unwrap();
            let full = Operators::new(&chain).unwrap();
            let v = even_vector(n);
            let xs: Vec<f64> = (0..sector.dim()).map(|row| v[sector.full_state(row)]).collect();
            // full-space H v and H0 v by columns
            let (mut hv, mut h0v) = (vec![0.0; v.len()], vec![0.0; v.len()]);
            for (s, &vs) in v.iter().enumerate() {
                full.column_h(s, |row, e| hv[row] += vs * e);
                full.column_h0(s, |row, e| h0v[row] += vs * e);
            }
            let e0 = chain.initial_energy();
            let tl = sector.block_len();
            let mut out = vec![0.0; tl];
            for block in 0..sector.dim() / tl {
                sector.h_block(&xs, block, &mut out);
                for (o, &y) in out.iter().enumerate() {
                    let s = sector.full_state(block * tl + o);
                    assert!((y - hv[s]).abs() < 1e-12, "N = {n}: H off at state {s}");
                }
                // the work operator H0 − E_0
                sector.work_block(&xs, 1, block, &mut out);
                for (o, &y) in out.iter().enumerate() {
                    let s = sector.full_state(block * tl + o);
                    let want = h0v[s] - e0 * xs[block * tl + o];
                    assert!((y - want).abs() < 1e-12, "N = {n}: H0 off at state {s}");
                }
            }
            // energies: weighted sector sums equal full-space sums
            let norm_full: f64 = v.iter().map(|a| a * a).sum();
            let e_full: f64 = v.iter().zip(&h0v).map(|(a, b)| a * b).sum::<f64>() - e0 * norm_full;
            let zeros = vec![0.0; xs.len()];
            let crate::operator::Moments { norm, work: e, .. } =
                crate::operator::energy_and_rate_split(&sector, &xs, &zeros, 1)[0];
            assert!((norm - norm_full).abs() < 1e-10 * norm_full, "N = {n}: norm");
            assert!((e - e_full).abs() < 1e-10 * (1.0 + e_full.abs()), "N = {n}: energy {e} vs {e_full}");
        }
    }
}
