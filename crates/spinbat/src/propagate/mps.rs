//! The `mps` solver: `W(t)`, `W'(t)` of chains beyond exact diagonalisation from a
//! matrix-product state evolved by two-site TDVP ([`crate::mps::Tdvp`]).
//!
//! `W = ⟨H0⟩ − E_0` and `W' = ⟨R⟩`, `R = i[H, H0]` ([`crate::mps::BatteryMpos`]), are MPO
//! expectations of the state reached at each requested time, which the propagation hits
//! exactly (the steps of an interval `Δ` are `Δ/⌈Δ/δ⌉`, an even number of them).
//!
//! **Accuracy: an estimate, not a bound.** Beside the run with step `δ` a second one runs
//! with step `2δ` on the same times; the method is second order, so the error of `W` at
//! step `δ` is estimated by Richardson as `|W_δ − W_{2δ}|/3` (the largest over the times
//! served: [`MpsReport::step_error_estimate`]), and the reported `W` and `W'` are the
//! extrapolations `(4X_δ − X_{2δ})/3`, whose leading error cancels (measured: the error of
//! `W_δ` at long-range couplings is `~10⁻⁵` relative at `δ = h/4`, mostly this term).
//!
//! The truncations: an SVD discarding weight `ε_k` replaces the normalised state
//! `√(1 − ε_k) φ + √ε_k χ` (`φ ⊥ χ`) by `φ`, which moves the energy measured at a later
//! time (after the same unitary) by `2√(ε_k(1 − ε_k)) Re⟨φ|(H0 − ⟨H0⟩_φ)|χ⟩ + O(ε_k)`, at most
//! `2√ε_k ΔH0` to first order (Cauchy–Schwarz, `ΔH0` the energy spread of the state measured).
//! Summed with the triangle inequality and `‖H0 − E_0‖` for the spread this is the **bound**
//! `MpsReport::truncation_bound = 2‖H0 − E_0‖ Σ_k √ε_k` (rigorous against TDVP without
//! truncation); the shifts' signs vary from one SVD to the next, and summed as independent
//! they give the **estimate** `MpsReport::truncation_estimate = 2 ΔH0 √(Σ_k ε_k)`, `ΔH0` of the
//! state at each time served (`⟨(H0 − c)²⟩` by the MPO, the largest over the times; measured
//! at `N = 16–20`, default settings: 3–9 times the actual error of `W`, where the bound was
//! `~10³` times it). The MPO fit adds `(1 + 2|α|) Σ|g̃_ij − g_ij| (1 + 2‖H0 − E_0‖ t)` (the
//! storage energy measured with, and the state evolved under, couplings off by that much).
//! [`Propagator::error_bound`] returns step + truncation estimate + fit; the accuracy line
//! calls it an estimate.

use super::method::{
    check_times, Propagator, StatePropagator, StateTap, StateView, StateVisitor, TapOutcome, WorkSample,
};
use crate::error::Result;
use crate::model::Chain;
use crate::mps::{BatteryMpos, Mps, MpsReport, MpsSettings, Tdvp, Truncation, DEFAULT_STEPS_PER_GRID_STEP};
use std::sync::Arc;

/// Bytes of one MPS run: the state (`16 N χ² d`) and its left and right environments
/// (`2 · 16 N χ² D`), twice (the runs at `δ` and `2δ`) and twice again (the anchors).
pub fn bytes_needed(chain: &Chain, settings: &MpsSettings) -> f64 {
    let n = chain.n_sites() as f64;
    let chi = settings.bond_dim.min(1usize << (chain.n_sites().min(40) / 2)) as f64;
    // the MPO's bond: 2 + 3 channels × a rank of at most ~30 (power laws at the cutoff)
    let d_mpo: f64 = if chain.alpha() == 0.0 { 32.0 } else { 92.0 };
    let d_mpo = d_mpo.min(2.0 + 3.0 * n);
    4.0 * 16.0 * n * chi * chi * (2.0 + 2.0 * d_mpo) + 1e6
}

