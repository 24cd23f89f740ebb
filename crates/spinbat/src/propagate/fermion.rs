//! Exact propagator for the open nearest-neighbour Ising chain by free fermions: `W(t)` up to
//! [`MAX_SITES`] sites in `O(N⁴)/8` per time, no state vector.
//!
//! **When it applies** ([`applies`]). `α = 0`, the storage field off while charging, and
//! couplings only between neighbours `(i, i+1)` of an open chain (any values `g_i`; the
//! nearest-neighbour pattern, or a matrix with nothing else). The charging Hamiltonian is
//! then the transverse-field Ising chain
//!
//! `H = −Σ_i g_i Z_i Z_{i+1} + Σ_i ω_i X_i`, `ω_i = ω w_i`,
//!
//! free fermions by the Jordan–Wigner transformation along `X`: with the Majorana operators
//! `γ_{2i} = (Π_{j<i} X_j) Z_i`, `γ_{2i+1} = (Π_{j<i} X_j) Y_i` (`{γ_a, γ_b} = 2δ_ab`),
//! `X_i = i γ_{2i} γ_{2i+1}` and `Z_i Z_{i+1} = i γ_{2i+1} γ_{2i+2}`, so
//! `H = (i/4) Σ_ab A_ab γ_a γ_b` with the real antisymmetric `A`:
//! `A_{2i,2i+1} = 2ω_i`, `A_{2i+1,2i+2} = −2g_i`. In the Heisenberg picture
//! `γ_a(t) = Σ_b R_ab(t) γ_b`, `R(t) = e^{At}` (orthogonal), computed from the eigenvectors of
//! the Hermitian `iA = U Λ U†` as `R(t) = U e^{−iΛt} U†`.
//!
//! **The start.** All-down is not Gaussian (it breaks the fermion parity `P = Π X_i`), but
//! it is `(G₊ + G₋)/√2`, `G_± = (|↓…↓⟩ ± |↑…↑⟩)/√2`, two Gaussian states of opposite
//! parity with `G₋ = −γ_0 G₊`. `G₊` has the covariance `Γ⁺_ab = i⟨γ_a γ_b⟩` (`a ≠ b`):
//! `Γ⁺_{2i+1,2i+2} = 1` (every bond satisfied) and `Γ⁺_{0,2N−1} = 1` (the parity).
//!
//! **What is measured.**
//! * The parity-even part: `⟨H_g⟩_t = −Σ g_i Γ_{2i+1,2i+2}(t)` and
//!   `⟨V⟩_t = Σ ω_i Γ_{2i,2i+1}(t)` with `Γ(t) = R Γ̄ Rᵀ`, `Γ̄ = (Γ⁺ + Γ⁻)/2` (the bonds
//!   only: the cross terms between the parities vanish for an even operator).
//! * The parity-odd `H_B = Σ B_i Z_i`: `⟨Z_i⟩_t = Re⟨G₊(t)|Z_i|G₋(t)⟩
//!   = Re(−i^i ⟨γ_0 · γ_0(t) γ_1(t) ⋯ γ_{2i}(t)⟩_{G₊})` (the string
//!   `Z_i = i^i γ_0 ⋯ γ_{2i}`, the conjugated order of the product), a Pfaffian by Wick's
//!   theorem: of the leading `(2i+2) × (2i+2)` block of the antisymmetric `M` over
//!   `η = (γ_0, γ_0(t), …, γ_{2N−1}(t))`, `M_kl = ⟨η_k η_l⟩` (`k < l`), with
//!   `⟨γ_a γ_b⟩ = δ_ab − iΓ⁺_ab`. `⟨Y_i⟩` takes `γ_{2i+1}(t)` in place of `γ_{2i}(t)`: the
//!   block on `0..2i+1` and `2i + 2`. Sites past the middle take the string from the right
//!   end instead, `Z_i = −i^{N−i} P γ_{2i+1} ⋯ γ_{2N−1}` with the parity `P = Π X_j`
//!   (`⟨G₊|P = ⟨G₊|`), `2(N − i)` operators (`string_expectations`). Each Pfaffian by
//!   Parlett–Reid elimination with partial pivoting, `O(N⁴)/8` per time in all. (One
//!   elimination without pivoting
//!   would give every leading block at once, `O(N³)`, but its pivots, ratios of successive
//!   `⟨Z_i⟩`-like products, fall to `~6·10⁻³` and cost two digits: tried, not kept.)
//! * `W(t) = Σ B_i ⟨Z_i⟩ + ⟨H_g⟩ − E_0` and the exact rate
//!   `W'(t) = 2 Σ ω_i B_i ⟨Y_i⟩ − d⟨V⟩/dt` (`d⟨H_B⟩/dt = i⟨[V, H_B]⟩`, and
//!   `d⟨H_g⟩/dt = −d⟨V⟩/dt` by energy conservation), `dR/dt = AR`.
//!
//! **Time-dependent fields.** A piecewise-constant `ω(t)` ([`FreeFermion::with_schedule`])
//! keeps `H(t)` quadratic: `R(t) = e^{A_k(t − t_{k−1})} R(t_{k−1})`, one eigendecomposition
//! a segment; `W'` takes the field of the segment that holds `t` (a boundary belongs to the
//! segment it ends). A drive `ω + A cos νt` is not piecewise constant: it runs on Chebyshev.
//!
//! **Accuracy.** Exact up to rounding; the rounding is estimated, not bounded, as for
//! [`super::Dense`]: `c ε_mach (2N + 1) (Σ|B_i| + Σ|g_i| + Σ|ω_i|)` with
//! `c =` [`ROUNDING_FACTOR`]. Each sample is independent (random access from the
//! eigendecomposition, no anchor, no error accumulated over time).
//!
//! **Cost.** `O(N²)` memory; `O(N⁴)/8` per time (the Pfaffians of the shorter strings), the
//! times in parallel, each reported done as it finishes ([`Propagator::live_reach`]): the
//! default `spinbat charge` (about 250 times) takes 0.08 s at `N = 28`, 16 s at `N = 128`,
//! 84 s at `N = 200`; up to [`MAX_SITES`].

