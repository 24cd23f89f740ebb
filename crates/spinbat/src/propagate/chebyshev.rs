//! Matrix-free Chebyshev propagator.
//!
//! `e^{−iHδ} = e^{−icδ} Σ_k (2 − δ_k0) (−i)^k J_k(rδ) T_k(H̃)`, `H̃ = (H − c)/r`, where
//! `[c − r, c + r]` encloses the spectrum of `H` (Gershgorin, see
//! [`Operators::spectral_bounds_h`]). `T_k(H̃)ψ` follows from the three-term recurrence,
//! one application of `H` per term, fused with the accumulation of the results: all the
//! requested times of a batch (up to [`MAX_BATCH`]) come from *one* expansion from the
//! current state, so dense output costs little more than the longest step.
//!
//! **Error control.** The series is cut at the smallest `K` with
//! `Σ_{k>K} 2|J_k(rδ)| ≤ ε_step`, a rigorous bound on the state error of the step because
//! `‖T_k(H̃)‖ ≤ 1`. State errors add up along the path (unitary steps do not amplify them),
//! and a state error `ε` moves `W` by at most `2‖H0‖ε` ([`Operators::h0_norm_bound`]).
//! `ε_step = tol / (2‖H0‖) · 10⁻³` (floored at `10⁻¹⁵`), so `tol` holds for a thousand
//! steps; [`Propagator::error_bound`] reports the accumulated bound, with an estimate of
//! rounding (`2.2·10⁻¹⁶` per term) added. Tested against dense ED and against the bound.

use super::bessel::bessel_sequence;
use super::{check_times, Propagator, WorkSample};
use crate::error::Result;
use crate::model::Chain;
use crate::operator::Operators;
use num_complex::Complex64;

/// Rounding error per Chebyshev term (relative to the unit state norm).
const ROUNDING_PER_TERM: f64 = 2.2e-16;

/// Most sample times accumulated in one expansion.
pub const MAX_BATCH: usize = 16;

/// Times per expansion: up to [`MAX_BATCH`], as many as half the available memory holds
/// (16 bytes per amplitude each), at least one.
fn batch_size(dim: usize) -> usize {
    let per_time = 16.0 * dim as f64;
    let budget = super::memory::bytes_available().map_or(f64::INFINITY, |a| 0.5 * a);
    ((budget / per_time).floor() as usize).clamp(1, MAX_BATCH)
}

/// Chebyshev propagator on the full `2^N` space. Memory: the state, one recurrence
/// vector, the anchor, the diagonal of `H_g` and `batch` accumulated states:
/// `(56 + 16·batch)·2^N` bytes.
pub struct Chebyshev {
    ops: Operators,
    e0: f64,
    h0_norm: f64,
    center: f64,
    radius: f64,
    eps_step: f64,
    psi0_err: f64,
    /// current state and its time and accumulated state-error bound
    psi: Vec<Complex64>,
    t: f64,
    err: f64,
    /// anchored state (see [`Propagator::anchor`])
    anchor: Option<(f64, f64, Vec<Complex64>)>,
    /// second recurrence vector and the block of accumulated states (`2^N × batch`)
    work: Vec<Complex64>,
    acc: Vec<Complex64>,
    /// most times propagated together (bounded by memory)
    batch: usize,
    max_err: f64,
    terms: u64,
}

impl Chebyshev {
    /// Sets up the propagator at `t = 0` in the all-down state. `tol` is the target
    /// absolute error on `W` (units of `B`).
    ///
    /// # Errors
    /// [`crate::SpinbatError::TooLarge`] for chains beyond any full-space solver.
    pub fn new(chain: &Chain, tol: f64) -> Result<Self> {
        let ops = Operators::new(chain)?;
        let (lo, hi) = ops.spectral_bounds_h();
        let center = 0.5 * (lo + hi);
        let radius = 0.5 * (hi - lo) * (1.0 + 1e-12) + 1e-12;
        let h0_norm = Operators::h0_norm_bound(chain).max(1e-300);
        let eps_step = (tol / (2.0 * h0_norm) * 1e-3).max(1e-15);
        let dim = ops.dim();
        let zero = Complex64::new(0.0, 0.0);
        let mut psi = vec![zero; dim];
        psi[crate::basis::ALL_DOWN] = Complex64::new(1.0, 0.0);
        Ok(Chebyshev {
            e0: chain.initial_energy(),
            h0_norm,
            center,
            radius,
            eps_step,
            psi0_err: 0.0,
            psi,
            t: 0.0,
            err: 0.0,
            anchor: None,
            work: vec![zero; dim],
            acc: Vec::new(),
            batch: batch_size(dim),
            max_err: 0.0,
            terms: 0,
            ops,
        })
    }

    /// Total number of Chebyshev terms (applications of `H`) so far.
    pub fn terms(&self) -> u64 {
        self.terms
    }

    /// The current state `ψ(t)` (up to a global phase) and its time `t`.
    pub fn state(&self) -> (&[Complex64], f64) {
        (&self.psi, self.t)
    }

    /// The matrix-free operators the propagator uses.
    pub fn operators(&self) -> &Operators {
        &self.ops
    }

