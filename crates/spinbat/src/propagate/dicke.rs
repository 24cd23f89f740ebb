//! Exact propagator for permutation-symmetric chains, in the `N + 1` Dicke states.
//!
//! **When it applies.** All couplings equal, `g_ij = g'` for every `i ≠ j`: the power law
//! with `p = 0` (open or periodic), an explicit matrix whose off-diagonal entries are all
//! equal, nearest neighbour when that happens to couple every pair (`N ≤ 2`, or `N = 3`
//! periodic). Then `ψ(t)` stays in the `N + 1` Dicke states, the space
//! [`DickeSpace`] (matrix elements `d_k`, `β_k`, `ε_k` there).
//! [`is_permutation_symmetric`] checks the couplings for exact equality (`O(N)` for
//! distance-based patterns, `O(N²)` for a matrix).
//!
//! **Method.** `H` is the tridiagonal `T = diag(d) + offdiag(β)`; one product costs `O(N)`.
//! With strong couplings its spectrum is wide (`‖T‖ ≈ |g'(1 − α)| N²/4`) while the state
//! stays within a few `k` of `k = 0`, where `d_k` sits at an edge, so two exact schemes are
//! combined:
//! 1. *Eigen window.* `T_K`, the leading `K × K` block, is diagonalised (faer, `O(K³)`);
//!    then `ψ̃(t) = Σ_j a_j e^{−iE_j t} v_j`, `a_j = v_j[0]`, costs `O(K²)` at any `t`
//!    (random access; no anchor needed). Duhamel's formula bounds the leak out of the
//!    window rigorously: `‖ψ(t) − ψ̃(t)‖ ≤ β_{K−1} ∫_0^t |ψ̃_{K−1}(s)| ds`, and
//!    `ψ̃_{K−1}(s) = Σ_j v_j[0] v_j[K−1] e^{−iE_j s} = P · f[E_1, …, E_K]`, the divided
//!    difference of `f(z) = e^{−izs}` times `P = Π_{q<K−1} β_q` (residues of
//!    `[(z − T_K)^{−1}]_{0,K−1} = P / det(z − T_K)`). Hence two bounds, whichever is smaller:
//!    * `|ψ̃_{K−1}(s)| ≤ R = Σ_j P / Π_{l≠j} |E_j − E_l|` (from the eigenvalues alone,
//!      each gap shrunk by a generous eigenvalue error, so accurate where the
//!      eigenvectors' tiny components are rounding noise), giving `β_{K−1} R t`;
//!    * Hermite–Genocchi, `|f[E_1..E_K]| ≤ s^{K−1}/(K−1)!`, giving the light cone
//!      `β_{K−1} P t^K / K!` (early times, before the state reaches the edge).
//!
//!    `K` starts at 16 and doubles whenever the bound, turned into a bound on `W` (below),
//!    exceeds `tol/2` at a requested time; `K = N + 1` has no leak at all.
//! 2. *Chebyshev*: the propagator [`super::Chebyshev`] itself on the space [`DickeSpace`]
//!    (the same expansion, batches, anchor and restart, checkpoint and error bound as on
//!    the full space), from the window's state at its last covered time, or from all-down
//!    at `t = 0` by the real path with [`DickeMethod::Chebyshev`]. `O(N)` per term,
//!    `≈ ‖T‖ δ` terms.
//!
//! [`DickeMethod::Auto`] grows the window while the larger window is estimated to be cheaper
//! than Chebyshev (and at most [`DEFAULT_MAX_WINDOW`]); after that Chebyshev continues from
//! the window's state at the last time the window covered (earlier times are still served
//! by the window). [`DickeMethod::Eigen`], [`DickeMethod::Window`] and
//! [`DickeMethod::Chebyshev`] force one scheme or a fixed cap.
//!
//! **Error control.** A state error `e` moves `W = ⟨ψ|ε|ψ⟩` by at most
//! `e (2‖εψ̃‖ + ‖ε‖ e)` (`ψ̃` the computed state, `‖ε‖ = max_k |ε_k|`): this uses the
//! energy the state actually has rather than `‖H0‖ ≈ g'N²/2`. `e` is the leak bound
//! (window) or the accumulated Chebyshev tails (`≤ tol/(2‖H0‖) · 10⁻³` per step, bounded
//! as in [`super::Chebyshev`], [`crate::operator::Moments::work_error`]). Rounding is
//! estimated, not bounded: `ε_mach (K + ‖T_K‖ t)` on the state for the window (as
//! [`super::Dense`]), `4u` per Chebyshev term. [`Propagator::error_bound`] reports the
//! largest sum over the samples returned.
//!
//! **Cost.** Memory `O(K²)` for the window (its eigenvectors and faer's workspace; no
//! `O(N)` array at all), [`CHEB_BYTES_PER_STATE`]` · (N + 1)` (584 bytes per Dicke state)
//! once Chebyshev runs, checked against the available memory first. For `N = 10⁴`,
//! `p = 0`, `α = 0`, `g = 1`, `ω = 4` the window stays at `K = 16` and
//! [`crate::observe::charge`] takes 0.01–0.03 s (13 000 samples at ~1 µs each; linear in
//! `N` through the scan step). Weak effective coupling (`|g'(1 − α)| N ≲ ω`, e.g. XXX)
//! spreads the state over all `k`: then Chebyshev runs with `‖T‖ ≈ ωN`.

