//! Matrix-free Hamiltonians on the full `2^N` basis.
//!
//! In the `Z` basis (see [`crate::basis`]):
//! * `H_g` has diagonal `−Σ_{i<j} g_ij z_i z_j` and, for every anti-parallel pair `(i, j)`,
//!   the off-diagonal element `−2 α g_ij` to the state with both bits flipped; with the XYZ
//!   anisotropy `γ` also, for every parallel pair, `−2αγ g_ij` (`XX − YY = 2(σ⁺σ⁺ + σ⁻σ⁻)`);
//! * `V = ω Σ_i w_i X_i` flips bit `i` with amplitude `ω w_i` (`w_i = 1` unless
//!   [`Chain::omega_sites`]);
//! * `H_B = Σ_i B_i z_i` is diagonal (`B_i = B` for a clean chain; [`FieldEnergy`]).
//!
//! All three are real symmetric. [`Operators`] stores the diagonal of `H_g` (`8·2^N` bytes)
//! and applies `H = H_g + V` (`H0 + V` with the field kept on, [`Chain::keep_field`]) and
//! `H0 = H_B + H_g` by gathering, in parallel over basis
//! states (rayon). Cost per application: `O(2^N (N + P))`, `P` the number of coupled
//! pairs when `α ≠ 0`, `O(2^N N)` for the Ising case `α = 0`.

use crate::basis::{dimension, z, MAX_EXACT_SITES};
use crate::error::Result;
use crate::model::{BondEnclosure, Chain, FieldEnergy};
use crate::numeric::amplitude::gather;
pub use crate::numeric::amplitude::{Amplitude, Real};
use crate::symmetry::space::{spectral_enclosure, top_of_h_g};
use crate::symmetry::Space;
use num_complex::Complex64;
use rayon::prelude::*;

mod kernels;

pub use kernels::{
    chebyshev_step, chebyshev_step_into, combine_terms, energy_and_rate_multi, energy_and_rate_split, gram_sums,
    GramSums, Moments,
};

/// Rows handled per rayon task.
const CHUNK: usize = 1 << 12;

/// A pair term: `amp · (|s ⊕ mask⟩⟨s|)` for states whose bits `i`, `j` are anti-parallel
/// (a flip-flop, `odd = 1`) or parallel (an XYZ pair flip `↓↓ ↔ ↑↑`, `odd = 0`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PairFlip {
    pub(crate) i: u32,
    pub(crate) j: u32,
    pub(crate) mask: usize,
    pub(crate) amp: f64,
    /// `z_i z_j = −1` (1: flip-flop) or `+1` (0: pair flip) on the states it acts on
    pub(crate) odd: usize,
}

impl PairFlip {
    /// Whether the term acts on `s`: bits `i` and `j` anti-parallel for a flip-flop,
    /// parallel for a pair flip.
    #[inline(always)]
    pub(crate) fn acts_on(&self, s: usize) -> bool {
        ((s >> self.i) ^ (s >> self.j)) & 1 == self.odd
    }
}

/// The pair terms of `H_g`: the flip-flops
/// `−α g_ij (X_iX_j + Y_iY_j) = −2α g_ij (σ⁺_iσ⁻_j + h.c.)`, one [`PairFlip`] of amplitude
/// `−2α g_ij` per coupled pair (none for `α = 0`), and with the XYZ anisotropy `γ ≠ 0` the
/// pair flips `−αγ g_ij (X_iX_j − Y_iY_j) = −2αγ g_ij (σ⁺_iσ⁺_j + σ⁻_iσ⁻_j)`, amplitude
/// `−2αγ g_ij` between parallel pairs.
pub(crate) fn flip_flops(chain: &Chain) -> Vec<PairFlip> {
    let (alpha, gamma) = (chain.alpha(), chain.gamma());
    if alpha == 0.0 {
        return Vec::new();
    }
    let pairs = chain.pairs();
    let mask = |i: usize, j: usize| (1usize << i) | (1usize << j);
    let mut out: Vec<PairFlip> = pairs
        .iter()
        .map(|&(i, j, g)| PairFlip { i: i as u32, j: j as u32, mask: mask(i, j), amp: -2.0 * alpha * g, odd: 1 })
        .collect();
    if gamma != 0.0 {
        out.extend(pairs.iter().map(|&(i, j, g)| PairFlip {
            i: i as u32,
            j: j as u32,
            mask: mask(i, j),
            amp: -2.0 * alpha * gamma * g,
            odd: 0,
        }));
    }
    out
}

