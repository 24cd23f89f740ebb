//! Optimal control of the charge: the piecewise-constant field `ω(t) ∈ [−W, W]` on `K`
//! equal segments of `[0, T]` that maximises the work `W(T)` (physics.md, "Optimal
//! charging").
//!
//! **Objectives.** `work`: `W(T) = ⟨ψ_T|H0|ψ_T⟩ − E_0`. `power`: `W(T)/T` at the fixed `T`,
//! the same optimum (reported divided by `T`). `ergotropy`: the pure state's global
//! ergotropy for `H0`, `⟨H0⟩_T − ε_min(H0) = W(T) + (E_0 − ε_min)`, again the same optimum
//! up to the constant `E_0 − ε_min` (zero where all-down is the ground state of `H0`;
//! positive for `B < 0`, ferromagnetic `|α| > 1` or antiferromagnetic couplings, where
//! all-down is not the ground state): for a pure state every unitary orbit has the same
//! passive energy `ε_min`, so no schedule can trade work against ergotropy.
//!
//! **Exact gradients (GRAPE with exact segment derivatives).** With
//! `ψ_k = U_k ψ_{k−1}`, `U_k = e^{−iH_kτ}`, `H_k = H_g + ω_k V1`, `V1 = Σ_i X_i`, `τ = T/K`,
//! and the co-state `λ_k = U_{k+1}† ⋯ U_K† H0 ψ_K`,
//! `∂W/∂ω_k = 2 Re⟨λ_k | ∂_ω U_k ψ_{k−1}⟩`. The derivative of the segment exponential is
//! that of its Chebyshev series at a fixed enclosure `[c − r, c + r]` (the Bessel generating
//! function `e^{−irτx} = Σ_k (2 − δ_k0)(−i)^k J_k(rτ) T_k(x)` holds for every `x`, so the
//! series is an identity in `ω` and its derivative is exact): with `D_k = ∂_ω T_k(H̃)ψ`,
//! `D_0 = 0`, `D_1 = V1ψ/r`, `D_{k+1} = 2H̃D_k + 2(V1/r)T_k(H̃)ψ − D_{k−1}` (the
//! augmented-matrix recurrence of `[[H̃, V1/r], [0, H̃]]`), truncated where
//! `Σ_{k>K} 2|J_k(rτ)| k² ≤ ε` (Markov: `‖D_k‖ ≤ k²‖V1‖/r`). One gradient costs the
//! forward sweep (one series per segment, states kept), and backwards per segment one
//! series for `λ` and one augmented series (three operator applications a term).
//! Checked against central finite differences ([`gradient_check`]).
//!
//! **Optimiser.** A projected L-BFGS written here (memory 8; the two-loop direction on the
//! free variables, Armijo backtracking along the projected path, the bounds `|ω_k| ≤ W`
//! enforced by projection): `argmin`'s L-BFGS has no bounds and the L-BFGS-B crates wrap
//! Fortran, so a 100-line projected method is the lighter dependency. Start 0 is the best
//! constant field ([`best_constant_field`]), so the result never falls below it; starts
//! `1..M` are uniform in `[−W, W]^K` from ChaCha8 stream `m` of the seed.

pub mod meanfield;

pub use meanfield::MeanFieldControl;

use crate::error::{invalid, Result};
use crate::model::{Chain, Schedule};
use crate::numeric::bessel::bessel_sequence;
use crate::operator::{chebyshev_step_into, Operators};
use crate::symmetry::Space;
use num_complex::Complex64 as C;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

/// What the schedule maximises at `T` (module docs: all three share the optimum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// `W(T)`.
    Work,
    /// `W(T)/T`.
    Power,
    /// `⟨H0⟩_T − ε_min(H0)`.
    Ergotropy,
}

impl std::str::FromStr for Objective {
    type Err = crate::SpinbatError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "work" => Ok(Objective::Work),
            "power" => Ok(Objective::Power),
            "ergotropy" => Ok(Objective::Ergotropy),
            _ => Err(invalid("objective", s, "choose work, power or ergotropy")),
        }
    }
}

