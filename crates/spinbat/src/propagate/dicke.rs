//! Exact propagator for permutation-symmetric chains, in the `N + 1` Dicke states.
//!
//! **When it applies.** All couplings equal, `g_ij = g'` for every `i ≠ j`: the power law
//! with `p = 0` (open or periodic), an explicit matrix whose off-diagonal entries are all
//! equal, nearest neighbour when that happens to couple every pair (`N ≤ 2`, or `N = 3`
//! periodic). Then `H` and `H0` commute with every permutation of the sites, the all-down
//! state is symmetric, and `ψ(t)` stays in the Dicke states
//! `|k⟩ = |S = N/2, S_z = k − N/2⟩`, `k = 0..N` the number of up spins.
//! [`is_permutation_symmetric`] checks the couplings for exact equality (`O(N)` for
//! distance-based patterns, `O(N²)` for a matrix).
//!
//! **Matrix elements.** With `S_z = k − N/2` and `S² = (N/2)(N/2 + 1)` on this subspace:
//! `Σ_i Z_i = 2 S_z`, `Σ_{i<j} Z_i Z_j = ((2S_z)² − N)/2` and
//! `Σ_{i<j} (X_i X_j + Y_i Y_j) = (4(S² − S_z²) − 2N)/2`, so
//! `H_g = −2g'(1 − α) S_z² + const` is diagonal, and `V = ω Σ_i X_i = 2ω S_x` is
//! tridiagonal. Measured from the all-down state (`E_0 = −NB − g'N(N−1)/2`):
//! * `d_k = ⟨k|H_g|k⟩ − ⟨0|H_g|0⟩ = 2g'(1 − α) k (N − k)` (the diagonal of `H`),
//! * `β_k = ⟨k+1|V|k⟩ = ω √((N − k)(k + 1))` (its off-diagonal),
//! * `ε_k = ⟨k|H0|k⟩ − E_0 = 2Bk + d_k`, so `W(t) = Σ_k ε_k |ψ_k(t)|²` (no cancellation
//!   against `E_0`),
//! * `W'(t) = 2 Im⟨H0ψ|Vψ⟩ = 2 Σ_k β_k (ε_k − ε_{k+1}) Im(ψ̄_k ψ_{k+1})`.
//!
//! The unit test `dicke_elements_match_the_full_space` checks all of them against the
//! `2^N` operators.
//!
//! **Method.** `H` is the tridiagonal `T = diag(d) + offdiag(β)`; one product costs `O(N)`.
//! With strong couplings its spectrum is wide (`‖T‖ ≈ |g'(1 − α)| N²/4`) while the state
//! stays within a few `k` of `k = 0`, where `d_k` sits at an edge, so two exact schemes are
//! combined:
//! 1. *Eigen window.* `T_K`, the leading `K × K` block, is diagonalised (faer, `O(K³)`);
//!    then `ψ̃(t) = Σ_j a_j e^{−iE_j t} v_j`, `a_j = v_j[0]`, costs `O(K²)` at any `t`
//!    (random access; no anchor needed). Duhamel's formula bounds the leak out of the
//!    window rigorously: `‖ψ(t) − ψ̃(t)‖ ≤ β_{K−1} ∫_0^t |ψ̃_{K−1}(s)| ds`, and
//!    `ψ̃_{K−1}(s) = Σ_j v_j[0] v_j[K−1] e^{−iE_j s} = P · f[E_1, …, E_K]`, the divided
//!    difference of `f(z) = e^{−izs}` times `P = Π_{q<K−1} β_q` (residues of
//!    `[(z − T_K)^{−1}]_{0,K−1} = P / det(z − T_K)`). Hence two bounds, whichever is smaller:
//!    * `|ψ̃_{K−1}(s)| ≤ R = Σ_j P / Π_{l≠j} |E_j − E_l|` (from the eigenvalues alone,
//!      each gap shrunk by a generous eigenvalue error, so accurate where the
//!      eigenvectors' tiny components are rounding noise), giving `β_{K−1} R t`;
//!    * Hermite–Genocchi, `|f[E_1..E_K]| ≤ s^{K−1}/(K−1)!`, giving the light cone
//!      `β_{K−1} P t^K / K!` (early times, before the state reaches the edge).
//!
//!    `K` starts at 16 and doubles whenever the bound, turned into a bound on `W` (below),
//!    exceeds `tol/2` at a requested time; `K = N + 1` has no leak at all.
//! 2. *Chebyshev*, as [`super::Chebyshev`] on all `N + 1` states: `e^{−iTδ}` by the
//!    Bessel series with a rigorous tail bound per step, all times of a batch from one
//!    expansion, anchor and restart. `O(N)` per term, `≈ ‖T‖ δ` terms.
//!
//! [`DickeMethod::Auto`] grows the window while the larger window is estimated to be cheaper
//! than Chebyshev (and at most [`DEFAULT_MAX_WINDOW`]); after that Chebyshev continues from
//! the window's state at the last time the window covered (earlier times are still served
//! by the window). [`DickeMethod::Eigen`], [`DickeMethod::Window`] and
//! [`DickeMethod::Chebyshev`] force one scheme or a fixed cap.
//!
//! **Error control.** A state error `e` moves `W = ⟨ψ|ε|ψ⟩` by at most
//! `e (2‖εψ̃‖ + ‖ε‖ e)` (`ψ̃` the computed state, `‖ε‖ = max_k |ε_k|`): this uses the
//! energy the state actually has rather than `‖H0‖ ≈ g'N²/2`. `e` is the leak bound
//! (window) or the accumulated Chebyshev tails (`≤ tol/(2‖ε‖) · 10⁻³` per step, as in
//! [`super::Chebyshev`]). Rounding is estimated, not bounded: `ε_mach (K + ‖T_K‖ t)` on the
//! state for the window (as [`super::Dense`]), `2.2·10⁻¹⁶` per Chebyshev term.
//! [`Propagator::error_bound`] reports the largest sum over the samples returned.
//!
//! **Cost.** Memory `O(K²)` for the window (its eigenvectors and faer's workspace; no
//! `O(N)` array at all), [`CHEB_BYTES_PER_STATE`]` · (N + 1)` (352 bytes per Dicke state)
//! once Chebyshev runs, checked against the available memory first. For `N = 10⁴`,
//! `p = 0`, `α = 0`, `g = 1`, `ω = 4` the window stays at `K = 16` and
//! [`crate::observe::charge`] takes 0.01–0.03 s (13 000 samples at ~1 µs each; linear in
//! `N` through the scan step). Weak effective coupling (`|g'(1 − α)| N ≲ ω`, e.g. XXX)
//! spreads the state over all `k`: then Chebyshev runs with `‖T‖ ≈ ωN`.