/// Bytes the measurements of a state need beside the run ([`crate::mps::Mps`]'s
/// contractions): the double-layer environment of `⟨H0²⟩` and its intermediate tensors,
/// `~ 3 · 16 χ² D² d`, and the transfer matrices of the populations, `16 (N + 1) χ²`.
pub fn observable_bytes(chain: &Chain, settings: &MpsSettings) -> f64 {
    let n = chain.n_sites() as f64;
    let chi = settings.bond_dim.min(1usize << (chain.n_sites().min(40) / 2)) as f64;
    let d_mpo: f64 = if chain.alpha() == 0.0 { 32.0 } else { 92.0 };
    let d_mpo = d_mpo.min(2.0 + 3.0 * n);
    3.0 * 16.0 * chi * chi * d_mpo * d_mpo * 2.0 + 2.0 * 16.0 * (n + 1.0) * chi * chi
}

/// The states asked for while the work propagates ([`Propagator::tap_states`]).
struct MpsTap {
    tap: StateTap,
    next: usize,
    error: Option<crate::SpinbatError>,
}

impl std::fmt::Debug for MpsTap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MpsTap").field("next", &self.next).finish_non_exhaustive()
    }
}

/// Grid points of the maximum search the MPS propagator takes a request
/// ([`Propagator::batch_capacity`]).
const MPS_REQUEST_POINTS: usize = 4;

/// Discarded weight per SVD allowed where the samples only certify the maximum
/// ([`Propagator::certify_only`]), when the run's own `ε` is smaller.
pub const CERTIFY_TRUNCATION: f64 = 1e-9;

/// A run that only certifies past `from` ([`Propagator::certify_only`]): both runs at the
/// looser [`CERTIFY_TRUNCATION`], their states at `from` kept to return to full accuracy.
#[derive(Debug)]
struct CertifyTail {
    from: f64,
    power: f64,
    fine: Tdvp,
    coarse: Tdvp,
}

/// The MPS propagator (module docs).
#[derive(Debug)]
pub struct MpsPropagator {
    chain: Chain,
    mpos: BatteryMpos,
    h: Arc<crate::mps::Mpo>,
    settings: MpsSettings,
    trunc: Truncation,
    dt: f64,
    now: f64,
    fine: Tdvp,
    coarse: Tdvp,
    anchor: Option<(f64, Tdvp, Tdvp)>,
    step_error: f64,
    max_t: f64,
    /// `‖H0 − E_0‖ ≤ N(|B| + B) + (1 + 2|α|) Σ|g_ij| + G`
    h0_range: f64,
    /// Largest `2 ΔH0 √(Σ_k ε_k)` over the times served (the truncations' estimate).
    truncation_estimate: f64,
    /// States handed out while the work propagates.
    tap: Option<MpsTap>,
    /// Largest estimate of `‖δψ‖` of a state handed out ([`StatePropagator::state_error`]).
    state_error: f64,
    /// Once the maximum search's samples only certify ([`Propagator::certify_only`]): the
    /// time after which they do, and the best power.
    certify: Option<(f64, f64)>,
    /// Where the samples only certify (looser truncation), while they do.
    tail: Option<CertifyTail>,
    /// Where the certifying tail began (kept after it ended), for the report.
    tail_from: Option<f64>,
    /// A tail sample came within its margin: full accuracy from then on.
    tail_refused: bool,
    /// Largest estimate of `|ΔW|` (step + truncation) of a tail sample.
    tail_error: f64,
}

impl MpsPropagator {
    /// The propagator of `chain` with `settings`, from all-down.
    ///
    /// # Errors
    /// [`crate::SpinbatError::InvalidParameter`] for bad settings; those of
    /// [`BatteryMpos::new`] (per-site fields are refused).
    pub fn new(chain: &Chain, settings: MpsSettings) -> Result<MpsPropagator> {
        settings.check()?;
        let mpos = BatteryMpos::new(chain)?;
        let h = Arc::new(mpos.h.clone());
        let trunc = Truncation { max_bond: settings.bond_dim, max_discarded: settings.truncation };
        let dt = settings.time_step.unwrap_or_else(|| super::scan_step(chain) / DEFAULT_STEPS_PER_GRID_STEP);
        let fresh = || Tdvp::new(Mps::all_down(chain.n_sites()), Arc::clone(&h), trunc);
        let (fine, coarse) = (fresh(), fresh());
        let n = chain.n_sites() as f64;
        let h0_range = n * (chain.b().abs() + chain.b())
            + (1.0 + 2.0 * chain.alpha().abs()) * chain.total_abs_coupling()
            + chain.total_coupling().abs();
        Ok(MpsPropagator {
            chain: chain.clone(),
            mpos,
            h,
            settings,
            trunc,
            dt,
            now: 0.0,
            fine,
            coarse,
            anchor: None,
            step_error: 0.0,
            max_t: 0.0,
            h0_range,
            truncation_estimate: 0.0,
            tap: None,
            state_error: 0.0,
            certify: None,
            tail: None,
            tail_from: None,
            tail_refused: false,
            tail_error: 0.0,
        })
    }