/// The charging Hamiltonian `H = H_g + V` and the storage Hamiltonian `H0 = H_B + H_g`.
#[derive(Debug, Clone)]
pub struct Operators {
    n_sites: usize,
    fields: FieldEnergy,
    /// `[H_g, H_B] ≠ 0` (per-site fields with flip-flops): the rate has `i⟨[H_g, H_B]⟩` too
    field_flips: bool,
    omega: f64,
    /// per-site multipliers `w_i` of `V = ω Σ_i w_i X_i` (`None`: all 1)
    weights: Option<Vec<f64>>,
    /// `H = H0 + V` (the storage field kept on) instead of `H_g + V`
    keep_field: bool,
    diag_g: Vec<f64>,
    flips: Vec<PairFlip>,
    /// the two-site enclosure of the spectrum of `H`, intersected with Gershgorin's
    bonds: BondEnclosure,
}

impl Operators {
    /// Bytes held by [`Operators::new`] for `N` sites (the diagonal of `H_g`).
    pub fn bytes(n_sites: usize) -> f64 {
        8.0 * (n_sites as f64).exp2()
    }

    /// Precomputes the diagonal of `H_g` in `O(N 2^N)` by adding one site at a time:
    /// `E_{k+1}(s + z_k) = E_k(s) − z_k Σ_{i<k} g_ik z_i(s)`.
    ///
    /// # Errors
    /// [`crate::SpinbatError::TooLarge`] when the `2^N` vectors could not even be indexed
    /// (`N > MAX_EXACT_SITES`); the planner's memory check refuses far smaller `N` first.
    pub fn new(chain: &Chain) -> Result<Self> {
        let n = chain.n_sites();
        if n > MAX_EXACT_SITES {
            return Err(crate::resources::cannot_index("exact", n, Self::bytes(n)));
        }
        let dim = dimension(n);
        let diag_g = low_sites_diagonal(chain, n, dim);
        let flips = flip_flops(chain);
        Ok(Operators {
            n_sites: n,
            fields: FieldEnergy::of(chain),
            // with the field kept on, H = H0 + V and i<[H, H0]> = i<[V, H0]> alone
            field_flips: !chain.fields_commute_with_couplings() && !chain.keep_field(),
            omega: chain.omega(),
            weights: chain.has_omega_sites().then(|| (0..n).map(|i| chain.omega_weight(i)).collect()),
            keep_field: chain.keep_field(),
            diag_g,
            flips,
            bonds: BondEnclosure::of(chain),
        })
    }

    /// Vectors must span the whole space: the gathers rely on it.
    ///
    /// # Panics
    /// If `x` or the output does not have length `2^N` (a programming error).
    fn check_len<T>(&self, x: &[T], out_len: usize) {
        assert!(
            x.len() == self.dim() && out_len == self.dim(),
            "state vectors must have length 2^N = {}, got {} and {}",
            self.dim(),
            x.len(),
            out_len
        );
    }

    /// Hilbert-space dimension `2^N`.
    pub fn dim(&self) -> usize {
        self.diag_g.len()
    }

    /// Diagonal of `H_g`.
    pub fn diag_g(&self) -> &[f64] {
        &self.diag_g
    }

    /// Diagonal of `H0` at basis state `s`: `Σ_i B_i z_i + (H_g)_ss`.
    #[inline(always)]
    fn diag_h0(&self, s: usize) -> f64 {
        self.fields.at(s) + self.diag_g[s]
    }

    /// `Σ (amp) x[s ⊕ mask]` over the pair terms acting on `s` (flip-flops `−2αg_ij` of
    /// anti-parallel pairs, XYZ pair flips `−2αγg_ij` of parallel ones).
    #[inline(always)]
    fn flip_flop<T: Amplitude>(&self, x: &[T], s: usize) -> T {
        let mut acc = T::default();
        for f in &self.flips {
            if f.acts_on(s) {
                acc += gather(x, s ^ f.mask).scale(f.amp);
            }
        }
        acc
    }

