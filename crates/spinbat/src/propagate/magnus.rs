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
//! dense exponentials): no scaled time, no new kernel. `W`, `W'` are measured under the
//! true `ω(t)` ([`SegmentMethod::measure`]).
//!
//! **Steps from the tolerance, stopped at the samples.** The steps `t_0 = 0 < t_1 < …`
//! follow the controller (below); a step that would pass the next requested time stops
//! there (a shorter step only has a smaller error, and the controller's proposal is kept
//! for the step after), so every sample is a step end. A time inside a step already taken
//! (a request back in time that the kept states do not reach as step ends) is served by a
//! *partial step*: one CFET4:2 step of `s = t − t_k` from the kept state at `t_k`,
//! measured and dropped. Its local error is `C s⁵` where the step of `δ = t_{k+1} − t_k`
//! had `C δ⁵ ≈ (16/15)‖D_k‖`, so it is estimated by `p = (16/15)(s/δ)⁵ (e_k + f_k)`.
//!
//! **Error control (an estimate) and the rounding floor.** Each step is taken twice: once
//! as one step of `δ` (coarse) and once as two steps of `δ/2` (fine); the fine state is
//! kept, and the distance between the two, minimised over a global phase (the Chebyshev
//! methods shift `H` by a field-dependent centre), `e_n = min_θ ‖ψ_coarse − e^{iθ}ψ_fine‖`,
//! is `‖D_n + R_n‖`: `D_n` the discretisation difference (asymptotically `15` times the
//! fine step's error, `δ⁵` against `2(δ/2)⁵`) and `R_n` what rounding and the
//! exponentials' truncation put in, `‖R_n‖ ≤ f_n`, the growth of the two paths' own error
//! bounds over the step (`Saved::err`: Chebyshev `4u` a term plus the tail, dense
//! `ε_mach(2^N + ‖H‖τ)`). The step's discretisation estimate is
//! `d_n = max(e_n − f_n, (e_n + f_n)/15)` ([`resolved_difference`]): the part of the
//! difference rounding cannot explain (still `≈ 15` times the fine error), or, where the
//! difference is within its floor, the largest fine error (`‖D_n‖/15 ≤ (e_n + f_n)/15`)
//! that rounding could hide. A step is accepted when `e_n − f_n ≤ a_n`,
//! `a_n = max(ε_ψ δ / t_ref, f_n)`, `ε_ψ = tol / (2‖H0 − E_0‖)` and `t_ref` the window
//! ([`Propagator::expect_until`]) (then `d_n ≤ a_n`): the budget spread over the window,
//! but never below the step's own floor, since a discretisation error under the rounding
//! the step commits anyway is not worth smaller steps (which would add floors). The next
//! step is `δ · 0.9((a_n + f_n)/e_n)^{1/5}` (within `[0.2, 2]`). The estimate on `W` is
//! `step_error_estimate = 2‖H0 − E_0‖ (Σ_n d_n + p)` (unitary steps carry earlier errors
//! unchanged in norm, `|ΔW| ≤ 2‖A‖ ‖Δψ‖` for unit states), reported beside the floor
//! `2‖H0 − E_0‖ Σ_n f_n` ([`Driven::step_error_floor`]), whose errors are the
//! exponentials' own and bounded in [`SegmentMethod::error_bound`]. It is an estimate, not
//! a bound (step doubling assumes the asymptotic regime). Where it exceeds `tol` the
//! accuracy note says why. Tested against products of fine-step Magnus exponentials on
//! dense matrices (`tests/contract/drive.rs`).
//!
//! Cost: six exponentials of length `δ/2` or `δ/4` a step (samples denser than the
//! tolerance's steps set the step, as they did before the controller), two a partial
//! step; in Chebyshev each restarts the series (`≈ 15` terms beyond `rδ/2`).

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

/// The tolerance of each exponential relative to the drive's `tol`: its truncation must
/// stay well below the step-doubling differences it would otherwise be mistaken for.
pub const EXPONENTIAL_TOL: f64 = 1e-3;

/// The share of a step-doubling difference `e_n` counted as the fine step's error when the
/// difference is not resolved above its floor `f_n` (`e_n ≤ f_n`): the true difference
/// `‖D_n‖ ≤ e_n + f_n` is then unknown below that, and the fine step's error is
/// `≈ ‖D_n‖/15` (module docs).
const UNRESOLVED_SHARE: f64 = 1.0 / 15.0;