use super::method::{check_times, check_within, protocol_scan_step, protocol_work_bound, Propagator, WorkSample};
use crate::error::{invalid, Result, SpinbatError};
use crate::model::{Boundary, Chain, Protocol, Schedule};
use faer::{Mat, Side};
use num_complex::Complex64;
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Largest `N` the solver takes: one time costs about `0.12 s · (N/128)⁴` of CPU on the
/// development machine, so at `N = 1024` about 8 minutes a time, a few hours for a curve
/// (announced by the progress, stopped by a time limit); beyond, a single time would run
/// for hours before any progress could be reported.
pub const MAX_SITES: usize = 1024;

/// The constant of the rounding estimate `c ε_mach (2N + 1) (Σ|B_i| + Σ|g_i| + Σ|ω_i|)`
/// (module docs): the largest error of `W` against the dense solver at `N ≤ 10` and
/// Chebyshev at `N ≤ 20` was below a quarter of it in the tests.
pub const ROUNDING_FACTOR: f64 = 8.0;

/// Whether the charging dynamics of `chain` is free fermions ([`FreeFermion`]): `α = 0`,
/// the field off while charging, `N ≥ 2`, and couplings only between neighbours `(i, i+1)`
/// of an open chain (a ring of `N ≥ 3` couples `(0, N−1)`, which is not quadratic in these
/// fermions).
pub fn applies(chain: &Chain) -> bool {
    let n = chain.n_sites();
    if n < 2 || chain.alpha() != 0.0 || chain.keep_field() {
        return false;
    }
    chain.pairs().iter().all(|&(i, j, _)| j == i + 1)
        && (chain.boundary() == Boundary::Open || n == 2 || chain.coupling(0, n - 1) == 0.0)
}

/// The free-fermion propagator of the open nearest-neighbour Ising chain (module docs).
#[derive(Debug)]
pub struct FreeFermion {
    n: usize,
    /// the field's segments (one, without end, for a constant field)
    segments: Vec<Segment>,
    /// the field schedule, if any (its work bound and scan step)
    schedule: Option<Schedule>,
    /// the bonds `g_i` (`N − 1`), the storage fields `B_i`
    g: Vec<f64>,
    b: Vec<f64>,
    e0: f64,
    /// the latest time whose sample is done (`f64` bits), for progress within a call
    reach: Arc<AtomicU64>,
    /// the rounding estimate of every sample (module docs), `max_err` once one is served
    rounding: f64,
    max_err: f64,
}