use super::chebyshev::Chebyshev;
use super::checkpoint::Saved;
use super::method::{check_times, Propagator, WorkSample};
use crate::error::{invalid, Result, SpinbatError};
use crate::model::Chain;
use crate::symmetry::dicke::DickeSpace;
use faer::{Mat, Side};
use num_complex::Complex64;

/// Largest eigen window [`DickeMethod::Auto`] uses by default (faer's dense symmetric
/// eigensolver costs `O(K³)`; beyond this the Chebyshev scheme takes over).
pub const DEFAULT_MAX_WINDOW: usize = 1024;

/// Cost of diagonalising a `K × K` window per `K³`, in units of one Chebyshev term on one
/// Dicke state (faer's eigensolver against the recurrence with its accumulations, measured).
const EIGEN_PER_CHEB: f64 = 0.05;

/// First eigen window.
const FIRST_WINDOW: usize = 16;

/// Share of `tol` the window's leak bound may use at each sample before the window grows.
const WINDOW_SHARE: f64 = 0.5;

/// Eigenvalue error assumed for the leak bound, in units of `ε_mach K ‖T_K‖`.
const EIGEN_ERROR: f64 = 4.0;

/// Bytes per Dicke state the Chebyshev scheme holds: the Chebyshev propagator's own
/// (state, recurrence vector, anchor, `56` bytes), the handed-over base (`16`) and up to
/// 32 accumulated states (the Chebyshev propagator's most per batch) (`16` each): `584` (the `8` of a stored diagonal, which this space computes on the fly, counted too).
pub const CHEB_BYTES_PER_STATE: f64 = 584.0;

/// Times evaluated per matrix product in the eigen window.
const WINDOW_BATCH: usize = 64;

/// How [`Dicke`] propagates (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DickeMethod {
    /// Eigen windows while a larger window is estimated to cost less than Chebyshev on all
    /// `N + 1` states would (and at most [`DEFAULT_MAX_WINDOW`] states), then Chebyshev.
    #[default]
    Auto,
    /// Eigen windows only, growing up to all `N + 1` states if need be.
    Eigen,
    /// Eigen windows of at most `max_window` states (no cost estimate), then Chebyshev.
    Window {
        /// Largest window to diagonalise.
        max_window: usize,
    },
    /// Chebyshev on all `N + 1` states from `t = 0`.
    Chebyshev,
}

pub use crate::symmetry::is_permutation_symmetric;

/// Bound on the change of `W` from a state error `e` of the window's (unnormalised)
/// state: `e (2‖εψ̃‖ + ‖ε‖ e)`.
fn work_error(e: f64, eps_psi: f64, work_norm: f64) -> f64 {
    if e == 0.0 {
        0.0
    } else {
        e * (2.0 * eps_psi + work_norm * e)
    }
}

