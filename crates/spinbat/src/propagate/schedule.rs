//! Charging with a piecewise-constant field `ω(t)` ([`crate::model::Schedule`]): the
//! exact methods propagate segment by segment.
//!
//! Within segment `k`, `(t_{k−1}, t_k]`, the Hamiltonian `H_k = H_g + ω_k Σ_i X_i` is
//! constant, so `ψ(t) = e^{−iH_k(t − t_{k−1})} ψ(t_{k−1})` is what the static methods
//! compute: [`Scheduled`] hands a [`SegmentMethod`] the state at the segment's start and
//! asks for `W`, `W'` at the requested times inside it and for the state at its end, which
//! starts the next segment. Nothing approximates the schedule itself: the only errors are
//! the methods' own, chained (a state error carried into a segment stays the same size
//! under a unitary step and is added to that segment's truncation error).
//!
//! * [`ChebyshevSegments`]: the Chebyshev series restarted at every boundary from the
//!   state there ([`Chebyshev::with_start`] on the same space, its `ω` set by
//!   [`Space::set_omega`]), on any space (full, reflection-even, orbits, Dicke); each
//!   restart costs the series' start-up (`≈ 15` terms beyond `r τ`);
//! * [`DenseSegments`]: the product of exponentials, one eigendecomposition per distinct
//!   `ω_k`.
//!
//! The mean field takes a schedule itself ([`crate::meanfield::MeanField::with_protocol`]).
//! A request before the current time resumes from the anchor
//! ([`Propagator::anchor`]) or from `t = 0`; requests past the last segment end are
//! refused (the charge ends there).

use super::chebyshev::{Chebyshev, ExpandState};
use super::checkpoint::Saved;
use super::method::{check_times, check_within, protocol_scan_step, protocol_work_bound, Propagator, WorkSample};
use crate::error::{Result, SpinbatError};
use crate::model::{Chain, Protocol, Schedule};
use crate::numeric::Real;
use crate::operator::Operators;
use crate::symmetry::Space;
use faer::{Mat, Side};
use num_complex::Complex64;

/// What [`Scheduled`] needs of a method: from a state at `t0`, under a constant field,
/// `W`, `W'` at later times and the state at the segment's end.
pub trait SegmentMethod: Send {
    /// Short name (`chebyshev`, `dense`).
    fn name(&self) -> &'static str;
    /// The all-down state at `t = 0` in the method's representation.
    fn initial(&self) -> Vec<Complex64>;
    /// From `start` (the state at `start.t` with its error bound), under `H_g + omega V1`:
    /// `W`, `W'` at `times` (sorted, `≥ start.t`) and the state at `t_end` (`≥` every
    /// time).
    ///
    /// # Errors
    /// The method's own ([`SpinbatError::NotConverged`] for a failed eigensolver).
    fn evolve(
        &mut self,
        omega: f64,
        start: Saved<Vec<Complex64>>,
        times: &[f64],
        t_end: f64,
    ) -> Result<(Vec<WorkSample>, Saved<Vec<Complex64>>)>;
    /// `W`, `W'` of the state `at` (no propagation) under `H_g + omega V1`, and the state
    /// back: what a periodic drive measures at its step ends, where `ω(t)` is not the field
    /// of either exponential of the step ([`super::magnus`]). Default: a segment of zero
    /// length.
    ///
    /// # Errors
    /// As [`SegmentMethod::evolve`].
    fn measure(&mut self, omega: f64, at: Saved<Vec<Complex64>>) -> Result<(WorkSample, Saved<Vec<Complex64>>)> {
        let t = at.t;
        let (mut samples, at) = self.evolve(omega, at, &[t], t)?;
        let sample = samples.pop().ok_or_else(|| SpinbatError::NotConverged {
            what: "field schedule",
            reason: "a segment of zero length returned no sample".into(),
        })?;
        Ok((sample, at))
    }
    /// The inner product `⟨a|b⟩` of two states of the method's rows in the full-space
    /// metric (a sector's rows carry weights, [`Space::block_weight`]). Default: the
    /// Euclidean one (the full space).
    fn inner(&self, a: &[Complex64], b: &[Complex64]) -> Complex64 {
        a.iter().zip(b).map(|(x, y)| x.conj() * y).sum()
    }
    /// A bound `≥ λ_max(H_g)` (for the work bound).
    fn h_g_max(&self) -> f64;
    /// Bound (dense: estimate) on the error of every `W` so far.
    fn error_bound(&self) -> f64;
    /// How the error is controlled.
    fn accuracy_note(&self) -> String;
}