/// The discretisation part `d_n` of a step-doubling difference `e_n` whose rounding and
/// truncation are bounded by `f_n` (module docs): `max(e_n − f_n, (e_n + f_n)/15)`.
pub fn resolved_difference(e: f64, floor: f64) -> f64 {
    (e - floor).max((e + floor) * UNRESOLVED_SHARE)
}

/// A state on the integrator's own step grid, with the estimates accumulated to it.
#[derive(Clone)]
struct Point {
    saved: Saved<Vec<Complex64>>,
    /// `Σ d_n` of the steps that led here: the discretisation estimate (module docs)
    est: f64,
    /// `Σ f_n`: what rounding and the exponentials' truncation may put into the differences
    floor: f64,
}

impl Point {
    fn start(state: Vec<Complex64>) -> Point {
        Point { saved: Saved { t: 0.0, err: 0.0, state }, est: 0.0, floor: 0.0 }
    }
}

/// The last accepted step, from `from` to the current point: what a sample inside it is
/// served from (a partial step, module docs).
#[derive(Clone)]
struct Covering {
    from: Point,
    delta: f64,
    /// its step-doubling difference `e_n` and floor `f_n`
    e: f64,
    floor: f64,
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
    /// where the integration stands: a step end
    current: Point,
    /// the step that ended at `current` (`None` at `t = 0` and after a restart)
    covering: Option<Covering>,
    anchor: Option<Point>,
    /// the largest `2‖H0 − E_0‖ (Σ d_n + partial-step estimate)` at a sample so far
    max_work_est: f64,
    /// the largest `2‖H0 − E_0‖ Σ f_n` at a sample so far
    max_work_floor: f64,
    steps: u64,
    rejected: u64,
    partial: u64,
}

