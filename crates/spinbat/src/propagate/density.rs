//! Exact density-matrix propagator of the open battery: `ρ(t) = e^{𝓛t}ρ_0` with the
//! matrix-free Lindblad generator [`Liouvillian`] (noise channels: [`Noise`]), `ρ_0` the
//! all-down state `|↓…↓⟩⟨↓…↓|` (or a given matrix), and the work
//! `W(t) = Tr((H0 − E_0) ρ(t))`, its rate `W'(t) = Tr((H0 − E_0) 𝓛ρ(t))` exactly.
//!
//! **Method: Chebyshev steps on an ellipse, with dense output.** The numerical range of `𝓛`
//! (Hilbert–Schmidt inner product) lies in a rectangle `a ± h + i[−b, b]`
//! ([`Liouvillian::numerical_range`]: the commutator `−i[H, ·]` is skew-Hermitian with
//! spectrum in `i[−w, w]`, `w = E_max − E_min` of `H`, and each channel adds at most
//! `‖L‖²`-sized pieces). With `A = (𝓛 − a)/(ib)`, whose numerical range then lies in the
//! rectangle `[−1, 1] × [−η, η]`, `η = h/b`, inside the Bernstein ellipse `E_ϱ` (foci `±1`,
//! semi-axes `(ϱ ± 1/ϱ)/2`), a step of length `τ` is the Jacobi–Anger series
//!
//! `e^{τ𝓛} = e^{τa} Σ_k (2 − δ_k0) i^k J_k(bτ) T_k(A)`,
//!
//! `T_k(A)ρ` by the three-term recurrence (one application of `𝓛` per term, fused with the
//! accumulation of the next state: three `16·4^N`-byte matrices, five with collective
//! decay). The work of every term, `ν_k = Re(i^k Tr((H0 − E_0) T_k(A)ρ))`, is kept, so any
//! `t + s` inside the step is served as `W = e^{sa} Σ_k (2 − δ_k0) J_k(bs) ν_k` (and `W'`
//! from `J_k'`) at no propagation cost: the maximum search's refinement, which comes back
//! to earlier times, costs nothing. Steps have `bτ = ` [`STEP_PHASE`], except a step
//! shortened to land on a time whose state is asked for ([`DensityMatrix::density_at`]).
//! At `s = 0`, `W' = Tr((H0 − E_0)𝓛ρ)` exactly.
//!
//! **Error control (rigorous, up to rounding).** By the Crouzeix–Palencia theorem,
//! `‖f(A)‖ ≤ (1 + √2) max_{E_ϱ} |f|` for `f` holomorphic on the ellipse (norm induced by the
//! Hilbert–Schmidt norm; `1` for a normal `A`, the closed battery), and
//! `max_{E_ϱ} |T_k| = (ϱ^k + ϱ^{−k})/2`; so the terms left out of a step make an error
//! `‖δ‖_F ≤ (1 + √2) e^{τ max(a, 0)} Σ_{k>K} 2|J_k(bτ)| (ϱ^k + ϱ^{−k})/2 · ‖ρ‖_F`, a bound
//! known before the step (the series is cut at the first `K` where it is below
//! `ε_step / √(2^N)`), and `‖δ‖_1 ≤ √(2^N) ‖δ‖_F`. An error made at one step is carried to
//! later times by the exact dynamics `e^{𝓛s}`, a trace-preserving completely positive map,
//! which does not enlarge trace norms: the errors of the steps add, and move the work by at
//! most `‖H0 − E_0‖ Σ ‖δ‖_1` ([`Liouvillian::work_operator_norm`]). `ε_step = 10⁻³ tol /
//! ‖H0 − E_0‖` (floored at `10⁻¹⁵`), so `tol` holds for a thousand steps.
//! [`Propagator::error_bound`] reports the accumulated bound, with a rounding estimate (`4u`
//! relative per term: `4u ‖H0 − E_0‖ Σ_k |c_k| ‖T_k(A)ρ‖_F`) added. Tested against closed
//! forms of one spin, the closed Chebyshev propagator at zero noise, the dense
//! superoperator and QuTiP `mesolve` (`tests/contract/open.rs`).
//!
//! **Work bound and scan step** (the certified maximum search, [`crate::observe::charge`]).
//! Noise does not conserve energy, so the closed bound `W ≤ N(|B| + B) + min(N|ω|, …)` does
//! not hold; for any state `W ≤ λ_max(H0) − E_0 ≤ N(|B| + B) + λ_max(H_g) + G`
//! (`λ_max(H_B) = N|B|`, `E_0 = −NB − G`), the bound used here. The grid step is
//! `π/(16(Λ_loc + κ))`: the closed local energy scale `Λ_loc` plus the fastest dissipative
//! rate `κ` of one site ([`crate::open::Rates::fastest`]), so no damping is faster than the
//! grid resolves (the refinement's Hermite interpolation assumes a smooth curve between
//! grid points).
//!
//! **Any space.** The propagator is generic over the generator ([`LindbladGenerator`]): the
//! full `2^N × 2^N` matrix ([`Liouvillian`], [`DensityMatrix::new`]) or, for all-to-all
//! couplings with collective decay only, the `(N + 1) × (N + 1)` matrix on the Dicke states
//! ([`DickeLiouvillian`], [`DensityMatrix::dicke`]; `d = N + 1` in the bounds above,
//! `W ≤ max_k ε_k = λ_max(H0) − E_0` on the Dicke states, and the grid step's `κ` holds the
//! superradiant `NΓ`).
//!
//! **Hermiticity.** `𝓛` maps Hermitian matrices to Hermitian ones and `A = −i(𝓛 − a)/b`, so
//! `T_k(A)ρ` is Hermitian for even `k` and anti-Hermitian for odd `k`, and every
//! `c_k T_k(A)ρ = e^{τa}(2 − δ_k0) J_k(bτ) (i^k T_k(A)ρ)` is Hermitian: each pass computes
//! the rows on and below the diagonal of every column ([`LindbladGenerator::column_rows`] from
//! [`lower_start`]) with their sums ([`LindbladGenerator::lower_column_sums`]), and fills the rest
//! by [`fill_upper`], about half the work of the whole matrix.
//!
//! **Not used yet:** the reflection symmetry of `ρ` (mirror-symmetric chains and uniform
//! noise keep `ρ` in the reflection-even operator sector, about half the entries).