    /// `(H0 x)[s]`, one row of `H0` (its diagonal and flip-flops): lets a measurement
    /// stream `H0ψ` without storing it.
    #[inline]
    pub fn h0_row(&self, x: &[Complex64], s: usize) -> Complex64 {
        x[s] * self.diag_h0(s) + self.flip_flop(x, s)
    }

    /// Whether `H0` is diagonal in the basis (no flip-flops: `α = 0`), so that
    /// `(H0ψ)_s = H0_ss ψ_s` ([`Operators::field_energy`] plus [`Operators::diag_g`]).
    pub fn h0_is_diagonal(&self) -> bool {
        self.flips.is_empty()
    }

    /// `Σ_i B_i z_i(s)` (`B (2·popcount(s) − N)` for a clean chain), the field part of
    /// `H0_ss`.
    #[inline(always)]
    pub fn field_energy(&self, s: usize) -> f64 {
        self.fields.at(s)
    }

    /// `⟨↓…↓|H0|↓…↓⟩ = E_0`, the energy of the all-down start (`W = ⟨H0⟩ − E_0`).
    pub fn all_down_energy(&self) -> f64 {
        self.diag_h0(crate::basis::ALL_DOWN)
    }

    /// `y = H x`, `H = H_g + V` (`H0 + V` with the field kept on).
    pub fn apply_h(&self, x: &[Complex64], y: &mut [Complex64]) {
        self.check_len(x, y.len());
        let chunk = self.chunk();
        y.par_chunks_mut(chunk).enumerate().for_each(|(c, y)| self.h_block(x, c * chunk, y));
    }

    /// Rows per block of the blocked kernels: `min(2^N, CHUNK)`, a power of two, so a bit
    /// flip maps a block onto one contiguous block (high bits) or permutes it (low bits).
    fn chunk(&self) -> usize {
        CHUNK.min(self.dim())
    }

    /// `out = (H x)[base .. base + out.len()]` for one block, bit by bit:
    /// the diagonal, then for each site `i` the flipped amplitudes `x[s ⊕ 2^i]`, which for
    /// `2^i ≥ block` form one contiguous block and for `2^i < block` swapped halves of
    /// sub-blocks. Every pass is a contiguous, vectorisable multiply-add over data that
    /// stays in cache; the flip-flop terms (`α ≠ 0`) are gathered row by row. With the
    /// field kept on the diagonal is `(H_g)_ss + Σ_i B_i z_i(s)`.
    #[inline]
    fn h_block<T: Amplitude>(&self, x: &[T], base: usize, out: &mut [T]) {
        let len = out.len();
        // Σ_i w_i x[s ⊕ 2^i] by plain additions, scaled by ω and joined to the diagonal below
        self.flip_sum_rows(x, 1, base, out);
        let w = self.omega;
        if self.keep_field {
            for (k, ((o, &xv), &d)) in
                out.iter_mut().zip(&x[base..base + len]).zip(&self.diag_g[base..base + len]).enumerate()
            {
                *o = o.scale(w) + xv.scale(d + self.fields.at(base + k));
            }
        } else {
            for ((o, &xv), &d) in out.iter_mut().zip(&x[base..base + len]).zip(&self.diag_g[base..base + len]) {
                *o = o.scale(w) + xv.scale(d);
            }
        }
        if !self.flips.is_empty() {
            for (k, o) in out.iter_mut().enumerate() {
                *o += self.flip_flop(x, base + k);
            }
        }
    }

