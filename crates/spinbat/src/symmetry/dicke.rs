//! The `N + 1` Dicke states of a permutation-symmetric chain, as a [`Space`].
//!
//! **When it applies.** All couplings equal, `g_ij = g'` for every `i ≠ j`
//! ([`super::is_permutation_symmetric`]): then `H` and `H0` commute with every permutation
//! of the sites, the all-down state is symmetric, and `ψ(t)` stays in the Dicke states
//! `|k⟩ = |S = N/2, S_z = k − N/2⟩`, `k = 0..N` the number of up spins (the orbits of the
//! symmetric group, normalised: weight 1).
//!
//! **Matrix elements.** With `S_z = k − N/2` and `S² = (N/2)(N/2 + 1)` on this subspace:
//! `Σ_i Z_i = 2 S_z`, `Σ_{i<j} Z_i Z_j = ((2S_z)² − N)/2` and
//! `Σ_{i<j} (X_i X_j + Y_i Y_j) = (4(S² − S_z²) − 2N)/2`, so
//! `H_g = −2g'(1 − α) S_z² + const` is diagonal, and `Σ_i X_i = 2 S_x` is tridiagonal.
//! Measured from the all-down state (`E_0 = −NB − g'N(N−1)/2`, `⟨0|H_g|0⟩ = −g'N(N−1)/2`):
//! * `d_k = ⟨k|H_g|k⟩ − ⟨0|H_g|0⟩ = 2g'(1 − α) k (N − k)` ([`DickeSpace::diag`]),
//! * `f_k = ⟨k+1|Σ_i X_i|k⟩ = √((N − k)(k + 1))`, `β_k = ω f_k` ([`DickeSpace::off`]),
//! * `ε_k = ⟨k|H0|k⟩ − E_0 = 2Bk + d_k` ([`DickeSpace::work`]), exact products of integers,
//!   so `W = Σ_k ε_k |ψ_k|²` has no cancellation against `E_0 ∝ N²`,
//! * `W'(t) = 2 Im⟨H0ψ|Vψ⟩ = 2 Σ_k β_k (ε_k − ε_{k+1}) Im(ψ̄_k ψ_{k+1})`.
//!
//! The unit test `dicke_elements_match_the_full_space` checks all of them against the
//! `2^N` operators. One product with `H` costs `O(N)`.

use super::space::Space;
use crate::model::Chain;
use crate::numeric::Amplitude;

/// Rows per block of the kernels (the last block holds the rest: `N + 1` is any number).
/// An `O(N)` product is cheap: below this many states one block, no parallel overhead.
const BLOCK: usize = 1 << 15;

/// `H = H_g + V` and the work operator `H0 − E_0` on the `N + 1` Dicke states (module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct DickeSpace {
    n: usize,
    b: f64,
    omega: f64,
    /// `2g'(1 − α)`
    c: f64,
    /// `⟨0|H_g|0⟩ = −g'N(N−1)/2`
    hg0: f64,
    /// `H = H0 + V` (the storage field kept on): the diagonal of `H` is `ε_k` instead of `d_k`
    keep_field: bool,
    block: usize,
    /// tables for the kernels: `⟨0|H_g|0⟩ + d_k`, `β_k`, `f_k`, `ε_k`
    h_diag: Vec<f64>,
    beta: Vec<f64>,
    flips: Vec<f64>,
    eps: Vec<f64>,
}

impl DickeSpace {
    /// The Dicke space of `chain`, or `None` when its couplings are not all equal
    /// ([`super::uniform_coupling`]) or its sites have their own fields (`H_B` would leave
    /// the symmetric states), or its charging has XYZ couplings or per-site weights of `ω`
    /// (the field kept on is taken: `H = H0 + V`, whose diagonal is
    /// `⟨k|H0|k⟩ = E_0 + ε_k`, [`DickeSpace::h_diag_rel`]).
    pub fn new(chain: &Chain) -> Option<Self> {
        if chain.has_site_fields() || chain.gamma() != 0.0 || chain.has_omega_sites() {
            return None;
        }
        let g = super::uniform_coupling(chain)?;
        let n = chain.n_sites();
        let mut space = DickeSpace {
            n,
            b: chain.b(),
            omega: chain.omega(),
            c: 2.0 * g * (1.0 - chain.alpha()),
            hg0: -g * (n as f64) * (n as f64 - 1.0) / 2.0,
            keep_field: chain.keep_field(),
            block: BLOCK,
            h_diag: Vec::new(),
            beta: Vec::new(),
            flips: Vec::new(),
            eps: Vec::new(),
        };
        space.h_diag = (0..=n).map(|k| space.hg0 + space.h_diag_rel(k)).collect();
        space.flips = (0..n).map(|k| space.flip(k)).collect();
        space.beta = (0..n).map(|k| space.off(k)).collect();
        space.eps = (0..=n).map(|k| space.work(k)).collect();
        Some(space)
    }