/// The leading `K × K` block of `T`, diagonalised.
struct Window {
    dim: usize,
    energies: Vec<f64>,
    /// `a_j = v_j[0]`
    amps: Vec<f64>,
    /// eigenvectors as columns (for large windows: matrix products)
    u: Mat<f64>,
    /// the same, row-major `u[k·K + j]` (for small windows: plain loops)
    rows: Vec<f64>,
    /// leak out of the window (all zero for the whole space): `β_{K−1}`,
    /// `R = Σ_j |v_j[0] v_j[K−1]|` and `ln(Π_{q<K−1} β_q / K!)`
    beta_out: f64,
    corner_sup: f64,
    ln_light_cone: f64,
    /// `‖T_K‖ = max |E_j|`
    h_norm: f64,
}

/// Windows up to this size are evaluated with plain loops, larger ones by matrix products.
const SMALL_WINDOW: usize = 128;

impl Window {
    fn new(el: &DickeSpace, dim: usize) -> Result<Self> {
        let h = Mat::<f64>::from_fn(dim, dim, |r, c| {
            if r == c {
                el.h_diag_rel(r)
            } else if r == c + 1 {
                el.off(c)
            } else if c == r + 1 {
                el.off(r)
            } else {
                0.0
            }
        });
        let evd = h.self_adjoint_eigen(Side::Lower).map_err(|e| SpinbatError::NotConverged {
            what: "Dicke window eigendecomposition",
            reason: format!("{e:?}"),
        })?;
        // faer's vector kernels leave state that slows this crate's kernels (numeric::simd)
        crate::numeric::simd::clear_upper_state();
        let u = evd.U().to_owned();
        let energies: Vec<f64> = (0..dim).map(|m| evd.S().column_vector()[m]).collect();
        let amps: Vec<f64> = (0..dim).map(|m| u[(0, m)]).collect();
        let rows =
            if dim <= SMALL_WINDOW { (0..dim * dim).map(|i| u[(i / dim, i % dim)]).collect() } else { Vec::new() };
        let h_norm = energies.iter().fold(0.0f64, |a, e| a.max(e.abs()));
        let (beta_out, corner_sup, ln_light_cone) = if dim == el.len() {
            (0.0, 0.0, f64::NEG_INFINITY)
        } else {
            let ln_beta: f64 = (0..dim - 1).map(|q| el.off(q).ln()).sum();
            let ln_fact: f64 = (2..=dim).map(|i| (i as f64).ln()).sum();
            (el.off(dim - 1), corner_residue_sum(el, &energies, h_norm), ln_beta - ln_fact)
        };
        Ok(Window { dim, energies, amps, u, rows, beta_out, corner_sup, ln_light_cone, h_norm })
    }

    /// The states at `ts`, time after time: `ψ_k(t_c)` at `[c·K + k]`.
    fn states(&self, ts: &[f64]) -> Vec<Complex64> {
        let k = self.dim;
        let zero = Complex64::new(0.0, 0.0);
        let mut out = vec![zero; k * ts.len()];
        if k <= SMALL_WINDOW {
            let mut z = vec![zero; k];
            for (&t, psi) in ts.iter().zip(out.chunks_exact_mut(k)) {
                for (zj, (&e, &a)) in z.iter_mut().zip(self.energies.iter().zip(&self.amps)) {
                    let (s, c) = (e * t).sin_cos();
                    *zj = Complex64::new(a * c, -a * s);
                }
                for (p, row) in psi.iter_mut().zip(self.rows.chunks_exact(k)) {
                    let (mut re, mut im) = (0.0, 0.0);
                    for (&r, zj) in row.iter().zip(&z) {
                        re += r * zj.re;
                        im += r * zj.im;
                    }
                    *p = Complex64::new(re, im);
                }
            }
        } else {
            let mut x = Mat::<f64>::zeros(k, 2 * ts.len());
            for (c, &t) in ts.iter().enumerate() {
                for (m, (&e, &a)) in self.energies.iter().zip(&self.amps).enumerate() {
                    let (s, co) = (e * t).sin_cos();
                    x[(m, 2 * c)] = a * co;
                    x[(m, 2 * c + 1)] = -a * s;
                }
            }
            let psi = &self.u * &x;
            for (c, chunk) in out.chunks_exact_mut(k).enumerate() {
                for (m, p) in chunk.iter_mut().enumerate() {
                    *p = Complex64::new(psi[(m, 2 * c)], psi[(m, 2 * c + 1)]);
                }
            }
        }
        out
    }

