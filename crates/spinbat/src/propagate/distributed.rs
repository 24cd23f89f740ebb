//! The Chebyshev propagator on a state partitioned over processes ([`crate::partition`]):
//! `R = 2^k` ranks each hold `2^{N−k}` of the `2^N` full-space amplitudes and run this same
//! code (SPMD); every `W`, `W'` is a sum over all ranks, so every rank returns the same
//! samples and the certified maximum search ([`crate::observe::charge`]) runs unchanged on
//! top, on every rank, taking the same decisions.
//!
//! The series is the one of [`super::Chebyshev`]:
//! `e^{−iHδ}ψ = e^{−icδ} Σ_k (2 − δ_k0) (−i)^k J_k(rδ) T_k(H̃)ψ`, `H̃ = (H − c)/r`, with
//! `[c − r, c + r]` Gershgorin's enclosure of the spectrum of `H` (the diagonal's range
//! reduced over the ranks), cut at `Σ_{k>K} 2|J_k(rδ)| ≤ ε_step` with the same
//! `ε_step = tol/(2‖H0‖)·10⁻³`, and the same error accounting: state errors add along the
//! path, `4u` rounding per term, `|ΔW| ≤` [`Moments::work_error`]. What differs: only the
//! complex path (every batch of up to [`MAX_BATCH`] times from the current state, the anchor
//! or `t = 0`; no real path from all-down and no Gram segments), and `W`, `W'` measured from
//! each state by one more application of `H_g` and `V` (`2 Im⟨H0ψ|Vψ⟩`) rather than from
//! Gram products. Each application of `H` to a complex state sends and receives
//! `2 · exchanges · 2^{N−k}` reals per rank ([`PartitionedOperators::exchanges`]).
//!
//! Full space only (no reflection sector), the paper's charging, constant `ω`.

use super::checkpoint::Saved;
use super::method::{check_times, Propagator, WorkSample};
use crate::error::Result;
use crate::model::Chain;
use crate::numeric::bessel::{bessel_sequence, step_coefficients};
use crate::numeric::Real;
use crate::operator::{Moments, Operators};
use crate::partition::{Communicator, Partition, PartitionedOperators, Wire};
use num_complex::Complex64;
use rayon::prelude::*;

/// Most sample times accumulated in one expansion (as [`super::Chebyshev`]).
pub const MAX_BATCH: usize = 32;

/// Rows per rayon task.
const CHUNK: usize = 1 << 12;

/// Real vectors of `2^{N−k}` values a rank holds besides the batch's accumulators: the
/// state and the second recurrence vector (complex: four), the anchor (two), `H_g x`,
/// `Σ X_i x` for the real and imaginary parts (four) and the exchange buffer (one).
pub const FIXED_VECTORS: usize = 11;

/// A complex state on this rank's rows, real and imaginary parts apart (`H` is real, so
/// it acts on each alone).
#[derive(Debug, Clone, Default)]
struct Split<R> {
    re: Vec<R>,
    im: Vec<R>,
}

impl<R: Real> Split<R> {
    fn zeros(len: usize) -> Self {
        Split { re: vec![R::default(); len], im: vec![R::default(); len] }
    }
}

/// The Chebyshev propagator on a partitioned full-space state: one rank's part of it,
/// exchanging with the others through `C` ([`Communicator`]). States in `R` (`f64`, or
/// `f32` for single precision); sums in double. Memory per rank:
/// `(FIXED_VECTORS + 2·batch) · 2^{N−k} · size_of(R) + 8 · 2^{N−k}` bytes (the diagonal).
pub struct Distributed<C: Communicator, R: Real + Wire = f64> {
    comm: C,
    ops: PartitionedOperators,
    work_bound: f64,
    h0_norm: f64,
    work_op_norm: f64,
    center: f64,
    radius: f64,
    eps_step: f64,
    /// the current state, its time and its accumulated state-error bound
    psi: Split<R>,
    t: f64,
    err: f64,
    /// the second recurrence vector
    work: Split<R>,
    /// `H_g x` and `Σ X_i x` of a real and an imaginary part
    hg: Split<R>,
    fx: Split<R>,
    recv: Vec<R>,
    /// the last batch's states, column `j` at `j·L`, and their times and error bounds
    acc: Split<R>,
    last: Vec<(f64, f64)>,
    anchor_time: Option<f64>,
    anchor: Option<Saved<Split<R>>>,
    batch: usize,
    max_err: f64,
    terms: u64,
    applications: u64,
}

