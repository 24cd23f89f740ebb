//! Products `y = T x` with a real symmetric Toeplitz matrix `T_ij = f(|i − j|)` (`N × N`)
//! in `O(N log N)` by FFT, for the mean field `M_m = Σ_j g_mj S_j` of couplings that depend
//! only on `|i − j|`.
//!
//! **Method.** `T` is embedded in the circulant matrix of size `L = 2K ≥ 2N − 1` whose first
//! column is `c = (f(0), f(1), …, f(N−1), 0, …, 0, f(N−1), …, f(1))`; then
//! `(T x)_m = (c ⊛ x̃)_m` for `m < N`, where `x̃` is `x` padded with zeros to length `L` and
//! `⊛` is the cyclic convolution, `c ⊛ x̃ = IDFT(ĉ · DFT(x̃))`. The spectrum `ĉ` is real
//! (`c` is real and symmetric) and is computed once. `x` is real, so the length-`L`
//! transforms are done as complex transforms of half length `K` (`q_k = x̃_{2k} + i x̃_{2k+1}`,
//! the standard packing of Numerical Recipes §12.3), with the multiplication by `ĉ` and
//! both unpacking steps fused into one pass over `K` points. `K` is the smallest number
//! `≥ N` of the form `2^a 3^b 5^c`, for which rustfft's mixed-radix plans are fast.
//!
//! **Cost.** One product: a forward and an inverse complex FFT of length `K ≈ N`
//! (`≈ 2 · 5 K log₂ K` flops) and `O(K)` for packing; several vectors are transformed in
//! one batch ([`ToeplitzProduct::apply`]). Setup: one complex FFT of length `L`. Memory:
//! `16 K` bytes for the coefficients and `≈ 32 K` for the FFT plans, plus a workspace of
//! `16 K` bytes and an FFT scratch per vector of a batch ([`ToeplitzProduct::bytes`]).
//! Nothing is allocated per product. For large `K` the vectors of a batch are transformed
//! on separate threads (rayon).
//!
//! **Accuracy.** The FFT is backward stable: in the 2-norm, a transform of length `L`
//! computed in floating point has relative error `≲ η log₂ L` with `η` a few units of
//! roundoff `ε = 2⁻⁵²` (Higham, *Accuracy and Stability of Numerical Algorithms*,
//! Thm. 24.2). Propagated through `DFT → ·ĉ → IDFT`, with `|ĉ_k| ≤ ‖c‖₁`, this gives
//! `‖δy‖₂ ≲ ε log₂ L (‖c‖₁ + ‖c‖₂) ‖x‖₂` up to a small constant. The estimate used by the
//! mean-field error accounting is [`ToeplitzProduct::rounding`]
//! `ρ = 2 ε log₂ L (‖c‖₁ + ‖c‖₂)`, `‖δy‖₂ ≤ ρ ‖x‖₂` (`‖c‖₁ = |f(0)| + 2 Σ_{d≥1} |f(d)|`,
//! twice the largest row sum of `|T|`); the unit tests check it against an exact
//! (double-double) evaluation with a margin. Per component this is an error of about
//! `ε log₂ L · max_m Σ_j |T_mj|` for spread-out `x`, comparable to the direct sum, whose
//! rounding grows with the number of terms instead of `log L`.

use rayon::prelude::*;
use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};
use std::fmt;
use std::sync::Arc;

/// Unit roundoff `ε = 2⁻⁵²` (the spacing of doubles at 1).
const EPS: f64 = f64::EPSILON;

/// Transform length from which the vectors of a batch are transformed on separate threads.
const PAR_MIN_LEN: usize = 1 << 13;

/// `y = T x` for a real symmetric Toeplitz matrix `T_ij = f(|i − j|)`, by FFT (see the
/// module docs for the method, its cost and accuracy).
#[derive(Clone)]
pub struct ToeplitzProduct {
    n: usize,
    /// half the circulant size, `L = 2k ≥ 2n − 1`
    k: usize,
    fwd: Arc<dyn Fft<f64>>,
    inv: Arc<dyn Fft<f64>>,
    /// `(α_j, β_j)`, `j < K`, of [`ToeplitzProduct::multiply_packed`]
    coef: Vec<[f64; 2]>,
    scratch_len: usize,
    /// `‖c‖₁` and `‖c‖₂` of the circulant's first column
    c_l1: f64,
    c_l2: f64,
}