use super::method::{check_times, Propagator, WorkSample};
use crate::error::{invalid, Result, SpinbatError};
use crate::model::Chain;
use crate::numeric::bessel::{bessel_sequence, step_coefficients};
use faer::{Mat, Side};
use num_complex::Complex64;
use rayon::prelude::*;

/// Largest eigen window [`DickeMethod::Auto`] uses by default (faer's dense symmetric
/// eigensolver costs `O(K³)`; beyond this the Chebyshev scheme takes over).
pub const DEFAULT_MAX_WINDOW: usize = 1024;

/// Cost of diagonalising a `K × K` window per `K³`, in units of one Chebyshev term on one
/// Dicke state (faer's eigensolver against the recurrence with its accumulations, measured).
const EIGEN_PER_CHEB: f64 = 0.05;

/// First eigen window.
const FIRST_WINDOW: usize = 16;

/// Share of `tol` the window's leak bound may use at each sample before the window grows.
const WINDOW_SHARE: f64 = 0.5;

/// Eigenvalue error assumed for the leak bound, in units of `ε_mach K ‖T_K‖`.
const EIGEN_ERROR: f64 = 4.0;

/// Rounding error per Chebyshev term (relative to the unit state norm).
const ROUNDING_PER_TERM: f64 = 2.2e-16;

/// Most sample times accumulated in one Chebyshev expansion.
const MAX_BATCH: usize = 16;

/// Bytes per Dicke state the Chebyshev scheme holds: four real arrays (`d`, `β`, `ε`, the
/// rate weights), four complex vectors (base, state, recurrence, anchor) and up to 16
/// accumulated states.
pub const CHEB_BYTES_PER_STATE: f64 = 4.0 * 8.0 + (4.0 + MAX_BATCH as f64) * 16.0;

/// Chebyshev vectors at least this long are processed in parallel (rayon).
const PARALLEL_DIM: usize = 1 << 15;

/// Times evaluated per matrix product in the eigen window.
const WINDOW_BATCH: usize = 64;

/// How [`Dicke`] propagates (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DickeMethod {
    /// Eigen windows while a larger window is estimated to cost less than Chebyshev on all
    /// `N + 1` states would (and at most [`DEFAULT_MAX_WINDOW`] states), then Chebyshev.
    #[default]
    Auto,
    /// Eigen windows only, growing up to all `N + 1` states if need be.
    Eigen,
    /// Eigen windows of at most `max_window` states (no cost estimate), then Chebyshev.
    Window {
        /// Largest window to diagonalise.
        max_window: usize,
    },
    /// Chebyshev on all `N + 1` states from `t = 0`.
    Chebyshev,
}

pub use crate::symmetry::is_permutation_symmetric;
use crate::symmetry::uniform_coupling;

/// Matrix elements in the Dicke basis, computed on the fly (see the module docs).
#[derive(Debug, Clone, Copy)]
struct Elements {
    n: usize,
    b: f64,
    omega: f64,
    /// `2g'(1 − α)`
    c: f64,
}