    /// Bytes of the kernels' tables per Dicke state (four `f64`).
    pub const TABLE_BYTES_PER_STATE: f64 = 32.0;

    /// The same space with blocks of `len` rows (tests of the kernels' short last block).
    pub fn with_block_len(self, len: usize) -> Self {
        DickeSpace { block: len.max(1), ..self }
    }

    /// `N + 1`.
    pub fn len(&self) -> usize {
        self.n + 1
    }

    /// Never empty (`N + 1 ≥ 1` states); for completeness beside [`DickeSpace::len`].
    pub fn is_empty(&self) -> bool {
        false
    }

    /// `d_k = ⟨k|H_g|k⟩ − ⟨0|H_g|0⟩ = 2g'(1 − α) k (N − k)` (exact products of integers
    /// below `2^53`).
    #[inline(always)]
    pub fn diag(&self, k: usize) -> f64 {
        self.c * (k as f64 * (self.n - k) as f64)
    }

    /// The diagonal of the charging `H` at `k` less `⟨0|H_g|0⟩`: `d_k`, or with the field
    /// kept on `ε_k` (`H = H0 + V`; the constant `−NB` is a global phase, left out).
    #[inline(always)]
    pub fn h_diag_rel(&self, k: usize) -> f64 {
        if self.keep_field {
            self.work(k)
        } else {
            self.diag(k)
        }
    }

    /// `ε_k = ⟨k|H0|k⟩ − E_0 = 2Bk + d_k`.
    #[inline(always)]
    pub fn work(&self, k: usize) -> f64 {
        2.0 * self.b * k as f64 + self.diag(k)
    }

    /// `f_k = ⟨k+1|Σ_i X_i|k⟩ = √((N − k)(k + 1))`, `k < N`.
    #[inline(always)]
    pub fn flip(&self, k: usize) -> f64 {
        ((self.n - k) as f64 * (k + 1) as f64).sqrt()
    }

    /// `β_k = ⟨k+1|V|k⟩ = ω f_k`, `k < N`.
    #[inline(always)]
    pub fn off(&self, k: usize) -> f64 {
        self.omega * self.flip(k)
    }

    /// `ε_k − ε_{k+1} = −(2B + 2g'(1 − α)(N − 2k − 1))`.
    #[inline(always)]
    pub fn work_step(&self, k: usize) -> f64 {
        -(2.0 * self.b + self.c * (self.n as f64 - 2.0 * k as f64 - 1.0))
    }

    /// Estimate of the half-width of the spectrum of `H`, `|2g'(1 − α)| N²/8 + ω (N + 1)`.
    pub fn radius_estimate(&self) -> f64 {
        let n = self.n as f64;
        let field = if self.keep_field { 2.0 * self.b.abs() * n } else { 0.0 };
        self.c.abs() * n * n / 8.0 + self.omega.abs() * (n + 1.0) + field
    }

    /// `‖ε‖ = max_k |ε_k|`, the norm of the work operator on this space: `ε` is a parabola
    /// in `k`, so the ends and the vertex.
    pub fn work_norm(&self) -> f64 {
        let n = self.n;
        let mut ks = vec![0, n];
        if self.c != 0.0 {
            let v = (2.0 * self.b + self.c * n as f64) / (2.0 * self.c);
            if v.is_finite() && v > 0.0 && v < n as f64 {
                ks.push(v.floor() as usize);
                ks.push((v.ceil() as usize).min(n));
            }
        }
        ks.into_iter().map(|k| self.work(k).abs()).fold(0.0, f64::max)
    }