impl<C: Communicator, R: Real + Wire> Distributed<C, R> {
    /// This rank's part of the propagator for `chain` at `t = 0` in the all-down state
    /// (row 0, on rank 0), `tol` the target absolute error on `W`. Every rank must call it
    /// (the spectral enclosure and the batch size are agreed by reductions).
    ///
    /// # Errors
    /// As [`Partition::new`] (the number of processes) and [`PartitionedOperators::new`]
    /// (the chains it takes); [`crate::SpinbatError::TooLarge`] where the rank's share
    /// with one batch column does not fit in memory.
    pub fn new(comm: C, chain: &Chain, tol: f64) -> Result<Self> {
        let n = chain.n_sites();
        let part = Partition::new(n, comm.size(), comm.rank())?;
        let len = part.len();
        let size = std::mem::size_of::<R>() as f64;
        crate::resources::ensure_fits(
            "chebyshev (partitioned, one process's share)",
            n,
            (FIXED_VECTORS as f64 + 2.0) * size * len as f64 + 8.0 * len as f64,
        )?;
        let ops = PartitionedOperators::new(chain, part)?;
        let (lo, hi) = ops
            .diag_g()
            .par_iter()
            .fold(|| (f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &d| (lo.min(d), hi.max(d)))
            .reduce(|| (f64::INFINITY, f64::NEG_INFINITY), |a, b| (a.0.min(b.0), a.1.max(b.1)));
        // the batch every rank can hold (the smallest), agreed with the extremes
        let per_time = 2.0 * size * len as f64;
        let fixed = FIXED_VECTORS as f64 * size * len as f64 + 8.0 * len as f64;
        let own_batch = crate::resources::bytes_available()
            .map_or(MAX_BATCH as f64, |a| ((0.85 * a - fixed) / per_time).floor())
            .clamp(1.0, MAX_BATCH as f64);
        let mut ext = [hi, -lo, -own_batch];
        comm.all_reduce_max(&mut ext);
        let (lo, hi, batch) = (-ext[1], ext[0], (-ext[2]) as usize);
        let reach = n as f64 * chain.omega().abs() + ops.pair_abs_sum();
        let (lo_h, hi_h) = (lo - reach, hi + reach);
        let center = 0.5 * (lo_h + hi_h);
        let radius = 0.5 * (hi_h - lo_h) * (1.0 + 1e-12) + 1e-12;
        let h0_norm = Operators::h0_norm_bound(chain).max(1e-300);
        let eps_step = (tol / (2.0 * h0_norm) * 1e-3).max(1e-15).max(0.1 * R::UNIT_ROUNDOFF);
        let mut psi = Split::zeros(len);
        if part.rank == part.owner(crate::basis::ALL_DOWN) {
            psi.re[crate::basis::ALL_DOWN - part.base()] = R::from_f64(1.0);
        }
        Ok(Distributed {
            work_bound: chain.work_bound_with(hi + ops.pair_abs_sum()).min(chain.work_bound()),
            comm,
            ops,
            h0_norm,
            work_op_norm: 2.0 * h0_norm,
            center,
            radius,
            eps_step,
            psi,
            t: 0.0,
            err: 0.0,
            work: Split::default(),
            hg: Split::default(),
            fx: Split::default(),
            recv: Vec::new(),
            acc: Split::default(),
            last: Vec::new(),
            anchor_time: None,
            anchor: None,
            batch,
            max_err: 0.0,
            terms: 0,
            applications: 0,
        })
    }

    /// At most `m` times per expansion (at least one; tests compare batchings).
    pub fn with_batch(mut self, m: usize) -> Self {
        self.batch = m.clamp(1, MAX_BATCH);
        self
    }

    /// The rows this rank holds.
    pub fn partition(&self) -> Partition {
        self.ops.partition()
    }

    /// The communicator.
    pub fn communicator(&self) -> &C {
        &self.comm
    }

    /// The communicator, given back (to build another propagator on the same ranks).
    pub fn into_communicator(self) -> C {
        self.comm
    }

    /// Chebyshev terms computed so far (each one application of `H` to a complex state).
    pub fn terms(&self) -> u64 {
        self.terms
    }

    /// Applications of `H_g` and `V` to a real vector so far (two per term, two per
    /// measured state), each sending and receiving [`Self::bytes_per_application`].
    pub fn applications(&self) -> u64 {
        self.applications
    }

    /// Bytes this rank sends (and receives) per application to a real vector:
    /// `exchanges · 2^{N−k} · size_of(R)`.
    pub fn bytes_per_application(&self) -> u64 {
        (self.ops.exchanges() * self.ops.partition().len() * std::mem::size_of::<R>()) as u64
    }

    /// What this rank exchanged so far (the same on every rank).
    pub fn report(&self) -> crate::partition::PartitionReport {
        crate::partition::PartitionReport {
            processes: self.comm.size(),
            chebyshev_terms: self.terms,
            applications: self.applications,
            bytes_per_application: self.bytes_per_application(),
            bytes_exchanged: self.applications * self.bytes_per_application(),
        }
    }

    /// The rank's current state, real and imaginary parts (up to a global phase), and its
    /// time.
    pub fn local_state(&self) -> (&[R], &[R], f64) {
        (&self.psi.re, &self.psi.im, self.t)
    }

    /// One recurrence step on the real (`which_im = false`) or imaginary part of the
    /// state `x = T_k` in `psi`: `work ← H̃x` (`first`, `k = 0`) or `work ← 2H̃x − work`
    /// (`work = T_{k−1}` on entry), `H̃ = (H − c)/r`.
    fn apply_h(&mut self, which_im: bool, first: bool) {
        // hg.re/fx.re are the scratch of the recurrence
        let x = if which_im { &self.psi.im } else { &self.psi.re };
        self.ops.apply(&self.comm, x, &mut self.hg.re, &mut self.fx.re, &mut self.recv);
        self.applications += 1;
        let (c, w) = (self.center, self.ops.omega());
        let prev = if which_im { &mut self.work.im } else { &mut self.work.re };
        let scale = if first { 1.0 / self.radius } else { 2.0 / self.radius };
        prev.par_chunks_mut(CHUNK)
            .zip(self.hg.re.par_chunks(CHUNK))
            .zip(self.fx.re.par_chunks(CHUNK))
            .zip(x.par_chunks(CHUNK))
            .for_each(|(((p, h), f), x)| {
                for (((p, &h), &f), &x) in p.iter_mut().zip(h).zip(f).zip(x) {
                    let hx = (h + f.scale(w) - x.scale(c)).scale(scale);
                    *p = if first { hx } else { hx - *p };
                }
            });
    }

    /// The [`Moments`] of column `j` of the accumulators, summed over every rank.
    fn moments(&mut self, cols: usize) -> Vec<Moments> {
        let len = self.ops.partition().len();
        let mut sums = vec![0.0; 4 * cols];
        for j in 0..cols {
            let re = &self.acc.re[j * len..(j + 1) * len];
            let im = &self.acc.im[j * len..(j + 1) * len];
            self.ops.apply(&self.comm, re, &mut self.hg.re, &mut self.fx.re, &mut self.recv);
            self.ops.apply(&self.comm, im, &mut self.hg.im, &mut self.fx.im, &mut self.recv);
            self.applications += 2;
            let w = self.ops.omega();
            let ops = &self.ops;
            let (hg, fx) = (&self.hg, &self.fx);
            let part = (0..len.div_ceil(CHUNK))
                .into_par_iter()
                .map(|c| {
                    let mut m = [0.0f64; 4];
                    for l in c * CHUNK..((c + 1) * CHUNK).min(len) {
                        let (pr, pi) = (re[l].to_f64(), im[l].to_f64());
                        let d = ops.work_diagonal(l) - ops.diag_g()[l];
                        // (H0 − E_0)ψ = H_g ψ + (E_B(s) − E_0) ψ
                        let ar = hg.re[l].to_f64() + d * pr;
                        let ai = hg.im[l].to_f64() + d * pi;
                        m[0] += pr * pr + pi * pi;
                        m[1] += pr * ar + pi * ai;
                        m[2] += 2.0 * w * (ar * fx.im[l].to_f64() - ai * fx.re[l].to_f64());
                        m[3] += ar * ar + ai * ai;
                    }
                    m
                })
                .reduce(|| [0.0; 4], |a, b| [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]]);
            sums[4 * j..4 * j + 4].copy_from_slice(&part);
        }
        self.comm.all_reduce_sum(&mut sums);
        sums.chunks_exact(4).map(|m| Moments { norm: m[0], work: m[1], rate: m[2], work_sq: m[3] }).collect()
    }