impl FreeFermion {
    /// The propagator of `chain`: `A` built and diagonalised once (`O(N³)`).
    ///
    /// # Errors
    /// [`SpinbatError::Unsupported`] where [`applies`] is false;
    /// [`SpinbatError::NotConverged`] if the eigensolver fails.
    pub fn new(chain: &Chain) -> Result<Self> {
        FreeFermion::with_fields(chain, &[(f64::INFINITY, chain.omega())], None)
    }

    /// The propagator of `chain` charged by the piecewise-constant field `ω(t)` of
    /// `schedule` (`V(t) = ω(t) Σ_i w_i X_i`, still free fermions):
    /// `R(t) = e^{A_k(t − t_{k−1})} ⋯ e^{A_1 t_1}`, one eigendecomposition a segment; times
    /// past the schedule's end are refused, as [`super::schedule::Scheduled`] does.
    ///
    /// # Errors
    /// As [`FreeFermion::new`].
    pub fn with_schedule(chain: &Chain, schedule: &Schedule) -> Result<Self> {
        let fields: Vec<(f64, f64)> = schedule.ends().iter().copied().zip(schedule.omegas().iter().copied()).collect();
        FreeFermion::with_fields(chain, &fields, Some(schedule.clone()))
    }

    /// The propagator of `chain` under the field `ω_k` up to `end_k` for each `(end_k, ω_k)`
    /// of `fields` (ascending ends; the last may be `∞`), with the rounding estimate's
    /// scale `Σ|B_i| + Σ|g_i| + K max_k|ω_k| Σ_i|w_i|` (`Σ|ω_i|` for a constant field).
    fn with_fields(chain: &Chain, fields: &[(f64, f64)], schedule: Option<Schedule>) -> Result<Self> {
        let n = chain.n_sites();
        if n > MAX_SITES {
            return Err(SpinbatError::Unsupported {
                solver: "free-fermion",
                reason: format!(
                    "N = {n} is past {MAX_SITES} sites: each time would cost about {:.0} s of CPU (O(N^4) Pfaffians)",
                    0.12 * (n as f64 / 128.0).powi(4)
                ),
            });
        }
        if !applies(chain) {
            return Err(SpinbatError::Unsupported {
                solver: "free-fermion",
                reason: "free fermions need alpha = 0, the field off while charging and couplings only between \
                         neighbours of an open chain"
                    .to_string(),
            });
        }
        let g: Vec<f64> = (0..n - 1).map(|i| chain.coupling(i, i + 1)).collect();
        let weights: Vec<f64> = (0..n).map(|i| chain.omega_weight(i)).collect();
        let b: Vec<f64> = (0..n).map(|i| chain.field(i)).collect();
        let omega_max = fields.iter().fold(0.0f64, |a, &(_, w)| a.max(w.abs()));
        if g.iter().chain(&weights).chain(&b).chain(&[omega_max]).any(|v| !v.is_finite()) {
            return Err(invalid("chain", "non-finite parameters", "couplings and fields must be finite"));
        }
        let mut segments = Vec::with_capacity(fields.len());
        let mut start = 0.0;
        let mut at_start: Option<Vec<f64>> = None;
        for &(end, w) in fields {
            let seg = Segment::new(&g, weights.iter().map(|x| w * x).collect(), start, end, at_start)?;
            at_start = end.is_finite().then(|| seg.rotation(end));
            segments.push(seg);
            start = end;
        }
        let omega_scale = fields.len() as f64 * omega_max * weights.iter().map(|x| x.abs()).sum::<f64>();
        let scale = b.iter().chain(&g).map(|v| v.abs()).sum::<f64>() + omega_scale;
        Ok(FreeFermion {
            n,
            segments,
            schedule,
            g,
            b,
            e0: chain.initial_energy(),
            reach: Arc::new(AtomicU64::new(0)),
            rounding: ROUNDING_FACTOR * f64::EPSILON * (2 * n + 1) as f64 * scale,
            max_err: 0.0,
        })
    }

