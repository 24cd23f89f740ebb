//! Matrix-free Hamiltonians on the full `2^N` basis.
//!
//! In the `Z` basis (see [`crate::basis`]):
//! * `H_g` has diagonal `−Σ_{i<j} g_ij z_i z_j` and, for every anti-parallel pair `(i, j)`,
//!   the off-diagonal element `−2 α g_ij` to the state with both bits flipped;
//! * `V = ω Σ_i X_i` flips one bit with amplitude `ω`;
//! * `H_B = B Σ_i z_i` is diagonal.
//!
//! All three are real symmetric. [`Operators`] stores the diagonal of `H_g` (`8·2^N` bytes)
//! and applies `H = H_g + V` and `H0 = H_B + H_g` by gathering, in parallel over basis
//! states (rayon). Cost per application: `O(2^N (N + P))`, `P` the number of coupled
//! pairs when `α ≠ 0`, `O(2^N N)` for the Ising case `α = 0`.

use crate::basis::{dimension, magnetisation, z};
use crate::error::{Result, SpinbatError};
use crate::model::Chain;
use num_complex::Complex64;
use rayon::prelude::*;

/// Most sites the full-space operators accept (`2^N` amplitudes must be addressable).
pub const MAX_EXACT_SITES: usize = 48;

/// Rows handled per rayon task.
const CHUNK: usize = 1 << 12;

/// `x[k]` without a bounds check in release builds. Every caller passes `k = s ⊕ m` with
/// `s < 2^N` and `m < 2^N` (a mask of site bits), so `k < 2^N = x.len()`; debug builds
/// check it.
#[inline(always)]
fn gather(x: &[Complex64], k: usize) -> Complex64 {
    debug_assert!(k < x.len());
    // SAFETY: k < x.len() by the argument above (bit masks of sites below N).
    unsafe { *x.get_unchecked(k) }
}

/// A flip-flop term: `amp · (|s ⊕ mask⟩⟨s|)` for states with anti-parallel bits `i`, `j`.
#[derive(Debug, Clone, Copy)]
struct PairFlip {
    i: u32,
    j: u32,
    mask: usize,
    amp: f64,
}