    /// The batch `ts` (all `≥ self.t`) from the current state; the state moves to the last
    /// time.
    fn batch_from_current(&mut self, ts: &[f64], out: &mut Vec<WorkSample>) {
        let m = ts.len();
        let len = self.ops.partition().len();
        let seqs: Vec<(Vec<f64>, f64)> =
            ts.iter().map(|&t| bessel_sequence(self.radius * (t - self.t).max(0.0), self.eps_step)).collect();
        let lens: Vec<usize> = seqs.iter().map(|q| q.0.len()).collect();
        let k_max = lens.iter().copied().max().unwrap_or(1);
        let phases: Vec<Complex64> =
            ts.iter().map(|&t| Complex64::from_polar(1.0, -self.center * (t - self.t))).collect();
        for v in [&mut self.acc.re, &mut self.acc.im] {
            v.clear();
            v.resize(m * len, R::default());
        }
        for v in
            [&mut self.work.re, &mut self.work.im, &mut self.hg.re, &mut self.hg.im, &mut self.fx.re, &mut self.fx.im]
        {
            v.resize(len, R::default());
        }
        // T_0 = ψ is in `psi`, T_1 goes to `work`; then the two alternate (swapped) as
        // (T_k, T_{k−1}), the recurrence overwriting T_{k−1} with T_{k+1}
        for k in 0..k_max {
            if k > 0 {
                self.apply_h(false, k == 1);
                self.apply_h(true, k == 1);
                std::mem::swap(&mut self.psi, &mut self.work);
            }
            // acc_j += c_k(δ_j) T_k for the times whose series reaches k
            let coef = step_coefficients(&seqs, &phases, k);
            let j_lo = lens.iter().position(|&l| l > k).unwrap_or(m);
            let (tr, ti) = (&self.psi.re, &self.psi.im);
            self.acc
                .re
                .par_chunks_mut(len)
                .zip(self.acc.im.par_chunks_mut(len))
                .enumerate()
                .filter(|(j, _)| *j >= j_lo && k < lens[*j])
                .for_each(|(j, (ar, ai))| {
                    let (cr, ci) = (R::from_f64(coef[j].re), R::from_f64(coef[j].im));
                    ar.par_chunks_mut(CHUNK).zip(ai.par_chunks_mut(CHUNK)).enumerate().for_each(|(c, (ar, ai))| {
                        let b = c * CHUNK;
                        for (o, (a_r, a_i)) in ar.iter_mut().zip(ai.iter_mut()).enumerate() {
                            let (xr, xi) = (tr[b + o], ti[b + o]);
                            *a_r += cr * xr - ci * xi;
                            *a_i += cr * xi + ci * xr;
                        }
                    });
                });
        }
        self.terms += k_max as u64;
        let obs = self.moments(m);
        let rounding = 4.0 * R::UNIT_ROUNDOFF;
        let base_err = self.err;
        self.last.clear();
        for (j, (&t, mo)) in ts.iter().zip(&obs).enumerate() {
            let err = base_err + seqs[j].1 + rounding * lens[j] as f64;
            self.max_err = self.max_err.max(mo.work_error(err, self.work_op_norm, self.h0_norm));
            self.last.push((t, err));
            out.push(WorkSample { t, work: mo.unit_work(), rate: mo.unit_rate() });
        }
        let (t, err) = self.last[m - 1];
        self.psi.re.copy_from_slice(&self.acc.re[(m - 1) * len..]);
        self.psi.im.copy_from_slice(&self.acc.im[(m - 1) * len..]);
        self.t = t;
        self.err = err;
    }