    /// `W(t)` and `W'(t)` (module docs).
    fn at(&self, t: f64) -> WorkSample {
        let n = self.n;
        let m = 2 * n;
        // the segment holding t (a boundary belongs to the segment it ends, as in Scheduled)
        let seg = &self.segments[self.segments.iter().position(|s| t <= s.end).unwrap_or(self.segments.len() - 1)];
        let omega = &seg.omega;
        let r = seg.rotation(t);
        let row = |a: usize| &r[a * m..(a + 1) * m];
        // dR/dt = A R: row a of AR from the (at most two) neighbours of a in A
        let a_row = |a: usize| -> Vec<f64> {
            let mut out = vec![0.0; m];
            for (c, coef) in a_entries(&self.g, omega, a) {
                for (o, x) in out.iter_mut().zip(row(c)) {
                    *o += coef * x;
                }
            }
            out
        };
        // Γ̄(t)_{ab} = Σ_j (R_{a,2j+1} R_{b,2j+2} − R_{a,2j+2} R_{b,2j+1}) over the bonds j
        let bond_cov = |x: &[f64], y: &[f64]| -> f64 {
            (0..n - 1).map(|j| x[2 * j + 1] * y[2 * j + 2] - x[2 * j + 2] * y[2 * j + 1]).sum()
        };
        let h_g: f64 = (0..n - 1).map(|i| -self.g[i] * bond_cov(row(2 * i + 1), row(2 * i + 2))).sum();
        let dv: f64 = (0..n)
            .map(|i| {
                let (x, y) = (row(2 * i), row(2 * i + 1));
                let (dx, dy) = (a_row(2 * i), a_row(2 * i + 1));
                omega[i] * (bond_cov(&dx, y) + bond_cov(x, &dy))
            })
            .sum();
        // M over η = (γ_0, γ_0(t), …, γ_{2N−1}(t)): M_{k+1,l+1} = −i (R Γ⁺ Rᵀ)_{kl},
        // M_{0,l+1} = R_{l,0} − i R_{l,2N−1}
        let gamma_plus_row = |x: &[f64]| -> Vec<f64> {
            // (x Γ⁺)_c = Σ_d x_d Γ⁺_{dc}
            let mut out = vec![0.0; m];
            for j in 0..n - 1 {
                out[2 * j + 2] += x[2 * j + 1];
                out[2 * j + 1] -= x[2 * j + 2];
            }
            out[m - 1] += x[0];
            out[0] -= x[m - 1];
            out
        };
        // Q = R Γ⁺ Rᵀ: ⟨γ_a(t) γ_b(t)⟩ = −i Q_ab (a ≠ b); ⟨γ_0 γ_b(t)⟩ = R_{b,0} − i R_{b,2N−1},
        // ⟨γ_b(t) γ_0⟩ = R_{b,0} + i R_{b,2N−1}
        let rg: Vec<Vec<f64>> = (0..m).map(|k| gamma_plus_row(row(k))).collect();
        let mut q = vec![0.0; m * m];
        for k in 0..m {
            for l in k + 1..m {
                let v: f64 = rg[k].iter().zip(row(l)).map(|(a, b)| a * b).sum();
                q[k * m + l] = v;
                q[l * m + k] = -v;
            }
        }
        let edge: Vec<(f64, f64)> = (0..m).map(|b| (r[b * m], r[b * m + m - 1])).collect();
        let (z, y) = string_expectations(&q, &edge, n);
        let h_b: f64 = self.b.iter().zip(&z).map(|(b, z)| b * z).sum();
        let work = h_b + h_g - self.e0;
        let rate = 2.0 * omega.iter().zip(&self.b).zip(&y).map(|((w, b), y)| w * b * y).sum::<f64>() - dv;
        WorkSample { t, work, rate }
    }
}

/// One constant field `ω_k` on `(start, end]`: `R(t) = e^{A_k(t − start)} R(start)`.
#[derive(Debug)]
struct Segment {
    start: f64,
    end: f64,
    /// `ω_i = ω_k w_i`
    omega: Vec<f64>,
    /// eigenvectors of `iA_k` (columns) and its eigenvalues
    u: Mat<Complex64>,
    lambda: Vec<f64>,
    /// `R(start)`, row-major; `None` for the identity (the first segment)
    at_start: Option<Vec<f64>>,
}