/// The problem of [`optimize`].
#[derive(Debug, Clone, PartialEq)]
pub struct ControlSpec {
    /// Charging time `T` (units `1/B`).
    pub charge_time: f64,
    /// Number of equal segments `K`.
    pub segments: usize,
    /// Bound `W` on `|ω_k|` (units `B`).
    pub omega_max: f64,
    /// The objective.
    pub objective: Objective,
    /// Seed of the random starts.
    pub seed: u64,
    /// Number of starts `M ≥ 1` (the first from the best constant field).
    pub starts: usize,
    /// Tolerance of each segment's series on the state (`≤ 10⁻¹⁰` is plenty).
    pub tol: f64,
    /// Most L-BFGS iterations per start.
    pub max_iterations: usize,
}

impl ControlSpec {
    /// Checks every field.
    ///
    /// # Errors
    /// [`crate::SpinbatError::InvalidParameter`] naming the field.
    pub fn check(&self) -> Result<()> {
        if !(self.charge_time.is_finite() && self.charge_time > 0.0) {
            return Err(invalid("charge_time", self.charge_time, "must be a finite time > 0"));
        }
        if self.segments == 0 || self.segments > 100_000 {
            return Err(invalid("segments", self.segments, "must be between 1 and 100000"));
        }
        if !(self.omega_max.is_finite() && self.omega_max > 0.0) {
            return Err(invalid("omega_max", self.omega_max, "must be a finite field > 0"));
        }
        if self.starts == 0 {
            return Err(invalid("starts", self.starts, "must be at least 1"));
        }
        if !(self.tol.is_finite() && self.tol > 0.0 && self.tol < 1.0) {
            return Err(invalid("tol", self.tol, "must be in (0, 1)"));
        }
        Ok(())
    }
}

/// The best constant field of [`best_constant_field`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ConstantField {
    /// `ω ∈ [0, W]` (`W(T)` is even in `ω`: `Π_i Z_i` flips `V1` and keeps `H_g`, `H0`, all-down).
    pub omega: f64,
    /// Its work `W(T)`.
    pub work: f64,
}

/// The gradient check of [`gradient_check`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GradientCheck {
    /// Segments checked (0-based).
    pub segments: Vec<usize>,
    /// The adjoint gradient there.
    pub adjoint: Vec<f64>,
    /// Central differences `(W(ω + h e_k) − W(ω − h e_k))/2h` there.
    pub finite_difference: Vec<f64>,
    /// The step `h`.
    pub step: f64,
    /// `max_k |adjoint − fd| / max(|adjoint|, |fd|, 10⁻³ max_j |∂W/∂ω_j|, 10⁻⁶ W/W_max)`:
    /// relative, with floors at the gradient's scale (at an optimum the free components
    /// vanish) and at `10⁻⁶` of the natural scale `W/W_max`.
    pub max_relative_difference: f64,
}

/// What [`optimize`] found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Optimized {
    /// The objective asked for.
    pub objective: Objective,
    /// `W(T)` of the best schedule.
    pub work: f64,
    /// `W(T)/T`.
    pub power: f64,
    /// `⟨H0⟩_T − ε_min` where `ε_min` is known (`None` otherwise).
    pub ergotropy: Option<f64>,
    /// The best schedule (segment ends and fields).
    pub schedule: Schedule,
    /// The best constant field in `[−W, W]` and its work.
    pub constant_field: ConstantField,
    /// The gradient check at the best schedule.
    pub gradient_check: GradientCheck,
    /// Work reached by each start, in order.
    pub start_work: Vec<f64>,
    /// Gradient evaluations over all starts.
    pub evaluations: usize,
}

/// What the optimiser needs of a model of the charge: `W(T)` of the fields `ω_k` (one per
/// segment), its gradient, and `W(T)` of a constant field. [`Control`] (exact, Chebyshev
/// on the full space) and [`MeanFieldControl`] (the Bloch equations and their adjoint).
pub trait ControlModel {
    /// `W(T)` for the fields `omegas` (one per segment).
    ///
    /// # Errors
    /// The method's own (the mean field's integrator).
    fn work(&mut self, omegas: &[f64]) -> Result<f64>;
    /// `W(T)` of the constant field `omega` on `[0, T]` (one propagation, not `K`).
    ///
    /// # Errors
    /// As [`ControlModel::work`].
    fn constant_work(&mut self, omega: f64) -> Result<f64>;
    /// `W(T)` and its exact gradient `∂W/∂ω_k`.
    ///
    /// # Errors
    /// As [`ControlModel::work`].
    fn work_and_gradient(&mut self, omegas: &[f64]) -> Result<(f64, Vec<f64>)>;
    /// Gradient evaluations so far.
    fn evaluations(&self) -> usize;
}