    /// Back to the all-down state at `t = 0`.
    fn restart(&mut self) {
        let part = self.ops.partition();
        self.psi = Split::zeros(part.len());
        if part.rank == part.owner(crate::basis::ALL_DOWN) {
            self.psi.re[crate::basis::ALL_DOWN - part.base()] = R::from_f64(1.0);
        }
        self.t = 0.0;
        self.err = 0.0;
    }

    /// Moves the state to at most `t_first`: the anchor where one is asked for at or
    /// before it (computed now if only requested), else `t = 0`.
    fn rewind(&mut self, t_first: f64) {
        if t_first >= self.t {
            return;
        }
        match self.anchor_time {
            Some(ta) if ta <= t_first => {
                if self.anchor.as_ref().is_none_or(|a| a.t != ta) {
                    if ta < self.t {
                        self.restart();
                    }
                    if ta > self.t {
                        let mut scratch = Vec::new();
                        self.batch_from_current(&[ta], &mut scratch);
                    }
                    self.anchor = Some(Saved { t: self.t, err: self.err, state: self.psi.clone() });
                }
                let a = self.anchor.as_ref().expect("kept just above");
                self.psi.clone_from(&a.state);
                self.t = a.t;
                self.err = a.err;
            }
            _ => self.restart(),
        }
    }
}