impl Segment {
    /// The segment of the field `omega` (per site) on `(start, end]`, from `R(start)`.
    fn new(g: &[f64], omega: Vec<f64>, start: f64, end: f64, at_start: Option<Vec<f64>>) -> Result<Self> {
        let m = 2 * omega.len();
        // iA: Hermitian, (iA)_ab = i A_ab
        let a = a_matrix(g, &omega);
        let ia = Mat::<Complex64>::from_fn(m, m, |r, c| Complex64::new(0.0, a[r * m + c]));
        let eig = ia.self_adjoint_eigen(Side::Lower).map_err(|e| SpinbatError::NotConverged {
            what: "free-fermion eigendecomposition",
            reason: format!("{e:?}"),
        })?;
        let lambda: Vec<f64> = (0..m).map(|k| eig.S().column_vector()[k].re).collect();
        Ok(Segment { start, end, omega, u: eig.U().to_owned(), lambda, at_start })
    }

    /// `R(t) = e^{A(t − start)} R(start)`, row-major `2N × 2N`.
    fn rotation(&self, t: f64) -> Vec<f64> {
        let m = self.lambda.len();
        let tau = t - self.start;
        let phased = Mat::<Complex64>::from_fn(m, m, |r, k| {
            let (s, c) = (-self.lambda[k] * tau).sin_cos();
            self.u[(r, k)] * Complex64::new(c, s)
        });
        let e = &phased * self.u.adjoint();
        let mut out = vec![0.0; m * m];
        match &self.at_start {
            None => {
                for i in 0..m {
                    for j in 0..m {
                        out[i * m + j] = e[(i, j)].re;
                    }
                }
            }
            Some(r0) => {
                for i in 0..m {
                    for l in 0..m {
                        let x = e[(i, l)].re;
                        for (o, y) in out[i * m..(i + 1) * m].iter_mut().zip(&r0[l * m..(l + 1) * m]) {
                            *o += x * y;
                        }
                    }
                }
            }
        }
        out
    }
}

/// `A` (row-major `2N × 2N`): `A_{2i,2i+1} = 2ω_i`, `A_{2i+1,2i+2} = −2g_i`, antisymmetric.
fn a_matrix(g: &[f64], omega: &[f64]) -> Vec<f64> {
    let m = 2 * omega.len();
    let mut a = vec![0.0; m * m];
    for a_idx in 0..m {
        for (c, v) in a_entries(g, omega, a_idx) {
            a[a_idx * m + c] = v;
        }
    }
    a
}

/// The non-zero entries `(c, A_ac)` of row `a` of `A`.
fn a_entries(g: &[f64], omega: &[f64], a: usize) -> Vec<(usize, f64)> {
    let i = a / 2;
    let mut out = Vec::with_capacity(2);
    if a.is_multiple_of(2) {
        out.push((a + 1, 2.0 * omega[i]));
        if i > 0 {
            out.push((a - 1, 2.0 * g[i - 1]));
        }
    } else {
        out.push((a - 1, -2.0 * omega[i]));
        if i + 1 < omega.len() {
            out.push((a + 1, -2.0 * g[i]));
        }
    }
    out
}