use super::method::{
    check_times, scan_step, scan_step_for, Propagator, StatePropagator, StateView, StateVisitor, WorkSample,
};
use crate::error::{Result, SpinbatError};
use crate::model::Chain;
use crate::numeric::bessel::bessel_sequence;
use crate::open::{
    fill_upper, lower_start, DickeLiouvillian, Generator, Gibbs, LindbladGenerator, Liouvillian, MatrixSums, Noise,
};
use num_complex::Complex64;
use rayon::prelude::*;

/// `bτ` of a full step (the phase its Bessel series spans, `b` the imaginary half-extent of
/// the numerical range): longer steps need fewer terms per unit time (`K ≈ bτ + O((bτ)^{1/3})`
/// per step) but enlarge the partial sums by up to `ϱ^K`; measured on N = 8–12
/// (BENCHMARKS.md).
pub const STEP_PHASE: f64 = 60.0;

/// Largest `ln` of the growth `ϱ^{bτ}` a step allows (see `DensityMatrix::full_step`).
const MAX_GROWTH_LOG: f64 = 6.0;

/// Unit roundoff of `f64`.
const U: f64 = f64::EPSILON / 2.0;

/// Crouzeix–Palencia constant `1 + √2`.
const CROUZEIX: f64 = 1.0 + std::f64::consts::SQRT_2;

/// Bytes of the density-matrix propagator for `N` sites: three `2^N × 2^N` complex
/// matrices (the state and two Chebyshev terms), two more for collective decay
/// (`J⁻X`, `XJ⁺`), and the diagonals.
pub fn bytes_needed(n_sites: usize, noise: &Noise) -> f64 {
    let dim = (n_sites as f64).exp2();
    let matrices = if noise.collective_decay != 0.0 { 5.0 } else { 3.0 };
    matrices * 16.0 * dim * dim + 64.0 * dim + 1e6
}

/// Bytes of the density-matrix propagator on the `N + 1` Dicke states
/// ([`DensityMatrix::dicke`]): three `(N + 1) × (N + 1)` complex matrices, a scratch
/// column per worker and the generator's tables.
pub fn bytes_needed_dicke(n_sites: usize) -> f64 {
    let d = n_sites as f64 + 1.0;
    3.0 * 16.0 * d * d + 16.0 * d * rayon::current_num_threads() as f64 + 64.0 * d + 1e6
}

