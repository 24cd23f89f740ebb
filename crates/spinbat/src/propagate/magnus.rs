//! Charging with a periodic drive `ω(t) = ω + A cos(νt)` ([`crate::model::Drive`]) in the
//! exact methods: a commutator-free Magnus integrator of order 4 with step doubling.
//!
//! **CFET4:2** (Alvermann & Fehske, J. Comput. Phys. 230, 5930 (2011); Blanes & Moan
//! 2006): one step of length `δ` from `t` is
//!
//! `U(t + δ, t) ≈ exp(−iδ(a H_1 + b H_2)) exp(−iδ(b H_1 + a H_2))`,
//! `a = 1/4 − √3/6`, `b = 1/4 + √3/6`,
//!
//! with `H_j = H(t + c_j δ)` at the Gauss–Legendre nodes `c_{1,2} = 1/2 ∓ √3/6` (the
//! right-hand exponential acts first). By BCH the product's exponent is
//! `−iδ(H_1 + H_2)/2 + (b − a)(a + b)δ²/2 [H_1, H_2] + O(δ⁵)`, the fourth-order Magnus
//! exponent `−iδ(H_1 + H_2)/2 + (√3/12) δ² [H_1, H_2]` exactly when `a + b = 1/2` and
//! `b − a = √3/3`. Since `H(t) = H_g + ω(t) V1` (`V1 = Σ_i X_i`), `a + b = 1/2` gives
//! `a H_1 + b H_2 = (H_g + (2aω_1 + 2bω_2) V1)/2`: each exponential is the *static*
//! propagator over `δ/2` with an effective constant field,
//!
//! `ω_first = 2(b ω_1 + a ω_2)`, `ω_second = 2(a ω_1 + b ω_2)`,
//!
//! so each is one [`SegmentMethod::evolve`] of a field schedule (Chebyshev on any space,
//! dense exponentials): no scaled time, no new kernel. `W`, `W'` at a step end are measured
//! under the true `ω(t)` ([`SegmentMethod::measure`]); every requested time is a step end.
//!
//! **Error control (an estimate).** Each step is taken twice: once as one step of `δ`
//! (coarse) and once as two steps of `δ/2` (fine); the fine state is kept, and the
//! distance between the two, minimised over a global phase (the Chebyshev methods shift
//! `H` by a field-dependent centre), `e_n = min_θ ‖ψ_coarse − e^{iθ}ψ_fine‖`, estimates
//! its local error (asymptotically `e_n ≈ 15` times the fine local error, `δ⁵` against
//! `2(δ/2)⁵`). The step is chosen so that `e_n ≤ ε_ψ δ / t_ref`,
//! `ε_ψ = tol / (2‖H0 − E_0‖)` and `t_ref` the window ([`Propagator::expect_until`]), and
//! is grown or shrunk by `0.9 (ε_ψ δ / (t_ref e_n))^{1/5}`; a difference below
//! [`STEP_ERROR_FLOOR`] (rounding) is accepted whatever the budget, and the step then grows. The state-error estimate is
//! `Σ_n e_n` (unitary steps carry earlier errors unchanged in norm), and the work's
//! `step_error_estimate = 2‖H0 − E_0‖ Σ_n e_n` (`|ΔW| ≤ 2‖A‖ ‖Δψ‖` for unit states). It is
//! an estimate, not a bound (step doubling assumes the asymptotic regime); the
//! exponentials' own truncation bounds add to it ([`SegmentMethod::error_bound`]).
//! Tested against products of fine-step dense exponentials (`tests/contract/drive.rs`).
//!
//! Cost: six exponentials of length `δ/2` or `δ/4` a step; in Chebyshev each restarts the
//! series (`≈ 15` terms beyond `rδ/2`).

use super::checkpoint::Saved;
use super::method::{check_times, protocol_scan_step, protocol_work_bound, Propagator, WorkSample};
use super::schedule::SegmentMethod;
use crate::error::Result;
use crate::model::{Chain, Drive, Protocol};
use crate::operator::Operators;
use num_complex::Complex64;

/// The CFET4:2 weights `a = 1/4 − √3/6` (the earlier node's share in the second
/// exponential) and `b = 1/4 + √3/6` (module docs).
pub const CFET4_WEIGHTS: (f64, f64) = (0.25 - 0.288_675_134_594_812_9, 0.25 + 0.288_675_134_594_812_9);

/// The Gauss–Legendre nodes `c_{1,2} = 1/2 ∓ √3/6` of a step.
pub const CFET4_NODES: (f64, f64) = (0.5 - 0.288_675_134_594_812_9, 0.5 + 0.288_675_134_594_812_9);