/// The Chebyshev propagator restarted at every segment boundary (module docs), on the
/// space `S` in precision `R`.
pub struct ChebyshevSegments<S: Space + ExpandState, R: Real = f64> {
    space: Option<S>,
    chain: Chain,
    tol: f64,
    h_g_max: f64,
    max_err: f64,
    terms: u64,
    note: String,
    _real: std::marker::PhantomData<R>,
}

impl<S: Space + ExpandState, R: Real> ChebyshevSegments<S, R> {
    /// On `space` (built for `chain`; its `ω` is reset for every segment), with the
    /// tolerance `tol` on `W` of each segment's series.
    pub fn new(space: S, chain: &Chain, tol: f64) -> Self {
        let h_g_max = space.h_g_max_bound();
        ChebyshevSegments {
            space: Some(space),
            chain: chain.clone(),
            tol,
            h_g_max,
            max_err: 0.0,
            terms: 0,
            note: String::new(),
            _real: std::marker::PhantomData,
        }
    }

    /// Chebyshev terms (applications of `H`) so far, over all segments.
    pub fn terms(&self) -> u64 {
        self.terms
    }
}

impl<S: Space + ExpandState, R: Real> SegmentMethod for ChebyshevSegments<S, R> {
    fn name(&self) -> &'static str {
        "chebyshev"
    }

    fn initial(&self) -> Vec<Complex64> {
        crate::basis::all_down_vector(self.space.as_ref().map_or(0, Space::dim))
    }

    fn evolve(
        &mut self,
        omega: f64,
        start: Saved<Vec<Complex64>>,
        times: &[f64],
        t_end: f64,
    ) -> Result<(Vec<WorkSample>, Saved<Vec<Complex64>>)> {
        // from all-down at t = 0 the real path (half the bytes) applies
        let initial = start.t == 0.0 && start.err == 0.0 && start.state == self.initial();
        let mut space = self.space.take().ok_or_else(|| SpinbatError::NotConverged {
            what: "field schedule",
            reason: "an earlier segment failed".into(),
        })?;
        space.set_omega(omega);
        let mut cheb = if initial {
            Chebyshev::<S, R>::with_space(space, &self.chain, self.tol)
        } else {
            Chebyshev::<S, R>::with_start(space, &self.chain, self.tol, start)
        }
        .with_gram_output(false);
        let mut ts = times.to_vec();
        let extra = ts.last() != Some(&t_end);
        if extra {
            ts.push(t_end);
        }
        let mut samples = cheb.sample(&ts)?;
        if extra {
            samples.pop();
        }
        self.max_err = self.max_err.max(cheb.error_bound());
        self.terms += cheb.terms();
        if self.note.is_empty() {
            self.note = cheb.accuracy_note();
        }
        let (space, end) = cheb.into_state();
        self.space = Some(space);
        Ok((samples, end))
    }

    fn inner(&self, a: &[Complex64], b: &[Complex64]) -> Complex64 {
        let Some(space) = self.space.as_ref() else {
            return a.iter().zip(b).map(|(x, y)| x.conj() * y).sum();
        };
        (0..space.blocks())
            .map(|k| {
                let rows = space.block_rows(k);
                let sum: Complex64 = a[rows.clone()].iter().zip(&b[rows]).map(|(x, y)| x.conj() * y).sum();
                sum * space.block_weight(k)
            })
            .sum()
    }

    fn h_g_max(&self) -> f64 {
        self.h_g_max
    }

    fn error_bound(&self) -> f64 {
        self.max_err
    }

    fn accuracy_note(&self) -> String {
        format!(
            "Chebyshev series restarted at every segment end of the field schedule ({} terms); bound on |dW| over all segments {:.1e}",
            self.terms, self.max_err
        )
    }
}

/// The product of exponentials of the segments by dense eigendecompositions of
/// `H_k = H_g + ω_k V1` (one per distinct `ω_k`, kept for the next request); the error an
/// estimate `ε_mach (2^N + ‖H‖τ)` per segment, summed, times `2‖H0‖`.
pub struct DenseSegments {
    ops: Operators,
    h0_norm: f64,
    h_g_max: f64,
    /// `(ω, energies, U)` of the last segment's `H_k`
    eigen: Option<(f64, Vec<f64>, Mat<f64>)>,
    max_err: f64,
}

