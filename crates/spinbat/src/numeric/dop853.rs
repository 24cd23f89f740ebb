//! Adaptive explicit Runge–Kutta integrator DOP853: the Dormand–Prince 8(5,3) pair of
//! Hairer, Nørsett & Wanner, *Solving Ordinary Differential Equations I*, 2nd ed.,
//! Sec. II.10, with the coefficients of Hairer's `dop853.f`.
//!
//! Solves `y' = f(t, y)` for a real state `y ∈ ℝⁿ` held in a `&mut [f64]`; the right-hand
//! side is any closure `FnMut(t, y, dydt)`. Twelve stages (twelve evaluations of `f`) per
//! step, order 8.
//!
//! **Error control** (as in `dop853.f`). Two embedded error estimates, of orders 5 (`e₅`)
//! and 3 (`e₃`), are combined into the scaled norm
//! `err = |h| ‖e₅‖² / √(n (‖e₅‖² + 0.01 ‖e₃‖²))`, where `‖·‖` is the Euclidean norm of the
//! components divided by `sc_i = atol + rtol · max(|y_i(t)|, |y_i(t+h)|)`. A step is
//! accepted when `err ≤ 1`, so the *local* error of each step is held at about `atol`
//! (for `rtol = 0`) in the root-mean-square sense. The next step is
//! `h · min(6, max(1/3, 0.9 err^{−1/8}))` (no growth right after a rejection).
//! The estimate is that of the lower-order embedded solutions, so for smooth problems it
//! overestimates the local error of the 8th-order solution that is propagated. Global
//! errors are *not* controlled directly: they are the sum of the local errors carried
//! along by the flow. [`Dop853::local_error_sum`] adds up the Euclidean norms of the
//! accepted local error estimates (plus rounding), an estimate of that sum.
//!
//! Output times are hit exactly: the last step before `t_end` is shortened (or stretched
//! by at most 1 %) to land on it; there is no dense output. The convergence order of the
//! coefficients is checked by the unit tests below (error ratio `≈ 2⁸` on halving a
//! fixed step).

// The coefficients keep the 30 digits of `dop853.f`, so they can be compared with it.
#![allow(clippy::excessive_precision)]

use crate::error::{Result, SpinbatError};
use rayon::prelude::*;
use std::ops::Range;

/// Number of stages of one step.
const STAGES: usize = 12;

/// Components per block of the vectorised stage combinations.
const BLOCK: usize = 256;

/// Components per rayon task of the stage combinations and the error norm (fixed, so the
/// results do not depend on the number of threads).
const PAR_CHUNK: usize = 1 << 14;

/// Rounding error per component and step, added to the local-error sum.
const ROUNDING_PER_STEP: f64 = 2.2e-16;

/// Nodes `c_i` (`c₁ = 0`, `c₁₂ = 1`).
const C: [f64; STAGES] = [
    0.0,
    0.526001519587677318785587544488e-01,
    0.789002279381515978178381316732e-01,
    0.118350341907227396726757197510e+00,
    0.281649658092772603273242802490e+00,
    0.333333333333333333333333333333e+00,
    0.25e+00,
    0.307692307692307692307692307692e+00,
    0.651282051282051282051282051282e+00,
    0.6e+00,
    0.857142857142857142857142857142e+00,
    1.0,
];