/// Buffers and operators of the control problem on the full `2^N` space.
pub struct Control {
    ops: Operators,
    tau: f64,
    charge_time: f64,
    eps: f64,
    /// `E_0 = ⟨↓…↓|H0|↓…↓⟩`
    e0: f64,
    /// gradient evaluations so far
    pub evaluations: usize,
}

fn dot(a: &[C], b: &[C]) -> C {
    a.par_iter().zip(b).map(|(x, y)| x.conj() * y).sum()
}

fn axpy(y: &mut [C], a: C, x: &[C]) {
    y.par_iter_mut().zip(x).for_each(|(y, x)| *y += a * x);
}

impl Control {
    /// The problem for `chain` with `K` segments of `τ = T/K`; `tol` bounds each series'
    /// truncation (on the state).
    ///
    /// # Errors
    /// [`crate::SpinbatError::TooLarge`] when `K + 9` states of `2^N` amplitudes do not fit.
    pub fn new(chain: &Chain, charge_time: f64, segments: usize, tol: f64) -> Result<Self> {
        let n = chain.n_sites();
        let bytes = Operators::bytes(n) + 16.0 * (n as f64).exp2() * (segments as f64 + 9.0);
        crate::resources::ensure_fits("optimal control (full space)", n, bytes)?;
        let ops = Operators::new(chain)?;
        let e0 = ops.all_down_energy();
        Ok(Control { ops, tau: charge_time / segments as f64, charge_time, eps: tol * 1e-3, e0, evaluations: 0 })
    }

    fn initial(&self) -> Vec<C> {
        let mut psi = vec![C::new(0.0, 0.0); self.ops.dim()];
        psi[crate::basis::ALL_DOWN] = C::new(1.0, 0.0);
        psi
    }

    /// `V1 x = Σ_i X_i x`.
    fn apply_v1(&self, x: &[C], out: &mut [C]) {
        let chunk = self.ops.block_len();
        out.par_chunks_mut(chunk).enumerate().for_each(|(b, o)| self.ops.flip_sum_block(x, 1, b, o));
    }

    /// `e^{−iH_ω s}ψ` (any sign of `s`) by its Chebyshev series.
    pub fn expmv(&mut self, omega: f64, psi: &[C], s: f64) -> Vec<C> {
        self.ops.set_omega(omega);
        let (lo, hi) = self.ops.spectral_bounds_h();
        let (c, r) = (0.5 * (lo + hi), 0.5 * (hi - lo) * (1.0 + 1e-12) + 1e-12);
        let (j, _) = bessel_sequence(r * s.abs(), self.eps);
        let sign = s.signum();
        let mut acc: Vec<C> = psi.iter().map(|z| z * j[0]).collect();
        let (mut prev, mut cur) = (psi.to_vec(), vec![C::new(0.0, 0.0); psi.len()]);
        if j.len() > 1 {
            chebyshev_step_into(&self.ops, &prev, None, &mut cur, c, r);
            let mut next = vec![C::new(0.0, 0.0); psi.len()];
            for (k, &jk) in j.iter().enumerate().skip(1) {
                // (2 − δ_k0)(−i sign)^k J_k(r|s|)
                let a = C::new(0.0, -sign).powu(k as u32) * (2.0 * jk);
                axpy(&mut acc, a, &cur);
                if k + 1 < j.len() {
                    chebyshev_step_into(&self.ops, &cur, Some(&prev), &mut next, c, r);
                    std::mem::swap(&mut prev, &mut cur);
                    std::mem::swap(&mut cur, &mut next);
                }
            }
        }
        let phase = C::from_polar(1.0, -c * s);
        acc.par_iter_mut().for_each(|z| *z *= phase);
        acc
    }