/// Work arrays of [`ToeplitzProduct::apply`] for a batch of up to `batch` vectors.
#[derive(Debug, Clone)]
pub struct ToeplitzWorkspace {
    buf: Vec<Complex<f64>>,
    scratch: Vec<Complex<f64>>,
}

impl fmt::Debug for ToeplitzProduct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToeplitzProduct")
            .field("n", &self.n)
            .field("fft_len", &(2 * self.k))
            .field("c_l1", &self.c_l1)
            .field("c_l2", &self.c_l2)
            .finish_non_exhaustive()
    }
}

/// Smallest `2^a 3^b 5^c ≥ n` (`n ≥ 1`).
pub fn fast_len(n: usize) -> usize {
    let n = n.max(1);
    let mut best = n.next_power_of_two();
    let mut p5 = 1usize;
    while p5 < best {
        let mut p35 = p5;
        while p35 < best {
            // smallest power of two times p35 that reaches n
            let mut v = p35;
            while v < n {
                v *= 2;
            }
            best = best.min(v);
            p35 *= 3;
        }
        p5 *= 5;
    }
    best
}

impl ToeplitzProduct {
    /// The product for `T_ij = kernel[|i − j|]`, `N = kernel.len() ≥ 1`. Costs one FFT of
    /// length `L = 2K`, `K = fast_len(N)`.
    ///
    /// # Panics
    /// If `kernel` is empty.
    pub fn new(kernel: &[f64]) -> Self {
        let n = kernel.len();
        assert!(n >= 1, "a Toeplitz kernel needs at least one entry");
        let k = fast_len(n);
        let l = 2 * k;
        let mut planner = FftPlanner::<f64>::new();
        // first column of the circulant embedding and its spectrum (real: c is symmetric)
        let mut c = vec![Complex::new(0.0, 0.0); l];
        c[0].re = kernel[0];
        for (d, &f) in kernel.iter().enumerate().skip(1) {
            c[d].re = f;
            c[l - d].re = f;
        }
        let c_l1 = kernel[0].abs() + 2.0 * kernel[1..].iter().map(|f| f.abs()).sum::<f64>();
        let c_l2 = (kernel[0] * kernel[0] + 2.0 * kernel[1..].iter().map(|f| f * f).sum::<f64>()).sqrt();
        planner.plan_fft_forward(l).process(&mut c);
        // α_j = (ĉ_j + ĉ_{j+K} − (ĉ_j − ĉ_{j+K}) sin θ_j) / 2K, β_j = (ĉ_j − ĉ_{j+K}) cos θ_j / 2K,
        // θ_j = 2πj/L
        let scale = 1.0 / (2.0 * k as f64);
        let coef = (0..k)
            .map(|j| {
                let (sin, cos) = (2.0 * std::f64::consts::PI * j as f64 / l as f64).sin_cos();
                let (sum, diff) = (c[j].re + c[j + k].re, c[j].re - c[j + k].re);
                [(sum - diff * sin) * scale, diff * cos * scale]
            })
            .collect();
        drop(c);
        let fwd = planner.plan_fft_forward(k);
        let inv = planner.plan_fft_inverse(k);
        let scratch_len = fwd.get_inplace_scratch_len().max(inv.get_inplace_scratch_len());
        ToeplitzProduct { n, k, fwd, inv, coef, scratch_len, c_l1, c_l2 }
    }

    /// Matrix size `N`.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Length `L = 2K ≥ 2N − 1` of the circulant embedding.
    pub fn fft_len(&self) -> usize {
        2 * self.k
    }