impl Elements {
    fn dim(&self) -> usize {
        self.n + 1
    }
    /// `d_k = ⟨k|H_g|k⟩ − ⟨0|H_g|0⟩` (exact products of integers below `2^53`).
    #[inline(always)]
    fn diag(&self, k: usize) -> f64 {
        self.c * (k as f64 * (self.n - k) as f64)
    }
    /// `ε_k = ⟨k|H0|k⟩ − E_0`.
    #[inline(always)]
    fn work(&self, k: usize) -> f64 {
        2.0 * self.b * k as f64 + self.diag(k)
    }
    /// `β_k = ⟨k+1|V|k⟩`, `k < N`.
    #[inline(always)]
    fn off(&self, k: usize) -> f64 {
        self.omega * ((self.n - k) as f64 * (k + 1) as f64).sqrt()
    }
    /// Estimate of the half-width of the spectrum of `T`, `|c| N²/8 + ω (N + 1)`.
    fn radius_estimate(&self) -> f64 {
        let n = self.n as f64;
        self.c.abs() * n * n / 8.0 + self.omega * (n + 1.0)
    }
    /// `ε_k − ε_{k+1}`.
    #[inline(always)]
    fn work_step(&self, k: usize) -> f64 {
        -(2.0 * self.b + self.c * (self.n as f64 - 2.0 * k as f64 - 1.0))
    }
    /// `‖ε‖ = max_k |ε_k|`: `ε` is a parabola in `k`, so the ends and the vertex.
    fn work_norm(&self) -> f64 {
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
    /// `(W, W', ‖εψ‖)` of the state `ψ_k = get(k)` for `k < len`, zero beyond.
    #[inline(always)]
    fn observe(&self, len: usize, get: impl Fn(usize) -> Complex64) -> (f64, f64, f64) {
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
}

/// Bound on the change of `W` from a state error `e`: `e (2‖εψ̃‖ + ‖ε‖ e)`.
fn work_error(e: f64, eps_psi: f64, work_norm: f64) -> f64 {
    if e == 0.0 {
        0.0
    } else {
        e * (2.0 * eps_psi + work_norm * e)
    }
}

/// The leading `K × K` block of `T`, diagonalised.
struct Window {
    dim: usize,
    energies: Vec<f64>,
    /// `a_j = v_j[0]`
    amps: Vec<f64>,
    /// eigenvectors as columns (for large windows: matrix products)
    u: Mat<f64>,
    /// the same, row-major `u[k·K + j]` (for small windows: plain loops)
    rows: Vec<f64>,
    /// leak out of the window (all zero for the whole space): `β_{K−1}`,
    /// `R = Σ_j |v_j[0] v_j[K−1]|` and `ln(Π_{q<K−1} β_q / K!)`
    beta_out: f64,
    corner_sup: f64,
    ln_light_cone: f64,
    /// `‖T_K‖ = max |E_j|`
    h_norm: f64,
}

/// Windows up to this size are evaluated with plain loops, larger ones by matrix products.
const SMALL_WINDOW: usize = 128;

impl Window {
    fn new(el: &Elements, dim: usize) -> Result<Self> {
        let h = Mat::<f64>::from_fn(dim, dim, |r, c| {
            if r == c {
                el.diag(r)
            } else if r == c + 1 {
                el.off(c)
            } else if c == r + 1 {
                el.off(r)
            } else {
                0.0
            }
        });
        let evd = h.self_adjoint_eigen(Side::Lower).map_err(|e| SpinbatError::NotConverged {
            what: "Dicke window eigendecomposition",
            reason: format!("{e:?}"),
        })?;
        let u = evd.U().to_owned();
        let energies: Vec<f64> = (0..dim).map(|m| evd.S().column_vector()[m]).collect();
        let amps: Vec<f64> = (0..dim).map(|m| u[(0, m)]).collect();
        let rows =
            if dim <= SMALL_WINDOW { (0..dim * dim).map(|i| u[(i / dim, i % dim)]).collect() } else { Vec::new() };
        let h_norm = energies.iter().fold(0.0f64, |a, e| a.max(e.abs()));
        let (beta_out, corner_sup, ln_light_cone) = if dim == el.dim() {
            (0.0, 0.0, f64::NEG_INFINITY)
        } else {
            let ln_beta: f64 = (0..dim - 1).map(|q| el.off(q).ln()).sum();
            let ln_fact: f64 = (2..=dim).map(|i| (i as f64).ln()).sum();
            (el.off(dim - 1), corner_residue_sum(el, &energies, h_norm), ln_beta - ln_fact)
        };
        Ok(Window { dim, energies, amps, u, rows, beta_out, corner_sup, ln_light_cone, h_norm })
    }

    /// The states at `ts`, time after time: `ψ_k(t_c)` at `[c·K + k]`.
    fn states(&self, ts: &[f64]) -> Vec<Complex64> {
        let k = self.dim;
        let zero = Complex64::new(0.0, 0.0);
        let mut out = vec![zero; k * ts.len()];
        if k <= SMALL_WINDOW {
            let mut z = vec![zero; k];
            for (&t, psi) in ts.iter().zip(out.chunks_exact_mut(k)) {
                for (zj, (&e, &a)) in z.iter_mut().zip(self.energies.iter().zip(&self.amps)) {
                    let (s, c) = (e * t).sin_cos();
                    *zj = Complex64::new(a * c, -a * s);
                }
                for (p, row) in psi.iter_mut().zip(self.rows.chunks_exact(k)) {
                    let (mut re, mut im) = (0.0, 0.0);
                    for (&r, zj) in row.iter().zip(&z) {
                        re += r * zj.re;
                        im += r * zj.im;
                    }
                    *p = Complex64::new(re, im);
                }
            }
        } else {
            let mut x = Mat::<f64>::zeros(k, 2 * ts.len());
            for (c, &t) in ts.iter().enumerate() {
                for (m, (&e, &a)) in self.energies.iter().zip(&self.amps).enumerate() {
                    let (s, co) = (e * t).sin_cos();
                    x[(m, 2 * c)] = a * co;
                    x[(m, 2 * c + 1)] = -a * s;
                }
            }
            let psi = &self.u * &x;
            for (c, chunk) in out.chunks_exact_mut(k).enumerate() {
                for (m, p) in chunk.iter_mut().enumerate() {
                    *p = Complex64::new(psi[(m, 2 * c)], psi[(m, 2 * c + 1)]);
                }
            }
        }
        out
    }

    /// Rigorous bound on the state error at `t` from the leak out of the window:
    /// `β_{K−1} ∫_0^t |ψ̃_{K−1}(s)| ds ≤ β_{K−1} min(R t, Π_{q<K−1} β_q t^K / K!)`
    /// (module docs).
    fn leak_error(&self, t: f64) -> f64 {
        if self.beta_out == 0.0 || t == 0.0 {
            return 0.0;
        }
        let light_cone = (self.ln_light_cone + self.dim as f64 * t.ln()).exp();
        self.beta_out * (self.corner_sup * t).min(light_cone)
    }

    /// Rounding estimate on the state at `t`, as for dense ED.
    fn rounding(&self, t: f64) -> f64 {
        f64::EPSILON * (self.dim as f64 + self.h_norm * t)
    }
}

/// `Σ_j |v_j[0] v_j[K−1]|` for the eigenvectors of `T_K`, from its eigenvalues:
/// `Π_{q<K−1} β_q / Π_{l≠j} |E_j − E_l|`, each computed gap shrunk by twice a generous
/// eigenvalue error `4 ε_mach K ‖T_K‖` (infinite if that closes a gap).
fn corner_residue_sum(el: &Elements, energies: &[f64], h_norm: f64) -> f64 {
    let k = energies.len();
    let ln_beta: f64 = (0..k - 1).map(|q| el.off(q).ln()).sum();
    let delta = EIGEN_ERROR * f64::EPSILON * k as f64 * h_norm;
    let mut sum = 0.0;
    for (j, &ej) in energies.iter().enumerate() {
        let mut ln_gaps = 0.0;
        for (l, &e) in energies.iter().enumerate() {
            if l != j {
                let gap = (ej - e).abs() - 2.0 * delta;
                if gap <= 0.0 {
                    return f64::INFINITY;
                }
                ln_gaps += gap.ln();
            }
        }
        sum += (ln_beta - ln_gaps).exp();
    }
    sum
}

/// Chebyshev propagation on all `N + 1` Dicke states (see [`super::Chebyshev`]).
struct Cheb {
    /// `(d_k − c)/r` and `β_k/r`
    diag: Vec<f64>,
    off: Vec<f64>,
    /// `ε_k` and `2β_k(ε_k − ε_{k+1})`, for the observables
    eps: Vec<f64>,
    rate: Vec<f64>,
    center: f64,
    radius: f64,
    eps_step: f64,
    /// where restarts begin: the state at `base_t` and its error bound
    base_t: f64,
    base: Vec<Complex64>,
    base_err: f64,
    psi: Vec<Complex64>,
    t: f64,
    err: f64,
    anchor: Option<(f64, f64, Vec<Complex64>)>,
    work: Vec<Complex64>,
    acc: Vec<Complex64>,
    terms: u64,
}

/// Gershgorin enclosure `[lo, hi]` of the spectrum of `T`.
fn spectral_bounds(el: &Elements) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for k in 0..el.dim() {
        let r = if k > 0 { el.off(k - 1) } else { 0.0 } + if k < el.n { el.off(k) } else { 0.0 };
        lo = lo.min(el.diag(k) - r);
        hi = hi.max(el.diag(k) + r);
    }
    (lo, hi)
}

impl Cheb {
    fn new(el: &Elements, tol: f64, work_norm: f64, base_t: f64, base: Vec<Complex64>, base_err: f64) -> Self {
        let dim = el.dim();
        let (lo, hi) = spectral_bounds(el);
        let center = 0.5 * (lo + hi);
        let radius = 0.5 * (hi - lo) * (1.0 + 1e-12) + 1e-12;
        let diag = (0..dim).map(|k| (el.diag(k) - center) / radius).collect();
        let off = (0..el.n).map(|k| el.off(k) / radius).collect();
        let eps = (0..dim).map(|k| el.work(k)).collect();
        let rate = (0..el.n).map(|k| 2.0 * el.off(k) * el.work_step(k)).collect();
        let eps_step = (tol / (2.0 * work_norm.max(1e-300)) * 1e-3).max(1e-15);
        Cheb {
            diag,
            off,
            eps,
            rate,
            center,
            radius,
            eps_step,
            base_t,
            psi: base.clone(),
            base,
            base_err,
            t: base_t,
            err: base_err,
            anchor: None,
            work: vec![Complex64::new(0.0, 0.0); dim],
            acc: Vec::new(),
            terms: 0,
        }
    }