    /// Resets to `t = 0` (the all-down state).
    fn restart(&mut self) {
        self.psi.fill(Complex64::new(0.0, 0.0));
        self.psi[crate::basis::ALL_DOWN] = Complex64::new(1.0, 0.0);
        self.t = 0.0;
        self.err = self.psi0_err;
    }

    /// Propagates the current state to the sorted times `ts` (all `≥ self.t`) with one
    /// Chebyshev expansion, accumulating the `m = ts.len()` states side by side; returns
    /// their samples and leaves the state at the last time.
    fn advance_batch(&mut self, ts: &[f64]) -> Vec<WorkSample> {
        let m = ts.len();
        let dim = self.ops.dim();
        let (c, r) = (self.center, self.radius);
        let seqs: Vec<(Vec<f64>, f64)> =
            ts.iter().map(|&t| bessel_sequence(self.radius * (t - self.t).max(0.0), self.eps_step)).collect();
        let lens: Vec<usize> = seqs.iter().map(|q| q.0.len()).collect();
        let k_max = lens.iter().copied().max().unwrap_or(1);
        // global phase e^{−icδ} keeps the states exact (it drops out of every observable)
        let phases: Vec<Complex64> = ts.iter().map(|&t| Complex64::from_polar(1.0, -c * (t - self.t))).collect();
        let coefs = |k: usize| -> Vec<Complex64> {
            let mi_k = match k % 4 {
                0 => Complex64::new(1.0, 0.0),
                1 => Complex64::new(0.0, -1.0),
                2 => Complex64::new(-1.0, 0.0),
                _ => Complex64::new(0.0, 1.0),
            };
            let weight = if k == 0 { 1.0 } else { 2.0 };
            (0..m)
                .map(|j| seqs[j].0.get(k).map_or(Complex64::new(0.0, 0.0), |jk| phases[j] * mi_k * weight * jk))
                .collect()
        };
        self.acc.clear();
        self.acc.resize(dim * m, Complex64::new(0.0, 0.0));
        if k_max == 1 {
            let c0 = coefs(0);
            for (row, p) in self.acc.chunks_exact_mut(m).zip(&self.psi) {
                for (a, cj) in row.iter_mut().zip(&c0) {
                    *a = p * cj;
                }
            }
        } else {
            // T_0 = ψ lives in `psi`, T_1 goes to `work`; afterwards the two alternate as
            // (T_{k−1}, T_k), the recurrence overwriting T_{k−1} with T_{k+1}.
            self.ops.chebyshev_step(&self.psi, &mut self.work, &mut self.acc, c, r, true, &coefs(0), &coefs(1), 0);
            let (mut cur, mut prev) = (&mut self.work, &mut self.psi);
            for k in 2..k_max {
                let j_lo = lens.iter().position(|&l| l > k).unwrap_or(m);
                self.ops.chebyshev_step(cur, prev, &mut self.acc, c, r, false, &[], &coefs(k), j_lo);
                std::mem::swap(&mut cur, &mut prev);
            }
        }
        self.terms += k_max as u64;
        let obs = self.ops.energy_and_rate_multi(&self.acc, m);
        let mut out = Vec::with_capacity(m);
        let mut last_err = self.err;
        for (j, (&t, &(norm, e, rate))) in ts.iter().zip(&obs).enumerate() {
            let err = self.err + seqs[j].1 + ROUNDING_PER_TERM * lens[j] as f64;
            self.max_err = self.max_err.max(2.0 * self.h0_norm * err);
            last_err = err;
            out.push(WorkSample { t, work: e / norm - self.e0, rate: rate / norm });
        }
        // the state moves to the last time
        for (p, row) in self.psi.iter_mut().zip(self.acc.chunks_exact(m)) {
            *p = row[m - 1];
        }
        self.t = ts[m - 1];
        self.err = last_err;
        out
    }

    /// Moves the current state forward to `t ≥ self.t`.
    fn advance_to(&mut self, t: f64) {
        if t > self.t {
            self.advance_batch(&[t]);
        }
    }

    /// Moves to `t` from wherever is closest behind it: the current state, the anchor or
    /// the start.
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
        self.advance_to(t);
    }
}

impl Propagator for Chebyshev {
    fn name(&self) -> &'static str {
        "chebyshev"
    }

    fn sample(&mut self, times: &[f64]) -> Result<Vec<WorkSample>> {
        check_times(times)?;
        let mut out = Vec::with_capacity(times.len());
        if let Some(&first) = times.first() {
            if first < self.t {
                self.go_to(first);
            }
        }
        for batch in times.chunks(self.batch) {
            out.extend(self.advance_batch(batch));
        }
        Ok(out)
    }

    fn anchor(&mut self, t: f64) -> Result<()> {
        check_times(&[t])?;
        self.go_to(t);
        match &mut self.anchor {
            Some((ta, ea, a)) => {
                a.copy_from_slice(&self.psi);
                *ta = self.t;
                *ea = self.err;
            }
            None => self.anchor = Some((self.t, self.err, self.psi.clone())),
        }
        Ok(())
    }

    fn error_bound(&self) -> f64 {
        self.max_err
    }

    fn accuracy_note(&self) -> String {
        format!(
            "Chebyshev series cut at tail <= {:.1e} per step (rigorous); |dW| <= 2||H0|| sum(tails) = {:.1e} so far",
            self.eps_step, self.max_err
        )
    }
}