/// `(⟨Z_i⟩, ⟨Y_i⟩)` of every site (module docs) from `Q = RΓ⁺Rᵀ` (row-major `2N × 2N`) and
/// `(R_{b,0}, R_{b,2N−1})`: each a pivoted Pfaffian over the shorter of the site's two
/// strings, `O(N⁴)/8` in all:
/// * from the left, `Z_i = i^i γ_0 ⋯ γ_{2i}`: `⟨Z_i⟩ = Re(−i^i ⟨γ_0 · γ_0(t) ⋯ γ_{2i}(t)⟩)`,
///   `Y_i` with `γ_{2i+1}` last;
/// * from the right, `Z_i = −i^{N−i} P γ_{2i+1} ⋯ γ_{2N−1}` (`P = Π X_j`, `⟨G₊|P = ⟨G₊|`):
///   `⟨Z_i⟩ = Re(i^{N−i} ⟨γ_{2i+1}(t) ⋯ γ_{2N−1}(t) · γ_0⟩)`, and
///   `Y_i = i^{N−i} P γ_{2i} γ_{2i+2} ⋯ γ_{2N−1}`: `⟨Y_i⟩ = Re(−i^{N−i} ⟨⋯ · γ_0⟩)`.
fn string_expectations(q: &[f64], edge: &[(f64, f64)], n: usize) -> (Vec<f64>, Vec<f64>) {
    let m = 2 * n;
    // i^k
    let ipow = |k: usize| match k % 4 {
        0 => Complex64::new(1.0, 0.0),
        1 => Complex64::new(0.0, 1.0),
        2 => Complex64::new(-1.0, 0.0),
        _ => Complex64::new(0.0, -1.0),
    };
    let mut work = Vec::with_capacity((m + 1) * (m + 1));
    let mut ops: Vec<usize> = Vec::with_capacity(m);
    let (mut z, mut y) = (vec![0.0; n], vec![0.0; n]);
    for i in 0..n {
        if 2 * i + 2 <= 2 * (n - i) {
            ops.clear();
            ops.extend(0..=2 * i);
            z[i] = (-ipow(i) * string_pfaffian(q, edge, m, &ops, true, &mut work)).re;
            ops[2 * i] = 2 * i + 1;
            y[i] = (-ipow(i) * string_pfaffian(q, edge, m, &ops, true, &mut work)).re;
        } else {
            ops.clear();
            ops.extend(2 * i + 1..m);
            z[i] = (ipow(n - i) * string_pfaffian(q, edge, m, &ops, false, &mut work)).re;
            ops.clear();
            ops.push(2 * i);
            ops.extend(2 * i + 2..m);
            y[i] = (-ipow(n - i) * string_pfaffian(q, edge, m, &ops, false, &mut work)).re;
        }
    }
    (z, y)
}

/// `⟨γ_0 · γ_{o_1}(t) ⋯ γ_{o_L}(t)⟩` (`zero_first`) or `⟨γ_{o_1}(t) ⋯ γ_{o_L}(t) · γ_0⟩` in
/// `G₊`, by Wick's theorem: the pivoted Pfaffian of the contractions, built in `work`.
fn string_pfaffian(
    q: &[f64],
    edge: &[(f64, f64)],
    m: usize,
    ops: &[usize],
    zero_first: bool,
    work: &mut Vec<Complex64>,
) -> Complex64 {
    let size = ops.len() + 1;
    work.clear();
    work.resize(size * size, Complex64::new(0.0, 0.0));
    let off = usize::from(zero_first);
    for (k, &a) in ops.iter().enumerate() {
        for (l, &b) in ops.iter().enumerate().skip(k + 1) {
            let v = Complex64::new(0.0, -q[a * m + b]);
            work[(k + off) * size + l + off] = v;
            work[(l + off) * size + k + off] = -v;
        }
        let (r0, r1) = edge[a];
        if zero_first {
            let v = Complex64::new(r0, -r1);
            work[k + 1] = v;
            work[(k + 1) * size] = -v;
        } else {
            let v = Complex64::new(r0, r1);
            work[k * size + size - 1] = v;
            work[(size - 1) * size + k] = -v;
        }
    }
    pfaffian_in_place(work, size)
}

/// The Pfaffian of an antisymmetric complex matrix (rows of equal length `n`, `n` even;
/// `0` for odd `n`) by Parlett–Reid elimination with partial pivoting, `O(n³)`.
pub fn pfaffian(a: &[Vec<Complex64>]) -> Complex64 {
    let n = a.len();
    let mut flat: Vec<Complex64> = a.iter().flat_map(|r| r.iter().copied()).collect();
    pfaffian_in_place(&mut flat, n)
}