    /// `(W, W', ‖εψ‖)` of the unnormalised state `ψ_k = get(k)` for `k < len`, zero beyond
    /// (a window of the leading states).
    #[inline(always)]
    pub fn observe(&self, len: usize, get: impl Fn(usize) -> num_complex::Complex64) -> (f64, f64, f64) {
        let (mut w, mut w2, mut rate) = (0.0, 0.0, 0.0);
        let mut cur = get(0);
        for k in 0..len {
            let e = self.work(k);
            let p = cur.norm_sqr();
            w += e * p;
            w2 += e * e * p;
            if k + 1 < len {
                let next = get(k + 1);
                rate += self.off(k) * self.work_step(k) * (cur.conj() * next).im;
                cur = next;
            }
        }
        (w, 2.0 * rate, w2.sqrt())
    }

    /// `out[o·m + j] = off[k−1] x[(k−1)·m + j] + diag[k] x[k·m + j] + off[k] x[(k+1)·m + j]`
    /// over the rows `k` of block `block` (`diag = None`: zero): a tridiagonal product on
    /// `m` interleaved states.
    #[inline]
    fn tridiagonal<T: Amplitude>(
        &self,
        x: &[T],
        m: usize,
        block: usize,
        out: &mut [T],
        diag: Option<&[f64]>,
        off: &[f64],
    ) {
        let n = self.n;
        for (k, o) in self.block_rows(block).zip(out.chunks_exact_mut(m)) {
            let d = diag.map_or(0.0, |d| d[k]);
            for (j, y) in o.iter_mut().enumerate() {
                let mut v = x[k * m + j].scale(d);
                if k > 0 {
                    v += x[(k - 1) * m + j].scale(off[k - 1]);
                }
                if k < n {
                    v += x[(k + 1) * m + j].scale(off[k]);
                }
                *y = v;
            }
        }
    }
}

impl Space for DickeSpace {
    fn n_sites(&self) -> usize {
        self.n
    }

    fn omega(&self) -> f64 {
        self.omega
    }

    fn dim(&self) -> usize {
        self.n + 1
    }

    /// A tridiagonal `H` costs a few operations per row: accumulating the states of a
    /// batch beats `K²` Gram products per row.
    fn gram_output(&self) -> bool {
        false
    }

    fn block_len(&self) -> usize {
        self.block.min(self.n + 1)
    }

    fn h_block<T: Amplitude>(&self, x: &[T], block: usize, out: &mut [T]) {
        // one state: the rows in the interior by slices (no index arithmetic), the ends apart
        let rows = self.block_rows(block);
        let (lo, hi) = (rows.start.max(1), rows.end.min(self.n));
        if lo >= hi {
            return self.tridiagonal(x, 1, block, out, Some(&self.h_diag), &self.beta);
        }
        let first = lo - rows.start;
        if rows.start == 0 {
            out[0] = x[0].scale(self.h_diag[0]) + if self.n > 0 { x[1].scale(self.beta[0]) } else { T::default() };
        }
        let inner = &mut out[first..first + (hi - lo)];
        for ((((o, w), &d), &below), &above) in inner
            .iter_mut()
            .zip(x[lo - 1..hi + 1].windows(3))
            .zip(&self.h_diag[lo..hi])
            .zip(&self.beta[lo - 1..hi - 1])
            .zip(&self.beta[lo..hi])
        {
            *o = w[1].scale(d) + w[0].scale(below) + w[2].scale(above);
        }
        if rows.end == self.n + 1 && self.n > 0 {
            let k = self.n;
            out[k - rows.start] = x[k].scale(self.h_diag[k]) + x[k - 1].scale(self.beta[k - 1]);
        }
    }

    fn flip_sum_block<T: Amplitude>(&self, x: &[T], m: usize, block: usize, out: &mut [T]) {
        self.tridiagonal(x, m, block, out, None, &self.flips);
    }

    fn work_block<T: Amplitude>(&self, x: &[T], m: usize, block: usize, out: &mut [T]) {
        for (k, o) in self.block_rows(block).zip(out.chunks_exact_mut(m)) {
            let e = self.eps[k];
            for (j, y) in o.iter_mut().enumerate() {
                *y = x[k * m + j].scale(e);
            }
        }
    }

    fn block_weight(&self, _block: usize) -> f64 {
        1.0
    }

    /// 4: `H` costs three multiply-adds per row, so accumulations dominate a term
    /// (measured at `N = 10⁴`, XXX, 201 times from all-down: 4.3 s with 4 times per
    /// expansion, 4.8 s with 8, 6.6 s with 16, 10.1 s with 32).
    fn batch_hint(&self) -> usize {
        4
    }