impl<C: Communicator, R: Real + Wire> Propagator for Distributed<C, R> {
    fn name(&self) -> &'static str {
        "chebyshev"
    }

    fn sample(&mut self, times: &[f64]) -> Result<Vec<WorkSample>> {
        check_times(times)?;
        let mut out = Vec::with_capacity(times.len());
        for ts in times.chunks(self.batch) {
            self.rewind(ts[0]);
            self.batch_from_current(ts, &mut out);
        }
        Ok(out)
    }

    /// Keeps the state at `t` for later requests at `≥ t`: copied at once where `t` is a
    /// time of the last batch, else computed when first needed.
    fn anchor(&mut self, t: f64) -> Result<()> {
        check_times(&[t])?;
        if self.anchor_time != Some(t) {
            self.anchor_time = Some(t);
            self.anchor = None;
            if let Some(j) = self.last.iter().position(|&(tl, _)| tl == t) {
                let len = self.ops.partition().len();
                let state = Split {
                    re: self.acc.re[j * len..(j + 1) * len].to_vec(),
                    im: self.acc.im[j * len..(j + 1) * len].to_vec(),
                };
                self.anchor = Some(Saved { t, err: self.last[j].1, state });
            }
        }
        Ok(())
    }

    fn work_bound(&self, _chain: &Chain) -> f64 {
        self.work_bound
    }

    fn anchor_if_at_hand(&mut self, t: f64) -> Result<()> {
        if self.last.iter().any(|&(tl, _)| tl == t) {
            self.anchor(t)?;
        }
        Ok(())
    }

    fn batch_capacity(&self) -> usize {
        self.batch
    }

    fn error_bound(&self) -> f64 {
        self.max_err
    }

    fn accuracy_note(&self) -> String {
        let precision = if R::PRECISION == "single" {
            format!("; single precision (f32 states, rounding estimate {:.1e} per term)", 4.0 * R::UNIT_ROUNDOFF)
        } else {
            String::new()
        };
        format!(
            "Chebyshev series cut at tail <= {:.1e} per step (rigorous); |dW| <= min(2||H0|| e, 2e'(2||(H0 - E0)psi|| + ||H0 - E0|| e')) = {:.1e} so far (e = sum of tails, e' = e + |1 - ||psi|||); full space partitioned over processes by the highest bits{}",
            self.eps_step, self.max_err, precision
        )
    }
}