    /// `Σ_k √ε_k` over the SVDs of the reported run so far (`ε_k` each one's discarded
    /// weight): the truncations' share of `‖δψ‖` by the triangle inequality.
    pub fn truncation_norm(&self) -> f64 {
        self.fine.discarded_norm()
    }

    /// The time step `δ` of the reported run.
    pub fn time_step(&self) -> f64 {
        self.dt
    }

    /// The state at the current time (the run with step `δ`).
    pub fn state(&self) -> &Mps {
        self.fine.state()
    }

    /// Moves both runs to `t`: from the anchor or from `t = 0` when `t` is behind.
    fn seek(&mut self, t: f64) -> Result<()> {
        if t < self.now {
            // back before a certifying tail: the states restored below are at full accuracy
            if self.tail.as_ref().is_some_and(|tail| t <= tail.from) {
                self.tail = None;
            }
            match &self.anchor {
                Some((ta, f, c)) if *ta <= t => {
                    self.now = *ta;
                    self.fine = f.clone();
                    self.coarse = c.clone();
                }
                _ => {
                    let fresh = || Tdvp::new(Mps::all_down(self.chain.n_sites()), Arc::clone(&self.h), self.trunc);
                    self.now = 0.0;
                    self.fine = fresh();
                    self.coarse = fresh();
                }
            }
        }
        let span = t - self.now;
        if span > 0.0 {
            let coarse_steps = (span / (2.0 * self.dt)).ceil().max(1.0) as usize;
            let dc = span / coarse_steps as f64;
            // the two runs are independent: one thread each (rayon)
            let (coarse, fine) = (&mut self.coarse, &mut self.fine);
            let (rc, rf) = rayon::join(
                || (0..coarse_steps).try_for_each(|_| coarse.step(dc)),
                || (0..2 * coarse_steps).try_for_each(|_| fine.step(0.5 * dc)),
            );
            rc?;
            rf?;
        }
        self.now = t;
        self.max_t = self.max_t.max(t);
        Ok(())
    }

    /// `W` and `W'` extrapolated from the runs with steps `δ` and `2δ`
    /// (`(4X_δ − X_{2δ})/3`), the Richardson estimate `|W_δ − W_{2δ}|/3` of the error of
    /// `W_δ` (which, the leading error cancelled, bounds that of the extrapolation), and
    /// `⟨H0⟩` of the run with step `δ` (for [`MpsPropagator::current_truncation_estimate`]).
    fn measure(&self) -> (f64, f64, f64, f64) {
        let e0 = self.chain.initial_energy();
        let energy = self.fine.state().expectation(&self.mpos.h0).re;
        let w = energy - e0;
        let rate = self.fine.state().expectation(&self.mpos.rate).re;
        let wc = self.coarse.state().expectation(&self.mpos.h0).re - e0;
        let rc = self.coarse.state().expectation(&self.mpos.rate).re;
        ((4.0 * w - wc) / 3.0, (4.0 * rate - rc) / 3.0, (w - wc).abs() / 3.0, energy)
    }

    /// A bound on the truncations' share of `|ΔW|` (against TDVP without truncation):
    /// `2‖H0 − E_0‖ Σ_k √ε_k` (each SVD moves the normalised state by `√ε_k`, the evolution
    /// keeps norms, `|Δ⟨A⟩| ≤ 2‖A‖ ‖δψ‖`), at the latest time reached.
    fn truncation_bound(&self) -> f64 {
        2.0 * self.h0_range * self.fine.discarded_norm()
    }

