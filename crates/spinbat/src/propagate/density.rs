//! Exact density-matrix propagator of the open battery: `ρ(t) = e^{𝓛t}ρ_0` with the
//! matrix-free Lindblad generator [`Liouvillian`] (noise channels: [`Noise`]), `ρ_0` the
//! all-down state `|↓…↓⟩⟨↓…↓|` (or a given matrix), and the work
//! `W(t) = Tr((H0 − E_0) ρ(t))`, its rate `W'(t) = Tr((H0 − E_0) 𝓛ρ(t))` exactly.
//!
//! **Method: Taylor steps with dense output.** A step of length `τ` sums
//! `ρ(t + τ) = Σ_{k≤K} Y_k`, `Y_0 = ρ(t)`, `Y_k = (τ/k) 𝓛 Y_{k−1}` (one application of `𝓛`
//! per term, fused with the accumulation of `ρ` and the sums below: three `16·4^N`-byte
//! matrices, five with collective decay). Every term's work `μ_k = Tr((H0 − E_0) Y_k)` is
//! kept, so for any `t + s` inside the step `W = Σ_k μ_k (s/τ)^k` and
//! `W' = Σ_k k μ_k (s/τ)^{k−1}/τ`: every time a step reaches is served at no propagation
//! cost, and the maximum search's refinement (which comes back to earlier times) costs
//! nothing. Steps have `Λτ = ` [`STEP_NORM`] (`Λ` below), except a step shortened to land
//! on a time whose state is asked for ([`DensityMatrix::density_at`]).
//!
//! **Error control (rigorous, up to rounding).** `Λ = (E_max − E_min) + Σ_k 2‖L_k‖²`
//! bounds `𝓛` in the norm induced by the trace norm ([`Liouvillian::norm_bound`]), so the
//! terms left out of a step obey `‖Σ_{k>K} Y_k‖_1 ≤ ‖Y_K‖_1 q/(1 − q)`,
//! `q = Λτ/(K + 1) < 1`, with `‖Y_K‖_1 ≤ min(√(2^N)‖Y_K‖_F, Σ|Y_K,rc|)` measured in the pass
//! that made `Y_K` (an a-posteriori bound). The series is cut at the first `K` where this is
//! below `ε_step = 10⁻³ tol / ‖H0 − c‖` (floored at `10⁻¹⁵`), so `tol` holds for a
//! thousand steps. A truncation error `δ` made at one step is carried to later times by the
//! exact dynamics `e^{𝓛s}`, a trace-preserving completely positive map, which does not
//! enlarge trace norms: the errors of the steps add. The remainder is traceless
//! (`Tr 𝓛X = 0`), so it moves the work by at most `‖H0 − c‖ ‖δ‖_1` for the best shift `c`
//! ([`Liouvillian::h0_half_width`]). [`Propagator::error_bound`] reports that sum, with a
//! rounding estimate (`4u` relative per term, times `Σ_k |μ_k|` for the evaluation of the
//! polynomial) added. Tested against closed forms of one spin, the closed Chebyshev
//! propagator at zero noise, the dense superoperator and QuTiP `mesolve`
//! (`tests/contract/open.rs`).
//!
//! **Work bound and scan step** (the certified maximum search, [`crate::observe::charge`]).
//! Noise does not conserve energy, so the closed bound `W ≤ N(|B| + B) + min(N|ω|, …)` does
//! not hold; for any state `W ≤ λ_max(H0) − E_0 ≤ N(|B| + B) + λ_max(H_g) + G`
//! (`λ_max(H_B) = N|B|`, `E_0 = −NB − G`), the bound used here. The grid step is
//! `π/(16(Λ_loc + κ))`: the closed local energy scale `Λ_loc` plus the fastest dissipative
//! rate `κ` of one site ([`crate::open::Rates::fastest`]), so no damping is faster than the grid
//! resolves (the refinement's Hermite interpolation assumes a smooth curve between grid
//! points).
//!
//! **Not used yet:** the reflection symmetry of `ρ` (mirror-symmetric chains and uniform
//! noise keep `ρ` in the reflection-even operator sector, about half the entries), and the
//! hermiticity of `ρ` (half the entries determine the rest).

use super::method::{check_times, scan_step, scan_step_for, Propagator, WorkSample};
use crate::error::{Result, SpinbatError};
use crate::model::Chain;
use crate::open::{Generator, Liouvillian, MatrixSums, Noise, Workspace};
use num_complex::Complex64;
use rayon::prelude::*;