    /// `out[(s − base)·m + j] = Σ_i w_i x[(s ⊕ 2^i)·m + j]` for the rows `s` of one block
    /// (`out.len() / m` rows from `base`, a power of two dividing `2^N`), where `x` holds
    /// `m` states interleaved (`m = 1`: a plain state). For `2^i ≥` the block the flipped
    /// rows form one contiguous block; below, swapped halves of sub-blocks: every pass is
    /// a contiguous addition over data in cache.
    #[inline]
    fn flip_sum_rows<T: Amplitude>(&self, x: &[T], m: usize, base: usize, out: &mut [T]) {
        let len = out.len();
        let rows = len / m;
        let xb = &x[base * m..base * m + len];
        out.fill(T::default());
        if let Some(w) = &self.weights {
            // per-site weights: the same passes, each scaled by w_i
            for (i, &wi) in w.iter().enumerate() {
                let bit = 1usize << i;
                if wi == 0.0 {
                    continue;
                }
                if bit >= rows {
                    let p = (base ^ bit) * m;
                    for (o, &xv) in out.iter_mut().zip(&x[p..p + len]) {
                        *o += xv.scale(wi);
                    }
                } else {
                    let half = bit * m;
                    for (ob, xsub) in out.chunks_exact_mut(2 * half).zip(xb.chunks_exact(2 * half)) {
                        let (olo, ohi) = ob.split_at_mut(half);
                        let (xlo, xhi) = xsub.split_at(half);
                        for (o, &xv) in olo.iter_mut().zip(xhi) {
                            *o += xv.scale(wi);
                        }
                        for (o, &xv) in ohi.iter_mut().zip(xlo) {
                            *o += xv.scale(wi);
                        }
                    }
                }
            }
            return;
        }
        for i in 0..self.n_sites {
            let bit = 1usize << i;
            if bit >= rows {
                let p = (base ^ bit) * m;
                for (o, &xv) in out.iter_mut().zip(&x[p..p + len]) {
                    *o += xv;
                }
            } else {
                let half = bit * m;
                for (ob, xsub) in out.chunks_exact_mut(2 * half).zip(xb.chunks_exact(2 * half)) {
                    let (olo, ohi) = ob.split_at_mut(half);
                    let (xlo, xhi) = xsub.split_at(half);
                    for (o, &xv) in olo.iter_mut().zip(xhi) {
                        *o += xv;
                    }
                    for (o, &xv) in ohi.iter_mut().zip(xlo) {
                        *o += xv;
                    }
                }
            }
        }
    }

    /// `y = H0 x`, `H0 = H_B + H_g`.
    pub fn apply_h0(&self, x: &[Complex64], y: &mut [Complex64]) {
        self.check_len(x, y.len());
        y.par_chunks_mut(CHUNK).enumerate().for_each(|(c, y)| {
            let base = c * CHUNK;
            for (o, y) in y.iter_mut().enumerate() {
                let s = base + o;
                *y = x[s] * self.diag_h0(s) + self.flip_flop(x, s);
            }
        });
    }

    /// Calls `f(row, value)` for every non-zero `H[row][s]` of column `s` of the charging
    /// Hamiltonian `H = H_g + V` (`H0 + V` with the field kept on; used to build dense
    /// matrices for small `N`).
    pub fn column_h(&self, s: usize, mut f: impl FnMut(usize, f64)) {
        f(s, if self.keep_field { self.diag_h0(s) } else { self.diag_g[s] });
        for i in 0..self.n_sites {
            let w = self.weights.as_ref().map_or(1.0, |w| w[i]);
            f(s ^ (1 << i), self.omega * w);
        }
        self.column_flips(s, f);
    }

    /// Calls `f(row, value)` for every non-zero `H0[row][s]` of column `s` of `H0`.
    pub fn column_h0(&self, s: usize, mut f: impl FnMut(usize, f64)) {
        f(s, self.diag_h0(s));
        self.column_flips(s, f);
    }

    fn column_flips(&self, s: usize, mut f: impl FnMut(usize, f64)) {
        for fl in &self.flips {
            if fl.acts_on(s) {
                f(s ^ fl.mask, fl.amp);
            }
        }
    }

    /// The work and its rate in one pass: the [`Moments`] `⟨ψ|ψ⟩`, `⟨ψ|H0 − E_0|ψ⟩`,
    /// `2 Im⟨H0ψ|Vψ⟩` and `‖(H0 − E_0)ψ‖²`. The rate is `dW/dt = i⟨[H, H0]⟩`, since
    /// `[H_g, H0] = 0` leaves only `i⟨[V, H0]⟩` (physics.md); with per-site fields and
    /// flip-flops `[H_g, H0] = [H_g, H_B] ≠ 0` and its part is added
    /// ([`Space::field_flip_rate`]).
    pub fn work_and_rate(&self, psi: &[Complex64]) -> Moments {
        energy_and_rate_multi(self, psi, 1)[0]
    }

