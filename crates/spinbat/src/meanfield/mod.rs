//! Classical mean-field model of the battery (paper Sec. IV), solved with an adaptive
//! DOP853 integrator.
//!
//! Each spin `m` is a unit Bloch vector `S_m = (x_m, y_m, z_m)`, all starting at
//! `(0, 0, −1)`. While charging they follow `dS_m/dt = 2 (∂H_C/∂S_m) × S_m` with
//! `H_C = −Σ_{i<j} g_ij [z_i z_j + α (x_i x_j + y_i y_j)] + ω Σ_i x_i` (the field `B` is
//! off, as in the quantum problem). The classical work is
//! `W_C(t) = E0(S(t)) − E0(S(0))`, `E0(S) = B Σ_i z_i − Σ_{i<j} g_ij [z_i z_j + α(x_i x_j + y_i y_j)]`,
//! and its rate `W_C'(t) = Σ_m ∇_{S_m}E0 · dS_m/dt` is computed from the state, not by
//! differences. Units: `ħ = 1`, energies in units of `B`, times in units of `1/B`.
//! Closed forms it reproduces: one spin, `g = 0` or `α = 1` (XXX, any couplings) give
//! `W_C = 2BN sin²(ωt)`, like the quantum model.
//!
//! * [`bloch`]: the model (right-hand side, energies, rate), `O(N²)` per evaluation;
//! * [`dop853`]: the generic adaptive Dormand–Prince 8(5,3) integrator;
//! * [`MeanField`]: the [`Propagator`] built from the two.
//!
//! **Cost.** `12` right-hand-side evaluations of `O(N²)` per step; the number of steps
//! grows like `t · (ω + Σ_j g_mj) · tol^{−1/8}`. Memory `O(N²)` (the dense `g_ij`).
//!
//! **Error control.** The integrator holds the local error of every step at
//! `σ` per component (`atol = rtol = σ`, see [`dop853`]), with
//! `σ = 10⁻³ · tol / (2 √(3N) · Γ)` clamped to `[10⁻¹⁴, 10⁻³]`, where
//! `Γ = √(Σ_m (|B| + max(1,|α|) Σ_j g_mj)²)` bounds the gradient of `E0`
//! ([`bloch::BlochModel::gradient_bound`]): each step then moves `W` by at most about
//! `10⁻³ tol`. [`Propagator::error_bound`] reports `Γ` times the sum of the accepted
//! local error estimates along the path to each returned time (plus rounding), an
//! *estimate* of the error on `W` (the Bloch flow rotates state errors rather than
//! amplifying them, but it is not a rigorous bound). Nothing is renormalised: `|S_m| = 1`
//! and `H_C` are conserved only to the accuracy of the integration, which the contract
//! tests check, together with the closed forms above to `10⁻⁹` at the default
//! `tol = 10⁻¹⁰`, agreement with the quantum solver where both are exact, and that a
//! smaller `tol` gives a smaller error.

pub mod bloch;
pub mod dop853;

use crate::error::{invalid, Result};
use crate::model::Chain;
use crate::propagate::{check_times, Propagator, WorkSample};
use bloch::BlochModel;
use dop853::{Dop853, Dop853Stats};

/// Fraction of `tol` one step may spend (estimated), see the module docs.
const STEP_FRACTION: f64 = 1e-3;
/// Smallest per-component local tolerance (below it rounding makes the error estimate
/// meaningless).
const MIN_STATE_TOL: f64 = 1e-14;
/// Largest per-component local tolerance.
const MAX_STATE_TOL: f64 = 1e-3;
/// Relative rounding error of evaluating `E0`.
const ROUNDING: f64 = 4.4e-16;

/// Mean-field propagator: classical Bloch vectors integrated with DOP853.
///
/// Samples are computed by integrating forward from the current time; earlier times
/// are reached from the anchor ([`Propagator::anchor`]) or by restarting at `t = 0`.
#[derive(Debug, Clone)]
pub struct MeanField {
    model: BlochModel,
    integ: Dop853,
    state_tol: f64,
    grad_bound: f64,
    energy_scale: f64,
    e_init: f64,
    /// current state and its time; the path's local-error sum lives in `integ`
    s: Vec<[f64; 3]>,
    t: f64,
    /// anchored time, local-error sum and state
    anchor: Option<(f64, f64, Vec<[f64; 3]>)>,
    max_err: f64,
}