/// The effective constant fields `(ω_first, ω_second)` of the two exponentials of a CFET4:2
/// step of length `delta` from `t` under `drive`: `ω_first = 2(b ω(t + c_1δ) + a ω(t + c_2δ))`
/// acts first, then `ω_second = 2(a ω(t + c_1δ) + b ω(t + c_2δ))`, each for `δ/2`.
pub fn cfet4_fields(drive: &Drive, t: f64, delta: f64) -> (f64, f64) {
    let (a, b) = CFET4_WEIGHTS;
    let w1 = drive.omega_at(t + CFET4_NODES.0 * delta);
    let w2 = drive.omega_at(t + CFET4_NODES.1 * delta);
    (2.0 * (b * w1 + a * w2), 2.0 * (a * w1 + b * w2))
}

/// Smallest step the controller takes, relative to the scan step: below it the step is
/// accepted whatever its estimate (which then exceeds the budget and is reported).
const MIN_STEP_FRACTION: f64 = 1e-6;

/// The step-doubling difference below which a step counts as exact to rounding (`≈ 500
/// ε_mach` in the state's norm; the exponentials run at `10⁻³ tol`, [`EXPONENTIAL_TOL`],
/// so their truncation stays below it or far below the budget): such steps are accepted
/// whatever the budget (their `e_n` still enters the estimate).
pub const STEP_ERROR_FLOOR: f64 = 1e-13;

/// The tolerance of each exponential relative to the drive's `tol`: its truncation must
/// stay well below the step-doubling differences it would otherwise be mistaken for.
pub const EXPONENTIAL_TOL: f64 = 1e-3;

/// A state where the integration stands, with the step-error estimate accumulated to it.
#[derive(Clone)]
struct Point {
    saved: Saved<Vec<Complex64>>,
    /// `Σ e_n` of the steps that led here (module docs)
    est: f64,
}

/// A [`Propagator`] for a periodic drive by CFET4:2 with step doubling over a
/// [`SegmentMethod`] (module docs).
pub struct Driven<M: SegmentMethod> {
    method: M,
    drive: Drive,
    protocol: Protocol,
    tol: f64,
    /// `‖H0 − E_0‖ ≤ 2 ‖H0‖` bound
    work_op_norm: f64,
    /// the window the error budget is spread over
    t_ref: f64,
    /// the step the controller proposes next
    step: f64,
    min_step: f64,
    current: Point,
    anchor: Option<Point>,
    /// the largest `2‖H0 − E_0‖ Σ e_n` at a sample so far
    max_work_est: f64,
    steps: u64,
    rejected: u64,
}

impl<M: SegmentMethod> Driven<M> {
    /// Charges `chain` under `drive` by `method`, from all-down at `t = 0`, with the
    /// tolerance `tol` on `W` spread over the window (module docs).
    pub fn new(method: M, chain: &Chain, drive: Drive, tol: f64) -> Self {
        let protocol = Protocol::Drive(drive);
        let scan = protocol_scan_step(chain, &protocol);
        let current = Point { saved: Saved { t: 0.0, err: 0.0, state: method.initial() }, est: 0.0 };
        Driven {
            method,
            drive,
            protocol,
            tol,
            work_op_norm: 2.0 * Operators::h0_norm_bound(chain).max(1e-300),
            t_ref: 1.0,
            step: scan,
            min_step: scan * MIN_STEP_FRACTION,
            current,
            anchor: None,
            max_work_est: 0.0,
            steps: 0,
            rejected: 0,
        }
    }

    /// The method.
    pub fn method(&self) -> &M {
        &self.method
    }

    /// Accepted and rejected steps so far.
    pub fn steps(&self) -> (u64, u64) {
        (self.steps, self.rejected)
    }

    /// The work's step-error estimate so far, `max 2‖H0 − E_0‖ Σ e_n` over the samples
    /// (module docs): an estimate of the time-discretisation error, not a bound.
    pub fn step_error_estimate(&self) -> f64 {
        self.max_work_est
    }

    /// The state where the integration stands (the method's rows, up to a global phase).
    pub fn state(&self) -> &Saved<Vec<Complex64>> {
        &self.current.saved
    }

    /// One CFET4:2 step of `delta` from `from` (two exponentials of `δ/2`).
    fn cfet4(&mut self, from: Saved<Vec<Complex64>>, delta: f64) -> Result<Saved<Vec<Complex64>>> {
        let t = from.t;
        let (first, second) = cfet4_fields(&self.drive, t, delta);
        let mid = t + 0.5 * delta;
        let (_, half) = self.method.evolve(first, from, &[], mid)?;
        let (_, end) = self.method.evolve(second, half, &[], t + delta)?;
        Ok(end)
    }

    /// `min_θ ‖a − e^{iθ} b‖` in the method's metric, computed from the difference itself
    /// (no cancellation).
    fn distance(&self, a: &[Complex64], b: &[Complex64]) -> f64 {
        let overlap = self.method.inner(b, a);
        let phase = if overlap.norm() > 0.0 { overlap / overlap.norm() } else { Complex64::new(1.0, 0.0) };
        let diff: Vec<Complex64> = a.iter().zip(b).map(|(x, y)| x - phase * y).collect();
        self.method.inner(&diff, &diff).re.max(0.0).sqrt()
    }