/// Runge–Kutta matrix `a_ij` (lower triangular, zero where `dop853.f` has no entry).
#[rustfmt::skip]
const A: [[f64; STAGES]; STAGES] = [
    [0.0; STAGES],
    [5.26001519587677318785587544488e-2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [1.97250569845378994544595329183e-2, 5.91751709536136983633785987549e-2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [2.95875854768068491816892993775e-2, 0.0, 8.87627564304205475450678981324e-2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [2.41365134159266685502369798665e-1, 0.0, -8.84549479328286085344864962717e-1, 9.24834003261792003115737966543e-1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [3.7037037037037037037037037037e-2, 0.0, 0.0, 1.70828608729473871279604482173e-1, 1.25467687566822425016691814123e-1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [3.7109375e-2, 0.0, 0.0, 1.70252211019544039314978060272e-1, 6.02165389804559606850219397283e-2, -1.7578125e-2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [3.70920001185047927108779319836e-2, 0.0, 0.0, 1.70383925712239993810214054705e-1, 1.07262030446373284651809199168e-1, -1.53194377486244017527936158236e-2, 8.27378916381402288758473766002e-3, 0.0, 0.0, 0.0, 0.0, 0.0],
    [6.24110958716075717114429577812e-1, 0.0, 0.0, -3.36089262944694129406857109825e0, -8.68219346841726006818189891453e-1, 2.75920996994467083049415600797e1, 2.01540675504778934086186788979e1, -4.34898841810699588477366255144e1, 0.0, 0.0, 0.0, 0.0],
    [4.77662536438264365890433908527e-1, 0.0, 0.0, -2.48811461997166764192642586468e0, -5.90290826836842996371446475743e-1, 2.12300514481811942347288949897e1, 1.52792336328824235832596922938e1, -3.32882109689848629194453265587e1, -2.03312017085086261358222928593e-2, 0.0, 0.0, 0.0],
    [-9.3714243008598732571704021658e-1, 0.0, 0.0, 5.18637242884406370830023853209e0, 1.09143734899672957818500254654e0, -8.14978701074692612513997267357e0, -1.85200656599969598641566180701e1, 2.27394870993505042818970056734e1, 2.49360555267965238987089396762e0, -3.0467644718982195003823669022e0, 0.0, 0.0],
    [2.27331014751653820792359768449e0, 0.0, 0.0, -1.05344954667372501984066689879e1, -2.00087205822486249909675718444e0, -1.79589318631187989172765950534e1, 2.79488845294199600508499808837e1, -2.85899827713502369474065508674e0, -8.87285693353062954433549289258e0, 1.23605671757943030647266201528e1, 6.43392746015763530355970484046e-1, 0.0],
];

/// Weights `b_i` of the 8th-order solution.
#[rustfmt::skip]
const B: [f64; STAGES] = [
    5.42937341165687622380535766363e-2, 0.0, 0.0, 0.0, 0.0,
    4.45031289275240888144113950566e0,
    1.89151789931450038304281599044e0,
    -5.8012039600105847814672114227e0,
    3.1116436695781989440891606237e-1,
    -1.52160949662516078556178806805e-1,
    2.01365400804030348374776537501e-1,
    4.47106157277725905176885569043e-2,
];

/// Weights `b̂_i` of the 3rd-order embedded solution (`e₃ = Σ (b_i − b̂_i) k_i`).
#[rustfmt::skip]
const BHH: [f64; STAGES] = [
    0.244094488188976377952755905512e+00, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    0.733846688281611857341361741547e+00, 0.0, 0.0,
    0.220588235294117647058823529412e-01,
];

/// Coefficients of the 5th-order error estimate `e₅ = Σ er_i k_i`.
#[rustfmt::skip]
const ER: [f64; STAGES] = [
    0.1312004499419488073250102996e-01, 0.0, 0.0, 0.0, 0.0,
    -0.1225156446376204440720569753e+01,
    -0.4957589496572501915214079952e+00,
    0.1664377182454986536961530415e+01,
    -0.3503288487499736816886487290e+00,
    0.3341791187130174790297318841e+00,
    0.8192320648511571246570742613e-01,
    -0.2235530786388629525884427845e-01,
];

/// Step-size controller constants of `dop853.f`: safety factor and the bounds of
/// `h_new / h`.
const SAFETY: f64 = 0.9;
const FAC_MIN: f64 = 1.0 / 3.0;
const FAC_MAX: f64 = 6.0;

/// Counters of an integration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dop853Stats {
    /// Accepted steps.
    pub accepted: u64,
    /// Rejected steps (repeated with a smaller step).
    pub rejected: u64,
    /// Evaluations of the right-hand side.
    pub evaluations: u64,
}

/// Adaptive DOP853 integrator with its work arrays for a state of fixed length `n`.
///
/// It keeps the proposed size of the next step between calls of [`Dop853::advance`], so
/// sampling a trajectory at many output times costs little more than integrating it once.
#[derive(Debug, Clone)]
pub struct Dop853 {
    n: usize,
    atol: f64,
    rtol: f64,
    max_steps: u64,
    /// stages `k_1..k_12`, `n` values each
    k: Vec<f64>,
    y_stage: Vec<f64>,
    y_new: Vec<f64>,
    /// proposed next step (0: choose automatically)
    h: f64,
    last_rejected: bool,
    stats: Dop853Stats,
    local_error_sum: f64,
    /// partial sums of the error norm, one per chunk of `PAR_CHUNK` components
    partials: Vec<[f64; 3]>,
}

impl Dop853 {
    /// Integrator for states of length `n` with absolute tolerance `atol > 0` and
    /// relative tolerance `rtol ≥ 0` per component and step (see the module docs).
    /// At most `10⁸` steps per call of [`Dop853::advance`] (change with
    /// [`Dop853::with_max_steps`]).
    ///
    /// # Errors
    /// [`SpinbatError::InvalidParameter`] for a non-finite or non-positive `atol`, or a
    /// negative or non-finite `rtol`.
    pub fn new(n: usize, atol: f64, rtol: f64) -> Result<Self> {
        if !(atol.is_finite() && atol > 0.0) {
            return Err(crate::error::invalid("atol", atol, "must be a finite number > 0"));
        }
        if !(rtol.is_finite() && rtol >= 0.0) {
            return Err(crate::error::invalid("rtol", rtol, "must be a finite number >= 0"));
        }
        Ok(Dop853 {
            n,
            atol,
            rtol,
            max_steps: 100_000_000,
            k: vec![0.0; STAGES * n],
            y_stage: vec![0.0; n],
            y_new: vec![0.0; n],
            h: 0.0,
            last_rejected: false,
            stats: Dop853Stats::default(),
            local_error_sum: 0.0,
            partials: vec![[0.0; 3]; n.div_ceil(PAR_CHUNK).max(1)],
        })
    }

    /// Sets the largest number of steps one call of [`Dop853::advance`] may take.
    pub fn with_max_steps(mut self, max_steps: u64) -> Self {
        self.max_steps = max_steps.max(1);
        self
    }

    /// Absolute tolerance per component and step.
    pub fn atol(&self) -> f64 {
        self.atol
    }

    /// Relative tolerance per component and step.
    pub fn rtol(&self) -> f64 {
        self.rtol
    }

    /// Counters since construction.
    pub fn stats(&self) -> Dop853Stats {
        self.stats
    }

    /// Sum over accepted steps of the Euclidean norm of the estimated local error, plus
    /// `2.2·10⁻¹⁶ √n` per step for rounding, since construction or the last
    /// [`Dop853::reset`]. An *estimate* of the global error when the flow does not amplify
    /// perturbations (for the Bloch equations it rotates them), not a bound.
    pub fn local_error_sum(&self) -> f64 {
        self.local_error_sum
    }

    /// Forgets the proposed step size and zeroes the local-error sum (the counters are
    /// kept); call it when the state is replaced by an unrelated one.
    pub fn reset(&mut self) {
        self.h = 0.0;
        self.last_rejected = false;
        self.local_error_sum = 0.0;
    }

    /// Sets the local-error sum, e.g. to the value it had when a saved state was taken.
    pub fn set_local_error_sum(&mut self, sum: f64) {
        self.local_error_sum = sum;
    }

    /// Integrates `y' = f(t, y)` from `*t` to `t_end ≥ *t`, overwriting `y` and setting
    /// `*t = t_end` exactly. `f(t, y, dydt)` writes the derivative into `dydt`.
    ///
    /// # Errors
    /// [`SpinbatError::NotConverged`] when the step size underflows (`|h|` below ten
    /// rounding units of `t`), when more than the step cap are needed, or when the
    /// right-hand side returns non-finite values; [`SpinbatError::InvalidParameter`] for
    /// `y` of the wrong length or `t_end` not finite or before `*t`. On error `y` and `*t`
    /// hold the last accepted step.
    pub fn advance<F>(&mut self, f: &mut F, t: &mut f64, y: &mut [f64], t_end: f64) -> Result<()>
    where
        F: FnMut(f64, &[f64], &mut [f64]),
    {
        let n = self.n;
        if y.len() != n {
            return Err(crate::error::invalid(
                "state",
                y.len(),
                format!("length must be {n}, the size the integrator was built for"),
            ));
        }
        if !(t_end.is_finite() && t.is_finite() && t_end >= *t) {
            return Err(crate::error::invalid(
                "t_end",
                t_end,
                format!("must be finite and >= the current time {}", *t),
            ));
        }
        if t_end == *t || n == 0 {
            *t = t_end;
            return Ok(());
        }
        f(*t, y, &mut self.k[..n]);
        self.stats.evaluations += 1;
        if !self.k[..n].iter().all(|v| v.is_finite()) {
            return Err(not_converged(format!("the right-hand side is not finite at t = {}", *t)));
        }
        if self.h <= 0.0 {
            self.h = self.initial_step(f, *t, y, t_end - *t);
        }
        let mut steps: u64 = 0;
        loop {
            let remaining = t_end - *t;
            // land on t_end: shorten the step, or stretch it by at most 1 %
            let proposed = self.h;
            let last = *t + 1.01 * proposed >= t_end;
            let h = if last { remaining } else { proposed };
            if steps >= self.max_steps {
                return Err(not_converged(format!(
                    "more than {} steps needed between t = {} and t = {t_end}",
                    self.max_steps, *t
                )));
            }
            // a landing step may be tiny (close output times); any other must not be
            if !last && h <= 10.0 * f64::EPSILON * t.abs().max(f64::MIN_POSITIVE) {
                return Err(not_converged(format!("step size underflow (h = {h:e}) at t = {}", *t)));
            }
            steps += 1;
            self.stages(f, *t, y, h);
            let (err, local_l2) = self.error_norm(y, h);
            if err.is_finite() && err <= 1.0 {
                // accepted
                self.stats.accepted += 1;
                self.local_error_sum += local_l2 + ROUNDING_PER_STEP * (n as f64).sqrt();
                let mut h_new = h * step_factor(err);
                if self.last_rejected {
                    h_new = h_new.min(h);
                }
                self.last_rejected = false;
                y.copy_from_slice(&self.y_new);
                if last {
                    *t = t_end;
                    // keep the unshortened proposal for the next interval
                    self.h = h_new.max(proposed);
                    return Ok(());
                }
                *t += h;
                self.h = h_new;
                f(*t, y, &mut self.k[..n]);
                self.stats.evaluations += 1;
                if !self.k[..n].iter().all(|v| v.is_finite()) {
                    return Err(not_converged(format!("the right-hand side is not finite at t = {}", *t)));
                }
            } else {
                self.stats.rejected += 1;
                self.last_rejected = true;
                self.h = if err.is_finite() { h * (SAFETY * err.powf(-1.0 / 8.0)).max(FAC_MIN) } else { h * 0.1 };
            }
        }
    }

    /// One step of fixed size `h` without error control (for convergence tests and
    /// for callers that choose their own steps); returns the scaled error norm `err` the
    /// adaptive method would have judged the step by.
    ///
    /// # Panics
    /// If `y.len()` is not the length the integrator was built for.
    pub fn fixed_step<F>(&mut self, f: &mut F, t: &mut f64, y: &mut [f64], h: f64) -> f64
    where
        F: FnMut(f64, &[f64], &mut [f64]),
    {
        let n = self.n;
        assert_eq!(y.len(), n, "state length must match the integrator");
        f(*t, y, &mut self.k[..n]);
        self.stats.evaluations += 1;
        self.stages(f, *t, y, h);
        let (err, _) = self.error_norm(y, h);
        y.copy_from_slice(&self.y_new);
        *t += h;
        err
    }

    /// Stages 2..12 (stage 1 must be in `k[0..n]`) and the new solution in `y_new`.
    ///
    /// The linear combinations run over blocks of [`BLOCK`] components (one pass per
    /// non-zero coefficient, so they vectorise), summing the stages in the same order as a
    /// per-component loop would, so the rounding is that of `y_i + h Σ_j a_j k_{j,i}`.
    fn stages<F>(&mut self, f: &mut F, t: f64, y: &[f64], h: f64)
    where
        F: FnMut(f64, &[f64], &mut [f64]),
    {
        let n = self.n;
        for s in 1..STAGES {
            let (done, rest) = self.k.split_at_mut(s * n);
            combine(done, n, &A[s][..s], h, y, &mut self.y_stage);
            f(t + C[s] * h, &self.y_stage, &mut rest[..n]);
        }
        self.stats.evaluations += (STAGES - 1) as u64;
        combine(&self.k, n, &B, h, y, &mut self.y_new);
    }

    /// Scaled error norm `err` of the step just taken (see the module docs) and the
    /// Euclidean norm of the local error estimate it stands for. Sums over fixed chunks of
    /// components (in parallel for large `n`), then over the chunks in order.
    fn error_norm(&mut self, y: &[f64], h: f64) -> (f64, f64) {
        let n = self.n;
        let (k, y_new, atol, rtol) = (&self.k, &self.y_new, self.atol, self.rtol);
        let part = |c: usize| error_sums(k, n, y, y_new, (atol, rtol), c * PAR_CHUNK..((c + 1) * PAR_CHUNK).min(n));
        if self.partials.len() > 1 {
            self.partials.par_iter_mut().enumerate().for_each(|(c, p)| *p = part(c));
        } else {
            self.partials[0] = part(0);
        }
        let [e5, e3, e5_abs] = self.partials.iter().fold([0.0; 3], |a, p| [a[0] + p[0], a[1] + p[1], a[2] + p[2]]);
        let denom = e5 + 0.01 * e3;
        if denom <= 0.0 {
            return (0.0, 0.0);
        }
        let factor = (e5 / denom).sqrt();
        let err = h.abs() * e5 / (n as f64 * denom).sqrt();
        let local_l2 = h.abs() * e5_abs.sqrt() * factor;
        (err, local_l2)
    }

    /// First step, by the recipe of Hairer et al. (Sec. II.4): `h₀ = 0.01 ‖y‖/‖f‖`, then
    /// `h₁` from an estimate of the second derivative, `h = min(100 h₀, h₁, span)`.
    /// Expects `f(t, y)` in `k[0..n]`.
    fn initial_step<F>(&mut self, f: &mut F, t: f64, y: &[f64], span: f64) -> f64
    where
        F: FnMut(f64, &[f64], &mut [f64]),
    {
        let n = self.n;
        let sc = |v: f64| self.atol + self.rtol * v.abs();
        let rms = |it: &mut dyn Iterator<Item = f64>| (it.map(|v| v * v).sum::<f64>() / n as f64).sqrt();
        let d0 = rms(&mut y.iter().map(|&v| v / sc(v)));
        let d1 = rms(&mut y.iter().zip(&self.k[..n]).map(|(&v, &d)| d / sc(v)));
        let mut h0 = if d0 < 1e-5 || d1 < 1e-5 { 1e-6 } else { 0.01 * d0 / d1 };
        h0 = h0.min(span);
        for ((ys, &y0), &d) in self.y_stage.iter_mut().zip(y).zip(&self.k[..n]) {
            *ys = y0 + h0 * d;
        }
        let (first, rest) = self.k.split_at_mut(n);
        f(t + h0, &self.y_stage, &mut rest[..n]);
        self.stats.evaluations += 1;
        let d2 = rms(&mut (0..n).map(|i| (rest[i] - first[i]) / (self.atol + self.rtol * y[i].abs()))) / h0;
        let h1 = if d1.max(d2) <= 1e-15 { (h0 * 1e-3).max(1e-6) } else { (0.01 / d1.max(d2)).powf(1.0 / 8.0) };
        let h = (100.0 * h0).min(h1).min(span);
        if h.is_finite() && h > 0.0 {
            h
        } else {
            span
        }
    }
}

/// `out = y + h Σ_j w_j k_j` (stage `j` at `k[j n..(j+1) n]`, zero weights skipped),
/// summing over `j` in ascending order for each component; in parallel over chunks of
/// `PAR_CHUNK` components for large `n`.
fn combine(k: &[f64], n: usize, w: &[f64], h: f64, y: &[f64], out: &mut [f64]) {
    if n > PAR_CHUNK {
        out.par_chunks_mut(PAR_CHUNK).enumerate().for_each(|(c, o)| combine_range(k, n, w, h, y, c * PAR_CHUNK, o));
    } else {
        combine_range(k, n, w, h, y, 0, out);
    }
}

/// [`combine`] for the components `first..first + out.len()`, in blocks of `BLOCK`.
fn combine_range(k: &[f64], n: usize, w: &[f64], h: f64, y: &[f64], first: usize, out: &mut [f64]) {
    let mut acc = [0.0; BLOCK];
    for (b, o) in out.chunks_mut(BLOCK).enumerate() {
        let (start, len) = (first + b * BLOCK, o.len());
        let acc = &mut acc[..len];
        acc.fill(0.0);
        for (j, &wj) in w.iter().enumerate() {
            if wj != 0.0 {
                for (a, &v) in acc.iter_mut().zip(&k[j * n + start..j * n + start + len]) {
                    *a += wj * v;
                }
            }
        }
        for ((o, &y0), &a) in o.iter_mut().zip(&y[start..start + len]).zip(acc.iter()) {
            *o = y0 + h * a;
        }
    }
}

/// `(Σ (e₅/sc)², Σ (e₃/sc)², Σ e₅²)` over the components `start..end` (see the module
/// docs), in blocks of `BLOCK`.
fn error_sums(
    k: &[f64],
    n: usize,
    y: &[f64],
    y_new: &[f64],
    (atol, rtol): (f64, f64),
    range: Range<usize>,
) -> [f64; 3] {
    let (start, end) = (range.start, range.end);
    let (mut e5, mut e3, mut e5_abs) = (0.0, 0.0, 0.0);
    let mut d5 = [0.0; BLOCK];
    let mut d3 = [0.0; BLOCK];
    let mut i0 = start;
    while i0 < end {
        let len = BLOCK.min(end - i0);
        let (d5, d3) = (&mut d5[..len], &mut d3[..len]);
        d5.fill(0.0);
        d3.fill(0.0);
        for s in 0..STAGES {
            let (w5, w3) = (ER[s], B[s] - BHH[s]);
            if w5 == 0.0 && w3 == 0.0 {
                continue;
            }
            for ((a, b), &v) in d5.iter_mut().zip(d3.iter_mut()).zip(&k[s * n + i0..s * n + i0 + len]) {
                *a += w5 * v;
                *b += w3 * v;
            }
        }
        for (((&a, &b), &y0), &y1) in d5.iter().zip(d3.iter()).zip(&y[i0..i0 + len]).zip(&y_new[i0..i0 + len]) {
            let sc = atol + rtol * y0.abs().max(y1.abs());
            e5 += (a / sc).powi(2);
            e3 += (b / sc).powi(2);
            e5_abs += a * a;
        }
        i0 += len;
    }
    [e5, e3, e5_abs]
}

/// Step-size factor after an accepted step with scaled error `err ≤ 1`.
fn step_factor(err: f64) -> f64 {
    if err <= 0.0 {
        FAC_MAX
    } else {
        (SAFETY * err.powf(-1.0 / 8.0)).clamp(FAC_MIN, FAC_MAX)
    }
}

fn not_converged(reason: String) -> SpinbatError {
    SpinbatError::NotConverged { what: "DOP853 integration", reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Circular Kepler orbit (nonlinear, autonomous): `q'' = −q/|q|³`, `q(0) = (1, 0)`,
    /// `p(0) = (0, 1)`; exact `q(t) = (cos t, sin t)`.
    fn kepler(_t: f64, y: &[f64], d: &mut [f64]) {
        let r3 = (y[0] * y[0] + y[1] * y[1]).powf(1.5);
        d[0] = y[2];
        d[1] = y[3];
        d[2] = -y[0] / r3;
        d[3] = -y[1] / r3;
    }

    /// Non-autonomous and nonlinear: `u' = −2 t u²`, `u(0) = 1`; exact `u = 1/(1+t²)`.
    fn rational(t: f64, y: &[f64], d: &mut [f64]) {
        d[0] = -2.0 * t * y[0] * y[0];
    }

    fn fixed_error(rhs: fn(f64, &[f64], &mut [f64]), y0: &[f64], exact: &[f64], t_end: f64, steps: usize) -> f64 {
        let mut integ = Dop853::new(y0.len(), 1e-10, 0.0).unwrap();
        let mut y = y0.to_vec();
        let mut t = 0.0;
        let h = t_end / steps as f64;
        let mut f = rhs;
        for _ in 0..steps {
            integ.fixed_step(&mut f, &mut t, &mut y, h);
        }
        y.iter().zip(exact).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max)
    }

    #[test]
    fn tableau_is_consistent() {
        // row sums equal the nodes, weights sum to one, error weights to zero
        for s in 0..STAGES {
            let row: f64 = A[s].iter().sum();
            assert!((row - C[s]).abs() < 1e-14, "row {s}: {row} vs {}", C[s]);
        }
        assert!((B.iter().sum::<f64>() - 1.0).abs() < 1e-14);
        assert!((BHH.iter().sum::<f64>() - 1.0).abs() < 1e-14);
        assert!(ER.iter().sum::<f64>().abs() < 1e-14);
        // a few higher order conditions: Σ b c^q = 1/(q+1), q ≤ 7
        for q in 0..8 {
            let s: f64 = B.iter().zip(&C).map(|(b, c)| b * c.powi(q)).sum();
            assert!((s - 1.0 / (q as f64 + 1.0)).abs() < 1e-13, "quadrature order {q}: {s}");
        }
    }

    #[test]
    fn fixed_step_converges_with_order_eight() {
        let t_end: f64 = 2.0;
        // step counts where the error is asymptotic yet well above rounding
        type Problem = (fn(f64, &[f64], &mut [f64]), Vec<f64>, Vec<f64>, Vec<usize>);
        let problems: [Problem; 2] = [
            (
                kepler,
                vec![1.0, 0.0, 0.0, 1.0],
                vec![t_end.cos(), t_end.sin(), -t_end.sin(), t_end.cos()],
                vec![5, 10, 20],
            ),
            (rational, vec![1.0], vec![1.0 / (1.0 + t_end * t_end)], vec![8, 16]),
        ];
        for (rhs, y0, exact, steps) in problems {
            let errs: Vec<f64> = steps.iter().map(|&m| fixed_error(rhs, &y0, &exact, t_end, m)).collect();
            for w in errs.windows(2) {
                let order = (w[0] / w[1]).log2();
                assert!(
                    (7.5..8.8).contains(&order),
                    "observed order {order} (errors {errs:?}) — a wrong coefficient lowers it"
                );
            }
        }
    }

    #[test]
    fn embedded_estimates_have_orders_five_and_three() {
        // local error estimates of one step from q(0): e5 = O(h^6), e3 = O(h^4)
        let est = |h: f64| {
            let mut integ = Dop853::new(4, 1.0, 0.0).unwrap();
            let mut f = kepler;
            let y = [1.0, 0.0, 0.0, 1.0];
            f(0.0, &y, &mut integ.k[..4]);
            integ.stages(&mut f, 0.0, &y, h);
            let (mut d5, mut d3) = (0.0f64, 0.0f64);
            for i in 0..4 {
                let (mut a, mut b) = (0.0, 0.0);
                for s in 0..STAGES {
                    a += ER[s] * integ.k[s * 4 + i];
                    b += (B[s] - BHH[s]) * integ.k[s * 4 + i];
                }
                d5 = d5.max((h * a).abs());
                d3 = d3.max((h * b).abs());
            }
            (d5, d3)
        };
        let (a, b) = (est(0.2), est(0.1));
        let o5 = (a.0 / b.0).log2();
        let o3 = (a.1 / b.1).log2();
        assert!((5.6..6.4).contains(&o5), "e5 local order {o5}");
        assert!((3.6..4.4).contains(&o3), "e3 local order {o3}");
    }

    #[test]
    fn adaptive_meets_tolerance_and_hits_output_times() {
        let mut f = kepler;
        let mut prev_err = f64::INFINITY;
        for tol in [1e-6, 1e-9, 1e-12] {
            let mut integ = Dop853::new(4, tol, tol).unwrap();
            let mut y = [1.0, 0.0, 0.0, 1.0];
            let mut t = 0.0;
            let mut max_err: f64 = 0.0;
            for k in 1..=20 {
                let t_out = 0.5 * k as f64;
                integ.advance(&mut f, &mut t, &mut y, t_out).unwrap();
                assert_eq!(t, t_out);
                max_err = max_err.max((y[0] - t.cos()).abs()).max((y[1] - t.sin()).abs());
            }
            // the global error is the sum of the local ones carried along (it grows with
            // time on this orbit); the sum of the estimates is above it
            let sum = integ.local_error_sum();
            assert!(max_err < 10.0 * tol, "tol {tol}: error {max_err}");
            assert!(max_err < sum && sum < 100.0 * tol, "tol {tol}: error {max_err}, estimate {sum}");
            assert!(max_err < prev_err);
            prev_err = max_err;
        }
    }

    #[test]
    fn failures_are_errors() {
        let mut integ = Dop853::new(1, 1e-10, 0.0).unwrap().with_max_steps(3);
        let mut f = |_t: f64, y: &[f64], d: &mut [f64]| d[0] = y[0].cos() * 50.0;
        let (mut t, mut y) = (0.0, [0.0]);
        assert!(matches!(integ.advance(&mut f, &mut t, &mut y, 100.0), Err(SpinbatError::NotConverged { .. })));
        // finite-time blow-up y' = y², y(0) = 1 at t = 1
        let mut integ = Dop853::new(1, 1e-10, 1e-10).unwrap();
        let mut g = |_t: f64, y: &[f64], d: &mut [f64]| d[0] = y[0] * y[0];
        let (mut t, mut y) = (0.0, [1.0]);
        assert!(integ.advance(&mut g, &mut t, &mut y, 2.0).is_err());
        assert!(t < 1.0 + 1e-6, "stopped at {t}");
        assert!(Dop853::new(1, 0.0, 0.0).is_err());
        assert!(Dop853::new(1, 1e-10, f64::NAN).is_err());
    }
}