    /// Rigorous bound on the state error at `t` from the leak out of the window:
    /// `β_{K−1} ∫_0^t |ψ̃_{K−1}(s)| ds ≤ β_{K−1} min(R t, Π_{q<K−1} β_q t^K / K!)`
    /// (module docs).
    fn leak_error(&self, t: f64) -> f64 {
        if self.beta_out == 0.0 || t == 0.0 {
            return 0.0;
        }
        let light_cone = (self.ln_light_cone + self.dim as f64 * t.ln()).exp();
        self.beta_out * (self.corner_sup * t).min(light_cone)
    }

    /// Rounding estimate on the state at `t`, as for dense ED.
    fn rounding(&self, t: f64) -> f64 {
        f64::EPSILON * (self.dim as f64 + self.h_norm * t)
    }
}

/// `Σ_j |v_j[0] v_j[K−1]|` for the eigenvectors of `T_K`, from its eigenvalues:
/// `Π_{q<K−1} β_q / Π_{l≠j} |E_j − E_l|`, each computed gap shrunk by twice a generous
/// eigenvalue error `4 ε_mach K ‖T_K‖` (infinite if that closes a gap).
fn corner_residue_sum(el: &DickeSpace, energies: &[f64], h_norm: f64) -> f64 {
    let k = energies.len();
    let ln_beta: f64 = (0..k - 1).map(|q| el.off(q).ln()).sum();
    let delta = EIGEN_ERROR * f64::EPSILON * k as f64 * h_norm;
    let mut sum = 0.0;
    for (j, &ej) in energies.iter().enumerate() {
        let mut ln_gaps = 0.0;
        for (l, &e) in energies.iter().enumerate() {
            if l != j {
                let gap = (ej - e).abs() - 2.0 * delta;
                if gap <= 0.0 {
                    return f64::INFINITY;
                }
                ln_gaps += gap.ln();
            }
        }
        sum += (ln_beta - ln_gaps).exp();
    }
    sum
}

/// Refuses the Chebyshev scheme where its `N + 1`-vectors do not fit in memory.
fn check_chebyshev_memory(el: &DickeSpace) -> Result<()> {
    crate::resources::ensure_fits("dicke", el.len() - 1, CHEB_BYTES_PER_STATE * el.len() as f64)
}

/// Exact propagator in the Dicke basis for permutation-symmetric chains (module docs).
pub struct Dicke {
    el: DickeSpace,
    chain: Chain,
    tol: f64,
    method: DickeMethod,
    work_norm: f64,
    window: Option<Window>,
    /// latest time a window sample met its budget
    window_valid: f64,
    /// Chebyshev on the Dicke space from `cheb_from` on
    cheb: Option<Chebyshev<DickeSpace>>,
    cheb_from: f64,
    max_err: f64,
}

impl Dicke {
    /// Sets up the propagator at `t = 0` in the all-down state with the default method
    /// (eigen windows up to [`DEFAULT_MAX_WINDOW`] states, then Chebyshev). `tol` is the
    /// target absolute error on `W` (units of `B`).
    ///
    /// # Errors
    /// [`SpinbatError::Unsupported`] if the couplings are not all equal;
    /// [`SpinbatError::InvalidParameter`] for `tol` not finite and `> 0`.
    pub fn new(chain: &Chain, tol: f64) -> Result<Self> {
        Self::with_method(chain, tol, DickeMethod::default())
    }