/// The smallest `ϱ ≥ 1` whose Bernstein ellipse (foci `±1`, semi-axes `(ϱ ± 1/ϱ)/2`)
/// holds the rectangle `[−1, 1] × [−η, η]` (its corners), by bisection; `1` for `η = 0`.
pub fn bernstein_parameter(eta: f64) -> f64 {
    if eta <= 0.0 {
        return 1.0;
    }
    let holds = |rho: f64| {
        let a = 0.5 * (rho + 1.0 / rho);
        let b = 0.5 * (rho - 1.0 / rho);
        1.0 / (a * a) + eta * eta / (b * b) <= 1.0
    };
    let (mut lo, mut hi) = (1.0f64, 2.0f64);
    while !holds(hi) {
        hi *= 2.0;
    }
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if holds(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

/// One Chebyshev step: the work of each term, for dense output inside `[t0, t0 + tau]`.
#[derive(Debug, Clone)]
struct Segment {
    t0: f64,
    tau: f64,
    /// `ν_k = Re(i^k Tr((H0 − E_0) T_k(A)ρ))`
    nu: Vec<f64>,
    /// bound on the error of `W` anywhere in the step (the truncation up to and including
    /// it, and the rounding estimate)
    err: f64,
}

/// The shift and scale of the series: `A = (𝓛 − a)/(ib)`, and the ellipse's `ϱ`.
#[derive(Debug, Clone, Copy)]
struct Ellipse {
    a: f64,
    b: f64,
    rho: f64,
    constant: f64,
}

impl Segment {
    /// `W` and `W'` at `t` inside the step: `e^{sa} Σ_k (2 − δ_k0) J_k(bs) ν_k` and its
    /// derivative (`J_0' = −J_1`, `J_k' = (J_{k−1} − J_{k+1})/2`).
    fn eval(&self, t: f64, e: &Ellipse) -> WorkSample {
        let s = (t - self.t0).clamp(0.0, self.tau);
        let (j, _) = bessel_sequence(e.b * s, 0.0);
        let jk = |k: usize| j.get(k).copied().unwrap_or(0.0);
        let (mut w, mut dw) = (0.0, 0.0);
        for (k, &nu) in self.nu.iter().enumerate() {
            if k == 0 {
                w += jk(0) * nu;
                dw -= jk(1) * nu;
            } else {
                w += 2.0 * jk(k) * nu;
                dw += (jk(k - 1) - jk(k + 1)) * nu;
            }
        }
        let damp = (e.a * s).exp();
        WorkSample { t, work: damp * w, rate: damp * (e.a * w + e.b * dw) }
    }
}

/// The density-matrix propagator (module docs), on the full space (`L = Liouvillian`, the
/// default) or on the Dicke states (`L = DickeLiouvillian`).
pub struct DensityMatrix<L: LindbladGenerator = Liouvillian> {
    liou: L,
    noise: Noise,
    ellipse: Ellipse,
    /// a given initial state (`None`: all down)
    initial: Option<Vec<Complex64>>,
    rho: Vec<Complex64>,
    t: f64,
    p: Vec<Complex64>,
    q: Vec<Complex64>,
    ws: L::Workspace,
    segments: Vec<Segment>,
    eps_step: f64,
    /// accumulated truncation bound of `ρ(t)` in trace norm
    trunc: f64,
    /// accumulated rounding estimate of `W`
    rounding: f64,
    max_err: f64,
    terms: usize,
    /// `W ≤` the closed bound (closed dynamics from all-down under the charging Hamiltonian)
    conserves_energy: bool,
    scan_step: f64,
    work_bound: f64,
    /// the end of the window ([`Propagator::expect_until`]): steps up to it are of equal length
    horizon: f64,
    /// the chain, for the full-space operators its states are measured with
    chain: Chain,
    /// `E_ref − E_0`: the work is reported from the reference energy `E_ref` (`E_0` of
    /// all-down by default, `E_β` from a thermal start), `W = Tr((H0 − E_0)ρ) − offset`
    work_offset: f64,
    /// the start is the Gibbs state (for the accuracy note)
    thermal: bool,
    /// `−⟨H_B⟩_0/(N B)` of the start ([`Propagator::start_polarisation`])
    polarisation: f64,
}

/// A given initial density matrix of dimension `d`, checked (`d²` entries, Hermitian and of
/// unit trace to `10⁻¹²`) and made exactly Hermitian, `(ρ + ρ†)/2`: the steps compute one
/// triangle of each matrix and mirror it ([`fill_upper`]).
fn hermitian_initial(d: usize, mut rho0: Vec<Complex64>) -> Result<Vec<Complex64>> {
    if rho0.len() != d * d {
        return Err(crate::error::invalid("rho0", rho0.len(), format!("needs d^2 = {} entries", d * d)));
    }
    let mut trace = 0.0;
    for r in 0..d {
        trace += rho0[r * d + r].re;
        for c in 0..=r {
            if (rho0[c * d + r] - rho0[r * d + c].conj()).norm() > 1e-12 {
                return Err(crate::error::invalid("rho0", format!("entry ({r}, {c})"), "must be Hermitian"));
            }
        }
    }
    if (trace - 1.0).abs() > 1e-12 {
        return Err(crate::error::invalid("rho0", format!("trace {trace}"), "must have unit trace"));
    }
    for c in 0..d {
        for r in c..d {
            let v = 0.5 * (rho0[c * d + r] + rho0[r * d + c].conj());
            rho0[c * d + r] = v;
            rho0[r * d + c] = v.conj();
        }
    }
    Ok(rho0)
}

impl DensityMatrix<DickeLiouvillian> {
    /// Charging the permutation-symmetric `chain` from all-down under `noise` (collective
    /// decay only) on the `N + 1` Dicke states: three `16(N + 1)²`-byte matrices
    /// ([`bytes_needed_dicke`]; plan first, [`super::Plan`]).
    ///
    /// # Errors
    /// Those of [`DickeLiouvillian::new`]: couplings not all equal, a local channel, a bad
    /// noise setting.
    pub fn dicke(chain: &Chain, noise: &Noise, tol: f64) -> Result<Self> {
        let liou = DickeLiouvillian::new(chain, noise, Generator::Charging)?;
        Self::build(liou, chain, noise, Generator::Charging, None, tol)
    }

    /// From a given initial density matrix on the Dicke states (`(N + 1)²` entries by
    /// columns, `rho0[c·(N+1) + r] = ⟨r|ρ|c⟩`, `k` up spins in `|k⟩`), under the
    /// Hamiltonian of `generator`.
    ///
    /// # Errors
    /// As [`DensityMatrix::with_initial`] and [`DensityMatrix::dicke`].
    pub fn dicke_with_initial(
        chain: &Chain,
        noise: &Noise,
        generator: Generator,
        rho0: Vec<Complex64>,
        tol: f64,
    ) -> Result<Self> {
        let liou = DickeLiouvillian::new(chain, noise, generator)?;
        let rho0 = hermitian_initial(liou.dim(), rho0)?;
        Self::build(liou, chain, noise, generator, Some(rho0), tol)
    }
}

impl DensityMatrix {
    /// Charging `chain` from all-down under `noise`, to an absolute tolerance `tol` on `W`
    /// (units of `B`). Allocates three (five with collective decay) `16·4^N`-byte
    /// matrices: plan first ([`super::Plan`]) to check they fit.
    ///
    /// # Errors
    /// Those of [`Liouvillian::new`] (a bad noise setting, a chain too large to index).
    pub fn new(chain: &Chain, noise: &Noise, tol: f64) -> Result<Self> {
        let liou = Liouvillian::new(chain, noise, Generator::Charging)?;
        Self::build(liou, chain, noise, Generator::Charging, None, tol)
    }

    /// From a given initial density matrix `rho0` (`2^N × 2^N`, by columns:
    /// `rho0[c·2^N + r] = ρ_rc`), under the Hamiltonian of `generator`, taken as `(ρ_0 + ρ_0†)/2`
    /// (exactly Hermitian: the steps compute one triangle of each matrix and mirror it).
    ///
    /// # Errors
    /// [`SpinbatError::InvalidParameter`] for a `rho0` of the wrong length, not Hermitian or
    /// not of unit trace (to `10⁻¹²`); those of [`DensityMatrix::new`].
    pub fn with_initial(
        chain: &Chain,
        noise: &Noise,
        generator: Generator,
        rho0: Vec<Complex64>,
        tol: f64,
    ) -> Result<Self> {
        let rho0 = hermitian_initial(1usize << chain.n_sites(), rho0)?;
        let liou = Liouvillian::new(chain, noise, generator)?;
        Self::build(liou, chain, noise, generator, Some(rho0), tol)
    }

    /// Charging `chain` from the Gibbs state `ρ_β` of `H0` ([`Gibbs`], physics.md "Thermal
    /// starting states") under `noise`, with the work measured from its energy:
    /// `W(t) = Tr(H0 ρ(t)) − E_β`, `E_β = Tr(H0 ρ_β)` (so `W(0) = 0`). The work bound of the
    /// certified maximum search: without noise `H = H_g + V` is conserved and
    /// `Tr(Vρ_β) = 0` (`ρ_β` keeps the magnetisation, `V` changes it by one), so
    /// `⟨H_g⟩_t ≤ ⟨H_g⟩_β + N|ω|` and
    /// `W ≤ N|B| − ⟨H_B⟩_β + min(N|ω|, λ_max(H_g) − ⟨H_g⟩_β)`; with noise
    /// `W ≤ λ_max(H0) − E_β`. Allocates a fourth `16·4^N`-byte matrix (the start, for
    /// restarts).
    ///
    /// # Errors
    /// As [`DensityMatrix::new`]; [`SpinbatError::InvalidParameter`] for a Gibbs state of
    /// another number of sites.
    pub fn thermal(chain: &Chain, noise: &Noise, gibbs: &Gibbs, tol: f64) -> Result<Self> {
        if gibbs.n_sites() != chain.n_sites() {
            return Err(crate::error::invalid("gibbs", gibbs.n_sites(), "a Gibbs state of the chain's N sites"));
        }
        let liou = Liouvillian::new(chain, noise, Generator::Charging)?;
        let mut dm = Self::build(liou, chain, noise, Generator::Charging, Some(gibbs.density_matrix()), tol)?
            .with_reference_energy(gibbs.energy());
        let n = chain.n_sites() as f64;
        if noise.is_closed() {
            let h_g_max = dm.liou.h_g_max_bound();
            dm.work_bound = n * chain.b().abs() - gibbs.field_energy()
                + (n * chain.omega().abs()).min(h_g_max - gibbs.coupling_energy());
        }
        dm.thermal = true;
        let nb = n * chain.b();
        dm.polarisation = if nb != 0.0 { (-gibbs.field_energy() / nb).clamp(0.0, 1.0) } else { 1.0 };
        Ok(dm)
    }

    /// The work measured from `e_ref` instead of `E_0` of all-down:
    /// `W = Tr(H0 ρ) − e_ref` (units `B`), for a start other than all-down (a thermal start,
    /// or storage continuing from one); the work bound becomes `λ_max(H0) − e_ref`. The
    /// dynamics preserve `Tr ρ = 1`, so this moves every `W` by the constant `e_ref − E_0`
    /// and leaves `W'` and the error bounds as they are (`|δW| ≤ ‖H0 − E_0‖ ‖δρ‖₁`).
    pub fn with_reference_energy(mut self, e_ref: f64) -> Self {
        let e0 = self.chain.initial_energy();
        self.work_offset = e_ref - e0;
        self.work_bound = self.chain.field_abs_sum() + self.liou.h_g_max_bound() - e_ref;
        self.conserves_energy = false;
        self
    }

    /// `E_ref`, the energy the work is measured from (`W = Tr(H0ρ) − E_ref`).
    pub fn reference_energy(&self) -> f64 {
        self.chain.initial_energy() + self.work_offset
    }
}

impl<L: LindbladGenerator> DensityMatrix<L> {
    fn build(
        liou: L,
        chain: &Chain,
        noise: &Noise,
        generator: Generator,
        initial: Option<Vec<Complex64>>,
        tol: f64,
    ) -> Result<Self> {
        let eps_step = (tol / liou.work_operator_norm().max(f64::MIN_POSITIVE) * 1e-3).max(1e-15);
        let (a, h, b) = liou.numerical_range();
        let b = b.max(f64::MIN_POSITIVE);
        let ellipse =
            Ellipse { a, b, rho: bernstein_parameter(h / b), constant: if liou.is_closed() { 1.0 } else { CROUZEIX } };
        let zero = Complex64::new(0.0, 0.0);
        let rho = match &initial {
            Some(r) => r.clone(),
            None => {
                // |↓…↓⟩⟨↓…↓|: all-down is state 0 of every space
                let mut r = vec![zero; liou.dim() * liou.dim()];
                r[crate::basis::ALL_DOWN] = Complex64::new(1.0, 0.0);
                r
            }
        };
        let n2 = rho.len();
        let conserves_energy = noise.is_closed() && initial.is_none() && generator == Generator::Charging;
        let kappa = liou.rates().fastest(chain.n_sites());
        let scan_step = if kappa == 0.0 {
            scan_step(chain)
        } else {
            scan_step_for(chain.omega().abs() + (1.0 + chain.alpha().abs()) * chain.max_abs_row_sum() + kappa)
        };
        let work_bound = liou.work_bound(chain, conserves_energy);
        let ws = liou.workspace();
        Ok(DensityMatrix {
            noise: *noise,
            ellipse,
            initial,
            rho,
            t: 0.0,
            p: vec![zero; n2],
            q: vec![zero; n2],
            ws,
            segments: Vec::new(),
            eps_step,
            trunc: 0.0,
            rounding: 0.0,
            max_err: 0.0,
            terms: 0,
            conserves_energy,
            scan_step,
            work_bound,
            horizon: 0.0,
            liou,
            chain: chain.clone(),
            work_offset: 0.0,
            thermal: false,
            polarisation: 1.0,
        })
    }

    /// The generator.
    pub fn liouvillian(&self) -> &L {
        &self.liou
    }

    /// The noise.
    pub fn noise(&self) -> &Noise {
        &self.noise
    }

    /// Applications of `𝓛` so far (the cost).
    pub fn terms(&self) -> usize {
        self.terms
    }

    /// Bound on the trace-norm error `‖ρ_computed − ρ(t)‖_1` of the current state, from
    /// truncation (rounding not included).
    pub fn state_error(&self) -> f64 {
        self.trunc
    }

    /// The length of a full step: `bτ = STEP_PHASE`, or less where the ellipse is wide
    /// (strong noise against the coherent scale): `bτ ln ϱ ≤ MAX_GROWTH_LOG`, so that the terms
    /// `‖T_k(A)ρ‖ ≲ ϱ^k` of a step grow by at most `e^MAX_GROWTH_LOG` before the Bessel
    /// coefficients cut them.
    fn full_step(&self) -> f64 {
        let phase = match self.ellipse.rho.ln() {
            l if l > 0.0 => STEP_PHASE.min(MAX_GROWTH_LOG / l),
            _ => STEP_PHASE,
        };
        phase / self.ellipse.b
    }

    /// The next step from the current time: before the horizon, the remaining way split
    /// into equal steps of at most a full step (no step overshoots the window); after it,
    /// full steps.
    fn next_step(&self) -> f64 {
        let full = self.full_step();
        let rest = self.horizon - self.t;
        if rest > 0.0 {
            rest / (rest / full).ceil()
        } else {
            full
        }
    }

    /// The density matrix at `t` (by columns, `ρ[c·2^N + r] = ρ_rc`), propagated to land
    /// on `t` exactly (from the current state, or from the start if `t` is earlier).
    ///
    /// # Errors
    /// [`SpinbatError::InvalidTimes`] for a negative or non-finite `t`;
    /// [`SpinbatError::NotConverged`] if a step's series cannot reach its bound.
    pub fn density_at(&mut self, t: f64) -> Result<&[Complex64]> {
        check_times(&[t])?;
        if t < self.t {
            self.restart();
        }
        let full = self.full_step();
        while self.t < t {
            let tau = full.min(t - self.t);
            self.step(tau)?;
        }
        Ok(&self.rho)
    }

    /// Back to the initial state at `t = 0`, forgetting the steps.
    fn restart(&mut self) {
        match &self.initial {
            Some(r) => self.rho.clone_from(r),
            None => {
                self.rho.fill(Complex64::new(0.0, 0.0));
                self.rho[0] = Complex64::new(1.0, 0.0);
            }
        }
        self.t = 0.0;
        self.trunc = 0.0;
        self.rounding = 0.0;
        self.segments.clear();
    }

    /// The series of a step of length `tau`: the coefficients `c_k = e^{τa}(2 − δ_k0) i^k
    /// J_k(bτ)` up to the first `K` whose weighted tail
    /// `(1 + √2) e^{τ max(a,0)} Σ_{k>K} 2|J_k| (ϱ^k + ϱ^{−k})/2` is below `target`, and that
    /// tail.
    fn series(&self, tau: f64, target: f64) -> Result<(Vec<Complex64>, f64)> {
        let e = self.ellipse;
        let (j, _) = bessel_sequence(e.b * tau, 0.0);
        let weight = |k: usize| 0.5 * (e.rho.powi(k as i32) + e.rho.powi(-(k as i32)));
        let front = e.constant * (tau * e.a.max(0.0)).exp();
        // tails from the top: tail[K] = Σ_{k>K}
        let mut tail = 0.0;
        let mut cut = None;
        for k in (0..j.len()).rev() {
            let next = tail + front * 2.0 * j[k].abs() * weight(k);
            if next > target {
                cut = Some((k, tail));
                break;
            }
            tail = next;
        }
        let (k_max, tail) = cut.unwrap_or((0, tail));
        let last = j.len() - 1;
        if k_max + 1 >= last && front * j[last].abs() * weight(last) > target {
            return Err(SpinbatError::NotConverged {
                what: "density-matrix Chebyshev step",
                reason: format!(
                    "the series of b tau = {:.3} with rho = {} does not reach {target:.1e}",
                    e.b * tau,
                    e.rho
                ),
            });
        }
        let k_max = k_max.max(2);
        let damp = (tau * e.a).exp();
        let coef = (0..=k_max)
            .map(|k| {
                let ik = match k % 4 {
                    0 => Complex64::new(1.0, 0.0),
                    1 => Complex64::new(0.0, 1.0),
                    2 => Complex64::new(-1.0, 0.0),
                    _ => Complex64::new(0.0, -1.0),
                };
                ik * (damp * if k == 0 { 1.0 } else { 2.0 } * j.get(k).copied().unwrap_or(0.0))
            })
            .collect();
        Ok((coef, tail))
    }

    /// One Chebyshev step of length `tau` from the current state (module docs). Buffers:
    /// `ρ` (the state `T_0`, then the next state), `p` and `q` (the terms, each new term
    /// written over the one two before it).
    fn step(&mut self, tau: f64) -> Result<()> {
        let dim = self.liou.dim();
        let sqrt_d = (dim as f64).sqrt();
        let (coef, tail) = self.series(tau, self.eps_step / sqrt_d)?;
        let k_max = coef.len() - 1;
        let e = self.ellipse;
        let s0 = self.liou.sums(&self.rho);
        let mut nu = vec![s0.work.re];
        let mut sum_norms = coef[0].norm() * s0.frobenius_sq.sqrt();
        let liou = &self.liou;
        let i_pow = |k: usize| match k % 4 {
            0 => Complex64::new(1.0, 0.0),
            1 => Complex64::new(0.0, 1.0),
            2 => Complex64::new(-1.0, 0.0),
            _ => Complex64::new(0.0, -1.0),
        };
        // −i/b and the shift: A X = (−i/b)(𝓛X − aX)
        let mib = Complex64::new(0.0, -1.0 / e.b);
        let d = dim;
        // T_1 = A ρ into p. Every term T_k(A)ρ is Hermitian for even k and anti-Hermitian for
        // odd k (𝓛 keeps Hermitian matrices Hermitian, and A = −i(𝓛 − a)/b), so each pass
        // computes the rows on and below the diagonal and fills the rest by fill_upper.
        liou.prepare(&self.rho, &mut self.ws);
        let (rho, ws) = (&self.rho, &self.ws);
        let sums: MatrixSums = self
            .p
            .par_chunks_mut(d)
            .enumerate()
            .with_min_len(liou.columns_per_task())
            .map(|(c, out)| {
                let r0 = lower_start(c);
                liou.column_rows(rho, c, r0, out, ws);
                for (o, &x) in out[r0..].iter_mut().zip(&rho[c * d + r0..(c + 1) * d]) {
                    *o = (*o - x * e.a) * mib;
                }
                liou.lower_column_sums(c, out, -1.0)
            })
            .reduce(MatrixSums::default, MatrixSums::join);
        fill_upper(&mut self.p, d, -1.0);
        self.terms += 1;
        nu.push((i_pow(1) * sums.work).re);
        sum_norms += coef[1].norm() * sums.frobenius_sq.sqrt();
        // Buffers: ρ holds T_0, p holds T_1, q accumulates the next state. Pass k makes
        // T_{k+1} = 2A T_k − T_{k−1} over T_{k−1}, after adding c_{k−1} T_{k−1} to q.
        let mut prev_is_rho = true;
        for k in 1..k_max {
            // T_{k+1} = 2A T_k − T_{k−1}, written over T_{k−1}; acc += c_{k−1} T_{k−1}
            let (cur, prev, acc): (&[Complex64], &mut [Complex64], &mut [Complex64]) =
                if prev_is_rho { (&self.p, &mut self.rho, &mut self.q) } else { (&self.rho, &mut self.p, &mut self.q) };
            // the first pass initialises the accumulator
            let first = k == 1;
            let c_prev = coef[k - 1];
            // T_{k+1}† = (−1)^{k+1} T_{k+1}
            let sign = if k % 2 == 1 { 1.0 } else { -1.0 };
            let two_over_b = 2.0 / e.b;
            liou.prepare(cur, &mut self.ws);
            let ws = &self.ws;
            let sums: MatrixSums = prev
                .par_chunks_mut(d)
                .zip(acc.par_chunks_mut(d))
                .enumerate()
                .with_min_len(liou.columns_per_task())
                .map_init(
                    || vec![Complex64::new(0.0, 0.0); d],
                    |tmp, (c, (pv, ac))| {
                        let r0 = lower_start(c);
                        liou.column_rows(cur, c, r0, tmp, ws);
                        let cc = &cur[c * d + r0..(c + 1) * d];
                        for (((a, p), &t), &x) in
                            ac[r0..].iter_mut().zip(pv[r0..].iter_mut()).zip(tmp[r0..].iter()).zip(cc)
                        {
                            *a = if first { c_prev * *p } else { *a + c_prev * *p };
                            // (t − a x)(−2i/b) − p
                            let u = t - x * e.a;
                            *p = Complex64::new(two_over_b * u.im - p.re, -two_over_b * u.re - p.im);
                        }
                        liou.lower_column_sums(c, pv, sign)
                    },
                )
                .reduce(MatrixSums::default, MatrixSums::join);
            fill_upper(prev, d, sign);
            self.terms += 1;
            nu.push((i_pow(k + 1) * sums.work).re);
            sum_norms += coef[k + 1].norm() * sums.frobenius_sq.sqrt();
            prev_is_rho = !prev_is_rho;
        }
        // T_K is in the buffer the last pass wrote, T_{K−1} in the other; q holds
        // Σ_{k<K−1} c_k T_k
        let (t_last, t_before): (&[Complex64], &[Complex64]) =
            if prev_is_rho { (&self.p, &self.rho) } else { (&self.rho, &self.p) };
        let (c_before, c_last) = (coef[k_max - 1], coef[k_max]);
        self.q
            .par_iter_mut()
            .zip(t_last.par_iter().zip(t_before.par_iter()))
            .for_each(|(a, (&x, &y))| *a += c_last * x + c_before * y);
        // the sum Σ_k c_k T_k is Hermitian (c_k T_k = e^{τa}(2 − δ_k0) J_k(bτ) times a
        // Hermitian matrix): its rows above the diagonal were only accumulated below it
        fill_upper(&mut self.q, d, 1.0);
        std::mem::swap(&mut self.rho, &mut self.q);
        let trunc = sqrt_d * tail * s0.frobenius_sq.sqrt();
        self.trunc += trunc;
        let wn = self.liou.work_operator_norm();
        self.rounding += 4.0 * U * wn * sum_norms;
        let err = wn * self.trunc + self.rounding;
        self.segments.push(Segment { t0: self.t, tau, nu, err });
        self.t += tau;
        Ok(())
    }
}

/// The density matrix at each time, propagated to land on it (steps from the previous
/// time), with `W = Tr((H0 − E_0)ρ)/Tr ρ` and `W' = Tr((H0 − E_0)𝓛ρ)/Tr ρ` measured on it
/// (one more application of `𝓛` a time) and the chain's full-space operators (built once
/// a call, `8·2^N` bytes, beside one scratch matrix). [`StatePropagator::state_error`] is
/// the trace-norm bound `‖δρ‖₁` (an observable `O` moves by at most `‖O‖ ‖δρ‖₁`).
impl StatePropagator for DensityMatrix {
    fn for_each_state(&mut self, times: &[f64], visit: &mut StateVisitor<'_>) -> Result<()> {
        check_times(times)?;
        let ops = crate::operator::Operators::new(&self.chain)?;
        let mut scratch = vec![Complex64::new(0.0, 0.0); self.rho.len()];
        let mut ws = self.liou.workspace();
        for &t in times {
            self.density_at(t)?;
            let sums = self.liou.sums(&self.rho);
            let rate = self.liou.apply(&self.rho, &mut scratch, &mut ws).work.re;
            let trace = sums.trace.re;
            let sample = WorkSample { t, work: sums.work.re / trace - self.work_offset, rate: rate / trace };
            // |δW| ≤ ‖H0 − E_0‖ ‖δρ‖₁, with the rounding estimate
            self.max_err = self.max_err.max(self.liou.work_operator_norm() * self.trunc + self.rounding);
            visit(&sample, StateView::Density { rho: &self.rho, ops: &ops })?;
        }
        Ok(())
    }

    fn state_error(&self) -> f64 {
        self.trunc
    }
}

impl<L: LindbladGenerator + Send> Propagator for DensityMatrix<L> {
    fn name(&self) -> &'static str {
        "density-matrix"
    }

    /// Served from the kept steps; steps of `bτ = STEP_PHASE` are added until the last time
    /// is reached.
    fn sample(&mut self, times: &[f64]) -> Result<Vec<WorkSample>> {
        check_times(times)?;
        let mut out = Vec::with_capacity(times.len());
        for &t in times {
            while self.segments.last().is_none_or(|s| s.t0 + s.tau < t) {
                let tau = self.next_step();
                self.step(tau)?;
            }
            let k = self.segments.partition_point(|s| s.t0 + s.tau < t);
            let seg = &self.segments[k];
            self.max_err = self.max_err.max(seg.err);
            let mut sample = seg.eval(t, &self.ellipse);
            sample.work -= self.work_offset;
            out.push(sample);
        }
        Ok(out)
    }

    /// Energy is not conserved with noise: `λ_max(H0) − E_0` bounds `W` (module docs);
    /// the closed bound at zero noise.
    fn work_bound(&self, _chain: &Chain) -> f64 {
        self.work_bound
    }

    /// `−⟨H_B⟩_β/(NB)` from a thermal start, `1` from all-down.
    fn start_polarisation(&self) -> f64 {
        self.polarisation
    }

    /// Steps up to `t` are sized to end there.
    fn expect_until(&mut self, t: f64) {
        self.horizon = t;
    }

    /// `π/(16(Λ_loc + κ))` (module docs).
    fn scan_step(&self, _chain: &Chain) -> f64 {
        self.scan_step
    }

    fn error_bound(&self) -> f64 {
        self.max_err
    }

    fn accuracy_note(&self) -> String {
        format!(
            "{}, Chebyshev steps of e^(Lt) on an ellipse (b tau = {STEP_PHASE}, rho = {:.4}, {} applications \
             of L); rigorous truncation bound (Crouzeix) in trace norm, {:.1e} per step, times ||H0 - E0|| (rounding \
             estimate added){}{}",
            self.liou.describe(),
            self.ellipse.rho,
            self.terms,
            self.eps_step,
            if self.conserves_energy || self.thermal && self.noise.is_closed() {
                ""
            } else if self.thermal {
                "; W bound lambda_max(H0) - E_beta (noise does not conserve energy)"
            } else {
                "; W bound lambda_max(H0) - E0 (noise does not conserve energy)"
            },
            if self.thermal { "; from the Gibbs state of H0, W measured from its energy" } else { "" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Couplings;

    #[test]
    fn dense_output_inside_a_step_equals_a_step_landing_there() {
        let chain = Chain::builder(4).couplings(Couplings::PowerLaw { p: 1.0 }).alpha(0.3).build().unwrap();
        let noise = Noise { dephasing: 0.2, decay: 0.1, temperature: Some(1.0), collective_decay: 0.05 };
        let mut p = DensityMatrix::new(&chain, &noise, 1e-12).unwrap();
        let times = [0.0, 0.013, 0.05, 0.11, 0.3];
        let samples = p.sample(&times).unwrap();
        for (s, &t) in samples.iter().zip(&times) {
            let mut q = DensityMatrix::new(&chain, &noise, 1e-12).unwrap();
            let rho = q.density_at(t).unwrap().to_vec();
            let w = q.liouvillian().sums(&rho).work.re;
            assert!((s.work - w).abs() < 1e-11, "t = {t}: {} vs {w}", s.work);
        }
        assert!(p.error_bound() < 1e-11 && p.error_bound() > 0.0);
    }
}