    /// Gershgorin: `⟨0|H_g|0⟩ + d_k ± (β_{k−1} + β_k)`.
    fn spectral_bounds_h(&self) -> (f64, f64) {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for k in 0..=self.n {
            let r = if k > 0 { self.off(k - 1).abs() } else { 0.0 } + if k < self.n { self.off(k).abs() } else { 0.0 };
            let d = self.hg0 + self.h_diag_rel(k);
            lo = lo.min(d - r);
            hi = hi.max(d + r);
        }
        (lo, hi)
    }

    /// `H_g` is diagonal here: `⟨0|H_g|0⟩ + max_k d_k`, exact (the top of `H_g` on the
    /// symmetric states, which is all the dynamics sees).
    fn h_g_max_bound(&self) -> f64 {
        let n = self.n;
        let top = [0, n / 2, n.div_ceil(2), n].into_iter().map(|k| self.diag(k)).fold(f64::NEG_INFINITY, f64::max);
        self.hg0 + top
    }

    fn description(&self) -> String {
        format!("Dicke states, {} of 2^{} states", self.n + 1, self.n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Couplings;
    use crate::operator::Operators;
    use num_complex::Complex64;

    fn binomial(n: usize, k: usize) -> f64 {
        (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
    }

    /// The Dicke state `|k⟩` in the full `2^N` space.
    fn dicke_state(n: usize, k: usize) -> Vec<Complex64> {
        let amp = 1.0 / binomial(n, k).sqrt();
        (0..1usize << n)
            .map(|s| if s.count_ones() as usize == k { Complex64::new(amp, 0.0) } else { Complex64::new(0.0, 0.0) })
            .collect()
    }

    fn dot(a: &[Complex64], b: &[Complex64]) -> Complex64 {
        a.iter().zip(b).map(|(x, y)| x.conj() * y).sum()
    }

    #[test]
    fn dicke_elements_match_the_full_space() {
        for (n, alpha, g, b, omega) in
            [(1, 0.3, 1.0, 1.0, 4.0), (2, -0.7, 0.8, 1.3, 2.0), (4, 0.0, 1.7, 0.6, 0.9), (5, 1.4, 0.5, 2.0, 3.1)]
        {
            let chain = Chain::builder(n)
                .alpha(alpha)
                .g(g)
                .b(b)
                .omega(omega)
                .couplings(Couplings::PowerLaw { p: 0.0 })
                .build()
                .unwrap();
            let ops = Operators::new(&chain).unwrap();
            let el = DickeSpace::new(&chain).unwrap();
            let e0 = chain.initial_energy();
            let hg0 = e0 + n as f64 * b; // ⟨0|H_g|0⟩ = −g N(N−1)/2
            let states: Vec<Vec<Complex64>> = (0..=n).map(|k| dicke_state(n, k)).collect();
            let mut y = vec![Complex64::new(0.0, 0.0); 1 << n];
            let mut y0 = y.clone();
            for k in 0..=n {
                ops.apply_h(&states[k], &mut y);
                ops.apply_h0(&states[k], &mut y0);
                let mut in_subspace = 0.0;
                for (l, s) in states.iter().enumerate() {
                    let h = dot(s, &y);
                    in_subspace += h.norm_sqr();
                    let want = if l == k {
                        el.diag(k) + hg0
                    } else if l == k + 1 {
                        el.off(k)
                    } else if k == l + 1 {
                        el.off(l)
                    } else {
                        0.0
                    };
                    assert!((h.re - want).abs() < 1e-12 && h.im.abs() < 1e-12, "N={n} <{l}|H|{k}> = {h} vs {want}");
                    let h0 = dot(s, &y0);
                    let want0 = if l == k { el.work(k) + e0 } else { 0.0 };
                    assert!((h0.re - want0).abs() < 1e-12, "N={n} <{l}|H0|{k}> = {h0} vs {want0}");
                }
                // H|k⟩ has no component outside the symmetric subspace
                let total: f64 = y.iter().map(|v| v.norm_sqr()).sum();
                assert!((total - in_subspace).abs() < 1e-10 * total.max(1.0), "N={n}: H leaves the Dicke states");
                if k < n {
                    assert!((el.work(k) - el.work(k + 1) - el.work_step(k)).abs() < 1e-12);
                }
            }
            let brute = (0..=n).map(|k| el.work(k).abs()).fold(0.0, f64::max);
            assert_eq!(el.work_norm(), brute);
        }
    }

    #[test]
    fn kernels_on_the_dicke_space_equal_the_full_space_with_short_last_blocks() {
        // N = 7: 8 Dicke states in blocks of 3, 3, 2 (the last block shorter)
        use crate::operator::{chebyshev_step, energy_and_rate_multi};
        let chain = Chain::builder(7)
            .alpha(0.35)
            .g(0.9)
            .b(1.2)
            .omega(1.9)
            .couplings(Couplings::PowerLaw { p: 0.0 })
            .build()
            .unwrap();
        let ops = Operators::new(&chain).unwrap();
        for block in [1usize, 2, 3, 4, 8, 100] {
            let space = DickeSpace::new(&chain).unwrap().with_block_len(block);
            assert_eq!(space.blocks(), 8usize.div_ceil(block.min(8)));
            // two states interleaved
            let m = 2;
            let phi: Vec<Complex64> =
                (0..8 * m).map(|q| Complex64::new(0.3 + 0.1 * q as f64, (q as f64).sin())).collect();
            let embed = |j: usize| -> Vec<Complex64> {
                let mut full = vec![Complex64::new(0.0, 0.0); 1 << 7];
                for k in 0..8 {
                    for (f, d) in full.iter_mut().zip(dicke_state(7, k)) {
                        *f += d * phi[k * m + j];
                    }
                }
                full
            };
            let got = energy_and_rate_multi(&space, &phi, m);
            let e0 = chain.initial_energy();
            for (j, g) in got.iter().enumerate() {
                let full = embed(j);
                let want = ops.work_and_rate(&full);
                let scale = 1.0 + want.work.abs();
                assert!((g.norm - want.norm).abs() < 1e-12 * want.norm, "block {block}: norm");
                assert!((g.work - want.work).abs() < 1e-12 * scale, "block {block}: work {} vs {}", g.work, want.work);
                assert!((g.rate - want.rate).abs() < 1e-11 * scale, "block {block}: rate {} vs {}", g.rate, want.rate);
                assert!((g.work_sq - want.work_sq).abs() < 1e-10 * (1.0 + want.work_sq), "block {block}: |A psi|^2");
                // H on the space: one Chebyshev step T_1 = (H − c)/r x with c = 0, r = 1
                let x: Vec<Complex64> = (0..8).map(|k| phi[k * m + j]).collect();
                let mut hx = vec![Complex64::new(0.0, 0.0); 8];
                let mut acc = vec![Complex64::new(0.0, 0.0); 8];
                let one = [Complex64::new(0.0, 0.0)];
                chebyshev_step(&space, &x, &mut hx, &mut acc, 0.0, 1.0, true, &one, &[Complex64::new(1.0, 0.0)], 0);
                let mut hfull = vec![Complex64::new(0.0, 0.0); 1 << 7];
                ops.apply_h(&full, &mut hfull);
                for (k, h) in hx.iter().enumerate() {
                    let want = dot(&dicke_state(7, k), &hfull);
                    assert!((h - want).norm() < 1e-11 * (1.0 + want.norm()), "block {block}: (H x)_{k} {h} vs {want}");
                }
                let _ = e0;
            }
        }
        // the Gershgorin enclosure holds the spectrum of H restricted to the Dicke states
        let space = DickeSpace::new(&chain).unwrap();
        let (lo, hi) = space.spectral_bounds_h();
        let (flo, fhi) = ops.spectral_bounds_h();
        assert!(lo >= flo - 1e-9 && hi <= fhi + 1e-9, "a sector's enclosure lies inside the full one");
        assert!(space.h_g_max_bound() <= ops.h_g_max_bound() + 1e-12);
    }

    #[test]
    fn work_norm_of_a_downward_parabola() {
        // α > 1 turns d_k negative; the largest |ε_k| is then at k = N or near the vertex
        // c = 2g(1 − α) with g = 1: α = 1.15, 0, 1.005, 1
        for (n, b, alpha) in [(10, 1.0, 1.15), (7, 0.5, 0.0), (12, 3.0, 1.005), (1, 1.0, 1.0)] {
            let chain = Chain::builder(n).b(b).alpha(alpha).couplings(Couplings::PowerLaw { p: 0.0 }).build().unwrap();
            let el = DickeSpace::new(&chain).unwrap();
            let c = el.c;
            let brute = (0..=n).map(|k| el.work(k).abs()).fold(0.0, f64::max);
            assert_eq!(el.work_norm(), brute, "n={n} c={c}");
        }
    }
}