    /// As [`Dicke::new`] with an explicit [`DickeMethod`].
    ///
    /// # Errors
    /// As [`Dicke::new`]; [`SpinbatError::NotConverged`] if the eigensolver fails;
    /// [`SpinbatError::TooLarge`] for [`DickeMethod::Chebyshev`] when its vectors do not fit
    /// in memory ([`Propagator::sample`] returns the same error where [`DickeMethod::Auto`]
    /// would switch to Chebyshev).
    pub fn with_method(chain: &Chain, tol: f64, method: DickeMethod) -> Result<Self> {
        if !(tol.is_finite() && tol > 0.0) {
            return Err(invalid("tol", tol, "must be a finite number > 0"));
        }
        let el = DickeSpace::new(chain).ok_or_else(|| SpinbatError::Unsupported {
            solver: "dicke",
            reason: if chain.gamma() != 0.0 || chain.has_omega_sites() {
                format!(
                    "the Dicke solver takes XXZ couplings and one charging field omega on every site (the field may \
                     be kept on), not {} (use chebyshev, dense or mean-field)",
                    chain.charging_extensions()
                )
            } else if chain.has_site_fields() {
                "the sites have their own fields B_i, so H0 is not permutation symmetric (use chebyshev or dense)"
                    .to_string()
            } else {
                "the couplings g_ij are not all equal, so the chain is not permutation symmetric \
                 (use the power law with p = 0, or a matrix with equal off-diagonal entries)"
                    .to_string()
            },
        })?;
        let work_norm = el.work_norm();
        let mut d = Dicke {
            el: el.clone(),
            chain: chain.clone(),
            tol,
            method,
            work_norm,
            window: None,
            window_valid: 0.0,
            cheb: None,
            cheb_from: 0.0,
            max_err: 0.0,
        };
        match method {
            DickeMethod::Chebyshev => {
                check_chebyshev_memory(&el)?;
                d.cheb = Some(Chebyshev::with_space(d.el.clone(), chain, tol));
            }
            DickeMethod::Auto | DickeMethod::Eigen | DickeMethod::Window { .. } => {
                let max_window = if let DickeMethod::Window { max_window } = method { max_window } else { usize::MAX };
                let k0 = FIRST_WINDOW.min(el.len()).min(max_window.max(1));
                d.window = Some(Window::new(&el, k0)?);
            }
        }
        Ok(d)
    }

    /// Number of Dicke states, `N + 1`.
    pub fn dim(&self) -> usize {
        self.el.len()
    }

    /// Size `K` of the current eigen window (`None` with [`DickeMethod::Chebyshev`]).
    pub fn window(&self) -> Option<usize> {
        self.window.as_ref().map(|w| w.dim)
    }

    /// The time after which the Chebyshev scheme propagates (`Some(0.0)` for
    /// [`DickeMethod::Chebyshev`], `None` while the eigen windows cover everything).
    pub fn chebyshev_from(&self) -> Option<f64> {
        self.cheb.as_ref().map(|_| self.cheb_from)
    }

    /// Total number of Chebyshev terms (applications of `T`) so far.
    pub fn terms(&self) -> u64 {
        self.cheb.as_ref().map_or(0, |c| c.terms())
    }

    /// Doubles the window (to `N + 1` at most), needed at time `t`, if the method allows;
    /// `false` if not.
    fn grow(&mut self, t: f64) -> Result<bool> {
        let (cap, costed) = match self.method {
            DickeMethod::Auto => (DEFAULT_MAX_WINDOW, true),
            DickeMethod::Eigen => (usize::MAX, false),
            DickeMethod::Window { max_window } => (max_window, false),
            DickeMethod::Chebyshev => return Ok(false),
        };
        let k = self.window.as_ref().map_or(0, |w| w.dim);
        let full = self.el.len();
        if k >= full {
            return Ok(false);
        }
        let next = if 2 * k >= full { full } else { 2 * k };
        if next > cap {
            return Ok(false);
        }
        if costed {
            // the window needs `O(K³)` once; Chebyshev `O(N)` per term and `≈ ‖T‖` terms per
            // unit time, for about as long again as the current window lasted (for the
            // whole run, `~1/ω`, when the window would be the whole space)
            let horizon = if next == full { t.max(1.0 / self.chain.omega().abs()) } else { t };
            let cheb = full as f64 * self.el.radius_estimate() * horizon;
            if EIGEN_PER_CHEB * (next as f64).powi(3) > cheb {
                return Ok(false);
            }
        }
        self.window = Some(Window::new(&self.el, next)?);
        Ok(true)
    }