    fn restart(&mut self) {
        self.psi.copy_from_slice(&self.base);
        self.t = self.base_t;
        self.err = self.base_err;
    }

    /// `out = H̃ cur` (`first`) or `out = 2H̃ cur − out`, `H̃` tridiagonal (`diag`, `off`).
    fn recur(diag: &[f64], off: &[f64], cur: &[Complex64], out: &mut [Complex64], first: bool) {
        let n = cur.len();
        let put = |o: &mut Complex64, h: Complex64| *o = if first { h } else { h * 2.0 - *o };
        if n == 1 {
            put(&mut out[0], cur[0] * diag[0]);
            return;
        }
        put(&mut out[0], cur[0] * diag[0] + cur[1] * off[0]);
        for ((((o, w), &d), &ol), &or) in
            out[1..n - 1].iter_mut().zip(cur.windows(3)).zip(&diag[1..n - 1]).zip(&off[..n - 2]).zip(&off[1..n - 1])
        {
            put(o, w[1] * d + w[0] * ol + w[2] * or);
        }
        put(&mut out[n - 1], cur[n - 1] * diag[n - 1] + cur[n - 2] * off[n - 2]);
    }

    /// `(W, W', ‖εψ‖)` of one state.
    fn observe(&self, psi: &[Complex64]) -> (f64, f64, f64) {
        let (mut w, mut w2) = (0.0, 0.0);
        for (x, &e) in psi.iter().zip(&self.eps) {
            let p = x.norm_sqr();
            w += e * p;
            w2 += e * e * p;
        }
        let rate: f64 = psi.windows(2).zip(&self.rate).map(|(x, &r)| r * (x[0].conj() * x[1]).im).sum();
        (w, rate, w2.sqrt())
    }