impl DenseSegments {
    /// Dense segments for `chain` (at most [`super::AUTO_DENSE_MAX_SITES`]-sized chains are
    /// sensible: `O(8^N)` per distinct field).
    ///
    /// # Errors
    /// As [`Operators::new`].
    pub fn new(chain: &Chain) -> Result<Self> {
        let ops = Operators::new(chain)?;
        Ok(DenseSegments {
            h0_norm: Operators::h0_norm_bound(chain),
            h_g_max: ops.h_g_max_bound(),
            ops,
            eigen: None,
            max_err: 0.0,
        })
    }

    fn eigen_for(&mut self, omega: f64) -> Result<()> {
        if self.eigen.as_ref().is_some_and(|e| e.0 == omega) {
            return Ok(());
        }
        self.ops.set_omega(omega);
        let d = self.ops.dim();
        let mut h = Mat::<f64>::zeros(d, d);
        for s in 0..d {
            self.ops.column_h(s, |row, v| h[(row, s)] += v);
        }
        let evd = h
            .self_adjoint_eigen(Side::Lower)
            .map_err(|e| SpinbatError::NotConverged { what: "dense eigendecomposition", reason: format!("{e:?}") })?;
        let energies = (0..d).map(|m| evd.S().column_vector()[m]).collect();
        self.eigen = Some((omega, energies, evd.U().to_owned()));
        Ok(())
    }
}

impl SegmentMethod for DenseSegments {
    fn name(&self) -> &'static str {
        "dense"
    }

    fn initial(&self) -> Vec<Complex64> {
        crate::basis::all_down_vector(self.ops.dim())
    }

    fn evolve(
        &mut self,
        omega: f64,
        start: Saved<Vec<Complex64>>,
        times: &[f64],
        t_end: f64,
    ) -> Result<(Vec<WorkSample>, Saved<Vec<Complex64>>)> {
        self.eigen_for(omega)?;
        self.ops.set_omega(omega);
        let (_, energies, u) = self.eigen.as_ref().expect("just built");
        let d = self.ops.dim();
        // c = Uᵀ ψ(t0), real and imaginary parts
        let psi = Mat::<f64>::from_fn(d, 2, |s, j| if j == 0 { start.state[s].re } else { start.state[s].im });
        let c = u.transpose() * &psi;
        let h_norm = energies.iter().fold(0.0f64, |a, e| a.max(e.abs()));
        let state_at = |t: f64| -> Vec<Complex64> {
            let x = Mat::<f64>::from_fn(d, 2, |m, j| {
                let (cr, ci) = (c[(m, 0)], c[(m, 1)]);
                let (sn, cs) = (-energies[m] * (t - start.t)).sin_cos();
                // e^{−iEτ}(c_r + i c_i)
                if j == 0 {
                    cs * cr - sn * ci
                } else {
                    sn * cr + cs * ci
                }
            });
            let y = u * &x;
            (0..d).map(|s| Complex64::new(y[(s, 0)], y[(s, 1)])).collect()
        };
        let err_at = |t: f64| start.err + f64::EPSILON * (d as f64 + h_norm * (t - start.t));
        let mut out = Vec::with_capacity(times.len());
        for &t in times {
            let m = self.ops.work_and_rate(&state_at(t));
            self.max_err = self.max_err.max(2.0 * self.h0_norm * err_at(t));
            out.push(WorkSample { t, work: m.unit_work(), rate: m.unit_rate() });
        }
        let end = Saved { t: t_end, err: err_at(t_end), state: state_at(t_end) };
        Ok((out, end))
    }

    fn measure(&mut self, omega: f64, at: Saved<Vec<Complex64>>) -> Result<(WorkSample, Saved<Vec<Complex64>>)> {
        // no eigendecomposition: the operators measure the state directly
        self.ops.set_omega(omega);
        let m = self.ops.work_and_rate(&at.state);
        self.max_err = self.max_err.max(2.0 * self.h0_norm * at.err);
        Ok((WorkSample { t: at.t, work: m.unit_work(), rate: m.unit_rate() }, at))
    }

    fn h_g_max(&self) -> f64 {
        self.h_g_max
    }

    fn error_bound(&self) -> f64 {
        self.max_err
    }

    fn accuracy_note(&self) -> String {
        format!(
            "product of dense exponentials over the field schedule's segments; rounding estimate {:.1e} so far",
            self.max_err
        )
    }
}

/// A [`Propagator`] for a field schedule: segment by segment with a [`SegmentMethod`]
/// (module docs).
pub struct Scheduled<M: SegmentMethod> {
    method: M,
    /// the schedule with runs of equal `ω_k` joined ([`merge_runs`]): what is propagated
    schedule: Schedule,
    protocol: Protocol,
    /// the state where the propagation stands
    current: Saved<Vec<Complex64>>,
    anchor: Option<Saved<Vec<Complex64>>>,
    /// states at the (joined) segment ends reached so far, `boundaries[k]` at the end of
    /// segment `k`, kept while [`Self::boundary_budget`] allows
    boundaries: Vec<Option<Saved<Vec<Complex64>>>>,
    /// how many boundary states may be kept
    boundary_budget: usize,
}

