//! Dense output of a Chebyshev series by Gram matrices: the work at *every* time a series
//! reaches, for the cost of the series and one matrix product.
//!
//! From a state `φ = ψ(t₀)`, `ψ(t₀ + s) = e^{−ics} Σ_{a<K} c_a(s) v_a` with
//! `v_a = T_a(H̃)φ` and `c_a(s) = (2 − δ_a0)(−i)^a J_a(rs)` (see [`super::Chebyshev`]).
//! Keeping all `K` vectors, every quadratic observable is a `K × K` form in the
//! coefficients, the phase dropping out:
//!
//! * `W(t₀ + s) = c(s)† G c(s) / c(s)† N c(s)`, `G_ab = ⟨v_a|H0 − E_0|v_b⟩`, where
//!   `c_a = (−i)^a x_a` with `x_a` real, so only the real symmetric `Re(i^a (−i)^b G_ab)`
//!   is kept and every form is real ([`crate::operator::gram_sums`]: half the flops);
//! * `W'(t₀ + s) = 2 Re(c'(s)† G c(s)) / c(s)† N c(s)`, `c'_a = (2 − δ_a0)(−i)^a r J'_a(rs)`,
//!   `J'_a = (J_{a−1} − J_{a+1})/2`, `J'_0 = −J_1` (the exact derivative of the truncated
//!   series);
//! * the norm from the Chebyshev moments `μ_n = ⟨φ|T_n(H̃)|φ⟩` alone,
//!   `N_ab = ⟨v_a|v_b⟩ = (μ_{a+b} + μ_{|a−b|})/2`, and the `μ_n` from the norms and
//!   neighbour products of the `v_a` (`μ_{2a} = 2⟨v_a|v_a⟩ − μ_0`,
//!   `μ_{2a+1} = 2⟨v_a|v_{a+1}⟩ − μ_1`);
//! * `‖(H0 − E_0)ψ‖²` from `G2_ab = ⟨Av_a|Av_b⟩`, or bounded by `‖A‖⟨ψ|A|ψ⟩` where
//!   `A = H0 − E_0 ≥ 0` is proved ([`crate::Chain::all_down_is_proved_ground`]).
//!
//! The series reaches every `s` whose tail `Σ_{a≥K} 2|J_a(rs)|` is at most the step
//! tolerance: a *segment* `[t₀, t₀ + s_K]`. `G` and `μ` are `O(K²)` numbers, kept for
//! every segment, so any later request inside a segment (the refinement of a maximum, a
//! denser curve) costs `O(K²)` and no propagation. Building a segment costs `K`
//! applications of `H` and the products `G = V†AV` (one dense matrix product over the
//! rows, [`crate::operator::gram_sums`]): against the accumulation of each output state
//! (one multiply-add per row, term and time) and its measurement (one application of `H`
//! per time), this is what makes a curve of many times cost about what the longest step
//! costs.
//!
//! **Error control.** The state at `t₀ + s` is the series truncated at `K` terms: its error
//! is the start's bound, plus the tail, plus the rounding estimate of `K` terms (as for an
//! accumulated state), and it moves `W` by at most [`Moments::work_error`]. Evaluating the
//! form adds a rounding estimate `4u Σ_ab |x_a||x_b||Re(i^a (−i)^b G_ab)|` (the size of the
//! terms that cancel), reported with it.

use crate::numeric::bessel::{bessel_sequence, minus_i_pow};
use crate::operator::{GramSums, Moments};
use num_complex::Complex64;

/// The stored part of one segment: enough to evaluate `W`, `W'` anywhere in it.
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    /// Start time `t₀`.
    pub t0: f64,
    /// State-error bound of the start `φ`.
    pub err0: f64,
    /// Furthest step `s_K` the `K` terms reach within the step tolerance.
    pub reach: f64,
    k: usize,
    radius: f64,
    /// `Re⟨w_a|H0 − E_0|w_b⟩`, `w_a = (−i)^a v_a` ([`crate::operator::gram_sums`])
    g: Vec<f64>,
    g2: Option<Vec<f64>>,
    /// `μ_0 … μ_{2K−2}`.
    mu: Vec<f64>,
}

/// `W`, `W'` at one time of a segment, with what their error bound needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Evaluation {
    /// As measured from a stored state.
    pub moments: Moments,
    /// Truncation tail of the series at this time.
    pub tail: f64,
    /// `Σ_ab |x_a||x_b||Re(i^a (−i)^b G_ab)|`: the size of the terms the form sums.
    pub magnitude: f64,
}

impl Segment {
    /// A segment from `t0` (state-error bound `err0`) of `sums.k` terms for the scaled
    /// Hamiltonian of half-width `radius`, reaching as far as the tail allows `eps`.
    pub fn new(t0: f64, err0: f64, radius: f64, eps: f64, sums: GramSums) -> Self {
        let k = sums.k;
        let mut mu = vec![0.0; 2 * k - 1];
        mu[0] = sums.diag[0];
        if k > 1 {
            mu[1] = sums.sup[0];
        }
        for a in 1..k {
            mu[2 * a] = 2.0 * sums.diag[a] - mu[0];
            if a + 1 < k {
                mu[2 * a + 1] = 2.0 * sums.sup[a] - mu[1];
            }
        }
        Segment { t0, err0, reach: reach(k, radius, eps), k, radius, g: sums.g, g2: sums.g2, mu }
    }