    /// Propagates to the sorted times `ts` (all `≥ self.t`) with one expansion; returns
    /// `(sample, ‖εψ‖, state error)` per time and leaves the state at the last one.
    fn advance_batch(&mut self, ts: &[f64]) -> Vec<(WorkSample, f64, f64)> {
        let m = ts.len();
        let dim = self.diag.len();
        let seqs: Vec<(Vec<f64>, f64)> =
            ts.iter().map(|&t| bessel_sequence(self.radius * (t - self.t).max(0.0), self.eps_step)).collect();
        let lens: Vec<usize> = seqs.iter().map(|q| q.0.len()).collect();
        let k_max = lens.iter().copied().max().unwrap_or(1);
        let phases: Vec<Complex64> =
            ts.iter().map(|&t| Complex64::from_polar(1.0, -self.center * (t - self.t))).collect();
        let coefs = |k: usize| step_coefficients(&seqs, &phases, k);
        // the m states side by side, time-major: state j at acc[j·dim..(j+1)·dim]
        self.acc.clear();
        self.acc.resize(dim * m, Complex64::new(0.0, 0.0));
        let accumulate = |acc: &mut [Complex64], v: &[Complex64], c: &[Complex64], j_lo: usize| {
            let add = |(a, &cj): (&mut [Complex64], &Complex64)| {
                for (a, x) in a.iter_mut().zip(v) {
                    *a += cj * x;
                }
            };
            let slabs = &mut acc[j_lo * dim..];
            if dim >= PARALLEL_DIM {
                slabs.par_chunks_mut(dim).zip(&c[j_lo..]).for_each(add);
            } else {
                slabs.chunks_mut(dim).zip(&c[j_lo..]).for_each(add);
            }
        };
        accumulate(&mut self.acc, &self.psi, &coefs(0), 0);
        if k_max > 1 {
            // (T_{k−1}, T_k) alternate between `psi` and `work`
            Self::recur(&self.diag, &self.off, &self.psi, &mut self.work, true);
            accumulate(&mut self.acc, &self.work, &coefs(1), 0);
            let (mut cur, mut prev) = (&mut self.work, &mut self.psi);
            for k in 2..k_max {
                let j_lo = lens.iter().position(|&l| l > k).unwrap_or(m);
                Self::recur(&self.diag, &self.off, cur, prev, false);
                accumulate(&mut self.acc, prev, &coefs(k), j_lo);
                std::mem::swap(&mut cur, &mut prev);
            }
        }
        self.terms += k_max as u64;
        let obs: Vec<(f64, f64, f64)> = if dim >= PARALLEL_DIM {
            self.acc.par_chunks(dim).map(|psi| self.observe(psi)).collect()
        } else {
            self.acc.chunks(dim).map(|psi| self.observe(psi)).collect()
        };
        let mut out = Vec::with_capacity(m);
        let mut last_err = self.err;
        for (j, (&t, &(work, rate, eps_psi))) in ts.iter().zip(&obs).enumerate() {
            let err = self.err + seqs[j].1 + ROUNDING_PER_TERM * lens[j] as f64;
            last_err = err;
            out.push((WorkSample { t, work, rate }, eps_psi, err));
        }
        self.psi.copy_from_slice(&self.acc[(m - 1) * dim..]);
        self.t = ts[m - 1];
        self.err = last_err;
        out
    }