/// Share of the free memory the boundary states of [`Scheduled`] may take.
const BOUNDARY_MEMORY_SHARE: f64 = 0.25;

/// `schedule` with every run of consecutive segments of the same `ω_k` joined into one:
/// within a run `H` is constant, so `e^{−iH_k τ_2} e^{−iH_k τ_1} = e^{−iH_k(τ_1 + τ_2)}` and
/// one series covers it (a constant schedule costs what the static charge costs).
pub fn merge_runs(schedule: &Schedule) -> Schedule {
    let (mut ends, mut omegas): (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    for (&t, &w) in schedule.ends().iter().zip(schedule.omegas()) {
        match (ends.last_mut(), omegas.last()) {
            (Some(e), Some(&last)) if last == w => *e = t,
            _ => {
                ends.push(t);
                omegas.push(w);
            }
        }
    }
    Schedule::new(ends, omegas).expect("a sub-list of a valid schedule's ends and fields")
}

impl<M: SegmentMethod> Scheduled<M> {
    /// Charges with `schedule` by `method`, from all-down at `t = 0`.
    ///
    /// Runs of equal `ω_k` are propagated as one segment ([`merge_runs`]). The states at the
    /// segment ends reached are kept (up to a quarter of the free memory,
    /// measured here: a cache sized at run time like the Chebyshev Gram segments, never
    /// below what the plan checked) so that a request before the current time (the
    /// certified search's refinement) resumes from the last segment end before it instead
    /// of from `t = 0`.
    pub fn new(method: M, schedule: Schedule) -> Self {
        let current = Saved { t: 0.0, err: 0.0, state: method.initial() };
        let runs = merge_runs(&schedule);
        let state_bytes = 16.0 * current.state.len().max(1) as f64;
        let free = crate::resources::bytes_available().unwrap_or(0.0);
        let boundary_budget = ((BOUNDARY_MEMORY_SHARE * free / state_bytes) as usize).min(runs.len());
        Scheduled {
            method,
            protocol: Protocol::Schedule(schedule),
            boundaries: vec![None; runs.len()],
            schedule: runs,
            current,
            anchor: None,
            boundary_budget,
        }
    }

    /// How many segment-end states may be kept (at most the number of joined segments).
    pub fn boundary_budget(&self) -> usize {
        self.boundary_budget
    }

    /// The schedule as propagated: runs of equal `ω_k` joined.
    pub fn joined_schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// The method.
    pub fn method(&self) -> &M {
        &self.method
    }

    /// The state where the propagation stands, its time and error bound (the method's
    /// rows, up to a global phase).
    pub fn state(&self) -> &Saved<Vec<Complex64>> {
        &self.current
    }

    /// Moves back to the latest of the anchor and the kept segment ends at or before `t`,
    /// or to `t = 0`, if `t` is before the current time.
    fn resume_for(&mut self, t: f64) {
        if t >= self.current.t {
            return;
        }
        let boundary = self.boundaries.iter().rev().flatten().find(|b| b.t <= t);
        let anchor = self.anchor.as_ref().filter(|a| a.t <= t);
        self.current = match (anchor, boundary) {
            (Some(a), Some(b)) => if a.t >= b.t { a } else { b }.clone(),
            (Some(a), None) => a.clone(),
            (None, Some(b)) => b.clone(),
            (None, None) => Saved { t: 0.0, err: 0.0, state: self.method.initial() },
        };
    }

    /// Keeps the state just reached if it is the end of segment `k` and the budget allows.
    fn keep_boundary(&mut self, k: usize) {
        if self.current.t != self.schedule.ends()[k] || self.boundaries[k].is_some() {
            return;
        }
        if self.boundaries.iter().flatten().count() < self.boundary_budget {
            self.boundaries[k] = Some(self.current.clone());
        }
    }
}

impl<M: SegmentMethod> Propagator for Scheduled<M> {
    fn name(&self) -> &'static str {
        self.method.name()
    }

    fn sample(&mut self, times: &[f64]) -> Result<Vec<WorkSample>> {
        check_times(times)?;
        check_within(times, Some(self.schedule.end()))?;
        let Some(&first) = times.first() else {
            return Ok(Vec::new());
        };
        self.resume_for(first);
        let mut out = Vec::with_capacity(times.len());
        let mut i = 0;
        let mut k = self.schedule.segment_of(self.current.t);
        while i < times.len() {
            let end_k = self.schedule.ends()[k];
            let count = times[i..].partition_point(|&t| t <= end_k);
            let seg = &times[i..i + count];
            // go to the segment's end while later times need it, else to the last time
            let stop = if i + count < times.len() { end_k } else { seg[count - 1] };
            if count > 0 || stop > self.current.t {
                let start = std::mem::replace(&mut self.current, Saved { t: 0.0, err: 0.0, state: Vec::new() });
                let (samples, end) = self.method.evolve(self.schedule.omegas()[k], start, seg, stop)?;
                out.extend(samples);
                self.current = end;
                self.keep_boundary(k);
            }
            i += count;
            k += 1;
        }
        Ok(out)
    }

    fn anchor(&mut self, t: f64) -> Result<()> {
        check_times(&[t])?;
        check_within(&[t], Some(self.schedule.end()))?;
        self.resume_for(t);
        if t > self.current.t {
            let _ = self.sample(&[t])?;
        }
        self.anchor = Some(self.current.clone());
        Ok(())
    }

    fn anchor_if_at_hand(&mut self, t: f64) -> Result<()> {
        if self.current.t == t {
            self.anchor = Some(self.current.clone());
        }
        Ok(())
    }

    /// [`protocol_work_bound`]: `max_k |ω_k|` plus the schedule's total variation in place
    /// of `|ω|`, and the method's `λ_max(H_g)` bound.
    fn work_bound(&self, chain: &Chain) -> f64 {
        protocol_work_bound(chain, &self.protocol, self.method.h_g_max())
    }

    fn scan_step(&self, chain: &Chain) -> f64 {
        protocol_scan_step(chain, &self.protocol)
    }

    fn end_time(&self) -> Option<f64> {
        Some(self.schedule.end())
    }

    fn error_bound(&self) -> f64 {
        self.method.error_bound()
    }

    fn accuracy_note(&self) -> String {
        self.method.accuracy_note()
    }
}