    /// `(e^{−iH_ωτ}ψ, ∂_ω e^{−iH_ωτ}ψ)` by the augmented Chebyshev recurrence (module docs).
    pub fn expmv_derivative(&mut self, omega: f64, psi: &[C], tau: f64) -> (Vec<C>, Vec<C>) {
        self.ops.set_omega(omega);
        let (lo, hi) = self.ops.spectral_bounds_h();
        let (c, r) = (0.5 * (lo + hi), 0.5 * (hi - lo) * (1.0 + 1e-12) + 1e-12);
        // k² growth of the derivative terms: a tail smaller by the square of the length
        let (j0, _) = bessel_sequence(r * tau, self.eps);
        let kk = (j0.len() + 8) as f64;
        let (j, _) = bessel_sequence(r * tau, (self.eps / (kk * kk)).max(1e-300));
        let d = psi.len();
        let zero = C::new(0.0, 0.0);
        let mut acc: Vec<C> = psi.iter().map(|z| z * j[0]).collect();
        let mut dacc = vec![zero; d];
        let (mut tp, mut tc, mut tn) = (psi.to_vec(), vec![zero; d], vec![zero; d]);
        let (mut dp, mut dc, mut dn) = (vec![zero; d], vec![zero; d], vec![zero; d]);
        let mut vt = vec![zero; d];
        if j.len() > 1 {
            chebyshev_step_into(&self.ops, &tp, None, &mut tc, c, r);
            self.apply_v1(&tp, &mut dc);
            dc.par_iter_mut().for_each(|z| *z /= r);
            for (k, &jk) in j.iter().enumerate().skip(1) {
                let a = C::new(0.0, -1.0).powu(k as u32) * (2.0 * jk);
                axpy(&mut acc, a, &tc);
                axpy(&mut dacc, a, &dc);
                if k + 1 < j.len() {
                    // D_{k+1} = 2H̃D_k − D_{k−1} + 2(V1/r)T_k
                    chebyshev_step_into(&self.ops, &dc, Some(&dp), &mut dn, c, r);
                    self.apply_v1(&tc, &mut vt);
                    let s = 2.0 / r;
                    dn.par_iter_mut().zip(&vt).for_each(|(z, v)| *z += v * s);
                    chebyshev_step_into(&self.ops, &tc, Some(&tp), &mut tn, c, r);
                    std::mem::swap(&mut tp, &mut tc);
                    std::mem::swap(&mut tc, &mut tn);
                    std::mem::swap(&mut dp, &mut dc);
                    std::mem::swap(&mut dc, &mut dn);
                }
            }
        }
        let phase = C::from_polar(1.0, -c * tau);
        acc.par_iter_mut().for_each(|z| *z *= phase);
        dacc.par_iter_mut().for_each(|z| *z *= phase);
        (acc, dacc)
    }

    /// `W(T)` for the fields `omegas` (one per segment).
    pub fn work(&mut self, omegas: &[f64]) -> f64 {
        let mut psi = self.initial();
        for &w in omegas {
            psi = self.expmv(w, &psi, self.tau);
        }
        self.energy(&psi) - self.e0
    }

    fn energy(&self, psi: &[C]) -> f64 {
        let mut h0 = vec![C::new(0.0, 0.0); psi.len()];
        self.ops.apply_h0(psi, &mut h0);
        dot(psi, &h0).re / dot(psi, psi).re
    }

    /// `W(T)` and its exact gradient `∂W/∂ω_k` (module docs).
    pub fn work_and_gradient(&mut self, omegas: &[f64]) -> (f64, Vec<f64>) {
        self.evaluations += 1;
        let mut states = Vec::with_capacity(omegas.len() + 1);
        states.push(self.initial());
        for &w in omegas {
            let next = self.expmv(w, states.last().expect("never empty"), self.tau);
            states.push(next);
        }
        let psi_t = states.pop().expect("K + 1 states");
        let mut lambda = vec![C::new(0.0, 0.0); psi_t.len()];
        self.ops.apply_h0(&psi_t, &mut lambda);
        let work = dot(&psi_t, &lambda).re - self.e0;
        let mut grad = vec![0.0; omegas.len()];
        for k in (0..omegas.len()).rev() {
            let start = states.pop().expect("one state per segment");
            let (_, dpsi) = self.expmv_derivative(omegas[k], &start, self.tau);
            grad[k] = 2.0 * dot(&lambda, &dpsi).re;
            if k > 0 {
                lambda = self.expmv(omegas[k], &lambda, -self.tau);
            }
        }
        (work, grad)
    }
}