/// `Λτ` of a full Taylor step: a compromise between the terms per unit time (fewer for
/// longer steps: about `K/τ`) and the size of the partial sums (up to `~e^{Λτ}` of the
/// result for a worst-case generator, losing that factor of the precision). Measured on
/// N = 8–12 (BENCHMARKS.md).
pub const STEP_NORM: f64 = 6.0;

/// Most terms of one step: far beyond the `~3Λτ` a step of [`STEP_NORM`] needs.
const MAX_TERMS: usize = 200;

/// Unit roundoff of `f64`.
const U: f64 = f64::EPSILON / 2.0;

/// Bytes of the density-matrix propagator for `N` sites: three `2^N × 2^N` complex
/// matrices (the state, two Taylor terms), two more for collective decay
/// (`J⁻X`, `XJ⁺`), and the diagonals.
pub fn bytes_needed(n_sites: usize, noise: &Noise) -> f64 {
    let dim = (n_sites as f64).exp2();
    let matrices = if noise.collective_decay != 0.0 { 5.0 } else { 3.0 };
    matrices * 16.0 * dim * dim + 64.0 * dim + 1e6
}

/// One Taylor step: the work of each term, for dense output inside `[t0, t0 + tau]`.
#[derive(Debug, Clone)]
struct Segment {
    t0: f64,
    tau: f64,
    /// `μ_k = Tr((H0 − E_0) Y_k)`
    mu: Vec<f64>,
    /// bound on the error of `W` anywhere in the step (the truncation up to and including
    /// it, and the rounding estimate)
    err: f64,
}

impl Segment {
    /// `W` and `W'` at `t` inside the step (Horner in `σ = (t − t0)/τ`).
    fn eval(&self, t: f64) -> WorkSample {
        let sigma = ((t - self.t0) / self.tau).clamp(0.0, 1.0);
        let mut w = 0.0;
        let mut dw = 0.0;
        for (k, &m) in self.mu.iter().enumerate().rev() {
            w = w * sigma + m;
            if k > 0 {
                dw = dw * sigma + k as f64 * m;
            }
        }
        WorkSample { t, work: w, rate: dw / self.tau }
    }
}

/// The density-matrix propagator (module docs).
pub struct DensityMatrix {
    liou: Liouvillian,
    noise: Noise,
    /// a given initial state (`None`: all down)
    initial: Option<Vec<Complex64>>,
    rho: Vec<Complex64>,
    t: f64,
    a: Vec<Complex64>,
    b: Vec<Complex64>,
    ws: Workspace,
    segments: Vec<Segment>,
    eps_step: f64,
    /// accumulated truncation bound of `ρ(t)` in trace norm
    trunc: f64,
    /// accumulated rounding estimate of `W`
    rounding: f64,
    max_err: f64,
    terms: usize,
    /// `W ≤` the closed bound (closed dynamics from all-down under the charging Hamiltonian)
    conserves_energy: bool,
    scan_step: f64,
    work_bound: f64,
}

impl DensityMatrix {
    /// Charging `chain` from all-down under `noise`, to an absolute tolerance `tol` on `W`
    /// (units of `B`). Allocates three (five with collective decay) `16·4^N`-byte
    /// matrices: plan first ([`super::Plan`]) to check they fit.
    ///
    /// # Errors
    /// Those of [`Liouvillian::new`] (a bad noise setting, a chain too large to index).
    pub fn new(chain: &Chain, noise: &Noise, tol: f64) -> Result<Self> {
        Self::build(chain, noise, Generator::Charging, None, tol)
    }

    /// From a given initial density matrix `rho0` (`2^N × 2^N`, by columns:
    /// `rho0[c·2^N + r] = ρ_rc`), under the Hamiltonian of `generator`.
    ///
    /// # Errors
    /// [`SpinbatError::InvalidParameter`] for a `rho0` of the wrong length, not Hermitian or
    /// not of unit trace (to `10⁻¹²`); those of [`DensityMatrix::new`].
    pub fn with_initial(
        chain: &Chain,
        noise: &Noise,
        generator: Generator,
        rho0: Vec<Complex64>,
        tol: f64,
    ) -> Result<Self> {
        let d = 1usize << chain.n_sites();
        if rho0.len() != d * d {
            return Err(crate::error::invalid("rho0", rho0.len(), format!("needs 4^N = {} entries", d * d)));
        }
        let mut trace = 0.0;
        for r in 0..d {
            trace += rho0[r * d + r].re;
            for c in 0..=r {
                if (rho0[c * d + r] - rho0[r * d + c].conj()).norm() > 1e-12 {
                    return Err(crate::error::invalid("rho0", format!("entry ({r}, {c})"), "must be Hermitian"));
                }
            }
        }
        if (trace - 1.0).abs() > 1e-12 {
            return Err(crate::error::invalid("rho0", format!("trace {trace}"), "must have unit trace"));
        }
        Self::build(chain, noise, generator, Some(rho0), tol)
    }