    /// Rigorous spectral enclosure `[E_min, E_max]` of `H`: the intersection of Gershgorin's
    /// (the diagonal range widened by the largest off-diagonal row sum,
    /// `|ω| Σ_i |w_i| + 2|α| (1 + |γ|) Σ_{i<j} |g_ij|`, `N|ω| + 2|α| Σ|g_ij|` for the paper's
    /// chain; with the field kept on the diagonal is that of `H0`) and the two-site one of
    /// [`BondEnclosure`] (Weyl, about `±√(G² + (Nω)²)` for `α = 0`).
    pub fn spectral_bounds_h(&self) -> (f64, f64) {
        self.bonds.narrow(self.omega, self.gershgorin_h())
    }

    /// Gershgorin's enclosure of the spectrum of `H` alone (see [`Operators::spectral_bounds_h`]).
    pub fn gershgorin_h(&self) -> (f64, f64) {
        let offdiag = self.flips.iter().map(|f| f.amp.abs()).sum();
        let v_norm = match &self.weights {
            None => self.n_sites as f64 * self.omega.abs(),
            Some(w) => self.omega.abs() * w.iter().map(|v| v.abs()).sum::<f64>(),
        };
        if self.keep_field {
            let diag: Vec<f64> = (0..self.dim()).into_par_iter().map(|s| self.diag_h0(s)).collect();
            spectral_enclosure(&diag, 1, v_norm, offdiag)
        } else {
            spectral_enclosure(&self.diag_g, 1, v_norm, offdiag)
        }
    }

    /// Upper bound on the top of the spectrum of `H_g`: the largest diagonal element plus
    /// the largest off-diagonal row sum (Gershgorin), `max_s (H_g)_ss + 2|α| Σ_{i<j}|g_ij|`.
    /// Exact for the Ising case `α = 0`. Feeds [`Chain::work_bound_with`].
    pub fn h_g_max_bound(&self) -> f64 {
        top_of_h_g(&self.diag_g, self.flips.iter().map(|f| f.amp.abs()).sum())
    }

    /// Operator-norm bound `‖H0‖ ≤ Σ_i|B_i| + (1 + 2|α| max(1, |γ|)) Σ_{i<j}|g_ij|`
    /// (triangle inequality, [`Chain::pair_norm`]; `1 + 2|α|` for XXZ). A state error `ε`
    /// changes the work by at most `2 ‖H0‖ ε + O(ε²)`.
    pub fn h0_norm_bound(chain: &Chain) -> f64 {
        chain.field_abs_sum() + chain.total_abs_coupling() * chain.pair_norm()
    }
}

impl Space for Operators {
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
        self.chunk()
    }

    fn h_block<T: Amplitude>(&self, x: &[T], block: usize, out: &mut [T]) {
        Operators::h_block(self, x, block * self.chunk(), out);
    }

    fn flip_sum_block<T: Amplitude>(&self, x: &[T], m: usize, block: usize, out: &mut [T]) {
        self.flip_sum_rows(x, m, block * self.chunk(), out);
    }

    fn work_block<T: Amplitude>(&self, x: &[T], m: usize, block: usize, out: &mut [T]) {
        let base = block * self.chunk();
        let e0 = self.diag_h0(crate::basis::ALL_DOWN);
        for (o, row) in out.chunks_exact_mut(m).enumerate() {
            let s = base + o;
            let d = self.diag_h0(s) - e0;
            for (j, y) in row.iter_mut().enumerate() {
                let mut v = x[s * m + j].scale(d);
                for f in &self.flips {
                    if f.acts_on(s) {
                        v += gather(x, (s ^ f.mask) * m + j).scale(f.amp);
                    }
                }
                *y = v;
            }
        }
    }

    fn work_diagonal(&self, block: usize, out: &mut [f64]) -> bool {
        if !self.flips.is_empty() {
            return false;
        }
        let base = block * self.chunk();
        let e0 = self.diag_h0(crate::basis::ALL_DOWN);
        for (o, d) in out.iter_mut().enumerate() {
            *d = self.diag_h0(base + o) - e0;
        }
        true
    }

    /// `i⟨[H_g, H_B]⟩` over the block's rows: for each row `s` and flip-flop to
    /// `s' = s ⊕ mask` (amplitude `a = −2αg_ij`), `−a (E_B(s) − E_B(s')) Im(ψ̄_{s'} ψ_s)`,
    /// `E_B(s) = Σ_i B_i z_i(s)` (each unordered pair is met from both ends, which the
    /// sum over ordered pairs of `i⟨[H_g, H_B]⟩` counts).
    fn field_flip_rate(&self, block: usize, m: usize, im_pair: &dyn Fn(usize, usize, usize) -> f64, out: &mut [f64]) {
        if !self.field_flips {
            return;
        }
        let base = block * self.chunk();
        for s in base..(base + self.chunk()).min(self.dim()) {
            let es = self.fields.at(s);
            for f in &self.flips {
                if f.acts_on(s) {
                    let r = s ^ f.mask;
                    let weight = -f.amp * (es - self.fields.at(r));
                    for (j, o) in out.iter_mut().enumerate().take(m) {
                        *o += weight * im_pair(r, s, j);
                    }
                }
            }
        }
    }

    fn has_field_flip_rate(&self) -> bool {
        self.field_flips
    }

    fn block_weight(&self, _block: usize) -> f64 {
        1.0
    }

    fn spectral_bounds_h(&self) -> (f64, f64) {
        Operators::spectral_bounds_h(self)
    }

    fn h_g_max_bound(&self) -> f64 {
        Operators::h_g_max_bound(self)
    }

    fn description(&self) -> String {
        format!("full space, 2^{} states", self.n_sites)
    }
}