/// The charging Hamiltonian `H = H_g + V` and the storage Hamiltonian `H0 = H_B + H_g`.
#[derive(Debug, Clone)]
pub struct Operators {
    n_sites: usize,
    b: f64,
    omega: f64,
    diag_g: Vec<f64>,
    flips: Vec<PairFlip>,
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
            return Err(SpinbatError::TooLarge {
                solver: "exact",
                n_sites: n,
                bytes_needed: Self::bytes(n),
                bytes_available: crate::propagate::memory::bytes_available().unwrap_or(0.0),
            });
        }
        let dim = dimension(n);
        let mut diag_g = vec![0.0; dim];
        for k in 1..n {
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
        let alpha = chain.alpha();
        let flips = if alpha == 0.0 {
            Vec::new()
        } else {
            chain
                .pairs()
                .into_iter()
                .map(|(i, j, g)| PairFlip {
                    i: i as u32,
                    j: j as u32,
                    mask: (1 << i) | (1 << j),
                    amp: -2.0 * alpha * g,
                })
                .collect()
        };
        Ok(Operators { n_sites: n, b: chain.b(), omega: chain.omega(), diag_g, flips })
    }

    /// Vectors must span the whole space: the gathers rely on it.
    ///
    /// # Panics
    /// If `x` or the output does not have length `2^N` (a programming error).
    fn check_len(&self, x: &[Complex64], out_len: usize) {
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

    /// Diagonal of `H0` at basis state `s`: `B Σ z_i + (H_g)_ss`.
    #[inline(always)]
    fn diag_h0(&self, s: usize) -> f64 {
        self.b * magnetisation(s, self.n_sites) + self.diag_g[s]
    }

    /// `Σ_pairs (−2 α g_ij) x[s ⊕ mask]` over pairs anti-parallel in `s`.
    #[inline(always)]
    fn flip_flop(&self, x: &[Complex64], s: usize) -> Complex64 {
        let mut acc = Complex64::new(0.0, 0.0);
        for f in &self.flips {
            if ((s >> f.i) ^ (s >> f.j)) & 1 == 1 {
                acc += gather(x, s ^ f.mask) * f.amp;
            }
        }
        acc
    }

    /// `Σ_i x[s ⊕ 2^i]`, so that `(V x)[s] = ω ·` this.
    #[inline(always)]
    fn flip_sum(&self, x: &[Complex64], s: usize) -> Complex64 {
        let mut acc = Complex64::new(0.0, 0.0);
        for i in 0..self.n_sites {
            acc += gather(x, s ^ (1 << i));
        }
        acc
    }

    /// `(H x)[s]` for the charging Hamiltonian `H = H_g + V`.
    #[inline(always)]
    fn h_row(&self, x: &[Complex64], s: usize) -> Complex64 {
        x[s] * self.diag_g[s] + self.flip_sum(x, s) * self.omega + self.flip_flop(x, s)
    }

    /// `y = H x`, `H = H_g + V`.
    pub fn apply_h(&self, x: &[Complex64], y: &mut [Complex64]) {
        self.check_len(x, y.len());
        y.par_chunks_mut(CHUNK).enumerate().for_each(|(c, y)| {
            let base = c * CHUNK;
            for (o, y) in y.iter_mut().enumerate() {
                *y = self.h_row(x, base + o);
            }
        });
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

    /// One Chebyshev recurrence step for `H̃ = (H − c)/r`, fused with the accumulation of
    /// the states at `m = coef_new.len()` times, in one pass over memory. `acc` holds the
    /// `m` states interleaved, `acc[s·m + j]` (row `s`, time `j`):
    /// * `first`: `T_1 = H̃ T_0` with `x = T_0`; `prev ← T_1`,
    ///   `acc[·, j] ← coef_x[j]·x + coef_new[j]·T_1`;
    /// * otherwise: `T_{k+1} = 2 H̃ T_k − T_{k−1}` with `x = T_k`, `prev = T_{k−1}` on entry;
    ///   `prev ← T_{k+1}`, `acc[·, j] += coef_new[j]·T_{k+1}` for `j ≥ j_lo`.
    ///
    /// Cost: one application of `H` plus `m − j_lo` complex multiply-adds per row.
    #[allow(clippy::too_many_arguments)]
    pub fn chebyshev_step(
        &self,
        x: &[Complex64],
        prev: &mut [Complex64],
        acc: &mut [Complex64],
        c: f64,
        r: f64,
        first: bool,
        coef_x: &[Complex64],
        coef_new: &[Complex64],
        j_lo: usize,
    ) {
        let m = coef_new.len();
        self.check_len(x, prev.len());
        assert!(m > 0 && acc.len() == m * x.len() && (!first || coef_x.len() == m), "accumulator shape");
        let scale = if first { 1.0 / r } else { 2.0 / r };
        prev.par_chunks_mut(CHUNK).zip(acc.par_chunks_mut(CHUNK * m)).enumerate().for_each(|(ch, (prev, acc))| {
            let base = ch * CHUNK;
            for (o, (p, a)) in prev.iter_mut().zip(acc.chunks_exact_mut(m)).enumerate() {
                let s = base + o;
                let hx = (self.h_row(x, s) - x[s] * c) * scale;
                if first {
                    *p = hx;
                    for ((a, cx), cn) in a.iter_mut().zip(coef_x).zip(coef_new) {
                        *a = x[s] * cx + hx * cn;
                    }
                } else {
                    let t = hx - *p;
                    *p = t;
                    for (a, cn) in a[j_lo..].iter_mut().zip(&coef_new[j_lo..]) {
                        *a += t * cn;
                    }
                }
            }
        });
    }

    /// Calls `f(row, value)` for every non-zero `H[row][s]` of column `s` of the charging
    /// Hamiltonian `H = H_g + V` (used to build dense matrices for small `N`).
    pub fn column_h(&self, s: usize, mut f: impl FnMut(usize, f64)) {
        f(s, self.diag_g[s]);
        for i in 0..self.n_sites {
            f(s ^ (1 << i), self.omega);
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
            if ((s >> fl.i) ^ (s >> fl.j)) & 1 == 1 {
                f(s ^ fl.mask, fl.amp);
            }
        }
    }

    /// The storage energy and its rate in one pass:
    /// `(⟨ψ|ψ⟩, ⟨ψ|H0|ψ⟩, 2 Im⟨H0ψ|Vψ⟩)`. The last is `dW/dt = i⟨[H, H0]⟩`, since
    /// `[H_g, H0] = 0` leaves only `i⟨[V, H0]⟩` (physics.md).
    pub fn energy_and_rate(&self, psi: &[Complex64]) -> (f64, f64, f64) {
        self.energy_and_rate_multi(psi, 1)[0]
    }

    /// [`Operators::energy_and_rate`] for `m` states stored interleaved,
    /// `psi[s·m + j]`, all in one pass (the gathers fetch whole rows of `m` values).
    pub fn energy_and_rate_multi(&self, psi: &[Complex64], m: usize) -> Vec<(f64, f64, f64)> {
        let dim = self.dim();
        assert!(m > 0 && psi.len() == m * dim, "state block must be 2^N x m");
        let zero = Complex64::new(0.0, 0.0);
        let sums = psi
            .par_chunks(CHUNK * m)
            .enumerate()
            .fold(
                || (vec![(0.0, 0.0, 0.0); m], vec![zero; m], vec![zero; m]),
                |(mut sums, mut h0p, mut vp), (c, chunk)| {
                    let base = c * CHUNK;
                    for (o, row) in chunk.chunks_exact(m).enumerate() {
                        let s = base + o;
                        let d = self.diag_h0(s);
                        for j in 0..m {
                            h0p[j] = row[j] * d;
                            vp[j] = zero;
                        }
                        for f in &self.flips {
                            if ((s >> f.i) ^ (s >> f.j)) & 1 == 1 {
                                let p = (s ^ f.mask) * m;
                                for (j, h) in h0p.iter_mut().enumerate() {
                                    *h += gather(psi, p + j) * f.amp;
                                }
                            }
                        }
                        for i in 0..self.n_sites {
                            let p = (s ^ (1 << i)) * m;
                            for (j, v) in vp.iter_mut().enumerate() {
                                *v += gather(psi, p + j);
                            }
                        }
                        for j in 0..m {
                            let x = row[j];
                            let acc = &mut sums[j];
                            acc.0 += x.norm_sqr();
                            acc.1 += (x.conj() * h0p[j]).re;
                            acc.2 += (h0p[j].conj() * vp[j]).im;
                        }
                    }
                    (sums, h0p, vp)
                },
            )
            .map(|(sums, _, _)| sums)
            .reduce(
                || vec![(0.0, 0.0, 0.0); m],
                |mut a, b| {
                    for (x, y) in a.iter_mut().zip(b) {
                        x.0 += y.0;
                        x.1 += y.1;
                        x.2 += y.2;
                    }
                    a
                },
            );
        sums.into_iter().map(|(n, e, r)| (n, e, 2.0 * self.omega * r)).collect()
    }

    /// Rigorous spectral enclosure `[E_min, E_max]` of `H` by Gershgorin's theorem: the
    /// diagonal range widened by the largest off-diagonal row sum,
    /// `N|ω| + 2|α| Σ_{i<j} |g_ij|`.
    pub fn spectral_bounds_h(&self) -> (f64, f64) {
        let (lo, hi) = self
            .diag_g
            .par_iter()
            .fold(|| (f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &d| (lo.min(d), hi.max(d)))
            .reduce(|| (f64::INFINITY, f64::NEG_INFINITY), |a, b| (a.0.min(b.0), a.1.max(b.1)));
        let radius = self.n_sites as f64 * self.omega.abs() + self.flips.iter().map(|f| f.amp.abs()).sum::<f64>();
        (lo - radius, hi + radius)
    }

    /// Operator-norm bound `‖H0‖ ≤ N|B| + (1 + 2|α|) Σ_{i<j}|g_ij|` (triangle inequality,
    /// `‖Z_iZ_j + α(X_iX_j + Y_iY_j)‖ ≤ 1 + 2|α|`). A state error `ε` changes the work by at
    /// most `2 ‖H0‖ ε + O(ε²)`.
    pub fn h0_norm_bound(chain: &Chain) -> f64 {
        chain.n_sites() as f64 * chain.b().abs() + chain.total_abs_coupling() * (1.0 + 2.0 * chain.alpha().abs())
    }
}