    fn build(
        chain: &Chain,
        noise: &Noise,
        generator: Generator,
        initial: Option<Vec<Complex64>>,
        tol: f64,
    ) -> Result<Self> {
        let liou = Liouvillian::new(chain, noise, generator)?;
        let h0w = liou.h0_half_width().max(f64::MIN_POSITIVE);
        let eps_step = (tol / h0w * 1e-3).max(1e-15);
        let rho = match &initial {
            Some(r) => r.clone(),
            None => liou.basis_state(crate::basis::ALL_DOWN),
        };
        let zero = Complex64::new(0.0, 0.0);
        let n2 = rho.len();
        let conserves_energy = noise.is_closed() && initial.is_none() && generator == Generator::Charging;
        let kappa = liou.rates().fastest(chain.n_sites());
        let scan_step = if kappa == 0.0 {
            scan_step(chain)
        } else {
            scan_step_for(chain.omega().abs() + (1.0 + chain.alpha().abs()) * chain.max_abs_row_sum() + kappa)
        };
        let n = chain.n_sites() as f64;
        let work_bound = if conserves_energy {
            chain.work_bound_with(liou.h_g_max_bound())
        } else {
            // W ≤ λ_max(H0) − E_0 ≤ N|B| + λ_max(H_g) + NB + G
            n * (chain.b().abs() + chain.b()) + liou.h_g_max_bound() + chain.total_coupling()
        };
        let ws = liou.workspace();
        Ok(DensityMatrix {
            noise: *noise,
            initial,
            rho,
            t: 0.0,
            a: vec![zero; n2],
            b: vec![zero; n2],
            ws,
            segments: Vec::new(),
            eps_step,
            trunc: 0.0,
            rounding: 0.0,
            max_err: 0.0,
            terms: 0,
            conserves_energy,
            scan_step,
            work_bound,
            liou,
        })
    }

    /// The generator.
    pub fn liouvillian(&self) -> &Liouvillian {
        &self.liou
    }

    /// The noise.
    pub fn noise(&self) -> &Noise {
        &self.noise
    }

    /// Applications of `𝓛` so far (the cost).
    pub fn terms(&self) -> usize {
        self.terms
    }

    /// Bound on the trace-norm error `‖ρ_computed − ρ(t)‖_1` of the current state, from
    /// truncation (rounding not included).
    pub fn state_error(&self) -> f64 {
        self.trunc
    }

    /// The density matrix at `t` (by columns, `ρ[c·2^N + r] = ρ_rc`), propagated to land
    /// on `t` exactly (from the current state, or from the start if `t` is earlier).
    ///
    /// # Errors
    /// [`SpinbatError::InvalidTimes`] for a negative or non-finite `t`;
    /// [`SpinbatError::NotConverged`] if a step's series does not reach its bound.
    pub fn density_at(&mut self, t: f64) -> Result<&[Complex64]> {
        check_times(&[t])?;
        if t < self.t {
            self.restart();
        }
        let full = STEP_NORM / self.liou.norm_bound();
        while self.t < t {
            let tau = full.min(t - self.t);
            self.step(tau)?;
        }
        Ok(&self.rho)
    }

    /// Back to the initial state at `t = 0`, forgetting the steps.
    fn restart(&mut self) {
        match &self.initial {
            Some(r) => self.rho.clone_from(r),
            None => {
                self.rho.fill(Complex64::new(0.0, 0.0));
                self.rho[0] = Complex64::new(1.0, 0.0);
            }
        }
        self.t = 0.0;
        self.trunc = 0.0;
        self.rounding = 0.0;
        self.segments.clear();
    }