/// The diagonal `⟨s|H_g|s⟩ = −Σ_{i<j<bits} g_ij z_i z_j` over the couplings among sites
/// `0..bits` for the `len = 2^bits` basis states `s` of those sites (bit `i` = site `i`),
/// built site by site: adding site `k` splits each entry into `s` (site `k` down) and
/// `s + 2^k` (up), shifted by `∓Σ_{i<k} g_ik z_i`. The full space takes `bits = N`; a
/// partitioned state its local sites ([`crate::partition`]).
pub(crate) fn low_sites_diagonal(chain: &Chain, bits: usize, len: usize) -> Vec<f64> {
    debug_assert_eq!(len, 1usize << bits);
    let mut diag_g = vec![0.0; len];
    for k in 1..bits {
        let half = 1usize << k;
        let couplings: Vec<f64> = (0..k).map(|i| chain.coupling(i, k)).collect();
        let (lo, hi) = diag_g.split_at_mut(half);
        lo.par_chunks_mut(CHUNK).zip(hi[..half].par_chunks_mut(CHUNK)).enumerate().for_each(|(c, (lo, hi))| {
            let base = c * CHUNK;
            for (o, (l, h)) in lo.iter_mut().zip(hi.iter_mut()).enumerate() {
                let s = base + o;
                let field: f64 = couplings.iter().enumerate().map(|(i, g)| g * z(s, i)).sum();
                // site k down (z_k = −1) keeps index s, up (z_k = +1) is s + 2^k
                *h = *l - field;
                *l += field;
            }
        });
    }
    diag_g
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Boundary, Couplings};

    /// `y = H x` by columns (`column_h`), the naive reference for the blocked kernel.
    fn naive(ops: &Operators, x: &[Complex64]) -> Vec<Complex64> {
        let mut y = vec![Complex64::new(0.0, 0.0); x.len()];
        for (s, &xs) in x.iter().enumerate() {
            ops.column_h(s, |row, v| y[row] += xs * v);
        }
        y
    }

    #[test]
    fn blocked_kernel_equals_column_sums_beyond_one_block() {
        // N = 14 > log2(CHUNK): high bits map blocks onto other blocks
        for (alpha, couplings, boundary) in [
            (0.0, Couplings::PowerLaw { p: 1.0 }, Boundary::Open),
            (0.7, Couplings::NearestNeighbour, Boundary::Periodic),
            (-0.4, Couplings::PowerLaw { p: 2.5 }, Boundary::Periodic),
        ] {
            let chain = Chain::builder(14).alpha(alpha).g(0.8).omega(1.7).couplings(couplings).boundary(boundary);
            let ops = Operators::new(&chain.build().unwrap()).unwrap();
            let x: Vec<Complex64> = (0..ops.dim())
                .map(|s| {
                    Complex64::new(((s * 7919) % 1013) as f64 / 1013.0 - 0.5, ((s * 104_729) % 997) as f64 / 997.0)
                })
                .collect();
            let mut y = vec![Complex64::new(0.0, 0.0); ops.dim()];
            ops.apply_h(&x, &mut y);
            let reference = naive(&ops, &x);
            let err = y.iter().zip(&reference).map(|(a, b)| (a - b).norm()).fold(0.0, f64::max);
            assert!(err < 1e-12, "alpha {alpha}: max deviation {err}");
        }
    }

    #[test]
    fn diagonal_matches_direct_sum() {
        let chain = Chain::builder(9).couplings(Couplings::PowerLaw { p: 0.5 }).build().unwrap();
        let ops = Operators::new(&chain).unwrap();
        for s in [0usize, 1, 77, 300, 511] {
            let mut e = 0.0;
            for (i, j, g) in chain.pairs() {
                e -= g * crate::basis::z(s, i) * crate::basis::z(s, j);
            }
            assert!((ops.diag_g()[s] - e).abs() < 1e-12);
        }
    }
}