/// [`pfaffian`] of the row-major `n × n` matrix `a`, overwritten.
fn pfaffian_in_place(a: &mut [Complex64], n: usize) -> Complex64 {
    if n % 2 == 1 {
        return Complex64::new(0.0, 0.0);
    }
    let mut result = Complex64::new(1.0, 0.0);
    let mut tau = vec![Complex64::new(0.0, 0.0); n];
    let mut col = vec![Complex64::new(0.0, 0.0); n];
    for k in (0..n.saturating_sub(1)).step_by(2) {
        // the largest entry of column k below row k becomes the pivot a[k][k+1]
        let p = (k + 1..n).max_by(|&x, &y| a[x * n + k].norm().total_cmp(&a[y * n + k].norm())).unwrap_or(k + 1);
        if p != k + 1 {
            for c in 0..n {
                a.swap((k + 1) * n + c, p * n + c);
            }
            for r in 0..n {
                a.swap(r * n + k + 1, r * n + p);
            }
            result = -result;
        }
        let piv = a[k * n + k + 1];
        if piv.norm() == 0.0 {
            return Complex64::new(0.0, 0.0);
        }
        result *= piv;
        let rest = n - (k + 2);
        for j in 0..rest {
            tau[j] = a[k * n + k + 2 + j] / piv;
            col[j] = a[(k + 2 + j) * n + k + 1];
        }
        for ri in 0..rest {
            let row = &mut a[(k + 2 + ri) * n + k + 2..(k + 3 + ri) * n];
            let (t_r, c_r) = (tau[ri], col[ri]);
            for ((v, t), c) in row.iter_mut().zip(&tau[..rest]).zip(&col[..rest]) {
                *v += t_r * c - c_r * t;
            }
        }
    }
    result
}

impl Propagator for FreeFermion {
    fn name(&self) -> &'static str {
        "free-fermion"
    }

    /// Every time independently, in parallel.
    fn sample(&mut self, times: &[f64]) -> Result<Vec<WorkSample>> {
        check_times(times)?;
        check_within(times, self.schedule.as_ref().map(Schedule::end))?;
        // the times in parallel, in order: the reach is the latest time done (non-negative
        // f64 bits order as integers)
        let out: Vec<WorkSample> = times
            .par_iter()
            .map(|&t| {
                let s = self.at(t);
                self.reach.fetch_max(t.to_bits(), Ordering::Relaxed);
                s
            })
            .collect();
        if let Some(s) = out.iter().find(|s| !(s.work.is_finite() && s.rate.is_finite())) {
            return Err(SpinbatError::NotConverged {
                what: "free-fermion Pfaffians",
                reason: format!("non-finite W at t = {}", s.t),
            });
        }
        if !out.is_empty() {
            self.max_err = self.rounding;
        }
        Ok(out)
    }

    fn error_bound(&self) -> f64 {
        self.max_err
    }

    /// A schedule's bound ([`protocol_work_bound`]: its largest field plus its total
    /// variation); the chain's own for a constant field.
    fn work_bound(&self, chain: &Chain) -> f64 {
        match &self.schedule {
            Some(s) => protocol_work_bound(chain, &Protocol::Schedule(s.clone()), chain.h_g_max_bound()),
            None => chain.work_bound(),
        }
    }

    fn scan_step(&self, chain: &Chain) -> f64 {
        match &self.schedule {
            Some(s) => protocol_scan_step(chain, &Protocol::Schedule(s.clone())),
            None => super::method::scan_step(chain),
        }
    }

    fn end_time(&self) -> Option<f64> {
        self.schedule.as_ref().map(Schedule::end)
    }

    /// The latest time sampled, within a call: at large `N` one call runs for minutes.
    fn live_reach(&self) -> Option<Arc<AtomicU64>> {
        Some(Arc::clone(&self.reach))
    }

    fn accuracy_note(&self) -> String {
        format!(
            "free fermions (Jordan-Wigner, Pfaffians), exact; rounding estimate {ROUNDING_FACTOR} eps (2N+1) \
             (sum|B| + sum|g| + sum|omega|) = {:.1e}",
            self.max_err
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 4 × 4 antisymmetric matrix: `Pf = a01 a23 − a02 a13 + a03 a12`.
    #[test]
    fn pfaffian_of_four_by_four_is_the_closed_form() {
        let c = |re: f64, im: f64| Complex64::new(re, im);
        let (a01, a02, a03, a12, a13, a23) =
            (c(0.3, 1.0), c(-2.0, 0.5), c(0.7, -0.1), c(1.1, 0.2), c(0.0, -0.9), c(0.4, 0.4));
        let z = c(0.0, 0.0);
        let m =
            vec![vec![z, a01, a02, a03], vec![-a01, z, a12, a13], vec![-a02, -a12, z, a23], vec![-a03, -a13, -a23, z]];
        let want = a01 * a23 - a02 * a13 + a03 * a12;
        assert!((pfaffian(&m) - want).norm() < 1e-14);
    }
}
