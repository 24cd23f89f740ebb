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
//! * [`bloch`]: the model (right-hand side, energies, rate), one mean-field product
//!   `M = G S` plus `O(N)` per evaluation;
//! * [`toeplitz`](crate::numeric::toeplitz): the `O(N log N)` FFT product for couplings that depend only on `|i − j|`;
//! * [`dop853`](crate::numeric::dop853): the generic adaptive Dormand–Prince 8(5,3) integrator;
//! * [`MeanField`]: the [`Propagator`] built from them.
//!
//! **Cost.** `12` right-hand-side evaluations per step, each one mean-field product:
//! `O(N log N)` by FFT for nearest-neighbour and power-law couplings (open or periodic,
//! from `N = 24` on), `O(N²)` with the dense matrix otherwise ([`bloch::ProductKind`]);
//! plus `O(N)` of integrator arithmetic. The number of steps grows like
//! `t · (ω + max(1,|α|) Σ_j g_mj) · tol^{−1/8}`. Memory: `≈ 570 N` bytes on the FFT path
//! (the integrator's `14` state vectors of `3N` doubles dominate), `8N²` more for the
//! dense matrix ([`bytes_needed`]). Nothing is allocated per step.
//!
//! **Error control.** The integrator holds the local error of every step at
//! `σ` per component (`atol = rtol = σ`, see [`dop853`](crate::numeric::dop853)), with
//! `σ = 10⁻³ · tol / (2 √(3N) · Γ)` clamped to `[10⁻¹⁴, 10⁻³]`, where
//! `Γ = √(Σ_m (|B| + max(1,|α|) Σ_j g_mj)²)` bounds the gradient of `E0`
//! ([`bloch::BlochModel::gradient_bound`]): each step then moves `W` by at most about
//! `10⁻³ tol` (for large `N` the clamp at `10⁻¹⁴` takes over, and the error grows like
//! `Γ ∝ N`). [`Propagator::error_bound`] reports, for the path from `0` to each returned
//! time `t`,
//! `Γ (Σ local error estimates + t ‖δṠ‖) + ½ max(1,|α|) √N ‖δM‖ + 4.4·10⁻¹⁶ Σ_m b_m`:
//! the accepted local error estimates, the rounding `‖δṠ‖` of the right-hand side
//! integrated over time ([`bloch::BlochModel::rhs_rounding`]; for the FFT product
//! `‖δM‖₂ ≲ 2 ε log₂L (‖c‖₁ + ‖c‖₂) √N`, `L ≈ 2N`, see [`toeplitz`](crate::numeric::toeplitz)) and the rounding of
//! `E0` itself. It is an *estimate* of the error on `W` (the Bloch flow rotates state
//! errors rather than amplifying them, but it is not a rigorous bound). Nothing is
//! renormalised: `|S_m| = 1` and `H_C` are conserved only to the accuracy of the
//! integration, which the contract tests check, together with the closed forms above to
//! `10⁻⁹` at the default `tol = 10⁻¹⁰`, agreement with the quantum solver where both are
//! exact, agreement of the FFT and dense products, and that a smaller `tol` gives a
//! smaller error.

pub mod bloch;

use crate::error::{invalid, Result};
use crate::model::{Chain, Protocol};
use crate::numeric::dop853::{Dop853, Dop853Stats};
use crate::propagate::checkpoint::{Checkpoint, Resume};
use crate::propagate::{check_times, Propagator, WorkSample};
pub use bloch::{BlochModel, ProductKind};

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
    /// the anchor (time, local-error sum, state); the base is the all-down start
    checkpoint: Checkpoint<Vec<[f64; 3]>>,
    max_err: f64,
    /// `ω(t)` (the chain's constant `ω` unless [`MeanField::with_protocol`])
    protocol: Protocol,
}

impl MeanField {
    /// Sets up the all-down state `S_m = (0, 0, −1)` at `t = 0`. `tol` is the target
    /// absolute error on `W` (units of `B`); see the module docs for how it sets the
    /// integrator's tolerance.
    ///
    /// # Errors
    /// [`crate::SpinbatError::InvalidParameter`] when `tol` is not a finite number `> 0`.
    pub fn new(chain: &Chain, tol: f64) -> Result<Self> {
        Self::with_product(chain, tol, ProductKind::Auto)
    }