    /// Moves to `t ≥ base_t` from the closest start behind it: the current state, the
    /// anchor or the base.
    fn go_to(&mut self, t: f64) {
        if t < self.t {
            match &self.anchor {
                Some((ta, ea, a)) if *ta <= t => {
                    self.psi.copy_from_slice(a);
                    self.t = *ta;
                    self.err = *ea;
                }
                _ => self.restart(),
            }
        }
        if t > self.t {
            self.advance_batch(&[t]);
        }
    }

    fn sample(&mut self, times: &[f64]) -> Vec<(WorkSample, f64, f64)> {
        let mut out = Vec::with_capacity(times.len());
        if let Some(&first) = times.first() {
            if first < self.t {
                self.go_to(first);
            }
        }
        for batch in times.chunks(MAX_BATCH) {
            out.extend(self.advance_batch(batch));
        }
        out
    }

    fn set_anchor(&mut self, t: f64) {
        self.go_to(t);
        match &mut self.anchor {
            Some((ta, ea, a)) => {
                a.copy_from_slice(&self.psi);
                *ta = self.t;
                *ea = self.err;
            }
            None => self.anchor = Some((self.t, self.err, self.psi.clone())),
        }
    }
}

/// Refuses the Chebyshev scheme where its `N + 1`-vectors do not fit in memory.
fn check_chebyshev_memory(el: &Elements) -> Result<()> {
    crate::resources::ensure_fits("dicke", el.n, CHEB_BYTES_PER_STATE * el.dim() as f64)
}

/// Exact propagator in the Dicke basis for permutation-symmetric chains (module docs).
pub struct Dicke {
    el: Elements,
    tol: f64,
    method: DickeMethod,
    work_norm: f64,
    window: Option<Window>,
    /// latest time a window sample met its budget
    window_valid: f64,
    /// Chebyshev beyond its `base_t`
    cheb: Option<Cheb>,
    max_err: f64,
}

impl Dicke {
    /// Sets up the propagator at `t = 0` in the all-down state with the default method
    /// (eigen windows up to [`DEFAULT_MAX_WINDOW`] states, then Chebyshev). `tol` is the
    /// target absolute error on `W` (units of `B`).
    ///
    /// # Errors
    /// [`SpinbatError::Unsupported`] if the couplings are not all equal;
    /// [`SpinbatError::InvalidParameter`] for `tol` not finite and `> 0`.
    pub fn new(chain: &Chain, tol: f64) -> Result<Self> {
        Self::with_method(chain, tol, DickeMethod::default())
    }

    /// As [`Dicke::new`] with an explicit [`DickeMethod`].
    ///
    /// # Errors
    /// As [`Dicke::new`]; [`SpinbatError::NotConverged`] if the eigensolver fails;
    /// [`SpinbatError::TooLarge`] for [`DickeMethod::Chebyshev`] when its vectors do not fit
    /// in memory ([`Propagator::sample`] returns the same error where [`DickeMethod::Auto`]
    /// would switch to Chebyshev).
    pub fn with_method(chain: &Chain, tol: f64, method: DickeMethod) -> Result<Self> {
        if !(tol.is_finite() && tol > 0.0) {
            return Err(invalid("tol", tol, "must be a finite number > 0"));
        }
        let g = uniform_coupling(chain).ok_or_else(|| SpinbatError::Unsupported {
            solver: "dicke",
            reason: "the couplings g_ij are not all equal, so the chain is not permutation symmetric \
                     (use the power law with p = 0, or a matrix with equal off-diagonal entries)"
                .to_string(),
        })?;
        let el =
            Elements { n: chain.n_sites(), b: chain.b(), omega: chain.omega(), c: 2.0 * g * (1.0 - chain.alpha()) };
        let work_norm = el.work_norm();
        let mut d = Dicke { el, tol, method, work_norm, window: None, window_valid: 0.0, cheb: None, max_err: 0.0 };
        match method {
            DickeMethod::Chebyshev => {
                check_chebyshev_memory(&el)?;
                d.cheb = Some(Cheb::new(&el, tol, work_norm, 0.0, d.all_down(), 0.0));
            }
            DickeMethod::Auto | DickeMethod::Eigen | DickeMethod::Window { .. } => {
                let max_window = if let DickeMethod::Window { max_window } = method { max_window } else { usize::MAX };
                let k0 = FIRST_WINDOW.min(el.dim()).min(max_window.max(1));
                d.window = Some(Window::new(&el, k0)?);
            }
        }
        Ok(d)
    }

    /// Number of Dicke states, `N + 1`.
    pub fn dim(&self) -> usize {
        self.el.dim()
    }