impl ControlModel for Control {
    fn work(&mut self, omegas: &[f64]) -> Result<f64> {
        Ok(Control::work(self, omegas))
    }

    /// One Chebyshev series over `[0, T]` (`rT + O(log 1/ε)` terms, against `K` restarts).
    fn constant_work(&mut self, omega: f64) -> Result<f64> {
        let psi = self.expmv(omega, &self.initial(), self.charge_time);
        Ok(self.energy(&psi) - self.e0)
    }

    fn work_and_gradient(&mut self, omegas: &[f64]) -> Result<(f64, Vec<f64>)> {
        Ok(Control::work_and_gradient(self, omegas))
    }

    fn evaluations(&self) -> usize {
        self.evaluations
    }
}

/// The constant `ω ∈ [0, W]` of largest `W(T)` (a 1-D search: a grid of 48 fields, then
/// golden sections around the best to `10⁻¹⁰ W`), each `W(T)` one propagation over `[0, T]`
/// ([`ControlModel::constant_work`]).
///
/// # Errors
/// The model's own.
pub fn best_constant_field(control: &mut impl ControlModel, omega_max: f64) -> Result<ConstantField> {
    let mut failed = None;
    let mut f = |w: f64| match control.constant_work(w) {
        Ok(v) => v,
        Err(e) => {
            failed.get_or_insert(e);
            f64::NEG_INFINITY
        }
    };
    let grid: Vec<(f64, f64)> = (0..=48).map(|j| omega_max * j as f64 / 48.0).map(|w| (w, f(w))).collect();
    let best = grid.iter().copied().enumerate().max_by(|a, b| a.1 .1.total_cmp(&b.1 .1)).map_or(0, |(i, _)| i);
    let (mut a, mut b) = (grid[best.saturating_sub(1)].0, grid[(best + 1).min(48)].0);
    let g = 0.5 * (5f64.sqrt() - 1.0);
    let (mut x1, mut x2) = (b - g * (b - a), a + g * (b - a));
    let (mut f1, mut f2) = (f(x1), f(x2));
    while b - a > 1e-10 * omega_max {
        if f1 > f2 {
            b = x2;
            x2 = x1;
            f2 = f1;
            x1 = b - g * (b - a);
            f1 = f(x1);
        } else {
            a = x1;
            x1 = x2;
            f1 = f2;
            x2 = a + g * (b - a);
            f2 = f(x2);
        }
    }
    let (w, work) = [(x1, f1), (x2, f2), grid[best]].into_iter().max_by(|p, q| p.1.total_cmp(&q.1)).expect("three");
    match failed {
        Some(e) => Err(e),
        None => Ok(ConstantField { omega: w, work }),
    }
}