    /// Integrates from the current point to `target` (`≥` the current time), every step
    /// doubled and controlled (module docs); the last step ends on `target` exactly.
    fn advance(&mut self, target: f64) -> Result<()> {
        let eps_rate = self.tol / (2.0 * self.work_op_norm) / self.t_ref;
        let mut rejected_here = false;
        while self.current.saved.t < target {
            let t = self.current.saved.t;
            let left = target - t;
            let truncated = self.step >= left;
            let delta = if truncated { left } else { self.step };
            let coarse = self.cfet4(self.current.saved.clone(), delta)?;
            let half = self.cfet4(self.current.saved.clone(), 0.5 * delta)?;
            let mut fine = self.cfet4(half, 0.5 * delta)?;
            fine.t = if truncated { target } else { t + delta };
            let e = self.distance(&coarse.state, &fine.state);
            // at the floor of rounding a step is accepted whatever the budget: shrinking it
            // would not lower e, only take more steps
            let allowed = (eps_rate * delta).max(STEP_ERROR_FLOOR);
            // grow or shrink by the fifth root (local error δ⁵); no growth right after a
            // rejection
            let cap = if rejected_here { 1.0 } else { 2.0 };
            let factor = if e > 0.0 { (0.9 * (allowed / e).powf(0.2)).clamp(0.2, cap) } else { cap };
            if e > allowed && delta > self.min_step {
                self.rejected += 1;
                rejected_here = true;
                self.step = (delta * factor).max(self.min_step);
                continue;
            }
            self.steps += 1;
            rejected_here = false;
            self.current = Point { saved: fine, est: self.current.est + e };
            if !truncated || factor < 1.0 {
                self.step = (delta * factor).max(self.min_step);
            }
        }
        Ok(())
    }

    /// Moves back to the anchor or to `t = 0` if `t` is before the current time.
    fn resume_for(&mut self, t: f64) {
        if t >= self.current.saved.t {
            return;
        }
        self.current = match &self.anchor {
            Some(a) if a.saved.t <= t => a.clone(),
            _ => Point { saved: Saved { t: 0.0, err: 0.0, state: self.method.initial() }, est: 0.0 },
        };
    }
}

impl<M: SegmentMethod> Propagator for Driven<M> {
    fn name(&self) -> &'static str {
        self.method.name()
    }

    fn sample(&mut self, times: &[f64]) -> Result<Vec<WorkSample>> {
        check_times(times)?;
        let Some(&first) = times.first() else {
            return Ok(Vec::new());
        };
        self.resume_for(first);
        let mut out = Vec::with_capacity(times.len());
        for &t in times {
            self.advance(t)?;
            let at = std::mem::replace(&mut self.current.saved, Saved { t: 0.0, err: 0.0, state: Vec::new() });
            let (sample, at) = self.method.measure(self.drive.omega_at(t), at)?;
            self.current.saved = at;
            self.max_work_est = self.max_work_est.max(2.0 * self.work_op_norm * self.current.est);
            out.push(sample);
        }
        Ok(out)
    }

    fn anchor(&mut self, t: f64) -> Result<()> {
        check_times(&[t])?;
        self.resume_for(t);
        self.advance(t)?;
        self.anchor = Some(self.current.clone());
        Ok(())
    }

    fn anchor_if_at_hand(&mut self, t: f64) -> Result<()> {
        if self.current.saved.t == t {
            self.anchor = Some(self.current.clone());
        }
        Ok(())
    }

    fn expect_until(&mut self, t: f64) {
        if t > 0.0 && t.is_finite() {
            self.t_ref = t;
        }
    }

    /// [`protocol_work_bound`]: for a drive the spectral bound `λ_max(H_g) + G` (the
    /// field's total variation grows without end); [`Propagator::certify_time`] adds the
    /// time-dependent bound.
    fn work_bound(&self, chain: &Chain) -> f64 {
        protocol_work_bound(chain, &self.protocol, self.method.h_g_max())
    }

    fn certify_time(&self, chain: &Chain, power: f64) -> f64 {
        super::method::protocol_certify_time(chain, &self.protocol, self.method.h_g_max(), power)
    }

    fn scan_step(&self, chain: &Chain) -> f64 {
        protocol_scan_step(chain, &self.protocol)
    }

    fn error_bound(&self) -> f64 {
        self.method.error_bound() + self.max_work_est
    }

    fn accuracy_note(&self) -> String {
        format!(
            "periodic drive by commutator-free Magnus CFET4:2 with step doubling ({} steps, {} rejected): \
             step-error estimate {:.1e} on W (an estimate, not a bound) plus the {} exponentials' {:.1e}",
            self.steps,
            self.rejected,
            self.max_work_est,
            self.method.name(),
            self.method.error_bound()
        )
    }

    fn drive_step_error_estimate(&self) -> Option<f64> {
        Some(self.max_work_est)
    }
}