    /// Size `K` of the current eigen window (`None` with [`DickeMethod::Chebyshev`]).
    pub fn window(&self) -> Option<usize> {
        self.window.as_ref().map(|w| w.dim)
    }

    /// The time after which the Chebyshev scheme propagates (`Some(0.0)` for
    /// [`DickeMethod::Chebyshev`], `None` while the eigen windows cover everything).
    pub fn chebyshev_from(&self) -> Option<f64> {
        self.cheb.as_ref().map(|c| c.base_t)
    }

    /// Total number of Chebyshev terms (applications of `T`) so far.
    pub fn terms(&self) -> u64 {
        self.cheb.as_ref().map_or(0, |c| c.terms)
    }

    fn all_down(&self) -> Vec<Complex64> {
        let mut psi = vec![Complex64::new(0.0, 0.0); self.el.dim()];
        psi[0] = Complex64::new(1.0, 0.0);
        psi
    }

    /// Doubles the window (to `N + 1` at most), needed at time `t`, if the method allows;
    /// `false` if not.
    fn grow(&mut self, t: f64) -> Result<bool> {
        let (cap, costed) = match self.method {
            DickeMethod::Auto => (DEFAULT_MAX_WINDOW, true),
            DickeMethod::Eigen => (usize::MAX, false),
            DickeMethod::Window { max_window } => (max_window, false),
            DickeMethod::Chebyshev => return Ok(false),
        };
        let k = self.window.as_ref().map_or(0, |w| w.dim);
        let full = self.el.dim();
        if k >= full {
            return Ok(false);
        }
        let next = if 2 * k >= full { full } else { 2 * k };
        if next > cap {
            return Ok(false);
        }
        if costed {
            // the window needs `O(K³)` once; Chebyshev `O(N)` per term and `≈ ‖T‖` terms per
            // unit time, for about as long again as the current window lasted (for the
            // whole run, `~1/ω`, when the window would be the whole space)
            let horizon = if next == full { t.max(1.0 / self.el.omega) } else { t };
            let cheb = full as f64 * self.el.radius_estimate() * horizon;
            if EIGEN_PER_CHEB * (next as f64).powi(3) > cheb {
                return Ok(false);
            }
        }
        self.window = Some(Window::new(&self.el, next)?);
        Ok(true)
    }

    /// Hands over to Chebyshev from the window's state at the last time it covered.
    ///
    /// # Errors
    /// [`SpinbatError::TooLarge`] if the `N + 1`-vectors do not fit in memory.
    fn switch_to_chebyshev(&mut self) -> Result<()> {
        check_chebyshev_memory(&self.el)?;
        let w = self.window.as_ref().expect("a window to switch from");
        let t = self.window_valid;
        let mut base = w.states(&[t]);
        base.resize(self.el.dim(), Complex64::new(0.0, 0.0));
        let err = w.leak_error(t) + w.rounding(t);
        self.cheb = Some(Cheb::new(&self.el, self.tol, self.work_norm, t, base, err));
        Ok(())
    }

    /// Serves the leading `times` the windows cover (all up to the Chebyshev base time, if
    /// Chebyshev runs; otherwise growing the window as needed); returns how many.
    fn sample_window(&mut self, times: &[f64], out: &mut Vec<WorkSample>) -> Result<usize> {
        // once Chebyshev runs, the window serves exactly the times up to its base
        let switched = self.cheb.as_ref().map(|ch| times.partition_point(|&t| t <= ch.base_t));
        let limit = switched.unwrap_or(times.len());
        let mut i = 0;
        'batches: while i < limit {
            let end = (i + WINDOW_BATCH).min(limit);
            let w = self.window.as_ref().expect("window");
            let x = w.states(&times[i..end]);
            let mut verdicts = Vec::with_capacity(end - i);
            for (psi, &t) in x.chunks_exact(w.dim).zip(&times[i..end]) {
                let (work, rate, eps_psi) = self.el.observe(w.dim, |k| psi[k]);
                let rigorous = work_error(w.leak_error(t), eps_psi, self.work_norm);
                let ok = switched.is_some() || t <= self.window_valid || rigorous <= WINDOW_SHARE * self.tol;
                let round = 2.0 * eps_psi * w.rounding(t);
                verdicts.push((WorkSample { t, work, rate }, ok, rigorous + round));
            }
            for (s, ok, err) in verdicts {
                if !ok {
                    if !self.grow(s.t)? {
                        self.switch_to_chebyshev()?;
                        return Ok(i);
                    }
                    continue 'batches;
                }
                self.max_err = self.max_err.max(err);
                self.window_valid = self.window_valid.max(s.t);
                out.push(s);
                i += 1;
            }
        }
        Ok(i)
    }
}