    /// One Taylor step of length `tau` from the current state (module docs).
    fn step(&mut self, tau: f64) -> Result<()> {
        let lambda = self.liou.norm_bound();
        let dim = self.liou.dim();
        let s0 = self.liou.sums(&self.rho);
        let mut mu = vec![s0.work];
        let mut norms = s0.frobenius_sq.sqrt();
        // Y_1 = τ 𝓛 ρ
        let mut sums: MatrixSums = self.liou.apply_scaled(&self.rho, &mut self.a, tau, None, &mut self.ws);
        self.terms += 1;
        mu.push(sums.work);
        norms += sums.frobenius_sq.sqrt();
        let mut k = 1usize;
        let remainder = loop {
            let q = lambda * tau / (k + 1) as f64;
            if q < 1.0 {
                let bound = sums.trace_norm_bound(dim) * q / (1.0 - q);
                if bound <= self.eps_step {
                    break bound;
                }
            }
            if k >= MAX_TERMS {
                return Err(SpinbatError::NotConverged {
                    what: "density-matrix Taylor step",
                    reason: format!("{MAX_TERMS} terms of a step of Λτ = {:.3} did not reach {:.1e}", lambda * tau, self.eps_step),
                });
            }
            // Y_{k+1} = τ/(k+1) 𝓛 Y_k, and ρ += Y_k in the same pass
            sums = self.liou.apply_scaled(&self.a, &mut self.b, tau / (k + 1) as f64, Some(&mut self.rho), &mut self.ws);
            self.terms += 1;
            std::mem::swap(&mut self.a, &mut self.b);
            k += 1;
            mu.push(sums.work);
            norms += sums.frobenius_sq.sqrt();
        };
        // ρ += Y_K
        self.rho.par_iter_mut().zip(self.a.par_iter()).for_each(|(r, &y)| *r += y);
        self.trunc += remainder;
        let h0w = self.liou.h0_half_width();
        // rounding estimate: 4u relative per term of the state (its Frobenius norms), and
        // the polynomial's partial sums
        let mu_sum: f64 = mu.iter().map(|m| m.abs()).sum();
        self.rounding += 4.0 * U * (h0w * norms * (k as f64) + mu_sum);
        let err = h0w * self.trunc + self.rounding;
        self.segments.push(Segment { t0: self.t, tau, mu, err });
        self.t += tau;
        Ok(())
    }
}

impl Propagator for DensityMatrix {
    fn name(&self) -> &'static str {
        "density-matrix"
    }

    /// Served from the kept steps; steps of `Λτ = STEP_NORM` are added until the last time
    /// is reached.
    fn sample(&mut self, times: &[f64]) -> Result<Vec<WorkSample>> {
        check_times(times)?;
        let full = STEP_NORM / self.liou.norm_bound();
        let mut out = Vec::with_capacity(times.len());
        for &t in times {
            while self.segments.last().is_none_or(|s| s.t0 + s.tau < t) {
                self.step(full)?;
            }
            let k = self.segments.partition_point(|s| s.t0 + s.tau < t);
            let seg = &self.segments[k];
            self.max_err = self.max_err.max(seg.err);
            out.push(seg.eval(t));
        }
        Ok(out)
    }

    /// Energy is not conserved with noise: `λ_max(H0) − E_0` bounds `W` (module docs);
    /// the closed bound at zero noise.
    fn work_bound(&self, _chain: &Chain) -> f64 {
        self.work_bound
    }

    /// `π/(16(Λ_loc + κ))` (module docs).
    fn scan_step(&self, _chain: &Chain) -> f64 {
        self.scan_step
    }

    fn error_bound(&self) -> f64 {
        self.max_err
    }

    fn accuracy_note(&self) -> String {
        format!(
            "density matrix, Taylor steps of e^(Lt) (Lambda tau = {STEP_NORM}, {} applications of L); rigorous \
             a-posteriori truncation bound in trace norm, {:.1e} per step, times ||H0 - c|| (rounding estimate added){}",
            self.terms,
            self.eps_step,
            if self.conserves_energy { "" } else { "; W bound lambda_max(H0) - E0 (noise does not conserve energy)" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Couplings;

    #[test]
    fn dense_output_inside_a_step_equals_a_step_landing_there() {
        let chain = Chain::builder(4).couplings(Couplings::PowerLaw { p: 1.0 }).alpha(0.3).build().unwrap();
        let noise = Noise { dephasing: 0.2, decay: 0.1, temperature: Some(1.0), collective_decay: 0.05 };
        let mut p = DensityMatrix::new(&chain, &noise, 1e-12).unwrap();
        let times = [0.0, 0.013, 0.05, 0.11, 0.3];
        let samples = p.sample(&times).unwrap();
        for (s, &t) in samples.iter().zip(&times) {
            let mut q = DensityMatrix::new(&chain, &noise, 1e-12).unwrap();
            let rho = q.density_at(t).unwrap().to_vec();
            let w = q.liouvillian().sums(&rho).work;
            assert!((s.work - w).abs() < 1e-11, "t = {t}: {} vs {w}", s.work);
        }
        assert!(p.error_bound() < 1e-11 && p.error_bound() > 0.0);
    }
}