/// A schedule of one run (one `ω` on all of `(0, t_K]`, [`merge_runs`]) is the static charge
/// of the chain with that `ω`, ended at `t_K`: the static propagator (Gram dense output,
/// the real path from all-down, anchors) serves it at the static charge's cost, refusing
/// times past `t_K`. `W` and `W'` are even in `ω` (`Π_i Z_i` maps `ω` to `−ω` and keeps
/// `H_g`, `H0` and all-down), so the chain is built with `|ω|`.
pub struct StaticRun {
    inner: Box<dyn Propagator>,
    chain: Chain,
    end: f64,
}

impl StaticRun {
    /// The static propagator `inner` of `chain` (its `ω` the run's), ended at `end`.
    pub fn new(inner: Box<dyn Propagator>, chain: Chain, end: f64) -> Self {
        StaticRun { inner, chain, end }
    }
}

impl Propagator for StaticRun {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn sample(&mut self, times: &[f64]) -> Result<Vec<WorkSample>> {
        check_times(times)?;
        check_within(times, Some(self.end))?;
        self.inner.sample(times)
    }

    fn anchor(&mut self, t: f64) -> Result<()> {
        check_within(&[t], Some(self.end))?;
        self.inner.anchor(t)
    }

    fn work_bound(&self, _chain: &Chain) -> f64 {
        self.inner.work_bound(&self.chain)
    }

    fn scan_step(&self, _chain: &Chain) -> f64 {
        self.inner.scan_step(&self.chain)
    }

    fn expect_until(&mut self, t: f64) {
        self.inner.expect_until(t.min(self.end));
    }

    fn computed_until(&self) -> f64 {
        self.inner.computed_until().min(self.end)
    }

    fn live_reach(&self) -> Option<std::sync::Arc<std::sync::atomic::AtomicU64>> {
        self.inner.live_reach()
    }

    fn anchor_if_at_hand(&mut self, t: f64) -> Result<()> {
        self.inner.anchor_if_at_hand(t)
    }

    fn certify_only(&mut self, t: f64, power: f64) -> Result<()> {
        self.inner.certify_only(t, power)
    }

    fn batch_capacity(&self) -> usize {
        self.inner.batch_capacity()
    }

    fn end_time(&self) -> Option<f64> {
        Some(self.end)
    }

    fn error_bound(&self) -> f64 {
        self.inner.error_bound()
    }

    fn accuracy_note(&self) -> String {
        format!("one field on the whole schedule: the static charge; {}", self.inner.accuracy_note())
    }
}