    /// Estimate `ρ = 2 ε log₂ L (‖c‖₁ + ‖c‖₂)` of the rounding error:
    /// `‖(T x)_computed − T x‖₂ ≤ ρ ‖x‖₂` (see the module docs).
    pub fn rounding(&self) -> f64 {
        2.0 * EPS * (self.fft_len() as f64).log2().max(1.0) * (self.c_l1 + self.c_l2)
    }

    /// Work arrays for batches of up to `batch` vectors.
    pub fn workspace(&self, batch: usize) -> ToeplitzWorkspace {
        let batch = batch.max(1);
        ToeplitzWorkspace {
            buf: vec![Complex::new(0.0, 0.0); batch * self.k],
            scratch: vec![Complex::new(0.0, 0.0); batch * self.scratch_len.max(1)],
        }
    }

    /// Bytes held by the product and by a workspace for `batch` vectors (estimate: the
    /// FFT plans' own twiddle tables are counted as `32 K`).
    pub fn bytes(n: usize, batch: usize) -> f64 {
        let k = fast_len(n) as f64;
        // coef 16K, plans ~32K, buffer and scratch (≤ 16K) per vector
        (16.0 + 32.0 + 32.0 * batch as f64) * k
    }

    /// `y = T x` for `x` of length `N` (allocates a workspace; for tests and one-off use).
    pub fn matvec(&self, x: &[f64]) -> Vec<f64> {
        let mut y = vec![0.0; self.n];
        self.apply(x, 1, &[0], &mut y, &mut self.workspace(1));
        y
    }

    /// Batched products on interleaved data: for each `c` in `comps`,
    /// `y[stride·i + c] = Σ_j T_ij x[stride·j + c]`; the other entries of `y` are left alone.
    /// `x` and `y` have length `stride · N`. No allocation when `ws` was made for at least
    /// `comps.len()` vectors.
    ///
    /// # Panics
    /// If the lengths do not match or a component is `≥ stride`.
    pub fn apply(&self, x: &[f64], stride: usize, comps: &[usize], y: &mut [f64], ws: &mut ToeplitzWorkspace) {
        let (n, k) = (self.n, self.k);
        assert!(x.len() == stride * n && y.len() == stride * n, "x and y must have length stride * N");
        assert!(comps.iter().all(|&c| c < stride), "component index beyond the stride");
        let batch = comps.len();
        if batch == 0 {
            return;
        }
        let sl = self.scratch_len.max(1);
        if ws.buf.len() < batch * k {
            ws.buf.resize(batch * k, Complex::new(0.0, 0.0));
        }
        if ws.scratch.len() < batch * sl {
            ws.scratch.resize(batch * sl, Complex::new(0.0, 0.0));
        }
        let one = |(q, scratch): (&mut [Complex<f64>], &mut [Complex<f64>]), c: usize| {
            // pack q_j = x_{2j} + i x_{2j+1} (zero beyond N), transform, multiply, back
            let half = n / 2;
            for (j, qj) in q[..half].iter_mut().enumerate() {
                *qj = Complex::new(x[stride * 2 * j + c], x[stride * (2 * j + 1) + c]);
            }
            let mut rest = half;
            if n % 2 == 1 {
                q[half] = Complex::new(x[stride * (n - 1) + c], 0.0);
                rest += 1;
            }
            q[rest..].fill(Complex::new(0.0, 0.0));
            let scratch = &mut scratch[..self.scratch_len];
            self.fwd.process_with_scratch(q, scratch);
            self.multiply_packed(q);
            self.inv.process_with_scratch(q, scratch);
        };
        let (buf, scratch) = (&mut ws.buf[..batch * k], &mut ws.scratch[..batch * sl]);
        if batch > 1 && k >= PAR_MIN_LEN {
            // independent vectors on separate threads (own buffer and scratch each)
            buf.par_chunks_exact_mut(k).zip(scratch.par_chunks_exact_mut(sl)).zip(comps).for_each(|(b, &c)| one(b, c));
        } else {
            buf.chunks_exact_mut(k).zip(scratch.chunks_exact_mut(sl)).zip(comps).for_each(|(b, &c)| one(b, c));
        }
        for (q, &c) in buf.chunks_exact(k).zip(comps) {
            for (j, qj) in q[..n / 2].iter().enumerate() {
                y[stride * 2 * j + c] = qj.re;
                y[stride * (2 * j + 1) + c] = qj.im;
            }
            if n % 2 == 1 {
                y[stride * (n - 1) + c] = q[n / 2].re;
            }
        }
    }