/// Maximises `f` over the box `|x_k| ≤ bound` by projected L-BFGS (module docs) from `x`;
/// returns the best `x` and `f(x)`.
pub fn projected_lbfgs(
    mut f: impl FnMut(&[f64]) -> (f64, Vec<f64>),
    mut x: Vec<f64>,
    bound: f64,
    max_iterations: usize,
) -> (Vec<f64>, f64) {
    const MEMORY: usize = 8;
    let proj = |v: f64| v.clamp(-bound, bound);
    x.iter_mut().for_each(|v| *v = proj(*v));
    // minimise φ = −f
    let (fx, gx) = f(&x);
    let (mut phi, mut g): (f64, Vec<f64>) = (-fx, gx.iter().map(|v| -v).collect());
    let mut hist: Vec<(Vec<f64>, Vec<f64>, f64)> = Vec::new();
    let scale = phi.abs().max(1.0);
    for _ in 0..max_iterations {
        let active = |i: usize, g: &[f64], x: &[f64]| (x[i] <= -bound && g[i] > 0.0) || (x[i] >= bound && g[i] < 0.0);
        let pg: f64 = (0..x.len()).filter(|&i| !active(i, &g, &x)).map(|i| g[i].abs()).fold(0.0, f64::max);
        if pg * bound < 1e-11 * scale {
            break;
        }
        // two-loop recursion on the free variables
        let free: Vec<bool> = (0..x.len()).map(|i| !active(i, &g, &x)).collect();
        let mut q: Vec<f64> = g.iter().zip(&free).map(|(v, &fr)| if fr { *v } else { 0.0 }).collect();
        let mut alphas = Vec::with_capacity(hist.len());
        for (s, y, rho) in hist.iter().rev() {
            let a = rho * s.iter().zip(&q).map(|(a, b)| a * b).sum::<f64>();
            q.iter_mut().zip(y).for_each(|(qv, yv)| *qv -= a * yv);
            alphas.push(a);
        }
        if let Some((s, y, _)) = hist.last() {
            let gamma = s.iter().zip(y).map(|(a, b)| a * b).sum::<f64>() / y.iter().map(|v| v * v).sum::<f64>();
            q.iter_mut().for_each(|v| *v *= gamma);
        } else {
            let gmax = q.iter().fold(0.0f64, |a, v| a.max(v.abs())).max(1e-300);
            q.iter_mut().for_each(|v| *v *= 0.1 * bound / gmax);
        }
        for ((s, y, rho), a) in hist.iter().zip(alphas.iter().rev()) {
            let b = rho * y.iter().zip(&q).map(|(a, b)| a * b).sum::<f64>();
            q.iter_mut().zip(s).for_each(|(qv, sv)| *qv += (a - b) * sv);
        }
        let mut d: Vec<f64> = q.iter().zip(&free).map(|(v, &fr)| if fr { -v } else { 0.0 }).collect();
        if d.iter().zip(&g).map(|(a, b)| a * b).sum::<f64>() >= 0.0 {
            hist.clear();
            let gmax = g.iter().fold(0.0f64, |a, v| a.max(v.abs())).max(1e-300);
            d = g.iter().zip(&free).map(|(v, &fr)| if fr { -v * 0.1 * bound / gmax } else { 0.0 }).collect();
        }
        let mut step = 1.0;
        let mut accepted = None;
        for _ in 0..40 {
            let xn: Vec<f64> = x.iter().zip(&d).map(|(a, b)| proj(a + step * b)).collect();
            let (fxn, gxn) = f(&xn);
            let phin = -fxn;
            let decrease: f64 = g.iter().zip(xn.iter().zip(&x)).map(|(gv, (a, b))| gv * (a - b)).sum();
            if phin <= phi + 1e-4 * decrease {
                accepted = Some((xn, phin, gxn.iter().map(|v| -v).collect::<Vec<f64>>()));
                break;
            }
            step *= 0.5;
        }
        let Some((xn, phin, gn)) = accepted else {
            break;
        };
        let s: Vec<f64> = xn.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = gn.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy: f64 = s.iter().zip(&y).map(|(a, b)| a * b).sum();
        if sy > 1e-14 * scale {
            if hist.len() == MEMORY {
                hist.remove(0);
            }
            hist.push((s, y, 1.0 / sy));
        }
        let done = (phi - phin).abs() < 1e-13 * scale;
        x = xn;
        phi = phin;
        g = gn;
        if done {
            break;
        }
    }
    (x, -phi)
}