    /// The MPO fit's share, `(1 + 2|α|) Σ|Δg| (1 + 2‖H0 − E_0‖ t)`.
    fn fit_estimate(&self) -> f64 {
        (1.0 + 2.0 * self.chain.alpha().abs())
            * self.mpos.factors.fit_error_sum()
            * (1.0 + 2.0 * self.h0_range * self.max_t)
    }
}

impl Propagator for MpsPropagator {
    fn name(&self) -> &'static str {
        "mps"
    }

    /// A few grid points a request: TDVP steps through its times one after the other, so
    /// larger requests save nothing, and smaller ones let the maximum search report its
    /// progress (and a long run its estimate) as the steps go, not once at the end.
    fn batch_capacity(&self) -> usize {
        MPS_REQUEST_POINTS
    }

    fn sample(&mut self, times: &[f64]) -> Result<Vec<WorkSample>> {
        check_times(times)?;
        let mut out = Vec::with_capacity(times.len());
        for &t in times {
            // tap times the requests pass without hitting them are served on the way
            while let Some(tt) = self.next_tap_time().filter(|&tt| tt < t && tt >= self.now) {
                let s = self.sample_at(tt)?;
                self.serve_tap(&s);
            }
            let s = self.sample_at(t)?;
            if self.next_tap_time() == Some(t) {
                self.serve_tap(&s);
            }
            out.push(s);
        }
        Ok(out)
    }

    fn tap_states(&mut self, tap: StateTap) -> std::result::Result<(), StateTap> {
        if self.tap.is_some() || check_times(&tap.times).is_err() {
            return Err(tap);
        }
        self.tap = Some(MpsTap { tap, next: 0, error: None });
        Ok(())
    }

    /// Serves the times the work's propagation did not reach (seeking to them: from the
    /// anchor where it lies before them), so that nothing is left for a second propagation.
    fn end_tap(&mut self) -> Result<Option<TapOutcome>> {
        while let Some(t) = self.next_tap_time() {
            let s = self.sample_at(t)?;
            self.serve_tap(&s);
        }
        let Some(tap) = self.tap.take() else {
            return Ok(None);
        };
        if let Some(e) = tap.error {
            return Err(e);
        }
        Ok(Some(TapOutcome { remaining: tap.tap.times[tap.next..].to_vec(), state_error: self.state_error }))
    }

    fn anchor(&mut self, t: f64) -> Result<()> {
        self.seek(t)?;
        self.anchor = Some((t, self.fine.clone(), self.coarse.clone()));
        Ok(())
    }

    fn anchor_if_at_hand(&mut self, t: f64) -> Result<()> {
        if t == self.now {
            self.anchor = Some((t, self.fine.clone(), self.coarse.clone()));
        }
        Ok(())
    }

    /// From the first sample after `t` whose power is [`crate::observe::CERTIFY_ONLY_MARGIN`]
    /// below `power` on (never before `t`: the refinements that come back to the window
    /// sample small powers at early times), both runs go on at the discarded weight
    /// [`CERTIFY_TRUNCATION`] per SVD (where `ε` is smaller), their states there kept: a later
    /// sample whose power, its estimate added, comes within half the margin of `power`
    /// returns them there at full accuracy (in the sampling).
    fn certify_only(&mut self, t: f64, power: f64) -> Result<()> {
        let (after, best) = self.certify.unwrap_or((t, power));
        self.certify = Some((after.min(t), best.max(power)));
        Ok(())
    }

    fn error_bound(&self) -> f64 {
        self.step_error + self.truncation_estimate.min(self.truncation_bound()) + self.fit_estimate()
    }

    fn accuracy_note(&self) -> String {
        let r = self.report();
        format!(
            "estimate, not a bound: two-site TDVP, chi <= {} (reached {}), discarded weight <= {:e} per SVD (sum {:.1e}; \
             its share of |dW| estimated 2 dH0 sqrt(sum) = {:.1e}, bounded by 2||H0 - E0|| sum sqrt = {:.1e}), \
             step {:.3e} (Richardson against twice the step: {:.1e}), MPO of bond dimension {} (coupling fit {:.1e}){}",
            r.bond_dim,
            r.bond_dim_reached,
            r.truncation,
            r.discarded_weight,
            r.truncation_estimate,
            r.truncation_bound,
            r.time_step,
            r.step_error_estimate,
            r.mpo_bond_dim,
            r.mpo_fit_error,
            match r.certify_from {
                Some(t) => format!(
                    "; past t = {t:.6} only certifying (power {:.0}% below P_max): discarded weight <= {:e} per \
                     SVD there, estimate of those samples {:.1e}, each inside half its margin",
                    100.0 * crate::observe::CERTIFY_ONLY_MARGIN,
                    r.certify_truncation,
                    r.certify_error_estimate
                ),
                None => String::new(),
            }
        )
    }

    fn mps_report(&self) -> Option<MpsReport> {
        Some(self.report())
    }
}