    /// As [`MeanField::new`], with the mean-field product chosen by `kind`
    /// ([`ProductKind::Auto`]: FFT for couplings that depend only on `|i − j|` from
    /// `N = 24` on, the dense matrix otherwise).
    ///
    /// # Errors
    /// [`crate::SpinbatError::InvalidParameter`] when `tol` is not a finite number `> 0`,
    /// or for [`ProductKind::Fft`] on an explicit coupling matrix.
    pub fn with_product(chain: &Chain, tol: f64, kind: ProductKind) -> Result<Self> {
        if !(tol.is_finite() && tol > 0.0) {
            return Err(invalid("tol", tol, "must be a finite number > 0"));
        }
        let model = BlochModel::with_product(chain, kind)?;
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
            checkpoint: Checkpoint::initial(),
            max_err: 0.0,
            protocol: Protocol::Constant(chain.omega()),
        })
    }

    /// Charges with the time-dependent field `ω(t)` of `protocol` instead of the chain's
    /// constant `ω`: the Bloch equations with `ω(t)` in `H_C`, integrated piece by piece
    /// ([`Protocol::breaks`]: the integrator stops at every jump of a schedule and starts
    /// the next segment afresh, so no step straddles a jump; a smooth drive is integrated
    /// as it is, DOP853 controlling its error). Samples past a schedule's end are refused.
    pub fn with_protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = protocol;
        self.restart();
        self.checkpoint.clear_anchor();
        self
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
            match self.checkpoint.resume_for(t) {
                Resume::Saved(a) => {
                    self.s.copy_from_slice(&a.state);
                    self.t = a.t;
                    self.integ.set_local_error_sum(a.err);
                }
                Resume::Initial => self.restart(),
            }
        }
        let (model, protocol) = (&self.model, &self.protocol);
        while self.t < t {
            // the piece ahead of the current time: at a jump t_k, the next one
            let mut piece = protocol.piece_of(self.t);
            if protocol.breaks().get(piece).is_some_and(|&b| b <= self.t) {
                piece += 1;
            }
            let stop = protocol.breaks().get(piece).copied().filter(|&b| b < t).unwrap_or(t);
            let mut rhs = |tt: f64, y: &[f64], d: &mut [f64]| model.rhs_with(protocol.omega_in(piece, tt), y, d);
            self.integ.advance(&mut rhs, &mut self.t, self.s.as_flattened_mut(), stop)?;
        }
        Ok(())
    }

    fn observe(&mut self) -> WorkSample {
        let s = self.s.as_flattened();
        let err = self.grad_bound * (self.integ.local_error_sum() + self.t * self.model.rhs_rounding())
            + self.model.energy_rounding()
            + ROUNDING * self.energy_scale;
        self.max_err = self.max_err.max(err);
        let omega = self.protocol.omega_in(self.protocol.piece_of(self.t), self.t);
        WorkSample {
            t: self.t,
            work: self.model.storage_energy(s) - self.e_init,
            rate: self.model.work_rate_with(omega, s),
        }
    }
}

impl Propagator for MeanField {
    fn name(&self) -> &'static str {
        "mean-field"
    }

    fn sample(&mut self, times: &[f64]) -> Result<Vec<WorkSample>> {
        check_times(times)?;
        crate::propagate::check_within(times, self.protocol.end())?;
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
        self.checkpoint.keep_anchor(self.t, self.integ.local_error_sum(), &self.s);
        Ok(())
    }

    fn work_bound(&self, chain: &Chain) -> f64 {
        crate::propagate::protocol_work_bound(chain, &self.protocol, chain.h_g_max_bound())
    }

    fn scan_step(&self, chain: &Chain) -> f64 {
        crate::propagate::protocol_scan_step(chain, &self.protocol)
    }

    fn end_time(&self) -> Option<f64> {
        self.protocol.end()
    }

    fn error_bound(&self) -> f64 {
        self.max_err
    }

    fn accuracy_note(&self) -> String {
        let product = match self.model.product_kind() {
            ProductKind::Fft => "FFT (Toeplitz) mean field",
            _ => "dense mean field",
        };
        format!(
            "DOP853 local error <= {:.1e} per Bloch component and step, {product}; |dW| estimated as |grad E0| x (sum of local error estimates + rounding) = {:.1e} so far (an estimate, not a bound)",
            self.state_tol, self.max_err
        )
    }
}

/// Bytes the mean-field propagator needs for `chain` (estimate): the model
/// ([`BlochModel::bytes_needed`]: `8N²` for the dense matrix, `≈ 180 N` for the FFT
/// product), DOP853's `14` vectors of `3N` doubles plus the state and the anchor
/// (`384 N`), and `1 MB` of fixed overhead. Measured peak RSS at `N = 10⁶`, power law:
/// within 2 % of this.
pub fn bytes_needed(chain: &Chain) -> f64 {
    let n = chain.n_sites() as f64;
    BlochModel::bytes_needed(chain) + (14.0 + 2.0) * 24.0 * n + 1e6
}