    /// Hands over to Chebyshev from the window's state at the last time it covered.
    ///
    /// # Errors
    /// [`SpinbatError::TooLarge`] if the `N + 1`-vectors do not fit in memory.
    fn switch_to_chebyshev(&mut self) -> Result<()> {
        check_chebyshev_memory(&self.el)?;
        let w = self.window.as_ref().expect("a window to switch from");
        let t = self.window_valid;
        let mut base = w.states(&[t]);
        base.resize(self.el.len(), Complex64::new(0.0, 0.0));
        let err = w.leak_error(t) + w.rounding(t);
        self.cheb = Some(Chebyshev::with_start(self.el.clone(), &self.chain, self.tol, Saved { t, err, state: base }));
        self.cheb_from = t;
        Ok(())
    }

    /// Serves the leading `times` the windows cover (all up to the Chebyshev base time, if
    /// Chebyshev runs; otherwise growing the window as needed); returns how many.
    fn sample_window(&mut self, times: &[f64], out: &mut Vec<WorkSample>) -> Result<usize> {
        // once Chebyshev runs, the window serves exactly the times up to its base
        let switched = self.cheb.as_ref().map(|_| times.partition_point(|&t| t <= self.cheb_from));
        let limit = switched.unwrap_or(times.len());
        let mut i = 0;
        'batches: while i < limit {
            let end = (i + WINDOW_BATCH).min(limit);
            let w = self.window.as_ref().expect("window");
            let x = w.states(&times[i..end]);
            let mut verdicts = Vec::with_capacity(end - i);
            for (psi, &t) in x.chunks_exact(w.dim).zip(&times[i..end]) {
                let (work, rate, eps_psi) = self.el.observe(w.dim, |k| psi[k]);
                let rigorous = work_error(w.leak_error(t), eps_psi, self.work_norm);
                let ok = switched.is_some() || t <= self.window_valid || rigorous <= WINDOW_SHARE * self.tol;
                let round = 2.0 * eps_psi * w.rounding(t);
                verdicts.push((WorkSample { t, work, rate }, ok, rigorous + round));
            }
            for (s, ok, err) in verdicts {
                if !ok {
                    if !self.grow(s.t)? {
                        self.switch_to_chebyshev()?;
                        return Ok(i);
                    }
                    continue 'batches;
                }
                self.max_err = self.max_err.max(err);
                self.window_valid = self.window_valid.max(s.t);
                out.push(s);
                i += 1;
            }
        }
        Ok(i)
    }
}

