//! Dense output of a Chebyshev series by Gram matrices: the work at *every* time a series
//! reaches, for the cost of the series and one matrix product.
//!
//! From a state `φ = ψ(t₀)`, `ψ(t₀ + s) = e^{−ics} Σ_{a<K} c_a(s) v_a` with
//! `v_a = T_a(H̃)φ` and `c_a(s) = (2 − δ_a0)(−i)^a J_a(rs)` (see [`super::Chebyshev`]).
//! Keeping all `K` vectors, every quadratic observable is a `K × K` form in the
//! coefficients, the phase dropping out:
//!
//! * `W(t₀ + s) = c(s)† G c(s) / c(s)† N c(s)`, `G_ab = ⟨v_a|H0 − E_0|v_b⟩`;
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
//! form adds a rounding estimate `4u Σ_ab |c_a||c_b||G_ab|` (the size of the terms that
//! cancel), reported with it.

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
    g: Vec<Complex64>,
    g2: Option<Vec<Complex64>>,
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
    /// `Σ_ab |c_a||c_b||G_ab|`: the size of the terms the form sums.
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

    /// `c_a(s)` and `c'_a(s)` for `a < K`, and the tail beyond `K` (module docs).
    pub fn coefficients(&self, s: f64) -> (Vec<Complex64>, Vec<Complex64>, f64) {
        let x = self.radius * s.max(0.0);
        let mut j = bessel_sequence(x, 0.0).0;
        let tail: f64 = j.iter().skip(self.k).map(|v| 2.0 * v.abs()).sum();
        j.resize(j.len().max(self.k + 1), 0.0);
        let mut c = Vec::with_capacity(self.k);
        let mut d = Vec::with_capacity(self.k);
        for a in 0..self.k {
            let w = if a == 0 { 1.0 } else { 2.0 } * minus_i_pow(a);
            let dj = if a == 0 { -j[1] } else { 0.5 * (j[a - 1] - j[a + 1]) };
            c.push(w * j[a]);
            d.push(w * (self.radius * dj));
        }
        (c, d, tail)
    }

    /// `W`, `W'` (unnormalised [`Moments`]) at `t` in `[t₀, end]`; `a_norm` bounds
    /// `‖H0 − E_0‖` and, without `G2`, `‖(H0 − E_0)ψ‖² ≤ a_norm ⟨ψ|H0 − E_0|ψ⟩` (valid
    /// only for `H0 − E_0 ≥ 0`, which the builder ensures by computing `G2` otherwise).
    pub fn evaluate(&self, t: f64, a_norm: f64) -> Evaluation {
        let k = self.k;
        let (c, d, tail) = self.coefficients(t - self.t0);
        let form = |m: &[Complex64], x: &[Complex64], y: &[Complex64]| -> f64 {
            let mut sum = Complex64::new(0.0, 0.0);
            for (a, row) in m.chunks_exact(k).enumerate() {
                let my: Complex64 = row.iter().zip(y).map(|(g, yb)| g * yb).sum();
                sum += x[a].conj() * my;
            }
            sum.re
        };
        let work = form(&self.g, &c, &c);
        let rate = 2.0 * form(&self.g, &d, &c);
        let mut norm = 0.0;
        for a in 0..k {
            for b in 0..k {
                let n_ab = 0.5 * (self.mu[a + b] + self.mu[a.abs_diff(b)]);
                norm += (c[a].conj() * c[b]).re * n_ab;
            }
        }
        let work_sq = match &self.g2 {
            Some(g2) => form(g2, &c, &c),
            None => a_norm * work.max(0.0),
        };
        let mut magnitude = 0.0;
        for (a, row) in self.g.chunks_exact(k).enumerate() {
            magnitude += c[a].norm() * row.iter().zip(&c).map(|(g, cb)| g.norm() * cb.norm()).sum::<f64>();
        }
        Evaluation { moments: Moments { norm, work, rate, work_sq }, tail, magnitude }
    }
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