    /// From `Q = DFT_K(q)` of the packed input to `Z`, whose inverse DFT is `K` times the
    /// packed output. Unpacking the length-`L` spectrum, `X_j = E_j + W^j O_j`,
    /// `X_{j+K} = E_j − W^j O_j` (`E`, `O` the spectra of the even and odd samples,
    /// `2E_j = Q_j + Q̄_{K−j}`, `2O_j = −i(Q_j − Q̄_{K−j})`, `W = e^{−2πi/L}`), multiplying by
    /// `ĉ` and packing again, `Z_j = (Y_j + Y_{j+K})/2 + i W^{−j} (Y_j − Y_{j+K})/2`,
    /// collapses to `Z_j = α_j Q_j + β_j i Q̄_{K−j}` with real
    /// `α_j = (ĉ_j + ĉ_{j+K} − (ĉ_j − ĉ_{j+K}) sin θ_j)/2`, `β_j = (ĉ_j − ĉ_{j+K}) cos θ_j / 2`,
    /// `θ_j = 2πj/L` (the inverse transform's `1/K` is folded into them).
    #[inline]
    fn multiply_packed(&self, q: &mut [Complex<f64>]) {
        let k = self.k;
        let coef = &self.coef[..k];
        for j in 0..=k / 2 {
            let m = (k - j) % k;
            let (qj, qm) = (q[j], q[m]);
            let [a, b] = coef[j];
            q[j] = Complex::new(a * qj.re + b * qm.im, a * qj.im + b * qm.re);
            if m != j {
                let [a, b] = coef[m];
                q[m] = Complex::new(a * qm.re + b * qj.im, a * qm.im + b * qj.re);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(seed: u64) -> impl FnMut() -> f64 {
        let mut x = seed;
        move || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        }
    }

    /// `a + b` exactly as `(s, e)`.
    fn two_sum(a: f64, b: f64) -> (f64, f64) {
        let s = a + b;
        let bb = s - a;
        (s, (a - (s - bb)) + (b - bb))
    }

    /// `Σ_j T_ij x_j` in double-double arithmetic (exact to ~1e-30 relative): the
    /// reference the rounding estimate is checked against.
    fn exact_row(kernel: &[f64], x: &[f64], i: usize) -> f64 {
        let (mut hi, mut lo) = (0.0f64, 0.0f64);
        for (j, &xj) in x.iter().enumerate() {
            let f = kernel[i.abs_diff(j)];
            let p = f * xj;
            let pe = f.mul_add(xj, -p);
            let (s, e) = two_sum(hi, p);
            hi = s;
            lo += e + pe;
        }
        hi + lo
    }

    /// Naive `O(N²)` product in plain floating point.
    fn naive(kernel: &[f64], x: &[f64]) -> Vec<f64> {
        (0..x.len()).map(|i| x.iter().enumerate().map(|(j, xj)| kernel[i.abs_diff(j)] * xj).sum()).collect()
    }

    #[test]
    fn fast_lengths_are_smooth_and_minimal() {
        let smooth = |mut v: usize| {
            for p in [2, 3, 5] {
                while v.is_multiple_of(p) {
                    v /= p;
                }
            }
            v == 1
        };
        for n in 1..2000 {
            let m = fast_len(n);
            assert!(m >= n && smooth(m), "n = {n}: {m}");
            assert!((n..m).all(|v| !smooth(v)), "n = {n}: {m} is not the smallest");
        }
        assert_eq!(fast_len(100_000), 100_000);
        assert_eq!(fast_len(100_001), 101_250);
    }

    #[test]
    fn product_equals_naive_sum() {
        let mut rnd = lcg(3);
        for n in [1, 2, 3, 4, 5, 7, 8, 16, 31, 97, 250, 257] {
            // generic kernel with a diagonal, a power law, nearest neighbour
            let kernels: [Vec<f64>; 3] = [
                (0..n).map(|_| rnd()).collect(),
                (0..n).map(|d| if d == 0 { 0.0 } else { 1.0 / (d as f64).powf(0.7) }).collect(),
                (0..n).map(|d| if d == 1 { 2.5 } else { 0.0 }).collect(),
            ];
            for kernel in kernels {
                let t = ToeplitzProduct::new(&kernel);
                assert!(t.fft_len() + 1 >= 2 * n);
                let x: Vec<f64> = (0..n).map(|_| rnd()).collect();
                let y = t.matvec(&x);
                let reference = naive(&kernel, &x);
                let scale = kernel.iter().map(|f| f.abs()).sum::<f64>().max(1e-300);
                for i in 0..n {
                    assert!(
                        (y[i] - reference[i]).abs() <= 1e-13 * scale,
                        "N = {n}, row {i}: {} vs {}",
                        y[i],
                        reference[i]
                    );
                }
            }
        }
    }

    #[test]
    fn batched_interleaved_product_touches_only_its_components() {
        let mut rnd = lcg(5);
        let n = 37;
        let kernel: Vec<f64> = (0..n).map(|d| if d == 0 { 0.0 } else { 1.0 / d as f64 }).collect();
        let t = ToeplitzProduct::new(&kernel);
        let x: Vec<f64> = (0..3 * n).map(|_| rnd()).collect();
        let mut y = vec![7.0; 3 * n];
        let mut ws = t.workspace(2);
        t.apply(&x, 3, &[2, 0], &mut y, &mut ws);
        for c in [0, 2] {
            let xc: Vec<f64> = (0..n).map(|i| x[3 * i + c]).collect();
            let reference = naive(&kernel, &xc);
            for i in 0..n {
                assert!((y[3 * i + c] - reference[i]).abs() < 1e-13 * 10.0);
            }
        }
        assert!((0..n).all(|i| y[3 * i + 1] == 7.0));
        // the workspace is reused: same result again
        let before = y.clone();
        t.apply(&x, 3, &[2, 0], &mut y, &mut ws);
        assert_eq!(y, before);
    }

    #[test]
    fn rounding_estimate_holds_against_exact_sums() {
        // worst cases for cancellation and size: all-to-all (p = 0), slow power law, NN,
        // vectors of one sign and of random signs
        let mut rnd = lcg(11);
        for n in [10, 300, 3000, 20_000] {
            let kernels: [Vec<f64>; 3] = [
                (0..n).map(|d| if d == 0 { 0.0 } else { 1.0 }).collect(),
                (0..n).map(|d| if d == 0 { 0.0 } else { 1.7 / (d as f64).powf(0.5) }).collect(),
                (0..n).map(|d| if d == 1 { 1.0 } else { 0.0 }).collect(),
            ];
            for kernel in kernels {
                let t = ToeplitzProduct::new(&kernel);
                for signed in [false, true] {
                    let x: Vec<f64> = (0..n).map(|_| if signed { rnd() } else { 0.5 * (1.0 + rnd()) }).collect();
                    let y = t.matvec(&x);
                    // rows: all of them for small N, a sample otherwise
                    let rows: Vec<usize> = if n <= 3000 { (0..n).collect() } else { (0..n).step_by(97).collect() };
                    let err2: f64 = rows.iter().map(|&i| (y[i] - exact_row(&kernel, &x, i)).powi(2)).sum();
                    // scale the sampled error up to all rows
                    let err = (err2 * n as f64 / rows.len() as f64).sqrt();
                    let xn = x.iter().map(|v| v * v).sum::<f64>().sqrt();
                    let est = t.rounding() * xn;
                    assert!(err <= 0.5 * est, "N = {n}, signed {signed}: error {err:e} vs estimate {est:e}");
                }
            }
        }
    }
}