    /// `t₀ + s_K`.
    pub fn end(&self) -> f64 {
        self.t0 + self.reach
    }

    /// Number of terms `K`.
    pub fn terms(&self) -> usize {
        self.k
    }

    /// The real factors `x_a(s) = (2 − δ_a0) J_a(rs)` and `x'_a(s) = (2 − δ_a0) r J'_a(rs)`
    /// of `c_a = (−i)^a x_a`, `c'_a = (−i)^a x'_a` for `a < K`, and the tail beyond `K`.
    fn real_coefficients(&self, s: f64) -> (Vec<f64>, Vec<f64>, f64) {
        let x = self.radius * s.max(0.0);
        let mut j = bessel_sequence(x, 0.0).0;
        let tail: f64 = j.iter().skip(self.k).map(|v| 2.0 * v.abs()).sum();
        j.resize(j.len().max(self.k + 1), 0.0);
        let mut c = Vec::with_capacity(self.k);
        let mut d = Vec::with_capacity(self.k);
        for a in 0..self.k {
            let w = if a == 0 { 1.0 } else { 2.0 };
            let dj = if a == 0 { -j[1] } else { 0.5 * (j[a - 1] - j[a + 1]) };
            c.push(w * j[a]);
            d.push(w * (self.radius * dj));
        }
        (c, d, tail)
    }

    /// `c_a(s)` and `c'_a(s)` for `a < K`, and the tail beyond `K` (module docs).
    pub fn coefficients(&self, s: f64) -> (Vec<Complex64>, Vec<Complex64>, f64) {
        let (x, dx, tail) = self.real_coefficients(s);
        let rotate = |v: Vec<f64>| v.iter().enumerate().map(|(a, &v)| minus_i_pow(a) * v).collect();
        (rotate(x), rotate(dx), tail)
    }

    /// `W`, `W'` (unnormalised [`Moments`]) at `t` in `[t₀, end]`; `a_norm` bounds
    /// `‖H0 − E_0‖` and, without `G2`, `‖(H0 − E_0)ψ‖² ≤ a_norm ⟨ψ|H0 − E_0|ψ⟩` (valid
    /// only for `H0 − E_0 ≥ 0`, which the builder ensures by computing `G2` otherwise).
    /// Every form is real: `Σ_ab c̄_a c_b ⟨v_a|X|v_b⟩ = Σ_ab x_a x_b Re⟨w_a|X|w_b⟩`, and
    /// for the norm `Re(c̄_a c_b) = x_a x_b cos(π(a − b)/2)`.
    pub fn evaluate(&self, t: f64, a_norm: f64) -> Evaluation {
        let k = self.k;
        let (c, d, tail) = self.real_coefficients(t - self.t0);
        // one pass over G: per row a, G_a·c and Σ_b |G_ab c_b| (in independent lanes)
        let (mut work, mut rate, mut magnitude) = (0.0, 0.0, 0.0);
        for ((row, &ca), &da) in self.g.chunks_exact(k).zip(&c).zip(&d) {
            let (dot, abs) = row_dots(row, &c);
            work += ca * dot;
            rate += 2.0 * da * dot;
            magnitude += ca.abs() * abs;
        }
        let mut norm = 0.0;
        for a in 0..k {
            // only b of a's parity: cos(π(a − b)/2) = ±1
            let mut row = 0.0;
            for b in (a % 2..k).step_by(2) {
                let n_ab = 0.5 * (self.mu[a + b] + self.mu[a.abs_diff(b)]);
                let term = c[b] * n_ab;
                row += if a.abs_diff(b).is_multiple_of(4) { term } else { -term };
            }
            norm += c[a] * row;
        }
        let work_sq = match &self.g2 {
            Some(g2) => g2.chunks_exact(k).zip(&c).map(|(row, ca)| ca * row_dots(row, &c).0).sum(),
            None => a_norm * work.max(0.0),
        };
        Evaluation { moments: Moments { norm, work, rate, work_sq }, tail, magnitude }
    }
}

/// `(Σ_b g_b x_b, Σ_b |g_b x_b|)` ([`lane_sums`](crate::numeric::simd::lane_sums)).
#[inline]
fn row_dots(g: &[f64], x: &[f64]) -> (f64, f64) {
    let [dot, abs] = crate::numeric::simd::lane_sums([g, x], |[gb, xb]| {
        let p = gb * xb;
        [p, p.abs()]
    });
    (dot, abs)
}

/// The furthest step `s` (time units) whose series of `k` terms has its tail within `eps`:
/// the largest `x = rs` with [`bessel_sequence`]`(x, eps)` at most `k` long, by bisection.
pub(crate) fn reach(k: usize, radius: f64, eps: f64) -> f64 {
    let fits = |x: f64| bessel_sequence(x, eps).0.len() <= k;
    let (mut lo, mut hi) = (0.0, k as f64 + 1.0);
    if !fits(lo) {
        return 0.0;
    }
    while fits(hi) {
        hi *= 2.0;
    }
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-9 * hi {
            break;
        }
    }
    lo / radius
}