impl<M: SegmentMethod> Driven<M> {
    /// Charges `chain` under `drive` by `method`, from all-down at `t = 0`, with the
    /// tolerance `tol` on `W` spread over the window (module docs).
    pub fn new(method: M, chain: &Chain, drive: Drive, tol: f64) -> Self {
        let protocol = Protocol::Drive(drive);
        let scan = protocol_scan_step(chain, &protocol);
        let current = Point::start(method.initial());
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
            covering: None,
            anchor: None,
            max_work_est: 0.0,
            max_work_floor: 0.0,
            steps: 0,
            rejected: 0,
            partial: 0,
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

    /// Partial steps so far: samples served between step ends (module docs).
    pub fn partial_steps(&self) -> u64 {
        self.partial
    }

    /// The work's step-error estimate so far, `max 2‖H0 − E_0‖ (Σ d_n + p)` over the
    /// samples (module docs): an estimate of the time-discretisation error, not a bound.
    pub fn step_error_estimate(&self) -> f64 {
        self.max_work_est
    }

    /// The floor of the step-doubling differences on `W`, `max 2‖H0 − E_0‖ Σ f_n` over the
    /// samples: what rounding and the exponentials' truncation may put into them (those
    /// errors are bounded in the method's own [`SegmentMethod::error_bound`]).
    pub fn step_error_floor(&self) -> f64 {
        self.max_work_floor
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

    /// Integrates step by step until the current step end reaches `target` (the last step
    /// stops there), every step doubled and controlled (module docs).
    fn advance_past(&mut self, target: f64) -> Result<()> {
        let eps_rate = self.tol / (2.0 * self.work_op_norm) / self.t_ref;
        let mut rejected_here = false;
        while self.current.saved.t < target {
            let from = self.current.clone();
            let t = from.saved.t;
            // a step that would pass the target stops there: the sample is a step end
            // (a shorter step only has a smaller error), and the proposal is kept
            let truncated = t + self.step > target;
            let delta = if truncated { target - t } else { self.step };
            let coarse = self.cfet4(from.saved.clone(), delta)?;
            let half = self.cfet4(from.saved.clone(), 0.5 * delta)?;
            let fine = self.cfet4(half, 0.5 * delta)?;
            let e = self.distance(&coarse.state, &fine.state);
            // the exponentials' own error bounds (rounding, truncation) of both paths
            let floor = (coarse.err - from.saved.err).max(0.0) + (fine.err - from.saved.err).max(0.0);
            let d = resolved_difference(e, floor);
            // the budget, but no finer than the step's own floor: a discretisation error
            // below the rounding the step commits anyway is not worth smaller steps
            let allowed = (eps_rate * delta).max(floor);
            // grow or shrink by the fifth root (local error δ⁵) towards e_n = allowed + f_n;
            // no growth right after a rejection
            let cap = if rejected_here { 1.0 } else { 2.0 };
            let factor = if e > 0.0 { (0.9 * ((allowed + floor) / e).powf(0.2)).clamp(0.2, cap) } else { cap };
            if e - floor > allowed && delta > self.min_step {
                self.rejected += 1;
                rejected_here = true;
                self.step = (delta * factor).max(self.min_step);
                continue;
            }
            self.steps += 1;
            rejected_here = false;
            let mut end = fine;
            end.t = if truncated { target } else { t + delta };
            self.current = Point { saved: end, est: from.est + d, floor: from.floor + floor };
            self.covering = Some(Covering { from, delta, e, floor });
            let proposal = (delta * factor).max(self.min_step);
            self.step = if truncated && factor >= 1.0 { self.step.max(proposal) } else { proposal };
        }
        Ok(())
    }

    /// The state at `t` with its estimates `(Σ d_n + p, Σ f_n)`: a step end where `t` is
    /// one, else a partial step of `s = t − t_k` from the start `t_k` of the step that
    /// covers `t`, its estimate `p = (16/15)(s/δ)⁵ (e_n + f_n)` from that step's
    /// difference (module docs). Requires `covering.from.t ≤ t ≤ current.t`.
    fn state_at(&mut self, t: f64) -> Result<(Saved<Vec<Complex64>>, f64, f64)> {
        if t == self.current.saved.t {
            return Ok((self.current.saved.clone(), self.current.est, self.current.floor));
        }
        let Some(cover) = self.covering.clone().filter(|c| c.from.saved.t <= t) else {
            return Err(crate::SpinbatError::NotConverged {
                what: "periodic drive",
                reason: format!("no step covers t = {t} (internal error)"),
            });
        };
        if t == cover.from.saved.t {
            return Ok((cover.from.saved, cover.from.est, cover.from.floor));
        }
        let s = t - cover.from.saved.t;
        self.partial += 1;
        let mut at = self.cfet4(cover.from.saved.clone(), s)?;
        at.t = t;
        let p = 16.0 / 15.0 * (s / cover.delta).powi(5) * (cover.e + cover.floor);
        Ok((at, cover.from.est + p, cover.from.floor))
    }

    /// Moves back to the anchor or to `t = 0` if `t` is before what the current step
    /// covers.
    fn resume_for(&mut self, t: f64) {
        let covered_from = self.covering.as_ref().map_or(self.current.saved.t, |c| c.from.saved.t);
        if t >= covered_from {
            return;
        }
        self.current = match &self.anchor {
            Some(a) if a.saved.t <= t => a.clone(),
            _ => Point::start(self.method.initial()),
        };
        self.covering = None;
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
            self.advance_past(t)?;
            let (at, est, floor) = self.state_at(t)?;
            let (sample, _) = self.method.measure(self.drive.omega_at(t), at)?;
            self.max_work_est = self.max_work_est.max(2.0 * self.work_op_norm * est);
            self.max_work_floor = self.max_work_floor.max(2.0 * self.work_op_norm * floor);
            out.push(sample);
        }
        Ok(out)
    }

    /// Anchors at the last step end at or before `t` (a step end, so that a restart
    /// there continues the same integration).
    fn anchor(&mut self, t: f64) -> Result<()> {
        check_times(&[t])?;
        self.resume_for(t);
        self.advance_past(t)?;
        self.anchor_if_at_hand(t)
    }

    fn anchor_if_at_hand(&mut self, t: f64) -> Result<()> {
        if self.current.saved.t <= t {
            self.anchor = Some(self.current.clone());
        } else if let Some(c) = self.covering.as_ref().filter(|c| c.from.saved.t <= t) {
            self.anchor = Some(c.from.clone());
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
            "periodic drive by commutator-free Magnus CFET4:2 with step doubling ({} steps from the tolerance, \
             {} rejected, {} partial steps to sample times): step-error estimate {:.1e} on W (an estimate, not \
             a bound{}) beside the differences' rounding floor {:.1e}, plus the {} exponentials' {:.1e}",
            self.steps,
            self.rejected,
            self.partial,
            self.max_work_est,
            if self.max_work_est > self.tol {
                "; above tol: the steps' differences are at their rounding floor, which no smaller step lowers"
            } else {
                ""
            },
            self.max_work_floor,
            self.method.name(),
            self.method.error_bound()
        )
    }

    fn drive_step_error_estimate(&self) -> Option<f64> {
        Some(self.max_work_est)
    }

    fn drive_step_error_floor(&self) -> Option<f64> {
        Some(self.max_work_floor)
    }
}