impl MpsPropagator {
    /// Moves to `t` and measures `W`, `W'` there (the Richardson estimate kept). Past the
    /// start of a certifying tail the sample's estimate goes to the tail's, and a sample
    /// whose power plus its estimate comes within half the margin of the tail's power ends
    /// the tail: both runs return to its start and take `t` at full accuracy.
    fn sample_at(&mut self, t: f64) -> Result<WorkSample> {
        self.seek(t)?;
        let (work, rate, step_error, energy) = self.measure();
        if let Some(tail) = self.tail.as_ref().filter(|tail| t > tail.from) {
            let error = step_error + self.current_truncation_estimate(energy);
            let near = (work + error) / t >= (1.0 - 0.5 * crate::observe::CERTIFY_ONLY_MARGIN) * tail.power;
            if !near {
                self.tail_error = self.tail_error.max(error);
                return Ok(WorkSample { t, work, rate });
            }
            let tail = self.tail.take().expect("tail checked above");
            self.tail_refused = true;
            self.now = tail.from;
            self.fine = tail.fine;
            self.coarse = tail.coarse;
            return self.sample_at(t);
        }
        self.step_error = self.step_error.max(step_error);
        self.truncation_estimate = self.truncation_estimate.max(self.current_truncation_estimate(energy));
        self.start_tail_if_clear(t, work);
        Ok(WorkSample { t, work, rate })
    }

    /// Starts the certifying tail at `t` (the runs there, `W(t) = work`) when the search
    /// said its samples after an earlier time only certify and the power has fallen clearly
    /// below the best.
    fn start_tail_if_clear(&mut self, t: f64, work: f64) {
        let Some((after, power)) = self.certify else {
            return;
        };
        let clear = t > after && work / t < (1.0 - crate::observe::CERTIFY_ONLY_MARGIN) * power;
        if !clear || self.tail.is_some() || self.tail_refused || self.trunc.max_discarded >= CERTIFY_TRUNCATION {
            return;
        }
        let loose = Truncation { max_discarded: CERTIFY_TRUNCATION, ..self.trunc };
        self.tail = Some(CertifyTail { from: t, power, fine: self.fine.clone(), coarse: self.coarse.clone() });
        self.tail_from = Some(t);
        self.fine.set_truncation(loose);
        self.coarse.set_truncation(loose);
    }

    /// `2 ΔH0 √(Σ_k ε_k)` of the current state, whose `⟨H0⟩` is `energy`: `ΔH0` from
    /// `⟨(H0 − ⟨H0⟩)²⟩` (double-layer MPO); zero while nothing was discarded.
    fn current_truncation_estimate(&self, energy: f64) -> f64 {
        let discarded = self.fine.discarded_weight();
        if discarded <= 0.0 {
            return 0.0;
        }
        let spread = self.fine.state().square_expectation(&self.mpos.h0.shifted(-energy)).max(0.0).sqrt();
        2.0 * spread * discarded.sqrt()
    }

    /// The next time the tap waits for (`None`: no tap, or stopped by an error).
    fn next_tap_time(&self) -> Option<f64> {
        self.tap.as_ref().filter(|m| m.error.is_none()).and_then(|m| m.tap.times.get(m.next).copied())
    }