#[cfg(test)]
mod enclosure_tests {
    use super::*;
    use crate::{Boundary, Couplings};

    /// Smallest and largest eigenvalue of `H` from the dense matrix (`N ≤ 8`).
    fn exact_extremes(ops: &Operators) -> (f64, f64) {
        let d = ops.dim();
        let mut h = faer::Mat::<f64>::zeros(d, d);
        for s in 0..d {
            ops.column_h(s, |row, v| h[(row, s)] += v);
        }
        let mut e = h.self_adjoint_eigenvalues(faer::Side::Lower).unwrap();
        crate::numeric::simd::clear_upper_state();
        e.sort_by(f64::total_cmp);
        (e[0], e[d - 1])
    }

    #[test]
    fn the_enclosure_holds_the_exact_spectrum_and_is_exact_without_couplings() {
        let chains = [
            Chain::builder(8).couplings(Couplings::PowerLaw { p: 1.0 }).omega(4.0).build(),
            Chain::builder(7)
                .alpha(0.7)
                .g(0.8)
                .omega(1.7)
                .couplings(Couplings::NearestNeighbour)
                .boundary(Boundary::Periodic)
                .build(),
            Chain::builder(8).alpha(1.0).couplings(Couplings::PowerLaw { p: 0.5 }).omega(0.6).build(),
            Chain::builder(7)
                .alpha(-0.4)
                .gamma(0.3)
                .g(1.3)
                .omega(2.1)
                .couplings(Couplings::PowerLaw { p: 2.5 })
                .site_fields(vec![0.3, 1.2, 0.8, 1.0, 0.1, 0.5, 2.0])
                .keep_field(true)
                .omega_sites(vec![1.0, 0.5, -1.5, 2.0, 0.0, 1.0, 0.7])
                .build(),
            Chain::builder(6).g(0.0).omega(3.0).build(),
        ];
        for (k, chain) in chains.into_iter().enumerate() {
            let chain = chain.unwrap();
            let ops = Operators::new(&chain).unwrap();
            let (lo, hi) = ops.spectral_bounds_h();
            let (elo, ehi) = exact_extremes(&ops);
            assert!(lo <= elo + 1e-12 && ehi <= hi + 1e-12, "chain {k}: [{elo}, {ehi}] outside [{lo}, {hi}]");
            let (glo, ghi) = ops.gershgorin_h();
            assert!(lo >= glo && hi <= ghi, "chain {k}: no wider than Gershgorin");
            if chain.g() == 0.0 {
                // independent spins: ±N|ω| exactly
                assert!((lo - elo).abs() < 1e-12 && (hi - ehi).abs() < 1e-12, "[{lo}, {hi}] vs [{elo}, {ehi}]");
            }
        }
    }

    #[test]
    fn the_paper_chain_needs_a_narrower_window_than_gershgorin() {
        // p = 1, ω = 4, N = 8: Gershgorin's width is more than 15 % above the two-site one,
        // and the two-site width is within 12 % of the exact spectral width
        let chain = Chain::builder(8).couplings(Couplings::PowerLaw { p: 1.0 }).omega(4.0).build().unwrap();
        let ops = Operators::new(&chain).unwrap();
        let ((lo, hi), (glo, ghi), (elo, ehi)) = (ops.spectral_bounds_h(), ops.gershgorin_h(), exact_extremes(&ops));
        assert!(ghi - glo > 1.15 * (hi - lo), "Gershgorin {} vs two-site {}", ghi - glo, hi - lo);
        assert!(hi - lo < 1.12 * (ehi - elo), "two-site {} vs exact {}", hi - lo, ehi - elo);
    }
}