impl Propagator for Dicke {
    fn name(&self) -> &'static str {
        "dicke"
    }

    fn sample(&mut self, times: &[f64]) -> Result<Vec<WorkSample>> {
        check_times(times)?;
        let mut out = Vec::with_capacity(times.len());
        let done = if self.window.is_some() { self.sample_window(times, &mut out)? } else { 0 };
        if done < times.len() {
            let cheb = self.cheb.as_mut().expect("Chebyshev takes over where the windows stop");
            for (s, eps_psi, e) in cheb.sample(&times[done..]) {
                self.max_err = self.max_err.max(work_error(e, eps_psi, self.work_norm));
                out.push(s);
            }
        }
        Ok(out)
    }

    /// On the Dicke states `H_g = −2g(1 − α)S_z² + const` (module docs): the dynamics is
    /// that of an Ising chain of coupling `(1 − α)g`, so `Λ = |ω| + |1 − α| Σ_j |g_ij|`
    /// instead of `(1 + |α|)`. An XXX chain (`α = 1`) is then scanned on the scale of `ω`
    /// alone, as its work `2BN sin²(ωt)` is (physics.md, result 2).
    fn scan_step(&self, chain: &Chain) -> f64 {
        let lambda = chain.omega().abs() + (1.0 - chain.alpha()).abs() * chain.max_abs_row_sum();
        if lambda > 0.0 {
            super::method::scan_step_for(lambda)
        } else {
            super::method::scan_step(chain)
        }
    }

    fn anchor(&mut self, t: f64) -> Result<()> {
        check_times(&[t])?;
        // the windows are random access; only the Chebyshev part needs a stored state
        if let Some(cheb) = self.cheb.as_mut() {
            if t > cheb.base_t {
                cheb.set_anchor(t);
            }
        }
        Ok(())
    }

    fn error_bound(&self) -> f64 {
        self.max_err
    }

    fn accuracy_note(&self) -> String {
        let mut parts = Vec::new();
        if let Some(w) = &self.window {
            parts.push(format!(
                "Dicke basis ({} states), eigen window K = {} with rigorous leak bound \
                 min({:.1e} t, light cone) on the state and rounding estimate eps (K + ||T_K|| t)",
                self.el.dim(),
                w.dim,
                w.beta_out * w.corner_sup
            ));
        }
        if let Some(c) = &self.cheb {
            parts.push(format!(
                "Chebyshev on all {} Dicke states after t = {:.3e}, tail <= {:.1e} per step (rigorous)",
                self.el.dim(),
                c.base_t,
                c.eps_step
            ));
        }
        format!("{}; |dW| <= e (2||eps psi|| + ||eps|| e) = {:.1e} so far", parts.join("; "), self.max_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Couplings;
    use crate::operator::Operators;

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
            let el = Elements { n, b, omega, c: 2.0 * uniform_coupling(&chain).unwrap() * (1.0 - alpha) };
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
    fn corner_residues_match_the_eigenvectors() {
        let el = Elements { n: 30, b: 1.0, omega: 1.3, c: 0.4 };
        for k in [2, 5, 9] {
            let w = Window::new(&el, k).unwrap();
            let direct: f64 = (0..k).map(|j| (w.u[(0, j)] * w.u[(k - 1, j)]).abs()).sum();
            let from_energies = corner_residue_sum(&el, &w.energies, w.h_norm);
            assert!(direct > 1e-6, "pick parameters where the corner is not rounding noise");
            assert!(
                (from_energies - direct).abs() < 1e-9 * direct,
                "K={k}: residues {from_energies} vs eigenvectors {direct}"
            );
        }
    }

    #[test]
    fn the_edge_amplitude_obeys_the_light_cone() {
        // |ψ̃_{K−1}(s)| ≤ Π_{q<K−1} β_q s^{K−1}/(K−1)!, with equality to leading order in s
        // (amplitudes below ~1e-15 are the eigenvectors' rounding noise: not compared)
        let el = Elements { n: 30, b: 1.0, omega: 1.3, c: 0.4 };
        for k in [3, 6, 10] {
            let w = Window::new(&el, k).unwrap();
            for s in [1e-3, 3e-3, 0.05, 0.3, 1.0, 5.0] {
                let edge = w.states(&[s])[k - 1].norm();
                let cone = (w.ln_light_cone + (k as f64).ln() + (k - 1) as f64 * f64::ln(s)).exp();
                assert!(edge <= cone * (1.0 + 1e-6) + 1e-14, "K={k} s={s}: {edge} above the light cone {cone}");
                assert!(edge <= w.corner_sup * (1.0 + 1e-10), "K={k} s={s}: {edge} above R = {}", w.corner_sup);
                if s <= 3e-3 && cone > 1e-9 {
                    assert!(edge > 0.9 * cone, "K={k} s={s}: the light cone is the leading term ({edge} vs {cone})");
                }
            }
        }
    }

    #[test]
    fn work_norm_of_a_downward_parabola() {
        // α > 1 turns d_k negative; the largest |ε_k| is then at k = N or near the vertex
        for (n, b, c) in [(10, 1.0, -0.3), (7, 0.5, 2.0), (12, 3.0, -0.01), (1, 1.0, 0.0)] {
            let el = Elements { n, b, omega: 1.0, c };
            let brute = (0..=n).map(|k| el.work(k).abs()).fold(0.0, f64::max);
            assert_eq!(el.work_norm(), brute, "n={n} c={c}");
        }
    }
}