impl Propagator for Dicke {
    fn name(&self) -> &'static str {
        "dicke"
    }

    fn sample(&mut self, times: &[f64]) -> Result<Vec<WorkSample>> {
        check_times(times)?;
        let mut out = Vec::with_capacity(times.len());
        let done = if self.window.is_some() { self.sample_window(times, &mut out)? } else { 0 };
        if done < times.len() {
            let cheb = self.cheb.as_mut().expect("Chebyshev takes over where the windows stop");
            out.extend(cheb.sample(&times[done..])?);
            self.max_err = self.max_err.max(cheb.error_bound());
        }
        Ok(out)
    }

    /// On the Dicke states `H_g = −2g(1 − α)S_z² + const` (module docs): the dynamics is
    /// that of an Ising chain of coupling `(1 − α)g`, so `Λ = |ω| + |1 − α| Σ_j |g_ij|`
    /// instead of `(1 + |α|)`. An XXX chain (`α = 1`) is then scanned on the scale of `ω`
    /// alone, as its work `2BN sin²(ωt)` is (physics.md, result 2).
    fn scan_step(&self, chain: &Chain) -> f64 {
        let field = if chain.keep_field() { chain.b().abs() } else { 0.0 };
        let lambda = chain.omega().abs() + (1.0 - chain.alpha()).abs() * chain.max_abs_row_sum() + field;
        if lambda > 0.0 {
            super::method::scan_step_for(lambda)
        } else {
            super::method::scan_step(chain)
        }
    }

    fn anchor(&mut self, t: f64) -> Result<()> {
        check_times(&[t])?;
        // the windows are random access; only the Chebyshev part needs a stored state
        if let Some(cheb) = self.cheb.as_mut() {
            if t > self.cheb_from {
                cheb.anchor(t)?;
            }
        }
        Ok(())
    }

    fn error_bound(&self) -> f64 {
        self.max_err
    }

    fn accuracy_note(&self) -> String {
        let mut parts = Vec::new();
        if let Some(w) = &self.window {
            parts.push(format!(
                "Dicke basis ({} states), eigen window K = {} with rigorous leak bound \
                 min({:.1e} t, light cone) on the state and rounding estimate eps (K + ||T_K|| t)",
                self.el.len(),
                w.dim,
                w.beta_out * w.corner_sup
            ));
        }
        if let Some(c) = &self.cheb {
            parts.push(format!(
                "Chebyshev on all {} Dicke states after t = {:.3e}, tail <= {:.1e} per step (rigorous)",
                self.el.len(),
                self.cheb_from,
                c.step_tail()
            ));
        }
        format!("{}; |dW| <= e (2||eps psi|| + ||eps|| e) = {:.1e} so far", parts.join("; "), self.max_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Couplings;

    /// N = 30, B = 1, ω = 1.3, 2g(1 − α) = 0.4.
    fn space_30() -> DickeSpace {
        let chain = Chain::builder(30).g(0.2).omega(1.3).couplings(Couplings::PowerLaw { p: 0.0 }).build().unwrap();
        DickeSpace::new(&chain).unwrap()
    }

    #[test]
    fn chebyshev_bytes_per_state_add_up() {
        use crate::propagate::chebyshev::{bytes_per_row_and_time, fixed_bytes_per_row, MAX_BATCH};
        // the Chebyshev propagator's fixed buffers, the handed-over base, a full batch
        let parts = fixed_bytes_per_row::<f64>() + 16.0 + MAX_BATCH as f64 * bytes_per_row_and_time::<f64>();
        assert_eq!(CHEB_BYTES_PER_STATE, parts);
    }

    #[test]
    fn corner_residues_match_the_eigenvectors() {
        let el = space_30();
        for k in [2, 5, 9] {
            let w = Window::new(&el, k).unwrap();
            let direct: f64 = (0..k).map(|j| (w.u[(0, j)] * w.u[(k - 1, j)]).abs()).sum();
            let from_energies = corner_residue_sum(&el, &w.energies, w.h_norm);
            assert!(direct > 1e-6, "pick parameters where the corner is not rounding noise");
            assert!(
                (from_energies - direct).abs() < 1e-9 * direct,
                "K={k}: residues {from_energies} vs eigenvectors {direct}"
            );
        }
    }

    #[test]
    fn the_edge_amplitude_obeys_the_light_cone() {
        // |ψ̃_{K−1}(s)| ≤ Π_{q<K−1} β_q s^{K−1}/(K−1)!, with equality to leading order in s
        // (amplitudes below ~1e-15 are the eigenvectors' rounding noise: not compared)
        let el = space_30();
        for k in [3, 6, 10] {
            let w = Window::new(&el, k).unwrap();
            for s in [1e-3, 3e-3, 0.05, 0.3, 1.0, 5.0] {
                let edge = w.states(&[s])[k - 1].norm();
                let cone = (w.ln_light_cone + (k as f64).ln() + (k - 1) as f64 * f64::ln(s)).exp();
                assert!(edge <= cone * (1.0 + 1e-6) + 1e-14, "K={k} s={s}: {edge} above the light cone {cone}");
                assert!(edge <= w.corner_sup * (1.0 + 1e-10), "K={k} s={s}: {edge} above R = {}", w.corner_sup);
                if s <= 3e-3 && cone > 1e-9 {
                    assert!(edge > 0.9 * cone, "K={k} s={s}: the light cone is the leading term ({edge} vs {cone})");
                }
            }
        }
    }
}