    /// Hands the current state (at the tap's next time, reached) to the tap's visitor.
    fn serve_tap(&mut self, sample: &WorkSample) {
        self.state_error = self.state_error.max(self.current_state_error());
        let Some(mut m) = self.tap.take() else {
            return;
        };
        let view =
            StateView::MatrixProduct { psi: self.fine.state(), psi_coarse: self.coarse.state(), h0: &self.mpos.h0 };
        if let Err(e) = (m.tap.visit)(sample, view) {
            m.error = Some(e);
        }
        m.next += 1;
        self.tap = Some(m);
    }

    /// The estimate of `‖ψ_δ − ψ(t)‖` now: Richardson's `‖ψ_δ − ψ_{2δ}‖/3` (both runs
    /// normalised, the same global phase) plus the truncations' `√(Σ_k ε_k)` (their
    /// orthogonal pieces summed as independent, as in the estimate of `W`).
    fn current_state_error(&self) -> f64 {
        let (a, b) = (self.fine.state(), self.coarse.state());
        let d2 = a.norm_sqr() + b.norm_sqr() - 2.0 * a.overlap(b).re;
        d2.max(0.0).sqrt() / 3.0 + self.fine.discarded_weight().sqrt()
    }

    /// What the run reports ([`MpsReport`]).
    pub fn report(&self) -> MpsReport {
        MpsReport {
            bond_dim: self.settings.bond_dim,
            bond_dim_reached: self.fine.max_bond_seen().max(self.coarse.max_bond_seen()),
            truncation: self.settings.truncation,
            time_step: self.dt,
            discarded_weight: self.fine.discarded_weight(),
            truncation_estimate: self.truncation_estimate.min(self.truncation_bound()),
            truncation_bound: self.truncation_bound(),
            step_error_estimate: self.step_error,
            mpo_fit_error: self.mpos.factors.fit_error(),
            mpo_bond_dim: self.mpos.h.max_bond(),
            certify_from: self.tail_from,
            certify_truncation: CERTIFY_TRUNCATION.max(self.settings.truncation),
            certify_error_estimate: self.tail_error,
        }
    }
}

/// The states of the run with step `δ` beside those of the run with step `2δ`
/// ([`StateView::MatrixProduct`]), at any times (sorted ascending): the measurements
/// extrapolate them as `W` is.
impl StatePropagator for MpsPropagator {
    fn for_each_state(&mut self, times: &[f64], visit: &mut StateVisitor<'_>) -> Result<()> {
        check_times(times)?;
        for &t in times {
            let sample = self.sample_at(t)?;
            self.state_error = self.state_error.max(self.current_state_error());
            let view =
                StateView::MatrixProduct { psi: self.fine.state(), psi_coarse: self.coarse.state(), h0: &self.mpos.h0 };
            visit(&sample, view)?;
        }
        Ok(())
    }

    /// An estimate, not a bound: Richardson's
    /// state difference plus the truncations' norms, the largest over the states handed out.
    fn state_error(&self) -> f64 {
        self.state_error
    }
}

/// The settings of a run with `solver` from the options a user gave (`--bond-dim`,
/// `--truncation`, `--time-step`; Python's `bond_dim`, `truncation`, `time_step`), the
/// defaults for those not given: `None` for a solver other than `mps`, which takes none.
///
/// # Errors
/// [`crate::SpinbatError::InvalidParameter`]: an option given with another solver, or a
/// bad value ([`MpsSettings::check`]).
pub fn mps_settings(
    solver: super::Solver,
    bond_dim: Option<usize>,
    truncation: Option<f64>,
    time_step: Option<f64>,
) -> Result<Option<MpsSettings>> {
    if solver != super::Solver::Mps {
        if bond_dim.is_some() || truncation.is_some() || time_step.is_some() {
            return Err(crate::error::invalid(
                "solver",
                solver.as_str(),
                "bond-dim, truncation and time-step (the MPS settings) need the mps solver",
            ));
        }
        return Ok(None);
    }
    let d = MpsSettings::default();
    let settings = MpsSettings {
        bond_dim: bond_dim.unwrap_or(d.bond_dim),
        truncation: truncation.unwrap_or(d.truncation),
        time_step: time_step.or(d.time_step),
    };
    settings.check()?;
    Ok(Some(settings))
}