impl MeanField {
    /// Sets up the all-down state `S_m = (0, 0, −1)` at `t = 0`. `tol` is the target
    /// absolute error on `W` (units of `B`); see the module docs for how it sets the
    /// integrator's tolerance.
    ///
    /// # Errors
    /// [`crate::SpinbatError::InvalidParameter`] when `tol` is not a finite number `> 0`.
    pub fn new(chain: &Chain, tol: f64) -> Result<Self> {
        if !(tol.is_finite() && tol > 0.0) {
            return Err(invalid("tol", tol, "must be a finite number > 0"));
        }
        let model = BlochModel::new(chain);
        let n = model.n_sites();
        let grad_bound = model.gradient_bound().max(1e-300);
        let state_tol =
            (STEP_FRACTION * tol / (2.0 * (3.0 * n as f64).sqrt() * grad_bound)).clamp(MIN_STATE_TOL, MAX_STATE_TOL);
        let integ = Dop853::new(3 * n, state_tol, state_tol)?;
        let s = model.initial_state();
        let e_init = model.storage_energy(s.as_flattened());
        Ok(MeanField {
            energy_scale: model.energy_scale(),
            model,
            integ,
            state_tol,
            grad_bound,
            e_init,
            s,
            t: 0.0,
            anchor: None,
            max_err: 0.0,
        })
    }

    /// The Bloch vectors `S_m = (x_m, y_m, z_m)` at the current time [`MeanField::time`]
    /// (the last time sampled or anchored).
    pub fn bloch_vectors(&self) -> &[[f64; 3]] {
        &self.s
    }

    /// The current time (units `1/B`).
    pub fn time(&self) -> f64 {
        self.t
    }

    /// Classical charging energy `H_C` of the current state (constant in time up to the
    /// integration error).
    pub fn charging_energy(&self) -> f64 {
        self.model.charging_energy(self.s.as_flattened())
    }

    /// Classical storage energy `E0(S)` of the current state (`W = E0(S) − E0(S(0))`).
    pub fn storage_energy(&self) -> f64 {
        self.model.storage_energy(self.s.as_flattened())
    }

    /// The Bloch model being integrated.
    pub fn model(&self) -> &BlochModel {
        &self.model
    }

    /// Local error tolerance per state component and step (`atol = rtol`).
    pub fn state_tolerance(&self) -> f64 {
        self.state_tol
    }

    /// Steps and right-hand-side evaluations so far.
    pub fn stats(&self) -> Dop853Stats {
        self.integ.stats()
    }

    /// Back to `t = 0` and the all-down state.
    fn restart(&mut self) {
        self.s = self.model.initial_state();
        self.t = 0.0;
        self.integ.reset();
    }

    /// Moves to `t` from wherever is closest behind it: the current state, the anchor or
    /// the start.
    fn go_to(&mut self, t: f64) -> Result<()> {
        if t < self.t {
            match &self.anchor {
                Some((ta, ea, a)) if *ta <= t => {
                    self.s.copy_from_slice(a);
                    self.t = *ta;
                    self.integ.set_local_error_sum(*ea);
                }
                _ => self.restart(),
            }
        }
        let model = &self.model;
        let mut rhs = |_t: f64, y: &[f64], d: &mut [f64]| model.rhs(y, d);
        self.integ.advance(&mut rhs, &mut self.t, self.s.as_flattened_mut(), t)
    }

    fn observe(&mut self) -> WorkSample {
        let s = self.s.as_flattened();
        let err = self.grad_bound * self.integ.local_error_sum() + ROUNDING * self.energy_scale;
        self.max_err = self.max_err.max(err);
        WorkSample { t: self.t, work: self.model.storage_energy(s) - self.e_init, rate: self.model.work_rate(s) }
    }
}

impl Propagator for MeanField {
    fn name(&self) -> &'static str {
        "mean-field"
    }

    fn sample(&mut self, times: &[f64]) -> Result<Vec<WorkSample>> {
        check_times(times)?;
        let mut out = Vec::with_capacity(times.len());
        for &t in times {
            self.go_to(t)?;
            out.push(self.observe());
        }
        Ok(out)
    }

    fn anchor(&mut self, t: f64) -> Result<()> {
        check_times(&[t])?;
        self.go_to(t)?;
        let e = self.integ.local_error_sum();
        match &mut self.anchor {
            Some((ta, ea, a)) => {
                a.copy_from_slice(&self.s);
                *ta = self.t;
                *ea = e;
            }
            None => self.anchor = Some((self.t, e, self.s.clone())),
        }
        Ok(())
    }

    fn error_bound(&self) -> f64 {
        self.max_err
    }

    fn accuracy_note(&self) -> String {
        format!(
            "DOP853 local error <= {:.1e} per Bloch component and step; |dW| estimated as |grad E0| x sum of local error estimates = {:.1e} so far (an estimate, not a bound)",
            self.state_tol, self.max_err
        )
    }
}