/// The adjoint gradient against central differences at up to three segments (first,
/// middle, last) of `omegas`.
///
/// # Errors
/// The model's own.
pub fn gradient_check(control: &mut impl ControlModel, omegas: &[f64], omega_max: f64) -> Result<GradientCheck> {
    let (work, grad) = control.work_and_gradient(omegas)?;
    let k = omegas.len();
    let mut segments = vec![0, k / 2, k - 1];
    segments.dedup();
    let h = 1e-5 * omega_max;
    let mut fd = Vec::new();
    for &s in &segments {
        let mut p = omegas.to_vec();
        p[s] += h;
        let wp = control.work(&p)?;
        p[s] -= 2.0 * h;
        let wm = control.work(&p)?;
        fd.push((wp - wm) / (2.0 * h));
    }
    let adjoint: Vec<f64> = segments.iter().map(|&s| grad[s]).collect();
    // at an optimum most components vanish: differences are relative to the gradient's
    // scale, and never below 10⁻⁶ of the natural scale W/W_max (the series' truncation and
    // the differences' rounding live far below it)
    let scale = grad.iter().fold(0.0f64, |a, g| a.max(g.abs()));
    let floor = (1e-3 * scale).max(1e-6 * work.abs().max(1e-3) / omega_max);
    let max_relative_difference =
        adjoint.iter().zip(&fd).map(|(a, f)| (a - f).abs() / a.abs().max(f.abs()).max(floor)).fold(0.0, f64::max);
    Ok(GradientCheck { segments, adjoint, finite_difference: fd, step: h, max_relative_difference })
}

/// Maximises the objective of `spec` over piecewise-constant fields (module docs) for
/// `chain` on the full space (exact, `N ≤ 2x`); `ground_energy` is `ε_min(H0)` where known
/// (for the ergotropy).
///
/// # Errors
/// [`crate::SpinbatError::InvalidParameter`] for a bad `spec`;
/// [`crate::SpinbatError::TooLarge`] when the states do not fit.
pub fn optimize(chain: &Chain, spec: &ControlSpec, ground_energy: Option<f64>) -> Result<Optimized> {
    spec.check()?;
    let mut control = Control::new(chain, spec.charge_time, spec.segments, spec.tol)?;
    optimize_with(&mut control, chain, spec, ground_energy)
}

/// [`optimize`] with the mean field ([`MeanFieldControl`]: the Bloch equations, gradients by
/// their adjoint; any `N` the mean field takes). `ergotropy` is `None` (the quantum notion
/// has no classical counterpart here).
///
/// # Errors
/// As [`optimize`], and [`MeanFieldControl::new`]'s.
pub fn optimize_mean_field(chain: &Chain, spec: &ControlSpec) -> Result<Optimized> {
    spec.check()?;
    let mut control = MeanFieldControl::new(chain, spec.charge_time, spec.segments, spec.tol)?;
    optimize_with(&mut control, chain, spec, None)
}

/// [`optimize`] on any [`ControlModel`] built for `chain` and `spec`.
///
/// # Errors
/// As [`optimize`].
pub fn optimize_with(
    control: &mut impl ControlModel,
    chain: &Chain,
    spec: &ControlSpec,
    ground_energy: Option<f64>,
) -> Result<Optimized> {
    spec.check()?;
    let k = spec.segments;
    let constant = best_constant_field(control, spec.omega_max)?;
    let mut failed = None;
    let mut best: Option<(Vec<f64>, f64)> = None;
    let mut start_work = Vec::with_capacity(spec.starts);
    for m in 0..spec.starts {
        let x0 = if m == 0 {
            vec![constant.omega; k]
        } else {
            let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
            rng.set_stream(m as u64);
            (0..k)
                .map(|_| spec.omega_max * (2.0 * ((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64) - 1.0))
                .collect()
        };
        let f = |x: &[f64]| match control.work_and_gradient(x) {
            Ok(v) => v,
            Err(e) => {
                failed.get_or_insert(e);
                (f64::NEG_INFINITY, vec![0.0; x.len()])
            }
        };
        let (x, w) = projected_lbfgs(f, x0, spec.omega_max, spec.max_iterations);
        if let Some(e) = failed.take() {
            return Err(e);
        }
        start_work.push(w);
        if best.as_ref().is_none_or(|b| w > b.1) {
            best = Some((x, w));
        }
    }
    let (omegas, work) = best.expect("at least one start");
    let gradient_check = gradient_check(control, &omegas, spec.omega_max)?;
    let e0 = chain.initial_energy();
    Ok(Optimized {
        objective: spec.objective,
        work,
        power: work / spec.charge_time,
        ergotropy: ground_energy.map(|eg| work + e0 - eg),
        schedule: Schedule::uniform(spec.charge_time, omegas)?,
        constant_field: constant,
        gradient_check,
        start_work,
        evaluations: control.evaluations(),
    })
}
